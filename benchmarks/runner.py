"""`python -m benchmarks`: run the workloads under each malloc setting and write the results.

glibc reads its malloc settings, and BLAS, OpenMP, PyTorch and XLA their thread counts, as a
process starts, so each setting runs in a child process started with them.
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
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyperf  # type: ignore[import-untyped]

from benchmarks import peers, report
from benchmarks.harness import Context
from benchmarks.peers import CLOCKS

HERE = Path(__file__).parent
NAMES = ["demo", "lesson", "mlp", "chain", "gradcheck"]
WORKLOADS = {f"W{i}": f"benchmarks.w{i}_{name}" for i, name in enumerate(NAMES, 1)}
KEEP = dict.fromkeys(("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_"), "2000000000")
MALLOC = {"default": {}, "tuned": KEEP | {"MALLOC_TOP_PAD_": "100000000"}}
ONE_THREAD = dict.fromkeys(("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"), "1")
ONE_THREAD["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
# What pyperf's metadata says the numbers were measured on (not where: no paths, no host).
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
    add("--peers", metavar="VENV", help="run HIPS autograd and JAX in this virtual environment")
    add("--no-profile", action="store_true", help="do not profile the missed targets")
    add("--child", choices=sorted(MALLOC), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.only = [w.strip().upper() for w in args.only.split(",") if w.strip()]
    args.malloc = (args.malloc or ("default" if args.quick else "default,tuned")).split(",")
    for given, known in ((args.only, WORKLOADS), (args.malloc, MALLOC)):
        if unknown := [w for w in given if w not in known] or ([] if given else ["(none)"]):
            p.error(f"unknown {', '.join(unknown)}; choose from {', '.join(known)}")
    if args.peers and not (Path(args.peers) / "bin" / "python").exists():
        p.error(f"--peers {args.peers}: no bin/python there; make it as README.md says")
    if args.repeats is not None and args.repeats < 1:
        p.error(f"--repeats must be at least 1, got {args.repeats}")
    args.repeats = args.repeats or (1 if args.quick else 7)
    return args


def shown(argv: Sequence[str]) -> str:
    """The command line as results.md shows it: a folder given to --out or --peers as PATH."""
    return re.sub(r"(--out|--peers)[= ]\S+", r"\1=PATH", " ".join(["python -m benchmarks", *argv]))


def machine(args: argparse.Namespace, ctx: Context) -> dict[str, str]:
    """What the numbers were measured on: pyperf's metadata, versions, threads, malloc, clock."""
    meta = pyperf.Run([1.0], collect_metadata=True).get_metadata()
    out = {k: str(meta[k]) for k in KEPT if k in meta}
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    out["numpy"] = f"{np.__version__} ({blas.get('name')} {blas.get('version')})"
    found = {d.metadata["Name"]: d.version for d in importlib.metadata.distributions()}
    out |= {d: found.get(d, "not installed") for d in ("valuegrad", "micrograd", "torch", "pyperf")}
    git = ["git", "-C", str(HERE), "log", "-1", "--format=%h of %cd", "--date=short"]
    out["engine commit"] = subprocess.run(git, capture_output=True, text=True).stdout.strip()
    if ctx.peers is not None:  # what the worker's interpreter has
        v = ctx.peers.request("versions", "numpy", "autograd", "jax")
        out["peers"] = f"HIPS autograd {v['autograd']}, JAX {v['jax']} (Python {v['python']}, "
        out["peers"] += f"numpy {v['numpy']})"
    malloc = ", ".join(f"{k}={v}" for k, v in MALLOC[args.child].items()) or "glibc's defaults"
    return out | {"threads": "one per system", "malloc": malloc, "clock": args.clock}


def child(args: argparse.Namespace) -> dict[str, object]:
    """Run the workloads in this process, started with one malloc setting: what it measured."""
    reports, python = [], Path(args.peers or ".") / "bin" / "python"
    seconds = 0.0 if args.no_profile else 0.1 if args.quick else 1.0  # of each missed target's
    min_time = 0.001 if args.quick else 0.05
    ctx = Context(args.quick, args.repeats, min_time, args.clock)
    ctx.peers = peers.Worker(str(python)) if args.peers else None
    try:
        for name in args.only:
            ctx.log(f"== {name}, {args.child} malloc")
            reports.append(importlib.import_module(WORKLOADS[name]).run(ctx))
            for c in reports[-1].checks if args.child == args.malloc[0] else []:
                if c.status == "MISS" and c.case is not None:  # explained under one setting
                    report.explain(c, seconds)
            ctx.log(report.targets([report.saved(c) for c in reports[-1].checks]))
        about = machine(args, ctx)
    finally:
        if ctx.peers is not None:
            ctx.peers.close()
    cases = [case for r in reports for case in r.results]
    times = [dict(case=c.title, system=n, status=o.status, note=o.note, median=c.seconds(n))
             for c in cases for n, o in c.outcomes.items()]  # fmt: skip
    benches = [o.bench for case in cases for o in case.outcomes.values() if o.bench]
    for b in benches:
        b.update_metadata({k: about[k] for k in ("cpu_model_name", "malloc", "clock")})
    if benches:
        suite = pyperf.BenchmarkSuite(benches)
        suite.dump(str(Path(args.out) / f"results-{args.child}-malloc.json"), replace=True)
    checks = [report.saved(c) for r in reports for c in r.checks]
    measures = [asdict(m) for r in reports for m in r.metrics]
    notes = list(dict.fromkeys(n for r in reports for n in r.notes))
    return dict(machine=about, checks=checks, times=times, measures=measures, notes=notes)


def main(argv: Sequence[str] | None = None) -> int:
    """Run each malloc setting in a child, then write results.md, results.json and the README."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    if args.child:
        print(json.dumps(child(args)))
        return 0
    out, runs = Path(args.out), {}
    out.mkdir(parents=True, exist_ok=True)
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    for malloc in args.malloc:
        env = {k: v for k, v in os.environ.items() if k not in MALLOC["tuned"]}
        command = [sys.executable, "-m", "benchmarks", *argv, "--child", malloc]
        done = subprocess.run(
            command, env=env | MALLOC[malloc] | ONE_THREAD, stdout=subprocess.PIPE
        )
        if done.returncode:
            print(f"the run with {malloc} malloc failed", file=sys.stderr)
            return 1
        runs[malloc] = json.loads(done.stdout.splitlines()[-1])  # the child's last line
    text = report.HEAD.format(command=shown(argv), date=date)
    text += "\n".join(report.section(malloc, run) for malloc, run in runs.items())
    if len(runs) > 1:  # pyperf's test of which differences between the mallocs are significant
        files = [str(out / f"results-{malloc}-malloc.json") for malloc in runs]
        compare = [sys.executable, "-m", "pyperf", "compare_to", "--table", "--table-format", "md"]
        table = subprocess.run([*compare, *files], capture_output=True, text=True).stdout
        text += f"\n## Default against tuned malloc (pyperf compare_to)\n\n{table}"
    (out / "results.md").write_text(text, encoding="utf-8")
    results = {"date": date, "runs": runs}
    (out / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"wrote results.md, results.json and the pyperf files in {out}")
    full = not args.quick and args.only == list(WORKLOADS) and "default" in runs
    if full and out.resolve() == HERE.resolve():
        changed = report.update_readme(HERE.parent / "README.md", results)
        print("rewrote the table of targets in README.md" if changed else "README.md is current")
    return 0
