"""The sidebar of every page: the translated page links, the language switch, the data in use and
the tier settings (method, levels, cut sliders, suggested cut points, as-of date, window start,
level names).

Holds :data:`PAGES` (the page files in the order the links show them; a new page adds its entry
here and its ``nav_<name>`` text) and :func:`draw`, with the callbacks of its controls.

Must not compute tiers (``ui.context`` does, after the sidebar has set the settings) nor hold
anything one page alone needs. Streamlit's own page list is hidden (``.streamlit/config.toml``);
pages are found by Streamlit's multipage discovery of ``pages/``, never ``st.navigation``.
"""

from __future__ import annotations

import streamlit as st

import segcore
from ui import data, fmt, state
from ui.i18n import LANGS, currency, labeller, t

PAGES = {
    "data": "app.py",
    "overview": "pages/1_Overview.py",
    "customers": "pages/2_Customers.py",
    "segments": "pages/3_Segments.py",
    "migration": "pages/4_Migration.py",
    "churn": "pages/5_Churn.py",
    "playbook": "pages/6_Playbook.py",
    "forecast": "pages/7_Forecast.py",
}


PAGE_ICONS = {"data": ":material/upload_file:", "overview": ":material/insights:",
              "customers": ":material/groups:", "segments": ":material/donut_small:",
              "migration": ":material/swap_vert:", "churn": ":material/notification_important:",
              "playbook": ":material/checklist:", "forecast": ":material/query_stats:"}


def _apply_preset(name: str) -> None:
    names, prospect = state.PRESETS[name]
    n = state.level_count()
    for i, label in enumerate((*names[n], *names[5][n:])):  # the set for n levels; the rest for later
        st.session_state[f"s_label_{i}"] = label
    st.session_state["s_prospect_label"] = prospect


def _clamp_cuts() -> None:
    """Keep every slider set increasing: each cut at least the one before (the first at least 1%)."""
    ss = st.session_state
    for kind in state.CUT_KINDS:
        low = 1
        for letter in state.CUT_KEYS[:state.level_count() - 1]:
            key = f"s_cut_{letter}_{kind}"
            ss[key] = low = min(max(int(ss[key]), low), 100)


def _levels_changed() -> None:
    """New level count: default cut shares, and names of a quick set follow (金钻/白银/铜 -> 金钻/黄金/白银/铜)."""
    ss = st.session_state
    n = state.level_count()
    state.reset_cuts(n)
    for names, _ in state.PRESETS.values():
        if str(ss["s_label_0"]).strip() == names[n][0]:
            for i, label in enumerate(names[n]):
                ss[f"s_label_{i}"] = label
            break


def _suggest(spec: data.Spec, ds: segcore.Dataset, labels: tuple[str, ...]) -> None:
    """Set the A/B sliders (by spend, three levels) from the computed ABC analysis; say why."""
    ss = st.session_state
    since, as_of = state.window(spec, ds)
    found = segcore.suggest_cuts(data.customer_metrics(spec.key, as_of, since, ds))
    ss["s_method"], ss["s_by"], ss["s_levels"] = "pareto", "value", 3
    ss["s_cut_a_value"] = min(max(round(100 * found.a_share), 1), 99)
    ss["s_cut_b_value"] = min(max(round(100 * found.b_share), ss["s_cut_a_value"]), 100)
    ss["_flash_suggest"] = t("suggested", a=fmt.md(labels[0]), b=fmt.md(labels[1]), ab=fmt.money(found.a_limit),
                             bc=fmt.money(found.b_limit), a_share=fmt.percent(ss["s_cut_a_value"] / 100, 0),
                             b_share=fmt.percent(ss["s_cut_b_value"] / 100, 0))


def _currency_inputs(found: str | None) -> None:
    """The currency sign shown with money and its place; the data's sign until the user types one."""
    ss = st.session_state
    sign, place = currency()
    state.seed("w_currency_symbol", sign)
    state.seed("w_currency_position", place)

    def _save():
        ss["s_currency_symbol"] = ss["w_currency_symbol"].strip()
        ss["s_currency_position"] = ss["w_currency_position"] or "before"
    sign_col, place_col = st.columns([1, 2], vertical_alignment="bottom")
    sign_col.text_input(t("sb_currency_sign"), key="w_currency_symbol", max_chars=8, on_change=_save,
                        placeholder=t("sb_currency_none"))
    place_col.segmented_control(t("sb_currency_place"), options=["before", "after"], key="w_currency_position",
                                required=True, on_change=_save,
                                format_func=labeller({"before": t("sb_currency_before"),
                                                      "after": t("sb_currency_after")}))
    st.caption(t("sb_currency_found", sign=found) if found else t("sb_currency_not_found"))
    if ss["s_currency_symbol"] is not None:
        st.button(t("sb_currency_reset"), key="w_currency_reset", type="tertiary", icon=":material/restart_alt:",
                  on_click=lambda: ss.update(s_currency_symbol=None, s_currency_position="before"))


