"""Computed ABC analysis (Ultsch & Lötsch 2015) for customer spend.

This module splits customers into the tiers A ("the important few"),
B (yield about equal to effort) and C ("the trivial many") with the
*computed ABC analysis* of

    Ultsch A., Lötsch J. (2015). Computed ABC analysis for rational
    selection of most informative variables in multivariate data.
    PLoS One 10(6): e0129767. doi:10.1371/journal.pone.0129767

The computation follows the reference R package ``ABCanalysis``
(M. Thrun, J. Lötsch, A. Ultsch), functions ``ABCcleanData``, ``ABCcurve``
and ``ABCanalysis``, step by step:

1. Cleaning (``ABCcleanData``): missing (``None``/NaN), non-finite and
   negative values become 0; zero-spend customers stay in the population.
2. ABC curve (``ABCcurve``): values sorted in descending order, effort
   ``x = (1..n)/n``, yield ``y = cumsum / total``; the point (0, 0) is
   prepended.  The curve is interpolated with R's ``spline()`` (cubic
   spline, method ``"fmm"`` of Forsythe, Malcolm & Moler) on the grid
   ``seq(0, 1, by=0.01)`` (101 points) for fewer than 101 customers and
   ``seq(0, 1, by=0.001)`` (1001 points) otherwise.  Interpolated yields are
   set to 1 from the first grid point where they reach 1.  The slope is
   ``splinefun(Effort, Yield)`` (again "fmm") differentiated once and,
   exactly as in the R code, evaluated at ``(1..m)/m`` with ``m`` the grid
   length.
3. Points (``ABCanalysis``):

   * Pareto point: the grid point with the smallest (squared Euclidean)
     distance to (0, 1) (first minimum);
   * break-even point: the grid point whose slope is closest to 1 (first
     minimum);
   * whichever of the two has the smaller effort gives the A/B limit (if the
     break-even point lies left of the Pareto point, R reports
     ``ABexchanged = TRUE``);
   * submarginal point: the grid point closest to (x of the other point, 1);
     it gives the B/C limit.

4. Value limits (``ABCanalysis``, current version in the authors' GitHub
   repository): with ``s`` the values sorted in descending order,
   ``ABLimit = s[round(Ax * n)]`` and ``BCLimit = s[round(Cx * n)]``
   (1-based, R's ``round`` = round half to even); A = values > ABLimit,
   B = BCLimit <= values <= ABLimit, C = values < BCLimit.

Notes
-----
* Because A is *strictly above* the value found at rank ``round(Ax * n)``,
  the customer at that rank (and its ties) is in B, as in the R package.
* Small inputs give small or empty A groups; see :func:`computed_abc` for
  the degenerate cases.
* Only ``numpy`` is used; the spline code is a line-by-line port of R's
  ``src/library/stats/src/splines.c`` (``fmm_spline``, ``spline_eval``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, List, Sequence, Tuple

import numpy as np

__all__ = ["ComputedABC", "computed_abc", "computed_abc_classes"]

_NAN_POINT: Tuple[float, float] = (math.nan, math.nan)


@dataclass(frozen=True)
class ComputedABC:
    """Result of a computed ABC analysis of customer spend.

    Attributes
    ----------
    a_limit : float
        Customers with (cleaned) spend strictly above ``a_limit`` are in A.
    b_limit : float
        Customers with ``b_limit <= spend <= a_limit`` are in B; spend below
        ``b_limit`` is C.  Always ``b_limit <= a_limit``.
    a_share : float
        Share (0..1) of the total positive spend held by the A customers.
    b_share : float
        Cumulative share (0..1) of the total positive spend held by the A and
        B customers together (``b_share >= a_share``).
    a_count, b_count, c_count : int
        Number of customers in A, B and C (they add up to the input length).
    pareto_point : tuple of float
        ``(effort, yield)`` of the Pareto point on the interpolated ABC curve
        (grid point closest to (0, 1)).
    break_even_point : tuple of float
        ``(effort, yield)`` of the break-even point (slope closest to 1).
    submarginal_point : tuple of float
        ``(effort, yield)`` of the submarginal point (grid point closest to
        (x of the right-hand one of the two points above, 1)).

    Notes
    -----
    ``a_share`` and ``b_share`` are the cumulative shares of the spend-sorted
    customers (descending) at the end of the A group and of the B group.
    A Pareto-by-spend tiering that puts a customer in A while its cumulative
    share (including itself) is ``<= a_share`` (in B while ``<= b_share``)
    reproduces the groups; so does the rule "share held by the customers
    ranked above it ``< a_share`` (resp. ``< b_share``)", i.e. the customer
    crossing a cut belongs to the upper level.  ``a_share`` is 0.0 when A is
    empty.  The shares are exact group boundaries computed as
    ``cumsum(sorted_desc)[k-1] / cumsum(sorted_desc)[-1]`` in float64; a
    tiering that computes its cumulative shares differently (e.g. dividing
    by ``numpy.sum``, which sums pairwise) can differ in the last bits and
    move the boundary customer, so compare with a small tolerance or use the
    value limits ``a_limit``/``b_limit`` directly.
    """

    a_limit: float
    b_limit: float
    a_share: float
    b_share: float
    a_count: int
    b_count: int
    c_count: int
    pareto_point: Tuple[float, float]
    break_even_point: Tuple[float, float]
    submarginal_point: Tuple[float, float]


# ---------------------------------------------------------------------------
# Cleaning (ABCcleanData)
# ---------------------------------------------------------------------------
def _clean(values: Iterable) -> np.ndarray:
    """Convert the input to float64 with missing/non-finite/negative -> 0.

    Parameters
    ----------
    values : iterable of float or None
        Spend per customer.

    Returns
    -------
    numpy.ndarray
        1-D float64 array of the same length, all entries finite and >= 0.
    """
    if values is None:
        return np.zeros(0, dtype=np.float64)
    if isinstance(values, np.ndarray):
        seq = values.ravel().tolist()
    else:
        seq = list(values)
    out = np.array(
        [0.0 if v is None else float(v) for v in seq], dtype=np.float64
    )
    # R: is.finite() == FALSE -> 0 (NA, NaN, +-Inf); then negatives -> 0.
    out[~np.isfinite(out)] = 0.0
    out[out < 0] = 0.0
    return out


# ---------------------------------------------------------------------------
# Cubic spline, method "fmm" (port of R's stats/src/splines.c)
# ---------------------------------------------------------------------------
def _fmm_spline_coef(
    x: Sequence[float], y: Sequence[float]
) -> Tuple[List[float], List[float], List[float]]:
    """Coefficients of R's ``fmm_spline`` (Forsythe, Malcolm and Moler).

    Parameters
    ----------
    x : sequence of float
        Strictly increasing knots (length n).
    y : sequence of float
        Values at the knots (length n).

    Returns
    -------
    b, c, d : list of float
        Polynomial coefficients such that on ``[x[i], x[i+1]]`` the spline
        is ``y[i] + b[i]*t + c[i]*t**2 + d[i]*t**3`` with ``t = u - x[i]``.
        For ``n < 2`` all coefficients are 0 (constant spline); for
        ``n == 2`` the spline is the straight line.
    """
    n = len(x)
    # 1-based working arrays, as in the C code.
    xs = [0.0] + [float(t) for t in x]
    ys = [0.0] + [float(t) for t in y]
    b = [0.0] * (n + 1)
    c = [0.0] * (n + 1)
    d = [0.0] * (n + 1)
    if n < 2:
        return b[1:], c[1:], d[1:]
    if n < 3:
        t = ys[2] - ys[1]
        b[1] = t / (xs[2] - xs[1])
        b[2] = b[1]
        return b[1:], c[1:], d[1:]

    nm1 = n - 1
    # Tridiagonal system: b = diagonal, d = off-diagonal, c = right-hand side.
    d[1] = xs[2] - xs[1]
    c[2] = (ys[2] - ys[1]) / d[1]
    for i in range(2, n):
        d[i] = xs[i + 1] - xs[i]
        b[i] = 2.0 * (d[i - 1] + d[i])
        c[i + 1] = (ys[i + 1] - ys[i]) / d[i]
        c[i] = c[i + 1] - c[i]

    # End conditions: third derivatives at the ends from divided differences.
    b[1] = -d[1]
    b[n] = -d[nm1]
    c[1] = c[n] = 0.0
    if n > 3:
        c[1] = c[3] / (xs[4] - xs[2]) - c[2] / (xs[3] - xs[1])
        c[n] = c[nm1] / (xs[n] - xs[n - 2]) - c[n - 2] / (xs[nm1] - xs[n - 3])
        c[1] = c[1] * d[1] * d[1] / (xs[4] - xs[1])
        c[n] = -c[n] * d[nm1] * d[nm1] / (xs[n] - xs[n - 3])

    # Gaussian elimination.
    for i in range(2, n + 1):
        t = d[i - 1] / b[i - 1]
        b[i] = b[i] - t * d[i - 1]
        c[i] = c[i] - t * c[i - 1]

    # Backward substitution.
    c[n] = c[n] / b[n]
    for i in range(nm1, 0, -1):
        c[i] = (c[i] - d[i] * c[i + 1]) / b[i]

    # Polynomial coefficients.
    b[n] = (ys[n] - ys[n - 1]) / d[n - 1] + d[n - 1] * (c[n - 1] + 2.0 * c[n])
    for i in range(1, nm1 + 1):
        b[i] = (ys[i + 1] - ys[i]) / d[i] - d[i] * (c[i + 1] + 2.0 * c[i])
        d[i] = (c[i + 1] - c[i]) / d[i]
        c[i] = 3.0 * c[i]
    c[n] = 3.0 * c[n]
    d[n] = d[nm1]
    return b[1:], c[1:], d[1:]


def _spline_eval(
    u: Sequence[float],
    x: Sequence[float],
    y: Sequence[float],
    b: Sequence[float],
    c: Sequence[float],
    d: Sequence[float],
) -> np.ndarray:
    """Evaluate a piecewise cubic like R's ``spline_eval`` (non-periodic).

    Parameters
    ----------
    u : sequence of float
        Evaluation points.
    x, y, b, c, d : sequence of float
        Knots and coefficients (see :func:`_fmm_spline_coef`).

    Returns
    -------
    numpy.ndarray
        ``y[i] + dx*(b[i] + dx*(c[i] + dx*d[i]))`` for each point, with the
        interval ``i`` chosen exactly as in R (cubic extrapolation outside).
    """
    n = len(x)
    n_1 = n - 1
    out = np.empty(len(u), dtype=np.float64)
    i = 0
    for l, ul in enumerate(u):
        ul = float(ul)
        if ul < x[i] or (i < n_1 and x[i + 1] < ul):
            # reset i such that x[i] <= ul <= x[i+1]
            i = 0
            j = n
            while True:
                k = (i + j) // 2
                if ul < x[k]:
                    j = k
                else:
                    i = k
                if not j > i + 1:
                    break
        dx = ul - x[i]
        out[l] = y[i] + dx * (b[i] + dx * (c[i] + dx * d[i]))
    return out


# ---------------------------------------------------------------------------
# ABC curve (ABCcurve)
# ---------------------------------------------------------------------------
def _abc_curve(clean: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interpolated ABC curve and its slope, as R's ``ABCcurve``.

    Parameters
    ----------
    clean : numpy.ndarray
        Cleaned spend (finite, >= 0) with a positive sum; length >= 1.

    Returns
    -------
    effort : numpy.ndarray
        Grid ``seq(0, 1, by=0.01)`` (101 points) if fewer than 101
        customers, else ``seq(0, 1, by=0.001)`` (1001 points).
    yield_ : numpy.ndarray
        Spline-interpolated cumulative share at ``effort``, set to 1 from the
        first point where it reaches 1.
    slope : numpy.ndarray
        ``splinefun(effort, yield_)`` first derivative at ``(1..m)/m``
        (``m = len(effort)``; this offset is in the R code).
    """
    rows = len(clean)
    if rows < 101:
        step, m = 0.01, 101
    else:
        step, m = 0.001, 1001
    # R: seq(0, 1, by=step) == pmin(0 + (0:k) * step, 1)
    effort = np.minimum(np.arange(m, dtype=np.float64) * step, 1.0)

    sorted_desc = np.sort(clean)[::-1]
    # R's cumsum accumulates in long double.
    y = np.cumsum(sorted_desc.astype(np.longdouble)).astype(np.float64)
    y = y / y[-1]
    x = np.arange(1, rows + 1, dtype=np.float64) / rows
    if y[0] > 0:
        x = np.concatenate(([0.0], x))
        y = np.concatenate(([0.0], y))
    if x[-1] < 1:  # as in R (never true here)
        x = np.append(x, 1.0)
        y = np.append(y, 1.0)

    xl, yl = x.tolist(), y.tolist()
    b, c, d = _fmm_spline_coef(xl, yl)
    yield_ = _spline_eval(effort.tolist(), xl, yl, b, c, d)

    # "Fehlerabfang der Interpolation": yield is 1 from its first value >= 1.
    hits = np.flatnonzero(yield_ >= 1)
    if hits.size and hits[0] < len(yield_) - 1:
        yield_[hits[0]:] = 1.0

    # splinefun(Effort, Yield)(1:m/m, deriv=1)
    el, wl = effort.tolist(), yield_.tolist()
    b2, c2, d2 = _fmm_spline_coef(el, wl)
    slope = _spline_eval(
        (np.arange(1, m + 1, dtype=np.float64) / m).tolist(),
        el,
        b2,
        [2.0 * t for t in c2],
        [3.0 * t for t in d2],
        [0.0] * m,
    )
    return effort, yield_, slope


