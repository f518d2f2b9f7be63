"""The code generator of `autograd.compile`: a traced graph in, straight-line numpy source out.

The source reads as a learner would write the step by hand: one line per
operation, named after the Values (w11, z1, a1, y_hat, L), the forward first and
then the backward in the order the chain rule runs (dL_dz, dL_dw1, …). A gradient
that reaches a Value along several paths is written once, as the sum of the
paths, with a comment saying so.

Each primitive is written from a template: a format string for its forward and
one for each input's vjp, in which {0}, {1}, … are the names of its operands,
{g} the name of its output's gradient and {out} its output's name. The
templates of the built-in primitives are in `TEMPLATES`; any Primitive may
carry its own as a class attribute `code = (forward, vjp_0, vjp_1, …)`, where {op}
is the primitive itself (`{op}.forward({0}, {1})`) and numpy is `np`. A
primitive without a template replays through its own forward and vjps
(`Cube.forward(x)`, `Cube.grads[0](dL_dy, y, x)`), so it works unchanged.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd import blocks, lowering, ops
from autograd.graph import unbroadcast
from autograd.value import Primitive, shape_of

# The raw functions the generated code calls: the engine's own forwards, so a replay
# computes exactly what the eager step computes (and warns where it warns).
NAMESPACE: dict[str, Any] = {
    "np": np,
    "exp": ops._exp,
    "log": ops._log,
    "tanh": ops._tanh,
    "relu": ops._relu,
    "softplus": ops._softplus,
    "power": ops._power,
    "divide": ops._divide,
    "unit_step": ops._step,
    "log_base": ops._log_base,
    "both_zero": ops._both_zero,
    "cast": ops._cast,
    "scatter": ops._scatter,
    "float64": np.float64,
    "float32": np.float32,
}

# forward, then one vjp per differentiable input. Elementwise ones give every vjp the
# output's shape; the generator sums it down to the input's shape (see `_reduce`).
TEMPLATES: dict[type, tuple[str, ...]] = {
    ops.Add: ("{0} + {1}", "{g}", "{g}"),
    ops.Mul: ("{0} * {1}", "{g} * {1}", "{g} * {0}"),
    ops.Div: ("divide({0}, {1})", "divide({g}, {1})", "-divide({g} * {out}, {1})"),
    ops.Pow: (
        "power({0}, {1})",
        "{g} * ({1} * power({0}, {1} - 1.0 + both_zero({0}, {1})))",
        "{g} * ({out} * log_base({0}, {1}))",
    ),
    ops.Exp: ("exp({0})", "{g} * {out}"),
    ops.Log: ("log({0})", "divide({g}, {0})"),
    ops.Tanh: ("tanh({0})", "{g} * (1.0 - {out} * {out})"),
    ops.Sigmoid: ("sigmoid({0})", "{g} * ({out} * (1.0 - {out}))"),
    ops.ReLU: ("relu({0})", "{g} * unit_step({0})"),
    ops.Softplus: ("softplus({0})", "{g} * sigmoid({0})"),
}


class Subtract:
    """a − b: written for a + (−1·b), which is how the engine records a subtraction."""

    __name__ = "Subtract"
    grads = (None, None)  # two differentiable inputs; the templates below are its vjps


TEMPLATES[Subtract] = ("{0} - {1}", "{g}", "-{g}")

# On arrays plain numpy calls: the engine's raw functions wrap each call in np.errstate,
# which costs more than the call itself on a small batch (so a replay may warn where the
# eager step is silent; the numbers are the same).
ARRAY_TEMPLATES: dict[type, tuple[str, ...]] = {
    ops.Div: ("{0} / {1}", "{g} / {1}", "-({g} * {out}) / {1}"),
    ops.Exp: ("np.exp({0})", "{g} * {out}"),
    ops.Log: ("np.log({0})", "{g} / {0}"),
    ops.Tanh: ("np.tanh({0})", "{g} * (1.0 - {out} * {out})"),
    ops.ReLU: ("np.maximum({0}, 0.0)", "{g} * ({0} > 0.0)"),
}
_HELPER = re.compile(r"^(t|c|k)\d+$")


@dataclass(eq=False)
class Node:
    """One Value of the trace: an argument, a live leaf, a constant, or an operation's result."""

    kind: str  # "arg", "leaf", "const" or "op"
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    name: str = ""
    op: Any = None
    operands: list[Any] = field(default_factory=list)  # Nodes, then static args as given
    forward_only: bool = False  # made under no_grad: no gradient flows through it
    value: Any = None  # a constant's data, a leaf's Value
    data: Any = None  # its number in the trace
    grad: Any = None  # its gradient in the trace's eager backward pass
    text: str = ""  # how the source refers to it


@dataclass
class Program:
    """The generated step: its source, the function compiled from it, and what it reads."""

    source: str  # the step as a learner reads it
    function: Callable[..., Any]
    params: list[str]
    run_source: str = ""  # the program that runs: the same, stored by columns and in buffers


def _identifier(name: Any) -> str | None:
    if isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name):
        return name
    return None


class _Names:
    """Unique identifiers for the source: the Values' own names where they have good ones."""

    def __init__(self) -> None:
        self.taken = set(NAMESPACE) | {"own", "fit", "copied"}
        self.count = 0

    def claim(self, wanted: str | None, helper: str = "t") -> str:
        if wanted is not None and _HELPER.match(wanted):
            wanted = None  # t1, c1 and k1 are the generator's own
        if wanted is None:
            self.count += 1
            wanted = f"{helper}{self.count}"
        name, i = wanted, 1
        while name in self.taken:
            i += 1
            name = f"{wanted}_{i}"
        self.taken.add(name)
        return name


def _literal(x: Any) -> str | None:
    """Python source for a static argument or constant, or None when it has no short literal."""
    if x is None or isinstance(x, bool | int | str):
        return repr(x)
    if type(x) is float:
        return repr(x) if math.isfinite(x) else None
    if x is Ellipsis:
        return "..."
    if isinstance(x, slice):
        given = (x.start, x.stop, x.step)
        parts = [_literal(p) for p in given]
        if any(p is None and v is not None for p, v in zip(parts, given, strict=True)):
            return None
        return f"slice({', '.join(p or 'None' for p in parts)})"
    if isinstance(x, tuple):
        items = [_literal(i) for i in x]
        texts = [t for t in items if t is not None]
        if len(texts) < len(items):
            return None
        return f"({texts[0]},)" if len(texts) == 1 else f"({', '.join(texts)})"
    if isinstance(x, np.dtype) or (isinstance(x, type) and x in (np.float64, np.float32)):
        return str(np.dtype(x)) if np.dtype(x) in (np.float64, np.float32) else None
    return None


