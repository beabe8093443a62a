"""The data the app reads: the sample, uploaded files, datasets saved in the workspace, loading
them into the engine and caching what is computed once per dataset.

Caching
-------
- :func:`_load_dataset` (:class:`DatasetCache`, one per server): one :class:`segcore.Dataset` per
  file content hash + mapping + date order + duplicates choice (+ the optional files' hashes); a
  :class:`Spec` is everything that decides it. Sized in bytes (``$SEGCORE_CACHE_MB``, default
  256): the least recently used datasets are closed once the others need the room.
- :func:`customer_metrics` (``st.cache_data``): the per-customer table per dataset key + as-of +
  window start.
- :func:`mapping_checks` (``st.cache_data``): what looks wrong about the chosen columns, per dataset key.
- :func:`forecast_fit` (``st.cache_resource``): the prediction models per dataset key +
  calibration end + window start + time unit (a horizon or discount rate only predicts again).
DuckDB connections are shared between sessions, so every query from here uses ``ds.con.cursor()``.

Holds the file references and specs, uploads written to disk, :func:`load` (with the reason a file
cannot be used, kept per session), :func:`active` (the dataset the pages show) and the workspace
file's datasets as specs.

Must not draw anything but the loading status and the message that the workspace cannot be
opened, and must not read widgets; the Data page's controls are in ``ui.data_page``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

import segcore
from segcore import forecast
from segcore.customer_table import open_customer_table
from segcore.sources import excel_sheets, open_source
from segcore.workspace import (Workspace, WorkspaceError, browser_workspace, content_key, set_aside,
                               store_file)
from ui import fmt, state
from ui.i18n import t

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "sample_data"
UPLOAD_DIR = Path(tempfile.gettempdir()) / "segcore-uploads"
UPLOAD_KEEP_DAYS = 7
UPLOAD_TYPES = ["csv", "tsv", "txt", "xlsx", "xls", "parquet"]
CHUNK = 4 << 20
CACHE_MB = 256  # default of $SEGCORE_CACHE_MB: memory of the loaded datasets kept for every session
SOURCES = ("sample", "upload", "saved", "table")  # choices of s_source: where the data comes from
SIDE_FIELDS = {"customers": segcore.headers.CUSTOMER_FIELDS, "interactions": segcore.headers.INTERACTION_FIELDS}


@dataclass(frozen=True)
class FileRef:
    """A file the app reads: its name as the user knows it, where it is, and its content hash."""

    name: str
    path: str
    sha: str
    size: int


@dataclass(frozen=True)
class Spec:
    """Everything that decides a loaded dataset (the cache key is made of it)."""

    orders: FileRef
    customers: FileRef | None = None
    interactions: FileRef | None = None
    mapping: tuple[tuple[str, str], ...] = ()
    customers_mapping: tuple[tuple[str, str], ...] = ()     # the user's column choices for the side files
    interactions_mapping: tuple[tuple[str, str], ...] = ()
    date_order: str | None = None
    drop_duplicates: bool = False
    sheet: str | None = None  # the orders workbook's sheet chosen by the user (None: the first table)
    sample: bool = False
    saved: str | None = None  # the name of a dataset opened from the workspace (orders.path = its file)
    table: bool = False  # orders is a customer table (python -m segcore metrics), not order lines

    @property
    def key(self) -> str:
        parts = (self.orders.sha, self.mapping, self.date_order, self.drop_duplicates,
                 self.customers.sha if self.customers else None,
                 self.interactions.sha if self.interactions else None,
                 self.customers_mapping, self.interactions_mapping, self.sheet, self.table)
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


class LoadFailure(Exception):
    """A file of a spec could not be used: which one, the engine's error, and the file's headers."""

    def __init__(self, role: str, file: FileRef, error: Exception, headers: list[str] | None = None):
        super().__init__(str(error))
        self.role, self.file, self.error, self.headers = role, file, error, headers


@st.cache_data(show_spinner=False, max_entries=32)
def _file_sha(path: str, mtime: float, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_ref(path) -> FileRef:
    """A :class:`FileRef` for a file on disk (its hash is cached by path, time and size)."""
    path = Path(path)
    stat = path.stat()
    return FileRef(path.name, str(path), _file_sha(str(path), stat.st_mtime, stat.st_size), stat.st_size)


def sample_refs() -> dict[str, FileRef | None]:
    refs = {}
    for role in ("orders", "customers", "interactions"):
        path = SAMPLE_DIR / f"{role}.csv"
        refs[role] = file_ref(path) if path.exists() else None
    return refs


def keep_upload(uploaded, progress=None) -> FileRef:
    """Write an uploaded file to disk in chunks (no extra copy in memory), hashing it on the way:
    into this browser's workspace (:meth:`Workspace.store_upload`: a reload reopens it), or, when
    the workspace cannot be used, into a temporary folder (:func:`save_upload`).

    The file keeps its name as the user knows it (:func:`segcore.workspace.safe_file_name`: made
    safe for the disk, cut to 255 bytes), so the engine's messages name it as the user does.
    ``progress(fraction)`` is called after every chunk.
    """
    kept, problem = ws_call(lambda ws: ws.store_upload(uploaded, uploaded.name, size=uploaded.size,
                                                       progress=progress))
    if problem is None:
        return FileRef(kept.name, str(kept.path), kept.sha256, kept.size)
    return save_upload(uploaded, progress)


def save_upload(uploaded, progress=None) -> FileRef:
    """Write an uploaded file into ``UPLOAD_DIR/<sha256>/<safe name>`` (see :func:`keep_upload`);
    nothing is left behind when that fails (OSError)."""
    kept = store_file(uploaded, UPLOAD_DIR, uploaded.name, size=getattr(uploaded, "size", None), progress=progress)
    _prune_uploads(keep=kept.path.parent)
    return FileRef(kept.path.name, str(kept.path), kept.sha256, kept.size)


def _prune_uploads(keep: Path) -> None:
    """Delete uploads untouched for ``UPLOAD_KEEP_DAYS`` days (a session still showing one falls
    back to the sample; datasets saved in the workspace are kept there, not here)."""
    cutoff = time.time() - UPLOAD_KEEP_DAYS * 86400
    for folder in UPLOAD_DIR.iterdir():
        try:
            if folder != keep and folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:  # removed meanwhile by another session
            continue


@st.cache_data(show_spinner=False, max_entries=16)
def workbook_sheets(sha: str, path: str) -> list[str]:
    """The sheet names of the Excel workbook with content hash ``sha`` ([] when the file is not one)."""
    if Path(path).suffix.lower() not in (".xlsx", ".xls"):
        return []
    try:
        return excel_sheets(path)
    except segcore.IngestError:  # reading it says what is wrong
        return []


def headers_of(path: str) -> list[str] | None:
    try:
        return open_source(path).headers  # reads the start of the file, never the whole table
    except Exception:  # the file is unreadable: the error already says so
        return None


class DatasetCache:
    """Loaded datasets shared by every session, by key, while their memory adds up to at most
    ``limit`` bytes (each dataset's :meth:`segcore.Dataset.memory_bytes`, measured once when it
    is loaded): past that the least recently used go first and are closed, so their memory is
    released. A dataset used in the last ``grace`` seconds is never closed (another session may
    be drawing a page from it), nor the one just used.
    """

    def __init__(self, limit: int, grace: float = 20.0):
        self.limit, self.grace = limit, grace
        self._items: OrderedDict[str, tuple[segcore.Dataset, int, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    def get(self, key: str, load) -> segcore.Dataset:
        """The dataset of ``key``, from ``load()`` the first time (one load per key at a time;
        what ``load`` raises is not kept)."""
        with self._lock:
            if key in self._items:
                return self._use(key)
            gate = self._loading.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                if key in self._items:  # another session loaded it meanwhile
                    return self._use(key)
            try:
                ds = load()
                size = ds.memory_bytes()
            finally:
                with self._lock:
                    self._loading.pop(key, None)
            with self._lock:
                self._items[key] = (ds, size, time.monotonic())
                self._evict()
                return ds

    def _use(self, key: str) -> segcore.Dataset:
        ds, size, _ = self._items[key]
        self._items[key] = (ds, size, time.monotonic())
        self._items.move_to_end(key)
        return ds

    def _evict(self) -> None:
        now = time.monotonic()
        for key in list(self._items)[:-1]:   # oldest first; the newest always stays
            if self.total() <= self.limit:
                break
            ds, _, used = self._items[key]
            if now - used >= self.grace:
                del self._items[key]
                ds.close()

    def total(self) -> int:
        """Bytes of the datasets kept."""
        return sum(size for _, size, _ in self._items.values())

    def keys(self) -> list[str]:
        """The keys kept, least recently used first."""
        return list(self._items)


def cache_limit() -> int:
    """Bytes the loaded datasets may take together: ``$SEGCORE_CACHE_MB`` (default 256)."""
    try:
        return int(float(os.environ.get("SEGCORE_CACHE_MB") or CACHE_MB) * 2**20)
    except ValueError:
        return CACHE_MB * 2**20


@st.cache_resource(show_spinner=False)
def dataset_cache() -> DatasetCache:
    """The server's one :class:`DatasetCache` (sized by :func:`cache_limit` when it starts)."""
    return DatasetCache(cache_limit())


