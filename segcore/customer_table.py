"""The per-customer table as a Parquet file: what ``python -m segcore metrics`` writes (either engine)
and what ``tier`` and the app open instead of an orders file.

The file holds the columns of :func:`segcore.customer_metrics` (``METRIC_COLUMNS`` first, typed as
below, then the attribute columns as text and the interaction columns) and, in the Parquet
key-value metadata under ``segcore``, a JSON object: ``segcore_version``, ``engine``, ``as_of``,
``window_start``, ``source`` and ``report`` (the ingest report's fields).
"""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .ingest import TEXT_FIELDS, Dataset, IngestError, IngestReport, dataset_connection
from .metrics import METRIC_COLUMNS

__all__ = ["CUSTOMER_TABLE_TYPES", "is_customer_table", "open_customer_table", "read_customer_table",
           "write_customer_table"]

#: Arrow types of the metric columns (others: ``interactions_90d`` int64, ``last_interaction_date``
#: date, every attribute text).
CUSTOMER_TABLE_TYPES = {
    "customer_id": pa.string(), "recency_days": pa.int64(), "frequency": pa.int64(), "monetary": pa.float64(),
    "avg_order_value": pa.float64(), "first_order_date": pa.date32(), "last_order_date": pa.date32(),
    "tenure_days": pa.int64(), "product_breadth": pa.int64(), "avg_interval_days": pa.float64(),
    "spend_first_half": pa.float64(), "spend_second_half": pa.float64(), "trend": pa.float64(),
    "is_prospect": pa.bool_(), "interactions_90d": pa.int64(), "last_interaction_date": pa.date32(),
}
assert set(METRIC_COLUMNS) <= set(CUSTOMER_TABLE_TYPES)

_KEY = b"segcore"


def _version() -> str:
    try:
        return version("segcore")
    except PackageNotFoundError:
        return "unknown"


def _plain(value):
    if is_dataclass(value):
        value = asdict(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def write_customer_table(metrics: pd.DataFrame, path, *, engine: str, as_of: date, window_start: date,
                         source: str, report) -> None:
    """Write ``metrics`` (one row per customer, :func:`segcore.customer_metrics`) to ``path``.

    Every engine's table is cast to the same schema (``CUSTOMER_TABLE_TYPES``, attributes as text),
    so the files of two engines compare cell by cell. ``report`` is the ingest report (an
    :class:`~segcore.IngestReport` or a dict) stored in the metadata with the other facts.
    """
    fields = [pa.field(c, CUSTOMER_TABLE_TYPES.get(c, pa.string())) for c in metrics.columns]
    columns = []
    for f in fields:
        col = metrics[f.name]
        if pa.types.is_date32(f.type):
            col = pd.to_datetime(col).dt.date
        columns.append(pa.array(col.astype(object).where(col.notna(), None).tolist(), type=f.type))
    meta = {"segcore_version": _version(), "engine": engine, "as_of": as_of, "window_start": window_start,
            "source": source, "report": report}
    table = pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata={_KEY: json.dumps(_plain(meta))}))
    pq.write_table(table, path)


def is_customer_table(path) -> bool:
    """True when ``path`` is a Parquet file written by :func:`write_customer_table`."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            if fh.read(4) != b"PAR1":
                return False
        return _KEY in (pq.read_schema(path).metadata or {})
    except (OSError, pa.ArrowInvalid):
        return False


def read_customer_table(path) -> tuple[pd.DataFrame, dict]:
    """``(metrics, facts)``: the table as :func:`segcore.customer_metrics` returns it (dates as
    datetimes, nullable day counts) and the metadata (``as_of`` and ``window_start`` as dates)."""
    table = pq.read_table(path)
    facts = json.loads(table.schema.metadata[_KEY])
    for key in ("as_of", "window_start"):
        facts[key] = date.fromisoformat(facts[key])
    df = table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    for c in df.columns:
        if pa.types.is_date32(table.schema.field(c).type):
            df[c] = pd.to_datetime(df[c])
    for c in ("frequency", "interactions_90d"):
        if c in df:
            df[c] = df[c].astype("int64")
    if "product_breadth" in df and df["product_breadth"].notna().all():
        df["product_breadth"] = df["product_breadth"].astype("int64")
    return df, facts


def open_customer_table(path, name: str | None = None) -> Dataset:
    """A :class:`~segcore.Dataset` for a customer table: its report is the one the table was made
    with, ``customer_table`` is ``(metrics, facts)`` (:func:`read_customer_table`), and its view
    ``lines`` is empty (the order lines stayed where the table was computed).

    Raises :class:`~segcore.IngestError` (code ``not_customer_table``) for any other file.
    """
    name = name or Path(path).name
    if not is_customer_table(path):
        raise IngestError("not_customer_table", f"{name} is not a customer table written by "
                          "python -m segcore metrics.", file=name)
    metrics, facts = read_customer_table(path)
    report = dict(facts["report"])
    for key in ("date_min", "date_max"):
        report[key] = date.fromisoformat(report[key]) if report.get(key) else None
    con = dataset_connection()
    texts = ", ".join(f"CAST(NULL AS VARCHAR) AS {f}" for f in TEXT_FIELDS)
    con.execute("CREATE VIEW lines AS SELECT CAST(NULL AS BIGINT) AS _line, CAST(NULL AS VARCHAR) AS customer_id, "
                f"CAST(NULL AS DATE) AS order_date, CAST(NULL AS DOUBLE) AS amount, {texts} WHERE false")
    known = IngestReport.__dataclass_fields__
    return Dataset(con=con, headers=list(metrics.columns),
                   report=IngestReport(**{k: v for k, v in report.items() if k in known}),
                   customer_table=(metrics, facts))
