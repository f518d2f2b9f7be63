"""The primitives: each one's forward on raw data, and beside it the gradient for each input.

Every vjp (vector-Jacobian product) has the signature `(g, out, *inputs)` and
returns g · ∂out/∂input. It is written only with operations that work both on
raw data and on Values, so the same line serves the fast backward pass and the
differentiable one used for higher derivatives. Everything not defined here is
a composition of these primitives and has no backward of its own. Scalars use
`math`, which is faster than numpy for one number; where `math` raises, the
answer is numpy's (inf, nan).
"""

from __future__ import annotations

import importlib
import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograd.value import Data, Primitive, Value, _apply, _normalise, as_data, shape_of

try:
    # numpy ≥ 2 keeps its floating-point error state in a context variable. Setting it
    # directly costs 0.1 µs where `with np.errstate(...)` costs 1 µs: the generic tensor
    # step at n = 100 (eight divisions, logs and sigmoids) runs 22% fewer instructions.
    _config: Any = importlib.import_module("numpy._core._ufunc_config")
    _errors, _QUIET = _config._extobj_contextvar, _config._make_extobj(all="ignore")

    def quietly(f: Callable[..., Any], *args: Any) -> Any:
        """f(*args) with numpy's floating-point warnings off: inf and nan are answers here."""
        token = _errors.set(_QUIET)
        try:
            return f(*args)
        finally:
            _errors.reset(token)

except (ImportError, AttributeError):  # numpy 1.x

    def quietly(f: Callable[..., Any], *args: Any) -> Any:
        """f(*args) with numpy's floating-point warnings off: inf and nan are answers here."""
        with np.errstate(all="ignore"):
            return f(*args)


def _raw(x: Any) -> Data:
    return x.data if isinstance(x, Value) else x


def _shape(x: Any) -> tuple[int, ...]:
    return x.shape if isinstance(x, Value) else shape_of(x)


# ---------------------------------------------------------------------------
# Functions that take Values or raw data. On Values they record the graph;
# on raw data they just compute. The vjps below are written with them.
# ---------------------------------------------------------------------------


def exp(x: Any) -> Any:
    """e^x."""
    return _apply(Exp, x) if isinstance(x, Value) else _exp(x)


def log(x: Any) -> Any:
    """ln x (−inf at 0, nan below)."""
    return _apply(Log, x) if isinstance(x, Value) else _log(x)


def tanh(x: Any) -> Any:
    """tanh x."""
    return _apply(Tanh, x) if isinstance(x, Value) else _tanh(x)


def sigmoid(x: Any) -> Any:
    """σ(x) = 1 / (1 + e^-x); σ'(x) = σ(x)(1 − σ(x))."""
    return _apply(Sigmoid, x) if isinstance(x, Value) else _sigmoid(x)


def relu(x: Any) -> Any:
    """max(x, 0)."""
    return _apply(ReLU, x) if isinstance(x, Value) else _relu(x)


def softplus(x: Any) -> Any:
    """ln(1 + e^x); its derivative is σ(x)."""
    return _apply(Softplus, x) if isinstance(x, Value) else _softplus(x)


def power(a: Any, b: Any) -> Any:
    """a^b."""
    if isinstance(b, Value):
        return _apply(PowVariable, a, b)
    if isinstance(a, Value):
        return _apply(PowConstant, a, b)
    return _power(a, b)


def divide(a: Any, b: Any) -> Any:
    """a / b (±inf where b is 0)."""
    if isinstance(a, Value) or isinstance(b, Value):
        return _apply(Div, a, b)
    return _divide(a, b)


def reshape(x: Any, shape: tuple[int, ...]) -> Any:
    """x with a new shape."""
    if isinstance(x, Value):
        return Reshape.apply(x, shape)
    return x if type(x) is float and shape == () else np.reshape(x, shape)


def transpose(x: Any, axes: tuple[int, ...] | None = None) -> Any:
    """x with its axes permuted (reversed when axes is None)."""
    return Transpose.apply(x, axes) if isinstance(x, Value) else np.transpose(x, axes)


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    """x repeated along new or length-1 axes to fill `shape`."""
    return BroadcastTo.apply(x, shape) if isinstance(x, Value) else _broadcast(x, shape)


def cast(x: Any, dtype: Any) -> Any:
    """x as float64 or float32."""
    return Cast.apply(x, dtype) if isinstance(x, Value) else _cast(x, dtype)


