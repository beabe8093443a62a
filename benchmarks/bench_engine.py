"""File-to-tiers speed and peak memory of the engine, next to the bare DuckDB query computing the same
metrics and to plain pandas, on ISO and on day-first dates.

Usage::

    python benchmarks/bench_engine.py                        # 2M and 10M order lines, 5 rounds
    python benchmarks/bench_engine.py --lines 2000000 --rounds 3
    python benchmarks/bench_engine.py --segcore /path/to/other/checkout   # that checkout's engine

For each size it writes two deterministic synthetic orders CSVs under ``benchmarks/data/`` (order id,
zero-padded customer id, date, amount, product; ~2% returns): one with ISO dates (``2024-01-31``),
one with the same lines and day-first dates (``31/01/2024``). The cases, each run in a fresh process
so that peak memory (max RSS) is its own:

- engine : ``load_orders`` + ``customer_metrics`` + ``assign_tiers``, the whole file-to-tiers path
  including the ingest report and the rejected-row accounting; the exact duplicate count, which a
  caller may take after the first view (``count_duplicates=False``), is timed apart (``dups``);
- bare : DuckDB alone over the same file, columns typed by DuckDB's reader (day-first with
  ``dateformat``), computing the same per-customer metrics (recency, orders with a positive net,
  net spend, first/last order, product breadth, order days, interval, spend halves) into a DataFrame;
- pandas : ``read_csv`` and the same metrics and Pareto tiers written plainly with groupby.

Every round runs every case once, the cases interleaved, so that other work on the machine slows all
of them alike; the table shows the median of the rounds and the largest peak. Targets: engine within
1.15x of bare at 2M lines and 1.3x at 10M, day-first at most 1.5x ISO, pandas at least 3x slower than
the engine, peak memory at 10M lines under 2 GB. Then the re-tier time for 500k customers.
"""

from __future__ import annotations

import argparse
import json
import math
import os
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

DATES = {"iso": None, "dmy": "%d/%m/%Y"}


