"""Settings as one human-readable JSON file: the same file gives the same tiers in the app and the CLI.

Example file::

    {
      "version": 1,
      "mapping": {"customer_id": "客户编号", "order_date": "订单日期", "amount": "实付金额"},
      "as_of": "latest",
      "labels": ["金钻", "白银", "铜"],
      "cuts": [0.8, 0.95],
      "churn_k": 2.0,
      ...
    }

Keys that are missing take their defaults; an unknown key is an error (a typo must not silently
fall back to a default). ``version`` is the file format's version.

Every value is checked against the schema below before anything is used (:meth:`Settings.validate`,
which every way of making settings goes through: the app's upload, the workspace, ``--config``).
A file that fails gets one :class:`SettingsError` sentence naming the setting and what is wrong,
and nothing is applied. The file itself is refused before it is parsed when it is larger than
``MAX_FILE_BYTES``, nests lists/objects deeper than ``MAX_DEPTH``, repeats a key, or holds
``NaN``/``Infinity``.

=====================  ===================================================================
setting                allowed values
=====================  ===================================================================
mapping                object: order field (``CANONICAL_FIELDS``) -> column header (text,
                       up to 500 characters; "" = no column)
customers_mapping      the same with the customers file's fields (customer_id, name)
interactions_mapping   the same with the interactions file's fields (customer_id, date, type)
date_order             "dmy", "mdy" or null
drop_duplicates        true / false
as_of                  "latest" or a date 1900-01-01 .. 2199-12-31 (``YYYY-MM-DD``)
since                  null or such a date, not after ``as_of``
method                 "pareto", "computed" (three levels) or "score"
by                     "value" or "count"
labels                 2 to 5 distinct level names (text, 1 to 40 characters, no control
                       characters)
prospect_label         a level name, different from the labels
cuts                   null or one share per level boundary (levels - 1), increasing, 0 .. 1
weights                object: dimension (recency, frequency, monetary, activity, breadth) ->
                       number 0 .. 1000
score_points           3, 4 or 5
custom_cut_points      object: dimension -> ``score_points - 1`` strictly increasing numbers
                       (each within +-1e12)
segment_rules          up to 100 rules, each an object with exactly ``segment`` (text, 1 to 60
                       characters), ``r_min r_max f_min f_max m_min m_max`` (whole numbers
                       1 .. score_points, min <= max)
playbook               up to 20 rows: ``level`` (distinct), ``strategy``, ``strategy_zh``,
                       ``service_level``, ``service_level_zh`` (text up to 2000 characters or
                       null), ``cadence_days`` (1 .. 3650)
churn_k                number above 0, up to 100
churn_drop_share       number above 0, up to 1
new_days, lapse_days   whole number of days 1 .. 36500
rising_min_trend       number 0 .. 1000
migration_period       "month", "quarter", "half-year", "year" or whole days 1 .. 36500
migration_window_days  null or whole days 1 .. 36500
forecast_calibration_  null or a date: fit the prediction models up to it
  end
forecast_unit          "day" or "week"
forecast_horizon       number above 0, up to 36500 (in the unit)
forecast_discount_rate number 0 .. below 1 (per unit)
currency_symbol        null (the sign the amounts carried, none when they carried none) or text
                       of 0 to 8 characters without control characters ("" = no sign), e.g. "￥"
currency_position      "before" or "after" the number (with a currency_symbol)
=====================  ===================================================================
"""

from __future__ import annotations

import json
import math
import numbers
import os
import re
import tempfile
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path

from .dynamics import PERIODS
from .headers import CANONICAL_FIELDS, CUSTOMER_FIELDS, INTERACTION_FIELDS
from .playbook import MAX_CADENCE_DAYS, PLAYBOOK_FIELDS, check_playbook, default_playbook
from .scores import DIMENSIONS, SEGMENT_RULE_COLUMNS, check_custom_cuts, validate_segment_rules
from .tiers import TierRules
from .views import playbook_rows

