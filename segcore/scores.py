"""Scores 1..n per dimension with honest tie handling, RFM segments, and the weighted composite score.

Everything here reads the per-customer table of :func:`segcore.customer_metrics`; nothing reads the
orders again. The work is DuckDB SQL over small registered frames (one cursor per call on a module
database, so calls from several threads do not share state), with every value bound as a parameter.

Who is scored
-------------
Scores rank *buyers*: customers with at least one positive order in the window (``frequency > 0``)
who are not prospects. Prospects (``is_prospect``) and customers whose orders all net to <= 0 (no
positive order, so no recency) get no scores (NA), no composite score, and in tiering they go to the
lowest level, as in Pareto tiering. A buyer with a missing value in one dimension gets NA in that
dimension only.

The tie rule (data-driven cut points)
-------------------------------------
Customers are ordered by value (recency reversed: fewer days = higher score); equal values form one
*group*, and a cut can only lie between two groups. With N scored customers, the n - 1 cuts have the
ideal places s * N / n (s = 1 .. n - 1), in customers counted from the bottom. Each cut is put at the
group boundary *inside* the population (not below the first group nor above the last) whose count of
customers below it is nearest its ideal place; when two boundaries are equally near, the lower one
(the group that straddles the ideal place goes up). A group's score is 1 + the number of cuts below
it. So:

- equal values always get the same score, and the result never depends on row order;
- each score holds as close to N / n customers as the ties allow, cut by cut;
- the lowest value always scores 1 and the highest always scores n;
- when several cuts land on the same boundary, the scores between them are *skipped* (no customer
  has them, and they are not in the cut table): with 70% of customers at frequency 1 (the rest
  spread out) and n = 5, all four ideal places (20/40/60/80%) pick the boundary at 70% or the ones
  above it: frequency 1 scores 1, scores 2 and 3 are skipped, and 4 and 5 split the other 30%;
- when all customers have the same value, nothing separates them: they all get the middle score
  ``n // 2 + 1`` (3 of 5, 3 of 4, 2 of 3).

Custom cut points
-----------------
``custom_cuts={"monetary": [100, 500, 1000, 5000]}`` replaces the data-driven cuts of a dimension:
n - 1 strictly increasing values in the dimension's unit (days for recency), giving n scores. A value
equal to a cut point belongs to the band *above* the cut (the larger values): monetary 100 scores 2
here. For recency the bands count down: ``[30, 90, 180, 365]`` days give 0-29 -> 5, 30-89 -> 4,
90-179 -> 3, 180-364 -> 2, 365 and more -> 1.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from .frames import cursor

__all__ = [
    "DEFAULT_SCORE_CUTS",
    "DEFAULT_SEGMENT_RULES",
    "DIMENSIONS",
    "SEGMENT_ACTIONS",
    "SEGMENT_NAMES_ZH",
    "SEGMENT_RULE_COLUMNS",
    "Dimension",
    "available_dimensions",
    "check_custom_cuts",
    "composite_score",
    "default_segment_rules",
    "rfm_segments",
    "score_customers",
    "score_levels",
    "add_scores",
    "validate_segment_rules",
]


class Dimension(NamedTuple):
    """One scorable dimension of the per-customer table."""

    name: str          #: the name used in weights, custom cuts and the cut table
    column: str        #: the per-customer column it scores
    score_column: str  #: the column the score goes to
    reversed: bool     #: True when a smaller value is better (recency)
    label_en: str
    label_zh: str


#: The scorable dimensions. One is *available* when its column exists and is not all NA.
DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("recency", "recency_days", "r_score", True, "Recency", "最近购买"),
    Dimension("frequency", "frequency", "f_score", False, "Frequency", "购买频次"),
    Dimension("monetary", "monetary", "m_score", False, "Monetary", "消费金额"),
    Dimension("activity", "interactions_90d", "a_score", False, "Activity", "活跃度"),
    Dimension("breadth", "product_breadth", "b_score", False, "Breadth", "购买品类数"),
)
_BY_NAME = {d.name: d for d in DIMENSIONS}

#: Default level cuts for ``score_levels``, as shares of customers (best level first), 2 to 5 levels.
DEFAULT_SCORE_CUTS = {2: (0.20,), 3: (0.20, 0.50), 4: (0.10, 0.30, 0.60), 5: (0.05, 0.20, 0.50, 0.80)}

_EPS = 1e-9          # level shares within this of a cut count as reaching it
_DECIMALS = 6        # composite scores are rounded so equal weighted means tie exactly



# --------------------------------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------------------------------

def available_dimensions(metrics: pd.DataFrame) -> list[str]:
    """Names of the dimensions ``metrics`` can be scored on (column present, not all NA), in
    ``DIMENSIONS`` order."""
    return [d.name for d in DIMENSIONS if d.column in metrics.columns and metrics[d.column].notna().any()]


def _floats(column: pd.Series) -> np.ndarray:
    """A numeric column as float64 with NaN for NA (DuckDB reads NaN in a numpy array as NULL)."""
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _ints(column: pd.Series) -> pd.api.extensions.ExtensionArray:
    """A score column as a nullable Int64 array (no copy when it already is one)."""
    return column.array if column.dtype == "Int64" else pd.array(column, dtype="Int64")


def _prospects(frame: pd.DataFrame) -> np.ndarray:
    if "is_prospect" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame["is_prospect"].fillna(False).to_numpy(dtype=bool)


def _scored_mask(metrics: pd.DataFrame) -> np.ndarray:
    """Rows that get scores: not prospects, at least one positive order."""
    mask = ~_prospects(metrics)
    if "frequency" in metrics.columns:
        mask &= metrics["frequency"].fillna(0).to_numpy(dtype=float) > 0
    return mask


def _values(metrics: pd.DataFrame, dim: Dimension, mask: np.ndarray) -> np.ndarray:
    """The dimension's values as float64, NaN where missing or not scored."""
    values = _floats(metrics[dim.column])
    return np.where(mask, values + 0.0, np.nan)  # + 0.0 turns -0.0 into 0.0


