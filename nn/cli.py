"""The `valuegrad` command: the lesson end to end (`demo`), and `train`, `check` and `draw`.

Every subcommand turns bad input (arguments, files, data, weights) into one line
on stderr, `valuegrad: error: ...`, and exit code 2; a failed gradient check
exits 1. `python -m nn` runs the same command.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import sys
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import graphviz
import numpy as np

from autograd import GradcheckReport, Value, gradcheck, no_grad
from autograd.draw import DotNotFoundError, render
from autograd.gradcheck import aligned
from nn import checks, datasets, demo, plots
from nn.layers import MLP, Perceptron
from nn.losses import cross_entropy, log_loss
from nn.module import OPTIONS_MEMBER, Module
from nn.module import saved_options as module_saved_options
from nn.network import TwoLayerNetwork
from nn.train import DEFAULT_EPOCHS, History, accuracy, fit

PROG = "valuegrad"
MODELS = ("perceptron", "network", "mlp")
DATASETS = ("alien", "xor", "moons", "circles", "blobs", "spirals")
GRAPH_FORMATS = ("svg", "png", "pdf", "dot")


class UsageError(ValueError):
    """Input the command cannot work with; reported in one line with exit code 2."""


# ---------------------------------------------------------------------------
# Argument types: each rejects bad text with a message argparse prints.
# ---------------------------------------------------------------------------


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected layer sizes separated by commas, like 8,8; got {text!r}"
        ) from None
    try:
        return tuple(checks.whole(n, "each layer size") for n in sizes)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


# ---------------------------------------------------------------------------
# Shared pieces: data, models, the lesson's graph.
# ---------------------------------------------------------------------------


def load_data(spec: str, seed: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) for a bundled data set's short name, or from a CSV file's path."""
    if spec in datasets.DATASETS:
        return datasets.load(spec, seed=seed)
    path = Path(spec)
    if not path.exists():
        if path.suffix.lower() != ".csv":
            raise UsageError(
                f"unknown data {spec!r}: use one of {', '.join(DATASETS)} "
                "or the path of a .csv file"
            )
        raise UsageError(f"{spec}: no such file")
    if path.is_dir():
        raise UsageError(f"{spec}: is a directory, not a .csv file")
    try:
        return datasets.load_csv(path)
    except UnicodeDecodeError as e:
        raise UsageError(f"{spec}: not a UTF-8 text file ({e.reason} at byte {e.start})") from None


def count_classes(y: np.ndarray) -> int:
    """The number of classes the labels 0..k−1 call for: max + 1, and 2 at least."""
    return max(2, int(np.max(y)) + 1)


def make_model(
    kind: str, hidden: tuple[int, ...] | None, n_features: int, seed: int, classes: int = 2
) -> Module:
    """A fresh model of the named kind for rows of `n_features` features and `classes` classes.

    Two classes: one output per sample (a probability). More: the mlp ends with one score
    per class, trained with the cross-entropy; the perceptron and the network tell two apart.
    """
    if hidden is not None and kind != "mlp":
        raise UsageError(f"--hidden applies to --model mlp only, not to --model {kind}")
    if classes > 2 and kind != "mlp":
        raise UsageError(
            f"the labels have {classes} classes (0 to {classes - 1}); --model {kind} tells two "
            "apart: use --model mlp"
        )
    if classes > 2:
        return MLP(
            n_features, [*(hidden or (8, 8)), classes], output_activation="identity", seed=seed
        )
    if kind == "perceptron":
        return Perceptron(n_features, seed=seed)
    if kind == "network":
        if n_features != 2:
            raise UsageError(f"the lesson's network takes 2 features; the data has {n_features}")
        return TwoLayerNetwork(seed=seed)
    return MLP(n_features, [*(hidden or (8, 8)), 1], seed=seed)


def describe(model: Module) -> str:
    """A model's name as one builds it: Perceptron(2), TwoLayerNetwork(), MLP(2, [8, 8, 1])."""
    if isinstance(model, MLP):
        return f"MLP({model.n_in}, {list(model.sizes)})"
    if isinstance(model, Perceptron):
        return f"Perceptron({model.n_inputs})"
    return f"{type(model).__name__}()"


