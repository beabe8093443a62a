"""Ingest: the files users actually have, and the report that accounts for every row."""

from datetime import date, datetime

import pandas as pd
import pytest

import segcore


def metrics(ds):
    return segcore.customer_metrics(ds.con).set_index("customer_id")


def test_gbk_chinese_headers_currency_and_chinese_dates(write):
    text = ("客户编号,订单日期,实付金额,省份\n"
            "001,2024年1月5日,\"￥1,200.50\",广东\n"
            "002,2024年1月6日,￥300元,浙江\n"
            "001,2024年1月7日,(200.50),广东\n")
    ds = segcore.load_orders(write("订单.csv", text, "gbk"))
    assert ds.report.encoding == "gb18030"
    assert ds.mapping == {"customer_id": "客户编号", "order_date": "订单日期", "amount": "实付金额",
                          "region": "省份"}
    m = metrics(ds)
    assert list(m.index) == ["001", "002"]  # leading zeros kept
    assert m.loc["001"].monetary == 1000 and m.loc["002"].monetary == 300
    assert (ds.report.returns_count, ds.report.returns_sum) == (1, -200.5)
    assert (ds.report.date_min, ds.report.date_max) == (date(2024, 1, 5), date(2024, 1, 7))


def test_utf8_bom_semicolon_decimal_comma_day_first(write):
    text = "\ufeffCustomer;Date;Total\nA;31.01.2024;12,50\nA;01.02.2024;1.234,56\nB;15.02.2024;-3,00\n"
    ds = segcore.load_orders(write("export.csv", text))
    assert ds.report.date_order == "dmy" and not ds.report.date_order_ambiguous
    m = metrics(ds)
    assert m.loc["A"].monetary == pytest.approx(1247.06)
    assert m.loc["A"].last_order_date == pd.Timestamp("2024-02-01")
    assert m.loc["B"].monetary == -3


def test_tab_separated_slash_dates_and_yyyymmdd_integers(write):
    text = "member_id\tpay_time\tsales\nm1\t2024/03/02\t10\nm2\t20240305\t20\nm3\t2024-03-06T10:11:12Z\t5\n"
    ds = segcore.load_orders(write("export.tsv", text))
    assert ds.report.rows_used == 3
    assert metrics(ds).last_order_date.dt.strftime("%Y-%m-%d").tolist() == [
        "2024-03-02", "2024-03-05", "2024-03-06"]


def test_utf16_text_export(write):
    text = "Customer ID\tOrder Date\tAmount\nx\t2024-01-01\t5\ny\t2024-01-02\t7\n"
    ds = segcore.load_orders(write("unicode.txt", text, "utf-16"))
    assert ds.report.rows_used == 2 and metrics(ds).monetary.sum() == 12


def test_online_retail_style_quantity_times_price_month_first(write):
    text = ("Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
            "489434,85048,LED LIGHT,12,12/1/2009 7:45,6.95,13085,United Kingdom\n"
            "489434,79323P,PINK HEART,12,12/1/2009 7:45,6.75,13085,United Kingdom\n"
            "489435,22350,CAT BOWL,12,12/13/2009 7:46,2.55,,United Kingdom\n"
            "C489449,22087,PAPER BUNTING,-12,12/14/2009 10:33,2.95,13085,United Kingdom\n"
            "489450,22087,PAPER BUNTING,x,12/14/2009 10:33,2.95,12346,United Kingdom\n")
    ds = segcore.load_orders(write("online_retail.csv", text))
    r = ds.report
    assert r.amount_source == "quantity x unit_price" and r.date_order == "mdy"
    assert (r.rows_read, r.rows_used) == (5, 3)
    assert r.rejected == {"missing customer id": 1, "unparseable amount": 1}
    assert (r.returns_count, r.returns_sum) == (1, pytest.approx(-35.4))
    m = metrics(ds).loc["13085"]
    assert m.frequency == 1  # the cancellation C489449 is not an order
    assert m.monetary == pytest.approx(12 * 6.95 + 12 * 6.75 - 12 * 2.95)
    assert m.product_breadth == 2


