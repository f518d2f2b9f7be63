"""Tests of gradients for instructors and contributors: hypothesis strategies and one checker.

    from autograd.testing import arrays, assert_gradients_correct
    assert_gradients_correct(StudentCube, arrays((3,)))   # a Primitive, inputs drawn by hypothesis

`assert_gradients_correct` runs the three checks of the library (gradcheck, the Taylor test and
find_wrong_gradients) and, when one fails, raises an AssertionError that quotes its report.
The strategies need hypothesis (`pip install 'valuegrad[testing]'`); the checker alone does not.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd.explain import WrongGradient, find_wrong_gradients
from autograd.gradcheck import GradcheckReport, TaylorReport, gradcheck, taylor_test
from autograd.value import Primitive, Value

try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as e:  # pragma: no cover - exercised only without the testing extra
    raise ImportError("autograd.testing needs hypothesis: pip install 'valuegrad[testing]'") from e

Shape = tuple[int, ...]

__all__ = [
    "GRAPH_OPS",
    "TENSOR_GRAPH_OPS",
    "Checks",
    "Graph",
    "NumpyOps",
    "ValueOps",
    "arrays",
    "assert_gradients_correct",
    "broadcastable_shapes",
    "graphs",
    "seed_for",
    "shapes",
]

# ---------------------------------------------------------------------------
# Shapes and arrays.
# ---------------------------------------------------------------------------


def shapes(
    min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[Shape]:
    """Array shapes, () included when min_dims is 0; every side in [min_side, max_side]."""
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def broadcastable_shapes(
    max_dims: int = 3, max_side: int = 3
) -> st.SearchStrategy[tuple[Shape, Shape]]:
    """Pairs of shapes (a, b) that broadcast together as numpy does: np.broadcast_shapes(a, b)."""
    pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=max_dims, max_side=max_side)
    return pairs.map(lambda s: (s.input_shapes[0], s.input_shapes[1]))


def arrays(
    shape: Shape | st.SearchStrategy[Shape],
    low: float = -2.0,
    high: float = 2.0,
    *,
    min_abs: float = 0.0,
    dtype: Any = np.float64,
) -> st.SearchStrategy[Any]:
    """Arrays of `shape` with elements in [low, high] and |x| ≥ min_abs; a float for shape ().

    The defaults keep exp, tanh and σ far from overflow and round-off; min_abs keeps inputs
    away from a pole or a kink at 0 (1/x, relu, |x|). Never nan, inf or subnormal.
    """
    if not low <= high:
        raise ValueError(f"need low ≤ high, got low={low}, high={high}")
    if min_abs < 0 or min_abs > max(abs(low), abs(high)):
        raise ValueError(f"min_abs={min_abs} leaves no number in [{low}, {high}]")
    narrow = np.dtype(dtype) == np.float32
    elements = st.floats(
        low, high, allow_nan=False, allow_subnormal=False, width=32 if narrow else 64
    )
    if min_abs > 0:
        elements = elements.filter(lambda x: abs(x) >= min_abs)
    shape_strategy = shape if isinstance(shape, st.SearchStrategy) else st.just(tuple(shape))
    return shape_strategy.flatmap(
        lambda s: hnp.arrays(dtype, s, elements=elements).map(
            lambda a: float(a) if a.shape == () else a
        )
    )


# ---------------------------------------------------------------------------
# Random expression graphs: a few leaves, then steps whose operands are any earlier node, so
# nodes are reused (fan-out) and the graph is a DAG, not a tree.
# ---------------------------------------------------------------------------


class ValueOps:
    """The few functions a graph needs beyond the operators, on Values."""

    exp = staticmethod(lambda x: x.exp())
    log = staticmethod(lambda x: x.log())
    tanh = staticmethod(lambda x: x.tanh())
    sigmoid = staticmethod(lambda x: x.sigmoid())
    relu = staticmethod(lambda x: x.relu())
    softplus = staticmethod(lambda x: x.softplus())
    sum = staticmethod(lambda x, axis=None, keepdims=False: x.sum(axis, keepdims))
    mean = staticmethod(lambda x, axis=None, keepdims=False: x.mean(axis, keepdims))
    const = staticmethod(lambda x: x)  # a constant array operand, kept raw


class NumpyOps:
    """The same functions in plain numpy, with σ and softplus written so they cannot overflow."""

    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    tanh = staticmethod(np.tanh)
    sigmoid = staticmethod(lambda x: np.exp(-np.logaddexp(0.0, -x)))
    relu = staticmethod(lambda x: np.maximum(x, 0.0))
    softplus = staticmethod(lambda x: np.logaddexp(0.0, x))
    sum = staticmethod(lambda x, axis=None, keepdims=False: np.sum(x, axis, keepdims=keepdims))
    mean = staticmethod(lambda x, axis=None, keepdims=False: np.mean(x, axis, keepdims=keepdims))
    const = staticmethod(lambda x: x)


def seed_for(shape: Shape, salt: str = "") -> Any:
    """A fixed random seed ∂L/∂out for an output of `shape` (1.0 for a scalar)."""
    if shape == ():
        return 1.0
    rng = np.random.default_rng(zlib.crc32(f"{shape} {salt}".encode()))
    return rng.standard_normal(shape)


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
    """A random expression DAG: leaf data, steps (op name, operand node indices), output weights.

    `graph(ValueOps, *values)` evaluates it on Values (`graph.on_values` for short), and the
    same call with NumpyOps, or any object with those functions, on another backend.
    """

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

    def on_values(self, *values: Value) -> Value:
        """The graph's output for these Values: a function to hand to gradcheck."""
        out: Value = self(ValueOps, *values)
        return out

    def distance_to_kinks(self) -> float:
        """How close any relu's input comes to 0 (inf without relus), evaluated with numpy."""
        nodes = self.nodes(NumpyOps, *(np.asarray(x) for x in self.leaves))
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
def _graphs(draw: Any, tensors: bool, max_leaves: int, max_steps: int, min_leaves: int) -> Graph:
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


