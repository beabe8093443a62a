"""The Streamlit pages, driven with streamlit.testing.v1.AppTest on the sample data and small files.

Each page must render without an exception and show the numbers the engine computes directly.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import segcore
from segcore import views
from ui import charts, data, i18n, tables

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data"
OVERVIEW = "pages/1_Overview.py"
CUSTOMERS = "pages/2_Customers.py"
TIMEOUT = 120

pytestmark = pytest.mark.skipif(not (SAMPLE / "orders.csv").exists(), reason="sample_data/orders.csv not generated yet")


# --- helpers ---------------------------------------------------------------------------------------

def run(at: AppTest) -> AppTest:
    at.run(timeout=TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    return at


def start(page: str | None = None) -> AppTest:
    at = run(AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT))
    if page:
        at.switch_page(page)
        run(at)
    return at


def metrics(at: AppTest, label: str) -> list[str]:
    return [m.value for m in at.main.metric if m.label == label]


def chart_titles(at: AppTest) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def values(v) -> list:
    """Plotly data values: plain lists, or typed arrays ``{"dtype", "bdata"}`` (base64)."""
    if isinstance(v, dict) and "bdata" in v:
        import base64

        import numpy as np
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).tolist()
    return list(v)


def text_of(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [t.value for t in at.title]
    parts += [s.value for s in at.subheader] + [e.value for e in at.error] + [i.value for i in at.info]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def engine():
    """The sample data tiered by the engine directly, with the app's default settings."""
    ds = segcore.load_orders(SAMPLE / "orders.csv")
    segcore.load_customers(ds, SAMPLE / "customers.csv")
    segcore.load_interactions(ds, SAMPLE / "interactions.csv")
    metrics_table = segcore.customer_metrics(ds.con)

    def tiers(cuts=(0.8, 0.95), by="value", labels=("A", "B", "C"), prospect="Iron"):
        rules = segcore.TierRules(labels=labels, cuts=cuts, by=by, prospect_label=prospect)
        tiered = segcore.assign_tiers(metrics_table, rules)
        return tiered, segcore.tier_summary(tiered, labels)

    return {"ds": ds, "metrics": metrics_table, "tiers": tiers}


def upload(at: AppTest, name: str, content: bytes, role: str = "orders") -> AppTest:
    if at.segmented_control(key="w_source").value != "upload":
        at.segmented_control(key="w_source").set_value("upload")
        run(at)
    at.file_uploader(key=f"w_upload_{role}").set_value((name, content, "text/csv"))
    return run(at)


GOOD_CSV = (
    "order_id,date,customer,amount\n"
    "1,2024-01-05,K1,500\n"
    "2,2024-02-01,K1,300\n"
    "3,2024-02-10,K2,150\n"
    "4,2024-03-01,K3,20\n"
    "5,2024-03-02,,70\n"          # no customer id: rejected
    "6,2024-03-03,K2,-20\n"        # a return
).encode()


# --- the data page ---------------------------------------------------------------------------------

def test_data_page_shows_the_sample_import_report(engine):
    at = start()
    rep = engine["ds"].report
    assert metrics(at, "Rows read") == [f"{rep.rows_read:,}"]
    assert metrics(at, "Rows used") == [f"{rep.rows_used:,}"]
    assert metrics(at, "Rows rejected") == [f"{rep.rows_rejected:,}"]
    assert metrics(at, "Customers") == [f"{rep.customers:,}"]
    text = text_of(at)
    assert "missing customer id: **388**" in text
    assert f"{rep.returns_count:,} lines" in text
    assert at.download_button(key="w_dl_rejected").label == "Download rejected rows (CSV)"
    # every canonical field has a select box showing the recognised column
    for field, header in rep.mapping.items():
        assert at.selectbox(key=f"w_map_{field}").value == header
    assert not at.error


