"""The primitives of autograd/ops.py, driven by the catalogue: values, gradients, shapes, dtypes.

Every entry of tests/catalogue.py is checked over scalars and every shape pattern it lists:
its forward against numpy, its gradients against central differences (autograd.gradcheck),
its second derivatives against central differences of its gradients, the shape and dtype of
every gradient, and its operators with plain numbers, lists and arrays on either side.
"""

import math
import operator
import warnings
from typing import Any

import numpy as np
import pytest
from catalogue import (
    BINARY_ELEMENTWISE,
    OPS,
    NumpyBackend,
    Op,
    ValueBackend,
    cases,
    central_differences,
    on_values,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd
import autograd.ops
from autograd import Primitive, Value, gradcheck, gradients, topological_order
from autograd.testing import broadcastable_shapes, seed_for

MATMUL_OPS = [op for op in OPS if op.name == "a @ b"]


def run(op: Op, inputs: list[Any], seed: Any = None) -> tuple[Value, list[Value]]:
    """The entry on fresh leaves, back-propagated from a fixed random seed."""
    leaves = [Value(x) for x in inputs]
    out = op.fn(ValueBackend, *leaves)
    out.backward(seed_for(out.shape, op.name) if seed is None else seed)
    return out, leaves


# ---------------------------------------------------------------------------
# The catalogue.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("op", "shapes"), cases())
def test_forward_matches_numpy(op: Op, shapes: tuple) -> None:
    inputs = op.inputs(shapes)
    out = op.fn(ValueBackend, *(Value(x) for x in inputs))
    expected = op.fn(NumpyBackend, *(np.asarray(x) for x in inputs))
    assert out.shape == np.shape(expected)
    assert out.dtype == np.float64
    if out.shape == ():
        assert type(out.data) is float  # scalars stay Python floats
    np.testing.assert_allclose(out.data, expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize(("op", "shapes"), cases())
def test_gradients_match_central_differences(op: Op, shapes: tuple) -> None:
    report = gradcheck(on_values(op), *op.inputs(shapes), strict=False)
    assert report, str(report)


@pytest.mark.parametrize(("op", "shapes"), cases())
def test_every_grad_has_the_shape_of_its_data(op: Op, shapes: tuple) -> None:
    _, leaves = run(op, op.inputs(shapes))
    for leaf, shape in zip(leaves, shapes, strict=True):
        assert np.shape(leaf.grad) == np.shape(leaf.data) == shape
        if shape == ():
            assert type(leaf.grad) is float
        else:
            assert leaf.grad.dtype == np.float64


@pytest.mark.parametrize(("op", "shapes"), cases())
def test_second_derivatives_match_central_differences_of_the_gradient(
    op: Op, shapes: tuple
) -> None:
    """d/dx ⟨∇f(x), v⟩ from backward(create_graph=True) equals the numerical one."""
    inputs = op.inputs(shapes)
    rng = np.random.default_rng(7)
    directions = [rng.standard_normal(np.shape(x)) for x in inputs]

    def directional_gradient(points: list[np.ndarray]) -> float:
        _, leaves = run(op, [p if p.ndim else float(p) for p in points])
        return sum(float(np.sum(v.grad * d)) for v, d in zip(leaves, directions, strict=True))

    leaves = [Value(x) for x in inputs]
    out = op.fn(ValueBackend, *leaves)
    seed = seed_for(out.shape, op.name)
    first = gradients(out, leaves, gradient=seed, create_graph=True)
    along = sum((g * d).sum() for g, d in zip(first, directions, strict=True))
    analytic = gradients(along, leaves)
    numerical = central_differences(directional_gradient, inputs, eps=1e-5)
    for a, n in zip(analytic, numerical, strict=True):
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("op", "shapes"), cases())
def test_float32_stays_float32(op: Op, shapes: tuple) -> None:
    inputs = op.inputs(shapes)
    wide, wide_leaves = run(op, inputs)
    narrow_inputs = [np.float32(x) if np.ndim(x) == 0 else x.astype(np.float32) for x in inputs]
    seed = seed_for(wide.shape, op.name)
    narrow, leaves = run(op, narrow_inputs, np.float32(seed) if np.ndim(seed) == 0 else seed)
    assert narrow.dtype == np.float32
    np.testing.assert_allclose(narrow.data, wide.data, rtol=1e-4, atol=1e-5)
    for leaf, wide_leaf in zip(leaves, wide_leaves, strict=True):
        assert np.asarray(leaf.grad).dtype == np.float32
        np.testing.assert_allclose(leaf.grad, wide_leaf.grad, rtol=1e-4, atol=1e-5)


def constant_cases() -> list[Any]:
    """Binary entries with one operand a plain constant: a number, 0-d array, array or list."""
    params = []
    for param in cases([*BINARY_ELEMENTWISE, *MATMUL_OPS]):
        op, shapes = param.values
        for side in (0, 1):
            kinds = ("number", "0-d array") if shapes[side] == () else ("array", "list")
            for kind in kinds:
                name = f"{param.id} {'left' if side == 0 else 'right'} {kind}"
                params.append(pytest.param(op, shapes, side, kind, id=name))
    return params


def as_kind(x: Any, kind: str) -> Any:
    """x as a plain constant of the given kind."""
    if kind == "number":
        return float(x)
    return np.asarray(x).tolist() if kind == "list" else np.array(x)


@pytest.mark.parametrize(("op", "shapes", "side", "kind"), constant_cases())
def test_a_constant_operand_gives_the_same_value_and_gradient(
    op: Op, shapes: tuple, side: int, kind: str
) -> None:
    inputs = op.inputs(shapes)
    out, leaves = run(op, inputs)
    operands: list[Any] = [Value(x) for x in inputs]
    operands[side] = as_kind(inputs[side], kind)
    mixed = op.fn(ValueBackend, *operands)
    assert isinstance(mixed, Value)
    np.testing.assert_allclose(mixed.data, out.data, rtol=1e-14)
    mixed.backward(seed_for(out.shape, op.name))
    other = 1 - side
    np.testing.assert_allclose(operands[other].grad, leaves[other].grad, rtol=1e-14)


# Beyond the catalogue's fixed patterns: shapes that hypothesis draws, for every binary entry.
matmul_pairs = hnp.mutually_broadcastable_shapes(
    signature="(m?,n),(n,p?)->(m?,p?)", max_dims=2, max_side=3
)


@settings(max_examples=25)
@given(shapes=broadcastable_shapes(), seed=st.integers(0, 2**16))
@pytest.mark.parametrize("op", BINARY_ELEMENTWISE, ids=lambda op: op.name)
def test_any_broadcastable_shapes_give_right_gradients(op: Op, shapes: Any, seed: int) -> None:
    rng = np.random.default_rng(seed)
    inputs = [d(rng, s) for d, s in zip(op.domains, shapes, strict=True)]
    report = gradcheck(on_values(op), *inputs, strict=False)
    assert report, str(report)
    out, leaves = run(op, [x if x.shape else float(x) for x in inputs])
    assert out.shape == np.broadcast_shapes(*shapes)
    assert [np.shape(v.grad) for v in leaves] == list(shapes)


@settings(max_examples=50)
@given(shapes=matmul_pairs, seed=st.integers(0, 2**16))
def test_matmul_of_any_compatible_shapes_gives_right_gradients(shapes: Any, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = (rng.standard_normal(s) for s in shapes.input_shapes)
    out = Value(a) @ Value(b)
    assert out.shape == np.matmul(a, b).shape
    report = gradcheck(lambda x, y: x @ y, a, b, strict=False)
    assert report, str(report)


def test_a_cast_between_float32_and_float64_gives_grads_in_the_inputs_dtype() -> None:
    x = Value(np.array([0.5, -1.5], dtype=np.float32))
    wide = autograd.ops.cast(x, np.float64)
    assert wide.dtype == np.float64
    (wide * np.array([1.0, 3.0])).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [1.0, 3.0])
    y = Value(np.array([0.25, 2.0]))
    narrow = autograd.ops.cast(y, np.float32)
    assert narrow.dtype == np.float32
    (g,) = gradients((narrow * narrow).sum(), [y], create_graph=True)
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g.data, [0.5, 4.0])


