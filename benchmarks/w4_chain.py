"""W4: a chain of n scalar operations, y ← y·c + d repeated n/2 times.

Time per node is the time to build the chain and back-propagate through it,
divided by n. Memory per node is measured with tracemalloc in separate runs
(tracing slows everything down), up to n = 1e5: the bytes the graph holds once
it is built, and the peak on top of that while backward runs.

micrograd finds its backward order by recursion, one Python frame per node, so
with Python's default recursion limit (1000) it fails on any chain this long.
It is timed here with the limit raised to n + 1000; at n = 1e6 it is left out
(one run takes tens of seconds, most of it in the garbage collector walking
its cyclic graph).
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
from typing import Any

import numpy as np

from autograd import Value
from benchmarks.common import optional
from benchmarks.harness import (
    Case,
    Check,
    Clock,
    Context,
    Gradients,
    Local,
    Metric,
    Report,
    run_case,
)
from benchmarks.report import duration

C, D = 0.99999, 1e-5  # y stays near 1 and ∂y/∂x = C^(n/2) stays far from underflow
MICROGRAD_MAX = 100_000
MEMORY_MAX = 100_000  # bytes per node do not change with n; tracing 1e6 nodes takes long
# tracemalloc walks the frame stack at every allocation, and micrograd's backward
# recurses once per node: traced, its backward on 1e5 nodes takes many minutes.
MICROGRAD_MEMORY_MAX = 10_000
DEFAULT_RECURSION_LIMIT = 1000


def build(value: type, n: int) -> tuple[Any, Any]:
    """The leaf x and the end y of a chain of n nodes (n/2 products, n/2 sums)."""
    x = value(0.5)
    y = x
    for _ in range(n // 2):
        y = y * C + D
    return x, y


def system(name: str, value: type, n: int) -> Local:
    """Build and back-propagate a chain of n nodes, timed as one run."""

    def step() -> None:
        _, y = build(value, n)
        y.backward()

    def grads() -> Gradients:
        x, y = build(value, n)
        y.backward()
        return {"x": np.array(float(x.grad))}

    return Local(name, step, grads)


def memory(value: type, n: int) -> tuple[float, float]:
    """(bytes held by the built chain, extra peak bytes during backward), each per node."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        x, y = build(value, n)
        held = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        y.backward()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    del x, y
    gc.collect()
    return held / n, peak / n


def collector_share(n: int, runs: int) -> tuple[float, float, float]:
    """Median seconds per node of (one run, the cyclic collector's part of it, a run with it off).

    The collector's part is timed with gc.callbacks, which Python calls as each
    collection starts and stops.
    """
    started: list[float] = []
    spent = 0.0

    def clock(phase: str, info: dict[str, Any]) -> None:
        nonlocal spent
        if phase == "start":
            started.append(Clock.now())
        elif started:
            spent += Clock.now() - started.pop()

    def one_run() -> float:
        start = Clock.now()
        _, y = build(Value, n)
        y.backward()
        del y
        return Clock.now() - start

    totals, parts, paused = [], [], []
    for _ in range(runs):
        spent = 0.0
        gc.callbacks.append(clock)
        try:
            totals.append(one_run())
        finally:
            gc.callbacks.remove(clock)
        parts.append(spent)
        gc.disable()
        try:
            paused.append(one_run())
        finally:
            gc.enable()
    m = runs // 2
    return sorted(totals)[m] / n, sorted(parts)[m] / n, sorted(paused)[m] / n