def _load_dataset(key: str, spec: Spec) -> segcore.Dataset:
    """The dataset of a spec (``key`` hashes it) from the server's cache, read the first time."""
    return dataset_cache().get(key, lambda: _read_dataset(spec))


def _read_dataset(spec: Spec) -> segcore.Dataset:
    """Read, parse and attach the files of a spec."""
    if spec.saved is not None:
        return _open_saved(spec)
    if spec.table:
        try:
            return open_customer_table(spec.orders.path, spec.orders.name)
        except Exception as exc:
            raise LoadFailure("orders", spec.orders, exc) from exc
    try:
        ds = segcore.load_orders(spec.orders.path, dict(spec.mapping) or None, date_order=spec.date_order,
                                 drop_duplicates=spec.drop_duplicates, sheet=spec.sheet,
                                 count_duplicates=False)  # the Data page counts them last
        ds.report.duplicate_rows = _duplicate_counts().get(spec.orders.sha)  # known: this file was read before
    except Exception as exc:
        params = getattr(exc, "params", {}) or {}
        headers = params.get("columns")
        if headers is None and getattr(exc, "code", None) in ("all_rejected", "unknown_column"):
            headers = headers_of(spec.orders.path)
        raise LoadFailure("orders", spec.orders, exc, headers) from exc
    for role, loader in (("customers", segcore.load_customers),
                         ("interactions", segcore.load_interactions)):
        ref = getattr(spec, role)
        if ref is None:
            continue
        try:
            loader(ds, ref.path, dict(getattr(spec, f"{role}_mapping")) or None)
        except Exception as exc:
            headers = (getattr(exc, "params", {}) or {}).get("columns") or headers_of(ref.path)
            raise LoadFailure(role, ref, exc, headers) from exc
    return ds


