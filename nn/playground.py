"""`valuegrad playground`: turn the lesson's knobs in a browser and watch the gradients.

A small web server from the standard library (`http.server`: nothing to install,
and a page that one person uses on their own machine needs no more) serves the
static page in `playground_static/` and one JSON endpoint, `POST /api/state`.
The page sends the whole setup (data set, model, seed, learning rate, the
parameters, optionally a number of gradient-descent steps to take); the engine
computes everything the page shows: the loss, each ∂L/∂w, the decision surface,
the perceptrons' lines, the lesson's graph and `explain()`'s chain rule. The
server keeps no state: the page keeps it in its URL.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np

from autograd import Value, explain, no_grad
from autograd.draw import DotNotFoundError, draw
from nn import checks, datasets
from nn.layers import Perceptron
from nn.losses import log_loss
from nn.module import Module
from nn.network import NAMES, TwoLayerNetwork
from nn.optim import SGD

STATIC = Path(__file__).parent / "playground_static"
FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}
DATA = ("alien", "xor", "moons", "circles")
MODELS = {"network": NAMES, "perceptron": ("w1", "w2", "b")}
MAX_BODY = 16 * 1024  # a setup is a few hundred bytes
MAX_WEIGHT = 1e3  # σ is flat far beyond this: larger weights teach nothing and may overflow
MAX_LR = 100.0
MAX_STEPS = 1000
MAX_SEED = 2**32 - 1
GRID = 48  # the decision surface is evaluated on GRID × GRID points
COLOURS = {"red": "#dc2626", "green": "#16a34a", "purple": "#9333ea"}
FIELDS = ("data", "model", "seed", "lr", "params", "steps", "sample")


class BadRequest(ValueError):
    """A request the playground refuses (answered with 400 and this message)."""


@dataclass(frozen=True)
class Setup:
    """What the page asks for: the data, the model and its parameters, and steps to take."""

    data: str
    model: str
    seed: int
    lr: float
    params: dict[str, float] | None  # None: the model's initial parameters for the seed
    steps: int
    sample: int  # the sample whose graph and chain rule are shown


# ---------------------------------------------------------------------------
# Reading a request.
# ---------------------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise BadRequest(f"{name} is not a number the playground accepts")


def _number(value: Any, what: str, low: float, high: float) -> float:
    """A finite number in [low, high], or BadRequest naming `what`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"{what} must be a number, got {json.dumps(value)[:40]}")
    if not low <= value <= high:  # also refuses nan: every comparison with it is false
        raise BadRequest(f"{what} = {_shown(value)} is outside [{low:g}, {high:g}]")
    return float(value)


def _shown(value: int | float) -> str:
    """A number for an error message: six digits, or the first few of a long whole number."""
    if isinstance(value, float) or abs(value) < 10**15:
        return f"{value:.6g}"
    digits = str(abs(value))  # a whole number too large for a float: no float() of it
    return f"{'-' if value < 0 else ''}{digits[0]}.{digits[1:6]}e+{len(digits) - 1}"


