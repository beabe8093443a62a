"""What a page starts with: page config and session defaults (:func:`setup`), then the dataset,
its per-customer metrics with scores and the tiers for the current settings, as a :class:`Ctx`;
and on demand the predictions beside the tiers (:func:`predictions`: the Forecast and Churn pages).

Caching
-------
The per-customer table is cached per dataset (``ui.data``); scores are memoised per session for the
score settings and tiering (``assign_tiers`` + ``tier_summary``) for the tier rules, so moving a
tier slider costs one re-tier of the cached per-customer table and nothing else. The prediction
models are cached per dataset, window and unit (``ui.data``); predictions are memoised per session
for the horizon, discount rate and tiers.

Must not draw anything but the sidebar (``ui.sidebar``), the page config and the note that a
count-only file has no amounts (:func:`count_only_note`), nor hold one page's helpers. Pages call
:func:`page` (the Data page: :func:`setup`, then :func:`current` once its own controls have chosen
the data).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

import segcore
from segcore import forecast
from ui import charts, data, session, sidebar, state
from ui.i18n import t

# KPI cards (containers keyed card_*): smaller numbers; labels wrap between words, never inside one
# ("Reven ue"); numbers are never cut ("506.…"). A card narrower than 320 px (four tiers at 1024 or
# 1280 px) stacks its columns, so each number has the card's whole width.
_CSS = """<style>
[class*="st-key-card_"] { container-type: inline-size; }
[class*="st-key-card_"] [data-testid="stMetricValue"] { font-size: 1.5rem; }
.st-key-card_profile [data-testid="stMetricValue"] { font-size: 1.3rem; }
[class*="st-key-card_"] [data-testid="stMetricLabel"] p { white-space: normal; overflow: visible;
    word-break: normal; overflow-wrap: normal; }
[class*="st-key-card_"] [data-testid="stMetricLabel"] div { overflow: visible; }
[class*="st-key-card_"] [data-testid="stMetricValue"] div { overflow: visible; text-overflow: clip; }
@container (max-width: 320px) {
    [data-testid="stHorizontalBlock"] { flex-direction: column; gap: 0.25rem; }
    [data-testid="stHorizontalBlock"] > [data-testid="stColumn"] { width: 100% !important; flex: 1 1 auto !important; }
}
</style>"""


def setup(title_key: str) -> None:
    """Page config and session defaults; the first call of every page."""
    state.init_state()
    ss = st.session_state
    if "s_active" not in ss:
        ss["s_active"] = data.sample_spec()  # the sample until other data loads
    view = (title_key, ss["s_lang"])
    ss["_reseed"] = ss.get("_view") != view
    ss["_view"] = view
    st.set_page_config(page_title=f"{t(title_key)} · {t('app_title')}", page_icon=":material/leaderboard:",
                       layout="wide", initial_sidebar_state="expanded")
    st.html(_CSS)
    session.start(title_key)


@dataclass
class Ctx:
    """A page's data: the dataset, its per-customer metrics with scores (``metrics``), the tier
    rules in use, the tiered table and its summary, the levels shown and their colours."""

    spec: data.Spec
    ds: segcore.Dataset
    start: date
    as_of: date
    metrics: pd.DataFrame
    rules: segcore.TierRules
    tiered: pd.DataFrame
    summary: pd.DataFrame
    levels: tuple[str, ...]
    colors: dict[str, str]
    labels_ok: bool = True
    score_cuts: pd.DataFrame | None = None  # per dimension: cut points and customers per score

    @property
    def labels(self) -> tuple[str, ...]:
        return self.rules.labels

    @property
    def has_lines(self) -> bool:
        """False for a customer table (one row per customer, no order lines)."""
        return self.ds.customer_table is None

    @property
    def count_only(self) -> bool:
        """The file has no amounts: tiers and shares count orders, nothing is in money."""
        return self.ds.report.amount_source == "none"

    @property
    def has_prospects(self) -> bool:
        return self.rules.prospect_label in self.levels

    def cursor(self):
        """A DuckDB cursor for one query from this thread."""
        return self.ds.con.cursor()

    def color(self, tier: str) -> str:
        return self.colors.get(tier, charts.PROSPECT_COLOR)


def scored_metrics(key: tuple, metrics: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(metrics + scores, segment and weighted score; the score cut table) for the session's
    score settings, memoised: a tier slider move does not re-score."""
    ss = st.session_state
    options = state.score_options()
    signature = (key, options["n"], tuple(sorted((options["custom_cuts"] or {}).items())),
                 tuple(sorted(ss["s_weights"].items())), repr(ss["s_segment_rules"]))
    memo = ss.get("_scores")
    if memo is None or memo[0] != signature:
        scored, cut_table = segcore.add_scores(metrics, **options)
        memo = ss["_scores"] = (signature, scored, cut_table)
    return memo[1], memo[2]


