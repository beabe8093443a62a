"""The Spark engine gives the DuckDB engine's per-customer table, cell for cell (marker ``spark``).

One Spark session for the run (``local[2]``, 2 shuffle partitions); skipped with the reason when
pyspark or Java is missing. Known differences between the engines are listed in ``KNOWN`` (and
the README): each is asserted to be exactly as described, so a change in either engine shows.
"""

import math
import shutil

import duckdb
import pyarrow.parquet as pq
import pytest

import segcore
from segcore.customer_table import write_customer_table
from segcore.ingest import _MACROS, RULES, _macro

from .conftest import CDNOW, SAMPLE, needs_cdnow

pytestmark = pytest.mark.spark

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[test,spark]')")
if shutil.which("java") is None:
    pytest.skip("Java is not installed (Spark needs Java 17: apt-get install openjdk-17-jre-headless)",
                allow_module_level=True)

from segcore.spark import register_rules, spark_metrics, spark_session

#: Known differences: a date value -> (the year DuckDB's rules read, Spark's twins'). Outside the
#: plausible dates, so the row is rejected in both engines, for another reason: "date out of range"
#: on DuckDB, "unparseable date" on Spark (Spark's dates end at year 9999). The year 0000 is read
#: alike (a date out of range in both).
KNOWN = {"12024-01-05": (12024, None), "0000-01-05": (0, 0)}


@pytest.fixture(scope="session")
def spark():
    session = spark_session("local[2]", shuffle_partitions=2)
    yield session
    session.stop()


def _table(tmp_path, name, metrics, report, start, as_of, engine):
    path = tmp_path / f"{name}_{engine}.parquet"
    write_customer_table(metrics, path, engine=engine, as_of=as_of, window_start=start, source=name, report={})
    return pq.read_table(path).replace_schema_metadata(None)


def _duckdb(path, customers=None, interactions=None, **kw):
    ds = segcore.load_orders(path, **kw)
    if customers:
        segcore.load_customers(ds, customers)
    if interactions:
        segcore.load_interactions(ds, interactions)
    start, as_of = segcore.window_bounds(ds.con)
    return ds, segcore.customer_metrics(ds.con), start, as_of


def assert_same_tables(tmp_path, name, ds_metrics, start, as_of, result):
    """Both engines' tables written as the customer-table Parquet, compared cell by cell."""
    assert (result.window_start, result.as_of) == (start, as_of)
    duck = _table(tmp_path, name, ds_metrics, None, start, as_of, "duckdb")
    spk = _table(tmp_path, name, result.metrics, None, start, as_of, "spark")
    assert duck.schema == spk.schema
    for column in duck.column_names:
        a, b = duck[column].to_pylist(), spk[column].to_pylist()
        diff = [(i, x, y) for i, (x, y) in enumerate(zip(a, b)) if x != y]
        assert not diff, f"{name}: column {column} differs in {len(diff)} rows, first {diff[:3]}"
    assert duck.num_rows == spk.num_rows


def _same_report(duck, spark_report):
    for field in ("rows_read", "rows_used", "rejected", "returns_count", "returns_sum", "date_min", "date_max",
                  "customers", "mapping", "amount_source", "date_order", "duplicate_rows"):
        assert getattr(duck, field) == getattr(spark_report, field), field


def test_sample_with_customers_and_interactions(spark, tmp_path):
    files = {"customers": SAMPLE / "customers.csv", "interactions": SAMPLE / "interactions.csv"}
    ds, metrics, start, as_of = _duckdb(SAMPLE / "orders.csv", **files)
    result = spark_metrics(spark, [str(SAMPLE / "orders.csv")], **{k: str(v) for k, v in files.items()})
    assert_same_tables(tmp_path, "sample", metrics, start, as_of, result)
    _same_report(ds.report, result.report)
    assert result.side_reports == ds.side_reports
    # the rejected rows: the same rows (by number in the file) for the same reasons
    spark_rows = sorted((r["row"], r["reason"]) for r in result.rejected.collect())
    assert spark_rows == sorted(ds.rejected_rows()[["row", "reason"]].itertuples(index=False, name=None))
    assert {r["source_file"] for r in result.rejected.collect()} == {(SAMPLE / "orders.csv").as_uri().replace("file:///", "file:/")}


def test_typed_parquet_lake_in_two_files_skips_the_text_parse(spark, tmp_path):
    """DATE and DOUBLE columns in a lake folder of two files give the table the CSV gives DuckDB."""
    lake = tmp_path / "lake"
    lake.mkdir()
    con = duckdb.connect()
    for part, cond in enumerate(("<", ">=")):
        con.execute(f"""COPY (SELECT "Order ID", CAST("Order Date" AS DATE) AS "Order Date", "Customer ID", Product,
                                     Category, CAST(Amount AS DOUBLE) AS Amount, Region, City, Channel
                              FROM read_csv($p, all_varchar = true) WHERE "Order Date" {cond} '2025-06-01')
                        TO '{lake / f"part-{part}.parquet"}' (FORMAT parquet)""", {"p": str(SAMPLE / "orders.csv")})
    ds, metrics, start, as_of = _duckdb(SAMPLE / "orders.csv", mapping={"quantity": "", "unit_price": ""})
    result = spark_metrics(spark, [str(lake / "*.parquet")])
    assert_same_tables(tmp_path, "lake", metrics, start, as_of, result)
    assert result.report.rows_used == ds.report.rows_used
    rows = {(r["source_file"].rsplit("/", 1)[1], r["row"]) for r in result.rejected.collect()}
    assert len(rows) == ds.report.rows_rejected and all(n >= 1 for _, n in rows)


