"""Predictions: the models against the published answers and their own identities, the summary
built from order lines by hand-worked cases, the holdout check, the Forecast page's tables, the
not-enough-data messages (the ``predict`` command is tested in test_export_cli.py)."""

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy.special import hyp2f1

import segcore
from segcore import forecast, models
from segcore.models import BGNBDParams, GammaGammaParams, PredictError
from segcore.views import cross_tab

from .conftest import CDNOW_SAMPLE as SAMPLE_LINES
from .conftest import CDNOW_SUMMARY as SUMMARY
from .conftest import needs_cdnow_sample as needs_sample
from .conftest import repeat_buyers_file

E_CDNOW = date(1997, 9, 30)

# Published BG/NBD parameters (Fader, Hardie & Lee 2005) for the identities below.
PUBLISHED = BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426)


@pytest.fixture(scope="module")
def published_summary():
    if not SUMMARY.exists():
        pytest.skip(f"{SUMMARY} not found")
    return pd.read_csv(SUMMARY)


@pytest.fixture(scope="module")
def sample():
    if not SAMPLE_LINES.exists():
        pytest.skip(f"{SAMPLE_LINES} not found")
    return segcore.load_orders(SAMPLE_LINES)


# --------------------------------------------------------------------------------------------
# Published answers
# --------------------------------------------------------------------------------------------

@needs_sample
def test_bgnbd_fits_the_published_parameters(published_summary):
    s = published_summary
    bg = models.fit_bgnbd(s["x"], s["t_x"], s["T"])
    assert (bg.r, bg.alpha, bg.a, bg.b) == pytest.approx((0.243, 4.414, 0.793, 2.426), abs=1e-3)
    assert bg.log_likelihood == pytest.approx(-9582.4, abs=0.05)  # the paper's LL
    assert bg.customers == 2357


@needs_sample
def test_conditional_expectation_is_the_published_one(published_summary):
    s = published_summary
    fitted = models.fit_bgnbd(s["x"], s["t_x"], s["T"])
    for bg in (fitted, PUBLISHED):
        assert float(models.conditional_expected_orders(bg, 2, 30.43, 38.86, 39)) == pytest.approx(1.226, abs=1e-3)


@needs_sample
def test_gamma_gamma_fits_the_published_parameters(published_summary):
    repeat = published_summary[published_summary["x"] > 0]
    assert len(repeat) == 946
    gg = models.fit_gamma_gamma(repeat["x"], repeat["zbar"])
    assert (gg.p, gg.q, gg.v) == pytest.approx((6.25, 3.74, 15.44), abs=0.01)
    assert gg.customers == 946


@needs_sample
def test_the_products_summary_of_the_transactions_is_the_published_file(sample, published_summary):
    ours = forecast.customer_summary(sample.con, E_CDNOW, "week")
    ids = pd.read_csv(SAMPLE_LINES, dtype=str)
    sample_id = dict(zip(ids["customer_id"], ids["sample_id"].astype(int)))
    ours["ID"] = ours["customer_id"].map(sample_id)
    assert len(ours) == 2349 and ours["ID"].is_unique
    merged = ours.merge(published_summary, on="ID", suffixes=("", "_pub"), validate="one_to_one")
    assert len(merged) == 2349
    assert (merged["x"] == merged["x_pub"]).all()
    assert (merged["t_x"].round(2) == merged["t_x_pub"]).all()
    assert (merged["T"].round(2) == merged["T_pub"]).all()
    assert np.abs(merged["zbar"] - merged["zbar_pub"]).max() < 0.005 + 1e-9
    # the 8 left out are the customers whose only purchase was $0: not buyers here
    left_out = set(published_summary["ID"]) - set(merged["ID"])
    assert len(left_out) == 8
    lines = ids.assign(ID=ids["sample_id"].astype(int), value=ids["dollar_value"].astype(float))
    assert (lines[lines["ID"].isin(left_out)]["value"] == 0).all()
    assert (published_summary.set_index("ID").loc[sorted(left_out), "x"] == 0).all()
    fit = forecast.fit_models(ours, E_CDNOW, "week")
    assert (fit.bgnbd.r, fit.bgnbd.alpha, fit.bgnbd.a, fit.bgnbd.b) == pytest.approx((0.244, 4.42, 0.793, 2.42),
                                                                                     abs=5e-3)


# --------------------------------------------------------------------------------------------
# The models' own identities
# --------------------------------------------------------------------------------------------

def test_p_alive_is_one_for_customers_who_never_reordered():
    T = np.array([0.0, 5.0, 38.86, 500.0])
    assert (models.p_alive(PUBLISHED, np.zeros(4), np.zeros(4), T) == 1).all()
    # a repeat buyer silent for long is less likely alive than one who just ordered
    assert models.p_alive(PUBLISHED, 2, 5.0, 38.86) < models.p_alive(PUBLISHED, 2, 38.0, 38.86) < 1