def test_ambiguous_dates_default_day_first_and_user_choice(write):
    path = write("amb.csv", "customer,date,amount\na,03/04/2024,1\nb,05/04/2024,1\n")
    ds = segcore.load_orders(path)
    assert ds.report.date_order == "dmy" and ds.report.date_order_ambiguous
    assert ds.report.date_min == date(2024, 4, 3)
    ds = segcore.load_orders(path, date_order="mdy")
    assert ds.report.date_min == date(2024, 3, 4) and not ds.report.date_order_ambiguous


def test_excel_file_with_numeric_ids_and_real_dates(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["订单号", "客户ID", "下单时间", "数量", "单价"])
    sheet.append(["S1", 1001, datetime(2024, 5, 1, 9, 30), 2, 9.5])
    sheet.append(["S2", 1002, datetime(2024, 5, 2), 1, 100])
    path = tmp_path / "orders.xlsx"
    book.save(path)
    ds = segcore.load_orders(path)
    assert ds.report.file_format == "excel"
    m = metrics(ds)
    assert list(m.index) == ["1001", "1002"] and m.monetary.tolist() == [19, 100]
    assert ds.report.date_min == date(2024, 5, 1)


def test_parquet_with_integer_dates_and_float_ids(tmp_path):
    path = tmp_path / "orders.parquet"
    pd.DataFrame({"CustomerID": [17850.0, 17850.0, 13047.0], "date": [20240101, 20240110, 20240105],
                  "amount": [10.0, 20.0, 5.5]}).to_parquet(path)
    ds = segcore.load_orders(path)
    m = metrics(ds)
    assert list(m.index) == ["13047", "17850"] and m.loc["17850"].frequency == 2


def test_report_accounts_for_every_row_and_duplicates(write):
    text = ("customer_id,order_date,amount\n"
            "a,2024-01-01,10\n"
            "a,2024-01-01,10\n"        # exact duplicate of the row above
            ",2024-01-01,10\n"         # walk-in sale
            "b,,10\n"                  # missing date
            "b,someday,10\n"           # unparseable date
            "b,2024-01-02,\n"          # missing amount
            "b,2024-01-02,ten\n"       # unparseable amount
            "c,2024-01-03,-4\n")       # a return
    path = write("mixed.csv", text)
    r = segcore.load_orders(path).report
    assert (r.rows_read, r.rows_used, r.duplicate_rows, r.duplicates_dropped) == (8, 3, 1, False)
    assert r.rejected == {"missing customer id": 1, "missing date": 1, "unparseable date": 1,
                          "missing amount": 1, "unparseable amount": 1}
    assert r.rows_used + r.rows_rejected == r.rows_read
    ds = segcore.load_orders(path, drop_duplicates=True)
    assert ds.report.rejected["duplicate"] == 1 and ds.report.rows_used == 2
    rejected = ds.rejected_rows()
    assert rejected["row"].tolist() == [2, 3, 4, 5, 6, 7]
    assert rejected["reason"].tolist()[0] == "duplicate"
    assert list(rejected.columns) == ["row", "customer_id", "order_date", "amount", "reason"]


def test_explicit_mapping_overrides_the_guess(write):
    path = write("two_amounts.csv", "客户,日期,金额,实付金额\na,2024-01-01,100,90\n")
    assert metrics(segcore.load_orders(path)).monetary.iloc[0] == 90  # 实付金额 is the stronger name
    ds = segcore.load_orders(path, {"amount": "金额"})
    assert metrics(ds).monetary.iloc[0] == 100


