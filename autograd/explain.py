"""Explaining gradients: the chain rule along every path, and a check of each local derivative.

`explain(L, w)` lists the paths from L back to w; each path is a chain of local
derivatives ∂node/∂input (taken from the primitives' vjps with g = 1), its
product is that path's share of ∂L/∂w, and the products add up to ∂L/∂w:

    dL/dw11 = dL/dŷ · dŷ/dz · dz/da1 · da1/dz1 · dz1/dw11

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
from functools import partial
from typing import Any

import numpy as np

from autograd import ops
from autograd.gradcheck import derivative, judge, kink, settle_small
from autograd.graph import topological_order, unbroadcast
from autograd.text import fmt, op_symbol
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
        return f"<Explanation {self.lhs} = {number(self.total)} over {paths}>"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    def _lines(self) -> tuple[list[str], list[Value]]:
        """The text, line by line, and the nodes whose symbols it shows."""
        lhs = self.lhs
        out, wrt = self._symbols[self.output], self._symbols[self.wrt]
        if self.n_paths == 0:
            return [f"{lhs} = 0: {out} does not depend on {wrt}"], []
        if self.output is self.wrt:
            return [f"{lhs} = 1"], []
        shown: list[Value] = []
        if not self.paths:
            paths = _count(self.n_paths)
            return [f"{lhs} = {number(self.total)}, the sum over {paths} paths (none listed)"], []
        if self.n_paths == 1 and len(self.paths[0].steps) == 1:
            return [f"{lhs} = {number(self.total)}"], []  # one link: nothing to multiply
        if self.n_paths == 1:
            ((top, numbers),) = _columns([self.paths[0].steps], shown)
            pad = " " * _width(lhs)
            return [f"{lhs} = {top}", f"{pad} = {numbers}", f"{pad} = {number(self.total)}"], shown
        lines = [f"{lhs} = Σ over {_count(self.n_paths)} paths from {out} back to {wrt}:"]
        columns = _columns([p.steps for p in self.paths], shown)
        vias = _vias(self.paths, self._symbols)
        width = max(max(_width(t), _width(n)) for t, n in columns)
        for i, ((top, numbers), via) in enumerate(zip(columns, vias, strict=True)):
            label = f"{' ' * (width - _width(top))}   (via {via})" if via else ""
            lines.append(f"{'  ' if i == 0 else '+ '}{top}{label}".rstrip())
            pad = " " * (width - _width(numbers))
            lines.append(f"  {numbers}{pad} = {number(self.paths[i].product)}")
        terms = [p.product for p in self.paths]
        if self.omitted:
            rest = self.total - sum(terms)
            lines.append(
                f"+ {_count(self.omitted)} more path{'' if self.omitted == 1 else 's'} "
                f"not listed (max_paths={len(self.paths)}), adding {number(rest)}"
            )
            terms.append(rest)
        lines.append(f"{lhs} = {total_of(terms)} = {number(self.total)}")
        return lines, shown

    def __str__(self) -> str:
        lines, shown = self._lines()
        names = {self._symbols[v] for v in shown}
        where = [f"{k} = {v}" for k, v in self._defined.items() if k in names]
        if len(where) > 10:
            where = [*where[:10], "…"]
        if where:
            lines.append("where " + ", ".join(where))
        return "\n".join(lines)

    def _repr_latex_(self) -> str:
        """The chain rule as typeset math, for Jupyter: one aligned line per row of the text."""
        lines, _ = self._lines()
        names = set(self._symbols.values())
        rows = [_latex_line(line, names) for line in lines]
        return "$$\\begin{array}{l}" + " \\\\ ".join(rows) + "\\end{array}$$"


def number(x: Any) -> str:
    """A number as a learner writes it: 4 significant digits, − for minus, never −0."""
    text = fmt(x)
    if float(x) == 0:
        return "0"
    return "−" + text[1:] if text.startswith("-") else text


def total_of(terms: Sequence[float]) -> str:
    """Terms as a sum: "−0.3318 + 0.5 − 0.02357"; past 8 terms, the first 4, …, and the last."""
    shown: list[float | None] = list(terms)
    if len(shown) > 8:
        shown = [*shown[:4], None, shown[-1]]
    text = ""
    for k, t in enumerate(shown):
        if t is None:
            text += " + …"
        elif k == 0:
            text = number(t)
        else:
            text += f" − {number(-t)}" if number(t).startswith("−") else f" + {number(t)}"
    return text


def _count(n: int) -> str:
    if n < 10**15:
        return f"{n:,}"
    e = math.floor(math.log10(n))
    return f"about {10 ** (math.log10(n) - e):.2f}e{e}"


def _width(text: str) -> int:
    """Columns the text takes: combining marks (the hat of ŷ) take none."""
    return sum(0 if unicodedata.combining(c) else 1 for c in text)


def _shortened(steps: Sequence[Factor]) -> list[Factor]:
    """A long chain as its two ends and the product of its middle."""
    if len(steps) <= 12:
        return list(steps)
    middle = steps[6:-5]
    value = 1.0
    for f in middle:
        value *= f.value
    gap = Factor(middle[0].output, middle[-1].input, (), value, f"…{len(middle)} more factors…")
    return [*steps[:6], gap, *steps[-5:]]


def _columns(chains: Sequence[Sequence[Factor]], shown: list[Value]) -> list[tuple[str, str]]:
    """Each chain's symbols joined by " · " and under each its number, in columns shared by all.

    The k-th factor of every chain gets the same width, so paths line up with each
    other as well as with their numbers. The nodes whose symbols appear are added to `shown`.
    """
    chains = [_shortened(c) for c in chains]
    widths: list[int] = []
    for chain in chains:
        for k, f in enumerate(chain):
            w = max(_width(f.symbol), _width(number(f.value)))
            if k == len(widths):
                widths.append(w)
            widths[k] = max(widths[k], w)
    rows = []
    for chain in chains:
        tops, bottoms = [], []
        for k, f in enumerate(chain):
            if f.ops:
                shown += (f.output, f.input)
            a, b = f.symbol, number(f.value)
            tops.append(a + " " * (widths[k] - _width(a)))
            bottoms.append(b + " " * (widths[k] - _width(b)))
        rows.append((" · ".join(tops).rstrip(), " · ".join(bottoms).rstrip()))
    return rows


_NONLINEAR = {ops.Log, ops.Exp, ops.Sigmoid, ops.Tanh, ops.ReLU, ops.Softplus, ops.Pow, ops.PowerOf}


def _via(path: Path, symbols: dict[Value, str]) -> dict[int, str]:
    """What a path goes through where its printed chain skips unnamed nodes: "ln ŷ", "ln(1 − ŷ)".

    For each merged link (by position), the deepest skipped node that is not + or
    ×, else the deepest one.
    """
    parts = {}
    k = 0
    for i, step in enumerate(path.steps):
        run = path.factors[k : k + max(1, len(step.ops))]
        k += len(run)
        inner = [f.input for f in run[:-1]]
        if inner:
            curved = [v for v in inner if v.op in _NONLINEAR]
            parts[i] = formula((curved or inner)[-1], symbols)
    return parts


def _vias(paths: Sequence[Path], symbols: dict[Value, str]) -> list[str]:
    """Each path's "via" text: what its merged links pass through, where the paths differ."""
    each = [_via(p, symbols) for p in paths]
    same = {i for i in set().union(*each) if len({e.get(i) for e in each}) == 1}
    return [", ".join(t for i, t in sorted(e.items()) if i not in same) for e in each]


