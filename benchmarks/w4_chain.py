"""W4: a chain of n scalar operations, y ← y·c + d repeated n/2 times: time and memory per node.

Time per node is the time to build the chain and back-propagate through it, over n,
with the cyclic garbage collector on, as users have it, and separately with collection
paused while the graph is built: an explicit opt-in, since a library must not change
the collector's state behind its users' backs. The collector's share of the time is
taken with gc.callbacks, which Python calls as each collection starts and stops.
Memory per node is measured with tracemalloc in separate runs: the bytes the built
graph holds, and the peak on top of that during backward.

micrograd finds its backward order by recursion, one Python frame per node, so with
the default recursion limit (1000) it fails on any longer chain; it is timed with the
limit raised to n + 1000, up to n = 10⁵ (one run at 10⁶ takes tens of seconds).
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import autograd
from autograd import Value
from benchmarks.harness import (
    Case,
    Check,
    Context,
    Metric,
    Report,
    System,
    optional,
    run_case,
)
from benchmarks.peers import CLOCKS
from benchmarks.runner import number

C, D = 0.99999, 1e-5  # y stays near 1, and ∂y/∂x = C^(n/2) far from underflow
MICROGRAD_MAX = 100_000
MEMORY_AT = 10_000, 100_000  # bytes per node do not change with n; tracing is slow
PAUSED = "valuegrad, collection paused"
HELD, GC_SHARE = "bytes held per node", "of it in the cyclic collector"


def collector_time(step: Callable[[], object], runs: int, clock: str = "wall") -> float:
    """Median seconds per run in the cyclic collector (gc.callbacks), each run made as a sample
    makes it: what was alive before frozen out of the collector's sight, a full collection."""
    now, marks, parts = CLOCKS[clock], list[float](), []

    def mark(phase: str, info: dict[str, Any]) -> None:  # a collection starts, then stops
        marks.append(now())

    gc.collect()
    gc.freeze()
    gc.callbacks.append(mark)
    try:
        for _ in range(runs):
            marks.clear()
            step()
            gc.collect()
            parts.append(sum(b - a for a, b in zip(marks[::2], marks[1::2], strict=True)))
    finally:
        gc.callbacks.remove(mark)
        gc.unfreeze()
    return sorted(parts)[runs // 2]


def build(value: type, n: int) -> tuple[Any, Any]:
    """The leaf x and the end y of a chain of n nodes (n/2 products, n/2 sums)."""
    x = y = value(0.5)
    for _ in range(n // 2):
        y = y * C + D
    return x, y


def system(name: str, value: type, n: int, paused: bool = False) -> System:
    """Build and back-propagate a chain of n nodes, timed as one run."""

    def chain() -> tuple[Any, Any]:
        if not paused:
            return build(value, n)
        with autograd.collection_paused():
            return build(value, n)

    def step() -> None:
        chain()[1].backward()

    def grads() -> dict[str, np.ndarray]:
        x, y = chain()
        y.backward()
        return {"x": np.array(float(x.grad))}

    return System(name, step, grads)


def memory(value: type, n: int) -> float:
    """Bytes held by the built chain, per node."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        chain = build(value, n)
        held = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    del chain
    return held / n


def run(ctx: Context) -> Report:
    """Time and memory per node for each n, against micrograd where it can run."""
    report = Report()
    sizes = [1_000, 10_000] if ctx.quick else [1_000, 10_000, 100_000, 1_000_000]
    micrograd, why = optional("micrograd.engine")
    results: dict[int, Case] = {}
    limit = sys.getrecursionlimit()
    try:
        for n in sizes:
            systems = [system("valuegrad", Value, n), system(PAUSED, Value, n, paused=True)]
            skipped = {}
            if micrograd is None or n > MICROGRAD_MAX:
                skipped["micrograd"] = why or f"not run above n = {MICROGRAD_MAX:,}"
            else:
                sys.setrecursionlimit(max(limit, n + 1000))
                systems.append(system("micrograd", micrograd.Value, n))
            case = Case(f"W4 n={n:,}", "valuegrad", systems, skipped)
            results[n] = r = run_case(case, ctx, 3 if n >= 100_000 else None)
            report.results.append(r)
            for s in systems:
                if (t := r.seconds(s.name)) is not None:
                    report.metrics.append(
                        Metric(case.title, s.name, "time per node", t / n * 1e9, "ns")
                    )
            share = collector_time(systems[0].step, 3 if n >= 100_000 else 7, ctx.clock) / n
            report.metrics.append(Metric(case.title, "valuegrad", GC_SHARE, share * 1e9, "ns"))
            if n in MEMORY_AT:
                for name, value in (
                    ("valuegrad", Value),
                    ("micrograd", getattr(micrograd, "Value", None)),
                ):
                    if value is not None:
                        per_node = memory(value, n)
                        report.metrics.append(Metric(case.title, name, HELD, per_node, "B"))
    finally:
        sys.setrecursionlimit(limit)
    report.checks += checks(report, results, sizes)
    report.notes.append(f"W4: {PAUSED} means the build inside autograd.collection_paused()")
    report.notes.append(
        "W4: micrograd wraps each constant operand (c, d) in a Value of its own, so each of its "
        "operations leaves two Values in the graph; its bytes per node count both"
    )
    return report


def measured(report: Report, case: str, name: str, metric: str) -> float | None:
    """The value of `metric` measured for `name` in `case`, if any."""
    found = [
        m.value for m in report.metrics if (m.case, m.system, m.metric) == (case, name, metric)
    ]
    return found[0] if found else None


def checks(report: Report, results: dict[int, Case], sizes: list[int]) -> list[Check]:
    """Linearity with the collector on and paused, memory against micrograd and in bytes."""
    small, large = sizes[1], sizes[-1]
    out = []
    for name, what in (("valuegrad", "collector on"), (PAUSED, "collection paused (opt-in)")):
        a, b = results[large].seconds(name), results[small].seconds(name)
        value = a / large / (b / small) if a and b else None
        out.append(Check(f"W4 time per node, n={large:,} / n={small:,}, {what}", value, 1.5))
    if out[0].status == "MISS":
        gc_ns = [
            measured(report, f"W4 n={n:,}", "valuegrad", GC_SHARE) or 0 for n in (large, small)
        ]
        out[0].why = (
            f"CPython's cyclic collector: timed with gc.callbacks it took {gc_ns[0]:.0f} ns per "
            f"node at n = {large:,} and {gc_ns[1]:.0f} ns at n = {small:,}. Each full collection "
            "walks every live tracked object, so the collections during the build grow with it. "
            f"With collection paused the ratio is {number(out[1].value)}."
        )
    case = f"W4 n={MEMORY_AT[0]:,}"
    ours, theirs = (measured(report, case, name, HELD) for name in ("valuegrad", "micrograd"))
    out.append(
        Check(
            f"W4 bytes per node n={MEMORY_AT[0]:,}: valuegrad / micrograd",
            ours / theirs if ours and theirs else None,
            0.09,
        )
    )
    longest = f"W4 n={max(n for n in sizes if n <= MEMORY_AT[1]):,}"
    out.append(
        Check(
            f"W4 bytes per node {longest[3:]}: valuegrad, in bytes",
            measured(report, longest, "valuegrad", HELD),
            100.0,
        )
    )
    for check in out[2:]:
        check.why = node_bytes(ours or 0) if check.status == "MISS" else ""
    return out


def node_bytes(held: float) -> str:
    """What one node of the chain is made of, from what it refers to (gc.get_referents)."""
    x = Value(0.5)
    y = x * C + D
    parts = [(type(r).__name__, sys.getsizeof(r)) for r in gc.get_referents(y)
             if r is not None and not isinstance(r, (type, Value)) and r is not D]  # fmt: skip
    own = ", ".join(f"a {name} of {size} B" for name, size in parts)
    total = sys.getsizeof(y) + sum(size for _, size in parts)
    return (
        f"A node of the chain is a {type(y).__name__} object of {sys.getsizeof(y)} B that holds "
        f"{own}: {total} B in all (tracemalloc counted {held:.0f} B per node). A micrograd node "
        "has an attribute dict, a set of children and a closure for backward, and makes a second "
        "Value for each constant."
    )
