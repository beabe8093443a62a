"""The Forecast page and P(alive) on the Churn page, driven with AppTest as a user walks them:
the sample data's forecast for a horizon, a unit, a discount rate and a calibration end changed one
after another, the not-enough-data sentence for a tiny file, and the forecast settings in the
settings file. Every number on the page is computed again by the engine with the same inputs."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

import segcore
from segcore import forecast, views
from tests.test_app import GOOD_CSV, SAMPLE, run, start, text_of, upload, values
from tests.test_app_dynamics import CHURN, chart, go, media, messages, upload_settings  # noqa: F401 (fixture)

FORECAST = "pages/7_Forecast.py"
LAST, FIRST = date(2026, 10, 31), date(2024, 11, 1)  # the sample's dates

pytestmark = pytest.mark.skipif(not (SAMPLE / "orders.csv").exists(), reason="sample_data/orders.csv not generated yet")


@pytest.fixture(scope="module")
def engine():
    """The sample as the app loads it, tiered with the default rules; ``predicted(unit, horizon,
    rate)`` is the forecast table the page should show."""
    ds = segcore.load_orders(SAMPLE / "orders.csv")
    segcore.load_customers(ds, SAMPLE / "customers.csv")
    segcore.load_interactions(ds, SAMPLE / "interactions.csv")
    assert (ds.report.date_min, ds.report.date_max) == (FIRST, LAST)
    rules = segcore.TierRules()
    tiered = segcore.assign_tiers(segcore.customer_metrics(ds.con), rules)
    fits = {unit: forecast.fit_models(forecast.customer_summary(ds.con, LAST, unit, since=FIRST), LAST, unit)
            for unit in ("week", "day")}

    def predicted(unit="week", horizon=52, rate=0.0):
        return forecast.forecast_table(forecast.predict(fits[unit], horizon, rate), tiered, rules)

    return {"ds": ds, "rules": rules, "tiered": tiered, "fits": fits, "predicted": predicted}


def metric(at, label: str) -> list[str]:
    return [m.value for m in at.main.metric if m.label == label]


def forecast_table(at):
    return next(d.value for d in at.dataframe if "prob_no_order" in d.value.columns)


def markdown(at) -> list[str]:
    return [m.value for m in at.markdown]


def pct(x) -> str:
    return f"{x:.0%}"


def check_forecast(at, table):
    """The headline, the tier cards and the customer table show the engine's ``table``."""
    summary = forecast.forecast_summary(table, ("A", "B", "C")).set_index("tier")
    n, active = int(summary["predicted_customers"].sum()), int(summary["likely_active"].sum())
    orders = round(summary["expected_orders"].sum())
    assert any(m.startswith("**In the next ") and f"expect {orders:,} orders from your {n:,} customers.** "
               f"{active:,} of them ({pct(active / n)}) are more likely still customers than gone." in m
               for m in markdown(at))
    cards = summary.loc[["A", "B", "C"]]
    assert metric(at, "Likely still customers") == [
        f"{int(r.likely_active):,} ({pct(r.likely_active / r.predicted_customers)})" for r in cards.itertuples()]
    assert metric(at, "Expected orders") == [f"{r.expected_orders:,.0f}" for r in cards.itertuples()]
    assert metric(at, "Next order, middle date") == [r.median_next_order_date.strftime("%Y-%m-%d")
                                                     for r in cards.itertuples()]
    assert [m.help for m in at.main.metric if m.label == "Lifetime value"] == [
        f"Expected spend {r.expected_spend:,.2f}; its value today, discounted: {r.clv:,.2f}, {r.clv_share:.1%} of all "
        "customers' lifetime value." for r in cards.itertuples()]
    shown = forecast_table(at)
    wanted = views.customer_list(table, sort_by="clv", descending=True)
    assert shown["customer_id"].tolist() == wanted["customer_id"].tolist()
    for column in ("p_alive", "expected_orders", "clv", "expected_next_order_date"):
        pd.testing.assert_series_equal(shown[column], wanted[column], check_index=False, check_dtype=False)


# --- the walk -----------------------------------------------------------------------------------------