def graphs(
    tensors: bool = False, max_leaves: int = 3, max_steps: int = 8, min_leaves: int = 1
) -> st.SearchStrategy[Graph]:
    """Random expression DAGs over min_leaves–max_leaves leaves: scalars, or broadcastable tensors.

    Their repr prints the failing case as readable assignments (x3 = mul(x0, x1), ...).
    """
    return _graphs(tensors, max_leaves, max_steps, min_leaves)


# ---------------------------------------------------------------------------
# The one-call checker.
# ---------------------------------------------------------------------------


@dataclass
class Checks:
    """What assert_gradients_correct found at one point: the three reports, all passing."""

    gradcheck: GradcheckReport
    taylor: TaylorReport
    wrong: list[WrongGradient]


def assert_gradients_correct(
    f: Callable[..., Value] | type[Primitive] | Graph,
    *inputs: Any,
    atol: float | None = None,
    rtol: float | None = None,
    max_examples: int | None = None,
    derandomize: bool = False,
    strict: bool = False,
) -> Checks | None:
    """Check f's gradients three ways, at the inputs or at points hypothesis draws from strategies.

    f is a function of Values, a Primitive (checked through `apply`) or a Graph (at its own
    leaves when no input is given). Each input is a number, an array or a hypothesis strategy;
    with a strategy among them the checks run on every drawn example (a strategy that draws a
    tuple gives all the inputs) and nothing is returned. The checks: gradcheck (central
    differences on every element), the Taylor test (the remainder shrinks like h²) and
    find_wrong_gradients (each node's vjp against its own forward). A failure raises an
    AssertionError quoting the failing reports. Call it from a plain test, not inside @given.
    A point the numerical checks cannot resolve (their reports say "inconclusive", as at a zero
    gradient) passes unless `strict=True`. `atol` and `rtol` go to gradcheck (its defaults if
    None). `derandomize=True` draws the same examples every run (a notebook, a class's grading).
    """
    fn = _as_function(f)
    if isinstance(f, Graph) and not inputs:
        inputs = f.leaves
    if not inputs:
        raise ValueError("assert_gradients_correct needs inputs (numbers, arrays or strategies)")
    if not any(isinstance(x, st.SearchStrategy) for x in inputs):
        return _check_at(fn, inputs, atol, rtol, strict)
    drawn = _inputs_strategy(inputs)
    options: dict[str, Any] = {"deadline": None}
    if derandomize:
        options.update(derandomize=True, database=None)
    if max_examples is not None:
        options["max_examples"] = max_examples

    @settings(**options)
    @given(drawn)
    def check_every_example(point: tuple[Any, ...]) -> None:
        _check_at(fn, point, atol, rtol, strict)

    check_every_example()
    return None


def _as_function(f: Any) -> Callable[..., Value]:
    if isinstance(f, type) and issubclass(f, Primitive):
        primitive = f
        return lambda *values: primitive.apply(*values)
    if isinstance(f, Graph):
        return f.on_values
    if not callable(f):
        raise TypeError(
            f"assert_gradients_correct checks a function, a Primitive or a Graph, "
            f"got {type(f).__name__}"
        )
    checked: Callable[..., Value] = f
    return checked


def _inputs_strategy(inputs: Sequence[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    parts = [x if isinstance(x, st.SearchStrategy) else st.just(x) for x in inputs]
    if len(parts) == 1:
        return parts[0].map(lambda x: x if isinstance(x, tuple) else (x,))
    return st.tuples(*parts)


def _check_at(
    fn: Callable[..., Value],
    inputs: Sequence[Any],
    atol: float | None,
    rtol: float | None,
    strict: bool,
) -> Checks:
    # Points central differences cannot resolve (a zero gradient, a kink within the step) are
    # not failures of the gradient: only strict=True makes them fail.
    report = (
        gradcheck(fn, *inputs, strict=strict)
        if atol is None and rtol is None
        else gradcheck(
            fn,
            *inputs,
            atol=0.0 if atol is None else atol,
            rtol=1e-6 if rtol is None else rtol,
            strict=strict,
        )
    )
    taylor = taylor_test(fn, *inputs, strict=strict)
    values = [Value(x) for x in inputs]
    out = fn(*values)
    wrong = find_wrong_gradients(out) if isinstance(out, Value) else []
    if report and taylor and not wrong:
        return Checks(report, taylor, wrong)
    parts = [f"the gradients are wrong at {_describe(inputs)}:"]
    if not report:
        parts.append(str(report))
    if not taylor:
        parts.append(str(taylor))
    if wrong:
        parts.append("find_wrong_gradients:\n" + "\n".join(f"  {w}" for w in wrong))
    raise AssertionError("\n".join(parts))


def _describe(inputs: Sequence[Any]) -> str:
    with np.printoptions(precision=6, threshold=20):
        return ", ".join(f"input {i} = {np.asarray(x)!r}" for i, x in enumerate(inputs))
