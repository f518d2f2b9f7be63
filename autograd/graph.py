"""Recording the graph, ordering it, and walking it backwards.

The only global state is the per-thread mode kept here: whether operations
record a graph (switched off by `no_grad`) and which scope new nodes belong to
(set by `scope`, which nn modules use so drawings can group a neuron's nodes).
Both context managers restore what they found, in their thread.

This module sits below `autograd.value` and does not import it: it knows a node
by the layout `Value.__slots__` describes (inputs in `_a` and `_b`, the op in
`_op`, the gradient in `_grad`), and tells a node from raw data by its type,
which it takes from the root it is given. `Node` is Value's empty base class:
drawing and text tell a Value from raw data with `is_node`, and import Value for
type hints only.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, NamedTuple, TypeGuard

import numpy as np

if TYPE_CHECKING:
    from autograd.value import Value


class Node:
    """The base class of a graph's nodes (`Value` is the one kind): a marker with no state."""

    __slots__ = ()


def is_node(x: object) -> TypeGuard[Value]:
    """True for a node of a graph: a Value."""
    return isinstance(x, Node)


_MANY = object()  # in a node's _b: its inputs are all in _a, as a tuple


# ---------------------------------------------------------------------------
# The per-thread mode: record or not, and the scope new nodes join.
# ---------------------------------------------------------------------------


class _Mode(NamedTuple):
    """What operations do here: record a graph or not, and which scope new nodes join.

    Modes form a stack, one per thread (and per asyncio task): entering a block
    pushes a new mode that points to the one it replaces, and leaving pops it.
    """

    enabled: bool
    scope: Scope | None
    previous: _Mode | None


# A context variable costs 16 ns a read against 29 ns for threading.local (and 7 ns for
# the plain global it replaces); a new thread starts from the default: recording, no scope.
_TOP = _Mode(True, None, None)
_mode: ContextVar[_Mode] = ContextVar("autograd_mode", default=_TOP)


def push_mode(enabled: bool, scope: Scope | None) -> None:
    """Start a block in this thread: operations record a graph if `enabled`, nodes join `scope`."""
    _mode.set(_Mode(enabled, scope, _mode.get()))


def pop_mode() -> None:
    """End the innermost block `push_mode` started in this thread."""
    previous = _mode.get().previous
    if previous is None:
        raise RuntimeError("pop_mode() without a matching push_mode()")
    _mode.set(previous)


class _Recording:
    """A block in which operations record a graph, or not; it can be entered again and nested."""

    __slots__ = ("enabled",)

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __enter__(self) -> None:
        push_mode(self.enabled, _mode.get().scope)

    def __exit__(self, *exc: object) -> None:
        pop_mode()


def no_grad() -> AbstractContextManager[None]:
    """Inside this block, in this thread, operations record no graph: results are leaves."""
    return _Recording(False)


def enable_grad() -> AbstractContextManager[None]:
    """Inside this block, in this thread, operations record a graph, even within `no_grad()`."""
    return _Recording(True)


def is_grad_enabled() -> bool:
    """True unless this thread is inside `no_grad()`."""
    return _mode.get().enabled


def current_scope() -> Scope | None:
    """The innermost `scope` block this thread is in, or None."""
    return _mode.get().scope


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a large graph is built; restore it after.

    An opt-in: the engine never touches the collector itself. Building a graph of 10^6
    nodes, the collector rescans the growing graph: 30% of the time in the W4 benchmark.
    The graph is freed by reference counting all the same. (`gc.freeze()` after loading
    big models keeps their objects out of every collection as well.)
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class Scope:
    """A label for the nodes made inside a `scope(...)` block, such as one neuron's forward.

    It is its own context manager (a class, not a generator: modules enter one per call).
    Its parent is the scope it was first entered in; entering it again, even inside
    itself or one of its children, does not change that.
    """

    __slots__ = ("_entered", "_tags", "attrs", "label", "owner", "parent")

    def __init__(self, label: str, owner: Any = None, **attrs: Any):
        self.label = label
        self.owner = owner
        self.attrs = attrs
        self.parent: Scope | None = None
        self._entered = False
        self._tags: dict[Any, Any] = {}  # each primitive's tag for the nodes made here

    def __enter__(self) -> Scope:
        mode = _mode.get()
        if not self._entered:
            self._entered = True
            self.parent = mode.scope
        push_mode(mode.enabled, self)
        return self

    def __exit__(self, *exc: object) -> None:
        pop_mode()
        # Its tags point back at it: kept past the block, they would make each module call's
        # scope a cycle for the collector, where reference counting frees it now.
        self._tags.clear()

    def path(self) -> list[Scope]:
        """This scope and its ancestors, outermost first."""
        chain: list[Scope] = []
        s: Scope | None = self
        while s is not None:
            chain.append(s)
            s = s.parent
        return chain[::-1]

    def __repr__(self) -> str:
        return f"Scope({self.label!r})"


def scope(label: str, owner: Any = None, **attrs: Any) -> Scope:
    """Nodes made inside `with scope(...)` remember it (drawings cluster them by it)."""
    return Scope(label, owner, **attrs)