def _index(index: Any, ndim: int) -> str | None:
    """numpy index syntax for ints, slices and `...`: `[:, 0]`."""
    parts = index if isinstance(index, tuple) else (index,)
    if len(parts) == ndim and parts[0] is Ellipsis:
        parts = (slice(None), *parts[1:])  # X[..., 0] of a matrix reads as X[:, 0]
    out = []
    for p in parts:
        if isinstance(p, slice) and p.step is None:
            start = "" if p.start is None else _literal(p.start)
            stop = "" if p.stop is None else _literal(p.stop)
            if start is None or stop is None or not isinstance(p.start or 0, int):
                return None
            out.append(f"{start}:{stop}")
        elif p is Ellipsis:
            out.append("...")
        elif isinstance(p, int) and not isinstance(p, bool):
            out.append(str(p))
        else:
            return None
    return "[" + ", ".join(out) + "]"


def _kept(shape: tuple[int, ...], axis: Any) -> tuple[int, ...]:
    return ops._kept_shape(shape, axis)


class Generator:
    """Writes the source of one traced step; `generate()` returns the Program."""

    def __init__(
        self,
        order: list[Node],
        root: Node,
        wrt: list[Node],
        args: list[Node],
        single: bool,
        aux: Node | None = None,
    ):
        self.single = single  # one gradient, returned bare, not in a tuple
        self.aux = aux  # a Value of the trace whose numbers the program returns too
        self.aux_text = ""  # how the return line ends with it
        self.order = order
        self.root = root
        self.wrt = wrt
        self.args = args
        self.names = _Names()
        self.constants: dict[str, Any] = {}
        self.primitives: dict[Any, str] = {}
        self.row_of_ones: dict[Any, str] = {}
        self.rows = 0  # N when tall (N, k) matrices are stored transposed
        self.grad_names: dict[Node, str] = {}
        self.shapes: dict[str, tuple[int, ...] | None] = {}  # each name's array's shape
        self.any_float32 = any(n.dtype == np.float32 for n in order)

    # ---- naming -----------------------------------------------------------
    def _name_nodes(self) -> list[Node]:
        """Give every node its text; return the live leaves in the order the program reads them."""
        leaves = []
        for node in self.args:
            node.text = self.names.claim(_identifier(node.name) or "arg")
        for node in self.order:
            if node.kind == "arg":
                continue
            if node.kind == "const":
                node.text = self.constant(node.value)
                node.data = node.value
                continue
            wanted = _identifier(node.name) or self._column_name(node)
            if node is self.root and wanted is None:
                wanted = "L"  # the lesson's name for the loss
            node.text = self.names.claim(wanted)
            if node.kind == "leaf":
                leaves.append(node)
        first_use: dict[Node, int] = {}
        for k, node in enumerate(self.order):
            for x in node.operands:
                if isinstance(x, Node):
                    first_use.setdefault(x, k)
        return sorted(leaves, key=lambda n: first_use.get(n, -1))  # as the forward reads them

    def _column_name(self, node: Node) -> str | None:
        """A column taken from a named array is named after it as the lesson does: X[:, 0] is x1."""
        if node.op is not ops.GetItem or node.kind != "op":
            return None
        source, index = node.operands[0], node.operands[1]
        if not isinstance(index, tuple) or len(index) != 2 or not isinstance(index[1], int):
            return None
        if index[0] not in (slice(None), Ellipsis) or not _identifier(source.name):
            return None
        return f"{source.name.lower()}{index[1] + 1}"

    def constant(self, value: Any) -> str:
        text = _literal(value)
        if text is not None:
            return text
        name = self.names.claim(None, "c")
        self.constants[name] = value
        return name

    def gradient_name(self, node: Node) -> str:
        """dL_dx for node x: the same name in the readable program and in the one that runs."""
        if node not in self.grad_names:
            self.grad_names[node] = self.names.claim(f"d{self.root.text}_d{node.text}")
        return self.grad_names[node]

    # ---- forward ------------------------------------------------------------
    def forward(self, node: Node) -> str:
        """The right-hand side computing `node` from its operands."""
        op, xs = node.op, node.operands
        n = len(op.grads)
        if self.rows and self.touches_tall(node):
            return self.forward_tall(node)
        names = [x.text for x in xs[:n]] + [self.constant(s) for s in xs[n:]]
        template = self.template(node)
        if template is not None:
            return self.fill(template[0], node, names)
        a = xs[0].text if n else ""
        if op is ops.PowerOf:
            if type(xs[0].data) is np.ndarray and type(xs[1]) is float:
                return f"{a} ** {names[1]}"
            return f"power({a}, {names[1]})"
        if op is ops.Sum and xs[0].shape:
            axis, keepdims = xs[1], xs[2]
            if axis is None and not keepdims:
                return f"{a}.sum()"
            if axis in (0, -2, (0,), (-2,)) and not keepdims and len(xs[0].shape) == 2:
                return f"{self.ones(xs[0].shape[0], node.dtype)} @ {a}"
            return f"{a}.sum(axis={names[1]}{', keepdims=True' if keepdims else ''})"
        if op is ops.Reshape and xs[0].shape:
            return f"{a}.reshape({self.constant(tuple(node.shape))})"
        if op is ops.Transpose and len(xs[0].shape) >= 2:
            return (
                f"{a}.T"
                if xs[1] is None and len(xs[0].shape) == 2
                else f"np.transpose({a}, {names[1]})"
            )
        if op is ops.BroadcastTo and xs[0].shape != tuple(node.shape):
            return f"np.broadcast_to({a}, {names[1]})"
        if op is ops.GetItem and xs[0].shape:
            index = _index(xs[1], len(xs[0].shape))
            return f"{a}{index}" if index is not None else f"{a}[{names[1]}]"
        if op is ops.MatMul:
            return f"{a} @ {names[1]}"
        if _is_copy(op):
            return a  # Value(v): the same numbers, a new leaf
        return f"{self.op_name(op)}.forward({', '.join(names)})"

    def ones(self, n: int, dtype: Any) -> str:
        """A constant row of n ones: `ones @ x` sums x's rows as one matrix–vector product.

        numpy's x.sum(axis=0) of a tall matrix with few columns walks it column by column:
        for 10⁴ × 2 it takes 25 times as long as the product (measured, numpy 2).
        """
        key = (n, np.dtype(dtype))
        if key not in self.row_of_ones:
            name = self.names.claim("ones")
            self.constants[name] = np.ones(n, dtype)
            self.row_of_ones[key] = name
        return self.row_of_ones[key]

    def fill(self, template: str, node: Node, names: list[str], g: str = "") -> str:
        """A template with the operands' names, the output's, its gradient's and the op's."""
        op = self.op_name(node.op) if "{op}" in template else ""
        return template.format(*names, g=g, out=node.text, op=op)

    def template(self, node: Node) -> tuple[str, ...] | None:
        """The primitive's templates: numpy's own calls on arrays, the engine's on numbers."""
        op = node.op
        if op in ARRAY_TEMPLATES and type(node.operands[0].data) is np.ndarray:
            return ARRAY_TEMPLATES[op]
        if op is ops.Div and _safe_divisor(node.operands[1]):
            # A mean's division of a numpy scalar by n: divide() would take np.errstate's
            # path for it (1.6 µs a call, against 0.05 µs), which no such division needs.
            return ARRAY_TEMPLATES[op]
        code = getattr(op, "code", None)
        if callable(code):  # templates that depend on how many operands the node has
            code = code(len(node.operands))
        return TEMPLATES.get(op) or code

    def op_name(self, op: Any) -> str:
        """The name under which the source calls a primitive that has no template."""
        if op not in self.primitives:
            self.primitives[op] = self.names.claim(_identifier(op.__name__) or "Op")
            self.constants[self.primitives[op]] = op
        return self.primitives[op]

    # ---- backward -------------------------------------------------------------
    def vjp(self, node: Node, i: int, g: str) -> tuple[str, tuple[int, ...] | None]:
        """The gradient flowing from `node` to its operand i, and its shape (None: not known)."""
        op, xs = node.op, node.operands
        n = len(op.grads)
        if self.rows and self.touches_tall(node):
            return self.vjp_tall(node, i, g)
        names = [x.text for x in xs[:n]] + [self.constant(s) for s in xs[n:]]
        a = xs[i]
        template = self.template(node)
        if template is not None:
            # The built-in templates' vjps are shaped like the output; a primitive's own
            # templates are tried on the traced numbers to see what shape they give.
            known = op in TEMPLATES or op in ARRAY_TEMPLATES
            shape = tuple(node.shape) if known else self._try(template[1 + i], node, g)
            return self.fill(template[1 + i], node, names, g), shape
        if op is ops.PowerOf:
            c = xs[1]
            lowered = self.constant(ops._lowered(c))
            if type(xs[0].data) is np.ndarray and type(c) is float:
                return f"{g} * ({names[1]} * {names[0]} ** {lowered})", tuple(node.shape)
            return f"{g} * ({names[1]} * power({names[0]}, {lowered}))", tuple(node.shape)
        if op is ops.BroadcastTo:
            return g, tuple(node.shape)
        if op is ops.Sum and a.shape:
            kept = _kept(a.shape, xs[1])
            if not xs[2] and kept != tuple(node.shape):
                g = f"{g}.reshape({self.constant(kept)})" if node.shape else g
            return _spread(g, self.constant(tuple(a.shape)), a.shape), tuple(a.shape)
        if op is ops.Reshape and a.shape:
            return f"np.reshape({g}, {self.constant(tuple(a.shape))})", tuple(a.shape)
        if op is ops.Transpose and len(a.shape) >= 2:
            inverse = ops._inverse(xs[1], len(a.shape))
            if inverse is None and len(a.shape) == 2:
                return f"{g}.T", tuple(a.shape)
            return f"np.transpose({g}, {self.constant(inverse)})", tuple(a.shape)
        if op is ops.GetItem and a.shape:
            return f"scatter({g}, {self.constant(tuple(a.shape))}, {names[1]})", tuple(a.shape)
        if op is ops.MatMul and len(xs[0].shape) == 2 and len(xs[1].shape) in (1, 2):
            other = xs[1 - i].text
            if len(xs[1].shape) == 1:  # (m, n) @ (n,): ∂a = g bᵀ, ∂b = aᵀ g
                return (f"np.outer({g}, {other})" if i == 0 else f"{other}.T @ {g}"), tuple(a.shape)
            return (f"{g} @ {other}.T" if i == 0 else f"{other}.T @ {g}"), tuple(a.shape)
        args = ", ".join([g, node.text, *names])
        return f"{self.op_name(op)}.grads[{i}]({args})", self._probe(node, i)

    def _try(self, template: str, node: Node, g: str) -> tuple[int, ...] | None:
        """The shape a template's vjp gives on the traced numbers (None if it fails)."""
        n = len(node.op.grads)
        xs = node.operands
        space = dict(NAMESPACE, _g=node.grad, _out=node.data, _op=node.op)
        space.update({f"_x{k}": x.data for k, x in enumerate(xs[:n])})
        statics = [self.constant(s) for s in xs[n:]]
        text = template.format(
            *[f"_x{k}" for k in range(n)], *statics, g="_g", out="_out", op="_op"
        )
        try:
            got = eval(text, {**space, **self.constants})
        except Exception:  # then the program calls fit, which reduces whatever comes back
            return None
        return shape_of(got) if isinstance(got, float | np.ndarray | np.floating) else None

    def _probe(self, node: Node, i: int) -> tuple[int, ...] | None:
        """The shape a primitive's own vjp gives on the traced numbers, when it can be trusted."""
        xs = node.operands
        n = len(node.op.grads)
        datas = [x.data if isinstance(x, Node) else x for x in xs[:n]] + list(xs[n:])
        try:
            got = node.op.grads[i](node.grad, node.data, *datas)
        except Exception:  # the program will call fit, which reduces whatever comes back
            return None
        shape, dtype = shape_and_dtype(got) if isinstance(got, float | np.ndarray) else ((), None)
        if dtype != xs[i].dtype or (type(got) is float) != (type(xs[i].data) is float):
            return None
        return shape if shape in (tuple(xs[i].shape), tuple(node.shape)) else None

    def _through_sigmoid(
        self, active: set[Node], edges: dict[Node, list[Node]]
    ) -> dict[Node, tuple[Node, str]]:
        """Each ŷ = σ(z) whose one reader is a loss with a `through_sigmoid` template: the loss
        and that template, ∂L/∂z written at once (the program that runs, for tall arrays).

        The log loss's is the lesson's dL_dz = (ŷ − y)/n: two passes over the batch, where the
        chain rule's ∂L/∂ŷ = (ŷ − y)/(ŷ(1 − ŷ))/n, then times ŷ(1 − ŷ), takes eight (a tenth of
        a step at 10⁴ rows), and the same numbers to a few ulps.
        """
        found = {}
        for loss in active:
            rule = getattr(loss.op, "through_sigmoid", None) if loss.kind == "op" else None
            template = rule(len(loss.operands)) if callable(rule) else None
            y_hat = loss.operands[0] if template else None
            if (
                isinstance(template, str)
                and isinstance(y_hat, Node)
                and y_hat in active
                and y_hat.kind == "op"
                and y_hat.op is ops.Sigmoid
                and edges[y_hat] == [loss]
                and not self.touches_tall(loss)
                and not self.touches_tall(y_hat)
            ):
                found[y_hat] = (loss, template)
        return found

    def _reduce(self, expr: str, shape: tuple[int, ...] | None, target: Node) -> str:
        """expr summed down to `target`'s shape (broadcasting undone) and in its dtype."""
        to = tuple(target.shape)
        if self.rows and shape is not None and self.is_tall(shape) and shape != to:
            return self.reduce_tall(expr, shape, target)
        if shape is None:
            return f"fit({expr}, {self.constant(to)}, {self.constant(target.dtype)})"
        if shape != to:
            if to == ():
                product = expr.split(" * ")
                if len(product) == 2 and len(shape) == 1 and all(_is_name(p) for p in product):
                    expr = f"{product[0]} @ {product[1]}"  # Σ g·x as one dot product, no temporary
                else:
                    expr = f"{expr}.sum()" if _is_name(expr) else f"({expr}).sum()"
            else:
                lead = len(shape) - len(to)
                if lead == 1 and len(shape) == 2:
                    expr = f"{self.ones(shape[0], target.dtype)} @ {_wrap(expr)}"
                elif lead:
                    expr = f"({expr}).sum(axis={self.constant(tuple(range(lead)))})"
                stretched = tuple(i for i, k in enumerate(to) if k == 1 and shape[lead + i] != 1)
                if stretched:
                    expr = f"({expr}).sum(axis={self.constant(stretched)}, keepdims=True)"
        if self.any_float32:
            expr = f"cast({expr}, {self.constant(target.dtype)})"
        return expr

    # ---- the layout pass ------------------------------------------------------------
    # A tall matrix (N, k), N ≥ TALL rows and few columns, is stored as its transpose (k, N):
    # then a column is a contiguous row, X @ W is Wᵀ @ Xᵀ, a bias adds along rows, and
    # numpy's loops run over N, not over k. (10⁴ × 2 plus a bias of 2: 3.6 µs transposed
    # against 128 µs, numpy 2.) Shapes stay those of the trace; only the code changes.
    def plan_layout(self) -> int:
        """N when every operation on a tall matrix can be written transposed, else 0."""
        nodes = [*self.args, *self.order]
        talls = {n.shape[0] for n in nodes if len(n.shape) == 2 and n.shape[0] >= TALL}
        if len(talls) != 1:
            return 0
        (rows,) = talls
        self.rows = rows
        for node in nodes:
            shape = tuple(node.shape)
            if len(shape) > 2 or (len(shape) == 2 and shape[0] == rows and shape[1] >= rows):
                break
            if node.kind == "const" and self.is_tall(shape):
                break  # a tall array f closes over is read as it is, not stored transposed
            if node.kind == "op" and self.touches_tall(node) and not self._layout_ok(node):
                break
        else:
            return rows
        self.rows = 0
        return 0

    def is_tall(self, shape: tuple[int, ...]) -> bool:
        return len(shape) == 2 and shape[0] == self.rows

    def touches_tall(self, node: Node) -> bool:
        if self.is_tall(tuple(node.shape)):
            return True
        return any(isinstance(x, Node) and self.is_tall(tuple(x.shape)) for x in node.operands)

    def _layout_ok(self, node: Node) -> bool:
        op, xs, out = node.op, node.operands, tuple(node.shape)
        n = len(op.grads)
        if op in TEMPLATES or op is ops.PowerOf or _is_copy(op) or hasattr(op, "code"):
            if not self.is_tall(out):
                return False
            fits = ((), (1,), (out[1],), (1, out[1]), (self.rows, 1), out)
            return all(tuple(x.shape) in fits for x in xs[:n])
        if op is ops.Sum:
            return self.is_tall(tuple(xs[0].shape)) and not xs[2] and xs[1] in _AXES
        if op is ops.MatMul:
            a, b = tuple(xs[0].shape), tuple(xs[1].shape)
            return self.is_tall(a) and len(b) == 2 and not self.is_tall(b)
        if op is ops.GetItem:
            index = xs[1]
            return (
                isinstance(index, tuple)
                and len(index) == 2
                and index[0] in (slice(None), Ellipsis)
                and isinstance(index[1], int)
                and not isinstance(index[1], bool)
            )
        return False

    def operand(self, x: Node, out: tuple[int, ...]) -> str:
        """x as it broadcasts against a transposed tall result."""
        shape = tuple(x.shape)
        if shape == (out[1],) and out[1] != 1:
            return f"{x.text}[:, None]"
        if len(shape) == 2 and not self.is_tall(shape):
            return f"{x.text}.T"
        return x.text

    def forward_tall(self, node: Node) -> str:
        op, xs, out = node.op, node.operands, tuple(node.shape)
        n = len(op.grads)
        if op is ops.Sum:
            a, axis = xs[0], _AXES[xs[1]]
            if axis is None:
                return f"{a.text}.sum()"
            if axis == 0:  # Σ over the rows, which are the stored columns
                return f"{a.text} @ {self.ones(self.rows, node.dtype)}"
            return f"{self.ones(a.shape[1], node.dtype)} @ {a.text}"
        if op is ops.MatMul:
            return f"{xs[1].text}.T @ {xs[0].text}"
        if op is ops.GetItem:
            return f"{xs[0].text}[{xs[1][1]}]"
        names = [self.operand(x, out) for x in xs[:n]] + [self.constant(s) for s in xs[n:]]
        if op is ops.PowerOf:
            if type(xs[1]) is float:
                return f"{names[0]} ** {names[1]}"
            return f"power({names[0]}, {names[1]})"
        if _is_copy(op):
            return names[0]
        template = self.template(node)
        assert template is not None
        return self.fill(template[0], node, names)

    def vjp_tall(self, node: Node, i: int, g: str) -> tuple[str, tuple[int, ...]]:
        op, xs, out = node.op, node.operands, tuple(node.shape)
        n = len(op.grads)
        a = xs[i]
        stored = self.constant((a.shape[1], self.rows)) if self.is_tall(tuple(a.shape)) else ""
        if op is ops.Sum:
            axis = _AXES[xs[1]]
            spread = f"{g}[:, None]" if axis == 0 else g
            return _spread(spread, stored, a.shape), tuple(a.shape)
        if op is ops.MatMul:
            if i == 0:
                if xs[1].shape[1] == 1:  # (k, 1) @ (1, N): one product each, as an outer product
                    return f"{xs[1].text} * {g}", tuple(a.shape)
                return f"{xs[1].text} @ {g}", tuple(a.shape)
            return f"{xs[0].text} @ {g}.T", tuple(a.shape)
        if op is ops.GetItem:
            return f"scatter({g}, {stored}, ({xs[1][1]},))", tuple(a.shape)
        names = [self.operand(x, out) for x in xs[:n]] + [self.constant(s) for s in xs[n:]]
        if op is ops.PowerOf:
            lowered = self.constant(ops._lowered(xs[1]))
            return f"{g} * ({names[1]} * power({names[0]}, {lowered}))", out
        if _is_copy(op):
            return g, out
        template = self.template(node)
        assert template is not None
        return self.fill(template[1 + i], node, names, g), out

    def reduce_tall(self, expr: str, shape: tuple[int, ...], target: Node) -> str:
        """A transposed tall contribution summed down to `target`'s shape."""
        to = tuple(target.shape)
        k = shape[1]
        if to == ():
            total = f"{_wrap(expr)}.sum()"
        elif to == (1,):  # from (1, N): one row's sum, as for (k,) below
            total = (
                f"{_wrap(expr)}.sum(axis=1)" if k == 1 else f"np.reshape({_wrap(expr)}.sum(), (1,))"
            )
        elif to == (k,):  # each stored row summed along its contiguous numbers
            total = f"{_wrap(expr)}.sum(axis=1)"
        elif to == (1, k):
            total = f"{_wrap(expr)}.sum(axis=1)[None, :]"
        else:  # (N, 1) from (N, k): stored (1, N)
            total = f"{self.ones(k, target.dtype)} @ {_wrap(expr)}"
            total = f"({total})[None, :]"
        if self.any_float32:
            total = f"cast({total}, {self.constant(target.dtype)})"
        return total

    # ---- in place, for tall arrays ---------------------------------------------------
    def assign(self, name: str, expr: str, node: Node, note: str) -> list[str]:
        """`name = expr`, or for a tall array the same arithmetic done in one new array.

        `z = w1 * a1 + w2 * a2 + b` becomes `z = w1 * a1`, `z += w2 * a2`, `z += b`: one
        new array where there were three, and the same numbers (each update is the
        operation it replaces, and + and * give the same bits either way round). Each
        step of a chain writes only into the array its first line made.
        """
        stored = self.stored(node)
        if not self.rows or self.any_float32 or stored is None or math.prod(stored) < TALL:
            return [f"{name} = {expr}{note}"]
        spine: list[tuple[str, ast.expr]] = []
        tree = ast.parse(expr, mode="eval").body
        while isinstance(tree, ast.BinOp) and type(tree.op) in _IN_PLACE:
            op = _IN_PLACE[type(tree.op)]
            if self.shape_of_code(tree.left) == stored and _fresh(tree.left):
                spine.append((op, tree.right))
                tree = tree.left
            elif (
                op in ("+=", "*=")
                and self.shape_of_code(tree.right) == stored
                and _fresh(tree.right)
            ):
                spine.append((op, tree.left))  # a + b is b + a, bit for bit
                tree = tree.right
            else:
                break
        if not spine or not _fresh(tree) or self.shape_of_code(tree) != stored:
            return [f"{name} = {expr}{note}"]
        steps = [f"{name} {op} {ast.unparse(x)}" for op, x in reversed(spine)]
        return [f"{name} = {ast.unparse(tree)}{note}", *steps]

    def stored(self, node: Node) -> tuple[int, ...] | None:
        """The shape a node's array has in the program: a tall one is stored transposed."""
        shape = tuple(node.shape)
        return (shape[1], shape[0]) if self.is_tall(shape) else shape

    def shape_of_code(self, tree: ast.expr) -> tuple[int, ...] | None:
        """The shape an expression of the program gives, from its names' (None: not known)."""
        if isinstance(tree, ast.Constant) and type(tree.value) is float:
            return ()
        if isinstance(tree, ast.Name):
            return self.shapes.get(tree.id)
        if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.USub):
            return self.shape_of_code(tree.operand)
        if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.MatMult):
            a, b = self.shape_of_code(tree.left), self.shape_of_code(tree.right)
            if a is None or b is None or len(a) != 2 or len(b) != 2 or a[1] != b[0]:
                return None
            return (a[0], b[1])
        if isinstance(tree, ast.BinOp) and type(tree.op) in _IN_PLACE:
            a, b = self.shape_of_code(tree.left), self.shape_of_code(tree.right)
            if a is None or b is None:
                return None
            try:
                return tuple(np.broadcast_shapes(a, b))
            except ValueError:
                return None
        if isinstance(tree, ast.Call) and ast.unparse(tree.func) in _FRESH and len(tree.args) == 1:
            return self.shape_of_code(tree.args[0])
        if isinstance(tree, ast.Attribute) and tree.attr == "T":
            inner = self.shape_of_code(tree.value)
            return None if inner is None else inner[::-1]
        if isinstance(tree, ast.Subscript) and isinstance(tree.value, ast.Name):
            inner, index = self.shapes.get(tree.value.id), ast.unparse(tree.slice)
            if inner is not None and len(inner) == 1 and index == "(:, None)":
                return (inner[0], 1)  # a bias as a column, against a matrix stored by columns
            if inner is not None and len(inner) == 2 and index.isdigit():
                return inner[1:]  # a stored row: one column of a tall matrix
        return None

    # ---- the whole step ---------------------------------------------------------
    def _fold_negations(self) -> None:
        """a + (−1·b) as a − b, when nothing else reads −1·b: one operation fewer each way."""
        readers: dict[Node, int] = {}
        for node in self.order:
            for x in node.operands:
                if isinstance(x, Node):
                    readers[x] = readers.get(x, 0) + 1
        folded: set[Node] = set()
        for node in self.order:
            if node.op is not ops.Add:
                continue
            for i in (1, 0):
                neg = node.operands[i]
                if self._negation_of(neg) is None or readers.get(neg) != 1 or neg in self.wrt:
                    continue
                if neg is self.aux:
                    continue
                if neg is self.root or neg.forward_only != node.forward_only:
                    continue
                node.op = Subtract
                node.operands = [node.operands[1 - i], self._negation_of(neg)]
                folded.add(neg)
                break
        self.order = [n for n in self.order if n not in folded]

    @staticmethod
    def _negation_of(node: Any) -> Node | None:
        """x when node is x · (−1.0), else None."""
        if not isinstance(node, Node) or node.op is not ops.Mul:
            return None
        a, b = node.operands
        if isinstance(b, Node) and b.kind == "const" and type(b.value) is float and b.value == -1.0:
            return a if isinstance(a, Node) else None
        return None

    def _merge_repeats(self) -> None:
        """One node for a repeated operation on the same operands (red and green both read x1)."""
        seen: dict[Any, Node] = {}
        same: dict[Node, Node] = {}
        kept = []
        for node in self.order:
            node.operands = [same.get(x, x) if isinstance(x, Node) else x for x in node.operands]
            # float32 results are left apart: their gradients round to float32 path by path
            # in the eager backward, and rounding one sum instead would disagree with it.
            if node.kind == "op" and node is not self.root and node.dtype == np.float64:
                statics = tuple(_literal(s) for s in node.operands[len(node.op.grads) :])
                if None not in statics:
                    ids = tuple(id(x) for x in node.operands[: len(node.op.grads)])
                    key = (node.op, ids, statics, node.forward_only)
                    if key in seen:
                        same[node] = seen[key]
                        continue
                    seen[key] = node
            kept.append(node)
        self.order = kept
        self.wrt = [same.get(w, w) for w in self.wrt]
        if self.aux is not None:
            self.aux = same.get(self.aux, self.aux)

    def generate(self) -> tuple[Program, list[Node]]:
        """The program, and the live leaves (parameters) it reads, in its parameters' order."""
        self._merge_repeats()
        self._fold_negations()
        leaves = self._name_nodes()
        order, root = self.order, self.root
        self.plan_layout()
        # A node gets a gradient when it lies on a path from a wrt node to the root that
        # does not pass through a forward-only (no_grad) node.
        depends = {n for n in self.wrt}
        for node in order:
            if node.kind != "op" or node.forward_only:
                continue
            if any(isinstance(x, Node) and x in depends for x in node.operands):
                depends.add(node)
        reaches = {root} if root in depends else set()
        for node in reversed(order):
            if node in reaches and node.kind == "op":
                reaches.update(x for x in node.operands[: len(node.op.grads)] if x in depends)
        active = depends & reaches

        rows = self.rows
        readable = None
        if rows:  # the learner reads the step as written on row-major arrays
            self.rows = 0
            readable = self._body(active, leaves)
            self.rows = rows
        run = self._body(active, leaves)  # last: self.shapes are then the run program's
        readable = readable or run
        if self.aux_text:  # the step as the lesson writes it returns the loss and gradients
            readable = [*readable[:-1], readable[-1].removesuffix(self.aux_text)]
        params = [n.text for n in self.args] + [n.text for n in leaves]
        head = f"def step({', '.join(params)}):\n"
        source = head + "".join(f"    {line}\n" for line in readable)
        run = _reuse(run)
        by_blocks = None
        if self.rows >= blocks.TALLEST and not self.any_float32:
            by_blocks = blocks.blocked(
                run, self.shapes, self.shape_of_code, self.rows, self.constants, self._block_buffers
            )
        if by_blocks is not None:
            run = by_blocks
        elif not self.any_float32 and any(
            s is not None and math.prod(s) >= lowering.BIG for s in self.shapes.values()
        ):
            run = self._lowered(run)
        run = self._quick(run)
        run_source = head + "".join(f"    {line}\n" for line in run)
        namespace = dict(NAMESPACE, own=_own, fit=_fit, copied=_copied, **self.constants)
        exec(compile(run_source, "<autograd.compile>", "exec"), namespace)
        return Program(source, namespace["step"], params, run_source), leaves

    def _quick(self, lines: list[str]) -> list[str]:
        """Calls the program makes faster where they cost more than the arithmetic (small n).

        `x.sum()` as np.add.reduce(x, None), its own core (0.5 µs less a call), and
        np.full(S, g) as g * ones (1 µs against 0.35): the same numbers.
        """
        out = []
        for line in lines:
            if ".sum()" in line:
                line = _SUM.sub(r"np.add.reduce(\1, None)", line)
            if "np.full(" in line and not self.any_float32:
                line = _FULL.sub(self._ones_times, line)
            if " = sigmoid(" in line:  # an array's σ written out in place: no call
                out += self._sigmoid_lines(line)
                continue
            out.append(line)
        return out

    def _sigmoid_lines(self, line: str) -> list[str]:
        """`a = sigmoid(z)` of an array as codegen's sigmoid computes it, in four lines."""
        parts = line.split("  #")[0].split(" ")
        if len(parts) != 3 or not (parts[2].startswith("sigmoid(") and parts[2].endswith(")")):
            return [line]
        a, z = parts[0], parts[2][len("sigmoid(") : -1]
        shape = self.shapes.get(a)
        if not z.isidentifier() or not shape or self.shapes.get(z) != shape:
            return [line]
        return [
            f"{a} = np.negative({z})",
            f"np.exp({a}, {a})",
            f"{a} += 1.0",
            f"np.reciprocal({a}, {a})",
        ]

    def _ones_times(self, found: re.Match[str]) -> str:
        shape = tuple(int(k) for k in found.group(1).strip("()").split(",") if k.strip())
        key = ("full", shape)
        if key not in self.row_of_ones:
            name = self.names.claim("ones")
            self.constants[name] = np.ones(shape)
            self.row_of_ones[key] = name
        return f"{found.group(2)} * {self.row_of_ones[key]}"

    def _only_multiplied(self, x: Node) -> bool:
        """True when x (or a copy of it) is read only as the left operand of @.

        BLAS reads a transposed matrix in place, so x's columns need not be copied
        (for 10⁶ × 2, a copy of 16 MB a call).
        """
        seen, todo = {x}, [x]
        while todo:
            node = todo.pop()
            for user in self.order:
                if not any(o is node for o in user.operands):
                    continue
                if _is_copy(user.op):
                    if user not in seen:
                        seen.add(user)
                        todo.append(user)
                elif (
                    user.op is not ops.MatMul
                    or user.operands[0] is not node
                    or user.operands[1] is node
                ):
                    return False
        return True

    def _block_buffers(
        self, body: list[str], shapes: dict[str, tuple[int, ...]], kept: set[str]
    ) -> tuple[list[str], list[str], list[str], list[str]]:
        """One block's lines in buffers of its shape: (body, before the loop, at each block,
        after it). A block narrower than the rest (the last) writes into its first columns.
        """
        whole = self.shapes
        self.shapes = {**whole, **shapes}
        try:
            low = lowering.Lowering(self.shape_of_code, self.names.claim)
            low.lower(body, kept, self.shapes)
        finally:
            self.shapes = whole
        if not low.buffers:
            return body, [], [], []
        pool, new = self.names.claim("pool"), self.names.claim("new_buffers")
        self.constants[pool] = []
        self.constants[new] = lowering.buffers_maker(low.buffers)
        full = [f"{name}_all" for name in low.names]
        unpack = ", ".join(full) + ("," if len(full) == 1 else "")
        top = [
            "try:  # this call's buffers, which no other call uses while it runs",
            f"    taken = {pool}.pop()",
            "except IndexError:",
            f"    taken = {new}()",
            f"{unpack} = taken",
        ]
        at_block = [f"{name} = {name}_all[..., :width]" for name in low.names]
        return low.out, top, at_block, [f"{pool}.append(taken)"]

    def _lowered(self, lines: list[str]) -> list[str]:
        """The run program's lines with its large arrays in buffers (see autograd.lowering)."""
        body, back = lines[:-1], ast.parse(lines[-1]).body[0]
        assert isinstance(back, ast.Return) and back.value is not None
        returned = {n.id for n in ast.walk(back) if isinstance(n, ast.Name)}
        low = lowering.Lowering(self.shape_of_code, self.names.claim)
        code = [line for line in body if not line.lstrip().startswith("#")]
        escaping = low.lower(code, returned, self.shapes)
        if not low.buffers:
            return lines
        for node in ast.walk(back):  # a result that may be a buffer is handed out as a copy
            for field_name, value in ast.iter_fields(node):
                if isinstance(value, list):
                    value[:] = [_copy_call(v) if _escapes(v, escaping) else v for v in value]
                elif _escapes(value, escaping):
                    setattr(node, field_name, _copy_call(value))
        pool, new = self.names.claim("pool"), self.names.claim("new_buffers")
        self.constants[pool] = []
        self.constants[new] = lowering.buffers_maker(low.buffers)
        taken = self.names.claim("taken")
        unpack = ", ".join(low.names) + ("," if len(low.names) == 1 else "")
        return [
            "try:  # this call's buffers, which no other call uses while it runs",
            f"    {taken} = {pool}.pop()",
            "except IndexError:",
            f"    {taken} = {new}()",
            f"{unpack} = {taken}",
            *low.out,
            f"{pool}.append({taken})",
            ast.unparse(back),
        ]

    def _body(self, active: set[Node], leaves: list[Node]) -> list[str]:
        """The lines of the step, forward then backward, ending with its return."""
        order, root = self.order, self.root
        lines: list[str] = []
        self.shapes = {
            n.text: self.stored(n) for n in [*self.args, *order] if n.kind in ("arg", "leaf", "op")
        }
        if self.rows:
            for x in [*self.args, *leaves]:
                if self.is_tall(tuple(x.shape)) and self._only_multiplied(x):
                    lines.append(
                        f"{x.text} = {x.text}.T  # read by @ alone, which takes it as it is"
                    )
                elif self.is_tall(tuple(x.shape)):
                    transposed = f"{x.text} = np.ascontiguousarray({x.text}.T)"
                    lines.append(f"{transposed}  # stored as its columns, one row each")
        lines.append("# forward")
        for node in order:
            if node.kind == "op":
                note = "  # no gradient flows back through this line" if node.forward_only else ""
                lines += self.assign(node.text, self.forward(node), node, note)
        grads: dict[Node, str] = {}
        made: dict[str, str] = {}  # each gradient's name → the expression it was assigned
        if active:
            lines.append("# backward")
            edges: dict[Node, list[Node]] = {n: [] for n in active}
            for node in order:
                if node in active and node.kind == "op":
                    for x in node.operands[: len(node.op.grads)]:
                        if x in active:
                            edges[x].append(node)
            pending: dict[Node, list[str]] = {n: [] for n in active}
            seed = "1.0" if root.dtype == np.float64 else f"{root.dtype}(1.0)"
            grads[root] = self.gradient_name(root)
            lines.append(f"{grads[root]} = {seed}")
            through = self._through_sigmoid(active, edges) if self.rows else {}
            for node in reversed(order):
                if node not in active or node.kind != "op":
                    continue
                for i, x in enumerate(node.operands[: len(node.op.grads)]):
                    if x not in active or (i == 0 and x in through):
                        continue  # a σ whose one reader is a loss: its input's line is the loss's
                    if node in through:
                        loss, template = through[node]
                        names = [y.text for y in loss.operands[: len(loss.op.grads)]]
                        expr = self.fill(template, loss, names, grads[loss])
                        shape: tuple[int, ...] | None = tuple(node.shape)
                    else:
                        expr, shape = self.vjp(node, i, grads[node])
                    pending[x].append(self._reduce(expr, shape, x))
                    if len(pending[x]) == len(edges[x]):
                        grads[x] = self.gradient_name(x)
                        self.shapes[grads[x]] = self.stored(x)
                        total = _sum_text(reversed(pending[x]))  # in the forward's order
                        note = ""
                        if len(edges[x]) > 1:
                            via = ", ".join(e.text for e in edges[x])
                            paths = f"{len(edges[x])} paths (through {via})"
                            note = f"  # {x.text} reaches {root.text} along {paths}: they add up"
                        lines += self.assign(grads[x], total, x, note)
                        made[grads[x]] = total
        results = []
        handed: set[str] = set()  # the arrays already returned, after following aliases
        for w in self.wrt:
            if w in grads:
                g = grads[w]
                if self.rows and self.is_tall(tuple(w.shape)):
                    results.append(f"np.ascontiguousarray({g}.T)")
                elif w.shape:
                    results.append(_handed_out(g, made, handed))
                else:
                    results.append(g)
            else:
                zero = "0.0" if not w.shape and w.dtype == np.float64 else None
                results.append(
                    zero or f"np.zeros({self.constant(tuple(w.shape))}, {self.constant(w.dtype)})"
                )
        aux = ""
        if self.aux is not None:
            tall = self.rows and self.is_tall(tuple(self.aux.shape))
            aux = f", np.ascontiguousarray({self.aux.text}.T)" if tall else f", {self.aux.text}"
        self.aux_text = aux
        if self.single:
            lines.append(f"return {root.text}, {results[0]}{aux}")
        else:
            lines.append(
                f"return {root.text}, ({', '.join(results)}{',' if len(results) == 1 else ''}){aux}"
            )
        return lines


