"""Losses: the log loss (fused, with its gradient by hand), its stable form on logits, mse, hinge.

Each takes predictions (a Value: a scalar for one sample, a vector for a batch)
and labels of the same shape, and returns the mean over the samples as a scalar
Value. Labels are checked first: NaN, a shape that differs from the
predictions', and (except for mse) labels outside [0, 1] raise ValueError.
The log loss of ŷ = σ(z) made by the engine's sigmoid takes its value from z,
and ∂L/∂z = ŷ − y holds however far σ has saturated (see `log_loss`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from autograd import Primitive, Value, log, log_softmax, relu, sigmoid
from autograd.ops import Add, Div, Exp, Sigmoid, Sum
from autograd.value import Data, shape_of
from nn import checks
from nn.checks import check_labels, class_labels

# ŷ is clipped to [tiny, 1 − epsneg] of its dtype: the widest range in which
# ln ŷ, ln(1 − ŷ) and 1/(ŷ(1 − ŷ)) are all finite. Only ŷ = 1 exactly and ŷ below
# the smallest normal number (0, or subnormals) are moved.
_BOUNDS: dict[Any, tuple[Any, Any]] = {
    np.dtype(np.float64): (
        float(np.finfo(np.float64).tiny),
        1.0 - float(np.finfo(np.float64).epsneg),
    ),
    np.dtype(np.float32): (np.finfo(np.float32).tiny, np.float32(1) - np.finfo(np.float32).epsneg),
}


def clip_bounds(dtype: Any) -> tuple[Any, Any]:
    """(lo, hi) = (tiny, 1 − epsneg) of the dtype: the interval log_loss clips ŷ to."""
    return _BOUNDS[np.dtype(dtype)]


def _clip(y_hat: Any) -> Any:
    """ŷ clipped to [tiny, 1 − epsneg] of its dtype; a Value as lo + relu(ŷ − lo) − relu(ŷ − hi)."""
    if isinstance(y_hat, Value):
        lo, hi = _BOUNDS[y_hat.dtype]
        return lo + relu(y_hat - lo) - relu(y_hat - hi)
    if type(y_hat) is float:
        lo, hi = _BOUNDS[np.dtype(np.float64)]
        return lo if y_hat < lo else hi if y_hat > hi else y_hat
    lo, hi = _BOUNDS[y_hat.dtype]
    if y_hat.size > 1024:
        return np.clip(y_hat, lo, hi)  # one pass over a large batch
    # Two passes, but two plain ufunc calls cost less than np.clip's wrapper on a small one;
    # in place unless c is a float32 scalar or one element, where numpy's out= costs more.
    c = np.maximum(y_hat, lo)
    return np.minimum(c, hi, out=c) if type(c) is np.ndarray and c.size > 1 else np.minimum(c, hi)


def _count(x: Any) -> int:
    """The number of samples: 1 for a scalar."""
    shape = x.shape if isinstance(x, Value) else shape_of(x)
    return math.prod(shape)


def _log_loss(y_hat: Data, y: Data, z: Data | None = None, recorded: Any = None) -> Data:
    if z is not None:  # ŷ = σ(z): the value from the logit, exact where ln ŷ would round
        exact = _logit_loss(z, y)
        if y_hat is recorded or np.array_equal(y_hat, recorded):
            return exact
        # A check that moves ŷ away from σ(z) sees the loss of ŷ move as it should.
        return exact + (_log_loss(y_hat, y) - _log_loss(recorded, y))
    c = _clip(y_hat)
    if type(c) is float:
        return -(y * math.log(c) + (1.0 - y) * math.log1p(-c))
    if type(c) is not np.ndarray or c.size == 1:  # one number: fresh arrays cost less than out=
        return -np.vdot(y, np.log(c)) - np.vdot(1.0 - y, np.log1p(-c))
    if c.size > 1024 and type(y) is np.ndarray:
        ones = y == 1.0
        if np.count_nonzero(ones) + np.count_nonzero(y == 0.0) == c.size:  # labels 0 or 1
            # Then a sample's loss is −ln c or −ln(1−c): one logarithm each, not two, and on
            # a large batch the logarithms are most of the time. (Below 1024 the extra
            # calls cost more than the logarithm saves.)
            p = np.where(ones, c, np.subtract(1.0, c))
            return -np.add.reduce(np.log(p, out=p), None) / c.size
    # −mean(y·ln c + (1−y)·ln(1−c)) = −(Σ ln(1−c) + y·(ln c − ln(1−c))) / n, computed in
    # place in the fresh arrays: with few new arrays a large batch stays in cache.
    log_c = np.log(c)
    log_not = np.log(np.subtract(1.0, c, out=c), out=c)
    total = np.add.reduce(log_not, None) + np.vdot(y, np.subtract(log_c, log_not, out=log_c))
    return -total / c.size


def _log_loss_grad_y_hat(g: Any, out: Any, y_hat: Any, y: Any, *logit: Any) -> Any:
    n = _count(y_hat)
    in_place = type(y_hat) is np.ndarray and y_hat.size > 1  # see _clip
    if in_place and not isinstance(g, Value) and not isinstance(y, Value):
        c = _clip(y_hat)  # the same formula as below, in place in two fresh arrays
        slope = np.subtract(1.0, c)
        slope *= c
        np.subtract(c, y, out=c)
        c /= slope
        c *= g / n
        return c
    c = _clip(y_hat)
    return (c - y) / (c * (1.0 - c)) * (g / n)


def _log_loss_grad_y(g: Any, out: Any, y_hat: Any, y: Any, *logit: Any) -> Any:
    c = _clip(y_hat)
    return (log(1.0 - c) - log(c)) * (g / _count(y_hat))


class LogLoss(Primitive):
    """L = mean(−y·ln ŷc − (1−y)·ln(1−ŷc)), ŷc = ŷ clipped to [tiny, 1 − epsneg].

    ∂L/∂ŷ = (ŷc − y) / (ŷc(1 − ŷc)) / n   (the exact derivative, taken at ŷc)
    ∂L/∂y = (ln(1 − ŷc) − ln ŷc) / n
    Where ŷ was clipped the gradient is that of the unclipped loss at the clip
    point, not zero: a confident wrong answer still pushes ŷ the right way.
    Two optional operands, the logit z of ŷ = σ(z) and ŷ as it was recorded, are
    read by the forward alone: at that ŷ the value is mean(max(z, 0) − z·y +
    ln(1 + e^−|z|)), exact; at another ŷ (a numerical check) it moves by the
    clipped loss's difference, so the vjps above stay its derivatives.
    """

    forward = staticmethod(_log_loss)
    grads = (_log_loss_grad_y_hat, _log_loss_grad_y)
    symbol = "log loss"

    @staticmethod
    def code(operands: int) -> tuple[str, ...]:
        """How autograd.compile writes the node: dL_dy_hat = (y_hat - y) / (y_hat * (1.0 - y_hat)) …

        With the logit (ŷ = σ(z)) the program checks that ŷ is inside the clip, where
        clipping changes nothing, and raises Saturated where it is not (see `of_sigmoid`).
        """
        if operands == 4:
            return (
                "{op}.of_sigmoid({0}, {1})",
                "({0} - {1}) / ({0} * (1.0 - {0})) * ({g} / np.size({0}))",
                "(log(1.0 - {0}) - log({0})) * ({g} / np.size({0}))",
            )
        return (
            "{op}.forward({0}, {1})",
            "{op}.grads[0]({g}, {out}, {0}, {1})",
            "{op}.grads[1]({g}, {out}, {0}, {1})",
        )

    @staticmethod
    def through_sigmoid(operands: int) -> str | None:
        """How a compiled step over a large batch writes ∂L/∂z when ŷ = σ(z) is read by this
        node alone: the lesson's (ŷ − y)/n, exact where ŷ lies inside the clip (of_sigmoid
        checks that), in one line instead of ∂L/∂ŷ and then σ′."""
        return "({0} - {1}) * ({g} / np.size({0}))" if operands == 4 else None

    @staticmethod
    def of_sigmoid(y_hat: Data, y: Data) -> Data:
        """The loss of ŷ = σ(z) in a compiled step; Saturated if some ŷ is at the clip.

        The compiled step then runs eagerly, where `log_loss` takes the node on z.
        """
        if not _inside_clip(y_hat):
            raise Saturated("log_loss: σ(z) rounded onto the clip; the loss must be taken on z")
        if type(y_hat) is np.ndarray and y_hat.size > 1024 and type(y) is np.ndarray:
            not_y = np.subtract(1.0, y)
            # y(1 − y) is 0 exactly where y is 0 or 1 (nowhere else does it round to 0): one
            # pass fewer than counting the 0s and the 1s.
            if not np.count_nonzero(not_y * y):  # labels 0 or 1, and ŷ inside the clip
                # _log_loss's p = where(y = 1, ŷ, 1 − ŷ), as arithmetic: exact for 0/1 labels,
                # and 17 µs against 26 for np.where on 10⁴ (numpy 2), whose branches mispredict.
                p = np.multiply(y_hat, y)
                not_y *= np.subtract(1.0, y_hat)
                p += not_y
                return -np.add.reduce(np.log(p, out=p), None) / y_hat.size
        return _log_loss(y_hat, y)


class Saturated(ArithmeticError):
    """A compiled log loss of σ(z) met a ŷ at the clip, where only the node on z is exact."""


def _prepare(y_hat: Any, y: Any, who: str, **checks: bool) -> tuple[Value, Any]:
    """The predictions as a Value and the checked labels in the predictions' dtype."""
    if not isinstance(y_hat, Value):
        y_hat = Value(y_hat)
    labels = check_labels(y, y_hat.shape, who, **checks)
    if isinstance(y, Value):
        return y_hat, y  # labels that are Values stay in the graph
    dtype = y_hat.dtype
    if type(labels) is float:
        # A Python float would make numpy compute a float32 scalar's loss in float64.
        return y_hat, labels if dtype == np.float64 else dtype.type(labels)
    if labels.dtype != dtype:
        labels = labels.astype(dtype)
    return y_hat, labels


