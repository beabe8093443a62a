"""Tests for segcore.computed_abc (computed ABC analysis, Ultsch & Lötsch 2015)."""

import math

import numpy as np
import pytest

from segcore.computed_abc import (
    ComputedABC,
    _fmm_spline_coef,
    _spline_eval,
    computed_abc,
    computed_abc_classes,
)


def _groups(labels):
    """Sets of 1-based positions per class."""
    out = {"A": set(), "B": set(), "C": set()}
    for i, lab in enumerate(labels, start=1):
        out[lab].add(i)
    return out


def _check_consistent(values, res, labels):
    """Result fields agree with the labels and with each other."""
    clean = [0.0 if (v is None or not math.isfinite(v) or v < 0) else float(v)
             for v in values]
    n = len(clean)
    assert len(labels) == n
    assert res.a_count + res.b_count + res.c_count == n
    assert labels.count("A") == res.a_count
    assert labels.count("B") == res.b_count
    assert labels.count("C") == res.c_count
    assert res.b_limit <= res.a_limit
    for v, lab in zip(clean, labels):
        if lab == "A":
            assert v > res.a_limit
        elif lab == "B":
            assert res.b_limit <= v <= res.a_limit
        else:
            assert v < res.b_limit
    total = sum(clean)
    if total > 0:
        a_sum = sum(v for v, lab in zip(clean, labels) if lab == "A")
        ab_sum = sum(v for v, lab in zip(clean, labels) if lab in "AB")
        assert res.a_share == pytest.approx(a_sum / total, abs=1e-12)
        assert res.b_share == pytest.approx(ab_sum / total, abs=1e-12)
        assert 0.0 <= res.a_share <= res.b_share <= 1.0
        for pt in (res.pareto_point, res.break_even_point, res.submarginal_point):
            assert 0.0 <= pt[0] <= 1.0 and 0.0 <= pt[1] <= 1.0


# ---------------------------------------------------------------------------
# Known answers
# ---------------------------------------------------------------------------
def test_known_answer_mixed():
    values = [1, 15, 25, 17, 2, 3, 5, 6, 2, 3, 22]
    labels = computed_abc_classes(values)
    g = _groups(labels)
    assert g["A"] == {3, 4, 11}
    assert g["B"] == {2, 8}
    assert g["C"] == {1, 5, 6, 7, 9, 10}
    res = computed_abc(values)
    assert (res.a_limit, res.b_limit) == (15.0, 6.0)
    assert (res.a_count, res.b_count, res.c_count) == (3, 2, 6)
    assert res.a_share == pytest.approx(64 / 101)
    assert res.b_share == pytest.approx(85 / 101)
    _check_consistent(values, res, labels)


def test_known_answer_1_to_10():
    values = list(range(1, 11))
    g = _groups(computed_abc_classes(values))
    assert g["A"] == {8, 9, 10}
    assert g["B"] == {5, 6, 7}
    assert g["C"] == {1, 2, 3, 4}
    res = computed_abc(values)
    assert (res.a_limit, res.b_limit) == (7.0, 5.0)
    assert res.a_share == pytest.approx(27 / 55)
    assert res.b_share == pytest.approx(45 / 55)
    # Curve points on the 101-point grid (Pareto before break-even here).
    assert res.pareto_point[0] == pytest.approx(0.42)
    assert res.break_even_point[0] == pytest.approx(0.50)
    assert res.submarginal_point[0] == pytest.approx(0.63)


def test_known_answer_1_to_9():
    values = list(range(1, 10))
    g = _groups(computed_abc_classes(values))
    assert g["A"] == {7, 8, 9}
    assert g["B"] == {4, 5, 6}
    assert g["C"] == {1, 2, 3}


# ---------------------------------------------------------------------------
# Edge cases
# ---------------------------------------------------------------------------
def test_empty():
    res = computed_abc([])
    assert isinstance(res, ComputedABC)
    assert (res.a_count, res.b_count, res.c_count) == (0, 0, 0)
    assert res.a_limit == math.inf and res.b_limit == math.inf
    assert res.a_share == 0.0 and res.b_share == 0.0
    assert all(math.isnan(t) for t in res.pareto_point)
    assert computed_abc_classes([]) == []
    assert computed_abc_classes(np.array([])) == []


def test_single_value():
    res = computed_abc([42.0])
    assert (res.a_count, res.b_count, res.c_count) == (0, 1, 0)
    assert res.a_limit == res.b_limit == 42.0
    assert res.b_share == 1.0
    assert computed_abc_classes([42.0]) == ["B"]


@pytest.mark.parametrize("n", [2, 3, 10, 150])
def test_all_equal(n):
    values = [3.5] * n
    labels = computed_abc_classes(values)
    assert labels == ["B"] * n
    res = computed_abc(values)
    assert res.a_limit == res.b_limit == 3.5
    _check_consistent(values, res, labels)


@pytest.mark.parametrize("values", [[0, 0, 0], [0.0], [-1, -2], [None, float("nan")]])
def test_no_positive_spend(values):
    res = computed_abc(values)
    labels = computed_abc_classes(values)
    assert labels == ["C"] * len(values)
    assert (res.a_count, res.b_count, res.c_count) == (0, 0, len(values))
    assert res.a_limit == math.inf and res.b_limit == math.inf
    assert res.a_share == 0.0 and res.b_share == 0.0


@pytest.mark.parametrize("values", [[1, 2], [2, 1], [5, 5], [0, 7], [3, 100]])
def test_two_values(values):
    res = computed_abc(values)
    labels = computed_abc_classes(values)
    assert res.a_count == 0
    assert labels[int(np.argmax(values))] == "B"
    _check_consistent(values, res, labels)


