"""Helpers the workloads share: peers that may be missing, the engine's compiler if it has one."""

from __future__ import annotations

import importlib
import inspect
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import autograd
import nn


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


def then(step: Callable[[], object], read: Callable[[], Any]) -> Callable[[], Any]:
    """A system's gradients: run `step` once, then `read` what it left in `.grad`."""

    def grads() -> Any:
        step()
        return read()

    return grads


def traced(call: Callable[[], Any]) -> Any:
    """A compiled step's first call; an error if it fell back to eager, so it is never timed."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = call()
    if seen:
        raise RuntimeError(f"fell back to eager: {seen[0].message}")
    return out


def compiler() -> tuple[Any, str]:
    """(autograd.compile, ""), or (None, why) while the engine has none."""
    found = getattr(autograd, "compile", None)
    return found, "" if found else "not available: this engine has no autograd.compile"


def compiled_fit() -> str:
    """Why nn.fit cannot compile its step, or "" when it can."""
    ok = "compile" in inspect.signature(nn.fit).parameters
    return "" if ok else "not available: nn.fit has no compile option"