def _mean(v: Value) -> Value:
    return v if v.shape == () else v.mean()


def _logit_loss(z: Data, y: Data) -> Data:
    # max(z, 0) − z·y + ln(1 + e^−|z|): no exponential overflows and no logarithm meets 0.
    if type(z) is float:
        return max(z, 0.0) - z * y + math.log1p(math.exp(-abs(z)))
    per_sample = np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))
    return np.add.reduce(per_sample, None) / per_sample.size if per_sample.ndim else per_sample


class LogLossOfLogit(Primitive):
    """L = mean(max(z, 0) − z·y + ln(1 + e^−|z|)) = mean(−y·ln σ(z) − (1−y)·ln(1 − σ(z))).

    ∂L/∂z = (σ(z) − y) / n   (the lesson's ∂L/∂z = ŷ − y, exact for any finite z)
    ∂L/∂y = −z / n
    """

    forward = staticmethod(_logit_loss)
    symbol = "log loss of z"
    grads = (
        lambda g, out, z, y: (sigmoid(z) - y) * (g / _count(z)),
        lambda g, out, z, y: -z * (g / _count(z)),
    )
    # How autograd.compile writes it: dL_dz = (sigmoid(z) - y) * (dL_dL / np.size(z)).
    code = (
        "{op}.forward({0}, {1})",
        "(sigmoid({0}) - {1}) * ({g} / np.size({0}))",
        "-{0} * ({g} / np.size({0}))",
    )


