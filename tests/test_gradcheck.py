"""The numerical checks: they pass right gradients, catch wrong ones, and say why."""

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import (
    GradcheckReport,
    Primitive,
    Value,
    find_wrong_gradients,
    gradcheck,
    taylor_test,
)


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


# ---------------------------------------------------------------------------
# The catalogues: known-wrong primitives fail all three checks, at every scale;
# correct but hard functions never fail.
# ---------------------------------------------------------------------------


def scaled_cube(factor: float) -> type[Primitive]:
    """a³ whose vjp is `factor` times the right one, 3a²."""

    class Cube(Primitive):
        forward = staticmethod(lambda a: a**3)
        grads = (lambda g, out, a: g * (factor * 3.0) * a * a,)

    Cube.__name__ = f"Cube×{factor:g}"
    return Cube


def scaled_tanh(factor: float) -> type[Primitive]:
    """tanh a whose vjp is `factor` times the right one, 1 − tanh² a."""

    class Tanh(Primitive):
        forward = staticmethod(np.tanh)
        grads = (lambda g, out, a: g * (factor * (1.0 - out * out)),)

    Tanh.__name__ = f"Tanh×{factor:g}"
    return Tanh


class TransposedMatMul(Primitive):
    """a @ b whose vjp for a is g @ b instead of g @ bᵀ."""

    forward = staticmethod(np.matmul)
    grads = (lambda g, out, a, b: g @ b, lambda g, out, a, b: a.T @ g)


class UnsummedAdd(Primitive):
    """a + b with b broadcast over rows, whose vjp for b forgets to sum: it takes row 0 of g."""

    forward = staticmethod(lambda a, b: a + b)
    grads = (lambda g, out, a, b: g, lambda g, out, a, b: g[0])


FACTORS = {"2×": 2.0, "1.01×": 1.01, "1.002×": 1.002, "sign error": -1.0, "zero vjp": 0.0}
POINT = np.array([0.7, -1.3, 0.45])
B = np.array([[0.3, -0.8, 0.5], [1.1, 0.2, -0.4], [-0.6, 0.9, 0.7]])


def wrong_case(name: str, scale: float, steep: bool) -> tuple[Any, list[np.ndarray]]:
    """f and its inputs: the named wrong primitive, f multiplied by `scale`; steep: tanh(1e5·x)."""
    if name in FACTORS:
        if steep:  # tanh(1e5·x) near x = 5e-6, where its slope is about 8e4
            op = scaled_tanh(FACTORS[name])
            return (lambda v: op.apply(v * 1e5).sum() * scale), [POINT * 7e-6]
        op = scaled_cube(FACTORS[name])
        return (lambda v: op.apply(v).sum() * scale), [POINT]
    k = 1e4 if steep else 1.0  # steep: the wrong vjp sits under a sharp tanh
    if name == "transposed matmul vjp":
        a = np.array([[0.2, -0.5, 0.9], [0.4, 0.1, -0.3]])
        return (lambda x, y: (TransposedMatMul.apply(x, y) * k).tanh().sum() * scale), [a / k, B]
    if name == "missing unbroadcast sum":
        a = np.array([[0.2, -0.5, 0.9], [0.4, 0.1, -0.3]])
        return (lambda x, y: (UnsummedAdd.apply(x, y) * k).tanh().sum() * scale), [a / k, POINT / k]
    raise KeyError(name)


WRONG = [*FACTORS, "transposed matmul vjp", "missing unbroadcast sum"]
SCALES = [1e-6, 1.0, 1e6]


def all_three(f: Any, inputs: list[np.ndarray]) -> tuple[GradcheckReport, Any, list[Any]]:
    """gradcheck, taylor_test and find_wrong_gradients on one case."""
    values = [Value(x) for x in inputs]
    return gradcheck(f, *inputs), taylor_test(f, *inputs), find_wrong_gradients(f(*values))


@pytest.mark.parametrize("steep", [False, True], ids=["smooth", "steep"])
@pytest.mark.parametrize("scale", SCALES, ids=[f"scale {s:g}" for s in SCALES])
@pytest.mark.parametrize("name", WRONG)
def test_every_wrong_primitive_fails_all_three_checks(name: str, scale: float, steep: bool) -> None:
    f, inputs = wrong_case(name, scale, steep)
    report, taylor, found = all_three(f, inputs)
    assert report.verdict == "FAILED", str(report)
    assert report.failures > 0
    assert taylor.verdict == "FAILED", str(taylor)
    assert found, "find_wrong_gradients missed it"


