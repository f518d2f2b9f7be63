"""The lesson's network: red and green perceptrons feed purple, and its derivatives by hand.

red:    z1 = w11·x1 + w21·x2 + b1,   a1 = σ(z1)
green:  z2 = w12·x1 + w22·x2 + b2,   a2 = σ(z2)
purple: z  = w1·a1  + w2·a2  + b,    ŷ  = σ(z)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import Value, sigmoid
from nn.checks import check_labels
from nn.layers import Perceptron, Seed, check_input, make_rng
from nn.module import Module

NAMES = ("w11", "w21", "b1", "w12", "w22", "b2", "w1", "w2", "b")

# ∂L/∂p of the log loss L = −y·ln ŷ − (1−y)·ln(1−ŷ) for each parameter p, as the lesson
# derives them from σ'(z) = σ(z)(1 − σ(z)) and ∂L/∂ŷ · ∂ŷ/∂z = ŷ − y. Written once:
# `analytic_gradients` computes these, the demo's table and the docs print them.
CLOSED_FORMS = {
    "w11": "(ŷ−y)·w1·a1(1−a1)·x1",
    "w21": "(ŷ−y)·w1·a1(1−a1)·x2",
    "b1": "(ŷ−y)·w1·a1(1−a1)",
    "w12": "(ŷ−y)·w2·a2(1−a2)·x1",
    "w22": "(ŷ−y)·w2·a2(1−a2)·x2",
    "b2": "(ŷ−y)·w2·a2(1−a2)",
    "w1": "(ŷ−y)·a1",
    "w2": "(ŷ−y)·a2",
    "b": "ŷ−y",
}


class TwoLayerNetwork(Module):
    """The lesson's 2-2-1 network of sigmoid perceptrons, with its nine scalar parameters.

    The network itself holds w11, w21, b1, w12, w22, b2, w1, w2 and b, so
    `named_parameters()` yields exactly those names. The perceptrons `red`, `green`
    and `purple` share them (a parameter is listed once, under its first name).

    Initialisation: (w11, w21) and (w12, w22) are unit vectors at right angles, in a
    random orientation, so red and green never start as the same line. w1 and w2
    are |N(0, 0.1²)|: small, so ŷ starts near ½ while every gradient is non-zero,
    and both positive, so purple starts as the lesson's "happy when red and green
    both say so". That loses nothing (turning a hidden perceptron round,
    w, b → −w, −b with w_k → −w_k and b → b + w_k, leaves ŷ unchanged, so every
    network has a twin with w1, w2 ≥ 0), and it matters: in that form red and
    green must face each other across the happy band. Started with opposite signs,
    purple is "red and not green", whose answer has both lines facing one way, and
    gradient descent then more often settles with both on the same edge, doing no
    better than one perceptron. The biases start at 0.
    """

    def __init__(self, seed: Seed = None) -> None:
        super().__init__()
        rng = make_rng(seed)
        theta = rng.uniform(0.0, 2.0 * np.pi)
        turn = rng.choice([-1.0, 1.0])  # green is red turned by +90° or −90°
        w11, w21 = np.cos(theta), np.sin(theta)
        w12, w22 = -turn * w21, turn * w11
        w1, w2 = np.abs(rng.normal(0.0, 0.1, size=2))
        self.w11, self.w21, self.b1 = Value(w11, "w11"), Value(w21, "w21"), Value(0.0, "b1")
        self.w12, self.w22, self.b2 = Value(w12, "w12"), Value(w22, "w22"), Value(0.0, "b2")
        self.w1, self.w2, self.b = Value(w1, "w1"), Value(w2, "w2"), Value(0.0, "b")
        self.red = Perceptron(
            2, weights=(self.w11, self.w21), bias=self.b1, color="red", names=("z1", "a1")
        )
        self.green = Perceptron(
            2, weights=(self.w12, self.w22), bias=self.b2, color="green", names=("z2", "a2")
        )
        self.purple = Perceptron(
            2, weights=(self.w1, self.w2), bias=self.b, color="purple", names=("z", "y_hat")
        )

    def forward(self, x: Any) -> Value:
        """ŷ for one sample (x1, x2) or a batch of them (one row each)."""
        a1 = self.red(x)  # z1 = w11·x1 + w21·x2 + b1, a1 = σ(z1)
        a2 = self.green(x)  # z2 = w12·x1 + w22·x2 + b2, a2 = σ(z2)
        y_hat: Value = self.purple([a1, a2])  # z = w1·a1 + w2·a2 + b, ŷ = σ(z)
        return y_hat

    def extra_repr(self) -> str:
        return "2 → 2 → 1"


def same_line(net: TwoLayerNetwork, X: Any, share: float = 0.85) -> bool:
    """True when red and green split the samples X alike: they draw the same line on the data.

    Each perceptron puts a sample on one side of its line (z > 0 or not). Two lines
    bounding the happy band from its two sides agree on about half the samples (the
    band) and disagree on the rest; two lines on the same edge put at least `share`
    of them on matching sides (or all on opposite sides, when they face apart).
    """
    data = check_input(X, 2, "same_line")
    data = np.asarray(data.data if isinstance(data, Value) else data, dtype=np.float64)
    x1, x2 = data[..., 0], data[..., 1]
    side1 = net.w11.data * x1 + net.w21.data * x2 + net.b1.data > 0
    side2 = net.w12.data * x1 + net.w22.data * x2 + net.b2.data > 0
    agree = float(np.mean(side1 == side2))
    return max(agree, 1.0 - agree) >= share


def analytic_gradients(net: TwoLayerNetwork, x: Any, y: Any) -> dict[str, float]:
    """The nine derivatives of the log loss by hand, CLOSED_FORMS; for a batch, their mean.

    The values are floats keyed by the parameters' names; each line below computes
    one of CLOSED_FORMS. Any other model raises TypeError.
    """
    if not isinstance(net, TwoLayerNetwork):
        raise TypeError(
            "analytic_gradients: the closed forms are those of the lesson's TwoLayerNetwork, "
            f"not of {type(net).__name__}; for any other model take the gradients with "
            "autograd (loss.backward(), or autograd.grad)"
        )
    data = check_input(x, 2, "analytic_gradients")
    if isinstance(data, Value):
        data = data.data
    x1, x2 = data[..., 0], data[..., 1]
    y = check_labels(y, np.shape(x1), "analytic_gradients")
    p = {name: getattr(net, name).data for name in NAMES}
    a1 = sigmoid(p["w11"] * x1 + p["w21"] * x2 + p["b1"])
    a2 = sigmoid(p["w12"] * x1 + p["w22"] * x2 + p["b2"])
    y_hat = sigmoid(p["w1"] * a1 + p["w2"] * a2 + p["b"])
    d = y_hat - y  # ∂L/∂z
    d1 = d * p["w1"] * a1 * (1 - a1)  # ∂L/∂z1
    d2 = d * p["w2"] * a2 * (1 - a2)  # ∂L/∂z2
    grads = {
        "w11": d1 * x1,
        "w21": d1 * x2,
        "b1": d1,
        "w12": d2 * x1,
        "w22": d2 * x2,
        "b2": d2,
        "w1": d * a1,
        "w2": d * a2,
        "b": d,
    }
    return {name: float(np.mean(g)) for name, g in grads.items()}
