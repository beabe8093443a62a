"""Workspace: saved datasets, settings and dated tier snapshots in one DuckDB database file.

Closing the browser or restarting the server loses nothing: what was saved is in the file.

Where the file is
-----------------
``Workspace(path)``; without a path, ``$SEGCORE_WORKSPACE`` (the file), else
``$SEGCORE_HOME/workspace.duckdb``, else the platform's user data folder:
``~/.local/share/segcore/workspace.duckdb`` (Linux; ``$XDG_DATA_HOME`` when set),
``~/Library/Application Support/segcore/workspace.duckdb`` (macOS),
``%LOCALAPPDATA%\\segcore\\workspace.duckdb`` (Windows).

How it is kept safe
-------------------
- Every save or delete is one DuckDB transaction (``BEGIN`` ... ``COMMIT``): a crash or a kill
  mid-way leaves the previous state, and the file opens (DuckDB replays its write-ahead log up to
  the last commit).
- The file is attached only for the duration of one call, so other processes (the CLI, a second
  server) can use it in between; a process-wide lock serialises the calls of one process, and a
  call waits up to ``timeout`` seconds for another process to let go.
- Table names are the engine's own (``d<id>_lines``, ``s<id>``); names given by the user are only
  ever bound parameters.

Tables in the file
------------------
segcore_meta : ``key, value`` (``schema_version``).
datasets     : ``id, name, created, file_name, headers, report, extra`` (JSON text), ``lines``,
               ``customers``; the dataset's engine tables are ``d<id>_<table>`` (``parsed``,
               ``rejected``, ``customers``, ``interactions`` ... as the dataset had them), and ``d<id>_file``
               holds the original orders file (``part, data``: 16 MB pieces) so that it can be
               read again (re-mapping); a dataset parsed from a text table keeps ``raw`` instead.
settings     : ``name, saved, body`` (the settings file's JSON).
snapshots    : ``id, dataset, name, as_of, created, settings, labels, customers, revenue``; the
               per-customer rows are in ``s<id>``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from .ingest import Dataset, IngestReport, lines_view, parse_loaded
from .sources import Source, open_source
from .settings import Settings

__all__ = ["SCHEMA_VERSION", "SNAPSHOT_COLUMNS", "Snapshot", "Workspace", "WorkspaceError",
           "default_workspace_path"]

#: Version of the tables' layout in the workspace file.
SCHEMA_VERSION = 1

#: Engine tables of a dataset that are saved with it, when the dataset has them (``raw``: a dataset
#: parsed from a text table, or saved before the original file was kept).
DATASET_TABLES = ("raw", "parsed", "rejected", "raw_customers", "customers_parsed", "customers",
                  "customer_attribute_names", "raw_interactions", "interactions_parsed", "interactions")

_FILE_PART = 1 << 24  # bytes per piece of a saved orders file

#: Per-customer columns kept in a snapshot (those the tiered table has).
SNAPSHOT_COLUMNS = ("customer_id", "tier", "rank", "cumulative_share", "monetary", "frequency",
                    "recency_days", "avg_order_value", "first_order_date", "last_order_date",
                    "tenure_days", "avg_interval_days", "spend_first_half", "spend_second_half",
                    "trend", "is_prospect", "interactions_90d", "last_interaction_date", "name",
                    "region", "city", "channel")

_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


class WorkspaceError(RuntimeError):
    """A workspace operation that cannot be done; ``str(err)`` is one plain sentence."""


def default_workspace_path() -> Path:
    """The workspace file: ``$SEGCORE_WORKSPACE``, ``$SEGCORE_HOME/workspace.duckdb``, or the
    user's data folder (see the module docstring)."""
    if os.environ.get("SEGCORE_WORKSPACE"):
        return Path(os.environ["SEGCORE_WORKSPACE"]).expanduser()
    if os.environ.get("SEGCORE_HOME"):
        return Path(os.environ["SEGCORE_HOME"]).expanduser() / "workspace.duckdb"
    if sys.platform.startswith("win"):
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "segcore" / "workspace.duckdb"


