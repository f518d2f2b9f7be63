"""Argument checks for all of nn, in one place: each returns the value as a plain Python number.

A value of the wrong kind raises TypeError and one out of range raises ValueError,
both naming the argument and what it got. numpy integers and floats count as ints
and reals; bools count as neither. `argument` turns a check into an argparse type,
so the command line refuses bad text with the same words.
"""

from __future__ import annotations

import argparse
import math
import numbers
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

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
