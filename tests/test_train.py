"""nn.train: fit on the lesson's data, the history, progress bar, Ctrl-C, predict and accuracy."""

from __future__ import annotations

import io
import os
import signal
import sys
from typing import Any

import numpy as np
import pytest

import nn
from autograd import Value
from nn import datasets
from nn.progress import ProgressBar


def _state(model: nn.Module) -> dict[str, bytes]:
    return {n: np.array(p.data).tobytes() for n, p in model.named_parameters()}


def test_acceptance_the_lesson_network_learns_what_one_perceptron_cannot() -> None:
    """With fit's defaults, for at least 4 of the seeds 0–4 on alien_sentiment(n=400, seed=s):
    Perceptron(2, seed=s) stays below 80% and TwoLayerNetwork(seed=s) reaches at least 97%."""
    perceptron_low, network_high = 0, 0
    for s in range(5):
        X, y = datasets.alien_sentiment(n=400, seed=s)
        h1 = nn.fit(nn.Perceptron(2, seed=s), X, y, progress=False)
        net = nn.TwoLayerNetwork(seed=s)
        h2 = nn.fit(net, X, y, progress=False)
        perceptron_low += h1.accuracy[-1] < 0.80
        network_high += h2.accuracy[-1] >= 0.97
        assert h2.accuracy[-1] == nn.accuracy(net, X, y)
    assert perceptron_low >= 4
    assert network_high >= 4


def test_the_history_has_a_loss_and_an_accuracy_per_epoch() -> None:
    X, y = datasets.blobs(n=60, seed=0)
    net = nn.Perceptron(2, seed=0)
    h = nn.fit(net, X, y, epochs=25, progress=False)
    assert h.epochs == len(h.loss) == len(h.accuracy) == 25 and not h.interrupted
    assert h.loss[-1] < h.loss[0]
    assert h.loss[-1] == pytest.approx(nn.log_loss(net(X), y).item(), rel=1e-12)
    assert h.accuracy[-1] == nn.accuracy(net, X, y) == 1.0


def test_fit_is_reproducible_and_mini_batches_follow_the_seed() -> None:
    X, y = datasets.moons(n=50, seed=1)

    def run(seed: int | None, batch_size: int | None) -> dict[str, bytes]:
        net = nn.MLP(2, [5, 1], seed=0)
        nn.fit(net, X, y, epochs=5, batch_size=batch_size, seed=seed, progress=False)
        return _state(net)

    assert run(None, None) == run(3, None)
    assert run(3, 8) == run(3, 8)
    assert run(3, 8) != run(4, 8)
    assert run(3, 50) == run(None, None)  # a batch of everything is the full batch


def test_optimizer_and_loss_can_be_chosen() -> None:
    X, y = datasets.blobs(n=40, seed=2)
    net = nn.MLP(2, [3, 1], output_activation="identity", seed=0)
    opt = nn.SGD(net.parameters(), lr=0.1, momentum=0.9)
    h = nn.fit(net, X, y, loss="hinge", optimizer=opt, epochs=30, progress=False)
    assert h.accuracy[-1] == nn.accuracy(net, X, y, threshold=0.0) == 1.0
    logits = nn.MLP(2, [3, 1], output_activation="identity", seed=0)
    nn.fit(logits, X, y, loss="log_loss_with_logits", optimizer="sgd", epochs=30, progress=False)
    assert nn.accuracy(logits, X, y, threshold=0.0) == 1.0
    with pytest.raises(ValueError, match="lr is set on the optimizer"):
        nn.fit(net, X, y, optimizer=opt, lr=0.5, progress=False)


def test_ctrl_c_in_a_callback_stops_and_keeps_what_was_learnt() -> None:
    X, y = datasets.xor(n=80, seed=0)

    def stop_at(k: int) -> Any:
        def callback(epoch: int, history: nn.History) -> None:
            if epoch == k:
                raise KeyboardInterrupt

        return callback

    net = nn.TwoLayerNetwork(seed=0)
    h = nn.fit(net, X, y, epochs=100, callback=stop_at(7), progress=False)
    assert h.interrupted and h.epochs == 7
    same = nn.TwoLayerNetwork(seed=0)
    nn.fit(same, X, y, epochs=7, progress=False)
    assert _state(net) == _state(same)  # exactly 7 epochs of training were kept


