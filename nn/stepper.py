"""`valuegrad step`: the lesson network's backward pass for one sample, one step at a time.

It writes `autograd.steps`' self-contained HTML page (or, for a `.gif` path, the
animated GIF) for the log loss of the red/green/purple network on one sample.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from autograd import Value
from autograd.steps import Steps, backprop_steps, save_gif, save_stepper
from nn.losses import log_loss
from nn.network import TwoLayerNetwork


def lesson_steps(net: TwoLayerNetwork, x1: float, x2: float, y: float) -> Steps:
    """The steps of the backward pass of L = log_loss(net(x1, x2), y), with x1, x2 and L named."""
    inputs = [Value(float(x1), name="x1"), Value(float(x2), name="x2")]
    loss = log_loss(net(inputs), float(y))
    loss.name = "L"
    return backprop_steps(loss)


def run_step(args: argparse.Namespace) -> int:
    """Write the step-by-step page (or GIF) of the lesson network's backward pass."""
    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm", ".gif"):
        raise ValueError(f"cannot tell what to write to {out}: give a path ending in .html or .gif")
    net = TwoLayerNetwork(seed=args.seed)
    if args.load is not None:
        net.load(args.load)
    steps = lesson_steps(net, args.x1, args.x2, args.y)
    if out.suffix.lower() == ".gif":
        save_gif(steps, out)
    else:
        save_stepper(steps, out)
    print(f"wrote {out}: {len(steps)} steps back from L = {steps.root.item():.4f}")
    return 0


def add_command(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Register `step` with the CLI."""
    p = command(
        "step",
        run_step,
        "sample",
        "seed",
        "load",
        help="the backward pass step by step, as a page or an animated GIF",
        description="Write the red/green/purple network's backward pass for one sample, one\n"
        "node at a time: an HTML page that works offline (Prev, Next, Play, the arrow keys;\n"
        "click a node for its chain rule) or, for a .gif path, an animated GIF. Needs `dot`.",
    )
    p.add_argument("--out", default="backprop.html", metavar="FILE", help="an .html or a .gif path")
