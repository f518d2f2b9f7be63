"""Numerical checks of gradients: finite differences, random directions, and the Taylor test.

All checks work on float64 copies of the inputs, so nothing the caller holds
is changed, and float32 inputs are checked at float64 precision.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd.value import Value, as_data

Function = Callable[..., Value]

CENTRAL = "(f(x + ε·eᵢ) − f(x − ε·eᵢ)) / 2ε"
DIRECTIONAL = "(f(x + ε·v) − f(x − ε·v)) / 2ε  vs  ∇f(x)·v, for random unit directions v"


class _Objective:
    """f made scalar and evaluated on float64 arrays: Σ f(x)·r for a fixed random r if f is not."""

    def __init__(self, f: Function, inputs: Sequence[Any], seed: int):
        self.f = f
        self.float32 = any(_dtype(x) == np.float32 for x in inputs)
        self.points = [np.array(as_data(x), dtype=np.float64) for x in inputs]
        self.shapes = [p.shape for p in self.points]
        self.rng = np.random.default_rng(seed)
        out = self._call(self.points, record=False)
        self.out_shape = out.shape
        self.weights = None if out.shape == () else self.rng.standard_normal(out.shape)

    def _call(self, points: Sequence[np.ndarray], record: bool) -> Value:
        values = [Value(p if p.ndim else float(p)) for p in points]
        if record:
            self.values = values
        # No no_grad() here: f may differentiate something itself (a gradient being checked).
        out = self.f(*values)
        if not isinstance(out, Value):
            raise TypeError(f"the checked function must return a Value, got {type(out).__name__}")
        return out

    def _scalar(self, out: Value) -> Value:
        return out if self.weights is None else (out * self.weights).sum()

    def __call__(self, points: Sequence[np.ndarray]) -> float:
        return float(self._scalar(self._call(points, record=False)).item())

    def value_and_grads(self) -> tuple[float, list[np.ndarray]]:
        out = self._scalar(self._call(self.points, record=True))
        out.backward()
        grads = [
            np.array(v.grad, dtype=np.float64).reshape(s)
            for v, s in zip(self.values, self.shapes, strict=True)
        ]
        return float(out.item()), grads

    def shifted(self, i: int, index: Any, step: float) -> float:
        moved = [p.copy() for p in self.points]
        moved[i][index] += step
        return self(moved)


def _dtype(x: Any) -> Any:
    return x.dtype if isinstance(x, Value) else np.result_type(as_data(x))


@dataclass
class InputCheck:
    """The worst element of one input: where it is and how far analytic and numerical differ."""

    position: int
    shape: tuple[int, ...]
    index: tuple[int, ...]
    analytic: float
    numerical: float
    abs_error: float
    rel_error: float
    ok: bool
    kinks: list[tuple[int, ...]] = field(default_factory=list)
    failures: int = 0


@dataclass
class GradcheckReport:
    """The result of `gradcheck`: truthy when every gradient matches."""

    inputs: list[InputCheck]
    eps: float
    atol: float
    rtol: float
    method: str
    evaluations: int
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every checked element (or direction) matches."""
        return all(c.ok for c in self.inputs)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        lines = [
            f"gradcheck {'passed' if self.ok else 'FAILED'}: {self.method}",
            f"  ε = {self.eps:g}, pass when |analytic − numerical| ≤ {self.atol:g} + "
            f"{self.rtol:g}·|numerical|, {self.evaluations} evaluations of f, in float64",
        ]
        lines += [f"  note: {n}" for n in self.notes]
        directional = self.method == DIRECTIONAL
        first = "direction" if directional else "input"
        header = first, "shape", "worst at", "analytic", "numerical", "abs err", "rel err", ""
        rows = [header]
        for c in self.inputs:
            verdict = "ok" if c.ok else f"FAIL ({c.failures} wrong)"
            if c.kinks:
                verdict += f", {len(c.kinks)} kink(s) at {', '.join(map(str, c.kinks[:3]))}"
            rows.append(
                (
                    str(c.position),
                    "-" if directional else str(c.shape),
                    "-" if directional else str(c.index),
                    f"{c.analytic:.10g}",
                    f"{c.numerical:.10g}",
                    f"{c.abs_error:.3g}",
                    f"{c.rel_error:.3g}",
                    verdict,
                )
            )
        return "\n".join(lines + aligned(rows))


def aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows of cells as indented lines, each column padded to its widest cell."""
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    return [
        ("  " + "  ".join(s.ljust(w) for s, w in zip(r, widths, strict=True))).rstrip()
        for r in rows
    ]


def _close(a: float, n: float, atol: float, rtol: float) -> bool:
    return abs(a - n) <= atol + rtol * abs(n)


def gradcheck(
    f: Function,
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    directions: int | None = None,
    seed: int = 0,
) -> GradcheckReport:
    """Compare f's autograd gradients with central differences (f'(x) ≈ (f(x+ε) − f(x−ε)) / 2ε).

    f takes one Value per input and returns a Value; a non-scalar output is
    checked through Σ f(x)·r for a fixed random r. Where the one-sided slopes
    disagree (relu at 0) the point is a kink: any analytic value between them is
    accepted and the report lists the kink. With `directions=k`, k random
    directions are checked instead of every element: 2k + 1 evaluations in all.
    """
    if eps <= 0 or atol < 0 or rtol < 0:
        raise ValueError(
            f"need eps > 0, atol ≥ 0, rtol ≥ 0; got eps={eps}, atol={atol}, rtol={rtol}"
        )
    if not inputs:
        raise ValueError("gradcheck needs at least one input")
    obj = _Objective(f, inputs, seed)
    f0, grads = obj.value_and_grads()
    notes = []
    if obj.float32:
        notes.append("float32 inputs were checked in float64")
    if obj.weights is not None:
        notes.append(f"f has shape {obj.out_shape}: checked Σ f(x)·r for a fixed random r")
    if directions is not None:
        checks = _check_directions(obj, grads, directions, eps, atol, rtol)
        return GradcheckReport(checks, eps, atol, rtol, DIRECTIONAL, 2 * directions + 1, notes)
    checks = [_check_input(obj, i, grads[i], f0, eps, atol, rtol) for i in range(len(grads))]
    evaluations = 1 + sum(2 * g.size for g in grads)
    return GradcheckReport(
        checks, eps, atol, rtol, "central differences " + CENTRAL, evaluations, notes
    )


def _check_input(
    obj: _Objective, i: int, grad: np.ndarray, f0: float, eps: float, atol: float, rtol: float
) -> InputCheck:
    worst: tuple[float, tuple[int, ...], float, float] | None = None
    kinks: list[tuple[int, ...]] = []
    failures = 0
    for index in np.ndindex(grad.shape):
        plus = obj.shifted(i, index, eps)
        minus = obj.shifted(i, index, -eps)
        numerical = (plus - minus) / (2 * eps)
        analytic = float(grad[index])
        badness = abs(analytic - numerical) / (atol + rtol * abs(numerical))
        if not badness <= 1.0:  # also when either side is nan
            right, left = (plus - f0) / eps, (f0 - minus) / eps
            # Where the slope jumps (a kink), any value between the one-sided slopes is right.
            # One-sided slopes are off by about ε·f''/2, so the band gets the usual tolerance.
            band = atol + rtol * max(abs(left), abs(right))
            jumps = not _close(left, right, atol, rtol)
            if jumps and min(left, right) - band <= analytic <= max(left, right) + band:
                kinks.append(index)
                badness = 0.0
            else:
                failures += 1
        if worst is None or badness > worst[0]:
            worst = (badness, index, analytic, numerical)
    if worst is None:  # an empty input
        worst = (0.0, (), 0.0, 0.0)
    _, index, analytic, numerical = worst
    abs_err = abs(analytic - numerical)
    return InputCheck(
        i,
        grad.shape,
        index,
        analytic,
        numerical,
        abs_err,
        abs_err / max(abs(numerical), 1e-300),
        failures == 0,
        kinks,
        failures,
    )


def _check_directions(
    obj: _Objective, grads: list[np.ndarray], k: int, eps: float, atol: float, rtol: float
) -> list[InputCheck]:
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"directions must be a positive int, got {k!r}")
    checks = []
    for d in range(k):
        vs = [obj.rng.standard_normal(s) for s in obj.shapes]
        norm = np.sqrt(sum(float(np.sum(v * v)) for v in vs)) or 1.0
        vs = [v / norm for v in vs]
        plus = obj([p + eps * v for p, v in zip(obj.points, vs, strict=True)])
        minus = obj([p - eps * v for p, v in zip(obj.points, vs, strict=True)])
        numerical = (plus - minus) / (2 * eps)
        analytic = sum(float(np.sum(g * v)) for g, v in zip(grads, vs, strict=True))
        abs_err = abs(analytic - numerical)
        ok = _close(analytic, numerical, atol, rtol)
        rel = abs_err / max(abs(numerical), 1e-300)
        checks.append(
            InputCheck(d, (), (d,), analytic, numerical, abs_err, rel, ok, [], int(not ok))
        )
    return checks


@dataclass
class TaylorReport:
    """The Taylor test: the remainder |f(x+hv) − f(x) − h∇f·v| must shrink like h²."""

    steps: list[float]
    remainders: list[float]
    orders: list[float]
    order: float
    ok: bool
    note: str = ""

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        verdict = "passed" if self.ok else "FAILED"
        lines = [
            f"Taylor test {verdict}: observed order {self.order:.2f} "
            "(2 for a right gradient, 1 for a wrong one)",
            "  r(h) = |f(x + h·v) − f(x) − h·∇f(x)·v|",
        ]
        if self.note:
            lines.append(f"  note: {self.note}")
        for i, (h, r) in enumerate(zip(self.steps, self.remainders, strict=True)):
            order = f"   order {self.orders[i - 1]:.2f}" if 0 < i <= len(self.orders) else ""
            lines.append(f"  h = {h:<8.1e} r = {r:.3e}{order}")
        return "\n".join(lines)


def taylor_test(
    f: Function,
    *inputs: Any,
    steps: Sequence[float] | None = None,
    seed: int = 0,
    min_order: float = 1.8,
) -> TaylorReport:
    """Check ∇f with no step size to tune: |f(x+hv) − f(x) − h∇f·v| = O(h²) if right, O(h) if wrong.

    The observed order is the slope of log r against log h; remainders already
    at round-off level are left out of the fit.
    """
    obj = _Objective(f, inputs, seed)
    f0, grads = obj.value_and_grads()
    hs = [float(h) for h in (steps or np.geomspace(1e-1, 1e-5, 9))]
    vs = [obj.rng.standard_normal(s) for s in obj.shapes]
    norm = np.sqrt(sum(float(np.sum(v * v)) for v in vs)) or 1.0
    vs = [v / norm for v in vs]
    slope = sum(float(np.sum(g * v)) for g, v in zip(grads, vs, strict=True))
    rs: list[float] = []
    for h in hs:
        fh = obj([p + h * v for p, v in zip(obj.points, vs, strict=True)])
        rs.append(abs(fh - f0 - h * slope))
    if not (np.isfinite(slope) and np.all(np.isfinite(rs))):
        note = f"∇f·v = {slope} or a remainder is not finite"
        return TaylorReport(hs, rs, [], float("nan"), False, note)
    floor = 1e-13 * max(abs(f0), 1.0)
    usable = [(h, r) for h, r in zip(hs, rs, strict=True) if r > 100 * floor]
    orders = [
        float(np.log(r1 / r2) / np.log(h1 / h2))
        for (h1, r1), (h2, r2) in itertools.pairwise(usable)
    ]
    if len(usable) < 2:
        note = "the remainder is at round-off level for every h: f is linear along v"
        return TaylorReport(hs, rs, orders, 2.0, True, note)
    logs = np.log([h for h, _ in usable]), np.log([r for _, r in usable])
    order = float(np.polyfit(logs[0], logs[1], 1)[0])
    note = (
        "" if len(usable) == len(hs) else f"{len(hs) - len(usable)} step(s) at round-off left out"
    )
    return TaylorReport(hs, rs, orders, order, order >= min_order, note)
