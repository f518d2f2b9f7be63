"""The one catalogue of operations and shapes that drives every gradient test (STYLE point 5).

Each entry is a function of its inputs written against a small backend `o` (`o.exp(a)`,
`o.sum(a, axis, keepdims)`, ...) and the operators, so the same line runs on the engine's Values,
on numpy (the reference values) and on torch (the parity tests). A new primitive or method gets
tested everywhere by adding one line to OPS.

It also holds the hypothesis strategy for random expression graphs that the graph tests and the
torch parity tests share.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import Value, ops

Shape = tuple[int, ...]
Domain = Callable[[np.random.Generator, Shape], np.ndarray]

# ---------------------------------------------------------------------------
# Backends: the few functions an entry needs beyond the operators.
# ---------------------------------------------------------------------------


class ValueBackend:
    """The engine, through the methods of Value."""

    exp = staticmethod(lambda x: x.exp())
    log = staticmethod(lambda x: x.log())
    tanh = staticmethod(lambda x: x.tanh())
    sigmoid = staticmethod(lambda x: x.sigmoid())
    relu = staticmethod(lambda x: x.relu())
    softplus = staticmethod(lambda x: x.softplus())
    sum = staticmethod(lambda x, axis=None, keepdims=False: x.sum(axis, keepdims))
    mean = staticmethod(lambda x, axis=None, keepdims=False: x.mean(axis, keepdims))
    reshape = staticmethod(lambda x, shape: x.reshape(shape))
    transpose = staticmethod(lambda x, axes: x.transpose(axes))
    T = staticmethod(lambda x: x.T)
    broadcast_to = staticmethod(ops.broadcast_to)  # primitives reached only through autograd.ops
    scatter = staticmethod(ops.scatter)
    cast = staticmethod(ops.cast)
    const = staticmethod(lambda x: x)  # a constant array operand, kept raw


class NumpyBackend:
    """The reference: plain numpy, with σ and softplus written so they cannot overflow."""

    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    tanh = staticmethod(np.tanh)
    sigmoid = staticmethod(lambda x: np.exp(-np.logaddexp(0.0, -x)))
    relu = staticmethod(lambda x: np.maximum(x, 0.0))
    softplus = staticmethod(lambda x: np.logaddexp(0.0, x))
    sum = staticmethod(lambda x, axis=None, keepdims=False: np.sum(x, axis, keepdims=keepdims))
    mean = staticmethod(lambda x, axis=None, keepdims=False: np.mean(x, axis, keepdims=keepdims))
    reshape = staticmethod(np.reshape)
    transpose = staticmethod(np.transpose)
    T = staticmethod(np.transpose)
    broadcast_to = staticmethod(np.broadcast_to)
    scatter = staticmethod(lambda g, shape, index: _scatter_reference(g, shape, index))
    cast = staticmethod(lambda x, dtype: np.asarray(x, dtype=dtype))
    const = staticmethod(lambda x: x)


def _scatter_reference(g: np.ndarray, shape: Shape, index: Any) -> np.ndarray:
    out = np.zeros(shape)
    np.add.at(out, index, g)
    return out


# ---------------------------------------------------------------------------
# Input domains: where each input is drawn, away from poles, branch cuts and kinks.
# ---------------------------------------------------------------------------


def real(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Anywhere in [−2, 2]."""
    return rng.uniform(-2.0, 2.0, shape)


