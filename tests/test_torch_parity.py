"""Parity with PyTorch in float64: the catalogue, random graphs and micrograd-style expressions.

Each expression is written once and run on both engines; values and gradients must agree to
about 1e-10 relative. Skipped when torch is not installed.
"""

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from catalogue import Closure, Op, ValueBackend, cases, closures
from hypothesis import assume, example, given

from autograd import Value
from autograd.testing import Graph, NumpyOps, graphs, seed_for

torch = pytest.importorskip("torch")

RTOL, ATOL = 1e-10, 1e-12


class TorchBackend:
    """torch, in the catalogue's terms."""

    exp = staticmethod(lambda x: torch.exp(x))
    log = staticmethod(lambda x: torch.log(x))
    tanh = staticmethod(lambda x: torch.tanh(x))
    sigmoid = staticmethod(lambda x: torch.sigmoid(x))
    relu = staticmethod(lambda x: torch.relu(x))
    softplus = staticmethod(lambda x: torch.logaddexp(x, torch.zeros_like(x)))
    sum = staticmethod(lambda x, axis=None, keepdims=False: x.sum(dim=axis, keepdim=keepdims))
    mean = staticmethod(lambda x, axis=None, keepdims=False: x.mean(dim=axis, keepdim=keepdims))
    reshape = staticmethod(lambda x, shape: x.reshape(shape))
    transpose = staticmethod(lambda x, axes: x.permute(*axes))
    T = staticmethod(lambda x: x.permute(*reversed(range(x.ndim))) if x.ndim else x)
    broadcast_to = staticmethod(lambda x, shape: x.expand(shape))
    scatter = staticmethod(
        lambda g, shape, index: torch.zeros(shape, dtype=torch.float64).index_put(
            (torch.as_tensor(index),), g, accumulate=True
        )
    )
    cast = staticmethod(lambda x, dtype: x.to(dtype))
    const = staticmethod(lambda x: torch.as_tensor(x, dtype=torch.float64))
    softmax = staticmethod(lambda x, axis: torch.softmax(x, dim=axis))
    log_softmax = staticmethod(lambda x, axis: torch.log_softmax(x, dim=axis))
    logsumexp = staticmethod(
        lambda x, axis=None, keepdims=False: torch.logsumexp(x, dim=dims(x, axis), keepdim=keepdims)
    )
    max = staticmethod(
        lambda x, axis=None, keepdims=False: torch.amax(x, dim=dims(x, axis), keepdim=keepdims)
    )
    min = staticmethod(
        lambda x, axis=None, keepdims=False: torch.amin(x, dim=dims(x, axis), keepdim=keepdims)
    )
    abs = staticmethod(torch.abs)
    sqrt = staticmethod(torch.sqrt)
    clip = staticmethod(lambda x, low, high: torch.clamp(x, low, high))
    where = staticmethod(lambda cond, a, b: torch.where(torch.as_tensor(cond), a, b))
    concatenate = staticmethod(lambda xs, axis: torch.cat(xs, dim=axis))
    stack = staticmethod(lambda xs, axis: torch.stack(xs, dim=axis))


def dims(x: Any, axis: Any) -> Any:
    """numpy's axis as torch's dim: every axis for None."""
    return tuple(range(x.ndim)) if axis is None else axis


# Entries torch spells differently: its slices have no negative steps.
TORCH_SPELLING: dict[str, Callable[..., Any]] = {"a[:, ::-2]": lambda o, a: a.flip(1)[:, ::2]}


def leaf(x: Any) -> Any:
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def on_torch(fn: Callable[..., Any], inputs: list[Any], seed: Any) -> tuple[Any, list[Any]]:
    """Value and input gradients of fn on torch leaves, seeded with ∂L/∂out = seed."""
    leaves = [leaf(x) for x in inputs]
    out = fn(*leaves)
    out.backward(torch.as_tensor(seed, dtype=torch.float64))
    grads = [t.grad.numpy() if t.grad is not None else np.zeros(t.shape) for t in leaves]
    return out.detach().numpy(), grads


def on_engine(fn: Callable[..., Any], inputs: list[Any], seed: Any) -> tuple[Any, list[Any]]:
    leaves = [Value(x) for x in inputs]
    out = fn(*leaves)
    out.backward(seed)
    return out.data, [v.grad for v in leaves]


def assert_same(engine: tuple[Any, list[Any]], reference: tuple[Any, list[Any]]) -> None:
    (value, grads), (want, want_grads) = engine, reference
    np.testing.assert_allclose(value, want, rtol=RTOL, atol=ATOL)
    assert np.shape(value) == np.shape(want)
    for g, w in zip(grads, want_grads, strict=True):
        assert np.shape(g) == np.shape(w)
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL * max(1.0, float(np.max(np.abs(w)))))


