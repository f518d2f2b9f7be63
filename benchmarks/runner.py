"""The command line: `python -m benchmarks [--quick] [--repeats N] [--only W1,W2] [--out DIR]`."""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks import machine, readme
from benchmarks.external import HIPS_ENV, JAX_ENV, start_workers
from benchmarks.harness import CLOCKS, Clock, Context, Report
from benchmarks.report import print_report, profile_misses, write_csv, write_markdown

HERE = Path(__file__).parent
README = HERE.parent / "README.md"

WORKLOADS = {
    "W1": ("benchmarks.w1_demo", "micrograd's demo step, scalar and tensor"),
    "W2": ("benchmarks.w2_lesson", "the lesson's 2→2→1 network, forward and nine gradients"),
    "W3": ("benchmarks.w3_mlp", "MLP 64→256→256→1, one SGD step"),
    "W4": ("benchmarks.w4_chain", "a chain of n scalar operations: time and memory per node"),
    "W5": ("benchmarks.w5_gradcheck", "the cost of each gradcheck mode"),
}


CLOCK_TEXT = {
    "wall": "wall-clock time (time.perf_counter)",
    "cpu": "CPU time of the process, all its threads (time.process_time)",
}


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The command line's options."""
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time valuegrad against micrograd, PyTorch, HIPS autograd, JAX and numpy.",
    )
    p.add_argument("--quick", action="store_true", help="tiny sizes and one repeat (a smoke test)")
    p.add_argument("--repeats", type=int, default=None, help="timing samples per system (7)")
    p.add_argument("--only", default="", help="comma-separated workloads, e.g. W1,W2")
    p.add_argument(
        "--out",
        default=str(HERE),
        help="folder for results.md and results.csv (default: this package's folder)",
    )
    p.add_argument("--hips-python", default=None, help=f"HIPS autograd's Python (or ${HIPS_ENV})")
    p.add_argument("--jax-python", default=None, help=f"a Python with JAX (or ${JAX_ENV})")
    p.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="wall-clock time (default), or this process's CPU time, steadier on a busy machine",
    )
    p.add_argument(
        "--default-malloc",
        action="store_true",
        help="keep glibc's default malloc settings (see README.md)",
    )
    p.add_argument(
        "--default-threads",
        action="store_true",
        help="let BLAS, PyTorch and JAX use their default threads (see README.md)",
    )
    p.add_argument(
        "--no-profile", action="store_true", help="do not profile the targets that were missed"
    )
    args = p.parse_args(argv)
    only = [w.strip().upper() for w in args.only.split(",") if w.strip()]
    unknown = [w for w in only if w not in WORKLOADS]
    if unknown:
        p.error(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
    args.only = only or list(WORKLOADS)
    if args.repeats is None:
        args.repeats = 1 if args.quick else 7
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    return args


def shown(argv: Sequence[str]) -> list[str]:
    """The command line as results.md shows it: no folders or interpreters of this machine."""
    out: list[str] = []
    hidden = {"--out": "DIR", "--hips-python": "PYTHON", "--jax-python": "PYTHON"}
    words = iter(argv)
    for word in words:
        flag, eq, _ = word.partition("=")
        if flag in hidden:
            out.append(f"{flag} {hidden[flag]}")
            if not eq:
                next(words, None)
        else:
            out.append(word)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen workloads, print the tables and write the results; 0 on success."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    start = time.perf_counter()
    Clock.name = args.clock
    load_before = machine.load()
    workers, worker_notes = start_workers(args.hips_python, args.jax_python)
    reports: list[Report] = []
    try:
        with tempfile.TemporaryDirectory(prefix="valuegrad-bench-") as workdir:
            ctx = Context(
                quick=args.quick,
                repeats=args.repeats,
                min_time=0.0 if args.quick else 0.05,
                workdir=workdir,
                workers=workers,
                worker_notes=worker_notes,
            )
            for name in args.only:
                module, what = WORKLOADS[name]
                print(f"== {name}: {what}", flush=True)
                report = importlib.import_module(module).run(ctx)
                if not args.quick and not args.no_profile:
                    profile_misses(report, seconds=1.0)
                reports.append(report)
                print_report([report])
                print(flush=True)
        info = machine.describe(workers)
        info["clock"] = CLOCK_TEXT[args.clock]
        info["load average"] = (
            f"{load_before} at the start, {machine.load()} at the end "
            "(1-minute average of runnable processes; above the core count, other work "
            "competed for the CPU)"
        )
    finally:
        for w in set(workers.values()):
            w.close()
    for note in worker_notes.values():
        print(f"note: {note}")
    print("== summary")
    summary = Report(checks=[c for r in reports for c in r.checks])
    print_report([summary])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    reports[0].notes[:0] = list(worker_notes.values())
    write_markdown(out / "results.md", reports, info, shown(argv))
    write_csv(out / "results.csv", reports, info)
    print(f"\nwrote {out / 'results.md'} and {out / 'results.csv'} "
          f"in {time.perf_counter() - start:.0f} s")  # fmt: skip
    full = not args.quick and set(args.only) == set(WORKLOADS)
    if full and out.resolve() == HERE.resolve() and readme.update(README, out / "results.md"):
        print("updated the table of ratios in README.md")
    return 0
