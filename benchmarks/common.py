"""Small helpers the workloads share: data, peers that may be missing, hand-off files."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness import Context


def moons(n: int, seed: int, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles, n points in all, labels −1 and +1 (micrograd's demo data)."""
    rng = np.random.default_rng(seed)
    top = n // 2
    t = rng.uniform(0.0, np.pi, n)
    x = np.where(np.arange(n) < top, np.cos(t), 1.0 - np.cos(t))
    y = np.where(np.arange(n) < top, np.sin(t), 0.5 - np.sin(t))
    X = np.stack([x, y], axis=1) + noise * rng.standard_normal((n, 2))
    labels = np.where(np.arange(n) < top, -1.0, 1.0)
    return X, labels


def optional(module: str) -> tuple[Any, str | None]:
    """(the module, None), or (None, why) when it cannot be imported."""
    try:
        return importlib.import_module(module), None
    except ImportError as e:
        return None, f"{module} is not installed ({e})"


def torch_module() -> tuple[Any, str | None]:
    """torch, or why it is missing."""
    return optional("torch")


@contextmanager
def torch_threads(torch: Any, threads: int) -> Iterator[None]:
    """Run PyTorch on `threads` intra-op threads inside the block (nothing if torch is None)."""
    if torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def python_calls(step: Callable[[], object]) -> int:
    """How many Python functions one run of `step` calls (C functions not counted)."""
    step()  # first calls may import or fill caches
    count = 0

    def tally(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        count += event == "call"

    sys.setprofile(tally)
    try:
        step()
    finally:
        sys.setprofile(None)
    return count - 1  # the step itself


def hand_off(ctx: Context, name: str, **arrays: Any) -> Path:
    """Write arrays to an .npz file in the run's work folder, for a worker to read."""
    path = Path(ctx.workdir) / f"{name}.npz"
    contents: dict[str, Any] = {k: np.asarray(v) for k, v in arrays.items()}
    np.savez(path, **contents)
    return path
