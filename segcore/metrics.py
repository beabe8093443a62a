"""Per-customer metrics, one definition for the UI, the exports and the command line."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd

__all__ = ["METRIC_COLUMNS", "customer_metrics", "window_bounds"]

#: Columns of the per-customer table, in export order (``tier`` and ``cumulative_share`` are added
#: by tiering).
METRIC_COLUMNS = (
    "customer_id", "recency_days", "frequency", "monetary", "avg_order_value",
    "first_order_date", "last_order_date", "tenure_days", "product_breadth",
    "avg_interval_days", "spend_first_half", "spend_second_half", "trend",
)


def window_bounds(con: duckdb.DuckDBPyConnection, as_of: date | None = None,
                  since: date | None = None) -> tuple[date, date]:
    """The analysis window ``(start, as_of)``.

    ``as_of`` defaults to the latest order date among the used rows, ``start`` to ``since`` or else
    the earliest order date.
    """
    first, last = con.execute("SELECT min(order_date), max(order_date) FROM lines").fetchone()
    as_of = as_of or last
    start = since or first
    if start > as_of:
        raise ValueError(f"The window start {start} is after the as-of date {as_of}.")
    return start, as_of


def customer_metrics(con: duckdb.DuckDBPyConnection, *, as_of: date | None = None,
                     since: date | None = None) -> pd.DataFrame:
    """One row per customer with an order line in the window ``[since, as_of]``.

    Parameters
    ----------
    con : connection holding the view ``lines`` (``customer_id``, ``order_date``, ``amount``,
        ``order_id``, ``product`` ...) made by :func:`segcore.load_orders`. An order is an
        ``order_id``; lines without one (or files without the column) make one order per
        customer-day.
    as_of : the date ``D`` metrics are taken at; lines after it are ignored. Default: the latest
        order date.
    since : optional window start; lines before it are ignored. Default: the earliest order date.

    Returns
    -------
    DataFrame with ``METRIC_COLUMNS``:

    - ``first_order_date``, ``last_order_date``: over orders with a positive net amount (an order's
      date is the earliest date among its lines).
    - ``recency_days`` = D - last_order_date; ``tenure_days`` = D - first_order_date.
    - ``frequency``: orders with a positive net amount (returns and cancellations are not orders).
    - ``monetary``: net spend, the sum of all amounts, returns included.
    - ``avg_order_value`` = monetary / frequency (NaN when frequency is 0).
    - ``product_breadth``: distinct products bought (positive lines); NaN when no product column.
    - ``avg_interval_days``: mean gap between consecutive order days (NaN with fewer than 2).
    - ``spend_first_half``, ``spend_second_half``: net spend in the first and the last half of the
      window; ``trend`` = second / first - 1 (NaN when the first half is <= 0).

    Customers whose lines all net to <= 0 appear with frequency 0 and empty dates.
    """
    start, as_of = window_bounds(con, as_of, since)
    mid = start + timedelta(days=(as_of - start).days // 2)
    return con.execute(f"""
        WITH w AS (
            SELECT customer_id, COALESCE(order_id, CAST(order_date AS VARCHAR)) AS order_key, order_date, amount, product
            FROM lines WHERE order_date BETWEEN $start AND $as_of),
        orders AS (
            SELECT customer_id, min(order_date) AS order_date, sum(amount) AS net,
                   sum(amount) FILTER (WHERE order_date <= $mid) AS first_half,
                   sum(amount) FILTER (WHERE order_date > $mid) AS second_half
            FROM w GROUP BY customer_id, order_key),
        per_customer AS (
            SELECT customer_id,
                   count(*) FILTER (WHERE net > 0) AS frequency,
                   sum(net) AS monetary,
                   min(order_date) FILTER (WHERE net > 0) AS first_order_date,
                   max(order_date) FILTER (WHERE net > 0) AS last_order_date,
                   count(DISTINCT order_date) FILTER (WHERE net > 0) AS order_days,
                   COALESCE(sum(first_half), 0) AS spend_first_half,
                   COALESCE(sum(second_half), 0) AS spend_second_half
            FROM orders GROUP BY customer_id),
        breadth AS (
            SELECT customer_id, count(DISTINCT product) FILTER (WHERE amount > 0) AS product_breadth
            FROM w WHERE $has_product GROUP BY customer_id)
        SELECT customer_id,
               date_diff('day', last_order_date, $as_of) AS recency_days,
               frequency,
               round(monetary, 2) AS monetary,
               round(monetary / NULLIF(frequency, 0), 2) AS avg_order_value,
               first_order_date, last_order_date,
               date_diff('day', first_order_date, $as_of) AS tenure_days,
               CASE WHEN $has_product THEN COALESCE(product_breadth, 0) END AS product_breadth,
               CASE WHEN order_days >= 2
                    THEN round(date_diff('day', first_order_date, last_order_date) / (order_days - 1), 1)
               END AS avg_interval_days,
               round(spend_first_half, 2) AS spend_first_half,
               round(spend_second_half, 2) AS spend_second_half,
               CASE WHEN spend_first_half > 0
                    THEN round(spend_second_half / spend_first_half - 1, 4) END AS trend
        FROM per_customer LEFT JOIN breadth USING (customer_id)
        ORDER BY customer_id""",
        {"start": start, "as_of": as_of, "mid": mid,
         "has_product": _has_product(con)}).df()


def _has_product(con) -> bool:
    """True when any used line names a product (the column is mapped and filled)."""
    return con.execute("SELECT count(product) > 0 FROM lines").fetchone()[0]
