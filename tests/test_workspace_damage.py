"""A damaged workspace file never breaks a read: every kind of damage gives a WorkspaceError with a
code, and the file can be moved aside so the app goes on with an empty workspace. Every damaged
file is made here from a good one (no binary files in the repository)."""

import io
import os
import re
import shutil
import subprocess
import sys
import textwrap
from datetime import date

import duckdb
import pytest

import segcore
from segcore.settings import Settings
from segcore.workspace import Workspace, WorkspaceError, content_key, set_aside

from .conftest import REPO

ORDERS = "order_id,customer_id,order_date,amount,product\n" + "".join(
    f"O{i},c{i % 97},2024-{1 + i % 12:02d}-{1 + i % 28:02d},{(i * 37) % 500 + 0.25},p{i % 13}\n"
    for i in range(3000))


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A workspace file with a dataset, settings, a snapshot and a last session (about 2 MB)."""
    folder = tmp_path_factory.mktemp("good")
    orders = folder / "orders.csv"
    orders.write_text(ORDERS)
    path = folder / "ws.duckdb"
    ws = Workspace(path)
    ds = segcore.load_orders(orders)
    ws.save_dataset("shop", ds, file_name="orders.csv")
    ws.save_settings("monthly", Settings(churn_k=3.0))
    ws.save_snapshot("orders.csv", segcore.assign_tiers(segcore.customer_metrics(ds.con)), date(2024, 12, 28),
                     content=content_key(ds))
    kept = ws.store_upload(io.BytesIO(ORDERS.encode()), "orders.csv")
    ws.save_session(source="upload", files={"orders": kept}, settings=Settings(churn_k=3.0))
    assert not os.path.exists(f"{path}.wal")
    return path


# What the pages read, one call each.
READS = {
    "list_datasets": lambda ws: ws.list_datasets(),
    "open_dataset": lambda ws: segcore.customer_metrics(ws.open_dataset("shop").con),
    "list_settings": lambda ws: ws.list_settings(),
    "load_settings": lambda ws: ws.load_settings("monthly"),
    "list_snapshots": lambda ws: ws.list_snapshots(),
    "load_snapshot": lambda ws: ws.load_snapshot(2),
    "last_session": lambda ws: ws.last_session(),
}


def copy(good, folder):
    """The good workspace file and its kept uploads, copied into ``folder``; the file's path."""
    shutil.copy(good, folder / good.name)
    shutil.copytree(good.parent / "ws-files", folder / "ws-files")
    return folder / good.name


def read_everything(path) -> dict[str, WorkspaceError]:
    """Open the workspace and make every read; the WorkspaceErrors met, by read (any other
    exception fails the test)."""
    try:
        ws = Workspace(path, timeout=0.5)
    except WorkspaceError as err:
        return {"open": err}
    errors = {}
    for name, read in READS.items():
        try:
            read(ws)
        except WorkspaceError as err:
            errors[name] = err
    return errors


def truncate(share):
    def damage(path):
        with open(path, "r+b") as fh:
            fh.truncate(int(os.path.getsize(path) * share))
    return damage


