"""The one catalogue of operations and shapes that drives every gradient test (STYLE point 5).

Each entry is a function of its inputs written against a small backend `o` (`o.exp(a)`,
`o.sum(a, axis, keepdims)`, ...) and the operators, so the same line runs on the engine's Values,
on numpy (the reference values) and on torch (the parity tests). A new primitive or method gets
tested everywhere by adding one line to OPS.

Its backends extend those of `autograd.testing`, whose random expression graphs the graph tests
and the torch parity tests use.
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
from autograd.testing import GRAPH_OUT, Graph, NumpyOps, ValueOps, graphs

Shape = tuple[int, ...]
Domain = Callable[[np.random.Generator, Shape], np.ndarray]

# ---------------------------------------------------------------------------
# Backends: the few functions an entry needs beyond the operators.
# ---------------------------------------------------------------------------


class ValueBackend(ValueOps):
    """The engine, through the methods of Value."""

    reshape = staticmethod(lambda x, shape: x.reshape(shape))
    transpose = staticmethod(lambda x, axes: x.transpose(axes))
    T = staticmethod(lambda x: x.T)
    broadcast_to = staticmethod(ops.broadcast_to)  # primitives reached only through autograd.ops
    scatter = staticmethod(ops.scatter)
    cast = staticmethod(ops.cast)
    softmax = staticmethod(lambda x, axis: x.softmax(axis))
    log_softmax = staticmethod(lambda x, axis: x.log_softmax(axis))
    logsumexp = staticmethod(lambda x, axis=None, keepdims=False: x.logsumexp(axis, keepdims))
    max = staticmethod(lambda x, axis=None, keepdims=False: x.max(axis, keepdims))
    min = staticmethod(lambda x, axis=None, keepdims=False: x.min(axis, keepdims))
    abs = staticmethod(abs)
    sqrt = staticmethod(lambda x: x.sqrt())
    clip = staticmethod(lambda x, low, high: x.clip(low, high))
    where = staticmethod(ops.where)
    concatenate = staticmethod(ops.concatenate)
    stack = staticmethod(ops.stack)


class NumpyBackend(NumpyOps):
    """The reference: plain numpy."""

    reshape = staticmethod(np.reshape)
    transpose = staticmethod(np.transpose)
    T = staticmethod(np.transpose)
    broadcast_to = staticmethod(np.broadcast_to)
    scatter = staticmethod(lambda g, shape, index: _scatter_reference(g, shape, index))
    cast = staticmethod(lambda x, dtype: np.asarray(x, dtype=dtype))
    softmax = staticmethod(lambda x, axis: np.exp(_log_softmax_reference(x, axis)))
    log_softmax = staticmethod(lambda x, axis: _log_softmax_reference(x, axis))
    logsumexp = staticmethod(lambda x, axis=None, keepdims=False: _lse_reference(x, axis, keepdims))
    max = staticmethod(lambda x, axis=None, keepdims=False: np.max(x, axis, keepdims=keepdims))
    min = staticmethod(lambda x, axis=None, keepdims=False: np.min(x, axis, keepdims=keepdims))
    abs = staticmethod(np.abs)
    sqrt = staticmethod(np.sqrt)
    clip = staticmethod(np.clip)
    where = staticmethod(np.where)
    concatenate = staticmethod(np.concatenate)
    stack = staticmethod(np.stack)


def _lse_reference(x: Any, axis: Any, keepdims: bool) -> Any:
    """ln Σ e^x by numpy's pairwise logaddexp, a different route from the engine's shift by max."""
    x = np.asarray(x, dtype=np.float64)
    axes = tuple(range(x.ndim)) if axis is None else (axis,) if isinstance(axis, int) else axis
    axes = tuple(a % x.ndim for a in axes)
    moved = np.moveaxis(x, axes, tuple(range(-len(axes), 0)))
    flat = moved.reshape((*moved.shape[: moved.ndim - len(axes)], -1))
    out = np.logaddexp.reduce(flat, axis=-1)
    if keepdims:
        out = np.expand_dims(out, axes)
    return out


def _log_softmax_reference(x: Any, axis: int) -> Any:
    return x - _lse_reference(x, axis, True)


def pattern(a: Any, b: Any) -> np.ndarray:
    """A fixed boolean mask of the shape a and b broadcast to, for where."""
    shape = np.broadcast_shapes(*(tuple(getattr(x, "shape", np.shape(x))) for x in (a, b)))
    return np.arange(int(np.prod(shape))).reshape(shape) % 3 != 1


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

# Joining arrays: along the first axis, along the last, and of one shape (stack).
JOIN0 = (((3,), (2,)), ((2, 3), (4, 3)), ((1, 2, 3), (2, 2, 3)))
JOIN_LAST = (((2, 3), (2, 1)), ((2, 1, 2), (2, 1, 3)))
SAME = (((3,), (3,)), ((2, 3), (2, 3)))

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
    # For more than two classes: softmax and its relatives, max and min, masks, joining arrays.
    unary("softmax", lambda o, a: o.softmax(a, -1), shapes=NONSCALAR),
    unary("softmax axis 0", lambda o, a: o.softmax(a, 0), shapes=NONSCALAR),
    unary("log_softmax", lambda o, a: o.log_softmax(a, -1), shapes=NONSCALAR),
    unary("log_softmax axis 1", lambda o, a: o.log_softmax(a, 1), shapes=RANK3),
    unary("logsumexp", lambda o, a: o.logsumexp(a)),
    unary("logsumexp axis -1 keepdims", lambda o, a: o.logsumexp(a, -1, True), shapes=NONSCALAR),
    unary("logsumexp axes (0, 2)", lambda o, a: o.logsumexp(a, (0, 2)), shapes=RANK3),
    unary("max", lambda o, a: o.max(a)),
    unary("max axis 0", lambda o, a: o.max(a, 0), shapes=NONSCALAR),
    unary("max axis -1 keepdims", lambda o, a: o.max(a, -1, True), shapes=NONSCALAR),
    unary("min axis -1", lambda o, a: o.min(a, -1), shapes=NONSCALAR),
    unary("min axes (0, 2) keepdims", lambda o, a: o.min(a, (0, 2), True), shapes=RANK3),
    unary("abs", lambda o, a: o.abs(a), nonzero),
    unary("sqrt", lambda o, a: o.sqrt(a), positive),
    unary("clip", lambda o, a: o.clip(a, -0.5, 0.8)),
    unary("clip below", lambda o, a: o.clip(a, -0.5, None)),
    binary("where", lambda o, a, b: o.where(pattern(a, b), a, b)),
    binary("concatenate axis 0", lambda o, a, b: o.concatenate([a, b], 0), shapes=JOIN0),
    binary("concatenate axis -1", lambda o, a, b: o.concatenate([a, b], -1), shapes=JOIN_LAST),
    binary("stack axis 0", lambda o, a, b: o.stack([a, b], 0), shapes=SAME),
    binary("stack axis -1", lambda o, a, b: o.stack([a, b], -1), shapes=SAME),
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


@dataclass(frozen=True)
class Mutated:
    """A tensor graph plus Σ_k Σ(node_k · C_k) for raw constant arrays C_k, which the caller
    overwrites after the forward pass: the gradient must be the one of the constants as given."""

    graph: Graph
    constants: tuple[tuple[int, np.ndarray], ...]  # (node index, constant shaped like GRAPH_OUT)

    def __call__(
        self, o: Any, *leaves: Any, hand: Callable[[np.ndarray], Any] = lambda c: c
    ) -> Any:
        """The output, with each constant passed through `hand` (which may lend a buffer)."""
        nodes = self.graph.nodes(o, *leaves)
        total = self.graph(o, *leaves)
        for k, c in self.constants:
            total = total + o.sum(nodes[k] * hand(c))
        return total

    def __repr__(self) -> str:
        extra = " + ".join(f"Σ(x{k}·{c!r})" for k, c in self.constants)
        return f"{self.graph}\n+ {extra} (constants overwritten after the forward)"


@st.composite
def mutated_graphs(draw: Any) -> Mutated:
    """Random tensor graphs with raw constant operands that are changed after the forward."""
    graph = draw(graphs(tensors=True))
    n_nodes = len(graph.leaves) + len(graph.steps)
    elements = st.floats(-2.0, 2.0, allow_subnormal=False)
    constants = draw(
        st.lists(
            st.tuples(
                st.integers(0, n_nodes - 1), hnp.arrays(np.float64, GRAPH_OUT, elements=elements)
            ),
            min_size=1,
            max_size=3,
        )
    )
    return Mutated(graph, tuple(constants))


@dataclass(frozen=True)
class ThreadPlan:
    """Graphs to differentiate at once, one thread each, with what else each thread does
    between passes: nothing, a no_grad block, or a scope block."""

    graphs: tuple[Graph, ...]
    chores: tuple[str, ...]  # "none", "no_grad" or "scope", one per graph

    def __repr__(self) -> str:
        return "\n".join(
            f"thread {i} ({c}):\n{g}"
            for i, (g, c) in enumerate(zip(self.graphs, self.chores, strict=True))
        )


@st.composite
def thread_plans(draw: Any) -> ThreadPlan:
    """Two to four threads, each with a random scalar or tensor graph and a chore."""
    n = draw(st.integers(2, 4))
    found = tuple(draw(graphs(tensors=draw(st.booleans()))) for _ in range(n))
    chores = tuple(draw(st.sampled_from(["none", "no_grad", "scope"])) for _ in range(n))
    return ThreadPlan(found, chores)