def test_the_catalogue_reaches_every_primitive_in_ops() -> None:
    """A new primitive in autograd/ops.py without a catalogue entry fails here."""
    primitives = {
        obj
        for obj in vars(autograd.ops).values()
        if isinstance(obj, type) and issubclass(obj, Primitive) and obj.__module__ == "autograd.ops"
    }
    reached = set()
    for op in OPS:
        for shapes in op.shapes:
            out = op.fn(ValueBackend, *(Value(x) for x in op.inputs(shapes)))
            reached |= {node.op for node in topological_order(out)}
    assert primitives - reached == set()


def test_the_catalogue_covers_every_method_and_operator() -> None:
    """A new method without a catalogue entry fails here."""
    names = " ".join(op.name for op in OPS)
    methods = ("exp", "log", "tanh", "sigmoid", "relu", "softplus", "sum", "mean", "softmax")
    methods += ("log_softmax", "logsumexp", "max", "min", "abs", "sqrt", "clip", "where", "stack")
    for method in (*methods, "concatenate"):
        assert method in names
    for needle in ("reshape", "transpose", " T", "+", "-", "*", "/", "**", "@", "[", "repeats"):
        assert needle in f" {names}"


# ---------------------------------------------------------------------------
# Exact derivatives where a closed form exists.
# ---------------------------------------------------------------------------

