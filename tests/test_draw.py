"""Tests for autograd/draw.py: the DOT structure, labels, clusters, collapsing and rendering."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphviz
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
from autograd import Primitive, Value
from autograd.draw import COLOURS, STYLE, DotNotFoundError, Drawing, draw, plan, render

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None and not os.environ.get("CI"),
    reason="graphviz's dot is not installed (CI installs it and never skips)",
)

HOSTILE = 'a{b}|<c>"d\\&'


# ---------------------------------------------------------------------------
# A small reader of the DOT that draw() writes: nodes, edges and clusters.
# ---------------------------------------------------------------------------


@dataclass
class Dot:
    nodes: dict[str, str] = field(default_factory=dict)  # id -> attribute text
    where: dict[str, tuple[str, ...]] = field(default_factory=dict)  # id -> enclosing clusters
    edges: list[tuple[str, str]] = field(default_factory=list)
    clusters: dict[str, str] = field(default_factory=dict)  # cluster name -> its graph attributes
    parent: dict[str, str | None] = field(default_factory=dict)
    legend: dict[str, str] = field(default_factory=dict)  # the legend's label -> its attributes

    def label(self, node: str) -> str:
        """The label's visible text: tags dropped, entities left as written."""
        m = re.search(r"label=<(.*)>", self.nodes[node])
        assert m, self.nodes[node]
        return re.sub(r"<[^>]*>", " ", m.group(1))

    def cluster_label(self, name: str) -> str:
        m = re.search(r"label=<(.*?)> ", self.clusters[name])
        assert m
        return re.sub(r"<[^>]*>", "", m.group(1))

    def attr(self, node: str, key: str) -> str | None:
        text = without_label(self.nodes[node])
        m = re.search(rf'(?:^|\s){key}=("[^"]*"|[^\s\]]+)', text)
        return None if m is None else m.group(1).strip('"')


def without_label(attrs: str) -> str:
    """The attribute text with the HTML-like label (balanced < >) cut out."""
    start = attrs.find("label=<")
    if start < 0:
        return attrs
    depth, i = 0, start + len("label=")
    while True:
        depth += {"<": 1, ">": -1}.get(attrs[i], 0)
        i += 1
        if depth == 0:
            return attrs[:start] + attrs[i:]


def parse(g: graphviz.Digraph) -> Dot:
    dot = Dot()
    stack: list[str] = []
    for line in g.source.splitlines():
        text = line.strip()
        if m := re.fullmatch(r"subgraph (\w+) \{", text):
            dot.parent[m.group(1)] = stack[-1] if stack else None
            stack.append(m.group(1))
        elif text == "}":
            if stack:
                stack.pop()
        elif stack == ["cluster_legend"]:
            if m := re.fullmatch(r"(\w+) \[label=(\"[^\"]*\"|\S+) (.*)\]", text):
                dot.legend[m.group(2).strip('"')] = m.group(3)
        elif text.startswith("graph [") and stack:
            dot.clusters[stack[-1]] = text
        elif m := re.fullmatch(r"(\w+) -> (\w+)", text):
            dot.edges.append((m.group(1), m.group(2)))
        elif (m := re.fullmatch(r"(\w+) \[(.*)\]", text)) and m.group(1) not in (
            "graph",
            "node",
            "edge",
        ):
            dot.nodes[m.group(1)] = m.group(2)
            dot.where[m.group(1)] = tuple(stack)
    return dot


def lesson_like() -> tuple[Value, dict[str, Value]]:
    """L = (σ(w·x + b) − y)², with named nodes."""
    w, x, b = Value(0.5, name="w"), Value(2.0, name="x"), Value(-1.0, name="b")
    z = w * x + b
    z.name = "z"
    a = z.sigmoid()
    a.name = "a"
    loss = (a - 1.0) ** 2
    loss.name = "L"
    return loss, {"w": w, "x": x, "b": b, "z": z, "a": a, "L": loss}


# ---------------------------------------------------------------------------
# Nodes and labels.
# ---------------------------------------------------------------------------


def test_draw_returns_a_digraph_without_needing_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    loss, _ = lesson_like()
    g = draw(loss)
    assert isinstance(g, graphviz.Digraph)
    assert g.source.startswith("digraph")


