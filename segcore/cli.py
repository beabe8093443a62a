"""Command line: ``python -m segcore tier orders.csv --out tiers.csv``."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from .export import write_export
from .headers import CANONICAL_FIELDS
from .ingest import IngestError, load_orders
from .metrics import customer_metrics
from .tiers import TierRules, assign_tiers, tier_summary


def _mapping(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or field.strip() not in CANONICAL_FIELDS:
            raise ValueError(f"--map takes FIELD=COLUMN with FIELD one of {', '.join(CANONICAL_FIELDS)}; "
                             f"got {pair!r}.")
        out[field.strip()] = column
    return out


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2024-12-31") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m segcore",
                                     description="Customer tiering (ABC) from an orders file.")
    sub = parser.add_subparsers(dest="command", required=True)
    tier = sub.add_parser("tier", help="ingest an orders file and tier its customers")
    tier.add_argument("file", help="orders file: CSV/TSV (UTF-8, GBK...), .xlsx/.xls or .parquet")
    tier.add_argument("--out", help="write one row per customer: .csv, .xlsx or .parquet")
    tier.add_argument("--rejected", help="write the rejected rows with their reason (.csv)")
    tier.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                      help="use COLUMN for FIELD (repeatable), e.g. --map amount=实付金额")
    tier.add_argument("--date-order", choices=["dmy", "mdy"],
                      help="read a/b/yyyy dates day-first or month-first (default: from the data)")
    tier.add_argument("--drop-duplicates", action="store_true",
                      help="reject exact duplicate rows instead of keeping them")
    tier.add_argument("--as-of", type=_date, help="as-of date (default: latest order date)")
    tier.add_argument("--since", type=_date, help="ignore orders before this date")
    tier.add_argument("--by", choices=["value", "count"], default="value",
                      help="cut by share of spend (value, default) or share of customers (count)")
    tier.add_argument("--a-share", type=float, default=0.80, help="A ends at this share (0.80)")
    tier.add_argument("--b-share", type=float, default=0.95, help="B ends at this share (0.95)")
    return parser


def run_tier(args) -> int:
    rules = TierRules(cuts=(args.a_share, args.b_share), by=args.by)
    ds = load_orders(args.file, _mapping(args.map), date_order=args.date_order,
                     drop_duplicates=args.drop_duplicates)
    print("\n".join(ds.report.lines()))
    if args.rejected:
        ds.rejected_rows().to_csv(args.rejected, index=False, encoding="utf-8-sig")
        print(f"Rejected rows written to {args.rejected}")
    metrics = customer_metrics(ds.con, as_of=args.as_of, since=args.since)
    tiered = assign_tiers(metrics, rules)
    summary = tier_summary(tiered, rules.labels)
    print()
    print(summary.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    if args.out:
        write_export(tiered, args.out, summary, rules.labels)
        print(f"\n{len(tiered):,} customers written to {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run_tier(args)
    except (IngestError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
