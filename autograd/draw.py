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
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from autograd import ops
from autograd.graph import Scope, topological_order
from autograd.value import Value

INSTALL_HINT = (
    "rendering needs graphviz's `dot` program, which was not found on PATH. Install it with "
    "`apt install graphviz` (Debian, Ubuntu), `brew install graphviz` (macOS) or "
    "`conda install -c conda-forge graphviz`; `.dot` output works without it."
)

RED = "#dc2626"

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
        try:
            return super().pipe(*args, **kwargs)
        except DotNotFoundError:
            raise
        except graphviz.ExecutableNotFound as e:
            raise DotNotFoundError() from e

    def render(self, *args: Any, **kwargs: Any) -> Any:
        """graphviz's render, with an install hint when `dot` is missing."""
        try:
            return super().render(*args, **kwargs)
        except DotNotFoundError:
            raise
        except graphviz.ExecutableNotFound as e:
            raise DotNotFoundError() from e

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None, **kw: Any
    ) -> dict[str, Any]:
        try:
            return dict(super()._repr_mimebundle_(include, exclude, **kw))
        except graphviz.ExecutableNotFound:
            return {"text/plain": f"{INSTALL_HINT}\n\n{self.source}"}


# ---------------------------------------------------------------------------
# Text: numbers, summaries, escaping.
# ---------------------------------------------------------------------------


def _esc(text: str, limit: int = 48) -> str:
    """Text for an HTML-like label: & < > " ' as entities, backslashes doubled, one line."""
    text = " ".join(str(text).split())
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


# ---------------------------------------------------------------------------
# Which leaves are parameters, and which cluster each node belongs to.
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# The drawing.
# ---------------------------------------------------------------------------


