"""The settings file: round trip, defaults for missing keys, clear errors, the same tiers."""

import json
from datetime import date

import pytest

import segcore
from segcore.playbook import default_playbook
from segcore.settings import SETTINGS_VERSION, Settings, SettingsError, load_settings, save_settings


def full_settings() -> Settings:
    plays = default_playbook(("金钻", "白银", "铜"), "铁")
    plays[0]["cadence_days"] = 7
    return Settings(
        mapping={"customer_id": "客户编号", "order_date": "订单日期", "amount": "实付金额"},
        customers_mapping={"customer_id": "客户编号"},
        interactions_mapping={"date": "日期"},
        date_order="dmy", drop_duplicates=True, as_of=date(2024, 12, 31), since=date(2024, 1, 1),
        method="pareto", by="count", labels=("金钻", "白银", "铜"), prospect_label="铁", cuts=(0.2, 0.5),
        weights={"recency": 1.0, "frequency": 1.0, "monetary": 2.0}, score_points=4,
        custom_cut_points={"monetary": [100.0, 500.0, 2000.0]},
        segment_rules=[{"segment": "Champions", "r_min": 3, "r_max": 4, "f_min": 3, "f_max": 4,
                        "m_min": 3, "m_max": 4},
                       {"segment": "The rest", "r_min": 1, "r_max": 4, "f_min": 1, "f_max": 4,
                        "m_min": 1, "m_max": 4}],
        playbook=plays, churn_k=3.0, churn_drop_share=0.4, new_days=60, lapse_days=365,
        rising_min_trend=1.0, migration_period="month", migration_window_days=365,
        forecast_calibration_end=date(2024, 9, 30), forecast_unit="day", forecast_horizon=90,
        forecast_discount_rate=0.001)


def test_round_trip_through_json_and_a_file(tmp_path):
    s = full_settings()
    text = s.to_json()
    assert Settings.from_json(text) == s
    path = save_settings(s, tmp_path / "monthly.json")
    assert load_settings(path) == s
    assert path.read_text(encoding="utf-8") == text
    assert not [p for p in tmp_path.iterdir() if p.name != "monthly.json"]  # no temporary file left


def test_the_file_is_human_readable():
    text = full_settings().to_json()
    assert '"labels": [\n    "金钻",' in text  # indented, Chinese kept as is
    data = json.loads(text)
    assert next(iter(data)) == "version" and data["version"] == SETTINGS_VERSION
    assert data["as_of"] == "2024-12-31" and data["since"] == "2024-01-01"
    assert Settings().to_dict()["as_of"] == "latest" and Settings().to_dict()["cuts"] is None


def test_missing_keys_take_defaults():
    s = Settings.from_json('{"labels": ["Gold", "Rest"]}')
    assert s.labels == ("Gold", "Rest") and s.churn_k == 2.0 and s.as_of is None and s.playbook == []
    assert s.tier_rules() == segcore.TierRules(labels=("Gold", "Rest"), cuts=(0.8,))
    assert Settings.from_json("{}") == Settings()
    assert Settings.from_json(b'\xef\xbb\xbf{"version": 1}') == Settings()  # a BOM is fine
    rows = Settings(labels=("A", "B")).playbook_rows()
    assert [r["level"] for r in rows] == ["A", "B", "Iron"]


