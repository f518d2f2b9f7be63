"""The backward pass of autograd/graph.py: order, accumulation, seeds, no_grad, higher derivatives.

The known answers come first; random expression graphs (hypothesis) close the file.
"""

import gc
import math
import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from catalogue import (
    Mutated,
    ThreadPlan,
    ValueBackend,
    central_differences,
    mutated_graphs,
    thread_plans,
)
from hypothesis import assume, example, given, settings

import autograd
import autograd.graph
from autograd import (
    Value,
    collection_paused,
    draw,
    gradcheck,
    gradients,
    is_grad_enabled,
    no_grad,
    scope,
    topological_order,
)
from autograd.testing import Graph, graphs

# ---------------------------------------------------------------------------
# The backward order.
# ---------------------------------------------------------------------------


def test_topological_order_lists_each_node_once_inputs_first() -> None:
    a, b = Value(2.0), Value(3.0)
    c = a * b
    d = c + a
    e = (d * c).tanh() + b
    order = topological_order(e)
    assert order[-1] is e
    assert len(order) == len({id(n) for n in order})
    assert {id(n) for n in order} >= {id(a), id(b), id(c), id(d), id(e)}
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for p in node.inputs:
            if isinstance(p, Value):
                assert position[id(p)] < position[id(node)]


def test_without_leaves_the_order_is_the_same_less_the_leaves() -> None:
    a, b = Value(2.0), Value(np.ones(3))
    e = ((a * b).tanh() * a + b).sum()
    full, inner = topological_order(e), topological_order(e, leaves=False)
    assert [id(n) for n in inner] == [id(n) for n in full if not n.is_leaf]
    assert len(inner) == 5 and inner[-1] is e


def test_a_leaf_is_its_own_order() -> None:
    a = Value(1.0)
    assert topological_order(a) == [a] == topological_order(a, leaves=False)
    a.backward()
    assert a.grad == 1.0


# ---------------------------------------------------------------------------
# Known answers.
# ---------------------------------------------------------------------------


def test_fan_out_adds_up() -> None:
    a = Value(1.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0
    assert b.grad == 2.0


def test_a_shared_subexpression_is_visited_once() -> None:
    x = Value(np.array([0.5, -1.0]))
    h = x * x  # used twice below
    y = (h * 3.0 + h.exp()).sum()
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * x.data * (3.0 + np.exp(x.data**2)), rtol=1e-15)


def test_backward_twice_accumulates_in_leaves_and_not_in_intermediate_nodes() -> None:
    x, w = Value(0.5), Value(np.array([1.0, -2.0]))
    h = (x * w).tanh()
    y = (h * h).sum()
    y.backward()
    first_x, first_w, first_h = x.grad, w.grad.copy(), h.grad.copy()
    y.backward()
    assert x.grad == pytest.approx(2 * first_x, rel=1e-15)
    np.testing.assert_allclose(w.grad, 2 * first_w, rtol=1e-15)
    np.testing.assert_array_equal(h.grad, first_h)  # fresh, not doubled
    assert y.grad == 1.0


def test_a_result_computed_from_intermediate_grads_is_not_corrupted() -> None:
    """micrograd's bug: without zeroing, intermediate grads double on a second backward."""
    a, b = Value(2.0), Value(-3.0)
    c = a * b
    d = c.tanh() + c
    d.backward()
    saved = c.grad
    scale = 1.0 - math.tanh(-6.0) ** 2 + 1.0
    assert saved == pytest.approx(scale, rel=1e-15)
    d.backward()
    assert c.grad == saved
    m = Value(np.ones((2, 2)))
    n = m @ m
    n.backward(np.ones((2, 2)))
    kept = n.grad
    snapshot = kept.copy()
    n.backward(np.ones((2, 2)))
    np.testing.assert_array_equal(kept, snapshot)


def test_zero_grad_restarts_accumulation() -> None:
    x = Value(3.0)
    (x * x).backward()
    x.zero_grad()
    (x * x).backward()
    assert x.grad == 6.0


def test_leaf_grads_are_not_shared() -> None:
    """Changing one leaf's grad in place (clipping, scaling) must not change another's."""
    x, y = Value(np.ones(3)), Value(np.ones(3))
    (x + y).sum().backward()
    x.grad *= 10.0
    np.testing.assert_array_equal(y.grad, [1.0, 1.0, 1.0])


