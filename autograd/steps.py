"""The backward pass one step at a time, as data, drawings, an animated GIF and a web page.

`backprop_steps(L)` runs L's real backward pass (`autograd.graph.backward` with
`observe=`) and records, at each inner node it visits, the gradient that node
received, its local derivatives and the chain-rule product it adds into each
input's gradient:

    dL/dz1 = dL/da1 · da1/dz1 = -0.03179 · 0.1001 = -0.003182

From those steps, `step_drawings` makes one graphviz drawing per step (the
gradients known so far filled in, the current node outlined), `save_gif` an
animated GIF of them, and `save_stepper` / `stepper_html` one self-contained
HTML page that pages through them offline.
"""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograd.draw import Drawing, dot_available, draw, fmt
from autograd.explain import _expression, _local, explain, pretty
from autograd.graph import backward, topological_order
from autograd.value import Value

CURRENT = "#ea580c"  # the outline of the node whose step it is


@dataclass(frozen=True)
class Share:
    """What one step adds into one input's gradient: incoming · local = product."""

    input: Value
    slot: int  # which operand of the node the input is
    local: float  # ∂node/∂input
    product: float  # ∂L/∂node · ∂node/∂input, as the node's vjp computes it
    before: float | None  # the input's gradient before this step (None: not reached yet)
    after: float  # and after it


@dataclass(frozen=True)
class Step:
    """One node of the backward pass: the gradient it received and what it passed to its inputs.

    `grads` are the gradients known right after this step, keyed by node (a node
    missing from it has not been reached yet).
    """

    index: int
    node: Value
    incoming: float  # ∂L/∂node, complete when the pass reaches the node
    shares: tuple[Share, ...]
    grads: dict[Value, float]
    lines: tuple[str, ...]  # how the node was made, then one chain-rule line per share

    @property
    def local(self) -> tuple[float, ...]:
        """∂node/∂input for each input that is a Value, in operand order."""
        return tuple(s.local for s in self.shares)

    @property
    def caption(self) -> str:
        """How the node was made, then its chain-rule products, one per line."""
        return "\n".join(self.lines)


class Steps(Sequence[Step]):
    """The steps of one backward pass, in visit order, with the names used in their captions."""

    def __init__(self, root: Value, steps: list[Step], symbols: dict[Value, str]):
        self.root = root
        self._steps = steps
        self.symbols = symbols

    def __len__(self) -> int:
        return len(self._steps)

    def __getitem__(self, i: Any) -> Any:
        return self._steps[i]

    def __iter__(self) -> Iterator[Step]:
        return iter(self._steps)

    def __repr__(self) -> str:
        return f"<Steps: {len(self)} steps back from {self.symbols[self.root]}>"

    @property
    def parameters(self) -> list[Value]:
        """The named leaves that received a gradient (the knobs a learner turns), in graph order."""
        last = self._steps[-1].grads if self._steps else {}
        return [n for n in last if n.is_leaf and n.name is not None]


def _symbols(order: list[Value], root: Value) -> dict[Value, str]:
    """Names as explain() writes them: ŷ for y_hat, u1, u2 … for unnamed nodes, f for the output."""
    symbols: dict[Value, str] = {}
    taken: set[str] = set()
    unnamed = 0
    for node in order:
        if node.name is not None:
            base = pretty(node.name)
        elif node is root:
            base = "f"
        else:
            unnamed += 1
            base = f"u{unnamed}"
        name, k = base, 1
        while name in taken:
            k += 1
            name = f"{base}#{k}"
        taken.add(name)
        symbols[node] = name
    return symbols


def backprop_steps(root: Value) -> Steps:
    """Run root's backward pass and record each inner node it visits, in the order it visits them.

    Leaves' gradients are zeroed first, so afterwards every `.grad` is ∂root/∂node,
    and the last step's `grads` equal them. For graphs of scalars (like `explain`).
    """
    if not isinstance(root, Value):
        raise TypeError(f"backprop_steps() takes a Value, got {type(root).__name__}")
    order = topological_order(root)
    for node in order:
        if node.shape:
            raise ValueError(
                f"backprop_steps works on graphs of scalars, but {node!r} has shape {node.shape}"
            )
    symbols = _symbols(order, root)
    for node in order:
        if node.is_leaf:
            node.zero_grad()
    known: dict[Value, float] = {}
    steps: list[Step] = []
    index = {node: i for i, node in enumerate(order)}

    def observe(node: Value) -> None:
        incoming = float(node.grad)
        known[node] = incoming
        datas = [p.data if isinstance(p, Value) else p for p in node.inputs]
        shares: list[Share] = []
        running: dict[Value, float] = {}
        for slot, p in enumerate(node.inputs[: len(node.op.grads)]):
            if not isinstance(p, Value):
                continue
            before = running.get(p, known.get(p))  # x·x: the first slot's share is already in
            # The node's vjp gives the share, exactly as backward computed and added it.
            product = float(node.op.grads[slot](incoming, node.data, *datas))
            after = product if before is None else before + product
            running[p] = after
            shares.append(Share(p, slot, _local(node, slot), product, before, after))
        for p in running:
            known[p] = float(p.grad)  # the engine's sum, which `after` must equal
        title = f"{symbols[node]} = {_expression(node, symbols)}"
        lines = [title, *(_line(out, node, s, symbols, incoming, shares) for s in shares)]
        grads = {n: known[n] for n in sorted(known, key=index.__getitem__)}  # in graph order
        steps.append(Step(len(steps), node, incoming, tuple(shares), grads, tuple(lines)))

    out = symbols[root]
    backward(root, observe=observe)
    return Steps(root, steps, symbols)


