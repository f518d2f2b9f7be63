"""nn.Module: registration, names, scopes, repr, state dicts and .npz files."""

from __future__ import annotations

import io
import math
import os
import re
import struct
import subprocess
import sys
import threading
import tracemalloc
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nn
import nn.module
from autograd import Value


class Affine(nn.Module):
    """w·x + b with a vector w: a tensor parameter and a scalar one."""

    def __init__(self, n: int = 3, color: str | None = None) -> None:
        super().__init__()
        self.w = Value(np.arange(1.0, n + 1))
        self.b = Value(0.5)
        self.color = color

    def forward(self, x: Any) -> Value:
        return x @ self.w + self.b


class Stack(nn.Module):
    """Two named children and a list of them."""

    def __init__(self) -> None:
        super().__init__()
        self.first = Affine(3, color="red")
        self.scale = Value(2.0)
        self.rest = [Affine(1), Affine(1)]

    def forward(self, x: Any) -> Value:
        h = self.first(x) * self.scale
        for m in self.rest:
            h = m(h.reshape((1,)))
        return h


def test_parameters_and_modules_are_registered_in_assignment_order() -> None:
    model = Stack()
    names = [n for n, _ in model.named_parameters()]
    assert names == ["first.w", "first.b", "scale", "rest.0.w", "rest.0.b", "rest.1.w", "rest.1.b"]
    assert model.parameters() == [p for _, p in model.named_parameters()]
    assert [type(m).__name__ for m in model.modules()] == ["Stack", "Affine", "Affine", "Affine"]


def test_a_list_of_modules_is_kept_as_a_tuple_so_it_cannot_drift_from_the_registry() -> None:
    model = Stack()
    assert isinstance(model.rest, tuple)
    with pytest.raises(AttributeError):
        model.rest.append(Affine(1))  # type: ignore[attr-defined]


def test_a_parameter_gets_its_attribute_name_unless_it_has_one() -> None:
    model = Affine()
    assert model.w.name == "w" and model.b.name == "b"
    named = Value(1.0, name="kept")
    model.c = named
    assert named.name == "kept"
    assert [n for n, _ in model.named_parameters()] == ["w", "b", "c"]


def test_reassigning_keeps_the_place_and_drops_what_was_there() -> None:
    model = Stack()
    model.first = Value(1.0)
    assert [n for n, _ in model.named_parameters()][:2] == ["first", "scale"]
    model.rest = [Affine(2)]
    assert [n for n, _ in model.named_parameters()][-2:] == ["rest.0.w", "rest.0.b"]
    model.rest = None
    del model.scale
    assert [n for n, _ in model.named_parameters()] == ["first"]


def test_plain_attributes_are_not_parameters() -> None:
    model = Affine()
    model.note = "text"
    model.numbers = [1.0, 2.0]
    model.empty = []
    assert [n for n, _ in model.named_parameters()] == ["w", "b"]


def test_a_shared_parameter_is_listed_once_under_its_first_name() -> None:
    model = Stack()
    model.alias = model.first.w
    model.again = model.first
    names = [n for n, _ in model.named_parameters()]
    assert names.count("first.w") == 1 and "alias" not in names and "again.w" not in names
    assert len(model.parameters()) == len({id(p) for p in model.parameters()})


def test_a_non_leaf_value_or_a_mixed_list_is_refused() -> None:
    model = Affine()
    with pytest.raises(TypeError, match="leaf"):
        model.c = model.b * 2.0
    with pytest.raises(TypeError, match="only Values and Modules"):
        model.parts = [Affine(), 3.0]


@pytest.mark.parametrize("plain", [np.ones(3), 2.0, [1.0, 2.0, 3.0], "w"])
def test_a_plain_value_over_a_parameter_is_refused_and_the_parameter_kept(plain: Any) -> None:
    model = Affine()
    w = model.w
    with pytest.raises(TypeError, match=r"Affine\.w is a parameter.*\.w\.data = "):
        model.w = plain
    assert model.w is w and model.parameters() == [w, model.b]
    assert list(model.state_dict()) == ["w", "b"]