def test_seed_array_is_not_kept() -> None:
    seed = np.ones(3)
    w = Value(np.ones(3))
    out = w + 0.0
    out.backward(seed)
    seed[0] = 99.0
    np.testing.assert_array_equal(w.grad, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(out.grad, [1.0, 1.0, 1.0])


@pytest.mark.parametrize("create_graph", [False, True])
def test_observe_sees_each_inner_node_once_in_visit_order_after_its_vjps(
    create_graph: bool,
) -> None:
    x, w = Value(0.5), Value(np.array([1.0, -2.0]))
    h = x * w
    y = (h.tanh() * h).sum()
    seen: list[Value] = []
    passed_on: list[bool] = []

    def observe(node: Value) -> None:
        seen.append(node)
        # Right after the node's vjps: every Value input already has a gradient.
        passed_on.append(all(p.grad_computed for p in node.inputs if isinstance(p, Value)))

    autograd.graph.backward(y, create_graph=create_graph, observe=observe)
    walk = topological_order(y, leaves=False)[::-1]
    assert [id(n) for n in seen] == [id(n) for n in walk]
    assert seen[0] is y and all(passed_on)
    gx = x.grad.data if create_graph else x.grad
    assert gx == pytest.approx(
        float(np.sum(w.data * (np.tanh(h.data) + h.data / np.cosh(h.data) ** 2)))
    )


def test_observe_sees_the_gradients_as_they_stand_at_each_step() -> None:
    a = Value(3.0)
    b = a * a
    c = b + b
    steps: list[tuple[float, float]] = []
    autograd.graph.backward(c, observe=lambda node: steps.append((b.grad, a.grad)))
    assert steps == [(2.0, 0.0), (2.0, 12.0)]


def test_a_value_the_output_does_not_use_gets_no_grad() -> None:
    a, unused = Value(1.0), Value(2.0)
    (a * 2.0).backward()
    assert not unused.grad_computed
    assert unused.grad == 0.0


# ---------------------------------------------------------------------------
# Seeds and their errors.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3,), (2, 3), (1,), (0,)])
def test_backward_on_a_non_scalar_without_gradient_names_the_shape(shape: tuple) -> None:
    v = Value(np.ones(shape)) * 2.0
    with pytest.raises(ValueError, match=str(shape).replace("(", r"\(").replace(")", r"\)")):
        v.backward()


@pytest.mark.parametrize(
    ("out_shape", "seed_shape"), [((3,), (4,)), ((2, 3), (3, 2)), ((), (1,)), ((2, 1), (2,))]
)
def test_a_gradient_of_the_wrong_shape_is_refused(out_shape: tuple, seed_shape: tuple) -> None:
    out = Value(np.ones(out_shape)) * 2.0 if out_shape else Value(1.0) * 2.0
    with pytest.raises(ValueError) as info:
        out.backward(np.ones(seed_shape))
    assert str(out_shape) in str(info.value) and str(seed_shape) in str(info.value)


def test_the_seed_may_be_a_list_an_array_a_value_or_a_number() -> None:
    x = Value(np.array([1.0, 2.0]))
    for seed in ([3.0, -1.0], np.array([3.0, -1.0]), Value([3.0, -1.0])):
        x.zero_grad()
        (x * x).backward(seed)
        np.testing.assert_array_equal(x.grad, [6.0, -4.0])
    s = Value(2.0)
    (s * s).backward(0.5)
    assert s.grad == 2.0


def test_a_float64_seed_on_a_float32_output_gives_float32_grads() -> None:
    x = Value(np.array([1.0, 2.0], dtype=np.float32))
    (x * 3.0).backward(np.array([1.0, 1.0]))
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_a_float32_leaf_in_a_float64_graph_still_gets_a_float32_grad() -> None:
    """A float64 array operand promotes the result (as in numpy); the leaf keeps float32 grads."""
    x = Value(np.array([1.0, 2.0], dtype=np.float32))
    s = Value(np.float32(2.0))
    out = (x * np.array([0.5, 0.25]) * s).sum()
    assert out.dtype == np.float64
    out.backward()
    assert x.grad.dtype == np.float32 and np.asarray(s.grad).dtype == np.float32
    np.testing.assert_array_equal(x.grad, [1.0, 0.5])
    assert s.grad == 1.0


def test_create_graph_also_keeps_float32_grads_float32() -> None:
    """As the plain pass does (and torch does): the grad takes the leaf's dtype."""
    x = Value(np.ones(3, dtype=np.float32))
    (x * np.array([1.0, 2.0, 3.0])).sum().backward(create_graph=True)
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [1.0, 2.0, 3.0])
    s = Value(np.float32(2.0))
    (g,) = gradients(s + 1.0, [s], gradient=1.0, create_graph=True)
    assert g.dtype == np.float32


