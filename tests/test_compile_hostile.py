"""autograd.compile under hostile use: arrays changed between calls, answers' types, threads."""

from __future__ import annotations

import threading
import warnings
from typing import Any

import numpy as np
import pytest

import autograd
from autograd import Primitive, Value, ops, value_and_grad
from autograd.compile import CompileWarning
from autograd.fastcode import TALL
from nn.compiled import compile_step
from nn.datasets import alien_sentiment
from nn.losses import log_loss
from nn.network import TwoLayerNetwork


@pytest.mark.parametrize("kind", [np.array, list], ids=["array", "list"])
def test_a_closed_over_array_or_list_changed_in_place_is_seen_by_the_next_call(kind: Any) -> None:
    """An array is read live by the replay; a changed list makes the step trace again."""
    c = kind([1.0, 2.0])
    x = np.array([1.0, 1.0])

    def f(x: Any) -> Any:
        return (x * c).sum()

    step = autograd.compile(f)
    step(x)
    step(x)
    c[0] = 5.0
    value, grad = step(x)
    assert (value, grad.tolist()) == (7.0, [5.0, 2.0])
    assert step(x)[0] == 7.0


@pytest.mark.parametrize("kind", [np.array, list], ids=["array", "list"])
def test_a_closed_over_index_changed_in_place_is_seen(kind: Any) -> None:
    """An index array is read live; a list is compared with the trace's and traced again."""
    idx = kind([0, 0])
    x = np.array([1.0, 2.0])

    def f(x: Any) -> Any:
        return x[idx].sum()

    step = autograd.compile(f)
    step(x)
    idx[1] = 1
    value, grad = step(x)
    assert (value, grad.tolist()) == (3.0, [1.0, 1.0])


def test_a_closed_over_array_reshaped_in_place_traces_again() -> None:
    c = np.array([1.0, 2.0])

    def f(x: Any) -> Any:
        return (x * c).sum()

    step = autograd.compile(f)
    step(np.ones((2, 2)))
    c.shape = (2, 1)  # in place: the same array object, another shape
    got = step(np.ones((2, 2)))
    want = value_and_grad(f)(np.ones((2, 2)))
    assert got[0] == want[0] and np.array_equal(got[1], want[1])


def test_a_gradient_the_caller_changes_does_not_change_the_next_answer() -> None:
    c = np.array([1.0, 2.0])
    step = autograd.compile(lambda x: (c * x).sum())
    x = np.array([1.0, 1.0])
    step(x)
    for _ in range(2):
        _, g = step(x)
        g[:] = 99.0
    value, g = step(x)
    assert (value, g.tolist(), c.tolist()) == (3.0, [1.0, 2.0], [1.0, 2.0])


CASES = [
    ("sum", lambda x: (x * x).sum(), (np.array([1.0, 2.0]),)),
    ("mean", lambda x: x.mean(), (np.array([1.0, 2.0]),)),
    ("tanh", lambda x: x.tanh().sum(), (np.array([0.5, -1.0]),)),
    ("empty", lambda x: (x * x).sum(), (np.zeros((0, 3)),)),
    ("scalar arg", lambda a, X: (a * X).sum(), (2.0, np.array([1.0, 2.0]))),
    ("float32", lambda a, X: (a * X).sum(), (np.float32(2.0), np.ones(2, np.float32))),
]


@pytest.mark.parametrize(("name", "f", "args"), CASES, ids=[c[0] for c in CASES])
def test_the_types_of_value_and_gradient_match_value_and_grad_on_every_call(
    name: str, f: Any, args: tuple[Any, ...]
) -> None:
    step, eager = autograd.compile(f), value_and_grad(f)
    want = eager(*args)
    for _ in range(3):
        got = step(*args)
        assert type(got[0]) is type(want[0]), name
        assert type(got[1]) is type(want[1]), name
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_threads_tracing_and_replaying_at_once_each_get_their_own_answer() -> None:
    step = autograd.compile(lambda x: (x * x).tanh().sum())
    errors: list[str] = []
    barrier = threading.Barrier(4)

    def worker(k: int) -> None:
        barrier.wait()
        for n in range(1, 30):
            x = np.linspace(-1.0, 1.0, n + k) * (k + 1)  # new shapes trace, old ones replay
            got, want = step(x), value_and_grad(lambda x: (x * x).tanh().sum())(x)
            if not (np.isclose(got[0], want[0]) and np.allclose(got[1], want[1])):
                errors.append(f"thread {k}, n={n}")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_a_repeated_float32_round_trip_replays_without_falling_back() -> None:
    def f(x: Any) -> Any:
        a = ops.cast(ops.cast(x, np.float32), np.float64) * x
        b = ops.cast(ops.cast(x, np.float32), np.float64) * x  # the same operation again
        return b.sum() + 0.5 * a.sum()

    x = np.array(0.41088506)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        step = autograd.compile(f)
        got = step(x)
    assert got == value_and_grad(f)(x)
    assert all(type(e).__name__ == "_Replay" for e in step._cache.values())