def test_expected_orders_grow_with_the_horizon_from_zero():
    t = np.array([0.0, 1, 4, 13, 39, 104, 520])
    for x, t_x, T in ((0, 0, 20.0), (2, 30.43, 38.86), (10, 10.0, 38.86)):
        e = models.conditional_expected_orders(PUBLISHED, x, t_x, T, t)
        assert e[0] == 0 and (np.diff(e) > 0).all()


def test_euler_form_equals_equation_10_as_printed():
    bg, x, t_x, T, t = PUBLISHED, 2.0, 30.43, 38.86, 39.0
    r, alpha, a, b = bg.r, bg.alpha, bg.a, bg.b
    printed = ((a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x)
                                            * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t)))
               / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)))
    assert float(models.conditional_expected_orders(bg, x, t_x, T, t)) == pytest.approx(printed, rel=1e-12)


def test_unconditional_expectation_matches_simulated_customers():
    # eq. (9): the mean repeat orders of new customers over their first t units
    rng = np.random.default_rng(11)
    T = np.full(200_000, 26.0)
    x, _ = models.simulate_bgnbd(PUBLISHED, T, rng)
    assert x.mean() == pytest.approx(float(models.expected_orders_if_alive(PUBLISHED, 0, 0, 26.0)), rel=0.02)


def test_probability_of_no_order_and_the_time_to_order_agree():
    x, t_x, T = np.array([0, 2, 2, 7]), np.array([0, 30.43, 5.0, 38.0]), np.array([20, 38.86, 38.86, 38.86])
    alive = models.p_alive(PUBLISHED, x, t_x, T)
    assert (models.prob_no_order(PUBLISHED, x, t_x, T, 0.0) == 1).all()
    far = models.prob_no_order(PUBLISHED, x, t_x, T, 1e20)
    assert far == pytest.approx(1 - alive, abs=1e-3)  # in the long run only the gone never order
    until = models.time_to_order(PUBLISHED, x, t_x, T)
    likely = alive > 0.5
    assert likely.tolist() == [True, True, False, True]
    assert np.isinf(until[~likely]).all()
    assert models.prob_no_order(PUBLISHED, x[likely], t_x[likely], T[likely], until[likely]) == \
        pytest.approx(0.5, abs=1e-9)


def test_clv_is_zero_for_a_zero_horizon_and_discounting_lowers_it():
    x, T = np.array([0.0, 2, 7]), np.array([20.0, 38.86, 38.86])
    assert (models.discounted_orders_if_alive(PUBLISHED, x, T, 0, 0.01) == 0).all()
    plain = models.discounted_orders_if_alive(PUBLISHED, x, T, 39, 0.0)
    assert plain == pytest.approx(models.expected_orders_if_alive(PUBLISHED, x, T, 39), rel=1e-12)
    assert (models.discounted_orders_if_alive(PUBLISHED, x, T, 39, 0.01) < plain).all()
    # a horizon of 2.5 units: periods end at 1, 2 and 2.5
    e = models.expected_orders_if_alive(PUBLISHED, 2.0, 38.86, np.array([1, 2, 2.5]))
    by_hand = e[0] / 1.01 + (e[1] - e[0]) / 1.01 ** 2 + (e[2] - e[1]) / 1.01 ** 2.5
    assert float(models.discounted_orders_if_alive(PUBLISHED, 2.0, 38.86, 2.5, 0.01)) == pytest.approx(by_hand)


def test_expected_order_value_weighs_own_mean_against_the_population():
    gg = GammaGammaParams(p=6.25, q=3.74, v=15.44)
    population = gg.v * gg.p / (gg.q - 1)
    value = models.expected_order_value(gg, np.array([0, 1, 20, 3]), np.array([0, 50.0, 50.0, -4.0]))
    assert value[0] == pytest.approx(population) and value[3] == pytest.approx(population)
    w1 = gg.p / (gg.p + gg.q - 1)
    assert value[1] == pytest.approx((1 - w1) * population + w1 * 50)
    assert population < value[1] < value[2] < 50  # more orders, more weight on their own 50


# --------------------------------------------------------------------------------------------
# Fitting: simulation, weights, penalty
# --------------------------------------------------------------------------------------------