@pytest.mark.parametrize(("op", "shapes"), cases())
def test_catalogue_matches_torch(op: Op, shapes: tuple) -> None:
    inputs = op.inputs(shapes)
    out_shape = op.fn(ValueBackend, *(Value(x) for x in inputs)).shape
    seed = seed_for(out_shape, op.name)
    engine = on_engine(lambda *v: op.fn(ValueBackend, *v), inputs, seed)
    fn = TORCH_SPELLING.get(op.name, op.fn)
    assert_same(engine, on_torch(lambda *t: fn(TorchBackend, *t), inputs, seed))


def check_graph(graph: Graph) -> None:
    engine = on_engine(lambda *v: graph(ValueBackend, *v), list(graph.leaves), 1.0)
    reference = on_torch(lambda *t: graph(TorchBackend, *t), list(graph.leaves), 1.0)
    try:
        assert_same(engine, reference)
    except AssertionError as e:
        raise AssertionError(f"{graph}\n{e}") from None


@given(graphs())
@example(Graph((0.0,), (("relu", (0,)), ("mul", (1, 0))), (1.0,), "scalar"))  # relu'(0) = 0
@example(Graph((1.0,), (("add", (0, 0)), ("add", (1, 1))), (0.0,), "scalar"))
# Found by the numerical check: a kink next to curvature (relu(0) beside exp).
@example(Graph((0.0,), (("relu", (0,)), ("exp", (0,)), ("exp", (0,))), (-1.0, 2.0), "scalar"))
def test_scalar_graphs_match_torch(graph: Graph) -> None:
    check_graph(graph)


@given(graphs(tensors=True))
def test_tensor_graphs_match_torch(graph: Graph) -> None:
    check_graph(graph)


# ---------------------------------------------------------------------------
# micrograd compatibility: code written for micrograd's Value, run as it is on both engines.
# Each expression takes the Value constructor V and returns (leaves, output).
# ---------------------------------------------------------------------------


def numbers_on_both_sides(V: Callable[[float], Any]) -> tuple[list[Any], Any]:
    x, y = V(1.5), V(-0.75)
    u = 3 - x * y + 2 / (x + 4)
    w = (u**2 - 1.5 * y).tanh() + (x - y).relu() * 0.5
    z = w / (1 + u.exp()) - y**3 + (y * -2).relu() + (x * -1).relu()
    return [x, y], z


def a_neuron_and_its_loss(V: Callable[[float], Any]) -> tuple[list[Any], Any]:
    xs = [2.0, -1.0, 0.5]
    ws = [V(0.3), V(-0.8), V(1.1)]
    b = V(0.2)
    act = sum((wi * xi for wi, xi in zip(ws, xs, strict=True)), b)
    out = act.tanh()
    loss = (out - 1.0) ** 2 + 1e-2 * sum(w * w for w in ws)
    return [*ws, b], loss


def reuse_and_division(V: Callable[[float], Any]) -> tuple[list[Any], Any]:
    a = V(0.3)
    b = a * a
    c = b * a + a
    d = c.tanh() * b + a.exp() / c - 1 / (1 + (-a).exp())
    e = d**-1 + c**0.5 - b / 4
    return [a], e


def a_two_layer_mlp(V: Callable[[float], Any]) -> tuple[list[Any], Any]:
    rng = np.random.default_rng(11)
    w1 = [[V(float(rng.normal())) for _ in range(2)] for _ in range(3)]
    b1 = [V(0.0) for _ in range(3)]
    w2 = [V(float(rng.normal())) for _ in range(3)]
    b2 = V(0.1)
    points = [((1.0, -2.0), 1.0), ((-0.5, 0.25), -1.0), ((2.0, 1.5), 1.0)]
    total = 0
    for x, y in points:
        hidden = [
            sum((wi * xi for wi, xi in zip(row, x, strict=True)), b).relu()
            for row, b in zip(w1, b1, strict=True)
        ]
        score = sum((wi * h for wi, h in zip(w2, hidden, strict=True)), b2)
        total = total + (1 + -y * score).relu()  # max-margin loss, as in micrograd's demo
    loss = total * (1.0 / len(points)) + 1e-4 * sum(p * p for p in w2)
    return [*(p for row in w1 for p in row), *b1, *w2, b2], loss


MICROGRAD_EXPRESSIONS = [numbers_on_both_sides, a_neuron_and_its_loss, reuse_and_division]
MICROGRAD_EXPRESSIONS += [a_two_layer_mlp]


