"""autograd.compile: replays agree with the eager step, fall back safely, and read well."""

from __future__ import annotations

import threading
import warnings
from typing import Any

import numpy as np
import pytest
from catalogue import OPS, ValueBackend, cases
from hypothesis import example, given, settings
from hypothesis import strategies as st

import autograd
import nn
from autograd import Primitive, Value, no_grad, ops, value_and_grad
from autograd.blocks import TALLEST
from autograd.compile import CompileError, CompileWarning
from autograd.fastcode import TALL
from autograd.lowering import BIG
from autograd.testing import seed_for
from nn.compiled import compile_step


def close(a: Any, b: Any, rel: float = 1e-12) -> bool:
    """a equals b to rounding: within rel of b's largest magnitude, nan where b is nan."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    scale = float(np.max(np.abs(np.nan_to_num(b, posinf=0, neginf=0)), initial=0.0)) or 1.0
    # The floor allows for terms of order 1 that cancel, summed in another order: 1 − 1 is
    # 0 one way and 2.2e-16 the other (compile's own check has the same floor).
    return bool(np.allclose(a, b, rtol=rel, atol=max(rel * scale, 1e-14), equal_nan=True))


def same_answer(got: Any, want: Any) -> bool:
    """Two (value, gradients) answers agree to rounding, gradient by gradient."""
    (v1, g1), (v2, g2) = got, want
    if not isinstance(g2, tuple):
        g1, g2 = (g1,), (g2,)
    return close(v1, v2) and len(g1) == len(g2) and all(map(close, g1, g2))


@pytest.fixture(autouse=True)
def fallbacks_are_errors() -> Any:
    """A test that expects a replay fails if the step fell back to eager instead."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        yield


def replays(step: Any) -> bool:
    """True when every program the step keeps is a replay, not an eager fallback."""
    return all(type(e).__name__ == "_Replay" for e in step._cache.values())


# ---------------------------------------------------------------------------
# Every catalogue entry: first call, replay, fresh inputs of the traced shapes.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("op", "shapes"), cases(OPS))
def test_every_catalogue_entry_replays_as_eager(op: Any, shapes: Any) -> None:
    seed = seed_for(op.fn(ValueBackend, *map(Value, op.inputs(shapes))).shape, op.name)

    def f(*xs: Value) -> Value:
        return (op.fn(ValueBackend, *xs) * seed).sum()

    argnums = tuple(range(op.arity))
    step, eager = autograd.compile(f, argnums), value_and_grad(f, argnums)
    inputs = op.inputs(shapes)
    assert same_answer(step(*inputs), eager(*inputs))  # the trace
    assert same_answer(step(*inputs), eager(*inputs))  # the replay
    rng = np.random.default_rng(1)
    fresh = [x * rng.uniform(0.9, 1.1, np.shape(x)) for x in inputs]  # same domain, new numbers
    fresh = [float(x) if np.shape(x) == () else x for x in fresh]
    assert same_answer(step(*fresh), eager(*fresh))
    assert replays(step) and len(step._cache) == 1


# ---------------------------------------------------------------------------
# Random programs.
# ---------------------------------------------------------------------------


class Cube(Primitive):
    """a³; ∂/∂a = 3a²: a custom primitive, replayed through its own forward and vjp."""

    forward = staticmethod(lambda a: a**3)
    grads = (lambda g, out, a: g * 3.0 * a * a,)


class Blend(Primitive):
    """a·b + b with a static weight; ∂/∂a = b·w, ∂/∂b = (a + 1)·w."""

    forward = staticmethod(lambda a, b, w: (a * b + b) * w)
    grads = (lambda g, out, a, b, w: g * b * w, lambda g, out, a, b, w: g * (a + 1.0) * w)


M = np.array([[0.5, -1.0, 0.25], [1.5, 0.5, -0.5], [0.0, 1.0, 2.0]])

# name → (arity, fn(*operands)); every result broadcasts against the shapes in SHAPES.
STEPS: dict[str, tuple[int, Any]] = {
    "add": (2, lambda a, b: a + b),
    "sub": (2, lambda a, b: a - b),
    "mul": (2, lambda a, b: a * b),
    "div": (2, lambda a, b: a / (1.0 + b * b)),
    "pow": (2, lambda a, b: (1.0 + a * a) ** b.tanh()),
    "neg": (1, lambda a: -a),
    "square": (1, lambda a: a**2),
    "sqrt": (1, lambda a: (1.0 + a * a) ** 0.5),
    "exp": (1, lambda a: a.tanh().exp()),
    "log": (1, lambda a: (1.0 + a * a).log()),
    "tanh": (1, lambda a: a.tanh()),
    "sigmoid": (1, lambda a: a.sigmoid()),
    "relu": (1, lambda a: (a + 0.1234).relu()),
    "softplus": (1, lambda a: a.softplus()),
    "sum0": (1, lambda a: a.sum(0, True) if a.ndim == 2 else a.sum()),
    "mean-1": (1, lambda a: a.mean(-1, True) if a.ndim else a),
    "matmul": (1, lambda a: a @ M if a.shape[-1:] == (3,) else a),
    "index": (1, lambda a: a[..., [2, 0, 2]] if a.shape[-1:] == (3,) else a),
    "flip": (1, lambda a: a[..., ::-1] if a.ndim else a),
    "T": (1, lambda a: a.T.T if a.ndim == 2 else a),
    "reshape": (1, lambda a: a.reshape(-1).reshape(a.shape) if a.ndim else a),
    "cube": (1, lambda a: Cube.apply(a.tanh())),
    "blend": (2, lambda a, b: Blend.apply(a.tanh(), b.tanh(), 0.5)),
    "no_grad": (1, lambda a: a * _no_grad_scale(a)),
    "constant": (1, lambda a: a * np.array([1.0, -2.0, 0.5]) if a.shape[-1:] == (3,) else a),
    "cast": (1, lambda a: ops.cast(ops.cast(a, np.float32), np.float64) * a),
    "broadcast": (1, lambda a: ops.broadcast_to(a, (2, 3)) if a.ndim <= 2 and _fits(a) else a),
}


