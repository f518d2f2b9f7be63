"""What every workload shares: systems, the gradient gate, interleaved timing, targets.

A system whose gradients disagree with the reference's is refused and never timed; the others
are timed in turns, each sample paying for its own garbage. pyperf holds the samples.
"""

from __future__ import annotations

import gc
import importlib
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pyperf  # type: ignore[import-untyped]

from benchmarks.peers import measure

Gradients = dict[str, np.ndarray]
RTOL = 1e-9  # of the reference array's largest entry; reordered sums differ by far less
TIMED, REFUSED, FAILED, SKIPPED = "timed", "refused", "failed", "skipped"


@dataclass
class Context:
    """What the runner hands each workload: sizes, timing, the peers' worker."""

    quick: bool = False
    repeats: int = 7  # samples per system
    min_time: float = 0.05  # seconds a sample lasts at least
    clock: str = "wall"  # a key of peers.CLOCKS
    log: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr))
    peers: Any = None  # the peers.Worker that runs HIPS autograd and JAX, if asked for


@dataclass
class System:
    """What runs a workload: `grads` feeds the gate; `step` is timed here, or `timer` elsewhere."""

    name: str
    step: Callable[[], object]
    grads: Callable[[], Any]  # name → array or number
    timer: Callable[[int], float] | None = None  # seconds of `number` runs in another process

    def measure(self, number: int, clock: str = "wall") -> float:
        """Seconds for `number` calls of `step` and a full collection (or what `timer` says)."""
        return measure(self.step, number, clock) if self.timer is None else self.timer(number)


@dataclass
class Outcome:
    """One system in one case: `bench` holds its samples when it was timed."""

    status: str
    note: str = ""
    bench: pyperf.Benchmark | None = None


@dataclass
class Case:
    """One workload at one size: the systems that run it, why others cannot, and how each fared."""

    title: str
    reference: str
    systems: Sequence[System]
    skipped: dict[str, str] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # set by run_case

    def seconds(self, system: str) -> float | None:
        """Median seconds per run of `system`, or None."""
        bench = self.outcomes[system].bench if system in self.outcomes else None
        return None if bench is None else bench.median()


def disagreement(reference: Gradients, got: Gradients, rtol: float = RTOL) -> str | None:
    """Why `got` differs from `reference`, or None: max|got − ref| ≤ rtol · max|ref| per array."""
    if set(reference) != set(got):
        return f"parameters {sorted(got)}, expected {sorted(reference)}"
    for name, ref in reference.items():
        g = got[name]
        if g.shape != ref.shape:
            return f"{name}: shape {g.shape}, expected {ref.shape}"
        with np.errstate(invalid="ignore"):  # nan where either is nan, or where ±inf are
            diff = np.abs(g - ref)
            err = np.max(diff, initial=0.0) / max(np.max(np.abs(ref), initial=0.0), 1e-300)
        if not err <= rtol:  # nan too
            i = np.unravel_index(np.argmax(diff), diff.shape)
            where = f"{name}[{', '.join(map(str, i))}]" if g.ndim else name
            return f"{where} = {g[i]:.17g}, reference {ref[i]:.17g}: error {err:.1e} > {rtol:.0e}"
    return None


def calibrate(system: System, ctx: Context) -> tuple[int, float]:
    """(runs per sample, seconds per run): the fewest runs, growing at least twofold, ≥ min_time."""
    number, elapsed = 1, system.measure(1, ctx.clock)
    while elapsed < ctx.min_time and number < 1_000_000:
        number *= max(2, min(100, int(1.2 * ctx.min_time / max(elapsed, 1e-9))))
        elapsed = system.measure(number, ctx.clock)
    return number, elapsed / number