def count_parameters(model: Module) -> int:
    """The number of trainable numbers in the model."""
    return sum(math.prod(p.shape) for p in model.parameters())


# ---------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------


def run_demo(args: argparse.Namespace) -> int:
    """Run the lesson end to end (nn.demo does the work)."""
    if args.epochs < 1:
        raise UsageError(f"the demo needs --epochs 1 or more, got {args.epochs}")
    demo.run(Path(args.out), seed=args.seed, epochs=args.epochs)
    return 0


# ---------------------------------------------------------------------------
# train and check
# ---------------------------------------------------------------------------


def _model_and_data(args: argparse.Namespace) -> tuple[Module, np.ndarray, np.ndarray, str]:
    X, y = load_data(args.data, args.seed)
    model = make_model(args.model, args.hidden, X.shape[1], args.seed, count_classes(y))
    if args.load is not None:
        _load(model, args.load)
    return model, X, y, describe(model)


def _load(model: Module, path: str) -> None:
    """model.load(path), with a hint at the --model and --hidden that fit the file if it fails."""
    try:
        model.load(path)
    except ValueError as e:
        options = fitting_options(path)
        if options is None:
            raise
        raise UsageError(f"{_one_line(e)}; the file holds the weights of `{options}`") from None


def options_to_save(model: Module, kind: str) -> dict[str, Any]:
    """What `train --save` stores beside the weights: the --model, and the mlp's --hidden."""
    if isinstance(model, MLP):
        return {"model": kind, "hidden": list(model.sizes[:-1])}
    return {"model": kind}


def fitting_options(path: str) -> str | None:
    """The --model (and --hidden) whose weights the .npz file holds.

    The options `train --save` stored in the file come first; a file without them (saved
    before they were, or by `Module.save`) is read from its member names and array
    headers, never the arrays. None when neither tells.
    """
    try:
        stored = options_text(module_saved_options(path))
    except (OSError, ValueError):
        stored = None
    return stored or _options_from_shapes(path)


def options_text(options: dict[str, Any] | None) -> str | None:
    """Saved options as command-line words, "--model mlp --hidden 8,8"; None if they are not."""
    if options is None or options.get("model") not in MODELS:
        return None
    kind = options["model"]
    if kind != "mlp":
        return None if "hidden" in options else f"--model {kind}"
    hidden = options.get("hidden")
    if (
        not isinstance(hidden, list)
        or not hidden
        or not all(type(n) is int and n >= 1 for n in hidden)
    ):
        return None
    return f"--model mlp --hidden {','.join(map(str, hidden))}"


def _options_from_shapes(path: str) -> str | None:
    """The --model and --hidden that fit the member names and array shapes of the file."""
    try:
        with zipfile.ZipFile(path) as z:
            shapes = {}
            for info in z.infolist():
                if not info.filename.endswith(".npy") or info.file_size > 1 << 30:
                    continue
                if info.filename == OPTIONS_MEMBER + ".npy":
                    continue
                with z.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    read_header = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    shapes[info.filename[: -len(".npy")]] = read_header(f)[0]
    except (OSError, ValueError, zipfile.BadZipFile):
        return None
    names = set(shapes)
    if names == {"w11", "w21", "b1", "w12", "w22", "b2", "w1", "w2", "b"}:
        return "--model network"
    if "b" in names and names == {"b", *(f"w{i}" for i in range(1, len(names)))}:
        return "--model perceptron"
    layers = sorted(
        int(n.split(".")[1]) for n in names if n.startswith("layers.") and n.endswith(".W")
    )
    if not layers or layers != list(range(len(layers))) or len(names) != 2 * len(layers):
        return None
    sizes = [shapes[f"layers.{i}.W"][1] for i in layers]
    hidden = ",".join(map(str, sizes[:-1]))
    return f"--model mlp --hidden {hidden}" if hidden else None