@st.cache_resource(show_spinner=False)
def _duplicate_counts() -> dict[str, int]:
    """Exact duplicate rows by orders file content hash (the server's one dict)."""
    return {}


def count_duplicates(spec: Spec, ds: segcore.Dataset) -> int | None:
    """The exact duplicate rows of the spec's orders file (:meth:`segcore.Dataset.count_duplicates`:
    the file is read again), counted once per file content: a mapping, date order or duplicates
    choice does not change them."""
    n = ds.count_duplicates()
    if n is not None:
        _duplicate_counts()[spec.orders.sha] = n
    return n


def load(spec: Spec, *, show_progress: bool = True) -> tuple[segcore.Dataset | None, LoadFailure | None]:
    """The dataset of ``spec`` (cached), or the reason it cannot be used (remembered per session)."""
    failed = st.session_state.setdefault("_failed", {})
    if spec.key in failed:
        return None, failed[spec.key]
    loaded = st.session_state.setdefault("_loaded", set())
    box = st.empty() if show_progress and spec.key not in loaded else None
    try:
        if box is not None:
            with box.status(t("loading_saved", file=spec.orders.name) if spec.saved else
                            t("loading", file=spec.orders.name, size=fmt.size(spec.orders.size)),
                            expanded=False):
                ds = _load_dataset(spec.key, spec)
            box.empty()
        else:
            ds = _load_dataset(spec.key, spec)
    except LoadFailure as failure:
        if box is not None:
            box.empty()
        failed[spec.key] = failure
        return None, failure
    loaded.add(spec.key)
    return ds, None