def test_mapping_change_reparses_and_can_be_undone(engine):
    at = start()
    at.selectbox(key="w_map_order_id").set_value("")   # forget the order ids: one order per customer-day
    run(at)
    assert at.selectbox(key="w_map_order_id").value == ""
    assert metrics(at, "Rows used") == [f"{engine['ds'].report.rows_used:,}"]
    at.selectbox(key="w_map_order_id").set_value("Order ID")
    run(at)
    assert at.selectbox(key="w_map_order_id").value == "Order ID"


# --- the overview ----------------------------------------------------------------------------------

def test_overview_cards_match_the_engine(engine):
    at = start(OVERVIEW)
    _, summary = engine["tiers"]()
    assert list(summary["tier"]) == ["A", "B", "C", "Iron"]
    assert metrics(at, "Customers") == [f"{n:,}" for n in summary["customers"]]
    assert metrics(at, "Share of customers") == [
        "–" if pd.isna(s) else f"{s * 100:.1f}%" for s in summary["customer_share"]]
    assert metrics(at, "Share of revenue") == [f"{s * 100:.1f}%" for s in summary["revenue_share"]]
    assert metrics(at, "Revenue")[0] == f"{summary['revenue'][0] / 1e6:.2f}M"
    assert metrics(at, "Avg. days since last order") == [f"{d:,.0f}" for d in summary["avg_recency_days"][:3]] + ["–"]
    assert chart_titles(at) == [
        "Each tier's share of customers and of revenue",
        "Pareto curve: how much of the revenue the top customers bring",
        "Net spend per customer", "Orders per customer", "Days since the last order"]


def test_overview_pareto_curve_draws_the_cut_points(engine):
    at = start(OVERVIEW)
    tiered, _ = engine["tiers"]()
    cuts = views.pareto_cuts(tiered)
    spec = json.loads(at.get("plotly_chart")[1].proto.spec)
    markers = [(values(tr["x"])[0], values(tr["y"])[0]) for tr in spec["data"] if tr.get("mode") == "markers"]
    expected = list(zip(cuts["customer_share_end"], cuts["revenue_share_end"]))
    assert len(markers) == len(expected)
    for got, want in zip(markers, expected):
        assert got == pytest.approx(want)
    notes = [a["text"] for a in spec["layout"]["annotations"]]
    assert notes[0] == (f"A: top {cuts['customer_share_end'][0] * 100:.1f}% of customers → "
                        f"{cuts['revenue_share_end'][0] * 100:.1f}% of revenue")
    # the bands behind the curve use the fixed tier colours
    assert [s["fillcolor"] for s in spec["layout"]["shapes"]] == list(charts.TIER_COLORS[:3])


def test_slider_changes_the_tier_counts(engine):
    at = start(OVERVIEW)
    at.slider(key="w_cut_a_value").set_value(60)
    run(at)
    _, summary = engine["tiers"](cuts=(0.6, 0.95))
    assert metrics(at, "Customers") == [f"{n:,}" for n in summary["customers"]]
    _, default = engine["tiers"]()
    assert summary["customers"][0] < default["customers"][0]

    at.segmented_control(key="w_by").set_value("count")   # top 20% / next 30% of customers
    run(at)
    _, by_count = engine["tiers"](cuts=(0.2, 0.5), by="count")
    assert metrics(at, "Customers") == [f"{n:,}" for n in by_count["customers"]]
    assert at.slider(key="w_cut_a_count").label == "A: top share of customers"


def test_settings_survive_page_switches(engine):
    at = start(OVERVIEW)
    at.slider(key="w_cut_a_value").set_value(70)
    at.date_input(key="w_as_of").set_value(engine["ds"].report.date_max.replace(month=6, day=30))
    run(at)
    counts = metrics(at, "Customers")
    at.switch_page(CUSTOMERS)
    run(at)
    assert at.slider(key="w_cut_a_value").value == 70
    at.switch_page(OVERVIEW)
    run(at)
    assert at.slider(key="w_cut_a_value").value == 70
    assert at.date_input(key="w_as_of").value == engine["ds"].report.date_max.replace(month=6, day=30)
    assert metrics(at, "Customers") == counts


