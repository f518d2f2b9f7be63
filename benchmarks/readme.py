"""The README's table of benchmark ratios, made from benchmarks/results.md so the two agree.

`python -m benchmarks` rewrites the README's table after a full run (every
workload, not --quick, results in this folder). tests/test_readme.py checks
that the README's table is the one results.md gives.
"""

from __future__ import annotations

import re
from pathlib import Path

START = "<!-- benchmark table: written by `python -m benchmarks` from benchmarks/results.md -->"
END = "<!-- end of the benchmark table -->"

LESSON = "lesson network, forward and nine gradients"
NUMPY = "hand-written numpy"

# (target label in results.md, what was run, against what)
ROWS = [
    (
        "W1 MLP 2→16→16→1, 100 points: valuegrad / micrograd",
        "micrograd's demo step (MLP 2→16→16→1, 100 points, scalars)",
        "micrograd",
    ),
    (
        "W4 bytes per node n=10,000: valuegrad / micrograd",
        "memory held per scalar node of a long chain",
        "micrograd",
    ),
    (
        "W4 time per node, n=1,000,000 / n=10,000",
        "time per node of a 1,000,000-node chain over a 10,000-node one",
        "itself",
    ),
    ("W2 n=1: valuegrad / numpy", f"{LESSON}, batch of 1", NUMPY),
    ("W2 n=100: valuegrad / numpy", f"{LESSON}, batch of 100", NUMPY),
    ("W2 n=10,000: valuegrad / numpy", f"{LESSON}, batch of 10,000", NUMPY),
    ("W2 n=1,000,000: valuegrad / numpy", f"{LESSON}, batch of 1,000,000", NUMPY),
    ("W2 n=1: valuegrad / torch", f"{LESSON}, batch of 1", "PyTorch eager"),
    ("W2 n=100: valuegrad / torch", f"{LESSON}, batch of 100", "PyTorch eager"),
    ("W2 n=100: valuegrad / HIPS autograd", f"{LESSON}, batch of 100", "HIPS autograd"),
    ("W2 n=10,000: valuegrad / HIPS autograd", f"{LESSON}, batch of 10,000", "HIPS autograd"),
    ("W2 n=1,000,000: valuegrad / HIPS autograd", f"{LESSON}, batch of 1,000,000", "HIPS autograd"),
    (
        "W2 GD epoch n=10,000: valuegrad / numpy",
        "lesson network, one gradient-descent epoch, 10,000 samples",
        NUMPY,
    ),
    (
        "W3 MLP 64→256→256→1, batch 256: valuegrad / numpy",
        "MLP 64→256→256→1, batch 256, one SGD step",
        NUMPY,
    ),
    (
        "W3 MLP 64→256→256→1, batch 256: valuegrad / HIPS autograd",
        "MLP 64→256→256→1, batch 256, one SGD step",
        "HIPS autograd",
    ),
]


def targets(results_md: str) -> dict[str, tuple[str, str, str]]:
    """label → (measured, limit, status), read from results.md's table of targets."""
    found = {}
    section = results_md.split("## Targets", 1)[-1].split("\n## ", 1)[0]
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[3] in ("PASS", "MISS", "n/a"):
            found[cells[0]] = (cells[1], cells[2], cells[3])
    return found


def table(results_md: str) -> str:
    """The README's block: when and how it was measured, then one row per target in ROWS."""
    date = re.search(r"\| date \| ([^|]+) \|", results_md)
    lines = [
        START,
        f"Measured side by side in one run on {date.group(1).strip() if date else '—'} "
        "(2 cores, CPU time, one thread per system; ratio = valuegrad's time (or memory) over "
        "the other's, lower is better; all of it in `benchmarks/results.md`, made by "
        "`python -m benchmarks`):",
        "",
        "| workload | against | ratio | target |",
        "|---|---|---|---|",
    ]
    found = targets(results_md)
    for label, what, against in ROWS:
        measured, limit, status = found.get(label, ("—", "", "n/a"))
        if status == "MISS":
            limit += " (missed)"
        lines.append(f"| {what} | {against} | {measured} | {limit} |")
    lines.append(END)
    return "\n".join(lines)


def update(readme: Path, results: Path) -> bool:
    """Rewrite the README's block from results.md; True if the README changed."""
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = head + table(results.read_text(encoding="utf-8")) + tail
    if new == text:
        return False
    readme.write_text(new, encoding="utf-8")
    return True
