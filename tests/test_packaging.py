"""The wheel and the sdist ship what users expect: type hints, one version, links, the tests."""

from __future__ import annotations

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