# The data-driven cut points of one dimension, over ``vals(x)``: the scored customers' values, negated
# for recency so a larger x is always better. Equal values form a group; ``hi`` = customers up to and
# including a group. Cut s sits at the interior boundary (hi < total) nearest its ideal place
# s * total / n, the lower one when two are equally near (the integer key orders by distance, then
# by position); a group's score is 1 + the cuts below its first customer (cut < hi: boundaries lie
# only between groups). One row per score given: the smallest and largest x holding it and the
# customers.
_CUTS_SQL = """
WITH grp AS (
    SELECT x, count(*) AS c FROM vals GROUP BY x),
bounds AS (
    SELECT x, c, CAST(sum(c) OVER (ORDER BY x ROWS UNBOUNDED PRECEDING) AS BIGINT) AS hi FROM grp),
tot AS (
    SELECT CAST(sum(c) AS BIGINT) AS total, count(*) AS k FROM grp),
cuts AS (
    SELECT list(cut_at) AS cut_list FROM (
        SELECT arg_min(hi, abs(hi * $n - s * total) * (total + 1) + hi) AS cut_at
        FROM bounds, tot, range(1, $n) AS r(s)
        WHERE hi < total
        GROUP BY s)),
scored AS (
    SELECT b.x, b.c,
           CASE WHEN k = 1 THEN $middle ELSE 1 + len(list_filter(cut_list, lambda a: a < hi)) END AS score
    FROM bounds b, tot, cuts)
SELECT CAST(score AS INTEGER) AS score, min(x) AS x_lo, max(x) AS x_hi, CAST(sum(c) AS BIGINT) AS customers
FROM scored GROUP BY score ORDER BY score
"""


