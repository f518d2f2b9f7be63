"""W2 and W3 for the peers that run in their own interpreter: HIPS autograd and JAX.

The worker in peers.py imports this file in another virtual environment, so it imports
numpy and the peers, never this project. Each builder takes the arrays the runner
handed over and returns (the gradients of one run, the step to time).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

Step = Callable[[], object]
MLP_NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")


def lesson_names(dW1: Any, db1: Any, dW2: Any, db2: Any) -> dict[str, np.ndarray]:
    """The lesson network's nine gradients by name, from its matrices: W1[i, j] is w_(i+1)(j+1)."""
    dW1, db1, dW2, db2 = (np.asarray(a, dtype=np.float64) for a in (dW1, db1, dW2, db2))
    return {
        "w11": dW1[0, 0],
        "w21": dW1[1, 0],
        "b1": db1[0],
        "w12": dW1[0, 1],
        "w22": dW1[1, 1],
        "b2": db1[1],
        "w1": dW2[0, 0],
        "w2": dW2[1, 0],
        "b": db2[0],
    }


def hips() -> tuple[Any, Any]:
    """HIPS autograd's `grad` and its numpy wrapper, imported by name."""
    ag = importlib.import_module("autograd")
    try:
        anp = importlib.import_module("autograd.numpy")
    except ImportError:
        raise ImportError("the `autograd` importable here is not HIPS autograd") from None
    return ag.grad, anp


def jax() -> tuple[Any, Any]:
    """jax in float64, and jax.numpy."""
    jx = importlib.import_module("jax")
    jx.config.update("jax_enable_x64", True)
    return jx, importlib.import_module("jax.numpy")


def mlp_loss(np_: Any, sigmoid: Callable[[Any], Any]) -> Callable[..., Any]:
    """mean log loss of σ(…σ(σ(X W1 + b1) W2 + b2)…); W2 is the lesson network with two layers."""

    def loss(params: Any, X: Any, y: Any) -> Any:
        h = X
        for i in range(0, len(params), 2):
            h = sigmoid(h @ params[i] + params[i + 1])
        return -np_.mean(y * np_.log(h) + (1.0 - y) * np_.log(1.0 - h))

    return loss


def _hips_sigmoid(anp: Any) -> Callable[[Any], Any]:
    return lambda z: 0.5 * (anp.tanh(0.5 * z) + 1.0)


def w2_hips(data: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], Step]:
    """Forward and gradients of the lesson network with HIPS autograd."""
    grad, anp = hips()
    dloss = grad(mlp_loss(anp, _hips_sigmoid(anp)))
    params = [data[k] for k in ("W1", "b1", "W2", "b2")]
    X, y = data["X"], data["y"]
    return lesson_names(*dloss(params, X, y)), lambda: dloss(params, X, y)


def w2_jax(data: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], Step]:
    """The same with jax.jit(jax.grad(loss))."""
    jx, jnp = jax()
    dloss = jx.jit(jx.grad(mlp_loss(jnp, jx.nn.sigmoid)))
    params = [jx.device_put(data[k]) for k in ("W1", "b1", "W2", "b2")]
    X, y = jx.device_put(data["X"]), jx.device_put(data["y"])
    grads = lesson_names(*dloss(params, X, y))
    return grads, lambda: jx.block_until_ready(dloss(params, X, y))


def w3_hips(data: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], Step]:
    """One SGD step of the MLP with HIPS autograd."""
    grad, anp = hips()
    dloss = grad(mlp_loss(anp, _hips_sigmoid(anp)))
    X, y, lr = data["X"], data["y"], float(data["lr"])
    params = [data[n].copy() for n in MLP_NAMES]
    grads = dict(zip(MLP_NAMES, map(np.asarray, dloss(params, X, y)), strict=True))

    def step() -> None:
        for i, g in enumerate(dloss(params, X, y)):
            params[i] = params[i] - lr * g

    return grads, step


def w3_jax(data: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], Step]:
    """One SGD step of the MLP, jitted whole."""
    jx, jnp = jax()
    loss = mlp_loss(jnp, jx.nn.sigmoid)
    lr = float(data["lr"])

    @jx.jit
    def sgd(params: Any, X: Any, y: Any) -> Any:
        return [p - lr * g for p, g in zip(params, jx.grad(loss)(params, X, y), strict=True)]

    X, y = jx.device_put(data["X"]), jx.device_put(data["y"])
    state = [[jx.device_put(data[n]) for n in MLP_NAMES]]
    grads = dict(zip(MLP_NAMES, map(np.asarray, jx.grad(loss)(state[0], X, y)), strict=True))

    def step() -> None:
        state[0] = jx.block_until_ready(sgd(state[0], X, y))

    return grads, step


BUILDERS = {
    ("W2", "hips"): w2_hips,
    ("W2", "jax"): w2_jax,
    ("W3", "hips"): w3_hips,
    ("W3", "jax"): w3_jax,
}