def _fits(a: Value) -> bool:
    try:
        return np.broadcast_shapes(a.shape, (2, 3)) == (2, 3)
    except ValueError:
        return False


SHAPES = ((), (3,), (1, 3), (2, 1), (2, 3))


def _no_grad_scale(a: Value) -> Value:
    with no_grad():
        return a.tanh() + 2.0  # depends on a, but no gradient flows through it


Program = tuple[list[np.ndarray], list[tuple[str, tuple[int, ...]]]]


def _program(draw: Any, shapes: list[Any], names: list[str], most: int) -> Program:
    """Inputs of these shapes, uniform in ±1.5, and 1 to `most` steps over any earlier node."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    inputs = [rng.uniform(-1.5, 1.5, s) for s in shapes]
    steps = []
    for k in range(draw(st.integers(1, most))):
        name = draw(st.sampled_from(names))
        args = tuple(draw(st.integers(0, len(shapes) + k - 1)) for _ in range(STEPS[name][0]))
        steps.append((name, args))
    return inputs, steps


@st.composite
def programs(draw: Any) -> Program:
    """1–3 array inputs of broadcastable shapes and 1–8 steps over any earlier node."""
    n = draw(st.integers(1, 3))
    return _program(draw, [draw(st.sampled_from(SHAPES)) for _ in range(n)], sorted(STEPS), 8)


def run_program(steps: list[tuple[str, tuple[int, ...]]], *xs: Value) -> Value:
    nodes = list(xs)
    for name, args in steps:
        nodes.append(STEPS[name][1](*(nodes[i] for i in args)))
    total = nodes[-1].sum()
    for k, node in enumerate(nodes[len(xs) : -1]):
        total = total + (0.5 - k % 3) * node.sum()
    return total


def replayed_as_eager(
    steps: Any, inputs: list[np.ndarray], seed: int
) -> tuple[Any, Any, list[Any]]:
    """Compile the program and check it against eager on the traced and on fresh inputs."""

    def f(*xs: Value) -> Value:
        return run_program(steps, *xs)

    argnums = tuple(range(len(inputs)))
    step, eager = autograd.compile(f, argnums), value_and_grad(f, argnums)
    assert same_answer(step(*inputs), eager(*inputs))
    fresh = [np.random.default_rng(seed).uniform(-1.5, 1.5, x.shape) for x in inputs]
    assert same_answer(step(*fresh), eager(*fresh))
    assert replays(step)
    return step, eager, fresh


@given(programs())
@example(([np.ones((2, 3))], [("no_grad", (0,)), ("mul", (1, 0))]))
@example(([np.ones(3), np.ones((2, 1))], [("blend", (0, 1)), ("index", (2,))]))
@example(([np.ones((1, 3)), np.ones((2, 1))], [("add", (0, 1))]))
@example(([np.array(0.41088506)], [("log", (0,)), ("sub", (0, 0)), ("log", (0,)), ("log", (0,))]))
def test_random_programs_replay_as_eager_on_fresh_inputs(program: Any) -> None:
    inputs, steps = program
    step, eager, fresh = replayed_as_eager(steps, inputs, seed=7)
    # New shapes trace again: a leading axis of 2 on every array.
    tall = [np.stack([x, x + 0.5]) if x.ndim else x for x in fresh]
    try:
        want = eager(*tall)
    except ValueError:  # the new shapes do not broadcast (T of a matrix, now of rank 3)
        return
    assert same_answer(step(*tall), want)
    assert same_answer(step(*fresh), eager(*fresh))  # the first program is still kept
    assert replays(step) and len(step._cache) == (2 if any(x.ndim for x in inputs) else 1)


TALL_SHAPES = ((), (3,), (1, 3), (TALL, 1), (TALL, 3))
LAYOUT_STEPS = sorted(
    set(STEPS) - {"T", "reshape", "index", "flip", "cast", "broadcast"}
)  # these keep row-major


@st.composite
def tall_programs(draw: Any) -> Program:
    """Programs over tall matrices (TALL rows), which the layout pass stores transposed."""
    shapes = [
        (TALL, 3),
        *(draw(st.sampled_from(TALL_SHAPES)) for _ in range(draw(st.integers(0, 2)))),
    ]
    return _program(draw, shapes, LAYOUT_STEPS, 6)


@given(tall_programs())
@example(
    ([np.ones((TALL, 3)), np.ones((1, 3))], [("matmul", (0,)), ("sum0", (2,)), ("mul", (3, 1))])
)
def test_tall_programs_stored_transposed_replay_as_eager(program: Any) -> None:
    inputs, steps = program
    replayed_as_eager(steps, inputs, seed=3)


BIG_SHAPES = ((), (3,), (1, 3), (BIG, 1), (BIG, 3), (3, BIG), (BIG,))


@st.composite
def big_programs(draw: Any) -> Program:
    """Programs over large arrays, which the program keeps in buffers from call to call."""
    first = draw(st.sampled_from([(BIG, 3), (3, BIG), (BIG,)]))
    shapes = [first, *(draw(st.sampled_from(BIG_SHAPES)) for _ in range(draw(st.integers(0, 2))))]
    return _program(draw, shapes, sorted(STEPS), 7)


@given(big_programs())
@example(
    ([np.ones((BIG, 3)), np.ones((1, 3))], [("mul", (0, 1)), ("sigmoid", (2,)), ("sum0", (3,))])
)
@example(([np.ones(BIG), np.ones(BIG)], [("mul", (0, 1)), ("add", (2, 0)), ("mul", (3, 2))]))
# A sum's gradient spread over x + x: g + g must stay an array, not the number g + g.
@example(([np.ones((BIG, 3)), np.array(-1.5)], [("add", (0, 0)), ("T", (1,))]))
def test_programs_over_large_arrays_replay_as_eager_call_after_call(program: Any) -> None:
    inputs, steps = program
    try:
        step, eager, fresh = replayed_as_eager(steps, inputs, seed=5)
    except ValueError:  # shapes that do not broadcast: eager raises too
        return
    kept = step(*fresh)  # a later call must not write into the arrays an earlier one gave
    copies = (np.copy(kept[0]), tuple(np.copy(g) for g in kept[1]))
    assert same_answer(step(*inputs), eager(*inputs))
    assert same_answer(kept, copies)


def test_large_float32_arrays_agree_with_eager_to_float32_rounding() -> None:
    f = lambda W, X: ((X @ W).sigmoid() * X[:, :1] - (X @ W).mean(axis=0)).tanh().sum()  # noqa: E731
    rng = np.random.default_rng(1)
    W, X = rng.normal(size=(3, 2)).astype(np.float32), rng.normal(size=(BIG, 3)).astype(np.float32)
    step = autograd.compile(f, (0, 1))
    for _ in range(3):
        (v, g), (u, h) = step(W, X), value_and_grad(f, (0, 1))(W, X)
        assert close(v, u, 1e-5) and all(close(a, b, 1e-5) for a, b in zip(g, h, strict=True))
        assert all(a.dtype == np.float32 for a in g)
        X = X * np.float32(0.5)
    assert replays(step)


def test_a_float32_step_over_a_tall_batch_sums_as_eagerly_and_so_compiles() -> None:
    # Sums over 2·10⁴ rows as matrix products (or by stored columns) round apart from numpy's
    # sums in float32 by more than the check allows: such a step fell back to eager.
    def f(W1: Any, b1: Any, W2: Any, X: Any) -> Value:
        h = (Value(X) @ W1 + b1).tanh()
        return ((h @ W2).sigmoid().sum(axis=0) * 2.0).sum() + (W1 * W1).mean()

    rng = np.random.default_rng(3)
    X = rng.normal(size=(20 * TALL, 2)).astype(np.float32)
    params = [rng.normal(size=s).astype(np.float32) for s in ((2, 8), (8,), (8, 1))]
    step = autograd.compile(f, argnums=(0, 1, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback to eager
        for _ in range(2):
            (v, g), (u, h) = step(*params, X), value_and_grad(f, (0, 1, 2))(*params, X)
            assert v == u and all(np.array_equal(a, b) for a, b in zip(g, h, strict=True))
    assert replays(step)


def test_large_arrays_are_kept_in_buffers_with_the_same_numbers() -> None:
    net, X, y = lesson(n=2 * BIG)
    step = compile_step(net)
    for _ in range(3):  # the trace, then two replays reusing the buffers
        net.zero_grad()
        assert_the_lessons_answer(net, X, y, step(X, y))
    assert "out=" in step.run_source and "out=" not in step.source
    assert "z1 = w11 * x1 + w21 * x2 + b1" in step.source
    assert replays(step.compiled)


VERY_TALL = TALLEST + 5  # not a whole number of blocks


class Centre(Primitive):
    """a − mean(a): each number depends on all of them, so it cannot be done by blocks."""

    forward = staticmethod(lambda a: a - np.mean(a))
    grads = (lambda g, out, a: g - np.mean(g),)


@st.composite
def very_tall_programs(draw: Any) -> Program:
    """Programs over matrices so tall that the step runs a block of columns at a time."""
    shapes = [(VERY_TALL, 2), *(draw(st.sampled_from([(), (2,), (1, 2), (VERY_TALL, 1)])),)]
    return _program(draw, shapes, LAYOUT_STEPS, 6)


@settings(max_examples=12)
@given(very_tall_programs())
@example(([np.ones((VERY_TALL, 2)), np.ones(2)], [("mul", (0, 1)), ("sigmoid", (2,))]))
def test_very_tall_programs_replay_as_eager(program: Any) -> None:
    inputs, steps = program

    def f(*xs: Any) -> Value:
        return run_program(steps, *(x if isinstance(x, Value) else Value(x) for x in xs))

    # The tall matrix is data (no gradient for it, as for a batch), the rest are parameters.
    step, eager = autograd.compile(f, (1,)), value_and_grad(f, (1,))
    assert same_answer(step(*inputs), eager(*inputs))
    fresh = [np.random.default_rng(11).uniform(-1.5, 1.5, x.shape) for x in inputs]
    assert same_answer(step(*fresh), eager(*fresh)) and replays(step)
    if steps == [("mul", (0, 1)), ("sigmoid", (2,))]:
        assert "for start in range(0, " in step.run_source


def test_a_very_tall_step_runs_a_block_of_columns_at_a_time() -> None:
    def loss(W1: Value, b1: Value, W2: Value, X: Value, y: Value) -> Value:
        a = (X @ W1 + b1).sigmoid()
        y_hat = (a @ W2).sigmoid()
        return -(y_hat.log() * y + (1 - y_hat).log() * (1 - y)).mean()

    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(VERY_TALL, 2)), rng.integers(0, 2, (VERY_TALL, 1)).astype(float)
    params = [rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=(3, 1))]
    step, eager = autograd.compile(loss, (0, 1, 2)), value_and_grad(loss, (0, 1, 2))
    for _ in range(3):
        assert same_answer(step(*params, X, y), eager(*params, X, y))
        params[0] = params[0] * 0.5
    assert "for start in range(0, " in step.run_source and replays(step)
    # Not by blocks: a line that reads a sum over the columns (x minus its mean), a
    # gradient that is a column array (∂/∂X), a primitive the blocks cannot see into.
    W = np.array([[0.5], [-1.0]])
    for f, argnums in [
        (lambda W, X: ((X @ W) - (X @ W).mean()).tanh().sum(), 0),
        (lambda W, X: ((X @ W).tanh() * 2.0).sum(), (0, 1)),
        (lambda W, X: (Centre.apply(X @ W).tanh() * 3.0).sum(), 0),
    ]:
        tall = autograd.compile(f, argnums)
        for _ in range(2):
            assert same_answer(tall(W, X), value_and_grad(f, argnums)(W, X))
        assert "for start" not in tall.run_source
    blocked = autograd.compile(lambda W, X: ((X @ W).tanh() * 2.0).sum())
    assert same_answer(
        blocked(W, X), value_and_grad(lambda W, X: ((X @ W).tanh() * 2.0).sum())(W, X)
    )
    assert "for start" in blocked.run_source


def test_the_layout_pass_stores_tall_matrices_by_columns() -> None:
    def loss(W1: Value, b1: Value, W2: Value, X: Value, y: Value) -> Value:
        a = (X @ W1 + b1).sigmoid()
        return ((a @ W2).sigmoid() - y).__pow__(2.0).sum(axis=0).mean()

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(TALL, 2)), rng.integers(0, 2, (TALL, 1)).astype(float)
    params = [rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=(3, 1))]
    step, eager = autograd.compile(loss, (0, 1, 2, 3)), value_and_grad(loss, (0, 1, 2, 3))
    for _ in range(2):
        assert same_answer(step(*params, X, y), eager(*params, X, y))
        X = X + 0.5
    # X is read by @ alone, which takes its transpose as it is: no copy of its columns
    assert "X = X.T" in step.run_source and "W1.T @ X" in step.run_source
    assert "b1[:, None]" in step.run_source
    assert "t1 = X @ W1" in step.source and ".T" not in step.source.split("# backward")[0]
    short = autograd.compile(loss, (0, 1, 2, 3))
    short(*params, X[:100], y[:100])
    assert "ascontiguousarray" not in short.source  # short matrices stay as they are


# ---------------------------------------------------------------------------
# The lesson's network: gradients, closed forms, and source that reads as the slide.
# ---------------------------------------------------------------------------


def lesson(n: int = 50, seed: int = 0) -> tuple[nn.TwoLayerNetwork, np.ndarray, np.ndarray]:
    X, y = nn.datasets.alien_sentiment(n=n, seed=seed)
    return nn.TwoLayerNetwork(seed=seed), X, y


def assert_the_lessons_answer(net: nn.TwoLayerNetwork, X: Any, y: Any, loss: Any) -> None:
    """Each .grad is its closed form, and the loss is the eager log loss at these weights."""
    want = nn.analytic_gradients(net, X, y)
    for name, p in net.named_parameters():
        assert close(p.grad, want[name]), name
    with no_grad():
        assert close(loss, nn.log_loss(net(X), y).data)


def test_compile_step_gives_the_closed_forms_and_sees_each_update() -> None:
    net, X, y = lesson()
    step = compile_step(net)
    opt = nn.SGD(net.parameters(), lr=0.5)
    for _ in range(4):  # the trace, then replays after each update
        opt.zero_grad()
        assert_the_lessons_answer(net, X, y, step(X, y))
        opt.step()
    assert replays(step.compiled)


def test_compile_step_accumulates_into_grad_as_backward_does() -> None:
    net, X, y = lesson()
    step = compile_step(net)
    step(X, y)
    step(X, y)
    want = nn.analytic_gradients(net, X, y)
    assert close(net.w11.grad, 2 * want["w11"])


def test_compile_step_checks_its_data_on_every_call() -> None:
    net, X, y = lesson()
    step = compile_step(net)
    step(X, y)
    bad = y.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        step(X, bad)
    with pytest.raises(ValueError, match="2-D"):
        step(X[0], y[:1])


def test_tall_arithmetic_is_done_in_place_with_the_same_numbers() -> None:
    net, X, y = lesson(n=TALL)
    step = compile_step(net)
    step(X, y)
    assert "z1 = w11 * x1 + w21 * x2 + b1" in step.source  # the learner's reads as the slide
    lines = [line.strip() for line in step.run_source.splitlines()]
    for line in ("z1 = w11 * x1", "z1 += w21 * x2", "z1 += b1", "dL_dz1 = 1.0 - a1"):
        assert line in lines
    assert (
        lines.index("dL_dz1 *= a1")
        < lines.index("dL_dz1 *= dL_da1")
        < lines.index("dL_dw11 = dL_dz1 @ x1")
    )
    for _ in range(2):  # the replay, twice: no array of one call is written by the next
        net.zero_grad()
        assert_the_lessons_answer(net, X, y, step(X, y))
    assert replays(step.compiled)


def program_namespace(step: Any, **inputs: Any) -> dict[str, Any]:
    """Run the body of a step's program line by line and keep every name it assigned."""
    (entry,) = step.compiled._cache.values()
    space = dict(entry.program.function.__globals__, **inputs)
    lines = step.source.splitlines()[1:]
    exec("\n".join(s.strip() for s in lines if not s.strip().startswith("return")), space)
    return space


