"""Command line for scheduled runs.

``python -m segcore tier orders.csv --out tiers.csv`` and the ``migrate``, ``churn``,
``followups`` and ``predict`` commands. ``--config settings.json`` (saved from the app) gives the same rules as the
app; options given on the command line override it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path
from datetime import date, timedelta

import duckdb

from .dynamics import RISK_LEVELS, churn_risk, migrate
from .export import EXPORT_LANGS, migration_sheets, rejected_for_export, sheet_name, write_export, write_table
from .forecast import PREDICTION_COLUMNS, UNITS, Note, customer_summary, fit_models, holdout_check, predict
from .models import PredictError
from .headers import CANONICAL_FIELDS
from .ingest import IngestError, load_customers, load_interactions, load_orders
from .customer_table import is_customer_table, read_customer_table, write_customer_table
from .metrics import customer_metrics, window_bounds
from .playbook import follow_ups
from .scores import add_scores
from .settings import Settings, load_settings
from .spark import install_hint
from .tiers import DEFAULT_CUTS, assign_tiers, tier_summary


def _pairs(text: str, what: str) -> list[tuple[str, str]]:
    out = []
    for pair in text.split(",") if isinstance(text, str) else text:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{what} takes NAME=VALUE pairs; got {pair!r}.")
        out.append((key.strip(), value.strip()))
    return out


def _numbers(text: str, option: str, example: str) -> list[float]:
    """``0.5,0.8`` -> [0.5, 0.8]; ValueError naming the option otherwise."""
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise ValueError(f"{option} takes numbers like {example}; got {text!r}.") from None


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2024-12-31") from None


def _data_options() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("file", help="orders file: CSV/TSV (UTF-8, GBK...), .xlsx/.xls or .parquet")
    p.add_argument("--config", help="settings file saved from the app (JSON); options below override it")
    p.add_argument("--customers", help="optional customers file (prospects and attributes)")
    p.add_argument("--interactions", help="optional interactions file (customer, date, type)")
    p.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                   help="use COLUMN for FIELD (repeatable), e.g. --map amount=实付金额")
    p.add_argument("--date-order", choices=["dmy", "mdy"],
                   help="read a/b/yyyy dates day-first or month-first (default: from the data)")
    p.add_argument("--drop-duplicates", action="store_true", default=None,
                   help="reject exact duplicate rows instead of keeping them")
    p.add_argument("--as-of", type=_date, help="as-of date (default: latest order date)")
    p.add_argument("--since", type=_date, help="ignore orders before this date")
    p.add_argument("--method", choices=["pareto", "computed", "score"],
                   help="pareto: cut by shares (default); computed: data-driven ABC limits; "
                        "score: weighted composite of the 1..n scores")
    p.add_argument("--by", choices=["value", "count"],
                   help="pareto cuts by share of spend (value, default) or of customers (count)")
    p.add_argument("--a-share", type=float, help="A ends at this share (default 0.80)")
    p.add_argument("--b-share", type=float, help="B ends at this share (default 0.95)")
    p.add_argument("--cuts", help="all cut shares for 2-5 levels, e.g. 0.5,0.8,0.95")
    p.add_argument("--levels", type=int, choices=[2, 3, 4, 5], help="number of levels (default 3)")
    p.add_argument("--labels", help="level names best first, e.g. 金钻,白银,铜")
    p.add_argument("--weights", help="score weights, e.g. recency=1,frequency=1,monetary=2")
    p.add_argument("--out", help="output file: .csv, .xlsx or .parquet")
    p.add_argument("--lang", choices=list(EXPORT_LANGS),
                   help="headers, values and sheet names of the .csv / .xlsx files in English or Chinese "
                        "(default: the engine's column names and codes, for scripts; .parquet always keeps them)")
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m segcore",
                                     description="Customer tiering (ABC / RFM) from an orders file.")
    sub = parser.add_subparsers(dest="command", required=True)
    data = _data_options()
    tier = sub.add_parser("tier", parents=[data], help="tier the customers of an orders file")
    tier.add_argument("--rejected", help="write the rejected rows with their reason (.csv, .xlsx or .parquet)")
    mig = sub.add_parser("migrate", parents=[data], help="compare the tiers at two as-of dates")
    mig.add_argument("--before", type=_date, help="earlier as-of date (default: one period before)")
    mig.add_argument("--period", choices=["month", "quarter", "half-year", "year"],
                     help="distance of the earlier date (default quarter)")
    churn = sub.add_parser("churn", parents=[data], help="customers at risk of leaving")
    churn.add_argument("--k", type=float, help="at risk after k x the usual interval (default 2)")
    churn.add_argument("--drop-share", type=float, help="or when recent spend fell by this share (0.5)")
    sub.add_parser("followups", parents=[data], help="the follow-up (call) list from the playbook")
    pred = sub.add_parser("predict", parents=[data],
                          help="P(alive), expected orders, next order date and lifetime value per customer")
    pred.add_argument("--calibration-end", type=_date,
                      help="fit on the orders up to this date, predict from it and check against the orders "
                           "after it (default: predict from the as-of date; check with the last third held out)")
    pred.add_argument("--unit", choices=list(UNITS), help="time unit of the models (default week)")
    pred.add_argument("--horizon", type=float, help="forecast horizon in units (default 52)")
    pred.add_argument("--discount-rate", type=float, help="discount rate per unit for the lifetime value (default 0)")
    pred.add_argument("--report", help="write the parameters, holdout figures and warnings to this JSON file")
    met = sub.add_parser("metrics", help="the per-customer table of order lines (DuckDB or Spark) as Parquet, "
                                         "for tier and the app")
    met.add_argument("files", nargs="*", help="orders file (DuckDB), or Parquet files / globs / CSV files (Spark)")
    met.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb",
                     help="duckdb (one machine, default) or spark (needs the spark extra and Java 17)")
    met.add_argument("--master", default="local[*]",
                     help="Spark master: local[*] (default), spark://host:7077, yarn, or sc://host (Spark Connect)")
    met.add_argument("--table", help="Spark: read this catalog table (db.orders) instead of files")
    met.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN", help="use COLUMN for FIELD")
    met.add_argument("--date-order", choices=["dmy", "mdy"], help="read a/b/yyyy dates day-first or month-first")
    met.add_argument("--drop-duplicates", action="store_true", help="reject exact duplicate rows")
    met.add_argument("--as-of", type=_date, help="as-of date (default: latest order date)")
    met.add_argument("--since", type=_date, help="ignore orders before this date")
    met.add_argument("--customers", help="optional customers file (prospects and attributes)")
    met.add_argument("--interactions", help="optional interactions file (customer, date, type)")
    met.add_argument("--out", required=True, help="the customer table to write (.parquet)")
    met.add_argument("--rejected", metavar="DIR", help="write the rejected rows (source file, row, reason, "
                                                       "cells) as Parquet into this folder")
    met.add_argument("--report", help="write the ingest report to this JSON file")
    met.set_defaults(config=None, method=None, by=None, labels=None, levels=None, cuts=None, a_share=None,
                     b_share=None, weights=None)
    return parser


def settings_from(args) -> Settings:
    """The settings file named by ``--config`` (or the defaults), overridden by the options given."""
    s = load_settings(args.config) if args.config else Settings()
    mapping = dict(s.mapping)
    for field, column in _pairs(args.map, "--map"):
        if field not in CANONICAL_FIELDS:
            raise ValueError(f"--map takes FIELD=COLUMN with FIELD one of {', '.join(CANONICAL_FIELDS)}; "
                             f"got {field!r}.")
        mapping[field] = column
    changes = {"mapping": mapping}
    for name in ("date_order", "drop_duplicates", "as_of", "since", "method", "by"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if args.labels:
        changes["labels"] = tuple(x.strip() for x in args.labels.split(","))
    elif args.levels:
        changes["labels"] = tuple("ABCDE"[:args.levels])
    levels = len(changes.get("labels", s.labels))
    if args.levels and args.levels != levels:
        raise ValueError(f"--levels {args.levels} needs {args.levels} labels; got {levels}.")
    if args.cuts:
        changes["cuts"] = tuple(_numbers(args.cuts, "--cuts", "0.5,0.8,0.95"))
    elif args.a_share is not None or args.b_share is not None:
        if levels != 3:
            raise ValueError("--a-share and --b-share are for three levels; use --cuts.")
        a, b = s.cuts if s.cuts is not None and levels == len(s.labels) else DEFAULT_CUTS[3]
        changes["cuts"] = (args.a_share if args.a_share is not None else a,
                           args.b_share if args.b_share is not None else b)
    elif "labels" in changes and levels != len(s.labels):
        changes["cuts"] = None  # the default shares for the new number of levels
    if args.weights:
        changes["weights"] = {k: _numbers(v, "--weights", "recency=2,frequency=1")[0]
                              for k, v in _pairs(args.weights, "--weights")}
    for name, option in (("churn_k", "k"), ("churn_drop_share", "drop_share"),
                         ("migration_period", "period"), ("forecast_calibration_end", "calibration_end"),
                         ("forecast_unit", "unit"), ("forecast_horizon", "horizon"),
                         ("forecast_discount_rate", "discount_rate")):
        if getattr(args, option, None) is not None:
            changes[name] = getattr(args, option)
    return replace(s, **changes)


def load(args, s: Settings):
    """The dataset the options name, with its optional files attached; prints the ingest report."""
    ds = load_orders(args.file, s.mapping, date_order=s.date_order, drop_duplicates=s.drop_duplicates)
    print("\n".join(ds.report.lines()))
    if args.customers:
        report = load_customers(ds, args.customers, s.customers_mapping)
        print(f"Customers file: {report['rows_used']:,} customers, {report['prospects']:,} prospects")
    if args.interactions:
        report = load_interactions(ds, args.interactions, s.interactions_mapping)
        print(f"Interactions file: {report['rows_used']:,} interactions")
    print()
    return ds


def currency(s: Settings, found: str | None) -> str | None:
    """The currency sign of the exports' money headers: the settings', else the one the amounts carried."""
    return s.currency_symbol if s.currency_symbol is not None else found


def tiered_customers(ds, s: Settings):
    """Per-customer metrics, scores, RFM segment, composite score and tier, as the settings say."""
    return tier_metrics(customer_metrics(ds.con, as_of=s.as_of, since=s.since), s)


def tier_metrics(metrics, s: Settings):
    """A per-customer table (:func:`segcore.customer_metrics`) with scores, segment and tier."""
    scored, _ = add_scores(metrics, n=s.score_points,
                           custom_cuts=s.custom_cut_points or None, weights=s.weights or None,
                           rules=s.segment_rules or None)
    return assign_tiers(scored, s.tier_rules())


def _show(table) -> None:
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))


def _wrote(n: int, what: str, path) -> None:
    print(f"\n{n:,} {what} written to {path}")


def run_tier(args, s: Settings) -> int:
    if is_customer_table(args.file):
        metrics, facts = read_customer_table(args.file)
        print(f"Customer table of {facts['source']} ({facts['engine']}), as of {facts['as_of']}, "
              f"window from {facts['window_start']}: {len(metrics):,} customers\n")
        tiered, found = tier_metrics(metrics, s), None  # a customer table holds no amounts as written
    else:
        ds = load(args, s)
        if args.rejected:
            rows = rejected_for_export(ds.rejected_rows(), args.lang)
            write_table(args.rejected, rows, {sheet_name("rejected", args.lang): rows})
            print(f"Rejected rows written to {args.rejected}\n")
        tiered, found = tiered_customers(ds, s), ds.report.currency
    summary = tier_summary(tiered, s.labels)
    _show(summary)
    if args.out:
        write_export(tiered, args.out, summary, s.labels, args.lang, currency(s, found))
        _wrote(len(tiered), "customers", args.out)
    return 0


def run_migrate(args, s: Settings) -> int:
    ds = load(args, s)
    mig = migrate(ds.con, s.tier_rules(), args.before, s.as_of, s.since, period=s.migration_period,
                  window_days=s.migration_window_days)
    print(f"Tiers at {mig.as_of_before} (rows) -> {mig.as_of_after} (columns), customers:")
    print(mig.customers_matrix.to_string())
    print()
    _show(mig.summary)
    if args.out:
        write_table(args.out, mig.customers, migration_sheets(mig, args.lang), args.lang,
                    currency(s, ds.report.currency))
        _wrote(len(mig.customers), "customers", args.out)
    return 0


def run_churn(args, s: Settings) -> int:
    ds = load(args, s)
    risk = churn_risk(tiered_customers(ds, s), s.labels, k=s.churn_k, drop_share=s.churn_drop_share,
                      lapse_days=s.lapse_days)
    counts = (risk.groupby(["tier", "risk"], observed=True).size().unstack(fill_value=0)
              .reindex(columns=list(RISK_LEVELS), fill_value=0))
    print(f"Customers at risk (not yet lapsed, i.e. ordered within {s.lapse_days} days): {len(risk):,}")
    print(counts.to_string())
    if args.out:
        write_table(args.out, risk, lang=args.lang, currency=currency(s, ds.report.currency))
        _wrote(len(risk), "customers at risk", args.out)
    return 0


def run_followups(args, s: Settings) -> int:
    ds = load(args, s)
    calls = follow_ups(tiered_customers(ds, s), s.playbook_rows(), as_of=s.as_of or ds.report.date_max,
                       lapse_days=s.lapse_days)
    print(f"Follow-ups: {len(calls):,} customers; " + ", ".join(
        f"{n:,} {status}" for status, n in calls["status"].value_counts().items()))
    if args.out:
        write_table(args.out, calls, lang=args.lang, currency=currency(s, ds.report.currency))
        _wrote(len(calls), "customers", args.out)
    return 0


def _fit_and_check(ds, s: Settings):
    """The fit to predict with, the holdout check (or None) and warnings.

    With a calibration end E: one fit on the orders up to E, checked against the orders in the
    horizon after E when there are any. Without: the fit on the orders up to the as-of date, and
    a separate check with the last third of the data held out.
    """
    unit, E = s.forecast_unit, s.forecast_calibration_end
    notes, holdout = [], None
    try:
        end = E + timedelta(days=round(s.forecast_horizon * UNITS[unit])) if E else s.as_of
        holdout = holdout_check(ds.con, E, unit, holdout_end=end, since=s.since)
    except PredictError as exc:
        if E is not None and exc.code != "no_holdout":
            raise
        notes.append(Note(exc.code, ("No holdout check: " if E is None else "") + str(exc), exc.params))
    if E is not None and holdout is not None:
        return holdout.fit, holdout, notes
    E = E or s.as_of or ds.con.execute("SELECT max(order_date) FROM lines").fetchone()[0]
    fit = fit_models(customer_summary(ds.con, E, unit, since=s.since), E, unit)
    return fit, holdout, notes


def run_predict(args, s: Settings) -> int:
    ds = load(args, s)
    fit, holdout, notes = _fit_and_check(ds, s)
    unit, horizon, rate = s.forecast_unit, s.forecast_horizon, s.forecast_discount_rate
    table = predict(fit, horizon, rate)
    bg, gg, n = fit.bgnbd, fit.gamma_gamma, len(fit.summary)
    print(f"Predictions from {fit.calibration_end}, fitted on the orders of {n:,} customers up to that date "
          f"(unit: {unit}; horizon {horizon:g} {unit}s; discount rate {rate:g} per {unit})")
    print(f"Purchase model (BG/NBD): r {bg.r:.4f}  alpha {bg.alpha:.4f}  a {bg.a:.4f}  b {bg.b:.4f}")
    if gg:
        print(f"Spend model (Gamma-Gamma): p {gg.p:.4f}  q {gg.q:.4f}  v {gg.v:.4f}  ({gg.customers:,} repeat "
              f"buyers; correlation of frequency and order value {fit.spend_frequency_correlation:.2f})")
    if holdout is not None:
        h = holdout
        share = h.error_share
        print(f"\nHoldout check: fitted on the orders up to {h.calibration_end}, compared with "
              f"{h.calibration_end + timedelta(days=1)} to {h.holdout_end} ({h.length:g} {unit}s):")
        print(f"  predicted {h.predicted_orders:,.0f} orders, actual {h.actual_orders:,}"
              + (f" ({abs(share):.1%} {'over' if share > 0 else 'under'})" if share == share else "")
              + f"; per customer: correlation {h.correlation:.3f}, mean absolute error {h.mae:.3f}")
        if h.new_customers:
            print(f"  ({h.new_customers:,} new customers in the holdout with {h.new_customer_orders:,} orders are "
                  "not part of the check)")
        _show(h.by_frequency)
    print(f"\nNext {horizon:g} {unit}s: {table['expected_orders'].sum():,.1f} orders expected"
          + (f", spend {table['expected_spend'].sum():,.2f}, lifetime value {table['clv'].sum():,.2f}" if gg else "")
          + f"; {int((table['p_alive'] >= 0.5).sum()):,} of {n:,} customers likely active (P(alive) >= 0.5)")
    warnings = [*fit.warnings, *notes]
    for w in warnings:
        print(f"Warning: {w.message}")
    if args.out:
        out = table[list(PREDICTION_COLUMNS)]
        if holdout is not None and holdout.fit is fit:
            out = out.assign(actual_orders=holdout.customers["actual_orders"].to_numpy())
        write_table(args.out, out, lang=args.lang, currency=currency(s, ds.report.currency))
        _wrote(len(out), "customers", args.out)
    if args.report:
        report = {"calibration_end": fit.calibration_end.isoformat(), "unit": unit, "horizon": horizon,
                  "discount_rate": rate, "customers": n, **fit.parameters(),
                  "holdout": holdout.figures() if holdout is not None else None,
                  "warnings": [w.to_dict() for w in warnings]}
        with open(args.report, "w", encoding="utf-8") as fh:
            json.dump(report, fh, ensure_ascii=False, indent=2, default=str, allow_nan=False)
        print(f"Report written to {args.report}")
    return 0


def run_metrics(args, s: Settings) -> int:
    """The per-customer table of the order lines, by DuckDB or Spark, to a Parquet file."""
    if args.engine == "spark":
        if importlib.util.find_spec("pyspark") is None:
            raise ValueError(install_hint())
        if not args.files and not args.table:
            raise ValueError("Name the order lines: Parquet files or globs, CSV files, or --table db.orders.")
        from .spark import spark_metrics, spark_session

        spark = spark_session(args.master)
        result = spark_metrics(spark, args.files, table=args.table, mapping=s.mapping, as_of=s.as_of,
                               since=s.since, date_order=s.date_order, drop_duplicates=bool(s.drop_duplicates),
                               customers=args.customers, interactions=args.interactions)
        metrics, report, start, as_of = result.metrics, result.report, result.window_start, result.as_of
        if args.rejected:
            result.rejected.write.mode("overwrite").parquet(args.rejected)
        source = args.table or ", ".join(args.files)
    else:
        if args.table or len(args.files) != 1:
            raise ValueError("The DuckDB engine reads one orders file; lakes and tables need --engine spark.")
        args.file = args.files[0]
        ds = load(args, s)
        start, as_of = window_bounds(ds.con, s.as_of, s.since)
        metrics, report, source = customer_metrics(ds.con, as_of=as_of, since=start), ds.report, args.file
        if args.rejected:
            Path(args.rejected).mkdir(parents=True, exist_ok=True)
            rejected = ds.rejected_rows().astype({c: "string" for c in ds.headers})
            rejected.insert(0, "source_file", str(Path(args.file).resolve()))
            rejected[["source_file", "row", "reason", *ds.headers]].to_parquet(
                Path(args.rejected) / "rejected.parquet", index=False)
    if args.engine == "spark":
        print("\n".join(report.lines()) + "\n")
    write_customer_table(metrics, args.out, engine=args.engine, as_of=as_of, window_start=start,
                         source=source, report=report)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as fh:
            json.dump(asdict(report), fh, ensure_ascii=False, indent=2, default=str)
    _wrote(len(metrics), "customers", args.out)
    return 0


COMMANDS = {"tier": run_tier, "metrics": run_metrics, "migrate": run_migrate, "churn": run_churn, "followups": run_followups,
            "predict": run_predict}


def message(exc: BaseException) -> str:
    """The one sentence the command line prints for an error that stops it."""
    if isinstance(exc, OSError) and not isinstance(exc, duckdb.Error) and exc.filename is not None:
        return f"Cannot use the file {exc.filename}: {(exc.strerror or str(exc)).rstrip('.')}."
    if isinstance(exc, (MemoryError, duckdb.OutOfMemoryException)):
        return "There is not enough memory to process this file."
    if isinstance(exc, duckdb.Error):
        return f"The data could not be processed ({str(exc).splitlines()[0]})."
    return str(exc)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args, settings_from(args))
    except (IngestError, ValueError, OSError, MemoryError, duckdb.Error) as exc:
        print(f"error: {message(exc)}", file=sys.stderr)
        return 2
