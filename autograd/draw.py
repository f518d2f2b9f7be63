"""Drawing the graph: graphviz pictures of Values with their data, gradients and clusters.

`draw(root)` returns a `Drawing`, a `graphviz.Digraph` whose DOT source is made
in Python alone; only rendering it to svg, png or pdf needs graphviz's `dot`.
Each Value is a box (its name, data and grad); each operation is a small node
between its result and its operands; raw numbers used as operands are small
grey constant nodes. Nodes made inside `autograd.scope(...)` blocks (an nn
module's forward) are grouped in nested clusters, in the scope's colour.

Big graphs stay readable: past `max_nodes` Values, clusters collapse into one
box each (the innermost level first), and if that is not enough, the output
end and the leaf end are kept and whatever lies between is drawn as
"… N nodes …". The caption says what was collapsed.

Drawing is two steps: `plan` decides what is shown (which nodes, in which
clusters, what collapses) and `_Writer` turns that plan into DOT text.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from autograd.graph import Scope, topological_order
from autograd.text import fmt, op_symbol, summary
from autograd.value import Value

__all__ = [
    "COLOURS",
    "INSTALL_HINT",
    "STYLE",
    "DotNotFoundError",
    "Drawing",
    "Plan",
    "dot_available",
    "draw",
    "fmt",
    "op_symbol",
    "plan",
    "render",
    "summary",
]

INSTALL_HINT = (
    "rendering needs graphviz's `dot` program, which was not found on PATH. Install it with "
    "`apt install graphviz` (Debian, Ubuntu), `brew install graphviz` (macOS) or "
    "`conda install -c conda-forge graphviz`; `.dot` output works without it."
)

RED = "#dc2626"
GREY = "#6b7280"

# The lesson's colours, as nn's perceptrons name them; a scope's `color` may be one of
# these names, another colour name (read as SVG and CSS read it, in every format) or #hex.
COLOURS = {"red": RED, "green": "#16a34a", "purple": "#9333ea"}

# Fill colours of the node kinds; the legend shows the same table.
STYLE = {
    "output": "#fde68a",
    "parameter": "#bfdbfe",
    "input": "#e5e7eb",
    "value": "#ffffff",
    "operation": "#f3f4f6",
    "constant": "#ffffff",
    "collapsed": "#f9fafb",
    "wrong": "#fecaca",
}

_FORMATS = ("svg", "png", "pdf")


class DotNotFoundError(graphviz.ExecutableNotFound):
    """Raised when rendering needs graphviz's `dot` and it is not installed."""

    def __init__(self) -> None:
        RuntimeError.__init__(self, INSTALL_HINT)


@contextmanager
def _needs_dot() -> Iterator[None]:
    """The one place a missing `dot` becomes a DotNotFoundError with the install hint."""
    try:
        yield
    except DotNotFoundError:
        raise
    except graphviz.ExecutableNotFound as e:
        raise DotNotFoundError() from e


class Drawing(graphviz.Digraph):
    """A `graphviz.Digraph` of a Value's graph; Jupyter shows it inline as SVG.

    `ids` maps each drawn Value to its DOT node id; `caption` says what was collapsed.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ids: dict[Value, str] = {}
        self.caption = ""

    def node_id(self, value: Value) -> str | None:
        """The DOT id of `value`'s box, or None when it was collapsed away."""
        return self.ids.get(value)

    def op_id(self, value: Value) -> str | None:
        """The DOT id of the operation node that made `value` (None for a leaf or when hidden)."""
        vid = self.ids.get(value)
        return None if vid is None or value.is_leaf else "o" + vid[1:]

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        """Render with `dot` and return the output; says how to install `dot` if it is missing."""
        with _needs_dot():
            return super().pipe(*args, **kwargs)

    def render(self, *args: Any, **kwargs: Any) -> Any:
        """graphviz's render, with an install hint when `dot` is missing."""
        with _needs_dot():
            return super().render(*args, **kwargs)

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None, **kw: Any
    ) -> dict[str, Any]:
        try:
            return dict(super()._repr_mimebundle_(include, exclude, **kw))
        except graphviz.ExecutableNotFound:
            return {"text/plain": f"{INSTALL_HINT}\n\n{self.source}"}


