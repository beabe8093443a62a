"""Ingest: any orders file in, a typed table of order lines and an honest report out.

Reading happens once per file (:func:`read_table`): the file becomes the DuckDB table ``raw`` with
every column as text, named ``c0, c1, ...`` (the file's own headers are kept in Python, so no header
text ever reaches SQL). Parsing (:func:`parse_orders`) turns ``raw`` into ``parsed`` under a column
mapping; changing the mapping re-parses without re-reading the file.

Tables in the connection
------------------------
raw     : ``c0 .. cN`` VARCHAR, one row per data row of the file, in file order (``rowid`` + 1 is
          the row number).
parsed  : ``_row`` BIGINT, ``customer_id`` VARCHAR, ``order_date`` DATE, ``amount`` DOUBLE,
          ``order_id``, ``product``, ``category``, ``region``, ``city``, ``channel`` VARCHAR,
          ``reason`` VARCHAR (NULL for used rows, else why the row was rejected).
lines   : view of the used rows of ``parsed`` (``reason IS NULL``).
"""

from __future__ import annotations

import codecs
import os
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from .headers import CANONICAL_FIELDS, CUSTOMER_FIELDS, INTERACTION_FIELDS, guess_mapping
from .metrics import AMOUNT_STEPS

__all__ = ["IngestError", "IngestReport", "Dataset", "dataset_connection", "read_table", "parse_orders",
           "load_orders", "parse_loaded", "load_customers", "load_interactions"]

TEXT_FIELDS = ("order_id", "product", "category", "region", "city", "channel")

#: Rejection reasons, in the order they are checked (a row gets the first that applies).
REASONS = (
    "missing customer id",
    "missing date",
    "unparseable date",
    "missing amount",
    "unparseable amount",
    "duplicate",
)

# Date formats tried on the date part of a value after DuckDB's own ISO cast failed.
_DATE_FORMATS_ANY = ["%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y-%m-%d"]
_DATE_FORMATS_ORDERED = {
    "dmy": ["%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y", "%d.%m.%y", "%d-%m-%y"],
    "mdy": ["%m/%d/%Y", "%m.%d.%Y", "%m-%d-%Y", "%m/%d/%y", "%m.%d.%y", "%m-%d-%y"],
}

_MISSING_TEXT = tuple({v for word in ("", "nan", "null", "none", "n/a", "#n/a", "na", "-", "--")
                       for v in (word, word.upper(), word.capitalize())})

# SQL macros: value parsing lives in SQL so it runs vectorised inside DuckDB. Each fast path (a plain
# number, an ISO date) comes first in a COALESCE, and everything slower sits inside a CASE: DuckDB
# evaluates a CASE branch only for the rows that reach it and never hoists common subexpressions out
# of a CASE, so the regular expressions only ever see the values the fast path could not read. The
# missing-value words are a list searched with list_position, not an IN list (nor list_contains,
# which DuckDB turns into one): a long IN list becomes a join that runs on every row. trim copies
# every value, so seg_trim only trims the values it could change: trim removes Unicode space
# separators, and in ASCII text the only one is the space, so a value that starts at or above '!',
# does not end in a space and has no multi-byte character is already trimmed.
_MACROS = r"""
CREATE OR REPLACE MACRO seg_trim(v) AS
    CASE WHEN v < '!' OR ends_with(v, ' ') OR strlen(v) <> length(v) THEN trim(v) ELSE v END;
CREATE OR REPLACE MACRO seg_missing(t) AS
    strlen(t) <= %(longest)d AND list_position(%(missing)s, t) IS NOT NULL;
CREATE OR REPLACE MACRO seg_blank(v) AS v IS NULL OR seg_missing(seg_trim(v));
CREATE OR REPLACE MACRO seg_id(v) AS CASE WHEN seg_missing(seg_trim(v)) THEN NULL ELSE seg_trim(v) END;
CREATE OR REPLACE MACRO seg_text(v) AS NULLIF(seg_trim(v), '');
CREATE OR REPLACE MACRO seg_decimal(d) AS
    CASE WHEN regexp_full_match(d, '\d{1,3}(\.\d{3})+(,\d+)?|\d+,\d{1,2}')
         THEN replace(replace(d, '.', ''), ',', '.') ELSE replace(d, ',', '') END;
CREATE OR REPLACE MACRO seg_number(v) AS
    CASE WHEN regexp_matches(v, '^\s*[(-]|-\s*$') THEN -1 ELSE 1 END
    * TRY_CAST(seg_decimal(regexp_replace(v, '[\s¥￥$€£元円()+-]|RMB|CNY|USD|EUR|GBP|HKD', '', 'gi'))
               AS DOUBLE);
CREATE OR REPLACE MACRO seg_amount(v) AS
    COALESCE(TRY_CAST(v AS DOUBLE), CASE WHEN v IS NOT NULL THEN seg_number(v) END);
CREATE OR REPLACE MACRO seg_date(v, formats) AS COALESCE(
    TRY_CAST(v AS DATE),
    CASE WHEN v IS NOT NULL THEN COALESCE(
        TRY_CAST(trim(v) AS DATE),
        CAST(try_strptime(regexp_extract(trim(v), '^[^\sT]+'), formats) AS DATE),
        CASE WHEN regexp_full_match(trim(v), '[2-6]\d{4}(\.\d+)?')
             THEN DATE '1899-12-30' + CAST(floor(CAST(trim(v) AS DOUBLE)) AS INTEGER) END) END);
""" % {"missing": "[" + ", ".join(f"'{m}'" for m in sorted(_MISSING_TEXT)) + "]",
       "longest": max(map(len, _MISSING_TEXT))}


