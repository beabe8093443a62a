"""Predictions: who is still a customer, what they will buy next and what they are worth.

The per-customer summary comes from the order lines in DuckDB SQL (:func:`customer_summary`);
the models (:mod:`segcore.models`: BG/NBD and Gamma-Gamma) are fitted once
(:func:`fit_models`) and predict for any horizon and discount rate without refitting
(:func:`predict`). :func:`holdout_check` fits on the orders up to a date and compares the
prediction with what happened after it. The rest serves the Forecast page: predictions beside
the tiers (:func:`forecast_table`, :func:`forecast_summary`, :func:`palive_bands`,
:func:`value_lists`), P(alive)
beside the churn rule (:func:`palive_vs_churn`) and first-order cohorts (:func:`cohort_table`).

Orders follow the product's definition everywhere: an order is an ``order_id`` (else one
customer-day) and counts only with a positive net amount; an order day is a day with such an
order. When the data cannot support a fit the functions raise :class:`PredictError` (a code, its
numbers and one plain sentence), never return numbers that mean nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd

from .dynamics import churn_risk
from .metrics import AMOUNT_STEPS, _cents, window_bounds
from .models import (BGNBDParams, GammaGammaParams, PredictError, discounted_orders_if_alive, distinct_rows,
                     expected_order_value, expected_orders_if_alive, fit_bgnbd, fit_gamma_gamma, p_alive,
                     prob_no_order, time_to_order)
from .tiers import DEFAULT_CUTS, TierRules, assign_tiers

__all__ = [
    "UNITS", "PREDICTION_COLUMNS", "DISAGREEMENT_REASONS", "Note", "ModelFit", "Holdout", "Cohorts",
    "customer_summary", "default_calibration_end", "fit_models", "predict", "holdout_check",
    "forecast_table", "forecast_summary", "palive_bands", "value_lists", "palive_vs_churn", "cohort_table",
]

#: Time units of the models, in days.
UNITS = {"day": 1, "week": 7}

#: Columns of :func:`predict`, in export order.
PREDICTION_COLUMNS = ("customer_id", "x", "t_x", "T", "p_alive", "expected_orders", "prob_no_order",
                      "expected_next_order_date", "expected_order_value", "clv")

#: Reason codes of :func:`palive_vs_churn` for customers the model and the churn rule judge
#: differently, with the explanation in English and Chinese.
DISAGREEMENT_REASONS = {
    "one_time_buyer": (
        "ordered on one day only: the model cannot see a one-time buyer leave (P(alive) is 1 by "
        "construction), the rule compares their silence with other customers' usual interval",
        "只在一天下过单：模型无法判断只买过一次的客户是否流失（P(alive) 按构造为 1），规则则以其他客户的通常间隔衡量其未下单时长"),
    "spend_drop_only": (
        "flagged by the rule for falling spend only; the model looks at when orders came, not their size",
        "规则仅因消费下降而预警；模型只看下单时间，不看金额"),
    "overdue_but_likely_active": (
        "overdue against their own usual interval, but the model still finds them more likely active "
        "than gone (few orders, or an irregular rhythm)",
        "已超出自己的通常间隔，但模型仍认为其更可能仍是活跃客户（订单少或下单不规律）"),
    "gone_within_usual_interval": (
        "not yet overdue by the rule, but the model finds them more likely gone: for their order "
        "rate, the silence since the last order is long",
        "按规则尚未逾期，但模型认为其更可能已流失：按其下单频率，自上次下单以来的沉默期已经很长"),
}

# Repeat buyers' frequency and order value correlated beyond this: the spend model's assumption
# (order values do not depend on how often one buys) is doubtful, and a warning says so.
_SPEND_CORRELATION_WARNING = 0.3

# The holdout's table by calibration frequency groups x = 0 .. 6 and 7 or more.
_FREQUENCY_GROUPS = 7

# The order days of every customer up to $end, split at $split (orders are grouped separately
# on each side, as if the data ended at $split). A day counts when it holds an order with a
# positive net amount, or in a count-only file (no amounts) any order; its net is the sum of all
# its orders (returns made that day included; NULL without amounts).
_ORDER_DAYS = """
    orders AS (
        SELECT customer_id, order_date > $split AS after, min(order_date) AS day,
               sum(round(amount * $steps)) AS net
        FROM lines
        WHERE order_date <= $end AND ($since IS NULL OR order_date >= $since)
        GROUP BY customer_id, after, COALESCE(order_id, CAST(order_date AS VARCHAR))),
    days AS (
        SELECT customer_id, day, bool_or(after) AS after, sum(net) AS net
        FROM orders GROUP BY customer_id, day HAVING max(net) > 0 OR count(net) = 0)"""


@dataclass(frozen=True)
class Note:
    """A warning about a fit: ``code`` and ``params`` for a UI to translate, ``message`` in English."""

    code: str
    message: str
    params: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, **self.params}


def _unit_days(unit: str) -> int:
    if unit not in UNITS:
        raise ValueError(f"The time unit is 'day' or 'week'; got {unit!r}.")
    return UNITS[unit]


def _params(calibration_end: date, end: date, since: date | None) -> dict:
    return {"split": calibration_end, "end": end, "since": since, "steps": AMOUNT_STEPS}


# --------------------------------------------------------------------------------------------
# Summary and calibration end
# --------------------------------------------------------------------------------------------

def customer_summary(con: duckdb.DuckDBPyConnection, calibration_end: date, unit: str = "week", *,
                     since: date | None = None) -> pd.DataFrame:
    """The per-customer summary the models are fitted on, at the calibration end E.

    Parameters
    ----------
    con : connection with the view ``lines`` (:func:`segcore.load_orders`).
    calibration_end : E; lines after it are not seen.
    unit : ``"day"`` or ``"week"``: the time unit of ``t_x`` and ``T``.
    since : optional window start; lines before it are not seen (a customer's first order is
        then their first in the window).

    Returns
    -------
    DataFrame, one row per buyer with an order day up to E, sorted by ``customer_id``:

    - ``x``: repeat order days (order days minus one). An order day is a day with an order of
      positive net amount (an order is an ``order_id``, else one customer-day; its date is its
      earliest line's); returns and orders cancelled to zero are not orders.
    - ``t_x``: time from the first to the last order day; ``T``: from the first order day to E
      (in ``unit``, e.g. 213 days = 30.43 weeks).
    - ``zbar``: the mean net amount of the repeat order days (a day's net is the sum of its
      orders, returns made that day included), rounded half-up to cents on the exact sum
      (:func:`segcore.metrics.half_up`); 0 when ``x = 0``. It can be <= 0 when the returns made
      on order days outweigh what was bought; the spend model leaves those customers out.

    Buyers whose first order day is after E are not in the calibration; customers whose orders
    up to E all net to <= 0 are not buyers.
    """
    days = _unit_days(unit)
    return con.execute(f"""
        WITH {_ORDER_DAYS},
        per AS (
            SELECT customer_id, count(*) - 1 AS x, min(day) AS first_day, max(day) AS last_day,
                   sum(net) - arg_min(net, day) AS repeat_steps
            FROM days GROUP BY customer_id)
        SELECT customer_id, CAST(x AS BIGINT) AS x,
               date_diff('day', first_day, last_day) / $days AS t_x,
               date_diff('day', first_day, $split) / $days AS "T",
               CASE WHEN x > 0 THEN {_cents("repeat_steps", "x")} ELSE 0 END AS zbar
        FROM per ORDER BY customer_id""",
        {**_params(calibration_end, calibration_end, since), "days": float(days)}).df()


def default_calibration_end(con: duckdb.DuckDBPyConnection, since: date | None = None,
                            as_of: date | None = None) -> date:
    """The calibration end that holds out the last third of the data's time span:
    ``last - round((last - first) / 3)`` days, ``first`` the earliest order date (or ``since``),
    ``last`` the latest (or ``as_of``)."""
    first, last = window_bounds(con, as_of, since)
    return last - timedelta(days=round((last - first).days / 3))


# --------------------------------------------------------------------------------------------
# Fit and predict
# --------------------------------------------------------------------------------------------

@dataclass(repr=False)
class ModelFit:
    """Both models fitted on one calibration summary; :func:`predict` uses it for any horizon.

    Attributes
    ----------
    calibration_end, unit : E and the time unit of the summary.
    summary : :func:`customer_summary` (``customer_id, x, t_x, T, zbar``).
    bgnbd : :class:`segcore.models.BGNBDParams` (``r, alpha, a, b``).
    gamma_gamma : :class:`segcore.models.GammaGammaParams` (``p, q, v``), or None when the spend
        model could not be fitted; ``spend_error`` then says why, and order values and CLV are empty.
    spend_frequency_correlation : correlation of ``x`` and ``zbar`` over the repeat buyers the
        spend model used (it assumes none; a warning follows beyond 0.3 either way).
    spend_excluded : repeat buyers left out of the spend model (``zbar <= 0``).
    warnings : :class:`Note` s: ``spend_excluded``, ``spend_depends_on_frequency``, and the spend
        model's error when it failed.
    _histories : the distinct ``(x, T)`` of the summary and each customer's index into them:
        the horizon-dependent part of a prediction is computed once per distinct pair.
    """

    calibration_end: date
    unit: str
    summary: pd.DataFrame
    bgnbd: BGNBDParams
    gamma_gamma: GammaGammaParams | None
    spend_error: PredictError | None
    spend_frequency_correlation: float
    spend_excluded: int
    warnings: list[Note]
    _histories: tuple = field(default=(), repr=False)

    def __repr__(self) -> str:
        bg = self.bgnbd
        gg = self.gamma_gamma
        return (f"ModelFit(E={self.calibration_end}, unit={self.unit}, customers={len(self.summary)}, "
                f"r={bg.r:.4f}, alpha={bg.alpha:.4f}, a={bg.a:.4f}, b={bg.b:.4f}"
                + (f", p={gg.p:.4f}, q={gg.q:.4f}, v={gg.v:.4f})" if gg else ", no spend model)"))

    def parameters(self) -> dict:
        """``{"bgnbd": {r, alpha, a, b}, "gamma_gamma": {p, q, v} or None}`` (for reports)."""
        bg, gg = self.bgnbd, self.gamma_gamma
        return {"bgnbd": {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b},
                "gamma_gamma": {"p": gg.p, "q": gg.q, "v": gg.v} if gg else None}


def fit_models(summary: pd.DataFrame, calibration_end: date, unit: str = "week", *, penalty: float = 0.0,
               min_repeat_buyers: int = 20, min_calibration_days: int = 56) -> ModelFit:
    """Fit BG/NBD on every customer of ``summary`` and Gamma-Gamma on its repeat buyers.

    Parameters
    ----------
    summary : :func:`customer_summary` at ``calibration_end`` in ``unit`` (or any table with
        ``x, t_x, T, zbar``, and ``customer_id``).
    calibration_end, unit : the summary's E and time unit (dates are counted from E).
    penalty : optional small ridge on the log-parameters (:func:`segcore.models.fit_bgnbd`).
    min_repeat_buyers : fewer customers with a repeat order than this cannot be fitted.
    min_calibration_days : the calibration period (first order to E) must be this long.

    Returns
    -------
    :class:`ModelFit`.

    Raises
    ------
    PredictError with code ``no_customers`` (nobody ordered up to E), ``calibration_too_short``,
    ``too_few_repeat_buyers`` or ``no_convergence``. A spend model that cannot be fitted
    (``too_few_spend_values``, ``spend_no_convergence``, ``spend_unbounded``: q <= 1, so order
    values have no finite mean) does not raise: ``spend_error`` and a warning say why.
    """
    days = _unit_days(unit)
    if not len(summary):
        raise PredictError("no_customers", f"Nobody placed an order up to {calibration_end}, so there is "
                                           "nothing to learn from; choose a later calibration end.",
                           calibration_end=calibration_end)
    x = summary["x"].to_numpy(dtype=float)
    t_x = summary["t_x"].to_numpy(dtype=float)
    T = summary["T"].to_numpy(dtype=float)
    zbar = summary["zbar"].to_numpy(dtype=float)
    span = int(round(T.max() * days))
    if span < min_calibration_days:
        raise PredictError("calibration_too_short",
                           f"The orders up to {calibration_end} cover only {span} days; the model needs at "
                           f"least {min_calibration_days} days to learn how often customers come back.",
                           days=span, min_days=min_calibration_days, calibration_end=calibration_end)
    repeat = x > 0
    if repeat.sum() < min_repeat_buyers:
        raise PredictError("too_few_repeat_buyers",
                           f"Only {int(repeat.sum())} customers ordered again after their first order up to "
                           f"{calibration_end}; the model needs at least {min_repeat_buyers} repeat buyers.",
                           repeat_buyers=int(repeat.sum()), min_repeat_buyers=min_repeat_buyers,
                           calibration_end=calibration_end)
    bg = fit_bgnbd(x, t_x, T, penalty=penalty)

    warnings: list[Note] = []
    spend = repeat & (zbar > 0)
    excluded = int((repeat & (zbar <= 0)).sum())  # NaN: a count-only file has no spend to leave out
    if excluded:
        warnings.append(Note("spend_excluded",
                             "Repeat buyers left out of the spend model because their returns outweigh their "
                             f"repeat orders: {excluded} (they get the average order value).",
                             {"customers": excluded}))
    gg, spend_error, corr = None, None, float("nan")
    if repeat.any() and np.isnan(zbar[repeat]).all():
        spend_error = PredictError("no_amounts", "The orders have no amounts (a count-only file), so there are "
                                                 "no order values and no lifetime values.")
    elif spend.sum() < min_repeat_buyers:
        spend_error = PredictError("too_few_spend_values",
                                   f"Only {int(spend.sum())} repeat buyers have a positive repeat spend; the spend "
                                   f"model needs at least {min_repeat_buyers}.",
                                   customers=int(spend.sum()), min_repeat_buyers=min_repeat_buyers)
    else:
        corr = float(np.corrcoef(x[spend], zbar[spend])[0, 1]) if np.ptp(x[spend]) and np.ptp(zbar[spend]) \
            else float("nan")
        try:
            gg = fit_gamma_gamma(x[spend], zbar[spend], penalty=penalty)
            if gg.q <= 1:
                raise PredictError("spend_unbounded",
                                   "Order values vary too much between customers for the spend model to give "
                                   f"an average order value (its q is {gg.q:.2f}, at most 1).", q=gg.q)
        except PredictError as exc:
            gg, spend_error = None, exc
        if abs(corr) >= _SPEND_CORRELATION_WARNING:
            warnings.append(Note("spend_depends_on_frequency",
                                 f"Order values go with how often customers buy (correlation {corr:.2f}); the "
                                 "spend model assumes they do not, so expected order values are less reliable.",
                                 {"correlation": corr}))
    if spend_error is not None and spend_error.code != "no_amounts":  # the UI says so once, on its own
        warnings.append(Note(spend_error.code, str(spend_error), spend_error.params))
    (px, pT), _, by_age = distinct_rows(x, T)
    return ModelFit(calibration_end=calibration_end, unit=unit, summary=summary, bgnbd=bg, gamma_gamma=gg,
                    spend_error=spend_error, spend_frequency_correlation=corr, spend_excluded=excluded,
                    warnings=warnings, _histories=(px, pT, by_age))


def _expected_orders(fit: ModelFit, t: float) -> np.ndarray:
    """Each customer's expected orders in (E, E + t] (eq. 10), unrounded; the BG/NBD part that
    depends on the horizon is computed once per distinct (x, T)."""
    s = fit.summary
    px, pT, by_age = fit._histories
    alive = p_alive(fit.bgnbd, s["x"].to_numpy(dtype=float), s["t_x"].to_numpy(dtype=float),
                    s["T"].to_numpy(dtype=float))
    return alive * expected_orders_if_alive(fit.bgnbd, px, pT, t)[by_age]


def predict(fit: ModelFit, horizon: float, discount_rate: float = 0.0) -> pd.DataFrame:
    """Per-customer predictions for the ``horizon`` units after E; no refitting.

    Parameters
    ----------
    fit : :func:`fit_models`.
    horizon : H, in the fit's unit (e.g. 39 weeks); 0 gives zero orders and CLV.
    discount_rate : d per unit (e.g. 0.002 a week, about 11% a year), for CLV.

    Returns
    -------
    DataFrame, one row per customer of the summary, ``PREDICTION_COLUMNS`` plus ``zbar`` and
    ``expected_spend``:

    - ``p_alive``: P(still a customer at E) (BG/NBD; 1 for ``x = 0`` by construction).
    - ``expected_orders``: order days expected in (E, E + H] (eq. 10).
    - ``prob_no_order``: P(no order in (E, E + H]).
    - ``expected_next_order_date``: the first day by which the customer has ordered with
      probability at least 0.5 (``1 - P(no order by then) >= 0.5``; E + the time
      :func:`segcore.models.time_to_order`, rounded up to a whole day). Empty when that day is
      after E + H, so it is filled exactly when ``prob_no_order <= 0.5``; in particular empty
      when P(alive) <= 0.5 (more likely gone than not: the next order may never come).
    - ``expected_order_value``: Gamma-Gamma's expected value of an order ([GG] eq. 4).
    - ``expected_spend`` = expected_orders x expected_order_value (undiscounted).
    - ``clv``: ``expected_order_value x P(alive) x sum_k dE_k / (1 + d)**t_k`` over periods of
      one unit (:func:`segcore.models.discounted_orders_if_alive`): expected orders per period x
      expected order value, discounted at each period's end. 0 when H = 0.

    Probabilities and orders are rounded to 4 decimals, money to cents, ``t_x`` and ``T`` to 4.
    The spend columns are empty when the spend model failed (``fit.spend_error``).
    """
    if not horizon >= 0 or not math.isfinite(horizon):
        raise ValueError("The horizon must be a number of time units, 0 or more.")
    if not 0 <= discount_rate < 1:
        raise ValueError("The discount rate per period must be at least 0 and below 1.")
    s, bg, gg = fit.summary, fit.bgnbd, fit.gamma_gamma
    days = UNITS[fit.unit]
    x = s["x"].to_numpy(dtype=float)
    t_x = s["t_x"].to_numpy(dtype=float)
    T = s["T"].to_numpy(dtype=float)
    zbar = s["zbar"].to_numpy(dtype=float)
    px, pT, by_age = fit._histories
    alive = p_alive(bg, x, t_x, T)
    orders = _expected_orders(fit, horizon)
    until = time_to_order(bg, x, t_x, T)
    within = until <= horizon
    next_days = np.where(within, np.ceil(np.where(within, until, 0) * days - 1e-9), np.nan)
    value = expected_order_value(gg, x, zbar) if gg else np.full(len(s), np.nan)
    clv = value * alive * discounted_orders_if_alive(bg, px, pT, horizon, discount_rate)[by_age]
    out = pd.DataFrame({
        "customer_id": s["customer_id"].array,
        "x": s["x"].to_numpy(),
        "t_x": np.round(t_x, 4),
        "T": np.round(T, 4),
        "p_alive": np.round(alive, 4),
        "expected_orders": np.round(orders, 4),
        "prob_no_order": np.round(prob_no_order(bg, x, t_x, T, horizon), 4),
        "expected_next_order_date": pd.Timestamp(fit.calibration_end) + pd.to_timedelta(next_days, unit="D"),
        "expected_order_value": np.round(value, 2),
        "clv": np.round(clv, 2),
        "zbar": zbar,
        "expected_spend": np.round(orders * value, 2),
    })
    out.attrs.update(calibration_end=fit.calibration_end, unit=fit.unit, horizon=horizon,
                     discount_rate=discount_rate)
    return out


# --------------------------------------------------------------------------------------------
# Holdout validation
# --------------------------------------------------------------------------------------------

@dataclass(repr=False)
class Holdout:
    """The models fitted on the orders up to E, compared with what happened after E.

    Attributes
    ----------
    calibration_end, holdout_end : E and the last day of the holdout period (E, holdout_end].
    unit : the time unit; ``length`` the holdout period in it (``holdout_days`` in days).
    fit : the :class:`ModelFit` on the orders up to E.
    customers : per calibration customer ``customer_id, x, t_x, T, actual_orders,
        predicted_orders`` (order days in the holdout, and the model's expectation, eq. 10).
    predicted_orders, actual_orders : totals over those customers.
    error_share : ``predicted / actual - 1`` (-0.04 = predicted 4% too few); NaN when there
        were no orders.
    correlation, mae : per customer, Pearson correlation and mean absolute error of predicted
        against actual orders (correlation NaN when either side does not vary).
    by_frequency : per calibration frequency ``x`` = 0 .. 6 and 7+: ``frequency`` (text),
        ``customers, actual_orders, predicted_orders, actual_mean, predicted_mean``.
    tracking : the cumulative repeat orders of the calibration customers, week by week:
        ``date`` (E + 7 k days, and the holdout end), ``week`` (k: 0 at E, negative before),
        ``actual``, ``predicted`` (the model's unconditional expectation from each customer's
        first order, eq. 9, summed: the classic tracking curve, continuous across E) and
        ``predicted_from_e`` (from E on: the actual count at E plus the conditional
        expectations, eq. 10, i.e. what the model expected given what it had seen by E), and
        ``holdout`` (date after E).
    new_customers, new_customer_orders : customers whose first order falls in the holdout (not
        part of the check; no model predicts a customer it has not seen) and their order days.
    """

    calibration_end: date
    holdout_end: date
    unit: str
    length: float
    holdout_days: int
    fit: ModelFit
    customers: pd.DataFrame
    predicted_orders: float
    actual_orders: int
    error_share: float
    correlation: float
    mae: float
    by_frequency: pd.DataFrame
    tracking: pd.DataFrame
    new_customers: int
    new_customer_orders: int

    def __repr__(self) -> str:
        return (f"Holdout(E={self.calibration_end}, to {self.holdout_end}: predicted {self.predicted_orders:.1f}, "
                f"actual {self.actual_orders}, correlation {self.correlation:.3f}, MAE {self.mae:.3f})")

    def figures(self) -> dict:
        """The headline numbers as plain values (for reports and the page's sentence)."""
        return {"calibration_end": self.calibration_end.isoformat(), "holdout_end": self.holdout_end.isoformat(),
                "unit": self.unit, "length": self.length, "holdout_days": self.holdout_days,
                "customers": len(self.customers), "predicted_orders": self.predicted_orders,
                "actual_orders": self.actual_orders, "error_share": _plain(self.error_share),
                "correlation": _plain(self.correlation), "mae": self.mae,
                "new_customers": self.new_customers, "new_customer_orders": self.new_customer_orders}


def _plain(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def holdout_check(con: duckdb.DuckDBPyConnection, calibration_end: date | None = None, unit: str = "week", *,
                  holdout_end: date | None = None, since: date | None = None, **fit_options) -> Holdout:
    """Fit on the orders up to E, predict (E, holdout_end], and compare with what happened.

    Parameters
    ----------
    con : connection with the view ``lines``.
    calibration_end : E; default :func:`default_calibration_end` (the last third of the time
        span up to ``holdout_end`` held out).
    unit : ``"day"`` or ``"week"``.
    holdout_end : the last day compared; default (and at most) the latest order date.
    since : optional window start (as in :func:`customer_summary`).
    fit_options : passed to :func:`fit_models` (``penalty``, ``min_repeat_buyers``, ...).

    Returns
    -------
    :class:`Holdout`. Orders in the holdout follow the same definition as in the calibration
    (order days with a positive net amount; the orders after E are grouped on their own).

    Raises
    ------
    PredictError ``no_holdout`` when there is no day after E to compare, or any error of
    :func:`fit_models`.
    """
    days = _unit_days(unit)
    _, last = window_bounds(con, None, since)
    end = min(holdout_end or last, last)
    E = calibration_end or default_calibration_end(con, since, end)
    if end <= E:
        raise PredictError("no_holdout", f"There are no orders after {E} to check the model against (the last "
                                         f"order is on {last}); choose an earlier calibration end.",
                           calibration_end=E, last_order_date=last)
    fit = fit_models(customer_summary(con, E, unit, since=since), E, unit, **fit_options)
    cur = con.cursor()
    try:
        cur.execute(f"CREATE TEMP TABLE holdout_days AS WITH {_ORDER_DAYS} SELECT * FROM days",
                    _params(E, end, since))
        per_customer = cur.execute("""
            WITH c AS (SELECT customer_id, bool_or(NOT after) AS known, count(*) FILTER (WHERE after) AS n
                       FROM holdout_days GROUP BY customer_id)
            SELECT customer_id, n FROM c WHERE known ORDER BY customer_id""").fetchnumpy()
        new_customers, new_orders = cur.execute("""
            SELECT count(DISTINCT customer_id), count(*) FROM holdout_days
            WHERE customer_id NOT IN (SELECT customer_id FROM holdout_days WHERE NOT after)""").fetchone()
        repeat_days = cur.execute("""
            WITH f AS (SELECT customer_id, min(day) AS first_day FROM holdout_days GROUP BY customer_id
                       HAVING bool_or(NOT after))
            SELECT day, count(*) AS orders FROM holdout_days JOIN f USING (customer_id)
            WHERE day > first_day GROUP BY day ORDER BY day""").fetchnumpy()
        cohorts = cur.execute("""
            WITH f AS (SELECT min(day) AS first_day FROM holdout_days GROUP BY customer_id
                       HAVING bool_or(NOT after))
            SELECT first_day, count(*) AS customers FROM f GROUP BY first_day ORDER BY first_day""").fetchnumpy()
    finally:
        cur.close()
    s = fit.summary  # the same customers, in the same order, as per_customer: both from days up to E
    length = (end - E).days / days
    predicted = _expected_orders(fit, length)
    actual = per_customer["n"].astype(np.int64)
    customers = pd.DataFrame({"customer_id": s["customer_id"].array, "x": s["x"].to_numpy(),
                              "t_x": s["t_x"].to_numpy(), "T": s["T"].to_numpy(),
                              "actual_orders": actual, "predicted_orders": predicted})
    varies = np.ptp(predicted) > 0 and np.ptp(actual) > 0
    total_actual, total_predicted = int(actual.sum()), float(predicted.sum())
    return Holdout(
        calibration_end=E, holdout_end=end, unit=unit, length=length, holdout_days=(end - E).days, fit=fit,
        customers=customers, predicted_orders=total_predicted, actual_orders=total_actual,
        error_share=total_predicted / total_actual - 1 if total_actual else float("nan"),
        correlation=float(np.corrcoef(predicted, actual)[0, 1]) if varies else float("nan"),
        mae=float(np.mean(np.abs(predicted - actual))),
        by_frequency=_by_frequency(s["x"].to_numpy(), actual, predicted),
        tracking=_tracking(fit, E, end, repeat_days, cohorts),
        new_customers=int(new_customers), new_customer_orders=int(new_orders))


def _by_frequency(x: np.ndarray, actual: np.ndarray, predicted: np.ndarray) -> pd.DataFrame:
    group = np.minimum(x, _FREQUENCY_GROUPS).astype(int)
    n = np.bincount(group, minlength=_FREQUENCY_GROUPS + 1)
    act = np.bincount(group, weights=actual, minlength=_FREQUENCY_GROUPS + 1)
    pred = np.bincount(group, weights=predicted, minlength=_FREQUENCY_GROUPS + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame({
            "frequency": [str(i) for i in range(_FREQUENCY_GROUPS)] + [f"{_FREQUENCY_GROUPS}+"],
            "customers": n, "actual_orders": act.astype(np.int64), "predicted_orders": pred,
            "actual_mean": np.where(n > 0, act / n, np.nan), "predicted_mean": np.where(n > 0, pred / n, np.nan)})


def _tracking(fit: ModelFit, E: date, end: date, repeat_days: dict, cohorts: dict) -> pd.DataFrame:
    """Cumulative repeat orders week by week (see :class:`Holdout`); ``repeat_days`` holds the
    calibration customers' repeat order days (``day, orders``), ``cohorts`` their first order
    days (``first_day, customers``)."""
    unit_days = UNITS[fit.unit]
    first = np.asarray(cohorts["first_day"], dtype="datetime64[D]")
    start = first.min().astype(date)
    weeks = np.arange(-((E - start).days // 7), (end - E).days // 7 + 1)
    dates = [E + timedelta(days=7 * int(k)) for k in weeks]
    if dates[-1] != end:
        dates.append(end)
        weeks = np.append(weeks, (end - E).days / 7)
    d = np.array(dates, dtype="datetime64[D]")
    order_days = np.asarray(repeat_days["day"], dtype="datetime64[D]")
    cumulative = np.concatenate([[0], np.cumsum(repeat_days["orders"])])
    actual = cumulative[np.searchsorted(order_days, d, side="right")]
    age = np.maximum((d[:, None] - first[None, :]).astype(np.int64), 0) / unit_days
    unconditional = np.sum(expected_orders_if_alive(fit.bgnbd, 0.0, 0.0, age)
                           * np.asarray(cohorts["customers"], dtype=float), axis=1)
    at_e = actual[np.searchsorted(d, np.datetime64(E, "D"))]
    px, pT, by_age = fit._histories
    s = fit.summary
    alive = np.bincount(by_age, weights=p_alive(fit.bgnbd, s["x"].to_numpy(dtype=float),
                                                s["t_x"].to_numpy(dtype=float), s["T"].to_numpy(dtype=float)))
    after = (d - np.datetime64(E, "D")).astype(np.int64)
    from_e = np.array([at_e + np.sum(alive * expected_orders_if_alive(fit.bgnbd, px, pT, a / unit_days)) if a >= 0
                       else np.nan for a in after])
    return pd.DataFrame({"date": pd.to_datetime(d), "week": weeks, "actual": actual.astype(np.int64),
                         "predicted": unconditional, "predicted_from_e": from_e, "holdout": after > 0})


# --------------------------------------------------------------------------------------------
# The Forecast page: predictions beside the tiers
# --------------------------------------------------------------------------------------------

# One in-memory database for queries over DataFrames; every call takes its own cursor.
_DB = duckdb.connect()

# Prediction columns carried into the per-customer table, after the tier's own columns.
_CARRIED = ("x", "t_x", "T", "p_alive", "expected_orders", "prob_no_order", "expected_next_order_date",
            "expected_order_value", "expected_spend", "clv")

# Columns of the churn rule's table carried into :func:`palive_vs_churn`, when it has them.
_CONTACT_COLUMNS = ("name", "monetary", "last_order_date", "region", "city", "channel")

# Columns of the lists, when the table has them (who to call, and where).
_LIST_COLUMNS = ("customer_id", "name", "tier", "expected_tier", "monetary", "frequency", "recency_days",
                 "last_order_date", "p_alive", "expected_orders", "expected_next_order_date",
                 "expected_order_value", "clv", "region", "city", "channel")


def _expected_rules(rules: TierRules) -> TierRules:
    """The rules for tiering predicted CLV: the same, except that the weighted-score method (which
    scores past behaviour) becomes Pareto by value with the default shares for its levels."""
    if rules.method == "score":
        return replace(rules, method="pareto", by="value", cuts=DEFAULT_CUTS[len(rules.labels)])
    return rules


def forecast_table(predictions: pd.DataFrame, tiered: pd.DataFrame, rules: TierRules = TierRules()) -> pd.DataFrame:
    """The tiered per-customer table with each customer's predictions and expected tier.

    Parameters
    ----------
    predictions : :func:`predict` from a fit whose calibration end is the tiers' as-of date.
    tiered : :func:`segcore.assign_tiers` output (``customer_id, tier``, the metrics ...).
    rules : the rules that tiered it.

    Returns
    -------
    ``tiered`` (same rows, same order) plus ``x, t_x, T, p_alive, expected_orders,
    prob_no_order, expected_next_order_date, expected_order_value, expected_spend, clv`` (empty
    for customers without a prediction: prospects, and customers with no positive order up to
    the calibration end) and ``expected_tier``: the same tiering rules applied to ``clv``
    instead of past spend (Pareto shares of predicted CLV, the computed ABC limits on it, or by
    customer count; the weighted-score method, which scores past behaviour, tiers CLV by Pareto
    value with the default shares). Prospects keep the prospect level; other customers without a
    prediction (or all, when the spend model failed and CLV is empty) have no expected tier.
    """
    carried = predictions[["customer_id", *_CARRIED]]
    out = tiered.merge(carried, on="customer_id", how="left", validate="one_to_one")
    out.index = tiered.index
    rules2 = _expected_rules(rules)
    levels = [*rules2.labels, rules2.prospect_label]
    known = out["clv"].notna().to_numpy()
    codes = np.full(len(out), -1)
    if known.any():
        expected = assign_tiers(pd.DataFrame({"customer_id": out["customer_id"].to_numpy()[known],
                                              "monetary": out["clv"].to_numpy()[known]}), rules2)
        codes[known] = expected["tier"].cat.codes.to_numpy()
    if "is_prospect" in out.columns:
        codes[out["is_prospect"].fillna(False).to_numpy(dtype=bool)] = len(levels) - 1
    out["expected_tier"] = pd.Categorical.from_codes(codes, categories=levels, ordered=True)
    return out


def _level_order(table: pd.DataFrame, labels) -> list[str]:
    """``labels`` then the other tiers found (the prospect level), as text."""
    labels = [str(x) for x in labels]
    return labels + sorted({str(t) for t in table["tier"].dropna()} - set(labels))


def forecast_summary(table: pd.DataFrame, labels) -> pd.DataFrame:
    """Per (past) tier: the predictions added up.

    Parameters
    ----------
    table : :func:`forecast_table`.
    labels : the levels, best first (levels found but not listed, e.g. prospects, follow).

    Returns
    -------
    DataFrame, one row per level in order: ``tier, customers, predicted_customers,
    avg_p_alive, likely_active`` (customers with P(alive) >= 0.5), ``expected_orders,
    expected_spend, clv, clv_share`` (of the total CLV), ``avg_clv``, ``next_order_customers``
    (customers with an expected next-order date, i.e. more likely than not to order within the
    horizon) and ``median_next_order_date`` (the middle one of those dates, the earlier of the
    two middle ones for an even count; empty without any). Sums over the customers with a
    prediction; a level without customers has zeros (NaN averages).
    """
    con = _DB.cursor()
    con.register("t", table[["tier", "p_alive", "expected_orders", "expected_spend", "clv",
                             "expected_next_order_date"]])
    levels = _level_order(table, labels)
    return con.execute("""
        WITH levels AS (SELECT unnest($levels) AS tier, generate_subscripts($levels, 1) AS pos),
        d AS (SELECT CAST(tier AS VARCHAR) AS tier, p_alive, expected_orders, expected_spend, clv,
                     CAST(expected_next_order_date AS DATE) AS next_date FROM t),
        total AS (SELECT sum(clv) AS clv FROM d)
        SELECT l.tier, count(d.tier) AS customers, count(d.p_alive) AS predicted_customers,
               avg(d.p_alive) AS avg_p_alive, count(*) FILTER (WHERE d.p_alive >= 0.5) AS likely_active,
               COALESCE(sum(d.expected_orders), 0) AS expected_orders,
               round(COALESCE(sum(d.expected_spend), 0), 2) AS expected_spend,
               round(COALESCE(sum(d.clv), 0), 2) AS clv,
               COALESCE(sum(d.clv), 0) / NULLIF(any_value(total.clv), 0) AS clv_share,
               round(avg(d.clv), 2) AS avg_clv,
               count(d.next_date) AS next_order_customers,
               quantile_disc(d.next_date, 0.5) AS median_next_order_date
        FROM levels l CROSS JOIN total LEFT JOIN d ON d.tier = l.tier
        GROUP BY l.tier, l.pos ORDER BY l.pos""", {"levels": levels}).df()


def palive_bands(table: pd.DataFrame, labels, width: float = 0.1) -> pd.DataFrame:
    """How P(alive) is spread in each tier: customers per band of P(alive), for a histogram.

    Parameters
    ----------
    table : :func:`forecast_table` (``tier, p_alive``).
    labels : the levels, best first (levels found but not listed follow).
    width : the width of a band; bands are ``[0, w), [w, 2w), ...`` and the last one includes 1.

    Returns
    -------
    DataFrame, one row per level with a prediction and band, levels in order, bands from 0:
    ``tier, band`` (0 = the lowest), ``lo, hi`` (its bounds), ``customers`` and ``tier_share``
    (of the level's customers with a prediction). Every band is listed for every such level,
    with 0 where nobody is in it.
    """
    if not 0 < width <= 1:
        raise ValueError("The band width is above 0 and at most 1.")
    bands = math.ceil(round(1 / width, 9))
    con = _DB.cursor()
    con.register("t", table[["tier", "p_alive"]])
    return con.execute("""
        WITH d AS (SELECT CAST(tier AS VARCHAR) AS tier,
                          least(CAST(floor(p_alive / $width + 1e-9) AS BIGINT), $bands - 1) AS band
                   FROM t WHERE p_alive IS NOT NULL AND NOT isnan(p_alive)),
        levels AS (SELECT DISTINCT tier FROM d),
        grid AS (SELECT tier, unnest(range($bands)) AS band FROM levels),
        counts AS (SELECT tier, band, count(*) AS customers FROM d GROUP BY ALL)
        SELECT g.tier, g.band, g.band * $width AS lo, least((g.band + 1) * $width, 1.0) AS hi,
               COALESCE(c.customers, 0) AS customers,
               COALESCE(c.customers, 0) / sum(COALESCE(c.customers, 0)) OVER (PARTITION BY g.tier) AS tier_share
        FROM grid g LEFT JOIN counts c USING (tier, band)
        ORDER BY COALESCE(list_position($levels, g.tier), 1000000), g.tier, g.band""",
        {"width": float(width), "bands": bands, "levels": [str(x) for x in labels]}).df()


def value_lists(table: pd.DataFrame, labels, *, top_levels: int = 1, gone_below: float = 0.5) -> dict[str, pd.DataFrame]:
    """Two lists to act on, comparing past value with expected value.

    Parameters
    ----------
    table : :func:`forecast_table`.
    labels : the levels, best first.
    top_levels : how many of the best levels count as "high value" (default: the top one).
    gone_below : P(alive) below this counts as likely gone.

    Returns
    -------
    ``{"likely_gone": ..., "potential": ...}``, each a DataFrame with the columns of
    ``_LIST_COLUMNS`` the table has:

    - ``likely_gone`` ("high value, likely gone"): customers in the top ``top_levels`` past
      tiers with ``p_alive < gone_below``, biggest past spend first.
    - ``potential`` ("low value now, high expected value"): buyers below the top ``top_levels``
      past tiers whose expected tier (on predicted CLV) is among them, highest CLV first.
    """
    if not 1 <= top_levels < len(labels):
        raise ValueError(f"top_levels must be 1 to {len(labels) - 1}.")
    if not 0 < gone_below <= 1:
        raise ValueError("gone_below is a probability above 0 and at most 1.")
    top = [str(x) for x in labels[:top_levels]]
    tier = table["tier"].astype(str)
    expected = table["expected_tier"].astype(str)
    cols = [c for c in _LIST_COLUMNS if c in table.columns]
    gone = table[tier.isin(top) & (table["p_alive"] < gone_below)]
    lower = tier.isin([str(x) for x in labels[top_levels:]])
    potential = table[lower & expected.isin(top)]
    return {"likely_gone": gone.sort_values(["monetary", "customer_id"], ascending=[False, True])[cols]
            .reset_index(drop=True),
            "potential": potential.sort_values(["clv", "customer_id"], ascending=[False, True])[cols]
            .reset_index(drop=True)}


def palive_vs_churn(table: pd.DataFrame, labels=None, *, k: float = 2.0, drop_share: float = 0.5,
                    gone_below: float = 0.5) -> pd.DataFrame:
    """P(alive) beside the churn page's rule (:func:`segcore.dynamics.churn_risk`), customer by
    customer, with the reason where they disagree.

    Parameters
    ----------
    table : :func:`forecast_table` (the metrics, tiers and predictions at one as-of date).
    labels : the levels, best first.
    k, drop_share : the churn rule's settings.
    gone_below : the model calls a customer likely gone when ``p_alive < gone_below``.

    Returns
    -------
    DataFrame, one row per buyer with a prediction: ``customer_id, tier, p_alive, x, risk``
    (the rule's level, empty when not at risk), ``overdue, spend_drop, recency_days,
    typical_interval_days, interval_basis, model_gone, rule_at_risk, agree, reason_code``, then
    the columns of ``_CONTACT_COLUMNS`` the table has (who to call: name, spend, last order,
    region ...); disagreements first, then by tier and P(alive). ``reason_code`` (empty when they agree;
    explained in ``DISAGREEMENT_REASONS``):

    - the rule flags the customer, the model finds them likely active: ``one_time_buyer``
      (``x = 0``: one order day; P(alive) is 1 by construction, the rule uses the population's
      interval), else ``spend_drop_only`` (flagged for falling spend alone), else
      ``overdue_but_likely_active``;
    - the model finds them likely gone, the rule does not flag them:
      ``gone_within_usual_interval``.
    """
    risk = churn_risk(table, labels, k=k, drop_share=drop_share, all_customers=True)
    contact = [c for c in _CONTACT_COLUMNS if c in risk.columns]
    con = _DB.cursor()
    con.register("r", risk[["customer_id", "risk", "overdue", "spend_drop", "recency_days",
                            "typical_interval_days", "interval_basis", *contact]])
    con.register("p", pd.DataFrame({"customer_id": table["customer_id"].array, "tier": table["tier"].astype(str),
                                    "p_alive": table["p_alive"].to_numpy(dtype=float),
                                    "x": table["x"].to_numpy(dtype=float), "_pos": np.arange(len(table))}))
    carried = "".join(f', r."{c}"' for c in contact)
    return con.execute(f"""
        WITH j AS (
            SELECT p.customer_id, p.tier, p.p_alive, CAST(p.x AS BIGINT) AS x, r.risk, r.overdue, r.spend_drop,
                   r.recency_days, r.typical_interval_days, r.interval_basis,
                   p.p_alive < $gone AS model_gone, r.risk IS NOT NULL AS rule_at_risk
            FROM p JOIN r USING (customer_id) WHERE NOT isnan(p.p_alive)),
        k AS (
            SELECT *, model_gone = rule_at_risk AS agree,
                   CASE WHEN model_gone = rule_at_risk THEN NULL
                        WHEN rule_at_risk AND x = 0 THEN 'one_time_buyer'
                        WHEN rule_at_risk AND NOT overdue THEN 'spend_drop_only'
                        WHEN rule_at_risk THEN 'overdue_but_likely_active'
                        ELSE 'gone_within_usual_interval' END AS reason_code
            FROM j)
        SELECT k.*{carried} FROM k JOIN r USING (customer_id)
        ORDER BY agree, list_position($levels, tier) NULLS LAST, p_alive, customer_id""",
        {"gone": float(gone_below), "levels": _level_order(table, labels or [])}).df()


# --------------------------------------------------------------------------------------------
# Cohorts
# --------------------------------------------------------------------------------------------

@dataclass(repr=False)
class Cohorts:
    """Customers by the month of their first order and the months since.

    Attributes
    ----------
    table : long form, one row per cohort and month since (0 = the first-order month) up to the
        as-of month: ``cohort`` (first day of the first-order month), ``months_since``,
        ``customers`` (the cohort's size), ``active_customers`` (who ordered that month),
        ``retention`` (= active / size; 1 in month 0), ``revenue`` (the cohort's net spend that
        month, returns included).
    retention, revenue : the same as matrices for a heatmap: index ``cohort`` (``YYYY-MM``),
        columns ``months_since``; empty cells (months after the as-of date) are NaN.
    """

    table: pd.DataFrame
    retention: pd.DataFrame
    revenue: pd.DataFrame

    def __repr__(self) -> str:
        return f"Cohorts({self.retention.shape[0]} cohorts, {self.retention.shape[1]} months)"


def cohort_table(con: duckdb.DuckDBPyConnection, *, as_of: date | None = None, since: date | None = None,
                 tiered: pd.DataFrame | None = None, tiers=None) -> Cohorts:
    """First-order cohorts: customers by first-order month x months since first order.

    Parameters
    ----------
    con : connection with the view ``lines``.
    as_of, since : the window (as :func:`segcore.customer_metrics`; default all dates).
    tiered, tiers : optionally only the customers of ``tiered`` whose ``tier`` is in ``tiers``.

    Returns
    -------
    :class:`Cohorts`. A customer's cohort is the month of their first order day (a day with an
    order of positive net amount) in the window; they are active in a month with such an order
    day; revenue is the net of all their lines that month (returns included), rounded half-up to
    cents on the exact sum.
    """
    start, as_of = window_bounds(con, as_of, since)
    ids = None
    if tiered is not None and tiers is not None:
        wanted = {str(t) for t in tiers}
        ids = tiered.loc[tiered["tier"].astype(str).isin(wanted), "customer_id"].astype(str).tolist()
    table = con.execute(f"""
        WITH {_ORDER_DAYS},
        all_days AS (
            SELECT customer_id, min(order_date) AS day, sum(round(amount * $steps)) AS net
            FROM lines WHERE order_date BETWEEN $since AND $end
                         AND ($ids IS NULL OR customer_id IN (SELECT unnest($ids)))
            GROUP BY customer_id, order_date),
        first AS (
            SELECT customer_id, date_trunc('month', min(day)) AS cohort FROM days
            WHERE $ids IS NULL OR customer_id IN (SELECT unnest($ids)) GROUP BY customer_id),
        sizes AS (SELECT cohort, count(*) AS customers FROM first GROUP BY cohort),
        grid AS (
            SELECT cohort, customers, unnest(range(date_diff('month', cohort, date_trunc('month', $end)) + 1))
                   AS months_since FROM sizes),
        active AS (
            SELECT f.cohort, date_diff('month', f.cohort, date_trunc('month', d.day)) AS months_since,
                   count(DISTINCT d.customer_id) AS active_customers
            FROM days d JOIN first f USING (customer_id) GROUP BY ALL),
        spend AS (
            SELECT f.cohort, date_diff('month', f.cohort, date_trunc('month', a.day)) AS months_since,
                   sum(a.net) AS net
            FROM all_days a JOIN first f USING (customer_id) GROUP BY ALL)
        SELECT CAST(g.cohort AS DATE) AS cohort, g.months_since, g.customers,
               COALESCE(a.active_customers, 0) AS active_customers,
               COALESCE(a.active_customers, 0) / g.customers AS retention,
               COALESCE({_cents("s.net")}, 0) AS revenue
        FROM grid g
        LEFT JOIN active a ON a.cohort = g.cohort AND a.months_since = g.months_since
        LEFT JOIN spend s ON s.cohort = g.cohort AND s.months_since = g.months_since
        ORDER BY g.cohort, g.months_since""",
        {**_params(as_of, as_of, start), "ids": ids}).df()
    label = pd.to_datetime(table["cohort"]).dt.strftime("%Y-%m")
    matrices = [table.assign(cohort=label).pivot(index="cohort", columns="months_since", values=v)
                for v in ("retention", "revenue")]
    for m in matrices:
        m.columns.name = "months_since"
    return Cohorts(table=table, retention=matrices[0], revenue=matrices[1])