@pytest.mark.parametrize("text, message", [
    ('{"labels": ["A", "B", "C"], "colour": "blue"}', "Unknown setting 'colour'"),
    ('{"churn_k": 2, "churn_kk": 3, "cutz": []}', "Unknown settings 'churn_kk', 'cutz'"),
    ('{"version": 2}', "newer than this program"),
    ('{"churn_drop_share": 1.5}', "'churn_drop_share' must be a share above 0 and at most 1; got 1.5"),
    ('{"as_of": "2024-13-01"}', "'as_of' must be \"latest\" or a date like 2024-12-31"),
    ('{"labels": ["A", "B", "C"], "cuts": [0.8]}', "3 levels need 2 cut shares"),
    ('{"cuts": [0.95, 0.8]}', "Cut shares must increase"),
    ('{"method": "magic"}', "'method' must be 'pareto' or 'computed' or 'score'"),
    ('{"forecast_unit": "month"}', "'forecast_unit' must be"),
    ('{"forecast_discount_rate": 1}', "'forecast_discount_rate' must be a rate per period, at least 0 and below 1"),
    ('{"forecast_horizon": 0}', "'forecast_horizon' must be a number above 0"),
    ('{"new_days": 0}', "'new_days' must be a whole number of days from 1 to 36500; got 0."),
    ('{"playbook": [{"level": "A", "cadence_days": -1}]}',
     "'playbook' row 1 cadence_days must be a whole number of days from 1 to 3650; got -1."),
    ('{"labels": "ABC"}', "'labels' must be a list of 2 to 5 level names"),
    ('{"mapping": {"customer_id": 3}}', "'mapping' must be an object"),
    ('[1, 2]', "one JSON object"),
    ('{"labels": ["A", "B",]}', "not valid JSON (line 1, column"),
])
def test_bad_files_get_a_clear_message(text, message):
    with pytest.raises(SettingsError) as err:
        Settings.from_json(text)
    assert message in str(err.value)


def test_unreadable_file(tmp_path):
    with pytest.raises(SettingsError, match="could not be read"):
        load_settings(tmp_path / "missing.json")


def test_same_settings_same_tiers(write):
    orders = write("orders.csv", "客户编号,订单日期,实付金额\nc1,2024-01-01,500\nc2,2024-01-02,300\n"
                                 "c3,2024-01-03,150\nc4,2024-01-04,50\n")
    s = Settings.from_json(full_settings().to_json())
    ds = segcore.load_orders(orders, s.mapping, date_order=s.date_order, drop_duplicates=s.drop_duplicates)
    rules = s.tier_rules()
    assert rules == segcore.TierRules(labels=("金钻", "白银", "铜"), cuts=(0.2, 0.5), by="count",
                                      prospect_label="铁", method="pareto",
                                      weights=(("recency", 1.0), ("frequency", 1.0), ("monetary", 2.0)),
                                      score_points=4)
    tiered = segcore.assign_tiers(segcore.customer_metrics(ds.con, as_of=s.as_of, since=s.since), rules)
    # by count: c1 (rank 1 of 4, 0% before it) top; c2 (25% before) second; c3, c4 the rest
    assert [str(t) for t in tiered.sort_values("rank").tier] == ["金钻", "白银", "铜", "铜"]


RULE = {"segment": "Best", "r_min": 4, "r_max": 5, "f_min": 4, "f_max": 5, "m_min": 4, "m_max": 5}


