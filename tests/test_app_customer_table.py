"""A customer table (``python -m segcore metrics``) opened on the Data page and walked page by page.

The pages that read the per-customer table show what they show for the orders file it was made
from; those that need order lines say so in a sentence, in English and Chinese.
"""

from __future__ import annotations

import pytest

from segcore.cli import main

from .test_app import CUSTOMERS, OVERVIEW, SAMPLE, metrics, run, start, text_of

pytestmark = pytest.mark.skipif(not (SAMPLE / "orders.csv").exists(), reason="sample_data/orders.csv not generated yet")

NEEDS_LINES = "needs the order lines, and a customer table holds one row per customer"


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    path = tmp_path_factory.mktemp("table") / "customers.parquet"
    assert main(["metrics", str(SAMPLE / "orders.csv"), "--customers", str(SAMPLE / "customers.csv"),
                 "--interactions", str(SAMPLE / "interactions.csv"), "--out", str(path)]) == 0
    return path.read_bytes()


def open_table(at, name: str, content: bytes):
    at.segmented_control(key="w_source").set_value("table")
    run(at)
    at.file_uploader(key="w_upload_table").set_value((name, content, "application/octet-stream"))
    return run(at)


def test_customer_table_walked_through_the_pages(table):
    at = open_table(start(), "customers.parquet", table)
    # the Data page: the report the table was made with, and how it was made
    assert metrics(at, "Rows read") == ["27,009"]
    assert metrics(at, "Rows used") == ["26,621"]
    assert metrics(at, "Customers") == ["3,000"]
    text = text_of(at)
    assert "Customer table computed by duckdb from" in text and "as of 2026-10-31, window from 2024-11-01" in text
    assert "The columns of a customer table were chosen when it was computed." in text
    assert not at.get("download_button") or all(b.proto.label != "Download rejected rows"
                                                 for b in at.get("download_button"))
    # the Overview: the tiers of the sample (the same as from the orders file)
    at.switch_page(OVERVIEW)
    run(at)
    assert metrics(at, "Customers") == ["687", "811", "1,502", "400"]
    assert "As of 2026-10-31, window from 2024-11-01 (fixed by the customer table)" in text_of(at)
    assert not at.sidebar.date_input  # no window to move: it was fixed when the table was computed
    # Customers: the list and profile work; the order timeline says it needs the lines
    at.switch_page(CUSTOMERS)
    run(at)
    at.selectbox(key="w_cust_selected").set_value("C00001")
    run(at)
    assert metrics(at, "Orders") == ["36"]
    assert "C00001 · 福州百味超市" in text_of(at)
    assert "The order timeline and the products bought need the order lines" in text_of(at)
    # Segments and Playbook read the table
    for page in ("pages/3_Segments.py", "pages/6_Playbook.py"):
        at.switch_page(page)
        run(at)
        assert NEEDS_LINES not in text_of(at)
    # Churn warning: the list works; P(alive) and the lifecycle need the lines
    at.switch_page("pages/5_Churn.py")
    run(at)
    infos = [i.value for i in at.info]
    assert any(v.startswith("P(alive) beside the rule " + NEEDS_LINES) for v in infos)
    assert any(v.startswith("Lifecycle stages " + NEEDS_LINES) for v in infos)
    assert at.get("dataframe") or at.get("arrow_data_frame")
    # Migration and Forecast need the lines
    for page, title in (("pages/4_Migration.py", "Tier migration"), ("pages/7_Forecast.py", "Forecast")):
        at.switch_page(page)
        run(at)
        assert [i.value for i in at.info] == [
            f"{title} {NEEDS_LINES}. Open the orders file on the Data page to see it."]
    # in Chinese
    at.sidebar.segmented_control(key="w_lang").set_value("zh")
    run(at)
    assert [i.value for i in at.info] == ["预测需要订单明细，而客户汇总表每位客户只有一行。请在“数据”页打开订单文件后查看。"]


def test_a_file_that_is_not_a_customer_table_is_explained():
    orders = (SAMPLE / "orders.csv").read_bytes()
    at = open_table(start(), "orders.csv", orders)
    assert [e.value.split("  \n")[1] for e in at.error] == [(
        "orders.csv is not a customer table: open a Parquet file written by python -m segcore metrics, or "
        "upload order lines under “Upload my files”.")]
