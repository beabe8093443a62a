"""How long the dashboard takes with 1M order lines: the upload, a column choice, a slider move, and the
Forecast page's first view and horizon moves on the sample data and on the 1M lines.

Usage::

    python benchmarks/bench_ui.py                 # 1,000,000 lines
    python benchmarks/bench_ui.py --lines 200000  # quicker
    python benchmarks/bench_ui.py --data-page --rounds 5   # the upload and a column choice only,
                                                           # each in a fresh session, median of 5

Writes a deterministic synthetic orders CSV under ``benchmarks/data/`` (long-tailed spend: a few
customers place most orders; ~2% returns; ~0.5% lines without a customer id), uploads it through the
data page with ``streamlit.testing.v1.AppTest`` exactly as a user would (the file is written to disk
in chunks, read once, the per-customer table built once) and times how long until the page draws
the import report, and the whole rerun (after the report the page counts the exact duplicates and
tiers the customers, so that the Overview opens at once); then changes a column choice (Region: not
used, then back) and times each rerun the same way (the file is read again under the new mapping;
its duplicates are known). Then on the Overview page moves the
A-share slider to several values and times each ``set_value + run`` (a full script rerun: re-tier,
summary, KPI cards, tier mix, Pareto curve, three histograms, sidebar). The same on the Customers
page (filtered table, downloads wired, profile hidden). Prints a table; the target is well under a
second per move.

The Forecast page: its first view (the models fitted on the orders up to the as-of date and for
the holdout check, the predictions, cohorts, every tab drawn), then horizon slider moves (predict
again from the cached fit, re-draw), and a switch of the time unit (a new fit) and back (cached). On
the Churn page, k slider moves (the at-risk list and P(alive) beside the rule). First views are
single measurements (a cold cache); moves are medians of several.

The upload and the column choice are also timed in CPU seconds of the process (DuckDB's threads
included): on a machine busy with other work the steadier figure. With ``--data-page`` only those
are timed, ``--rounds`` times over (each round a fresh AppTest session, the caches
emptied first, so that every round reads the file), and the medians printed.

AppTest runs the script in-process without a browser, so the figures exclude the network and the
browser's drawing; they include everything the server does for a rerun.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = HERE / "data"
sys.path.insert(0, str(REPO))

import segcore  # noqa: E402
import streamlit as st  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402


def make_orders(lines: int) -> Path:
    """A deterministic orders CSV with ``lines`` rows (cached under benchmarks/data)."""
    path = DATA / f"orders_ui_{lines}.csv"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    customers = max(1000, lines // 10)
    orders = max(1, lines // 3)
    u = "(hash({x}) % 1000003) / 1000003.0"
    duckdb.execute(f"""
        COPY (
            SELECT 'SO' || lpad(CAST(o AS VARCHAR), 9, '0') AS "Order ID",
                   DATE '2024-01-01' + CAST(hash(o * 13) % 730 AS INTEGER) AS "Order Date",
                   CASE WHEN hash(i * 29) % 200 = 0 THEN ''
                        ELSE 'C' || lpad(CAST(CAST(floor({customers} * pow({u.format(x="o * 7")}, 2.5))
                                                     AS BIGINT) AS VARCHAR), 7, '0') END AS "Customer ID",
                   'Product ' || CAST(hash(i * 23) % 400 AS VARCHAR) AS "Product",
                   'Category ' || CAST(hash(i * 23) % 400 % 12 AS VARCHAR) AS "Category",
                   round((CASE WHEN hash(i * 17) % 50 = 0 THEN -1 ELSE 1 END)
                         * (5 + pow(10, 3 * {u.format(x="i * 19")})), 2) AS "Amount",
                   'Region ' || CAST(hash(o * 31) % 6 AS VARCHAR) AS "Region",
                   'Channel ' || CAST(hash(o * 37) % 5 AS VARCHAR) AS "Channel"
            FROM (SELECT i, i % {orders} AS o FROM range({lines}) t(i))
        ) TO '{path}' (HEADER, DELIMITER ',')""")
    return path


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


#: When the Data page drew its import report's facts (AppTest runs the page in this process): the
#: page draws the report first, then counts the duplicates and tiers the customers.
REPORT_DRAWN: list[float] = []


def _note_report() -> None:
    from ui import data_page

    draw = data_page.report_facts

    def noted(*args, **kwargs):
        REPORT_DRAWN.append(time.perf_counter())
        return draw(*args, **kwargs)

    data_page.report_facts = noted


def timed(at: AppTest, timeout: float = 600, cpu: list | None = None, report: list | None = None) -> float:
    """Seconds of one rerun; its CPU seconds are appended to ``cpu`` when given, and the seconds
    until the import report was drawn to ``report``."""
    start, start_cpu = time.perf_counter(), cpu_seconds()
    at.run(timeout=timeout)
    elapsed = time.perf_counter() - start
    if cpu is not None:
        cpu.append(cpu_seconds() - start_cpu)
    if report is not None:
        report.append(min(t for t in REPORT_DRAWN if t >= start) - start)
    if at.exception:
        raise RuntimeError([e.value for e in at.exception])
    return elapsed


def data_page(path: Path) -> dict:
    """A fresh session: the sample, then the upload up to the import report, then a column choice
    changed (Region: not used, then back) up to the updated report. Seconds and CPU seconds."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)
    timed(at)
    at.segmented_control(key="w_source").set_value("upload")
    timed(at)
    out = {"load_cpu": [], "remap_cpu": [], "load_report": [], "remap_report": []}
    at.file_uploader(key="w_upload_orders").set_value((path.name, path.read_bytes(), "text/csv"))
    out["load"] = [timed(at, cpu=out["load_cpu"], report=out["load_report"])]
    out["rows"] = next(m.value for m in at.metric if m.label == "Rows used")
    out["customers"] = next(m.value for m in at.metric if m.label == "Customers")
    out["remap"] = []
    for region in ("", "Region"):  # a column choice changed, then changed back
        at.selectbox(key="w_map_region").set_value(region)
        out["remap"].append(timed(at, cpu=out["remap_cpu"], report=out["remap_report"]))
    return out


