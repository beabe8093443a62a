"""The engine on tiny files whose metrics and tiers are worked out by hand."""

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

import segcore
from segcore import views

# Hand-worked orders. As-of date D = 2024-01-20 (the latest date).
# c1: O1 = 100 + 50 on 01-01, O2 = 30 on 01-11, R1 = -20 on 01-15 (a pure return: not an order)
#     -> frequency 2, monetary 160, aov 80, recency 9, tenure 19, breadth {p1, p2} = 2, interval 10
# c2: O3 = 200 on 01-05                      -> frequency 1, monetary 200, recency 15
# c3: O4 = +40 and -40 on 01-10 (fully returned) -> frequency 0, monetary 0, no dates
# c4: O5 = 60 on 01-20                       -> frequency 1, monetary 60, recency 0
ORDERS = """order_id,customer_id,order_date,amount,product
O1,c1,2024-01-01,100,p1
O1,c1,2024-01-01,50,p2
O2,c1,2024-01-11,30,p1
R1,c1,2024-01-15,-20,p1
O3,c2,2024-01-05,200,p3
O4,c3,2024-01-10,40,p1
O4,c3,2024-01-10,-40,p1
O5,c4,2024-01-20,60,p2
"""


@pytest.fixture
def orders(write):
    return segcore.load_orders(write("orders.csv", ORDERS))


def by_id(df):
    return df.set_index("customer_id")


def test_metrics_by_hand(orders):
    m = by_id(segcore.customer_metrics(orders.con))
    assert list(m.index) == ["c1", "c2", "c3", "c4"]
    c1 = m.loc["c1"]
    assert (c1.frequency, c1.monetary, c1.avg_order_value) == (2, 160, 80)
    assert (c1.recency_days, c1.tenure_days, c1.product_breadth, c1.avg_interval_days) == (9, 19, 2, 10)
    assert c1.first_order_date == pd.Timestamp("2024-01-01")
    assert c1.last_order_date == pd.Timestamp("2024-01-11")
    assert (m.loc["c2"].frequency, m.loc["c2"].monetary, m.loc["c2"].recency_days) == (1, 200, 15)
    assert math.isnan(m.loc["c2"].avg_interval_days)
    c3 = m.loc["c3"]
    assert (c3.frequency, c3.monetary) == (0, 0)
    assert pd.isna(c3.recency_days) and pd.isna(c3.first_order_date) and math.isnan(c3.avg_order_value)
    assert (m.loc["c4"].frequency, m.loc["c4"].recency_days, m.loc["c4"].tenure_days) == (1, 0, 0)


def test_trend_halves(orders):
    # Window 01-01 .. 01-20, midpoint 01-10: first half <= 01-10, second half after it.
    m = by_id(segcore.customer_metrics(orders.con))
    assert (m.loc["c1"].spend_first_half, m.loc["c1"].spend_second_half) == (150, 10)
    assert m.loc["c1"].trend == pytest.approx(10 / 150 - 1, abs=1e-4)
    assert (m.loc["c4"].spend_first_half, m.loc["c4"].spend_second_half) == (0, 60)
    assert math.isnan(m.loc["c4"].trend)


def test_as_of_and_since_limit_the_window(orders):
    m = by_id(segcore.customer_metrics(orders.con, as_of=date(2024, 1, 12)))
    assert "c4" not in m.index  # its only order is after the as-of date
    assert (m.loc["c1"].frequency, m.loc["c1"].monetary, m.loc["c1"].recency_days) == (2, 180, 1)
    m = by_id(segcore.customer_metrics(orders.con, since=date(2024, 1, 6)))
    assert "c2" not in m.index
    assert (m.loc["c1"].frequency, m.loc["c1"].monetary, m.loc["c1"].tenure_days) == (1, 10, 9)
    with pytest.raises(ValueError, match="after the as-of date"):
        segcore.customer_metrics(orders.con, as_of=date(2024, 1, 2), since=date(2024, 1, 5))


def test_pareto_tiers_by_hand(orders):
    # Positive spend total 420: c2 200 (0.476) -> A, c1 160 (crosses 0.8 at 0.857) -> A,
    # c4 60 (starts at 0.857 < 0.95) -> B, c3 spent 0 -> always the lowest level.
    tiered = by_id(segcore.assign_tiers(segcore.customer_metrics(orders.con)))
    assert tiered.tier.to_dict() == {"c2": "A", "c1": "A", "c4": "B", "c3": "C"}
    assert tiered["rank"].to_dict() == {"c2": 1, "c1": 2, "c4": 3, "c3": 4}
    assert tiered.cumulative_share.round(4).to_dict() == {
        "c2": round(200 / 420, 4), "c1": round(360 / 420, 4), "c4": 1.0, "c3": 1.0}


