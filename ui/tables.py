"""Tables shown in the browser: which columns in which order, their translated headers and number
formats, the read-only table of a page and the CSV / Excel download buttons of a table with the
choice of their language.

Holds the column layout of customer tables (key metrics, attributes, scores), :func:`column_config`
for every engine column the pages show, :func:`table` (capped at :data:`TABLE_ROWS` rows; the
downloads hold every row), :func:`downloads` and :func:`export_lang_choice`.

Must not compute or reshape tables (``segcore.views`` does) nor hold one page's table settings
(those stay in that page's module, e.g. ``ui.segments``).
"""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

import segcore
from ui import fmt, naming, state
from ui.i18n import currency, labeller, t

TABLE_ROWS = 5_000  # rows sent to the browser table (downloads hold every row)
TABLE_FIRST = ("customer_id", "name", "tier", "rank", "rfm_segment", "monetary", "frequency", "recency_days",
               "avg_order_value", "first_order_date", "last_order_date", "product_breadth",
               "avg_interval_days", "trend", "interactions_90d", "last_interaction_date")
SCORE_COLUMNS = ("r_score", "f_score", "m_score", "a_score", "b_score", "composite_score")
TABLE_LAST = (*SCORE_COLUMNS, "cumulative_share", "tenure_days", "spend_first_half", "spend_second_half")
TABLE_HIDDEN = ("is_prospect",)
PROFILE_SKIP = set(TABLE_FIRST) | set(TABLE_LAST) | set(TABLE_HIDDEN)
_DATES = ("next_contact_date", "as_of", "created", "expected_next_order_date")
LONG_TEXT = ("reason", "strategy", "reason_code")  # sentences: a wide column, wrapped in taller rows
WRAP_ROW_HEIGHT = 76  # pixels: three lines of text (the browser table wraps text in rows above 64 px)


def table_columns(table: pd.DataFrame) -> list[str]:
    """Display order of a customer table: key metrics, then attributes, then the rest; columns
    with no value at all (e.g. products bought when the file has no product column) are left out."""
    columns = [c for c in table.columns if table[c].notna().any()] or list(table.columns)
    first = [c for c in TABLE_FIRST if c in columns]
    last = [c for c in TABLE_LAST if c in columns]
    middle = [c for c in columns if c not in first and c not in last and c not in TABLE_HIDDEN]
    return first + middle + last


def attribute_columns(columns) -> list[str]:
    """The descriptive columns (region, city, industry ...) of a customer table."""
    return [c for c in columns if c not in PROFILE_SKIP]


def column_config(columns) -> dict:
    """Translated headers and number formats for a customer table."""
    cfg = {}
    for name in columns:
        label = naming.col_label(name)
        if name in segcore.MONEY_COLUMNS:
            cfg[name] = st.column_config.NumberColumn(label, format=fmt.money_format())
        elif name == "composite_score":
            cfg[name] = st.column_config.NumberColumn(label, format="%.2f")
        elif name == "avg_interval_days":
            cfg[name] = st.column_config.NumberColumn(label, format="%.1f")
        elif name in ("cumulative_share",):
            cfg[name] = st.column_config.NumberColumn(label, format="percent")
        elif name == "trend":
            cfg[name] = st.column_config.NumberColumn(label, format="percent")
        elif name in ("first_order_date", "last_order_date", "last_interaction_date", "order_date",
                      "first_date", "last_date", "date"):
            cfg[name] = st.column_config.DateColumn(label, format="YYYY-MM-DD")
        else:
            cfg[name] = st.column_config.Column(label)
    return cfg


