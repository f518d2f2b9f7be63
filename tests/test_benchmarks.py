"""Smoke test of the benchmarks: a tiny run, the gradient gate, the charged collections.

Nothing here looks at a time: only that the runner runs and writes its results, that a
system whose gradients disagree with the reference is refused and never timed, that each
sample pays for its own garbage collection, and that the infrastructure stays small.
"""

from __future__ import annotations

import gc
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyperf
import pytest

import autograd
from benchmarks import peers, runner, w2_lesson
from benchmarks.harness import (
    FAILED,
    REFUSED,
    SKIPPED,
    TIMED,
    Case,
    Check,
    Context,
    Outcome,
    System,
    disagreement,
    ratio_check,
    run_case,
    traced,
)
from benchmarks.w4_chain import collector_time

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 600  # lines of infrastructure in benchmarks/, the workloads aside
WORKLOAD = re.compile(r"w\d_\w+\.py|peer_workloads\.py")


def counted(name: str, grads: dict[str, np.ndarray]) -> tuple[System, list[int]]:
    """A system whose step counts its calls and whose gradients are `grads`."""
    calls = [0]

    def step() -> None:
        calls[0] += 1

    return System(name, step, lambda: grads), calls


def quiet(line: str) -> None:
    """A log that drops its lines."""


