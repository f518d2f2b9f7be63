"""nn.layers: activations, Perceptron, Dense, Sequential and MLP; one sample or a batch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nn
from autograd import Value, gradcheck, no_grad, sigmoid, topological_order
from autograd.ops import MatMul
from nn.losses import clip_bounds

LO, HI = clip_bounds(np.float64)


def models() -> list[nn.Module]:
    return [
        nn.Perceptron(2, seed=1),
        nn.TwoLayerNetwork(seed=1),
        nn.MLP(2, [4, 3, 1], seed=1),
        nn.Sequential(nn.Dense(2, 3, "tanh", seed=1), nn.Dense(3, 1, "sigmoid", seed=2)),
    ]


# ---- activations ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [("sigmoid", 1 / (1 + np.exp(-0.5))), ("tanh", np.tanh(0.5)), ("relu", 0.5), ("identity", 0.5)],
)
def test_activations_by_name(name: str, expected: float) -> None:
    p = nn.Perceptron(1, activation=name)
    p.w1.data, p.b.data = 1.0, 0.0
    assert p([0.5]).item() == pytest.approx(expected, rel=1e-15)


def test_an_activation_can_be_any_callable() -> None:
    def square(v: Value) -> Value:
        return v * v

    p = nn.Perceptron(1, activation=square)
    p.w1.data, p.b.data = 2.0, 1.0
    assert p([3.0]).item() == 49.0
    assert "square" in repr(p)


def test_an_unknown_activation_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="'sigmoid', 'tanh', 'relu', 'identity', 'softmax'"):
        nn.Dense(2, 2, activation="swish")
    with pytest.raises(TypeError):
        nn.Perceptron(2, activation=3)  # type: ignore[arg-type]


# ---- every model: one sample or a batch ------------------------------------------------


@pytest.mark.parametrize("model", models(), ids=lambda m: type(m).__name__)
def test_one_sample_gives_a_scalar_and_a_batch_one_entry_per_row(model: nn.Module) -> None:
    X = np.random.default_rng(0).normal(size=(5, 2))
    batch = model(X)
    assert batch.shape == (5,)
    for i in range(5):
        one = model(X[i])
        assert one.shape == () and type(one.data) is float
        assert one.item() == pytest.approx(batch.data[i], rel=1e-12)
        assert model(list(X[i])).item() == one.item()
    assert model(X.tolist()).shape == (5,)


@pytest.mark.parametrize("model", models(), ids=lambda m: type(m).__name__)
@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([1.0, 2.0, 3.0], "expects 2 features, got 3 per sample"),
        (np.zeros((4, 3)), "expects 2 features, got 3 columns"),
        (np.zeros((2, 2, 2)), r"got shape \(2, 2, 2\)"),
        (1.5, "got the number"),
        (["a", "b"], "numbers"),
    ],
)
def test_bad_input_names_what_was_expected_and_what_came(
    model: nn.Module, bad: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        model(bad)


@pytest.mark.parametrize("make", [nn.Perceptron, nn.TwoLayerNetwork, nn.MLP, nn.Dense])
def test_the_same_seed_gives_the_same_model_and_leaves_numpy_alone(make: Any) -> None:
    args: dict[str, Any] = {
        nn.Perceptron: {"n_inputs": 3},
        nn.TwoLayerNetwork: {},
        nn.MLP: {"n_in": 3, "sizes": [4, 1]},
        nn.Dense: {"n_in": 3, "n_out": 2},
    }[make]
    np.random.seed(0)
    state = np.random.get_state()[1].copy()  # type: ignore[index]
    a, b, c = make(**args, seed=7), make(**args, seed=7), make(**args, seed=8)
    assert np.array_equal(np.random.get_state()[1], state)  # type: ignore[index]
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(np.array_equal(sa[k], sb[k]) for k in sa)
    assert any(not np.array_equal(sa[k], sc[k]) for k in sa)


# ---- Perceptron -------------------------------------------------------------------------


def test_a_perceptron_has_the_lessons_names() -> None:
    p = nn.Perceptron(3, seed=0)
    assert [n for n, _ in p.named_parameters()] == ["w1", "w2", "w3", "b"]
    assert all(type(v.data) is float for v in p.parameters())
    y_hat = p([1.0, 2.0, 3.0])
    assert y_hat.name == "y_hat" and y_hat.inputs[0].name == "z"
    assert p.bias is p.b and p.weights == (p.w1, p.w2, p.w3)


def test_a_perceptron_can_share_named_values_and_feed_on_values() -> None:
    u, v, c = Value(1.0, "u"), Value(-2.0, "v"), Value(0.5, "c")
    p = nn.Perceptron(2, weights=(u, v), bias=c, color="red", names=("s", "out"))
    # The attributes are named by position, as on the slide; the Values keep their own names.
    assert [n for n, _ in p.named_parameters()] == ["w1", "w2", "b"]
    assert (p.w1, p.w2, p.b) == (u, v, c) and p.weights == (u, v) and p.bias is c
    assert [q.name for q in p.parameters()] == ["u", "v", "c"]
    a, b = Value(3.0), Value(np.array([1.0, 2.0]))
    assert p([a, 1.0]).item() == pytest.approx(1.0 / (1.0 + np.exp(-1.5)))
    assert p([b, b]).shape == (2,)
    # Any name will do, even one of a method's, and one Value may be two weights (tied).
    odd = nn.Perceptron(1, weights=(Value(1.0, "forward"),), bias=c)
    assert odd.w1.name == "forward" and callable(odd.forward)
    tied = nn.Perceptron(2, weights=(u, u), bias=c)
    assert tied.parameters() == [u, c]
    tied([2.0, 3.0]).backward()
    assert u.grad == pytest.approx(_sigmoid_slope(1.0 * 2.0 + 1.0 * 3.0 + 0.5) * (2.0 + 3.0))
    with pytest.raises(ValueError, match="expected 2 weights"):
        nn.Perceptron(2, weights=(u,), bias=c)
    with pytest.raises(TypeError, match="scalar Values"):
        nn.Perceptron(1, weights=(Value([1.0, 2.0], "w"),), bias=c)


def _sigmoid_slope(z: float) -> float:
    s = 1.0 / (1.0 + np.exp(-z))
    return float(s * (1.0 - s))


floats = st.floats(-10, 10)
weights = st.floats(-60, 60)
labels = st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0, 1))


@given(
    w=st.lists(weights, min_size=1, max_size=4),
    b=weights,
    data=st.data(),
)
@example(w=[50.0, -50.0], b=-3.0, data=None)  # saturated: z far from 0
def test_perceptron_gradients_are_the_lessons_closed_forms(
    w: list[float], b: float, data: Any
) -> None:
    """∂L/∂wi = mean((ŷ − y)·xi), ∂L/∂b = mean(ŷ − y), and gradcheck agrees."""
    n = len(w)
    if data is None:
        X, y = np.array([[1.0, 1.0], [3.0, -2.0]]), np.array([1.0, 0.0])
    else:
        rows = data.draw(st.integers(1, 6), label="rows")
        X = data.draw(hnp.arrays(np.float64, (rows, n), elements=floats), label="X")
        y = data.draw(hnp.arrays(np.float64, (rows,), elements=labels), label="y")
    p = nn.Perceptron(n, seed=0)
    for v, value in zip(p.weights, w, strict=True):
        v.data = value
    p.b.data = b
    y_hat = p(X)
    assume(np.all((y_hat.data >= LO) & (y_hat.data <= HI)))  # inside the clip
    nn.log_loss(y_hat, y).backward()

    d = y_hat.data - y
    closed = [float(np.mean(d * X[:, i])) for i in range(n)] + [float(np.mean(d))]
    got = [v.grad for v in p.parameters()]
    np.testing.assert_allclose(got, closed, rtol=1e-7, atol=1e-12)

    # Near ŷ = 1, 1 − ŷ keeps few digits: unless y = 1 the loss is too noisy to difference.
    if np.all((y_hat.data < 1 - 1e-4) | (y == 1.0)):

        def loss(*ps: Value) -> Value:
            with p.using(ps):
                return nn.log_loss(p(X), y)

        report = gradcheck(loss, *p.parameters(), strict=False)
        assert report, str(report)
        for check, c in zip(report.inputs, closed, strict=True):
            assert abs(check.numerical - c) <= check.tolerance


# ---- Dense, Sequential, MLP -------------------------------------------------------------


def test_dense_is_one_matrix_product_for_a_whole_batch() -> None:
    layer = nn.Dense(3, 4, "tanh", seed=0)
    assert layer.W.shape == (3, 4) and layer.b.shape == (4,)
    assert [n for n, _ in layer.named_parameters()] == ["W", "b"]
    X = np.random.default_rng(0).normal(size=(50, 3))
    out = layer(X)
    assert out.shape == (50, 4)
    assert np.allclose(out.data, np.tanh(X @ layer.W.data + layer.b.data))
    assert sum(node.op is MatMul for node in topological_order(out)) == 1
    assert layer(X[0]).shape == (4,)


def test_sequential_chains_and_drops_a_single_output_axis() -> None:
    a, b = nn.Dense(2, 3, "relu", seed=0), nn.Dense(3, 1, seed=1)
    model = nn.Sequential(a, b)
    assert len(model) == 2 and model[0] is a and model[1] is b
    X = np.random.default_rng(1).normal(size=(4, 2))
    expected = np.maximum(X @ a.W.data + a.b.data, 0) @ b.W.data + b.b.data
    assert np.allclose(model(X).data, expected[:, 0])
    assert [n for n, _ in model.named_parameters()] == [
        "layers.0.W",
        "layers.0.b",
        "layers.1.W",
        "layers.1.b",
    ]
    wide = nn.Sequential(nn.Dense(2, 3))
    assert wide(X).shape == (4, 3)
    with pytest.raises(ValueError):
        nn.Sequential()
    with pytest.raises(TypeError):
        nn.Sequential(3)  # type: ignore[arg-type]


def test_mlp_follows_micrographs_calling_convention() -> None:
    model = nn.MLP(2, [16, 16, 1], seed=0)
    dims = [(layer.n_in, layer.n_out, layer.activation_name) for layer in model.layers]
    assert dims == [(2, 16, "relu"), (16, 16, "relu"), (16, 1, "sigmoid")]
    logits = nn.MLP(2, [8, 1], activation="tanh", output_activation="identity", seed=0)
    assert [layer.activation_name for layer in logits.layers] == ["tanh", "identity"]
    assert "(layers.0): Dense(2 → 16, relu)" in repr(model)
    with pytest.raises(ValueError):
        nn.MLP(2, [])


@given(
    n_in=st.integers(1, 3),
    sizes=st.lists(st.integers(1, 4), min_size=0, max_size=3),
    activation=st.sampled_from(["sigmoid", "tanh", "relu"]),
    rows=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_an_mlp_of_any_depth_and_width_passes_gradcheck(
    n_in: int, sizes: list[int], activation: str, rows: int, seed: int
) -> None:
    model = nn.MLP(n_in, [*sizes, 1], activation=activation, seed=seed)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, n_in))
    y = rng.integers(0, 2, size=rows).astype(float)

    def loss(*ps: Value) -> Value:
        with model.using(ps):
            return nn.log_loss(model(X), y)

    report = gradcheck(loss, *model.parameters(), strict=False)
    assert report, str(report)


def test_forward_without_a_graph_matches_sigmoid_by_hand() -> None:
    p = nn.Perceptron(2, seed=3)
    x = np.array([0.3, -1.2])
    with no_grad():
        out = p(x)
    assert out.is_leaf
    assert out.item() == sigmoid(p.w1.data * 0.3 + p.w2.data * -1.2 + p.b.data)


def test_sizes_may_be_numpy_ints_but_not_bools_and_mlp_wants_a_list() -> None:
    assert nn.Perceptron(np.int64(2)).n_inputs == 2
    assert nn.MLP(np.int64(2), [np.int64(3), 1]).sizes == (3, 1)
    with pytest.raises(TypeError, match="n_inputs must be an int, got bool True"):
        nn.Perceptron(True)
    with pytest.raises(ValueError, match=r"list of layer sizes such as \[16, 16, 1\], got 3"):
        nn.MLP(2, 3)
    with pytest.raises(ValueError, match="each layer size must be >= 1, got 0"):
        nn.MLP(2, [4, 0])
