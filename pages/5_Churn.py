"""Churn warning: who is slipping away (high tiers first), where P(alive) and the rule disagree,
who is rising, and every customer's lifecycle stage."""

import streamlit as st

import segcore
from segcore import dynamics, views
from ui import charts, churn, context, filters, fmt, naming, state, tables
from ui.i18n import t

ctx = context.page("nav_churn")
ss = st.session_state

st.title(t("ch_title"))
st.caption(t("ch_intro"))
context.count_only_note(ctx, t("cn_churn"))

# Churn early warning ------------------------------------------------------------------------------------
k_col, drop_col, lapse_col = st.columns([2, 2, 1.2], vertical_alignment="bottom")
with k_col:
    state.bound(st.slider, "s_churn_k", t("ch_k"), min_value=state.K_RANGE[0], max_value=state.K_RANGE[1], step=0.25,
                format="%.2f×", help=t("ch_k_help"))
with drop_col:
    state.bound(st.slider, "s_churn_drop", t("ch_drop"), min_value=state.DROP_RANGE[0], max_value=state.DROP_RANGE[1],
                step=5, format="%d%%", help=t("ch_drop_help"))
with lapse_col:
    state.bound(st.number_input, "s_lapse_days", t("ch_lapse"), min_value=1, max_value=3650, step=30,
                help=t("ch_lapse_help"))

risk = churn.at_risk(ctx)
by_tier, totals = churn.risk_counts(ctx, risk)
cells = st.columns(4)
cells[0].metric(t("ch_at_risk"), fmt.integer(len(risk)), border=True, help=t("ch_at_risk_help"))
for cell, level in zip(cells[1:], dynamics.RISK_LEVELS):
    cell.metric(naming.value_label("risk", level), fmt.integer(totals[level]), border=True)

chart_col, rules_col = st.columns([3, 2])
with chart_col:
    charts.show(charts.stack_counts_figure(by_tier, charts.RISK_COLORS, naming.values_of("risk", dynamics.RISK_LEVELS),
                                           t("ch_chart")), "chart_risk")
with rules_col:
    st.markdown(f"**{t('ch_rules')}**")
    churn.rules_table(dynamics.churn_rules(**state.churn_options()), "risk")
    st.caption(t("ch_rules_note", days=fmt.days(ss["s_lapse_days"])))

st.subheader(t("ch_list"))
ss["s_risk_tiers"] = [x for x in ss["s_risk_tiers"] if x in ctx.rules.labels]
state.bound(st.pills, "s_risk_tiers", t("filter_tiers"), options=list(ctx.rules.labels), selection_mode="multi")
kept = filters.kept_ids(ctx)  # the Segments page's breakdown filters, when set
listed = views.keep_rows(risk, tier=ss["s_risk_tiers"] or None, customer_id=kept)
st.caption(t("ch_showing", n=fmt.integer(len(listed)), total=fmt.integer(len(risk))))
tables.table(naming.shown(listed), churn.RISK_COLUMNS, key="ch_table", height=380, empty=t("ch_none"))
tables.downloads(listed, f"at_risk_{ctx.as_of}", "w_ch_dl")

# P(alive) beside the rule ---------------------------------------------------------------------------------
st.divider()
st.subheader(t("ch_pa_title"))
st.caption(t("ch_pa_intro"))
try:
    both = churn.palive_beside_rule(ctx) if ctx.has_lines else None
except segcore.PredictError as exc:
    st.info(t("ch_pa_unavailable", why=naming.predict_problem(exc.code, exc.params, str(exc))), icon=":material/info:")
else:
    if both is None:
        st.info(t("needs_lines", what=t("ch_pa_title")), icon=":material/info:")
    else:
        churn.reason_table(both)
        differ = views.keep_rows(both, agree=[False], tier=ss["s_risk_tiers"] or None, customer_id=kept)
        st.caption(t("ch_pa_showing", n=fmt.integer(len(differ)), total=fmt.integer(len(both))))
        tables.table(naming.shown(differ), churn.PALIVE_COLUMNS, key="pa_table", height=360, empty=t("ch_pa_none"))
        tables.downloads(differ, f"palive_vs_rule_{ctx.as_of}", "w_pa_dl")

# Rising customers ----------------------------------------------------------------------------------------
st.divider()
st.subheader(t("ri_title"))
st.caption(t("ri_intro", top=fmt.md(ctx.rules.labels[0])))
trend_col, _ = st.columns([2, 3])
with trend_col:
    state.bound(st.slider, "s_rising_trend", t("ri_trend"), min_value=state.TREND_RANGE[0],
                max_value=state.TREND_RANGE[1], step=10, format="+%d%%", help=t("ri_trend_help"))
rising = churn.rising(ctx)
rising_kept = views.keep_rows(rising, customer_id=kept)
st.caption(t("ri_count", n=fmt.integer(len(rising)),
             floor=fmt.money(rising.attrs.get("min_recent_spend", 0))))
tables.table(naming.shown(rising_kept), churn.RISING_COLUMNS, key="ri_table", height=320, empty=t("ri_none"))
tables.downloads(rising_kept, f"rising_{ctx.as_of}", "w_ri_dl")

# Lifecycle ------------------------------------------------------------------------------------------------
st.divider()
st.subheader(t("lc_title"))
if not ctx.has_lines:
    st.info(t("needs_lines", what=t("lc_title")), icon=":material/info:")
    st.stop()
new_col, _ = st.columns([1.2, 4])
with new_col:
    state.bound(st.number_input, "s_new_days", t("lc_new_days"), min_value=1, max_value=3650, step=30,
                help=t("lc_new_days_help"))
life = churn.lifecycle(ctx)
chart_col, rules_col = st.columns([3, 2])
with chart_col:
    stages = views.cross_tab(life, "tier", "stage", ctx.levels, list(dynamics.STAGES))
    charts.show(charts.stack_counts_figure(stages, charts.STAGE_COLORS, naming.values_of("stage", dynamics.STAGES),
                                           t("lc_chart")), "chart_stages")
with rules_col:
    st.markdown(f"**{t('lc_rules')}**")
    churn.rules_table(dynamics.lifecycle_rules(**state.lifecycle_options()), "stage")
    st.caption(t("lc_rules_note"))
