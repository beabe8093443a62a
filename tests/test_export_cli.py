"""Exports (formula safety, encodings, sheets) and the command line."""

import csv
import io
import json
import subprocess
import sys
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

import segcore
from segcore import forecast, models
from segcore.cli import main

from .conftest import CDNOW, CDNOW_SAMPLE, REPO, SAMPLE, needs_cdnow, needs_cdnow_sample, repeat_buyers_file

DANGEROUS = ["=1+1", "+33 612", "-2", "@SUM(A1)", "  =HYPERLINK(\"x\")", "\t=cmd", "\n+1"]


def test_neutralise_text_cells_only():
    df = pd.DataFrame({"customer_id": DANGEROUS + ["ok", "a=b"],
                       "monetary": [-5.0] * 9, "first_order_date": pd.to_datetime(["2024-01-02"] * 9)})
    safe = segcore.neutralise(df)
    assert safe.customer_id.tolist() == ["'" + v for v in DANGEROUS] + ["ok", "a=b"]
    assert safe.monetary.tolist() == [-5.0] * 9  # numbers stay numbers
    assert safe.first_order_date.iloc[0] == "2024-01-02"


def test_csv_export_has_bom_and_no_formula_cells():
    df = pd.DataFrame({"customer_id": DANGEROUS, "tier": ["=A"] * len(DANGEROUS)})
    data = segcore.to_csv_bytes(df)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    for row in rows[1:]:
        for cell in row:
            assert not cell.lstrip(" \t\r\n").startswith(("=", "+", "-", "@"))


def test_excel_export_sheets_and_safety(tmp_path, write):
    openpyxl = pytest.importorskip("openpyxl")
    ds = segcore.load_orders(write("o.csv", "customer_id,order_date,amount\n=evil(),2024-01-01,100\n"
                                            "007,2024-01-02,10\n-1,2024-01-03,1\n"))
    rules = segcore.TierRules(labels=("金钻", "白银", "铜"))
    tiered = segcore.assign_tiers(segcore.customer_metrics(ds.con), rules)
    out = segcore.write_export(tiered, tmp_path / "t.xlsx", segcore.tier_summary(tiered, rules.labels),
                               rules.labels)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Summary", "金钻", "白银", "铜"]
    ids = [row[0] for sheet in book.sheetnames[1:] for row in book[sheet].iter_rows(min_row=2, values_only=True)]
    assert sorted(ids) == sorted(["'=evil()", "007", "'-1"])
    assert all(cell.data_type != "f" for sheet in book for row in sheet.iter_rows() for cell in row)
    assert [c.value for c in book["金钻"][1]][:3] == ["customer_id", "tier", "recency_days"]


