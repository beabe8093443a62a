"""Ingest: the files users actually have, and the report that accounts for every row."""

from datetime import date, datetime

import pandas as pd
import pytest

import segcore
from segcore import sources
from segcore.ingest import SAMPLE_ROWS


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
    # a PDF renamed .csv whose first bytes are text (not "one column, %PDF-1.4")
    ("report.csv", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" * 20, "binary"),
    ("archive.csv", b"\x1f\x8b\x08\x00" + b"customer,date,amount\n" * 10, "binary"),
    ("no_date.csv", b"customer_id,colour,amount\na,red,5\n", "missing_field"),
    ("no_price.csv", b"customer_id,order_date,quantity\na,2024-01-01,5\n", "missing_field"),
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


def test_duplicates_counted_later_read_the_file_again(write):
    from concurrent.futures import ThreadPoolExecutor

    text = "customer_id,order_date,amount\n" + "a,2024-01-01,10\n" * 3 + "a,2024-01-01,10.0\nb,2024-01-02,5\n"
    ds = segcore.load_orders(write("later.csv", text), count_duplicates=False)
    assert ds.report.duplicate_rows is None and "duplicate" not in "\n".join(ds.report.lines()).lower()
    with ThreadPoolExecutor(4) as pool:  # pages of several sessions ask at once: one count
        assert list(pool.map(lambda _: ds.count_duplicates(), range(4))) == [2] * 4
    assert ds.report.duplicate_rows == 2 and "Exact duplicate rows: 2" in "\n".join(ds.report.lines())
    gone = segcore.load_orders(write("gone.csv", text), count_duplicates=False)
    gone.source.path.unlink()  # an upload cleaned away before anyone asked: not counted, no error
    assert gone.count_duplicates() is None and gone.report.duplicate_rows is None


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


# --- one pass, strict CSV, typed fast path ---------------------------------------------------------

def lines_of(ds):
    return dict(ds.con.execute("SELECT customer_id, amount FROM lines").fetchall())


def test_rfc4180_quotes_escapes_delimiters_and_line_breaks_inside_cells(write):
    text = ('order_id,customer_id,order_date,product,quantity,unit_price,amount\n'
            'O1,C1,2024-01-01,"Tea tray 12"", red",10,25.0,250.0\n'   # "" and a comma inside quotes
            'O2,"C""1",2024-01-02,"Pot, large",1,5,5\n'               # a quote inside an id
            'O3,C2,2024-01-03,"two\nlines",2,3,6\n'                   # a line break inside quotes
            'O4,C2,2024-01-04,"bad"x,1,1,1\n'                         # text after a closing quote
            'O5,C3,2024-01-05,ok,1,2,3,extra\n'                       # one cell too many
            'O6,C3,2024-01-06,fine,1,2,7\n'
            'O7,,2024-01-07,x,1,1,1\n')
    ds = segcore.load_orders(write("excel_export.csv", text))
    r = ds.report
    assert (r.rows_read, r.rows_used) == (7, 4)
    assert r.rejected == {"malformed row": 2, "missing customer id": 1}
    assert lines_of(ds) == {"C1": 250.0, 'C"1': 5.0, "C2": 6.0, "C3": 7.0}
    assert ds.con.execute("SELECT product FROM lines WHERE order_id = 'O3'").fetchone() == ("two\nlines",)
    rejected = ds.rejected_rows()
    # row numbers count rows, not lines (O3 spans two lines); malformed rows keep their text whole
    assert rejected["row"].tolist() == [4, 5, 7]
    assert rejected["reason"].tolist() == ["malformed row", "malformed row", "missing customer id"]
    assert rejected["order_id"].tolist()[:2] == ['O4,C2,2024-01-04,"bad"x,1,1,1', "O5,C3,2024-01-05,ok,1,2,3,extra"]
    assert rejected.iloc[2].tolist()[1:4] == ["O7", None, "2024-01-07"]


def test_a_multi_line_cell_in_a_longer_file(write):
    rows = [f"O{i},C{i % 7},2024-01-{1 + i % 28:02d},{i % 90 + 10},tea" for i in range(2000)]
    rows[1000] = 'O1000,C6,2024-01-01,12,"tea\npot"'  # Excel keeps a line break typed into a cell
    rows[1500] = "O1500,,2024-01-01,12,tea"
    ds = segcore.load_orders(write("long.csv", "order_id,customer_id,order_date,amount,product\n"
                                   + "\n".join(rows) + "\n"))
    assert (ds.report.rows_read, ds.report.rows_used) == (2000, 1999)
    assert ds.con.execute("SELECT product FROM lines WHERE order_id = 'O1000'").fetchone() == ("tea\npot",)
    assert ds.rejected_rows()["row"].tolist() == [1501]


@pytest.mark.parametrize("day, amount, reason", [
    ("2024-03-04", "oops", "unparseable amount"),
    ("04/03/2024", "5", None),                  # DuckDB's reader refuses it: the text path reads it
    ("epoch", "5", "unparseable date"),         # DuckDB's reader reads these as dates: the text path
    ("infinity", "5", "unparseable date"),      # does not
    ("2024-03-04", "+-5", "unparseable amount"),
    ("2024-03-04", "1_000", "unparseable amount"),
    ("2024-03-04", "N/A", "missing amount"),    # DuckDB's reader refuses these as DOUBLE: the text path
    ("2024-03-04", "￥5", None),
])
def test_typed_fast_path_falls_back_for_a_bad_value_in_the_last_line(write, day, amount, reason):
    rows = [f"c{i % 50},2024-{1 + i % 12:02d}-{1 + i % 28:02d},{i % 100}.50" for i in range(2999)]
    path = write("typed.csv", "customer_id,order_date,amount\n" + "\n".join(rows) + f"\nc7,{day},{amount}\n")
    ds = segcore.load_orders(path)
    assert (ds.report.rows_used, ds.report.rejected) == (2999, {reason: 1}) if reason else (3000, {})
    total = sum((i % 100) + 0.5 for i in range(2999)) + (0 if reason else 5)
    assert ds.con.execute("SELECT sum(amount) FROM lines").fetchone()[0] == pytest.approx(total)
    if reason:
        assert ds.rejected_rows().iloc[0].tolist() == [3000, "c7", day, amount, reason]
    else:
        assert ds.con.execute("SELECT order_date FROM lines WHERE customer_id = 'c7' AND amount = 5"
                              ).fetchone() == (date(2024, 3, 4),)


@pytest.mark.parametrize("amount", ["+-5", "1_000"])
def test_a_number_form_the_typed_reader_takes_is_refused_across_two_pieces_of_the_file(write, amount):
    # the file is searched for _ and +- a piece at a time: the amount starts on the last byte of
    # the first piece (+- spans two pieces); the row is also in the plan's sample, whose cast
    # reads both forms as numbers
    rows = [f"c{i % 50},2024-01-{1 + i % 28:02d},7.50" for i in range(sources._SCAN_CHUNK // 24)]
    head = "customer_id,order_date,amount\n" + "\n".join(rows) + "\n"
    pad = sources._SCAN_CHUNK - 1 - len(head) - len("c,2024-03-04,")
    path = write("pieces.csv", head + f"c{'x' * pad},2024-03-04,{amount}\nc8,2024-03-05,2.50\n")
    assert path.read_bytes()[sources._SCAN_CHUNK - 1:][:2] == amount[:2].encode()
    ds = segcore.load_orders(path)
    assert ds.report.rejected == {"unparseable amount": 1}
    assert ds.rejected_rows()["amount"].tolist() == [amount]
    assert ds.con.execute("SELECT sum(amount) FROM lines").fetchone()[0] == 7.5 * len(rows) + 2.5


def test_rejected_rows_of_the_typed_path_keep_the_cells_as_written(write):
    # the rejected rows come after the rows the plan looks at: both columns are read typed
    k = SAMPLE_ROWS + 99
    rows = [f"c{i % 9},{1 + i % 28:02d}/{1 + i % 12:02d}/2024,{i % 40}.50" for i in range(SAMPLE_ROWS + 500)]
    day, amount = rows[k].split(",")[1:]
    rows[k] = f",{day},{amount}"  # no customer id
    rows[k + 100] = "c1,01/05/2024,7"
    rows[k + 200] = "c2,01/05/2024,1e12"  # amount out of range
    ds = segcore.load_orders(write("dmy.csv", "customer_id,order_date,amount\n" + "\n".join(rows) + "\n"))
    assert ds.plan.typed == {1: "DATE", 2: "DOUBLE"}  # DuckDB's reader typed both columns
    assert ds.report.rejected == {"missing customer id": 1, "amount out of range": 1}
    rejected = ds.rejected_rows().fillna("(none)").values.tolist()
    assert amount.endswith(".50") and rejected == [[k + 1, "(none)", day, amount, "missing customer id"],
                                                   [k + 201, "c2", "01/05/2024", "1e12", "amount out of range"]]
    assert ds.con.execute(f"SELECT order_date, amount FROM lines WHERE _line = {k + 100}").fetchone() == (date(2024, 5, 1), 7)
    # a rejected row among the first ones: the amounts are read as text (the cells in the pass)
    ds = segcore.load_orders(write("early.csv", "customer_id,order_date,amount\n" + "\n".join(rows[k:]) + "\n"))
    assert ds.plan.typed == {1: "DATE"}
    assert ds.rejected_rows().fillna("(none)").values.tolist()[0] == [1, "(none)", day, amount, "missing customer id"]


def test_duplicates_of_the_typed_path_are_rows_written_alike(write):
    # 12.5 and 12.50 are the same amount, but the rows are not written alike: not duplicates
    rows = [f"c{i % 9},2024-{1 + i % 12:02d}-{1 + i % 28:02d},{i}.25" for i in range(500)]
    rows += ["c1,2024-01-01,12.5", "c1,2024-01-01,12.50", "c3,2024-01-01,5,x", "c1,2024-01-01,12.50",
             "c3,2024-01-01,5,x", "c2,2024-01-01,3"]  # and a malformed row twice
    ds = segcore.load_orders(write("dups.csv", "customer_id,order_date,amount\n" + "\n".join(rows) + "\n"))
    assert ds.plan.typed == {1: "DATE", 2: "DOUBLE"}
    assert (ds.report.rejected, ds.report.duplicate_rows) == ({"malformed row": 2}, 2)


def dated_orders(write, name, dates):
    """An orders file with one line of amount 1 per date (written as given)."""
    return segcore.load_orders(write(name, "customer_id,order_date,amount\n"
                                     + "".join(f"c{i % 97},{d},1\n" for i, d in enumerate(dates))))


def test_date_order_decided_on_the_whole_column_when_the_start_cannot_tell(write):
    # the first 60,000 dates fit either order; later ones are day-first only
    ambiguous = [f"{1 + i % 12:02d}/{1 + (i // 12) % 12:02d}/2024" for i in range(60_000)]
    ds = dated_orders(write, "late_dmy.csv", ambiguous + [f"{13 + i % 16}/{1 + i % 12:02d}/2024" for i in range(500)])
    r = ds.report
    assert (r.date_order, r.date_order_ambiguous, r.rows_used) == ("dmy", False, 60_500)
    assert (r.date_min, r.date_max) == (date(2024, 1, 1), date(2024, 12, 28))
    assert ds.con.execute("SELECT order_date FROM lines WHERE _line = 13").fetchone() == (date(2024, 2, 2),)


def test_date_order_redone_when_the_whole_column_decides_otherwise(write):
    # the first 60,000 dates look month-first, but 70,000 later ones are day-first: day-first wins
    # and the month-first-only dates are the rows that cannot be read
    early = [f"{1 + i % 12:02d}/{13 + i % 16}/2024" for i in range(60_000)]
    r = dated_orders(write, "mixed_order.csv", early + [f"{13 + i % 16}/{1 + i % 12:02d}/2024" for i in range(70_000)]).report
    assert (r.date_order, r.date_order_ambiguous) == ("dmy", False)
    assert (r.rows_used, r.rejected) == (70_000, {"unparseable date": 60_000})
    assert dated_orders(write, "m.csv", early).report.date_order == "mdy"


# --- hostile values ------------------------------------------------------------------------------

def test_non_finite_absurd_amounts_and_implausible_dates_are_rejected(write):
    text = ("customer_id,order_date,amount\n"
            "a,2024-01-01,10\n"
            "b,2024-01-02,1e305\n"      # finite but absurd
            "c,2024-01-03,-1e305\n"
            "d,2024-01-04,inf\n"        # not finite
            "e,2024-01-05,nan\n"
            "f,99999-01-01,5\n"         # a year no calendar chart can draw
            "g,0024-01-05,5\n"
            "h,infinity,5\n"            # DuckDB's words for dates
            "i,-infinity,5\n"
            "j,epoch,5\n"
            "k,2024-01-06,1e300\n"      # two of these would sum past the float range
            "k,2024-01-07,1e300\n"
            "m,2024-01-08,5000\n")
    ds = segcore.load_orders(write("hostile.csv", text))
    assert ds.report.rejected == {"unparseable date": 3, "date out of range": 2, "unparseable amount": 2,
                                  "amount out of range": 4}
    assert ds.report.rows_used == 2 and (ds.report.date_min, ds.report.date_max) == (date(2024, 1, 1), date(2024, 1, 8))
    assert metrics(ds).monetary.tolist() == [10, 5000]
    limits = segcore.ingest.Limits(first_date=date(2024, 1, 2), max_amount=1e4)
    ds = segcore.load_orders(write("hostile.csv", text), limits=limits)
    assert ds.report.rejected["date out of range"] == 3 and ds.report.rejected["amount out of range"] == 4
    assert metrics(ds).monetary.tolist() == [5000]
    with pytest.raises(ValueError):
        segcore.ingest.Limits(max_amount=1e300)  # sums of such amounts are not exact


@pytest.mark.parametrize("written, amount", [
    ("£-3", -3), ("-£3", -3), ("£(3)", -3), ("(£3)", -3), ("3-", -3), ("(3)", -3), ("+3", 3),
    ("￥1,200.50", 1200.5), ("1.234,50 €", 1234.5), ("12,50", 12.5), ("€ 1 234,56", 1234.56),
    ("300元", 300), ("RMB -7", -7), ("USD 1,000", 1000),
    ("1,2,3", None), ("--5", None), ("-(5)", None), ("(5", None), ("5-3", None), ("1_000", None),
    ("12,345,67", None), ("+-5", None),
])
def test_amounts_as_people_write_them(write, written, amount):
    ds_or_error = None
    text = f"customer_id\torder_date\tamount\na\t2024-01-01\t{written}\nb\t2024-01-01\t1\n"
    ds_or_error = segcore.load_orders(write("amounts.tsv", text))
    if amount is None:
        assert ds_or_error.report.rejected == {"unparseable amount": 1}
    else:
        assert lines_of(ds_or_error)["a"] == amount


@pytest.mark.parametrize("order_hint, written, read", [
    ("25/12/2023", "05/01/24", date(2024, 1, 5)),     # day-first, two-digit year
    ("25/12/2023", "05/01/2024", date(2024, 1, 5)),
    ("25/12/2023", "1/5/2024", date(2024, 5, 1)),
    ("25/12/2023", "5.1.24", date(2024, 1, 5)),
    ("25/12/2023", "31-01-99", date(1999, 1, 31)),
    ("12/25/2023", "01/05/24", date(2024, 1, 5)),     # month-first
    ("12/25/2023", "1/5/2024", date(2024, 1, 5)),
    ("12/25/2023", "12/31/2024 23:59", date(2024, 12, 31)),
])
def test_day_month_and_year_forms(write, order_hint, written, read):
    ds = segcore.load_orders(write("dates.csv", f"customer_id,order_date,amount\nx,{order_hint},1\na,{written},1\n"))
    assert ds.con.execute("SELECT order_date FROM lines WHERE customer_id = 'a'").fetchone() == (read,)


def test_a_two_digit_year_among_four_digit_ones(write):
    # the file's dates are dd/mm/yyyy (read typed by DuckDB's reader), one is dd/mm/yy
    rows = [f"c{i % 9},{1 + i % 28:02d}/{1 + i % 12:02d}/2023,1" for i in range(300)] + ["z,05/01/24,1"]
    ds = segcore.load_orders(write("yy.csv", "customer_id,order_date,amount\n" + "\n".join(rows) + "\n"))
    assert ds.report.rows_used == 301
    assert ds.con.execute("SELECT order_date FROM lines WHERE customer_id = 'z'").fetchone() == (date(2024, 1, 5),)


def test_a_pipe_inside_an_id_does_not_make_the_file_pipe_delimited(write):
    ds = segcore.load_orders(write("pipe.csv", "customer_id,order_date,amount\nA|1,2024-01-01,5\nB,2024-01-02,6\n"))
    assert lines_of(ds) == {"A|1": 5, "B": 6}


def test_mixed_encodings_are_read_line_by_line_with_a_note(write, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes("customer,date,amount\n张三,2024-01-01,5\n".encode("utf-8")
                     + "李四,2024-01-02,7\n".encode("gbk") + "王五,2024-01-03,9\n".encode("utf-8"))
    ds = segcore.load_orders(path)
    assert lines_of(ds) == {"张三": 5, "李四": 7, "王五": 9}
    assert [n["code"] for n in ds.report.notes] == ["mixed_encoding"]
    assert ds.report.notes[0]["params"] == {"lines": 1, "encoding": "gb18030"}


def test_nul_bytes_are_removed_from_the_values_with_a_note(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"customer_id,order_date,amount\nA\x00,2024-01-01,5\nB,2024-01-02,6\n"
                     + b"C,2024-01-03,7\n" * 100 + b"\x00,2024-01-04,x\x00y\n")
    ds = segcore.load_orders(path)
    assert lines_of(ds)["A"] == 5 and ds.report.rows_used == 102
    assert ds.report.rejected == {"missing customer id": 1}
    assert ds.rejected_rows().iloc[0].tolist() == [103, "", "2024-01-04", "xy", "missing customer id"]
    assert [(n["code"], n["params"]) for n in ds.report.notes] == [("nul_removed", {"count": 3})]


def test_parquet_with_nan_in_a_float_id_column(tmp_path):
    path = tmp_path / "nan_ids.parquet"
    pd.DataFrame({"CustomerID": [17850.0, float("nan"), 13047.0], "date": ["2024-01-01"] * 3,
                  "amount": [10.0, 20.0, 5.5]}).to_parquet(path)
    ds = segcore.load_orders(path)
    assert ds.report.rejected == {"missing customer id": 1}
    assert lines_of(ds) == {"17850": 10.0, "13047": 5.5}


# --- Excel: bombs refused, sheets listed and chosen ------------------------------------------------

def test_an_excel_decompression_bomb_is_refused_before_reading(tmp_path):
    import zipfile

    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/worksheets/sheet1.xml", "<row>" + " " * (200 << 20) + "</row>")
    assert path.stat().st_size < 1 << 20
    with pytest.raises(segcore.IngestError) as err:
        segcore.load_orders(path)
    assert err.value.code == "too_big" and "bomb.xlsx" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(segcore.IngestError):
        segcore.sources.excel_sheets(path)


def workbook(path, sheets):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def test_a_workbook_with_several_sheets(tmp_path):
    path = workbook(tmp_path / "book.xlsx", {
        "Notes": [["Exported 2024-02-01"]],
        "Orders": [["customer", "date", "amount"], ["a", "2024-01-01", 5], ["b", "2024-01-02", 6]],
        "Returns": [["customer", "date", "amount"], ["a", "2024-01-05", -2]],
    })
    assert segcore.sources.excel_sheets(path) == ["Notes", "Orders", "Returns"]
    ds = segcore.load_orders(path)
    assert (ds.report.sheet, ds.report.sheets) == ("Orders", ["Notes", "Orders", "Returns"])
    assert "Sheet: Orders (also in the workbook: Notes, Returns)" in ds.report.lines()
    assert lines_of(ds) == {"a": 5, "b": 6}
    ds = segcore.load_orders(path, sheet="Returns")
    assert ds.report.sheet == "Returns" and lines_of(ds) == {"a": -2}
    with pytest.raises(segcore.IngestError) as err:
        segcore.load_orders(path, sheet="Nope")
    assert err.value.code == "no_sheet" and err.value.params["sheets"] == ["Notes", "Orders", "Returns"]


def test_excel_is_read_in_a_worker_whose_memory_is_limited(tmp_path, monkeypatch):
    path = workbook(tmp_path / "orders.xlsx", {"Orders": [["customer", "date", "amount"]]
                                               + [[f"c{i}", "2024-01-01", i] for i in range(2000)]})
    assert segcore.load_orders(path).report.rows_used == 2000
    monkeypatch.setenv("SEGCORE_EXCEL_MEMORY_MB", "40")  # less than the worker needs to start
    with pytest.raises(segcore.IngestError) as err:
        segcore.load_orders(path)
    assert err.value.code == "too_big" and "40 MB" in str(err.value)


# --- count-only files, re-mapping --------------------------------------------------------------------

@pytest.mark.parametrize("header", ["cust", "cust_id", "CustID", "cid", "buyer", "member", "Member No"])
def test_a_visit_log_without_amounts_loads_count_only(write, header):
    text = (f"{header},visit date\n"
            "A,2024-01-01\nA,2024-01-01\nA,2024-01-05\n"   # two visits on one day are two orders
            "B,2024-01-03\n,2024-01-04\n")
    ds = segcore.load_orders(write("visits.csv", text))
    r = ds.report
    assert (r.amount_source, r.rows_used, r.rejected, r.returns_count) == ("none", 4, {"missing customer id": 1}, 0)
    assert not ds.has("amount") and "Amount: none" in r.lines()[2]
    m = metrics(ds)
    assert m.frequency.to_dict() == {"A": 3, "B": 1}
    assert (m.loc["A"].recency_days, m.loc["A"].avg_interval_days, m.loc["B"].recency_days) == (0, 4, 2)
    assert m[["monetary", "avg_order_value", "spend_first_half", "spend_second_half", "trend"]].isna().all().all()


def test_count_only_with_an_order_id_counts_orders(write):
    ds = segcore.load_orders(write("tickets.csv", "ticket,member,date\nT1,A,2024-01-01\nT1,A,2024-01-01\n"
                                                  "T2,A,2024-01-02\nT3,B,2024-01-02\n"), {"order_id": "ticket"})
    assert metrics(ds).frequency.to_dict() == {"A": 2, "B": 1}


def test_remapping_reads_the_file_again(write):
    path = write("two_amounts.csv", "客户,日期,金额,实付金额\na,2024-01-01,100,90\nb,2024-01-02,x,5\n")
    ds = segcore.load_orders(path)
    again = segcore.load_orders(ds.source, {"amount": "金额"})
    assert (lines_of(ds), lines_of(again)) == ({"a": 90, "b": 5}, {"a": 100})
    assert again.report == segcore.load_orders(path, {"amount": "金额"}).report
    assert again.rejected_rows().iloc[0].tolist() == [2, "b", "2024-01-02", "x", "5", "unparseable amount"]


def test_line_ends_mixed_in_one_file(tmp_path):
    # the header ends in \n and the rows in \r\n (as in the CDNOW file); and a file whose \n-only
    # line comes after the first 64 KB
    path = tmp_path / "mixed_ends.csv"
    path.write_bytes(b"customer_id,order_date,amount\n" + b"a,2024-01-01,5\r\n" * 3 + b"b,2024-01-02,7\r\n")
    assert lines_of(segcore.load_orders(path)) == {"a": 5, "b": 7}
    path.write_bytes(b"customer_id,order_date,amount\r\n" + b"a,2024-01-01,5\r\n" * 9000 + b"b,2024-01-02,7\n")
    ds = segcore.load_orders(path)
    assert ds.report.rows_used == 9001 and lines_of(ds)["b"] == 7


@pytest.mark.parametrize("amounts, sign, position", [
    (['"£12.50"', "£-3", "4"], "£", "before"),           # one plain number among them
    (['"￥1,200.50"', "￥3", "300元"], "￥", "before"),   # the sign most amounts carry
    (["12 GBP", "4 gbp", "5"], "£", "after"),             # a word gives its sign
    (['"1.234,56 €"', "3 €", "$2"], "€", "after"),
    (["$5", "USD 7"], "$", "before"),
    (["12", "4.50", "-3"], None, "before"),               # no sign: none shown
])
def test_the_currency_the_amounts_carry_is_detected(write, amounts, sign, position):
    rows = "".join(f"C{i},2024-01-0{i + 1},{a}\n" for i, a in enumerate(amounts))
    report = segcore.load_orders(write("o.csv", "customer_id,order_date,amount\n" + rows)).report
    assert (report.currency, report.currency_position) == (sign, position)
    assert report.rows_used == len(amounts)
    assert (f"Currency: {sign} (written {position} the amounts)" in report.lines()) == (sign is not None)


def test_the_currency_of_unit_prices_and_of_a_count_only_file(write):
    priced = segcore.load_orders(write("p.csv", "customer,date,quantity,unit price\nA,2024-01-01,2,€3.50\n"))
    assert priced.report.currency == "€" and priced.report.currency_position == "before"
    visits = segcore.load_orders(write("v.csv", "customer,date\nA,2024-01-01\n"))
    assert visits.report.currency is None
