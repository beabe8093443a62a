"""Playbook defaults and the follow-up list, worked out by hand."""

from datetime import date

import pandas as pd
import pytest

import segcore
from segcore.playbook import (DEFAULT_PLAYBOOK, FOLLOW_UP_COLUMNS, PLAYBOOK_FIELDS, check_playbook,
                              default_playbook, follow_ups, playbook_frame)


def test_default_playbook_for_two_to_five_levels():
    cadences = {n: [row["cadence_days"] for row in default_playbook("ABCDE"[:n])] for n in range(2, 6)}
    assert cadences == {2: [14, 90, 60], 3: [14, 30, 90, 60], 4: [14, 30, 60, 90, 60],
                        5: [14, 21, 30, 60, 90, 60]}
    rows = default_playbook(("金钻", "白银", "铜"), "铁")
    assert [r["level"] for r in rows] == ["金钻", "白银", "铜", "铁"]
    assert rows[0]["service_level"] == "Dedicated (VIP)" and rows[0]["strategy_zh"].startswith("专属客户经理")
    assert rows[3]["strategy"].startswith("Wake-up campaign")
    assert all(set(r) == set(PLAYBOOK_FIELDS) and all(r[f] for f in PLAYBOOK_FIELDS) for r in rows)
    assert [r["level"] for r in default_playbook(("A", "B"), None)] == ["A", "B"]
    assert set(DEFAULT_PLAYBOOK) == {2, 3, 4, 5}
    with pytest.raises(ValueError):
        default_playbook(("A",))


def test_playbook_is_editable_as_a_table():
    frame = playbook_frame(default_playbook())
    assert list(frame.columns) == list(PLAYBOOK_FIELDS)
    frame.loc[1, "cadence_days"] = 21.0  # a table editor hands numbers back as floats
    rows = check_playbook(frame)
    assert rows[1]["cadence_days"] == 21 and isinstance(rows[1]["cadence_days"], int)
    assert check_playbook([{"level": " A ", "cadence_days": 7}]) == [
        {"level": "A", "strategy": "", "strategy_zh": "", "service_level": "", "service_level_zh": "",
         "cadence_days": 7}]


@pytest.mark.parametrize("rows, message", [
    ([{"level": "A", "cadence_days": 0}], "whole number of days"),
    ([{"level": "A", "cadence_days": 2.5}], "whole number of days"),
    ([{"level": "A", "cadence_days": "soon"}], "whole number of days"),
    ([{"level": "A", "cadence_days": 7}, {"level": "A", "cadence_days": 9}], "two rows"),
    ([{"level": "", "cadence_days": 7}], "no level"),
    ([{"level": "A", "cadence_days": 7, "colour": "red"}], "unknown field"),
])
def test_bad_playbooks_are_refused(rows, message):
    with pytest.raises(ValueError, match=message):
        check_playbook(rows)


# As-of 2024-06-30; cadences A 14, B 30, C 90, Iron 60 days.
#   f1 A: last order 06-01, last contact 06-10 -> next 06-24: overdue 6 days (a regular buyer)
#   f2 A: last order 06-20                      -> next 07-04: due (within 7 days)
#   f3 B: last order 05-01, contact 04-01       -> next 05-31: overdue 30 days
#   f4 C: last order 06-01                      -> next 08-30: scheduled
#   f5 Iron: never bought nor contacted         -> next = as-of: due today, 0 days overdue
#   f6 Iron: contacted 03-01                    -> next 04-30: overdue 61 days
def tiered():
    d = lambda s: pd.Timestamp(s) if s else pd.NaT  # noqa: E731
    rows = [("f1", "A", "2024-06-01", "2024-06-10", 900.0), ("f2", "A", "2024-06-20", None, 800.0),
            ("f3", "B", "2024-05-01", "2024-04-01", 300.0), ("f4", "C", "2024-06-01", None, 50.0),
            ("f5", "Iron", None, None, 0.0), ("f6", "Iron", None, "2024-03-01", 0.0)]
    df = pd.DataFrame({"customer_id": [r[0] for r in rows],
                       "tier": pd.Categorical([r[1] for r in rows], categories=["A", "B", "C", "Iron"],
                                              ordered=True),
                       "last_order_date": [d(r[2]) for r in rows],
                       "last_interaction_date": [d(r[3]) for r in rows],
                       "monetary": [r[4] for r in rows]})
    df["recency_days"] = (pd.Timestamp("2024-06-30") - df.last_order_date).dt.days.astype("Int64")
    df["name"] = ["Ann", "Bo", "Cy", "Di", "Ed", "Fu"]
    return df