# JSON for reports: dates are tagged so they come back as dates.
def _encode(value):
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in the workspace")


def _decode(obj: dict):
    if len(obj) == 1 and "$date" in obj:
        return date.fromisoformat(obj["$date"])
    if len(obj) == 1 and "$datetime" in obj:
        return datetime.fromisoformat(obj["$datetime"])
    return obj


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=_encode)


def _loads(text):
    return None if text is None else json.loads(text, object_hook=_decode)


def _report_from(data: dict) -> IngestReport:
    """An IngestReport from its stored dict (fields added or dropped since are tolerated)."""
    kwargs = {}
    for f in dataclasses.fields(IngestReport):
        if f.name in data:
            kwargs[f.name] = data[f.name]
        elif f.default is not dataclasses.MISSING:
            kwargs[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            kwargs[f.name] = f.default_factory()
        else:
            kwargs[f.name] = None
    return IngestReport(**kwargs)


@dataclass
class Snapshot:
    """A saved tiering: ``tiers`` is the per-customer table (``SNAPSHOT_COLUMNS`` it had)."""

    id: int
    dataset: str
    name: str
    as_of: date
    created: datetime
    settings: Settings | None
    labels: tuple[str, ...]
    tiers: pd.DataFrame


class Workspace:
    """Saved datasets, settings and snapshots in one DuckDB file (see the module docstring).

    Parameters
    ----------
    path : the database file; default :func:`default_workspace_path`. Its folder is created.
    timeout : seconds to wait when another process is using the file.
    """

    def __init__(self, path=None, *, timeout: float = 10.0):
        self.path = Path(path).expanduser() if path is not None else default_workspace_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path = self.path.resolve()
        self.timeout = timeout
        with _LOCKS_GUARD:
            self._lock = _LOCKS.setdefault(str(self.path), threading.RLock())
        self._before_commit = None  # test hook: called inside every write transaction before COMMIT
        with self._attached() as con:
            self._schema(con)

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"

    # ---- connection -----------------------------------------------------------------------------

    def _attached(self, con: duckdb.DuckDBPyConnection | None = None):
        """Context manager: a cursor with the workspace file attached as ``ws``."""
        return _Attached(self, con)

    def _schema(self, con) -> None:
        con.execute("BEGIN")
        try:
            con.execute("CREATE TABLE IF NOT EXISTS ws.segcore_meta (key VARCHAR, value VARCHAR)")
            version = con.execute("SELECT value FROM ws.segcore_meta WHERE key = 'schema_version'").fetchone()
            if version is None:
                con.execute("INSERT INTO ws.segcore_meta VALUES ('schema_version', $v)",
                            {"v": str(SCHEMA_VERSION)})
            elif int(version[0]) > SCHEMA_VERSION:
                raise WorkspaceError(f"The workspace {self.path} was written by a newer segcore "
                                     f"(layout {version[0]}); update segcore to open it.")
            con.execute("""CREATE TABLE IF NOT EXISTS ws.datasets (
                id BIGINT, name VARCHAR, created TIMESTAMP, file_name VARCHAR, headers VARCHAR,
                report VARCHAR, extra VARCHAR, tables VARCHAR, lines BIGINT, customers BIGINT)""")
            con.execute("""CREATE TABLE IF NOT EXISTS ws.settings (
                name VARCHAR, saved TIMESTAMP, body VARCHAR)""")
            con.execute("""CREATE TABLE IF NOT EXISTS ws.snapshots (
                id BIGINT, dataset VARCHAR, name VARCHAR, as_of DATE, created TIMESTAMP,
                settings VARCHAR, labels VARCHAR, customers BIGINT, revenue DOUBLE)""")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def _next_id(self, con) -> int:
        return con.execute("""SELECT COALESCE(max(id), 0) + 1 FROM (
            SELECT id FROM ws.datasets UNION ALL SELECT id FROM ws.snapshots)""").fetchone()[0]

    def _commit(self, con) -> None:
        if self._before_commit is not None:
            self._before_commit()
        con.execute("COMMIT")

    @staticmethod
    def _now() -> datetime:
        return datetime.now().replace(microsecond=0)

    # ---- datasets -------------------------------------------------------------------------------

    def save_dataset(self, name: str, ds: Dataset, *, file_name: str | None = None,
                     replace: bool = True) -> int:
        """Save a dataset (its order lines, ingest report, and customers/interactions if attached).

        Parameters
        ----------
        name : the name to list it under; saving under an existing name replaces that dataset
            (all at once) unless ``replace`` is False.
        ds : :class:`segcore.Dataset`. Its engine tables (``parsed``, ``rejected``, and the customers and
            interactions tables) and its orders file are copied, so a reopened dataset can be
            re-mapped and its rejected rows downloaded like a fresh upload. Exact duplicates are
            counted first when they were not yet.
        file_name : the original file's name, shown in the list (default: ``name``).

        Returns
        -------
        int : the dataset's id.
        """
        name = _name(name, "dataset")
        tables = [t for t in DATASET_TABLES if _has_table(ds.con, t)]
        if "parsed" not in tables:
            raise WorkspaceError("This dataset has no parsed order lines to save.")
        original = ds.source.path if ds.source is not None and ds.source.table is None else None
        if original is not None and not original.exists():  # an upload cleaned away meanwhile
            original = None
        if ds.report.duplicate_rows is None:
            ds.count_duplicates()
        extra = {"customer_attributes": list(ds.customer_attributes), "side_reports": ds.side_reports,
                 **({"source_name": ds.source.name, "sheet": ds.source.sheet} if original else {})}
        with self._attached(ds.con) as con:
            source = _quote(con.execute("SELECT current_database()").fetchone()[0])
            con.execute("BEGIN")
            try:
                old = con.execute("SELECT id FROM ws.datasets WHERE name = $n", {"n": name}).fetchall()
                if old and not replace:
                    raise WorkspaceError(f"A dataset named {name!r} is already saved.")
                new_id = self._next_id(con)
                for t in tables:
                    con.execute(f"CREATE TABLE ws.d{new_id}_{t} AS "
                                f"SELECT rowid AS _rowid, * FROM {source}.main.{t}")
                if original is not None:
                    con.execute(f"CREATE TABLE ws.d{new_id}_file (part INTEGER, data BLOB)")
                    with open(original, "rb") as fh:
                        for part, data in enumerate(iter(lambda: fh.read(_FILE_PART), b"")):
                            con.execute(f"INSERT INTO ws.d{new_id}_file VALUES ($p, $d)", {"p": part, "d": data})
                    tables.append("file")
                lines, customers = con.execute(
                    f"SELECT count(*), count(DISTINCT customer_id) FROM {source}.main.parsed "
                    "WHERE reason IS NULL").fetchone()
                for (old_id,) in old:
                    self._drop_dataset(con, old_id)
                con.execute("""INSERT INTO ws.datasets VALUES ($id, $name, $created, $file, $headers,
                                   $report, $extra, $tables, $lines, $customers)""",
                            {"id": new_id, "name": name, "created": self._now(),
                             "file": file_name or name, "headers": _dumps(list(ds.headers)),
                             "report": _dumps(ds.report), "extra": _dumps(extra),
                             "tables": _dumps(tables), "lines": lines, "customers": customers})
                self._commit(con)
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return new_id

    def _drop_dataset(self, con, dataset_id: int) -> None:
        (tables,) = con.execute("SELECT tables FROM ws.datasets WHERE id = $id",
                                {"id": dataset_id}).fetchone()
        for t in _loads(tables):
            if t in (*DATASET_TABLES, "file"):
                con.execute(f"DROP TABLE IF EXISTS ws.d{int(dataset_id)}_{t}")
        con.execute("DELETE FROM ws.datasets WHERE id = $id", {"id": dataset_id})

    def list_datasets(self) -> pd.DataFrame:
        """Saved datasets, newest first: ``name, created, file_name, lines, customers,
        date_min, date_max, id, has_customers, has_interactions`` (the last two: whether a
        customer list / an interactions file was saved with it)."""
        with self._attached() as con:
            df = con.execute("""
                SELECT name, created, file_name, lines, customers, report, id, tables
                FROM ws.datasets ORDER BY created DESC, id DESC""").df()
        reports = [_loads(r) for r in df.pop("report")]
        tables = [_loads(t) for t in df.pop("tables")]
        df.insert(5, "date_min", [r.get("date_min") for r in reports])
        df.insert(6, "date_max", [r.get("date_max") for r in reports])
        df["has_customers"] = pd.Series(["customers" in t for t in tables], dtype=bool)
        df["has_interactions"] = pd.Series(["interactions" in t for t in tables], dtype=bool)
        return df

    def open_dataset(self, name: str) -> Dataset:
        """A saved dataset as a :class:`segcore.Dataset` in a new in-memory connection, with the
        same tables (``parsed``, ``rejected``, the view ``lines``, customers, interactions) it had; its orders
        file, written to a temporary file that lives as long as the dataset, is ``source``."""
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        with self._attached(con) as cur:
            row = cur.execute("SELECT id, headers, report, extra, tables, file_name FROM ws.datasets "
                              "WHERE name = $n", {"n": name}).fetchone()
            if row is None:
                raise WorkspaceError(f"No dataset named {name!r} is saved.")
            dataset_id, headers, report, extra, tables, file_name = row
            for t in _loads(tables):
                if t in DATASET_TABLES:
                    cur.execute(f"CREATE TABLE memory.main.{t} AS SELECT * EXCLUDE (_rowid) "
                                f"FROM ws.d{int(dataset_id)}_{t} ORDER BY _rowid")
            extra = _loads(extra)
            source = None
            if "file" in _loads(tables):
                folder = Path(tempfile.mkdtemp(prefix="segcore-"))
                path = folder / Path(extra["source_name"]).name
                with open(path, "wb") as fh:
                    for (data,) in cur.execute(f"SELECT data FROM ws.d{int(dataset_id)}_file ORDER BY part").fetchall():
                        fh.write(data)
                source = open_source(path, name=extra["source_name"], sheet=extra.get("sheet"))
                weakref.finalize(source, shutil.rmtree, folder, True)
        headers, report = _loads(headers), _report_from(_loads(report))
        if "raw" in _loads(tables):
            source = Source(None, file_name, report.file_format, headers, encoding=report.encoding, table="raw")
        if "rejected" not in _loads(tables):
            # saved before the rejected rows kept their cells: parse the saved text table again
            report = parse_loaded(con, headers, file_name, report.file_format, report.encoding, report.mapping,
                                  date_order=report.date_order, drop_duplicates=report.duplicates_dropped).report
        lines_view(con)
        return Dataset(con=con, headers=headers, report=report, source=source,
                       customer_attributes=extra.get("customer_attributes", []),
                       side_reports=extra.get("side_reports", {}))

    def delete_dataset(self, name: str) -> bool:
        """Delete a saved dataset; True when there was one. Its snapshots are kept."""
        with self._attached() as con:
            con.execute("BEGIN")
            try:
                ids = con.execute("SELECT id FROM ws.datasets WHERE name = $n", {"n": name}).fetchall()
                for (dataset_id,) in ids:
                    self._drop_dataset(con, dataset_id)
                self._commit(con)
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return bool(ids)

    # ---- settings -------------------------------------------------------------------------------

    def save_settings(self, name: str, settings: Settings) -> None:
        """Save settings under a name (replacing settings of that name)."""
        name = _name(name, "settings")
        body = settings.to_json()
        with self._attached() as con:
            con.execute("BEGIN")
            try:
                con.execute("DELETE FROM ws.settings WHERE name = $n", {"n": name})
                con.execute("INSERT INTO ws.settings VALUES ($n, $t, $b)",
                            {"n": name, "t": self._now(), "b": body})
                self._commit(con)
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def list_settings(self) -> pd.DataFrame:
        """Saved settings, newest first: ``name, saved``."""
        with self._attached() as con:
            return con.execute("SELECT name, saved FROM ws.settings ORDER BY saved DESC, name").df()

    def load_settings(self, name: str) -> Settings:
        """The settings saved under ``name``."""
        with self._attached() as con:
            row = con.execute("SELECT body FROM ws.settings WHERE name = $n", {"n": name}).fetchone()
        if row is None:
            raise WorkspaceError(f"No settings named {name!r} are saved.")
        return Settings.from_json(row[0])

    def delete_settings(self, name: str) -> bool:
        """Delete saved settings; True when there were some."""
        with self._attached() as con:
            con.execute("BEGIN")
            try:
                n = con.execute("SELECT count(*) FROM ws.settings WHERE name = $n", {"n": name}).fetchone()[0]
                con.execute("DELETE FROM ws.settings WHERE name = $n", {"n": name})
                self._commit(con)
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return n > 0

    # ---- snapshots ------------------------------------------------------------------------------

    def save_snapshot(self, dataset: str, tiered: pd.DataFrame, as_of: date,
                      settings: Settings | None = None, *, name: str = "",
                      labels=None) -> int:
        """Save a dated tiering of a dataset.

        Parameters
        ----------
        dataset : the dataset's name (need not be saved in the workspace).
        tiered : tiered per-customer table (:func:`segcore.assign_tiers`); the ``SNAPSHOT_COLUMNS``
            it has are kept.
        as_of : the as-of date of the tiering.
        settings : the settings that made it (kept with it, to compare like with like).
        name : optional label; a snapshot with the same dataset, as-of date and name is replaced.
        labels : the levels in order (default: ``settings.labels``, else the tier categories or
            the tiers found).

        Returns
        -------
        int : the snapshot's id.
        """
        if "customer_id" not in tiered.columns or "tier" not in tiered.columns:
            raise WorkspaceError("A snapshot needs customer_id and tier columns.")
        if labels is None:
            if settings is not None:
                labels = settings.labels
            elif isinstance(tiered["tier"].dtype, pd.CategoricalDtype):
                labels = [str(c) for c in tiered["tier"].cat.categories]
            else:
                labels = sorted(str(t) for t in pd.unique(tiered["tier"].dropna()))
        as_of = pd.Timestamp(as_of).date()
        cols = [c for c in SNAPSHOT_COLUMNS if c in tiered.columns]
        frame = tiered[cols].copy()
        frame["tier"] = frame["tier"].astype("str")
        with self._attached() as con:
            con.register("snapshot_rows", frame)
            con.execute("BEGIN")
            try:
                old = con.execute("""SELECT id FROM ws.snapshots
                                     WHERE dataset = $d AND as_of = $a AND name = $n""",
                                  {"d": dataset, "a": as_of, "n": name or ""}).fetchall()
                new_id = self._next_id(con)
                con.execute(f"CREATE TABLE ws.s{new_id} AS SELECT * FROM snapshot_rows")
                customers, revenue = con.execute(
                    "SELECT count(*), COALESCE(sum(monetary), 0) FROM snapshot_rows"
                    if "monetary" in cols else "SELECT count(*), 0 FROM snapshot_rows").fetchone()
                for (old_id,) in old:
                    self._drop_snapshot(con, old_id)
                con.execute("INSERT INTO ws.snapshots VALUES ($id, $d, $n, $a, $c, $s, $l, $k, $r)",
                            {"id": new_id, "d": dataset, "n": name or "", "a": as_of, "c": self._now(),
                             "s": settings.to_json() if settings is not None else None,
                             "l": _dumps(list(labels)), "k": customers, "r": float(revenue)})
                self._commit(con)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            finally:
                con.unregister("snapshot_rows")
        return new_id

    def _drop_snapshot(self, con, snapshot_id: int) -> None:
        con.execute(f"DROP TABLE IF EXISTS ws.s{int(snapshot_id)}")
        con.execute("DELETE FROM ws.snapshots WHERE id = $id", {"id": snapshot_id})

    def list_snapshots(self, dataset: str | None = None) -> pd.DataFrame:
        """Saved snapshots (of one dataset, or all), newest as-of first: ``id, dataset, name,
        as_of, created, customers, revenue``."""
        with self._attached() as con:
            return con.execute("""
                SELECT id, dataset, name, as_of, created, customers, revenue FROM ws.snapshots
                WHERE $d IS NULL OR dataset = $d ORDER BY as_of DESC, created DESC, id DESC""",
                {"d": dataset}).df()

    def load_snapshot(self, snapshot_id: int) -> Snapshot:
        """A saved snapshot (:class:`Snapshot`), its rows sorted by ``customer_id``."""
        with self._attached() as con:
            row = con.execute("""SELECT id, dataset, name, as_of, created, settings, labels
                                 FROM ws.snapshots WHERE id = $id""", {"id": int(snapshot_id)}).fetchone()
            if row is None:
                raise WorkspaceError(f"No snapshot {snapshot_id} is saved.")
            tiers = con.execute(f"SELECT * FROM ws.s{int(row[0])} ORDER BY customer_id").df()
        return Snapshot(id=row[0], dataset=row[1], name=row[2], as_of=row[3], created=row[4],
                        settings=Settings.from_json(row[5]) if row[5] else None,
                        labels=tuple(_loads(row[6])), tiers=tiers)

    def delete_snapshot(self, snapshot_id: int) -> bool:
        """Delete a snapshot; True when there was one."""
        with self._attached() as con:
            con.execute("BEGIN")
            try:
                found = con.execute("SELECT count(*) FROM ws.snapshots WHERE id = $id",
                                    {"id": int(snapshot_id)}).fetchone()[0]
                if found:
                    self._drop_snapshot(con, int(snapshot_id))
                self._commit(con)
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return bool(found)


class _Attached:
    """``with``: the process lock, a cursor, the file attached as ``ws`` (waiting for other
    processes up to the timeout); on exit the file is detached, so it is free again."""

    def __init__(self, ws: Workspace, con):
        self.ws, self.con, self.cur = ws, con, None

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self.ws._lock.acquire()
        try:
            self.cur = self.con.cursor() if self.con is not None else duckdb.connect()
            self.cur.execute("SET enable_progress_bar = false")
            deadline = time.monotonic() + self.ws.timeout
            while True:
                try:
                    self.cur.execute("ATTACH $p AS ws", {"p": str(self.ws.path)})
                    return self.cur
                except duckdb.IOException as exc:
                    if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                        raise WorkspaceError(
                            f"The workspace {self.ws.path} could not be opened: it is in use by another "
                            "program, or damaged." if "lock" in str(exc).lower() else
                            f"The workspace {self.ws.path} could not be opened ({str(exc).splitlines()[0]})."
                        ) from exc
                    time.sleep(0.05)
        except BaseException:
            self._close()
            raise

    def __exit__(self, *exc) -> None:
        self._close()

    def _close(self) -> None:
        try:
            if self.cur is not None:
                try:
                    self.cur.execute("DETACH DATABASE IF EXISTS ws")
                finally:
                    self.cur.close()
        finally:
            self.cur = None
            self.ws._lock.release()


def _has_table(con, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                            "AND schema_name = 'main' AND table_name = $t", {"t": name}).fetchone()[0])


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _name(name, what: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise WorkspaceError(f"A {what} needs a name.")
    return name.strip()