def test_a_plain_value_over_a_list_of_modules_is_refused_but_none_removes_it() -> None:
    model = Stack()
    with pytest.raises(TypeError, match="rest is a parameter or a sub-module"):
        model.rest = np.zeros(2)
    assert len(model.parameters()) == 7
    model.rest = None
    assert len(model.parameters()) == 3


@pytest.mark.parametrize(
    "holder",
    [
        lambda: {"a": Affine(), "b": Affine()},
        lambda: [[Affine(), Affine()]],
        lambda: ([Value(1.0)], [Value(2.0)]),
        lambda: {"deep": [{"w": Value(1.0)}]},
        lambda: {Affine()},
    ],
    ids=["dict", "nested list", "tuple of lists", "deeper", "set"],
)
def test_modules_or_values_hidden_in_a_container_are_refused_with_a_way_out(holder: Any) -> None:
    model = Affine()
    with pytest.raises(TypeError, match=r"not registered.*flat list or tuple"):
        model.parts = holder()
    assert [n for n, _ in model.named_parameters()] == ["w", "b"]
    assert not hasattr(model, "parts")


def test_the_repr_of_a_module_that_contains_itself_ends() -> None:
    model = Stack()
    model.me = model
    model.first.parent = model
    text = repr(model)
    assert text.count("<cycle: a module that contains itself>") == 2
    assert len(model.parameters()) == 7


def test_forgetting_super_init_is_explained() -> None:
    class Broken(nn.Module):
        def __init__(self) -> None:
            self.w = Value(1.0)

    with pytest.raises(AttributeError, match=r"super\(\).__init__"):
        Broken()


def test_an_unknown_attribute_raises_naming_it_and_the_class() -> None:
    model = Affine()
    with pytest.raises(AttributeError, match=r"Affine.*wrong_name"):
        _ = model.wrong_name


def test_zero_grad_clears_every_gradient() -> None:
    model = Stack()
    model(np.ones(3)).backward()
    assert all(p.grad_computed for p in model.parameters())
    model.zero_grad()
    assert not any(p.grad_computed for p in model.parameters())


def test_the_remembered_parameter_list_follows_every_change_in_any_module() -> None:
    model = Stack()
    shared = model.first
    outer = nn.Sequential(model)
    assert len(outer.parameters()) == 7  # the walk is now remembered
    shared.extra = Value(1.0)  # a change deep inside, made through another module
    names = [name for name, _ in outer.named_parameters()]
    assert len(names) == 8 and names[2] == "layers.0.first.extra"
    del shared.extra
    assert len(outer.parameters()) == 7
    model.rest = [Affine(2)]
    assert len(outer.parameters()) == 5
    other = nn.Sequential(shared)  # a second parent's walk is remembered apart
    assert len(other.parameters()) == 2
    shared.w = Value(np.zeros(2))
    assert other.parameters()[0] is shared.w and outer.parameters()[0] is shared.w
    assert not hasattr(nn.module, "_generation")  # each module counts its own changes


def test_zero_grad_reaches_a_parameter_added_after_an_earlier_zero_grad() -> None:
    model = Stack()
    model.zero_grad()
    model.first.extra = Value(1.0)
    model.first.extra.grad = 3.0
    model.zero_grad()
    assert not model.first.extra.grad_computed


def test_forward_runs_in_a_scope_named_after_the_module_with_its_colour() -> None:
    model = Stack()
    out = model(np.ones(3))
    scopes = {}
    from autograd import topological_order

    for node in topological_order(out):
        if node._scope is not None:
            scopes[node._scope.label] = node._scope
    assert set(scopes) == {"Stack", "first", "rest.0", "rest.1"}
    first = scopes["first"]
    assert first.owner is model.first and first.attrs == {"color": "red"}
    assert first.parent is not None and first.parent.label == "Stack"
    assert first.parent.owner is model and first.parent.parent is None
    assert scopes["rest.0"].attrs == {}


def test_a_forward_that_raises_leaves_no_scope_behind() -> None:
    from autograd.graph import current_scope

    model = Stack()
    with pytest.raises(ValueError):
        model(np.ones(5))  # three weights, five features
    assert current_scope() is None
    path = model(np.ones(3))._scope.path()  # the next call starts at the top again
    assert [s.label for s in path] == ["Stack", "rest.1"]


