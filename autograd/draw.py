"""Drawing the graph: graphviz pictures of Values with their data, gradients and clusters.

`draw(root)` returns a `Drawing`, a `graphviz.Digraph` whose DOT source is made
in Python alone; only rendering it to svg, png or pdf needs graphviz's `dot`.
Each Value is a box (its name, data and grad); each operation is a small node
between its result and its operands; raw numbers used as operands are small
grey constant nodes. Nodes made inside `autograd.scope(...)` blocks (an nn
module's forward) are grouped in nested clusters, in the scope's colour.

Big graphs stay readable: past `max_nodes` Values, clusters collapse into one
box each (the innermost level first), and if that is not enough, the leaves
and the output end are kept and whatever lies between is drawn as
"… N nodes …". The caption says what was collapsed.

Drawing is two steps: `plan` (in `autograd.draw_plan`) decides what is shown,
and `autograd.draw_dot` writes that plan as DOT text.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import graphviz

from autograd.draw_dot import COLOURS, GREY, STYLE, write
from autograd.draw_plan import Plan, plan
from autograd.graph import is_node
from autograd.text import fmt, op_symbol, summary

if TYPE_CHECKING:
    from autograd.value import Value

__all__ = [
    "COLOURS",
    "INSTALL_HINT",
    "STYLE",
    "DotNotFoundError",
    "Drawing",
    "Plan",
    "dot_available",
    "draw",
    "fmt",
    "op_symbol",
    "plan",
    "render",
    "summary",
]

INSTALL_HINT = (
    "rendering needs graphviz's `dot` program, which was not found on PATH. Install it with "
    "`apt install graphviz` (Debian, Ubuntu), `brew install graphviz` (macOS) or "
    "`conda install -c conda-forge graphviz`; `.dot` output works without it."
)

_FORMATS = ("svg", "png", "pdf")

_P = ParamSpec("_P")
_R = TypeVar("_R")


class DotNotFoundError(graphviz.ExecutableNotFound):
    """Raised when rendering needs graphviz's `dot` and it is not installed."""

    def __init__(self) -> None:
        RuntimeError.__init__(self, INSTALL_HINT)


def _needs_dot(run: Callable[_P, _R]) -> Callable[_P, _R]:
    """`run`, where a missing `dot` raises DotNotFoundError: the one place that error is caught."""

    @functools.wraps(run)
    def running(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return run(*args, **kwargs)
        except graphviz.ExecutableNotFound as e:
            raise DotNotFoundError() from e

    return running


class Drawing(graphviz.Digraph):
    """A `graphviz.Digraph` of a Value's graph; Jupyter shows it inline as SVG.

    `ids` maps each drawn Value to its DOT node id; `caption` says what was collapsed.
    `pipe` and `render` are graphviz's, saying how to install `dot` when it is missing.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ids: dict[Value, str] = {}
        self.caption = ""

    pipe = _needs_dot(graphviz.Digraph.pipe)
    render = _needs_dot(graphviz.Digraph.render)

    def op_id(self, value: Value) -> str | None:
        """The DOT id of the operation node that made `value` (None for a leaf or when hidden)."""
        vid = self.ids.get(value)
        return None if vid is None or value.is_leaf else "o" + vid[1:]

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None, **kw: Any
    ) -> dict[str, Any]:
        if not dot_available():
            return {"text/plain": f"{INSTALL_HINT}\n\n{self.source}"}
        return dict(super()._repr_mimebundle_(include, exclude, **kw))


def draw(
    root: Value,
    *,
    rankdir: str = "LR",
    max_nodes: int = 100,
    show_grad: bool = True,
    highlight: Iterable[Any] = (),
    params: Iterable[Value] | None = None,
    inputs: Iterable[Value] = (),
    legend: bool = True,
    precision: int = 4,
) -> Drawing:
    """The graph `root` depends on, as a graphviz Digraph (no `dot` binary needed to build it).

    Value boxes show name, data and grad ("not computed yet" before a backward
    reaches them); tensors show their shape and a summary. Parameters are `params`
    when given; else the `.parameters()` of the owners of the scopes the nodes were
    made in (nn modules); else, in a graph of hand-made Values, the leaves that
    received a gradient. Leaves in `inputs` and all other leaves are inputs. `highlight`
    takes Values (or results of `find_wrong_gradients`) to mark in red.
    `max_nodes` bounds the number of Values and cluster boxes drawn (operation,
    constant and "… N nodes …" nodes come on top); past it, clusters and then the
    nodes between the output end and the leaves collapse into boxes.
    """
    p = plan(root, max_nodes=max_nodes, highlight=highlight, params=params, inputs=inputs)
    g = Drawing(
        name="valuegrad",
        graph_attr={"fontname": "Helvetica", "compound": "true", "rankdir": rankdir},
        node_attr={"fontname": "Helvetica", "fontsize": "11"},
        edge_attr={"color": GREY, "arrowsize": "0.7"},
    )
    g.ids = write(p, g, show_grad=show_grad, precision=precision, legend=legend)
    g.caption = p.caption
    return g


def dot_available() -> bool:
    """True when graphviz's `dot` program is on PATH."""
    return shutil.which("dot") is not None


def render(
    drawing: graphviz.Digraph | Value, path: str | Path, format: str | None = None, **kwargs: Any
) -> Path:
    """Write a drawing (or a Value, drawn with `kwargs`) to `path`, in the format of its suffix.

    `.dot`/`.gv` write the DOT source and need nothing else; svg, png and pdf run `dot`
    and raise `DotNotFoundError` (saying how to install graphviz) when it is missing.
    """
    path = Path(path)
    kind = (format or path.suffix.lstrip(".")).lower()
    digraph: graphviz.Digraph = draw(drawing, **kwargs) if is_node(drawing) else drawing
    if kind in ("dot", "gv"):
        path.write_text(digraph.source, encoding="utf-8")
        return path
    if kind not in _FORMATS:
        raise ValueError(
            f"cannot tell the format of {path.name!r}: use a .svg, .png, .pdf or .dot file "
            "or pass format="
        )
    path.write_bytes(Drawing.pipe(digraph, format=kind))  # any Digraph: graphviz's pipe
    return path
