"""The program that runs for very tall inputs: the step done a block of columns at a time.

Stored by columns (see the layout pass in `autograd.fastcode`), most lines of a step
are local to a column: elementwise arithmetic, and small matrices times the stored
columns. At 10⁶ columns each such line streams megabytes through memory, and memory,
not arithmetic, sets the time. Here those lines run on one block of columns after
another, small enough to stay in the processor's cache from the first line to the
last; sums over the columns are taken block by block and added up:

    for start in range(0, N, BLOCK):
        block = slice(start, start + BLOCK)
        X_block = X[..., block]
        t2 = W1.T @ X_block
        ...
        t15 = t15 + t14.sum()        # each block's part of the sum

and each block's arrays are written into buffers of a block's shape (autograd.lowering).

A program is written so only when every line fits that pattern: a line that reads a
sum over the columns must come after all of them (the loss; not a softmax's
normalizer), no unknown function reads a column array, and nothing returned is one.
The numbers are those of the whole-array program but for the order in which the
sums add up their parts.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

BLOCK = 32768  # columns a block (measured: 8,192 to 65,536 within 10%, 32,768 the best)
TALLEST = 1 << 17  # rows from which the step is done by blocks (below, it fits in cache)

Shape = tuple[int, ...]
_ELEMENTWISE = {"np.exp", "np.log", "np.tanh", "np.negative", "sigmoid", "np.maximum"}
_SPREAD = {"np.broadcast_to", "np.full"}


def _reads(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


class _Slicer(ast.NodeTransformer):
    """Names of whole column arrays read inside the loop, as their block's: X as X_block."""

    def __init__(self, outer: set[str], rows: int):
        self.outer, self.rows = outer, rows
        self.read: list[str] = []  # the whole arrays read, in order

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.outer:
            if node.id not in self.read:
                self.read.append(node.id)
            return ast.Name(f"{node.id}_block", ast.Load())
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if ast.unparse(node.func) in _SPREAD:  # np.broadcast_to(g, (1, N)): the block's width
            for arg in node.args:
                if isinstance(arg, ast.Tuple) and arg.elts:
                    last = arg.elts[-1]
                    if isinstance(last, ast.Constant) and last.value == self.rows:
                        arg.elts[-1] = ast.Name("width", ast.Load())
        return node


Lower = Callable[
    [list[str], dict[str, Shape], set[str]], tuple[list[str], list[str], list[str], list[str]]
]


def blocked(
    lines: list[str],
    shapes: dict[str, Shape | None],
    shape_of: Callable[[ast.expr], Shape | None],
    rows: int,
    constants: dict[str, Any],
    lower: Lower | None = None,
) -> list[str] | None:
    """The lines (ending with the return) as a loop over blocks of columns, or None.

    `lower(body, shapes, kept)` may write the loop's body into buffers of one block's
    shape; it returns (body, lines before the loop, at the head of each block, after it).
    """
    code = [ast.parse(line).body[0] for line in lines if not line.lstrip().startswith("#")]
    body, back = code[:-1], code[-1]
    names = _reads(ast.Module(code, []))
    if not isinstance(back, ast.Return) or {"start", "block", "width"} & names:
        return None
    if any(n.endswith("_block") or n.endswith("_all") for n in names):
        return None

    def column(name: str) -> bool:
        shape = shapes.get(name)
        if shape is None and name in constants:
            shape = getattr(constants[name], "shape", None)
        return bool(shape) and shape[-1] == rows  # type: ignore[index]

    head: list[ast.stmt] = []  # the layout's own lines: X = np.ascontiguousarray(X.T)
    while body and isinstance(body[0], ast.Assign) and _relayout(body[0]):
        head.append(body.pop(0))
    outer = {n for n in shapes if column(n)} | {n for n in constants if column(n)}
    defined: set[str] = set()  # column arrays the loop makes, block by block
    sums: list[str] = []
    after: set[str] = set()  # small names that depend on a sum over the columns
    before: list[ast.stmt] = []
    loop: list[ast.stmt] = []
    last: list[ast.stmt] = []
    for s in body:
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
            target, value = s.targets[0].id, s.value
        elif isinstance(s, ast.AugAssign) and isinstance(s.target, ast.Name):
            target, value = s.target.id, s.value
        else:
            return None
        reads = _reads(value) | ({target} if isinstance(s, ast.AugAssign) else set())
        columns = {n for n in reads if n in outer or n in defined}
        if reads & after and columns:
            return None  # a column line reads a sum of the columns: not one pass
        if column(target):
            if not _local(value, columns, shape_of):
                return None
            defined.add(target)
            outer.discard(target)
            loop.append(s)
        elif columns:
            if not isinstance(s, ast.Assign) or not _reduction(value, columns, shape_of):
                return None
            sums.append(target)
            after.add(target)
            part = f"{target} = {target} + {ast.unparse(value)}"
            loop.append(ast.parse(part).body[0])
        elif reads & after:
            after.add(target)
            last.append(s)
        else:
            before.append(s)
    if _reads(back) & (defined | outer):
        return None  # a column array is returned: it would have to be put together
    slicer = _Slicer(outer, rows)
    inner = [ast.unparse(slicer.visit(s)) for s in loop]
    views = [f"{name}_block = {name}[..., block]" for name in slicer.read]
    top: list[str] = []
    closing: list[str] = []
    if lower is not None:
        wide = {n: shapes.get(n) for n in defined}
        wide.update({f"{n}_block": shapes.get(n) or constants[n].shape for n in slicer.read})
        one_block = {n: (*s[:-1], BLOCK) for n, s in wide.items() if s}
        inner, top, at_block, closing = lower(inner, one_block, set(sums))
        views += at_block
    return [
        *(ast.unparse(s) for s in head),
        *(ast.unparse(s) for s in before),
        *top,
        *(f"{name} = 0.0" for name in sums),
        f"for start in range(0, {rows}, {BLOCK}):  # a block of columns at a time, in cache",
        f"    block = slice(start, start + {BLOCK})",
        f"    width = min({BLOCK}, {rows} - start)",
        *(f"    {line}" for line in views),
        *(f"    {line}" for line in inner),
        *closing,
        *(ast.unparse(s) for s in last),
        ast.unparse(back),
    ]


