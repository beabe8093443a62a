"""Customers: filter, search, sort and download the tiered list; open one customer's profile."""


import streamlit as st

import segcore
from segcore import views
from ui import charts, context, customers, filters, fmt, naming, state, tables
from ui.i18n import currency, labeller, t

ctx = context.page("nav_customers")
ss = st.session_state

st.title(t("cu_title"))
context.count_only_note(ctx, t("cn_customers"))

# Filters ---------------------------------------------------------------------------------------------
ss["s_cust_tiers"] = [x for x in ss["s_cust_tiers"] if x in ctx.levels]
sortable = tables.table_columns(ctx.tiered)
if ss["s_cust_sort"] not in sortable:
    ss["s_cust_sort"] = "rank"
tiers_col, search_col, sort_col, desc_col = st.columns([2.2, 2, 1.6, 0.9], vertical_alignment="bottom")
with tiers_col:
    state.bound(st.pills, "s_cust_tiers", t("filter_tiers"), options=list(ctx.levels), selection_mode="multi")
with search_col:
    state.bound(st.text_input, "s_cust_search", t("search"), placeholder=t("search_ph"))
with sort_col:
    state.bound(st.selectbox, "s_cust_sort", t("sort_by"), options=sortable,
                format_func=labeller({c: naming.col_label(c) for c in sortable}))
with desc_col:
    state.bound(st.toggle, "s_cust_desc", t("descending"))

applied = filters.active(ctx.tiered)
if applied:
    filters.note(applied)
view = views.customer_list(ctx.tiered, tiers=ss["s_cust_tiers"] or None, search=ss["s_cust_search"],
                           sort_by=ss["s_cust_sort"], descending=ss["s_cust_desc"], labels=ctx.levels,
                           filters=applied)
ids = view["customer_id"].head(tables.TABLE_ROWS).tolist()
ss["_cust_view_ids"] = ids

st.caption(t("showing", n=fmt.integer(len(view)), total=fmt.integer(len(ctx.tiered))) + " · " + t("table_help"))


def _picked():
    rows = ss["w_cust_table"]["selection"]["rows"]
    shown = ss.get("_cust_view_ids", [])
    if rows and rows[0] < len(shown):
        ss["s_cust_selected"] = shown[rows[0]]


columns = sortable
shown = view.head(tables.TABLE_ROWS)
if len(view) > len(shown):
    st.caption(t("table_capped", n=fmt.integer(len(shown))))
st.dataframe(naming.show_segments(shown), column_order=columns, column_config=tables.column_config(columns),
             hide_index=True,
             on_select=_picked, selection_mode="single-row", key="w_cust_table", height=420,
             placeholder=t("na"))

# Downloads -------------------------------------------------------------------------------------------
with st.container(border=True):
    st.markdown(f"**{t('download')}**")
    state.bound(st.segmented_control, "s_dl_scope", t("dl_scope"), options=["filter", "all", "tier"],
                required=True, format_func=labeller({
                 "filter": t("dl_filter", n=fmt.integer(len(view))),
                 "all": t("dl_all", n=fmt.integer(len(ctx.tiered))),
                 "tier": t("dl_tier")}))
    scope = ss["s_dl_scope"]
    csv_col, xlsx_col, tier_col, lang_col = st.columns([1, 1, 1.3, 2.5], vertical_alignment="bottom")
    with lang_col:
        code = tables.export_lang_choice("w_dl")
    sign = currency()[0]
    if scope == "tier":
        tier = tier_col.selectbox(t("dl_tier_pick"), options=list(ctx.levels), key="w_dl_tier")
        frame, sheets, suffix = views.customer_list(ctx.tiered, tiers=[tier]), [tier], tier
    elif scope == "all":
        frame, sheets, suffix = views.customer_list(ctx.tiered), list(ctx.levels), "all"
    else:
        frame, sheets, suffix = view, list(ss["s_cust_tiers"] or ctx.levels), "filtered"
    suffix = tables.file_stem(suffix)
    summary = ctx.summary
    csv_col.download_button(
        t("dl_csv"), data=lambda frame=frame: segcore.to_csv_bytes(segcore.export_columns(frame), code, sign),
        file_name=f"customers_{suffix}.csv", mime="text/csv", on_click="ignore", help=t("dl_csv_help"),
        icon=":material/download:", key="w_dl_csv", width="stretch")
    xlsx_col.download_button(
        t("dl_xlsx"),
        data=lambda frame=frame, sheets=sheets: segcore.to_excel_bytes(
            segcore.tier_sheets(frame, summary, sheets, code), code, sign),
        file_name=f"customers_{suffix}.xlsx", on_click="ignore", key="w_dl_xlsx", width="stretch",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", help=t("dl_xlsx_help"),
        icon=":material/table_view:")
    st.caption(t("dl_note"))

# Profile ---------------------------------------------------------------------------------------------
st.subheader(t("profile"))
selected = ss["s_cust_selected"]
row = views.customer_row(ctx.tiered, selected) if selected else None
if row is not None and row.empty:
    selected = ss["s_cust_selected"] = None