def test_tier_labels_are_editable():
    at = start(OVERVIEW)
    for i, label in enumerate(["金钻", "白银", "铜"]):
        at.text_input(key=f"w_label_{i}").input(label)
    at.text_input(key="w_prospect_label").input("铁")
    run(at)
    cards = [m.value for m in at.main.markdown if "border-left" in m.value]
    assert [re.sub(r"<[^>]+>", "", c) for c in cards] == ["金钻", "白银", "铜", "铁"]
    at.text_input(key="w_label_1").input("金钻")   # duplicate: refused with a warning
    run(at)
    assert at.sidebar.warning and "A / B / C" in at.sidebar.warning[0].value


# --- the customers page ------------------------------------------------------------------------------

def test_customers_page_lists_everyone_in_rank_order(engine):
    at = start(CUSTOMERS)
    tiered, _ = engine["tiers"]()
    table = at.dataframe[0].value
    assert table["customer_id"].tolist() == views.customer_list(tiered)["customer_id"].tolist()
    assert f"{len(tiered):,} of {len(tiered):,} customers" in text_of(at)
    assert {b.key for b in at.download_button} == {"w_dl_csv", "w_dl_xlsx"}


def test_customers_filter_search_and_sort(engine):
    at = start(CUSTOMERS)
    tiered, _ = engine["tiers"]()
    at.pills(key="w_cust_tiers").set_value(["B"])
    at.text_input(key="w_cust_search").input("茶")
    at.selectbox(key="w_cust_sort").set_value("recency_days")
    at.toggle(key="w_cust_desc").set_value(True)
    run(at)
    expected = views.customer_list(tiered, tiers=["B"], search="茶", sort_by="recency_days", descending=True)
    assert 0 < len(expected) < len(tiered)
    assert at.dataframe[0].value["customer_id"].tolist() == expected["customer_id"].tolist()
    assert f"{len(expected):,} of {len(tiered):,} customers" in text_of(at)
    assert at.segmented_control(key="w_dl_scope").options[0] == f"Current filter ({len(expected):,})"


def test_date_axes_are_written_in_the_ui_language():
    """The orders chart's ticks read "2025年1月" in Chinese and "Jan 2025" in English (plotly's
    time formats per tick distance); the hover shows the ISO date."""
    at = start(CUSTOMERS)
    at.selectbox(key="w_cust_selected").set_value("C00001")
    run(at)

    def axis():
        spec = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                    if json.loads(c.proto.spec)["layout"]["xaxis"].get("type") == "date")
        x = spec["layout"]["xaxis"]
        return x["hoverformat"], [(s["dtickrange"], s["value"]) for s in x["tickformatstops"]]

    assert axis() == ("%Y-%m-%d", [([None, "M1"], "%b %-d, %Y"), (["M1", "M12"], "%b %Y"), (["M12", None], "%Y")])
    at.segmented_control(key="w_lang").set_value("zh")
    run(at)
    assert chart_titles(at)[-2] == "历史订单"
    assert axis() == ("%Y-%m-%d", [([None, "M1"], "%Y年%-m月%-d日"), (["M1", "M12"], "%Y年%-m月"),
                                   (["M12", None], "%Y年")])


