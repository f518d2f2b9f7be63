"""HIPS autograd and JAX in their own interpreter, whose `autograd` is HIPS's: both ends of
the pipe. This file is also the worker, run as `python -I peers.py` (isolated: this repository
is not on its path); it builds peer_workloads.py's cases on the arrays sent, and times them.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.metadata
import pickle
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchmarks.harness import Context, System

NAMES = {"hips": "HIPS autograd", "jax": "JAX jit"}
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}


def measure(step: Callable[[], object], number: int, clock: str) -> float:
    """Seconds for `number` calls of `step` and a full collection: each pays for its garbage."""
    now = CLOCKS[clock]
    start = now()
    for _ in range(number):
        step()
    gc.collect()
    return now() - start


class Worker:
    """This file run as a worker by another interpreter, and the pipe to it."""

    def __init__(self, python: str):
        command, pipe = [python, "-I", str(Path(__file__))], subprocess.PIPE
        self.proc = subprocess.Popen(command, stdin=pipe, stdout=pipe)

    def request(self, *message: Any) -> Any:
        """Send one request and wait for its answer; the worker's error raised here."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        pickle.dump(message, self.proc.stdin)
        self.proc.stdin.flush()
        reply = pickle.load(self.proc.stdout)  # EOFError if the worker is gone
        if isinstance(reply, Exception):
            raise RuntimeError(f"worker: {reply}")
        return reply

    def close(self) -> None:
        """Close the pipe, which stops the worker, and wait for it."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def remotes(ctx: Context, workload: str, **arrays: Any) -> tuple[list[System], dict[str, str]]:
    """(HIPS autograd and JAX on these arrays, run in the worker; those not run, with why)."""
    from benchmarks.harness import System  # here: this file also runs without this project

    if ctx.peers is None:
        return [], dict.fromkeys(NAMES.values(), "not asked for (see --peers)")
    ask = ctx.peers.request  # setup answers the gradients; measure, the seconds of `number` runs
    grads = {p: partial(ask, "setup", p, workload, arrays, ctx.clock) for p in NAMES}
    return [System(NAMES[p], lambda: None, grads[p], partial(ask, "measure", p)) for p in NAMES], {}


def answer(request: tuple[Any, ...], steps: dict[str, Any], peers: Any) -> Any:
    """The worker's answer to one request; `peers` is peer_workloads.py, `steps` one per peer."""
    if request[0] == "versions":
        found = {d.metadata["Name"]: d.version for d in importlib.metadata.distributions()}
        return {"python": sys.version.split()[0]} | {k: found.get(k, "-") for k in request[1:]}
    if request[0] == "setup":  # a case's step replaces the last; what it holds is frozen
        _, peer, workload, arrays, clock = request
        gc.unfreeze()
        grads, step = peers.BUILDERS[workload, peer](arrays)
        steps[peer] = step, clock
        gc.collect()
        gc.freeze()
        return grads
    step, clock = steps[request[1]]
    return measure(step, request[2], clock)


if __name__ == "__main__":
    sys.path.append(str(Path(__file__).parent))  # last: nothing here shadows an installed module
    workloads, steps = importlib.import_module("peer_workloads"), dict[str, Any]()
    pipe, sys.stdout = sys.stdout.buffer, sys.stderr  # what a library prints stays off the pipe
    with contextlib.suppress(EOFError):  # the runner closes the pipe when it is done
        while request := pickle.load(sys.stdin.buffer):
            try:
                reply = answer(request, steps, workloads)
            except Exception as e:
                reply = RuntimeError(f"{type(e).__name__}: {e}")
            pickle.dump(reply, pipe)
            pipe.flush()
