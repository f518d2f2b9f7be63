"""Printing the tables, writing results.md and results.csv, and profiling missed targets."""

from __future__ import annotations

import cProfile
import csv
import pstats
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.harness import CLOCKS, TIMED, Clock, Report

OURS = "valuegrad"
REPO = Path(__file__).resolve().parent.parent


def duration(seconds: float | None) -> str:
    """Seconds in the unit that reads best: 412 ns, 41.2 µs, 5.20 ms, 1.23 s."""
    if seconds is None:
        return "—"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            v = seconds / scale
            return f"{v:.3g} {unit}" if v < 100 else f"{v:.0f} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def limit_text(limit: float) -> str:
    """The target as "≤ 0.33"."""
    return f"≤ {limit:g}"


def metric_text(value: float, unit: str) -> str:
    """A measured quantity: 2,034 ns, 160.3 B, 12.47 × one forward+backward."""
    number = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return f"{number} {unit}"


def value_text(value: float | None) -> str:
    """A ratio or value with three significant digits."""
    return "—" if value is None else f"{value:.3g}"


def case_rows(report: Report) -> list[list[str]]:
    """One row per system and case: time per run, and ours / it for each of our systems."""
    rows = []
    for result in report.results:
        ours = [n for n in result.outcomes if n.startswith(OURS)]
        for name, o in result.outcomes.items():
            if o.status == TIMED:
                status = f"{o.number} runs × {len(o.samples)}"
            else:
                status = f"{o.status}: {o.note}"
            ratios = []
            for mine in ours:
                a, b = result.seconds(mine), o.seconds
                if a is not None and b and name != mine:
                    ratios.append(f"{mine}: {a / b:.3g}")
            rows.append([result.case.title, name, duration(o.seconds), "; ".join(ratios), status])
    return rows


def print_report(reports: Sequence[Report], out: Callable[[str], None] = print) -> None:
    """The per-case times and ratios, then the targets with PASS or MISS."""
    for report in reports:
        rows = case_rows(report)
        if rows:
            out(_table(["case", "system", "median/run", "ours / this", "runs"], rows))
            out("")
        for m in report.metrics:
            out(f"  {m.workload} {m.case} {m.system}: {m.metric} = {metric_text(m.value, m.unit)}")
        if report.metrics:
            out("")
    checks = [c for r in reports for c in r.checks]
    if checks:
        out("Targets (this project / other system, from this run):")
        out(
            _table(
                ["target", "measured", "limit", "status"],
                [[c.label, value_text(c.value), limit_text(c.limit), c.status] for c in checks],
            )
        )
    for r in reports:
        for note in r.notes:
            out(f"note: {note}")


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    # Long notes would stretch every row; the last column is left unpadded.
    fmt = "  ".join(f"{{:<{w}}}" for w in widths[:-1]) + "  {}"
    lines = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*row) for row in rows]
    return "\n".join(lines)


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    def cell(x: str) -> str:
        return str(x).replace("|", "\\|")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(x) for x in row) + " |" for row in rows]
    return "\n".join(lines)


