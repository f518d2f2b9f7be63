"""The Value node of autograd/value.py: what it accepts, what it holds, and its operators."""

import math
import operator
import warnings
from typing import Any

import numpy as np
import pytest

import autograd
import autograd.ops
from autograd import Value

# ---------------------------------------------------------------------------
# Construction.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number", [3, -2.5, 0, np.float64(1.5), np.int64(7), np.int8(-3), np.uint16(9), 10**20]
)
def test_a_number_becomes_a_python_float(number: Any) -> None:
    v = Value(number)
    assert type(v.data) is float
    assert v.data == float(number)
    assert v.shape == ()
    assert v.dtype == np.float64


def test_a_float32_number_stays_float32() -> None:
    v = Value(np.float32(1.25))
    assert isinstance(v.data, np.float32)
    assert v.dtype == np.float32
    assert v.shape == ()


@pytest.mark.parametrize(
    ("data", "shape"),
    [
        ([1.0, 2.0, 3.0], (3,)),
        ([[1, 2], [3, 4], [5, 6]], (3, 2)),
        ([[[1.5]]], (1, 1, 1)),
        ((1.0, 2.0), (2,)),
        ([], (0,)),
    ],
)
def test_a_nested_list_becomes_a_float64_array(data: Any, shape: tuple) -> None:
    v = Value(data)
    assert isinstance(v.data, np.ndarray)
    assert v.data.dtype == np.float64
    assert v.shape == shape
    np.testing.assert_array_equal(v.data, np.array(data, dtype=float))


@pytest.mark.parametrize("shape", [(1,), (4,), (2, 3), (2, 1, 3), (2, 3, 4, 5), (0, 3)])
@pytest.mark.parametrize(
    "dtype", [np.float64, np.float32, np.float16, np.int64, np.int32, np.uint8]
)
def test_arrays_of_any_shape_are_float64_unless_float32(shape: tuple, dtype: Any) -> None:
    data = np.arange(int(np.prod(shape))).reshape(shape).astype(dtype)
    v = Value(data)
    assert v.shape == shape
    assert v.data.dtype == (np.float32 if dtype is np.float32 else np.float64)
    np.testing.assert_array_equal(v.data, data)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_a_zero_dimensional_array_is_a_scalar(dtype: Any) -> None:
    v = Value(np.array(2, dtype=dtype))
    assert v.shape == ()
    if dtype is np.float32:
        assert isinstance(v.data, np.float32)
    else:
        assert type(v.data) is float


def test_data_is_copied_from_the_callers_array() -> None:
    data = np.array([1.0, 2.0])
    v = Value(data)
    data[0] = 99.0
    assert v.data[0] == 1.0
    v.data[1] = -5.0
    assert data[1] == 2.0
    float32 = np.array([1.0, 2.0], dtype=np.float32)
    w = Value(float32)
    float32[0] = 7.0
    assert w.data[0] == 1.0


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ("1.5", "str"),
        (None, "None"),
        (True, "bool"),
        (np.bool_(False), "bool"),
        (np.array([True, False]), "bool"),
        (np.array([1.0, None]), "object"),
        (np.array([1, 2], dtype=object), "object"),
        (np.array([1 + 2j]), "complex"),
        (1j, "complex"),
        (np.complex128(1.0), "complex"),
        ([1.0, "a"], "<U"),
        ([True, False], "bool"),
        ({"a": 1.0}, "dict"),
        (object(), "object"),
    ],
    # Named by type and repr, but an object's repr holds its address, which differs between
    # the processes of a parallel run (they must collect the same ids).
    ids=lambda x: "object()" if type(x) is object else repr(x),
)
def test_anything_else_raises_type_error_naming_what_was_given(bad: Any, named: str) -> None:
    with pytest.raises(TypeError) as info:
        Value(bad)
    assert named in str(info.value)


