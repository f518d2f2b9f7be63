"""The program that runs: codegen's readable step, written to run faster on the same numbers.

`FastGenerator` writes the step twice. The learner's program is codegen's, on
row-major arrays. The one that runs differs where that measures faster:

- a tall matrix (TALL rows or more, few columns) is stored by its columns, so a
  column is a contiguous row and numpy's loops run along the batch;
- a loss read through σ writes ∂L/∂z at once (the lesson's dL_dz = (ŷ − y)/n);
- arithmetic on tall arrays is done in place in one new array, large arrays are
  kept in buffers reused from call to call (see `lowering`) or worked through in
  blocks that stay in cache (see `blocks`);
- calls that cost more than their arithmetic on small arrays are replaced (σ in
  place, sums by their core, `np.full` by a product).

Each change keeps the numbers: the tests compare both programs with the eager step.
"""

from __future__ import annotations

import ast
import math
import re
from typing import Any

import numpy as np

from autograd import blocks, lowering, ops
from autograd.codegen import (
    TEMPLATES,
    Generator,
    Node,
    Program,
    _is_copy,
    _spread,
    _wrap,
)


class FastGenerator(Generator):
    """A Generator whose `generate()` also writes the faster program that runs."""

    rows = 0  # N when tall (N, k) matrices are stored transposed

    def generate(self) -> tuple[Program, list[Node]]:
        """The readable program and the one that runs, and the live leaves they read."""
        active, leaves = self.prepare()
        readable = self._body(active, leaves)  # row-major, as the learner reads the step
        run = self._body(active, leaves) if self.plan_layout() else readable
        run = _reuse(run)  # self.shapes are now the run program's
        by_blocks = None
        if self.rows >= blocks.TALLEST:  # (never for float32: see plan_layout)
            by_blocks = blocks.blocked(
                run, self.shapes, self.shape_of_code, self.rows, self.constants, self._block_buffers
            )
        if by_blocks is not None:
            run = by_blocks
        elif not self.any_float32 and any(
            s is not None and math.prod(s) >= lowering.BIG for s in self.shapes.values()
        ):
            run = self._lowered(run)
        return self.program(readable, self._quick(run), leaves), leaves

    # ---- the layout hooks -------------------------------------------------------
    def forward(self, node: Node) -> str:
        if self.rows and self.touches_tall(node):
            return self.forward_tall(node)
        return super().forward(node)

    def vjp(self, node: Node, i: int, g: str) -> tuple[str, tuple[int, ...] | None]:
        if self.rows and self.touches_tall(node):
            return self.vjp_tall(node, i, g)
        return super().vjp(node, i, g)

    def _reduce(self, expr: str, shape: tuple[int, ...] | None, target: Node) -> str:
        if self.rows and shape is not None and self.is_tall(shape) and shape != tuple(target.shape):
            return self.reduce_tall(expr, shape, target)
        return super()._reduce(expr, shape, target)

    def prologue(self, leaves: list[Node]) -> list[str]:
        """Each tall input stored by its columns (or read transposed by @ alone)."""
        lines = []
        for x in [*self.args, *leaves] if self.rows else []:
            if self.is_tall(tuple(x.shape)) and self._only_multiplied(x):
                lines.append(f"{x.text} = {x.text}.T  # read by @ alone, which takes it as it is")
            elif self.is_tall(tuple(x.shape)):
                transposed = f"{x.text} = np.ascontiguousarray({x.text}.T)"
                lines.append(f"{transposed}  # stored as its columns, one row each")
        return lines

    def returned(self, node: Node, text: str) -> str | None:
        """A tall array handed back in the caller's layout."""
        if self.rows and self.is_tall(tuple(node.shape)):
            return f"np.ascontiguousarray({text}.T)"
        return None

    # ---- the layout pass ------------------------------------------------------------
    # A tall matrix (N, k), N ≥ TALL rows and few columns, is stored as its transpose (k, N):
    # then a column is a contiguous row, X @ W is Wᵀ @ Xᵀ, a bias adds along rows, and
    # numpy's loops run over N, not over k. (10⁴ × 2 plus a bias of 2: 3.6 µs transposed
    # against 128 µs, numpy 2.) Shapes stay those of the trace; only the code changes.
    def plan_layout(self) -> int:
        """N when every operation on a tall matrix can be written transposed, else 0."""
        if self.any_float32:  # its sums along stored rows would round apart from the eager ones
            return 0
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
        return total  # float64: plan_layout stores nothing transposed in a float32 step

    # ---- in place, for tall arrays ---------------------------------------------------
    def assign(self, name: str, expr: str, node: Node, note: str) -> list[str]:
        """`name = expr`, or for a tall array the same arithmetic done in one new array.

        `z = w1 * a1 + w2 * a2 + b` becomes `z = w1 * a1`, `z += w2 * a2`, `z += b`: one
        new array where there were three, and the same numbers (each update is the
        operation it replaces, and + and * give the same bits either way round). Each
        step of a chain writes only into the array its first line made.
        """
        stored = self.stored(node)
        if not self.rows or stored is None or math.prod(stored) < TALL:
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

    def fused(
        self, active: set[Node], edges: dict[Node, list[Node]]
    ) -> dict[Node, tuple[Node, str]]:
        """Each ŷ = σ(z) whose one reader is a loss with a `through_sigmoid` template: the loss
        and that template, ∂L/∂z written at once (the program that runs, for tall arrays).

        The log loss's is the lesson's dL_dz = (ŷ − y)/n: two passes over the batch, where the
        chain rule's ∂L/∂ŷ = (ŷ − y)/(ŷ(1 − ŷ))/n, then times ŷ(1 − ŷ), takes eight (a tenth of
        a step at 10⁴ rows), and the same numbers to a few ulps.
        """
        found: dict[Node, tuple[Node, str]] = {}
        if not self.rows:
            return found
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


TALL = 1024  # rows from which a tall matrix is stored transposed (see plan_layout)
_AXES = {None: None, 0: 0, -2: 0, (0,): 0, (-2,): 0, 1: 1, -1: 1, (1,): 1, (-1,): 1}


_IN_PLACE = {ast.Add: "+=", ast.Sub: "-=", ast.Mult: "*=", ast.Div: "/="}
_FRESH = {"sigmoid", "np.exp", "np.log", "np.tanh"}  # calls that return a new array


def _fresh(tree: ast.expr) -> bool:
    """True when the expression's value is a new array (arithmetic, or one of _FRESH)."""
    if isinstance(tree, ast.BinOp) and type(tree.op) in _IN_PLACE:
        return True
    return isinstance(tree, ast.Call) and ast.unparse(tree.func) in _FRESH