X = np.array([-3.0, -0.7, -0.01, 0.2, 1.3, 4.0])
POS = np.array([0.01, 0.3, 1.0, 2.5, 40.0])


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


CLOSED_FORMS = [
    ("tanh", X, lambda v: v.tanh(), lambda x: 1.0 - np.tanh(x) * np.tanh(x)),
    ("sigmoid", X, lambda v: v.sigmoid(), lambda x: sigmoid(x) * (1.0 - sigmoid(x))),
    ("softplus", X, lambda v: v.softplus(), sigmoid),
    ("exp", X, lambda v: v.exp(), np.exp),
    ("log", POS, lambda v: v.log(), lambda x: 1.0 / x),
    ("relu", X, lambda v: v.relu(), lambda x: (x > 0).astype(float)),
    ("x ** 3", X, lambda v: v**3, lambda x: 3.0 * x**2),
    ("x ** -1.5", POS, lambda v: v**-1.5, lambda x: -1.5 * x**-2.5),
    ("2 ** x", X, lambda v: 2.0**v, lambda x: 2.0**x * math.log(2.0)),
    ("1 / x", POS, lambda v: 1.0 / v, lambda x: -1.0 / (x * x)),
]


@pytest.mark.parametrize(
    ("x", "f", "derivative"), [pytest.param(*c[1:], id=c[0]) for c in CLOSED_FORMS]
)
@pytest.mark.parametrize("scalar", [True, False], ids=["scalars", "array"])
def test_derivatives_equal_their_closed_form(x: Any, f: Any, derivative: Any, scalar: bool) -> None:
    expected = derivative(x)
    if scalar:
        got = []
        for xi in x:
            v = Value(float(xi))
            f(v).backward()
            got.append(v.grad)
    else:
        v = Value(x)
        f(v).backward(np.ones(x.shape))
        got = v.grad
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=0)


def test_power_with_a_value_exponent_has_both_closed_forms() -> None:
    a, b = Value(np.array([0.5, 1.5, 3.0])), Value(np.array([-1.0, 0.5, 2.0]))
    (a**b).backward(np.ones(3))
    np.testing.assert_allclose(a.grad, b.data * a.data ** (b.data - 1), rtol=1e-14)
    np.testing.assert_allclose(b.grad, a.data**b.data * np.log(a.data), rtol=1e-14)


@pytest.mark.parametrize("zero", [0.0, np.zeros(2)], ids=["scalar", "array"])
def test_powers_at_zero_have_torchs_gradients(zero: Any) -> None:
    """d/dx x⁰ = 0 and d/dx x² = 0 at x = 0, not 0·0⁻¹ = nan."""
    for exponent, slope in ((0.0, 0.0), (2.0, 0.0), (1.0, 1.0), (3, 0.0)):
        x = Value(zero)
        out = x**exponent
        out.backward(np.ones(out.shape) if out.shape else None)
        np.testing.assert_array_equal(x.grad, np.full(np.shape(zero), slope))


def test_a_zero_base_to_a_value_power_has_torchs_gradients() -> None:
    """∂(0^b)/∂b = lim 0^b·ln a = 0 for b > 0 (torch gives 0 as well), not 0·(−∞) = nan."""
    a, b = Value(0.0), Value(2.0)
    (a**b).backward()
    assert (a.grad, b.grad) == (0.0, 0.0)
    a, b = Value(np.zeros(2)), Value(np.array([1.0, 3.0]))
    (a**b).backward(np.ones(2))
    np.testing.assert_array_equal(a.grad, [1.0, 0.0])
    np.testing.assert_array_equal(b.grad, [0.0, 0.0])


