"""`python -m benchmarks`: run the workloads under each malloc setting and write the results.

results.json holds what was measured, and results.md and the README's tables are written from
it. glibc reads its malloc settings, and BLAS, OpenMP, PyTorch and XLA their thread counts, as
a process starts, so each setting runs in a child process started with them.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import importlib
import importlib.metadata
import io
import json
import os
import pstats
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyperf  # type: ignore[import-untyped]

from benchmarks import peers
from benchmarks.harness import Check, Context
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
START = "<!-- benchmark table: written by `python -m benchmarks` from benchmarks/results.json -->"
END = "<!-- end of the benchmark table -->"
MARKS = [(START, END), tuple(m.replace("table", "table of the compiler") for m in (START, END))]
COMPILER = re.compile("compil|first call").search  # the compiler's targets, in its own section
HEAD = """# Benchmark results

Written by `{command}` on {date}. A ratio is this project's median time over the other's in the
same run (lower is better; in brackets, its range within one round). Every sample is in the
pyperf files beside this one; README.md in this folder says how they are taken.
"""


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
        peer = "HIPS autograd {autograd}, JAX {jax} (Python {python}, numpy {numpy})"
        out["peers"] = peer.format(**v)
    malloc = ", ".join(f"{k}={v}" for k, v in MALLOC[args.child].items()) or "glibc's defaults"
    torch = sys.modules.get("torch")  # it reads OMP_NUM_THREADS as it is imported
    one = torch is None or torch.get_num_threads() == 1
    one &= all(os.environ.get(k) == v for k, v in ONE_THREAD.items())
    threads = "one per system" if one else "several (see ONE_THREAD in runner.py)"
    return out | {"threads": threads, "malloc": malloc, "clock": args.clock}


def child(args: argparse.Namespace) -> dict[str, object]:
    """Run the workloads in this process, started with one malloc setting: what it measured."""
    reports, seconds = [], 0.0 if args.no_profile else 0.1 if args.quick else 1.0  # of a profile
    ctx = Context(args.quick, args.repeats, 0.001 if args.quick else 0.05, args.clock)
    ctx.peers = peers.Worker(str(Path(args.peers) / "bin" / "python")) if args.peers else None
    try:
        for name in args.only:
            ctx.log(f"== {name}, {args.child} malloc")
            reports.append(importlib.import_module(WORKLOADS[name]).run(ctx))
            for c in reports[-1].checks if args.child == args.malloc[0] else []:
                if c.status == "MISS" and c.case is not None:  # explained under one setting
                    explain(c, seconds)
            ctx.log(targets([saved(c) for c in reports[-1].checks]))
        about = machine(args, ctx)
    finally:
        if ctx.peers is not None:
            ctx.peers.close()
    cases = [case for r in reports for case in r.results]
    times = [dict(case=c.title, system=n, status=o.status, note=o.note, median=c.seconds(n),
                  time=o.bench.format_value(o.bench.median()) if o.bench else "—")
             for c in cases for n, o in c.outcomes.items()]  # fmt: skip
    benches = [o.bench for case in cases for o in case.outcomes.values() if o.bench]
    for b in benches:
        b.update_metadata({k: about[k] for k in ("cpu_model_name", "malloc", "clock")})
    if benches:
        suite = pyperf.BenchmarkSuite(benches)
        suite.dump(str(Path(args.out) / f"results-{args.child}-malloc.json"), replace=True)
    checks = [saved(c) for r in reports for c in r.checks]
    measures = [m._asdict() for r in reports for m in r.metrics]
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
        env = {k: v for k, v in os.environ.items() if k not in MALLOC["tuned"]} | ONE_THREAD
        command = [sys.executable, "-m", "benchmarks", *argv, "--child", malloc]
        done = subprocess.run(command, env=env | MALLOC[malloc], stdout=subprocess.PIPE)
        if done.returncode:
            raise SystemExit(f"the run with {malloc} malloc failed")
        runs[malloc] = json.loads(done.stdout.splitlines()[-1])  # the child's last line
    text = HEAD.format(command=shown(argv), date=date)
    text += "\n" + "\n".join(section(malloc, run) for malloc, run in runs.items())
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
        changed = update_readme(HERE.parent / "README.md", results)
        print("rewrote the table of targets in README.md" if changed else "README.md is current")
    return 0


def number(value: float | None) -> str:
    """Three significant digits (thousands separated), or — when there is none."""
    return "—" if value is None else f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def table(header: Sequence[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in rows])


def saved(c: Check) -> dict[str, Any]:
    """What results.json keeps of a check."""
    keys = ("label", "value", "limit", "status", "note", "low", "high", "why")
    return {k: getattr(c, k) for k in keys}


def measured(c: dict[str, Any]) -> str:
    """A saved check's value and, for a ratio, its range within one round: 1.5 (1.4–1.6)."""
    spread = "" if c["low"] is None else f" ({number(c['low'])}–{number(c['high'])})"
    return number(c["value"]) + spread