def formula(x: Any, symbols: dict[Value, str], depth: int = 0) -> str:
    """x written in the symbols of the named nodes, as a learner writes it: ln(1 − ŷ), w1·a1 + b."""
    if not isinstance(x, Value):
        return number(x)
    if x.name is not None or x.op is None:
        return symbols.get(x) or (pretty(x.name) if x.name else number(x.data))
    if depth > 8:
        return symbols.get(x, "…")
    op = x.op
    args = x.inputs[: len(op.grads)]
    parts = [formula(a, symbols, depth + 1) for a in args]
    grouped = [
        f"({p})" if (" " in p and not p.startswith("ln ")) or p.startswith("−") else p
        for p in parts
    ]
    if op is ops.Add:
        b = args[1]
        if isinstance(b, Value) and _negated(b) is not None:
            return f"{parts[0]} − {_bracket(formula(_negated(b), symbols, depth + 1))}"
        if parts[1].startswith("−"):
            return f"{parts[0]} − {parts[1][1:]}"
        return f"{parts[0]} + {parts[1]}"
    if op is ops.Mul:
        if _negated(x) is not None:
            return "−" + _bracket(formula(_negated(x), symbols, depth + 1))
        return f"{grouped[0]}·{grouped[1]}"
    if op is ops.Log:
        return f"ln {parts[0]}" if " " not in parts[0] else f"ln({parts[0]})"
    if op is ops.PowerOf:
        c = x.inputs[1]
        if isinstance(c, float | int) and float(c) == 2.0:
            return f"{grouped[0]}²"
        if isinstance(c, float | int) and float(c) == -1.0:
            return f"1/{grouped[0]}"
        return f"{grouped[0]}^{number(c) if isinstance(c, float | int) else '…'}"
    name = op_symbol(x)
    return f"{name}({', '.join(parts)})"