def test_repr_shows_the_structure_and_the_values() -> None:
    text = repr(Stack())
    assert text.startswith("Stack(scale=2,\n")
    assert "(first): Affine(w: 3, b=0.5)" in text
    assert "(rest.1): Affine(w: 1, b=0.5)" in text
    assert repr(Affine()) == "Affine(w: 3, b=0.5)"


def test_using_swaps_the_parameters_in_and_back_out() -> None:
    model = Stack()
    before = model.named_parameters()
    before = list(before)
    others = [Value(np.zeros(p.shape) if p.shape else 0.0) for p in model.parameters()]
    with model.using(others):
        assert model.parameters() == others
        out = model(np.ones(3))
    out.backward()
    assert all(q.grad_computed for q in others)
    assert list(model.named_parameters()) == before
    assert not any(p.grad_computed for p in model.parameters())
    with pytest.raises(ValueError, match="expected 7 parameters"), model.using(others[:2]):
        pass


# ---- state dicts ---------------------------------------------------------------------


def _snapshot(model: nn.Module) -> dict[str, bytes]:
    return {n: np.array(p.data).tobytes() for n, p in model.named_parameters()}


def test_state_dict_is_a_copy() -> None:
    model = Affine()
    state = model.state_dict()
    assert list(state) == ["w", "b"] and state["b"].shape == ()
    state["w"][0] = 100.0
    assert model.w.data[0] == 1.0


def test_load_state_dict_sets_every_parameter_keeping_its_kind() -> None:
    model, other = Stack(), Stack()
    for p in other.parameters():
        p.data = p.data * 3.0 - 1.0
    model.load_state_dict(other.state_dict())
    assert _snapshot(model) == _snapshot(other)
    assert type(model.scale.data) is float and type(model.first.b.data) is float


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.pop("rest.1.b"), "missing rest.1.b"),
        (lambda s: s.update(extra=np.zeros(1)), "unexpected extra"),
        (lambda s: s.update({"rest.1.b": np.zeros(2)}), r"rest.1.b: expected shape \(\)"),
        (lambda s: s.update({"rest.1.w": np.zeros((1, 1))}), r"rest.1.w: expected shape \(1,\)"),
        (lambda s: s.update({"rest.1.b": np.array("x")}), "real numbers"),
    ],
)
def test_a_mismatched_state_raises_and_changes_nothing(change: Any, message: str) -> None:
    model = Stack()
    before = _snapshot(model)
    state = {name: arr * 7.0 for name, arr in model.state_dict().items()}
    change(state)  # the bad entry comes last, after entries a careless loader would already write
    with pytest.raises(ValueError, match=message):
        model.load_state_dict(state)
    assert _snapshot(model) == before


# ---- files -----------------------------------------------------------------------------

finite_or_not = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True, width=64)


@given(
    w=hnp.arrays(np.float64, (3,), elements=finite_or_not),
    b=finite_or_not,
)
def test_save_then_load_is_bit_exact(tmp_path_factory: Any, w: np.ndarray, b: float) -> None:
    path = tmp_path_factory.mktemp("w") / "weights.npz"
    model = Affine()
    model.w.data[...] = w
    model.b.data = b
    model.save(path)
    other = Affine()
    assert other.load(path) is other
    assert other.w.data.tobytes() == w.tobytes()
    assert np.float64(other.b.data).tobytes() == np.float64(b).tobytes()


