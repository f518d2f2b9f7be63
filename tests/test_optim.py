"""nn.optim: SGD and Adam follow PyTorch's rules, update in place and never grow the graph."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nn
from autograd import Value, topological_order


def _params() -> list[Value]:
    return [Value(0.5), Value(np.array([[1.0, -2.0], [0.25, 3.0]]))]


def _gradients(rng: np.random.Generator, steps: int) -> list[list[Any]]:
    return [[float(rng.normal()), rng.normal(size=(2, 2))] for _ in range(steps)]


def _run(opt: nn.Optimizer, params: list[Value], grads: list[list[Any]]) -> list[list[Any]]:
    """Step with the given gradients; the parameters' data after each step."""
    history = []
    for gs in grads:
        for p, g in zip(params, gs, strict=True):
            p.grad = g
        opt.step()
        history.append([np.array(p.data) for p in params])
    return history


# ---- the rules by hand ------------------------------------------------------------------


def test_sgd_without_momentum_is_p_minus_lr_g() -> None:
    p = Value(1.0)
    p.grad = 0.5
    nn.SGD([p], lr=0.1).step()
    assert p.data == 1.0 - 0.1 * 0.5 and type(p.data) is float


def test_sgd_with_momentum_keeps_a_buffer_starting_at_the_first_gradient() -> None:
    """buf₁ = g₁, buf_t = μ·buf_{t−1} + g_t, p ← p − lr·buf_t."""
    params = _params()
    grads = _gradients(np.random.default_rng(0), 4)
    start = [np.array(p.data) for p in params]
    got = _run(nn.SGD(params, lr=0.1, momentum=0.9), params, grads)
    for i in range(2):
        p, buf = start[i], None
        for t, gs in enumerate(grads):
            buf = gs[i] if buf is None else 0.9 * buf + gs[i]
            p = p - 0.1 * buf
            np.testing.assert_allclose(got[t][i], p, rtol=1e-15, atol=0)


def test_adam_is_the_bias_corrected_rule() -> None:
    """m, v moving averages of g and g²; p ← p − lr·m̂/(√v̂ + ε), m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ)."""
    params = _params()
    grads = _gradients(np.random.default_rng(1), 5)
    start = [np.array(p.data) for p in params]
    got = _run(nn.Adam(params, lr=0.01, betas=(0.8, 0.99), eps=1e-6), params, grads)
    for i in range(2):
        p, m, v = start[i], 0.0, 0.0
        for t, gs in enumerate(grads, start=1):
            g = gs[i]
            m = 0.8 * m + 0.2 * g
            v = 0.99 * v + 0.01 * g * g
            m_hat, v_hat = m / (1 - 0.8**t), v / (1 - 0.99**t)
            p = p - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-6)
            np.testing.assert_allclose(got[t - 1][i], p, rtol=1e-13)


def test_a_parameter_without_a_gradient_is_left_alone() -> None:
    a, b = Value(1.0), Value(2.0)
    a.grad = 1.0
    opt = nn.Adam([a, b], lr=0.1)
    opt.step()
    assert b.data == 2.0 and 1 not in opt.state
    assert a.data == pytest.approx(0.9)


def test_arrays_are_updated_in_place_and_floats_stay_floats() -> None:
    params = _params()
    array = params[1].data
    for opt in (nn.SGD(params, lr=0.1, momentum=0.5), nn.Adam(params)):
        _run(opt, params, _gradients(np.random.default_rng(2), 2))
        assert params[1].data is array and type(params[0].data) is float


def test_zero_grad_forgets_the_gradients() -> None:
    params = _params()
    params[0].grad = 1.0
    nn.SGD(params, lr=1.0).zero_grad()
    assert not params[0].grad_computed


