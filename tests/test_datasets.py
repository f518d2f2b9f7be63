"""nn.datasets: shapes, seeds, the aliens' rule and its geometry, sentences, toy sets, loading."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from nn import datasets
from nn.datasets import (
    MAX_COUNT,
    alien_label,
    alien_sentiment,
    blobs,
    circles,
    describe,
    example_sentences,
    featurize,
    load,
    load_csv,
    moons,
    to_sentence,
    xor,
)

GENERATORS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "alien_sentiment": alien_sentiment,
    "xor": xor,
    "moons": moons,
    "circles": circles,
    "blobs": blobs,
}
WITH_NOISE = [xor, moons, circles]
seeds = st.integers(0, 2**32 - 1)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def logistic_regression(X: np.ndarray, y: np.ndarray, epochs: int = 1000) -> float:
    """Training accuracy of one sigmoid unit fitted by full-batch Adam on the mean log loss."""
    wb = np.zeros(3)
    A = np.column_stack([X, np.ones(len(X))])
    m, v = np.zeros(3), np.zeros(3)
    for t in range(1, epochs + 1):
        g = A.T @ (sigmoid(A @ wb) - y) / len(y)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        wb -= 0.05 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return float(np.mean((A @ wb >= 0) == (y == 1)))


def best_line_accuracy(X: np.ndarray, y: np.ndarray) -> float:
    """The highest accuracy of any half-plane on (X, y), found exactly.

    An optimal half-plane can be turned until its edge runs through two of the points,
    so its normal is (within a hair) perpendicular to the difference of two points;
    for each such normal every threshold between consecutive projections is tried.
    """
    cells, where = np.unique(X, axis=0, return_inverse=True)
    ones = np.bincount(where.ravel(), weights=y, minlength=len(cells))
    zeros = np.bincount(where.ravel(), weights=1 - y, minlength=len(cells))
    i, j = np.triu_indices(len(cells), k=1)
    diff = cells[j] - cells[i]
    normals = np.column_stack([-diff[:, 1], diff[:, 0]])
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    tilt = 1e-6
    rot = np.array([[math.cos(tilt), -math.sin(tilt)], [math.sin(tilt), math.cos(tilt)]])
    normals = np.concatenate([normals, normals @ rot, normals @ rot.T, [[1.0, 0.0], [0.0, 1.0]]])
    order = np.argsort(cells @ normals.T, axis=0, kind="stable")  # one column per normal
    # Predict 1 above the k-th lowest cell: correct = zeros below + ones above.
    zeros_below = np.vstack([np.zeros(len(normals)), np.cumsum(zeros[order], axis=0)])
    ones_above = np.vstack([np.cumsum(ones[order][::-1], axis=0)[::-1], np.zeros(len(normals))])
    correct = zeros_below + ones_above
    # Predicting 0 above instead turns the count around.
    return float(max(correct.max(), len(y) - correct.min()) / len(y))


# ---- every generator ------------------------------------------------------------------


@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize("n", [1, 2, 3, 7, 200])
def test_shapes_dtypes_and_binary_labels(name: str, n: int) -> None:
    X, y = GENERATORS[name](n, seed=0)
    assert X.shape == (n, 2) and y.shape == (n,)
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert np.isfinite(X).all()
    assert set(np.unique(y)) <= {0.0, 1.0}


@pytest.mark.parametrize("name", GENERATORS)
def test_default_sizes(name: str) -> None:
    X, y = GENERATORS[name](seed=1)
    assert len(X) == len(y) == (400 if name == "alien_sentiment" else 200)


@pytest.mark.parametrize("name", GENERATORS)
@given(seed=seeds)
def test_same_seed_same_arrays_and_both_classes(name: str, seed: int) -> None:
    X1, y1 = GENERATORS[name](40, seed=seed)
    X2, y2 = GENERATORS[name](40, seed=seed)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert y1.sum() == 20  # every generator splits its classes evenly


@pytest.mark.parametrize("name", GENERATORS)
def test_other_seeds_give_other_arrays(name: str) -> None:
    X1, _ = GENERATORS[name](50, seed=1)
    X2, _ = GENERATORS[name](50, seed=2)
    X3, _ = GENERATORS[name](50, seed=None)
    assert not np.array_equal(X1, X2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize("bad", [0, -3])
def test_n_below_one_is_a_value_error(name: str, bad: int) -> None:
    with pytest.raises(ValueError, match="n must be >= 1"):
        GENERATORS[name](bad, seed=0)


@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize("bad", [2.5, 10.0, "10", True, None])
def test_non_int_n_is_a_type_error(name: str, bad: Any) -> None:
    with pytest.raises(TypeError, match="n must be an int"):
        GENERATORS[name](bad, seed=0)


@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize("bad", [1.5, "0", True, [0]])
def test_bad_seed_type_is_a_type_error(name: str, bad: Any) -> None:
    with pytest.raises(TypeError, match="seed must be an int or None"):
        GENERATORS[name](10, seed=bad)


@pytest.mark.parametrize("name", GENERATORS)
def test_negative_seed_is_a_value_error(name: str) -> None:
    with pytest.raises(ValueError, match="seed must be >= 0"):
        GENERATORS[name](10, seed=-1)


@pytest.mark.parametrize("make", WITH_NOISE)
@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf])
def test_bad_noise_is_a_value_error(make: Callable[..., Any], bad: float) -> None:
    with pytest.raises(ValueError, match="noise must be"):
        make(10, noise=bad, seed=0)


@pytest.mark.parametrize("make", WITH_NOISE)
@pytest.mark.parametrize("bad", ["0.1", None, True])
def test_non_number_noise_is_a_type_error(make: Callable[..., Any], bad: Any) -> None:
    with pytest.raises(TypeError, match="noise must be a real number"):
        make(10, noise=bad, seed=0)


# ---- the aliens -----------------------------------------------------------------------


@given(n=st.integers(1, 300), seed=seeds)
def test_alien_counts_are_small_whole_numbers_labelled_by_the_rule(n: int, seed: int) -> None:
    X, y = alien_sentiment(n, seed=seed)
    assert np.array_equal(X, np.round(X))
    assert X.min() >= 0 and X.max() <= MAX_COUNT
    assert (X.sum(axis=1) >= 1).all()  # every sentence has at least one word
    np.testing.assert_array_equal(y, (np.abs(X[:, 0] - X[:, 1]) <= 1).astype(float))
    assert y.sum() == (n + 1) // 2  # half happy, half sad (the odd one out is happy)


def test_alien_rule_on_a_few_sentences() -> None:
    happy = ["aack", "aack beep", "beep beep aack", "aack aack aack beep beep beep"]
    sad = ["aack aack", "beep beep beep aack", "beep beep beep beep beep"]
    np.testing.assert_array_equal(alien_label(featurize(happy)), np.ones(len(happy)))
    np.testing.assert_array_equal(alien_label(featurize(sad)), np.zeros(len(sad)))
    assert alien_label([3, 4]).shape == ()
    with pytest.raises(ValueError, match="counts must have shape"):
        alien_label([1, 2, 3])


def test_alien_sentiment_covers_every_sentence_shape_both_sides_of_the_band() -> None:
    X, _ = alien_sentiment(400, seed=0)
    d = X[:, 0] - X[:, 1]
    assert len(np.unique(X, axis=0)) >= 40
    # The sad sentences lie on both sides of the happy band, about equally often.
    more_aack, more_beep = np.count_nonzero(d >= 2), np.count_nonzero(d <= -2)
    assert more_aack + more_beep == 200
    assert 80 <= more_aack <= 120


@pytest.mark.parametrize("seed", range(5))
def test_no_line_separates_happy_from_sad(seed: int) -> None:
    """A perceptron can only draw a line, and no line gets 80% of the sentences right."""
    X, y = alien_sentiment(400, seed=seed)
    assert logistic_regression(X, y) < 0.7
    # The best line keeps the band and one sad side: about 50% + 25%.
    assert best_line_accuracy(X, y) < 0.8


def test_best_line_accuracy_finds_a_separating_line_when_there_is_one() -> None:
    X, y = blobs(40, seed=0)
    assert best_line_accuracy(X, y) == 1.0
    X, y = xor(100, noise=0.0, seed=0)
    assert best_line_accuracy(X, y) == 0.75


def lesson_network(x: np.ndarray, p: dict[str, float]) -> np.ndarray:
    """ŷ of the lesson's red/green/purple network with the nine parameters in p."""
    x1, x2 = x[:, 0], x[:, 1]
    a1 = sigmoid(p["w11"] * x1 + p["w21"] * x2 + p["b1"])
    a2 = sigmoid(p["w12"] * x1 + p["w22"] * x2 + p["b2"])
    return sigmoid(p["w1"] * a1 + p["w2"] * a2 + p["b"])


