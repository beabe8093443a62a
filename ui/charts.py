"""Every plotly figure of the app and the colours they use.

Holds the fixed colours (tiers by position, best level first, the same on every page whatever the
labels are; prospects, returns, RFM segments, risk levels, lifecycle stages), :func:`show` (one
plotly config for every chart) and one function per figure, each taking engine tables (or the
page's :class:`ui.context.Ctx`) and returning a ``go.Figure`` with translated titles and hover texts.

Must not compute what a figure shows (``segcore.views`` and ``segcore.dynamics`` shape the data)
nor read settings; figures are drawn by the pages through :func:`show`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from segcore import dynamics, forecast, views
from ui import fmt, naming
from ui.i18n import lang, t

if TYPE_CHECKING:
    from ui.context import Ctx

# Tier colours by position (best level first), the same on every page whatever the labels are.
TIER_COLORS = ("#1565C0", "#F9A825", "#8D99A6", "#8E24AA", "#6D4C41")
PROSPECT_COLOR = "#D7CCC8"
RETURN_COLOR = "#C62828"
CURVE_COLOR = "#263238"
NEW_COLOR = "#2E7D32"
PREDICTED_COLOR = "#EF6C00"
HOLDOUT_SHADE = "#ECEFF1"
RISK_COLORS = {"high": "#C62828", "medium": "#EF6C00", "low": "#FBC02D"}
STAGE_COLORS = {"prospect": PROSPECT_COLOR, "new": "#2E7D32", "reactivated": "#00897B", "lapsed": "#9E9E9E",
                "at risk": "#EF6C00", "active": "#1565C0"}
# Segment colours in rule order (the default set has 11 segments, then "Others").
SEGMENT_COLORS = ("#1B5E20", "#43A047", "#7CB342", "#29B6F6", "#4FC3F7", "#FFB300", "#FB8C00",
                  "#D81B60", "#E53935", "#8D6E63", "#78909C", "#BDBDBD", "#5E35B1", "#00897B")

_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


def show(fig: go.Figure, key: str) -> None:
    st.plotly_chart(fig, key=key, config=_CONFIG)


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = 380, legend: bool = True) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=16)),
        xaxis=dict(title=dict(text=x)), yaxis=dict(title=dict(text=y)),
        height=height, margin=dict(l=10, r=10, t=60, b=10), showlegend=legend,
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1,
                    title=dict(text=""), traceorder="normal"),
        hoverlabel=dict(namelength=-1))
    return fig


def pareto_figure(ctx: Ctx, highlight: pd.DataFrame | None = None, height: int = 440) -> go.Figure:
    """Cumulative revenue share against cumulative customer share, tier bands and cut points."""
    orders = ctx.count_only  # a count-only file is ranked by orders
    points = views.pareto_points(ctx.tiered)
    cuts = views.pareto_cuts(ctx.tiered)
    fig = go.Figure()
    for row in cuts.itertuples():
        fig.add_vrect(x0=row.customer_share_start, x1=row.customer_share_end, fillcolor=ctx.color(row.tier),
                      opacity=0.16, line_width=0, layer="below")
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines",
                             name=t("pareto_equal_orders" if orders else "pareto_equal"),
                             line=dict(color="#B0BEC5", dash="dot", width=1.5), hoverinfo="skip"))
    hover = [t("pareto_hover_orders" if orders else "pareto_hover", x=x, y=y)
             for x, y in zip(fmt.percents(points["customer_share"]), fmt.percents(points["revenue_share"]))]
    fig.add_trace(go.Scatter(x=points["customer_share"], y=points["revenue_share"], mode="lines",
                             name=t("pareto_curve_orders" if orders else "pareto_curve"),
                             line=dict(color=CURVE_COLOR, width=3),
                             text=hover, hovertemplate="%{text}<extra></extra>"))
    last = len(cuts) - 1
    for i, row in enumerate(cuts.itertuples()):
        color = ctx.color(row.tier)
        label = t("pareto_cut_orders" if orders else "pareto_cut", tier=row.tier,
                  x=fmt.percent(row.customer_share_end),
                  y=fmt.percent(row.revenue_share_end))
        fig.add_trace(go.Scatter(x=[row.customer_share_end], y=[row.revenue_share_end], mode="markers",
                                 name=str(row.tier),
                                 marker=dict(size=12, color=color, line=dict(color="white", width=2)),
                                 hovertemplate=label + "<extra></extra>", showlegend=False))
        if i < last and highlight is None:
            right = row.customer_share_end < 0.6  # keep the label inside the plot
            fig.add_annotation(x=row.customer_share_end, y=row.revenue_share_end, text=label,
                               showarrow=True, arrowhead=0, ax=40 if right else -40, ay=28 + 22 * i,
                               xanchor="left" if right else "right",
                               font=dict(size=13, color=CURVE_COLOR),
                               bgcolor="rgba(255,255,255,0.85)", bordercolor=color, borderwidth=1.5)
    if highlight is not None and len(highlight):
        row = highlight.iloc[0]
        fig.add_trace(go.Scatter(x=[row["customer_share"]], y=[row["revenue_share"]], mode="markers+text",
                                 name=t("position_point", id=row["customer_id"], rank=fmt.integer(row["rank"])),
                                 text=[str(row["customer_id"])], textposition="bottom right",
                                 marker=dict(size=16, symbol="star", color=RETURN_COLOR,
                                             line=dict(color="white", width=1.5)),
                                 hovertemplate=t("pareto_hover_orders" if orders else "pareto_hover",
                                                 x=fmt.percent(row["customer_share"]),
                                                 y=fmt.percent(row["revenue_share"])) + "<extra></extra>"))
    _layout(fig, t("pareto_title_orders" if orders else "pareto_title") if highlight is None else t("position_title"),
            t("pareto_x_orders" if orders else "pareto_x"), t("pareto_y_orders" if orders else "pareto_y"),
            height=height, legend=highlight is None)
    fig.update_xaxes(tickformat=".0%", range=[0, 1], dtick=0.1)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.03], dtick=0.2)
    return fig


def distribution_figure(ctx: Ctx, column: str, scale: str, title: str, x_title: str,
                        integer: bool) -> go.Figure:
    """Stacked histogram of one metric, one colour per tier."""
    dist = views.distribution(ctx.tiered, column, scale)
    bins = dist.drop_duplicates("bin")
    order = [fmt.bin_label(lo, hi, integer) for lo, hi in zip(bins["lo"], bins["hi"])]
    fig = go.Figure()
    for tier in ctx.levels:
        part = dist[dist["tier"] == tier]
        if part.empty:
            continue
        fig.add_trace(go.Bar(x=[fmt.bin_label(lo, hi, integer) for lo, hi in zip(part["lo"], part["hi"])],
                             y=part["customers"], name=str(tier), marker_color=ctx.color(tier),
                             hovertemplate=f"{tier}: %{{y:,}}<extra>%{{x}}</extra>"))
    _layout(fig, title, x_title, t("axis_customers"), height=340)
    fig.update_layout(barmode="stack", bargap=0.08)
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=order, tickangle=-45)
    return fig


def tier_mix_figure(ctx: Ctx) -> go.Figure:
    """Two 100% bars: each tier's share of customers and of revenue (of orders for a count-only file)."""
    mix = views.tier_mix(ctx.summary)
    measures = {"customers": t("mix_customers"),
                **({"orders": t("mix_orders")} if ctx.count_only else {"revenue": t("mix_revenue")})}
    mix = mix[mix["measure"].isin(list(measures))]
    fig = go.Figure()
    for tier in ctx.levels:
        part = mix[mix["tier"] == tier]
        fig.add_trace(go.Bar(
            y=[measures[m] for m in part["measure"]], x=part["share"], orientation="h", name=str(tier),
            marker_color=ctx.color(tier), text=[fmt.percent(s, 0) if s >= 0.04 else "" for s in part["share"]],
            textposition="inside", insidetextanchor="middle",
            hovertext=[t("mix_hover", tier=tier, share=fmt.percent(s),
                         measure=measures[m].lower() if lang() == "en" else measures[m])
                       for s, m in zip(part["share"], part["measure"])],
            hoverinfo="text"))
    _layout(fig, t("mix_title"), "", "", height=230)
    fig.update_layout(barmode="stack", bargap=0.3)
    fig.update_xaxes(tickformat=".0%", range=[0, 1])
    fig.update_yaxes(autorange="reversed")
    return fig


