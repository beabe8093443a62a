"""The Segments page and the sidebar's method / levels / suggest controls, driven with AppTest on
the sample data; every number is checked against the engine called directly."""

from __future__ import annotations

import pytest

import segcore
from segcore import scores, views

from .test_app import OVERVIEW, SAMPLE, metrics, run, start, text_of

SEGMENTS = "pages/3_Segments.py"
CUSTOMERS = "pages/2_Customers.py"

pytestmark = pytest.mark.skipif(not (SAMPLE / "orders.csv").exists(), reason="sample_data/orders.csv not generated yet")


@pytest.fixture(scope="module")
def sample():
    ds = segcore.load_orders(SAMPLE / "orders.csv")
    segcore.load_customers(ds, SAMPLE / "customers.csv")
    segcore.load_interactions(ds, SAMPLE / "interactions.csv")
    return segcore.customer_metrics(ds.con)


DIMS = ("recency", "frequency", "monetary", "activity", "breadth")  # the sample has all five


def table(at, name: str):
    """A table of the Segments page by its place: the five score tables, the segment summary,
    (the rules editor), the Pareto and weighted summaries, the breakdown."""
    order = [*(f"cuts_{d}" for d in DIMS), "segments", "rules", "pareto", "score", "breakdown"]
    return at.dataframe[order.index(name)].value


def cut_rows(at, dim: str) -> list[list]:
    return table(at, f"cuts_{dim}").values.tolist()


def test_scores_page_shows_the_engines_cuts_per_dimension(sample):
    at = start(SEGMENTS)
    _, cut_table = scores.score_customers(sample, n=5)
    for dim in ("recency", "frequency", "monetary", "activity", "breadth"):
        rows = cut_table[cut_table.dimension == dim]
        shown = cut_rows(at, dim)
        assert [r[0] for r in shown] == rows.score.tolist()
        assert [r[3] for r in shown] == rows.customers.tolist()
    # frequency: most customers buy once, so a score is skipped, and the page says so
    assert "score 2 skipped" in text_of(at)

    at.segmented_control(key="w_score_points").set_value(3)
    run(at)
    _, three = scores.score_customers(sample, n=3)
    assert [r[3] for r in cut_rows(at, "monetary")] == three[three.dimension == "monetary"].customers.tolist()


def test_custom_cut_points_apply_and_bad_ones_are_explained(sample):
    at = start(SEGMENTS)
    at.text_input(key="w_custom_recency").input("30, 90, 180, 365")
    run(at)
    _, cut_table = scores.score_customers(sample, n=5, custom_cuts={"recency": [30, 90, 180, 365]})
    expected = cut_table[cut_table.dimension == "recency"]
    assert [r[3] for r in cut_rows(at, "recency")] == expected.customers.tolist()
    assert not at.error

    at.text_input(key="w_custom_monetary").input("500, 100")
    run(at)
    assert any("Custom cut points for Monetary not used" in e.value and "4 cut points" in e.value for e in at.error)
    at.text_input(key="w_custom_monetary").input("100, 50, 500, 1000")
    run(at)
    assert any("strictly increasing" in e.value for e in at.error)
    # the recency cuts stay in force meanwhile
    assert [r[3] for r in cut_rows(at, "recency")] == expected.customers.tolist()


def test_segment_counts_and_actions_match_the_engine(sample):
    at = start(SEGMENTS)
    scored, _ = segcore.add_scores(sample)
    counts = scored.rfm_segment.value_counts()
    shown = table(at, "segments")
    assert shown["Segment"].tolist()[:11] == scores.DEFAULT_SEGMENT_RULES.segment.tolist()
    assert shown["Customers"].tolist()[:11] == [int(counts.get(s, 0)) for s in shown["Segment"][:11]]
    assert shown["Suggested action"][0] == scores.SEGMENT_ACTIONS["Champions"][0]
    assert counts.sum() == 3000   # every buyer scored: no one left in Others on the sample


def test_edited_segment_rules_regroup_the_customers(sample):
    at = start(SEGMENTS)
    rules = [{"segment": "Best", "r_min": 4, "r_max": 5, "f_min": 4, "f_max": 5, "m_min": 1, "m_max": 5}]
    at.session_state["s_segment_rules"] = rules
    run(at)
    scored, _ = segcore.add_scores(sample, rules=rules)
    shown = table(at, "segments")
    assert shown["Segment"].tolist() == ["Best", "Others"]
    assert shown["Customers"].tolist() == [int((scored.rfm_segment == s).sum()) for s in ("Best", "Others")]
    assert shown["Suggested action"][0] == "–"   # a segment the user named has no stock action
    others = int((scored.rfm_segment == "Others").sum())
    assert f"{others:,} customers ({others / len(scored.rfm_segment.dropna()):.1%}) match no rule" in text_of(at)
    # the customer list carries the user's segments
    at.switch_page(CUSTOMERS)
    run(at)
    assert set(at.dataframe[0].value["rfm_segment"].dropna()) == {"Best", "Others"}


