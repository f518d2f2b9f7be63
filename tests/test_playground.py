"""nn/playground.py: the server's answers, its refusals, the command, and the page in Chromium."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograd import Value, explain
from nn import datasets
from nn.layers import Perceptron
from nn.losses import log_loss
from nn.network import NAMES, TwoLayerNetwork
from nn.playground import MAX_BODY, BadRequest, Setup, evaluate, make_server, parse_setup, url_of

VALUEGRAD = Path(sys.executable).parent / "valuegrad"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A playground on 127.0.0.1 and a free port, in a thread; stopped after the module."""
    srv = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield url_of(srv)
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(10)


def post(url: str, body: bytes | str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """POST the body to /api/state: (status, the JSON answer)."""
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url + "api/state", data=data, headers=headers or {}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def engine(model: str, data: str, seed: int, params: dict[str, float]) -> tuple[float, dict]:
    """The full-batch log loss and its gradients for these weights, computed here independently."""
    net = TwoLayerNetwork(seed=0) if model == "network" else Perceptron(2, seed=0)
    net.load_state_dict({k: np.array(v) for k, v in params.items()})
    X, y = datasets.load(data, seed=seed)
    loss = log_loss(net(X), y)
    loss.backward()
    return loss.item(), {k: float(p.grad) for k, p in net.named_parameters()}


# ---------------------------------------------------------------------------
# What the server computes.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["network", "perceptron"])
@pytest.mark.parametrize("data", ["alien", "xor", "moons", "circles"])
def test_the_answer_is_the_engines_loss_and_gradients(data: str, model: str) -> None:
    out = evaluate(Setup(data, model, 3, 0.5, None, 0, 0))
    loss, grads = engine(model, data, 3, out["params"])
    assert out["loss"] == pytest.approx(loss, rel=1e-12)
    assert out["grads"] == pytest.approx(grads, rel=1e-12, abs=1e-15)
    assert len(out["surface"]) == out["grid"] ** 2
    assert all(0.0 <= p <= 1.0 for p in out["surface"])
    assert sum(p[3] for p in out["points"]) == out["n"]
    assert out["graph"].startswith("<svg")


def test_a_step_moves_each_weight_by_minus_lr_times_its_gradient() -> None:
    start = evaluate(Setup("alien", "network", 0, 0.7, None, 0, 0))
    after = evaluate(Setup("alien", "network", 0, 0.7, start["params"], 1, 0))
    for name in NAMES:
        moved = start["params"][name] - 0.7 * start["grads"][name]
        assert after["params"][name] == pytest.approx(moved, rel=1e-12, abs=1e-15)


def test_the_lines_are_where_red_and_green_output_one_half() -> None:
    params = dict(zip(NAMES, [1.0, -1.0, 0.5, 1.0, -1.0, -0.5, 2.0, -2.0, 0.0], strict=True))
    out = evaluate(Setup("alien", "network", 0, 0.5, params, 0, 0))
    red, green = out["lines"]
    assert (red["name"], green["name"]) == ("red", "green")
    for line, (w1, w2, b) in ((red, (1.0, -1.0, 0.5)), (green, (1.0, -1.0, -0.5))):
        for x1, x2 in line["ends"]:
            assert w1 * x1 + w2 * x2 + b == pytest.approx(0.0, abs=1e-9)


def test_the_chain_rule_shown_is_explain_on_the_chosen_sample() -> None:
    out = evaluate(Setup("alien", "network", 0, 0.5, None, 0, 7))
    X, y = datasets.load("alien", seed=0)
    net = TwoLayerNetwork(seed=0)
    loss = log_loss(net([Value(X[7, 0], "x1"), Value(X[7, 1], "x2")]), float(y[7]))
    loss.name = "L"
    assert out["sample"] == 7
    assert out["explain"]["w21"] == str(explain(loss, net.w21))
    first = " ".join(out["explain"]["w21"].splitlines()[0].split())
    assert first == "dL/dw21 = dL/dŷ · dŷ/dz · dz/da1 · da1/dz1 · dz1/dw21"  # the slide's chain
    assert "y_hat" in out["graph"] and "log loss" in out["graph"] and "LogLoss" not in out["graph"]


BAD = [
    ("not json", "not JSON"),
    ("[1, 2]", "a JSON object"),
    ('{"lr": NaN}', "NaN is not a number"),
    ('{"lr": Infinity}', "Infinity is not a number"),
    ('{"lr": 1e999}', "lr = inf is outside"),
    ('{"lr": 0}', "lr must be positive"),
    ('{"lr": "fast"}', 'lr must be a number, got "fast"'),
    ('{"seed": 1.5}', "seed must be a whole number"),
    ('{"seed": -1}', "seed = -1 is outside"),
    ('{"steps": 100000}', "steps = 100000 is outside"),
    ('{"steps": true}', "steps must be a whole number, got true"),
    ('{"data": "mnist"}', "data must be one of alien, xor, moons, circles"),
    ('{"model": "mlp"}', "model must be one of network, perceptron"),
    ('{"colour": 1}', "unknown field 'colour'"),
    ('{"params": [1]}', "params must be an object"),
    ('{"params": {"w11": 1}}', "params lacks w21"),
    (
        '{"model": "perceptron", "params": {"w1": 1, "w2": 1, "b": 1, "w11": 1}}',
        "unknown parameter 'w11'",
    ),
    (
        "{" + '"params": {' + ", ".join(f'"{n}": 1e300' for n in NAMES) + "}}",
        "w11 = 1e+300 is outside",
    ),
    (
        "{" + '"params": {' + ", ".join(f'"{n}": "{n}"' for n in NAMES) + "}}",
        'w11 must be a number, got "w11"',
    ),
    (
        "{" + '"params": {' + ", ".join(f'"{n}": null' for n in NAMES) + "}}",
        "w11 must be a number, got null",
    ),
    ("1" * 5000, "not JSON"),  # more digits than Python converts
    ("[" * 5000 + "]" * 5000, "not JSON"),  # deeper than the parser goes
    ('{"seed": 123' + "0" * 50 + "}", "is outside"),
    (b"\xff\xfe{}", "not JSON"),
]


@pytest.mark.parametrize(("body", "message"), BAD)
def test_bad_setups_are_refused_with_a_message(body: str | bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=re.escape(message)):
        parse_setup(body.encode() if isinstance(body, str) else body)


def test_steps_that_take_a_weight_out_of_bounds_are_refused() -> None:
    params = {"w1": 999.0, "w2": -999.0, "b": 999.0}
    with pytest.raises(BadRequest, match=r"take w[12] to -?1\d{3}(\.\d+)?, beyond ±1000"):
        evaluate(Setup("alien", "perceptron", 0, 100.0, params, 1, 0))


# ---------------------------------------------------------------------------
# Over HTTP.
# ---------------------------------------------------------------------------


def test_bad_requests_get_400_and_a_message_and_the_server_keeps_serving(server: str) -> None:
    for body, message in BAD:
        status, answer = post(server, body)
        assert status == 400, body
        assert message in answer["error"]
    status, answer = post(server, b"x" * (MAX_BODY + 1))
    assert status == 400 and "limit" in answer["error"]
    status, answer = post(server, "{}")
    assert status == 200 and answer["names"] == list(NAMES)


def raw(server: str, request: bytes) -> str:
    """Send bytes as they are; the server's whole reply (it closes the connection after)."""
    host, port = server.removeprefix("http://").rstrip("/").split(":")
    chunks = []
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(request)
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def test_requests_at_once_get_the_answers_they_would_get_alone(server: str) -> None:
    setups = [
        {"data": data, "model": model, "seed": seed, "steps": 3}
        for data in ("alien", "moons")
        for model in ("network", "perceptron")
        for seed in (0, 1)
    ]
    alone = [post(server, json.dumps(s))[1] for s in setups]
    together: list[Any] = [None] * len(setups)

    def ask(i: int) -> None:
        together[i] = post(server, json.dumps(setups[i]))[1]

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(setups))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert together == alone


