"""The `Value` node: its data, its gradient, and the operation that made it.

A Value holds either a Python float (a scalar) or a numpy array (a tensor).
Scalars stay plain floats so that a graph of scalars never pays numpy's
per-call overhead; tensors are float64 unless they were given as float32.
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from typing import Any, ClassVar

import numpy as np

from autograd import graph as _graph

# push_mode and pop_mode were defined here before graph kept the mode: still importable from here.
from autograd.graph import _MANY, Node, _mode
from autograd.graph import pop_mode as pop_mode
from autograd.graph import push_mode as push_mode

Data = Any  # a Python float, a numpy float32 scalar, or a float ndarray
Index = Any  # an int, a slice, an integer array, or a tuple of them

_DTYPES = {np.dtype(np.float64), np.dtype(np.float32)}


def as_data(x: Any) -> Data:
    """Convert a number, nested list or array to the engine's data: float, or float ndarray."""
    tx = type(x)
    if tx is float:
        return x
    if tx is int:
        return float(x)
    if tx is np.ndarray and x.dtype in _DTYPES and x.ndim:
        return x
    if isinstance(x, Value):
        return x.data
    if isinstance(x, np.ndarray) and tx is not np.ndarray:
        x = _plain(x)
    if isinstance(x, (bool, np.bool_)):
        raise TypeError(f"a bool is not a number here: got {x!r}; use 0.0 or 1.0")
    if isinstance(x, np.floating) and x.dtype == np.float32:
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, np.ndarray):
        return float(x)
    if isinstance(x, (list, tuple, np.ndarray)):
        arr = np.asarray(x) if not isinstance(x, np.ndarray) else x
        kind = arr.dtype.kind
        if kind == "f":
            if arr.dtype not in _DTYPES:
                arr = arr.astype(np.float64)
        elif kind in "iu":
            arr = arr.astype(np.float64)
        else:
            raise TypeError(
                f"expected numbers, got an array of dtype {arr.dtype} ({_describe(x)}); "
                "only real numbers (float64, float32 or integers) are accepted"
            )
        if arr.ndim == 0:
            return float(arr) if arr.dtype == np.float64 else arr[()]
        return arr
    raise TypeError(f"expected a number, a nested list or a numpy array, got {_describe(x)}")


def _plain(x: np.ndarray) -> np.ndarray:
    """An ndarray subclass as a plain array, or TypeError where that would change its meaning."""
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(
            f"a {type(x).__name__} is not accepted: its masked elements would count; "
            "pass x.filled(value) or x.compressed()"
        )
    if isinstance(x, np.matrix):
        raise TypeError("a matrix is not accepted (its * is @): pass np.asarray(x)")
    return np.asarray(x)  # memmap and other subclasses: a plain view of the same numbers


def _constant(x: Any) -> Data:
    """A raw operand as engine data, copied if it is the caller's array: they may change it.

    A read-only array that owns its memory cannot change under us, so it is kept as it is.
    """
    d = as_data(x)
    if d is x and type(d) is np.ndarray and (d.base is not None or d.flags.writeable):
        return d.copy()
    return d


_MUTABLE = {np.ndarray, list, tuple}  # the kinds of argument _frozen copies (a tuple may hold them)


def _frozen(arg: Any) -> Any:
    """A primitive's extra argument (index, axes, shape) copied where the caller could change it."""
    t = type(arg)
    if t is np.ndarray:
        return arg.copy()
    if t is list:
        return [_frozen(a) for a in arg]
    if t is tuple:
        return tuple([_frozen(a) for a in arg])
    return arg


def _check_name(name: Any) -> None:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str or None, got {_describe(name)}")


def _axis(a: Any) -> int:
    if isinstance(a, (bool, np.bool_)):
        raise TypeError(f"an axis must be an int, got {_describe(a)}")
    try:
        return operator.index(a)  # numpy integers and 0-d integer arrays too
    except TypeError:
        raise TypeError(f"an axis must be an int or a tuple of ints, got {_describe(a)}") from None