def test_customer_profile_matches_the_engine(engine):
    at = start(CUSTOMERS)
    tiered, _ = engine["tiers"]()
    at.selectbox(key="w_cust_selected").set_value("C00001")
    run(at)
    row = tiered[tiered["customer_id"] == "C00001"].iloc[0]
    assert metrics(at, "Net spend") == [f"{row['monetary']:,.2f}"]
    assert metrics(at, "Orders") == [f"{row['frequency']:,}"]
    assert metrics(at, "Rank by spend") == [f"{row['rank']} of {tiered['rank'].notna().sum():,}"]
    assert metrics(at, "Days since last order") == [f"{row['recency_days']} days"]
    assert f"C00001 · {row['name']}" in text_of(at)
    assert chart_titles(at)[-2:] == ["Orders over time", "Where this customer sits on the Pareto curve"]
    orders = views.customer_orders(engine["ds"].con.cursor(), "C00001")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert sum(values(spec["data"][0]["y"])) == pytest.approx(orders["amount"].sum())
    assert pytest.approx(orders["amount"].sum(), abs=0.01) == row["monetary"]
    products, interactions = at.dataframe[1].value, at.dataframe[2].value
    assert products["product"].tolist() == views.customer_products(engine["ds"].con.cursor(), "C00001")["product"].tolist()
    assert len(interactions) == len(views.customer_interactions(engine["ds"].con.cursor(), "C00001"))
    # the pick survives a page switch
    at.switch_page(OVERVIEW)
    run(at)
    at.switch_page(CUSTOMERS)
    run(at)
    assert at.selectbox(key="w_cust_selected").value == "C00001"


def test_prospect_profile():
    at = start(CUSTOMERS)
    at.text_input(key="w_cust_search").input("C03400")   # prospects come last: narrow the list first
    run(at)
    at.selectbox(key="w_cust_selected").set_value("C03400")   # in customers.csv, never bought
    run(at)
    assert "A prospect" in text_of(at)
    assert metrics(at, "Rank by spend") == ["–"]


# --- language ----------------------------------------------------------------------------------------

def test_language_switch_translates_labels_charts_and_headers():
    at = start(OVERVIEW)
    at.slider(key="w_cut_a_value").set_value(75)
    run(at)
    counts = metrics(at, "Customers")
    at.segmented_control(key="w_lang").set_value("zh")
    run(at)
    assert at.title[0].value == "总览"
    assert at.slider(key="w_cut_a_value").label == "A 级截至累计收入占比"
    assert metrics(at, "客户数")[:1] and metrics(at, "收入占比")
    assert chart_titles(at)[1] == "帕累托曲线：头部客户贡献了多少收入"
    assert metrics(at, "客户数") == counts   # the same tiers, only the words changed
    assert metrics(at, "收入")[0].endswith("万")
    at.switch_page(CUSTOMERS)
    run(at)
    assert at.title[0].value == "客户"
    assert at.text_input(key="w_cust_search").label == "按编号或名称搜索"
    assert "净消费" in at.selectbox(key="w_cust_sort").options
    at.switch_page("app.py")
    run(at)
    assert metrics(at, "读取行数") and "缺少客户编号" in text_of(at)


def test_every_text_has_both_languages_with_the_same_placeholders():
    en_texts, zh_texts = i18n.TEXTS["en"], i18n.TEXTS["zh"]
    assert en_texts.keys() == zh_texts.keys()
    for key, en in en_texts.items():
        zh = zh_texts[key]
        assert en.strip() and zh.strip(), key
        assert set(re.findall(r"{(\w+)}", en)) == set(re.findall(r"{(\w+)}", zh)), key
    for reason in (*segcore.ingest.REASONS, "duplicate customer id"):  # named in segcore/locales
        assert segcore.export.value_names("zh")["reason"][reason] != reason
    for field in segcore.CANONICAL_FIELDS:
        assert i18n.has(f"field_{field}")
    for column in segcore.EXPORT_COLUMNS:  # named in segcore/locales
        assert segcore.export.column_name(column, "zh") != column


# --- uploads -----------------------------------------------------------------------------------------

def test_upload_a_good_file():
    at = upload(start(), "shop_orders.csv", GOOD_CSV)
    assert not at.error
    assert metrics(at, "Rows read") == ["6"]
    assert metrics(at, "Rows used") == ["5"]
    assert metrics(at, "Customers") == ["3"]
    assert "missing customer id: **1**" in text_of(at)
    assert at.selectbox(key="w_map_customer_id").value == "customer"
    assert any("shop_orders.csv" in c.value for c in at.sidebar.caption)   # the data in use
    at.switch_page(OVERVIEW)
    run(at)
    # of 950: K1 800 (84.2%) reaches 80% alone: A; K2 130 (net of its return) is B, K3 20 is C
    assert metrics(at, "Customers") == ["1", "1", "1"]
    assert metrics(at, "Share of revenue") == ["84.2%", "13.7%", "2.1%"]
    at.switch_page(CUSTOMERS)
    run(at)
    assert at.dataframe[0].value["customer_id"].tolist() == ["K1", "K2", "K3"]


