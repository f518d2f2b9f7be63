"""Helpers the workloads share: peers that may be missing, the engine's compiler if it has one."""

from __future__ import annotations

import gc
import importlib
import inspect
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import autograd
import nn
from benchmarks.harness import CLOCKS, CaseResult, Check, Clock
from benchmarks.report import duration


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


def python_calls(step: Callable[[], object]) -> int:
    """How many Python functions one run of `step` calls (functions written in C not counted)."""
    step()  # a first call may import or fill caches
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


def explained(check: Check, r: CaseResult, small: CaseResult | None = None) -> Check:
    """The check and, if it missed, what bounds it: each side's time and Python calls per step,
    and against `small`, the same case on a small batch, the part that does not grow with it."""
    if check.status != "MISS":
        return check
    ours, other = check.label.split(": ", 1)[1].split(" / ")
    a, b = r.seconds(ours) or 0, r.seconds(other) or 0
    calls = {
        s.name: python_calls(s.step)
        for s in r.case.systems
        if s.name in (ours, other) and s.timer is None
    }
    check.why = (
        f"In {r.case.title}, one {ours} step took {duration(a)} and called "
        f"{calls.get(ours, '?')} Python functions (counted with sys.setprofile; numpy's run in "
        f"C); {other} took {duration(b)}"
        + (f" and called {calls[other]}." if other in calls else ".")
    )
    sa, sb = (small.seconds(ours), small.seconds(other)) if small else (None, None)
    if a <= b:  # faster than the other, yet not by the factor the target asks
        check.why += (
            f" {ours} is the faster; the target asks for {check.limit:g} of {other}'s time."
        )
    elif sa and sb and sa > sb and small is not None:
        check.why += (
            f" In {small.case.title} the two differ by {duration(sa - sb)}, the "
            f"Python cost of a step, which does not grow with the batch; here by {duration(a - b)}."
        )
    return check


def collector_time(step: Callable[[], object], runs: int) -> float:
    """Median seconds per run in the cyclic collector (gc.callbacks), runs made as a sample
    makes them: what was alive before frozen out of the collector's sight, a full collection."""
    spent, started, now = 0.0, [0.0], CLOCKS[Clock.name]

    def clock(phase: str, info: dict[str, Any]) -> None:
        nonlocal spent
        if phase == "start":
            started[0] = now()
        else:
            spent += now() - started[0]

    parts = []
    gc.collect()
    gc.freeze()
    gc.callbacks.append(clock)
    try:
        for _ in range(runs):
            spent = 0.0
            step()
            gc.collect()
            parts.append(spent)
    finally:
        gc.callbacks.remove(clock)
        gc.unfreeze()
    return sorted(parts)[runs // 2]
