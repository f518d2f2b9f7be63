"""`python -m benchmarks`: run the workloads under each malloc setting and write the results.

glibc reads its malloc settings, and BLAS, OpenMP and XLA their thread counts, as a process
starts, so each setting runs in a child started with them: `default` is what users have, and
the targets are read there; `tuned` keeps freed memory in the process, so a fresh array does
not page-fault on first touch. Every system, the peers' too, runs on one thread: on a small
machine one library's idle threads spin after its run and steal the cores from the next.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pyperf  # type: ignore[import-untyped]

from benchmarks import peers, report
from benchmarks.harness import CLOCKS, Clock, Context

HERE = Path(__file__).parent
NAMES = ["demo", "lesson", "mlp", "chain", "gradcheck"]
WORKLOADS = {f"W{i}": f"benchmarks.w{i}_{name}" for i, name in enumerate(NAMES, 1)}
TUNED = {"MALLOC_TRIM_THRESHOLD_": "2000000000", "MALLOC_MMAP_THRESHOLD_": "2000000000"}
MALLOC = {"default": {}, "tuned": TUNED | {"MALLOC_TOP_PAD_": "100000000"}}
ONE_THREAD = dict.fromkeys(("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"), "1")
ONE_THREAD["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
# What pyperf's metadata says the numbers were measured on (not where: no paths, no host).
KEPT = ("cpu_model_name", "cpu_count", "platform", "python_version", "load_avg_1min")


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
    add("--no-profile", action="store_true", help="do not profile the missed targets")
    add("--child", choices=sorted(MALLOC), help=argparse.SUPPRESS)
    add("--side", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.only = [w.strip().upper() for w in args.only.split(",") if w.strip()]
    args.malloc = (args.malloc or ("default" if args.quick else "default,tuned")).split(",")
    for given, known in ((args.only, WORKLOADS), (args.malloc, MALLOC)):
        if unknown := [w for w in given if w not in known]:
            p.error(f"unknown {', '.join(unknown)}; choose from {', '.join(known)}")
    if args.repeats is not None and args.repeats < 1:
        p.error(f"--repeats must be at least 1, got {args.repeats}")
    args.repeats = args.repeats or (1 if args.quick else 7)
    return args


def shown(argv: Sequence[str]) -> str:
    """The command line as results.md shows it: a folder given to --out or --peers as PATH."""
    return re.sub(r"(--out|--peers)[= ]\S+", r"\1=PATH", " ".join(["python -m benchmarks", *argv]))


def machine(args: argparse.Namespace, workers: dict[str, peers.Worker]) -> dict[str, str]:
    """What the numbers were measured on: pyperf's metadata, versions, threads, malloc, clock."""
    meta = pyperf.Run([1.0], collect_metadata=True).get_metadata()
    out = {k: str(meta[k]) for k in KEPT if k in meta}
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    out["numpy"] = f"{np.__version__} ({blas.get('name')} {blas.get('version')})"
    for dist in ("valuegrad", "micrograd", "torch", "pyperf"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "not installed"
    git = ["git", "-C", str(HERE), "log", "-1", "--format=%h of %cd", "--date=short"]
    out["engine commit"] = subprocess.run(git, capture_output=True, text=True).stdout.strip()
    for peer, name in peers.NAMES.items():
        info = workers[peer].info if peer in workers else {}
        out[name] = (
            f"{info[peer]} (Python {info['python']}, numpy {info['numpy']})" if info else "-"
        )
    out["threads"] = "one per system"
    malloc = ", ".join(f"{k}={v}" for k, v in MALLOC[args.child].items())
    return out | {"malloc": malloc or "glibc's defaults", "clock": Clock.name}


def child(args: argparse.Namespace) -> None:
    """Run the workloads in this process, started with one malloc setting, and save it all."""
    Clock.name = args.clock
    workers, absent = peers.start(str(Path(args.peers) / "bin" / "python") if args.peers else None)
    reports, profiles, min_time = [], {}, 0.001 if args.quick else 0.05
    explain = args.child == args.malloc[0] and not args.quick  # bounds of misses: one setting
    try:
        with tempfile.TemporaryDirectory(prefix="valuegrad-bench-") as work:
            ctx = Context(args.quick, args.repeats, min_time, work, workers=workers, absent=absent)
            for name in args.only:
                print(f"== {name}, {args.child} malloc", flush=True)
                reports.append(importlib.import_module(WORKLOADS[name]).run(ctx))
                for c in reports[-1].checks if explain and not args.no_profile else []:
                    if c.status == "MISS" and c.subject:
                        profiles[c.label] = report.profile(c.subject)
                print(report.section(args.child, reports[-1:], {}, {}, explain), flush=True)
        about = machine(args, workers)
    finally:
        for w in set(workers.values()):
            w.close()
    reports[0].notes += [f"{peers.NAMES[p]} absent: {why}" for p, why in absent.items()]
    results = [res for r in reports for res in r.results]
    benches = [o.bench for res in results for o in res.outcomes.values() if o.bench]
    for b in benches:
        b.update_metadata({k: about[k] for k in ("cpu_model_name", "malloc", "clock")})
    if benches:
        suite = pyperf.BenchmarkSuite(benches)
        suite.dump(str(Path(args.out) / f"results-{args.child}-malloc.json"), replace=True)
    checks = [c for r in reports for c in r.checks]
    side: dict[str, Any] = {
        "section": report.section(args.child, reports, about, profiles, explain)
    }
    side["checks"] = [asdict(c) | {"subject": None, "status": c.status} for c in checks]
    side["measures"] = [asdict(m) for r in reports for m in r.metrics]
    side["times"] = [
        dict(case=res.case.title, system=n, status=o.status, note=o.note, median=o.seconds)
        for res in results
        for n, o in res.outcomes.items()
    ]
    Path(args.side).write_text(json.dumps(side | {"machine": about}), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Make the peers' environment if asked, run each malloc setting in a child, write it up."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    if args.child:
        child(args)
        return 0
    out, runs = Path(args.out), {}
    out.mkdir(parents=True, exist_ok=True)
    failed = peers.install(Path(args.peers)) if args.peers else {}
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    with tempfile.TemporaryDirectory(prefix="valuegrad-bench-") as tmp:
        for malloc in args.malloc:
            env = {k: v for k, v in os.environ.items() if k not in MALLOC["tuned"]}
            env |= MALLOC[malloc] | ONE_THREAD
            side = Path(tmp) / f"{malloc}.json"
            command = [sys.executable, "-m", "benchmarks", *argv, "--child", malloc, "--side"]
            if subprocess.run([*command, str(side)], env=env).returncode:
                print(f"the run with {malloc} malloc failed", file=sys.stderr)
                return 1
            runs[malloc] = json.loads(side.read_text(encoding="utf-8"))
    text = report.HEAD.format(command=shown(argv), date=date)
    text += "".join(f"\n- {peers.NAMES.get(p, p)}: {why}" for p, why in failed.items())
    text += "\n\n" + "\n".join(r.pop("section") for r in runs.values())
    if len(runs) > 1:  # pyperf's test of which differences between the mallocs are significant
        files = [str(out / f"results-{malloc}-malloc.json") for malloc in runs]
        compare = [sys.executable, "-m", "pyperf", "compare_to", "--table", "--table-format", "md"]
        table = subprocess.run([*compare, *files], capture_output=True, text=True).stdout
        text += f"\n## Default against tuned malloc (pyperf compare_to)\n\n{table}"
    (out / "results.md").write_text(text, encoding="utf-8")
    results = json.dumps({"date": date, "runs": runs}, indent=1)
    (out / "results.json").write_text(results, encoding="utf-8")
    print(f"wrote results.md, results.json and the pyperf files in {out}")
    full = not args.quick and args.only == list(WORKLOADS) and "default" in runs
    if full and out.resolve() == HERE.resolve():
        changed = report.update_readme(HERE.parent / "README.md", out / "results.md")
        print("rewrote the table of targets in README.md" if changed else "README.md is current")
    return 0