def test_ties_broken_by_customer_id_and_crossing_customer_goes_up():
    m = pd.DataFrame({"customer_id": ["z", "x", "w", "y"], "monetary": [100.0] * 4})
    tiers = by_id(segcore.assign_tiers(m, segcore.TierRules(cuts=(0.5, 0.75)))).tier
    # w reaches 0.25, x reaches exactly 0.5 (A complete), y starts at 0.5 -> B, z starts at 0.75 -> C
    assert tiers.to_dict() == {"w": "A", "x": "A", "y": "B", "z": "C"}
    m = pd.DataFrame({"customer_id": ["a", "b", "c"], "monetary": [50.0, 30.0, 20.0]})
    tiers = by_id(segcore.assign_tiers(m, segcore.TierRules(cuts=(0.6, 0.95)))).tier
    # a holds 0.5 (< 0.6), b crosses 0.6 (reaching 0.8) and stays in A; c starts at 0.8 -> B
    assert tiers.to_dict() == {"a": "A", "b": "A", "c": "B"}


def test_tiers_by_customer_count():
    m = pd.DataFrame({"customer_id": [f"k{i:02d}" for i in range(10)],
                      "monetary": [float(100 - i) for i in range(10)]})
    tiered = segcore.assign_tiers(m.iloc[::-1], segcore.TierRules(cuts=(0.2, 0.5), by="count"))
    assert tiered.sort_values("rank").tier.tolist() == ["A"] * 2 + ["B"] * 3 + ["C"] * 5
    assert tiered.customer_id.tolist() == m.customer_id.tolist()[::-1]  # rows stay in input order
    # 7 customers, top 20%: 1.4 customers -> the crossing customer is in A
    tiered = segcore.assign_tiers(m.head(7), segcore.TierRules(cuts=(0.2, 0.5), by="count"))
    assert tiered.tier.tolist() == ["A", "A", "B", "B", "C", "C", "C"]


def test_levels_labels_and_summary(orders):
    rules = segcore.TierRules(labels=("金钻", "白银", "铜", "铁杆"), cuts=(0.4, 0.8, 0.99))
    tiered = segcore.assign_tiers(segcore.customer_metrics(orders.con), rules)
    assert by_id(tiered).tier.to_dict() == {"c2": "金钻", "c1": "白银", "c4": "铜", "c3": "铁杆"}
    summary = segcore.tier_summary(tiered, rules.labels).set_index("tier")
    assert summary.customers.tolist() == [1, 1, 1, 1]
    assert summary.revenue.tolist() == [200, 160, 60, 0]
    assert summary.revenue_share.sum() == pytest.approx(1)
    assert summary.loc["白银", "avg_recency_days"] == 9
    with pytest.raises(ValueError):
        segcore.TierRules(labels=("A", "A"), cuts=(0.8,))
    with pytest.raises(ValueError):
        segcore.TierRules(cuts=(0.9, 0.8))


def test_retiering_reuses_the_customer_table(orders):
    metrics = segcore.customer_metrics(orders.con)
    orders.con.close()  # the file and the order lines are gone; only the small table is left
    tiered = segcore.assign_tiers(metrics, segcore.TierRules(cuts=(0.3, 0.6)))
    assert by_id(tiered).tier.to_dict() == {"c2": "A", "c1": "B", "c4": "C", "c3": "C"}


def test_prospects_from_customers_file(orders, write):
    segcore.load_customers(orders, write("customers.csv", "客户编号,姓名,行业\nc1,Ann,零售\nc9,Bo,餐饮\n"))
    m = by_id(segcore.customer_metrics(orders.con))
    assert m.loc["c9"].is_prospect and not m.loc["c1"].is_prospect
    assert (m.loc["c9"].frequency, m.loc["c9"].monetary) == (0, 0) and pd.isna(m.loc["c9"].recency_days)
    assert (m.loc["c1"]["name"], m.loc["c9"]["行业"]) == ("Ann", "餐饮")
    tiered = segcore.assign_tiers(m.reset_index())
    assert by_id(tiered).tier["c9"] == "Iron"
    summary = segcore.tier_summary(tiered, ("A", "B", "C"))
    assert summary.tier.tolist() == ["A", "B", "C", "Iron"] and summary.customers.tolist() == [2, 1, 1, 1]
    # shares of customers count the buyers, as the Pareto curve does; prospects have no share
    assert summary.customer_share.tolist()[:3] == [0.5, 0.25, 0.25]
    assert pd.isna(summary.customer_share.iloc[3])


