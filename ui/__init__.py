"""Shared Streamlit code: i18n table, session state, caching, the sidebar and shared charts.

Pages call :func:`page` (or, on the data page, :func:`setup` + :func:`context`) and get a
:class:`context.Ctx` with the loaded dataset and the current tiers; they render with ``segcore`` and the
chart helpers here. Every user-visible string goes through :func:`t`.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date

import pandas as pd
import streamlit as st

import segcore
from segcore import views
from segcore import scores as scores_mod
from ui import charts, context, data, fmt, naming, state, tables
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

CUSTOM_EXAMPLES = {"recency": "30, 90, 180, 365", "frequency": "2, 3, 5, 10", "monetary": "100, 500, 1000, 5000",
                   "activity": "1, 2, 4, 8", "breadth": "2, 3, 5, 8"}


def segment_rules() -> pd.DataFrame:
    """The RFM segment rules in use: the user's (kept valid), else the default for the score points."""
    ss = st.session_state
    n = int(ss["s_score_points"])
    return (scores_mod.validate_segment_rules(ss["s_segment_rules"], n) if ss["s_segment_rules"]
            else scores_mod.default_segment_rules(n))


def _points_changed() -> None:
    ss = st.session_state
    ss["s_custom_cuts"], ss["s_segment_rules"], ss["_seg_base"] = {}, [], None


def cut_text(cuts) -> str:
    return ", ".join(f"{c:g}" for c in cuts)


