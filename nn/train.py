"""Training a classifier: `fit`, `predict`, `accuracy`, and the `History` fit returns.

A model with one output per sample is a binary classifier (labels 0 or 1); one with k ≥ 2
outputs per sample scores k classes (labels 0..k−1, the prediction is the highest score).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd import Value, no_grad
from nn import checks
from nn.compiled import step_for
from nn.losses import by_name
from nn.module import Module
from nn.optim import SGD, Adam, Optimizer
from nn.progress import progress as make_progress

DEFAULT_EPOCHS = 300
DEFAULT_LR = {"adam": 0.1, "sgd": 0.5}


@dataclass
class History:
    """What `fit` saw: the loss and accuracy on the training set after each epoch."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    interrupted: bool = False  # True when Ctrl-C (KeyboardInterrupt) ended training early

    @property
    def epochs(self) -> int:
        """The number of epochs completed."""
        return len(self.loss)

    def __repr__(self) -> str:
        """One line: the epochs and the final loss and accuracy, not every number."""
        if not self.loss:
            return "History(no epochs)"
        stopped = ", interrupted" if self.interrupted else ""
        return (
            f"History({self.epochs} epoch{'s' if self.epochs != 1 else ''}, final loss "
            f"{self.loss[-1]:.4f}, accuracy {self.accuracy[-1]:.1%}{stopped})"
        )


def fit(
    model: Module,
    X: Any,
    y: Any,
    loss: str | Callable[[Any, Any], Value] | None = None,
    optimizer: str | Optimizer | None = None,
    epochs: int = DEFAULT_EPOCHS,
    lr: float | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
    progress: bool = True,
    callback: Callable[[int, History], Any] | None = None,
    compile: bool = False,
) -> History:
    """Train `model` on rows X with labels y by gradient descent on `loss`; return the History.

    Labels are 0/1 for a model with one output per sample, class indices 0..k−1 for one
    with k outputs. Defaults: full-batch Adam (lr 0.1) for 300 epochs on the log loss, or on
    the cross-entropy for k classes. `optimizer`
    is "adam", "sgd" or an Optimizer you built (then leave `lr` unset); `batch_size`
    splits each epoch into mini-batches shuffled with `seed` (the model's starting
    weights come from the model's own seed). After every
    epoch the loss and accuracy on all of X are recorded and `callback(epoch, history)`
    is called (epochs count from 1). Ctrl-C stops after the current step: the model
    keeps what it learned and the history comes back with `interrupted=True`.
    Bad input raises ValueError before any parameter changes. With `compile=True`
    each step runs as the numpy program `nn.compile_step` writes (same gradients).
    """
    X = checks.rows(X, "fit")
    classes = _check_model(model, X)
    y = checks.labels(y, X, classes, "fit")
    loss_fn, threshold = by_name(_default_loss(classes) if loss is None else loss, "fit")
    if isinstance(loss, str) and (loss == "cross_entropy") != (classes > 1):
        raise ValueError(
            f"fit: loss {loss!r} does not suit a model with {classes} output(s) per sample: "
            "cross_entropy wants one score per class (k ≥ 2), the others one output per sample"
        )
    epochs = checks.whole(epochs, "fit: epochs")
    n = len(y)
    if batch_size is not None:
        batch_size = checks.whole(batch_size, "fit: batch_size (an int or None)")
    step_rows = n if batch_size is None else min(batch_size, n)
    opt = _optimizer(optimizer, model, lr)
    # Only mini-batches are shuffled; from no seed numpy reads the system's entropy (30 µs).
    rng = np.random.default_rng(seed) if step_rows < n or seed is not None else None
    step = step_for(model, loss_fn) if compile else None
    # A compiled full-batch step run after an epoch's update gives that epoch's loss and
    # the model's outputs, and the next epoch's gradients with them: no second forward pass.
    # (With a callback, which may change the model between epochs, fit evaluates as usual.)
    ahead = step is not None and step_rows == n and callback is None
    if ahead:  # the program reads X by columns (each a row of X.T): stored so, they are read
        X = np.asfortranarray(X)  # in place instead of copied on every call (10% at 10⁴ rows)
    gradients: tuple[Any, ...] | None = None  # the next step's, computed at these parameters
    positive = y == 1.0 if ahead and classes == 1 else y  # what _accuracy reads, made once

    history = History()
    bar = make_progress(epochs, enabled=progress)
    with _ctrl_c_between_steps() as stop:
        try:
            for epoch in range(1, epochs + 1):
                order = rng.permutation(n) if rng is not None and step_rows < n else None
                completed = True
                for start in range(0, n, step_rows):
                    rows = slice(None) if order is None else order[start : start + step_rows]
                    opt.zero_grad()
                    if step is None:
                        loss_fn(model(X[rows]), y[rows]).backward()
                    elif gradients is not None:
                        step.accumulate(gradients)
                        gradients = None
                    else:
                        step.run(X[rows], y[rows])  # X and y were checked above
                    opt.step()
                    if stop.requested and start + step_rows < n:
                        completed = False  # Ctrl-C inside an epoch: that epoch is not recorded
                        break
                if completed:
                    if ahead and step is not None and epoch < epochs:
                        value, gradients, out = step.compute(X, y)
                        acc = _accuracy(out, positive, threshold)
                    elif ahead and step is not None:  # the last epoch: no gradients wanted
                        value, out = step.evaluate(X, y)
                        acc = _accuracy(out, positive, threshold)
                    else:
                        value, acc = _evaluate(model, X, y, loss_fn, threshold)
                    history.loss.append(value)
                    history.accuracy.append(acc)
                    bar.update(epoch, value, acc)
                    if callback is not None:
                        callback(epoch, history)
                if stop.requested:
                    history.interrupted = True
                    break
        except KeyboardInterrupt:
            history.interrupted = True
        finally:
            bar.close()
    return history


