"""The stepper page under hostile names and titles: they stay text, never markup."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser

import pytest

from autograd import Value
from autograd.steps import backprop_steps, stepper_html

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="needs graphviz dot")

EVIL = "<img src=x onerror=alert(1)>"


class Tags(HTMLParser):
    """The elements a browser would make of a page, and the text of its h1."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.h1 = ""
        self._in_h1 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_h1 = tag == "h1"

    def handle_endtag(self, tag: str) -> None:
        self._in_h1 = self._in_h1 and tag != "h1"

    def handle_data(self, data: str) -> None:
        if self._in_h1:
            self.h1 += data


def test_a_title_holding_the_data_placeholder_stays_text_and_injects_no_markup() -> None:
    a = Value(2.0, name=EVIL)
    loss = a * Value(3.0, name="b</script><script>alert(2)</script>") + a
    title = "Steps {{data}} <b>"
    parser = Tags()
    parser.feed(stepper_html(backprop_steps(loss), title=title))
    assert parser.h1 == title
    assert "img" not in parser.tags and "svg" not in parser.tags
    assert parser.tags.count("script") == 2  # the page's data and its code, nothing else