@given(
    name=st.sampled_from(WRONG),
    scale=st.floats(-6, 6).map(lambda e: 10.0**e),
    steep=st.booleans(),
)
@settings(max_examples=40)
def test_wrong_primitives_fail_at_random_scales(name: str, scale: float, steep: bool) -> None:
    f, inputs = wrong_case(name, scale, steep)
    report, taylor, found = all_three(f, inputs)
    assert report.verdict == "FAILED", str(report)
    assert taylor.verdict == "FAILED", str(taylor)
    assert found


class Abs(Primitive):
    """|a|; ∂/∂a = sign(a), 0 at 0 (a subgradient)."""

    forward = staticmethod(np.abs)
    grads = (lambda g, out, a: g * np.sign(a),)


class Max(Primitive):
    """max a; the gradient is split evenly between tied maxima, as torch's amax does."""

    forward = staticmethod(lambda a: np.max(a))
    grads = (lambda g, out, a: g * (a == out) / np.sum(a == out),)


def log_loss_of(y: Any) -> Any:
    import nn

    return lambda q: nn.log_loss(q, y)


HARD: dict[str, tuple[Any, list[Any]]] = {
    "relu at 0": (lambda v: v.relu().sum(), [np.array([0.0, 0.5, -0.3])]),
    "|x| at 0": (lambda v: Abs.apply(v).sum(), [np.array([0.0, 0.5, -0.3])]),
    "|x| at 0 as two relus": (lambda v: (v.relu() + (-v).relu()).sum(), [np.array([0.0, 1.5])]),
    "max at a tie": (lambda v: Max.apply(v) * 2.0, [np.array([0.3, 0.7, 0.7, -0.1])]),
    "saturated sigmoids": (lambda v: v.sigmoid().sum(), [np.array([30.0, -40.0, 800.0, -800.0])]),
    "saturated sigmoid, one": (lambda v: v.sigmoid(), [np.array(745.0)]),
    "log loss at its clip": (log_loss_of(np.array([1.0, 0.0])), [np.array([0.0, 1.0])]),
    "log loss near its clip": (log_loss_of(np.array([1.0, 0.0])), [np.array([1e-9, 1 - 1e-12])]),
    "float32 inside f": (lambda v: (v.astype(np.float32) * 3.0).tanh().sum(), [POINT]),
    "float32 inputs": (
        lambda a, b: (a * b).tanh().sum(),
        [np.array([0.3, -1.2], dtype=np.float32), np.array([2.0, 0.5], dtype=np.float32)],
    ),
    "sqrt near 0": (lambda v: (v**0.5).sum(), [np.array([1e-7, 1e-12, 4.0])]),
    "sqrt at 0": (lambda v: v**0.5, [np.array(0.0)]),
    "huge dynamic range product": (
        lambda a, b: (a * b).sum(),
        [np.array([1e150, 1e-150, 3.0]), np.array([1e-150, 1e150, 1e-300])],
    ),
    "huge dynamic range chain": (lambda a, b, c: a * b * c, [1e200, 1e-190, 1e-15]),
}


def verdicts(f: Any, inputs: list[Any], scale: float = 1.0) -> tuple[str, str, list[Any]]:
    """The verdicts of the three checks on s·f."""
    g = (lambda *v: f(*v) * scale) if scale != 1.0 else f
    report = gradcheck(g, *inputs)
    taylor = taylor_test(g, *inputs)
    found = find_wrong_gradients(g(*[Value(x) for x in inputs]))
    return report.verdict, taylor.verdict, found


@pytest.mark.parametrize("name", HARD)
def test_correct_but_hard_functions_never_fail(name: str) -> None:
    f, inputs = HARD[name]
    report = gradcheck(f, *inputs)
    assert report.failures == 0, str(report)
    assert report.verdict in ("passed", "INCONCLUSIVE")
    taylor = taylor_test(f, *inputs)
    assert taylor.verdict != "FAILED", str(taylor)
    assert find_wrong_gradients(f(*[Value(x) for x in inputs])) == []