def run_train(args: argparse.Namespace) -> int:
    """Train a model on a data set, printing the loss and accuracy as it goes."""
    model, X, y, name = _model_and_data(args)
    if args.save is not None:
        _check_writable(Path(args.save))
    print(f"{name}, {count_parameters(model)} parameters, on {args.data}: {len(y)} samples")
    history = History()
    if args.epochs:
        bar = sys.stderr.isatty()
        every = args.print_every or max(1, args.epochs // 10)
        digits = len(str(args.epochs))

        def report(epoch: int, h: History) -> None:
            if not bar and (epoch % every == 0 or epoch == 1 or epoch == args.epochs):
                print(
                    f"epoch {epoch:>{digits}}/{args.epochs}  loss {h.loss[-1]:.4f}  "
                    f"accuracy {h.accuracy[-1]:.1%}",
                    flush=True,
                )

        history = fit(
            model,
            X,
            y,
            optimizer=args.optimizer,
            epochs=args.epochs,
            lr=args.lr,
            batch_size=args.batch_size,
            seed=args.seed,
            progress=bar,
            callback=report,
        )
    final_loss = _loss(model)(_predictions(model, X), y).item()
    print(
        f"final: loss {final_loss:.4f}, accuracy {accuracy(model, X, y):.1%} "
        f"after {history.epochs} epoch{'s' if history.epochs != 1 else ''}"
    )
    if history.interrupted:
        print("interrupted: the model keeps what it learned so far")
    if args.save is not None:
        model.save(args.save, options=options_to_save(model, args.model))
        print(f"saved the weights to {args.save}")
    if args.plot is not None:
        _plot_boundaries(model, X, y, name, Path(args.plot))
    return 130 if history.interrupted else 0


def _loss(model: Module) -> Callable[[Any, Any], Value]:
    """The model's loss: the cross-entropy for one score per class, else the log loss."""
    return cross_entropy if isinstance(model, MLP) and model.sizes[-1] > 1 else log_loss


def _plot_boundaries(model: Module, X: np.ndarray, y: np.ndarray, name: str, path: Path) -> None:
    """Write the model's decision boundaries over the data, or say why not."""
    if X.shape[1] != 2:
        print(f"no --plot: a decision boundary needs two features, the data has {X.shape[1]}")
        return
    if not plots.available():
        print(f"no --plot: {plots.INSTALL_HINT}")
        return
    fig = plots.decision_boundaries({name: model}, X, y)
    print(f"wrote {plots.save(fig, path)}  decision boundaries of the model, with the data")


def _predictions(model: Module, X: np.ndarray) -> Value:
    with no_grad():
        out: Value = model(X)
    return out


def _check_writable(path: Path) -> None:
    """Fail before training, not after, when the weights could not be saved."""
    directory = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UsageError(f"--save {path}: is a directory")
    if not directory.is_dir():
        raise UsageError(f"--save {path}: the directory {directory} does not exist")


LONG_CHECK = 10_000  # numbers past which a full check prints its progress and a faster way


def run_check(args: argparse.Namespace) -> int:
    """Gradcheck the model's loss on the data; exit 1 when any gradient is wrong.

    The loss is the log loss, or the cross-entropy for a model with one score per class.

    Inconclusive numbers (central differences cannot resolve them) do not fail the
    check; the last line counts them and says why.
    """
    model, X, y, name = _model_and_data(args)
    named = list(model.named_parameters())
    loss = _loss(model)

    def loss_of(*params: Value) -> Value:
        with model.using(params):
            loss_value: Value = loss(model(X), y)
            return loss_value

    numbers = count_parameters(model)
    what = "cross-entropy" if loss is cross_entropy else "log loss"
    print(f"gradient check of the {what} of {name} on {args.data} ({len(y)} samples)")
    progress = None
    if args.directions is None and numbers > LONG_CHECK:
        print(
            f"checking {numbers:,} numbers one by one, at least 4 evaluations of the loss each; "
            "--directions K checks K random directions instead, in 4K + 1",
            flush=True,
        )
        every = max(1, numbers // 20)

        def progress(done: int, total: int) -> None:
            if done % every == 0 or done == total:
                print(f"checked {done:,} of {total:,} numbers", file=sys.stderr, flush=True)

    report = gradcheck(
        loss_of,
        *(p for _, p in named),
        directions=args.directions,
        strict=False,
        progress=progress,
    )
    if args.directions is not None:
        print(report)
    else:
        print(format_check(report, [n for n, _ in named]))
    wrong = [c for c in report.inputs if not c.ok]
    what = "directions" if args.directions is not None else "parameters' gradients"
    if wrong:
        print(f"{len(wrong)} of {len(report.inputs)} {what} are WRONG")
        return 1
    unresolved = len(report.inconclusive)
    if unresolved:
        print(
            f"no wrong gradient: all {len(report.inputs)} {what} are right or inconclusive "
            f"({unresolved} of {numbers} numbers inconclusive: {report.why_inconclusive()})"
        )
        return 0
    print(f"all {len(report.inputs)} {what} are right ({numbers} numbers)")
    return 0


def format_check(report: GradcheckReport, names: Sequence[str]) -> str:
    """The gradcheck report with one row per named parameter, inconclusive numbers apart."""
    header = (
        "parameter",
        "shape",
        "worst at",
        "analytic",
        "numerical",
        "abs err",
        "inconclusive",
        "",
    )
    rows = [header]
    for name, c in zip(names, report.inputs, strict=True):
        size = max(1, math.prod(c.shape))
        verdict = "ok" if c.ok else f"WRONG ({c.failures} of {size})"
        if c.ok and len(c.inconclusive) == size:
            verdict = "inconclusive"
        if c.kinks:
            verdict += f", {len(c.kinks)} kink(s)"
        shape = "×".join(map(str, c.shape)) or "scalar"
        where = ", ".join(map(str, c.index)) or "-"
        rows.append(
            (
                name,
                shape,
                where,
                f"{c.analytic:.8g}",
                f"{c.numerical:.8g}",
                f"{c.abs_error:.2g}",
                str(len(c.inconclusive)) if c.inconclusive else "-",
                verdict,
            )
        )
    return "\n".join(report.header() + aligned(rows))


# ---------------------------------------------------------------------------
# draw
# ---------------------------------------------------------------------------


def run_draw(args: argparse.Namespace) -> int:
    """Write the lesson network's graph for one sample, forward and backward."""
    out = Path(args.out or "network." + (args.format or "svg"))
    suffix = out.suffix.lstrip(".").lower()
    if args.format and suffix in GRAPH_FORMATS and suffix != args.format:
        raise UsageError(
            f"--out {out} says {suffix} but --format says {args.format}: "
            "give one of them, or make them agree"
        )
    fmt = args.format or suffix or "svg"
    if fmt not in GRAPH_FORMATS:
        raise UsageError(
            f"cannot tell the format of {out}: give --format {', '.join(GRAPH_FORMATS)} "
            "or a file ending in one of them"
        )
    if not out.suffix:
        out = out.with_suffix("." + fmt)
    net = TwoLayerNetwork(seed=args.seed)
    if args.load is not None:
        _load(net, args.load)
    loss, drawing = demo.lesson_graph(net, args.x1, args.x2, args.y)
    path = render(drawing, out, format=fmt)
    print(
        f"wrote {path}: L = {loss.item():.4f} "
        f"for x1 = {args.x1:g}, x2 = {args.x2:g}, y = {args.y:g}"
    )
    return 0


# ---------------------------------------------------------------------------
# The parser and main.
# ---------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (with where to find help) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples kept as written; each option's default shown after its help."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (
            action.default in (None, argparse.SUPPRESS)
            or "default" in text
            or not action.option_strings
        ):
            return text
        return text + " (default: %(default)s)"


def _options(*parents: _Parser) -> _Parser:
    return _Parser(add_help=False, parents=list(parents))


def shared_options() -> dict[str, _Parser]:
    """The options several commands take, each defined once, as argparse parent parsers."""
    seed = _options()
    seed.add_argument(
        "--seed",
        type=checks.int_at_least(0),
        default=0,
        metavar="N",
        help="seed for the data and the initial weights",
    )
    load = _options()
    load.add_argument(
        "--load",
        metavar="FILE.npz",
        help="start from weights saved by `valuegrad train --save` (of the same model)",
    )
    epochs = _options()
    epochs.add_argument(
        "--epochs",
        type=checks.int_at_least(0),
        default=DEFAULT_EPOCHS,
        metavar="N",
        help="passes over the data for each model (train takes 0: only evaluate)",
    )
    sample = _options()
    sample.add_argument(
        "--x1", type=checks.finite_float, default=2.0, metavar="NUMBER", help="count of 'aack'"
    )
    sample.add_argument(
        "--x2", type=checks.finite_float, default=1.0, metavar="NUMBER", help="count of 'beep'"
    )
    sample.add_argument(
        "--y", type=checks.label, default=1.0, metavar="LABEL", help="the label, 1 happy or 0 sad"
    )
    model = _options(seed, load)
    model.add_argument(
        "--model",
        choices=MODELS,
        default="network",
        help="perceptron: one sigmoid unit; network: the lesson's red/green/purple 2-2-1 network; "
        "mlp: a multilayer perceptron with ReLU hidden layers (see --hidden)",
    )
    model.add_argument(
        "--hidden",
        type=_sizes,
        default=None,
        metavar="N,N",
        help="hidden layer sizes of the mlp, separated by commas (default for mlp: 8,8)",
    )
    model.add_argument(
        "--data",
        default="alien",
        metavar="NAME|PATH.csv",
        help=f"a bundled data set ({', '.join(DATASETS)}) or a CSV file with a header, "
        "numeric feature columns (two for the network) and a label column of class indices "
        "0..k-1 (k > 2 needs --model mlp, which then ends with k scores)",
    )
    return {"seed": seed, "load": load, "epochs": epochs, "sample": sample, "model": model}


# Commands that live in modules of their own. Each module's add_command(command) adds its
# subparser with build_parser's `command`; a new command is one more name here.
EXTENSIONS = ("nn.stepper", "nn.playground", "nn.compiled")


def build_parser() -> argparse.ArgumentParser:
    """The `valuegrad` argument parser: demo, train, check and draw, then the EXTENSIONS."""
    parser = _Parser(
        prog=PROG,
        formatter_class=_HelpFormatter,
        description="valuegrad: the perceptron lesson end to end, on a small autograd engine.\n"
        "Without a subcommand, runs the demo.",
        epilog="examples:\n"
        "  valuegrad                      the demo, writing into ./valuegrad-out\n"
        "  valuegrad train --model mlp --hidden 16,16 --data moons --save mlp.npz\n"
        "  valuegrad check --model mlp --hidden 16,16 --data moons --load mlp.npz\n"
        "  valuegrad draw --x1 2 --x2 1 --y 1 --out graph.svg\n\n"
        "Run `valuegrad COMMAND --help` for each command's options.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    shared = shared_options()

    def command(
        name: str, run: Callable[[argparse.Namespace], int], *parents: str, **kw: Any
    ) -> Any:
        """A subcommand `name` that runs `run`, takes the shared options named, and `kw`."""
        p = sub.add_parser(
            name, formatter_class=_HelpFormatter, parents=[shared[k] for k in parents], **kw
        )
        p.set_defaults(run=run)
        return p

    demo_p = command(
        "demo",
        run_demo,
        "seed",
        "epochs",
        help="the lesson end to end (the default)",
        description="Train one perceptron and the red/green/purple network on the alien sentiment "
        "data,\nprint their accuracies and, for one sample, the nine derivatives of the log loss "
        "by\nthe closed form, by autograd and numerically; then write the network's graph (SVG)\n"
        "and the decision boundaries and loss curves (PNG, when matplotlib is installed).",
    )
    demo_p.add_argument(
        "--out", default="valuegrad-out", metavar="DIR", help="directory for the pictures"
    )

    train = command(
        "train",
        run_train,
        "model",
        "epochs",
        help="train a model on a data set",
        description="Train a model by gradient descent on the log loss and print the loss and "
        "accuracy\nas it goes: a progress bar on a terminal, else a line every --print-every "
        "epochs.",
    )
    train.add_argument(
        "--lr",
        type=checks.positive_float,
        default=None,
        metavar="RATE",
        help="learning rate (default: 0.1 for adam, 0.5 for sgd)",
    )
    train.add_argument(
        "--optimizer", choices=("adam", "sgd"), default="adam", help="the update rule"
    )
    train.add_argument(
        "--batch-size",
        type=checks.int_at_least(1),
        default=None,
        metavar="N",
        help="rows per step (default: all of them)",
    )
    train.add_argument(
        "--print-every",
        type=checks.int_at_least(1),
        default=None,
        metavar="N",
        help="without a terminal, print every N-th epoch (default: a tenth of the epochs)",
    )
    train.add_argument("--save", metavar="FILE.npz", help="write the trained weights here")
    train.add_argument(
        "--plot",
        metavar="FILE.png",
        help="write the decision boundaries over the data here (two features; needs matplotlib)",
    )

    check = command(
        "check",
        run_check,
        "model",
        help="check a model's gradients numerically",
        description="Compare the autograd gradients of the model's log loss on the data with "
        "central\ndifferences in float64, one row per parameter. Exit code 1 if any is wrong.",
    )
    check.add_argument(
        "--directions",
        type=checks.int_at_least(1),
        default=None,
        metavar="K",
        help="check K random directions instead of every entry (faster for big models)",
    )

    drawp = command(
        "draw",
        run_draw,
        "sample",
        "seed",
        "load",
        help="draw the lesson network's graph for one sample",
        description="Draw the red/green/purple network's graph for one sample after the backward "
        "pass\nof its log loss, so every node shows its value and its gradient. svg, png and pdf "
        "need\ngraphviz's `dot` program; dot (the DOT source) never does.",
    )
    drawp.add_argument(
        "--out",
        metavar="FILE",
        help="where to write the drawing (default: network.svg, or network.FORMAT with --format)",
    )
    drawp.add_argument(
        "--format",
        choices=GRAPH_FORMATS,
        default=None,
        help="output format (default: from --out's suffix)",
    )
    for module in EXTENSIONS:
        importlib.import_module(module).add_command(command)
    for subparser in sub.choices.values():
        subparser.set_defaults(parser=subparser)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("valuegrad")
    except PackageNotFoundError:
        return "(not installed)"


def _one_line(e: BaseException) -> str:
    if isinstance(e, FileNotFoundError) and e.filename is not None:
        return f"{e.filename}: no such file"  # the same words for every missing file
    if isinstance(e, OSError) and e.filename is not None and e.strerror:
        return f"{e.filename}: {e.strerror}"
    text = " ".join(str(e).split()) or type(e).__name__
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `valuegrad` command; returns the exit code (0 ok, 1 wrong gradients, 2 bad input)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (
        args_list[0].startswith("-") and args_list[0] not in ("-h", "--help", "--version")
    ):
        args_list.insert(0, "demo")
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    parser = build_parser()
    args, extras = parser.parse_known_args(args_list)
    if extras:  # reported by the command's own parser, which points to its own --help
        getattr(args, "parser", parser).error(f"unrecognized arguments: {' '.join(extras)}")
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`valuegrad demo | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except MemoryError:
        print(
            f"{PROG}: error: out of memory: the model or the data is too large for this machine",
            file=sys.stderr,
        )
        return 2
    except (ValueError, OSError, DotNotFoundError, graphviz.ExecutableNotFound) as e:
        print(f"{PROG}: error: {_one_line(e)}", file=sys.stderr)
        return 2
    return code