def scatter(g: Any, shape: tuple[int, ...], index: Any) -> Any:
    """Zeros of `shape` with g added at `index`; repeated indices add up."""
    return Scatter.apply(g, shape, index) if isinstance(g, Value) else _scatter(g, shape, index)


def take(g: Any, index: Any) -> Any:
    """g[index], for raw data or a Value."""
    return GetItem.apply(g, index) if isinstance(g, Value) else g[index]


# ---------------------------------------------------------------------------
# Elementwise primitives, each beneath its raw forward.
# ---------------------------------------------------------------------------


class Add(Primitive):
    """a + b; ∂/∂a = 1, ∂/∂b = 1."""

    symbol = "+"
    # A C function, as for Mul: no Python frame per recorded op (W1: −2.5% instructions).
    forward = staticmethod(operator.add)
    grads = (
        lambda g, out, a, b: g,
        lambda g, out, a, b: g,
    )


def grad_of_product(g: Any, other: Any, this: Any) -> Any:
    """g · other: the gradient of a product for its factor `this`, summed to a number when
    `this` is a scalar spread over arrays (one pass, no temporary array)."""
    arrays = type(g) is np.ndarray and type(other) is np.ndarray
    if type(this) is float and arrays and g.shape == other.shape:
        if g.size == 1:  # Python multiplies two numbers faster than numpy calls vdot
            return g.item() * other.item()
        if g.ndim == 1:
            return float(g.dot(other))  # the method skips np.vdot's Python dispatch
        return float(np.vdot(g, other))
    return g * other


class Mul(Primitive):
    """a · b; ∂/∂a = b, ∂/∂b = a."""

    symbol = "×"
    forward = staticmethod(operator.mul)
    # Two floats are multiplied here, without the call: 8% of the scalar demo's step (W1).
    grads = (
        lambda g, out, a, b: g * b if type(b) is float else grad_of_product(g, b, a),
        lambda g, out, a, b: g * a if type(a) is float else grad_of_product(g, a, b),
    )


def _divide(a: Data, b: Data) -> Data:
    if type(a) is float and type(b) is float and b != 0.0:
        return a / b
    return quietly(np.divide, a, b)


class Div(Primitive):
    """a / b, exact to the bit; ∂/∂a = 1/b, ∂/∂b = −a/b² = −(a/b)/b."""

    symbol = "/"
    forward = staticmethod(_divide)
    grads = (
        lambda g, out, a, b: divide(g, b),
        lambda g, out, a, b: -divide(g * out, b),
    )


def _power(a: Data, b: Data) -> Data:
    if type(a) is float and type(b) is float:
        try:
            return math.pow(a, b)
        except (ValueError, OverflowError, ZeroDivisionError):
            pass
    with np.errstate(all="ignore"):
        return np.power(a, b)


def _both_zero(a: Any, b: Any) -> Data:
    """1 where a = 0 and b = 0, else 0: only there b·a^(b−1) is 0·∞, and a^b = 1 stands in.

    Anywhere else the exponent stays b − 1, so the derivative of b·a^(b−1) in b is right.
    """
    ra, rb = _raw(a), _raw(b)
    if type(ra) is float and type(rb) is float:
        return 1.0 if ra == 0.0 and rb == 0.0 else 0.0
    both = np.equal(ra, 0) & np.equal(rb, 0)
    return both.astype(np.result_type(ra, rb, np.float32))


def _lowered(c: Data) -> Data:
    """c − 1, except 0 where c = 0: there c·a^(c−1) is 0 for every a (0, ±inf too), as in torch."""
    if type(c) is float:
        return c - 1.0 if c != 0.0 else 0.0
    return np.where(c == 0, 0.0, c - 1.0)


class PowConstant(Primitive):
    """a^c for a constant exponent c; ∂/∂a = c·a^(c−1) (0 where c = 0)."""

    symbol = "x^c"
    forward = staticmethod(_power)
    grads = (lambda g, out, a, c: g * (c * power(a, _lowered(c))),)


def _log_base(a: Any, b: Any) -> Any:
    """ln a, but 0 where a = 0 and b ≥ 0: there a^b·ln a → 0, as in torch (b < 0 gives ±inf)."""
    ra, rb = _raw(a), _raw(b)
    if type(ra) is float and type(rb) is float:
        return log(a + 1.0) if ra == 0.0 and rb >= 0.0 else log(a)
    zero = np.equal(ra, 0.0) & np.greater_equal(rb, 0.0)
    if not zero.any():
        return log(a)
    return log(a + zero.astype(np.result_type(ra)))  # ln 1 = 0 there


