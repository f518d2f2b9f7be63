"""What the numbers were measured on: date, CPU, cores, numpy and its BLAS, package versions."""

from __future__ import annotations

import datetime
import importlib
import importlib.metadata
import os
import platform
from typing import Any

import numpy as np

# glibc malloc settings that keep freed memory in the process (see __main__.py).
TUNED_MALLOC = {
    "MALLOC_TRIM_THRESHOLD_": "2000000000",
    "MALLOC_MMAP_THRESHOLD_": "2000000000",
    "MALLOC_TOP_PAD_": "100000000",
}

# One thread for every system's BLAS, OpenMP and XLA pools (see __main__.py).
ONE_THREAD = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}


def single_threaded() -> bool:
    """True when this process was started with every thread pool pinned to one thread."""
    return all(os.environ.get(k) == v for k, v in ONE_THREAD.items())


BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")


def cpu_model() -> str:
    """The CPU's model name, as the kernel reports it."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas() -> str:
    """numpy's BLAS: its name and version, and at run time its kernel and threads if visible."""
    text = "unknown"
    try:
        config: Any = np.show_config(mode="dicts")
        info = config["Build Dependencies"]["blas"]
        text = f"{info.get('name', '?')} {info.get('version', '')}".strip()
        extra = info.get("openblas configuration")
        if extra:
            text += f" ({' '.join(extra.split())})"
    except (TypeError, KeyError, AttributeError):
        pass
    # threadpoolctl is not a dependency; when it happens to be installed it tells
    # which kernel OpenBLAS chose for this CPU and how many threads it uses.
    try:
        threadpoolctl: Any = importlib.import_module("threadpoolctl")
        for pool in threadpoolctl.threadpool_info():
            if pool.get("user_api") == "blas":
                text += (
                    f"; at run time: {pool.get('internal_api')} {pool.get('version')}, "
                    f"kernel {pool.get('architecture')}, {pool.get('num_threads')} threads"
                )
    except ImportError:
        pass
    return text


def load() -> str:
    """The 1-minute load average, or "unknown" where the system has none."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "unknown"


def version(dist: str) -> str | None:
    """The installed version of a distribution, or None."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def describe(workers: dict[str, Any]) -> dict[str, str]:
    """The date, the machine and the versions, as labelled strings."""
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "system": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas(),
        "blas environment": ", ".join(
            f"{k}={os.environ[k]}" if k in os.environ else f"{k} unset" for k in BLAS_ENV
        ),
        "threads": (
            "one per system: BLAS, OpenMP and XLA pools pinned to 1 thread"
            if single_threaded()
            else "each library's default"
        ),
        "malloc": (
            "tuned for every system: " + ", ".join(f"{k}={v}" for k, v in TUNED_MALLOC.items())
            if all(os.environ.get(k) == v for k, v in TUNED_MALLOC.items())
            else "glibc defaults (freed memory may go back to the system at once)"
        ),
    }
    for dist in ("valuegrad", "micrograd", "torch"):
        info[dist] = version(dist) or "not installed"
    try:
        torch: Any = importlib.import_module("torch")
        threads = torch.get_num_threads()
        info["torch"] += f" ({threads} thread{'s' if threads > 1 else ''} by default)"
    except ImportError:
        pass
    hips = workers.get("hips")
    info["HIPS autograd"] = (
        f"{hips.info['autograd']} (own venv: Python {hips.info['python']}, "
        f"numpy {hips.info['numpy']})"
        if hips is not None
        else "not run"
    )
    jax = workers.get("jax")
    info["JAX"] = (
        f"jax {jax.info['jax']}, jaxlib {jax.info['jaxlib']} (Python {jax.info['python']}, "
        f"numpy {jax.info['numpy']}, float64, jit)"
        if jax is not None
        else "not run"
    )
    return info
