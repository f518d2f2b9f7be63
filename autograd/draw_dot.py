"""The writer of a drawing: a Plan as DOT text, each kind of node in its look, with a legend."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

import graphviz

from autograd.draw_plan import Plan
from autograd.graph import Scope, is_node
from autograd.text import fmt, op_symbol, summary

if TYPE_CHECKING:
    from autograd.value import Value

DotNode = tuple[str, dict[str, str]]  # a DOT node: its id and its attributes
RED, GREY = "#dc2626", "#6b7280"
# The lesson's colours, as nn's perceptrons name them; a scope's `color` may be one of
# these names, another colour name (read as SVG and CSS read it, in every format) or #hex.
COLOURS = {"red": RED, "green": "#16a34a", "purple": "#9333ea"}
STYLE = {  # the fill colour of each kind of node
    **{"output": "#fde68a", "parameter": "#bfdbfe", "input": "#e5e7eb", "value": "#ffffff"},
    **{"operation": "#f3f4f6", "constant": "#ffffff", "collapsed": "#f9fafb", "wrong": "#fecaca"},
}
_BOX = {"shape": "box", "style": "rounded,filled"}
LOOK = {  # how each kind of node is drawn; the legend shows them the same way
    "output": {**_BOX, "fillcolor": STYLE["output"], "penwidth": "2"},
    "parameter": {**_BOX, "fillcolor": STYLE["parameter"]},
    "input": {**_BOX, "fillcolor": STYLE["input"]},
    "intermediate value": {**_BOX, "fillcolor": STYLE["value"]},
    "operation": {"shape": "ellipse", "style": "filled", "fillcolor": STYLE["operation"]},
    "constant": {"shape": "ellipse", "style": "dashed", "fontsize": "9", "color": "#9ca3af"},
    "wrong gradient": {**_BOX, "fillcolor": STYLE["wrong"], "color": RED},
    "collapsed cluster": {"shape": "box3d", "style": "filled", "fillcolor": STYLE["collapsed"]},
    "… hidden nodes …": {"shape": "box", "style": "dashed,rounded", "color": GREY},
}


def write(
    p: Plan, g: graphviz.Digraph, *, show_grad: bool, precision: int, legend: bool
) -> dict[Value, str]:
    """Put the plan into `g` (nodes inside their clusters, edges, legend, caption); return the
    DOT id of each Value drawn."""
    ids: dict[Value, str] = {}
    bodies: dict[Scope | None, list[DotNode]] = {None: []}  # the nodes in each cluster
    edges: list[tuple[str, str]] = []
    once: set[tuple[str, str]] = set()  # an arrow to or from a box is drawn once
    for i, node in enumerate(p.order):
        me = head = p.shown[i]
        if me[0] == "v":
            ids[node] = me
            nodes, arrows = _nodes(p, i, node, show_grad, precision)
            bodies.setdefault(p.where[i], []).extend(nodes)
            edges += arrows
            head = f"o{i}" if arrows else me
        for q in node.inputs:
            if not is_node(q):
                continue
            tail = p.shown[p.index[q]]
            if tail[0] == "v" and head[0] == "o":
                edges.append((tail, head))  # x * x keeps both arrows
            elif tail != me and (tail, head) not in once:
                once.add((tail, head))
                edges.append((tail, head))
    for name, s in p.boxes.items():
        label = f"<<b>{_esc(s.label)}</b><br/>{p.count[name]:,} nodes"
        label += f"<br/>{p.params_in[name]} parameters>" if p.params_in[name] else ">"
        look = {"label": label, **LOOK["collapsed cluster"], **_colour(s)}
        bodies.setdefault(s.parent, []).append((name, look))
    hidden = [name for name in p.count if name[0] == "h"]
    for name in hidden:
        label = f"<<i>… {p.count[name]:,} nodes …</i>>"
        bodies[None].append((name, {"label": label, **LOOK["… hidden nodes …"]}))
    _clusters(g, bodies)
    for tail, head in edges:
        g.edge(tail, head)
    if legend:
        show = {"wrong gradient": p.wrong, "collapsed cluster": p.boxes, "… hidden nodes …": hidden}
        _legend(g, [kind for kind in LOOK if show.get(kind, True)])
    if p.caption:
        g.attr(label=f"<{_esc(p.caption, 10**4)}>", labelloc="b", labeljust="l", fontsize="12")
    return ids


def _nodes(
    p: Plan, i: int, node: Value, show_grad: bool, precision: int
) -> tuple[list[DotNode], list[tuple[str, str]]]:
    """Node i's box; for an operation's result also the operation and its raw operands."""
    rows = [] if node.name is None else [("", f"<b>{_esc(node.name)}</b>")]
    if node.shape:
        rows.append(("shape", f"{'×'.join(map(str, node.shape))} {node.dtype}"))
    rows.append(("data", _esc(summary(node.data, precision))))
    if show_grad:
        grad = summary(node.grad, precision) if node.grad_computed else "not computed yet"
        rows.append(("grad", _esc(grad)))
    kind = "parameter" if node in p.params else "input"
    kind = "output" if node is p.root else kind if node.is_leaf else "intermediate value"
    red = {"color": RED, "penwidth": "3"} if node in p.wrong else {}
    nodes: list[DotNode] = [(f"v{i}", {"label": _table(rows), **LOOK[kind], **red})]
    if node.op is None:
        return nodes, []
    rows = [("", f"<b>{_esc(op_symbol(node), 32)}</b>")]
    if node in p.wrong:
        red.update(fillcolor=STYLE["wrong"], fontcolor=RED)
        found = [
            f"∂/∂input {getattr(f, 'input_index', '?')}: expected {fmt(f.expected, precision)}, "
            f"vjp gave {fmt(f.obtained, precision)}"
            for f in p.wrong[node]
        ]
        rows += [("", text) for text in found or ["wrong gradient"]]
    nodes.append((f"o{i}", {"label": _table(rows), **LOOK["operation"], **red}))
    arrows = [(f"o{i}", f"v{i}")]
    for k, c in enumerate(node.inputs[: len(node.op.grads)]):
        if not is_node(c):
            label = f"<<font color='{GREY}'>{_esc(summary(c, precision))}</font>>"
            nodes.append((f"c{i}_{k}", {"label": label, **LOOK["constant"]}))
            arrows.append((f"c{i}_{k}", f"o{i}"))
    return nodes, arrows


def _legend(g: graphviz.Digraph, kinds: list[str]) -> None:
    """A row of one node per kind, each in its look."""
    key = graphviz.Digraph(
        name="cluster_legend",
        graph_attr={"label": "<<b>legend</b>>", "color": "#d1d5db", "labeljust": "l"},
        node_attr={"fontsize": "9", "height": "0.3"},
    )
    for k, kind in enumerate(kinds):
        key.node(f"legend{k}", label=kind, **LOOK[kind])
        if k:  # invisible links keep the legend in one row
            key.edge(f"legend{k - 1}", f"legend{k}", style="invis")
    g.subgraph(key)


def _clusters(g: graphviz.Digraph, bodies: dict[Scope | None, list[DotNode]]) -> None:
    """Nested `cluster_*` subgraphs of the scopes that hold something, the inner ones made first."""
    for name, attrs in bodies.pop(None):
        g.node(name, **attrs)
    scopes = dict.fromkeys(a for s in bodies if s is not None for a in s.path())
    built: dict[Scope, graphviz.Digraph] = {}
    for k, s in sorted(enumerate(scopes), key=lambda ks: -len(ks[1].path())):
        attrs = {"label": f"<<b>{_esc(s.label)}</b>>", **_colour(s), "penwidth": "2"}
        sub = graphviz.Digraph(
            name=f"cluster_{k}", graph_attr={**attrs, "style": "rounded", "labeljust": "l"}
        )
        for name, node_attrs in bodies.get(s, ()):
            sub.node(name, **node_attrs)
        for child in [c for c in built if c.parent is s]:
            sub.subgraph(built.pop(child))
        built[s] = sub
    for sub in built.values():  # what is left are the outermost clusters
        g.subgraph(sub)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _esc(text: str, limit: int = 48) -> str:
    """Text for an HTML-like label: one line of at most `limit` characters, & < > " ' escaped,
    control characters as Python writes them (a NUL ends dot's input), backslashes doubled,
    and a blank text as its repr (dot refuses an empty <b>)."""
    text = str(text) if str(text).strip() else repr(text)
    text = _CONTROL.sub(lambda m: repr(m.group())[1:-1], " ".join(text.split()))
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return html.escape(text).replace("\\", "\\\\")


def _table(rows: list[tuple[str, str]]) -> str:
    """A label of "key  value" rows (a row with no key spans the table). Key and value sit in
    cells of their own: librsvg drops a text run's leading space, "data 5" would read "data5"."""
    body = "".join(
        f"<tr><td colspan='3'>{v}</td></tr>"
        if not k
        else f"<tr><td align='right'><font color='{GREY}'>{k}</font></td>"
        f"<td width='4'></td><td align='left'>{v}</td></tr>"
        for k, v in rows
    )
    return f"<<table border='0' cellborder='0' cellspacing='0' cellpadding='1'>{body}</table>>"


_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}|[A-Za-z]+")


def _colour(s: Scope) -> dict[str, str]:
    """The scope's `color`: a lesson colour as its hex, another name as SVG reads it (dot's PNG
    and PDF read names as X11 does, where "green" is SVG's "lime"), anything else grey."""
    c = s.attrs.get("color")
    if not isinstance(c, str) or not _COLOUR.fullmatch(c):
        return {"color": GREY, "fontcolor": GREY}
    c = COLOURS.get(c.lower(), c)
    return {"color": c, "fontcolor": c, **({} if c.startswith("#") else {"colorscheme": "svg"})}