# ---------------------------------------------------------------------------
# A million operations.
# ---------------------------------------------------------------------------


def test_a_chain_of_a_million_operations_backpropagates_and_is_freed() -> None:
    x = Value(1.0)
    y = x
    with collection_paused():  # only for speed: the collector would rescan the growing chain
        for _ in range(500_000):
            y = y * 1.000001
            y = y + 0.5
    assert len(topological_order(y)) == 1_000_001
    y.backward()  # micrograd's recursive sort dies here with RecursionError
    assert x.grad == pytest.approx(1.000001**500_000, rel=1e-9)
    del y  # freeing a million nested nodes must not overflow the C stack either
    gc.collect()
    assert x.grad_computed


def test_a_deep_tensor_chain_and_its_second_derivative() -> None:
    x = Value(np.array([0.5, -0.25]))
    y = x
    for _ in range(20_000):
        y = y * 1.0
    (g,) = gradients((y * y * y).sum(), [x], create_graph=True)
    (h,) = gradients(g.sum(), [x])
    np.testing.assert_allclose(h, 6 * x.data, rtol=1e-12)


# ---------------------------------------------------------------------------
# no_grad.
# ---------------------------------------------------------------------------


def test_no_grad_records_no_graph() -> None:
    a = Value(np.array([1.0, 2.0]))
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        results = [a * 3.0, a.exp(), a @ a, a[0], a.sum(), (a + 1.0).sigmoid(), 2.0**a]
    assert is_grad_enabled()
    for r in results:
        assert r.is_leaf and r.inputs == () and r.op is None
    results[0].backward(np.ones(2))
    assert not a.grad_computed
    np.testing.assert_array_equal(results[0].data, [3.0, 6.0])


def test_no_grad_is_restored_after_an_exception_and_when_nested() -> None:
    with pytest.raises(RuntimeError), no_grad():
        raise RuntimeError("inside")
    assert is_grad_enabled()
    with no_grad():
        with no_grad():
            pass
        assert not is_grad_enabled()
    assert is_grad_enabled()
    assert not (Value(1.0) * 2.0).is_leaf


# ---------------------------------------------------------------------------
# Second and higher derivatives.
# ---------------------------------------------------------------------------


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@pytest.mark.parametrize("x0", [-2.0, 0.3, 3.0])
def test_second_derivative_of_a_cube_through_backward_create_graph(x0: float) -> None:
    x = Value(x0)
    (x**3).backward(create_graph=True)
    g = x.grad
    assert isinstance(g, Value)
    assert g.data == pytest.approx(3 * x0**2, rel=1e-15)
    x.zero_grad()  # as in torch: otherwise the second pass adds to the first derivative
    g.backward()
    assert x.grad == pytest.approx(6 * x0, rel=1e-15)


@pytest.mark.parametrize(
    ("f", "second"),
    [
        (lambda v: v.sigmoid(), lambda x: sigmoid(x) * (1 - sigmoid(x)) * (1 - 2 * sigmoid(x))),
        (lambda v: v.tanh(), lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2)),
        (lambda v: v.softplus(), lambda x: sigmoid(x) * (1 - sigmoid(x))),
        (lambda v: v.exp(), math.exp),
        (lambda v: v.log(), lambda x: -1 / x**2),
        (lambda v: 1 / v, lambda x: 2 / x**3),
        (lambda v: v**2.5, lambda x: 2.5 * 1.5 * x**0.5),
        (lambda v: 2.0**v, lambda x: 2.0**x * math.log(2.0) ** 2),
    ],
    ids=["sigmoid", "tanh", "softplus", "exp", "log", "1/x", "x**2.5", "2**x"],
)
@pytest.mark.parametrize("x0", [0.4, 1.7])
def test_second_derivatives_have_their_closed_forms(f: object, second: object, x0: float) -> None:
    x = Value(x0)
    (g,) = gradients(f(x), [x], create_graph=True)  # type: ignore[operator]
    (h,) = gradients(g, [x])
    assert h == pytest.approx(second(x0), rel=1e-13)  # type: ignore[operator]


