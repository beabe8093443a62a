"""A corpus of hostile input, generated on the fly (no binary files in the repository): orders files
that real exports and careless or malicious hands produce, and settings files.

``orders_cases()`` and ``settings_cases()`` give ``{name: (file name, bytes)}``; ``write(folder)``
writes every case into ``folder`` and returns their paths. Used by ``tests/test_hostile_corpus.py``
(through the command line and the app's upload path); ``python tests/hostile_corpus.py FOLDER``
writes the files for a person to try by hand.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

HEAD = "order_id,customer_id,order_date,amount\n"


def _csv(*lines: str, head: str = HEAD) -> bytes:
    return (head + "".join(line + "\n" for line in lines)).encode("utf-8")


def _xlsx(sheets: dict[str, list[list]]) -> bytes:
    """A small real workbook (openpyxl), one sheet per entry."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _bomb(unpacked_mb: int = 200) -> bytes:
    """An .xlsx whose one sheet unpacks to ``unpacked_mb`` MB from a few hundred KB (a
    decompression bomb), built with zipfile."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                   'spreadsheetml.sheet.main+xml"/></Types>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
                   'spreadsheetml/2006/main"><sheets><sheet name="Orders" sheetId="1" r:id="rId1" xmlns:r="x"/>'
                   '</sheets></workbook>')
        row = b'<row><c t="inlineStr"><is><t>C1</t></is></c><c><v>1</v></c></row>'
        chunk = row * ((1 << 20) // len(row))
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<?xml version="1.0"?><worksheet><sheetData>')
            for _ in range(unpacked_mb):
                sheet.write(chunk)
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def orders_cases() -> dict[str, tuple[str, bytes]]:
    """Hostile orders files by case name: (file name, content)."""
    c = {}
    # CSV quoting as Excel writes it (RFC 4180), and rows that really are malformed
    c["escaped quotes"] = ("quotes.csv", _csv('O1,C1,2024-01-01,"Tea tray 12"", red",10,25.0,250.0',
                                             head="order_id,customer_id,order_date,product,quantity,unit_price,amount\n"))
    c["comma inside quotes"] = ("comma.csv", _csv('O1,"Smith, John",2024-01-01,"1,250.00"', "O2,C2,2024-01-02,10"))
    c["line break inside quotes"] = ("multiline.csv", _csv('O1,C1,2024-01-01,10', 'O2,"C2\nsecond line",2024-01-02,5',
                                                           *(f"O{i},C{i % 7},2024-01-03,1" for i in range(3, 2000))))
    c["quoted id"] = ("quoted_id.csv", _csv('O1,"C""1",2024-01-01,10', "O2,C2,2024-01-02,5"))
    c["unterminated quote"] = ("unterminated.csv", _csv('O1,"C1,2024-01-01,10', "O2,C2,2024-01-02,5"))
    c["extra and missing cells"] = ("ragged.csv", _csv("O1,C1,2024-01-01,10,surprise", "O2,C2", "O3,C3,2024-01-03,7"))
    # numbers out of range or odd
    c["infinite amounts"] = ("inf.csv", _csv("O1,C1,2024-01-01,inf", "O2,C2,2024-01-02,-Infinity",
                                             "O3,C3,2024-01-03,NaN", "O4,C4,2024-01-04,12.5"))
    c["1e305 amounts"] = ("huge.csv", _csv("O1,C1,2024-01-01,1e305", "O2,C1,2024-01-02,1e305", "O3,C2,2024-01-03,3"))
    c["sum past the float range"] = ("overflow.csv", _csv(*(f"O{i},C1,2024-01-0{1 + i},1.7e308" for i in range(3)),
                                                          "O9,C2,2024-01-09,4"))
    c["tiny and signed zero"] = ("tiny.csv", _csv("O1,C1,2024-01-01,1e-400", "O2,C2,2024-01-02,-0", "O3,C3,2024-01-03,5"))
    c["1,2,3 and --5"] = ("odd_numbers.csv", _csv('O1,C1,2024-01-01,"1,2,3"', "O2,C2,2024-01-02,--5",
                                                  "O3,C3,2024-01-03,+-7", "O4,C4,2024-01-04,8"))
    c["currency and signs"] = ("money.csv", _csv('O1,C1,2024-01-01,£-3', 'O2,C2,2024-01-02,"(4.50)"',
                                                 "O3,C3,2024-01-03,¥1200", "O4,C4,2024-01-04,3-"))
    # dates out of range
    c["year 99999"] = ("far.csv", _csv("O1,C1,99999-01-01,10", "O2,C2,2024-01-02,5"))
    c["epoch and infinity dates"] = ("epoch.csv", _csv("O1,C1,epoch,10", "O2,C2,infinity,5", "O3,C3,-infinity,5",
                                                       "O4,C4,2024-01-04,6"))
    c["impossible dates"] = ("bad_dates.csv", _csv("O1,C1,2024-02-30,10", "O2,C2,0000-00-00,5", "O3,C3,1899-12-31,5",
                                                   "O4,C4,2024-13-01,1", "O5,C5,2024-01-05,2"))
    # bytes and encodings
    c["NUL byte early"] = ("nul_early.csv", b"order_id,customer_id\x00,order_date,amount\nO1,C1,2024-01-01,10\n")
    c["NUL byte late"] = ("nul_late.csv", _csv(*(f"O{i},C{i},2024-01-01,{i}" for i in range(1, 200)))
                          + b"O200,C\x00200,2024-01-02,3\n")
    c["mixed encodings"] = ("mixed.csv", _csv("O1,张三,2024-01-01,10") + "O2,李四,2024-01-02,5\n".encode("gbk"))
    c["GBK file"] = ("gbk.csv", "订单号,客户,日期,金额\nO1,张三,2024-01-01,10\nO2,李四,2024-01-02,5\n".encode("gbk"))
    c["UTF-16 file"] = ("utf16.csv", (HEAD + "O1,C1,2024-01-01,10\n").encode("utf-16"))
    c["BOM and CRLF"] = ("bom.csv", b"\xef\xbb\xbf" + _csv("O1,C1,2024-01-01,10", "O2,C2,2024-01-02,5").replace(b"\n", b"\r\n"))
    # structure
    c["pipe inside an id"] = ("pipe.csv", _csv("O1,C|1,2024-01-01,10", "O2,C2,2024-01-02,5"))
    c["semicolons and decimal commas"] = ("semicolon.csv", "order_id;customer_id;order_date;amount\n"
                                          "O1;C1;01.02.2024;10,50\nO2;C2;02.02.2024;5,25\n".encode())
    c["duplicate headers"] = ("dup_headers.csv", _csv("O1,C1,2024-01-01,10", head="order_id,customer_id,customer_id,amount\n"))
    c["one column"] = ("one_column.csv", b"customer\nC1\nC2\n")
    c["header only"] = ("header_only.csv", HEAD.encode())
    c["empty file"] = ("empty.csv", b"")
    c["a 1 MB cell"] = ("long_cell.csv", _csv(f"O1,{'C' * (1 << 20)},2024-01-01,10", "O2,C2,2024-01-02,5"))
    c["formula cells"] = ("formulas.csv", _csv("O1,=1+2,2024-01-01,10", 'O2,"=HYPERLINK(""http://e"")",2024-01-02,5',
                                               "O3,@SUM(A1),2024-01-03,5", "O4,+cmd,2024-01-04,5", "O5,-2+3,2024-01-05,7",
                                               "O6,C6,not a date,=1+1"))
    c["markdown and HTML in values"] = ("markup.csv", _csv("O1,![c](http://host/x.png),2024-01-01,10",
                                                           "O2,<script>alert(1)</script>,2024-01-02,5",
                                                           "O3,[x](http://e),2024-01-03,3"))
    # not a table at all
    c["PDF renamed .csv"] = ("report.csv", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
                             + bytes(range(256)) * 4 + b"\n%%EOF\n")
    c["HTML renamed .csv"] = ("page.csv", b"<!DOCTYPE html><html><body><table><tr><td>1</td></tr></table></body></html>\n")
    c["JSON renamed .csv"] = ("data.csv", json.dumps([{"customer_id": "C1", "amount": 1}]).encode())
    c["random bytes"] = ("noise.csv", bytes((i * 7919) % 256 for i in range(4096)))
    # workbooks
    c["Excel decompression bomb"] = ("bomb.xlsx", _bomb())
    c["workbook with a notes sheet first"] = ("book.xlsx", _xlsx({
        "Notes": [["Exported from the shop"]],
        "Orders": [["order_id", "customer_id", "order_date", "amount"], ["O1", "C1", "2024-01-01", 10],
                   ["O2", "=1+2", "2024-01-02", 5]]}))
    c["workbook renamed .csv"] = ("book_as.csv", _xlsx({"Orders": [["customer_id", "order_date", "amount"],
                                                                  ["C1", "2024-01-01", 10]]}))
    return c


def settings_cases() -> dict[str, tuple[str, bytes]]:
    """Hostile settings files by case name: (file name, content)."""
    c = {}
    c["deep nesting"] = ("deep.json", b'{"labels": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    c["migration_period 1e300"] = ("period.json", b'{"migration_period": 1e300}')
    c["NaN and Infinity"] = ("nan.json", b'{"churn_k": NaN, "cuts": [Infinity]}')
    c["invalid segment rules"] = ("rules.json", json.dumps({"segment_rules": [{"name": "X", "r": "high"}, 7]}).encode())
    c["invalid custom cut points"] = ("cuts.json", json.dumps({"custom_cut_points": {"monetary": ["a", None]}}).encode())
    c["cuts out of range"] = ("range.json", json.dumps({"cuts": [1.5, -2]}).encode())
    c["duplicate level names"] = ("labels.json", json.dumps({"labels": ["A", "A", "B"]}).encode())
    c["wrong types"] = ("types.json", json.dumps({"labels": "ABC", "churn_k": "three", "new_days": [1]}).encode())
    c["not an object"] = ("list.json", b"[1, 2, 3]")
    c["not JSON"] = ("text.json", b"labels = A, B, C\n")
    c["invalid UTF-8"] = ("bytes.json", b'{"labels": ["\xff\xfe"]}')
    c["huge file"] = ("huge.json", json.dumps({"playbook": [{"level": "A", "action": "x" * 1000}] * 5000}).encode())
    c["formula in a level name"] = ("formula.json", json.dumps({"labels": ["=1+2", "B", "C"]}).encode())
    return c


def write(folder) -> dict[str, Path]:
    """Every case written into ``folder`` (orders cases under their file names, settings under
    ``settings-<file name>``); their paths by case name."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for prefix, cases in (("", orders_cases()), ("settings-", settings_cases())):
        for name, (file_name, content) in cases.items():
            path = folder / f"{prefix}{file_name}"
            path.write_bytes(content)
            paths[name] = path
    return paths


if __name__ == "__main__":
    for case, path in write(sys.argv[1] if len(sys.argv) > 1 else "hostile_corpus").items():
        print(f"{case}: {path}")
