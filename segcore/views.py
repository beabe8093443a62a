"""Small read-only queries the dashboard pages need (DuckDB SQL, no Streamlit).

Two kinds of input:

- the tiered per-customer table (a pandas DataFrame from :func:`segcore.assign_tiers`: at least
  ``customer_id``, ``tier``, ``rank``, ``cumulative_share``, ``monetary``, plus whatever metric
  and attribute columns the engine added). Prospects have no ``rank``.
- a DuckDB connection holding the engine's view ``lines`` (and optionally the table
  ``interactions``). Pass a cursor (``ds.con.cursor()``) from UI threads.

User values (customer ids, search text, tier labels, dates) are always bound parameters. Column
names only come from the DataFrame's own columns and are checked against them.
"""

from __future__ import annotations

import math
from datetime import date

import duckdb
import pandas as pd

__all__ = [
    "pareto_points", "pareto_cuts", "customer_position", "distribution", "tier_mix",
    "customer_list", "customer_row", "customer_orders", "customer_products", "customer_interactions",
]


# One in-memory database for the DataFrame queries; every call works in its own cursor (cheap,
# and registered frames are private to it), so calls from several threads do not meet.
_BASE = duckdb.connect()


def _con(**frames: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    con = _BASE.cursor()
    for name, frame in frames.items():
        con.register(name, frame)
    return con


def _ident(name: str, frame: pd.DataFrame) -> str:
    """``name`` quoted as a SQL identifier, after checking it is a column of ``frame``."""
    if name not in frame.columns:
        raise ValueError(f"{name!r} is not a column of the table; columns are {list(frame.columns)}.")
    return '"' + str(name).replace('"', '""') + '"'


# --------------------------------------------------------------------------------------------
# Pareto curve
# --------------------------------------------------------------------------------------------

def pareto_points(tiered: pd.DataFrame, max_points: int = 500) -> pd.DataFrame:
    """Points of the Pareto curve (cumulative revenue share against cumulative customer share).

    Parameters
    ----------
    tiered : tiered per-customer table (``rank``, ``cumulative_share``, ``tier``). Customers
        without a rank (prospects) are left out.
    max_points : about how many points to keep; every k-th customer is kept, plus the first
        customer, the last one and the last and first customer of every tier, so the cut points
        are exact.

    Returns
    -------
    DataFrame ``rank, customer_share, revenue_share, tier`` sorted by rank, starting with the
    origin (``rank`` 0, shares 0, tier of the first customer). ``customer_share`` = rank / buyers.
    """
    return _con(t=tiered).execute("""
        WITH r AS (SELECT rank, tier, cumulative_share FROM t WHERE rank IS NOT NULL),
        n AS (SELECT count(*) AS n FROM r),
        edges AS (SELECT min(rank) AS lo, max(rank) AS hi FROM r GROUP BY tier),
        keep AS (
            SELECT r.* FROM r, n
            WHERE r.rank % greatest(1, CAST(ceil(n.n / $max_points) AS BIGINT)) = 0
               OR r.rank IN (1, n.n)
               OR r.rank IN (SELECT lo FROM edges) OR r.rank IN (SELECT hi FROM edges))
        SELECT 0 AS rank, 0.0 AS customer_share, 0.0 AS revenue_share,
               (SELECT tier FROM r WHERE rank = 1) AS tier
        FROM n WHERE n.n > 0
        UNION ALL
        SELECT k.rank, k.rank / n.n, COALESCE(k.cumulative_share, 0), k.tier FROM keep k, n
        ORDER BY rank""", {"max_points": max(int(max_points), 1)}).df()


def pareto_cuts(tiered: pd.DataFrame) -> pd.DataFrame:
    """Where each tier starts and ends on the Pareto curve.

    Parameters
    ----------
    tiered : tiered per-customer table (``rank``, ``cumulative_share``, ``tier``); prospects
        (no rank) are left out.

    Returns
    -------
    DataFrame ``tier, customers, first_rank, last_rank, customer_share_start, customer_share_end,
    revenue_share_end``, one row per tier that has ranked customers, in rank order.
    ``customer_share_*`` are shares of all ranked customers; ``revenue_share_end`` is the
    cumulative revenue share at the tier's last customer.
    """
    return _con(t=tiered).execute("""
        WITH r AS (SELECT rank, tier, cumulative_share FROM t WHERE rank IS NOT NULL),
        n AS (SELECT count(*) AS n FROM r)
        SELECT tier, count(*) AS customers, min(rank) AS first_rank, max(rank) AS last_rank,
               (min(rank) - 1) / any_value(n.n) AS customer_share_start,
               max(rank) / any_value(n.n) AS customer_share_end,
               COALESCE(arg_max(cumulative_share, rank), 0) AS revenue_share_end
        FROM r, n GROUP BY tier ORDER BY first_rank""").df()


def customer_position(tiered: pd.DataFrame, customer_id: str) -> pd.DataFrame:
    """One customer's point on the Pareto curve.

    Parameters
    ----------
    tiered : tiered per-customer table (``customer_id``, ``tier``, ``rank``, ``cumulative_share``).
    customer_id : the customer.

    Returns
    -------
    DataFrame with one row ``customer_id, tier, rank, buyers, customer_share, revenue_share``
    (``customer_share`` = rank / buyers), or no row when the customer is unknown or has no rank
    (a prospect).
    """
    return _con(t=tiered).execute("""
        SELECT customer_id, tier, rank, (SELECT count(rank) FROM t) AS buyers,
               rank / (SELECT count(rank) FROM t) AS customer_share,
               COALESCE(cumulative_share, 0) AS revenue_share
        FROM t WHERE customer_id = $cid AND rank IS NOT NULL""", {"cid": str(customer_id)}).df()


# --------------------------------------------------------------------------------------------
# Distributions and tier mix
# --------------------------------------------------------------------------------------------

_LINEAR_STEPS = (1, 2, 5, 7, 10, 14, 20, 30, 50, 60, 90, 100, 180, 200, 365, 500, 1000)


def _log_edges(lo: float, hi: float) -> list[float]:
    """1-2-5 edges (..., 1, 2, 5, 10, 20, 50, ...) from the last one <= ``lo`` to the first > ``hi``."""
    exp = math.floor(math.log10(lo)) - 1
    seq: list[float] = []
    while not seq or seq[-1] <= hi:
        seq += [float(f"{m}e{exp}") for m in (1, 2, 5)]
        exp += 1
    first = max(i for i, e in enumerate(seq) if e <= lo)
    last = min(i for i, e in enumerate(seq) if e > hi)
    return seq[first:last + 1]


def distribution(tiered: pd.DataFrame, column: str, scale: str = "log",
                 max_bins: int = 30) -> pd.DataFrame:
    """Customers per bin of one metric and tier, for a histogram coloured by tier.

    Parameters
    ----------
    tiered : tiered per-customer table with ``tier``, ``rank`` and the metric ``column``.
        Customers without a rank (prospects) and with a NULL value are left out.
    column : the metric (e.g. ``monetary``, ``frequency``, ``recency_days``).
    scale : ``"log"``: bins with 1-2-5 edges (1, 2, 5, 10, 20 ...) over the positive values, plus
        one bin ``(-inf, 0]`` when there are values <= 0 (then ``lo`` is NULL and ``hi`` 0);
        ``"linear"``: equal bins of a round width (1, 2, 5, 7, 10, 14, 30, 90, 365 ...) from 0
        (or the minimum, if negative).
    max_bins : at most this many bins (log: the lowest edges are merged into the first bin,
        which then starts at 0).

    Returns
    -------
    DataFrame ``bin, lo, hi, tier, customers``: bin number (0 = lowest), its bounds
    ``lo <= value < hi``, and the count per tier (only non-zero counts), sorted by bin and tier
    rank order.
    """
    col = _ident(column, tiered)
    con = _con(t=tiered)
    vmin, vmax, vpos = con.execute(
        f"SELECT min({col}), max({col}), min({col}) FILTER (WHERE {col} > 0) FROM t "
        f"WHERE rank IS NOT NULL AND {col} IS NOT NULL").fetchone()
    if vmin is None:
        return pd.DataFrame({"bin": pd.Series(dtype="int64"), "lo": pd.Series(dtype="float64"),
                             "hi": pd.Series(dtype="float64"), "tier": pd.Series(dtype="str"),
                             "customers": pd.Series(dtype="int64")})
    los: list[float | None]
    his: list[float]
    if scale == "log":
        los, his = [], []
        if vmin <= 0:
            los.append(None)
            his.append(0.0)
        if vpos is not None:
            edges = _log_edges(float(vpos), float(vmax))
            budget = max_bins - len(his)
            if len(edges) - 1 > budget:
                edges = [0.0] + edges[len(edges) - budget:]
            los += edges[:-1]
            his += edges[1:]
    elif scale == "linear":
        start = math.floor(min(float(vmin), 0.0))
        span = float(vmax) - start
        step = next((s for s in _LINEAR_STEPS if span / s < max_bins), None)
        if step is None:
            step = 10 ** math.ceil(math.log10(span / max_bins))
        count = int(span // step) + 1
        los = [start + i * step for i in range(count)]
        his = [lo + step for lo in los]
    else:
        raise ValueError("scale is 'log' or 'linear'.")
    return con.execute(f"""
        WITH bins AS (
            SELECT generate_subscripts($los, 1) - 1 AS bin, unnest($los) AS lo, unnest($his) AS hi),
        v AS (SELECT {col} AS value, tier, rank FROM t WHERE rank IS NOT NULL AND {col} IS NOT NULL),
        tier_order AS (SELECT tier, min(rank) AS first_rank FROM v GROUP BY tier)
        SELECT b.bin, b.lo, b.hi, v.tier, count(*) AS customers
        FROM v JOIN bins b
          ON (b.lo IS NULL AND v.value <= b.hi)
          OR (b.lo IS NOT NULL AND v.value >= b.lo AND v.value < b.hi AND NOT ($log AND v.value <= 0))
        JOIN tier_order USING (tier)
        GROUP BY b.bin, b.lo, b.hi, v.tier, tier_order.first_rank
        ORDER BY b.bin, tier_order.first_rank""",
        {"log": scale == "log", "los": [None if x is None else float(x) for x in los],
         "his": [float(x) for x in his]}).df()


def tier_mix(summary: pd.DataFrame) -> pd.DataFrame:
    """The tier summary in long form: each tier's share of customers and of revenue.

    Parameters
    ----------
    summary : output of :func:`segcore.tier_summary` (``tier``, ``customers``,
        ``customer_share``, ``revenue``, ``revenue_share``), in tier order.

    Returns
    -------
    DataFrame ``measure, tier, position, value, share``: ``measure`` is ``"customers"`` or
    ``"revenue"``, ``position`` the tier's row number in ``summary`` (0 = best),
    ``value`` the count or the revenue, ``share`` its share (NULL shares become 0).
    """
    return _con(s=summary).execute("""
        WITH s AS (SELECT *, row_number() OVER () - 1 AS position FROM s)
        SELECT 'customers' AS measure, tier, position, CAST(customers AS DOUBLE) AS value,
               COALESCE(customer_share, 0) AS share FROM s
        UNION ALL
        SELECT 'revenue', tier, position, CAST(revenue AS DOUBLE), COALESCE(revenue_share, 0) FROM s
        ORDER BY measure, position""").df()


# --------------------------------------------------------------------------------------------
# Customer list
# --------------------------------------------------------------------------------------------

def customer_list(tiered: pd.DataFrame, *, tiers=None, search: str | None = None,
                  sort_by: str = "rank", descending: bool = False, labels=None) -> pd.DataFrame:
    """The tiered list filtered by tier and search text, sorted by any column.

    Parameters
    ----------
    tiered : tiered per-customer table (``customer_id``, ``tier``, ``rank``, optionally ``name``).
    tiers : tier labels to keep; None keeps every tier (an empty list keeps none).
    search : case-insensitive text looked for inside ``customer_id`` and ``name`` (when the table
        has a name); blank keeps everyone.
    sort_by : a column of ``tiered``; ``"tier"`` sorts in the order of ``labels`` (best first).
        Ties and NULLs (always last) are ordered by rank, then customer id.
    descending : sort from high to low.
    labels : tier order for ``sort_by="tier"`` (levels not listed come after).

    Returns
    -------
    DataFrame with the columns of ``tiered``, the matching rows in the requested order, with a
    fresh 0..n-1 index.
    """
    order_col = _ident(sort_by, tiered)
    direction = "DESC" if descending else "ASC"
    params: dict = {}
    where = ["true"]
    if tiers is not None:
        where.append("list_contains(CAST($tiers AS VARCHAR[]), tier)")
        params["tiers"] = [str(x) for x in tiers]
    text = (search or "").strip().lower()
    if text:
        fields = ["lower(CAST(customer_id AS VARCHAR))"]
        if "name" in tiered.columns:
            fields.append("lower(COALESCE(CAST(name AS VARCHAR), ''))")
        where.append("(" + " OR ".join(f"contains({f}, $q)" for f in fields) + ")")
        params["q"] = text
    if sort_by == "tier":
        params["labels"] = [str(x) for x in (labels or [])]
        key = "COALESCE(NULLIF(array_position(CAST($labels AS VARCHAR[]), tier), 0), 1000000)"
    else:
        key = order_col
    df = _con(t=tiered).execute(f"""
        SELECT * FROM t WHERE {' AND '.join(where)}
        ORDER BY {key} {direction} NULLS LAST, rank NULLS LAST, customer_id""", params).df()
    return df


def customer_row(tiered: pd.DataFrame, customer_id: str) -> pd.DataFrame:
    """One customer's row of the tiered table.

    Parameters
    ----------
    tiered : tiered per-customer table (``customer_id`` ...).
    customer_id : the customer.

    Returns
    -------
    DataFrame with the columns of ``tiered`` and one row (no row when the id is unknown).
    """
    return _con(t=tiered).execute("SELECT * FROM t WHERE customer_id = $cid LIMIT 1",
                                  {"cid": str(customer_id)}).df()


# --------------------------------------------------------------------------------------------
# One customer's history
# --------------------------------------------------------------------------------------------

def _window(since: date | None, as_of: date | None) -> dict:
    return {"start": since or date(1, 1, 1), "end": as_of or date(9999, 12, 31)}


def customer_orders(con: duckdb.DuckDBPyConnection, customer_id: str, *, since: date | None = None,
                    as_of: date | None = None) -> pd.DataFrame:
    """One customer's orders in the window ``[since, as_of]``, oldest first.

    Parameters
    ----------
    con : connection (or cursor) holding the view ``lines``.
    customer_id : the customer.
    since, as_of : window bounds (inclusive; None = open).

    Returns
    -------
    DataFrame ``order_key, order_date, lines, amount``: one row per order as the engine counts
    them (an ``order_id``, or a customer-day when there is none); ``order_date`` is the earliest
    date of its lines, ``amount`` the net amount (negative for a return), rounded to cents.
    """
    return con.execute("""
        SELECT COALESCE(order_id, CAST(order_date AS VARCHAR)) AS order_key,
               min(order_date) AS order_date, count(*) AS lines, round(sum(amount), 2) AS amount
        FROM lines
        WHERE customer_id = $cid AND order_date BETWEEN $start AND $end
        GROUP BY order_key ORDER BY order_date, order_key""",
        {"cid": str(customer_id), **_window(since, as_of)}).df()


def customer_products(con: duckdb.DuckDBPyConnection, customer_id: str, *, since: date | None = None,
                      as_of: date | None = None) -> pd.DataFrame:
    """What one customer bought in the window ``[since, as_of]``, biggest net spend first.

    Parameters
    ----------
    con : connection (or cursor) holding the view ``lines``.
    customer_id : the customer.
    since, as_of : window bounds (inclusive; None = open).

    Returns
    -------
    DataFrame ``product, category, lines, amount, first_date, last_date``: one row per product
    (lines without a product are left out, so a file without a product column gives no rows);
    ``category`` is the product's most frequent category, ``amount`` the net amount (returns
    included), ties ordered by product.
    """
    return con.execute("""
        SELECT product, mode(category) AS category, count(*) AS lines,
               round(sum(amount), 2) AS amount, min(order_date) AS first_date,
               max(order_date) AS last_date
        FROM lines
        WHERE customer_id = $cid AND product IS NOT NULL AND order_date BETWEEN $start AND $end
        GROUP BY product ORDER BY amount DESC, product""",
        {"cid": str(customer_id), **_window(since, as_of)}).df()


def customer_interactions(con: duckdb.DuckDBPyConnection, customer_id: str, *,
                          as_of: date | None = None) -> pd.DataFrame:
    """One customer's interactions up to ``as_of``, newest first.

    Parameters
    ----------
    con : connection (or cursor) that may hold the table ``interactions``
        (``customer_id``, ``date``, ``type``) made by :func:`segcore.load_interactions`.
    customer_id : the customer.
    as_of : latest date included (None = all).

    Returns
    -------
    DataFrame ``date, type``; no rows when there is no interactions table.
    """
    has = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'interactions'").fetchone()[0]
    if not has:
        return pd.DataFrame({"date": pd.Series(dtype="datetime64[us]"), "type": pd.Series(dtype="str")})
    return con.execute("""
        SELECT date, type FROM interactions
        WHERE customer_id = $cid AND date <= $end
        ORDER BY date DESC, type""", {"cid": str(customer_id), "end": _window(None, as_of)["end"]}).df()