_SUM = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\.sum\(\)")
_FULL = re.compile(r"np\.full\((\((?:\d+, )*\d*,?\)), ([A-Za-z_]\w*)\)")


def _reuse(lines: list[str]) -> list[str]:
    """A complement `(1.0 - x)` that an earlier line `t = 1.0 - x` computed, read as t.

    (The forward's 1 − ŷ is σ's slope's in the backward.) Names changed in place or
    assigned twice are left alone: their arrays may no longer hold what a line computed.
    Plain string tests, a few µs: the first call pays them.
    """
    if not any("(1.0 - " in line for line in lines):
        return lines
    changed: set[str] = set()
    seen: set[str] = set()
    for line in lines:
        head = line.split(" ", 2)
        if len(head) > 2 and head[1] in _UPDATES:
            changed.add(head[0])
        elif len(head) > 2 and head[1] == "=":
            (changed if head[0] in seen else seen).add(head[0])
    known: dict[str, str] = {}
    out = []
    for line in lines:
        if known and "(1.0 - " in line:
            line = _replace(line, known)
        if " = 1.0 - " in line:
            parts = line.split("  #")[0].split(" ")
            if len(parts) == 5 and parts[4].isidentifier() and not {parts[0], parts[4]} & changed:
                known[f"(1.0 - {parts[4]})"] = parts[0]
        out.append(line)
    return out


