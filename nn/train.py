"""Training a binary classifier: `fit`, `predict`, `accuracy`, and the `History` fit returns."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd import Value, no_grad
from autograd.value import as_data
from nn.checks import whole
from nn.compiled import step_for
from nn.losses import check_labels, hinge, log_loss, log_loss_with_logits, mse
from nn.module import Module
from nn.optim import SGD, Adam, Optimizer
from nn.progress import ProgressBar

# name → (loss, the output at which predictions switch from 0 to 1)
LOSSES: dict[str, tuple[Callable[[Any, Any], Value], float]] = {
    "log_loss": (log_loss, 0.5),
    "log_loss_with_logits": (log_loss_with_logits, 0.0),
    "mse": (mse, 0.5),
    "hinge": (hinge, 0.0),
}
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


def fit(
    model: Module,
    X: Any,
    y: Any,
    loss: str | Callable[[Any, Any], Value] = "log_loss",
    optimizer: str | Optimizer | None = None,
    epochs: int = DEFAULT_EPOCHS,
    lr: float | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
    progress: bool = True,
    callback: Callable[[int, History], Any] | None = None,
    compile: bool = False,
) -> History:
    """Train `model` on rows X with 0/1 labels y by gradient descent on `loss`; return the History.

    Defaults: full-batch Adam (lr 0.1) for 300 epochs on the log loss. `optimizer`
    is "adam", "sgd" or an Optimizer you built (then leave `lr` unset); `batch_size`
    splits each epoch into mini-batches shuffled with `seed` (the model's starting
    weights come from the model's own seed). After every
    epoch the loss and accuracy on all of X are recorded and `callback(epoch, history)`
    is called (epochs count from 1). Ctrl-C stops after the current step: the model
    keeps what it learned and the history comes back with `interrupted=True`.
    Bad input raises ValueError before any parameter changes. With `compile=True`
    each step runs as the numpy program `nn.compile_step` writes (same gradients).
    """
    X, y = _check_data(X, y, "fit")
    loss_fn, threshold = _loss(loss)
    _check_model(model, X)
    epochs = whole(epochs, "fit: epochs")
    n = len(y)
    if batch_size is not None:
        batch_size = whole(batch_size, "fit: batch_size (an int or None)")
    step_rows = n if batch_size is None else min(batch_size, n)
    opt = _optimizer(optimizer, model, lr)
    rng = np.random.default_rng(seed)
    step = step_for(model, loss_fn) if compile else None

    history = History()
    bar = ProgressBar(epochs, enabled=progress)
    with _ctrl_c_between_steps() as stop:
        try:
            for epoch in range(1, epochs + 1):
                order = rng.permutation(n) if step_rows < n else None
                completed = True
                for start in range(0, n, step_rows):
                    rows = slice(None) if order is None else order[start : start + step_rows]
                    opt.zero_grad()
                    if step is None:
                        loss_fn(model(X[rows]), y[rows]).backward()
                    else:
                        step.run(X[rows], y[rows])  # X and y were checked above
                    opt.step()
                    if stop.requested and start + step_rows < n:
                        completed = False  # Ctrl-C inside an epoch: that epoch is not recorded
                        break
                if completed:
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
    """1.0 where the output is ≥ threshold, else 0.0: an array for a batch, a float for a sample."""
    data = _finite(X, "predict")
    with no_grad():
        out = model(data)
    labels = np.asarray(out.data) >= threshold
    return labels.astype(np.float64) if labels.ndim else float(labels)


def accuracy(model: Module, X: Any, y: Any, threshold: float = 0.5) -> float:
    """The fraction of samples whose prediction equals the 0/1 label."""
    X, y = _check_data(X, y, "accuracy")
    return float(np.mean(predict(model, X, threshold) == y))


def _finite(X: Any, who: str) -> Any:
    try:
        data = as_data(X)
    except TypeError as e:
        raise ValueError(f"{who}: {e}") from None
    if not np.isfinite(data).all():  # the method: np.all's Python wrapper costs 1 µs a call
        raise ValueError(f"{who}: the inputs contain NaN or infinity")
    return data


def _check_data(X: Any, y: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
    """X as a finite 2-D float array (rows are samples) and y as 0/1 labels, one per row."""
    data = _finite(X, who)
    if not isinstance(data, np.ndarray) or data.ndim != 2:
        raise ValueError(
            f"{who}: X must be a 2-D array with one sample per row, got shape {np.shape(data)}"
        )
    if len(data) == 0:
        raise ValueError(f"{who}: X has no samples")
    labels = check_labels(y, (len(data),), who, binary=True)
    return data, np.asarray(labels, dtype=data.dtype)


def _loss(loss: str | Callable[[Any, Any], Value]) -> tuple[Callable[[Any, Any], Value], float]:
    if isinstance(loss, str):
        try:
            return LOSSES[loss]
        except KeyError:
            known = ", ".join(repr(k) for k in LOSSES)
            raise ValueError(
                f"fit: unknown loss {loss!r}; use one of {known} or a callable"
            ) from None
    if callable(loss):
        return loss, 0.5
    raise TypeError(f"fit: loss must be a name or a callable, got {type(loss).__name__}")


def _check_model(model: Module, X: np.ndarray) -> None:
    """Run the model on one row, without a graph: it must accept X and give one output per row."""
    if not isinstance(model, Module):
        raise TypeError(f"fit: model must be an nn.Module, got {type(model).__name__}")
    with no_grad():
        out = model(X[:1])
    if not isinstance(out, Value) or out.shape != (1,):
        shape = out.shape if isinstance(out, Value) else type(out).__name__
        raise ValueError(
            f"fit: the model must give one output per sample, shape (rows,); got {shape} for a row"
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
    acc = float(np.mean((out.data >= threshold) == y))
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
