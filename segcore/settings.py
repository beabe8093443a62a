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
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path

from .dynamics import PERIODS
from .playbook import check_playbook, default_playbook
from .tiers import TierRules

__all__ = ["SETTINGS_VERSION", "Settings", "SettingsError", "load_settings", "save_settings"]

#: Version of the settings file format written by :meth:`Settings.to_json`.
SETTINGS_VERSION = 1


class SettingsError(ValueError):
    """A settings file that cannot be used; ``str(err)`` is one plain sentence."""


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

    def __post_init__(self):
        self.validate()

    # ---- checks -------------------------------------------------------------------------------

    def validate(self) -> "Settings":
        """Check and normalise every field in place; raises :class:`SettingsError`."""
        for f in fields(self):
            setattr(self, f.name, _PARSERS[f.name](getattr(self, f.name), f.name))
        if self.cuts is not None and len(self.cuts) != len(self.labels) - 1:
            raise SettingsError(f"{len(self.labels)} levels need {len(self.labels) - 1} cut shares; "
                                f"the settings have {len(self.cuts)}.")
        try:
            self.tier_rules()
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        return self

    # ---- what the settings build ----------------------------------------------------------------

    def tier_rules(self) -> TierRules:
        """The :class:`segcore.TierRules` these settings describe."""
        return TierRules(labels=tuple(self.labels),
                         cuts=tuple(self.cuts) if self.cuts is not None else None, by=self.by,
                         prospect_label=self.prospect_label, method=self.method,
                         weights=tuple(self.weights.items()), score_points=self.score_points)

    def playbook_rows(self) -> list[dict]:
        """The playbook: the saved rows, or the default for the levels (with the prospect level)."""
        return self.playbook or default_playbook(self.labels, self.prospect_label)

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
            raise SettingsError(f"The settings file's version must be a whole number; got {version!r}.")
        if version > SETTINGS_VERSION:
            raise SettingsError(f"The settings file has version {version}, newer than this program reads "
                                f"({SETTINGS_VERSION}); update segcore.")
        known = [f.name for f in fields(cls)]
        unknown = [k for k in data if k not in known]
        if unknown:
            raise SettingsError(
                f"Unknown setting{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} in the "
                f"settings file; the settings are: version, {', '.join(known)}.")
        return cls(**data)

    def to_json(self) -> str:
        """Human-readable JSON (indented, Chinese kept as is)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> "Settings":
        """Settings from JSON text; raises :class:`SettingsError` with a plain message."""
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise SettingsError("The settings file is not UTF-8 text.") from None
        try:
            data = json.loads(text.lstrip("\ufeff"))
        except json.JSONDecodeError as exc:
            raise SettingsError(f"The settings file is not valid JSON (line {exc.lineno}, column "
                                f"{exc.colno}: {exc.msg}).") from None
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
    """Read a settings file written by :func:`save_settings` (or by hand)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SettingsError(f"The settings file {path} could not be read ({exc.strerror}).") from None
    return Settings.from_json(data)


# --------------------------------------------------------------------------------------------
# One parser per field: the value as loaded (or given) -> the normalised value, or SettingsError.
# --------------------------------------------------------------------------------------------

def _bad(name: str, what: str, value) -> SettingsError:
    shown = json.dumps(value, ensure_ascii=False, default=str)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return SettingsError(f"The setting {name!r} must be {what}; got {shown}.")


def _number(value, name, what="a number") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _bad(name, what, value)
    return float(value)


def _whole(value, name, what="a whole number") -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(name, what, value)
    return value


def _text_map(value, name):
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                              for k, v in value.items()):
        raise _bad(name, "an object of field names to column names (text)", value)
    return dict(value)


def _optional_date(value, name, latest=False):
    if value is None or (latest and value == "latest"):
        return None
    if isinstance(value, date):
        return value.date() if hasattr(value, "hour") else value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _bad(name, ('"latest" or ' if latest else "null or ") + "a date like 2024-12-31", value)


def _choice(options, optional=False):
    def parse(value, name):
        if (value is None and optional) or value in options:
            return value
        raise _bad(name, " or ".join(map(repr, options)) + (" or null" if optional else ""), value)
    return parse


def _bool(value, name):
    if not isinstance(value, bool):
        raise _bad(name, "true or false", value)
    return value


