"""Exports: CSV (UTF-8 with BOM), Excel (a sheet per level + summary) and Parquet.

No exported text cell may start a spreadsheet formula: text beginning with ``= + - @`` (also after
leading spaces, tabs or line breaks) is prefixed with an apostrophe.

A CSV or Excel export can be written in a language (:data:`EXPORT_LANGS`): its headers, coded values
(risk, lifecycle stage, movement, follow-up status, RFM segment, reasons, yes / no) and sheet names
then come from ``segcore/locales/<lang>.toml``, the one place these names live (the app shows the
same names). Without a language the engine's own column names and codes are written (for scripts);
Parquet always keeps them.
"""

from __future__ import annotations

import io
import re
import tomllib
from pathlib import Path

import pandas as pd

from .dynamics import MOVEMENTS, Migration
from .forecast import DISAGREEMENT_REASONS
from .scores import SEGMENT_NAMES_ZH
from .views import localise, matrix_table

__all__ = ["EXPORT_COLUMNS", "EXPORT_LANGS", "MONEY_COLUMNS", "neutralise", "export_columns", "column_name",
           "value_names", "matrix_names", "sheet_name", "localised", "translate", "rejected_for_export",
           "to_csv_bytes", "to_excel_bytes", "tier_sheets", "migration_sheets", "write_table", "write_export"]

#: Columns of money: in a CSV or Excel export in a language their headers name the currency.
MONEY_COLUMNS = ("monetary", "avg_order_value", "spend_first_half", "spend_second_half", "amount", "monetary_before",
                 "monetary_after", "revenue", "revenue_before", "revenue_after", "avg_monetary", "mean_monetary",
                 "next_tier_recent_median", "expected_order_value", "expected_spend", "clv")
#: Languages an export can be written in (the names in ``segcore/locales/<code>.toml``).
EXPORT_LANGS = ("zh", "en")
_NAMES = {code: tomllib.loads((Path(__file__).resolve().parent / "locales" / f"{code}.toml").read_text("utf-8"))
          for code in EXPORT_LANGS}

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


def _names(lang: str | None) -> dict:
    return _NAMES.get(lang or "en", _NAMES["en"])


def column_name(column: str, lang: str | None) -> str:
    """The header of an engine column in ``lang`` (another language: English); a column the
    engine does not name (an attribute of the user's file) keeps its own name."""
    return _names(lang)["columns"].get(str(column), str(column))


def value_names(lang: str | None) -> dict[str, dict]:
    """``{column: {code: name}}``: the coded values of engine tables in ``lang`` (risk, stage,
    movement, status, interval_basis, reason_code, rfm_segment and segment)."""
    names = {column: dict(codes) for column, codes in _names(lang)["values"].items() if column != "yes_no"}
    zh = lang == "zh"
    names["reason_code"] = {code: texts[1] if zh else texts[0] for code, texts in DISAGREEMENT_REASONS.items()}
    if zh:
        names["rfm_segment"] = names["segment"] = dict(SEGMENT_NAMES_ZH)
    return names


def matrix_names(lang: str | None) -> dict[str, str]:
    """The ``new`` row, ``lost`` column and ``corner`` (first column) of a migration matrix in ``lang``."""
    return dict(_names(lang)["matrix"])


def sheet_name(key: str, lang: str | None) -> str:
    """The name of a workbook sheet (``summary``, ``customers``, ``list``, ``matrix_customers``,
    ``matrix_revenue``, ``rejected``) in ``lang``."""
    return _names(lang)["sheets"][key]


def localised(frame: pd.DataFrame, lang: str | None) -> pd.DataFrame:
    """``frame`` with its coded values in words of ``lang`` and each bilingual pair ``X`` /
    ``X_zh`` reduced to ``X`` in that language (see :func:`segcore.views.localise`); the columns
    keep their engine names."""
    return localise(frame, lang or "en", value_names(lang))


def translate(frame: pd.DataFrame, lang: str | None, currency: str | None = None) -> pd.DataFrame:
    """``frame`` as an export in ``lang``: :func:`localised`, true / false as yes / no words and
    the headers named, those of money (:data:`MONEY_COLUMNS`) with the ``currency`` sign, e.g.
    "Net spend (£)" / "净消费（￥）"; ``lang`` None: ``frame`` as it is (engine names and codes).

    Returns
    -------
    DataFrame with the same rows; the columns of ``frame`` (minus the ``X_zh`` twins) renamed by
    :func:`column_name`.
    """
    if lang is None:
        return frame
    out = localised(frame, lang)
    yes_no = _names(lang)["values"]["yes_no"]
    for name in out.columns:
        if pd.api.types.is_bool_dtype(out[name]):
            out[name] = out[name].astype(object).map(lambda v: yes_no[str(bool(v)).lower()] if pd.notna(v) else v)
    sign = (f"（{currency}）" if lang == "zh" else f" ({currency})") if currency else ""
    out.columns = [column_name(c, lang) + (sign if c in MONEY_COLUMNS else "") for c in out.columns]
    return out


