"""Pictures of training: decision boundaries over the data, and loss and accuracy curves.

matplotlib is optional (the `notebooks` and `dev` extras install it). It is imported
only when a picture is made; without it these functions raise `PlotsUnavailable`,
whose message says how to install it. Figures are built with matplotlib's
object API (no pyplot), so nothing here touches a global figure or a GUI backend;
in Jupyter a returned Figure shows inline.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from autograd import no_grad
from autograd.draw import COLOURS
from nn.module import Module
from nn.network import TwoLayerNetwork
from nn.train import History

INSTALL_HINT = "matplotlib is not installed; `pip install 'valuegrad[notebooks]'` adds it"

# Label 0 and label 1: the points, and the two sides of a boundary (lighter).
POINT_COLOURS = ("#2563eb", "#ea580c")
REGION_COLOURS = ("#dbeafe", "#ffedd5")
BOUNDARY_COLOUR = "#111827"
# For models that score k classes: labels 0 and 1 as above, then more classes in order.
CLASS_COLOURS = (*POINT_COLOURS, "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#4b5563")
CLASS_REGIONS = (*REGION_COLOURS, "#dcfce7", "#f3e8ff", "#fee2e2", "#cffafe", "#fef9c3", "#e5e7eb")
MARKERS = ("o", "^", "s", "D", "v", "P", "X", "*")

# The alien sentiment lesson's words for the axes and the classes, for `words=`.
ALIEN_WORDS = {"axes": ('"aack" count', '"beep" count'), "classes": ("sad", "happy")}


def _words(words: Mapping[str, tuple[str, str]] | None) -> tuple[tuple[str, str], tuple[str, str]]:
    words = words or {}
    return words.get("axes", ("x1", "x2")), words.get("classes", ("y = 0", "y = 1"))


class PlotsUnavailable(ImportError):
    """Raised when a picture is asked for and matplotlib is not installed."""

    def __init__(self) -> None:
        super().__init__(INSTALL_HINT)


def available() -> bool:
    """True when matplotlib can be imported."""
    try:
        _figure_class()
    except PlotsUnavailable:
        return False
    return True


def _figure_class() -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotsUnavailable() from None
    return Figure


def _colormap(colours: tuple[str, ...]) -> Any:
    from matplotlib.colors import ListedColormap

    return ListedColormap(list(colours))


def grid(X: Any, resolution: int = 200, margin: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """Coordinate arrays (resolution²) over X's two columns, padded by `margin` of their range."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"a decision boundary needs two feature columns, got shape {X.shape}")
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = margin * np.where(hi > lo, hi - lo, 1.0)
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    return np.meshgrid(xs, ys)


def probabilities(model: Module, xx: np.ndarray, yy: np.ndarray) -> np.ndarray:
    """The model's output at every point of the grid (xx, yy), shaped like xx; no graph recorded."""
    points = np.column_stack([xx.ravel(), yy.ravel()])
    with no_grad():
        out = model(points)
    return np.asarray(out.data, dtype=np.float64).reshape(xx.shape)


def decision_boundaries(
    models: Mapping[str, Module],
    X: Any,
    y: Any,
    *,
    threshold: float = 0.5,
    resolution: int = 200,
    title: str | None = None,
    words: Mapping[str, tuple[str, str]] | None = None,
) -> Any:
    """One panel per model: where it predicts 1 (output ≥ threshold), its boundary, and the data.

    `models` maps a panel title to a model taking rows of two features. The lesson's
    network also shows its red and green perceptrons' lines, a1 = ½ and a2 = ½.
    `words` names the axes and the classes (`ALIEN_WORDS` for the lesson's data). A model
    with one score per class gets one region per class instead. Returns a matplotlib Figure.
    """
    Figure = _figure_class()
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if not models:
        raise ValueError("decision_boundaries needs at least one model")
    fig = Figure(figsize=(4.6 * len(models), 4.2), layout="constrained")
    axes = fig.subplots(1, len(models), squeeze=False)[0]
    for ax, (name, model) in zip(axes, models.items(), strict=True):
        right = boundary_panel(
            ax, model, X, y, threshold=threshold, resolution=resolution, words=words
        )
        ax.set_title(f"{name}: {right:.0%} right")
        _legend(ax)
    if title:
        fig.suptitle(title)
    return fig


