"""autograd.testing: its strategies draw what they promise, and its checker catches a wrong vjp."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import Primitive, Value
from autograd.testing import (
    Checks,
    Graph,
    arrays,
    assert_gradients_correct,
    broadcastable_shapes,
    graphs,
    shapes,
)


class Cube(Primitive):
    """a³; ∂/∂a = 3a²."""

    forward = staticmethod(lambda a: a**3)
    grads = (lambda g, out, a: g * 3.0 * a * a,)


class WrongCube(Primitive):
    """a³ with the classic slip: ∂/∂a written as 3a instead of 3a²."""

    forward = staticmethod(lambda a: a**3)
    grads = (lambda g, out, a: g * 3.0 * a,)


class Hypot(Primitive):
    """√(a² + b²); ∂/∂a = a/out, ∂/∂b = b/out."""

    forward = staticmethod(lambda a, b: (a * a + b * b) ** 0.5)
    grads = (lambda g, out, a, b: g * a / out, lambda g, out, a, b: g * b / out)


@given(shapes(min_dims=1, max_dims=2, max_side=3))
def test_shapes_keep_to_their_bounds(shape: tuple[int, ...]) -> None:
    assert 1 <= len(shape) <= 2
    assert all(1 <= n <= 3 for n in shape)


@given(broadcastable_shapes())
def test_broadcastable_shapes_broadcast(pair: tuple[tuple[int, ...], tuple[int, ...]]) -> None:
    a, b = pair
    assert np.broadcast(np.empty(a), np.empty(b)).shape == np.broadcast_shapes(a, b)


@given(arrays((4, 2), -3.0, 1.0, min_abs=0.5))
def test_arrays_keep_to_their_range_and_away_from_zero(x: np.ndarray) -> None:
    assert x.shape == (4, 2)
    assert x.dtype == np.float64
    assert np.all((x >= -3.0) & (x <= 1.0))
    assert np.all(np.abs(x) >= 0.5)


@given(arrays(()), arrays(shapes(max_dims=2), dtype=np.float32))
def test_arrays_of_shape_nothing_are_floats_and_shapes_may_be_drawn(s: Any, x: Any) -> None:
    assert type(s) is float
    assert isinstance(x, float) or x.dtype == np.float32


def test_arrays_refuse_an_empty_range() -> None:
    with pytest.raises(ValueError, match="low ≤ high"):
        arrays((2,), 1.0, -1.0)
    with pytest.raises(ValueError, match="min_abs=3"):
        arrays((2,), -1.0, 1.0, min_abs=3.0)


def test_a_right_primitive_passes_all_three_checks_at_given_inputs() -> None:
    checks = assert_gradients_correct(Cube, np.array([1.0, -2.0, 0.5]))
    assert isinstance(checks, Checks)
    assert checks.gradcheck and checks.taylor and checks.wrong == []


def test_a_right_cube_at_zero_passes_the_taylor_test() -> None:
    """Found by hypothesis: from h = 0.1 the cubic term bent the fitted order to 1.79."""
    assert assert_gradients_correct(Cube, np.array([0.0, 1.25])) is not None


def test_a_right_primitive_passes_on_every_drawn_example() -> None:
    assert assert_gradients_correct(Cube, arrays(shapes(max_dims=2)), max_examples=20) is None
    assert_gradients_correct(Hypot, arrays((3,), min_abs=0.1), arrays((3,), min_abs=0.1))


def test_a_strategy_that_draws_a_tuple_gives_every_input() -> None:
    pairs = broadcastable_shapes().flatmap(lambda p: st.tuples(arrays(p[0]), arrays(p[1])))
    assert_gradients_correct(lambda a, b: (a * b).tanh(), pairs, max_examples=20)


def test_a_wrong_vjp_fails_with_the_words_of_each_report() -> None:
    with pytest.raises(AssertionError) as caught:
        assert_gradients_correct(WrongCube, np.array([1.5, -2.0]))
    message = str(caught.value)
    assert "the gradients are wrong at input 0 = array([ 1.5, -2. ])" in message
    assert "gradcheck FAILED" in message
    assert "Taylor test FAILED" in message
    assert "node made by WrongCube: ∂/∂(operand 0)" in message and "should be" in message


def test_a_wrong_vjp_fails_on_drawn_examples_too() -> None:
    with pytest.raises(AssertionError, match="gradcheck FAILED"):
        assert_gradients_correct(WrongCube, arrays((2,), min_abs=0.5), max_examples=10)


def test_a_function_of_values_and_a_graph_are_checked_as_well() -> None:
    assert_gradients_correct(lambda a: (a * a).sigmoid().sum(), np.array([0.3, -1.2]))
    graph = Graph((0.5, -1.0), (("mul", (0, 1)), ("tanh", (2,)), ("mul", (3, 2))), (1, 1), "scalar")
    assert assert_gradients_correct(graph) is not None


@given(graphs(tensors=True, max_steps=4))
def test_random_tensor_graphs_evaluate_on_values_to_a_scalar(graph: Graph) -> None:
    out = graph.on_values(*(Value(x) for x in graph.leaves))
    assert out.shape == ()
    assert repr(graph).splitlines()[-1].startswith("output = ")


def test_the_checker_refuses_what_it_cannot_check() -> None:
    with pytest.raises(TypeError, match="got int"):
        assert_gradients_correct(3, 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs inputs"):
        assert_gradients_correct(Cube)
