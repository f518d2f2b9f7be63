"""W5: what each numerical gradient check costs on the lesson's network.

The modes of `autograd.gradcheck` and `autograd.taylor_test` on the nine
parameters of the 2→2→1 network with the mean log loss over a batch, each
timed against one forward and backward pass of the same function. Before
timing, every mode must pass on this (correct) network: a mode that reports
a failure here is refused, like a system whose gradients disagree.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nn
from autograd import Value, gradcheck, sigmoid, taylor_test
from benchmarks.harness import Case, Context, Metric, Report, System, run_case
from benchmarks.peer_workloads import lesson_names
from benchmarks.w2_lesson import data

DIRECTIONS = 3


def lesson_loss(x1: np.ndarray, x2: np.ndarray, y: np.ndarray) -> Any:
    """The network's mean log loss as a function of its nine parameters."""

    def f(
        w11: Any, w21: Any, b1: Any, w12: Any, w22: Any, b2: Any, w1: Any, w2: Any, b: Any
    ) -> Value:
        a1 = sigmoid(w11 * x1 + w21 * x2 + b1)
        a2 = sigmoid(w12 * x1 + w22 * x2 + b2)
        return nn.log_loss(sigmoid(w1 * a1 + w2 * a2 + b), y)

    return f


def run(ctx: Context) -> Report:
    """Time each mode and report its cost in forward-and-backward passes."""
    report = Report()
    n = 10 if ctx.quick else 100
    X, y, params = data(n, seed=5)
    x1, x2 = np.ascontiguousarray(X[:, 0]), np.ascontiguousarray(X[:, 1])
    f = lesson_loss(x1, x2, y[:, 0])
    point = [float(p) for p in lesson_names(*params).values()]

    def baseline() -> None:
        vs = [Value(p) for p in point]
        f(*vs).backward()

    modes = {
        "forward+backward": baseline,
        "gradcheck (every element)": lambda: gradcheck(f, *point),
        f"gradcheck directions={DIRECTIONS}": lambda: gradcheck(f, *point, directions=DIRECTIONS),
        "taylor_test": lambda: taylor_test(f, *point),
    }

    def verdict(check: Any) -> Any:
        def passed() -> dict[str, np.ndarray]:
            outcome = check()  # None for the baseline, else a truthy-when-passed report
            return {"passed": np.array(1.0 if outcome is None or outcome else 0.0)}

        return passed

    systems = [System(name, step, verdict(step)) for name, step in modes.items()]
    case = Case(f"W5 lesson network, n={n}", "forward+backward", systems)
    result = run_case(case, ctx)
    report.results.append(result)
    base = result.seconds("forward+backward")
    for name in modes:
        t = result.seconds(name)
        if base and t is not None:
            report.metrics.append(
                Metric(case.title, name, "cost", t / base, "× one forward+backward")
            )
    report.notes.append(
        "W5: gradcheck of every element costs at least 1 + 4·9 = 37 evaluations of the loss "
        "(steps h and h/2 on both sides; more where the step adapts); "
        f"directions={DIRECTIONS} costs 4·{DIRECTIONS} + 1 = {4 * DIRECTIONS + 1}; "
        "the Taylor test costs one evaluation per step size (17 by default) plus one gradient"
    )
    return report