def _relayout(s: ast.Assign) -> bool:
    """`X = X.T` or `X = np.ascontiguousarray(X.T)`: an input stored by columns."""
    text = ast.unparse(s)
    name = ast.unparse(s.targets[0])
    return text in (f"{name} = {name}.T", f"{name} = np.ascontiguousarray({name}.T)")


def _local(tree: ast.expr, columns: set[str], shape_of: Callable[[ast.expr], Any]) -> bool:
    """True when each column of the value depends on the same column of the operands alone."""
    if isinstance(tree, ast.Name | ast.Constant):
        return True
    if isinstance(tree, ast.BinOp):
        if isinstance(tree.op, ast.MatMult):  # W @ X: a small matrix times columns
            return not (_reads(tree.left) & columns) and _local(tree.right, columns, shape_of)
        return _local(tree.left, columns, shape_of) and _local(tree.right, columns, shape_of)
    if isinstance(tree, ast.UnaryOp):
        return _local(tree.operand, columns, shape_of)
    if isinstance(tree, ast.Attribute):  # W.T of a small matrix; not of a column array
        return not (_reads(tree) & columns)
    if isinstance(tree, ast.Subscript):  # X[0], one stored row; b[:, None]
        index = ast.unparse(tree.slice)
        if _reads(tree.value) & columns:
            return isinstance(tree.value, ast.Name) and index.isdigit()
        return True
    if isinstance(tree, ast.Call):
        name = ast.unparse(tree.func)
        if name in _SPREAD:
            return not (_reads(tree) & columns)
        if name in _ELEMENTWISE and not tree.keywords:
            return all(_local(a, columns, shape_of) for a in tree.args)
    return False


def _reduction(tree: ast.expr, columns: set[str], shape_of: Callable[[ast.expr], Any]) -> bool:
    """True for a sum over the columns of column-local values: x.sum(), x @ y.T, x @ ones."""
    if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Attribute):
        if tree.func.attr == "sum" and not tree.args:
            keywords = {k.arg: ast.unparse(k.value) for k in tree.keywords}
            if keywords in ({}, {"axis": "1"}, {"axis": "-1"}):
                return _local(tree.func.value, columns, shape_of)
        return False
    if isinstance(tree, ast.Call) and ast.unparse(tree.func) == "np.reshape":
        return bool(tree.args) and _reduction(tree.args[0], columns, shape_of)
    if isinstance(tree, ast.Subscript):
        return not (_reads(tree.slice) & columns) and _reduction(tree.value, columns, shape_of)
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.MatMult):
        left, right = tree.left, tree.right
        if isinstance(right, ast.Attribute) and right.attr == "T":
            right = right.value  # a @ b.T: a sum over the columns of their products
        return _local(left, columns, shape_of) and _local(right, columns, shape_of)
    return False