def make_orders(lines: int, dates: str = "iso") -> Path:
    """A deterministic orders CSV with ``lines`` rows (cached under benchmarks/data)."""
    path = DATA / f"orders_{lines}{'' if dates == 'iso' else '_' + dates}.csv"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    customers = max(1000, lines // 20)
    orders = lines // 3
    day = "DATE '2023-01-01' + CAST(hash(o * 13) % 730 AS INTEGER)"
    if DATES[dates]:
        day = f"strftime({day}, '{DATES[dates]}')"
    duckdb.execute("SET enable_progress_bar = false")
    duckdb.execute(f"""
        COPY (
            SELECT 'SO' || lpad(CAST(o AS VARCHAR), 9, '0') AS order_id,
                   lpad(CAST(hash(o * 7) % {customers} AS VARCHAR), 7, '0') AS customer_id,
                   {day} AS order_date,
                   round((CASE WHEN hash(i * 17) % 50 = 0 THEN -1 ELSE 1 END)
                         * (1 + hash(i * 19) % 20000) / 100.0, 2) AS amount,
                   'P' || CAST(hash(i * 23) % 500 AS VARCHAR) AS product
            FROM (SELECT i, i % {orders} AS o FROM range({lines}) t(i))
        ) TO '{path}' (HEADER, DELIMITER ',')""")
    return path


def _segcore():
    """The segcore of ``$BENCH_SEGCORE`` (a checkout), else this checkout's, installed or not."""
    sys.path.insert(0, os.environ.get("BENCH_SEGCORE", str(HERE.parent)))
    import segcore

    return segcore


def cpu_seconds() -> float:
    """CPU seconds of this process so far, DuckDB's threads included (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_engine(path: str, dates: str) -> dict:
    segcore = _segcore()
    deferred = hasattr(segcore.Dataset, "count_duplicates")  # engines before it counted in load_orders
    ds = segcore.load_orders(path, **({"count_duplicates": False} if deferred else {}))
    metrics = segcore.customer_metrics(ds.con)
    segcore.assign_tiers(metrics)
    done, done_cpu = time.perf_counter(), cpu_seconds()
    if deferred:
        ds.count_duplicates()
    return {"dups": time.perf_counter() - done, "dups_cpu": cpu_seconds() - done_cpu} if deferred else {}


def run_bare(path: str, dates: str) -> dict:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    fmt = f", dateformat = '{DATES[dates]}'" if DATES[dates] else ""
    con.execute(f"""CREATE TABLE l AS SELECT * FROM read_csv($p, types = {{'customer_id': 'VARCHAR',
                    'order_id': 'VARCHAR', 'order_date': 'DATE'}}{fmt})""", {"p": path})
    con.execute("""
        WITH b AS (SELECT min(order_date) AS start, max(order_date) AS as_of,
                          min(order_date) + CAST((max(order_date) - min(order_date)) // 2 AS INTEGER) AS mid FROM l),
        orders AS (
            SELECT customer_id, order_id, min(order_date) AS day, sum(amount) AS net,
                   sum(amount) FILTER (WHERE order_date <= mid) AS h1,
                   sum(amount) FILTER (WHERE order_date > mid) AS h2
            FROM l, b GROUP BY customer_id, order_id),
        per AS (
            SELECT customer_id, count(*) FILTER (WHERE net > 0) AS frequency, sum(net) AS monetary,
                   min(day) FILTER (WHERE net > 0) AS first, max(day) FILTER (WHERE net > 0) AS last,
                   count(DISTINCT day) FILTER (WHERE net > 0) AS days,
                   COALESCE(sum(h1), 0) AS h1, COALESCE(sum(h2), 0) AS h2
            FROM orders GROUP BY customer_id),
        breadth AS (SELECT customer_id, count(DISTINCT product) AS product_breadth
                    FROM l WHERE amount > 0 GROUP BY customer_id)
        SELECT customer_id, date_diff('day', last, as_of) AS recency_days, frequency, monetary,
               monetary / NULLIF(frequency, 0) AS avg_order_value, first, last,
               date_diff('day', first, as_of) AS tenure_days, product_breadth,
               CASE WHEN days >= 2 THEN date_diff('day', first, last) / (days - 1) END AS avg_interval_days,
               h1, h2, CASE WHEN h1 > 0 THEN h2 / h1 - 1 END AS trend
        FROM per LEFT JOIN breadth USING (customer_id), b ORDER BY customer_id""").df()
    return {}


def run_pandas(path: str, dates: str) -> dict:
    df = pd.read_csv(path, dtype={"customer_id": str, "order_id": str})
    df["order_date"] = pd.to_datetime(df["order_date"], format=DATES[dates] or "%Y-%m-%d")
    as_of, start = df.order_date.max(), df.order_date.min()
    mid = start + (as_of - start) // 2
    df["h1"] = df.amount.where(df.order_date <= mid, 0)
    orders = df.groupby(["customer_id", "order_id"]).agg(date=("order_date", "min"), net=("amount", "sum"),
                                                         h1=("h1", "sum"))
    orders = orders.reset_index()
    bought = orders[orders.net > 0]
    per = bought.groupby("customer_id").agg(frequency=("net", "size"), first=("date", "min"),
                                            last=("date", "max"), days=("date", "nunique"))
    spend = orders.groupby("customer_id")[["net", "h1"]].sum()
    per = per.join(spend, how="outer")
    per["h2"] = per.net - per.h1
    per["trend"] = (per.h2 / per.h1 - 1).where(per.h1 > 0)
    per["recency_days"] = (as_of - per["last"]).dt.days
    per["aov"] = per.net / per.frequency
    per["interval"] = (per["last"] - per["first"]).dt.days / (per.days - 1).where(per.days > 1)
    per["breadth"] = df[df.amount > 0].groupby("customer_id").product.nunique()
    per = per.sort_values(["net"], ascending=False)
    share = per.net.clip(lower=0).cumsum() / per.net.clip(lower=0).sum()
    before = share.shift(fill_value=0)
    per["tier"] = "C"
    per.loc[before < 0.95, "tier"] = "B"
    per.loc[before < 0.80, "tier"] = "A"
    return {}


def retier_ms(customers: int = 500_000) -> float:
    import numpy as np

    segcore = _segcore()
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


def run_once(kind: str, path: Path, dates: str) -> dict:
    """One case in a fresh process: seconds, CPU seconds (all the process's threads: on a loaded
    machine the steadier figure), peak memory in MB, and what the case adds.

    Modules are imported before the clock starts: the time is the work, not Python's start-up.
    """
    code = (f"import sys, time, json, resource; sys.path.insert(0, {str(HERE)!r}); "
            f"import bench_engine as b; b._segcore(); t, c = time.perf_counter(), b.cpu_seconds(); "
            f"extra = b.run_{kind}({str(path)!r}, {dates!r}); s, c = time.perf_counter() - t, b.cpu_seconds() - c; "
            "print(json.dumps({'seconds': s - extra.get('dups', 0), 'cpu': c - extra.get('dups_cpu', 0), **extra, "
            "'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.splitlines()[-1])  # after anything the run printed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="*", default=[2_000_000, 10_000_000])
    parser.add_argument("--rounds", type=int, default=5, help="runs per case (median time)")
    parser.add_argument("--kinds", nargs="*", default=["bare", "engine", "pandas"])
    parser.add_argument("--segcore", help="a checkout whose segcore to measure (default: this one)")
    args = parser.parse_args()
    if args.segcore:
        os.environ["BENCH_SEGCORE"] = str(Path(args.segcore).resolve())
    cases = [(lines, dates, kind) for lines in args.lines for dates in DATES for kind in args.kinds]
    paths = {(lines, dates): make_orders(lines, dates) for lines in args.lines for dates in DATES}
    runs = {case: [] for case in cases}
    for r in range(args.rounds):
        for case in cases:
            lines, dates, kind = case
            runs[case].append(run_once(kind, paths[lines, dates], dates))
            print(f"round {r + 1}: {lines:,} {dates} {kind}: {json.dumps(runs[case][-1])}", flush=True)

    def med(case, key="seconds"):
        values = [run[key] for run in runs.get(case, []) if key in run]
        return statistics.median(values) if values else float("nan")

    def peak(case):
        return max((run["peak_mb"] for run in runs.get(case, [])), default=float("nan"))

    print(f"\nsegcore from {os.environ.get('BENCH_SEGCORE', HERE.parent)}; median of {args.rounds} rounds, cases interleaved; seconds "
          "(peak memory MB)\n")
    print("| lines | dates | bare DuckDB | engine | engine / bare | pandas | pandas / engine "
          "| + duplicate count |")
    print("|---|---|---|---|---|---|---|---|")
    for lines in args.lines:
        for dates in DATES:
            bare, eng, pds = ((lines, dates, k) for k in ("bare", "engine", "pandas"))
            dups = med(eng, "dups")
            print(f"| {lines:,} | {dates} | {med(bare):.2f} ({peak(bare):.0f}) | {med(eng):.2f} "
                  f"({peak(eng):.0f}) | {med(eng) / med(bare):.2f}x | {med(pds):.2f} ({peak(pds):.0f}) "
                  f"| {med(pds) / med(eng):.1f}x | {'in load' if math.isnan(dups) else f'{dups:.2f}'} |")
    print("\nCPU seconds (all threads; median of the rounds):\n")
    print("| lines | dates | bare DuckDB | engine | engine / bare | pandas | pandas / engine "
          "| + duplicate count |")
    print("|---|---|---|---|---|---|---|---|")
    for lines in args.lines:
        for dates in DATES:
            bare, eng, pds = (med((lines, dates, k), "cpu") for k in ("bare", "engine", "pandas"))
            dups = med((lines, dates, "engine"), "dups_cpu")
            print(f"| {lines:,} | {dates} | {bare:.2f} | {eng:.2f} | {eng / bare:.2f}x | {pds:.2f} "
                  f"| {pds / eng:.1f}x | {'in load' if math.isnan(dups) else f'{dups:.2f}'} |")
    for lines in args.lines:
        ratio = med((lines, "dmy", "engine")) / med((lines, "iso", "engine"))
        ratio_cpu = med((lines, "dmy", "engine"), "cpu") / med((lines, "iso", "engine"), "cpu")
        print(f"\n{lines:,} lines: engine day-first / ISO = {ratio:.2f}x ({ratio_cpu:.2f}x in CPU seconds)")
    print(f"\nRe-tier of 500,000 customers (median of 7): {retier_ms():.0f} ms")


if __name__ == "__main__":
    main()
