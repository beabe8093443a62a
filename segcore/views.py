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

from .frames import cursor
from .tiers import revenue_cents

__all__ = [
    "pareto_points", "pareto_cuts", "customer_position", "distribution", "tier_mix",
    "customer_list", "customer_row", "customer_orders", "customer_products", "customer_interactions",
    "return_only_count", "segment_summary", "cross_tab", "cross_tab_table", "tier_pairs", "agreement",
    "attribute_values", "localise", "keep_rows", "matrix_table", "playbook_rows", "playbook_table", "playbook_merge",
]




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
    return cursor(t=tiered).execute("""
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
    return cursor(t=tiered).execute("""
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
    return cursor(t=tiered).execute("""
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
        Customers without a rank (prospects) and with a NULL or non-finite value (NaN, infinity)
        are left out.
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
    con = cursor(t=tiered)
    vmin, vmax, vpos = con.execute(
        f"SELECT min({col}), max({col}), min({col}) FILTER (WHERE {col} > 0) FROM t "
        f"WHERE rank IS NOT NULL AND isfinite({col})").fetchone()
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
        v AS (SELECT {col} AS value, tier, rank FROM t WHERE rank IS NOT NULL AND isfinite({col})),
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
    """The tier summary in long form: each tier's share of customers, of revenue and of orders.

    Parameters
    ----------
    summary : output of :func:`segcore.tier_summary` (``tier``, ``customers``,
        ``customer_share``, ``revenue``, ``revenue_share``, ``orders``, ``order_share``), in
        tier order.

    Returns
    -------
    DataFrame ``measure, tier, position, value, share``: ``measure`` is ``"customers"``,
    ``"orders"`` or ``"revenue"``, ``position`` the tier's row number in ``summary`` (0 = best),
    ``value`` the count or the revenue, ``share`` its share (NULL shares become 0).
    """
    return cursor(s=summary).execute("""
        WITH s AS (SELECT *, row_number() OVER () - 1 AS position FROM s)
        SELECT 'customers' AS measure, tier, position, CAST(customers AS DOUBLE) AS value,
               COALESCE(customer_share, 0) AS share FROM s
        UNION ALL
        SELECT 'revenue', tier, position, CAST(revenue AS DOUBLE), COALESCE(revenue_share, 0) FROM s
        UNION ALL
        SELECT 'orders', tier, position, CAST(orders AS DOUBLE), COALESCE(order_share, 0) FROM s
        ORDER BY measure, position""").df()


# --------------------------------------------------------------------------------------------
# Customer list
# --------------------------------------------------------------------------------------------

def customer_list(tiered: pd.DataFrame, *, tiers=None, search: str | None = None,
                  sort_by: str = "rank", descending: bool = False, labels=None,
                  filters: dict | None = None) -> pd.DataFrame:
    """The tiered list filtered by tier, attributes and search text, sorted by any column.

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
    filters : ``{column: [value, ...]}``: keep the customers whose column (compared as text) is
        one of the values, for every column given (e.g. ``{"region": ["North"], "rfm_segment":
        ["Champions", "Loyal"]}``); an empty list keeps everyone.

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
    for i, (column, values) in enumerate((filters or {}).items()):
        if values:
            where.append(f"list_contains(CAST($f{i} AS VARCHAR[]), CAST({_ident(column, tiered)} AS VARCHAR))")
            params[f"f{i}"] = [str(x) for x in values]
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
    df = cursor(t=tiered).execute(f"""
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
    return cursor(t=tiered).execute("SELECT * FROM t WHERE customer_id = $cid LIMIT 1",
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
    ``category`` is the product's most frequent category (no such column when the file has no
    category), ``amount`` the net amount (returns included), ties ordered by product.
    """
    has_category = con.execute("SELECT EXISTS (SELECT 1 FROM lines WHERE category IS NOT NULL)").fetchone()[0]
    return con.execute(f"""
        SELECT product, {'mode(category) AS category, ' if has_category else ''}count(*) AS lines,
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


# --------------------------------------------------------------------------------------------
# Segments page: segment summary, cross-tabs, attribute filters
# --------------------------------------------------------------------------------------------

def return_only_count(metrics: pd.DataFrame) -> int:
    """How many buyers have only returns or cancellations in the window: no order with a positive
    net amount (``frequency`` 0), not prospects. They get no scores (nothing to score).

    Parameters
    ----------
    metrics : per-customer table with ``frequency`` (and ``is_prospect``).

    Returns
    -------
    The number of such customers.
    """
    prospect = "COALESCE(is_prospect, false)" if "is_prospect" in metrics.columns else "false"
    return int(cursor(t=metrics).execute(
        f"SELECT count(*) FROM t WHERE COALESCE(frequency, 0) = 0 AND NOT {prospect}").fetchone()[0])


def segment_summary(scored: pd.DataFrame, order=None) -> pd.DataFrame:
    """Per RFM segment: customers, revenue, their shares and the average R/F/M values.

    Parameters
    ----------
    scored : per-customer table with ``rfm_segment``, ``monetary``, ``frequency``,
        ``recency_days`` (:func:`segcore.add_scores`).
    order : segment names in display order (the rules' order); each is listed even with no
        customer; segments found but not listed (``Others``) follow, largest first.

    Returns
    -------
    DataFrame ``segment, customers, customer_share, revenue, revenue_share, avg_recency_days,
    avg_frequency, avg_monetary``; shares are of the customers with a segment (NULL segments,
    i.e. prospects, are left out) and, for revenue, as :func:`segcore.tier_summary` has it (each
    customer's net spend at least 0, over the total of those).
    """
    return cursor(t=scored).execute(f"""
        WITH c AS (SELECT rfm_segment AS segment, count(*) AS customers, sum(monetary) AS revenue,
                          sum({revenue_cents()}) AS positive,
                          avg(recency_days) AS avg_recency_days, avg(frequency) AS avg_frequency,
                          avg(monetary) AS avg_monetary
                   FROM t WHERE rfm_segment IS NOT NULL GROUP BY ALL),
        o AS (SELECT unnest(CAST($order AS VARCHAR[])) AS segment,
                     generate_subscripts(CAST($order AS VARCHAR[]), 1) AS pos),
        j AS (SELECT COALESCE(o.segment, c.segment) AS segment, o.pos,
                     COALESCE(c.customers, 0) AS customers, COALESCE(c.revenue, 0) AS revenue,
                     COALESCE(c.positive, 0) AS positive,
                     c.avg_recency_days, c.avg_frequency, c.avg_monetary
              FROM o FULL JOIN c ON c.segment = o.segment)
        SELECT segment, customers, customers / NULLIF(sum(customers) OVER (), 0) AS customer_share,
               revenue, positive / NULLIF(sum(positive) OVER (), 0) AS revenue_share,
               avg_recency_days, avg_frequency, avg_monetary
        FROM j ORDER BY pos NULLS LAST, customers DESC, segment""",
        {"order": [str(x) for x in (order or [])]}).df()


def rf_grid(scored: pd.DataFrame, n: int) -> pd.DataFrame:
    """Customers and mean spend per recency x frequency score cell (the R ``rfm`` package's
    ``rfm_heatmap``).

    Parameters
    ----------
    scored : per-customer table with ``r_score``, ``f_score`` (1..n; NULL for customers without
        a score, e.g. prospects, who are left out) and ``monetary``.
    n : the number of score points.

    Returns
    -------
    DataFrame ``r_score, f_score, customers, mean_monetary``: one row per cell, every score from 1
    to n on both axes (r_score, then f_score ascending); a cell without customers has
    ``customers`` 0 and ``mean_monetary`` NULL.
    """
    return cursor(t=scored).execute("""
        WITH cells AS (SELECT r.range AS r_score, f.range AS f_score
                       FROM range(1, $n + 1) r, range(1, $n + 1) f),
        c AS (SELECT CAST(r_score AS BIGINT) AS r_score, CAST(f_score AS BIGINT) AS f_score,
                     count(*) AS customers, avg(monetary) AS mean_monetary
              FROM t WHERE r_score IS NOT NULL AND f_score IS NOT NULL GROUP BY ALL)
        SELECT cells.r_score, cells.f_score, COALESCE(c.customers, 0) AS customers, c.mean_monetary
        FROM cells LEFT JOIN c USING (r_score, f_score)
        ORDER BY cells.r_score, cells.f_score""", {"n": int(n)}).df()


def rfm_points(tiered: pd.DataFrame, max_points: int = 5_000) -> pd.DataFrame:
    """The scored customers as points of the recency / frequency / spend scatter plots (the R
    ``rfm`` package's ``rfm_rm_plot``, ``rfm_fm_plot`` and ``rfm_rf_plot``), coloured by tier.

    Parameters
    ----------
    tiered : tiered per-customer table (``customer_id``, ``tier``, ``recency_days``,
        ``frequency``, ``monetary``, ``r_score``); customers without a score are left out.
    max_points : at most this many points: a fixed sample (by a hash of the customer id, so
        the same customers on every run) when there are more.

    Returns
    -------
    DataFrame ``customer_id, tier, recency_days, frequency, monetary`` ordered by tier, then
    customer_id; ``attrs["customers"]``: how many customers there are in all.
    """
    con = cursor(t=tiered)
    total = con.execute("SELECT count(*) FROM t WHERE r_score IS NOT NULL").fetchone()[0]
    out = con.execute("""
        SELECT customer_id, tier, recency_days, frequency, monetary
        FROM (SELECT * FROM t WHERE r_score IS NOT NULL ORDER BY hash(customer_id), customer_id LIMIT $k)
        ORDER BY tier, customer_id""", {"k": max(int(max_points), 1)}).df()
    out.attrs["customers"] = int(total)
    return out


def cross_tab(frame: pd.DataFrame, rows: str, columns: str, row_order=None,
              column_order=None, top: int | None = None) -> pd.DataFrame:
    """Customers and revenue for every combination of two columns, in long form.

    Parameters
    ----------
    frame : per-customer table with ``rows``, ``columns`` and ``monetary``.
    rows, columns : the two columns (e.g. ``tier`` and ``rfm_segment``, or ``region`` and
        ``tier``); values are compared as text, NULL shows as ``None`` (kept, listed last).
    row_order, column_order : values in display order; each is listed even with no customer
        (count 0); values found but not listed follow, largest first.
    top : keep only the ``top`` rows with the most customers (None: all).

    Returns
    -------
    DataFrame ``row, column, customers, revenue, row_share`` with every row x column pair in
    display order (rows first); ``row_share`` = customers / customers of that row (NaN for an
    empty row).
    """
    r, c = _ident(rows, frame), _ident(columns, frame)
    return cursor(t=frame).execute(f"""
        WITH d AS (SELECT CAST({r} AS VARCHAR) AS row, CAST({c} AS VARCHAR) AS col, monetary FROM t),
        cells AS (SELECT row, col, count(*) AS customers, COALESCE(sum(monetary), 0) AS revenue
                  FROM d GROUP BY ALL),
        ro AS (SELECT unnest(CAST($ro AS VARCHAR[])) AS v, generate_subscripts(CAST($ro AS VARCHAR[]), 1) AS p),
        co AS (SELECT unnest(CAST($co AS VARCHAR[])) AS v, generate_subscripts(CAST($co AS VARCHAR[]), 1) AS p),
        rv AS (SELECT v, min(p) AS p, sum(n) AS n FROM (
                   SELECT v, p, 0 AS n FROM ro
                   UNION ALL SELECT row, NULL, customers FROM cells) GROUP BY v),
        rk AS (SELECT v, row_number() OVER (ORDER BY n DESC, v) AS k FROM rv),
        cv AS (SELECT v, min(p) AS p, sum(n) AS n FROM (
                   SELECT v, p, 0 AS n FROM co
                   UNION ALL SELECT col, NULL, customers FROM cells) GROUP BY v)
        SELECT rv.v AS row, cv.v AS "column", COALESCE(cells.customers, 0) AS customers,
               COALESCE(cells.revenue, 0) AS revenue,
               COALESCE(cells.customers, 0) / NULLIF(rv.n, 0) AS row_share
        FROM rv JOIN rk ON rk.v IS NOT DISTINCT FROM rv.v AND rk.k <= $top CROSS JOIN cv
        LEFT JOIN cells ON cells.row IS NOT DISTINCT FROM rv.v AND cells.col IS NOT DISTINCT FROM cv.v
        ORDER BY rv.v IS NULL, rv.p NULLS LAST, rv.n DESC, rv.v, cv.v IS NULL, cv.p NULLS LAST, cv.n DESC, cv.v""",
        {"ro": [str(x) for x in (row_order or [])], "co": [str(x) for x in (column_order or [])],
         "top": top if top is not None else 2**62}).df()


def tier_pairs(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Each customer's level under two tierings of the same per-customer table.

    Parameters
    ----------
    first, second : :func:`segcore.assign_tiers` outputs over the same rows (same order).

    Returns
    -------
    DataFrame ``customer_id, first, second, monetary`` (levels as text), same rows.
    """
    return pd.DataFrame({"customer_id": first["customer_id"].to_numpy(),
                         "first": first["tier"].astype(str).to_numpy(),
                         "second": second["tier"].astype(str).to_numpy(),
                         "monetary": first["monetary"].to_numpy()})


def agreement(cross: pd.DataFrame, leave_out=()) -> float:
    """Share of customers on the diagonal of a :func:`cross_tab` (same value both ways).

    ``leave_out``: values whose row and column are not counted (e.g. the prospect level).
    Returns NaN when no customer is counted.
    """
    kept = cross[~cross["row"].isin(list(leave_out)) & ~cross["column"].isin(list(leave_out))]
    total = kept["customers"].sum()
    same = kept.loc[kept["row"] == kept["column"], "customers"].sum()
    return float(same / total) if total else float("nan")


def cross_tab_table(long: pd.DataFrame, measure: str = "customers", corner: str = "") -> pd.DataFrame:
    """A :func:`cross_tab` as a wide table for display.

    Parameters
    ----------
    long : output of :func:`cross_tab`.
    measure : ``customers``, ``revenue`` or ``row_share``.
    corner : name of the first column, which holds the row values.

    Returns
    -------
    DataFrame: ``corner`` then one column per ``column`` value (in the long table's order), one row
    per ``row`` value (same order), cells = ``measure``; then a ``Total`` column for customers or
    revenue. NULL values show as ``"—"``.
    """
    if measure not in ("customers", "revenue", "row_share"):
        raise ValueError(f"measure is customers, revenue or row_share; got {measure!r}.")
    rows = list(dict.fromkeys(long["row"].fillna("—")))
    cols = list(dict.fromkeys(long["column"].fillna("—")))
    values = long[measure].to_numpy().reshape(len(rows), len(cols)) if len(long) else []
    out = pd.DataFrame({corner: rows})
    for i, col in enumerate(cols):
        out[col] = [row[i] for row in values]
    if measure != "row_share" and len(cols):
        out["Total"] = out[cols].sum(axis=1)
    return out


def attribute_values(frame: pd.DataFrame, column: str, limit: int = 200) -> pd.DataFrame:
    """The values of one attribute with their customer counts, most common first.

    Returns
    -------
    DataFrame ``value, customers`` (at most ``limit`` rows; NULL left out).
    """
    col = _ident(column, frame)
    return cursor(t=frame).execute(f"""
        SELECT CAST({col} AS VARCHAR) AS value, count(*) AS customers FROM t
        WHERE {col} IS NOT NULL GROUP BY ALL ORDER BY customers DESC, value LIMIT $limit""",
        {"limit": int(limit)}).df()


# --------------------------------------------------------------------------------------------
# Migration, churn and playbook pages: display shaping of the engine's tables
# --------------------------------------------------------------------------------------------

def localise(frame: pd.DataFrame, lang: str, labels: dict | None = None) -> pd.DataFrame:
    """A copy of an engine table for display in one language.

    Parameters
    ----------
    frame : any table; bilingual text comes as a column ``X`` (English) plus ``X_zh`` (Chinese),
        e.g. ``reason``/``reason_zh``, ``strategy``/``strategy_zh``, ``stage``/``stage_zh``.
    lang : ``"zh"``: every ``X`` takes the values of its ``X_zh``; anything else keeps English.
    labels : ``{column: {code: label}}``: coded values to show as words (e.g. ``{"risk":
        {"high": "High"}}``), applied after the language switch; values not listed, and missing
        values, stay as they are.

    Returns
    -------
    DataFrame with the columns of ``frame`` minus every ``X_zh`` whose ``X`` exists, in the same
    order, with the same rows and index.
    """
    out = frame.copy()
    for name in list(out.columns):
        base = str(name)[:-3] if str(name).endswith("_zh") else None
        if base and base in out.columns:
            if lang == "zh":
                out[base] = out[name].to_numpy()
            out = out.drop(columns=name)
    for column, mapping in (labels or {}).items():
        if column in out.columns:
            out[column] = out[column].astype(object).map(
                lambda v, m=mapping: m.get(v, v) if isinstance(v, str) else v)
    return out


def keep_rows(frame: pd.DataFrame, **conditions) -> pd.DataFrame:
    """The rows whose value in each named column is one of the given values, order kept.

    Parameters
    ----------
    frame : any table.
    conditions : ``column=values``; ``None`` keeps every row, a list keeps the rows whose value
        (compared as text) is in it (an empty list keeps none).

    Returns
    -------
    DataFrame with the columns of ``frame``, the kept rows in their order, index 0..n-1.
    """
    mask = pd.Series(True, index=frame.index)
    for column, values in conditions.items():
        _ident(column, frame)
        if values is not None:
            mask &= frame[column].astype(str).isin([str(v) for v in values])
    return frame[mask].reset_index(drop=True)


def matrix_table(matrix: pd.DataFrame, names: dict | None = None, corner: str = "before") -> pd.DataFrame:
    """A transition matrix (index = level before, columns = level after) as a plain table.

    Parameters
    ----------
    matrix : ``Migration.customers_matrix`` or ``Migration.revenue_matrix``.
    names : display names for row and column labels (e.g. ``{"new": "New customers"}``); other
        labels stay as they are.
    corner : name of the first column, which holds the row labels.

    Returns
    -------
    DataFrame: first column ``corner`` (the row labels, named), then one column per level after
    (named), holding the matrix values.
    """
    names = names or {}
    out = pd.DataFrame({corner: [names.get(r, r) for r in matrix.index]})
    for col in matrix.columns:
        out[names.get(col, col)] = matrix[col].to_numpy()
    return out


def playbook_rows(saved, defaults) -> list[dict]:
    """The playbook for the current levels: each level's saved row, else its default.

    Parameters
    ----------
    saved : playbook rows edited or loaded before (dicts with ``level``), possibly for other
        levels too (those are ignored here).
    defaults : the default rows for the current levels, in level order
        (:func:`segcore.playbook.default_playbook`).

    Returns
    -------
    list of dicts, one per default row and in its order: the saved row of that ``level`` (fields
    it lacks taken from the default; fields the default does not have dropped), else the default.
    """
    by_level = {str(r.get("level")): r for r in (saved or []) if isinstance(r, dict)}
    return [{**d, **{k: v for k, v in by_level.get(str(d["level"]), {}).items() if k in d}}
            for d in defaults]


def playbook_table(rows, lang: str) -> pd.DataFrame:
    """The playbook as an editable table in one language.

    Parameters
    ----------
    rows : playbook rows (``level, strategy, strategy_zh, service_level, service_level_zh,
        cadence_days``).
    lang : ``"zh"`` shows ``strategy_zh`` / ``service_level_zh``, anything else the English texts.

    Returns
    -------
    DataFrame ``level, strategy, service_level, cadence_days`` (text, text, text, Int64), one row
    per playbook row.
    """
    zh = "_zh" if lang == "zh" else ""
    return pd.DataFrame({
        "level": [str(r["level"]) for r in rows],
        "strategy": [str(r.get("strategy" + zh) or "") for r in rows],
        "service_level": [str(r.get("service_level" + zh) or "") for r in rows],
        "cadence_days": pd.array([int(r["cadence_days"]) for r in rows], dtype="Int64"),
    })


def _blank(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def playbook_merge(rows, edited: pd.DataFrame, lang: str) -> list[dict]:
    """Apply an edited :func:`playbook_table` back to the playbook rows.

    Parameters
    ----------
    rows : the rows the table was made from (same order).
    edited : the table after editing (``level, strategy, service_level, cadence_days``).
    lang : the language the table was shown in: its texts go to ``strategy_zh`` /
        ``service_level_zh`` for ``"zh"``, else to ``strategy`` / ``service_level``; the other
        language's texts are kept.

    Returns
    -------
    New list of rows (``rows`` is not changed). A blank or invalid cadence (not a whole number
    of days, 1 or more) keeps the previous one; ``level`` is never changed here.
    """
    zh = "_zh" if lang == "zh" else ""
    out = []
    for row, new in zip(rows, edited.to_dict("records")):
        row = dict(row)
        for name in ("strategy", "service_level"):
            value = new.get(name)
            row[name + zh] = "" if _blank(value) else str(value)
        cadence = new.get("cadence_days")
        try:
            days = float(cadence)
        except (TypeError, ValueError):
            days = float("nan")
        if days >= 1 and days == int(days):
            row["cadence_days"] = int(days)
        out.append(row)
    return out