def test_a_real_ctrl_c_waits_for_the_step_it_interrupts_to_finish() -> None:
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is not handled by Python's default handler here")
    X, y = datasets.xor(n=80, seed=0)

    class CtrlCInStep(nn.SGD):
        """SGD that gets a SIGINT in the middle of its third step, after the first parameter."""

        steps = 0

        def step(self) -> None:
            self.steps += 1
            super().step()

        def _update(self, i: int, p: Any, g: Any) -> None:
            super()._update(i, p, g)
            if self.steps == 3 and i == 0:
                os.kill(os.getpid(), signal.SIGINT)

    net = nn.TwoLayerNetwork(seed=0)
    h = nn.fit(
        net, X, y, optimizer=CtrlCInStep(net.parameters(), lr=0.5), epochs=100, progress=False
    )
    assert h.interrupted and h.epochs == 3
    same = nn.TwoLayerNetwork(seed=0)
    nn.fit(same, X, y, optimizer="sgd", lr=0.5, epochs=3, progress=False)
    assert _state(net) == _state(same)  # the third step was finished for all nine parameters
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # and Ctrl-C restored


def test_the_progress_bar_shows_on_a_terminal_only(monkeypatch: Any) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    X, y = datasets.blobs(n=30, seed=0)
    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    nn.fit(nn.Perceptron(2, seed=0), X, y, epochs=4, progress=True)
    text = screen.getvalue()
    assert "epoch 4/4" in text and "loss " in text and "accuracy " in text
    assert text.startswith("\r") and text.endswith("\n")

    for progress, stream in ((False, Terminal()), (True, io.StringIO())):
        monkeypatch.setattr("sys.stderr", stream)
        nn.fit(nn.Perceptron(2, seed=0), X, y, epochs=4, progress=progress)
        assert stream.getvalue() == ""


def test_the_progress_bar_draws_at_most_every_interval() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    bar = ProgressBar(1000, stream=screen, width=24, interval=3600.0)
    for epoch in range(1, 1001):
        bar.update(epoch, 0.5, 0.75)
    bar.close()
    assert screen.getvalue().count("\r") == 2  # the first epoch and the last
    assert "epoch 1000/1000 [========================]" in screen.getvalue()


def test_predict_and_accuracy() -> None:
    p = nn.Perceptron(1, seed=0)
    p.w1.data, p.b.data = 1.0, 0.0
    X = np.array([[-2.0], [0.0], [3.0]])
    assert nn.predict(p, X).tolist() == [0.0, 1.0, 1.0]  # σ(0) = 0.5 counts as 1
    assert nn.predict(p, [3.0]) == 1.0
    assert nn.predict(p, X, threshold=0.9).tolist() == [0.0, 0.0, 1.0]
    assert nn.accuracy(p, X, [0.0, 0.0, 1.0]) == pytest.approx(2 / 3)


BAD_INPUTS = [
    (np.zeros((4, 3)), [0.0, 1.0, 0.0, 1.0], {}, "expects 2 features"),
    (np.zeros((4, 2)), [0.0, 1.0, 0.0], {}, "labels have shape"),
    (np.zeros((4, 2)), [0.0, 1.0, 0.5, 1.0], {}, "0 or 1"),
    (np.zeros((4, 2)), [0.0, 1.0, 2.0, 1.0], {}, r"\[0, 1\]"),
    (np.zeros((4, 2)), [0.0, 1.0, np.nan, 1.0], {}, "NaN"),
    (np.full((4, 2), np.nan), [0.0, 1.0, 0.0, 1.0], {}, "NaN or infinity"),
    (np.zeros(4), [0.0, 1.0, 0.0, 1.0], {}, "2-D"),
    (np.zeros((0, 2)), [], {}, "no samples"),
    (np.zeros((4, 2)), [0.0, 1.0, 0.0, 1.0], {"loss": "nll"}, "unknown loss"),
    (np.zeros((4, 2)), [0.0, 1.0, 0.0, 1.0], {"loss": "cross_entropy"}, "one score per class"),
    (np.zeros((4, 2)), [0.0, 1.0, 0.0, 1.0], {"epochs": 0}, "epochs"),
    (np.zeros((4, 2)), [0.0, 1.0, 0.0, 1.0], {"batch_size": 0}, "batch_size"),
    (np.zeros((4, 2)), [0.0, 1.0, 0.0, 1.0], {"lr": -1.0}, "lr"),
    (np.zeros((4, 2)), [0.0, 1.0, 0.0, 1.0], {"optimizer": "rmsprop"}, "optimizer"),
]


