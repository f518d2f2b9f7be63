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


def test_the_table_of_targets_is_the_one_in_the_benchmark_results():
    from benchmarks import report

    results = README.parent / "benchmarks" / "results.md"
    text = README.read_text(encoding="utf-8")
    assert report.readme_table(results.read_text(encoding="utf-8")) in text
