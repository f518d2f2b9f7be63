"""Run every notebook top to bottom and save it with its outputs; regenerate the README's pictures.

    python notebooks/build.py            # the notebooks, then docs/ (the demo's pictures)
    python notebooks/build.py 02 04      # only the notebooks whose names start with these
    python notebooks/build.py --docs     # only docs/

Needs the `notebooks` extra (matplotlib, nbclient, ipykernel). Outputs carry no
timings, so rebuilding an unchanged notebook leaves git clean.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent / "docs"
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")
CELL_TIMEOUT = 120  # seconds; the slowest cell takes a few


def execute(path: Path) -> None:
    """Run the notebook in a fresh python3 kernel, in its own folder, and save it in place."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    client.execute()
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
    nbformat.write(nb, path)


def merge_streams(outputs: list[Any]) -> list[Any]:
    """Outputs with runs of stdout (or stderr) pieces joined, wherever the kernel happened to flush.

    Reprs that print a memory address ("<... at 0x7f…>") lose it, so a rebuild changes nothing.
    """
    merged: list[Any] = []
    for out in outputs:
        last = merged[-1] if merged else None
        if (
            out.output_type == "stream"
            and last is not None
            and last.output_type == "stream"
            and last.name == out.name
        ):
            last.text += out.text
        else:
            merged.append(out)
        text = out.get("data", {}).get("text/plain")
        if text is not None:
            out.data["text/plain"] = ADDRESS.sub(">", text)
    return merged


def pictures() -> None:
    """Run the demo into docs/: the coloured graph, the decision boundaries and the loss curves."""
    from nn.cli import main

    code = main(["demo", "--out", str(DOCS)])
    if code:
        sys.exit(code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("only", nargs="*", help="prefixes of the notebooks to run (default: all)")
    parser.add_argument("--docs", action="store_true", help="only regenerate docs/")
    args = parser.parse_args()
    if not args.docs:
        for path in sorted(HERE.glob("*.ipynb")):
            if args.only and not any(path.name.startswith(p) for p in args.only):
                continue
            print(f"running {path.name}", flush=True)
            execute(path)
    if args.docs or not args.only:
        pictures()


if __name__ == "__main__":
    main()