def slider_moves(at: AppTest, values) -> list[float]:
    times = []
    for value in values:
        at.slider(key="w_cut_a_value").set_value(value)
        times.append(timed(at))
    return times


HORIZONS = [26, 39, 13, 65, 78, 104, 30, 45, 52]


def forecast_page(at: AppTest) -> dict:
    """Times of the Forecast page on the data loaded in ``at``: first view, horizon moves, a new
    unit and back, then the Churn page's k moves."""
    at.switch_page("pages/7_Forecast.py")
    out = {"first": [timed(at)]}
    at.slider(key="w_fc_horizon").set_value(51)  # warm-up
    timed(at)
    out["horizon"] = []
    for value in HORIZONS:
        at.slider(key="w_fc_horizon").set_value(value)
        out["horizon"].append(timed(at))
    at.segmented_control(key="w_fc_unit").set_value("day")
    out["unit_refit"] = [timed(at)]
    at.segmented_control(key="w_fc_unit").set_value("week")
    out["unit_cached"] = [timed(at)]
    at.switch_page("pages/5_Churn.py")
    out["churn_first"] = [timed(at)]
    out["churn_k"] = []
    for value in (2.5, 3.0, 1.5, 2.25, 4.0, 2.0):
        at.slider(key="w_churn_k").set_value(value)
        out["churn_k"].append(timed(at))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--data-page", action="store_true",
                        help="time only the upload and a column choice (fresh sessions, --rounds of them)")
    parser.add_argument("--rounds", type=int, default=1, help="fresh sessions for --data-page (medians)")
    args = parser.parse_args()

    _note_report()
    path = make_orders(args.lines)
    size = path.stat().st_size
    print(f"orders file: {path.name}, {args.lines:,} lines, {size / 2**20:,.1f} MB")
    if args.data_page:
        runs = []
        for _ in range(args.rounds):  # each a fresh session on a server that has read nothing yet
            st.cache_data.clear()
            st.cache_resource.clear()
            runs.append(data_page(path))
        print(f"rows used {runs[0]['rows']}, customers {runs[0]['customers']}; median of {args.rounds} sessions:")
        for key, name in (("load", "upload -> import report"), ("remap", "column choice -> updated report")):
            drawn = statistics.median(t for run in runs for t in run[key + "_report"])
            wall = statistics.median(t for run in runs for t in run[key])
            cpu = statistics.median(t for run in runs for t in run[key + "_cpu"])
            print(f"{name}: {drawn:.2f} s; the whole rerun (duplicates counted, customers tiered) "
                  f"{wall:.2f} s, {cpu:.2f} CPU s")
        return

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)
    first = timed(at)
    sample_forecast = forecast_page(at)
    at.switch_page("app.py")
    timed(at)
    at.segmented_control(key="w_source").set_value("upload")
    timed(at)
    at.file_uploader(key="w_upload_orders").set_value((path.name, path.read_bytes(), "text/csv"))
    drawn = []
    load = timed(at, report=drawn)
    rows = [m.value for m in at.metric if m.label == "Rows used"]
    customers = [m.value for m in at.metric if m.label == "Customers"]
    print(f"data page with the sample: {first:.2f} s; upload -> import report: {drawn[0]:.2f} s, the whole "
          f"rerun {load:.2f} s (rows used {rows[0]}, customers {customers[0]})")
    remap, drawn = [], []
    for region in ("", "Region"):  # a column choice changed, then changed back
        at.selectbox(key="w_map_region").set_value(region)
        remap.append(timed(at, report=drawn))
    print("column choice changed to the updated import report: "
          + ", ".join(f"{d:.2f} s (rerun {t:.2f} s)" for d, t in zip(drawn, remap)))

    at.switch_page("pages/1_Overview.py")
    overview_first = timed(at)
    print(f"Overview, first view (per-customer table built once): {overview_first:.2f} s")
    values = [70, 75, 85, 60, 90, 65, 80, 72, 78]
    slider_moves(at, [71])  # warm-up
    overview = slider_moves(at, values)

    at.switch_page("pages/2_Customers.py")
    customers_first = timed(at)
    customers_page = slider_moves(at, values)
    big_forecast = forecast_page(at)

    # the engine part of a move, alone
    ds = segcore.load_orders(path)
    metrics = segcore.customer_metrics(ds.con)
    retier = []
    for value in values:
        start = time.perf_counter()
        tiered = segcore.assign_tiers(metrics, segcore.TierRules(cuts=(value / 100, 0.95)))
        segcore.tier_summary(tiered, ("A", "B", "C"))
        retier.append(time.perf_counter() - start)

    def row(name, times):
        ms = [t * 1000 for t in times]
        print(f"| {name:<42} | {statistics.median(ms):>8.0f} | {min(ms):>6.0f} | {max(ms):>6.0f} |")

    print(f"\nslider move with {args.lines:,} order lines ({len(metrics):,} customers), "
          f"{len(values)} moves each, milliseconds:")
    print(f"| {'what':<42} | {'median':>8} | {'min':>6} | {'max':>6} |")
    print(f"|{'-' * 44}|{'-' * 10}|{'-' * 8}|{'-' * 8}|")
    row("Overview page rerun (AppTest)", overview)
    row("Customers page rerun (AppTest)", customers_page)
    row("engine only: assign_tiers + tier_summary", retier)
    print(f"\n(Customers page first view: {customers_first:.2f} s)")

    print("\nForecast page (and the Churn page with P(alive)), milliseconds; first views and unit switches "
          "are single measurements:")
    print(f"| {'what':<42} | {'data':<16} | {'median':>8} | {'min':>6} | {'max':>6} |")
    print(f"|{'-' * 44}|{'-' * 18}|{'-' * 10}|{'-' * 8}|{'-' * 8}|")
    names = {"first": "Forecast, first view (two fits)", "horizon": "Forecast, horizon slider move",
             "unit_refit": "Forecast, unit weeks -> days (new fit)", "unit_cached": "Forecast, back to weeks (cached)",
             "churn_first": "Churn page, first view after Forecast", "churn_k": "Churn page, k slider move"}
    for key, name in names.items():
        for data, result in (("sample", sample_forecast), (f"{args.lines:,} lines", big_forecast)):
            ms = [t * 1000 for t in result[key]]
            print(f"| {name:<42} | {data:<16} | {statistics.median(ms):>8.0f} | {min(ms):>6.0f} | {max(ms):>6.0f} |")


if __name__ == "__main__":
    main()