@pytest.mark.parametrize("seed", range(5))
def test_the_two_layer_network_can_draw_the_band(seed: int) -> None:
    """By hand: red fires above aack − beep = −1.5, green above +1.5; purple = red and not green."""
    k, K = 10.0, 10.0
    p = {
        "w11": k, "w21": -k, "b1": 1.5 * k,
        "w12": k, "w22": -k, "b2": -1.5 * k,
        "w1": K, "w2": -K, "b": -K / 2,
    }  # fmt: skip
    X, y = alien_sentiment(400, seed=seed)
    y_hat = lesson_network(X, p)
    assert np.mean((y_hat >= 0.5) == (y == 1)) >= 0.99
    # It is the rule itself, on every possible sentence, not just the ones drawn.
    grid = np.array([(a, b) for a in range(MAX_COUNT + 1) for b in range(MAX_COUNT + 1)], float)
    np.testing.assert_array_equal(lesson_network(grid, p) >= 0.5, alien_label(grid) == 1)


# ---- sentences ------------------------------------------------------------------------


def test_featurize_counts_each_word() -> None:
    np.testing.assert_array_equal(featurize("aack beep aack"), [2.0, 1.0])
    assert featurize("aack beep aack").dtype == np.float64
    np.testing.assert_array_equal(featurize("  AACK\tBeep \n beep  "), [1.0, 2.0])
    np.testing.assert_array_equal(featurize("Aack, beep! Beep?"), [1.0, 2.0])
    np.testing.assert_array_equal(featurize(""), [0.0, 0.0])


