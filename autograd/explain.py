"""Explaining gradients: the chain rule along every path, and a check of each local derivative.

`explain(L, w)` lists the paths from L back to w; each path is a chain of local
derivatives ∂node/∂input (taken from the primitives' vjps with g = 1), its
product is that path's share of ∂L/∂w, and the products add up to ∂L/∂w:

    dL/dw11 = dL/dz · dz/da1 · da1/dz1 · dz1/dw11

`find_wrong_gradients(L)` checks every node's vjps against central differences
of its own forward, in float64, and returns the nodes whose local derivative
is wrong; `draw(L, highlight=...)` marks them in red.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd.draw import fmt, op_symbol
from autograd.graph import topological_order, unbroadcast
from autograd.value import Value

# ---------------------------------------------------------------------------
# Paths and their factors.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Factor:
    """One link of a chain: ∂output/∂input, its symbol (like "dŷ/dz") and its value.

    `ops` are the operations passed through: one for a single edge of the graph,
    several when the printed chain skips unnamed intermediate nodes.
    """

    output: Value
    input: Value
    ops: tuple[str, ...]
    value: float
    symbol: str


@dataclass(frozen=True)
class Path:
    """One path from the output back to `wrt`: its local derivatives, one per edge, output first."""

    factors: tuple[Factor, ...]
    steps: tuple[Factor, ...]  # the same chain as printed: runs through unnamed nodes merged

    @property
    def product(self) -> float:
        """∏ of the local derivatives along the path (1 for the empty path from wrt to itself)."""
        p = 1.0
        for f in self.factors:
            p *= f.value
        return p

    @property
    def nodes(self) -> list[Value]:
        """The Values along the path, from the output to `wrt`."""
        if not self.factors:
            return []
        return [self.factors[0].output, *(f.input for f in self.factors)]


class Explanation:
    """∂output/∂wrt by the chain rule: `.paths` (up to `max_paths`), `.n_paths`, `.total`.

    `.total` is Σ over all paths of their products, which is what backward puts
    in `wrt.grad` (for a leaf, after a fresh backward). `str()` writes it out the
    way a learner does, with the numbers under the symbols.
    """

    def __init__(
        self,
        output: Value,
        wrt: Value,
        paths: list[Path],
        n_paths: int,
        total: float,
        symbols: dict[Value, str],
        defined: dict[str, str],
    ):
        self.output = output
        self.wrt = wrt
        self.paths = paths
        self.n_paths = n_paths
        self.total = total
        self.omitted = n_paths - len(paths)
        self._symbols = symbols
        self._defined = defined

    @property
    def lhs(self) -> str:
        """The derivative explained, as "dL/dw11"."""
        return f"d{self._symbols[self.output]}/d{self._symbols[self.wrt]}"

    def __repr__(self) -> str:
        paths = f"{_count(self.n_paths)} path{'' if self.n_paths == 1 else 's'}"
        return f"<Explanation {self.lhs} = {fmt(self.total)} over {paths}>"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    def __str__(self) -> str:
        lhs = self.lhs
        out, wrt = self._symbols[self.output], self._symbols[self.wrt]
        if self.n_paths == 0:
            return f"{lhs} = 0: {out} does not depend on {wrt}"
        if self.output is self.wrt:
            return f"{lhs} = 1"
        lines: list[str] = []
        shown: list[Value] = []
        if not self.paths:
            paths = _count(self.n_paths)
            return f"{lhs} = {fmt(self.total)}, the sum over {paths} paths (none listed)"
        if self.n_paths == 1 and len(self.paths[0].steps) == 1:
            lines.append(f"{lhs} = {fmt(self.total)}")  # one link: nothing to multiply
        elif self.n_paths == 1:
            top, numbers = _columns(self.paths[0].steps, shown)
            pad = " " * _width(lhs)
            lines += [f"{lhs} = {top}", f"{pad} = {numbers}", f"{pad} = {fmt(self.total)}"]
        else:
            lines.append(f"{lhs} = Σ over {_count(self.n_paths)} paths from {out} back to {wrt}:")
            for i, path in enumerate(self.paths):
                top, numbers = _columns(path.steps, shown)
                lines.append(f"{'  ' if i == 0 else '+ '}{top}")
                width = max(_width(top), _width(numbers))
                lines.append(f"  {numbers}{' ' * (width - _width(numbers))} = {fmt(path.product)}")
            terms = [fmt(p.product) for p in self.paths]
            if self.omitted:
                rest = self.total - sum(p.product for p in self.paths)
                lines.append(
                    f"+ {_count(self.omitted)} more path{'' if self.omitted == 1 else 's'} "
                    f"not listed (max_paths={len(self.paths)}), adding {fmt(rest)}"
                )
                terms.append(fmt(rest))
            if len(terms) > 8:
                terms = [*terms[:4], "…", terms[-1]]
            lines.append(f"{lhs} = {' + '.join(terms)} = {fmt(self.total)}")
        names = {self._symbols[v] for v in shown}
        where = [f"{k} = {v}" for k, v in self._defined.items() if k in names]
        if len(where) > 10:
            where = [*where[:10], "…"]
        if where:
            lines.append("where " + ", ".join(where))
        return "\n".join(lines)


def _count(n: int) -> str:
    if n < 10**15:
        return f"{n:,}"
    e = math.floor(math.log10(n))
    return f"about {10 ** (math.log10(n) - e):.2f}e{e}"


def _width(text: str) -> int:
    """Columns the text takes: combining marks (the hat of ŷ) take none."""
    return sum(0 if unicodedata.combining(c) else 1 for c in text)


def _columns(steps: Sequence[Factor], shown: list[Value]) -> tuple[str, str]:
    """The symbols joined by " · ", and under each its number, padded to line up.

    The nodes whose symbols appear are added to `shown`.
    """
    if len(steps) > 12:  # a long chain shows its two ends and the product of its middle
        middle = steps[6:-5]
        value = 1.0
        for f in middle:
            value *= f.value
        gap = Factor(middle[0].output, middle[-1].input, (), value, f"…{len(middle)} more factors…")
        steps = [*steps[:6], gap, *steps[-5:]]
    tops, bottoms = [], []
    for f in steps:
        if f.ops:
            shown += (f.output, f.input)
        a, b = f.symbol, fmt(f.value)
        w = max(_width(a), _width(b))
        tops.append(a + " " * (w - _width(a)))
        bottoms.append(b + " " * (w - _width(b)))
    return " · ".join(tops).rstrip(), " · ".join(bottoms).rstrip()


# ---------------------------------------------------------------------------
# Names: ŷ for y_hat, u1, u2 … for unnamed nodes.
# ---------------------------------------------------------------------------


def pretty(name: str) -> str:
    """A name as a learner writes it: y_hat → ŷ, x1_hat → x̂1; on one line, at most 24 long."""
    name = " ".join(name.split())
    m = re.fullmatch(r"([A-Za-z])(\w*)_hat", name)
    if m:  # a combining circumflex; NFC makes ŷ one character where Unicode has one
        return unicodedata.normalize("NFC", f"{m.group(1)}\u0302") + m.group(2)
    return name if len(name) <= 24 else name[:23] + "…"


_EXPRESSIONS = {"+": "{0} + {1}", "×": "{0} · {1}", "@": "{0} @ {1}", "xʸ": "{0}^{1}"}


def _expression(node: Value, symbol: dict[Value, str]) -> str:
    """How node was made, in its inputs' symbols: "w11 · x1", "σ(z1)", "u1²"."""
    op = node.op
    n = len(op.grads)
    args = [symbol.get(p, fmt(p.data)) if isinstance(p, Value) else fmt(p) for p in node.inputs[:n]]
    name = op_symbol(node)
    if name in _EXPRESSIONS and len(args) == 2:
        return _EXPRESSIONS[name].format(*args)
    if "x" in name and len(args) == 1 and name.startswith(("x", "1/", "√")):
        return name.replace("x", args[0])
    return f"{name}({', '.join(args)})"