@given(name=st.sampled_from(list(HARD)), scale=st.floats(-6, 6).map(lambda e: 10.0**e))
@settings(max_examples=40)
def test_correct_but_hard_functions_never_fail_at_random_scales(name: str, scale: float) -> None:
    f, inputs = HARD[name]
    report, taylor, found = verdicts(f, inputs, scale)
    assert report != "FAILED" and taylor != "FAILED" and found == []


@pytest.mark.parametrize(
    "case",
    [*((n, s, st_) for n in WRONG for s in SCALES for st_ in (False, True))],
    ids=lambda c: f"{c[0]}-{c[1]:g}-{'steep' if c[2] else 'smooth'}",
)
def test_taylor_test_agrees_with_gradcheck_on_the_wrong_catalogue(case: Any) -> None:
    f, inputs = wrong_case(*case)
    assert (gradcheck(f, *inputs).verdict == "FAILED") == (
        taylor_test(f, *inputs).verdict == "FAILED"
    )


@pytest.mark.parametrize("name", HARD)
def test_taylor_test_agrees_with_gradcheck_on_the_hard_catalogue(name: str) -> None:
    f, inputs = HARD[name]
    report, taylor = gradcheck(f, *inputs), taylor_test(f, *inputs)
    assert report.verdict != "FAILED" and taylor.verdict != "FAILED"


# ---------------------------------------------------------------------------
# Every case of the issue that made these checks: each one said the opposite of the truth.
# ---------------------------------------------------------------------------


def test_a_doubled_derivative_at_a_small_gradient_fails():
    """6a² for a³ at x = 0.001 passed with `rel err 1 ok` under a fixed atol."""
    f = lambda v: scaled_cube(2.0).apply(v)  # noqa: E731
    report = gradcheck(f, 0.001)
    assert report.verdict == "FAILED"
    (check,) = report.inputs
    assert check.analytic == pytest.approx(6e-6) and check.numerical == pytest.approx(3e-6)
    assert "FAIL (1 wrong)" in str(report)
    taylor = taylor_test(f, 0.001)
    assert taylor.verdict == "FAILED"  # it saw order 1.87 and passed
    assert taylor.order == pytest.approx(1.0, abs=0.1)


def test_a_steep_smooth_function_is_not_a_kink_and_a_4_percent_error_fails():
    """tanh(1e5·x) at 5e-6 with a vjp 4% small passed as 'ok, 1 kink(s)'."""
    f = lambda v: scaled_tanh(0.96).apply(v * 1e5)  # noqa: E731
    report = gradcheck(f, 5e-6)
    assert report.verdict == "FAILED"
    assert report.inputs[0].kinks == []
    assert report.inputs[0].numerical == pytest.approx(1e5 * (1 - np.tanh(0.5) ** 2), rel=1e-6)
    right = gradcheck(lambda v: (v * 1e5).tanh(), 5e-6)
    assert right and right.inputs[0].kinks == []


def test_sqrt_near_zero_passes_with_a_smaller_step():
    """x**0.5 at 1e-7: x − ε left the domain and the numerical value was nan."""
    report = gradcheck(lambda v: v**0.5, 1e-7)
    assert report, str(report)
    assert report.inputs[0].numerical == pytest.approx(0.5 / np.sqrt(1e-7), rel=1e-6)
    assert taylor_test(lambda v: v**0.5, 1e-7)


def test_a_nan_numerical_value_is_inconclusive_not_a_wrong_gradient():
    report = gradcheck(lambda v: v.log(), -1.0)  # ln of a negative number: nan everywhere
    assert report.verdict == "INCONCLUSIVE" and report.failures == 0
    assert report.inputs[0].inconclusive[()] == "f is not finite at x"
    assert "nan" in str(report)


def test_find_wrong_gradients_does_not_flag_the_log_loss_near_its_clip():
    """The exact LogLoss vjp at ŷ = 1e-9 was flagged: its difference crossed the clip."""
    import nn

    loss = nn.log_loss(Value(np.array([1e-9, 0.5])), np.array([1.0, 0.0]))
    assert find_wrong_gradients(loss) == []
    single = nn.log_loss(Value(1e-9), 1.0)
    assert find_wrong_gradients(single) == []


