"""Shared test helpers: paths and tiny files written on the fly."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data"
CDNOW = REPO.parent / "shared" / "data" / "cdnow_transactions.csv"

needs_cdnow = pytest.mark.skipif(
    not CDNOW.exists(),
    reason=f"real CDNOW data not found at {CDNOW} (it ships with the team's shared folder, not the repo)",
)


@pytest.fixture(autouse=True)
def own_workspace(tmp_path, monkeypatch):
    """No test opens the user's workspace file (the Data page opens it to list saved settings):
    two test runs at once would otherwise wait on each other's lock and fail."""
    monkeypatch.setenv("SEGCORE_WORKSPACE", str(tmp_path / "workspace.duckdb"))


@pytest.fixture
def write(tmp_path):
    """``write(name, text, encoding="utf-8")`` -> path of a new file in the test's folder."""

    def _write(name: str, text: str, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path

    return _write
