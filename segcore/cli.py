"""Command line: ``python -m segcore tier orders.csv --out tiers.csv`` (and migrate, churn, followups)."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from .export import write_export
from .headers import CANONICAL_FIELDS
from .ingest import IngestError, load_customers, load_interactions, load_orders
from .metrics import customer_metrics
from .tiers import DEFAULT_CUTS, TierRules, assign_tiers, tier_summary


def _pairs(text: str, what: str) -> list[tuple[str, str]]:
    out = []
    for pair in text.split(",") if isinstance(text, str) else text:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{what} takes NAME=VALUE pairs; got {pair!r}.")
        out.append((key.strip(), value.strip()))
    return out


def _mapping(pairs: list[str]) -> dict[str, str]:
    out = {}
    for field, column in _pairs(pairs, "--map"):
        if field not in CANONICAL_FIELDS:
            raise ValueError(f"--map takes FIELD=COLUMN with FIELD one of {', '.join(CANONICAL_FIELDS)}; "
                             f"got {field!r}.")
        out[field] = column
    return out


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2024-12-31") from None


def _data_options() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("file", help="orders file: CSV/TSV (UTF-8, GBK...), .xlsx/.xls or .parquet")
    p.add_argument("--customers", help="optional customers file (prospects and attributes)")
    p.add_argument("--interactions", help="optional interactions file (customer, date, type)")
    p.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                   help="use COLUMN for FIELD (repeatable), e.g. --map amount=实付金额")
    p.add_argument("--date-order", choices=["dmy", "mdy"],
                   help="read a/b/yyyy dates day-first or month-first (default: from the data)")
    p.add_argument("--drop-duplicates", action="store_true",
                   help="reject exact duplicate rows instead of keeping them")
    p.add_argument("--as-of", type=_date, help="as-of date (default: latest order date)")
    p.add_argument("--since", type=_date, help="ignore orders before this date")
    p.add_argument("--method", choices=["pareto", "computed", "score"], default="pareto",
                   help="pareto: cut by shares (default); computed: data-driven ABC limits; "
                        "score: weighted RFM composite score")
    p.add_argument("--by", choices=["value", "count"], default="value",
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
    tier = sub.add_parser("tier", parents=[data], help="ingest an orders file and tier its customers")
    tier.add_argument("--rejected", help="write the rejected rows with their reason (.csv)")
    return parser


def tier_rules(args) -> TierRules:
    """The TierRules the options describe."""
    labels = tuple(x.strip() for x in args.labels.split(",")) if args.labels else None
    levels = args.levels or (len(labels) if labels else 3)
    labels = labels or tuple("ABCDE"[:levels])
    if len(labels) != levels:
        raise ValueError(f"--levels {levels} needs {levels} labels; got {len(labels)}.")
    if args.cuts:
        cuts = tuple(float(x) for x in args.cuts.split(","))
    else:
        cuts = DEFAULT_CUTS[levels]
        if args.a_share is not None or args.b_share is not None:
            if levels != 3:
                raise ValueError("--a-share and --b-share are for three levels; use --cuts.")
            cuts = (args.a_share or cuts[0], args.b_share or cuts[1])
    weights = tuple((k, float(v)) for k, v in _pairs(args.weights, "--weights")) if args.weights else ()
    return TierRules(labels=labels, cuts=cuts, by=args.by, method=args.method, weights=weights)


def load(args):
    """The dataset the options name, with its optional files attached; prints the ingest report."""
    ds = load_orders(args.file, _mapping(args.map), date_order=args.date_order,
                     drop_duplicates=args.drop_duplicates)
    print("\n".join(ds.report.lines()))
    if args.customers:
        report = load_customers(ds, args.customers)
        print(f"Customers file: {report['rows_used']:,} customers, {report['prospects']:,} prospects")
    if args.interactions:
        report = load_interactions(ds, args.interactions)
        print(f"Interactions file: {report['rows_used']:,} interactions")
    return ds


def run_tier(args) -> int:
    rules = tier_rules(args)
    ds = load(args)
    if args.rejected:
        ds.rejected_rows().to_csv(args.rejected, index=False, encoding="utf-8-sig")
        print(f"Rejected rows written to {args.rejected}")
    tiered = assign_tiers(customer_metrics(ds.con, as_of=args.as_of, since=args.since), rules)
    summary = tier_summary(tiered, rules.labels)
    print()
    print(summary.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    if args.out:
        write_export(tiered.sort_values("rank"), args.out, summary, rules.labels)
        print(f"\n{len(tiered):,} customers written to {args.out}")
    return 0


COMMANDS = {"tier": run_tier}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (IngestError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