@pytest.mark.parametrize("expression", MICROGRAD_EXPRESSIONS, ids=lambda f: f.__name__)
def test_micrograd_style_expressions_match_torch(expression: Any) -> None:
    leaves, out = expression(Value)
    out.backward()
    t_leaves, t_out = expression(leaf)
    t_out.backward()
    assert type(out.data) is float
    assert out.data == pytest.approx(float(t_out.data), rel=RTOL)
    for v, t in zip(leaves, t_leaves, strict=True):
        assert type(v.grad) is float
        assert v.grad == pytest.approx(float(t.grad), rel=RTOL, abs=ATOL)


def test_a_micrograd_training_loop_matches_torch() -> None:
    """The demo's loop: zero grads, forward, backward, p.data += -lr · p.grad; three steps."""

    def train(V: Callable[[float], Any], zero: Callable[[Any], None]) -> list[float]:
        params, _ = a_two_layer_mlp(V)
        losses = []
        for _ in range(3):
            for p in params:
                zero(p)
            _, loss = a_two_layer_mlp_with(params)
            loss.backward()
            for p in params:
                p.data += -0.1 * p.grad
            losses.append(float(loss.data))
        return losses

    def zero_value(p: Any) -> None:
        p.grad = 0

    def zero_tensor(p: Any) -> None:
        p.grad = None

    np.testing.assert_allclose(train(Value, zero_value), train(leaf, zero_tensor), rtol=RTOL)


def a_two_layer_mlp_with(params: list[Any]) -> tuple[list[Any], Any]:
    """a_two_layer_mlp on given parameters: V hands them out in order."""
    supply = iter(params)
    return a_two_layer_mlp(lambda _x: next(supply))


# ---------------------------------------------------------------------------
# Nested transforms over closures, against torch.func (which tracks each level apart).
# ---------------------------------------------------------------------------


class EngineTransforms:
    import autograd as _engine

    grad = staticmethod(_engine.grad)
    jacobian = staticmethod(_engine.jacobian)
    hessian = staticmethod(_engine.hessian)
    lift = staticmethod(lambda x: x)


class TorchTransforms:
    grad = staticmethod(lambda f: torch.func.grad(f))
    jacobian = staticmethod(lambda f: torch.func.jacrev(f))
    hessian = staticmethod(lambda f: torch.func.hessian(f))
    lift = staticmethod(lambda x: torch.as_tensor(x, dtype=torch.float64))


C = np.array([0.5, -1.0, 2.0])

# name → (outer transform, function of (T, x)); each inner transform closes over x.
NESTED: dict[str, tuple[str, Callable[[Any, Any], Any]]] = {
    "x·d/dy(x·y)": ("grad", lambda T, x: x * T.grad(lambda y: x * y)(T.lift(2.0))),
    "d/dy (x·y)²": ("grad", lambda T, x: T.grad(lambda y: (x * y) ** 2)(T.lift(1.0))),
    "d/dy tanh(x·y)·y": ("grad", lambda T, x: T.grad(lambda y: (x * y).tanh() * y)(T.lift(0.7))),
    "three deep": (
        "grad",
        lambda T, x: T.grad(lambda y: T.grad(lambda z: (x * y * z).sigmoid())(T.lift(0.3)))(
            T.lift(-0.4)
        ),
    ),
    "Σ ∇_y σ(x∘y)": (
        "jacobian",
        lambda T, x: T.grad(lambda y: (x * y).sigmoid().sum())(T.lift(C)),
    ),
    "Σ_rows J_y tanh(x∘y)": (
        "jacobian",
        lambda T, x: T.jacobian(lambda y: (x * y).tanh())(T.lift(C)).sum(0),
    ),
    "Σ ∇_y ½‖x∘y‖² ∘ x": (
        "hessian",
        lambda T, x: (x * T.grad(lambda y: 0.5 * ((x * y) * (x * y)).sum())(T.lift(C))).sum(),
    ),
}


@pytest.mark.parametrize("name", sorted(NESTED))
def test_nested_transforms_of_closures_match_torch_func(name: str) -> None:
    kind, f = NESTED[name]
    x0 = 1.3 if kind == "grad" else np.array([1.0, 3.0, -2.0])
    ours = getattr(EngineTransforms, kind)(lambda x: f(EngineTransforms, x))(x0)
    theirs = getattr(TorchTransforms, kind)(lambda x: f(TorchTransforms, x))(
        TorchTransforms.lift(x0)
    )
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=RTOL, atol=ATOL)