_UPDATES = ("+=", "-=", "*=", "/=")


def _replace(line: str, known: dict[str, str]) -> str:
    """line with each `(1.0 - x)` known, and not a call's parentheses, as its name."""
    start = 0
    while (k := line.find("(1.0 - ", start)) >= 0:
        close = line.find(")", k)
        name = known.get(line[k : close + 1]) if close > 0 else None
        before = line[k - 1] if k else " "
        if name is None or before.isalnum() or before in "_)].":
            start = k + 1
            continue
        line = line[:k] + name + line[close + 1 :]
        start = k + len(name)
    return line


def _escapes(tree: Any, escaping: set[str]) -> bool:
    return isinstance(tree, ast.Name) and tree.id in escaping


def _copy_call(tree: ast.expr) -> ast.expr:
    return ast.Call(ast.Name("copied", ast.Load()), [tree], [])


def _copied(x: Any) -> Any:
    """A result that may be one of the program's buffers, as an array of the caller's own."""
    return x.copy() if type(x) is np.ndarray else x


def _sigmoid(x: Any) -> Any:
    """σ(x) = 1/(1 + e^−x): for an array in place in one fresh array, as the engine's, unguarded.

    In place pays from one element: 1.2 µs against 1.5 for four fresh arrays (numpy 2).
    """
    if type(x) is not np.ndarray or not x.ndim:
        return ops._sigmoid(x)
    t = np.negative(x)
    np.exp(t, t)
    t += 1.0
    return np.reciprocal(t, t)


