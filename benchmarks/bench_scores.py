"""Scores, RFM segments and composite-score tiers for 500k customers, once the per-customer table exists.

Usage::

    python benchmarks/bench_scores.py                    # 500k customers, median of 7 runs
    python benchmarks/bench_scores.py --customers 100000 --repeat 3

The per-customer table is synthetic and deterministic (numpy seed 7) and as tie-heavy as real order
data: frequency geometric (about half the customers bought once), recency in whole days over two
years, spend with two decimals (log-normal), interactions in the last 90 days (mostly 0), product
breadth 1..40, and 5% prospects. Timed: ``add_scores`` + ``assign_tiers(method="score")`` = ``score_customers`` (five dimensions) +
``rfm_segments`` + ``composite_score`` + ``score_levels``, and each step alone. Target: the whole
path under 300 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

import segcore
from segcore.scores import add_scores, composite_score, rfm_segments, score_customers, score_levels

TARGET_MS = 300


def make_metrics(customers: int, seed: int = 7) -> pd.DataFrame:
    """A per-customer table shaped like :func:`segcore.customer_metrics` output."""
    rng = np.random.default_rng(seed)
    prospect = rng.random(customers) < 0.05
    frequency = np.where(prospect, 0, rng.geometric(0.5, customers))
    recency = rng.integers(0, 730, customers)
    monetary = np.round(frequency * rng.lognormal(4, 1, customers), 2)
    return pd.DataFrame({
        "customer_id": [f"C{i:07d}" for i in range(customers)],
        "recency_days": pd.arrays.IntegerArray(recency, prospect.copy()),  # NA for prospects
        "frequency": frequency,
        "monetary": monetary,
        "interactions_90d": rng.poisson(0.6, customers),
        "product_breadth": pd.array(np.where(prospect, 0, np.minimum(frequency * rng.integers(1, 4, customers), 40)),
                                    dtype="Int64"),
        "is_prospect": prospect,
    })


def timed(fn, repeat: int) -> float:
    """Median wall time of ``fn()`` in ms (after one warm-up run)."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)

    metrics = make_metrics(args.customers)
    weights = {"recency": 2, "frequency": 1, "monetary": 2, "activity": 1, "breadth": 0.5}
    scored, _ = score_customers(metrics)
    scored["composite_score"] = composite_score(scored, weights)

    steps = {
        "score_customers (5 dimensions)": lambda: score_customers(metrics),
        "rfm_segments": lambda: rfm_segments(scored),
        "composite_score": lambda: composite_score(scored, weights),
        "score_levels": lambda: score_levels(scored, ("A", "B", "C"), (0.2, 0.5)),
        "add_scores + assign_tiers(method=score)": lambda: segcore.assign_tiers(
            add_scores(metrics, weights=weights)[0],
            segcore.TierRules(method="score", cuts=(0.2, 0.5), weights=tuple(weights.items()))),
    }
    print(f"{args.customers:,} customers, median of {args.repeat}:")
    total = 0.0
    for name, fn in steps.items():
        total = timed(fn, args.repeat)
        print(f"  {name:<34} {total:8.1f} ms")
    verdict = "OK" if total < TARGET_MS else "SLOWER THAN TARGET"
    print(f"scores + segments + composite tiers: {total:.1f} ms (target < {TARGET_MS} ms: {verdict})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