def test_one_element_at_a_kink_does_not_hide_a_doubled_vjp():
    """One element at a kink used to hide the whole tensor."""

    class DoubledRelu(Primitive):
        forward = staticmethod(lambda a: np.maximum(a, 0.0))
        grads = (lambda g, out, a: g * 2.0 * (a > 0),)

    out = DoubledRelu.apply(Value(np.array([0.0, 1.0, 2.0]))).sum()
    (w,) = find_wrong_gradients(out)
    assert w.elements == 2 and w.index in ((1,), (2,))
    assert w.obtained == pytest.approx(2 * w.expected)
    assert "(2 elements wrong)" in str(w)
    assert not gradcheck(lambda v: DoubledRelu.apply(v).sum(), np.array([0.0, 1.0, 2.0]))


class Doubled(Primitive):
    """The identity, whose vjp doubles: a wrong gradient for whatever passes through it."""

    forward = staticmethod(lambda a: a)
    grads = (lambda g, out, a: g * 2.0,)


def test_a_wrong_w21_fails_on_the_untrained_lesson_network():
    """w21's gradient is about 1e-5 on the alien data, under the old atol: a wrong one passed."""
    from nn.cli import load_data, make_model
    from nn.losses import log_loss

    X, y = load_data("alien", 0)
    net = make_model("network", None, X.shape[1], 0)
    names = [n for n, _ in net.named_parameters()]

    def loss_of(*params: Value) -> Value:
        ps = list(params)
        ps[names.index("w21")] = Doubled.apply(ps[names.index("w21")])
        with net.using(ps):
            return log_loss(net(X), y)

    report = gradcheck(loss_of, *net.parameters())
    failed = [c.label for c in report.inputs if c.failures]
    assert failed == ["w21"], str(report)
    assert abs(report.inputs[names.index("w21")].numerical) < 1e-4


class ZeroBackward(Primitive):
    """The identity with a zero vjp: an all-zero backward for everything before it."""

    forward = staticmethod(lambda a: a)
    grads = (lambda g, out, a: g * 0.0,)


def test_an_all_zero_backward_fails_every_tensor_of_a_trained_model():
    """A trained model's gradients are tiny; with an all-zero backward 3 of 6 tensors passed."""
    import nn

    X, y = nn.datasets.moons(200, seed=0) if hasattr(nn.datasets, "moons") else (None, None)
    model = nn.MLP(2, [16, 16, 1], seed=0)
    nn.fit(model, X, y, epochs=300, lr=0.05, optimizer="adam", seed=0)

    def loss_of(*params: Value) -> Value:
        with model.using(params):
            return ZeroBackward.apply(nn.log_loss(model(X), y))

    report = gradcheck(loss_of, *model.parameters())
    assert [c.failures > 0 for c in report.inputs] == [True] * 6, str(report)


def test_a_loss_that_rounds_far_worse_than_its_size_is_not_failed():
    """ŷ = σ(−16) ≈ 1e-7: ln(1 − ŷ) rounds at 1e-16, a billion times ε·|L|, yet the
    differences look smooth. The rounding floor from f's graph keeps a right gradient from failing.
    """
    import nn

    net = nn.TwoLayerNetwork(seed=0)
    for name, value in zip(nn.network.NAMES, [0.0] * 8 + [-16.0], strict=True):
        getattr(net, name).data = value
    X, y = np.zeros((2, 2)), np.zeros(2)

    def loss(*ps: Value) -> Value:
        with net.using(ps):
            return nn.log_loss(net(X), y)

    report = gradcheck(loss, *net.parameters())
    assert report.failures == 0, str(report)


def test_a_prediction_next_to_1_is_not_failed():
    """ŷ = 1 − 6e-8: ŷ rounds by ε and ln(1 − ŷ) multiplies that by 1/(1 − ŷ), yet the
    differences look smooth; carrying each node's rounding to f keeps a right gradient ok.
    """
    import nn

    model = nn.MLP(1, [1, 1], activation="relu", seed=646061761)
    rng = np.random.default_rng(646061761)
    X, y = rng.normal(size=(1, 1)), np.zeros(1)

    def loss(*ps: Value) -> Value:
        with model.using(ps):
            return nn.log_loss(model(X), y)

    report = gradcheck(loss, *model.parameters())
    assert report.failures == 0, str(report)


