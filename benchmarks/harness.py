"""What every workload shares: systems, the gradient gate, interleaved timing, targets.

`run_case` compares every system's gradients with the reference's first: one that disagrees
is refused and never timed. The others are warmed up, calibrated, then timed in turns (A B C,
B C A, ...) so that drift touches them alike. A sample is `number` runs and a full collection,
all on the clock: each system pays for the garbage it made, and the next starts from a clean
young heap; what was alive before timing is frozen out of the collector's sight. pyperf holds
the samples; its runner times one benchmark at a time in fresh processes, so the gate, the
interleaving and the calibration they need are written here.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyperf  # type: ignore[import-untyped]

Gradients = dict[str, np.ndarray]
RTOL = 1e-9  # of the reference array's largest entry; reordered sums differ by far less
TIMED, REFUSED, FAILED, SKIPPED = "timed", "refused", "failed", "skipped"
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}


class Clock:
    """The clock of every measurement, chosen once per run (`--clock`)."""

    name = "wall"


@dataclass
class System:
    """What runs a workload: `grads` feeds the gate; `step` is timed here, or `timer` elsewhere."""

    name: str
    step: Callable[[], object]
    grads: Callable[[], Any]
    timer: Callable[[int], float] | None = None  # seconds of `number` runs in another process
    release: Callable[[], object] = lambda: None  # frees what the system holds, once timed

    def gradients(self) -> Gradients:
        """The gradients as float64 arrays (torch tensors too)."""
        out = self.grads().items()
        return {k: np.array(v.detach() if hasattr(v, "detach") else v, float) for k, v in out}

    def measure(self, number: int) -> float:
        """Seconds for `number` calls of `step` and a full collection (or what `timer` says)."""
        if self.timer is not None:
            return self.timer(number)
        step, now = self.step, CLOCKS[Clock.name]
        start = now()
        for _ in range(number):
            step()
        gc.collect()
        return now() - start


@dataclass
class Outcome:
    """One system in one case: `bench` holds its samples when it was timed."""

    status: str
    note: str = ""
    bench: pyperf.Benchmark | None = None

    @property
    def seconds(self) -> float | None:
        """Median seconds per run, or None."""
        return None if self.bench is None else self.bench.median()


@dataclass
class Case:
    """One workload at one size, the systems that run it, and why others cannot."""

    title: str
    reference: str
    systems: Sequence[System]
    skipped: dict[str, str] = field(default_factory=dict)


@dataclass
class CaseResult:
    """Every system's outcome in one case."""

    case: Case
    outcomes: dict[str, Outcome]

    def seconds(self, system: str) -> float | None:
        """Median seconds per run of `system`, or None."""
        return self.outcomes[system].seconds if system in self.outcomes else None

    def ratio(self, ours: str, other: str) -> tuple[float, float, float] | None:
        """(median over median, the lowest and highest ratio within one round of samples)."""
        a, b = (self.outcomes[n].bench if n in self.outcomes else None for n in (ours, other))
        if a is None or b is None:
            return None
        rounds = [x / y for x, y in zip(a.get_values(), b.get_values(), strict=True)]
        return a.median() / b.median(), min(rounds), max(rounds)


def disagreement(reference: Gradients, got: Gradients, rtol: float = RTOL) -> str | None:
    """Why `got` differs from `reference`, or None: max|got − ref| ≤ rtol · max|ref| per array."""
    if set(reference) != set(got):
        return f"parameters {sorted(got)}, expected {sorted(reference)}"
    for name, ref in reference.items():
        g = got[name]
        if g.shape != ref.shape:
            return f"{name}: shape {g.shape}, expected {ref.shape}"
        if not (np.all(np.isfinite(g)) and np.all(np.isfinite(ref))):
            return f"{name}: not finite" + ("" if np.all(np.isfinite(ref)) else " in the reference")
        diff = np.abs(g - ref)
        err = np.max(diff, initial=0.0) / max(np.max(np.abs(ref), initial=0.0), 1e-300)
        if err > rtol:
            i = np.unravel_index(np.argmax(diff), diff.shape)
            where = f"{name}[{', '.join(map(str, i))}]" if g.ndim else name
            return f"{where} = {g[i]:.17g}, reference {ref[i]:.17g}: error {err:.1e} > {rtol:.0e}"
    return None


