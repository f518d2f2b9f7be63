"""results.md and the README's table, written from results.json; what bounds a missed target."""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.harness import Check

START = "<!-- benchmark table: written by `python -m benchmarks` from benchmarks/results.json -->"
END = "<!-- end of the benchmark table -->"
UNITS = (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9))
HEAD = """# Benchmark results

Written by `{command}` on {date}. A ratio is this project's median time over the other's in the
same run (lower is better; in brackets, its range within one round of samples). Every sample is
in the pyperf files beside this one; README.md in this folder says how the runs are made.
"""


def duration(seconds: float | None) -> str:
    """Seconds in the unit that reads best: 412 ns, 41.2 µs, 5.2 ms, 1.23 s."""
    if seconds is None:
        return "—"
    unit, scale = next((u, x) for u, x in UNITS if seconds >= x or u == "ns")
    return f"{seconds / scale:.3g} {unit}"


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
    times = [[t["case"], t["system"], duration(t["median"]), t["status"], t["note"]]
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
    text, calls = profile(steps[ours], seconds)
    theirs = f" and called {profile(steps[other], 0)[1]:.0f}" if other in steps else ""
    check.why = (
        f"In {case.title}, one {ours} step took {duration(case.seconds(ours))} and called "
        f"{calls:.0f} Python functions (counted by cProfile; numpy's own work runs in C); "
        f"{other} took {duration(case.seconds(other))}{theirs}."
    )
    check.why += f"\n\ncProfile of {ours}:\n\n```text\n{text}\n```" if seconds > 0 else ""


def readme_table(results: dict[str, Any]) -> str:
    """The README's block: when it was measured, then every target, under both mallocs."""
    runs = results["runs"]
    clock = {"cpu": "CPU time", "wall": "wall-clock time"}[runs["default"]["machine"]["clock"]]
    tuned = {c["label"]: measured(c) for c in runs.get("tuned", {}).get("checks", [])}
    rows = [[c["label"], measured(c), tuned.get(c["label"], "—"), f"≤ {c['limit']:g}",
             c["status"]] for c in runs["default"]["checks"]]  # fmt: skip
    return "\n".join([
        START,
        f"Measured side by side in one run on {results['date']}, in {clock}, one thread per "
        "system (ratio = valuegrad's time or memory over the other's, lower is better; in "
        "brackets its range within one round of samples). The targets are read under glibc's "
        "default malloc, which users have. `benchmarks/results.md` has every time and, for "
        "each missed target, what bounds it:",
        "",
        table(["target", "default malloc", "tuned malloc", "limit", "status"], rows),
        END,
    ])  # fmt: skip


def update_readme(readme: Path, results: dict[str, Any]) -> bool:
    """Rewrite the README's block from results.json; True if the README changed."""
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    new = head + readme_table(results) + rest.split(END, 1)[1]
    readme.write_text(new, encoding="utf-8")
    return new != text
