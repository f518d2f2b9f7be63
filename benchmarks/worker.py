"""Runs the HIPS autograd and JAX workloads in their own interpreter, on request.

HIPS autograd's import name, `autograd`, is also this project's, so the two
cannot share a process. The runner starts this file as a script with another
virtual environment's Python (in isolated mode, so this repository is not on
its path) and talks to it one JSON line at a time on stdin and stdout:

    {"cmd": "hello"}                                  → versions of what is importable
    {"cmd": "setup", "key", "workload", "system", "data", "out"}
                                                       → writes gradients to `out` (.npz)
    {"cmd": "measure", "key", "number", "clock"}      → {"seconds": time of `number` runs}
    {"cmd": "drop", "key"}                            → forgets the case
    {"cmd": "quit"}

Data arrives in .npz files the runner wrote, so every system sees the same
numbers. This file imports nothing from the project.
"""

from __future__ import annotations

import gc
import importlib
import importlib.metadata
import json
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

Step = Callable[[], object]

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}

LESSON_NAMES = ("w11", "w21", "b1", "w12", "w22", "b2", "w1", "w2", "b")


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _hips() -> tuple[Any, Any]:
    """HIPS autograd's `grad` and its numpy wrapper (imported by name: see the module docstring)."""
    ag = importlib.import_module("autograd")
    try:
        anp = importlib.import_module("autograd.numpy")
    except ImportError:
        raise ImportError("the `autograd` importable there is not HIPS autograd") from None
    return ag.grad, anp


def _jax() -> tuple[Any, Any]:
    jax = importlib.import_module("jax")
    jax.config.update("jax_enable_x64", True)
    return jax, importlib.import_module("jax.numpy")


# ---------------------------------------------------------------------------
# W2: the lesson's 2→2→1 network, forward and all nine gradients.
# ---------------------------------------------------------------------------


def _lesson_loss(np_: Any, sigmoid: Callable[[Any], Any]) -> Callable[..., Any]:
    def loss(params: Any, x1: Any, x2: Any, y: Any) -> Any:
        w11, w21, b1, w12, w22, b2, w1, w2, b = params
        a1 = sigmoid(w11 * x1 + w21 * x2 + b1)
        a2 = sigmoid(w12 * x1 + w22 * x2 + b2)
        y_hat = sigmoid(w1 * a1 + w2 * a2 + b)
        return -np_.mean(y * np_.log(y_hat) + (1.0 - y) * np_.log(1.0 - y_hat))

    return loss


def w2_hips(data: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], Step]:
    grad, anp = _hips()
    loss = _lesson_loss(anp, lambda z: 0.5 * (anp.tanh(0.5 * z) + 1.0))
    dloss = grad(loss)
    params = tuple(float(p) for p in data["params"])
    x1, x2, y = data["x1"], data["x2"], data["y"]
    grads = dloss(params, x1, x2, y)
    return dict(zip(LESSON_NAMES, map(np.asarray, grads), strict=True)), lambda: dloss(
        params, x1, x2, y
    )


def w2_jax(data: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], Step]:
    jax, jnp = _jax()
    dloss = jax.jit(jax.grad(_lesson_loss(jnp, jax.nn.sigmoid)))
    params = tuple(jnp.asarray(float(p)) for p in data["params"])
    x1, x2, y = (jax.device_put(data[k]) for k in ("x1", "x2", "y"))
    grads = dloss(params, x1, x2, y)
    out = {n: np.asarray(g) for n, g in zip(LESSON_NAMES, grads, strict=True)}
    return out, lambda: jax.block_until_ready(dloss(params, x1, x2, y))


# ---------------------------------------------------------------------------
# W3: MLP 64→256→256→1, sigmoid, log loss, one SGD step.
# ---------------------------------------------------------------------------

MLP_NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")