def test_a_name_must_be_a_string() -> None:
    assert Value(1.0, name="w1").name == "w1"
    assert Value(1.0).name is None
    with pytest.raises(TypeError, match="int"):
        Value(1.0, name=3)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Attributes.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [2.0, np.float32(2.0), np.ones(3), np.ones((2, 3), np.float32), np.ones((0, 2))]
)
def test_grad_is_zeros_of_the_data_shape_before_any_backward(data: Any) -> None:
    v = Value(data)
    assert not v.grad_computed
    assert np.shape(v.grad) == v.shape
    assert np.asarray(v.grad).dtype == v.dtype
    assert np.all(np.asarray(v.grad) == 0)
    if type(v.data) is float:
        assert type(v.grad) is float


def test_grad_reads_as_zero_again_after_zero_grad() -> None:
    v = Value(np.array([1.0, 2.0]))
    (v * v).sum().backward()
    assert v.grad_computed
    np.testing.assert_array_equal(v.grad, [2.0, 4.0])
    v.zero_grad()
    assert not v.grad_computed
    np.testing.assert_array_equal(v.grad, [0.0, 0.0])


def test_setting_grad_keeps_the_shape_of_data() -> None:
    """micrograd zeroes with `p.grad = 0`; a tensor must still read as zeros of its shape."""
    w = Value(np.ones((2, 3)))
    (w * 2.0).sum().backward()
    w.grad = 0
    assert np.shape(w.grad) == (2, 3)
    np.testing.assert_array_equal(w.grad, np.zeros((2, 3)))
    (w * 2.0).sum().backward()
    np.testing.assert_array_equal(w.grad, np.full((2, 3), 2.0))
    s = Value(1.0)
    s.grad = 0
    assert s.grad == 0.0 and type(s.grad) is float


def test_setting_a_grad_of_the_wrong_shape_raises_naming_both_shapes() -> None:
    w = Value(np.ones(3))
    with pytest.raises(ValueError) as info:
        w.grad = np.ones(5)
    assert "(5,)" in str(info.value) and "(3,)" in str(info.value)


def test_leaf_and_node_attributes() -> None:
    a = Value(2.0, name="a")
    b = a * 3.0
    assert a.is_leaf and a.op is None and a.inputs == ()
    assert not b.is_leaf and b.op is not None
    assert b.inputs[0] is a
    assert 3.0 in b.inputs
    assert b.name is None


def test_item_detach_len_and_iteration() -> None:
    v = Value(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert Value(2.5).item() == 2.5
    assert Value([7.0]).item() == 7.0
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        v.item()
    assert len(v) == 2
    rows = list(v)
    np.testing.assert_array_equal(rows[1].data, [3.0, 4.0])
    with pytest.raises(TypeError):
        len(Value(1.0))
    d = (v * 2.0).detach()
    assert d.is_leaf and d.inputs == ()
    np.testing.assert_array_equal(d.data, v.data * 2.0)


def test_values_are_hashable_by_identity() -> None:
    a, b = Value(1.0), Value(1.0)
    c = Value(np.array([1.0, 2.0]))
    seen = {a, b, c, a}
    assert len(seen) == 3
    assert a in seen and b in seen and c in seen
    assert Value(1.0) not in seen
    table = {a: "a", b: "b", c: "c"}
    assert table[a] == "a" and table[b] == "b" and table[c] == "c"
    out = a + b
    assert out not in table
    assert hash(a) == hash(a) and a is not b


# ---------------------------------------------------------------------------
# Operators, with a Value, a number, a list or an array on either side.
# ---------------------------------------------------------------------------

OPERATORS = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
    "@": operator.matmul,
}

A = np.array([[0.5, 1.5, 2.0], [1.0, 0.75, 3.0]])
B = np.array([[1.25, 0.5, 2.0], [0.5, 1.0, 1.5]])
B_MATMUL = np.array([[0.5, 1.0], [1.5, -1.0], [2.0, 0.25]])


def operand(x: Any, kind: str) -> Any:
    """x as a Value, a number (0-d only), a list or an array."""
    if kind == "Value":
        return Value(x)
    if kind == "number":
        return float(x)
    return np.asarray(x).tolist() if kind == "list" else np.array(x)


KINDS = [("Value", "Value"), ("Value", "list"), ("list", "Value"), ("Value", "array")]
KINDS += [("array", "Value")]


