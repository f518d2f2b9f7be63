"""HIPS autograd and JAX in their own interpreter: both ends of the pipe to them.

HIPS autograd is imported as `autograd`, as this project is, so the two cannot share a
process. This file is also the worker: `python -I peers.py` in the peers' environment
(isolated: this repository is not on its path) answers one JSON line per request: hello,
setup (build a peer_workloads.py case from an .npz file, so every system sees the same
numbers, and write its gradients to another), measure (timed there, so the pipe is not
counted) and quit.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.metadata
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

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
        pipe, command = subprocess.PIPE, [python, "-I", str(Path(__file__))]
        self.proc = subprocess.Popen(command, stdin=pipe, stdout=pipe, text=True)
        self.info = self.request({"cmd": "hello"})

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send one request and wait for its answer."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.flush()
            reply: dict[str, Any] = json.loads(self.proc.stdout.readline() or '{"error": "gone"}')
        except OSError as e:
            reply = {"error": str(e)}
        if "error" in reply:
            raise RuntimeError(f"worker: {reply['error']}")
        return reply

    def close(self) -> None:
        """Ask the worker to stop, and wait for it."""
        with contextlib.suppress(RuntimeError):
            self.request({"cmd": "quit"})
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

    data = str(Path(ctx.workdir) / f"{workload}.npz")
    np.savez(data, **{k: np.asarray(v) for k, v in arrays.items()})  # type: ignore[arg-type]

    def remote(peer: str, worker: Worker) -> System:
        out = data.replace(".npz", f"-{peer}.npz")

        def grads() -> dict[str, np.ndarray]:
            worker.request({"cmd": "setup", "workload": workload, "peer": peer, "data": data})
            with np.load(out) as f:
                return dict(f)

        def timer(number: int) -> float:
            message = {"cmd": "measure", "peer": peer, "number": number, "clock": ctx.clock}
            return float(worker.request(message)["seconds"])

        return System(NAMES[peer], lambda: None, grads, timer)

    return [remote(peer, worker) for peer, worker in ctx.workers.items()]


def answer(request: dict[str, Any], steps: dict[str, Any], peers: Any) -> dict[str, Any]:
    """The worker's reply to one request; `peers` is peer_workloads.py, `steps` one per peer."""
    cmd, peer = request["cmd"], request.get("peer", "")
    if cmd == "hello":
        info: dict[str, Any] = {"python": sys.version.split()[0], "numpy": np.__version__}
        for name, load, dist in (("hips", peers.hips, "autograd"), ("jax", peers.jax, "jax")):
            try:
                load()
                info[name] = importlib.metadata.version(dist)
            except ImportError as e:
                info[f"{name}_error"] = str(e)
        return info
    if cmd == "setup":  # a case's step replaces the last; what it holds is frozen out of sight
        gc.unfreeze()
        with np.load(request["data"]) as f:
            grads, steps[peer] = peers.BUILDERS[request["workload"], peer](dict(f))
        np.savez(request["data"].replace(".npz", f"-{peer}.npz"), **grads)
        gc.collect()
        gc.freeze()
        return {"ok": True}
    return {"seconds": measure(steps[peer], request["number"], request["clock"])}


if __name__ == "__main__":
    sys.path.append(str(Path(__file__).parent))  # last: nothing here shadows an installed module
    workloads, steps = importlib.import_module("peer_workloads"), dict[str, Any]()
    for line in sys.stdin:
        if (request := json.loads(line))["cmd"] == "quit":
            break
        try:
            reply = answer(request, steps, workloads)
        except Exception as e:
            reply = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)
