"""segcore.views: the dashboard's query helpers, on tiny literal tables with values worked out by hand."""

from datetime import date

import duckdb
import pandas as pd
import pytest

from segcore import views

NA = pd.NA


def tiered_table() -> pd.DataFrame:
    """5 buyers (total positive spend 100) and one prospect, as assign_tiers would lay them out.

    c1 50 -> 0.5 (A), c2 30 -> 0.8 (A), c3 10 -> 0.9 (B), c4 10 -> 1.0 (C), c5 0 -> 1.0 (C), p1 prospect.
    """
    return pd.DataFrame({
        "customer_id": ["c1", "c2", "c3", "c4", "c5", "p1"],
        "name": ["Tea House", "Cafe Ming", "茶叶店", None, "tea corner", "Prospect Co"],
        "monetary": [50.0, 30.0, 10.0, 10.0, 0.0, 0.0],
        "frequency": pd.array([5, 3, 1, 2, 0, 0], dtype="Int64"),
        "recency_days": pd.array([0, 3, 9, 3, NA, NA], dtype="Int64"),
        "rank": pd.array([1, 2, 3, 4, 5, NA], dtype="Int64"),
        "tier": ["A", "A", "B", "C", "C", "Iron"],
        "cumulative_share": [0.5, 0.8, 0.9, 1.0, 1.0, None],
    })


# --- Pareto curve --------------------------------------------------------------------------------

def test_pareto_points_small_table_keeps_every_customer_and_starts_at_origin():
    pts = views.pareto_points(tiered_table(), max_points=500)
    assert pts["rank"].tolist() == [0, 1, 2, 3, 4, 5]
    assert pts["customer_share"].tolist() == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert pts["revenue_share"].tolist() == pytest.approx([0, 0.5, 0.8, 0.9, 1.0, 1.0])
    assert pts["tier"].tolist() == ["A", "A", "A", "B", "C", "C"]


def test_pareto_points_downsamples_but_keeps_tier_edges_and_ends():
    n = 10
    tiered = pd.DataFrame({
        "customer_id": [f"c{i:02d}" for i in range(1, n + 1)],
        "rank": range(1, n + 1),
        "tier": ["A"] * 2 + ["B"] * 3 + ["C"] * 5,
        "cumulative_share": [i / n for i in range(1, n + 1)],
    })
    pts = views.pareto_points(tiered, max_points=3)
    # every ceil(10/3) = 4th customer (4, 8), first and last (1, 10), tier edges (1-2, 3-5, 6-10)
    assert pts["rank"].tolist() == [0, 1, 2, 3, 4, 5, 6, 8, 10]


def test_pareto_points_of_an_empty_table_is_empty():
    empty = tiered_table().iloc[5:]  # only the prospect
    assert views.pareto_points(empty).empty


def test_pareto_cuts_per_tier():
    cuts = views.pareto_cuts(tiered_table())
    assert cuts["tier"].tolist() == ["A", "B", "C"]
    assert cuts["customers"].tolist() == [2, 1, 2]
    assert cuts["first_rank"].tolist() == [1, 3, 4]
    assert cuts["last_rank"].tolist() == [2, 3, 5]
    assert cuts["customer_share_start"].tolist() == pytest.approx([0, 0.4, 0.6])
    assert cuts["customer_share_end"].tolist() == pytest.approx([0.4, 0.6, 1.0])
    assert cuts["revenue_share_end"].tolist() == pytest.approx([0.8, 0.9, 1.0])


def test_customer_position():
    pos = views.customer_position(tiered_table(), "c3")
    assert pos.iloc[0][["customer_id", "tier"]].tolist() == ["c3", "B"]
    assert (pos.iloc[0]["rank"], pos.iloc[0]["buyers"]) == (3, 5)
    assert pos.iloc[0]["customer_share"] == pytest.approx(0.6)
    assert pos.iloc[0]["revenue_share"] == pytest.approx(0.9)
    assert views.customer_position(tiered_table(), "p1").empty  # prospects have no point
    assert views.customer_position(tiered_table(), "nobody").empty


# --- distributions -------------------------------------------------------------------------------

def test_log_distribution_has_a_bin_for_zero_and_1_2_5_edges():
    dist = views.distribution(tiered_table(), "monetary", "log")
    rows = [(b, None if pd.isna(lo) else lo, hi, tier, n) for b, lo, hi, tier, n in dist.itertuples(index=False)]
    assert rows == [
        (0, None, 0.0, "C", 1),      # c5: 0
        (1, 10.0, 20.0, "B", 1),     # c3: 10
        (1, 10.0, 20.0, "C", 1),     # c4: 10
        (2, 20.0, 50.0, "A", 1),     # c2: 30
        (3, 50.0, 100.0, "A", 1),    # c1: 50
    ]


