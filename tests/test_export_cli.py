"""Exports (formula safety, encodings, sheets) and the command line."""

import csv
import io
import subprocess
import sys

import pandas as pd
import pytest

import segcore
from segcore.cli import main

from .conftest import CDNOW, REPO, SAMPLE, needs_cdnow

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
    (["tier", "missing.csv"], "No such file"),
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