def test_follow_up_list_by_hand():
    out = follow_ups(tiered(), as_of=date(2024, 6, 30))
    assert list(out.columns) == [*FOLLOW_UP_COLUMNS, "name"]
    assert list(out.customer_id) == ["f6", "f3", "f1", "f5", "f2", "f4"]  # overdue first
    assert list(out.days_overdue) == [61, 30, 6, 0, 0, 0]
    assert list(out.status) == ["overdue", "overdue", "overdue", "due", "due", "scheduled"]
    assert [d.date() for d in out.next_contact_date] == [
        date(2024, 4, 30), date(2024, 5, 31), date(2024, 6, 24), date(2024, 6, 30), date(2024, 7, 4),
        date(2024, 8, 30)]
    assert list(out.cadence_days) == [60, 30, 14, 60, 14, 90]
    assert out.set_index("customer_id").loc["f1"].service_level == "Dedicated (VIP)"
    # the as-of date defaults to the table's own (last order + recency)
    pd.testing.assert_frame_equal(follow_ups(tiered()), out)


def test_follow_up_filters_and_overrides():
    t = tiered()
    assert list(follow_ups(t, as_of=date(2024, 6, 30), status="overdue").customer_id) == ["f6", "f3", "f1"]
    assert list(follow_ups(t, as_of=date(2024, 6, 30), tiers=["A"]).customer_id) == ["f1", "f2"]
    # a call made yesterday pushes f1's next contact to 07-13
    out = follow_ups(t, as_of=date(2024, 6, 30), last_interaction={"f1": date(2024, 6, 29)})
    f1 = out.set_index("customer_id").loc["f1"]
    assert (f1.next_contact_date.date(), f1.status) == (date(2024, 7, 13), "scheduled")
    # an edited playbook: A every 7 days
    plays = default_playbook(("A", "B", "C"), "Iron")
    plays[0]["cadence_days"] = 7
    out = follow_ups(t, plays, as_of=date(2024, 6, 30)).set_index("customer_id")
    assert out.loc["f1"].days_overdue == 13  # 06-10 + 7 = 06-17
    with pytest.raises(ValueError, match="no row for level"):
        follow_ups(t, plays[:3], as_of=date(2024, 6, 30))
    with pytest.raises(ValueError, match="status"):
        follow_ups(t, as_of=date(2024, 6, 30), status="late")


def test_follow_ups_on_engine_output(write):
    ds = segcore.load_orders(write("orders.csv", "customer_id,order_date,amount\n"
                                                  "a,2024-01-01,500\na,2024-03-01,500\nb,2024-03-31,50\n"))
    t = segcore.assign_tiers(segcore.customer_metrics(ds.con), segcore.TierRules(cuts=(0.8, 0.95)))
    # as-of 2024-03-31; a holds 1000/1050 of spend: A (14 days); b starts at .952 >= .95: C (90 days)
    out = follow_ups(t).set_index("customer_id")
    assert (out.loc["a"].tier, out.loc["a"].days_overdue, out.loc["a"].status) == ("A", 16, "overdue")
    assert (out.loc["b"].tier, out.loc["b"].next_contact_date.date()) == ("C", date(2024, 6, 29))


def test_lapsed_customers_are_marked_by_the_threshold():
    # f3 last bought 60 days ago, f1 and f4 29; f5 and f6 have no order (prospects): never lapsed
    out = follow_ups(tiered(), as_of=date(2024, 6, 30), lapse_days=29).set_index("customer_id")
    assert out["lapsed"].to_dict() == {"f1": False, "f2": False, "f3": True, "f4": False, "f5": False, "f6": False}
    assert follow_ups(tiered(), as_of=date(2024, 6, 30), lapse_days=28).set_index("customer_id")["lapsed"].sum() == 3
    assert not follow_ups(tiered(), as_of=date(2024, 6, 30))["lapsed"].any()   # no threshold: nobody
