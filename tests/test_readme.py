"""The README's examples run, in order, so they never rot."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def python_blocks() -> list[str]:
    return BLOCK.findall(README.read_text(encoding="utf-8"))


def test_the_readme_has_examples():
    assert len(python_blocks()) >= 5


@pytest.mark.parametrize("number", range(len(python_blocks())))
def test_readme_example_runs(number, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = python_blocks()[number]
    if re.search(r"^\s*(import torch|from torch)|to_torch\(|from_torch\(", code, re.M):
        pytest.importorskip("torch")  # the bridge's example needs torch, an optional extra
    exec(compile(code, f"README.md example {number + 1}", "exec"), {"__name__": "__readme__"})


def test_the_first_lines_give_the_setup_and_test_commands():
    head = README.read_text(encoding="utf-8").split("\n## ")[0]
    assert "pip install -e '.[dev]'" in head
    assert "valuegrad demo" in head
    assert "python -m pytest" in head


def test_the_table_of_targets_is_the_one_in_the_benchmark_results():
    import json

    from benchmarks import runner

    results = json.loads((README.parent / "benchmarks" / "results.json").read_text("utf-8"))
    text = README.read_text(encoding="utf-8")
    before, after = text.split("## Compiling a step")
    compiling, rest = after.split("\n## ", 1)  # the section on compiling, and what follows it
    assert runner.readme_table(results, compiled=True) in compiling
    assert runner.readme_table(results) in before + rest
    assert "compiled" not in runner.readme_table(results) and "W2 first call" in compiling


# ---------------------------------------------------------------------------
# The README's sample of the demo's output is the demo's output.
# ---------------------------------------------------------------------------

TEXT = re.compile(r"```text\n(.*?)```", re.DOTALL)
NAMES = ("w11", "w21", "b1", "w12", "w22", "b2", "w1", "w2", "b")


def demo_sample() -> list[str]:
    """The lines of the first text block of the README's section on the demo."""
    section = README.read_text(encoding="utf-8").split("## The lesson in one command")[1]
    return TEXT.findall(section.split("\n## ")[0])[0].splitlines()


def machine_free(line: str) -> str:
    """A line of the demo's output with the numbers that depend on the machine masked.

    Those are the central differences and the errors measured against them: they
    depend on the last bits of exp and log, which differ between machines.
    """
    cells = re.split(r"(?<=\S)(\s{2,})", line)
    if len(cells) == 11 and cells[0].strip() in NAMES:  # a row of the gradient table
        return "".join(cells[:7]) + "  <numerical>  <error>"
    return re.sub(r"within \S+$", "within <error>", line)


def test_the_readmes_sample_of_the_demo_is_what_the_demo_prints(tmp_path):
    import subprocess
    import sys

    script = Path(sys.executable).parent / "valuegrad"
    r = subprocess.run(
        [str(script), "demo"], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert r.returncode == 0, r.stderr
    printed = [machine_free(line) for line in r.stdout.splitlines()]
    sample = demo_sample()
    assert len(sample) > 5 and "  ..." in sample
    at = 0
    for line in map(machine_free, sample):
        if line == "  ...":  # lines the README leaves out
            continue
        assert line in printed[at:], f"README line not in the demo's output (in order):\n{line}"
        at = printed.index(line, at) + 1


def test_masking_keeps_the_numbers_that_do_not_depend_on_the_machine():
    row = "  w2     (ŷ−y)·a2              -0.3811804930  -0.3811804930  -0.3811804931     2.2e-11"
    masked = machine_free(row)
    assert masked.count("-0.3811804930") == 2 and "0.3811804931" not in masked
    assert machine_free("  all nine agree to within 5.3e-11").endswith("within <error>")
    assert machine_free("  one perceptron (a straight line)  55.2%").endswith("55.2%")


def test_the_readmes_sizes_for_the_program_that_runs_are_the_codes() -> None:
    from autograd import blocks, fastcode, lowering

    text = " ".join(README.read_text(encoding="utf-8").split())
    assert f"tall matrix ({fastcode.TALL:,} rows or more)" in text
    assert f"large arrays ({lowering.BIG:,} numbers or more)" in text
    assert f"past {blocks.TALLEST:,} rows" in text
    assert f"a block of {blocks.BLOCK:,} columns at a time" in text
