"""The Forecast page's helpers: the unit switch, the holdout check (cached per dataset,
calibration end, window and unit) with its calibration-end control and its figures in words, the
forecast's headline, the cohorts (memoised per session) and the columns of the page's tables.

Must not hold anything another page uses: the fit and the predictions beside the tiers are
``ui.data`` and ``ui.context`` (the Churn page shows P(alive) too); the models are
``segcore.forecast``, the figures ``ui.charts``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

import segcore
from segcore import forecast
from ui import context, fmt, state
from ui.i18n import t

if TYPE_CHECKING:
    from ui.context import Ctx

# The per-customer table: who, the predictions, then the past they come from.
TABLE_COLUMNS = ("customer_id", "name", "tier", "p_alive", "expected_orders", "expected_next_order_date",
                 "expected_spend", "clv", "expected_order_value", "expected_tier", "prob_no_order", "monetary",
                 "frequency", "recency_days", "last_order_date", "x", "region", "city", "channel")
SORTS = ("clv", "p_alive", "expected_orders", "expected_spend", "expected_next_order_date", "monetary", "rank")
LISTS = ("likely_gone", "potential")  # the value lists of segcore.forecast.value_lists
LIST_COLUMNS = ("customer_id", "name", "tier", "expected_tier", "p_alive", "clv", "monetary", "last_order_date",
                "frequency", "recency_days", "expected_orders", "expected_next_order_date", "expected_order_value",
                "region", "city", "channel")
FREQUENCY_COLUMNS = ("frequency", "customers", "actual_orders", "predicted_orders", "actual_mean", "predicted_mean")
# How closely per-customer predictions follow what happened, by correlation (first bound reached).
CORRELATION_WORDS = ((0.7, "close"), (0.4, "fair"), (float("-inf"), "loose"))
EXACT_SHARE = 0.005  # a total within half a percent of what happened is called right


def unit_changed() -> None:
    """A new time unit: the horizon keeps its length (52 weeks become 364 days, and back)."""
    ss = st.session_state
    unit = ss["s_fc_unit"]
    before = next(u for u in state.FC_UNITS if u != unit)
    days = ss["s_fc_horizon"] * forecast.UNITS[before]
    ss["s_fc_horizon"] = min(max(round(days / forecast.UNITS[unit]), 1), state.FC_HORIZON_MAX[unit])


def horizon_note(ctx: Ctx) -> str:
    """The horizon as dates and months, and the discount rate per unit, in words."""
    ss = st.session_state
    options = state.forecast_options()
    unit, horizon = options["unit"], options["horizon"]
    days = horizon * forecast.UNITS[unit]
    note = t("fc_horizon_note", start=fmt.date(ctx.as_of + timedelta(days=1)),
             end=fmt.date(ctx.as_of + timedelta(days=round(days))),
             months=fmt.duration(days * 12 / state.YEAR_DAYS, "month", 1))
    if ss["s_fc_rate"]:
        note += " · " + t("fc_rate_note", rate=fmt.percent(ss["s_fc_rate"] / 100, 0),
                          per_unit=fmt.percent(options["discount_rate"], 3), per=t(f"fc_per_{unit}"))
    return note


def headline(fit: forecast.ModelFit, summary: pd.DataFrame) -> str:
    """The forecast in one sentence: orders, spend and lifetime value over the horizon, and how
    many customers are likely still active."""
    options = state.forecast_options()
    customers = int(summary["predicted_customers"].sum())
    active = int(summary["likely_active"].sum())
    text = t("fc_headline", period=fmt.duration(options["horizon"], options["unit"]),
             orders=fmt.integer(round(summary["expected_orders"].sum())), customers=fmt.integer(customers),
             active=fmt.integer(active), share=fmt.percent(active / customers if customers else None, 0))
    if fit.gamma_gamma is not None:
        text += " " + t("fc_headline_value", spend=fmt.money(summary["expected_spend"].sum(), compact=True),
                        rate=fmt.percent(st.session_state["s_fc_rate"] / 100, 0),
                        clv=fmt.money(summary["clv"].sum(), compact=True))
    return text


@st.cache_resource(show_spinner=False, max_entries=8)
def _holdout(key: str, calibration_end: date, holdout_end: date, since: date, unit: str,
             _ds: segcore.Dataset) -> forecast.Holdout | segcore.PredictError:
    try:
        return forecast.holdout_check(_ds.con.cursor(), calibration_end, unit, holdout_end=holdout_end, since=since)
    except segcore.PredictError as exc:
        return exc


def holdout(ctx: Ctx, calibration_end: date) -> forecast.Holdout:
    """The models fitted on the orders up to ``calibration_end`` and compared with the orders
    after it, up to the as-of date (cached: once per dataset, date, window and unit). Raises
    :class:`segcore.PredictError` when the data cannot support the check."""
    result = _holdout(ctx.spec.key, calibration_end, ctx.as_of, ctx.start, st.session_state["s_fc_unit"], ctx.ds)
    if isinstance(result, segcore.PredictError):
        raise result
    return result


def _end_changed() -> None:
    ss = st.session_state
    ss["s_fc_end"] = ss["w_fc_end"]  # cleared: back to the default


def calibration_control(ctx: Ctx) -> date:
    """The calibration end's date input and its reset button; the date to check with: the one
    chosen (kept inside the window), else the default that holds out the last third."""
    ss = st.session_state
    default = state.memo("fc_default_end", (ctx.spec.key, ctx.start, ctx.as_of),
                         lambda: forecast.default_calibration_end(ctx.cursor(), ctx.start, ctx.as_of))
    lo, hi = ctx.start, max(ctx.as_of - timedelta(days=1), ctx.start)
    chosen = min(max(ss["s_fc_end"] or default, lo), hi)
    date_col, reset_col, _ = st.columns([1.2, 1.2, 1], vertical_alignment="bottom")
    state.seed("w_fc_end", chosen)
    date_col.date_input(t("fc_end"), key="w_fc_end", min_value=lo, max_value=hi, on_change=_end_changed,
                        help=t("fc_end_help", date=fmt.date(default)))
    reset_col.button(t("fc_end_default"), key="w_fc_end_default", icon=":material/restart_alt:",
                     disabled=ss["s_fc_end"] is None, on_click=lambda: ss.__setitem__("s_fc_end", None))
    return chosen


def holdout_sentences(h: forecast.Holdout) -> list[str]:
    """The holdout check in words a shop owner reads: the total against what happened, how
    closely it follows customer by customer, and who is not part of the check."""
    share = h.error_share
    if fmt.is_missing(share):
        verdict = t("fc_ho_none")
    elif abs(share) < EXACT_SHARE:
        verdict = t("fc_ho_exact")
    else:
        verdict = t("fc_ho_under" if share < 0 else "fc_ho_over", share=fmt.percent(abs(share), 0))
    sentences = [t("fc_ho_total", end=fmt.date(h.calibration_end), customers=fmt.integer(len(h.customers)),
                   predicted=fmt.integer(round(h.predicted_orders)), period=fmt.duration(h.length, h.unit, 1),
                   start=fmt.date(h.calibration_end + timedelta(days=1)), last=fmt.date(h.holdout_end),
                   actual=fmt.integer(h.actual_orders), verdict=verdict)]
    if not fmt.is_missing(h.correlation):
        word = next(w for bound, w in CORRELATION_WORDS if h.correlation >= bound)
        sentences.append(t(f"fc_ho_corr_{word}", correlation=fmt.number(h.correlation, 2),
                           mae=fmt.number(h.mae, 2)))
    if h.new_customers:
        sentences.append(t("fc_ho_new", n=fmt.integer(h.new_customers), orders=fmt.integer(h.new_customer_orders),
                           end=fmt.date(h.calibration_end)))
    return sentences


def parameters(fit: forecast.ModelFit) -> str:
    """The fitted parameters in one line, for those who compare them with other tools."""
    bg, gg = fit.bgnbd, fit.gamma_gamma
    text = t("fc_params_bgnbd", r=fmt.number(bg.r, 3), alpha=fmt.number(bg.alpha, 3), a=fmt.number(bg.a, 3),
             b=fmt.number(bg.b, 3), n=fmt.integer(len(fit.summary)))
    if gg is not None:
        text += "  \n" + t("fc_params_gg", p=fmt.number(gg.p, 3), q=fmt.number(gg.q, 3), v=fmt.number(gg.v, 3),
                           n=fmt.integer(gg.customers), correlation=fmt.number(fit.spend_frequency_correlation, 2))
    return text


def cohorts(ctx: Ctx, tiers: list[str]) -> forecast.Cohorts:
    """First-order cohorts in the window, of the chosen tiers (all when none is chosen)."""
    return state.memo("fc_cohorts", (context.tiers_key(), tuple(tiers)), lambda: forecast.cohort_table(
        ctx.cursor(), as_of=ctx.as_of, since=ctx.start, tiered=ctx.tiered if tiers else None, tiers=tiers or None))


def columns_of(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """The given columns of a table (those it has), in that order: what a download holds."""
    return frame[[c for c in columns if c in frame.columns]]