def _mlp_loss(np_: Any, sigmoid: Callable[[Any], Any]) -> Callable[..., Any]:
    def loss(params: Any, X: Any, y: Any) -> Any:
        W1, b1, W2, b2, W3, b3 = params
        h1 = sigmoid(X @ W1 + b1)
        h2 = sigmoid(h1 @ W2 + b2)
        y_hat = sigmoid(h2 @ W3 + b3)
        return -np_.mean(y * np_.log(y_hat) + (1.0 - y) * np_.log(1.0 - y_hat))

    return loss


def w3_hips(data: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], Step]:
    grad, anp = _hips()
    dloss = grad(_mlp_loss(anp, lambda z: 0.5 * (anp.tanh(0.5 * z) + 1.0)))
    X, y, lr = data["X"], data["y"], float(data["lr"])
    params = [data[n].copy() for n in MLP_NAMES]
    grads = {n: np.asarray(g) for n, g in zip(MLP_NAMES, dloss(params, X, y), strict=True)}

    def step() -> None:
        gs = dloss(params, X, y)
        for i, g in enumerate(gs):
            params[i] = params[i] - lr * g

    return grads, step


def w3_jax(data: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], Step]:
    jax, jnp = _jax()
    loss = _mlp_loss(jnp, jax.nn.sigmoid)
    dloss = jax.jit(jax.grad(loss))
    lr = float(data["lr"])

    @jax.jit
    def sgd(params: Any, X: Any, y: Any) -> Any:
        gs = jax.grad(loss)(params, X, y)
        return [p - lr * g for p, g in zip(params, gs, strict=True)]

    X, y = jax.device_put(data["X"]), jax.device_put(data["y"])
    params = [jax.device_put(data[n]) for n in MLP_NAMES]
    grads = {n: np.asarray(g) for n, g in zip(MLP_NAMES, dloss(params, X, y), strict=True)}
    state = [params]

    def step() -> None:
        state[0] = jax.block_until_ready(sgd(state[0], X, y))

    return grads, step


BUILDERS = {
    ("W2", "hips"): w2_hips,
    ("W2", "jax"): w2_jax,
    ("W3", "hips"): w3_hips,
    ("W3", "jax"): w3_jax,
}


def hello() -> dict[str, Any]:
    """What this interpreter can run, with versions."""
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "autograd": None,
        "jax": None,
        "jaxlib": None,
    }
    try:
        _hips()
        info["autograd"] = _version("autograd")
    except ImportError as e:
        info["autograd_error"] = str(e)
    try:
        importlib.import_module("jax")
        info["jax"], info["jaxlib"] = _version("jax"), _version("jaxlib")
    except ImportError as e:
        info["jax_error"] = str(e)
    return info


def serve() -> None:
    """Answer requests until stdin closes or `quit` arrives."""
    steps: dict[str, Step] = {}
    for line in sys.stdin:
        request = json.loads(line)
        cmd = request["cmd"]
        try:
            if cmd == "quit":
                break
            if cmd == "hello":
                reply: dict[str, Any] = hello()
            elif cmd == "setup":
                with np.load(request["data"]) as f:
                    data = {k: f[k] for k in f.files}
                grads, step = BUILDERS[request["workload"], request["system"]](data)
                contents: dict[str, Any] = grads
                np.savez(request["out"], **contents)
                steps[request["key"]] = step
                reply = {"ok": True}
            elif cmd == "measure":
                step = steps[request["key"]]
                gc.collect()
                gc.freeze()  # as in the runner: imported modules are not the workload's garbage
                now = CLOCKS[request.get("clock", "wall")]
                start = now()
                for _ in range(int(request["number"])):
                    step()
                reply = {"seconds": now() - start}
                gc.unfreeze()
            elif cmd == "drop":
                steps.pop(request["key"], None)
                gc.collect()
                reply = {"ok": True}
            else:
                reply = {"error": f"unknown command {cmd!r}"}
        except Exception as e:
            reply = {"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
