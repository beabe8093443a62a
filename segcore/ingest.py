"""Ingest: any orders file in, a typed table of order lines and an honest report out.

One pass
--------
An orders file is read once per mapping, straight into the table ``parsed`` (:func:`load_orders`):
DuckDB's reader feeds one ``CREATE TABLE ... AS SELECT`` that applies the parse rules (``RULES``:
each value rule and each rejection reason is a named DuckDB SQL macro). No text copy of the file is
kept; the :class:`~segcore.sources.Source` remembers how to read the file (:mod:`segcore.sources`:
RFC 4180 CSV read strictly, encodings, Excel sheets), and re-mapping a column reads it again. A CSV
row that does not split into the header's columns is a rejected row ("malformed row") with its row
number, never a shifted one.

- Typed fast path: when the first ``SAMPLE_ROWS`` values of the date column all have one date format
  (day/month order by the engine's rule below), written as that format writes them back, DuckDB's
  reader types the column as DATE; when every sampled amount (or quantity and unit price) is a
  plain number and the file holds no ``_`` or ``+-`` (forms DuckDB reads as numbers and the amount
  rule refuses: 1_000, +-5), it types those as DOUBLE. Every other column stays text: ids are never
  numbers. Any value it cannot convert, or a date it reads where the rules do not (epoch,
  infinity, a two-digit year), sends the pass back to the text path, so every row is still used or
  rejected with its reason; a rejected row's cells are read again as text, as written. On the
  text path the file's dominant date format is tried before the others.
- Day-first or month-first is decided on the first ``SAMPLE_ROWS`` dates and checked on the whole
  column after the pass; the pass is redone when the whole column decides otherwise.

Tables in the connection
------------------------
parsed   : one row per data row of the file, in file order (malformed rows last; with
           drop_duplicates the order is lost): ``customer_id`` VARCHAR, ``order_date`` DATE,
           ``amount`` DOUBLE (NULL when the file has no amount: count-only mode), the mapped ones
           of ``order_id``, ``product``, ``category``, ``region``, ``city``, ``channel`` VARCHAR,
           ``reason`` VARCHAR (NULL for used rows, else why the row was rejected).
rejected : one row per rejected row: ``_row`` BIGINT (its number in the file, 1 = the first row
           under the header), ``reason`` and ``_cells`` VARCHAR[] (its cells as in the file; a
           malformed row's text is its one cell).
lines    : view of the used rows of ``parsed`` with all six text fields (NULL when not mapped),
           plus ``_line`` (the row's position in ``parsed``).
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field, replace
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from .headers import CANONICAL_FIELDS, CUSTOMER_FIELDS, INTERACTION_FIELDS, guess_mapping
from .metrics import AMOUNT_STEPS
from .sources import (IngestError, Source, drop_rejects, excel_sheets, open_source, read_into, read_source,
                      read_table)

__all__ = ["IngestError", "IngestReport", "Dataset", "dataset_connection", "Limits", "Source", "RULES", "REASONS",
           "open_source", "excel_sheets", "read_table", "parse_loaded", "load_orders",
           "load_customers", "load_interactions", "resolve_mapping"]

TEXT_FIELDS = ("order_id", "product", "category", "region", "city", "channel")

#: Values of the date and amount columns looked at before the pass (date order, formats, types).
SAMPLE_ROWS = 50_000


@dataclass(frozen=True)
class Limits:
    """Plausible values: a row outside is rejected ("date out of range", "amount out of range").

    The defaults keep every date where calendars and charts work and every sum exact (amounts are
    added in steps of 1 / ``AMOUNT_STEPS``, exact in doubles up to 2**53 steps).
    """

    first_date: date = date(1900, 1, 1)
    last_date: date = date(2099, 12, 31)
    max_amount: float = 1e11

    def __post_init__(self):
        if not self.first_date < self.last_date:
            raise ValueError("The first plausible date must come before the last.")
        if not 0 < self.max_amount <= 1e15:
            raise ValueError("The largest plausible amount must be above 0 and at most 1e15 "
                             "(sums of larger ones are not exact).")


# --------------------------------------------------------------------------------------------
# The parse rules
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """A named parse rule: the DuckDB SQL macro ``seg_<name>(params) AS duckdb``.

    ``reason`` rules are the rejection reasons: a row gets the first (in table order) whose
    condition holds. A rule with ``duckdb=None`` is applied by the reader or a window, as its
    ``doc`` says. ``spark`` is the hand-written Spark twin, the body of a Spark SQL function
    ``seg_<name>(params) RETURNS spark_type`` (:mod:`segcore.spark`; parameters typed by
    ``SPARK_PARAMS``) giving the same value on every input; None where Spark needs no function
    (an optimisation of DuckDB's, or a step the Spark engine does its own way, as ``doc`` says).
    """

    params: tuple[str, ...]
    duckdb: str | None
    doc: str
    reason: bool = False
    spark: str | None = None
    spark_type: str = "BOOLEAN"


#: Spark types of the rules' parameters (``STRING`` for the others).
SPARK_PARAMS = {"order_date": "DATE", "first_date": "DATE", "last_date": "DATE", "amount": "DOUBLE",
                "max_amount": "DOUBLE", "date_blank": "BOOLEAN", "amount_blank": "BOOLEAN",
                "is_copy": "BOOLEAN"}

_MISSING_TEXT = tuple(sorted({v for word in ("", "nan", "null", "none", "n/a", "#n/a", "na", "-", "--")
                              for v in (word, word.upper(), word.capitalize())}))
_SPACE = r"[\s\x{00A0}\x{2007}\x{202F}\x{3000}]"
_CURRENCY = "[¥￥$€£円元]|RMB|CNY|USD|EUR|GBP|HKD|JPY"
#: The sign shown for a currency written as a word in the amounts (a sign stays as it is written).
CURRENCY_SIGNS = {"RMB": "￥", "CNY": "￥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$", "JPY": "¥"}
CURRENCY_SAMPLE = 1_000  # amounts looked at for their currency sign
# Spark (Java regexes): DuckDB's trim removes the Unicode space separators (Zs: ' ', U+00A0,
# U+3000 ...) and no other character; RE2's \s is [\t\n\f\r ] where Java's also takes \v.
_J_SPACE = r"[\t\n\f\r \x{00A0}\x{2007}\x{202F}\x{3000}]"
_PARTS = r"^([-+]?)(\(?)(\d[\d.,]*|\.\d+)(\)?)(-?)$"
_J_NUMBER = r"^[\t\n\x{0B}\f\r ]*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[\t\n\x{0B}\f\r ]*$"
_J_WORDS = r"^[\t\n\x{0B}\f\r ]*[+-]?(inf|infinity|nan)[\t\n\x{0B}\f\r ]*$"  # read, then rejected

# Each fast path (a plain number, an ISO date) comes first in a COALESCE, and everything slower sits
# inside a CASE: DuckDB evaluates a CASE branch only for the rows that reach it and never hoists
# common subexpressions out of a CASE, so the regular expressions only ever see the values the fast
# path could not read. Failing casts and failing strptime calls are costly (about ten times a
# successful one), so the slow path picks the one format that fits a value's shape.
RULES: dict[str, Rule] = {
    # -- cells to values ---------------------------------------------------------------------
    "untrimmed": Rule(("v",), "v < '!' OR ends_with(v, ' ') OR strlen(v) <> length(v)",
                      "v may have spaces around it. trim copies every value, so it only runs where it "
                      "could change v: in ASCII the only space trim removes is ' ', so a value starting "
                      "at or above '!', not ending in ' ' and without multi-byte characters is trimmed "
                      "(a DuckDB speed-up: no Spark twin)"),
    "trim": Rule(("v",), "CASE WHEN seg_untrimmed(v) THEN trim(v) ELSE v END", "v without the spaces around it",
                   spark=r"regexp_replace(v, r'^\p{Zs}+|\p{Zs}+$', '')", spark_type="STRING"),
    "missing": Rule(("t",), f"strlen(t) <= {max(map(len, _MISSING_TEXT))} AND list_position("
                            + "[" + ", ".join(f"'{m}'" for m in _MISSING_TEXT) + "], t) IS NOT NULL",
                    "trimmed text is empty or a word for a missing value (nan, null, n/a, -, ...); a "
                    "list searched with list_position, as an IN list becomes a join on every row",
                   spark="t IN (" + ", ".join(f"'{m}'" for m in _MISSING_TEXT) + ")"),
    "blank": Rule(("v",), "v IS NULL OR seg_missing(seg_trim(v))", "the cell holds no value",
                   spark="v IS NULL OR seg_missing(seg_trim(v))"),
    "id": Rule(("v",), "CASE WHEN seg_untrimmed(v) THEN CASE WHEN seg_missing(trim(v)) THEN NULL ELSE trim(v) END "
                       "WHEN seg_missing(v) THEN NULL ELSE v END",
               "an id (customer, order): the trimmed text, NULL when blank; never a number",
                   spark="CASE WHEN seg_missing(seg_trim(v)) THEN NULL ELSE seg_trim(v) END", spark_type="STRING"),
    "text": Rule(("v",), "NULLIF(seg_trim(v), '')", "a text field: the trimmed text, NULL when empty",
                   spark="NULLIF(seg_trim(v), '')", spark_type="STRING"),
    "plain number": Rule(("v",), "CASE WHEN NOT contains(v, '_') AND NOT contains(v, '+-') "
                                "THEN TRY_CAST(v AS DOUBLE) END",
                         "a number DuckDB reads as it is (12, -3.5, 1e3, spaces around); not the "
                         "forms its cast also takes (1_000, +-5)",
                   spark=f"CASE WHEN v RLIKE r'{_J_NUMBER}' OR v RLIKE r'(?i){_J_WORDS}' THEN TRY_CAST(v AS DOUBLE) END",
                   spark_type="DOUBLE"),
    "digits": Rule(("d",), r"""CASE
            WHEN regexp_full_match(d, '\d{1,3}(\.\d{3})+(,\d+)?') THEN replace(replace(d, '.', ''), ',', '.')
            WHEN regexp_full_match(d, '\d+,\d{1,2}') THEN replace(d, ',', '.')
            WHEN regexp_full_match(d, '\d{1,3}(,\d{3})+(\.\d+)?|\d+(\.\d*)?|\.\d+') THEN replace(d, ',', '')
        END""",
                   "digits with separators as a plain decimal: 1.234,56 and 12,50 (decimal comma), "
                   "1,234.56 (thousands in groups of three); anything else (1,2,3) is NULL",
                   spark=r"""CASE
            WHEN d RLIKE r'^\d{1,3}(\.\d{3})+(,\d+)?$' THEN replace(replace(d, '.', ''), ',', '.')
            WHEN d RLIKE r'^\d+,\d{1,2}$' THEN replace(d, ',', '.')
            WHEN d RLIKE r'^(\d{1,3}(,\d{3})+(\.\d+)?|\d+(\.\d*)?|\.\d+)$' THEN replace(d, ',', '')
        END""", spark_type="STRING"),
    "number parts": Rule(("v",), rf"""regexp_extract(
            regexp_replace(v, '{_SPACE}|{_CURRENCY}', '', 'gi'),
            '{_PARTS}', ['sign', 'open', 'num', 'close', 'trail'])""",
                         "a written amount without spaces and currency signs or words, split into "
                         "a sign, parentheses, the digits and a trailing minus",
                   spark=rf"regexp_replace(v, r'(?i){_J_SPACE}|{_CURRENCY}', '')", spark_type="STRING"),
    "signed number": Rule(("p",), """CASE
            WHEN p.num <> '' AND (p.open = '') = (p.close = '')
                 AND (p.sign <> '')::INT + (p.open <> '')::INT + (p.trail <> '')::INT <= 1
            THEN CASE WHEN p.sign = '-' OR p.open <> '' OR p.trail <> '' THEN -1 ELSE 1 END
                 * TRY_CAST(seg_digits(p.num) AS DOUBLE) END""",
                          "the number of the parts: negative with one of a leading -, parentheses "
                          "or a trailing - (never two: --5 and -(5) are not numbers)",
                   spark="""CASE
            WHEN {3} <> '' AND ({2} = '') = ({4} = '')
                 AND CAST({1} <> '' AS INT) + CAST({2} <> '' AS INT) + CAST({5} <> '' AS INT) <= 1
            THEN CASE WHEN {1} = '-' OR {2} <> '' OR {5} <> '' THEN -1 ELSE 1 END
                 * TRY_CAST(seg_digits({3}) AS DOUBLE) END""".format(
                       *[None, *(f"regexp_extract(p, r'{_PARTS}', {k})" for k in range(1, 6))]), spark_type="DOUBLE"),
    "amount": Rule(("v",), "COALESCE(seg_plain_number(v), "
                           "CASE WHEN v IS NOT NULL THEN seg_signed_number(seg_number_parts(v)) END)",
                   "an amount: ￥1,200.50, (200.50), £-3, -£3, £(3), 3-, 1.234,56 €, 300元 ...",
                   spark="COALESCE(seg_plain_number(v), CASE WHEN v IS NOT NULL THEN seg_signed_number(seg_number_parts(v)) END)", spark_type="DOUBLE"),
    "iso date": Rule(("v",), "CASE WHEN v >= '0' AND v < ':' THEN nullif(greatest(TRY_CAST(v AS DATE), "
                             "DATE '0099-12-31'), DATE '0099-12-31') END",
                     "an ISO date or timestamp (2024-01-31, 2024-01-31 10:00, 2024-01-31T10:00Z); it "
                     "starts with a digit, so DuckDB's words (epoch, infinity) are not dates, and a "
                     "year below 100 (05/01/24 cast as year 5) is left to the slow path",
                   spark=r"CASE WHEN v RLIKE r'^\d{4}([-/])\d{1,2}\1\d{1,2}( *$|[ T]\d{1,2}:\d)' "
                         r"THEN nullif(greatest(TRY_CAST(replace(v, '/', '-') AS DATE), "
                         r"DATE '0099-12-31'), DATE '0099-12-31') END", spark_type="DATE"),
    "formatted date": Rule(("v", "fmt"), "nullif(greatest(CAST(try_strptime(v, fmt) AS DATE), "
                                         "DATE '0099-12-31'), DATE '0099-12-31')",
                           "v in the strptime format fmt; a two-digit year read by %Y (year < 100) "
                           "is no match, so 05/01/24 reaches the two-digit format. No Spark twin: the "
                           "file's dominant format is DuckDB's speed-up, and any date reads the same"),
    "date part": Rule(("v",), r"regexp_replace(regexp_extract(trim(v), '^[^\sT]+'), '[.-]', '/', 'g')",
                      "the date before any time, with / for . and - (2024.01.31 10:00 -> 2024/01/31)",
                   spark=r"regexp_replace(regexp_extract(seg_trim(v), r'^[^\t\n\f\r T]+', 0), '[.-]', '/')", spark_type="STRING"),
    "shaped date": Rule(("p", "short", "long"), r"""CAST(CASE
            WHEN regexp_full_match(p, '\d{4}/\d{1,2}/\d{1,2}') THEN try_strptime(p, '%Y/%m/%d')
            WHEN regexp_full_match(p, '\d{8}') THEN try_strptime(p, '%Y%m%d')
            WHEN regexp_full_match(p, '\d{1,2}/\d{1,2}/\d{2}') THEN try_strptime(p, short)
            WHEN regexp_full_match(p, '\d{1,2}/\d{1,2}/\d{4}') THEN try_strptime(p, long)
            WHEN regexp_full_match(p, '\d{4}年\d{1,2}月\d{1,2}日') THEN try_strptime(p, '%Y年%m月%d日')
        END AS DATE)""",
                        "a date part in the one format its shape allows: year first, YYYYMMDD, a/b/yy "
                        "(short: the day/month order with %y) and a/b/yyyy (long, %Y), 2024年1月5日",
                   spark=r"""CASE
            WHEN p RLIKE r'^\d{4}/\d{1,2}/\d{1,2}$' THEN try_to_date(p, 'yyyy/M/d')
            WHEN p RLIKE r'^\d{8}$' THEN try_to_date(p, 'yyyyMMdd')
            WHEN p RLIKE r'^\d{1,2}/\d{1,2}/\d{2}$'
                THEN add_months(try_to_date(p, short), CASE WHEN CAST(right(p, 2) AS INT) >= 69 THEN -1200 ELSE 0 END)
            WHEN p RLIKE r'^\d{1,2}/\d{1,2}/\d{4}$' THEN try_to_date(p, long)
            WHEN p RLIKE r'^\d{4}年\d{1,2}月\d{1,2}日$' THEN try_to_date(p, 'yyyy年M月d日')
        END""", spark_type="DATE"),
    "serial date": Rule(("t",), r"CASE WHEN regexp_full_match(t, '[2-6]\d{4}(\.\d+)?') "
                                r"THEN DATE '1899-12-30' + CAST(floor(CAST(t AS DOUBLE)) AS INTEGER) END",
                        "an Excel serial day number (20000 to 69999: 1954 to 2091)",
                   spark=r"CASE WHEN t RLIKE r'^[2-6]\d{4}(\.\d+)?$' "
                              r"THEN date_add(DATE '1899-12-30', CAST(floor(CAST(t AS DOUBLE)) AS INT)) END", spark_type="DATE"),
    "any date": Rule(("v", "short", "long"), r"""CASE WHEN regexp_matches(trim(v), '^\d') THEN COALESCE(
            seg_shaped_date(seg_date_part(v), short, long), TRY_CAST(trim(v) AS DATE),
            seg_serial_date(trim(v))) END""",
                     "a date in any of the accepted forms (the slow path, after the fast one): by its "
                     "shape first, so a/b/yy is never read as ISO year a",
                   spark=r"""CASE WHEN seg_trim(v) RLIKE r'^\d' THEN COALESCE(
            seg_shaped_date(seg_date_part(v), short, long), seg_iso_date(seg_trim(v)),
            seg_serial_date(seg_trim(v))) END""", spark_type="DATE"),
    # -- rejection reasons, in the order they are checked -------------------------------------
    "malformed row": Rule((), None, "the reader: the row does not split into the header's columns "
                                    "(RFC 4180); its cells are the row's text", reason=True),
    "missing customer id": Rule(("customer_id",), "customer_id IS NULL", "no customer id", reason=True,
                   spark="customer_id IS NULL"),
    "missing date": Rule(("order_date", "date_blank"), "order_date IS NULL AND date_blank",
                         "the date cell is blank", reason=True,
                   spark="order_date IS NULL AND date_blank"),
    "unparseable date": Rule(("order_date",), "order_date IS NULL", "the date is not a date", reason=True,
                   spark="order_date IS NULL"),
    "date out of range": Rule(("order_date", "first_date", "last_date"),
                              "order_date NOT BETWEEN first_date AND last_date",
                              "a date outside Limits (year 99999, 0024)", reason=True,
                   spark="order_date NOT BETWEEN first_date AND last_date"),
    "missing amount": Rule(("amount", "amount_blank"), "amount IS NULL AND amount_blank",
                           "the amount cell (quantity or unit price) is blank", reason=True,
                   spark="amount IS NULL AND amount_blank"),
    "unparseable amount": Rule(("amount",), "amount IS NULL OR NOT isfinite(amount)",
                               "the amount is not a finite number (ten, 1,2,3, --5, inf, nan)", reason=True,
                               spark="amount IS NULL OR isnan(amount) OR abs(amount) = double('Infinity')"),
    "amount out of range": Rule(("amount", "max_amount"), "abs(amount) > max_amount",
                                "an amount beyond Limits (1e305)", reason=True,
                   spark="abs(amount) > max_amount"),
    "duplicate": Rule(("is_copy",), "is_copy", "with drop_duplicates: the row equals an earlier row "
                                               "in every cell", reason=True,
                   spark="is_copy"),
}

#: Rejection reasons, in the order they are checked (a row gets the first that applies).
REASONS = tuple(name for name, rule in RULES.items() if rule.reason)


def _macro(name: str) -> str:
    return "seg_" + re.sub(r"\W+", "_", name)


_MACROS = ";\n".join(f"CREATE OR REPLACE MACRO {_macro(name)}({', '.join(rule.params)}) AS {rule.duckdb}"
                     for name, rule in RULES.items() if rule.duckdb is not None)


def _call(name: str, args: dict[str, str]) -> str:
    """SQL calling the rule ``name`` with ``args`` (parameter -> SQL)."""
    return f"{_macro(name)}({', '.join(args[p] for p in RULES[name].params)})"


@dataclass
class IngestReport:
    """What happened to every input row. ``rows_used + sum(rejected.values()) == rows_read``.

    ``duplicate_rows`` is None until counted (:meth:`Dataset.count_duplicates`). ``amount_source``
    is ``"amount"``, ``"quantity x unit_price"`` or ``"none"`` (count-only: a file without amounts).
    ``sheet`` is the Excel sheet read and ``sheets`` all the workbook's sheets. ``notes`` are
    remarks on the reading, each ``{"code", "message", "params"}``. ``currency`` is the currency
    sign most of the first amounts carried (``"￥"``, ``"£"``, ``"$"``, ``"€"``, ``"元"`` ...; a word
    such as ``GBP`` as its sign), None when they carried none; ``currency_position`` says whether
    it stood ``"before"`` or ``"after"`` the number.
    """

    rows_read: int
    rows_used: int
    rejected: dict[str, int]
    returns_count: int
    returns_sum: float
    duplicate_rows: int | None
    duplicates_dropped: bool
    date_min: date | None
    date_max: date | None
    customers: int
    mapping: dict[str, str]
    amount_source: str
    date_order: str | None
    date_order_ambiguous: bool
    file_format: str
    encoding: str | None
    notes: list[dict] = field(default_factory=list)
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    currency: str | None = None
    currency_position: str = "before"

    @property
    def rows_rejected(self) -> int:
        return sum(self.rejected.values())

    def lines(self) -> list[str]:
        """The report as plain English lines (used by the command line)."""
        out = [f"File: {self.file_format}" + (f", {self.encoding}" if self.encoding else "")]
        if self.sheet:
            others = [s for s in self.sheets if s != self.sheet]
            out.append(f"Sheet: {self.sheet}" + (f" (also in the workbook: {', '.join(others)})" if others else ""))
        out += [
            "Columns: " + ", ".join(f"{k} <- {v!r}" for k, v in self.mapping.items()),
            f"Amount: {self.amount_source}" + (" (count-only: no amounts, each line counts as an order)"
                                               if self.amount_source == "none" else ""),
            f"Rows read: {self.rows_read:,}",
            f"Rows used: {self.rows_used:,}",
            f"Rows rejected: {self.rows_rejected:,}",
        ]
        out += [f"  - {reason}: {n:,}" for reason, n in self.rejected.items()]
        if self.amount_source != "none":
            out.append(f"Returns (negative amounts): {self.returns_count:,} rows, total {self.returns_sum:,.2f}")
        if self.currency:
            out.append(f"Currency: {self.currency} (written {self.currency_position} the amounts)")
        if self.duplicate_rows is not None:
            out.append(f"Exact duplicate rows: {self.duplicate_rows:,}"
                       + (" (dropped)" if self.duplicates_dropped else " (kept)"))
        out += [f"Date range: {self.date_min} to {self.date_max}", f"Customers: {self.customers:,}"]
        if self.date_order:
            out.append(
                f"Dates read {'day-first' if self.date_order == 'dmy' else 'month-first'}"
                + (" (ambiguous: no day above 12 seen; choose the other order if wrong)"
                   if self.date_order_ambiguous else "")
            )
        return out + [note["message"] for note in self.notes]


# --------------------------------------------------------------------------------------------
# The plan: date order, the dominant date format, typed columns (from the first SAMPLE_ROWS values)
# --------------------------------------------------------------------------------------------

# Strptime formats a date column may have as a whole (its dominant format); ``{a}`` and ``{b}``
# become the day and month in the file's order. ISO dates are cast, not parsed.
_SHAPE = "translate(trim({v}), '012345678', '999999999')"  # a date's shape: 31/01/2024 -> 99/99/9999
_FAST_FORMATS = ["%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日"] + [
    f"{{a}}{sep}{{b}}{sep}{year}{time}" for sep in "/.-" for year in ("%Y", "%y")
    for time in ("", " %H:%M", " %H:%M:%S")]
_ORDER = {"dmy": ("%d", "%m"), "mdy": ("%m", "%d")}


@dataclass(frozen=True)
class _Plan:
    """How the pass reads the date column."""

    order: str | None             # "dmy", "mdy" or None (no a/b/yyyy dates seen)
    ambiguous: bool               # the order is the default: no value told
    fast: str | None              # the dominant date format (None: ISO, cast)
    typed: dict[int, str]         # {column: "DATE" or "DOUBLE"}: the columns DuckDB's reader types

    @property
    def short_long(self) -> tuple[str, str]:
        a, b = _ORDER[self.order or "dmy"]
        return f"{a}/{b}/%y", f"{a}/{b}/%Y"

    def text(self) -> _Plan:
        return replace(self, typed={})


_SLASHED = r"^(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}\b"  # a/b/yy or a/b/yyyy, at the start of a value
_EVIDENCE = r"""
    WITH m AS (SELECT regexp_extract(trim(v), '""" + _SLASHED + r"""', ['a', 'b']) AS p
               FROM (%s) WHERE NOT regexp_matches(trim(v), '^\d{3,}'))
    SELECT count(*) FILTER (WHERE TRY_CAST(p.a AS INT) > 12), count(*) FILTER (WHERE TRY_CAST(p.b AS INT) > 12),
           count(*) FILTER (WHERE p.a <> '')
    FROM m"""


def _order_of(evidence: tuple[int, int, int]) -> tuple[str | None, bool]:
    """Day-first or month-first from ``(first part > 12, second part > 12, a/b/y values)``:
    day-first when no value tells (ambiguous)."""
    first_big, second_big, slashed = evidence
    if not slashed:
        return None, False
    if first_big or second_big:
        return ("dmy" if first_big >= second_big else "mdy"), False
    return "dmy", True


def _amount_columns(col: dict[str, int]) -> list[int]:
    """The columns the amount comes from: the amount, else quantity and unit price, else none."""
    if "amount" in col:
        return [col["amount"]]
    return [col["quantity"], col["unit_price"]] if "quantity" in col and "unit_price" in col else []


def _currency(con, col: dict[str, int]) -> tuple[str | None, str]:
    """(the currency sign most of the first ``CURRENCY_SAMPLE`` amounts carry, "before" or
    "after" the number); (None, "before") when none carries one. Words (GBP, RMB) give their
    sign (``CURRENCY_SIGNS``); for quantity x unit price the unit prices are looked at. Reads
    ``seg_sample`` (:func:`_sample`)."""
    cols = _amount_columns(col)
    if not cols:
        return None, "before"
    found = con.execute(rf"""
        SELECT upper(sign), count(*) FILTER (WHERE after) * 2 > count(*) FROM (
            SELECT regexp_extract(v, '{_CURRENCY}', 0, 'i') AS sign,
                   regexp_matches(v, '\d.*({_CURRENCY})', 'i') AS after
            FROM (SELECT a{len(cols) - 1} AS v FROM seg_sample WHERE rowid < {CURRENCY_SAMPLE}) WHERE v IS NOT NULL)
        WHERE sign <> '' GROUP BY upper(sign) ORDER BY count(*) DESC, upper(sign) LIMIT 1""").fetchone()
    if found is None:
        return None, "before"
    sign, after = found
    return CURRENCY_SIGNS.get(sign, sign), "after" if after else "before"


def _sample(con, source: Source, col: dict[str, int]) -> None:
    """The first ``SAMPLE_ROWS`` rows' date (``v``), customer id (``id``) and amount cells
    (``a0``, ``a1``: :func:`_amount_columns`) as text into the temporary table ``seg_sample``,
    in file order (:func:`_plan` and :func:`_currency` read it)."""
    amounts = _amount_columns(col)

    def build():
        sql, params = source.relation(head=True)
        return (f"CREATE OR REPLACE TEMP TABLE seg_sample AS SELECT c{col['order_date']} AS v"
                + f", c{col['customer_id']} AS id" + "".join(f", c{i} AS a{k}" for k, i in enumerate(amounts))
                + f" FROM {sql} LIMIT {SAMPLE_ROWS}", params)

    read_source(con, source, build)  # the sample's errors are the pass's to report


def _plan(con, source: Source, col: dict[str, int], choice: str | None, drop_duplicates: bool = False) -> _Plan:
    """Decide the date order, the dominant date format and whether DuckDB's reader types the date
    and the amount columns, from their first ``SAMPLE_ROWS`` values (``seg_sample``: :func:`_sample`)."""
    d = col["order_date"]
    amounts = _amount_columns(col)
    # the distinct dates (a few hundred, usually), each with its shape, count and first place
    con.execute(f"""CREATE OR REPLACE TEMP TABLE seg_dates AS
                    SELECT v, {_SHAPE.format(v='v')} AS shape, n, first FROM (
                        SELECT v, count(*) AS n, min(rowid) AS first FROM seg_sample GROUP BY v)""")
    # the evidence for the date order, and the dominant shape of the dates (digits as 9)
    *evidence, shape = con.execute(f"""SELECT *, (SELECT shape FROM seg_dates WHERE NOT seg_blank(v)
                                                  GROUP BY shape ORDER BY sum(n) DESC, shape LIMIT 1)
                                       FROM ({_EVIDENCE % "SELECT v FROM seg_sample"})""").fetchone()
    order, ambiguous = (choice, False) if choice in _ORDER else _order_of(evidence)
    a, b = _ORDER[order or "dmy"]
    formats = [f.format(a=a, b=b) for f in _FAST_FORMATS]
    fast, date_typed = None, False
    if shape:  # the format that reads every sampled value of the dominant shape
        probe = "(SELECT v FROM seg_dates WHERE shape = $shape ORDER BY first LIMIT 1000)"
        if con.execute(f"SELECT bool_and(seg_iso_date(trim(v)) IS NOT NULL) FROM {probe}",
                       {"shape": shape}).fetchone()[0]:
            fmt = "%Y-%m-%d"
        else:
            fmt = next((f for f in formats if con.execute(
                f"SELECT bool_and(seg_formatted_date(trim(v), $f) IS NOT NULL) FROM {probe}",
                {"shape": shape, "f": f}).fetchone()[0]), None)
            fast = fmt
        # typed: every sampled date is a date in this format, written as strftime writes it back
        date_typed = fmt is not None and "%H" not in fmt and con.execute(
            "SELECT bool_and(seg_blank(v) OR strftime(CAST(try_strptime(v, $f) AS DATE), $f) = v) "
            "FROM seg_dates", {"f": fmt}).fetchone()[0]
    # with drop_duplicates the pass compares the cells as written (and does not keep the file order)
    readable = not drop_duplicates and not source.nul and source.file_format == "csv" and not source.table
    typed = {d: "DATE"} if date_typed and readable else {}
    if readable and amounts and _clean_amounts(con, source, len(amounts)):
        typed.update({i: "DOUBLE" for i in amounts})
    con.execute("DROP TABLE seg_dates")
    return _Plan(order, ambiguous, fast, typed)


def _clean_amounts(con, source: Source, columns: int) -> bool:
    """True when DuckDB's reader can type the amount columns as DOUBLE and read every value as the
    amount rule does, and no sampled row is rejected.

    Every sampled amount is a finite plain number (DuckDB's cast reads it), and the file holds no
    ``_`` or ``+-`` under its header line (``source.loose_numbers``: the reader, like the cast,
    takes 1_000 and +-5, which the rule refuses). A value the reader cannot read later in the file
    sends the pass back to the text path. The sampled rows also have a customer id and a date: a
    typed pass reads the file again for the cells of its rejected rows (as written: 12.50, not
    12.5), so a file whose start already has rejected rows is read as text.
    """
    return not source.loose_numbers and con.execute(
        "SELECT COALESCE(bool_and(NOT seg_blank(id) AND NOT seg_blank(v) AND "
        + " AND ".join(f"COALESCE(isfinite(TRY_CAST(a{k} AS DOUBLE)), false)" for k in range(columns))
        + "), false) FROM seg_sample").fetchone()[0]


# --------------------------------------------------------------------------------------------
# The pass
# --------------------------------------------------------------------------------------------

def reason_sql(engine: str, priced: bool, drop_duplicates: bool) -> str:
    """SQL: the first rejection reason (``RULES`` order) whose rule holds for a row, NULL for a used
    row, with the rules of ``engine`` (``"duckdb"``: ``$`` parameters, or ``"spark"``: ``:``).

    Reads the columns ``customer_id``, ``order_date``, ``date_blank``, ``amount``, ``amount_blank``,
    ``is_copy`` and the parameters ``first_date``, ``last_date``, ``max_amount``; the amount reasons
    only when ``priced``, "duplicate" only with ``drop_duplicates``.
    """
    mark = "$" if engine == "duckdb" else ":"
    args = {"customer_id": "customer_id", "order_date": "order_date", "date_blank": "date_blank",
            "amount": "amount", "amount_blank": "amount_blank", "is_copy": "is_copy",
            "first_date": f"{mark}first_date", "last_date": f"{mark}last_date", "max_amount": f"{mark}max_amount"}
    checks = [(name, _call(name, args)) for name, rule in RULES.items()
              if rule.reason and getattr(rule, engine) is not None
              and (priced or "amount" not in rule.params) and (drop_duplicates or name != "duplicate")]
    return "CASE " + " ".join(f"WHEN {sql} THEN '{name}'" for name, sql in checks) + " END"


def _date_sql(cell: str, plan: _Plan) -> str:
    """SQL: the date in ``cell`` (text): the dominant format first, then every accepted form."""
    fast = (_call("iso date", {"v": cell}) if plan.fast is None
            else _call("formatted date", {"v": cell, "fmt": "$fast"}))
    slow = _call("any date", {"v": cell, "short": "$short", "long": "$long"})
    return f"COALESCE({fast}, CASE WHEN {cell} IS NOT NULL THEN {slow} END)"


def _pass(con, source: Source, col: dict[str, int], plan: _Plan, drop_duplicates: bool,
          limits: Limits) -> dict:
    """The one pass: the file into ``parsed``, the rejected rows' cells in ``_cells`` (and, with
    drop_duplicates, their position among the rows read in ``_row``); returns the reader's errors."""
    width = len(source.headers)
    cells = [f"c{i}" for i in range(width)]
    d = col["order_date"]
    fmt = plan.fast or "%Y-%m-%d"
    if d in plan.typed:
        order_date, date_blank = f"c{d}", f"c{d} IS NULL"
    else:
        order_date, date_blank = _date_sql(f"c{d}", plan), _call("blank", {"v": f"c{d}"})
    amount_cols = _amount_columns(col)
    if amount_cols:
        values = [f"c{i}" if i in plan.typed else _call("amount", {"v": f"c{i}"}) for i in amount_cols]
        blanks = [f"c{i} IS NULL" if i in plan.typed else _call("blank", {"v": f"c{i}"}) for i in amount_cols]
        amount, amount_blank = " * ".join(values), " OR ".join(blanks)
    else:
        amount, amount_blank = "CAST(NULL AS DOUBLE)", "true"
    mapped = [f for f in TEXT_FIELDS if f in col]
    texts = "".join(f", {_call('text', {'v': f'c{col[f]}'})} AS {f}" for f in mapped)
    reason = reason_sql("duckdb", bool(amount_cols), drop_duplicates)
    as_text = [f"strftime(c{i}, '{fmt}')" if plan.typed.get(i) == "DATE" else f"CAST(c{i} AS VARCHAR)"
               if i in plan.typed else f"c{i}" for i in range(width)]

    def build():
        relation, params = source.relation(plan.typed, fmt if d in plan.typed and plan.fast else None)
        return f"""
        CREATE OR REPLACE TABLE parsed AS
        WITH v AS (
            SELECT {_call('id', {'v': f"c{col['customer_id']}"})} AS customer_id,
                   {order_date} AS order_date, {date_blank} AS date_blank,
                   {amount} AS amount, {amount_blank} AS amount_blank{texts},
                   {f"row_number() OVER (PARTITION BY {', '.join(cells)} ORDER BY _pos) > 1"
                    if drop_duplicates else "false"} AS is_copy,
                   {"_pos, " if drop_duplicates else ""}{', '.join(cells)}
            FROM (SELECT {"row_number() OVER () AS _pos, " if drop_duplicates else ""}* FROM {relation})),
        r AS (SELECT *, {reason} AS reason FROM v)
        SELECT {"CASE WHEN reason IS NOT NULL THEN _pos END AS _row, " if drop_duplicates else ""}
               customer_id, order_date, amount, {''.join(f + ', ' for f in mapped)}reason,
               CASE WHEN reason IS NOT NULL THEN [{', '.join(as_text)}] END AS _cells
        FROM r""", {**params, "first_date": limits.first_date, "last_date": limits.last_date,
                    **({"max_amount": limits.max_amount} if amount_cols else {}),
                    **({"fast": plan.fast} if plan.fast and d not in plan.typed else {}),
                    **({"short": plan.short_long[0], "long": plan.short_long[1]} if d not in plan.typed else {})}

    return read_source(con, source, build)


def _whole_column_order(con, source: Source, col: dict[str, int], plan: _Plan) -> tuple[str | None, bool]:
    """Day-first or month-first on the whole date column, after a pass under ``plan``.

    Only looked at when the sample could not tell, or when some rejected dates would be dates in
    the other order: then the date column is read once more and its values counted.
    """
    d = col["order_date"] + 1
    big, small = (2, 1) if plan.order == "dmy" else (1, 2)  # the parts that failed in this order
    other = con.execute(rf"""
        SELECT count(*) FROM parsed WHERE reason = 'unparseable date'
           AND TRY_CAST(regexp_extract(trim(_cells[{d}]), '{_SLASHED}', {big}) AS INT) > 12
           AND TRY_CAST(regexp_extract(trim(_cells[{d}]), '{_SLASHED}', {small}) AS INT) <= 12
        """).fetchone()[0]
    if not other and not plan.ambiguous:
        return plan.order, False
    sql, params = source.relation(rejects="seg_order_rejects")
    evidence = con.execute(_EVIDENCE % f"SELECT c{d - 1} AS v FROM {sql}", params).fetchone()
    drop_rejects(con, "seg_order_rejects")
    return _order_of(evidence)


def _set_aside_rejected(con, malformed: list[tuple[int, str]], positioned: bool,
                        reread: Source | None = None) -> None:
    """Move the rejected rows' numbers and cells to ``rejected``; add the malformed rows the reader
    left out (to ``parsed`` with their reason, to ``rejected`` with their text).

    A row's position among the rows the reader gave is ``_row`` when the pass knew it
    (``positioned``: drop_duplicates, whose window does not keep the file order), else its place in
    ``parsed`` (``rowid + 1``). Its number in the file is its position plus the malformed rows
    before it (malformed row ``k`` in file order, at row number ``m_k``, comes before the rows
    whose position is at least ``m_k - k + 1``). ``parsed`` keeps no column for the few rejected
    rows' numbers and cells (they would take 24 bytes on every row).

    After a pass that typed amounts the cells are read again as text from ``reread`` (only when
    some row was rejected), so that they are as written in the file (12.50, not 12.5); a typed
    date is written back in the file's format (the plan checked that its dates are written so).
    """
    con.execute("CREATE OR REPLACE TEMP TABLE seg_malformed (row BIGINT, line VARCHAR, after BIGINT)")
    if malformed:
        con.executemany("INSERT INTO seg_malformed VALUES ($1, $2, $3)",
                        [(row, line, row - k) for k, (row, line) in enumerate(malformed)])
    pos = "p._row" if positioned else "p.rowid + 1"
    cells, join, params = "p._cells", "", {}
    if reread and con.execute("SELECT count(*) FROM parsed WHERE reason IS NOT NULL").fetchone()[0]:
        relation, params = reread.relation(rejects="seg_cells_rejects")
        join = f"""LEFT JOIN (
            SELECT _pos, [{', '.join(f'c{i}' for i in range(len(reread.headers)))}] AS _cells
            FROM (SELECT row_number() OVER () AS _pos, * FROM {relation})
            WHERE _pos IN (SELECT {pos} FROM parsed p WHERE reason IS NOT NULL)) t ON t._pos = {pos}"""
        cells = "t._cells"
    con.execute(f"""
        CREATE OR REPLACE TABLE rejected AS
        SELECT {pos} + (SELECT count(*) FROM seg_malformed m WHERE m.after <= {pos}) AS _row, reason,
               {cells} AS _cells
        FROM parsed p {join} WHERE reason IS NOT NULL
        UNION ALL SELECT row, 'malformed row', [line] FROM seg_malformed""", params)
    drop_rejects(con, "seg_cells_rejects")
    con.execute("INSERT INTO parsed (reason) SELECT 'malformed row' FROM seg_malformed ORDER BY row")
    con.execute("ALTER TABLE parsed DROP COLUMN _cells")
    if positioned:
        con.execute("ALTER TABLE parsed DROP COLUMN _row")


def parse_source(con: duckdb.DuckDBPyConnection, source: Source, mapping: dict[str, str], *,
                 date_order: str | None = None, drop_duplicates: bool = False,
                 limits: Limits | None = None) -> dict:
    """Read and parse ``source`` into ``parsed`` (typed columns + rejection reason) and ``lines``.

    Parameters
    ----------
    source : the file (:func:`open_source`).
    mapping : ``{canonical_field: header}``; needs ``customer_id`` and ``order_date``, and either
        ``amount``, both ``quantity`` and ``unit_price`` (amount = quantity x unit_price), or
        neither (count-only: ``amount`` is NULL and no amount reason applies).
    date_order : ``"dmy"``, ``"mdy"`` or None (decide from the data; day-first when no value tells).
    drop_duplicates : reject exact duplicate rows (all cells equal) after their first occurrence.
    limits : plausible dates and amounts (:class:`Limits`).

    Returns
    -------
    dict with ``amount_source``, ``date_order``, ``date_order_ambiguous``, ``plan`` (how the pass
    read the file: the date order and format, the columns DuckDB's reader typed) and ``currency`` (the sign the
    amounts carry and its place, :func:`_currency`).
    """
    limits = limits or Limits()
    col = {f: source.headers.index(h) for f, h in mapping.items()}
    con.execute(_MACROS)
    _sample(con, source, col)
    plan = _plan(con, source, col, date_order, drop_duplicates)
    currency = _currency(con, col)
    for _ in range(3):  # each repeat changes the plan for good: typed -> text, the date order
        errors = _pass(con, source, col, plan, drop_duplicates, limits)
        if plan.typed and ("CAST" in errors or col["order_date"] in plan.typed and con.execute(
                "SELECT count(*) FROM parsed WHERE order_date < DATE '0100-01-01' OR NOT isfinite(order_date) "
                "OR order_date = DATE '1970-01-01'").fetchone()[0]):
            # a value the typed reader refused, or one it reads where the rules do not: a two-digit
            # year as %Y, the words epoch (1970-01-01) and infinity
            plan = plan.text()
            continue
        if date_order is None and plan.order is not None:
            order, ambiguous = _whole_column_order(con, source, col, plan)
            if order != plan.order:
                plan = replace(_plan(con, source, col, order, drop_duplicates), ambiguous=ambiguous)
                continue
            plan = replace(plan, ambiguous=ambiguous)
        break
    con.execute("DROP TABLE seg_sample")
    _set_aside_rejected(con, errors.get("rows", []), drop_duplicates,
                        source if "DOUBLE" in plan.typed.values() else None)
    lines_view(con)
    amount_source = ("amount" if "amount" in col else "quantity x unit_price" if _amount_columns(col)
                     else "none")
    return {"amount_source": amount_source, "date_order": plan.order, "date_order_ambiguous": plan.ambiguous,
            "plan": plan, "currency": currency}


def lines_view(con) -> None:
    """(Re)create the view ``lines``: the used rows of ``parsed``, with ``_line`` their position and
    every text field (NULL when the file has no column for it)."""
    have = {row[0] for row in con.execute("DESCRIBE parsed").fetchall()}
    missing = "".join(f", CAST(NULL AS VARCHAR) AS {f}" for f in TEXT_FIELDS if f not in have)
    con.execute(f"CREATE OR REPLACE VIEW lines AS SELECT rowid AS _line, *{missing} FROM parsed WHERE reason IS NULL")


def resolve_mapping(headers: list[str], mapping: dict[str, str] | None, file_name: str) -> dict[str, str]:
    """``guess_mapping(headers)`` updated by ``mapping`` field by field (an empty header unmaps the
    field; a column serves one field); raises :class:`IngestError` when a needed field is missing."""
    full = guess_mapping(headers)
    for f, h in (mapping or {}).items():
        full = {k: v for k, v in full.items() if v != h}
        if h:
            full[f] = h
        else:
            full.pop(f, None)
    _check_mapping(headers, full, file_name)
    return full


def _check_mapping(headers: list[str], mapping: dict[str, str], file_name: str) -> None:
    unknown = {f: h for f, h in mapping.items() if f not in CANONICAL_FIELDS or h not in headers}
    if unknown:
        field_name, header = next(iter(unknown.items()))
        if field_name not in CANONICAL_FIELDS:
            raise IngestError("unknown_field", f"{field_name!r} is not a field; fields are "
                              + ", ".join(CANONICAL_FIELDS) + ".", field=field_name)
        raise IngestError("unknown_column", f"There is no column {header!r} in {file_name}; "
                          "its columns are " + ", ".join(map(repr, headers)) + ".",
                          column=header, columns=headers)
    need = [f for f in ("customer_id", "order_date") if f not in mapping]
    # without amounts the file is read count-only; an amount is missing beside a missing id or
    # date, or when only one of quantity and unit price is there
    priced = len({"quantity", "unit_price"} & set(mapping))
    if "amount" not in mapping and (priced == 1 or (need and not priced)):
        need.append("amount")
    if need:
        names = {"customer_id": "customer id", "order_date": "order date",
                 "amount": "amount (or quantity and unit price)"}
        raise IngestError(
            "missing_field",
            f"No column for the {' and the '.join(names[f] for f in need)} was found in {file_name}; "
            "its columns are " + ", ".join(map(repr, headers)) + ". Map them by hand.",
            fields=need, columns=headers)


def _duplicate_rows(con, source: Source) -> int:
    """Rows equal in every cell, as written, to an earlier row (rejected rows included).

    Malformed rows are compared by their text (``rejected``). The others are read again from the
    file as text, each as a 64-bit hash of its cells, and the hashes sorted (numpy: 8 bytes a row,
    however wide the rows; faster than a hash table of mostly unique keys). Only when some hash is
    shared is the file read once more, to compare the cells of just the rows with such a hash, so
    the count stays exact when two different rows have the same hash, and 12.5 and 12.50 are
    different cells. The pass keeps no hash: counting is left to the caller's moment
    (:meth:`Dataset.count_duplicates`).
    """
    copies = con.execute("""SELECT COALESCE(sum(n - 1), 0) FROM (
                                SELECT count(*) AS n FROM rejected WHERE reason = 'malformed row'
                                GROUP BY _cells)""").fetchone()[0]
    cells = ", ".join(f"c{i}" for i in range(len(source.headers)))
    relation, params = source.relation(rejects="seg_dup_rejects")
    hashes = con.execute(f"SELECT hash({cells}) AS h FROM {relation}", params).fetchnumpy()["h"]
    drop_rejects(con, "seg_dup_rejects")
    hashes.sort()
    shared = np.unique(hashes[1:][hashes[1:] == hashes[:-1]])
    del hashes
    if len(shared):
        con.register("seg_shared", pd.DataFrame({"h": shared}))
        copies += con.execute(f"""
            SELECT COALESCE(sum(n - 1), 0) FROM (
                SELECT count(*) AS n FROM {relation}
                WHERE hash({cells}) IN (SELECT h FROM seg_shared) GROUP BY {cells})""", params).fetchall()[0][0]
        con.unregister("seg_shared")
        drop_rejects(con, "seg_dup_rejects")
    return int(copies)


def _report(con, mapping, info, drop_duplicates, source: Source) -> IngestReport:
    # returns are added in whole steps, as the metrics add amounts (the same file, the same sum);
    # the distinct customers are a query of their own (beside other aggregates DISTINCT is slower)
    rows_read, rows_used, ret_n, ret_sum, dmin, dmax = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE reason IS NULL),
               count(*) FILTER (WHERE reason IS NULL AND amount < 0),
               COALESCE(sum(round(amount * $steps)) FILTER (WHERE reason IS NULL AND amount < 0), 0)
                   / $steps,
               min(order_date) FILTER (WHERE reason IS NULL), max(order_date) FILTER (WHERE reason IS NULL)
        FROM parsed""", {"steps": AMOUNT_STEPS}).fetchall()[0]
    customers = con.execute("SELECT count(*) FROM (SELECT DISTINCT customer_id FROM parsed "
                            "WHERE reason IS NULL)").fetchone()[0]
    by_reason = dict(con.execute(
        "SELECT reason, count(*) FROM parsed WHERE reason IS NOT NULL GROUP BY reason").fetchall())
    return IngestReport(
        rows_read=rows_read, rows_used=rows_used,
        rejected={r: by_reason[r] for r in REASONS if r in by_reason},
        returns_count=ret_n, returns_sum=float(ret_sum), duplicate_rows=None,
        duplicates_dropped=drop_duplicates, date_min=dmin, date_max=dmax, customers=customers,
        mapping=dict(mapping), file_format=source.file_format, encoding=source.encoding,
        notes=list(source.notes), sheet=source.sheet, sheets=list(source.sheets),
        amount_source=info["amount_source"], date_order=info["date_order"],
        date_order_ambiguous=info["date_order_ambiguous"], currency=info["currency"][0],
        currency_position=info["currency"][1])


@dataclass
class Dataset:
    """An ingested orders file: the DuckDB connection holding ``parsed``/``lines``.

    ``source`` reads the file again (re-mapping: ``load_orders(ds.source, mapping)``).
    """

    con: duckdb.DuckDBPyConnection
    headers: list[str]
    report: IngestReport

    @property
    def mapping(self) -> dict[str, str]:
        return self.report.mapping

    def has(self, field_name: str) -> bool:
        """True when the canonical field is mapped to a column (``amount``: the file has amounts)."""
        if field_name == "amount":
            return self.report.amount_source != "none"
        return field_name in self.report.mapping

    customer_attributes: list[str] = field(default_factory=list)
    side_reports: dict[str, dict] = field(default_factory=dict)
    source: Source | None = None
    plan: _Plan | None = field(default=None, repr=False)
    #: Opened from a per-customer table (:func:`segcore.customer_table.open_customer_table`): its
    #: ``(metrics, facts)``; the dataset then holds no order lines.
    customer_table: tuple | None = field(default=None, repr=False)
    _counting: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def has_table(self, name: str) -> bool:
        """True when the connection holds the engine table ``name`` (``customers``, ``interactions``)."""
        return bool(self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = $t", {"t": name}).fetchone()[0])

    def memory_bytes(self) -> int:
        """Bytes DuckDB holds for this dataset's tables (for a cache of datasets sized in bytes)."""
        return int(self.con.execute("SELECT COALESCE(sum(memory_usage_bytes), 0) FROM duckdb_memory()").fetchone()[0])

    def close(self) -> None:
        """Release the dataset's database now rather than when it is garbage collected (its
        memory goes once no cursor on it is open; the dataset cannot be queried after)."""
        self.con.close()

    def count_duplicates(self) -> int | None:
        """Count the exact duplicate rows (once) into ``report.duplicate_rows``; returns the count.

        Reads the file again (:func:`_duplicate_rows`); safe to call from several threads at once
        (one counts, the others wait for its count). Stays None when there is no file to read
        (an upload cleaned away meanwhile)."""
        source = self.source
        with self._counting:
            if self.report.duplicate_rows is None and source is not None and (
                    source.table or os.path.exists(source.copy or source.path)):
                with self.con.cursor() as cur:  # its temporary tables go with it
                    self.report.duplicate_rows = _duplicate_rows(cur, source)
        return self.report.duplicate_rows

    def rejected_rows(self):
        """The rejected rows as a DataFrame: ``row``, the file's own columns and ``reason``."""
        cols = ", ".join(f"_cells[{i + 1}] AS c{i}" for i in range(len(self.headers)))
        df = self.con.execute(f"SELECT _row AS row, {cols}, reason FROM rejected ORDER BY _row").df()
        df.columns = ["row", *self.headers, "reason"]
        return df