# ---------------------------------------------------------------------------
# explain
# ---------------------------------------------------------------------------


def _local(node: Value, slot: int) -> float:
    """∂node/∂(operand `slot`) for a scalar node: the vjp with g = 1."""
    datas = [p.data if isinstance(p, Value) else p for p in node.inputs]
    d = node.op.grads[slot](1.0, node.data, *datas)
    if isinstance(d, Value):
        d = d.data
    return float(d) if type(d) is float else float(np.sum(d))


def _find(output: Value, name: str, order: list[Value]) -> Value:
    found = [n for n in order if n.name == name]
    if len(found) != 1:
        how = "no" if not found else f"{len(found)}"
        raise ValueError(
            f"explain(): {how} nodes named {name!r} in the graph; pass the Value itself"
        )
    return found[0]


def explain(output: Value, wrt: Value | str, *, max_paths: int | None = 10) -> Explanation:
    """∂output/∂wrt as Σ over paths of ∏ local derivatives (the chain rule), for a graph of scalars.

    `wrt` is a Value, or the name of exactly one node of the graph. Paths are
    counted by dynamic programming and only the first `max_paths` (None: all)
    are listed. Tensor graphs are refused: use `autograd.gradients` for those.
    """
    if not isinstance(output, Value):
        raise TypeError(f"explain() takes a Value, got {type(output).__name__}")
    order = topological_order(output)
    if isinstance(wrt, str):
        wrt = _find(output, wrt, order)
    if not isinstance(wrt, Value):
        raise TypeError(f"wrt must be a Value or a name, got {type(wrt).__name__}")
    if output.shape:
        raise ValueError(
            f"explain() needs a scalar output, got shape {output.shape}; "
            "use autograd.gradients() for tensors"
        )
    if max_paths is not None and max_paths < 0:
        raise ValueError(f"max_paths must be at least 0 (or None for all), got {max_paths}")
    # count[n]: the number of paths from n back to wrt; relevant nodes have count > 0.
    count: dict[Value, int] = {wrt: 1}
    total: dict[Value, float] = {wrt: 1.0}
    edges: dict[Value, list[tuple[int, Value, float]]] = {}
    for node in order:
        if node is wrt or node._op is None:
            continue
        mine = []
        for slot, p in enumerate(node._prev[: len(node._op.grads)]):
            if type(p) is Value and p in count:
                mine.append((slot, p))
        if not mine:
            continue
        if node.shape or any(p.shape for _, p in mine) or wrt.shape:
            bad = next(v for v in (wrt, node, *(p for _, p in mine)) if v.shape)
            raise ValueError(
                f"explain() works on graphs of scalars, but a path passes through a Value "
                f"of shape {bad.shape}; use autograd.gradients() for tensors"
            )
        locals_ = [(slot, p, _local(node, slot)) for slot, p in mine]
        edges[node] = locals_
        count[node] = sum(count[p] for _, p, _ in locals_)
        total[node] = math.fsum(d * total[p] for _, p, d in locals_)
    n_paths = count.get(output, 0)
    raw = _enumerate(output, wrt, edges, n_paths if max_paths is None else max_paths)
    merge = any(p.name is not None for chain in raw for _, _, p, _ in chain[:-1])
    symbols, defined = _name(output, wrt, raw, merge)
    paths = [_path(chain, wrt, symbols, merge) for chain in raw]
    return Explanation(output, wrt, paths, n_paths, total.get(output, 0.0), symbols, defined)


