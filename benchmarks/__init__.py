"""valuegrad's benchmarks: the same workloads side by side with micrograd, PyTorch, HIPS
autograd, JAX and hand-written numpy, gradients checked before anything is timed.

Run them with `python -m benchmarks`; see README.md in this folder.
"""