class IngestError(ValueError):
    """A file that cannot be used at all. ``str(err)`` is one plain sentence for the user.

    ``code`` names the problem (``empty``, ``binary``, ``unreadable``, ``no_columns``,
    ``missing_field``, ``all_rejected``) and ``params`` holds the details, so a UI can say the same
    in another language.
    """

    def __init__(self, code: str, message: str, **params):
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass
class IngestReport:
    """What happened to every input row. ``rows_used + sum(rejected.values()) == rows_read``."""

    rows_read: int
    rows_used: int
    rejected: dict[str, int]
    returns_count: int
    returns_sum: float
    duplicate_rows: int
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
    notes: list[str] = field(default_factory=list)

    @property
    def rows_rejected(self) -> int:
        return sum(self.rejected.values())

    def lines(self) -> list[str]:
        """The report as plain English lines (used by the command line)."""
        out = [
            f"File: {self.file_format}" + (f", {self.encoding}" if self.encoding else ""),
            "Columns: " + ", ".join(f"{k} <- {v!r}" for k, v in self.mapping.items()),
            f"Amount: {self.amount_source}",
            f"Rows read: {self.rows_read:,}",
            f"Rows used: {self.rows_used:,}",
            f"Rows rejected: {self.rows_rejected:,}",
        ]
        out += [f"  - {reason}: {n:,}" for reason, n in self.rejected.items()]
        out += [
            f"Returns (negative amounts): {self.returns_count:,} rows, total {self.returns_sum:,.2f}",
            f"Exact duplicate rows: {self.duplicate_rows:,}"
            + (" (dropped)" if self.duplicates_dropped else " (kept)"),
            f"Date range: {self.date_min} to {self.date_max}",
            f"Customers: {self.customers:,}",
        ]
        if self.date_order:
            out.append(
                f"Dates read {'day-first' if self.date_order == 'dmy' else 'month-first'}"
                + (" (ambiguous: no day above 12 seen; choose the other order if wrong)"
                   if self.date_order_ambiguous else "")
            )
        return out + self.notes


