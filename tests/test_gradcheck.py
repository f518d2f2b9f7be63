"""The numerical checks: they pass right gradients, catch wrong ones, and say why."""

import numpy as np
import pytest

from autograd import Primitive, Value, gradcheck, taylor_test


class WrongCube(Primitive):
    """a³ with a deliberately wrong derivative 2a² (the right one is 3a²)."""

    forward = staticmethod(lambda a: a**3)
    grads = (lambda g, out, a: g * 2.0 * a * a,)


def wrong(v: Value) -> Value:
    return WrongCube.apply(v).sum()


def test_right_gradients_pass_and_the_report_is_truthy():
    rng = np.random.default_rng(0)
    report = gradcheck(
        lambda a, b: (a @ b).tanh().sum(), rng.normal(size=(3, 4)), rng.normal(size=4)
    )
    assert report
    assert report.ok
    assert len(report.inputs) == 2


def test_a_wrong_gradient_fails_and_the_report_names_the_worst_element():
    report = gradcheck(wrong, np.array([1.0, 2.0]))
    assert not report
    (check,) = report.inputs
    assert check.index == (1,)
    assert check.analytic == pytest.approx(8.0)
    assert check.numerical == pytest.approx(12.0)
    assert check.abs_error == pytest.approx(4.0)
    assert check.rel_error == pytest.approx(1 / 3)
    text = str(report)
    assert "FAILED" in text
    assert "(f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h" in text
    for piece in ("(1,)", "8", "12", "abs err", "rel err"):
        assert piece in text


def test_inputs_are_not_changed():
    x = np.array([1.0, 2.0])
    v = Value(np.array([3.0, 4.0]))
    gradcheck(lambda a, b: (a * b).sum(), x, v)
    np.testing.assert_array_equal(x, [1.0, 2.0])
    np.testing.assert_array_equal(v.data, [3.0, 4.0])
    assert not v.grad_computed


def test_float32_inputs_are_checked_in_float64_and_the_report_says_so():
    x = np.array([0.3, -0.7], dtype=np.float32)
    report = gradcheck(lambda a: (a * a * a).sum(), x, atol=1e-9, rtol=1e-7)
    assert report
    assert "float32 inputs were checked in float64" in str(report)


def test_a_kink_is_reported_as_a_kink_not_a_failure():
    report = gradcheck(lambda a: a.relu().sum(), np.array([0.0, 1.0, 2.0]))
    assert report
    assert report.inputs[0].kinks == [(0,)]
    assert "kink" in str(report)


def test_a_flat_element_alone_is_inconclusive_and_strict_false_accepts_it():
    """relu at −2: f does not change at all, which a gradient of 0 and one of 1e-20 look like."""
    report = gradcheck(lambda a: a.relu().sum(), np.array([-2.0]))
    assert not report
    assert report.verdict == "INCONCLUSIVE" and report.failures == 0
    ((name, index, why),) = report.inconclusive
    assert (name, index) == ("0", (0,)) and "did not change" in why
    text = str(report)
    assert "1 inconclusive" in text and "not a pass" in text and "float64 inputs" in text
    accepted = gradcheck(lambda a: a.relu().sum(), np.array([-2.0]), strict=False)
    assert accepted
    assert "1 inconclusive" in str(accepted) and "strict=False" in str(accepted)


def test_a_flat_element_beside_resolved_gradients_passes_with_a_note():
    """Beside a gradient of 1, a value known to be 0 within 1e-13 is right to 0.1% of it."""
    report = gradcheck(lambda a: a.relu().sum(), np.array([0.0, 1.0, -2.0]))
    assert report
    assert report.inconclusive == []
    assert "1 element(s) agree within a numerical error" in str(report)


def test_a_kink_on_a_curved_function_is_still_a_kink():
    """The one-sided slopes carry an ε·f''/2 error; the kink band must allow for it."""
    report = gradcheck(lambda x: -x.relu() + 30 * x.exp(), 0.0)
    assert report
    assert report.inputs[0].kinks == [()]


def test_a_wrong_value_at_a_kink_still_fails():
    class WrongRelu(Primitive):
        forward = staticmethod(lambda a: np.maximum(a, 0.0))
        grads = (lambda g, out, a: g * 5.0,)

    report = gradcheck(lambda a: WrongRelu.apply(a).sum(), np.array([0.0]))
    assert not report
    assert report.inputs[0].kinks == []


def test_vector_outputs_are_checked_through_a_random_projection():
    report = gradcheck(lambda a: a.sigmoid(), np.array([0.1, 0.2, 0.3]))
    assert report
    assert "random r" in str(report)


def test_directions_mode_costs_a_few_evaluations_not_one_per_element():
    x = np.random.default_rng(1).normal(size=1000)
    right = gradcheck(lambda a: (a * a).sum(), x, directions=3)
    assert right
    assert right.evaluations == 13  # 1 + 4 per direction: steps h and h/2 on both sides
    assert len(right.inputs) == 3
    assert not gradcheck(wrong, x, directions=3)
    assert "direction" in str(right)


def test_taylor_test_sees_order_two_for_right_and_one_for_wrong_gradients():
    x = np.array([1.0, 2.0])
    right = taylor_test(lambda a: (a * a * a).sum(), x)
    assert right
    assert right.order == pytest.approx(2.0, abs=0.1)
    bad = taylor_test(wrong, x)
    assert not bad
    assert bad.order == pytest.approx(1.0, abs=0.15)
    assert "order" in str(bad)


def test_taylor_test_on_a_linear_function_passes_with_a_note():
    report = taylor_test(lambda a: a.sum() * 3.0, np.array([1.0, 2.0]))
    assert report
    assert "linear" in str(report)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"eps": 0.0}, "eps"), ({"atol": -1.0}, "atol"), ({"directions": 0}, "directions")],
)
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gradcheck(lambda a: a * a, 1.0, **kwargs)


def test_bad_calls_are_refused():
    with pytest.raises(ValueError, match="at least one input"):
        gradcheck(lambda: Value(1.0))
    with pytest.raises(TypeError, match="must return a Value"):
        gradcheck(lambda a: 1.0, 1.0)
    with pytest.raises(TypeError, match="str"):
        gradcheck(lambda a: a, "x")


def test_a_function_that_differentiates_inside_is_checked_honestly():
    """f(v) = d(v³)/dv = 3v²: the numerical side must see the inner derivative, not zeros."""
    from autograd import gradients

    def slope_of_cube(v: Value) -> Value:
        (g,) = gradients(v * v * v, [v], create_graph=True)
        return g

    report = gradcheck(slope_of_cube, 2.0)
    assert report
    assert report.inputs[0].numerical == pytest.approx(12.0)
