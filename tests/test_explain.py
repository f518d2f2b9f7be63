"""Tests for autograd/explain.py: chain-rule explanations and the check of local derivatives."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
from autograd import Primitive, Value, no_grad
from autograd.draw import draw
from autograd.explain import Explanation, _width, explain, find_wrong_gradients, pretty


def lesson_like() -> dict[str, Value]:
    """L = (ŷ − 1)² with ŷ = σ(z), z = w·x + b: one path to each leaf."""
    w, x, b = Value(0.5, name="w"), Value(2.0, name="x"), Value(-1.0, name="b")
    z = w * x + b
    z.name = "z"
    y_hat = z.sigmoid()
    y_hat.name = "y_hat"
    loss = (y_hat - 1.0) ** 2
    loss.name = "L"
    return {"w": w, "x": x, "b": b, "z": z, "y_hat": y_hat, "L": loss}


# ---------------------------------------------------------------------------
# One path.
# ---------------------------------------------------------------------------


def test_one_path_reads_like_the_chain_rule_and_equals_the_gradient() -> None:
    v = lesson_like()
    v["L"].backward()
    e = explain(v["L"], v["w"])
    assert isinstance(e, Explanation)
    assert e.n_paths == 1 and e.omitted == 0
    (path,) = e.paths
    assert path.product == pytest.approx(v["w"].grad, rel=1e-12)
    assert e.total == pytest.approx(v["w"].grad, rel=1e-12)
    lines = str(e).splitlines()
    assert " ".join(lines[0].split()) == "dL/dw = dL/dŷ · dŷ/dz · dz/dw"
    assert lines[2].split("= ")[-1] == f"{v['w'].grad:.4g}".replace("-", "−")


def test_the_numbers_sit_under_their_symbols() -> None:
    v = lesson_like()
    e = explain(v["L"], v["w"])
    top, numbers = str(e).splitlines()[:2]
    assert _width(top.split(" = ")[0]) == _width(numbers.split(" = ")[0])

    def columns(line: str) -> list[int]:
        body = line.split(" = ", 1)[1]
        starts, width = [], _width(line.split(" = ", 1)[0]) + 3
        for part in body.split(" · "):
            starts.append(width)
            width += _width(part) + 3
        return starts

    assert columns(top) == columns(numbers)
    dl_dyhat, dyhat_dz, dz_dw = (f.value for f in e.paths[0].steps)
    expected = [f"{d:.4g}".replace("-", "−") for d in (dl_dyhat, dyhat_dz, dz_dw)]
    assert [p.strip() for p in numbers.split(" = ")[1].split(" · ")] == expected


def test_a_direct_dependence_is_one_link() -> None:
    a, b = Value(2.0, name="a"), Value(3.0, name="b")
    prod = a * b
    prod.name = "p"
    assert str(explain(prod, a)) == "dp/da = 3"


def test_factors_know_their_nodes_ops_and_values() -> None:
    v = lesson_like()
    (path,) = explain(v["L"], v["b"]).paths
    assert path.nodes[0] is v["L"] and path.nodes[-1] is v["b"]
    assert v["y_hat"] in path.nodes and v["z"] in path.nodes
    sig = next(f for f in path.factors if f.output is v["y_hat"])
    assert sig.ops == ("σ",)
    assert sig.input is v["z"]
    s = float(v["y_hat"].data)
    assert sig.value == pytest.approx(s * (1 - s))
    assert math.prod(f.value for f in path.factors) == pytest.approx(path.product)
    assert math.prod(f.value for f in path.steps) == pytest.approx(path.product)


def test_unnamed_intermediate_nodes_are_skipped_in_the_printed_chain() -> None:
    v = lesson_like()
    (path,) = explain(v["L"], v["w"]).paths
    # (ŷ − 1)² goes through ŷ + (−1) and the square; w·x + b through w·x.
    assert len(path.factors) == 5
    assert [f.symbol for f in path.steps] == ["dL/dŷ", "dŷ/dz", "dz/dw"]
    assert path.steps[0].ops == ("x²", "+")


def test_pretty_names() -> None:
    assert pretty("y_hat") == "ŷ"
    assert pretty("x1_hat") == "x̂1"
    assert pretty("w11") == "w11"
    assert pretty("hat") == "hat"
    assert pretty("two\nlines") == "two lines"
    assert pretty("x" * 30) == "x" * 23 + "…"


# ---------------------------------------------------------------------------
# Several paths.
# ---------------------------------------------------------------------------


def test_x_times_x_has_two_paths_one_per_operand() -> None:
    x = Value(3.0, name="x")
    sq = x * x
    e = explain(sq, x)
    assert e.n_paths == 2
    assert [f.symbol for p in e.paths for f in p.factors] == ["df/dx[1]", "df/dx[2]"]
    sq.backward()
    assert e.total == x.grad == 6.0
    text = str(e)
    assert "Σ over 2 paths" in text
    assert text.splitlines()[-1] == "df/dx = 3 + 3 = 6"


def test_unnamed_output_and_leaf_get_symbols_and_definitions() -> None:
    x = Value(0.5)
    y = (x * 2.0).exp() + x
    text = str(explain(y, x))
    assert text.startswith("df/dx = Σ over 2 paths from f back to x:")
    assert "u1 = exp(u2)" in text and "u2 = x · 2" in text


def test_paths_are_counted_exactly_and_listed_up_to_the_cap() -> None:
    x = Value(1.0, name="x")
    y = x
    for _ in range(80):
        y = y + y  # each step doubles the number of paths
    e = explain(y, x, max_paths=4)
    assert e.n_paths == 2**80
    assert len(e.paths) == 4
    assert e.omitted == 2**80 - 4
    assert e.total == 2.0**80
    y.backward()
    assert e.total == x.grad
    text = str(e)
    assert "about 1.21e24 more paths not listed (max_paths=4)" in text
    assert len(text.splitlines()) < 20


def test_max_paths_none_lists_every_path() -> None:
    x = Value(2.0, name="x")
    y = (x * x) * x
    e = explain(y, x, max_paths=None)
    assert len(e.paths) == e.n_paths == 3
    assert sum(p.product for p in e.paths) == pytest.approx(12.0)


def test_output_that_does_not_depend_on_wrt() -> None:
    x, other = Value(1.0, name="x"), Value(2.0, name="other")
    e = explain(x * 3.0, other)
    assert e.n_paths == 0 and e.paths == [] and e.total == 0.0
    assert "does not depend on other" in str(e)


def test_a_node_explained_against_itself() -> None:
    v = lesson_like()
    e = explain(v["L"], v["L"])
    assert e.n_paths == 1 and e.total == 1.0 and e.paths[0].product == 1.0
    assert str(e) == "dL/dL = 1"


def test_an_intermediate_node_as_wrt() -> None:
    v = lesson_like()
    v["L"].backward()
    e = explain(v["L"], v["z"])
    assert e.total == pytest.approx(v["z"].grad)


def test_wrt_by_name() -> None:
    v = lesson_like()
    assert explain(v["L"], "w").wrt is v["w"]
    with pytest.raises(ValueError, match="no nodes named 'nope'"):
        explain(v["L"], "nope")
    twice = Value(1.0, name="a") * Value(2.0, name="a")
    with pytest.raises(ValueError, match="2 nodes named 'a'"):
        explain(twice, "a")


def test_tensor_graphs_are_refused_with_a_clear_error() -> None:
    w = Value(np.ones(3), name="w")
    loss = (w * 2.0).sum()
    with pytest.raises(ValueError, match=r"graphs of scalars.*shape \(3,\).*gradients\(\)"):
        explain(loss, w)
    with pytest.raises(ValueError, match="scalar output"):
        explain(w * 2.0, w)


def test_a_chain_of_10000_nodes_prints_a_bounded_chain() -> None:
    x = Value(0.3, name="x")
    y = x
    for _ in range(10_000):
        y = y.tanh() * 1.001
    y.name = "y"
    y.backward()
    e = explain(y, x)
    assert e.total == pytest.approx(x.grad, rel=1e-9)
    text = str(e)
    assert "more factors" in text
    assert len(text) < 2000


# ---------------------------------------------------------------------------
# Property: the products add up to the gradient.
# ---------------------------------------------------------------------------

UNARY = [
    lambda a: a.tanh(),
    lambda a: a.sigmoid(),
    lambda a: a * 1.5,
    lambda a: a**2,
    lambda a: (a * 0.5).exp(),
    lambda a: a.softplus(),
    lambda a: 2.0 - a,
]
BINARY = [
    lambda a, b: a + b,
    lambda a, b: a * b,
    lambda a, b: a - b,
    lambda a, b: a / (b.sigmoid() + 0.5),
]


@st.composite
def scalar_graphs(draw_: Any) -> tuple[Value, list[Value]]:
    """A random expression over 1–4 leaves: each step applies an op to earlier nodes."""
    n_leaves = draw_(st.integers(1, 4))
    values = st.floats(-2.0, 2.0, allow_nan=False)
    leaves = [Value(draw_(values), name=f"x{i}") for i in range(n_leaves)]
    nodes: list[Value] = list(leaves)
    for _ in range(draw_(st.integers(1, 12))):
        if draw_(st.booleans()):
            op = draw_(st.sampled_from(UNARY))
            nodes.append(op(draw_(st.sampled_from(nodes))))
        else:
            op2 = draw_(st.sampled_from(BINARY))
            nodes.append(op2(draw_(st.sampled_from(nodes)), draw_(st.sampled_from(nodes))))
    return nodes[-1], leaves


@given(scalar_graphs())
def test_the_products_of_the_paths_add_up_to_the_gradient(graph: tuple[Value, list[Value]]) -> None:
    out, leaves = graph
    grads = autograd.gradients(out, leaves)
    for leaf, g in zip(leaves, grads, strict=True):
        e = explain(out, leaf, max_paths=2000)
        assert e.total == pytest.approx(g, rel=1e-9, abs=1e-12)
        if e.omitted == 0:
            assert len(e.paths) == e.n_paths
            assert sum(p.product for p in e.paths) == pytest.approx(g, rel=1e-9, abs=1e-12)


# ---------------------------------------------------------------------------
# The lesson's network.
# ---------------------------------------------------------------------------


def lesson_network() -> tuple[Any, Any, Value]:
    nn = pytest.importorskip("nn")
    if not hasattr(nn, "TwoLayerNetwork") or not hasattr(nn, "analytic_gradients"):
        pytest.skip("nn.TwoLayerNetwork is not there yet")
    net = nn.TwoLayerNetwork(seed=3)
    loss = nn.log_loss(net([Value(0.8, name="x1"), Value(-1.3, name="x2")]), 1.0)
    loss.name = "L"
    return nn, net, loss


NINE = ("w11", "w21", "b1", "w12", "w22", "b2", "w1", "w2", "b")


@pytest.mark.parametrize("name", NINE)
def test_each_of_the_nine_parameters_reproduces_the_closed_form(name: str) -> None:
    nn, net, loss = lesson_network()
    closed = nn.analytic_gradients(net, [0.8, -1.3], 1.0)[name]
    e = explain(loss, getattr(net, name))
    assert e.n_paths == 1
    assert e.paths[0].product == pytest.approx(closed, rel=1e-12, abs=1e-15)


def test_the_lesson_chain_for_w11_is_the_one_on_the_slide() -> None:
    """The chain starts at the slide's dL/dŷ · dŷ/dz, whose product is ŷ − y."""
    _, net, loss = lesson_network()
    e = explain(loss, net.w11)
    first = " ".join(str(e).splitlines()[0].split())
    assert first == "dL/dw11 = dL/dŷ · dŷ/dz · dz/da1 · da1/dz1 · dz1/dw11"
    y_hat = net([0.8, -1.3]).item()
    d_y_hat, d_z = e.paths[0].steps[0].value, e.paths[0].steps[1].value
    assert d_y_hat == pytest.approx((y_hat - 1.0) / (y_hat * (1 - y_hat)), rel=1e-14)
    assert d_y_hat * d_z == pytest.approx(y_hat - 1.0, rel=1e-14)


