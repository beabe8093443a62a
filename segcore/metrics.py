"""Per-customer metrics, one definition for the UI, the exports and the command line."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd

__all__ = ["ACTIVITY_DAYS", "METRIC_COLUMNS", "customer_metrics", "window_bounds"]

#: Amounts are added up as whole multiples of 1 / AMOUNT_STEPS of the currency unit. Doubles add
#: whole numbers exactly (up to 2**53, some 9 * 10**11 currency units per sum), so a sum does not
#: depend on the order DuckDB's threads read the lines in: the same file gives the same numbers.
AMOUNT_STEPS = 10_000

#: Columns of the per-customer table, in export order (``tier`` and ``cumulative_share`` are added
#: by tiering; attribute columns follow these).
METRIC_COLUMNS = (
    "customer_id", "recency_days", "frequency", "monetary", "avg_order_value",
    "first_order_date", "last_order_date", "tenure_days", "product_breadth",
    "avg_interval_days", "spend_first_half", "spend_second_half", "trend", "is_prospect",
)

#: Interactions within this many days before the as-of date count as recent activity.
ACTIVITY_DAYS = 90

#: Money is shown in cents: a sum of amount steps is rounded to ``AMOUNT_STEPS // 100`` steps.
_STEPS_PER_CENT = AMOUNT_STEPS // 100


def half_up(num: str, den: str) -> str:
    """SQL for the whole number nearest to ``num / den``, halves away from zero, computed exactly.

    ``num`` and ``den`` are SQL expressions with whole-number values (step sums, day counts). The
    division is done on 128-bit integers, so ``653.01 / 2`` gives 326.51 cents-exactly on every
    DuckDB version, where ``round(double, 2)`` rounds the binary value (0.305 -> 0.30).
    """
    n, d = f"CAST({num} AS HUGEINT)", f"CAST({den} AS HUGEINT)"
    return f"(sign({n}) * sign({d}) * ((2 * abs({n}) + abs({d})) // (2 * abs({d}))))"


def _cents(steps: str, count: str = "1") -> str:
    """SQL: a sum of amount steps divided by ``count``, in currency units rounded half-up to cents."""
    return f"({half_up(steps, f'{_STEPS_PER_CENT} * {count}')} / 100)"


# Per-customer attributes taken from the order lines (the most frequent value) when mapped.
_LINE_ATTRIBUTES = {"region": "region", "city": "city", "channel": "channel", "category": "top_category"}


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


def _tables(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


def amount_steps(amount: str) -> str:
    """SQL: ``amount * AMOUNT_STEPS`` rounded to a whole number of steps, halves away from zero,
    on the binary value (what DuckDB's ``round(x)`` does), in a form every engine computes alike.

    ``round(double)`` is not portable: Spark rounds the double's shortest decimal text (10000.5 for
    a product that is 10000.4999999999 in binary), DuckDB the binary value. ``floor``, ``abs`` and
    the comparison are exact on doubles, so both engines give the same step for every amount.
    """
    x = f"({amount} * {AMOUNT_STEPS})"
    return f"(sign({x}) * (floor(abs({x})) + CASE WHEN abs({x}) - floor(abs({x})) >= 0.5 THEN 1 ELSE 0 END))"


#: Optional columns of ``lines`` whose presence (a non-NULL value) shapes the metrics query.
FILLED_COLUMNS = ("product", *_LINE_ATTRIBUTES, "order_id", "amount", "order_id_gaps")


def _filled(con) -> dict[str, bool]:
    """Which optional columns hold a value (``FILLED_COLUMNS``; ``order_id_gaps``: some line has no
    order id). Each probe stops at its first row, and a column that is empty everywhere is answered
    from the table's statistics without a scan; probes in a UNION ALL plan in 4 ms where as many
    EXISTS in one SELECT took 19 ms."""
    probes = [(c, f"{c} IS NOT NULL") for c in FILLED_COLUMNS[:-1]] + [("order_id_gaps", "order_id IS NULL")]
    found = {row[0] for row in con.execute(" UNION ALL ".join(
        f"(SELECT '{name}' FROM lines WHERE {cond} LIMIT 1)" for name, cond in probes)).fetchall()}
    return {name: name in found for name, _ in probes}


def metrics_sql(filled: dict[str, bool], start: date, as_of: date, *, customer_columns: list[str] | None = None,
                attribute_names: dict[str, str] | None = None, interactions: bool = False) -> tuple[str, dict]:
    """The per-customer metrics query and its parameters: the one definition every engine runs.

    Written in the portable subset of DuckDB SQL that :mod:`segcore.portable` renders for Spark
    (no ``round`` on doubles, no ``NOT MATERIALIZED``, no ``EXCLUDE``, no date arithmetic: the
    dates it needs are parameters). Reads ``lines`` (``customer_id``, ``order_date``, ``amount``,
    ``order_id``, ``product``, ``region``, ``city``, ``channel``, ``category``, ``_line``) and,
    when named, ``customers`` (``customer_id`` + ``customer_columns``) and ``interactions``
    (``customer_id``, ``date``).

    Parameters
    ----------
    filled : ``FILLED_COLUMNS`` -> whether the column holds a value.
    start, as_of : the window (:func:`window_bounds`).
    customer_columns : the customers table's columns other than ``customer_id`` (None: no table).
    attribute_names : ``{column: header}`` of the customers table's attributes (their headers win
        over a same-named line attribute).
    interactions : the ``interactions`` table is there.

    Returns
    -------
    (sql, params) : ``$name`` parameters; the result's columns as :func:`customer_metrics` says,
    before the attribute columns are renamed to their headers.
    """
    mid = start + timedelta(days=(as_of - start).days // 2)
    # An order is its order id; a line without one is its customer-day, or in count-only mode
    # (a file without amounts) the line itself. The cheapest key that says so is grouped by.
    priced = filled["amount"]
    alone = "order_date" if priced else "_line"
    order_key = ("order_id" if filled["order_id"] and not filled["order_id_gaps"] else
                 alone if not filled["order_id"] else f"COALESCE(order_id, CAST({alone} AS VARCHAR))")
    taken = set((attribute_names or {}).values())
    line_attrs = [(c, name) for c, name in _LINE_ATTRIBUTES.items() if filled[c] and name not in taken]
    has_customers = customer_columns is not None
    extra = []  # the optional CTEs
    if filled["product"]:
        extra.append(f"""
        , breadth AS (
            SELECT customer_id, count(DISTINCT product) AS product_breadth
            FROM w {"WHERE amount > 0" if priced else ""} GROUP BY customer_id)""")
    if line_attrs:
        # the most frequent value, a tie to the lowest (NULL only when the customer has no value):
        # counted per customer and value, the least of (no value, -count, value) wins; an ordered
        # mode() aggregate took 1.4 times as long
        extra.append("\n        , line_attrs AS (SELECT * FROM " + " JOIN ".join(f"""(
            SELECT customer_id, min_by({c}, struct_pack(missing := {c} IS NULL, neg := -n, v := {c})) AS {name}
            FROM (SELECT customer_id, {c}, count(*) AS n FROM w GROUP BY customer_id, {c}) GROUP BY customer_id) a{i}"""
            + (" USING (customer_id)" if i else "") for i, (c, name) in enumerate(line_attrs)) + ")")
    if interactions:
        extra.append("""
        , activity AS (
            SELECT customer_id,
                   count(*) FILTER (WHERE date > $activity_start) AS interactions_90d,
                   max(date) AS last_interaction_date
            FROM interactions WHERE date <= $as_of GROUP BY customer_id)""")
    sql = f"""
        WITH w AS (
            SELECT customer_id, {order_key} AS order_key,
                   order_date, amount, {amount_steps("amount") if priced else "1"} AS amount_steps,
                   product, region, city, channel, category
            FROM lines WHERE order_date BETWEEN $start AND $as_of),
        orders AS (
            SELECT customer_id, min(order_date) AS order_date, sum(amount_steps) AS net,
                   sum(amount_steps) FILTER (WHERE order_date <= $mid) AS first_half,
                   sum(amount_steps) FILTER (WHERE order_date > $mid) AS second_half
            FROM w GROUP BY customer_id, order_key),
        order_days AS (
            SELECT customer_id, order_date, count(*) FILTER (WHERE net > 0) AS bought,
                   sum(net) AS net, sum(first_half) AS first_half, sum(second_half) AS second_half
            FROM orders GROUP BY customer_id, order_date),
        per_customer AS (
            SELECT customer_id,
                   CAST(sum(bought) AS BIGINT) AS frequency,
                   sum(net) AS net,
                   min(order_date) FILTER (WHERE bought > 0) AS first_order_date,
                   max(order_date) FILTER (WHERE bought > 0) AS last_order_date,
                   count(*) FILTER (WHERE bought > 0) AS order_days,
                   COALESCE(sum(first_half), 0) AS first_half,
                   COALESCE(sum(second_half), 0) AS second_half
            FROM order_days GROUP BY customer_id)
        {"".join(extra)}
        , everyone AS (
            SELECT customer_id FROM per_customer
            {"UNION SELECT customer_id FROM customers" if has_customers else ""})
        SELECT e.customer_id,
               date_diff('day', last_order_date, $as_of) AS recency_days,
               COALESCE(frequency, 0) AS frequency,
               {f"COALESCE({_cents('net')}, 0)" if priced else "CAST(NULL AS DOUBLE)"} AS monetary,
               CASE WHEN {"frequency > 0" if priced else "false"} THEN {_cents("net", "frequency")} END
                   AS avg_order_value,
               first_order_date, last_order_date,
               date_diff('day', first_order_date, $as_of) AS tenure_days,
               {"COALESCE(product_breadth, 0)" if filled["product"] else "CAST(NULL AS BIGINT)"} AS product_breadth,
               CASE WHEN order_days >= 2
                    THEN {half_up("10 * date_diff('day', first_order_date, last_order_date)", "order_days - 1")} / 10
               END AS avg_interval_days,
               {f"COALESCE({_cents('first_half')}, 0)" if priced else "CAST(NULL AS DOUBLE)"} AS spend_first_half,
               {f"COALESCE({_cents('second_half')}, 0)" if priced else "CAST(NULL AS DOUBLE)"} AS spend_second_half,
               CASE WHEN {"first_half > 0" if priced else "false"}
                    THEN {half_up("10000 * (second_half - first_half)", "first_half")} / 10000 END AS trend,
               p.customer_id IS NULL AS is_prospect
               {''.join(f', l.{name}' for _, name in line_attrs)}
               {", COALESCE(a.interactions_90d, 0) AS interactions_90d, a.last_interaction_date"
                if interactions else ""}
               {''.join(f', c."{col}"' for col in customer_columns or ())}
        FROM everyone e
        LEFT JOIN per_customer p USING (customer_id)
        {"LEFT JOIN breadth b USING (customer_id)" if filled["product"] else ""}
        {"LEFT JOIN line_attrs l USING (customer_id)" if line_attrs else ""}
        {"LEFT JOIN activity a USING (customer_id)" if interactions else ""}
        {"LEFT JOIN customers c USING (customer_id)" if has_customers else ""}
        ORDER BY e.customer_id"""
    params = {"start": start, "as_of": as_of, "mid": mid,
              **({"activity_start": as_of - timedelta(days=ACTIVITY_DAYS)} if interactions else {})}
    return sql, params


def customer_metrics(con: duckdb.DuckDBPyConnection, *, as_of: date | None = None,
                     since: date | None = None) -> pd.DataFrame:
    """One row per customer: buyers in the window ``[since, as_of]``, plus prospects.

    Parameters
    ----------
    con : connection holding the view ``lines`` (``customer_id``, ``order_date``, ``amount``,
        ``order_id``, ``product`` ...) made by :func:`segcore.load_orders`, and optionally the
        tables ``customers`` and ``interactions`` (:func:`segcore.load_customers`,
        :func:`segcore.load_interactions`). An order is an ``order_id``; lines without one (or
        files without the column) make one order per customer-day, or in count-only mode (no
        amounts) one order per line.
    as_of : the date ``D`` metrics are taken at; lines after it are ignored. Default: the latest
        order date.
    since : optional window start; lines before it are ignored. Default: the earliest order date.

    Returns
    -------
    DataFrame, one row per customer, sorted by ``customer_id``, with ``METRIC_COLUMNS``:

    - ``first_order_date``, ``last_order_date``: over orders with a positive net amount (an order's
      date is the earliest date among its lines).
    - ``recency_days`` = D - last_order_date; ``tenure_days`` = D - first_order_date.
    - ``frequency``: orders with a positive net amount (returns and cancellations are not orders).
    - ``monetary``: net spend, the sum of all amounts, returns included (amounts are added in
      steps of ``1 / AMOUNT_STEPS``, so that the sums do not depend on the order of the lines).
    - ``avg_order_value`` = monetary / frequency (NaN when frequency is 0).
    - Money is rounded to cents half-up (halves away from zero) on the exact step sums, never on a
      binary double: 653.01 / 2 = 326.51 (:func:`half_up`); ``avg_interval_days`` (one decimal)
      and ``trend`` (four) are rounded the same way.
    - ``product_breadth``: distinct products bought (positive lines); NA when no product column.
    - ``avg_interval_days``: mean gap between consecutive order days (NaN with fewer than 2).
    - ``spend_first_half``, ``spend_second_half``: net spend in the first and the last half of the
      window; ``trend`` = second / first - 1 (NaN when the first half is <= 0).
    - ``is_prospect``: a customer of the customers file with no order line in the window (frequency
      and monetary 0, dates and recency empty).

    Then, when the data has them: ``region``, ``city``, ``channel``, ``top_category`` (each the
    customer's most frequent value in the order lines; a tie goes to the first value in sort order);
    ``interactions_90d`` (interactions in the ``ACTIVITY_DAYS`` days up to D) and
    ``last_interaction_date``; ``name`` and the customers file's attribute columns (which win over a same-named attribute from the orders).

    Customers whose lines all net to <= 0 appear with frequency 0 and empty dates.

    Count-only mode (the lines have no amounts, :func:`segcore.load_orders` on a file without an
    amount column): every order counts (frequency = orders, one per line without an order id),
    dates, recency, tenure, intervals, breadth and activity as above; ``monetary``,
    ``avg_order_value``, ``spend_first_half``, ``spend_second_half`` and ``trend`` are NaN.
    """
    start, as_of = window_bounds(con, as_of, since)
    tables = _tables(con)
    attr_names = (dict(con.execute("SELECT col, header FROM customer_attribute_names").fetchall())
                  if "customer_attribute_names" in tables else {})
    customer_columns = ([r[0] for r in con.execute("DESCRIBE customers").fetchall() if r[0] != "customer_id"]
                        if "customers" in tables else None)
    sql, params = metrics_sql(_filled(con), start, as_of, customer_columns=customer_columns,
                              attribute_names=attr_names, interactions="interactions" in tables)
    return con.execute(sql, params).df().rename(columns=attr_names)
