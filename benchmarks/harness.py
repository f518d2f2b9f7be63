"""What every workload shares: systems, the gradient agreement check, interleaved timing.

A *case* is one workload at one size (say W2 at n = 100) with the systems that
run it. `run_case` first asks every system for its gradients and compares them
with the reference system's; a system that disagrees is refused and never
timed. The accepted systems are then timed in turns (system A, B, C, then B, C,
A, ...), so that a slow drift of the machine touches every system alike, and
each one's median time per run is reported.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

Gradients = dict[str, np.ndarray]
Log = Callable[[str], None]

# Gradients are compared in float64; this is the largest error allowed, relative
# to the largest entry of the reference array. Sums taken in another order
# (BLAS, pairwise summation) differ by far less.
RTOL = 1e-9

TIMED, REFUSED, FAILED, SKIPPED = "timed", "refused", "failed", "skipped"

# Wall-clock time by default. On a machine shared with other work, CPU time of
# this process (and its threads) is steadier; it over-counts a system that
# runs on several threads at once, so compare multithreaded peers on wall time.
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}


class Clock:
    """The clock every local measurement reads, chosen once per run (`--clock`)."""

    name = "wall"

    @classmethod
    def now(cls) -> float:
        """The chosen clock's reading, in seconds."""
        return CLOCKS[cls.name]()


class System(Protocol):
    """Something that runs a workload: it reports its gradients and times `number` runs."""

    name: str

    def gradients(self) -> Gradients:
        """The gradients one run computes, keyed by parameter name, from the initial state."""
        ...

    def measure(self, number: int) -> float:
        """Seconds taken by `number` back-to-back runs."""
        ...

    def release(self) -> None:
        """Free what the system holds (arrays, graphs) once its case is done."""
        ...


@dataclass
class Local:
    """A system that runs in this process: `step` is what is timed."""

    name: str
    step: Callable[[], object]
    grads: Callable[[], Gradients]

    def gradients(self) -> Gradients:
        """The gradients from `grads`, as float64 arrays."""
        return {k: np.asarray(v, dtype=np.float64) for k, v in self.grads().items()}

    def measure(self, number: int) -> float:
        """Seconds for `number` calls of `step`."""
        step = self.step
        # The collector stays on while timing: freeing a graph is part of its cost
        # (micrograd's graphs are cycles that only the collector frees). Starting
        # each sample from a clean heap keeps the samples comparable.
        gc.collect()
        now = CLOCKS[Clock.name]
        start = now()
        for _ in range(number):
            step()
        return now() - start

    def release(self) -> None:
        """Nothing to free beyond what goes out of scope."""


@dataclass
class Outcome:
    """What happened to one system in one case."""

    system: str
    status: str
    note: str = ""
    seconds: float | None = None  # median seconds per run
    samples: list[float] = field(default_factory=list)
    number: int = 0  # runs per sample


@dataclass
class Case:
    """One workload at one size, with the systems that run it."""

    workload: str
    label: str
    reference: str
    systems: Sequence[System]
    skipped: dict[str, str] = field(default_factory=dict)
    rtol: float = RTOL
    clock: str | None = None  # forces a clock for this case (else the run's choice)

    @property
    def title(self) -> str:
        """For example "W2 n=100"."""
        return f"{self.workload} {self.label}".strip()


@dataclass
class CaseResult:
    """The outcome of every system of a case, in the order they were listed."""

    case: Case
    outcomes: dict[str, Outcome]

    def seconds(self, system: str) -> float | None:
        """Median seconds per run of `system`, or None if it was not timed."""
        o = self.outcomes.get(system)
        return o.seconds if o is not None else None

    def system(self, name: str) -> System | None:
        """The system object called `name`, if the case had one."""
        return next((s for s in self.case.systems if s.name == name), None)


def disagreement(reference: Gradients, got: Gradients, rtol: float = RTOL) -> str | None:
    """Why `got` differs from `reference`, or None if every array agrees.

    Arrays agree when max|got − ref| ≤ rtol · max|ref|, that is, relative to the
    array's largest entry, so a gradient that is near zero somewhere is not
    held to an impossible relative error there.
    """
    if set(reference) != set(got):
        missing = sorted(set(reference) - set(got))
        extra = sorted(set(got) - set(reference))
        return f"different parameters: missing {missing}, unexpected {extra}"
    for name, ref in reference.items():
        g = got[name]
        if g.shape != ref.shape:
            return f"{name}: shape {g.shape}, expected {ref.shape}"
        if g.size == 0:
            continue
        if not np.all(np.isfinite(g)):
            return f"{name}: not finite"
        diff = np.abs(g - ref)
        scale = max(float(np.max(np.abs(ref))), 1e-300)
        err = float(np.max(diff)) / scale
        if err > rtol:
            i = np.unravel_index(int(np.argmax(diff)), diff.shape)
            where = f"{name}[{', '.join(map(str, i))}]" if g.ndim else name
            return (
                f"{where} = {float(g[i]):.17g}, reference {float(ref[i]):.17g}: "
                f"error {err:.1e} of the largest entry, allowed {rtol:.0e}"
            )
    return None


def _calibrate(system: System, min_time: float) -> int:
    """The number of runs per sample that makes one sample last at least `min_time`."""
    number = 1
    elapsed = system.measure(1)
    while True:
        if elapsed >= min_time or number >= 1_000_000:
            return number
        # Aim a little past min_time from the rate just seen, at least doubling.
        guess = int(number * 1.2 * min_time / max(elapsed, 1e-9)) + 1
        number = max(2 * number, min(guess, 100 * number))
        elapsed = system.measure(number)