def test_interactions_give_activity(orders, write):
    report = segcore.load_interactions(orders, write(
        "interactions.csv",
        "customer_id,date,type\nc1,2024-01-19,call\nc1,2023-09-01,visit\nc2,,call\nzz,2024-01-02,message\n"))
    assert report["rows_read"] == 4 and report["rows_used"] == 3
    assert report["rejected"] == {"missing date": 1} and report["unknown_customers"] == 1
    m = by_id(segcore.customer_metrics(orders.con))
    assert m.loc["c1"].interactions_90d == 1  # 2023-09-01 is more than 90 days before D
    assert m.loc["c1"].last_interaction_date == pd.Timestamp("2024-01-19")
    assert m.loc["c4"].interactions_90d == 0


def test_attributes_are_the_most_frequent_value_ties_to_the_first(write):
    # c1: Web twice, Shop once -> Web. c2: Shop and Web once each -> Shop (first in sort order),
    # the same on every run whatever order the lines arrive in. c3: two blank channels and one
    # Shop -> Shop (a blank is no value); c4: no channel at all, but a region of its own.
    rows = ["c1,2024-01-01,10,Web,North", "c1,2024-01-02,10,Shop,North", "c1,2024-01-03,10,Web,South",
            "c2,2024-01-01,10,Web,", "c2,2024-01-02,10,Shop,", "c3,2024-01-01,10,,East",
            "c3,2024-01-02,10,,West", "c3,2024-01-03,10,Shop,", "c4,2024-01-01,10,,West"]
    for lines in (rows, rows[::-1]):
        ds = segcore.load_orders(write("o.csv", "customer_id,order_date,amount,channel,region\n" + "\n".join(lines)))
        m = by_id(segcore.customer_metrics(ds.con)).replace({np.nan: None})
        assert m["channel"].to_dict() == {"c1": "Web", "c2": "Shop", "c3": "Shop", "c4": None}
        assert m["region"].to_dict() == {"c1": "North", "c2": None, "c3": "East", "c4": "West"}


def test_public_api_is_pinned():
    assert sorted(segcore.__all__) == sorted([
        "CANONICAL_FIELDS", "DEFAULT_CUTS", "EXPORT_COLUMNS", "METRIC_COLUMNS", "Dataset", "IngestError",
        "IngestReport", "Settings", "TierRules", "add_scores", "assign_tiers", "customer_metrics", "export_columns",
        "guess_mapping", "load_customers", "load_interactions", "load_orders", "load_settings", "mapping_checks",
        "neutralise",
        "parse_loaded", "read_table", "save_settings", "suggest_cuts", "tier_sheets", "tier_summary", "to_csv_bytes", "to_excel_bytes",
        "window_bounds", "write_export", "EXPORT_LANGS", "MONEY_COLUMNS", "migration_sheets",
        # predictions
        "PREDICTION_COLUMNS", "Cohorts", "Holdout", "ModelFit", "PredictError", "cohort_table", "customer_summary",
        "default_calibration_end", "fit_models", "forecast_summary", "forecast_table", "holdout_check",
        "palive_vs_churn", "predict", "value_lists",
    ])
    assert all(hasattr(segcore, name) for name in segcore.__all__)


def test_engine_never_imports_streamlit():
    import subprocess
    import sys

    code = "import sys, segcore, segcore.cli; sys.exit('streamlit' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_computed_method_reproduces_the_published_groups():
    spend = [1, 15, 25, 17, 2, 3, 5, 6, 2, 3, 22]  # Ultsch & Lötsch: A = {3, 4, 11}, B = {2, 8}
    m = pd.DataFrame({"customer_id": [f"c{i:02d}" for i in range(1, 12)], "monetary": spend})
    tiered = segcore.assign_tiers(m, segcore.TierRules(method="computed"))
    groups = {t: sorted(int(c[1:]) for c in tiered.customer_id[tiered.tier == t]) for t in "ABC"}
    assert groups == {"A": [3, 4, 11], "B": [2, 8], "C": [1, 5, 6, 7, 9, 10]}
    found = segcore.suggest_cuts(m)
    assert found.a_share == pytest.approx((25 + 22 + 17) / sum(spend))
    with pytest.raises(ValueError, match="three levels"):
        segcore.TierRules(method="computed", labels=("A", "B"), cuts=(0.8,))