class PowVariable(Primitive):
    """a^b, the exponent a Value too; ∂/∂a = b·a^(b−1) (0 where b = 0), ∂/∂b = a^b · ln a.

    ln a is taken as 0 where a = 0 ≤ b, as in torch.
    """

    symbol = "xʸ"
    forward = staticmethod(_power)
    grads = (
        lambda g, out, a, b: g * (b * power(a, b - 1.0 + _both_zero(a, b))),
        lambda g, out, a, b: g * (out * _log_base(a, b)),
    )


# The names of an earlier release, kept for one more.
PowerOf = PowConstant
Pow = PowVariable


def _exp(x: Data) -> Data:
    if type(x) is float:
        try:
            return math.exp(x)
        except OverflowError:
            return math.inf
    return quietly(np.exp, x)


class Exp(Primitive):
    """e^a; ∂/∂a = e^a."""

    symbol = "exp"
    forward = staticmethod(_exp)
    grads = (lambda g, out, a: g * out,)


def _log(x: Data) -> Data:
    if type(x) is float:
        if x > 0.0:
            return math.log(x)
        return -math.inf if x == 0.0 else math.nan
    return quietly(np.log, x)


class Log(Primitive):
    """ln a; ∂/∂a = 1/a."""

    symbol = "ln"
    forward = staticmethod(_log)
    grads = (lambda g, out, a: divide(g, a),)


def _tanh(x: Data) -> Data:
    return math.tanh(x) if type(x) is float else np.tanh(x)


def _scaled(g: Any, slope: Any) -> Any:
    """g · slope, reusing `slope`'s fresh array: on this path a new array costs more than a pass."""
    if type(slope) is np.ndarray and type(g) is np.ndarray and slope.shape == g.shape:
        return np.multiply(slope, g, slope) if slope.size > 1 else slope * g  # see _sigmoid
    return g * slope


class Tanh(Primitive):
    """tanh a; ∂/∂a = 1 − tanh² a."""

    symbol = "tanh"
    forward = staticmethod(_tanh)
    grads = (lambda g, out, a: _scaled(g, 1.0 - out * out),)


def _sigmoid(x: Data) -> Data:
    if type(x) is float:
        if x >= 0.0:
            return 1.0 / (1.0 + math.exp(-x))
        e = math.exp(x)
        return e / (1.0 + e)
    # 1/(1+e^-x) is accurate for every x. Below about -88 (float32) or -709 (float64) e^-x
    # overflows to inf and σ rightly to 0, and numpy is told not to warn of that.
    t = np.negative(x)
    if type(t) is not np.ndarray or t.size <= 1:
        # A float32 scalar, or one element: numpy's `out=` costs more than a fresh array there.
        # e^t overflows past 80 or so (float32) and underflows below -80: both are answers
        big = t.size and abs(t.item()) > 80.0
        return 1.0 / (1.0 + (quietly(np.exp, t) if big else np.exp(t)))
    quietly(np.exp, t, t)  # costs less than looking for the large elements first
    np.add(t, 1.0, t)
    return np.reciprocal(t, t)


class Sigmoid(Primitive):
    """σ(a) = 1 / (1 + e^-a); ∂/∂a = σ(a)(1 − σ(a))."""

    symbol = "σ"
    forward = staticmethod(_sigmoid)
    grads = (lambda g, out, a: _scaled(g, out * (1.0 - out)),)


def _relu(x: Data) -> Data:
    if type(x) is float:
        return 0.0 if x <= 0.0 else x  # nan stays nan, as in np.maximum
    return np.maximum(x, 0.0)


def _step(x: Any) -> Data:
    """1 where x > 0, else 0: relu's slope, a constant even when x is a Value."""
    x = _raw(x)
    if type(x) is float:
        return 1.0 if x > 0.0 else 0.0
    return (x > 0).astype(x.dtype)


class ReLU(Primitive):
    """max(a, 0); ∂/∂a = 1 where a > 0, else 0."""

    symbol = "ReLU"
    forward = staticmethod(_relu)
    grads = (lambda g, out, a: g * _step(a),)