def _axes(axis: Any) -> Any:
    """`axis` as None, an int or a tuple of ints (numpy integers, 0-d arrays and lists accepted)."""
    if axis is None or type(axis) is int:
        return axis
    if isinstance(axis, (tuple, list)):
        return tuple(_axis(a) for a in axis)
    return _axis(axis)


def _describe(x: Any) -> str:
    text = repr(x)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(x).__name__} {text}"


def shape_of(data: Data) -> tuple[int, ...]:
    """The shape of raw data: () for a scalar."""
    if type(data) is float:
        return ()
    return data.shape if type(data) is np.ndarray else np.shape(data)


class Value(Node):
    """A node of the computation graph: `data`, `grad`, and the op and inputs that made it.

    Leaves (made by the user) accumulate `grad` across backward passes until
    zeroed; intermediate nodes get a fresh `grad` on every backward pass.
    """

    # One object per node, with its inputs in slots rather than in a tuple of their own:
    # the cyclic collector tracks one object, not two, and a scalar node of a chain holds
    # 96 bytes (this object of five slots and its float) instead of 160. Inputs: a unary op
    # keeps its input in _a (with _b None); a binary op keeps both in _a and _b; any other
    # op keeps the tuple of all its arguments in _a, with _b = _MANY. The name and the scope
    # a node was made in (its "meta", see _meta_of), which most nodes lack, take no slot of
    # their own: a leaf, which has no inputs, keeps them in _a; an op node keeps in _op a
    # _Tagged primitive that carries them (one per primitive and scope, shared).
    __slots__ = ("_a", "_b", "_grad", "_op", "data")

    # Let `ndarray * Value` defer to Value.__rmul__ instead of making object arrays.
    __array_ufunc__ = None

    def __init__(self, data: Any, name: str | None = None) -> None:
        """A leaf holding `data` (a number, a nested list or an array), labelled `name` if given."""
        data = as_data(data)
        if type(data) is np.ndarray:
            data = data.copy()  # the caller's array may change later
        if name is not None and type(name) is not str:
            _check_name(name)
        self.data = data
        self._grad: Any = None
        self._op: Any = None
        scope = _mode.get().scope
        self._a: Any = scope if name is None else _meta_of(name, scope)  # a leaf's meta
        self._b: Any = None

    @classmethod
    def _node(cls, data: Data, op: Any, inputs: Sequence[Any]) -> Value:
        """A node made by hand from engine data, an op and its inputs, as tools and tests do.

        Operations make their nodes with _apply; this keeps private arguments out of __init__.
        """
        node = cls.__new__(cls)
        node.data = data
        node._grad = None
        node._op = _tagged(op, _mode.get().scope)
        node._a = tuple(inputs)
        node._b = _MANY
        return node

    @property
    def _meta(self) -> Any:
        """The node's name and scope as _meta_of keeps them (see __slots__)."""
        op = self._op
        if op is None:
            return self._a
        return op.meta if type(op) is _Tagged else None

    @property
    def name(self) -> str | None:
        """The label drawings and explanations show for this Value, or None."""
        m = self._meta
        if type(m) is str:
            return m
        return m.name if type(m) is _Named else None

    @name.setter
    def name(self, name: str | None) -> None:
        if name is not None and type(name) is not str:
            _check_name(name)
        meta = _meta_of(name, self._scope)
        op = self._op
        if op is None:
            self._a = meta
        else:  # a name of its own: this node's tag is not shared
            op = op.op if type(op) is _Tagged else op
            self._op = op if meta is None else _Tagged(op, meta)

    @property
    def _scope(self) -> Any:
        """The graph.Scope this node was made in, or None."""
        m = self._meta
        if type(m) is str:
            return None
        return m.scope if type(m) is _Named else m

    # ---- gradient --------------------------------------------------------
    @property
    def grad(self) -> Data:
        """∂(output)/∂(self) from the last backward pass: zero until one reaches this node."""
        g = self._grad
        if g is None:
            d = self.data
            return 0.0 if type(d) is float else np.zeros_like(d)
        return g

    @grad.setter
    def grad(self, value: Any) -> None:
        if type(value) is float and type(self.data) is float:
            self._grad = value  # a scalar's, nine a compiled step: 125 ns, not 200
            return
        if value is None:
            self._grad = None
            return
        g = as_data(value)
        d = self.data
        shape = shape_of(d)
        if type(d) is not float:
            if not shape:  # a float32 scalar keeps its kind
                g = d.dtype.type(g) if shape_of(g) == () else g
            elif shape_of(g) == ():  # `p.grad = 0`, micrograd's way of zeroing, fills the shape
                g = np.full(shape, g, dtype=d.dtype)
            elif g.shape == shape:
                g = np.array(g, dtype=d.dtype)
        elif type(g) is not float:
            g = float(g) if shape_of(g) == () else g
        if shape_of(g) != shape:
            raise ValueError(f"a grad of shape {shape_of(g)} does not fit data of shape {shape}")
        self._grad = g

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (it reads as zero again)."""
        self._grad = None

    @property
    def grad_computed(self) -> bool:
        """True once a backward pass has reached this node (and it was not zeroed since)."""
        return self._grad is not None

    def backward(self, gradient: Any = None, create_graph: bool = False) -> None:
        """Back-propagate from this node: every node it depends on gets `.grad` = ∂self/∂node.

        `gradient` is the seed ∂L/∂self; it may be left out only when self is a scalar.
        With `create_graph=True` the gradients are Values with graphs of their own,
        so they can be differentiated again.
        """
        _graph.backward(self, gradient, create_graph)

    # ---- shape and conversion ---------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of `data`: () for a scalar."""
        return shape_of(self.data)

    @property
    def ndim(self) -> int:
        """The number of dimensions of `data`."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """The number of elements of `data`."""
        d = self.data
        return 1 if type(d) is float else d.size

    @property
    def dtype(self) -> np.dtype[Any]:
        """float64, or float32 when the data was given as float32."""
        d = self.data
        return np.dtype(np.float64) if type(d) is float else d.dtype

    @property
    def is_leaf(self) -> bool:
        """True for a Value made by the user, not by an operation."""
        return self._op is None

    @property
    def op(self) -> Any:
        """The primitive that made this Value, or None for a leaf."""
        op = self._op
        return op.op if type(op) is _Tagged else op

    @property
    def inputs(self) -> tuple[Any, ...]:
        """The operands of the op that made this Value: Values, or raw constants."""
        if self._op is None:
            return ()
        b = self._b
        if b is None:
            return (self._a,)
        return self._a if b is _MANY else (self._a, b)

    def item(self) -> float:
        """The data of a one-element Value as a Python float."""
        d = self.data
        if type(d) is float:
            return d
        if np.size(d) != 1:
            raise ValueError(f"item() needs a single element, got shape {self.shape}")
        return float(np.asarray(d).reshape(()))

    def numpy(self) -> np.ndarray:
        """The data as a numpy array (a copy)."""
        return np.array(self.data)

    def detach(self) -> Value:
        """A new leaf with the same data and no history."""
        d = self.data
        v = _leaf(d if type(d) is float else d.copy())
        v.name = self.name
        return v

    def draw(self, path: Any = None, **kwargs: Any) -> Any:
        """This Value's graph as a graphviz drawing (see `autograd.draw.draw`); Jupyter shows it.

        With a `path` ("graph.svg", .png, .pdf or .dot) it is also rendered there.
        """
        from autograd.draw import draw, render

        drawing = draw(self, **kwargs)
        if path is not None:
            render(drawing, path)
        return drawing

    def __float__(self) -> float:
        """float(x) for a Value of one element."""
        if type(self.data) is not float and np.size(self.data) != 1:
            raise ValueError(f"float() needs a Value of one element, got shape {self.shape}")
        return self.item()

    def __bool__(self) -> bool:
        """Always True, as for any object (micrograd's Value too): compare `.data` for values."""
        return True

    def __len__(self) -> int:
        """The length of the first axis (a scalar has none)."""
        shape = self.shape
        if not shape:
            raise TypeError("len() of a scalar Value")
        return shape[0]

    def __iter__(self) -> Iterator[Value]:
        """x[0], x[1], … along the first axis, each a Value in the graph."""
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        """Value(data=…, grad=…) for a scalar, Value(shape=…, dtype=…) for an array."""
        label = f"name={self.name!r}, " if self.name is not None else ""
        d = self.data
        if type(d) is float:
            g = "not computed" if self._grad is None else repr(self._grad)
            return f"Value({label}data={d!r}, grad={g})"
        return f"Value({label}shape={self.shape}, dtype={d.dtype})"

    # ---- operators -----------------------------------------------------------
    # Subtraction is a composition, with no backward of its own; division is a primitive,
    # since a·(1/b) is not a/b to the bit and 1/b overflows where a/b does not.
    def __add__(self, other: Any) -> Value:
        """x + y; ∂/∂x = 1, ∂/∂y = 1."""
        return _apply(_ops.Add, self, other)

    def __radd__(self, other: Any) -> Value:
        """y + x, for a number or array y on the left."""
        return _apply(_ops.Add, other, self)

    def __mul__(self, other: Any) -> Value:
        """x · y; ∂/∂x = y, ∂/∂y = x."""
        return _apply(_ops.Mul, self, other)

    def __rmul__(self, other: Any) -> Value:
        """y · x, for a number or array y on the left."""
        return _apply(_ops.Mul, other, self)

    def __neg__(self) -> Value:
        """−x = x · (−1)."""
        return _apply(_ops.Mul, self, -1.0)

    def __sub__(self, other: Any) -> Value:
        """x − y = x + (−y): a composition, with no backward of its own."""
        return self + (-other if isinstance(other, Value) else -as_data(other))

    def __rsub__(self, other: Any) -> Value:
        """y − x = y + (−x), for a number or array y on the left."""
        return other + (-self)

    def __truediv__(self, other: Any) -> Value:
        """x / y; ∂/∂x = 1/y, ∂/∂y = −x/y²."""
        return _apply(_ops.Div, self, other)

    def __rtruediv__(self, other: Any) -> Value:
        """y / x, for a number or array y on the left."""
        return _apply(_ops.Div, other, self)

    def __pow__(self, exponent: Any) -> Value:
        """x^c or x^y; ∂/∂x = c·x^(c−1), ∂/∂y = x^y · ln x."""
        return _power(self, exponent)

    def __rpow__(self, base: Any) -> Value:
        """b^x for a number or array base b; ∂/∂x = b^x · ln b."""
        return _apply(_ops.PowVariable, base, self)

    def __matmul__(self, other: Any) -> Value:
        """x @ y (numpy's matmul); ∂/∂x = g @ yᵀ, ∂/∂y = xᵀ @ g."""
        return _apply(_ops.MatMul, self, other)

    def __rmatmul__(self, other: Any) -> Value:
        """y @ x, for an array y on the left."""
        return _apply(_ops.MatMul, other, self)

    def __getitem__(self, index: Index) -> Value:
        """x[index] with ints, slices or integer arrays; g goes back to the same places."""
        return _ops.GetItem.apply(self, index)

    # ---- functions -------------------------------------------------------------
    def exp(self) -> Value:
        """e^x."""
        return _apply(_ops.Exp, self)

    def log(self) -> Value:
        """ln x."""
        return _apply(_ops.Log, self)

    def tanh(self) -> Value:
        """tanh x."""
        return _apply(_ops.Tanh, self)

    def sigmoid(self) -> Value:
        """σ(x) = 1 / (1 + e^-x), computed without overflow."""
        return _apply(_ops.Sigmoid, self)

    def relu(self) -> Value:
        """max(x, 0)."""
        return _apply(_ops.ReLU, self)

    def softplus(self) -> Value:
        """ln(1 + e^x), computed without overflow."""
        return _apply(_ops.Softplus, self)

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Value:
        """Σ over `axis` (all axes by default)."""
        return _apply(_ops.Sum, self, _UNARY, (_axes(axis), keepdims))

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Value:
        """Σ over `axis` divided by the number of elements summed."""
        total = self.sum(axis, keepdims)  # numpy checks the axes
        left = total.size
        return total / (self.size / left if left else 1.0)

    def reshape(self, *shape: Any) -> Value:
        """The same data with a new shape (numpy's rules, including one -1)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.Reshape.apply(self, shape)

    def transpose(self, *axes: Any) -> Value:
        """Axes permuted (reversed by default)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _ops.Transpose.apply(self, axes or None)

    def astype(self, dtype: Any) -> Value:
        """The same values as float64 or float32."""
        return _ops.Cast.apply(self, dtype)

    @property
    def T(self) -> Value:
        """The transpose: axes reversed."""
        return _ops.Transpose.apply(self, None)

    # ---- for more than two classes (compositions and primitives in autograd.ops) ------------
    def __abs__(self) -> Value:
        """|x|; its derivative is sign(x), taken as 0 at 0."""
        return _ops.absolute(self)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Value:
        """max over `axis` (all by default); at a tie the gradient is shared evenly, as in torch."""
        out: Value = _ops.amax(self, axis, keepdims)
        return out

    def min(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Value:
        """min over `axis` (all by default); at a tie the gradient is shared evenly, as in torch."""
        out: Value = _ops.amin(self, axis, keepdims)
        return out

    def sqrt(self) -> Value:
        """√x = x^0.5."""
        out: Value = _ops.sqrt(self)
        return out

    def clip(self, low: float | None = None, high: float | None = None) -> Value:
        """x limited to [low, high]; the gradient is 1 inside (bounds included), 0 outside."""
        out: Value = _ops.clip(self, low, high)
        return out

    def logsumexp(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Value:
        """ln Σ e^x over `axis`, shifted by the max so that ±1000 stays exact."""
        out: Value = _ops.logsumexp(self, axis, keepdims)
        return out

    def softmax(self, axis: int = -1) -> Value:
        """e^xᵢ / Σⱼ e^xⱼ along `axis`."""
        out: Value = _ops.softmax(self, axis)
        return out

    def log_softmax(self, axis: int = -1) -> Value:
        """x − logsumexp(x) along `axis`."""
        out: Value = _ops.log_softmax(self, axis)
        return out


def _power(base: Any, exponent: Any) -> Value:
    """base ** exponent, with a constant exponent kept out of the graph."""
    if isinstance(exponent, Value):
        return _apply(_ops.PowVariable, base, exponent)
    if not isinstance(base, Value):
        base = Value(base)
    return _apply(_ops.PowConstant, base, exponent)


class _Named:
    """A node's name and scope, for the few nodes that have both."""

    __slots__ = ("name", "scope")

    def __init__(self, name: str, scope: Any) -> None:
        self.name = name
        self.scope = scope


def _meta_of(name: str | None, scope: Any) -> Any:
    """A node's meta: its scope, its name, both, or None."""
    if name is None:
        return scope
    return name if scope is None else _Named(name, scope)


class _Tagged:
    """An op node's primitive with the node's meta; the backward pass reads `grads` alike."""

    __slots__ = ("grads", "meta", "op")

    def __init__(self, op: Any, meta: Any) -> None:
        self.op = op
        self.grads = op.grads
        self.meta = meta


def _tagged(op: Any, scope: Any) -> Any:
    """What an op node made in `scope` keeps in _op: the primitive itself when there is no
    scope, else the scope's one _Tagged for it (made on first use, kept by the scope)."""
    if scope is None:
        return op
    tags = scope._tags
    tag = tags.get(op)
    if tag is None:
        tag = tags[op] = _Tagged(op, scope)
    return tag


_new = object.__new__


def _leaf(data: Data) -> Value:
    """A leaf of data already in the engine's form (no checks, no copy)."""
    v = _new(Value)
    v.data = data
    v._grad = v._op = v._b = None
    v._a = _mode.get().scope  # a leaf's meta
    return v


_current_mode = _mode.get  # bound once: every recorded operation reads the mode
# While autograd.compile traces f in this thread: told of each result made under no_grad.
_trace: ContextVar[Any] = ContextVar("autograd_trace", default=None)


# ---------------------------------------------------------------------------
# Primitives: how an operation is recorded.
# ---------------------------------------------------------------------------


class Primitive:
    """An operation with a forward on raw data and one vector-Jacobian product per input.

    Subclass it and define, side by side:
      forward(*inputs)          -> the result, from raw floats or arrays
      grads = (vjp_0, vjp_1, …)  one per differentiable input; vjp_i(g, out, *inputs)
                                 returns g · ∂out/∂input_i, shaped like `out`
      symbol = "…"               optional: the op's label in drawings (default: the class name)
    Arguments after the differentiable ones are passed through unconverted
    (axes, shapes, indices). Each vjp must be written with operations that work
    on raw data and on Values alike (+ - * / ** @, .sum, .reshape, and the
    functions in autograd.ops), so that `create_graph=True` can differentiate it again.
    Broadcasting is undone by the engine: a vjp may return a gradient shaped like
    the output, and it is summed down to the input's shape in one place.
    Raw array operands and extra arguments (index arrays, lists) are copied when
    the op is recorded, so the caller may change or reuse them after the forward.
    """

    grads: ClassVar[tuple[Callable[..., Any], ...]] = ()
    symbol: ClassVar[str] = "Primitive"  # how drawings label the op; a subclass gets its name

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "symbol" not in cls.__dict__:
            cls.symbol = cls.__name__
        grads = cls.grads
        if not isinstance(grads, tuple) or not grads or not all(map(callable, grads)):
            raise TypeError(
                f"{cls.__name__}.grads must be a tuple of functions, one per differentiable "
                f"input (vjp(g, out, *inputs) = g·∂out/∂input); got {grads!r}"
            )

    @staticmethod
    def forward(*inputs: Any) -> Any:
        """The operation on raw data."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any) -> Value:
        """Run forward on the args' data and record the result as a node of the graph."""
        n = len(cls.grads)
        if len(args) == n:
            if n == 1:
                return _apply(cls, args[0])
            if n == 2:
                return _apply(cls, args[0], args[1])
        if len(args) < n:
            raise TypeError(f"{cls.__name__} takes {n} inputs, got {len(args)}")
        if n == 1:  # one operand and its arguments: the shape ops and the reductions
            return _apply(cls, args[0], _UNARY, args[1:])
        return _apply_any(cls, args, n)


def _forward(op: Any, datas: Sequence[Any]) -> Any:
    try:
        out = op.forward(*datas)
    except ValueError as e:
        numeric = (float, np.ndarray, np.floating)
        shapes = [shape_of(d) for d in datas if isinstance(d, numeric)]
        if len(shapes) == 1:
            raise ValueError(f"{op.__name__} of shape {shapes[0]}: {e}") from None
        listed = " and ".join(str(s) for s in shapes)
        raise ValueError(f"{op.__name__}: cannot combine shapes {listed}: {e}") from None
    return _normalise(out)


def _normalise(out: Any) -> Any:
    """Keep results in the engine's forms: float64 scalars as Python floats, float arrays."""
    if type(out) is float:
        return out
    if isinstance(out, np.ndarray | np.number) and out.dtype not in _DTYPES:
        if out.dtype.kind not in "iuf":
            raise TypeError(f"a primitive's forward must return real numbers, got {out.dtype}")
        out = out.astype(np.float64)
    if type(out) is np.ndarray and out.ndim:
        return out
    if isinstance(out, np.ndarray | np.floating):
        return float(out) if out.dtype == np.float64 else out.dtype.type(out)
    if isinstance(out, int | np.integer):
        return float(out)
    raise TypeError(f"a primitive's forward must return numbers, got {type(out).__name__}")


def _unrecorded(out: Any, op: Any, operands: tuple[Any, ...]) -> Value:
    """A result made under no_grad: a leaf, of which a compile trace in progress is told."""
    v = _leaf(out)
    trace = _trace.get()
    if trace is not None:
        trace(v, op, operands)
    return v


_UNARY = object()  # _apply's second operand when there is none


def _apply(op: Any, a: Any, b: Any = _UNARY, extra: tuple[Any, ...] = ()) -> Value:
    """Record `op` on one or two operands (Values, numbers or arrays), or on one and `extra`.

    The path of every operator, method and reduction: it writes the node's slots itself,
    since a call of Value.__init__ would cost a Python frame per operation (about 15% of
    W1). `extra` holds a one-operand op's other arguments (axes, shapes, indices); on this
    path a sum costs 28% fewer instructions than on _apply_any's.
    """
    mode = _current_mode()
    if type(a) is Value:
        ad = a.data
    elif type(a) is float:  # a number needs no copy
        ad = a
    else:
        a = ad = _constant(a) if mode.enabled else as_data(a)
    if b is _UNARY:
        try:
            out = op.forward(ad, *extra) if extra else op.forward(ad)
        except ValueError:
            out = _forward(op, (ad, *extra))
        b = None
        if extra:  # the node keeps them all in _a, as _apply_any does
            for e in extra:
                if type(e) in _MUTABLE and mode.enabled:
                    extra = _frozen(extra)  # the backward pass needs them as they are now
                    break
            a, b = (a, *extra), _MANY
    else:
        if type(b) is Value:
            bd = b.data
        elif type(b) is float:
            bd = b
        else:
            b = bd = _constant(b) if mode.enabled else as_data(b)
        try:
            out = op.forward(ad, bd)
        except ValueError:
            out = _forward(op, (ad, bd))
    if type(out) is not float and not (
        type(out) is np.ndarray and out.ndim and out.dtype in _DTYPES
    ):
        out = _normalise(out)
    if not mode.enabled:
        return _unrecorded(out, op, (a,) if b is None else a if b is _MANY else (a, b))
    v = _new(Value)
    v.data = out
    v._grad = None
    scope = mode.scope
    v._op = op if scope is None else _tagged(op, scope)
    v._a = a
    v._b = b
    return v


def _apply_any(op: Any, args: Sequence[Any], n: int) -> Value:
    """Record `op` on n differentiable operands followed by other arguments (axes, indices)."""
    mode = _current_mode()
    recording = mode.enabled
    operands = list(args)
    datas = list(args)  # what forward reads: the operands' data, then the other arguments
    for i in range(n):  # loops, not comprehensions: in Python 3.11 each of those is a frame
        a = args[i]
        if type(a) is Value:
            datas[i] = a.data
        else:
            operands[i] = datas[i] = _constant(a) if recording else as_data(a)
    if recording:  # the backward pass needs them as they are now
        for i in range(n, len(args)):
            if type(args[i]) in _MUTABLE:  # most are None, ints or tuples of ints
                operands[i] = datas[i] = _frozen(args[i])
    try:
        out = op.forward(*datas)
    except ValueError:
        out = _forward(op, datas)
    if type(out) is not float and not (
        type(out) is np.ndarray and out.ndim and out.dtype in _DTYPES
    ):
        out = _normalise(out)
    if not recording:
        return _unrecorded(out, op, tuple(operands))
    v = _new(Value)
    v.data = out
    v._grad = None
    v._op = _tagged(op, mode.scope)
    v._a = tuple(operands)
    v._b = _MANY
    return v


# The primitives need Value, so they are imported after it.
from autograd import ops as _ops  # noqa: E402