def test_matmul_gradients_are_g_bt_and_at_g() -> None:
    rng = np.random.default_rng(1)
    a, b = Value(rng.standard_normal((3, 4))), Value(rng.standard_normal((4, 2)))
    g = rng.standard_normal((3, 2))
    (a @ b).backward(g)
    np.testing.assert_allclose(a.grad, g @ b.data.T, rtol=1e-14)
    np.testing.assert_allclose(b.grad, a.data.T @ g, rtol=1e-14)


# ---------------------------------------------------------------------------
# sigmoid and softplus for any float.
# ---------------------------------------------------------------------------

MAX = float(np.finfo(np.float64).max)
EXTREMES = [1000.0, -1000.0, 1e4, -1e4, 1e300, -1e300, MAX, -MAX]


def _extreme_inputs() -> list[Any]:
    return [
        *EXTREMES,
        np.array(EXTREMES),
        np.array([1000.0, -1000.0, 1e4, -1e4, 3e38, -3e38], dtype=np.float32),
        np.float32(1000.0),
        np.float32(-1000.0),
        # One element takes its own path (numpy's out= is slow there).
        np.array([-1000.0]),
        np.array([[1e300]]),
        np.array([-1000.0], dtype=np.float32),
    ]


@pytest.mark.parametrize("x", _extreme_inputs(), ids=repr)
@pytest.mark.parametrize("name", ["sigmoid", "softplus"])
def test_sigmoid_and_softplus_are_finite_without_warnings_at_extremes(x: Any, name: str) -> None:
    xs = np.asarray(x, dtype=np.float64)
    expected_value = (xs > 0).astype(float) if name == "sigmoid" else np.maximum(xs, 0.0)
    expected_grad = np.zeros_like(xs) if name == "sigmoid" else (xs > 0).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = Value(x)
        out = getattr(v, name)()
        out.backward(np.ones(out.shape, out.dtype) if out.shape else None)
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(v.grad))
    np.testing.assert_allclose(np.asarray(out.data, dtype=float), expected_value, rtol=1e-7)
    np.testing.assert_allclose(np.asarray(v.grad, dtype=float), expected_grad)
    assert out.dtype == v.dtype