def test_labels_show_name_data_and_grad_not_computed_before_backward() -> None:
    loss, v = lesson_like()
    g = draw(loss)
    dot = parse(g)
    for name, node in v.items():
        text = dot.label(g.ids[node])
        assert name in text
        assert "not computed yet" in text
        assert f"data {float(node.data):.4g}" in " ".join(text.split())


def test_labels_show_grads_after_backward() -> None:
    loss, v = lesson_like()
    loss.backward()
    dot = parse(draw(loss))
    g = draw(loss)
    for node in v.values():
        text = " ".join(dot.label(g.ids[node]).split())
        assert "not computed" not in text
        assert f"grad {node.grad:.4g}" in text
    assert "grad 1" in " ".join(dot.label(g.ids[loss]).split())


def test_show_grad_false_leaves_grads_out() -> None:
    loss, v = lesson_like()
    g = draw(loss, show_grad=False)
    dot = parse(g)
    for node in v.values():
        assert "grad" not in dot.label(g.ids[node])
        assert "data" in dot.label(g.ids[node])


def test_an_operation_node_sits_between_a_result_and_its_inputs() -> None:
    x, y = Value(2.0, name="x"), Value(3.0, name="y")
    z = x * y
    g = draw(z)
    dot = parse(g)
    vx, vy, vz, oz = g.ids[x], g.ids[y], g.ids[z], g.op_id(z)
    assert oz is not None
    assert sorted(dot.edges) == sorted([(vx, oz), (vy, oz), (oz, vz)])
    assert "×" in dot.label(oz)


def test_a_value_used_twice_by_one_op_has_two_arrows() -> None:
    x = Value(3.0, name="x")
    sq = x * x
    g = draw(sq)
    assert parse(g).edges.count((g.ids[x], g.op_id(sq))) == 2


class Cube(Primitive):
    """x³ (a custom primitive for the drawing)."""

    forward = staticmethod(lambda a: a**3)
    grads = (lambda g, out, a: g * 3.0 * a * a,)


@pytest.mark.parametrize(
    ("make", "symbol"),
    [
        (lambda x: x + 1.0, "+"),
        (lambda x: x * 2.0, "×"),
        (lambda x: x.sigmoid(), "σ"),
        (lambda x: x.exp(), "exp"),
        (lambda x: x.log(), "ln"),
        (lambda x: x.tanh(), "tanh"),
        (lambda x: x.relu(), "ReLU"),
        (lambda x: x**2, "x²"),
        (lambda x: x**-1.0, "1/x"),
        (lambda x: x**1.5, "x^1.5"),
        (lambda x: Cube.apply(x), "Cube"),
        (lambda x: Value(np.ones(3)) @ (Value(np.ones(3)) * x), "@"),
        (lambda x: (Value(np.ones((2, 3))) * x).sum(), "Σ"),
        (lambda x: (Value(np.ones((2, 3))) * x).sum(axis=1), "Σ axis=1"),
        (lambda x: (Value(np.ones((2, 3))) * x).T, "ᵀ"),
        (lambda x: (Value(np.ones((2, 3))) * x).reshape(3, 2), "reshape (3, 2)"),
        (lambda x: (Value(np.ones((2, 3))) * x)[0, 1:], "[0, 1:]"),
    ],
)
def test_operation_labels(make: Any, symbol: str) -> None:
    x = Value(2.0, name="x")
    out = make(x)
    g = draw(out)
    assert symbol in " ".join(parse(g).label(g.op_id(out) or "").split())


def test_raw_constants_are_small_dashed_nodes_feeding_their_operation() -> None:
    x = Value(2.0, name="x")
    y = x * 3.0
    g = draw(y)
    dot = parse(g)
    constants = [n for n in dot.nodes if n.startswith("c")]
    assert len(constants) == 1
    c = constants[0]
    assert dot.label(c).strip() == "3"
    assert dot.attr(c, "style") == "dashed"
    assert (c, g.op_id(y)) in dot.edges


def test_non_differentiable_arguments_are_not_drawn_as_constants() -> None:
    t = Value(np.arange(6.0).reshape(2, 3), name="t")
    s = t.sum(axis=0)
    dot = parse(draw(s))
    assert not [n for n in dot.nodes if n.startswith("c")]


