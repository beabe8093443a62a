"""Exports: CSV (UTF-8 with BOM), Excel (a sheet per level + summary) and Parquet.

No exported text cell may start a spreadsheet formula: text beginning with ``= + - @`` (also after
leading spaces, tabs or line breaks) is prefixed with an apostrophe.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd

__all__ = ["EXPORT_COLUMNS", "neutralise", "export_columns", "to_csv_bytes", "to_excel_bytes", "tier_sheets",
           "write_table", "write_export"]

#: Column order of the tiered customer list.
EXPORT_COLUMNS = (
    "customer_id", "tier", "recency_days", "frequency", "monetary", "avg_order_value",
    "first_order_date", "last_order_date", "tenure_days", "product_breadth", "avg_interval_days",
    "cumulative_share", "spend_first_half", "spend_second_half", "trend",
    "r_score", "f_score", "m_score", "a_score", "b_score", "composite_score", "rfm_segment",
)

_FORMULA = re.compile(r"^[\s]*[=+\-@]")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _safe(value):
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value
    return value


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (and column names) cannot start a formula.

    Numbers stay numbers (a negative amount is not text); dates become ISO text.
    """
    out = df.copy()
    for name in out.columns:
        col = out[name]
        if pd.api.types.is_datetime64_any_dtype(col):
            out[name] = col.dt.strftime("%Y-%m-%d")
        elif not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            out[name] = col.astype(object).map(_safe).map(
                lambda v: v.isoformat() if hasattr(v, "isoformat") else v)
    out.columns = [_safe(str(c)) for c in out.columns]
    return out


def export_columns(df: pd.DataFrame) -> pd.DataFrame:
    """The tiered list in export order: ``EXPORT_COLUMNS`` first, then any extra columns."""
    first = [c for c in EXPORT_COLUMNS if c in df.columns]
    return df[first + [c for c in df.columns if c not in first and c != "rank"]]


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV in UTF-8 with a BOM (so Excel shows Chinese text correctly), formula-safe."""
    return neutralise(df).to_csv(index=False).encode("utf-8-sig")


def _sheet_name(label: str, taken: set[str]) -> str:
    base = _SHEET_BAD.sub("_", str(label)).strip("'") or "tier"
    name, i = base[:31], 2
    while name.lower() in taken:
        name = f"{base[:28]}_{i}"
        i += 1
    taken.add(name.lower())
    return name


def to_excel_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An .xlsx workbook with one sheet per entry (names made valid for Excel), formula-safe."""
    buf = io.BytesIO()
    taken: set[str] = set()
    options = {"strings_to_formulas": False, "strings_to_urls": False}
    with pd.ExcelWriter(buf, engine="xlsxwriter", engine_kwargs={"options": options}) as xl:
        for label, frame in sheets.items():
            neutralise(frame).to_excel(xl, sheet_name=_sheet_name(label, taken), index=False)
    return buf.getvalue()


def tier_sheets(tiered: pd.DataFrame, summary: pd.DataFrame, labels) -> dict[str, pd.DataFrame]:
    """Sheets of the Excel export: ``Summary`` then one per level, in level order."""
    table = export_columns(tiered)
    return {"Summary": summary, **{str(lab): table[table["tier"] == lab] for lab in labels}}


def write_table(path, table: pd.DataFrame, sheets: dict[str, pd.DataFrame] | None = None) -> Path:
    """Write ``table`` to ``path`` by its suffix: ``.csv`` (UTF-8 with BOM, formula-safe),
    ``.parquet`` (values as they are), or ``.xlsx`` (``sheets``, default one sheet with ``table``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        path.write_bytes(to_csv_bytes(table))
    elif suffix == ".xlsx":
        path.write_bytes(to_excel_bytes(sheets or {"Sheet1": table}))
    elif suffix == ".parquet":
        table.to_parquet(path, index=False)
    else:
        raise ValueError(f"Cannot write {path.name}: use .csv, .xlsx or .parquet.")
    return path


def write_export(tiered: pd.DataFrame, path, summary: pd.DataFrame, labels) -> Path:
    """Write the tiered list: the customers in rank order (.csv/.parquet), or a summary sheet and a
    sheet per level (.xlsx)."""
    ordered = tiered.sort_values("rank", na_position="last") if "rank" in tiered.columns else tiered
    return write_table(path, export_columns(ordered), tier_sheets(ordered, summary, labels))
