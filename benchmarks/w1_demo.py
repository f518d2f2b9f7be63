"""W1: micrograd's demo step, one full-batch forward, backward and SGD update.

An MLP 2→16→16→1 (relu, linear output) on 100 two-moons points, with the
max-margin loss mean(relu(1 − y·score)) plus 1e-4·Σp². The scalar systems run
the same micrograd-style Neuron/Layer/MLP code below, once with micrograd's
`Value` and once with ours, so the difference is the engine alone. The tensor
systems compute the same loss with whole matrices: this project's nn.MLP,
hand-written numpy backprop (the floor) and PyTorch.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import nn
from autograd import Value
from benchmarks.harness import (
    Case,
    Context,
    Gradients,
    Report,
    System,
    optional,
    ratio_check,
    run_case,
)

ALPHA = 1e-4
LR = 0.1


def moons(n: int, seed: int, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles, n points in all, labels −1 and +1 (micrograd's demo data)."""
    rng = np.random.default_rng(seed)
    top = np.arange(n) < n // 2
    t = rng.uniform(0.0, np.pi, n)
    x = np.where(top, np.cos(t), 1.0 - np.cos(t))
    y = np.where(top, np.sin(t), 0.5 - np.sin(t))
    return np.stack([x, y], axis=1) + noise * rng.standard_normal((n, 2)), np.where(top, -1.0, 1.0)


class Neuron:
    """One unit: relu(Σ wᵢxᵢ + b), or the plain sum in the output layer."""

    def __init__(self, value: type, w: np.ndarray, b: float, relu: bool):
        self.w = [value(float(wi)) for wi in w]
        self.b = value(float(b))
        self.relu = relu

    def __call__(self, x: Sequence[Any]) -> Any:
        act = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        return act.relu() if self.relu else act

    def parameters(self) -> list[Any]:
        """The weights, then the bias."""
        return [*self.w, self.b]


class Layer:
    """Neurons that all read the same inputs."""

    def __init__(self, value: type, W: np.ndarray, b: np.ndarray, relu: bool):
        self.neurons = [Neuron(value, W[:, j], b[j], relu) for j in range(W.shape[1])]

    def __call__(self, x: Sequence[Any]) -> list[Any]:
        return [n(x) for n in self.neurons]

    def parameters(self) -> list[Any]:
        """Every neuron's parameters, neuron by neuron."""
        return [p for n in self.neurons for p in n.parameters()]


class ScalarMLP:
    """Layers of scalar neurons, built from weight matrices so every system starts alike."""

    def __init__(self, value: type, weights: Sequence[tuple[np.ndarray, np.ndarray]]):
        last = len(weights) - 1
        self.layers = [Layer(value, W, b, relu=i < last) for i, (W, b) in enumerate(weights)]

    def __call__(self, x: Sequence[Any]) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x[0]

    def parameters(self) -> list[Any]:
        """Every layer's parameters, layer by layer."""
        return [p for layer in self.layers for p in layer.parameters()]

    def gradients(self) -> Gradients:
        """The gradients as arrays named like the weights: W1, b1, W2, ..."""
        out: Gradients = {}
        for i, layer in enumerate(self.layers, 1):
            out[f"W{i}"] = np.array([[float(w.grad) for w in n.w] for n in layer.neurons]).T
            out[f"b{i}"] = np.array([float(n.b.grad) for n in layer.neurons])
        return out