def ctx(repeats: int = 1, log: Callable[[str], None] = quiet) -> Context:
    """A context for a case run here: no calibration, `repeats` samples."""
    return Context(repeats=repeats, min_time=0.0, log=log)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench")
    command = [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_a_quick_run_writes_every_workload_with_gradients_that_agree(quick_run: Path) -> None:
    run = json.loads((quick_run / "results.json").read_text())["runs"]["default"]
    times = run["times"]
    assert {t["case"].split()[0] for t in times} == set(runner.WORKLOADS)
    assert not [t for t in times if t["status"] in (REFUSED, FAILED)]
    ours = [t for t in times if t["system"].startswith("valuegrad") and t["status"] != SKIPPED]
    assert ours and all(t["status"] == TIMED and t["median"] > 0 for t in ours)
    assert {c["status"] for c in run["checks"]} <= {"PASS", "MISS", "not available"}
    assert run["machine"]["threads"] == "one per system"
    assert run["machine"]["malloc"] == "glibc's defaults"
    md = (quick_run / "results.md").read_text()
    for section in ("## Machine, default", "## Targets, default malloc", "## Times, default"):
        assert section in md
    assert str(quick_run) not in md and "--out=PATH" in md
    # The pyperf file holds every timed system, by case and name.
    suite = pyperf.BenchmarkSuite.load(str(quick_run / "results-default-malloc.json"))
    timed = {f"{t['case']} [{t['system']}]" for t in times if t["status"] == TIMED}
    assert set(suite.get_benchmark_names()) == timed


def test_a_quick_run_measures_the_compiled_targets_and_explains_each_miss(
    quick_run: Path,
) -> None:
    results = json.loads((quick_run / "results.json").read_text())
    checks = results["runs"]["default"]["checks"]
    compiled = [c for c in checks if "compiled" in c["label"] or "first call" in c["label"]]
    local = [c for c in compiled if "HIPS" not in c["label"]]  # the peers were not asked for
    assert local and all(c["status"] in ("PASS", "MISS") for c in local)
    assert all("not asked for" in c["note"] for c in compiled if c not in local)
    md = (quick_run / "results.md").read_text()
    for c in (c for c in checks if c["status"] == "MISS"):
        assert c["why"] and f"### What bounds {c['label']}, default malloc" in md
        if not c["label"].startswith("W4"):  # a ratio of times: Python calls and a profile
            assert "Python functions" in c["why"] and "Ordered by: internal time" in c["why"]
            assert str(ROOT) not in c["why"]
    # results.md is results.json written out, and so is the README's table.
    assert runner.section("default", results["runs"]["default"]) in md
    tables = runner.readme_table(results), runner.readme_table(results, compiled=True)
    assert sum(t.count("\n| ") - 1 for t in tables) == len(checks)  # each check in one of them


def test_each_malloc_setting_runs_in_its_own_child_and_pyperf_compares_them(
    tmp_path: Path,
) -> None:
    command = [
        sys.executable,
        "-m",
        "benchmarks",
        "--quick",
        "--only",
        "W5",
        "--out",
        str(tmp_path),
    ]
    done = subprocess.run([*command, "--malloc", "default,tuned"], capture_output=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = json.loads((tmp_path / "results.json").read_text())["runs"]
    assert runs["default"]["machine"]["malloc"] == "glibc's defaults"
    assert "MALLOC_TRIM_THRESHOLD_=2000000000" in runs["tuned"]["machine"]["malloc"]
    md = (tmp_path / "results.md").read_text()
    assert "## Targets, tuned malloc" in md and "(pyperf compare_to)\n\n| Benchmark " in md


def test_the_gate_refuses_a_wrong_gradient_and_never_times_it() -> None:
    right = {"w": np.array([1.0, -2.0]), "b": np.array(0.5)}
    wrong = {"w": np.array([1.0, -2.0 * (1 + 1e-6)]), "b": np.array(0.5)}
    ref, ref_calls = counted("reference", right)
    good, good_calls = counted("good", {k: v.copy() for k, v in right.items()})
    bad, bad_calls = counted("bad", wrong)
    lines: list[str] = []
    result = run_case(Case("T case", "reference", [ref, good, bad]), ctx(2, lines.append))
    assert result.outcomes["bad"].status == REFUSED and bad_calls == [0]
    assert "w[1]" in result.outcomes["bad"].note
    assert any("bad refused" in line for line in lines)
    assert result.outcomes["good"].status == TIMED and good_calls[0] >= 2
    assert result.outcomes["reference"].status == TIMED and ref_calls[0] >= 2
    assert ratio_check(result, "bad", "reference", 1.0).status == "not available"


def test_the_gate_refuses_a_real_workload_fed_a_wrong_gradient() -> None:
    systems, skipped, _ = w2_lesson.systems(100, None)
    tensor = next(s for s in systems if isinstance(s, System) and s.name == w2_lesson.TENSOR)
    honest = tensor.grads
    tensor.grads = lambda: {**honest(), "w21": honest()["w21"] * (1 + 1e-7)}
    result = run_case(Case("W2 n=100", "numpy", systems, skipped), ctx())
    assert result.outcomes[w2_lesson.TENSOR].status == REFUSED
    assert "w21" in result.outcomes[w2_lesson.TENSOR].note
    assert result.outcomes["numpy"].status == TIMED
    assert result.outcomes[w2_lesson.NN].status == TIMED


def test_a_system_that_raises_is_reported_not_fatal() -> None:
    ref, _ = counted("reference", {"x": np.array(1.0)})

    def broken() -> dict[str, np.ndarray]:
        raise RecursionError("maximum recursion depth exceeded")

    case = Case("T case", "reference", [ref, System("broken", lambda: None, broken)])
    result = run_case(case, ctx())
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
        ({"w": np.array([1.0, np.inf])}, False),
    ],
)
def test_disagreement(got: dict[str, np.ndarray], agrees: bool) -> None:
    why = disagreement({"w": np.array([1.0, 1e3])}, got)
    assert (why is None) == agrees, why


def test_a_reference_that_is_not_finite_agrees_with_nothing() -> None:
    why = disagreement({"w": np.array([np.nan, 1.0])}, {"w": np.array([0.0, 1.0])})
    assert why == "w[0] = 0, reference nan: error nan > 1e-09"
    assert disagreement({"w": np.array(np.inf)}, {"w": np.array(np.inf)}) is not None
    assert disagreement({"w": np.zeros((0, 3))}, {"w": np.zeros((0, 3))}) is None


