"""Tiering: ordered levels (A/B/C by default) over the per-customer table.

Tiering only reads the small per-customer table, never the orders, so moving a threshold costs a
sort of the customers and nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np
import pandas as pd

from .computed_abc import ComputedABC, computed_abc
from .frames import cursor
from .scores import DEFAULT_SCORE_CUTS, composite_score, score_customers, score_levels

__all__ = ["DEFAULT_CUTS", "TierRules", "assign_tiers", "ranking_measure", "suggest_cuts", "tier_summary"]

#: Default cumulative shares for 2 to 5 levels.
DEFAULT_CUTS = {2: (0.80,), 3: (0.80, 0.95), 4: (0.50, 0.80, 0.95), 5: (0.50, 0.80, 0.90, 0.97)}



@dataclass(frozen=True)
class TierRules:
    """How customers are cut into levels.

    Attributes
    ----------
    labels : level names, best first (2 to 5).
    cuts : cumulative shares, one fewer than ``labels``, increasing, each in [0, 1]; None = the
        defaults for the number of levels (``DEFAULT_CUTS``, or ``DEFAULT_SCORE_CUTS`` for the
        score method, whose cuts are shares of customers). With
        ``by="value"`` a level ends when the customers so far hold that share of the total positive
        spend (A = the smallest set of top customers reaching ``cuts[0]``; the customer who crosses
        a cut belongs to the upper level). With ``by="count"`` the shares count customers.
    by : ``"value"`` (Pareto by spend) or ``"count"`` (share of customers).
    prospect_label : the extra level of prospects (customers-file entries who never bought in the
        window); used only when there are prospects.
    method : ``"pareto"`` (cuts as given), ``"computed"`` (three levels cut by spend where the
        computed ABC analysis puts its limits, :func:`suggest_cuts`) or ``"score"`` (levels cut
        by share of customers on the weighted composite score, see :mod:`segcore.scores`).
    weights : ``((dimension, weight), ...)`` for ``method="score"``; empty = equal weights.
    score_points : scores run 1..``score_points`` (3 to 5) for ``method="score"``.
    """

    labels: tuple[str, ...] = ("A", "B", "C")
    cuts: tuple[float, ...] | None = None
    by: str = "value"
    prospect_label: str = "Iron"
    method: str = "pareto"
    weights: tuple[tuple[str, float], ...] = ()
    score_points: int = 5

    def __post_init__(self):
        if not 2 <= len(self.labels) <= 5:
            raise ValueError("There must be 2 to 5 levels.")
        if self.cuts is None:
            defaults = DEFAULT_SCORE_CUTS if self.method == "score" else DEFAULT_CUTS
            object.__setattr__(self, "cuts", defaults[len(self.labels)])
        names = [*self.labels, self.prospect_label]
        if len(set(names)) != len(names) or not all(str(x).strip() for x in names):
            raise ValueError("Level labels must be distinct and not empty.")
        if len(self.cuts) != len(self.labels) - 1:
            raise ValueError(f"{len(self.labels)} levels need {len(self.labels) - 1} cut shares.")
        if any(not 0 <= c <= 1 for c in self.cuts) or list(self.cuts) != sorted(self.cuts):
            raise ValueError("Cut shares must increase and lie between 0 and 1.")
        if self.by not in ("value", "count"):
            raise ValueError("Tiering is by 'value' or by 'count'.")
        if self.method not in ("pareto", "computed", "score"):
            raise ValueError("The method is 'pareto', 'computed' or 'score'.")
        if self.method == "computed" and len(self.labels) != 3:
            raise ValueError("The computed ABC analysis gives three levels; give three labels.")
        if not 3 <= self.score_points <= 5:
            raise ValueError("Scores run from 1 to 3, 4 or 5.")


def ranking_measure(metrics: pd.DataFrame) -> str:
    """The column customers are ranked and cut by: ``monetary`` (spend), or ``frequency`` (orders)
    when no customer has a known spend (a count-only file, read without amounts).

    Parameters
    ----------
    metrics : per-customer table with ``monetary`` and ``frequency`` (and ``is_prospect``:
        prospects are not looked at).

    Returns
    -------
    ``"monetary"`` or ``"frequency"``; ``"monetary"`` for a table without buyers.
    """
    spend = metrics["monetary"].to_numpy(dtype=float)
    if "is_prospect" in metrics.columns:
        spend = spend[~metrics["is_prospect"].to_numpy(dtype=bool)]
    return "monetary" if len(spend) == 0 or np.isfinite(spend).any() else "frequency"


def suggest_cuts(metrics: pd.DataFrame) -> ComputedABC:
    """Data-driven A/B and B/C limits: the computed ABC analysis (Ultsch & Lötsch 2015) of spend
    (of orders for a count-only file, :func:`ranking_measure`).

    Parameters
    ----------
    metrics : per-customer table with ``monetary`` and ``frequency`` (and ``is_prospect``:
        prospects are left out; spend <= 0 counts as 0).

    Returns
    -------
    ComputedABC with the spend limits, the curve points that gave them, and ``a_share`` /
    ``b_share``: the cumulative spend shares that make Pareto tiering by value reproduce the
    computed groups (so the UI can set its sliders to them).
    """
    buyers = metrics[~metrics["is_prospect"]] if "is_prospect" in metrics.columns else metrics
    return computed_abc(_finite(buyers[ranking_measure(metrics)]))


def _finite(values) -> np.ndarray:
    """Spend as floats, with non-finite values (NaN, inf: no spend known) as 0."""
    spend = np.asarray(values, dtype=float)
    return np.where(np.isfinite(spend), spend, 0.0)


def _reached(before: np.ndarray, total: int, cuts) -> np.ndarray:
    """For each position, how many cuts the whole steps held before it reach: ``before >= cut *
    total``, decided exactly on integers (a float cut is the decimal it is written as, 0.8 = 4/5;
    a Fraction is itself).

    ``before`` does not decrease along the ranking, so each cut is a search for the first position
    holding at least the smallest whole number of steps that reaches it.
    """
    levels = np.zeros(len(before), dtype=np.int64)
    for cut in cuts:
        share = cut if isinstance(cut, Fraction) else Fraction(str(cut))
        need = -(-share.numerator * int(total) // share.denominator)  # ceil(cut * total)
        levels[np.searchsorted(before, min(need, np.iinfo(np.int64).max), side="left"):] += 1
    return levels


def assign_tiers(metrics: pd.DataFrame, rules: TierRules = TierRules()) -> pd.DataFrame:
    """Add ``tier``, ``rank`` and ``cumulative_share`` to the per-customer table.

    Parameters
    ----------
    metrics : per-customer table with at least ``customer_id``, ``monetary`` and ``frequency``
        (:func:`segcore.customer_metrics`), optionally ``is_prospect``.
    rules : :class:`TierRules`.

    Customers are ranked by spend, or by orders for a count-only file (no known spend at all,
    :func:`ranking_measure`): then "value" is the number of orders and every share below is a
    share of the orders.

    Returns
    -------
    DataFrame: the input columns plus ``tier`` (an ordered categorical of the labels, best first,
    then the prospect label; with ``method="score"`` cut on ``composite_score``, which is computed
    from ``rules.weights`` when the table has none), ``rank`` (1 = highest spend; ties broken
    by ``customer_id``) and ``cumulative_share`` (share of total positive spend held by customers
    ranked up to and including this one), rows in the input's order. Customers with
    ``monetary <= 0`` or without a finite one (NaN, inf) are always in the last level, ranked
    after the others. Shares are decided on whole cents (exact sums): a customer starts a new
    level when those ranked above hold at least the cut's share. Prospects (``is_prospect``) get
    ``rules.prospect_label`` and no rank or share.

    Only the columns the ranking needs go through DuckDB (one sort); the running shares along the
    sorted spend are a numpy cumulative sum, and the input rows are not moved, so re-tiering
    500k customers takes about a tenth of a second.
    """
    counts = None  # computed ABC: the top customers in A and in A or B
    if rules.method == "computed":
        found = suggest_cuts(metrics)
        rules = replace(rules, method="pareto", by="value", cuts=(found.a_share, found.b_share))
        counts = (found.a_count, found.a_count + found.b_count)
    last = len(rules.cuts)
    prospect = (metrics["is_prospect"].to_numpy(dtype=bool) if "is_prospect" in metrics.columns
                else np.zeros(len(metrics), dtype=bool))
    con = cursor()
    buyers = pd.DataFrame({"customer_id": metrics["customer_id"].array,
                           "monetary": metrics[ranking_measure(metrics)].to_numpy(dtype=float),
                           "_pos": np.arange(len(metrics))})
    con.register("buyers", buyers[~prospect] if prospect.any() else buyers)
    order = con.execute("SELECT _pos, monetary FROM buyers "
                        "ORDER BY CASE WHEN isfinite(monetary) THEN monetary END DESC NULLS LAST, "
                        "customer_id").fetchnumpy()
    # Along the ranking: what the customers ranked above hold, in whole cents or customers.
    spend = np.maximum(_finite(order["monetary"]), 0)
    cents = np.round(spend * 100).astype(np.int64)
    cum = np.cumsum(cents)
    total = int(cum[-1]) if len(cum) else 0
    n = len(spend)
    if rules.by == "count":
        levels = _reached(np.arange(n), n, rules.cuts)
    else:
        # computed cuts are the exact shares the computed groups hold (a float share is not)
        cuts = rules.cuts if counts is None else [Fraction(int(cum[c - 1]) if c else 0, max(total, 1))
                                                  for c in counts]
        levels = _reached(cum - cents, total, cuts) if total > 0 else np.zeros(n, dtype=np.int64)
    levels[spend <= 0] = last
    ranked = {"_pos": order["_pos"], "level": levels, "rank": np.arange(1, n + 1),
              "cumulative_share": cum / total if total > 0 else np.full(n, np.nan)}
    pos = ranked["_pos"]
    level = np.full(len(metrics), last + 1, dtype=np.int64)  # prospects: the extra level
    level[pos] = ranked["level"]
    rank = np.full(len(metrics), np.nan)
    rank[pos] = ranked["rank"]
    share = np.full(len(metrics), np.nan)
    share[pos] = ranked["cumulative_share"]
    out = metrics.copy(deep=False)
    if rules.method == "score":
        if "composite_score" not in out.columns:
            scored, _ = score_customers(out, n=rules.score_points)
            out["composite_score"] = composite_score(scored, dict(rules.weights) or None)
        out["tier"] = score_levels(out, rules.labels, rules.cuts, rules.prospect_label)
    else:
        out["tier"] = pd.Categorical.from_codes(level, categories=[*rules.labels, rules.prospect_label],
                                                ordered=True)
    out["rank"] = pd.array(rank, dtype="Int64")
    out["cumulative_share"] = share
    return out


def revenue_cents(col: str = "monetary") -> str:
    """SQL: a customer's share-of-revenue measure, their net spend in ``col`` in whole cents, at
    least 0 (whose returns outweigh their purchases count 0): what the Pareto cuts add up and the
    one definition of every share of revenue (``tier_summary``, ``views.segment_summary``)."""
    return f"greatest(round({col} * 100), 0)"


def tier_summary(tiered: pd.DataFrame, labels: tuple[str, ...]) -> pd.DataFrame:
    """Per level: customers, revenue and their shares, average spend and recency.

    Parameters
    ----------
    tiered : output of :func:`assign_tiers` (``tier``, ``monetary``, ``frequency``, ``recency_days``).
    labels : all levels in order; a level with no customers still gets a row of zeros. Levels
        found in ``tiered`` but not in ``labels`` (the prospect level) follow.

    Returns
    -------
    DataFrame with columns ``tier, customers, customer_share, revenue, revenue_share,
    avg_monetary, avg_recency_days, orders, order_share``, one row per label in order.
    ``revenue`` is the net spend. ``revenue_share`` is the share of revenue as the Pareto cuts
    measure it (the one definition on every card, label and export): each customer's net spend
    in whole cents, at least 0 (customers whose returns outweigh their purchases count 0),
    over the sum of those of all customers, so the top tier's share is the cumulative share at its
    last customer. ``customer_share`` is the share of the buyers (as on the Pareto curve and in
    by-count tiering); the prospect level has none. ``orders``: the tier's orders, ``order_share``:
    of all orders (what a count-only file shows).
    """
    con = cursor()
    con.register("tiered_in", tiered)
    labels = list(labels) + sorted(set(tiered["tier"].dropna()) - set(labels))
    prospect = "t.is_prospect" if "is_prospect" in tiered.columns else "false"
    return con.execute(f"""
        WITH levels AS (SELECT unnest($labels) AS tier, generate_subscripts($labels, 1) AS pos),
        tiered AS (SELECT * REPLACE (CASE WHEN isfinite(monetary) THEN monetary END AS monetary)
                   FROM tiered_in),
        totals AS (SELECT count(*) FILTER (WHERE NOT {prospect}) AS n,
                          sum({revenue_cents()}) AS positive,
                          sum(frequency) AS orders
                   FROM tiered t)
        SELECT l.tier,
               count(t.customer_id) AS customers,
               CASE WHEN bool_and({prospect}) THEN NULL
                    ELSE count(t.customer_id) / NULLIF(any_value(totals.n), 0) END AS customer_share,
               round(COALESCE(sum(t.monetary), 0), 2) AS revenue,
               COALESCE(sum({revenue_cents('t.monetary')}), 0)
                   / NULLIF(any_value(totals.positive), 0) AS revenue_share,
               round(avg(t.monetary), 2) AS avg_monetary,
               round(avg(t.recency_days), 1) AS avg_recency_days,
               COALESCE(sum(t.frequency), 0) AS orders,
               COALESCE(sum(t.frequency), 0) / NULLIF(any_value(totals.orders), 0) AS order_share
        FROM levels l CROSS JOIN totals LEFT JOIN tiered t ON CAST(t.tier AS VARCHAR) = l.tier
        GROUP BY l.tier, l.pos ORDER BY l.pos""", {"labels": list(labels)}).df()
