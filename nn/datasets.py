"""Small two-feature classification data sets, each generated from a seed.

Every generator returns ``(X, y)``: ``X`` is a float64 array of shape (n, 2) and
``y`` a float64 array of shape (n,) holding 0.0 or 1.0. The same seed gives the
same arrays. Only numpy is used; nothing here touches the autograd engine.

The lesson's task is :func:`alien_sentiment`. Aliens speak in sentences made of
the words "aack" and "beep". The features of a sentence are how many times each
word occurs, and an alien is happy (1) when the two counts are close,
``|aack − beep| ≤ 1``, and sad (0) otherwise. Each word occurs 0 to MAX_COUNT (6)
times, a sentence has at least one word, half the sentences are happy, and each
class is drawn uniformly from its possible sentences. The happy sentences fill a
band between the parallel lines ``aack − beep = ±1.5``, with about as many sad
ones on either side, so a single line (one perceptron) gets only about 75% right.
The lesson's 2-2-1 network draws the band exactly: red fires above one edge, green
above the other, and purple says "red and not green", for instance with
w11 = w12 = 10, w21 = w22 = −10, b1 = 15, b2 = −15, w1 = 10, w2 = −10, b = −5.
"""

from __future__ import annotations

import csv
import math
import os
import string
from collections.abc import Callable, Iterable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nn.checks import real, whole

__all__ = [
    "DATASETS",
    "LABEL_NAMES",
    "MAX_COUNT",
    "WORDS",
    "alien_label",
    "alien_sentiment",
    "blobs",
    "circles",
    "describe",
    "example_sentences",
    "featurize",
    "load",
    "load_csv",
    "moons",
    "spirals",
    "to_sentence",
    "xor",
]

Array = NDArray[np.float64]

WORDS: tuple[str, str] = ("aack", "beep")
MAX_COUNT = 6
LABEL_NAMES = {0: "sad", 1: "happy"}

_PUNCTUATION = string.punctuation + "¡¿"


# --- argument checks --------------------------------------------------------


def _rng(seed: object) -> np.random.Generator:
    """Return a numpy Generator for an int seed (>= 0) or None (fresh entropy)."""
    if seed is None:
        return np.random.default_rng()
    try:
        return np.random.default_rng(whole(seed, "seed", at_least=0))
    except TypeError:
        raise TypeError(
            f"seed must be an int or None, got {type(seed).__name__} {seed!r}"
        ) from None


def _shuffled(X: Array, y: Array, rng: np.random.Generator) -> tuple[Array, Array]:
    """Return X and y with their rows put in one random order."""
    order = rng.permutation(len(y))
    return X[order], y[order]


# --- the aliens -------------------------------------------------------------


def alien_label(counts: ArrayLike) -> Array:
    """Happy (1.0) iff |aack − beep| ≤ 1, else sad (0.0); counts has shape (2,) or (n, 2)."""
    c = np.asarray(counts, dtype=np.float64)
    if c.shape[-1:] != (2,) or c.ndim > 2:
        raise ValueError(f"counts must have shape (2,) or (n, 2), got {c.shape}")
    return (np.abs(c[..., 0] - c[..., 1]) <= 1).astype(np.float64)


def _alien_cells() -> tuple[Array, Array]:
    """Every (aack, beep) in 0..MAX_COUNT with a word or more, split into happy and sad."""
    aack, beep = np.meshgrid(np.arange(MAX_COUNT + 1), np.arange(MAX_COUNT + 1), indexing="ij")
    cells = np.stack([aack.ravel(), beep.ravel()], axis=1).astype(np.float64)
    cells = cells[cells.sum(axis=1) >= 1]
    happy = alien_label(cells) == 1.0
    return cells[happy], cells[~happy]


