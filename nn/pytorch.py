"""The bridge to PyTorch: `to_torch(model)` and `from_torch(module)`, with the same weights.

torch is imported when one of them is called, never on `import nn`. The torch side is a
`torch.nn.Sequential` whose names map onto this project's parameters:

    Dense.W, Dense.b          linear.weight = Wᵀ, linear.bias = b
    Perceptron w1 … wn, b     linear.weight[0, i] = w(i+1), linear.bias[0] = b
    TwoLayerNetwork           hidden.weight = [[w11, w21], [w12, w22]], hidden.bias = [b1, b2],
                              output.weight = [[w1, w2]], output.bias = [b]
    MLP / Sequential          layer k's W and b are k.linear.weight (transposed) and k.linear.bias

Each layer's activation is `activation` beside `linear`; a model whose last layer has one
output ends with `squeeze`, which drops that axis as this project's models do. Converted
modules are float64, as this project computes.
"""

from __future__ import annotations

import functools
import itertools
from collections import OrderedDict
from typing import Any

import numpy as np

from nn.layers import MLP, Dense, Perceptron, Sequential
from nn.module import Module
from nn.network import TwoLayerNetwork

# Activation names of this project and the torch.nn class names that compute the same.
TORCH_ACTIVATIONS = {
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "relu": "ReLU",
    "identity": "Identity",
    "softmax": "Softmax",  # over the last axis: Softmax(dim=-1)
}
ACTIVATION_NAMES = {v: k for k, v in TORCH_ACTIVATIONS.items()}
TWO_LAYER_KEYS = ["hidden", "hidden_activation", "output", "output_activation", "squeeze"]


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError(
            "the bridge to PyTorch needs torch: pip install 'valuegrad[torch]'"
        ) from None
    return torch


@functools.cache
def _squeeze_class() -> type:
    torch = _torch()

    class Squeeze(torch.nn.Module):  # type: ignore[name-defined]
        """Drops the last axis, of length 1: one number per sample, as valuegrad's models give."""

        def forward(self, x: Any) -> Any:
            return x.squeeze(-1)

    return Squeeze


def to_torch(model: Module) -> Any:
    """An equivalent torch.nn.Module with the same weights (copied, in float64)."""
    torch = _torch()
    with torch.no_grad():
        module = _to_torch(torch, model)
    return module


def _to_torch(torch: Any, model: Module) -> Any:
    if isinstance(model, TwoLayerNetwork):
        hidden, output = _linear(torch, 2, 2), _linear(torch, 2, 1)
        d = {name: float(p.data) for name, p in model.named_parameters()}
        hidden.weight.copy_(_tensor(torch, [[d["w11"], d["w21"]], [d["w12"], d["w22"]]]))
        hidden.bias.copy_(_tensor(torch, [d["b1"], d["b2"]]))
        output.weight.copy_(_tensor(torch, [[d["w1"], d["w2"]]]))
        output.bias.copy_(_tensor(torch, [d["b"]]))
        parts = [hidden, torch.nn.Sigmoid(), output, torch.nn.Sigmoid(), _squeeze_class()()]
        return torch.nn.Sequential(OrderedDict(zip(TWO_LAYER_KEYS, parts, strict=True)))
    if isinstance(model, Perceptron):
        linear = _linear(torch, model.n_inputs, 1)
        linear.weight.copy_(_tensor(torch, [[float(w.data) for w in model.weights]]))
        linear.bias.copy_(_tensor(torch, [float(model.bias.data)]))
        return _layer(torch, linear, model.activation_name, model, squeeze=True)
    if isinstance(model, Dense):
        linear = _linear(torch, model.n_in, model.n_out)
        linear.weight.copy_(torch.from_numpy(np.asarray(model.W.data, dtype=np.float64).T))
        linear.bias.copy_(torch.from_numpy(np.asarray(model.b.data, dtype=np.float64)))
        return _layer(torch, linear, model.activation_name, model)
    if isinstance(model, Sequential):
        layers = [_to_torch(torch, layer) for layer in model.layers]
        last = model.layers[-1]
        if isinstance(last, Dense) and last.n_out == 1:
            layers.append(_squeeze_class()())
        return torch.nn.Sequential(*layers)
    raise TypeError(
        f"to_torch converts Perceptron, TwoLayerNetwork, Dense, MLP and Sequential of them, "
        f"got {type(model).__name__}"
    )


def _linear(torch: Any, n_in: int, n_out: int) -> Any:
    return torch.nn.Linear(n_in, n_out, dtype=torch.float64)


def _tensor(torch: Any, data: Any) -> Any:
    return torch.tensor(data, dtype=torch.float64)


def _layer(torch: Any, linear: Any, activation: str, owner: Module, squeeze: bool = False) -> Any:
    if activation not in TORCH_ACTIVATIONS:
        known = ", ".join(TORCH_ACTIVATIONS)
        raise ValueError(
            f"to_torch: {type(owner).__name__}'s activation {activation!r} has no torch "
            f"counterpart here; use one of {known}"
        )
    parts: dict[str, Any] = {
        "linear": linear,
        "activation": torch.nn.Softmax(dim=-1)
        if activation == "softmax"
        else getattr(torch.nn, TORCH_ACTIVATIONS[activation])(),
    }
    if squeeze:
        parts["squeeze"] = _squeeze_class()()
    return torch.nn.Sequential(OrderedDict(parts))


