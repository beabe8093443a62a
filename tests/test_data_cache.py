"""The app's dataset cache (ui.data.DatasetCache): sized in bytes, least recently used out first,
evicted datasets closed; small datasets made here."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
import pytest

import segcore
from ui.data import DatasetCache, cache_limit


def small(n: int) -> segcore.Dataset:
    """A dataset of ``n`` one-order customers."""
    lines = "".join(f"K{i},2024-01-{1 + i % 28:02d},{i + 1}\n" for i in range(n))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orders.csv"
        path.write_text("customer_id,order_date,amount\n" + lines)
        return segcore.load_orders(path)


def test_least_recently_used_datasets_are_closed_once_past_the_limit():
    loads = []

    def loader(key, n=200):
        def load():
            loads.append(key)
            return small(n)
        return load

    one = small(200).memory_bytes()
    assert one > 0
    cache = DatasetCache(limit=int(2.5 * one), grace=0)
    a = cache.get("a", loader("a"))
    b = cache.get("b", loader("b"))
    assert cache.get("a", loader("a")) is a   # a hit: not loaded again, and now the most recent
    c = cache.get("c", loader("c"))   # three do not fit: b, the least recently used, goes
    assert cache.keys() == ["a", "c"] and loads == ["a", "b", "c"]
    assert cache.total() <= cache.limit
    with pytest.raises(duckdb.ConnectionException):
        b.con.execute("SELECT 1")   # closed: its memory is released
    assert a.con.execute("SELECT count(*) FROM lines").fetchone()[0] == 200
    assert c.con.execute("SELECT count(*) FROM lines").fetchone()[0] == 200
    cache.get("b", loader("b"))   # used again: read again
    assert loads == ["a", "b", "c", "b"] and cache.keys() == ["c", "b"]


def test_the_newest_and_the_recently_used_stay_even_past_the_limit():
    cache = DatasetCache(limit=1, grace=0)
    cache.get("a", lambda: small(50))
    big = cache.get("b", lambda: small(100))
    assert cache.keys() == ["b"] and big.con.execute("SELECT 1").fetchone() == (1,)
    patient = DatasetCache(limit=1, grace=3600)   # another session may be drawing from "a"
    patient.get("a", lambda: small(50))
    patient.get("b", lambda: small(50))
    assert patient.keys() == ["a", "b"]


def test_a_failing_load_is_not_kept():
    cache = DatasetCache(limit=1 << 30)

    def fail():
        raise segcore.IngestError("empty", "The file x.csv is empty.")

    with pytest.raises(segcore.IngestError):
        cache.get("x", fail)
    assert cache.keys() == [] and cache.get("x", lambda: small(5)).report.rows_used == 5


def test_the_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("SEGCORE_CACHE_MB", "64")
    assert cache_limit() == 64 * 2**20
    monkeypatch.setenv("SEGCORE_CACHE_MB", "lots")
    assert cache_limit() == 1024 * 2**20
    monkeypatch.delenv("SEGCORE_CACHE_MB")
    assert cache_limit() == 1024 * 2**20
