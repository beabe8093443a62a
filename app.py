"""Data page (the app's entry point): choose the sample or upload files, check the columns, read
the import report. Start with ``streamlit run app.py``."""

import streamlit as st

from ui import context, data, data_page, fmt, naming, settings, sidebar, state, tables
from ui.i18n import labeller, t

context.setup("nav_data")
ss = st.session_state

st.title(t("data_title"))
st.caption(t("data_intro"))

# 1. Where the data comes from -------------------------------------------------------------------
state.bound(st.segmented_control, "s_source", t("source"), options=list(data.SOURCES),
            format_func=labeller({v: t(f"src_{v}") for v in data.SOURCES}), required=True)
if ss["s_source"] == "saved":
    data_page.saved_datasets_panel()
elif ss["s_source"] == "table":
    data_page.upload_box("table", t("up_table"), t("up_table_help"))
elif ss["s_source"] == "upload":
    data_page.upload_box("orders", t("up_orders"), t("up_orders_help"))
    with st.expander(t("up_optional"), expanded=bool(ss["s_uploads"].get("customers")
                                                     or ss["s_uploads"].get("interactions"))):
        left, right = st.columns(2)
        with left:
            data_page.upload_box("customers", t("up_customers"), t("up_customers_help"))
        with right:
            data_page.upload_box("interactions", t("up_interactions"), t("up_interactions_help"))

# 2. Read it (cached per file content and settings) ----------------------------------------------
spec = data.candidate_spec()
failure = None
if spec is None:
    st.info(t("ws_wait" if ss["s_source"] == "saved" else "wait_upload"), icon=":material/info:")
else:
    ds, failure = data.load(spec)
    if ds is not None and ss["s_active"] != spec:
        ss["s_active"] = spec

active, active_ds = context.loaded()  # the customers are tiered last, once the report is drawn

if failure is not None:
    data_page.show_failure(failure)
    st.caption(t("showing_previous", file=fmt.md(t("sb_sample") if active.sample else active.orders.name)))

# 3. Import report ----------------------------------------------------------------------------------
if failure is None and spec is not None:
    rep = active_ds.report
    st.subheader(t("report_title"))
    cols = st.columns(4)
    cols[0].metric(t("rows_read"), fmt.integer(rep.rows_read), border=True)
    cols[1].metric(t("rows_used"), fmt.integer(rep.rows_used), border=True)
    cols[2].metric(t("rows_rejected"), fmt.integer(rep.rows_rejected), border=True)
    cols[3].metric(t("customers"), fmt.integer(rep.customers), border=True)
    left, right = st.columns([3, 2])
    with left:
        facts_box = st.empty()  # the duplicate count is filled in last: it reads the file again
        facts_box.markdown(data_page.report_facts(rep, active.orders.name))
        if active_ds.customer_table is not None:
            made = active_ds.customer_table[1]
            st.caption(t("table_facts", engine=made["engine"], source=made["source"], as_of=fmt.date(made["as_of"]),
                         since=fmt.date(made["window_start"]), version=made["segcore_version"]))
        for role in ("customers", "interactions"):
            side = active_ds.side_reports.get(role)
            ref = getattr(active, role)
            if not side or ref is None:
                continue
            if role == "customers":
                line = t("side_customers", file=fmt.md(ref.name), used=fmt.integer(side["rows_used"]),
                         read=fmt.integer(side["rows_read"]), prospects=fmt.integer(side.get("prospects", 0)))
            else:
                line = t("side_interactions", file=fmt.md(ref.name), used=fmt.integer(side["rows_used"]),
                         read=fmt.integer(side["rows_read"]), start=fmt.date(side.get("date_min")),
                         end=fmt.date(side.get("date_max")))
                if side.get("unknown_customers"):
                    line += " " + t("side_unknown", n=fmt.integer(side["unknown_customers"]))
            if side.get("rejected"):
                line += " " + t("side_rejected", reasons=t("list_sep").join(
                    f"{naming.reason_label(r)} {fmt.integer(n)}" for r, n in side["rejected"].items()))
            st.markdown(f"- {line}")
    with right:
        st.markdown(f"**{t('rejected_by_reason')}**")
        if rep.rejected:
            st.markdown("\n".join(f"- {naming.reason_label(r)}: **{fmt.integer(n)}**" for r, n in rep.rejected.items()))
        if rep.rejected and active_ds.customer_table is None:
            st.download_button(t("download_rejected"),
                               data=lambda ds=active_ds, code=tables.export_lang(): data_page.download_rejected(ds, code),
                               file_name="rejected_rows.csv", mime="text/csv", on_click="ignore",
                               icon=":material/download:", key="w_dl_rejected")
        elif not rep.rejected:
            st.markdown(t("no_rejected"))
    preview = data_page.rejected_preview(active_ds) if active_ds.customer_table is None else None
    if preview is not None:
        with st.expander(t("preview_rejected")):
            st.dataframe(preview, hide_index=True, column_config={"reason": st.column_config.Column(t("reason"))})
    for text in data_page.mapping_warnings(active, active_ds):
        st.warning(text, icon=":material/rule:")
    if rep.date_order_ambiguous:
        st.warning(t("date_ambiguous"), icon=":material/event:")
    for note in data_page.report_notes(rep):
        st.info(note, icon=":material/info:")

