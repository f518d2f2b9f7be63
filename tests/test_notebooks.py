"""The notebooks run top to bottom, are committed with their outputs, and show a picture each."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

FOLDER = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds for one cell; each takes a few
PICTURES = ("image/png", "image/svg+xml")
MACHINE_PATH = re.compile(r"/work/|/home/|/Users/|/tmp/|/root/|/opt/|[A-Z]:\\\\")


def load_build() -> Any:
    """notebooks/build.py, which runs a notebook exactly as the committed outputs were made."""
    spec = importlib.util.spec_from_file_location("notebooks_build", FOLDER / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(nb: Any) -> Any:
    """Run the notebook in a fresh python3 kernel in the notebooks folder; a failing cell raises."""
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(FOLDER)}},
        record_timing=False,
    )
    client.execute()
    return nb


def texts(nb: Any) -> list[list[str]]:
    """Per code cell: its printed text and plain-text results, as the build script stores them."""
    merge = load_build().merge_streams
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        parts = []
        for out in merge(cell.outputs):
            if out.output_type == "stream":
                parts.append(out.text)
            elif "data" in out:
                parts.append(out.data.get("text/plain", ""))
        found.append(parts)
    return found


def test_the_four_lessons_are_there():
    names = [p.name for p in NOTEBOOKS]
    assert len(names) >= 5
    for prefix, topic in (
        ("01", "network"),
        ("02", "derivatives"),
        ("03", "training"),
        ("04", "hood"),
        ("05", "backprop"),
    ):
        assert any(n.startswith(prefix) and topic in n for n in names), (prefix, names)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom_and_its_outputs_are_current(path):
    committed = nbformat.read(path, as_version=4)
    fresh = run(nbformat.read(path, as_version=4))
    assert texts(fresh) == texts(committed), (
        f"{path.name}: the committed outputs are stale; "
        f"run `python notebooks/build.py {path.name[:2]}`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_with_outputs_and_a_picture(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count is not None for c in code), "run notebooks/build.py"
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))  # in order, once
    pictures = [o for c in code for o in c.outputs if set(o.get("data", {})) & set(PICTURES)]
    assert pictures, f"{path.name} shows no drawing or plot"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert all("execution" not in c.metadata for c in code)  # no timings: rebuilds leave git clean


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_holds_no_machine_paths(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        text = "".join(cell["source"]) + json.dumps(cell.get("outputs", []))
        assert not MACHINE_PATH.search(text), MACHINE_PATH.search(text)


def test_a_failing_cell_fails_the_run(tmp_path):
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("1 / 0")],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="ZeroDivisionError"):
        run(nb)


def test_merge_streams_joins_pieces_and_drops_addresses():
    build = load_build()
    outs = [
        nbformat.v4.new_output("stream", name="stdout", text="a = 1"),
        nbformat.v4.new_output("stream", name="stdout", text="\n"),
        nbformat.v4.new_output("stream", name="stderr", text="warning\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": "<Drawing at 0x7f00ab12>"}),
    ]
    merged = build.merge_streams(outs)
    assert [o.output_type for o in merged] == ["stream", "stream", "execute_result"]
    assert merged[0].text == "a = 1\n"
    assert merged[2].data["text/plain"] == "<Drawing>"