def test_cli_tier_writes_csv_and_rejected(tmp_path, capsys):
    out, rejected = tmp_path / "tiers.csv", tmp_path / "rejected.csv"
    code = main(["tier", str(SAMPLE / "orders.csv"), "--out", str(out), "--rejected", str(rejected)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "Rows read: 27,009" in printed and "missing customer id: 388" in printed
    table = pd.read_csv(out, encoding="utf-8-sig", dtype={"customer_id": str})
    assert list(table.columns[:12]) == list(segcore.EXPORT_COLUMNS[:12])
    assert len(table) == table.customer_id.nunique() == 3000
    assert table.customer_id.str.match(r"C\d{5}$").all()
    assert set(table.tier) == {"A", "B", "C"}
    assert len(pd.read_csv(rejected, encoding="utf-8-sig")) == 388
    # scores and segments ride along, and match the engine's own call
    metrics = segcore.customer_metrics(segcore.load_orders(SAMPLE / "orders.csv").con)
    scored, _ = segcore.add_scores(metrics)
    expected = scored.set_index("customer_id").loc[table.customer_id]
    for col in ("r_score", "f_score", "m_score", "b_score", "composite_score", "rfm_segment"):
        assert table[col].tolist() == expected[col].tolist(), col
    assert set(table.rfm_segment) >= {"Champions", "Lost"}


def test_cli_score_method_cuts_levels_on_the_composite_score(tmp_path):
    out = tmp_path / "t.csv"
    assert main(["tier", str(SAMPLE / "orders.csv"), "--out", str(out), "--method", "score",
                 "--levels", "4", "--weights", "recency=2,frequency=1,monetary=1"]) == 0
    table = pd.read_csv(out, encoding="utf-8-sig")
    low = table.groupby("tier").composite_score.min()
    high = table.groupby("tier").composite_score.max()
    assert list(low.index) == ["A", "B", "C", "D"]
    assert all(low[a] > high[b] for a, b in zip("ABC", "BCD"))  # levels never split equal scores
    # the weights apply: recency counts twice
    w = (2 * table.r_score + table.f_score + table.m_score) / 4
    assert (w.round(6) == table.composite_score.round(6)).all()


def test_cli_options_change_the_tiers(tmp_path):
    out = tmp_path / "t.parquet"
    assert main(["tier", str(SAMPLE / "orders.csv"), "--out", str(out), "--by", "count",
                 "--a-share", "0.2", "--b-share", "0.5", "--as-of", "2026-06-30",
                 "--map", "amount=Amount"]) == 0
    table = pd.read_parquet(out)
    counts = table.tier.value_counts()
    assert counts["A"] == pytest.approx(0.2 * len(table), abs=1)
    assert pd.to_datetime(table.last_order_date).max() <= pd.Timestamp("2026-06-30")


@pytest.mark.parametrize("args, says", [
    (["tier", "missing.csv"], "Cannot use the file missing.csv: No such file or directory."),
    (["tier", str(SAMPLE / "orders.csv"), "--out", "no/such/folder/t.csv"],
     "Cannot use the file no/such/folder/t.csv: No such file or directory."),
    (["tier", str(SAMPLE / "orders.csv"), "--cuts", "0.5,abc"],
     "--cuts takes numbers like 0.5,0.8,0.95; got '0.5,abc'."),
    (["tier", str(SAMPLE / "orders.csv"), "--weights", "recency=high"], "--weights takes numbers like"),
    (["tier", str(REPO / "pyproject.toml")], "has only one column"),
    (["tier", str(SAMPLE / "orders.csv"), "--map", "colour=Amount"], "--map takes FIELD=COLUMN"),
    (["tier", str(SAMPLE / "orders.csv"), "--map", "amount=Nope"], "There is no column 'Nope'"),
    (["tier", str(SAMPLE / "orders.csv"), "--a-share", "0.9", "--b-share", "0.5"], "Cut shares"),
])
def test_cli_bad_input_exits_2_with_one_sentence(args, says):
    run = subprocess.run([sys.executable, "-m", "segcore", *args], capture_output=True, text=True,
                         cwd=REPO)
    assert run.returncode == 2
    assert says in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


@needs_cdnow
def test_cdnow_totals_and_customers_match_an_independent_computation():
    # Independent: plain csv module; an order is one customer-day; D = the latest date.
    days: dict[tuple[str, str], float] = {}
    total = 0.0
    with open(CDNOW, newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        key = (row["customer_id"], row["date"])
        days[key] = days.get(key, 0.0) + float(row["dollar_value"])
        total += float(row["dollar_value"])
    as_of = pd.Timestamp(max(r["date"] for r in rows))

    ds = segcore.load_orders(CDNOW)
    r = ds.report
    assert (r.rows_read, r.rows_used, r.rows_rejected, r.customers) == (69659, 69659, 0, 23570)
    assert (r.date_min.isoformat(), r.date_max.isoformat()) == ("1997-01-01", "1998-06-30")
    m = segcore.customer_metrics(ds.con).set_index("customer_id")
    assert m.monetary.sum() == pytest.approx(total, abs=0.5)
    for cid in ["00001", "00003", "07592", "14048", "23570"]:
        mine = sorted(d for (c, d), v in days.items() if c == cid and v > 0)
        assert m.loc[cid].frequency == len(mine)
        assert m.loc[cid].monetary == pytest.approx(sum(v for (c, _), v in days.items() if c == cid))
        assert m.loc[cid].recency_days == (as_of - pd.Timestamp(mine[-1])).days
    tiered = segcore.assign_tiers(m.reset_index())
    a = tiered[tiered.tier == "A"].sort_values("rank")
    # A is the smallest top set reaching 80% of spend: without its last customer it is below 80%.
    assert a.monetary.sum() / total >= 0.8 > (a.monetary.sum() - a.monetary.iloc[-1]) / total


def test_cli_config_file_gives_the_same_tiers_as_the_options(tmp_path):
    from segcore.settings import Settings, save_settings

    config = save_settings(Settings(labels=("金钻", "白银", "铜"), cuts=(0.7, 0.9), by="count"),
                           tmp_path / "settings.json")
    from_config, from_flags = tmp_path / "a.csv", tmp_path / "b.csv"
    assert main(["tier", str(SAMPLE / "orders.csv"), "--config", str(config), "--out", str(from_config)]) == 0
    assert main(["tier", str(SAMPLE / "orders.csv"), "--labels", "金钻,白银,铜", "--a-share", "0.7",
                 "--b-share", "0.9", "--by", "count", "--out", str(from_flags)]) == 0
    a, b = (pd.read_csv(p, encoding="utf-8-sig", dtype=str) for p in (from_config, from_flags))
    assert a.equals(b) and set(a.tier) == {"金钻", "白银", "铜"}
    # an option on the command line overrides the file
    assert main(["tier", str(SAMPLE / "orders.csv"), "--config", str(config), "--by", "value",
                 "--out", str(from_flags)]) == 0
    assert not pd.read_csv(from_flags, encoding="utf-8-sig", dtype=str).equals(a)


def test_cli_migrate_churn_followups_match_the_engine(tmp_path, capsys):
    from segcore.dynamics import churn_risk, migrate
    from segcore.playbook import default_playbook, follow_ups

    orders = str(SAMPLE / "orders.csv")
    ds = segcore.load_orders(orders)
    tiered = segcore.assign_tiers(segcore.customer_metrics(ds.con))
    for command, expected in [
        ("migrate", migrate(ds.con).customers),
        ("churn", churn_risk(tiered, k=2.0, drop_share=0.5, lapse_days=180)),
        ("followups", follow_ups(tiered, default_playbook())),
    ]:
        out = tmp_path / f"{command}.csv"
        assert main([command, orders, "--out", str(out)]) == 0
        written = pd.read_csv(out, encoding="utf-8-sig", dtype={"customer_id": str})
        assert written.customer_id.tolist() == expected.customer_id.tolist(), command
    printed = capsys.readouterr().out
    assert "upgraded" in printed and "Customers at risk" in printed and "overdue" in printed


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------

@needs_cdnow_sample
def test_cli_predict_writes_the_predictions_and_the_report(tmp_path, capsys):
    out, report = tmp_path / "predictions.csv", tmp_path / "report.json"
    code = main(["predict", str(CDNOW_SAMPLE), "--calibration-end", "1997-09-30", "--unit", "week",
                 "--horizon", "39", "--out", str(out), "--report", str(report)])
    printed = capsys.readouterr().out
    assert code == 0
    E = date(1997, 9, 30)
    fit = forecast.fit_models(forecast.customer_summary(segcore.load_orders(CDNOW_SAMPLE).con, E), E)
    bg = fit.bgnbd
    assert f"r {bg.r:.4f}  alpha {bg.alpha:.4f}  a {bg.a:.4f}  b {bg.b:.4f}" in printed
    assert "predicted 1,653 orders, actual 1,882 (12.1% under)" in printed
    table = pd.read_csv(out, encoding="utf-8-sig", dtype={"customer_id": str})
    assert list(table.columns) == [*forecast.PREDICTION_COLUMNS, "actual_orders"]
    assert len(table) == 2349 and table["actual_orders"].sum() == 1882
    expected = forecast.predict(fit, 39)
    assert table["clv"].tolist() == expected["clv"].tolist()
    assert table["expected_next_order_date"].fillna("").tolist() == \
        expected["expected_next_order_date"].dt.strftime("%Y-%m-%d").fillna("").tolist()
    data = json.loads(report.read_text())
    assert data["bgnbd"] == pytest.approx({"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b})
    assert data["gamma_gamma"] == pytest.approx({"p": 6.2488, "q": 3.7446, "v": 15.4477}, abs=1e-4)
    assert data["holdout"]["actual_orders"] == 1882
    assert data["holdout"]["predicted_orders"] == pytest.approx(1653.38, abs=0.01)
    assert set(data["holdout"]) >= {"predicted_orders", "actual_orders", "correlation", "mae"}
    assert data["warnings"] == []


@needs_cdnow_sample
def test_cli_predict_by_default_forecasts_from_the_last_date_and_checks_the_last_third(tmp_path, capsys):
    out, report = tmp_path / "p.csv", tmp_path / "r.json"
    config = tmp_path / "settings.json"
    segcore.save_settings(segcore.Settings(forecast_horizon=13, forecast_discount_rate=0.001), config)
    assert main(["predict", str(CDNOW_SAMPLE), "--config", str(config), "--out", str(out),
                 "--report", str(report)]) == 0
    printed = capsys.readouterr().out
    assert "Predictions from 1998-06-30" in printed and "horizon 13 weeks" in printed
    assert "Holdout check: fitted on the orders up to 1997-12-30, compared with 1997-12-31 to 1998-06-30" in printed
    data = json.loads(report.read_text())
    assert (data["calibration_end"], data["horizon"], data["discount_rate"]) == ("1998-06-30", 13, 0.001)
    assert data["holdout"]["calibration_end"] == "1997-12-30"
    assert "actual_orders" not in pd.read_csv(out, encoding="utf-8-sig").columns  # nothing after 1998-06-30


def test_cli_predict_says_plainly_when_the_data_cannot_support_a_fit(write, capsys, tmp_path):
    out = tmp_path / "p.csv"
    assert main(["predict", str(repeat_buyers_file(write, 5)), "--calibration-end", "2024-03-31",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("error: Only 5 customers ordered again after their first order up to 2024-03-31; "
                           "the model needs at least 20 repeat buyers.")
    assert not out.exists()


def test_cli_predict_export_is_formula_safe(write, tmp_path):
    rng = np.random.default_rng(8)
    first = rng.integers(0, 120, 400)
    x, t_x = models.simulate_bgnbd(models.BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426), (300 - first) / 7,
                                   rng)
    rows = []
    for i in range(400):  # customers with ids a spreadsheet would run
        last = int(first[i] + t_x[i] * 7)
        days = {int(first[i]), last, *rng.integers(first[i], last + 1, max(int(x[i]) - 1, 0)).tolist()}
        rows += [f"{'=+-@'[i % 4]}c{i},{date(2024, 1, 1) + timedelta(days=d)},{10 + i % 7}" for d in sorted(days)]
    out = tmp_path / "p.csv"
    assert main(["predict", str(write("o.csv", "customer_id,order_date,amount\n" + "\n".join(rows))),
                 "--out", str(out), "--unit", "day", "--horizon", "30"]) == 0
    ids = pd.read_csv(out, encoding="utf-8-sig", dtype=str)["customer_id"]
    assert len(ids) == 400 and all(i[0] == "'" and i[1] in "=+-@" for i in ids)


def test_cli_rejected_rows_are_formula_safe(tmp_path, write):
    orders = write("o.csv", 'customer_id,order_date,amount,product\n'
                            'c1,2024-01-01,10,tea\n'
                            ',2024-01-02,=1+2,=2*3\n'
                            '@c2,2024-01-03,+5,-tea\n'
                            'c3,someday,7,@SUM(A1)\n')
    for suffix in ("csv", "xlsx"):
        rejected = tmp_path / f"rejected.{suffix}"
        assert main(["tier", str(orders), "--rejected", str(rejected)]) == 0
        table = (pd.read_csv(rejected, encoding="utf-8-sig", dtype=str, keep_default_na=False) if suffix == "csv"
                 else pd.read_excel(rejected, dtype=str, keep_default_na=False, engine="calamine"))
        assert table["reason"].tolist() == ["missing customer id", "unparseable date"]
        assert table["amount"].tolist() == ["'=1+2", "7"]
        assert table["product"].tolist() == ["'=2*3", "'@SUM(A1)"]
        for cell in table.to_numpy().ravel():
            assert not str(cell).lstrip(" \t\r\n").startswith(("=", "+", "-", "@")), cell


@pytest.mark.parametrize("config, says", [
    ('{"labels": ' + "[" * 50_000 + "]" * 50_000 + "}", "nests lists or objects more than 8 levels deep"),
    ('{"migration_period": 1e300}', "The setting 'migration_period' must be"),
    ('{"segment_rules": [{"segment": "X", "r_min": 1, "r_max": 9, "f_min": 1, "f_max": 5, "m_min": 1, '
     '"m_max": 5}]}', "The setting 'segment_rules' rule 1 r_max must be a whole number from 1 to 5; got 9."),
    ('{"custom_cut_points": {"monetary": [5, 1, 2, 3]}}', "must be finite and strictly increasing"),
])
def test_cli_bad_settings_file_exits_2_with_one_sentence(tmp_path, config, says):
    path = tmp_path / "settings.json"
    path.write_text(config, encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "segcore", "tier", str(SAMPLE / "orders.csv"), "--config", str(path)],
                         capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 2 and run.stdout == ""  # refused before the data is read
    assert says in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_cli_a_file_of_returns_only_gets_its_follow_ups(tmp_path, write, capsys):
    orders = write("returns.csv", "customer_id,order_date,amount\nc1,2024-01-01,-5\nc2,2024-01-02,-3\n")
    out = tmp_path / "calls.csv"
    assert main(["followups", str(orders), "--out", str(out)]) == 0
    calls = pd.read_csv(out, encoding="utf-8-sig")
    assert calls["customer_id"].tolist() == ["c2", "c1"]  # same day: the larger spend (-3) first
    assert set(calls["next_contact_date"]) == {"2024-01-02"}  # never bought: due on the as-of date


# --------------------------------------------------------------------------------------------
# Exports in a language
# --------------------------------------------------------------------------------------------

ENGINE_ROWS = pd.DataFrame({
    "customer_id": ["=K1", "K2"], "tier": ["A", "B"], "risk": ["high", "low"],
    "reason": ["no order for 40 days", "spend fell"], "reason_zh": ["已 40 天未下单", "消费下降"],
    "stage": ["at risk", "new"], "rfm_segment": ["Champions", "Lost"], "overdue": [True, False],
    "monetary": [300.5, -20.0], "note": ["North", "=South"]})


def csv_rows(raw: bytes) -> list[list[str]]:
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


@pytest.mark.parametrize("lang, header, first, second", [
    ("zh", ["客户编号", "等级", "风险", "原因", "阶段", "RFM 分群", "超期", "净消费", "note"],
     ["'=K1", "A", "高风险", "已 40 天未下单", "流失风险", "冠军客户", "是", "300.5", "North"],
     ["K2", "B", "低风险", "消费下降", "新客户", "已流失", "否", "-20.0", "'=South"]),
    ("en", ["Customer ID", "Tier", "Risk", "Why", "Stage", "RFM segment", "Overdue", "Net spend", "note"],
     ["'=K1", "A", "High risk", "no order for 40 days", "At risk", "Champions", "Yes", "300.5", "North"],
     ["K2", "B", "Low risk", "spend fell", "New", "Lost", "No", "-20.0", "'=South"]),
    (None, list(ENGINE_ROWS.columns),
     ["'=K1", "A", "high", "no order for 40 days", "已 40 天未下单", "at risk", "Champions", "True", "300.5", "North"],
     ["K2", "B", "low", "spend fell", "消费下降", "new", "Lost", "False", "-20.0", "'=South"]),
])
def test_csv_and_excel_exports_name_headers_and_values_in_the_language(lang, header, first, second):
    openpyxl = pytest.importorskip("openpyxl")
    assert csv_rows(segcore.to_csv_bytes(ENGINE_ROWS, lang)) == [header, first, second]
    book = openpyxl.load_workbook(io.BytesIO(segcore.to_excel_bytes({"x": ENGINE_ROWS}, lang)))
    rows = [[c.value for c in row] for row in book["x"].iter_rows()]
    assert rows[0] == header and rows[1][:3] == first[:3] and rows[2][-2:] == [-20, "'=South"]
    assert all(cell.data_type != "f" for row in book["x"].iter_rows() for cell in row)


ORDERS = ("customer_id,order_date,amount\n"
          "K1,2024-01-01,100\nK1,2024-01-11,100\nK1,2024-01-21,100\n"   # every 10 days, then 40 days silent
          "K2,2024-02-20,50\nK2,2024-03-01,50\nK4,2024-03-01,30\n")


def test_cli_lang_zh_writes_chinese_headers_values_and_sheets(tmp_path, write):
    openpyxl = pytest.importorskip("openpyxl")
    orders = str(write("o.csv", ORDERS))
    out = tmp_path / "tiers.xlsx"
    assert main(["tier", orders, "--out", str(out), "--lang", "zh"]) == 0
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["汇总", "A", "B", "C"]
    summary = [[c.value for c in row] for row in book["汇总"].iter_rows()]
    assert summary[0] == ["等级", "客户数", "客户占比", "收入", "收入占比", "平均消费", "平均未购天数", "订单数", "订单占比"]
    assert [row[:2] for row in summary[1:]] == [["A", 2], ["B", 1], ["C", 0]]
    a = [[c.value for c in row] for row in book["A"].iter_rows()]
    assert a[0][:4] == ["客户编号", "等级", "未购天数", "订单数"] and a[0][-2:] == ["RFM 分群", "潜在客户"]
    assert [row[0] for row in a[1:]] == ["K1", "K2"] and a[1][-1] == "否"

    # K1 ordered every 10 days and has been silent for 40: 4 x the interval, at least 2 x k (k = 2): high risk
    risk = tmp_path / "risk.csv"
    assert main(["churn", orders, "--out", str(risk), "--lang", "zh"]) == 0
    rows = csv_rows(risk.read_bytes())
    assert rows[0][:4] == ["客户编号", "等级", "风险", "原因"] and "reason_zh" not in rows[0]
    assert [r[:3] for r in rows[1:]] == [["K1", "A", "高风险"]]
    assert rows[1][3].startswith("已 40 天未下单")
    assert dict(zip(rows[0], rows[1]))["超期"] == "是"

    mig = tmp_path / "mig.xlsx"
    assert main(["migrate", orders, "--before", "2024-02-01", "--out", str(mig), "--lang", "zh"]) == 0
    book = openpyxl.load_workbook(mig)
    assert book.sheetnames == ["汇总", "客户", "客户数矩阵", "收入矩阵", "升级", "降级", "新增", "流失"]
    assert [c.value for c in book["汇总"]["A"]] == ["变动", "升级", "降级", "新增", "流失", "等级不变"]
    assert [c.value for c in book["客户数矩阵"][1]][0] == "之前 → 之后"
    assert [c.value for c in book["新增"]["A"]] == ["客户编号", "K2", "K4"]

    calls = tmp_path / "calls.csv"
    assert main(["followups", orders, "--out", str(calls), "--lang", "zh"]) == 0
    rows = csv_rows(calls.read_bytes())
    assert rows[0][:3] == ["客户编号", "等级", "状态"]
    assert {r[2] for r in rows[1:]} <= {"已逾期", "7 天内到期", "稍后"}


def test_cli_lang_en_names_the_migration_sheets_and_every_command_takes_lang(tmp_path, write):
    openpyxl = pytest.importorskip("openpyxl")
    mig = tmp_path / "mig.xlsx"
    assert main(["migrate", str(write("o.csv", ORDERS)), "--before", "2024-02-01", "--out", str(mig),
                 "--lang", "en"]) == 0
    assert openpyxl.load_workbook(mig).sheetnames == [
        "Summary", "Customers", "Matrix customers", "Matrix revenue", "Upgraded", "Downgraded", "New", "Lost"]
    from segcore.cli import build_parser
    for command in ("tier", "migrate", "churn", "followups", "predict"):
        assert build_parser().parse_args([command, "o.csv", "--lang", "zh"]).lang == "zh"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["tier", "o.csv", "--lang", "fr"])


def test_money_headers_name_the_currency_the_amounts_carried(tmp_path, write):
    assert csv_rows(segcore.to_csv_bytes(ENGINE_ROWS[["customer_id", "monetary"]], "zh", "￥"))[0] == [
        "客户编号", "净消费（￥）"]
    assert csv_rows(segcore.to_csv_bytes(ENGINE_ROWS[["monetary"]], None, "￥"))[0] == ["monetary"]  # for scripts
    orders = write("o.csv", "customer_id,order_date,amount\nA,2024-01-01,£12.50\nB,2024-01-02,£4\n")
    out = tmp_path / "t.csv"
    assert main(["tier", str(orders), "--out", str(out), "--lang", "en"]) == 0
    header = csv_rows(out.read_bytes())[0]
    assert "Net spend (£)" in header and "Spend, first half (£)" in header and "Orders" in header
    config = write("s.json", '{"currency_symbol": "GBP", "currency_position": "after"}')
    assert main(["tier", str(orders), "--out", str(out), "--lang", "en", "--config", str(config)]) == 0
    assert "Net spend (GBP)" in csv_rows(out.read_bytes())[0]


def test_cli_rejected_rows_in_chinese_keep_the_files_headers(tmp_path, write):
    orders = write("o.csv", "客户,日期,amount\nA,2024-01-01,5\n,2024-01-02,7\nB,2024-13-45,1\n")
    rejected = tmp_path / "rejected.csv"
    assert main(["tier", str(orders), "--rejected", str(rejected), "--lang", "zh"]) == 0
    rows = csv_rows(rejected.read_bytes())
    assert rows[0] == ["行号", "客户", "日期", "amount", "原因"]
    assert [r[-1] for r in rows[1:]] == ["缺少客户编号", "无法识别的日期"]
