"""nn.losses: log loss (fused, clipped), its logits form, mse and hinge; label checks."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd
import nn
from autograd import Value, gradcheck, gradients, hessian, sigmoid
from nn.losses import LogLoss, LogLossOfLogit, clip_bounds

LOSSES = [nn.log_loss, nn.log_loss_with_logits, nn.mse, nn.hinge]


def by_hand(y_hat: Any, y: Any) -> float:
    y_hat, y = np.asarray(y_hat, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.mean(-y * np.log(y_hat) - (1 - y) * np.log(1 - y_hat)))


# ---- log_loss ------------------------------------------------------------------------

probabilities = st.floats(1e-6, 1 - 1e-6)
labels = st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0, 1))


@given(y_hat=probabilities, y=labels)
def test_log_loss_of_one_sample_and_its_gradient(y_hat: float, y: float) -> None:
    """L = −y·ln ŷ − (1−y)·ln(1−ŷ); ∂L/∂ŷ = (ŷ − y)/(ŷ(1 − ŷ))."""
    p = Value(y_hat)
    loss = nn.log_loss(p, y)
    assert loss.shape == () and type(loss.data) is float
    assert loss.item() == pytest.approx(by_hand(y_hat, y), rel=1e-12, abs=1e-15)
    loss.backward()
    assert p.grad == pytest.approx((y_hat - y) / (y_hat * (1 - y_hat)), rel=1e-12, abs=1e-12)


@given(
    data=st.data(),
    rows=st.integers(1, 10),
)
def test_log_loss_of_a_batch_is_the_mean_and_gradcheck_agrees(data: Any, rows: int) -> None:
    y_hat = data.draw(hnp.arrays(np.float64, (rows,), elements=st.floats(1e-3, 1 - 1e-3)))
    y = data.draw(hnp.arrays(np.float64, (rows,), elements=labels))
    p = Value(y_hat)
    loss = nn.log_loss(p, y)
    assert loss.item() == pytest.approx(by_hand(y_hat, y), rel=1e-12)
    loss.backward()
    np.testing.assert_allclose(p.grad, (y_hat - y) / (y_hat * (1 - y_hat)) / rows, rtol=1e-12)
    report = gradcheck(lambda q: nn.log_loss(q, y), y_hat, strict=False)
    assert report, str(report)


def test_log_loss_is_one_node_in_the_graph() -> None:
    p = Value(np.array([0.2, 0.9]))
    loss = nn.log_loss(p, [0.0, 1.0])
    assert loss.op is LogLoss and loss.inputs[0] is p


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_clip_depends_on_the_dtype(dtype: Any) -> None:
    lo, hi = clip_bounds(dtype)
    info = np.finfo(dtype)
    assert lo == info.tiny and hi == dtype(1) - info.epsneg
    assert hi < 1 and dtype(hi) == hi  # representable: only ŷ = 1 itself is moved down
    assert np.log(np.array(lo, dtype=dtype)) > -np.inf


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("y_hat", "y"), [(0.0, 1.0), (1.0, 0.0), (0.0, 0.0), (1.0, 1.0)])
def test_a_prediction_of_exactly_0_or_1_gives_a_finite_loss_and_gradient(
    dtype: Any, y_hat: float, y: float
) -> None:
    p = Value(np.array([y_hat, 0.5], dtype=dtype))
    loss = nn.log_loss(p, [y, 1.0])
    loss.backward()
    assert math.isfinite(loss.item()) and np.all(np.isfinite(p.grad))
    assert p.grad.dtype == dtype
    if y_hat == y:  # right and sure: the exact derivative, ±1/n
        assert p.grad[0] == pytest.approx((1 - 2 * y_hat) / 2, rel=1e-6)
    else:  # sure and wrong: still pushed from ŷ towards y, not stuck at a zero gradient
        assert np.sign(p.grad[0]) == np.sign(y_hat - y) and abs(p.grad[0]) > 1e6


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_large_batch_is_clipped_like_a_small_one(dtype: Any) -> None:
    """Large batches clip in one pass and small ones in two: the same numbers either way."""
    lo, hi = clip_bounds(dtype)
    pattern = np.array([0.0, 1.0, 5e-324 if dtype == np.float64 else 1e-45, 0.25], dtype=dtype)
    labels = np.array([1.0, 0.0, 1.0, 0.0], dtype=dtype)
    small, large = Value(pattern), Value(np.tile(pattern, 1000))
    loss_small, loss_large = nn.log_loss(small, labels), nn.log_loss(large, np.tile(labels, 1000))
    loss_small.backward()
    loss_large.backward()
    np.testing.assert_allclose(loss_large.item(), loss_small.item(), rtol=1e-5)
    np.testing.assert_allclose(large.grad[:4] * 1000, small.grad, rtol=1e-5)
    c = np.array([lo, hi, lo, 0.25], dtype=np.float64)
    expected = (c - labels) / (c * (1 - c)) / 4
    np.testing.assert_allclose(small.grad, expected, rtol=1e-5)


@pytest.mark.parametrize("labels", ["binary", "soft", "one soft label", "outside [0, 1]"])
def test_a_large_batch_gives_the_formula_whatever_the_labels(labels: str) -> None:
    """Large batches with labels all 0 or 1 take one logarithm a sample; others take two."""
    rng = np.random.default_rng(7)
    y_hat = rng.uniform(1e-9, 1 - 1e-9, 3000)
    y = rng.integers(0, 2, 3000).astype(np.float64)
    if labels == "soft":
        y = rng.uniform(0, 1, 3000)
    elif labels == "one soft label":
        y[1234] = 0.5
    elif labels == "outside [0, 1]":
        y[17] = 2.0  # only the engine's primitive sees such labels: nn.log_loss refuses them
    loss = LogLoss.apply(Value(y_hat), y)
    expected = -np.mean(y * np.log(y_hat) + (1 - y) * np.log1p(-y_hat))
    assert loss.item() == pytest.approx(expected, rel=1e-12)


def on_the_clip(y_hat: Any) -> bool:
    lo, hi = clip_bounds(np.asarray(y_hat).dtype)
    return bool(np.any((np.asarray(y_hat) <= lo) | (np.asarray(y_hat) >= hi)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("z0", [40.0, 36.0, 17.0, 16.0, 800.0, -800.0, 1e300, -1e300, 0.0, 3.5])
@pytest.mark.parametrize("y", [0.0, 1.0, 0.25])
def test_after_the_engines_sigmoid_dl_dz_is_y_hat_minus_y_for_any_logit(
    dtype: Any, z0: float, y: float
) -> None:
    """log_loss(σ(z), y): ∂L/∂z = ŷ − y even where σ(z) rounds to 0 or 1, and the exact value.

    Inside the clip the node stays on ŷ (to a few ulps); on it the node is on z (to the bit).
    """
    if dtype is np.float32:
        z0 = float(np.float32(math.copysign(min(abs(z0), 1e30), z0)))  # ±1e300 overflows float32
    for z in (Value(dtype(z0)), Value(np.array([z0, z0], dtype=dtype))):
        y_hat = sigmoid(z)
        loss = nn.log_loss(y_hat, y if z.shape == () else [y, y])
        loss.backward()
        n = max(1, z.size)
        want = (y_hat.data - dtype(y)) / dtype(n)
        if on_the_clip(y_hat.data):
            assert loss.op is LogLossOfLogit and loss.inputs[0] is z
            np.testing.assert_array_equal(z.grad, want)
        else:
            assert loss.op is LogLoss and loss.inputs[0] is y_hat
            eps = float(np.finfo(dtype).eps)
            np.testing.assert_allclose(z.grad, want, rtol=8 * eps, atol=8 * eps / n)
        assert loss.dtype == dtype and np.asarray(z.grad).dtype == dtype
        exact = max(z0, 0) - z0 * y + math.log1p(math.exp(-abs(z0)))  # in float64
        assert loss.item() == pytest.approx(exact, rel=1e-6 if dtype == np.float32 else 1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_route_turns_where_sigmoid_reaches_the_clip(dtype: Any) -> None:
    """The node is on ŷ up to the last z whose σ(z) is below 1 − epsneg, on z from the next."""
    zs = np.arange(10.0, 45.0, 0.125).astype(dtype)
    routes = [nn.log_loss(sigmoid(Value(z)), 0.0).op for z in zs]
    turn = routes.index(LogLossOfLogit)
    assert set(routes[:turn]) == {LogLoss} and set(routes[turn:]) == {LogLossOfLogit}
    assert on_the_clip(sigmoid(Value(zs[turn])).data)
    assert not on_the_clip(sigmoid(Value(zs[turn - 1])).data)
    assert zs[turn] == pytest.approx(36.75 if dtype is np.float64 else 16.75, abs=0.5)


def test_one_saturated_sample_takes_the_whole_batch_onto_z() -> None:
    z = Value(np.array([0.5, -2.0, 40.0]))
    y_hat = sigmoid(z)
    loss = nn.log_loss(y_hat, [1.0, 0.0, 0.0])
    assert loss.op is LogLossOfLogit and loss.inputs[0] is z


@pytest.mark.parametrize("scale", [3.0, 30.0])  # all inside the clip; some on it
def test_the_loss_of_a_sigmoid_is_the_logits_form(scale: float) -> None:
    z = np.random.default_rng(0).normal(0, scale, 50)
    y = (np.arange(50) % 3 == 0).astype(np.float64)
    a, b = Value(z), Value(z)
    la, lb = nn.log_loss(sigmoid(a), y), nn.log_loss_with_logits(b, y)
    la.backward()
    lb.backward()
    assert la.item() == lb.item()  # both take the value from z
    if on_the_clip(sigmoid(z)):
        np.testing.assert_array_equal(a.grad, b.grad)
    else:
        assert la.op is LogLoss
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-14, atol=1e-17)


def test_the_logit_is_kept_as_it_was_at_the_forward() -> None:
    z = np.array([0.3, -1.2])
    y_hat = sigmoid(Value(z))
    loss = nn.log_loss(y_hat, [1.0, 0.0])
    z[:] = 99.0  # the caller reuses the array: the node holds its own copy
    assert loss.inputs[2] is not z and np.all(loss.inputs[2] == [0.3, -1.2])


@pytest.mark.parametrize("z0", [0.7, 40.0])  # the node on ŷ; the node on z
def test_the_loss_of_a_sigmoid_differentiates_twice(z0: float) -> None:
    """With create_graph the loss of σ(z) differentiates twice: ∂²L/∂z² = σ(z)(1 − σ(z))."""
    z = Value(z0)
    loss = nn.log_loss(sigmoid(z), 1.0)
    assert loss.op is (LogLoss if z0 < 36 else LogLossOfLogit)
    (g,) = gradients(loss, [z], create_graph=True)
    (h,) = gradients(g, [z])
    s = 1 / (1 + math.exp(-z0))
    assert g.item() == pytest.approx(s - 1.0, rel=1e-14)
    assert h == pytest.approx(s * (1 - s), rel=1e-12)


@pytest.mark.parametrize("b", [0.1, 37.0])  # the node on ŷ; the node on z
def test_the_hessian_of_a_perceptrons_log_loss_is_the_closed_form(b: float) -> None:
    """∇²_w log_loss(σ(w·x + b), y) = σ(1 − σ)·x·xᵀ, for y = 0 and y = 1 alike."""
    x = np.array([0.8, -1.3, 0.4])
    w0 = np.array([0.5, 0.2, -0.7])
    s = 1 / (1 + math.exp(-(w0 @ x + b)))
    route = nn.log_loss(sigmoid(Value(w0) @ x + b), 1.0).op
    assert route is (LogLoss if b < 1 else LogLossOfLogit)
    for y in (0.0, 1.0):
        h = hessian(lambda w, y=y: nn.log_loss(sigmoid(w @ x + b), y))(w0)
        np.testing.assert_allclose(h, s * (1 - s) * np.outer(x, x), rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("y_hat", [3.0, -0.5, [0.5, 1.0000001], [372.6, 0.5]])
def test_predictions_outside_0_1_are_refused_with_a_pointer_to_the_logits_form(
    y_hat: Any,
) -> None:
    y = 1.0 if isinstance(y_hat, float) else [1.0, 0.0]
    with pytest.raises(ValueError, match=r"\[0, 1\].*log_loss_with_logits"):
        nn.log_loss(Value(y_hat), y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_python_float_label_keeps_the_predictions_dtype(dtype: Any) -> None:
    for y_hat in (Value(dtype(0.3)), Value(np.array([0.3], dtype=dtype))):
        for loss in LOSSES:
            y = 1.0 if y_hat.shape == () else [1.0]
            out = loss(y_hat, y)
            out.backward()
            assert out.dtype == dtype, loss.__name__
            assert np.asarray(y_hat.grad).dtype == dtype, loss.__name__


@given(y_hat=probabilities, y=labels)
def test_the_second_derivative_is_the_log_losss(y_hat: float, y: float) -> None:
    """∂²L/∂ŷ² = y/ŷ² + (1−y)/(1−ŷ)²: the vjp is itself differentiable."""
    p = Value(y_hat)
    (g,) = gradients(nn.log_loss(p, y), [p], create_graph=True)
    (h,) = gradients(g, [p])
    assert h == pytest.approx(y / y_hat**2 + (1 - y) / (1 - y_hat) ** 2, rel=1e-9)


def test_the_labels_can_be_differentiated_too() -> None:
    """∂L/∂y = (ln(1 − ŷ) − ln ŷ)/n."""
    y_hat, y = np.array([0.2, 0.7]), Value(np.array([0.5, 1.0]))
    nn.log_loss(Value(y_hat), y).backward()
    np.testing.assert_allclose(y.grad, (np.log(1 - y_hat) - np.log(y_hat)) / 2, rtol=1e-14)


# ---- log_loss_with_logits -----------------------------------------------------------------


@given(z=st.floats(-12, 12), y=labels)  # beyond, ln(1 − σ(z)) loses digits, not the loss
def test_logits_form_equals_log_loss_of_a_probability(z: float, y: float) -> None:
    assert nn.log_loss_with_logits(z, y).item() == pytest.approx(
        nn.log_loss(sigmoid(z), y).item(), rel=1e-9, abs=1e-12
    )


@pytest.mark.parametrize("z", [1e4, -1e4, 710.0, -710.0, 0.0])
@pytest.mark.parametrize("y", [0.0, 1.0, 0.3])
def test_logits_form_is_finite_with_the_exact_gradient_far_out(z: float, y: float) -> None:
    """L = max(z,0) − z·y + ln(1 + e^−|z|), ∂L/∂z = σ(z) − y, for a sample and for a batch."""
    for value in (Value(z), Value(np.array([z, z]))):
        loss = nn.log_loss_with_logits(value, y if value.shape == () else [y, y])
        loss.backward()
        assert loss.item() == pytest.approx(max(z, 0) - z * y + math.log1p(math.exp(-abs(z))))
        n = max(1, value.size)
        expected = (sigmoid(z) - y) / n
        np.testing.assert_allclose(value.grad, expected, rtol=1e-12, atol=1e-300)


@given(z=hnp.arrays(np.float64, (4,), elements=st.floats(-20, 20)))
def test_logits_form_passes_gradcheck(z: np.ndarray) -> None:
    y = np.array([0.0, 1.0, 1.0, 0.5])
    assert gradcheck(lambda v: nn.log_loss_with_logits(v, y), z, strict=False)


# ---- mse and hinge -----------------------------------------------------------------------


def test_mse_is_the_mean_square() -> None:
    """L = mean((ŷ − y)²); ∂L/∂ŷ = 2(ŷ − y)/n."""
    p = Value(np.array([1.0, 2.0, 4.0]))
    loss = nn.mse(p, [1.0, 0.0, 0.5])
    assert loss.item() == pytest.approx((0 + 4 + 12.25) / 3)
    loss.backward()
    np.testing.assert_allclose(p.grad, 2 * np.array([0.0, 2.0, 3.5]) / 3)
    assert nn.mse(3.0, 1.0).item() == 4.0


def test_hinge_maps_labels_to_plus_minus_one() -> None:
    """L = mean(max(0, 1 − t·ŷ)), t = 2y − 1; ∂L/∂ŷ = −t/n where the margin is short."""
    p = Value(np.array([2.0, 0.5, 0.5, -3.0]))
    loss = nn.hinge(p, [1.0, 1.0, 0.0, 0.0])
    assert loss.item() == pytest.approx((0 + 0.5 + 1.5 + 0) / 4)
    loss.backward()
    np.testing.assert_allclose(p.grad, [0.0, -0.25, 0.25, 0.0])
    with pytest.raises(ValueError, match="0 or 1"):
        nn.hinge(p, [1.0, 0.5, 0.0, 0.0])


# ---- shared checks --------------------------------------------------------------------


@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("y", "message"),
    [
        ([0.0, float("nan")], "NaN"),
        ([0.0, 1.0, 1.0], r"shape \(3,\) but the predictions have shape \(2,\)"),
        ([[0.0], [1.0]], r"shape \(2, 1\)"),
        (["a", "b"], "labels"),
    ],
)
def test_bad_labels_raise_for_every_loss(loss: Any, y: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        loss(Value(np.array([0.3, 0.6])), y)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("y", [[0.0, 1.5], [-0.5, 1.0], [0.0, float("inf")]])
def test_labels_outside_0_1_raise_for_every_loss(loss: Any, y: Any) -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        loss(Value(np.array([0.3, 0.6])), y)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
def test_every_loss_takes_raw_predictions_and_returns_a_scalar_value(loss: Any) -> None:
    out = loss(np.array([0.3, 0.6]), np.array([0.0, 1.0]))
    assert isinstance(out, Value) and out.shape == ()
    assert isinstance(loss(0.3, 1), Value)


# ---------------------------------------------------------------------------
# cross_entropy, for k classes.
# ---------------------------------------------------------------------------


def torch_cross_entropy(z: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    torch = pytest.importorskip("torch")
    t = torch.tensor(z, requires_grad=True)
    labels = torch.tensor(target) if target.ndim == 2 else torch.tensor(target, dtype=torch.long)
    loss = torch.nn.functional.cross_entropy(t, labels)
    loss.backward()
    return loss.item(), t.grad.numpy()


@pytest.mark.parametrize("kind", ["indices", "one-hot", "soft rows"])
def test_cross_entropy_matches_torch_for_indices_and_probability_rows(kind: str) -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(6, 4)) * 3
    y = np.array([0, 3, 1, 1, 2, 0])
    target = {
        "indices": y,
        "one-hot": np.eye(4)[y],
        "soft rows": rng.dirichlet(np.ones(4), size=6),
    }[kind]
    v = Value(z)
    loss = nn.cross_entropy(v, target.astype(np.float64))
    loss.backward()
    want, want_grad = torch_cross_entropy(z, target)
    assert loss.item() == pytest.approx(want, rel=1e-12)
    np.testing.assert_allclose(v.grad, want_grad, rtol=1e-10, atol=1e-15)


def test_cross_entropy_is_stable_at_plus_minus_1000_and_takes_one_sample() -> None:
    z = Value(np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -999.0]]))
    loss = nn.cross_entropy(z, [0, 2])
    loss.backward()
    want = (0.0 + np.log1p(2 * np.exp(-1.0))) / 2
    assert loss.item() == pytest.approx(want, rel=1e-12)
    assert np.all(np.isfinite(z.grad))
    one = Value(np.array([2.0, -1.0, 0.5]))
    single = nn.cross_entropy(one, 2)
    assert single.shape == ()
    assert single.item() == pytest.approx(-(0.5 - np.log(np.exp(2) + np.exp(-1) + np.exp(0.5))))


def test_cross_entropy_of_softmax_outputs_uses_their_scores() -> None:
    """An MLP with a softmax output trains with the exact ∂L/∂z = softmax(z) − y."""
    z = np.array([[40.0, -40.0, 0.0], [0.1, 0.2, 0.3]])
    from_scores, from_probs = Value(z), Value(z)
    a = nn.cross_entropy(from_scores, [1, 0])
    b = nn.cross_entropy(autograd.softmax(from_probs), [1, 0])
    a.backward()
    b.backward()
    lse = np.log(np.sum(np.exp(z - z.max(1, keepdims=True)), axis=1)) + z.max(1)
    want = np.mean(lse - z[[0, 1], [1, 0]])  # −ln softmax(z)[label], averaged
    assert a.item() == pytest.approx(want, rel=1e-13)
    assert b.item() == pytest.approx(want, rel=1e-13)
    np.testing.assert_array_equal(from_probs.grad, from_scores.grad)
    # Probabilities over another axis, or shifted by a Value, are not taken for scores.
    other = Value(z)
    columns = autograd.softmax(other, axis=0)
    assert nn.losses._softmax_input(columns) is None
    shift = Value(np.zeros((2, 1)))
    e = (other + shift).exp()
    assert nn.losses._softmax_input(e / e.sum(-1, keepdims=True)) is None


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        ([0, 3], r"class indices 0 to 2 for 3 classes, got 3\.0"),
        ([0, -1], r"got -1\.0"),
        ([0, 1.5], r"got 1\.5"),
        ([0, np.nan], "NaN"),
        ([0, 1, 2], r"shape \(3,\)"),
        ([[0.5, 0.5, 0.5], [1.0, 0.0, 0.0]], "must sum to 1, got 1.5"),
        ([[1.5, -0.5, 0.0], [1.0, 0.0, 0.0]], r"\[0, 1\]"),
    ],
)
def test_cross_entropy_refuses_labels_out_of_range(labels: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        nn.cross_entropy(Value(np.zeros((2, 3))), labels)


def test_cross_entropy_wants_scores_of_at_least_two_classes() -> None:
    with pytest.raises(ValueError, match=r"k ≥ 2 classes, got \(4, 1\)"):
        nn.cross_entropy(Value(np.zeros((4, 1))), [0, 0, 0, 0])


def test_log_loss_takes_a_float32_scalar_prediction():
    y_hat = Value(np.float32(0.3))
    loss = nn.log_loss(y_hat, 1.0)
    loss.backward()
    assert loss.item() == pytest.approx(-np.log(0.3), rel=1e-6)
    assert y_hat.grad.dtype == np.float32
    assert float(y_hat.grad) == pytest.approx(-1 / 0.3, rel=1e-6)


def test_a_numerical_check_of_the_node_on_y_hat_agrees_with_its_gradient() -> None:
    """The node's value comes from z, yet moving ŷ alone moves it as ∂L/∂ŷ says."""
    from autograd import find_wrong_gradients

    z = Value(np.array([0.4, -2.5, 6.0]))
    y_hat = sigmoid(z)
    loss = nn.log_loss(y_hat, [1.0, 0.0, 0.0])
    assert loss.op is LogLoss and loss.inputs[0] is y_hat
    loss.backward()
    assert find_wrong_gradients(loss) == []
    _, y, logit, recorded = loss.inputs
    moved = recorded + np.array([1e-6, 0.0, 0.0])
    slope = (LogLoss.forward(moved, y, logit, recorded) - loss.item()) / 1e-6
    assert slope == pytest.approx(y_hat.grad[0], rel=1e-5)


@pytest.mark.parametrize(
    "odd", [None, 0.5, 5e-324, 1.0 - 2.0**-53, -0.0, 1e-300], ids=lambda v: f"label {v!r}"
)
def test_the_compiled_log_loss_of_a_sigmoid_takes_one_log_only_for_labels_0_and_1(odd: Any) -> None:
    """Where every label is 0 or 1, −ln of ŷ or of 1 − ŷ; one other label anywhere: both logs."""
    from nn.losses import _log_loss

    rng = np.random.default_rng(0)
    y_hat = rng.uniform(0.01, 0.99, 2000)
    y = rng.integers(0, 2, 2000).astype(float)
    if odd is not None:
        y[1234] = odd
    got = LogLoss.of_sigmoid(y_hat, y)
    if odd is None or odd == 0.0:  # −0.0 is a 0 label too
        picked = np.where(y == 1.0, y_hat, 1.0 - y_hat)
        assert got == -np.add.reduce(np.log(picked), None) / y.size
    else:
        assert got == _log_loss(y_hat, y)  # the general formula, both logarithms