GATES: dict[str, tuple[threading.Event, threading.Event]] = {}  # thread name → (inside, go)


class Gate(Primitive):
    """a·1, whose forward waits at a gate on its second call in a thread: the trace's own replay."""

    calls = threading.local()

    @staticmethod
    def forward(a: Any) -> Any:
        n = getattr(Gate.calls, "n", 0) + 1
        Gate.calls.n = n
        gate = GATES.get(threading.current_thread().name)
        if n == 2 and gate is not None:
            gate[0].set()  # in the trace's check of its program
            gate[1].wait(5.0)
        return a * 1.0

    grads = (lambda g, out, a: g,)


def test_two_traces_checking_their_programs_at_once_leave_check_on() -> None:
    step = autograd.compile(lambda x: Gate.apply(x).sum(), check=True)
    a_in, a_go, b_in, b_go = (threading.Event() for _ in range(4))
    GATES.update(A=(a_in, a_go), B=(b_in, b_go))
    a = threading.Thread(target=step, args=(np.ones(2),), name="A")
    b = threading.Thread(target=step, args=(np.ones(3),), name="B")
    a.start()
    assert a_in.wait(5.0)  # A checks its program
    b.start()
    assert b_in.wait(5.0)  # B checks its program while A still does
    a_go.set()
    a.join(5.0)  # A finishes first
    b_go.set()
    b.join(5.0)
    assert step.check is True


def test_a_float32_batch_through_float64_parameters_replays_without_falling_back() -> None:
    X, y = alien_sentiment(n=20, seed=0)
    X32 = np.asarray(X, dtype=np.float32)
    model = TwoLayerNetwork(seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        step = compile_step(model)
        step(X32, y)
    assert all(type(e).__name__ == "_Replay" for e in step.compiled._cache.values())
    for p in model.parameters():
        p.grad = None
    got = step(X32, y)
    grads = [p.grad for p in model.parameters()]
    for p in model.parameters():
        p.grad = None
    loss = log_loss(model(X32), np.asarray(y, dtype=np.float32))
    loss.backward()
    assert np.isclose(got, float(loss.data), rtol=1e-5)
    assert np.allclose(grads, [p.grad for p in model.parameters()], rtol=1e-4, atol=1e-6)


def test_an_unchanged_list_replays_instead_of_tracing_again() -> None:
    c = [1.0, float("nan")]
    step = autograd.compile(lambda x: (x * c)[[0, 0]].sum())
    x = np.array([1.0, 1.0])
    step(x)
    programs = list(step._cache.values())
    step(x)
    assert list(step._cache.values()) == programs  # the same program, not a new trace
    assert all(type(e).__name__ == "_Replay" for e in programs)


def test_a_tall_closed_over_matrix_replays_without_falling_back() -> None:
    X = np.random.default_rng(0).normal(size=(2 * TALL, 3))
    w, b = Value(np.ones(3)), Value(np.zeros(3))

    def f() -> Any:
        return ((X * w) + b).sum()

    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        step = autograd.compile(f, wrt=[w, b])
        step()
        value, (gw, gb) = step()
    assert all(type(e).__name__ == "_Replay" for e in step._cache.values())
    assert np.isclose(value, X.sum())
    assert np.allclose(gw, X.sum(axis=0)) and np.allclose(gb, [2 * TALL] * 3)


def test_a_closed_over_mask_changed_in_place_traces_again() -> None:
    mask = np.array([True, False, True])
    x = np.array([1.0, 2.0, 3.0])

    def f(x: Any) -> Any:
        return (x[mask] * 2.0).sum()

    step = autograd.compile(f)
    step(x)
    step(x)
    mask[1] = True  # one more True: the selection, and its shape, change
    value, grad = step(x)
    assert (value, grad.tolist()) == (12.0, [2.0, 2.0, 2.0])