def test_simulated_customers_are_fitted_back_to_their_parameters():
    rng = np.random.default_rng(2024)
    truth = BGNBDParams(r=0.5, alpha=6.0, a=0.8, b=2.5)
    T = rng.integers(140, 365, 20_000) / 7
    x, t_x = models.simulate_bgnbd(truth, T, rng)
    bg = models.fit_bgnbd(x, t_x, T)
    assert bg.r == pytest.approx(truth.r, rel=0.05) and bg.alpha == pytest.approx(truth.alpha, rel=0.05)
    assert bg.a == pytest.approx(truth.a, rel=0.15) and bg.b == pytest.approx(truth.b, rel=0.15)
    spend = GammaGammaParams(p=6.0, q=4.0, v=16.0)
    repeat = 1 + rng.poisson(3, 20_000).astype(float)
    gg = models.fit_gamma_gamma(repeat, models.simulate_gamma_gamma(spend, repeat, rng))
    assert (gg.p, gg.q, gg.v) == pytest.approx((6.0, 4.0, 16.0), rel=0.1)
    assert gg.v * gg.p / (gg.q - 1) == pytest.approx(16 * 6 / 3, rel=0.03)  # the mean order value


def test_alike_customers_are_fitted_once_with_a_weight():
    rng = np.random.default_rng(5)
    T = rng.integers(10, 40, 3000).astype(float)
    x, t_x = models.simulate_bgnbd(PUBLISHED, T, rng)
    t_x = np.floor(t_x)
    (ux, ut, uT), counts, inverse = models.distinct_rows(x, t_x, T)
    assert len(ux) < 1000 and counts.sum() == 3000
    assert (ux[inverse] == x).all() and (ut[inverse] == t_x).all() and (uT[inverse] == T).all()
    every = models.fit_bgnbd(x, t_x, T)
    weighted = models.fit_bgnbd(ux, ut, uT, counts)
    assert (weighted.r, weighted.alpha, weighted.a, weighted.b) == \
        pytest.approx((every.r, every.alpha, every.a, every.b), rel=1e-6)
    assert weighted.log_likelihood == pytest.approx(every.log_likelihood)


def test_a_penalty_pulls_the_parameters_towards_one():
    rng = np.random.default_rng(9)
    T = rng.integers(10, 40, 2000).astype(float)
    x, t_x = models.simulate_bgnbd(PUBLISHED, T, rng)
    plain, ridge = models.fit_bgnbd(x, t_x, T), models.fit_bgnbd(x, t_x, T, penalty=0.05)
    assert abs(math.log(ridge.r)) < abs(math.log(plain.r))
    assert ridge.log_likelihood < plain.log_likelihood


def test_data_that_do_not_pin_the_model_down_get_no_numbers():
    # everyone bought every week until now: nobody ever seems to drop out, so a and b run away
    n = 500
    with pytest.raises(PredictError) as err:
        models.fit_bgnbd(np.full(n, 10.0), np.full(n, 10.0), np.full(n, 10.0))
    assert err.value.code == "no_convergence"
    assert "could not be fitted" in str(err.value)


# --------------------------------------------------------------------------------------------
# The summary from order lines, by hand
# --------------------------------------------------------------------------------------------

ORDERS_WITH_IDS = """customer_id,order_date,amount,order_id
c1,2024-01-01,100,O1
c1,2024-01-01,50,O2
c1,2024-01-08,30,O3
c1,2024-01-09,10,O3
c1,2024-01-15,20,O4
c1,2024-01-15,-5,R1
c1,2024-01-22,0,O5
c1,2024-01-29,-10,R2
c2,2024-01-05,-20,R3
c3,2024-02-02,40,O6
c4,2024-01-10,0.01,O7
c4,2024-01-20,0.01,O8
c4,2024-01-25,0.02,O9
c5,2024-01-03,-5,O10
c5,2024-01-04,10,O11
c6,2024-01-31,10,O12
"""


def by_id(frame):
    return frame.set_index("customer_id")


def test_summary_follows_the_order_definition_with_order_ids(write):
    ds = segcore.load_orders(write("o.csv", ORDERS_WITH_IDS))
    s = by_id(forecast.customer_summary(ds.con, date(2024, 1, 31), "day"))
    # c2: returns only, not a buyer; c3: first order after E, not in the calibration
    assert list(s.index) == ["c1", "c4", "c5", "c6"]
    # c1: O1 + O2 are one order day (01-01); O3's lines make one order dated 01-08 (net 40); 01-15
    # holds O4 (+20) and the return R1 (-5): an order day with net 15; O5 (0) and R2 (a return)
    # make no order day
    assert s.loc["c1"].tolist() == [2, 14, 30, 27.5]  # x, t_x, T (days), zbar = (40 + 15) / 2
    # c4: repeat days 0.01 and 0.02, mean 0.015, rounded half-up on the exact sum
    assert s.loc["c4"].tolist() == [2, 15, 21, 0.02]
    # c5: O10 nets -5, not an order; the first order day is 01-04
    assert s.loc["c5"].tolist() == [0, 0, 27, 0]
    assert s.loc["c6"].tolist() == [0, 0, 0, 0]  # first ordered on E itself
    weeks = by_id(forecast.customer_summary(ds.con, date(2024, 1, 31), "week"))
    assert weeks.loc["c1", "t_x"] == 2 and weeks.loc["c1", "T"] == pytest.approx(30 / 7)
    assert (weeks["x"] == s["x"]).all() and (weeks["zbar"] == s["zbar"]).all()