@pytest.mark.parametrize("rows", [40, 2 * BIG])  # 2·BIG: the source is not what runs
def test_the_generated_gradients_are_the_nine_closed_forms(rows: int) -> None:
    net, X, y = lesson(n=rows)
    step = compile_step(net)
    step(X, y)
    params = {name: p.data for name, p in net.named_parameters()}
    run = program_namespace(step, X=X, y=y, **params)
    x1, x2, n = X[:, 0], X[:, 1], len(y)
    a1, a2, y_hat = run["a1"], run["a2"], run["y_hat"]
    assert close(y_hat, 1 / (1 + np.exp(-run["z"])))
    d = (y_hat - y) / n  # ∂L/∂z, the mean's 1/n included
    d1 = d * params["w1"] * a1 * (1 - a1)  # ∂L/∂z1
    d2 = d * params["w2"] * a2 * (1 - a2)  # ∂L/∂z2
    closed = {
        "L": np.mean(-y * np.log(y_hat) - (1 - y) * np.log(1 - y_hat)),
        "dL_dy_hat": (y_hat - y) / (y_hat * (1 - y_hat)) / n,
        "dL_dz": d,
        "dL_dz1": d1,
        "dL_dz2": d2,
        "dL_dw1": d @ a1,
        "dL_dw2": d @ a2,
        "dL_db": d.sum(),
        "dL_dw11": d1 @ x1,
        "dL_dw21": d1 @ x2,
        "dL_db1": d1.sum(),
        "dL_dw12": d2 @ x1,
        "dL_dw22": d2 @ x2,
        "dL_db2": d2.sum(),
    }
    for name, value in closed.items():
        assert close(run[name], value), name