def test_featurize_a_list_gives_one_row_per_sentence() -> None:
    X = featurize(["beep", "aack aack", "aack beep beep beep"])
    np.testing.assert_array_equal(X, [[0, 1], [2, 0], [1, 3]])
    assert X.dtype == np.float64
    assert featurize([]).shape == (0, 2)
    np.testing.assert_array_equal(featurize(w for w in ["aack", "beep"]), [[1, 0], [0, 1]])


@pytest.mark.parametrize("sentence", ["aack moo beep", "hello", "aack beepbeep"])
def test_featurize_names_an_unknown_word(sentence: str) -> None:
    unknown = next(w for w in sentence.split() if w not in ("aack", "beep"))
    with pytest.raises(ValueError, match=f"unknown word '{unknown}'"):
        featurize(sentence)
    with pytest.raises(ValueError, match=f"unknown word '{unknown}'"):
        featurize(["aack", sentence])


def test_featurize_wants_strings() -> None:
    with pytest.raises(TypeError, match="sentence must be a str"):
        featurize([3])  # type: ignore[list-item]


@given(aack=st.integers(0, 30), beep=st.integers(0, 30), seed=seeds)
@example(aack=0, beep=0, seed=0)
def test_to_sentence_then_featurize_gives_the_counts_back(aack: int, beep: int, seed: int) -> None:
    sentence = to_sentence((aack, beep), seed=seed)
    np.testing.assert_array_equal(featurize(sentence), [aack, beep])
    assert sentence == to_sentence(np.array([aack, beep], dtype=float), seed=seed)


def test_to_sentence_shuffles_the_words_by_seed() -> None:
    orders = {to_sentence((4, 4), seed=s) for s in range(20)}
    assert len(orders) > 5
    assert all(featurize(s).tolist() == [4, 4] for s in orders)


