"""Training progress: a one-line bar on a terminal, tqdm or a line per tenth in a notebook.

`progress(total, enabled)` picks what to show: in a Jupyter notebook tqdm.auto's bar when tqdm
is installed (the `notebooks` extra has it), else a printed line every tenth of the epochs; on
a terminal a bar as wide as the terminal; nothing on a pipe, a file or CI.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import Any, Protocol, TextIO


class Progress(Protocol):
    """What fit calls: update after each epoch, close at the end."""

    def update(self, done: int, loss: float, accuracy: float) -> None: ...

    def close(self) -> None: ...


def in_notebook() -> bool:
    """True inside a Jupyter kernel (an IPython shell with a kernel): stderr is no terminal."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython is not None else None
    return shell is not None and hasattr(shell, "kernel")


def progress(total: int, enabled: bool = True) -> Progress:
    """The progress display that suits where the code runs (see the module's docstring)."""
    if enabled and in_notebook():
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return EveryTenth(total)
        return TqdmProgress(tqdm, total)
    return ProgressBar(total, enabled=enabled)


class TqdmProgress:
    """tqdm's bar (a widget in Jupyter), with the loss and accuracy after it."""

    def __init__(self, tqdm: Any, total: int) -> None:
        self.bar = tqdm(total=total, unit="epoch", leave=True)
        self.done = 0

    def update(self, done: int, loss: float, accuracy: float) -> None:
        """Advance to epoch `done` and show the latest loss and accuracy."""
        self.bar.set_postfix(loss=f"{loss:.4f}", accuracy=f"{accuracy:.1%}", refresh=False)
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        """Finish the bar."""
        self.bar.close()


class EveryTenth:
    """`epoch 30/300  loss 0.4213  accuracy 81.0%`, at the first and last epoch and each tenth."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.every = max(1, total // 10)
        self.stream = stream

    def update(self, done: int, loss: float, accuracy: float) -> None:
        """Print a line when `done` is the first or the last epoch or a multiple of a tenth."""
        if done == 1 or done == self.total or done % self.every == 0:
            digits = len(str(self.total))
            line = f"epoch {done:>{digits}}/{self.total}  loss {loss:.4f}  accuracy {accuracy:.1%}"
            print(line, file=self.stream or sys.stdout, flush=True)

    def close(self) -> None:
        """Nothing to end: each line is complete."""


class ProgressBar:
    """`epoch 120/300 [=====>    ] loss 0.2314 accuracy 91.5% 1.2s`, redrawn in place.

    Silent when `enabled` is False or the stream is not a terminal (a file, a pipe, CI).
    Redraws at most every `interval` seconds, and always on the last epoch. The bar is
    `width` characters wide, or by default as wide as fits the terminal (up to 40; on a
    terminal too narrow for the numbers, the line is cut at its edge).
    """

    def __init__(
        self,
        total: int,
        enabled: bool = True,
        stream: TextIO | None = None,
        width: int | None = None,
        interval: float = 0.1,
    ) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.total = total
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(enabled and isatty is not None and isatty())
        # With no width given, the line is kept to the terminal's columns (cut if it must be);
        # a silent bar does not ask for them.
        known = width is None and self.enabled
        self.columns = shutil.get_terminal_size((80, 24)).columns if known else None
        self.width = self._fitting_width() if width is None else width
        self.interval = interval
        self.start = time.perf_counter()
        self.last_draw = -float("inf")
        self.drawn = False

    def _fitting_width(self) -> int:
        """The bar's width that keeps the whole line within the terminal's columns."""
        # Everything but the bar: "epoch N/N [" "] loss 0.0000 accuracy 100.0% 9999.9s", and
        # one column spare so that the terminal never wraps the line.
        rest = len(f"epoch {self.total}/{self.total} [] loss 0.0000 accuracy 100.0% 9999.9s") + 1
        return max(0, min(40, (self.columns or 80) - rest))

    def update(self, done: int, loss: float, accuracy: float) -> None:
        """Show that `done` of `total` epochs are finished, with the latest loss and accuracy."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.last_draw < self.interval and done < self.total:
            return
        self.last_draw = now
        filled = self.width * done // max(self.total, 1)
        bar = "=" * filled + (">" if filled < self.width else "") + " " * (self.width - filled - 1)
        digits = len(str(self.total))
        line = (
            f"epoch {done:>{digits}}/{self.total} [{bar[: self.width]}] "
            f"loss {loss:.4f} accuracy {accuracy:.1%} {now - self.start:.1f}s"
        )
        if self.columns is not None:
            line = line[: self.columns - 1]
        self.stream.write("\r" + line)
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        """End the bar's line, so later output starts on a fresh one."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
