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
    exec(compile(code, f"README.md example {number + 1}", "exec"), {"__name__": "__readme__"})


def test_the_first_lines_give_the_setup_and_test_commands():
    head = README.read_text(encoding="utf-8").split("\n## ")[0]
    assert "pip install -e '.[dev]'" in head
    assert "valuegrad demo" in head
    assert "python -m pytest" in head


def test_the_table_of_ratios_is_the_one_in_the_benchmark_results():
    from benchmarks import readme

    results = README.parent / "benchmarks" / "results.md"
    text = README.read_text(encoding="utf-8")
    assert readme.table(results.read_text(encoding="utf-8")) in text


def test_the_table_is_rebuilt_from_the_results_it_is_given(tmp_path):
    from benchmarks import readme

    target = tmp_path / "README.md"
    target.write_text(f"before\n{readme.START}\nstale\n{readme.END}\nafter\n", encoding="utf-8")
    results = tmp_path / "results.md"
    results.write_text(
        "| date | 2030-01-01 00:00 UTC |\n\n## Targets\n\n"
        "| target | measured | limit | status | note |\n|---|---|---|---|---|\n"
        "| W2 n=100: valuegrad / numpy | 1.5 | ≤ 2 | PASS |  |\n"
        "| W2 n=100: valuegrad / torch | 0.7 | ≤ 0.5 | MISS |  |\n\n## Times\n",
        encoding="utf-8",
    )
    assert readme.update(target, results)
    text = target.read_text(encoding="utf-8")
    assert text.startswith("before\n") and text.endswith("\nafter\n") and "stale" not in text
    assert "on 2030-01-01 00:00 UTC" in text
    row = "| lesson network, forward and nine gradients, batch of 100 | hand-written numpy "
    assert row in text
    assert "| 1.5 | ≤ 2 |" in text and "| 0.7 | ≤ 0.5 (missed) |" in text
    assert "| micrograd | — |  |" in text  # a target the run did not have
    assert not readme.update(target, results)  # nothing left to change
