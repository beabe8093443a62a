"""Forecast: who is still a customer, what they will buy and what they are worth (BG/NBD and
Gamma-Gamma), checked on held-out orders first; past value against expected value; cohorts."""

import html

import streamlit as st

import segcore
from segcore import forecast, views
from ui import charts, context, filters, fmt, naming, state, tables
from ui import forecast as fc
from ui.i18n import labeller, t

ctx = context.page("nav_forecast")
ss = st.session_state

st.title(t("fc_title"))
if not ctx.has_lines:
    st.info(t("needs_lines", what=t("fc_title")), icon=":material/info:")
    st.stop()
st.caption(t("fc_intro", as_of=fmt.date(ctx.as_of)))
context.count_only_note(ctx, t("cn_forecast"))

horizon_col, unit_col = st.columns([3, 1.3], vertical_alignment="bottom")
with unit_col:
    state.bound(st.segmented_control, "s_fc_unit", t("fc_unit"), options=state.FC_UNITS, required=True,
                format_func=labeller(naming.names_of("fc_unit", state.FC_UNITS)), after=fc.unit_changed,
                help=t("fc_unit_help"))
unit = ss["s_fc_unit"]
ss["s_fc_horizon"] = min(max(int(ss["s_fc_horizon"]), 1), state.FC_HORIZON_MAX[unit])
with horizon_col:
    state.bound(st.slider, "s_fc_horizon", t(f"fc_horizon_{unit}"), min_value=1,
                max_value=state.FC_HORIZON_MAX[unit], step=1, help=t("fc_horizon_help"))
rate_col, _ = st.columns([3, 1.3])
with rate_col:
    state.bound(st.slider, "s_fc_rate", t("fc_rate"), min_value=state.FC_RATE_RANGE[0],
                max_value=state.FC_RATE_RANGE[1], step=1, format="%d%%", help=t("fc_rate_help"))
st.caption(fc.horizon_note(ctx))

try:
    fit, table = context.predictions(ctx)
    problem = None
except segcore.PredictError as exc:
    fit, table, problem = None, None, naming.predict_problem(exc.code, exc.params, str(exc))

forecast_tab, holdout_tab, value_tab, cohort_tab = st.tabs(
    [t("fc_tab_forecast"), t("fc_tab_holdout"), t("fc_tab_value"), t("fc_tab_cohorts")])

# Per tier and per customer ------------------------------------------------------------------------------
with forecast_tab:
    if problem:
        st.warning(problem, icon=":material/warning:")
    else:
        summary = forecast.forecast_summary(table, ctx.rules.labels)
        st.markdown(fc.headline(fit, summary))
        for note in fit.warnings:
            st.caption(":material/info: " + naming.predict_problem(note.code, note.params, note.message))
        buyers = views.keep_rows(summary, tier=ctx.rules.labels)
        cards = st.columns(len(buyers))
        for card, row in zip(cards, buyers.itertuples()):
            with card.container(border=True, key=f"card_fc_{row.Index}"):
                st.markdown(
                    f"<div style='border-left:8px solid {ctx.color(row.tier)};padding-left:10px;"
                    f"font-size:1.35rem;font-weight:700;line-height:1.6'>{html.escape(str(row.tier))}</div>",
                    unsafe_allow_html=True)
                st.metric(t("fc_kpi_active"), t("fc_kpi_active_value", n=fmt.integer(row.likely_active),
                                                share=fmt.percent(row.likely_active / row.predicted_customers
                                                                  if row.predicted_customers else None, 0)),
                          help=t("fc_kpi_active_help", n=fmt.integer(row.predicted_customers),
                                 palive=fmt.percent(row.avg_p_alive, 0)))
                st.metric(t("fc_kpi_orders"), fmt.number(row.expected_orders))
                if fit.gamma_gamma is not None:  # else: no order values, so no lifetime value (the note says why)
                    st.metric(t("fc_kpi_clv"), fmt.money(row.clv, compact=True),
                              help=t("fc_kpi_clv_help", spend=fmt.money(row.expected_spend),
                                     value=fmt.money(row.clv), share=fmt.percent(row.clv_share)))
                st.metric(t("fc_kpi_next"), fmt.date(row.median_next_order_date),
                          help=t("fc_kpi_next_help", n=fmt.integer(row.next_order_customers)))
        if ctx.has_prospects:
            st.caption(t("fc_prospects", label=fmt.md(ctx.rules.prospect_label)))
        charts.show(charts.palive_figure(forecast.palive_bands(table, ctx.rules.labels), ctx), "chart_fc_palive")
        st.caption(t("fc_palive_note"))

        st.subheader(t("fc_list"))
        ss["s_fc_tiers"] = [x for x in ss["s_fc_tiers"] if x in ctx.levels]
        tiers_col, sort_col, desc_col = st.columns([2, 1.6, 1.2], vertical_alignment="bottom")
        with tiers_col:
            state.bound(st.pills, "s_fc_tiers", t("filter_tiers"), options=list(ctx.levels), selection_mode="multi")
        with sort_col:
            state.bound(st.selectbox, "s_fc_sort", t("sort_by"), options=fc.SORTS,
                        format_func=labeller({c: naming.col_label(c) for c in fc.SORTS}))
        with desc_col:
            state.bound(st.toggle, "s_fc_desc", t("descending"))
        applied = filters.active(table)
        if applied:
            filters.note(applied)
        view = views.customer_list(table, tiers=ss["s_fc_tiers"] or None, sort_by=ss["s_fc_sort"],
                                   descending=ss["s_fc_desc"], labels=ctx.levels, filters=applied)
        st.caption(t("showing", n=fmt.integer(len(view)), total=fmt.integer(len(table))))
        tables.table(view, fc.TABLE_COLUMNS, key="fc_table", height=420)
        tables.downloads(fc.columns_of(view, fc.TABLE_COLUMNS), f"forecast_{ctx.as_of}", "w_fc_dl")
        with st.expander(t("fc_params")):
            st.markdown(fc.parameters(fit))
            st.caption(t("fc_params_note"))

