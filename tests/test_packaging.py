"""The wheel and the sdist ship what users expect: type hints, one version, links, the tests."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

import autograd
import nn

ROOT = Path(__file__).resolve().parent.parent
# What the test suite reads besides the packages: without one of these, pytest in the unpacked
# sdist fails to collect or fails a test.
SUITE_NEEDS = ("tests", "benchmarks", "notebooks", "docs")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel and the sdist, built as CI builds them, from a copy of this tree.

    A copy, because a build reuses the *.egg-info it finds, which would hide a MANIFEST.in change.
    """
    out = tmp_path_factory.mktemp("dist")
    source = tmp_path_factory.mktemp("source") / "valuegrad"
    junk = shutil.ignore_patterns(
        ".*", "*.egg-info", "build", "dist", "__pycache__", "valuegrad-out", "*.pyc"
    )
    shutil.copytree(ROOT, source, ignore=junk)
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "-o", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    return out


def wheel_metadata(dist: Path) -> tuple[list[str], dict[str, list[str]]]:
    """The wheel's file names and its METADATA fields (each field's values in order)."""
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        (meta,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        message = Parser().parsestr(z.read(meta).decode())
    fields: dict[str, list[str]] = {}
    for key, value in message.items():
        fields.setdefault(key, []).append(value)
    return names, fields


def test_both_packages_ship_py_typed(dist: Path) -> None:
    names, _ = wheel_metadata(dist)
    assert "autograd/py.typed" in names
    assert "nn/py.typed" in names


def test_one_version_for_both_packages_and_the_metadata(dist: Path) -> None:
    _, fields = wheel_metadata(dist)
    assert autograd.__version__ == nn.__version__ == fields["Version"][0]


def test_metadata_has_the_source_link_and_the_typed_classifier(dist: Path) -> None:
    _, fields = wheel_metadata(dist)
    links = dict(u.split(", ", 1) for u in fields["Project-URL"])
    assert set(links) == {"Source"}  # the one link kept until the real addresses are known
    assert links["Source"].startswith("https://")
    assert "Typing :: Typed" in fields["Classifier"]


def test_sdist_carries_every_file_the_test_suite_needs(dist: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        shipped = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    wanted = {
        path.relative_to(ROOT).as_posix()
        for folder in SUITE_NEEDS
        for path in (ROOT / folder).rglob("*")
        if path.is_file()
        and not any(p.startswith(".") or p == "__pycache__" for p in path.relative_to(ROOT).parts)
        and path.suffix != ".pyc"
    }
    wanted |= {"README.md", "CHANGELOG.md", "LICENSE", "pyproject.toml", "mkdocs.yml"}
    assert not any("/.hypothesis/" in f"/{name}" for name in shipped)
    assert sorted(wanted - shipped) == []


def test_changelog_has_a_section_for_the_current_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{autograd.__version__}]" in text


# ---------------------------------------------------------------------------
# How the modules import one another.
# ---------------------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    """The modules (and module.name) a file imports anywhere in it, for use at run time.

    Imports inside functions count; those under `if TYPE_CHECKING:` (type hints) do not.
    """
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.ImportFrom) and child.module and not child.level:
                found.add(child.module)
                found.update(f"{child.module}.{a.name}" for a in child.names)
            elif isinstance(child, ast.Import):
                found.update(a.name for a in child.names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def _module_graph() -> dict[str, set[str]]:
    """Each module of autograd and nn → the modules of autograd and nn it imports."""
    files = {
        f"{pkg}.{p.stem}": p
        for pkg in ("autograd", "nn")
        for p in (ROOT / pkg).glob("*.py")
        if p.stem != "__init__"
    }
    return {
        name: {m if m in files else m.rpartition(".")[0] for m in _imports(path)}
        & set(files) - {name}
        for name, path in files.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_only_import_cycle_is_value_and_ops() -> None:
    assert _cycles(_module_graph()) == [{"autograd.value", "autograd.ops"}]


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import b\n")
    (tmp_path / "b.py").write_text("def f():\n    from c import x\n")
    (tmp_path / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import d\nimport a\n"
    )
    (tmp_path / "d.py").write_text("import c\n")
    graph = {name: _imports(tmp_path / f"{name}.py") & {"a", "b", "c", "d"} for name in "abcd"}
    assert _cycles(graph) == [{"a", "b", "c"}]  # d → c, but c → d only for type hints


def test_nn_imports_only_public_names_of_autograd() -> None:
    for path in sorted((ROOT / "nn").glob("*.py")):
        private = {
            m
            for m in _imports(path)
            if m.startswith("autograd")
            and any(part.startswith("_") and not part.endswith("__") for part in m.split("."))
        }
        assert not private, f"{path.name} imports {private}"