def _negated(x: Value) -> Any:
    """v when x is v·(−1) (how −v and a − v are made), else None."""
    if x.op is ops.Mul and x.name is None:
        a, b = x.inputs[:2]
        if not isinstance(b, Value) and np.ndim(b) == 0 and float(b) == -1.0:
            return a
    return None


def _bracket(text: str) -> str:
    return f"({text})" if " " in text else text


_LATEX_NAME = re.compile(r"([A-Za-z])(\d+)")


_WORDS = {"over", "paths", "path", "from", "back", "to", "via", "more", "not", "listed", "adding"}


def _latex_line(line: str, names: set[str]) -> str:
    """A line of the text as LaTeX: d/d as fractions, ŷ as \\hat{y}, w11 as w_{11}."""
    out: list[str] = []
    words: list[str] = []

    def flush() -> None:
        if words:
            out.append(r"\text{ " + " ".join(words) + " }")
            words.clear()

    for token in re.split(r"(\s+|·|Σ|=|\+|−|\(|\)|:|,)", line):
        if not token or token.isspace():
            continue
        if token not in names and token in _WORDS:
            words.append(token)
            continue
        flush()
        m = re.fullmatch(r"d(\S+)/d(\S+?)(\[\d\])?", token)
        if m:
            out.append(rf"\frac{{\partial {_latex_name(m[1])}}}{{\partial {_latex_name(m[2])}}}")
        elif token in ("·", "Σ", "−", "ln"):
            out.append({"·": r"\cdot", "Σ": r"\sum", "−": "-", "ln": r"\ln"}[token])
        elif re.fullmatch(r"[\d.e+\-]+|[+=(),:]|…", token):
            out.append(token if token != "…" else r"\ldots")
        else:
            out.append(_latex_name(token))
    flush()
    return " ".join(out)


def _latex_name(name: str) -> str:
    name = name.replace("ŷ", r"\hat{y}").replace("\u0302", "")
    if name.startswith("\\hat"):
        return name
    if _LATEX_NAME.fullmatch(name):
        return _LATEX_NAME.sub(r"\1_{\2}", name)
    if re.fullmatch(r"[A-Za-z]", name):
        return name
    return r"\text{" + re.sub(r"([#_%&$])", r"\\\1", name) + "}"


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
    args = [
        symbol.get(p, number(p.data)) if isinstance(p, Value) else number(p)
        for p in node.inputs[:n]
    ]
    args = [f"({a})" if a.startswith("−") else a for a in args]
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
        for slot, p in enumerate(node.inputs[: len(node.op.grads)]):
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
            defined[symbols[node]] = f"a leaf with data {number(node.data)}"
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
    """A node whose vjp for one operand disagrees with differences of its own forward.

    `index` is the operand's element that disagrees most (`()` for a scalar), and
    `elements` how many of its elements are wrong.
    """

    node: Value
    op: str
    input_index: int
    input: Value
    expected: float
    obtained: float
    index: tuple[int, ...] = ()
    elements: int = 1

    def __str__(self) -> str:
        name = f"{self.node.name!r} " if self.node.name is not None else ""
        where = f" at element {list(self.index)}" if self.index else ""
        more = f" ({self.elements} elements wrong)" if self.elements > 1 else ""
        return (
            f"node {name}made by {self.op}: ∂/∂(operand {self.input_index}) should be "
            f"{fmt(self.expected, 6)} (central differences){where}, its vjp gives "
            f"{fmt(self.obtained, 6)}{more}"
        )


