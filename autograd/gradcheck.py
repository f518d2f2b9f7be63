"""Numerical checks of gradients: finite differences, random directions, and the Taylor test.

A pass means the derivative is right. Each central difference comes with an
estimate of its own error, taken where it is computed: the truncation error from
comparing two step sizes (Richardson), and the rounding error |f|·ε_mach/h. An
element passes when analytic and numerical agree within a small multiple of that
estimate and the estimate is small beside the gradient. Where central differences
cannot resolve the gradient the element is *inconclusive*: not a pass, and not a
failure. All checks work on float64 copies of the inputs, so nothing the caller
holds is changed, and float32 inputs are checked at float64 precision.
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np

from autograd.graph import topological_order
from autograd.value import Value, as_data

Function = Callable[..., Value]
Progress = Callable[[int, int], None]

CENTRAL = "(f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h at h and h/2, extrapolated"
DIRECTIONAL = "(f(x + h·v) − f(x − h·v)) / 2h vs ∇f(x)·v, for random unit directions v"

MACHINE_EPS = float(np.finfo(np.float64).eps)
SAFETY = 10.0  # a pass needs |analytic − numerical| within SAFETY × the error estimate
RESOLUTION = 1e-3  # … and that bound below this fraction of the gradient, else inconclusive
_SHRINK = 40  # halvings of the step at most, for steep functions and clip edges
_GROW = 8  # doublings at most, where rounding swamps a small gradient
_DOMAIN = 12  # quarterings at most, to keep x ± h inside f's domain


# ---------------------------------------------------------------------------
# One derivative along a line, with its error.
# ---------------------------------------------------------------------------


class _Line:
    """φ(t) = f(x + t·d) on one line through x, each evaluation remembered.

    `x0` is the coordinate moved (0 along a direction): x0 + t rounds, so the
    step taken is (x0 + t) − x0, which float64 computes exactly.
    """

    def __init__(self, phi: Callable[[float], float], f0: float, x0: float = 0.0):
        self.phi = phi
        self.f0 = f0
        self.x0 = x0
        self.seen: dict[float, float] = {0.0: f0}
        self.smallest = 64 * MACHINE_EPS * abs(x0)  # below this x0 ± h keeps few digits of h

    def step(self, t: float) -> float:
        return (self.x0 + t) - self.x0

    def __call__(self, t: float) -> float:
        if t not in self.seen:
            self.seen[t] = float(self.phi(t))
        return self.seen[t]

    def finite(self, *ts: float) -> bool:
        return all(math.isfinite(self(t)) for t in ts)

    @property
    def evaluations(self) -> int:
        return len(self.seen) - 1


@dataclass(frozen=True)
class Difference:
    """φ'(0) by differences: `value` ± `error`, or why it cannot be trusted (`reason`).

    `error` is the truncation estimate |D(h) − D(h/2)|/(2^p − 1) plus the rounding
    bound from |φ|·ε_mach/h; `converged` is False when the difference quotients did
    not settle as the step shrank (a singularity or the edge of a clip within the step).
    """

    value: float
    error: float
    step: float
    scheme: str  # "central", "one-sided (right)", "one-sided (left)" or "none"
    converged: bool = True
    flat: bool = False
    reason: str = ""


def _quotient(line: _Line, scheme: str, h: float) -> float:
    if scheme == "central":
        return (line(h) - line(-h)) / (line.step(h) - line.step(-h))
    s = 1.0 if scheme == "one-sided (right)" else -1.0
    return (line(s * h) - line.f0) / line.step(s * h)


def _points(scheme: str, h: float) -> tuple[float, ...]:
    if scheme == "central":
        return h, -h, h / 2, -h / 2
    s = 1.0 if scheme == "one-sided (right)" else -1.0
    return s * h, s * h / 2


def _richardson(line: _Line, scheme: str, h: float, floor: float) -> tuple[float, float, float]:
    """(extrapolated value, truncation estimate, rounding bound) from steps h and h/2.

    `floor` is the rounding error of one evaluation as f's own nodes suggest it.
    """
    p = 2 if scheme == "central" else 1
    d1, d2 = _quotient(line, scheme, h), _quotient(line, scheme, h / 2)
    k = 2.0**p - 1.0
    size = max(abs(line(t)) for t in (0.0, *_points(scheme, h)))
    # Each evaluation is off by about ε·|φ|: D(s) by ε|φ|/s (central) or 2ε|φ|/s (one-sided).
    per = (1.0 if p == 2 else 2.0) * max(MACHINE_EPS * size, floor)
    rounding = (2.0**p * per / (h / 2) + per / h) / k
    return d2 + (d2 - d1) / k, abs(d1 - d2) / k, rounding


def _diverging(tried: Sequence[tuple[float, float, float, float]]) -> bool:
    """True when the estimates grew by half or more at each of the last three smaller steps.

    A clip's edge or a singularity makes the quotients grow like 1/h; rounding noise
    grows too, but not steadily in one direction.
    """
    shrinking = sorted(tried, key=lambda t: -t[0])[-4:]
    if len(shrinking) < 4:
        return False
    values = [t[1] for t in shrinking]
    same_sign = len({math.copysign(1.0, v) for v in values}) == 1
    return same_sign and all(abs(b) >= 1.5 * abs(a) for a, b in itertools.pairwise(values))


def _converging(tried: Sequence[tuple[float, float, float, float]]) -> bool:
    """True when the error estimate fell by half or more at each of the last three steps.

    At a stationary point (x³ at 0) the estimate is 0 and its truncation error
    shrinks like h²: it converges, though never below its own error.
    """
    if len(tried) < 4:
        return False
    errors = [t[2] + t[3] for t in tried[-4:]]
    return all(b <= 0.5 * a for a, b in itertools.pairwise(errors))


def _resolved(value: float, error: float) -> bool:
    return SAFETY * error <= RESOLUTION * abs(value)


def derivative(
    phi: Callable[[float], float], f0: float, h0: float, floor: float = 0.0, x0: float = 0.0
) -> Difference:
    """φ'(0) from central differences at h0 and h0/2, with the step adapted until it can be trusted.

    Near a domain edge the step shrinks until x ± h is inside (or the difference
    is one-sided); where truncation dominates (a steep function, a clip or branch
    within the step) the step halves; where rounding swamps a small gradient it doubles.
    `floor` is a lower bound on one evaluation's rounding error: ε_mach times the
    largest intermediate value f computes, which can round far worse than ε|f|
    (ln(1 − ŷ) for a tiny ŷ). `x0` is the coordinate moved, if one is: steps are
    never so small that x0 ± h loses their digits.
    """
    line = _Line(phi, f0, x0)
    if not math.isfinite(f0):
        return Difference(math.nan, math.inf, h0, "none", False, reason="f is not finite at x")
    scheme, h = "none", h0
    for _ in range(_DOMAIN):
        if line.finite(*_points("central", h)):
            scheme = "central"
            break
        h /= 4
    if scheme == "none":
        for side in ("one-sided (right)", "one-sided (left)"):
            h = h0
            for _ in range(_DOMAIN):
                if line.finite(*_points(side, h)):
                    scheme = side
                    break
                h /= 4
            if scheme != "none":
                break
    if scheme == "none":
        reason = f"f is not finite on either side of x, down to a step of {h:.1g}"
        return Difference(math.nan, math.inf, h, "none", False, reason=reason)
    tried = [(h, *_richardson(line, scheme, h, floor))]
    settled = lambda t: t[2] <= t[3] or _resolved(t[1], t[2] + t[3])  # noqa: E731
    _, value, trunc, rounding = tried[0]
    if not _resolved(value, trunc + rounding):
        if trunc > rounding:  # steep, or a kink or clip within the step: smaller steps
            for _ in range(_SHRINK):
                if h / 4 < line.smallest:
                    break
                h /= 2
                if not line.finite(*_points(scheme, h)):
                    break
                tried.append((h, *_richardson(line, scheme, h, floor)))
                if settled(tried[-1]):
                    break
        elif all(v == f0 for v in line.seen.values()):  # flat: one look much further out
            h *= 2**_GROW
            if line.finite(*_points(scheme, h)):
                tried.append((h, *_richardson(line, scheme, h, floor)))
        else:  # rounding swamps the change: a larger step, as large as resolving it takes
            top = h * 2**_GROW
            while h < top:
                _, value, trunc, rounding = tried[-1]
                need = (
                    SAFETY * (trunc + rounding) / (RESOLUTION * abs(value)) if value else 2**_GROW
                )
                h = min(top, h * 2 ** math.ceil(math.log2(max(2.0, 2 * need))))
                if not line.finite(*_points(scheme, h)):
                    break
                tried.append((h, *_richardson(line, scheme, h, floor)))
                if (
                    _resolved(tried[-1][1], tried[-1][2] + tried[-1][3])
                    or tried[-1][2] > tried[-1][3]
                ):
                    break
    # The steps whose quotients settled are trusted; of those, the one with the smallest error.
    calm = [t for t in tried if settled(t)]
    if calm:
        best = min(calm, key=lambda t: t[2] + t[3])
    elif _converging(tried):  # still shrinking its error at the smallest step: the last is best
        best = tried[-1]
    else:
        best = min(tried, key=lambda t: t[2] + t[3])
    step, value, trunc, rounding = best
    flat = all(v == f0 for v in line.seen.values())
    converged = (bool(calm) or _converging(tried)) and not _diverging(tried)
    reason = ""
    if flat:
        reason = (
            f"f did not change at any step up to {max(t[0] for t in tried):.1g}: its gradient "
            f"is 0, or below float64's resolution of f here (|∂f/∂x| < {rounding:.1g})"
        )
    elif not converged:
        reason = (
            f"the difference quotients do not settle as the step shrinks to {tried[-1][0]:.1g}: "
            "a singularity, or the edge of a clip or branch, lies within the step"
        )
    return Difference(value, trunc + rounding, step, scheme, converged, flat, reason)


@dataclass(frozen=True)
class Kink:
    """One-sided slopes (left, right) that disagree by a jump that stays as the step shrinks."""

    left: float
    right: float
    band: float

    def admits(self, analytic: float) -> bool:
        """True when analytic lies between the one-sided slopes (a subgradient), within the band."""
        lo, hi = min(self.left, self.right), max(self.left, self.right)
        return lo - self.band <= analytic <= hi + self.band


def kink(
    phi: Callable[[float], float], f0: float, h: float, floor: float = 0.0, x0: float = 0.0
) -> Kink | None:
    """The kink at x, if the one-sided slopes differ by the same jump at steps h, h/2, h/4, h/8.

    A smooth function's one-sided slopes differ by about h·φ'', which halves with
    the step; a kink's differ by a jump that does not. So a steep smooth function
    is never taken for a kink.
    """
    line = _Line(phi, f0, x0)
    steps = [h / 2**k for k in range(4)]
    if steps[-1] < line.smallest or not line.finite(*steps, *(-s for s in steps)):
        return None
    rights = [(line(s) - f0) / line.step(s) for s in steps]
    lefts = [(f0 - line(-s)) / -line.step(-s) for s in steps]
    jumps = [r - left for r, left in zip(rights, lefts, strict=True)]
    size = max(abs(v) for v in line.seen.values())
    noise = [4 * max(MACHINE_EPS * size, floor) / s for s in steps]
    if not all(abs(j) > SAFETY * n for j, n in zip(jumps, noise, strict=True)):
        return None
    if len({math.copysign(1.0, j) for j in jumps}) != 1:
        return None
    if not all(0.5 <= j / jumps[0] <= 2.0 for j in jumps):  # a smooth one's halves each time
        return None
    # One-sided slopes are off by about s·φ''/2: extrapolate, and allow for what remains.
    right = 2 * rights[-1] - rights[-2]
    left = 2 * lefts[-1] - lefts[-2]
    band = SAFETY * (abs(rights[-1] - rights[-2]) + abs(lefts[-1] - lefts[-2]) + noise[-1])
    return Kink(left, right, band)


@dataclass(frozen=True)
class Verdict:
    """How one analytic derivative compares with its numerical estimate."""

    status: str  # "ok", "kink", "inconclusive" or "wrong"
    analytic: float
    numerical: float
    error: float  # the estimated error of `numerical`
    tolerance: float
    reason: str = ""
    within: bool = False  # inconclusive, but within the tolerance

    @property
    def badness(self) -> float:
        """|analytic − numerical| over the tolerance: above 1 is outside it."""
        diff = abs(self.analytic - self.numerical)
        if math.isnan(diff):
            return math.inf
        return diff / self.tolerance if self.tolerance > 0 else (0.0 if diff == 0 else math.inf)


def judge(
    analytic: float,
    d: Difference,
    rtol: float,
    atol: float,
    at_kink: Callable[[], Kink | None],
) -> Verdict:
    """ok, kink, inconclusive or wrong: the pass rule, one element (or direction) at a time.

    ok when |a − n| ≤ SAFETY·err + atol + rtol·|n| and that bound is at most
    RESOLUTION·max(|a|, |n|); inconclusive when the bound is wider, when n is not
    finite, or when the differences did not settle; a kink when a lies between the
    confirmed one-sided slopes; wrong otherwise.
    """
    n, err = d.value, d.error
    tol = SAFETY * err + atol + rtol * abs(n)
    verdict = lambda s, why="": Verdict(s, analytic, n, err, tol, why)  # noqa: E731
    if not math.isfinite(n) or not math.isfinite(err):
        return verdict("inconclusive", d.reason or "the numerical derivative is not finite")
    if not math.isfinite(analytic):
        if math.isinf(analytic) and not d.converged and analytic * n > 0:
            why = f"autograd says {analytic}, and the difference quotients grow as the step shrinks"
            return verdict("inconclusive", why)
        return verdict("wrong", f"the analytic gradient is {analytic}")
    within = abs(analytic - n) <= tol
    if within and tol <= RESOLUTION * max(abs(analytic), abs(n)):
        return verdict("ok")
    if within:
        why = d.reason or (
            f"the numerical derivative is only known to ±{tol:.2g}, "
            f"not small beside the gradient ({max(abs(analytic), abs(n)):.2g})"
        )
        return Verdict("inconclusive", analytic, n, err, tol, why, within=True)
    found = at_kink()
    if found is not None:
        if found.admits(analytic):
            return Verdict("kink", analytic, n, err, tol)
        return verdict("wrong", "outside the one-sided slopes of a kink")
    if not d.converged:
        return verdict("inconclusive", d.reason)
    return verdict("wrong")


REMEDY = "float64 inputs, another point, or a larger or smaller eps may resolve it"


# ---------------------------------------------------------------------------
# f as a scalar function of float64 arrays.
# ---------------------------------------------------------------------------


class _Objective:
    """f made scalar and evaluated on float64 arrays: Σ f(x)·r for a fixed random r if f is not."""

    def __init__(self, f: Function, inputs: Sequence[Any], seed: int):
        self.f = f
        self.float32 = any(_dtype(x) == np.float32 for x in inputs)
        self.points = [np.array(as_data(x), dtype=np.float64) for x in inputs]
        self.shapes = [p.shape for p in self.points]
        self.names = [x.name if isinstance(x, Value) else None for x in inputs]
        self.rng = np.random.default_rng(seed)
        with np.errstate(all="ignore"):  # an overflow shows in the report as a non-finite f
            out = self._call(self.points, record=False)
        self.out_shape = out.shape
        self.weights = None if out.shape == () else self.rng.standard_normal(out.shape)
        self.evaluations = 0

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
        """f at moved points; nan where f refuses them (outside its domain: log_loss at ŷ < 0)."""
        self.evaluations += 1
        with np.errstate(all="ignore"):
            try:
                return float(self._scalar(self._call(points, record=False)).item())
            except (ValueError, ArithmeticError):
                return math.nan

    def value_and_grads(self) -> tuple[float, list[np.ndarray]]:
        self.evaluations += 1
        with np.errstate(all="ignore"):  # an infinite value or gradient is reported, not warned of
            out = self._scalar(self._call(self.points, record=True))
            out.backward()
        largest, self.propagated = _rounding_floor(out)
        self.floor = max(largest, self.propagated)
        grads = [
            np.array(v.grad, dtype=np.float64).reshape(s)
            for v, s in zip(self.values, self.shapes, strict=True)
        ]
        return float(out.item()), grads

    def along(self, i: int, index: Any) -> Callable[[float], float]:
        """φ(t) = f with element `index` of input i moved by t."""

        def phi(t: float) -> float:
            moved = list(self.points)
            moved[i] = self.points[i].copy()
            moved[i][index] += t
            return self(moved)

        return phi

    def towards(self, vs: Sequence[np.ndarray]) -> Callable[[float], float]:
        """φ(t) = f(x + t·v)."""
        return lambda t: self([p + t * v for p, v in zip(self.points, vs, strict=True)])

    def scale(self) -> float:
        """The inputs' scale: max |x|, at least 1."""
        return max([1.0, *(float(np.max(np.abs(p))) for p in self.points if p.size)])