def test_the_source_reads_as_the_lesson() -> None:
    net, X, y = lesson()
    step = compile_step(net)
    step(X, y)
    lines = [line.strip() for line in step.source.splitlines()]
    forward, backward = lines[: lines.index("# backward")], lines[lines.index("# backward") :]
    for line in (
        "z1 = w11 * x1 + w21 * x2 + b1",
        "a1 = sigmoid(z1)",
        "z2 = w12 * x1 + w22 * x2 + b2",
        "z = w1 * a1 + w2 * a2 + b",
        "y_hat = sigmoid(z)",
        "L = LogLoss.of_sigmoid(y_hat, y)",  # the fused node on ŷ, checked inside the clip
    ):
        assert line in forward
    for line in (
        "dL_dy_hat = (y_hat - y) / (y_hat * (1.0 - y_hat)) * (dL_dL / np.size(y_hat))",
        "dL_dz = dL_dy_hat * (y_hat * (1.0 - y_hat))",  # the product is (ŷ − y)/n
        "dL_dw1 = dL_dz @ a1",
        "dL_da1 = dL_dz * w1",
        "dL_dz1 = dL_da1 * (a1 * (1.0 - a1))",
        "dL_dw11 = dL_dz1 @ x1",
        "dL_db1 = dL_dz1.sum()",
    ):
        assert line in backward
    # The chain rule's order: each gradient is written after the ones it is made from.
    assert backward.index("dL_dz1 = dL_da1 * (a1 * (1.0 - a1))") > backward.index(
        "dL_da1 = dL_dz * w1"
    )
    assert not any("dL_dx" in line or "dL_dy =" in line for line in lines)  # data: no gradient