@dataclass
class Dataset:
    """An ingested orders file: the DuckDB connection holding ``raw``/``parsed``/``lines``."""

    con: duckdb.DuckDBPyConnection
    headers: list[str]
    report: IngestReport

    @property
    def mapping(self) -> dict[str, str]:
        return self.report.mapping

    def has(self, field_name: str) -> bool:
        """True when the canonical field is mapped to a column."""
        return field_name in self.report.mapping or (
            field_name == "amount" and self.report.amount_source != "amount")

    customer_attributes: list[str] = field(default_factory=list)
    side_reports: dict[str, dict] = field(default_factory=dict)

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

    def rejected_rows(self):
        """The rejected rows as a DataFrame: the file's own columns plus ``row`` and ``reason``."""
        cols = ", ".join(f"c{i}" for i in range(len(self.headers)))
        df = self.con.execute(
            f"SELECT p._row AS row, {cols}, p.reason FROM parsed p "
            "JOIN (SELECT rowid + 1 AS _row, * FROM raw) r USING (_row) "
            "WHERE p.reason IS NOT NULL ORDER BY p._row"
        ).df()
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


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------

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
    if b"\x00" in head:
        raise IngestError(
            "binary",
            f"The file {path.name} is not a table: it is neither CSV/TSV text, Excel (.xlsx/.xls) "
            "nor Parquet.",
            file=path.name,
        )
    return "text"


def _encoding(path: Path) -> str:
    """The first of UTF-8, GB18030 and Windows-1252 that decodes the whole file (else Latin-1)."""
    for enc in ("utf-8", "gb18030", "cp1252"):
        decoder = codecs.getincrementaldecoder(enc)()
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 22):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            return enc
        except UnicodeDecodeError:
            continue
    return "latin-1"


def _transcode(path: Path, enc: str) -> Path:
    """Stream ``path`` from ``enc`` into a temporary UTF-8 file (4 MB at a time)."""
    fd, tmp = tempfile.mkstemp(suffix=".csv", prefix="segcore-")
    decoder = codecs.getincrementaldecoder(enc)(errors="strict")
    with open(path, "rb") as src, os.fdopen(fd, "wb") as dst:
        while chunk := src.read(1 << 22):
            dst.write(decoder.decode(chunk).encode("utf-8"))
        dst.write(decoder.decode(b"", final=True).encode("utf-8"))
    return Path(tmp)