def dyn_column_config(columns) -> dict:
    """:func:`column_config` plus the columns of the dynamics, playbook and forecast tables."""
    cfg = column_config(columns)
    for name in columns:
        label = naming.col_label(name)
        if name == "p_alive":
            cfg[name] = st.column_config.ProgressColumn(label, min_value=0, max_value=1, format="percent")
        elif name in ("spend_drop_share", "trend", "prob_no_order"):
            cfg[name] = st.column_config.NumberColumn(label, format="percent")
        elif name in ("overdue_ratio", "typical_interval_days"):
            cfg[name] = st.column_config.NumberColumn(label, format="%.1f")
        elif name == "expected_orders":
            cfg[name] = st.column_config.NumberColumn(label, format="%.2f")
        elif name in _DATES:
            cfg[name] = st.column_config.DateColumn(label, format="YYYY-MM-DD")
        elif name in LONG_TEXT:
            cfg[name] = st.column_config.TextColumn(label, width="large")
    return cfg


def table(frame: pd.DataFrame, columns, key: str, height: int | None = None, empty: str | None = None) -> None:
    """A read-only table of the given columns (those the frame has), capped at TABLE_ROWS rows;
    ``empty``: the message shown instead when there is no row. With a sentence column ("Why",
    "Strategy") the rows are three lines tall and the sentences wrap instead of being cut."""
    if empty is not None and frame.empty:
        st.info(empty, icon=":material/info:")
        return
    columns = [c for c in columns if c in frame.columns]
    if len(frame) > TABLE_ROWS:
        st.caption(t("table_capped", n=fmt.integer(TABLE_ROWS)))
    head = frame.head(TABLE_ROWS)
    head.attrs = {}  # engine notes (e.g. a date) are not for the browser
    wrap = any(c in LONG_TEXT for c in columns)
    st.dataframe(head, column_order=columns, column_config=dyn_column_config(columns),
                 hide_index=True, key=key, height=height or "auto", placeholder=t("na"),
                 row_height=WRAP_ROW_HEIGHT if wrap else None)


def file_stem(text) -> str:
    """A download's file name from any text (a tier name, a date): characters file systems refuse,
    and spaces, become ``_``."""
    return re.sub(r"[\\/:*?\"<>|\s]+", "_", str(text))


def export_lang() -> str:
    """The language of the downloads: the user's choice next to a download button, until then the
    UI language (English when ``segcore`` does not name things in it)."""
    return st.session_state["s_export_lang"] or naming.names_lang()


def export_lang_choice(key: str) -> str:
    """The choice "column names: 中文 / English (for other systems)" (one setting for every
    download of the session, shown next to each row of download buttons); the language chosen."""
    ss = st.session_state
    wkey = f"{key}_lang"
    state.seed(wkey, export_lang())

    def _save():
        ss["s_export_lang"] = ss[wkey]
    st.segmented_control(t("dl_lang"), options=list(segcore.EXPORT_LANGS), key=wkey, required=True,
                         on_change=_save, help=t("dl_lang_help"),
                         format_func=labeller({code: t(f"dl_lang_{code}") for code in segcore.EXPORT_LANGS}))
    return export_lang()


def downloads(frame: pd.DataFrame, stem: str, key: str) -> None:
    """CSV (UTF-8 with BOM) and Excel buttons for one engine table (formula-safe, made on click),
    headers and values in the language chosen next to them (:func:`export_lang_choice`)."""
    stem = file_stem(stem)
    csv_col, xlsx_col, lang_col, _ = st.columns([1, 1, 3, 1], vertical_alignment="bottom")
    with lang_col:
        code = export_lang_choice(key)
    sign = currency()[0]
    csv_col.download_button(t("dl_csv"), data=lambda: segcore.to_csv_bytes(frame, code, sign), file_name=f"{stem}.csv",
                            mime="text/csv", on_click="ignore", help=t("dl_csv_help"), icon=":material/download:",
                            key=f"{key}_csv", width="stretch")
    xlsx_col.download_button(t("dl_xlsx"), data=lambda: segcore.to_excel_bytes({stem: frame}, code, sign),
                             file_name=f"{stem}.xlsx", on_click="ignore", key=f"{key}_xlsx", width="stretch",
                             mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                             help=t("dl_one_sheet_help"), icon=":material/table_view:")