def test_order_days_breadth_and_empty_product_column(write):
    # d: two orders on 01-01 and one on 01-11 -> 3 orders on 2 order days, interval 10 (not 5);
    # on 01-21 an order fully returned the same day is no order and no order day.
    ds = segcore.load_orders(write("days.csv", "order_id,customer_id,order_date,amount,product\n"
                                               "O1,d,2024-01-01,10,\nO2,d,2024-01-01,10,\n"
                                               "O3,d,2024-01-11,10,\nO4,d,2024-01-21,5,\n"
                                               "O4,d,2024-01-21,-5,\n"))
    d = by_id(segcore.customer_metrics(ds.con)).loc["d"]
    assert (d.frequency, d.avg_interval_days, d.last_order_date) == (3, 10, pd.Timestamp("2024-01-11"))
    assert pd.isna(d.product_breadth)  # a product column with no value at all: breadth unknown
    # a product only on a return: the column has values, and e bought no product
    ds = segcore.load_orders(write("ret.csv", "customer_id,order_date,amount,product\n"
                                              "e,2024-01-01,10,\ne,2024-01-02,-3,p1\n"))
    assert by_id(segcore.customer_metrics(ds.con)).loc["e"].product_breadth == 0


def test_sums_do_not_depend_on_the_order_of_the_lines(write):
    # In binary floating point 0.1 + 0.2 + 0.3 is 0.6000000000000001 but 0.3 + 0.2 + 0.1 is 0.6, and
    # 0.1 + 0.2 - 0.3 is not 0: sums of plain doubles would change with the order of the lines,
    # a cancelled order would count as an order, and 0.61 / 2 would round either way.
    lines = ["O1,f,2024-01-01,0.1", "O1,f,2024-01-01,0.2", "O1,f,2024-01-01,0.3",
             "O2,f,2024-01-02,0.01",
             "O3,f,2024-01-03,0.1", "O3,f,2024-01-03,0.2", "O3,f,2024-01-03,-0.3"]
    seen = set()
    for order in (lines, lines[::-1]):
        ds = segcore.load_orders(write("f.csv", "order_id,customer_id,order_date,amount\n" + "\n".join(order)))
        f = by_id(segcore.customer_metrics(ds.con)).loc["f"]
        seen.add((f.frequency, f.monetary, f.avg_order_value, f.last_order_date))
    assert seen == {(2, 0.61, 0.31, pd.Timestamp("2024-01-02"))}


def test_money_and_averages_round_half_up_exactly(write):
    # 653.01 / 2 = 326.505 exactly, but as a binary double it is 326.50499..., which round(x, 2)
    # turns into 326.50 on some DuckDB versions; rounding the step sums gives 326.51 everywhere.
    # Halves go away from zero for returns too (-0.305 -> -0.31), and 10 days over 4 gaps is 2.5.
    ds = segcore.load_orders(write("r.csv", "order_id,customer_id,order_date,amount\n"
                                            "O1,g,2024-01-01,653.00\nO2,g,2024-01-02,0.01\n"
                                            "O3,h,2024-01-01,0.305\nO4,k,2024-01-01,-0.305\n"
                                            "O5,m,2024-01-01,1\nO6,m,2024-01-03,1\nO7,m,2024-01-06,1\n"
                                            "O8,m,2024-01-09,1\nO9,m,2024-01-11,1\n"))
    m = by_id(segcore.customer_metrics(ds.con))
    assert (m.loc["g", "monetary"], m.loc["g", "avg_order_value"]) == (653.01, 326.51)
    assert (m.loc["h", "monetary"], m.loc["h", "avg_order_value"]) == (0.31, 0.31)
    assert m.loc["k", "monetary"] == -0.31 and pd.isna(m.loc["k", "avg_order_value"])
    assert m.loc["m", "avg_interval_days"] == 2.5


def test_a_dataset_says_what_it_holds_and_can_be_released(write, monkeypatch):
    path = write("orders.csv", ORDERS)
    monkeypatch.setenv("SEGCORE_THREADS", "1")
    ds = segcore.load_orders(path)
    assert ds.con.execute("SELECT current_setting('threads')").fetchone()[0] == 1
    assert ds.memory_bytes() > 0   # the raw and parsed tables
    ds.close()
    with pytest.raises(Exception, match="closed"):
        segcore.customer_metrics(ds.con)
    monkeypatch.setenv("SEGCORE_THREADS", "lots")   # not a number: the default (cores, at most 4)
    threads = segcore.load_orders(path).con.execute("SELECT current_setting('threads')").fetchone()[0]
    assert 1 <= threads <= 4


