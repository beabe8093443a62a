"""Migration, churn warning, rising customers and lifecycle on fixtures worked out by hand."""

import math
from datetime import date

import pandas as pd
import pytest

import segcore
from segcore.dynamics import (churn_risk, churn_rules, compare_tiers, lifecycle, lifecycle_rules, migrate,
                              previous_as_of, rising_customers)

# --------------------------------------------------------------------------------------------
# Migration. No order ids: an order is a customer-day. Dates: before D1 = 2024-03-31, after
# D2 = 2024-06-30 (91 days later). Rules: A up to 50% of spend, B up to 90%, then C.
#
# Up to D1 (window 2023-10-01 .. 2024-03-31), total 1,090:
#   x 600 (share before it 0      -> A), y 300 (600/1090 = .55 -> B), z 100 (900/1090 = .83 -> B),
#   w  50 (1000/1090 = .92 -> C),     v  40 (-> C)
# Between the dates: x +100 (700), y +2,000 (2,300), z +50 (150), n 500 (its first order); w and v
# buy nothing. Up to D2, total 3,740:
#   y 2,300 (0 -> A), x 700 (2300/3740 = .61 -> B), n 500 (3000/3740 = .80 -> B),
#   z 150 (3500/3740 = .94 -> C), w 50 -> C, v 40 -> C
# Movements: x A->B downgraded, y B->A upgraded, z B->C downgraded, n new, w lost (bought on
# 01-05, 86 days before D1: active in the 91 days before it, nothing since), v same (last order
# 2023-10-01, 182 days before D1: already dormant, so not lost again).
# --------------------------------------------------------------------------------------------
MIGRATION_ORDERS = """customer_id,order_date,amount
v,2023-10-01,40
w,2024-01-05,50
x,2024-01-10,600
y,2024-02-15,300
z,2024-03-20,100
y,2024-04-15,2000
x,2024-05-01,100
z,2024-06-01,50
n,2024-06-15,500
"""
D1, D2 = date(2024, 3, 31), date(2024, 6, 30)
RULES = segcore.TierRules(labels=("A", "B", "C"), cuts=(0.5, 0.9))


@pytest.fixture
def migration_ds(write):
    return segcore.load_orders(write("orders.csv", MIGRATION_ORDERS))


def test_migration_by_hand(migration_ds):
    mig = migrate(migration_ds.con, RULES, D1, D2)
    c = mig.customers.set_index("customer_id")
    assert list(c.index) == ["n", "v", "w", "x", "y", "z"]
    assert c.movement.to_dict() == {"n": "new", "v": "same", "w": "lost", "x": "downgraded",
                                    "y": "upgraded", "z": "downgraded"}
    assert pd.isna(c.loc["n"].tier_before)  # no tier before its first order
    assert c.tier_before.drop("n").to_dict() == {"v": "C", "w": "C", "x": "A", "y": "B", "z": "B"}
    assert c.tier_after.to_dict() == {"n": "B", "v": "C", "w": "C", "x": "B", "y": "A", "z": "C"}
    # the earlier tiering never sees the later orders
    assert c.loc["x"].monetary_before == 600 and c.loc["x"].monetary_after == 700
    assert math.isnan(c.loc["n"].monetary_before)
    assert c.levels_moved.dropna().astype(int).to_dict() == {"v": 0, "x": -1, "y": 1, "z": -1}
    assert c.revenue.to_dict() == {"n": 500, "v": 40, "w": 50, "x": 700, "y": 2300, "z": 150}


