"""The program `autograd.compile` runs: the generated lines, with large arrays kept in buffers.

A large array that numpy allocates afresh at every call costs page faults as well as
arithmetic: under glibc's default malloc an array past its threshold comes from the
operating system, zeroed, and goes back to it when freed. Here each line that
computes a large array by arithmetic writes its result, and every large
intermediate of its expression, into a buffer with `out=`:

    dL_dt7 = dL_dt8 / t7 - dL_dt10    →    np.divide(dL_dt8, t7, out=b3)
                                           np.subtract(b3, dL_dt10, out=b3)
                                           dL_dt7 = b3

The numbers are the same: each ufunc call is the operation the line does, on the
same operands in the same order. A buffer is reused once no name that may refer
to it (itself, an alias, a view, or what an unknown call made of it) is read again.
One call's buffers are a set taken from a pool at its start and put back at its end,
so two threads never share one, and no array a caller is handed is a buffer: a
result that may refer to one is copied.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from typing import Any

import numpy as np

BIG = 4096  # elements from which an array is kept in a buffer (below, out= costs more)

_UFUNCS = {ast.Add: "np.add", ast.Sub: "np.subtract", ast.Mult: "np.multiply", ast.Div: "np.divide"}
_UNARY = {
    "np.exp": "np.exp",
    "np.log": "np.log",
    "np.tanh": "np.tanh",
    "np.negative": "np.negative",
}

Shape = tuple[int, ...]


def _reads(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def _fresh(tree: ast.expr) -> bool:
    """True when the expression's value is a new object (arithmetic or an elementwise call)."""
    if isinstance(tree, ast.BinOp | ast.UnaryOp):
        return True
    if not isinstance(tree, ast.Call):
        return False
    if isinstance(tree.func, ast.Attribute) and tree.func.attr == "sum":
        return True  # x.sum(): a new number or array
    return ast.unparse(tree.func) in (*_UNARY, "sigmoid")


def _matrix(a: Shape | None, b: Shape | None) -> bool:
    """True for two 2-D shapes that @ takes (what np.matmul's out= is written for here)."""
    return a is not None and b is not None and len(a) == 2 and len(b) == 2