def draw(spec: data.Spec, ds: segcore.Dataset) -> None:
    ss = st.session_state
    with st.sidebar:
        st.markdown(f"### :material/leaderboard: {t('app_title')}")
        for name, path in PAGES.items():
            st.page_link(path, label=t(f"nav_{name}"), icon=PAGE_ICONS[name])
        state.bound(st.segmented_control, "s_lang", t("language"), options=list(LANGS),
                    format_func=LANGS.get, required=True)

        st.divider()
        st.markdown(f"**{t('sb_data')}**")
        rep = ds.report
        name = fmt.md(t("sb_sample") if spec.sample else spec.orders.name)
        st.caption(f"{name}  \n" + t("sb_lines", rows=fmt.integer(rep.rows_used), customers=fmt.integer(rep.customers))
                   + "  \n" + t("sb_dates", start=fmt.date(rep.date_min), end=fmt.date(rep.date_max))
                   + "  \n" + t("sb_extras",
                                customers=t("sb_yes") if spec.customers else t("sb_no"),
                                interactions=t("sb_yes") if spec.interactions else t("sb_no")))
        ss["_data_currency"] = (rep.currency or "", rep.currency_position)
        if rep.amount_source != "none":  # a count-only file has no money
            with st.expander(t("sb_currency")):
                _currency_inputs(rep.currency)

        st.divider()
        st.markdown(f"**{t('sb_tiers')}**")
        state.bound(st.segmented_control, "s_method", t("method_label"), options=state.METHODS, required=True,
                    format_func=labeller({m: t(f"method_{m}") for m in state.METHODS}), help=t("method_help"))
        method = ss["s_method"]
        if method == "computed":
            st.caption(t("levels_computed"))
        else:
            state.bound(st.segmented_control, "s_levels", t("levels_label"), options=[2, 3, 4, 5], required=True,
                        after=_levels_changed)
        count_only = rep.amount_source == "none"  # no amounts: "value" is the number of orders
        if method == "pareto":
            state.bound(st.segmented_control, "s_by", t("by_label"), options=list(state.PARETO_BY),
                        format_func=labeller({v: t(f"by_{v}") for v in state.PARETO_BY}
                                             | ({"value": t("by_orders")} if count_only else {})), required=True)
        labels, prospect, _ = state.current_labels()
        kind = state.cut_kind()
        # Fixed slider bounds (a cut below the one before is clamped back): bounds that follow
        # another slider would give it a new identity on every move of that slider, and quick
        # arrow-key presses could then reset it.
        for i in range(len(labels) - 1 if method != "computed" else 0):
            _clamp_cuts()
            by_orders = count_only and kind == "value"
            label = (t("cut_orders" if by_orders else "cut_value", label=fmt.md(labels[i])) if kind == "value"
                     else t(f"cut_{kind}", labels=" + ".join(map(fmt.md, labels[:i + 1]))))
            state.bound(st.slider, f"s_cut_{state.CUT_KEYS[i]}_{kind}", label, min_value=1, max_value=100, step=1,
                        format="%d%%", help=t("cut_help_orders", a=fmt.md(labels[0])) if by_orders
                        else t(f"cut_help_{kind}", a=fmt.md(labels[0])))
        if method == "pareto" and kind == "value" and len(labels) == 3 and not count_only:
            st.button(t("suggest"), key="w_suggest", icon=":material/auto_awesome:", help=t("suggest_help"),
                      on_click=_suggest, args=(spec, ds, labels))
        if ss.get("_flash_suggest"):
            st.info(ss.pop("_flash_suggest"), icon=":material/auto_awesome:")

        if ds.customer_table is not None:
            since, as_of = state.window(spec, ds)
            st.caption(t("sb_table_window", as_of=fmt.date(as_of), since=fmt.date(since)))
        else:
            lo, hi = ds.report.date_min, ds.report.date_max
            state.window(spec, ds)
            state.bound(st.date_input, "s_as_of", t("as_of"), min_value=lo, max_value=hi,
                        help=t("as_of_help"))
            state.window(spec, ds)
            state.bound(st.date_input, "s_since", t("since"), min_value=lo, max_value=ss["s_as_of"],
                        help=t("since_help"))

        with st.expander(t("labels")):
            n = state.level_count()
            for row in range(0, n, 3):
                for i, col in zip(range(row, n), st.columns(3)):
                    with col:
                        state.bound(st.text_input, f"s_label_{i}", t("label_n", n=i + 1), max_chars=20)
            if spec.customers is not None:
                wkey = "w_prospect_label"
                state.seed(wkey, prospect)  # the name in use (the language's default until edited)
                st.text_input(t("prospect_label"), key=wkey, max_chars=20,
                              on_change=lambda: ss.__setitem__("s_prospect_label", ss[wkey]))
            st.caption(t("presets"))
            for name in state.PRESETS:
                st.button(" / ".join(state.PRESETS[name][0][n]), key=f"w_preset_{name}", type="tertiary",
                          on_click=_apply_preset, args=(name,), icon=":material/sell:")
        _, _, ok = state.current_labels()
        if not ok:
            st.warning(t("labels_invalid", labels=" / ".join(state.PRESETS["abc"][0][state.level_count()])))
