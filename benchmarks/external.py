"""Peers that must run in another interpreter (HIPS autograd, JAX), driven through worker.py."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness import Clock, Gradients

WORKER = Path(__file__).with_name("worker.py")

HIPS_ENV = "VALUEGRAD_HIPS_PYTHON"
JAX_ENV = "VALUEGRAD_JAX_PYTHON"


class WorkerError(RuntimeError):
    """The worker process failed or answered with an error."""


class Worker:
    """A long-lived worker.py process in another interpreter, asked one JSON line at a time."""

    def __init__(self, python: str):
        self.python = python
        # -I: isolated mode, so neither this repository nor PYTHONPATH is on the worker's
        # path and `import autograd` there finds HIPS autograd, not this project.
        self.cwd = tempfile.mkdtemp(prefix="valuegrad-worker-")
        self.proc = subprocess.Popen(
            [python, "-I", str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.cwd,
        )
        self.info: dict[str, Any] = self.request({"cmd": "hello"})

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send one request and wait for its answer."""
        proc = self.proc
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(message) + "\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
        except (BrokenPipeError, OSError):
            line = ""
        if not line:
            err = proc.stderr.read() if proc.stderr and proc.poll() is not None else ""
            tail = err.strip().splitlines()[-1:] or ["no output"]
            raise WorkerError(f"the worker stopped: {tail[0]}")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise WorkerError(reply["error"])
        return reply

    def close(self) -> None:
        """Ask the worker to stop, and wait for it."""
        if self.proc.poll() is None:
            with contextlib.suppress(WorkerError):
                self.request({"cmd": "quit"})
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        shutil.rmtree(self.cwd, ignore_errors=True)


_keys = itertools.count()


class Remote:
    """A system whose runs happen in a worker; only the timing comes back (measured there)."""

    def __init__(self, name: str, worker: Worker, workload: str, system: str, data: Path):
        self.name = name
        self.worker = worker
        self.workload = workload
        self.kind = system
        self.data = data
        self.key = f"{workload}-{system}-{next(_keys)}"

    def gradients(self) -> Gradients:
        """Set the case up in the worker and read back the gradients it wrote."""
        out = self.data.with_name(f"{self.key}-grads.npz")
        self.worker.request(
            {
                "cmd": "setup",
                "key": self.key,
                "workload": self.workload,
                "system": self.kind,
                "data": str(self.data),
                "out": str(out),
            }
        )
        with np.load(out) as f:
            grads = {k: np.asarray(f[k], dtype=np.float64) for k in f.files}
        out.unlink()
        return grads

    def measure(self, number: int) -> float:
        """Seconds for `number` runs, timed inside the worker."""
        reply = self.worker.request(
            {"cmd": "measure", "key": self.key, "number": number, "clock": Clock.name}
        )
        return float(reply["seconds"])

    def release(self) -> None:
        """Let the worker drop this case's data."""
        with contextlib.suppress(WorkerError):
            self.worker.request({"cmd": "drop", "key": self.key})


def _has_jax_here() -> bool:
    try:
        import importlib.util

        return importlib.util.find_spec("jax") is not None
    except (ImportError, ValueError):
        return False


def start_workers(
    hips_python: str | None, jax_python: str | None
) -> tuple[dict[str, Worker], dict[str, str]]:
    """Start the workers for HIPS autograd and JAX: (peer → worker, peer → why it is absent).

    HIPS autograd's Python comes from `hips_python` or $VALUEGRAD_HIPS_PYTHON. JAX's
    comes from `jax_python` or $VALUEGRAD_JAX_PYTHON, else the HIPS one if JAX is
    installed there, else this interpreter if it can import jax.
    """
    hips_python = hips_python or os.environ.get(HIPS_ENV) or None
    jax_python = jax_python or os.environ.get(JAX_ENV) or None
    workers: dict[str, Worker] = {}
    notes: dict[str, str] = {}
    started: dict[str, Worker] = {}

    def start(python: str) -> Worker:
        if python not in started:
            started[python] = Worker(python)
        return started[python]

    if hips_python is None:
        notes["hips"] = f"HIPS autograd skipped: no --hips-python given and ${HIPS_ENV} is not set"
    else:
        try:
            w = start(hips_python)
            if w.info.get("autograd"):
                workers["hips"] = w
            else:
                notes["hips"] = "HIPS autograd skipped: " + str(
                    w.info.get("autograd_error", "not importable in that interpreter")
                )
        except (OSError, WorkerError) as e:
            notes["hips"] = f"HIPS autograd skipped: cannot start its Python: {e}"

    candidates = [p for p in (jax_python, hips_python) if p]
    if not candidates and _has_jax_here():
        candidates.append(sys.executable)
    for python in candidates:
        try:
            w = start(python)
        except (OSError, WorkerError) as e:
            notes["jax"] = f"JAX skipped: cannot start its Python: {e}"
            continue
        if w.info.get("jax"):
            workers["jax"] = w
            notes.pop("jax", None)
            break
        notes["jax"] = "JAX skipped: " + str(w.info.get("jax_error", "not importable"))
    if "jax" not in workers and "jax" not in notes:
        notes["jax"] = (
            f"JAX skipped: not importable here, and neither --jax-python nor ${JAX_ENV} is set"
        )
    unused = [w for w in started.values() if w not in workers.values()]
    for w in unused:
        w.close()
    return workers, notes