def test_each_sample_pays_for_a_full_collection_and_the_collector_is_left_as_it_was() -> None:
    collections: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    system = System("s", lambda: None, lambda: {})
    gc.callbacks.append(seen)
    try:
        system.measure(3)
    finally:
        gc.callbacks.remove(seen)
    assert 2 in collections  # the full collection happens inside the timed sample
    ref, _ = counted("reference", {"x": np.array(1.0)})
    run_case(Case("T case", "reference", [ref]), ctx())
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_the_samples_are_taken_in_turns() -> None:
    order: list[str] = []
    systems = [System(n, lambda n=n: order.append(n), lambda: {"x": np.array(1.0)}) for n in "ABC"]
    run_case(Case("T case", "A", systems), ctx(3))
    assert "".join(order[-9:]) == "ABCBCACAB"  # one run per sample, rotated each round


def test_a_ratio_comes_with_its_range_within_one_round() -> None:
    a = System("a", lambda: None, lambda: {"x": np.array(1.0)})
    result = run_case(Case("T case", "a", [a]), ctx(3))
    bench = result.outcomes["a"].bench
    assert bench is not None and bench.get_nvalue() == 3
    for name, values in (("a", [1.0, 4.0, 3.0]), ("b", [1.0, 1.0, 2.0])):
        run = pyperf.Run(values, collect_metadata=False, metadata={"name": name, "loops": 1})
        result.outcomes[name] = Outcome(TIMED, bench=pyperf.Benchmark([run]))
    check = ratio_check(result, "a", "b", 2.0)
    assert (check.value, check.low, check.high, check.status) == (3.0, 1.0, 4.0, "MISS")


def test_check_status() -> None:
    assert Check("x", 0.2, 0.33).status == "PASS"
    assert Check("x", 0.4, 0.33).status == "MISS"
    assert Check("x", None, 0.33).status == "not available"


def test_results_never_show_this_machines_paths() -> None:
    argv = ["--quick", "--out", "/some/dir", "--peers=/venv", "--only", "W1"]
    shown = runner.shown(argv)
    assert shown == "python -m benchmarks --quick --out=PATH --peers=PATH --only W1"


def test_the_worker_tells_this_project_from_hips_autograd() -> None:
    # In this interpreter `autograd` is this project: the worker must not take it for HIPS's.
    context = ctx()
    context.peers = peers.Worker(sys.executable)
    try:
        versions = context.peers.request("versions", "numpy", "no-such-dist")
        assert versions["numpy"] == np.__version__ and versions["no-such-dist"] == "-"
        X, y = np.ones((3, 2)), np.ones((3, 1))
        arrays = dict(X=X, y=y, W1=np.eye(2), b1=np.zeros(2), W2=np.ones((2, 1)), b2=np.zeros(1))
        others, absent = peers.remotes(context, "W2", **arrays)
        case = run_case(Case("T case", "HIPS autograd", others, absent), context)
        assert not absent and case.outcomes["HIPS autograd"].status == FAILED
        assert "not HIPS autograd" in case.outcomes["HIPS autograd"].note
    finally:
        context.peers.close()
    assert context.peers.proc.returncode == 0  # closing the pipe ends the worker


