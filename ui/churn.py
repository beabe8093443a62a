"""The Churn warning page's helpers: the at-risk list, P(alive) beside the rule, the customers on
the rise and every customer's lifecycle stage (each memoised per session for the tiers and
settings it depends on), risk and disagreement counts, and the engine's rule tables in the UI
language.

Must not hold anything another page uses; the rules themselves are ``segcore.dynamics``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from segcore import dynamics, forecast, views
from ui import context, fmt, naming, state
from ui.i18n import t

if TYPE_CHECKING:
    from ui.context import Ctx

RISK_COLUMNS = ("customer_id", "name", "tier", "risk", "reason", "recency_days", "typical_interval_days",
                "overdue_ratio", "spend_first_half", "spend_second_half", "monetary", "frequency",
                "last_order_date", "region", "city", "channel")
PALIVE_COLUMNS = ("customer_id", "name", "tier", "p_alive", "risk", "reason_code", "recency_days",
                  "typical_interval_days", "x", "monetary", "last_order_date", "region", "city", "channel")
RISING_COLUMNS = ("customer_id", "name", "tier", "next_tier", "trend", "reason", "spend_first_half",
                  "spend_second_half", "monetary", "frequency", "region", "city", "channel")


def at_risk(ctx: Ctx) -> pd.DataFrame:
    """Buyers at risk (:func:`segcore.dynamics.churn_risk`; lapsed customers left out)."""
    lapse = int(st.session_state["s_lapse_days"])
    options = state.churn_options()
    return state.memo("churn", (context.tiers_key(), tuple(options.values()), lapse),
                      lambda: dynamics.churn_risk(ctx.tiered, ctx.levels, lapse_days=lapse, **options))


def risk_counts(ctx: Ctx, risk: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """(customers at risk per tier and level, a :func:`views.cross_tab`; the total per level)."""
    by_tier = views.cross_tab(risk, "tier", "risk", ctx.rules.labels, dynamics.RISK_LEVELS)
    totals = by_tier.groupby("column")["customers"].sum()
    return by_tier, {level: int(totals.get(level, 0)) for level in dynamics.RISK_LEVELS}


def rules_table(rules: pd.DataFrame, first: str) -> None:
    """A rules table of the engine (``churn_rules`` / ``lifecycle_rules``) in the UI language,
    as a static table so the rule texts wrap."""
    columns = [first, "rule"]
    st.table(naming.shown(rules)[columns].rename(columns={c: naming.col_label(c) for c in columns}), hide_index=True,
             border="horizontal")


def rising(ctx: Ctx) -> pd.DataFrame:
    trend = st.session_state["s_rising_trend"] / 100
    return state.memo("rising", (context.tiers_key(), trend),
                      lambda: dynamics.rising_customers(ctx.tiered, ctx.levels, min_trend=trend))


def lifecycle(ctx: Ctx) -> pd.DataFrame:
    """Lifecycle stage per customer (:func:`segcore.dynamics.lifecycle`), with ``monetary``."""
    options = state.lifecycle_options()

    def compute():
        life = dynamics.lifecycle(ctx.cursor(), ctx.tiered, as_of=ctx.as_of, **options)
        life["monetary"] = ctx.tiered["monetary"].to_numpy()  # same rows, same order
        return life
    return state.memo("lifecycle", (context.tiers_key(), tuple(options.values())), compute)


def palive_beside_rule(ctx: Ctx) -> pd.DataFrame:
    """P(alive) beside the churn rule for every buyer with a prediction, with the reason where
    they disagree (:func:`segcore.forecast.palive_vs_churn`; memoised). Raises
    :class:`segcore.PredictError` when the data cannot support the model."""
    _, table = context.predictions(ctx)
    options = state.churn_options()
    return state.memo("palive_rule", (context.tiers_key(), tuple(state.forecast_options().values()),
                                      tuple(options.values())),
                      lambda: forecast.palive_vs_churn(table, ctx.levels, **options))


def reason_table(both: pd.DataFrame) -> None:
    """How many buyers the model and the rule agree on, and how many they judge differently for
    each reason, with the reason in words: a static table, so the texts wrap."""
    counts = both["reason_code"].value_counts()
    rows = [(t("ch_pa_agree"), fmt.integer(int(both["agree"].sum())), t("ch_pa_agree_help"))]
    rows += [(t(f"ch_pa_reason_{code}"), fmt.integer(int(counts.get(code, 0))), naming.disagreement_reason(code))
             for code in forecast.DISAGREEMENT_REASONS]
    st.table(pd.DataFrame(rows, columns=[t("ch_pa_case"), naming.col_label("customers"),
                                         naming.col_label("reason_code")]),
             hide_index=True, border="horizontal")