def boundary_panel(
    ax: Any,
    model: Module,
    X: np.ndarray,
    y: np.ndarray,
    *,
    threshold: float = 0.5,
    resolution: int = 200,
    words: Mapping[str, tuple[str, str]] | None = None,
) -> float:
    """Draw the model's regions, boundary (and the network's red and green lines) and the data.

    A model with one score per class gets the region of each class (its highest score) and
    the boundaries between them, for up to eight classes. Returns the fraction of X right.
    """
    xx, yy = grid(X, resolution)
    points = np.column_stack([xx.ravel(), yy.ravel()])
    with no_grad():
        scores = np.asarray(model(points).data, dtype=np.float64)
    if scores.ndim == 2:
        return _class_panel(ax, model, xx, yy, scores, X, y, words)
    p = scores.reshape(xx.shape)
    # One image, not a mesh of cells: matplotlib draws a mesh cell by cell.
    ax.imshow(
        (p >= threshold).astype(float),
        cmap=_colormap(REGION_COLOURS),
        vmin=0,
        vmax=1,
        origin="lower",
        extent=(xx.min(), xx.max(), yy.min(), yy.max()),
        aspect="auto",
        interpolation="nearest",
    )
    if p.min() < threshold < p.max():
        ax.contour(
            xx,
            yy,
            p,
            levels=[threshold],
            colors=BOUNDARY_COLOUR,
            linewidths=1.2,
            linestyles="--" if isinstance(model, TwoLayerNetwork) else "-",
            zorder=2.5,
        )
    if isinstance(model, TwoLayerNetwork):
        for name, (w1, w2, b) in hidden_lines(model).items():
            a = "a1" if name == "red" else "a2"
            _line(ax, w1, w2, b, xx, yy, color=COLOURS[name], label=f"{name}: {a} = ½")
    axis_names, classes = _words(words)
    _scatter(ax, X, y, classes)
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    with no_grad():
        predicted = np.asarray(model(X).data) >= threshold
    return float(np.mean(predicted == y))


def _class_panel(
    ax: Any,
    model: Module,
    xx: np.ndarray,
    yy: np.ndarray,
    scores: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    words: Mapping[str, tuple[str, str]] | None,
) -> float:
    """The class of the highest score over the grid, the boundaries between classes, the data."""
    k = scores.shape[1]
    if k > len(CLASS_COLOURS):
        raise ValueError(f"decision_boundaries draws up to {len(CLASS_COLOURS)} classes, got {k}")
    winner = np.argmax(scores, axis=1).reshape(xx.shape).astype(float)
    cmap = _colormap(CLASS_REGIONS[:k])
    ax.pcolormesh(xx, yy, winner, cmap=cmap, vmin=-0.5, vmax=k - 0.5, shading="auto")
    for c in range(k):  # a boundary wherever the winning class changes: each region's edge
        inside = (winner == c).astype(float)
        if 0.0 < inside.mean() < 1.0:
            ax.contour(xx, yy, inside, levels=[0.5], colors=BOUNDARY_COLOUR, linewidths=1.2)
    for c in range(k):
        rows = y == c
        ax.scatter(
            X[rows, 0],
            X[rows, 1],
            c=CLASS_COLOURS[c],
            marker=MARKERS[c],
            s=30,
            edgecolors="white",
            linewidths=0.6,
            label=f"y = {c}",
            zorder=3,
        )
    axis_names, _ = _words(words)
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    with no_grad():
        predicted = np.argmax(np.asarray(model(X).data), axis=-1)
    return float(np.mean(predicted == y))


def hidden_lines(net: TwoLayerNetwork) -> dict[str, tuple[float, float, float]]:
    """The red and green perceptrons' lines w·x1 + w'·x2 + b = 0 (where a1 = ½ and a2 = ½)."""
    return {
        "red": (float(net.w11.data), float(net.w21.data), float(net.b1.data)),
        "green": (float(net.w12.data), float(net.w22.data), float(net.b2.data)),
    }