@needs_cdnow
def test_cdnow(spark, tmp_path):
    ds, metrics, start, as_of = _duckdb(CDNOW)
    result = spark_metrics(spark, [str(CDNOW)])
    assert_same_tables(tmp_path, "cdnow", metrics, start, as_of, result)
    _same_report(ds.report, result.report)
    assert len(metrics) == 23570


IDS = ["C1", " C1 ", "\u3000C2\u3000", "\u00a0C3", "C4\u202f", "nan", "N/A", "", "C\t5", "-", "C6"]
DATES = ["2024-01-05", "2024-1-5", "05/01/2024", "31/12/1999", "5/1/24", "05/01/97", "01/01/68", "01/01/69",
         "2024.01.05", "20240105", "2024年1月5日", "45000", "45000.5", "2024-01-05 10:00", "2024-01-05T10:00:00Z",
         "2024-01-05 10", "2024", "2024-01", "epoch", "infinity", "0024-01-05", "2024-02-30", " 2024-01-05 ",
         "\u30002024-01-05", "31/12/1999 23:59:59", "13/13/2020", "", "n/a", "29/02/72", "1999/12/31"]
AMOUNTS = ["12.50", " 12 ", "￥1,200.50", "(200.50)", "£-3", "-£3", "3-", "1.234,56 €", "300元", "12,50", "1,2,3",
           "12.5d", "1_000", "+-5", "inf", "nan", "1e3", "0x10", "--5", "-(5)", "\u300012", "12\u00a0", "RMB 5",
           "usd5", "1e400", "", "-", "1.00005", "326.505", "0.00005", "-0.00005", ".5", "5.", "12\t", "1E+3"]


def _same(a, b) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def test_each_rule_twin_gives_the_duckdb_value(spark):
    """Every value rule with a Spark twin, on every tricky value: the same result in both engines."""
    register_rules(spark)
    con = duckdb.connect()
    con.execute(_MACROS)
    values = sorted(set(IDS + DATES + AMOUNTS))
    # "number parts" gives DuckDB a struct and Spark the cleaned text: compared through "amount"
    one_arg = [n for n, r in RULES.items() if r.spark and not r.reason and r.params in (("v",), ("t",), ("d",))
               and n != "number parts"]
    assert {"trim", "missing", "blank", "id", "text", "plain number", "digits", "amount", "iso date", "date part",
            "serial date"} <= set(one_arg)
    spark.createDataFrame([(v,) for v in values], "v STRING").createOrReplaceTempView("seg_values")
    diffs = []
    for name in one_arg:
        spark_out = dict(spark.sql(f"SELECT v, {_macro(name)}(v) FROM seg_values").collect())
        for v in values:
            duck = con.execute(f"SELECT {_macro(name)}($v)", {"v": v}).fetchone()[0]
            if not _same(duck, spark_out[v]):
                diffs.append((name, v, duck, spark_out[v]))
    for short, long, jshort, jlong in (("%d/%m/%y", "%d/%m/%Y", "d/M/yy", "d/M/yyyy"),
                                       ("%m/%d/%y", "%m/%d/%Y", "M/d/yy", "M/d/yyyy")):
        spark_out = dict(spark.sql(f"SELECT v, seg_any_date(v, '{jshort}', '{jlong}') FROM seg_values").collect())
        for v in values:
            duck = con.execute("SELECT seg_any_date($v, $s, $l)", {"v": v, "s": short, "l": long}).fetchone()[0]
            if not _same(duck, spark_out[v]):
                diffs.append(("any date", v, duck, spark_out[v]))
    assert diffs == [], "\n".join(map(repr, diffs))


def test_battery_of_tricky_values(spark, tmp_path, write):
    """Ids with odd spaces, every date and amount form: the same table, report and rejected rows."""
    n = max(len(IDS), len(DATES), len(AMOUNTS)) * 3
    rows = [(IDS[i % len(IDS)], DATES[i % len(DATES)], AMOUNTS[i % len(AMOUNTS)], f"P{i % 4}") for i in range(n)]
    text = "customer_id,order_date,amount,product\n" + "".join(
        ",".join('"' + c.replace('"', '""') + '"' for c in r) + "\n" for r in rows)
    path = write("battery.csv", text)
    ds, metrics, start, as_of = _duckdb(path)
    result = spark_metrics(spark, [str(path)])
    assert_same_tables(tmp_path, "battery", metrics, start, as_of, result)
    _same_report(ds.report, result.report)
    spark_rows = sorted((r["row"], r["reason"]) for r in result.rejected.collect())
    assert spark_rows == sorted(ds.rejected_rows()[["row", "reason"]].itertuples(index=False, name=None))


def test_known_differences_are_as_listed(spark):
    register_rules(spark)
    con = duckdb.connect()
    con.execute(_MACROS)
    for value, (duck_year, spark_year) in KNOWN.items():
        assert con.execute("SELECT year(seg_any_date($v, '%d/%m/%y', '%d/%m/%Y'))", {"v": value}).fetchone()[0] == duck_year
        assert spark.sql("SELECT year(seg_any_date(:v, 'd/M/yy', 'd/M/yyyy'))", args={"v": value}).first()[0] == spark_year
