"""Short text for numbers, data and operations, shared by the drawings and `explain()`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from autograd.graph import is_node

if TYPE_CHECKING:
    from autograd.value import Value


def fmt(x: Any, precision: int = 4) -> str:
    """A number in `precision` significant digits: 0.5, -1.25, 3.142e+05, nan, inf."""
    return f"{float(x):.{precision}g}"


def summary(data: Any, precision: int = 4) -> str:
    """Short text for data: a scalar's number; a tensor's few entries, or its mean, min and max."""
    if is_node(data):
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


def _power(c: Any) -> str:
    if isinstance(c, float | int) and float(c) in _POWERS:
        return _POWERS[float(c)]
    return f"x^{summary(c)}"


_POWERS = {2.0: "x²", 3.0: "x³", -1.0: "1/x", 0.5: "√x", -2.0: "1/x²"}

# How the ops whose first non-differentiable argument belongs in the label write it,
# keyed by their symbol.
_WITH_ARGUMENT: dict[str, Callable[[Any], str]] = {
    "x^c": _power,
    "Σ": lambda axis: "Σ" if axis is None else f"Σ axis={axis}",
    "reshape": lambda shape: f"reshape {tuple(shape)}",
    "broadcast": lambda shape: f"broadcast {tuple(shape)}",
    "ᵀ": lambda axes: "ᵀ" if axes is None else f"transpose {tuple(axes)}",
    "[]": lambda index: f"[{_index_text(index)}]",
}


def op_symbol(node: Value) -> str:
    """The short label of the operation that made `node`: its op's `symbol`, with its argument.

    x² for x**2, "Σ axis=1", "reshape (3, 2)", "[0, 1:]"; "" for a leaf.
    """
    op = node.op
    if op is None:
        return ""
    args = node.inputs[len(op.grads) :]
    write = _WITH_ARGUMENT.get(op.symbol)
    return op.symbol if write is None or not args else write(args[0])