def init(sizes: Sequence[int], seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Weights uniform in [−1, 1] as in micrograd, and small random biases."""
    rng = np.random.default_rng(seed)
    return [
        (rng.uniform(-1.0, 1.0, (m, n)), rng.uniform(-0.1, 0.1, n))
        for m, n in itertools.pairwise(sizes)
    ]


def scalar_step(value: type, weights: Any, X: np.ndarray, y: np.ndarray) -> Callable[[], Any]:
    """The demo's step with a micrograd-style Value class: loss, zero_grad, backward, update."""
    model = ScalarMLP(value, weights)
    params = model.parameters()
    rows = [(float(a), float(b)) for a, b in X]
    labels = [float(t) for t in y]

    def loss() -> Any:
        inputs = [[value(a), value(b)] for a, b in rows]
        scores = [model(x) for x in inputs]
        losses = [(1 + -t * s).relu() for t, s in zip(labels, scores, strict=True)]
        data_loss = sum(losses) * (1.0 / len(losses))
        return data_loss + ALPHA * sum(p * p for p in params)

    def step() -> Any:
        total = loss()
        for p in params:
            p.grad = 0.0
        total.backward()
        for p in params:
            p.data -= LR * p.grad
        return total

    def grads() -> Gradients:
        loss().backward()
        return model.gradients()

    step.grads = grads  # type: ignore[attr-defined]
    return step


def scalar_system(name: str, value: type, weights: Any, X: np.ndarray, y: np.ndarray) -> System:
    """A scalar system: the gradients come from a model of its own, untouched by timing."""
    timed = scalar_step(value, weights, X, y)
    fresh = scalar_step(value, weights, X, y)
    return System(name, timed, fresh.grads)  # type: ignore[attr-defined]


def tensor_step(weights: Any, X: np.ndarray, y: np.ndarray) -> tuple[Callable[[], Any], Any]:
    """The same step on this project's tensors: nn.MLP of Dense layers, nn.hinge and nn.SGD."""
    sizes = [weights[0][0].shape[0]] + [W.shape[1] for W, _ in weights]

    def model() -> nn.MLP:
        net = nn.MLP(sizes[0], sizes[1:], activation="relu", output_activation="identity")
        for layer, (W, b) in zip(net.layers, weights, strict=True):
            assert isinstance(layer, nn.Dense)
            layer.W.data[...] = W
            layer.b.data[...] = b
        return net

    labels = (y + 1.0) / 2.0  # hinge takes 0/1 labels: mean(relu(1 − (2y − 1)·score))

    def loss(net: nn.MLP) -> Value:
        reg = sum((p * p).sum() for p in net.parameters())
        return nn.hinge(net(X), labels) + ALPHA * reg

    net = model()
    opt = nn.SGD(net.parameters(), lr=LR)

    def step() -> Value:
        total = loss(net)
        opt.zero_grad()
        total.backward()
        opt.step()
        return total

    def grads() -> Gradients:
        fresh = model()
        loss(fresh).backward()
        out: Gradients = {}
        for i, layer in enumerate(fresh.layers, 1):
            assert isinstance(layer, nn.Dense)
            out[f"W{i}"], out[f"b{i}"] = layer.W.grad, layer.b.grad
        return out

    return step, grads


def numpy_step(weights: Any, X: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
    """The same step as hand-written numpy backprop: the floor for the tensor path."""
    params = [a.copy() for W, b in weights for a in (W, b)]
    target = y.reshape(-1, 1)
    layers = len(weights)

    def gradients() -> list[np.ndarray]:
        hs = [X]
        for i in range(layers):
            z = hs[-1] @ params[2 * i] + params[2 * i + 1]
            hs.append(np.maximum(z, 0.0) if i < layers - 1 else z)
        # mean(relu(1 − y·s)): ∂/∂s = −y/n where the margin is positive
        g = np.where(1.0 - target * hs[-1] > 0.0, -target / len(X), 0.0)
        out: list[np.ndarray] = []
        for i in reversed(range(layers)):
            W, b = params[2 * i], params[2 * i + 1]
            out += [2 * ALPHA * b + g.sum(axis=0), 2 * ALPHA * W + hs[i].T @ g]
            if i:
                g = (g @ W.T) * (hs[i] > 0.0)
        return out[::-1]

    def step() -> None:
        for p, g in zip(params, gradients(), strict=True):
            p -= LR * g

    def grads() -> Gradients:
        return {
            f"{k}{i // 2 + 1}": g
            for i, (k, g) in enumerate(zip("Wb" * 9, gradients(), strict=False))
        }

    return step, grads


def torch_step(torch: Any, weights: Any, X: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
    """The same step in PyTorch eager, float64."""
    params = [torch.tensor(a, requires_grad=True) for W, b in weights for a in (W, b)]
    Xt = torch.tensor(X, dtype=torch.float64)
    target = torch.tensor(y.reshape(-1, 1), dtype=torch.float64)
    last = len(weights) - 1

    def loss() -> Any:
        h = Xt
        for i in range(len(weights)):
            h = h @ params[2 * i] + params[2 * i + 1]
            if i < last:
                h = torch.relu(h)
        data_loss = torch.relu(1.0 - target * h).mean()
        return data_loss + ALPHA * sum((p * p).sum() for p in params)

    def step() -> Any:
        total = loss()
        for p in params:
            p.grad = None
        total.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
        return total

    def grads() -> Gradients:
        loss().backward()
        return {
            f"{k}{i // 2 + 1}": p.grad.numpy().copy()
            for i, (k, p) in enumerate(zip("Wb" * 9, params, strict=False))
        }

    return step, grads


def run(ctx: Context) -> Report:
    """Time the demo step on every system and check this project against micrograd."""
    report = Report()
    sizes, n = ([2, 4, 4, 1], 8) if ctx.quick else ([2, 16, 16, 1], 100)
    X, y = moons(n, seed=1)
    weights = init(sizes, seed=2)
    systems: list[Any] = [scalar_system("valuegrad", Value, weights, X, y)]
    skipped: dict[str, str] = {}
    micrograd, why = optional("micrograd.engine")
    if micrograd is not None:
        systems.append(scalar_system("micrograd", micrograd.Value, weights, X, y))
    else:
        skipped["micrograd"] = f"{why}; pip install micrograd==0.1.0 (the `bench` extra)"
    step, grads = tensor_step(weights, X, y)
    systems.append(System("valuegrad tensor", step, grads))
    step, grads = numpy_step(weights, X, y)
    systems.append(System("numpy", step, grads))
    torch, why = optional("torch")
    if torch is not None:
        step, grads = torch_step(torch, weights, X, y)
        systems.append(System("torch", step, grads))
    else:
        skipped["torch"] = str(why)
    shape = "→".join(map(str, sizes))
    case = Case(f"W1 MLP {shape}, {n} points", "numpy", systems, skipped)
    result = run_case(case, ctx)
    report.results.append(result)
    report.checks.append(ratio_check(result, "valuegrad", "micrograd", 0.08))
    return report