def _whole(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{what} must be a whole number, got {json.dumps(value)[:40]}")
    if not low <= value <= high:
        raise BadRequest(f"{what} = {_shown(value)} is outside [{low}, {high}]")
    return value


def _choice(value: Any, what: str, choices: Any) -> str:
    if value not in choices:
        raise BadRequest(
            f"{what} must be one of {', '.join(choices)}, got {json.dumps(value)[:40]}"
        )
    return str(value)


def parse_setup(body: bytes) -> Setup:
    """The setup in a request body (JSON), checked field by field; BadRequest says what is wrong."""
    try:
        request = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except BadRequest:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise BadRequest(f"the body is not JSON: {e}") from None
    if not isinstance(request, dict):
        raise BadRequest("the body must be a JSON object")
    unknown = sorted(set(request) - set(FIELDS))
    if unknown:
        raise BadRequest(f"unknown field {unknown[0]!r}; the fields are {', '.join(FIELDS)}")
    data = _choice(request.get("data", "alien"), "data", DATA)
    model = _choice(request.get("model", "network"), "model", tuple(MODELS))
    seed = _whole(request.get("seed", 0), "seed", 0, MAX_SEED)
    lr = _number(request.get("lr", 0.5), "lr", 0.0, MAX_LR)
    if lr == 0.0:
        raise BadRequest("lr must be positive")
    steps = _whole(request.get("steps", 0), "steps", 0, MAX_STEPS)
    sample = _whole(request.get("sample", 0), "sample", 0, 10**6)
    params = request.get("params")
    if params is not None:
        if not isinstance(params, dict):
            raise BadRequest("params must be an object of parameter names to numbers")
        names = MODELS[model]
        for name in params:
            if name not in names:
                raise BadRequest(
                    f"unknown parameter {str(name)[:40]!r}; the {model}'s are {', '.join(names)}"
                )
        missing = [n for n in names if n not in params]
        if missing:
            raise BadRequest(f"params lacks {', '.join(missing)}")
        params = {n: _number(params[n], n, -MAX_WEIGHT, MAX_WEIGHT) for n in names}
    return Setup(data, model, seed, lr, params, steps, sample)


# ---------------------------------------------------------------------------
# Computing what the page shows.
# ---------------------------------------------------------------------------


def make_model(setup: Setup) -> Module:
    """The model with the setup's parameters (or its initial ones for the seed)."""
    model: Module = (
        Perceptron(2, seed=setup.seed)
        if setup.model == "perceptron"
        else TwoLayerNetwork(seed=setup.seed)
    )
    if setup.params is not None:
        model.load_state_dict({n: np.array(v) for n, v in setup.params.items()})
    return model


def _line(w1: float, w2: float, b: float, *, box: tuple[float, ...]) -> list | None:
    """The ends of w1·x1 + w2·x2 + b = 0 inside the box (x0, x1, y0, y1), or None if it misses."""
    x0, x1, y0, y1 = box
    ends: list[tuple[float, float]] = []
    if w2 != 0:
        for x in (x0, x1):
            y = -(w1 * x + b) / w2
            if y0 <= y <= y1:
                ends.append((x, y))
    if w1 != 0:
        for y in (y0, y1):
            x = -(w2 * y + b) / w1
            if x0 <= x <= x1:
                ends.append((x, y))
    ends = sorted(set(ends))
    if len(ends) < 2 or not all(math.isfinite(c) for e in ends for c in e):
        return None
    return [list(ends[0]), list(ends[-1])]


def evaluate(setup: Setup) -> dict[str, Any]:
    """Take the setup's gradient-descent steps, then everything the page shows, as JSON data."""
    X, y = datasets.load(setup.data, seed=setup.seed)
    model = make_model(setup)
    if setup.steps:
        optimizer = SGD(model.parameters(), lr=setup.lr)  # p ← p − lr·∂L/∂p
        for _ in range(setup.steps):
            model.zero_grad()
            log_loss(model(X), y).backward()
            optimizer.step()
    model.zero_grad()
    y_hat = model(X)
    loss = log_loss(y_hat, y)
    loss.backward()
    named = dict(model.named_parameters())
    names = MODELS[setup.model]
    params = {n: float(named[n].data) for n in names}
    grads = {n: float(named[n].grad) for n in names}
    for name, v in params.items():
        if not abs(v) <= MAX_WEIGHT:  # the next request could not send it back
            raise BadRequest(
                f"these steps take {name} to {v:.6g}, beyond ±{MAX_WEIGHT:g}: "
                "lower lr or take fewer steps"
            )
    pad = 0.1 * float(np.max(np.ptp(X, axis=0)))
    box = (
        float(X[:, 0].min() - pad),
        float(X[:, 0].max() + pad),
        float(X[:, 1].min() - pad),
        float(X[:, 1].max() + pad),
    )
    xs = np.linspace(box[0], box[1], GRID)
    ys = np.linspace(box[3], box[2], GRID)  # top row first, as the page paints it
    gx, gy = np.meshgrid(xs, ys)
    with no_grad():
        surface = model(np.column_stack([gx.ravel(), gy.ravel()])).data
    # Samples at the same spot are one point with a count (and the first one's index).
    rows, first, counts = np.unique(
        np.column_stack([X, y]), axis=0, return_index=True, return_counts=True
    )
    hidden = {"red": ("w11", "w21", "b1"), "green": ("w12", "w22", "b2")}
    if setup.model == "perceptron":
        hidden = {"purple": ("w1", "w2", "b")}
    lines = [  # where each perceptron's output is ½: w·x + b = 0
        {"name": c, "colour": COLOURS[c], "ends": _line(*(params[n] for n in ws), box=box)}
        for c, ws in hidden.items()
    ]
    sample = min(setup.sample, len(X) - 1)
    graph, explained = _lesson(model, X[sample], float(y[sample]), names)
    return {
        "data": setup.data,
        "model": setup.model,
        "seed": setup.seed,
        "lr": setup.lr,
        "sample": sample,
        "names": list(names),
        "params": params,
        "grads": grads,
        "loss": loss.item(),
        "accuracy": float(np.mean((y_hat.data > 0.5) == (y == 1.0))),
        "n": len(X),
        "box": box,
        "grid": GRID,
        "surface": [round(float(p), 4) for p in surface],
        "points": [
            [float(r[0]), float(r[1]), int(r[2]), int(k), int(i)]
            for r, k, i in zip(rows, counts, first, strict=True)
        ],
        "lines": lines,
        "x": [float(X[sample, 0]), float(X[sample, 1]), float(y[sample])],
        "graph": graph,
        "explain": explained,
    }


def _lesson(
    model: Module, x: np.ndarray, y: float, names: tuple[str, ...]
) -> tuple[str, dict[str, str]]:
    """One sample's graph of its log loss as SVG ("" without `dot`), and each ∂L/∂w's chain rule."""
    named = dict(model.named_parameters())
    model.zero_grad()
    loss = log_loss(model([Value(float(x[0]), "x1"), Value(float(x[1]), "x2")]), y)
    loss.name = "L"
    loss.backward()
    explained = {n: str(explain(loss, named[n])) for n in names}
    try:
        svg = draw(loss).pipe(format="svg").decode("utf-8")
        svg = svg[svg.index("<svg") :]
    except DotNotFoundError:
        svg = ""
    return svg, explained


# ---------------------------------------------------------------------------
# The server.
# ---------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    """Serves the page's files and answers `POST /api/state`; bad requests get 400 and a message."""

    server_version = "valuegrad-playground"
    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds a client may stall mid-request before its connection is dropped

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal shows the address and errors, not every request."""

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        # The page may load nothing from anywhere but this server.
        self.send_header(
            "Content-Security-Policy",
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
        )
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data, allow_nan=False).encode("utf-8"), "application/json")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": message})

    def do_GET(self) -> None:
        """The page's static files."""
        path = self.path.split("?", 1)[0]
        if path not in FILES:
            self._error(HTTPStatus.NOT_FOUND, f"no such page: {path[:80]}")
            return
        name, kind = FILES[path]
        self._send(HTTPStatus.OK, (STATIC / name).read_bytes(), kind)

    do_HEAD = do_GET

    def do_POST(self) -> None:
        """`/api/state`: the setup in, what the page shows out."""
        if self.path != "/api/state":
            self._error(HTTPStatus.NOT_FOUND, f"no such endpoint: {self.path[:80]}")
            return
        length = (self.headers.get("Content-Length") or "").strip()
        # Digits only: int() would also take "1_0", "+10" and other scripts' digits.
        size = int(length) if length.isascii() and length.isdigit() else -1
        if size < 0:
            self.close_connection = True
            self._error(HTTPStatus.BAD_REQUEST, "the request needs a Content-Length")
            return
        if size > MAX_BODY:
            self.close_connection = True  # the body is left unread
            self._error(
                HTTPStatus.BAD_REQUEST,
                f"the body has {size:,} bytes; the limit is {MAX_BODY:,}",
            )
            return
        body = self.rfile.read(size)
        try:
            result = evaluate(parse_setup(body))
        except BadRequest as e:
            self._error(HTTPStatus.BAD_REQUEST, str(e))
            return
        except Exception as e:  # a bug must not take the server down; the page shows it
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(e).__name__}: {e}")
            return
        self._json(HTTPStatus.OK, result)