def dataset_connection() -> duckdb.DuckDBPyConnection:
    """A new in-memory database for one dataset, progress bar off, with at most
    ``$SEGCORE_THREADS`` threads (default: the machine's cores, at most 4).

    Every database has its own thread pool; a server holding several datasets on a many-core
    machine would otherwise run cores x datasets threads, and the memory allocator keeps memory
    per thread (measured: RSS grew ~3 MB per upload with 32 threads, flat with 2)."""
    threads = os.environ.get("SEGCORE_THREADS", "").strip()
    threads = int(threads) if threads.isdigit() and int(threads) > 0 else min(os.cpu_count() or 1, 4)
    con = duckdb.connect(config={"threads": threads})
    con.execute("SET enable_progress_bar = false")
    return con


def load_orders(path, mapping: dict[str, str] | None = None, *, date_order: str | None = None,
                drop_duplicates: bool = False, con: duckdb.DuckDBPyConnection | None = None,
                sheet: str | None = None, limits: Limits | None = None,
                count_duplicates: bool = True) -> Dataset:
    """Read and parse an orders file in one pass: the one call the CLI and the app make.

    Parameters
    ----------
    path : CSV/TSV/Excel/Parquet file, or a :class:`Source` (``ds.source``: re-mapping reads the
        file again; a source that is a table in a connection is read with ``con`` = that one).
    mapping : ``{canonical_field: header}`` overriding the guessed mapping field by field (an empty
        header unmaps the field).
    date_order, drop_duplicates, limits : see :func:`parse_source`.
    con : DuckDB connection to load into (a new in-memory one by default).
    sheet : the Excel sheet to read (default: the first one holding a table).
    count_duplicates : count exact duplicate rows now (else later: :meth:`Dataset.count_duplicates`).

    Returns
    -------
    Dataset whose ``report`` accounts for every row of the file.

    Raises
    ------
    IngestError : the file is empty, not a table, too big, lacks a customer/date column, or every
        row was rejected. The message is one plain sentence.
    """
    source = path if isinstance(path, Source) else open_source(path, sheet=sheet)
    return _load(con, source, mapping, date_order=date_order, drop_duplicates=drop_duplicates,
                 limits=limits, count_duplicates=count_duplicates)