def alien_sentiment(n: int = 400, seed: int | None = None) -> tuple[Array, Array]:
    """(aack, beep) counts in 0..MAX_COUNT; y = 1 iff |aack − beep| ≤ 1; ⌈n/2⌉ happy, ⌊n/2⌋ sad."""
    n = whole(n, "n")
    rng = _rng(seed)
    # Drawing each class uniformly from its possible sentences puts about half of the
    # sad ones on each side of the band (15 sentence shapes each), so a line can keep
    # the band and one side but never both.
    happy_cells, sad_cells = _alien_cells()
    n_happy = (n + 1) // 2
    n_sad = n - n_happy
    X = np.concatenate(
        [
            happy_cells[rng.integers(len(happy_cells), size=n_happy)],
            sad_cells[rng.integers(len(sad_cells), size=n_sad)],
        ]
    )
    y = np.concatenate([np.ones(n_happy), np.zeros(n_sad)])
    return _shuffled(X, y, rng)


def _words(sentence: str) -> list[str]:
    """Split a sentence on whitespace, lower-case it and strip punctuation around each word."""
    if not isinstance(sentence, str):
        raise TypeError(f"sentence must be a str, got {type(sentence).__name__} {sentence!r}")
    words = (w.strip(_PUNCTUATION).lower() for w in sentence.split())
    return [w for w in words if w]


def _count(sentence: str) -> tuple[int, int]:
    """Count "aack" and "beep" in one sentence; any other word raises ValueError."""
    counts = dict.fromkeys(WORDS, 0)
    for word in _words(sentence):
        if word not in counts:
            raise ValueError(
                f"unknown word {word!r} in sentence {sentence!r}: "
                f"aliens only say {' and '.join(WORDS)}"
            )
        counts[word] += 1
    return counts[WORDS[0]], counts[WORDS[1]]


def featurize(sentences: str | Iterable[str]) -> Array:
    """Sentence(s) → word counts (aack, beep): shape (2,) for one str, (n, 2) for a list."""
    if isinstance(sentences, str):
        return np.array(_count(sentences), dtype=np.float64)
    rows = [_count(s) for s in sentences]
    return np.array(rows, dtype=np.float64).reshape(len(rows), 2)


def _as_count(x: object, name: str) -> int:
    """Return x as a non-negative int, accepting whole floats such as 3.0 from X."""
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a whole number, got {type(x).__name__} {x!r}")
    if not float(x).is_integer() or x < 0:
        raise ValueError(f"{name} must be a whole number >= 0, got {x!r}")
    return int(x)


def to_sentence(counts: ArrayLike, seed: int | None = None) -> str:
    """(aack, beep) counts → a sentence with that many of each word, shuffled by seed."""
    c = np.asarray(counts)
    if c.shape != (2,):
        raise ValueError(f"counts must be a pair (aack, beep), got shape {c.shape}")
    n_aack = _as_count(c[0].item(), "counts[0] (aack)")
    n_beep = _as_count(c[1].item(), "counts[1] (beep)")
    words = [WORDS[0]] * n_aack + [WORDS[1]] * n_beep
    order = _rng(seed).permutation(len(words))
    return " ".join(words[i] for i in order)


def describe(X: ArrayLike, y: ArrayLike, k: int = 5, seed: int | None = None) -> list[str]:
    """The first k rows of (X, y) as lines "sentence  → happy|sad", sentences aligned."""
    k = whole(k, "k")
    X_arr = np.asarray(X, dtype=np.float64)
    y_arr = np.asarray(y, dtype=np.float64)
    if X_arr.ndim != 2 or X_arr.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2), got {X_arr.shape}")
    if y_arr.shape != (len(X_arr),):
        raise ValueError(f"y must have shape ({len(X_arr)},) to match X, got {y_arr.shape}")
    rng = _rng(seed)
    rows = range(min(k, len(X_arr)))
    texts = [to_sentence(X_arr[i], seed=int(rng.integers(2**32))) or "(silence)" for i in rows]
    labels = []
    for i in rows:
        if y_arr[i] not in (0.0, 1.0):
            raise ValueError(f"y must hold 0 or 1, got {y_arr[i]} at row {i}")
        labels.append(LABEL_NAMES[int(y_arr[i])])
    width = max((len(t) for t in texts), default=0)
    return [f"{t:<{width}}  → {label}" for t, label in zip(texts, labels, strict=True)]


