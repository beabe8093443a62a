"""Hostile values in the app: values from files and settings that the pages render as markdown show
as typed (no image fetched, no link made; AppTest), the charts and the tiering tolerate
non-finite values, and a workbook of several sheets lets the user pick the sheet."""

from __future__ import annotations

import math

import pytest

import segcore

from tests.test_app import SAMPLE, metrics, run, upload
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


def test_charts_and_tiers_tolerate_non_finite_values(write):
    """Infinity and NaN in the per-customer table (the engine rejects them on reading; the pages are
    guarded anyway): the tiering gives the finite customers the tiers they have without them, and
    the histograms bin only finite values (an infinite maximum used to make the bins run forever)."""
    from types import SimpleNamespace

    from segcore import views
    from ui import charts

    ds = segcore.load_orders(write("o.csv", "customer_id,order_date,amount\nK1,2024-01-05,500\nK2,2024-02-01,300\n"
                                         "K3,2024-02-10,150\nK4,2024-03-01,20\nK5,2024-03-02,1\nK6,2024-03-03,1\n"))
    finite = segcore.customer_metrics(ds.con)
    hostile = finite.copy()
    hostile.loc[hostile["customer_id"] == "K5", ["monetary", "avg_order_value"]] = math.inf
    hostile.loc[hostile["customer_id"] == "K6", ["monetary", "recency_days"]] = math.nan
    rules = segcore.TierRules()
    plain = segcore.assign_tiers(finite[~finite["customer_id"].isin(["K5", "K6"])], rules)
    tiered = segcore.assign_tiers(hostile, rules)
    got = dict(zip(tiered["customer_id"], tiered["tier"].astype(str)))
    assert {c: got[c] for c in ("K1", "K2", "K3", "K4")} == dict(zip(plain["customer_id"], plain["tier"].astype(str)))

    colors = {"A": "#111111", "B": "#222222", "C": "#333333"}
    ctx = SimpleNamespace(tiered=tiered, summary=segcore.tier_summary(tiered, rules.labels), levels=rules.labels,
                          count_only=False, color=lambda tier: colors.get(tier, "#999999"), rules=rules)
    for column, scale, finite_values in (("monetary", "log", 4), ("avg_order_value", "log", 5),
                                         ("recency_days", "linear", 5), ("frequency", "log", 6)):
        assert views.distribution(tiered, column, scale)["customers"].sum() == finite_values
        fig = charts.distribution_figure(ctx, column, scale, "title", "x", column == "frequency")
        assert sum(sum(bar.y) for bar in fig.data) == finite_values
    assert charts.pareto_figure(ctx).data and charts.tier_mix_figure(ctx).data


def test_a_workbook_of_several_sheets_lets_the_user_pick_the_sheet():
    from tests.hostile_corpus import _xlsx

    head = ["order_id", "customer_id", "order_date", "amount"]
    book = _xlsx({"Notes": [["Exported from the shop on 2024-04-01"]],
                  "Orders": [head, ["O1", "K1", "2024-01-05", 500], ["O2", "K2", "2024-02-01", 20]],
                  "Returns": [head, ["R1", "K1", "2024-03-01", -50], ["R2", "K3", "2024-03-02", 10],
                              ["R3", "K4", "2024-03-03", 5]]})
    at = upload(browser(), "book.xlsx", book)
    picker = at.selectbox(key="w_sheet")
    assert picker.options == ["The first sheet holding a table", "Notes", "Orders", "Returns"]
    assert picker.value == ""   # the engine's choice: the first sheet with a table, Orders
    assert metrics(at, "Rows used") == ["2"] and metrics(at, "Customers") == ["2"]
    assert "Sheet read: Orders (the workbook also has: Notes, Returns)." in [i.value for i in at.info]
    picker.set_value("Returns")
    run(at)
    assert metrics(at, "Rows used") == ["3"] and metrics(at, "Customers") == ["3"]
    assert at.selectbox(key="w_sheet").value == "Returns"
    at.switch_page("pages/1_Overview.py")   # the choice holds on the other pages
    run(at)
    assert any("3 order lines" in c.value for c in at.sidebar.caption)