@pytest.mark.parametrize("name", ["sigmoid", "softplus"])
@pytest.mark.parametrize("x", [1000.0, -1000.0, np.array([1e4, -1e4])], ids=repr)
def test_higher_derivatives_of_sigmoid_and_softplus_are_finite_at_extremes(
    name: str, x: Any
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = Value(x)
        (g,) = gradients(getattr(v, name)().sum(), [v], create_graph=True)
        (h,) = gradients(g.sum(), [v])
    assert np.all(np.isfinite(g.data)) and np.all(np.isfinite(h))


@pytest.mark.parametrize("x", [np.inf, -np.inf, np.array([np.inf, -np.inf])], ids=repr)
def test_sigmoid_and_softplus_at_infinity(x: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v, w = Value(x), Value(x)
        sig, soft = v.sigmoid(), w.softplus()
        for out in (sig, soft):
            out.backward(np.ones(out.shape) if out.shape else None)
    positive = np.asarray(x) > 0
    np.testing.assert_array_equal(sig.data, np.where(positive, 1.0, 0.0))
    np.testing.assert_array_equal(soft.data, np.where(positive, np.inf, 0.0))
    np.testing.assert_array_equal(v.grad, np.zeros(np.shape(x)))
    np.testing.assert_array_equal(w.grad, np.where(positive, 1.0, 0.0))


TAILS = [-745.0, -700.0, -300.0, -40.0, -20.0, -1.0, 0.0, 1.0, 20.0, 40.0]


def exact_sigmoid(x: float) -> float:
    return math.exp(x) / (1.0 + math.exp(x)) if x < 0 else 1.0 / (1.0 + math.exp(-x))


def exact_softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


@pytest.mark.parametrize("as_array", [False, True], ids=["scalars", "array"])
def test_sigmoid_and_softplus_tails_are_accurate(as_array: bool) -> None:
    """σ(−40) ≈ 4.2e-18 to full relative precision, not 0 or 1 − (1 − …)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if as_array:
            v = Value(np.array(TAILS))
            sig, soft = v.sigmoid().data, v.softplus().data
            s = v.sigmoid()
            s.backward(np.ones(len(TAILS)))
            dsig = v.grad
        else:
            sig, soft, dsig = [], [], []
            for t in TAILS:
                w = Value(t)
                sig.append(w.sigmoid().data)
                soft.append(w.softplus().data)
                w.sigmoid().backward()
                dsig.append(w.grad)
    tails = np.array(TAILS)
    want_sig = np.array([exact_sigmoid(t) for t in TAILS])
    want_dsig = np.array([exact_sigmoid(t) * exact_sigmoid(-t) for t in TAILS])
    # Below −708 e^−x overflows, σ is subnormal and has fewer significant digits.
    normal = tails > -708
    np.testing.assert_allclose(np.array(sig)[normal], want_sig[normal], rtol=1e-15)
    np.testing.assert_allclose(np.array(sig)[~normal], want_sig[~normal], atol=1e-320)
    np.testing.assert_allclose(soft, [exact_softplus(t) for t in TAILS], rtol=1e-15)
    # σ' = σ(1 − σ) is accurate where σ ≤ 1/2; for x ≫ 0, 1 − σ(x) cancels (as in torch).
    left = normal & (tails <= 0)
    np.testing.assert_allclose(np.array(dsig)[left], want_dsig[left], rtol=1e-14)
    np.testing.assert_allclose(np.array(dsig)[~left], want_dsig[~left], rtol=0, atol=1e-16)


# ---------------------------------------------------------------------------
# matmul, indexing and transposes in particular.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sa", "sb", "out"),
    [
        ((3,), (3,), ()),
        ((2, 3), (3,), (2,)),
        ((3,), (3, 4), (4,)),
        ((5, 2, 3), (3, 4), (5, 2, 4)),
        ((5, 2, 3), (5, 3, 4), (5, 2, 4)),
        ((3,), (5, 3, 4), (5, 4)),
        ((5, 2, 3), (3,), (5, 2)),
    ],
)
def test_matmul_follows_numpy_with_1d_operands(sa: tuple, sb: tuple, out: tuple) -> None:
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    result = Value(a) @ Value(b)
    assert result.shape == out
    np.testing.assert_allclose(result.data, np.matmul(a, b), rtol=1e-14)
    if out == ():
        assert type(result.data) is float


@pytest.mark.parametrize("scalar_left", [True, False])
def test_matmul_with_a_scalar_raises_value_error(scalar_left: bool) -> None:
    s, v = Value(2.0), Value(np.ones(3))
    with pytest.raises(ValueError, match=r"\(\)") as info:
        _ = s @ v if scalar_left else v @ s
    assert "(3,)" in str(info.value)


@pytest.mark.parametrize(
    ("sa", "sb"), [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (2, 3)), ((5, 2, 3), (4, 3, 2))]
)
def test_matmul_with_mismatched_inner_dimensions_names_both_shapes(sa: tuple, sb: tuple) -> None:
    a, b = Value(np.ones(sa)), Value(np.ones(sb))
    for left, right in ((a, b), (a, np.ones(sb)), (np.ones(sa), b), (a.data.tolist(), b)):
        with pytest.raises(ValueError) as info:
            _ = left @ right
        assert str(sa) in str(info.value) and str(sb) in str(info.value)


BINARY_OPERATORS = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
}


@pytest.mark.parametrize("symbol", BINARY_OPERATORS)
@pytest.mark.parametrize(("sa", "sb"), [((2, 3), (4,)), ((3,), (2,)), ((2, 3), (3, 2, 2))])
def test_shapes_that_cannot_broadcast_raise_value_error_naming_both(
    symbol: str, sa: tuple, sb: tuple
) -> None:
    a, b = Value(np.full(sa, 2.0)), Value(np.full(sb, 2.0))
    combine = BINARY_OPERATORS[symbol]
    for left, right in ((a, b), (a, np.full(sb, 2.0)), (np.full(sa, 2.0), b), (a, b.data.tolist())):
        with pytest.raises(ValueError) as info:
            combine(left, right)
        message = str(info.value).replace(" ", "")
        assert str(sa).replace(" ", "") in message and str(sb).replace(" ", "") in message, message


def test_repeated_indices_add_up() -> None:
    a = Value(np.array([1.0, 2.0, 3.0]))
    a[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(a.grad, [3.0, 0.0, 1.0])
    m = Value(np.arange(6.0).reshape(2, 3))
    m[[1, 1], [2, 2]].sum().backward()
    np.testing.assert_array_equal(m.grad, [[0, 0, 0], [0, 0, 2]])
    m.zero_grad()
    (m[:, [0, 0]] * 2.0).sum().backward()
    np.testing.assert_array_equal(m.grad, [[4, 0, 0], [4, 0, 0]])


def test_indexing_a_scalar_is_refused() -> None:
    with pytest.raises(IndexError, match="scalar"):
        Value(1.0)[0]


def test_indexing_with_a_value_raises_type_error_naming_value() -> None:
    a = Value(np.arange(3.0))
    with pytest.raises(TypeError, match="Value"):
        a[Value(1.0)]
    with pytest.raises(TypeError, match="Value"):
        a[0:2, Value(1.0)]


@pytest.mark.parametrize("axes", [(-1, 0, 1), (0, -1, -2), (2, 0, 1), (1, 0, 2)])
def test_transpose_gradient_is_the_inverse_permutation(axes: tuple) -> None:
    rng = np.random.default_rng(5)
    a = Value(rng.standard_normal((2, 3, 4)))
    out = a.transpose(axes)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    inverse = np.argsort([ax % 3 for ax in axes])
    np.testing.assert_array_equal(a.grad, np.transpose(g, inverse))


# ---------------------------------------------------------------------------
# The functions in autograd (exp, log, …) are the methods.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["exp", "log", "tanh", "sigmoid", "relu", "softplus"])
def test_module_functions_match_methods_on_values_and_raw_data(name: str) -> None:
    x = np.array([0.3, 1.7, 2.2])
    function = getattr(autograd, name)
    v = Value(x)
    out = function(v)
    assert isinstance(out, Value)
    np.testing.assert_array_equal(out.data, getattr(Value(x), name)().data)
    np.testing.assert_array_equal(function(x), out.data)
    assert function(0.5) == getattr(Value(0.5), name)().data


def test_every_primitive_carries_the_symbol_drawings_label_it_with() -> None:
    """`op.symbol` is a node's label, or its argument-free form for ops with extra arguments."""
    from autograd.draw import op_symbol

    x, v = Value(2.0), Value(np.ones((2, 3)))
    plain = [x + x, x * x, x**x, x.exp(), x.log(), x.tanh(), x.sigmoid(), x.relu(), x.softplus()]
    plain += [v @ v.T, autograd.ops.Scatter.apply(v, (4, 3), [0, 2]), v.astype(np.float32)]
    for node in plain:
        assert node.op.symbol == op_symbol(node)
    assert autograd.ops.Sum.symbol == op_symbol(v.sum()) == "Σ"
    assert autograd.ops.Transpose.symbol == op_symbol(v.T) == "ᵀ"
    assert op_symbol(v.reshape(3, 2)).startswith(autograd.ops.Reshape.symbol + " ")
    assert op_symbol(autograd.ops.broadcast_to(x, (2,))).startswith("broadcast ")
    assert autograd.ops.BroadcastTo.symbol == "broadcast"
    assert autograd.ops.GetItem.symbol == "[]" and op_symbol(v[0]).startswith("[")
    assert autograd.ops.PowerOf.symbol == "x^c" and op_symbol(x**1.5) == "x^1.5"


def test_a_primitive_without_a_symbol_is_labelled_by_its_class_name() -> None:
    class Double(Primitive):
        forward = staticmethod(lambda a: 2 * a)
        grads = (lambda g, out, a: 2 * g,)

    class Triple(Primitive):
        symbol = "3·"
        forward = staticmethod(lambda a: 3 * a)
        grads = (lambda g, out, a: 3 * g,)

    assert Double.symbol == "Double" and Triple.symbol == "3·"
    assert Primitive.symbol == "Primitive"


@pytest.mark.parametrize(
    "axis", [np.int64(1), np.int32(-1), np.array(1), (np.int64(0), 1), [0, np.int8(1)]], ids=repr
)
def test_sum_and_mean_take_numpy_integer_axes_through_backward(axis: Any) -> None:
    data = np.arange(6.0).reshape(2, 3)
    as_ints = tuple(int(a) for a in axis) if isinstance(axis, tuple | list) else int(axis)
    for method in ("sum", "mean"):
        x = Value(data)
        out = getattr(x, method)(axis)
        np.testing.assert_array_equal(out.data, getattr(np, method)(data, as_ints))
        out.backward(np.ones(out.shape))
        count = data.size / np.size(out.data) if method == "mean" else 1.0
        np.testing.assert_array_equal(x.grad, np.full((2, 3), 1.0 / count))


def test_a_bool_or_float_axis_is_refused_naming_it() -> None:
    with pytest.raises(TypeError, match="axis"):
        Value(np.ones((2, 3))).sum(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="axis"):
        Value(np.ones((2, 3))).mean(True)  # type: ignore[arg-type]


def test_zero_to_the_power_zero_has_zero_gradient_for_the_base() -> None:
    """As torch: ∂(a^b)/∂a = b·a^(b−1) is taken as 0 where b = 0, even at a = 0."""
    a, b = Value(0.0), Value(0.0)
    out = a**b
    out.backward()
    assert (out.data, a.grad, b.grad) == (1.0, 0.0, 0.0)
    a = Value(np.zeros(2))
    b = Value(np.array([0.0, 2.0]))
    (a**b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 0.0])
    np.testing.assert_array_equal(b.grad, [0.0, 0.0])


def test_the_power_primitives_say_which_is_which_and_keep_their_old_names() -> None:
    x, y = Value(2.0), Value(3.0)
    assert (x**3.0).op is autograd.ops.PowConstant is autograd.ops.PowerOf
    assert (x**y).op is autograd.ops.PowVariable is autograd.ops.Pow
    assert (2.0**y).op is autograd.ops.PowVariable


# ---------------------------------------------------------------------------
# The operations for more than two classes, at their edges.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("big", [1000.0, -1000.0, 1e300, -1e300])
def test_logsumexp_softmax_and_log_softmax_are_exact_at_huge_inputs(big: float) -> None:
    x = Value(np.array([[big, big, big - 1.0], [0.0, big, -big]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = x.logsumexp(-1)
        out.sum().backward()
        p = x.softmax(-1)
        logp = x.log_softmax(-1)
    row = np.log(2.0 + np.exp(-1.0))
    if abs(big) == 1000.0:
        np.testing.assert_allclose(out.data[0], big + row, rtol=1e-15)
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(x.grad.sum(-1), [1.0, 1.0], rtol=1e-14)  # softmax rows sum to 1
    np.testing.assert_allclose(p.data, x.grad, rtol=1e-14)
    np.testing.assert_allclose(np.exp(logp.data), p.data, rtol=1e-14)


def test_logsumexp_of_infinities_is_the_limit() -> None:
    assert autograd.logsumexp(np.array([-np.inf, -np.inf])) == -np.inf
    assert autograd.logsumexp(np.array([np.inf, 1.0])) == np.inf
    assert autograd.logsumexp(np.array([-np.inf, 0.0])) == 0.0


def test_max_and_min_share_the_gradient_evenly_at_ties() -> None:
    x = Value(np.array([[1.0, 3.0, 3.0, 3.0], [2.0, -1.0, 2.0, 0.0]]))
    (x.max(axis=1) * np.array([1.0, 10.0])).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 1 / 3, 1 / 3, 1 / 3], [5, 0, 5, 0]])
    y = Value(np.array([4.0, -2.0, -2.0]))
    y.min().backward()
    np.testing.assert_allclose(y.grad, [0.0, 0.5, 0.5])
    z = Value(5.0)
    z.max().backward()
    assert z.grad == 1.0


def test_abs_and_sqrt_at_zero_follow_torch() -> None:
    x = Value(np.array([-2.0, 0.0, 3.0]))
    abs(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [-1.0, 0.0, 1.0])
    r = Value(np.array([0.0, 4.0]))
    with np.errstate(divide="ignore"):
        r.sqrt().sum().backward()
    np.testing.assert_array_equal(r.grad, [np.inf, 0.25])


def test_clip_passes_the_gradient_inside_its_bounds_and_on_them() -> None:
    x = Value(np.array([-2.0, -1.0, 0.5, 1.0, 3.0]))
    out = x.clip(-1.0, 1.0)
    np.testing.assert_array_equal(out.data, [-1.0, -1.0, 0.5, 1.0, 1.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0, 1.0, 0.0])
    assert Value(2.5).clip(None, 1.0).data == 1.0
    with pytest.raises(ValueError, match="low ≤ high"):
        x.clip(1.0, -1.0)


def test_where_needs_a_boolean_condition_and_sums_gradients_to_each_shape() -> None:
    a, b = Value(np.array([1.0, 2.0, 3.0])), Value(10.0)
    out = autograd.where(np.array([True, False, True]), a, b)
    np.testing.assert_array_equal(out.data, [1.0, 10.0, 3.0])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad, [1.0, 0.0, 1.0])
    assert b.grad == 1.0
    with pytest.raises(TypeError, match="boolean condition, got dtype float64"):
        autograd.where(np.array([1.0, 0.0, 1.0]), a, b)


