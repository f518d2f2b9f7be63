"""nn.micrograd: micrograd's Neuron, Layer and MLP, and micrograd's demo run on this engine.

The demo test follows what micrograd's demo notebook does, written here from its
description: seed both generators with 1337, make 100 noisy moons with labels ±1, build
MLP(2, [16, 16, 1]), and take 100 full-batch SGD steps on the mean hinge ("max-margin")
loss plus 1e-4 times the sum of squared parameters, the learning rate falling from 1.0
to 0.1. micrograd reaches 100% accuracy; so must this engine.
"""

from __future__ import annotations

import importlib.util
import pickle
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograd import Value
from nn import datasets
from nn.micrograd import MLP, Layer, Neuron

HAS_MICROGRAD = importlib.util.find_spec("micrograd") is not None


def demo_data() -> tuple[np.ndarray, np.ndarray]:
    """100 moons with noise 0.1; labels −1 and +1 as numpy ints, as the demo's are."""
    X, y = datasets.moons(100, noise=0.1, seed=1337)
    return X, y.astype(np.int64) * 2 - 1


def run_demo(
    value: Callable[[Any], Any], make_mlp: Callable[[int, list[int]], Any], steps: int = 100
) -> tuple[str, int, list[float], list[float]]:
    """The demo's training: (repr of the model, its parameter count, loss and accuracy per step)."""
    np.random.seed(1337)
    random.seed(1337)
    X, y = demo_data()
    model = make_mlp(2, [16, 16, 1])

    def loss() -> tuple[Any, float]:
        inputs = [[value(x) for x in row] for row in X]
        scores = [model(row) for row in inputs]
        margins = [(1 + -yi * score).relu() for yi, score in zip(y, scores, strict=True)]
        data_loss = sum(margins) * (1.0 / len(margins))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        right = [(yi > 0) == (score.data > 0) for yi, score in zip(y, scores, strict=True)]
        return data_loss + reg_loss, sum(right) / len(right)

    losses, accuracies = [], []
    for k in range(steps):
        total, acc = loss()
        model.zero_grad()
        total.backward()
        rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= rate * p.grad
        losses.append(total.data)
        accuracies.append(acc)
    return repr(model), len(model.parameters()), losses, accuracies


def test_micrograds_demo_trains_the_moons_to_100_percent() -> None:
    text, count, losses, accuracies = run_demo(Value, MLP)
    assert count == 337
    assert text.startswith("MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2),")
    assert text.endswith("Layer of [LinearNeuron(16)]]")
    assert accuracies[0] < 0.9 and accuracies[-1] == 1.0
    assert losses[-1] < 0.05 < losses[0]


@pytest.mark.skipif(not HAS_MICROGRAD, reason="micrograd is not installed (the bench extra)")
def test_the_demo_takes_the_very_steps_micrograd_takes() -> None:
    """Same seed, same weights, same sums in the same order: the same run, to rounding."""
    from micrograd.engine import Value as MicroValue
    from micrograd.nn import MLP as MicroMLP

    ours = run_demo(Value, MLP, steps=5)
    theirs = run_demo(MicroValue, MicroMLP, steps=5)
    assert ours[:2] == theirs[:2]
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-12)
    assert ours[3] == theirs[3]


@pytest.mark.skipif(not HAS_MICROGRAD, reason="micrograd is not installed (the bench extra)")
def test_the_same_seed_gives_micrograds_weights() -> None:
    from micrograd.nn import MLP as MicroMLP

    random.seed(5)
    theirs = [p.data for p in MicroMLP(3, [4, 2]).parameters()]
    random.seed(5)
    ours = [p.data for p in MLP(3, [4, 2]).parameters()]
    assert ours == theirs


def test_reprs_are_micrograds() -> None:
    assert repr(Neuron(3)) == "ReLUNeuron(3)"
    assert repr(Neuron(3, nonlin=False)) == "LinearNeuron(3)"
    assert repr(Layer(2, 2)) == "Layer of [ReLUNeuron(2), ReLUNeuron(2)]"
    assert repr(Layer(2, 1, nonlin=False)) == "Layer of [LinearNeuron(2)]"
    assert str(MLP(2, [3, 1])) == (
        "MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2)], "
        "Layer of [LinearNeuron(3)]]"
    )


def test_parameters_are_a_flat_list_of_scalar_values_weights_then_bias() -> None:
    n = Neuron(3)
    assert n.parameters() == [*n.w, n.b]
    model = MLP(2, [3, 1])
    params = model.parameters()
    assert isinstance(params, list) and len(params) == 3 * 3 + 4
    assert all(isinstance(p, Value) and p.shape == () and p.is_leaf for p in params)
    assert all(-1.0 <= p.data <= 1.0 for p in params)
    assert params[:3] == model.layers[0].neurons[0].parameters()
    assert params[-4:] == model.layers[-1].neurons[0].parameters()
    assert model.layers[0].neurons[0].b.data == 0.0


def test_a_neuron_is_relu_of_b_plus_w_dot_x_and_the_last_layer_is_linear() -> None:
    n = Neuron(2)
    n.w[0].data, n.w[1].data, n.b.data = 2.0, -3.0, 0.5
    assert n([1.0, 1.0]).data == 0.0  # relu(−0.5)
    assert n([Value(2.0), 1.0]).data == 1.5
    n.nonlin = False
    assert n([1.0, 1.0]).data == -0.5
    model = MLP(2, [4, 1])
    assert [n.nonlin for n in model.layers[0].neurons] == [True] * 4
    assert model.layers[1].neurons[0].nonlin is False
    out = model([0.3, -0.7])
    assert isinstance(out, Value) and out.shape == ()
    assert isinstance(Layer(2, 3)([1.0, 2.0]), list)


def test_backward_and_zero_grad_as_in_micrograd() -> None:
    random.seed(0)
    model = MLP(2, [3, 1])
    x = [Value(0.5), Value(-1.5)]
    out = model(x)
    out.backward()
    last = model.layers[-1].neurons[0]
    assert last.b.grad == 1.0
    h = model.layers[0]([0.5, -1.5])
    assert [w.grad for w in last.w] == [hi.data for hi in h]
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())


def test_bad_sizes_and_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="nin"):
        Neuron(0)
    with pytest.raises(ValueError, match="nout"):
        Layer(2, 0)
    with pytest.raises(ValueError, match="nouts"):
        MLP(2, [4, 0])
    with pytest.raises(ValueError, match=r"ReLUNeuron\(2\) takes 2 inputs, got 3"):
        Neuron(2)([1.0, 2.0, 3.0])


def test_a_micrograd_mlp_saves_loads_and_pickles(tmp_path: Path) -> None:
    model = MLP(2, [3, 1])
    model.save(tmp_path / "m.npz")
    other = MLP(2, [3, 1]).load(tmp_path / "m.npz")
    assert [p.data for p in other.parameters()] == [p.data for p in model.parameters()]
    copy = pickle.loads(pickle.dumps(model))
    assert copy([0.1, 0.2]).data == model([0.1, 0.2]).data