def test_exact_duplicates_are_counted_once_per_file_and_can_be_dropped(monkeypatch):
    # two more copies of order 2's line: 8 rows read, 2 exact duplicates
    at = upload(start(), "copies.csv", GOOD_CSV + b"2,2024-02-01,K1,300\n2,2024-02-01,K1,300\n")
    assert metrics(at, "Rows read") == ["8"]
    assert "- **Exact duplicate rows:** 2 (kept)" in text_of(at)
    assert "counting" not in text_of(at)

    def read_again(*args):
        raise AssertionError("the duplicates of this file were counted already")

    monkeypatch.setattr(segcore.ingest, "_duplicate_rows", read_again)
    at.toggle(key="w_drop_dup").set_value(True)   # the file is parsed again, its duplicates known
    run(at)
    assert "- **Exact duplicate rows:** 2 (dropped)" in text_of(at)
    assert metrics(at, "Rows used") == ["5"] and "- duplicate row (dropped): **2**" in text_of(at)


def test_uploads_are_saved_by_content_and_old_ones_pruned(tmp_path, monkeypatch):
    import io
    import os
    import time

    monkeypatch.setattr(data, "UPLOAD_DIR", tmp_path)
    old, fresh = tmp_path / ("a" * 64), tmp_path / ("b" * 64)
    for folder, age_days in ((old, data.UPLOAD_KEEP_DAYS + 1), (fresh, data.UPLOAD_KEEP_DAYS - 1)):
        folder.mkdir()
        (folder / "orders.csv").write_text("x")
        then = time.time() - age_days * 86400
        os.utime(folder, (then, then))
    upload_file = io.BytesIO(GOOD_CSV)
    upload_file.name, upload_file.size = "../shop:orders.csv", len(GOOD_CSV)
    ref = data.save_upload(upload_file)
    assert Path(ref.path).read_bytes() == GOOD_CSV and ref.name == "shop_orders.csv"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, ref.sha])   # the old one is gone


def test_upload_a_gbk_file_with_chinese_headers():
    text = "客户编号,订单日期,实付金额,商品名称\nC01,2024/01/05,￥1200.50,龙井\nC02,2024/01/06,300,普洱\nC01,20240301,\"1,000\",白茶\n"
    at = upload(start(), "订单导出.csv", text.encode("gbk"))
    assert not at.error
    assert metrics(at, "Rows used") == ["3"]
    assert metrics(at, "Customers") == ["2"]
    assert at.selectbox(key="w_map_customer_id").value == "客户编号"
    assert at.selectbox(key="w_map_order_date").value == "订单日期"
    assert at.selectbox(key="w_map_amount").value == "实付金额"
    assert "GB18030" in text_of(at) or "GBK" in text_of(at)
    at.switch_page(CUSTOMERS)
    run(at)
    table = at.dataframe[0].value
    assert table["customer_id"].tolist() == ["C01", "C02"]
    assert table["monetary"].tolist() == [2200.5, 300.0]


