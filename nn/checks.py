"""Argument checks for all of nn, in one place: each returns the value as a plain Python number.

A value of the wrong kind raises TypeError and one out of range raises ValueError,
both naming the argument and what it got. numpy integers and floats count as ints
and reals; bools count as neither. `argument` turns a check into an argparse type,
so the command line refuses bad text with the same words; the types every command
shares are here too. `rows` and `labels` check the data that fit, accuracy and
compile_step are given, and `check_labels` the labels of every loss.
"""

from __future__ import annotations

import argparse
import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np

from autograd import Value
from autograd.value import Data, as_data, shape_of

T = TypeVar("T")


def whole(value: Any, name: str, at_least: int = 1) -> int:
    """value as an int ≥ at_least (numpy ints too); TypeError for a bool or a non-integer."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < at_least:
        raise ValueError(f"{name} must be >= {at_least}, got {value}")
    return int(value)


def real(
    value: Any,
    name: str,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    open_low: bool = False,
    open_high: bool = False,
) -> float:
    """value as a finite float in [low, high] (an end excluded if it is open); numpy reals too."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x}")
    if x < low or (open_low and x == low) or x > high or (open_high and x == high):
        raise ValueError(f"{name} must be {_interval(low, high, open_low, open_high)}, got {x}")
    return x


def positive(value: Any, name: str) -> float:
    """value as a finite float > 0."""
    return real(value, name, 0.0, open_low=True)


def named(key: str, table: Mapping[str, T], what: str) -> T:
    """table[key] for a name the caller may also replace by a callable; else a ValueError."""
    try:
        return table[key]
    except KeyError:
        known = ", ".join(repr(k) for k in table)
        raise ValueError(f"unknown {what} {key!r}; use one of {known} or a callable") from None


def _interval(low: float, high: float, open_low: bool, open_high: bool) -> str:
    if high == math.inf:
        return f"> {low:g}" if open_low else f">= {low:g}"
    if low == -math.inf:
        return f"< {high:g}" if open_high else f"<= {high:g}"
    return f"in {'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"


def argument(
    parse: Callable[[str], Any], check: Callable[..., T], what: str = "", **bounds: Any
) -> Callable[[str], T]:
    """An argparse type: the text parsed by `parse` (int or float), then checked by `check`.

    Refused text is described by `what` ("a label in [0, 1]") when given, else by the check.
    """
    noun = what or ("a whole number" if parse is int else "a number")

    def convert(text: str) -> T:
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
        try:
            return check(value, "the number", **bounds)
        except ValueError as e:
            why = f"expected {what}, got {text!r}" if what else str(e)
            raise argparse.ArgumentTypeError(why) from None

    convert.__name__ = parse.__name__  # argparse names the type in its own messages
    return convert


def int_at_least(low: int) -> Callable[[str], int]:
    """An argparse type: a whole number >= low."""
    return argument(int, whole, at_least=low)


finite_float = argument(float, real, "a finite number")
positive_float = argument(float, positive, "a positive number")
label = argument(float, real, "a label in [0, 1]", low=0.0, high=1.0)


# ---------------------------------------------------------------------------
# Data: the samples X, one per row, and their labels y.
# ---------------------------------------------------------------------------


def finite(X: Any, who: str) -> Any:
    """X as the engine's data (a float or a float array), refused if any entry is nan or ±inf."""
    try:
        data = as_data(X)
    except TypeError as e:
        raise ValueError(f"{who}: {e}") from None
    if not np.isfinite(data).all():  # the method: np.all's Python wrapper costs 1 µs a call
        raise ValueError(f"{who}: the inputs contain NaN or infinity")
    return data


def rows(X: Any, who: str) -> np.ndarray:
    """X as a finite 2-D float array, one sample per row."""
    data = finite(X, who)
    if not isinstance(data, np.ndarray) or data.ndim != 2:
        raise ValueError(
            f"{who}: X must be a 2-D array with one sample per row, got shape {np.shape(data)}"
        )
    if len(data) == 0:
        raise ValueError(f"{who}: X has no samples")
    return data


def check_labels(
    y: Any, shape: tuple[int, ...], who: str, *, unit_interval: bool = True, binary: bool = False
) -> Data:
    """y as raw data of `shape`; ValueError for NaN, ±inf, outside [0, 1], or not 0/1 if binary."""
    if type(y) is np.ndarray and y.dtype == np.float64:
        data = y  # the common case, already the engine's kind of data
    else:
        try:
            data = as_data(y.data if isinstance(y, Value) else y)
        except TypeError as e:
            raise ValueError(f"{who}: labels: {e}") from None
    got = shape_of(data)
    if got != shape:
        raise ValueError(
            f"{who}: labels have shape {got} but the predictions have shape {shape}; "
            "give one label per prediction"
        )
    if 0 in got:
        raise ValueError(f"{who}: no samples (shape {got})")
    arr = np.asarray(data)
    lo, hi = float(np.minimum.reduce(arr, None)), float(np.maximum.reduce(arr, None))  # NaN too
    if not (lo >= 0.0 and hi <= 1.0):  # false for NaN and ±inf too: say which it is
        if math.isnan(lo) or math.isnan(hi):
            raise ValueError(f"{who}: labels contain NaN")
        if unit_interval and (lo < 0.0 or hi > 1.0):
            bad = lo if lo < 0.0 else hi
            raise ValueError(f"{who}: labels must lie in [0, 1], got {bad!r}")
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"{who}: labels must be finite, got {lo if math.isinf(lo) else hi!r}")
    if binary and not np.all((arr == 0.0) | (arr == 1.0)):
        bad = arr[(arr != 0.0) & (arr != 1.0)].flat[0]
        raise ValueError(f"{who}: labels must be 0 or 1, got {float(bad)!r}")
    return data


def class_labels(y: Any, n_rows: tuple[int, ...], k: int, who: str) -> np.ndarray:
    """y as integer class indices in 0..k−1, one per row; ValueError naming what is wrong."""
    try:
        data = np.asarray(as_data(y.data if isinstance(y, Value) else y), dtype=np.float64)
    except TypeError as e:
        raise ValueError(f"{who}: labels: {e}") from None
    if data.shape != n_rows:
        raise ValueError(
            f"{who}: labels have shape {data.shape}; give one class index per row, "
            f"shape {n_rows}, or one row of {k} probabilities per row"
        )
    if data.size == 0:
        raise ValueError(f"{who}: no samples (shape {data.shape})")
    if np.isnan(data).any():
        raise ValueError(f"{who}: labels contain NaN")
    bad = (data != np.round(data)) | (data < 0) | (data > k - 1)
    if bad.any():
        raise ValueError(
            f"{who}: labels must be class indices 0 to {k - 1} for {k} classes, "
            f"got {float(data[bad].flat[0])!r}"
        )
    return data.astype(np.intp)


def labels(y: Any, X: np.ndarray, classes: int, who: str) -> np.ndarray:
    """y as one label per row of X: 0/1 for one output per sample, else a class index."""
    if classes == 1:
        found = check_labels(y, (len(X),), who, binary=True)
    else:
        found = class_labels(y, (len(X),), classes, who)
    return np.asarray(found, dtype=X.dtype)


def rows_and_labels(X: Any, y: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
    """X as a finite 2-D float array (rows are samples) and y as 0/1 labels, one per row."""
    data = rows(X, who)
    return data, labels(y, data, 1, who)
