"""Spark (local mode) vs the DuckDB engine on the same order lines: wall and CPU seconds.

Usage::

    python benchmarks/bench_spark.py                    # 2M lines, 3 rounds, Spark local[2]
    python benchmarks/bench_spark.py --lines 2000000 --rounds 3 --master "local[2]"

The lines are ``bench_engine.make_orders`` (order id, customer id, ISO date, amount, product), written
once more as a Parquet file with typed columns (DATE, DOUBLE) under ``benchmarks/data``. Cases, each
round in fresh processes, interleaved:

- duckdb : ``load_orders`` + ``customer_metrics`` on the Parquet file (the whole engine path);
- spark  : ``spark_metrics`` on the same Parquet file in one session, run twice: the first run
  (cold: class loading, JIT) and the second (warm), without the session's start-up, timed apart.

CPU seconds are the process's own plus, for Spark, the JVM's (read from /proc before the session
stops). The cost model divides the warm run's CPU seconds by the lines: CPU s per line x lines /
cores is the wall time of a cluster of that many cores, before shuffle and I/O overheads.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_engine import make_orders  # noqa: E402


def make_parquet(lines: int) -> Path:
    path = HERE / "data" / f"orders_{lines}.parquet"
    if not path.exists():
        csv = make_orders(lines)
        duckdb.execute(f"""COPY (SELECT * FROM read_csv('{csv}', header = true))
                           TO '{path}' (FORMAT parquet)""")
    return path


def _cpu_self() -> float:
    t = os.times()
    return t.user + t.system


def _cpu_children_of(pid: int) -> float:
    """CPU seconds of the live descendants of ``pid`` (the JVM of a Spark session)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents, cpu = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
            cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        for child, parent in parents.items():
            if parent == p:
                total += cpu[child]
                todo.append(child)
    return total


def case_duckdb(path: str) -> dict:
    import segcore

    wall, cpu = time.perf_counter(), _cpu_self()
    ds = segcore.load_orders(path, count_duplicates=False)
    n = len(segcore.customer_metrics(ds.con))
    return {"wall": time.perf_counter() - wall, "cpu": _cpu_self() - cpu, "customers": n}


def case_spark(path: str, master: str) -> dict:
    from segcore.spark import spark_metrics, spark_session

    out = {}
    wall, cpu = time.perf_counter(), _cpu_self() + _cpu_children_of(os.getpid())
    spark = spark_session(master, shuffle_partitions=4)
    now = _cpu_self() + _cpu_children_of(os.getpid())
    out["start_wall"], out["start_cpu"] = time.perf_counter() - wall, now - cpu
    for run in ("cold", "warm"):
        wall, cpu = time.perf_counter(), _cpu_self() + _cpu_children_of(os.getpid())
        n = len(spark_metrics(spark, [path]).metrics)
        out[f"{run}_wall"] = time.perf_counter() - wall
        out[f"{run}_cpu"] = _cpu_self() + _cpu_children_of(os.getpid()) - cpu
    out["customers"] = n
    spark.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = str(make_parquet(args.lines))
    if args.case:
        result = case_duckdb(path) if args.case == "duckdb" else case_spark(path, args.master)
        print(json.dumps(result))
        return
    results = {"duckdb": [], "spark": []}
    for _ in range(args.rounds):
        for case in results:
            done = subprocess.run([sys.executable, "-W", "ignore", __file__, "--case", case, "--lines",
                                   str(args.lines), "--master", args.master], capture_output=True, text=True,
                                  check=True)
            results[case].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(case, results[case][-1], flush=True)
    med = {case: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for case, rs in results.items()}
    d, s = med["duckdb"], med["spark"]
    assert d["customers"] == s["customers"]
    print(f"{args.lines:,} lines, {d['customers']:,} customers, median of {args.rounds} rounds "
          f"(load average {os.getloadavg()[0]:.1f})")
    print("| engine | wall s | CPU s |\n|---|---|---|")
    print(f"| DuckDB engine | {d['wall']:.2f} | {d['cpu']:.2f} |")
    print(f"| Spark {args.master}, session start | {s['start_wall']:.2f} | {s['start_cpu']:.2f} |")
    print(f"| Spark {args.master}, first run | {s['cold_wall']:.2f} | {s['cold_cpu']:.2f} |")
    print(f"| Spark {args.master}, second run | {s['warm_wall']:.2f} | {s['warm_cpu']:.2f} |")
    per_line = s["warm_cpu"] / args.lines
    print(f"\nSpark CPU s per line (warm): {per_line:.3g}; DuckDB: {d['cpu'] / args.lines:.3g}")
    for cores in (64, 256, 1024):
        print(f"1e9 lines on {cores} cores: {per_line * 1e9 / cores:,.0f} s of compute")


if __name__ == "__main__":
    main()