def rejected_for_export(rows: pd.DataFrame, lang: str | None) -> pd.DataFrame:
    """The rejected rows (``Dataset.rejected_rows``: ``row``, the file's own columns, ``reason``)
    for an export in ``lang``: the file's headers kept as they are, the first and last column named
    and the reason in words; ``lang`` None: as they are."""
    if lang is None:
        return rows
    reasons = _names(lang)["values"]["reason"]
    out = rows.assign(reason=rows["reason"].map(lambda r: reasons.get(r, r)))
    out.columns = [column_name("row", lang), *rows.columns[1:-1], column_name("reason", lang)]
    return out


def to_csv_bytes(df: pd.DataFrame, lang: str | None = None, currency: str | None = None) -> bytes:
    """CSV in UTF-8 with a BOM (so Excel shows Chinese text correctly), formula-safe; ``lang``:
    headers and values in that language, money headers with the ``currency`` sign (:func:`translate`)."""
    return neutralise(translate(df, lang, currency)).to_csv(index=False).encode("utf-8-sig")


def _sheet_name(label: str, taken: set[str]) -> str:
    base = _SHEET_BAD.sub("_", str(label)).strip("'") or "tier"
    name, i = base[:31], 2
    while name.lower() in taken:
        name = f"{base[:28]}_{i}"
        i += 1
    taken.add(name.lower())
    return name


def to_excel_bytes(sheets: dict[str, pd.DataFrame], lang: str | None = None, currency: str | None = None) -> bytes:
    """An .xlsx workbook with one sheet per entry (names made valid for Excel), formula-safe;
    ``lang``: headers and values in that language (:func:`translate`; the sheet names are the
    caller's, e.g. from :func:`sheet_name`)."""
    buf = io.BytesIO()
    taken: set[str] = set()
    options = {"strings_to_formulas": False, "strings_to_urls": False}
    with pd.ExcelWriter(buf, engine="xlsxwriter", engine_kwargs={"options": options}) as xl:
        for label, frame in sheets.items():
            neutralise(translate(frame, lang, currency)).to_excel(xl, sheet_name=_sheet_name(label, taken), index=False)
    return buf.getvalue()


def tier_sheets(tiered: pd.DataFrame, summary: pd.DataFrame, labels,
                lang: str | None = None) -> dict[str, pd.DataFrame]:
    """Sheets of the Excel export: the summary (its name in ``lang``) then one per level, in level order."""
    table = export_columns(tiered)
    return {sheet_name("summary", lang): summary, **{str(lab): table[table["tier"] == lab] for lab in labels}}


def migration_sheets(mig: Migration, lang: str | None = None) -> dict[str, pd.DataFrame]:
    """Sheets of a tier comparison's Excel export, named in ``lang``: the summary, every customer,
    both matrices (``new`` row and ``lost`` column named), and the upgraded, downgraded, new and
    lost customers."""
    names = matrix_names(lang) if lang else {}
    corner = names.get("corner", mig.customers_matrix.index.name or "before")
    movements = _names(lang)["values"]["movement"]
    return {sheet_name("summary", lang): mig.summary, sheet_name("customers", lang): mig.customers,
            sheet_name("matrix_customers", lang): matrix_table(mig.customers_matrix, names, corner),
            sheet_name("matrix_revenue", lang): matrix_table(mig.revenue_matrix, names, corner),
            **{movements[m]: mig.list(m) for m in MOVEMENTS if m != "same"}}


def write_table(path, table: pd.DataFrame, sheets: dict[str, pd.DataFrame] | None = None,
                lang: str | None = None, currency: str | None = None) -> Path:
    """Write ``table`` to ``path`` by its suffix: ``.csv`` (UTF-8 with BOM, formula-safe),
    ``.parquet`` (values as they are), or ``.xlsx`` (``sheets``, default one sheet with ``table``);
    ``lang``, ``currency``: a CSV's or workbook's headers and values in that language (:func:`translate`)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        path.write_bytes(to_csv_bytes(table, lang, currency))
    elif suffix == ".xlsx":
        path.write_bytes(to_excel_bytes(sheets or {sheet_name("list", lang): table}, lang, currency))
    elif suffix == ".parquet":
        table.to_parquet(path, index=False)
    else:
        raise ValueError(f"Cannot write {path.name}: use .csv, .xlsx or .parquet.")
    return path


def write_export(tiered: pd.DataFrame, path, summary: pd.DataFrame, labels, lang: str | None = None,
                 currency: str | None = None) -> Path:
    """Write the tiered list: the customers in rank order (.csv/.parquet), or a summary sheet and a
    sheet per level (.xlsx); ``lang`` and ``currency`` as in :func:`write_table`."""
    ordered = tiered.sort_values("rank", na_position="last") if "rank" in tiered.columns else tiered
    return write_table(path, export_columns(ordered), tier_sheets(ordered, summary, labels, lang), lang, currency)
