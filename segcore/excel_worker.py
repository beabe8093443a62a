"""Read one sheet of a workbook into a Parquet file of text columns, in a process of its own.

Run as a script (``python excel_worker.py BOOK SHEET OUT MEMORY_MB``) by :mod:`segcore.ingest`, so
that a workbook too big for memory ends this process, never the server: the process limits its own
address space to ``MEMORY_MB`` before it opens the book. It imports nothing from segcore.

SHEET is a sheet name, or empty for the first sheet whose first non-empty row has two or more cells
(a table). OUT receives the cells as text, columns ``c0..cN``, one row per non-empty row under the
header. The last line printed is JSON: ``{"headers", "sheet", "sheets"}``, or ``{"error": code,
"detail"}`` with code ``unreadable``, ``no_sheet`` (no such sheet) or ``no_table``.
"""

from __future__ import annotations

import json
import sys


def cell_text(value) -> str | None:
    """A cell as a person reads it: 12346.0 -> '12346', dates in ISO form, empty -> None."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return str(value)


def convert(book_path: str, sheet: str, out: str) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(book_path)
    except Exception as exc:  # calamine raises its own error types for damaged files
        return {"error": "unreadable", "detail": str(exc).splitlines()[0] if str(exc) else type(exc).__name__}
    names = list(book.sheet_names)
    if sheet and sheet not in names:
        return {"error": "no_sheet", "detail": sheet, "sheets": names}
    for name in [sheet] if sheet else names:
        rows = (r for r in book.get_sheet_by_name(name).iter_rows() if any(v not in (None, "") for v in r))
        header = next(rows, None)
        if header is not None and (sheet or sum(v not in (None, "") for v in header) >= 2):
            break
    else:
        return {"error": "no_table", "sheets": names}
    headers = [cell_text(h) or f"column{i + 1}" for i, h in enumerate(header)]
    schema = pa.schema([(f"c{i}", pa.string()) for i in range(len(headers))])
    with pq.ParquetWriter(out, schema) as writer:
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) == 65536:
                writer.write_table(_table(batch, schema))
                batch = []
        writer.write_table(_table(batch, schema))
    return {"headers": headers, "sheet": name, "sheets": names}


def _table(rows, schema):
    import pyarrow as pa

    width = len(schema)
    return pa.table([pa.array([cell_text(r[i]) if i < len(r) else None for r in rows], pa.string())
                     for i in range(width)], schema=schema)


def main(argv: list[str]) -> None:
    book_path, sheet, out, memory_mb = argv
    try:
        import resource

        limit = int(memory_mb) * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # no such limit on this platform
        pass
    try:
        result = convert(book_path, sheet, out)
    except MemoryError:
        result = {"error": "memory"}
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
