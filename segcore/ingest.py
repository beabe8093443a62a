"""Ingest: any orders file in, a typed table of order lines and an honest report out.

One pass
--------
An orders file is read once per mapping, straight into the table ``parsed`` (:func:`load_orders`):
DuckDB's reader feeds one ``CREATE TABLE ... AS SELECT`` that applies the parse rules (``RULES``:
each value rule and each rejection reason is a named DuckDB SQL macro). No text copy of the file is
kept; the :class:`Source` remembers how to read the file, and re-mapping a column reads it again.

- Text files are read as RFC 4180 CSV (quotes, ``""`` escapes, delimiters and line breaks inside
  quotes) and strictly: a row that does not split into the header's columns is a rejected row
  ("malformed row") with its row number, never a shifted one.
- Typed fast path: when the first ``SAMPLE_ROWS`` values of the date column all have one date format
  (day/month order by the engine's rule below) and the amounts are plain numbers, DuckDB's reader
  types those columns (ids and every other column stay text). Any value it cannot convert sends the
  pass back to the text path, so every row is still used or rejected with its reason. On the text
  path the file's dominant date format is tried before the others.
- Day-first or month-first is decided on the first ``SAMPLE_ROWS`` dates and checked on the whole
  column after the pass; the pass is redone when the whole column decides otherwise.

Tables in the connection
------------------------
parsed : one row per data row of the file, in file order (malformed rows last; with drop_duplicates
         the order is lost): ``_row`` BIGINT
         (the row's number in the file, 1 = the first row under the header; set for rejected rows,
         NULL for used rows), ``_hash`` UBIGINT (a 64-bit hash of the row's cells as read),
         ``customer_id`` VARCHAR, ``order_date`` DATE, ``amount`` DOUBLE (NULL when the file has no
         amount: count-only mode), ``order_id``, ``product``, ``category``, ``region``, ``city``,
         ``channel`` VARCHAR, ``reason`` VARCHAR (NULL for used rows, else why the row was
         rejected), ``_cells`` VARCHAR[] (a rejected row's cells as in the file; NULL for used rows).
lines  : view of the used rows of ``parsed``, plus ``_line`` (the row's position in ``parsed``).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import mmap
import os
import re
import subprocess
import sys
import tempfile
import weakref
import zipfile
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import duckdb

from .headers import CANONICAL_FIELDS, CUSTOMER_FIELDS, INTERACTION_FIELDS, guess_mapping
from .metrics import AMOUNT_STEPS

__all__ = ["IngestError", "IngestReport", "Dataset", "Limits", "Source", "RULES", "REASONS",
           "open_source", "excel_sheets", "read_table", "parse_loaded", "load_orders",
           "load_customers", "load_interactions"]

TEXT_FIELDS = ("order_id", "product", "category", "region", "city", "channel")

#: Values of the date and amount columns looked at before the pass (date order, formats, types).
SAMPLE_ROWS = 50_000

#: An Excel workbook is refused before reading when its parts unpack to more than this many bytes,
#: or a part unpacks to more than ``EXCEL_MAX_RATIO`` times its packed size (a decompression bomb).
EXCEL_MAX_UNPACKED = 1 << 30
EXCEL_MAX_RATIO = 100

#: Memory (MB) the process reading an Excel sheet may take; ``$SEGCORE_EXCEL_MEMORY_MB`` overrides.
EXCEL_MEMORY_MB = 3072

_WORKER = Path(__file__).with_name("excel_worker.py")


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
    ``doc`` says. A twin in another engine sits beside each entry under the same name.
    """

    params: tuple[str, ...]
    duckdb: str | None
    doc: str
    reason: bool = False


_MISSING_TEXT = tuple(sorted({v for word in ("", "nan", "null", "none", "n/a", "#n/a", "na", "-", "--")
                              for v in (word, word.upper(), word.capitalize())}))
_SPACE = r"[\s\x{00A0}\x{2007}\x{202F}\x{3000}]"
_CURRENCY = "[¥￥$€£円元]|RMB|CNY|USD|EUR|GBP|HKD|JPY"

