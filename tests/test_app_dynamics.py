"""The Migration, Churn warning and Playbook pages, the settings file and the
workspace, driven with streamlit.testing.v1.AppTest on the sample data.

Every number checked here is computed again by the engine directly, with the same settings.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

import segcore
from segcore import dynamics, playbook
from segcore.workspace import Workspace, new_workspace_key
from tests.test_app import chart_titles, run, start, values
from tests.test_app import metrics as metric

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data"
MIGRATION, CHURN, PLAYBOOK = "pages/4_Migration.py", "pages/5_Churn.py", "pages/6_Playbook.py"
CUSTOMERS = "pages/2_Customers.py"
OVERVIEW = "pages/1_Overview.py"
MOVES = ["Upgraded", "Downgraded", "New", "Lost", "Same level"]

pytestmark = pytest.mark.skipif(not (SAMPLE / "orders.csv").exists(), reason="sample_data/orders.csv not generated yet")


# --- helpers ---------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def workspace_file(tmp_path, monkeypatch):
    """Every test gets its own empty workspace file (never the user's)."""
    path = tmp_path / "workspace.duckdb"
    monkeypatch.setenv("SEGCORE_WORKSPACE", str(path))
    return path


def start_in(key: str, page: str | None = None) -> AppTest:
    """The app in a browser holding the workspace key ``key`` (its link ``?ws=KEY``)."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.query_params["ws"] = key
    run(at)
    return go(at, page) if page else at


def go(at: AppTest, page: str) -> AppTest:
    at.switch_page(page)
    return run(at)


def count(n) -> str:
    return f"{int(n):,}"


def chart(at: AppTest, title: str) -> dict:
    return next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if json.loads(c.proto.spec)["layout"]["title"]["text"] == title)


TABLES = {"list": "tier_before", "risk": "overdue_ratio", "rising": "next_tier", "calls": "next_contact_date"}


def frame(at: AppTest, kind: str, which: int = 0) -> pd.DataFrame:
    """The ``which``-th table of a kind on the page (tables are told apart by their columns)."""
    return [d.value for d in at.dataframe if TABLES[kind] in d.value.columns][which]


def messages(at: AppTest) -> str:
    return "\n".join(m.value for kind in ("error", "warning", "success", "info") for m in getattr(at, kind))


@pytest.fixture
def media(monkeypatch):
    """The bytes behind a download button: ``media(at, key) -> bytes``; data made on click (a
    callable) is made here as a click makes it."""
    files: dict[str, bytes] = {}
    makers: dict[str, object] = {}
    original = MemoryMediaFileStorage.load_and_get_id
    original_deferred = MediaFileManager.add_deferred

    def recording(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        files[file_id] = self.get_file(file_id).content
        return file_id

    def recording_deferred(self, data_callable, *args, **kwargs):
        file_id = original_deferred(self, data_callable, *args, **kwargs)
        makers[file_id] = data_callable
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", recording)
    monkeypatch.setattr(MediaFileManager, "add_deferred", recording_deferred)

    def get(at: AppTest, key: str) -> bytes:
        proto = at.download_button(key=key).proto
        if proto.deferred_file_id:
            return makers[proto.deferred_file_id]()
        return files[re.search(r"/([0-9a-f]+)(\.\w+)?$", proto.url).group(1)]

    return get


@pytest.fixture(scope="module")
def engine():
    """The sample data as the app loads it, tiered by the engine directly."""
    ds = segcore.load_orders(SAMPLE / "orders.csv")
    segcore.load_customers(ds, SAMPLE / "customers.csv")
    segcore.load_interactions(ds, SAMPLE / "interactions.csv")
    latest = ds.report.date_max

    def tiered(rules=segcore.TierRules(), as_of=None):
        return segcore.assign_tiers(segcore.customer_metrics(ds.con, as_of=as_of or latest), rules)

    return {"ds": ds, "latest": latest, "tiered": tiered, "now": tiered()}


def upload_settings(at: AppTest, name: str, content: bytes) -> AppTest:
    at.file_uploader(key="w_settings_file").set_value((name, content, "application/json"))
    return run(at)


# --- migration -------------------------------------------------------------------------------------

def test_migration_page_matches_the_engine(engine):
    at = start(MIGRATION)
    before = dynamics.previous_as_of(engine["latest"], "quarter")
    assert at.date_input(key="w_mig_before").value == before == date(2026, 7, 31)
    assert at.date_input(key="w_mig_to").value == engine["latest"]
    mig = dynamics.migrate(engine["ds"].con, segcore.TierRules(), before, engine["latest"])
    expected = [count(n) for n in mig.summary["customers"]]
    assert [metric(at, label)[0] for label in MOVES] == expected
    assert sum(mig.summary["customers"]) == len(mig.customers) > 0
    titles = chart_titles(at)
    assert titles[:3] == ["Customers: level before → level after", "Revenue: level before → level after",
                          "Flow between the levels"]
    heat = chart(at, "Customers: level before → level after")["data"][0]
    assert heat["y"] == ["A", "B", "C", "Iron", "New"] and heat["x"] == ["A", "B", "C", "Iron", "Lost"]
    assert heat["text"][0][0].startswith(count(mig.customers_matrix.loc["A", "A"]))
    flows = chart(at, "Flow between the levels")["data"][0]["link"]["customdata"]
    assert len(flows) == len(mig.links)
    # the upgraded list, biggest first, and its downloads
    listed = frame(at, "list")
    assert listed["customer_id"].tolist() == mig.list("upgraded")["customer_id"].tolist()
    assert {"w_dates_dl_csv", "w_dates_dl_xlsx", "w_dates_dl_all"} <= {b.key for b in at.download_button}


def test_migration_period_and_lists(engine):
    at = start(MIGRATION)
    at.segmented_control(key="w_mig_period").set_value("month")
    run(at)
    month = dynamics.migrate(engine["ds"].con, segcore.TierRules(), date(2026, 9, 30), engine["latest"])
    assert at.date_input(key="w_mig_before").value == date(2026, 9, 30)
    assert [metric(at, label)[0] for label in MOVES] == [count(n) for n in month.summary["customers"]]
    at.segmented_control(key="w_dates_list").set_value("lost")
    run(at)
    assert frame(at, "list")["customer_id"].tolist() == month.list("lost")["customer_id"].tolist()
    # custom: any earlier date
    at.segmented_control(key="w_mig_period").set_value("custom")
    run(at)
    at.date_input(key="w_mig_before").set_value(date(2025, 12, 31))
    run(at)
    custom = dynamics.migrate(engine["ds"].con, segcore.TierRules(), date(2025, 12, 31), engine["latest"])
    assert [metric(at, label)[0] for label in MOVES] == [count(n) for n in custom.summary["customers"]]
    assert custom.summary["customers"].tolist() != month.summary["customers"].tolist()


# --- churn warning ---------------------------------------------------------------------------------

def at_risk(engine, k=2.0, drop_share=0.5, lapse_days=180, rules=segcore.TierRules()):
    tiered = engine["tiered"](rules)
    levels = [*rules.labels, rules.prospect_label]
    return dynamics.churn_risk(tiered, levels, k=k, drop_share=drop_share, lapse_days=lapse_days)


def test_churn_page_matches_the_engine(engine):
    at = start(CHURN)
    risk = at_risk(engine)
    assert metric(at, "Customers at risk") == [count(len(risk))]
    for level in ("high", "medium", "low"):
        assert metric(at, f"{level.capitalize()} risk") == [count((risk["risk"] == level).sum())]
    table = frame(at, "risk")
    assert table["customer_id"].tolist() == risk["customer_id"].tolist()      # high tiers first
    assert table["reason"].tolist() == risk["reason"].tolist()
    assert set(table["risk"]) <= {"High risk", "Medium risk", "Low risk"}
    bars = chart(at, "Customers at risk per tier")["data"]
    assert sum(sum(values(b["y"])) for b in bars) == len(risk)
    # rising customers and lifecycle stages
    rising = dynamics.rising_customers(engine["now"], ["A", "B", "C", "Iron"], min_trend=0.5)
    assert frame(at, "rising")["customer_id"].tolist() == rising["customer_id"].tolist()
    life = dynamics.lifecycle(engine["ds"].con, engine["now"])
    stages = chart(at, "Customers per tier and lifecycle stage")["data"]
    drawn = {bar["name"]: sum(values(bar["y"])) for bar in stages}
    assert drawn == {name: (life["stage"] == code).sum() for code, name in (
        ("prospect", "Prospect"), ("new", "New"), ("reactivated", "Reactivated"), ("lapsed", "Lapsed"),
        ("at risk", "At risk"), ("active", "Active"))}
    rules = [t.value for t in at.table]  # the risk rules first, the lifecycle stages last
    assert rules[-1].iloc[:, 0].tolist() == ["Prospect", "New", "Reactivated", "Lapsed", "At risk", "Active"]
    assert rules[-1].iloc[:, 1].tolist() == dynamics.lifecycle_rules()["rule"].tolist()


def test_k_slider_changes_the_at_risk_count(engine):
    at = start(CHURN)
    default = metric(at, "Customers at risk")
    at.slider(key="w_churn_k").set_value(3.0)
    run(at)
    strict = at_risk(engine, k=3.0)
    assert metric(at, "Customers at risk") == [count(len(strict))]
    assert metric(at, "Customers at risk") != default
    at.slider(key="w_churn_drop").set_value(80)
    run(at)
    assert metric(at, "Customers at risk") == [count(len(at_risk(engine, k=3.0, drop_share=0.8)))]
    at.pills(key="w_risk_tiers").set_value(["A"])
    run(at)
    only_a = at_risk(engine, k=3.0, drop_share=0.8)
    only_a = only_a[only_a["tier"] == "A"]
    assert frame(at, "risk")["customer_id"].tolist() == only_a["customer_id"].tolist()
    # the setting survives a page switch
    go(at, OVERVIEW)
    go(at, CHURN)
    assert at.slider(key="w_churn_k").value == 3.0


# --- playbook --------------------------------------------------------------------------------------

def test_playbook_page_matches_the_engine(engine):
    at = start(PLAYBOOK)
    editor = at.data_editor[0].value
    defaults = playbook.default_playbook(("A", "B", "C"), "Iron")
    assert editor["level"].tolist() == ["A", "B", "C", "Iron"]
    assert editor["cadence_days"].tolist() == [p["cadence_days"] for p in defaults]
    assert editor["strategy"].tolist() == [p["strategy"] for p in defaults]
    calls = playbook.follow_ups(engine["now"], defaults, lapse_days=180)
    calls = calls[~calls["lapsed"]]   # lapsed customers are on the win-back list instead
    for status, label in (("overdue", "Overdue"), ("due", "Due within 7 days"), ("scheduled", "Later")):
        assert metric(at, label) == [count((calls["status"] == status).sum())]
    table = frame(at, "calls")
    assert table["customer_id"].tolist() == calls["customer_id"].tolist()[:len(table)]
    assert {"w_fu_dl_csv", "w_fu_dl_xlsx"} <= {b.key for b in at.download_button}
    # filter: tier A, due soon
    at.pills(key="w_fu_tiers").set_value(["A"])
    at.pills(key="w_fu_status").set_value(["due"])
    run(at)
    wanted = calls[(calls["tier"] == "A") & (calls["status"] == "due")]
    assert 0 < len(wanted) < len(calls)
    assert frame(at, "calls")["customer_id"].tolist() == wanted["customer_id"].tolist()


def test_lapsed_customers_leave_the_call_list_for_a_win_back_list():
    from tests.test_app import upload
    from tests.test_app_count_only import VISITS

    # the visit log with an amount of 10 a line; as-of 2024-06-30: E last bought 2024-01-01,
    # 181 days ago (over the 180 days after which the Churn page calls a customer lapsed)
    priced = b"\n".join(line + (b",amount" if i == 0 else b",10") for i, line in enumerate(VISITS.splitlines()))
    at = go(upload(start(), "visits.csv", priced + b"\n"), PLAYBOOK)
    assert frame(at, "calls")["customer_id"].tolist() == ["D", "C", "B", "A"]
    assert [metric(at, m) for m in ("Overdue", "Due within 7 days", "Later")] == [["3"], ["0"], ["1"]]
    assert frame(at, "calls", 1)["customer_id"].tolist() == ["E"]   # the win-back list
    assert ("Customers silent for longer than 180 days (the “lapsed” threshold on the Churn warning page): 1. "
            "Not a routine follow-up but a win-back offer; most overdue first.") in [c.value for c in at.caption]
    assert {"w_wb_dl_csv", "w_wb_dl_xlsx"} <= {b.key for b in at.download_button}
    at.toggle(key="w_fu_lapsed").set_value(True)   # the filter brings them back
    run(at)
    assert frame(at, "calls")["customer_id"].tolist() == ["D", "C", "E", "B", "A"]
    assert metric(at, "Overdue") == ["4"]
    at.toggle(key="w_fu_lapsed").set_value(False)
    run(at)
    at = go(at, CHURN)   # a longer threshold there: E is no longer lapsed
    at.number_input(key="w_lapse_days").set_value(200)
    run(at)
    at = go(at, PLAYBOOK)
    assert frame(at, "calls")["customer_id"].tolist() == ["D", "C", "E", "B", "A"]
    assert "No lapsed customers: nobody has been silent for longer than 200 days." in [c.value for c in at.caption]


def test_playbook_edit_changes_the_follow_up_dates(engine):
    at = start(PLAYBOOK)
    key = at.data_editor[0].key
    at.session_state[key] = {"edited_rows": {0: {"cadence_days": 7}}, "added_rows": [], "deleted_rows": []}
    run(at)
    edited = playbook.default_playbook(("A", "B", "C"), "Iron")
    edited[0]["cadence_days"] = 7
    calls = playbook.follow_ups(engine["now"], edited, lapse_days=180)
    calls = calls[~calls["lapsed"]]
    before = playbook.follow_ups(engine["now"], playbook.default_playbook(("A", "B", "C"), "Iron"), lapse_days=180)
    before = before[~before["lapsed"]]
    assert metric(at, "Overdue") == [count((calls["status"] == "overdue").sum())]
    assert metric(at, "Overdue") != [count((before["status"] == "overdue").sum())]
    at.pills(key="w_fu_tiers").set_value(["A"])
    run(at)
    table = frame(at, "calls")
    a_calls = calls[calls["tier"] == "A"]
    assert table["customer_id"].tolist() == a_calls["customer_id"].tolist()
    assert (table["cadence_days"] == 7).all()
    first = a_calls.iloc[0]
    last = max(d for d in (first["last_order_date"], first["last_interaction_date"]) if pd.notna(d))
    assert pd.Timestamp(table["next_contact_date"].iloc[0]) == pd.Timestamp(last) + pd.Timedelta(days=7)
    # kept across pages, and back to the defaults with one click
    go(at, OVERVIEW)
    go(at, PLAYBOOK)
    assert at.data_editor[0].value["cadence_days"].tolist()[0] == 7
    at.button(key="w_pb_reset").click()
    run(at)
    assert at.data_editor[0].value["cadence_days"].tolist()[0] == 14


# --- settings file ---------------------------------------------------------------------------------

def test_settings_download_then_upload_gives_the_same_tiers(engine, media):
    at = start(OVERVIEW)
    at.slider(key="w_cut_a_value").set_value(70)
    for i, label in enumerate(["金钻", "白银", "铜"]):
        at.text_input(key=f"w_label_{i}").input(label)
    run(at)
    tiers_before = metric(at, "Customers")
    go(at, CHURN)
    at.slider(key="w_churn_k").set_value(3.0)
    run(at)
    risk_before = metric(at, "Customers at risk")
    go(at, "app.py")
    text = media(at, "w_settings_download")
    saved = json.loads(text)
    assert saved["labels"] == ["金钻", "白银", "铜"] and saved["cuts"] == [0.7, 0.95] and saved["churn_k"] == 3.0
    assert saved["as_of"] == "latest"

    fresh = start()
    upload_settings(fresh, "segcore_settings.json", text)
    assert "Settings from segcore_settings.json applied." in messages(fresh)
    go(fresh, OVERVIEW)
    assert fresh.slider(key="w_cut_a_value").value == 70
    assert metric(fresh, "Customers") == tiers_before
    # the same file gives the same tiers in the engine (as the command line reads it)
    settings = segcore.Settings.from_json(text)
    summary = segcore.tier_summary(engine["tiered"](settings.tier_rules()), settings.labels)
    assert list(summary["tier"]) == ["金钻", "白银", "铜", "Iron"]
    assert tiers_before == [count(n) for n in summary["customers"]]
    go(fresh, CHURN)
    assert fresh.slider(key="w_churn_k").value == 3.0
    assert metric(fresh, "Customers at risk") == risk_before == [
        count(len(at_risk(engine, k=3.0, rules=settings.tier_rules())))]


@pytest.mark.parametrize("content, words", [
    (b"{not json", "is not valid JSON"),
    (b'{"labels": ["A", "B", "C"], "colour": "blue"}', "Unknown setting 'colour'"),
    (b'{"churn_k": -1}', "'churn_k' must be a number above 0, up to 100; got -1."),
    (b"\x89PNG\r\n\x1a\n" + bytes(50), "not UTF-8"),
])
def test_a_bad_settings_file_shows_a_message_and_changes_nothing(content, words):
    at = start()
    upload_settings(at, "broken.json", content)
    errors = [e.value for e in at.error]
    assert len(errors) == 1
    assert errors[0].startswith("broken.json cannot be used as a settings file, nothing was changed.")
    assert words in errors[0] and "Traceback" not in errors[0]
    go(at, OVERVIEW)
    assert at.slider(key="w_cut_a_value").value == 80


def test_the_settings_section_speaks_chinese():
    at = start()
    at.segmented_control(key="w_lang").set_value("zh")
    run(at)
    upload_settings(at, "坏文件.json", b"[1, 2]")
    assert at.error[0].value.startswith("坏文件.json 不是可用的设置文件，未做任何更改。")
    assert at.download_button(key="w_settings_download").label == "下载当前设置"


# --- workspace -------------------------------------------------------------------------------------

def test_saved_data_settings_and_snapshots_survive_a_restart(engine, workspace_file):
    # first server: save the data, a snapshot of 2026-06-30 and named settings
    at = start()
    at.segmented_control(key="w_source").set_value("saved")
    run(at)
    assert "Nothing saved yet" in messages(at)
    at.text_input(key="w_ws_name").input("Tea shop 2026")
    at.button(key="w_ws_save").click()
    run(at)
    assert "Saved as “Tea shop 2026”; it is now the data in use." in messages(at)
    at.text_input(key="w_set_name").input("monthly")
    at.button(key="w_set_save").click()
    run(at)
    go(at, MIGRATION)
    june = date(2026, 6, 30)
    at.date_input(key="w_mig_to").set_value(june)   # the "to" date is the sidebar's as-of date
    run(at)
    assert at.date_input(key="w_as_of").value == june
    at.text_input(key="w_snap_name").input("June review")
    at.button(key="w_snap_save").click()
    run(at)
    assert "Snapshot of 2026-06-30 saved." in messages(at)

    # the engine, restarted, sees what was saved in this browser's workspace
    key = at.query_params["ws"]
    ws = Workspace(workspace_file, key=key)
    assert Workspace(workspace_file).list_datasets().empty   # not in the shared one
    assert ws.list_datasets()["name"].tolist() == ["Tea shop 2026"]
    assert ws.list_settings()["name"].tolist() == ["monthly"]
    (snap_id,) = ws.list_snapshots()["id"]
    snap = ws.load_snapshot(snap_id)
    assert (snap.as_of, snap.name, snap.dataset) == (june, "June review", "Tea shop 2026")
    assert len(snap.tiers) == len(engine["now"])

    # a new server (a new AppTest), the same browser: open the dataset, compare with the snapshot, delete both
    at = start_in(key)
    assert "Reopened the saved dataset “Tea shop 2026” from" in messages(at)
    assert at.segmented_control(key="w_source").value == "saved"
    assert at.date_input(key="w_as_of").value == june   # the settings of the last session
    at.date_input(key="w_as_of").set_value(engine["latest"])
    run(at)
    assert at.selectbox(key="w_ws_dataset").value == "Tea shop 2026"
    assert metric(at, "Rows used") == [count(engine["ds"].report.rows_used)]
    assert any("Tea shop 2026" in c.value for c in at.sidebar.caption)   # the data in use
    assert at.selectbox(key="w_set_pick").options == ["monthly"]
    go(at, MIGRATION)
    mig = dynamics.compare_tiers(snap.tiers, engine["now"], ("A", "B", "C"), as_of_before=june,
                                 as_of_after=engine["latest"], prospect_label="Iron")
    assert at.selectbox(key="w_snap_pick").value == snap_id
    assert [metric(at, label)[-1] for label in MOVES] == [count(n) for n in mig.summary["customers"]]
    assert frame(at, "list", -1)["customer_id"].tolist() == mig.list("upgraded")["customer_id"].tolist()
    at.button(key="w_snap_delete").click()
    run(at)
    assert "No snapshot saved yet." in messages(at)
    go(at, "app.py")
    at.button(key="w_ws_delete").click()
    run(at)
    assert "Nothing saved yet" in messages(at)
    assert ws.list_datasets().empty and ws.list_snapshots().empty


def test_the_save_box_names_the_saved_dataset_just_opened():
    at = start()
    at.segmented_control(key="w_source").set_value("saved")
    run(at)
    for name in ("Tea 2025", "Tea 2026"):   # the sample saved twice, through the save box
        at.text_input(key="w_ws_name").input(name)
        at.button(key="w_ws_save").click()
        run(at)
    assert at.selectbox(key="w_ws_dataset").value == "Tea 2026"
    assert at.text_input(key="w_ws_name").value == "Tea 2026"
    at.selectbox(key="w_ws_dataset").set_value("Tea 2025")
    run(at)
    assert at.text_input(key="w_ws_name").value == "Tea 2025"   # not the dataset shown before
    assert any("Tea 2025" in c.value for c in at.sidebar.caption)


def test_a_snapshot_with_other_levels_offers_its_rules(engine, workspace_file):
    key = new_workspace_key()
    ws = Workspace(workspace_file, key=key)
    rules = segcore.TierRules(labels=("Gold", "Silver"), cuts=(0.8,))
    settings = segcore.Settings(labels=("Gold", "Silver"), cuts=(0.8,))
    ws.save_snapshot("sample", engine["tiered"](rules, date(2026, 3, 31)), date(2026, 3, 31), settings)
    at = start_in(key, MIGRATION)
    assert "This snapshot has the levels Gold / Silver; the current tiers have A / B / C." in messages(at)
    at.button(key="w_snap_rules").click()
    run(at)
    mig = dynamics.compare_tiers(ws.load_snapshot(ws.list_snapshots()["id"][0]).tiers, engine["tiered"](rules),
                                 ("Gold", "Silver"), as_of_before=date(2026, 3, 31), as_of_after=engine["latest"])
    assert [metric(at, label)[-1] for label in MOVES] == [count(n) for n in mig.summary["customers"]]


def test_an_unusable_workspace_is_explained(tmp_path, monkeypatch):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    monkeypatch.setenv("SEGCORE_WORKSPACE", str(blocker / "ws.duckdb"))
    at = start()
    at.segmented_control(key="w_source").set_value("saved")
    run(at)
    assert "The workspace file cannot be opened" in at.error[0].value
    go(at, MIGRATION)   # the two-date comparison still works
    assert metric(at, "Upgraded")


# --- language ----------------------------------------------------------------------------------------

def test_the_new_pages_in_chinese(engine):
    at = start()
    at.segmented_control(key="w_lang").set_value("zh")
    run(at)
    go(at, MIGRATION)
    assert at.title[0].value == "等级迁移"
    assert metric(at, "升级") and chart_titles(at)[2] == "等级之间的流动"
    go(at, CHURN)
    assert at.title[0].value == "流失预警"
    risk = at_risk(engine)
    table = frame(at, "risk")
    assert table["reason"].tolist() == risk["reason_zh"].tolist()
    assert set(table["risk"]) <= {"高风险", "中风险", "低风险"}
    go(at, PLAYBOOK)
    editor = at.data_editor[0].value
    assert editor["strategy"].tolist() == [p["strategy_zh"] for p in playbook.default_playbook(("A", "B", "C"), "铁")]
    assert editor["level"].tolist()[-1] == "铁"


def csv_rows(raw: bytes) -> list[list[str]]:
    import csv
    import io
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_downloads_follow_the_ui_language_until_the_column_names_choice_changes_them(engine, media):
    import io
    openpyxl = pytest.importorskip("openpyxl")
    at = start()
    at.segmented_control(key="w_lang").set_value("zh")
    run(at)
    go(at, CUSTOMERS)
    assert at.segmented_control(key="w_dl_lang").value == "zh"   # default: the UI language
    assert at.segmented_control(key="w_dl_lang").options == ["中文", "English（供其他系统使用）"]
    rows = csv_rows(media(at, "w_dl_csv"))
    assert rows[0][:4] == ["客户编号", "等级", "未购天数", "订单数"] and "RFM 分群" in rows[0]
    segment = rows[0].index("RFM 分群")
    assert {r[segment] for r in rows[1:]} - {""} <= set(segcore.scores.SEGMENT_NAMES_ZH.values())  # "": prospects
    book = openpyxl.load_workbook(io.BytesIO(media(at, "w_dl_xlsx")))
    assert book.sheetnames == ["汇总", "A", "B", "C", "铁"]   # the prospects level has its Chinese name
    assert [c.value for c in book["汇总"][1]][:3] == ["等级", "客户数", "客户占比"]

    at.segmented_control(key="w_dl_lang").set_value("en")   # for another system
    run(at)
    rows = csv_rows(media(at, "w_dl_csv"))
    assert rows[0][:4] == ["Customer ID", "Tier", "Days since last order", "Orders"]
    assert openpyxl.load_workbook(io.BytesIO(media(at, "w_dl_xlsx"))).sheetnames[0] == "Summary"

    go(at, CHURN)   # the choice holds for every download of the session
    assert at.segmented_control(key="w_ch_dl_lang").value == "en"
    at.segmented_control(key="w_ch_dl_lang").set_value("zh")
    run(at)
    risk = at_risk(engine)
    rows = csv_rows(media(at, "w_ch_dl_csv"))
    assert rows[0][:4] == ["客户编号", "等级", "风险", "原因"]
    assert [r[3] for r in rows[1:]] == risk["reason_zh"].tolist()
    words = {"high": "高风险", "medium": "中风险", "low": "低风险"}
    assert [r[2] for r in rows[1:]] == risk["risk"].map(words).tolist()

    go(at, MIGRATION)
    book = openpyxl.load_workbook(io.BytesIO(media(at, "w_dates_dl_all")))
    assert book.sheetnames == ["汇总", "客户", "客户数矩阵", "收入矩阵", "升级", "降级", "新增", "流失"]
    assert [c.value for c in book["客户数矩阵"]["A"]][-1] == "新客户"


def test_one_day_is_written_in_the_singular():
    from ui import fmt

    assert [fmt.days(n) for n in (0, 1, 1.0, 2)] == ["0 days", "1 day", "1 day", "2 days"]
    at = go(start(), CHURN)
    at.number_input(key="w_lapse_days").set_value(1)
    run(at)
    notes = [c.value for c in at.caption if "count as lapsed" in c.value]
    assert len(notes) == 1 and "no order for more than 1 day count as lapsed" in notes[0]
    at.segmented_control(key="w_lang").set_value("zh")
    run(at)
    assert any("超过 1 天未下单的客户算作沉睡" in c.value for c in at.caption)


def test_why_and_strategy_sentences_wrap_in_taller_rows():
    from ui import tables

    at = go(start(), CHURN)
    risk = next(d for d in at.dataframe if "overdue_ratio" in d.value.columns)
    assert "reason" in risk.value.columns and risk.proto.row_height == tables.WRAP_ROW_HEIGHT > 64
    at = go(at, PLAYBOOK)
    calls = next(d for d in at.dataframe if "next_contact_date" in d.value.columns)
    assert "strategy" in calls.value.columns and calls.proto.row_height == tables.WRAP_ROW_HEIGHT
    at = go(at, "pages/2_Customers.py")   # no sentence column: rows of one line
    assert at.dataframe[0].proto.row_height == 0


YUAN_CSV = ('customer,date,amount\n'
            'K1,2024-01-05,"￥1,200.40"\nK1,2024-02-01,￥300\nK2,2024-02-10,￥150\nK3,2024-03-01,￥20\n').encode()


def test_the_currency_of_the_file_shows_on_the_cards_and_a_chosen_one_goes_everywhere(media):
    from tests.test_app import upload
    at = upload(start(), "yuan.csv", YUAN_CSV)
    go(at, OVERVIEW)
    # 1,670.40 in all: K1 1,500.40 (90% > 80%) is A, K2 150 (98.8% > 95%) is B, K3 20 is C
    assert metric(at, "Revenue") == ["￥1,500", "￥150", "￥20"]
    assert "The amounts in the file carry ￥." in [c.value for c in at.sidebar.caption]

    at.text_input(key="w_currency_symbol").input("€")
    run(at)
    at.segmented_control(key="w_currency_position").set_value("after")
    run(at)
    assert metric(at, "Revenue") == ["1,500 €", "150 €", "20 €"]
    go(at, CUSTOMERS)
    header = media(at, "w_dl_csv").decode("utf-8-sig").splitlines()[0].split(",")
    assert "Net spend (€)" in header and "Average order value (€)" in header and "Tier" in header
    go(at, "app.py")
    saved = json.loads(media(at, "w_settings_download"))
    assert (saved["currency_symbol"], saved["currency_position"]) == ("€", "after")

    at.sidebar.button(key="w_currency_reset").click()   # back to the file's sign
    run(at)
    go(at, OVERVIEW)
    assert metric(at, "Revenue")[0] == "￥1,500"


def test_the_rejected_rows_download_names_row_and_reason_in_the_language(media):
    from tests.test_app import GOOD_CSV, upload
    at = upload(start(), "shop_orders.csv", GOOD_CSV)   # line 6: no customer id
    at.segmented_control(key="w_lang").set_value("zh")
    run(at)
    rows = csv_rows(media(at, "w_dl_rejected"))
    assert rows[0] == ["行号", "order_id", "date", "customer", "amount", "原因"]   # the file's own headers kept
    assert [r[1:] for r in rows[1:]] == [["5", "2024-03-02", "", "70", "缺少客户编号"]]
    at.segmented_control(key="w_lang").set_value("en")
    run(at)
    assert csv_rows(media(at, "w_dl_rejected"))[1][-1] == "missing customer id"
