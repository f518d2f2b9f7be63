"""Building blocks: activations, the lesson's `Perceptron`, `Dense`, `Sequential` and `MLP`.

Every model takes one sample (a list or 1-D array of features) and returns a
scalar Value, or a batch (a 2-D array, one sample per row) and returns a Value
with one entry per row. Dense is a layer: it returns `n_out` numbers per sample.
"""

from __future__ import annotations

import functools
import numbers
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import autograd
from autograd import Primitive, Value
from autograd.ops import grad_of_product
from autograd.value import as_data
from nn import checks
from nn.checks import whole
from nn.module import Module

Activation = Callable[[Any], Any]
Seed = int | np.random.Generator | None


def identity(x: Any) -> Any:
    """identity(x) = x."""
    return x


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": autograd.sigmoid,
    "tanh": autograd.tanh,
    "relu": autograd.relu,
    "identity": identity,
    "softmax": autograd.softmax,  # over the last axis: one probability per class, for k classes
}


def activation_by_name(activation: str | Activation) -> tuple[str, Activation]:
    """(name, function) for an activation: "sigmoid", "tanh", "relu", "identity", or a callable."""
    if isinstance(activation, str):
        return activation, checks.named(activation, ACTIVATIONS, "activation")
    if callable(activation):
        return getattr(activation, "__name__", repr(activation)), activation
    raise TypeError(f"activation must be a name or a callable, got {type(activation).__name__}")