def example_sentences(n: int = 5, seed: int | None = None) -> list[str]:
    """n labelled example lines from alien_sentiment(n, seed), formatted by describe."""
    X, y = alien_sentiment(n, seed=seed)
    return describe(X, y, k=n, seed=seed)


# --- classic toy sets -------------------------------------------------------


def xor(n: int = 200, noise: float = 0.1, seed: int | None = None) -> tuple[Array, Array]:
    """Corners (x1, x2) ∈ {0,1}² plus N(0, noise²) per coordinate; y = x1 XOR x2."""
    n = whole(n, "n")
    noise = real(noise, "noise", 0.0)
    rng = _rng(seed)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    which = np.arange(n) % 4
    X = corners[which] + noise * rng.standard_normal((n, 2))
    y = (corners[which, 0] != corners[which, 1]).astype(np.float64)
    return _shuffled(X, y, rng)


def moons(n: int = 200, noise: float = 0.1, seed: int | None = None) -> tuple[Array, Array]:
    """y=0: (cos t, sin t), y=1: (1 − cos t, ½ − sin t), t ~ U[0, π]; plus N(0, noise²) noise."""
    n = whole(n, "n")
    noise = real(noise, "noise", 0.0)
    rng = _rng(seed)
    n_upper = (n + 1) // 2
    t = rng.uniform(0.0, math.pi, size=n)
    upper = np.stack([np.cos(t[:n_upper]), np.sin(t[:n_upper])], axis=1)
    lower = np.stack([1.0 - np.cos(t[n_upper:]), 0.5 - np.sin(t[n_upper:])], axis=1)
    X = np.concatenate([upper, lower]) + noise * rng.standard_normal((n, 2))
    y = np.concatenate([np.zeros(n_upper), np.ones(n - n_upper)])
    return _shuffled(X, y, rng)


def circles(
    n: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int | None = None
) -> tuple[Array, Array]:
    """y=0 on r = 1, y=1 on r = factor ∈ (0, 1); angle ~ U[0, 2π); plus N(0, noise²) noise."""
    n = whole(n, "n")
    noise = real(noise, "noise", 0.0)
    factor = real(factor, "factor", 0.0, open_low=True)
    if factor >= 1.0:
        raise ValueError(f"factor must be < 1 so the inner circle lies inside, got {factor}")
    rng = _rng(seed)
    n_outer = (n + 1) // 2
    radius = np.where(np.arange(n) < n_outer, 1.0, factor)
    angle = rng.uniform(0.0, 2.0 * math.pi, size=n)
    X = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    X = X + noise * rng.standard_normal((n, 2))
    y = np.concatenate([np.zeros(n_outer), np.ones(n - n_outer)])
    return _shuffled(X, y, rng)


_BLOB_CENTERS = np.array([[-1.5, -1.0], [1.5, 1.0]])
_BLOB_STD = 0.5
_BLOB_RADIUS = 3.0 * _BLOB_STD


def blobs(n: int = 200, seed: int | None = None) -> tuple[Array, Array]:
    """y=0 near (−1.5, −1), y=1 near (1.5, 1): N(0, 0.5²) offsets, redrawn past radius 1.5."""
    n = whole(n, "n")
    rng = _rng(seed)
    # Truncating the offsets keeps each blob inside a disc of radius 1.5; the
    # centres are √13 ≈ 3.6 apart, so the bisecting line leaves a margin of 0.3.
    offsets = _BLOB_STD * rng.standard_normal((n, 2))
    far = np.hypot(offsets[:, 0], offsets[:, 1]) > _BLOB_RADIUS
    while far.any():
        offsets[far] = _BLOB_STD * rng.standard_normal((int(far.sum()), 2))
        far = np.hypot(offsets[:, 0], offsets[:, 1]) > _BLOB_RADIUS
    n_first = (n + 1) // 2
    y = np.concatenate([np.zeros(n_first), np.ones(n - n_first)])
    X = _BLOB_CENTERS[y.astype(np.intp)] + offsets
    return _shuffled(X, y, rng)


