"""`autograd.compile`: trace a step once, then replay it as straight-line numpy.

    step = autograd.compile(f, argnums=0)
    value, grads = step(x, X, y)        # as value_and_grad(f, argnums)(x, X, y)
    print(step.source)                  # the step as Python a learner can read

Design:
- **Trace.** The first call runs f eagerly, with every number argument given to f
  as a Value (the `argnums` ones for gradients, the others as data), and its
  answer is that call's answer. The graph f built is read back through the
  engine's public interface (`op`, `inputs`, `data`) and handed to
  `autograd.codegen`, which writes the program. Leaf Values that f reads from its
  closure or a module (a model's parameters) are read live, by reference, on
  every call; raw arrays f closes over are read by reference too, and a list f
  uses is compared with the trace's on each call (a change traces again). Being
  held by reference, a new Value put in a leaf's place is not seen: compile f
  again. A Python number f reads from its closure is a constant of the program.
- **Replay.** A later call with the same argument shapes and dtypes, the same grad
  mode and live leaves of the same shapes runs the program. A new shape traces
  again; a bounded cache keeps the most recent `cache_size` programs. What f does
  besides computing (printing, writing into arrays) happens at traces only.
- **Never a wrong answer.** Each new program is run once on the traced inputs and
  compared with the eager answer. It runs eagerly instead, with one warning that
  says why, when the trace notices Python branching on traced numbers (code
  outside the engine reading `.data`, `.item()`, `float()` or `.numpy()` of a
  Value while f runs; numpy applied to an argument has to go through one of
  these), an operation that is not a Primitive, or a program that disagrees with
  the eager step. `bool()` of a Value is always True, so it cannot branch.
  `check=True` also compares each program's first replay with the eager step,
  and raises instead of warning.
- **no_grad** blocks inside f are recorded too, as forward-only lines, and so are
  `Value(v)` and `v.detach()` of a traced v.
- **Speed** is the generator's: dead code removed, numpy called directly, row sums
  as matrix–vector products. `step.source` is the program as the lesson writes it
  (`autograd.codegen`); `step.run_source`, the one that runs (`autograd.fastcode`),
  stores tall matrices by columns and keeps large arrays in buffers reused from call
  to call (`autograd.lowering`): the same operations on the same numbers. Past
  `autograd.blocks.TALLEST` rows a step that allows it runs a block of columns at a
  time (`autograd.blocks`): the same numbers but for the order its sums add up. The last program
  stored runs, from its first replay on, behind a guard written for its inputs
  (their types, shapes and dtypes, the grad mode, the leaves' kinds), which costs
  less than building and hashing the cache's key.
- **Threads.** A program reads its arguments and leaves and writes only into the
  buffers it takes from its pool for that call, so threads replay one compiled step
  at once and each gets its own answer; traces take a lock.
- **aux.** `Compiled(f, wrt=…, has_aux=True)` (what nn.compile_step uses) takes an f
  that returns (loss, aux Value) and gives (value, grads, aux's numbers): a model's
  output, from which fit reads its accuracy without a second forward pass.

Non-number arguments (and ints, bools and strings that are not in `argnums`) are
passed to f as they are and become part of the cache key, by value. Called with
Values (inside another transform) the compiled step runs eagerly, as
value_and_grad does.
"""

from __future__ import annotations

import functools
import inspect
import math
import os
import sys
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import CodeType, FrameType, FunctionType
from typing import Any

import numpy as np

from autograd import value as _value_module
from autograd.codegen import Node, Program, is_primitive, shape_and_dtype
from autograd.fastcode import FastGenerator
from autograd.functional import _argnums, value_and_grad
from autograd.graph import _mode, enable_grad, gradients, is_grad_enabled
from autograd.value import Primitive, Value, _trace, as_data

_ENGINE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_TRACING = threading.RLock()  # the watch on Value is process-wide: one trace at a time
_NUMBERS = (float, np.ndarray)


class CompileWarning(UserWarning):
    """A compiled step runs eagerly for some inputs; the message says why."""


class CompileError(AssertionError):
    """With check=True: the compiled program and the eager step disagree."""