def test_log_distribution_merges_low_bins_when_there_are_too_many():
    dist = views.distribution(tiered_table(), "monetary", "log", max_bins=2)
    # the bin for <= 0, then one bin (0, 100) holding every positive spend
    assert dist["bin"].tolist() == [0, 1, 1, 1]
    assert dist["lo"].iloc[1:].tolist() == [0.0, 0.0, 0.0] and dist["hi"].tolist() == [0.0, 100.0, 100.0, 100.0]
    assert dist.groupby("tier")["customers"].sum().to_dict() == {"A": 2, "B": 1, "C": 2}


def test_linear_distribution_uses_a_round_width_and_skips_nulls_and_prospects():
    dist = views.distribution(tiered_table(), "recency_days", "linear", max_bins=5)
    # values 0, 3, 9 (A, A), 3 (C); span 9 -> width 2 -> bins [0,2) [2,4) [4,6) [6,8) [8,10)
    assert [(r.bin, r.lo, r.hi, r.tier, r.customers) for r in dist.itertuples()] == [
        (0, 0.0, 2.0, "A", 1), (1, 2.0, 4.0, "A", 1), (1, 2.0, 4.0, "C", 1), (4, 8.0, 10.0, "B", 1)]


def test_distribution_checks_its_arguments():
    with pytest.raises(ValueError):
        views.distribution(tiered_table(), "no_such_column", "log")
    with pytest.raises(ValueError):
        views.distribution(tiered_table(), "monetary", "sqrt")
    only_prospect = tiered_table().iloc[5:]
    assert list(views.distribution(only_prospect, "monetary").columns) == ["bin", "lo", "hi", "tier", "customers"]


def test_tier_mix_long_form():
    summary = pd.DataFrame({"tier": ["A", "B"], "customers": [2, 8], "customer_share": [0.2, 0.8],
                            "revenue": [80.0, 20.0], "revenue_share": [0.8, 0.2], "orders": [6, 4],
                            "order_share": [0.6, 0.4]})
    mix = views.tier_mix(summary)
    assert [tuple(r) for r in mix[["measure", "tier", "position", "value", "share"]].itertuples(index=False)] == [
        ("customers", "A", 0, 2.0, 0.2), ("customers", "B", 1, 8.0, 0.8),
        ("orders", "A", 0, 6.0, 0.6), ("orders", "B", 1, 4.0, 0.4),
        ("revenue", "A", 0, 80.0, 0.8), ("revenue", "B", 1, 20.0, 0.2)]


# --- customer list -------------------------------------------------------------------------------

def ids(frame: pd.DataFrame) -> list[str]:
    return frame["customer_id"].tolist()


def test_customer_list_default_is_rank_order_with_prospects_last():
    assert ids(views.customer_list(tiered_table())) == ["c1", "c2", "c3", "c4", "c5", "p1"]


def test_customer_list_filters_by_tier():
    assert ids(views.customer_list(tiered_table(), tiers=["A", "Iron"])) == ["c1", "c2", "p1"]
    assert ids(views.customer_list(tiered_table(), tiers=[])) == []


def test_customer_list_searches_id_and_name_case_insensitively():
    assert ids(views.customer_list(tiered_table(), search="TEA")) == ["c1", "c5"]
    assert ids(views.customer_list(tiered_table(), search=" 茶 ")) == ["c3"]
    assert ids(views.customer_list(tiered_table(), search="C4")) == ["c4"]
    assert ids(views.customer_list(tiered_table(), search="'; DROP TABLE t; --")) == []
    no_names = tiered_table().drop(columns="name")
    assert ids(views.customer_list(no_names, search="c")) == ["c1", "c2", "c3", "c4", "c5"]


def test_customer_list_sorts_by_any_column_with_ties_by_rank_and_nulls_last():
    assert ids(views.customer_list(tiered_table(), sort_by="monetary")) == ["c5", "p1", "c3", "c4", "c2", "c1"]
    assert ids(views.customer_list(tiered_table(), sort_by="recency_days", descending=True)) == [
        "c3", "c2", "c4", "c1", "c5", "p1"]
    assert ids(views.customer_list(tiered_table(), sort_by="name")) == ["c2", "p1", "c1", "c5", "c3", "c4"]