def _has_zero_exponent(graph: Graph) -> bool:
    """True where some pow of the graph has an exponent of exactly 0 (tanh(b) = 0)."""
    nodes = graph.nodes(NumpyOps, *(np.asarray(x) for x in graph.leaves))
    return any(
        name == "pow" and bool(np.any(np.tanh(nodes[args[1]]) == 0.0)) for name, args in graph.steps
    )


@given(closures())
def test_random_nested_closures_match_torch_func(closure: Closure) -> None:
    # torch masks pow's base gradient to 0 where the exponent is 0, so its derivative of that
    # gradient in the exponent is 0 there, not the true 1/a: such points are left to the
    # central-difference test of the same closures (test_functional).
    assume(not _has_zero_exponent(closure.graph))
    x0 = closure.graph.leaves[0]
    ours = EngineTransforms.grad(lambda x: closure.inner(EngineTransforms, ValueBackend, x))(x0)
    theirs = torch.func.grad(lambda x: closure.inner(TorchTransforms, TorchBackend, x))(
        TorchTransforms.lift(x0)
    )
    np.testing.assert_allclose(ours, theirs.item(), rtol=RTOL, atol=ATOL, err_msg=repr(closure))


def test_torch_and_the_engine_differ_only_in_the_exponent_derivative_of_a_masked_gradient():
    """d/db (∂/∂a a^b) at b = 0 is 1/a; torch, having masked ∂/∂a there, answers 0."""
    from autograd import grad

    assert grad(lambda b: grad(lambda a: a**b)(2.5))(0.0) == pytest.approx(0.4, rel=1e-12)
    b = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    a = torch.tensor(2.5, dtype=torch.float64, requires_grad=True)
    (ga,) = torch.autograd.grad(a**b, a, create_graph=True)
    (gb,) = torch.autograd.grad(ga, b, allow_unused=True)
    assert gb is None or gb.item() == 0.0


POW_BASES = [0.0, -0.0, 1.0, 2.0, 0.5, -2.0, -1.5, math.inf]
POW_EXPONENTS = [0.0, 1.0, 2.0, 3.0, 0.5, 1.5, -1.0, -2.0, -0.5, -1.5]


@pytest.mark.parametrize("exponent_is_value", [True, False])
def test_the_whole_grid_of_powers_matches_torch(exponent_is_value: bool) -> None:
    """a^b and both gradients for every base and exponent of the grid, 0^0 and 0^−1 included."""
    for a0 in POW_BASES:
        for b0 in POW_EXPONENTS:
            a = Value(a0)
            b: Any = Value(b0) if exponent_is_value else b0
            out = a**b
            out.backward()
            ta = torch.tensor(a0, dtype=torch.float64, requires_grad=True)
            # A tensor exponent in torch either way: with a number it special-cases 0.5 as sqrt.
            tb = torch.tensor(b0, dtype=torch.float64, requires_grad=exponent_is_value)
            tout = ta**tb
            tout.backward()
            where = f"{a0!r} ** {b0!r}"
            np.testing.assert_array_equal(out.data, tout.item(), err_msg=where)
            np.testing.assert_array_equal(a.grad, ta.grad.item(), err_msg=f"∂a of {where}")
            if exponent_is_value:
                np.testing.assert_array_equal(b.grad, tb.grad.item(), err_msg=f"∂b of {where}")


# ---------------------------------------------------------------------------
# The multiclass operations where their definitions matter: ties and huge inputs.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "axis"), [("max", 1), ("max", None), ("min", 0), ("min", None)], ids=str
)
def test_max_and_min_share_ties_as_torchs_amax_and_amin(name: str, axis: Any) -> None:
    x = np.array([[1.0, 3.0, 3.0], [3.0, 0.0, 1.0], [1.0, 3.0, 0.0]])
    fn = lambda o, a: getattr(o, name)(a, axis)  # noqa: E731
    seed = seed_for(np.shape(getattr(np, name)(x, axis)), name)
    engine = on_engine(lambda v: fn(ValueBackend, v), [x], seed)
    assert_same(engine, on_torch(lambda t: fn(TorchBackend, t), [x], seed))


@pytest.mark.parametrize("big", [1000.0, -1000.0])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_at_plus_minus_1000_matches_torch(big: float, name: str) -> None:
    x = np.array([[big, big - 2.0, 0.0], [big, big, big]])
    fn = lambda o, a: getattr(o, name)(a, -1) * o.const(np.array([1.0, 2.0, 3.0]))  # noqa: E731
    engine = on_engine(lambda v: fn(ValueBackend, v), [x], np.ones((2, 3)))
    assert_same(engine, on_torch(lambda t: fn(TorchBackend, t), [x], np.ones((2, 3))))