def test_summary_with_customer_days_and_a_window(write):
    ds = segcore.load_orders(write("o.csv", "customer_id,order_date,amount\n"
                                            "d1,2024-01-01,30\nd1,2024-01-01,-30\nd1,2024-01-05,20\n"
                                            "d1,2024-01-12,25\nd2,2023-12-20,10\nd2,2024-01-10,12\n"))
    s = by_id(forecast.customer_summary(ds.con, date(2024, 1, 31), "day"))
    # d1's first day nets 0 (bought and returned): the first order day is 01-05
    assert s.loc["d1"].tolist() == [1, 7, 26, 25]
    assert s.loc["d2"].tolist() == [1, 21, 42, 12]
    windowed = by_id(forecast.customer_summary(ds.con, date(2024, 1, 31), "day", since=date(2024, 1, 1)))
    assert windowed.loc["d2"].tolist() == [0, 0, 21, 0]  # the December order is before the window


def test_default_calibration_end_holds_out_the_last_third(write, sample):
    assert forecast.default_calibration_end(sample.con) == date(1997, 12, 30)  # 545 days, 182 held out
    # up to 1998-03-31: 454 days, 151 held out
    assert forecast.default_calibration_end(sample.con, as_of=date(1998, 3, 31)) == date(1997, 10, 31)
    ds = segcore.load_orders(write("o.csv", "customer_id,order_date,amount\na,2024-01-01,1\nb,2024-01-31,1\n"))
    assert forecast.default_calibration_end(ds.con) == date(2024, 1, 21)  # 30 days, 10 held out


# --------------------------------------------------------------------------------------------
# Not enough data: one plain sentence with a code, never numbers
# --------------------------------------------------------------------------------------------

def test_not_enough_data_says_what_is_missing(write):
    ds = segcore.load_orders(repeat_buyers_file(write, 5))
    E = date(2024, 4, 30)
    with pytest.raises(PredictError) as err:
        forecast.fit_models(forecast.customer_summary(ds.con, E), E)
    assert err.value.code == "too_few_repeat_buyers"
    assert err.value.params == {"repeat_buyers": 6, "min_repeat_buyers": 20, "calibration_end": E}
    assert str(err.value) == ("Only 6 customers ordered again after their first order up to 2024-04-30; "
                              "the model needs at least 20 repeat buyers.")
    short = date(2024, 2, 15)
    with pytest.raises(PredictError) as err:
        forecast.fit_models(forecast.customer_summary(ds.con, short), short)
    assert err.value.code == "calibration_too_short" and err.value.params["days"] == 45
    assert "cover only 45 days" in str(err.value) and "at least 56 days" in str(err.value)
    early = date(2023, 12, 1)
    with pytest.raises(PredictError) as err:
        forecast.fit_models(forecast.customer_summary(ds.con, early), early)
    assert err.value.code == "no_customers"
    with pytest.raises(PredictError) as err:
        forecast.holdout_check(ds.con, date(2024, 4, 30))
    assert err.value.code == "no_holdout" and "no orders after 2024-04-30" in str(err.value)


def test_a_spend_model_that_cannot_be_fitted_leaves_the_order_model_working():
    rng = np.random.default_rng(3)
    n = 3000
    T = rng.integers(60, 365, n) / 7
    x, t_x = models.simulate_bgnbd(PUBLISHED, T, rng)
    zbar = np.where(x > 0, -1.0, 0.0)  # every repeat buyer returned more than they bought again
    zbar[np.flatnonzero(x > 0)[:5]] = 20.0
    summary = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "x": x, "t_x": t_x, "T": T, "zbar": zbar})
    fit = forecast.fit_models(summary, date(2024, 12, 31))
    assert fit.gamma_gamma is None and fit.spend_error.code == "too_few_spend_values"
    assert [w.code for w in fit.warnings] == ["spend_excluded", "too_few_spend_values"]
    assert fit.spend_excluded == int((x > 0).sum()) - 5
    pred = forecast.predict(fit, 52)
    assert pred["p_alive"].notna().all() and pred["expected_orders"].notna().all()
    assert pred["expected_order_value"].isna().all() and pred["clv"].isna().all()