def draw(
    root: Value,
    *,
    rankdir: str = "LR",
    max_nodes: int = 100,
    show_grad: bool = True,
    highlight: Iterable[Any] = (),
    params: Iterable[Value] | None = None,
    legend: bool = True,
    precision: int = 4,
) -> Drawing:
    """The graph `root` depends on, as a graphviz Digraph (no `dot` binary needed to build it).

    Value boxes show name, data and grad ("not computed yet" before a backward
    reaches them); tensors show their shape and a summary. Parameters are the
    `.parameters()` of the owners of the scopes the nodes were made in (nn
    modules), or `params` when given; other leaves are inputs. `highlight`
    takes Values (or results of `find_wrong_gradients`) to mark in red.
    `max_nodes` bounds the number of Values and summary boxes drawn (operation
    and constant nodes come on top); past it, clusters and then long runs of
    nodes collapse into summary boxes.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw() takes a Value, got {type(root).__name__}")
    if max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, got {max_nodes}")
    order = topological_order(root)
    scopes = _Scopes(order)
    param_set = set(params) if params is not None else scopes.parameters()
    wrong = _wrong_nodes(highlight)
    return _Layout(order, root, scopes, param_set, wrong, max_nodes).build(
        rankdir=rankdir, show_grad=show_grad, legend=legend, precision=precision
    )


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


class _Neighbours:
    """For each of m units, the units linked to it: edges (key[i], value[i]) grouped by key."""

    def __init__(self, keys: np.ndarray, values: np.ndarray, m: int):
        order = np.argsort(keys, kind="stable")
        self.start = np.searchsorted(keys[order], np.arange(m + 1))
        self.values = values[order]
        self.count = np.diff(self.start)

    def __getitem__(self, u: int) -> list[int]:
        return self.values[self.start[u] : self.start[u + 1]].tolist()


class _Layout:
    """Decides what to draw (and what to collapse), then writes the DOT."""

    def __init__(
        self,
        order: list[Value],
        root: Value,
        scopes: _Scopes,
        params: set[Value],
        wrong: dict[Value, list[Any]],
        max_nodes: int,
    ):
        self.order = order
        self.root = root
        self.scopes = scopes
        self.params = params
        self.wrong = wrong
        self.max_nodes = max_nodes
        self.index = {node: i for i, node in enumerate(order)}
        home = scopes.home
        # The cluster each node is drawn in: parameters in their owner's, others where made.
        self.where: list[Scope | None] = [
            home.get(node, node._scope) if node._op is None else node._scope for node in order
        ]
        self.notes: list[str] = []
        self._collapse_clusters()
        self._collapse_runs()

    # ---- stage 1: clusters, innermost level first ------------------------------
    def _collapse_clusters(self) -> None:
        n = len(self.order)
        depth = self.scopes.depth
        deepest = max(depth.values(), default=0)
        self.level = deepest + 1  # clusters at this depth or deeper are collapsed
        if n > self.max_nodes and deepest:
            per_depth = [0] * (deepest + 2)
            for s in self.where:
                per_depth[0 if s is None else depth[s]] += 1
            clusters_at = [0] * (deepest + 2)
            for s in depth:
                clusters_at[depth[s]] += 1
            self.level = 1
            for level in range(deepest, 0, -1):
                if sum(per_depth[:level]) + clusters_at[level] <= self.max_nodes:
                    self.level = level
                    break
        # unit[i]: what node i is drawn as; i itself, or n + k for collapsed cluster k.
        self.unit = list(range(n))
        self.boxes: list[Scope] = []
        self.box_size: list[int] = []
        self.box_params: list[int] = []
        if self.level > deepest:
            return
        box_of: dict[Scope, int] = {}
        top_of: dict[Scope, Scope] = {}
        for i, s in enumerate(self.where):
            if s is None or depth[s] < self.level:
                continue
            top = top_of.get(s)
            if top is None:
                top = top_of[s] = self.scopes.ancestor(s, self.level)
            k = box_of.get(top)
            if k is None:
                k = box_of[top] = len(self.boxes)
                self.boxes.append(top)
                self.box_size.append(0)
                self.box_params.append(0)
            self.unit[i] = n + k
            self.box_size[k] += 1
            if self.order[i] in self.params:
                self.box_params[k] += 1
        hidden = sum(self.box_size)
        labels = sorted({b.label for b in self.boxes})
        shown = ", ".join(labels[:6]) + (", …" if len(labels) > 6 else "")
        self.notes.append(
            f"{hidden:,} nodes in {len(self.boxes):,} clusters ({shown}) are drawn as one box each"
        )

    # ---- stage 2: long runs between the output end and the leaves ------------------
    def _collapse_runs(self) -> None:
        n = len(self.order)
        m = n + len(self.boxes)
        unit = self.unit
        units = sorted(set(unit))
        self.kept: set[int] = set(units)
        self.group: list[int] = []  # for each hidden unit, its "… N nodes …" box
        self.groups: list[int] = []  # Values in each "… N nodes …" box
        if len(units) <= self.max_nodes:
            return
        # The edges between units, as flat arrays of ints (millions of small lists are slow).
        tails: list[int] = []
        heads: list[int] = []
        index = self.index
        for i, node in enumerate(self.order):
            u = unit[i]
            for p in node._prev:
                if type(p) is Value:
                    pu = unit[index[p]]
                    if pu != u:
                        tails.append(pu)
                        heads.append(u)
        t, h = np.array(tails, dtype=np.int64), np.array(heads, dtype=np.int64)
        inputs, consumers = _Neighbours(h, t, m), _Neighbours(t, h, m)
        kept: set[int] = set()
        # The output end: breadth-first from the output, half the budget.
        self._bfs([unit[index[self.root]]], inputs, kept, max(1, self.max_nodes // 2))
        # The leaf end: parameters first, then the other leaves, then what they feed.
        no_inputs = inputs.count == 0
        leaves = [u for u in units if no_inputs[u]]
        leaves.sort(key=lambda u: u >= n or self.order[u] not in self.params)
        self._bfs(leaves, consumers, kept, self.max_nodes)
        self.kept = kept
        # What is left falls into connected pieces (union-find); each becomes one box.
        is_kept = np.zeros(m, dtype=bool)
        is_kept[list(kept)] = True
        inside = ~is_kept[t] & ~is_kept[h]
        parent = list(range(m))
        for u, p in zip(t[inside].tolist(), h[inside].tolist(), strict=True):
            while parent[u] != u:
                parent[u] = u = parent[parent[u]]
            while parent[p] != p:
                parent[p] = p = parent[parent[p]]
            if u != p:
                parent[u] = p
        hidden = [u for u in units if not is_kept[u]]
        sizes: dict[int, int] = {}
        for u in hidden:
            r = u
            while parent[r] != r:
                parent[r] = r = parent[parent[r]]
            parent[u] = r
            sizes[r] = sizes.get(r, 0) + (1 if u < n else self.box_size[u - n])
        # The largest pieces get boxes of their own; past a few, the rest share one.
        roots = sorted(sizes, key=lambda r: -sizes[r])
        cap = max(1, self.max_nodes // 10)
        slot = {r: min(j, cap - 1) for j, r in enumerate(roots)}
        self.groups = [0] * min(len(roots), cap)
        for r, j in slot.items():
            self.groups[j] += sizes[r]
        self.group = [-1] * m
        for u in hidden:
            self.group[u] = slot[parent[u]]
        self.notes.append(
            f"{sum(self.groups):,} nodes between the output end and the leaves "
            "are drawn as “… N nodes …”"
        )

    @staticmethod
    def _bfs(start: list[int], edges: _Neighbours, kept: set[int], limit: int) -> None:
        queue = [u for u in start if u not in kept]
        head = 0
        seen = set(queue)
        while head < len(queue) and len(kept) < limit:
            u = queue[head]
            head += 1
            kept.add(u)
            for v in edges[u]:
                if v not in seen and v not in kept:
                    seen.add(v)
                    queue.append(v)

    # ---- writing the DOT ----------------------------------------------------------
    def build(self, *, rankdir: str, show_grad: bool, legend: bool, precision: int) -> Drawing:
        n = len(self.order)
        g = Drawing(
            name="valuegrad",
            graph_attr={"rankdir": rankdir, "fontname": "Helvetica", "compound": "true"},
            node_attr={"fontname": "Helvetica", "fontsize": "11"},
            edge_attr={"color": "#6b7280", "arrowsize": "0.7"},
        )
        self.g = g
        self.bodies: dict[Scope | None, list[tuple[str, dict[str, str]]]] = {None: []}
        self.edges: list[tuple[str, str]] = []
        edges = self.edges
        once: set[tuple[str, str]] = set()

        def head_of(u: int) -> str:
            if u in self.kept:
                if u < n:
                    return "o" + str(u) if self.order[u]._op is not None else "v" + str(u)
                return f"s{u - n}"
            return f"h{self.group[u]}"

        def tail_of(u: int) -> str:
            if u in self.kept:
                return f"v{u}" if u < n else f"s{u - n}"
            return f"h{self.group[u]}"

        for i, node in enumerate(self.order):
            u = self.unit[i]
            if u == i and u in self.kept:
                self._value(i, node, show_grad, precision)
                if node._op is not None:
                    self._operation(i, node, precision)
                    edges.append((f"o{i}", f"v{i}"))
            for p in node._prev:
                if type(p) is not Value:
                    continue
                pu = self.unit[self.index[p]]
                tail, head = tail_of(pu), head_of(u)
                if pu == u or tail == head:
                    continue
                if pu < n and u < n and pu in self.kept and u in self.kept:
                    edges.append((tail, head))  # x * x keeps both arrows
                elif (tail, head) not in once:
                    once.add((tail, head))
                    edges.append((tail, head))
        for k, s in enumerate(self.boxes):
            if n + k in self.kept:
                self._box(k, s)
        for j, size in enumerate(self.groups):
            self.bodies[None].append(
                (
                    f"h{j}",
                    {
                        "label": f"<<i>… {size:,} nodes …</i>>",
                        "shape": "box",
                        "style": "dashed,rounded",
                        "color": "#6b7280",
                    },
                )
            )
        self._emit_clusters()
        for tail, head in edges:
            g.edge(tail, head)
        if legend:
            g.node("legend", label=self._legend(), shape="plain")
        if self.notes:
            g.caption = f"{n:,} nodes, more than max_nodes={self.max_nodes:,}: " + "; ".join(
                self.notes
            )
            g.attr(label=f"<{_esc(g.caption, 10**4)}>", labelloc="b", labeljust="l", fontsize="12")
        return g

    def _kind(self, node: Value) -> str:
        if node is self.root:
            return "output"
        if node._op is not None:
            return "value"
        return "parameter" if node in self.params else "input"

    def _value(self, i: int, node: Value, show_grad: bool, precision: int) -> None:
        rows = []
        if node.name is not None:
            rows.append(f"<b>{_esc(node.name)}</b>")
        if node.shape:
            shape = "×".join(str(d) for d in node.shape)
            rows.append(f"<font color='#6b7280'>shape</font> {shape} {node.dtype}")
        rows.append(f"<font color='#6b7280'>data</font> {_esc(summary(node.data, precision))}")
        if show_grad:
            g = node._grad
            text = "not computed yet" if g is None else summary(g, precision)
            rows.append(f"<font color='#6b7280'>grad</font> {_esc(text)}")
        attrs = {"shape": "box", "style": "rounded,filled", "fillcolor": STYLE[self._kind(node)]}
        if node is self.root:
            attrs["penwidth"] = "2"
        if node in self.wrong:
            attrs.update(color=RED, penwidth="3")
        self.g.ids[node] = f"v{i}"
        self._put(self.where[i], f"v{i}", _table(rows), attrs)

    def _operation(self, i: int, node: Value, precision: int) -> None:
        rows = [f"<b>{_esc(op_symbol(node), 32)}</b>"]
        attrs = {"shape": "ellipse", "style": "filled", "fillcolor": STYLE["operation"]}
        if node in self.wrong:
            attrs.update(color=RED, fillcolor=STYLE["wrong"], penwidth="3", fontcolor=RED)
            for f in self.wrong[node]:
                k = getattr(f, "input_index", "?")
                rows.append(
                    f"∂/∂input {k}: expected {fmt(f.expected, precision)}, "
                    f"vjp gave {fmt(f.obtained, precision)}"
                )
            if not self.wrong[node]:
                rows.append("wrong gradient")
        self._put(self.where[i], f"o{i}", _table(rows), attrs)
        op = node._op
        for k, p in enumerate(node._prev[: len(op.grads)]):
            if type(p) is Value:
                continue
            cid = f"c{i}_{k}"
            label = f"<<font color='#6b7280'>{_esc(summary(p, precision))}</font>>"
            self._put(
                self.where[i],
                cid,
                label,
                {"shape": "ellipse", "style": "dashed", "fontsize": "9", "color": "#9ca3af"},
            )
            self.edges.append((cid, f"o{i}"))

    def _box(self, k: int, s: Scope) -> None:
        n_params = self.box_params[k]
        extra = f"<br/>{n_params} parameters" if n_params else ""
        label = f"<<b>{_esc(s.label)}</b><br/>{self.box_size[k]:,} nodes{extra}>"
        color = _colour(s)
        self._put(
            s.parent,
            f"s{k}",
            label,
            {
                "shape": "box3d",
                "style": "filled",
                "fillcolor": STYLE["collapsed"],
                "color": color,
                "fontcolor": color,
            },
        )

    def _put(self, s: Scope | None, name: str, label: str, attrs: dict[str, str]) -> None:
        self.bodies.setdefault(s, []).append((name, {"label": label, **attrs}))

    def _emit_clusters(self) -> None:
        """Nested `cluster_*` subgraphs for the scopes that hold something, innermost first."""
        g = self.g
        for name, attrs in self.bodies[None]:
            g.node(name, **attrs)
        depth = self.scopes.depth
        # Every scope that holds something, with its ancestors, in order of first use.
        everything: dict[Scope, None] = {}
        for s in self.bodies:
            while s is not None and s not in everything:
                everything[s] = None
                s = s.parent
        children: dict[Scope, list[Scope]] = {}
        for s in everything:
            if s.parent is not None:
                children.setdefault(s.parent, []).append(s)
        built: dict[Scope, graphviz.Digraph] = {}
        for k, s in enumerate(sorted(everything, key=lambda s: -depth[s])):
            color = _colour(s)
            sub = graphviz.Digraph(
                name=f"cluster_{k}",
                graph_attr={
                    "label": f"<<b>{_esc(s.label)}</b>>",
                    "color": color,
                    "fontcolor": color,
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

    def _legend(self) -> str:
        rows = [
            ("output", STYLE["output"]),
            ("parameter", STYLE["parameter"]),
            ("input", STYLE["input"]),
            ("intermediate value", STYLE["value"]),
            ("operation (oval)", STYLE["operation"]),
            ("constant (dashed oval)", STYLE["constant"]),
        ]
        if self.wrong:
            rows.append(("wrong gradient", STYLE["wrong"]))
        if self.boxes:
            rows.append(("collapsed cluster", STYLE["collapsed"]))
        cells = "".join(
            f"<tr><td bgcolor='{colour}' width='18'></td><td align='left'>{name}</td></tr>"
            for name, colour in rows
        )
        return (
            "<<table border='0' cellborder='1' cellspacing='2' cellpadding='3'>"
            f"<tr><td colspan='2' border='0'><b>legend</b></td></tr>{cells}</table>>"
        )


def _table(rows: list[str]) -> str:
    body = "".join(f"<tr><td>{r}</td></tr>" for r in rows)
    return f"<<table border='0' cellborder='0' cellspacing='0' cellpadding='1'>{body}</table>>"


_COLOUR = re.compile(r"#?[A-Za-z0-9]+")


def _colour(s: Scope) -> str:
    """The scope's `color` attribute when it is a plain colour name or #hex, else grey."""
    c = s.attrs.get("color")
    return c if isinstance(c, str) and _COLOUR.fullmatch(c) else "#6b7280"


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
    fmt_ = (format or path.suffix.lstrip(".")).lower()
    if isinstance(drawing, Value):
        drawing = draw(drawing, **kwargs)
    if fmt_ in ("dot", "gv"):
        path.write_text(drawing.source, encoding="utf-8")
        return path
    if fmt_ not in _FORMATS:
        raise ValueError(
            f"cannot tell the format of {path.name!r}: use a .svg, .png, .pdf or .dot file "
            "or pass format="
        )
    try:
        data = drawing.pipe(format=fmt_)
    except graphviz.ExecutableNotFound as e:
        raise DotNotFoundError() from e
    path.write_bytes(data)
    return path