def _labels(value, name):
    if not isinstance(value, (list, tuple)) or not all(isinstance(x, str) and x.strip() for x in value):
        raise _bad(name, "a list of 2 to 5 level names", value)
    if not 2 <= len(value) <= 5:
        raise _bad(name, "a list of 2 to 5 level names", value)
    return tuple(x.strip() for x in value)


def _label(value, name):
    if not isinstance(value, str) or not value.strip():
        raise _bad(name, "a level name", value)
    return value.strip()


def _cuts(value, name):
    if value is None:
        return None
    if not isinstance(value, (list, tuple)):
        raise _bad(name, "null or a list of shares between 0 and 1", value)
    cuts = tuple(_number(v, name, "a list of shares between 0 and 1") for v in value)
    return cuts


def _weights(value, name):
    if not isinstance(value, dict):
        raise _bad(name, "an object of dimension names to weights", value)
    out = {}
    for k, v in value.items():
        w = _number(v, name, "an object of dimension names to weights (numbers >= 0)")
        if w < 0:
            raise _bad(name, "an object of dimension names to weights (numbers >= 0)", value)
        out[str(k)] = w
    return out


def _custom_cuts(value, name):
    if not isinstance(value, dict):
        raise _bad(name, "an object of dimension names to lists of cut points", value)
    out = {}
    for k, v in value.items():
        if not isinstance(v, (list, tuple)):
            raise _bad(name, "an object of dimension names to lists of cut points", value)
        points = [_number(x, name, "an object of dimension names to lists of cut points") for x in v]
        if points != sorted(points):
            raise SettingsError(f"The cut points for {k!r} in {name!r} must increase.")
        out[str(k)] = points
    return out


def _rules(value, name):
    if not isinstance(value, (list, tuple)) or not all(isinstance(r, dict) for r in value):
        raise _bad(name, "a list of rule objects", value)
    return [dict(r) for r in value]


def _playbook(value, name):
    if not isinstance(value, (list, tuple)):
        raise _bad(name, "a list of playbook rows", value)
    try:
        return check_playbook(list(value))
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


def _positive(kind):
    def parse(value, name):
        if kind is int:
            v = _whole(value, name, "a whole number of days, 1 or more")
            if v < 1:
                raise _bad(name, "a whole number of days, 1 or more", value)
            return v
        v = _number(value, name, "a positive number")
        if v <= 0:
            raise _bad(name, "a positive number", value)
        return v
    return parse


def _share(value, name):
    v = _number(value, name, "a share above 0 and at most 1")
    if not 0 < v <= 1:
        raise _bad(name, "a share above 0 and at most 1", value)
    return v


def _trend(value, name):
    v = _number(value, name, "a number >= 0 (0.5 = +50%)")
    if v < 0:
        raise _bad(name, "a number >= 0 (0.5 = +50%)", value)
    return v


def _rate(value, name):
    v = _number(value, name, "a rate per period, at least 0 and below 1")
    if not 0 <= v < 1:
        raise _bad(name, "a rate per period, at least 0 and below 1", value)
    return v


def _score_points(value, name):
    v = _whole(value, name, "3, 4 or 5")
    if v not in (3, 4, 5):
        raise _bad(name, "3, 4 or 5", value)
    return v


def _period(value, name):
    if isinstance(value, str) and value in PERIODS:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer() \
            and value >= 1:
        return int(value)
    raise _bad(name, " / ".join(map(repr, PERIODS)) + " or a number of days", value)


def _optional_days(value, name):
    return None if value is None else _positive(int)(value, name)


_PARSERS = {
    "mapping": _text_map,
    "customers_mapping": _text_map,
    "interactions_mapping": _text_map,
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
    "score_points": _score_points,
    "custom_cut_points": _custom_cuts,
    "segment_rules": _rules,
    "playbook": _playbook,
    "churn_k": _positive(float),
    "churn_drop_share": _share,
    "new_days": _positive(int),
    "lapse_days": _positive(int),
    "rising_min_trend": _trend,
    "migration_period": _period,
    "migration_window_days": _optional_days,
    "forecast_calibration_end": _optional_date,
    "forecast_unit": _choice(("day", "week")),
    "forecast_horizon": _positive(float),
    "forecast_discount_rate": _rate,
}
