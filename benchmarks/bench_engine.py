"""File-to-tiers speed and peak memory of the engine, next to bare DuckDB and plain pandas.

Usage::

    python benchmarks/bench_engine.py               # 1M and 10M order lines
    python benchmarks/bench_engine.py --lines 1000000 --repeat 3

For each size it writes a deterministic synthetic orders CSV under ``benchmarks/data/`` (order id,
zero-padded customer id, ISO date, amount, product; ~2% returns) and runs, each in a fresh process so
peak memory (max RSS) is its own:

- engine : ``load_orders`` + ``customer_metrics`` + ``assign_tiers`` (the whole file-to-tiers path,
  including the ingest report, duplicate count and rejected-row accounting);
- duckdb : the bare ``SELECT customer_id, count(DISTINCT order_id), sum(amount), max(order_date)
  ... GROUP BY customer_id`` over the same file;
- pandas : ``read_csv`` and the same metrics written plainly with groupby.

With ``--repeat N`` each implementation runs N times (fresh processes, one after the other) and
the table shows the median time and the largest peak, so one run slowed by other work on the machine
does not decide the result. Then the re-tier time for 500k customers (``assign_tiers`` on a ready per-customer table, median
of 7). Targets: engine within 1.5x of duckdb, at least 2x faster than pandas, re-tier under 150 ms,
peak memory for 10M lines under 3 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
sys.path.insert(0, str(HERE.parent))  # the checkout's segcore, installed or not

import segcore  # noqa: E402


def make_orders(lines: int) -> Path:
    """A deterministic orders CSV with ``lines`` rows (cached under benchmarks/data)."""
    path = DATA / f"orders_{lines}.csv"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    customers = max(1000, lines // 20)
    orders = lines // 3
    duckdb.execute(f"""
        COPY (
            SELECT 'SO' || lpad(CAST(o AS VARCHAR), 9, '0') AS order_id,
                   lpad(CAST(hash(o * 7) % {customers} AS VARCHAR), 7, '0') AS customer_id,
                   DATE '2023-01-01' + CAST(hash(o * 13) % 730 AS INTEGER) AS order_date,
                   round((CASE WHEN hash(i * 17) % 50 = 0 THEN -1 ELSE 1 END)
                         * (1 + hash(i * 19) % 20000) / 100.0, 2) AS amount,
                   'P' || CAST(hash(i * 23) % 500 AS VARCHAR) AS product
            FROM (SELECT i, i % {orders} AS o FROM range({lines}) t(i))
        ) TO '{path}' (HEADER, DELIMITER ',')""")
    return path


def run_engine(path: str) -> None:
    ds = segcore.load_orders(path)
    metrics = segcore.customer_metrics(ds.con)
    segcore.assign_tiers(metrics)


def run_duckdb(path: str) -> None:
    duckdb.execute("SET enable_progress_bar = false")
    duckdb.execute("""SELECT customer_id, count(DISTINCT order_id), sum(amount), max(order_date)
                      FROM read_csv($p, types = {'customer_id': 'VARCHAR'}) GROUP BY customer_id""",
                   {"p": path}).fetchall()


def run_pandas(path: str) -> None:
    df = pd.read_csv(path, dtype={"customer_id": str, "order_id": str}, parse_dates=["order_date"])
    as_of = df.order_date.max()
    orders = df.groupby(["customer_id", "order_id"]).agg(date=("order_date", "min"), net=("amount", "sum"))
    orders = orders.reset_index()
    bought = orders[orders.net > 0]
    per = bought.groupby("customer_id").agg(frequency=("net", "size"), first=("date", "min"),
                                            last=("date", "max"), days=("date", "nunique"))
    per["monetary"] = orders.groupby("customer_id").net.sum()
    per["recency_days"] = (as_of - per["last"]).dt.days
    per["aov"] = per.monetary / per.frequency
    per["interval"] = (per["last"] - per["first"]).dt.days / (per.days - 1).where(per.days > 1)
    per["breadth"] = df[df.amount > 0].groupby("customer_id").product.nunique()
    per = per.sort_values(["monetary"], ascending=False)
    share = per.monetary.clip(lower=0).cumsum() / per.monetary.clip(lower=0).sum()
    before = share.shift(fill_value=0)
    per["tier"] = "C"
    per.loc[before < 0.95, "tier"] = "B"
    per.loc[before < 0.80, "tier"] = "A"


def retier_ms(customers: int = 500_000) -> float:
    import numpy as np

    rng = np.random.default_rng(7)
    metrics = pd.DataFrame({
        "customer_id": [f"{i:07d}" for i in range(customers)],
        "recency_days": rng.integers(0, 700, customers),
        "frequency": rng.integers(1, 30, customers),
        "monetary": np.round(rng.lognormal(5, 1.5, customers), 2),
    })
    rules = [segcore.TierRules(cuts=(a, 0.95)) for a in (0.6, 0.7, 0.8, 0.85, 0.9, 0.75, 0.65)]
    times = []
    for rule in rules:
        start = time.perf_counter()
        segcore.assign_tiers(metrics, rule)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(kind: str, path: Path, repeat: int = 1) -> dict:
    """Run one implementation ``repeat`` times, each in a fresh process: the median seconds and the
    largest peak memory in MB.

    Modules are imported before the clock starts: the time is the work, not Python's start-up.
    """
    code = (f"import sys, time, resource; sys.path.insert(0, {str(HERE)!r}); "
            f"import bench_engine as b; t = time.perf_counter(); b.run_{kind}({str(path)!r});"
            "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        seconds, rss_kb = out.stdout.split()[-2:]  # after anything the run printed
        runs.append((float(seconds), int(rss_kb) / 1024))
    return {"seconds": statistics.median(s for s, _ in runs), "peak_mb": max(m for _, m in runs),
            "runs": [round(s, 3) for s, _ in runs]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument("--skip-pandas-above", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per implementation (median time)")
    args = parser.parse_args()
    results = []
    for lines in args.lines:
        path = make_orders(lines)
        row = {"lines": lines, "file_mb": round(path.stat().st_size / 2**20)}
        for kind in ("engine", "duckdb", "pandas"):
            if kind == "pandas" and lines > args.skip_pandas_above:
                continue
            row[kind] = measure(kind, path, args.repeat)
        results.append(row)
        print(json.dumps(row))
    retier = retier_ms()
    print(f"\n| lines | file MB | engine s (peak MB) | bare DuckDB s (peak MB) | pandas s (peak MB) "
          "| engine / DuckDB | pandas / engine |")
    print("|---|---|---|---|---|---|---|")
    for row in results:
        cell = {k: f"{row[k]['seconds']:.2f} ({row[k]['peak_mb']:.0f})" if k in row else "-"
                for k in ("engine", "duckdb", "pandas")}
        ratio = row["engine"]["seconds"] / row["duckdb"]["seconds"]
        speedup = row["pandas"]["seconds"] / row["engine"]["seconds"] if "pandas" in row else float("nan")
        print(f"| {row['lines']:,} | {row['file_mb']} | {cell['engine']} | {cell['duckdb']} | "
              f"{cell['pandas']} | {ratio:.2f}x | {speedup:.1f}x |")
    print(f"\nRe-tier of 500,000 customers (median of 7): {retier:.0f} ms")


if __name__ == "__main__":
    main()
