"""segcore: the customer-tiering engine (DuckDB SQL, no UI).

Typical use::

    ds = segcore.load_orders("orders.csv")            # read once; ds.report accounts for every row
    metrics = segcore.customer_metrics(ds.con)         # one row per customer
    metrics, cuts = segcore.add_scores(metrics)        # + RFM scores, segment, composite score
    tiered = segcore.assign_tiers(metrics, segcore.TierRules(cuts=(0.8, 0.95)))
    summary = segcore.tier_summary(tiered, ("A", "B", "C"))
"""

from .export import EXPORT_COLUMNS, export_columns, neutralise, tier_sheets, to_csv_bytes, to_excel_bytes, write_export
from .headers import CANONICAL_FIELDS, guess_mapping
from .ingest import (Dataset, IngestError, IngestReport, load_customers, load_interactions, load_orders,
                     parse_loaded, read_table)
from .metrics import METRIC_COLUMNS, customer_metrics, window_bounds
from .scores import add_scores
from .settings import Settings, load_settings, save_settings
from .tiers import DEFAULT_CUTS, TierRules, assign_tiers, suggest_cuts, tier_summary

__all__ = [
    "CANONICAL_FIELDS",
    "DEFAULT_CUTS",
    "EXPORT_COLUMNS",
    "METRIC_COLUMNS",
    "Dataset",
    "IngestError",
    "IngestReport",
    "Settings",
    "TierRules",
    "add_scores",
    "assign_tiers",
    "customer_metrics",
    "export_columns",
    "guess_mapping",
    "load_customers",
    "load_interactions",
    "load_orders",
    "load_settings",
    "neutralise",
    "parse_loaded",
    "read_table",
    "save_settings",
    "suggest_cuts",
    "tier_sheets",
    "tier_summary",
    "to_csv_bytes",
    "to_excel_bytes",
    "window_bounds",
    "write_export",
]
