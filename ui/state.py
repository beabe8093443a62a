"""Settings in session state: their defaults, widgets bound to them, and reading them back.

State
-----
Settings live in ``st.session_state`` under ``s_*`` keys (never widget keys). A widget bound to a
setting (:func:`bound`) gets the key ``w_*``, is seeded from the setting on every run and writes back
through its ``on_change`` callback, so values survive page switches (Streamlit drops a widget's key
when a page without that widget runs). Keys starting with ``_`` are the session's own bookkeeping
(memos, flash messages, the view last drawn), never settings.

Holds the defaults (:data:`DEFAULTS`, slider bounds, quick level names), :func:`bound`, the
per-session memo for results that depend on settings (:func:`memo`), messages kept for the next run
(:func:`flash`), and the readers and writers of settings as the engine takes them: the tier rules,
score, churn, lifecycle and forecast options, the playbook rows, the column choices per file and role, the
window.

Must not load data or compute anything heavy (that is ``ui.data`` and ``ui.context``), nor know
about one page's layout.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import streamlit as st

import segcore
from segcore import forecast
from segcore import playbook as playbooks
from segcore import views
from segcore.scores import DEFAULT_SCORE_CUTS
from ui.i18n import t

if TYPE_CHECKING:
    from ui.data import Spec

# Quick level names for 2 to 5 levels, and the prospect level's name ("" = the language's default).
PRESETS = {
    "abc": ({n: tuple("ABCDE"[:n]) for n in range(2, 6)}, ""),
    "metal_en": ({2: ("Diamond", "Silver"), 3: ("Diamond", "Silver", "Bronze"),
                  4: ("Diamond", "Gold", "Silver", "Bronze"),
                  5: ("Diamond", "Platinum", "Gold", "Silver", "Bronze")}, "Iron"),
    "metal_zh": ({2: ("金钻", "白银"), 3: ("金钻", "白银", "铜"), 4: ("金钻", "黄金", "白银", "铜"),
                  5: ("金钻", "铂金", "黄金", "白银", "铜")}, "铁"),
}

CUT_KEYS = "abcd"  # cut slider i of a level count is keyed s_cut_<CUT_KEYS[i]>_<kind>
CUT_KINDS = ("value", "count", "score")  # Pareto by spend, Pareto by head count, weighted score
METHODS = ("pareto", "score", "computed")  # choices of s_method
PARETO_BY = ("value", "count")  # choices of s_by
DATE_ORDERS = ("auto", "dmy", "mdy")  # choices of s_date_order

DEFAULTS = {
    "s_lang": "en",
    "s_method": "pareto",
    "s_levels": 3,
    "s_by": "value",
    **{f"s_label_{i}": "ABCDE"[i] for i in range(5)},
    **{f"s_cut_{CUT_KEYS[i]}_{kind}": round(100 * share) for kind, shares in (
        ("value", segcore.DEFAULT_CUTS[3]), ("count", DEFAULT_SCORE_CUTS[3]), ("score", DEFAULT_SCORE_CUTS[3]))
       for i, share in enumerate(shares)},
    "s_score_points": 5,
    "s_weights": {},
    "s_custom_cuts": {},
    "s_segment_rules": [],
    "s_filters": {},
    "s_sg_attr": None,
    "s_sg_mix": "tier",
    "s_sg_share": True,
    "s_sg_scatter": "recency_monetary",
    "s_prospect_label": "",  # empty: the language's default name (Iron / 铁)
    "s_source": "sample",
    "s_date_order": "auto",
    "s_drop_dup": False,
    "s_cust_tiers": [],
    "s_cust_search": "",
    "s_cust_sort": "rank",
    "s_cust_desc": False,
    "s_cust_selected": None,
    "s_dl_scope": "filter",
    "s_export_lang": "",          # the downloads' language; empty = the UI language
    "s_currency_symbol": None,    # the sign shown with money; None = the one the data's amounts carried
    "s_currency_position": "before",
    "s_mig_period": "quarter",
    "s_mig_before": None,        # the earlier as-of date (follows the period unless "custom")
    "s_mig_measure": "customers",
    "s_mig_list": "upgraded",
    "s_snap_pick": None,
    "s_churn_k": 2.0,
    "s_churn_drop": 50,           # percent
    "s_rising_trend": 50,         # percent
    "s_new_days": 90,
    "s_lapse_days": 180,
    "s_risk_tiers": [],
    "s_playbook": [],             # edited playbook rows (any levels); empty = the defaults
    "s_fu_tiers": [],
    "s_fu_status": [],
    "s_fu_lapsed": False,         # lapsed customers in the call list too (else only on the win-back list)
    "s_ws_dataset": None,
    "s_fc_unit": "week",          # the models' time unit: "week" or "day"
    "s_fc_horizon": 52,           # the forecast horizon, in the unit
    "s_fc_rate": 0,               # the discount rate, percent a year
    "s_fc_end": None,             # the holdout check's calibration end; None = the last third held out
    "s_fc_tiers": [],
    "s_fc_sort": "clv",
    "s_fc_desc": True,
    "s_fc_list": "likely_gone",
    "s_fc_cohort_tiers": [],
}
K_RANGE, DROP_RANGE, TREND_RANGE = (0.5, 6.0), (5, 100), (10, 300)  # slider bounds (k; percents)
FC_UNITS = ("week", "day")  # choices of s_fc_unit
FC_HORIZON_MAX = {"week": 104, "day": 730}  # the horizon slider's end per unit: 24 months
FC_RATE_RANGE = (0, 50)  # discount rate slider, percent a year
YEAR_DAYS = 365.25


def init_state() -> None:
    ss = st.session_state
    for key, value in DEFAULTS.items():
        if key not in ss:
            ss[key] = type(value)(value) if isinstance(value, (list, dict)) else value
    ss.setdefault("s_uploads", {"orders": None, "customers": None, "interactions": None, "table": None})
    ss.setdefault("s_mapping", {})  # {role: {file sha: {field: header}}}
    ss.setdefault("s_sheets", {})  # {orders file sha: the workbook sheet chosen}
    ss.setdefault("s_window_for", None)
    ss.setdefault("s_as_of", None)
    ss.setdefault("s_since", None)


def seed(wkey: str, value) -> None:
    """Show ``value`` in the widget keyed ``wkey`` (call before drawing it)."""
    ss = st.session_state
    # Seed only when needed: re-assigning an equal value would push it back to the browser and
    # could undo a change the user is making right now (e.g. several arrow-key presses on a slider).
    # A page switch or a new language may give the widget a new identity: then seed it always.
    if ss.get("_reseed") or wkey not in ss or ss[wkey] != value:
        ss[wkey] = value


def bound(widget, setting: str, *args, after=None, key: str | None = None, **kwargs):
    """Render ``widget`` bound to the setting ``s_<name>`` under the widget key ``w_<name>``, or
    ``key`` for a second widget of one setting (the Migration page's "to" date is the sidebar's
    as-of date) or one per tab; ``after()`` runs once the setting took a value the user gave."""
    ss = st.session_state
    wkey = key or "w_" + setting[2:]
    seed(wkey, ss[setting])

    def _save():
        ss[setting] = ss[wkey]
        if after is not None:
            after()

    return widget(*args, key=wkey, on_change=_save, **kwargs)


def overrides_for(sha: str, role: str = "orders") -> dict[str, str]:
    """The user's column choices ``{field: header}`` for the ``role`` file (orders, customers or
    interactions) with content hash ``sha``. Kept per file and role for the whole session, so
    choices add up whichever dataset is on show (a failing upload keeps its choices)."""
    return st.session_state["s_mapping"].setdefault(role, {}).setdefault(sha, {})


def level_count() -> int:
    """Levels in use: the chosen 2 to 5, or 3 for the computed ABC analysis."""
    ss = st.session_state
    return 3 if ss["s_method"] == "computed" else int(ss["s_levels"])


def cut_kind() -> str:
    """Which cut sliders apply: ``value`` / ``count`` (Pareto by spend / head count) or ``score``."""
    ss = st.session_state
    return "score" if ss["s_method"] == "score" else ss["s_by"]


def current_labels() -> tuple[tuple[str, ...], str, bool]:
    """(labels, prospect label, valid): the typed level names, or A/B/C... + Iron when not usable."""
    ss = st.session_state
    n = level_count()
    labels = tuple(str(ss[f"s_label_{i}"]).strip() for i in range(n))
    prospect = str(ss["s_prospect_label"]).strip() or t("prospect_default")
    names = [*labels, prospect]
    if all(names) and len(set(names)) == len(names):
        return labels, prospect, True
    return PRESETS["abc"][0][n], t("prospect_default"), False


def current_cuts(kind: str | None = None) -> tuple[float, ...]:
    """The cut shares of one set of sliders (default: the set in use), one fewer than the levels,
    as fractions."""
    ss = st.session_state
    kind = kind or cut_kind()
    return tuple(ss[f"s_cut_{CUT_KEYS[i]}_{kind}"] / 100 for i in range(level_count() - 1))


def current_rules() -> tuple[segcore.TierRules, bool]:
    ss = st.session_state
    labels, prospect, ok = current_labels()
    weights = tuple(sorted((k, float(v)) for k, v in ss["s_weights"].items()))
    return segcore.TierRules(labels=labels, cuts=current_cuts(), by=ss["s_by"], prospect_label=prospect,
                             method=ss["s_method"], weights=weights,
                             score_points=int(ss["s_score_points"])), ok


def tier_settings() -> dict:
    """The tiering fields of :class:`segcore.Settings` as the session has them."""
    ss = st.session_state
    rules, _ = current_rules()
    return {"method": rules.method, "by": rules.by, "labels": rules.labels,
            "prospect_label": str(ss["s_prospect_label"]).strip() or PRESETS["metal_en"][1],
            "cuts": rules.cuts if rules.method != "computed" else None,
            "weights": dict(ss["s_weights"]), "score_points": rules.score_points,
            "custom_cut_points": {k: list(v) for k, v in ss["s_custom_cuts"].items()},
            "segment_rules": [dict(r) for r in ss["s_segment_rules"]]}


def apply_tier_settings(settings: segcore.Settings) -> None:
    """Put the tiering fields of ``settings`` into the session (the reverse of :func:`tier_settings`)."""
    ss = st.session_state
    n = len(settings.labels)
    ss["s_method"], ss["s_by"] = settings.method, settings.by
    ss["s_levels"] = n
    for i, label in enumerate(settings.labels):
        ss[f"s_label_{i}"] = label
    ss["s_prospect_label"] = "" if settings.prospect_label in ("Iron", "铁") else settings.prospect_label
    if settings.method != "computed":
        reset_cuts(n)
        kind = "score" if settings.method == "score" else settings.by
        rules = settings.tier_rules()
        for i, share in enumerate(rules.cuts):
            ss[f"s_cut_{CUT_KEYS[i]}_{kind}"] = round(100 * share)
    ss["s_weights"] = dict(settings.weights)
    ss["s_score_points"] = settings.score_points
    ss["s_custom_cuts"] = {k: list(v) for k, v in settings.custom_cut_points.items()}
    ss["s_segment_rules"] = [dict(r) for r in settings.segment_rules]


def reset_cuts(n: int) -> None:
    """Every cut slider to the default shares for ``n`` levels."""
    ss = st.session_state
    for kind in CUT_KINDS:
        shares = segcore.DEFAULT_CUTS[n] if kind == "value" else DEFAULT_SCORE_CUTS[n]
        for i, share in enumerate(shares):
            ss[f"s_cut_{CUT_KEYS[i]}_{kind}"] = round(100 * share)


def window(spec: Spec, ds: segcore.Dataset) -> tuple[date, date]:
    """(window start, as-of date) for the dataset: reset to its full range when it changes (a
    customer table's own window, fixed)."""
    ss = st.session_state
    if ds.customer_table is not None:  # a customer table's window is the one it was computed for
        facts = ds.customer_table[1]
        return facts["window_start"], facts["as_of"]
    lo, hi = ds.report.date_min, ds.report.date_max
    if ss["s_window_for"] != spec.key:
        ss["s_window_for"], ss["s_as_of"], ss["s_since"] = spec.key, hi, lo
    as_of = min(max(ss["s_as_of"] or hi, lo), hi)
    since = min(max(ss["s_since"] or lo, lo), as_of)
    ss["s_as_of"], ss["s_since"] = as_of, since
    return since, as_of


def memo(name: str, signature, compute):
    """``compute()`` once per ``signature``, kept in the session (one entry per ``name``)."""
    ss = st.session_state
    hit = ss.get(f"_memo_{name}")
    if hit is None or hit[0] != signature:
        hit = ss[f"_memo_{name}"] = (signature, compute())
    return hit[1]


def flash(channel: str, kind: str, text: str) -> None:
    """A message for the next :func:`show_flash` of ``channel`` (actions run in callbacks)."""
    st.session_state.setdefault("_flash", {}).setdefault(channel, []).append((kind, text))


def show_flash(channel: str) -> None:
    for kind, text in st.session_state.get("_flash", {}).pop(channel, []):
        icons = {"success": ":material/check_circle:", "error": ":material/error:", "warning": ":material/warning:"}
        getattr(st, kind)(text, icon=icons.get(kind))


def score_options() -> dict:
    """The session's score settings as :func:`segcore.add_scores` takes them."""
    ss = st.session_state
    custom = {k: tuple(v) for k, v in ss["s_custom_cuts"].items()}
    return {"n": int(ss["s_score_points"]), "custom_cuts": custom or None,
            "weights": dict(ss["s_weights"]) or None, "rules": ss["s_segment_rules"] or None}


def churn_options() -> dict:
    ss = st.session_state
    return {"k": float(ss["s_churn_k"]), "drop_share": ss["s_churn_drop"] / 100}


def per_unit_rate(percent_a_year: float, unit: str) -> float:
    """A yearly discount rate in percent as the rate per time unit the engine takes."""
    return (1 + percent_a_year / 100) ** (forecast.UNITS[unit] / YEAR_DAYS) - 1


def percent_a_year(rate: float, unit: str) -> float:
    """A discount rate per time unit as percent a year (the reverse of :func:`per_unit_rate`)."""
    return ((1 + rate) ** (YEAR_DAYS / forecast.UNITS[unit]) - 1) * 100


def forecast_options() -> dict:
    """The session's forecast settings as :func:`segcore.forecast.predict` takes them, with the unit."""
    ss = st.session_state
    unit = ss["s_fc_unit"]
    return {"unit": unit, "horizon": float(ss["s_fc_horizon"]),
            "discount_rate": per_unit_rate(ss["s_fc_rate"], unit)}


def lifecycle_options() -> dict:
    ss = st.session_state
    return {"new_days": int(ss["s_new_days"]), "lapse_days": int(ss["s_lapse_days"]), **churn_options()}


def playbook_now(labels, prospect: str) -> list[dict]:
    """The playbook for these levels: the edited rows, else the defaults (with the prospects)."""
    return views.playbook_rows(st.session_state["s_playbook"], playbooks.default_playbook(labels, prospect))


def keep_playbook(rows: list[dict]) -> None:
    """Store edited rows; rows of other levels (e.g. before a rename) are kept as they were."""
    ss = st.session_state
    kept = {r["level"]: r for r in ss["s_playbook"]}
    kept.update({r["level"]: r for r in rows})
    ss["s_playbook"] = list(kept.values())


def replace_playbook(rows: list[dict]) -> None:
    """The playbook changed from outside the table (reset, settings): start the table afresh."""
    ss = st.session_state
    ss["s_playbook"] = rows
    ss["_pb_version"] = ss.get("_pb_version", 0) + 1