def test_kinds_are_styled_distinctly_and_the_legend_names_them() -> None:
    loss, v = lesson_like()
    g = draw(loss, params=[v["w"], v["b"]])
    dot = parse(g)
    fill = {k: dot.attr(g.ids[v[k]], "fillcolor") for k in v}
    assert fill["w"] == fill["b"] == STYLE["parameter"]
    assert fill["x"] == STYLE["input"]
    assert fill["L"] == STYLE["output"]
    assert fill["z"] == fill["a"] == STYLE["value"]
    assert len({STYLE[k] for k in ("parameter", "input", "output", "value")}) == 4
    assert set(dot.legend) == {
        "output",
        "parameter",
        "input",
        "intermediate value",
        "operation",
        "constant",
    }


def test_the_legend_shows_each_kind_in_the_shape_and_colour_it_has_in_the_graph() -> None:
    loss, v = lesson_like()
    g = draw(loss, params=[v["w"], v["b"]])
    dot = parse(g)
    c = next(n for n in dot.nodes if n.startswith("c"))
    for kind, node in (
        ("output", g.ids[loss]),
        ("parameter", g.ids[v["w"]]),
        ("input", g.ids[v["x"]]),
        ("intermediate value", g.ids[v["z"]]),
        ("operation", g.op_id(v["z"])),
        ("constant", c),
    ):
        legend = Dot(nodes={"k": dot.legend[kind]})
        for key in ("shape", "style", "fillcolor"):
            assert legend.attr("k", key) == dot.attr(node or "", key), (kind, key)
    assert "legend" not in dot.nodes


def test_without_owners_or_params_every_leaf_is_an_input() -> None:
    loss, v = lesson_like()
    g = draw(loss)
    dot = parse(g)
    for k in ("w", "x", "b"):
        assert dot.attr(g.ids[v[k]], "fillcolor") == STYLE["input"]


def test_tensors_show_shape_and_a_summary() -> None:
    big = Value(np.arange(12.0).reshape(3, 4), name="big")
    small = Value(np.array([1.0, 2.5]), name="small")
    out = (big * 2.0).sum() + (small * small).sum()
    g = draw(out)
    dot = parse(g)
    text = " ".join(dot.label(g.ids[big]).split())
    assert "shape 3×4 float64" in text
    assert "mean 5.5 · min 0 · max 11" in text
    assert "grad not computed yet" in text
    assert "[1, 2.5]" in " ".join(dot.label(g.ids[small]).split())
    out.backward()
    g = draw(out)
    assert "grad mean 2 · min 2 · max 2" in " ".join(parse(g).label(g.ids[big]).split())


def test_hostile_names_are_escaped_in_the_dot_source() -> None:
    x = Value(1.0, name=HOSTILE)
    y = x * 2.0
    with autograd.scope(HOSTILE, color="red"):
        z = y + 1.0
    g = draw(z)
    text = parse(g).label(g.ids[x])
    assert "a{b}|&lt;c&gt;&quot;d\\\\&amp;" in text
    assert HOSTILE not in g.source


# ---------------------------------------------------------------------------
# Clusters.
# ---------------------------------------------------------------------------


class Owner:
    """Stands in for an nn module: it owns parameters."""

    def __init__(self, *params: Value):
        self.params = list(params)

    def parameters(self) -> list[Value]:
        return self.params


def perceptrons() -> tuple[Value, dict[str, Any]]:
    """The lesson's shape: red and green perceptrons feeding a purple one, in a network scope."""
    x1, x2 = Value(0.3, name="x1"), Value(-0.7, name="x2")
    ws = {k: Value(0.1 * i, name=k) for i, k in enumerate(("w11", "w21", "b1", "w12", "w22", "b2"))}
    top = {k: Value(0.2, name=k) for k in ("w1", "w2", "b")}
    red = Owner(ws["w11"], ws["w21"], ws["b1"])
    green = Owner(ws["w12"], ws["w22"], ws["b2"])
    purple = Owner(*top.values())
    net = Owner(*red.params, *green.params, *purple.params)
    with autograd.scope("TwoLayerNetwork", owner=net):
        with autograd.scope("red", owner=red, color="red"):
            a1 = (ws["w11"] * x1 + ws["w21"] * x2 + ws["b1"]).sigmoid()
        with autograd.scope("green", owner=green, color="green"):
            a2 = (ws["w12"] * x1 + ws["w22"] * x2 + ws["b2"]).sigmoid()
        with autograd.scope("purple", owner=purple, color="purple"):
            y_hat = (top["w1"] * a1 + top["w2"] * a2 + top["b"]).sigmoid()
    y_hat.name = "y_hat"
    loss = -(1.0 * y_hat.log())
    loss.name = "L"
    return loss, {"x1": x1, "x2": x2, **ws, **top, "a1": a1, "a2": a2, "y_hat": y_hat}


