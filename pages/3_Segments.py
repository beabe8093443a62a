"""Segments: RFM scores per dimension, RFM segments (editable rules), the R x F heatmap and the
recency / frequency / spend scatter by tier, weighted-score levels next to the Pareto tiers, and
breakdowns by any attribute that filter the customer list."""

import streamlit as st

import segcore
from segcore import views
from ui import charts, context, filters, fmt, naming, segments, sidebar, state
from ui.i18n import labeller, list_sep_join, t

ctx = context.page("nav_segments")
ss = st.session_state
n = int(ss["s_score_points"])

st.title(t("sg_title"))
st.caption(t("sg_intro", n=n))
context.count_only_note(ctx, t("cn_segments"))
return_only = views.return_only_count(ctx.metrics)
if return_only:
    st.caption(t("sg_return_only", n=fmt.integer(return_only)))
scores_tab, segments_tab, plots_tab, weighted_tab, breakdown_tab = st.tabs(
    [t("sg_tab_scores"), t("sg_tab_segments"), t("sg_tab_plots"), t("sg_tab_weighted"), t("sg_tab_breakdown")])
dims = list(dict.fromkeys(ctx.score_cuts["dimension"]))

# Scores per dimension: cut points, customers per score, custom cut points -----------------------------
with scores_tab:
    state.bound(st.segmented_control, "s_score_points", t("sg_points"), options=[3, 4, 5], required=True,
                help=t("sg_points_help"), after=segments.points_changed)
    if not dims:
        st.info(t("sg_no_scores"))
    for row in range(0, len(dims), 3):
        for dim, col in zip(dims[row:row + 3], st.columns(3)):
            with col, st.container(border=True, key=f"card_dim_{dim}"):
                table = segments.score_cut_table(ctx, dim)
                custom = dim in ss["s_custom_cuts"]
                st.markdown(f"**{naming.dimension_label(dim)}**" + (f" · :blue[{t('sg_custom_on')}]" if custom else ""))
                skipped = sorted(set(range(1, n + 1)) - set(table[t("sg_col_score")]))
                st.caption(t("sg_dim_caption", customers=fmt.integer(table[t("sg_col_customers")].sum()),
                             skipped=t("sg_skipped", scores=list_sep_join(skipped)) if skipped
                             else t("sg_none_skipped")))
                st.dataframe(table, hide_index=True, key=f"w_cuts_{dim}", column_config=segments.score_cut_config(dim))
                key = f"w_custom_{dim}"
                if ss.get("_reseed") or key not in ss:
                    ss[key] = segments.cut_text(ss["s_custom_cuts"].get(dim, []))
                st.text_input(t("sg_custom"), key=key, on_change=segments.custom_changed, args=(dim, n),
                              placeholder=t("sg_custom_ph", k=n - 1, example=segments.CUSTOM_EXAMPLES[dim]),
                              help=t("sg_custom_help", k=n - 1))
                problem = ss.get("_custom_errors", {}).get(dim)
                if problem:
                    st.error(t("sg_custom_bad", dim=naming.dimension_label(dim), problem=problem))

# RFM segments: counts, actions, the rules table ---------------------------------------------------------
with segments_tab:
    rules = segments.segment_rules()
    if ctx.count_only:
        st.caption(t("sg_count_only"))
    else:
        summary = views.segment_summary(ctx.metrics, list(rules["segment"]))
        charts.show(charts.segment_figure(summary), "chart_segments")
        shown = segments.segment_table(summary)
        st.dataframe(shown, hide_index=True, key="w_segment_table", height=36 * (len(shown) + 1) + 4,
                     column_config=segments.segment_column_config())
        others = next((row for row in summary.itertuples() if row.segment == "Others"), None)
        if others is not None and others.customers > 0:
            st.caption(t("sg_others_note", n=fmt.integer(others.customers), share=fmt.percent(others.customer_share)))

        st.subheader(t("sg_rules_title"))
        st.caption(t("sg_rules_help", n=n))
        base = segments.rules_editor_base(rules, n)
        edited = st.data_editor(base, key="w_seg_rules", num_rows="dynamic", hide_index=True,
                                column_config=segments.rules_column_config(n), width="stretch",
                                height=36 * (len(base) + 2) + 4)
        problem = segments.apply_segment_rules(edited, n)
        if problem:
            st.error(t("sg_rules_bad", problem=problem), icon=":material/rule:")
        st.button(t("sg_rules_reset"), key="w_seg_reset", on_click=segments.reset_segment_rules,
                  icon=":material/restart_alt:")

# R x F heatmap and the recency / frequency / spend scatter, coloured by tier ------------------------------
with plots_tab:
    if ctx.count_only:
        st.caption(t("sg_plots_count_only"))
    else:
        charts.show(charts.rf_heatmap_figure(views.rf_grid(ctx.metrics, n), n), "chart_rf_heatmap")
        st.caption(t("sg_rf_note"))
        state.bound(st.segmented_control, "s_sg_scatter", t("sg_scatter_pick"), options=list(segments.SCATTERS),
                    required=True, format_func=labeller({k: t(f"sg_scatter_{k}") for k in segments.SCATTERS}))
        pair = ss["s_sg_scatter"] or "recency_monetary"
        points = views.rfm_points(ctx.tiered)
        charts.show(charts.rfm_scatter_figure(points, ctx, *segments.SCATTERS[pair],
                                              t("sg_scatter_title", pair=t(f"sg_scatter_{pair}"))), "chart_rfm_scatter")
        if len(points) < points.attrs["customers"]:
            st.caption(t("sg_scatter_sample", n=fmt.integer(len(points)), total=fmt.integer(points.attrs["customers"])))

