"""Regressions found in review: each test failed before its fix."""

import numpy as np
import pytest

import nn
from autograd import Primitive, Value, grad, gradcheck, gradients, jacobian, taylor_test


class NanSlope(Primitive):
    """a² with a vjp that returns nan."""

    forward = staticmethod(lambda a: a * a)
    grads = (lambda g, out, a: g * float("nan") * a,)


def test_gradcheck_and_taylor_test_refuse_nan_gradients():
    f = lambda v: NanSlope.apply(v).sum()  # noqa: E731
    x = np.array([1.0, 2.0])
    assert not gradcheck(f, x)
    assert not taylor_test(f, x)


def test_gradients_of_an_unreached_value_are_zero_even_after_an_earlier_pass():
    a, b = Value(1.0), Value(2.0)
    (b * b).backward()
    assert b.grad == 4.0
    assert gradients(a * 3.0, [b]) == [0.0]
    assert grad(lambda a, b: a * 2.0, argnums=1)(Value(1.0), b).data == 0.0
    assert b.grad == 4.0


def test_log_loss_takes_a_float32_scalar_prediction():
    y_hat = Value(np.float32(0.3))
    loss = nn.log_loss(y_hat, 1.0)
    loss.backward()
    assert loss.item() == pytest.approx(-np.log(0.3), rel=1e-6)
    assert y_hat.grad.dtype == np.float32
    assert float(y_hat.grad) == pytest.approx(-1 / 0.3, rel=1e-6)


def test_a_primitive_returning_integers_gives_a_float64_value():
    class Floor(Primitive):
        forward = staticmethod(lambda a: np.floor(a).astype(np.int64))
        grads = (lambda g, out, a: g * 0.0,)

    out = Floor.apply(Value([1.5, 2.5]))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out.data, [1.0, 2.0])


def test_a_primitive_without_grads_is_refused_when_defined():
    with pytest.raises(TypeError, match=r"NoGrads\.grads must be a tuple of functions"):

        class NoGrads(Primitive):
            forward = staticmethod(lambda a: a)


def test_a_vjp_that_returns_none_is_named_in_the_error():
    class Forgetful(Primitive):
        forward = staticmethod(lambda a: a * 2.0)
        grads = (lambda g, out, a: None,)

    x = Value(np.ones(3))
    with pytest.raises(TypeError, match=r"backward through Forgetful: a vjp returned None"):
        Forgetful.apply(x).sum().backward()


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


def test_the_jacobian_of_a_scalar_function_of_a_scalar_is_a_number():
    j = jacobian(lambda v: v * v * v)(2.0)
    assert isinstance(j, float)
    assert j == 12.0