def test_scopes_become_nested_clusters_labelled_and_coloured() -> None:
    loss, v = perceptrons()
    g = draw(loss)
    dot = parse(g)
    by_label = {dot.cluster_label(c): c for c in dot.clusters}
    assert set(by_label) == {"TwoLayerNetwork", "red", "green", "purple"}
    net = by_label["TwoLayerNetwork"]
    assert dot.parent[net] is None
    for colour in ("red", "green", "purple"):
        c = by_label[colour]
        assert dot.parent[c] == net
        assert f'color="{COLOURS[colour]}" ' in dot.clusters[c]
    assert dot.where[g.ids[v["a1"]]] == (net, by_label["red"])
    assert dot.where[g.ids[v["y_hat"]]] == (net, by_label["purple"])
    assert dot.where[g.ids[loss]] == ()
    assert dot.where[g.ids[v["x1"]]] == ()


def test_parameters_come_from_scope_owners_and_sit_in_their_owners_cluster() -> None:
    loss, v = perceptrons()
    g = draw(loss)
    dot = parse(g)
    by_label = {dot.cluster_label(c): c for c in dot.clusters}
    for name, colour in (("w11", "red"), ("b2", "green"), ("w1", "purple"), ("b", "purple")):
        node = g.ids[v[name]]
        assert dot.attr(node, "fillcolor") == STYLE["parameter"]
        assert dot.where[node][-1] == by_label[colour]
    assert dot.attr(g.ids[v["x1"]], "fillcolor") == STYLE["input"]


def test_a_scope_label_with_hostile_text_is_escaped() -> None:
    x = Value(1.0, name="x")
    with autograd.scope(HOSTILE, color='red" fontsize="99'):
        y = x * 2.0
    dot = parse(draw(y))
    (cluster,) = dot.clusters.values()
    assert "&lt;c&gt;&quot;" in cluster
    assert "fontsize" not in cluster  # an odd colour is not passed through


def test_lesson_network_draws_red_green_purple_clusters() -> None:
    nn = pytest.importorskip("nn")
    if not hasattr(nn, "TwoLayerNetwork"):
        pytest.skip("nn.TwoLayerNetwork is not there yet")
    net = nn.TwoLayerNetwork(seed=0)
    out = net([Value(0.5, name="x1"), Value(-0.2, name="x2")])
    g = draw(out)
    dot = parse(g)
    colours = {}
    for c in dot.clusters:
        m = re.search(r'color="(#\w+)" ', dot.clusters[c])
        colours[dot.cluster_label(c)] = m.group(1) if m else None
    for colour in ("red", "green", "purple"):
        assert colours[colour] == COLOURS[colour]
    by_label = {dot.cluster_label(c): c for c in dot.clusters}
    for name, colour in (("w11", "red"), ("w22", "green"), ("b", "purple")):
        node = g.ids[getattr(net, name)]
        assert dot.where[node][-1] == by_label[colour]
        assert dot.attr(node, "fillcolor") == STYLE["parameter"]


# ---------------------------------------------------------------------------
# Big graphs.
# ---------------------------------------------------------------------------


def many_samples(n: int) -> Value:
    """Σ over n samples of the perceptron network's loss: n copies of each cluster."""
    total: Any = 0.0
    for _ in range(n):
        loss, _ = perceptrons()
        total = total + loss
    return total


def test_small_graphs_are_drawn_whole_without_a_caption() -> None:
    loss, _ = perceptrons()
    g = draw(loss)
    assert g.caption == ""
    assert all(node in g.ids for node in autograd.topological_order(loss))