def loaded() -> tuple[data.Spec, segcore.Dataset]:
    """Load the active dataset and draw the sidebar: what the Data page needs for its report,
    which it draws before the customers are tiered (:func:`current`, at its end)."""
    spec, ds = data.active()
    state.window(spec, ds)
    sidebar.draw(spec, ds)
    return spec, ds


def current(show_sidebar: bool = True) -> Ctx:
    """Load the active dataset, draw the sidebar (unless the page did: :func:`loaded`) and tier
    the customers with the current settings."""
    spec, ds = loaded() if show_sidebar else data.active()
    since, as_of = state.window(spec, ds)
    metrics = data.customer_metrics(spec.key, as_of, since, ds)
    scored, cut_table = scored_metrics((spec.key, as_of, since), metrics)
    rules, labels_ok = state.current_rules()
    memo = st.session_state.get("_tiers")
    signature = (st.session_state["_scores"][0], rules)
    if memo is not None and memo[0] == signature:
        tiered, summary = memo[1], memo[2]
    else:
        tiered = segcore.assign_tiers(scored, rules)
        summary = segcore.tier_summary(tiered, rules.labels)
        st.session_state["_tiers"] = (signature, tiered, summary)
    session.remember()
    levels = tuple(summary["tier"])
    colors = {label: charts.TIER_COLORS[i] for i, label in enumerate(rules.labels)}
    colors[rules.prospect_label] = charts.PROSPECT_COLOR
    return Ctx(spec=spec, ds=ds, start=since, as_of=as_of, metrics=scored, rules=rules,
               tiered=tiered, summary=summary, levels=levels, colors=colors, labels_ok=labels_ok,
               score_cuts=cut_table)


def page(title_key: str) -> Ctx:
    """Start a view page: config, state, sidebar, and the current tiers."""
    setup(title_key)
    return current()


def count_only_note(ctx: Ctx, what: str) -> None:
    """Say once on a page that the file has no amounts, and what of this page needs them
    (``what``: a translated phrase); nothing for a file with amounts."""
    if ctx.count_only:
        st.info(t("count_only_note", what=what), icon=":material/money_off:")


def tiers_key():
    """What the current tiers (``ctx.tiered``) were made from: :func:`current`'s memo signature."""
    return st.session_state["_tiers"][0]


def predictions(ctx: Ctx) -> tuple[forecast.ModelFit, pd.DataFrame]:
    """(the models fitted on the orders up to the as-of date, the tiered table with each
    customer's predictions for the session's horizon and discount rate:
    :func:`segcore.forecast.forecast_table`).

    The fit is cached per dataset, window and unit (``ui.data.forecast_fit``); a new horizon,
    discount rate or tiering only predicts again (memoised per session). Raises
    :class:`segcore.PredictError` when the data cannot support the models.
    """
    options = state.forecast_options()
    fit = data.forecast_fit(ctx.spec.key, ctx.as_of, ctx.start, options["unit"], ctx.ds)
    if isinstance(fit, segcore.PredictError):
        raise fit
    table = state.memo("forecast", (tiers_key(), tuple(options.values())), lambda: forecast.forecast_table(
        forecast.predict(fit, options["horizon"], options["discount_rate"]), ctx.tiered, ctx.rules))
    return fit, table