def test_the_crossing_customer_is_placed_on_exact_sums():
    # a holds 79,999,999.99 of 100,000,000.00: 0.7999999999, short of 80% by less than 1e-9, so b
    # is the customer who crosses the cut and belongs to A; c starts at exactly 95%: C
    m = pd.DataFrame({"customer_id": ["a", "b", "c"], "monetary": [79_999_999.99, 15_000_000.01, 5_000_000.00]})
    assert by_id(segcore.assign_tiers(m)).tier.to_dict() == {"a": "A", "b": "A", "c": "C"}
    # ten customers of 0.10 each: their float running sum is 0.7999999999999999 after eight
    m = pd.DataFrame({"customer_id": [f"k{i}" for i in range(10)], "monetary": [0.1] * 10})
    assert segcore.assign_tiers(m).tier.tolist() == ["A"] * 8 + ["B"] * 2


def test_tiering_is_guarded_against_non_finite_spend():
    m = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "monetary": [float("nan"), 100.0, float("inf"), 50.0],
                      "frequency": [1, 2, 1, 1], "recency_days": [1, 2, 3, 4]})
    tiered = by_id(segcore.assign_tiers(m))
    # no spend known counts as none: the lowest level, ranked after the others (ties by id)
    assert tiered.tier.to_dict() == {"a": "C", "b": "A", "c": "C", "d": "A"}
    assert tiered["rank"].to_dict() == {"b": 1, "d": 2, "a": 3, "c": 4}
    assert tiered.cumulative_share.round(4).to_dict() == {"a": 1.0, "b": round(100 / 150, 4), "c": 1.0, "d": 1.0}
    summary = segcore.tier_summary(tiered.reset_index(), ("A", "B", "C")).set_index("tier")
    assert summary.revenue.to_dict() == {"A": 150.0, "B": 0.0, "C": 0.0}
    assert summary.revenue_share["A"] == 1.0
    assert segcore.suggest_cuts(m).a_count + segcore.suggest_cuts(m).b_count <= 2


def test_a_count_only_table_is_tiered_by_orders():
    # no spend known for anyone (a file without amounts): ranked and cut by orders, 10 in all;
    # a holds 5 (50%), b 3 more (80%: A ends there); c starts at 80% (B), d at 90%, below 95% (B)
    m = pd.DataFrame({"customer_id": ["d", "c", "b", "a"], "monetary": [float("nan")] * 4,
                      "frequency": [1, 1, 3, 5], "recency_days": [9, 8, 7, 6]})
    tiered = by_id(segcore.assign_tiers(m))
    assert tiered.tier.to_dict() == {"a": "A", "b": "A", "c": "B", "d": "B"}
    assert tiered["rank"].to_dict() == {"a": 1, "b": 2, "c": 3, "d": 4}
    assert tiered.cumulative_share.to_dict() == {"a": 0.5, "b": 0.8, "c": 0.9, "d": 1.0}
    summary = segcore.tier_summary(tiered.reset_index(), ("A", "B", "C")).set_index("tier")
    assert summary.orders.to_dict() == {"A": 8, "B": 2, "C": 0}
    assert summary.order_share.to_dict() == {"A": 0.8, "B": 0.2, "C": 0.0}
    assert segcore.tiers.ranking_measure(m) == "frequency"
    assert segcore.tiers.ranking_measure(m.assign(monetary=[float("nan"), 1.0, 0.0, 0.0])) == "monetary"


def test_share_of_revenue_is_the_pareto_share_on_every_summary():
    # net spend 800, 130, 20 and -50 (returns outweigh purchases): the negative customer counts 0,
    # so shares are of 950, and the A tier's share is the Pareto curve's cumulative share at its end
    m = pd.DataFrame({"customer_id": list("abcd"), "monetary": [800.0, 130.0, 20.0, -50.0],
                      "frequency": [1, 1, 1, 0], "recency_days": [1, 2, 3, 4]})
    tiered = segcore.assign_tiers(m)
    summary = segcore.tier_summary(tiered, ("A", "B", "C")).set_index("tier")
    assert summary.revenue.to_dict() == {"A": 800.0, "B": 130.0, "C": -30.0}   # revenue stays net
    assert summary.revenue_share.to_dict() == {"A": 800 / 950, "B": 130 / 950, "C": 20 / 950}
    assert summary.revenue_share["A"] == tiered.set_index("customer_id").cumulative_share["a"]
    segments = views.segment_summary(m.assign(rfm_segment=["Top", "Top", "Low", "Low"]), ["Top", "Low"])
    assert segments.set_index("segment").revenue_share.to_dict() == {"Top": 930 / 950, "Low": 20 / 950}
    assert views.return_only_count(m) == 1
    assert views.return_only_count(m.assign(is_prospect=[False, False, False, True])) == 0
