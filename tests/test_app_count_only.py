"""A file without amounts (customer + date only, e.g. a visit log) on every page: read count-only,
tiered by orders, money left out with one plain note per page.

The file: A orders 10 times, B 4, C 3, D 2, E once (each line one order, 20 in all), as-of
2024-06-30. Pareto by orders at 80% / 95%: A holds 50%, B reaches 70%, C 85% (the customer who
crosses the line is in the upper tier): A = {A, B, C}; D starts at 85% and reaches 95%: B = {D};
E starts at 95%: C = {E}. Orders per tier 17 / 2 / 1.
"""

from __future__ import annotations

import json

from .test_app import SAMPLE, metrics, run, start, upload

VISITS = ("cust,visit_date\n"
          + "".join(f"A,2024-{d}\n" for d in ("01-01", "01-20", "02-10", "03-01", "03-20", "04-10", "05-01",
                                             "05-20", "06-10", "06-30"))
          + "".join(f"B,2024-{d}\n" for d in ("03-01", "04-01", "05-01", "06-01"))
          + "C,2024-01-10\nC,2024-02-10\nC,2024-03-10\nD,2024-01-01\nD,2024-01-31\nE,2024-01-01\n").encode()
NOTE = "This file has no amounts, so it is read count-only"


def visits_app():
    at = upload(start(), "visits.csv", VISITS)
    assert not at.error
    return at


def go(at, page: str):
    at.switch_page(page)
    return run(at)


def notes(at) -> list[str]:
    return [i.value for i in at.info if NOTE in i.value]


def test_the_data_page_says_the_file_is_read_count_only():
    at = visits_app()
    assert metrics(at, "Rows used") == ["20"] and metrics(at, "Customers") == ["5"]
    assert "**Amount:** none: read count-only" in "\n".join(m.value for m in at.markdown)
    assert at.selectbox(key="w_map_customer_id").value == "cust"


def test_overview_tiers_by_orders_and_shows_no_money():
    at = go(visits_app(), "pages/1_Overview.py")
    assert metrics(at, "Customers") == ["3", "1", "1"]
    assert metrics(at, "Orders") == ["17", "2", "1"]
    assert metrics(at, "Share of orders") == ["85.0%", "10.0%", "5.0%"]
    assert metrics(at, "Revenue") == [] and metrics(at, "Average spend") == []
    assert len(notes(at)) == 1 and "revenue, average spend and the spend chart" in notes(at)[0]
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert "Pareto curve: how many of the orders the top customers place" in titles
    assert not any("spend" in x.lower() for x in titles)
    assert at.sidebar.segmented_control(key="w_by").options == ["Share of orders", "Share of customers"]


def test_customers_page_lists_them_by_orders():
    at = go(visits_app(), "pages/2_Customers.py")
    table = at.dataframe[0].value
    assert table["customer_id"].tolist() == ["A", "B", "C", "D", "E"]
    assert table["tier"].astype(str).tolist() == ["A", "A", "A", "B", "C"]
    assert table["frequency"].tolist() == [10, 4, 3, 2, 1]
    assert len(notes(at)) == 1


def test_segments_page_scores_recency_and_frequency_only():
    at = go(visits_app(), "pages/3_Segments.py")
    assert not at.exception
    keys = {w.key for w in at.text_input}   # a box for custom cut points per scored dimension
    assert {"w_custom_recency", "w_custom_frequency"} <= keys and "w_custom_monetary" not in keys
    assert "No RFM segments without amounts" in "\n".join(c.value for c in at.caption)
    assert len(notes(at)) == 1


def test_migration_churn_and_playbook_work_on_orders():
    at = go(visits_app(), "pages/4_Migration.py")
    # at 2024-03-31 (a quarter before): 12 orders, A 5, C 3, D 2, B 1, E 1 -> A = {A, C, D}, B = {B, E};
    # B moves up to A; C, D and E order nothing after 2024-03-31: lost; A stays
    assert [metrics(at, m) for m in ("Upgraded", "Downgraded", "New", "Lost", "Same level")] == \
        [["1"], ["0"], ["0"], ["3"], ["1"]]
    assert len(notes(at)) == 1
    at = go(at, "pages/5_Churn.py")
    # C and D: usual gap 30 days, silent 112 and 151 days (over 2 x 30); E (181 days) is lapsed
    assert metrics(at, "Customers at risk") == ["2"]
    assert len(notes(at)) == 1
    at = go(at, "pages/6_Playbook.py")
    assert not at.exception and not notes(at)   # nothing on this page needs money


def test_forecast_says_what_is_missing_without_breaking():
    at = go(visits_app(), "pages/7_Forecast.py")
    assert not at.exception
    assert len(notes(at)) == 1 and "expected spend and lifetime value" in notes(at)[0]
    # five customers are too few to learn from; the page says so instead of failing
    assert any("repeat buyers" in w.value for w in at.warning)


def test_forecast_without_amounts_predicts_orders_and_no_lifetime_value(tmp_path):
    import pandas as pd

    orders = pd.read_csv(SAMPLE / "orders.csv")[["Customer ID", "Order Date"]]
    at = upload(start(), "sample_visits.csv", orders.to_csv(index=False).encode())
    at = go(at, "pages/7_Forecast.py")
    assert metrics(at, "Expected orders") and all(v not in ("", "–") for v in metrics(at, "Expected orders"))
    assert metrics(at, "Lifetime value") == []
    assert not any("returns outweigh" in c.value for c in at.caption)