def date_axis(fig: go.Figure) -> go.Figure:
    """The x axis of ``fig`` as dates written in the UI language ("2025年1月" / "Jan 2025"), as
    far apart as the ticks are (days, months, years); the hover shows the ISO date as ``fmt.date``."""
    fig.update_xaxes(type="date", hoverformat="%Y-%m-%d", tickformatstops=[
        dict(dtickrange=[None, "M1"], value=t("axis_date_day")),
        dict(dtickrange=["M1", "M12"], value=t("axis_date_month")),
        dict(dtickrange=["M12", None], value=t("axis_date_year"))])
    return fig


def orders_figure(ctx: Ctx, orders: pd.DataFrame, tier: str) -> go.Figure:
    """One customer's orders as bars over time (returns in red)."""
    color = ctx.color(tier)
    fig = go.Figure(go.Bar(
        x=orders["order_date"], y=orders["amount"],
        marker_color=[RETURN_COLOR if a < 0 else color for a in orders["amount"]],
        hovertext=[t("orders_hover", order=k, amount=fmt.money(a), lines=n)
                   for k, a, n in zip(orders["order_key"], orders["amount"], orders["lines"])],
        hoverinfo="text+x", name=t("orders_y"),
        width=max(2, (ctx.as_of - ctx.start).days / 120) * 86_400_000))
    _layout(fig, t("orders_title"), t("orders_x"), t("orders_y"), height=320, legend=False)
    fig.update_xaxes(range=[pd.Timestamp(ctx.start) - pd.Timedelta(days=7),
                            pd.Timestamp(ctx.as_of) + pd.Timedelta(days=7)])
    return date_axis(fig)


