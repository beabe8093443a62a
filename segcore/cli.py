"""Command line for scheduled runs.

``python -m segcore tier orders.csv --out tiers.csv`` and the ``migrate``, ``churn`` and
``followups`` commands. ``--config settings.json`` (saved from the app) gives the same rules as the
app; options given on the command line override it.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import date

import duckdb

from .dynamics import RISK_LEVELS, churn_risk, migrate
from .export import write_export, write_table
from .headers import CANONICAL_FIELDS
from .ingest import IngestError, load_customers, load_interactions, load_orders
from .metrics import customer_metrics
from .playbook import follow_ups
from .scores import add_scores
from .settings import Settings, load_settings
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
                         ("migration_period", "period")):
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


def tiered_customers(ds, s: Settings):
    """Per-customer metrics, scores, RFM segment, composite score and tier, as the settings say."""
    scored, _ = add_scores(customer_metrics(ds.con, as_of=s.as_of, since=s.since), n=s.score_points,
                           custom_cuts=s.custom_cut_points or None, weights=s.weights or None,
                           rules=s.segment_rules or None)
    return assign_tiers(scored, s.tier_rules())


def _show(table) -> None:
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))


def _wrote(n: int, what: str, path) -> None:
    print(f"\n{n:,} {what} written to {path}")


def run_tier(args, s: Settings) -> int:
    ds = load(args, s)
    if args.rejected:
        write_table(args.rejected, ds.rejected_rows())
        print(f"Rejected rows written to {args.rejected}\n")
    tiered = tiered_customers(ds, s)
    summary = tier_summary(tiered, s.labels)
    _show(summary)
    if args.out:
        write_export(tiered, args.out, summary, s.labels)
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
        sheets = {"Customers": mig.customers, "Matrix customers": mig.customers_matrix.reset_index(),
                  "Matrix revenue": mig.revenue_matrix.reset_index(),
                  **{m.capitalize(): mig.list(m) for m in ("upgraded", "downgraded", "new", "lost")}}
        write_table(args.out, mig.customers, sheets)
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
        write_table(args.out, risk)
        _wrote(len(risk), "customers at risk", args.out)
    return 0


def run_followups(args, s: Settings) -> int:
    ds = load(args, s)
    calls = follow_ups(tiered_customers(ds, s), s.playbook_rows(), as_of=s.as_of or ds.report.date_max)
    print(f"Follow-ups: {len(calls):,} customers; " + ", ".join(
        f"{n:,} {status}" for status, n in calls["status"].value_counts().items()))
    if args.out:
        write_table(args.out, calls)
        _wrote(len(calls), "customers", args.out)
    return 0


COMMANDS = {"tier": run_tier, "migrate": run_migrate, "churn": run_churn, "followups": run_followups}


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