def test_save_is_atomic_a_failure_keeps_the_old_file(tmp_path: Path, monkeypatch: Any) -> None:
    path = tmp_path / "weights.npz"
    Affine().save(path)
    old = path.read_bytes()

    def half_write(f: Any, state: Any) -> None:
        f.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(nn.module, "_write_npz", half_write)
    with pytest.raises(OSError, match="disk full"):
        Affine(3, color="x").save(path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["weights.npz"]  # no temporary file left behind


def _bad_files(good: bytes) -> dict[str, bytes]:
    buf = io.BytesIO()
    np.savez(buf, w=np.array([object()], dtype=object), b=np.zeros(()))
    npy = io.BytesIO()
    np.save(npy, np.zeros(3))
    other = io.BytesIO()
    np.savez(other, weights=np.zeros(3))
    return {
        "empty": b"",
        "text": b"hello, not weights\n",
        "truncated": good[: len(good) // 2],
        "pickled objects": buf.getvalue(),
        "a .npy file": npy.getvalue(),
        "someone else's npz": other.getvalue(),
    }


@pytest.mark.parametrize("kind", list(_bad_files(b"x" * 10)))
def test_a_bad_file_raises_a_value_error_naming_it_and_changes_nothing(
    tmp_path: Path, kind: str
) -> None:
    good = tmp_path / "good.npz"
    Affine().save(good)
    path = tmp_path / "bad.npz"
    path.write_bytes(_bad_files(good.read_bytes())[kind])
    model = Affine()
    model.b.data = 9.0
    before = _snapshot(model)
    with pytest.raises(ValueError, match=r"bad\.npz") as e:
        model.load(path)
    assert "pickle" not in str(e.value)
    assert ("damaged" in str(e.value)) == (kind == "truncated"), str(e.value)
    assert _snapshot(model) == before


def test_a_saved_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    path = tmp_path / "weights.npz"
    umask = os.umask(0o022)
    try:
        Affine().save(path)
        assert path.stat().st_mode & 0o777 == 0o644
        path.chmod(0o600)
        Affine().save(path)  # replacing a file keeps its permissions
        assert path.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(umask)


def test_saved_options_ride_beside_the_weights_and_load_skips_them(tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    model = Affine()
    model.w.data[...] = [4.0, -5.0, 6.0]
    model.save(path, options={"model": "affine", "sizes": [3], "note": "é"})
    assert nn.module.saved_options(path) == {"model": "affine", "sizes": [3], "note": "é"}
    with np.load(path, allow_pickle=False) as f:  # numpy reads it too, as one text
        assert f["@options"].dtype.kind == "U" and f["@options"].shape == ()
    other = Affine()
    other.load(path)
    np.testing.assert_array_equal(other.w.data, [4.0, -5.0, 6.0])
    model.save(path)  # without options the file has none, as before they existed
    assert nn.module.saved_options(path) is None
    assert "@options" not in np.load(path).files


@pytest.mark.parametrize(
    "options",
    [{"x": object()}, {"x": math.nan}, ["model"], {"x": "y" * 20_000}],
    ids=["not JSON", "NaN", "not a mapping", "too long"],
)
def test_options_that_cannot_be_saved_leave_the_old_file(tmp_path: Path, options: Any) -> None:
    path = tmp_path / "w.npz"
    Affine().save(path, options={"model": "old"})
    before = path.read_bytes()
    with pytest.raises((TypeError, ValueError), match="options"):
        Affine(n=2).save(path, options=options)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["w.npz"]


def _with_options_member(path: Path, member: bytes) -> None:
    """Rewrite the weights file at path with `member` as its options."""
    Affine().save(path)
    with zipfile.ZipFile(path) as zf:
        members = [(info, zf.read(info)) for info in zf.infolist()]
    with zipfile.ZipFile(path, "w") as zf:
        for info, data in members:
            zf.writestr(info, data)
        zf.writestr("@options.npy", member)


def _npy(arr: np.ndarray, *, allow_pickle: bool = False) -> bytes:
    f = io.BytesIO()
    np.lib.format.write_array(f, arr, allow_pickle=allow_pickle)
    return f.getvalue()


HUGE_TEXT = b"\x93NUMPY\x01\x00v\x00" + (
    b"{'descr': '<U100000000', 'fortran_order': False, 'shape': (), }".ljust(117) + b"\n"
)


@pytest.mark.parametrize(
    ("member", "match"),
    [
        (_npy(np.array([1.0, 2.0])), "one text, got float64"),
        (_npy(np.array(["a", "b"])), r"shape \(2,\)"),
        (_npy(np.array({"model": "mlp"}, dtype=object), allow_pickle=True), "one text"),
        (_npy(np.array("{not json")), "not JSON"),
        (_npy(np.array("[1, 2]")), "JSON object, got list"),
        (b"\x93NUMPY damaged", "damaged options"),
        (_npy(np.array("x" * 20_000)), "too many to read"),
        (HUGE_TEXT, "text in 0 bytes"),
    ],
    ids=["floats", "two texts", "pickle", "not JSON", "a list", "bad header", "long", "huge"],
)
def test_a_bad_options_member_is_refused_but_the_weights_still_load(
    tmp_path: Path, member: bytes, match: str
) -> None:
    path = tmp_path / "w.npz"
    _with_options_member(path, member)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=match):
            nn.module.saved_options(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # a header's claim is checked, never allocated
    model = Affine()
    model.w.data[...] = 0.0
    model.load(path)  # load never reads the options
    np.testing.assert_array_equal(model.w.data, [1.0, 2.0, 3.0])


def test_loading_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Affine().load(tmp_path / "nowhere.npz")


@given(data=st.data())
def test_any_damaged_file_is_refused_or_loads_the_very_same_weights(
    tmp_path_factory: Any, data: Any
) -> None:
    path = tmp_path_factory.mktemp("w") / "weights.npz"
    saved = Stack()
    saved.save(path)
    raw = bytearray(path.read_bytes())
    cut = data.draw(st.integers(0, len(raw)), label="keep bytes")
    flips = data.draw(st.lists(st.integers(0, len(raw) - 1), max_size=3), label="flip at")
    for i in flips:
        raw[i] ^= 0xFF
    path.write_bytes(bytes(raw[:cut]))
    model = Stack()
    model.scale.data = -1.0
    before = _snapshot(model)
    try:
        model.load(path)
    except ValueError as e:
        assert "weights.npz" in str(e) and "pickle" not in str(e)
        assert _snapshot(model) == before
    else:
        assert _snapshot(model) == _snapshot(saved)


def test_the_file_is_a_plain_npz_without_pickles(tmp_path: Path) -> None:
    path = tmp_path / "weights.npz"
    Stack().save(path)
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist() == [f"{n}.npy" for n, _ in Stack().named_parameters()]
    with np.load(path, allow_pickle=False) as f:
        assert f["first.w"].tolist() == [1.0, 2.0, 3.0]


def hostile_npz(member: str, shape: tuple[int, ...], known: dict[str, np.ndarray]) -> bytes:
    """A small .npz whose `member` inflates to a float64 array of `shape` (2.4 GB for 3·10⁸).

    Deflate segments that each start afresh can be joined, so one compressed MiB of
    zeros, repeated, makes the member without compressing (or holding) its inflated size.
    """
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    head, mib = header.getvalue(), 1 << 20

    def segment(data: bytes) -> bytes:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        return c.compress(data) + c.flush(zlib.Z_FULL_FLUSH)

    total = len(head) + math.prod(shape) * 8
    full, rest = divmod(total - len(head), mib)
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    stream = segment(head) + segment(bytes(mib)) * full + segment(bytes(rest)) + end
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, arr in known.items():
            with zf.open(name + ".npy", "w") as m:
                np.lib.format.write_array(m, arr)
        zf.writestr(member, stream)
    raw = bytearray(buf.getvalue())
    # Mark the last member deflated, with its inflated size, in its local and central headers.
    local, central = raw.rfind(b"PK\x03\x04"), raw.rfind(b"PK\x01\x02")
    struct.pack_into("<H", raw, local + 8, zipfile.ZIP_DEFLATED)
    struct.pack_into("<I", raw, local + 22, total)
    struct.pack_into("<H", raw, central + 10, zipfile.ZIP_DEFLATED)
    struct.pack_into("<I", raw, central + 24, total)
    return bytes(raw)


@pytest.mark.parametrize(
    ("member", "known", "message"),
    [
        ("extra.npy", {"w": np.zeros(3), "b": np.zeros(())}, "unexpected extra"),
        ("w.npy", {"b": np.zeros(())}, r"w: expected shape \(3,\), got \(300000000,\)"),
    ],
    ids=["unknown member", "known name, huge header"],
)
def test_a_small_file_with_a_huge_member_is_refused_from_its_headers(
    tmp_path: Path, member: str, known: dict[str, np.ndarray], message: str
) -> None:
    path = tmp_path / "bomb.npz"
    path.write_bytes(hostile_npz(member, (300_000_000,), known))
    assert path.stat().st_size < 3_000_000
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo(member).file_size > 2_400_000_000
    model = Affine()
    before = _snapshot(model)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=message):
            model.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8_000_000  # numpy reports its arrays to tracemalloc: nothing big was made
    assert _snapshot(model) == before


def test_a_member_whose_size_disagrees_with_its_header_is_damaged(tmp_path: Path) -> None:
    path = tmp_path / "weights.npz"
    Affine().save(path)
    raw = bytearray(path.read_bytes())
    central = raw.find(b"PK\x01\x02")  # w.npy's entry in the zip's directory
    struct.pack_into("<I", raw, central + 24, 2_400_000_000)  # its uncompressed size
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"damaged .npz archive \(w\.npy holds 2400000000 bytes"):
        Affine().load(path)


def test_save_through_a_symlink_writes_its_target(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "weights.npz"
    link = tmp_path / "link.npz"
    link.symlink_to(target)  # dangling until the first save
    model = Affine()
    model.save(link)
    assert link.is_symlink() and target.is_file()
    model.b.data = 7.0
    model.save(link)
    assert link.is_symlink() and Affine().load(target).b.data == 7.0
    assert sorted(os.listdir(tmp_path)) == ["link.npz", "real"]
    assert os.listdir(tmp_path / "real") == ["weights.npz"]


KILLED_SAVE = """
import sys, time
import numpy as np
import nn, nn.module
from autograd import Value

def stuck(f, state):
    f.write(b"PK\\x03\\x04 half an archive")
    f.flush()
    print("writing", flush=True)
    time.sleep(60)

nn.module._write_npz = stuck
m = nn.Module()
m.w = Value(np.ones(3))
m.save(sys.argv[1])
"""


def test_a_killed_save_leaves_one_temporary_file_which_the_next_save_removes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "weights.npz"
    Affine().save(path)
    old = path.read_bytes()
    for _ in range(5):
        proc = subprocess.Popen(
            [sys.executable, "-c", KILLED_SAVE, str(path)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None and proc.stdout.readline() == "writing\n"
        proc.kill()
        proc.wait()
        proc.stdout.close()
    assert path.read_bytes() == old
    left = sorted(os.listdir(tmp_path))
    assert len(left) == 2 and left[1] == "weights.npz", left
    Affine().save(path)
    assert os.listdir(tmp_path) == ["weights.npz"]


def test_saves_of_one_path_from_threads_take_turns(tmp_path: Path) -> None:
    path = tmp_path / "weights.npz"
    models = [Affine() for _ in range(8)]
    for i, m in enumerate(models):
        m.b.data = float(i)
    errors: list[BaseException] = []

    def save(m: Affine) -> None:
        try:
            for _ in range(20):
                m.save(path)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=save, args=(m,)) for m in models]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Affine().load(path).b.data in {float(i) for i in range(8)}
    assert os.listdir(tmp_path) == ["weights.npz"]


@pytest.mark.parametrize(
    ("offset", "value"),
    [(10, 99), (8, 1), (6, 72)],  # compression method 99, the "encrypted" flag, zip version 7.2
    ids=["unknown compression", "encrypted", "newer zip version"],
)
def test_zip_features_numpy_cannot_read_mean_a_bad_file(
    tmp_path: Path, offset: int, value: int
) -> None:
    path = tmp_path / "weights.npz"
    Affine().save(path)
    raw = bytearray(path.read_bytes())
    central = raw.find(b"PK\x01\x02")  # the first entry of the zip's central directory
    raw[central + offset : central + offset + 2] = value.to_bytes(2, "little")
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"weights\.npz"):
        Affine().load(path)


def test_a_module_shows_in_jupyter_as_a_table_of_its_parameters() -> None:
    import nn

    table = nn.MLP(2, [3, 1], seed=0)._repr_html_()
    assert "<b>MLP</b>: 13 parameters" in table
    rows = re.findall(
        r"<tr><td><code>(.*?)</code></td><td>(.*?)</td><td[^>]*>(.*?)</td></tr>", table
    )
    assert rows == [
        ("layers.0.W", "2×3", "6"),
        ("layers.0.b", "3", "3"),
        ("layers.1.W", "3×1", "3"),
        ("layers.1.b", "1", "1"),
    ]
    lesson = nn.TwoLayerNetwork(seed=0)._repr_html_()
    assert lesson.count("<td>scalar</td>") == 9 and "9 parameters" in lesson
