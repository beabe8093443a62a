"""Sources: how to read a table file (again), found from its bytes.

A :class:`Source` (:func:`open_source`) knows a file's format (CSV/TSV text, Excel, Parquet), for
text its encoding and delimiter, for Excel its sheet, and gives the SQL that reads it with the
columns ``c0..cN`` (:meth:`Source.relation`). :mod:`segcore.ingest` reads it in one pass.

- Text is read as RFC 4180 CSV and strictly (DuckDB's ``strict_mode``): quotes, ``""`` escapes,
  delimiters and line breaks inside quoted cells; a row that does not split into the header's
  columns goes to a rejects table with its line number, never into the wrong columns. The delimiter
  is the one most of the first 1,000 records agree with.
- Text that is not UTF-8 (GBK/GB18030, Windows-1252, UTF-16, or UTF-8 mixed with one of those line
  by line) or that mixes line ends is read through a UTF-8 copy with ``\\n`` line ends, made once;
  NUL bytes are removed from every cell. Each such fact is a note (``{"code", "message",
  "params"}``) the ingest report carries.
- An Excel sheet is converted once to a Parquet copy of text cells, in a worker process with a memory
  limit, after the workbook's size was checked from its zip directory.
- Copies live as long as their Source.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import weakref
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

__all__ = ["EXCEL_MAX_RATIO", "EXCEL_MAX_UNPACKED", "EXCEL_MEMORY_MB", "IngestError", "Source",
           "drop_rejects", "excel_sheets", "open_source", "read_into", "read_source", "read_table"]

#: An Excel workbook is refused before reading when its parts unpack to more than this many bytes,
#: or a part unpacks to more than ``EXCEL_MAX_RATIO`` times its packed size (a decompression bomb).
EXCEL_MAX_UNPACKED = 1 << 30
EXCEL_MAX_RATIO = 100

#: Memory (MB) the process reading an Excel sheet may take; ``$SEGCORE_EXCEL_MEMORY_MB`` overrides.
EXCEL_MEMORY_MB = 3072

_WORKER = Path(__file__).with_name("excel_worker.py")


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


#: Codes of the notes on how a file was read (:func:`_note`).
NOTE_CODES = ("mixed_encoding", "nul_removed")


def _note(code: str, message: str, **params) -> dict:
    """A remark on how the file was read: ``{"code", "message", "params"}`` (a UI translates by code)."""
    return {"code": code, "message": message, "params": params}


# --------------------------------------------------------------------------------------------
# Sources: how to read a file (again)
# --------------------------------------------------------------------------------------------

#: The CSV read buffer for the first rows of a file: DuckDB's longest line (max_line_size, 2 MB).
_HEAD_BUFFER = 1 << 21


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
    loose_numbers : the text under the header holds ``_`` or ``+-`` (:func:`_scan`).
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
    loose_numbers: bool = False
    table: str | None = None
    floats: tuple[int, ...] = ()
    copy: Path | None = None

    def keep(self, copy: Path) -> None:
        """Read ``copy`` from now on; it is deleted when the Source is."""
        self.copy = copy
        weakref.finalize(self, _unlink, copy)

    def relation(self, types: dict[int, str] | None = None, date_format: str | None = None,
                 rejects: str = "seg_rejects", head: bool = False) -> tuple[str, dict]:
        """``(sql, params)``: a FROM-clause item with the columns ``c0..cN``.

        ``types`` types some CSV columns (``{index: "DATE"}``, read with ``date_format``, else as
        ISO dates); the rest are text. A CSV row that does not split into the columns, or a
        value that does not convert, goes to the table ``rejects`` (with its line number), not to
        the result. ``head``: only the first rows are wanted (a LIMIT): CSV is read in buffers of
        ``_HEAD_BUFFER`` bytes rather than 32 MB per thread (a 50,000-row sample in 26 ms
        instead of 46 ms).
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
               + (f", dateformat = '{date_format}'" if date_format else "")
               + (f", buffer_size = {_HEAD_BUFFER}" if head else "") + ")")
        if self.nul:
            sql = f"(SELECT {', '.join(f'replace({c}, chr(0), {chr(39) * 2}) AS {c}' for c in cols)} FROM {sql})"
        return sql, {"src": str(read), "delim": self.delimiter}

    def rewrite(self) -> None:
        """Read the text through a UTF-8 copy with \\n line ends (:func:`_transcode`): the file
        is not UTF-8, or DuckDB's strict reader refused it as a whole (it mixes line ends)."""
        copy, self.encoding, notes = _transcode(self.path, self.name)
        self.keep(copy)
        self.notes = [n for n in self.notes if n["code"] != "nul_removed"] + notes + _scan(self)

    @property
    def rewritable(self) -> bool:
        return self.file_format == "csv" and self.copy is None and self.table is None


