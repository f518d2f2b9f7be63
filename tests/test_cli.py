"""The `valuegrad` command, run as a user runs it: the console script in a subprocess."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pytest

from autograd.draw import COLOURS
from nn import Perceptron, TwoLayerNetwork

BIN = Path(sys.executable).parent
VALUEGRAD = BIN / ("valuegrad.exe" if os.name == "nt" else "valuegrad")
HAS_DOT = shutil.which("dot") is not None
PNG = b"\x89PNG\r\n\x1a\n"
NAMES = ("w11", "w21", "b1", "w12", "w22", "b2", "w1", "w2", "b")

CELL = "</font></td><td width='4'></td><td align='left'>"  # between a label's key and value


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the console script with `args` in `cwd`, capturing text output."""
    assert VALUEGRAD.exists(), f"the console script is missing; run pip install -e . ({VALUEGRAD})"
    return subprocess.run(
        [str(VALUEGRAD), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )


def bad(*args: str, cwd: Path) -> str:
    """Run a command that must fail on its input: exit 2, one line on stderr, no traceback."""
    r = run(*args, cwd=cwd)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("valuegrad"), lines[0]
    assert "error:" in lines[0]
    return lines[0]


# ---------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------


def gradient_table(stdout: str) -> dict[str, list[float]]:
    """The demo's table: parameter → [closed form, autograd, numerical, largest difference]."""
    rows = {}
    for line in stdout.splitlines():
        parts = line.split()
        if parts and parts[0] in NAMES and len(parts) == 6:
            rows[parts[0]] = [float(v) for v in parts[2:]]
    return rows


def test_demo_with_no_arguments_trains_prints_the_table_and_writes_the_pictures(tmp_path):
    r = run(cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # no terminal: no progress bar, and no warnings
    out = r.stdout

    accuracies = re.findall(r"(\d+\.\d)%", out)
    assert len(accuracies) == 2, out
    perceptron, network = (float(a) for a in accuracies)
    assert perceptron < 80.0 < 97.0 <= network

    header = next(line for line in out.splitlines() if line.startswith("  param"))
    assert header.split() == [
        "param",
        "formula",
        "closed",
        "form",
        "autograd",
        "numerical",
        "max",
        "|diff|",
    ]
    table = gradient_table(out)
    assert list(table) == list(NAMES)
    for name, (closed, by_autograd, numerical, largest) in table.items():
        assert abs(closed - by_autograd) < 1e-9, name
        assert abs(closed - numerical) < 1e-6, name
        assert largest < 1e-6, name
        assert closed != 0.0, name  # the sample is one where every derivative shows
    assert "(ŷ−y)·w1·a1(1−a1)·x1" in out

    folder = tmp_path / "valuegrad-out"
    graph = folder / ("network-graph.svg" if HAS_DOT else "network-graph.dot")
    pictures = [graph, folder / "decision-boundaries.png", folder / "loss-curves.png"]
    assert (folder / "training.gif").is_file() and "training.gif" in out
    for path in pictures:
        assert path.is_file() and path.stat().st_size > 1000, path
        assert f"valuegrad-out{os.sep}{path.name}" in out  # the demo says where it wrote it
    for png in pictures[1:]:
        assert png.read_bytes().startswith(PNG)
    if HAS_DOT:
        svg = ET.parse(graph).getroot()
        text = " ".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
        for word in ("red", "green", "purple", "w11", "a2", "grad"):
            assert word in text, word
        strokes = {e.get("stroke") for e in svg.iter()}
        assert set(COLOURS.values()) <= strokes  # the lesson's red, green and purple


def test_python_dash_m_nn_runs_the_demo_with_its_options(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "nn", "--epochs", "3", "--seed", "1", "--out", "pics"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "training the network for 3 epochs" in r.stdout
    assert "seed 1" in r.stdout
    assert (tmp_path / "pics" / "loss-curves.png").is_file()


def test_demo_without_matplotlib_says_so_in_one_line_and_does_the_rest(tmp_path):
    # A `matplotlib` that cannot be imported, found before the real one.
    fake = tmp_path / "fake" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('no matplotlib here')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "fake")}
    r = run("demo", "--epochs", "2", "--out", "out", cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    notes = [line for line in r.stdout.splitlines() if "matplotlib" in line]
    assert len(notes) == 1 and "pip install" in notes[0], notes
    assert gradient_table(r.stdout)
    assert not list((tmp_path / "out").glob("*.png"))
    assert list((tmp_path / "out").glob("network-graph.*"))


def test_demo_without_dot_writes_the_dot_source_with_a_notice(tmp_path):
    empty = tmp_path / "empty-path"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty)}
    r = run("demo", "--epochs", "2", "--out", "out", cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    notes = [line for line in r.stdout.splitlines() if line.startswith("note:") and "dot" in line]
    assert len(notes) == 1, r.stdout
    for manager in (
        "apt install graphviz",
        "brew install graphviz",
        "conda install",
        "not with pip",
    ):
        assert manager in notes[0], notes[0]  # not to be read as `pip install graphviz`
    source = (tmp_path / "out" / "network-graph.dot").read_text(encoding="utf-8")
    assert source.startswith("digraph") and "cluster" in source
    assert not (tmp_path / "out" / "network-graph.svg").exists()


# ---------------------------------------------------------------------------
# train, save, load, check
# ---------------------------------------------------------------------------


def test_train_prints_progress_lines_saves_and_loads(tmp_path):
    r = run(
        "train",
        "--model",
        "perceptron",
        "--data",
        "blobs",
        "--epochs",
        "20",
        "--save",
        "p.npz",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    epochs = re.findall(r"^epoch\s+(\d+)/20\s+loss (\d\.\d+)\s+accuracy ([\d.]+)%$", r.stdout, re.M)
    assert [int(e) for e, _, _ in epochs] == [1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20]
    final = re.search(r"final: loss (\d\.\d+), accuracy ([\d.]+)% after 20 epochs", r.stdout)
    assert final is not None, r.stdout
    assert final.groups() == epochs[-1][1:]
    assert "saved the weights to p.npz" in r.stdout

    model = Perceptron(2).load(tmp_path / "p.npz")
    assert model.w1.data != Perceptron(2, seed=0).w1.data  # trained, not the initial weights

    again = run(
        "train",
        "--model",
        "perceptron",
        "--data",
        "blobs",
        "--epochs",
        "0",
        "--load",
        "p.npz",
        cwd=tmp_path,
    )
    assert again.returncode == 0, again.stderr
    assert (
        f"final: loss {final.group(1)}, accuracy {final.group(2)}% after 0 epochs" in again.stdout
    )


def test_train_an_mlp_with_options_then_check_it(tmp_path):
    common = ("--model", "mlp", "--hidden", "4,3", "--data", "xor", "--seed", "2")
    r = run(
        "train",
        *common,
        "--epochs",
        "6",
        "--lr",
        "0.1",
        "--optimizer",
        "sgd",
        "--batch-size",
        "16",
        "--print-every",
        "3",
        "--save",
        "m.npz",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("MLP(2, [4, 3, 1]), 31 parameters, on xor: 200 samples")
    assert re.findall(r"^epoch (\d)/6", r.stdout, re.M) == ["1", "3", "6"]

    state = np.load(tmp_path / "m.npz")
    weights = [f"layers.{i}.{p}" for i in range(3) for p in "Wb"]
    assert sorted(state.files) == sorted([*weights, "@options"])  # and how it was built

    c = run("check", *common, "--load", "m.npz", cwd=tmp_path)
    assert c.returncode == 0, c.stdout + c.stderr
    assert "gradcheck passed" in c.stdout
    rows = [line.split()[0] for line in c.stdout.splitlines() if line.strip().startswith("layers.")]
    assert rows == [f"layers.{i}.{p}" for i in range(3) for p in "Wb"]
    assert c.stdout.rstrip().endswith("all 6 parameters' gradients are right (31 numbers)")

    d = run("check", *common, "--load", "m.npz", "--directions", "3", cwd=tmp_path)
    assert d.returncode == 0, d.stderr
    assert "all 3 directions are right" in d.stdout


def test_check_the_lesson_network_lists_its_nine_parameters(tmp_path):
    r = run("check", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = [line.split()[0] for line in r.stdout.splitlines() if line.startswith("  ")]
    assert rows[-9:] == list(NAMES)
    assert "TwoLayerNetwork() on alien (400 samples)" in r.stdout


def test_check_exits_1_and_names_the_wrong_gradient(tmp_path):
    # The log loss's backward made wrong on purpose (z − y instead of σ(z) − y; a sigmoid
    # before the log loss is differentiated through it), then the command's own main().
    code = (
        "import sys, nn.losses as losses\n"
        "right = losses.LogLossOfLogit.grads\n"
        "losses.LogLossOfLogit.grads = (lambda g, out, z, y: g * (z - y), right[1])\n"
        "from nn.cli import main\n"
        "sys.exit(main(['check', '--model', 'perceptron', '--data', 'blobs']))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, encoding="utf-8"
    )
    assert r.returncode == 1, r.stdout + r.stderr
    assert "gradcheck FAILED" in r.stdout
    wrong = [line.split()[0] for line in r.stdout.splitlines() if "WRONG (" in line]
    assert wrong == ["w1", "w2", "b"]
    assert r.stdout.rstrip().endswith("3 of 3 parameters' gradients are WRONG")


def test_train_on_a_csv_file(tmp_path):
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 5)
    y = (X[:, 0] + X[:, 1] >= 1).astype(int)
    lines = ["first,second,label"] + [f"{a},{b},{c}" for (a, b), c in zip(X, y, strict=True)]
    (tmp_path / "or.csv").write_text("\n".join(lines) + "\n")
    r = run("train", "--model", "perceptron", "--data", "or.csv", "--epochs", "200", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "on or.csv: 20 samples" in r.stdout
    assert "accuracy 100.0% after 200 epochs" in r.stdout


def test_train_on_a_terminal_shows_a_progress_bar_instead_of_lines(tmp_path):
    pty = pytest.importorskip("pty")  # POSIX terminals only
    parent, child = pty.openpty()
    try:
        r = subprocess.run(
            [str(VALUEGRAD), "train", "--model", "perceptron", "--epochs", "5"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=child,
            text=True,
            encoding="utf-8",
            timeout=300,
        )
        os.close(child)
        child = -1
        seen = b""
        while True:
            try:
                chunk = os.read(parent, 4096)
            except OSError:  # Linux reports the closed terminal as EIO
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if child != -1:
            os.close(child)
        os.close(parent)
    assert r.returncode == 0
    assert b"\repoch 5/5 [" in seen
    assert not re.search(r"^epoch", r.stdout, re.M)
    assert "final: loss" in r.stdout


# ---------------------------------------------------------------------------
# draw
# ---------------------------------------------------------------------------


def test_draw_writes_the_graph_for_the_given_sample(tmp_path):
    r = run(
        "draw",
        "--format",
        "dot",
        "--x1",
        "3",
        "--x2",
        "-1.5",
        "--y",
        "0",
        "--seed",
        "4",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert "for x1 = 3, x2 = -1.5, y = 0" in r.stdout
    source = (tmp_path / "network.dot").read_text(encoding="utf-8")
    # L is computed from the logit z (so that dL/dz = ŷ − y exactly): ŷ is not on its graph.
    for name in (*NAMES, "x1", "x2", "z1", "a2", "z", "L"):
        assert f"<b>{name}</b>" in source, name
    assert "not computed yet" not in source  # the backward pass ran: every node shows a grad
    for colour in COLOURS.values():
        assert f'color="{colour}"' in source
    net = TwoLayerNetwork(seed=4)
    assert f"data{CELL}{net.w11.data:.4g}<" in source


@pytest.mark.skipif(not HAS_DOT and not os.environ.get("CI"), reason="graphviz's dot is missing")
def test_draw_renders_svg_and_png_with_dot(tmp_path):
    r = run("draw", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    ET.parse(tmp_path / "network.svg")
    assert "pics" in bad("draw", "--out", "pics/g", "--format", "png", cwd=tmp_path)
    (tmp_path / "pics").mkdir()
    p = run("draw", "--out", "pics/g", "--format", "png", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "pics" / "g.png").read_bytes().startswith(PNG)


def test_draw_a_trained_network(tmp_path):
    net = TwoLayerNetwork(seed=9)
    net.w22.data = 7.25
    net.save(tmp_path / "net.npz")
    r = run("draw", "--load", "net.npz", "--out", "g.dot", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"data{CELL}7.25<" in (tmp_path / "g.dot").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------
# Bad input: exit 2, one line on stderr, never a traceback.
# ---------------------------------------------------------------------------

CSV_FILES = {
    "one-feature.csv": "x1,label\n1,0\n2,1\n",
    "text-cell.csv": "x1,x2,label\n1,2,0\n3,four,1\n",
    "label-2.csv": "x1,x2,label\n1,2,0\n3,4,2\n",
    "label-half.csv": "x1,x2,label\n1,2,0\n3,4,0.5\n",
    "ragged.csv": "x1,x2,label\n1,2,0\n3,4\n",
    "empty.csv": "",
    "header-only.csv": "x1,x2,label\n",
    "three-features.csv": "a,b,c,label\n1,2,3,0\n4,5,6,1\n",
}

BAD_INPUT = {
    "unknown command": (["fly"], "invalid choice"),
    "unknown option": (["train", "--colour", "red"], "unrecognized arguments"),
    "negative epochs": (["train", "--epochs", "-1"], "--epochs"),
    "epochs not a number": (["train", "--epochs", "many"], "--epochs"),
    "zero learning rate": (["train", "--lr", "0"], "--lr"),
    "NaN learning rate": (["train", "--lr", "nan"], "--lr"),
    "zero batch size": (["train", "--batch-size", "0"], "--batch-size"),
    "unknown model": (["train", "--model", "svm"], "--model"),
    "bad hidden sizes": (["train", "--model", "mlp", "--hidden", "8,x"], "--hidden"),
    "zero hidden size": (["train", "--model", "mlp", "--hidden", "8,0"], "--hidden"),
    "hidden without mlp": (["train", "--hidden", "8"], "--hidden applies to --model mlp"),
    "unknown data set": (["train", "--data", "iris"], "unknown data 'iris'"),
    "missing CSV": (["train", "--data", "nowhere.csv"], "nowhere.csv: no such file"),
    "CSV is a folder": (["train", "--data", "folder.csv"], "is a directory"),
    "CSV with one feature": (["train", "--data", "one-feature.csv"], "at least 3 columns"),
    "CSV with text": (["train", "--data", "text-cell.csv"], "'four' is not a number"),
    "CSV label 2 on the network": (["train", "--data", "label-2.csv"], "3 classes (0 to 2)"),
    "CSV label 0.5": (["train", "--data", "label-half.csv"], "is not a class index"),
    "spirals on a perceptron": (
        ["train", "--data", "spirals", "--model", "perceptron"],
        "--model perceptron tells two apart: use --model mlp",
    ),
    "CSV ragged row": (["check", "--data", "ragged.csv"], "row 3"),
    "CSV empty": (["train", "--data", "empty.csv"], "the file is empty"),
    "CSV not text": (["train", "--data", "binary.csv"], "binary.csv: not a UTF-8 text file"),
    "CSV without rows": (["train", "--data", "header-only.csv"], "no data rows"),
    "network on 3 features": (["train", "--data", "three-features.csv"], "takes 2 features"),
    "missing weights": (["train", "--load", "nowhere.npz"], "nowhere.npz: no such file"),
    "missing weights to check": (["check", "--load", "gone.npz"], "gone.npz: no such file"),
    "missing weights to draw": (["draw", "--load", "gone.npz"], "gone.npz: no such file"),
    "unknown train option": (["train", "--bogus"], "(see `valuegrad train --help`)"),
    "unknown check option": (["check", "--epochs", "3"], "(see `valuegrad check --help`)"),
    "mlp weights on the network": (
        ["train", "--load", "mlp.npz"],
        "the file holds the weights of `--model mlp --hidden 8`",
    ),
    "perceptron weights on an mlp": (
        ["check", "--model", "mlp", "--load", "perceptron.npz"],
        "the file holds the weights of `--model perceptron`",
    ),
    "garbage weights": (["check", "--load", "garbage.npz"], "garbage.npz"),
    "truncated weights": (["train", "--load", "truncated.npz"], "truncated.npz"),
    "weights of another model": (["check", "--load", "perceptron.npz"], "does not match"),
    "weights of another mlp": (
        ["train", "--model", "mlp", "--hidden", "5", "--load", "mlp.npz"],
        "expected shape (2, 5), got (2, 8); the file holds the weights of `--model mlp --hidden 8`",
    ),
    "save into a missing folder": (
        ["train", "--epochs", "1", "--save", "no/such/m.npz"],
        "no/such",
    ),
    "draw an unknown format": (["draw", "--out", "graph.jpg"], "cannot tell the format"),
    "draw svg into a .png": (
        ["draw", "--out", "g.png", "--format", "svg"],
        "--out g.png says png but --format says svg",
    ),
    "draw a label of 2": (["draw", "--y", "2"], "--y"),
    "draw an infinite input": (["draw", "--x1", "inf"], "--x1"),
    "draw a perceptron's weights": (["draw", "--load", "perceptron.npz"], "does not match"),
    "demo into a file": (["demo", "--out", "garbage.npz", "--epochs", "1"], "garbage.npz"),
    "demo with no epochs": (["demo", "--epochs", "0"], "--epochs"),
    "check zero directions": (["check", "--directions", "0"], "--directions"),
}


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> Path:
    """A folder holding every bad file the cases above name."""
    folder = tmp_path_factory.mktemp("bad-input")
    for name, text in CSV_FILES.items():
        (folder / name).write_text(text)
    (folder / "folder.csv").mkdir()
    (folder / "binary.csv").write_bytes(bytes(range(256)))
    (folder / "garbage.npz").write_bytes(b"this is not a zip archive\n" * 4)
    Perceptron(2, seed=0).save(folder / "perceptron.npz")
    whole = (folder / "perceptron.npz").read_bytes()
    (folder / "truncated.npz").write_bytes(whole[: len(whole) // 2])
    from nn import MLP

    MLP(2, [8, 1], seed=0).save(folder / "mlp.npz")
    return folder


@pytest.mark.parametrize("case", BAD_INPUT, ids=list(BAD_INPUT))
def test_bad_input_gives_one_line_and_exit_2(case, bad_files):
    args, expected = BAD_INPUT[case]
    line = bad(*args, cwd=bad_files)
    assert expected in line, line


def test_train_saves_its_options_and_a_wrong_load_hints_at_them(tmp_path):
    """The hint reads the --model and --hidden that `train --save` stored beside the weights."""
    saved = run(
        "train",
        "--model",
        "mlp",
        "--hidden",
        "3,4",
        "--epochs",
        "1",
        "--save",
        "m.npz",
        cwd=tmp_path,
    )
    assert saved.returncode == 0, saved.stderr
    with np.load(tmp_path / "m.npz", allow_pickle=False) as f:
        assert json.loads(str(f["@options"])) == {"model": "mlp", "hidden": [3, 4]}
    hint = "the file holds the weights of `--model mlp --hidden 3,4`"
    assert hint in bad("train", "--model", "mlp", "--hidden", "5", "--load", "m.npz", cwd=tmp_path)
    assert hint in bad("check", "--load", "m.npz", cwd=tmp_path)
    again = run("check", "--model", "mlp", "--hidden", "3,4", "--load", "m.npz", cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    for kind in ("perceptron", "network"):
        r = run("train", "--model", kind, "--epochs", "1", "--save", f"{kind}.npz", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        with np.load(tmp_path / f"{kind}.npz", allow_pickle=False) as f:
            assert json.loads(str(f["@options"])) == {"model": kind}
    spirals = ("--data", "spirals", "--model", "mlp", "--epochs", "1")
    assert run("train", *spirals, "--save", "k.npz", cwd=tmp_path).returncode == 0
    line = bad("train", *spirals, "--hidden", "2", "--load", "k.npz", cwd=tmp_path)
    assert "the file holds the weights of `--model mlp --hidden 8,8`" in line


def test_the_hint_prefers_the_saved_options_and_falls_back_to_the_shapes(tmp_path):
    from nn import MLP

    net = MLP(2, [8, 1], seed=0)
    net.save(tmp_path / "told.npz", options={"model": "mlp", "hidden": [6]})  # not the shapes'
    line = bad("train", "--load", "told.npz", cwd=tmp_path)
    assert "the file holds the weights of `--model mlp --hidden 6`" in line
    # Options that are not ones train writes, or a damaged options member: the shapes tell.
    for options in ({"model": "svm"}, {"model": "mlp", "hidden": []}, {"hidden": [2]}):
        net.save(tmp_path / "odd.npz", options=options)
        line = bad("train", "--load", "odd.npz", cwd=tmp_path)
        assert "the file holds the weights of `--model mlp --hidden 8`" in line, options
    net.save(tmp_path / "plain.npz")
    with (
        zipfile.ZipFile(tmp_path / "plain.npz") as plain,
        zipfile.ZipFile(tmp_path / "odd.npz", "w") as z,
    ):
        for info in plain.infolist():
            z.writestr(info, plain.read(info))
        z.writestr("@options.npy", b"\x93NUMPY damaged")
    line = bad("train", "--load", "odd.npz", cwd=tmp_path)
    assert "the file holds the weights of `--model mlp --hidden 8`" in line


@pytest.mark.skipif(sys.platform == "win32", reason="address-space limits are POSIX")
def test_running_out_of_memory_is_one_line_and_exit_2(tmp_path):
    import resource

    def small_address_space() -> None:
        limit = 2 << 30  # 2 GiB: enough to start, not for 3·10⁸ weights
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    r = subprocess.run(
        [str(VALUEGRAD), "train", "--model", "mlp", "--hidden", "100000000", "--epochs", "1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        preexec_fn=small_address_space,
    )
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        "valuegrad: error: out of memory: the model or the data is too large for this machine"
    ]


def test_help_of_every_command_describes_it_and_shows_defaults(tmp_path):
    top = run("--help", cwd=tmp_path)
    assert top.returncode == 0
    for command in ("demo", "train", "check", "draw"):
        assert command in top.stdout
    expected = {
        "demo": ["--out", "(default: valuegrad-out)", "--epochs", "(default: 300)"],
        "train": [
            "--model",
            "(default: network)",
            "--hidden",
            "--data",
            "(default: alien)",
            "--epochs",
            "--lr",
            "--batch-size",
            "--seed",
            "--save",
            "--load",
        ],
        "check": ["--model", "--data", "--load", "--directions", "Exit code 1"],
        "draw": ["--out", "(default: network.svg", "--format", "--x1", "--x2", "--y", "--seed"],
    }
    for command, words in expected.items():
        r = run(command, "--help", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith(f"usage: valuegrad {command}")
        text = " ".join(r.stdout.split())  # as wide as the terminal, so wrapped anywhere
        for word in words:
            assert word in text, (command, word)
        assert "(default: None)" not in r.stdout
    version = run("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("valuegrad ")


# ---------------------------------------------------------------------------
# check: wrong, right, and inconclusive numbers
# ---------------------------------------------------------------------------


def test_check_of_a_trained_mlp_with_an_all_zero_backward_fails_every_tensor(tmp_path):
    """Trained to a loss near zero its gradients are tiny; a fixed atol let 3 of 6 tensors pass."""
    common = ("--model", "mlp", "--hidden", "16,16", "--data", "moons")
    trained = run("train", *common, "--save", "mlp.npz", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    right = run("check", *common, "--load", "mlp.npz", cwd=tmp_path)
    assert right.returncode == 0, right.stdout + right.stderr
    code = (
        "import sys, nn.losses as losses\n"
        "for op in (losses.LogLoss, losses.LogLossOfLogit):\n"
        "    op.grads = (lambda g, out, a, y: a * 0.0, op.grads[1])\n"
        "from nn.cli import main\n"
        "sys.exit(main(['check', '--model', 'mlp', '--hidden', '16,16', '--data', 'moons',"
        " '--load', 'mlp.npz']))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, encoding="utf-8"
    )
    assert r.returncode == 1, r.stdout + r.stderr
    wrong = [line.split()[0] for line in r.stdout.splitlines() if "WRONG (" in line]
    assert wrong == [f"layers.{i}.{p}" for i in range(3) for p in "Wb"]
    assert r.stdout.rstrip().endswith("6 of 6 parameters' gradients are WRONG")


def test_check_counts_inconclusive_numbers_apart_and_exits_0(tmp_path):
    """A saturated perceptron: every gradient is below 1e-100, which no difference resolves."""
    p = Perceptron(2, seed=0)
    p.load_state_dict({"w1": np.asarray(300.0), "w2": np.asarray(300.0), "b": np.asarray(0.0)})
    p.save(tmp_path / "sat.npz")
    r = run("check", "--model", "perceptron", "--data", "blobs", "--load", "sat.npz", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    header = next(line for line in r.stdout.splitlines() if line.strip().startswith("parameter"))
    assert "inconclusive" in header.split()
    rows = {
        line.split()[0]: line.split() for line in r.stdout.splitlines() if line.startswith("  ")
    }
    for name in ("w1", "w2", "b"):
        assert rows[name][-2:] == ["1", "inconclusive"], rows[name]
    last = r.stdout.rstrip().splitlines()[-1]
    assert last.startswith(
        "no wrong gradient: all 3 parameters' gradients are right or inconclusive"
    )
    # The log loss is exact there (computed from the logit), so f does change, by ~1e-100.
    assert "3 of 3 numbers inconclusive: 3 where the numerical error is too wide" in last


def test_a_long_check_prints_the_directions_hint_first_and_then_its_progress(tmp_path):
    args = ("check", "--model", "mlp", "--hidden", "100,100", "--data", "moons")
    with subprocess.Popen(
        [str(VALUEGRAD), *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    ) as proc:
        try:
            assert proc.stdout is not None and proc.stderr is not None
            first, hint = proc.stdout.readline(), proc.stdout.readline()
            progress = proc.stderr.readline()
        finally:
            proc.kill()
    assert first.startswith("gradient check of the log loss of MLP(2, [100, 100, 1])")
    assert hint.startswith("checking 10,501 numbers one by one")
    assert "--directions K" in hint
    assert re.fullmatch(r"checked [\d,]+ of 10,501 numbers\n", progress), progress


# ---------------------------------------------------------------------------
# More than two classes.
# ---------------------------------------------------------------------------


def test_train_on_three_spirals_reaches_95_percent_and_plots_three_regions(tmp_path):
    r = run(
        "train",
        "--data",
        "spirals",
        "--model",
        "mlp",
        "--hidden",
        "16,16",
        "--plot",
        "b.png",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("MLP(2, [16, 16, 3]),")  # three classes, inferred from the labels
    final = re.search(r"final: loss ([\d.]+), accuracy ([\d.]+)%", r.stdout)
    assert final is not None, r.stdout
    assert float(final.group(2)) >= 95.0
    assert (tmp_path / "b.png").read_bytes().startswith(PNG)


def test_a_csv_with_labels_0_to_3_trains_an_mlp_of_four_scores(tmp_path):
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [4, 0], [0, 4], [4, 4]])
    y = np.repeat(np.arange(4), 10)
    X = centres[y] + 0.3 * rng.standard_normal((40, 2))
    rows = "\n".join(f"{a},{b},{c}" for (a, b), c in zip(X, y, strict=True))
    (tmp_path / "four.csv").write_text(f"x1,x2,label\n{rows}\n", encoding="utf-8")
    r = run("train", "--data", "four.csv", "--model", "mlp", "--epochs", "100", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "MLP(2, [8, 8, 4])" in r.stdout and "accuracy 100.0%" in r.stdout
    check = run("check", "--data", "four.csv", "--model", "mlp", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "are right" in check.stdout
