"""Engine codes named in the UI language: columns, rejection reasons, score dimensions, RFM
segments and their actions, coded values (risk levels, stages, movements, follow-up statuses, why
P(alive) and the churn rule disagree), why a prediction cannot be made, and engine tables with
their columns and codes in words.

Must not hold texts (they are in the locale files, looked up with ``ui.i18n.t``) or draw anything.
Segment names, segment actions, dimension labels, the reasons P(alive) and the churn rule disagree
and the bilingual columns of engine tables come from ``segcore`` in English and Chinese; another
language shows them in English.
"""

from __future__ import annotations

import pandas as pd

from segcore import export, forecast
from segcore.scores import DIMENSIONS, SEGMENT_ACTIONS, SEGMENT_NAMES_ZH
from ui import fmt
from ui.i18n import has, lang, t


def names_lang() -> str:
    """The language engine names are shown in: the UI language when ``segcore`` names things in
    it (:data:`segcore.EXPORT_LANGS`), else English."""
    return lang() if lang() in export.EXPORT_LANGS else "en"


def col_label(name: str) -> str:
    """Column header for a column name (attribute columns the table does not know stay as they are)."""
    return export.column_name(name, names_lang())


def reason_label(reason: str) -> str:
    """Why a row was rejected, in words."""
    return value_label("reason", reason)


def dimension_label(name: str) -> str:
    dim = next(d for d in DIMENSIONS if d.name == name)
    return dim.label_zh if lang() == "zh" else dim.label_en


def segment_label(name) -> str:
    """A segment's name in the UI language (names typed by the user stay as they are)."""
    if fmt.is_missing(name):
        return t("na")
    return SEGMENT_NAMES_ZH.get(name, name) if lang() == "zh" else str(name)


def segment_code(label) -> str:
    """The engine's name of a segment shown by :func:`segment_label` (names typed by the user stay
    as they are)."""
    if lang() == "zh":
        return next((name for name, zh in SEGMENT_NAMES_ZH.items() if zh == label), label)
    return label


def segment_action(name) -> str:
    action = SEGMENT_ACTIONS.get(name)
    return (action[1] if lang() == "zh" else action[0]) if action else t("na")


def show_segments(frame: pd.DataFrame) -> pd.DataFrame:
    """A customer table for display: RFM segment names in the UI language."""
    if "rfm_segment" not in frame.columns or lang() != "zh":
        return frame
    return frame.assign(rfm_segment=frame["rfm_segment"].map(segment_label))


# The follow-up statuses of segcore.playbook.follow_ups, in the order they are shown.
FOLLOW_STATUSES = ("overdue", "due", "scheduled")


def matrix_names() -> dict:
    """The extra row and column of a migration matrix (customers new, customers lost) and its
    corner (``new``, ``lost``, ``corner``) in words."""
    return export.matrix_names(names_lang())


def value_label(column: str, code) -> str:
    """A coded value of an engine column (``risk``, ``stage``, ``movement``, ``status`` ...) in words."""
    return export.value_names(names_lang()).get(column, {}).get(code, str(code))


def values_of(column: str, codes) -> dict:
    """``{code: name}`` for the coded values of an engine column (risk levels, stages, movements, statuses)."""
    return {c: value_label(column, c) for c in codes}


def names_of(prefix: str, codes) -> dict:
    """``{code: text}`` for the choices of a widget (periods, units ...): the texts ``<prefix>_<code>``."""
    return {c: t(f"{prefix}_{c}") for c in codes}


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    """An engine table in the UI language: bilingual columns and coded values as words."""
    return export.localised(frame, names_lang())


# The codes of segcore.PredictError and of a fit's warnings (segcore.forecast.Note).
PREDICT_CODES = ("no_customers", "calibration_too_short", "too_few_repeat_buyers", "no_convergence", "no_holdout",
                 "too_few_spend_values", "spend_no_convergence", "spend_unbounded", "spend_excluded",
                 "spend_depends_on_frequency", "no_amounts")


def predict_problem(code: str, params: dict, english: str) -> str:
    """Why the data cannot support a prediction (a :class:`segcore.PredictError`), or a fit's
    warning, in one sentence of the UI language with its numbers and dates; ``english``, the
    engine's own sentence, for a code without a text."""
    if not has(f"fc_why_{code}"):
        return english

    def shown_value(k, v):
        if hasattr(v, "strftime"):
            return fmt.date(v)
        if k in ("days", "min_days"):
            return fmt.days(v)  # "1 day", "3 days"
        return fmt.integer(v) if isinstance(v, int) else fmt.number(v, 2)
    return t(f"fc_why_{code}", **{k: shown_value(k, v) for k, v in params.items()})


def disagreement_reason(code) -> str:
    """Why P(alive) and the churn rule judge a customer differently
    (:data:`segcore.forecast.DISAGREEMENT_REASONS`), in the UI language."""
    texts = forecast.DISAGREEMENT_REASONS.get(code)
    return (texts[1] if lang() == "zh" else texts[0]) if texts else t("na")