def sample_spec(**changes) -> Spec:
    refs = sample_refs()
    return Spec(orders=refs["orders"], customers=refs["customers"],
                interactions=refs["interactions"], sample=True, **changes)


def candidate_spec() -> Spec | None:
    """The spec the data page asks for (sample, or the uploaded files), with the column choices."""
    ss = st.session_state
    if ss["s_source"] == "saved":
        return saved_spec(ss["s_ws_dataset"])
    if ss["s_source"] == "table":
        ref = ss["s_uploads"].get("table")
        return Spec(orders=ref, table=True) if ref is not None else None
    if ss["s_source"] == "sample":
        refs = sample_refs()
    else:
        refs = ss["s_uploads"]
        if refs.get("orders") is None:
            return None
    orders = refs["orders"]
    side = {f"{role}_mapping": tuple(sorted(state.overrides_for(refs[role].sha, role).items()))
            for role in SIDE_FIELDS if refs.get(role) is not None}
    return Spec(orders=orders, customers=refs.get("customers"), interactions=refs.get("interactions"),
                mapping=tuple(sorted(state.overrides_for(orders.sha).items())), **side,
                date_order=None if ss["s_date_order"] == "auto" else ss["s_date_order"],
                drop_duplicates=ss["s_drop_dup"], sheet=ss["s_sheets"].get(orders.sha),
                sample=ss["s_source"] == "sample")


@st.cache_data(show_spinner=False, max_entries=16)
def customer_metrics(key: str, as_of: date, since: date, _ds: segcore.Dataset) -> pd.DataFrame:
    if _ds.customer_table is not None:  # computed where the order lines are, for its own window
        return _ds.customer_table[0]
    return segcore.customer_metrics(_ds.con.cursor(), as_of=as_of, since=since)


@st.cache_data(show_spinner=False, max_entries=16)
def mapping_checks(key: str, _ds: segcore.Dataset) -> list[dict]:
    """What looks wrong about the columns of the dataset ``key`` (:func:`segcore.mapping_checks`)."""
    return segcore.mapping_checks(_ds)


@st.cache_resource(show_spinner=False, max_entries=8)
def forecast_fit(key: str, calibration_end: date, since: date, unit: str,
                 _ds: segcore.Dataset) -> forecast.ModelFit | segcore.PredictError:
    """The prediction models fitted on the orders from ``since`` up to ``calibration_end`` in
    ``unit``, or why the data cannot support them (kept too: a failing fit is not tried again on
    every rerun). Shared between sessions and never changed: predictions are made from it."""
    try:
        con = _ds.con.cursor()
        return forecast.fit_models(forecast.customer_summary(con, calibration_end, unit, since=since),
                                   calibration_end, unit)
    except segcore.PredictError as exc:
        return exc


def active() -> tuple[Spec, segcore.Dataset]:
    """The dataset the pages show: the last one that loaded (the sample at first)."""
    ss = st.session_state
    spec = ss["s_active"]
    ds, failure = load(spec)
    if ds is None:  # e.g. an uploaded file was cleaned away: back to the sample
        spec = ss["s_active"] = sample_spec()
        ds, failure = load(spec)
        if ds is None:
            raise failure
    return spec, ds