def test_migration_matrices_and_links(migration_ds):
    mig = migrate(migration_ds.con, RULES, D1, D2)
    assert mig.levels == ("A", "B", "C")
    expected = pd.DataFrame([[0, 1, 0, 0], [1, 0, 1, 0], [0, 0, 1, 1], [0, 1, 0, 0]],
                            index=["A", "B", "C", "new"], columns=["A", "B", "C", "lost"])
    pd.testing.assert_frame_equal(mig.customers_matrix, expected, check_names=False)
    assert mig.customers_matrix.index.name == "before" and mig.customers_matrix.columns.name == "after"
    revenue = pd.DataFrame([[0, 700, 0, 0], [2300, 0, 150, 0], [0, 0, 40, 50], [0, 500, 0, 0]],
                           index=["A", "B", "C", "new"], columns=["A", "B", "C", "lost"], dtype=float)
    pd.testing.assert_frame_equal(mig.revenue_matrix, revenue, check_names=False)
    # Sankey: rows are nodes 0-3 (A, B, C, new), columns nodes 4-7 (A, B, C, lost)
    assert list(mig.links.itertuples(index=False, name=None)) == [
        ("A", "B", 1, 700.0, 0, 5), ("B", "A", 1, 2300.0, 1, 4), ("B", "C", 1, 150.0, 1, 6),
        ("C", "C", 1, 40.0, 2, 6), ("C", "lost", 1, 50.0, 2, 7), ("new", "B", 1, 500.0, 3, 5)]
    assert list(mig.nodes.level) == ["A", "B", "C", "new", "A", "B", "C", "lost"]
    assert list(mig.summary.itertuples(index=False, name=None)) == [
        ("upgraded", 1, 300.0, 2300.0), ("downgraded", 2, 700.0, 850.0), ("new", 1, 0.0, 500.0),
        ("lost", 1, 50.0, 50.0), ("same", 1, 40.0, 40.0)]
    assert list(mig.list("downgraded").customer_id) == ["x", "z"]  # by spend before: 600, 100
    assert list(mig.list("lost").customer_id) == ["w"]
    assert list(mig.list("new").customer_id) == ["n"]
    with pytest.raises(ValueError):
        mig.list("moved")


def test_migration_with_prospects(migration_ds, write):
    # p never buys (a prospect at both dates); n was a prospect before its first order: new.
    segcore.load_customers(migration_ds, write("customers.csv", "customer_id,name\np,P\nn,N\n"))
    mig = migrate(migration_ds.con, RULES, D1, D2)
    c = mig.customers.set_index("customer_id")
    assert (c.loc["p"].tier_before, c.loc["p"].tier_after, c.loc["p"].movement) == ("Iron", "Iron", "same")
    assert (c.loc["n"].tier_before, c.loc["n"].tier_after, c.loc["n"].movement) == ("Iron", "B", "new")
    assert list(mig.customers_matrix.index) == ["A", "B", "C", "Iron", "new"]
    assert list(mig.customers_matrix.columns) == ["A", "B", "C", "Iron", "lost"]
    assert mig.customers_matrix.loc["Iron", "Iron"] == 1 and mig.customers_matrix.loc["new", "B"] == 1


def test_migration_dates_and_windows(migration_ds):
    with pytest.raises(ValueError, match="must be before"):
        migrate(migration_ds.con, RULES, D2, D1)
    with pytest.raises(ValueError, match="shorter than"):
        migrate(migration_ds.con, RULES, D1, D2, window_days=30)
    # Default dates: the latest order (2024-06-15) and one quarter earlier.
    mig = migrate(migration_ds.con, RULES)
    assert (mig.as_of_before, mig.as_of_after) == (date(2024, 3, 15), date(2024, 6, 15))
    # Before any order: everybody who bought is new.
    mig = migrate(migration_ds.con, RULES, date(2023, 1, 1), D2)
    assert set(mig.customers.movement) == {"new"}
    # A 120-day rolling window: before = 2023-12-03 .. D1 (v's order is outside, so v is absent
    # before; v has no order in the later window either, so v is not there at all).
    mig = migrate(migration_ds.con, RULES, D1, D2, window_days=120)
    assert "v" not in set(mig.customers.customer_id)
    assert mig.customers.set_index("customer_id").loc["w"].movement == "lost"