__all__ = ["SETTINGS_VERSION", "Settings", "SettingsError", "load_settings", "save_settings"]

#: Version of the settings file format written by :meth:`Settings.to_json`.
SETTINGS_VERSION = 1

#: A settings file larger than this is refused unread (a real one is a few kilobytes).
MAX_FILE_BYTES = 1_000_000

#: Deepest nesting of lists and objects in a settings file (the format itself needs 3).
MAX_DEPTH = 8

#: Longest span of days a setting may hold (about a hundred years).
MAX_DAYS = 36_500

#: Dates a setting may hold.
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(2199, 12, 31)

_DIMENSIONS = tuple(d.name for d in DIMENSIONS)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class SettingsError(ValueError):
    """A settings file that cannot be used; ``str(err)`` is one plain sentence.

    ``field`` names the setting at fault (None when the file as a whole is refused)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class Settings:
    """Everything a re-run needs to give the same tiers and lists.

    Attributes
    ----------
    mapping, customers_mapping, interactions_mapping : ``{field: column header}`` for the orders,
        customers and interactions files (only fields to override the automatic guess).
    date_order : ``"dmy"``, ``"mdy"`` or None (decide from the data).
    drop_duplicates : reject exact duplicate rows.
    as_of : fixed as-of date, or None for the latest order date (``"latest"`` in the file).
    since : window start, or None (the earliest order date).
    method, by, labels, prospect_label, cuts, weights, score_points : tiering (see
        :class:`segcore.TierRules`); ``cuts`` None = the default shares for the number of levels.
    custom_cut_points : ``{dimension: [cut, ...]}`` typed score cut points (instead of quantiles).
    segment_rules : RFM segment rules (list of dicts); empty = the built-in set.
    playbook : playbook rows (:func:`segcore.playbook.check_playbook`); empty = the default for
        the levels.
    churn_k, churn_drop_share : churn warning (:func:`segcore.dynamics.churn_risk`).
    new_days, lapse_days : lifecycle thresholds (:func:`segcore.dynamics.lifecycle`).
    rising_min_trend : rising customers' minimum trend (:func:`segcore.dynamics.rising_customers`).
    migration_period : ``"month"``, ``"quarter"``, ``"half-year"``, ``"year"`` or days between the
        two as-of dates of the migration; ``migration_window_days`` optional rolling window.
    forecast_calibration_end : predictions: fit the models on the orders up to this date and
        check them on the orders after it; None = forecast from the as-of date and check with
        the last third of the data held out (:mod:`segcore.forecast`).
    forecast_unit, forecast_horizon, forecast_discount_rate : the models' time unit (``"day"``
        or ``"week"``), the forecast horizon and the discount rate per period, in that unit.
    currency_symbol, currency_position : the sign shown with money (None: the one the amounts
        carried, :attr:`segcore.IngestReport.currency`) and whether it goes before or after the number.
    """

    mapping: dict = field(default_factory=dict)
    customers_mapping: dict = field(default_factory=dict)
    interactions_mapping: dict = field(default_factory=dict)
    date_order: str | None = None
    drop_duplicates: bool = False
    as_of: date | None = None
    since: date | None = None
    method: str = "pareto"
    by: str = "value"
    labels: tuple = ("A", "B", "C")
    prospect_label: str = "Iron"
    cuts: tuple | None = None
    weights: dict = field(default_factory=dict)
    score_points: int = 5
    custom_cut_points: dict = field(default_factory=dict)
    segment_rules: list = field(default_factory=list)
    playbook: list = field(default_factory=list)
    churn_k: float = 2.0
    churn_drop_share: float = 0.5
    new_days: int = 90
    lapse_days: int = 180
    rising_min_trend: float = 0.5
    migration_period: str | int = "quarter"
    migration_window_days: int | None = None
    forecast_calibration_end: date | None = None
    forecast_unit: str = "week"
    forecast_horizon: float = 52.0
    forecast_discount_rate: float = 0.0
    currency_symbol: str | None = None
    currency_position: str = "before"

    def __post_init__(self):
        self.validate()

    # ---- checks -------------------------------------------------------------------------------

    def validate(self) -> "Settings":
        """Check and normalise every field in place (the schema in the module docstring); raises
        :class:`SettingsError` naming the first setting at fault."""
        for f in fields(self):
            setattr(self, f.name, _PARSERS[f.name](getattr(self, f.name), f.name))
        if self.cuts is not None and len(self.cuts) != len(self.labels) - 1:
            raise SettingsError(f"{len(self.labels)} levels need {len(self.labels) - 1} cut shares; "
                                f"the settings have {len(self.cuts)}.", "cuts")
        if self.as_of is not None and self.since is not None and self.since > self.as_of:
            raise SettingsError(f"The setting 'since' ({self.since}) must not be after 'as_of' ({self.as_of}).",
                                "since")
        try:
            self.tier_rules()
        except ValueError as exc:
            raise SettingsError(str(exc), "labels" if "label" in str(exc).lower() else "cuts") from None
        n = self.score_points
        for dim, points in self.custom_cut_points.items():
            try:
                check_custom_cuts(dim, points, n)
            except ValueError as exc:
                raise SettingsError(f"The setting 'custom_cut_points' is not valid: {exc}",
                                    "custom_cut_points") from None
        if self.segment_rules:
            try:
                clean = validate_segment_rules(self.segment_rules, n)
            except ValueError as exc:
                raise SettingsError(f"The setting 'segment_rules' is not valid: {exc}", "segment_rules") from None
            self.segment_rules = [{k: (v if k == "segment" else int(v)) for k, v in row.items()}
                                  for row in clean.to_dict("records")]
        return self

    # ---- what the settings build ----------------------------------------------------------------

    def tier_rules(self) -> TierRules:
        """The :class:`segcore.TierRules` these settings describe."""
        return TierRules(labels=tuple(self.labels),
                         cuts=tuple(self.cuts) if self.cuts is not None else None, by=self.by,
                         prospect_label=self.prospect_label, method=self.method,
                         weights=tuple(self.weights.items()), score_points=self.score_points)

    def playbook_rows(self) -> list[dict]:
        """The playbook for the levels (with the prospect level): each level's saved row, else its
        default (:func:`segcore.views.playbook_rows`)."""
        return playbook_rows(self.playbook, default_playbook(self.labels, self.prospect_label))

    # ---- file format ----------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """Plain JSON-ready dict, ``version`` first, then every setting in field order."""
        out = {"version": SETTINGS_VERSION}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "as_of":
                value = value.isoformat() if value else "latest"
            elif isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "Settings":
        """Settings from a dict as written by :meth:`to_dict` (missing keys take defaults)."""
        if not isinstance(data, dict):
            raise SettingsError("A settings file holds one JSON object ({...}) of named settings.")
        data = dict(data)
        version = data.pop("version", SETTINGS_VERSION)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise SettingsError(f"The settings file's version must be a whole number; got {_shown(version)}.",
                                "version")
        if version > SETTINGS_VERSION:
            raise SettingsError(f"The settings file has version {version}, newer than this program reads "
                                f"({SETTINGS_VERSION}); update segcore.", "version")
        known = [f.name for f in fields(cls)]
        unknown = [k for k in data if k not in known]
        if unknown:
            shown = ", ".join(repr(k if len(k) <= 40 else k[:37] + "...") for k in unknown[:5]) + (
                " ..." if len(unknown) > 5 else "")
            raise SettingsError(
                f"Unknown setting{'s' if len(unknown) > 1 else ''} {shown} in the "
                f"settings file; the settings are: version, {', '.join(known)}.", unknown[0])
        return cls(**data)

    def to_json(self) -> str:
        """Human-readable JSON (indented, Chinese kept as is)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> "Settings":
        """Settings from JSON text; raises :class:`SettingsError` with a plain message.

        Refused before parsing: more than ``MAX_FILE_BYTES``, nesting deeper than ``MAX_DEPTH``;
        while parsing: a key given twice, ``NaN`` / ``Infinity``, numbers too long to read."""
        if len(text) > MAX_FILE_BYTES:
            raise SettingsError(f"The settings file is too large ({len(text):,} bytes; a settings file has at "
                                f"most {MAX_FILE_BYTES:,}).")
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise SettingsError("The settings file is not UTF-8 text.") from None
        text = text.lstrip("\ufeff")
        if _depth(text) > MAX_DEPTH:
            raise SettingsError(f"The settings file nests lists or objects more than {MAX_DEPTH} levels deep; "
                                "a settings file is flat.")
        try:
            data = json.loads(text, object_pairs_hook=_no_repeats, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            raise SettingsError(f"The settings file is not valid JSON (line {exc.lineno}, column "
                                f"{exc.colno}: {exc.msg}).") from None
        except _Refused as exc:
            raise SettingsError(f"The settings file is not valid JSON ({exc}).") from None
        except ValueError:  # Python reads whole numbers of at most 4300 digits
            raise SettingsError("The settings file holds a number too long to read.") from None
        return cls.from_dict(data)


def save_settings(settings: Settings, path) -> Path:
    """Write ``settings`` to ``path`` as JSON, atomically (a temporary file renamed over it)."""
    path = Path(path)
    text = settings.to_json()
    fd, tmp = tempfile.mkstemp(prefix=".segcore-settings-", suffix=".json", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_settings(path) -> Settings:
    """Read a settings file written by :func:`save_settings` (or by hand); a file larger than
    ``MAX_FILE_BYTES`` is refused without reading it."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SettingsError(f"The settings file {path} could not be read ({exc.strerror or exc}).") from None
    return Settings.from_json(data)


def _depth(text: str) -> int:
    """How deep lists and objects nest in JSON text (brackets inside strings do not count)."""
    deepest = level = 0
    for bracket in re.findall(r"[\[\]{}]", re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)):
        level += 1 if bracket in "[{" else -1
        deepest = max(deepest, level)
    return deepest


class _Refused(ValueError):
    """JSON that parses but is not allowed in a settings file."""


def _no_repeats(pairs: list) -> dict:
    out = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"the key {key[:40]!r} appears twice in one object")
        out[key] = value
    return out


def _no_constant(word: str):
    raise _Refused(f"{word} is not a number a setting can hold")


# --------------------------------------------------------------------------------------------
# One parser per field: the value as loaded (or given) -> the normalised value, or SettingsError.
# --------------------------------------------------------------------------------------------

def _shown(value) -> str:
    """A value as a short quote for a message."""
    try:
        shown = json.dumps(value, ensure_ascii=False, default=str)
    except (ValueError, RecursionError):  # a structure that refers to itself
        shown = type(value).__name__
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _bad(name: str, what: str, value, where: str = "") -> SettingsError:
    """``The setting 'name' [where] must be what; got value.``"""
    return SettingsError(f"The setting {name!r}{' ' + where if where else ''} must be {what}; got {_shown(value)}.",
                         name)


def _is_number(value) -> bool:
    """A number from JSON or from code (numpy's too), not a truth value."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _number(value, name, what, low, high, low_open=False) -> float:
    """A JSON number within ``low`` .. ``high`` (finite bounds: NaN, infinities and huge integers
    fail the range test before any conversion)."""
    if not _is_number(value) or not (low < value if low_open else low <= value) or not value <= high:
        raise _bad(name, what, value)
    return float(value)


def _whole(value, name, what, low, high, where="") -> int:
    """A whole JSON number (``3`` or ``3.0``) within ``low`` .. ``high``."""
    if not _is_number(value) or not low <= value <= high or value != int(value):
        raise _bad(name, what, value, where)
    return int(value)


def _text(value, name, what, longest, empty=False, where="") -> str:
    if not isinstance(value, str) or len(value) > longest or (not empty and not value.strip()):
        raise _bad(name, what, value, where)
    return value


def _name_text(value, name, what, where="") -> str:
    """A level name: text of 1 to 40 characters without control characters, trimmed."""
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 40 or _CONTROL.search(value):
        raise _bad(name, what, value, where)
    return value.strip()


def _object(value, name, what, keys, longest=50) -> dict:
    """A JSON object of at most ``longest`` entries whose keys are among ``keys``."""
    if not isinstance(value, dict) or len(value) > longest:
        raise _bad(name, what, value)
    unknown = [k for k in value if k not in keys]
    if unknown:
        raise SettingsError(f"The setting {name!r} has the unknown key {str(unknown[0])[:40]!r}; the keys are "
                            f"{', '.join(keys)}.", name)
    return value


def _text_map(keys):
    def parse(value, name):
        what = "an object of field names to column names (text)"
        value = _object(value, name, what, tuple(keys))
        for v in value.values():
            _text(v, name, what, 500, empty=True)
        return dict(value)
    return parse


def _optional_date(value, name, latest=False):
    what = ('"latest" or ' if latest else "null or ") + f"a date like 2024-12-31 between {FIRST_DATE} and {LAST_DATE}"
    if value is None or (latest and value == "latest"):
        return None
    if isinstance(value, date):
        value = value.date() if hasattr(value, "hour") else value
    elif isinstance(value, str) and len(value) <= 40:
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise _bad(name, what, value) from None
    else:
        raise _bad(name, what, value)
    if not FIRST_DATE <= value <= LAST_DATE:
        raise _bad(name, what, value.isoformat())
    return value


def _choice(options, optional=False):
    def parse(value, name):
        if (value is None and optional) or (isinstance(value, str) and value in options):
            return value
        raise _bad(name, " or ".join(map(repr, options)) + (" or null" if optional else ""), value)
    return parse


def _symbol(value, name):
    """A currency sign: text of at most 8 characters without control characters, trimmed."""
    if not isinstance(value, str) or len(value.strip()) > 8 or _CONTROL.search(value):
        raise _bad(name, "null or text of at most 8 characters (a currency sign such as ￥ or £)", value)
    return value.strip()


def _bool(value, name):
    if not isinstance(value, bool):
        raise _bad(name, "true or false", value)
    return value


def _labels(value, name):
    what = "a list of 2 to 5 level names (text of 1 to 40 characters)"
    if not isinstance(value, (list, tuple)) or not 2 <= len(value) <= 5:
        raise _bad(name, what, value)
    return tuple(_name_text(x, name, what) for x in value)


def _label(value, name):
    return _name_text(value, name, "a level name (text of 1 to 40 characters)")


def _cuts(value, name):
    what = "null or a list of up to 4 shares between 0 and 1"
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) > 4:
        raise _bad(name, what, value)
    return tuple(_number(v, name, what, 0, 1) for v in value)


def _weights(value, name):
    what = "an object of dimension names to weights (numbers from 0 to 1000)"
    value = _object(value, name, what, _DIMENSIONS)
    return {k: _number(v, name, what, 0, 1000) for k, v in value.items()}


def _custom_cuts(value, name):
    what = "an object of dimension names to lists of cut points (numbers within +-1e12)"
    value = _object(value, name, what, _DIMENSIONS)
    out = {}
    for k, v in value.items():
        if not isinstance(v, (list, tuple)) or len(v) > 4:
            raise _bad(name, what, value)
        out[k] = [_number(x, name, what, -1e12, 1e12) for x in v]
    return out


def _rules(value, name):
    if not isinstance(value, (list, tuple)) or len(value) > 100:
        raise _bad(name, "a list of up to 100 rule objects", value)
    out = []
    for i, rule in enumerate(value, start=1):
        if not isinstance(rule, dict) or sorted(rule) != sorted(SEGMENT_RULE_COLUMNS):
            raise _bad(name, f"an object with exactly the keys {', '.join(SEGMENT_RULE_COLUMNS)}", rule, f"rule {i}")
        out.append({"segment": _text(rule["segment"], name, "text of 1 to 60 characters", 60,
                                     where=f"rule {i} segment").strip(),
                    **{c: _whole(rule[c], name, "a whole number from 1 to 5", 1, 5, f"rule {i} {c}")
                       for c in SEGMENT_RULE_COLUMNS[1:]}})
    return out


def _playbook(value, name):
    if not isinstance(value, (list, tuple)) or len(value) > 20:
        raise _bad(name, "a list of up to 20 playbook rows", value)
    for i, row in enumerate(value, start=1):
        if not isinstance(row, dict):
            raise _bad(name, f"an object of {', '.join(PLAYBOOK_FIELDS)}", row, f"row {i}")
        for k in PLAYBOOK_FIELDS[1:-1]:
            if not _missing(row.get(k)):
                _text(row[k], name, "text of up to 2000 characters", 2000, empty=True, where=f"row {i} {k}")
        if "level" in row:
            _name_text(row["level"], name, "a level name (text of 1 to 40 characters)", f"row {i} level")
        if "cadence_days" in row:
            _whole(row["cadence_days"], name, f"a whole number of days from 1 to {MAX_CADENCE_DAYS}", 1,
                   MAX_CADENCE_DAYS, f"row {i} cadence_days")
    try:
        return check_playbook(list(value))
    except ValueError as exc:
        raise SettingsError(f"The setting {name!r} is not valid: {exc}", name) from None


def _missing(value) -> bool:
    """None, or NaN (an empty cell of an edited table)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _days(value, name):
    return _whole(value, name, f"a whole number of days from 1 to {MAX_DAYS}", 1, MAX_DAYS)


def _optional_days(value, name):
    return None if value is None else _days(value, name)


def _rate(value, name):
    what = "a rate per period, at least 0 and below 1"
    v = _number(value, name, what, 0, 1)
    if v >= 1:
        raise _bad(name, what, value)
    return v


def _period(value, name):
    if isinstance(value, str) and value in PERIODS:
        return value
    return _whole(value, name, " / ".join(map(repr, PERIODS)) + f" or a whole number of days from 1 to {MAX_DAYS}",
                  1, MAX_DAYS)


_PARSERS = {
    "mapping": _text_map(CANONICAL_FIELDS),
    "customers_mapping": _text_map(CUSTOMER_FIELDS),
    "interactions_mapping": _text_map(INTERACTION_FIELDS),
    "date_order": _choice(("dmy", "mdy"), optional=True),
    "drop_duplicates": _bool,
    "as_of": lambda v, n: _optional_date(v, n, latest=True),
    "since": _optional_date,
    "method": _choice(("pareto", "computed", "score")),
    "by": _choice(("value", "count")),
    "labels": _labels,
    "prospect_label": _label,
    "cuts": _cuts,
    "weights": _weights,
    "score_points": lambda v, n: _whole(v, n, "3, 4 or 5", 3, 5),
    "custom_cut_points": _custom_cuts,
    "segment_rules": _rules,
    "playbook": _playbook,
    "churn_k": lambda v, n: _number(v, n, "a number above 0, up to 100", 0, 100, low_open=True),
    "churn_drop_share": lambda v, n: _number(v, n, "a share above 0 and at most 1", 0, 1, low_open=True),
    "new_days": _days,
    "lapse_days": _days,
    "rising_min_trend": lambda v, n: _number(v, n, "a number from 0 to 1000 (0.5 = +50%)", 0, 1000),
    "migration_period": _period,
    "migration_window_days": _optional_days,
    "forecast_calibration_end": _optional_date,
    "forecast_unit": _choice(("day", "week")),
    "forecast_horizon": lambda v, n: _number(v, n, "a number above 0, up to 36500", 0, MAX_DAYS, low_open=True),
    "forecast_discount_rate": _rate,
    "currency_symbol": lambda v, n: None if v is None else _symbol(v, n),
    "currency_position": _choice(("before", "after")),
}