def parse_loaded(con, headers, file_name, file_format, encoding, mapping=None, *,
                 date_order=None, drop_duplicates=False) -> Dataset:
    """Parse the text table ``raw`` (``c0..cN``, one row per data row, e.g. from :func:`read_table`)
    already in ``con``, under ``guess_mapping(headers)`` updated by ``mapping``."""
    source = Source(None, file_name, file_format, list(headers), encoding=encoding, table="raw")
    return _load(con, source, mapping, date_order=date_order, drop_duplicates=drop_duplicates)


def _load(con, source: Source, mapping, *, date_order=None, drop_duplicates=False, limits=None,
          count_duplicates=True) -> Dataset:
    if source.table and con is None:
        raise ValueError(f"{source.name} is the table {source.table} of a connection: pass con.")
    if con is None:
        con = dataset_connection()
    headers, file_name = source.headers, source.name
    if len(headers) < 2:
        raise IngestError("no_columns", f"{file_name} has only one column ({headers[0]!r}): "
                          "the delimiter or the format was not recognised.",
                          file=file_name, columns=headers)
    full = resolve_mapping(headers, mapping, file_name)
    info = parse_source(con, source, full, date_order=date_order, drop_duplicates=drop_duplicates,
                        limits=limits)
    report = _report(con, full, info, drop_duplicates, source)
    if report.rows_read == 0:
        raise IngestError("empty", f"{file_name} has a header but no data rows.", file=file_name)
    if report.rows_used == 0:
        reasons = ", ".join(f"{n:,} {r}" for r, n in report.rejected.items())
        raise IngestError("all_rejected", f"None of the {report.rows_read:,} rows of {file_name} "
                          f"could be used ({reasons}).", rows=report.rows_read,
                          rejected=report.rejected, report=report)
    ds = Dataset(con=con, headers=headers, report=report, source=source, plan=info["plan"])
    if count_duplicates:
        ds.count_duplicates()
    return ds