def _line(
    ax: Any, w1: float, w2: float, b: float, xx: np.ndarray, yy: np.ndarray, **style: Any
) -> None:
    """The line w1·x1 + w2·x2 + b = 0 across the grid's extent (nothing when w = 0)."""
    if w1 == 0 and w2 == 0:
        return
    if abs(w2) >= abs(w1):
        xs = np.array([xx.min(), xx.max()])
        ys = -(w1 * xs + b) / w2
    else:
        ys = np.array([yy.min(), yy.max()])
        xs = -(w2 * ys + b) / w1
    ax.plot(xs, ys, linewidth=3.0, alpha=0.8, zorder=2, **style)


def _scatter(ax: Any, X: np.ndarray, y: np.ndarray, classes: tuple[str, str]) -> None:
    """The samples, one marker per distinct point: its area grows with how many sit there."""
    for label, colour, marker in ((0, POINT_COLOURS[0], "o"), (1, POINT_COLOURS[1], "^")):
        rows = X[y == label]
        if len(rows) == 0:
            continue
        points, counts = np.unique(rows, axis=0, return_counts=True)
        ax.scatter(
            points[:, 0],
            points[:, 1],
            c=colour,
            marker=marker,
            s=_area(counts),
            edgecolors="white",
            linewidths=0.6,
            label=classes[label],
            zorder=3,
        )
    if len(X) > len(np.unique(X, axis=0)):
        ax.text(
            0.01,
            0.01,
            "marker area ∝ samples at that point",
            transform=ax.transAxes,
            fontsize=7,
            color="#4b5563",
        )


def _area(counts: np.ndarray) -> np.ndarray:
    """Marker areas in pt², proportional to the number of samples at the point."""
    return 10.0 * counts


def data(
    X: Any, y: Any, *, title: str | None = None, words: Mapping[str, tuple[str, str]] | None = None
) -> Any:
    """A scatter plot of rows of two features, coloured by their 0/1 label. Returns a Figure."""
    Figure = _figure_class()
    X = np.asarray(X, dtype=np.float64)
    fig = Figure(figsize=(4.6, 4.2), layout="constrained")
    ax = fig.subplots()
    axis_names, classes = _words(words)
    _scatter(ax, X, np.asarray(y, dtype=np.float64), classes)
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    _legend(ax)
    if title:
        ax.set_title(title)
    return fig


def _legend(ax: Any, into: Any = None, loc: str = "best") -> None:
    """The panel's legend (on `into` when given), every marker at one size (sizes are counts)."""
    handles, labels = ax.get_legend_handles_labels()
    legend = (into or ax).legend(handles, labels, loc=loc, fontsize=8, framealpha=0.9)
    for handle in legend.legend_handles:
        if hasattr(handle, "set_sizes"):
            handle.set_sizes([36.0])


def loss_curves(histories: Mapping[str, History], *, title: str | None = None) -> Any:
    """The training loss (left) and accuracy (right) per epoch, a line per model, as a Figure."""
    Figure = _figure_class()
    if not histories:
        raise ValueError("loss_curves needs at least one History")
    fig = Figure(figsize=(9.2, 3.8), layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2)
    for name, h in histories.items():
        epochs = np.arange(1, h.epochs + 1)
        loss_ax.plot(epochs, h.loss, label=name, linewidth=1.8)
        acc_ax.plot(epochs, np.asarray(h.accuracy) * 100, label=name, linewidth=1.8)
    loss_ax.set_ylim(bottom=0)
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("log loss")
    loss_ax.set_title("loss")
    acc_ax.set_xlabel("epoch")
    acc_ax.set_ylabel("accuracy (%)")
    acc_ax.set_ylim(0, 105)
    acc_ax.set_title("accuracy on the training data")
    for ax in (loss_ax, acc_ax):
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def save(fig: Any, path: str | os.PathLike[str], dpi: int = 110) -> Path:
    """Write a Figure to `path` (format from its suffix), without a date or a version stamp."""
    path = Path(path)
    # Without the date and the version stamp, regenerating an unchanged picture leaves git clean.
    metadata: dict[str, Any] = {"Software": None}
    if path.suffix.lower() == ".svg":
        metadata = {"Date": None, "Creator": None}
    elif path.suffix.lower() == ".pdf":
        metadata = {"CreationDate": None, "Producer": None, "Creator": None}
    fig.savefig(path, dpi=dpi, metadata=metadata)
    return path