def _rounding_floor(out: Value) -> tuple[float, float]:
    """Two estimates of one evaluation's rounding error, after a backward pass of f.

    The first: ε of each node's dtype times its largest finite |value|, the largest
    over f's graph (f rounds at least as badly as its largest intermediate: a sum
    that cancels, or 1 − ŷ inside a primitive). The second: ε·Σ |node|·|∂f/∂node|,
    each node's rounding carried to f (ŷ ≈ 1 rounds by ε, and ln(1 − ŷ) multiplies
    that by 1/(1 − ŷ)); it does not see inside a primitive. The differences use
    the larger, the Taylor remainder (which needs a tight floor) the second.
    """
    largest = carried = 0.0
    with np.errstate(all="ignore"):
        for node in topological_order(out):
            data = np.asarray(node.data)
            if data.size == 0:
                continue
            eps = float(np.finfo(data.dtype).eps)
            finite = np.isfinite(data)
            largest = max(largest, eps * float(np.max(np.abs(data), initial=0.0, where=finite)))
            weight = np.abs(data * np.asarray(node.grad))
            carried += eps * float(np.sum(weight, where=np.isfinite(weight)))
    return largest, carried


def _dtype(x: Any) -> Any:
    return x.dtype if isinstance(x, Value) else np.result_type(as_data(x))


