"""Playbook: per level a strategy, a service level and a follow-up cadence (editable); the follow-up
list with each customer's next contact date, overdue first."""

import streamlit as st

from segcore import views
from ui import context, filters, fmt, naming, playbook, state, tables
from ui.i18n import labeller, t

ctx = context.page("nav_playbook")
ss = st.session_state

st.title(t("pb_title"))
st.caption(t("pb_intro"))

# The playbook, editable -------------------------------------------------------------------------------
rows = playbook.editor(ctx)
note_col, reset_col = st.columns([3, 1], vertical_alignment="center")
note_col.caption(t("pb_note", prospect=fmt.md(ctx.rules.prospect_label)))
reset_col.button(t("pb_reset"), key="w_pb_reset", on_click=state.replace_playbook, args=([],),
                 icon=":material/restart_alt:", width="stretch", disabled=not ss["s_playbook"])

# Follow-up list ----------------------------------------------------------------------------------------
st.subheader(t("fu_title"))
everyone = playbook.follow_up_list(ctx, rows)
lapsed = views.keep_rows(everyone, lapsed=[True])   # silent over the churn page's threshold: win-back
lapse = fmt.days(ss["s_lapse_days"])
calls = everyone if ss["s_fu_lapsed"] else views.keep_rows(everyone, lapsed=[False])
counts = playbook.status_counts(calls)
cells = st.columns(3)
for cell, status in zip(cells, naming.FOLLOW_STATUSES):
    cell.metric(naming.value_label("status", status), fmt.integer(counts[status]), border=True,
                help=t(f"fu_help_{status}", as_of=fmt.date(ctx.as_of)))

ss["s_fu_tiers"] = [x for x in ss["s_fu_tiers"] if x in ctx.levels]
tiers_col, status_col = st.columns(2)
with tiers_col:
    state.bound(st.pills, "s_fu_tiers", t("filter_tiers"), options=list(ctx.levels), selection_mode="multi")
with status_col:
    state.bound(st.pills, "s_fu_status", t("fu_filter_status"), options=list(naming.FOLLOW_STATUSES),
                selection_mode="multi", format_func=labeller(naming.values_of("status", naming.FOLLOW_STATUSES)))
state.bound(st.toggle, "s_fu_lapsed", t("fu_lapsed", n=fmt.integer(len(lapsed))), help=t("fu_lapsed_help", days=lapse))
kept = filters.kept_ids(ctx)  # the Segments page's breakdown filters, when set (for both lists)
listed = views.keep_rows(calls, tier=ss["s_fu_tiers"] or None, status=ss["s_fu_status"] or None, customer_id=kept)
st.caption(t("fu_showing", n=fmt.integer(len(listed)), total=fmt.integer(len(calls)), as_of=fmt.date(ctx.as_of)))
tables.table(naming.shown(listed), playbook.FOLLOW_COLUMNS, key="fu_table", height=420)
tables.downloads(listed, f"call_list_{ctx.as_of}", "w_fu_dl")

# Win-back: the lapsed customers, a different call -----------------------------------------------------
st.subheader(t("wb_title"))
if lapsed.empty:
    st.caption(t("wb_none", days=lapse))
else:
    st.caption(t("wb_caption", n=fmt.integer(len(lapsed)), days=lapse))
    won = views.keep_rows(lapsed, customer_id=kept)
    tables.table(naming.shown(won), playbook.FOLLOW_COLUMNS, key="wb_table", height=320)
    tables.downloads(won, f"win_back_{ctx.as_of}", "w_wb_dl")