def _data_cuts(cur, values: np.ndarray, dim: Dimension, n: int) -> pd.DataFrame:
    """``score, lower, upper, customers`` per score given (lower/upper in the dimension's unit)."""
    v = values[~np.isnan(values)]
    cur.register("vals", {"x": -v if dim.reversed else v})
    try:
        table = cur.execute(_CUTS_SQL, {"n": n, "middle": n // 2 + 1}).df()
    finally:
        cur.unregister("vals")
    lower, upper = (-table["x_hi"], -table["x_lo"]) if dim.reversed else (table["x_lo"], table["x_hi"])
    return pd.DataFrame({"score": table["score"], "lower": lower + 0.0, "upper": upper + 0.0,
                         "customers": table["customers"]})


def check_custom_cuts(name: str, cuts, n: int) -> list[float]:
    """Typed cut points for one dimension as floats; ValueError (one sentence) unless there are
    ``n - 1`` finite, strictly increasing numbers."""
    try:
        cuts = [float(c) for c in cuts]
    except (TypeError, ValueError):
        raise ValueError(f"Custom cut points for {name} must be numbers; got {cuts!r}.") from None
    if len(cuts) != n - 1:
        raise ValueError(f"Custom cut points for {name}: {n} scores need {n - 1} cut points; "
                         f"got {len(cuts)}.")
    if not all(math.isfinite(c) for c in cuts) or any(b <= a for a, b in zip(cuts, cuts[1:])):
        raise ValueError(f"Custom cut points for {name} must be finite and strictly increasing; "
                         f"got {cuts}.")
    return cuts


def _case(column: str, bounds: Sequence[float], scores: Sequence[int], key: str) -> tuple[str, dict]:
    """``CASE WHEN col < t1 THEN s1 ... ELSE s_last END`` with bound thresholds and scores."""
    params = {f"{key}_s{len(bounds)}": int(scores[-1])}
    parts = [f"CASE WHEN {column} IS NULL THEN NULL"]
    for i, t in enumerate(bounds):
        parts.append(f"WHEN {column} < ${key}_t{i} THEN ${key}_s{i}")
        params[f"{key}_t{i}"] = float(t)
        params[f"{key}_s{i}"] = int(scores[i])
    parts.append(f"ELSE ${key}_s{len(bounds)} END")
    return " ".join(parts), params


def score_customers(metrics: pd.DataFrame, n: int = 5, custom_cuts: Mapping[str, Sequence[float]] | None = None,
                    dimensions: Iterable[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores 1..n per dimension (see the module notes for the tie rule).

    Parameters
    ----------
    metrics : per-customer table (:func:`segcore.customer_metrics`): ``recency_days``,
        ``frequency``, ``monetary``, optionally ``interactions_90d``, ``product_breadth`` and
        ``is_prospect``.
    n : scores run 1..n, 3 <= n <= 5.
    custom_cuts : ``{dimension: [cut, ...]}`` with n - 1 increasing cut points, replacing the
        data-driven cuts of that dimension (a value equal to a cut goes to the band above it).
    dimensions : names from ``DIMENSIONS`` to score; default every available one.

    Returns
    -------
    scored : ``metrics`` (same rows and order) plus ``r_score``, ``f_score``, ``m_score`` and, when
        available, ``a_score`` (activity) and ``b_score`` (breadth): Int64, NA for prospects, for
        customers with no positive order and for missing values. ``scored.attrs["score_points"]``
        is n.
    cut_table : one row per dimension and score given, columns ``dimension, score, lower, upper,
        customers, share, custom``. Data-driven rows: ``lower``/``upper`` are the smallest and
        largest value with that score (both included; days for recency), skipped scores have no
        row. Custom rows (``custom`` True): every score, ``lower <= value < upper``, NaN = open.
    """
    if not (isinstance(n, (int, np.integer)) and 3 <= n <= 5):
        raise ValueError(f"Scores run from 1 to 3, 4 or 5; got n={n!r}.")
    n = int(n)
    available = available_dimensions(metrics)
    if dimensions is None:
        names = available
    else:
        names = list(dict.fromkeys(dimensions))
        for name in names:
            if name not in _BY_NAME:
                raise ValueError(f"Unknown dimension {name!r}; the dimensions are "
                                 f"{', '.join(_BY_NAME)}.")
            if name not in available:
                raise ValueError(f"No {name} data to score: the column {_BY_NAME[name].column} is "
                                 "missing or empty.")
    custom = dict(custom_cuts or {})
    for name in custom:
        if name not in _BY_NAME:
            raise ValueError(f"Custom cut points for unknown dimension {name!r}; the dimensions are "
                             f"{', '.join(_BY_NAME)}.")
        if name not in names:
            raise ValueError(f"Custom cut points for {name}, which is not scored (no data or not "
                             "among the dimensions asked for).")
    custom = {k: check_custom_cuts(k, v, n) for k, v in custom.items()}

    mask = _scored_mask(metrics)
    cur = cursor()
    try:
        columns, cut_rows, exprs, params = {}, [], [], {}
        for i, name in enumerate(names):
            dim = _BY_NAME[name]
            values = _values(metrics, dim, mask)
            col = f"v{i}"
            columns[col] = values
            if name in custom:
                cuts = custom[name]
                scores = list(range(n, 0, -1)) if dim.reversed else list(range(1, n + 1))
                expr, p = _case(col, cuts, scores, col)
                edges = [math.nan, *cuts, math.nan]
                for j, s in enumerate(scores):
                    cut_rows.append({"dimension": name, "score": s, "lower": edges[j],
                                     "upper": edges[j + 1], "custom": True})
            else:
                table = _data_cuts(cur, values, dim, n)
                if table.empty:  # nobody to score in this dimension
                    expr, p = "CAST(NULL AS INTEGER)", {}
                else:
                    # Thresholds in value order: a value below the next score's smallest value
                    # keeps this score.
                    by_value = table.sort_values("lower", kind="stable")
                    expr, p = _case(col, by_value["lower"].to_numpy()[1:], by_value["score"].to_numpy(), col)
                for row in table.itertuples(index=False):
                    cut_rows.append({"dimension": name, "score": int(row.score), "lower": float(row.lower),
                                     "upper": float(row.upper), "customers": int(row.customers),
                                     "custom": False})
            exprs.append(f"{expr} AS {col}")
            params.update(p)
        out = metrics.copy(deep=False)
        if names:
            cur.register("t", columns)
            got = cur.execute(f"SELECT {', '.join(exprs)} FROM t", params).fetchnumpy()
            cur.unregister("t")
            for i, name in enumerate(names):
                a = got[f"v{i}"]
                data = np.ma.getdata(a).astype(np.int64, copy=False)
                out[_BY_NAME[name].score_column] = pd.arrays.IntegerArray(data, np.ma.getmaskarray(a).copy())
    finally:
        cur.close()
    out.attrs["score_points"] = n

    cut_table = pd.DataFrame(cut_rows, columns=["dimension", "score", "lower", "upper", "customers", "custom"])
    if len(cut_table):
        for name in custom:  # custom bands: count who fell in each (the scores just computed)
            counts = out[_BY_NAME[name].score_column].value_counts()
            sel = cut_table["dimension"] == name
            cut_table.loc[sel, "customers"] = cut_table.loc[sel, "score"].map(counts).fillna(0).to_numpy()
        totals = cut_table.groupby("dimension")["customers"].transform("sum")
        cut_table["share"] = cut_table["customers"] / totals.where(totals > 0)
        cut_table = (cut_table.assign(_o=cut_table["dimension"].map({k: i for i, k in enumerate(names)}))
                     .sort_values(["_o", "score"]).drop(columns="_o").reset_index(drop=True))
    else:
        cut_table["share"] = pd.Series(dtype=float)
    cut_table["customers"] = cut_table["customers"].astype("int64")
    cut_table["score"] = cut_table["score"].astype("int64")
    return out, cut_table[["dimension", "score", "lower", "upper", "customers", "share", "custom"]]


# --------------------------------------------------------------------------------------------------
# RFM segments
# --------------------------------------------------------------------------------------------------

#: Columns of a segment rules table.
SEGMENT_RULE_COLUMNS = ("segment", "r_min", "r_max", "f_min", "f_max", "m_min", "m_max")

#: The default rules, for 5-point scores, in evaluation order (first match wins; the rest "Others").
#: Together they cover every (R, F, M) combination, so only customers without scores are "Others".
#: Can't Lose Them comes before At Risk and Lost before Hibernating so the narrower rule wins.
DEFAULT_SEGMENT_RULES = pd.DataFrame(
    [
        ("Champions",          4, 5, 4, 5, 4, 5),  # bought recently, buy often, spend the most
        ("Loyal",              3, 5, 3, 5, 3, 5),  # regular buyers who spend well
        ("Potential Loyalist", 4, 5, 2, 5, 1, 5),  # recent repeat buyers, not yet loyal
        ("New",                5, 5, 1, 1, 1, 5),  # one order, very recently
        ("Promising",          4, 4, 1, 1, 1, 5),  # one order, recently
        ("Need Attention",     3, 3, 2, 5, 1, 5),  # repeat buyers, slipping to middling recency
        ("About to Sleep",     3, 3, 1, 1, 1, 5),  # one order, middling recency
        ("Can't Lose Them",    1, 2, 4, 5, 4, 5),  # were among the best, long gone
        ("At Risk",            1, 2, 3, 5, 1, 5),  # bought often, long ago
        ("Lost",               1, 1, 1, 1, 1, 2),  # one small order, longest ago
        ("Hibernating",        1, 2, 1, 2, 1, 5),  # few orders, long ago
    ],
    columns=list(SEGMENT_RULE_COLUMNS),
)

#: Chinese display names of the segments.
SEGMENT_NAMES_ZH = {
    "Champions": "冠军客户",
    "Loyal": "忠诚客户",
    "Potential Loyalist": "潜在忠诚客户",
    "New": "新客户",
    "Promising": "有潜力新客",
    "Need Attention": "需要关注",
    "About to Sleep": "即将沉睡",
    "At Risk": "流失风险",
    "Can't Lose Them": "不能失去",
    "Lost": "已流失",
    "Hibernating": "休眠客户",
    "Others": "其他",
}

#: Suggested action per segment: (English, Chinese).
SEGMENT_ACTIONS = {
    "Champions": ("Reward them: early access, VIP service, ask for reviews and referrals.",
                  "重点维护：专属服务、新品优先体验，邀请评价和转介绍。"),
    "Loyal": ("Upsell higher-value products, invite to a loyalty programme, ask for feedback.",
              "推荐更高价值的产品，邀请加入会员计划，收集反馈。"),
    "Potential Loyalist": ("Offer membership or a bundle to turn repeat buying into a habit.",
                           "提供会员或组合优惠，把复购培养成习惯。"),
    "New": ("Welcome them: onboarding, a good first experience, a reason for the second order.",
            "做好新客欢迎与首单体验，给出第二次购买的理由。"),
    "Promising": ("Build the relationship: helpful content, a small offer for the second order.",
                  "建立联系：推送有用内容，用小额优惠促成第二单。"),
    "Need Attention": ("Reach out with a personal, time-limited offer based on past purchases.",
                       "主动联系，依据历史购买推送个性化的限时优惠。"),
    "About to Sleep": ("Reactivate now: recommend popular products, a small discount.",
                       "尽快唤醒：推荐热销产品，给予小额折扣。"),
    "Can't Lose Them": ("Win them back personally: call, ask what changed, make a strong offer.",
                        "亲自挽回：电话回访，了解原因，给出有力的挽留方案。"),
    "At Risk": ("Send personal reactivation messages and offers; find out why they stopped.",
                "发送个性化的召回信息和优惠，了解流失原因。"),
    "Lost": ("Low priority: include in broad campaigns only, do not spend much on them.",
             "低优先级：只纳入大范围营销活动，不投入过多资源。"),
    "Hibernating": ("Try a low-cost win-back offer or new products; otherwise keep costs low.",
                    "用低成本的召回优惠或新品尝试唤醒，否则控制投入。"),
    "Others": ("Review these customers by hand; adjust the rules if many land here.",
               "人工查看这些客户；如果数量较多，调整分群规则。"),
}

_RANGES = (("r_min", "r_max"), ("f_min", "f_max"), ("m_min", "m_max"))


def _to_five_point(n: int) -> list[int]:
    """Where each n-point score sits on the 5-point scale (same relative place, rounded):
    3 points -> 1, 3, 5; 4 points -> 1, 2, 4, 5; 5 points -> 1..5."""
    return [int(math.floor(1 + (s - 1) * 4 / (n - 1) + 0.5)) for s in range(1, n + 1)]


def default_segment_rules(n: int = 5) -> pd.DataFrame:
    """The default rules for n-point scores (3 to 5).

    The 5-point ``DEFAULT_SEGMENT_RULES`` rescaled: each n-point score takes the place of the
    5-point score at the same relative position (3 points -> 1, 3, 5; 4 points -> 1, 2, 4, 5), a
    range keeps the n-point scores whose place falls in it, and a rule left with an empty range
    (e.g. "Promising", R 4-4, with 3 points) is dropped, as is a rule whose every (R, F, M) an
    earlier rule already takes (on 4 points "Loyal" becomes the same box as "Champions"). This
    segments every customer exactly as the 5-point rules would segment the placed scores, and every
    combination still matches a rule. Segments on 3 points: all but Promising; on 4 points (no middle
    score): all but Loyal, Need Attention and About to Sleep.
    """
    if not 3 <= n <= 5:
        raise ValueError(f"Scores run from 1 to 3, 4 or 5; got n={n!r}.")
    place = _to_five_point(n)
    rows, covered = [], set()
    for rule in DEFAULT_SEGMENT_RULES.itertuples(index=False):
        row = {"segment": rule.segment}
        for lo, hi in _RANGES:
            inside = [s for s, p in enumerate(place, start=1) if getattr(rule, lo) <= p <= getattr(rule, hi)]
            if not inside:
                break
            row[lo], row[hi] = inside[0], inside[-1]
        else:
            box = set(itertools.product(*(range(row[lo], row[hi] + 1) for lo, hi in _RANGES)))
            if box - covered:  # a rule whose every (R, F, M) an earlier rule takes would never match
                rows.append(row)
                covered |= box
    return pd.DataFrame(rows, columns=list(SEGMENT_RULE_COLUMNS))


def validate_segment_rules(rules, n: int = 5) -> pd.DataFrame:
    """Check a (user-edited) rules table; return it as a clean DataFrame.

    Parameters
    ----------
    rules : DataFrame or list of dicts with ``SEGMENT_RULE_COLUMNS``, in evaluation order.
    n : the scores run 1..n.

    Raises
    ------
    ValueError naming the row and the problem: a missing column, an empty segment name, a range
    bound that is empty, not a whole number, or outside 1..n, or a minimum above its maximum.
    """
    frame = rules if isinstance(rules, pd.DataFrame) else pd.DataFrame(list(rules))
    missing = [c for c in SEGMENT_RULE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"The segment rules need the columns {', '.join(SEGMENT_RULE_COLUMNS)}; "
                         f"missing: {', '.join(missing)}.")
    if len(frame) == 0:
        raise ValueError("The segment rules table is empty; add at least one rule.")
    out = {"segment": []} | {c: [] for lo_hi in _RANGES for c in lo_hi}
    for i, row in enumerate(frame[list(SEGMENT_RULE_COLUMNS)].itertuples(index=False), start=1):
        name = row.segment
        if name is None or (not isinstance(name, str) and pd.isna(name)) or not str(name).strip():
            raise ValueError(f"Segment rule {i}: the segment name is empty.")
        name = str(name).strip()
        where = f"Segment rule {i} ({name})"
        for lo, hi in _RANGES:
            bounds = []
            for col in (lo, hi):
                value = getattr(row, col)
                if value is None or (np.ndim(value) == 0 and pd.isna(value)) or str(value).strip() == "":
                    raise ValueError(f"{where}: {col} is empty; give a whole number from 1 to {n}.")
                try:
                    number = float(value)
                except (TypeError, ValueError):
                    raise ValueError(f"{where}: {col} must be a whole number from 1 to {n}; "
                                     f"got {value!r}.") from None
                if number != int(number) or not 1 <= number <= n:
                    raise ValueError(f"{where}: {col} must be a whole number from 1 to {n}; got {value!r}.")
                bounds.append(int(number))
            if bounds[0] > bounds[1]:
                raise ValueError(f"{where}: {lo} ({bounds[0]}) is above {hi} ({bounds[1]}).")
            out[lo].append(bounds[0])
            out[hi].append(bounds[1])
        out["segment"].append(name)
    return pd.DataFrame(out, columns=list(SEGMENT_RULE_COLUMNS))


def rfm_segments(scored: pd.DataFrame, rules=None, n: int | None = None) -> pd.Series:
    """The RFM segment of each customer: the first rule whose R, F and M ranges all hold.

    Parameters
    ----------
    scored : output of :func:`score_customers` (``r_score``, ``f_score``, ``m_score``,
        optionally ``is_prospect``).
    rules : rules table in 1..n (see :func:`validate_segment_rules`); default (``None`` or
        ``DEFAULT_SEGMENT_RULES`` itself) ``default_segment_rules(n)``, the defaults rescaled to n.
    n : the score scale; default ``scored.attrs["score_points"]`` or 5.

    Returns
    -------
    Series ``rfm_segment`` (same index as ``scored``), a categorical whose categories are the
    rules' segments in rule order, then "Others": the segment of the first matching rule (ranges
    inclusive), "Others" when none matches or a score is missing, NA for prospects.
    """
    n = int(n if n is not None else scored.attrs.get("score_points", 5))
    if rules is None or rules is DEFAULT_SEGMENT_RULES:
        rules = default_segment_rules(n)
    else:
        rules = validate_segment_rules(rules, n)
    need = [c for c in ("r_score", "f_score", "m_score") if c not in scored.columns]
    if need:
        raise ValueError("RFM segments cannot be given: the customers have no recency, frequency and "
                         "spend scores.")
    for c in ("r_score", "f_score", "m_score"):
        low, top = scored[c].min(), scored[c].max()
        if not pd.isna(top) and (top > n or low < 1):
            raise ValueError(f"{c} runs from {low} to {top}, but the rules are for scores 1..{n}.")
    names = list(dict.fromkeys([*rules["segment"], "Others"]))  # a segment may have several rules
    params: dict = {"others": names.index("Others"), "n": n}
    whens = []
    for i, rule in enumerate(rules.itertuples(index=False)):
        whens.append(f"WHEN r BETWEEN $r_min{i} AND $r_max{i} AND f BETWEEN $f_min{i} AND $f_max{i} "
                     f"AND m BETWEEN $m_min{i} AND $m_max{i} THEN $segment{i}")
        params.update({f"{c}{i}": getattr(rule, c) for c in SEGMENT_RULE_COLUMNS[1:]})
        params[f"segment{i}"] = names.index(rule.segment)
    cur = cursor()
    try:
        # The rules decide the segment of each of the n^3 (R, F, M) combinations once; customers
        # then look theirs up (the same answer as the CASE per customer, several times faster).
        lookup = cur.execute(f"""
            SELECT list(CASE {' '.join(whens)} ELSE $others END ORDER BY r, f, m)
            FROM range(1, $n + 1) a(r), range(1, $n + 1) b(f), range(1, $n + 1) c(m)""",
                             params).fetchall()[0][0]
        cur.register("s", pd.DataFrame({"r": _ints(scored["r_score"]), "f": _ints(scored["f_score"]),
                                        "m": _ints(scored["m_score"]), "prospect": _prospects(scored)},
                                       copy=False))
        codes = cur.execute("""
            SELECT CAST(CASE WHEN prospect THEN -1
                             ELSE COALESCE($lookup[((r - 1) * $n + f - 1) * $n + m], $others) END
                        AS TINYINT) AS code
            FROM s""", {"lookup": lookup, "n": n, "others": params["others"]}).fetchnumpy()["code"]
    finally:
        cur.close()
    return pd.Series(pd.Categorical.from_codes(np.asarray(codes), categories=names), index=scored.index,
                     name="rfm_segment")


# --------------------------------------------------------------------------------------------------
# Weighted composite score and levels
# --------------------------------------------------------------------------------------------------

def _weights(scored: pd.DataFrame, weights: Mapping[str, float] | Iterable[tuple[str, float]] | None) -> dict:
    present = [d.name for d in DIMENSIONS if d.score_column in scored.columns]
    if not present:
        raise ValueError("There is no score to combine into a weighted score: no customer has a recency, "
                         "frequency or spend score.")
    if weights is None or len(weights := dict(weights)) == 0:
        return {name: 1.0 for name in present}
    out = {}
    for name, w in weights.items():
        if name not in _BY_NAME:
            raise ValueError(f"Weight for unknown dimension {name!r}; the dimensions are "
                             f"{', '.join(_BY_NAME)}.")
        try:
            w = float(w)
        except (TypeError, ValueError):
            raise ValueError(f"The weight of {name} must be a number; got {w!r}.") from None
        if not math.isfinite(w) or w < 0:
            raise ValueError(f"The weight of {name} must be zero or positive; got {w!r}.")
        if name in present and w > 0:
            out[name] = w
    if not out:
        raise ValueError("All weights are zero (or only on dimensions without data): give at least "
                         f"one of {', '.join(present)} a positive weight.")
    return out


def composite_score(scored: pd.DataFrame,
                    weights: Mapping[str, float] | Iterable[tuple[str, float]] | None = None) -> pd.Series:
    """The weighted mean of a customer's scores.

    Parameters
    ----------
    scored : output of :func:`score_customers`.
    weights : ``{dimension: weight}`` (or ``(dimension, weight)`` pairs), weights >= 0. Dimensions
        left out, or without scores in ``scored``, weigh 0. ``None`` or empty: equal weights on
        every scored dimension. All weights zero raises ValueError.

    Returns
    -------
    Series ``composite_score`` (float, same index): sum(w * score) / sum(w) over the customer's
    non-missing scores, rounded to 6 decimals so equal means tie exactly; in 1..n. NaN for
    customers without scores (prospects, no positive order). Scaling all weights changes nothing.
    """
    w = _weights(scored, weights)
    names = list(w)
    cols = {f"s{i}": _ints(scored[_BY_NAME[name].score_column]) for i, name in enumerate(names)}
    missing = np.column_stack([np.asarray(c.isna()) for c in cols.values()])
    partial = bool((missing.any(axis=1) & ~missing.all(axis=1)).any())
    params = {f"w{i}": w[name] for i, name in enumerate(names)} | {"decimals": _DECIMALS}
    num = " + ".join(f"COALESCE(s{i} * $w{i}, 0)" for i in range(len(names)))
    if partial:  # some customer lacks some scores: divide by the weights of the scores they have
        den = "NULLIF(" + " + ".join(f"CASE WHEN s{i} IS NULL THEN 0 ELSE $w{i} END"
                                     for i in range(len(names))) + ", 0)"
    else:        # every customer has all scores or none: the same sum, cheaper
        num = " + ".join(f"s{i} * $w{i}" for i in range(len(names)))
        den = "$total"
        params["total"] = sum(w.values())
    cur = cursor()
    try:
        cur.register("s", pd.DataFrame(cols, copy=False))
        got = cur.execute(f"SELECT round(({num}) / {den}, $decimals) AS c FROM s", params).fetchnumpy()["c"]
    finally:
        cur.close()
    values = np.ma.filled(got.astype(float), np.nan) if np.ma.isMaskedArray(got) else got.astype(float)
    return pd.Series(values, index=scored.index, name="composite_score")


def score_levels(scored: pd.DataFrame, labels: Sequence[str] = ("A", "B", "C"),
                 cuts: Sequence[float] | None = None, prospect_label: str = "Iron") -> pd.Series:
    """Levels cut on the composite score by share of customers.

    Parameters
    ----------
    scored : per-customer table with ``composite_score`` (:func:`composite_score`), optionally
        ``is_prospect``.
    labels : level names, best first (2 to 5).
    cuts : cumulative shares of customers, one fewer than ``labels``, increasing, in [0, 1]; default
        ``DEFAULT_SCORE_CUTS[len(labels)]``. The first level is the customers with the highest
        composite scores up to ``cuts[0]`` of all non-prospect customers, and so on. Customers with
        equal composite scores always share a level: a group of ties that crosses a cut belongs to
        the upper level (a group starts in the upper level when the customers above it hold less
        than the cut share).
    prospect_label : the extra level of prospects.

    Returns
    -------
    Series ``tier`` (same index): an ordered categorical of ``[*labels, prospect_label]``.
    Customers without a composite score who are not prospects (no positive order) are in the last
    of ``labels``; prospects get ``prospect_label``.
    """
    labels = list(labels)
    if not 2 <= len(labels) <= 5:
        raise ValueError("There must be 2 to 5 levels.")
    cuts = list(DEFAULT_SCORE_CUTS[len(labels)] if cuts is None else cuts)
    if len(cuts) != len(labels) - 1:
        raise ValueError(f"{len(labels)} levels need {len(labels) - 1} cut shares.")
    if any(not 0 <= c <= 1 for c in cuts) or cuts != sorted(cuts):
        raise ValueError("Cut shares must increase and lie between 0 and 1.")
    names = [*labels, prospect_label]
    if len(set(names)) != len(names):
        raise ValueError("Level labels must be distinct.")
    if "composite_score" not in scored.columns:
        raise ValueError("Levels by weighted score cannot be given: the customers have no weighted score.")
    prospect = _prospects(scored)
    last = len(labels) - 1
    whens = " ".join(f"WHEN above < $c{i} THEN {i}" for i in range(len(cuts)))
    params = {f"c{i}": float(c) - _EPS for i, c in enumerate(cuts)} | {"last": last}
    cur = cursor()
    try:
        cur.register("s", {"c": _floats(scored["composite_score"]), "p": prospect})
        # Per distinct composite score (few): the share of non-prospect customers strictly above
        # it gives its level; each level then starts at its smallest composite score.
        starts = cur.execute(f"""
            WITH groups AS (
                SELECT c, count(*) AS k FROM s WHERE NOT p AND c IS NOT NULL GROUP BY c),
            ranked AS (
                SELECT c, (sum(k) OVER (ORDER BY c DESC ROWS UNBOUNDED PRECEDING) - k)
                          / (SELECT count(*) FROM s WHERE NOT p) AS above
                FROM groups)
            SELECT CASE {whens} ELSE $last END AS level, min(c) AS start
            FROM ranked GROUP BY level ORDER BY level""", params).fetchall()
        case = ["CASE WHEN p THEN $prospect"]
        bind = {"prospect": last + 1, "last": last}
        for i, (level, start) in enumerate(starts):
            case.append(f"WHEN c >= $t{i} THEN $l{i}")
            bind |= {f"t{i}": start, f"l{i}": level}
        case.append("ELSE $last END")  # no composite score (no positive order): the lowest level
        codes = cur.execute(f"SELECT CAST({' '.join(case)} AS TINYINT) AS level FROM s",
                            bind).fetchnumpy()["level"]
    finally:
        cur.close()
    return pd.Series(pd.Categorical.from_codes(np.asarray(codes), categories=names, ordered=True),
                     index=scored.index, name="tier")


def add_scores(metrics: pd.DataFrame, n: int = 5,
               custom_cuts: Mapping[str, Sequence[float]] | None = None,
               weights: Mapping[str, float] | Iterable[tuple[str, float]] | None = None,
               rules=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores, RFM segment and composite score in one call (levels: :func:`segcore.assign_tiers`).

    Returns ``(table, cut_table)``: ``metrics`` plus the score columns, ``rfm_segment`` and
    ``composite_score`` (see :func:`score_customers`, :func:`rfm_segments`,
    :func:`composite_score`), and the cut table of :func:`score_customers`.
    """
    scored, cut_table = score_customers(metrics, n=n, custom_cuts=custom_cuts)
    if {"r_score", "f_score", "m_score"} <= set(scored.columns):
        scored["rfm_segment"] = rfm_segments(scored, rules, n)
    scored["composite_score"] = composite_score(scored, weights)
    return scored, cut_table
