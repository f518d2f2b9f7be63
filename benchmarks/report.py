"""The results as Markdown, the README's table of targets, and profiles of the missed ones.

A full run of `python -m benchmarks` (every workload, results in this folder) rewrites the
README's block between START and END from results.md; tests/test_readme.py checks they agree.
"""

from __future__ import annotations

import cProfile
import pstats
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.harness import Check, Report

REPO = Path(__file__).resolve().parent.parent
START = "<!-- benchmark table: written by `python -m benchmarks` from benchmarks/results.md -->"
END = "<!-- end of the benchmark table -->"
UNITS = (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9))
HEAD = """# Benchmark results

Written by `{command}` on {date}. A ratio is this project's median time over the other
system's, both measured in the same run (lower is better); in brackets, the lowest and highest
ratio within one round of samples. The targets are read under glibc's default malloc, which
users have. The samples are in the pyperf files beside this one (`python -m pyperf show`);
README.md in this folder says how the runs are made."""


def duration(seconds: float | None) -> str:
    """Seconds in the unit that reads best: 412 ns, 41.2 µs, 5.20 ms, 1.23 s."""
    if seconds is None:
        return "—"
    unit, scale = next((u, x) for u, x in UNITS if seconds >= x or u == "ns")
    return (
        f"{seconds / scale:.3g} {unit}"
        if seconds < 100 * scale
        else f"{seconds / scale:.0f} {unit}"
    )


def number(value: float | None) -> str:
    """Three significant digits (thousands separated), or — when there is none."""
    return "—" if value is None else f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def table(header: Sequence[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in rows])


def targets(checks: list[Check]) -> str:
    """The targets: measured (the range within one round of samples), limit, status, note."""
    rows = []
    for c in checks:
        spread = f" ({number(c.low)}–{number(c.high)})" if c.low is not None else ""
        rows.append([c.label, number(c.value) + spread, f"≤ {c.limit:g}", c.status, c.note])
    return table(["target", "measured", "limit", "status", "note"], rows)


def section(
    malloc: str,
    reports: list[Report],
    about: dict[str, Any],
    profiles: dict[str, str],
    bounds: bool,
) -> str:
    """One malloc setting's part of results.md: machine, targets, times, measures, and with
    `bounds` what bounds each missed target."""
    checks, m = [c for r in reports for c in r.checks], f"{malloc} malloc"
    out = [f"## Machine, {m}", "", table(["", ""], [[k, str(v)] for k, v in about.items()]), ""]
    out += [f"## Targets, {m}", "", targets(checks), "", f"## Times, {m}", ""]
    rows = []
    for result in (res for r in reports for res in r.results):
        ours = {n: o.seconds for n, o in result.outcomes.items() if n.startswith("valuegrad")}
        for name, o in result.outcomes.items():
            t, b = o.seconds, o.bench
            ratios = [f"{k}: {v / t:.3g}" for k, v in ours.items() if v and t and k != name]
            runs = f"{b.get_loops()} runs × {b.get_nvalue()}" if b else f"{o.status}: {o.note}"
            spread = f" ± {duration(b.median_abs_dev())}" if b and b.get_nvalue() > 1 else ""
            rows.append([result.case.title, name, duration(t) + spread, "; ".join(ratios), runs])
    out += [table(["case", "system", "median ± MAD", "ours / this", "samples"], rows), ""]
    measures = [
        [x.case, x.system, x.metric, f"{number(x.value)} {x.unit}"]
        for r in reports
        for x in r.metrics
    ]
    out += [table(["case", "system", "measure", "value"], measures), ""] if measures else []
    notes = list(dict.fromkeys(n for r in reports for n in r.notes))
    out += [f"Notes, {m}:", "", *[f"- {n}" for n in notes], ""] if notes else []
    for c in (c for c in checks if bounds and c.status == "MISS"):
        out += [f"### What bounds {c.label}, {m}", ""] + ([c.why, ""] if c.why else [])
        if c.label in profiles:
            out += ["cProfile of this project's side:", "", "```text", profiles[c.label], "```", ""]
    return "\n".join(out)


def _where(filename: str) -> str:
    """A profiled function's file relative to the project or site-packages: no machine paths."""
    path = Path(filename)
    if "site-packages" in path.parts:
        return "/".join(path.parts[path.parts.index("site-packages") + 1 :])
    if filename.startswith(("~", "<")):
        return ""
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else path.name


def profile(step: Callable[[], object], seconds: float = 1.0, top: int = 12) -> str:
    """cProfile of `step` run for about `seconds`: the functions with the most own time."""
    prof, runs, start = cProfile.Profile(), 0, time.perf_counter()
    prof.enable()
    while time.perf_counter() - start < seconds or runs < 2:
        step()
        runs += 1
    prof.disable()
    stats: Any = pstats.Stats(prof)
    lines = [
        f"{runs} runs, {duration(stats.total_tt / runs)} per run under the profiler",
        f"{'own %':>6} {'own/run':>10} {'cum/run':>10} {'calls/run':>9}  function",
    ]
    for (file, line, name), (_, calls, own, cum, _) in sorted(
        stats.stats.items(), key=lambda kv: -kv[1][2]
    )[:top]:
        where = f"{_where(file)}:{line} " if _where(file) else ""
        times = f"{duration(own / runs):>10} {duration(cum / runs):>10} {calls / runs:9.0f}"
        lines.append(f"{100 * own / stats.total_tt:6.1f} {times}  {where}{name}")
    return "\n".join(lines)


def target_rows(results_md: str, malloc: str) -> list[list[str]]:
    """The rows of one malloc setting's table of targets in results.md, as cells."""
    found = results_md.partition(f"## Targets, {malloc} malloc")[2].split("\n## ", 1)[0]
    return [line.strip("| ").split(" | ") for line in found.splitlines() if line.startswith("| ")][
        1:
    ]


def readme_table(results_md: str) -> str:
    """The README's block: when it was measured, then every target, under both mallocs."""
    date = re.search(r" on (\d{4}-\d\d-\d\d \d\d:\d\d UTC)", results_md)
    clock = {"cpu": "CPU time", "wall": "wall-clock time"}.get(
        (re.findall(r"\| clock \| (\w+) \|", results_md) or ["?"])[0], "?"
    )
    tuned = {cells[0]: cells[1] for cells in target_rows(results_md, "tuned")}
    rows = [[c[0], c[1], tuned.get(c[0], "—"), *c[2:4]] for c in target_rows(results_md, "default")]
    return "\n".join([
        START,
        f"Measured side by side in one run on {date.group(1) if date else '—'}, in {clock}, one "
        "thread per system (ratio = valuegrad's time or memory over the other's, lower is "
        "better; in brackets its range within one round of samples). The targets are read under "
        "glibc's "
        "default malloc, which users have. `benchmarks/results.md` has every time and, for "
        "each missed target, what bounds it:",
        "",
        table(["target", "default malloc", "tuned malloc", "limit", "status"], rows),
        END,
    ])  # fmt: skip


def update_readme(readme: Path, results: Path) -> bool:
    """Rewrite the README's block from results.md; True if the README changed."""
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    new = head + readme_table(results.read_text(encoding="utf-8")) + rest.split(END, 1)[1]
    readme.write_text(new, encoding="utf-8")
    return new != text
