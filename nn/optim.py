"""Optimizers with PyTorch's update rules: `SGD` (with momentum) and `Adam`.

They change each parameter's `.data` in place, on raw numbers, so no step ever
adds a node to a graph: the graph of the next forward pass is as small as the first.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from autograd import Value
from nn.checks import positive, real


class Optimizer:
    """Holds the parameters to update; `step()` moves them, `zero_grad()` clears their gradients."""

    def __init__(self, params: Iterable[Value]) -> None:
        if isinstance(params, Value):
            raise TypeError(
                "params must be an iterable of Values (e.g. model.parameters()), not one Value"
            )
        params = list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Value):
                raise TypeError(f"params[{i}] is a {type(p).__name__}, not a Value")
            if not p.is_leaf:
                raise ValueError(f"params[{i}] is not a leaf Value: only leaves can be optimized")
        if not params:
            raise ValueError("the optimizer got an empty parameter list")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("a parameter appears more than once in the list")
        self.params = params

    def zero_grad(self) -> None:
        """Forget every parameter's gradient."""
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        """Move every parameter that has a gradient."""
        for i, p in enumerate(self.params):
            if p.grad_computed:
                g = p.grad
                self._update(i, p, g.data if isinstance(g, Value) else g)

    def _update(self, i: int, p: Value, g: Any) -> None:
        raise NotImplementedError


def _copy(g: Any) -> Any:
    return g if type(g) is float else np.array(g)


class SGD(Optimizer):
    """Gradient descent, optionally with momentum μ (PyTorch's rule, no dampening).

    Without momentum: p ← p − lr·g.
    With momentum:    buf ← g on the first step, then buf ← μ·buf + g;  p ← p − lr·buf.
    """

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0) -> None:
        super().__init__(params)
        self.lr = positive(lr, "lr")
        self.momentum = real(momentum, "momentum", 0.0, 1.0, open_high=True)
        self.buffers: dict[int, Any] = {}

    def _update(self, i: int, p: Value, g: Any) -> None:
        if self.momentum:
            buf = self.buffers.get(i)
            buf = _copy(g) if buf is None else self.momentum * buf + g
            self.buffers[i] = buf
            g = buf
        d = p.data
        if type(d) is np.ndarray and d.ndim and type(g) is np.ndarray and g.shape == d.shape:
            d -= self.lr * g  # in place: one temporary fewer, and no copy
        else:
            _assign(p, d - self.lr * g)


class Adam(Optimizer):
    """Adam with bias correction, as torch.optim.Adam's defaults (no weight decay, no amsgrad).

    m ← β1·m + (1−β1)·g,   v ← β2·v + (1−β2)·g²,   t ← t + 1
    p ← p − lr · (m / (1−β1ᵗ)) / (√v / √(1−β2ᵗ) + ε)
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params)
        self.lr = positive(lr, "lr")
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (β1, β2), got {betas!r}")
        self.betas = (
            real(betas[0], "betas[0]", 0.0, 1.0, open_high=True),
            real(betas[1], "betas[1]", 0.0, 1.0, open_high=True),
        )
        self.eps = real(eps, "eps", 0.0)
        self.state: dict[int, tuple[int, Any, Any]] = {}  # i → (t, m, v)

    def _update(self, i: int, p: Value, g: Any) -> None:
        beta1, beta2 = self.betas
        t, m, v = self.state.get(i, (0, 0.0, 0.0))
        t += 1
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * (g * g)
        self.state[i] = (t, m, v)
        step_size = self.lr / (1.0 - beta1**t)
        denom = np.sqrt(v) / math.sqrt(1.0 - beta2**t) + self.eps
        _assign(p, p.data - step_size * (m / denom))


def _assign(p: Value, new: Any) -> None:
    """Write new data into p: a float stays a float, an array is updated in place."""
    d = p.data
    if type(d) is float:
        p.data = float(new)
    elif isinstance(d, np.ndarray) and d.ndim:
        d[...] = new
    else:
        p.data = d.dtype.type(new)