def from_torch(module: Any) -> Module:
    """This project's model with the weights of a torch module (in float64).

    Takes what to_torch makes, a torch.nn.Linear, and a torch.nn.Sequential of Linear layers
    each followed by at most one Sigmoid, Tanh, ReLU or Identity (an MLP when the hidden
    layers share one activation). Anything else raises a TypeError naming the module.
    """
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch takes a torch.nn.Module, got {type(module).__name__}")
    with torch.no_grad():
        return _from_torch(torch, module)


def _array(t: Any) -> np.ndarray:
    return np.array(t.detach().cpu().numpy(), dtype=np.float64)


def _from_torch(torch: Any, module: Any) -> Module:
    squeeze = _squeeze_class()
    if isinstance(module, torch.nn.Linear):
        return _dense(module, "identity")
    if not isinstance(module, torch.nn.Sequential):
        raise TypeError(f"from_torch cannot convert {type(module).__name__}")
    children = OrderedDict(module.named_children())
    if list(children) == TWO_LAYER_KEYS and _two_layer_shaped(torch, children):
        return _two_layer(children)
    if list(children) in (["linear", "activation"], ["linear", "activation", "squeeze"]):
        linear, activation = children["linear"], _activation_name(children["activation"])
        if "squeeze" in children and linear.out_features == 1:
            return _perceptron(linear, activation)
        return _dense(linear, activation)
    # A flat torch Sequential: Linear, then at most one activation, for each layer.
    layers: list[tuple[Any, str]] = []
    for child in children.values():
        if isinstance(child, squeeze):
            continue
        if isinstance(child, torch.nn.Linear):
            layers.append((child, "identity"))
        elif isinstance(child, torch.nn.Sequential):
            dense = _from_torch(torch, child)
            if not isinstance(dense, Dense):
                raise TypeError(f"from_torch: a {type(dense).__name__} cannot be a layer here")
            layers.append((child.linear, dense.activation_name))
        elif layers and layers[-1][1] == "identity":
            layers[-1] = (layers[-1][0], _activation_name(child))
        else:
            raise TypeError(f"from_torch: {type(child).__name__} must follow a Linear layer")
    if not layers:
        raise TypeError("from_torch: the Sequential holds no Linear layer")
    for (a, _), (b, _) in itertools.pairwise(layers):
        if a.out_features != b.in_features:
            raise ValueError(
                f"from_torch: a layer of {a.out_features} outputs feeds one of {b.in_features}"
            )
    hidden = {activation for _, activation in layers[:-1]}
    if len(hidden) <= 1:
        sizes = [linear.out_features for linear, _ in layers]
        model: Sequential = MLP(
            layers[0][0].in_features,
            sizes,
            activation=hidden.pop() if hidden else "relu",
            output_activation=layers[-1][1],
        )
    else:
        model = Sequential(*(_dense(linear, activation) for linear, activation in layers))
    model.load_state_dict(
        {
            name: value
            for k, (linear, _) in enumerate(layers)
            for name, value in (
                (f"layers.{k}.W", _array(linear.weight).T),
                (f"layers.{k}.b", _bias(linear)),
            )
        }
    )
    return model


def _activation_name(child: Any) -> str:
    name = type(child).__name__
    if name == "Softmax" and child.dim not in (-1, None):
        raise TypeError(f"from_torch: only a Softmax over the last axis, not dim={child.dim}")
    if name not in ACTIVATION_NAMES:
        known = ", ".join(ACTIVATION_NAMES)
        raise TypeError(f"from_torch: no activation here for torch's {name}; use one of {known}")
    return ACTIVATION_NAMES[name]


def _bias(linear: Any) -> np.ndarray:
    return np.zeros(linear.out_features) if linear.bias is None else _array(linear.bias)


def _dense(linear: Any, activation: str) -> Dense:
    dense = Dense(linear.in_features, linear.out_features, activation)
    dense.load_state_dict({"W": _array(linear.weight).T, "b": _bias(linear)})
    return dense


def _perceptron(linear: Any, activation: str) -> Perceptron:
    p = Perceptron(linear.in_features, activation)
    weights = _array(linear.weight)[0]
    state = {f"w{i + 1}": np.float64(w) for i, w in enumerate(weights)}
    state["b"] = np.float64(_bias(linear)[0])
    p.load_state_dict(state)
    return p


def _two_layer_shaped(torch: Any, children: dict[str, Any]) -> bool:
    hidden, output = children["hidden"], children["output"]
    return (
        isinstance(hidden, torch.nn.Linear)
        and isinstance(output, torch.nn.Linear)
        and (hidden.in_features, hidden.out_features, output.out_features) == (2, 2, 1)
        and isinstance(children["hidden_activation"], torch.nn.Sigmoid)
        and isinstance(children["output_activation"], torch.nn.Sigmoid)
    )


def _two_layer(children: dict[str, Any]) -> TwoLayerNetwork:
    (w11, w21), (w12, w22) = _array(children["hidden"].weight)
    b1, b2 = _bias(children["hidden"])
    ((w1, w2),) = _array(children["output"].weight)
    (b,) = _bias(children["output"])
    net = TwoLayerNetwork(seed=0)
    values = (w11, w21, b1, w12, w22, b2, w1, w2, b)
    names = ("w11", "w21", "b1", "w12", "w22", "b2", "w1", "w2", "b")
    net.load_state_dict({n: np.float64(v) for n, v in zip(names, values, strict=True)})
    return net