def _softplus(x: Data) -> Data:
    if type(x) is float:
        return max(x, 0.0) + math.log1p(math.exp(-abs(x)))
    return np.maximum(x, 0.0) + np.log1p(quietly(np.exp, -np.abs(x)))  # e^−|x| may underflow


class Softplus(Primitive):
    """ln(1 + e^a), as max(a, 0) + ln(1 + e^−|a|); ∂/∂a = σ(a)."""

    symbol = "softplus"
    forward = staticmethod(_softplus)
    grads = (lambda g, out, a: g * sigmoid(a),)


# ---------------------------------------------------------------------------
# Shape primitives.
# ---------------------------------------------------------------------------


def _kept_shape(shape: tuple[int, ...], axis: Any) -> tuple[int, ...]:
    """The shape of a sum over `axis` with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in ((axis,) if isinstance(axis, int) else axis)}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _sum(a: Data, axis: Any, keepdims: bool) -> Data:
    if type(a) is float and axis is None:
        return a
    if type(a) is np.ndarray:
        # np.sum without its Python layer; a float64 total as the float the engine keeps
        if keepdims:
            return np.add.reduce(a, axis, keepdims=True)
        if axis is None and a.dtype == np.float64:
            return float(np.add.reduce(a, None))
        return np.add.reduce(a, axis)
    return np.sum(a, axis=axis, keepdims=keepdims)


def _spread(g: Any, a: Any, axis: Any) -> Any:
    """g spread back over the axes a was summed over: Sum's vjp."""
    if axis is None and type(g) is not Value and type(a) is np.ndarray:
        return np.full(a.shape, g, dtype=np.result_type(g))  # one call instead of three
    return broadcast_to(reshape(g, _kept_shape(_shape(a), axis)), _shape(a))


class Sum(Primitive):
    """Σ a over `axis`; ∂/∂a = 1 everywhere, so g is spread back over the summed axes."""

    symbol = "Σ"
    forward = staticmethod(_sum)
    grads = (lambda g, out, a, axis, keepdims: _spread(g, a, axis),)


def _broadcast(x: Data, shape: tuple[int, ...]) -> Data:
    if shape_of(x) == shape:
        return x
    return np.array(np.broadcast_to(x, shape))  # a writable copy, never a view


class BroadcastTo(Primitive):
    """a repeated to `shape`; the engine sums g back to a's shape."""

    symbol = "broadcast"
    forward = staticmethod(_broadcast)
    grads = (lambda g, out, a, shape: g,)


class Reshape(Primitive):
    """a with a new shape; g is reshaped back."""

    symbol = "reshape"
    forward = staticmethod(lambda a, shape: np.reshape(a, shape))
    grads = (lambda g, out, a, shape: reshape(g, _shape(a)),)


def _cast(a: Data, dtype: Any) -> Data:
    dtype = np.dtype(dtype)
    if dtype not in (np.float64, np.float32):
        raise TypeError(f"a Value holds float64 or float32, not {dtype}")
    if shape_of(a) == ():
        return float(a) if dtype == np.float64 else np.float32(a)
    return np.asarray(a, dtype=dtype)


class Cast(Primitive):
    """a converted to float64 or float32; g is converted back to a's dtype."""

    symbol = "Cast"
    forward = staticmethod(_cast)
    grads = (lambda g, out, a, dtype: cast(g, np.result_type(_raw(a))),)


def _inverse(axes: tuple[int, ...] | None, ndim: int) -> tuple[int, ...] | None:
    """The permutation that undoes `axes` (negative axes count from the end)."""
    return None if axes is None else tuple(int(i) for i in np.argsort([a % ndim for a in axes]))


class Transpose(Primitive):
    """a with axes permuted; g is permuted back."""

    symbol = "ᵀ"
    forward = staticmethod(lambda a, axes: np.transpose(a, axes))
    grads = (lambda g, out, a, axes: transpose(g, _inverse(axes, len(_shape(a)))),)


def _check_index(index: Any) -> None:
    parts = index if isinstance(index, tuple) else (index,)
    for p in parts:
        if isinstance(p, Value):
            raise TypeError("index a Value with ints, slices or integer arrays, not with a Value")


def _getitem(a: Data, index: Any) -> Data:
    if type(a) is float:
        raise IndexError("a scalar Value cannot be indexed")
    _check_index(index)
    out = a[index]
    return out.copy() if isinstance(out, np.ndarray) else out