def test_customer_list_sorts_tiers_in_level_order_not_alphabetically():
    labels = ["Iron", "C", "B", "A"]  # deliberately unusual order
    assert ids(views.customer_list(tiered_table(), sort_by="tier", labels=labels)) == [
        "p1", "c4", "c5", "c3", "c1", "c2"]
    assert ids(views.customer_list(tiered_table(), sort_by="tier", descending=True, labels=labels)) == [
        "c1", "c2", "c3", "c4", "c5", "p1"]


def test_customer_list_rejects_unknown_sort_columns():
    with pytest.raises(ValueError, match="not a column"):
        views.customer_list(tiered_table(), sort_by="monetary; DROP TABLE t")


def test_customer_row():
    row = views.customer_row(tiered_table(), "c3")
    assert row["customer_id"].tolist() == ["c3"] and row["monetary"].tolist() == [10.0]
    assert views.customer_row(tiered_table(), "zz").empty


# --- one customer's history ----------------------------------------------------------------------

@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("""
        CREATE TABLE lines AS SELECT * FROM (VALUES
            ('c1', DATE '2024-01-05', 100.0, 'O1', 'Tea', 'Drinks'),
            ('c1', DATE '2024-01-05', 50.0, 'O1', 'Cup', 'Ware'),
            ('c1', DATE '2024-02-01', -50.0, 'R1', 'Cup', 'Ware'),
            ('c1', DATE '2024-03-01', 30.0, NULL, 'Tea', 'Drinks'),
            ('c1', DATE '2024-03-01', 20.0, NULL, 'Pot', 'Ware'),
            ('c1', DATE '2024-03-02', 5.0, NULL, NULL, NULL),
            ('c2', DATE '2024-01-10', 10.0, 'O2', 'Tea', 'Drinks')
        ) AS v(customer_id, order_date, amount, order_id, product, category)""")
    return con


def test_customer_orders_one_row_per_order_with_net_amounts(con):
    orders = views.customer_orders(con, "c1")
    assert orders["order_key"].tolist() == ["O1", "R1", "2024-03-01", "2024-03-02"]
    assert [d.date() for d in orders["order_date"]] == [date(2024, 1, 5), date(2024, 2, 1), date(2024, 3, 1),
                                                         date(2024, 3, 2)]
    assert orders["lines"].tolist() == [2, 1, 2, 1]
    assert orders["amount"].tolist() == [150.0, -50.0, 50.0, 5.0]


def test_customer_orders_respects_the_window(con):
    assert views.customer_orders(con, "c1", since=date(2024, 2, 1))["order_key"].tolist() == [
        "R1", "2024-03-01", "2024-03-02"]
    assert views.customer_orders(con, "c1", as_of=date(2024, 2, 15))["order_key"].tolist() == ["O1", "R1"]
    assert views.customer_orders(con, "nobody").empty


def test_customer_products_net_of_returns_biggest_first(con):
    products = views.customer_products(con, "c1")
    assert products["product"].tolist() == ["Tea", "Pot", "Cup"]
    assert products["category"].tolist() == ["Drinks", "Ware", "Ware"]
    assert products["lines"].tolist() == [2, 1, 2]
    assert products["amount"].tolist() == [130.0, 20.0, 0.0]
    assert [d.date() for d in products["first_date"]] == [date(2024, 1, 5), date(2024, 3, 1), date(2024, 1, 5)]
    assert [d.date() for d in products["last_date"]] == [date(2024, 3, 1), date(2024, 3, 1), date(2024, 2, 1)]
    assert views.customer_products(con, "c1", as_of=date(2024, 1, 31))["amount"].tolist() == [100.0, 50.0]


def test_customer_products_without_a_category_column_have_none(con):
    # a file without categories: no "Category" column full of None in the profile
    con.execute("UPDATE lines SET category = NULL")
    products = views.customer_products(con, "c1")
    assert list(products.columns) == ["product", "lines", "amount", "first_date", "last_date"]
    assert products["product"].tolist() == ["Tea", "Pot", "Cup"]