def _line(
    out: str,
    node: Value,
    s: Share,
    symbols: dict[Value, str],
    incoming: float,
    shares: list[Share],
) -> str:
    """ "dL/dz1 = dL/da1 · da1/dz1 = -0.03179 · 0.1001 = -0.003182", and the sum when it adds up."""
    me, p = symbols[node], symbols[s.input]
    twice = sum(1 for t in shares if t.input is s.input) > 1
    local = f"d{me}/d{p}" + (f"[{s.slot + 1}]" if twice else "")
    chain = f"d{out}/d{me} · {local} = {fmt(incoming)} · {fmt(s.local)} = {fmt(s.product)}"
    if s.before is None:
        return f"d{out}/d{p} = {chain}"
    sign = f"− {fmt(-s.product)}" if s.product < 0 else f"+ {fmt(s.product)}"
    total = f"{fmt(s.before)} {sign} = {fmt(s.after)}"
    return f"d{out}/d{p} += {chain}, so d{out}/d{p} = {total}"


# ---------------------------------------------------------------------------
# Drawings, one per step.
# ---------------------------------------------------------------------------


@contextmanager
def _grads_as_of(nodes: list[Value], grads: dict[Value, float]) -> Iterator[None]:
    """Inside this block each node's `.grad` is what it was at that step (unset if not reached)."""
    saved = [n.grad if n.grad_computed else None for n in nodes]
    try:
        for n in nodes:
            n.grad = grads.get(n)
        yield
    finally:
        for n, g in zip(nodes, saved, strict=True):
            n.grad = g


def _caption(text: str) -> str:
    """A caption for a plain DOT label, one left-aligned line per line of text."""
    return "".join(line.replace("\\", "\\\\") + "\\l" for line in text.split("\n"))


def step_drawing(steps: Steps, k: int, **draw_options: Any) -> Drawing:
    """Step k drawn: the gradients known after it, its node outlined, its chain rule as caption.

    `draw_options` go to `autograd.draw`. The graph's `.grad`s are set to that
    step's values while it is drawn and restored after (so not while another
    thread uses them).
    """
    step = steps[k]
    nodes = topological_order(steps.root)
    with _grads_as_of(nodes, step.grads):
        d = draw(steps.root, **draw_options)
    for s in step.shares:
        vid = d.ids.get(s.input)
        if vid is not None:
            d.node(vid, color=CURRENT, penwidth="2")
    vid, oid = d.ids.get(step.node), d.op_id(step.node)
    if vid is not None:
        d.node(vid, color=CURRENT, penwidth="4")
    if oid is not None:
        d.node(oid, color=CURRENT, penwidth="3")
    head = f"step {k + 1} of {len(steps)}: {step.caption}"
    d.attr(label=_caption(head), labelloc="t", labeljust="l", fontsize="13")
    return d


def step_drawings(steps: Steps, *, steady: bool = True, **draw_options: Any) -> list[Drawing]:
    """`step_drawing` for every step, in order.

    With `steady` (and `dot` installed) every node gets one fixed size in all the
    drawings, the largest it takes in any of them, so `dot` places it at the same
    spot in each: the picture does not jump as gradients replace "not computed yet".
    """
    drawings = [step_drawing(steps, k, **draw_options) for k in range(len(steps))]
    if steady and dot_available():
        seen: dict[str, set[tuple[float, float]]] = {}
        for d in drawings:
            for name, size in _sizes(d).items():
                seen.setdefault(name, set()).add(size)
        for name, sizes in seen.items():
            if len(sizes) > 1:  # only nodes whose label changes size
                w, h = max(w for w, _ in sizes), max(h for _, h in sizes)
                for d in drawings:
                    d.node(name, width=f"{w:.4f}", height=f"{h:.4f}", fixedsize="true")
    return drawings


