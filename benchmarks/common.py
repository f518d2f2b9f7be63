"""Helpers the workloads share: data, peers that may be missing, counting Python calls."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

import autograd
import nn


def moons(n: int, seed: int, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles, n points in all, labels −1 and +1 (micrograd's demo data)."""
    rng = np.random.default_rng(seed)
    top = np.arange(n) < n // 2
    t = rng.uniform(0.0, np.pi, n)
    x = np.where(top, np.cos(t), 1.0 - np.cos(t))
    y = np.where(top, np.sin(t), 0.5 - np.sin(t))
    return np.stack([x, y], axis=1) + noise * rng.standard_normal((n, 2)), np.where(top, -1.0, 1.0)


def optional(module: str) -> tuple[Any, str]:
    """(the module, ""), or (None, why) when it cannot be imported."""
    try:
        return importlib.import_module(module), ""
    except ImportError as e:
        return None, f"{module} is not installed ({e})"


@contextmanager
def torch_threads(torch: Any, threads: int = 1) -> Iterator[None]:
    """Run PyTorch on `threads` intra-op threads inside the block (nothing if torch is None)."""
    before = torch.get_num_threads() if torch is not None else 0
    if torch is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if torch is not None:
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


def then(step: Callable[[], object], read: Callable[[], Any]) -> Callable[[], Any]:
    """A system's gradients: run `step` once, then `read` what it left in `.grad`."""

    def grads() -> Any:
        step()
        return read()

    return grads


def compiler() -> tuple[Any, str]:
    """(autograd.compile, ""), or (None, why) while the engine has none."""
    found = getattr(autograd, "compile", None)
    return found, "" if found else "not available: this engine has no autograd.compile"


def compiled_fit() -> str:
    """ "" if nn.fit takes compile=True, else why not."""
    import inspect

    ok = "compile" in inspect.signature(nn.fit).parameters
    return "" if ok else "not available: nn.fit has no compile option"