# ---------------------------------------------------------------------------
# The trace: what f did that the graph does not show.
# ---------------------------------------------------------------------------


class _Recorder:
    """What one trace notices besides the graph: no_grad results, and reads of numbers."""

    def __init__(self, trusted: Sequence[CodeType]):
        self.thread = threading.get_ident()
        self.trusted = set(trusted)
        self.forward_only: dict[int, tuple[Value, Any, tuple[Any, ...]]] = {}
        self.reads: list[str] = []
        # The engine copies a caller's array when it records it; the program reads the array
        # itself instead (by reference, as f does), so it sees a change made between calls.
        self.originals: dict[int, tuple[Any, np.ndarray]] = {}
        self.live: list[np.ndarray] = []  # those arrays, whose shapes and dtypes a replay checks
        # A list is converted, not referenced (and a mask is copied): a replay compares each
        # with what the trace saw.
        self.lists: list[tuple[Any, Any]] = []

    def copied(self, copy: Any, original: Any) -> None:
        """Told that the engine recorded `copy` of the caller's array (or list) `original`."""
        if type(original) is list or (type(original) is np.ndarray and original.dtype == bool):
            # A mask's count of True values sets shapes the program has fixed: compare it.
            self.lists.append((original, copy))
        elif (
            type(original) is np.ndarray
            and type(copy) is np.ndarray
            and copy is not original
            and copy.shape == original.shape
            and copy.dtype == original.dtype
        ):
            self.originals[id(copy)] = (copy, original)

    def original(self, x: Any) -> Any:
        """The caller's array that the engine's copy x was made of, or x."""
        found = self.originals.get(id(x))
        if found is None or found[0] is not x:
            return x
        self.live.append(found[1])
        return found[1]

    def __call__(self, value: Value, op: Any, operands: tuple[Any, ...]) -> None:
        """Told of each result made under no_grad (by the engine's apply)."""
        if threading.get_ident() == self.thread:
            self.forward_only[id(value)] = (value, op, operands)

    def read(self, what: str, frame: FrameType | None) -> None:
        if threading.get_ident() != self.thread or frame is None:
            return
        code = frame.f_code
        if code.co_filename.startswith(_ENGINE) or code in self.trusted:
            return
        where = f"{os.path.basename(code.co_filename)}:{frame.f_lineno} ({code.co_name})"
        self.reads.append(f"{what} at {where}")


# Value's number readers, as the class defines them; while any thread traces, they are
# replaced by wrappers that tell that thread's recorder (a context variable) of each read.
_READERS = {k: Value.__dict__[k] for k in ("data", "item", "numpy", "__float__")}
_watch_lock = threading.Lock()
_watchers = 0  # traces under way, in any thread: the wrappers are installed while it is > 0


def _reader(name: str, original: Any) -> Any:
    what = ".data" if name == "data" else "float()" if name == "__float__" else f".{name}()"
    if name == "data":

        def data(v: Value) -> Any:
            recorder = _trace.get()
            if recorder is not None:
                recorder.read(what, sys._getframe(1))
            return original.__get__(v, Value)

        return property(data, original.__set__)

    @functools.wraps(original)
    def read(v: Value) -> Any:
        recorder = _trace.get()
        if recorder is not None:
            recorder.read(what, sys._getframe(1))
        return original(v)

    return read


class Copy(Primitive):
    """A new leaf made from a traced Value's numbers (`Value(v)`, `v.detach()`): no gradient."""

    forward = staticmethod(lambda a: a)
    grads = (lambda g, out, a: g,)


def _maker(name: str, original: Any) -> Any:
    """A wrapper that records `Value(v)` and `v.detach()` of a traced v as a forward-only Copy."""
    if name == "detach":

        def detach(v: Value) -> Value:
            out: Value = original(v)
            recorder = _trace.get()
            if recorder is not None:
                recorder(out, Copy, (v,))
            return out

        return detach

    @functools.wraps(original)
    def init(self: Value, data: Any, *args: Any, **kwargs: Any) -> None:
        original(self, data, *args, **kwargs)
        recorder = _trace.get()
        if recorder is not None and isinstance(data, Value) and self.is_leaf:
            recorder(self, Copy, (data,))

    return init


