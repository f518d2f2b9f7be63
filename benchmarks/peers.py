"""The peers that run in another interpreter, HIPS autograd and JAX: their venv and worker."""

from __future__ import annotations

import contextlib
import itertools
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness import Clock, Context, Gradients, System

WORKER = Path(__file__).with_name("worker.py")
PACKAGES = {"numpy": ["numpy"], "hips": ["autograd"], "jax": ["jax", "jaxlib"]}
NAMES = {"hips": "HIPS autograd", "jax": "JAX jit"}
_keys = itertools.count()


def install(venv: Path) -> dict[str, str]:
    """Make `venv` and pip install numpy, HIPS autograd and JAX in it; what failed, with why."""
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    failed = {}
    for peer, packages in PACKAGES.items():
        print(f"pip install {' '.join(packages)} in the peers' environment", flush=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *packages]
        done = subprocess.run(pip, capture_output=True, text=True)
        if done.returncode:
            failed[peer] = f"pip install failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}"
    return failed


class Worker:
    """A worker.py process in another interpreter (isolated mode: `autograd` is HIPS's there)."""

    def __init__(self, python: str):
        self.cwd, pipe = tempfile.TemporaryDirectory(prefix="valuegrad-worker-"), subprocess.PIPE
        command = [python, "-I", str(WORKER)]
        self.proc = subprocess.Popen(command, stdin=pipe, stdout=pipe, text=True, cwd=self.cwd.name)
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
        self.cwd.cleanup()


def remote(ctx: Context, peer: str, workload: str, arrays: dict[str, Any]) -> System:
    """A system whose runs happen, and are timed, in the peer's worker, on these arrays."""
    worker, key = ctx.workers[peer], f"{workload}-{peer}-{next(_keys)}"
    data, out = Path(ctx.workdir) / f"{key}.npz", Path(ctx.workdir) / f"{key}-grads.npz"
    np.savez(data, **{k: np.asarray(v) for k, v in arrays.items()})  # type: ignore[arg-type]

    def grads() -> Gradients:
        message = {"workload": workload, "system": peer, "data": str(data), "out": str(out)}
        worker.request({"cmd": "setup", "key": key} | message)
        with np.load(out) as f:
            return dict(f)

    def timer(number: int) -> float:
        message = {"cmd": "measure", "key": key, "number": number, "clock": Clock.name}
        return float(worker.request(message)["seconds"])

    def release() -> None:
        with contextlib.suppress(RuntimeError):
            worker.request({"cmd": "drop", "key": key})

    return System(NAMES[peer], lambda: None, grads, timer, release)


def remotes(ctx: Context, workload: str, **arrays: Any) -> tuple[list[System], dict[str, str]]:
    """(HIPS autograd and JAX systems for this case, the absent ones with why)."""
    systems = [remote(ctx, p, workload, arrays) for p in NAMES if p in ctx.workers]
    return systems, {NAMES[p]: ctx.absent[p] for p in NAMES if p not in ctx.workers}


def start(python: str | None) -> tuple[dict[str, Worker], dict[str, str]]:
    """(peer → its worker, peer → why it is absent) for the peers importable in `python`."""
    if python is None:
        return {}, dict.fromkeys(NAMES, "not asked for (see --peers)")
    try:
        worker = Worker(python)
    except (OSError, RuntimeError) as e:
        return {}, dict.fromkeys(NAMES, f"its interpreter did not start: {e}")
    found = {p: worker for p in NAMES if worker.info.get(p)}
    if not found:
        worker.close()
    return found, {p: worker.info.get(f"{p}_error", "?") for p in NAMES if p not in found}