def test_customer_interactions_newest_first_and_empty_without_a_table(con):
    empty = views.customer_interactions(con, "c1")
    assert empty.empty and list(empty.columns) == ["date", "type"]
    con.execute("""CREATE TABLE interactions AS SELECT * FROM (VALUES
        ('c1', DATE '2024-01-01', 'call'), ('c1', DATE '2024-02-01', 'visit'),
        ('c2', DATE '2024-01-03', 'message')) AS v(customer_id, date, type)""")
    got = views.customer_interactions(con, "c1")
    assert got["type"].tolist() == ["visit", "call"]
    assert views.customer_interactions(con, "c1", as_of=date(2024, 1, 15))["type"].tolist() == ["call"]


def test_tier_as_an_ordered_categorical_works_the_same():
    """assign_tiers returns ``tier`` as an ordered categorical (a DuckDB ENUM once registered)."""
    tiered = tiered_table()
    tiered["tier"] = pd.Categorical(tiered["tier"], categories=["A", "B", "C", "Iron"], ordered=True)
    assert ids(views.customer_list(tiered, tiers=["A", "Iron"])) == ["c1", "c2", "p1"]
    assert ids(views.customer_list(tiered, sort_by="tier", descending=True, labels=["A", "B", "C", "Iron"])) == [
        "p1", "c4", "c5", "c3", "c1", "c2"]
    assert views.pareto_cuts(tiered)["tier"].astype(str).tolist() == ["A", "B", "C"]
    assert views.distribution(tiered, "monetary")["customers"].sum() == 5


# --- migration, churn and playbook pages -------------------------------------------------------------

def test_localise_picks_the_language_and_names_codes():
    risk = pd.DataFrame({"customer_id": ["c1", "c2"], "risk": ["high", None],
                         "reason": ["no order for 94 days", "spend down"],
                         "reason_zh": ["已 94 天未下单", "消费下降"], "note_zh": ["只有中文", "x"]})
    en = views.localise(risk, "en", {"risk": {"high": "High"}})
    assert list(en.columns) == ["customer_id", "risk", "reason", "note_zh"]   # note_zh has no English twin
    assert en["reason"].tolist() == ["no order for 94 days", "spend down"]
    assert en["risk"][0] == "High" and pd.isna(en["risk"][1])
    zh = views.localise(risk, "zh", {"risk": {"high": "高"}, "absent": {"x": "y"}})
    assert zh["reason"].tolist() == ["已 94 天未下单", "消费下降"] and zh["risk"][0] == "高"
    assert risk["reason"][0] == "no order for 94 days"   # the input is not changed


def test_keep_rows_filters_in_order():
    calls = pd.DataFrame({"customer_id": ["c3", "c1", "c2", "c4"], "tier": ["B", "A", "A", "C"],
                          "status": ["overdue", "overdue", "due", "scheduled"]})
    assert views.keep_rows(calls)["customer_id"].tolist() == ["c3", "c1", "c2", "c4"]
    assert views.keep_rows(calls, tier=["A", "B"], status=["overdue"])["customer_id"].tolist() == ["c3", "c1"]
    assert views.keep_rows(calls, tier=None, status=["due", "scheduled"]).index.tolist() == [0, 1]
    assert views.keep_rows(calls, tier=[]).empty
    with pytest.raises(ValueError):
        views.keep_rows(calls, region=["North"])


def test_matrix_table_names_rows_and_columns():
    matrix = pd.DataFrame([[3, 1, 0], [2, 5, 1], [4, 0, 0]], index=["A", "B", "new"], columns=["A", "B", "lost"])
    table = views.matrix_table(matrix, {"new": "New customers", "lost": "Lost"}, corner="Before → after")
    assert list(table.columns) == ["Before → after", "A", "B", "Lost"]
    assert table["Before → after"].tolist() == ["A", "B", "New customers"]
    assert table["Lost"].tolist() == [0, 1, 0] and table["A"].tolist() == [3, 2, 4]


