"""Smoke test of the benchmark runner: tiny sizes, one repeat, and the gradient agreement check.

Nothing here looks at a time: only that the runner runs, writes its results,
and refuses to time a system whose gradients disagree with the reference.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autograd.ops
from benchmarks import runner, w2_lesson
from benchmarks.external import start_workers
from benchmarks.harness import (
    FAILED,
    REFUSED,
    TIMED,
    Case,
    Check,
    Context,
    Local,
    disagreement,
    run_case,
)


def counted(name: str, grads: dict[str, np.ndarray]) -> tuple[Local, list[int]]:
    """A system whose step counts its calls and whose gradients are `grads`."""
    calls = [0]

    def step() -> None:
        calls[0] += 1

    return Local(name, step, lambda: grads), calls


def test_quick_run_writes_results(tmp_path: Path) -> None:
    code = runner.main(["--quick", "--out", str(tmp_path), "--no-profile"])
    assert code == 0
    md = (tmp_path / "results.md").read_text()
    for workload in runner.WORKLOADS:
        assert f"| {workload} " in md
    assert "## Targets" in md and "## Machine and versions" in md
    with (tmp_path / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    times = [r for r in rows if r["kind"] == "time"]
    assert {r["workload"] for r in times} == set(runner.WORKLOADS)
    # Every system that ran computed the same gradients as the reference.
    assert not [r for r in times if r["status"] in (REFUSED, FAILED)]
    ours = [r for r in times if r["system"].startswith("valuegrad")]
    assert ours and all(r["status"] == TIMED and float(r["value"]) > 0 for r in ours)
    assert {r["status"] for r in rows if r["kind"] == "target"} <= {"PASS", "MISS", "n/a"}
    # A missed small-batch W2 target says what bounds it (whether it is missed is not asserted).
    for line in md.splitlines():
        if line.startswith("| W2 n=1") and "/ numpy | " in line and "| MISS |" in line:
            label = line.split(" | ")[0].removeprefix("| ")
            assert f"### {label}\n\nAt n = " in md and "Python functions" in md


def test_command_line_runs_every_system_on_one_thread_with_tuned_malloc(tmp_path: Path) -> None:
    # `python -m benchmarks` starts itself again with the settings in its environment.
    args = [sys.executable, "-m", "benchmarks", "--quick", "--only", "W5", "--out", str(tmp_path)]
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False, cwd=root)
    assert done.returncode == 0, done.stderr
    md = (tmp_path / "results.md").read_text()
    assert "pinned to 1 thread" in md
    assert "malloc | tuned for every system" in md
    assert str(tmp_path) not in md  # the --out folder is shown as DIR


def test_refuses_to_time_a_system_whose_gradients_disagree() -> None:
    right = {"w": np.array([1.0, -2.0]), "b": np.array(0.5)}
    wrong = {"w": np.array([1.0, -2.0 * (1 + 1e-6)]), "b": np.array(0.5)}
    ref, ref_calls = counted("reference", right)
    good, good_calls = counted("good", {k: v.copy() for k, v in right.items()})
    bad, bad_calls = counted("bad", wrong)
    lines: list[str] = []
    result = run_case(Case("T", "case", "reference", [ref, good, bad]), 2, 0.0, lines.append)
    assert result.outcomes["bad"].status == REFUSED
    assert bad_calls == [0]  # never timed
    assert "w[1]" in result.outcomes["bad"].note
    assert any("refusing to time bad" in line for line in lines)
    assert result.outcomes["good"].status == TIMED and good_calls[0] >= 2
    assert result.outcomes["reference"].status == TIMED and ref_calls[0] >= 2
    assert result.seconds("bad") is None


def test_a_system_that_raises_is_reported_not_fatal() -> None:
    ref, _ = counted("reference", {"x": np.array(1.0)})

    def broken() -> dict[str, np.ndarray]:
        raise RecursionError("maximum recursion depth exceeded")

    result = run_case(
        Case("T", "case", "reference", [ref, Local("broken", lambda: None, broken)]),
        1,
        0.0,
        lambda _: None,
    )
    assert result.outcomes["broken"].status == FAILED
    assert "RecursionError" in result.outcomes["broken"].note
    assert result.outcomes["reference"].status == TIMED


@pytest.mark.parametrize(
    ("got", "agrees"),
    [
        ({"w": np.array([1.0, 1e3]) * (1 + 1e-13)}, True),  # round-off is accepted
        ({"w": np.array([1.0 + 1e-9, 1e3])}, True),  # small next to the array's largest entry
        ({"w": np.array([1.0, 1e3 * (1 + 1e-7)])}, False),
        ({"w": np.array([1.0, np.nan])}, False),
        ({"w": np.array([1.0])}, False),  # shape
        ({"v": np.array([1.0, 1e3])}, False),  # names
    ],
)
def test_disagreement(got: dict[str, np.ndarray], agrees: bool) -> None:
    why = disagreement({"w": np.array([1.0, 1e3])}, got)
    assert (why is None) == agrees, why


def test_w2_refuses_this_project_when_its_gradient_is_wrong(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # σ' taken as σ instead of σ(1 − σ): the engine's gradients go wrong, numpy's do not.
    monkeypatch.setattr(autograd.ops.Sigmoid, "grads", (lambda g, out, a: g * out,))
    ctx = Context(quick=True, repeats=1, min_time=0.0, workdir=str(tmp_path), log=lambda _: None)
    report = w2_lesson.run(ctx)
    for result in report.results:
        outcomes = result.outcomes
        assert outcomes["numpy"].status == TIMED
        ours = [o for name, o in outcomes.items() if name.startswith("valuegrad")]
        assert ours, result.case.title
        for o in ours:
            assert o.status == REFUSED, (result.case.title, o.system)
            assert "gradients disagree" in o.note
    assert all(c.status == "n/a" for c in report.checks)


def test_check_status() -> None:
    assert Check("W", "x", 0.2, 0.33).status == "PASS"
    assert Check("W", "x", 0.4, 0.33).status == "MISS"
    assert Check("W", "x", None, 0.33).status == "n/a"


def test_results_never_show_this_machines_paths() -> None:
    argv = ["--quick", "--out", "/some/dir", "--hips-python=/venv/bin/python", "--only", "W1"]
    assert runner.shown(argv) == [
        "--quick",
        "--out DIR",
        "--hips-python PYTHON",
        "--only",
        "W1",
    ]


def test_worker_tells_this_project_from_hips_autograd() -> None:
    # In this interpreter `autograd` is this project: the worker must not take it for HIPS's.
    workers, notes = start_workers(sys.executable, None)
    try:
        assert "hips" not in workers
        assert notes["hips"].startswith("HIPS autograd skipped")
    finally:
        for w in set(workers.values()):
            w.close()


def test_python_calls_counts_the_functions_one_run_calls() -> None:
    from benchmarks.common import python_calls

    def leaf() -> int:
        return 1

    def step() -> None:
        leaf()
        leaf()
        len("c functions are not counted")

    assert python_calls(step) == 2


def test_a_missed_target_is_explained_before_its_profile_and_a_pass_is_not(
    tmp_path: Path,
) -> None:
    from benchmarks.harness import Report
    from benchmarks.report import write_markdown

    report = Report()
    report.checks = [
        Check("W9", "missed one", 2.0, 1.0, why="Bounded by the moon."),
        Check("W9", "passed one", 0.5, 1.0, why="Never shown."),
    ]
    report.profiles["missed one"] = "a profile"
    write_markdown(tmp_path / "r.md", [report], {"date": "today"}, [])
    md = (tmp_path / "r.md").read_text()
    bounds = md[md.index("## What bounds the missed targets") :]
    assert bounds.index("### missed one") < bounds.index("Bounded by the moon.")
    assert bounds.index("Bounded by the moon.") < bounds.index("a profile")
    assert "passed one" not in bounds and "Never shown." not in md


def test_the_collector_share_is_a_part_of_the_time_and_leaves_the_collector_as_it_was() -> None:
    import gc

    from benchmarks.w4_chain import collector_bound, collector_share

    callbacks = list(gc.callbacks)
    total, collector, off = collector_share(20_000, runs=3)
    assert gc.isenabled() and gc.callbacks == callbacks
    assert 0 <= collector <= total and total > 0 and off > 0
    text = collector_bound({1: (2e-6, 1e-6, 1e-6), 2: (3e-6, 2e-6, 1.2e-6)}, 1, 2)
    assert "2 µs of 3 µs per node at n = 2" in text and "a ratio of 1.20" in text


def _result(**seconds: float) -> Any:
    from benchmarks.harness import CaseResult, Outcome

    case = Case("W2", "n=?", "numpy", [], {})
    return CaseResult(case, {k: Outcome(k, TIMED, "", v, [v], 1) for k, v in seconds.items()})


def test_a_large_batch_miss_says_whether_0_3_of_hips_is_below_numpy_itself() -> None:
    small = _result(valuegrad=98e-6, numpy=41e-6)
    floor = w2_lesson.large_batch_bound(
        10**6, _result(valuegrad=51e-3, numpy=52e-3, **{"HIPS autograd": 94e-3}), small
    )
    assert "0.54× numpy: faster than doing the same arithmetic in numpy at all" in floor
    fixed = w2_lesson.large_batch_bound(
        10**4, _result(valuegrad=554e-6, numpy=465e-6, **{"HIPS autograd": 1.67e-3}), small
    )
    assert "1.08× numpy. valuegrad is 53 µs over that" in fixed and "took 57 µs longer" in fixed
    assert "faster than" not in fixed


def test_only_a_missed_target_is_explained_and_by_the_right_bound() -> None:
    results = {100: _result(valuegrad=98e-6, numpy=41e-6)}
    results[10**4] = _result(valuegrad=554e-6, numpy=465e-6, **{"HIPS autograd": 1.67e-3})
    hips = Check("W2", "W2 n=10,000: valuegrad / HIPS autograd", 0.33, 0.3)
    assert w2_lesson.explained(hips, 10**4, results).why.startswith("At n = 10,000")
    numpy_miss = Check("W2", "W2 n=10,000: valuegrad / numpy", 1.4, 1.3)
    assert w2_lesson.explained(numpy_miss, 10**4, results).why == ""
    passed = Check("W2", "W2 n=10,000: valuegrad / HIPS autograd", 0.2, 0.3)
    assert w2_lesson.explained(passed, 10**4, results).why == ""
