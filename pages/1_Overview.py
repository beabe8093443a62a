"""Overview: KPI cards per tier, the tier mix, the Pareto curve and the distributions."""


import streamlit as st

from ui import charts, context, fmt
from ui.i18n import t

ctx = context.page("nav_overview")

st.title(t("ov_title"))
st.caption(t("ov_caption", file=fmt.md(t("sb_sample") if ctx.spec.sample else ctx.spec.orders.name),
             start=fmt.date(ctx.start), as_of=fmt.date(ctx.as_of), n=fmt.integer(len(ctx.tiered))))
context.count_only_note(ctx, t("cn_overview"))

# KPI cards, one per tier -------------------------------------------------------------------------
cards = st.columns(len(ctx.levels))
for card, row in zip(cards, ctx.summary.itertuples()):
    with card.container(border=True, key=f"card_{row.Index}"):
        st.markdown(
            f"<div style='border-left:8px solid {ctx.color(row.tier)};padding-left:10px;"
            f"font-size:1.35rem;font-weight:700;line-height:1.6'>{fmt.md(row.tier)}</div>",
            unsafe_allow_html=True)
        first, second, third = st.columns(2), st.columns(2), st.columns(2)  # pairs; a narrow card stacks them
        first[0].metric(t("kpi_customers"), fmt.integer(row.customers))
        first[1].metric(t("kpi_customer_share"), fmt.percent(row.customer_share))
        if ctx.count_only:  # a file without amounts: orders instead of money
            second[0].metric(t("kpi_orders"), fmt.integer(row.orders))
            second[1].metric(t("kpi_order_share"), fmt.percent(row.order_share))
            third[0].metric(t("kpi_avg_orders"), fmt.number(row.orders / row.customers if row.customers else None, 1))
        else:
            second[0].metric(t("kpi_revenue"), fmt.money(row.revenue, compact=True),
                             help=t("kpi_revenue_help", value=fmt.money(row.revenue)))
            second[1].metric(t("kpi_revenue_share"), fmt.percent(row.revenue_share), help=t("kpi_revenue_share_help"))
            third[0].metric(t("kpi_avg_spend"), fmt.money(row.avg_monetary, compact=True),
                            help=t("kpi_revenue_help", value=fmt.money(row.avg_monetary)))
        third[1].metric(t("kpi_avg_recency"), fmt.number(row.avg_recency_days))
if ctx.has_prospects:
    st.caption(t("prospect_note", label=fmt.md(ctx.rules.prospect_label)))

# Tier mix and Pareto curve -----------------------------------------------------------------------
charts.show(charts.tier_mix_figure(ctx), "chart_mix")
charts.show(charts.pareto_figure(ctx), "chart_pareto")

# Distributions -----------------------------------------------------------------------------------
st.subheader(t("dist_title"))
spend, orders, recency = st.columns(3)
if not ctx.count_only:
    with spend:
        charts.show(charts.distribution_figure(ctx, "monetary", "log", t("dist_spend"), t("axis_spend"), False),
                    "chart_spend")
with orders:
    charts.show(charts.distribution_figure(ctx, "frequency", "log", t("dist_freq"), t("axis_orders"), True),
                "chart_frequency")
with recency:
    charts.show(charts.distribution_figure(ctx, "recency_days", "linear", t("dist_recency"), t("axis_days"), True),
                "chart_recency")
