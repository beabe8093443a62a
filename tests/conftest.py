"""Shared test helpers: paths and tiny files written on the fly."""

from datetime import date, timedelta
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data"
# The team's shared data folder sits beside the checkout (/work/shared next to /work/main), one
# level further up for a worktree (/work/wt/NAME).
SHARED_DATA = next((base / "shared" / "data" for base in (REPO.parent, REPO.parent.parent)
                    if (base / "shared" / "data").is_dir()), REPO.parent / "shared" / "data")
CDNOW = SHARED_DATA / "cdnow_transactions.csv"
CDNOW_SAMPLE = SHARED_DATA / "cdnow_sample_transactions.csv"
CDNOW_SUMMARY = SHARED_DATA / "cdnow_sample_summary.csv"

needs_cdnow = pytest.mark.skipif(
    not CDNOW.exists(),
    reason=f"real CDNOW data not found at {CDNOW} (it ships with the team's shared folder, not the repo)",
)

needs_cdnow_sample = pytest.mark.skipif(
    not (CDNOW_SAMPLE.exists() and CDNOW_SUMMARY.exists()),
    reason=f"the CDNOW 1/10 sample and its published summary were not found in {SHARED_DATA} "
           "(they ship with the team's shared folder, not the repo)",
)


@pytest.fixture(scope="session", autouse=True)
def private_workspace(tmp_path_factory):
    """The whole run, and any app a module's fixture starts, uses a workspace of its own, never the
    user's (the Data page opens the workspace to list saved settings)."""
    import os

    before = os.environ.get("SEGCORE_WORKSPACE")
    os.environ["SEGCORE_WORKSPACE"] = str(tmp_path_factory.mktemp("workspace") / "workspace.duckdb")
    yield
    if before is None:
        os.environ.pop("SEGCORE_WORKSPACE", None)
    else:
        os.environ["SEGCORE_WORKSPACE"] = before


@pytest.fixture(autouse=True)
def own_workspace(tmp_path, monkeypatch):
    """Each test starts with an empty workspace of its own: nothing one test saves reaches another,
    and two test runs at once never wait on each other's lock."""
    monkeypatch.setenv("SEGCORE_WORKSPACE", str(tmp_path / "workspace.duckdb"))


@pytest.fixture
def write(tmp_path):
    """``write(name, text, encoding="utf-8")`` -> path of a new file in the test's folder."""

    def _write(name: str, text: str, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path

    return _write


def repeat_buyers_file(write, buyers: int, days: int = 120) -> Path:
    """An orders file too thin to predict from: ``buyers`` customers who order on 2024-01-01 and
    again on 2024-01-31, 30 one-time buyers in January, and one of them back ``days`` days after
    2024-01-01."""
    rows = [f"r{i},2024-01-01,10\nr{i},2024-01-31,12" for i in range(buyers)]
    rows += [f"o{i},2024-01-{1 + i % 28:02d},5" for i in range(30)]
    rows.append(f"o0,{date(2024, 1, 1) + timedelta(days=days)},5")
    return write("o.csv", "customer_id,order_date,amount\n" + "\n".join(rows) + "\n")
