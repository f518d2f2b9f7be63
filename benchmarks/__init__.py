"""valuegrad's benchmarks: the same workloads run side by side with micrograd, PyTorch,
HIPS autograd, JAX and hand-written numpy, with gradients checked before anything is timed.

Run everything with `python -m benchmarks`; see README.md in this folder.
"""

from benchmarks.runner import main

__all__ = ["main"]
