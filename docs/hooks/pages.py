"""MkDocs hook: the README's sections become the guides, and notebooks/ and CHANGELOG.md pages.

Each page keeps one source: the README, the notebooks and the changelog are read at build time,
and the navigation follows the README's order.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
NOTEBOOKS = ROOT / "notebooks"
API = ["api/autograd.md", "api/nn.md"]
LINK = re.compile(r"\]\((?!https?://|#)([^)]+)\)")


def slug(title: str) -> str:
    """A file name from a section title: "The `valuegrad` command" → "the-valuegrad-command"."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def sections() -> tuple[str, list[tuple[str, str]]]:
    """The README's head (before the first "## ") and its (title, body) sections in order."""
    head, *rest = README.read_text(encoding="utf-8").split("\n## ")
    found = []
    for part in rest:
        title, _, body = part.partition("\n")
        found.append((title.strip(), body))
    return head, found


def relink(text: str, depth: int) -> str:
    """The README's relative links, pointed at the pages the site makes of their targets."""
    up = "../" * depth

    def target(match: re.Match[str]) -> str:
        link = match.group(1)
        if link.startswith("docs/"):
            link = link.removeprefix("docs/")
        elif link == "CHANGELOG.md":
            link = "changelog.md"
        elif not link.startswith("notebooks/"):
            return match.group(0)
        return f"]({up}{link})"

    return LINK.sub(target, text)


def guides() -> list[tuple[str, str, str]]:
    """(title, page path, markdown) for each README section."""
    _, found = sections()
    return [
        (title, f"guides/{slug(title)}.md", relink(f"# {title}\n{body}", depth=1))
        for title, body in found
    ]


def on_config(config: Any) -> Any:
    """The navigation: home, the guides in README order, the notebooks, the API, the changelog."""
    notebooks = [
        {nb.stem.split("-", 1)[1].replace("-", " ").capitalize(): f"notebooks/{nb.name}"}
        for nb in sorted(NOTEBOOKS.glob("*.ipynb"))
    ]
    config["nav"] = [
        {"Home": "index.md"},
        {"Guides": [{title: path} for title, path, _ in guides()]},
        {"Notebooks": notebooks},
        {"API reference": [{Path(p).stem: p} for p in API]},
        {"Changelog": "changelog.md"},
    ]
    return config


@event_priority(100)  # before mkdocs-jupyter's on_files, so that it renders the notebooks
def on_files(files: Files, config: Any) -> Files:
    """Add the generated pages and the notebooks to the site's files."""
    head, _ = sections()
    home = (
        relink(head, depth=0)
        + "\n## Guides\n\n"
        + "\n".join(f"- [{title}]({path})" for title, path, _ in guides())
    )
    files.append(File.generated(config, "index.md", content=home))
    for _, path, text in guides():
        files.append(File.generated(config, path, content=text))
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    files.append(File.generated(config, "changelog.md", content=changelog))
    for nb in sorted(NOTEBOOKS.glob("*.ipynb")):
        # A file of the repository root rather than a generated one: mkdocs-jupyter reads
        # the notebook from its source folder, which a generated file does not have.
        uri = f"notebooks/{nb.name}"
        files.append(File(uri, str(ROOT), config.site_dir, config.use_directory_urls))
    return files
