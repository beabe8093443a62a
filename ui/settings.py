"""The settings file and named settings: the session's settings as a :class:`segcore.Settings`
(the JSON file the command line reads with ``--config``) and back, and the Data page's section that
downloads, uploads, saves, applies and deletes them.

Must not hold the settings' defaults or their readers (``ui.state``); what a settings file holds is
defined by ``segcore.settings``.
"""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

import segcore
from segcore.settings import SettingsError
from ui import data, fmt, state
from ui.i18n import t


def from_session() -> segcore.Settings:
    """Everything a re-run needs, from the session: mapping, as-of rules, tiers, churn, playbook,
    forecast (the discount rate per year becomes the rate per time unit).

    The as-of date and window start are saved only when they differ from the data's own range
    (else "latest" / the first order). Raises :class:`SettingsError` when the session's settings
    cannot be written (e.g. a level name used twice)."""
    ss = st.session_state
    spec, ds = data.active()
    rep = ds.report
    tiers = state.tier_settings()
    _, prospect, _ = state.current_labels()
    rows = state.playbook_now(tiers["labels"], prospect) if ss["s_playbook"] else []
    rows = [dict(r, level=tiers["prospect_label"]) if r["level"] == prospect else r for r in rows]
    period = ss["s_mig_period"]
    if period == "custom":
        end = ss["s_as_of"] or rep.date_max
        period = max((end - ss["s_mig_before"]).days, 1) if ss["s_mig_before"] else "quarter"
    return segcore.Settings(
        **tiers, mapping=dict(rep.mapping) if spec.saved else dict(state.overrides_for(spec.orders.sha)),
        **{f"{role}_mapping": dict(getattr(spec, f"{role}_mapping")) for role in data.SIDE_FIELDS},
        date_order=None if ss["s_date_order"] == "auto" else ss["s_date_order"],
        drop_duplicates=bool(ss["s_drop_dup"]),
        as_of=None if ss["s_as_of"] in (None, rep.date_max) else ss["s_as_of"],
        since=None if ss["s_since"] in (None, rep.date_min) else ss["s_since"],
        playbook=rows, churn_k=float(ss["s_churn_k"]), churn_drop_share=ss["s_churn_drop"] / 100,
        new_days=int(ss["s_new_days"]), lapse_days=int(ss["s_lapse_days"]),
        rising_min_trend=ss["s_rising_trend"] / 100, migration_period=period,
        forecast_calibration_end=ss["s_fc_end"], forecast_unit=ss["s_fc_unit"],
        forecast_horizon=float(ss["s_fc_horizon"]),
        forecast_discount_rate=state.per_unit_rate(ss["s_fc_rate"], ss["s_fc_unit"]),
        currency_symbol=ss["s_currency_symbol"], currency_position=ss["s_currency_position"])


def apply(s: segcore.Settings) -> None:
    """Put settings (a file, or saved ones) into the session: the reverse of :func:`from_session`."""
    ss = st.session_state
    state.apply_tier_settings(s)
    spec, ds = data.active()
    if spec.saved is None:  # a saved dataset keeps the columns it was saved with
        overrides = state.overrides_for(spec.orders.sha)
        overrides.clear()
        overrides.update(s.mapping)
        for role in data.SIDE_FIELDS:
            ref = getattr(spec, role)
            if ref is not None:
                side = state.overrides_for(ref.sha, role)
                side.clear()
                side.update(getattr(s, f"{role}_mapping"))
    ss["s_date_order"], ss["s_drop_dup"] = s.date_order or "auto", s.drop_duplicates
    ss["s_as_of"], ss["s_since"] = s.as_of, s.since
    ss["s_churn_k"] = _clamp(round(s.churn_k * 4) / 4, state.K_RANGE)
    ss["s_churn_drop"] = _clamp(round(s.churn_drop_share * 20) * 5, state.DROP_RANGE)
    ss["s_rising_trend"] = _clamp(round(s.rising_min_trend * 10) * 10, state.TREND_RANGE)
    ss["s_new_days"], ss["s_lapse_days"] = s.new_days, s.lapse_days
    if isinstance(s.migration_period, str):
        ss["s_mig_period"] = s.migration_period
    else:
        ss["s_mig_period"] = "custom"
        ss["s_mig_before"] = (s.as_of or ds.report.date_max) - timedelta(days=s.migration_period)
    ss["s_fc_end"], ss["s_fc_unit"] = s.forecast_calibration_end, s.forecast_unit
    ss["s_currency_symbol"], ss["s_currency_position"] = s.currency_symbol, s.currency_position
    ss["s_fc_horizon"] = _clamp(round(s.forecast_horizon), (1, state.FC_HORIZON_MAX[s.forecast_unit]))
    ss["s_fc_rate"] = _clamp(round(state.percent_a_year(s.forecast_discount_rate, s.forecast_unit)),
                             state.FC_RATE_RANGE)
    _, prospect, _ = state.current_labels()
    state.replace_playbook([dict(r, level=prospect) if r["level"] == s.prospect_label else r for r in s.playbook])