def _enumerate(
    output: Value, wrt: Value, edges: dict[Value, list[tuple[int, Value, float]]], cap: int
) -> list[list[tuple[Value, int, Value, float]]]:
    """Up to `cap` paths output → wrt, depth first: lists of (node, slot, input, ∂node/∂input)."""
    if output is wrt:
        return [[]] if cap > 0 else []
    if output not in edges:
        return []
    found: list[list[tuple[Value, int, Value, float]]] = []
    chosen: list[tuple[Value, int, Value, float]] = []
    stack: list[list[Any]] = [[output, 0]]  # every relevant node leads to wrt: no dead ends
    while stack and len(found) < cap:
        frame = stack[-1]
        node, k = frame
        mine = edges[node]
        if k == len(mine):
            stack.pop()
            if chosen:
                chosen.pop()
            continue
        frame[1] = k + 1
        slot, p, d = mine[k]
        chosen.append((node, slot, p, d))
        if p is wrt:
            found.append(list(chosen))
            chosen.pop()
        else:
            stack.append([p, 0])
    return found


def _name(
    output: Value, wrt: Value, paths: list[list[tuple[Value, int, Value, float]]], merge: bool
) -> tuple[dict[Value, str], dict[str, str]]:
    """Symbols for the nodes on the listed paths, and definitions of the invented ones shown."""
    symbols: dict[Value, str] = {}
    taken: dict[str, int] = {}

    def give(node: Value, base: str) -> None:
        k = taken.get(base, 0) + 1
        taken[base] = k
        symbols[node] = base if k == 1 else f"{base}#{k}"

    nodes = [output, *(p for chain in paths for _, _, p, _ in chain), wrt]
    for node in nodes:
        if node not in symbols and node.name is not None:
            give(node, pretty(node.name))
    invented: list[Value] = []
    if output not in symbols:
        give(output, "f")
    if wrt not in symbols and wrt.op is None:
        give(wrt, "x")
    for node in nodes:
        if node not in symbols:
            invented.append(node)
            symbols[node] = f"u{len(invented)}"
    defined = {}
    for node in invented:
        if node.op is None:
            defined[symbols[node]] = f"a leaf with data {fmt(node.data)}"
        elif node is wrt or not merge:  # merged chains never show the other invented names
            defined[symbols[node]] = _expression(node, symbols)
    return symbols, defined