@pytest.mark.parametrize(("X", "y", "options", "message"), BAD_INPUTS)
def test_bad_input_raises_before_any_parameter_changes(
    X: Any, y: Any, options: dict[str, Any], message: str
) -> None:
    net = nn.TwoLayerNetwork(seed=0)
    before = _state(net)
    with pytest.raises(ValueError, match=message):
        nn.fit(net, X, y, progress=False, **options)
    assert _state(net) == before


def test_fit_refuses_an_optimizer_that_holds_none_of_the_models_parameters() -> None:
    net, other = nn.TwoLayerNetwork(seed=0), nn.TwoLayerNetwork(seed=1)
    X, y = np.array([[1.0, 2.0], [2.0, 1.0]]), np.array([0.0, 1.0])
    before, before_other = _state(net), _state(other)
    with pytest.raises(ValueError, match="none of the TwoLayerNetwork's parameters"):
        nn.fit(net, X, y, optimizer=nn.SGD(other.parameters(), lr=0.1), progress=False)
    assert _state(net) == before and _state(other) == before_other
    # Some of them is enough: freezing part of a model is a choice, not a mistake.
    history = nn.fit(net, X, y, optimizer=nn.SGD([net.b], lr=0.1), epochs=2, progress=False)
    after = _state(net)
    assert history.epochs == 2 and after["b"] != before["b"]
    assert {k: v for k, v in after.items() if k != "b"} == {
        k: v for k, v in before.items() if k != "b"
    }


