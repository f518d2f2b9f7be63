"""The README's table of targets, made from benchmarks/results.md so that the two agree.

A full run of `python -m benchmarks` (every workload, results in this folder) rewrites it;
tests/test_readme.py checks that the README's table is the one results.md gives.
"""

from __future__ import annotations

import re
from pathlib import Path

START = "<!-- benchmark table: written by `python -m benchmarks` from benchmarks/results.md -->"
END = "<!-- end of the benchmark table -->"
SECTION = "## Targets, default malloc"


def table(results_md: str) -> str:
    """The README's block: when it was measured, then each target of the default-malloc run."""
    date = re.search(r" on (\d{4}-\d\d-\d\d \d\d:\d\d UTC)", results_md)
    section = results_md.split(SECTION, 1)[-1].split("\n## ", 1)[0] if SECTION in results_md else ""
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| ")][1:]
    return "\n".join(
        [
            START,
            f"Measured side by side in one run on {date.group(1) if date else '—'}, under glibc's "
            "default malloc, one thread per system (ratio = valuegrad's time or memory over the "
            "other's, lower is better; the range within one round of samples in brackets). "
            "`benchmarks/results.md` has every time, the tuned-malloc figures and, for each missed "
            "target, what bounds it:",
            "",
            "| target | measured | limit | status |",
            "|---|---|---|---|",
            *(" | ".join(cells[:4]) + " |" for cells in rows),
            END,
        ]
    )


def update(readme: Path, results: Path) -> bool:
    """Rewrite the README's block from results.md; True if the README changed."""
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    new = head + table(results.read_text(encoding="utf-8")) + rest.split(END, 1)[1]
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text