def _path(
    chain: list[tuple[Value, int, Value, float]], wrt: Value, symbols: dict[Value, str], merge: bool
) -> Path:
    """The path's factors, and the chain as printed: through unnamed nodes merged when `merge`."""
    factors = []
    for node, slot, p, d in chain:
        symbol = f"d{symbols.get(node, '?')}/d{symbols.get(p, '?')}"
        n = len(node.op.grads)
        if sum(1 for q in node.inputs[:n] if q is p) > 1:
            symbol += f"[{slot + 1}]"  # x·x: the same input in two operand slots
        factors.append(Factor(node, p, (op_symbol(node),), d, symbol))
    if not merge:
        return Path(tuple(factors), tuple(factors))
    steps: list[Factor] = []
    start = 0
    for i, f in enumerate(factors):
        if f.input is wrt or f.input.name is not None:
            run = factors[start : i + 1]
            value = 1.0
            for r in run:
                value *= r.value
            top, bottom = run[0].output, f.input
            symbol = f.symbol if len(run) == 1 else f"d{symbols[top]}/d{symbols[bottom]}"
            ops = tuple(o for r in run for o in r.ops)
            steps.append(Factor(top, bottom, ops, value, symbol))
            start = i + 1
    return Path(tuple(factors), tuple(steps))


# ---------------------------------------------------------------------------
# Finding a wrong local derivative.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WrongGradient:
    """A node whose vjp for one operand disagrees with central differences of its forward."""

    node: Value
    op: str
    input_index: int
    input: Value
    expected: float
    obtained: float

    def __str__(self) -> str:
        name = f"{self.node.name!r} " if self.node.name is not None else ""
        return (
            f"node {name}made by {self.op}: ∂/∂(operand {self.input_index}) should be "
            f"{fmt(self.expected, 6)} (central differences), its vjp gives {fmt(self.obtained, 6)}"
        )