def test_compare_with_a_snapshot_matches_migrate(migration_ds):
    before = segcore.assign_tiers(segcore.customer_metrics(migration_ds.con, as_of=D1), RULES)
    after = segcore.assign_tiers(segcore.customer_metrics(migration_ds.con, as_of=D2), RULES)
    direct = compare_tiers(before, after, RULES.labels, as_of_before=D1, as_of_after=D2)
    pd.testing.assert_frame_equal(direct.customers, migrate(migration_ds.con, RULES, D1, D2).customers)


@pytest.mark.parametrize("as_of, period, expected", [
    (date(2024, 6, 30), "quarter", date(2024, 3, 31)),      # a month end maps to a month end
    (date(2024, 5, 31), "quarter", date(2024, 2, 29)),
    (date(2024, 3, 15), "month", date(2024, 2, 15)),
    (date(2024, 3, 31), "month", date(2024, 2, 29)),
    (date(2024, 3, 30), "month", date(2024, 2, 29)),        # clipped to February's length
    (date(2024, 8, 31), "half-year", date(2024, 2, 29)),
    (date(2024, 1, 15), "year", date(2023, 1, 15)),
    (date(2024, 1, 15), 30, date(2023, 12, 16)),
])
def test_previous_as_of(as_of, period, expected):
    assert previous_as_of(as_of, period) == expected


def test_previous_as_of_rejects_unknown_periods():
    with pytest.raises(ValueError, match="Unknown period"):
        previous_as_of(date(2024, 1, 1), "week")


# --------------------------------------------------------------------------------------------
# Churn warning on a per-customer table written by hand (k = 2, drop share 0.5).
# Repeat buyers' intervals: r1 21, r2 20, d1 30, ok 10, h2 12 -> population median 20.
#   r1 A: 94 days / 21 = 4.48 >= 2k = 4                     -> high
#   d1 A: 5 / 30 = 0.17; spend 1,000 -> 200 (down 80% > 50%)  -> low
#   h2 B: 30 / 12 = 2.5 > 2 and spend 400 -> 100 (down 75%)   -> high (both signals)
#   r2 B: 50 / 20 = 2.5 > 2                                  -> medium
#   ok B: 5 / 10, spend flat                                 -> not at risk
#   o1 C: one-time buyer, 70 / population 20 = 3.5 > 2       -> medium
#   o2 C: one-time buyer, 10 / 20                            -> not at risk
#   p   : prospect                                           -> never at risk
# --------------------------------------------------------------------------------------------
def churn_metrics():
    rows = [  # id, tier, recency, frequency, monetary, interval, first half, second half
        ("r1", "A", 94, 5, 2000.0, 21.0, 500.0, 400.0),
        ("d1", "A", 5, 6, 1200.0, 30.0, 1000.0, 200.0),
        ("h2", "B", 30, 4, 500.0, 12.0, 400.0, 100.0),
        ("r2", "B", 50, 3, 600.0, 20.0, 300.0, 300.0),
        ("ok", "B", 5, 8, 200.0, 10.0, 100.0, 100.0),
        ("o1", "C", 70, 1, 80.0, None, 0.0, 80.0),
        ("o2", "C", 10, 1, 60.0, None, 0.0, 60.0),
        ("p", "Iron", None, 0, 0.0, None, 0.0, 0.0),
    ]
    df = pd.DataFrame(rows, columns=["customer_id", "tier", "recency_days", "frequency", "monetary",
                                     "avg_interval_days", "spend_first_half", "spend_second_half"])
    df["recency_days"] = df["recency_days"].astype("Int64")
    df["avg_interval_days"] = df["avg_interval_days"].astype(float)
    d = pd.Timestamp("2024-06-30")
    df["last_order_date"] = [d - pd.Timedelta(days=int(r)) if pd.notna(r) else pd.NaT for r in df.recency_days]
    df["is_prospect"] = df.customer_id == "p"
    df["tier"] = pd.Categorical(df.tier, categories=["A", "B", "C", "Iron"], ordered=True)
    return df