def test_weights_change_the_weighted_levels(sample):
    at = start(SEGMENTS)
    at.slider(key="w_weight_monetary").set_value(4.0)
    at.slider(key="w_weight_activity").set_value(0.0)
    run(at)
    weights = {"recency": 1.0, "frequency": 1.0, "monetary": 4.0, "activity": 0.0, "breadth": 1.0}
    scored, _ = segcore.add_scores(sample, weights=weights)
    tiered = segcore.assign_tiers(scored, segcore.TierRules(method="score", weights=tuple(weights.items())))
    summary = segcore.tier_summary(tiered, ("A", "B", "C"))
    assert table(at, "score")["customers"].tolist() == summary["customers"].tolist()
    # and the score method in the sidebar uses the same weights on every page
    at.button(key="w_use_score").click()
    run(at)
    assert at.segmented_control(key="w_method").value == "score"
    at.switch_page(OVERVIEW)
    run(at)
    assert metrics(at, "Customers") == [f"{n:,}" for n in summary["customers"]]


def test_all_weights_zero_is_refused():
    at = start(SEGMENTS)
    for dim in ("recency", "frequency", "monetary", "activity"):
        at.slider(key=f"w_weight_{dim}").set_value(0.0)
        run(at)
    at.slider(key="w_weight_breadth").set_value(0.0)
    run(at)
    assert any("At least one weight" in w.value for w in at.warning)
    assert at.slider(key="w_weight_breadth").value == 1.0


def test_sidebar_levels_and_score_method_on_the_overview(sample):
    at = start(OVERVIEW)
    at.segmented_control(key="w_method").set_value("score")
    run(at)
    at.segmented_control(key="w_levels").set_value(4)
    run(at)
    assert [s.label for s in at.slider][:3] == ["A: top share of customers by score",
                                              "A + B: top share of customers by score",
                                              "A + B + C: top share of customers by score"]
    scored, _ = segcore.add_scores(sample)
    tiered = segcore.assign_tiers(scored, segcore.TierRules(labels=("A", "B", "C", "D"), method="score"))
    summary = segcore.tier_summary(tiered, ("A", "B", "C", "D"))
    assert metrics(at, "Customers") == [f"{n:,}" for n in summary["customers"]]   # 4 levels + Iron
    assert len(summary) == 5

    at.segmented_control(key="w_method").set_value("computed")
    run(at)
    tiered = segcore.assign_tiers(sample, segcore.TierRules(method="computed"))
    summary = segcore.tier_summary(tiered, ("A", "B", "C"))
    assert metrics(at, "Customers") == [f"{n:,}" for n in summary["customers"]]
    assert "three levels" in text_of(at)


def test_level_names_follow_the_level_count_in_chinese():
    at = start(OVERVIEW)
    at.segmented_control(key="w_lang").set_value("zh")
    run(at)
    at.button(key="w_preset_metal_zh").click()
    run(at)
    at.segmented_control(key="w_levels").set_value(5)
    run(at)
    assert [at.text_input(key=f"w_label_{i}").value for i in range(5)] == ["金钻", "铂金", "黄金", "白银", "铜"]
    assert "铁" in [m.label for m in at.main.metric] or "铁" in text_of(at)


def test_suggest_sets_the_sliders_from_the_computed_abc(sample):
    at = start(OVERVIEW)
    at.button(key="w_suggest").click()
    run(at)
    found = segcore.suggest_cuts(sample)
    assert at.slider(key="w_cut_a_value").value == round(100 * found.a_share)
    assert at.slider(key="w_cut_b_value").value == round(100 * found.b_share)
    assert any("Suggested from the spend curve" in i.value for i in at.info)


def test_breakdown_filter_carries_over_to_the_customer_list(sample):
    at = start(SEGMENTS)
    at.selectbox(key="w_sg_attr").set_value("region")
    run(at)
    values = views.attribute_values(sample, "region")["value"].tolist()
    assert at.multiselect(key="w_filter_region").options == values
    at.multiselect(key="w_filter_region").set_value([values[0]])
    run(at)
    at.switch_page(CUSTOMERS)
    run(at)
    expected = int((sample.region == values[0]).sum())
    assert f"{expected:,}" in text_of(at)
    assert set(at.dataframe[0].value["region"]) == {values[0]}
    # the churn warning and the follow-up list keep to the filter too
    for page in ("pages/5_Churn.py", "pages/6_Playbook.py"):
        at.switch_page(page)
        run(at)
        lists = [d.value for d in at.dataframe if "customer_id" in d.value.columns]
        assert lists and all(set(frame["region"]) <= {values[0]} for frame in lists)
        assert any(f"{values[0]}" in i.value for i in at.info)
    at.switch_page(CUSTOMERS)
    run(at)
    at.button(key="w_filters_clear").click()
    run(at)
    assert len(at.dataframe[0].value) == len(sample)


def test_segments_page_in_chinese():
    at = start(SEGMENTS)
    at.segmented_control(key="w_lang").set_value("zh")
    run(at)
    shown = table(at, "segments")
    assert shown["分群"].tolist()[0] == "冠军客户"
    assert shown["建议行动"].tolist()[0] == scores.SEGMENT_ACTIONS["Champions"][1]