def test_forecast_follows_horizon_unit_rate_and_calibration_end(engine):
    at = start(FORECAST)
    assert at.title[0].value == "Forecast"
    assert at.slider(key="w_fc_horizon").value == 52 and at.segmented_control(key="w_fc_unit").value == "week"
    check_forecast(at, engine["predicted"]())
    assert "From 2026-11-01 to 2027-10-30, about 12 months" in text_of(at)

    # half a year ahead: predicted again from the same fit
    at.slider(key="w_fc_horizon").set_value(26)
    run(at)
    check_forecast(at, engine["predicted"](horizon=26))
    assert any(m.startswith("**In the next 26 weeks,") for m in markdown(at))

    # in days: the horizon keeps its length (26 weeks = 182 days), the models are fitted in days
    at.segmented_control(key="w_fc_unit").set_value("day")
    run(at)
    assert at.slider(key="w_fc_horizon").value == 182
    assert at.slider(key="w_fc_horizon").label == "Forecast horizon (days)"
    check_forecast(at, engine["predicted"]("day", 182))

    # 10% a year: each day's spend discounted by 1.1 ** (1 / 365.25)
    at.slider(key="w_fc_rate").set_value(10)
    run(at)
    daily = 1.1 ** (1 / 365.25) - 1
    table = engine["predicted"]("day", 182, daily)
    check_forecast(at, table)
    assert table["clv"].sum() < engine["predicted"]("day", 182)["clv"].sum()
    assert "10% a year = 0.026% a day" in text_of(at)

    # the holdout check: the default holds out the last third, then a date the user picks
    default = forecast.default_calibration_end(engine["ds"].con, FIRST, LAST)
    assert at.date_input(key="w_fc_end").value == default == date(2026, 3, 2)
    at.date_input(key="w_fc_end").set_value(date(2026, 1, 31))
    run(at)
    h = forecast.holdout_check(engine["ds"].con, date(2026, 1, 31), "day", holdout_end=LAST, since=FIRST)
    verdict = f"{abs(h.error_share):.0%} {'under' if h.error_share < 0 else 'over'}"
    assert (f"**Fitted on the orders up to 2026-01-31, the model predicted {round(h.predicted_orders):,} orders "
            f"from these {len(h.customers):,} customers in the held-out 273 days (2026-02-01 to 2026-10-31); "
            f"there were {h.actual_orders:,}: {verdict}.**") in markdown(at)
    assert metric(at, "Predicted orders") == [f"{round(h.predicted_orders):,}"]
    assert metric(at, "Actual orders") == [f"{h.actual_orders:,}"]
    assert metric(at, "Correlation per customer") == [f"{h.correlation:.2f}"]
    assert metric(at, "Average miss per customer") == [f"{h.mae:.2f}"]
    assert any(f"(correlation {h.correlation:.2f}; 1 would be perfect); it was off by {h.mae:.2f} orders" in m
               for m in markdown(at))
    track = chart(at, "Repeat orders week by week, cumulative")["data"]
    assert values(track[0]["y"]) == h.tracking["actual"].tolist()
    assert values(track[2]["y"]) == pytest.approx(h.tracking["predicted_from_e"][h.tracking["week"] >= 0].tolist())
    bars = chart(at, "Orders per customer after the calibration end, by repeat orders before it")["data"]
    assert values(bars[0]["x"]) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert values(bars[0]["y"]) == pytest.approx(h.by_frequency["actual_mean"].tolist())
    assert values(bars[1]["y"]) == pytest.approx(h.by_frequency["predicted_mean"].tolist())

    # back to the default date; everything kept across a page switch
    at.button(key="w_fc_end_default").click()
    run(at)
    assert at.date_input(key="w_fc_end").value == default
    go(at, CHURN)
    go(at, FORECAST)
    assert (at.slider(key="w_fc_horizon").value, at.segmented_control(key="w_fc_unit").value,
            at.slider(key="w_fc_rate").value) == (182, "day", 10)