def test_repeat_buyers_with_negative_spend_are_left_out_of_the_spend_model_and_counted():
    rng = np.random.default_rng(4)
    n = 4000
    T = rng.integers(60, 365, n) / 7
    x, t_x = models.simulate_bgnbd(PUBLISHED, T, rng)
    zbar = np.zeros(n)
    zbar[x > 0] = np.round(models.simulate_gamma_gamma(GammaGammaParams(6, 4, 16), x[x > 0], rng), 2)
    negative = np.flatnonzero(x > 0)[:3]
    zbar[negative] = -12.5
    summary = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "x": x, "t_x": t_x, "T": T, "zbar": zbar})
    fit = forecast.fit_models(summary, date(2024, 12, 31))
    assert fit.spend_excluded == 3 and fit.warnings[0].code == "spend_excluded"
    assert fit.warnings[0].params == {"customers": 3}
    assert fit.gamma_gamma.customers == int((x > 0).sum()) - 3
    kept = (x > 0) & (zbar > 0)
    assert fit.spend_frequency_correlation == pytest.approx(np.corrcoef(x[kept], zbar[kept])[0, 1])
    pred = forecast.predict(fit, 10)
    gg = fit.gamma_gamma
    assert (pred.loc[negative, "expected_order_value"] == round(gg.v * gg.p / (gg.q - 1), 2)).all()


# --------------------------------------------------------------------------------------------
# Predictions
# --------------------------------------------------------------------------------------------

@needs_sample
def test_predictions_are_the_models_numbers(sample):
    fit = forecast.fit_models(forecast.customer_summary(sample.con, E_CDNOW), E_CDNOW)
    pred = forecast.predict(fit, 39, 0.01)
    assert list(pred.columns[:10]) == list(forecast.PREDICTION_COLUMNS)
    row = pred.set_index("customer_id").loc["00004"]  # sample ID 1: x = 2, t_x = 30.43, T = 38.86
    bg, gg = fit.bgnbd, fit.gamma_gamma
    x, t_x, T = 2, 213 / 7, 272 / 7
    assert row["p_alive"] == round(float(models.p_alive(bg, x, t_x, T)), 4)
    assert row["expected_orders"] == round(float(models.conditional_expected_orders(bg, x, t_x, T, 39)), 4)
    assert row["prob_no_order"] == round(float(models.prob_no_order(bg, x, t_x, T, 39)), 4)
    value = float(models.expected_order_value(gg, x, 22.35))
    assert row["expected_order_value"] == round(value, 2)
    discounted = float(models.discounted_orders_if_alive(bg, x, T, 39, 0.01))
    assert row["clv"] == round(value * float(models.p_alive(bg, x, t_x, T)) * discounted, 2)
    days = math.ceil(float(models.time_to_order(bg, x, t_x, T)) * 7)
    assert row["expected_next_order_date"] == pd.Timestamp(E_CDNOW + timedelta(days=days))
    # the date is given exactly when an order within the horizon is at least as likely as not
    assert (pred["expected_next_order_date"].notna() == (pred["prob_no_order"] <= 0.5)).all()
    assert (pred["expected_next_order_date"].dropna() <= pd.Timestamp(E_CDNOW + timedelta(weeks=39))).all()


@needs_sample
def test_a_new_horizon_or_rate_predicts_again_without_refitting(sample):
    fit = forecast.fit_models(forecast.customer_summary(sample.con, E_CDNOW), E_CDNOW)
    params = fit.parameters()
    short, long = forecast.predict(fit, 13), forecast.predict(fit, 52, 0.005)
    assert fit.parameters() == params
    assert (long["expected_orders"] >= short["expected_orders"]).all()
    assert long["expected_orders"].sum() > short["expected_orders"].sum()
    assert (short["clv"] == short["expected_spend"]).all()  # no discount: CLV is the expected spend
    assert (forecast.predict(fit, 0)[["expected_orders", "clv"]] == 0).all().all()


# --------------------------------------------------------------------------------------------
# Holdout
# --------------------------------------------------------------------------------------------

EXTRA = [  # customers added to the sample, with holdout orders worked out by hand
    "X1,,19970115,1,10.00",   # calibration: one order day
    "X1,,19971005,1,20.00",   # holdout: an order day
    "X1,,19971010,1,-20.00",  # a return: no order
    "X1,,19971020,1,0.00",    # zero: no order
    "X1,,19971101,1,15.00",   # bought and returned the same day: nets 0, no order
    "X1,,19971101,1,-15.00",
    "X2,,19971015,1,12.00",   # first order in the holdout: a new customer, not checked
    "X2,,19971110,1,12.00",
]


