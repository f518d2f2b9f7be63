"""autograd/steps.py: the backward pass step by step, its drawings, its GIF and its page."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograd import Value, explain, topological_order
from autograd.draw import summary
from autograd.steps import (
    Steps,
    backprop_steps,
    save_gif,
    save_stepper,
    step_drawing,
    step_drawings,
    stepper_html,
)
from nn.network import TwoLayerNetwork
from nn.stepper import lesson_steps

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is missing")
VALUEGRAD = Path(sys.executable).parent / "valuegrad"


def lesson(seed: int = 0, x1: float = 2.0, x2: float = 1.0, y: float = 1.0) -> Steps:
    return lesson_steps(TwoLayerNetwork(seed=seed), x1, x2, y)


def graphs() -> list[Value]:
    """Graphs with fan-out, an input used twice by one op, constants and a named output."""
    a, b = Value(3.0, "a"), Value(-0.5, "b")
    square = a * a + a  # a twice in one op, and again in the sum
    c = (a * b).tanh()
    shared = c * c + (c + 2.0).sigmoid() * b - a / b  # c used three times
    return [square, shared, lesson().root]


@pytest.mark.parametrize("k", range(3))
def test_the_last_steps_gradients_are_the_grads_of_every_node(k: int) -> None:
    root = graphs()[k]
    steps = backprop_steps(root)
    order = topological_order(root)
    assert set(steps[-1].grads) == set(order)
    for node in order:
        assert steps[-1].grads[node] == node.grad  # exactly: both come from the one pass


@pytest.mark.parametrize("k", range(3))
def test_one_step_per_inner_node_in_the_order_backward_visits_them(k: int) -> None:
    root = graphs()[k]
    steps = backprop_steps(root)
    assert [s.node for s in steps] == topological_order(root, leaves=False)[::-1]
    assert [s.index for s in steps] == list(range(len(steps)))


@pytest.mark.parametrize("k", range(3))
def test_each_share_is_incoming_times_local_and_adds_up_to_the_next_gradient(k: int) -> None:
    steps = backprop_steps(graphs()[k])
    known: dict[Value, float] = {steps.root: 1.0}
    for step in steps:
        assert step.incoming == known[step.node]
        for s in step.shares:
            assert s.product == pytest.approx(step.incoming * s.local, rel=1e-12, abs=1e-300)
            assert s.before == known.get(s.input)
            assert s.after == (s.product if s.before is None else s.before + s.product)
            known[s.input] = s.after
        assert {n: known[n] for n in step.grads} == step.grads  # nothing else changed


def test_a_leaf_used_twice_by_one_operation_gets_both_shares() -> None:
    a = Value(3.0, "a")
    steps = backprop_steps(a * a)
    (step,) = steps
    assert [s.slot for s in step.shares] == [0, 1]
    assert [s.after for s in step.shares] == [3.0, 6.0]
    assert step.lines[1:] == (
        "df/da = df/df · df/da[1] = 1 · 3 = 3",
        "df/da += df/df · df/da[2] = 1 · 3 = 3, so df/da = 3 + 3 = 6",
    )


NUMBER = r"-?\d+(?:\.\d+)?(?:e[+-]\d+)?"


def test_the_captions_write_the_chain_rule_with_the_engines_numbers() -> None:
    steps = lesson()
    net_names = steps.symbols
    assert steps[0].lines[0] == "L = log loss(ŷ, 1)"  # the lesson's ŷ, as on the slide
    assert steps[1].lines[0] == "ŷ = σ(z)" and steps[2].lines[0].startswith("z = Σwx+b(w1, ")
    for step in steps:
        me = net_names[step.node]
        assert step.lines[0].startswith(f"{me} = ")
        for line, s in zip(step.lines[1:], step.shares, strict=True):
            p = net_names[s.input]
            m = re.fullmatch(
                rf"dL/d{p} \+?= dL/d{me} · d{me}/d{p} = ({NUMBER}) · ({NUMBER}) = ({NUMBER})(.*)",
                line,
            )
            assert m, line
            numbers = [float(g) for g in m.groups()[:3]]
            assert numbers == pytest.approx([step.incoming, s.local, s.product], rel=1e-3)
            if s.before is not None:
                assert m.group(4).endswith(f"= {summary(s.after)}")


def test_the_gradients_are_those_of_a_fresh_pass_whatever_the_leaves_held() -> None:
    a, b = Value(2.0, "a"), Value(5.0, "b")
    f = a * b + a
    f.backward()
    f.backward()  # the leaves have accumulated twice
    steps = backprop_steps(f)
    assert (a.grad, b.grad) == (6.0, 2.0)
    assert steps[-1].grads[a] == 6.0


def test_tensors_non_values_and_leaves() -> None:
    with pytest.raises(ValueError, match=r"scalars.*shape \(3,\)"):
        backprop_steps((Value(np.ones(3)) * 2.0).sum())
    with pytest.raises(TypeError, match="takes a Value, got float"):
        backprop_steps(1.0)  # type: ignore[arg-type]
    leaf = Value(1.0, "w")
    assert len(backprop_steps(leaf)) == 0
    with pytest.raises(ValueError, match="no steps"):
        stepper_html(backprop_steps(leaf))


def test_float32_nan_and_overflow_are_recorded_as_the_pass_computes_them() -> None:
    a, b = Value(np.float32(2.0), "a"), Value(np.array(3.0, dtype=np.float32), "b")
    f = (a * b).tanh() + a
    steps = backprop_steps(f)
    assert all(steps[-1].grads[n] == n.grad for n in topological_order(f))
    x = Value(1e300, "x")
    steps = backprop_steps(x * x * x)  # 3x² overflows
    assert math.isinf(x.grad) and steps[-1].grads[x] == x.grad
    assert steps[-1].lines[-1].endswith("so df/dx = inf + inf = inf")
    n = Value(math.nan, "n")
    steps = backprop_steps(n * 2.0)
    assert steps[0].lines[1] == "df/dn = df/df · df/dn = 1 · 2 = 2" and n.grad == 2.0


def test_the_lessons_steps_end_with_the_nine_parameters_and_the_inputs() -> None:
    steps = lesson()
    names = {p.name for p in steps.parameters}
    assert names == {"w11", "w21", "b1", "w12", "w22", "b2", "w1", "w2", "b", "x1", "x2"}
    assert [steps.symbols[s.node] for s in steps][-5:] == ["z", "a1", "z1", "a2", "z2"]


# ---------------------------------------------------------------------------
# Drawings
# ---------------------------------------------------------------------------


def test_the_drawings_fill_in_gradients_node_by_node_and_outline_the_current_one() -> None:
    steps = lesson()
    before = [n.grad for n in topological_order(steps.root)]
    drawings = step_drawings(steps)
    assert len(drawings) == len(steps)
    missing = [d.source.count("not computed yet") for d in drawings]
    assert missing == sorted(missing, reverse=True)
    assert missing[0] > 0 and missing[-1] == 0
    assert drawings[0].source != drawings[-1].source
    for d, step in zip(drawings, steps, strict=True):
        vid = d.ids.get(step.node)
        assert re.search(rf"\b{vid} \[color=\"#ea580c\" penwidth=4\]", d.source), vid
        assert step.lines[1] in d.source  # the caption
    assert [n.grad for n in topological_order(steps.root)] == before  # restored


CELL = "</font></td><td width='4'></td><td align='left'>"  # between a label's key and value


def test_a_long_chain_steps_and_draws_with_nodes_collapsed() -> None:
    x = Value(0.5, "x")
    y = x
    for _ in range(300):
        y = (y * 0.99).tanh()
    steps = backprop_steps(y)
    assert len(steps) == 600 and steps[-1].grads[x] == x.grad
    d = step_drawing(steps, 300, max_nodes=20)
    assert "step 301 of 600" in d.source
    assert d.ids.get(steps[300].node) is None  # collapsed away: nothing to outline


def test_a_drawing_shows_exactly_the_gradients_known_at_its_step() -> None:
    steps = lesson()
    k = 3
    d = step_drawing(steps, k)
    for node in topological_order(steps.root):
        vid = d.ids.get(node)
        line = next(x for x in d.source.splitlines() if x.lstrip().startswith(f"{vid} [label="))
        if node in steps[k].grads:
            assert f"grad{CELL}{summary(steps[k].grads[node])}<" in line
        else:
            assert "not computed yet" in line


# ---------------------------------------------------------------------------
# The GIF and the page (need dot).
# ---------------------------------------------------------------------------


def positions(d: Any) -> dict[str, tuple[str, str]]:
    """Where `dot` puts each node of the drawing."""
    found = {}
    for line in d.pipe(format="plain").decode().splitlines():
        parts = line.split()
        if parts and parts[0] == "node":
            found[parts[1]] = (parts[2], parts[3])
    return found


@needs_dot
def test_every_node_stays_in_place_from_step_to_step() -> None:
    steps = lesson()
    steady = [positions(d) for d in step_drawings(steps)]
    assert all(p == steady[0] for p in steady)
    loose = [positions(d) for d in step_drawings(steps, steady=False)]
    assert any(p != loose[0] for p in loose)  # labels change size, so without it nodes move


@needs_dot
def test_the_gif_has_a_frame_per_step_changes_and_is_reproducible(tmp_path: Path) -> None:
    from PIL import Image, ImageChops

    first = save_gif(lesson(seed=4), tmp_path / "a.gif", width=500)
    again = save_gif(lesson(seed=4), tmp_path / "b.gif", width=500)
    other = save_gif(lesson(seed=5), tmp_path / "c.gif", width=500)
    assert first.read_bytes() == again.read_bytes()  # the same seed, the same bytes
    assert first.read_bytes() != other.read_bytes()
    with Image.open(first) as im:
        assert im.format == "GIF"
        assert im.n_frames == len(lesson(seed=4)) >= 6
        im.seek(0)
        start = im.convert("RGB")
        im.seek(im.n_frames - 1)
        end = im.convert("RGB")
    assert ImageChops.difference(start, end).getbbox() is not None
    small = save_gif(lesson(seed=4), tmp_path / "d.gif", width=300, ms_per_step=500)
    with Image.open(small) as im:
        assert im.width == 300 and im.n_frames == len(lesson(seed=4))
        assert im.info["duration"] == 500 and im.info["loop"] == 0
    with Image.open(again) as im:
        assert im.width == 500
    with pytest.raises(ValueError, match="width must be at least 16"):
        save_gif(lesson(), tmp_path / "e.gif", width=0)
    with pytest.raises(ValueError, match="ms_per_step must be at least 1"):
        save_gif(lesson(), tmp_path / "e.gif", ms_per_step=0)


@needs_dot
def test_the_page_is_self_contained_and_holds_every_frame_and_explanation() -> None:
    steps = lesson()
    page = stepper_html(steps)
    assert not re.search(r"""(?:src|href|url)\s*[=(]\s*["']?(?:https?:)?//""", page)
    assert "<script src" not in page and "<link" not in page
    assert page.count("<svg") == len(steps)
    w11 = next(p for p in steps.parameters if p.name == "w11")
    assert json.dumps(str(explain(steps.root, w11)), ensure_ascii=False)[1:-1] in page
    assert "</script>" not in page.split('id="data">', 1)[1].split("</script>", 1)[0]


@needs_dot
def test_a_hostile_name_cannot_end_the_pages_script() -> None:
    name = "</script><!--<script>alert(1)</script>"
    h = Value(2.0, name=name)
    steps = backprop_steps(h * h)
    page = stepper_html(steps)
    assert page.count("</script>") == 2 and page.lower().count("<script") == 2
    assert "<!--" not in page
    data = json.loads(page.split('id="data">', 1)[1].split("</script>", 1)[0])
    assert [f["caption"] for f in data["frames"]] == [s.caption for s in steps]
    assert "</script><!--<script" in data["frames"][0]["caption"]


@needs_dot
def test_valuegrad_step_writes_the_page_and_the_gif(tmp_path: Path) -> None:
    r = subprocess.run(
        [str(VALUEGRAD), "step", "--seed", "2", "--x1", "1", "--y", "0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    steps = lesson(seed=2, x1=1.0, y=0.0)
    assert (
        r.stdout
        == f"wrote backprop.html: {len(steps)} steps back from L = {steps.root.item():.4f}\n"
    )
    assert (tmp_path / "backprop.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    r = subprocess.run(
        [str(VALUEGRAD), "step", "--out", "b.gif"], cwd=tmp_path, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "b.gif").read_bytes()[:6] == b"GIF89a"
    net = TwoLayerNetwork(seed=7)
    net.w11.data = 3.5  # weights no seed gives
    net.save(tmp_path / "net.npz")
    r = subprocess.run(
        [str(VALUEGRAD), "step", "--load", "net.npz", "--out", "loaded.html"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    loaded = lesson_steps(net, 2.0, 1.0, 1.0)
    assert r.stdout.endswith(f"L = {loaded.root.item():.4f}\n")
    assert json.dumps(loaded[0].caption, ensure_ascii=False)[1:-1] in (
        tmp_path / "loaded.html"
    ).read_text(encoding="utf-8")
    for args, message in [
        (["--out", "b.png"], "ending in .html or .gif"),
        (["--y", "2"], "label in [0, 1]"),
        (["--x1", "nan"], "finite number"),
    ]:
        r = subprocess.run(
            [str(VALUEGRAD), "step", *args], cwd=tmp_path, capture_output=True, text=True
        )
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr


# ---------------------------------------------------------------------------
# The page in a real browser (headless Chromium).
# ---------------------------------------------------------------------------


@needs_dot
def test_the_page_pages_through_every_step_offline_in_a_browser(
    browser: Any, tmp_path: Path
) -> None:
    steps = lesson(seed=1)
    root = steps.root
    path = tmp_path / "backprop.html"
    save_stepper(steps, path)
    last = step_drawing(steps, len(steps) - 1)
    page = browser.new_page()
    elsewhere: list[str] = []

    def only_the_file(route: Any) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            elsewhere.append(url)
            route.abort()

    page.route("**/*", only_the_file)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    n = len(steps)
    final = {s.input: s for step in steps for s in step.shares}  # each input's last share
    for k, step in enumerate(steps):
        assert page.text_content("#counter") == f"step {k + 1} of {n}"
        caption = page.text_content("#caption")
        assert caption == step.caption
        for line, s in zip(caption.splitlines()[1:], step.shares, strict=True):
            # incoming · local = product: the node's gradient after the pass, times its slope
            numbers = re.findall(rf"= ({NUMBER}) · ({NUMBER}) = ({NUMBER})", line)[0]
            assert numbers == (summary(step.node.grad), summary(s.local), summary(s.product))
            total = s.input.grad if final[s.input] is s else s.after  # the last share: .grad
            assert line.split(" = ")[-1] == summary(total)
        if k < n - 1:
            if k % 2:
                page.keyboard.press("ArrowRight")
            else:
                page.click("#next")
    page.click("#next")  # past the end it stays on the last step
    assert page.text_content("#counter") == f"step {n} of {n}"
    for node in topological_order(root):
        text = page.locator("#frame g.node", has=page.locator(f"title:text-is('{last.ids[node]}')"))
        words = " ".join(" ".join(text.locator("text").all_text_contents()).split())
        assert f"grad {summary(node.grad)}" in words, (node.name, words)
    w11 = next(p for p in steps.parameters if p.name == "w11")
    page.locator("#frame g.node", has=page.locator(f"title:text-is('{last.ids[w11]}')")).click()
    assert page.text_content("#explain") == str(explain(root, w11))
    page.keyboard.press("ArrowLeft")
    page.click("#prev")
    assert page.text_content("#counter") == f"step {n - 2} of {n}"
    page.click("#play")
    page.wait_for_function(f"document.getElementById('counter').textContent === 'step {n} of {n}'")
    assert page.text_content("#play") == "▶ Play"  # it stops at the end
    assert not errors and not elsewhere
    page.close()
