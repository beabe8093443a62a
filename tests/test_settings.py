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
        segment_rules=[{"segment": "Champions", "r": [4, 5], "f": [4, 5], "m": [4, 5]}],
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
    ('{"new_days": 0}', "'new_days' must be a whole number of days, 1 or more"),
    ('{"forecast_unit": "month"}', "'forecast_unit' must be 'day' or 'week'"),
    ('{"forecast_discount_rate": 1}', "'forecast_discount_rate' must be a rate per period, at least 0 and below 1"),
    ('{"forecast_horizon": 0}', "'forecast_horizon' must be a positive number"),
    ('{"playbook": [{"level": "A", "cadence_days": -1}]}', "cadence of level 'A'"),
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