def log_loss(y_hat: Any, y: Any) -> Value:
    """L = mean(−y·ln ŷ − (1−y)·ln(1−ŷ)), for predictions ŷ in [0, 1].

    Predictions go through one fused node, clipped to [tiny, 1 − epsneg] of their
    dtype, whose gradient is (ŷ − y)/(ŷ(1 − ŷ))/n; ŷ = 0 or 1 gives a finite loss and
    gradient. When ŷ = σ(z) was made by the engine's sigmoid:
      - every ŷ strictly inside the clip: the node stays on ŷ (the graph reads
        z → σ → ŷ → L, as the lesson draws it) and takes its value from z,
        max(z, 0) − z·y + ln(1 + e^−|z|), exact; the chain ∂L/∂ŷ · ŷ(1 − ŷ) uses
        the same ŷ twice, so ∂L/∂z = ŷ − y to a few ulps;
      - some ŷ at the clip (σ rounded to 0 or 1: |z| ≳ 36.7 in float64, 17 in
        float32): the loss is the node on z that `log_loss_with_logits` uses, with
        ∂L/∂z = σ(z) − y exactly, and ŷ is not on L's graph.
    Predictions outside [0, 1] raise ValueError: they are logits or scores, and want
    `log_loss_with_logits` or `hinge`.
    """
    if isinstance(y_hat, Value) and y_hat.op is Sigmoid:
        y_hat, labels = _prepare(y_hat, y, "log_loss")
        logit = unsaturated_logit(y_hat)
        if logit is not None:
            return LogLoss.apply(y_hat, labels, *logit)
        return LogLossOfLogit.apply(y_hat.inputs[0], labels)
    y_hat, labels = _prepare(y_hat, y, "log_loss")
    _check_probabilities(y_hat.data)
    return LogLoss.apply(y_hat, labels)