def test_a_compiled_lesson_step_runs_eagerly_where_sigmoid_reaches_the_clip() -> None:
    """Traced inside the clip, replayed where σ(z) rounds to 1: ∂L/∂b is still mean(ŷ − y)."""
    warnings.simplefilter("error", CompileWarning)
    net, X, y = lesson()
    step = compile_step(net)
    step(X, y)
    assert "LogLoss.of_sigmoid" in step.source
    with no_grad():
        net.w1.data, net.w2.data, net.b.data = 0.0, 0.0, 50.0  # ŷ = σ(50) = 1.0 exactly
    for p in net.parameters():
        p.grad = None
    loss = step(X, y)
    assert close(net.b.grad, np.mean(1.0 - y)) and net.b.grad > 0.1  # not 0
    assert loss == pytest.approx(50.0 * np.mean(1.0 - y), rel=1e-12)
    assert replays(step.compiled)


def test_a_lesson_step_traced_on_the_clip_compiles_the_node_on_z() -> None:
    net, X, y = lesson()
    with no_grad():
        net.b.data = 60.0
        net.w1.data = net.w2.data = 0.0
    step = compile_step(net)
    step(X, y)
    assert "LogLossOfLogit.forward(z, y)" in step.source
    assert close(net.b.grad, np.mean(1.0 - y))


def test_a_gradient_along_two_paths_says_they_add_up() -> None:
    net, X, y = lesson(n=10)
    step = autograd.compile(lambda X: nn.losses.LogLoss.apply(net(X), y))
    value, dX = step(X)
    assert same_answer((value, dX), value_and_grad(lambda X: nn.losses.LogLoss.apply(net(X), y))(X))
    (line,) = [s for s in step.source.splitlines() if s.strip().startswith("dL_dx1 =")]
    assert "dL_dz1 * w11" in line and "dL_dz2 * w12" in line
    assert "# x1 reaches L along 2 paths (through z1, z2): they add up" in line


# ---------------------------------------------------------------------------
# Safe fallbacks: each one warns once and gives the eager answer.
# ---------------------------------------------------------------------------


def branch_on_data(w: Value) -> Value:
    return (w * 2.0).sum() if w.sum().data > 0 else (w * -3.0).sum()


def branch_on_float(w: Value) -> Value:
    return w.exp().sum() if float(w.sum()) > 0 else w.sum()


def branch_on_item(w: Value) -> Value:
    return w.tanh().sum() * (1.0 if w.sum().item() > 0 else -1.0)


def numpy_on_data(w: Value) -> Value:
    return (w * np.exp(w.data)).sum()


def numpy_on_numbers(w: Value) -> Value:
    return (w * w.numpy()).sum()


def numpy_on_an_argument(w: Value, X: Any) -> Value:
    return (w * np.log1p(X)).sum()  # X is data; numpy cannot see through a Value


class NotAPrimitive:
    """An op with a vjp that the engine can walk back through, but not a Primitive."""

    grads = (lambda g, out, a: 2.0 * g,)


def unknown_op(w: Value) -> Value:
    doubled = Value._node(np.zeros(2), NotAPrimitive, (w,))  # made as no apply would make it
    return doubled.sum() + w.sum()


@pytest.mark.parametrize(
    ("f", "why"),
    [
        (branch_on_data, r"\.data at test_compile\.py"),
        (branch_on_float, r"float\(\) at test_compile\.py"),
        (branch_on_item, r"\.item\(\) at test_compile\.py"),
        (numpy_on_data, r"\.data at test_compile\.py"),
        (numpy_on_numbers, r"\.numpy\(\) at test_compile\.py"),
        (numpy_on_an_argument, "applies numpy to a data argument"),
        (unknown_op, "not a Primitive"),
    ],
)
def test_each_fallback_warns_once_and_gives_the_eager_answer(f: Any, why: str) -> None:
    warnings.simplefilter("always", CompileWarning)
    args = [np.array([0.5, -0.25])] + ([np.array([1.0, 2.0])] if f is numpy_on_an_argument else [])
    step = autograd.compile(f)
    eager = value_and_grad(f)
    with pytest.warns(CompileWarning, match=why) as caught:
        first = step(*args)
    assert len(caught) == 1 and "runs eagerly" in str(caught[0].message)
    assert same_answer(first, eager(*args))
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)  # once: the later calls are quiet
        for w in ([0.5, -0.25], [-2.0, 0.5], [1.0, 1.0]):
            args[0] = np.array(w)
            assert same_answer(step(*args), eager(*args))


class Drifting(Primitive):
    """A forward that is different each time it runs: no program can agree with it."""

    calls = 0
    forward = staticmethod(lambda a: a * Drifting.tick())
    grads = (lambda g, out, a: g,)

    @staticmethod
    def tick() -> float:
        Drifting.calls += 1
        return float(Drifting.calls)