NAMESPACE["sigmoid"] = _sigmoid  # defined here, below: a call through a lambda cost a frame


TALL = 1024  # rows from which a tall matrix is stored transposed (see plan_layout)
_AXES = {None: None, 0: 0, -2: 0, (0,): 0, (-2,): 0, 1: 1, -1: 1, (1,): 1, (-1,): 1}


_IN_PLACE = {ast.Add: "+=", ast.Sub: "-=", ast.Mult: "*=", ast.Div: "/="}
_FRESH = {"sigmoid", "np.exp", "np.log", "np.tanh"}  # calls that return a new array


def _safe_divisor(x: Any) -> bool:
    """A constant b with |b| ≥ 1: a / b cannot divide by zero or overflow, so never warns."""
    if not isinstance(x, Node) or x.kind != "const" or type(x.value) is not float:
        return False
    return math.isfinite(x.value) and abs(x.value) >= 1.0


def _fresh(tree: ast.expr) -> bool:
    """True when the expression's value is a new array (arithmetic, or one of _FRESH)."""
    if isinstance(tree, ast.BinOp) and type(tree.op) in _IN_PLACE:
        return True
    return isinstance(tree, ast.Call) and ast.unparse(tree.func) in _FRESH


def _is_copy(op: Any) -> bool:
    return bool(op.__name__ == "Copy" and op.__module__ == "autograd.compile")