def test_a_model_with_several_outputs_scores_as_many_classes() -> None:
    with pytest.raises(ValueError, match=r"class indices 0 to 2 for 3 classes, got 3\.0"):
        nn.fit(nn.Dense(2, 3), np.zeros((4, 2)), [0.0, 1.0, 3.0, 1.0], progress=False)

    class Total(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = Value(1.0)

        def forward(self, x: Any) -> Value:
            return (self.w * x).sum()

    with pytest.raises(ValueError, match="one output per sample"):
        nn.fit(Total(), np.zeros((4, 2)), [0.0, 1.0, 0.0, 1.0], progress=False)


def test_predict_refuses_nan_and_accuracy_checks_labels() -> None:
    p = nn.Perceptron(2, seed=0)
    with pytest.raises(ValueError, match="NaN"):
        nn.predict(p, [np.nan, 1.0])
    with pytest.raises(ValueError, match="0 or 1"):
        nn.accuracy(p, np.zeros((2, 2)), [0.0, 0.3])


def test_ctrl_c_inside_an_epoch_of_mini_batches_keeps_the_steps_but_not_the_epoch() -> None:
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is not handled by Python's default handler here")
    X, y = datasets.xor(n=80, seed=0)

    class CtrlCOnStep(nn.SGD):
        steps = 0

        def step(self) -> None:
            super().step()
            self.steps += 1
            if self.steps == 10:  # the second of four mini-batches in epoch 3
                os.kill(os.getpid(), signal.SIGINT)

    net = nn.TwoLayerNetwork(seed=0)
    opt = CtrlCOnStep(net.parameters(), lr=0.5)
    h = nn.fit(net, X, y, optimizer=opt, batch_size=20, seed=1, epochs=100, progress=False)
    assert h.interrupted and h.epochs == 2 and opt.steps == 10


def test_fit_predict_and_accuracy_for_three_classes() -> None:
    X, y = datasets.spirals(240, seed=1)
    model = nn.MLP(2, [16, 16, 3], output_activation="identity", seed=0)
    history = nn.fit(model, X, y, epochs=200, progress=False)  # the cross-entropy by default
    assert history.accuracy[-1] >= 0.95
    assert history.loss[-1] < history.loss[0]
    labels = nn.predict(model, X)
    assert labels.shape == (240,) and set(np.unique(labels)) <= {0.0, 1.0, 2.0}
    assert nn.accuracy(model, X, y) == pytest.approx(history.accuracy[-1])
    one = nn.predict(model, X[0])
    assert isinstance(one, float) and one == labels[0]


def test_a_softmax_mlp_trains_on_the_cross_entropy_and_predicts_the_likeliest_class() -> None:
    X, y = datasets.spirals(150, seed=2)
    model = nn.MLP(2, [16, 3], activation="tanh", output_activation="softmax", seed=0)
    before = nn.accuracy(model, X, y)
    nn.fit(model, X, y, epochs=150, progress=False)
    p = model(X).data
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    assert nn.accuracy(model, X, y) > max(before, 0.8)


def test_fit_refuses_a_binary_loss_for_three_classes_before_changing_anything() -> None:
    X, y = datasets.spirals(30, seed=0)
    model = nn.MLP(2, [4, 3], seed=0)
    before = model.state_dict()
    with pytest.raises(ValueError, match="'log_loss' does not suit a model with 3 output"):
        nn.fit(model, X, y, loss="log_loss", progress=False)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


# ---------------------------------------------------------------------------
# Progress in a notebook, and a bar that fits the terminal.
# ---------------------------------------------------------------------------


def test_in_a_notebook_fit_uses_tqdm_auto_when_it_is_installed(monkeypatch: Any) -> None:
    calls: list[Any] = []

    class FakeTqdm:
        def __init__(self, **kwargs: Any) -> None:
            calls.append(("new", kwargs["total"]))

        def set_postfix(self, **kwargs: Any) -> None:
            calls.append(("postfix", kwargs["loss"], kwargs["accuracy"]))

        def update(self, n: int) -> None:
            calls.append(("update", n))

        def close(self) -> None:
            calls.append(("close",))

    fake = type(sys)("tqdm.auto")
    fake.tqdm = FakeTqdm  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tqdm.auto", fake)
    monkeypatch.setattr("nn.progress.in_notebook", lambda: True)
    X, y = datasets.blobs(n=30, seed=0)
    history = nn.fit(nn.Perceptron(2, seed=0), X, y, epochs=5)
    assert calls[0] == ("new", 5) and calls[-1] == ("close",)
    assert [c for c in calls if c[0] == "update"] == [("update", 1)] * 5
    assert ("postfix", f"{history.loss[-1]:.4f}", f"{history.accuracy[-1]:.1%}") in calls


def test_in_a_notebook_without_tqdm_fit_prints_a_line_every_tenth(
    monkeypatch: Any, capsys: Any
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import fails, as without tqdm
    monkeypatch.setattr("nn.progress.in_notebook", lambda: True)
    X, y = datasets.blobs(n=30, seed=0)
    nn.fit(nn.Perceptron(2, seed=0), X, y, epochs=30)
    lines = capsys.readouterr().out.splitlines()
    epochs = [int(line.split()[1].split("/")[0]) for line in lines]
    assert epochs == [1, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30]
    assert lines[-1].startswith("epoch 30/30  loss ") and "accuracy " in lines[-1]


def test_a_notebook_is_told_from_a_plain_interpreter(monkeypatch: Any) -> None:
    from nn.progress import in_notebook

    class Shell:
        kernel = object()

    ipython = type(sys)("IPython")
    ipython.get_ipython = lambda: Shell()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    assert in_notebook()
    ipython.get_ipython = lambda: None  # type: ignore[attr-defined]
    assert not in_notebook()


@pytest.mark.parametrize("columns", [50, 80, 200])
def test_the_terminal_bar_fits_the_terminals_width(monkeypatch: Any, columns: int) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(
        "shutil.get_terminal_size", lambda fallback=None: os.terminal_size((columns, 24))
    )
    screen = Terminal()
    bar = ProgressBar(300, stream=screen, interval=0.0)
    for epoch in range(1, 301):
        bar.update(epoch, 0.123456, 1.0)
    bar.close()
    lines = [part for part in screen.getvalue().replace("\n", "").split("\r") if part]
    assert max(len(line) for line in lines) < columns
    assert len(lines[-1]) >= min(
        columns - 12, 85
    )  # and uses the room it has (up to 40 for the bar)


def test_a_history_shows_in_one_line() -> None:
    X, y = datasets.blobs(n=30, seed=0)
    h = nn.fit(nn.Perceptron(2, seed=0), X, y, epochs=300, progress=False)
    text = repr(h)
    assert "\n" not in text and len(text) < 100
    assert (
        text == f"History(300 epochs, final loss {h.loss[-1]:.4f}, accuracy {h.accuracy[-1]:.1%})"
    )
    assert repr(nn.History()) == "History(no epochs)"
    h.interrupted = True
    assert repr(h).endswith(", interrupted)")