def test_where_sigmoid_has_rounded_to_1_the_chain_starts_at_dl_dz() -> None:
    """Where σ(z) is on log_loss's clip the loss is the node on z: dL/dz = ŷ − y exactly."""
    nn, net, _ = lesson_network()
    with no_grad():
        net.b.data = 40.0
    loss = nn.log_loss(net([0.8, -1.3]), 0.0)
    loss.name = "L"
    loss.backward()
    e = explain(loss, net.w11)
    first = " ".join(str(e).splitlines()[0].split())
    assert first == "dL/dw11 = dL/dz · dz/da1 · da1/dz1 · dz1/dw11"
    assert e.paths[0].steps[0].value == 1.0  # ŷ − y with ŷ = 1.0, not 0


# ---------------------------------------------------------------------------
# Finding a wrong local derivative.
# ---------------------------------------------------------------------------


class Cube(Primitive):
    """x³, with a deliberately wrong derivative: 2x² instead of 3x²."""

    forward = staticmethod(lambda a: a**3)
    grads = (lambda g, out, a: g * 2.0 * a * a,)


class GoodCube(Primitive):
    """x³; ∂/∂x = 3x²."""

    forward = staticmethod(lambda a: a**3)
    grads = (lambda g, out, a: g * 3.0 * a * a,)