def test_past_max_nodes_the_innermost_clusters_collapse_with_a_count() -> None:
    out = many_samples(3)
    n = len(autograd.topological_order(out))
    g = draw(out, max_nodes=n - 1)
    dot = parse(g)
    boxes = [k for k in dot.nodes if k.startswith("s")]
    assert len(boxes) == 9  # red, green, purple in each of three samples
    by_label = {dot.cluster_label(c) for c in dot.clusters}
    assert by_label == {"TwoLayerNetwork"}  # the outer clusters stay, their insides collapse
    texts = sorted(" ".join(dot.label(b).split()) for b in boxes)
    assert texts[0] == "green 8 nodes 3 parameters"  # 5 operations and 3 parameters
    assert "clusters (green, purple, red) are drawn as one box each" in g.caption
    assert f"{n:,} nodes, more than max_nodes={n - 1}" in g.caption
    red_box = next(b for b in boxes if dot.label(b).split()[0] == "red")
    assert dot.attr(red_box, "color") == COLOURS["red"]


def test_when_that_is_not_enough_the_outer_clusters_collapse_too() -> None:
    out = many_samples(3)
    g = draw(out, max_nodes=25)
    dot = parse(g)
    boxes = [" ".join(dot.label(b).split()) for b in dot.nodes if b.startswith("s")]
    assert sorted(boxes) == ["TwoLayerNetwork 24 nodes 9 parameters"] * 3
    assert not dot.clusters
    assert len([k for k in dot.nodes if k.startswith("v")]) + len(boxes) <= 25


def test_clusters_hidden_between_the_two_ends_are_not_drawn() -> None:
    g = draw(many_samples(30), max_nodes=40)
    dot = parse(g)
    assert "clusters (TwoLayerNetwork)" in g.caption and "“… N nodes …”" in g.caption
    assert len([k for k in dot.nodes if k.startswith(("v", "s"))]) == 40
    assert [k for k in dot.nodes if k.startswith("s")]
    assert {k for edge in dot.edges for k in edge} <= set(dot.nodes)


def chain(n: int) -> tuple[Value, Value]:
    x = Value(0.5, name="x")
    y = x
    for i in range(n):
        y = y * 1.0000001 if i % 2 else y + 0.001
    y.name = "out"
    return x, y


def test_a_chain_of_100000_nodes_draws_its_two_ends_and_a_count_between() -> None:
    x, out = chain(100_000)
    g = draw(out, max_nodes=40)
    dot = parse(g)
    values = [k for k in dot.nodes if k.startswith("v")]
    assert len(values) == 40
    assert g.ids[out] in values and g.ids[x] in values
    (between,) = [k for k in dot.nodes if k.startswith("h")]
    assert dot.label(between).strip() == f"… {100_001 - 40:,} nodes …"
    assert len(dot.edges) < 200
    # The hidden run is one box, fed by the leaf end and feeding the output end.
    assert sum(1 for _, h in dot.edges if h == between) == 1
    assert sum(1 for t, _ in dot.edges if t == between) == 1
    assert "100,001 nodes, more than max_nodes=40" in g.caption
    assert "99,961 nodes between the output end and the leaves" in g.caption


def test_separate_hidden_pieces_get_separate_boxes() -> None:
    _, left = chain(500)
    _, right = chain(500)
    out = left * right
    dot = parse(draw(out, max_nodes=60))
    assert len([k for k in dot.nodes if k.startswith("h")]) == 2


def test_the_leaves_kept_are_the_parameters_first() -> None:
    """A parameter at the far end of a long chain of inputs is still drawn."""
    w = Value(0.5, name="w")
    y = w * 2.0
    for k in range(1000):
        y = y + Value(float(k), name=f"c{k}")
    g = draw(y, max_nodes=20, params=[w])
    assert g.ids.get(w) is not None
    assert parse(g).attr(g.ids[w], "fillcolor") == STYLE["parameter"]


def test_past_a_tenth_of_max_nodes_the_hidden_pieces_share_one_box() -> None:
    ends = [chain(200)[1] for _ in range(30)]
    out = ends[0]
    for end in ends[1:]:
        out = out + end
    g = draw(out, max_nodes=40)
    hidden = [k for k in parse(g).nodes if k.startswith("h")]
    assert 1 < len(hidden) <= 40 // 10


def counts(dot: Dot) -> int:
    """How many Values a drawing stands for: its boxes, and the counts in its summary boxes."""
    total = 0
    for k in dot.nodes:
        if k.startswith("v"):
            total += 1
        elif k.startswith(("s", "h")):
            m = re.search(r"([\d,]+) nodes", dot.label(k))
            assert m, dot.label(k)
            total += int(m.group(1).replace(",", ""))
    return total


