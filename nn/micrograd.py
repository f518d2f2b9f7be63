"""micrograd's neural-net classes on this engine: `Neuron`, `Layer` and `MLP`, as micrograd has.

Code written for micrograd runs with two imports changed: `micrograd.engine` becomes
`autograd` and `micrograd.nn` becomes `nn.micrograd`. The semantics are micrograd's:
every parameter is a scalar Value, `parameters()` is a flat list of them, a neuron is
relu(w·x + b) except in the last layer of an MLP, which is linear, and the reprs read
`MLP of [Layer of [ReLUNeuron(2), ...], ...]`. The weights are drawn uniformly from
[−1, 1] by Python's `random` module, as micrograd draws them, so the same
`random.seed(...)` gives the same network, and the same training run, as micrograd.

The classes are `nn.Module`s too, so they also save, load and draw with clusters.
For batches of arrays and the faster tensor path, use `nn.MLP`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from autograd import Value
from nn.checks import whole
from nn.module import Module


class Neuron(Module):
    """One unit: z = b + w1·x1 + … + wn·xn, then relu(z) if `nonlin`, else z itself."""

    def __init__(self, nin: int, nonlin: bool = True) -> None:
        super().__init__()
        self.w = [Value(random.uniform(-1.0, 1.0)) for _ in range(whole(nin, "nin"))]
        self.b = Value(0.0)
        self.nonlin = nonlin

    def forward(self, x: Sequence[Any]) -> Value:
        """relu(b + Σ wᵢ·xᵢ), or the sum alone if linear; x is a list of Values or numbers."""
        if len(x) != len(self.w):
            raise ValueError(f"{self!r} takes {len(self.w)} inputs, got {len(x)}")
        z = self.b  # added in micrograd's order, b first, so the sums round as micrograd's do
        for w, xi in zip(self.w, x, strict=True):
            z = z + w * xi
        return z.relu() if self.nonlin else z

    def __repr__(self) -> str:
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """`nout` neurons on the same inputs; the keyword arguments go to each Neuron."""

    def __init__(self, nin: int, nout: int, **kwargs: Any) -> None:
        super().__init__()
        self.neurons = [Neuron(nin, **kwargs) for _ in range(whole(nout, "nout"))]

    def forward(self, x: Sequence[Any]) -> Value | list[Value]:
        """Each neuron's output, as a list; a layer of one neuron returns that one Value."""
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(map(repr, self.neurons))}]"


class MLP(Module):
    """Layers of the sizes `nouts` after `nin` inputs: ReLU neurons, and a linear last layer."""

    def __init__(self, nin: int, nouts: Sequence[int]) -> None:
        super().__init__()
        sizes = [whole(nin, "nin"), *(whole(n, "each of nouts") for n in nouts)]
        last = len(sizes) - 2
        self.layers = [
            Layer(sizes[i], sizes[i + 1], nonlin=i != last) for i in range(len(sizes) - 1)
        ]

    def forward(self, x: Sequence[Any]) -> Value | list[Value]:
        """The layers applied in turn."""
        out: Any = x
        for layer in self.layers:
            out = layer(out)
        return out

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(map(repr, self.layers))}]"