class BadAbs(Primitive):
    """|x|, whose derivative at the kink is claimed to be 5 (outside [−1, 1])."""

    forward = staticmethod(abs)
    grads = (lambda g, out, a: g * (5.0 if a == 0 else (1.0 if a > 0 else -1.0)),)


def bigger_network(cube: type[Primitive]) -> tuple[Value, Value]:
    """A graph with tensors, matmul, indexing, kinks at zero, float32, and one cube node."""
    rng = np.random.default_rng(1)
    W = Value(rng.normal(size=(3, 4)), name="W")
    b = Value(np.zeros(4), name="b")
    X = Value(rng.normal(size=(5, 3)), name="X")
    h = (X @ W + b).relu()
    flat = (h * 0.0).relu()  # relu exactly at its kink, elementwise
    s = (h.sum(axis=0) + flat.sum(axis=0)).tanh()
    x = Value(0.7, name="x")
    c = cube.apply(x * 2.0)
    c.name = "cube"
    t = (s[1:] * c).sum() + (s**2.0).mean() + s.exp().log().sum()
    t = t + (s.sigmoid() / (1.0 + s.softplus())).sum()
    t = t + Value(np.float32(0.5)) * x ** Value(1.5) + X.T.reshape(15)[3]
    t = t + autograd.relu(x - 0.7) + (x - 0.7).relu() * c  # scalar kinks at exactly 0
    return t, c


