"""The Segments page's helpers: score cut tables and custom cut points per dimension, the RFM
segment table and its editable rules, the weights and the Pareto / weighted-score comparison, the
breakdowns by attribute and their filter pickers.

Must not hold anything another page uses: segment names are in ``ui.naming``, the filters as the
lists apply them in ``ui.filters``, figures in ``ui.charts``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

import segcore
from segcore import scores as scores_mod
from ui import charts, fmt, naming, state, tables
from ui.i18n import lang, t

if TYPE_CHECKING:
    from ui.context import Ctx

CUSTOM_EXAMPLES = {"recency": "30, 90, 180, 365", "frequency": "2, 3, 5, 10", "monetary": "100, 500, 1000, 5000",
                   "activity": "1, 2, 4, 8", "breadth": "2, 3, 5, 8"}
MIXES = ("tier", "segment")  # choices of s_sg_mix: what a breakdown stacks
# choices of s_sg_scatter: the axes of the scatter plot (as the R rfm package's rm, fm and rf plots)
SCATTERS = {"recency_monetary": ("recency_days", "monetary"), "frequency_monetary": ("frequency", "monetary"),
            "recency_frequency": ("recency_days", "frequency")}
STACK_TOP = 20  # attribute values charted in a breakdown (the table has all)
BREAKDOWN_SKIP = {"customer_id", "name", "tier", "rfm_segment", "is_prospect"}


def score_cut_table(ctx: Ctx, dim: str) -> pd.DataFrame:
    """One dimension's rows of the score cut table, with translated headers (shares in %)."""
    rows = ctx.score_cuts[ctx.score_cuts["dimension"] == dim]
    return pd.DataFrame({t("sg_col_score"): rows["score"].to_numpy(), t("sg_col_from"): rows["lower"].to_numpy(),
                         t("sg_col_to"): rows["upper"].to_numpy(), t("sg_col_customers"): rows["customers"].to_numpy(),
                         t("sg_col_share"): 100 * rows["share"].to_numpy()})


def score_cut_config(dim: str) -> dict:
    """Number formats of :func:`score_cut_table`: money with cents, days and counts whole."""
    bound_format = fmt.money_format() if dim == "monetary" else "%,.0f"
    return {t("sg_col_from"): st.column_config.NumberColumn(format=bound_format),
            t("sg_col_to"): st.column_config.NumberColumn(format=bound_format),
            t("sg_col_share"): st.column_config.NumberColumn(format="%.1f%%")}


def cut_text(cuts) -> str:
    return ", ".join(f"{c:g}" for c in cuts)


def custom_changed(dim: str, n: int) -> None:
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


def points_changed() -> None:
    ss = st.session_state
    ss["s_custom_cuts"], ss["s_segment_rules"], ss["_seg_base"] = {}, [], None


def segment_rules() -> pd.DataFrame:
    """The RFM segment rules in use: the user's (kept valid), else the default for the score points."""
    ss = st.session_state
    n = int(ss["s_score_points"])
    return (scores_mod.validate_segment_rules(ss["s_segment_rules"], n) if ss["s_segment_rules"]
            else scores_mod.default_segment_rules(n))


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
            t("sg_col_avg_monetary"): st.column_config.NumberColumn(format=fmt.money_format()),
            t("sg_col_action"): st.column_config.TextColumn(width="large")}


def rules_editor_base(rules: pd.DataFrame, n: int) -> pd.DataFrame:
    """The table the rules editor starts from, segment names in the UI language: fixed while the
    user edits (the editor keeps its edits relative to it), rebuilt when the rules change otherwise
    (reset, settings loaded, new score points) or the language does."""
    ss = st.session_state
    if (ss.get("_seg_base") is None or ss.get("_seg_base_n") != n or ss.get("_seg_known") != ss["s_segment_rules"]
            or ss.get("_seg_base_lang") != lang()):
        ss["_seg_base"] = rules.assign(segment=rules["segment"].map(naming.segment_label))
        ss["_seg_base_n"], ss["_seg_known"], ss["_seg_base_lang"] = n, ss["s_segment_rules"], lang()
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
        clean = scores_mod.validate_segment_rules(edited.assign(segment=edited["segment"].map(naming.segment_code)), n)
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


def weight_slider(dim: str, dims: list[str]) -> None:
    ss = st.session_state
    key, value = f"w_weight_{dim}", float(ss["s_weights"].get(dim, 1.0))
    state.seed(key, value)
    st.slider(naming.dimension_label(dim), min_value=0.0, max_value=5.0, step=0.5, key=key,
              on_change=_weight_changed, args=(dim, dims))


def _weight_changed(dim: str, dims: list[str]) -> None:
    ss = st.session_state
    weights = {d: float(ss["s_weights"].get(d, 1.0)) for d in dims}
    weights[dim] = float(ss[f"w_weight_{dim}"])
    if sum(weights.values()) <= 0:
        ss["_weights_error"] = True
        ss[f"w_weight_{dim}"] = float(ss["s_weights"].get(dim, 1.0))
        return
    ss["s_weights"] = weights


def compare_rules(ctx: Ctx) -> tuple[segcore.TierRules, segcore.TierRules]:
    """(Pareto by spend, weighted score) rules with the current labels and each one's cut sliders."""
    common = dict(labels=ctx.labels, prospect_label=ctx.rules.prospect_label, weights=ctx.rules.weights,
                  score_points=ctx.rules.score_points)
    return (segcore.TierRules(cuts=state.current_cuts("value"), by="value", method="pareto", **common),
            segcore.TierRules(cuts=state.current_cuts("score"), method="score", **common))


def cuts_text(cuts) -> str:
    return " / ".join(fmt.percent(c, 0) for c in cuts)


def summary_table(summary: pd.DataFrame, key: str) -> None:
    """A tier summary as a small table with translated headers."""
    heads = {c: naming.col_label(c) for c in summary.columns}
    st.dataframe(summary, hide_index=True, key=key, placeholder=t("na"),
                 column_order=["tier", "customers", "customer_share", "revenue", "revenue_share"], column_config={
        "tier": heads["tier"], "customers": heads["customers"],
        "customer_share": st.column_config.NumberColumn(heads["customer_share"], format="percent"),
        "revenue": st.column_config.NumberColumn(heads["revenue"], format=fmt.money_format(0)),
        "revenue_share": st.column_config.NumberColumn(heads["revenue_share"], format="percent"),
        "avg_monetary": st.column_config.NumberColumn(heads["avg_monetary"], format=fmt.money_format(0)),
        "avg_recency_days": st.column_config.NumberColumn(heads["avg_recency_days"], format="%.0f")})


def use_score() -> None:
    st.session_state["s_method"] = "score"


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


def mix_spec(ctx: Ctx, mix: str, rules: pd.DataFrame) -> tuple[str, list, dict, dict]:
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
    state.seed(key, chosen)

    def _save():
        ss["s_filters"] = {**ss["s_filters"], column: list(ss[key])}

    st.multiselect(t("sg_filter"), options=values, key=key, on_change=_save,
                   format_func=naming.segment_label if column == "rfm_segment" else str)