def overwrite_near_the_end(path):
    """The last 1% of the file (its last blocks) overwritten with other bytes."""
    size = os.path.getsize(path)
    with open(path, "r+b") as fh:
        fh.seek(size - size // 100)
        fh.write((bytes(range(256)) * (size // 25600 + 1))[:size // 100])


def sql(statement):
    def damage(path):
        with duckdb.connect(str(path)) as con:
            con.execute(statement)
    return damage


def replace_with(content: bytes):
    def damage(path):
        path.write_bytes(content)
    return damage


DAMAGE = {
    # kind: (how, reads that must fail at least)
    "truncated to 50%": (truncate(0.5), {"list_datasets"}),
    "truncated to 99%": (truncate(0.99), set()),
    "truncated to 10%": (truncate(0.1), set()),
    "bytes overwritten near the end": (overwrite_near_the_end, set()),
    "bad JSON in the datasets table": (sql("UPDATE datasets SET report = '{bad', tables = '[\"raw\"'"),
                                       {"list_datasets", "open_dataset"}),
    "JSON of the wrong shape in the datasets table": (sql("UPDATE datasets SET tables = '{\"a\": 1}', report = '3'"),
                                                      {"list_datasets", "open_dataset"}),
    "bad JSON in the snapshots table": (sql("UPDATE snapshots SET labels = 'A, B, C'"), {"load_snapshot"}),
    "bad JSON in the sessions table": (sql("UPDATE sessions SET files = '{\"orders\": 7}'"), {"last_session"}),
    "a snapshot's rows gone": (sql("DROP TABLE s2"), {"load_snapshot"}),
    "a dataset's table gone": (sql("DROP TABLE d1_parsed"), {"open_dataset"}),
    "a table with other columns": (sql("DROP TABLE datasets; CREATE TABLE datasets (x INTEGER)"), {"open"}),
    "a table missing": (sql("DROP TABLE snapshots"), {"open"}),
    "not a DuckDB file": (replace_with(b"customer_id,order_date,amount\n" * 1000), {"open"}),
    "an empty file": (replace_with(b""), {"open"}),
}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_damage_gives_a_sentence_and_can_be_moved_aside(good, tmp_path, kind):
    damage, must_fail = DAMAGE[kind]
    path = copy(good, tmp_path)
    damage(path)
    errors = read_everything(path)
    assert must_fail <= set(errors), errors
    for err in errors.values():
        assert err.code == "damaged" and err.params["path"] == str(path.resolve()), err
        said = str(err)
        assert said.startswith(f"The workspace file {path.resolve()} is damaged and cannot be read (")
        assert said.endswith("; move it aside to go on with an empty workspace.") and "\n" not in said

    assert errors   # the damage is seen
    moved = set_aside(path)
    assert not path.exists() and moved.exists() and moved.parent == path.parent.resolve()
    assert re.fullmatch(r"ws\.damaged-\d{8}-\d{6}\.duckdb", moved.name)
    fresh = Workspace(path)   # the app goes on with an empty workspace
    assert fresh.list_datasets().empty and fresh.last_session() is None
    fresh.save_settings("monthly", Settings())
    assert list(Workspace(path).list_settings().name) == ["monthly"]


def test_a_newer_layout_is_not_called_damage(good, tmp_path):
    path = copy(good, tmp_path)
    sql("UPDATE segcore_meta SET value = '99'")(path)
    errors = read_everything(path)
    assert list(errors) == ["open"] and errors["open"].code == "newer"
    assert "written by a newer segcore (layout 99)" in str(errors["open"])


def test_a_folder_that_cannot_be_made(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    with pytest.raises(WorkspaceError) as err:
        Workspace(blocker / "ws.duckdb")
    assert err.value.code == "unavailable" and str(err.value).startswith("The workspace file ")


def test_a_read_only_file_can_be_read_but_not_written(good, tmp_path):
    path = copy(good, tmp_path)
    path.chmod(0o444)
    code = textwrap.dedent("""
        import sys
        from segcore.settings import Settings
        from segcore.workspace import Workspace, WorkspaceError
        ws = Workspace(sys.argv[1])
        print(list(ws.list_settings().name), len(ws.list_datasets()), ws.load_settings("monthly").churn_k)
        try:
            ws.save_settings("more", Settings())
        except WorkspaceError as err:
            print(err.code)
            print(err)
        """)
    command = [sys.executable, "-c", code, str(path)]
    if os.geteuid() == 0:   # root writes anyway: run the reader without the power to override permissions
        if shutil.which("setpriv") is None:
            pytest.skip("running as root and setpriv (util-linux) is not installed to drop that right")
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[:2] == ["['monthly'] 1 3.0", "read_only"]
    assert lines[2] == f"The workspace file {path.resolve()} cannot be written (no permission, or a read-only disk)."
