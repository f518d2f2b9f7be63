"""The lesson end to end: train a perceptron and the network, check the gradients three ways, draw.

`valuegrad demo` (and `valuegrad` alone) parses its options and calls `run`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograd import Value, gradcheck
from autograd.draw import Drawing, dot_available, draw, render
from nn import datasets, plots
from nn.layers import Perceptron
from nn.losses import log_loss
from nn.module import Module
from nn.network import CLOSED_FORMS, NAMES, TwoLayerNetwork, analytic_gradients, same_line
from nn.train import History, accuracy, fit

MOVIE_FRAMES = 30  # about this many frames in training.gif, whatever the number of epochs


GOOD = 0.97  # the network's accuracy on the lesson's data, short of which it is stuck


def stuck_note(net: TwoLayerNetwork, X: np.ndarray) -> str:
    """One line on why a network trained on X stopped short of the happy band."""
    if same_line(net, X):
        return "both hidden perceptrons drew the same line; try another seed"
    return (
        "the red and green lines do not both reach an edge of the happy band "
        "(a poor minimum); try another seed"
    )


def lesson_graph(net: TwoLayerNetwork, x1: float, x2: float, y: float) -> tuple[Value, Drawing]:
    """The log loss of the network on one sample, after its backward pass, and its drawing."""
    net.zero_grad()
    inputs = [Value(float(x1), name="x1"), Value(float(x2), name="x2")]
    label = Value(float(y), name="y")
    loss = log_loss(net(inputs), label)
    loss.name = "L"
    loss.backward()
    return loss, draw(loss, inputs=[*inputs, label])


@dataclass
class GradientRow:
    """One parameter's ∂L/∂p for one sample: by its closed form, by autograd and numerically."""

    name: str
    formula: str
    closed_form: float
    autograd: float
    numerical: float

    @property
    def largest_difference(self) -> float:
        """The largest |difference| between any two of the three values."""
        values = (self.closed_form, self.autograd, self.numerical)
        return max(values) - min(values)


def gradient_rows(net: TwoLayerNetwork, x: Sequence[float], y: float) -> list[GradientRow]:
    """The nine derivatives of the log loss at one sample: closed form, autograd, numerical."""
    closed = analytic_gradients(net, list(x), y)
    net.zero_grad()
    log_loss(net(list(x)), y).backward()
    by_autograd = {name: float(getattr(net, name).grad) for name in NAMES}

    def loss_of(*params: Value) -> Value:
        with net.using(params):
            return log_loss(net(list(x)), y)

    report = gradcheck(loss_of, *net.parameters())
    numerical = {
        name: c.numerical
        for (name, _), c in zip(net.named_parameters(), report.inputs, strict=True)
    }
    return [
        GradientRow(name, CLOSED_FORMS[name], closed[name], by_autograd[name], numerical[name])
        for name in NAMES
    ]


def _number(v: float) -> str:
    """Ten decimals, or scientific notation for a value so small that decimals would hide it."""
    return f"{v:+.10f}" if v == 0 or abs(v) >= 1e-4 else f"{v:+.4e}"


def format_gradient_table(rows: Sequence[GradientRow]) -> str:
    """The rows as an aligned text table."""
    header = ("param", "formula", "closed form", "autograd", "numerical", "max |diff|")
    cells = [header] + [
        (
            r.name,
            r.formula,
            _number(r.closed_form),
            _number(r.autograd),
            _number(r.numerical),
            f"{r.largest_difference:.1e}",
        )
        for r in rows
    ]
    widths = [max(len(c[k]) for c in cells) for k in range(len(header))]
    lines = []
    for c in cells:
        parts = [c[0].ljust(widths[0]), c[1].ljust(widths[1])]
        parts += [v.rjust(w) for v, w in zip(c[2:], widths[2:], strict=True)]
        lines.append("  " + "  ".join(parts))
    return "\n".join(lines)