def test_an_oversized_body_is_refused_unread(server: str) -> None:
    reply = raw(server, b"POST /api/state HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n{")
    assert reply.startswith("HTTP/1.1 400")
    assert "the limit is 16,384" in reply
    reply = raw(server, b"POST /api/state HTTP/1.1\r\nContent-Length: many\r\n\r\n{}")
    assert reply.startswith("HTTP/1.1 400") and "needs a Content-Length" in reply
    reply = raw(server, b"POST /api/state HTTP/1.1\r\n\r\n{}")
    assert reply.startswith("HTTP/1.1 400") and "needs a Content-Length" in reply
    reply = raw(server, b"BREW /api/state HTTP/1.1\r\n\r\n")
    assert reply.startswith("HTTP/1.1 501")
    assert post(server, "{}")[0] == 200


def test_a_stalled_request_does_not_hold_up_the_others(server: str) -> None:
    host, port = server.removeprefix("http://").rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as stalled:
        stalled.sendall(b"POST /api/state HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
        assert post(server, "{}")[0] == 200


def test_the_page_and_its_files_and_nothing_else(server: str) -> None:
    kinds = {"": "text/html", "app.js": "text/javascript", "style.css": "text/css"}
    for name, kind in kinds.items():
        with urllib.request.urlopen(server + name, timeout=30) as r:
            assert r.headers["Content-Type"].startswith(kind)
            assert "default-src 'self'" in r.headers["Content-Security-Policy"]
            text = r.read().decode()
        assert "http:" not in text and "https:" not in text and "//" not in text.replace("// ", "")
    for path in ("../pyproject.toml", "playground.py", "api/state", "%2e%2e/cli.py"):
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(server + path, timeout=30)
        assert e.value.code == 404


def test_valuegrad_playground_serves_on_127_0_0_1_and_stops_on_ctrl_c() -> None:
    proc = subprocess.Popen(
        [str(VALUEGRAD), "playground"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Python turns SIGINT into KeyboardInterrupt only if it was not ignored when it started.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.fullmatch(r"playground at (http://127\.0\.0\.1:\d+/)  \(Ctrl-C stops it\)\n", line)
        assert m, line
        assert post(m.group(1), "{}")[0] == 200
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert err.strip() == "playground stopped"


def test_open_opens_the_address_in_the_browser(tmp_path: Path) -> None:
    opened = tmp_path / "opened.txt"
    script = tmp_path / "browser.sh"
    script.write_text(f'#!/bin/sh\necho "$1" > "{opened}"\n')
    script.chmod(0o755)
    proc = subprocess.Popen(
        [str(VALUEGRAD), "playground", "--open"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BROWSER": str(script)},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[2]
        for _ in range(300):
            if opened.exists() and opened.read_text():
                break
            time.sleep(0.1)
        assert opened.read_text().strip() == url
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0


def test_a_port_out_of_range_is_a_one_line_error() -> None:
    r = subprocess.run(
        [str(VALUEGRAD), "playground", "--port", "70000"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "--port must be at most 65535" in r.stderr
    assert "Traceback" not in r.stderr


# ---------------------------------------------------------------------------
# The page in a real browser (headless Chromium).
# ---------------------------------------------------------------------------


def shown(page: Any) -> tuple[dict[str, float], dict[str, float], float]:
    """The parameters, gradients and loss the page shows: the exact numbers kept beside the text."""
    params, grads = {}, {}
    for row in page.locator("#params tbody tr").all():
        name = row.get_attribute("data-name")
        params[name] = float(row.locator(".value").get_attribute("data-value"))
        grads[name] = float(row.locator(".grad").get_attribute("data-value"))
    return params, grads, float(page.get_attribute("#loss", "data-value"))


def agrees(page_says: tuple, engine_says: tuple) -> bool:
    """The page's (loss, gradients) equal the engine's, to rounding."""
    (loss, grads), (expected_loss, expected_grads) = page_says, engine_says
    return loss == pytest.approx(expected_loss, rel=1e-12) and grads == pytest.approx(
        expected_grads, rel=1e-12, abs=1e-15
    )


def updated(page: Any, before: int) -> int:
    """Wait until the page drew more than `before` answers and awaits none; the new count."""
    page.wait_for_function(
        f"Number(document.body.dataset.updates || 0) > {before}"
        " && document.body.dataset.pending === '0'"
    )
    return int(page.evaluate("Number(document.body.dataset.updates)"))


def test_the_playground_in_a_browser(browser: Any, server: str) -> None:
    from PIL import Image, ImageStat

    # The test's own waits evaluate script text, which the page's policy forbids (as it should).
    page = browser.new_page(viewport={"width": 1300, "height": 1100}, bypass_csp=True)
    elsewhere: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(server) else elsewhere.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server)
    n = updated(page, 0)
    params, grads, loss = shown(page)
    assert list(params) == list(NAMES)
    assert agrees((loss, grads), engine("network", "alien", 0, params))

    # Move a slider: the loss and the nine gradients are the engine's for the new weights.
    page.locator('#params tr[data-name="w11"] input').evaluate(
        "(s) => { s.value = '1.5'; s.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    n = updated(page, n)
    params, grads, loss = shown(page)
    assert params["w11"] == 1.5
    expected_loss, expected_grads = engine("network", "alien", 0, params)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    assert grads == pytest.approx(expected_grads, rel=1e-12, abs=1e-15)
    for name in NAMES:
        arrow = page.locator(f'#params tr[data-name="{name}"] .move').text_content()
        assert arrow == ("←" if grads[name] > 0 else "→" if grads[name] < 0 else "·")

    # One step of gradient descent: w ← w − lr·∂L/∂w.
    page.fill("#lr", "0.8")
    page.locator("#lr").blur()
    n = updated(page, n)
    page.click("#step")
    n = updated(page, n)
    stepped, _, stepped_loss = shown(page)
    for name in NAMES:
        assert stepped[name] == pytest.approx(
            params[name] - 0.8 * grads[name], rel=1e-12, abs=1e-15
        )
    assert stepped_loss < loss

    # The chain rule of a parameter, for the sample chosen.
    page.fill("#sample", "5")
    page.locator("#sample").blur()
    n = updated(page, n)
    page.click('#params tr[data-name="w2"] .name')
    X, y = datasets.load("alien", seed=0)
    net = TwoLayerNetwork(seed=0)
    net.load_state_dict({k: np.array(v) for k, v in stepped.items()})
    one = log_loss(net([Value(X[5, 0], "x1"), Value(X[5, 1], "x2")]), float(y[5]))
    one.name = "L"
    assert page.text_content("#explain").endswith(str(explain(one, net.w2)))
    assert page.locator("#graph svg").count() == 1

    # A click on a point of the plot chooses that sample.
    answer = evaluate(Setup("alien", "network", 0, 0.8, stepped, 0, 5))
    x0, x1, y0, y1 = answer["box"]
    a, b, _, _, index = next(p for p in answer["points"] if p[4] not in (5,))
    at = {"x": (a - x0) / (x1 - x0) * 420, "y": 420 - (b - y0) / (y1 - y0) * 420}
    page.locator("#plot").click(position=at)
    n = updated(page, n)
    assert page.input_value("#sample") == str(index)
    page.fill("#sample", "5")
    page.locator("#sample").blur()
    n = updated(page, n)

    # The address holds the state: loading it again shows the same setup.
    url = page.url
    assert "lr=0.8" in url and "sample=5" in url
    page.goto(url)
    updated(page, 0)
    again, _, again_loss = shown(page)
    assert (again, again_loss) == (stepped, stepped_loss)
    assert page.input_value("#lr") == "0.8" and page.input_value("#sample") == "5"

    # The picture is not blank: the surface, the points and the lines are drawn.
    shot = Image.open(io.BytesIO(page.locator("#plot").screenshot())).convert("RGB")
    assert len(shot.getcolors(1 << 20) or ()) > 50
    assert max(ImageStat.Stat(shot).stddev) > 10
    whole = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("L")
    assert ImageStat.Stat(whole).stddev[0] > 10

    # Play runs steps until paused; the perceptron has three knobs; reset starts again.
    page.click("#play")
    n = updated(page, updated(page, 0))
    page.click("#play")
    page.select_option("#model", "perceptron")
    page.wait_for_function("document.querySelectorAll('#params tbody tr').length === 3")
    params, grads, loss = shown(page)
    assert agrees((loss, grads), engine("perceptron", "alien", 0, params))

    # A bad address is refused with the server's message, and the page says so.
    page.goto(server + "?model=network&w11=abc")
    page.wait_for_function("document.getElementById('error').textContent !== ''")
    assert "params lacks w21" in page.text_content("#error")
    page.goto(server + "?lr=nan")
    page.wait_for_function("document.getElementById('error').textContent !== ''")
    assert "lr must be a number, got null" in page.text_content("#error")
    assert not errors and not elsewhere
    page.close()