def _f64(d: Any) -> Any:
    if type(d) is float:
        return d
    if isinstance(d, np.ndarray):
        return d.astype(np.float64)
    return float(d) if np.ndim(d) == 0 else np.asarray(d, dtype=np.float64)


def find_wrong_gradients(
    output: Value,
    *,
    eps: float = 1e-4,
    rtol: float = 1e-6,
    atol: float = 0.0,
    seed: int = 0,
    max_elements: int | None = 1000,
) -> list[WrongGradient]:
    """Every node whose local derivative (its op's vjp) disagrees with its own forward, in float64.

    Each element of each operand is judged by gradcheck's rule: obtained =
    vjp(g)[j], expected = ∂⟨g, forward(x)⟩/∂x_j by central differences with their
    error estimate, for a fixed random g (1 for a scalar output). An element at a
    kink (relu at 0) is right when its value lies between the one-sided slopes,
    and is set aside; the other elements are still judged. A difference that
    crosses a clip or a branch settles at a smaller step and is not taken for a
    wrong vjp; where it never settles, or the forward is not finite, the element
    is inconclusive and not reported. An operand larger than `max_elements` has
    that many of its elements judged, drawn at random (None: all of them): each
    costs a few evaluations of the node's forward on the whole operand.
    """
    rng = np.random.default_rng(seed)
    wrong: list[WrongGradient] = []
    for node in topological_order(output):
        op = node.op
        if op is None:
            continue
        n = len(op.grads)
        inputs = node.inputs
        datas = [_f64(p.data if isinstance(p, Value) else p) for p in inputs[:n]]
        datas += inputs[n:]
        for slot in range(n):
            p = inputs[slot]
            if not isinstance(p, Value):
                continue
            found = _check(op, datas, slot, rng, eps, rtol, atol, max_elements)
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
    max_elements: int | None,
) -> tuple[float, float, tuple[int, ...], int] | None:
    """(expected, obtained, index, count) for the worst wrong element of operand `slot`, or None."""
    x = np.asarray(datas[slot], dtype=np.float64)
    scalar_in = x.ndim == 0

    def f(xs: Any) -> Any:
        args = list(datas)
        args[slot] = float(xs) if scalar_in else xs
        with np.errstate(all="ignore"):
            return op.forward(*args)

    out = f(x)
    if not np.all(np.isfinite(out)):
        return None
    g = 1.0 if np.ndim(out) == 0 else rng.standard_normal(np.shape(out))
    with np.errstate(all="ignore"):
        r = op.grads[slot](g, out, *datas)
    r = np.asarray(r.data if isinstance(r, Value) else r, dtype=np.float64)
    if r.shape != x.shape:
        r = unbroadcast(np.broadcast_to(r, np.broadcast_shapes(r.shape, x.shape)), x.shape)
    f0 = float(np.sum(g * out))
    # The forward rounds in its own dtype: a cast to float32 is differenced at float32's ε.
    floor = max(
        (
            float(np.finfo(np.result_type(d)).eps) * float(np.max(np.abs(d), initial=0.0))
            for d in (x, out)
            if np.size(d)
        ),
        default=0.0,
    )
    verdicts = []
    indices = list(np.ndindex(x.shape))
    if max_elements is not None and len(indices) > max_elements:
        chosen = rng.choice(len(indices), size=max_elements, replace=False)
        indices = [indices[k] for k in sorted(chosen)]
    for index in indices:
        x0 = float(x[index])

        def phi(t: float, index: tuple[int, ...] = index) -> float:
            moved = x.copy()
            moved[index] += t
            return float(np.sum(g * f(moved)))

        d = derivative(phi, f0, eps * max(1.0, abs(x0)), floor, x0)
        at_kink = partial(kink, phi, f0, d.step, floor, x0)
        verdicts.append((index, judge(float(r[index]), d, rtol, atol, at_kink)))
    settle_small([verdicts])
    bad = [(i, v) for i, v in verdicts if v.status == "wrong"]
    if not bad:
        return None
    index, worst = max(bad, key=lambda iv: iv[1].badness)
    return worst.numerical, worst.analytic, index, len(bad)