# Each fast path (a plain number, an ISO date) comes first in a COALESCE, and everything slower sits
# inside a CASE: DuckDB evaluates a CASE branch only for the rows that reach it and never hoists
# common subexpressions out of a CASE, so the regular expressions only ever see the values the fast
# path could not read. Failing casts and failing strptime calls are costly (about ten times a
# successful one), so the slow path picks the one format that fits a value's shape.
RULES: dict[str, Rule] = {
    # -- cells to values ---------------------------------------------------------------------
    "trim": Rule(("v",), "CASE WHEN v < '!' OR ends_with(v, ' ') OR strlen(v) <> length(v) "
                         "THEN trim(v) ELSE v END",
                 "v without the spaces around it. trim copies every value, so it only runs where it "
                 "could change v: in ASCII the only space trim removes is ' ', so a value starting "
                 "at or above '!', not ending in ' ' and without multi-byte characters is trimmed."),
    "missing": Rule(("t",), f"strlen(t) <= {max(map(len, _MISSING_TEXT))} AND list_position("
                            + "[" + ", ".join(f"'{m}'" for m in _MISSING_TEXT) + "], t) IS NOT NULL",
                    "trimmed text is empty or a word for a missing value (nan, null, n/a, -, ...); a "
                    "list searched with list_position, as an IN list becomes a join on every row"),
    "blank": Rule(("v",), "v IS NULL OR seg_missing(seg_trim(v))", "the cell holds no value"),
    "id": Rule(("v",), "CASE WHEN seg_missing(seg_trim(v)) THEN NULL ELSE seg_trim(v) END",
               "an id (customer, order): the trimmed text, NULL when blank; never a number"),
    "text": Rule(("v",), "NULLIF(seg_trim(v), '')", "a text field: the trimmed text, NULL when empty"),
    "plain number": Rule(("v",), "CASE WHEN NOT contains(v, '_') AND NOT contains(v, '+-') "
                                "THEN TRY_CAST(v AS DOUBLE) END",
                         "a number DuckDB reads as it is (12, -3.5, 1e3, spaces around); not the "
                         "forms its cast also takes (1_000, +-5)"),
    "digits": Rule(("d",), r"""CASE
            WHEN regexp_full_match(d, '\d{1,3}(\.\d{3})+(,\d+)?') THEN replace(replace(d, '.', ''), ',', '.')
            WHEN regexp_full_match(d, '\d+,\d{1,2}') THEN replace(d, ',', '.')
            WHEN regexp_full_match(d, '\d{1,3}(,\d{3})+(\.\d+)?|\d+(\.\d*)?|\.\d+') THEN replace(d, ',', '')
        END""",
                   "digits with separators as a plain decimal: 1.234,56 and 12,50 (decimal comma), "
                   "1,234.56 (thousands in groups of three); anything else (1,2,3) is NULL"),
    "number parts": Rule(("v",), rf"""regexp_extract(
            regexp_replace(v, '{_SPACE}|{_CURRENCY}', '', 'gi'),
            '^([-+]?)(\(?)(\d[\d.,]*|\.\d+)(\)?)(-?)$', ['sign', 'open', 'num', 'close', 'trail'])""",
                         "a written amount without spaces and currency signs or words, split into "
                         "a sign, parentheses, the digits and a trailing minus"),
    "signed number": Rule(("p",), """CASE
            WHEN p.num <> '' AND (p.open = '') = (p.close = '')
                 AND (p.sign <> '')::INT + (p.open <> '')::INT + (p.trail <> '')::INT <= 1
            THEN CASE WHEN p.sign = '-' OR p.open <> '' OR p.trail <> '' THEN -1 ELSE 1 END
                 * TRY_CAST(seg_digits(p.num) AS DOUBLE) END""",
                          "the number of the parts: negative with one of a leading -, parentheses "
                          "or a trailing - (never two: --5 and -(5) are not numbers)"),
    "amount": Rule(("v",), "COALESCE(seg_plain_number(v), "
                           "CASE WHEN v IS NOT NULL THEN seg_signed_number(seg_number_parts(v)) END)",
                   "an amount: ￥1,200.50, (200.50), £-3, -£3, £(3), 3-, 1.234,56 €, 300元 ..."),
    "iso date": Rule(("v",), "CASE WHEN v >= '0' AND v < ':' THEN nullif(greatest(TRY_CAST(v AS DATE), "
                             "DATE '0099-12-31'), DATE '0099-12-31') END",
                     "an ISO date or timestamp (2024-01-31, 2024-01-31 10:00, 2024-01-31T10:00Z); it "
                     "starts with a digit, so DuckDB's words (epoch, infinity) are not dates, and a "
                     "year below 100 (05/01/24 cast as year 5) is left to the slow path"),
    "formatted date": Rule(("v", "fmt"), "nullif(greatest(CAST(try_strptime(v, fmt) AS DATE), "
                                         "DATE '0099-12-31'), DATE '0099-12-31')",
                           "v in the strptime format fmt; a two-digit year read by %Y (year < 100) "
                           "is no match, so 05/01/24 reaches the two-digit format"),
    "date part": Rule(("v",), r"regexp_replace(regexp_extract(trim(v), '^[^\sT]+'), '[.-]', '/', 'g')",
                      "the date before any time, with / for . and - (2024.01.31 10:00 -> 2024/01/31)"),
    "shaped date": Rule(("p", "short", "long"), r"""CAST(CASE
            WHEN regexp_full_match(p, '\d{4}/\d{1,2}/\d{1,2}') THEN try_strptime(p, '%Y/%m/%d')
            WHEN regexp_full_match(p, '\d{8}') THEN try_strptime(p, '%Y%m%d')
            WHEN regexp_full_match(p, '\d{1,2}/\d{1,2}/\d{2}') THEN try_strptime(p, short)
            WHEN regexp_full_match(p, '\d{1,2}/\d{1,2}/\d{4}') THEN try_strptime(p, long)
            WHEN regexp_full_match(p, '\d{4}年\d{1,2}月\d{1,2}日') THEN try_strptime(p, '%Y年%m月%d日')
        END AS DATE)""",
                        "a date part in the one format its shape allows: year first, YYYYMMDD, a/b/yy "
                        "(short: the day/month order with %y) and a/b/yyyy (long, %Y), 2024年1月5日"),
    "serial date": Rule(("t",), r"CASE WHEN regexp_full_match(t, '[2-6]\d{4}(\.\d+)?') "
                                r"THEN DATE '1899-12-30' + CAST(floor(CAST(t AS DOUBLE)) AS INTEGER) END",
                        "an Excel serial day number (20000 to 69999: 1954 to 2091)"),
    "any date": Rule(("v", "short", "long"), r"""CASE WHEN regexp_matches(trim(v), '^\d') THEN COALESCE(
            seg_shaped_date(seg_date_part(v), short, long), TRY_CAST(trim(v) AS DATE),
            seg_serial_date(trim(v))) END""",
                     "a date in any of the accepted forms (the slow path, after the fast one): by its "
                     "shape first, so a/b/yy is never read as ISO year a"),
    # -- rejection reasons, in the order they are checked -------------------------------------
    "malformed row": Rule((), None, "the reader: the row does not split into the header's columns "
                                    "(RFC 4180); its cells are the row's text", reason=True),
    "missing customer id": Rule(("customer_id",), "customer_id IS NULL", "no customer id", reason=True),
    "missing date": Rule(("order_date", "date_blank"), "order_date IS NULL AND date_blank",
                         "the date cell is blank", reason=True),
    "unparseable date": Rule(("order_date",), "order_date IS NULL", "the date is not a date", reason=True),
    "date out of range": Rule(("order_date", "first_date", "last_date"),
                              "order_date NOT BETWEEN first_date AND last_date",
                              "a date outside Limits (year 99999, 0024)", reason=True),
    "missing amount": Rule(("amount", "amount_blank"), "amount IS NULL AND amount_blank",
                           "the amount cell (quantity or unit price) is blank", reason=True),
    "unparseable amount": Rule(("amount",), "amount IS NULL OR NOT isfinite(amount)",
                               "the amount is not a finite number (ten, 1,2,3, --5, inf, nan)", reason=True),
    "amount out of range": Rule(("amount", "max_amount"), "abs(amount) > max_amount",
                                "an amount beyond Limits (1e305)", reason=True),
    "duplicate": Rule(("is_copy",), "is_copy", "with drop_duplicates: the row equals an earlier row "
                                               "in every cell", reason=True),
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


class IngestError(ValueError):
    """A file that cannot be used at all. ``str(err)`` is one plain sentence for the user.

    ``code`` names the problem (``empty``, ``binary``, ``unreadable``, ``too_big``, ``no_sheet``,
    ``no_columns``, ``missing_field``, ``all_rejected``) and ``params`` holds the details, so a UI can
    say the same in another language.
    """

    def __init__(self, code: str, message: str, **params):
        super().__init__(message)
        self.code = code
        self.params = params


def _note(code: str, message: str, **params) -> dict:
    """A remark on how the file was read: ``{"code", "message", "params"}`` (a UI translates by code)."""
    return {"code": code, "message": message, "params": params}


@dataclass
class IngestReport:
    """What happened to every input row. ``rows_used + sum(rejected.values()) == rows_read``.

    ``duplicate_rows`` is None until counted (:meth:`Dataset.count_duplicates`). ``amount_source``
    is ``"amount"``, ``"quantity x unit_price"`` or ``"none"`` (count-only: a file without amounts).
    ``sheet`` is the Excel sheet read and ``sheets`` all the workbook's sheets. ``notes`` are
    remarks on the reading, each ``{"code", "message", "params"}``.
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
# Sources: how to read a file (again)
# --------------------------------------------------------------------------------------------

@dataclass(eq=False)
class Source:
    """How to read a table file, found once from its bytes (:func:`open_source`).

    Attributes
    ----------
    path : the file (None for ``table``).
    name : the file's name, for messages.
    file_format : ``"csv"``, ``"excel"`` or ``"parquet"``.
    headers : the file's column names, in order (column ``c{i}`` is ``headers[i]``).
    encoding : the text's encoding (None for Excel and Parquet).
    delimiter : the CSV delimiter.
    sheet, sheets : the Excel sheet read and all the sheets of the workbook.
    notes : remarks on the reading (mixed encodings, NUL bytes removed ...), as in the report.
    nul : the text holds NUL bytes; they are removed from every cell.
    table : the name of a text table (``c0..cN``) in the connection to read instead of a file.
    floats : the Parquet columns holding floating-point numbers (an id 12346.0 is read as 12346).
    copy : a UTF-8 (text) or Parquet (Excel) copy DuckDB reads instead of ``path``; it is deleted
        with the Source.
    """

    path: Path | None
    name: str
    file_format: str
    headers: list[str]
    encoding: str | None = None
    delimiter: str = ","
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)
    nul: bool = False
    table: str | None = None
    floats: tuple[int, ...] = ()
    copy: Path | None = None

    def keep(self, copy: Path) -> None:
        """Read ``copy`` from now on; it is deleted when the Source is."""
        self.copy = copy
        weakref.finalize(self, _unlink, copy)

    def relation(self, types: dict[int, str] | None = None, date_format: str | None = None,
                 rejects: str = "seg_rejects") -> tuple[str, dict]:
        """``(sql, params)``: a FROM-clause item with the columns ``c0..cN``.

        ``types`` types some CSV columns (``{index: "DATE" | "DOUBLE"}``, DATE read with
        ``date_format``); the rest are text. A CSV row that does not split into the columns, or a
        value that does not convert, goes to the table ``rejects`` (with its line number), not to
        the result.
        """
        cols = [f"c{i}" for i in range(len(self.headers))]
        if self.table:
            return self.table, {}
        read = self.copy or self.path
        if self.file_format == "parquet":
            exprs = ", ".join(f"CASE WHEN {c} = trunc({c}) AND abs({c}) < 1e15 "
                              f"THEN CAST(CAST({c} AS BIGINT) AS VARCHAR) ELSE CAST({c} AS VARCHAR) END AS {c}"
                              if i in self.floats else f"CAST({c} AS VARCHAR) AS {c}" for i, c in enumerate(cols))
            return f"(SELECT {exprs} FROM read_parquet($src) AS t({', '.join(cols)}))", {"src": str(read)}
        if self.file_format == "excel":
            return "read_parquet($src)", {"src": str(read)}
        types = types or {}
        spec = "{" + ", ".join(f"'{c}': '{types.get(i, 'VARCHAR')}'" for i, c in enumerate(cols)) + "}"
        sql = (f"read_csv($src, delim = $delim, quote = '\"', escape = '\"', header = true, "
               f"auto_detect = false, columns = {spec}, strict_mode = true, store_rejects = true, "
               f"rejects_table = '{rejects}', rejects_scan = '{rejects}_scans'"
               + (f", dateformat = '{date_format}'" if date_format else "") + ")")
        if self.nul:
            sql = f"(SELECT {', '.join(f'replace({c}, chr(0), {chr(39) * 2}) AS {c}' for c in cols)} FROM {sql})"
        return sql, {"src": str(read), "delim": self.delimiter}

    def rewrite(self) -> None:
        """Read the text through a UTF-8 copy with \\n line ends (:func:`_transcode`): the file
        is not UTF-8, or DuckDB's strict reader refused it as a whole (it mixes line ends)."""
        copy, self.encoding, notes = _transcode(self.path, self.name)
        self.keep(copy)
        self.notes = [n for n in self.notes if n["code"] != "nul_removed"] + notes + _nul_notes(self)

    @property
    def rewritable(self) -> bool:
        return self.file_format == "csv" and self.copy is None and self.table is None


def _read(con, source: Source, build) -> dict:
    """Run the statement ``build()`` gives (``(sql, params)``, reading ``source`` with the rejects
    table ``seg_rejects``) and return the reader's errors (:func:`_reader_errors`).

    Text DuckDB's strict reader cannot take as a whole (mixed line ends) or whose bytes are not
    UTF-8 is rewritten once (:meth:`Source.rewrite`) and read again.
    """
    _drop_rejects(con, "seg_rejects")
    try:
        con.execute(*build())
    except duckdb.InvalidInputException as exc:
        if not source.rewritable:
            raise _unreadable(source, exc) from exc
        source.rewrite()
        return _read(con, source, build)
    except duckdb.Error as exc:
        raise _unreadable(source, exc) from exc
    errors = _reader_errors(con, "seg_rejects")
    if "INVALID ENCODING" in errors and source.rewritable:
        source.rewrite()
        return _read(con, source, build)
    return errors


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _temp(suffix: str) -> Path:
    fd, name = tempfile.mkstemp(suffix=suffix, prefix="segcore-")
    os.close(fd)
    return Path(name)


def _kind(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if not head.strip():
        raise IngestError("empty", f"The file {path.name} is empty.", file=path.name)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        return "excel"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    control = sum(head.count(bytes([b])) for b in range(32) if b not in (9, 10, 12, 13))
    if control >= 4 and control * 100 > len(head):  # a stray NUL or two is text with a flaw
        raise IngestError(
            "binary",
            f"The file {path.name} is not a table: it is neither CSV/TSV text, Excel (.xlsx/.xls) "
            "nor Parquet.",
            file=path.name,
        )
    return "text"


def _chunks(path: Path, size: int = 1 << 22):
    """The file in pieces of about ``size`` bytes, each ending at a line end."""
    with open(path, "rb") as fh:
        rest = b""
        while chunk := fh.read(size):
            chunk = rest + chunk
            cut = chunk.rfind(b"\n") + 1
            if cut == 0:
                rest = chunk
                continue
            rest = chunk[cut:]
            yield chunk[:cut]
        if rest:
            yield rest


_UTF8_LINE = re.compile(r"^[^\n\udc80-\udcff]*[^\x00-\x7f\udc80-\udcff][^\n\udc80-\udcff]*$", re.M)
_BAD_LINE = re.compile(r"^[^\n]*[\udc80-\udcff]", re.M)


def _transcode(path: Path, name: str) -> tuple[Path, str, list[dict]]:
    """A UTF-8 copy of a text file with ``\\n`` line ends: ``(copy, encoding, notes)``.

    UTF-16 (with a byte order mark) is decoded as such. Otherwise the lines that are not valid
    UTF-8 are decoded with the first of GB18030 and Windows-1252 that decodes all of them (else
    Latin-1); when other lines hold valid UTF-8 text, those stay UTF-8 and a note says the file
    mixes encodings (each line is read in its own, rather than turning the UTF-8 ones into
    mojibake). 4 MB at a time; a line is only looked at on its own in pieces that mix encodings.
    ``\\r\\n`` becomes ``\\n`` everywhere (also inside quoted cells).
    """
    copy = _temp(".csv")
    with open(path, "rb") as fh:
        utf16 = fh.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    if utf16:
        decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
        with open(path, "rb") as src, open(copy, "wb") as dst:
            while chunk := src.read(1 << 22):
                dst.write(decoder.decode(chunk).replace("\r\n", "\n").encode("utf-8"))
            dst.write(decoder.decode(b"", final=True).encode("utf-8"))
        return copy, "utf-16", []
    candidates, bad, mixed_lines = ["gb18030", "cp1252"], 0, 0
    for chunk in _chunks(path):
        try:
            chunk.decode("utf-8")
            continue
        except UnicodeDecodeError:
            pass
        text = chunk.decode("utf-8", "surrogateescape")
        bad += len(_BAD_LINE.findall(text))
        utf8 = len(_UTF8_LINE.findall(text))
        mixed_lines += utf8
        pieces = [chunk] if not utf8 else [line for line in chunk.split(b"\n") if not _valid_utf8(line)]
        for piece in pieces:
            candidates = [c for c in candidates if _decodes(piece, c)]
    legacy = "utf-8" if not bad else candidates[0] if candidates else "latin-1"
    with open(copy, "wb") as dst:
        for chunk in _chunks(path):
            if _valid_utf8(chunk):
                pass
            elif mixed_lines:
                chunk = b"\n".join(line if _valid_utf8(line) else line.decode(legacy).encode("utf-8")
                                   for line in chunk.split(b"\n"))
            else:
                chunk = chunk.decode(legacy).encode("utf-8")
            dst.write(chunk.replace(b"\r\n", b"\n"))
    notes = [_note("mixed_encoding", f"{bad:,} lines of {name} are not UTF-8 and were read as {legacy}, "
                   "the other lines as UTF-8: check the names in those lines.",
                   lines=bad, encoding=legacy)] if mixed_lines else []
    return copy, legacy, notes


def _valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
        return True
    except UnicodeDecodeError:
        return False


def _nul_notes(source: Source) -> list[dict]:
    """Look for NUL bytes in the text (a memchr over the file): they are removed from every cell."""
    read = source.copy or source.path
    if read.stat().st_size == 0:
        return []
    with open(read, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        source.nul = mm.find(b"\x00") >= 0
        count = sum(chunk.count(b"\x00") for chunk in _chunks(read)) if source.nul else 0
    return [_note("nul_removed", f"{source.name} contains {count:,} NUL bytes; they were removed from "
                  "the values.", count=count)] if count else []


_DELIMITERS = (",", ";", "\t", "|")


def _dialect(text: str) -> tuple[str, list[str]]:
    """The delimiter and the header cells of CSV text (its first 64 KB).

    Each candidate delimiter splits the first 1,000 records (RFC 4180 quoting); the one whose
    header has two or more cells and that the most records agree with wins, ties to the earlier
    of comma, semicolon, tab and pipe. So one ``|`` inside an id does not make a comma file
    pipe-delimited. Data rows with more cells than the header (a trailing delimiter) widen it.
    """
    best = (0, ",", [text.split("\n", 1)[0].rstrip("\r")])
    for delim in _DELIMITERS:
        rows = [r for r in csv.reader(io.StringIO(text), delimiter=delim, quotechar='"', doublequote=True)
                if r][:1000]
        if not rows or len(rows[0]) < 2:
            continue
        width = max(len(rows[0]), _mode(len(r) for r in rows[1:]))
        score = sum(len(r) == width for r in rows)
        if score > best[0]:
            best = (score, delim, rows[0] + [""] * (width - len(rows[0])))
    return best[1], best[2]


def _mode(values) -> int:
    counts: dict[int, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return max(counts, key=lambda k: (counts[k], -k)) if counts else 0


def _header_names(cells: list[str]) -> list[str]:
    """Column names: the cells, ``column{n}`` for empty ones, ``name_1`` ... for repeated ones."""
    names, seen = [], set()
    for i, cell in enumerate(cells):
        name = cell.replace("\ufeff", "")
        name = name if name.strip() else f"column{i + 1}"
        base, n = name, 0
        while name in seen:
            n += 1
            name = f"{base}_{n}"
        seen.add(name)
        names.append(name)
    return names


def _open_text(path: Path, name: str, utf16: bool) -> Source:
    """A text source: UTF-8 read as it is, unless its first 64 KB say otherwise (then a UTF-8 copy)."""
    source = Source(path, name, "csv", [], encoding="utf-8")
    head = _head_text(path) if not utf16 else None
    if head is None or ("\r\n" in head and re.search("(?<!\r)\n", head)):  # mixed line ends
        source.rewrite()
        head = _head_text(source.copy)
    else:
        source.notes = _nul_notes(source)
    source.delimiter, cells = _dialect(head.lstrip("\ufeff"))
    source.headers = _header_names(cells)
    return source


def _head_text(path: Path) -> str | None:
    """The first 64 KB as UTF-8 text, up to the last whole line (None when it is not UTF-8)."""
    with open(path, "rb") as fh:
        head = fh.read(65536)
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    if len(head) == 65536:  # a cut-off last line would look like a ragged row
        text = text[: text.rfind("\n") + 1] or text
    return text


def _check_zip(path: Path) -> None:
    """Refuse a workbook whose parts unpack to too much (read from the zip directory, not unpacked)."""
    if not zipfile.is_zipfile(path):
        return
    with zipfile.ZipFile(path) as book:
        parts = book.infolist()
    unpacked = sum(p.file_size for p in parts)
    ratio = max((p.file_size / max(p.compress_size, 1) for p in parts), default=0)
    if unpacked > EXCEL_MAX_UNPACKED or (ratio > EXCEL_MAX_RATIO and unpacked > 1 << 20):
        raise IngestError(
            "too_big", f"The Excel file {path.name} was not read: it unpacks to {unpacked / 2**20:,.0f} MB "
            f"({ratio:,.0f} times its packed size), more than a sheet of orders needs; save the sheet "
            "as CSV and upload that.", file=path.name, unpacked_mb=round(unpacked / 2**20), ratio=round(ratio))


def excel_sheets(path) -> list[str]:
    """The sheet names of an Excel workbook, in order (the workbook's size is checked first)."""
    from python_calamine import CalamineWorkbook

    path = Path(path)
    _check_zip(path)
    try:
        return list(CalamineWorkbook.from_path(str(path)).sheet_names)
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise IngestError("unreadable", f"The Excel file {path.name} could not be opened ({exc}).",
                          file=path.name) from exc


def _open_excel(path: Path, name: str, sheet: str | None) -> Source:
    """Convert one sheet to a Parquet copy of text cells, in a worker process with a memory limit.

    The workbook's size is checked from its zip directory first (:func:`_check_zip`); the worker
    (``excel_worker.py``, run as a script) limits its own address space to ``EXCEL_MEMORY_MB``, so
    a workbook that still needs more ends the worker, not this process.
    """
    _check_zip(path)
    copy = _temp(".parquet")
    source = Source(path, name, "excel", [])
    source.keep(copy)
    memory = os.environ.get("SEGCORE_EXCEL_MEMORY_MB", str(EXCEL_MEMORY_MB))
    done = subprocess.run([sys.executable, str(_WORKER), str(path), sheet or "", str(copy), memory],
                          capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if done.returncode == 0 and lines else {"error": "memory"}
    if result.get("error") == "memory":
        raise IngestError("too_big", f"The Excel file {name} needs more than {int(memory):,} MB of memory "
                          "to read; save the sheet as CSV and upload that.", file=name, memory_mb=int(memory))
    if result.get("error") == "unreadable":
        raise IngestError("unreadable", f"The Excel file {name} could not be opened ({result['detail']}).",
                          file=name)
    if result.get("error") == "no_sheet":
        raise IngestError("no_sheet", f"The Excel file {name} has no sheet {sheet!r}; its sheets are "
                          + ", ".join(map(repr, result["sheets"])) + ".", file=name, sheet=sheet,
                          sheets=result["sheets"])
    if result.get("error"):
        raise IngestError("empty", f"The Excel file {name} has no sheet with a table in it.", file=name)
    source.headers, source.sheet, source.sheets = _header_names(result["headers"]), result["sheet"], result["sheets"]
    return source


def open_source(path, *, name: str | None = None, sheet: str | None = None) -> Source:
    """Find how to read a file: its format from its bytes, for text the encoding and delimiter,
    for Excel the sheet (``sheet``, or the first one holding a table). Reads the start of the file
    (and, for text that is not UTF-8 or holds NUL bytes, all of it), never the whole table.

    Raises :class:`IngestError` for an empty, binary, unreadable or too big file.
    """
    path = Path(path)
    name = name or path.name
    kind = _kind(path)
    if kind == "excel":
        return _open_excel(path, name, sheet)
    if kind == "parquet":
        try:
            schema = duckdb.connect().execute("DESCRIBE SELECT * FROM read_parquet($p)", {"p": str(path)}).fetchall()
        except duckdb.Error as exc:
            raise IngestError("unreadable", f"The Parquet file {name} could not be read.", file=name) from exc
        return Source(path, name, "parquet", _header_names([row[0] for row in schema]),
                      floats=tuple(i for i, row in enumerate(schema) if row[1] in ("DOUBLE", "FLOAT")))
    return _open_text(path, name, kind == "utf-16")


def _unreadable(source: Source, exc: duckdb.Error) -> IngestError:
    kind = {"csv": "a CSV/TSV table", "parquet": "Parquet", "excel": "an Excel sheet"}[source.file_format]
    return IngestError("unreadable", f"The file {source.name} could not be read as {kind} "
                       f"({str(exc).splitlines()[0]}).", file=source.name)


def _read_into(con, source: Source, table: str) -> int:
    """Copy the source's text into ``table`` (``c0..cN``); returns the number of malformed rows
    (CSV rows that do not split into the header's columns: left out)."""
    def build():
        sql, params = source.relation()
        return f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {sql}", params

    return len(_read(con, source, build).get("rows", ()))


def read_table(con: duckdb.DuckDBPyConnection, path, table: str = "raw") -> tuple[list[str], str, str | None]:
    """Read a CSV/TSV, Excel or Parquet file into ``table`` (all text, columns ``c0..cN``).

    ``table`` is one of the engine's own names (``raw``, ``raw_customers``, ``raw_interactions``).
    The format is recognised from the file's bytes, not its name (see :func:`open_source`); CSV
    rows that do not split into the header's columns are left out.

    Returns
    -------
    (headers, file_format, encoding) : the file's column names in order, ``"csv"``, ``"excel"`` or
    ``"parquet"``, and the text encoding (``None`` for binary formats).
    """
    source = open_source(path)
    _read_into(con, source, table)
    return source.headers, source.file_format, source.encoding


def _drop_rejects(con, name: str) -> None:
    con.execute(f"DROP TABLE IF EXISTS {name}; DROP TABLE IF EXISTS {name}_scans")


def _reader_errors(con, name: str) -> dict:
    """What the CSV reader refused: ``{error_type: count}`` plus ``rows``, the malformed rows as
    ``[(row number, line text)]`` in file order (``{}`` when nothing was refused or no CSV was read)."""
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = $t", {"t": name}).fetchone()[0]:
        return {}
    errors = dict(con.execute(f"SELECT error_type, count(DISTINCT line) FROM {name} GROUP BY ALL").fetchall())
    if errors:
        errors["rows"] = con.execute(f"""SELECT line - 1, any_value(csv_line) FROM {name}
                                         WHERE error_type NOT IN ('CAST', 'INVALID ENCODING')
                                         GROUP BY line ORDER BY line""").fetchall()
    return errors


# --------------------------------------------------------------------------------------------
# The plan: date order, the dominant date format, typed columns (from the first SAMPLE_ROWS values)
# --------------------------------------------------------------------------------------------

# Strptime formats a date column may have as a whole (its dominant format); ``{d}`` and ``{m}``
# become the day and month in the file's order. ISO dates are cast, not parsed.
_SHAPE = "translate(trim({v}), '012345678', '999999999')"  # a date's shape: 31/01/2024 -> 99/99/9999
_FAST_FORMATS = ["%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日"] + [
    f"{{a}}{sep}{{b}}{sep}{year}{time}" for sep in "/.-" for year in ("%Y", "%y")
    for time in ("", " %H:%M", " %H:%M:%S")]
_ORDER = {"dmy": ("%d", "%m"), "mdy": ("%m", "%d")}
_AMOUNT_TEXT = {  # typed amount -> its text, as files write numbers (tried on the sample)
    "shortest": "CAST({x} AS VARCHAR)",
    "general": "CASE WHEN {x} = trunc({x}) AND abs({x}) < 1e15 THEN CAST(CAST({x} AS BIGINT) AS VARCHAR) "
               "ELSE CAST({x} AS VARCHAR) END",
}


@dataclass(frozen=True)
class _Plan:
    """How the pass reads the date and amount columns."""

    order: str | None             # "dmy", "mdy" or None (no a/b/yyyy dates seen)
    ambiguous: bool               # the order is the default: no value told
    fast: str | None              # the dominant date format (None: ISO, cast)
    typed: dict[int, str]         # typed columns: {index: "DATE" | "DOUBLE"}
    amount_text: dict[int, str]   # typed amount column -> SQL template for its text ({x})

    @property
    def short_long(self) -> tuple[str, str]:
        a, b = _ORDER[self.order or "dmy"]
        return f"{a}/{b}/%y", f"{a}/{b}/%Y"

    def text(self) -> _Plan:
        return replace(self, typed={}, amount_text={})


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


def _plan(con, source: Source, col: dict[str, int], choice: str | None) -> _Plan:
    """Decide the date order, the dominant date format and the typed columns from a sample."""
    d = col["order_date"]
    amounts = _amount_columns(col)

    def build():
        sql, params = source.relation()
        return (f"CREATE OR REPLACE TEMP TABLE seg_sample AS SELECT c{d} AS v, {_SHAPE.format(v=f'c{d}')} AS shape"
                + "".join(f", c{i} AS a{i}" for i in amounts) + f" FROM {sql} LIMIT {SAMPLE_ROWS}", params)

    _read(con, source, build)  # the sample's errors are the pass's to report
    order, ambiguous = ((choice, False) if choice in _ORDER else
                        _order_of(con.execute(_EVIDENCE % "SELECT v FROM seg_sample").fetchone()))
    a, b = _ORDER[order or "dmy"]
    formats = [f.format(a=a, b=b) for f in _FAST_FORMATS]
    # the dominant shape (digits as 9): the format that reads every sampled value of that shape
    shape = con.execute("SELECT shape FROM seg_sample WHERE NOT seg_blank(v) "
                        "GROUP BY shape ORDER BY count(*) DESC, shape LIMIT 1").fetchone()
    fast, date_typed = None, False
    if shape:
        probe = "(SELECT v FROM seg_sample WHERE shape = $shape LIMIT 1000)"
        if con.execute(f"SELECT bool_and(seg_iso_date(trim(v)) IS NOT NULL) FROM {probe}",
                       {"shape": shape[0]}).fetchone()[0]:
            fmt = "%Y-%m-%d"
        else:
            fmt = next((f for f in formats if con.execute(
                f"SELECT bool_and(seg_formatted_date(trim(v), $f) IS NOT NULL) FROM {probe}",
                {"shape": shape[0], "f": f}).fetchone()[0]), None)
            fast = fmt
        # typed: every sampled date is a date in this format, written as strftime writes it back
        date_typed = fmt is not None and "%H" not in fmt and con.execute(
            "SELECT bool_and(seg_blank(v) OR strftime(CAST(try_strptime(v, $f) AS DATE), $f) = v) "
            "FROM seg_sample", {"f": fmt}).fetchone()[0]
    typed, amount_text = {}, {}
    if date_typed and not source.nul and source.file_format == "csv" and not source.table:
        for i in amounts:
            text = _amount_text(con, f"a{i}")
            if text is None:
                break
            amount_text[i] = text
        else:
            typed = {d: "DATE", **{i: "DOUBLE" for i in amounts}}
    if not typed:
        amount_text = {}
    return _Plan(order, ambiguous, fast, typed, amount_text)


def _amount_text(con, column: str) -> str | None:
    """How a typed amount column is written back as the file writes it, if every sampled value is a
    plain number DuckDB reads and one way of writing reproduces them all (else None: read as text)."""
    fixed = con.execute(f"""SELECT min(strlen(split_part({column}, '.', 2))), max(strlen(split_part({column}, '.', 2)))
                            FROM seg_sample WHERE {column} IS NOT NULL""").fetchone()
    ways = dict(_AMOUNT_TEXT)
    if fixed[0] is not None and fixed[0] == fixed[1] and fixed[0] > 0:
        ways["fixed"] = f"printf('%.{int(fixed[0])}f', {{x}})"
    for way in ways.values():
        x = f"TRY_CAST({column} AS DOUBLE)"
        if con.execute(f"""SELECT bool_and({column} IS NULL OR ({x} IS NOT NULL AND NOT contains({column}, '_')
                                         AND {way.format(x=x)} = {column})) FROM seg_sample""").fetchone()[0]:
            return way
    return None


# --------------------------------------------------------------------------------------------
# The pass
# --------------------------------------------------------------------------------------------

def _date_sql(cell: str, plan: _Plan) -> str:
    """SQL: the date in ``cell`` (text): the dominant format first, then every accepted form."""
    fast = _call("iso date", {"v": cell}) if plan.fast is None else \
        _call("formatted date", {"v": cell, "fmt": "$fast"})
    return f"COALESCE({fast}, CASE WHEN {cell} IS NOT NULL THEN {_call('any date', {'v': cell, 'short': '$short', 'long': '$long'})} END)"


def _pass(con, source: Source, col: dict[str, int], plan: _Plan, drop_duplicates: bool,
          limits: Limits) -> dict:
    """The one pass: the file into ``parsed`` (``_row`` still empty); returns the reader's errors."""
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
    texts = ", ".join(f"{_call('text', {'v': f'c{col[f]}'})} AS {f}" if f in col
                      else f"CAST(NULL AS VARCHAR) AS {f}" for f in TEXT_FIELDS)
    args = {"customer_id": "customer_id", "order_date": "order_date", "date_blank": "date_blank",
            "amount": "amount", "amount_blank": "amount_blank", "is_copy": "is_copy",
            "first_date": "$first_date", "last_date": "$last_date", "max_amount": "$max_amount"}
    checks = [(name, _call(name, args)) for name, rule in RULES.items()
              if rule.reason and rule.duckdb is not None
              and (amount_cols or "amount" not in rule.params) and (drop_duplicates or name != "duplicate")]
    reason = "CASE " + " ".join(f"WHEN {sql} THEN '{name}'" for name, sql in checks) + " END"
    as_text = [f"strftime(c{i}, '{fmt}')" if i == d and i in plan.typed
               else plan.amount_text[i].format(x=f"c{i}") if i in plan.typed else f"c{i}"
               for i in range(width)]

    def build():
        relation, params = source.relation(plan.typed, fmt if d in plan.typed and plan.fast else None)
        return f"""
        CREATE OR REPLACE TABLE parsed AS
        WITH v AS (
            SELECT hash({', '.join(cells)}) AS _hash,
                   {_call('id', {'v': f"c{col['customer_id']}"})} AS customer_id,
                   {order_date} AS order_date, {date_blank} AS date_blank,
                   {amount} AS amount, {amount_blank} AS amount_blank, {texts},
                   {f"row_number() OVER (PARTITION BY {', '.join(cells)} ORDER BY _pos) > 1"
                    if drop_duplicates else "false"} AS is_copy,
                   {"_pos, " if drop_duplicates else ""}{', '.join(cells)}
            FROM (SELECT {"row_number() OVER () AS _pos, " if drop_duplicates else ""}* FROM {relation})),
        r AS (SELECT *, {reason} AS reason FROM v)
        SELECT {"CASE WHEN reason IS NOT NULL THEN _pos END" if drop_duplicates else "CAST(NULL AS BIGINT)"} AS _row,
               _hash, customer_id, order_date, amount, {', '.join(TEXT_FIELDS)},
               reason, CASE WHEN reason IS NOT NULL THEN [{', '.join(as_text)}] END AS _cells
        FROM r""", {**params, "first_date": limits.first_date, "last_date": limits.last_date,
                    **({"max_amount": limits.max_amount} if amount_cols else {}),
                    **({"fast": plan.fast} if plan.fast and d not in plan.typed else {}),
                    **({"short": plan.short_long[0], "long": plan.short_long[1]} if d not in plan.typed else {})}

    return _read(con, source, build)


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
    _drop_rejects(con, "seg_order_rejects")
    return _order_of(evidence)


def _place_rejected(con, malformed: list[tuple[int, str]]) -> None:
    """Give the rejected rows their row numbers and add the malformed rows the reader left out.

    A row's position among the rows the reader gave is ``_row`` when the pass knew it (with
    drop_duplicates, whose window does not keep the file order), else its place in ``parsed``
    (``rowid + 1``). Its number in the file is its position plus the malformed rows before it (malformed row ``k`` in file order, at row number ``m_k``,
    comes before the rows whose position is at least ``m_k - k + 1``).
    """
    con.execute("CREATE OR REPLACE TEMP TABLE seg_malformed (row BIGINT, line VARCHAR, after BIGINT)")
    if malformed:
        con.executemany("INSERT INTO seg_malformed VALUES ($1, $2, $3)",
                        [(row, line, row - k) for k, (row, line) in enumerate(malformed)])
    con.execute("""UPDATE parsed SET _row = COALESCE(_row, rowid + 1) + (
                       SELECT count(*) FROM seg_malformed m WHERE m.after <= COALESCE(parsed._row, parsed.rowid + 1))
                   WHERE reason IS NOT NULL""")
    con.execute("""INSERT INTO parsed (_row, _hash, reason, _cells)
                   SELECT row, hash(line), 'malformed row', [line] FROM seg_malformed ORDER BY row""")


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
    dict with ``amount_source``, ``date_order``, ``date_order_ambiguous``.
    """
    limits = limits or Limits()
    col = {f: source.headers.index(h) for f, h in mapping.items()}
    con.execute(_MACROS)
    plan = _plan(con, source, col, date_order)
    for _ in range(3):  # each repeat changes the plan for good: typed -> text, the date order
        errors = _pass(con, source, col, plan, drop_duplicates, limits)
        if plan.typed and ("CAST" in errors or con.execute(
                "SELECT count(*) FROM parsed WHERE order_date < DATE '0100-01-01'").fetchone()[0]):
            plan = plan.text()  # a value the typed reader refused, or a two-digit year read as %Y
            continue
        if date_order is None and plan.order is not None:
            order, ambiguous = _whole_column_order(con, source, col, plan)
            if order != plan.order:
                plan = replace(_plan(con, source, col, order), ambiguous=ambiguous)
                continue
            plan = replace(plan, ambiguous=ambiguous)
        break
    _place_rejected(con, errors.get("rows", []))
    lines_view(con)
    amount_source = ("amount" if "amount" in col else "quantity x unit_price" if _amount_columns(col)
                     else "none")
    return {"amount_source": amount_source, "date_order": plan.order, "date_order_ambiguous": plan.ambiguous,
            "plan": plan}


def lines_view(con) -> None:
    """(Re)create the view ``lines``: the used rows of ``parsed``, with ``_line`` their position."""
    con.execute("CREATE OR REPLACE VIEW lines AS SELECT rowid AS _line, * FROM parsed WHERE reason IS NULL")


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
    # without amounts the file is read count-only; named as missing only beside a missing id or date
    if need and "amount" not in mapping and not {"quantity", "unit_price"} <= set(mapping):
        need.append("amount")
    if need:
        names = {"customer_id": "customer id", "order_date": "order date",
                 "amount": "amount (or quantity and unit price)"}
        raise IngestError(
            "missing_field",
            f"No column for the {' and the '.join(names[f] for f in need)} was found in {file_name}; "
            "its columns are " + ", ".join(map(repr, headers)) + ". Map them by hand.",
            fields=need, columns=headers)


def _duplicate_rows(con, source: Source, plan: _Plan | None) -> int:
    """Rows equal in every cell to an earlier row (rejected rows included).

    The rows are grouped by their stored 64-bit hash (8 bytes a row in the hash table, however wide
    the rows). Only when some hash is shared are the cells compared: malformed rows by their text,
    the others by reading the file again and grouping, by all their cells, only the rows whose hash
    is shared, so the count stays exact when two different rows have the same hash.
    """
    con.execute("CREATE OR REPLACE TEMP TABLE seg_shared AS "
                "SELECT _hash FROM parsed GROUP BY _hash HAVING count(*) > 1")
    if not con.execute("SELECT count(*) FROM seg_shared").fetchone()[0]:
        return 0
    copies = con.execute("""SELECT COALESCE(sum(n - 1), 0) FROM (
                                SELECT count(*) AS n FROM parsed SEMI JOIN seg_shared USING (_hash)
                                WHERE reason = 'malformed row' GROUP BY _cells)""").fetchone()[0]
    if con.execute("SELECT count(*) FROM parsed SEMI JOIN seg_shared USING (_hash) "
                   "WHERE reason IS DISTINCT FROM 'malformed row'").fetchone()[0]:
        cells = ", ".join(f"c{i}" for i in range(len(source.headers)))
        plan = plan or _Plan(None, False, None, {}, {})
        relation, params = source.relation(plan.typed, plan.fast if plan.typed and plan.fast else None,
                                           rejects="seg_dup_rejects")
        copies += con.execute(f"""
            SELECT COALESCE(sum(n - 1), 0) FROM (
                SELECT count(*) AS n FROM {relation}
                WHERE hash({cells}) IN (SELECT _hash FROM seg_shared) GROUP BY {cells})""", params).fetchone()[0]
        _drop_rejects(con, "seg_dup_rejects")
    return int(copies)


def _report(con, mapping, info, drop_duplicates, source: Source) -> IngestReport:
    # returns are added in whole steps, as the metrics add amounts (the same file, the same sum)
    rows_read, rows_used, ret_n, ret_sum, dmin, dmax, customers = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE reason IS NULL),
               count(*) FILTER (WHERE reason IS NULL AND amount < 0),
               COALESCE(sum(round(amount * $steps)) FILTER (WHERE reason IS NULL AND amount < 0), 0)
                   / $steps,
               min(order_date) FILTER (WHERE reason IS NULL), max(order_date) FILTER (WHERE reason IS NULL),
               count(DISTINCT customer_id) FILTER (WHERE reason IS NULL)
        FROM parsed""", {"steps": AMOUNT_STEPS}).fetchall()[0]
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
        date_order_ambiguous=info["date_order_ambiguous"])


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

    def has_table(self, name: str) -> bool:
        """True when the connection holds the engine table ``name`` (``customers``, ``interactions``)."""
        return bool(self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = $t", {"t": name}).fetchone()[0])

    def count_duplicates(self) -> int:
        """Count the exact duplicate rows (once) into ``report.duplicate_rows``; returns the count."""
        if self.report.duplicate_rows is None:
            self.report.duplicate_rows = _duplicate_rows(self.con, self.source, self.plan)
        return self.report.duplicate_rows

    def rejected_rows(self):
        """The rejected rows as a DataFrame: ``row``, the file's own columns and ``reason``."""
        cols = ", ".join(f"_cells[{i + 1}] AS c{i}" for i in range(len(self.headers)))
        df = self.con.execute(f"SELECT _row AS row, {cols}, reason FROM parsed "
                              "WHERE reason IS NOT NULL ORDER BY _row").df()
        df.columns = ["row", *self.headers, "reason"]
        return df


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
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
    headers, file_name = source.headers, source.name
    if len(headers) < 2:
        raise IngestError("no_columns", f"{file_name} has only one column ({headers[0]!r}): "
                          "the delimiter or the format was not recognised.",
                          file=file_name, columns=headers)
    full = guess_mapping(headers)
    for f, h in (mapping or {}).items():
        full = {k: v for k, v in full.items() if v != h}  # a column serves one field
        if h:
            full[f] = h
        else:
            full.pop(f, None)
    _check_mapping(headers, full, file_name)
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
    malformed = _read_into(ds.con, source, table)
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
    plan = _Plan(ds.report.date_order, False, None, {}, {})
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