def targets(checks: list[dict[str, Any]]) -> str:
    """The saved checks as a table: measured, limit, status, note."""
    rows = [[c["label"], measured(c), f"≤ {c['limit']:g}", c["status"], c["note"]] for c in checks]
    return table(["target", "measured", "limit", "status", "note"], rows)


def section(malloc: str, run: dict[str, Any]) -> str:
    """One malloc setting's part of results.md: machine, targets, times, other measures, notes,
    and what bounds each missed target that was explained."""
    m, machine = f"{malloc} malloc", [[*kv] for kv in run["machine"].items()]
    out = [f"## Machine, {m}", "", table(["", ""], machine), "", f"## Targets, {m}", ""]
    times = [[t["case"], t["system"], t["time"], t["status"], t["note"]]
             for t in run["times"]]  # fmt: skip
    out += [targets(run["checks"]), "", f"## Times, {m}", ""]
    out += [table(["case", "system", "median", "status", "note"], times), ""]
    measures = [[x["case"], x["system"], x["metric"], f"{number(x['value'])} {x['unit']}"]
                for x in run["measures"]]  # fmt: skip
    out += [table(["case", "system", "measure", "value"], measures), ""] if measures else []
    out += [f"Notes, {m}:", "", *[f"- {n}" for n in run["notes"]], ""] if run["notes"] else []
    for c in (c for c in run["checks"] if c["status"] == "MISS" and c["why"]):
        out += [f"### What bounds {c['label']}, {m}", "", c["why"], ""]
    return "\n".join(out)


def profile(step: Callable[[], object], seconds: float) -> tuple[str, float]:
    """cProfile of `step` run for about `seconds`, twice at least: the functions with the most
    own time, and how many Python functions one run calls (those written in C not counted)."""
    prof, runs, start, text = cProfile.Profile(), 0, time.perf_counter(), io.StringIO()
    prof.enable()
    while time.perf_counter() - start < seconds or runs < 2:
        step()
        runs += 1
    prof.disable()
    stats: Any = pstats.Stats(prof, stream=text).strip_dirs().sort_stats("tottime")
    stats.print_stats(12)  # file names without their folders: no paths of this machine
    calls = sum(row[1] for (file, _, _), row in stats.stats.items() if file != "~") / runs
    return f"{runs} runs of the step\n{text.getvalue().strip()}", calls - 1  # less the step


def explain(check: Check, seconds: float) -> None:
    """Say what bounds a missed ratio: each side's time and Python calls per step, and (with
    seconds > 0) a cProfile of this project's side."""
    assert check.case is not None
    case, (ours, other) = check.case, check.sides
    steps = {s.name: s.step for s in case.systems if s.timer is None}  # the peers run elsewhere
    took = {n: b.format_value(b.median()) for n in (ours, other) if (b := case.outcomes[n].bench)}
    text, calls = profile(steps[ours], seconds)
    theirs = f" and called {profile(steps[other], 0)[1]:.0f}" if other in steps else ""
    check.why = (
        f"In {case.title}, one {ours} step took {took[ours]} and called {calls:.0f} Python "
        f"functions (counted by cProfile; numpy's own work runs in C); {other} took "
        f"{took[other]}{theirs}."
    )
    check.why += f"\n\ncProfile of {ours}:\n\n```text\n{text}\n```" if seconds > 0 else ""


def readme_table(results: dict[str, Any], compiled: bool = False) -> str:
    """A README block: when measured, then the eager targets, or with `compiled` the compiler's."""
    runs, (start, end) = results["runs"], MARKS[compiled]
    clock = {"cpu": "CPU time", "wall": "wall-clock time"}[runs["default"]["machine"]["clock"]]
    tuned = {c["label"]: measured(c) for c in runs.get("tuned", {}).get("checks", [])}
    kept = [[c["label"], measured(c), tuned.get(c["label"], "—"), f"≤ {c['limit']:g}", c["status"]]
        for c in runs["default"]["checks"] if bool(COMPILER(c["label"])) == compiled]  # fmt: skip
    return "\n".join([
        start,
        f"Measured side by side in one run on {results['date']}, in {clock}, one thread per system:"
        " valuegrad's time or memory over the other's (lower is better; in brackets, the range in "
        "one round). Status under glibc's default malloc; `benchmarks/results.md` says what bounds "
        "each miss:",
        "",
        table(["target", "default malloc", "tuned malloc", "limit", "status"], kept),
        end,
    ])  # fmt: skip


def update_readme(readme: Path, results: dict[str, Any]) -> bool:
    """Rewrite the README's two blocks from results.json; True if the README changed."""
    text = new = readme.read_text(encoding="utf-8")
    for compiled, (start, end) in enumerate(MARKS):
        head, rest = new.split(start, 1)
        new = head + readme_table(results, bool(compiled)) + rest.split(end, 1)[1]
    readme.write_text(new, encoding="utf-8")
    return new != text
