"""`python -m benchmarks`: run the workloads under each malloc setting and write the results.

glibc reads its malloc settings, and BLAS, OpenMP and XLA their thread counts, when a
process starts, so each setting runs in a child process started with them: `default` is
what users have (the targets are read there); `tuned` keeps freed memory in the process,
so that a fresh array does not page-fault on first touch. Every system, the peers'
workers too, runs on one thread: on a small machine one library's idle threads spin after
its run and steal the cores from the next system (`--default-threads` opts out).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyperf  # type: ignore[import-untyped]

from benchmarks import peers, readme, report
from benchmarks.harness import CLOCKS, Clock, Context

HERE = Path(__file__).parent
WORKLOADS = {
    f"W{i}": f"benchmarks.{m}"
    for i, m in enumerate(["w1_demo", "w2_lesson", "w3_mlp", "w4_chain", "w5_gradcheck"], 1)
}
TUNED = {
    "MALLOC_TRIM_THRESHOLD_": "2000000000",
    "MALLOC_MMAP_THRESHOLD_": "2000000000",
    "MALLOC_TOP_PAD_": "100000000",
}
MALLOC: dict[str, dict[str, str]] = {"default": {}, "tuned": TUNED}
ONE_THREAD = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}
# pyperf's metadata on what the numbers were measured on (not where: no paths, no host name).
KEPT = ("cpu_model_name", "cpu_count", "platform", "python_version", "timer", "load_avg_1min")


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The command line's options."""
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    add = p.add_argument
    add("--quick", action="store_true", help="tiny sizes, one sample: a smoke test")
    add("--only", default=",".join(WORKLOADS), help="comma-separated workloads, e.g. W1,W4")
    add("--repeats", type=int, help="samples per system (7; 1 with --quick)")
    add("--out", default=str(HERE), help="folder for the results (default: this one)")
    add("--clock", choices=sorted(CLOCKS), default="wall", help="wall clock or process CPU time")
    add("--malloc", help="default,tuned (both; only default with --quick)")
    add("--peers", metavar="VENV", help="run HIPS autograd and JAX from VENV, made if missing")
    add("--peers-python", metavar="PYTHON", help="an interpreter with HIPS autograd or JAX")
    add("--default-threads", action="store_true", help="each library's default thread count")
    add("--no-profile", action="store_true", help="do not profile the missed targets")
    add("--child", choices=sorted(MALLOC), help=argparse.SUPPRESS)
    add("--side", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.only = [w.strip().upper() for w in args.only.split(",") if w.strip()]
    args.malloc = (args.malloc or ("default" if args.quick else "default,tuned")).split(",")
    for given, known in ((args.only, WORKLOADS), (args.malloc, MALLOC)):
        if unknown := [w for w in given if w not in known]:
            p.error(f"unknown {', '.join(unknown)}; choose from {', '.join(known)}")
    args.repeats = args.repeats or (1 if args.quick else 7)
    return args


def shown(argv: Sequence[str]) -> str:
    """The command line as results.md shows it, with placeholders for folders and interpreters."""
    words, hidden = list(argv), {"--out": "DIR", "--peers": "VENV", "--peers-python": "PYTHON"}
    for i, word in enumerate(words):
        if (flag := word.split("=")[0]) in hidden:
            words[i] = f"{flag}={hidden[flag]}"
            if "=" not in word and i + 1 < len(words):
                words[i + 1] = ""
    return " ".join(["python -m benchmarks", *filter(None, words)])


def machine(info: dict[str, Any], malloc: str, threads: bool) -> dict[str, Any]:
    """What the numbers were measured on: pyperf's metadata, versions, threads, malloc, clock."""
    meta = pyperf.Run([1.0], collect_metadata=True).get_metadata()
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    out = {k: meta[k] for k in KEPT if k in meta}
    out["numpy"] = f"{np.__version__} ({blas.get('name')} {blas.get('version')})"
    for dist in ("valuegrad", "micrograd", "torch", "pyperf"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "not installed"
    git = ["git", "-C", str(HERE), "log", "-1", "--format=%h %cd", "--date=short"]
    out["engine commit"] = subprocess.run(git, capture_output=True, text=True).stdout.strip()
    for peer in peers.NAMES:
        out[peers.NAMES[peer]] = (
            f"{info[peer]} (Python {info['python']}, numpy {info['numpy']})"
            if peer in info
            else "not run"
        )
    out["threads"] = "each library's default" if threads else "one per system"
    out["malloc"] = ", ".join(f"{k}={v}" for k, v in MALLOC[malloc].items()) or "glibc's defaults"
    return out | {"clock": Clock.name}


def child(args: argparse.Namespace) -> int:
    """Run the workloads in this process, started with one malloc setting, and save it all."""
    Clock.name = args.clock
    workers, absent = peers.start(args.peers_python)
    runs = []
    try:
        with tempfile.TemporaryDirectory(prefix="valuegrad-bench-") as workdir:
            ctx = Context(
                args.quick,
                args.repeats,
                0.001 if args.quick else 0.05,
                workdir,
                workers=workers,
                absent=absent,
            )
            for name in args.only:
                print(f"== {name}, {args.child} malloc", flush=True)
                rep = importlib.import_module(WORKLOADS[name]).run(ctx)
                profiles = (
                    {}
                    if args.quick or args.no_profile
                    else {
                        c.label: report.profile(c.subject)
                        for c in rep.checks
                        if c.status == "MISS" and c.subject
                    }
                )
                runs.append((rep, report.data(rep) | {"profiles": profiles}))
                print(
                    report.times(runs[-1][1]["cases"]),
                    report.targets(runs[-1][1]["checks"]),
                    sep="\n\n",
                    flush=True,
                )
        info = next(iter(workers.values())).info if workers else {}
    finally:
        for w in set(workers.values()):
            w.close()
    side: dict[str, Any] = {"machine": machine(info, args.child, args.default_threads)}
    for key in ("cases", "checks", "metrics", "notes"):
        side[key] = [x for _, d in runs for x in d[key]]
    side["notes"] += [f"{peers.NAMES[p]} absent: {why}" for p, why in absent.items()]
    side["profiles"] = {k: v for _, d in runs for k, v in d["profiles"].items()}
    benches = [
        o.bench for rep, _ in runs for r in rep.results for o in r.outcomes.values() if o.bench
    ]
    for b in benches:
        b.update_metadata(
            {
                k: str(side["machine"][k])
                for k in ("cpu_model_name", "malloc", "clock")
                if k in side["machine"]
            }
        )
    if benches:
        pyperf.BenchmarkSuite(benches).dump(
            str(Path(args.out) / f"results-{args.child}-malloc.json"), replace=True
        )
    Path(args.side).write_text(json.dumps(side), encoding="utf-8")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Make the peers' environment if asked, run each malloc setting in a child, write it up."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    if args.child:
        return child(args)
    out, notes = Path(args.out), []
    out.mkdir(parents=True, exist_ok=True)
    if args.peers:
        notes = [
            f"{peers.NAMES.get(p, p)}: {why}" for p, why in peers.install(Path(args.peers)).items()
        ]
        args.peers_python = str(Path(args.peers) / "bin" / "python")
    forwarded = [
        "--only",
        ",".join(args.only),
        "--repeats",
        str(args.repeats),
        "--out",
        str(out),
        "--clock",
        args.clock,
    ]
    for flag in ("quick", "no_profile", "default_threads"):
        forwarded += [f"--{flag.replace('_', '-')}"] if getattr(args, flag) else []
    forwarded += ["--peers-python", args.peers_python] if args.peers_python else []
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    runs = {}
    with tempfile.TemporaryDirectory(prefix="valuegrad-bench-") as tmp:
        for malloc in args.malloc:
            env = {k: v for k, v in os.environ.items() if k not in TUNED} | MALLOC[malloc]
            env |= {} if args.default_threads else ONE_THREAD
            side = Path(tmp) / f"{malloc}.json"
            command = [
                sys.executable,
                "-m",
                "benchmarks",
                *forwarded,
                "--child",
                malloc,
                "--side",
                str(side),
            ]
            if subprocess.run(command, env=env).returncode:
                print(f"the run with {malloc} malloc failed", file=sys.stderr)
                return 1
            runs[malloc] = json.loads(side.read_text(encoding="utf-8"))
    runs[args.malloc[0]]["notes"][:0] = notes
    (out / "results.md").write_text(report.markdown(runs, shown(argv), date), encoding="utf-8")
    (out / "results.json").write_text(
        json.dumps({"date": date, "runs": runs}, indent=1), encoding="utf-8"
    )
    print(f"wrote results.md, results.json and the pyperf files in {out}")
    full = not args.quick and args.only == list(WORKLOADS) and "default" in runs
    if (
        full
        and out.resolve() == HERE.resolve()
        and readme.update(HERE.parent / "README.md", out / "results.md")
    ):
        print("rewrote the table of targets in README.md")
    return 0