@st.composite
def scoped_graphs(draw: Any) -> Value:
    """A random graph of scalar operations, made inside random nested scopes."""
    a, d = autograd.scope("a"), autograd.scope("d", color="red")
    with a:
        b, c = autograd.scope("b"), autograd.scope("c")
        with b, c:  # c inside b inside a
            pass
    places = [contextlib.nullcontext(), a, b, c, d]
    nodes = [Value(float(k), name=f"x{k}") for k in range(draw(st.integers(1, 4)))]
    for _ in range(draw(st.integers(1, 40))):
        x, y = draw(st.sampled_from(nodes)), draw(st.sampled_from(nodes))
        op = draw(st.sampled_from(["mul", "add 1", "tanh"]))
        with draw(st.sampled_from(places)):
            nodes.append(x * y if op == "mul" else x + 1.0 if op == "add 1" else x.tanh())
    return nodes[-1]


@given(scoped_graphs(), st.integers(1, 30))
def test_every_drawing_stands_for_every_node_once_within_max_nodes(
    out: Value, max_nodes: int
) -> None:
    g = draw(out, max_nodes=max_nodes)
    dot = parse(g)
    n = len(autograd.topological_order(out))
    assert plan(out, max_nodes=max_nodes).shown[0][0] in "vs"  # the output, or its cluster
    assert counts(dot) == n
    boxes = [k for k in dot.nodes if k.startswith(("v", "s"))]
    assert len(boxes) <= max(n if n <= max_nodes else max_nodes, 1)
    assert {k for edge in dot.edges for k in edge} <= set(dot.nodes)
    assert all(tail != head for tail, head in dot.edges)


@pytest.mark.slow
def test_a_million_nodes_draw_without_recursion_error() -> None:
    _, out = chain(1_000_000)
    g = draw(out)
    assert "1,000,001 nodes" in g.caption
    assert sys.getrecursionlimit() < 1_000_000


# ---------------------------------------------------------------------------
# Highlighting.
# ---------------------------------------------------------------------------


def test_highlighted_nodes_are_marked_red_and_the_legend_says_so() -> None:
    loss, v = lesson_like()
    g = draw(loss, highlight=[v["z"]])
    dot = parse(g)
    assert dot.attr(g.ids[v["z"]], "color") == "#dc2626"
    assert dot.attr(g.op_id(v["z"]) or "", "color") == "#dc2626"
    assert dot.attr(g.ids[v["a"]], "color") is None
    assert "wrong gradient" in dot.legend


# ---------------------------------------------------------------------------
# Rendering and Jupyter.
# ---------------------------------------------------------------------------


def svg_texts(data: bytes | str) -> list[str]:
    root = ET.fromstring(data)
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


@needs_dot
def test_render_svg_with_dot_is_valid_xml_with_the_labels(tmp_path: Path) -> None:
    loss, _ = perceptrons()
    loss.backward()
    path = render(draw(loss), tmp_path / "graph.svg")
    texts = svg_texts(path.read_bytes())
    for expected in ("w11", "y_hat", "red", "green", "purple", "σ", "legend"):
        assert expected in texts


@needs_dot
def test_hostile_names_render_exactly(tmp_path: Path) -> None:
    x = Value(1.0, name=HOSTILE)
    with autograd.scope(HOSTILE, color="red"):
        y = x * 2.0
    for name in ("trailing\\", "two\\\\", "tab\there", "quote's"):
        y = y + Value(1.0, name=name)
    texts = svg_texts(render(y, tmp_path / "h.svg").read_bytes())
    assert texts.count(HOSTILE) == 2  # the node and the cluster
    for name in ("trailing\\", "two\\\\", "tab here", "quote's"):
        assert name in texts


@needs_dot
@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_render_png_and_pdf(tmp_path: Path, suffix: str, magic: bytes) -> None:
    loss, _ = lesson_like()
    path = render(loss, tmp_path / f"graph{suffix}")
    assert path.read_bytes().startswith(magic)


@needs_dot
def test_a_deep_chain_renders(tmp_path: Path) -> None:
    _, out = chain(100_000)
    texts = svg_texts(render(out, tmp_path / "chain.svg", max_nodes=30).read_bytes())
    assert f"… {100_001 - 30:,} nodes …" in texts