def test_third_derivative_of_x4() -> None:
    x = Value(1.5)
    (g1,) = gradients(x**4, [x], create_graph=True)
    (g2,) = gradients(g1, [x], create_graph=True)
    (g3,) = gradients(g2, [x])
    assert (g1.data, g2.data, g3) == pytest.approx((4 * 1.5**3, 12 * 1.5**2, 24 * 1.5))


def test_mixed_partials() -> None:
    x, y = Value(0.7), Value(-1.2)
    f = x * y.exp() + (x * y).sigmoid()
    (fx,) = gradients(f, [x], create_graph=True)
    (fxy,) = gradients(fx, [y])
    s = sigmoid(0.7 * -1.2)
    ds, dds = s * (1 - s), s * (1 - s) * (1 - 2 * s)
    # f_x = e^y + y·σ'(xy), so f_xy = e^y + σ'(xy) + xy·σ''(xy).
    assert fxy == pytest.approx(math.exp(-1.2) + ds + 0.7 * -1.2 * dds, rel=1e-14)


def test_hessian_vector_product_of_a_matmul_quadratic() -> None:
    """f(x) = ½‖Ax‖²: ∇f = AᵀAx and d/dx ⟨∇f, v⟩ = AᵀA v."""
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 3))
    v = rng.standard_normal(3)
    x = Value(rng.standard_normal(3))
    f = ((Value(a) @ x) ** 2).sum() * 0.5
    (g,) = gradients(f, [x], create_graph=True)
    np.testing.assert_allclose(g.data, a.T @ a @ x.data, rtol=1e-13)
    (hv,) = gradients((g * v).sum(), [x])
    np.testing.assert_allclose(hv, a.T @ a @ v, rtol=1e-13)


def test_second_derivative_through_batched_matmul_and_both_operands() -> None:
    """f(A, B) = Σ (A @ B)² with A batched: the Hessian along (V, W) has a closed form."""
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5))
    va, vb = rng.standard_normal(a.shape), rng.standard_normal(b.shape)
    A, B = Value(a), Value(b)
    f = ((A @ B) ** 2).sum()
    ga, gb = gradients(f, [A, B], create_graph=True)
    ha, hb = gradients((ga * va).sum() + (gb * vb).sum(), [A, B])
    # ∇_A f = 2(AB)Bᵀ, ∇_B f = Σ_batch 2Aᵀ(AB); their derivatives along (va, vb):
    dab = va @ b + a @ vb
    ha_want = 2 * (dab @ b.T + (a @ b) @ vb.T)
    hb_want = (2 * (np.swapaxes(va, 1, 2) @ (a @ b) + np.swapaxes(a, 1, 2) @ dab)).sum(0)
    # gradients() gives ∂/∂(A, B) of ⟨∇f, v⟩ = H v, and H is symmetric:
    np.testing.assert_allclose(ha, ha_want, rtol=1e-12)
    np.testing.assert_allclose(hb, hb_want, rtol=1e-12)


# ---------------------------------------------------------------------------
# gradients() and scopes.
# ---------------------------------------------------------------------------


def test_one_no_grad_object_can_be_entered_again_and_inside_itself() -> None:
    quiet = no_grad()
    for _ in range(2):
        with quiet:
            assert (Value(1.0) * 2.0).is_leaf
        assert not (Value(1.0) * 2.0).is_leaf
    with quiet, quiet:
        assert not is_grad_enabled()
    assert is_grad_enabled()