def segment_figure(summary: pd.DataFrame) -> go.Figure:
    """Customers per segment, horizontal bars in rule order."""
    names = [naming.segment_label(x) for x in summary["segment"]]
    fig = go.Figure(go.Bar(
        y=names, x=summary["customers"], orientation="h",
        marker_color=[SEGMENT_COLORS[i % len(SEGMENT_COLORS)] for i in range(len(names))],
        text=[f"{fmt.integer(c)} · {fmt.percent(s, 0)}"
              for c, s in zip(summary["customers"], summary["customer_share"].fillna(0))],
        textposition="auto", hovertemplate="%{y}: %{x:,}<extra></extra>"))
    _layout(fig, t("sg_seg_chart"), t("sg_seg_axis"), "", height=max(300, 34 * len(names) + 90), legend=False)
    fig.update_yaxes(autorange="reversed")
    return fig


def cross_figure(long: pd.DataFrame, title: str, x_title: str, y_title: str) -> go.Figure:
    """A cross-tab (:func:`segcore.views.cross_tab`) as a heatmap of customers, counts written in."""
    rows = list(dict.fromkeys(long["row"].fillna(t("na"))))
    cols = list(dict.fromkeys(long["column"].fillna(t("na"))))
    z = long["customers"].to_numpy().reshape(len(rows), len(cols))
    fig = go.Figure(go.Heatmap(z=z, x=cols, y=rows, colorscale="Blues", showscale=False,
                               text=[[fmt.integer(v) for v in row] for row in z], texttemplate="%{text}",
                               hovertemplate=f"{y_title}: %{{y}}<br>{x_title}: %{{x}}<br>%{{text}}<extra></extra>"))
    _layout(fig, title, x_title, y_title, height=120 + 48 * len(rows), legend=False)
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", side="bottom")
    return fig


def rf_heatmap_figure(grid: pd.DataFrame, n: int) -> go.Figure:
    """Mean spend per recency x frequency score cell (:func:`segcore.views.rf_grid`): recency
    score up, frequency score across, the mean written in, the customers on hover."""
    scores = list(range(1, n + 1))
    z = [[None] * n for _ in scores]
    text = [[""] * n for _ in scores]
    hover = [[""] * n for _ in scores]
    for row in grid.itertuples():
        r, f = int(row.r_score) - 1, int(row.f_score) - 1
        if row.customers:
            z[r][f] = float(row.mean_monetary)
            text[r][f] = fmt.money(row.mean_monetary, compact=True)
        hover[r][f] = t("sg_rf_hover", r=r + 1, f=f + 1, n=fmt.integer(row.customers),
                        spend=fmt.money(row.mean_monetary))
    fig = go.Figure(go.Heatmap(z=z, x=scores, y=scores, colorscale="Blues", showscale=False, text=text,
                               texttemplate="%{text}", customdata=hover, hovertemplate="%{customdata}<extra></extra>",
                               xgap=2, ygap=2, hoverongaps=False))
    _layout(fig, t("sg_rf_title"), t("sg_rf_x"), t("sg_rf_y"), height=120 + 56 * n, legend=False)
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category")
    return fig


