"""Data page (the app's entry point): choose the sample or upload files, check the columns, read
the import report. Start with ``streamlit run app.py``."""

import streamlit as st

import ui
from ui import t

ui.setup("nav_data")
ss = st.session_state

st.title(t("data_title"))
st.caption(t("data_intro"))

# 1. Where the data comes from -------------------------------------------------------------------
ui.bound(st.segmented_control, "s_source", t("source"), options=["sample", "upload", "saved"],
         format_func=ui.labeller({v: t(f"src_{v}") for v in ("sample", "upload", "saved")}), required=True)
if ss["s_source"] == "saved":
    ui.saved_datasets_panel()
elif ss["s_source"] == "upload":
    ui.upload_box("orders", t("up_orders"), t("up_orders_help"))
    with st.expander(t("up_optional"), expanded=bool(ss["s_uploads"].get("customers")
                                                      or ss["s_uploads"].get("interactions"))):
        left, right = st.columns(2)
        with left:
            ui.upload_box("customers", t("up_customers"), t("up_customers_help"))
        with right:
            ui.upload_box("interactions", t("up_interactions"), t("up_interactions_help"))

# 2. Read it (cached per file content and settings) ----------------------------------------------
spec = ui.candidate_spec()
failure = None
if spec is None:
    st.info(t("ws_wait" if ss["s_source"] == "saved" else "wait_upload"), icon=":material/info:")
else:
    ds, failure = ui.load(spec)
    if ds is not None and ss["s_active"] != spec:
        ss["s_active"] = spec

ctx = ui.context()

if failure is not None:
    ui.show_failure(failure)
    st.caption(t("showing_previous", file=t("sb_sample") if ctx.spec.sample else ctx.spec.orders.name))

# 3. Import report ----------------------------------------------------------------------------------
if failure is None and spec is not None:
    rep = ctx.ds.report
    st.subheader(t("report_title"))
    cols = st.columns(4)
    cols[0].metric(t("rows_read"), ui.fmt_int(rep.rows_read), border=True)
    cols[1].metric(t("rows_used"), ui.fmt_int(rep.rows_used), border=True)
    cols[2].metric(t("rows_rejected"), ui.fmt_int(rep.rows_rejected), border=True)
    cols[3].metric(t("customers"), ui.fmt_int(rep.customers), border=True)
    facts = [
        (t("date_range"), f"{ui.fmt_date(rep.date_min)} → {ui.fmt_date(rep.date_max)}"),
        (t("returns"), t("returns_value", n=ui.fmt_int(rep.returns_count), sum=ui.fmt_money(rep.returns_sum))),
        (t("duplicates"), t("dup_dropped" if rep.duplicates_dropped else "dup_kept",
                            n=ui.fmt_int(rep.duplicate_rows))),
        (t("amount_source"), t("amount_col") if rep.amount_source == "amount" else t("amount_qp")),
        (t("file_format"), f"{ctx.spec.orders.name} · {rep.file_format.upper()}"
                           + (f" · {rep.encoding.upper()}" if rep.encoding else "")),
    ]
    left, right = st.columns([3, 2])
    with left:
        st.markdown("\n".join(f"- **{k}:** {v}" for k, v in facts))
        for role in ("customers", "interactions"):
            side = ctx.ds.side_reports.get(role)
            ref = getattr(ctx.spec, role)
            if not side or ref is None:
                continue
            if role == "customers":
                line = t("side_customers", file=ref.name, used=ui.fmt_int(side["rows_used"]),
                         read=ui.fmt_int(side["rows_read"]), prospects=ui.fmt_int(side.get("prospects", 0)))
            else:
                line = t("side_interactions", file=ref.name, used=ui.fmt_int(side["rows_used"]),
                         read=ui.fmt_int(side["rows_read"]), start=ui.fmt_date(side.get("date_min")),
                         end=ui.fmt_date(side.get("date_max")))
                if side.get("unknown_customers"):
                    line += " " + t("side_unknown", n=ui.fmt_int(side["unknown_customers"]))
            if side.get("rejected"):
                line += " " + t("side_rejected", reasons=t("list_sep").join(
                    f"{ui.reason_label(r)} {ui.fmt_int(n)}" for r, n in side["rejected"].items()))
            st.markdown(f"- {line}")
    with right:
        st.markdown(f"**{t('rejected_by_reason')}**")
        if rep.rejected:
            st.markdown("\n".join(f"- {ui.reason_label(r)}: **{ui.fmt_int(n)}**" for r, n in rep.rejected.items()))
            st.download_button(t("download_rejected"), data=lambda ds=ctx.ds: ui.download_rejected(ds),
                               file_name="rejected_rows.csv", mime="text/csv", on_click="ignore",
                               icon=":material/download:", key="w_dl_rejected")
        else:
            st.markdown(t("no_rejected"))
    preview = ui.rejected_preview(ctx.ds)
    if preview is not None:
        with st.expander(t("preview_rejected")):
            st.dataframe(preview, hide_index=True, column_config={"reason": st.column_config.Column(t("reason"))})
    if rep.date_order_ambiguous:
        st.warning(t("date_ambiguous"), icon=":material/event:")
    for note in ui.report_notes(rep):
        st.info(note, icon=":material/info:")

# 4. Columns: what the engine recognised, editable -------------------------------------------------
if spec is not None and spec.saved:
    st.caption(t("ws_mapping_fixed"))
elif spec is not None:
    headers = ctx.ds.headers if failure is None else failure.headers
    if headers and (failure is None or failure.role == "orders"):
        st.subheader(t("mapping_title"))
        st.caption(t("mapping_intro"))
        ui.mapping_editor(headers, spec.orders.sha)
        left, right, _ = st.columns([1, 1, 2])
        ui.bound(left.selectbox, "s_date_order", t("date_order"), options=["auto", "dmy", "mdy"],
                 format_func=ui.labeller({v: t(f"do_{v}") for v in ("auto", "dmy", "mdy")}))
        with right:
            st.write("")
            ui.bound(st.toggle, "s_drop_dup", t("drop_dup"), help=t("drop_dup_help"))

# The customers / interactions files' columns (open when that file is the problem)
if spec is not None and not spec.saved:
    for role in ui.SIDE_FIELDS:
        ref = getattr(spec, role)
        if ref is None:
            continue
        failed = failure is not None and failure.role == role
        headers = failure.headers if failed else ui.side_headers(ref.sha, ref.path)
        if headers:
            with st.expander(t(f"side_mapping_{role}", file=ref.name), expanded=failed):
                if role == "customers":
                    st.caption(t("side_mapping_intro"))
                ui.side_mapping_editor(role, headers, ref.sha)

# 5. Settings: one file for a monthly re-run (also for the command line), or kept in the workspace -----
st.subheader(t("set_title"))
ui.settings_panel()

# 6. Where to go next ---------------------------------------------------------------------------------
st.divider()
st.markdown(f"**{t('next')}**")
left, right, _ = st.columns([1, 1, 3])
left.page_link(ui.PAGES["overview"], label=t("nav_overview"), icon=ui.PAGE_ICONS["overview"])
right.page_link(ui.PAGES["customers"], label=t("nav_customers"), icon=ui.PAGE_ICONS["customers"])