def run_case(case: Case, ctx: Context, repeats: int | None = None) -> Case:
    """Check every system's gradients, then time in turns the ones that agree; the case, run."""
    started, grads, loops, samples = time.perf_counter(), {}, {}, {}
    out = {name: Outcome(SKIPPED, why) for name, why in case.skipped.items()}
    for s in case.systems:
        try:
            grads[s.name] = {k: np.array(v, float) for k, v in s.grads().items()}
        except Exception as e:  # a system that cannot run this case is reported, not fatal
            out[s.name] = Outcome(FAILED, f"{type(e).__name__}: {e}".splitlines()[0])
    ref = grads.get(case.reference)
    for name, g in grads.items():
        if why := "no reference gradients" if ref is None else disagreement(ref, g):
            out[name] = Outcome(REFUSED, f"gradients disagree: {why}")
    accepted = [s for s in case.systems if s.name not in out]
    gc.collect()
    gc.freeze()
    try:
        for s in list(accepted):
            try:
                s.measure(1, ctx.clock)  # warm-up: caches, lazy imports, JIT compilation
                loops[s.name], samples[s.name] = calibrate(s, ctx), list[float]()
            except Exception as e:
                out[s.name] = Outcome(FAILED, f"while timing: {type(e).__name__}: {e}")
                accepted.remove(s)
        for r in range(repeats or ctx.repeats):
            k = r % max(len(accepted), 1)
            for s in accepted[k:] + accepted[:k]:
                samples[s.name].append(s.measure(n := loops[s.name][0], ctx.clock) / n)
    finally:
        gc.unfreeze()
    for s in accepted:
        meta = {"loops": loops[s.name][0], "unit": "second", "name": f"{case.title} [{s.name}]"}
        run = pyperf.Run(samples[s.name], [loops[s.name]], meta, collect_metadata=False)
        out[s.name] = Outcome(TIMED, bench=pyperf.Benchmark([run]))
    bad = [f"; {n} {o.status}: {o.note}" for n, o in out.items() if o.status in (FAILED, REFUSED)]
    ctx.log(f"  {case.title}: done in {time.perf_counter() - started:.1f} s" + "".join(bad))
    case.outcomes = {n: out[n] for n in dict.fromkeys([*(s.name for s in case.systems), *out])}
    return case


@dataclass
class Check:
    """A target: a measured ratio or quantity against its limit (None: not available)."""

    label: str
    value: float | None
    limit: float
    note: str = ""
    low: float | None = None  # the ratio's range within one round of samples
    high: float | None = None
    why: str = ""  # for a miss: what bounds it, in numbers measured in this run
    case: Case | None = None  # a ratio's case and its two systems, for `why`
    sides: tuple[str, str] = ("", "")

    @property
    def status(self) -> str:
        """PASS, MISS, or "not available" when a system it needs did not run."""
        if self.value is None:
            return "not available"
        return "PASS" if self.value <= self.limit else "MISS"


def ratio_check(case: Case, ours: str, other: str, limit: float) -> Check:
    """The target "time(ours) / time(other) ≤ limit", with its range within one round of samples."""
    label, (a, b) = f"{case.title}: {ours} / {other}", (case.outcomes.get(n) for n in (ours, other))
    if a is None or b is None or a.bench is None or b.bench is None:
        said = [f"{n}: {o.note}" for n, o in ((ours, a), (other, b)) if o and o.note]
        return Check(label, None, limit, "; ".join(said) or f"{ours} or {other} did not run")
    rounds = [x / y for x, y in zip(a.bench.get_values(), b.bench.get_values(), strict=True)]
    value, low, high = a.bench.median() / b.bench.median(), min(rounds), max(rounds)
    return Check(label, value, limit, low=low, high=high, case=case, sides=(ours, other))


class Metric(NamedTuple):
    """A measured number other than a time per run (bytes per node, say)."""

    case: str
    system: str
    metric: str
    value: float
    unit: str


@dataclass
class Report:
    """Everything one workload produced."""

    results: list[Case] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def optional(module: str) -> tuple[Any, str]:
    """(the module, ""), or (None, why) when it cannot be imported."""
    try:
        return importlib.import_module(module), ""
    except ImportError as e:
        return None, f"{module} is not installed ({e})"


def traced(call: Callable[[], Any]) -> Any:
    """A compiled step's first call, warnings raised: a fallback to eager fails the gate."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return call()
