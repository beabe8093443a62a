"""This browser's session kept in its workspace: the workspace key, reopening the last data and
settings after a reload or in a new tab, and remembering them as they change.

Whose workspace
---------------
``SEGCORE_WORKSPACE_MODE=private`` (the default): each browser has a workspace key
(:func:`segcore.workspace.new_workspace_key`), kept in the URL (``?ws=KEY``: a reload keeps it, a
bookmark too) and in a cookie (a new tab on the bare address finds it). A second browser has
neither, so it gets a new key and an empty workspace: it never sees another browser's uploads,
settings, saved datasets or snapshots. ``shared``: one workspace for everyone (no key).

Reopening
---------
A new session (a reload, a new tab) reopens the workspace's last session
(:meth:`segcore.workspace.Workspace.last_session`): the upload (kept in the workspace) or the saved
dataset, with its column choices and every setting, and says so with a button back to the sample.
:func:`remember` saves the session again whenever the data in use or a setting changes.

Must not draw anything but the reopening note and the workspace's problem; the workspace calls
are ``ui.data``'s.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from segcore.settings import SettingsError
from segcore.workspace import (StoredFile, WorkspaceError, new_workspace_key, valid_workspace_key,
                               workspace_mode)
from ui import data, fmt, settings, state
from ui.i18n import t

WS_PARAM, WS_COOKIE = "ws", "segcore_ws"  # the URL parameter and the cookie holding the key
ROLES = ("orders", *data.SIDE_FIELDS)


def start(page: str) -> None:
    """First thing on every run of every page (``page``: its title key): the workspace key, and on a
    new session the last session reopened; then the reopening note and workspace messages."""
    ss = st.session_state
    _keep_key()
    if "_restored" not in ss:
        ss["_restored"] = True
        _reopen(page)
    state.show_flash("workspace")
    note = ss.get("_reopened")
    if note is not None and note["page"] == page and ss["s_active"].key == note["key"]:
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.info(note["text"], icon=":material/history:")
        right.button(t("ws_use_sample"), key="w_ws_use_sample", on_click=_use_sample,
                     icon=":material/restart_alt:")


def _keep_key() -> None:
    """The session's workspace key (private mode): the URL's, else the cookie's, else a new one;
    put back into the URL (a page switch clears it) and into the cookie."""
    ss = st.session_state
    try:
        if workspace_mode() == "shared":
            return
    except WorkspaceError:  # a wrong mode: private, and the workspace says what is wrong
        pass
    key = ss.get("_ws_key")
    if key is None:
        found = (st.query_params.get(WS_PARAM), st.context.cookies.get(WS_COOKIE))
        key = ss["_ws_key"] = next((k for k in found if valid_workspace_key(k)), None) or new_workspace_key()
    if st.query_params.get(WS_PARAM) != key:
        st.query_params[WS_PARAM] = key
    if st.context.cookies.get(WS_COOKIE) != key and ss.get("_ws_cookie") != key:
        ss["_ws_cookie"] = key  # the key is 32 URL-safe characters: nothing to escape
        st.html(f"<script>parent.document.cookie = '{WS_COOKIE}={key}; path=/; max-age=31536000; "
                "SameSite=Strict'</script>", unsafe_allow_javascript=True, width=1)


def _reopen(page: str) -> None:
    """Open the workspace's last session in this new session (see the module docstring)."""
    ss = st.session_state
    last, problem = data.ws_call(lambda ws: ws.last_session())
    if problem is not None:
        data.ws_problem(problem, "start")
        return
    if last is None:
        return
    if last.source == "upload":
        if last.missing or "orders" not in last.files:
            state.flash("workspace", "warning", t("ws_gone"))
            return
        refs = {role: data.FileRef(f.name, str(f.path), f.sha256, f.size) for role, f in last.files.items()}
        ss["s_uploads"].update(refs)
        ss["s_source"] = "upload"
        if last.settings is not None:  # the column choices decide how the files are read
            state.overrides_for(refs["orders"].sha).update(last.settings.mapping)
            for role in data.SIDE_FIELDS:
                if role in refs:
                    state.overrides_for(refs[role].sha, role).update(getattr(last.settings, f"{role}_mapping"))
            ss["s_date_order"] = last.settings.date_order or "auto"
            ss["s_drop_dup"] = last.settings.drop_duplicates
        spec, what = data.candidate_spec(), fmt.md(refs["orders"].name)
    elif last.source == "saved":
        ss["s_source"], ss["s_ws_dataset"] = "saved", last.dataset
        spec, what = data.saved_spec(last.dataset), t("ws_saved_name", name=fmt.md(last.dataset))
    else:
        spec, what = data.sample_spec(), None
    ds = data.load(spec, show_progress=False)[0] if spec is not None else None
    if ds is None:  # the Data page says why; the settings stay those of the sample
        return
    ss["s_active"] = spec
    if last.settings is not None:
        settings.apply(last.settings)
        ss["s_window_for"] = spec.key  # keep the restored as-of date and window start
    elif last.settings_error:
        state.flash("workspace", "warning", t("ws_settings_dropped", reason=fmt.md(last.settings_error)))
    found = _signature()
    ss["_remembered"] = found and found[1]
    if what is not None:
        ss["_reopened"] = {"page": page, "key": spec.key,
                           "text": t("ws_reopened", what=what, saved=fmt.stamp(last.saved))}


def _use_sample() -> None:
    ss = st.session_state
    ss["s_source"], ss["s_active"] = "sample", data.sample_spec()
    ss.pop("_reopened", None)


def _signature():
    """(the session to save, its signature): what :func:`remember` keeps, or None when the
    settings cannot be written (e.g. a level name used twice)."""
    ss = st.session_state
    spec = ss["s_active"]
    try:
        body = settings.from_session()
    except (SettingsError, ValueError):
        return None
    source = "saved" if spec.saved else "sample" if spec.sample else "upload"
    files = {role: StoredFile(Path(ref.path), ref.sha, ref.size) for role in ROLES
             if source == "upload" and (ref := getattr(spec, role)) is not None}
    return {"source": source, "files": files, "dataset": spec.saved, "settings": body}, (
        source, spec.key, spec.saved, body.to_json())


def remember() -> None:
    """Save the session (data in use and settings) into the workspace when it changed since the
    last save; nothing is said when the workspace cannot be used (the pages that use it say why)."""
    ss = st.session_state
    found = _signature()
    if found is None or ss.get("_remembered") == found[1]:
        return
    ss["_remembered"] = found[1]
    data.ws_call(lambda ws: ws.save_session(**found[0]))