class GetItem(Primitive):
    """a[index]; g is added back into zeros at the same places."""

    symbol = "[]"
    forward = staticmethod(_getitem)
    grads = (lambda g, out, a, index: scatter(g, _shape(a), index),)


def _scatter(g: Data, shape: tuple[int, ...], index: Any) -> Data:
    out = np.zeros(shape, dtype=np.result_type(g))
    np.add.at(out, index, g)  # repeated indices add up
    return out


class Scatter(Primitive):
    """Zeros of `shape` with g added at `index` (the backward of indexing)."""

    symbol = "scatter"
    forward = staticmethod(_scatter)
    grads = (lambda g, out, a, shape, index: take(g, index),)


# ---------------------------------------------------------------------------
# Matrix product.
# ---------------------------------------------------------------------------


def _swap(x: Any) -> Any:
    """x with its last two axes swapped."""
    if type(x) is np.ndarray and x.ndim == 2:
        return x.T  # the attribute: np.transpose's Python layer costs more than the view
    n = len(_shape(x))
    return transpose(x, (*range(n - 2), n - 1, n - 2))


def _matmul_grad_a(g: Any, out: Any, a: Any, b: Any) -> Any:
    """∂/∂a of a @ b: g @ bᵀ, with 1-D operands treated as a row (a) or a column (b)."""
    sa, sb = _shape(a), _shape(b)
    if len(sa) == 1 and len(sb) == 1:
        return g * b
    if len(sb) == 1:  # (…, m, n) @ (n,) → (…, m): ∂a = g[…, :, None] · b
        return reshape(g, (*_shape(g), 1)) * b
    if len(sa) == 1:  # (n,) @ (…, n, k) → (…, k): ∂a = (g[…, None, :] @ bᵀ) summed
        gs = _shape(g)
        row = reshape(g, (*gs[:-1], 1, gs[-1])) @ _swap(b)
        return reshape(row, (*gs[:-1], sa[0]))
    return g @ _swap(b)


def _matmul_grad_b(g: Any, out: Any, a: Any, b: Any) -> Any:
    """∂/∂b of a @ b: aᵀ @ g, with 1-D operands treated as a row (a) or a column (b)."""
    sa, sb = _shape(a), _shape(b)
    if len(sa) == 1 and len(sb) == 1:
        return g * a
    if len(sa) == 1:  # (n,) @ (…, n, k): ∂b = a[:, None] · g[…, None, :]
        gs = _shape(g)
        return reshape(a, (sa[0], 1)) * reshape(g, (*gs[:-1], 1, gs[-1]))
    if len(sb) == 1:  # (…, m, n) @ (n,): ∂b = Σ aᵀ @ g[…, :, None]
        gs = _shape(g)
        col = _swap(a) @ reshape(g, (*gs, 1))
        return reshape(col, (*col.shape[:-1],))
    return _swap(a) @ g


def _matmul(a: Data, b: Data) -> Data:
    if type(a) is float or type(b) is float or not a.ndim or not b.ndim:
        raise ValueError("@ needs operands with at least one dimension; use * for scalars")
    return np.matmul(a, b)


class MatMul(Primitive):
    """a @ b (numpy's matmul); ∂/∂a = g @ bᵀ, ∂/∂b = aᵀ @ g."""

    symbol = "@"
    forward = staticmethod(_matmul)
    grads = (_matmul_grad_a, _matmul_grad_b)


# ---------------------------------------------------------------------------
# For more than two classes: reductions by max and log-sum-exp, masks, and joining arrays.
# Max, LogSumExp, Abs, Clip and Where are primitives; softmax, log_softmax, min, sqrt,
# concatenate and stack are compositions of them and of the primitives above.
# ---------------------------------------------------------------------------


def _factor(mask: Any, like: Any) -> Data:
    """A boolean mask as 1.0 and 0.0 in the dtype of `like` (a float for one float64 number)."""
    dtype = np.result_type(_raw(like))
    m = np.asarray(mask).astype(dtype)
    return float(m) if m.ndim == 0 and dtype == np.float64 else m


def _amax(a: Data, axis: Any, keepdims: bool) -> Data:
    if type(a) is float and axis is None:
        return a
    return np.max(a, axis=axis, keepdims=keepdims)


