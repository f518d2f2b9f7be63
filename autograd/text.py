"""Short text for numbers, data and operations, shared by the drawings and `explain()`."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import ops
from autograd.value import Value


def fmt(x: Any, precision: int = 4) -> str:
    """A number in `precision` significant digits: 0.5, -1.25, 3.142e+05, nan, inf."""
    return f"{float(x):.{precision}g}"


def summary(data: Any, precision: int = 4) -> str:
    """Short text for data: a scalar's number; a tensor's few entries, or its mean, min and max."""
    if isinstance(data, Value):
        data = data.data
    arr = np.asarray(data)
    if arr.ndim == 0:
        return fmt(arr, precision)
    if arr.size == 0:
        return "empty"
    if arr.size <= 4:
        text = np.array2string(
            arr,
            separator=", ",
            formatter={"float_kind": lambda v: fmt(v, precision)},
            max_line_width=10**6,
        )
        return " ".join(text.split())
    with np.errstate(all="ignore"):
        m, lo, hi = np.mean(arr), np.min(arr), np.max(arr)
    return f"mean {fmt(m, precision)} · min {fmt(lo, precision)} · max {fmt(hi, precision)}"


def _index_text(index: Any) -> str:
    parts = index if isinstance(index, tuple) else (index,)
    out = []
    for p in parts:
        if isinstance(p, slice):
            ends = (p.start, p.stop) if p.step is None else (p.start, p.stop, p.step)
            out.append(":".join("" if v is None else str(v) for v in ends))
        elif p is Ellipsis:
            out.append("…")
        elif isinstance(p, np.ndarray | list):
            out.append("[…]" if np.size(p) > 4 else str(np.asarray(p).tolist()))
        else:
            out.append(str(p))
    return ", ".join(out)


_POWERS = {2.0: "x²", 3.0: "x³", -1.0: "1/x", 0.5: "√x", -2.0: "1/x²"}

_SYMBOLS: dict[Any, str] = {
    ops.Add: "+",
    ops.Mul: "×",
    ops.Pow: "xʸ",
    ops.Exp: "exp",
    ops.Log: "ln",
    ops.Tanh: "tanh",
    ops.Sigmoid: "σ",
    ops.ReLU: "ReLU",
    ops.Softplus: "softplus",
    ops.MatMul: "@",
    ops.Scatter: "scatter",
}


def op_symbol(node: Value) -> str:
    """The short label of the operation that made `node`: +, ×, σ, x², Σ, @, … or its class name."""
    op = node.op
    if op is None:
        return ""
    args = node.inputs[len(op.grads) :]
    if op is ops.PowerOf:
        c = args[0]
        if isinstance(c, float | int) and float(c) in _POWERS:
            return _POWERS[float(c)]
        return f"x^{summary(c)}"
    if op is ops.Sum:
        axis = args[0]
        return "Σ" if axis is None else f"Σ axis={axis}"
    if op is ops.Reshape:
        return f"reshape {tuple(args[0])}"
    if op is ops.BroadcastTo:
        return f"broadcast {tuple(args[0])}"
    if op is ops.Transpose:
        return "ᵀ" if args[0] is None else f"transpose {tuple(args[0])}"
    if op is ops.GetItem:
        return f"[{_index_text(args[0])}]"
    return _SYMBOLS.get(op, op.__name__)