_READERS.update({k: Value.__dict__[k] for k in ("__init__", "detach")})
_MAKERS = ("__init__", "detach")
_WATCHED = {k: (_maker if k in _MAKERS else _reader)(k, m) for k, m in _READERS.items()}

# The engine's copiers of raw operands and extra arguments, and wrappers that tell the
# tracing thread's recorder which array each copy was made of. (Should the engine rename
# them, closed-over arrays are traced as constants again: test_compile_hostile says so.)
_COPIERS = {
    k: getattr(_value_module, k) for k in ("_constant", "_frozen") if hasattr(_value_module, k)
}


def _copier(original: Any) -> Any:
    @functools.wraps(original)
    def copy(x: Any) -> Any:
        out = original(x)
        recorder = _trace.get()
        if recorder is not None:
            recorder.copied(out, x)
        return out

    return copy


_WATCHED_COPIERS = {k: _copier(m) for k, m in _COPIERS.items()}


@contextmanager
def _watching(recorder: _Recorder) -> Iterator[None]:
    """While f is traced, Value tells this thread's recorder of reads of its numbers.

    The wrappers are shared by every thread that traces at once (counted under a lock),
    and each reports only to the recorder of the thread that reads.
    """
    global _watchers
    with _watch_lock:
        if _watchers == 0:
            for k, m in _WATCHED.items():
                setattr(Value, k, m)
            for k, m in _WATCHED_COPIERS.items():
                setattr(_value_module, k, m)
        _watchers += 1
    token = _trace.set(recorder)
    try:
        yield
    finally:
        _trace.reset(token)
        with _watch_lock:
            _watchers -= 1
            if _watchers == 0:
                for k, m in _READERS.items():
                    setattr(Value, k, m)
                for k, m in _COPIERS.items():
                    setattr(_value_module, k, m)


def _walk(
    root: Value, args: dict[int, Node], recorder: _Recorder, aux: Value | None = None
) -> tuple[list[Node], Node, str]:
    """The trace's nodes, operands first (no recursion), its root, and any reason to refuse it.

    With aux, the nodes it needs besides are walked too (after the root's).
    """
    nodes: dict[int, Node] = dict(args)
    order: list[Node] = []
    reason = ""
    stack: list[tuple[Value, bool]] = (
        [(root, False)] if aux is None else [(aux, False), (root, False)]
    )
    while stack:
        v, ready = stack.pop()
        key = id(v)
        if ready:
            node = nodes[key]
            node.operands = [nodes[id(x)] if isinstance(x, Value) else x for x in node.operands]
            order.append(node)
            continue
        if key in nodes:
            continue
        data = v.data
        shape, dtype = shape_and_dtype(data)
        op, operands = v.op, v.inputs
        forward_only = False
        if op is None and key in recorder.forward_only:
            _, op, operands = recorder.forward_only[key]
            forward_only = True
        if op is None:
            nodes[key] = node = Node("leaf", shape, dtype, v.name or "")
            node.value, node.data = v, data
            order.append(node)
            continue
        if not is_primitive(op):
            reason = reason or f"{op!r} is not a Primitive, so the code generator cannot replay it"
        n = len(getattr(op, "grads", ()))
        given = [x if isinstance(x, Value) else recorder.original(x) for x in operands]
        for i in range(min(n, len(given))):
            x = given[i]
            if not isinstance(x, Value):
                const = Node("const", *shape_and_dtype(x))
                const.value = const.data = x
                given[i] = _Const(const)
        nodes[key] = node = Node("op", shape, dtype, v.name or "", op, given, forward_only)
        node.data, node.grad = data, v.grad if v.grad_computed else None
        node.value = v
        stack.append((v, True))
        for x in reversed(given[:n]):
            if isinstance(x, Value) and id(x) not in nodes:
                stack.append((x, False))
    for node in order:  # constants were held apart so that ids of raw numbers never clash
        node.operands = [x.node if isinstance(x, _Const) else x for x in node.operands]
    consts = [
        x for node in order for x in node.operands if isinstance(x, Node) and x.kind == "const"
    ]
    return consts + order, nodes[id(root)], reason