def _max_grad(g: Any, out: Any, a: Any, axis: Any, keepdims: bool) -> Any:
    """g shared evenly by the elements equal to the max, as torch's amax shares it at ties."""
    x, shape = _raw(a), _shape(a)
    if shape == ():
        return g
    kept = _kept_shape(shape, axis)
    hits = x == np.reshape(_raw(out), kept)
    share = hits / np.sum(hits, axis=axis, keepdims=True)
    return broadcast_to(reshape(g, kept), shape) * _factor(share, x)


class Max(Primitive):
    """max of a over `axis`; ∂/∂a = 1/k at each of the k elements equal to the max, else 0."""

    symbol = "max"
    forward = staticmethod(_amax)
    grads = (_max_grad,)


def _logsumexp(a: Data, axis: Any, keepdims: bool) -> Data:
    if type(a) is float and axis is None:
        return a
    top = np.max(a, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)  # all −inf (or an inf) along the axis: shift by 0
    total = np.sum(quietly(np.exp, a - top), axis=axis, keepdims=True)
    out = quietly(np.log, total) + top
    return out if keepdims else np.squeeze(out, axis=axis)


class LogSumExp(Primitive):
    """ln Σ e^a over `axis`, shifted by the max so ±1000 neither overflows nor underflows.

    ∂/∂a = softmax(a) along the axis.
    """

    symbol = "logsumexp"
    forward = staticmethod(_logsumexp)
    grads = (
        lambda g, out, a, axis, keepdims: (
            broadcast_to(reshape(g, _kept_shape(_shape(a), axis)), _shape(a)) * softmax(a, axis)
        ),
    )


def _shift(x: Any, axis: Any) -> Data:
    """The max of x's data along `axis` (0 where it is not finite), as a constant.

    softmax(x) = e^(x − c) / Σ e^(x − c) for every constant c, so shifting by a c that is not
    differentiated changes no derivative of any order, and c = max keeps e^(x − c) ≤ 1.
    """
    top = np.max(_raw(x), axis=axis, keepdims=True)
    return np.where(np.isfinite(top), top, 0.0)


def _sum_kept(x: Any, axis: Any) -> Any:
    return Sum.apply(x, axis, True) if isinstance(x, Value) else np.sum(x, axis=axis, keepdims=True)


def _abs(a: Data) -> Data:
    return abs(a) if type(a) is float else np.abs(a)


def _sign(a: Any) -> Data:
    """−1, 0 or 1: |a|'s slope, 0 at 0 as in torch; a constant even when a is a Value."""
    x = _raw(a)
    if type(x) is float:
        return 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0
    return np.sign(x)


class Abs(Primitive):
    """|a|; ∂/∂a = sign(a) (0 at 0, as torch takes it)."""

    symbol = "|x|"
    forward = staticmethod(_abs)
    grads = (lambda g, out, a: g * _sign(a),)


def _clip(a: Data, low: float | None, high: float | None) -> Data:
    if type(a) is float:
        return min(max(a, -math.inf if low is None else low), math.inf if high is None else high)
    return np.clip(a, low, high)


def _inside(a: Any, low: float | None, high: float | None) -> Data:
    """1 where low ≤ a ≤ high (bounds included, as torch's clamp), else 0."""
    x = _raw(a)
    mask = np.ones(np.shape(x), dtype=bool)
    if low is not None:
        mask &= np.asarray(x) >= low
    if high is not None:
        mask &= np.asarray(x) <= high
    return _factor(mask, x)


class Clip(Primitive):
    """a limited to [low, high]; ∂/∂a = 1 where low ≤ a ≤ high, else 0."""

    symbol = "clip"
    forward = staticmethod(_clip)
    grads = (lambda g, out, a, low, high: g * _inside(a, low, high),)


class Where(Primitive):
    """a where cond holds, else b; ∂/∂a = cond, ∂/∂b = not cond (each summed to its shape)."""

    symbol = "where"
    forward = staticmethod(lambda a, b, cond: np.where(cond, a, b))
    grads = (
        lambda g, out, a, b, cond: g * _factor(cond, g),
        lambda g, out, a, b, cond: g * _factor(~cond, g),
    )


