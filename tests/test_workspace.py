"""The workspace file: datasets, settings and snapshots persist across a restart, and a save killed
mid-way leaves the previous state intact."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import segcore
from segcore.dynamics import compare_tiers
from segcore.settings import Settings
from segcore.workspace import Workspace, WorkspaceError, default_workspace_path

REPO = Path(__file__).resolve().parents[1]

ORDERS = """order_id,customer_id,order_date,amount,product
O1,c1,2024-01-01,100,p1
O1,c1,2024-01-01,50,p2
O2,c1,2024-01-11,30,p1
O3,c2,2024-01-05,200,p3
O4,c3,2024-01-10,oops,p1
O5,c4,2024-01-20,60,p2
"""


def child(code: str, *args, wait=True, **kw):
    """Run ``code`` in a new Python process (the engine restarted) with segcore importable."""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-c", textwrap.dedent(code), *map(str, args)]
    if wait:
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, **kw)
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


@pytest.fixture
def orders(write):
    return write("orders.csv", ORDERS)


def test_save_open_delete_in_one_process(tmp_path, orders, write):
    ds = segcore.load_orders(orders)
    segcore.load_customers(ds, write("customers.csv", "customer_id,name,region\nc1,Ann,North\nc9,Zed,South\n"))
    segcore.load_interactions(ds, write("interactions.csv", "customer_id,date,type\nc1,2024-01-15,call\n"))
    ws = Workspace(tmp_path / "ws.duckdb")
    ws.save_dataset("January", ds, file_name="orders.csv")
    listed = ws.list_datasets()
    assert list(listed.name) == ["January"]
    assert (listed.file_name[0], listed.lines[0], listed.customers[0]) == ("orders.csv", 5, 3)
    assert (listed.date_min[0], listed.date_max[0]) == (date(2024, 1, 1), date(2024, 1, 20))
    assert (listed.has_customers[0], listed.has_interactions[0]) == (True, True)
    back = ws.open_dataset("January")
    assert back.report == ds.report and back.headers == ds.headers
    assert back.customer_attributes == ds.customer_attributes and back.side_reports == ds.side_reports
    pd.testing.assert_frame_equal(segcore.customer_metrics(back.con), segcore.customer_metrics(ds.con))
    pd.testing.assert_frame_equal(back.rejected_rows(), ds.rejected_rows())  # the row with "oops"
    # the orders file came along, so the dataset can be re-mapped like a fresh upload
    again = segcore.load_orders(back.source, {"product": ""})
    assert "product" not in again.mapping and again.report.rows_used == ds.report.rows_used
    with pytest.raises(WorkspaceError, match="already saved"):
        ws.save_dataset("January", ds, replace=False)
    with pytest.raises(WorkspaceError, match="No dataset named"):
        ws.open_dataset("February")
    assert ws.delete_dataset("January") and not ws.delete_dataset("January")
    assert ws.list_datasets().empty
    with duckdb.connect(str(tmp_path / "ws.duckdb")) as con:  # its tables went with it
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'd%\\_%' "
                           "ESCAPE '\\'").fetchone()[0] == 0


def test_replacing_a_dataset_keeps_one(tmp_path, orders, write):
    ws = Workspace(tmp_path / "ws.duckdb")
    ws.save_dataset("shop", segcore.load_orders(orders))
    bigger = write("bigger.csv", ORDERS + "O6,c5,2024-01-21,10,p1\n")
    ws.save_dataset("shop", segcore.load_orders(bigger))
    assert list(ws.list_datasets().lines) == [6]
    assert list(ws.list_datasets().has_customers) == [False]   # orders only


def test_settings_and_snapshots(tmp_path, orders):
    ws = Workspace(tmp_path / "ws.duckdb")
    s = Settings(labels=("金钻", "白银", "铜"), prospect_label="铁", churn_k=3.0)
    ws.save_settings("monthly", s)
    ws.save_settings("monthly", s)  # replaced, not doubled
    assert list(ws.list_settings().name) == ["monthly"] and ws.load_settings("monthly") == s
    ds = segcore.load_orders(orders)
    early = segcore.assign_tiers(segcore.customer_metrics(ds.con, as_of=date(2024, 1, 11)), s.tier_rules())
    now = segcore.assign_tiers(segcore.customer_metrics(ds.con), s.tier_rules())
    sid = ws.save_snapshot("January", early, date(2024, 1, 11), s)
    snaps = ws.list_snapshots("January")
    assert list(snaps.id) == [sid] and (snaps.customers[0], snaps.revenue[0]) == (2, 380.0)
    snap = ws.load_snapshot(sid)
    assert (snap.dataset, snap.as_of, snap.settings, snap.labels) == ("January", date(2024, 1, 11), s,
                                                                      ("金钻", "白银", "铜"))
    assert list(snap.tiers.customer_id) == ["c1", "c2"]  # c3's only line was rejected
    assert list(snap.tiers.tier) == [str(t) for t in early.tier]
    # compare a saved snapshot with the tiers now: c4 bought after the snapshot, so it is new
    mig = compare_tiers(snap.tiers, now, snap.labels, as_of_before=snap.as_of, as_of_after=date(2024, 1, 20))
    assert mig.customers.set_index("customer_id").movement["c4"] == "new"
    assert ws.delete_snapshot(sid) and ws.list_snapshots().empty
    assert ws.delete_settings("monthly") and not ws.delete_settings("monthly")
    with pytest.raises(WorkspaceError):
        ws.load_settings("monthly")


def test_persistence_across_a_restart(tmp_path, orders):
    path = tmp_path / "ws.duckdb"
    writer = child("""
        import sys
        from datetime import date
        import segcore
        from segcore.settings import Settings
        from segcore.workspace import Workspace
        ws = Workspace(sys.argv[1])
        ds = segcore.load_orders(sys.argv[2])
        ws.save_dataset("shop", ds, file_name="orders.csv")
        s = Settings(labels=("Gold", "Silver", "Bronze"), churn_k=2.5)
        ws.save_settings("quarterly", s)
        tiered = segcore.assign_tiers(segcore.customer_metrics(ds.con), s.tier_rules())
        ws.save_snapshot("shop", tiered, date(2024, 1, 20), s, name="Q1")
        """, path, orders)
    assert writer.returncode == 0, writer.stderr
    ws = Workspace(path)  # this process never saw the data: everything comes from the file
    ds = ws.open_dataset("shop")
    expected = segcore.customer_metrics(segcore.load_orders(orders).con)
    pd.testing.assert_frame_equal(segcore.customer_metrics(ds.con), expected)
    assert ws.load_settings("quarterly").labels == ("Gold", "Silver", "Bronze")
    snap = ws.load_snapshot(int(ws.list_snapshots("shop").id[0]))
    assert (snap.name, snap.as_of, snap.settings.churn_k) == ("Q1", date(2024, 1, 20), 2.5)
    assert set(snap.tiers.tier) == {"Gold", "Silver"}


# The saving process: builds a dataset of N order lines in memory, then saves it as "shop",
# replacing the one saved before. In "pause" mode it stops inside the transaction, just before
# COMMIT, with every row written, and says so; in "run" mode it says when the save starts.
SAVER = """
    import sys, time
    import duckdb
    from segcore.ingest import parse_loaded
    from segcore.workspace import Workspace
    path, mode, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    con = duckdb.connect()
    con.execute('''CREATE TABLE raw AS
        SELECT 'O' || (i // 3) AS c0, 'C' || (hash(i) % 50000) AS c1,
               CAST(DATE '2023-01-01' + CAST(hash(i * 7) % 700 AS INTEGER) AS VARCHAR) AS c2,
               CAST(round((hash(i * 11) % 10000) / 100.0, 2) AS VARCHAR) AS c3,
               'P' || (hash(i * 13) % 300) AS c4
        FROM range($n) t(i)''', {"n": n})
    ds = parse_loaded(con, ["order_id", "customer_id", "order_date", "amount", "product"],
                      "big.csv", "csv", "utf-8")
    ws = Workspace(path)
    if mode == "pause":
        def pause():
            print("committing", flush=True)
            time.sleep(600)
        ws._before_commit = pause
    print("saving", flush=True)
    ws.save_dataset("shop", ds)
    print("saved", flush=True)