def test_render_dot_needs_no_graphviz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    loss, _ = lesson_like()
    path = render(loss, tmp_path / "graph.dot")
    assert path.read_text(encoding="utf-8") == draw(loss).source


@pytest.mark.parametrize("suffix", [".svg", ".png", ".pdf"])
def test_missing_dot_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    loss, _ = lesson_like()
    with pytest.raises(DotNotFoundError) as info:
        render(loss, tmp_path / f"graph{suffix}")
    message = str(info.value)
    for hint in ("apt install graphviz", "brew install graphviz", "conda install -c conda-forge"):
        assert hint in message
    assert isinstance(info.value, graphviz.ExecutableNotFound)


def test_missing_dot_in_graphviz_own_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    g = draw(lesson_like()[0])
    with pytest.raises(DotNotFoundError, match="apt install graphviz"):
        g.pipe(format="svg")
    with pytest.raises(DotNotFoundError, match="brew install graphviz"):
        g.render(tmp_path / "graph", format="svg")
    bundle = g._repr_mimebundle_()
    assert "apt install graphviz" in bundle["text/plain"]


def test_rendering_any_digraph_without_dot_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DotNotFoundError, match="apt install graphviz"):
        render(graphviz.Digraph(), tmp_path / "graph.svg")


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format"):
        render(lesson_like()[0], tmp_path / "graph.bmpx")


@needs_dot
def test_value_draw_shows_inline_in_jupyter_as_svg() -> None:
    loss, _ = lesson_like()
    g = loss.draw(rankdir="TB")
    assert isinstance(g, Drawing)
    assert "rankdir=TB" in g.source
    bundle = g._repr_mimebundle_()
    assert "L" in svg_texts(bundle["image/svg+xml"])


# ---------------------------------------------------------------------------
# The lesson's picture: layout, colours in every format, spacing, names, kinds.
# ---------------------------------------------------------------------------


def cluster_boxes(svg: bytes) -> dict[str, float]:
    """The top edge (smallest y) of each cluster's outline in an SVG, by the cluster's label."""
    ns = "{http://www.w3.org/2000/svg}"
    tops = {}
    for group in ET.fromstring(svg).iter(f"{ns}g"):
        if group.get("class") != "cluster":
            continue
        label = "".join("".join(t.itertext()) for t in group.iter(f"{ns}text"))
        shape = group.find(f"{ns}path")
        if shape is None:
            shape = group.find(f"{ns}polygon")
        assert shape is not None
        numbers = re.findall(r"-?\d+(?:\.\d+)?", shape.get("d") or shape.get("points") or "")
        tops[label] = min(float(y) for y in numbers[1::2])
    return tops


def test_red_comes_before_green_in_the_dot_source() -> None:
    loss, _ = perceptrons()
    source = draw(loss).source
    assert source.index("<b>red</b>") < source.index("<b>green</b>")
    assert source.index("<b>x1</b>") < source.index("<b>x2</b>")


@needs_dot
def test_red_is_drawn_above_green_and_the_inputs_left_of_purple() -> None:
    nn = pytest.importorskip("nn")
    from nn.demo import lesson_graph

    _, g = lesson_graph(nn.TwoLayerNetwork(seed=0), 2.0, 5.0, 1.0)
    svg = g.pipe(format="svg")
    tops = cluster_boxes(svg)
    assert tops["red"] < tops["green"]  # SVG's y grows downwards
    ns = "{http://www.w3.org/2000/svg}"
    x = {}
    for node in ET.fromstring(svg).iter(f"{ns}g"):
        texts = ["".join(t.itertext()) for t in node.iter(f"{ns}text")]
        if node.get("class") == "node" and texts:
            x[texts[0]] = min(float(t.get("x") or 0) for t in node.iter(f"{ns}text"))
    assert x["x1"] < x["w1"] and x["x2"] < x["w1"]


def test_the_lesson_graph_has_y_as_a_named_input() -> None:
    nn = pytest.importorskip("nn")
    from nn.demo import lesson_graph

    loss, g = lesson_graph(nn.TwoLayerNetwork(seed=0), 2.0, 5.0, 1.0)
    dot = parse(g)
    named = {node.name: node for node in autograd.topological_order(loss) if node.name}
    for name in ("x1", "x2", "y"):
        assert named[name].grad is not None  # inputs get gradients too, and stay inputs
        assert dot.attr(g.ids[named[name]], "fillcolor") == STYLE["input"]
        assert name in dot.label(g.ids[named[name]]).split()
    assert not [n for n in dot.nodes if n.startswith("c")]  # no anonymous constant 1


