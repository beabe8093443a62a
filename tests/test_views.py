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
                            "revenue": [80.0, 20.0], "revenue_share": [0.8, 0.2]})
    mix = views.tier_mix(summary)
    assert [tuple(r) for r in mix[["measure", "tier", "position", "value", "share"]].itertuples(index=False)] == [
        ("customers", "A", 0, 2.0, 0.2), ("customers", "B", 1, 8.0, 0.8),
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
