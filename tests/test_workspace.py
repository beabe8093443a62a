"""The workspace file: datasets, settings and snapshots persist across a restart, and a save killed
mid-way leaves the previous state intact."""

import hashlib
import io
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
from segcore.workspace import (Workspace, WorkspaceError, browser_workspace, content_key, default_workspace_path,
                               new_workspace_key, safe_file_name, valid_workspace_key, workspace_mode)

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
    key = content_key(ds)
    sid = ws.save_snapshot("January", early, date(2024, 1, 11), s, content=key)
    snaps = ws.list_snapshots(key)
    assert list(snaps.id) == [sid] and (snaps.customers[0], snaps.revenue[0]) == (2, 380.0)
    snap = ws.load_snapshot(sid)
    assert (snap.dataset, snap.content, snap.as_of, snap.settings, snap.labels) == (
        "January", key, date(2024, 1, 11), s, ("金钻", "白银", "铜"))
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
        from segcore.workspace import Workspace, content_key
        ws = Workspace(sys.argv[1])
        ds = segcore.load_orders(sys.argv[2])
        ws.save_dataset("shop", ds, file_name="orders.csv")
        s = Settings(labels=("Gold", "Silver", "Bronze"), churn_k=2.5)
        ws.save_settings("quarterly", s)
        tiered = segcore.assign_tiers(segcore.customer_metrics(ds.con), s.tier_rules())
        ws.save_snapshot("shop", tiered, date(2024, 1, 20), s, content=content_key(ds), name="Q1")
        """, path, orders)
    assert writer.returncode == 0, writer.stderr
    ws = Workspace(path)  # this process never saw the data: everything comes from the file
    ds = ws.open_dataset("shop")
    expected = segcore.customer_metrics(segcore.load_orders(orders).con)
    pd.testing.assert_frame_equal(segcore.customer_metrics(ds.con), expected)
    assert ws.load_settings("quarterly").labels == ("Gold", "Silver", "Bronze")
    snap = ws.load_snapshot(int(ws.list_snapshots(content_key(ds)).id[0]))
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
    with ws._use(write=True):  # this process holds the file
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


# --- whose rows: one workspace file, many owners ------------------------------------------------------

OTHER_ORDERS = """order_id,customer_id,order_date,amount
X1,z1,2024-02-01,999
X2,z2,2024-02-03,5
"""


def test_two_browsers_never_see_each_others_rows(tmp_path, orders, write):
    path = tmp_path / "ws.duckdb"
    key_a, key_b = new_workspace_key(), new_workspace_key()
    a, b, shared = Workspace(path, key=key_a), Workspace(path, key=key_b), Workspace(path)
    mine = segcore.load_orders(orders)
    (tmp_path / "other").mkdir()
    theirs = segcore.load_orders(write("other/orders.csv", OTHER_ORDERS))  # also named orders.csv
    a.save_dataset("shop", mine, file_name="orders.csv")
    a.save_settings("monthly", Settings(churn_k=3.0))
    tiered = segcore.assign_tiers(segcore.customer_metrics(mine.con))
    snap_a = a.save_snapshot("orders.csv", tiered, date(2024, 1, 20), content=content_key(mine))
    a.save_session(source="saved", dataset="shop", settings=Settings(churn_k=3.0))

    # b: nothing of a's, under the same names
    assert b.list_datasets().empty and b.list_settings().empty and b.list_snapshots().empty
    assert b.last_session() is None and shared.list_datasets().empty and shared.list_snapshots().empty
    assert b.list_snapshots(content_key(mine)).empty
    for read in (lambda: b.open_dataset("shop"), lambda: b.load_settings("monthly"),
                 lambda: b.load_snapshot(snap_a)):
        with pytest.raises(WorkspaceError) as err:
            read()
        assert err.value.code == "not_found"
    assert not b.delete_dataset("shop") and not b.delete_settings("monthly") and not b.delete_snapshot(snap_a)

    # b saves its own "shop" and snapshot: a's stay as they were
    b.save_dataset("shop", theirs, file_name="orders.csv")
    b.save_snapshot("orders.csv", segcore.assign_tiers(segcore.customer_metrics(theirs.con)), date(2024, 1, 20),
                    content=content_key(theirs))
    assert list(a.list_datasets().lines) == [5] and list(b.list_datasets().lines) == [2]
    assert segcore.customer_metrics(b.open_dataset("shop").con).customer_id.tolist() == ["z1", "z2"]
    assert list(a.list_snapshots().id) == [snap_a] and len(b.list_snapshots()) == 1
    assert content_key(mine) != content_key(theirs)
    assert b.delete_dataset("shop") and list(a.list_datasets().name) == ["shop"]
    assert a.last_session().dataset == "shop" and a.last_session().settings.churn_k == 3.0

    # a key is not a way in: only its hash is in the file
    data = path.read_bytes()
    assert key_a.encode() not in data and key_b.encode() not in data


@pytest.mark.parametrize("key", ["", "short", "../../etc/passwd" + "x" * 16, "x" * 31 + "/", None])
def test_a_malformed_key_opens_nothing(tmp_path, key, monkeypatch):
    monkeypatch.delenv("SEGCORE_WORKSPACE_MODE", raising=False)
    with pytest.raises(WorkspaceError) as err:
        browser_workspace(key, tmp_path / "ws.duckdb")
    assert err.value.code == "bad_key"
    assert not (tmp_path / "ws.duckdb").exists()


def test_workspace_mode(tmp_path, monkeypatch):
    path = tmp_path / "ws.duckdb"
    Workspace(path).save_settings("team", Settings())
    key = new_workspace_key()
    assert valid_workspace_key(key) and key != new_workspace_key()
    monkeypatch.delenv("SEGCORE_WORKSPACE_MODE", raising=False)
    assert workspace_mode() == "private" and browser_workspace(key, path).list_settings().empty
    monkeypatch.setenv("SEGCORE_WORKSPACE_MODE", "Shared")
    assert workspace_mode() == "shared" and list(browser_workspace(key, path).list_settings().name) == ["team"]
    assert list(browser_workspace(None, path).list_settings().name) == ["team"]
    monkeypatch.setenv("SEGCORE_WORKSPACE_MODE", "everyone")
    with pytest.raises(WorkspaceError, match="SEGCORE_WORKSPACE_MODE must be 'private' or 'shared'"):
        browser_workspace(key, path)


def test_snapshots_are_keyed_by_content_not_by_file_name(tmp_path, orders, write):
    ws = Workspace(tmp_path / "ws.duckdb", key=new_workspace_key())
    ds = segcore.load_orders(orders)
    # the same orders in another order, another file name and format: the same content
    lines = ORDERS.strip().splitlines()
    shuffled = segcore.load_orders(write("renamed.tsv", "\n".join([lines[0], *reversed(lines[1:])]).replace(",", "\t")))
    assert content_key(shuffled) == content_key(ds)
    changed = segcore.load_orders(write("orders2.csv", ORDERS.replace("O5,c4,2024-01-20,60", "O5,c4,2024-01-20,61")))
    assert content_key(changed) != content_key(ds)
    tiered = segcore.assign_tiers(segcore.customer_metrics(ds.con))
    first = ws.save_snapshot("orders.csv", tiered, date(2024, 1, 20), content=content_key(ds))
    other = ws.save_snapshot("orders.csv", tiered, date(2024, 1, 20), content=content_key(changed))
    again = ws.save_snapshot("renamed.tsv", tiered, date(2024, 1, 20), content=content_key(shuffled))
    assert set(ws.list_snapshots().id) == {other, again}  # same content, date and name: replaced
    assert list(ws.list_snapshots(content_key(ds)).id) == [again] and first != again


def test_the_last_session_reopens_after_a_reload(tmp_path, monkeypatch):
    path = tmp_path / "ws.duckdb"
    key = new_workspace_key()
    ws = Workspace(path, key=key)
    seen = []
    kept = ws.store_upload(io.BytesIO(ORDERS.encode()), "orders.csv", size=len(ORDERS), progress=seen.append)
    assert seen[-1] == 1.0 and kept.name == "orders.csv" and kept.size == len(ORDERS)
    assert kept.sha256 == hashlib.sha256(ORDERS.encode()).hexdigest()
    settings = Settings(labels=("Gold", "Silver", "Bronze"), mapping={"amount": "amount"})
    ws.save_session(source="upload", files={"orders": kept}, settings=settings)

    # a reload: a new session in a new process, with the same key, finds the file and the settings
    back = child("""
        import sys
        import segcore
        from segcore.workspace import Workspace
        last = Workspace(sys.argv[1], key=sys.argv[2]).last_session()
        ds = segcore.load_orders(last.files["orders"].path, last.settings.mapping)
        print(last.source, last.files["orders"].name, last.settings.labels[0], ds.report.rows_used, last.missing)
        """, path, key)
    assert back.returncode == 0, back.stderr
    assert back.stdout.split() == ["upload", "orders.csv", "Gold", "5", "()"]
    assert Workspace(path, key=new_workspace_key()).last_session() is None   # another browser: nothing

    # a second upload replaces the first in the session; the first file goes once it is a day old
    upload = io.BytesIO(OTHER_ORDERS.encode())
    upload.read()   # a stream read before (the app looked at it) is kept from its start
    newer = ws.store_upload(upload, "march.csv")
    assert newer.path.read_text() == OTHER_ORDERS
    ws.save_session(source="upload", files={"orders": newer}, settings=None)
    assert kept.path.exists()  # another tab may still be reading it
    old = time.time() - 2 * 86400
    os.utime(kept.path.parent, (old, old))
    ws.save_session(source="upload", files={"orders": newer})
    assert not kept.path.exists() and newer.path.exists()
    last = ws.last_session()
    assert (last.files["orders"], last.settings, last.settings_error) == (newer, None, None)
    newer.path.unlink()   # removed by hand: the session says so instead of failing
    assert ws.last_session().missing == ("orders",) and ws.last_session().files == {}


def test_settings_this_version_refuses_do_not_block_the_reload(tmp_path):
    path = tmp_path / "ws.duckdb"
    ws = Workspace(path, key=new_workspace_key())
    ws.save_session(source="sample", settings=Settings())
    ws.save_settings("old", Settings())
    with duckdb.connect(str(path)) as con:   # as an older version might have written them
        con.execute("""UPDATE sessions SET settings = '{"migration_period": 1e300}'""")
        con.execute("""UPDATE settings SET body = '{"segment_rules": [{"segment": "X"}]}'""")
    last = ws.last_session()
    assert last.source == "sample" and last.settings is None
    assert last.settings_error.startswith("The setting 'migration_period' must be")
    with pytest.raises(WorkspaceError) as err:
        ws.load_settings("old")
    assert err.value.code == "bad_settings" and "'segment_rules' rule 1" in str(err.value)


@pytest.mark.parametrize("name, expected", [
    ("orders.csv", "orders.csv"),
    ("订单 2024.xlsx", "订单 2024.xlsx"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\ann\\orders.csv", "orders.csv"),
    ("..", "upload"),
    ("", "upload"),
    ("a\x00b\nc.csv", "a_b_c.csv"),
    ('what?*<>|":.csv', "what_______.csv"),
    (".hidden.csv", "hidden.csv"),
    ("CON.csv", "_CON.csv"),
    ("a" * 300 + ".csv", "a" * 251 + ".csv"),
    ("订" * 100 + ".csv", "订" * 83 + ".csv"),   # 3 bytes each: 249 + 4 bytes, no half character
])
def test_safe_file_names(name, expected):
    safe = safe_file_name(name)
    assert safe == expected and len(safe.encode()) <= 255


def test_hostile_upload_names_stay_inside_the_store(tmp_path):
    ws = Workspace(tmp_path / "ws.duckdb", key=new_workspace_key())
    store = tmp_path / "ws-files"
    for name in ("../../escape.csv", "x" * 400 + ".csv", "/etc/passwd", "a\x00.csv", "..\\..\\win.csv"):
        kept = ws.store_upload(io.BytesIO(b"customer_id,order_date,amount\nc1,2024-01-01,1\n"), name)
        assert kept.path.resolve().is_relative_to(store.resolve()) and kept.path.exists()
        assert len(kept.name.encode()) <= 255
    assert {p.name for p in tmp_path.iterdir()} == {"ws.duckdb", "ws-files"}
    assert not list(store.rglob(".upload-*"))   # no half-written copies left


def test_a_layout_1_file_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:   # the layout of segcore's first workspace files
        con.execute("""
            CREATE TABLE segcore_meta (key VARCHAR, value VARCHAR);
            INSERT INTO segcore_meta VALUES ('schema_version', '1');
            CREATE TABLE datasets (id BIGINT, name VARCHAR, created TIMESTAMP, file_name VARCHAR, headers VARCHAR,
                report VARCHAR, extra VARCHAR, tables VARCHAR, lines BIGINT, customers BIGINT);
            CREATE TABLE settings (name VARCHAR, saved TIMESTAMP, body VARCHAR);
            INSERT INTO settings VALUES ('monthly', TIMESTAMP '2025-01-31 10:00:00', '{"churn_k": 3}');
            CREATE TABLE snapshots (id BIGINT, dataset VARCHAR, name VARCHAR, as_of DATE, created TIMESTAMP,
                settings VARCHAR, labels VARCHAR, customers BIGINT, revenue DOUBLE);
            INSERT INTO snapshots VALUES (7, 'orders.csv', 'Q4', DATE '2024-12-31', TIMESTAMP '2025-01-31 10:00:00',
                NULL, '["A", "B", "C"]', 1, 50.0);
            CREATE TABLE s7 AS SELECT 'c1' AS customer_id, 'A' AS tier, 50.0 AS monetary;""")
    shared = Workspace(path)
    assert shared.load_settings("monthly").churn_k == 3.0
    snaps = shared.list_snapshots()
    assert (list(snaps.id), snaps.content[0]) == ([7], None)
    assert shared.load_snapshot(7).tiers.customer_id.tolist() == ["c1"]
    private = Workspace(path, key=new_workspace_key())
    assert private.list_settings().empty and private.list_snapshots().empty   # rows of layout 1 are shared
    with duckdb.connect(str(path)) as con:
        assert con.execute("SELECT value FROM segcore_meta").fetchall() == [("2",)]
    new = pd.DataFrame({"customer_id": ["c1"], "tier": ["A"], "monetary": [60.0]})
    assert shared.save_snapshot("orders.csv", new, date(2025, 1, 31)) == 8   # ids go on after the old ones


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
    ds.con.execute("INSERT INTO ws.datasets (id, owner, name, created, file_name, headers, report, extra, tables, "
                   "lines, customers) VALUES (1, '', 'old', now()::TIMESTAMP, 'orders.csv', $h, $r, '{}', "
                   "'[\"raw\", \"parsed\"]', 5, 3)", {"h": _dumps(ds.headers), "r": _dumps(ds.report)})
    ds.con.execute("DETACH ws")
    back = Workspace(path).open_dataset("old")
    pd.testing.assert_frame_equal(back.rejected_rows(), ds.rejected_rows())
    pd.testing.assert_frame_equal(segcore.customer_metrics(back.con), segcore.customer_metrics(ds.con))
    assert back.report == ds.report
    assert "product" not in segcore.load_orders(back.source, {"product": ""}, con=back.con).mapping
