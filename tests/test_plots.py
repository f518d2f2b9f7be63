"""Tests for nn/plots.py: decision boundaries, loss curves, saving, and life without matplotlib."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import nn
from nn import History, Perceptron, TwoLayerNetwork, plots

PNG = b"\x89PNG\r\n\x1a\n"


def line_data() -> tuple[np.ndarray, np.ndarray]:
    """Points labelled 1 above the line x2 = x1, as rows of two features."""
    X = np.random.default_rng(0).uniform(-2, 2, size=(60, 2))
    return X, (X[:, 1] > X[:, 0]).astype(np.float64)


def a_perceptron_on_the_diagonal() -> Perceptron:
    """σ(4·(x2 − x1)): 1 above the diagonal x2 = x1, 0 below."""
    p = Perceptron(2, seed=0)
    p.w1.data, p.w2.data, p.b.data = -4.0, 4.0, 0.0
    return p


def test_grid_covers_the_data_with_a_margin():
    X = np.array([[0.0, 10.0], [2.0, 20.0]])
    xx, yy = plots.grid(X, resolution=11, margin=0.5)
    assert xx.shape == yy.shape == (11, 11)
    assert xx.min() == pytest.approx(-1.0) and xx.max() == pytest.approx(3.0)
    assert yy.min() == pytest.approx(5.0) and yy.max() == pytest.approx(25.0)


def test_grid_of_a_single_point_still_has_an_extent():
    xx, yy = plots.grid(np.array([[1.0, 1.0]]), resolution=3)
    assert xx.max() > xx.min() and yy.max() > yy.min()


def test_grid_needs_two_feature_columns():
    with pytest.raises(ValueError, match="two feature columns"):
        plots.grid(np.zeros((4, 3)))


def test_probabilities_are_the_model_outputs_at_the_grid_points():
    p = a_perceptron_on_the_diagonal()
    xx, yy = plots.grid(np.array([[-1.0, -1.0], [1.0, 1.0]]), resolution=5)
    probs = plots.probabilities(p, xx, yy)
    assert probs.shape == xx.shape
    expected = 1 / (1 + np.exp(-4 * (yy - xx)))
    np.testing.assert_allclose(probs, expected, rtol=1e-12)
    assert all(not q.grad_computed for q in p.parameters())


def test_decision_boundaries_draw_one_panel_per_model_with_its_accuracy():
    pytest.importorskip("matplotlib")
    X, y = line_data()
    models = {"perceptron": a_perceptron_on_the_diagonal(), "network": TwoLayerNetwork(seed=0)}
    fig = plots.decision_boundaries(models, X, y, title="a line")
    axes = fig.get_axes()
    assert len(axes) == 2
    assert axes[0].get_title() == "perceptron: 100% right"
    assert axes[1].get_title().startswith("network: ")
    assert fig._suptitle.get_text() == "a line"
    # The data points, both labels, are on each panel.
    for ax in axes:
        points = np.concatenate(
            [c.get_offsets() for c in ax.collections if c.get_label() in ("y = 0", "y = 1")]
        )
        assert sorted(map(tuple, points)) == sorted(map(tuple, X))
    # The perceptron's boundary is drawn: a contour at 0.5 along the diagonal.
    contour_paths = [
        path
        for c in axes[0].collections
        if hasattr(c, "get_paths") and type(c).__name__ in ("QuadContourSet", "ContourSet")
        for path in c.get_paths()
    ]
    vertices = np.concatenate([path.vertices for path in contour_paths])
    np.testing.assert_allclose(vertices[:, 0], vertices[:, 1], atol=0.05)


def test_decision_boundaries_need_a_model():
    pytest.importorskip("matplotlib")
    X, y = line_data()
    with pytest.raises(ValueError, match="at least one model"):
        plots.decision_boundaries({}, X, y)


def test_loss_curves_plot_each_history():
    pytest.importorskip("matplotlib")
    a = History(loss=[0.7, 0.5, 0.4], accuracy=[0.5, 0.75, 1.0])
    b = History(loss=[0.69, 0.68, 0.69], accuracy=[0.5, 0.5, 0.5])
    fig = plots.loss_curves({"network": a, "perceptron": b})
    loss_ax, acc_ax = fig.get_axes()
    lines = {line.get_label(): line for line in loss_ax.get_lines()}
    np.testing.assert_array_equal(lines["network"].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(lines["network"].get_ydata(), a.loss)
    np.testing.assert_array_equal(lines["perceptron"].get_ydata(), b.loss)
    acc = {line.get_label(): line for line in acc_ax.get_lines()}
    np.testing.assert_allclose(acc["network"].get_ydata(), [50, 75, 100])
    with pytest.raises(ValueError, match="at least one History"):
        plots.loss_curves({})


def test_data_scatter_shows_both_labels():
    pytest.importorskip("matplotlib")
    X, y = line_data()
    fig = plots.data(X, y, title="points")
    labels = [c.get_label() for c in fig.get_axes()[0].collections]
    assert labels == ["y = 0", "y = 1"]


def test_save_writes_the_same_png_twice(tmp_path):
    pytest.importorskip("matplotlib")
    X, y = line_data()
    fig = plots.decision_boundaries({"p": a_perceptron_on_the_diagonal()}, X, y)
    first = plots.save(fig, tmp_path / "a.png")
    second = plots.save(fig, tmp_path / "b.png")
    assert first == tmp_path / "a.png"
    assert first.read_bytes().startswith(PNG)
    assert first.read_bytes() == second.read_bytes()  # no timestamp: regenerating keeps git clean


def test_svg_and_pdf_are_written_without_a_date(tmp_path):
    pytest.importorskip("matplotlib")
    fig = plots.loss_curves({"a": History(loss=[1.0, 0.5], accuracy=[0.5, 1.0])})
    svg = plots.save(fig, tmp_path / "c.svg").read_text(encoding="utf-8")
    assert "<dc:date>" not in svg
    pdf = plots.save(fig, tmp_path / "c.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"/CreationDate" not in pdf


def test_without_matplotlib_a_picture_says_how_to_install_it(monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    assert not plots.available()
    X, y = line_data()
    with pytest.raises(plots.PlotsUnavailable, match=r"pip install 'valuegrad\[notebooks\]'"):
        plots.decision_boundaries({"p": a_perceptron_on_the_diagonal()}, X, y)
    with pytest.raises(ImportError):
        plots.loss_curves({"a": History(loss=[1.0], accuracy=[1.0])})


def lesson_figure() -> tuple[object, np.ndarray, np.ndarray, TwoLayerNetwork]:
    from nn import datasets

    X, y = datasets.alien_sentiment(seed=0)
    net = TwoLayerNetwork(seed=0)
    net.w11.data, net.w21.data, net.b1.data = -4.0, 4.0, 6.0  # red: x2 − x1 = −1.5
    net.w12.data, net.w22.data, net.b2.data = 4.0, -4.0, 6.0  # green: x1 − x2 = −1.5
    net.w1.data, net.w2.data, net.b.data = 10.0, 10.0, -15.0  # purple: red and green
    fig = plots.decision_boundaries({"network": net}, X, y, words=plots.ALIEN_WORDS)
    return fig, X, y, net


def test_the_lesson_plot_speaks_of_aack_and_beep_counts_and_of_sad_and_happy():
    pytest.importorskip("matplotlib")
    fig, *_ = lesson_figure()
    (ax,) = fig.get_axes()
    assert ax.get_xlabel() == '"aack" count'
    assert ax.get_ylabel() == '"beep" count'
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"sad", "happy", "red: a1 = ½", "green: a2 = ½"} <= set(labels)
    assert ax.get_title() == "network: 100% right"


def test_the_red_and_green_lines_are_drawn_in_their_colours_where_a1_and_a2_are_half():
    pytest.importorskip("matplotlib")
    from matplotlib.colors import to_hex

    from autograd.draw import COLOURS

    fig, _, _, net = lesson_figure()
    (ax,) = fig.get_axes()
    lines = {line.get_label(): line for line in ax.get_lines()}
    for name, a, (w1, w2, b) in (
        ("red", "a1", (net.w11, net.w21, net.b1)),
        ("green", "a2", (net.w12, net.w22, net.b2)),
    ):
        line = lines[f"{name}: {a} = ½"]
        assert to_hex(line.get_color()) == COLOURS[name]
        xs, ys = line.get_data()
        np.testing.assert_allclose(w1.data * xs + w2.data * ys + b.data, 0.0, atol=1e-9)


def test_overlapping_samples_are_one_marker_whose_area_counts_them():
    pytest.importorskip("matplotlib")
    fig, X, y, _ = lesson_figure()
    (ax,) = fig.get_axes()
    total = 0
    for label, name in ((0, "sad"), (1, "happy")):
        (points,) = [c for c in ax.collections if c.get_label() == name]
        offsets, sizes = points.get_offsets(), points.get_sizes()
        distinct, counts = np.unique(X[y == label], axis=0, return_counts=True)
        assert len(offsets) == len(distinct) < (y == label).sum()  # one marker per point
        order = np.lexsort(np.asarray(offsets).T[::-1])
        np.testing.assert_array_equal(np.asarray(offsets)[order], distinct)
        np.testing.assert_allclose(sizes[order] / sizes[order].min(), counts / counts.min())
        total += counts.sum()
    assert total == len(y)
    assert any("samples at that point" in t.get_text() for t in ax.texts)


# ---------------------------------------------------------------------------
# The training movie.
# ---------------------------------------------------------------------------


def movie(folder, seed: int, epochs: int = 6, every: int = 3):
    """Train the lesson's network briefly and write its movie; returns the path and the net."""
    from nn import datasets, fit

    folder.mkdir(exist_ok=True)
    X, y = datasets.alien_sentiment(n=80, seed=seed)
    net = TwoLayerNetwork(seed=seed)
    snapshots = plots.Snapshots(net, every=every)
    history = fit(net, X, y, epochs=epochs, seed=seed, progress=False, callback=snapshots)
    path = plots.training_movie(
        snapshots, history, X, y, folder / f"movie-{seed}.gif", resolution=40, dpi=40
    )
    return path, (net, snapshots, history, X, y)