def recursion_failure(value: type, n: int) -> str | None:
    """The error micrograd's backward raises with the default recursion limit, if any."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(DEFAULT_RECURSION_LIMIT)
    try:
        _, y = build(value, n)
        y.backward()
    except RecursionError as e:
        return f"RecursionError ({e})"
    finally:
        sys.setrecursionlimit(limit)
    return None


def run(ctx: Context) -> Report:
    """Time per node and memory per node for each n, against micrograd where it can run."""
    report = Report()
    sizes = [1_000, 10_000] if ctx.quick else [1_000, 10_000, 100_000, 1_000_000]
    micrograd, why = optional("micrograd.engine")
    results = {}
    shares: dict[int, tuple[float, float, float]] = {}
    limit = sys.getrecursionlimit()
    try:
        for n in sizes:
            systems = [system("valuegrad", Value, n)]
            skipped: dict[str, str] = {}
            if micrograd is None:
                skipped["micrograd"] = str(why)
            elif n > MICROGRAD_MAX:
                skipped["micrograd"] = (
                    f"not run above n = {MICROGRAD_MAX:,}: one run takes tens of seconds"
                )
            else:
                failure = recursion_failure(micrograd.Value, n)
                if failure:
                    report.notes.append(
                        f"W4 n={n:,}: micrograd with the default recursion limit "
                        f"({DEFAULT_RECURSION_LIMIT}) fails: {failure}; timed with the limit "
                        f"raised to {n + 1000:,}"
                    )
                sys.setrecursionlimit(max(limit, n + 1000))
                systems.append(system("micrograd", micrograd.Value, n))
            repeats = min(ctx.repeats, 3) if n >= 100_000 else ctx.repeats
            case = Case("W4", f"n={n:,}", "valuegrad", systems, skipped)
            result = run_case(case, repeats, ctx.min_time, ctx.log)
            report.results.append(result)
            results[n] = result
            for s in systems:
                if result.seconds(s.name) is None:
                    continue
                per_node = (result.seconds(s.name) or 0.0) / n
                report.metrics.append(
                    Metric("W4", f"n={n:,}", s.name, "time per node", per_node * 1e9, "ns")
                )
                if s.name == "valuegrad":
                    shares[n] = collector_share(n, 3 if n >= 100_000 else 11)
                    total, collector, off = shares[n]
                    report.metrics += [
                        Metric("W4", f"n={n:,}", s.name, what, seconds * 1e9, "ns")
                        for what, seconds in (
                            ("time per node, one more run", total),
                            ("of it in the cyclic garbage collector", collector),
                            ("time per node, collector paused", off),
                        )
                    ]
                if n > (MEMORY_MAX if s.name == "valuegrad" else MICROGRAD_MEMORY_MAX):
                    continue
                held, peak = memory(Value if s.name == "valuegrad" else micrograd.Value, n)
                report.metrics += [
                    Metric("W4", f"n={n:,}", s.name, "bytes held per node", held, "B"),
                    Metric("W4", f"n={n:,}", s.name, "peak bytes per node in backward", peak, "B"),
                ]
    finally:
        sys.setrecursionlimit(limit)
    report.checks += checks(report, results, sizes, shares)
    if micrograd is not None:
        report.notes.append(
            "W4: micrograd wraps each constant operand (c, d) in a Value of its own, so each "
            "of its operations leaves two Values in the graph; its bytes per node count both"
        )
    return report


def checks(
    report: Report,
    results: dict[int, Any],
    sizes: list[int],
    shares: dict[int, tuple[float, float, float]],
) -> list[Check]:
    """Linearity (time per node, largest n over 1e4), memory against micrograd and absolute."""
    out = []
    small, large = sizes[1], sizes[-1]
    a = results[large].seconds("valuegrad")
    b = results[small].seconds("valuegrad")
    value = a / large / (b / small) if a and b else None
    label = f"W4 time per node, n={large:,} / n={small:,}"
    # No cProfile here: it cannot see the collector, which the why below measures.
    out.append(Check("W4", label, value, 1.5, ""))
    if out[-1].status == "MISS" and small in shares and large in shares:
        out[-1].why = collector_bound(shares, small, large)

    def held(n: int, name: str) -> float | None:
        for m in report.metrics:
            if m.case == f"n={n:,}" and m.system == name and m.metric == "bytes held per node":
                return m.value
        return None

    ours = held(small, "valuegrad")
    theirs = held(small, "micrograd")
    label = f"W4 bytes per node n={small:,}: valuegrad / micrograd"
    value = ours / theirs if ours and theirs else None
    out.append(Check("W4", label, value, 0.5, "" if theirs else "micrograd did not run"))
    longest = max(n for n in sizes if n <= MEMORY_MAX)
    label = f"W4 bytes per node n={longest:,}: valuegrad (bytes)"
    out.append(Check("W4", label, held(longest, "valuegrad"), 290.0))
    return out


def collector_bound(shares: dict[int, tuple[float, float, float]], small: int, large: int) -> str:
    """What the run measured of Python's cyclic garbage collector at the two sizes compared."""
    (t_small, gc_small, off_small), (t_large, gc_large, off_large) = shares[small], shares[large]
    return (
        f"CPython's cyclic garbage collector. Timed with gc.callbacks, it took "
        f"{duration(gc_large)} of {duration(t_large)} per node at n = {large:,}, and "
        f"{duration(gc_small)} of {duration(t_small)} at n = {small:,}. Each of its full "
        "collections walks every live tracked object, and a chain keeps two per node (the "
        "Value and the tuple of its inputs), so the collections grow with the graph. With "
        f"the collector paused the time per node is {duration(off_large)} at n = {large:,} "
        f"and {duration(off_small)} at n = {small:,}, a ratio of {off_large / off_small:.2f}: "
        "the engine's own work is linear. A library should not switch the collector off "
        "for its users, so the target is measured with it on."
    )