# --------------------------------------------------------------------------------------------
# Optional files: customers master and interactions
# --------------------------------------------------------------------------------------------

def _side_table(ds: Dataset, path, synonyms, mapping, need, table: str) -> tuple[Source, dict[str, int], int]:
    """Read a customers / interactions file into ``table``: (source, field -> column, malformed rows)."""
    source = open_source(path)
    malformed = read_into(ds.con, source, table)
    headers = source.headers
    full = guess_mapping(headers, synonyms)
    full.update({f: h for f, h in (mapping or {}).items() if h})
    missing = [f for f in need if f not in full or full[f] not in headers]
    if missing:
        raise IngestError(
            "missing_field", f"No column for the {' and the '.join(m.replace('_', ' ') for m in missing)} "
            f"was found in {source.name}; its columns are " + ", ".join(map(repr, headers)) + ".",
            fields=missing, columns=headers)
    ds.con.execute(_MACROS)
    return source, {f: headers.index(h) for f, h in full.items()}, malformed


def _side_rejected(con, table: str, malformed: int) -> dict[str, int]:
    rejected = dict(con.execute(f"SELECT reason, count(*) FROM {table} "
                                "WHERE reason IS NOT NULL GROUP BY reason ORDER BY reason").fetchall())
    return {"malformed row": malformed, **rejected} if malformed else rejected