def read_source(con, source: Source, build) -> dict:
    """Run the statement ``build()`` gives (``(sql, params)``, reading ``source`` with the rejects
    table ``seg_rejects``) and return the reader's errors (:func:`_reader_errors`).

    Text DuckDB's strict reader cannot take as a whole (mixed line ends) or whose bytes are not
    UTF-8 is rewritten once (:meth:`Source.rewrite`) and read again.
    """
    drop_rejects(con, "seg_rejects")
    try:
        con.execute(*build())
    except duckdb.InvalidInputException as exc:
        if not source.rewritable:
            raise _unreadable(source, exc) from exc
        source.rewrite()
        return read_source(con, source, build)
    except (duckdb.IOException, duckdb.ConversionException) as exc:
        raise _unreadable(source, exc) from exc
    errors = _reader_errors(con, "seg_rejects")
    if "INVALID ENCODING" in errors and source.rewritable:
        source.rewrite()
        return read_source(con, source, build)
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


# How files that are never tables begin (PDF, images, archives, programs): "not a table" even when
# their first bytes are mostly text, as in a PDF.
_NOT_TABLES = (b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"\x1f\x8b", b"BZh", b"7z\xbc\xaf",
               b"Rar!", b"\x7fELF", b"%!PS", b"{\\rtf")


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
    # a stray NUL or two is text with a flaw
    if head.startswith(_NOT_TABLES) or (control >= 4 and control * 100 > len(head)):
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
    notes = [_note("mixed_encoding", f"Lines of {name} not in UTF-8: {bad:,}; they were read as {legacy}, "
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


#: The text is searched in pieces of this many bytes (:func:`_scan`): small enough to stay in the
#: processor's cache (pieces of 1 MB took three times as long in a new process).
_SCAN_CHUNK = 1 << 16


def _scan(source: Source) -> list[dict]:
    """One read of the text for the bytes that change how it is read: NUL anywhere (``source.nul``:
    removed from every cell, and a note says how many) and, under the header line, ``_`` or
    ``+-`` (``source.loose_numbers``: DuckDB's number reader takes 1_000 and +-5, which the
    amount rule refuses). Each 64 KB piece is searched for the three bytes while it is in the
    cache (memchr): 0.11 to 0.14 s for a 420 MB file, where a search of the mapped file per byte
    took 0.28 s."""
    read = source.copy or source.path
    nul = loose = body = False
    buf, last = bytearray(_SCAN_CHUNK), 0
    with open(read, "rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            nul = nul or buf.find(b"\x00", 0, n) >= 0
            start = 0
            if not body:  # the header line's names often hold a _
                start = buf.find(b"\n", 0, n) + 1
                body = start > 0
                start = start if body else n
            if not loose and start < n:  # +- is searched for only where there is a + (memchr)
                loose = (buf.find(b"_", start, n) >= 0
                         or buf.find(b"+", start, n) >= 0 and buf.find(b"+-", start, n) >= 0
                         or last == ord("+") and buf[start] == ord("-"))  # across two pieces
            last = buf[n - 1]
    source.nul, source.loose_numbers = nul, loose
    count = sum(chunk.count(b"\x00") for chunk in _chunks(read)) if nul else 0
    return [_note("nul_removed", f"NUL bytes removed from the values of {source.name}: {count:,}.",
                  count=count)] if count else []


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
        source.notes = _scan(source)
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


def read_into(con, source: Source, table: str) -> int:
    """Copy the source's text into ``table`` (``c0..cN``); returns the number of malformed rows
    (CSV rows that do not split into the header's columns: left out)."""
    def build():
        sql, params = source.relation()
        return f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {sql}", params

    return len(read_source(con, source, build).get("rows", ()))


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
    read_into(con, source, table)
    return source.headers, source.file_format, source.encoding


def drop_rejects(con, name: str) -> None:
    con.execute(f"DROP TABLE IF EXISTS {name}; DROP TABLE IF EXISTS {name}_scans")


def _reader_errors(con, name: str) -> dict:
    """What the CSV reader refused: ``{error_type: count}`` plus ``rows``, the malformed rows as
    ``[(row number, line text)]`` in file order (``{}`` when nothing was refused or no CSV was read)."""
    try:
        errors = dict(con.execute(f"SELECT error_type, count(DISTINCT line) FROM {name} GROUP BY ALL").fetchall())
    except duckdb.CatalogException:  # no CSV was read
        return {}
    if errors:
        errors["rows"] = con.execute(f"""SELECT line - 1, any_value(csv_line) FROM {name}
                                         WHERE error_type NOT IN ('CAST', 'INVALID ENCODING')
                                         GROUP BY line ORDER BY line""").fetchall()
    return errors
