"""The bundled sample data: reproducible from its generator and showing what a user would notice."""

import csv
import datetime as dt
import runpy
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"
GENERATOR = SAMPLE_DIR / "make_sample.py"
GENERATED_FILES = ["orders.csv", "customers.csv", "interactions.csv", "README.md"]
ORDER_HEADER = ["Order ID", "Order Date", "Customer ID", "Product", "Category", "Quantity",
                "Unit Price", "Amount", "Region", "City", "Channel"]


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample_data")
    module = runpy.run_path(str(GENERATOR))  # runs as a module, not as __main__
    module["main"](str(out))
    return out


def read_rows(name):
    with open(SAMPLE_DIR / name, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


@pytest.fixture(scope="module")
def orders():
    rows = read_rows("orders.csv")
    assert rows[0] == ORDER_HEADER
    return rows[1:]


@pytest.fixture(scope="module")
def customers():
    rows = read_rows("customers.csv")
    assert rows[0] == ["customer_id", "name", "region", "city", "industry", "channel", "signup_date",
                       "age_band", "gender"]
    return rows[1:]


@pytest.fixture(scope="module")
def interactions():
    rows = read_rows("interactions.csv")
    assert rows[0] == ["customer_id", "date", "type"]
    return rows[1:]


def net_by_customer(orders):
    net = defaultdict(Decimal)
    for r in orders:
        if r[2]:
            net[r[2]] += Decimal(r[7])
    return net


@pytest.mark.parametrize("name", GENERATED_FILES)
def test_committed_files_are_exactly_what_the_generator_writes(regenerated, name):
    committed = SAMPLE_DIR / name
    assert committed.exists(), f"{name} missing: run python sample_data/make_sample.py"
    assert (regenerated / name).read_bytes() == committed.read_bytes(), (
        f"sample_data/{name} differs from the generator output: run python sample_data/make_sample.py")


def test_size_and_shape(orders, customers, interactions):
    assert 25_000 <= len(orders) <= 40_000
    assert (SAMPLE_DIR / "orders.csv").stat().st_size < 4_000_000
    assert all(len(r) == len(ORDER_HEADER) for r in orders)
    assert 8_000 <= len(interactions) <= 15_000
    ids = [r[0] for r in customers]
    assert len(ids) == len(set(ids))
    assert all(len(i) == 6 and i[0] == "C" and i[1:].isdigit() for i in ids)


def test_every_customer_in_orders_is_in_the_customer_master(orders, customers):
    known = {r[0] for r in customers}
    buyers = {r[2] for r in orders if r[2]}
    assert buyers - known == set()
    assert 2_800 <= len(buyers) <= 3_200


def test_there_are_prospects_who_never_bought(orders, customers):
    buyers = {r[2] for r in orders if r[2]}
    prospects = [r for r in customers if r[0] not in buyers]
    assert 300 <= len(prospects) <= 500
    for r in prospects:
        assert "2024-11-01" <= r[6] <= "2026-10-31"


def test_walk_in_rows_have_an_empty_customer_id(orders):
    empty = [r for r in orders if r[2] == ""]
    assert 0.01 <= len(empty) / len(orders) <= 0.02


def test_amount_is_quantity_times_unit_price(orders):
    for r in orders:
        assert Decimal(r[7]) == int(r[5]) * Decimal(r[6]), r
        assert r[6].count(".") == 1 and len(r[6].split(".")[1]) == 2
        assert r[7].count(".") == 1 and len(r[7].split(".")[1]) == 2


def test_returns_are_negative_and_follow_an_earlier_purchase(orders):
    returns = [r for r in orders if Decimal(r[7]) < 0]
    assert 0.02 <= len(returns) / len(orders) <= 0.04
    assert all(int(r[5]) < 0 for r in returns)
    assert sum(r[0].startswith("RT") for r in returns) > len(returns) / 2
    purchases = defaultdict(list)
    for r in orders:
        if int(r[5]) > 0:
            purchases[(r[2], r[3])].append(r[1])
    for r in returns:
        assert r[2], r
        assert any(d < r[1] for d in purchases[(r[2], r[3])]), r


def test_a_customer_whose_only_order_was_fully_returned(orders):
    net = net_by_customer(orders)
    zero = [c for c, v in net.items() if v <= 0]
    assert zero
    for c in zero:
        sales_orders = {r[0] for r in orders if r[2] == c and int(r[5]) > 0}
        assert len(sales_orders) == 1


def test_exact_duplicate_lines(orders):
    counts = Counter(tuple(r) for r in orders)
    extra = sum(n - 1 for n in counts.values())
    assert extra == 20


def test_date_range(orders, interactions):
    dates = [dt.date.fromisoformat(r[1]) for r in orders]
    assert min(dates) == dt.date(2024, 11, 1)
    assert max(dates) == dt.date(2026, 10, 31)
    idates = [dt.date.fromisoformat(r[1]) for r in interactions]
    assert dt.date(2024, 11, 1) <= min(idates) and max(idates) <= dt.date(2026, 10, 31)
    assert {r[2] for r in interactions} == {"message", "call", "visit", "campaign click"}


def test_an_order_id_belongs_to_one_customer_and_one_date(orders):
    seen = {}
    for r in orders:
        assert seen.setdefault(r[0], (r[1], r[2])) == (r[1], r[2]), r


def test_region_and_city_are_constant_per_customer(orders, customers):
    home = {r[0]: (r[2], r[3]) for r in customers}
    for r in orders:
        if r[2]:
            assert (r[8], r[9]) == home[r[2]], r


def test_top_fifth_of_customers_hold_most_of_the_revenue(orders):
    net = net_by_customer(orders)
    ranked = sorted(net.values(), reverse=True)
    top = ranked[: (len(ranked) + 4) // 5]
    share = sum(top) / sum(ranked)
    assert Decimal("0.60") <= share <= Decimal("0.90")


def test_lifecycle_mix(orders):
    first, last, orders_of = {}, {}, defaultdict(set)
    for r in orders:
        c = r[2]
        if not c:
            continue
        first[c] = min(first.get(c, r[1]), r[1])
        last[c] = max(last.get(c, r[1]), r[1])
        if int(r[5]) > 0:
            orders_of[c].add(r[0])
    one_time = sum(1 for c in first if len(orders_of[c]) == 1)
    assert 0.35 <= one_time / len(first) <= 0.55
    churned = [c for c in first if first[c] < "2025-11-01" and last[c] < "2026-05-01" and len(orders_of[c]) > 1]
    new = [c for c in first if first[c] >= "2026-05-01"]
    assert len(churned) >= 100
    assert len(new) >= 100