def _spread(g: str, shape: str, size: tuple[int, ...]) -> str:
    """g repeated to fill `shape`: a new array when small, a read-only view when large.

    np.broadcast_to costs about 3 µs a call, np.full a third of that on a few thousand
    numbers; past that the view, which writes nothing, wins (numpy 2).
    """
    if math.prod(size) <= 4096:
        return f"np.full({shape}, {g})"
    return f"np.broadcast_to({g}, {shape})"


def _sum_text(terms: Any) -> str:
    """t1 + t2 + …, with a term that starts with a minus subtracted: a - b, not a + -b."""
    text = ""
    for term in terms:
        if not text:
            text = term
        elif term.startswith("-") and _is_name(term[1:]):
            text += f" - {term[1:]}"
        else:
            text += f" + {term}"
    return text


def _wrap(expr: str) -> str:
    """expr as an operand of @: in parentheses unless it is a name."""
    return expr if _is_name(expr) else f"({expr})"


def _is_name(text: str) -> bool:
    return text.isidentifier()


def _handed_out(g: str, made: dict[str, str], handed: set[str]) -> str:
    """How the program returns the array gradient g: bare when it is sure to be a new array.

    Assigned another gradient's name (`dL_da = dL_dt1`), g is that array: a second result
    that is the same array is copied, or the caller's change to one would change the other.
    A result of arithmetic or @ is a new array; anything else may be a view, and `own`
    copies it if it is one. (Each own() call costs a Python call, about 0.3 µs.)
    """
    array = g
    while _is_name(made.get(array, "")):
        array = made[array]
    if array in handed:
        return f"{g}.copy()"
    handed.add(array)
    expr = made.get(array)
    fresh = expr is not None and _binary(expr)
    return g if fresh else f"own({g})"