def draw(
    root: Value,
    *,
    rankdir: str = "LR",
    max_nodes: int = 100,
    show_grad: bool = True,
    highlight: Iterable[Any] = (),
    params: Iterable[Value] | None = None,
    inputs: Iterable[Value] = (),
    legend: bool = True,
    precision: int = 4,
) -> Drawing:
    """The graph `root` depends on, as a graphviz Digraph (no `dot` binary needed to build it).

    Value boxes show name, data and grad ("not computed yet" before a backward
    reaches them); tensors show their shape and a summary. Parameters are `params`
    when given; else the `.parameters()` of the owners of the scopes the nodes were
    made in (nn modules); else, in a graph of hand-made Values, the leaves that
    received a gradient. Leaves in `inputs` and all other leaves are inputs. `highlight`
    takes Values (or results of `find_wrong_gradients`) to mark in red.
    `max_nodes` bounds the number of Values and summary boxes drawn (operation
    and constant nodes come on top); past it, clusters and then long runs of
    nodes collapse into summary boxes.
    """
    p = plan(root, max_nodes=max_nodes, highlight=highlight, params=params, inputs=inputs)
    return _Writer(p, show_grad=show_grad, precision=precision).write(rankdir, legend)


# ---------------------------------------------------------------------------
# The plan: which nodes are drawn, in which clusters, and what collapses.
# ---------------------------------------------------------------------------


@dataclass
class Box:
    """A collapsed cluster: its scope, how many nodes it hides, how many of them are parameters."""

    scope: Scope
    size: int = 0
    params: int = 0


@dataclass
class Plan:
    """What a drawing shows.

    Node i of `order` belongs to unit `unit[i]`: itself (i), or n + k when it is
    inside collapsed cluster `boxes[k]`. Units in `kept` are drawn; any other unit
    u is part of the "… N nodes …" box `group[u]`, which holds `groups[j]` Values.
    """

    root: Value
    order: list[Value]
    index: dict[Value, int]
    params: set[Value]
    wrong: dict[Value, list[Any]]
    where: list[Scope | None]  # the cluster each node sits in
    unit: list[int]
    kept: set[int]
    boxes: list[Box] = field(default_factory=list)
    group: dict[int, int] = field(default_factory=dict)
    groups: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    max_nodes: int = 100

    def dot_id(self, u: int) -> str:
        """The DOT id a unit is drawn as: v{i} (a Value), s{k} (a cluster) or h{j} (hidden)."""
        if u not in self.kept:
            return f"h{self.group[u]}"
        n = len(self.order)
        return f"v{u}" if u < n else f"s{u - n}"


def plan(
    root: Value,
    *,
    max_nodes: int = 100,
    highlight: Iterable[Any] = (),
    params: Iterable[Value] | None = None,
    inputs: Iterable[Value] = (),
) -> Plan:
    """Decide what `draw` shows: the nodes, their clusters, and what collapses past `max_nodes`."""
    if not isinstance(root, Value):
        raise TypeError(f"draw() takes a Value, got {type(root).__name__}")
    if max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, got {max_nodes}")
    order = topological_order(root)
    scopes = _Scopes(order)
    home = scopes.home
    n = len(order)
    if params is None:
        found = scopes.parameters()
        params = found or [v for v in order if v._op is None and v._grad is not None]
    p = Plan(
        root=root,
        order=order,
        index={node: i for i, node in enumerate(order)},
        params=set(params).difference(inputs),
        wrong=_wrong_nodes(highlight),
        # Parameters are drawn in their owner's cluster, other nodes where they were made.
        where=[home.get(node, node._scope) if node._op is None else node._scope for node in order],
        unit=list(range(n)),
        kept=set(range(n)) if n <= max_nodes else set(),
        max_nodes=max_nodes,
    )
    if n > max_nodes:
        _collapse_clusters(p, scopes)
        _collapse_runs(p)
    return p