def test_the_planted_wrong_primitive_is_named_and_nothing_else() -> None:
    out, cube = bigger_network(Cube)
    wrong = find_wrong_gradients(out)
    assert len(wrong) == 1
    (w,) = wrong
    assert w.node is cube
    assert w.op == "Cube" and w.input_index == 0
    assert w.expected == pytest.approx(3 * 1.4**2, rel=1e-6)
    assert w.obtained == pytest.approx(2 * 1.4**2, rel=1e-12)
    assert "'cube' made by Cube" in str(w)


def test_with_a_correct_primitive_nothing_is_found() -> None:
    out, _ = bigger_network(GoodCube)
    assert find_wrong_gradients(out) == []


def test_relu_at_zero_is_not_flagged() -> None:
    x = Value(0.0, name="x")
    t = Value(np.array([0.0, 1.0, -1.0, 0.0]), name="t")
    out = x.relu() + (t.relu() * 2.0).sum()
    assert find_wrong_gradients(out) == []


def test_a_wrong_slope_at_a_kink_is_still_found() -> None:
    x = Value(0.0, name="x")
    out = BadAbs.apply(x) * 1.0
    (w,) = find_wrong_gradients(out)
    assert w.obtained == 5.0


def test_every_builtin_primitive_passes_the_check() -> None:
    rng = np.random.default_rng(7)
    a = Value(rng.uniform(0.5, 2.0, size=(2, 3)), name="a")
    m = Value(rng.normal(size=(3, 2)), name="m")
    v = Value(rng.normal(size=3), name="v")
    s = Value(1.3, name="s")
    f32 = Value(rng.normal(size=(2, 3)).astype(np.float32), name="f32")
    out = (
        (a @ m).sum()
        + (v @ m).sum()
        + (a @ v).sum()
        + (a**s).sum()
        + (s**a).sum()
        + a.log().sum()
        + (a / s).tanh().sum()
        + a.T.reshape(6)[::2].sum()
        + (a + v).mean(axis=1).sum()
        + (a * f32).softplus().sum()
        + s.sigmoid() * s.exp()
    )
    assert find_wrong_gradients(out) == []


