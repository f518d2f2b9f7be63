"""nn.to_torch and nn.from_torch: the same weights, the same outputs and the same gradients."""

from __future__ import annotations

import copy
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import nn
from autograd import Value

torch = pytest.importorskip("torch")

ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity")
RTOL, ATOL = 1e-12, 1e-13


def models() -> list[Any]:
    """Every supported kind, with every activation, as pytest parameters."""
    cases = [pytest.param(nn.TwoLayerNetwork(seed=3), id="TwoLayerNetwork")]
    for a in ACTIVATIONS:
        cases.append(pytest.param(nn.Perceptron(3, a, seed=1), id=f"Perceptron-{a}"))
        cases.append(pytest.param(nn.Dense(3, 4, a, seed=2), id=f"Dense-{a}"))
        for out in ACTIVATIONS:
            mlp = nn.MLP(3, [5, 4, 1], activation=a, output_activation=out, seed=4)
            cases.append(pytest.param(mlp, id=f"MLP-{a}-{out}"))
    cases.append(pytest.param(nn.MLP(3, [6, 2], "tanh", "identity", seed=5), id="MLP-2-outputs"))
    softmax = nn.MLP(3, [6, 4], "tanh", "softmax", seed=8)
    cases.append(pytest.param(softmax, id="MLP-softmax-4-classes"))
    mixed = nn.Sequential(nn.Dense(3, 4, "tanh", seed=6), nn.Dense(4, 1, "relu", seed=7))
    cases.append(pytest.param(mixed, id="Sequential-mixed"))
    return cases


def inputs_for(model: Any, rows: int | None) -> np.ndarray:
    n = 2 if isinstance(model, nn.TwoLayerNetwork) else 3
    shape = (n,) if rows is None else (rows, n)
    return np.random.default_rng(rows or 0).normal(size=shape)


def grads_in_torch_layout(model: Any) -> dict[str, np.ndarray]:
    """The model's gradients, placed where to_torch puts its weights."""
    holder = copy.deepcopy(model)
    holder.load_state_dict({name: p.grad for name, p in model.named_parameters()})
    return {k: v.detach().numpy() for k, v in nn.to_torch(holder).state_dict().items()}


@pytest.mark.parametrize("model", models())
@pytest.mark.parametrize("rows", [None, 1, 7])
def test_to_torch_gives_the_same_outputs_and_gradients(model: Any, rows: int | None) -> None:
    x = inputs_for(model, rows)
    module = nn.to_torch(model)
    model.zero_grad()
    out = model(x)
    seed = np.random.default_rng(9).normal(size=out.shape)
    (out * seed).sum().backward()
    t_out = module(torch.from_numpy(x))
    assert tuple(t_out.shape) == out.shape
    np.testing.assert_allclose(t_out.detach().numpy(), out.data, rtol=RTOL, atol=ATOL)
    (t_out * torch.from_numpy(np.asarray(seed))).sum().backward()
    ours = grads_in_torch_layout(model)
    theirs = {name: p.grad.numpy() for name, p in module.named_parameters()}
    assert ours.keys() == theirs.keys()
    for name in ours:
        np.testing.assert_allclose(theirs[name], ours[name], rtol=RTOL, atol=ATOL, err_msg=name)


@pytest.mark.parametrize("model", models())
def test_from_torch_takes_back_what_to_torch_gives(model: Any) -> None:
    back = nn.from_torch(nn.to_torch(model))
    # A Sequential of Dense layers whose hidden layers share an activation comes back as an MLP.
    kind = nn.Sequential if isinstance(model, nn.Sequential) else type(model)
    assert isinstance(back, kind)
    assert repr(back).split("\n")[1:] == repr(model).split("\n")[1:]
    for (name, a), (other, b) in zip(
        model.state_dict().items(), back.state_dict().items(), strict=True
    ):
        assert name == other
        np.testing.assert_array_equal(a, b)


def test_the_lesson_networks_names_map_onto_torchs() -> None:
    net = nn.TwoLayerNetwork(seed=0)
    m = nn.to_torch(net)
    w = {name: float(p.data) for name, p in net.named_parameters()}
    assert m.hidden.weight.tolist() == [[w["w11"], w["w21"]], [w["w12"], w["w22"]]]
    assert m.hidden.bias.tolist() == [w["b1"], w["b2"]]
    assert m.output.weight.tolist() == [[w["w1"], w["w2"]]]
    assert m.output.bias.tolist() == [w["b"]]
    dense = nn.Dense(3, 2, seed=0)
    np.testing.assert_array_equal(nn.to_torch(dense).linear.weight.detach().numpy(), dense.W.data.T)


def test_a_plain_torch_model_comes_over_as_an_mlp() -> None:
    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Linear(2, 8),
        torch.nn.Tanh(),
        torch.nn.Linear(8, 8),
        torch.nn.Tanh(),
        torch.nn.Linear(8, 3),
    )  # float32, as torch makes it
    model = nn.from_torch(module)
    assert isinstance(model, nn.MLP)
    assert (model.n_in, model.sizes) == (2, (8, 8, 3))
    x = np.random.default_rng(0).normal(size=(5, 2))
    expected = module(torch.from_numpy(x).float()).detach().numpy()
    np.testing.assert_allclose(model(x).data, expected, rtol=1e-5, atol=1e-6)
    assert model.layers[0].W.dtype == np.float64
    single = nn.from_torch(torch.nn.Linear(4, 2, bias=False))
    assert isinstance(single, nn.Dense)
    np.testing.assert_array_equal(single.b.data, [0.0, 0.0])


def test_a_model_whose_hidden_activations_differ_comes_over_as_a_sequential() -> None:
    module = torch.nn.Sequential(
        torch.nn.Linear(2, 3),
        torch.nn.ReLU(),
        torch.nn.Linear(3, 3),
        torch.nn.Tanh(),
        torch.nn.Linear(3, 1),
    )
    model = nn.from_torch(module)
    assert type(model) is nn.Sequential
    assert [layer.activation_name for layer in model.layers] == ["relu", "tanh", "identity"]


def test_what_cannot_be_converted_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="activation 'softsign' has no torch counterpart"):
        nn.to_torch(nn.Dense(2, 2, activation=softsign))
    with pytest.raises(TypeError, match="got Module"):
        nn.to_torch(nn.Module())
    with pytest.raises(TypeError, match="cannot convert Conv1d"):
        nn.from_torch(torch.nn.Conv1d(1, 1, 1))
    with pytest.raises(TypeError, match="ReLU must follow a Linear"):
        nn.from_torch(torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(2, 1)))
    with pytest.raises(TypeError, match="no activation here for torch's GELU"):
        nn.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.GELU()))
    with pytest.raises(ValueError, match="a layer of 3 outputs feeds one of 4"):
        nn.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(4, 1)))
    with pytest.raises(TypeError, match=r"takes a torch\.nn\.Module, got list"):
        nn.from_torch([1, 2])


def softsign(z: Value) -> Value:
    """z / (1 + z²), a stand-in for an activation torch has no module for."""
    return z / (1 + z * z)


def test_importing_nn_does_not_import_torch() -> None:
    code = "import sys, nn, autograd; assert 'torch' not in sys.modules, 'torch was imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