def test_a_function_that_refuses_a_moved_point_is_differenced_inside_its_domain():
    """log_loss refuses ŷ > 1: at ŷ = 1 − 1e-3 a step of 1e-2 would leave [0, 1]."""
    import nn

    f = lambda q: nn.log_loss(q, np.array([1.0]))  # noqa: E731
    report = gradcheck(f, np.array([1 - 1e-3]), eps=1e-2)
    assert report, str(report)


def test_the_report_names_inputs_by_their_values_names():
    w, b = Value(np.array([0.5, -1.0]), name="w"), Value(2.0, name="b")
    report = gradcheck(lambda p, q, r: (p * q * r).tanh().sum(), w, b, 0.3)
    assert [c.label for c in report.inputs] == ["w", "b", "2"]
    rows = [line.split()[0] for line in str(report).splitlines()[-3:]]
    assert rows == ["w", "b", "2"]


def test_taylor_test_reports_relu_at_0_as_a_kink():
    report = taylor_test(lambda v: v.relu(), 0.0)
    assert report.verdict == "kink" and report
    assert "kink" in str(report)
    assert taylor_test(lambda v: scaled_relu_slope(5.0).apply(v), 0.0).verdict == "FAILED"


def scaled_relu_slope(slope: float) -> type[Primitive]:
    """relu whose vjp is `slope` everywhere: at 0, outside the one-sided slopes 0 and 1."""

    class Relu(Primitive):
        forward = staticmethod(lambda a: np.maximum(a, 0.0))
        grads = (lambda g, out, a: g * slope,)

    return Relu


@pytest.mark.filterwarnings("error")
def test_hostile_points_are_inconclusive_without_warnings():
    assert gradcheck(lambda a: (a * a).sum(), np.zeros(0))  # nothing to check
    for x in ([1e300, -1e300], [np.nan, 1.0], [1e-300, 3e-310]):
        report = gradcheck(lambda a: (a * a).sum(), np.array(x))
        assert report.verdict == "INCONCLUSIVE" and report.failures == 0, str(report)
    assert gradcheck(lambda a: (a * 2.0).sum(), np.array([1e300, -1e300]))
    assert taylor_test(lambda a: (a * a).sum(), np.array([1e300])).verdict == "inconclusive"


class Hypot(Primitive):
    """√(a² + b²); ∂/∂a = a/out, ∂/∂b = b/out."""

    forward = staticmethod(lambda a, b: (a * a + b * b) ** 0.5)
    grads = (lambda g, out, a, b: g * a / out, lambda g, out, a, b: g * b / out)


def test_a_dip_in_the_taylor_remainder_is_not_a_wrong_gradient():
    """Where the h² and h³ terms cancel r dips; the order is read below the dip."""
    a = np.array([-1.9921875, 2.0, -1.55859375])
    b = np.array([-1.625, 1.67578125, 1.63671875])
    f = lambda x, y: Hypot.apply(x, y)  # noqa: E731
    report = taylor_test(f, a, b)
    assert report.verdict == "passed", str(report)
    assert gradcheck(f, a, b)


def test_a_bent_order_with_tiny_remainders_is_a_pass_not_a_failure():
    """Here the three smallest clean steps fit order 1.78, yet r/h there bounds the error."""
    a = np.array([1.30078125, 2.0, -0.830078125])
    b = np.array([1.30078125, 2.0, 1.30078125])
    report = taylor_test(lambda x, y: Hypot.apply(x, y), a, b)
    assert report.order < 1.8 and report.verdict == "passed", str(report)
    assert "bounds the gradient error" in str(report)


class NanSlope(autograd.Primitive):
    """a² with a vjp that returns nan."""

    forward = staticmethod(lambda a: a * a)
    grads = (lambda g, out, a: g * float("nan") * a,)


def test_gradcheck_and_taylor_test_refuse_nan_gradients():
    f = lambda v: NanSlope.apply(v).sum()  # noqa: E731
    x = np.array([1.0, 2.0])
    assert not autograd.gradcheck(f, x)
    assert not autograd.taylor_test(f, x)
