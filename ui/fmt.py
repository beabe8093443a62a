"""Numbers, money, percents, dates and sizes as text for the UI language.

Holds one function per kind of value (an integer count, money, a percent, a plain number, days, a
date, a file size, a histogram bin); a missing value (None, NaN, NA, NaT) is shown as the "na" text.
Money goes through :func:`money` (and :func:`compact` for short amounts).

Must not read or write session state (other than the language), draw anything, or format numbers
inside texts by hand elsewhere: pages and ``ui`` modules call these functions.
"""

from __future__ import annotations

import math

import pandas as pd

from ui.i18n import lang, t


def is_missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA or x is pd.NaT


def integer(x) -> str:
    return t("na") if is_missing(x) else f"{int(x):,}"


def money(x, decimals: int = 2) -> str:
    return t("na") if is_missing(x) else f"{float(x):,.{decimals}f}"


def percent(x, decimals: int = 1) -> str:
    return t("na") if is_missing(x) else f"{float(x) * 100:.{decimals}f}%"


def compact(x) -> str:
    """Short money: 8.12M / 812.5万; below 10,000 the whole number."""
    if is_missing(x):
        return t("na")
    x = float(x)
    a = abs(x)
    if a < 10_000:
        return f"{x:,.0f}"
    if lang() == "zh":
        return f"{x / 1e8:,.2f}亿" if a >= 1e8 else f"{x / 1e4:,.1f}万"
    if a >= 1e9:
        return f"{x / 1e9:,.2f}B"
    return f"{x / 1e6:,.2f}M" if a >= 1e6 else f"{x / 1e3:,.1f}K"


def short(x: float) -> str:
    """Bin edge: 500, 1K, 20K, 1.5M / 500, 1000, 2万."""
    if x == 0:
        return "0"
    a = abs(x)
    if lang() == "zh":
        if a >= 1e8:
            return f"{x / 1e8:g}亿"
        if a >= 1e4:
            return f"{x / 1e4:g}万"
        return f"{x:g}"
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if a >= size:
            return f"{x / size:g}{suffix}"
    return f"{x:g}"


def number(x, decimals: int = 0) -> str:
    return t("na") if is_missing(x) else f"{float(x):,.{decimals}f}"


def days(x) -> str:
    return t("na") if is_missing(x) else t("days", n=f"{float(x):,.0f}")


def date(d) -> str:
    if is_missing(d):
        return t("na")
    return d.strftime("%Y-%m-%d") if hasattr(d, "strftime") else str(d)


def size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


def bin_label(lo, hi, integer: bool) -> str:
    """Label of a histogram bin ``lo <= v < hi`` (``lo`` None: ``v <= hi``)."""
    if is_missing(lo):
        return "≤ " + short(hi) if not integer or hi != 0 else "0"
    if integer:
        lo_i, hi_i = int(math.ceil(lo)), int(math.ceil(hi)) - 1
        return str(lo_i) if lo_i >= hi_i else f"{lo_i}–{hi_i}"
    if lo == 0:
        return "< " + short(hi)
    return f"{short(lo)}–{short(hi)}"