@pytest.mark.parametrize("text, field, message", [
    # the file as a whole: nesting, size, repeated keys, non-numbers, unreadable numbers
    ('{"mapping": ' + "[" * 100_000 + "]" * 100_000 + "}", None, "nests lists or objects more than 8 levels"),
    ('{"labels": ["A", "B"], "padding": "' + " " * 1_100_000 + '"}', None, "too large"),
    ('{"churn_k": 1, "churn_k": 2}', None, "the key 'churn_k' appears twice"),
    ('{"churn_k": NaN}', None, "NaN is not a number a setting can hold"),
    ('{"new_days": 1' + "0" * 5000 + "}", None, "holds a number too long to read"),
    # numbers out of range, never an OverflowError later
    ('{"migration_period": 1e300}', "migration_period",
     "'migration_period' must be 'month' / 'quarter' / 'half-year' / 'year' or a whole number of days from 1 "
     "to 36500; got 1e+300."),
    ('{"migration_window_days": 1e300}', "migration_window_days", "from 1 to 36500"),
    ('{"churn_k": 1e999}', "churn_k", "'churn_k' must be a number above 0, up to 100; got Infinity."),
    ('{"new_days": 1' + "0" * 400 + "}", "new_days", "'new_days' must be a whole number of days from 1 to 36500"),
    ('{"lapse_days": 2.5}', "lapse_days", "whole number of days"),
    ('{"rising_min_trend": -0.1}', "rising_min_trend", "from 0 to 1000"),
    ('{"playbook": [{"level": "A", "cadence_days": 1e300}]}', "playbook", "row 1 cadence_days must be"),
    ('{"score_points": 6}', "score_points", "'score_points' must be 3, 4 or 5; got 6."),
    ('{"score_points": 4.5}', "score_points", "3, 4 or 5"),
    ('{"version": true}', "version", "version must be a whole number"),
    # types and allowed values
    ('{"drop_duplicates": "yes"}', "drop_duplicates", "'drop_duplicates' must be true or false"),
    ('{"date_order": "ymd"}', "date_order", "'date_order' must be 'dmy' or 'mdy' or null"),
    ('{"by": ["value"]}', "by", "'by' must be 'value' or 'count'"),
    ('{"as_of": 20240101}', "as_of", "'as_of' must be \"latest\" or a date"),
    ('{"as_of": "0001-01-01"}', "as_of", "between 1900-01-01 and 2199-12-31"),
    ('{"as_of": "2024-02-30"}', "as_of", "'as_of' must be"),
    ('{"as_of": "2024-01-31", "since": "2024-06-01"}', "since", "'since' (2024-06-01) must not be after 'as_of'"),
    ('{"mapping": {"colour": "Farbe"}}', "mapping", "'mapping' has the unknown key 'colour'; the keys are customer_id"),
    ('{"mapping": {"customer_id": "' + "x" * 501 + '"}}', "mapping", "'mapping' must be an object"),
    ('{"customers_mapping": {"amount": "x"}}', "customers_mapping", "unknown key 'amount'"),
    ('{"interactions_mapping": {"date": 3}}', "interactions_mapping", "must be an object"),
    # level names and cut shares
    ('{"labels": ["A", "A", "B"]}', "labels", "Level labels must be distinct"),
    ('{"labels": ["' + "A" * 41 + '", "B"]}', "labels", "text of 1 to 40 characters"),
    ('{"labels": ["A\\u0000", "B"]}', "labels", "'labels' must be a list of 2 to 5 level names"),
    ('{"labels": ["A", "B", "C", "D", "E", "F"]}', "labels", "2 to 5 level names"),
    ('{"labels": ["A", "B"], "prospect_label": "A"}', "labels", "Level labels must be distinct"),
    ('{"cuts": [0.8, 1.5]}', "cuts", "shares between 0 and 1"),
    ('{"cuts": [true, 0.9]}', "cuts", "shares between 0 and 1"),
    ('{"method": "computed", "labels": ["A", "B", "C", "D"]}', "labels", "three levels"),
    # weights, custom cut points and segment rules: shape and consistency with score_points
    ('{"weights": {"recency": -1}}', "weights", "numbers from 0 to 1000"),
    ('{"weights": {"loyalty": 1}}', "weights", "unknown key 'loyalty'; the keys are recency, frequency, monetary"),
    ('{"weights": {"recency": true}}', "weights", "numbers from 0 to 1000"),
    ('{"custom_cut_points": {"monetary": [100, 50, 20, 10]}}', "custom_cut_points",
     "Custom cut points for monetary must be finite and strictly increasing"),
    ('{"custom_cut_points": {"monetary": [100, 200]}}', "custom_cut_points", "5 scores need 4 cut points; got 2."),
    ('{"score_points": 3, "custom_cut_points": {"frequency": [1, 2, 3]}}', "custom_cut_points",
     "3 scores need 2 cut points"),
    ('{"custom_cut_points": {"monetary": "100,200"}}', "custom_cut_points", "lists of cut points"),
    ('{"custom_cut_points": {"monetary": [1, 2, 3, 1e13]}}', "custom_cut_points", "within +-1e12"),
    ('{"segment_rules": {"segment": "Best"}}', "segment_rules", "a list of up to 100 rule objects"),
    ('{"segment_rules": [{"segment": "Best", "r": [4, 5]}]}', "segment_rules",
     "'segment_rules' rule 1 must be an object with exactly the keys segment, r_min, r_max"),
    ('{"segment_rules": [' + json.dumps(dict(RULE, r_min=0)) + "]}", "segment_rules",
     "'segment_rules' rule 1 r_min must be a whole number from 1 to 5; got 0."),
    ('{"segment_rules": [' + json.dumps(dict(RULE, segment=" ")) + "]}", "segment_rules", "rule 1 segment must be"),
    ('{"segment_rules": [' + json.dumps(dict(RULE, f_min=5, f_max=4)) + "]}", "segment_rules",
     "Segment rule 1 (Best): f_min (5) is above f_max (4)."),
    ('{"score_points": 4, "segment_rules": [' + json.dumps(RULE) + "]}", "segment_rules",
     "Segment rule 1 (Best): r_max must be a whole number from 1 to 4; got 5."),
    ('{"segment_rules": [' + ",".join([json.dumps(RULE)] * 101) + "]}", "segment_rules", "up to 100 rule"),
    ('{"playbook": [{"level": "A", "strategy": ["call"]}]}', "playbook", "row 1 strategy must be text"),
    ('{"playbook": [{"level": "A", "cadence_days": 7}, {"level": "A", "cadence_days": 7}]}', "playbook",
     "two rows for level 'A'"),
    ('{"playbook": [' + ",".join(['{"level": "A"}'] * 21) + "]}", "playbook", "up to 20 playbook rows"),
    ('{"currency_symbol": "pounds sterling"}', "currency_symbol", "at most 8 characters"),
    ('{"currency_symbol": 3}', "currency_symbol", "a currency sign such as ￥ or £"),
    ('{"currency_symbol": "£\\n"}', "currency_symbol", "at most 8 characters"),
    ('{"currency_position": "left"}', "currency_position", "'before' or 'after'"),
])
def test_every_field_is_checked_before_anything_is_used(text, field, message):
    with pytest.raises(SettingsError) as err:
        Settings.from_json(text)
    said = str(err.value)
    assert message in said and err.value.field == field
    assert "\n" not in said and said.endswith(".") and len(said) < 400  # one sentence