def test_a_program_that_disagrees_with_eager_falls_back_or_raises_with_check() -> None:
    warnings.simplefilter("always", CompileWarning)

    def f(w: Value) -> Value:
        return Drifting.apply(w).sum()

    with pytest.warns(CompileWarning, match="disagrees with the eager step"):
        autograd.compile(f)(np.ones(2))
    with pytest.raises(CompileError, match="disagrees"):
        autograd.compile(f, check=True)(np.ones(2))


def test_check_compares_the_first_replay_with_eager() -> None:
    f = lambda w: (w.tanh() * w).sum()  # noqa: E731
    step = autograd.compile(f, check=True)
    for w in ([0.5, 1.0], [2.0, -1.0], [3.0, 0.0]):
        assert same_answer(step(np.array(w)), value_and_grad(f)(np.array(w)))
    assert step._cache[next(iter(step._cache))].checked


# ---------------------------------------------------------------------------
# Live parameters, shapes, grad mode, threads, odd numbers.
# ---------------------------------------------------------------------------


def test_closure_parameters_are_read_live() -> None:
    w = Value(np.array([0.5, -1.0]), name="w")
    b = Value(0.25, name="b")
    f = lambda X: ((X @ w + b).sigmoid() ** 2).mean()  # noqa: E731
    step = autograd.compile(f)
    X = np.random.default_rng(0).normal(size=(6, 2))
    for k in range(4):
        assert same_answer(step(X), value_and_grad(f)(X))
        w.data = w.data * 0.5 + k  # an optimizer's update, in place of the array
        b.data += 1.0
    w.data = np.array([0.5, -1.0, 2.0])  # a new shape: the guard traces again
    assert same_answer(step(np.ones((6, 3))), value_and_grad(f)(np.ones((6, 3))))
    assert "def step(X, w, b)" in step.source or "def step(X, b, w)" in step.source


def test_new_shapes_retrace_into_a_bounded_cache() -> None:
    f = lambda w, X: ((X * w).tanh()).sum()  # noqa: E731
    step = autograd.compile(f, cache_size=2)
    w = np.array([0.5, 1.5])
    for n in (1, 2, 3, 1):
        X = np.arange(2.0 * n).reshape(n, 2)
        assert same_answer(step(w, X), value_and_grad(f)(w, X))
    assert len(step._cache) == 2


def test_grad_mode_is_part_of_the_key() -> None:
    f = lambda w: (w * w).sum()  # noqa: E731
    step = autograd.compile(f)
    w = np.array([1.0, 2.0])
    assert same_answer(step(w), value_and_grad(f)(w))
    with no_grad():
        assert same_answer(step(w), value_and_grad(f)(w))  # zeros, as eagerly
    assert len(step._cache) == 2


