"""Engine codes named in the UI language: columns, rejection reasons, score dimensions, RFM
segments and their actions, coded values (risk levels, stages, movements, follow-up statuses), and
engine tables with their columns and codes in words.

Must not hold texts (they are in the locale files, looked up with ``ui.i18n.t``) or draw anything.
Segment names, segment actions, dimension labels and the bilingual columns of engine tables come
from ``segcore`` in English and Chinese; another language shows them in English.
"""

from __future__ import annotations

import pandas as pd

from segcore import dynamics, views
from segcore.scores import DIMENSIONS, SEGMENT_ACTIONS, SEGMENT_NAMES_ZH
from ui import fmt
from ui.i18n import has, lang, t


def col_label(name: str) -> str:
    """Column header for a column name (attribute columns the table does not know stay as they are)."""
    return t(f"col_{name}") if has(f"col_{name}") else str(name)


def reason_label(reason: str) -> str:
    return t(f"reason_{reason}") if has(f"reason_{reason}") else str(reason)


def dimension_label(name: str) -> str:
    dim = next(d for d in DIMENSIONS if d.name == name)
    return dim.label_zh if lang() == "zh" else dim.label_en


def segment_label(name) -> str:
    """A segment's name in the UI language (names typed by the user stay as they are)."""
    if fmt.is_missing(name):
        return t("na")
    return SEGMENT_NAMES_ZH.get(name, name) if lang() == "zh" else str(name)


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


def new_and_lost() -> dict:
    """The extra row and column of a migration matrix (customers new, customers lost) in words."""
    return {"new": t("mig_new_row"), "lost": t("mig_lost_col")}


def names_of(prefix: str, codes) -> dict:
    """``{code: text}`` for coded values (risk levels, stages, movements, statuses)."""
    return {c: t(f"{prefix}_{c}") for c in codes}


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    """An engine table in the UI language: bilingual columns and coded values as words."""
    return views.localise(frame, lang(), {
        "risk": names_of("risk", dynamics.RISK_LEVELS), "stage": names_of("stage", dynamics.STAGES),
        "movement": names_of("mv", dynamics.MOVEMENTS), "status": names_of("fu", FOLLOW_STATUSES)})
