"""grad, value_and_grad, jacobian and hessian: values, composition, and bad calls."""

import math
from typing import Any

import numpy as np
import pytest
from catalogue import Closure, ValueBackend, closures
from hypothesis import assume, given
from hypothesis import strategies as st

import autograd
from autograd import Value, grad, hessian, jacobian, no_grad, value_and_grad

finite = st.floats(-3.0, 3.0, allow_nan=False)


def sigmoid(z: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-z))


def test_grad_of_a_scalar_function_returns_a_number():
    g = grad(lambda x: x * x * x)(2.0)
    assert isinstance(g, float)
    assert g == 12.0


def test_grad_of_an_array_function_is_shaped_like_the_input():
    x = np.array([1.0, -2.0, 3.0])
    g = grad(lambda v: (v * v).sum())(x)
    assert isinstance(g, np.ndarray)
    np.testing.assert_array_equal(g, 2 * x)


@given(finite)
def test_grad_composes_to_higher_derivatives(x):
    f = lambda v: v * v * v  # noqa: E731
    assert grad(grad(f))(x) == pytest.approx(6 * x, abs=1e-12)
    assert grad(grad(grad(f)))(x) == pytest.approx(6.0)


@given(finite)
def test_second_derivative_of_sigmoid_and_tanh(x):
    s = sigmoid(x)
    assert grad(grad(lambda v: v.sigmoid()))(x) == pytest.approx(
        s * (1 - s) * (1 - 2 * s), abs=1e-12
    )
    t = math.tanh(x)
    assert grad(grad(lambda v: v.tanh()))(x) == pytest.approx(-2 * t * (1 - t * t), abs=1e-12)


@given(st.floats(0.1, 5.0))
def test_second_derivatives_through_log_exp_pow_and_division(x):
    assert grad(grad(lambda v: v.log()))(x) == pytest.approx(-1 / x**2, rel=1e-10)
    assert grad(grad(lambda v: (2 * v).exp()))(x) == pytest.approx(4 * math.exp(2 * x), rel=1e-10)
    assert grad(grad(lambda v: 1 / v))(x) == pytest.approx(2 / x**3, rel=1e-10)
    assert grad(grad(lambda v: v**v))(x) == pytest.approx(
        x**x * ((math.log(x) + 1) ** 2 + 1 / x), rel=1e-9
    )


def test_value_and_grad_returns_both():
    value, g = value_and_grad(lambda a: a * a + 1)(3.0)
    assert (value, g) == (10.0, 6.0)


def test_argnums_picks_the_arguments():
    f = lambda a, b: a * b * b  # noqa: E731
    assert grad(f, argnums=1)(2.0, 3.0) == 12.0
    assert grad(f, argnums=(0, 1))(2.0, 3.0) == (9.0, 12.0)
    with pytest.raises(ValueError, match="argnums"):
        grad(f, argnums=2)(2.0, 3.0)


def test_grad_of_a_vector_output_is_refused_with_the_shape():
    with pytest.raises(ValueError, match=r"scalar output.*\(3,\).*jacobian"):
        grad(lambda v: v * 2.0)(np.ones(3))


def test_function_must_return_a_value():
    with pytest.raises(TypeError, match="must return a Value"):
        grad(lambda v: 3.0)(1.0)


def test_jacobian_of_an_elementwise_function_is_diagonal():
    x = np.array([0.0, 1.0, 2.0])
    j = jacobian(lambda v: (v * 2.0).exp())(x)
    np.testing.assert_allclose(j, np.diag(2 * np.exp(2 * x)))


def test_jacobian_of_a_matrix_product():
    a = np.arange(6.0).reshape(2, 3)
    x = np.array([1.0, -1.0, 0.5])
    np.testing.assert_allclose(jacobian(lambda v: Value(a) @ v)(x), a)
    assert jacobian(lambda v: (Value(a) @ v).sum())(x).shape == (3,)