options, labels = customers.customer_choices(view, row)
state.bound(st.selectbox, "s_cust_selected", t("pick"), options=options, index=None,
            placeholder=t("pick_ph"), format_func=labeller(labels))

if not selected:
    st.info(t("no_customer"), icon=":material/person_search:")
    st.stop()

r = row.iloc[0]
tier = str(r["tier"])
name = r["name"] if "name" in row.columns and isinstance(r["name"], str) else ""
st.markdown(
    f"<div style='border-left:8px solid {ctx.color(tier)};padding-left:12px;font-size:1.5rem;font-weight:700'>"
    f"{fmt.md(selected)}{' · ' + fmt.md(name) if name else ''}"
    f" <span style='background:{ctx.color(tier)};color:white;border-radius:6px;padding:1px 10px;"
    f"font-size:1.1rem;margin-left:8px'>{fmt.md(tier)}</span></div>", unsafe_allow_html=True)

if bool(r.get("is_prospect", False)):
    st.info(t("p_prospect"), icon=":material/person_add:")

position = views.customer_position(ctx.tiered, selected)
with st.container(border=True, key="card_profile"):
    cells = st.columns(6)
    cells[0].metric(t("p_rank"), t("p_rank_value", rank=fmt.integer(position["rank"].iloc[0]),
                                   n=fmt.integer(position["buyers"].iloc[0])) if len(position) else t("na"))
    cells[1].metric(naming.col_label("monetary"), fmt.money(r["monetary"]))
    cells[2].metric(naming.col_label("frequency"), fmt.integer(r["frequency"]))
    cells[3].metric(naming.col_label("avg_order_value"), fmt.money(r["avg_order_value"]))
    cells[4].metric(naming.col_label("recency_days"), fmt.days(r["recency_days"]))
    cells[5].metric(naming.col_label("trend"), fmt.percent(r["trend"], 0))
    cells = st.columns(6)
    cells[0].metric(naming.col_label("first_order_date"), fmt.date(r["first_order_date"]))
    cells[1].metric(naming.col_label("last_order_date"), fmt.date(r["last_order_date"]))
    cells[2].metric(naming.col_label("product_breadth"),
                    fmt.integer(r["product_breadth"]) if "product_breadth" in r else t("na"))
    cells[3].metric(naming.col_label("avg_interval_days"), fmt.days(r["avg_interval_days"]))
    if "interactions_90d" in r:
        cells[4].metric(naming.col_label("interactions_90d"), fmt.integer(r["interactions_90d"]))
        cells[5].metric(naming.col_label("last_interaction_date"), fmt.date(r["last_interaction_date"]))

if "rfm_segment" in r and not fmt.is_missing(r["rfm_segment"]):
    st.markdown(t("sg_profile", segment=naming.segment_label(r["rfm_segment"]), scores=customers.score_text(r),
                  score=fmt.number(r["composite_score"], 2)) + "  \n" + naming.segment_action(r["rfm_segment"]))
attributes = tables.attribute_columns(row.columns)
if attributes:
    st.markdown(f"**{t('p_details')}:** " + " · ".join(
        f"{naming.col_label(c)}: {fmt.date(r[c]) if hasattr(r[c], 'strftime') else fmt.md(r[c])}"
        for c in attributes if not fmt.is_missing(r[c])))

if not ctx.has_lines:
    st.info(t("needs_lines_orders"), icon=":material/info:")
    charts.show(charts.pareto_figure(ctx, highlight=position, height=320), "chart_position")
else:
    orders = views.customer_orders(ctx.cursor(), selected, since=ctx.start, as_of=ctx.as_of)
    chart_col, pareto_col = st.columns([3, 2])
    with chart_col:
        if len(orders):
            charts.show(charts.orders_figure(ctx, orders, tier), "chart_orders")
        else:
            st.info(t("orders_none"))
    with pareto_col:
        charts.show(charts.pareto_figure(ctx, highlight=position, height=320), "chart_position")

    products_col, interactions_col = st.columns([3, 2])
    with products_col:
        st.markdown(f"**{t('products_title')}**")
        products = views.customer_products(ctx.cursor(), selected, since=ctx.start, as_of=ctx.as_of)
        if len(products):
            st.dataframe(products, hide_index=True, column_config=tables.column_config(products.columns), height=300)
        elif not ctx.ds.has("product"):
            st.caption(t("no_products"))
        else:
            st.caption(t("orders_none"))
    with interactions_col:
        st.markdown(f"**{t('interactions_title')}**")
        if ctx.spec.interactions is None:
            st.caption(t("no_interactions_file"))
        else:
            interactions = views.customer_interactions(ctx.cursor(), selected, as_of=ctx.as_of)
            if len(interactions):
                st.dataframe(interactions, hide_index=True, column_config=tables.column_config(interactions.columns),
                             height=300)
            else:
                st.caption(t("no_interactions"))