@pytest.mark.parametrize("rows", [5, TALL, BIG, TALLEST + 5])
def test_two_threads_get_their_own_answers(rows: int) -> None:
    f = lambda w, X: ((X @ w).tanh() * (X @ w)).mean()  # noqa: E731  (by blocks when very tall)
    step = autograd.compile(f)
    rng = np.random.default_rng(0)
    jobs = [(rng.normal(size=(3, 2)), rng.normal(size=(n, 3))) for n in (rows, rows, 7, 7)]
    wanted = [value_and_grad(f)(*job) for job in jobs]
    errors: list[str] = []

    def work(k: int) -> None:
        for _ in range(200 if rows < TALLEST else 10):
            for j in (k, k + 2):
                if not same_answer(step(*jobs[j]), wanted[j]):
                    errors.append(f"job {j}")

    threads = [threading.Thread(target=work, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and replays(step)
    if rows > TALLEST:  # the last program traced (7 rows) is not the one that ran by blocks
        very_tall = autograd.compile(f)
        very_tall(*jobs[0])
        assert "for start" in very_tall.run_source and "_all" in very_tall.run_source


@pytest.mark.parametrize(
    "x",
    [
        np.array([0.0, 0.0]),
        np.array([np.nan, 1.0]),
        np.array([1e300, -1e300]),
        np.array([0.5, 2.0], dtype=np.float32),
        np.zeros((0, 2)),
    ],
    ids=["zeros", "nan", "huge", "float32", "empty"],
)
def test_odd_numbers_agree_with_eager(x: np.ndarray) -> None:
    f = lambda x: (x.tanh() * x + x.sigmoid()).sum()  # noqa: E731
    step = autograd.compile(f)
    with np.errstate(all="ignore"):
        first, second, want = step(x), step(x), value_and_grad(f)(x)
    assert same_answer(first, want) and same_answer(second, want)
    assert np.result_type(second[1]) == np.result_type(want[1])


def test_errors_and_nesting() -> None:
    with pytest.raises(ValueError, match="scalar output"):
        autograd.compile(lambda x: x * 2.0)(np.ones(3))
    with pytest.raises(TypeError, match="must return a Value"):
        autograd.compile(lambda x: 3.0)(1.0)
    with pytest.raises(ValueError, match="nothing is compiled yet"):
        autograd.compile(lambda x: x).source  # noqa: B018
    step = autograd.compile(lambda x: x**3)
    assert autograd.grad(lambda x: step(x)[1])(2.0) == 12.0  # inside grad: eager, recorded
    assert step(2.0) == (8.0, 12.0) and step(3.0) == (27.0, 27.0)


def test_non_number_arguments_are_part_of_the_key() -> None:
    f = lambda w, k, mode: (w**k).sum() if mode == "power" else w.sum()  # noqa: E731
    step = autograd.compile(f)
    w = np.array([1.0, 2.0])
    for k, mode in ((2, "power"), (3, "power"), (2, "sum"), (2, "power")):
        assert same_answer(step(w, k, mode), value_and_grad(f)(w, k, mode))
    assert len(step._cache) == 3 and replays(step)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_mean_divides_its_numpy_scalar_by_n_directly(dtype: Any) -> None:
    f = lambda w: (w * w).mean() / 0.5  # noqa: E731  (÷ 0.5 may overflow: it keeps divide)
    step = autograd.compile(f)
    w = np.array([1.0, 2.0, 4.0], dtype=dtype)
    step(w)
    got, want = step(w), value_and_grad(f)(w)
    assert same_answer(got, want) and np.asarray(got[0]).dtype == np.asarray(want[0]).dtype
    assert replays(step)
    assert " / 3.0" in step.source and "divide(t3, 0.5)" in step.source


@pytest.mark.parametrize("rows", [3, TALL, BIG])
def test_returned_gradients_are_the_callers_own_arrays(rows: int) -> None:
    # Both gradients of (a + b).exp().sum() are one array in the program (dL_da = dL_db = dL_dt1),
    # and dL_dW of a Sum over a broadcast may be a read-only view: each comes back a new,
    # writable array that no other result and no later call shares.
    # With BIG rows dL_dt1 = exp(a + b) is one of the program's buffers, reused next call.
    f = lambda a, b, W: (a + b).exp().sum() + (W * 2.0).sum()  # noqa: E731
    step = autograd.compile(f, argnums=(0, 1, 2))
    args = np.ones(rows), np.ones(rows), np.ones((rows, 2))
    for _ in range(2):
        first = step(*args)[1]
    again = step(*args)[1]
    assert replays(step)
    for i, g in enumerate(first):
        assert g.flags.writeable and g.base is None
        assert not any(np.shares_memory(g, h) for h in first[i + 1 :] + again)
        g += 1.0  # the caller's to change: the other results stay as they were
    assert same_answer(step(*args), value_and_grad(f, argnums=(0, 1, 2))(*args))


# ---------------------------------------------------------------------------
# nn.fit(compile=True) and `valuegrad code`.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [None, 16])
def test_fit_with_compile_learns_as_fit_does(batch_size: int | None) -> None:
    X, y = nn.datasets.alien_sentiment(n=60, seed=1)
    histories = []
    for compiled in (False, True):
        net = nn.TwoLayerNetwork(seed=2)
        h = nn.fit(
            net, X, y, epochs=15, batch_size=batch_size, seed=3, progress=False, compile=compiled
        )
        histories.append((h.loss, [p.data for p in net.parameters()], h.accuracy))
    (loss_eager, p_eager, acc_eager), (loss_compiled, p_compiled, acc_compiled) = histories
    assert close(loss_compiled, loss_eager, 1e-9) and close(p_compiled, p_eager, 1e-9)
    assert acc_compiled == acc_eager and len(loss_compiled) == 15


def test_fit_with_compile_and_a_callback_that_changes_the_model_learns_as_fit_does() -> None:
    # The callback's change must be seen by the next epoch's step (so fit evaluates as usual).
    X, y = nn.datasets.alien_sentiment(n=60, seed=1)
    runs = []
    for compiled in (False, True):
        net = nn.TwoLayerNetwork(seed=2)
        seen: list[float] = []

        def nudge(epoch: int, h: Any, net: Any = net, seen: list[float] = seen) -> None:
            seen.append(net.w11.data)
            net.w11.data = net.w11.data * 0.5

        h = nn.fit(net, X, y, epochs=6, progress=False, compile=compiled, callback=nudge)
        runs.append((h.loss, h.accuracy, seen))
    assert close(runs[1][0], runs[0][0], 1e-9) and runs[1][1] == runs[0][1]
    assert close(runs[1][2], runs[0][2], 1e-9)


def fit_both_ways(loss: str, out: str) -> tuple[list[float], list[float]]:
    X, y = nn.datasets.moons(n=64, seed=0)
    results = []
    for compiled in (False, True):
        mlp = nn.MLP(2, [8, 1], output_activation=out, seed=0)
        h = nn.fit(mlp, X, y, loss=loss, epochs=5, progress=False, compile=compiled)
        results.append(h.loss)
    return results[0], results[1]


@pytest.mark.parametrize(
    ("loss", "out"),
    [("mse", "sigmoid"), ("hinge", "identity"), ("log_loss_with_logits", "identity")],
)
def test_fit_with_compile_trains_an_mlp(loss: str, out: str) -> None:
    eager, compiled = fit_both_ways(loss, out)
    assert close(compiled, eager, 1e-9)


def test_a_loss_that_checks_predictions_by_reading_them_runs_eagerly() -> None:
    warnings.simplefilter("always", CompileWarning)
    # log_loss reads ŷ to check it lies in [0, 1] (the MLP's ŷ is reshaped, not σ's own output).
    with pytest.warns(CompileWarning, match=r"\.data at losses\.py.*log_loss"):
        eager, compiled = fit_both_ways("log_loss", "sigmoid")
    assert close(compiled, eager, 1e-12)


def test_valuegrad_code_prints_the_lesson_step(tmp_path: Any) -> None:
    from tests.test_cli import run

    r = run("code", "--rows", "5", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "z1 = w11 * x1 + w21 * x2 + b1" in r.stdout and "dL_dw11 = dL_dz1 @ x1" in r.stdout
    compile(r.stdout, "valuegrad code", "exec")  # it is Python
    r = run("code", "--rows", "0", cwd=tmp_path)
    assert r.returncode == 2 and "--rows" in r.stderr and "Traceback" not in r.stderr
    r = run("code", "--rows", str(2 * BIG), "--as-run", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "X = np.ascontiguousarray(X.T)" in r.stdout and "out=" in r.stdout
    compile(r.stdout, "valuegrad code --as-run", "exec")
    r = run("code", "--seed", "-1", cwd=tmp_path)  # the CLI's shared --seed, and its check
    assert r.returncode == 2 and "--seed" in r.stderr and "Traceback" not in r.stderr


def test_a_value_made_from_a_traced_values_numbers_is_a_copy_without_gradient() -> None:
    def f(w: Value, X: Value) -> Value:
        a = (Value(X) @ w).sigmoid()  # as in the benchmarks' tensor step
        return (a * w.detach().sum() + Value(a) * a).mean()

    step, eager = autograd.compile(f), value_and_grad(f)
    rng = np.random.default_rng(0)
    w = rng.normal(size=3)
    for X in (rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.normal(size=(4, 3))):
        assert same_answer(step(w, X), eager(w, X))
    assert replays(step) and "no gradient flows back" in step.source


def test_the_readme_shows_lines_of_the_real_program() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Compiling a step")[1].split("\n## ")[0]
    shown = section.split("```text\n")[1].split("```")[0].splitlines()
    net, X, y = lesson(n=100)
    step = compile_step(net)
    step(X, y)
    assert len(shown) == 10 and all(line in step.source.splitlines() for line in shown)


def test_compile_step_sees_a_parameter_replaced_by_a_new_value() -> None:
    net, X, y = lesson()
    step = compile_step(net)
    step(X, y)
    net.w11 = Value(0.75, "w11")  # a new Value, not new data in the old one
    net.red.w1 = net.w11  # red names its weights by position
    net.zero_grad()
    step(X, y)
    want = nn.analytic_gradients(net, X, y)
    assert all(close(p.grad, want[name]) for name, p in net.named_parameters())


def test_fit_with_compile_one_epoch_at_a_time_traces_once() -> None:
    X, y = nn.datasets.alien_sentiment(n=40, seed=0)
    net, twin = nn.TwoLayerNetwork(seed=1), nn.TwoLayerNetwork(seed=1)
    programs = []
    for _ in range(3):
        opt = nn.SGD(net.parameters(), lr=0.5)
        nn.fit(net, X, y, optimizer=opt, epochs=1, progress=False, compile=True)
        (step,) = net.__dict__["_compiled_steps"].values()
        programs.extend(step.compiled._cache.values())
    assert len(set(map(id, programs))) == 1  # one trace, replayed by the later fits
    nn.fit(twin, X, y, optimizer=nn.SGD(twin.parameters(), lr=0.5), epochs=3, progress=False)
    assert close([p.data for p in net.parameters()], [p.data for p in twin.parameters()], 1e-12)
    assert "_compiled_steps" not in net.state_dict()


def test_a_compiled_step_inside_no_grad_gives_the_gradients_or_an_error() -> None:
    x = np.array([1.0, -2.0])
    step = autograd.compile(lambda x: (x * x).sum())
    with no_grad():
        try:
            answers = [step(x) for _ in range(2)]  # the trace, then the replay
        except (RuntimeError, ValueError):
            return
    assert all(g.tolist() == [2.0, -4.0] for _, g in answers)


def test_the_guarded_program_serves_only_the_inputs_it_was_traced_for() -> None:
    w = Value(np.array([1.0, 2.0]), "w")
    f = lambda x, y: ((x * w).tanh() * y).sum() if x.dtype == np.float64 else (x * y).sum()  # noqa: E731
    eager = value_and_grad(f, (0, 1))
    x, y = np.array([0.5, -1.0]), np.array([2.0, 3.0])

    def traced() -> Any:  # a step whose guarded program is the one traced on (x, y)
        step = autograd.compile(f, (0, 1))
        step(x, y)
        step(x, y)  # the first replay writes the guard
        assert step._fast is not None
        return step

    for args in [
        (x.astype(np.float32), y.astype(np.float32)),  # another dtype
        (x[:1], y[:1]),  # another shape
        (x, 3.0),  # a float for an array
    ]:
        assert same_answer(traced()(*args), eager(*args))
    step = traced()
    with no_grad():  # another grad mode: the eager answer holds no graph either way
        assert same_answer(step(x, y), eager(x, y))
        assert len(step._cache) == 2
    step = traced()
    w.data = np.full((2, 2), 0.5)  # a live leaf of another shape; the arguments' are the same
    assert same_answer(step(x, y), eager(x, y))
    w.data = np.array([0.25, 0.5])
    assert same_answer(step(x, y), eager(x, y)) and replays(step)


def test_a_step_of_no_arguments_and_one_with_an_aux_value_run_behind_the_guard() -> None:
    w = Value(np.array([1.0, -2.0]))
    step = autograd.compile(lambda: (w * w).sum(), wrt=[w])
    step()
    step()
    assert step._fast is not None and same_answer(step(), (5.0, (np.array([2.0, -4.0]),)))
    net, X, y = lesson(n=8)
    cs = compile_step(net)
    cs(X, y)
    value, _, out = cs.compute(X, y)
    with no_grad():
        assert close(out, net(X).data) and close(value, nn.log_loss(net(X), y).data)
    assert cs.compiled._fast is not None


@pytest.mark.parametrize("rows", [2000, 4096])
def test_over_a_large_batch_the_step_that_runs_writes_dL_dz_as_y_hat_minus_y(rows: int) -> None:
    """The source keeps the chain rule's two lines; the program that runs has the lesson's one."""
    net, X, y = lesson(n=rows)
    step = compile_step(net)
    step(X, y)
    net.zero_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback to eager
        loss = step(X, y)
    assert "dL_dy_hat" in step.source and "dL_dy_hat" not in step.run_source
    written = ("dL_dz = y_hat - y", "np.subtract(y_hat, y, out=")  # in a buffer from 4,096 on
    assert any(text in step.run_source for text in written)
    assert_the_lessons_answer(net, X, y, loss)
    eager = nn.TwoLayerNetwork(seed=0)
    nn.log_loss(eager(X), y).backward()
    assert all(
        close(p.grad, q.grad) for p, q in zip(net.parameters(), eager.parameters(), strict=True)
    )


def test_a_y_hat_read_by_more_than_the_loss_keeps_both_lines() -> None:
    """ŷ read again (here squared into the loss): its gradient adds up along two paths."""
    X, y = nn.datasets.alien_sentiment(n=3000, seed=1)
    net = nn.TwoLayerNetwork(seed=1)

    def loss(y_hat: Value, labels: Any) -> Value:
        return nn.log_loss(y_hat, labels) + 0.5 * (y_hat * y_hat).mean()

    step = compile_step(net, loss)
    step(X, y)
    net.zero_grad()
    step(X, y)
    assert "dL_dy_hat" in step.run_source
    twin = nn.TwoLayerNetwork(seed=1)
    loss(twin(X), y).backward()
    assert all(
        close(p.grad, q.grad) for p, q in zip(net.parameters(), twin.parameters(), strict=True)
    )