class _Const:
    __slots__ = ("node",)

    def __init__(self, node: Node):
        self.node = node


# ---------------------------------------------------------------------------
# The compiled step.
# ---------------------------------------------------------------------------


def _close(a: Any, b: Any, rel: float = 1e-9) -> bool:
    """a and b agree to rounding: the same shape, within rel of b's largest magnitude (or 1e-14).

    The floor allows for sums taken in another order where the terms cancel.
    """
    if isinstance(a, float) and isinstance(b, float):  # one number: no numpy calls
        close = abs(a - b) <= max(rel * abs(b), 1e-14)
        return a == b or close or (math.isnan(a) and math.isnan(b))
    if np.shape(a) != np.shape(b):
        return False
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if np.array_equal(a, b, equal_nan=True):
        return True
    finite = np.isfinite(b)
    if not np.array_equal(np.isfinite(a), finite) or not np.array_equal(a[~finite], b[~finite]):
        return False
    scale = float(np.max(np.abs(b[finite]), initial=0.0))
    return bool(np.all(np.abs(a[finite] - b[finite]) <= max(rel * scale, 1e-14)))


def _agree(got: tuple[Any, ...], want: tuple[Any, ...], rel: float = 1e-9) -> str:
    """'' when two answers (value, grads) agree to rel, else what differs."""
    if not _close(got[0], want[0], rel):
        return f"the value is {got[0]!r}, eagerly {want[0]!r}"
    g, w = got[1], want[1]
    if not isinstance(w, tuple | list):
        g, w = (g,), (w,)
    for i, (a, b) in enumerate(zip(g, w, strict=True)):
        if not _close(a, b, rel):
            return f"gradient {i} differs from the eager one"
    if len(want) > 2 and not _close(got[2], want[2], rel):
        return "the aux Value differs from the eager one"
    return ""


class _Replay:
    """One traced program, with the live leaves it reads and the guard on their shapes."""

    def __init__(
        self,
        program: Program,
        leaves: list[Value],
        keep: list[int] | None,
        arrays: Sequence[np.ndarray] = (),
        lists: Sequence[tuple[Any, Any]] = (),
    ):
        self.program = program
        self.leaves = leaves
        self.kinds = [_kind(v.data) for v in leaves]
        self.arrays = [(a, a.shape, a.dtype) for a in arrays]  # the caller's, read live
        self.lists = list(lists)  # lists f used, as the trace converted them
        self.keep = keep  # the arguments the program takes, when some are not numbers
        self.checked = False
        self.floats: bool | None = None  # whether numpy float64 numbers become Python floats
        self.rel = 1e-9  # how closely it agrees with the eager step: looser where float32 rounds
        self.float64s: tuple[bool, Any] = (False, False)  # which results are numpy float64s

    def __call__(self, step: Compiled, args: Sequence[Any], check: bool = True) -> Any:
        """The program's answer, or None when a leaf changed shape or dtype (trace again).

        With check (and step.check), the first replay is compared with the eager step.
        """
        datas = [v.data for v in self.leaves]
        for d, kind in zip(datas, self.kinds, strict=True):
            if (type(d) is not float or kind is not float) and _kind(d) != kind:
                return None
        for a, shape, dtype in self.arrays:
            if a.shape != shape or a.dtype != dtype:
                return None
        for given, seen in self.lists:
            if not _same_list(given, seen):
                return None  # changed since the trace: its numbers are in the program
        numbers = args if self.keep is None else [args[i] for i in self.keep]
        result = self.program.function(*numbers, *datas)
        if self.floats is not False:  # decided at the first run: the types do not change
            if self.floats is None:
                self.floats = _needs_floats(result)
                self.float64s = _float64s(result)
            if self.floats:
                result = _floats(result)
        if check and step.check and not self.checked:
            self.checked = True
            problem = _agree(result, step._answer(args), self.rel)
            if problem:
                raise CompileError(
                    f"compiled {step._label()} disagrees with the eager step at its first replay: "
                    f"{problem}"
                )
        return result


class _Eager:
    """Inputs the trace refused: they run eagerly."""

    def __init__(self, reason: str):
        self.reason = reason

    def __call__(self, step: Compiled, args: Sequence[Any]) -> Any:
        return step._answer(args)