@given(st.lists(finite, min_size=2, max_size=2), st.lists(finite, min_size=2, max_size=2))
def test_hessian_of_a_perceptrons_log_loss(w, x):
    """∂²L/∂w² = ŷ(1 − ŷ)·x·xᵀ for L = −y ln ŷ − (1 − y) ln(1 − ŷ), ŷ = σ(w·x + b)."""
    w, x, b, y = np.array(w), np.array(x), 0.3, 1.0

    def loss(wv: Value) -> Value:
        y_hat = (wv @ x + b).sigmoid()
        return -(y * y_hat.log() + (1 - y) * (1 - y_hat).log())

    y_hat = sigmoid(w @ x + b)
    np.testing.assert_allclose(
        hessian(loss)(w), y_hat * (1 - y_hat) * np.outer(x, x), rtol=1e-9, atol=1e-12
    )


def test_hessian_of_a_quadratic_form():
    a = np.array([[2.0, 1.0], [0.0, 3.0]])
    x = np.array([0.5, -1.0])
    np.testing.assert_allclose(hessian(lambda v: v @ (Value(a) @ v))(x), a + a.T)


def test_transforms_leave_leaf_gradients_alone():
    w = Value(2.0)
    (w * w).backward()
    grad(lambda v: v * w)(3.0)
    assert w.grad == 4.0


# ---------------------------------------------------------------------------
# Nested derivatives: an inner function that closes over the outer variable.
# ---------------------------------------------------------------------------


def _data(x):
    return x.data if isinstance(x, Value) else x


def test_an_inner_grad_stays_differentiable_in_the_variable_it_closes_over():
    """d/dx [x · d/dy (x·y)] = d/dx x² = 2x (not x: no perturbation confusion)."""
    f = lambda x: x * grad(lambda y: x * y)(2.0)  # noqa: E731
    assert grad(f)(3.0) == 6.0


def test_the_inner_derivative_of_a_closure_is_differentiated_again():
    """d/dy (x·y)² at y = 1 is 2x², whose derivative is 4x."""
    assert grad(lambda x: grad(lambda y: (x * y) ** 2)(1.0))(3.0) == 12.0


def test_nested_closures_three_deep():
    """d/dz (x·y·z)² = 2x²y²z; at z = 1, d/dy gives 4x²y; at y = 1, d/dx gives 8x."""
    h = lambda x: grad(lambda y: grad(lambda z: (x * y * z) ** 2)(1.0))(1.0)  # noqa: E731
    assert grad(h)(1.5) == pytest.approx(8 * 1.5, rel=1e-15)


def test_an_inner_derivative_that_does_not_depend_on_the_outer_variable():
    """d/dy (x + y) = 1 for every x, so d/dx [x · 1] = 1."""
    assert grad(lambda x: x * grad(lambda y: x + y)(1.0))(3.0) == 1.0


def test_jacobian_and_hessian_of_closures():
    """g(x) = ∇_y ½‖x∘y‖² = x∘x∘y, at y = c: Jg = diag(2·x∘c); H of Σg = diag(2c)."""
    c = np.array([0.5, -1.0, 2.0])
    x = np.array([1.0, 3.0, -2.0])
    g = lambda x: grad(lambda y: 0.5 * ((x * y) * (x * y)).sum())(c)  # noqa: E731
    np.testing.assert_allclose(jacobian(g)(x), np.diag(2 * x * c), rtol=1e-15)
    np.testing.assert_allclose(hessian(lambda x: g(x).sum())(x), np.diag(2 * c), rtol=1e-15)
    inner_jac = lambda x: jacobian(lambda y: (x * y).tanh())(c)  # noqa: E731
    # Σ_rows of J_y tanh(x∘y) is x∘(1 − t²), t = tanh(x∘c); its derivative in x is diagonal.
    t = np.tanh(x * c)
    expected = np.diag((1 - t**2) * (1 - 2 * x * c * t))
    np.testing.assert_allclose(jacobian(lambda x: inner_jac(x).sum(axis=0))(x), expected)