@needs_sample
def test_holdout_compares_the_prediction_with_what_happened(tmp_path):
    path = tmp_path / "sample_plus.csv"
    path.write_text(SAMPLE_LINES.read_text() + "\n".join(EXTRA) + "\n")
    ds = segcore.load_orders(path)
    h = forecast.holdout_check(ds.con, E_CDNOW, "week")
    assert (h.calibration_end, h.holdout_end, h.length, h.holdout_days) == (E_CDNOW, date(1998, 6, 30), 39, 273)
    c = by_id(h.customers)
    assert c.loc["X1", "actual_orders"] == 1 and "X2" not in c.index
    assert (h.new_customers, h.new_customer_orders) == (1, 2)
    # the sample's own customers: 1,882 customer-days with a purchase after E (all positive)
    lines = pd.read_csv(SAMPLE_LINES, dtype={"customer_id": str})
    after = lines[lines["date"] > 19970930].drop_duplicates(["customer_id", "date"])
    assert h.actual_orders == len(after) + 1 == 1883
    assert c["actual_orders"].drop("X1").to_dict() == \
        {k: v for k, v in after.groupby("customer_id").size().items()} | \
        {k: 0 for k in set(c.index) - set(after["customer_id"]) - {"X1"}}
    pred = forecast.predict(h.fit, 39)
    assert h.predicted_orders == pytest.approx(pred["expected_orders"].sum(), abs=0.5)
    p, a = h.customers["predicted_orders"], h.customers["actual_orders"]
    assert h.error_share == pytest.approx(h.predicted_orders / h.actual_orders - 1)
    assert h.mae == pytest.approx(np.mean(np.abs(p - a)))
    assert h.correlation == pytest.approx(np.corrcoef(p, a)[0, 1])
    f = h.by_frequency
    assert f["frequency"].tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert f["customers"].sum() == len(h.customers) and f["actual_orders"].sum() == h.actual_orders
    assert f["predicted_orders"].sum() == pytest.approx(h.predicted_orders)
    assert f.loc[7, "customers"] == (h.customers["x"] >= 7).sum()
    t = h.tracking
    at_e = t.set_index("week").loc[0]
    assert at_e["date"] == pd.Timestamp(E_CDNOW) and not at_e["holdout"]
    assert at_e["actual"] == h.customers["x"].sum() == at_e["predicted_from_e"]  # repeat orders up to E
    assert t["actual"].iloc[-1] == at_e["actual"] + h.actual_orders
    assert t["predicted_from_e"].iloc[-1] == pytest.approx(at_e["actual"] + h.predicted_orders)
    assert t["predicted_from_e"][~t["holdout"] & (t["week"] < 0)].isna().all()
    assert (np.diff(t["actual"]) >= 0).all() and (np.diff(t["predicted"]) > 0).all()
    assert h.figures()["actual_orders"] == 1883


# --------------------------------------------------------------------------------------------
# The Forecast page's tables
# --------------------------------------------------------------------------------------------

PAGE_ORDERS = """customer_id,order_date,amount
a1,2024-01-05,900
a1,2024-06-01,900
a2,2024-02-01,500
a2,2024-02-20,500
a2,2024-03-10,500
b1,2024-05-01,300
b1,2024-06-20,150
c1,2024-06-25,40
c2,2024-01-10,80
c2,2024-01-20,20
"""


def page_table(write, predictions: dict, rules=segcore.TierRules()):
    """The page's table for PAGE_ORDERS with hand-made predictions (x, p_alive, clv ... per customer)."""
    ds = segcore.load_orders(write("o.csv", PAGE_ORDERS))
    tiered = segcore.assign_tiers(segcore.customer_metrics(ds.con, as_of=date(2024, 6, 30)), rules)
    ids = list(predictions)
    pred = pd.DataFrame({"customer_id": ids, **{c: np.nan for c in forecast.PREDICTION_COLUMNS[1:]},
                         "expected_spend": np.nan})
    for col in dict.fromkeys(c for p in predictions.values() for c in p):
        pred[col] = [predictions[i].get(col) for i in ids]
    return tiered, forecast.forecast_table(pred, tiered, rules)


