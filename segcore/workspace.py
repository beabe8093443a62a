"""Workspace: saved datasets, settings, dated tier snapshots and each user's last session, in one
DuckDB database file (plus a folder of kept uploads beside it).

Closing the browser or restarting the server loses nothing: what was saved is in the file.

Where the file is
-----------------
``Workspace(path)``; without a path, ``$SEGCORE_WORKSPACE`` (the file), else
``$SEGCORE_HOME/workspace.duckdb``, else the platform's user data folder:
``~/.local/share/segcore/workspace.duckdb`` (Linux; ``$XDG_DATA_HOME`` when set),
``~/Library/Application Support/segcore/workspace.duckdb`` (macOS),
``%LOCALAPPDATA%\\segcore\\workspace.duckdb`` (Windows). Uploads kept for a user's last session
are in the folder ``<file name without .duckdb>-files`` beside it.

Whose rows
----------
Every row has an owner, and a :class:`Workspace` only ever lists, reads, replaces or deletes the
rows of its own owner.

- ``Workspace(path)`` (no key) is the *shared* workspace: the command line, scripts, and every
  browser when ``SEGCORE_WORKSPACE_MODE=shared``.
- ``Workspace(path, key=KEY)`` is the *private* workspace of whoever holds ``KEY``, a random,
  unguessable workspace key (:func:`new_workspace_key`, 32 URL-safe characters, 192 bits). Only a
  SHA-256 hash of the key is stored, so the file does not reveal the keys, and a key reaches no
  other owner's rows.
- :func:`browser_workspace` applies ``SEGCORE_WORKSPACE_MODE`` (:func:`workspace_mode`):
  ``private`` (the default: each browser has its own workspace, for a server several people can
  reach) or ``shared`` (one workspace for everyone, e.g. a single user's own computer).

How the app uses it
-------------------
The browser holds its workspace key in the URL (``?ws=KEY``: survives a reload, can be
bookmarked) and in a cookie ``segcore_ws`` (so a new tab opened on the bare address finds it).

1. Every script run, first thing: ``key = st.query_params.get("ws")``; if it is not
   :func:`valid_workspace_key`, ``st.context.cookies.get("segcore_ws")``; if neither,
   :func:`new_workspace_key`. Keep it in the session, put it back into ``st.query_params["ws"]``
   (Streamlit clears query parameters on a page switch), and when the cookie differs set it with
   ``st.html("<script>document.cookie = 'segcore_ws=KEY; path=/; max-age=31536000;
   SameSite=Strict'</script>", unsafe_allow_javascript=True)`` (the key is 32 URL-safe
   characters, nothing to escape). In shared mode none of this is needed.
2. ``ws = browser_workspace(key)`` for every workspace call (cheap: it checks the layout
   read-only); a :class:`WorkspaceError` is shown as its sentence (``code``/``params`` for the
   other language); for ``code == "damaged"`` offer a button calling :func:`set_aside`.
3. A new session (``"_restored"`` not yet in the session): ``last = ws.last_session()``. For
   ``source == "upload"`` with no ``missing`` roles, open ``last.files[role].path`` as the upload
   of that role and apply ``last.settings``; show "reopened orders.csv from <last.saved>, use the
   sample instead?". ``"saved"`` reopens ``last.dataset``; ``"sample"`` the sample. A
   ``settings_error`` is shown (the settings were not restored); missing files say the upload is
   no longer kept.
4. An upload: ``kept = ws.store_upload(file, file.name, size=file.size, progress=...)`` (replaces
   the app's own temporary copy), load ``kept.path``, then ``ws.save_session(source="upload",
   files={"orders": kept, ...}, settings=...)``. A change of settings (or of the source): the same
   ``save_session`` with the new settings, only when the settings JSON changed.
5. Snapshots: ``content = content_key(ds)`` once per dataset (cache it with the dataset);
   ``ws.save_snapshot(name, tiered, as_of, settings, content=content)``; preselect among
   ``ws.list_snapshots()`` the newest whose ``content`` equals the current dataset's.

A second browser has no cookie and no link, so it gets a new key and an empty workspace; a link
with ``?ws=KEY`` opens that key's workspace (the link is the key: share it only to share the
workspace).

How it is kept safe
-------------------
- Every save or delete is one DuckDB transaction (``BEGIN`` ... ``COMMIT``): a crash or a kill
  mid-way leaves the previous state, and the file opens (DuckDB replays its write-ahead log up to
  the last commit).
- The file is attached only for the duration of one call (read-only for reads), so other
  processes (the CLI, a second server) can use it in between; a process-wide lock serialises the
  calls of one process, and a call waits up to ``timeout`` seconds for another process to let go.
- Every call goes through one error path: whatever goes wrong with the file (in use, damaged,
  truncated, not a DuckDB file, unexpected tables, bad JSON in a row, no permission, disk full)
  becomes a :class:`WorkspaceError` with a ``code``, ``params`` and one plain sentence. For a
  damaged file (``code == "damaged"``) :func:`set_aside` renames it, so the app can go on with a
  new, empty workspace.
- Table names are the engine's own (``d<id>_lines``, ``s<id>``); names given by the user are only
  ever bound parameters.

Tables in the file (layout 2)
-----------------------------
segcore_meta : ``key, value`` (``schema_version``).
datasets     : ``id, owner, name, created, file_name, headers, report, extra, tables`` (JSON text),
               ``lines``, ``customers``; the dataset's engine tables are ``d<id>_<table>``
               (``parsed``, ``rejected``, ``customers``, ``interactions`` ... as the dataset had them),
               and ``d<id>_file`` holds the original orders file (``part, data``: 16 MB pieces) so
               that it can be read again (re-mapping); a dataset parsed from a text table keeps
               ``raw`` instead.
settings     : ``owner, name, saved, body`` (the settings file's JSON).
snapshots    : ``id, owner, dataset, content, name, as_of, created, settings, labels, customers,
               revenue``; ``content`` is the dataset's :func:`content_key`; the per-customer rows
               are in ``s<id>``.
sessions     : ``owner, saved, source, dataset, files, settings``: each owner's last session (the
               data in use and its settings, to reopen after a reload).

A file of layout 1 (no owners) is upgraded in place the first time it is opened: its rows become
the shared workspace's, and its snapshots have no content key (they are listed, never matched).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
import unicodedata
import weakref
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from .ingest import Dataset, IngestReport, dataset_connection, lines_view, parse_loaded
from .settings import Settings, SettingsError
from .sources import Source, open_source

__all__ = ["SCHEMA_VERSION", "SNAPSHOT_COLUMNS", "WORKSPACE_MODES", "LastSession", "Snapshot", "StoredFile",
           "Workspace", "WorkspaceError", "browser_workspace", "content_key", "default_workspace_path",
           "new_workspace_key", "safe_file_name", "set_aside", "valid_workspace_key", "workspace_mode"]

#: Version of the tables' layout in the workspace file.
SCHEMA_VERSION = 2

#: Values of ``$SEGCORE_WORKSPACE_MODE``; the first is the default.
WORKSPACE_MODES = ("private", "shared")

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

#: Columns of each table (layout 2), as the file must have them.
_TABLES = {
    "segcore_meta": "key VARCHAR, value VARCHAR",
    "datasets": "id BIGINT, owner VARCHAR, name VARCHAR, created TIMESTAMP, file_name VARCHAR, headers VARCHAR, "
                "report VARCHAR, extra VARCHAR, tables VARCHAR, lines BIGINT, customers BIGINT",
    "settings": "owner VARCHAR, name VARCHAR, saved TIMESTAMP, body VARCHAR",
    "snapshots": "id BIGINT, owner VARCHAR, dataset VARCHAR, content VARCHAR, name VARCHAR, as_of DATE, "
                 "created TIMESTAMP, settings VARCHAR, labels VARCHAR, customers BIGINT, revenue DOUBLE",
    "sessions": "owner VARCHAR, saved TIMESTAMP, source VARCHAR, dataset VARCHAR, files VARCHAR, settings VARCHAR",
}

#: The owner of the shared workspace (and of every row of a layout-1 file).
_SHARED = ""

#: Kept uploads that no last session refers to are removed once untouched for this long (seconds),
#: so a second tab still showing an older upload of the same user can re-read it for a while.
UPLOAD_KEEP_SECONDS = 24 * 3600

_KEY = re.compile(r"[A-Za-z0-9_-]{32}")
_CHUNK = 4 << 20

_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


class WorkspaceError(RuntimeError):
    """A workspace operation that cannot be done; ``str(err)`` is one plain sentence.

    ``code`` names the problem and ``params`` holds the details (``path``, ``name``, ``detail``
    ...), so a UI can say the same in another language:

    ``in_use`` another program holds the file past the timeout; ``damaged`` the file cannot be
    read (truncated, corrupt, not a DuckDB file, unexpected tables or rows: offer
    :func:`set_aside`); ``newer`` written by a newer segcore; ``read_only`` the file or its folder
    cannot be written; ``disk_full``; ``no_memory``; ``unavailable`` the file or its folder cannot
    be created; ``write_failed`` a save failed for another reason; ``not_found`` (``what``:
    dataset, settings, snapshot); ``exists``; ``need_name``; ``bad_settings`` saved settings that
    this version refuses (``reason``); ``no_lines`` / ``no_tiers`` nothing to save; ``bad_key`` a
    malformed workspace key; ``bad_mode`` a wrong ``SEGCORE_WORKSPACE_MODE``; ``store_failed`` an
    upload could not be kept; ``set_aside_failed``.
    """

    def __init__(self, code: str, message: str, **params):
        super().__init__(message)
        self.code = code
        self.params = params


# --------------------------------------------------------------------------------------------
# Where, who, and file names
# --------------------------------------------------------------------------------------------

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


def workspace_mode() -> str:
    """``$SEGCORE_WORKSPACE_MODE``: ``"private"`` (default; a workspace per browser) or
    ``"shared"`` (one workspace for everyone who opens the app)."""
    value = os.environ.get("SEGCORE_WORKSPACE_MODE", "").strip().lower() or WORKSPACE_MODES[0]
    if value not in WORKSPACE_MODES:
        raise WorkspaceError("bad_mode", f"SEGCORE_WORKSPACE_MODE must be 'private' or 'shared'; got {value!r}.",
                             value=value)
    return value


def new_workspace_key() -> str:
    """A new random workspace key: 32 URL-safe characters (192 random bits)."""
    return secrets.token_urlsafe(24)


def valid_workspace_key(key) -> bool:
    """True when ``key`` has the form of a workspace key (32 of ``A-Z a-z 0-9 - _``)."""
    return isinstance(key, str) and _KEY.fullmatch(key) is not None


def browser_workspace(key: str | None, path=None) -> "Workspace":
    """The workspace of a browser holding ``key`` under ``SEGCORE_WORKSPACE_MODE``: its private
    workspace (``key`` must be valid), or the shared one in shared mode (``key`` is ignored)."""
    if workspace_mode() == "shared":
        return Workspace(path)
    if not valid_workspace_key(key):
        raise _bad_key()
    return Workspace(path, key=key)


def _bad_key() -> WorkspaceError:
    return WorkspaceError("bad_key", "This workspace key is not valid: it must be 32 letters, digits, '-' or '_'.")


_RESERVED = re.compile(r"(con|prn|aux|nul|com\d|lpt\d)(\..*)?", re.IGNORECASE)


def safe_file_name(name, limit: int = 255) -> str:
    """A file name that is safe to create on disk, as close to the user's ``name`` as possible.

    Only the last part of a path is kept (``C:\\Users\\x\\orders.csv`` -> ``orders.csv``); control
    characters (NUL, line breaks) and ``\\ / : * ? " < > |`` become ``_``; leading dots and
    spaces and trailing dots and spaces go (no ``..``, no hidden files); names Windows reserves
    (``CON``, ``NUL``, ``COM1`` ...) get a leading ``_``; the name is cut to ``limit`` bytes of UTF-8
    (most file systems allow 255), keeping the extension and whole characters. An empty result is
    ``upload``.
    """
    text = unicodedata.normalize("NFC", str(name or ""))
    parts = [p for p in re.split(r"[\\/]", text) if p.strip(" .")]
    text = parts[-1] if parts else ""
    text = re.sub(r'[\x00-\x1f\x7f<>:"|?*]', "_", text).strip(" .")
    if not text:
        return "upload"
    if _RESERVED.fullmatch(text):
        text = "_" + text
    if len(text.encode("utf-8")) > limit:
        stem, dot, ext = text.rpartition(".")
        if not dot or not stem or len(ext.encode("utf-8")) > 16:
            stem, ext = text, ""
        ext = f".{ext}" if ext else ""
        budget = limit - len(ext.encode("utf-8"))
        stem = stem.encode("utf-8")[:budget].decode("utf-8", errors="ignore").rstrip(" .") or "upload"
        text = stem + ext
    return text


def store_file(stream, folder: Path, file_name: str, *, size: int | None = None, progress=None) -> StoredFile:
    """Write a binary stream (from its start, read in 4 MB chunks: no copy in memory) to
    ``<folder>/<sha256>/<safe_file_name(file_name)>``, hashing it on the way; ``progress(fraction)``
    after every chunk when ``size`` (the expected bytes) is given. Raises OSError, leaving nothing
    behind."""
    tmp = None
    if getattr(stream, "seekable", lambda: False)():
        stream.seek(0)  # from the start, also when the stream was read before
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
        digest, done = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
                done += len(chunk)
                if progress is not None and size:
                    progress(min(done / size, 1.0))
        sha = digest.hexdigest()
        (folder / sha).mkdir(exist_ok=True)
        final = folder / sha / safe_file_name(file_name)
        os.replace(tmp, final)
        os.utime(folder / sha)  # a file stored again counts as new
        return StoredFile(final, sha, done)
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def content_key(ds: Dataset) -> str:
    """A key for what a dataset holds: 32 hex digits from its used order lines (customer, date,
    amount, order id, product), independent of the file's name, format and row order. Snapshots
    are filed under it, so two different files named ``orders.csv`` never meet.

    One pass over the lines (about 0.3 s per million); cache it per dataset."""
    count, total = ds.con.cursor().execute(
        "SELECT count(*), COALESCE(sum(hash(customer_id, order_date, amount, order_id, product)), 0) "
        "FROM lines").fetchone()
    return hashlib.sha256(f"{count}:{total}".encode()).hexdigest()[:32]


def set_aside(path=None) -> Path:
    """Move a (damaged) workspace file aside: rename it, and its write-ahead log, to
    ``<name>.damaged-<YYYYmmdd-HHMMSS><suffix>`` in the same folder; the next :class:`Workspace`
    starts an empty file. Returns the new path of the file."""
    path = (Path(path).expanduser() if path is not None else default_workspace_path()).resolve()
    target = path.with_name(f"{path.stem}.damaged-{datetime.now():%Y%m%d-%H%M%S}{path.suffix}")
    n = 2
    while target.exists():
        target = path.with_name(f"{path.stem}.damaged-{datetime.now():%Y%m%d-%H%M%S}-{n}{path.suffix}")
        n += 1
    with _lock_for(path):
        try:
            wal = Path(f"{path}.wal")
            if wal.exists():
                os.replace(wal, f"{target}.wal")
            os.replace(path, target)
        except OSError as exc:
            raise WorkspaceError("set_aside_failed", f"The workspace file {path} could not be moved aside "
                                 f"({exc.strerror or exc}).", path=str(path), detail=str(exc.strerror or exc)) from exc
    return target


def _lock_for(path: Path) -> threading.RLock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(str(path), threading.RLock())


# --------------------------------------------------------------------------------------------
# JSON for reports: dates are tagged so they come back as dates.
# --------------------------------------------------------------------------------------------

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


class _BadStoredValue(ValueError):
    """A value in the file that is not the JSON it should be."""


def _loads(text, kind=None):
    """A stored JSON value; ``kind`` (dict or list) is the type it must have."""
    try:
        value = None if text is None else json.loads(text, object_hook=_decode)
    except ValueError as exc:
        raise _BadStoredValue(f"a stored value is not valid JSON: {exc}") from exc
    if kind is not None and not isinstance(value, kind):
        raise _BadStoredValue(f"a stored value is not a JSON {kind.__name__}")
    return value


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


# --------------------------------------------------------------------------------------------
# What the workspace hands out
# --------------------------------------------------------------------------------------------

@dataclass
class Snapshot:
    """A saved tiering: ``tiers`` is the per-customer table (``SNAPSHOT_COLUMNS`` it had).
    ``settings`` is None when none were saved or the saved ones are no longer valid."""

    id: int
    dataset: str
    content: str | None
    name: str
    as_of: date
    created: datetime
    settings: Settings | None
    labels: tuple[str, ...]
    tiers: pd.DataFrame


@dataclass(frozen=True)
class StoredFile:
    """An upload kept in the workspace's file store: ``path.name`` is its safe name
    (:func:`safe_file_name` of the user's), ``sha256`` and ``size`` its content."""

    path: Path
    sha256: str
    size: int

    @property
    def name(self) -> str:
        return self.path.name


@dataclass
class LastSession:
    """An owner's last session, to reopen after a reload or in a new tab.

    ``source``: ``"upload"`` (``files`` by role: ``orders`` and optionally ``customers``,
    ``interactions``), ``"saved"`` (the saved dataset ``dataset``) or ``"sample"``. ``missing``:
    roles whose kept file is gone. ``settings``: the session's settings, or None when none were
    saved or they are no longer valid (``settings_error`` then says why).
    """

    saved: datetime
    source: str
    dataset: str | None
    files: dict[str, StoredFile]
    missing: tuple[str, ...]
    settings: Settings | None
    settings_error: str | None


# --------------------------------------------------------------------------------------------
# The workspace
# --------------------------------------------------------------------------------------------

class Workspace:
    """Saved datasets, settings, snapshots and the last session of one owner, in one DuckDB file
    shared by all owners (see the module docstring).

    Parameters
    ----------
    path : the database file; default :func:`default_workspace_path`. Its folder is created.
    key : a workspace key (:func:`new_workspace_key`): the private workspace of whoever holds it;
        None: the shared workspace.
    timeout : seconds to wait when another process is using the file.

    Raises
    ------
    WorkspaceError : the file cannot be used (see the codes there); ``bad_key`` for a key that is
        not a workspace key.
    """

    def __init__(self, path=None, *, key: str | None = None, timeout: float = 10.0):
        if key is not None and not valid_workspace_key(key):
            raise _bad_key()
        self.owner = _SHARED if key is None else hashlib.sha256(key.encode()).hexdigest()
        self.path = Path(path).expanduser() if path is not None else default_workspace_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path = self.path.resolve()
        except OSError as exc:
            raise _failure(exc, self.path, write=True, creating=True) from exc
        self.timeout = timeout
        self._lock = _lock_for(self.path)
        self._before_commit = None  # test hook: called inside every write transaction before COMMIT
        self._schema()

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r}, {'shared' if self.owner == _SHARED else 'private'})"

    # ---- connection -----------------------------------------------------------------------------

    @contextmanager
    def _use(self, *, write: bool = False, con: duckdb.DuckDBPyConnection | None = None):
        """``with``: the process lock, a cursor (on ``con`` or a new connection) with the file
        attached as ``ws`` (read-only unless ``write``), detached again at the end. Every failure
        inside becomes a :class:`WorkspaceError` (the one error path)."""
        with self._lock:
            cur = None
            try:
                cur = con.cursor() if con is not None else duckdb.connect()
                cur.execute("SET enable_progress_bar = false")
                self._attach(cur, write)
                try:
                    yield cur
                finally:
                    cur.execute("DETACH DATABASE IF EXISTS ws")
            except WorkspaceError:
                raise
            except (duckdb.Error, OSError, ValueError, TypeError, KeyError, IndexError, MemoryError) as exc:
                raise _failure(exc, self.path, write) from exc
            finally:
                if cur is not None:
                    cur.close()

    def _attach(self, cur, write: bool) -> None:
        """Attach the file, waiting up to the timeout while another process holds it."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                cur.execute("ATTACH $p AS ws" + ("" if write else " (READ_ONLY)"), {"p": str(self.path)})
                return
            except duckdb.IOException as exc:
                if not _is_lock(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _schema(self) -> None:
        """Check the file's layout (read-only); create the tables of a new file, or upgrade a
        layout-1 file, in one transaction. A layout-2 file missing a table, or with a table of
        other columns, is damaged."""
        if self.path.exists():
            with self._use() as con:
                if self._version(con) == SCHEMA_VERSION:
                    self._check_columns(con)
                    return
        with self._transaction() as con:
            con.execute(f"CREATE TABLE IF NOT EXISTS ws.segcore_meta ({_TABLES['segcore_meta']})")
            version = self._version(con)
            if version is None:
                con.execute("INSERT INTO ws.segcore_meta VALUES ('schema_version', $v)", {"v": str(SCHEMA_VERSION)})
            elif version == 1:
                self._upgrade_from_1(con)
            for table, columns in _TABLES.items():
                con.execute(f"CREATE TABLE IF NOT EXISTS ws.{table} ({columns})")
            self._check_columns(con)

    def _version(self, con) -> int | None:
        """The file's layout (None for a file without segcore's tables); raises for a newer one."""
        if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'ws' "
                           "AND table_name = 'segcore_meta'").fetchone()[0]:
            return None
        row = con.execute("SELECT max(value) FROM ws.segcore_meta WHERE key = 'schema_version'").fetchone()
        if row[0] is None:
            return None
        version = int(row[0])
        if version > SCHEMA_VERSION:
            raise WorkspaceError("newer", f"The workspace {self.path} was written by a newer segcore (layout "
                                 f"{version}); update segcore to open it.", path=str(self.path), version=version)
        return version

    @staticmethod
    def _check_columns(con) -> None:
        """Every table with its columns, else _BadStoredValue (the file is damaged)."""
        found: dict[str, list[str]] = {}
        for table, column in con.execute("""SELECT table_name, column_name FROM duckdb_columns()
                                            WHERE database_name = 'ws' AND schema_name = 'main'""").fetchall():
            found.setdefault(table, []).append(column)
        for table, columns in _TABLES.items():
            if sorted(found.get(table, [])) != sorted(c.split()[0] for c in columns.split(", ")):
                raise _BadStoredValue(f"the table {table} is missing or has other columns")

    @staticmethod
    def _upgrade_from_1(con) -> None:
        """Layout 1 -> 2: owners (every row is the shared workspace's), content keys (unknown)."""
        for table in ("datasets", "settings", "snapshots"):
            con.execute(f"ALTER TABLE ws.{table} ADD COLUMN IF NOT EXISTS owner VARCHAR DEFAULT ''")
        con.execute("ALTER TABLE ws.snapshots ADD COLUMN IF NOT EXISTS content VARCHAR")
        con.execute("UPDATE ws.segcore_meta SET value = $v WHERE key = 'schema_version'", {"v": str(SCHEMA_VERSION)})

    def _next_id(self, con) -> int:
        return con.execute("""SELECT COALESCE(max(id), 0) + 1 FROM (
            SELECT id FROM ws.datasets UNION ALL SELECT id FROM ws.snapshots)""").fetchone()[0]

    def _commit(self, con) -> None:
        if self._before_commit is not None:
            self._before_commit()
        con.execute("COMMIT")

    @contextmanager
    def _transaction(self, con=None):
        """``with``: a write cursor inside ``BEGIN`` ... ``COMMIT`` (rolled back on any error)."""
        with self._use(write=True, con=con) as cur:
            cur.execute("BEGIN")
            try:
                yield cur
                self._commit(cur)
            except BaseException:
                cur.execute("ROLLBACK")
                raise

    @staticmethod
    def _now() -> datetime:
        return datetime.now().replace(microsecond=0)

    # ---- datasets -------------------------------------------------------------------------------

    def save_dataset(self, name: str, ds: Dataset, *, file_name: str | None = None,
                     replace: bool = True) -> int:
        """Save a dataset (its order lines, ingest report, and customers/interactions if attached).

        Parameters
        ----------
        name : the name to list it under; saving under an existing name (of this owner) replaces
            that dataset (all at once) unless ``replace`` is False.
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
            raise WorkspaceError("no_lines", "This dataset has no parsed order lines to save.")
        original = ds.source.path if ds.source is not None and ds.source.table is None else None
        if original is not None and not original.exists():  # an upload cleaned away meanwhile
            original = None
        if ds.report.duplicate_rows is None:
            ds.count_duplicates()
        extra = {"customer_attributes": list(ds.customer_attributes), "side_reports": ds.side_reports,
                 **({"source_name": ds.source.name, "sheet": ds.source.sheet} if original else {})}
        with self._transaction(ds.con) as con:
            source = _quote(con.execute("SELECT current_database()").fetchone()[0])
            old = con.execute("SELECT id FROM ws.datasets WHERE owner = $o AND name = $n",
                              {"o": self.owner, "n": name}).fetchall()
            if old and not replace:
                raise WorkspaceError("exists", f"A dataset named {name!r} is already saved.", name=name)
            new_id = self._next_id(con)
            for t in tables:
                con.execute(f"CREATE TABLE ws.d{new_id}_{t} AS SELECT rowid AS _rowid, * FROM {source}.main.{t}")
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
            con.execute("""INSERT INTO ws.datasets (id, owner, name, created, file_name, headers, report, extra,
                                                    tables, lines, customers)
                           VALUES ($id, $owner, $name, $created, $file, $headers, $report, $extra, $tables,
                                   $lines, $customers)""",
                        {"id": new_id, "owner": self.owner, "name": name, "created": self._now(),
                         "file": file_name or name, "headers": _dumps(list(ds.headers)),
                         "report": _dumps(ds.report), "extra": _dumps(extra),
                         "tables": _dumps(tables), "lines": lines, "customers": customers})
        return new_id

    def _drop_dataset(self, con, dataset_id: int) -> None:
        (tables,) = con.execute("SELECT tables FROM ws.datasets WHERE id = $id AND owner = $o",
                                {"id": dataset_id, "o": self.owner}).fetchone()
        for t in _loads(tables, list):
            if t in (*DATASET_TABLES, "file"):
                con.execute(f"DROP TABLE IF EXISTS ws.d{int(dataset_id)}_{t}")
        con.execute("DELETE FROM ws.datasets WHERE id = $id AND owner = $o", {"id": dataset_id, "o": self.owner})

    def list_datasets(self) -> pd.DataFrame:
        """Saved datasets, newest first: ``name, created, file_name, lines, customers,
        date_min, date_max, id, has_customers, has_interactions`` (the last two: whether a
        customer list / an interactions file was saved with it)."""
        with self._use() as con:
            df = con.execute("""
                SELECT name, created, file_name, lines, customers, report, id, tables
                FROM ws.datasets WHERE owner = $o ORDER BY created DESC, id DESC""", {"o": self.owner}).df()
            reports = [_loads(r, dict) for r in df.pop("report")]
            tables = [_loads(t, list) for t in df.pop("tables")]
        df.insert(5, "date_min", [r.get("date_min") for r in reports])
        df.insert(6, "date_max", [r.get("date_max") for r in reports])
        df["has_customers"] = pd.Series(["customers" in t for t in tables], dtype=bool)
        df["has_interactions"] = pd.Series(["interactions" in t for t in tables], dtype=bool)
        return df

    def open_dataset(self, name: str) -> Dataset:
        """A saved dataset as a :class:`segcore.Dataset` in a new in-memory connection, with the
        same tables (``parsed``, ``rejected``, the view ``lines``, customers, interactions) it had; its
        orders file, written to a temporary file that lives as long as the dataset, is ``source``."""
        con = dataset_connection()
        try:
            with self._use(con=con) as cur:
                row = cur.execute("SELECT id, headers, report, extra, tables, file_name FROM ws.datasets "
                                  "WHERE owner = $o AND name = $n", {"o": self.owner, "n": name}).fetchone()
                if row is None:
                    raise WorkspaceError("not_found", f"No dataset named {name!r} is saved.",
                                         what="dataset", name=name)
                dataset_id, headers, report, extra, tables, file_name = row
                tables = _loads(tables, list)
                for t in tables:
                    if t in DATASET_TABLES:
                        cur.execute(f"CREATE TABLE memory.main.{t} AS SELECT * EXCLUDE (_rowid) "
                                    f"FROM ws.d{int(dataset_id)}_{t} ORDER BY _rowid")
                extra = _loads(extra, dict)
                headers, report = _loads(headers, list), _report_from(_loads(report, dict))
                source = None
                if "file" in tables:
                    folder = Path(tempfile.mkdtemp(prefix="segcore-"))
                    path = folder / Path(extra["source_name"]).name
                    with open(path, "wb") as fh:
                        for (data,) in cur.execute(
                                f"SELECT data FROM ws.d{int(dataset_id)}_file ORDER BY part").fetchall():
                            fh.write(data)
                    source = open_source(path, name=extra["source_name"], sheet=extra.get("sheet"))
                    weakref.finalize(source, shutil.rmtree, folder, True)
            if "raw" in tables:
                source = Source(None, file_name, report.file_format, headers, encoding=report.encoding, table="raw")
            if "rejected" not in tables:
                # saved before the rejected rows kept their cells: parse the saved text table again
                report = parse_loaded(con, headers, file_name, report.file_format, report.encoding, report.mapping,
                                      date_order=report.date_order, drop_duplicates=report.duplicates_dropped).report
            lines_view(con)
            return Dataset(con=con, headers=headers, report=report, source=source,
                           customer_attributes=extra.get("customer_attributes", []),
                           side_reports=extra.get("side_reports", {}))
        except BaseException:
            con.close()
            raise

    def delete_dataset(self, name: str) -> bool:
        """Delete a saved dataset; True when there was one. Its snapshots are kept."""
        with self._transaction() as con:
            ids = con.execute("SELECT id FROM ws.datasets WHERE owner = $o AND name = $n",
                              {"o": self.owner, "n": name}).fetchall()
            for (dataset_id,) in ids:
                self._drop_dataset(con, dataset_id)
        return bool(ids)

    # ---- settings -------------------------------------------------------------------------------

    def save_settings(self, name: str, settings: Settings) -> None:
        """Save settings under a name (replacing this owner's settings of that name)."""
        name = _name(name, "settings")
        body = settings.to_json()
        with self._transaction() as con:
            con.execute("DELETE FROM ws.settings WHERE owner = $o AND name = $n", {"o": self.owner, "n": name})
            con.execute("INSERT INTO ws.settings (owner, name, saved, body) VALUES ($o, $n, $t, $b)",
                        {"o": self.owner, "n": name, "t": self._now(), "b": body})

    def list_settings(self) -> pd.DataFrame:
        """Saved settings, newest first: ``name, saved``."""
        with self._use() as con:
            return con.execute("SELECT name, saved FROM ws.settings WHERE owner = $o ORDER BY saved DESC, name",
                               {"o": self.owner}).df()

    def load_settings(self, name: str) -> Settings:
        """The settings saved under ``name``; ``bad_settings`` when this version refuses them."""
        with self._use() as con:
            row = con.execute("SELECT body FROM ws.settings WHERE owner = $o AND name = $n",
                              {"o": self.owner, "n": name}).fetchone()
        if row is None:
            raise WorkspaceError("not_found", f"No settings named {name!r} are saved.", what="settings", name=name)
        try:
            return Settings.from_json(row[0])
        except SettingsError as exc:
            raise WorkspaceError("bad_settings", f"The settings named {name!r} cannot be used: {exc}",
                                 name=name, reason=str(exc)) from exc

    def delete_settings(self, name: str) -> bool:
        """Delete saved settings; True when there were some."""
        with self._transaction() as con:
            n = con.execute("SELECT count(*) FROM ws.settings WHERE owner = $o AND name = $n",
                            {"o": self.owner, "n": name}).fetchone()[0]
            con.execute("DELETE FROM ws.settings WHERE owner = $o AND name = $n", {"o": self.owner, "n": name})
        return n > 0

    # ---- snapshots ------------------------------------------------------------------------------

    def save_snapshot(self, dataset: str, tiered: pd.DataFrame, as_of: date,
                      settings: Settings | None = None, *, content: str | None = None, name: str = "",
                      labels=None) -> int:
        """Save a dated tiering of a dataset.

        Parameters
        ----------
        dataset : the dataset's name as the user knows it (shown in lists; it need not be saved).
        tiered : tiered per-customer table (:func:`segcore.assign_tiers`); the ``SNAPSHOT_COLUMNS``
            it has are kept.
        as_of : the as-of date of the tiering.
        settings : the settings that made it (kept with it, to compare like with like).
        content : the dataset's :func:`content_key`; a snapshot of this owner with the same
            content, as-of date and name is replaced.
        name : optional label.
        labels : the levels in order (default: ``settings.labels``, else the tier categories or
            the tiers found).

        Returns
        -------
        int : the snapshot's id.
        """
        if "customer_id" not in tiered.columns or "tier" not in tiered.columns:
            raise WorkspaceError("no_tiers", "A snapshot needs customer_id and tier columns.")
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
        with self._transaction() as con:
            con.register("snapshot_rows", frame)
            old = con.execute("""SELECT id FROM ws.snapshots WHERE owner = $o AND content IS NOT DISTINCT FROM $c
                                 AND as_of = $a AND name = $n""",
                              {"o": self.owner, "c": content, "a": as_of, "n": name or ""}).fetchall()
            new_id = self._next_id(con)
            con.execute(f"CREATE TABLE ws.s{new_id} AS SELECT * FROM snapshot_rows")
            customers, revenue = con.execute(
                "SELECT count(*), COALESCE(sum(monetary), 0) FROM snapshot_rows"
                if "monetary" in cols else "SELECT count(*), 0 FROM snapshot_rows").fetchone()
            for (old_id,) in old:
                self._drop_snapshot(con, old_id)
            con.execute("""INSERT INTO ws.snapshots (id, owner, dataset, content, name, as_of, created, settings,
                                                     labels, customers, revenue)
                           VALUES ($id, $o, $d, $c, $n, $a, $t, $s, $l, $k, $r)""",
                        {"id": new_id, "o": self.owner, "d": dataset, "c": content, "n": name or "", "a": as_of,
                         "t": self._now(), "s": settings.to_json() if settings is not None else None,
                         "l": _dumps(list(labels)), "k": customers, "r": float(revenue)})
            con.unregister("snapshot_rows")
        return new_id

    def _drop_snapshot(self, con, snapshot_id: int) -> None:
        con.execute(f"DROP TABLE IF EXISTS ws.s{int(snapshot_id)}")
        con.execute("DELETE FROM ws.snapshots WHERE id = $id AND owner = $o", {"id": snapshot_id, "o": self.owner})

    def list_snapshots(self, content: str | None = None) -> pd.DataFrame:
        """This owner's snapshots (of the dataset with this :func:`content_key`, or all), newest
        as-of first: ``id, dataset, content, name, as_of, created, customers, revenue``."""
        with self._use() as con:
            return con.execute("""
                SELECT id, dataset, content, name, as_of, created, customers, revenue FROM ws.snapshots
                WHERE owner = $o AND ($c IS NULL OR content = $c)
                ORDER BY as_of DESC, created DESC, id DESC""", {"o": self.owner, "c": content}).df()

    def load_snapshot(self, snapshot_id: int) -> Snapshot:
        """A saved snapshot (:class:`Snapshot`) of this owner, its rows sorted by ``customer_id``."""
        with self._use() as con:
            row = con.execute("""SELECT id, dataset, content, name, as_of, created, settings, labels
                                 FROM ws.snapshots WHERE id = $id AND owner = $o""",
                              {"id": int(snapshot_id), "o": self.owner}).fetchone()
            if row is None:
                raise WorkspaceError("not_found", f"No snapshot {snapshot_id} is saved.", what="snapshot",
                                     name=str(snapshot_id))
            tiers = con.execute(f"SELECT * FROM ws.s{int(row[0])} ORDER BY customer_id").df()
            labels = tuple(str(x) for x in _loads(row[7], list))
        return Snapshot(id=row[0], dataset=row[1], content=row[2], name=row[3], as_of=row[4], created=row[5],
                        settings=_settings_or_none(row[6])[0], labels=labels, tiers=tiers)

    def delete_snapshot(self, snapshot_id: int) -> bool:
        """Delete one of this owner's snapshots; True when there was one."""
        with self._transaction() as con:
            found = con.execute("SELECT count(*) FROM ws.snapshots WHERE id = $id AND owner = $o",
                                {"id": int(snapshot_id), "o": self.owner}).fetchone()[0]
            if found:
                self._drop_snapshot(con, int(snapshot_id))
        return bool(found)

    # ---- the last session and kept uploads -----------------------------------------------------

    def _files_dir(self) -> Path:
        owner = "shared" if self.owner == _SHARED else self.owner[:32]
        return self.path.parent / f"{self.path.stem}-files" / owner

    def store_upload(self, stream, file_name: str, *, size: int | None = None, progress=None) -> StoredFile:
        """Keep an uploaded file (a binary stream, read in 4 MB chunks: no copy in memory) in this
        owner's file store, hashing it on the way.

        The file lands in ``<store>/<sha256>/<safe_file_name(file_name)>``, so the engine's messages
        name it as the user does. ``progress(fraction)`` is called after every chunk when ``size``
        (the expected bytes) is given.
        """
        try:
            return store_file(stream, self._files_dir(), file_name, size=size, progress=progress)
        except OSError as exc:
            raise WorkspaceError("store_failed", f"The file {safe_file_name(file_name)} could not be kept in the "
                                 f"workspace ({exc.strerror or exc}).", file=safe_file_name(file_name),
                                 detail=str(exc.strerror or exc)) from exc

    def save_session(self, *, source: str, files: dict[str, StoredFile] | None = None, dataset: str | None = None,
                     settings: Settings | None = None) -> None:
        """Remember this owner's session: the data in use and its settings (replacing the last).

        Parameters
        ----------
        source : ``"upload"`` (``files``: role -> :class:`StoredFile` from :meth:`store_upload`),
            ``"saved"`` (``dataset``: a saved dataset's name) or ``"sample"``.
        settings : the session's settings (None: none to restore).

        Kept uploads of this owner that the session no longer refers to are removed once untouched
        for ``UPLOAD_KEEP_SECONDS``.
        """
        if source not in ("upload", "saved", "sample"):
            raise ValueError(f"source is 'upload', 'saved' or 'sample'; got {source!r}.")
        files = dict(files or {})
        stored = {role: {"file": f.name, "sha256": f.sha256, "size": f.size} for role, f in files.items()}
        with self._transaction() as con:
            con.execute("DELETE FROM ws.sessions WHERE owner = $o", {"o": self.owner})
            con.execute("INSERT INTO ws.sessions (owner, saved, source, dataset, files, settings) "
                        "VALUES ($o, $t, $s, $d, $f, $b)",
                        {"o": self.owner, "t": self._now(), "s": source, "d": dataset, "f": _dumps(stored),
                         "b": settings.to_json() if settings is not None else None})
        self._prune_files(keep={f.sha256 for f in files.values()})

    def last_session(self) -> LastSession | None:
        """This owner's last session (:meth:`save_session`), or None when there is none."""
        with self._use() as con:
            row = con.execute("SELECT saved, source, dataset, files, settings FROM ws.sessions WHERE owner = $o",
                              {"o": self.owner}).fetchone()
            if row is None:
                return None
            saved, source, dataset, stored, body = row
            files, missing = {}, []
            for role, f in _loads(stored, dict).items():
                path = self._files_dir() / str(f["sha256"]) / safe_file_name(f["file"])
                if path.is_file():
                    files[role] = StoredFile(path, str(f["sha256"]), int(f["size"]))
                else:
                    missing.append(role)
        settings, problem = _settings_or_none(body)
        return LastSession(saved=saved, source=source, dataset=dataset, files=files, missing=tuple(missing),
                           settings=settings, settings_error=problem)

    def _prune_files(self, keep: set[str]) -> None:
        folder = self._files_dir()
        if not folder.is_dir():
            return
        cutoff = time.time() - UPLOAD_KEEP_SECONDS
        for entry in folder.iterdir():
            try:
                if entry.name in keep or entry.stat().st_mtime >= cutoff:
                    continue
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:  # an upload cut off mid-way
                    entry.unlink()
            except OSError:  # removed meanwhile by another session
                continue


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

def _is_lock(exc: Exception) -> bool:
    text = str(exc).lower()
    return "set lock on file" in text or "conflicting lock" in text


def _failure(exc: BaseException, path: Path, write: bool, creating: bool = False) -> WorkspaceError:
    """The :class:`WorkspaceError` for anything that went wrong with the file (the one error path)."""
    text = str(getattr(exc, "strerror", None) or exc)
    detail = (text.splitlines() or [type(exc).__name__])[0][:200]
    low = str(exc).lower()
    where = {"path": str(path), "detail": detail}
    if isinstance(exc, (MemoryError, duckdb.OutOfMemoryException)):
        return WorkspaceError("no_memory", f"There is not enough memory to use the workspace file {path}.", **where)
    if _is_lock(exc):
        return WorkspaceError("in_use", f"The workspace file {path} is in use by another program; try again in "
                              "a moment.", **where)
    if isinstance(exc, PermissionError) or "permission denied" in low or "read-only file system" in low:
        return WorkspaceError("read_only", f"The workspace file {path} cannot be written (no permission, or a "
                              "read-only disk).", **where)
    if "no space left" in low:
        return WorkspaceError("disk_full", f"The workspace file {path} cannot be written: the disk is full.", **where)
    if creating or (isinstance(exc, OSError) and not isinstance(exc, duckdb.Error)):
        return WorkspaceError("unavailable", f"The workspace file {path} cannot be opened or created ({detail}).",
                              **where)
    damage = isinstance(exc, (_BadStoredValue, duckdb.BinderException, duckdb.CatalogException)) or any(
        word in low for word in ("corrupt", "checksum", "not a valid duckdb", "could not read"))
    if write and not damage:   # in a read, anything unexpected comes from the file
        return WorkspaceError("write_failed", f"Saving to the workspace file {path} failed ({detail}).", **where)
    return WorkspaceError("damaged", f"The workspace file {path} is damaged and cannot be read ({detail}); move "
                          "it aside to go on with an empty workspace.", **where)


def _settings_or_none(body) -> tuple[Settings | None, str | None]:
    """Stored settings JSON -> (Settings, None), or (None, why not) when they no longer pass."""
    if body is None:
        return None, None
    try:
        return Settings.from_json(body), None
    except SettingsError as exc:
        return None, str(exc)


def _has_table(con, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                            "AND schema_name = 'main' AND table_name = $t", {"t": name}).fetchone()[0])


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _name(name, what: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise WorkspaceError("need_name", f"A {what} needs a name.", what=what)
    return name.strip()