def test_past_against_expected_value_and_cohorts(engine):
    at = start(FORECAST)
    table = engine["predicted"]()
    cross = chart(at, "Tier by past spend → tier by expected lifetime value")["data"][0]
    expected = views.cross_tab(views.keep_rows(table, tier=["A", "B", "C"]), "tier", "expected_tier",
                               ["A", "B", "C"], ["A", "B", "C"])
    assert [v for row in cross["text"] for v in row] == [f"{n:,}" for n in expected["customers"]]
    lists = forecast.value_lists(table, ["A", "B", "C"])
    value_table = next(d.value for d in at.dataframe if "expected_tier" in d.value.columns
                       and "prob_no_order" not in d.value.columns)
    assert value_table["customer_id"].tolist() == lists["likely_gone"]["customer_id"].tolist()
    assert at.segmented_control(key="w_fc_list").options == [
        f"High value, likely gone ({len(lists['likely_gone'])})",
        f"Low value now, high expected value ({len(lists['potential']):,})"]
    at.segmented_control(key="w_fc_list").set_value("potential")
    run(at)
    value_table = next(d.value for d in at.dataframe if "expected_tier" in d.value.columns
                       and "prob_no_order" not in d.value.columns)
    assert value_table["customer_id"].tolist() == lists["potential"]["customer_id"].tolist()
    assert {"w_fc_list_dl_csv", "w_fc_list_dl_xlsx", "w_fc_dl_csv", "w_fc_dl_xlsx"} <= {
        b.key for b in at.download_button}

    # cohorts of tier A only: month 0 holds each cohort's A customers
    at.pills(key="w_fc_cohort_tiers").set_value(["A"])
    run(at)
    cohorts = forecast.cohort_table(engine["ds"].con, tiered=engine["tiered"], tiers=["A"])
    heat = chart(at, "Share of each cohort ordering (%), by months since the first order (0 = the first month)")
    months = [pd.Timestamp(f"{m}-01").strftime("%b %Y") for m in cohorts.retention.index]   # Nov 2024
    assert heat["data"][0]["y"] == months
    assert heat["data"][0]["text"][0][:3] == [f"{100 * v:.0f}" for v in cohorts.retention.iloc[0, :3]]
    assert heat["data"][0]["customdata"][0][1] == f"First order in {months[0]}, month 1: " \
        f"{cohorts.retention.iloc[0, 1]:.0%}"
    revenue = chart(at, "Spend of each cohort, by months since the first order (point at a cell for the amount)")
    top = cohorts.revenue.max().max()  # colours: each cell against the largest
    z = revenue["data"][0]["z"]
    shape = [int(n) for n in str(z["shape"]).split(",")]
    assert values(z)[:shape[1]] == pytest.approx((cohorts.revenue.iloc[0] / top).tolist(), nan_ok=True)


def test_the_page_in_chinese(engine):
    at = start(FORECAST)
    at.segmented_control(key="w_lang").set_value("zh")
    run(at)
    assert at.title[0].value == "预测"
    summary = forecast.forecast_summary(engine["predicted"](), ("A", "B", "C"))
    n, orders = int(summary["predicted_customers"].sum()), round(summary["expected_orders"].sum())
    assert any(m.startswith(f"**未来 52周，预计您的 {n:,} 位客户将下 {orders:,} 单**。") for m in markdown(at))
    h = forecast.holdout_check(engine["ds"].con, date(2026, 3, 2), "week", holdout_end=LAST, since=FIRST)
    assert any(m.startswith(f"**基于截至 2026-03-02 的订单拟合，模型预测这 {len(h.customers):,} 位客户在留出的 34.7周")
               for m in markdown(at))
    assert metric(at, "很可能仍是客户") and metric(at, "预测订单数") == [f"{round(h.predicted_orders):,}"]
    track = next(json.loads(c.proto.spec)["layout"]["xaxis"] for c in at.get("plotly_chart")
                 if json.loads(c.proto.spec)["layout"]["title"]["text"] == "逐周累计回购订单")
    assert [s["value"] for s in track["tickformatstops"]] == ["%Y年%-m月%-d日", "%Y年%-m月", "%Y年"]
    cohorts = next(json.loads(c.proto.spec)["data"][0] for c in at.get("plotly_chart")
                   if json.loads(c.proto.spec)["layout"]["title"]["text"].startswith("各同期群下单客户占比"))
    assert cohorts["y"][0] == "2024年11月" and cohorts["customdata"][0][0].startswith("2024年11月 首次下单，第 0 个月")


# --- not enough data --------------------------------------------------------------------------------

def test_a_file_too_small_to_predict_from_says_what_is_missing():
    # K1 orders on 01-05 and 02-01, K2 on 02-10 (its 03-03 line is a return), K3 on 03-01: one
    # repeat buyer. The check's default date holds out 19 of the 58 days: 2024-02-13, when the
    # orders cover 39 days.
    at = upload(start(), "tiny.csv", GOOD_CSV)
    go(at, FORECAST)
    warnings = [w.value for w in at.warning]
    assert warnings == [
        "Customers who ordered again after their first order up to 2024-03-03: 1. The models need at least 20 "
        "such repeat buyers.",
        "The orders up to 2024-02-13 cover only 39 days; the models need at least 56 days to learn how often "
        "customers come back.",
        "Customers who ordered again after their first order up to 2024-03-03: 1. The models need at least 20 "
        "such repeat buyers."]
    assert at.date_input(key="w_fc_end").value == date(2024, 2, 13)
    assert not at.dataframe  # no forecast table, no numbers that mean nothing
    assert chart(at, "Share of each cohort ordering (%), by months since the first order (0 = the first month)")
    # the rest of the app keeps working; the Churn page says why P(alive) is missing
    go(at, CHURN)
    assert metric(at, "Customers at risk")
    assert [i.value for i in at.info if i.value.startswith("P(alive)")] == [
        "P(alive) cannot be shown: Customers who ordered again after their first order up to 2024-03-03: 1. "
        "The models need at least 20 such repeat buyers."]
    at.segmented_control(key="w_lang").set_value("zh")
    run(at)
    go(at, FORECAST)
    assert at.warning[0].value == ("截至 2024-03-03，只有 1 位客户在首次下单后再次下单；模型至少需要 20 位回购客户。")