def _in_threads(*jobs: Callable[[], object]) -> None:
    """Run the jobs in threads started together; re-raise the first failure."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(jobs))

    def run(job: Callable[[], object]) -> None:
        start.wait()
        try:
            job()
        except BaseException as e:  # handed to the main thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def test_no_grad_in_one_thread_leaves_another_threads_graph_recorded() -> None:
    stop = threading.Event()
    unrecorded: list[int] = []

    def quiet_loop() -> None:
        while not stop.is_set():
            with no_grad():
                assert (Value(1.0) * 2.0).is_leaf

    def build_and_check() -> None:
        try:
            for i in range(3000):
                x = Value(float(i % 7))
                y = (x * x + 1.0).tanh()
                if y.is_leaf:
                    unrecorded.append(i)
                    continue
                y.backward()
                assert x.grad == pytest.approx(2 * x.data * (1 - math.tanh(x.data**2 + 1) ** 2))
        finally:
            stop.set()

    sys_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so the two blocks interleave
    try:
        _in_threads(quiet_loop, quiet_loop, build_and_check)
    finally:
        sys.setswitchinterval(sys_interval)
    assert unrecorded == []
    assert is_grad_enabled()


def test_a_thread_starts_with_recording_on_and_no_scope_whatever_the_main_thread_is_in() -> None:
    seen: list[tuple[bool, object]] = []

    def look() -> None:
        seen.append((is_grad_enabled(), (Value(1.0) * 2.0)._scope))

    with no_grad(), scope("main"):
        _in_threads(look)
    assert seen == [(True, None)]


def test_scopes_in_two_threads_do_not_mix() -> None:
    """Each thread enters its scope, then both build nodes while both scopes are open."""
    both_inside = threading.Barrier(2)
    built = threading.Barrier(2)
    made: dict[str, Value] = {}
    outside: dict[str, Value] = {}

    def work(label: str) -> Callable[[], None]:
        def job() -> None:
            with scope(label) as s:
                both_inside.wait()
                made[label] = Value(1.0) * 2.0
                built.wait()
                assert s.parent is None
            outside[label] = Value(1.0) * 2.0

        return job

    _in_threads(work("a"), work("b"))
    assert {k: v._scope.label for k, v in made.items()} == {"a": "a", "b": "b"}
    assert [v._scope for v in outside.values()] == [None, None]


def test_a_scope_entered_inside_itself_is_not_its_own_parent() -> None:
    with scope("outer") as outer:
        with outer:
            a = Value(1.0) * 2.0
        b = a + 1.0
        with scope("inner") as inner, outer:  # outer again, inside inner
            c = b * 3.0
    assert outer.parent is None and inner.parent is outer
    assert a._scope is outer and b._scope is outer and c._scope is outer
    assert [s.label for s in outer.path()] == ["outer"]
    draw(c)  # looped forever when outer was its own ancestor
    assert (Value(1.0) * 2.0)._scope is None


def test_gradients_leaves_grad_untouched_and_gives_zeros_for_unused_inputs() -> None:
    x, y, unused = Value(2.0), Value(np.array([1.0, 3.0])), Value(np.ones((2, 2)))
    x.grad = 5.0
    gx, gy, gu = gradients((x * y).sum(), [x, y, unused])
    assert gx == 4.0
    np.testing.assert_array_equal(gy, [2.0, 2.0])
    np.testing.assert_array_equal(gu, np.zeros((2, 2)))
    assert x.grad == 5.0 and not y.grad_computed


def test_scope_labels_the_nodes_made_inside_it_and_is_restored() -> None:
    a = Value(1.0)
    with scope("outer", color="red") as outer:
        b = a * 2.0
        with scope("inner") as inner:
            c = b + 1.0
    d = c * 3.0
    assert b._scope is outer and c._scope is inner
    assert inner.parent is outer and [s.label for s in inner.path()] == ["outer", "inner"]
    assert outer.attrs == {"color": "red"}
    assert d._scope is None and a._scope is None
    with pytest.raises(KeyError), scope("failing"):
        raise KeyError
    assert (a * 1.0)._scope is None


# ---------------------------------------------------------------------------
# Random expression graphs: autograd equals central differences.
# ---------------------------------------------------------------------------


def check_graph(graph: Graph) -> None:
    # At a kink central differences average the two slopes; torch parity covers relu(0) instead.
    assume(graph.distance_to_kinks() > 1e-3)
    report = gradcheck(lambda *xs: graph(ValueBackend, *xs), *graph.leaves, strict=False)
    assert report, f"{graph}\n{report}"
    leaves = [Value(x) for x in graph.leaves]
    graph(ValueBackend, *leaves).backward()
    for leaf in leaves:
        assert np.shape(leaf.grad) == np.shape(leaf.data)


@given(graphs())
@example(Graph((1.0,), (("add", (0, 0)), ("add", (1, 1))), (0.0,), "scalar"))  # fan-out
@example(Graph((0.5, -1.0), (("mul", (0, 1)), ("tanh", (2,)), ("mul", (3, 2))), (1, 1), "scalar"))
def test_scalar_graphs_match_central_differences(graph: Graph) -> None:
    check_graph(graph)


@given(graphs(tensors=True))
@example(
    Graph(
        (np.ones((2, 1)), np.array([0.5, -1.0, 2.0])),
        (("mul", (0, 1)), ("sum0", (2,)), ("sub", (3, 1))),
        (1.0, -1.0),
        "tensor",
    )
)
def test_tensor_graphs_with_broadcasting_match_central_differences(graph: Graph) -> None:
    check_graph(graph)


@settings(max_examples=30)
@given(graphs(tensors=True))
def test_second_derivatives_of_random_graphs_match_central_differences(graph: Graph) -> None:
    """d/dx ⟨∇f(x), v⟩ through backward(create_graph=True) equals the numerical one."""
    assume(graph.distance_to_kinks() > 1e-3)
    rng = np.random.default_rng(0)
    directions = [rng.standard_normal(np.shape(x)) for x in graph.leaves]

    def directional_gradient(points: list[np.ndarray]) -> float:
        leaves = [Value(p if p.ndim else float(p)) for p in points]
        graph(ValueBackend, *leaves).backward()
        return sum(float(np.sum(v.grad * d)) for v, d in zip(leaves, directions, strict=True))

    leaves = [Value(x) for x in graph.leaves]
    first = gradients(graph(ValueBackend, *leaves), leaves, create_graph=True)
    along = sum((g * d).sum() for g, d in zip(first, directions, strict=True))
    analytic = gradients(along, leaves)
    numerical = central_differences(directional_gradient, list(graph.leaves), eps=1e-5)
    for a, n in zip(analytic, numerical, strict=True):
        scale = 1.0 + float(np.max(np.abs(n), initial=0.0))
        np.testing.assert_allclose(a, n, rtol=1e-4, atol=1e-5 * scale, err_msg=repr(graph))


def test_scopes_nest_and_restore() -> None:
    from autograd import scope

    with scope("outer", color="red") as outer:
        a = Value(1.0) * 2.0
        with scope("inner") as inner:
            b = a + 1.0
        c = b * 3.0
    d = c + 0.0
    assert a._scope is outer and c._scope is outer
    assert b._scope is inner and inner.parent is outer
    assert [s.label for s in inner.path()] == ["outer", "inner"]
    assert outer.attrs == {"color": "red"}
    assert d._scope is None


def test_a_seed_that_is_a_value_keeps_its_graph() -> None:
    """Double backward: g = Jᵀu is linear in u, so ∂g[0]/∂u = J[:, 0] (torch: [2, 0, 0])."""
    x, u = Value(np.array([1.0, 2.0, 3.0])), Value(np.array([0.5, -1.0, 2.0]))
    (g,) = gradients(x * x, [x], gradient=u, create_graph=True)
    np.testing.assert_array_equal(g.data, 2 * x.data * u.data)
    (du,) = gradients(g[0], [u])
    np.testing.assert_array_equal(du, [2.0, 0.0, 0.0])
    (dx,) = gradients(g.sum(), [x])
    np.testing.assert_array_equal(dx, 2 * u.data)
    plain = gradients(x * x, [x], gradient=u)[0]
    np.testing.assert_array_equal(plain, 2 * x.data * u.data)  # without create_graph: its data


# ---------------------------------------------------------------------------
# Operands the caller changes after the forward pass.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["array", "list"])
def test_an_index_changed_after_indexing_does_not_change_the_gradient(kind: str) -> None:
    x = Value(np.array([10.0, 20.0, 30.0]))
    idx = np.array([0, 1]) if kind == "array" else [0, 1]
    y = x[idx]
    idx[0] = 2
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(y.data, [10.0, 20.0])


def test_an_index_inside_a_tuple_is_kept_as_it_was() -> None:
    x = Value(np.arange(6.0).reshape(2, 3))
    rows, cols = np.array([0, 1]), [2, 0]
    y = x[rows, cols]
    rows[:] = 1
    cols[1] = 1
    (y * np.array([1.0, 2.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 0.0, 1.0], [2.0, 0.0, 0.0]])


@pytest.mark.parametrize("combine", ["mul", "matmul", "add-then-mul"])
def test_two_mini_batches_written_into_one_buffer_give_both_gradients(combine: str) -> None:
    """The batch buffer is reused between two losses of one graph: each loss keeps its batch."""
    w = Value(np.array([0.5, -1.0]))
    first, second = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[-1.0, 0.5], [2.0, -2.0]])
    buffer = first.copy()

    def loss(batch: np.ndarray) -> Value:
        if combine == "mul":
            return (w * batch).sum()
        if combine == "matmul":
            return (batch @ w).sum()
        return ((w + 0.0) * batch).sum()

    total = loss(buffer)
    buffer[:] = second
    total = total + loss(buffer)
    total.backward()
    np.testing.assert_array_equal(w.grad, first.sum(axis=0) + second.sum(axis=0))


def test_a_constant_operand_of_a_custom_primitive_is_kept_as_given() -> None:
    from autograd import Primitive

    class Scale(Primitive):
        forward = staticmethod(lambda a, c: a * c)
        grads = (lambda g, out, a, c: g * c, lambda g, out, a, c: g * a)

    a, c = Value(np.ones(2)), np.array([2.0, 3.0])
    y = Scale.apply(a, c)
    c[:] = 0.0
    y.sum().backward()
    np.testing.assert_array_equal(a.grad, [2.0, 3.0])


def test_a_read_only_array_that_owns_its_memory_is_kept_without_a_copy() -> None:
    frozen = np.array([1.0, 2.0])
    frozen.flags.writeable = False
    view = np.arange(4.0)[::2]
    view.flags.writeable = False  # read-only, but its base may still be written
    w = Value(np.ones(2))
    assert (w * frozen).inputs[1] is frozen
    kept = (w * view).inputs[1]
    assert kept is not view and np.array_equal(kept, view)


@given(mutated_graphs())
def test_random_graphs_keep_their_constants_when_the_caller_overwrites_them(m: Mutated) -> None:
    lent: list[np.ndarray] = []

    def lend(c: np.ndarray) -> np.ndarray:
        buffer = c.copy()
        lent.append(buffer)
        return buffer

    leaves = [Value(x) for x in m.graph.leaves]
    out = m(ValueBackend, *leaves, hand=lend)
    for buffer in lent:
        buffer[...] = np.nan
    fresh = [Value(x) for x in m.graph.leaves]
    expected = gradients(m(ValueBackend, *fresh), fresh)
    for got, want in zip(gradients(out, leaves), expected, strict=True):
        np.testing.assert_array_equal(got, want, err_msg=repr(m))


# ---------------------------------------------------------------------------
# Threads: random graphs differentiated at once, beside no_grad and scope blocks.
# ---------------------------------------------------------------------------


@settings(max_examples=15)
@given(thread_plans())
def test_random_graphs_differentiated_in_threads_at_once(plan: ThreadPlan) -> None:
    def grads_of(graph: Graph) -> list[Any]:
        leaves = [Value(x) for x in graph.leaves]
        return gradients(graph(ValueBackend, *leaves), leaves)

    expected = [grads_of(g) for g in plan.graphs]

    def job(i: int) -> Callable[[], None]:
        graph, chore = plan.graphs[i], plan.chores[i]

        def run() -> None:
            for _ in range(15):
                if chore == "no_grad":
                    with no_grad():
                        assert graph(ValueBackend, *map(Value, graph.leaves)).is_leaf
                elif chore == "scope":
                    with scope(f"thread {i}") as s:
                        out = graph(ValueBackend, *map(Value, graph.leaves))
                    inner = topological_order(out, leaves=False)
                    assert {n._scope for n in inner} == {s}
                for got, want in zip(grads_of(graph), expected[i], strict=True):
                    np.testing.assert_array_equal(got, want, err_msg=f"thread {i}\n{plan}")

        return run

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        _in_threads(*(job(i) for i in range(len(plan.graphs))))
    finally:
        sys.setswitchinterval(interval)


# ---------------------------------------------------------------------------
# What a node holds, and what the walk skips.
# ---------------------------------------------------------------------------


def test_a_node_holds_its_inputs_itself_one_object_for_the_collector() -> None:
    a, b = Value(1.0), Value(2.0)
    for node, inputs in [(a * b, (a, b)), (a.tanh(), (a,)), (a * 3.0, (a, 3.0))]:
        held = gc.get_referents(node)
        assert all(any(x is h for h in held) for x in inputs if isinstance(x, Value))
        assert not any(type(h) is tuple for h in held)
        assert node.inputs == inputs
    v = Value(np.ones((2, 3)))
    s = v.sum(1, True)
    assert s.inputs == (v, 1, True) and s.op is autograd.ops.Sum
    assert a.inputs == () and a.op is None


def test_an_array_leaf_only_the_graph_holds_gets_no_gradient_and_a_held_one_does() -> None:
    w = Value(np.array([1.0, -1.0]))
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    held = Value(x)
    out = (Value(x) @ w).sum() + (held @ w).sum()
    out.backward()
    (unheld, _), _ = out.inputs[0].inputs[0].inputs, None
    assert not unheld.grad_computed  # no one could have asked for it
    np.testing.assert_array_equal(held.grad, [[1.0, -1.0], [1.0, -1.0]])
    np.testing.assert_array_equal(w.grad, 2 * x.sum(axis=0))
    (gx,) = gradients((Value(x) * w).sum(), [w])  # gradients asks only for w
    np.testing.assert_array_equal(gx, x.sum(axis=0))


def test_collection_paused_restores_the_collector_as_it_found_it() -> None:
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(KeyError), collection_paused():
        raise KeyError
    assert gc.isenabled()
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()


def test_gradients_of_an_unreached_value_are_zero_even_after_an_earlier_pass():
    a, b = autograd.Value(1.0), autograd.Value(2.0)
    (b * b).backward()
    assert b.grad == 4.0
    assert autograd.gradients(a * 3.0, [b]) == [0.0]
    assert autograd.grad(lambda a, b: a * 2.0, argnums=1)(autograd.Value(1.0), b).data == 0.0
    assert b.grad == 4.0


def test_a_vjp_that_returns_none_is_named_in_the_error():
    class Forgetful(autograd.Primitive):
        forward = staticmethod(lambda a: a * 2.0)
        grads = (lambda g, out, a: None,)

    x = autograd.Value(np.ones(3))
    with pytest.raises(TypeError, match=r"backward through Forgetful: a vjp returned None"):
        Forgetful.apply(x).sum().backward()


def test_a_graph_made_in_scopes_is_freed_by_reference_counting_alone() -> None:
    """No cycles: a model's forward leaves nothing for the cyclic collector once it is dropped."""
    import nn

    net = nn.TwoLayerNetwork(seed=0)
    X = np.random.default_rng(0).normal(size=(10, 2))
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(3):
            y = net(X)
            y.backward(np.ones(10))
            del y
        with autograd.scope("block") as s:
            v = Value(1.0) * 2.0 + 1.0
        assert v._scope is s
        del v, s
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()