class _Server(ThreadingHTTPServer):
    """The HTTP server, quiet when a client goes away mid-request (a closed tab is no error)."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def make_server(host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A playground server bound to host:port (port 0: a free one); call `serve_forever()`."""
    server = _Server((host, port), Handler)
    server.daemon_threads = True
    return server


def url_of(server: ThreadingHTTPServer) -> str:
    """The address the server answers on."""
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}/"


def run_playground(args: argparse.Namespace) -> int:
    """Serve the playground until Ctrl-C."""
    if args.port > 65535:
        raise ValueError(f"--port must be at most 65535, got {args.port}")
    server = make_server(args.host, args.port)
    url = url_of(server)
    print(f"playground at {url}  (Ctrl-C stops it)", flush=True)
    try:  # Ctrl-C may come as soon as the address is out, even before serving starts
        if args.open:
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
        server.serve_forever()
    except KeyboardInterrupt:
        print("playground stopped", file=sys.stderr, flush=True)
    finally:
        server.server_close()
    return 0


def add_command(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Register `playground` with the CLI."""
    p = command(
        "playground",
        run_playground,
        help="turn the network's nine knobs in a browser and watch the gradients",
        description="Start a local web server with the playground: the data and the decision "
        "surface,\nthe nine parameters as sliders with their gradients, gradient-descent steps, "
        "the\nlesson's graph and the chain rule of each ∂L/∂w. The engine does the arithmetic;\n"
        "the page keeps its state in its address, so a setup can be shared.",
    )
    p.add_argument("--port", type=checks.int_at_least(0), default=0, help="port (0: a free one)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to serve on (others can reach it if not 127.0.0.1)",
    )
    p.add_argument("--open", action="store_true", help="also open the page in a browser")
