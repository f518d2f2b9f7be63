"""W3: an MLP 64→256→256→1 with sigmoid units and the mean log loss, one SGD step, float64.

A batch of 256 samples; one step is the forward pass, the backward pass and
p ← p − lr·∂L/∂p for all six weight arrays. The floor is hand-written numpy
backprop. This project runs through nn (MLP, log_loss, SGD), from the engine's
operations, and compiled (`autograd.compile` of the loss, the update in numpy). Every
system uses numpy's (or its own) BLAS, on one thread.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

import autograd
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
    traced,
)
from benchmarks.peers import remotes

NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")
LR = 0.1


def data(sizes: list[int], batch: int, seed: int) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """Inputs (batch, sizes[0]), 0/1 labels (batch,), and W1, b1, W2, b2, … (W scaled by 1/√m)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(batch, sizes[0]))
    y = rng.integers(0, 2, batch).astype(np.float64)
    params: list[Any] = []
    for m, n in itertools.pairwise(sizes):
        params += [rng.normal(size=(m, n)) / np.sqrt(m), rng.normal(size=n) * 0.1]
    return X, y, params


def dense(net: nn.MLP) -> list[nn.Dense]:
    """The MLP's layers, which are Dense layers."""
    layers = [layer for layer in net.layers if isinstance(layer, nn.Dense)]
    assert len(layers) == len(net.layers)
    return layers


def nn_system(sizes: list[int], X: np.ndarray, y: np.ndarray, params: list[Any]) -> System:
    """This project as a user writes it: nn.MLP, nn.log_loss and nn.SGD."""

    def model() -> nn.MLP:
        net = nn.MLP(sizes[0], sizes[1:], activation="sigmoid", output_activation="sigmoid")
        for i, layer in enumerate(dense(net)):
            layer.W.data[...] = params[2 * i]
            layer.b.data[...] = params[2 * i + 1]
        return net

    net = model()
    opt = nn.SGD(net.parameters(), lr=LR)

    def step() -> None:
        opt.zero_grad()
        nn.log_loss(net(X), y).backward()
        opt.step()

    def grads() -> Gradients:
        fresh = model()
        nn.log_loss(fresh(X), y).backward()
        arrays = [a for layer in dense(fresh) for a in (layer.W.grad, layer.b.grad)]
        return dict(zip(NAMES, arrays, strict=True))

    return System("valuegrad", step, grads)


def loss(*args: Any) -> Value:
    """mean log loss of σ(…σ(X W1 + b1)…) from the engine's operations; args are W1, b1, …, X, y."""
    *ps, X, y = args
    h = Value(X)
    for i in range(0, len(ps), 2):
        h = (h @ ps[i] + ps[i + 1]).sigmoid()
    return -(h.log() * y + (1 - h).log() * (1 - y)).mean()


def engine_system(X: np.ndarray, y: np.ndarray, params: list[Any]) -> System:
    """The same step from the engine's operations directly: no modules, no checks."""
    p = [Value(a.copy()) for a in params]
    target = y.reshape(-1, 1)

    def step() -> None:
        for v in p:
            v.zero_grad()
        loss(*p, X, target).backward()
        for v in p:
            v.data -= LR * v.grad

    def grads() -> Gradients:
        fresh = [Value(a) for a in params]
        loss(*fresh, X, target).backward()
        return dict(zip(NAMES, (v.grad for v in fresh), strict=True))

    return System("valuegrad tensor", step, grads)


def compiled_system(X: np.ndarray, y: np.ndarray, params: list[Any]) -> System:
    """autograd.compile of the loss; the SGD update in numpy, in place."""
    step_ = autograd.compile(loss, argnums=tuple(range(len(params))))
    p, target = [a.copy() for a in params], y.reshape(-1, 1)

    def step() -> None:
        for a, g in zip(p, step_(*p, X, target)[1], strict=True):
            a -= LR * g

    def grads() -> Gradients:
        return dict(zip(NAMES, traced(lambda: step_(*params, X, target))[1], strict=True))

    return System("valuegrad compiled", step, grads)