def make_rng(seed: Seed) -> np.random.Generator:
    """A generator from a seed (an int, None for fresh entropy, or a Generator, used as is)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def check_input(x: Any, n_features: int, who: str) -> Any:
    """x as one sample (1-D) or a batch (2-D, one sample per row) of n_features, else ValueError."""
    data = x if isinstance(x, Value) else _as_array(x, who)
    shape = data.shape
    if len(shape) not in (1, 2):
        raise ValueError(
            f"{who} expects one sample (1-D, {n_features} features) or a batch "
            f"(2-D, {n_features} columns), got shape {shape}"
        )
    if shape[-1] != n_features:
        what = "per sample" if len(shape) == 1 else "columns in the batch"
        raise ValueError(f"{who} expects {n_features} features, got {shape[-1]} {what}")
    return data


def _as_array(x: Any, who: str) -> Any:
    try:
        data = as_data(x)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{who}: {e}") from None
    if type(data) is float or not isinstance(data, np.ndarray):
        raise ValueError(f"{who} expects one sample or a batch of samples, got the number {x!r}")
    return data


FLOATS = (np.dtype(np.float64), np.dtype(np.float32))


def columns(x: Any, n_features: int, who: str) -> list[Any]:
    """The features of x one by one: floats for a sample, columns for a batch.

    A list that holds Values is taken as the features themselves (each a scalar,
    or one column of a batch), which is how one perceptron feeds on others.
    """
    if type(x) is np.ndarray and x.ndim == 2 and x.dtype in FLOATS and x.shape[1] == n_features:
        return [x[:, i] for i in range(n_features)]  # the common case: a batch, already checked
    if isinstance(x, (list, tuple)) and any([isinstance(v, Value) for v in x]):
        if len(x) != n_features:
            raise ValueError(f"{who} expects {n_features} features, got {len(x)}")
        return list(x)
    data = check_input(x, n_features, who)
    if isinstance(data, np.ndarray) and data.ndim == 1:
        return data.tolist()  # Python floats keep one sample on the fast scalar path
    return [data[..., i] for i in range(n_features)]


def _weighted_sum(*args: Any) -> Any:
    """w1·x1 + … + wn·xn + b on raw data; the arguments are w1 … wn, x1 … xn, b."""
    n = len(args) // 2
    z = args[0] * args[n]
    for i in range(1, n):
        term = args[i] * args[n + i]
        same = type(z) is np.ndarray and type(term) is np.ndarray and z.shape == term.shape
        if same and z.dtype == term.dtype and z.size > 1:
            np.add(z, term, z)  # z is a fresh array: adding in place saves an allocation
        else:
            z = z + term
    return z + args[-1]


def _weight_grad(i: int, n: int) -> Callable[..., Any]:
    return lambda g, out, *args: grad_of_product(g, args[n + i], args[i])


def _input_grad(i: int, n: int) -> Callable[..., Any]:
    return lambda g, out, *args: grad_of_product(g, args[i], args[n + i])


@functools.cache
def weighted_sum(n: int) -> type[Primitive]:
    """The primitive z = w1·x1 + … + wn·xn + b of n inputs, applied to (w1 … wn, x1 … xn, b).

    ∂z/∂wᵢ = xᵢ, ∂z/∂xᵢ = wᵢ, ∂z/∂b = 1. One node instead of n products and n sums keeps
    the graph, and the arrays it holds for a batch, small; and the chain rule along the
    lesson's path reads as on the slide: dz1/dw11 = x1, dz/da1 = w1.
    """

    class WeightedSum(Primitive):
        __doc__ = f"z = w1·x1 + … + w{n}·x{n} + b; ∂z/∂wᵢ = xᵢ, ∂z/∂xᵢ = wᵢ, ∂z/∂b = 1."
        forward = staticmethod(_weighted_sum)
        symbol = "Σwx+b"
        # How autograd.compile writes it: w11 * x1 + w21 * x2 + b1, and dL_dz1 * x1 for w11.
        code = (
            " + ".join([*(f"{{{i}}} * {{{n + i}}}" for i in range(n)), f"{{{2 * n}}}"]),
            *(f"{{g}} * {{{n + i}}}" for i in range(n)),
            *(f"{{g}} * {{{i}}}" for i in range(n)),
            "{g}",
        )
        grads = (
            *(_weight_grad(i, n) for i in range(n)),
            *(_input_grad(i, n) for i in range(n)),
            lambda g, out, *args: g,
        )

    return WeightedSum


class Perceptron(Module):
    """The lesson's unit: z = w1·x1 + … + wn·xn + b, ŷ = activation(z) (σ by default).

    Its parameters are the attributes w1 … wn and b, named by position as on the slide,
    whatever the Values are called: passed as `weights` and `bias`, existing Values are
    shared (the lesson's network gives red w11, w21 and b1 as its w1, w2 and b, and lists
    them under its own names). `names` are given to the nodes for z and ŷ, so drawings
    and explanations show them.
    """

    def __init__(
        self,
        n_inputs: int,
        activation: str | Activation = "sigmoid",
        seed: Seed = None,
        *,
        weights: Sequence[Value] | None = None,
        bias: Value | None = None,
        color: str | None = None,
        names: tuple[str, str] = ("z", "y_hat"),
    ) -> None:
        super().__init__()
        n_inputs = whole(n_inputs, "n_inputs")
        self.n_inputs = n_inputs
        self.activation_name, self.activation = activation_by_name(activation)
        self.color = color
        self.names = names
        if weights is None:
            # Scaled by 1/√n so that z starts with unit variance for unit-variance inputs.
            draws = make_rng(seed).normal(size=n_inputs) / np.sqrt(n_inputs)
            weights = [Value(float(v)) for v in draws]
        if bias is None:
            bias = Value(0.0)
        if len(weights) != n_inputs:
            raise ValueError(f"expected {n_inputs} weights, got {len(weights)}")
        for p in (*weights, bias):
            if not isinstance(p, Value) or p.shape != ():
                raise TypeError(f"a perceptron's weights and bias are scalar Values, got {p!r}")
        attributes = [f"w{i + 1}" for i in range(n_inputs)]
        for attribute, w in zip(attributes, weights, strict=True):
            setattr(self, attribute, w)  # a Value without a name takes the attribute's
        self.b = bias
        # Read on every call, so that `using()` and reassignment are seen.
        self._parameters = operator.attrgetter(*attributes, "b")

    @property
    def weights(self) -> tuple[Value, ...]:
        """w1 … wn, in input order."""
        return tuple(self._parameters(self)[:-1])

    @property
    def bias(self) -> Value:
        """b."""
        b: Value = self.b
        return b

    def forward(self, x: Any) -> Value:
        """z = Σ wᵢ·xᵢ + b; ŷ = activation(z)."""
        xs = columns(x, self.n_inputs, type(self).__name__)
        *weights, bias = self._parameters(self)
        # Looked up, not kept: the primitive is a class made at run time, which pickle cannot name.
        z = weighted_sum(self.n_inputs).apply(*weights, *xs, bias)
        z.name = self.names[0]
        y_hat = self.activation(z)
        y_hat.name = self.names[1]
        return y_hat

    def extra_repr(self) -> str:
        params = ", ".join(f"{p.name}={p.data:.4g}" for p in (*self.weights, self.bias))
        color = "" if self.color is None else f", color={self.color!r}"
        return f"{params}, {self.activation_name}{color}"


class Dense(Module):
    """A layer of n_out units: activation(x @ W + b), one matrix product for a whole batch.

    W has shape (n_in, n_out) and b has shape (n_out,). A sample gives n_out numbers,
    a batch gives a (rows, n_out) array.
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        activation: str | Activation = "identity",
        seed: Seed = None,
    ) -> None:
        super().__init__()
        n_in, n_out = whole(n_in, "n_in"), whole(n_out, "n_out")
        self.n_in = n_in
        self.n_out = n_out
        self.activation_name, self.activation = activation_by_name(activation)
        scale = np.sqrt(2.0 / n_in) if self.activation_name == "relu" else np.sqrt(1.0 / n_in)
        self.W = Value(make_rng(seed).normal(size=(n_in, n_out)) * scale)
        self.b = Value(np.zeros(n_out))

    def forward(self, x: Any) -> Value:
        """activation(x @ W + b)."""
        x = check_input(x, self.n_in, type(self).__name__)
        return self.activation(x @ self.W + self.b)

    def extra_repr(self) -> str:
        return f"{self.n_in} → {self.n_out}, {self.activation_name}"