def rfm_scatter_figure(points: pd.DataFrame, ctx: Ctx, x: str, y: str, title: str) -> go.Figure:
    """The scored customers (:func:`segcore.views.rfm_points`) as points of ``x`` against ``y``
    (two of recency_days, frequency, monetary), one colour per tier, best level first."""
    fig = go.Figure()
    x_name, y_name = naming.col_label(x), naming.col_label(y)

    def shown(column, v):
        return fmt.money(v) if column == "monetary" else fmt.integer(v)
    for tier in ctx.levels:
        rows = points[points["tier"] == tier]
        if rows.empty:
            continue
        fig.add_trace(go.Scattergl(
            x=rows[x], y=rows[y], mode="markers", name=str(tier),
            marker=dict(color=ctx.color(tier), size=6, opacity=0.7),
            customdata=[t("sg_scatter_hover", id=c, tier=tier, x=x_name, xv=shown(x, a), y=y_name, yv=shown(y, b))
                        for c, a, b in zip(rows["customer_id"], rows[x], rows[y])],
            hovertemplate="%{customdata}<extra></extra>"))
    _layout(fig, title, x_name, y_name, height=440)
    fig.update_xaxes(tickformat=",d")  # whole numbers written out (140,000), not 140k
    fig.update_yaxes(tickformat=",d")
    return fig


def stack_figure(long: pd.DataFrame, colors: dict, title: str, x_title: str, shares: bool,
                 names: dict | None = None) -> go.Figure:
    """Stacked bars: one bar per ``row`` value, stacked by ``column`` (tier or segment colours)."""
    names = names or {}
    fig = go.Figure()
    for col in dict.fromkeys(long["column"]):
        part = long[long["column"].eq(col) if col is not None else long["column"].isna()]
        label = names.get(col, col if col is not None else t("na"))
        y = part["row_share"].fillna(0) if shares else part["customers"]
        fig.add_trace(go.Bar(x=part["row"].fillna(t("na")), y=y, name=str(label),
                             marker_color=colors.get(col, PROSPECT_COLOR),
                             hovertemplate=f"%{{x}} · {label}: %{{y:{'.1%' if shares else ','}}}<extra></extra>"))
    _layout(fig, title, x_title, t("sg_stack_axis_share") if shares else t("sg_seg_axis"), height=420)
    fig.update_layout(barmode="stack")
    fig.update_xaxes(type="category")
    if shares:
        fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return fig