def numpy_gradients(X: np.ndarray, y: np.ndarray, params: list[Any]) -> list[np.ndarray]:
    """Backprop by hand: δ = (ŷ − y)/n at the output, then δ ← (δ Wᵀ) ⊙ h(1 − h) going down."""
    hs = [X]
    for i in range(len(params) // 2):
        z = hs[-1] @ params[2 * i] + params[2 * i + 1]
        hs.append(1.0 / (1.0 + np.exp(-z)))
    y_hat = hs[-1]
    target = y.reshape(-1, 1)
    _loss = -np.mean(target * np.log(y_hat) + (1.0 - target) * np.log1p(-y_hat))
    delta = (y_hat - target) / len(y)
    out: list[np.ndarray] = []
    for i in reversed(range(len(params) // 2)):
        out += [delta.sum(axis=0), hs[i].T @ delta]
        if i:
            delta = (delta @ params[2 * i].T) * hs[i] * (1.0 - hs[i])
    return out[::-1]


def numpy_system(X: np.ndarray, y: np.ndarray, params: list[Any]) -> System:
    """Hand-written numpy: forward, backward by hand, update in place."""
    p = [a.copy() for a in params]

    def step() -> None:
        for a, g in zip(p, numpy_gradients(X, y, p), strict=True):
            a -= LR * g

    def grads() -> Gradients:
        return dict(zip(NAMES, numpy_gradients(X, y, params), strict=True))

    return System("numpy", step, grads)


def torch_system(torch: Any, X: np.ndarray, y: np.ndarray, params: list[Any]) -> System:
    """PyTorch eager, float64, with binary_cross_entropy."""

    def tensors() -> list[Any]:
        return [torch.tensor(a, requires_grad=True) for a in params]

    p = tensors()
    Xt, target = torch.tensor(X), torch.tensor(y.reshape(-1, 1))
    bce = torch.nn.functional.binary_cross_entropy

    def loss(ps: list[Any]) -> Any:
        h = Xt
        for i in range(len(ps) // 2):
            h = torch.sigmoid(h @ ps[2 * i] + ps[2 * i + 1])
        return bce(h, target)

    def step() -> None:
        for v in p:
            v.grad = None
        loss(p).backward()
        with torch.no_grad():
            for v in p:
                v -= LR * v.grad

    def grads() -> Gradients:
        fresh = tensors()
        loss(fresh).backward()
        return {n: v.grad.numpy().copy() for n, v in zip(NAMES, fresh, strict=True)}

    return System("torch", step, grads)


def run(ctx: Context) -> Report:
    """One SGD step on every system; checks against numpy."""
    report = Report()
    sizes, batch = ([8, 16, 16, 1], 8) if ctx.quick else ([64, 256, 256, 1], 256)
    X, y, params = data(sizes, batch, seed=3)
    systems: list[System] = [nn_system(sizes, X, y, params), engine_system(X, y, params)]
    skipped: dict[str, str] = {}
    systems.append(compiled_system(X, y, params))
    systems.append(numpy_system(X, y, params))
    torch, why = optional("torch")
    if torch is not None:
        systems.append(torch_system(torch, X, y, params))
    else:
        skipped["torch"] = why
    arrays = dict(zip(NAMES, params, strict=True))
    others, absent = remotes(ctx, "W3", X=X, y=y.reshape(-1, 1), lr=np.array(LR), **arrays)
    title = f"W3 MLP {'→'.join(map(str, sizes))}, batch {batch}"
    result = run_case(Case(title, "numpy", systems + others, skipped | absent), ctx)
    report.results.append(result)
    report.checks += [
        ratio_check(result, "valuegrad", "numpy", 1.2),
        ratio_check(result, "valuegrad compiled", "numpy", 1.0),
    ]
    return report