def _sizes(d: Drawing) -> dict[str, tuple[float, float]]:
    """Each node's width and height in inches, as `dot` lays the drawing out."""
    sizes = {}
    for line in d.pipe(format="plain").decode("utf-8").splitlines():
        parts = line.split()
        if parts and parts[0] == "node":  # node NAME X Y WIDTH HEIGHT ...
            sizes[parts[1].strip('"')] = (float(parts[4]), float(parts[5]))
    return sizes


# ---------------------------------------------------------------------------
# An animated GIF.
# ---------------------------------------------------------------------------


def save_gif(
    steps: Steps,
    path: str | Path,
    *,
    ms_per_step: int = 1200,
    width: int | None = None,
    **draw_options: Any,
) -> Path:
    """Write the steps' drawings as an animated GIF, one frame per step (needs `dot` and Pillow).

    The frames are rendered to PNG by `dot`, padded to one size and, with `width`,
    scaled to that many pixels across; the same graph gives the same bytes.
    """
    try:
        from PIL import Image
    except ImportError:  # Pillow comes with matplotlib
        raise ImportError(
            "save_gif needs Pillow: pip install pillow (it comes with matplotlib)"
        ) from None
    if ms_per_step < 1:
        raise ValueError(f"ms_per_step must be at least 1, got {ms_per_step}")
    if width is not None and width < 16:
        raise ValueError(f"width must be at least 16 pixels, got {width}")
    if not len(steps):
        raise ValueError("there are no steps to draw: the output is a leaf")
    images = [
        Image.open(io.BytesIO(d.pipe(format="png"))).convert("RGB")
        for d in step_drawings(steps, **draw_options)
    ]
    size = (max(im.width for im in images), max(im.height for im in images))
    if width is not None:
        scaled = (width, max(1, round(size[1] * width / size[0])))
    frames = []
    for im in images:
        frame = Image.new("RGB", size, "white")
        frame.paste(im, (0, 0))
        if width is not None:
            frame = frame.resize(scaled, Image.Resampling.LANCZOS)
        frames.append(
            frame.quantize(colors=255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        )
    path = Path(path)
    frames[0].save(
        path,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        duration=ms_per_step,
        loop=0,
        optimize=False,
    )
    return path


# ---------------------------------------------------------------------------
# A page that steps through them.
# ---------------------------------------------------------------------------


_SCRIPT_HAZARD = re.compile(r"<(?=/|!--|script)", re.IGNORECASE)


def _svg(d: Drawing) -> str:
    """The drawing as an SVG element to put inside a page (no XML prologue)."""
    text = d.pipe(format="svg").decode("utf-8")
    return text[text.index("<svg") :]


def stepper_html(
    steps: Steps, *, title: str = "The backward pass, step by step", **draw_options: Any
) -> str:
    """One self-contained HTML page: the steps' SVG drawings, Prev/Next/Play and the arrow keys.

    Clicking a node shows its `explain()` text. Nothing is fetched: the frames,
    the script and the styles are all in the page.
    """
    if not len(steps):
        raise ValueError("there are no steps to draw: the output is a leaf")
    drawings = step_drawings(steps, **draw_options)
    last = drawings[-1]
    explained: dict[str, str] = {}
    with _grads_as_of(topological_order(steps.root), steps[-1].grads):
        for node in topological_order(steps.root):
            vid = last.ids.get(node)
            if vid is not None:
                explained[vid] = str(explain(steps.root, node))
    data = {
        "frames": [
            {"svg": _svg(d), "caption": s.caption} for d, s in zip(drawings, steps, strict=True)
        ],
        "explain": explained,
    }
    # Inside <script>, "</", "<!--" and "<script" could end or confuse the element: \u003c is "<".
    payload = _SCRIPT_HAZARD.sub(r"\\u003c", json.dumps(data, ensure_ascii=False))
    page = (Path(__file__).parent / "stepper.html").read_text(encoding="utf-8")
    # One pass over the page, so a title that contains "{{data}}" stays text.
    fill = {"{{title}}": html.escape(title), "{{data}}": payload}
    return re.sub(r"\{\{(?:title|data)\}\}", lambda m: fill[m.group(0)], page)


def save_stepper(steps: Steps, path: str | Path, **options: Any) -> Path:
    """Write `stepper_html(steps, **options)` to `path`."""
    path = Path(path)
    path.write_text(stepper_html(steps, **options), encoding="utf-8")
    return path