# The holdout check -----------------------------------------------------------------------------------------
with holdout_tab:
    st.caption(t("fc_ho_intro"))
    end = fc.calibration_control(ctx)
    try:
        check = fc.holdout(ctx, end)
    except segcore.PredictError as exc:
        st.warning(naming.predict_problem(exc.code, exc.params, str(exc)), icon=":material/warning:")
    else:
        for sentence in fc.holdout_sentences(check):
            st.markdown(sentence)
        with st.container(key="card_fc_holdout"):
            cells = st.columns(4)
            cells[0].metric(t("fc_ho_predicted"), fmt.integer(round(check.predicted_orders)), border=True)
            cells[1].metric(t("fc_ho_actual"), fmt.integer(check.actual_orders), border=True)
            cells[2].metric(t("fc_ho_correlation"), fmt.number(check.correlation, 2), border=True,
                            help=t("fc_ho_correlation_help"))
            cells[3].metric(t("fc_ho_mae"), fmt.number(check.mae, 2), border=True, help=t("fc_ho_mae_help"))
        charts.show(charts.tracking_figure(check), "chart_fc_tracking")
        charts.show(charts.frequency_figure(check), "chart_fc_frequency")
        with st.expander(t("fc_ho_table")):
            tables.table(check.by_frequency, fc.FREQUENCY_COLUMNS, key="fc_frequency_table")

# Past value against expected value ----------------------------------------------------------------------------
with value_tab:
    if problem:
        st.warning(problem, icon=":material/warning:")
    elif fit.gamma_gamma is None:
        st.warning(t("fc_no_value", why=naming.predict_problem(fit.spend_error.code, fit.spend_error.params,
                                                               str(fit.spend_error))), icon=":material/warning:")
    else:
        st.caption(t("fc_value_intro", levels=" / ".join(map(fmt.md, ctx.rules.labels))))
        cross = views.cross_tab(views.keep_rows(table, tier=ctx.rules.labels), "tier", "expected_tier",
                                ctx.rules.labels, ctx.rules.labels)
        charts.show(charts.cross_figure(cross, t("fc_cross_title"), t("fc_cross_x"), t("fc_cross_y")),
                    "chart_fc_cross")
        lists = forecast.value_lists(table, ctx.rules.labels)
        counts = {k: fmt.integer(len(v)) for k, v in lists.items()}
        state.bound(st.segmented_control, "s_fc_list", t("fc_list_pick"), options=fc.LISTS, required=True,
                    format_func=labeller({k: f"{t(f'fc_list_{k}')} ({counts[k]})" for k in fc.LISTS}))
        chosen = ss["s_fc_list"] or fc.LISTS[0]
        st.caption(t(f"fc_list_help_{chosen}", top=ctx.rules.labels[0]))
        tables.table(lists[chosen], fc.LIST_COLUMNS, key="fc_value_table", height=360, empty=t("fc_list_empty"))
        tables.downloads(lists[chosen], f"{chosen}_{ctx.as_of}", "w_fc_list_dl")

# Cohorts ---------------------------------------------------------------------------------------------------
with cohort_tab:
    st.caption(t("fc_cohort_intro"))
    ss["s_fc_cohort_tiers"] = [x for x in ss["s_fc_cohort_tiers"] if x in ctx.rules.labels]
    state.bound(st.pills, "s_fc_cohort_tiers", t("filter_tiers"), options=list(ctx.rules.labels),
                selection_mode="multi")
    cohorts = fc.cohorts(ctx, ss["s_fc_cohort_tiers"])
    if cohorts.table.empty:
        st.info(t("fc_cohort_none"), icon=":material/info:")
    else:
        charts.show(charts.cohort_figure(cohorts.retention, t("fc_cohort_retention"), False), "chart_fc_retention")
        charts.show(charts.cohort_figure(cohorts.revenue, t("fc_cohort_revenue"), True), "chart_fc_revenue")