def calibrate(system: System, min_time: float) -> tuple[int, float]:
    """(runs per sample, seconds per run): the fewest runs, growing at least twofold, ≥ min_time."""
    number, elapsed = 1, system.measure(1)
    while elapsed < min_time and number < 1_000_000:
        number *= max(2, min(100, int(1.2 * min_time / max(elapsed, 1e-9))))
        elapsed = system.measure(number)
    return number, elapsed / number


def run_case(case: Case, repeats: int, min_time: float, log: Callable[[str], None]) -> CaseResult:
    """Check every system's gradients, then time in turns the ones that agree."""
    started, grads, timing, samples = time.perf_counter(), {}, {}, {}
    outcomes = {name: Outcome(SKIPPED, why) for name, why in case.skipped.items()}
    for s in case.systems:
        try:
            grads[s.name] = s.gradients()
        except Exception as e:  # a system that cannot run this case is reported, not fatal
            outcomes[s.name] = Outcome(FAILED, f"{type(e).__name__}: {e}".splitlines()[0])
    for name, g in grads.items():
        ref = grads.get(case.reference)
        if why := "no reference gradients" if ref is None else disagreement(ref, g):
            outcomes[name] = Outcome(REFUSED, f"gradients disagree: {why}")
    accepted = [s for s in case.systems if s.name not in outcomes]
    gc.collect()
    gc.freeze()
    try:
        for s in list(accepted):
            try:
                s.measure(1)  # warm-up: caches, lazy imports, JIT compilation
                timing[s.name], samples[s.name] = calibrate(s, min_time), list[float]()
            except Exception as e:
                outcomes[s.name] = Outcome(FAILED, f"while timing: {type(e).__name__}: {e}")
                accepted.remove(s)
        for r in range(repeats):
            k = r % max(len(accepted), 1)
            for s in accepted[k:] + accepted[:k]:
                samples[s.name].append(s.measure(timing[s.name][0]) / timing[s.name][0])
    finally:
        gc.unfreeze()
    for s in accepted:
        number, warm = timing[s.name]
        meta = {"loops": number, "unit": "second", "name": f"{case.title} [{s.name}]"}
        run = pyperf.Run(samples[s.name], [(number, warm)], meta, collect_metadata=False)
        outcomes[s.name] = Outcome(TIMED, bench=pyperf.Benchmark([run]))
    for s in case.systems:
        s.release()
    for name in (n for n, o in outcomes.items() if o.status in (FAILED, REFUSED)):
        log(f"  {case.title}: {name} {outcomes[name].status}: {outcomes[name].note}")
    log(f"  {case.title}: done in {time.perf_counter() - started:.1f} s")
    names = dict.fromkeys([s.name for s in case.systems] + list(case.skipped))
    return CaseResult(case, {n: outcomes[n] for n in names})


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
    subject: Callable[[], object] | None = None  # our step, profiled if the target is missed

    @property
    def status(self) -> str:
        """PASS, MISS, or "not available" when a system it needs did not run."""
        if self.value is None:
            return "not available"
        return "PASS" if self.value <= self.limit else "MISS"


def ratio_check(result: CaseResult, ours: str, other: str, limit: float) -> Check:
    """The target "time(ours) / time(other) ≤ limit" in one case."""
    label, found = f"{result.case.title}: {ours} / {other}", result.ratio(ours, other)
    if found is None:
        said = [(n, result.outcomes[n].note) for n in (ours, other) if n in result.outcomes]
        notes = [f"{n}: {note}" for n, note in said if note]
        return Check(label, None, limit, "; ".join(notes) or f"{ours} or {other} did not run")
    step = next(s.step for s in result.case.systems if s.name == ours)
    return Check(label, found[0], limit, "", found[1], found[2], subject=step)


@dataclass
class Metric:
    """A measured number other than a time per run (bytes per node, say)."""

    case: str
    system: str
    metric: str
    value: float
    unit: str


@dataclass
class Report:
    """Everything one workload produced."""

    results: list[CaseResult] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Context:
    """What the runner hands each workload: sizes, repeats, peers in other processes."""

    quick: bool
    repeats: int
    min_time: float  # seconds a sample lasts at least
    workdir: str  # a folder for the data handed to other processes
    log: Callable[[str], None] = field(default=lambda line: print(line, flush=True))
    workers: dict[str, Any] = field(default_factory=dict)  # "hips" / "jax" → peers.Worker
    absent: dict[str, str] = field(default_factory=dict)  # peer → why it is absent