# ---------------------------------------------------------------------------
# The backward pass.
# ---------------------------------------------------------------------------

_EXIT = object()


def topological_order(root: Value, leaves: bool = True) -> list[Value]:
    """Every Value `root` depends on, inputs before the nodes made from them (no recursion).

    With `leaves=False` the leaves are left out (root is always in): that is all a
    backward pass walks.
    """
    node_type = type(root)  # a local: what every test below compares with
    order: list[Value] = []
    done: set[Value] = set()
    stack: list[Any] = [root]
    push = stack.append
    pop = stack.pop
    while stack:
        node = pop()
        if node is _EXIT:
            order.append(pop())
            continue
        if node in done:
            continue
        done.add(node)
        push(node)
        push(_EXIT)
        b = node._b  # the inputs, as Value keeps them (see Value.__slots__)
        if b is _MANY:
            for p in node._a:
                if type(p) is node_type:
                    if p._op is not None:
                        if p not in done:
                            push(p)
                    elif leaves and p not in done:
                        done.add(p)
                        order.append(p)
            continue
        # One or two inputs, written out: no tuple and no loop, and the leaf test before the
        # set. The sort of W1's graph takes 23% less time than with the loop above.
        a = node._a
        if type(a) is node_type:
            if a._op is not None:
                if a not in done:
                    push(a)
            elif leaves and a not in done:
                done.add(a)
                order.append(a)
        if type(b) is node_type:
            if b._op is not None:
                if b not in done:
                    push(b)
            elif leaves and b not in done:
                done.add(b)
                order.append(b)
    return order


def unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """Σ g over the axes that broadcasting added or stretched, so that g has `shape`."""
    gshape = g.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    if lead > 0:
        g = g.sum(axis=tuple(range(lead)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if lead >= 0 and stretched:
        g = g.sum(axis=stretched, keepdims=True)
    if lead < 0 or g.shape != shape:
        raise ValueError(f"a gradient of shape {gshape} cannot be reduced to shape {shape}")
    return g


def _seed(root: Value, gradient: Any, create_graph: bool) -> Any:
    """The seed ∂L/∂root: raw data, or under `create_graph` a Value seed with its graph."""
    shape = root.shape
    if gradient is None:
        if shape:
            raise ValueError(
                f"backward() on a Value of shape {shape} needs `gradient` "
                "(the seed ∂L/∂output, same shape); only a scalar output can omit it"
            )
        d = root.data
        return 1.0 if type(d) is float else d.dtype.type(1.0)
    if is_node(gradient) and create_graph:
        if gradient.shape != shape:
            raise ValueError(
                f"backward(): gradient has shape {gradient.shape} but the output has shape {shape}"
            )
        return gradient if gradient.dtype == root.dtype else gradient.astype(root.dtype)
    # As a new leaf: checked and converted as Value(x) converts, and copied, since the caller
    # may change its array later.
    given = type(root)(gradient.data if is_node(gradient) else gradient)
    seed = given.data
    if given.shape != shape:
        raise ValueError(
            f"backward(): gradient has shape {given.shape} but the output has shape {shape}"
        )
    if type(seed) is not float and root.dtype != seed.dtype:
        seed = np.asarray(seed, dtype=root.dtype)
        seed = seed if seed.ndim else seed[()]
    return seed


def backward(
    root: Value,
    gradient: Any = None,
    create_graph: bool = False,
    *,
    observe: Callable[[Value], object] | None = None,
) -> None:
    """Fill `.grad` of every node `root` depends on; leaves accumulate, other nodes start afresh.

    `observe(node)`, if given, is called for each inner node in the order the walk
    visits them (root first), right after that node's gradient has been passed on
    to its inputs: a step-by-step view of backpropagation.
    """
    seed = _seed(root, gradient, create_graph)
    order = topological_order(root, leaves=False)
    if root._op is None:  # a leaf alone: its gradient is the seed, added to what it has
        order = []
    for node in order:
        node._grad = None
    if create_graph:
        with _Recording(True):
            _accumulate(root, seed if is_node(seed) else type(root)(seed))
            _walk_differentiable(order, observe)
    else:
        _accumulate(root, seed)
        _walk(order, observe)


def _accumulate(p: Value, g: Any, incoming: Any = None) -> None:
    """Add g into p's gradient, reduced to p's shape and dtype; `incoming` is the g it came from.

    g is raw data in the plain walk, a Value in the differentiable one (whose sum is
    then recorded too).
    """
    if g is None:
        raise TypeError("a vjp returned None; it must return g·∂out/∂input, shaped like out")
    d = p.data
    if type(g) is type(p):  # a Value: the differentiable walk
        shape = p.shape
        if g.shape != shape:
            g = unbroadcast(g, shape)
        if g.dtype != p.dtype:
            g = g.astype(p.dtype)
    elif type(d) is float:
        if type(g) is not float:
            if type(g) is not np.ndarray:
                g = float(np.sum(g))
            else:
                g = g.item() if g.size == 1 else float(np.add.reduce(g, None))
    elif type(g) is float or g.shape != d.shape:
        g = unbroadcast(np.asarray(g, dtype=d.dtype), d.shape)
        if not g.ndim:
            g = g[()]
    elif g.dtype != d.dtype:
        g = g.astype(d.dtype)
    old = p._grad
    if old is not None:
        p._grad = old + g
    elif p._op is None and type(g) is np.ndarray and (g is incoming or g.base is not None):
        p._grad = g.copy()  # a leaf owns its gradient; this g is another node's, or a view of it
    else:
        p._grad = g


class _Probe:
    __slots__ = ("_a",)
    _a: Any


def _refs_of_an_unheld_input() -> int:
    """What sys.getrefcount says, in _walk, of an input no one but its node refers to."""
    node = _Probe()
    node._a = _Probe()
    a = node._a  # as in _walk: the node's slot, this name and getrefcount's argument
    return sys.getrefcount(a)


# An array leaf that only the graph refers to (`Value(X) @ W`) can never be asked for its
# gradient, so the plain walk does not compute it: at n = 10^4 that is 9% of the generic
# tensor step. Counting references is CPython's; elsewhere every gradient is computed.
_UNHELD = _refs_of_an_unheld_input() if sys.implementation.name == "cpython" else -1


def _walk(order: list[Value], observe: Callable[[Value], object] | None) -> None:
    """The plain walk: vjps on raw floats and arrays, nothing recorded."""
    if not order:
        return
    node_type = type(order[-1])  # as in topological_order
    node = None
    try:
        for node in reversed(order):
            g = node._grad
            if g is None:
                continue
            vjps = node._op.grads
            out = node.data
            a = node._a
            b = node._b
            if b is _MANY:  # any arity: the arguments are a tuple
                datas = [p.data if type(p) is node_type else p for p in a]
                for vjp, p in zip(vjps, a, strict=False):
                    if type(p) is node_type:
                        gp = vjp(g, out, *datas)
                        if type(gp) is float and type(p.data) is float:  # as below
                            old = p._grad
                            p._grad = gp if old is None else old + gp
                        else:
                            _accumulate(p, gp, g)
            else:  # one or two operands, the common case, written out (see _apply)
                ad = a.data if type(a) is node_type else a
                if b is not None:
                    bd = b.data if type(b) is node_type else b
                if type(a) is node_type and (
                    a._op is not None or type(ad) is not np.ndarray or sys.getrefcount(a) > _UNHELD
                ):
                    ga = vjps[0](g, out, ad) if b is None else vjps[0](g, out, ad, bd)
                    # A float for a float needs no reducing: it is added here, since in a graph
                    # of scalars the call of _accumulate per edge would cost more than the add.
                    if type(ga) is float and type(ad) is float:
                        old = a._grad
                        a._grad = ga if old is None else old + ga
                    else:
                        _accumulate(a, ga, g)
                if type(b) is node_type and len(vjps) == 2:
                    gb = vjps[1](g, out, ad, bd)
                    if type(gb) is float and type(bd) is float:
                        old = b._grad
                        b._grad = gb if old is None else old + gb
                    else:
                        _accumulate(b, gb, g)
            if observe is not None:
                observe(node)
    except (TypeError, ValueError, AttributeError) as e:
        # Name the primitive whose vjp failed: with a custom one the cause is usually there.
        kind = ValueError if isinstance(e, ValueError) else TypeError
        name = node.op.__name__ if node is not None and node._op is not None else "a leaf"
        raise kind(f"backward through {name}: {e}") from e


def _walk_differentiable(order: list[Value], observe: Callable[[Value], object] | None) -> None:
    """The walk for higher derivatives: every gradient is a Value with a graph of its own."""
    for node in reversed(order):
        g = node._grad
        if g is None:
            continue
        node_type = type(node)
        if type(g) is not node_type:
            g = node_type(g)
        prev = node.inputs
        for vjp, p in zip(node._op.grads, prev, strict=False):
            if type(p) is node_type:
                _accumulate(p, vjp(g, node, *prev))
        if observe is not None:
            observe(node)


def gradients(
    output: Value,
    wrt: Sequence[Value],
    gradient: Any = None,
    create_graph: bool = False,
) -> list[Any]:
    """∂output/∂w for each w in `wrt`, without touching any leaf's `.grad`.

    A w the output does not depend on gets zeros. With `create_graph=True` the
    results are Values that can be differentiated again.
    """
    order = topological_order(output)
    leaves = [n for n in order if n._op is None]
    saved = [n._grad for n in leaves]
    for n in leaves:
        n._grad = None
    try:
        backward(output, gradient, create_graph)
        reached = set(order)
        result = []
        for w in wrt:
            g = w._grad if w in reached else None
            if g is None:  # the output does not depend on w
                g = 0.0 if type(w.data) is float else np.zeros_like(w.data)
                if create_graph:
                    g = type(output)(g)
            result.append(g)
    finally:
        for n, s in zip(leaves, saved, strict=True):
            n._grad = s
    return result
