"""The engine's SQL rendered for Apache Spark: sqlglot (pinned) plus the rewrite Spark needs.

The metrics SQL (:func:`segcore.metrics.metrics_sql`) is written once, in DuckDB's dialect and in a
subset both engines compute alike. :func:`to_spark` transpiles it and refuses any construct known
to give another value on Spark (``DIFFERENCES``), so a change to the metrics that would make the
engines disagree fails at once (``tests/test_portable.py`` runs without Spark).

The rewrite on top of sqlglot's:

- ``CAST(x AS HUGEINT)`` -> ``CAST(x AS DECIMAL(38, 0))`` (exact half-up division, ``DIV`` on it
  returns a BIGINT on Spark as ``//`` a HUGEINT on DuckDB).

Needs the ``spark`` extra (``pip install -e ".[spark]"``); imported only by the Spark engine and
the tests.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

__all__ = ["DIFFERENCES", "differences", "to_spark"]

#: Constructs known to give another value on Spark than on DuckDB: name -> (pattern in the DuckDB
#: source or the Spark rendering, case-insensitive; why). The ingest parse rules, which need most
#: of them, have hand-written Spark twins (:data:`segcore.ingest.RULES`).
DIFFERENCES: dict[str, tuple[str, str]] = {
    "round": (r"\bround\s*\(", ("DuckDB rounds a double's binary value, Spark its shortest decimal "
                                "text: round(326.505, 2) is 326.50 on DuckDB, 326.51 on Spark")),
    "not materialized": (r"\bmaterialized\b", "a DuckDB CTE hint Spark does not parse"),
    "mode order by": (r"\bmode\s*\([^()]*\border\s+by\b", ("Spark has no ordered mode(); min_by(x, (x IS NULL, "
                                                              "-count, x)) over counts per value is exact on both")),
    "strlen": (r"\bstrlen\s*\(|\boctet_length\s*\(", "bytes on DuckDB; no such function on Spark"),
    "list_position": (r"\b(list|array)_position\s*\(", ("Spark's array_position returns 0 where "
                                                       "DuckDB's list_position returns NULL")),
    "regexp_full_match": (r"\bregexp_full_match\s*\(|\brlike\b|\bregexp_(matches|like)\s*\(",
                          "RE2 on DuckDB, Java regexes on Spark, and sqlglot drops the full-match anchor"),
    "regexp flags": (r"\bregexp_\w+\s*\((?:[^()]|\([^()]*\))*,\s*'[gimsx]+'\s*\)",
                     "sqlglot drops DuckDB's regexp flags ('g', 'i') when rendering for Spark"),
    "try_strptime": (r"\b(try_)?strptime\s*\(|\bto_(date|timestamp)\s*\(",
                     "strptime patterns differ: DuckDB's %y reads 97 as 1997, Spark's yy as 2097"),
    "isfinite": (r"\bis(finite|inf|nan)\s*\(", "no isfinite on Spark"),
    "rowid": (r"\browid\b", "DuckDB's row position; Spark has none"),
    "trim": (r"\btrim\s*\(", "Spark's trim keeps U+3000 and no-break spaces that DuckDB's removes"),
    "text to date or number": (r"\btry_cast\s*\(|\bas\s+(date|timestamp)\s*\)",
                               "Spark casts '2024' to a date and '12.5d' to a number; DuckDB refuses both"),
    "hugeint": (r"\b(hugeint|int128)\b", "no 128-bit integer on Spark: DECIMAL(38, 0) is the twin"),
}


def differences(sql: str) -> list[str]:
    """The names of the ``DIFFERENCES`` whose pattern occurs in ``sql``."""
    return [name for name, (pattern, _) in DIFFERENCES.items() if re.search(pattern, sql, re.IGNORECASE)]


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.INT128:
        return exp.DataType.build("DECIMAL(38, 0)")
    return node


def to_spark(sql: str) -> str:
    """``sql`` (DuckDB dialect, ``$name`` parameters) as Spark SQL (``:name`` parameters).

    Raises
    ------
    ValueError : the DuckDB source or the Spark rendering holds a construct of ``DIFFERENCES``
        (other than the HUGEINT cast rewritten here), named in the message.
    """
    found = [d for d in differences(sql) if d != "hugeint"]
    rendered = sqlglot.parse_one(sql, read="duckdb").transform(_rewrite).sql(dialect="spark")
    found += [d for d in differences(rendered) if d not in found]
    if found:
        raise ValueError("SQL with constructs that differ on Spark: "
                         + "; ".join(f"{d} ({DIFFERENCES[d][1]})" for d in found))
    return rendered
