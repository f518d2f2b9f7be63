"""`Module`: the base of every model. Parameters and sub-modules are registered by assignment.

Assigning a leaf `Value` to a module's attribute makes it a parameter; assigning a
`Module` (or a list of them) makes it a sub-module. Both go into one registry,
`_children`, in assignment order, and everything else (`parameters()`,
`state_dict()`, `save()`, the `repr`) reads that registry.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import math
import os
import reprlib
import stat
import sys
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

from autograd import Value
from autograd.graph import Scope

if sys.platform != "win32":
    import fcntl

M = TypeVar("M", bound="Module")
PathLike = str | os.PathLike[str]

# The archive member that holds `save`'s options. "@" is in no parameter name (those are
# dotted identifiers), so it never collides with one; `load` skips it.
OPTIONS_MEMBER = "@options"
MAX_OPTIONS_BYTES = 1 << 16  # a longer options member is refused unread


class Module:
    """A model: parameters and sub-modules registered on assignment, `__call__` runs `forward`.

    Subclasses call `super().__init__()` first, assign their parameters (leaf Values)
    and sub-modules as attributes, and define `forward`. A module with a `color`
    passes it to the scope its forward runs in, so drawings can colour its nodes.
    """

    color: str | None = None
    forward: Callable[..., Any]
    _children: dict[str, Any]  # key → Value or Module, in assignment order
    _label: str | None  # the name the parent registered this module under
    _changes: int  # how many times this module's registry has changed
    # The last parameter walk: the modules it went through, each with its _changes then,
    # and what it found.
    _found: tuple[list[tuple[Module, int]], list[tuple[str, Value]]] | None

    def __init__(self) -> None:
        object.__setattr__(self, "_children", {})
        object.__setattr__(self, "_label", None)
        object.__setattr__(self, "_changes", 0)
        object.__setattr__(self, "_found", None)

    # ---- registration: the one place parameters and sub-modules are found ------
    def __setattr__(self, name: str, value: Any) -> None:
        children = self.__dict__.get("_children")
        if children is None:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning {name!r}"
            )
        entries = _entries(name, value)
        if not entries and value is not None and _registered(children, name):
            raise TypeError(
                f"{type(self).__name__}.{name} is a parameter or a sub-module, and a "
                f"{type(value).__name__} would silently drop it from parameters(), training and "
                f"save; assign a Value (or a Module), change the numbers with .{name}.data = ..., "
                f"or set it to None (or del it) to remove it"
            )
        _replace(self, name, entries)
        for key, item in entries:
            if isinstance(item, Module):
                object.__setattr__(item, "_label", key)
            elif item.name is None:
                item.name = key
        if entries and isinstance(value, list):
            value = tuple(value)  # a list could change behind the registry's back
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        _replace(self, name, [])
        object.__delattr__(self, name)

    # ---- parameters ---------------------------------------------------------------
    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        """(dotted name, parameter) for every parameter, each listed once under its first name."""
        return iter(self._named_parameters())

    def _named_parameters(self) -> list[tuple[str, Value]]:
        # zero_grad runs this every training step, so the walk is remembered. It is stale
        # once the registry of any module it went through has changed (a sub-module may be
        # shared, and changed through another parent), which one counter per module tells.
        cached = self._found
        if cached is not None and all(m._changes == n for m, n in cached[0]):
            return cached[1]
        # Depth first in registration order, with an explicit stack.
        found: list[tuple[str, Value]] = []
        walked: list[tuple[Module, int]] = [(self, self._changes)]
        seen: set[int] = set()
        stack: list[tuple[str, Iterator[tuple[str, Any]]]] = [("", iter(self._children.items()))]
        while stack:
            prefix, items = stack[-1]
            for key, item in items:
                if id(item) in seen:
                    continue
                seen.add(id(item))
                if isinstance(item, Module):
                    walked.append((item, item._changes))
                    stack.append((f"{prefix}{key}.", iter(item._children.items())))
                    break
                found.append((prefix + key, item))
            else:
                stack.pop()
        object.__setattr__(self, "_found", (walked, found))
        return found

    def modules(self) -> list[Module]:
        """This module and every module inside it, each once, parents before children."""
        found: list[Module] = []
        seen: set[int] = set()
        stack: list[Module] = [self]
        while stack:
            m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            found.append(m)
            inner = [c for c in m._children.values() if isinstance(c, Module)]
            stack.extend(reversed(inner))
        return found

    def parameters(self) -> list[Value]:
        """Every parameter once, in registration order."""
        return [p for _, p in self._named_parameters()]

    def zero_grad(self) -> None:
        """Forget every parameter's gradient."""
        for _, p in self._named_parameters():
            p.zero_grad()

    # ---- running ------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run `forward` inside a scope labelled with this module's name (and colour)."""
        label = self._label or type(self).__name__
        color = self.color
        inside = Scope(label, self) if color is None else Scope(label, self, color=color)
        with inside:
            return self.forward(*args, **kwargs)

    @contextlib.contextmanager
    def using(self, parameters: Sequence[Value]) -> Iterator[None]:
        """Inside this block the model computes with `parameters` (in `parameters()` order).

        This makes the model a function of its parameters, as `autograd.gradcheck` needs:
        `gradcheck(lambda *ps: run(ps), *model.parameters())`. They need not be leaves
        (slices of one vector Value work, for `hessian`). The originals come back after.
        """
        own = self.parameters()
        parameters = list(parameters)
        if len(parameters) != len(own):
            raise ValueError(f"expected {len(own)} parameters, got {len(parameters)}")
        for (name, p), q in zip(self.named_parameters(), parameters, strict=True):
            if not isinstance(q, Value) or q.shape != p.shape:
                raise ValueError(f"{name}: expected a Value of shape {p.shape}, got {q!r}")
        swap = {id(p): q for p, q in zip(own, parameters, strict=True)}
        undo: list[tuple[Module, str, Any]] = []
        for m in self.modules():
            attrs = {k.split(".")[0] for k, item in m._children.items() if id(item) in swap}
            for attr in attrs:
                old = m.__dict__[attr]
                if isinstance(old, tuple):
                    new: Any = tuple(swap.get(id(item), item) for item in old)
                else:
                    new = swap[id(old)]
                undo.append((m, attr, old))
                m.__dict__[attr] = new
                _replace(m, attr, _entries(attr, new, leaves_only=False))
        try:
            yield
        finally:
            for m, attr, old in reversed(undo):
                m.__dict__[attr] = old
                _replace(m, attr, _entries(attr, old, leaves_only=False))

    # ---- state ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's data as an array (0-d for a scalar), keyed by name."""
        return {name: np.array(p.data) for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Set every parameter from `state`; on any mismatch raise ValueError and change nothing."""
        params = dict(self.named_parameters())
        _check_names(self, params, list(state))
        new: dict[str, Any] = {}
        for name, p in params.items():
            arr = np.asarray(state[name])
            _check_entry(name, p, arr.shape, arr.dtype)
            with np.errstate(over="ignore"):
                if type(p.data) is float:
                    new[name] = float(arr)
                elif arr.ndim == 0:
                    new[name] = p.dtype.type(arr)
                else:
                    new[name] = arr.astype(p.dtype, copy=True)
            if not np.array_equal(np.isfinite(new[name]), np.isfinite(arr)):
                largest = np.finfo(p.dtype).max
                raise ValueError(
                    f"{name}: a number is too large for {p.dtype} (beyond ±{largest:.4g}); "
                    "it would load as infinity"
                )
        # Everything checked: only now is anything written.
        for name, p in params.items():
            p.data = new[name]

    def save(self, path: PathLike, options: Mapping[str, Any] | None = None) -> None:
        """Write the parameters to an .npz file, atomically: a crash never leaves a half file.

        Through a symlink the target is written. The archive is first written to one
        temporary file beside it, named after it, so a save that is killed leaves at
        most that one file behind, and the next save of the same path reuses it.
        `options` (JSON data, such as how the model was built) goes beside the weights
        as one text array, which `load` skips and `saved_options` reads.
        """
        members = self.state_dict()
        if options is not None:  # a 0-d unicode array: numpy reads it without pickle
            members[OPTIONS_MEMBER] = np.array(_options_text(options))
        target = os.path.realpath(os.fspath(path))
        directory, base = os.path.split(target)
        tmp = os.path.join(directory, f".{base}.valuegrad-save")
        with _locked_temporary(tmp) as f:
            try:
                _write_npz(f, members)
                f.flush()
                os.fsync(f.fileno())
                os.chmod(tmp, _mode_for(target))  # a file's usual mode, not the temporary's
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise

    def load(self: M, path: PathLike) -> M:
        """Read parameters written by `save`; a bad file gives a ValueError and changes nothing.

        Member names, shapes and dtypes are checked against the model from the archive's
        directory and each array's header before any array is read, so the memory used
        is bounded by the model's size, whatever the file claims. Nothing is unpickled.
        """
        path = os.fspath(path)
        try:
            self.load_state_dict(_read_npz(path, self))
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None
        return self

    # ---- display ----------------------------------------------------------------------
    def extra_repr(self) -> str:
        """What goes between the parentheses of the repr: by default the module's own parameters."""
        parts = []
        for key, item in self._children.items():
            if isinstance(item, Value):
                parts.append(_describe(key, item))
        return ", ".join(parts)

    @reprlib.recursive_repr(fillvalue="<cycle: a module that contains itself>")
    def __repr__(self) -> str:
        extra = self.extra_repr()
        modules = [(k, m) for k, m in self._children.items() if isinstance(m, Module)]
        if not modules:
            return f"{type(self).__name__}({extra})"
        lines = [f"{type(self).__name__}({extra}{',' if extra else ''}"]
        for key, m in modules:
            text = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({key}): {text}")
        lines.append(")")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """Jupyter's view of a module: a table of its parameters (name, shape, count), the total."""
        rows = []
        total = 0
        for name, p in self.named_parameters():
            count = int(np.prod(p.shape))
            total += count
            shape = "×".join(map(str, p.shape)) or "scalar"
            rows.append(
                f"<tr><td><code>{html.escape(name)}</code></td><td>{shape}</td>"
                f"<td style='text-align:right'>{count:,}</td></tr>"
            )
        title = html.escape(type(self).__name__)
        return (
            f"<table><caption style='text-align:left'><b>{title}</b>: {total:,} parameters"
            "</caption><thead><tr><th>parameter</th><th>shape</th><th>count</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )


def _replace(module: Module, name: str, entries: list[tuple[str, Any]]) -> None:
    """Put `entries` where attribute `name`'s entries were (or at the end), keeping the order."""
    object.__setattr__(module, "_changes", module._changes + 1)
    children = module._children
    kept: dict[str, Any] = {}
    placed = False
    for key, item in children.items():
        if key == name or key.startswith(name + "."):
            if not placed:
                kept.update(entries)
                placed = True
        else:
            kept[key] = item
    if not placed:
        kept.update(entries)
    children.clear()
    children.update(kept)


def _registered(children: dict[str, Any], name: str) -> bool:
    """True when attribute `name` holds registered parameters or modules."""
    prefix = name + "."
    return name in children or any(key.startswith(prefix) for key in children)


def _entries(name: str, value: Any, leaves_only: bool = True) -> list[tuple[str, Any]]:
    """The registry entries an assignment makes: (key, Value or Module) pairs, maybe none."""
    if isinstance(value, Module):
        return [(name, value)]
    if isinstance(value, Value):
        if leaves_only:
            _check_leaf(name, value)
        return [(name, value)]
    if isinstance(value, (list, tuple)) and value:
        kinds = {isinstance(v, (Module, Value)) for v in value}
        if kinds == {True}:
            for i, v in enumerate(value):
                if isinstance(v, Value) and leaves_only:
                    _check_leaf(f"{name}.{i}", v)
            return [(f"{name}.{i}", v) for i, v in enumerate(value)]
        if True in kinds:
            raise TypeError(
                f"{name}: a list of parameters or modules must hold only Values and Modules"
            )
    if _hides_parameters(value):
        raise TypeError(
            f"{name}: Values or Modules inside a {type(value).__name__} are not registered, so "
            "parameters(), training and save would miss them; hold them in a flat list or "
            "tuple, or assign each one to an attribute of its own"
        )
    return []


def _hides_parameters(value: Any) -> bool:
    """True when a dict, set or nested list holds a Value or a Module somewhere inside."""
    stack, seen = [value], set()
    while stack:
        item = stack.pop()
        if isinstance(item, (Value, Module)):
            return True
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
    return False


def _check_leaf(name: str, value: Value) -> None:
    if not value.is_leaf:
        raise TypeError(
            f"{name}: a parameter must be a leaf Value, not the result of an operation; "
            "use .detach() to make one"
        )


def _describe(name: str, p: Value) -> str:
    if type(p.data) is float:
        return f"{name}={p.data:.4g}"
    return f"{name}: {'×'.join(map(str, p.shape)) or 'scalar'}"


def _mode_for(path: str) -> int:
    """A saved file's permissions: those of the file it replaces, else 0o666 less the umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)  # reading the umask means setting it; put it straight back
        os.umask(umask)
        return 0o666 & ~umask


def _options_text(options: Mapping[str, Any]) -> str:
    """options as JSON text, short enough for `saved_options` to read; else ValueError/TypeError."""
    if not isinstance(options, Mapping):
        raise TypeError(f"save: options must be a mapping, got {type(options).__name__}")
    try:
        text = json.dumps(dict(options), sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValueError(f"save: options must be JSON data ({e})") from None
    if 4 * len(text) > MAX_OPTIONS_BYTES - 128:  # 4 bytes a character, and the .npy header
        raise ValueError(f"save: options take {len(text)} characters, more than a saved file holds")
    return text


def _write_npz(f: Any, state: Mapping[str, np.ndarray]) -> None:
    """An .npz archive (a zip of .npy files) written member by member, never pickling."""
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
        for name, arr in state.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)


def saved_options(path: PathLike) -> dict[str, Any] | None:
    """The options `Module.save` stored in the file, or None if it holds none.

    Only that member is read, and only after its size and its header (a 0-d unicode array
    of at most MAX_OPTIONS_BYTES) are checked; anything else is a ValueError.
    """
    path = os.fspath(path)
    try:
        zf = zipfile.ZipFile(path)
    except (FileNotFoundError, IsADirectoryError, PermissionError, MemoryError):
        raise
    except Exception:  # zipfile raises many kinds of error for a damaged directory
        raise ValueError(f"{path}: not an .npz archive, or a damaged one") from None
    with zf:
        infos = [i for i in zf.infolist() if i.filename == OPTIONS_MEMBER + ".npy"]
        if not infos:
            return None
        if len(infos) > 1:
            raise ValueError(f"{path}: damaged .npz archive: a member appears twice")
        (info,) = infos
        if info.file_size > MAX_OPTIONS_BYTES:
            raise ValueError(f"{path}: the options take {info.file_size} bytes, too many to read")
        try:
            with zf.open(info) as f:
                raw = f.read(MAX_OPTIONS_BYTES + 1)
        except Exception as e:  # a bad CRC, compression method, encryption flag, ...
            raise ValueError(f"{path}: damaged options ({type(e).__name__}: {e})") from None
    f = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(f)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, _, dtype = read_header(f)
    except ValueError as e:
        raise ValueError(f"{path}: damaged options ({e})") from None
    if dtype.kind != "U" or shape != ():
        raise ValueError(f"{path}: the options must be one text, got {dtype} of shape {shape}")
    data = f.read()
    if len(data) != dtype.itemsize:
        raise ValueError(f"{path}: damaged options (a {dtype} text in {len(data)} bytes)")
    try:
        options = json.loads(str(np.frombuffer(data, dtype=dtype)[0]))
    except ValueError as e:
        raise ValueError(f"{path}: the options are not JSON ({e})") from None
    if not isinstance(options, dict):
        raise ValueError(f"{path}: the options must be a JSON object, got {type(options).__name__}")
    return options


@contextlib.contextmanager
def _locked_temporary(tmp: str) -> Iterator[Any]:
    """`tmp` opened for writing, emptied, and held under an exclusive lock while it is written.

    The lock makes two saves of one path take turns instead of writing one file at
    once. A save that won the lock after the other renamed the file away holds a
    name that no longer exists, so it opens the name afresh.
    """
    while True:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        f = os.fdopen(fd, "wb")
        try:
            if sys.platform != "win32":
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                still_there = os.path.samestat(os.fstat(fd), os.stat(tmp, follow_symlinks=False))
            except FileNotFoundError:
                still_there = False
            if still_there:
                f.truncate(0)
                yield f
                return
        finally:
            f.close()


def _check_names(module: Module, params: Mapping[str, Value], names: Sequence[str]) -> None:
    """ValueError listing the missing and unexpected names, unless `names` are the parameters'."""
    missing = [n for n in params if n not in names]
    unexpected = [n for n in names if n not in params]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if unexpected:
            shown = ", ".join(str(n)[:80] for n in unexpected[:10])
            more = f" and {len(unexpected) - 10:,} more" if len(unexpected) > 10 else ""
            parts.append(f"unexpected {shown}{more}")
        raise ValueError(
            f"state does not match {type(module).__name__}: {'; '.join(parts)} "
            f"(expected {', '.join(params) or 'no parameters'})"
        )


def _check_entry(name: str, p: Value, shape: tuple[int, ...], dtype: np.dtype[Any]) -> None:
    """ValueError unless an array of this shape and dtype can become parameter p."""
    if dtype.kind not in "fiu":
        what = "Python objects" if dtype.kind == "O" else f"dtype {dtype}"
        raise ValueError(f"{name}: expected real numbers, got {what}")
    if shape != p.shape:
        raise ValueError(f"{name}: expected shape {p.shape}, got {shape}")


def _directory_size(path: str) -> int | None:
    """The size its end record gives the zip directory, or None when it has none (or no file).

    zipfile reads the whole directory into memory and makes an object per entry, so
    this is checked first (with zipfile's own reader of the end record).
    """
    end_record = getattr(zipfile, "_EndRecData", None)
    if end_record is None:
        return None
    try:
        with open(path, "rb") as f:
            record = end_record(f)
    except OSError:
        return None  # zipfile below says what is wrong with the path
    return None if record is None else int(record[getattr(zipfile, "_ECD_SIZE", 5)])


def _read_npz(path: str, module: Module) -> dict[str, np.ndarray]:
    """The arrays of an .npz archive saved by `save`, each checked against `module` first."""
    params = dict(module.named_parameters())
    size, largest = _directory_size(path), 1024 * (len(params) + 1)
    if size is not None and size > largest:  # zipfile would read it, a record per member, whole
        raise ValueError(
            f"its zip directory has {size:,} bytes, more than a weights file of this "
            f"{type(module).__name__} needs ({largest:,}): it lists too many members"
        )
    try:
        zf = zipfile.ZipFile(path)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as e:  # zipfile raises many kinds of error for a damaged directory
        if isinstance(e, MemoryError):
            raise
        with open(path, "rb") as f:
            zip_like = f.read(4) == b"PK\x03\x04"
        if zip_like:
            raise ValueError(
                f"damaged .npz archive (its zip directory cannot be read: {e})"
            ) from None
        raise ValueError("not a weights file saved by Module.save (not an .npz archive)") from None
    with zf:
        infos = zf.infolist()
        names = [
            i.filename[: -len(".npy")] if i.filename.endswith(".npy") else i.filename for i in infos
        ]
        if len(set(names)) != len(names):
            raise ValueError("damaged .npz archive: a member appears twice")
        kept = [(i, n) for i, n in zip(infos, names, strict=True) if n != OPTIONS_MEMBER]
        infos, names = [i for i, _ in kept], [n for _, n in kept]  # the options: never read
        _check_names(module, params, names)
        state: dict[str, np.ndarray] = {}
        for info, name in zip(infos, names, strict=True):
            try:
                state[name] = _read_member(zf, info, name, params[name])
            except (ValueError, MemoryError):
                raise
            except Exception as e:  # a bad CRC, compression method, encryption flag, ...
                what = f"{type(e).__name__}: {e}"
                raise ValueError(f"damaged .npz archive ({info.filename}: {what})") from None
    return state


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, p: Value) -> np.ndarray:
    """One .npy member as an array: its header is checked against p before its data is read."""
    with zf.open(info) as f:
        try:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        except ValueError as e:
            raise ValueError(f"damaged .npz archive ({info.filename}: {e})") from None
        _check_entry(name, p, shape, dtype)
        nbytes = math.prod(shape) * dtype.itemsize
        if info.file_size != f.tell() + nbytes:
            raise ValueError(
                f"damaged .npz archive ({info.filename} holds {info.file_size} bytes, "
                f"but its header promises {f.tell() + nbytes})"
            )
        data = f.read(nbytes)
        if len(data) != nbytes or f.read(1):
            raise ValueError(f"damaged .npz archive ({info.filename} is cut short)")
    arr = np.frombuffer(data, dtype=dtype)
    return arr.reshape(shape, order="F" if fortran else "C")