@pytest.mark.parametrize("symbol", OPERATORS)
@pytest.mark.parametrize(("left", "right"), KINDS)
def test_operators_with_arrays_and_lists_on_either_side_match_numpy(
    symbol: str, left: str, right: str
) -> None:
    f = OPERATORS[symbol]
    b = B_MATMUL if symbol == "@" else B
    out = f(operand(A, left), operand(b, right))
    assert isinstance(out, Value)
    np.testing.assert_allclose(out.data, f(A, b), rtol=1e-15)


SCALAR_KINDS = [("Value", "Value"), ("Value", "number"), ("number", "Value"), ("Value", "array")]
SCALAR_KINDS += [("array", "Value")]


@pytest.mark.parametrize("symbol", [s for s in OPERATORS if s != "@"])
@pytest.mark.parametrize(("left", "right"), SCALAR_KINDS)
def test_operators_on_scalars_match_python(symbol: str, left: str, right: str) -> None:
    f = OPERATORS[symbol]
    x, y = 1.75, 0.5
    out = f(operand(x, left), operand(y, right))
    assert isinstance(out, Value)
    assert type(out.data) is float
    assert out.data == pytest.approx(f(x, y), rel=1e-15)


@pytest.mark.parametrize("x", [1.5, np.array([1.0, -2.0]), np.ones((2, 2), np.float32)], ids=repr)
def test_unary_minus(x: Any) -> None:
    v = Value(x)
    out = -v
    np.testing.assert_array_equal(out.data, -np.asarray(x))
    assert out.dtype == v.dtype
    out.backward(np.ones(out.shape, out.dtype) if out.shape else None)
    np.testing.assert_array_equal(v.grad, -np.ones(np.shape(x)))


def test_the_exponent_may_be_a_number_or_a_value() -> None:
    base, exponent = Value(np.array([1.5, 2.0])), Value(3.0)
    np.testing.assert_allclose((base**3).data, [3.375, 8.0])
    np.testing.assert_allclose((base**exponent).data, [3.375, 8.0])
    np.testing.assert_allclose((2.0**exponent).data, 8.0)
    np.testing.assert_allclose(([2.0, 3.0] ** exponent).data, [8.0, 27.0])
    (base**exponent).sum().backward()
    assert exponent.grad == pytest.approx(3.375 * np.log(1.5) + 8.0 * np.log(2.0), rel=1e-15)


def test_numpy_scalars_on_the_left_defer_to_value() -> None:
    v = Value(np.array([1.0, 2.0]))
    for x in (np.float64(2.0), np.array(2.0), np.float32(2.0)):
        out = x * v
        assert isinstance(out, Value)
        np.testing.assert_array_equal(out.data, [2.0, 4.0])


def test_division_by_a_zero_constant_is_infinite_not_an_exception() -> None:
    assert (Value(1.0) / 0.0).data == np.inf
    np.testing.assert_array_equal((Value([1.0, -1.0]) / [0.0, 0.0]).data, [np.inf, -np.inf])


# ---------------------------------------------------------------------------
# Methods: the forms they accept. (Their values and gradients are in test_ops.py.)
# ---------------------------------------------------------------------------


def test_sum_and_mean_take_axis_and_keepdims() -> None:
    data = np.arange(24.0).reshape(2, 3, 4)
    v = Value(data)
    for axis in (None, 0, 1, -1, (0, 2), (1, -1)):
        for keepdims in (False, True):
            np.testing.assert_array_equal(
                v.sum(axis, keepdims).data, np.sum(data, axis, keepdims=keepdims)
            )
            np.testing.assert_allclose(
                v.mean(axis=axis, keepdims=keepdims).data,
                np.mean(data, axis, keepdims=keepdims),
                rtol=1e-15,
            )
    assert type(v.sum().data) is float and type(v.mean().data) is float


def test_the_mean_of_nothing_is_nan_as_in_numpy() -> None:
    empty = Value(np.ones((0, 3)))
    with np.errstate(invalid="ignore"):
        assert np.isnan(empty.mean().data)
        assert np.all(np.isnan(empty.mean(axis=0).data)) and empty.mean(axis=0).shape == (3,)
    assert empty.mean(axis=1).shape == (0,)