def write_markdown(
    path: Path, reports: Sequence[Report], machine: dict[str, str], argv: Sequence[str]
) -> None:
    """results.md: the machine, the targets, every case's table, notes and profiles."""
    command = " ".join(["python -m benchmarks", *argv])
    parts = [
        "# Benchmark results",
        "",
        f"Written by `{command}` on {machine['date']}. Every ratio is this project's median "
        "time over the other system's, both measured in this one run; lower is better. "
        "In the tables of times, \"ours / this\" gives each of this project's systems' time "
        "over the time in that row. See README.md in this folder for how the runs are made.",
        "",
        "## Machine and versions",
        "",
        _md_table(["", ""], [[k, v] for k, v in machine.items()]),
        "",
    ]
    checks = [c for r in reports for c in r.checks]
    if checks:
        parts += [
            "## Targets",
            "",
            _md_table(
                ["target", "measured", "limit", "status", "note"],
                [
                    [c.label, value_text(c.value), limit_text(c.limit), c.status, c.note]
                    for c in checks
                ],
            ),
            "",
        ]
    parts += ["## Times", ""]
    for report in reports:
        rows = case_rows(report)
        if rows:
            parts += [
                _md_table(["case", "system", "median per run", "ours / this", "runs"], rows),
                "",
            ]
        if report.metrics:
            parts += [
                _md_table(
                    ["case", "system", "measure", "value"],
                    [
                        [f"{m.workload} {m.case}", m.system, m.metric, metric_text(m.value, m.unit)]
                        for m in report.metrics
                    ],
                ),
                "",
            ]
    notes = [n for r in reports for n in r.notes]
    if notes:
        parts += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    profiles = {k: v for r in reports for k, v in r.profiles.items()}
    missed = [c for c in checks if c.status == "MISS" and (c.why or c.label in profiles)]
    if missed:
        parts += [
            "## What bounds the missed targets",
            "",
            "For each missed target: what bounds it, in numbers measured in this run, then a "
            "cProfile of this project's side, by own time (tottime); cumtime includes callees.",
            "",
        ]
        for c in missed:
            parts += [f"### {c.label}", ""]
            if c.why:
                parts += [c.why, ""]
            if c.label in profiles:
                parts += ["```text", profiles[c.label], "```", ""]
    path.write_text("\n".join(parts))


def write_csv(path: Path, reports: Sequence[Report], machine: dict[str, str]) -> None:
    """results.csv: one row per timed system, measured quantity and target."""
    date = machine["date"]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["date", "kind", "workload", "case", "system", "quantity", "value", "unit",
                    "status", "note"])  # fmt: skip
        for report in reports:
            for result in report.results:
                case = result.case
                for o in result.outcomes.values():
                    value = "" if o.seconds is None else f"{o.seconds:.6g}"
                    w.writerow(
                        [date, "time", case.workload, case.label, o.system,
                         "median seconds per run", value, "s", o.status, o.note]
                    )  # fmt: skip
            for m in report.metrics:
                w.writerow([date, "measure", m.workload, m.case, m.system, m.metric,
                            f"{m.value:.6g}", m.unit, "", ""])  # fmt: skip
            for c in report.checks:
                value = "" if c.value is None else f"{c.value:.6g}"
                w.writerow([date, "target", c.workload, c.label, OURS, f"≤ {c.limit:g}",
                            value, "ratio", c.status, c.note])  # fmt: skip


def _where(filename: str) -> str:
    """A profiled function's file relative to the project or to site-packages: no machine paths."""
    if filename.startswith("~") or filename.startswith("<"):
        return ""
    p = Path(filename)
    parts = p.parts
    if "site-packages" in parts:
        return "/".join(parts[parts.index("site-packages") + 1 :])
    try:
        return str(p.resolve().relative_to(REPO))
    except ValueError:
        return p.name


def profile(step: Callable[[], object], seconds: float = 1.0, top: int = 14) -> str:
    """cProfile of `step` run for about `seconds`: the functions with the most own time."""
    start = time.perf_counter()
    runs = 0
    prof = cProfile.Profile(CLOCKS[Clock.name])
    prof.enable()
    while time.perf_counter() - start < seconds or runs < 2:
        step()
        runs += 1
    prof.disable()
    stats: Any = pstats.Stats(prof)
    total = stats.total_tt
    entries = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    lines = [f"{runs} runs profiled, {total / runs * 1e3:.3g} ms per run under the profiler"]
    lines.append(f"{'own %':>6} {'own/run':>10} {'cum/run':>10} {'calls/run':>10}  function")
    for (filename, line, name), (_, ncalls, tottime, cumtime, _) in entries:
        where = _where(filename)
        func = f"{where}:{line} {name}" if where else name
        lines.append(
            f"{100 * tottime / total:6.1f} {duration(tottime / runs):>10} "
            f"{duration(cumtime / runs):>10} {ncalls / runs:10.0f}  {func}"
        )
    return "\n".join(lines)


def profile_misses(report: Report, seconds: float) -> None:
    """Profile this project's side of every missed target that has a step to run."""
    for check in report.checks:
        if check.status == "MISS" and check.subject is not None:
            report.profiles[check.label] = profile(check.subject, seconds)