def ws_call(action):
    """``action(ws)`` on this browser's workspace (``ui.session`` keeps its key; one shared
    workspace when ``SEGCORE_WORKSPACE_MODE=shared``): (its result, None), or (None, the
    :class:`WorkspaceError`) when the file cannot be opened or read: a damaged file, a bad mode,
    a missing folder ... never an exception."""
    try:
        return action(browser_workspace(st.session_state.get("_ws_key"))), None
    except WorkspaceError as exc:
        return None, exc
    except (duckdb.Error, OSError) as exc:
        return None, WorkspaceError("unavailable", str(exc), detail=str(exc))


def workspace() -> tuple[Workspace | None, WorkspaceError | None]:
    """This browser's workspace, or why it cannot be opened."""
    return ws_call(lambda ws: ws)


def in_workspace(channel: str, action, errors: tuple = ()) -> tuple[bool, object]:
    """``action(ws)`` on the workspace file: (True, its result), or (False, None) with "That did not
    work: <reason>" flashed on ``channel`` when the file cannot be opened or the action fails with
    a workspace error (or one of ``errors``)."""
    try:
        result, problem = ws_call(action)
    except errors as exc:
        result, problem = None, exc
    if problem is not None:
        state.flash(channel, "error", t("ws_failed", reason=fmt.md(problem)))
        return False, None
    return True, result


def ws_problem(problem: WorkspaceError, where: str) -> None:
    """Why the workspace cannot be used, in one sentence (the engine's own below it); for a damaged
    file a button that moves it aside, so the app goes on with a new, empty workspace. ``where``
    tells the button apart when a page shows this twice."""
    damaged = getattr(problem, "code", None) == "damaged"
    st.error(t("ws_damaged" if damaged else "ws_unavailable"), icon=":material/error:")
    st.caption(fmt.md(problem))
    if damaged:
        st.button(t("ws_set_aside"), key=f"w_ws_aside_{where}", on_click=_set_aside,
                  args=(problem.params.get("path"),), icon=":material/move_item:")


def _set_aside(path: str | None) -> None:
    try:
        target = set_aside(path)
    except WorkspaceError as exc:
        state.flash("workspace", "error", t("ws_failed", reason=fmt.md(exc)))
        return
    state.flash("workspace", "success", t("ws_set_aside_done", file=fmt.md(target.name)))


def content_of(spec: Spec, ds: segcore.Dataset) -> str:
    """The dataset's :func:`segcore.workspace.content_key` (snapshots are filed under it), once per
    dataset."""
    return _content_key(spec.key, ds)


@st.cache_data(show_spinner=False, max_entries=32)
def _content_key(key: str, _ds: segcore.Dataset) -> str:
    return content_key(_ds)


def dataset_name(spec: Spec) -> str:
    """The name snapshots of this data are filed under: the saved name, the file name, or "sample"."""
    return spec.saved or ("sample" if spec.sample else spec.orders.name)


def dataset_label(name: str) -> str:
    return t("sb_sample") if name == "sample" else str(name)


def saved_spec(name: str | None) -> Spec | None:
    """The :class:`Spec` of a dataset saved in the workspace (None when there is no such dataset)."""
    if not name:
        return None
    found, _ = ws_call(lambda ws: (str(ws.path), ws.list_datasets()))
    if found is None:
        return None
    path, listed = found
    listed = listed[listed["name"] == name]
    if listed.empty:
        return None
    row = listed.iloc[0]
    sha = hashlib.sha256(f"{path}|{row['id']}|{row['created']}".encode()).hexdigest()

    def ref(role):
        return FileRef(name, path, f"{sha}-{role}", 0)

    return Spec(orders=ref("orders"), customers=ref("customers") if row["has_customers"] else None,
                interactions=ref("interactions") if row["has_interactions"] else None, saved=name)


def _open_saved(spec: Spec) -> segcore.Dataset:
    ds, problem = ws_call(lambda ws: ws.open_dataset(spec.saved))
    if problem is not None:
        raise LoadFailure("orders", spec.orders, problem)
    return ds