@pytest.mark.parametrize("name, content, code", [
    ("empty.csv", b"", "empty"),
    ("header_only.csv", b"customer_id,order_date,amount\n", "empty"),
    ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
    ("no_amount.csv", b"customer_id,order_date,colour\na,2024-01-01,red\n", "missing_field"),
    ("one_column.csv", b"just one column\nvalue\n", "no_columns"),
    ("all_bad.csv", b"customer_id,order_date,amount\n,2024-01-01,1\nb,never,2\n", "all_rejected"),
])
def test_unusable_files_get_one_plain_sentence(tmp_path, name, content, code):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(segcore.IngestError) as err:
        segcore.load_orders(path)
    assert err.value.code == code
    message = str(err.value)
    assert "\n" not in message and "Traceback" not in message and name in message


def test_missing_field_message_names_what_was_found(write):
    with pytest.raises(segcore.IngestError) as err:
        segcore.load_orders(write("x.csv", "who,when\na,2024-01-01\n"))
    assert "customer id" in str(err.value) and "amount" in str(err.value) and "'who'" in str(err.value)
    assert err.value.params["fields"] == ["customer_id", "order_date", "amount"]


def test_values_never_reach_sql(write):
    evil = "x'); DROP TABLE raw; --"
    ds = segcore.load_orders(write("evil.csv", f'customer_id,order_date,amount,"{evil}"\n'
                                               f'"{evil}",2024-01-01,5,"{evil}"\n'))
    assert metrics(ds).index.tolist() == [evil]
    assert ds.rejected_rows().empty


def test_duplicate_rows_are_exact_copies_of_every_cell(write):
    text = ("customer_id,order_date,amount,note\n"
            "a,2024-01-01,10,x\n"
            "a,2024-01-01,10,x\n"      # copy of row 1
            "a,2024-01-01,10,x\n"      # a second copy
            "a,2024-01-01,10, x\n"     # differs by a space: not a copy
            "a,2024-01-01,10,\n"       # empty note
            "a,2024-01-01,10,\n"       # copy of the row above
            "a,2024-01-01,x,10\n"      # the same cells in other columns: not a copy
            ",2024-01-01,10,x\n"       # rejected rows are compared too
            ",2024-01-01,10,x\n")
    path = write("copies.csv", text)
    assert segcore.load_orders(path).report.duplicate_rows == 4
    r = segcore.load_orders(path, drop_duplicates=True).report
    # the last copy was already rejected for its missing customer id
    assert (r.duplicate_rows, r.rejected["duplicate"], r.rejected["missing customer id"]) == (4, 3, 2)


def test_spaces_around_values_are_trimmed_inner_spaces_kept(write):
    text = ("customer_id,order_date,amount,product\n"
            "\u3000a\u3000,2024-01-01,10,\u00a0tea pot\u00a0\n"   # ideographic and no-break spaces
            " a ,\u30002024-01-02,5, tea pot\n"
            "b,2024-01-03,5,tea  pot\n"
            "\u3000,2024-01-03,5,x\n")                              # nothing but a space: no id
    ds = segcore.load_orders(write("spaces.csv", text))
    assert ds.report.rejected == {"missing customer id": 1}
    m = metrics(ds)
    assert list(m.index) == ["a", "b"]
    assert (m.loc["a"].frequency, m.loc["a"].product_breadth) == (2, 1)
    assert sorted(ds.con.execute("SELECT DISTINCT product FROM lines").fetchall()) == [
        ("tea  pot",), ("tea pot",)]


def test_encoding_found_when_the_bad_byte_is_deep_in_the_file(write):
    # the file is read as UTF-8 first; the Windows-1252 byte near the end makes that read fail
    text = "customer,date,amount\n" + "a,2024-01-01,5\n" * 50_000 + "José,2024-01-02,7\n"
    ds = segcore.load_orders(write("late.csv", text, "cp1252"))
    assert (ds.report.encoding, ds.report.rows_read) == ("cp1252", 50_001)
    assert metrics(ds).loc["José"].monetary == 7
