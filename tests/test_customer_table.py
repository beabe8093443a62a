"""python -m segcore metrics (DuckDB engine) writes the customer table; tier reads it (no Spark needed)."""

import importlib.util
import json
from datetime import date

import pandas as pd
import pyarrow.parquet as pq
import pytest

import segcore
from segcore.cli import main
from segcore.customer_table import (
    CUSTOMER_TABLE_TYPES,
    is_customer_table,
    open_customer_table,
    read_customer_table,
)

from .conftest import SAMPLE

ORDERS = ("order_id,date,customer,amount\n"
          "1,2024-01-05,K1,500\n"
          "2,2024-02-01,K1,300.005\n"
          "3,2024-02-10,K2,150\n"
          "4,2024-03-01,K3,20\n"
          "5,2024-03-02,,70\n"
          "6,2024-03-03,K2,-20\n")


def test_metrics_writes_the_table_with_its_schema_and_metadata(tmp_path, write, capsys):
    orders = write("orders.csv", ORDERS)
    out, rejected, report = tmp_path / "customers.parquet", tmp_path / "rejected", tmp_path / "report.json"
    assert main(["metrics", str(orders), "--as-of", "2024-03-03", "--out", str(out), "--rejected", str(rejected),
                 "--report", str(report)]) == 0
    assert "3 customers written to" in capsys.readouterr().out
    table = pq.read_table(out)
    assert [(f.name, f.type) for f in table.schema] == [(c, CUSTOMER_TABLE_TYPES[c]) for c in segcore.METRIC_COLUMNS]
    facts = json.loads(table.schema.metadata[b"segcore"])
    assert {k: facts[k] for k in ("engine", "as_of", "window_start", "source")} == {
        "engine": "duckdb", "as_of": "2024-03-03", "window_start": "2024-01-05", "source": str(orders)}
    assert facts["report"]["rows_read"] == 6 and facts["report"]["rejected"] == {"missing customer id": 1}
    assert json.loads(report.read_text())["rows_used"] == 5
    metrics, read_facts = read_customer_table(out)
    assert read_facts["as_of"] == date(2024, 3, 3)
    # K1: 500 + 300.005 = 800.005 -> 800.01 (half up on the exact sum), two orders
    assert metrics.set_index("customer_id").loc["K1", ["monetary", "frequency", "avg_order_value"]].tolist() == [
        800.01, 2, 400.0]
    pd.testing.assert_frame_equal(metrics, segcore.customer_metrics(segcore.load_orders(orders).con),
                                  check_dtype=False)
    rows = pd.read_parquet(rejected / "rejected.parquet")
    assert rows[["row", "reason", "date"]].values.tolist() == [[5, "missing customer id", "2024-03-02"]]
    assert rows["customer"].isna().tolist() == [True]
    assert rows["source_file"].tolist() == [str(orders.resolve())]


def test_tier_on_the_table_gives_the_tiers_of_the_orders_file(tmp_path):
    out = tmp_path / "customers.parquet"
    files = ["--customers", str(SAMPLE / "customers.csv"), "--interactions", str(SAMPLE / "interactions.csv")]
    assert main(["metrics", str(SAMPLE / "orders.csv"), *files, "--out", str(out)]) == 0
    assert is_customer_table(out) and not is_customer_table(SAMPLE / "orders.csv")
    assert main(["tier", str(out), "--out", str(tmp_path / "from_table.csv")]) == 0
    assert main(["tier", str(SAMPLE / "orders.csv"), *files, "--out", str(tmp_path / "from_orders.csv")]) == 0
    assert (tmp_path / "from_table.csv").read_bytes() == (tmp_path / "from_orders.csv").read_bytes()
    ds = open_customer_table(out)
    assert ds.report.rows_read == 27009 and ds.con.execute("SELECT count(*) FROM lines").fetchone()[0] == 0


def test_spark_engine_without_pyspark_says_what_to_install(write, monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyspark" else real(name, *a))
    assert main(["metrics", "--engine", "spark", str(write("o.csv", ORDERS)), "--out", "x.parquet"]) == 2
    assert capsys.readouterr().err == ('error: The Spark engine needs pyspark and Java 17: install them with '
                                       'pip install -e ".[spark]" (and openjdk-17-jre-headless).\n')


@pytest.mark.parametrize("argv, message", [
    (["metrics", "a.csv", "b.csv", "--out", "x.parquet"], "The DuckDB engine reads one orders file"),
    (["metrics", "--table", "db.orders", "--out", "x.parquet"], "The DuckDB engine reads one orders file"),
])
def test_duckdb_engine_reads_one_file(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err
