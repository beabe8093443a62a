"""The per-customer metrics on Apache Spark: order lines from a lake, the customer table back.

The work that grows with order lines (reading, the parse rules, the per-customer aggregation) runs
on Spark; its result is the same per-customer table DuckDB computes (:func:`segcore.customer_metrics`),
which every later step (scores, tiers, churn, the app) reads. One definition of each piece:

- the parse rules are the Spark twins in :data:`segcore.ingest.RULES` (Spark SQL functions
  ``seg_<name>``), applied in the same order with the same rejection reasons;
- the metrics are :func:`segcore.metrics.metrics_sql` rendered by :func:`segcore.portable.to_spark`.

Sources: Parquet files or globs (a lake folder), a catalog table (``table="db.orders"``), CSV files
(UTF-8, RFC 4180). Typed columns (DATE / TIMESTAMP, numbers) skip the text parse; text columns get
the parse rules. Rejected rows keep their source file and row number (1 = the first row under a
CSV header, the first row of a Parquet file). The optional customers and interactions files are
small and read by the DuckDB engine (every format it reads), then joined on Spark.

Needs the ``spark`` extra (pyspark, Java 17+); this module imports pyspark when a session is made.

Known differences from DuckDB (tests/test_spark.py lists them with examples): a date with a year of
five digits or more is "unparseable date" on Spark and "date out of range" on DuckDB; Spark reads
Parquet timestamps in the session's time zone (set to UTC here). CSV on Spark is comma-separated
UTF-8, and a row that does not split into the header's columns is padded or cut by Spark's reader
where DuckDB rejects it as a "malformed row"; a table's rows are numbered by Spark's row ids, not
by position (lakes are Parquet, whose rows keep their position).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from .ingest import (_SLASHED, RULES, SPARK_PARAMS, TEXT_FIELDS, Dataset, IngestReport, Limits, _call, _macro,
                     _order_of, load_customers, load_interactions, reason_sql, resolve_mapping)
from .metrics import AMOUNT_STEPS, FILLED_COLUMNS, amount_steps, metrics_sql

__all__ = ["SparkResult", "install_hint", "register_rules", "spark_metrics", "spark_session"]

#: Spark date patterns of the a/b/yy and a/b/yyyy shapes per date order.
_JAVA_ORDER = {"dmy": ("d/M/yy", "d/M/yyyy"), "mdy": ("M/d/yy", "M/d/yyyy")}


def install_hint() -> str:
    """The one sentence saying what ``--engine spark`` needs when pyspark is missing."""
    return ('The Spark engine needs pyspark and Java 17: install them with pip install -e ".[spark]" '
            "(and openjdk-17-jre-headless).")


def spark_session(master: str = "local[*]", *, shuffle_partitions: int | None = None):
    """A Spark session for ``master`` (``local[*]``, ``spark://host:7077``, ``yarn``, or a Spark
    Connect ``sc://`` URL), UTC session time, console progress off."""
    from pyspark.sql import SparkSession

    builder = (SparkSession.builder.remote(master) if master.startswith("sc://")
               else SparkSession.builder.master(master).config("spark.ui.showConsoleProgress", "false"))
    builder = builder.appName("segcore").config("spark.sql.session.timeZone", "UTC")
    if shuffle_partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    spark = builder.getOrCreate()
    if not master.startswith("sc://"):
        spark.sparkContext.setLogLevel("ERROR")
    return spark


def register_rules(spark) -> None:
    """Create the Spark twins of the parse rules as temporary SQL functions ``seg_<name>``."""
    for name, rule in RULES.items():
        if rule.spark is None:
            continue
        params = ", ".join(f"{p} {SPARK_PARAMS.get(p, 'STRING')}" for p in rule.params)
        spark.sql(f"CREATE OR REPLACE TEMPORARY FUNCTION {_macro(name)}({params}) "
                  f"RETURNS {rule.spark_type} RETURN {rule.spark}")


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


@dataclass
class SparkResult:
    """What :func:`spark_metrics` returns: the customer table, the ingest report, the window and the
    rejected rows (a Spark DataFrame: ``source_file``, ``row``, ``reason``, the file's columns)."""

    metrics: pd.DataFrame
    report: IngestReport
    window_start: date
    as_of: date
    rejected: object
    side_reports: dict


def _read(spark, paths: list[str], table: str | None):
    """The source as a DataFrame with ``_file`` and ``_row``, and its name for the report."""
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    if table:
        df = spark.table(table)
        return df.withColumn("_file", F.lit(table)).withColumn("_row", F.monotonically_increasing_id() + 1), table, "table"
    if all(re.search(r"\.(csv|tsv|txt)$", p, re.IGNORECASE) for p in paths):
        df = (spark.read.option("header", True).option("multiLine", True).option("escape", '"')
              .option("mode", "PERMISSIVE").option("inferSchema", False).csv(paths))
        df = df.withColumn("_file", F.col("_metadata.file_path"))
        order = Window.partitionBy("_file").orderBy(F.monotonically_increasing_id())
        return df.withColumn("_row", F.row_number().over(order)), ", ".join(paths), "csv"
    df = spark.read.parquet(*paths)
    df = (df.withColumn("_file", F.col("_metadata.file_path"))
          .withColumn("_row", F.col("_metadata.row_index") + 1))
    return df, ", ".join(paths), "parquet"


def _kind(dtype) -> str:
    name = type(dtype).__name__
    if name in ("DateType", "TimestampType", "TimestampNTZType"):
        return "date"
    if name in ("DoubleType", "FloatType", "DecimalType", "IntegerType", "LongType", "ShortType", "ByteType"):
        return "number"
    return "text"


def spark_metrics(spark, paths: list[str] | None = None, *, table: str | None = None,
                  mapping: dict[str, str] | None = None, as_of: date | None = None, since: date | None = None,
                  date_order: str | None = None, drop_duplicates: bool = False, limits: Limits | None = None,
                  customers=None, interactions=None) -> SparkResult:
    """Read the order lines on Spark, parse them with the Spark twins of the rules and compute the
    per-customer metrics with the portable metrics SQL.

    Parameters
    ----------
    spark : a session (:func:`spark_session`).
    paths : Parquet files or globs, or CSV files (all of one kind); or ``table``: a catalog table.
    mapping : ``{field: column}`` overriding the guessed mapping (as :func:`segcore.load_orders`).
    as_of, since, date_order, drop_duplicates, limits : as :func:`segcore.load_orders` and
        :func:`segcore.customer_metrics`.
    customers, interactions : optional small files (any format the DuckDB engine reads).

    Returns
    -------
    SparkResult; ``metrics`` has the columns and values :func:`segcore.customer_metrics` gives
    for the same lines.
    """
    from pyspark.sql import functions as F

    from .portable import to_spark

    limits = limits or Limits()
    register_rules(spark)
    raw, source_name, kind = _read(spark, list(paths or []), table)
    headers = [c for c in raw.columns if c not in ("_file", "_row", "_corrupt_record")]
    mapping = resolve_mapping(headers, mapping, source_name)
    types = {c: _kind(raw.schema[c].dataType) for c in headers}
    cells = {h: f"c{i}" for i, h in enumerate(headers)}
    raw = raw.select(*[F.col(_quote(h)).alias(cells[h]) for h in headers], "_file", "_row")
    raw.createOrReplaceTempView("seg_raw")

    def text(field: str) -> str:
        c = cells[mapping[field]]
        return f"CAST({c} AS STRING)" if types[mapping[field]] != "text" else c

    d = mapping["order_date"]
    if types[d] == "date":
        order = None
        order_date, date_blank = f"CAST({cells[d]} AS DATE)", f"{cells[d]} IS NULL"
    else:
        v = cells[d]
        evidence = spark.sql(f"""
            WITH m AS (SELECT regexp_extract(seg_trim({v}), r'{_SLASHED}', 1) AS a,
                              regexp_extract(seg_trim({v}), r'{_SLASHED}', 2) AS b
                       FROM seg_raw WHERE NOT seg_trim({v}) RLIKE r'^\\d{{3,}}')
            SELECT count_if(TRY_CAST(a AS INT) > 12), count_if(TRY_CAST(b AS INT) > 12), count_if(a <> '')
            FROM m""").first()
        order, ambiguous = (date_order, False) if date_order else _order_of(tuple(evidence))
        short, long = _JAVA_ORDER[order or "dmy"]
        order_date = (f"COALESCE({_call('iso date', {'v': v})}, CASE WHEN {v} IS NOT NULL THEN "
                      f"{_call('any date', {'v': v, 'short': repr(short), 'long': repr(long)})} END)")
        date_blank = _call("blank", {"v": v})
    if "amount" in mapping:
        amount_fields = ["amount"]
    elif "quantity" in mapping and "unit_price" in mapping:
        amount_fields = ["quantity", "unit_price"]
    else:
        amount_fields = []
    values, blanks = [], []
    for f in amount_fields:
        c = cells[mapping[f]]
        if types[mapping[f]] == "number":
            values.append(f"CAST({c} AS DOUBLE)")
            blanks.append(f"{c} IS NULL")
        else:
            values.append(_call("amount", {"v": c}))
            blanks.append(_call("blank", {"v": c}))
    amount = " * ".join(values) or "CAST(NULL AS DOUBLE)"
    amount_blank = " OR ".join(blanks) or "true"
    mapped = [f for f in TEXT_FIELDS if f in mapping]
    fields = "".join(f", {_call('text', {'v': text(f)})} AS {f}" for f in mapped)
    all_cells = ", ".join(cells.values())
    reason = reason_sql("spark", bool(amount_fields), drop_duplicates)
    params = {"first_date": limits.first_date, "last_date": limits.last_date, "max_amount": limits.max_amount}
    parsed = spark.sql(f"""
        WITH v AS (
            SELECT _file, _row, {_call('id', {'v': text('customer_id')})} AS customer_id,
                   {order_date} AS order_date, {date_blank} AS date_blank,
                   {amount} AS amount, {amount_blank} AS amount_blank{fields},
                   {f"row_number() OVER (PARTITION BY {all_cells} ORDER BY _file, _row) > 1"
                    if drop_duplicates else "false"} AS is_copy,
                   {all_cells}
            FROM seg_raw)
        SELECT *, {reason} AS reason FROM v""", args=params).cache()
    parsed.createOrReplaceTempView("seg_parsed")
    missing = "".join(f", CAST(NULL AS STRING) AS {f}" for f in TEXT_FIELDS if f not in mapped)
    spark.sql(f"""SELECT customer_id, order_date, amount{''.join(', ' + f for f in mapped)}{missing},
                         _row AS _line
                  FROM seg_parsed WHERE reason IS NULL""").createOrReplaceTempView("lines")
    report = _report(spark, mapping, amount_fields, drop_duplicates, kind, order, date_order, all_cells,
                     ambiguous if types[d] != "date" and not date_order else False)
    rejected = spark.sql(f"""SELECT _file AS source_file, _row AS row, reason,
                                    {', '.join(f'CAST({c} AS STRING) AS {_quote(h)}' for h, c in cells.items())}
                             FROM seg_parsed WHERE reason IS NOT NULL""")

    first, last = spark.sql("SELECT min(order_date), max(order_date) FROM lines").first()
    as_of, start = as_of or last, since or first
    if start > as_of:
        raise ValueError(f"The window start {start} is after the as-of date {as_of}.")
    side_reports, customer_columns, attribute_names = {}, None, {}
    if customers is not None or interactions is not None:
        side_reports, customer_columns, attribute_names = _side_tables(spark, report, customers, interactions)
    probes = ", ".join(f"count({c}) > 0" for c in FILLED_COLUMNS[:-1])
    filled = dict(zip(FILLED_COLUMNS, spark.sql(
        f"SELECT {probes}, count(*) > count(order_id) FROM lines").first()))
    sql, params = metrics_sql(filled, start, as_of, customer_columns=customer_columns,
                              attribute_names=attribute_names, interactions=interactions is not None)
    metrics = spark.sql(to_spark(sql), args=params).toPandas().rename(columns=attribute_names)
    return SparkResult(metrics, report, start, as_of, rejected, side_reports)


def _report(spark, mapping, amount_fields, drop_duplicates, kind, order, date_order, all_cells,
            ambiguous) -> IngestReport:
    """The ingest report from ``seg_parsed``, as :func:`segcore.load_orders` makes it."""
    row = spark.sql(f"""
        SELECT count(*), count_if(reason IS NULL), count_if(reason IS NULL AND amount < 0),
               COALESCE(sum(CASE WHEN reason IS NULL AND amount < 0 THEN {amount_steps('amount')} END), 0),
               min(CASE WHEN reason IS NULL THEN order_date END), max(CASE WHEN reason IS NULL THEN order_date END),
               count(DISTINCT CASE WHEN reason IS NULL THEN customer_id END)
        FROM seg_parsed""").first()
    by_reason = dict(spark.sql("SELECT reason, count(*) FROM seg_parsed WHERE reason IS NOT NULL "
                               "GROUP BY reason").collect())
    duplicates = spark.sql(f"SELECT COALESCE(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM seg_raw "
                           f"GROUP BY {all_cells})").first()[0]
    reasons = [name for name, rule in RULES.items() if rule.reason]
    return IngestReport(
        rows_read=row[0], rows_used=row[1], rejected={r: by_reason[r] for r in reasons if r in by_reason},
        returns_count=row[2], returns_sum=float(row[3]) / AMOUNT_STEPS, duplicate_rows=int(duplicates),
        duplicates_dropped=drop_duplicates, date_min=row[4], date_max=row[5], customers=row[6],
        mapping=dict(mapping),
        amount_source={1: "amount", 2: "quantity x unit_price"}.get(len(amount_fields), "none"),
        date_order=order, date_order_ambiguous=ambiguous, file_format=kind, encoding=None)


def _side_tables(spark, report: IngestReport, customers, interactions):
    """Read the customers / interactions files with the DuckDB engine (beside the customer ids
    Spark found, for the prospect count) and hand the parsed tables to Spark."""
    con = duckdb.connect()
    con.register("seg_ids", spark.sql("SELECT DISTINCT customer_id FROM lines").toPandas())
    con.execute("CREATE TABLE lines AS SELECT * FROM seg_ids")
    ds = Dataset(con=con, headers=[], report=report)
    side_reports, customer_columns, names = {}, None, {}
    if customers is not None:
        side_reports["customers"] = load_customers(ds, customers)
        customer_columns = [r[0] for r in con.execute("DESCRIBE customers").fetchall() if r[0] != "customer_id"]
        names = dict(con.execute("SELECT col, header FROM customer_attribute_names").fetchall())
        _to_spark(spark, con, "customers")
    if interactions is not None:
        side_reports["interactions"] = load_interactions(ds, interactions)
        _to_spark(spark, con, "interactions")
    con.close()
    return side_reports, customer_columns, names


def _to_spark(spark, con, name: str) -> None:
    df = con.execute(f"SELECT * FROM {name}").df()
    schema = ", ".join(f"{_quote(c)} {'DATE' if c == 'date' else 'STRING'}" for c in df.columns)
    rows = [tuple(None if pd.isna(v) else (v.date() if hasattr(v, "date") else v) for v in r)
            for r in df.itertuples(index=False)]
    spark.createDataFrame(rows, schema=schema).createOrReplaceTempView(name)