# ---------------------------------------------------------------------------
# The training movie.
# ---------------------------------------------------------------------------


class Snapshots:
    """A `fit` callback that keeps a copy of the model's parameters every `every` epochs.

    It also keeps the starting parameters (epoch 0) and the last epoch's, so a
    movie shows where training began and where it ended.
    """

    def __init__(self, model: Module, every: int = 1) -> None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"Snapshots: every must be a positive int, got {every!r}")
        self.model = model
        self.every = every
        self.frames: list[tuple[int, list[Any]]] = [(0, self._copy())]

    def _copy(self) -> list[Any]:
        return [np.copy(p.data) for p in self.model.parameters()]

    def __call__(self, epoch: int, history: History) -> None:
        """Keep the parameters after `epoch` when it is a multiple of `every`."""
        if epoch % self.every == 0:
            self.frames.append((epoch, self._copy()))

    def finish(self, history: History) -> None:
        """Keep the last epoch's parameters too, if `every` skipped them."""
        if self.frames[-1][0] != history.epochs:
            self.frames.append((history.epochs, self._copy()))


def training_movie(
    snapshots: Snapshots,
    history: History,
    X: Any,
    y: Any,
    path: str | os.PathLike[str],
    *,
    words: Mapping[str, tuple[str, str]] | None = None,
    ms_per_frame: int = 100,
    resolution: int = 120,
    dpi: int = 80,
) -> Path:
    """An animated GIF of training: the boundary as it moves, and the loss curve growing beside it.

    One frame per snapshot; the lesson's network also shows its red and green lines.
    The model is left with the parameters it had. Needs matplotlib (and its Pillow).
    """
    Figure = _figure_class()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    snapshots.finish(history)
    model = snapshots.model
    params = model.parameters()
    kept = [p.data for p in params]
    losses = np.asarray(history.loss)
    epochs = np.arange(1, len(losses) + 1)
    fig = Figure(figsize=(8.4, 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    ax, loss_ax = fig.subplots(1, 2, width_ratios=[1.1, 1])
    top = max(1e-9, float(np.max(losses, initial=1.0))) * 1.05
    images = []
    try:
        for epoch, values in snapshots.frames:
            for p, v in zip(params, values, strict=True):
                p.data = v if np.ndim(v) else float(v)
            ax.clear()
            loss_ax.clear()
            right = boundary_panel(ax, model, X, y, resolution=resolution, words=words)
            ax.set_title(f"epoch {epoch}: {right:.0%} right", fontsize=10)
            _legend(ax, into=loss_ax, loc="upper right")  # in one place, over no data
            loss_ax.plot(epochs[:epoch], losses[:epoch], color=COLOURS["purple"], linewidth=1.8)
            loss_ax.set_xlim(0, max(1, len(losses)))
            loss_ax.set_ylim(0, top)
            loss_ax.set_xlabel("epoch")
            loss_ax.set_ylabel("log loss")
            loss_ax.set_title("loss", fontsize=10)
            loss_ax.grid(True, alpha=0.3)
            fig.canvas.draw()
            fig.set_layout_engine("none")  # the first frame's layout serves them all
            rgba = np.asarray(fig.canvas.buffer_rgba())
            images.append(Image.fromarray(rgba[..., :3].copy()))
    finally:
        for p, v in zip(params, kept, strict=True):
            p.data = v
    path = Path(path)
    durations = [ms_per_frame] * (len(images) - 1) + [ms_per_frame * 20]  # hold the end
    palette = images[-1].quantize(colors=128)
    frames = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    frames[0].save(
        path, save_all=True, append_images=frames[1:], duration=durations, loop=0, optimize=False
    )
    return path
