"""Checks of a column mapping that loaded but looks wrong (a warning, never a block).

A file can load under a mapping that makes no sense: ``Country`` as the customer id (38
customers from 541,909 lines), a zip-code column as the amount, a date column that spans
centuries. :func:`mapping_checks` looks at the used lines once, in one SQL query, and says what
looks wrong, as codes with the column and the numbers for a UI to put into words.
"""

from __future__ import annotations

from datetime import date

from .ingest import Dataset

__all__ = ["LINES_PER_CUSTOMER", "CODE_MIN", "DATE_FIRST_YEAR", "DATE_MAX_YEARS", "mapping_checks"]

#: Lines per customer from which the customer id looks like a category (a country, a shop).
LINES_PER_CUSTOMER = 500
#: An amount column whose every value is a whole number at least this large looks like codes.
CODE_MIN = 1000
#: Dates before this year, or a span longer than this many years, look wrongly read or mapped.
DATE_FIRST_YEAR = 1950
DATE_MAX_YEARS = 50


def mapping_checks(ds: Dataset, today: date | None = None) -> list[dict]:
    """What looks wrong about the columns chosen for the customer id, the amount and the date.

    Parameters
    ----------
    ds : a loaded orders file (:func:`segcore.load_orders`); its ``lines`` view (used lines) is read.
    today : the day dates after which (by more than a year) look wrong; default today.

    Returns
    -------
    A list of dicts ``{"code", "field", "column", **numbers}``, in the order below, empty when
    nothing looks wrong:

    - ``few_customers``: the id column has very few distinct values for the lines, at least
      :data:`LINES_PER_CUSTOMER` lines per customer on average (``customers``, ``lines``);
    - ``amount_codes``: every amount is a whole number of at least :data:`CODE_MIN` and the
      values seldom repeat (at least half the lines hold a value of their own): codes, not money
      (``lines``, ``distinct``, ``low``, ``high``);
    - ``date_range``: dates before :data:`DATE_FIRST_YEAR`, more than a year after ``today``,
      or spanning over :data:`DATE_MAX_YEARS` years (``first``, ``last``).
    """
    today = today or date.today()
    columns = ds.report.mapping
    amount = "amount" if ds.report.amount_source == "amount" else None
    row = ds.con.cursor().execute(f"""
        SELECT count(*) AS lines, count(DISTINCT customer_id) AS customers,
               min(order_date) AS first, max(order_date) AS last,
               {'bool_and(amount = trunc(amount))' if amount else 'NULL'} AS whole,
               {'min(amount)' if amount else 'NULL'} AS low, {'max(amount)' if amount else 'NULL'} AS high,
               {'count(DISTINCT amount)' if amount else 'NULL'} AS distinct_amounts
        FROM lines""").fetchone()
    lines, customers, first, last, whole, low, high, distinct = row
    found = []
    if customers and lines / customers >= LINES_PER_CUSTOMER:
        found.append({"code": "few_customers", "field": "customer_id", "column": columns.get("customer_id"),
                      "customers": int(customers), "lines": int(lines)})
    if amount and lines >= 5 and whole and low >= CODE_MIN and 2 * distinct >= lines:
        found.append({"code": "amount_codes", "field": "amount", "column": columns.get("amount"),
                      "lines": int(lines), "distinct": int(distinct), "low": float(low), "high": float(high)})
    if first is not None and (first.year < DATE_FIRST_YEAR or (last - today).days > 366
                              or (last - first).days > DATE_MAX_YEARS * 365.25):
        found.append({"code": "date_range", "field": "order_date", "column": columns.get("order_date"),
                      "first": first, "last": last})
    return found
