"""Hostile values in the app, driven with streamlit.testing.v1.AppTest: values from files and settings
that the pages render as markdown show as typed (no image fetched, no link made)."""

from __future__ import annotations

import pytest

from tests.test_app import SAMPLE, run, upload
from tests.test_app_workspace import browser
from ui import fmt

pytestmark = pytest.mark.skipif(not (SAMPLE / "orders.csv").exists(), reason="sample_data/orders.csv not generated yet")

IMAGE, LINK = "![c](http://host/x.png)", "[x](http://e)"


def markdown_sources(at) -> list[str]:
    """Every markdown text on the page (markdown, captions, messages) and the sidebar."""
    kinds = ("markdown", "caption", "info", "warning", "error", "success")
    return [e.value for kind in kinds for e in getattr(at, kind)] + [e.value for e in at.sidebar.caption]


def test_markdown_in_names_shows_as_typed():
    assert fmt.md(IMAGE) == "!&#91;c&#93;(http&#58;//host/x.png)"   # shown as typed, read as no markup
    assert fmt.md("shop_orders.csv") == "shop_orders.csv" and fmt.md("1. *x*") == "1&#46; &#42;x&#42;"
    assert fmt.md("a\nb") == "a b"

    at = browser()
    name = "![c](x.png) [x](e).csv"   # a file name may hold no "/" or ":" (it is kept on disk)
    upload(at, name, b"customer,date,amount\nK1,2024-01-05,500\nK2,2024-02-01,20\n")
    upload(at, "people.csv", f"customer_id,name,region\nK1,{IMAGE},{LINK}\nK2,Bo,East\n".encode(), role="customers")
    shown = "\n".join(markdown_sources(at))
    assert fmt.md(name) in shown   # the file's name in the import report and the sidebar
    at.text_input(key="w_label_0").input(LINK)   # a level named like a link
    run(at)
    assert any(fmt.md(LINK) in s.label for s in at.sidebar.slider)

    at.switch_page("pages/2_Customers.py")
    run(at)
    at.selectbox(key="w_cust_selected").set_value("K1")
    run(at)
    details = [m for m in markdown_sources(at) if m.startswith("**Details")]
    assert details and fmt.md(LINK) in details[0]
    for source in markdown_sources(at):   # nothing on the page makes a link or an image of them
        assert "](" not in source and "http:" not in source, source