def _sq_dist(px: float, py: float, ex: np.ndarray, ey: np.ndarray) -> np.ndarray:
    """``sum(abs(c(px, py) - curve[i, ])^2)`` for every grid point (R's sum
    accumulates in long double)."""
    a = np.abs(px - ex) ** 2
    b = np.abs(py - ey) ** 2
    return (a.astype(np.longdouble) + b.astype(np.longdouble)).astype(np.float64)


def _which_min(v: np.ndarray) -> int:
    """0-based index of the first minimum, ignoring NaN (R's ``which.min``)."""
    w = np.where(np.isnan(v), np.inf, v)
    return int(np.argmin(w))


# ---------------------------------------------------------------------------
# Analysis (ABCanalysis)
# ---------------------------------------------------------------------------
def _analyse(values) -> Tuple[ComputedABC, np.ndarray]:
    clean = _clean(values)
    n = len(clean)
    total = float(clean.sum()) if n else 0.0
    if n == 0 or not total > 0:
        res = ComputedABC(
            a_limit=math.inf,
            b_limit=math.inf,
            a_share=0.0,
            b_share=0.0,
            a_count=0,
            b_count=0,
            c_count=n,
            pareto_point=_NAN_POINT,
            break_even_point=_NAN_POINT,
            submarginal_point=_NAN_POINT,
        )
        return res, clean

    effort, yield_, slope = _abc_curve(clean)

    pareto_ind = _which_min(_sq_dist(0.0, 1.0, effort, yield_))
    break_even_ind = _which_min(np.abs(slope - 1.0))
    if effort[break_even_ind] < effort[pareto_ind]:  # ABexchanged
        a_ind = break_even_ind
        bx = float(effort[pareto_ind])
    else:
        a_ind = pareto_ind
        bx = float(effort[break_even_ind])
    c_ind = _which_min(_sq_dist(bx, 1.0, effort, yield_))

    # Value limits: ABLimit = sort(Data, decreasing=TRUE)[round(A[1]*n)],
    # BCLimit likewise with C[1].  np.rint rounds half to even like R.
    sorted_desc = np.sort(clean)[::-1]
    a_rank = int(np.rint(effort[a_ind] * n))
    c_rank = int(np.rint(effort[c_ind] * n))
    # R would index with 0 (empty result) here; rank 1 = "nothing above the
    # largest value", i.e. A is empty.
    a_rank = min(max(a_rank, 1), n)
    c_rank = min(max(c_rank, 1), n)
    a_limit = float(sorted_desc[a_rank - 1])
    b_limit = float(sorted_desc[c_rank - 1])
    if b_limit > a_limit:  # safety guard: keep A, B and C disjoint
        b_limit = a_limit

    a_count = int(np.count_nonzero(clean > a_limit))
    b_count = int(np.count_nonzero((clean >= b_limit) & (clean <= a_limit)))
    c_count = n - a_count - b_count

    cum = np.cumsum(sorted_desc)
    cum_total = float(cum[-1])
    a_share = float(cum[a_count - 1]) / cum_total if a_count else 0.0
    ab = a_count + b_count
    b_share = float(cum[ab - 1]) / cum_total if ab else 0.0

    def _pt(i: int) -> Tuple[float, float]:
        return (float(effort[i]), float(yield_[i]))

    res = ComputedABC(
        a_limit=a_limit,
        b_limit=b_limit,
        a_share=a_share,
        b_share=b_share,
        a_count=a_count,
        b_count=b_count,
        c_count=c_count,
        pareto_point=_pt(pareto_ind),
        break_even_point=_pt(break_even_ind),
        submarginal_point=_pt(c_ind),
    )
    return res, clean