def _clamp(value, bounds):
    return min(max(value, bounds[0]), bounds[1])


def as_json() -> bytes | None:
    """The session's settings as the JSON file (None, with a warning shown, when they cannot be)."""
    try:
        return from_session().to_json().encode("utf-8")
    except (SettingsError, ValueError) as exc:
        st.warning(t("set_cannot", reason=fmt.md(exc)), icon=":material/warning:")
        return None


def panel() -> None:
    """The data page's settings section: the settings file (download / upload) and named settings
    kept in the workspace."""
    ss = st.session_state
    state.show_flash("settings")
    file_col, ws_col = st.columns(2, gap="large")
    with file_col:
        st.markdown(f"**{t('set_file_title')}**")
        st.caption(t("set_file_note"))
        settings_file = as_json()
        if settings_file is not None:
            st.download_button(t("set_download"), data=settings_file, file_name="segcore_settings.json",
                               mime="application/json", on_click="ignore", icon=":material/download:",
                               key="w_settings_download")
        st.file_uploader(t("set_upload"), type=["json"], key="w_settings_file", on_change=_settings_uploaded,
                         help=t("set_upload_help"))
    with ws_col:
        st.markdown(f"**{t('set_ws_title')}**")
        listed, problem = data.ws_call(lambda ws: ws.list_settings())
        if problem is not None:
            data.ws_problem(problem, "settings")
            return
        name_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
        name_col.text_input(t("set_name"), key="w_set_name", max_chars=80, placeholder=t("set_name_ph"))
        button_col.button(t("save"), key="w_set_save", on_click=_save_named_settings, icon=":material/save:",
                          width="stretch")
        names = list(listed["name"])
        if not names:
            st.caption(t("set_none"))
            return
        if ss.get("w_set_pick") not in names:
            ss["w_set_pick"] = names[0]
        pick_col, load_col, delete_col = st.columns([3, 1, 1], vertical_alignment="bottom")
        pick_col.selectbox(t("set_pick"), options=names, key="w_set_pick")
        load_col.button(t("apply"), key="w_set_load", on_click=_load_named_settings, icon=":material/input:",
                        width="stretch", type="primary")
        delete_col.button(t("delete"), key="w_set_delete", on_click=_delete_named_settings,
                          icon=":material/delete:", width="stretch")


def _settings_uploaded() -> None:
    up = st.session_state.get("w_settings_file")
    if up is None:
        return
    try:
        settings = segcore.Settings.from_json(up.getvalue())
        apply(settings)
    except (SettingsError, ValueError, TypeError) as exc:
        state.flash("settings", "error", t("set_bad_file", file=fmt.md(up.name), reason=fmt.md(exc)))
        return
    state.flash("settings", "success", t("set_applied", file=fmt.md(up.name)))


def _save_named_settings() -> None:
    name = str(st.session_state.get("w_set_name") or "").strip()
    if not name:
        state.flash("settings", "warning", t("ws_need_name"))
        return
    saved, _ = data.in_workspace("settings", lambda ws: ws.save_settings(name, from_session()),
                                 (SettingsError, ValueError))
    if saved:
        st.session_state["w_set_pick"] = name
        state.flash("settings", "success", t("set_saved", name=fmt.md(name)))


def _load_named_settings() -> None:
    name = st.session_state.get("w_set_pick")
    loaded, _ = data.in_workspace("settings", lambda ws: apply(ws.load_settings(name)), (SettingsError, ValueError))
    if loaded:
        state.flash("settings", "success", t("set_loaded", name=fmt.md(name)))


def _delete_named_settings() -> None:
    name = st.session_state.get("w_set_pick")
    deleted, _ = data.in_workspace("settings", lambda ws: ws.delete_settings(name))
    if deleted:
        state.flash("settings", "success", t("set_deleted", name=fmt.md(name)))