def test_concatenate_and_stack_name_the_shapes_that_do_not_fit() -> None:
    a, b = Value(np.ones((2, 3))), Value(np.ones((2, 4)))
    assert autograd.concatenate([a, b], axis=1).shape == (2, 7)
    with pytest.raises(ValueError, match=r"concatenate of shapes \(2, 3\), \(2, 4\)"):
        autograd.concatenate([a, b], axis=0)
    with pytest.raises(
        ValueError, match=r"stack needs arrays of one shape, got \(2, 3\), \(2, 4\)"
    ):
        autograd.stack([a, b])
    with pytest.raises(ValueError, match="axis 3 is out of bounds"):
        autograd.stack([a, a], axis=3)
    with pytest.raises(ValueError, match="at least one"):
        autograd.concatenate([])
    mixed = autograd.stack([a, np.zeros((2, 3))], axis=0)  # a constant operand is fine
    mixed.sum().backward()
    np.testing.assert_array_equal(a.grad, np.ones((2, 3)))


def test_the_base_gradient_of_pow_stays_differentiable_in_the_exponent_at_zero():
    """d/db (b·c^(b−1)) = c^(b−1)(1 + b·ln c), which is 1/c at b = 0, not 1."""
    from autograd import grad

    assert grad(lambda b: grad(lambda c: c**b)(2.0))(0.0) == pytest.approx(0.5, rel=1e-12)
    assert grad(lambda c: c ** Value(0.0))(0.0) == 0.0  # and 0 where base and exponent are 0