def _fast_path(
    replay: _Replay, args: Sequence[Any], grad_mode: bool, check: bool, aux: bool
) -> Callable[[Sequence[Any]], Any] | None:
    """The replay behind one generated guard: the arguments' types, shapes and dtypes, the
    grad mode and the leaves' kinds are compared with the trace's, line by line.

    Building and hashing the cache's key costs about 4 µs a call for six arrays, as much as
    a small program; this guard costs under 1 µs. None when the replay needs more checks
    (arrays or lists f closes over, non-number arguments, a first replay to check).
    """
    if replay.keep is not None or replay.lists or check:
        return None
    names = [f"a{i}" for i in range(len(args))]
    tests = []
    for name, a in zip(names, args, strict=True):
        if type(a) is float:
            tests.append(f"type({name}) is not float")
        elif type(a) is np.ndarray:
            tests.append(
                f"type({name}) is not ndarray or {name}.shape != {a.shape!r} "
                f"or {name}.dtype is not {'f8' if a.dtype == np.float64 else 'f4'}"
            )
        else:
            return None
    space: dict[str, Any] = {
        "ndarray": np.ndarray,
        "f8": np.dtype(np.float64),
        "f4": np.dtype(np.float32),
        "mode": _mode.get,
        "program": replay.program.function,
    }
    datas = []
    for k, (v, kind) in enumerate(zip(replay.leaves, replay.kinds, strict=True)):
        space[f"v{k}"] = v
        datas.append(f"d{k}")
        if kind is float:
            tests.append(f"type(d{k} := v{k}.data) is not float")
        elif type(kind) is tuple and kind[0] and kind[1] in "fd":
            char = "f8" if kind[1] == "d" else "f4"
            tests.append(
                f"type(d{k} := v{k}.data) is not ndarray or d{k}.shape != {kind[0]!r} "
                f"or d{k}.dtype is not {char}"
            )
        else:
            return None
    for k, (a, shape, dtype) in enumerate(replay.arrays):  # arrays f closes over, read live
        space[f"c{k}"], space[f"t{k}"] = a, dtype
        tests.append(f"c{k}.shape != {shape!r} or c{k}.dtype != t{k}")
    tests.append("mode().enabled" if not grad_mode else "not mode().enabled")
    value, grads = replay.float64s  # made Python floats, as the eager step gives them
    if type(grads) is tuple:
        parts = [f"float(g[{i}])" if g else f"g[{i}]" for i, g in enumerate(grads)]
        out = f"({', '.join(parts)}{',' if len(parts) == 1 else ''})"
    else:
        out = "float(g)" if grads else "g"
    value_text = "float(v)" if value else "v"
    lines = [
        "def fast(args):",
        f"    if len(args) != {len(args)}:",
        "        return None",
        f"    {', '.join(names)}{',' if len(names) == 1 else ''} = args" if names else "",
        *(f"    if {t}:\n        return None" for t in tests),
        f"    v, g{', a' if aux else ''} = program({', '.join([*names, *datas])})",
        f"    return {value_text}, {out}{', a' if aux else ''}",
    ]
    exec("\n".join(lines), space)
    return space["fast"]


def _floats(result: tuple[Any, ...]) -> tuple[Any, ...]:
    """(value, gradients) with each numpy float64 number a Python float, as the eager step's."""
    value, grads, *aux = result
    if type(value) is np.float64:
        value = float(value)
    if type(grads) is tuple:
        grads = tuple(float(g) if type(g) is np.float64 else g for g in grads)
    elif type(grads) is np.float64:
        grads = float(grads)
    return (value, grads, *aux)


def _float64s(result: tuple[Any, ...]) -> tuple[bool, Any]:
    """Which of a program's results are numpy float64 numbers: the value's, then the grads'."""
    value, grads = result[:2]
    many = type(grads) is tuple
    found = tuple(type(g) is np.float64 for g in grads) if many else type(grads) is np.float64
    return type(value) is np.float64, found


