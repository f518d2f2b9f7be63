"""A one-line progress bar for training, drawn only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """`epoch 120/300 [=====>    ] loss 0.2314 accuracy 91.5% 1.2s`, redrawn in place.

    Silent when `enabled` is False or the stream is not a terminal (a file, a pipe, CI).
    Redraws at most every `interval` seconds, and always on the last epoch.
    """

    def __init__(
        self,
        total: int,
        enabled: bool = True,
        stream: TextIO | None = None,
        width: int = 24,
        interval: float = 0.1,
    ) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.total = total
        self.width = width
        self.interval = interval
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(enabled and isatty is not None and isatty())
        self.start = time.perf_counter()
        self.last_draw = -float("inf")
        self.drawn = False

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
        self.stream.write("\r" + line)
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        """End the bar's line, so later output starts on a fresh one."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
