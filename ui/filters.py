"""The breakdown filters: attribute values picked on the Segments page that narrow the customer
list, the churn and rising lists and the follow-up list, with their downloads.

Holds reading the filters that apply to a table, the note with a clear button shown above a
filtered list, and the customer ids they keep.

Must not draw the Segments page's filter pickers (``ui.segments``) nor filter a table itself
(``segcore.views.customer_list`` / ``keep_rows`` do).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from segcore import views
from ui import naming
from ui.i18n import list_sep_join, t

if TYPE_CHECKING:
    from ui.context import Ctx


def describe(filters: dict) -> str:
    return "; ".join(f"{naming.col_label(c)} = "
                     f"{list_sep_join(naming.segment_label(v) if c == 'rfm_segment' else v for v in vals)}"
                     for c, vals in filters.items() if vals)


def active(tiered: pd.DataFrame) -> dict:
    """The breakdown filters that apply to this table (columns it has, non-empty value lists)."""
    return {c: v for c, v in st.session_state["s_filters"].items() if v and c in tiered.columns}


def note(filters: dict) -> None:
    """Say which breakdown filters apply to the list below, with a button to clear them."""
    note_col, clear_col = st.columns([5, 1], vertical_alignment="center")
    note_col.info(t("sg_filter_on", filters=describe(filters)), icon=":material/filter_alt:")
    clear_col.button(t("sg_filter_clear"), key="w_filters_clear", on_click=clear,
                     icon=":material/filter_alt_off:")


def kept_ids(ctx: Ctx) -> list[str] | None:
    """Customer ids the breakdown filters keep (None: no filter), for lists made from the tiers;
    shows the filter note when one applies."""
    filters = active(ctx.tiered)
    if not filters:
        return None
    note(filters)
    return views.customer_list(ctx.tiered, filters=filters)["customer_id"].tolist()


def clear() -> None:
    st.session_state["s_filters"] = {}
