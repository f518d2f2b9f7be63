"""The documentation site: every README section a guide, every notebook a page, every module in the
API reference. CI builds the site itself with `mkdocs build --strict`."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("mkdocs")
from mkdocs.config import load_config
from mkdocs.structure.files import Files

ROOT = Path(__file__).resolve().parent.parent


def hook() -> ModuleType:
    """docs/hooks/pages.py, loaded as MkDocs loads it."""
    spec = importlib.util.spec_from_file_location("pages", ROOT / "docs" / "hooks" / "pages.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def readme_titles() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"^## (.+)$", text, flags=re.MULTILINE)


def test_the_navigation_has_every_readme_section_notebook_and_api_page_in_order() -> None:
    config = hook().on_config({"nav": None})
    nav = {next(iter(entry)): next(iter(entry.values())) for entry in config["nav"]}
    assert [next(iter(g)) for g in nav["Guides"]] == readme_titles()
    notebooks = [next(iter(n.values())) for n in nav["Notebooks"]]
    folder = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks == [f"notebooks/{p.name}" for p in folder]
    for page in nav["API reference"]:
        assert (ROOT / "docs" / next(iter(page.values()))).is_file()
    assert nav["Home"] == "index.md" and nav["Changelog"] == "changelog.md"


def test_the_site_gets_the_pages_the_navigation_names() -> None:
    config = load_config(str(ROOT / "mkdocs.yml"))
    files = config.plugins.on_files(Files([]), config=config)  # as a build runs the hook
    uris = {f.src_uri for f in files}
    pages = hook().guides()
    assert {"index.md", "changelog.md"} | {path for _, path, _ in pages} <= uris
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        (file,) = [f for f in files if f.src_uri == f"notebooks/{nb.name}"]
        assert Path(str(file.abs_src_path)) == nb  # mkdocs-jupyter reads it from there
    home = files.get_file_from_path("index.md")
    assert home is not None and "pip install -e '.[dev]'" in home.content_string


def test_readme_links_point_at_the_sites_pages() -> None:
    relink = hook().relink
    text = "![g](docs/network-graph.svg) [n](notebooks/01-x.ipynb) [w](https://x.org/a) [s](#top)"
    assert relink(text, depth=1) == (
        "![g](../network-graph.svg) [n](../notebooks/01-x.ipynb) [w](https://x.org/a) [s](#top)"
    )
    assert relink("[c](CHANGELOG.md)", depth=1) == "[c](../changelog.md)"
    assert relink(text, depth=0).startswith("![g](network-graph.svg) [n](notebooks/01-x.ipynb)")


def test_the_api_reference_documents_every_module() -> None:
    text = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs" / "api").glob("*.md"))
    documented = set(re.findall(r"^::: ([\w.]+)$", text, flags=re.MULTILINE))
    modules = {
        f"{package}.{path.stem}"
        for package in ("autograd", "nn")
        for path in (ROOT / package).glob("*.py")
        if not path.stem.startswith("__")
    }
    assert modules - documented == set()


def test_the_readme_links_to_the_documentation() -> None:
    head = (ROOT / "README.md").read_text(encoding="utf-8").split("\n## ")[0]
    assert "mkdocs serve" in head and "pip install -e '.[docs]'" in head