def test_reshape_and_transpose_take_a_tuple_or_separate_ints() -> None:
    v = Value(np.arange(24.0).reshape(2, 3, 4))
    assert v.reshape(4, 6).shape == v.reshape((4, 6)).shape == (4, 6)
    assert v.reshape(-1).shape == (24,)
    assert v.reshape([3, -1]).shape == (3, 8)
    assert v.transpose(1, 0, 2).shape == v.transpose((1, 0, 2)).shape == (3, 2, 4)
    assert v.transpose().shape == v.T.shape == (4, 3, 2)
    np.testing.assert_array_equal(v.T.data, v.data.T)
    assert Value(np.ones(3)).T.shape == (3,)


# ---------------------------------------------------------------------------
# Edges: exact division, nan, ndarray subclasses, dtypes, names.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [(1e-300, 1e-310), (7.0, 3.0), (1.0, 3.0), (2.0, 1e308), (-5.5, 1e-320), (0.1, 0.7)],
)
def test_division_is_exact_to_the_bit(a: float, b: float) -> None:
    assert (Value(a) / b).data == a / b
    assert (Value(a) / Value(b)).data == a / b
    assert (a / Value(b)).data == a / b
    arr = np.array([a, -a, 3 * a])
    with np.errstate(over="ignore"):
        expected = arr / b
    np.testing.assert_array_equal((Value(arr) / b).data, expected)
    np.testing.assert_array_equal((Value(arr) / Value(np.full(3, b))).data, expected)


def test_the_gradients_of_a_division_are_exact_where_the_closed_form_is() -> None:
    a, b = Value(7.0), Value(3.0)
    (a / b).backward()
    assert a.grad == 1 / 3.0 and b.grad == -(7.0 / 3.0) / 3.0


def test_division_of_an_array_by_zero_is_infinite_and_warns_nothing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = Value(np.array([1.0, -1.0, 0.0])) / 0.0
        np.testing.assert_array_equal(out.data, [np.inf, -np.inf, np.nan])
        out = Value(np.array([1.0, 2.0])) / Value(np.zeros(2))
        np.testing.assert_array_equal(out.data, [np.inf, np.inf])
        out.sum().backward()


def test_relu_of_nan_is_nan_for_a_scalar_as_for_an_array() -> None:
    assert math.isnan(Value(math.nan).relu().data)
    assert np.isnan(Value(np.array([math.nan])).relu().data[0])
    assert Value(-0.0).relu().data == 0.0


@pytest.mark.parametrize(
    "bad",
    [np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0]), np.matrix([[1.0, 2.0]])],
    ids=["masked", "matrix"],
)
def test_ndarray_subclasses_are_refused_everywhere_with_a_clear_type_error(bad: Any) -> None:
    name = type(bad).__name__
    with pytest.raises(TypeError, match=name):
        Value(bad)
    with pytest.raises(TypeError, match=name):
        Value(np.ones(3)) * bad
    with pytest.raises(TypeError, match=name):
        bad + Value(np.ones(3))  # type: ignore[operator]
    v = Value(np.ones(3))
    with pytest.raises(TypeError, match=name):
        v.grad = bad


def test_other_ndarray_subclasses_are_taken_as_plain_arrays(tmp_path: Any) -> None:
    mapped = np.memmap(tmp_path / "m.bin", dtype=np.float64, mode="w+", shape=(3,))
    mapped[:] = [1.0, 2.0, 3.0]
    v = Value(mapped)
    assert type(v.data) is np.ndarray and v.sum().data == 6.0


def test_grad_zero_on_a_float32_scalar_stays_a_float32_scalar() -> None:
    p = Value(np.float32(1.5))
    p.grad = 0
    assert type(p.grad) is np.float32 and p.grad == 0
    p.grad = 2.5
    assert type(p.grad) is np.float32


def test_a_name_assigned_later_must_be_a_string_too() -> None:
    v = Value(1.0, name="w1")
    v.name = "w2"
    assert v.name == "w2"
    v.name = None
    assert v.name is None
    with pytest.raises(TypeError, match="name must be a str or None, got int"):
        v.name = 3  # type: ignore[assignment]
    assert v.name is None
    node = v * 2.0
    node.name = "z"
    with pytest.raises(TypeError, match="bytes"):
        node.name = b"z"  # type: ignore[assignment]
    assert node.name == "z"


