"""Mapping checks: a column chosen for the customer id, the amount or the date that looks wrong
is named with what looks wrong (a warning; the file still loads)."""

from __future__ import annotations

from datetime import date

import segcore

from .test_app import metrics, run, start, upload

TODAY = date(2025, 1, 1)


def checks(write, text: str, mapping=None) -> list[dict]:
    return segcore.mapping_checks(segcore.load_orders(write("o.csv", text), mapping), today=TODAY)


def test_a_sensible_file_raises_nothing(write):
    text = "customer,date,amount\n" + "".join(f"K{i % 7},2024-01-{1 + i % 28:02d},{i % 5 + 1}.25\n"
                                              for i in range(60))
    assert checks(write, text) == []


def test_an_id_column_with_few_values_for_the_lines(write):
    # 1,000 lines, two countries: 500 lines per "customer"
    text = "country,date,amount\n" + "".join(f"{'UK' if i % 2 else 'FR'},2024-01-01,1.5\n" for i in range(1000))
    assert checks(write, text, {"customer_id": "country"}) == [
        {"code": "few_customers", "field": "customer_id", "column": "country", "customers": 2, "lines": 1000}]
    # 499 lines per customer: not yet
    assert checks(write, "country,date,amount\n" + "UK,2024-01-01,1.5\n" * 499, {"customer_id": "country"}) == []


def test_an_amount_column_that_looks_like_codes(write):
    rows = "".join(f"K{i},2024-01-0{1 + i % 9},{zip_code}\n" for i, zip_code in enumerate(
        (10115, 20095, 80331, 50667, 60311, 70173, 40213, 30159, 10117, 20095)))
    assert checks(write, "customer,date,zip\n" + rows, {"amount": "zip"}) == [
        {"code": "amount_codes", "field": "amount", "column": "zip", "lines": 10, "distinct": 9,
         "low": 10115.0, "high": 80331.0}]
    # whole numbers of money repeat (prices), small ones or with decimals are money
    assert checks(write, "customer,date,amount\n" + "".join(f"K{i},2024-01-01,{1200 if i % 2 else 2400}\n"
                                                            for i in range(10))) == []
    assert checks(write, "customer,date,amount\n" + "".join(f"K{i},2024-01-01,{100 + i}\n" for i in range(10))) == []
    assert checks(write, "customer,date,amount\n" + "".join(f"K{i},2024-01-01,{10000 + i}.5\n" for i in range(10))) == []


def test_a_date_column_with_an_implausible_range(write):
    old = "customer,date,amount\nA,1901-05-01,5\nB,2024-01-01,5\n"
    assert checks(write, old) == [{"code": "date_range", "field": "order_date", "column": "date",
                                   "first": date(1901, 5, 1), "last": date(2024, 1, 1)}]
    future = "customer,date,amount\nA,2024-05-01,5\nB,2026-01-03,5\n"   # more than a year after TODAY
    assert [c["code"] for c in checks(write, future)] == ["date_range"]
    wide = "customer,date,amount\nA,1960-05-01,5\nB,2024-01-01,5\n"     # 63 years apart
    assert [c["code"] for c in checks(write, wide)] == ["date_range"]
    assert checks(write, "customer,date,amount\nA,1980-05-01,5\nB,2024-01-01,5\n") == []


def test_choosing_country_as_the_customer_id_is_warned_about_on_the_data_page():
    rows = "".join(f"{536365 + i},2024-01-{1 + i % 28:02d},C{i % 40},{'United Kingdom' if i % 3 else 'France'},"
                   f"2,{i % 7 + 1}.95\n" for i in range(1200))
    at = upload(start(), "retail.csv", ("Invoice,InvoiceDate,Customer ID,Country,Quantity,Price\n" + rows).encode())
    assert metrics(at, "Customers") == ["40"] and not at.warning
    at.selectbox(key="w_map_customer_id").set_value("Country")
    run(at)
    assert metrics(at, "Customers") == ["2"]
    assert [w.value for w in at.warning] == [
        "The customer id column “Country” has only 2 different values for 1,200 lines (600 lines per customer): "
        "is it really the customer id, not a country, shop or category?"]