def _error(e: BaseException) -> str:
    text = str(e).splitlines()[0] if str(e) else ""
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _time(
    case: Case,
    systems: list[System],
    repeats: int,
    min_time: float,
    outcomes: dict[str, Outcome],
    log: Log,
) -> dict[str, Outcome]:
    """Warm up and calibrate each system, then take `repeats` samples of each, in turns."""
    numbers: dict[str, int] = {}
    accepted = []
    for s in systems:
        try:
            s.measure(1)  # warm-up: caches, lazy imports, JIT compilation
            numbers[s.name] = _calibrate(s, min_time)
            accepted.append(s)
        except Exception as e:
            outcomes[s.name] = Outcome(s.name, FAILED, _error(e))
            log(f"  {case.title}: {s.name} failed while timing: {_error(e)}")
    samples: dict[str, list[float]] = {s.name: [] for s in accepted}
    for r in range(repeats):
        k = r % len(accepted) if accepted else 0
        for s in accepted[k:] + accepted[:k]:
            samples[s.name].append(s.measure(numbers[s.name]) / numbers[s.name])
    return {
        s.name: Outcome(
            s.name, TIMED, "", statistics.median(samples[s.name]), samples[s.name], numbers[s.name]
        )
        for s in accepted
    }


def run_case(case: Case, repeats: int, min_time: float, log: Log = print) -> CaseResult:
    """Check the gradients of every system of `case`, then time the ones that agree."""
    started = time.perf_counter()
    outcomes: dict[str, Outcome] = {}
    for name, why in case.skipped.items():
        outcomes[name] = Outcome(name, SKIPPED, why)
    grads: dict[str, Gradients] = {}
    for s in case.systems:
        try:
            grads[s.name] = s.gradients()
        except Exception as e:  # a peer that cannot run this case is reported, not fatal
            outcomes[s.name] = Outcome(s.name, FAILED, _error(e))
            log(f"  {case.title}: {s.name} failed: {_error(e)}")
    reference = grads.get(case.reference)
    accepted: list[System] = []
    for s in case.systems:
        if s.name not in grads:
            continue
        if reference is None:
            why = f"no reference gradients ({case.reference} did not run)"
        else:
            why = disagreement(reference, grads[s.name], case.rtol) or ""
        if why:
            outcomes[s.name] = Outcome(s.name, REFUSED, f"gradients disagree: {why}")
            log(f"  {case.title}: refusing to time {s.name}: gradients disagree: {why}")
        else:
            accepted.append(s)
    grads.clear()

    # Everything alive now (imported modules: torch alone brings hundreds of thousands
    # of objects) is moved out of the collector's sight while timing, so that a
    # collection costs what the workload's own objects cost, in every system alike.
    gc.collect()
    gc.freeze()
    chosen = Clock.name
    Clock.name = case.clock or chosen
    try:
        timed = _time(case, accepted, repeats, min_time, outcomes, log)
    finally:
        Clock.name = chosen
        gc.unfreeze()
    outcomes.update(timed)
    for s in case.systems:
        s.release()
    ordered = {s.name: outcomes[s.name] for s in case.systems}
    ordered.update({k: v for k, v in outcomes.items() if k not in ordered})
    log(f"  {case.title}: done in {time.perf_counter() - started:.1f} s")
    return CaseResult(case, ordered)


@dataclass
class Check:
    """One target: a ratio (or a measured value) against its limit."""

    workload: str
    label: str
    value: float | None
    limit: float
    note: str = ""
    subject: Callable[[], object] | None = None  # our step, to profile if the target is missed
    why: str = ""  # for a miss: what bounds it, in numbers measured in this run

    @property
    def status(self) -> str:
        """PASS, MISS, or n/a when a system it needs did not run."""
        if self.value is None:
            return "n/a"
        return "PASS" if self.value <= self.limit else "MISS"


def ratio(result: CaseResult, ours: str, other: str) -> float | None:
    """Median time of `ours` over that of `other` in one case, if both were timed."""
    a, b = result.seconds(ours), result.seconds(other)
    if a is None or b is None or b <= 0:
        return None
    return a / b


def ratio_check(
    result: CaseResult, ours: str, other: str, limit: float, label: str | None = None
) -> Check:
    """The target "time(ours) / time(other) ≤ limit" in this case."""
    value = ratio(result, ours, other)
    note = ""
    if value is None:
        missing = [n for n in (ours, other) if result.seconds(n) is None]
        notes = [f"{n}: {result.outcomes[n].note}" for n in missing if n in result.outcomes]
        note = "; ".join(notes) or f"not timed: {', '.join(missing)}"
    case = result.case
    mine = result.system(ours)
    subject = mine.step if isinstance(mine, Local) else None
    label = label or f"{case.title}: {ours} / {other}"
    return Check(case.workload, label, value, limit, note, subject)


@dataclass
class Metric:
    """A measured number other than a time per run (bytes per node, say)."""

    workload: str
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
    profiles: dict[str, str] = field(default_factory=dict)  # check label → profiler output


def as_array(x: Any) -> np.ndarray:
    """Any number or array-like (a torch tensor included) as a float64 numpy array."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.array(x, dtype=np.float64)


@dataclass
class Context:
    """What the runner hands each workload: sizes, repeats, peers in other processes."""

    quick: bool
    repeats: int
    min_time: float  # seconds one timing sample should last at least
    workdir: str  # a temporary folder for data handed to other processes
    log: Log = field(default=lambda line: print(line, flush=True))
    workers: dict[str, Any] = field(default_factory=dict)  # peer name → external.Worker
    worker_notes: dict[str, str] = field(default_factory=dict)  # peer name → why absent