@pytest.mark.parametrize(
    ("counts", "error", "match"),
    [
        ((1, 2, 3), ValueError, "counts must be a pair"),
        ((-1, 2), ValueError, r"counts\[0\] \(aack\) must be a whole number >= 0"),
        ((1, 2.5), ValueError, r"counts\[1\] \(beep\) must be a whole number >= 0"),
        ((1, math.nan), ValueError, r"counts\[1\] \(beep\)"),
        (("a", "b"), TypeError, r"counts\[0\] \(aack\) must be a whole number"),
    ],
)
def test_to_sentence_rejects_bad_counts(counts: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        to_sentence(counts)


def test_describe_shows_sentences_with_their_labels() -> None:
    X, y = alien_sentiment(30, seed=3)
    lines = describe(X, y, k=6, seed=3)
    assert len(lines) == 6
    assert len({line.index("→") for line in lines}) == 1  # the arrows line up
    for line, row, label in zip(lines, X, y, strict=False):
        sentence, mood = (part.strip() for part in line.split("→"))
        np.testing.assert_array_equal(featurize(sentence), row)
        assert mood == ("happy" if label == 1 else "sad")
    assert describe(X, y, k=6, seed=3) == lines
    assert len(describe(X[:2], y[:2], k=5)) == 2
    assert describe([[0, 0]], [1]) == ["(silence)  → happy"]


def test_describe_rejects_bad_input() -> None:
    X, y = alien_sentiment(10, seed=0)
    with pytest.raises(ValueError, match="X must have shape"):
        describe(X[:, :1], y)
    with pytest.raises(ValueError, match="y must have shape"):
        describe(X, y[:-1])
    with pytest.raises(ValueError, match="y must hold 0 or 1"):
        describe(X, y * 2 + 1)
    with pytest.raises(ValueError, match="k must be >= 1"):
        describe(X, y, k=0)


def test_example_sentences() -> None:
    lines = example_sentences(4, seed=11)
    assert len(lines) == 4 and lines == example_sentences(4, seed=11)
    _, y = alien_sentiment(4, seed=11)
    moods = [line.rsplit("→", 1)[1].strip() for line in lines]
    assert moods == ["happy" if v else "sad" for v in y]


# ---- the toy sets ---------------------------------------------------------------------


@given(seed=seeds)
def test_xor_labels_are_the_xor_of_the_nearest_corner(seed: int) -> None:
    X, y = xor(80, noise=0.1, seed=seed)
    corner = X > 0.5
    assert np.mean((corner[:, 0] != corner[:, 1]) == (y == 1)) >= 0.9
    X, y = xor(80, noise=0.0, seed=seed)
    assert set(map(tuple, X)) == {(0, 0), (0, 1), (1, 0), (1, 1)}
    np.testing.assert_array_equal(y, X[:, 0] != X[:, 1])
    assert np.sum(np.all(X == 0, axis=1)) == 20  # each corner gets a quarter


def test_moons_without_noise_lie_on_their_half_circles() -> None:
    X, y = moons(300, noise=0.0, seed=5)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    assert (upper[:, 1] >= 0).all()
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)
    assert (lower[:, 1] <= 0.5).all()
    assert logistic_regression(X, y) < 0.95  # interleaved: no line gets them all


def test_circles_without_noise_have_radii_one_and_factor() -> None:
    X, y = circles(300, noise=0.0, factor=0.3, seed=5)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], 0.3)


@pytest.mark.parametrize("bad", [0.0, -0.5, 1.0, 2.0, math.nan])
def test_circles_factor_must_lie_between_zero_and_one(bad: float) -> None:
    with pytest.raises(ValueError, match="factor must be"):
        circles(10, factor=bad, seed=0)


@given(seed=seeds, n=st.integers(2, 400))
def test_blobs_are_split_by_the_bisector_of_their_centres(seed: int, n: int) -> None:
    X, y = blobs(n, seed=seed)
    # The line through (0, 0) perpendicular to the centres' difference (3, 2).
    side = X @ np.array([3.0, 2.0]) / math.sqrt(13)
    assert (side[y == 1] > 0.25).all() and (side[y == 0] < -0.25).all()


@pytest.mark.parametrize("seed", range(3))
def test_a_perceptron_fits_the_blobs(seed: int) -> None:
    X, y = blobs(seed=seed)
    assert logistic_regression(X, y, epochs=300) == 1.0