def test_the_rules_editor_shows_segment_names_in_chinese_and_keeps_the_engine_names(sample):
    at = start(SEGMENTS)
    at.segmented_control(key="w_lang").set_value("zh")
    run(at)
    editor = table(at, "rules")
    assert editor["segment"].tolist() == [scores.SEGMENT_NAMES_ZH[s] for s in scores.DEFAULT_SEGMENT_RULES.segment]
    assert editor["segment"][0] == "冠军客户" and table(at, "segments")["分群"][0] == "冠军客户"
    # the shown names map back to the engine's: the default rules stay in force, no rule of the user's
    assert at.session_state["s_segment_rules"] == [] and not at.error
    at.segmented_control(key="w_lang").set_value("en")
    run(at)
    assert table(at, "rules")["segment"][0] == "Champions"


# Six customers, one order of 100 every 5 days: P 1 order 60 days before the last date, Q 2 (40 days),
# S 3 (30), T 4 (20), U 5 (10), V 6 (0). Six distinct values for five scores: the ideal cuts at 1.2,
# 2.4, 3.6 and 4.8 customers fall on 1, 2, 4 and 5, so S and T share score 3 on both axes.
RF_ROWS = [(cid, f, rec) for cid, f, rec in (("P", 1, 60), ("Q", 2, 40), ("S", 3, 30), ("T", 4, 20),
                                              ("U", 5, 10), ("V", 6, 0))]


def rf_file() -> bytes:
    from datetime import date, timedelta
    last = date(2024, 3, 1)
    lines = ["customer_id,order_date,amount"] + [f"{cid},{last - timedelta(days=rec + 5 * k)},100"
                                                 for cid, f, rec in RF_ROWS for k in range(f)]
    return ("\n".join(lines) + "\n").encode()


def test_rf_heatmap_and_scatter_show_the_cells_and_customers():
    import json

    from .test_app import upload, values
    at = upload(start(), "rf.csv", rf_file())
    at.switch_page(SEGMENTS)
    run(at)

    def chart(title):
        return next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                    if json.loads(c.proto.spec)["layout"]["title"]["text"] == title)
    heat = chart("Mean spend by recency score (rows) and frequency score (columns)")["data"][0]
    z = heat["z"]   # z[r - 1][f - 1]: mean spend of the customers with recency score r, frequency score f
    filled = {(r + 1, f + 1): v for r, row in enumerate(z) for f, v in enumerate(row) if v is not None}
    assert filled == {(1, 1): 100, (2, 2): 200, (3, 3): 350, (4, 4): 500, (5, 5): 600}
    assert heat["text"][2][2] == "350" and heat["customdata"][2][2] == "R 3 · F 3<br>2 customers<br>mean spend 350.00"
    assert heat["customdata"][0][4] == "R 1 · F 5<br>0 customers<br>mean spend –"

    scatter = chart("Recency and spend, one colour per tier")["data"]
    # Pareto by spend (2,100 in all): V, U, T, S reach 1,800 (86% > 80%) -> A, Q -> B, P -> C
    assert [trace["name"] for trace in scatter] == ["A", "B", "C"]
    assert [sorted(values(trace["x"])) for trace in scatter] == [[0, 10, 20, 30], [40], [60]]
    assert [sorted(values(trace["y"])) for trace in scatter] == [[300, 400, 500, 600], [200], [100]]
    at.segmented_control(key="w_sg_scatter").set_value("recency_frequency")
    run(at)
    scatter = chart("Recency and orders, one colour per tier")["data"]
    assert sorted(values(scatter[0]["y"])) == [3, 4, 5, 6]


def test_one_share_of_revenue_and_return_only_customers_explained():
    import json

    from .test_app import GOOD_CSV, upload

    # GOOD_CSV (K1 800, K2 130, K3 20 net) plus K4, who only returned goods (-40): the A card and
    # the Pareto label both say 84.2% (800 of 950: K4 counts 0), not 800 of the net 910 (87.9%)
    at = upload(start(), "shop.csv", GOOD_CSV + b"7,2024-03-04,K4,-40\n")
    at.switch_page(OVERVIEW)
    run(at)
    assert metrics(at, "Share of revenue") == ["84.2%", "13.7%", "2.1%"]
    assert metrics(at, "Revenue") == ["800", "130", "-20"]
    help_text = next(m.help for m in at.main.metric if m.label == "Share of revenue")
    assert "a customer whose returns outweigh their purchases counts as 0" in help_text
    pareto = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                  if json.loads(c.proto.spec)["layout"]["title"]["text"].startswith("Pareto curve"))
    assert "A: top 25.0% of customers → 84.2% of revenue" in [a["text"] for a in pareto["layout"]["annotations"]]
    at.switch_page("pages/3_Segments.py")
    run(at)
    assert ("Customers with only returns or cancellations in this window (no order with a positive amount; "
            "net spend 0 or less): 1. With no order there is no recency, frequency or spend to score, so their "
            "scores are empty; they count among “Others” and sit in the last tier.") in [c.value for c in at.caption]
