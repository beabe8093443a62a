"""The Data page's helpers (``app.py``): the upload boxes, the column mapping editors of the orders
file and of the optional customer list and interactions file, the import report's rejected rows,
the message for a file that cannot be used, and the saved datasets of the workspace.

Must not load or cache data itself (``ui.data`` does) nor hold anything another page uses.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

import segcore
from segcore import export
from segcore.sources import NOTE_CODES
from ui import data, fmt, naming, state
from ui.i18n import has, labeller, lang, t

REQUIRED_FIELDS = ("customer_id", "order_date", "amount")
FILE_PROBLEMS = ("empty", "binary", "unreadable", "too_big", "not_customer_table")  # engine error codes whose message names only the file
SIDE_REQUIRED = {"customers": ("customer_id",), "interactions": ("customer_id", "date")}


def upload_box(role: str, label: str, help_text: str) -> None:
    """A file uploader whose file is written to disk once and kept across page switches."""
    ss = st.session_state
    wkey = f"w_upload_{role}"

    def _changed():
        if ss.get(wkey) is None:  # the user removed the file
            ss["s_uploads"][role] = None
            ss.pop(f"_upload_id_{role}", None)

    uploaded = st.file_uploader(label, type=data.UPLOAD_TYPES, key=wkey, help=help_text, on_change=_changed)
    ref = ss["s_uploads"].get(role)
    if uploaded is not None and ss.get(f"_upload_id_{role}") != uploaded.file_id:
        text = t("up_saving", file=uploaded.name, size=fmt.size(uploaded.size))
        bar = st.progress(0.0, text=text)
        ref = data.keep_upload(uploaded, progress=lambda x: bar.progress(x, text=text))
        bar.empty()
        ss["s_uploads"][role] = ref
        ss[f"_upload_id_{role}"] = uploaded.file_id
    if ref is not None and uploaded is None:
        st.caption(t("up_current", file=fmt.md(ref.name), size=fmt.size(ref.size)))
    if ref is not None and role == "orders":
        sheet_picker(ref)


def sheet_picker(ref: data.FileRef) -> None:
    """For a workbook of several sheets: which sheet holds the orders (default: the first one
    holding a table, as the engine reads it)."""
    sheets = data.workbook_sheets(ref.sha, ref.path)
    if len(sheets) < 2:
        return
    ss = st.session_state
    chosen = ss["s_sheets"]
    ss["w_sheet"] = chosen.get(ref.sha) if chosen.get(ref.sha) in sheets else ""

    def _set():
        chosen[ref.sha] = ss["w_sheet"] or None

    st.selectbox(t("sheet_pick"), ["", *sheets], key="w_sheet", on_change=_set, help=t("sheet_help"),
                 format_func=labeller({"": t("sheet_first")}))


def effective_mapping(headers: list[str], overrides: dict[str, str]) -> dict[str, str]:
    """The mapping the engine uses: its guess, updated by the user's choices field by field
    (a column serves one field; an empty choice unmaps), as :func:`segcore.parse_loaded` does."""
    full = segcore.guess_mapping(headers)
    for field_name, header in overrides.items():
        full = {k: v for k, v in full.items() if v != header}
        if header:
            full[field_name] = header
        else:
            full.pop(field_name, None)
    return full


@st.cache_data(show_spinner=False, max_entries=8)
def side_headers(sha: str, path: str) -> list[str] | None:
    """The column headers of a customers / interactions file (cached by content)."""
    return data.headers_of(path)


def mapping_editor(headers: list[str], sha: str) -> None:
    """One select box per canonical field; a change is stored as an override and reloads."""
    ss = st.session_state
    overrides = state.overrides_for(sha)
    effective = effective_mapping(headers, overrides)
    options = ["", *headers]
    cols = st.columns(4)
    for i, field_name in enumerate(segcore.CANONICAL_FIELDS):
        wkey = f"w_map_{field_name}"
        current = effective.get(field_name, "")
        ss[wkey] = current if current in options else ""

        def _set(field_name=field_name, wkey=wkey):
            state.overrides_for(sha)[field_name] = ss[wkey]

        label = t(f"field_{field_name}") + (" *" if field_name in REQUIRED_FIELDS else "")
        cols[i % 4].selectbox(label, options, key=wkey, on_change=_set,
                              format_func=labeller({"": t("not_used")}))


def side_mapping_editor(role: str, headers: list[str], sha: str) -> None:
    """Select boxes for the fields of a customers / interactions file; a change reloads."""
    ss = st.session_state
    overrides = state.overrides_for(sha, role)
    guess = segcore.guess_mapping(headers, data.SIDE_FIELDS[role])
    effective = {**guess, **{f: h for f, h in overrides.items() if h}}
    cols = st.columns(4)
    for i, field_name in enumerate(data.SIDE_FIELDS[role]):
        required = field_name in SIDE_REQUIRED[role]
        options = headers if required else ["", *headers]
        wkey = f"w_side_{role}_{field_name}"
        current = effective.get(field_name, "")
        ss[wkey] = current if current in options else None  # None: "choose a column"

        def _set(field_name=field_name, wkey=wkey):
            state.overrides_for(sha, role)[field_name] = ss[wkey] or ""

        label = t(f"side_field_{field_name}") + (" *" if required else "")
        cols[i % 4].selectbox(label, options, key=wkey, on_change=_set, placeholder=t("choose_column"),
                              format_func=labeller({"": t("not_used")}))


def report_facts(rep: segcore.IngestReport, file_name: str) -> str:
    """The import report's facts as a Markdown list: dates, returns, exact duplicates ("counting"
    until :meth:`segcore.Dataset.count_duplicates` has run), where amounts come from, the format."""
    dups = (t("dup_counting") if rep.duplicate_rows is None else
            t("dup_dropped" if rep.duplicates_dropped else "dup_kept", n=fmt.integer(rep.duplicate_rows)))
    amounts = {"amount": t("amount_col"), "none": t("amount_none")}.get(rep.amount_source, t("amount_qp"))
    facts = [
        (t("date_range"), f"{fmt.date(rep.date_min)} → {fmt.date(rep.date_max)}"),
        (t("returns"), t("returns_value", n=fmt.integer(rep.returns_count), sum=fmt.money(rep.returns_sum))),
        (t("duplicates"), dups),
        (t("amount_source"), amounts),
        (t("file_format"), f"{fmt.md(file_name)} · {rep.file_format.upper()}"
                           + (f" · {rep.encoding.upper()}" if rep.encoding else "")),
    ]
    return "\n".join(f"- **{k}:** {v}" for k, v in facts)


def report_notes(report: segcore.IngestReport) -> list[str]:
    """Remarks on how the file was read (the sheet of a workbook, mixed encodings ...), translated."""
    notes = [t(f"note_{n['code']}", **{k: fmt.integer(v) if isinstance(v, int) else v for k, v in n["params"].items()})
             if n["code"] in NOTE_CODES else n["message"] for n in report.notes]
    if report.sheet and len(report.sheets) > 1:
        notes.insert(0, t("note_sheet", sheet=fmt.md(report.sheet),
                          others=t("list_sep").join(fmt.md(s) for s in report.sheets if s != report.sheet)))
    return notes


def failure_message(failure: data.LoadFailure) -> str:
    """One translated sentence for a file that cannot be used."""
    err, name = failure.error, fmt.md(failure.file.name)
    code = getattr(err, "code", None)
    params = getattr(err, "params", {}) or {}
    sep = t("list_sep")
    if code in FILE_PROBLEMS:
        return t(f"err_{code}", file=name)
    if code == "no_columns":
        cols = params.get("columns") or ["?"]
        return t("err_no_columns", file=name, column=fmt.md(cols[0]))
    if code == "missing_field":
        fields = [t("or_qp") if f == "amount" else
                  t(f"field_{f}") if has(f"field_{f}") else f.replace("_", " ")
                  for f in params.get("fields", [])]
        fields = [f.lower() if lang() == "en" else f for f in fields]
        columns = sep.join(fmt.md(c) for c in params.get("columns", []))
        fix = (t("err_fix_mapping") if failure.role == "orders"
               else t("err_fix_side", what=t(f"what_{failure.role}")))
        return t("err_missing_field", fields=t("and").join(fields), file=name, columns=columns) + " " + fix
    if code == "all_rejected":
        reasons = sep.join(f"{fmt.integer(n)} {naming.reason_label(r)}"
                           for r, n in (params.get("rejected") or {}).items())
        return (t("err_all_rejected", rows=fmt.integer(params.get("rows", 0)), file=name, reasons=reasons)
                + " " + t("err_fix_mapping"))
    if code == "unknown_column":
        return t("err_unknown_column", column=fmt.md(params.get("column", "?")), file=name)
    return t("err_other", file=name)


def mapping_warnings(spec: data.Spec, ds: segcore.Dataset) -> list[str]:
    """One translated sentence per column that looks wrongly chosen (:func:`segcore.mapping_checks`)."""
    texts = []
    for found in data.mapping_checks(spec.key, ds):
        code, column = found["code"], found["column"]
        if code == "few_customers":
            texts.append(t("chk_few_customers", column=column, customers=fmt.integer(found["customers"]),
                           lines=fmt.integer(found["lines"]),
                           per=fmt.integer(round(found["lines"] / found["customers"]))))
        elif code == "amount_codes":
            texts.append(t("chk_amount_codes", column=column, low=fmt.number(found["low"]),
                           high=fmt.number(found["high"])))
        else:
            texts.append(t("chk_date_range", column=column, first=fmt.date(found["first"]),
                           last=fmt.date(found["last"])))
    return texts


def show_failure(failure: data.LoadFailure) -> None:
    st.error(f"**{t('err_title')}**  \n{failure_message(failure)}", icon=":material/error:")
    with st.expander(t("err_details")):
        st.code(f"{type(failure.error).__name__}: {failure.error}", language=None)


def download_rejected(ds: segcore.Dataset, lang: str) -> bytes:
    """The rejected rows as CSV (UTF-8 with BOM, formula-safe), read through a fresh cursor; the
    row number and reason headed, and the reason written, in ``lang``."""
    own = dataclasses.replace(ds, con=ds.con.cursor())
    return segcore.to_csv_bytes(export.rejected_for_export(own.rejected_rows(), lang))


def rejected_preview(ds: segcore.Dataset, limit: int = 200) -> pd.DataFrame | None:
    """The first rejected rows for display (None when there are too many to read them all)."""
    if ds.report.rows_rejected == 0 or ds.report.rows_rejected > 50_000:
        return None
    own = dataclasses.replace(ds, con=ds.con.cursor())
    frame = own.rejected_rows().head(limit)
    frame["reason"] = [naming.reason_label(r) for r in frame["reason"]]
    return frame


def saved_datasets_panel() -> None:
    """The data page's "Saved" source: pick a saved dataset (it opens), delete it, or save the
    data in use under a name."""
    ss = st.session_state
    found, problem = data.ws_call(lambda ws: (ws.path, ws.list_datasets()))
    if problem is not None:
        data.ws_problem(problem, "saved")
        return
    path, listed = found
    state.show_flash("ws")
    names = list(listed["name"])
    if not names:
        st.info(t("ws_none"), icon=":material/inventory_2:")
    else:
        if ss["s_ws_dataset"] not in names:
            ss["s_ws_dataset"] = names[0]
        labels = {r["name"]: t("ws_item", name=r["name"], lines=fmt.integer(r["lines"]),
                               customers=fmt.integer(r["customers"]),
                               start=fmt.date(r["date_min"]), end=fmt.date(r["date_max"]),
                               saved=fmt.stamp(r["created"]))
                  for _, r in listed.iterrows()}
        pick_col, delete_col = st.columns([5, 1], vertical_alignment="bottom")
        with pick_col:
            state.bound(st.selectbox, "s_ws_dataset", t("ws_pick"), options=names, format_func=labeller(labels))
        delete_col.button(t("delete"), key="w_ws_delete", on_click=_delete_dataset, args=(ss["s_ws_dataset"],),
                          icon=":material/delete:", width="stretch", help=t("ws_delete_help"))
    spec = data.candidate_spec() or data.active()[0]  # the data this run shows (a saved one just picked)
    shown = t("sb_sample") if spec.sample else spec.orders.name
    with st.container(border=True):
        st.markdown(f"**{t('ws_save_title')}**")
        st.caption(t("ws_save_note", file=fmt.md(shown)))
        if ss.get("_ws_name_for") != spec.key:  # other data: its name, not the one typed for the last
            ss["_ws_name_for"], ss["w_ws_name"] = spec.key, shown
        name_col, button_col = st.columns([4, 1], vertical_alignment="bottom")
        name_col.text_input(t("ws_name"), key="w_ws_name", max_chars=80)
        button_col.button(t("save"), key="w_ws_save", on_click=_save_dataset, icon=":material/save:",
                          type="primary", width="stretch")
    st.caption(t("ws_where", path=str(path)))


def _save_dataset() -> None:
    ss = st.session_state
    name = str(ss.get("w_ws_name") or "").strip()
    if not name:
        state.flash("ws", "warning", t("ws_need_name"))
        return
    spec, ds = data.active()
    saved, _ = data.in_workspace("ws", lambda ws: ws.save_dataset(
        name, ds, file_name=t("sb_sample") if spec.sample else spec.orders.name))
    if saved:
        ss["s_ws_dataset"] = name
        state.flash("ws", "success", t("ws_saved", name=fmt.md(name)))


def _delete_dataset(name: str) -> None:
    deleted, _ = data.in_workspace("ws", lambda ws: ws.delete_dataset(name))
    if deleted:
        st.session_state["s_ws_dataset"] = None
        state.flash("ws", "success", t("ws_deleted", name=fmt.md(name)))
