"""Customer-base models: BG/NBD (is a customer still buying, and how often) and Gamma-Gamma (what
an order is worth). numpy and scipy only; :mod:`segcore.forecast` builds their input from the orders.

References (equation numbers below are these papers')
----------------------------------------------------
- [BG/NBD] Fader, Hardie & Lee (2005), "'Counting your customers' the easy way: an alternative to
  the Pareto/NBD model", Marketing Science 24(2), 275-284.
- [GG] Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer base
  analysis", Journal of Marketing Research 42(4), 415-430.

Notation: per customer, ``x`` repeat orders (order days after the first), ``t_x`` the time from
the first to the last order, ``T`` the time from the first order to the calibration end, all in
one time unit; ``zbar`` the mean value of the ``x`` repeat orders. Every function takes numpy
arrays (or scalars) and works element by element.

BG/NBD, in words: while active, a customer orders at random at their own rate lambda (Poisson);
after each repeat order they drop out for good with their own probability p. Across customers
lambda ~ Gamma(r, alpha) and p ~ Beta(a, b). Gamma-Gamma: a customer's order values are Gamma(p,
nu) around their own mean p / nu; across customers nu ~ Gamma(q, v).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# scipy is imported inside the functions that use it: importing scipy.special and scipy.optimize
# takes over half a second, which every other command and page would pay at start-up.

__all__ = ["PredictError", "BGNBDParams", "GammaGammaParams", "distinct_rows", "fit_bgnbd", "fit_gamma_gamma", "p_alive",
           "expected_orders_if_alive", "conditional_expected_orders", "prob_no_order", "time_to_order",
           "discounted_orders_if_alive", "expected_order_value", "simulate_bgnbd", "simulate_gamma_gamma"]

# An optimum with a log-parameter beyond +-_EDGE means the data do not pin that parameter down
# (e.g. nobody seems to drop out): reported, not returned.
_EDGE = 11.5

class PredictError(ValueError):
    """The data cannot support a prediction. ``str(err)`` is one plain sentence for the user.

    ``code`` names the problem and ``params`` holds its numbers, so a UI can say the same in
    another language (like :class:`segcore.IngestError`). Codes: ``no_customers``,
    ``calibration_too_short``, ``too_few_repeat_buyers``, ``no_convergence``, ``no_holdout``,
    ``bad_option``; for the spend model ``too_few_spend_values``, ``spend_no_convergence`` and
    ``spend_unbounded``.
    """

    def __init__(self, code: str, message: str, **params):
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class BGNBDParams:
    """Fitted BG/NBD parameters; ``log_likelihood`` is the data's total at the optimum (without
    the penalty); ``customers`` how many customers were fitted."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")
    customers: int = 0


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters (``v`` is the paper's gamma); as :class:`BGNBDParams`."""

    p: float
    q: float
    v: float
    log_likelihood: float = float("nan")
    customers: int = 0


def _arrays(*values):
    return [np.asarray(v, dtype=float) for v in values]


def _sum(weights: np.ndarray, values) -> float:
    """``weights . values`` without BLAS: OpenBLAS starts threads for a dot product, which on a
    busy machine costs ten times the sum itself."""
    return float(np.sum(weights * values))


def distinct_rows(*columns, weights=None):
    """The distinct rows of equal-length float ``columns``.

    Returns ``(unique, counts, inverse)``: one array per column, the summed ``weights`` (default
    1 per row) of each distinct row, and for each input row the index of its distinct row. Alike
    customers are fitted and predicted once. Rows are told apart by hashing (pandas.factorize),
    one column at a time.
    """
    cols = _arrays(*columns)
    code = np.zeros(len(cols[0]), dtype=np.int64)
    for col in cols:
        codes, uniques = pd.factorize(col)
        code, _ = pd.factorize(code * len(uniques) + codes)
    n = int(code.max()) + 1 if len(code) else 0
    first = np.empty(n, dtype=np.int64)
    first[code[::-1]] = np.arange(len(code) - 1, -1, -1)
    counts = np.bincount(code, weights=None if weights is None else np.asarray(weights, dtype=float),
                         minlength=n).astype(float)
    return [c[first] for c in cols], counts, code


def _minimise(objective, starts, what: str, code: str):
    """BFGS on log-parameters from each start; the best optimum, or PredictError ``code``.

    BFGS works in numpy; scipy's L-BFGS-B calls OpenBLAS, whose threads make it some 40 times
    slower on a busy machine. A start that wanders off to infinite values is dropped, and an
    optimum with a log-parameter beyond +-_EDGE (the data do not pin it down) is refused.
    """
    from scipy.optimize import minimize

    def guarded(theta):
        if np.max(np.abs(theta)) > 2 * _EDGE:
            return np.inf, np.zeros_like(theta)
        with np.errstate(all="ignore"):
            value, grad = objective(theta)
        return (value, grad) if np.isfinite(value) and np.all(np.isfinite(grad)) else (np.inf, np.zeros_like(theta))

    best = None
    for start in starts:
        res = minimize(guarded, np.log(start), jac=True, method="BFGS", options={"maxiter": 1000, "gtol": 1e-9})
        if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
            best = res
    if best is None or np.max(np.abs(best.x)) > _EDGE or np.max(np.abs(best.jac)) > 1e-3:
        raise PredictError(code, f"The {what} could not be fitted: the orders do not show clearly enough how "
                                 "often customers come back and when they stop (a longer calibration period "
                                 "may help).")
    return best


# --------------------------------------------------------------------------------------------
# BG/NBD
# --------------------------------------------------------------------------------------------

def _bgnbd_objective(x, t_x, T, w, penalty):
    """Mean negative log-likelihood of eq. (6) over the weighted rows, and its gradient, as a
    function of the log-parameters. Terms that depend on ``x`` alone are summed per distinct x."""
    from scipy.special import digamma, gammaln

    xs, inv = np.unique(x, return_inverse=True)
    xw = np.bincount(inv, weights=w)
    total = w.sum()
    repeat = x > 0
    xm1 = np.where(repeat, x - 1, 0.0)

    def f(theta):
        r, alpha, a, b = np.exp(theta)
        # eq. (6): L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / G(r) * [ (alpha+T)^-(r+x)
        #              + [x > 0] a/(b+x-1) * (alpha+t_x)^-(r+x) ]
        per_x = (gammaln(r + xs) - gammaln(r) + r * np.log(alpha)
                 + gammaln(a + b) + gammaln(b + xs) - gammaln(b) - gammaln(a + b + xs))
        log_T, log_tx = np.log(alpha + T), np.log(alpha + t_x)
        a3 = -(r + x) * log_T
        a4 = np.where(repeat, np.log(a) - np.log(b + xm1) - (r + x) * log_tx, -np.inf)
        tail = np.logaddexp(a3, a4)
        s4 = np.exp(a4 - tail)  # share of the "dropped out after the last order" branch
        s3 = 1.0 - s4
        ll = _sum(xw, per_x) + _sum(w, tail)
        dr = _sum(xw, digamma(r + xs) - digamma(r) + np.log(alpha)) - _sum(w, s3 * log_T + s4 * log_tx)
        dalpha = total * r / alpha - _sum(w, (r + x) * (s3 / (alpha + T) + s4 / (alpha + t_x)))
        ab = digamma(a + b) - digamma(a + b + xs)
        da = _sum(xw, ab) + _sum(w, s4) / a
        db = _sum(xw, ab + digamma(b + xs) - digamma(b)) - _sum(w, np.where(repeat, s4 / (b + xm1), 0.0))
        grad = np.array([dr * r, dalpha * alpha, da * a, db * b])
        return -ll / total + penalty * np.sum(theta * theta), -grad / total + 2 * penalty * theta

    return f


def fit_bgnbd(x, t_x, T, weights=None, *, penalty: float = 0.0) -> BGNBDParams:
    """Maximum-likelihood BG/NBD parameters (eq. 6).

    Parameters
    ----------
    x, t_x, T : per customer (or per distinct history, with ``weights`` = how many customers).
    penalty : optional ridge on the log-parameters, ``penalty * sum(log(theta)**2)`` added to the
        mean negative log-likelihood; 0 (default) is plain maximum likelihood.

    Returns
    -------
    :class:`BGNBDParams`. Customers with the same ``(x, t_x, T)`` are fitted once, weighted.
    The log-likelihood is maximised over the log-parameters with L-BFGS-B (analytic gradient) from
    three starting points, on a time scale where the longest ``T`` is 10 (``alpha`` is scaled
    back). Raises :class:`PredictError` ``no_convergence`` when no start settles.
    """
    x, t_x, T = _arrays(x, t_x, T)
    scale = 10.0 / max(float(T.max()), 1e-9)
    (ux, ut, uT), w, _ = distinct_rows(x, t_x * scale, T * scale, weights=weights)
    rate = max(_sum(w, ux) / max(_sum(w, uT), 1e-9), 1e-3)  # repeat orders per unit of time
    starts = [(r, r / rate, a, b) for r, a, b in ((1.0, 1.0, 3.0), (0.3, 0.7, 2.0), (3.0, 2.0, 10.0))]
    best = _minimise(_bgnbd_objective(ux, ut, uT, w, penalty), starts, "purchase model", "no_convergence")
    r, alpha, a, b = np.exp(best.x)
    # back on the original time scale: the likelihood is a density in the x order times, so it
    # gains scale**x
    ll = -_bgnbd_objective(ux, ut, uT, w, 0.0)(best.x)[0] * w.sum() + _sum(w, ux) * np.log(scale)
    return BGNBDParams(float(r), float(alpha / scale), float(a), float(b), float(ll), int(round(w.sum())))


def p_alive(bg: BGNBDParams, x, t_x, T):
    """P(alive | x, t_x, T): the probability the customer has not dropped out by T.

    ``1 / (1 + [x > 0] a / (b + x - 1) * ((alpha + T) / (alpha + t_x))**(r + x))``, the reciprocal
    of the denominator of eq. (10). 1 for ``x = 0``: in BG/NBD a customer can only drop out right
    after a repeat order, so someone who never reordered is alive by construction.
    """
    from scipy.special import expit

    x, t_x, T = _arrays(x, t_x, T)
    with np.errstate(divide="ignore"):
        log_odds = (np.log(bg.a) - np.log(np.where(x > 0, bg.b + x - 1, 1.0))
                    + (bg.r + x) * np.log((bg.alpha + T) / (bg.alpha + t_x)))
    return np.where(x > 0, expit(-log_odds), 1.0)


def expected_orders_if_alive(bg: BGNBDParams, x, T, t):
    """E[orders in (T, T + t] | alive at T]: the numerator of eq. (10).

    Given alive at T, the customer's future is a fresh BG/NBD process with ``r + x``,
    ``alpha + T``, ``a``, ``b + x``, so this is eq. (9) with those parameters::

        (a + b + x - 1) / (a - 1) * [1 - ((alpha + T) / (alpha + T + t))**(r + x)
                                        * 2F1(r + x, b + x; a + b + x - 1; t / (alpha + T + t))]

    computed through Euler's transformation, ``(1 - z)**(r + x) 2F1(r + x, b + x; c; z) =
    (1 - z)**(a - 1) 2F1(a + b - 1 - r, a - 1; c; z)``, whose series converges at z = 1 (the
    untransformed one grows without bound when a < 1). With ``x = 0, T = 0`` this is eq. (9),
    the expected repeat orders of a new customer in their first t units.
    """
    from scipy.special import hyp2f1

    x, T, t = _arrays(x, T, t)
    r, alpha, a, b = bg.r, bg.alpha, bg.a, bg.b
    z = t / (alpha + T + t)
    c = a + b + x - 1
    term = (1 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, c, z)
    return c / (a - 1) * (1 - term)


def conditional_expected_orders(bg: BGNBDParams, x, t_x, T, t):
    """E[orders in (T, T + t] | x, t_x, T], eq. (10): P(alive) x the orders expected if alive."""
    return p_alive(bg, x, t_x, T) * expected_orders_if_alive(bg, x, T, t)


def prob_no_order(bg: BGNBDParams, x, t_x, T, t):
    """P(no order in (T, T + t] | x, t_x, T).

    A customer who dropped out orders no more; one still active drops out only right after an
    order, so they make none in the next t units with probability exp(-lambda t), and given the
    history lambda ~ Gamma(r + x, alpha + T)::

        1 - P(alive) * (1 - ((alpha + T) / (alpha + T + t))**(r + x))
    """
    x, t_x, T, t = _arrays(x, t_x, T, t)
    return 1 - p_alive(bg, x, t_x, T) * (1 - ((bg.alpha + T) / (bg.alpha + T + t)) ** (bg.r + x))


def time_to_order(bg: BGNBDParams, x, t_x, T, prob: float = 0.5):
    """The time t after T by which the customer has ordered with probability ``prob``.

    Solves ``1 - prob_no_order(t) = prob``: ``t = (alpha + T) * ((1 - prob / P(alive))**(-1 / (r + x))
    - 1)``. ``inf`` when ``P(alive) <= prob``: the customer more likely than not never orders again.
    """
    x, t_x, T = _arrays(x, t_x, T)
    alive = p_alive(bg, x, t_x, T)
    left = 1 - prob / np.maximum(alive, 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (bg.alpha + T) * (np.power(np.where(left > 0, left, 1.0), -1 / (bg.r + x)) - 1)
    return np.where(left > 0, t, np.inf)


def discounted_orders_if_alive(bg: BGNBDParams, x, T, horizon: float, discount_rate: float):
    """Discounted orders in (T, T + horizon] if alive at T: ``sum_k dE_k / (1 + d)**t_k``.

    The horizon is cut into periods of one time unit, ending at ``t_k = min(k, horizon)`` for
    ``k = 1 .. ceil(horizon)``; ``dE_k`` are the orders expected in period k
    (:func:`expected_orders_if_alive` at ``t_k`` minus at ``t_(k-1)``) and ``d`` the discount rate
    per unit. 0 when the horizon is 0.
    """
    x, T = _arrays(x, T)
    total = np.zeros(np.broadcast(x, T).shape)
    before = np.zeros_like(total)
    periods = int(np.ceil(horizon - 1e-9)) if horizon > 0 else 0
    for k in range(1, periods + 1):
        tk = min(float(k), float(horizon))
        now = expected_orders_if_alive(bg, x, T, tk)
        total += (now - before) / (1 + discount_rate) ** tk
        before = now
    return total


# --------------------------------------------------------------------------------------------
# Gamma-Gamma
# --------------------------------------------------------------------------------------------

def _gg_objective(x, m, w, penalty):
    """Mean negative log-likelihood of the marginal density of zbar, [GG] eq. (3), and its
    gradient in the log-parameters::

        f(zbar | x) = G(px + q) / (G(px) G(q)) * v^q x^(px) zbar^(px - 1) / (v + x zbar)^(px + q)

    The Gamma functions are summed per distinct x, the terms in log(zbar) and log(x) once.
    """
    from scipy.special import digamma, gammaln

    xs, inv = np.unique(x, return_inverse=True)
    xw = np.bincount(inv, weights=w)
    total = w.sum()
    log_m = np.log(m)
    x_log_mx = _sum(w, x * (log_m + np.log(x)))  # sum of w x (log zbar + log x)
    sum_log_m = _sum(w, log_m)

    def f(theta):
        p, q, v = np.exp(theta)
        pxs = p * xs
        log_vxm = np.log(v + x * m)
        ll = (_sum(xw, gammaln(pxs + q) - gammaln(pxs)) - total * (gammaln(q) - q * np.log(v))
              + p * x_log_mx - sum_log_m - _sum(w, (p * x + q) * log_vxm))
        dp = _sum(xw, xs * (digamma(pxs + q) - digamma(pxs))) + x_log_mx - _sum(w, x * log_vxm)
        dq = _sum(xw, digamma(pxs + q)) - total * (digamma(q) - np.log(v)) - _sum(w, log_vxm)
        dv = total * q / v - _sum(w, (p * x + q) / (v + x * m))
        grad = np.array([dp * p, dq * q, dv * v])
        return -ll / total + penalty * np.sum(theta * theta), -grad / total + 2 * penalty * theta

    return f


def fit_gamma_gamma(x, zbar, weights=None, *, penalty: float = 0.0) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma parameters ([GG] eq. 3) over customers with ``x > 0`` and
    ``zbar > 0`` (the caller leaves the others out).

    Money is scaled so that the mean ``zbar`` is 1 while fitting (``v`` is scaled back); three
    starting points; ``penalty`` as in :func:`fit_bgnbd`. Raises :class:`PredictError`
    ``spend_no_convergence`` when no start settles.
    """
    x, zbar = _arrays(x, zbar)
    scale = float(np.mean(zbar))
    (ux, um), w, _ = distinct_rows(x, zbar / scale, weights=weights)
    starts = [(p, q, p * (q - 1)) for p, q in ((1.0, 2.0), (5.0, 4.0), (0.5, 1.5))]
    best = _minimise(_gg_objective(ux, um, w, penalty), starts, "spend model", "spend_no_convergence")
    p, q, v = np.exp(best.x)
    # back on the original money scale: each density gains the Jacobian 1 / scale
    ll = -_gg_objective(ux, um, w, 0.0)(best.x)[0] * w.sum() - w.sum() * np.log(scale)
    return GammaGammaParams(float(p), float(q), float(v * scale), float(ll), int(round(w.sum())))


def expected_order_value(gg: GammaGammaParams, x, zbar):
    """E[order value | x, zbar], [GG] eq. (4)::

        (q - 1) / (px + q - 1) * v p / (q - 1) + px / (px + q - 1) * zbar

    a weighted mean of the population's mean order value ``v p / (q - 1)`` and the customer's own
    ``zbar``; the more repeat orders, the more weight on their own. Customers with ``x = 0`` (or
    ``zbar <= 0``, whose repeat orders were mostly returned) get the population mean. Needs q > 1.
    """
    x, zbar = _arrays(x, zbar)
    own = (x > 0) & (zbar > 0)
    xx = np.where(own, x, 0.0)
    return (gg.v + xx * np.where(own, zbar, 0.0)) * gg.p / (gg.p * xx + gg.q - 1)


# --------------------------------------------------------------------------------------------
# Simulation (tests and benchmarks draw data from known parameters)
# --------------------------------------------------------------------------------------------

def simulate_bgnbd(bg: BGNBDParams, T, rng: np.random.Generator):
    """Draw ``(x, t_x)`` for customers observed for ``T`` units after their first order.

    Each customer gets lambda ~ Gamma(r, rate alpha) and p ~ Beta(a, b), orders at Poisson
    rate lambda and drops out after each repeat order with probability p: ``x = min(K, N)`` with
    ``N ~ Poisson(lambda T)`` orders in (0, T] and ``K ~ Geometric(p)`` the order after which they
    would drop out; the x-th of N uniform order times on (0, T] is ``T * Beta(x, N - x + 1)``.
    """
    T = np.asarray(T, dtype=float)
    lam = rng.gamma(bg.r, 1 / bg.alpha, T.shape)
    p = rng.beta(bg.a, bg.b, T.shape)
    n = rng.poisson(lam * T)
    x = np.minimum(rng.geometric(p), n)
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), np.maximum(n - x + 1, 1)), 0.0)
    return x.astype(float), t_x


def simulate_gamma_gamma(gg: GammaGammaParams, x, rng: np.random.Generator):
    """Draw the mean order value ``zbar`` of ``x`` orders (x > 0): nu ~ Gamma(q, rate v), each
    order ~ Gamma(p, rate nu), so their mean ~ Gamma(p x, rate nu x)."""
    x = np.asarray(x, dtype=float)
    nu = rng.gamma(gg.q, 1 / gg.v, x.shape)
    return rng.gamma(gg.p * x, 1 / (nu * x))
