"""The metrics SQL renders for Spark without a construct known to differ (no Spark needed)."""

from datetime import date
from itertools import product

import duckdb
import pytest

from segcore.metrics import FILLED_COLUMNS, amount_steps, metrics_sql

sqlglot = pytest.importorskip("sqlglot", reason="sqlglot comes with the test and spark extras")
from segcore.portable import DIFFERENCES, differences, to_spark


def _shapes():
    """Every shape the metrics query takes: amounts or count-only, order ids (all, some, none),
    products, line attributes, a customers file, an interactions file."""
    for priced, ids, gaps, prod, attrs, customers, interactions in product(*[(True, False)] * 7):
        filled = dict.fromkeys(FILLED_COLUMNS, attrs)
        filled.update(amount=priced, order_id=ids, order_id_gaps=gaps, product=prod)
        yield filled, (["name", "a0"] if customers else None), interactions


def test_every_shape_of_the_metrics_sql_renders_for_spark_without_a_known_difference():
    rendered = set()
    for filled, customers, interactions in _shapes():
        sql, params = metrics_sql(filled, date(2024, 1, 1), date(2024, 6, 30), customer_columns=customers,
                                  attribute_names={"a0": "region"}, interactions=interactions)
        assert set(differences(sql)) <= {"hugeint"}
        spark = to_spark(sql)
        assert differences(spark) == []
        assert all(f":{p}" in spark for p in params)  # DuckDB's $name became Spark's :name
        sqlglot.parse_one(spark, read="spark")  # and Spark's dialect reads it back
        rendered.add(spark)
    assert len(rendered) > 20


def test_the_hugeint_rewrite():
    assert "CAST(n AS DECIMAL(38, 0)) DIV 2" in to_spark("SELECT CAST(n AS HUGEINT) // 2 AS h FROM lines")


EXAMPLES = [
    ("round", "SELECT round(amount, 2) FROM lines"),
    ("round", "SELECT round(amount * 10000) FROM lines"),
    ("not materialized", "WITH w AS NOT MATERIALIZED (SELECT 1 AS x) SELECT x FROM w"),
    ("strlen", "SELECT strlen(v) FROM t"),
    ("list_position", "SELECT list_position(['a', 'b'], v) FROM t"),
    ("regexp_full_match", r"SELECT regexp_full_match(v, '\d+') FROM t"),
    ("regexp flags", "SELECT regexp_replace(v, ' ', '', 'g') FROM t"),
    ("try_strptime", "SELECT try_strptime(v, '%d/%m/%y') FROM t"),
    ("isfinite", "SELECT isfinite(amount) FROM t"),
    ("rowid", "SELECT rowid FROM t"),
    ("mode order by", "SELECT customer_id, mode(region ORDER BY region) FROM lines GROUP BY customer_id"),
    ("trim", "SELECT trim(v) FROM t"),
    ("text to date or number", "SELECT TRY_CAST(v AS DOUBLE) FROM t"),
    ("text to date or number", "SELECT CAST(v AS DATE) FROM t"),
]


@pytest.mark.parametrize("name, sql", EXAMPLES)
def test_each_known_difference_is_refused(name, sql):
    assert name in differences(sql)
    with pytest.raises(ValueError, match=name):
        to_spark(sql)


def test_every_known_difference_has_an_example_above():
    examples = {name for name, _ in EXAMPLES}
    assert set(DIFFERENCES) - {"hugeint"} == examples


@pytest.mark.parametrize("amount, steps", [
    (0.00005, 1), (-0.00005, -1), (1.00005, 10001), (326.505, 3265050), (1.23455, 12346),
    (0.12345, 1235), (-12.34565, -123456), (0.000049999999999999996, 0), (1e11, 1e15), (0.0, 0),
])
def test_amount_steps_is_duckdb_round_in_a_portable_form(amount, steps):
    """Halves away from zero on the binary value: -12.34565 * 10000 is -123456.4999... in binary."""
    con = duckdb.connect()
    got, rounded = con.execute(f"SELECT {amount_steps('$a')}, round($a * 10000)", {"a": amount}).fetchone()
    assert got == rounded == steps