def test_quiet_numpy_calls_leave_the_callers_error_state_as_it_was() -> None:
    """The engine silences numpy only for its own call: the caller's settings hold around it."""
    from autograd.ops import quietly

    zero = Value(np.array([0.0, 1.0]))
    with np.errstate(all="raise"):
        out = zero.log()  # -inf is the answer, not an error
        assert out.data[0] == -np.inf
        with pytest.raises(FloatingPointError):
            np.log(np.array([0.0]))  # the caller's own numpy still raises
        with pytest.raises(ZeroDivisionError):
            quietly(lambda: 1 / 0)  # an error inside restores the state on the way out
        assert np.geterr()["divide"] == "raise"
    assert np.geterr() == {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}


ENGINE_FUNCTIONS = {
    "log": lambda v: v.log(),
    "1/x": lambda v: 1.0 / v,
    "x/0": lambda v: v / 0.0,
    "exp": lambda v: v.exp(),
    "sigmoid": lambda v: v.sigmoid(),
    "softplus": lambda v: v.softplus(),
    "sqrt": lambda v: v**0.5,
    "x**-1": lambda v: v**-1.0,
    "relu": lambda v: v.relu(),
    "abs": lambda v: abs(v),
    "mean": lambda v: v.mean(),
    "logsumexp": lambda v: v.logsumexp() if v.shape else v,
    "softmax": lambda v: v.softmax() if v.shape else v,
}


@pytest.mark.parametrize("name", sorted(ENGINE_FUNCTIONS))
@pytest.mark.parametrize("kind", ["one element", "two", "float32", "scalar"])
def test_the_engines_functions_answer_at_the_extremes_when_the_caller_asks_numpy_to_raise(
    name: str, kind: str
) -> None:
    """0, ±inf, nan, ±1e300, ±800: inf, nan, 0 and 1 are answers, whatever np.errstate says.

    (Arithmetic the caller writes, x * x, follows the caller's numpy settings, as in numpy.)
    """
    f = ENGINE_FUNCTIONS[name]
    for x in [0.0, -0.0, -1.0, np.inf, -np.inf, np.nan, 1e300, -1e300, 800.0, -800.0, 1e-310]:
        with np.errstate(all="ignore"):
            data: Any = {
                "one element": np.array([x]),
                "two": np.array([x, 0.5]),
                "float32": np.array([x, 0.5], dtype=np.float32),
                "scalar": x,
            }[kind]
        v = Value(data)
        with np.errstate(all="raise"):
            out = f(v)
            out.backward(np.ones(out.shape, out.dtype) if out.shape else None)
