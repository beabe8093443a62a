"""The Migration page's helpers: the two as-of dates, the comparison of the tiers at the earlier
date with the current ones (memoised per session), and the tier snapshots kept in
the workspace (save, pick, delete, compare).

Must not hold anything another page uses; the comparison itself is ``segcore.dynamics``, its
figures are in ``ui.charts``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

import segcore
from segcore import dynamics
from ui import context, data, fmt, naming, settings, state
from ui.i18n import labeller, t

if TYPE_CHECKING:
    from ui.context import Ctx

MIG_PERIODS = ("month", "quarter", "half-year", "year", "custom")
MIG_LISTS = ("upgraded", "downgraded", "new", "lost")
MIG_LIST_COLUMNS = ("customer_id", "name", "tier_before", "tier_after", "levels_moved", "monetary_before",
                    "monetary_after", "last_order_date", "region", "city", "channel")


def dates(ctx: Ctx) -> date | None:
    """Period, "from" and "to" controls; the earlier as-of date (None when the data has no day
    before the as-of date). "To" is the sidebar's as-of date; "from" follows the period unless
    the period is "custom"."""
    ss = st.session_state
    lo, hi, after = ctx.ds.report.date_min, ctx.ds.report.date_max, ctx.as_of
    if after <= lo:
        st.warning(t("mig_no_room", date=fmt.date(lo)), icon=":material/event_busy:")
        return None
    period_col, from_col, to_col = st.columns([2.4, 1, 1], vertical_alignment="bottom")
    with period_col:
        state.bound(st.segmented_control, "s_mig_period", t("mig_period"), options=MIG_PERIODS, required=True,
                    format_func=labeller(naming.names_of("period", MIG_PERIODS)))
    period = ss["s_mig_period"]
    latest = after - timedelta(days=1)
    if period != "custom" or ss["s_mig_before"] is None:
        ss["s_mig_before"] = dynamics.previous_as_of(after, "quarter" if period == "custom" else period)
    if period == "custom":
        ss["s_mig_before"] = min(max(ss["s_mig_before"], lo), latest)
    with from_col:
        state.bound(st.date_input, "s_mig_before", t("mig_from"), min_value=min(lo, ss["s_mig_before"]),
                    max_value=latest, disabled=period != "custom", help=t("mig_from_help"))
    with to_col:
        state.bound(st.date_input, "s_as_of", t("mig_to"), min_value=lo, max_value=hi, help=t("mig_to_help"),
                    key="w_mig_to")
    return ss["s_mig_before"]


def compare(ctx: Ctx, before: date) -> tuple[dynamics.Migration | None, str | None]:
    """(the current tiers compared with the same rules at ``before``, or a message why not)."""
    def compute():
        metrics = data.customer_metrics(ctx.spec.key, before, ctx.start, ctx.ds)
        if ctx.rules.method == "score":
            metrics, _ = segcore.add_scores(metrics, **state.score_options())
        earlier = segcore.assign_tiers(metrics, ctx.rules)
        return dynamics.compare_tiers(earlier, ctx.tiered, ctx.rules.labels, as_of_before=before,
                                      as_of_after=ctx.as_of, prospect_label=ctx.rules.prospect_label)
    try:
        return state.memo("migration", (context.tiers_key(), before), compute), None
    except ValueError:  # a level named "new" or "lost"
        return None, t("mig_bad_labels")


def snapshot_choices(listed: pd.DataFrame) -> dict:
    return {int(r["id"]): t("snap_item", date=fmt.date(r["as_of"]), name=r["name"] or t("na"),
                            dataset=data.dataset_label(r["dataset"]), n=fmt.integer(r["customers"]))
            for _, r in listed.iterrows()}


def snapshot_save_box(ctx: Ctx, dataset: str, content: str) -> None:
    """Save the current tiers (with the settings that made them) as a dated snapshot of the data
    with this :func:`segcore.workspace.content_key`, listed under the name ``dataset``."""
    try:
        saved_settings = settings.from_session()
    except ValueError:  # the settings cannot be written: the snapshot is saved without them
        saved_settings = None
    with st.container(border=True):
        st.markdown(f"**{t('snap_save_title', date=fmt.date(ctx.as_of))}**")
        name_col, button_col = st.columns([4, 1], vertical_alignment="bottom")
        name_col.text_input(t("snap_name"), key="w_snap_name", placeholder=t("snap_name_ph"), max_chars=60)
        button_col.button(t("save"), key="w_snap_save", on_click=_save_snapshot, icon=":material/photo_camera:",
                          args=(dataset, content, ctx.tiered, ctx.as_of, ctx.rules.labels, saved_settings),
                          type="primary", width="stretch")
        st.caption(t("snap_save_note", dataset=fmt.md(data.dataset_label(dataset))))


def snapshot_picker(listed: pd.DataFrame, content: str) -> pd.Series:
    """Pick a saved snapshot (default: the newest of the data with this content key) or delete it;
    its list row."""
    ss = st.session_state
    ids = [int(i) for i in listed["id"]]
    if ss["s_snap_pick"] not in ids:
        own = [int(i) for i, c in zip(listed["id"], listed["content"]) if c == content]
        ss["s_snap_pick"] = (own or ids)[0]
    pick_col, delete_col = st.columns([5, 1], vertical_alignment="bottom")
    with pick_col:
        state.bound(st.selectbox, "s_snap_pick", t("snap_pick"), options=ids,
                    format_func=labeller(snapshot_choices(listed)))
    delete_col.button(t("delete"), key="w_snap_delete", on_click=_delete_snapshot, args=(ss["s_snap_pick"],),
                      icon=":material/delete:", width="stretch")
    return listed[listed["id"] == ss["s_snap_pick"]].iloc[0]


def _save_snapshot(dataset: str, content: str, tiered: pd.DataFrame, as_of: date, labels: tuple, settings) -> None:
    ss = st.session_state
    saved, snapshot_id = data.in_workspace("snap", lambda ws: ws.save_snapshot(
        dataset, tiered, as_of, settings, content=content, name=str(ss.get("w_snap_name") or "").strip(),
        labels=labels))
    if saved:
        ss["s_snap_pick"] = snapshot_id
        state.flash("snap", "success", t("snap_saved", date=fmt.date(as_of)))


def _delete_snapshot(snapshot_id: int) -> None:
    deleted, _ = data.in_workspace("snap", lambda ws: ws.delete_snapshot(snapshot_id))
    if deleted:
        st.session_state["s_snap_pick"] = None
        state.flash("snap", "success", t("snap_deleted"))


def snapshot_migration(ctx: Ctx, row) -> tuple[dynamics.Migration | None, str | None, object]:
    """(the saved snapshot ``row`` compared with the current tiers, or a message why not, and the
    snapshot's settings when using them would make the comparison possible)."""
    snap, problem = state.memo("snapshot", (int(row["id"]), row["created"]),
                               lambda: data.ws_call(lambda ws: ws.load_snapshot(int(row["id"]))))
    if problem is not None:
        return None, t("ws_failed", reason=fmt.md(problem)), None
    if snap.as_of >= ctx.as_of:
        return None, t("snap_not_before", date=fmt.date(snap.as_of), as_of=fmt.date(ctx.as_of)), None
    if tuple(snap.labels) != tuple(ctx.rules.labels):
        return None, t("snap_other_levels", saved=" / ".join(map(fmt.md, snap.labels)),
                       now=" / ".join(ctx.rules.labels)), snap.settings

    def compute():
        before = snap.tiers
        if "is_prospect" in before.columns:  # the prospects' name may differ (language, settings)
            before = before.assign(tier=before["tier"].where(~before["is_prospect"].fillna(False).astype(bool),
                                                             ctx.rules.prospect_label))
        return dynamics.compare_tiers(before, ctx.tiered, ctx.rules.labels, as_of_before=snap.as_of,
                                      as_of_after=ctx.as_of, prospect_label=ctx.rules.prospect_label)
    try:
        return state.memo("snap_migration", (snap.id, row["created"], context.tiers_key()), compute), None, None
    except ValueError:
        return None, t("mig_bad_labels"), None