def test_a_valid_file_with_every_structure_passes():
    s = Settings.from_json(json.dumps({
        "labels": ["[[[[[[[[[[[[", "{{{{"],   # brackets inside text are not nesting
        "score_points": 4, "custom_cut_points": {"monetary": [10, 20.5, 1e12]},
        "segment_rules": [{**RULE, "r_max": 4, "f_max": 4, "m_max": 4, "segment": " Best "}],
        "migration_period": 45.0, "as_of": "2199-12-31", "since": "1900-01-01"}))
    assert s.labels == ("[[[[[[[[[[[[", "{{{{") and s.migration_period == 45
    assert s.segment_rules == [{"segment": "Best", "r_min": 4, "r_max": 4, "f_min": 4, "f_max": 4,
                                "m_min": 4, "m_max": 4}]
    assert Settings.from_json(s.to_json()) == s


def test_settings_made_in_code_are_checked_too():
    with pytest.raises(SettingsError, match="'churn_k' must be a number above 0"):
        Settings(churn_k=float("nan"))
    with pytest.raises(SettingsError, match="'migration_period'"):
        Settings(migration_period=10**30)


def test_a_huge_file_is_refused_unread(tmp_path):
    path = tmp_path / "big.json"
    path.write_bytes(b"{" + b" " * 5_000_000 + b"}")
    with pytest.raises(SettingsError, match="too large"):
        load_settings(path)


def test_a_playbook_for_other_levels_falls_back_to_the_defaults():
    s = Settings(labels=("Gold", "Rest"), playbook=[{"level": "Gold", "cadence_days": 7},
                                                    {"level": "A", "cadence_days": 3}])
    rows = s.playbook_rows()
    assert [(r["level"], r["cadence_days"]) for r in rows] == [
        ("Gold", 7), ("Rest", default_playbook(("Gold", "Rest"))[1]["cadence_days"]),
        ("Iron", default_playbook(("Gold", "Rest"))[2]["cadence_days"])]


def test_the_currency_goes_into_the_settings_file_and_comes_back():
    s = Settings(currency_symbol=" ￥ ", currency_position="after")
    assert s.currency_symbol == "￥"
    back = Settings.from_json(s.to_json())
    assert (back.currency_symbol, back.currency_position) == ("￥", "after")
    assert Settings().currency_symbol is None   # default: the sign the amounts carried