# ---------------------------------------------------------------------------
# The report.
# ---------------------------------------------------------------------------


@dataclass
class InputCheck:
    """One input (or direction): its worst element, and which elements were wrong or unresolved.

    `inconclusive` maps each unresolved element's index to the reason.
    """

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
    name: str | None = None
    error: float = 0.0  # the estimated error of the worst element's numerical value
    tolerance: float = 0.0  # the worst element's bound on |analytic − numerical|
    inconclusive: dict[tuple[int, ...], str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The input's name, or its position."""
        return self.name if self.name is not None else str(self.position)

    @property
    def size(self) -> int:
        """The number of elements checked."""
        return math.prod(self.shape)


@dataclass
class GradcheckReport:
    """The result of `gradcheck`: truthy when every gradient is right.

    With `strict` (the default) an inconclusive element makes the report falsy
    too; with strict=False it is accepted, and still listed.
    """

    inputs: list[InputCheck]
    eps: float
    atol: float
    rtol: float
    method: str
    evaluations: int
    notes: list[str] = field(default_factory=list)
    strict: bool = True

    @property
    def failures(self) -> int:
        """The number of wrong elements (or directions)."""
        return sum(c.failures for c in self.inputs)

    @property
    def inconclusive(self) -> list[tuple[str, tuple[int, ...], str]]:
        """(input, index, reason) for every element central differences could not resolve."""
        return [(c.label, i, why) for c in self.inputs for i, why in c.inconclusive.items()]

    @property
    def ok(self) -> bool:
        """True when no element is wrong and (if strict) none is inconclusive."""
        return self.failures == 0 and not (self.strict and self.inconclusive)

    @property
    def verdict(self) -> str:
        """passed, FAILED, or INCONCLUSIVE."""
        if self.failures:
            return "FAILED"
        return "INCONCLUSIVE" if self.inconclusive and self.strict else "passed"

    def __bool__(self) -> bool:
        return self.ok

    @property
    def rule(self) -> str:
        """The pass rule, in one line."""
        atol = f" + {self.atol:g}" if self.atol else ""
        return (
            f"pass when |analytic − numerical| ≤ {SAFETY:g}·err{atol} + {self.rtol:g}·|numerical| "
            f"and that is ≤ {RESOLUTION:g}·|gradient|; err = Richardson truncation + "
            "|f|·ε_mach/h rounding"
        )

    def rows(self) -> list[tuple[str, ...]]:
        """The table: a header, then one row per input (or direction)."""
        directional = self.method == DIRECTIONAL
        first = "direction" if directional else "input"
        header = (
            first,
            "shape",
            "worst at",
            "analytic",
            "numerical",
            "abs err",
            "rel err",
            "± err",
            "verdict",
        )
        rows: list[tuple[str, ...]] = [header]
        for c in self.inputs:
            rows.append(
                (
                    c.label,
                    "-" if directional else str(c.shape),
                    "-" if directional else str(c.index),
                    f"{c.analytic:.10g}",
                    f"{c.numerical:.10g}",
                    f"{c.abs_error:.3g}",
                    f"{c.rel_error:.3g}",
                    f"{c.error:.2g}",
                    verdict_text(c),
                )
            )
        return rows

    def reasons(self, limit: int = 5) -> list[str]:
        """Why elements were inconclusive: one line per element, up to `limit`, and the remedy."""
        found = self.inconclusive
        if not found:
            return []
        lines = [f"{name}{list(i) if i else ''}: {why}" for name, i, why in found[:limit]]
        if len(found) > limit:
            lines.append(f"… and {len(found) - limit} more")
        return [*lines, f"not a pass{'' if self.strict else ' (accepted: strict=False)'}: {REMEDY}"]

    def why_inconclusive(self) -> str:
        """The inconclusive elements counted by cause: "3 where f did not change at any step, …"."""
        causes: dict[str, int] = {}
        for _, _, why in self.inconclusive:
            cause = next((c for key, c in _CAUSES if key in why), why)
            causes[cause] = causes.get(cause, 0) + 1
        return ", ".join(f"{n} {cause}" for cause, n in causes.items())

    def header(self) -> list[str]:
        """The lines above the table: verdict and method, the rule, the step, the notes."""
        accepted = len(self.inconclusive) if not self.strict else 0
        verdict = self.verdict + (f" ({accepted} inconclusive, accepted)" if accepted else "")
        return [
            f"gradcheck {verdict}: {self.method}",
            f"  {self.rule}",
            f"  ε = {self.eps:g} (step relative to the inputs' scale), "
            f"{self.evaluations} evaluations of f, in float64",
            *(f"  note: {n}" for n in self.notes),
        ]

    def __str__(self) -> str:
        lines = self.header() + aligned(self.rows())
        lines += [f"  inconclusive: {r}" for r in self.reasons()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The report as an HTML table, for Jupyter."""
        header, *body = self.rows()
        esc = html.escape
        head = "".join(f"<th>{esc(h)}</th>" for h in header)
        rows = "".join(
            "<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>" for row in body
        )
        notes = "".join(f"<li>{esc(n)}</li>" for n in [*self.notes, *self.reasons()])
        return (
            f"<div><p><b>gradcheck {esc(self.verdict)}</b>: {esc(self.method)}<br>"
            f"<small>{esc(self.rule)}</small></p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
            + (f"<ul>{notes}</ul>" if notes else "")
            + "</div>"
        )


_CAUSES = (
    ("did not change", "where f did not change at any step (a gradient of 0, or too small to see)"),
    ("only known to", "where the numerical error is too wide beside the gradient"),
    ("do not settle", "where the differences do not settle (a clip's edge or a singularity)"),
    ("not finite", "where f is not finite nearby"),
    ("grow as the step", "where the derivative is infinite"),
)


def verdict_text(c: InputCheck) -> str:
    """ok, FAIL (k wrong) or k inconclusive, with the kinks counted."""
    parts = []
    if c.failures:
        parts.append(f"FAIL ({c.failures} wrong)")
    if c.inconclusive:
        parts.append(f"{len(c.inconclusive)} inconclusive")
    if not parts:
        parts.append("ok")
    if c.kinks:
        parts.append(f"{len(c.kinks)} kink(s) at {', '.join(map(str, c.kinks[:3]))}")
    return ", ".join(parts)


def aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows of cells as indented lines, each column padded to its widest cell."""
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    return [
        ("  " + "  ".join(s.ljust(w) for s, w in zip(r, widths, strict=True))).rstrip()
        for r in rows
    ]


# ---------------------------------------------------------------------------
# gradcheck
# ---------------------------------------------------------------------------


def gradcheck(
    f: Function,
    *inputs: Any,
    eps: float = 1e-4,
    atol: float = 0.0,
    rtol: float = 1e-6,
    directions: int | None = None,
    strict: bool = True,
    seed: int = 0,
    progress: Progress | None = None,
) -> GradcheckReport:
    """Compare f's autograd gradients with central differences, f'(x) ≈ (f(x+h) − f(x−h)) / 2h.

    Each difference is taken at h = eps·max(1, |xᵢ|) and h/2 and extrapolated; the
    two also give its truncation error, and |f|·ε_mach/h (or the rounding f's own
    graph suggests, if larger) its rounding error. An element passes when
    |analytic − numerical| ≤ 10·err + atol + rtol·|numerical| and that bound is at
    most 0.1% of the gradient, or of the largest gradient checked for one that is 0
    within its error; where it is wider the element is inconclusive (a falsy report
    unless strict=False). A function that raises ValueError at a moved point is
    taken to be outside its domain there. Steps adapt: smaller near a
    domain edge, a steep point or a clip, larger where rounding swamps a small
    gradient. Where the one-sided slopes differ by a jump that stays as the step
    shrinks (relu at 0) the point is a kink, and any value between them is right.
    f takes one Value per input and returns a Value; a non-scalar output is
    checked through Σ f(x)·r for a fixed random r. With `directions=k`, k random
    directions are checked instead of every element. `progress(done, total)` is
    called after each element.
    """
    if not eps > 0 or not atol >= 0 or not rtol >= 0:
        raise ValueError(
            f"need eps > 0, atol ≥ 0, rtol ≥ 0; got eps={eps}, atol={atol}, rtol={rtol}"
        )
    if not inputs:
        raise ValueError("gradcheck needs at least one input")
    if directions is not None and (
        not isinstance(directions, int) or isinstance(directions, bool) or directions < 1
    ):
        raise ValueError(f"directions must be a positive int, got {directions!r}")
    obj = _Objective(f, inputs, seed)
    f0, grads = obj.value_and_grads()
    notes = []
    if obj.float32:
        notes.append("float32 inputs were checked in float64")
    if obj.weights is not None:
        notes.append(f"f has shape {obj.out_shape}: checked Σ f(x)·r for a fixed random r")
    if directions is not None:
        found = _check_directions(obj, grads, directions, f0, eps * obj.scale(), atol, rtol)
        shapes: list[tuple[int, ...]] = [()] * directions
        names: list[str | None] = [None] * directions
        method = DIRECTIONAL
    else:
        total = sum(g.size for g in grads)
        done = [0]

        def tick() -> None:
            done[0] += 1
            if progress is not None:
                progress(done[0], total)

        found = [
            _check_input(obj, i, grads[i], f0, eps, atol, rtol, tick) for i in range(len(grads))
        ]
        shapes, names = [g.shape for g in grads], obj.names
        method = "central differences " + CENTRAL
    small = settle_small(found)
    if small:
        notes.append(
            f"{small} element(s) agree within a numerical error too wide beside their own "
            f"gradient but below {RESOLUTION:g} of the largest one checked: they pass"
        )
    checks = [
        _summary(i, shape, v, name)
        for i, (shape, v, name) in enumerate(zip(shapes, found, names, strict=True))
    ]
    return GradcheckReport(checks, eps, atol, rtol, method, obj.evaluations, notes, strict)


def _summary(
    position: int,
    shape: tuple[int, ...],
    verdicts: list[tuple[tuple[int, ...], Verdict]],
    name: str | None,
) -> InputCheck:
    """The InputCheck of one input from the verdicts of its elements."""
    kinks = [i for i, v in verdicts if v.status == "kink"]
    failures = sum(1 for _, v in verdicts if v.status == "wrong")
    unresolved = {i: v.reason for i, v in verdicts if v.status == "inconclusive"}

    def rank(item: tuple[tuple[int, ...], Verdict]) -> tuple[int, float]:
        v = item[1]
        order = {"wrong": 3, "inconclusive": 2, "ok": 1, "kink": 0}[v.status]
        return order, v.badness if v.status != "inconclusive" else v.tolerance

    if not verdicts:  # an empty input
        return InputCheck(position, shape, (), 0.0, 0.0, 0.0, 0.0, True, name=name)
    index, worst = max(verdicts, key=rank)
    diff = abs(worst.analytic - worst.numerical)
    rel = diff / abs(worst.numerical) if worst.numerical else (0.0 if diff == 0 else math.inf)
    return InputCheck(
        position,
        shape,
        index,
        worst.analytic,
        worst.numerical,
        diff,
        rel,
        failures == 0,
        kinks,
        failures,
        name,
        worst.error,
        worst.tolerance,
        unresolved,
    )


def _check_input(
    obj: _Objective,
    i: int,
    grad: np.ndarray,
    f0: float,
    h0: float,
    atol: float,
    rtol: float,
    tick: Callable[[], None],
) -> list[tuple[tuple[int, ...], Verdict]]:
    verdicts = []
    point = obj.points[i]
    for index in np.ndindex(grad.shape):
        phi = obj.along(i, index)
        x0 = float(point[index])
        d = derivative(phi, f0, h0 * max(1.0, abs(x0)), obj.floor, x0)
        at_kink = partial(kink, phi, f0, d.step, obj.floor, x0)
        verdicts.append((index, judge(float(grad[index]), d, rtol, atol, at_kink)))
        tick()
    return verdicts


def settle_small(found: list[list[tuple[tuple[int, ...], Verdict]]]) -> int:
    """Pass unresolved elements whose error bound is below 0.1% of the largest gradient checked.

    A gradient that is 0 within its numerical error (a stationary point, an input f
    does not use) cannot be right to 0.1% of itself; beside resolved gradients, a
    value that small is right to 0.1% of the gradient's largest component.
    """
    largest = max(
        (abs(v.numerical) for vs in found for _, v in vs if v.status == "ok"), default=0.0
    )
    settled = 0
    for verdicts in found:
        for k, (index, v) in enumerate(verdicts):
            if v.within and v.tolerance <= RESOLUTION * largest:
                verdicts[k] = (index, replace(v, status="ok", reason=""))
                settled += 1
    return settled


def _check_directions(
    obj: _Objective,
    grads: list[np.ndarray],
    k: int,
    f0: float,
    h0: float,
    atol: float,
    rtol: float,
) -> list[list[tuple[tuple[int, ...], Verdict]]]:
    found: list[list[tuple[tuple[int, ...], Verdict]]] = []
    for _ in range(k):
        vs = _direction(obj)
        analytic = sum(float(np.sum(g * v)) for g, v in zip(grads, vs, strict=True))
        phi = obj.towards(vs)
        d = derivative(phi, f0, h0, obj.floor)
        found.append(
            [((), judge(analytic, d, rtol, atol, partial(kink, phi, f0, d.step, obj.floor)))]
        )
    return found


def _direction(obj: _Objective) -> list[np.ndarray]:
    vs = [obj.rng.standard_normal(s) for s in obj.shapes]
    norm = math.sqrt(sum(float(np.sum(v * v)) for v in vs)) or 1.0
    return [v / norm for v in vs]


# ---------------------------------------------------------------------------
# The Taylor test
# ---------------------------------------------------------------------------


def _settles(phi: Callable[[float], float], f0: float, h: float, floor: float) -> bool:
    """True when (φ(±s) − φ(0))/±s settle, on both sides, as s runs over h, h/2, h/4, h/8.

    Settling means each move is smaller than the last, or within rounding and 0.1% of q.
    """
    line = _Line(phi, f0)
    steps = [h / 2**k for k in range(4)]
    if not line.finite(*steps, *(-s for s in steps)):
        return False
    size = max(abs(v) for v in line.seen.values())
    small = SAFETY * 2 * max(MACHINE_EPS * size, floor) / steps[-1]
    for side in (1.0, -1.0):
        q = [(line(side * s) - f0) / (side * s) for s in steps]
        moves = [abs(b - a) for a, b in itertools.pairwise(q)]
        if moves[-1] > 0.75 * moves[0] and moves[-1] > small + RESOLUTION * abs(q[-1]):
            return False
    return True


@dataclass
class TaylorReport:
    """The Taylor test: the remainder |f(x+hv) − f(x) − h∇f·v| must shrink like h².

    `verdict` is "passed", "kink", "inconclusive" or "FAILED"; the report is truthy
    for passed and kink, and for inconclusive when strict=False.
    """

    steps: list[float]
    remainders: list[float]
    orders: list[float]
    order: float
    ok: bool
    note: str = ""
    verdict: str = ""

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        lines = [
            f"Taylor test {self.verdict}: observed order {self.order:.2f} at the smallest steps "
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
    strict: bool = True,
) -> TaylorReport:
    """Check ∇f with no step to tune: |f(x+hv) − f(x) − h∇f·v| = O(h²) if right, O(h) if wrong.

    The steps run from 0.1 to 1e-9 times the inputs' scale (max |x|, or 1 if 0),
    and the order is read from the smallest steps whose remainder stands clear of
    rounding, where the asymptotic rate shows. Where f has a kink along v (the
    one-sided slopes differ by a jump that stays) the verdict is "kink", passed
    when ∇f·v lies between them. Where every remainder is at rounding level the
    gradient is resolved only when that level is small beside ∇f·v; otherwise the
    verdict is inconclusive (falsy unless strict=False).
    """
    obj = _Objective(f, inputs, seed)
    f0, grads = obj.value_and_grads()
    sizes = [float(np.max(np.abs(p))) for p in obj.points if p.size]
    scale = max(sizes, default=0.0) or 1.0
    hs = [float(h) for h in (steps or scale * np.geomspace(1e-1, 1e-9, 17))]
    vs = _direction(obj)
    slope = sum(float(np.sum(g * v)) for g, v in zip(grads, vs, strict=True))
    phi = obj.towards(vs)
    values = [phi(h) for h in hs]
    rs = [abs(fh - f0 - h * slope) for h, fh in zip(hs, values, strict=True)]

    def report(order: float, verdict: str, note: str, orders: list[float]) -> TaylorReport:
        ok = verdict in ("passed", "kink") or (verdict == "inconclusive" and not strict)
        return TaylorReport(hs, rs, orders, order, ok, note, verdict)

    if math.isinf(slope) and not _settles(phi, f0, scale * 1e-9, obj.propagated):
        text = f"∇f·v = {slope}, and the difference quotients along ±v grow as h shrinks"
        return report(math.nan, "inconclusive", text, [])
    if not math.isfinite(slope):
        return report(math.nan, "FAILED", f"∇f·v = {slope} is not finite", [])
    # Large steps may leave f's domain (x**0.5 near 0): the small ones are what counts.
    finite = [i for i, r in enumerate(rs) if math.isfinite(r)]
    if not math.isfinite(f0) or len(finite) < 4 or finite != list(range(finite[0], len(rs))):
        return report(math.nan, "inconclusive", "f is not finite at x or along x + h·v", [])
    hs, values, rs = hs[finite[0] :], values[finite[0] :], rs[finite[0] :]
    # The remainder's own rounding: each f is off by about ε|f|, and h·∇f·v by ε|h·∇f·v|.
    floors = [
        8 * max(MACHINE_EPS * (abs(f0) + abs(fh) + abs(h * slope)), obj.propagated)
        for h, fh in zip(hs, values, strict=True)
    ]
    usable = [(h, r) for h, r, fl in zip(hs, rs, floors, strict=True) if r > 10 * fl]
    orders = [
        math.log(r1 / r2) / math.log(h1 / h2) for (h1, r1), (h2, r2) in itertools.pairwise(usable)
    ]
    if len(usable) < 3:  # an order needs three clean remainders
        # (Nearly) every remainder is rounding: |Δ·v|·h ≤ r for every h, so the worst
        # gradient error the test cannot see is about r/h at the largest h.
        bound = (rs[0] + 10 * floors[0]) / hs[0]
        if SAFETY * bound <= RESOLUTION * abs(slope):
            return report(
                2.0, "passed", "every remainder is at rounding level: f is linear along v", orders
            )
        note = (
            f"fewer than 3 remainders stand clear of rounding, so ∇f·v is only known to "
            f"±{bound:.2g}; " + REMEDY
        )
        return report(math.nan, "inconclusive", note, orders)
    tail = usable[-3:]  # the smallest clean steps: where the asymptotic order shows
    logs = np.log([h for h, _ in tail]), np.log([r for _, r in tail])
    order = float(np.polyfit(logs[0], logs[1], 1)[0])
    left_out = len(hs) - len(usable)
    note = f"{left_out} step(s) at rounding level left out" if left_out else ""
    h, r = tail[-1]
    if order >= min_order:
        # r ≥ |Δ·v|·h for a gradient off by Δ: order 2 down to h bounds |Δ·v| by r/h.
        if SAFETY * r / h <= RESOLUTION * abs(slope):
            return report(order, "passed", note, orders)
        text = (
            f"order {order:.2f}, but down to h = {h:.1g} a gradient error below ±{r / h:.2g} "
            f"would not show beside ∇f·v = {slope:.3g}; " + REMEDY
        )
        return report(order, "inconclusive", text, orders)
    # A dip where the h² and h³ terms cancel can bend the fitted order below min_order for a
    # right gradient. The remainders still bound the error: r ≥ |Δ·v|·h − O(h²) at each step,
    # and a cancellation at one h cannot hold at three, so r/h small at all three is a pass.
    if all(SAFETY * r_k / h_k <= RESOLUTION * abs(slope) for h_k, r_k in tail):
        worst = max(r_k / h_k for h_k, r_k in tail)
        text = (
            f"order {order:.2f} at the smallest steps, but r/h ≤ {worst:.2g} there bounds "
            f"the gradient error far below ∇f·v = {slope:.3g}"
        )
        return report(order, "passed", text, orders)
    found = kink(phi, f0, h, obj.propagated)
    if found is not None:
        if found.admits(slope):
            text = f"a kink along v: one-sided slopes {found.left:.6g} and {found.right:.6g}"
            return report(order, "kink", text, orders)
        text = f"∇f·v = {slope:.6g} is outside the one-sided slopes of a kink"
        return report(order, "FAILED", text, orders)
    # A wrong gradient leaves the one-sided quotients settling on the true slope, from both
    # sides; quotients that keep moving as h shrinks mean a singularity or a clip's edge is near.
    if not _settles(phi, f0, h, obj.propagated):
        text = (
            "the difference quotients along ±v do not settle as h shrinks: a singularity or the "
            "edge of a clip lies within the steps; " + REMEDY
        )
        return report(order, "inconclusive", text, orders)
    if order < 0.7:  # a wrong gradient leaves r ∝ h; r that does not shrink is rounding
        text = "the remainders do not shrink with h: f rounds worse than estimated; " + REMEDY
        return report(order, "inconclusive", text, orders)
    return report(order, "FAILED", note, orders)
