"""Module.load and load_state_dict under hostile numbers: refused whole, the model unchanged."""

from __future__ import annotations

import tracemalloc
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nn
from autograd import Value


class Mixed(nn.Module):
    """A float32 vector, a float64 vector and a Python-float scalar."""

    def __init__(self) -> None:
        super().__init__()
        self.w = Value(np.zeros(2))
        self.h = Value(np.zeros(2, np.float32))
        self.b = Value(0.0)


def test_a_float64_too_large_for_a_float32_parameter_is_refused_not_loaded_as_inf() -> None:
    model = Mixed()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"h: a number is too large for float32"):
            model.load_state_dict({"w": np.ones(2), "h": np.array([1e300, 1.0]), "b": 1.0})
    assert [p.data.tolist() if p.shape else p.data for p in model.parameters()] == [
        [0.0, 0.0],
        [0.0, 0.0],
        0.0,
    ]


def test_a_saved_file_with_a_number_too_large_for_float32_is_refused(tmp_path: Path) -> None:
    source = Mixed()
    source.w.data = np.array([1e300, 2.0])
    source.save(tmp_path / "big.npz")
    with np.load(tmp_path / "big.npz") as f:
        state = dict(f)
    state["h"], state["w"] = state["w"], np.ones(2)  # a float64 array where a float32 goes
    np.savez(tmp_path / "swapped.npz", **state)
    model = Mixed()
    with pytest.raises(ValueError, match=r"swapped\.npz: h: a number is too large"):
        model.load(tmp_path / "swapped.npz")
    assert model.w.data.tolist() == [0.0, 0.0] and model.h.data.tolist() == [0.0, 0.0]


def test_infinity_and_nan_that_were_saved_still_load_as_they_were() -> None:
    model = Mixed()
    model.load_state_dict(
        {"w": np.array([np.inf, np.nan]), "h": np.array([-np.inf, 1.0]), "b": 2.0}
    )
    assert np.array_equal(model.w.data, [np.inf, np.nan], equal_nan=True)
    assert model.h.data.tolist() == [-np.inf, 1.0] and model.b.data == 2.0


def test_a_file_with_thousands_of_members_is_refused_before_its_directory_is_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "many.npz"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(5000):
            zf.writestr(f"{i}.npy", b"")
    model = Mixed()
    tracemalloc.start()
    try:
        with pytest.raises(
            ValueError,
            match=r"its zip directory has [0-9,]+ bytes, more than .* Mixed needs",
        ):
            model.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # zipfile keeps a record per member: none was read
    assert model.w.data.tolist() == [0.0, 0.0] and model.b.data == 0.0


def test_a_state_with_many_unexpected_names_lists_ten_of_them() -> None:
    state: dict[str, Any] = {"w": np.ones(2), "h": np.ones(2), "b": 1.0}
    state.update({f"extra{i}": 0.0 for i in range(50)})
    with pytest.raises(ValueError) as caught:
        Mixed().load_state_dict(state)
    message = str(caught.value)
    assert "unexpected extra0, extra1," in message and "extra9 and 40 more" in message
    assert "extra10" not in message


def test_a_saved_model_of_a_million_numbers_still_loads(tmp_path: Path) -> None:
    model = Mixed()
    model.w.data = np.arange(1_000_000, dtype=np.float64)
    model.save(tmp_path / "big.npz")
    other = Mixed()
    other.w.data = np.zeros(1_000_000)
    other.load(tmp_path / "big.npz")
    assert np.array_equal(other.w.data, model.w.data)
