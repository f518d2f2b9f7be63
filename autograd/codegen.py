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

import keyword
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd import ops
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
        self.grad_names: dict[Node, str] = {}
        self.shapes: dict[str, tuple[int, ...] | None] = {}  # each name's array's, as stored
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
            rows = axis in (0, -2, (0,), (-2,)) and not keepdims and len(xs[0].shape) == 2
            if rows and not self.any_float32:  # float32 sums as the eager step's, in its order
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

    def _reduce(self, expr: str, shape: tuple[int, ...] | None, target: Node) -> str:
        """expr summed down to `target`'s shape (broadcasting undone) and in its dtype."""
        to = tuple(target.shape)
        if shape is None:
            return f"fit({expr}, {self.constant(to)}, {self.constant(target.dtype)})"
        # A sum of products as @ adds in another order than numpy's sum: float32 rounds apart
        # (past 10⁴ numbers, by more than the compiler's check allows), so it sums as eagerly.
        dot = not self.any_float32
        if shape != to:
            if to == ():
                product = expr.split(" * ")
                if dot and len(product) == 2 and len(shape) == 1 and all(map(_is_name, product)):
                    expr = f"{product[0]} @ {product[1]}"  # Σ g·x as one dot product, no temporary
                else:
                    expr = f"{expr}.sum()" if _is_name(expr) else f"({expr}).sum()"
            else:
                lead = len(shape) - len(to)
                if dot and lead == 1 and len(shape) == 2:
                    expr = f"{self.ones(shape[0], target.dtype)} @ {_wrap(expr)}"
                elif lead:
                    expr = f"({expr}).sum(axis={self.constant(tuple(range(lead)))})"
                stretched = tuple(i for i, k in enumerate(to) if k == 1 and shape[lead + i] != 1)
                if stretched:
                    expr = f"({expr}).sum(axis={self.constant(stretched)}, keepdims=True)"
        if self.any_float32:
            expr = f"cast({expr}, {self.constant(target.dtype)})"
        return expr

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

    def prepare(self) -> tuple[set[Node], list[Node]]:
        """Simplify and name the trace: (the nodes that get a gradient, the live leaves)."""
        self._merge_repeats()
        self._fold_negations()
        leaves = self._name_nodes()
        # A node gets a gradient when it lies on a path from a wrt node to the root that
        # does not pass through a forward-only (no_grad) node.
        depends = {n for n in self.wrt}
        for node in self.order:
            if node.kind != "op" or node.forward_only:
                continue
            if any(isinstance(x, Node) and x in depends for x in node.operands):
                depends.add(node)
        reaches = {self.root} if self.root in depends else set()
        for node in reversed(self.order):
            if node in reaches and node.kind == "op":
                reaches.update(x for x in node.operands[: len(node.op.grads)] if x in depends)
        return depends & reaches, leaves

    def generate(self) -> tuple[Program, list[Node]]:
        """The program, and the live leaves (parameters) it reads, in its parameters' order."""
        active, leaves = self.prepare()
        lines = self._body(active, leaves)
        return self.program(lines, lines, leaves), leaves

    def program(self, readable: list[str], run: list[str], leaves: list[Node]) -> Program:
        """The Program of a step's lines: `readable` for the learner, `run` compiled to run."""
        if self.aux_text:  # the step as the lesson writes it returns the loss and gradients
            readable = [*readable[:-1], readable[-1].removesuffix(self.aux_text)]
        params = [n.text for n in self.args] + [n.text for n in leaves]
        head = f"def step({', '.join(params)}):\n"
        source = head + "".join(f"    {line}\n" for line in readable)
        run_source = head + "".join(f"    {line}\n" for line in run)
        namespace = dict(NAMESPACE, own=_own, fit=_fit, copied=_copied, **self.constants)
        exec(compile(run_source, "<autograd.compile>", "exec"), namespace)
        return Program(source, namespace["step"], params, run_source)

    # ---- hooks: what the program that runs writes otherwise (see autograd.fastcode) ----
    def stored(self, node: Node) -> tuple[int, ...] | None:
        """The shape of a node's array in the program."""
        return tuple(node.shape)

    def assign(self, name: str, expr: str, node: Node, note: str) -> list[str]:
        """The lines that give `name` the value of `expr`."""
        return [f"{name} = {expr}{note}"]

    def prologue(self, leaves: list[Node]) -> list[str]:
        """Lines before the forward."""
        return []

    def fused(
        self, active: set[Node], edges: dict[Node, list[Node]]
    ) -> dict[Node, tuple[Node, str]]:
        """Nodes whose input's gradient is written at once from a reader's template."""
        return {}

    def returned(self, node: Node, text: str) -> str | None:
        """How the return line hands out `text`, node's array or gradient (None: as it is)."""
        return None

    def _body(self, active: set[Node], leaves: list[Node]) -> list[str]:
        """The lines of the step, forward then backward, ending with its return."""
        order, root = self.order, self.root
        lines: list[str] = []
        self.shapes = {
            n.text: self.stored(n) for n in [*self.args, *order] if n.kind in ("arg", "leaf", "op")
        }
        lines += self.prologue(leaves)
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
            through = self.fused(active, edges)
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
                text = self.returned(w, g)
                if text is not None:
                    results.append(text)
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
            aux = f", {self.returned(self.aux, self.aux.text) or self.aux.text}"
        self.aux_text = aux
        if self.single:
            lines.append(f"return {root.text}, {results[0]}{aux}")
        else:
            lines.append(
                f"return {root.text}, ({', '.join(results)}{',' if len(results) == 1 else ''}){aux}"
            )
        return lines


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


def _safe_divisor(x: Any) -> bool:
    """A constant b with |b| ≥ 1: a / b cannot divide by zero or overflow, so never warns."""
    if not isinstance(x, Node) or x.kind != "const" or type(x.value) is not float:
        return False
    return math.isfinite(x.value) and abs(x.value) >= 1.0


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
