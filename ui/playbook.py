"""The Playbook page's helpers: the editable playbook table (texts per language, the levels fixed)
and the follow-up list with its counts per status (memoised per session).

Must not hold anything another page uses; the playbook rows as a setting are read and written in
``ui.state`` (the settings file needs them too), the follow-ups are ``segcore.playbook``.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from segcore import playbook as playbooks
from segcore import views
from ui import context, naming, state, tables
from ui.i18n import lang, t

if TYPE_CHECKING:
    from ui.context import Ctx

FOLLOW_COLUMNS = ("customer_id", "name", "tier", "status", "lapsed", "days_overdue", "next_contact_date",
                  "last_order_date", "last_interaction_date", "cadence_days", "service_level", "strategy", "monetary",
                  "recency_days", "region", "city", "channel")


def editor(ctx: Ctx) -> list[dict]:
    """The playbook table (texts in the UI language, the level fixed); returns the rows in use."""
    ss = st.session_state
    rows = state.playbook_now(ctx.rules.labels, ctx.rules.prospect_label)
    levels = hashlib.sha256("|".join(r["level"] for r in rows).encode()).hexdigest()[:8]
    edited = st.data_editor(
        views.playbook_table(rows, lang()), key=f"w_playbook_{lang()}_{ss.get('_pb_version', 0)}_{levels}",
        hide_index=True, num_rows="fixed", width="stretch", row_height=tables.WRAP_ROW_HEIGHT,
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


def follow_up_list(ctx: Ctx, rows: list[dict]) -> pd.DataFrame:
    """Next contact date per customer (:func:`segcore.playbook.follow_ups`), overdue first, with
    ``lapsed`` by the Churn page's threshold."""
    lapse_days = int(st.session_state["s_lapse_days"])
    return state.memo("follow_ups", (context.tiers_key(), repr(rows), lapse_days),
                      lambda: playbooks.follow_ups(ctx.tiered, rows, as_of=ctx.as_of, labels=list(ctx.levels),
                                                   lapse_days=lapse_days))