def computed_abc(values) -> ComputedABC:
    """Computed ABC analysis of customer spend (Ultsch & Lötsch 2015).

    Parameters
    ----------
    values : iterable of float or None
        Spend per customer (list, tuple, numpy array, ...).  ``None``, NaN,
        +-inf and negative values count as 0 (as ``ABCcleanData`` in R);
        zero-spend customers stay in the population (they add effort but no
        yield).

    Returns
    -------
    ComputedABC
        Value limits, group sizes, spend shares and the three curve points.
        A = spend > ``a_limit``; B = ``b_limit`` <= spend <= ``a_limit``;
        C = spend < ``b_limit``.

    Notes
    -----
    Degenerate inputs do not raise:

    * empty input, or no positive spend at all (all zero / negative /
      missing): ``a_limit = b_limit = inf``, every customer is C,
      ``a_share = b_share = 0.0``, the three points are ``(nan, nan)``;
    * one customer with positive spend: the curve is the diagonal, so the
      customer is B (``a_limit = b_limit =`` its spend, ``b_share = 1``);
    * all values equal and positive: everyone is B (both limits equal the
      common value);
    * two customers: A is empty (the limit rank rounds to 1); the larger
      one is B and the smaller one is C unless both are equal;
    * generally, A is empty whenever ``round(Ax * n) <= 1``.

    Examples
    --------
    >>> r = computed_abc([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    >>> (r.a_limit, r.b_limit, r.a_count, r.b_count, r.c_count)
    (7.0, 5.0, 3, 3, 4)
    """
    return _analyse(values)[0]


def computed_abc_classes(values) -> List[str]:
    """Tier label per customer from the computed ABC analysis.

    Parameters
    ----------
    values : iterable of float or None
        Spend per customer; cleaned as in :func:`computed_abc`.

    Returns
    -------
    list of str
        ``'A'``, ``'B'`` or ``'C'`` for each input position, in input order.
        Empty input gives ``[]``; input without positive spend gives all
        ``'C'`` (see :func:`computed_abc` for the other edge cases).

    Examples
    --------
    >>> computed_abc_classes([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    ['C', 'C', 'C', 'C', 'B', 'B', 'B', 'A', 'A', 'A']
    """
    res, clean = _analyse(values)
    labels: List[str] = []
    for v in clean.tolist():
        if v > res.a_limit:
            labels.append("A")
        elif v >= res.b_limit:
            labels.append("B")
        else:
            labels.append("C")
    return labels