def test_a_bad_file_gets_a_plain_message_and_the_previous_data_stays():
    at = upload(start(), "photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    assert len(at.error) == 1
    assert "photo.csv is not a table" in at.error[0].value
    assert "Traceback" not in at.error[0].value
    assert "sample" in text_of(at).lower()   # the other pages keep the last data that worked
    at.switch_page(OVERVIEW)
    run(at)
    assert metrics(at, "Customers")[0] != "0"
    at.switch_page("app.py")
    run(at)
    at.segmented_control(key="w_lang").set_value("zh")
    run(at)
    assert "photo.csv 不是表格文件" in at.error[0].value


def test_empty_and_unrecognised_files_are_explained_and_can_be_mapped_by_hand():
    at = upload(start(), "empty.csv", b"")
    assert "empty.csv contains no data rows." in at.error[0].value
    at = upload(start(), "odd.csv", b"who,when,how much\nX1,2024-01-01,10\nX2,2024-01-02,20\n")
    message = at.error[0].value
    assert "No column for the customer id and the order date and the amount" in message
    assert "who, when, how much" in message and "Choose the right columns below" in message
    at.selectbox(key="w_map_customer_id").set_value("who")
    at.selectbox(key="w_map_order_date").set_value("when")
    at.selectbox(key="w_map_amount").set_value("how much")
    run(at)
    assert not at.error
    assert metrics(at, "Rows used") == ["2"]


JOURNEY_CSV = (
    "household_id,basket_id,sales_value,transaction_timestamp\n"
    "H1,B1,2.50,2024-01-05 10:00:00\n"
    "H1,B2,4.00,2024-02-01 11:30:00\n"
    "H2,B3,1.25,2024-02-10 09:15:00\n"
    "H3,B4,8.00,2024-03-01 18:45:00\n"
).encode()


def test_columns_chosen_one_after_the_other_add_up():
    """Headers the engine does not know: each choice keeps the ones before, and the file loads
    once customer, date and amount are chosen (3 households, 4 baskets)."""
    at = upload(start(), "journey.csv", JOURNEY_CSV)
    assert "No column for the customer id" in at.error[0].value
    for field, header in (("customer_id", "household_id"), ("order_date", "transaction_timestamp"),
                          ("amount", "sales_value"), ("order_id", "basket_id")):
        at.selectbox(key=f"w_map_{field}").set_value(header)
        run(at)
    assert not at.error
    assert at.selectbox(key="w_map_customer_id").value == "household_id"
    assert at.selectbox(key="w_map_order_date").value == "transaction_timestamp"
    assert at.selectbox(key="w_map_amount").value == "sales_value"
    assert at.selectbox(key="w_map_order_id").value == "basket_id"
    assert metrics(at, "Customers") == ["3"]
    assert metrics(at, "Rows used") == ["4"]
    assert any("journey.csv" in c.value for c in at.sidebar.caption)   # now the data in use


def test_how_the_file_was_read_is_said_in_both_languages():
    # lines in two encodings, and NUL bytes
    data = ("customer,date,amount\n张三,2024-01-01,5\n".encode() + "李四,2024-01-02,7\n".encode("gbk")
            + b"W\x00u,2024-01-03,9\n")
    at = upload(start(), "mixed.csv", data)
    assert not at.error and metrics(at, "Customers") == ["3"]
    assert [i.value for i in at.info] == [
        "Lines not in UTF-8: 1; they were read as gb18030, the others as UTF-8: check the names in those lines.",
        "NUL bytes removed from the values: 1."]
    at.segmented_control(key="w_lang").set_value("zh")
    run(at)
    assert at.info[0].value.startswith("有 1 行不是 UTF-8 编码")


def test_all_rows_rejected_names_the_reasons():
    at = upload(start(), "bad_dates.csv", b"customer,date,amount\nA,not a date,10\nB,soon,20\n")
    assert "None of the 2 rows of bad_dates.csv could be used (2 date not understood)" in at.error[0].value


def test_optional_customer_and_interaction_files():
    at = upload(start(), "shop_orders.csv", GOOD_CSV)
    upload(at, "people.csv", "customer_id,name,region\nK1,Alpha Tea,East\nK9,Never Bought Ltd,West\n".encode(),
           role="customers")
    upload(at, "touches.csv", b"customer_id,date,type\nK1,2024-03-01,call\nK9,2024-03-02,visit\n",
           role="interactions")
    assert not at.error
    text = text_of(at)
    assert "people.csv: 2 of 2 rows used; 1 prospects" in text
    assert "touches.csv: 2 of 2 rows used" in text
    at.switch_page(CUSTOMERS)
    run(at)
    table = at.dataframe[0].value
    assert table["customer_id"].tolist() == ["K1", "K2", "K3", "K9"]
    assert table["tier"].tolist() == ["A", "B", "C", "Iron"]
    at.text_input(key="w_cust_search").input("alpha")
    run(at)
    assert at.dataframe[0].value["customer_id"].tolist() == ["K1"]
    at.selectbox(key="w_cust_selected").set_value("K1")
    run(at)
    assert at.dataframe[-1].value["type"].tolist() == ["call"]


def test_upload_excel_and_parquet(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"Invoice": ["A1", "A1", "A2", "A3"], "InvoiceDate": ["2024-05-01"] * 3 + ["2024-06-01"],
                          "Customer ID": ["007", "007", "012", "007"], "Quantity": [2, 1, 5, -1],
                          "Price": [10.0, 3.5, 2.0, 10.0]})
    xlsx = tmp_path / "export.xlsx"
    frame.to_excel(xlsx, index=False)
    at = upload(start(), "export.xlsx", xlsx.read_bytes())
    assert not at.error
    assert metrics(at, "Rows used") == ["4"] and metrics(at, "Customers") == ["2"]
    assert "quantity × unit price" in text_of(at)
    at.switch_page(CUSTOMERS)
    run(at)
    table = at.dataframe[0].value
    assert table["customer_id"].tolist() == ["007", "012"]      # leading zeros kept
    assert table["monetary"].tolist() == [13.5, 10.0]          # 20 + 3.5 - 10 (a return)

    parquet = tmp_path / "export.parquet"
    frame.to_parquet(parquet, index=False)
    at = upload(start(), "export.parquet", parquet.read_bytes())
    assert not at.error and metrics(at, "Rows used") == ["4"]


