"""The UI language: the locale files, the language in use, the currency shown with money
and the lookup of a text by its key.

Holds the texts of every language, read once from ``ui/locales/<code>.toml`` (the file name is the
language code; its ``[meta]`` table gives the name shown in the language switch and the Babel locale
used for numbers and dates, its ``[text]`` table the texts by key), :func:`t` and the helpers that
only need the language (option labels for widgets, the list separator).

Must not hold a user-visible string itself (every text is in the locale files; adding a language is
adding a file), format numbers (``ui.fmt``) or name engine codes (``ui.naming``); it imports nothing
else from ``ui``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import streamlit as st
from babel import Locale

LOCALE_DIR = Path(__file__).resolve().parent / "locales"
DEFAULT_LANG = "en"


def _read_locales() -> dict[str, dict]:
    return {path.stem: tomllib.loads(path.read_text(encoding="utf-8"))
            for path in sorted(LOCALE_DIR.glob("*.toml"))}


_LOCALES = _read_locales()
TEXTS: dict[str, dict[str, str]] = {code: loc["text"] for code, loc in _LOCALES.items()}
LANGS: dict[str, str] = {code: loc["meta"]["name"] for code, loc in _LOCALES.items()}
_BABEL = {code: Locale.parse(loc["meta"].get("babel", code)) for code, loc in _LOCALES.items()}


def lang() -> str:
    return st.session_state.get("s_lang", DEFAULT_LANG)


def currency() -> tuple[str, str]:
    """The currency sign shown with money ("" for none) and its place, ``"before"`` or ``"after"``
    the number: the user's setting, else the sign the data's amounts carried (``_data_currency``,
    kept by the sidebar from the ingest report)."""
    ss = st.session_state
    if ss.get("s_currency_symbol") is None:
        return ss.get("_data_currency", ("", "before"))
    return ss["s_currency_symbol"], ss.get("s_currency_position", "before")


def babel_locale(code: str | None = None) -> Locale:
    """The Babel locale of a language (default: the UI language); numbers and dates are
    formatted for it."""
    return _BABEL[code or lang()]


def t(key: str, **params) -> str:
    """The text ``key`` in the current language, formatted with ``params``."""
    text = TEXTS[lang()][key]
    return text.format(**params) if params else text


def has(key: str) -> bool:
    """Whether ``key`` is a text (for names built from engine codes, which may be unknown)."""
    return key in TEXTS[DEFAULT_LANG]


def labeller(labels: dict):
    """A format function for a widget: the label of an option, else the option itself.

    Labels are looked up when the widget is drawn, so the function does not depend on the
    language at the time it is called later."""
    return lambda option: labels.get(option, str(option))


def list_sep_join(values) -> str:
    return t("list_sep").join(str(v) for v in values)
