"""Numbers, money, percents, dates and sizes as text for the UI language, formatted by Babel.

Holds one function per kind of value (an integer count, money, a percent, a plain number, days, a
length of time in weeks / days / months, a date, a time stamp, a file size, a histogram bin); a
missing value (None, NaN, NA, NaT) is shown as the "na" text. Separators, signs and the compact
units (8.12M / 812.35万 / 1.23亿) come from Babel's locale data for the UI language
(``ui.i18n.babel_locale``). All money goes through :func:`money` (and table columns of money
through :func:`money_format`), which add the currency sign (``ui.i18n.currency``). Formatted
numbers are memoised per language (a rerun shows mostly the same numbers again: the Pareto curve's
hover texts, the cards).

Must not read or write session state (other than the language and the currency through ``ui.i18n``)
or draw anything; pages and ``ui`` modules never format a number by hand (f"{x:,}") for the user.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import lru_cache

import pandas as pd
from babel.dates import format_date, format_datetime, format_skeleton
from babel.numbers import format_compact_decimal, format_decimal, format_percent
from babel.units import format_unit

from ui.i18n import babel_locale, currency, lang, t

DATE_PATTERN = "yyyy-MM-dd"  # ISO in every language, as the date inputs and the exports write dates
STAMP_PATTERN = "yyyy-MM-dd HH:mm"
COMPACT_FROM = 10_000  # money below this is written out in full by money(compact=True)
TIGHT_SIGNS = ("元", "円")  # signs written right after the number, without a space
_MEMO = 1 << 16  # formatted numbers kept per kind


def is_missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA or x is pd.NaT


def _pattern(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals else "")


@lru_cache(maxsize=_MEMO)
def _decimal(code: str, x: float, decimals: int) -> str:
    # The float's exact value: Babel then rounds it as Python's own formatting does (half-even on
    # the binary value), so a shown number equals f"{x:,.2f}" of the engine's number.
    return format_decimal(Decimal(x), format=_pattern(decimals), locale=babel_locale(code))


@lru_cache(maxsize=_MEMO)
def _percent(code: str, x: float, decimals: int) -> str:
    hundredfold = Decimal(x * 100).scaleb(-2)  # the product Python's own f"{x:.1%}" rounds
    return format_percent(hundredfold, format=_pattern(decimals) + "%", locale=babel_locale(code))


@lru_cache(maxsize=_MEMO)
def _compact(code: str, x: float) -> str:
    with localcontext(rounding=ROUND_HALF_UP):  # halves up, as the engine rounds money
        return format_compact_decimal(x, format_type="short", fraction_digits=2, locale=babel_locale(code))


@lru_cache(maxsize=_MEMO)
def _short(code: str, x: float) -> str:
    """A histogram bin edge: 500, 1K, 20K, 1.5M / 500, 1000, 2万."""
    return format_compact_decimal(x, format_type="short", fraction_digits=2, locale=babel_locale(code))


def integer(x) -> str:
    return t("na") if is_missing(x) else _decimal(lang(), int(x), 0)


def number(x, decimals: int = 0) -> str:
    return t("na") if is_missing(x) else _decimal(lang(), float(x) + 0.0, decimals)  # + 0.0: no "-0"


def _with_sign(text: str) -> str:
    """A formatted amount with the currency sign: ``£1,234.50``, ``-£3.00``, ``1.234,56 €``, ``300元``."""
    sign, place = currency()
    if not sign:
        return text
    if place == "after":
        return text + ("" if sign in TIGHT_SIGNS else " ") + sign
    minus = text[:1] if text[:1] in "-−" else ""
    return minus + sign + text[len(minus):]


def money(x, decimals: int = 2, compact: bool = False) -> str:
    """An amount of money with the currency sign: ``£1,234.50``; ``compact``: 8.12M / 812.35万 /
    1.23亿 (at most two decimals, trailing zeros dropped), below 10,000 the whole amount (``5,120``)."""
    if is_missing(x):
        return t("na")
    if compact and abs(float(x)) >= COMPACT_FROM:
        return _with_sign(_compact(lang(), float(x)))
    return _with_sign(number(x, 0 if compact else decimals))


def money_format(decimals: int = 2) -> str:
    """The printf format of a table column of money, with the currency sign: ``£%,.2f``."""
    sign, place = currency()
    plain = f"%,.{decimals}f"
    if not sign:
        return plain
    return plain + ("" if sign in TIGHT_SIGNS else " ") + sign if place == "after" else sign + plain


def percent(x, decimals: int = 1) -> str:
    """A share as a percent: 0.229 -> ``22.9%``."""
    return t("na") if is_missing(x) else _percent(lang(), float(x) + 0.0, decimals)


def percents(xs, decimals: int = 1) -> list[str]:
    """:func:`percent` of many values, the language looked up once (a chart's hover texts)."""
    code = lang()
    return [t("na") if is_missing(x) else _percent(code, float(x) + 0.0, decimals) for x in xs]


def days(x) -> str:
    """A number of days: "1 day", "3 days" ("1 天", "3 天")."""
    return t("na") if is_missing(x) else t("days_one" if float(x) == 1 else "days", n=number(x))


def duration(n, unit: str, decimals: int = 0) -> str:
    """A length of time in a unit (``"week"``, ``"day"``, ``"month"``): ``52 weeks`` / ``52周``,
    ``1 day``; up to ``decimals`` decimals, trailing zeros dropped."""
    if is_missing(n):
        return t("na")
    pattern = "#,##0" + ("." + "#" * decimals if decimals else "")
    return format_unit(float(n) + 0.0, f"duration-{unit}", format=pattern, locale=babel_locale())


def date(d) -> str:
    if is_missing(d):
        return t("na")
    return format_date(d, format=DATE_PATTERN, locale=babel_locale()) if hasattr(d, "strftime") else str(d)


def month(m) -> str:
    """A month (a date, or ``YYYY-MM`` text as the engine labels cohorts): ``Nov 2024`` / ``2024年11月``."""
    if is_missing(m):
        return t("na")
    d = m if hasattr(m, "strftime") else pd.Timestamp(f"{m}-01").date()
    return format_skeleton("yMMM", d, locale=babel_locale())


def stamp(ts) -> str:
    """A date and time (e.g. when something was saved), to the minute."""
    return t("na") if is_missing(ts) else format_datetime(ts, format=STAMP_PATTERN, locale=babel_locale())


def size(n: int) -> str:
    """A file size: ``830 B``, ``1.5 MB``."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{number(n, 0 if unit == 'B' else 1)} {unit}"
        n /= 1024
    return str(n)


# What can make markup in a line of Streamlit markdown: links and images, emphasis, code, math, tags,
# entities, strike-through; "_" at a word's edge; autolinks (":" before "//", "www."); and at the
# start a heading, quote, list or rule.
_MARKUP = re.compile(r"[\\\[\]*`~$<>&]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])|:(?=//)|(?<=www)\.|^[#>+=-]|"
                     + "|".join(rf"(?<=^{'[0-9]' * n})[.)]" for n in range(1, 10)))  # "1." to "123456789)"


def md(value) -> str:
    """A value from a file or the settings (a customer's name or region, a file, sheet, column,
    level or settings name) as literal text inside Streamlit markdown (``st.markdown``,
    ``st.caption``, ``st.info`` ..., widget labels) and inside the pages' own HTML: each mark
    that could make markup becomes its numeric character reference (``[`` -> ``&#91;``), shown
    as the mark itself but never read as markup, so ``![c](http://host/x.png)`` shows as typed,
    fetches nothing, and no link, emphasis, math or tag is made; line breaks become spaces (no
    new block). Plain names (``shop_orders.csv``) stay as they are."""
    return _MARKUP.sub(lambda m: f"&#{ord(m.group())};", " ".join(str(value).split()))


def bin_label(lo, hi, integer: bool) -> str:
    """Label of a histogram bin ``lo <= v < hi`` (``lo`` None: ``v <= hi``)."""
    code = lang()
    if is_missing(lo):
        return "≤ " + _short(code, float(hi)) if not integer or hi != 0 else "0"
    if integer:
        lo_i, hi_i = int(math.ceil(lo)), int(math.ceil(hi)) - 1
        return str(lo_i) if lo_i >= hi_i else f"{lo_i}–{hi_i}"
    if lo == 0:
        return "< " + _short(code, float(hi))
    return f"{_short(code, float(lo))}–{_short(code, float(hi))}"