class Lowering:
    """Rewrites a straight-line program so that its large arrays live in reused buffers."""

    def __init__(
        self,
        shape_of: Callable[[ast.expr], Shape | None],
        claim: Callable[[str], str],
    ):
        self.shape_of = shape_of  # the shape an expression gives (None: not known)
        self.claim = claim  # a new name for the program
        self.buffers: list[Shape] = []
        self.names: list[str] = []
        self.free: dict[Shape, list[int]] = {}
        self.out: list[str] = []
        self.last: dict[str, int] = {}  # each name's last reading line
        self.held: dict[int, int] = {}
        self.now = 0  # the line being written

    # ---- buffers ---------------------------------------------------------------
    def take(self, shape: Shape) -> int:
        free = self.free.get(shape)
        if free:
            return free.pop()
        self.buffers.append(shape)
        self.names.append(self.claim("b"))
        return len(self.buffers) - 1

    def give_back(self, k: int) -> None:
        self.free.setdefault(self.buffers[k], []).append(k)

    # ---- one expression into a buffer --------------------------------------------
    def lowerable(self, tree: ast.expr, shape: Shape) -> bool:
        """Every part has a known shape, and each large part is arithmetic we can write out."""
        got = self.shape_of(tree)
        if got is None:
            return False
        if got != shape or not _fresh(tree):
            return True  # written as it is: small, or a name or view read as it is
        if isinstance(tree, ast.BinOp):
            if isinstance(tree.op, ast.MatMult):  # of two arrays as they are, not of arithmetic
                return not (_fresh(tree.left) or _fresh(tree.right)) and _matrix(
                    self.shape_of(tree.left), self.shape_of(tree.right)
                )
            if type(tree.op) not in _UFUNCS:
                return False
            return self.lowerable(tree.left, shape) and self.lowerable(tree.right, shape)
        if isinstance(tree, ast.UnaryOp):
            return isinstance(tree.op, ast.USub) and self.lowerable(tree.operand, shape)
        assert isinstance(tree, ast.Call)
        return len(tree.args) == 1 and not tree.keywords and self.lowerable(tree.args[0], shape)

    def emit(self, tree: ast.expr, k: int, shape: Shape) -> str:
        """Lines computing the expression into buffer k; returns how to read its value."""
        if self.shape_of(tree) != shape or not _fresh(tree):
            return ast.unparse(tree)
        out = self.names[k]
        if isinstance(tree, ast.UnaryOp):
            x = self.emit(tree.operand, k, shape)
            self.out.append(f"np.negative({x}, out={out})")
            return out
        if isinstance(tree, ast.Call):
            x = self.emit(tree.args[0], k, shape)
            name = ast.unparse(tree.func)
            if name == "sigmoid":  # 1/(1 + e^−x), as the engine computes it
                self.out.append(f"np.negative({x}, out={out})")
                self.out.append(f"np.exp({out}, out={out})")
                self.out.append(f"np.add({out}, 1.0, out={out})")
                self.out.append(f"np.reciprocal({out}, out={out})")
            else:
                self.out.append(f"{_UNARY[name]}({x}, out={out})")
            return out
        assert isinstance(tree, ast.BinOp)
        if isinstance(tree.op, ast.MatMult):
            left, right = ast.unparse(tree.left), ast.unparse(tree.right)
            self.out.append(f"np.matmul({left}, {right}, out={out})")
            return out
        ufunc = _UFUNCS[type(tree.op)]
        big = [self.shape_of(c) == shape and _fresh(c) for c in (tree.left, tree.right)]
        temp = None
        if big[0] and big[1]:
            left = self.emit(tree.left, k, shape)
            temp = self.take(shape)
            right = self.emit(tree.right, temp, shape)
        else:
            left = self.emit(tree.left, k, shape)
            right = self.emit(tree.right, k, shape)
        self.out.append(f"{ufunc}({left}, {right}, out={out})")
        if temp is not None:
            self.give_back(temp)
        return out

    # ---- the whole program ---------------------------------------------------------
    def lower(
        self, lines: list[str], returned: set[str], shapes: dict[str, Shape | None]
    ) -> set[str]:
        """Rewrite `lines` (the body before its return) into self.out.

        Returns the returned names whose values may refer to a buffer: the caller copies them.
        """
        statements = [ast.parse(line).body[0] for line in lines]
        self.unspread(statements, returned, shapes)
        last: dict[str, int] = {}
        for i, s in enumerate(statements):
            for name in _reads(s):
                last[name] = i
        holds: dict[str, set[int]] = {}  # name → the buffers its value may refer to
        held: dict[int, int] = {}  # buffer → how many live names may refer to it
        self.last, self.held = last, held
        for i, s in enumerate(statements):
            self.now = i
            if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
                target, value = s.targets[0].id, s.value
                refers = self.assign(target, value, shapes.get(target), target in returned, holds)
                for b in holds.pop(target, set()):
                    held[b] -= 1
                holds[target] = refers
                for b in refers:
                    held[b] = held.get(b, 0) + 1
            elif isinstance(s, ast.AugAssign) and isinstance(s.target, ast.Name):
                self.update(s, shapes.get(s.target.id), holds.get(s.target.id, set()))
            else:
                self.out.append(ast.unparse(s))
            for name in [n for n in holds if last.get(n, -1) <= i and n not in returned]:
                for b in holds.pop(name):
                    held[b] -= 1
                    if held[b] == 0:
                        self.give_back(b)
        return {name for name in returned if holds.get(name)}

    def unspread(
        self, statements: list[ast.stmt], returned: set[str], shapes: dict[str, Shape | None]
    ) -> None:
        """`g = np.broadcast_to(s, S)` as `g = s` where only arithmetic with an S array reads g.

        g·x then broadcasts the number itself, with the same result, and no S-sized array
        of one number is made (a sum's gradient, spread over what it summed).
        """
        parents: dict[int, ast.AST] = {}
        for s in statements:
            for node in ast.walk(s):
                for child in ast.iter_child_nodes(node):
                    parents[id(child)] = node
        for s in statements:
            if not (isinstance(s, ast.Assign) and isinstance(s.value, ast.Call)):
                continue
            call, target = s.value, s.targets[0]
            name = ast.unparse(call.func)
            if name not in ("np.broadcast_to", "np.full") or len(call.args) != 2:
                continue
            number = call.args[0] if name == "np.broadcast_to" else call.args[1]
            shape = shapes.get(target.id) if isinstance(target, ast.Name) else None
            if shape is None or self.shape_of(number) != () or not isinstance(target, ast.Name):
                continue
            group = {target.id}  # g and the names that are g (dL_dt9 = dL_dt14)
            for t in statements:
                if (
                    isinstance(t, ast.Assign)
                    and isinstance(t.value, ast.Name)
                    and t.value.id in group
                    and isinstance(t.targets[0], ast.Name)
                ):
                    group.add(t.targets[0].id)
            if group & returned or not self._only_in_arithmetic(statements, group, shape, parents):
                continue
            s.value = number
            for g in group:
                shapes[g] = ()

    def _only_in_arithmetic(
        self,
        statements: list[ast.stmt],
        group: set[str],
        shape: Shape,
        parents: dict[int, ast.AST],
    ) -> bool:
        for s in statements:
            if isinstance(s, ast.AugAssign) and ast.unparse(s.target) in group:
                return False
            for node in ast.walk(s):
                if not (isinstance(node, ast.Name) and node.id in group):
                    continue
                parent = parents.get(id(node))
                if isinstance(parent, ast.Assign) and parent.value is node:
                    continue  # another name for it
                if isinstance(parent, ast.Assign | ast.AugAssign) and node is not getattr(
                    parent, "value", None
                ):
                    continue  # it is being assigned
                if not (isinstance(parent, ast.BinOp) and type(parent.op) in _UFUNCS):
                    return False
                other = parent.right if parent.left is node else parent.left
                # The other operand keeps the full shape only if it is not g itself (g + g).
                if self.shape_of(other) != shape or _reads(other) & group:
                    return False
        return True

    def assign(
        self,
        target: str,
        value: ast.expr,
        shape: Shape | None,
        returned: bool,
        holds: dict[str, set[int]],
    ) -> set[int]:
        """`target = value`, into a buffer when large; the buffers target may refer to."""
        if (
            shape is not None
            and math.prod(shape) >= BIG
            and not returned
            and _fresh(value)
            and self.lowerable(value, shape)
        ):
            k = self.dying(value, shape, holds)
            k = self.take(shape) if k is None else k
            self.emit(value, k, shape)
            self.out.append(f"{target} = {self.names[k]}")
            return {k}
        self.out.append(f"{target} = {ast.unparse(value)}")
        if _fresh(value):
            return set()
        # A name, a view or what an unknown function returned may be any array it was given.
        return set().union(*(holds.get(n, set()) for n in _reads(value)))

    def dying(self, value: ast.expr, shape: Shape, holds: dict[str, set[int]]) -> int | None:
        """The buffer of an operand read for the last time by this one operation, if any.

        One elementwise operation may write over its own operand (numpy reads each element
        before it writes it), so `t3 = t2 + b` needs no new buffer when t2 dies there.
        """
        if isinstance(value, ast.BinOp) and isinstance(value.op, ast.MatMult):
            return None
        children = (
            [value.left, value.right]
            if isinstance(value, ast.BinOp)
            else [value.operand]
            if isinstance(value, ast.UnaryOp)
            else list(value.args)
            if isinstance(value, ast.Call)
            else []
        )
        if not children or any(_fresh(c) for c in children):
            return None
        for c in children:
            if not isinstance(c, ast.Name) or self.last.get(c.id) != self.now:
                continue
            refers = holds.get(c.id, set())
            if len(refers) == 1:
                (k,) = refers
                if self.held.get(k) == 1 and self.buffers[k] == shape:
                    return k
        return None

    def update(self, s: ast.AugAssign, shape: Shape | None, holds: set[int]) -> None:
        """`target op= value` on a buffer: value computed into a second buffer when large."""
        if len(holds) == 1 and shape is not None and _fresh(s.value) and type(s.op) in _UFUNCS:
            (k,) = holds
            if self.buffers[k] == shape and self.lowerable(s.value, shape):
                temp = self.take(shape)
                x = self.emit(s.value, temp, shape)
                out = self.names[k]
                self.out.append(f"{_UFUNCS[type(s.op)]}({out}, {x}, out={out})")
                self.give_back(temp)
                return
        self.out.append(ast.unparse(s))


def buffers_maker(
    shapes: list[Shape], dtype: Any = np.float64
) -> Callable[[], tuple[np.ndarray, ...]]:
    """A function making one set of buffers of these shapes."""
    return lambda: tuple(np.empty(s, dtype) for s in shapes)