def unsaturated_logit(y_hat: Value) -> tuple[Data, Data] | None:
    """(z, ŷ)'s numbers for ŷ = σ(z) when every ŷ lies strictly inside the clip, else None."""
    data = y_hat.data
    if not _inside_clip(data):
        return None
    z = y_hat.inputs[0]
    return (z.data if isinstance(z, Value) else z), data


def _inside_clip(data: Data) -> bool:
    """Whether every ŷ lies strictly inside (tiny, 1 − epsneg) of its dtype (NaN: no)."""
    if type(data) is float:
        lo, hi = _BOUNDS[np.dtype(np.float64)]
        return bool(lo < data < hi)
    lo, hi = _BOUNDS[data.dtype]
    return bool(lo < np.minimum.reduce(data, None) and np.maximum.reduce(data, None) < hi)


def _check_probabilities(y_hat: Data) -> None:
    """ValueError unless every prediction lies in [0, 1] (NaN passes: it gives a NaN loss)."""
    if type(y_hat) is float:
        lo = hi = y_hat
    else:
        lo, hi = float(np.fmin.reduce(y_hat, None)), float(np.fmax.reduce(y_hat, None))
    if lo < 0.0 or hi > 1.0:
        bad = lo if lo < 0.0 else hi
        raise ValueError(
            f"log_loss: predictions must be probabilities in [0, 1], got {bad!r}; "
            "for logits (scores before the sigmoid) use log_loss_with_logits"
        )


def log_loss_with_logits(z: Any, y: Any) -> Value:
    """L = mean(max(z, 0) − z·y + ln(1 + e^−|z|)) = mean(softplus(z) − z·y), for ŷ = σ(z).

    Finite, with the exact gradient (σ(z) − y)/n, for any finite z.
    """
    z, labels = _prepare(z, y, "log_loss_with_logits")
    return LogLossOfLogit.apply(z, labels)


def mse(y_hat: Any, y: Any) -> Value:
    """L = mean((ŷ − y)²), with labels in [0, 1] like every loss here."""
    y_hat, labels = _prepare(y_hat, y, "mse")
    return _mean((y_hat - labels) ** 2)


def hinge(y_hat: Any, y: Any) -> Value:
    """L = mean(max(0, 1 − t·ŷ)) with t = 2y − 1 ∈ {−1, +1}; ŷ is a score, labels are 0 or 1."""
    y_hat, labels = _prepare(y_hat, y, "hinge", binary=True)
    return _mean(relu(1.0 - (2.0 * labels - 1.0) * y_hat))


