"""Each browser's workspace in the app, driven with streamlit.testing.v1.AppTest as a person walks it:
a reload (a new session with the same ``?ws=`` link) reopens the upload and its settings with a
note; a second browser (no link, no cookie) sees none of the first one's data, snapshots, saved
datasets or settings; a damaged workspace file gives one sentence and a button that moves it aside.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import segcore
from segcore.settings import Settings
from segcore.workspace import Workspace, content_key, valid_workspace_key
from tests.test_app import SAMPLE, TIMEOUT, metrics, run, upload
from tests.test_workspace_damage import ORDERS, sql, truncate

REPO = Path(__file__).resolve().parents[1]
MIGRATION = "pages/4_Migration.py"

pytestmark = pytest.mark.skipif(not (SAMPLE / "orders.csv").exists(), reason="sample_data/orders.csv not generated yet")

# 3 customers: K1 800 (2 orders), K2 130 (150 and a return of 20), K3 20; one row without a customer.
SHOP = (b"order_id,date,customer,amount\n1,2024-01-05,K1,500\n2,2024-02-01,K1,300\n3,2024-02-10,K2,150\n"
        b"4,2024-03-01,K3,20\n5,2024-03-02,,70\n6,2024-03-03,K2,-20\n")


def browser(key: str | None = None, page: str | None = None) -> AppTest:
    """A new session: a reload or a new tab of the browser holding ``key`` (None: a new browser)."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    if key is not None:
        at.query_params["ws"] = key
    run(at)
    if page:
        at.switch_page(page)
        run(at)
    return at


def said(at: AppTest) -> str:
    return "\n".join(m.value for kind in ("error", "warning", "success", "info") for m in getattr(at, kind))


def sample_rows() -> str:
    return f"{segcore.load_orders(SAMPLE / 'orders.csv').report.rows_used:,}"


def test_a_reload_reopens_the_upload_and_its_settings(tmp_path):
    at = browser()
    key = at.query_params["ws"]
    assert valid_workspace_key(key)
    upload(at, "orders.csv", SHOP)
    assert metrics(at, "Rows used") == ["5"] and metrics(at, "Customers") == ["3"]
    at.slider(key="w_cut_a_value").set_value(60)
    run(at)

    again = browser(key)   # the reload
    assert "Reopened orders.csv from " in said(again)
    assert again.segmented_control(key="w_source").value == "upload"
    assert metrics(again, "Rows used") == ["5"] and metrics(again, "Customers") == ["3"]
    assert again.slider(key="w_cut_a_value").value == 60
    assert any("orders.csv" in c.value for c in again.sidebar.caption)   # the data in use, on every page

    again.button(key="w_ws_use_sample").click()   # "use the sample instead?"
    run(again)
    assert metrics(again, "Rows used") == [sample_rows()]
    assert "Reopened" not in said(again)
    third = browser(key)   # the choice of the sample is remembered too, the settings stay
    assert metrics(third, "Rows used") == [sample_rows()] and "Reopened" not in said(third)
    assert third.slider(key="w_cut_a_value").value == 60


def test_a_second_browser_sees_nothing_of_the_first(tmp_path):
    first = browser()
    upload(first, "orders.csv", SHOP)
    first.text_input(key="w_set_name").input("mine")
    first.button(key="w_set_save").click()
    run(first)
    first.segmented_control(key="w_source").set_value("saved")
    run(first)
    first.text_input(key="w_ws_name").input("my shop")
    first.button(key="w_ws_save").click()
    run(first)
    first.switch_page(MIGRATION)
    run(first)
    first.button(key="w_snap_save").click()
    run(first)
    assert "Snapshot of 2024-03-03 saved." in said(first)

    second = browser()
    assert second.query_params["ws"] != first.query_params["ws"]
    assert metrics(second, "Rows used") == [sample_rows()] and "Reopened" not in said(second)
    assert "w_set_pick" not in [box.key for box in second.selectbox]   # no named settings
    second.segmented_control(key="w_source").set_value("saved")
    run(second)
    assert "Nothing saved yet" in said(second)
    second.switch_page(MIGRATION)
    run(second)
    assert "No snapshot saved yet." in said(second)
    # the same file uploaded in the second browser still finds no snapshot of the first
    second.switch_page("app.py")
    run(second)
    upload(second, "orders.csv", SHOP)
    second.switch_page(MIGRATION)
    run(second)
    assert "No snapshot saved yet." in said(second)


