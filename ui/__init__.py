"""Shared Streamlit code: i18n table, session state, caching, the sidebar and shared charts.

Pages call :func:`page` (or, on the data page, :func:`setup` + :func:`context`) and get a
:class:`context.Ctx` with the loaded dataset and the current tiers; they render with ``segcore`` and the
chart helpers here. Every user-visible string goes through :func:`t`.
"""

from __future__ import annotations

import hashlib
from datetime import date

import pandas as pd
import streamlit as st

import segcore
from segcore import views
from ui import context, data, fmt, naming, settings, state
from ui.i18n import labeller, lang, t


# --------------------------------------------------------------------------------------------
# Names of engine codes in the UI language (the texts and t(): ui.i18n)
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Files and datasets
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Session state
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Context: the dataset, its metrics and the current tiers
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Sidebar
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Charts (plotly): tier colours are fixed by position, the same on every page
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Segments page helpers: scores, RFM segments, weighted tiers, breakdowns
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Data page helpers
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Customers page helpers
# --------------------------------------------------------------------------------------------


# ============================================================================================
# Issue 5: migration, churn warning, playbook, settings file and workspace
# ============================================================================================
# Pages 4-6 and the data page's "Saved" source and settings section. Heavy results (the earlier
# tiering and its comparison, churn, rising customers, lifecycle, follow-ups) are memoised per
# session for what they depend on (see ui.state.memo), so widgets elsewhere on a page cost nothing.

from datetime import timedelta  # noqa: E402

from segcore import dynamics  # noqa: E402
from segcore import playbook as playbooks  # noqa: E402
from segcore.workspace import Workspace, WorkspaceError  # noqa: E402


# --------------------------------------------------------------------------------------------
# Migration
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Workspace: saved datasets, settings and snapshots
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Churn warning, rising customers, lifecycle
# --------------------------------------------------------------------------------------------

RISK_COLUMNS = ("customer_id", "name", "tier", "risk", "reason", "recency_days", "typical_interval_days",
                "overdue_ratio", "spend_first_half", "spend_second_half", "monetary", "frequency",
                "last_order_date", "region", "city", "channel")
RISING_COLUMNS = ("customer_id", "name", "tier", "next_tier", "trend", "reason", "spend_first_half",
                  "spend_second_half", "monetary", "frequency", "region", "city", "channel")


def churn_list(ctx: context.Ctx) -> pd.DataFrame:
    """Buyers at risk (:func:`segcore.dynamics.churn_risk`; lapsed customers left out)."""
    lapse = int(st.session_state["s_lapse_days"])
    options = state.churn_options()
    return state.memo("churn", (context.tiers_key(), tuple(options.values()), lapse),
                 lambda: dynamics.churn_risk(ctx.tiered, ctx.levels, lapse_days=lapse, **options))


def risk_counts(ctx: context.Ctx, risk: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
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


def rising_list(ctx: context.Ctx) -> pd.DataFrame:
    trend = st.session_state["s_rising_trend"] / 100
    return state.memo("rising", (context.tiers_key(), trend),
                 lambda: dynamics.rising_customers(ctx.tiered, ctx.levels, min_trend=trend))


def lifecycle_table(ctx: context.Ctx) -> pd.DataFrame:
    """Lifecycle stage per customer (:func:`segcore.dynamics.lifecycle`), with ``monetary``."""
    options = state.lifecycle_options()

    def compute():
        life = dynamics.lifecycle(ctx.cursor(), ctx.tiered, as_of=ctx.as_of, **options)
        life["monetary"] = ctx.tiered["monetary"].to_numpy()  # same rows, same order
        return life
    return state.memo("lifecycle", (context.tiers_key(), tuple(options.values())), compute)


# --------------------------------------------------------------------------------------------
# Playbook and follow-ups
# --------------------------------------------------------------------------------------------

FOLLOW_COLUMNS = ("customer_id", "name", "tier", "status", "days_overdue", "next_contact_date", "last_order_date",
                  "last_interaction_date", "cadence_days", "service_level", "strategy", "monetary",
                  "recency_days", "region", "city", "channel")


def playbook_editor(ctx: context.Ctx) -> list[dict]:
    """The playbook table (texts in the UI language, the level fixed); returns the rows in use."""
    ss = st.session_state
    rows = state.playbook_now(ctx.rules.labels, ctx.rules.prospect_label)
    levels = hashlib.sha256("|".join(r["level"] for r in rows).encode()).hexdigest()[:8]
    edited = st.data_editor(
        views.playbook_table(rows, lang()), key=f"w_playbook_{lang()}_{ss.get('_pb_version', 0)}_{levels}",
        hide_index=True, num_rows="fixed", width="stretch",
        column_config={
            "level": st.column_config.TextColumn(t("pb_level"), disabled=True, width="small"),
            "strategy": st.column_config.TextColumn(t("pb_strategy"), width="large", max_chars=300),
            "service_level": st.column_config.TextColumn(t("pb_service"), width="medium", max_chars=60),
            "cadence_days": st.column_config.NumberColumn(t("pb_cadence"), min_value=1, max_value=730, step=1,
                                                          format="%d", help=t("pb_cadence_help"))})
    merged = views.playbook_merge(rows, edited, lang())
    if merged != rows:
        state.keep_playbook(merged)
    return merged


def status_counts(calls: pd.DataFrame) -> dict:
    """Customers per follow-up status (overdue, due, scheduled)."""
    return {s: int((calls["status"] == s).sum()) for s in naming.FOLLOW_STATUSES}


def follow_up_list(ctx: context.Ctx, rows: list[dict]) -> pd.DataFrame:
    """Next contact date per customer (:func:`segcore.playbook.follow_ups`), overdue first."""
    return state.memo("follow_ups", (context.tiers_key(), repr(rows)),
                 lambda: playbooks.follow_ups(ctx.tiered, rows, as_of=ctx.as_of, labels=list(ctx.levels)))


# --------------------------------------------------------------------------------------------
# Settings file (download / upload) and named settings in the workspace
# --------------------------------------------------------------------------------------------