def _cell_text(value) -> str | None:
    """Excel cell -> text as a person would read it (12346.0 -> '12346', dates as ISO)."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return str(value)


def _read_excel(con, path: Path, table: str) -> list[str]:
    import pyarrow as pa
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise IngestError("unreadable", f"The Excel file {path.name} could not be opened ({exc}).",
                          file=path.name) from exc
    for name in book.sheet_names:
        rows = [r for r in book.get_sheet_by_name(name).to_python(skip_empty_area=True)
                if any(v not in (None, "") for v in r)]
        if len(rows) >= 1 and sum(v not in (None, "") for v in rows[0]) >= 2:
            break
    else:
        raise IngestError("empty", f"The Excel file {path.name} has no sheet with a table in it.",
                          file=path.name)
    headers = [_cell_text(h) or f"column{i + 1}" for i, h in enumerate(rows[0])]
    width = len(headers)
    columns = [[] for _ in range(width)]
    for row in rows[1:]:
        for i in range(width):
            columns[i].append(_cell_text(row[i]) if i < len(row) else None)
    cells = pa.table({f"c{i}": pa.array(col, pa.string()) for i, col in enumerate(columns)})
    con.register("_excel", cells)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _excel")
    con.unregister("_excel")
    return headers


def _read_parquet(con, path: Path, table: str) -> list[str]:
    schema = con.execute("DESCRIBE SELECT * FROM read_parquet($p)", {"p": str(path)}).fetchall()
    headers = [row[0] for row in schema]
    exprs = []
    for i, (_, typ, *_rest) in enumerate(schema):
        col = f"c{i}"
        if typ in ("DOUBLE", "FLOAT"):  # an id or a date written as a float: 12346.0 -> '12346'
            exprs.append(f"CASE WHEN {col} = floor({col}) AND abs({col}) < 1e15 "
                         f"THEN CAST(CAST({col} AS BIGINT) AS VARCHAR) ELSE CAST({col} AS VARCHAR) END AS {col}")
        else:
            exprs.append(f"CAST({col} AS VARCHAR) AS {col}")
    names = ", ".join(f"c{i}" for i in range(len(headers)))
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {', '.join(exprs)} "
                f"FROM read_parquet($p) AS t({names})", {"p": str(path)})
    return headers


def _read_csv(con, source: Path, table: str) -> list[str]:
    """Read a UTF-8 CSV/TSV into ``table``; raises ``duckdb.Error`` when DuckDB cannot read it."""
    opts = "all_varchar = true, header = true, null_padding = true, strict_mode = false"
    schema = con.execute(f"DESCRIBE SELECT * FROM read_csv($p, {opts})", {"p": str(source)}).fetchall()
    headers = [row[0] for row in schema]
    names = ", ".join(f"c{i}" for i in range(len(headers)))
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_csv($p, {opts}) AS t({names})",
                {"p": str(source)})
    return headers


def _unreadable(path: Path, exc: duckdb.Error) -> IngestError:
    return IngestError("unreadable", f"The file {path.name} could not be read as a CSV/TSV table "
                       f"({str(exc).splitlines()[0]}).", file=path.name)


def _read_text(con, path: Path, utf16: bool, table: str) -> tuple[list[str], str]:
    """Read a text table into ``table``: ``(headers, encoding)``.

    A file without a UTF-16 byte order mark is read as UTF-8 first, straight from disk: DuckDB's
    reader checks every byte and refuses invalid UTF-8, so a UTF-8 file costs no separate pass.
    Only when that read fails is the encoding looked for (:func:`_encoding`) and the file
    transcoded to a temporary UTF-8 copy.
    """
    enc = "utf-16" if utf16 else "utf-8"
    if enc == "utf-8":
        try:
            return _read_csv(con, path, table), enc
        except duckdb.Error as exc:
            enc = _encoding(path)
            if enc == "utf-8":  # the text is valid UTF-8: the table itself is what DuckDB refused
                raise _unreadable(path, exc) from exc
    source = _transcode(path, enc)
    try:
        return _read_csv(con, source, table), enc
    except duckdb.Error as exc:
        raise _unreadable(path, exc) from exc
    finally:
        os.unlink(source)


def read_table(con: duckdb.DuckDBPyConnection, path,
               table: str = "raw") -> tuple[list[str], str, str | None]:
    """Read a CSV/TSV, Excel or Parquet file into ``table`` (all text, columns ``c0..cN``).

    ``table`` is one of the engine's own names (``raw``, ``raw_customers``, ``raw_interactions``).

    The format is recognised from the file's bytes, not its name. Text files may be UTF-8 (with or
    without BOM), UTF-16, GBK/GB18030 or Windows-1252, delimited by comma, semicolon, tab or pipe;
    non-UTF-8 text is transcoded in 4 MB chunks to a temporary file first.

    Returns
    -------
    (headers, file_format, encoding) : the file's column names in order, ``"csv"``, ``"excel"`` or
    ``"parquet"``, and the text encoding (``None`` for binary formats).
    """
    path = Path(path)
    kind = _kind(path)
    if kind == "excel":
        return _read_excel(con, path, table), "excel", None
    if kind == "parquet":
        try:
            return _read_parquet(con, path, table), "parquet", None
        except duckdb.Error as exc:
            raise IngestError("unreadable", f"The Parquet file {path.name} could not be read.",
                              file=path.name) from exc
    headers, enc = _read_text(con, path, kind == "utf-16", table)
    return headers, "csv", enc


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------

def _date_order(con, col: str, choice: str | None) -> tuple[str | None, bool]:
    """Day-first or month-first for ``a/b/yyyy`` values; ``(order, ambiguous)``.

    Only values DuckDB cannot read as ISO dates are looked at (the plain cast, which skips spaces
    and tabs around the value, filters first; ``trim`` runs only on what it left).
    """
    if choice in ("dmy", "mdy"):
        return choice, False
    first_big, second_big, slashed = con.execute(f"""
        WITH m AS (SELECT regexp_extract(trim({col}), '^(\\d{{1,2}})[/.-](\\d{{1,2}})[/.-]\\d{{2,4}}\\b',
                                         ['a', 'b']) AS p
                   FROM raw
                   WHERE TRY_CAST({col} AS DATE) IS NULL AND TRY_CAST(trim({col}) AS DATE) IS NULL)
        SELECT count(*) FILTER (WHERE TRY_CAST(p.a AS INT) > 12),
               count(*) FILTER (WHERE TRY_CAST(p.b AS INT) > 12),
               count(*) FILTER (WHERE p.a <> '')
        FROM m""").fetchall()[0]
    if not slashed:
        return None, False
    if first_big or second_big:
        return ("dmy" if first_big >= second_big else "mdy"), False
    return "dmy", True


def parse_orders(con: duckdb.DuckDBPyConnection, headers: list[str], mapping: dict[str, str],
                 *, date_order: str | None = None, drop_duplicates: bool = False) -> dict:
    """Parse ``raw`` into ``parsed`` (typed columns + rejection reason) and the view ``lines``.

    Parameters
    ----------
    headers : the file's column names (``raw.c{i}`` is ``headers[i]``).
    mapping : ``{canonical_field: header}``; needs ``customer_id``, ``order_date`` and either
        ``amount`` or both ``quantity`` and ``unit_price`` (then amount = quantity x unit_price).
    date_order : ``"dmy"``, ``"mdy"`` or None (decide from the data; day-first when no value tells).
    drop_duplicates : reject exact duplicate rows (all columns equal) after their first occurrence.

    Returns
    -------
    dict with ``amount_source``, ``date_order``, ``date_order_ambiguous``.
    """
    col = {f: f"c{headers.index(h)}" for f, h in mapping.items()}
    if "amount" in col:
        amount = f"seg_amount({col['amount']})"
        amount_cols = [f"{col['amount']} AS amount_text"]
        amount_blank = "seg_blank(amount_text)"
        amount_source = "amount"
    else:
        q, p = col["quantity"], col["unit_price"]
        amount = f"seg_amount({q}) * seg_amount({p})"
        amount_cols = [f"{q} AS quantity_text", f"{p} AS price_text"]
        amount_blank = "(seg_blank(quantity_text) OR seg_blank(price_text))"
        amount_source = "quantity x unit_price"
    order, ambiguous = _date_order(con, col["order_date"], date_order)
    formats = _DATE_FORMATS_ANY + _DATE_FORMATS_ORDERED[order or "dmy"]
    texts = ", ".join(
        f"seg_text({col[f]}) AS {f}" if f in col
        else f"CAST(NULL AS VARCHAR) AS {f}"
        for f in TEXT_FIELDS
    )
    all_cols = ", ".join(f"c{i}" for i in range(len(headers)))
    duplicate = (f"row_number() OVER (PARTITION BY {all_cols} ORDER BY rowid) > 1"
                 if drop_duplicates else "false")
    cid, dte = col["customer_id"], col["order_date"]
    con.execute(_MACROS)
    con.execute(f"""
        CREATE OR REPLACE TABLE parsed AS
        WITH v AS (
            SELECT rowid + 1 AS _row,
                   seg_id({cid}) AS customer_id,
                   seg_date({dte}, $formats) AS order_date,
                   {amount} AS amount,
                   {duplicate} AS dup,
                   {texts},
                   {dte} AS date_text, {', '.join(amount_cols)}
            FROM raw)
        SELECT _row, customer_id, order_date,
               CASE WHEN isfinite(amount) THEN amount END AS amount, {', '.join(TEXT_FIELDS)},
               CASE WHEN customer_id IS NULL THEN '{REASONS[0]}'
                    WHEN order_date IS NULL THEN
                        CASE WHEN seg_blank(date_text) THEN '{REASONS[1]}' ELSE '{REASONS[2]}' END
                    WHEN amount IS NULL OR NOT isfinite(amount) THEN
                        CASE WHEN {amount_blank} THEN '{REASONS[3]}' ELSE '{REASONS[4]}' END
                    WHEN dup THEN '{REASONS[5]}' END AS reason
        FROM v""", {"formats": formats})
    con.execute("CREATE OR REPLACE VIEW lines AS SELECT * FROM parsed WHERE reason IS NULL")
    return {"amount_source": amount_source, "date_order": order, "date_order_ambiguous": ambiguous}


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
    if "amount" not in mapping and not {"quantity", "unit_price"} <= set(mapping):
        need.append("amount")
    if need:
        names = {"customer_id": "customer id", "order_date": "order date",
                 "amount": "amount (or quantity and unit price)"}
        raise IngestError(
            "missing_field",
            f"No column for the {' and the '.join(names[f] for f in need)} was found in {file_name}; "
            "its columns are " + ", ".join(map(repr, headers)) + ". Map them by hand.",
            fields=need, columns=headers)


def _duplicate_rows(con, width: int) -> int:
    """Rows of ``raw`` equal in every column to an earlier row.

    The rows are grouped by a 64-bit hash of all their columns, so the hash table holds 8 bytes a
    row however wide the rows and long their texts (grouping by the columns copies every cell into
    it); only the rows whose hash is shared with another row are then grouped by their columns, so
    the count stays exact when two different rows have the same hash.
    """
    cols = ", ".join(f"c{i}" for i in range(width))
    return con.execute(f"""
        WITH shared AS (SELECT hash({cols}) AS h FROM raw GROUP BY h HAVING count(*) > 1)
        SELECT COALESCE(sum(n - 1), 0)
        FROM (SELECT count(*) AS n FROM raw SEMI JOIN shared ON hash({cols}) = shared.h
              GROUP BY {cols})""").fetchall()[0][0]


def _report(con, headers, mapping, info, drop_duplicates, file_format, encoding) -> IngestReport:
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
        returns_count=ret_n, returns_sum=float(ret_sum),
        duplicate_rows=int(_duplicate_rows(con, len(headers))),
        duplicates_dropped=drop_duplicates, date_min=dmin, date_max=dmax, customers=customers,
        mapping=dict(mapping), file_format=file_format, encoding=encoding, **info)


def load_orders(path, mapping: dict[str, str] | None = None, *, date_order: str | None = None,
                drop_duplicates: bool = False,
                con: duckdb.DuckDBPyConnection | None = None) -> Dataset:
    """Read and parse an orders file: the one call the CLI and the app make.

    Parameters
    ----------
    path : CSV/TSV/Excel/Parquet file.
    mapping : ``{canonical_field: header}`` overriding the guessed mapping field by field.
    date_order, drop_duplicates : see :func:`parse_orders`.
    con : DuckDB connection to load into (a new in-memory one by default).

    Returns
    -------
    Dataset whose ``report`` accounts for every row of the file.

    Raises
    ------
    IngestError : the file is empty, not a table, lacks a customer/date/amount column, or every
        row was rejected. The message is one plain sentence.
    """
    if con is None:
        con = dataset_connection()
    path = Path(path)
    headers, file_format, encoding = read_table(con, path)
    return parse_loaded(con, headers, path.name, file_format, encoding, mapping,
                        date_order=date_order, drop_duplicates=drop_duplicates)


def parse_loaded(con, headers, file_name, file_format, encoding, mapping=None, *,
                 date_order=None, drop_duplicates=False) -> Dataset:
    """Parse an already read ``raw`` table under ``guess_mapping(headers)`` updated by ``mapping``."""
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
    info = parse_orders(con, headers, full, date_order=date_order, drop_duplicates=drop_duplicates)
    report = _report(con, headers, full, info, drop_duplicates, file_format, encoding)
    if report.rows_read == 0:
        raise IngestError("empty", f"{file_name} has a header but no data rows.", file=file_name)
    if report.rows_used == 0:
        reasons = ", ".join(f"{n:,} {r}" for r, n in report.rejected.items())
        raise IngestError("all_rejected", f"None of the {report.rows_read:,} rows of {file_name} "
                          f"could be used ({reasons}).", rows=report.rows_read,
                          rejected=report.rejected, report=report)
    return Dataset(con=con, headers=headers, report=report)


# --------------------------------------------------------------------------------------------
# Optional files: customers master and interactions
# --------------------------------------------------------------------------------------------

def _side_mapping(headers, synonyms, mapping, need, path: Path) -> dict[str, int]:
    full = guess_mapping(headers, synonyms)
    full.update({f: h for f, h in (mapping or {}).items() if h})
    missing = [f for f in need if f not in full or full[f] not in headers]
    if missing:
        raise IngestError(
            "missing_field", f"No column for the {' and the '.join(m.replace('_', ' ') for m in missing)} "
            f"was found in {path.name}; its columns are " + ", ".join(map(repr, headers)) + ".",
            fields=missing, columns=headers)
    return {f: headers.index(h) for f, h in full.items()}


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
    dict report: ``rows_read``, ``rows_used``, ``rejected`` ({reason: n}: missing customer id,
    duplicate customer id), ``prospects`` (customers without any used order line), ``attributes``.
    The table ``customers`` has ``customer_id``, ``name`` and ``a0..aK`` (text), the attributes
    named by ``ds.customer_attributes``.
    """
    path = Path(path)
    headers, _, _ = read_table(ds.con, path, "raw_customers")
    col = _side_mapping(headers, CUSTOMER_FIELDS, mapping, ["customer_id"], path)
    attrs = [i for i in range(len(headers)) if i not in col.values()]
    name = f"seg_text(c{col['name']})" if "name" in col else "CAST(NULL AS VARCHAR)"
    ds.con.execute(_MACROS)
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
    rejected = dict(ds.con.execute("SELECT reason, count(*) FROM customers_parsed "
                                   "WHERE reason IS NOT NULL GROUP BY reason ORDER BY reason").fetchall())
    report = {"rows_read": read, "rows_used": used, "rejected": rejected, "prospects": prospects,
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
    dict report: ``rows_read``, ``rows_used``, ``rejected`` ({reason: n}: missing customer id,
    missing date, unparseable date), ``unknown_customers`` (used rows whose customer is in neither
    the orders nor the customers file), ``date_min``, ``date_max``. The table ``interactions`` has
    ``customer_id``, ``date`` (DATE) and ``type``.
    """
    path = Path(path)
    headers, _, _ = read_table(ds.con, path, "raw_interactions")
    col = _side_mapping(headers, INTERACTION_FIELDS, mapping, ["customer_id", "date"], path)
    kind = f"seg_text(c{col['type']})" if "type" in col else "CAST(NULL AS VARCHAR)"
    d = f"c{col['date']}"
    ds.con.execute(_MACROS)
    ds.con.execute(f"""
        CREATE OR REPLACE TABLE interactions_parsed AS
        WITH v AS (SELECT seg_id(c{col['customer_id']}) AS customer_id,
                          seg_date({d}, $formats) AS date, {kind} AS type, seg_blank({d}) AS blank
                   FROM raw_interactions)
        SELECT customer_id, date, type,
               CASE WHEN customer_id IS NULL THEN 'missing customer id'
                    WHEN blank THEN 'missing date' WHEN date IS NULL THEN 'unparseable date' END AS reason
        FROM v""", {"formats": _DATE_FORMATS_ANY + _DATE_FORMATS_ORDERED[ds.report.date_order or "dmy"]})
    ds.con.execute("CREATE OR REPLACE TABLE interactions AS "
                   "SELECT customer_id, date, type FROM interactions_parsed WHERE reason IS NULL")
    known = "SELECT customer_id FROM lines" + (" UNION SELECT customer_id FROM customers"
                                                if ds.has_table("customers") else "")
    read, used, unknown, dmin, dmax = ds.con.execute(f"""
        SELECT (SELECT count(*) FROM interactions_parsed), count(*),
               count(*) FILTER (WHERE customer_id NOT IN ({known})), min(date), max(date)
        FROM interactions""").fetchone()
    rejected = dict(ds.con.execute("SELECT reason, count(*) FROM interactions_parsed "
                                   "WHERE reason IS NOT NULL GROUP BY reason ORDER BY reason").fetchall())
    report = {"rows_read": read, "rows_used": used, "rejected": rejected,
              "unknown_customers": unknown, "date_min": dmin, "date_max": dmax,
              "mapping": {f: headers[i] for f, i in col.items()}}
    ds.side_reports["interactions"] = report
    return report