def test_forecast_table_tiers_predicted_clv_with_the_same_rules(write):
    # past spend: a1 1800, a2 1500, b1 450, c2 100, c1 40 -> A: a1, a2 (3300 of 3890 = 85%), B: b1
    # (96%), C: c2, c1. Predicted CLV: c1 100, b1 50, a1 30, a2 15, c2 5: A = c1, b1 (150 of 200 =
    # 75% < 80%) + a1 (90%), B = a2 (97.5%), C = c2
    predictions = {"a1": dict(x=1, p_alive=0.2, clv=30), "a2": dict(x=2, p_alive=0.9, clv=15),
                   "b1": dict(x=1, p_alive=0.95, clv=50), "c1": dict(x=0, p_alive=1.0, clv=100),
                   "c2": dict(x=1, p_alive=0.1, clv=5)}
    tiered, table = page_table(write, predictions)
    assert list(table["customer_id"]) == list(tiered["customer_id"])
    got = by_id(table)
    assert got["tier"].astype(str).to_dict() == {"a1": "A", "a2": "A", "b1": "B", "c1": "C", "c2": "C"}
    assert got["expected_tier"].astype(str).to_dict() == {"a1": "A", "a2": "B", "b1": "A", "c1": "A", "c2": "C"}
    assert list(table["expected_tier"].cat.categories) == ["A", "B", "C", "Iron"]
    cross = cross_tab(table, "tier", "expected_tier", ["A", "B", "C"], ["A", "B", "C", "Iron"])
    cell = cross.set_index(["row", "column"])["customers"]
    assert (cell[("A", "A")], cell[("A", "B")], cell[("B", "A")], cell[("C", "A")], cell[("C", "C")]) == (1, 1, 1, 1, 1)
    # the score method scores past behaviour; predicted CLV is tiered by Pareto value instead
    score = segcore.TierRules(method="score")
    _, scored = page_table(write, predictions, score)
    assert scored["expected_tier"].astype(str).tolist() == table["expected_tier"].astype(str).tolist()
    lists = forecast.value_lists(table, ["A", "B", "C"])
    assert lists["likely_gone"]["customer_id"].tolist() == ["a1"]  # top tier, P(alive) 0.2
    assert lists["potential"]["customer_id"].tolist() == ["c1", "b1"]  # below A now, A expected
    assert forecast.value_lists(table, ["A", "B", "C"], gone_below=0.95)["likely_gone"]["customer_id"].tolist() \
        == ["a1", "a2"]
    assert forecast.value_lists(table, ["A", "B", "C"], top_levels=2)["potential"]["customer_id"].tolist() == ["c1"]
    summary = forecast.forecast_summary(table, ["A", "B", "C"]).set_index("tier")
    assert summary["customers"].tolist() == [2, 1, 2]
    assert summary.loc["A", "clv"] == 45 and summary.loc["C", "clv"] == 105
    assert summary.loc["A", "likely_active"] == 1 and summary.loc["A", "avg_p_alive"] == pytest.approx(0.55)
    assert summary["clv_share"].sum() == pytest.approx(1)
    assert summary["next_order_customers"].tolist() == [0, 0, 0]  # nobody has a next-order date here


def test_the_summary_counts_next_orders_and_takes_the_middle_date(write):
    # A: a1 and a2 expected on 07-20 and 07-02; B: b1 without a date; C: c1 08-15, c2 07-10.
    # The middle date of two is the earlier one.
    dates = {"a1": "2024-07-20", "a2": "2024-07-02", "b1": None, "c1": "2024-08-15", "c2": "2024-07-10"}
    predictions = {c: dict(x=1, p_alive=0.9, clv=10, expected_next_order_date=pd.Timestamp(d) if d else pd.NaT)
                   for c, d in dates.items()}
    _, table = page_table(write, predictions)
    summary = forecast.forecast_summary(table, ["A", "B", "C"]).set_index("tier")
    assert summary["next_order_customers"].tolist() == [2, 0, 2]
    assert summary["median_next_order_date"].tolist()[0] == pd.Timestamp("2024-07-02")
    assert pd.isna(summary.loc["B", "median_next_order_date"])
    assert summary.loc["C", "median_next_order_date"] == pd.Timestamp("2024-07-10")
    predictions["c2"]["expected_next_order_date"] = pd.Timestamp("2024-09-01")
    predictions["b1"]["expected_next_order_date"] = pd.Timestamp("2024-07-05")
    _, table = page_table(write, predictions)
    summary = forecast.forecast_summary(table, ["A", "B", "C"]).set_index("tier")
    assert summary.loc["C", "median_next_order_date"] == pd.Timestamp("2024-08-15")
    assert summary.loc["B", "median_next_order_date"] == pd.Timestamp("2024-07-05")


def test_palive_bands_spread_each_tier_over_bands(write):
    # P(alive): A a1 0.2, a2 0.9; B b1 0.95; C c1 1.0 (the last band holds 1), c2 0.1 (a band's
    # lower bound belongs to it)
    predictions = {"a1": dict(x=1, p_alive=0.2, clv=30), "a2": dict(x=2, p_alive=0.9, clv=15),
                   "b1": dict(x=1, p_alive=0.95, clv=50), "c1": dict(x=0, p_alive=1.0, clv=100),
                   "c2": dict(x=1, p_alive=0.1, clv=5)}
    _, table = page_table(write, predictions)
    bands = forecast.palive_bands(table, ["A", "B", "C"])
    assert len(bands) == 30 and bands["tier"].unique().tolist() == ["A", "B", "C"]
    filled = bands[bands["customers"] > 0]
    assert filled[["tier", "band", "customers"]].values.tolist() == [
        ["A", 2, 1], ["A", 9, 1], ["B", 9, 1], ["C", 1, 1], ["C", 9, 1]]
    assert filled["tier_share"].tolist() == [0.5, 0.5, 1.0, 0.5, 0.5]
    assert bands.loc[9, ["lo", "hi"]].tolist() == pytest.approx([0.9, 1.0])
    quarters = forecast.palive_bands(table, ["C", "B", "A"], width=0.25)
    assert quarters["tier"].unique().tolist() == ["C", "B", "A"]
    assert quarters[quarters["tier"] == "A"]["customers"].tolist() == [1, 0, 0, 1]
    assert quarters["hi"].max() == 1.0
    with pytest.raises(ValueError):
        forecast.palive_bands(table, ["A"], width=0)