def _wrong_nodes(highlight: Iterable[Any]) -> dict[Value, list[Any]]:
    """Highlighted Values, each with the checker's findings about it (if any)."""
    wrong: dict[Value, list[Any]] = {}
    for item in highlight:
        node = item if isinstance(item, Value) else getattr(item, "node", None)
        if not isinstance(node, Value):
            raise TypeError(f"highlight takes Values or checker results, got {type(item).__name__}")
        found = wrong.setdefault(node, [])
        if item is not node:
            found.append(item)
    return wrong


class _Scopes:
    """The scopes a graph's nodes were made in: depths, owners, and the parameters they own."""

    def __init__(self, order: list[Value]):
        self.depth: dict[Scope, int] = {}
        owner_scopes: dict[int, list[Scope]] = {}
        owners: dict[int, Any] = {}
        for node in order:
            s = node._scope
            if s is None or s in self.depth:
                continue
            chain = []
            while s is not None and s not in self.depth:
                chain.append(s)
                s = s.parent
            d = 0 if s is None else self.depth[s]
            for s in reversed(chain):
                d += 1
                self.depth[s] = d
                if s.owner is not None:
                    owners[id(s.owner)] = s.owner
                    owner_scopes.setdefault(id(s.owner), []).append(s)
        self.owned: dict[int, list[Value]] = {}
        for key, owner in owners.items():
            get = getattr(owner, "parameters", None)
            if callable(get):
                self.owned[key] = [p for p in get() if isinstance(p, Value)]
        # A parameter is drawn inside the deepest cluster whose owner holds it,
        # when that owner ran once in this graph (else the cluster is ambiguous).
        self.home: dict[Value, Scope] = {}
        for key, params in self.owned.items():
            scopes = owner_scopes[key]
            if len(scopes) != 1:
                continue
            s = scopes[0]
            for p in params:
                old = self.home.get(p)
                if old is None or self.depth[old] < self.depth[s]:
                    self.home[p] = s

    def parameters(self) -> set[Value]:
        """Every parameter of every owner found (the outermost owners' sets include the inner)."""
        found: set[Value] = set()
        for params in self.owned.values():
            found.update(params)
        return found

    def ancestor(self, s: Scope, depth: int) -> Scope:
        """The enclosing scope of s at `depth` (1 = outermost)."""
        while self.depth[s] > depth:
            assert s.parent is not None
            s = s.parent
        return s


def _collapse_clusters(p: Plan, scopes: _Scopes) -> None:
    """Draw each cluster at the deepest level that fits in max_nodes as one box."""
    depth = scopes.depth
    deepest = max(depth.values(), default=0)
    n = len(p.order)
    if deepest:
        # A level's cost: the nodes outside clusters that deep, plus one box per cluster there.
        outside = [0] * (deepest + 2)
        for s in p.where:
            outside[0 if s is None else depth[s]] += 1
        clusters = [0] * (deepest + 2)
        for d in depth.values():
            clusters[d] += 1
        fits = (d for d in range(deepest, 0, -1) if sum(outside[:d]) + clusters[d] <= p.max_nodes)
        level = next(fits, 1)
        box_of: dict[Scope, int] = {}
        for i, s in enumerate(p.where):
            if s is None or depth[s] < level:
                continue
            top = scopes.ancestor(s, level)
            k = box_of.setdefault(top, len(p.boxes))
            if k == len(p.boxes):
                p.boxes.append(Box(top))
            p.unit[i] = n + k
            p.boxes[k].size += 1
            p.boxes[k].params += p.order[i] in p.params
        hidden = sum(b.size for b in p.boxes)
        labels = sorted({b.scope.label for b in p.boxes})
        named = ", ".join(labels[:6]) + (", …" if len(labels) > 6 else "")
        p.notes.append(
            f"{hidden:,} nodes in {len(p.boxes):,} clusters ({named}) are drawn as one box each"
        )
    p.kept = set(p.unit)


