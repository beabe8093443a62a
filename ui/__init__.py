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