def _needs_floats(result: tuple[Any, ...]) -> bool:
    """True when a program's answer holds a numpy float64 number."""
    value, grads = result[:2]
    grads = grads if type(grads) is tuple else (grads,)
    return type(value) is np.float64 or any(type(g) is np.float64 for g in grads)


def _same_list(given: Any, seen: Any) -> bool:
    """True when the list still holds the numbers the trace converted it to (or froze it as)."""
    if type(seen) is np.ndarray and seen.dtype == bool:  # a mask, copied by the engine
        return bool(given.shape == seen.shape and np.array_equal(given, seen))
    if type(seen) is list:  # an extra argument (an index list), copied as a list
        try:
            return bool(given == seen)
        except ValueError:  # arrays inside it compare elementwise: trace again to be sure
            return False
    try:
        now = as_data(given)
    except (TypeError, ValueError):
        return False
    return type(now) is type(seen) and np.array_equal(now, seen, equal_nan=True)


def _kind(data: Any) -> Any:
    """What a program depends on in a number: float, or an array's shape and dtype."""
    if type(data) is float:
        return float
    return (data.shape, data.dtype.char) if type(data) is np.ndarray else ((), data.dtype.char)


_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))


class Compiled:
    """A compiled `value_and_grad(f, argnums)`: call it as that; `source` is its program."""

    def __init__(
        self,
        f: Callable[..., Any],
        argnums: int | Sequence[int] = 0,
        *,
        wrt: Sequence[Value] | None = None,
        check: bool = False,
        cache_size: int = 8,
        trusted: Sequence[CodeType] = (),
        has_aux: bool = False,
    ):
        if not callable(f):
            raise TypeError(f"compile needs a function, got {type(f).__name__}")
        if not isinstance(cache_size, int) or isinstance(cache_size, bool) or cache_size < 1:
            raise ValueError(f"cache_size must be a positive int, got {cache_size!r}")
        if wrt is not None:
            wrt = list(wrt)
            for w in wrt:
                if not isinstance(w, Value) or not w.is_leaf:
                    raise TypeError(f"wrt takes leaf Values (parameters), got {w!r}")
        self.f = f
        self.argnums = argnums
        self.wrt = wrt
        self.check = check
        self.cache_size = cache_size
        self.trusted = tuple(trusted)
        # f returns (loss, aux) with aux a Value on the loss's graph (a model's output):
        # the step then gives (value, grads, aux's numbers). Only with wrt.
        self.has_aux = has_aux
        if has_aux and wrt is None:
            raise TypeError("has_aux needs wrt (the parameters to differentiate)")
        self._cache: OrderedDict[Any, _Replay | _Eager] = OrderedDict()
        self._warned: set[str] = set()
        self._source: str | None = None
        self._run_source = ""
        # The last program stored, behind a guard written for its inputs (see _fast_path).
        self._fast: Callable[[Sequence[Any]], Any] | None = None
        self._pending: _Replay | None = None  # the last program stored, not yet replayed
        self._eager = value_and_grad(f, argnums)
        self._arg_names = _argument_names(f)

    @property
    def run_source(self) -> str:
        """The program that runs for the inputs traced last: `source`, made fast.

        Tall matrices stored by columns and large arrays written into reused buffers;
        the same numbers, operation by operation.
        """
        self.source  # noqa: B018  (raises when nothing is compiled yet)
        return self._run_source

    @property
    def source(self) -> str:
        """The Python source of the program traced last."""
        if self._source is None:
            raise ValueError(
                "nothing is compiled yet: the program is written by tracing the first call"
            )
        return self._source

    def __call__(self, *given: Any) -> Any:
        """(f(args), its gradients), as value_and_grad(f, argnums) gives them."""
        fast = self._fast
        if fast is not None:
            result = fast(given)
            if result is not None:
                return result
        args: Sequence[Any] = given
        key: list[Any] = []
        for a in args:
            t = type(a)
            if t is float:
                key.append(float)
            elif t is np.ndarray and a.dtype in _FLOATS and a.ndim:
                key.append((a.shape, a.dtype.char))
            else:
                prepared = self._prepare(args)
                if prepared is None:
                    return self._answer(args)
                args, key = prepared[0], prepared[1]
                break
        key.append(is_grad_enabled())
        key_t = tuple(key)
        entry = self._cache.get(key_t)
        if entry is not None:
            result = entry(self, args)
            if result is not None:
                if entry is self._pending:  # replayed once: worth its guard (70 µs to write)
                    self._pending = None
                    try:
                        self._fast = _fast_path(entry, args, key_t[-1], self.check, self.has_aux)
                    except Exception:  # a bug in the guard's writer must not break the step
                        self._fast = None
                return result
        return self._trace(args, key_t)

    def _answer(self, args: Sequence[Any]) -> Any:
        """The eager answer, as value_and_grad gives it (and the aux Value's numbers)."""
        if self.wrt is None:
            return self._eager(*args)
        with enable_grad():
            out = self.f(*args)
        if self.has_aux:
            out, aux = _split_aux(out)
            _check_output(out)
            return out.data, tuple(gradients(out, self.wrt)), aux.data
        _check_output(out)
        return out.data, tuple(gradients(out, self.wrt))

    def _prepare(self, args: Sequence[Any]) -> tuple[list[Any], list[Any]] | None:
        """Arguments converted as the trace sees them, and their key; None to run eagerly."""
        picked = self._picked(len(args))
        out: list[Any] = []
        key: list[Any] = []
        for i, a in enumerate(args):
            if isinstance(a, Value):
                return None  # inside another transform: the eager step records the graph
            if i in picked or _is_data(a):
                a = as_data(a)
                key.append(_kind(a))
            else:
                try:
                    hash(a)
                except TypeError:
                    return None  # not a number and unhashable: nothing to key a program by
                key.append(("static", type(a), a))
            out.append(a)
        return out, key

    def _picked(self, nargs: int) -> tuple[int, ...]:
        return () if self.wrt is not None else _argnums(self.argnums, nargs)

    def _trace(self, args: Sequence[Any], key: tuple[Any, ...]) -> Any:
        """Run f eagerly, recording it; keep its program (or the reason not to) under `key`."""
        picked = self._picked(len(args))
        names = self._arg_names
        inputs: list[Any] = list(args)
        arg_nodes: dict[int, Node] = {}
        arg_list: list[Node] = []
        keep: list[int] = []
        for i, a in enumerate(args):
            if i in picked or _is_data(a):
                v = Value(a, names[i] if i < len(names) else f"arg{i}")
                inputs[i] = v
                node = Node("arg", *shape_and_dtype(v.data), v.name or "")
                node.data = v.data
                arg_nodes[id(v)] = node
                arg_list.append(node)
                keep.append(i)
        recorder = _Recorder(self.trusted)
        try:
            with _TRACING, _watching(recorder), enable_grad():  # a transform, as value_and_grad
                out = self.f(*inputs)
        except TypeError as e:
            if len(keep) == len(picked):
                raise
            # Given as Values, the data arguments broke f: it applies numpy to them directly.
            answer = self._answer(args)  # raises as value_and_grad does if f is just wrong
            why = f"f applies numpy to a data argument directly ({e})"
            return self._refuse(key, why, answer)
        aux: Value | None = None
        if self.has_aux:
            out, aux = _split_aux(out)
        _check_output(out)
        wrt = [inputs[i] for i in picked] if self.wrt is None else self.wrt
        grads = gradients(out, wrt)
        single = self.wrt is None and isinstance(self.argnums, int)
        answer = (out.data, grads[0] if single else tuple(grads))
        if aux is not None:
            answer = (*answer, aux.data)
        reason = ""
        aux_node = None
        if recorder.reads:
            reason = (
                f"f reads the numbers of a traced Value ({recorder.reads[0]}), "
                "so it may branch on them"
            )
        else:
            order, root, reason = _walk(out, arg_nodes, recorder, aux)
            if aux is not None and not reason:
                aux_node = next((n for n in order if n.kind == "op" and n.value is aux), None)
                reason = "" if aux_node else "the aux Value is not the result of an operation"
        if not reason:
            by_value = {id(n.value): n for n in order if n.kind in ("leaf", "arg")}
            by_value.update({id(v): arg_nodes[id(v)] for v in inputs if id(v) in arg_nodes})
            wrt_nodes = [
                by_value.get(id(w)) or Node("leaf", *shape_and_dtype(w.data), w.name or "")
                for w in wrt
            ]
            generator = FastGenerator(order, root, wrt_nodes, arg_list, single, aux_node)
            program, leaves = generator.generate()
            # float32 sums taken in another order (a @ for a sum of products) round apart
            rel = 1e-5 if any(n.dtype == np.float32 for n in order) else 1e-9
            # The caller's arrays the program reads (a template may leave an operand unread).
            read = {id(v) for k, v in generator.constants.items() if k in program.run_source}
            replay = _Replay(
                program,
                [n.value for n in leaves],
                None if len(keep) == len(args) else keep,
                [a for a in recorder.live if id(a) in read],
                recorder.lists,
            )
            replay.rel = rel
            try:  # compared with the eager answer here, so not again at this run
                got = replay(self, args, check=False)
                problem = _agree(got, answer, rel) if got is not None else "a leaf changed shape"
            except Exception as e:  # a generator bug must not break a step that runs eagerly
                problem = f"the program raised {type(e).__name__}: {e}"
            if not problem:
                self._store(key, replay)
                self._pending = replay  # its guard is written at its first replay
                self._source, self._run_source = program.source, program.run_source
                return answer
            if self.check:
                raise CompileError(
                    f"compiled {self._label()} disagrees with the eager step: {problem}\n"
                    f"{program.source}"
                )
            reason = f"the generated program disagrees with the eager step ({problem})"
        return self._refuse(key, reason, answer)

    def _refuse(self, key: tuple[Any, ...], reason: str, answer: Any) -> Any:
        """Run these inputs eagerly from now on, saying why once."""
        self._store(key, _Eager(reason))
        if reason not in self._warned:
            self._warned.add(reason)
            warnings.warn(
                f"compiled {self._label()} runs eagerly for these inputs: {reason}",
                CompileWarning,
                stacklevel=4,
            )
        return answer

    def _store(self, key: tuple[Any, ...], entry: _Replay | _Eager) -> None:
        self._cache[key] = entry
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def _label(self) -> str:
        return str(getattr(self.f, "__name__", "function"))

    def __repr__(self) -> str:
        return f"<compiled {self._label()}: {len(self._cache)} program(s)>"


