"""Playbook: per level a strategy, a service level and a follow-up cadence; and the follow-up list.

A playbook is a list of rows (dicts), one per level::

    {"level": "A", "strategy": "...", "strategy_zh": "...", "service_level": "...",
     "service_level_zh": "...", "cadence_days": 14}

It is plain data so the page can edit it as a table (:func:`playbook_frame` /
:func:`check_playbook`) and the settings file can store it.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from .dynamics import _as_of_of
from .frames import cursor

__all__ = ["DEFAULT_PLAYBOOK", "FOLLOW_UP_COLUMNS", "PLAYBOOK_FIELDS", "PROSPECT_PLAY", "check_playbook",
           "default_playbook", "follow_ups", "playbook_frame"]

#: The fields of a playbook row, in table order.
PLAYBOOK_FIELDS = ("level", "strategy", "strategy_zh", "service_level", "service_level_zh", "cadence_days")

#: The longest follow-up cadence (ten years).
MAX_CADENCE_DAYS = 3650

_CORE = {"strategy": "Dedicated account manager: personal check-ins, priority service and delivery, "
                     "early access to new products",
         "strategy_zh": "专属客户经理：定期拜访/电话，优先服务与发货，新品优先体验",
         "service_level": "Dedicated (VIP)", "service_level_zh": "专属服务（VIP）", "cadence_days": 14}
_KEY = {"strategy": "Named sales contact: regular calls, tailored offers and volume deals",
        "strategy_zh": "指定销售对接：定期电话回访，定制优惠与批量价格",
        "service_level": "Priority", "service_level_zh": "优先服务", "cadence_days": 21}
_GROWTH = {"strategy": "Regular targeted offers, cross-sell and bundles; a monthly check-in to grow "
                       "them into core customers",
           "strategy_zh": "定期精准优惠、交叉销售与组合推荐；每月回访，培养成核心客户",
           "service_level": "Priority", "service_level_zh": "优先服务", "cadence_days": 30}
_MAINTAIN = {"strategy": "Standard service; periodic offers by message or e-mail, loyalty points",
             "strategy_zh": "标准服务；定期短信/邮件优惠，会员积分",
             "service_level": "Standard", "service_level_zh": "标准服务", "cadence_days": 60}
_SECONDARY = {"strategy": "Low-cost automated contact: newsletters, WeChat group posts, coupons",
              "strategy_zh": "低成本自动化触达：群发消息、公众号/社群推送、优惠券",
              "service_level": "Self-service", "service_level_zh": "自助服务", "cadence_days": 90}

#: The prospects' play (customers who have not bought yet, the Iron level).
PROSPECT_PLAY = {"strategy": "Wake-up campaign: welcome offer, first-order coupon, invitation to events",
                 "strategy_zh": "唤醒活动：欢迎礼、首单优惠券、活动邀请",
                 "service_level": "Campaign", "service_level_zh": "营销活动", "cadence_days": 60}

#: Default plays by number of levels, best level first (common practice: core customers get a
#: dedicated contact and frequent follow-up, potential customers regular offers, secondary
#: customers low-cost automated contact).
DEFAULT_PLAYBOOK = {
    2: (_CORE, _SECONDARY),
    3: (_CORE, _GROWTH, _SECONDARY),
    4: (_CORE, _GROWTH, _MAINTAIN, _SECONDARY),
    5: (_CORE, _KEY, _GROWTH, _MAINTAIN, _SECONDARY),
}

#: Columns of the follow-up list (call list), in export order; contact columns follow when present.
FOLLOW_UP_COLUMNS = ("customer_id", "tier", "status", "lapsed", "days_overdue", "next_contact_date",
                     "last_order_date", "last_interaction_date", "cadence_days", "strategy",
                     "service_level", "strategy_zh", "service_level_zh", "monetary", "recency_days")

_CONTACT_COLUMNS = ("name", "region", "city", "channel")


def default_playbook(labels=("A", "B", "C"), prospect_label: str | None = "Iron") -> list[dict]:
    """The default playbook for these levels (2 to 5, best first), plus the prospect level.

    Returns
    -------
    list of dicts with ``PLAYBOOK_FIELDS``: one per label, then one for ``prospect_label``
    (omitted when it is None).
    """
    labels = list(labels)
    if len(labels) not in DEFAULT_PLAYBOOK:
        raise ValueError("There must be 2 to 5 levels.")
    rows = [{"level": label, **play} for label, play in zip(labels, DEFAULT_PLAYBOOK[len(labels)])]
    if prospect_label is not None:
        rows.append({"level": prospect_label, **PROSPECT_PLAY})
    return rows


def check_playbook(playbook) -> list[dict]:
    """Validate a playbook (list of dicts or a DataFrame from the page) and return it normalised.

    Each row needs ``level`` (distinct, not empty) and ``cadence_days`` (a whole number of days
    from 1 to ``MAX_CADENCE_DAYS``); text fields may be missing or empty (they become ""). Unknown fields are an error.

    Raises
    ------
    ValueError : with a sentence naming the row and the problem.
    """
    if isinstance(playbook, pd.DataFrame):
        playbook = playbook.to_dict("records")
    out, seen = [], set()
    for i, row in enumerate(playbook, start=1):
        if not isinstance(row, dict):
            raise ValueError(f"Playbook row {i} is not a set of fields.")
        unknown = set(row) - set(PLAYBOOK_FIELDS)
        if unknown:
            raise ValueError(f"Playbook row {i} has unknown field(s) {', '.join(sorted(map(str, unknown)))}; "
                             f"the fields are {', '.join(PLAYBOOK_FIELDS)}.")
        level = row.get("level")
        level = "" if level is None or (isinstance(level, float) and np.isnan(level)) else str(level).strip()
        if not level:
            raise ValueError(f"Playbook row {i} has no level.")
        if level in seen:
            raise ValueError(f"The playbook has two rows for level {level!r}.")
        seen.add(level)
        cadence = row.get("cadence_days")
        try:
            days = float(cadence)
        except (TypeError, ValueError):
            days = float("nan")
        if not 1 <= days <= MAX_CADENCE_DAYS or days != int(days):
            raise ValueError(f"The follow-up cadence of level {level!r} must be a whole number of days "
                             f"from 1 to {MAX_CADENCE_DAYS}; got {cadence!r}.")
        clean = {"level": level}
        for name in PLAYBOOK_FIELDS[1:-1]:
            value = row.get(name)
            missing = value is None or (isinstance(value, float) and np.isnan(value))
            clean[name] = "" if missing else str(value)
        clean["cadence_days"] = int(days)
        out.append(clean)
    return out


def playbook_frame(playbook) -> pd.DataFrame:
    """The playbook as a DataFrame with ``PLAYBOOK_FIELDS`` columns (for an editable table)."""
    return pd.DataFrame(check_playbook(playbook), columns=list(PLAYBOOK_FIELDS))


def follow_ups(tiered: pd.DataFrame, playbook=None, as_of: date | None = None, last_interaction=None, *,
               tiers=None, status=None, due_within_days: int = 7, labels=None,
               lapse_days: int | None = None) -> pd.DataFrame:
    """The follow-up list: each customer's next contact date from their level's cadence.

    Parameters
    ----------
    tiered : tiered per-customer table (:func:`segcore.assign_tiers`): ``customer_id, tier,
        last_order_date`` and, when present, ``last_interaction_date, monetary, recency_days,
        rank`` and the contact columns ``name, region, city, channel``.
    playbook : list of dicts or DataFrame (:func:`check_playbook`); default
        :func:`default_playbook` for the tiers found. Every tier in ``tiered`` needs a row.
    as_of : "today" for the list; default the as-of date of ``tiered`` (``last_order_date +
        recency_days``). Pass ``date.today()`` for a list of calls due now.
    last_interaction : optional last contact per customer, overriding ``tiered``'s
        ``last_interaction_date``: a DataFrame with ``customer_id, last_interaction_date`` or a
        ``{customer_id: date}`` dict.
    tiers : keep only these levels.
    status : keep only these statuses (``"overdue"``, ``"due"``, ``"scheduled"``).
    due_within_days : "due" = the next contact falls within this many days from ``as_of``.
    labels : the levels in order, best first, for sorting (default: playbook order).
    lapse_days : customers silent for more than this many days (``recency_days``) are ``lapsed``,
        as in the lifecycle's "lapsed" stage: for a win-back list rather than the call list. None:
        nobody is.

    Returns
    -------
    DataFrame with ``FOLLOW_UP_COLUMNS`` (+ contact columns), one row per customer:

    - ``next_contact_date`` = the later of ``last_order_date`` and ``last_interaction_date``
      plus the level's ``cadence_days``; customers with neither (prospects never contacted) are
      due on ``as_of``.
    - ``days_overdue`` = ``as_of - next_contact_date`` when positive, else 0.
    - ``status``: ``overdue`` (next contact before ``as_of``), ``due`` (from ``as_of`` to
      ``as_of + due_within_days``), ``scheduled`` (later).
    - ``lapsed``: ``recency_days > lapse_days`` (False without ``lapse_days`` or a last order).

    Sorted overdue first (most days overdue first), then by next contact date, level (best
    first), ``monetary`` (largest first) and ``customer_id``.
    """
    levels_found = [str(t) for t in pd.unique(tiered["tier"].dropna())] if "tier" in tiered.columns else []
    if playbook is None:
        playbook = _default_for(tiered, labels)
    plays = check_playbook(playbook)
    known = {p["level"] for p in plays}
    missing = [t for t in levels_found if t not in known]
    if missing:
        raise ValueError(f"The playbook has no row for level(s) {', '.join(map(repr, missing))}.")
    as_of = as_of or _as_of_of(tiered)
    if as_of is None:
        raise ValueError("Follow-up dates need an as-of date, and the customer table has none.")
    order = [*(labels or ()), *[p["level"] for p in plays if p["level"] not in set(labels or ())]]
    con = cursor()
    con.register("t", tiered)
    con.register("pb", pd.DataFrame(plays, columns=list(PLAYBOOK_FIELDS)))
    if last_interaction is not None:
        if isinstance(last_interaction, dict):
            last_interaction = pd.DataFrame({"customer_id": list(last_interaction),
                                             "last_interaction_date": pd.to_datetime(
                                                 list(last_interaction.values()))})
        con.register("li", last_interaction[["customer_id", "last_interaction_date"]])
        interaction = "CAST(li.last_interaction_date AS DATE)"
        join = "LEFT JOIN li ON li.customer_id = t.customer_id"
    else:
        interaction = ("CAST(t.last_interaction_date AS DATE)" if "last_interaction_date" in tiered.columns
                       else "CAST(NULL AS DATE)")
        join = ""
    monetary = "t.monetary" if "monetary" in tiered.columns else "CAST(NULL AS DOUBLE)"
    recency = "t.recency_days" if "recency_days" in tiered.columns else "CAST(NULL AS BIGINT)"
    contacts = "".join(f', t."{c}"' for c in _CONTACT_COLUMNS if c in tiered.columns)
    out = con.execute(f"""
        WITH base AS (
            SELECT t.customer_id, CAST(t.tier AS VARCHAR) AS tier,
                   CAST(t.last_order_date AS DATE) AS last_order_date,
                   {interaction} AS last_interaction_date, {monetary} AS monetary,
                   {recency} AS recency_days {contacts},
                   pb.cadence_days, pb.strategy, pb.service_level, pb.strategy_zh, pb.service_level_zh
            FROM t JOIN pb ON pb.level = CAST(t.tier AS VARCHAR) {join}),
        due AS (
            SELECT *, COALESCE(greatest(last_order_date, last_interaction_date)
                                   + CAST(cadence_days AS INTEGER), $as_of) AS next_contact_date
            FROM base)
        SELECT customer_id, tier,
               CASE WHEN next_contact_date < $as_of THEN 'overdue'
                    WHEN next_contact_date <= $as_of + CAST($within AS INTEGER) THEN 'due'
                    ELSE 'scheduled' END AS status,
               COALESCE(recency_days > $lapse_days, false) AS lapsed,
               greatest(date_diff('day', next_contact_date, $as_of), 0) AS days_overdue,
               next_contact_date, last_order_date, last_interaction_date, cadence_days,
               strategy, service_level, strategy_zh, service_level_zh, monetary, recency_days
               {contacts.replace('t.', '')}
        FROM due
        WHERE ($tiers IS NULL OR list_contains($tiers, tier))
        ORDER BY greatest(date_diff('day', next_contact_date, $as_of), 0) DESC, next_contact_date,
                 COALESCE(list_position($order, tier), 99), monetary DESC NULLS LAST, customer_id""",
        {"as_of": as_of, "within": int(due_within_days), "order": order,
         "lapse_days": None if lapse_days is None else int(lapse_days),
         "tiers": None if tiers is None else [str(t) for t in tiers]}).df()
    if status is not None:
        wanted = [status] if isinstance(status, str) else list(status)
        bad = set(wanted) - {"overdue", "due", "scheduled"}
        if bad:
            raise ValueError("status is 'overdue', 'due' or 'scheduled'.")
        out = out[out["status"].isin(wanted)].reset_index(drop=True)
    out.attrs["as_of"] = as_of
    return out


def _default_for(tiered: pd.DataFrame, labels) -> list[dict]:
    """Default playbook for a tiered table: its levels (``labels``, else from the table) + prospects.

    Without ``labels``: an ordered categorical ``tier`` from :func:`segcore.assign_tiers` gives the
    levels (its last category is the prospect level); otherwise the tiers with a rank, by best
    rank, and the one tier without (prospects).
    """
    tier = tiered["tier"]
    if labels is None and isinstance(tier.dtype, pd.CategoricalDtype) and len(tier.cat.categories) >= 3:
        cats = [str(c) for c in tier.cat.categories]
        return default_playbook(cats[:-1], cats[-1])
    found = [str(t) for t in pd.unique(tier.dropna())]
    if labels is None:
        if "rank" in tiered.columns:
            best = pd.to_numeric(tiered["rank"], errors="coerce").groupby(tier.astype(object)).min()
            labels = sorted((t for t in found if pd.notna(best.get(t))), key=lambda t: best[t])
        else:
            labels = sorted(found)
    labels = [str(x) for x in labels]
    extra = [t for t in found if t not in set(labels)]
    if len(extra) > 1:
        raise ValueError("Give the playbook or the labels: more than one level is not among the labels.")
    return default_playbook(labels, extra[0] if extra else None)