def test_grad_accepts_an_output_with_one_element_of_any_shape():
    x = np.array([1.0, 2.0])
    value, g = value_and_grad(lambda v: (v * v).sum().reshape(1, 1))(x)
    np.testing.assert_array_equal(g, 2 * x)
    assert np.shape(value) == (1, 1) and float(np.asarray(value).item()) == 5.0
    assert grad(lambda v: v * 3.0)(np.array([2.0])).tolist() == [3.0]
    with pytest.raises(ValueError, match=r"\(2,\)"):
        grad(lambda v: v * 3.0)(x)


class Transforms:
    grad = staticmethod(grad)
    lift = staticmethod(lambda x: x)


@given(closures())
def test_random_nested_closures_match_central_differences_of_the_inner_grad(
    closure: Closure,
) -> None:
    """d/dx [d/dy G(x, y)] by nesting grad, against central differences of the inner grad."""
    assume(closure.graph.distance_to_kinks() > 1e-3)
    x0 = closure.graph.leaves[0]
    f = lambda x: closure.inner(Transforms, ValueBackend, x)  # noqa: E731
    nested = grad(f)(x0)
    eps = 1e-6
    numerical = (_data(f(Value(x0 + eps))) - _data(f(Value(x0 - eps)))) / (2 * eps)
    assert nested == pytest.approx(numerical, rel=1e-4, abs=1e-5), repr(closure)


def test_the_jacobian_of_a_float32_scalar_is_a_scalar_of_the_same_kind():
    j64 = jacobian(lambda x: x * 2.0)(1.0)
    j32 = jacobian(lambda x: x * 2.0)(np.float32(1.0))
    assert type(j64) is float and j64 == 2.0
    assert type(j32) is np.float32 and j32 == 2.0
    assert type(grad(lambda x: x * 2.0)(np.float32(1.0))) is np.float32


def test_the_jacobian_of_a_scalar_function_of_a_scalar_is_a_number():
    j = jacobian(lambda v: v * v * v)(2.0)
    assert isinstance(j, float)
    assert j == 12.0


def test_grad_called_inside_no_grad_gives_the_gradient_or_an_error() -> None:
    with no_grad():
        try:
            g = grad(lambda x: x * x)(3.0)
        except (RuntimeError, ValueError):
            return  # refusing is fine too
    assert g == 6.0


def test_value_and_grad_inside_no_grad_gives_the_gradients_or_an_error() -> None:
    x = np.array([1.0, -2.0])
    with no_grad():
        try:
            _, g = value_and_grad(lambda x: (x * x).sum())(x)
        except (RuntimeError, ValueError):
            return
    assert g.tolist() == [2.0, -4.0]


@pytest.mark.parametrize("transform", [autograd.jacobian, autograd.hessian])
def test_jacobian_and_hessian_inside_no_grad_give_the_answer_or_an_error(transform: Any) -> None:
    x = np.array([1.0, 2.0])
    f = (lambda x: x * x) if transform is autograd.jacobian else (lambda x: (x**3).sum())
    want = transform(f)(x)
    with no_grad():
        try:
            got = transform(f)(x)
        except (RuntimeError, ValueError):
            return
    assert np.array_equal(got, want)


@pytest.mark.parametrize("argnums", [(), 0.0], ids=["empty", "float"])
def test_a_bad_argnums_gets_an_error_naming_argnums(argnums: Any) -> None:
    with pytest.raises((TypeError, ValueError), match="argnums"):
        grad(lambda x: x * 2.0, argnums=argnums)(1.0)


def test_jacobian_with_a_tuple_of_argnums_names_argnums() -> None:
    with pytest.raises((TypeError, ValueError), match="argnums"):
        autograd.jacobian(lambda x, y: x * y, argnums=(0, 1))(np.ones(2), np.ones(2))  # type: ignore[arg-type]