def amax(x: Any, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Any:
    """max over `axis` (all axes by default); the gradient is shared evenly at ties."""
    return Max.apply(x, axis, keepdims) if isinstance(x, Value) else _amax(x, axis, keepdims)


def amin(x: Any, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Any:
    """min over `axis` = −max(−x); the gradient is shared evenly at ties."""
    return -amax(-x, axis, keepdims)


def logsumexp(x: Any, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Any:
    """ln Σ e^x over `axis` (all axes by default), exact for x of any size (±1000 included)."""
    if isinstance(x, Value):
        return LogSumExp.apply(x, axis, keepdims)
    return _normalise(_logsumexp(x, axis, keepdims))


def softmax(x: Any, axis: int | tuple[int, ...] | None = -1) -> Any:
    """softmax(x)ᵢ = e^xᵢ / Σⱼ e^xⱼ along `axis`, as e^(x − c) / Σ e^(x − c) with c = max x."""
    e = exp(x - _shift(x, axis))
    return divide(e, _sum_kept(e, axis))  # quiet for raw data too: nan and inf are answers


def log_softmax(x: Any, axis: int | tuple[int, ...] | None = -1) -> Any:
    """ln softmax(x) = (x − c) − ln Σ e^(x − c) along `axis`, with c = max x."""
    shifted = x - _shift(x, axis)
    return shifted - log(_sum_kept(exp(shifted), axis))


def absolute(x: Any) -> Any:
    """|x|; its derivative is sign(x), taken as 0 at 0."""
    return _apply(Abs, x) if isinstance(x, Value) else _abs(x)


def sqrt(x: Any) -> Any:
    """√x = x^0.5; ∂/∂x = 1 / (2√x)."""
    return power(x, 0.5) if isinstance(x, Value) else _power(x, 0.5)


def clip(x: Any, low: float | None = None, high: float | None = None) -> Any:
    """x limited to [low, high] (either may be None); the gradient is 1 inside, 0 outside."""
    if low is not None and high is not None and low > high:
        raise ValueError(f"clip needs low ≤ high, got low={low}, high={high}")
    return Clip.apply(x, low, high) if isinstance(x, Value) else _clip(x, low, high)


def where(cond: Any, a: Any, b: Any) -> Any:
    """a where cond is True, else b (numpy's broadcasting); cond is a boolean array or bool."""
    mask = np.asarray(_raw(cond))
    if mask.dtype != np.bool_:
        raise TypeError(f"where needs a boolean condition, got dtype {mask.dtype}")
    if isinstance(a, Value) or isinstance(b, Value):
        return Where.apply(a, b, mask)
    return _normalise(np.where(mask, a, b))


def concatenate(xs: Sequence[Any], axis: int = 0) -> Any:
    """The arrays joined along an existing `axis`; each one's gradient is its slice of g.

    A composition: each piece is scattered into zeros of the result's shape, and they add up.
    """
    xs = list(xs)
    if not xs:
        raise ValueError("concatenate needs at least one array")
    shapes = [_shape(x) for x in xs]
    try:
        shape = np.concatenate([np.empty(s) for s in shapes], axis=axis).shape
    except (ValueError, np.exceptions.AxisError) as e:
        raise ValueError(f"concatenate of shapes {', '.join(map(str, shapes))}: {e}") from None
    if not any(isinstance(x, Value) for x in xs):
        return np.concatenate([np.asarray(x) for x in xs], axis=axis)
    ax = axis % len(shape)
    total: Any = None
    start = 0
    for x, s in zip(xs, shapes, strict=True):
        index = (*(slice(None),) * ax, slice(start, start + s[ax]))
        piece = scatter(x if isinstance(x, Value) else as_data(x), shape, index)
        total = piece if total is None else total + piece
        start += s[ax]
    return total


def stack(xs: Sequence[Any], axis: int = 0) -> Any:
    """The arrays, all of one shape, joined along a new `axis`: concatenate of reshaped copies."""
    xs = list(xs)
    shapes = {_shape(x) for x in xs}
    if len(shapes) > 1:
        listed = ", ".join(str(_shape(x)) for x in xs)
        raise ValueError(f"stack needs arrays of one shape, got {listed}")
    if not xs:
        raise ValueError("stack needs at least one array")
    (shape,) = shapes
    ax = axis % (len(shape) + 1) if -len(shape) - 1 <= axis <= len(shape) else None
    if ax is None:
        raise ValueError(f"stack: axis {axis} is out of bounds for {len(shape) + 1} dimensions")
    grown = (*shape[:ax], 1, *shape[ax:])
    return concatenate([reshape(x, grown) for x in xs], axis=ax)