def run(out: Path, *, seed: int = 0, epochs: int = 300) -> None:
    """Train the perceptron and the network, compare gradients three ways, write the pictures."""
    start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    X, y = datasets.alien_sentiment(seed=seed)
    print(
        f"valuegrad demo: the perceptron lesson on the alien sentiment data "
        f"({len(y)} sentences, seed {seed})"
    )
    print('Each sentence is made of the words "aack" and "beep"; x1 and x2 count them,')
    print("and y is 1 for a happy sentence, 0 for a sad one.")
    for line in datasets.example_sentences(3, seed=seed):
        print(f"  {line}")
    print()

    perceptron = Perceptron(2, seed=seed)
    network = TwoLayerNetwork(seed=seed)
    histories: dict[str, History] = {}
    movie = plots.Snapshots(network, every=max(1, epochs // MOVIE_FRAMES))
    for label, model in (("perceptron", perceptron), ("network", network)):
        print(f"training the {label} for {epochs} epochs ...", flush=True)
        callback = movie if model is network else None
        histories[label] = fit(model, X, y, epochs=epochs, seed=seed, callback=callback)
        if histories[label].interrupted:
            raise KeyboardInterrupt  # Ctrl-C stops the whole demo, not just this model
    acc_p, acc_n = accuracy(perceptron, X, y), accuracy(network, X, y)
    print()
    print("accuracy on the training data")
    print(f"  one perceptron (a straight line)          {acc_p:7.1%}")
    print(f"  the red/green/purple network (a curve)    {acc_n:7.1%}")
    if acc_n < GOOD:
        print(f"note: {stuck_note(network, X)}")
    print()

    # At the initial weights every gradient has a readable size; after training most are tiny.
    x1, x2, label_0 = float(X[0, 0]), float(X[0, 1]), float(y[0])
    start_net = TwoLayerNetwork(seed=seed)
    rows = gradient_rows(start_net, (x1, x2), label_0)
    worst = max(r.largest_difference for r in rows)
    print(
        f"∂L/∂p for sample 0 (x1 = {x1:g}, x2 = {x2:g}, y = {label_0:g}) at the network's initial "
        "weights,"
    )
    print("by the closed form, by autograd and by central differences:")
    print(format_gradient_table(rows))
    print(f"  all nine agree to within {worst:.1e}")
    print()

    written: list[tuple[Path, str]] = []
    _, drawing = lesson_graph(start_net, x1, x2, label_0)
    if dot_available():
        graph_path = render(drawing, out / "network-graph.svg")
    else:
        graph_path = render(drawing, out / "network-graph.dot")
        print(
            "note: graphviz's `dot` is not installed, so the graph is written as DOT source; "
            "for SVG install the graphviz program with the system's package manager "
            "(`apt install graphviz`, `brew install graphviz` or "
            "`conda install -c conda-forge graphviz`), "
            "not with pip"
        )
    written.append((graph_path, "the network's graph for that sample, with values and gradients"))
    written += _plots(out, perceptron, network, histories, X, y, movie)

    print("wrote")
    width = max(len(str(p)) for p, _ in written)
    for path, what in written:
        print(f"  {str(path).ljust(width)}  {what}")
    print(f"done in {time.perf_counter() - start:.1f} s")


def _plots(
    out: Path,
    perceptron: Module,
    network: Module,
    histories: dict[str, History],
    X: np.ndarray,
    y: np.ndarray,
    movie: plots.Snapshots,
) -> list[tuple[Path, str]]:
    if not plots.available():
        print(f"note: {plots.INSTALL_HINT}, so the plots and the training movie are skipped")
        return []
    models = {"perceptron": perceptron, "network": network}
    fig = plots.decision_boundaries(
        models,
        X,
        y,
        title="alien sentiment: where each model predicts happy",
        words=plots.ALIEN_WORDS,
    )
    boundaries = plots.save(fig, out / "decision-boundaries.png")
    curves = plots.save(
        plots.loss_curves(histories, title="training on the alien sentiment data"),
        out / "loss-curves.png",
    )
    film = plots.training_movie(
        movie, histories["network"], X, y, out / "training.gif", words=plots.ALIEN_WORDS
    )
    return [
        (boundaries, "decision boundaries of both models, with the data"),
        (curves, "loss and accuracy per epoch"),
        (film, "the network's boundary and its red and green lines as it trains"),
    ]
