"""Predictions: fit + predict for 100k and 1M customers, and a re-prediction at another horizon.

Usage::

    python benchmarks/bench_predict.py                         # 100k and 1M customers, 3 rounds
    python benchmarks/bench_predict.py --customers 100000 --rounds 5 --lines 1000000

The per-customer summaries are drawn from known BG/NBD and Gamma-Gamma parameters
(:func:`segcore.models.simulate_bgnbd`, seeded): first orders spread over two years, times in
whole days (as the summary from real order lines has them), order values in cents. Measured in
this process, after one warm-up fit (scipy's import is not counted):

- fit        : :func:`segcore.fit_models` (both models; alike customers fitted once);
- predict    : :func:`segcore.predict` at the horizon (52 weeks, or 365 days), discount 0.002;
- re-predict : :func:`segcore.predict` on the same fit at half the horizon and discount 0.001
               (what moving the page's horizon or rate slider costs; no refit);
- summary    : with ``--lines N``, :func:`segcore.customer_summary` on the synthetic orders file
               of ``bench_engine.py`` with N lines (read beforehand, not counted).

The sizes and units are interleaved round by round and the table shows medians, so a moment of
other work on the (shared, 2-core) machine does not decide a figure. Targets (issue 10): fit +
predict under 2 s for 100k customers and under 15 s for 1M; re-predict under 200 ms for 100k.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the checkout's segcore, installed or not

import segcore  # noqa: E402
from segcore import models  # noqa: E402
from segcore.forecast import UNITS  # noqa: E402

E = date(2025, 1, 1)
HORIZON = {"week": 52, "day": 365}


def make_summary(customers: int, unit: str) -> pd.DataFrame:
    """A per-customer summary drawn from CDNOW-like parameters (seeded)."""
    rng = np.random.default_rng(customers)
    days = rng.integers(0, 730, customers).astype(float)
    x, t_x = models.simulate_bgnbd(models.BGNBDParams(r=0.25, alpha=4.4, a=0.8, b=2.4), days / 7, rng)
    zbar = np.zeros(customers)
    repeat = x > 0
    zbar[repeat] = np.round(models.simulate_gamma_gamma(models.GammaGammaParams(p=6, q=4, v=16),
                                                        x[repeat], rng), 2)
    per = UNITS[unit]
    return pd.DataFrame({"customer_id": [f"{i:07d}" for i in range(customers)], "x": x.astype(np.int64),
                         "t_x": np.floor(t_x * 7) / per, "T": days / per, "zbar": zbar})


def measure(summary: pd.DataFrame, unit: str) -> dict:
    horizon = HORIZON[unit]
    t = time.perf_counter()
    fit = segcore.fit_models(summary, E, unit)
    fitted = time.perf_counter()
    segcore.predict(fit, horizon, 0.002)
    predicted = time.perf_counter()
    segcore.predict(fit, horizon / 2, 0.001)
    again = time.perf_counter()
    return {"fit": fitted - t, "predict": predicted - fitted, "repredict": again - predicted,
            "histories": len(fit._histories[0])}


def summary_seconds(lines: int) -> tuple[int, float]:
    from bench_engine import make_orders

    ds = segcore.load_orders(make_orders(lines))
    t = time.perf_counter()
    s = segcore.customer_summary(ds.con, date(2024, 6, 30), "week")
    return len(s), time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--units", nargs="*", default=["week", "day"], choices=list(UNITS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lines", type=int, help="also time the summary from this many order lines")
    args = parser.parse_args()
    cases = [(n, unit) for n in args.customers for unit in args.units]
    summaries = {case: make_summary(*case) for case in cases}
    segcore.fit_models(summaries[cases[0]], E, cases[0][1])  # warm-up: imports scipy
    runs: dict[tuple, list[dict]] = {case: [] for case in cases}
    for _ in range(args.rounds):
        for case in cases:
            runs[case].append(measure(summaries[case], case[1]))

    def med(case, key):
        return statistics.median(r[key] for r in runs[case])

    print(f"Median of {args.rounds} rounds (cases interleaved):\n")
    print("| customers | unit | horizon | distinct (x, T) | fit s | predict s | fit + predict s | re-predict ms |")
    print("|---|---|---|---|---|---|---|---|")
    for case in cases:
        n, unit = case
        total = statistics.median(r["fit"] + r["predict"] for r in runs[case])
        print(f"| {n:,} | {unit} | {HORIZON[unit]} | {runs[case][0]['histories']:,} | {med(case, 'fit'):.2f} | "
              f"{med(case, 'predict'):.2f} | {total:.2f} | {1000 * med(case, 'repredict'):.0f} |")
    if args.lines:
        n, seconds = summary_seconds(args.lines)
        print(f"\nSummary of {args.lines:,} order lines ({n:,} customers): {seconds:.2f} s")


if __name__ == "__main__":
    main()