# 4. Columns: what the engine recognised, editable -------------------------------------------------
if spec is not None and spec.table:
    st.caption(t("table_mapping_fixed"))
elif spec is not None and spec.saved:
    st.caption(t("ws_mapping_fixed"))
elif spec is not None:
    headers = active_ds.headers if failure is None else failure.headers
    if headers and (failure is None or failure.role == "orders"):
        st.subheader(t("mapping_title"))
        st.caption(t("mapping_intro"))
        data_page.mapping_editor(headers, spec.orders.sha)
        left, right, _ = st.columns([1, 1, 2])
        state.bound(left.selectbox, "s_date_order", t("date_order"), options=list(state.DATE_ORDERS),
                    format_func=labeller({v: t(f"do_{v}") for v in state.DATE_ORDERS}))
        with right:
            st.write("")
            state.bound(st.toggle, "s_drop_dup", t("drop_dup"), help=t("drop_dup_help"))

# The customers / interactions files' columns (open when that file is the problem)
if spec is not None and not spec.saved:
    for role in data.SIDE_FIELDS:
        ref = getattr(spec, role)
        if ref is None:
            continue
        failed = failure is not None and failure.role == role
        headers = failure.headers if failed else data_page.side_headers(ref.sha, ref.path)
        if headers:
            with st.expander(t(f"side_mapping_{role}", file=ref.name), expanded=failed):
                if role == "customers":
                    st.caption(t("side_mapping_intro"))
                data_page.side_mapping_editor(role, headers, ref.sha)

# 5. Settings: one file for a monthly re-run (also for the command line), or kept in the workspace -----
st.subheader(t("set_title"))
settings.panel()

# 6. Where to go next ---------------------------------------------------------------------------------
st.divider()
st.markdown(f"**{t('next')}**")
left, right, _ = st.columns([1, 1, 3])
left.page_link(sidebar.PAGES["overview"], label=t("nav_overview"), icon=sidebar.PAGE_ICONS["overview"])
right.page_link(sidebar.PAGES["customers"], label=t("nav_customers"), icon=sidebar.PAGE_ICONS["customers"])

# Last, once the page is drawn: the exact duplicate rows (counted once per file), then the tiers
# (the Overview then opens at once) ---------------------------------------------------------------
if failure is None and spec is not None and rep.duplicate_rows is None and data.count_duplicates(active, active_ds) is not None:
    facts_box.markdown(data_page.report_facts(rep, active.orders.name))
context.current(show_sidebar=False)