def test_churn_risk_by_hand():
    out = churn_risk(churn_metrics())
    assert list(out.customer_id) == ["r1", "d1", "h2", "r2", "o1"]  # high tiers first, then risk
    assert list(out.risk) == ["high", "low", "high", "medium", "medium"]
    assert out.attrs["population_interval_days"] == 20.0
    r = out.set_index("customer_id")
    assert r.loc["r1"].reason == "no order for 94 days; usually orders every 21 days"
    assert r.loc["r1"].reason_zh == "已 94 天未下单；通常每 21 天下单一次"
    assert r.loc["r1"].overdue_ratio == pytest.approx(4.48)
    assert r.loc["o1"].reason == ("no order for 70 days; a one-time buyer, and customers usually reorder "
                                  "every 20 days")
    assert r.loc["o1"].reason_zh == "已 70 天未下单；仅购买过一次，而客户通常每 20 天复购一次"
    assert (r.loc["o1"].interval_basis, r.loc["o1"].typical_interval_days) == ("population", 20.0)
    assert r.loc["d1"].reason == ("recent spend down 80% (1,000.00 in the first half of the period, "
                                  "200.00 in the second)")
    assert r.loc["h2"].reason_zh == ("已 30 天未下单；通常每 12 天下单一次；"
                                     "近期消费下降 75%（前半期 400.00，后半期 100.00）")
    assert bool(r.loc["h2"].overdue) and bool(r.loc["h2"].spend_drop)


def test_churn_parameters():
    m = churn_metrics()
    assert "r1" not in set(churn_risk(m, k=5).customer_id)  # 4.48 < 5: no longer overdue
    assert list(churn_risk(m, lapse_days=60).customer_id) == ["d1", "h2", "r2"]  # r1, o1 lapsed
    everyone = churn_risk(m, all_customers=True)
    assert set(everyone.customer_id) == {"r1", "d1", "h2", "r2", "ok", "o1", "o2"}
    assert everyone.set_index("customer_id").risk.isna().loc[["ok", "o2"]].all()
    untiered = churn_risk(m.drop(columns=["tier"]))
    assert "tier" not in untiered.columns and len(untiered) == 5
    with pytest.raises(ValueError):
        churn_risk(m, drop_share=1.5)
    rules = churn_rules(2, 0.5)
    assert list(rules.risk) == ["high", "medium", "low"] and "4 x" in rules.rule[0]


# --------------------------------------------------------------------------------------------
# Rising customers. Buyers' second-half spend > 0: 40, 90, 120, 500, 600, 700, 1,000 -> the
# default floor is the median, 500. Level medians of second-half spend: A 1,000, B (600, 90) 345.
#   t1 B: 200 -> 600, trend 2.0, 600 >= 500                   -> rising (A median 1,000 not reached)
#   t2 C: 100 -> 700, trend 6.0                               -> rising, reaches B's median 345
#   t3 C: 100 -> 120, trend 0.2                               -> no
#   t4 A: top level                                           -> no
#   t5 C: 0 -> 500 (no first half: new, not rising)           -> no
#   t6 C: 10 -> 40, trend 3.0 but under the floor             -> no
#   t7 B: 50 -> 90, trend 0.8 but under the floor             -> no (yes with a floor of 50)
# --------------------------------------------------------------------------------------------
def rising_tiered():
    rows = [("t1", "B", 200.0, 600.0), ("t2", "C", 100.0, 700.0), ("t3", "C", 100.0, 120.0),
            ("t4", "A", 100.0, 1000.0), ("t5", "C", 0.0, 500.0), ("t6", "C", 10.0, 40.0),
            ("t7", "B", 50.0, 90.0), ("p", "Iron", 0.0, 0.0)]
    df = pd.DataFrame(rows, columns=["customer_id", "tier", "spend_first_half", "spend_second_half"])
    df["monetary"] = df.spend_first_half + df.spend_second_half
    df["frequency"] = [3, 4, 2, 5, 1, 2, 2, 0]
    df["trend"] = [(s / f - 1) if f > 0 else math.nan for f, s in zip(df.spend_first_half, df.spend_second_half)]
    df["is_prospect"] = df.customer_id == "p"
    df["tier"] = pd.Categorical(df.tier, categories=["A", "B", "C", "Iron"], ordered=True)
    return df


