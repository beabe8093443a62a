"""Migration: who moved between tiers from one as-of date to another, or since a saved snapshot."""

import streamlit as st

import segcore
from segcore import dynamics, views
from ui import charts, context, data, fmt, migration, naming, state, tables
from ui.i18n import currency, labeller, t

ctx = context.page("nav_migration")
ss = st.session_state

st.title(t("mig_title"))
if not ctx.has_lines:
    st.info(t("needs_lines", what=t("mig_title")), icon=":material/info:")
    st.stop()
st.caption(t("mig_intro"))
context.count_only_note(ctx, t("cn_migration"))


def render(mig: dynamics.Migration, prefix: str) -> None:
    """Movement counts, the two matrices, the flow chart and the four lists of one comparison."""
    before, after = fmt.date(mig.as_of_before), fmt.date(mig.as_of_after)
    summary = mig.summary.set_index("movement")
    cells = st.columns(len(dynamics.MOVEMENTS))
    for cell, movement in zip(cells, dynamics.MOVEMENTS):
        row = summary.loc[movement]
        revenue = row["revenue_before"] if movement == "lost" else row["revenue_after"]
        cell.metric(naming.value_label("movement", movement), fmt.integer(row["customers"]), border=True,
                    help=t(f"mv_help_{movement}", before=before, after=after, revenue=fmt.money(revenue)))

    y_title, x_title = t("mig_axis_before", date=before), t("mig_axis_after", date=after)
    left, right = st.columns(2)
    with left:
        charts.show(charts.matrix_figure(mig.customers_matrix, ctx, t("mig_matrix_customers"), False, y_title, x_title),
                    f"{prefix}_chart_matrix_customers")
    with right:
        charts.show(charts.matrix_figure(mig.revenue_matrix, ctx, t("mig_matrix_revenue"), True, y_title, x_title),
                    f"{prefix}_chart_matrix_revenue")
    st.caption(t("mig_matrix_note", before=before, after=after))

    measure = state.bound(
        st.segmented_control, "s_mig_measure", t("mig_measure"), key=f"w_{prefix}_measure",
        options=["customers", "revenue"], required=True,
        format_func=labeller({"customers": t("mig_by_customers"), "revenue": t("mig_by_revenue")}))
    charts.show(charts.sankey_figure(mig, ctx, measure or "customers", t("mig_flow_title")), f"{prefix}_chart_sankey")

    st.subheader(t("mig_lists"))
    counts = dict(zip(mig.summary["movement"], mig.summary["customers"]))
    choice = state.bound(
        st.segmented_control, "s_mig_list", t("mig_list_pick"), key=f"w_{prefix}_list",
        options=list(migration.MIG_LISTS), required=True,
        format_func=labeller({m: f"{naming.value_label('movement', m)} ({fmt.integer(counts[m])})"
                              for m in migration.MIG_LISTS}))
    choice = choice or "upgraded"
    listed = mig.list(choice)
    st.caption(t(f"mv_help_{choice}", before=before, after=after,
                 revenue=fmt.money(listed["revenue"].sum() if len(listed) else 0)))
    tables.table(naming.shown(listed), migration.MIG_LIST_COLUMNS, key=f"{prefix}_list_table", height=360,
                 empty=t("mig_list_empty"))
    tables.downloads(listed, f"{choice}_{before}_{after}", f"w_{prefix}_dl")
    code, sign = tables.export_lang(), currency()[0]
    st.download_button(t("mig_dl_all"), data=lambda: segcore.to_excel_bytes(segcore.migration_sheets(mig, code), code,
                                                                             sign),
                       file_name=f"migration_{before}_{after}.xlsx", on_click="ignore",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       icon=":material/table_view:", key=f"w_{prefix}_dl_all", help=t("mig_dl_all_help"))
    with st.expander(t("mig_as_tables")):
        names = naming.matrix_names()
        corner = names["corner"]
        st.dataframe(views.matrix_table(mig.customers_matrix, names, corner), hide_index=True,
                     key=f"{prefix}_table_customers")
        revenue_table = views.matrix_table(mig.revenue_matrix, names, corner)
        st.dataframe(revenue_table, hide_index=True, key=f"{prefix}_table_revenue",
                     column_config={c: st.column_config.NumberColumn(c, format=fmt.money_format())
                                    for c in revenue_table.columns[1:]})


dates_tab, snapshot_tab = st.tabs([t("mig_tab_dates"), t("mig_tab_snapshot")])

# Two as-of dates, the same rules ------------------------------------------------------------------
with dates_tab:
    before = migration.dates(ctx)
    st.caption(t("mig_rules_note", levels=" / ".join(map(fmt.md, ctx.rules.labels))))
    if before is None:
        pass
    elif before < ctx.start:
        st.warning(t("mig_before_start", before=fmt.date(before), start=fmt.date(ctx.start)),
                   icon=":material/event_busy:")
    else:
        mig, problem = migration.compare(ctx, before)
        if problem:
            st.warning(problem, icon=":material/warning:")
        else:
            render(mig, "dates")

# A saved snapshot against the current tiers ----------------------------------------------------------
with snapshot_tab:
    st.caption(t("snap_intro"))
    state.show_flash("snap")
    dataset = data.dataset_name(ctx.spec)
    content = data.content_of(ctx.spec, ctx.ds)
    saved, problem = data.ws_call(lambda ws: ws.list_snapshots())
    if problem is not None:
        data.ws_problem(problem, "snap")
        st.stop()
    migration.snapshot_save_box(ctx, dataset, content)
    if saved.empty:
        st.info(t("snap_none"), icon=":material/info:")
        st.stop()
    row = migration.snapshot_picker(saved, content)
    mig, problem, rules = migration.snapshot_migration(ctx, row)
    if problem:
        st.warning(problem, icon=":material/warning:")
        if rules is not None:
            st.button(t("snap_use_rules"), key="w_snap_rules", on_click=state.apply_tier_settings, args=(rules,),
                      icon=":material/settings_backup_restore:")
    else:
        render(mig, "snap")