def frames(path) -> list[bytes]:
    from PIL import Image, ImageSequence

    with Image.open(path) as im:
        return [f.convert("RGB").tobytes() for f in ImageSequence.Iterator(im)]


def test_the_movie_has_a_frame_per_snapshot_and_the_first_differs_from_the_last(tmp_path):
    pytest.importorskip("matplotlib")
    from PIL import Image

    path, _ = movie(tmp_path, seed=1, epochs=7, every=3)
    with Image.open(path) as im:
        assert im.format == "GIF" and im.is_animated
        assert im.n_frames == 4  # epochs 0 (the start), 3, 6 and the last, 7
    shots = frames(path)
    assert shots[0] != shots[-1]
    assert len(set(shots)) > 2  # the boundary moves from frame to frame


def test_the_movie_is_reproducible_from_a_seed_and_leaves_the_model_as_it_was(tmp_path):
    pytest.importorskip("matplotlib")
    a, (net, snapshots, history, X, y) = movie(tmp_path / "a", seed=2)
    b, _ = movie(tmp_path / "b", seed=2)
    c, _ = movie(tmp_path / "c", seed=3)
    assert a.read_bytes() == b.read_bytes()
    assert frames(a) != frames(c)
    net.w11.data = 123.0
    plots.training_movie(snapshots, history, X, y, tmp_path / "again.gif", resolution=20, dpi=30)
    assert net.w11.data == 123.0  # the frames' weights were put back afterwards


def test_snapshots_refuse_a_bad_interval():
    for every in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="every"):
            plots.Snapshots(TwoLayerNetwork(seed=0), every=every)


def test_decision_boundaries_of_a_three_class_model_show_three_regions(tmp_path: Path) -> None:
    X, y = nn.datasets.spirals(90, seed=0)
    model = nn.MLP(2, [8, 3], output_activation="identity", seed=0)
    nn.fit(model, X, y, epochs=50, progress=False)
    fig = plots.decision_boundaries({"mlp": model}, X, y)
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["y = 0", "y = 1", "y = 2"]
    mesh = ax.collections[0].get_array()
    assert set(np.unique(np.asarray(mesh))) == {0.0, 1.0, 2.0}
    assert ax.get_title().startswith(f"mlp: {nn.accuracy(model, X, y):.0%}")
    assert plots.save(fig, tmp_path / "b.png").read_bytes().startswith(b"\x89PNG")