def test_draw_highlights_what_the_checker_found() -> None:
    out, cube = bigger_network(Cube)
    wrong = find_wrong_gradients(out)
    g = draw(out, highlight=wrong, max_nodes=1000)
    op = g.op_id(cube)
    assert op is not None
    line = next(ln for ln in g.source.splitlines() if ln.strip().startswith(f"{op} ["))
    assert 'color="#dc2626"' in line
    assert re.search(r"expected 5\.88, vjp gave 3\.92", line)
    others = [ln for ln in g.source.splitlines() if "#dc2626" in ln and "legend" not in ln]
    assert len(others) == 2  # the cube's value box and its operation


def test_the_lesson_network_has_no_wrong_gradients() -> None:
    _, _, loss = lesson_network()
    assert find_wrong_gradients(loss) == []


# ---------------------------------------------------------------------------
# The lesson's network written by hand, as the slides write it.
# ---------------------------------------------------------------------------

SLIDE = {
    "w11": "dL/dŷ · dŷ/dz · dz/da1 · da1/dz1 · dz1/dw11",
    "w21": "dL/dŷ · dŷ/dz · dz/da1 · da1/dz1 · dz1/dw21",
    "b1": "dL/dŷ · dŷ/dz · dz/da1 · da1/dz1 · dz1/db1",
    "w12": "dL/dŷ · dŷ/dz · dz/da2 · da2/dz2 · dz2/dw12",
    "w22": "dL/dŷ · dŷ/dz · dz/da2 · da2/dz2 · dz2/dw22",
    "b2": "dL/dŷ · dŷ/dz · dz/da2 · da2/dz2 · dz2/db2",
    "w1": "dL/dŷ · dŷ/dz · dz/dw1",
    "w2": "dL/dŷ · dŷ/dz · dz/dw2",
    "b": "dL/dŷ · dŷ/dz · dz/db",
}


def hand_written(y: float, x: tuple[float, float] = (0.8, -1.3)) -> tuple[Any, dict[str, Value]]:
    """The lesson's network and log loss in scalar Values, named as on the slides."""
    nn = pytest.importorskip("nn")
    net = nn.TwoLayerNetwork(seed=3)
    p = {name: Value(float(getattr(net, name).data), name=name) for name in NINE}
    x1, x2 = x

    def named(v: Value, name: str) -> Value:
        v.name = name
        return v

    z1 = named(p["w11"] * x1 + p["w21"] * x2 + p["b1"], "z1")
    a1 = named(z1.sigmoid(), "a1")
    z2 = named(p["w12"] * x1 + p["w22"] * x2 + p["b2"], "z2")
    a2 = named(z2.sigmoid(), "a2")
    z = named(p["w1"] * a1 + p["w2"] * a2 + p["b"], "z")
    y_hat = named(z.sigmoid(), "y_hat")
    loss = named(-(y * y_hat.log() + (1 - y) * (1 - y_hat).log()), "L")
    return nn.analytic_gradients(net, list(x), y), {**p, "L": loss}


@pytest.mark.parametrize("y", [1.0, 0.0])
@pytest.mark.parametrize("name", NINE)
def test_each_parameter_of_the_hand_written_network_is_its_closed_form_and_the_slide(
    name: str, y: float
) -> None:
    closed, v = hand_written(y)
    e = explain(v["L"], v[name])
    assert e.total == pytest.approx(closed[name], rel=1e-12, abs=1e-15)
    assert sum(p.product for p in e.paths) == pytest.approx(closed[name], rel=1e-12, abs=1e-15)
    # Two paths, one per term of the loss, each the slide's chain and named by its term.
    assert e.n_paths == 2
    for path in e.paths:
        assert " · ".join(f.symbol for f in path.steps) == SLIDE[name]
    lines = str(e).splitlines()
    assert lines[0] == f"dL/d{name} = Σ over 2 paths from L back to {name}:"
    assert " ".join(lines[1].split()) == f"{SLIDE[name]} (via ln ŷ)"
    assert " ".join(lines[3].split()) == f"+ {SLIDE[name]} (via ln(1 − ŷ))"
    # The term whose label is 0 contributes nothing, and its path says so.
    zero = e.paths[1] if y == 1.0 else e.paths[0]
    assert zero.product == 0.0