def _collapse_runs(p: Plan) -> None:
    """Keep the output end and the leaf end; each connected piece between them becomes one box.

    The output end is a breadth-first walk up from the output (half the budget),
    the leaf end one down from the leaves, parameters first, until the budget is
    spent. The largest pieces left get a box each; past max_nodes/10, the rest share one.
    """
    units = sorted(p.kept)
    if len(units) <= p.max_nodes:
        return
    n, m = len(p.order), len(p.order) + len(p.boxes)
    unit, index = p.unit, p.index
    # The edges between units, as flat arrays of ints (millions of small lists are slow).
    tails: list[int] = []
    heads: list[int] = []
    for i, node in enumerate(p.order):
        u = unit[i]
        for q in node._prev:
            if type(q) is Value and unit[index[q]] != u:
                tails.append(unit[index[q]])
                heads.append(u)
    t, h = np.array(tails, dtype=np.int64), np.array(heads, dtype=np.int64)
    inputs, users = _Adjacency(h, t, m), _Adjacency(t, h, m)
    kept: set[int] = set()
    _walk([unit[index[p.root]]], inputs, kept, max(1, p.max_nodes // 2))
    leaves = [u for u in units if not inputs.has(u)]
    leaves.sort(key=lambda u: u >= n or p.order[u] not in p.params)
    _walk(leaves, users, kept, p.max_nodes)
    p.kept = kept
    linked = _Adjacency(np.concatenate([t, h]), np.concatenate([h, t]), m)
    pieces: list[int] = []  # Values in each piece
    piece: dict[int, int] = {}
    for u in units:
        if u in kept or u in piece:
            continue
        members: set[int] = set()
        _walk([u], linked, members, m, blocked=kept)
        for v in members:
            piece[v] = len(pieces)
        pieces.append(sum(1 if v < n else p.boxes[v - n].size for v in members))
    cap = max(1, p.max_nodes // 10)
    by_size = sorted(range(len(pieces)), key=lambda k: -pieces[k])
    slot = {k: min(j, cap - 1) for j, k in enumerate(by_size)}
    p.groups = [0] * min(len(pieces), cap)
    for k, size in enumerate(pieces):
        p.groups[slot[k]] += size
    p.group = {u: slot[k] for u, k in piece.items()}
    p.notes.append(
        f"{sum(p.groups):,} nodes between the output end and the leaves are drawn as “… N nodes …”"
    )


class _Adjacency:
    """For each of m units, the units linked to it by the edges (keys[e], values[e])."""

    def __init__(self, keys: np.ndarray, values: np.ndarray, m: int):
        order = np.argsort(keys, kind="stable")
        self.start: list[int] = np.searchsorted(keys[order], np.arange(m + 1)).tolist()
        self.values: list[int] = values[order].tolist()

    def has(self, u: int) -> bool:
        """True when some edge starts at u."""
        return self.start[u + 1] > self.start[u]

    def __getitem__(self, u: int) -> list[int]:
        return self.values[self.start[u] : self.start[u + 1]]


def _walk(
    start: list[int],
    edges: _Adjacency,
    kept: set[int],
    limit: int,
    blocked: AbstractSet[int] = frozenset(),
) -> None:
    """Breadth-first from `start` along `edges`, adding units to `kept` until it holds `limit`."""
    queue = [u for u in start if u not in kept and u not in blocked]
    seen = set(queue)
    head = 0
    while head < len(queue) and len(kept) < limit:
        u = queue[head]
        head += 1
        kept.add(u)
        for v in edges[u]:
            if v not in seen and v not in kept and v not in blocked:
                seen.add(v)
                queue.append(v)


# ---------------------------------------------------------------------------
# The writer: a plan as DOT text.
# ---------------------------------------------------------------------------


class _Writer:
    """Writes a Plan as a Drawing: the boxes, the operations, the clusters, the legend."""

    def __init__(self, plan: Plan, *, show_grad: bool, precision: int):
        self.p = plan
        self.show_grad = show_grad
        self.precision = precision
        self.g = Drawing(
            name="valuegrad",
            graph_attr={"fontname": "Helvetica", "compound": "true"},
            node_attr={"fontname": "Helvetica", "fontsize": "11"},
            edge_attr={"color": GREY, "arrowsize": "0.7"},
        )
        # The nodes of each cluster (None: outside every cluster), and the edges.
        self.bodies: dict[Scope | None, list[tuple[str, dict[str, str]]]] = {None: []}
        self.edges: list[tuple[str, str]] = []

    def write(self, rankdir: str, legend: bool) -> Drawing:
        """The whole drawing: nodes, edges, clusters, legend and caption."""
        p, g = self.p, self.g
        g.graph_attr["rankdir"] = rankdir
        n = len(p.order)
        once: set[tuple[str, str]] = set()
        # dot stacks what comes first in the source on top: the output's first input
        # first, so that x1 comes above x2 and red (a1) above green (a2).
        for i in _first_input_first(p):
            node = p.order[i]
            u = p.unit[i]
            drawn = u == i and u in p.kept
            if drawn:
                self._value(i, node)
                if node._op is not None:
                    self._operation(i, node)
                    self.edges.append((f"o{i}", f"v{i}"))
            head = f"o{i}" if drawn and node._op is not None else p.dot_id(u)
            for q in node._prev:
                if type(q) is not Value:
                    continue
                qu = p.unit[p.index[q]]
                tail = p.dot_id(qu)
                if qu == u or tail == head:
                    continue
                if drawn and qu < n and qu in p.kept:
                    self.edges.append((tail, head))  # x * x keeps both arrows
                elif (tail, head) not in once:
                    once.add((tail, head))
                    self.edges.append((tail, head))
        for k, box in enumerate(p.boxes):
            if n + k in p.kept:
                self._box(k, box)
        for j, size in enumerate(p.groups):
            label = f"<<i>… {size:,} nodes …</i>>"
            attrs = {"shape": "box", "style": "dashed,rounded", "color": GREY}
            self.bodies[None].append((f"h{j}", {"label": label, **attrs}))
        self._clusters()
        for tail, head in self.edges:
            g.edge(tail, head)
        if legend:
            self._legend()
        if p.notes:
            g.caption = f"{n:,} nodes, more than max_nodes={p.max_nodes:,}: " + "; ".join(p.notes)
            g.attr(label=f"<{_esc(g.caption, 10**4)}>", labelloc="b", labeljust="l", fontsize="12")
        return g

    def _kind(self, node: Value) -> str:
        if node is self.p.root:
            return "output"
        if node._op is not None:
            return "value"
        return "parameter" if node in self.p.params else "input"

    def _put(self, s: Scope | None, name: str, label: str, attrs: dict[str, str]) -> None:
        self.bodies.setdefault(s, []).append((name, {"label": label, **attrs}))

    def _value(self, i: int, node: Value) -> None:
        rows: list[tuple[str, str]] = []
        if node.name is not None:
            rows.append(("", f"<b>{_name(node.name)}</b>"))
        if node.shape:
            rows.append(("shape", f"{'×'.join(str(d) for d in node.shape)} {node.dtype}"))
        rows.append(("data", _esc(summary(node.data, self.precision))))
        if self.show_grad:
            g = node._grad
            rows.append(
                ("grad", _esc("not computed yet" if g is None else summary(g, self.precision)))
            )
        attrs = {"shape": "box", "style": "rounded,filled", "fillcolor": STYLE[self._kind(node)]}
        if node is self.p.root:
            attrs["penwidth"] = "2"
        if node in self.p.wrong:
            attrs.update(color=RED, penwidth="3")
        self.g.ids[node] = f"v{i}"
        self._put(self.p.where[i], f"v{i}", _fields(rows), attrs)

    def _operation(self, i: int, node: Value) -> None:
        rows = [f"<b>{_esc(op_symbol(node), 32)}</b>"]
        attrs = {"shape": "ellipse", "style": "filled", "fillcolor": STYLE["operation"]}
        findings = self.p.wrong.get(node)
        if findings is not None:
            attrs.update(color=RED, fillcolor=STYLE["wrong"], penwidth="3", fontcolor=RED)
            for f in findings:
                k = getattr(f, "input_index", "?")
                rows.append(
                    f"∂/∂input {k}: expected {fmt(f.expected, self.precision)}, "
                    f"vjp gave {fmt(f.obtained, self.precision)}"
                )
            if not findings:
                rows.append("wrong gradient")
        where = self.p.where[i]
        self._put(where, f"o{i}", _table(rows), attrs)
        op = node._op
        for k, c in enumerate(node._prev[: len(op.grads)]):
            if type(c) is Value:
                continue
            cid = f"c{i}_{k}"
            label = f"<<font color='{GREY}'>{_esc(summary(c, self.precision))}</font>>"
            attrs = {"shape": "ellipse", "style": "dashed", "fontsize": "9", "color": "#9ca3af"}
            self._put(where, cid, label, attrs)
            self.edges.append((cid, f"o{i}"))

    def _box(self, k: int, box: Box) -> None:
        extra = f"<br/>{box.params} parameters" if box.params else ""
        label = f"<<b>{_name(box.scope.label)}</b><br/>{box.size:,} nodes{extra}>"
        attrs = {"shape": "box3d", "style": "filled", "fillcolor": STYLE["collapsed"]}
        attrs.update(_colour(box.scope))
        self._put(box.scope.parent, f"s{k}", label, attrs)

    def _clusters(self) -> None:
        """Nested `cluster_*` subgraphs for the scopes that hold something, innermost first."""
        g = self.g
        for name, attrs in self.bodies[None]:
            g.node(name, **attrs)
        # Every scope that holds something, with its ancestors, in order of first use.
        everything: dict[Scope, int] = {}
        for s in self.bodies:
            chain = []
            while s is not None and s not in everything:
                chain.append(s)
                s = s.parent
            for s in reversed(chain):
                everything[s] = len(s.path())
        children: dict[Scope, list[Scope]] = {}
        for s in everything:
            if s.parent is not None:
                children.setdefault(s.parent, []).append(s)
        built: dict[Scope, graphviz.Digraph] = {}
        for k, s in enumerate(sorted(everything, key=lambda s: -everything[s])):
            sub = graphviz.Digraph(
                name=f"cluster_{k}",
                graph_attr={
                    "label": f"<<b>{_name(s.label)}</b>>",
                    **_colour(s),
                    "penwidth": "2",
                    "style": "rounded",
                    "labeljust": "l",
                },
            )
            for name, attrs in self.bodies.get(s, []):
                sub.node(name, **attrs)
            for child in children.get(s, []):
                sub.subgraph(built.pop(child))
            built[s] = sub
        for sub in built.values():  # what is left are the outermost clusters
            g.subgraph(sub)

    def _legend(self) -> None:
        """A cluster of one node per kind, each in the shape and colour it has in the graph."""
        box = {"shape": "box", "style": "rounded,filled"}
        kinds: list[tuple[str, dict[str, str]]] = [
            ("output", {**box, "fillcolor": STYLE["output"], "penwidth": "2"}),
            ("parameter", {**box, "fillcolor": STYLE["parameter"]}),
            ("input", {**box, "fillcolor": STYLE["input"]}),
            ("intermediate value", {**box, "fillcolor": STYLE["value"]}),
            ("operation", {"shape": "ellipse", "style": "filled", "fillcolor": STYLE["operation"]}),
            ("constant", {"shape": "ellipse", "style": "dashed", "color": "#9ca3af"}),
        ]
        if self.p.wrong:
            kinds.append(("wrong gradient", {**box, "fillcolor": STYLE["wrong"], "color": RED}))
        if self.p.boxes:
            kinds.append(("collapsed cluster", {"shape": "box3d", "style": "filled"}))
        if self.p.groups:
            kinds.append(("… hidden nodes …", {"shape": "box", "style": "dashed,rounded"}))
        legend = graphviz.Digraph(
            name="cluster_legend",
            graph_attr={"label": "<<b>legend</b>>", "color": "#d1d5db", "labeljust": "l"},
            node_attr={"fontsize": "9", "height": "0.3"},
        )
        for k, (kind, attrs) in enumerate(kinds):
            legend.node(f"legend{k}", label=kind, **attrs)
            if k:  # invisible links keep the legend in one row
                legend.edge(f"legend{k - 1}", f"legend{k}", style="invis")
        self.g.subgraph(legend)


def _first_input_first(p: Plan) -> list[int]:
    """The nodes' indices as a depth-first walk from the output meets them, inputs in order."""
    seen = [False] * len(p.order)
    out: list[int] = []
    stack = [p.index[p.root]]
    while stack:
        i = stack.pop()
        if seen[i]:
            continue
        seen[i] = True
        out.append(i)
        prev = p.order[i]._prev
        stack.extend(p.index[q] for q in reversed(prev) if type(q) is Value)
    return out


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _esc(text: str, limit: int = 48) -> str:
    """Text for an HTML-like label: & < > " ' as entities, backslashes doubled, one line."""
    text = " ".join(str(text).split())
    # Control characters (a NUL ends dot's input) are written as Python writes them: \x00.
    text = _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )
    # dot reads "\\" in a label as one backslash, so each one is written twice.
    return text.replace("\\", "\\\\")


def _fields(rows: list[tuple[str, str]]) -> str:
    """A label of "key  value" rows (a row with no key spans the row).

    Key and value sit in cells of their own, never joined by a space: librsvg drops
    the space at the start of an SVG text run, and "data 5" would show as "data5".
    """
    body = "".join(
        f"<tr><td colspan='3'>{v}</td></tr>"
        if not k
        else f"<tr><td align='right'><font color='{GREY}'>{k}</font></td>"
        f"<td width='4'></td><td align='left'>{v}</td></tr>"
        for k, v in rows
    )
    return f"<<table border='0' cellborder='0' cellspacing='0' cellpadding='1'>{body}</table>>"


def _name(text: str) -> str:
    """A name or a scope's label for a label: a blank one as its repr (dot refuses an empty <b>)."""
    return _esc(text if text.strip() else repr(text))


def _table(rows: list[str]) -> str:
    body = "".join(f"<tr><td>{r}</td></tr>" for r in rows)
    return f"<<table border='0' cellborder='0' cellspacing='0' cellpadding='1'>{body}</table>>"


_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}|[A-Za-z]+")


def _colour(s: Scope) -> dict[str, str]:
    """The scope's `color` as attributes: a lesson colour's hex, a name read as SVG reads it.

    graphviz reads a bare name with the X11 scheme in PNG and PDF but SVG viewers
    read it as SVG does (X11 "green" is SVG's "lime"), so names get colorscheme=svg.
    Anything else is grey.
    """
    c = s.attrs.get("color")
    if not isinstance(c, str) or not _COLOUR.fullmatch(c):
        return {"color": GREY, "fontcolor": GREY}
    c = COLOURS.get(c.lower(), c)
    attrs = {"color": c, "fontcolor": c}
    if not c.startswith("#"):
        attrs["colorscheme"] = "svg"
    return attrs


# ---------------------------------------------------------------------------
# Rendering.
# ---------------------------------------------------------------------------


def dot_available() -> bool:
    """True when graphviz's `dot` program is on PATH."""
    return shutil.which("dot") is not None


def render(
    drawing: graphviz.Digraph | Value, path: str | Path, format: str | None = None, **kwargs: Any
) -> Path:
    """Write a drawing (or a Value, drawn with `kwargs`) to `path`, in the format of its suffix.

    `.dot`/`.gv` write the DOT source and need nothing else; svg, png and pdf run `dot`
    and raise `DotNotFoundError` (saying how to install graphviz) when it is missing.
    """
    path = Path(path)
    kind = (format or path.suffix.lstrip(".")).lower()
    if isinstance(drawing, Value):
        drawing = draw(drawing, **kwargs)
    if kind in ("dot", "gv"):
        path.write_text(drawing.source, encoding="utf-8")
        return path
    if kind not in _FORMATS:
        raise ValueError(
            f"cannot tell the format of {path.name!r}: use a .svg, .png, .pdf or .dot file "
            "or pass format="
        )
    with _needs_dot():
        data = drawing.pipe(format=kind)
    path.write_bytes(data)
    return path