def test_hand_made_leaves_that_received_a_gradient_are_parameters_unless_inputs() -> None:
    loss, v = lesson_like()
    loss.backward()
    dot = parse(g := draw(loss))
    for k in ("w", "x", "b"):
        assert dot.attr(g.ids[v[k]], "fillcolor") == STYLE["parameter"]
    dot = parse(g := draw(loss, inputs=[v["x"]]))
    assert dot.attr(g.ids[v["x"]], "fillcolor") == STYLE["input"]
    assert dot.attr(g.ids[v["w"]], "fillcolor") == STYLE["parameter"]
    dot = parse(g := draw(loss, params=[v["w"]]))
    assert dot.attr(g.ids[v["b"]], "fillcolor") == STYLE["input"]


def test_a_module_graph_keeps_its_modules_parameters_and_hand_made_leaves_as_inputs() -> None:
    loss, v = perceptrons()
    loss.backward()
    g = draw(loss)
    dot = parse(g)
    assert dot.attr(g.ids[v["x1"]], "fillcolor") == STYLE["input"]
    assert dot.attr(g.ids[v["w11"]], "fillcolor") == STYLE["parameter"]


def pixels(png: bytes) -> set[tuple[int, int, int]]:
    Image = pytest.importorskip("PIL.Image")
    import io

    rows = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    return {(int(r), int(g), int(b)) for r, g, b in np.unique(rows, axis=0)}


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[k : k + 2], 16) for k in (1, 3, 5))  # type: ignore[return-value]


@needs_dot
def test_cluster_colours_are_the_same_in_png_and_svg() -> None:
    loss, _ = perceptrons()
    with autograd.scope("maroon one", color="maroon"):
        loss = loss * 2.0
    g = draw(loss)
    svg = g.pipe(format="svg").decode()
    png = pixels(g.pipe(format="png"))
    for colour in (COLOURS["red"], COLOURS["green"], COLOURS["purple"]):
        assert f'stroke="{colour}"' in svg
        assert rgb(colour) in png, colour
    # Another name is read as SVG reads it in every format (X11's maroon is #b03060).
    assert 'stroke="maroon"' in svg
    assert rgb("#800000") in png and rgb("#b03060") not in png
    assert rgb("#00ff00") not in png  # X11 "green", which SVG calls lime


@needs_dot
def test_no_label_text_relies_on_a_space_at_its_ends(tmp_path: Path) -> None:
    """librsvg drops a text run's leading space; "data 5" must not become "data5"."""
    loss, _ = perceptrons()
    loss.backward()
    texts = svg_texts(render(draw(loss), tmp_path / "g.svg").read_bytes())
    assert "data" in texts and "grad" in texts
    for t in texts:
        assert t == t.strip(), repr(t)


@needs_dot
@pytest.mark.parametrize("name", ["", "   ", "a\x00b", "\x00", "\x7f"])
def test_blank_and_control_character_names_render(tmp_path: Path, name: str) -> None:
    x = Value(1.0, name=name)
    with autograd.scope(name):
        y = x * 2.0
    texts = svg_texts(render(y, tmp_path / "n.svg").read_bytes())
    shown = repr(name) if not name.strip() else repr(name)[1:-1]
    assert texts.count(" ".join(shown.split())) == 2  # the node and the cluster


@needs_dot
@pytest.mark.parametrize(("suffix", "magic"), [(".svg", b"<?xml"), (".png", b"\x89PNG")])
def test_value_draw_renders_to_a_path(tmp_path: Path, suffix: str, magic: bytes) -> None:
    loss, _ = lesson_like()
    g = loss.draw(tmp_path / f"x{suffix}", show_grad=False)
    assert isinstance(g, Drawing) and "not computed yet" not in g.source
    assert (tmp_path / f"x{suffix}").read_bytes().startswith(magic)
    loss.draw(str(tmp_path / "x.dot"))
    assert (tmp_path / "x.dot").read_text(encoding="utf-8") == draw(loss).source


def test_value_draw_refuses_a_path_of_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format"):
        lesson_like()[0].draw(tmp_path / "x.bmpx")
    assert not (tmp_path / "x.bmpx").exists()