def test_one_spender_among_zeros():
    values = [0, 0, 9, 0]
    labels = computed_abc_classes(values)
    assert labels == ["C", "C", "B", "C"]
    _check_consistent(values, computed_abc(values), labels)


# ---------------------------------------------------------------------------
# Cleaning, order and scale
# ---------------------------------------------------------------------------
def test_negative_and_missing_count_as_zero():
    base = [1, 15, 25, 17, 2, 3, 5, 6, 2, 3, 22]
    dirty = base + [-5.0, float("nan"), None, -0.1, float("inf")]
    zeros = base + [0.0, 0.0, 0.0, 0.0, 0.0]
    assert computed_abc(dirty) == computed_abc(zeros)
    labels = computed_abc_classes(dirty)
    assert labels == computed_abc_classes(zeros)
    assert labels[len(base):] == ["C"] * 5
    _check_consistent(dirty, computed_abc(dirty), labels)


def test_numpy_input():
    values = np.arange(1, 11, dtype=float)
    assert computed_abc(values) == computed_abc(list(range(1, 11)))
    assert computed_abc_classes(values) == computed_abc_classes(tuple(range(1, 11)))


@pytest.mark.parametrize("seed", range(5))
def test_order_invariance(seed):
    rng = np.random.default_rng(seed)
    for values in (
        np.array([1, 15, 25, 17, 2, 3, 5, 6, 2, 3, 22], dtype=float),
        rng.lognormal(0.0, 1.5, size=300),
        rng.integers(0, 6, size=60).astype(float),
    ):
        perm = rng.permutation(len(values))
        ref = computed_abc(values)
        assert computed_abc(values[perm]) == ref
        labels = computed_abc_classes(values)
        labels_perm = computed_abc_classes(values[perm])
        assert labels_perm == [labels[i] for i in perm]


def test_power_of_two_scale_invariance():
    values = np.random.default_rng(7).lognormal(0.0, 1.0, size=80)
    assert computed_abc_classes(values) == computed_abc_classes(values * 4.0)


# ---------------------------------------------------------------------------
# Larger heavy-tailed data
# ---------------------------------------------------------------------------
def test_heavy_tailed_lognormal():
    values = np.random.default_rng(42).lognormal(mean=0.0, sigma=1.5, size=1000)
    res = computed_abc(values)
    labels = computed_abc_classes(values)
    _check_consistent(values.tolist(), res, labels)
    n = len(values)
    # A is a small group holding a large share of spend.
    assert 0 < res.a_count < 0.3 * n
    assert res.a_share > 0.6
    assert res.a_share > 2.5 * res.a_count / n
    # The C group is the "trivial many".
    assert res.c_count > n / 2
    assert res.b_share - res.a_share < 0.25
    # 1001-point grid for >= 101 customers.
    for pt in (res.pareto_point, res.break_even_point, res.submarginal_point):
        assert round(pt[0] * 1000) == pytest.approx(pt[0] * 1000, abs=1e-9)


def test_shares_reproduce_groups_by_pareto_tiering():
    values = np.random.default_rng(3).lognormal(0.0, 2.0, size=500)
    res = computed_abc(values)
    labels = computed_abc_classes(values)
    order = np.argsort(-values, kind="stable")
    cum = np.cumsum(values[order])
    cum = cum / cum[-1]  # shares are exact boundaries: same arithmetic as the module
    pareto = np.empty(len(values), dtype=object)
    pareto[order] = np.where(cum <= res.a_share, "A",
                             np.where(cum <= res.b_share, "B", "C"))
    assert list(pareto) == labels


# ---------------------------------------------------------------------------
# Spline port (R's fmm spline)
# ---------------------------------------------------------------------------
def test_fmm_spline_reproduces_cubic():
    # FMM end conditions make the spline exact for cubic data.
    x = [0.0, 0.1, 0.25, 0.4, 0.7, 0.8, 1.0]
    f = lambda t: 2 * t ** 3 - t ** 2 + 0.5 * t + 1
    y = [f(t) for t in x]
    b, c, d = _fmm_spline_coef(x, y)
    u = np.linspace(0, 1, 37)
    np.testing.assert_allclose(_spline_eval(u, x, y, b, c, d), f(u), atol=1e-12)
    # first derivative as splinefun(..., deriv=1)
    deriv = _spline_eval(u, x, b, [2 * t for t in c], [3 * t for t in d], [0.0] * len(x))
    np.testing.assert_allclose(deriv, 6 * u ** 2 - 2 * u + 0.5, atol=1e-10)


def test_fmm_spline_two_points_is_linear():
    b, c, d = _fmm_spline_coef([0.0, 1.0], [0.0, 2.0])
    np.testing.assert_allclose(
        _spline_eval([0.0, 0.3, 1.0], [0.0, 1.0], [0.0, 2.0], b, c, d), [0.0, 0.6, 2.0]
    )


def test_shares_reproduce_groups_with_before_share_rule():
    # Rule "share held by the customers ranked above < cut - 1e-9" (the crossing
    # customer belongs to the upper level), with a differently summed total.
    values = np.random.default_rng(11).lognormal(0.0, 1.8, size=700)
    res = computed_abc(values)
    labels = computed_abc_classes(values)
    order = np.argsort(-values, kind="stable")
    before = np.concatenate(([0.0], np.cumsum(values[order])[:-1])) / values.sum()
    eps = 1e-9
    tier = np.where(before < res.a_share - eps, "A",
                    np.where(before < res.b_share - eps, "B", "C"))
    pareto = np.empty(len(values), dtype=object)
    pareto[order] = tier
    assert list(pareto) == labels