def test_the_mode_functions_moved_to_graph_are_still_importable_from_value() -> None:
    from autograd import graph, value

    assert value.push_mode is graph.push_mode and value.pop_mode is graph.pop_mode
    value.push_mode(False, None)
    try:
        assert not autograd.is_grad_enabled()
    finally:
        value.pop_mode()
    assert autograd.is_grad_enabled()


@pytest.mark.skipif(sys.implementation.name != "cpython", reason="counts CPython's references")
def test_an_array_leaf_only_the_graph_holds_gets_no_gradient_computed() -> None:
    # `Value(X) @ W`: nobody can ask for that Value(X)'s gradient, so its vjp is not called;
    # a leaf that a name still holds gets its gradient as usual.
    calls: list[str] = []

    class Times(autograd.Primitive):
        forward = staticmethod(lambda a, b: a * b)
        grads = (
            lambda g, out, a, b: calls.append("a") or g * b,
            lambda g, out, a, b: calls.append("b") or g * a,
        )

    w = Value(np.array([2.0, 3.0]))
    Times.apply(Value(np.array([1.0, 4.0])), w).sum().backward()
    assert calls == ["b"]
    np.testing.assert_array_equal(w.grad, [1.0, 4.0])
    calls.clear()
    x = Value(np.array([1.0, 4.0]))
    Times.apply(x, w).sum().backward()
    assert sorted(calls) == ["a", "b"]
    np.testing.assert_array_equal(x.grad, [2.0, 3.0])
