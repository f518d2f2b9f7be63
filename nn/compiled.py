"""`compile_step(model, loss)`: one training step of a model, traced once and replayed as numpy."""

from __future__ import annotations

import argparse
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from autograd import Value
from autograd.compile import Compiled
from nn import checks
from nn.losses import Saturated, by_name, check_labels, unsaturated_logit
from nn.module import Module


class CompiledStep:
    """step(X, y) → the loss, with ∂loss/∂p added to each parameter's `.grad` (as backward does).

    The forward and backward run as the numpy program `autograd.compile` wrote
    (`step.source`), reading the parameters live, so an optimizer's update is
    seen by the next call. X and y are checked on every call as `fit` checks them.
    """

    def __init__(self, model: Module, loss: str | Callable[[Any, Any], Value] = "log_loss"):
        if not isinstance(model, Module):
            raise TypeError(f"compile_step: model must be an nn.Module, got {type(model).__name__}")
        self.model = model
        self.loss, _ = by_name(loss, "compile_step")
        self._found: Any = None  # the model's list of parameters when last looked at
        self._compile(model.parameters())

    def _compile(self, parameters: list[Value]) -> None:
        model = self.model

        def step(X: Any, y: Any) -> tuple[Value, Value]:
            out = model(X)
            return self.loss(out, y), out  # the output too: fit reads its accuracy from it

        self.parameters = parameters
        # The loss checks its labels by reading them; this step checks them itself on every
        # call, so that read cannot change what the program computes. log_loss reads σ(z)
        # to see if it is inside the clip; the program checks that again on every call
        # and raises Saturated where it is not, and then this step runs eagerly.
        trusted = (check_labels.__code__, unsaturated_logit.__code__)
        self.compiled = Compiled(step, wrt=parameters, trusted=trusted, has_aux=True)
        # The same step with no gradients asked for: its program is the forward alone.
        self.forward = Compiled(step, wrt=[], trusted=trusted, has_aux=True)

    @property
    def source(self) -> str:
        """The program's Python source: the forward, then the backward, one line per operation."""
        return str(self.compiled.source)

    @property
    def run_source(self) -> str:
        """The program that runs: `source` stored by columns and in reused buffers (large X)."""
        return str(self.compiled.run_source)

    def __call__(self, X: Any, y: Any) -> float:
        """Run one step on the rows X with 0/1 labels y; return the loss."""
        X, y = checks.rows_and_labels(X, y, "compile_step")
        return self.run(X, y)

    def run(self, X: Any, y: Any) -> float:
        """The step on data already checked (X a 2-D float array, y its labels as floats)."""
        value, grads, _ = self.compute(X, y)
        self.accumulate(grads)
        return value

    def compute(self, X: Any, y: Any) -> tuple[float, tuple[Any, ...], Any]:
        """(loss, its gradients, the model's output) on checked data; `.grad` is not touched."""
        self._check_parameters()
        try:
            value, grads, out = self.compiled(X, y)
        except Saturated:  # σ(z) reached the clip: the eager loss is taken on z
            value, grads, out = self.compiled._answer((X, y))
        return float(value), grads, out

    def _check_parameters(self) -> None:
        """Trace again if a parameter was replaced by a new Value since the last call."""
        # The model hands back the same list while its registry is unchanged (it is cached),
        # so one identity test stands for comparing every parameter (0.4 µs against 1.9).
        found = self.model._named_parameters()
        if found is not self._found:
            self._found = found
            now = [p for _, p in found]
            if len(now) != len(self.parameters) or any(map(operator.is_not, now, self.parameters)):
                self._compile(now)

    def evaluate(self, X: Any, y: Any) -> tuple[float, Any]:
        """(loss, the model's output) on checked data, by the forward program alone."""
        self._check_parameters()
        try:
            value, _, out = self.forward(X, y)
        except Saturated:  # as in compute
            value, _, out = self.forward._answer((X, y))
        return float(value), out

    def accumulate(self, grads: tuple[Any, ...]) -> None:
        """Add gradients that compute gave to the parameters' `.grad`, as backward does."""
        for p, g in zip(self.parameters, grads, strict=True):
            if type(p.data) is float:
                g = float(g)  # the setter takes a Python float five times faster than a numpy one
            p.grad = g if not p.grad_computed else p.grad + g


def step_for(model: Module, loss: Callable[[Any, Any], Value]) -> CompiledStep:
    """The compiled step fit(compile=True) uses: kept on the model, so a later fit reuses it.

    (Training one epoch at a time would otherwise trace at every call.) It is stored
    outside the model's registry of parameters and sub-modules, so state_dict and save
    never see it.
    """
    steps = model.__dict__.get("_compiled_steps")
    if steps is None:
        steps = {}
        object.__setattr__(model, "_compiled_steps", steps)
    step = steps.get(loss)
    if step is None:
        step = steps[loss] = CompiledStep(model, loss)
    return step


def compile_step(
    model: Module, loss: str | Callable[[Any, Any], Value] = "log_loss"
) -> CompiledStep:
    """The training step loss(model(X), y).backward() as a compiled program; see CompiledStep."""
    return CompiledStep(model, loss)


def add_command(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Register `code` with the CLI: it prints the lesson network's compiled step."""
    p = command(
        "code",
        run_code,
        "seed",
        help="print the lesson network's training step as the numpy code it compiles to",
        description="Trace one step of the red/green/purple network on a batch of the alien data\n"
        "and print the program autograd.compile writes for it: the forward, then the\n"
        "backward, which reads as the nine derivatives worked out by hand.",
    )
    p.add_argument(
        "--rows", type=checks.int_at_least(1), default=100, metavar="N", help="batch rows"
    )
    p.add_argument(
        "--as-run",
        action="store_true",
        help="print the program as it runs: tall arrays stored by columns, large ones in buffers",
    )


def run_code(args: argparse.Namespace) -> int:
    """`valuegrad code`: print the compiled step of the lesson network."""
    from nn.datasets import alien_sentiment
    from nn.network import TwoLayerNetwork

    X, y = alien_sentiment(n=args.rows, seed=args.seed)
    step = compile_step(TwoLayerNetwork(seed=args.seed))
    step(np.asarray(X), np.asarray(y))
    print(step.run_source if args.as_run else step.source, end="")
    return 0