def test_help_shows_no_private_arguments_and_a_docstring_on_every_operator() -> None:
    import inspect
    import pydoc

    assert list(inspect.signature(Value).parameters) == ["data", "name"]
    text = pydoc.render_doc(Value, renderer=pydoc.plaintext)
    assert "Value(data: 'Any', name: 'str | None' = None)" in text
    assert "_op=" not in text and "_prev" not in text  # (slot names may show; arguments not)
    operators = [
        name
        for name in vars(Value)
        if name.startswith("__") and name.endswith("__") and callable(getattr(Value, name))
    ]
    operators = [n for n in operators if n not in ("__init__", "__array_ufunc__")]
    assert {"__add__", "__mul__", "__truediv__", "__matmul__", "__getitem__"} <= set(operators)
    for name in operators:
        own = getattr(Value, name).__doc__
        assert own and own.strip(), f"Value.{name} has no docstring"


def test_a_node_made_by_hand_holds_its_op_and_inputs() -> None:
    w = Value(2.0)
    node = Value._node(4.0, autograd.ops.Mul, (w, 2.0))
    assert node.op is autograd.ops.Mul and node.inputs == (w, 2.0) and node.data == 4.0


def test_a_primitive_returning_integers_gives_a_float64_value():
    class Floor(autograd.Primitive):
        forward = staticmethod(lambda a: np.floor(a).astype(np.int64))
        grads = (lambda g, out, a: g * 0.0,)

    out = Floor.apply(Value([1.5, 2.5]))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out.data, [1.0, 2.0])


def test_a_primitive_without_grads_is_refused_when_defined():
    with pytest.raises(TypeError, match=r"NoGrads\.grads must be a tuple of functions"):

        class NoGrads(autograd.Primitive):
            forward = staticmethod(lambda a: a)


def test_mean_checks_its_axis_like_sum_and_takes_numpy_ints():
    v = Value(np.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match="axis 5"):
        v.mean(axis=5)
    np.testing.assert_allclose(v.mean(axis=np.int64(0)).data, [1.5, 2.5, 3.5])
    assert v.mean(axis=(0, 1)).data == 2.5


def test_a_value_is_truthy_like_micrograds():
    assert Value(0.0)
    assert Value(np.zeros(3))
    x = Value(2.0)
    assert (x or Value(1.0)) is x


def test_float_of_a_vector_names_float_in_its_error() -> None:
    with pytest.raises(ValueError, match=r"float\(\)"):
        float(Value(np.ones(2)))


def test_a_scalar_node_of_a_chain_holds_at_most_100_bytes() -> None:
    """Five slots and the float: the name and scope take no slot of their own."""
    import tracemalloc

    y = Value(1.0)
    tracemalloc.start()
    try:
        for _ in range(5000):
            y = y * 0.99999 + 1e-5
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held / 10_000 <= 100
    assert len(Value.__slots__) == 5


def test_a_name_given_to_a_node_made_in_a_scope_is_its_own() -> None:
    """Nodes of one primitive made in one scope share what records the scope; a name does not."""
    x = Value(np.array([1.0, -2.0]), name="x")
    with autograd.scope("unit") as s:
        a, b = x.sigmoid(), x.sigmoid()
        leaf = Value(3.0)
    a.name = "a"
    assert (a.name, b.name, x.name, leaf.name) == ("a", None, "x", None)
    assert a._scope is s and b._scope is s and leaf._scope is s and x._scope is None
    assert a.op is b.op is autograd.ops.Sigmoid and leaf.op is None
    a.name = None
    assert a.name is None and a._scope is s and a.op is autograd.ops.Sigmoid
    leaf.name = "c"
    assert leaf.name == "c" and leaf._scope is s and leaf.is_leaf and leaf.inputs == ()
    (a + b).sum().backward()  # the backward pass reads the primitive through its tag
    np.testing.assert_allclose(x.grad, 2 * a.data * (1 - a.data))