def predict(model: Module, X: Any, threshold: float = 0.5) -> Any:
    """The predicted labels: an array for a batch, a float for a sample.

    With one output per sample: 1.0 where it is ≥ threshold, else 0.0. With k outputs per
    sample: the index of the highest one, 0.0 to k − 1 (the first at a tie).
    """
    data = checks.finite(X, "predict")
    with no_grad():
        out = model(data)
    return _classes(out.data, np.ndim(data), threshold)


def _classes(out: Any, input_ndim: int, threshold: float) -> Any:
    """Labels from outputs: argmax over the class axis when there is one, else out ≥ threshold."""
    out = np.asarray(out)
    labels = np.argmax(out, axis=-1) if out.ndim == input_ndim else out >= threshold
    return labels.astype(np.float64) if labels.ndim else float(labels)


def accuracy(model: Module, X: Any, y: Any, threshold: float = 0.5) -> float:
    """The fraction of samples whose predicted label equals y (0/1, or 0..k−1 for k classes)."""
    X = checks.rows(X, "accuracy")
    with no_grad():
        out = model(X)
    classes = out.shape[-1] if out.ndim == 2 else 1
    y = checks.labels(y, X, classes, "accuracy")
    return float(np.mean(_classes(out.data, 2, threshold) == y))


def _default_loss(classes: int) -> str:
    """The log loss for one output per sample, the cross-entropy for one score per class."""
    return "log_loss" if classes == 1 else "cross_entropy"


def _check_model(model: Module, X: np.ndarray) -> int:
    """Run the model on one row, without a graph: the number of outputs per row (1, or k ≥ 2)."""
    if not isinstance(model, Module):
        raise TypeError(f"fit: model must be an nn.Module, got {type(model).__name__}")
    with no_grad():
        out = model(X[:1])
    if isinstance(out, Value) and out.shape == (1,):
        return 1
    if isinstance(out, Value) and len(out.shape) == 2 and out.shape[0] == 1 and out.shape[1] >= 2:
        return out.shape[1]
    shape = out.shape if isinstance(out, Value) else type(out).__name__
    raise ValueError(
        f"fit: the model must give one output per sample, shape (rows,), or one score per class, "
        f"shape (rows, k); got {shape} for a row"
    )


def _optimizer(optimizer: str | Optimizer | None, model: Module, lr: float | None) -> Optimizer:
    if isinstance(optimizer, Optimizer):
        if lr is not None:
            raise ValueError("fit: lr is set on the optimizer you passed; leave fit's lr unset")
        own = {id(p) for p in model.parameters()}
        if not any(id(p) in own for p in optimizer.params):
            raise ValueError(
                f"fit: the optimizer holds none of the {type(model).__name__}'s parameters, so "
                "training would change nothing; build it with model.parameters()"
            )
        return optimizer
    name = "adam" if optimizer is None else optimizer
    if name not in DEFAULT_LR:
        raise ValueError(f"fit: optimizer must be 'adam', 'sgd' or an Optimizer, got {optimizer!r}")
    rate = DEFAULT_LR[name] if lr is None else lr
    params = model.parameters()
    return Adam(params, lr=rate) if name == "adam" else SGD(params, lr=rate)


def _accuracy(out: np.ndarray, y: np.ndarray, threshold: float) -> float:
    """The fraction of rows whose predicted label is y, from the model's outputs' numbers.

    With one output per row, y is the mask of the rows labelled 1: out ≥ threshold there
    and only there, the same number as _classes' mean in two passes fewer (15 µs against
    5 on 10⁴ rows, numpy 2).
    """
    if out.ndim == 1:
        return np.count_nonzero((out >= threshold) == y) / len(y)
    return float(np.mean(_classes(out, 2, threshold) == y))


def _evaluate(
    model: Module,
    X: np.ndarray,
    y: np.ndarray,
    loss_fn: Callable[[Any, Any], Value],
    threshold: float,
) -> tuple[float, float]:
    """(loss, accuracy) of the model on all of X, computed without recording a graph."""
    with no_grad():
        out = model(X)
        value = loss_fn(out, y).item()
    acc = float(np.mean(_classes(out.data, 2, threshold) == y))
    return value, acc


class _StopFlag:
    requested = False


@contextmanager
def _ctrl_c_between_steps() -> Iterator[_StopFlag]:
    """While training, a first Ctrl-C asks to stop after the current step; a second stops at once.

    So an interrupt never lands in the middle of an optimizer step. Where Python's
    own handler is not in charge (a thread, a custom handler) Ctrl-C stays as it is.
    """
    flag = _StopFlag()
    in_main = threading.current_thread() is threading.main_thread()
    if not in_main or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield flag
        return

    def ask_to_stop(signum: int, frame: Any) -> None:
        if flag.requested:
            raise KeyboardInterrupt
        flag.requested = True

    signal.signal(signal.SIGINT, ask_to_stop)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
