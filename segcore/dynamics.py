"""Dynamics: tier migration between two dates, churn early warning, rising customers, lifecycle stage.

Every rule here is stated in the docstring of the function that applies it, and the rules the pages
show are returned as data (:func:`churn_rules`, :func:`lifecycle_rules`), in English and Chinese.
The work is done in DuckDB SQL over the small per-customer table (and, for :func:`lifecycle`, over
the order lines); user values only ever reach SQL as bound parameters.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd

from .frames import cursor
from .metrics import customer_metrics
from .tiers import TierRules, assign_tiers

__all__ = [
    "MOVEMENTS", "PERIODS", "RISK_LEVELS", "STAGES", "Migration", "churn_risk", "churn_rules",
    "compare_tiers", "lifecycle", "lifecycle_rules", "migrate", "previous_as_of", "rising_customers",
]

#: Movement of a customer between two as-of dates, in the order lists are shown.
MOVEMENTS = ("upgraded", "downgraded", "new", "lost", "same")

#: Named periods for :func:`previous_as_of`, in months.
PERIODS = {"month": 1, "quarter": 3, "half-year": 6, "year": 12}

#: Churn risk levels, most urgent first.
RISK_LEVELS = ("high", "medium", "low")

#: Lifecycle stages in the order their rules are tried (the first that applies wins), with Chinese names.
STAGES = {"prospect": "潜在客户", "new": "新客户", "reactivated": "回流客户", "lapsed": "沉睡客户",
          "at risk": "流失风险", "active": "活跃客户"}

# Columns carried into the lists when the per-customer table has them (who to call, and where).
_CONTACT_COLUMNS = ("name", "region", "city", "channel")


def _col(df: pd.DataFrame, expr: str, default_sql: str, name: str | None = None) -> str:
    """``expr`` (a column, or an expression of column ``name``) when ``df`` has the column, else a
    typed default; either way named ``name``."""
    name = name or expr
    return f"{expr} AS {name}" if name in df.columns else f"{default_sql} AS {name}"


def _contact_cols(df: pd.DataFrame, prefix: str = "") -> str:
    return "".join(f', {prefix}"{c}"' for c in _CONTACT_COLUMNS if c in df.columns)


def _levels(df: pd.DataFrame, labels=None) -> list[str]:
    """All tier labels of ``df``, best first.

    ``labels`` (the rules' levels) come first in their order. Then, for an ordered categorical
    ``tier`` (as :func:`segcore.assign_tiers` makes), its categories in order; otherwise the tiers
    found, by their best ``rank`` (no rank, e.g. prospects: last, alphabetically).
    """
    labels = [str(x) for x in (labels or ())]
    if "tier" not in df.columns:
        return labels
    tier = df["tier"]
    if isinstance(tier.dtype, pd.CategoricalDtype):
        found = [str(c) for c in tier.cat.categories]
    else:
        found = [str(t) for t in pd.unique(tier.dropna())]
        if "rank" in df.columns:
            best = pd.to_numeric(df["rank"], errors="coerce").groupby(tier.astype(object)).min()
            found.sort(key=lambda t: (pd.isna(best.get(t)), best.get(t) if pd.notna(best.get(t)) else 0, t))
        else:
            found.sort()
    return [*labels, *(t for t in found if t not in set(labels))]


def _as_of_of(metrics: pd.DataFrame) -> date | None:
    """The as-of date a per-customer table was taken at: ``last_order_date + recency_days``."""
    if not {"last_order_date", "recency_days"} <= set(metrics.columns):
        return None
    known = metrics["last_order_date"].notna() & metrics["recency_days"].notna()
    if not known.any():
        return None
    row = metrics[known].iloc[0]
    return (pd.Timestamp(row["last_order_date"]) + pd.Timedelta(days=int(row["recency_days"]))).date()


# --------------------------------------------------------------------------------------------
# Migration
# --------------------------------------------------------------------------------------------

def previous_as_of(as_of: date, period: str | int = "quarter") -> date:
    """The as-of date one period before ``as_of``.

    Parameters
    ----------
    as_of : the later date.
    period : ``"month"``, ``"quarter"``, ``"half-year"``, ``"year"`` (calendar months back), or a
        number of days.

    Returns
    -------
    date : the same day of the month ``1/3/6/12`` months earlier, clipped to that month's length
    (2024-05-31 minus a quarter is 2024-02-29); a month end maps to a month end (2024-04-30 minus a
    month is 2024-03-31), so month-end reports compare month ends.
    """
    if isinstance(period, (int, np.integer)) and not isinstance(period, bool):
        if period <= 0:
            raise ValueError("A period in days must be positive.")
        return as_of - timedelta(days=int(period))
    key = str(period).strip().lower().replace("_", "-").replace(" ", "-")
    key = {"halfyear": "half-year", "half": "half-year", "6m": "half-year", "3m": "quarter",
           "1m": "month", "12m": "year"}.get(key, key)
    if key not in PERIODS:
        raise ValueError(f"Unknown period {period!r}; use one of {', '.join(PERIODS)} or a number of days.")
    index = as_of.year * 12 + as_of.month - 1 - PERIODS[key]
    year, month = divmod(index, 12)
    month += 1
    month_end = calendar.monthrange(year, month)[1]
    at_month_end = as_of.day == calendar.monthrange(as_of.year, as_of.month)[1]
    return date(year, month, month_end if at_month_end else min(as_of.day, month_end))


@dataclass(repr=False)
class Migration:
    """Tiers at two as-of dates compared customer by customer.

    Attributes
    ----------
    as_of_before, as_of_after : the two dates.
    levels : the tier labels in order, best first (with the prospect level when there were prospects).
    customers : one row per customer seen at either date: ``customer_id, tier_before, tier_after,
        movement, levels_moved, monetary_before, monetary_after, revenue, last_order_date``
        (see :func:`compare_tiers`), sorted by ``customer_id``.
    customers_matrix, revenue_matrix : transition matrices; index = level before (``levels`` then
        ``"new"``), columns = level after (``levels`` then ``"lost"``); cells = customers, and the
        sum of ``revenue``.
    links : Sankey-ready flows with at least one customer: ``source, target, customers, revenue,
        source_node, target_node`` (node numbers index ``nodes``).
    nodes : ``node, level, side``: the matrix rows (side ``"before"``) then its columns (``"after"``).
    summary : per movement (all five, in ``MOVEMENTS`` order): ``customers, revenue_before,
        revenue_after``.
    before, after : the two tiered per-customer tables that were compared.
    """

    as_of_before: date | None
    as_of_after: date | None
    levels: tuple[str, ...]
    customers: pd.DataFrame
    customers_matrix: pd.DataFrame
    revenue_matrix: pd.DataFrame
    links: pd.DataFrame
    nodes: pd.DataFrame
    summary: pd.DataFrame
    before: pd.DataFrame | None = field(default=None, repr=False)
    after: pd.DataFrame | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        counts = ", ".join(f"{m} {n}" for m, n in zip(self.summary["movement"], self.summary["customers"]))
        return (f"Migration({self.as_of_before} -> {self.as_of_after}, levels {list(self.levels)}: "
                f"{counts})")

    def list(self, movement: str) -> pd.DataFrame:
        """The customers with one movement, biggest first (lost and downgraded by spend before,
        the others by spend after; ties by ``customer_id``)."""
        if movement not in MOVEMENTS:
            raise ValueError(f"movement is one of {', '.join(MOVEMENTS)}.")
        key = "monetary_before" if movement in ("lost", "downgraded") else "monetary_after"
        rows = self.customers[self.customers["movement"] == movement]
        return rows.sort_values([key, "customer_id"], ascending=[False, True],
                                na_position="last").reset_index(drop=True)


def compare_tiers(before: pd.DataFrame, after: pd.DataFrame, labels, *, as_of_before: date,
                  as_of_after: date, prospect_label: str | None = "Iron",
                  active_days: int | None = None) -> Migration:
    """Compare two tierings of the same customers (two as-of dates, or a saved snapshot and now).

    Parameters
    ----------
    before, after : tiered per-customer tables (:func:`segcore.assign_tiers`) with
        ``customer_id, tier, monetary, frequency, last_order_date`` (the last order with a
        positive net amount up to each date), e.g. a saved snapshot and the current tiers.
    labels : the levels, best first (the same rules tiered both tables).
    as_of_before, as_of_after : the two dates.
    prospect_label : the prospects' level, placed after ``labels`` when either table has it.
    active_days : a customer counts as active at the earlier date when they ordered within
        ``active_days`` days up to it; default: the days between the two dates (active in the
        period before, so that each customer is lost once, in the period after their last one).

    Returns
    -------
    :class:`Migration`; its ``customers`` table also carries ``name, region, city, channel`` when
    either tiering has them (the later one's value first). The movement of each customer, first
    rule that applies:

    - ``new``: no order with a positive net amount up to ``as_of_before`` (absent from ``before``,
      a prospect then, or returns only), and one after it (``last_order_date > as_of_before``).
    - ``lost``: active at the earlier date (an order with a positive net amount in the
      ``active_days`` days up to ``as_of_before``, i.e. ``as_of_before - last_order_date <
      active_days``) and no such order after it, up to the later date. Customers who had already
      stopped before (no order in those ``active_days`` days, none since) are dormant, not lost
      again: their movement is ``same``.
    - ``upgraded`` / ``downgraded``: tier after is above / below tier before (levels in order,
      prospects last); ``levels_moved`` counts the steps (positive = up).
    - ``same``: otherwise (also prospects who stayed prospects, and dormant customers).

    In the matrices a new customer is counted in the row ``"new"`` and a lost one in the column
    ``"lost"``; everyone else in (tier before, tier after). ``revenue`` of a customer is the spend
    at the later date (``monetary_after``), except for lost customers, whose spend at the earlier
    date is what was lost (``monetary_before``).
    """
    labels = tuple(labels)
    for word in ("new", "lost"):
        if word in labels or word == prospect_label:
            raise ValueError(f"{word!r} names a migration row or column; choose another level label.")
    has_prospects = prospect_label is not None and any(
        (df["tier"] == prospect_label).any() for df in (before, after) if len(df))
    levels = [*labels, *([prospect_label] if has_prospects else [])]
    for df in (before, after):
        if "last_order_date" not in df.columns:
            raise ValueError("Both tierings need last_order_date (to tell new and lost customers).")
    last = "CAST(a.last_order_date AS DATE)"
    contacts = [c for c in _CONTACT_COLUMNS if c in after.columns or c in before.columns]
    contact_sql = ""
    for c in contacts:  # the later value first, else the earlier one
        sources = [f'CAST({t}."{c}" AS VARCHAR)'
                   for t, df in (("a", after), ("b", before)) if c in df.columns]
        contact_sql += f', COALESCE({", ".join(sources)}) AS "{c}"'
    active_days = (as_of_after - as_of_before).days if active_days is None else int(active_days)
    if active_days <= 0:
        raise ValueError("active_days must be positive (and the dates in order).")
    con = cursor()
    con.register("b", before)
    con.register("a", after)
    customers = con.execute(f"""
        WITH j AS (
            SELECT COALESCE(a.customer_id, b.customer_id) AS customer_id,
                   CAST(b.tier AS VARCHAR) AS tier_before, CAST(a.tier AS VARCHAR) AS tier_after,
                   b.monetary AS monetary_before, a.monetary AS monetary_after,
                   {last} AS last_order_date,
                   COALESCE(b.frequency, 0) > 0 AS bought_before,
                   COALESCE(date_diff('day', CAST(b.last_order_date AS DATE), $as_of_before) < $active,
                            false) AS active_before,
                   COALESCE({last} > $as_of_before, false) AS bought_between
                   {contact_sql}
            FROM b FULL JOIN a ON a.customer_id = b.customer_id),
        moved AS (
            SELECT *, list_position($levels, tier_before) - list_position($levels, tier_after) AS steps,
                   CASE WHEN NOT bought_before AND bought_between THEN 'new'
                        WHEN active_before AND NOT bought_between THEN 'lost'
                        WHEN list_position($levels, tier_after) < list_position($levels, tier_before)
                             THEN 'upgraded'
                        WHEN list_position($levels, tier_after) > list_position($levels, tier_before)
                             THEN 'downgraded'
                        ELSE 'same' END AS movement
            FROM j)
        SELECT customer_id, tier_before, tier_after, movement,
               CASE WHEN movement IN ('upgraded', 'downgraded', 'same') THEN COALESCE(steps, 0) END
                   AS levels_moved,
               monetary_before, monetary_after,
               COALESCE(CASE WHEN movement = 'lost' THEN monetary_before ELSE monetary_after END, 0)
                   AS revenue,
               last_order_date {''.join(f', "{c}"' for c in contacts)},
               CASE WHEN movement = 'new' OR tier_before IS NULL THEN 'new' ELSE tier_before END AS row_level,
               CASE WHEN movement = 'lost' OR tier_after IS NULL THEN 'lost' ELSE tier_after END AS col_level
        FROM moved ORDER BY customer_id""",
        {"levels": levels, "as_of_before": as_of_before, "active": active_days}).df()
    rows, cols = [*levels, "new"], [*levels, "lost"]
    con.register("c", customers)
    cells = con.execute("""
        SELECT row_level, col_level, count(*) AS customers, sum(revenue) AS revenue
        FROM c GROUP BY ALL""").df()
    grid = pd.MultiIndex.from_product([rows, cols], names=["before", "after"])
    cells = cells.set_index(["row_level", "col_level"]).reindex(grid, fill_value=0)
    customers_matrix = cells["customers"].astype("int64").unstack().reindex(index=rows, columns=cols)
    revenue_matrix = cells["revenue"].astype(float).round(2).unstack().reindex(index=rows, columns=cols)
    for m in (customers_matrix, revenue_matrix):
        m.index.name, m.columns.name = "before", "after"
    flows = cells[cells["customers"] > 0].reset_index()
    links = pd.DataFrame({
        "source": flows["before"].astype(object), "target": flows["after"].astype(object),
        "customers": flows["customers"].astype("int64"), "revenue": flows["revenue"].astype(float).round(2),
        "source_node": flows["before"].map({r: i for i, r in enumerate(rows)}).astype("int64"),
        "target_node": flows["after"].map({c: len(rows) + i for i, c in enumerate(cols)}).astype("int64"),
    })
    nodes = pd.DataFrame({"node": range(len(rows) + len(cols)), "level": [*rows, *cols],
                          "side": ["before"] * len(rows) + ["after"] * len(cols)})
    summary = con.execute("""
        SELECT m.movement, count(c.customer_id) AS customers,
               round(COALESCE(sum(c.monetary_before), 0), 2) AS revenue_before,
               round(COALESCE(sum(c.monetary_after), 0), 2) AS revenue_after
        FROM (SELECT unnest($movements) AS movement, generate_subscripts($movements, 1) AS pos) m
        LEFT JOIN c USING (movement) GROUP BY m.movement, m.pos ORDER BY m.pos""",
        {"movements": list(MOVEMENTS)}).df()
    return Migration(as_of_before=as_of_before, as_of_after=as_of_after, levels=tuple(levels),
                     customers=customers.drop(columns=["row_level", "col_level"]),
                     customers_matrix=customers_matrix, revenue_matrix=revenue_matrix,
                     links=links, nodes=nodes, summary=summary, before=before, after=after)


def _empty_tiers() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": pd.Series([], dtype=str), "tier": pd.Series([], dtype=str),
                         "monetary": pd.Series([], dtype=float), "frequency": pd.Series([], dtype="int64"),
                         "last_order_date": pd.Series([], dtype="datetime64[us]")})


def migrate(con: duckdb.DuckDBPyConnection, rules: TierRules = TierRules(),
            as_of_before: date | None = None, as_of_after: date | None = None,
            since: date | None = None, *, period: str | int = "quarter",
            window_days: int | None = None, active_days: int | None = None) -> Migration:
    """Tier the customers at two as-of dates with the same rules and compare.

    Parameters
    ----------
    con : connection with the view ``lines`` (and optionally ``customers``, ``interactions``),
        as made by :func:`segcore.load_orders`.
    rules : the :class:`segcore.TierRules` used at both dates.
    as_of_after : the later date; default the latest order date.
    as_of_before : the earlier date; default one ``period`` before ``as_of_after``
        (:func:`previous_as_of`).
    since : window start for both dates (default: the earliest order date). Each date's metrics
        see only order lines up to that date: the earlier tiering never sees later orders.
    period : ``"month"``, ``"quarter"``, ``"half-year"``, ``"year"`` or days, for the default
        ``as_of_before``.
    window_days : optional rolling window: each date's metrics cover the ``window_days`` days up to
        it (e.g. 365 = the last 12 months at each date). Must be at least the days between the
        two dates, so that every order between them is seen by the later tiering.
    active_days : see :func:`compare_tiers` (default: the days between the two dates).

    Returns
    -------
    :class:`Migration` (rules of movement in :func:`compare_tiers`). With no order up to
    ``as_of_before`` in the window, everybody who bought later is new.
    """
    first, last = con.execute("SELECT min(order_date), max(order_date) FROM lines").fetchone()
    as_of_after = as_of_after or last
    as_of_before = as_of_before or previous_as_of(as_of_after, period)
    if as_of_before >= as_of_after:
        raise ValueError(f"The first as-of date ({as_of_before}) must be before the second ({as_of_after}).")
    gap = (as_of_after - as_of_before).days
    if window_days is not None and window_days < gap:
        raise ValueError(f"A rolling window of {window_days} days is shorter than the {gap} days "
                         "between the two dates; orders between them would be missed.")

    def tiers_at(as_of: date) -> pd.DataFrame:
        start = since
        if window_days is not None:
            rolling = as_of - timedelta(days=window_days - 1)
            start = max(start, rolling) if start else rolling
        if as_of < (start or first):
            return _empty_tiers()
        return assign_tiers(customer_metrics(con, as_of=as_of, since=start), rules)

    return compare_tiers(tiers_at(as_of_before), tiers_at(as_of_after), rules.labels,
                         as_of_before=as_of_before, as_of_after=as_of_after,
                         prospect_label=rules.prospect_label, active_days=active_days)


# --------------------------------------------------------------------------------------------
# Churn early warning
# --------------------------------------------------------------------------------------------

def _check_churn_params(k: float, drop_share: float) -> None:
    if not k > 0:
        raise ValueError("k (how many typical intervals without an order) must be positive.")
    if not 0 < drop_share <= 1:
        raise ValueError("The spend drop share must lie in (0, 1].")


def _risk_table(metrics: pd.DataFrame, k: float, drop_share: float) -> tuple[pd.DataFrame, float | None]:
    """Every buyer with the churn rule's inputs, flags, risk level (NULL = not at risk) and reasons."""
    _check_churn_params(k, drop_share)
    con = cursor()
    con.register("metrics", metrics)
    select = ", ".join([
        "customer_id", _col(metrics, "CAST(tier AS VARCHAR)", "CAST(NULL AS VARCHAR)", "tier"),
        "CAST(recency_days AS BIGINT) AS recency_days", "frequency", "monetary", "avg_interval_days",
        "spend_first_half", "spend_second_half",
        _col(metrics, "is_prospect", "false"),
        "CAST(last_order_date AS DATE) AS last_order_date",
    ]) + _contact_cols(metrics)
    # the population's typical interval: the median of avg_interval_days over repeat buyers
    population = con.execute(f"""
        WITH m AS (SELECT {select} FROM metrics)
        SELECT median(avg_interval_days) FROM m
        WHERE NOT is_prospect AND frequency > 0 AND avg_interval_days > 0""").fetchone()[0]
    population = float(population) if population is not None else None
    df = con.execute(f"""
        WITH m AS (SELECT {select} FROM metrics),
        population AS (SELECT CAST($population AS DOUBLE) AS interval),
        scored AS (
            SELECT m.*,
                   round(COALESCE(avg_interval_days, population.interval), 1) AS typical_interval_days,
                   CASE WHEN avg_interval_days IS NOT NULL THEN 'own'
                        WHEN population.interval IS NOT NULL THEN 'population' END AS interval_basis,
                   recency_days / NULLIF(COALESCE(avg_interval_days, population.interval), 0) AS ratio,
                   CASE WHEN spend_first_half > 0 THEN 1 - spend_second_half / spend_first_half END AS fell
            FROM m CROSS JOIN population
            WHERE frequency > 0 AND NOT is_prospect AND recency_days IS NOT NULL),
        flagged AS (
            SELECT *, COALESCE(ratio > $k, false) AS overdue, COALESCE(fell > $drop, false) AS spend_drop
            FROM scored)
        SELECT customer_id, tier,
               CASE WHEN ratio >= 2 * $k OR (overdue AND spend_drop) THEN 'high'
                    WHEN overdue THEN 'medium' WHEN spend_drop THEN 'low' END AS risk,
               NULLIF(concat_ws('; ',
                   CASE WHEN overdue AND interval_basis = 'own' THEN
                        format('no order for {{}} days; usually orders every {{}} days',
                               recency_days, format('{{:g}}', typical_interval_days))
                        WHEN overdue THEN
                        format('no order for {{}} days; a one-time buyer, and customers usually reorder '
                               || 'every {{}} days', recency_days, format('{{:g}}', typical_interval_days))
                   END,
                   CASE WHEN spend_drop THEN
                        format('recent spend down {{}}% ({{}} in the first half of the period, {{}} in the '
                               || 'second)', format('{{:.0f}}', 100 * fell),
                               format('{{:,.2f}}', spend_first_half), format('{{:,.2f}}', spend_second_half))
                   END), '') AS reason,
               NULLIF(concat_ws('；',
                   CASE WHEN overdue AND interval_basis = 'own' THEN
                        format('已 {{}} 天未下单；通常每 {{}} 天下单一次',
                               recency_days, format('{{:g}}', typical_interval_days))
                        WHEN overdue THEN
                        format('已 {{}} 天未下单；仅购买过一次，而客户通常每 {{}} 天复购一次',
                               recency_days, format('{{:g}}', typical_interval_days))
                   END,
                   CASE WHEN spend_drop THEN
                        format('近期消费下降 {{}}%（前半期 {{}}，后半期 {{}}）', format('{{:.0f}}', 100 * fell),
                               format('{{:,.2f}}', spend_first_half), format('{{:,.2f}}', spend_second_half))
                   END), '') AS reason_zh,
               recency_days, typical_interval_days, interval_basis,
               round(ratio, 2) AS overdue_ratio,
               spend_first_half, spend_second_half, round(fell, 4) AS spend_drop_share,
               overdue, spend_drop, frequency, monetary, last_order_date
               {_contact_cols(metrics)}
        FROM flagged""", {"k": float(k), "drop": float(drop_share), "population": population}).df()
    return df, population


def churn_risk(metrics: pd.DataFrame, labels=None, k: float = 2.0, drop_share: float = 0.5, *,
               lapse_days: int | None = None, all_customers: bool = False) -> pd.DataFrame:
    """Churn early warning: buyers who are overdue or whose spend fell, high tiers first.

    Parameters
    ----------
    metrics : per-customer table (:func:`segcore.customer_metrics`), tiered or not
        (:func:`segcore.assign_tiers` adds ``tier`` and ``rank``). Uses ``customer_id,
        recency_days, frequency, monetary, avg_interval_days, spend_first_half,
        spend_second_half, last_order_date`` and, when present, ``tier, rank, is_prospect`` and
        ``name, region, city, channel`` (carried along).
    labels : the levels in order, best first (default: the tiers ordered by their best rank).
    k : a buyer is overdue when ``recency_days > k x`` their typical interval.
    drop_share : spend fell when ``spend_second_half < (1 - drop_share) x spend_first_half``
        (the two halves of the window; needs ``spend_first_half > 0``).
    lapse_days : when given, buyers with no order for more than ``lapse_days`` days are left out:
        they have lapsed already (:func:`lifecycle`) and the warning is about who is slipping.
    all_customers : return every buyer (``risk`` empty when not at risk), not only those at risk.

    Returns
    -------
    DataFrame, one row per buyer at risk: ``customer_id, tier, risk, reason, reason_zh,
    recency_days, typical_interval_days, interval_basis, overdue_ratio, spend_first_half,
    spend_second_half, spend_drop_share, overdue, spend_drop, frequency, monetary,
    last_order_date`` (+ contact columns), sorted by tier (best first), risk (high first),
    ``monetary`` (largest first), ``customer_id``. ``attrs["population_interval_days"]`` holds the
    population's typical interval.

    Rules
    -----
    - Typical interval: the customer's own ``avg_interval_days`` when they ordered on 2 or more
      days (``interval_basis = "own"``); for one-time buyers, the population's typical interval,
      the median of ``avg_interval_days`` over all repeat buyers (``"population"``). Without any
      repeat buyer, one-time buyers cannot be overdue.
    - ``overdue_ratio = recency_days / typical interval``; overdue when it exceeds ``k``.
    - ``spend_drop_share = 1 - spend_second_half / spend_first_half``; spend dropped when it
      exceeds ``drop_share``.
    - Risk: **high** when ``overdue_ratio >= 2k``, or overdue and spend dropped; **medium** when
      overdue; **low** when only the spend dropped. Prospects and customers without a positive
      order are never at risk.
    - ``reason`` / ``reason_zh``: e.g. "no order for 94 days; usually orders every 21 days" /
      "已 94 天未下单；通常每 21 天下单一次".
    """
    table, population = _risk_table(metrics, k, drop_share)
    con = cursor()
    con.register("t", table)
    out = con.execute("""
        SELECT * FROM t
        WHERE ($all OR risk IS NOT NULL) AND ($lapse IS NULL OR recency_days <= $lapse)
        ORDER BY COALESCE(list_position($levels, tier), 99),
                 COALESCE(list_position($risks, risk), 99), monetary DESC, customer_id""",
        {"levels": _levels(metrics, labels), "risks": list(RISK_LEVELS), "all": bool(all_customers),
         "lapse": None if lapse_days is None else int(lapse_days)}).df()
    if "tier" not in metrics.columns:
        out = out.drop(columns="tier")
    out.attrs["population_interval_days"] = population
    return out


def churn_rules(k: float = 2.0, drop_share: float = 0.5) -> pd.DataFrame:
    """The churn rules as a table for the page: ``risk, rule, rule_zh`` (high, medium, low)."""
    _check_churn_params(k, drop_share)
    kk, k2, pct = f"{k:g}", f"{2 * k:g}", f"{100 * drop_share:g}"
    return pd.DataFrame({
        "risk": list(RISK_LEVELS),
        "rule": [
            f"no order for at least {k2} x the typical interval between orders, or overdue "
            f"(more than {kk} x) and recent spend down more than {pct}%",
            f"no order for more than {kk} x the typical interval between orders",
            f"recent spend (second half of the period) down more than {pct}% on the first half",
        ],
        "rule_zh": [
            f"未下单时长达到通常下单间隔的 {k2} 倍，或超过 {kk} 倍且近期消费下降超过 {pct}%",
            f"未下单时长超过通常下单间隔的 {kk} 倍",
            f"近期（后半期）消费比前半期下降超过 {pct}%",
        ],
        "note": ["typical interval: the customer's own average gap between order days; for one-time "
                 "buyers the median over all repeat buyers"] * 3,
        "note_zh": ["通常下单间隔：客户自己相邻下单日的平均间隔；只购买过一次的客户按所有复购客户间隔的中位数计"] * 3,
    })


# --------------------------------------------------------------------------------------------
# Rising customers
# --------------------------------------------------------------------------------------------

def rising_customers(tiered: pd.DataFrame, labels=None, min_trend: float = 0.5,
                     min_recent_spend: float | None = None) -> pd.DataFrame:
    """Lower-tier customers whose spend is strongly up: candidates to move up a level.

    Parameters
    ----------
    tiered : tiered per-customer table (:func:`segcore.assign_tiers`): ``customer_id, tier,
        frequency, monetary, spend_first_half, spend_second_half, trend`` (+ ``rank``,
        ``is_prospect`` and contact columns when present).
    labels : the levels, best first (default: the tiers ordered by their best rank).
    min_trend : rising when ``trend = spend_second_half / spend_first_half - 1 >= min_trend``
        (0.5 = recent half at least 1.5 times the first).
    min_recent_spend : and ``spend_second_half >= min_recent_spend``; default the median
        ``spend_second_half`` over buyers who spent anything in the second half, so small amounts
        growing fast do not crowd the list.

    Returns
    -------
    DataFrame: ``customer_id, tier, next_tier, trend, spend_first_half, spend_second_half,
    next_tier_recent_median, reaches_next_tier, monetary, frequency, reason, reason_zh``
    (+ contact columns), for buyers below the top level (prospects excluded) with
    ``spend_first_half > 0`` (customers who only bought in the second half are new, not rising).
    ``next_tier_recent_median`` is the median ``spend_second_half`` of the level above;
    ``reaches_next_tier`` says whether the customer's recent spend already reaches it. Sorted by
    tier (best first), ``trend`` (steepest first), ``customer_id``. ``attrs["min_recent_spend"]``
    holds the floor used.
    """
    levels = _levels(tiered, labels)
    top = levels[0] if levels else None
    con = cursor()
    con.register("t", tiered)
    prospect = "NOT is_prospect" if "is_prospect" in tiered.columns else "true"
    floor = con.execute(f"""
        SELECT COALESCE($floor, median(spend_second_half) FILTER (WHERE spend_second_half > 0))
        FROM t WHERE frequency > 0 AND {prospect}""",
        {"floor": None if min_recent_spend is None else float(min_recent_spend)}).fetchone()[0]
    floor = float(floor) if floor is not None else 0.0
    out = con.execute(f"""
        WITH b AS (SELECT * REPLACE (CAST(tier AS VARCHAR) AS tier) FROM t
                   WHERE frequency > 0 AND {prospect}),
        level_median AS (SELECT tier, median(spend_second_half) AS recent_median FROM b GROUP BY tier),
        rising AS (
            SELECT b.*, list_position($levels, b.tier) AS pos,
                   $levels[list_position($levels, b.tier) - 1] AS next_tier
            FROM b
            WHERE b.tier IS DISTINCT FROM $top AND list_position($levels, b.tier) > 1
              AND spend_first_half > 0 AND trend >= $min_trend AND spend_second_half >= $floor)
        SELECT r.customer_id, r.tier, r.next_tier, r.trend, r.spend_first_half, r.spend_second_half,
               round(lm.recent_median, 2) AS next_tier_recent_median,
               COALESCE(r.spend_second_half >= lm.recent_median, false) AS reaches_next_tier,
               r.monetary, r.frequency,
               format('recent spend up {{}}% ({{}} in the first half of the period, {{}} in the second)',
                      format('{{:.0f}}', 100 * r.trend), format('{{:,.2f}}', r.spend_first_half),
                      format('{{:,.2f}}', r.spend_second_half))
               || CASE WHEN r.spend_second_half >= lm.recent_median
                       THEN format('; already at the {{}} level''s typical recent spend ({{}})',
                                   r.next_tier, format('{{:,.2f}}', lm.recent_median)) ELSE '' END
                   AS reason,
               format('近期消费增长 {{}}%（前半期 {{}}，后半期 {{}}）', format('{{:.0f}}', 100 * r.trend),
                      format('{{:,.2f}}', r.spend_first_half), format('{{:,.2f}}', r.spend_second_half))
               || CASE WHEN r.spend_second_half >= lm.recent_median
                       THEN format('；已达到 {{}} 级客户的近期消费中位数（{{}}）',
                                   r.next_tier, format('{{:,.2f}}', lm.recent_median)) ELSE '' END
                   AS reason_zh
               {_contact_cols(tiered, 'r.')}
        FROM rising r LEFT JOIN level_median lm ON lm.tier = r.next_tier
        ORDER BY r.pos, r.trend DESC, r.customer_id""",
        {"levels": levels, "top": top, "min_trend": float(min_trend), "floor": floor}).df()
    out.attrs["min_recent_spend"] = floor
    return out


# --------------------------------------------------------------------------------------------
# Lifecycle
# --------------------------------------------------------------------------------------------

def lifecycle_rules(*, new_days: int = 90, lapse_days: int = 180, k: float = 2.0,
                    drop_share: float = 0.5) -> pd.DataFrame:
    """The lifecycle rules as a table for the page: ``stage, stage_zh, rule, rule_zh``, in the
    order they are tried (the first rule that applies gives the stage)."""
    _check_churn_params(k, drop_share)
    return pd.DataFrame({
        "stage": list(STAGES),
        "stage_zh": list(STAGES.values()),
        "rule": [
            "no order with a positive amount up to the as-of date (e.g. only in the customers file)",
            f"first order ever within the last {new_days} days",
            f"ordered within the last {new_days} days after a gap of more than {lapse_days} days "
            "without orders",
            f"no order for more than {lapse_days} days",
            f"churn warning: no order for more than {k:g} x the typical interval, or recent spend "
            f"down more than {100 * drop_share:g}%",
            "none of the above: buying as usual",
        ],
        "rule_zh": [
            "截至分析日没有金额为正的订单（例如只在客户名单中）",
            f"首次下单在最近 {new_days} 天内",
            f"间隔超过 {lapse_days} 天未下单后，在最近 {new_days} 天内再次下单",
            f"超过 {lapse_days} 天未下单",
            f"流失预警：未下单时长超过通常间隔的 {k:g} 倍，或近期消费下降超过 {100 * drop_share:g}%",
            "以上都不是：正常购买",
        ],
    })


def lifecycle(con: duckdb.DuckDBPyConnection, metrics: pd.DataFrame, *, as_of: date | None = None,
              new_days: int = 90, lapse_days: int = 180, k: float = 2.0,
              drop_share: float = 0.5) -> pd.DataFrame:
    """Lifecycle stage of every customer: prospect, new, reactivated, lapsed, at risk, active.

    Parameters
    ----------
    con : connection with the view ``lines`` (order history, to find first orders and comebacks).
    metrics : per-customer table (:func:`segcore.customer_metrics`, tiered or not) at ``as_of``.
    as_of : the date ``D`` of ``metrics``; default read from it (``last_order_date +
        recency_days``), else the latest order date.
    new_days : "recent" window: new = first order within the last ``new_days`` days, and a
        comeback must fall within it too.
    lapse_days : lapsed = no order for more than ``lapse_days`` days; a comeback follows a gap
        longer than this.
    k, drop_share : the churn rule (:func:`churn_risk`) for "at risk".

    Returns
    -------
    DataFrame, one row per customer of ``metrics`` in its order: ``customer_id, [tier,] stage,
    stage_zh, first_order_date, last_order_date, days_since_first_order, recency_days,
    comeback_after_days, risk``. Dates and days here use the whole order history up to ``D``
    (an order = an ``order_id``, else a customer-day, with a positive net amount), not only the
    metrics window, so a customer who bought before the window is not "new".

    Rules (first that applies; :func:`lifecycle_rules` gives them as text):

    1. prospect: no positive order up to D;
    2. new: ``D - first order <= new_days``;
    3. reactivated: an order within the last ``new_days`` days (``D - order date <= new_days``)
       came more than ``lapse_days`` days after the order before it
       (``comeback_after_days`` = that gap);
    4. lapsed: ``D - last order > lapse_days``;
    5. at risk: flagged by the churn rule with ``k`` and ``drop_share``;
    6. active: everyone else.
    """
    _check_churn_params(k, drop_share)
    if new_days <= 0 or lapse_days <= 0:
        raise ValueError("new_days and lapse_days must be positive.")
    as_of = as_of or _as_of_of(metrics) or con.execute("SELECT max(order_date) FROM lines").fetchone()[0]
    history = con.execute("""
        WITH orders AS (
            SELECT customer_id, min(order_date) AS d, sum(amount) AS net
            FROM lines WHERE order_date <= $as_of
            GROUP BY customer_id, COALESCE(order_id, CAST(order_date AS VARCHAR))),
        days AS (SELECT DISTINCT customer_id, d FROM orders WHERE net > 0),
        gaps AS (
            SELECT customer_id, d,
                   date_diff('day', lag(d) OVER (PARTITION BY customer_id ORDER BY d), d) AS gap
            FROM days)
        SELECT customer_id, min(d) AS first_order_date, max(d) AS last_order_date,
               max(gap) FILTER (WHERE date_diff('day', d, $as_of) <= $new_days AND gap > $lapse_days)
                   AS comeback_after_days
        FROM gaps GROUP BY customer_id""",
        {"as_of": as_of, "new_days": int(new_days), "lapse_days": int(lapse_days)}).df()
    risk, _ = _risk_table(metrics, k, drop_share)
    db = cursor()
    db.register("m", pd.DataFrame({"customer_id": metrics["customer_id"].array,
                                   "_pos": np.arange(len(metrics))}))
    db.register("h", history)
    db.register("r", risk[["customer_id", "risk"]])
    out = db.execute("""
        SELECT m.customer_id,
               CASE WHEN h.first_order_date IS NULL THEN 'prospect'
                    WHEN date_diff('day', CAST(h.first_order_date AS DATE), $as_of) <= $new_days THEN 'new'
                    WHEN h.comeback_after_days IS NOT NULL THEN 'reactivated'
                    WHEN date_diff('day', CAST(h.last_order_date AS DATE), $as_of) > $lapse_days THEN 'lapsed'
                    WHEN r.risk IS NOT NULL THEN 'at risk'
                    ELSE 'active' END AS stage,
               CAST(h.first_order_date AS DATE) AS first_order_date,
               CAST(h.last_order_date AS DATE) AS last_order_date,
               date_diff('day', CAST(h.first_order_date AS DATE), $as_of) AS days_since_first_order,
               date_diff('day', CAST(h.last_order_date AS DATE), $as_of) AS recency_days,
               h.comeback_after_days, r.risk
        FROM m LEFT JOIN h ON h.customer_id = m.customer_id
        LEFT JOIN r ON r.customer_id = m.customer_id
        ORDER BY m._pos""", {"as_of": as_of, "new_days": int(new_days), "lapse_days": int(lapse_days)}).df()
    out.insert(2, "stage_zh", out["stage"].map(STAGES).astype("str"))
    if "tier" in metrics.columns:
        out.insert(1, "tier", metrics["tier"].astype("str").to_numpy())
    return out