def test_shared_mode_is_one_workspace_for_everyone(monkeypatch):
    monkeypatch.setenv("SEGCORE_WORKSPACE_MODE", "shared")
    first = browser()
    assert "ws" not in first.query_params
    upload(first, "orders.csv", SHOP)
    second = browser()
    assert "Reopened orders.csv from " in said(second) and metrics(second, "Rows used") == ["5"]


def test_an_upload_name_over_255_bytes_is_kept_under_a_shorter_name(tmp_path):
    name = "订单" * 60 + ".csv"   # 364 bytes of UTF-8
    at = browser()
    upload(at, name, SHOP)
    assert metrics(at, "Rows used") == ["5"]
    store = Path(os.environ["SEGCORE_WORKSPACE"]).parent / "workspace-files"
    kept = [p for p in store.rglob("*") if p.is_file()]
    assert len(kept) == 1 and kept[0].suffix == ".csv" and len(kept[0].name.encode()) <= 255
    assert kept[0].name.startswith("订单订单")


# --- a damaged workspace file ------------------------------------------------------------------------

@pytest.fixture
def shared_file(tmp_path, monkeypatch):
    """The shared workspace (SEGCORE_WORKSPACE_MODE=shared) with a dataset "shop", settings, a
    snapshot and a last session, as the app would have saved them."""
    monkeypatch.setenv("SEGCORE_WORKSPACE_MODE", "shared")
    orders = tmp_path / "orders.csv"
    orders.write_text(ORDERS)
    path = Path(os.environ["SEGCORE_WORKSPACE"])
    ws = Workspace(path)
    ds = segcore.load_orders(orders)
    ws.save_dataset("shop", ds, file_name="orders.csv")
    ws.save_settings("monthly", Settings(churn_k=3.0))
    ws.save_snapshot("orders.csv", segcore.assign_tiers(segcore.customer_metrics(ds.con)),
                     ds.report.date_min, content=content_key(ds), labels=("A", "B", "C"))
    return path


DAMAGE = {"truncated to 50%": truncate(0.5), "truncated to 99%": truncate(0.99),
          "bad JSON in the datasets table": sql("UPDATE datasets SET report = '{bad', tables = '[\"raw\"'"),
          "bad JSON in the snapshots table": sql("UPDATE snapshots SET labels = 'A, B, C'")}


SENTENCE = ("The workspace file is damaged, so nothing can be saved or opened right now. Move it aside to go on "
            "with a new, empty workspace.")


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_a_damaged_workspace_is_one_sentence_and_can_be_moved_aside(shared_file, kind):
    DAMAGE[kind](shared_file)
    at = browser()   # the app goes on with the sample
    assert metrics(at, "Rows used") == [sample_rows()]
    at.segmented_control(key="w_source").set_value("saved")
    run(at)
    on_data_page = [e.value for e in at.error]
    at.switch_page(MIGRATION)
    run(at)   # no exception on any page (run checks)
    on_migration = [e.value for e in at.error]
    assert set(on_data_page + on_migration) <= {SENTENCE}
    if kind == "bad JSON in the snapshots table":   # met when the snapshot is opened
        assert any(w.value.startswith(f"That did not work: The workspace file {shared_file} is damaged")
                   for w in at.warning)
    if kind == "truncated to 50%":
        assert on_migration == [SENTENCE]
    at.switch_page("app.py")
    run(at)
    if kind in ("truncated to 50%", "bad JSON in the datasets table"):
        assert SENTENCE in on_data_page
        at.button(key="w_ws_aside_saved").click()
        run(at)
        assert "The damaged workspace file was moved aside as workspace.damaged-" in said(at)
        assert "Nothing saved yet" in said(at) and not at.error
        assert len(list(shared_file.parent.glob("workspace.damaged-*.duckdb"))) == 1