def test_palive_beside_the_churn_rule_explains_each_disagreement(write):
    # as of 2024-06-30, k = 2. a1: ordered 01-05 and 06-01 (interval 148 days, 29 days ago): not
    # overdue. a2: every ~20 days until 03-10 (112 days ago, > 2 x 20): overdue. b1: 10 days ago.
    # c1: one order, 5 days ago. c2: two orders in January (interval 10 days), 162 days ago: overdue.
    predictions = {"a1": dict(x=1, p_alive=0.3, clv=30), "a2": dict(x=2, p_alive=0.9, clv=15),
                   "b1": dict(x=1, p_alive=0.95, clv=50), "c1": dict(x=0, p_alive=1.0, clv=100),
                   "c2": dict(x=1, p_alive=0.1, clv=5)}
    _, table = page_table(write, predictions)
    both = forecast.palive_vs_churn(table, ["A", "B", "C"]).set_index("customer_id")
    assert both.loc["a1", "reason_code"] == "gone_within_usual_interval"
    assert both.loc["a2", "reason_code"] == "overdue_but_likely_active"
    assert both.loc["c2", "agree"] and both.loc["c2", "model_gone"] and both.loc["c2", "rule_at_risk"]
    assert both.loc["b1", "agree"] and pd.isna(both.loc["b1", "reason_code"])
    assert both.loc["c1", "agree"]  # bought 5 days ago: neither calls them gone
    assert list(both.index[:2]) == ["a1", "a2"]  # disagreements first, best tier first
    assert set(forecast.DISAGREEMENT_REASONS) >= set(both["reason_code"].dropna())
    # who to call: the spend and the last order come along (no names, regions in this file)
    assert both.loc["a1", "monetary"] == 1800 and both.loc["a1", "last_order_date"] == pd.Timestamp("2024-06-01")
    assert list(both.columns[-2:]) == ["monetary", "last_order_date"]


@needs_sample
def test_one_time_buyers_are_where_the_model_and_the_rule_part(sample):
    E = date(1998, 6, 30)
    fit = forecast.fit_models(forecast.customer_summary(sample.con, E), E)
    rules = segcore.TierRules()
    tiered = segcore.assign_tiers(segcore.customer_metrics(sample.con), rules)
    table = forecast.forecast_table(forecast.predict(fit, 26), tiered, rules)
    both = forecast.palive_vs_churn(table, rules.labels)
    one_time = both[both["x"] == 0]
    assert (one_time["p_alive"] == 1).all() and not one_time["model_gone"].any()
    assert (one_time.loc[~one_time["agree"], "reason_code"] == "one_time_buyer").all()
    assert (one_time["rule_at_risk"] & ~one_time["agree"]).sum() > 1000  # the rule catches them


def test_cohorts_by_first_order_month(write):
    ds = segcore.load_orders(write("o.csv", "customer_id,order_date,amount\n"
                                            "u,2024-01-05,10\nu,2024-02-10,20\nu,2024-02-11,-5\nu,2024-03-01,30\n"
                                            "v,2024-01-20,40\nv,2024-03-15,-10\n"
                                            "w,2024-01-02,-3\nw,2024-02-05,15\n"))
    cohorts = forecast.cohort_table(ds.con)
    t = cohorts.table
    jan = t[t["cohort"] == pd.Timestamp("2024-01-01")]
    assert jan[["months_since", "customers", "active_customers", "revenue"]].values.tolist() == \
        [[0, 2, 2, 50], [1, 2, 1, 15], [2, 2, 1, 20]]  # v's March is a return only: not active
    feb = t[t["cohort"] == pd.Timestamp("2024-02-01")]  # w: the January line is a return, not an order
    assert feb[["months_since", "customers", "active_customers", "revenue"]].values.tolist() == [[0, 1, 1, 15], [1, 1, 0, 0]]
    assert cohorts.retention.loc["2024-01"].tolist() == [1.0, 0.5, 0.5]
    assert np.isnan(cohorts.retention.loc["2024-02", 2])
    tiered = pd.DataFrame({"customer_id": ["u", "v", "w"], "tier": ["A", "B", "A"]})
    only_a = forecast.cohort_table(ds.con, tiered=tiered, tiers=["A"]).table
    assert only_a[only_a["months_since"] == 0]["customers"].tolist() == [1, 1]