def _split_aux(out: Any) -> tuple[Any, Value]:
    """(loss, aux) from what f returned with has_aux."""
    if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], Value)):
        raise TypeError("with has_aux the function must return (loss, aux Value)")
    return out


def _argument_names(f: Callable[..., Any]) -> list[str]:
    """The names of f's positional parameters: the program's names for its arguments."""
    if type(f) is FunctionType and not hasattr(f, "__wrapped__"):  # signature() costs 0.5 ms
        return list(f.__code__.co_varnames[: f.__code__.co_argcount])
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return []
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in params if p.kind in positional]


def _is_data(a: Any) -> bool:
    """True for the numbers an argument outside argnums carries as data: floats, arrays, lists."""
    if isinstance(a, bool | int | str) or a is None:
        return False
    if isinstance(a, float | np.floating | np.ndarray):
        return True
    if isinstance(a, list | tuple):
        try:
            as_data(a)
        except (TypeError, ValueError):
            return False
        return True
    return False


def _check_output(out: Any) -> None:
    if not isinstance(out, Value):
        raise TypeError(f"the function must return a Value, got {type(out).__name__}")
    if out.shape != ():
        raise ValueError(
            f"grad needs a function with a scalar output, got shape {out.shape}; "
            "use jacobian for vector outputs"
        )


def compile(
    f: Callable[..., Value],
    argnums: int | Sequence[int] = 0,
    *,
    wrt: Sequence[Value] | None = None,
    check: bool = False,
    cache_size: int = 8,
) -> Compiled:
    """value_and_grad(f, argnums), traced on the first call and replayed as numpy after it.

    With `wrt` (leaf Values such as a model's parameters) the gradients are those
    of wrt, as a list, and every argument is data. See this module's docstring
    for how it traces, when it falls back to eager, and `step.source`.
    """
    return Compiled(f, argnums, wrt=wrt, check=check, cache_size=cache_size)