def test_rising_customers_by_hand():
    out = rising_customers(rising_tiered())
    assert out.attrs["min_recent_spend"] == 500.0
    assert list(out.customer_id) == ["t1", "t2"]
    assert list(out.next_tier) == ["A", "B"]
    assert list(out.next_tier_recent_median) == [1000.0, 345.0]
    assert list(out.reaches_next_tier) == [False, True]
    assert out.reason[0] == "recent spend up 200% (200.00 in the first half of the period, 600.00 in the second)"
    assert out.reason[1] == ("recent spend up 600% (100.00 in the first half of the period, 700.00 in the "
                             "second); already at the B level's typical recent spend (345.00)")
    assert out.reason_zh[1] == "近期消费增长 600%（前半期 100.00，后半期 700.00）；已达到 B 级客户的近期消费中位数（345.00）"


def test_rising_parameters():
    t = rising_tiered()
    assert list(rising_customers(t, min_trend=2.5).customer_id) == ["t2"]
    assert list(rising_customers(t, min_recent_spend=50).customer_id) == ["t1", "t7", "t2"]


# --------------------------------------------------------------------------------------------
# Lifecycle. As-of D = 2024-12-31 (the latest order); new = first order within 90 days,
# lapsed = no order for more than 180 days.
#   pr: in the customers file only                                 -> prospect
#   nw: first order 2024-11-15 (46 days)                          -> new
#   re: 2023-06-01, then 2024-12-01 (549 days later, 30 days ago)  -> reactivated
#   la: last order 2024-02-10 (325 days)                          -> lapsed
#   ar: every 20 days until 2024-07-31 (153 days; 153 / 20 > 2k)   -> at risk
#   ac: monthly, last on D, first 2024-10-01 (91 days: not new)    -> active
# --------------------------------------------------------------------------------------------
LIFECYCLE_ORDERS = """customer_id,order_date,amount
re,2023-06-01,100
la,2024-01-10,100
la,2024-02-10,100
ar,2024-06-01,100
ar,2024-06-21,100
ar,2024-07-11,100
ar,2024-07-31,100
ac,2024-10-01,100
ac,2024-11-01,100
nw,2024-11-15,100
ac,2024-12-01,100
re,2024-12-01,100
ac,2024-12-31,100
"""


def test_lifecycle_by_hand(write):
    ds = segcore.load_orders(write("orders.csv", LIFECYCLE_ORDERS))
    segcore.load_customers(ds, write("customers.csv", "customer_id\npr\nnw\n"))
    metrics = segcore.customer_metrics(ds.con)
    out = lifecycle(ds.con, metrics).set_index("customer_id")
    assert out.stage.to_dict() == {"ac": "active", "ar": "at risk", "la": "lapsed", "nw": "new",
                                   "pr": "prospect", "re": "reactivated"}
    assert out.loc["re"].comeback_after_days == 549
    assert out.loc["ar"].risk == "high"
    assert out.loc["nw"].stage_zh == "新客户"
    assert out.loc["ac"].days_since_first_order == 91
    # a shorter lapse threshold turns the at-risk customer into a lapsed one
    assert lifecycle(ds.con, metrics, lapse_days=150).set_index("customer_id").loc["ar"].stage == "lapsed"
    rules = lifecycle_rules()
    assert list(rules.stage) == ["prospect", "new", "reactivated", "lapsed", "at risk", "active"]
    assert rules.rule[1] == "first order ever within the last 90 days"
    assert rules.rule_zh[3] == "超过 180 天未下单"


def test_lifecycle_keeps_the_tier(write):
    ds = segcore.load_orders(write("orders.csv", LIFECYCLE_ORDERS))
    tiered = segcore.assign_tiers(segcore.customer_metrics(ds.con))
    out = lifecycle(ds.con, tiered)
    assert list(out.customer_id) == list(tiered.customer_id)
    assert list(out.tier) == [str(t) for t in tiered.tier]