def test_playbook_rows_table_and_merge():
    defaults = [{"level": "A", "strategy": "Call", "strategy_zh": "电话", "service_level": "VIP",
                 "service_level_zh": "贵宾", "cadence_days": 14},
                {"level": "B", "strategy": "Mail", "strategy_zh": "邮件", "service_level": "Std",
                 "service_level_zh": "标准", "cadence_days": 60}]
    saved = [{"level": "B", "cadence_days": 30, "strategy": "Offers"}, {"level": "Z", "cadence_days": 1}]
    rows = views.playbook_rows(saved, defaults)
    assert [r["level"] for r in rows] == ["A", "B"]          # Z is not a current level
    assert rows[0] == defaults[0]
    assert rows[1] == {**defaults[1], "cadence_days": 30, "strategy": "Offers"}
    zh = views.playbook_table(rows, "zh")
    assert list(zh.columns) == ["level", "strategy", "service_level", "cadence_days"]
    assert zh["strategy"].tolist() == ["电话", "邮件"] and zh["cadence_days"].tolist() == [14, 30]
    edited = zh.copy()
    edited.loc[0, "strategy"] = "每周电话"
    edited.loc[1, "cadence_days"] = 7
    merged = views.playbook_merge(rows, edited, "zh")
    assert merged[0]["strategy_zh"] == "每周电话" and merged[0]["strategy"] == "Call"   # English kept
    assert merged[1]["cadence_days"] == 7 and merged[1]["strategy"] == "Offers"
    assert rows[1]["cadence_days"] == 30                     # the input is not changed
    bad = views.playbook_table(rows, "en")
    bad["cadence_days"] = pd.array([0, None], dtype="Int64")  # invalid and blank keep the old cadence
    bad.loc[1, "service_level"] = None
    kept = views.playbook_merge(rows, bad, "en")
    assert [r["cadence_days"] for r in kept] == [14, 30] and kept[1]["service_level"] == ""


# --- Segments page ---------------------------------------------------------------------------------

def segmented_table() -> pd.DataFrame:
    """Five buyers with segments and regions, one prospect (no segment).

    Champions: c1 (50), c2 (30) -> 2 customers, 80 revenue; Lost: c3 (10); Others: c4 (10), c5 (0).
    Regions: North = c1, c3, c4; South = c2; no region = c5, p1.
    """
    t = tiered_table()
    t["rfm_segment"] = ["Champions", "Champions", "Lost", "Others", "Others", None]
    t["region"] = ["North", "South", "North", "North", None, None]
    return t


def test_segment_summary_in_rule_order_with_empty_segments():
    s = views.segment_summary(segmented_table(), ["Champions", "Loyal", "Lost"])
    assert s["segment"].tolist() == ["Champions", "Loyal", "Lost", "Others"]
    assert s["customers"].tolist() == [2, 0, 1, 2]
    assert s["customer_share"].tolist() == pytest.approx([0.4, 0, 0.2, 0.4])
    assert s["revenue"].tolist() == [80, 0, 10, 10]
    assert s["revenue_share"].tolist() == pytest.approx([0.8, 0, 0.1, 0.1])
    assert s["avg_monetary"][0] == 40 and pd.isna(s["avg_monetary"][1])


def test_cross_tab_counts_every_pair_in_display_order():
    long = views.cross_tab(segmented_table(), "region", "tier", None, ["A", "B", "C", "D"])
    # rows: North (3 customers), South (1), then no region (2) last; columns in the given order + Iron
    assert list(dict.fromkeys(long["row"].fillna("-"))) == ["North", "South", "-"]
    assert list(dict.fromkeys(long["column"])) == ["A", "B", "C", "D", "Iron"]
    north = long[long["row"] == "North"]
    assert north["customers"].tolist() == [1, 1, 1, 0, 0]
    assert north["row_share"].tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 3, 0, 0])
    assert north["revenue"].tolist() == [50, 10, 10, 0, 0]
    wide = views.cross_tab_table(long, "customers", "Region")
    assert wide.columns.tolist() == ["Region", "A", "B", "C", "D", "Iron", "Total"]
    assert wide["Total"].tolist() == [3, 1, 2]
    top = views.cross_tab(segmented_table(), "region", "tier", None, ["A", "B", "C"], top=1)
    assert set(top["row"]) == {"North"}


def test_agreement_is_the_diagonal_share_without_prospects():
    t = segmented_table()
    other = t.assign(tier=["A", "B", "B", "C", "C", "Iron"])   # c2 moved A -> B
    long = views.cross_tab(views.tier_pairs(t, other), "first", "second", ["A", "B", "C", "Iron"],
                           ["A", "B", "C", "Iron"])
    assert views.agreement(long, ["Iron"]) == pytest.approx(4 / 5)
    assert views.agreement(long) == pytest.approx(5 / 6)


def test_customer_list_filters_by_attributes():
    t = segmented_table()
    got = views.customer_list(t, filters={"region": ["North"], "rfm_segment": ["Champions", "Lost"]})
    assert got["customer_id"].tolist() == ["c1", "c3"]
    assert len(views.customer_list(t, filters={"region": []})) == 6   # an empty choice keeps everyone
    assert views.attribute_values(t, "region").values.tolist() == [["North", 3], ["South", 1]]