class Sequential(Module):
    """Modules applied one after another; a single output per sample comes out as one number."""

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        for layer in layers:
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential takes Modules, got {type(layer).__name__}")
        self.layers = layers

    def forward(self, x: Any) -> Value:
        """layer_k(… layer_1(x)), with a trailing axis of length 1 dropped."""
        out = x
        for layer in self.layers:
            out = layer(out)
        if isinstance(out, Value) and out.shape[-1:] == (1,):
            out = out.reshape(out.shape[:-1])
        return out

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]


class MLP(Sequential):
    """A multilayer perceptron, called like micrograd's: MLP(n_in, [sizes of each layer]).

    Hidden layers use `activation` (relu by default); the last uses
    `output_activation` (sigmoid by default, so a single output is a probability
    that suits `log_loss`; use "identity" with `hinge` or `log_loss_with_logits`).
    For k classes end with k units and "softmax" (probabilities) or "identity" (scores);
    `cross_entropy` takes either.
    """

    def __init__(
        self,
        n_in: int,
        sizes: Sequence[int],
        activation: str | Activation = "relu",
        output_activation: str | Activation = "sigmoid",
        seed: Seed = None,
    ) -> None:
        if isinstance(sizes, numbers.Number) or not isinstance(sizes, Sequence):
            raise ValueError(
                f"MLP sizes must be a list of layer sizes such as [16, 16, 1], got {sizes!r}"
            )
        if not sizes:
            raise ValueError("MLP needs at least one layer size")
        n_in = whole(n_in, "n_in")
        sizes = [whole(n, "each layer size") for n in sizes]
        rng = make_rng(seed)
        dims = [n_in, *sizes]
        last = len(sizes) - 1
        super().__init__(
            *(
                Dense(dims[i], dims[i + 1], output_activation if i == last else activation, rng)
                for i in range(len(sizes))
            )
        )
        self.n_in = n_in
        self.sizes = tuple(sizes)