def test_the_readme_table_is_read_from_the_default_malloc_targets(tmp_path: Path) -> None:
    target = tmp_path / "README.md"
    (start, end), (c_start, c_end) = runner.MARKS
    target.write_text(
        f"before\n{start}\nstale\n{end}\nbetween\n{c_start}\nstale\n{c_end}\nafter\n",
        encoding="utf-8",
    )
    label = "W2 n=100: valuegrad / numpy"
    passed = dict(label=label, value=1.5, low=1.4, high=1.6, limit=2.0, status="PASS")
    missing = dict(label="W2 n=1: c / numpy", value=None, low=None, limit=1.1)
    missing["status"] = "not available"
    slower = dict(passed, value=9.9, low=None, status="MISS")
    compiled = dict(passed, label="W2 n=1: valuegrad compiled / numpy", value=0.9, low=None)
    results = {
        "date": "2030-01-01 00:00 UTC",
        "runs": {
            "default": {"machine": {"clock": "cpu"}, "checks": [passed, missing, compiled]},
            "tuned": {"machine": {"clock": "cpu"}, "checks": [slower]},
        },
    }
    assert runner.update_readme(target, results)
    text = target.read_text(encoding="utf-8")
    assert text.startswith("before\n") and text.endswith("\nafter\n") and "stale" not in text
    assert "on 2030-01-01 00:00 UTC, in CPU time" in text
    assert f"| {label} | 1.5 (1.4–1.6) | 9.9 | ≤ 2 | PASS |" in text
    assert "| W2 n=1: c / numpy | — | — | ≤ 1.1 | not available |" in text
    assert "MISS" not in text
    eager, compiler = text.split("between")  # the compiler's targets go in its own block
    assert label in eager and "valuegrad compiled" not in eager
    assert "| W2 n=1: valuegrad compiled / numpy | 0.9 | — | ≤ 2 | PASS |" in compiler
    assert label not in compiler
    assert not runner.update_readme(target, results)  # nothing left to change


def test_a_compiled_step_that_falls_back_to_eager_is_never_timed_as_compiled() -> None:
    # Python reads a traced number: the compiled step falls back to eager.
    step = autograd.compile(lambda x: (x * float(x.data.sum())).sum())
    x = np.ones(3)
    system = System("compiled", lambda: step(x), lambda: {"x": traced(lambda: step(x))[1]})
    result = run_case(Case("T case", "compiled", [system]), ctx())
    assert result.outcomes["compiled"].status == FAILED
    assert "CompileWarning" in result.outcomes["compiled"].note
    assert "runs eagerly" in result.outcomes["compiled"].note


def test_the_collectors_time_is_measured_and_the_collector_left_as_it_was() -> None:
    def cycles() -> None:
        for _ in range(2000):
            a: list[object] = []
            a.append(a)

    callbacks = list(gc.callbacks)
    assert collector_time(cycles, 3) > 0
    assert collector_time(lambda: None, 3) >= 0
    assert gc.callbacks == callbacks and gc.isenabled() and gc.get_freeze_count() == 0


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--only", "W9"], "unknown W9"),
        (["--malloc", "fast"], "unknown fast"),
        (["--repeats", "0"], "at least 1"),
        (["--only", ","], "unknown (none)"),
    ],
)
def test_the_command_line_names_what_is_wrong(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        runner.parse(argv)
    assert says in capsys.readouterr().err


def test_a_miss_is_explained_with_the_numbers_of_the_run() -> None:
    def three() -> None:
        for _ in range(3):
            quiet("")

    case = Case(
        "W2 n=100", "numpy", [System("ours", three, dict), System("numpy", lambda: None, dict)]
    )
    for name, t in (("ours", 6e-4), ("numpy", 4e-4)):
        run = pyperf.Run([t], collect_metadata=False, metadata={"name": name, "loops": 1})
        case.outcomes[name] = Outcome(TIMED, bench=pyperf.Benchmark([run]))
    check = ratio_check(case, "ours", "numpy", 1.2)
    runner.explain(check, 0.0)
    assert check.why == (
        "In W2 n=100, one ours step took 600 us and called 3 Python functions (counted by "
        "cProfile; numpy's own work runs in C); numpy took 400 us and called 0."
    )
    runner.explain(check, 0.01)
    assert "cProfile of ours" in check.why and "test_benchmarks.py" in check.why
    assert str(ROOT) not in check.why  # file names only: no paths of this machine


def test_the_infrastructure_is_under_its_limit_and_the_readme_says_how_much() -> None:
    files = [p for p in (ROOT / "benchmarks").glob("*.py") if not WORKLOAD.fullmatch(p.name)]
    readme = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    assert all(f"`{p.name}`" in readme for p in files)  # the README names what it counts
    lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in files)
    assert lines < LIMIT
    claim = re.search(r"infrastructure is (\d+) lines", readme)
    assert claim is not None and int(claim.group(1)) == lines