# Weighted-score levels next to the Pareto tiers ----------------------------------------------------------
with weighted_tab:
    st.markdown(f"**{t('sg_weights_title')}**")
    st.caption(t("sg_weights_help"))
    for dim, col in zip(dims, st.columns(max(len(dims), 1))):
        with col:
            segments.weight_slider(dim, dims)
    if ss.pop("_weights_error", False):
        st.warning(t("sg_weights_zero"))
    if dims:
        pareto_rules, score_rules = segments.compare_rules(ctx)
        by_pareto = segcore.assign_tiers(ctx.metrics, pareto_rules)
        by_score = segcore.assign_tiers(ctx.metrics, score_rules)
        left, right = st.columns(2)
        for col, tiered, title, key in (
                (left, by_pareto, t("sg_pareto_side", cuts=segments.cuts_text(pareto_rules.cuts)), "w_sg_pareto_side"),
                (right, by_score, t("sg_score_side", cuts=segments.cuts_text(score_rules.cuts)), "w_sg_score_side")):
            with col:
                st.markdown(f"**{title}**")
                segments.summary_table(segcore.tier_summary(tiered, ctx.labels), key=key)
        cross = views.cross_tab(views.tier_pairs(by_pareto, by_score), "first", "second",
                                list(ctx.levels), list(ctx.levels))
        charts.show(charts.cross_figure(cross, t("sg_cross_title"), t("sg_cross_axis_x"), t("sg_cross_axis_y")),
                    "chart_cross")
        st.caption(t("sg_agree", share=fmt.percent(views.agreement(cross, [ctx.rules.prospect_label]))))
        if ctx.rules.method == "score":
            st.success(t("sg_using_score"), icon=":material/check_circle:")
        else:
            st.button(t("sg_use_score"), key="w_use_score", on_click=segments.use_score, icon=":material/swap_horiz:")

# Breakdowns by attribute, with filters for the customer list -------------------------------------------
with breakdown_tab:
    attrs = segments.breakdown_columns(ctx.tiered)
    if not attrs:
        st.info(t("sg_no_attrs"))
    else:
        if ss["s_sg_attr"] not in attrs:
            ss["s_sg_attr"] = attrs[0]
        pick_col, mix_col, share_col = st.columns([2, 2, 1], vertical_alignment="bottom")
        with pick_col:
            state.bound(st.selectbox, "s_sg_attr", t("sg_by_attr"), options=attrs,
                        format_func=labeller({a: naming.col_label(a) for a in attrs}))
        with mix_col:
            if ctx.count_only:  # no segments without amounts
                ss["s_sg_mix"] = "tier"
            state.bound(st.segmented_control, "s_sg_mix", t("sg_mix_of"), required=True,
                        options=["tier"] if ctx.count_only else list(segments.MIXES),
                        format_func=labeller({"tier": t("sg_mix_tier"), "segment": t("sg_mix_segment")}))
        with share_col:
            state.bound(st.toggle, "s_sg_share", t("sg_show_share"))
        attr, mix = ss["s_sg_attr"], ss["s_sg_mix"]
        column, order, colors, names = segments.mix_spec(ctx, mix, rules)
        cross = views.cross_tab(ctx.tiered, attr, column, None, order)
        top = views.cross_tab(ctx.tiered, attr, column, None, order, top=segments.STACK_TOP)
        title = t("sg_stack_title", mix=t(f"sg_mix_{mix}"), attr=naming.col_label(attr))
        charts.show(charts.stack_figure(top, colors, title, naming.col_label(attr), ss["s_sg_share"], names),
                    "chart_breakdown")
        if len(top) < len(cross):
            st.caption(t("sg_top_values", n=segments.STACK_TOP))
        table = views.cross_tab_table(cross, "row_share" if ss["s_sg_share"] else "customers", naming.col_label(attr))
        st.dataframe(segments.rename_columns(table, names), hide_index=True, key="w_breakdown_table",
                     column_config=segments.cross_column_config(table, ss["s_sg_share"]))

        values = views.attribute_values(ctx.tiered, attr)["value"].tolist()
        segments.filter_picker(attr, values)
    if any(ss["s_filters"].values()):
        st.info(t("sg_filter_on", filters=filters.describe(ss["s_filters"])), icon=":material/filter_alt:")
        link_col, clear_col, _ = st.columns([2, 1, 3])
        with link_col:
            st.page_link(sidebar.PAGES["customers"], label=t("sg_open_list"), icon=":material/groups:")
        clear_col.button(t("sg_filter_clear"), key="w_filters_clear", on_click=filters.clear,
                         icon=":material/filter_alt_off:")