def _binary(expr: str) -> bool:
    """True when the expression's last operation is a binary operator (its value is new).

    A scan for an operator outside parentheses: ast.parse costs 10 µs an expression, and
    the first call pays it for every array returned.
    """
    depth = 0
    for k, c in enumerate(expr):
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif (
            depth == 0
            and c in "+-*/@"
            and 0 < k < len(expr) - 1
            and expr[k - 1 : k + 2 : 2] == "  "
        ):
            return True
    return False


def _own(g: Any) -> Any:
    """A gradient the caller may keep: a fresh array, not a view of another one."""
    return g.copy() if type(g) is not np.ndarray or g.base is not None else g


def _fit(g: Any, shape: tuple[int, ...], dtype: Any) -> Any:
    """A vjp's result summed down to its input's shape and dtype, as the eager backward does."""
    if shape == ():
        if type(g) is float:
            return g if dtype == np.float64 else dtype.type(g)
        total = np.sum(g, dtype=dtype)
        return float(total) if dtype == np.float64 else total
    g = unbroadcast(np.asarray(g, dtype=dtype), shape)
    return g


def shape_and_dtype(data: Any) -> tuple[tuple[int, ...], np.dtype[Any]]:
    """The shape and dtype of raw data."""
    return shape_of(data), np.dtype(np.float64) if type(data) is float else data.dtype


def is_primitive(op: Any) -> bool:
    """True for a Primitive subclass: the generator can replay it."""
    return isinstance(op, type) and issubclass(op, Primitive)