def spirals(
    n: int = 300, k: int = 3, noise: float = 0.2, seed: int | None = None
) -> tuple[Array, Array]:
    """k interleaved spiral arms: class j at radius t, angle 4t + 2πj/k (+ noise), t ~ U[0.05, 1].

    The classic multiclass exercise: no straight line (and no single perceptron) separates the
    arms. Labels are 0.0 … k − 1; each class gets ⌊n/k⌋ or ⌈n/k⌉ points; `noise` is the standard
    deviation of the angle's noise in radians.
    """
    n = whole(n, "n")
    k = whole(k, "k", at_least=2)
    noise = real(noise, "noise", 0.0)
    rng = _rng(seed)
    y = np.arange(n) % k
    t = rng.uniform(0.05, 1.0, size=n)
    angle = 4.0 * t + 2.0 * math.pi * y / k + noise * rng.standard_normal(n)
    X = t[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return _shuffled(X, y.astype(np.float64), rng)


# --- by name, or from a file ------------------------------------------------


def _with_n(
    make: Callable[..., tuple[Array, Array]],
) -> Callable[[int | None, int | None], tuple[Array, Array]]:
    def load_one(n: int | None, seed: int | None) -> tuple[Array, Array]:
        return make(seed=seed) if n is None else make(n, seed=seed)

    return load_one


DATASETS: dict[str, Callable[[int | None, int | None], tuple[Array, Array]]] = {
    "alien": _with_n(alien_sentiment),
    "alien_sentiment": _with_n(alien_sentiment),
    "xor": _with_n(xor),
    "moons": _with_n(moons),
    "circles": _with_n(circles),
    "blobs": _with_n(blobs),
    "spirals": _with_n(spirals),
}


def load(name: str, n: int | None = None, seed: int | None = None) -> tuple[Array, Array]:
    """The data set called name (see DATASETS) with n samples (its default if None) from seed."""
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of: {', '.join(DATASETS)}")
    return DATASETS[name](n, seed)


_LABEL_COLUMNS = ("label", "y")


def _parse_float(cell: str, where: str) -> float:
    """A CSV cell as a finite float, or ValueError saying where it is."""
    try:
        value = float(cell)
    except ValueError:
        raise ValueError(f"{where}: {cell!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{where}: {cell!r} is not a finite number")
    return value


def load_csv(path: str | os.PathLike[str]) -> tuple[Array, Array]:
    """(X, y) from a CSV with a header; y is column "label" or "y" (else the last).

    Labels are class indices 0, 1, …, k − 1 (0 and 1 for two classes), written as integers.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except FileNotFoundError:
        raise FileNotFoundError(f"load_csv: no such file: {os.fspath(path)}") from None
    name = os.fspath(path)
    numbered = [(i, row) for i, row in enumerate(rows, start=1) if any(c.strip() for c in row)]
    if not numbered:
        raise ValueError(f"{name}: the file is empty (expected a header line)")
    _, header = numbered[0]
    header = [h.strip() for h in header]
    if len(header) < 3:
        raise ValueError(
            f"{name}: need at least 3 columns (two features and a label), "
            f"the header has {len(header)}"
        )
    lowered = [h.lower() for h in header]
    label_col = next((lowered.index(c) for c in _LABEL_COLUMNS if c in lowered), len(header) - 1)
    feature_cols = [j for j in range(len(header)) if j != label_col]
    data = numbered[1:]
    if not data:
        raise ValueError(f"{name}: no data rows below the header")
    X = np.empty((len(data), len(feature_cols)), dtype=np.float64)
    y = np.empty(len(data), dtype=np.float64)
    for r, (line, row) in enumerate(data):
        if len(row) != len(header):
            raise ValueError(
                f"{name}: row {line} has {len(row)} cells, the header has {len(header)}"
            )
        for k, j in enumerate(feature_cols):
            X[r, k] = _parse_float(row[j], f"{name}: row {line}, column {header[j]!r}")
        where = f"{name}: row {line}, column {header[label_col]!r}"
        label = _parse_float(row[label_col], where)
        if label < 0 or label != int(label):
            raise ValueError(
                f"{where}: label {row[label_col].strip()!r} is not a class index 0, 1, 2, …"
            )
        y[r] = label
    return X, y