# ---- against torch.optim ----------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda ps, opt: opt.SGD(ps, lr=0.05),
        lambda ps, opt: opt.SGD(ps, lr=0.05, momentum=0.9),
        lambda ps, opt: opt.Adam(ps),
        lambda ps, opt: opt.Adam(ps, lr=0.1, betas=(0.5, 0.9), eps=1e-4),
    ],
    ids=["sgd", "sgd-momentum", "adam", "adam-custom"],
)
def test_the_updates_match_torch_optim_in_float64(make: Any) -> None:
    torch = pytest.importorskip("torch")
    params = _params()
    tparams = [
        torch.tensor(np.array(p.data), dtype=torch.float64, requires_grad=True) for p in params
    ]
    ours, theirs = make(params, nn), make(tparams, torch.optim)
    for gs in _gradients(np.random.default_rng(3), 12):
        for p, tp, g in zip(params, tparams, gs, strict=True):
            p.grad = g
            tp.grad = torch.tensor(np.array(g), dtype=torch.float64)
        ours.step()
        theirs.step()
        for p, tp in zip(params, tparams, strict=True):
            np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-12, atol=1e-15)


@given(
    lr=st.floats(1e-4, 1.0),
    momentum=st.floats(0.0, 0.99),
    g=hnp.arrays(np.float64, (6, 3), elements=st.floats(-100, 100)),
)
def test_sgd_matches_torch_for_any_settings(lr: float, momentum: float, g: np.ndarray) -> None:
    torch = pytest.importorskip("torch")
    p = Value(np.zeros(3))
    tp = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    ours = nn.SGD([p], lr=lr, momentum=momentum)
    theirs = torch.optim.SGD([tp], lr=lr, momentum=momentum)
    for row in g:
        p.grad = row
        tp.grad = torch.tensor(row)
        ours.step()
        theirs.step()
    np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-12, atol=1e-12)


# ---- the graph does not grow -------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9), nn.Adam])
def test_training_steps_never_grow_the_graph(make: Any) -> None:
    net = nn.TwoLayerNetwork(seed=0)
    X = np.random.default_rng(0).normal(size=(16, 2))
    y = (X[:, 0] > X[:, 1]).astype(float)
    opt = make(net.parameters())
    sizes = []
    for _ in range(50):
        opt.zero_grad()
        loss = nn.log_loss(net(X), y)
        sizes.append(len(topological_order(loss)))
        loss.backward()
        opt.step()
    assert len(set(sizes)) == 1, sizes  # the same number of nodes at step 1 and step 50
    assert all(p.is_leaf and type(p.data) is float for p in net.parameters())


# ---- checks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lr", [np.float32(0.25), np.float64(0.25), np.int64(1), 1, Fraction(1, 4)])
@pytest.mark.parametrize("make", [nn.SGD, nn.Adam], ids=["SGD", "Adam"])
def test_any_real_learning_rate_is_taken(make: Any, lr: Any) -> None:
    p = Value(1.0)
    opt = make([p], lr=lr)
    assert opt.lr == float(lr) and type(opt.lr) is float
    p.grad = 1.0
    opt.step()
    assert p.data < 1.0


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda ps: nn.SGD(ps, lr=0.0), ValueError, r"lr must be > 0, got 0\.0"),
        (lambda ps: nn.SGD(ps, lr=-1.0), ValueError, "lr"),
        (lambda ps: nn.SGD(ps, lr=math.nan), ValueError, "lr"),
        (lambda ps: nn.Adam(ps, lr=math.inf), ValueError, "lr"),
        (lambda ps: nn.SGD(ps, lr="0.1"), TypeError, "lr must be a real number"),
        (lambda ps: nn.SGD(ps, lr=0.1, momentum=-0.1), ValueError, "momentum"),
        (lambda ps: nn.SGD(ps, lr=0.1, momentum=1.0), ValueError, "momentum"),
        (lambda ps: nn.Adam(ps, betas=(0.9, 1.0)), ValueError, r"betas\[1\]"),
        (lambda ps: nn.Adam(ps, betas=(0.9,)), ValueError, "pair"),
        (lambda ps: nn.Adam(ps, eps=-1e-8), ValueError, "eps"),
        (lambda ps: nn.SGD([*ps, 3.0], lr=0.1), TypeError, r"params\[2\] is a float"),
        (lambda ps: nn.SGD(ps[0], lr=0.1), TypeError, "iterable of Values"),
        (lambda ps: nn.SGD([], lr=0.1), ValueError, "empty"),
        (lambda ps: nn.SGD([ps[0], ps[0]], lr=0.1), ValueError, "more than once"),
        (lambda ps: nn.SGD([ps[0] * 2.0], lr=0.1), ValueError, "leaf"),
    ],
)
def test_bad_settings_are_refused(make: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        make(_params())