# ---- load -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*GENERATORS, "alien"])
def test_load_by_name_matches_the_generator(name: str) -> None:
    make = GENERATORS["alien_sentiment" if name == "alien" else name]
    for got, want in zip(load(name, seed=4), make(seed=4), strict=True):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(load(name, n=9, seed=4), make(9, seed=4), strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("bad", ["spiral", "XOR", ""])
def test_load_an_unknown_name_lists_the_known_ones(bad: str) -> None:
    with pytest.raises(ValueError, match="choose one of: alien, alien_sentiment, xor, moons"):
        load(bad)
    assert set(datasets.DATASETS) == {
        "alien",
        "alien_sentiment",
        "xor",
        "moons",
        "circles",
        "blobs",
        "spirals",
    }


def test_load_passes_bad_arguments_on() -> None:
    with pytest.raises(ValueError, match="n must be >= 1"):
        load("moons", n=0)


# ---- load_csv -------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_csv_reads_features_and_labels(tmp_path: Path) -> None:
    X, y = load_csv(write(tmp_path, "aack,beep,label\n1,2,1\n4,0,0\n\n2.5,-1e-3,1\n"))
    np.testing.assert_array_equal(X, [[1, 2], [4, 0], [2.5, -1e-3]])
    np.testing.assert_array_equal(y, [1, 0, 1])
    assert X.dtype == y.dtype == np.float64


@pytest.mark.parametrize(
    "text",
    [
        "y,x1,x2\n1,1,2\n0,4,0\n",  # the label column is called y, wherever it is
        " x1 , LABEL ,x2\n1, 1.0 ,2\n4,0,0\n",  # any case, padded with spaces
        "\ufefffirst,second,class\n1,2,1\n4,0,0\n",  # no name: the last column; a BOM is fine
    ],
)
def test_load_csv_finds_the_label_column(tmp_path: Path, text: str) -> None:
    X, y = load_csv(write(tmp_path, text))
    np.testing.assert_array_equal(X, [[1, 2], [4, 0]])
    np.testing.assert_array_equal(y, [1, 0])


def test_load_csv_round_trips_a_data_set(tmp_path: Path) -> None:
    X, y = moons(50, seed=2)
    rows = "\n".join(f"{float(a)!r},{float(b)!r},{int(c)}" for (a, b), c in zip(X, y, strict=True))
    got_X, got_y = load_csv(write(tmp_path, "x1,x2,label\n" + rows + "\n"))
    np.testing.assert_array_equal(got_X, X)
    np.testing.assert_array_equal(got_y, y)


def test_load_csv_keeps_more_than_two_features(tmp_path: Path) -> None:
    X, y = load_csv(write(tmp_path, "a,b,c,label\n1,2,3,0\n"))
    assert X.shape == (1, 3) and y.tolist() == [0.0]


def test_load_csv_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.csv"
    with pytest.raises(FileNotFoundError, match=r"nowhere\.csv"):
        load_csv(path)
    with pytest.raises(FileNotFoundError, match=r"nowhere\.csv"):
        load_csv(str(path))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "the file is empty"),
        ("\n  \n", "the file is empty"),
        ("x1,x2,label\n", "no data rows"),
        ("x1,x2,label\n\n", "no data rows"),
        ("x,label\n1,0\n", "need at least 3 columns .* the header has 2"),
        ("x1,x2,label\n1,2,1\n3,4\n", "row 3 has 2 cells, the header has 3"),
        ("x1,x2,label\n1,2,1\n3,four,0\n", "row 3, column 'x2': 'four' is not a number"),
        ("x1,x2,label\n1,,1\n", "row 2, column 'x2': '' is not a number"),
        ("x1,x2,label\nnan,2,1\n", "row 2, column 'x1': 'nan' is not a finite number"),
        ("x1,x2,label\n1,2,1\n1,2,-1\n", "row 3, column 'label': label '-1' is not a class"),
        ("x1,x2,label\n1,2,0.5\n", "label '0.5' is not a class index"),
        ("x1,x2,label\n1,2,yes\n", "row 2, column 'label': 'yes' is not a number"),
    ],
)
def test_load_csv_bad_files_give_one_clear_line(tmp_path: Path, text: str, match: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=match) as info:
        load_csv(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))


def test_spirals_has_k_balanced_classes_and_is_reproducible() -> None:
    X, y = datasets.spirals(301, k=4, seed=3)
    assert X.shape == (301, 2) and y.shape == (301,)
    assert sorted(set(y.tolist())) == [0.0, 1.0, 2.0, 3.0]
    counts = np.bincount(y.astype(int))
    assert counts.max() - counts.min() <= 1
    again = datasets.spirals(301, k=4, seed=3)
    np.testing.assert_array_equal(X, again[0])
    assert np.all(np.hypot(X[:, 0], X[:, 1]) <= 1.0 + 1e-12)  # radius t ≤ 1
    X3, y3 = datasets.load("spirals", seed=0)
    assert len(X3) == 300 and set(y3.tolist()) == {0.0, 1.0, 2.0}


def test_spirals_are_not_linearly_separable() -> None:
    """The point of the data: the best of many straight cuts leaves a class badly mixed."""
    X, y = datasets.spirals(300, seed=0)
    angles = np.linspace(0, np.pi, 90, endpoint=False)
    for c in range(3):
        inside = y == c
        best = 0.0
        for a in angles:
            proj = X @ np.array([np.cos(a), np.sin(a)])
            for cut in np.quantile(proj, np.linspace(0.05, 0.95, 19)):
                side = proj > cut
                best = max(best, np.mean(side == inside), np.mean(side != inside))
        assert best < 0.9


def test_spirals_refuse_fewer_than_two_classes() -> None:
    with pytest.raises(ValueError, match="k must be >= 2, got 1"):
        datasets.spirals(10, k=1)


def test_load_csv_reads_class_indices_beyond_1(tmp_path: Path) -> None:
    path = write(tmp_path, "x1,x2,label\n1,2,0\n3,4,2\n5,6,1\n")
    _, y = load_csv(path)
    np.testing.assert_array_equal(y, [0.0, 2.0, 1.0])
