"""HIPS autograd and JAX in their own interpreter: both ends of the pipe to them.

HIPS autograd is imported as `autograd`, as this project is, so the two cannot share a
process. This file is also the worker: `python -I peers.py` in the peers' environment
(isolated: this repository is not on its path) answers pickled requests: hello, setup (build
a case of peer_workloads.py on the arrays sent, so every system sees the same numbers, and
send back its gradients) and measure (timed there, so the pipe is not counted).
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
    """This file run by the peers' interpreter; `info` says which peers import there."""

    def __init__(self, python: str):
        command, pipe = [python, "-I", str(Path(__file__))], subprocess.PIPE
        self.proc = subprocess.Popen(command, stdin=pipe, stdout=pipe)
        self.info: dict[str, str] = self.request("hello")

    def request(self, *message: Any) -> Any:
        """Send one request and wait for its answer."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            pickle.dump(message, self.proc.stdin)
            self.proc.stdin.flush()
            reply = pickle.load(self.proc.stdout)
        except (OSError, EOFError) as e:
            reply = RuntimeError(f"gone ({type(e).__name__})")
        if isinstance(reply, Exception):
            raise RuntimeError(f"worker: {reply}")
        return reply

    def close(self) -> None:
        """Close the pipe, which stops the worker, and wait for it."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def start(python: str | None) -> tuple[dict[str, Worker], dict[str, str]]:
    """(peer → its worker, peer's name → why it is absent) for the peers `python` imports."""
    if python is None:
        return {}, dict.fromkeys(NAMES.values(), "not asked for (see --peers)")
    try:
        worker = Worker(python)
    except (OSError, RuntimeError) as e:
        return {}, dict.fromkeys(NAMES.values(), f"its interpreter did not start: {e}")
    found = {p: worker for p in NAMES if worker.info.get(p)}
    if not found:
        worker.close()
    return found, {NAMES[p]: worker.info[f"{p}_error"] for p in NAMES if p not in found}


def remotes(ctx: Context, workload: str, **arrays: Any) -> list[System]:
    """HIPS autograd and JAX, where they run, on these arrays: set up and timed in the worker."""
    from benchmarks.harness import System  # here: this file also runs without this project

    def remote(peer: str, worker: Worker) -> System:
        return System(
            NAMES[peer],
            lambda: None,
            lambda: worker.request("setup", peer, workload, arrays),
            lambda number: worker.request("measure", peer, number, ctx.clock),
        )

    return [remote(peer, worker) for peer, worker in ctx.workers.items()]


def answer(request: tuple[Any, ...], steps: dict[str, Any], peers: Any) -> Any:
    """The worker's answer to one request; `peers` is peer_workloads.py, `steps` one per peer."""
    if request[0] == "hello":
        info = {"python": sys.version.split()[0], "numpy": peers.np.__version__}
        for peer, load, dist in (("hips", peers.hips, "autograd"), ("jax", peers.jax, "jax")):
            try:
                load()
                info[peer] = importlib.metadata.version(dist)
            except ImportError as e:
                info[f"{peer}_error"] = str(e)
        return info
    if request[0] == "setup":  # a case's step replaces the last; what it holds is frozen
        _, peer, workload, arrays = request
        gc.unfreeze()
        grads, steps[peer] = peers.BUILDERS[workload, peer](arrays)
        gc.collect()
        gc.freeze()
        return grads
    _, peer, number, clock = request
    return measure(steps[peer], number, clock)


if __name__ == "__main__":
    sys.path.append(str(Path(__file__).parent))  # last: nothing here shadows an installed module
    workloads, steps = importlib.import_module("peer_workloads"), dict[str, Any]()
    with contextlib.suppress(EOFError):  # the runner closes the pipe when it is done
        while request := pickle.load(sys.stdin.buffer):
            try:
                reply = answer(request, steps, workloads)
            except Exception as e:
                reply = RuntimeError(f"{type(e).__name__}: {e}")
            pickle.dump(reply, sys.stdout.buffer)
            sys.stdout.flush()