def _rgba(color: str, alpha: float) -> str:
    color = color.lstrip("#")
    r, g, b = (int(color[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def matrix_figure(matrix: pd.DataFrame, ctx: Ctx, title: str, money: bool, y_title: str, x_title: str) -> go.Figure:
    """A transition matrix as a heatmap: cells coloured by their share of the row, values written in."""
    names = naming.matrix_names()
    rows = [names.get(r, r) for r in matrix.index]
    cols = [names.get(c, c) for c in matrix.columns]
    values = matrix.to_numpy(dtype=float)
    totals = values.clip(min=0).sum(axis=1, keepdims=True)
    shares = values.clip(min=0) / (totals + (totals == 0))
    text = [[(fmt.money(v, compact=True) if money else fmt.integer(v)) + (f"<br>{fmt.percent(s, 0)}" if v else "")
             for v, s in zip(row, share)] for row, share in zip(values, shares)]
    hover = [[t("mig_cell_hover", before=r, after=c, value=fmt.money(v) if money else fmt.integer(v),
                share=fmt.percent(s)) for c, v, s in zip(cols, row, share)]
             for r, row, share in zip(rows, values, shares)]
    fig = go.Figure(go.Heatmap(z=shares, x=cols, y=rows, colorscale="Blues", zmin=0, zmax=1, showscale=False,
                               text=text, texttemplate="%{text}", customdata=hover,
                               hovertemplate="%{customdata}<extra></extra>", xgap=2, ygap=2))
    _layout(fig, title, x_title, y_title, height=150 + 56 * len(rows), legend=False)
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    return fig


def sankey_figure(mig: dynamics.Migration, ctx: Ctx, measure: str, title: str) -> go.Figure:
    """The flows between the two dates' levels (new customers enter on the left, lost ones leave
    on the right); flows with a negative net revenue are drawn as 0."""
    names = naming.matrix_names()

    def color(level):
        return NEW_COLOR if level == "new" else RETURN_COLOR if level == "lost" else ctx.color(level)

    levels = list(mig.nodes["level"])
    value_text = fmt.money if measure == "revenue" else fmt.integer
    values = mig.links[measure].clip(lower=0)
    fig = go.Figure(go.Sankey(
        arrangement="snap", valueformat=",.0f",
        node=dict(label=[names.get(x, x) for x in levels], color=[color(x) for x in levels], pad=18,
                  thickness=18, line=dict(color="white", width=1),
                  hovertemplate="%{label}: %{value:,.0f}<extra></extra>"),
        link=dict(source=mig.links["source_node"], target=mig.links["target_node"], value=values,
                  color=[_rgba(color(s), 0.35) for s in mig.links["source"]],
                  customdata=[t("mig_flow_hover", before=names.get(s, s), after=names.get(a, a), value=value_text(v))
                              for s, a, v in zip(mig.links["source"], mig.links["target"], mig.links[measure])],
                  hovertemplate="%{customdata}<extra></extra>")))
    _layout(fig, title, "", "", height=460, legend=False)
    fig.update_traces(textfont=dict(size=14, color=CURVE_COLOR))
    for x, text, anchor in ((0, fmt.date(mig.as_of_before), "left"), (1, fmt.date(mig.as_of_after), "right")):
        fig.add_annotation(x=x, y=1.06, xref="paper", yref="paper", text=f"<b>{text}</b>", showarrow=False,
                           xanchor=anchor, font=dict(size=13))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def stack_counts_figure(long: pd.DataFrame, colors: dict, names: dict, title: str) -> go.Figure:
    """Customers per tier (bars), stacked by risk level or stage (a :func:`views.cross_tab`)."""
    fig = stack_figure(long, colors, title, t("tier"), False, names)
    fig.update_yaxes(title=dict(text=t("axis_customers")))
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0),
                      margin=dict(b=40))
    return fig


def palive_figure(bands: pd.DataFrame, ctx: Ctx) -> go.Figure:
    """How P(alive) is spread in each tier (:func:`segcore.forecast.palive_bands`): bars per band,
    one colour per tier, each tier's bars adding up to 100%."""
    fig = go.Figure()
    for tier in dict.fromkeys(bands["tier"]):
        part = bands[bands["tier"] == tier]
        labels = [f"{fmt.number(100 * lo)}–{hi}" for lo, hi in zip(part["lo"], fmt.percents(part["hi"], 0))]
        fig.add_trace(go.Bar(x=labels, y=part["tier_share"], name=str(tier), marker_color=ctx.color(tier),
                             customdata=[t("fc_palive_hover", tier=tier, n=fmt.integer(n), share=s, band=b)
                                         for n, s, b in zip(part["customers"], fmt.percents(part["tier_share"]),
                                                            labels)],
                             hovertemplate="%{customdata}<extra></extra>"))
    _layout(fig, t("fc_palive_title"), t("fc_palive_x"), t("fc_palive_y"), height=360)
    fig.update_layout(barmode="group", bargap=0.15)
    fig.update_xaxes(type="category")
    fig.update_yaxes(tickformat=".0%")
    return fig


def tracking_figure(holdout: forecast.Holdout) -> go.Figure:
    """The holdout check week by week: cumulative repeat orders as they came and as the model
    expected them, the calibration end marked and the held-out period shaded."""
    track = holdout.tracking
    after = track[track["date"] >= pd.Timestamp(holdout.calibration_end)]
    fig = go.Figure()
    fig.add_vrect(x0=pd.Timestamp(holdout.calibration_end), x1=pd.Timestamp(holdout.holdout_end),
                  fillcolor=HOLDOUT_SHADE, opacity=0.5, line_width=0, layer="below")
    lines = ((track, "actual", t("fc_track_actual"), dict(color=CURVE_COLOR, width=3)),
             (track, "predicted", t("fc_track_model"), dict(color=PREDICTED_COLOR, width=2, dash="dash")),
             (after, "predicted_from_e", t("fc_track_from_e", date=fmt.date(holdout.calibration_end)),
              dict(color=NEW_COLOR, width=2, dash="dot")))
    for frame, column, name, line in lines:
        fig.add_trace(go.Scatter(
            x=frame["date"], y=frame[column], mode="lines", name=name, line=line,
            customdata=[t("fc_track_hover", date=fmt.date(d), n=fmt.number(v)) for d, v in
                        zip(frame["date"], frame[column])],
            hovertemplate=f"{name}<br>%{{customdata}}<extra></extra>"))
    fig.add_shape(type="line", x0=pd.Timestamp(holdout.calibration_end), x1=pd.Timestamp(holdout.calibration_end),
                  y0=0, y1=1, yref="paper", line=dict(color=RETURN_COLOR, width=2))
    fig.add_annotation(x=pd.Timestamp(holdout.calibration_end), y=1, yref="paper", yanchor="bottom",
                       text=t("fc_track_end", date=fmt.date(holdout.calibration_end)), showarrow=False,
                       xanchor="right", font=dict(size=12, color=RETURN_COLOR))
    fig.add_annotation(x=pd.Timestamp(holdout.holdout_end), y=0.02, yref="paper", text=t("fc_track_held_out"),
                       showarrow=False, xanchor="right", yanchor="bottom", font=dict(size=12, color=CURVE_COLOR))
    _layout(fig, t("fc_track_title"), "", t("fc_track_y"), height=400)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0), margin=dict(b=40))
    return date_axis(fig)