def test_a_bad_customer_list_is_explained():
    at = upload(start(), "shop_orders.csv", GOOD_CSV)
    upload(at, "people.csv", b"label,region\nAlpha,East\n", role="customers")
    assert len(at.error) == 1
    assert "No column for the customer id was found in people.csv" in at.error[0].value
    assert "choose it under Columns of the customer list" in at.error[0].value
    # the customer list's columns open below: pick the id column and the file loads
    assert at.selectbox(key="w_side_customers_customer_id").options == ["label", "region"]
    at.selectbox(key="w_side_customers_customer_id").set_value("label")
    run(at)
    assert not at.error
    assert "people.csv: 1 of 1 rows used; 1 prospects" in text_of(at)
    at.switch_page(CUSTOMERS)
    run(at)
    table = at.dataframe[0].value
    assert table["customer_id"].tolist() == ["K1", "K2", "K3", "Alpha"]
    assert table["region"].tolist()[-1] == "East"          # the other column is an attribute


def test_as_of_date_and_window_change_the_metrics(engine):
    at = start(CUSTOMERS)
    as_of, since = engine["ds"].report.date_max.replace(year=2026, month=3, day=31), \
        engine["ds"].report.date_min.replace(year=2025, month=4, day=1)
    at.date_input(key="w_as_of").set_value(as_of)
    at.date_input(key="w_since").set_value(since)
    run(at)
    direct = segcore.customer_metrics(engine["ds"].con, as_of=as_of, since=since)
    tiered = segcore.assign_tiers(direct, segcore.TierRules())
    table = at.dataframe[0].value
    expected = views.customer_list(tiered)
    assert table["customer_id"].tolist() == expected["customer_id"].tolist()[:len(table)]
    assert table["monetary"].tolist() == expected["monetary"].tolist()[:len(table)]


def test_a_long_list_is_cut_for_the_browser_but_downloads_keep_every_row(monkeypatch):
    monkeypatch.setattr(tables, "TABLE_ROWS", 100)
    at = start(CUSTOMERS)
    assert len(at.dataframe[0].value) == 100
    assert "The table shows the first 100 rows" in text_of(at)
    assert at.segmented_control(key="w_dl_scope").options[0] == "Current filter (3,400)"
