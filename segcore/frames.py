"""One in-memory DuckDB database for SQL over DataFrames (the per-customer table and what is
derived from it: tiers, scores, segments, migration, churn, follow-ups, views).

Every call takes its own cursor: frames registered on it are private to it, so calls from several
threads (Streamlit sessions) do not meet. One database means one thread pool and one buffer pool
for all of them, where a database per call cost a new thread pool each time (about 60 ms, and
memory the allocator keeps per thread).
"""

from __future__ import annotations

import duckdb
import pandas as pd

_DB = duckdb.connect()  # its cursors have the progress bar off


def cursor(**frames: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    """A new cursor on the shared database with ``frames`` registered under their names."""
    con = _DB.cursor()
    for name, frame in frames.items():
        con.register(name, frame)
    return con