def frequency_figure(holdout: forecast.Holdout) -> go.Figure:
    """The holdout check by calibration frequency: orders per customer after the calibration end,
    as they came and as predicted, for customers with 0, 1, ... 7+ repeat orders before it."""
    f = holdout.by_frequency
    fig = go.Figure()
    for column, name, color in (("actual_mean", t("fc_track_actual"), CURVE_COLOR),
                                ("predicted_mean", t("fc_freq_predicted"), PREDICTED_COLOR)):
        fig.add_trace(go.Bar(
            x=f["frequency"], y=f[column], name=name, marker_color=color,
            customdata=[t("fc_freq_hover", n=fmt.integer(n), x=x, value=fmt.number(v, 2))
                        for n, x, v in zip(f["customers"], f["frequency"], f[column])],
            hovertemplate=f"{name}<br>%{{customdata}}<extra></extra>"))
    _layout(fig, t("fc_freq_title"), t("fc_freq_x", date=fmt.date(holdout.calibration_end)), t("fc_freq_y"),
            height=400)
    fig.update_layout(barmode="group", bargap=0.25)
    fig.update_xaxes(type="category")
    return fig


# Cohort heatmaps write their values in when there are at most this many months (else: hover).
COHORT_TEXT_MONTHS = {"retention": 24, "revenue": 12}


def cohort_figure(matrix: pd.DataFrame, title: str, money: bool) -> go.Figure:
    """A cohort matrix (:class:`segcore.forecast.Cohorts`) as a heatmap: first-order months down,
    months since across (0 = the first-order month). Retention is written in as whole percents
    and coloured up to the highest share after the first month (which is 100% by definition);
    revenue is coloured up to the largest cell, written in when there are few months."""
    values = matrix.to_numpy(dtype=float)
    shown = [["" if fmt.is_missing(v) else fmt.money(v, compact=True) if money else fmt.percent(v, 0) for v in row]
             for row in values]
    months = [str(c) for c in matrix.columns]
    cohorts = [fmt.month(c) for c in matrix.index]  # 2024年11月 / Nov 2024
    hover = [[t("fc_cohort_hover", cohort=c, months=m, value=x) for m, x in zip(months, row)]
             for c, row in zip(cohorts, shown)]
    top = np.nanmax(values if money else values[:, 1:], initial=0) or 1
    if len(months) > COHORT_TEXT_MONTHS["revenue" if money else "retention"]:
        text = None
    elif money:
        text = shown
    else:  # percents without the sign: they fit narrow cells; the title says they are percents
        text = [["" if fmt.is_missing(v) else fmt.number(100 * v) for v in row] for row in values]
    fig = go.Figure(go.Heatmap(z=np.minimum(values / top, 1), x=months, y=cohorts, colorscale="Blues",
                               showscale=False, zmin=0, zmax=1, text=text, texttemplate="%{text}" if text else None,
                               textfont=dict(size=9), customdata=hover, hovertemplate="%{customdata}<extra></extra>",
                               xgap=1, ygap=1, hoverongaps=False))
    _layout(fig, title, "", t("fc_cohort_y"), height=150 + 22 * len(matrix.index), legend=False)
    fig.update_layout(margin=dict(t=90))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", side="top")
    return fig
