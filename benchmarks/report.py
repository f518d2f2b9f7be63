"""The results as text: tables for the console and results.md, and profiles of the misses."""

from __future__ import annotations

import cProfile
import pstats
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.harness import Report

REPO = Path(__file__).resolve().parent.parent


def duration(seconds: float | None) -> str:
    """Seconds in the unit that reads best: 412 ns, 41.2 µs, 5.20 ms, 1.23 s."""
    if seconds is None:
        return "—"
    unit, scale = next(
        (u, s) for u, s in (("s", 1), ("ms", 1e-3), ("µs", 1e-6), ("ns", 0)) if seconds >= s
    )
    v = seconds / (scale or 1e-9)
    return f"{v:.3g} {unit}" if v < 100 else f"{v:.0f} {unit}"


def number(value: float | None) -> str:
    """Three significant digits (thousands separated), or — when there is none."""
    return "—" if value is None else f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def data(rep: Report) -> dict[str, Any]:
    """A workload's report as plain data: each case's outcomes, the checks, measures, notes."""
    cases = [
        {
            "title": r.case.title,
            "outcomes": [
                {
                    "system": o.system,
                    "status": o.status,
                    "note": o.note,
                    "median": o.seconds,
                    "runs": o.bench.get_loops() if o.bench else 0,
                    "samples": list(o.bench.get_values()) if o.bench else [],
                }
                for o in r.outcomes.values()
            ],
        }
        for r in rep.results
    ]
    checks = [
        {k: v for k, v in asdict(c).items() if k != "subject"} | {"status": c.status}
        for c in rep.checks
    ]
    return {
        "cases": cases,
        "checks": checks,
        "metrics": [asdict(m) for m in rep.metrics],
        "notes": rep.notes,
    }


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(
        lines + ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    )


def targets(checks: list[dict[str, Any]]) -> str:
    """The targets: measured (range within one round), limit, status, note."""
    rows = [
        [
            c["label"],
            number(c["value"]) + (f" ({number(c['low'])}–{number(c['high'])})" if c["low"] else ""),
            f"≤ {c['limit']:g}",
            c["status"],
            c["note"],
        ]
        for c in checks
    ]
    return table(["target", "measured", "limit", "status", "note"], rows)


def times(cases: list[dict[str, Any]], also: dict[str, Any] | None = None) -> str:
    """One row per case and system: median, the other malloc's median, ours / this, samples."""
    rows = []
    for case in cases:
        ours = {
            o["system"]: o["median"]
            for o in case["outcomes"]
            if o["system"].startswith("valuegrad")
        }
        for o in case["outcomes"]:
            other = (also or {}).get(f"{case['title']} | {o['system']}")
            ratios = [
                f"{k}: {v / o['median']:.3g}"
                for k, v in ours.items()
                if v and o["median"] and k != o["system"]
            ]
            state = (
                f"{o['runs']} runs × {len(o['samples'])}"
                if o["median"]
                else f"{o['status']}: {o['note']}"
            )
            rows.append(
                [case["title"], o["system"], duration(o["median"])]
                + ([duration(other)] if also is not None else [])
                + ["; ".join(ratios), state]
            )
    header = ["case", "system", "median", *(["other malloc"] if also is not None else [])]
    return table([*header, "ours / this", "runs"], rows)


def markdown(runs: dict[str, dict[str, Any]], command: str, date: str) -> str:
    """results.md: machine, targets per malloc, times, measures, notes, what bounds the misses."""
    main = runs.get("default") or next(iter(runs.values()))
    other = {
        f"{c['title']} | {o['system']}": o["median"]
        for name, r in runs.items()
        if r is not main
        for c in r["cases"]
        for o in c["outcomes"]
    }
    parts = [
        "# Benchmark results",
        "",
        f"Written by `{command}` on {date}. A ratio is this project's median time over the other "
        "system's, both measured in the same run (lower is better); in brackets, the lowest and "
        "highest ratio within one round of samples. The targets hold under glibc's default "
        "malloc, which users have. See README.md in this folder for how it measures.",
        "",
        "## Machine and versions",
        "",
        table(
            ["", *(f"{m} malloc" for m in runs)],
            [[k, *(str(r["machine"].get(k, "")) for r in runs.values())] for k in main["machine"]],
        ),
        "",
    ]
    for name, run in runs.items():
        parts += [f"## Targets, {name} malloc", "", targets(run["checks"]), ""]
    parts += [
        "## Times, default malloc" if "default" in runs else "## Times",
        "",
        times(main["cases"], other if other else None),
        "",
    ]
    rows = [
        [m["case"], m["system"], m["metric"], f"{number(m['value'])} {m['unit']}", name]
        for name, r in runs.items()
        for m in r["metrics"]
    ]
    parts += (
        ["## Other measures", "", table(["case", "system", "measure", "value", "malloc"], rows), ""]
        if rows
        else []
    )
    parts += ["## Notes", "", *[f"- {n}" for n in main["notes"]], ""] if main["notes"] else []
    missed = [c for c in main["checks"] if c["status"] == "MISS"]
    if missed:
        parts += [
            "## What bounds the missed targets",
            "",
            "Numbers measured in this run, then a cProfile of this project's side by own time.",
            "",
        ]
    for c in missed:
        parts += [f"### {c['label']}", ""] + ([c["why"], ""] if c["why"] else [])
        if c["label"] in main["profiles"]:
            parts += ["```text", main["profiles"][c["label"]], "```", ""]
    return "\n".join(parts)


def _where(filename: str) -> str:
    """A profiled function's file relative to the project or site-packages: no machine paths."""
    parts = Path(filename).parts
    if "site-packages" in parts:
        return "/".join(parts[parts.index("site-packages") + 1 :])
    if filename.startswith(("~", "<")):
        return ""
    path = Path(filename).resolve()
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
        f"{runs} runs profiled, {duration(stats.total_tt / runs)} per run under the profiler",
        f"{'own %':>6} {'own/run':>10} {'cum/run':>10} {'calls/run':>9}  function",
    ]
    for (file, line, name), (_, calls, own, cum, _) in sorted(
        stats.stats.items(), key=lambda kv: -kv[1][2]
    )[:top]:
        where = f"{_where(file)}:{line} " if _where(file) else ""
        own_share, per_run = 100 * own / stats.total_tt, duration(own / runs)
        lines.append(
            f"{own_share:6.1f} {per_run:>10} {duration(cum / runs):>10} {calls / runs:9.0f}  {where}{name}"
        )
    return "\n".join(lines)
