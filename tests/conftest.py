"""Shared test set-up: hypothesis profiles ("ci" when the CI variable is set, else "dev"), and
the headless Chromium of the browser tests.

The browser is Debian's `chromium`, driven by Playwright, which is given the system's
binary and downloads nothing. Its tests skip only when chromium is missing and the CI
variable is not set.
"""

import os
import shutil
from collections.abc import Iterator

import pytest
from hypothesis import settings

# CI runs are derandomized so that a failure there reproduces exactly on a developer's machine.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True, max_examples=100)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# Headless Chromium, started as the system's package allows in a container.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing, and CI is set: the browser tests must run")
    pytest.skip(f"{what} is missing")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """A headless Chromium, shared by a module's tests."""
    executable = shutil.which("chromium")
    if executable is None:
        _missing("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # chromium is there, so the tests must run
        pytest.fail("the browser tests need playwright: pip install -e '.[dev]' (or '.[browser]')")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()