def positive(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """In [0.5, 2]: for log, for a base raised to a Value, for fractional powers."""
    return rng.uniform(0.5, 2.0, shape)


def nonzero(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """In ±[0.3, 2]: away from relu's kink and from division by zero."""
    return rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


# ---------------------------------------------------------------------------
# Shapes. Every input list is one pattern; scalars are the shape ().
# ---------------------------------------------------------------------------

ELEMENTWISE: tuple[tuple[Shape, ...], ...] = (((),), ((1,),), ((5,),), ((3, 4),), ((2, 3, 4),))
NONSCALAR = ELEMENTWISE[1:]
RANK3 = (((2, 3, 4),),)
TRANSPOSED = (((3, 4), (4, 3)),)
SPREAD = (((),), ((4,),), ((3, 1),), ((1, 3, 4),), ((2, 1, 1),))
ROWS = (((3,),), ((3, 2),))

# Every broadcasting pattern of two operands, both ways round where it is not symmetric.
BROADCAST: tuple[tuple[Shape, ...], ...] = (
    ((), ()),  # scalar ⊗ scalar
    ((), (5,)),  # scalar ⊗ vector
    ((5,), ()),
    ((5,), (5,)),  # vector ⊗ vector
    ((1,), (5,)),  # a length-1 axis stretched
    ((5,), (1,)),
    ((3, 1), (1, 4)),  # both stretched: an outer product
    ((2, 3, 4), (4,)),  # a missing leading axis
    ((4,), (2, 3, 4)),
    ((2, 1, 4), (3, 1)),  # missing and stretched axes together
    ((), (2, 3)),  # a scalar against a matrix
    ((2, 3), ()),
    ((3, 4), (3, 4)),
    ((1, 1), (3,)),
    ((2, 3, 4), (3, 1)),
)

# numpy's matmul, including 1-D operands and broadcast batch axes.
MATMUL: tuple[tuple[Shape, ...], ...] = (
    ((3,), (3,)),  # (n,) @ (n,) → ()
    ((2, 3), (3,)),  # (m, n) @ (n,) → (m,)
    ((3,), (3, 4)),  # (n,) @ (n, k) → (k,)
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),  # batched @ matrix
    ((5, 2, 3), (5, 3, 4)),  # batched @ batched
    ((3,), (5, 3, 4)),
    ((5, 2, 3), (3,)),
    ((2, 1, 2, 3), (5, 3, 4)),  # batch axes broadcast
    ((1, 3), (3, 1)),
)


@dataclass(frozen=True)
class Op:
    """One catalogue entry: fn(o, *inputs), inputs drawn from `domains`, for each shape pattern."""

    name: str
    fn: Callable[..., Any]
    domains: tuple[Domain, ...]
    shapes: tuple[tuple[Shape, ...], ...]

    @property
    def arity(self) -> int:
        """The number of inputs."""
        return len(self.domains)

    def inputs(self, shapes: Sequence[Shape]) -> list[Any]:
        """Inputs for one shape pattern: the same every run (seeded by the name and shapes)."""
        rng = np.random.default_rng(zlib.crc32(f"{self.name} {shapes}".encode()))
        data = [d(rng, s) for d, s in zip(self.domains, shapes, strict=True)]
        return [float(x) if x.shape == () else x for x in data]


def unary(
    name: str,
    fn: Callable[..., Any],
    domain: Domain = real,
    shapes: tuple[tuple[Shape, ...], ...] = ELEMENTWISE,
) -> Op:
    """An entry with one input."""
    return Op(name, fn, (domain,), shapes)


def binary(
    name: str,
    fn: Callable[..., Any],
    domains: tuple[Domain, Domain] = (real, real),
    shapes: tuple[tuple[Shape, ...], ...] = BROADCAST,
) -> Op:
    """An entry with two inputs."""
    return Op(name, fn, domains, shapes)


REPEATS = np.array([0, 2, 0, 1, 0])  # index 0 three times: its gradients must add up

OPS: tuple[Op, ...] = (
    # The operators, between two Values.
    binary("a + b", lambda o, a, b: a + b),
    binary("a - b", lambda o, a, b: a - b),
    binary("a * b", lambda o, a, b: a * b),
    binary("a / b", lambda o, a, b: a / b, (real, nonzero)),
    binary("a ** b", lambda o, a, b: a**b, (positive, real)),
    binary("a @ b", lambda o, a, b: a @ b, shapes=MATMUL),
    unary("-a", lambda o, a: -a),
    # The operators with a number on either side.
    unary("a + 2.5", lambda o, a: a + 2.5),
    unary("2.5 + a", lambda o, a: 2.5 + a),
    unary("a - 1.5", lambda o, a: a - 1.5),
    unary("1.5 - a", lambda o, a: 1.5 - a),
    unary("a * 3", lambda o, a: a * 3),
    unary("3 * a", lambda o, a: 3 * a),
    unary("a / 4", lambda o, a: a / 4),
    unary("2 / a", lambda o, a: 2 / a, nonzero),
    unary("a ** 2", lambda o, a: a**2),
    unary("a ** 3", lambda o, a: a**3),
    unary("a ** 0", lambda o, a: a**0),
    unary("a ** -1", lambda o, a: a**-1, nonzero),
    unary("a ** 0.5", lambda o, a: a**0.5, positive),
    unary("a ** -1.5", lambda o, a: a**-1.5, positive),
    unary("2 ** a", lambda o, a: 2**a),
    unary("0.5 ** a", lambda o, a: 0.5**a),
    # Elementwise functions.
    unary("exp", lambda o, a: o.exp(a)),
    unary("log", lambda o, a: o.log(a), positive),
    unary("tanh", lambda o, a: o.tanh(a)),
    unary("sigmoid", lambda o, a: o.sigmoid(a)),
    unary("relu", lambda o, a: o.relu(a), nonzero),
    unary("softplus", lambda o, a: o.softplus(a)),
    # Reductions.
    unary("sum", lambda o, a: o.sum(a)),
    unary("sum keepdims", lambda o, a: o.sum(a, None, True)),
    unary("sum axis 0", lambda o, a: o.sum(a, 0), shapes=NONSCALAR),
    unary("sum axis -1 keepdims", lambda o, a: o.sum(a, -1, True), shapes=NONSCALAR),
    unary("sum axes (0, 2)", lambda o, a: o.sum(a, (0, 2)), shapes=RANK3),
    unary("sum axes (-1, 0) keepdims", lambda o, a: o.sum(a, (-1, 0), True), shapes=RANK3),
    unary("mean", lambda o, a: o.mean(a)),
    unary("mean keepdims", lambda o, a: o.mean(a, None, True)),
    unary("mean axis 0", lambda o, a: o.mean(a, 0), shapes=NONSCALAR),
    unary("mean axis -1 keepdims", lambda o, a: o.mean(a, -1, True), shapes=NONSCALAR),
    unary("mean axes (0, 2)", lambda o, a: o.mean(a, (0, 2)), shapes=RANK3),
    # Shapes.
    unary("reshape -1", lambda o, a: o.reshape(a, (-1,))),
    unary("reshape (2, -1)", lambda o, a: o.reshape(a, (2, -1)), shapes=(((3, 4),), ((2, 3, 4),))),
    unary("reshape ()", lambda o, a: o.reshape(a, ()), shapes=(((),), ((1,),), ((1, 1),))),
    unary("T", lambda o, a: o.T(a)),
    unary("transpose (1, 0)", lambda o, a: o.transpose(a, (1, 0)), shapes=(((3, 4),),)),
    unary("transpose (1, 2, 0)", lambda o, a: o.transpose(a, (1, 2, 0)), shapes=RANK3),
    unary("transpose (-1, 0, 1)", lambda o, a: o.transpose(a, (-1, 0, 1)), shapes=RANK3),
    unary("transpose (0, -1, -2)", lambda o, a: o.transpose(a, (0, -1, -2)), shapes=RANK3),
    # Indexing.
    unary("a[1]", lambda o, a: a[1], shapes=NONSCALAR[1:]),
    unary("a[-1]", lambda o, a: a[-1], shapes=NONSCALAR),
    unary("a[1:3]", lambda o, a: a[1:3], shapes=NONSCALAR[1:]),
    unary("a[:, ::-2]", lambda o, a: a[:, ::-2], shapes=NONSCALAR[2:]),
    unary("a[1, 2]", lambda o, a: a[1, 2], shapes=NONSCALAR[2:]),
    unary("a[repeats]", lambda o, a: a[REPEATS[:3]], shapes=(((3,),), ((3, 4),))),
    unary("a[repeats] 5", lambda o, a: a[REPEATS], shapes=(((5,),),)),
    unary("a[:, repeats]", lambda o, a: a[:, REPEATS[:3]], shapes=(((3, 4),), ((2, 3, 4),))),
    unary("a[rows, cols]", lambda o, a: a[REPEATS[:3], REPEATS[1:4]], shapes=(((3, 4),),)),
    # The primitives that the backward passes use: broadcasting and scattering.
    unary("broadcast_to (2, 3, 4)", lambda o, a: o.broadcast_to(a, (2, 3, 4)), shapes=SPREAD),
    unary("scatter rows", lambda o, a: o.scatter(a, (4, *a.shape[1:]), REPEATS[:3]), shapes=ROWS),
    unary("cast to its own dtype", lambda o, a: o.cast(a, a.dtype) * 2.0),
    # A few compositions that mix the families above.
    binary("(a @ b).sigmoid().mean()", lambda o, a, b: o.mean(o.sigmoid(a @ b)), shapes=MATMUL),
    binary("softplus(a - b) * a", lambda o, a, b: o.softplus(a - b) * a),
    binary("log(a) / b.T", lambda o, a, b: o.log(a) / o.T(b), (positive, nonzero), TRANSPOSED),
)

BINARY_ELEMENTWISE = tuple(op for op in OPS if op.arity == 2 and op.shapes is BROADCAST)


def cases(ops: Sequence[Op] = OPS) -> list[Any]:
    """pytest parameters (op, shapes), one per entry and shape pattern, with readable ids."""
    return [
        pytest.param(op, shapes, id=f"{op.name} {' '.join(map(str, shapes))}")
        for op in ops
        for shapes in op.shapes
    ]


def on_values(op: Op) -> Callable[..., Value]:
    """The entry as a function of Values, as gradcheck wants it."""
    return lambda *values: op.fn(ValueBackend, *values)


def seed_for(shape: Shape, salt: str = "") -> Any:
    """A fixed random seed ∂L/∂out for an output of `shape` (1.0 for a scalar)."""
    if shape == ():
        return 1.0
    rng = np.random.default_rng(zlib.crc32(f"{shape} {salt}".encode()))
    return rng.standard_normal(shape)


# ---------------------------------------------------------------------------
# Random expression graphs (hypothesis): a few leaves, then steps whose operands are any
# earlier node, so nodes are reused (fan-out) and the graph is a DAG, not a tree.
# ---------------------------------------------------------------------------

# name → (arity, fn(o, *operands)). Each keeps values moderate, so no step overflows.
GRAPH_OPS: dict[str, tuple[int, Callable[..., Any]]] = {
    "add": (2, lambda o, a, b: a + b),
    "sub": (2, lambda o, a, b: a - b),
    "mul": (2, lambda o, a, b: a * b),
    "div": (2, lambda o, a, b: a / (1.0 + b * b)),
    "pow": (2, lambda o, a, b: (1.0 + a * a) ** o.tanh(b)),
    "neg": (1, lambda o, a: -a),
    "affine": (1, lambda o, a: 0.5 * a - 1.25),
    "rsub": (1, lambda o, a: 2.0 - a),
    "rdiv": (1, lambda o, a: 1.0 / (2.0 + o.tanh(a))),
    "square": (1, lambda o, a: a**2),
    "sqrt": (1, lambda o, a: (1.0 + a * a) ** 0.5),
    "exp": (1, lambda o, a: o.exp(o.tanh(a))),
    "log": (1, lambda o, a: o.log(1.0 + a * a)),
    "tanh": (1, lambda o, a: o.tanh(a)),
    "sigmoid": (1, lambda o, a: o.sigmoid(a)),
    "relu": (1, lambda o, a: o.relu(a)),
    "softplus": (1, lambda o, a: o.softplus(a)),
}

# Reductions for tensor graphs: each keeps its result broadcastable against GRAPH_SHAPES.
TENSOR_GRAPH_OPS: dict[str, tuple[int, Callable[..., Any]]] = {
    **GRAPH_OPS,
    "sum0": (1, lambda o, a: o.sum(a, 0, True) if len(a.shape) == 2 else o.sum(a)),
    "mean-1": (1, lambda o, a: o.mean(a, -1, True) if len(a.shape) else a),
    "sum": (1, lambda o, a: o.sum(a)),
}

GRAPH_SHAPES: tuple[Shape, ...] = ((), (3,), (1, 3), (2, 1), (2, 3))
GRAPH_OUT: Shape = (2, 3)


@dataclass(frozen=True)
class Graph:
    """A random expression DAG: leaf data, steps (op name, operand node indices), output weights."""

    leaves: tuple[Any, ...]
    steps: tuple[tuple[str, tuple[int, ...]], ...]
    weights: tuple[float, ...]
    ops: str  # "scalar" or "tensor"

    def nodes(self, o: Any, *leaves: Any) -> list[Any]:
        """The leaves, then every step's result, on leaves of any backend."""
        table = TENSOR_GRAPH_OPS if self.ops == "tensor" else GRAPH_OPS
        nodes = list(leaves)
        for name, args in self.steps:
            nodes.append(table[name][1](o, *(nodes[i] for i in args)))
        return nodes

    def __call__(self, o: Any, *leaves: Any) -> Any:
        """Evaluate on leaves of any backend: Σ_k w_k·Σ(node_k), with node_last weighted by W."""
        made = self.nodes(o, *leaves)[len(leaves) :]
        last = made[-1]
        if self.ops == "tensor":
            last = o.sum(last * o.const(seed_for(GRAPH_OUT, "graph")))
        total = last
        for w, node in zip(self.weights, made[:-1], strict=True):
            total = total + w * o.sum(node)
        return total

    def distance_to_kinks(self) -> float:
        """How close any relu's input comes to 0 (inf without relus), evaluated with numpy."""
        nodes = self.nodes(NumpyBackend, *(np.asarray(x) for x in self.leaves))
        operands = [nodes[args[0]] for name, args in self.steps if name == "relu"]
        return min((float(np.min(np.abs(x), initial=np.inf)) for x in operands), default=np.inf)

    def __repr__(self) -> str:
        n = len(self.leaves)
        lines = [f"x{i} = {x!r}" for i, x in enumerate(self.leaves)]
        for k, (name, args) in enumerate(self.steps):
            lines.append(f"x{n + k} = {name}({', '.join(f'x{i}' for i in args)})")
        terms = [f"{w}·Σx{n + k}" for k, w in enumerate(self.weights)]
        last = (
            f"Σ(x{n + len(self.steps) - 1}·W)"
            if self.ops == "tensor"
            else f"x{n + len(self.steps) - 1}"
        )
        lines.append(f"output = {' + '.join([last, *terms])}")
        return "\n".join(lines)


@st.composite
def graphs(
    draw: Any, tensors: bool = False, max_leaves: int = 3, max_steps: int = 8, min_leaves: int = 1
) -> Graph:
    """A random expression DAG over 1–3 leaves: scalars, or tensors of broadcastable shapes."""
    table = TENSOR_GRAPH_OPS if tensors else GRAPH_OPS
    elements = st.floats(-1.5, 1.5, allow_subnormal=False)
    n_leaves = draw(st.integers(min_leaves, max(min_leaves, max_leaves)))
    leaves: list[Any] = []
    for _ in range(n_leaves):
        if tensors:
            shape = draw(st.sampled_from(GRAPH_SHAPES))
            leaves.append(draw(hnp.arrays(np.float64, shape, elements=elements)))
        else:
            leaves.append(draw(elements))
    steps = []
    for k in range(draw(st.integers(1, max_steps))):
        name = draw(st.sampled_from(sorted(table)))
        arity = table[name][0]
        args = tuple(draw(st.integers(0, n_leaves + k - 1)) for _ in range(arity))
        steps.append((name, args))
    weights = tuple(draw(st.sampled_from([0.5, -1.0, 2.0, 0.25])) for _ in steps[:-1])
    return Graph(tuple(leaves), tuple(steps), weights, "tensor" if tensors else "scalar")


def central_differences(
    phi: Callable[[list[np.ndarray]], float], points: Sequence[Any], eps: float = 1e-6
) -> list[np.ndarray]:
    """∂φ/∂x for each element of each point: (φ(x + ε·eᵢ) − φ(x − ε·eᵢ)) / 2ε, in float64."""
    base = [np.array(p, dtype=np.float64) for p in points]
    result = []
    for i, p in enumerate(base):
        grad = np.zeros(p.shape)
        for index in np.ndindex(p.shape):
            moved = [q.copy() for q in base]
            moved[i][index] += eps
            plus = phi(moved)
            moved[i][index] -= 2 * eps
            grad[index] = (plus - phi(moved)) / (2 * eps)
        result.append(grad)
    return result


@dataclass(frozen=True)
class Closure:
    """f(x) = d/dy G(x, y) at y = y0, for a random graph G of two leaves: the inner function
    closes over the outer variable x, so d/dx f needs the inner derivative's own graph."""

    graph: Graph

    def inner(self, transforms: Any, o: Any, x: Any) -> Any:
        """d/dy G(x, y) at the graph's second leaf, with `transforms.grad`."""
        y0 = transforms.lift(self.graph.leaves[1])
        return transforms.grad(lambda y: self.graph(o, x, y))(y0)

    def __repr__(self) -> str:
        return f"f(x0) = d/dx1 G(x0, x1) at x1 = {self.graph.leaves[1]!r}, where\n{self.graph}"


def closures() -> Any:
    """Random nested-grad closures over scalar graphs (see Closure)."""
    return graphs(min_leaves=2, max_leaves=2).map(Closure)