def _f64(d: Any) -> Any:
    if type(d) is float:
        return d
    if isinstance(d, np.ndarray):
        return d.astype(np.float64)
    return float(d) if np.ndim(d) == 0 else np.asarray(d, dtype=np.float64)


def find_wrong_gradients(
    output: Value, *, eps: float = 1e-6, rtol: float = 1e-4, atol: float = 1e-6, seed: int = 0
) -> list[WrongGradient]:
    """Every node whose local derivative (its op's vjp) disagrees with its own forward, in float64.

    For each operand that is a Value: obtained = ⟨vjp(g), v⟩, expected =
    ⟨g, (f(x + hv) − f(x − hv)) / 2h⟩ for random g and v (both 1 for scalars).
    At a kink (relu at 0) the one-sided slopes differ: for a scalar operand any
    value between them is accepted; for a tensor operand one direction cannot
    tell, and the check passes. Points where the forward is not finite nearby
    are skipped.
    """
    rng = np.random.default_rng(seed)
    wrong: list[WrongGradient] = []
    for node in topological_order(output):
        op = node._op
        if op is None:
            continue
        n = len(op.grads)
        datas = [_f64(p.data if isinstance(p, Value) else p) for p in node._prev[:n]]
        datas += node._prev[n:]
        for slot in range(n):
            p = node._prev[slot]
            if not isinstance(p, Value):
                continue
            found = _check(op, datas, slot, rng, eps, rtol, atol)
            if found is not None:
                wrong.append(WrongGradient(node, op.__name__, slot, p, *found))
    return wrong


def _check(
    op: Any,
    datas: list[Any],
    slot: int,
    rng: np.random.Generator,
    eps: float,
    rtol: float,
    atol: float,
) -> tuple[float, float] | None:
    """(expected, obtained) when operand `slot`'s vjp is wrong at this point, else None."""
    x = datas[slot]

    def f(xs: Any) -> Any:
        args = list(datas)
        args[slot] = xs
        return op.forward(*args)

    with np.errstate(all="ignore"):
        out = f(x)
        if not np.all(np.isfinite(out)):
            return None
        scalar_in = np.ndim(x) == 0
        v = 1.0 if scalar_in else rng.standard_normal(np.shape(x))
        g = 1.0 if np.ndim(out) == 0 else rng.standard_normal(np.shape(out))
        h = eps * max(1.0, float(np.max(np.abs(x))) if np.size(x) else 1.0)
        up, down = f(x + h * v), f(x - h * v)
        if not (np.all(np.isfinite(up)) and np.all(np.isfinite(down))):
            return None
        central = float(np.sum(g * (up - down))) / (2 * h)
        ahead = float(np.sum(g * (up - out))) / h
        behind = float(np.sum(g * (out - down))) / h
        r = op.grads[slot](g, out, *datas)
    r = r.data if isinstance(r, Value) else r
    if scalar_in:
        obtained = float(np.sum(r))
    else:
        r = np.asarray(r, dtype=np.float64)
        if r.shape != np.shape(x):
            r = unbroadcast(
                np.broadcast_to(r, np.broadcast_shapes(r.shape, np.shape(x))), np.shape(x)
            )
        obtained = float(np.sum(r * v))
    scale = max(abs(central), abs(ahead), abs(behind), abs(obtained))
    tol = atol + rtol * scale
    if abs(obtained - central) <= tol:
        return None
    if abs(ahead - behind) > tol:  # a kink: the slopes on either side differ
        if not scalar_in:
            return None  # each element has its own kink; one direction cannot tell
        if min(ahead, behind) - tol <= obtained <= max(ahead, behind) + tol:
            return None
    return central, obtained