# --- the Churn page ---------------------------------------------------------------------------------

def test_churn_page_lists_where_palive_and_the_rule_disagree(engine):
    at = start(CHURN)
    both = forecast.palive_vs_churn(engine["predicted"](), ["A", "B", "C", "Iron"], k=2.0, drop_share=0.5)
    differ = both[~both["agree"]]
    counts = next(t.value for t in at.table if "Model and rule" in t.value.columns)
    assert counts.values.tolist() == [
        ["Both agree", f"{int(both['agree'].sum()):,}", "Both call them at risk or likely gone, or neither does."],
        *([label, f"{int((differ['reason_code'] == code).sum()):,}", forecast.DISAGREEMENT_REASONS[code][0]]
          for code, label in (("one_time_buyer", "Rule flags a one-time buyer"),
                              ("spend_drop_only", "Rule flags falling spend only"),
                              ("overdue_but_likely_active", "Rule: overdue; model: likely active"),
                              ("gone_within_usual_interval", "Model: likely gone; rule: not overdue")))]
    shown = next(d.value for d in at.dataframe if "reason_code" in d.value.columns)
    assert shown["customer_id"].tolist() == differ["customer_id"].tolist()[:len(shown)]
    assert shown["reason_code"].tolist() == [forecast.DISAGREEMENT_REASONS[c][0] for c in differ["reason_code"]]
    one_time = shown[shown["x"] == 0]
    assert len(one_time) > 1000 and (one_time["p_alive"] == 1).all()  # the model cannot see them leave
    assert f"{len(differ):,} of {len(both):,} buyers: the model and the rule disagree" in text_of(at)
    assert {"w_pa_dl_csv", "w_pa_dl_xlsx"} <= {b.key for b in at.download_button}
    # the page's tier filter and rule apply to the list too
    at.pills(key="w_risk_tiers").set_value(["A"])
    at.slider(key="w_churn_k").set_value(3.0)
    run(at)
    strict = forecast.palive_vs_churn(engine["predicted"](), ["A", "B", "C", "Iron"], k=3.0, drop_share=0.5)
    wanted = strict[~strict["agree"] & (strict["tier"] == "A")]
    shown = next(d.value for d in at.dataframe if "reason_code" in d.value.columns)
    assert shown["customer_id"].tolist() == wanted["customer_id"].tolist()
    at.segmented_control(key="w_lang").set_value("zh")
    run(at)
    shown = next(d.value for d in at.dataframe if "reason_code" in d.value.columns)
    assert shown["reason_code"].tolist() == [forecast.DISAGREEMENT_REASONS[c][1] for c in wanted["reason_code"]]


# --- the settings file ------------------------------------------------------------------------------

def test_forecast_settings_go_into_the_settings_file_and_come_back(engine, media):  # noqa: F811 (the fixture imported above)
    at = start(FORECAST)
    at.segmented_control(key="w_fc_unit").set_value("day")
    run(at)
    at.slider(key="w_fc_horizon").set_value(120)
    at.slider(key="w_fc_rate").set_value(8)
    run(at)
    at.date_input(key="w_fc_end").set_value(date(2026, 2, 15))
    run(at)
    shown = metric(at, "Predicted orders")
    go(at, "app.py")
    text = media(at, "w_settings_download")
    saved = json.loads(text)
    assert (saved["forecast_unit"], saved["forecast_horizon"], saved["forecast_calibration_end"]) == (
        "day", 120.0, "2026-02-15")
    assert saved["forecast_discount_rate"] == pytest.approx(1.08 ** (1 / 365.25) - 1)
    # the command line reads the same values from the file
    settings = segcore.Settings.from_json(text)
    assert (settings.forecast_unit, settings.forecast_horizon, settings.forecast_calibration_end) == (
        "day", 120.0, date(2026, 2, 15))

    fresh = start()
    upload_settings(fresh, "segcore_settings.json", text)
    assert "Settings from segcore_settings.json applied." in messages(fresh)
    go(fresh, FORECAST)
    assert fresh.segmented_control(key="w_fc_unit").value == "day"
    assert (fresh.slider(key="w_fc_horizon").value, fresh.slider(key="w_fc_rate").value) == (120, 8)
    assert fresh.date_input(key="w_fc_end").value == date(2026, 2, 15)
    assert metric(fresh, "Predicted orders") == shown
    check_forecast(fresh, engine["predicted"]("day", 120, settings.forecast_discount_rate))