def load_customers(ds: Dataset, path, mapping: dict[str, str] | None = None) -> dict:
    """Attach a customers file (master data) to ``ds`` as the table ``customers``.

    Parameters
    ----------
    ds : the orders dataset; its connection receives the table.
    path : CSV/TSV/Excel/Parquet with a customer id column and any attributes (name, region,
        industry, signup date, age band ...).
    mapping : optional ``{"customer_id": header, "name": header}`` overriding the guess.

    Returns
    -------
    dict report: ``rows_read``, ``rows_used``, ``rejected`` ({reason: n}: malformed row, missing
    customer id, duplicate customer id), ``prospects`` (customers without any used order line),
    ``attributes``. The table ``customers`` has ``customer_id``, ``name`` and ``a0..aK`` (text),
    the attributes named by ``ds.customer_attributes``.
    """
    source, col, malformed = _side_table(ds, path, CUSTOMER_FIELDS, mapping, ["customer_id"], "raw_customers")
    headers = source.headers
    attrs = [i for i in range(len(headers)) if i not in col.values()]
    name = f"seg_text(c{col['name']})" if "name" in col else "CAST(NULL AS VARCHAR)"
    ds.con.execute(f"""
        CREATE OR REPLACE TABLE customers_parsed AS
        SELECT rowid + 1 AS _row, seg_id(c{col['customer_id']}) AS customer_id, {name} AS name,
               {', '.join(f'seg_text(c{i}) AS a{k}' for k, i in enumerate(attrs)) or 'NULL AS a0'},
               CASE WHEN seg_id(c{col['customer_id']}) IS NULL THEN 'missing customer id'
                    WHEN row_number() OVER (PARTITION BY seg_id(c{col['customer_id']})
                                            ORDER BY rowid) > 1 THEN 'duplicate customer id'
               END AS reason
        FROM raw_customers""")
    ds.con.execute("CREATE OR REPLACE TABLE customers AS "
                   "SELECT * EXCLUDE (_row, reason) FROM customers_parsed WHERE reason IS NULL")
    ds.customer_attributes = [headers[i] for i in attrs]
    ds.con.execute("CREATE OR REPLACE TABLE customer_attribute_names AS "
                   "SELECT unnest($cols) AS col, unnest($names) AS header",
                   {"cols": [f"a{k}" for k in range(len(attrs))], "names": ds.customer_attributes})
    read, used, prospects = ds.con.execute("""
        SELECT (SELECT count(*) FROM customers_parsed), (SELECT count(*) FROM customers),
               (SELECT count(*) FROM customers c WHERE NOT EXISTS
                    (SELECT 1 FROM lines l WHERE l.customer_id = c.customer_id))""").fetchone()
    report = {"rows_read": read + malformed, "rows_used": used,
              "rejected": _side_rejected(ds.con, "customers_parsed", malformed), "prospects": prospects,
              "attributes": ds.customer_attributes,
              "mapping": {f: headers[i] for f, i in col.items()}}
    ds.side_reports["customers"] = report
    return report