def _custom_changed(dim: str, n: int) -> None:
    """Apply the typed cut points of one dimension, or say why they cannot be used."""
    ss = st.session_state
    text = str(ss[f"w_custom_{dim}"]).strip()
    errors = ss.setdefault("_custom_errors", {})
    errors.pop(dim, None)
    custom = dict(ss["s_custom_cuts"])
    custom.pop(dim, None)
    if text:
        parts = [x.strip() for x in re.split(r"[,，;；\s]+", text) if x.strip()]
        try:
            values = [float(x) for x in parts]
        except ValueError:
            bad = next(x for x in parts if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", x))
            errors[dim] = t("sg_custom_number", value=bad)
            return
        if len(values) != n - 1:
            errors[dim] = t("sg_custom_count", n=n, k=n - 1, got=len(values))
            return
        try:
            custom[dim] = scores_mod.check_custom_cuts(dim, values, n)
        except ValueError:
            errors[dim] = t("sg_custom_order")
            return
    ss["s_custom_cuts"] = custom


def score_cut_config(dim: str) -> dict:
    """Number formats of :func:`score_cut_table`: money with cents, days and counts whole."""
    bound_format = "%,.2f" if dim == "monetary" else "%,.0f"
    return {t("sg_col_from"): st.column_config.NumberColumn(format=bound_format),
            t("sg_col_to"): st.column_config.NumberColumn(format=bound_format),
            t("sg_col_share"): st.column_config.NumberColumn(format="%.1f%%")}


def score_cut_table(ctx: context.Ctx, dim: str) -> pd.DataFrame:
    """One dimension's rows of the score cut table, with translated headers (shares in %)."""
    rows = ctx.score_cuts[ctx.score_cuts["dimension"] == dim]
    return pd.DataFrame({t("sg_col_score"): rows["score"].to_numpy(), t("sg_col_from"): rows["lower"].to_numpy(),
                         t("sg_col_to"): rows["upper"].to_numpy(), t("sg_col_customers"): rows["customers"].to_numpy(),
                         t("sg_col_share"): 100 * rows["share"].to_numpy()})


def _weight_changed(dim: str, dims: list[str]) -> None:
    ss = st.session_state
    weights = {d: float(ss["s_weights"].get(d, 1.0)) for d in dims}
    weights[dim] = float(ss[f"w_weight_{dim}"])
    if sum(weights.values()) <= 0:
        ss["_weights_error"] = True
        ss[f"w_weight_{dim}"] = float(ss["s_weights"].get(dim, 1.0))
        return
    ss["s_weights"] = weights


def weight_slider(dim: str, dims: list[str]) -> None:
    ss = st.session_state
    key, value = f"w_weight_{dim}", float(ss["s_weights"].get(dim, 1.0))
    if ss.get("_reseed") or key not in ss or ss[key] != value:
        ss[key] = value
    st.slider(naming.dimension_label(dim), min_value=0.0, max_value=5.0, step=0.5, key=key,
              on_change=_weight_changed, args=(dim, dims))


def compare_rules(ctx: context.Ctx) -> tuple[segcore.TierRules, segcore.TierRules]:
    """(Pareto by spend, weighted score) rules with the current labels and each one's cut sliders."""
    common = dict(labels=ctx.labels, prospect_label=ctx.rules.prospect_label, weights=ctx.rules.weights,
                  score_points=ctx.rules.score_points)
    return (segcore.TierRules(cuts=state.current_cuts("value"), by="value", method="pareto", **common),
            segcore.TierRules(cuts=state.current_cuts("score"), method="score", **common))


def _use_score() -> None:
    st.session_state["s_method"] = "score"


STACK_TOP = 20  # attribute values charted in a breakdown (the table has all)
BREAKDOWN_SKIP = {"customer_id", "name", "tier", "rfm_segment", "is_prospect"}


def segment_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The segment summary for display: names and actions in the UI language."""
    return pd.DataFrame({
        t("sg_col_segment"): [naming.segment_label(x) for x in summary["segment"]],
        t("sg_col_action"): [naming.segment_action(x) for x in summary["segment"]],
        t("sg_col_customers"): summary["customers"].to_numpy(),
        t("sg_col_share"): summary["customer_share"].to_numpy(),
        t("sg_col_revenue_share"): summary["revenue_share"].to_numpy(),
        t("sg_col_avg_recency"): summary["avg_recency_days"].to_numpy(),
        t("sg_col_avg_frequency"): summary["avg_frequency"].to_numpy(),
        t("sg_col_avg_monetary"): summary["avg_monetary"].to_numpy(),
    })


def segment_column_config() -> dict:
    pct = st.column_config.NumberColumn(format="percent")
    return {t("sg_col_share"): pct, t("sg_col_revenue_share"): pct,
            t("sg_col_avg_recency"): st.column_config.NumberColumn(format="%.0f"),
            t("sg_col_avg_frequency"): st.column_config.NumberColumn(format="%.1f"),
            t("sg_col_avg_monetary"): st.column_config.NumberColumn(format="%,.2f"),
            t("sg_col_action"): st.column_config.TextColumn(width="large")}


def rules_editor_base(rules: pd.DataFrame, n: int) -> pd.DataFrame:
    """The table the rules editor starts from: fixed while the user edits (the editor keeps its
    edits relative to it), rebuilt when the rules change otherwise (reset, settings loaded, new
    score points)."""
    ss = st.session_state
    if ss.get("_seg_base") is None or ss.get("_seg_base_n") != n or ss.get("_seg_known") != ss["s_segment_rules"]:
        ss["_seg_base"], ss["_seg_base_n"], ss["_seg_known"] = rules.copy(), n, ss["s_segment_rules"]
        ss.pop("w_seg_rules", None)
    return ss["_seg_base"]


def rules_column_config(n: int) -> dict:
    cfg = {"segment": st.column_config.TextColumn(t("sg_col_segment"), required=True, width="medium")}
    for name in scores_mod.SEGMENT_RULE_COLUMNS[1:]:
        letter, end = name.split("_")  # r_min -> "R ≥", r_max -> "R ≤"
        cfg[name] = st.column_config.NumberColumn(f"{letter.upper()} {'≥' if end == 'min' else '≤'}",
                                                  min_value=1, max_value=n, step=1, required=True)
    return cfg


def apply_segment_rules(edited: pd.DataFrame, n: int) -> str | None:
    """Keep the edited rules when valid (None), else return why not (the last valid rules stay)."""
    ss = st.session_state
    try:
        clean = scores_mod.validate_segment_rules(edited, n)
    except ValueError as exc:
        return str(exc)
    default = scores_mod.default_segment_rules(n)
    records = [] if clean.equals(default) else clean.to_dict("records")
    if records != ss["s_segment_rules"]:
        ss["s_segment_rules"] = ss["_seg_known"] = records
        st.rerun()  # the summary above the editor was drawn with the old rules
    return None


def reset_segment_rules() -> None:
    ss = st.session_state
    ss["s_segment_rules"], ss["_seg_base"] = [], None


def cuts_text(cuts) -> str:
    return " / ".join(fmt.percent(c, 0) for c in cuts)


def summary_table(summary: pd.DataFrame, key: str) -> None:
    """A tier summary as a small table with translated headers."""
    heads = {"tier": t("col_tier"), "customers": t("kpi_customers"), "customer_share": t("kpi_customer_share"),
             "revenue": t("kpi_revenue"), "revenue_share": t("kpi_revenue_share"),
             "avg_monetary": t("kpi_avg_spend"), "avg_recency_days": t("kpi_avg_recency")}
    st.dataframe(summary, hide_index=True, key=key, placeholder=t("na"),
                 column_order=["tier", "customers", "customer_share", "revenue", "revenue_share"], column_config={
        "tier": heads["tier"], "customers": heads["customers"],
        "customer_share": st.column_config.NumberColumn(heads["customer_share"], format="percent"),
        "revenue": st.column_config.NumberColumn(heads["revenue"], format="%,.0f"),
        "revenue_share": st.column_config.NumberColumn(heads["revenue_share"], format="percent"),
        "avg_monetary": st.column_config.NumberColumn(heads["avg_monetary"], format="%,.0f"),
        "avg_recency_days": st.column_config.NumberColumn(heads["avg_recency_days"], format="%.0f")})


def breakdown_columns(tiered: pd.DataFrame) -> list[str]:
    """Categorical columns to break tiers down by: text attributes with 2 to 1,000 values."""
    out = []
    for name in tiered.columns:
        if name in BREAKDOWN_SKIP or name in tables.PROFILE_SKIP or not (
                tiered[name].dtype == object or isinstance(tiered[name].dtype, (pd.StringDtype, pd.CategoricalDtype))):
            continue
        if 2 <= tiered[name].nunique() <= 1000:
            out.append(name)
    return out


def mix_spec(ctx: context.Ctx, mix: str, rules: pd.DataFrame) -> tuple[str, list, dict, dict]:
    """(column, order, colours, display names) of what a breakdown stacks: tiers or segments."""
    if mix == "tier":
        return "tier", list(ctx.levels), dict(ctx.colors), {}
    order = [*rules["segment"], "Others"]
    colors = {s: charts.SEGMENT_COLORS[i % len(charts.SEGMENT_COLORS)] for i, s in enumerate(order)}
    return "rfm_segment", order, colors, {s: naming.segment_label(s) for s in order}


def rename_columns(table: pd.DataFrame, names: dict) -> pd.DataFrame:
    return table.rename(columns={**names, "Total": t("sg_total")})


def cross_column_config(table: pd.DataFrame, shares: bool) -> dict:
    if not shares:
        return {}
    return {c: st.column_config.NumberColumn(format="percent") for c in table.columns[1:]}


def filter_picker(column: str, values: list) -> None:
    """A multiselect of one attribute's values, kept in ``s_filters`` for the customer list."""
    ss = st.session_state
    key = f"w_filter_{column}"
    chosen = [v for v in ss["s_filters"].get(column, []) if v in values]
    if ss.get("_reseed") or key not in ss or ss[key] != chosen:
        ss[key] = chosen

    def _save():
        ss["s_filters"] = {**ss["s_filters"], column: list(ss[key])}

    st.multiselect(t("sg_filter"), options=values, key=key, on_change=_save,
                   format_func=naming.segment_label if column == "rfm_segment" else str)


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
from segcore.settings import SettingsError  # noqa: E402
from segcore.workspace import Workspace, WorkspaceError  # noqa: E402

MIG_PERIODS = ("month", "quarter", "half-year", "year", "custom")
MIG_LISTS = ("upgraded", "downgraded", "new", "lost")


# --------------------------------------------------------------------------------------------
# Migration
# --------------------------------------------------------------------------------------------

MIG_LIST_COLUMNS = ("customer_id", "name", "tier_before", "tier_after", "levels_moved", "monetary_before",
                    "monetary_after", "last_order_date", "region", "city", "channel")


def migration_dates(ctx: context.Ctx) -> date | None:
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
        state.bound_to(st.date_input, "s_as_of", "w_mig_to", t("mig_to"), min_value=lo, max_value=hi,
                 help=t("mig_to_help"))
    return ss["s_mig_before"]


def migration(ctx: context.Ctx, before: date) -> tuple[dynamics.Migration | None, str | None]:
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


def migration_sheets(mig: dynamics.Migration) -> dict[str, pd.DataFrame]:
    """The whole comparison as Excel sheets: summary, both matrices, the four lists."""
    names = {"new": t("mig_new_row"), "lost": t("mig_lost_col")}
    corner = t("mig_corner")
    return {t("mig_sheet_summary"): naming.shown(mig.summary),
            t("mig_sheet_customers"): views.matrix_table(mig.customers_matrix, names, corner),
            t("mig_sheet_revenue"): views.matrix_table(mig.revenue_matrix, names, corner),
            **{t(f"mv_{m}"): naming.shown(mig.list(m)) for m in MIG_LISTS}}


# --------------------------------------------------------------------------------------------
# Workspace: saved datasets, settings and snapshots
# --------------------------------------------------------------------------------------------


def snapshot_choices(listed: pd.DataFrame) -> dict:
    return {int(r["id"]): t("snap_item", date=fmt.date(r["as_of"]), name=r["name"] or t("na"),
                            dataset=data.dataset_label(r["dataset"]), n=fmt.integer(r["customers"]))
            for _, r in listed.iterrows()}


def snapshot_save_box(ctx: context.Ctx, dataset: str) -> None:
    """Save the current tiers (with the settings that made them) as a dated snapshot."""
    try:
        settings = settings_from_state()
    except ValueError:  # the settings cannot be written: the snapshot is saved without them
        settings = None
    with st.container(border=True):
        st.markdown(f"**{t('snap_save_title', date=fmt.date(ctx.as_of))}**")
        name_col, button_col = st.columns([4, 1], vertical_alignment="bottom")
        name_col.text_input(t("snap_name"), key="w_snap_name", placeholder=t("snap_name_ph"), max_chars=60)
        button_col.button(t("save"), key="w_snap_save", on_click=_save_snapshot, icon=":material/photo_camera:",
                          args=(dataset, ctx.tiered, ctx.as_of, ctx.rules.labels, settings),
                          type="primary", width="stretch")
        st.caption(t("snap_save_note", dataset=data.dataset_label(dataset)))


def snapshot_picker(listed: pd.DataFrame, dataset: str) -> pd.Series:
    """Pick a saved snapshot (default: the newest of this dataset) or delete it; its list row."""
    ss = st.session_state
    ids = [int(i) for i in listed["id"]]
    if ss["s_snap_pick"] not in ids:
        own = [int(i) for i, d in zip(listed["id"], listed["dataset"]) if d == dataset]
        ss["s_snap_pick"] = (own or ids)[0]
    pick_col, delete_col = st.columns([5, 1], vertical_alignment="bottom")
    with pick_col:
        state.bound(st.selectbox, "s_snap_pick", t("snap_pick"), options=ids, format_func=labeller(snapshot_choices(listed)))
    delete_col.button(t("delete"), key="w_snap_delete", on_click=_delete_snapshot, args=(ss["s_snap_pick"],),
                      icon=":material/delete:", width="stretch")
    return listed[listed["id"] == ss["s_snap_pick"]].iloc[0]


def _save_snapshot(dataset: str, tiered: pd.DataFrame, as_of: date, labels: tuple, settings) -> None:
    ss = st.session_state
    ws, problem = data.workspace()
    try:
        if ws is None:
            raise WorkspaceError(problem)
        ss["s_snap_pick"] = ws.save_snapshot(dataset, tiered, as_of, settings,
                                             name=str(ss.get("w_snap_name") or "").strip(), labels=labels)
    except data.WS_ERRORS as exc:
        state.flash("snap", "error", t("ws_failed", reason=str(exc)))
        return
    state.flash("snap", "success", t("snap_saved", date=fmt.date(as_of)))


def _delete_snapshot(snapshot_id: int) -> None:
    ws, problem = data.workspace()
    try:
        if ws is None:
            raise WorkspaceError(problem)
        ws.delete_snapshot(snapshot_id)
    except data.WS_ERRORS as exc:
        state.flash("snap", "error", t("ws_failed", reason=str(exc)))
        return
    st.session_state["s_snap_pick"] = None
    state.flash("snap", "success", t("snap_deleted"))


def snapshot_migration(ctx: context.Ctx, ws: Workspace, row) -> tuple[dynamics.Migration | None, str | None, object]:
    """(the saved snapshot ``row`` compared with the current tiers, or a message why not, and the
    snapshot's settings when using them would make the comparison possible)."""
    snap = state.memo("snapshot", (str(ws.path), int(row["id"]), row["created"]), lambda: ws.load_snapshot(int(row["id"])))
    if snap.as_of >= ctx.as_of:
        return None, t("snap_not_before", date=fmt.date(snap.as_of), as_of=fmt.date(ctx.as_of)), None
    if tuple(snap.labels) != tuple(ctx.rules.labels):
        return None, t("snap_other_levels", saved=" / ".join(snap.labels),
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

def settings_from_state() -> segcore.Settings:
    """Everything a re-run needs, from the session: mapping, as-of rules, tiers, churn, playbook.

    The as-of date and window start are saved only when they differ from the data's own range
    (else "latest" / the first order). Raises :class:`SettingsError` when the session's settings
    cannot be written (e.g. a level name used twice)."""
    ss = st.session_state
    spec, ds = data.active()
    rep = ds.report
    tiers = state.tier_settings()
    _, prospect, _ = state.current_labels()
    rows = state.playbook_now(tiers["labels"], prospect) if ss["s_playbook"] else []
    rows = [dict(r, level=tiers["prospect_label"]) if r["level"] == prospect else r for r in rows]
    period = ss["s_mig_period"]
    if period == "custom":
        end = ss["s_as_of"] or rep.date_max
        period = max((end - ss["s_mig_before"]).days, 1) if ss["s_mig_before"] else "quarter"
    return segcore.Settings(
        **tiers, mapping=dict(rep.mapping) if spec.saved else dict(state.overrides_for(spec.orders.sha)),
        **{f"{role}_mapping": dict(getattr(spec, f"{role}_mapping")) for role in data.SIDE_FIELDS},
        date_order=None if ss["s_date_order"] == "auto" else ss["s_date_order"],
        drop_duplicates=bool(ss["s_drop_dup"]),
        as_of=None if ss["s_as_of"] in (None, rep.date_max) else ss["s_as_of"],
        since=None if ss["s_since"] in (None, rep.date_min) else ss["s_since"],
        playbook=rows, churn_k=float(ss["s_churn_k"]), churn_drop_share=ss["s_churn_drop"] / 100,
        new_days=int(ss["s_new_days"]), lapse_days=int(ss["s_lapse_days"]),
        rising_min_trend=ss["s_rising_trend"] / 100, migration_period=period)


def _clamp(value, bounds):
    return min(max(value, bounds[0]), bounds[1])


def apply_settings(s: segcore.Settings) -> None:
    """Put settings (a file, or saved ones) into the session: the reverse of :func:`settings_from_state`."""
    ss = st.session_state
    state.apply_tier_settings(s)
    spec, ds = data.active()
    if spec.saved is None:  # a saved dataset keeps the columns it was saved with
        overrides = state.overrides_for(spec.orders.sha)
        overrides.clear()
        overrides.update(s.mapping)
        for role in data.SIDE_FIELDS:
            ref = getattr(spec, role)
            if ref is not None:
                side = state.side_overrides(ref.sha)
                side.clear()
                side.update(getattr(s, f"{role}_mapping"))
    ss["s_date_order"], ss["s_drop_dup"] = s.date_order or "auto", s.drop_duplicates
    ss["s_as_of"], ss["s_since"] = s.as_of, s.since
    ss["s_churn_k"] = _clamp(round(s.churn_k * 4) / 4, state.K_RANGE)
    ss["s_churn_drop"] = _clamp(round(s.churn_drop_share * 20) * 5, state.DROP_RANGE)
    ss["s_rising_trend"] = _clamp(round(s.rising_min_trend * 10) * 10, state.TREND_RANGE)
    ss["s_new_days"], ss["s_lapse_days"] = s.new_days, s.lapse_days
    if isinstance(s.migration_period, str):
        ss["s_mig_period"] = s.migration_period
    else:
        ss["s_mig_period"] = "custom"
        ss["s_mig_before"] = (s.as_of or ds.report.date_max) - timedelta(days=s.migration_period)
    _, prospect, _ = state.current_labels()
    state.replace_playbook([dict(r, level=prospect) if r["level"] == s.prospect_label else r for r in s.playbook])


def settings_json() -> bytes | None:
    """The session's settings as the JSON file (None, with a warning shown, when they cannot be)."""
    try:
        return settings_from_state().to_json().encode("utf-8")
    except (SettingsError, ValueError) as exc:
        st.warning(t("set_cannot", reason=str(exc)), icon=":material/warning:")
        return None


def _settings_uploaded() -> None:
    up = st.session_state.get("w_settings_file")
    if up is None:
        return
    try:
        settings = segcore.Settings.from_json(up.getvalue())
        apply_settings(settings)
    except (SettingsError, ValueError, TypeError) as exc:
        state.flash("settings", "error", t("set_bad_file", file=up.name, reason=str(exc)))
        return
    state.flash("settings", "success", t("set_applied", file=up.name))


def _save_named_settings() -> None:
    name = str(st.session_state.get("w_set_name") or "").strip()
    if not name:
        state.flash("settings", "warning", t("ws_need_name"))
        return
    ws, problem = data.workspace()
    try:
        if ws is None:
            raise WorkspaceError(problem)
        ws.save_settings(name, settings_from_state())
    except (*data.WS_ERRORS, SettingsError, ValueError) as exc:
        state.flash("settings", "error", t("ws_failed", reason=str(exc)))
        return
    st.session_state["w_set_pick"] = name
    state.flash("settings", "success", t("set_saved", name=name))


def _load_named_settings() -> None:
    name = st.session_state.get("w_set_pick")
    ws, problem = data.workspace()
    try:
        if ws is None:
            raise WorkspaceError(problem)
        apply_settings(ws.load_settings(name))
    except (*data.WS_ERRORS, SettingsError, ValueError) as exc:
        state.flash("settings", "error", t("ws_failed", reason=str(exc)))
        return
    state.flash("settings", "success", t("set_loaded", name=name))


def _delete_named_settings() -> None:
    name = st.session_state.get("w_set_pick")
    ws, problem = data.workspace()
    try:
        if ws is None:
            raise WorkspaceError(problem)
        ws.delete_settings(name)
    except data.WS_ERRORS as exc:
        state.flash("settings", "error", t("ws_failed", reason=str(exc)))
        return
    state.flash("settings", "success", t("set_deleted", name=name))


def settings_panel() -> None:
    """The data page's settings section: the settings file (download / upload) and named settings
    kept in the workspace."""
    ss = st.session_state
    state.show_flash("settings")
    file_col, ws_col = st.columns(2, gap="large")
    with file_col:
        st.markdown(f"**{t('set_file_title')}**")
        st.caption(t("set_file_note"))
        settings_file = settings_json()
        if settings_file is not None:
            st.download_button(t("set_download"), data=settings_file, file_name="segcore_settings.json",
                               mime="application/json", on_click="ignore", icon=":material/download:",
                               key="w_settings_download")
        st.file_uploader(t("set_upload"), type=["json"], key="w_settings_file", on_change=_settings_uploaded,
                         help=t("set_upload_help"))
    with ws_col:
        st.markdown(f"**{t('set_ws_title')}**")
        ws, problem = data.workspace()
        if ws is None:
            data.ws_problem(problem)
            return
        name_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
        name_col.text_input(t("set_name"), key="w_set_name", max_chars=80, placeholder=t("set_name_ph"))
        button_col.button(t("save"), key="w_set_save", on_click=_save_named_settings, icon=":material/save:",
                          width="stretch")
        names = list(ws.list_settings()["name"])
        if not names:
            st.caption(t("set_none"))
            return
        if ss.get("w_set_pick") not in names:
            ss["w_set_pick"] = names[0]
        pick_col, load_col, delete_col = st.columns([3, 1, 1], vertical_alignment="bottom")
        pick_col.selectbox(t("set_pick"), options=names, key="w_set_pick")
        load_col.button(t("apply"), key="w_set_load", on_click=_load_named_settings, icon=":material/input:",
                        width="stretch", type="primary")
        delete_col.button(t("delete"), key="w_set_delete", on_click=_delete_named_settings,
                          icon=":material/delete:", width="stretch")
