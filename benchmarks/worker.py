"""Runs HIPS autograd and JAX in their own interpreter, one JSON line per request on stdin.

HIPS autograd's import name, `autograd`, is also this project's, so the two cannot share
a process. The runner starts this script with another virtual environment's Python in
isolated mode (`-I`: this repository is not on its path) and asks:

    {"cmd": "hello"}                                   → versions of what is importable
    {"cmd": "setup", "key", "workload", "system", "data", "out"}
                                                        → writes the gradients to `out` (.npz)
    {"cmd": "measure", "key", "number", "clock"}       → {"seconds": ...}
    {"cmd": "drop", "key"}, {"cmd": "quit"}

A measurement is timed here, as in the runner: `number` runs and a full collection, with
what was alive at set-up frozen out of the collector's sight.
"""

import gc
import importlib.metadata
import importlib.util
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

spec = importlib.util.spec_from_file_location(
    "peers", Path(__file__).with_name("peer_workloads.py")
)
assert spec is not None and spec.loader is not None
peers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(peers)
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def hello() -> dict[str, Any]:
    """Python's and numpy's versions, and those of HIPS autograd and JAX if importable."""
    info: dict[str, Any] = {"python": sys.version.split()[0], "numpy": peers.np.__version__}
    for peer, load, dist in (("hips", peers.hips, "autograd"), ("jax", peers.jax, "jax")):
        try:
            load()
            info[peer] = importlib.metadata.version(dist)
        except ImportError as e:
            info[f"{peer}_error"] = str(e)
    return info


def answer(request: dict[str, Any], steps: dict[str, Any]) -> dict[str, Any]:
    """The reply to one request."""
    cmd = request["cmd"]
    if cmd == "hello":
        return hello()
    if cmd == "setup":
        with peers.np.load(request["data"]) as f:
            data = {k: f[k] for k in f.files}
        grads, steps[request["key"]] = peers.BUILDERS[request["workload"], request["system"]](data)
        peers.np.savez(request["out"], **grads)
        gc.collect()
        gc.freeze()
        return {"ok": True}
    if cmd == "measure":
        step, now = steps[request["key"]], CLOCKS[request["clock"]]
        start = now()
        for _ in range(int(request["number"])):
            step()
        gc.collect()
        return {"seconds": now() - start}
    if cmd == "drop":
        steps.pop(request["key"], None)
        gc.unfreeze()
        gc.collect()
        return {"ok": True}
    return {"error": f"unknown command {cmd!r}"}


def serve() -> None:
    """Answer requests until stdin closes or `quit` arrives."""
    steps: dict[str, Any] = {}
    for line in sys.stdin:
        request = json.loads(line)
        if request["cmd"] == "quit":
            break
        try:
            reply = answer(request, steps)
        except Exception as e:
            reply = {"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
