"""Runs HIPS autograd and JAX in their own interpreter, answering one JSON line per request.

HIPS autograd's import name, `autograd`, is also this project's, so the two cannot share a
process: the runner starts this script with another environment's Python in isolated mode
(`-I`, so this repository is not on its path). The requests are hello, setup (build a case
from an .npz file and write its gradients to another), measure (`number` runs and a full
collection, timed here, with what set-up left frozen out of the collector's sight), drop
and quit. The workloads themselves are in peer_workloads.py, loaded by its path.
"""

import gc
import importlib.metadata
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

spec = importlib.util.spec_from_file_location(
    "peers", Path(__file__).with_name("peer_workloads.py")
)
assert spec is not None and spec.loader is not None
peers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(peers)
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def answer(request: dict[str, Any], steps: dict[str, Any]) -> dict[str, Any]:
    """The reply to one request."""
    cmd, key = request["cmd"], request.get("key", "")
    if cmd == "hello":
        info: dict[str, Any] = {"python": sys.version.split()[0], "numpy": peers.np.__version__}
        for peer, load, dist in (("hips", peers.hips, "autograd"), ("jax", peers.jax, "jax")):
            try:
                load()
                info[peer] = importlib.metadata.version(dist)
            except ImportError as e:
                info[f"{peer}_error"] = str(e)
        return info
    if cmd == "setup":
        with peers.np.load(request["data"]) as f:
            grads, steps[key] = peers.BUILDERS[request["workload"], request["system"]](dict(f))
        peers.np.savez(request["out"], **grads)
        gc.collect()
        gc.freeze()
    elif cmd == "measure":
        step, now = steps[key], CLOCKS[request["clock"]]
        start = now()
        for _ in range(request["number"]):
            step()
        gc.collect()
        return {"seconds": now() - start}
    elif cmd == "drop":
        steps.pop(key, None)
        gc.unfreeze()
    return {"ok": True}


if __name__ == "__main__":
    steps: dict[str, Any] = {}
    for line in sys.stdin:
        if (request := json.loads(line))["cmd"] == "quit":
            break
        try:
            reply = answer(request, steps)
        except Exception as e:
            reply = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)
