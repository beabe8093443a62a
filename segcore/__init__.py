"""segcore: the customer-tiering engine (DuckDB SQL, no UI).

Typical use::

    ds = segcore.load_orders("orders.csv")            # read once; ds.report accounts for every row
    metrics = segcore.customer_metrics(ds.con)         # one row per customer
    metrics, cuts = segcore.add_scores(metrics)        # + RFM scores, segment, composite score
    tiered = segcore.assign_tiers(metrics, segcore.TierRules(cuts=(0.8, 0.95)))
    summary = segcore.tier_summary(tiered, ("A", "B", "C"))

Predictions (who is still a customer, what they will buy, what they are worth)::

    summary = segcore.customer_summary(ds.con, calibration_end=as_of, unit="week")
    fit = segcore.fit_models(summary, as_of, "week")     # BG/NBD + Gamma-Gamma, fitted once
    pred = segcore.predict(fit, horizon=26, discount_rate=0.002)   # any horizon, no refit
    check = segcore.holdout_check(ds.con)                  # fit on 2/3 of the time span, test on the rest
"""

from .checks import mapping_checks
from .export import (EXPORT_COLUMNS, EXPORT_LANGS, MONEY_COLUMNS, export_columns, migration_sheets, neutralise,
                     tier_sheets, to_csv_bytes, to_excel_bytes, write_export)
from .forecast import (PREDICTION_COLUMNS, Cohorts, Holdout, ModelFit, cohort_table, customer_summary,
                       default_calibration_end, fit_models, forecast_summary, forecast_table, holdout_check,
                       palive_vs_churn, predict, value_lists)
from .headers import CANONICAL_FIELDS, guess_mapping
from .ingest import (Dataset, IngestError, IngestReport, load_customers, load_interactions, load_orders,
                     parse_loaded, read_table)
from .metrics import METRIC_COLUMNS, customer_metrics, window_bounds
from .models import PredictError
from .scores import add_scores
from .settings import Settings, load_settings, save_settings
from .tiers import DEFAULT_CUTS, TierRules, assign_tiers, suggest_cuts, tier_summary

__all__ = [
    "CANONICAL_FIELDS",
    "DEFAULT_CUTS",
    "EXPORT_COLUMNS",
    "EXPORT_LANGS",
    "MONEY_COLUMNS",
    "METRIC_COLUMNS",
    "PREDICTION_COLUMNS",
    "Cohorts",
    "Dataset",
    "Holdout",
    "IngestError",
    "IngestReport",
    "ModelFit",
    "PredictError",
    "Settings",
    "TierRules",
    "add_scores",
    "assign_tiers",
    "cohort_table",
    "customer_metrics",
    "customer_summary",
    "default_calibration_end",
    "export_columns",
    "fit_models",
    "forecast_summary",
    "forecast_table",
    "guess_mapping",
    "holdout_check",
    "load_customers",
    "load_interactions",
    "load_orders",
    "mapping_checks",
    "load_settings",
    "migration_sheets",
    "neutralise",
    "palive_vs_churn",
    "parse_loaded",
    "predict",
    "read_table",
    "save_settings",
    "suggest_cuts",
    "tier_sheets",
    "tier_summary",
    "to_csv_bytes",
    "to_excel_bytes",
    "value_lists",
    "window_bounds",
    "write_export",
]