def test_the_two_log_loss_paths_read_differently_with_no_minus_zero() -> None:
    """The issue's case: both paths printed `dL/dŷ · dŷ/dz · …`, with `= -0` and `+ -0`."""
    _, v = hand_written(1.0, (2.0, 1.0))
    text = str(explain(v["L"], v["w11"]))
    assert "via ln ŷ" in text and "via ln(1 − ŷ)" in text
    assert re.search(r"(?<!e)-", text) is None  # every minus is −, outside exponents
    assert "−0 " not in text and "= −0\n" not in text and "+ −" not in text


def test_columns_line_up_on_every_path() -> None:
    _, v = hand_written(0.0)
    lines = str(explain(v["L"], v["w12"])).splitlines()[1:5]

    def dots(line: str) -> list[int]:
        return [_width(line[: m.start()]) for m in re.finditer("·", line.split("(via")[0])]

    assert len({tuple(dots(line)) for line in lines}) == 1, "\n".join(lines)
    assert _width(lines[0].split("(via")[0].rstrip()) <= _width(lines[1].split(" = ")[0])


def test_a_negative_term_is_subtracted_in_the_total() -> None:
    x = Value(0.5, name="x")
    y = x * -0.2 + x * 3.0
    y.name = "y"
    text = str(explain(y, x))
    assert text.splitlines()[-2] == "dy/dx = −0.2 + 3 = 2.8"
    assert "u1 = x · (−0.2)" in text
    y2 = x * 3.0 + x * -0.02357
    y2.name = "y"
    assert str(explain(y2, x)).splitlines()[-2] == "dy/dx = 3 − 0.02357 = 2.976"


def test_an_explanation_shows_as_typeset_math_in_jupyter() -> None:
    _, v = hand_written(1.0)
    latex = explain(v["L"], v["w11"])._repr_latex_()
    assert latex.startswith("$$") and latex.endswith("$$")
    assert r"\frac{\partial L}{\partial w_{11}}" in latex
    assert r"\frac{\partial L}{\partial \hat{y}}" in latex
    assert r"\ln (" in latex and r"\text{ via }" in latex
    assert "−" not in latex


def test_a_gradcheck_report_shows_as_a_table_in_jupyter() -> None:
    a, b = Value(np.array([0.5, -1.0]), name="a"), Value(2.0, name="b")
    report = autograd.gradcheck(lambda p, q: (p * q).tanh().sum(), a, b)
    table = report._repr_html_()
    assert "<table>" in table and table.count("<tr>") == 3
    assert "<td>a</td>" in table and "<td>b</td>" in table and "passed" in table


def test_columns_line_up_when_one_path_has_wider_numbers() -> None:
    a = Value(0.5, name="a")

    def named(v: Value, name: str) -> Value:
        v.name = name
        return v

    u1, u2 = named(a * 2.0, "u1"), named(a * 3.0, "u2")
    t1 = named((u1 * -0.0001234).tanh(), "t1")
    t2 = named(u2.exp(), "t2")
    y = named(t1 * 1.5 + t2, "y")
    lines = str(explain(y, a)).splitlines()[1:5]

    def dots(line: str) -> list[int]:
        return [_width(line[: m.start()]) for m in re.finditer("·", line.split("(via")[0])]

    assert len({tuple(dots(line)) for line in lines}) == 1, "\n".join(lines)


def test_a_large_operand_has_a_sample_of_its_elements_judged() -> None:
    class Doubled(Primitive):
        forward = staticmethod(lambda a: a * 1.0)
        grads = (lambda g, out, a: g * 2.0,)

    out = Doubled.apply(Value(np.linspace(-1, 1, 5000))).sum()
    (w,) = find_wrong_gradients(out, max_elements=50)
    assert w.elements == 50
    (every,) = find_wrong_gradients(Doubled.apply(Value(np.ones(60))).sum(), max_elements=None)
    assert every.elements == 60