"""


def _prepare(path, orders) -> tuple[pd.DataFrame, int]:
    ws = Workspace(path)
    ws.save_dataset("shop", segcore.load_orders(orders))
    ws.save_settings("monthly", Settings(churn_k=3.0))
    with duckdb.connect(str(path)) as con:
        tables = con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()[0]
    return segcore.customer_metrics(ws.open_dataset("shop").con), tables


def _check_intact(path, metrics, tables):
    """The file opens, in a new process too, and holds exactly the state before the killed save."""
    reader = child("""
        import sys
        from segcore.workspace import Workspace
        ws = Workspace(sys.argv[1])
        print(list(ws.list_datasets().lines), ws.load_settings("monthly").churn_k)
        """, path)
    assert reader.returncode == 0, reader.stderr
    assert reader.stdout.split("\n")[0] == "[5] 3.0"
    ws = Workspace(path)
    pd.testing.assert_frame_equal(segcore.customer_metrics(ws.open_dataset("shop").con), metrics)
    with duckdb.connect(str(path)) as con:  # no half-written tables left behind
        assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()[0] == tables
    ws.save_settings("after", Settings())  # and it still takes writes
    assert set(ws.list_settings().name) == {"monthly", "after"}


def _kill_when(proc, line: str, delay: float = 0.0) -> None:
    for out in proc.stdout:
        if out.strip() == line:
            break
    else:
        pytest.fail(f"the saving process ended early: {proc.stderr.read()}")
    time.sleep(delay)
    assert proc.poll() is None, "the save finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def test_kill_just_before_commit_leaves_previous_state(tmp_path, orders):
    path = tmp_path / "ws.duckdb"
    metrics, tables = _prepare(path, orders)
    proc = child(SAVER, path, "pause", 300_000, wait=False)
    _kill_when(proc, "committing")  # every new row is written, nothing committed
    _check_intact(path, metrics, tables)


def test_kill_in_the_middle_of_a_big_save(tmp_path, orders):
    path = tmp_path / "ws.duckdb"
    metrics, tables = _prepare(path, orders)
    proc = child(SAVER, path, "run", 2_000_000, wait=False)  # the save itself takes ~2 s
    _kill_when(proc, "saving", delay=0.3)
    _check_intact(path, metrics, tables)


def test_waits_for_and_then_reports_another_process(tmp_path):
    path = tmp_path / "ws.duckdb"
    ws = Workspace(path)
    with ws._attached():  # this process holds the file
        other = child("""
            import sys
            from segcore.workspace import Workspace, WorkspaceError
            try:
                Workspace(sys.argv[1], timeout=0.5)
            except WorkspaceError as err:
                print(err)
            """, path)
    assert "in use by another program" in other.stdout, other.stderr
    assert ws.list_settings().empty  # and once it lets go, the file is free again


def test_threads_share_one_workspace(tmp_path):
    ws = Workspace(tmp_path / "ws.duckdb")
    errors = []

    def work(i):
        try:
            for j in range(10):
                ws.save_settings(f"s{i}-{j}", Settings(churn_k=1.0 + j))
                ws.list_settings()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(ws.list_settings()) == 40


def test_default_location(monkeypatch, tmp_path):
    monkeypatch.delenv("SEGCORE_WORKSPACE", raising=False)
    monkeypatch.setenv("SEGCORE_HOME", str(tmp_path / "home"))
    assert default_workspace_path() == tmp_path / "home" / "workspace.duckdb"
    monkeypatch.setenv("SEGCORE_WORKSPACE", str(tmp_path / "elsewhere" / "my.duckdb"))
    assert default_workspace_path() == tmp_path / "elsewhere" / "my.duckdb"
    ws = Workspace()
    assert ws.path == (tmp_path / "elsewhere" / "my.duckdb").resolve() and ws.path.exists()
    monkeypatch.delenv("SEGCORE_WORKSPACE")
    monkeypatch.delenv("SEGCORE_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert default_workspace_path() == tmp_path / "xdg" / "segcore" / "workspace.duckdb"


def test_a_dataset_saved_before_the_file_was_kept_still_opens(tmp_path, orders):
    """Datasets saved by earlier versions kept the text table ``raw`` and no cells in ``parsed``."""
    from segcore.workspace import _dumps

    ds = segcore.load_orders(orders)
    segcore.read_table(ds.con, orders)  # the text table raw, as it was kept then
    path = tmp_path / "ws.duckdb"
    Workspace(path)
    ds.con.execute(f"ATTACH '{path}' AS ws")
    ds.con.execute("CREATE TABLE ws.d1_raw AS SELECT rowid AS _rowid, * FROM raw")
    ds.con.execute("""CREATE TABLE ws.d1_parsed AS SELECT rowid AS _rowid, rowid + 1 AS _row, customer_id,
                          order_date, amount, order_id, product, NULL::VARCHAR AS category,
                          NULL::VARCHAR AS region, NULL::VARCHAR AS city, NULL::VARCHAR AS channel, reason
                      FROM parsed""")
    ds.con.execute("INSERT INTO ws.datasets VALUES (1, 'old', now()::TIMESTAMP, 'orders.csv', $h, $r, '{}', "
                   "'[\"raw\", \"parsed\"]', 5, 3)", {"h": _dumps(ds.headers), "r": _dumps(ds.report)})
    ds.con.execute("DETACH ws")
    back = Workspace(path).open_dataset("old")
    pd.testing.assert_frame_equal(back.rejected_rows(), ds.rejected_rows())
    pd.testing.assert_frame_equal(segcore.customer_metrics(back.con), segcore.customer_metrics(ds.con))
    assert back.report == ds.report
    assert "product" not in segcore.load_orders(back.source, {"product": ""}, con=back.con).mapping
