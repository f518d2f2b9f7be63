"""nn.checks: the one set of argument checks nn uses, and their argparse form."""

from __future__ import annotations

import argparse
import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from nn import checks


@pytest.mark.parametrize("value", [3, np.int64(3), np.uint8(3)])
def test_whole_takes_python_and_numpy_ints(value: Any) -> None:
    n = checks.whole(value, "n")
    assert n == 3 and type(n) is int


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (True, TypeError, "n must be an int, got bool True"),
        (np.bool_(True), TypeError, "n must be an int, got bool"),
        (2.0, TypeError, "n must be an int, got float 2.0"),
        ("2", TypeError, "n must be an int, got str '2'"),
        (0, ValueError, "n must be >= 1, got 0"),
    ],
)
def test_whole_refuses_with_the_name_and_the_value(value: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        checks.whole(value, "n")
    assert checks.whole(0, "seed", at_least=0) == 0


@pytest.mark.parametrize("value", [0.5, 1, np.float32(0.5), np.int64(1), Fraction(1, 2)])
def test_real_takes_any_real_as_a_float(value: Any) -> None:
    x = checks.real(value, "x", 0.0, 1.0)
    assert x == float(value) and type(x) is float


@pytest.mark.parametrize(
    ("value", "bounds", "error", "message"),
    [
        (True, {}, TypeError, "x must be a real number, got bool True"),
        ("1", {}, TypeError, "x must be a real number"),
        (math.nan, {}, ValueError, "x must be finite, got nan"),
        (-math.inf, {}, ValueError, "x must be finite"),
        (-0.1, {"low": 0.0}, ValueError, r"x must be >= 0, got -0\.1"),
        (0.0, {"low": 0.0, "open_low": True}, ValueError, "x must be > 0, got 0.0"),
        (1.0, {"low": 0.0, "high": 1.0, "open_high": True}, ValueError, r"in \[0, 1\), got 1\.0"),
        (2.0, {"high": 1.0}, ValueError, "x must be <= 1, got 2.0"),
    ],
)
def test_real_refuses_with_the_interval(value: Any, bounds: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        checks.real(value, "x", **bounds)


def test_positive_is_above_zero() -> None:
    assert checks.positive(np.float32(0.25), "lr") == 0.25
    with pytest.raises(ValueError, match="lr must be > 0"):
        checks.positive(0, "lr")


def test_an_argument_type_says_what_it_wanted() -> None:
    epochs = checks.argument(int, checks.whole, at_least=0)
    assert epochs("7") == 7 and epochs.__name__ == "int"
    label = checks.argument(float, checks.real, "a label in [0, 1]", low=0.0, high=1.0)
    assert label("0.5") == 0.5
    for convert, text, message in [
        (epochs, "x", "expected a whole number, got 'x'"),
        (epochs, "-1", "the number must be >= 0, got -1"),
        (label, "2", "expected a label in [0, 1], got '2'"),
        (label, "nan", "expected a label in [0, 1], got 'nan'"),
    ]:
        with pytest.raises(argparse.ArgumentTypeError, match=message.replace("[", r"\[")):
            convert(text)