def _softmax_input(p: Value) -> Value | None:
    """z when p = softmax(z) was made by autograd.softmax (e / Σe, e = exp(z − c)), else None."""
    if p.op is not Div:
        return None
    e, total = p.inputs[:2]
    if not (isinstance(e, Value) and isinstance(total, Value) and e.op is Exp):
        return None
    last = (-1, len(e.shape) - 1)
    if (
        total.op is not Sum
        or total.inputs[0] is not e
        or tuple(total.inputs[1:]) not in ((axis, True) for axis in last)
    ):
        return None  # not a sum over the classes' axis
    shifted = e.inputs[0]
    if not (isinstance(shifted, Value) and shifted.op is Add) or isinstance(
        shifted.inputs[1], Value
    ):
        return None  # the shift must be a constant
    z = shifted.inputs[0]
    return z if isinstance(z, Value) else None


def cross_entropy(logits: Any, labels: Any) -> Value:
    """L = mean over rows of −Σⱼ yⱼ·log_softmax(z)ⱼ, for scores z of shape (rows, k) or (k,).

    Labels are class indices 0..k−1 (one per row; floats like 2.0 are fine) or rows of k
    probabilities (one-hot or soft) summing to 1. log_softmax is shifted by the max, so any
    finite z is stable, and ∂L/∂z = (softmax(z) − y) / rows. Probabilities made by
    `autograd.softmax` (an MLP with a softmax output) are taken back to their scores first.
    Labels out of range, NaN, or rows that do not sum to 1 raise ValueError.
    """
    if isinstance(logits, Value) and (z := _softmax_input(logits)) is not None:
        logits = z
    if not isinstance(logits, Value):
        logits = Value(logits)
    shape = logits.shape
    if len(shape) not in (1, 2) or shape[-1] < 2:
        raise ValueError(
            f"cross_entropy: scores must have shape (rows, k) or (k,) with k ≥ 2 classes, "
            f"got {shape}"
        )
    k = shape[-1]
    log_p = log_softmax(logits, -1)
    if np.shape(labels.data if isinstance(labels, Value) else labels) == shape:
        probs = check_labels(labels, shape, "cross_entropy")
        sums = np.sum(np.asarray(probs), axis=-1)
        if not np.allclose(sums, 1.0, rtol=0.0, atol=1e-6):
            worst = float(np.asarray(sums).flat[int(np.argmax(np.abs(sums - 1.0)))])
            raise ValueError(
                f"cross_entropy: each row of probabilities must sum to 1, got {worst!r}"
            )
        target = labels if isinstance(labels, Value) else np.asarray(probs, dtype=logits.dtype)
        picked = (log_p * target).sum(-1)
    else:
        index = class_labels(labels, shape[:-1], k, "cross_entropy")
        picked = log_p[index] if len(shape) == 1 else log_p[np.arange(shape[0]), index]
    return -_mean(picked)


# name → (loss, the output at which predictions switch from 0 to 1)
LOSSES: dict[str, tuple[Callable[[Any, Any], Value], float]] = {
    "log_loss": (log_loss, 0.5),
    "log_loss_with_logits": (log_loss_with_logits, 0.0),
    "mse": (mse, 0.5),
    "hinge": (hinge, 0.0),
    "cross_entropy": (cross_entropy, 0.5),  # k classes: the threshold is not used
}


def by_name(
    loss: str | Callable[[Any, Any], Value], who: str
) -> tuple[Callable[[Any, Any], Value], float]:
    """A loss given by name (a key of LOSSES) or as a callable, with its threshold."""
    if isinstance(loss, str):
        try:
            return checks.named(loss, LOSSES, "loss")
        except ValueError as e:
            raise ValueError(f"{who}: {e}") from None
    if callable(loss):
        return loss, 0.5
    raise TypeError(f"{who}: loss must be a name or a callable, got {type(loss).__name__}")