def load_interactions(ds: Dataset, path, mapping: dict[str, str] | None = None) -> dict:
    """Attach an interactions file (messages, calls, visits, campaign clicks) as ``interactions``.

    Parameters
    ----------
    ds : the orders dataset; its connection receives the table.
    path : CSV/TSV/Excel/Parquet with customer id, date and optionally type columns.
    mapping : optional ``{"customer_id": h, "date": h, "type": h}`` overriding the guess.

    Returns
    -------
    dict report: ``rows_read``, ``rows_used``, ``rejected`` ({reason: n}: malformed row, missing
    customer id, missing date, unparseable date), ``unknown_customers`` (used rows whose customer is
    in neither the orders nor the customers file), ``date_min``, ``date_max``. The table
    ``interactions`` has ``customer_id``, ``date`` (DATE, read in the orders' day/month order) and
    ``type``.
    """
    source, col, malformed = _side_table(ds, path, INTERACTION_FIELDS, mapping, ["customer_id", "date"],
                                         "raw_interactions")
    kind = f"seg_text(c{col['type']})" if "type" in col else "CAST(NULL AS VARCHAR)"
    d = f"c{col['date']}"
    plan = _Plan(ds.report.date_order, False, None, {})
    ds.con.execute(f"""
        CREATE OR REPLACE TABLE interactions_parsed AS
        WITH v AS (SELECT seg_id(c{col['customer_id']}) AS customer_id,
                          {_date_sql(d, plan)} AS date, {kind} AS type, seg_blank({d}) AS blank
                   FROM raw_interactions)
        SELECT customer_id, date, type,
               CASE WHEN customer_id IS NULL THEN 'missing customer id'
                    WHEN blank THEN 'missing date' WHEN date IS NULL THEN 'unparseable date' END AS reason
        FROM v""", dict(zip(("short", "long"), plan.short_long)))
    ds.con.execute("CREATE OR REPLACE TABLE interactions AS "
                   "SELECT customer_id, date, type FROM interactions_parsed WHERE reason IS NULL")
    known = "SELECT customer_id FROM lines" + (" UNION SELECT customer_id FROM customers"
                                                if ds.has_table("customers") else "")
    read, used, unknown, dmin, dmax = ds.con.execute(f"""
        SELECT (SELECT count(*) FROM interactions_parsed), count(*),
               count(*) FILTER (WHERE customer_id NOT IN ({known})), min(date), max(date)
        FROM interactions""").fetchone()
    report = {"rows_read": read + malformed, "rows_used": used,
              "rejected": _side_rejected(ds.con, "interactions_parsed", malformed),
              "unknown_customers": unknown, "date_min": dmin, "date_max": dmax,
              "mapping": {f: source.headers[i] for f, i in col.items()}}
    ds.side_reports["interactions"] = report
    return report
