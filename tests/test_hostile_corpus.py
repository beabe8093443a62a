"""The hostile-input corpus (``tests/hostile_corpus.py``) through the command line and through the
app's upload path. For every case: no traceback; either exit status 2 with one sentence (the CLI)
or an error message (the app), or the file is read and every row is accounted for (rows read = used
+ rejected); the CLI's outputs (tiers and rejected rows) never let a cell start a formula.

Run alone, it prints the counts the README's "Reliability" section gives
(``python -m pytest tests/test_hostile_corpus.py -s``).
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import traceback
from pathlib import Path

import pytest

from segcore.cli import main
from tests import hostile_corpus
from tests.test_app import SAMPLE, metrics, run, upload
from tests.test_app_workspace import browser

pytestmark = pytest.mark.skipif(not (SAMPLE / "orders.csv").exists(), reason="sample_data/orders.csv not generated yet")

csv.field_size_limit(1 << 26)   # the corpus has a 1 MB cell
FORMULA = re.compile(r"^\s*[=+\-@\t\r]")
SMALL = "order_id,customer_id,order_date,amount\n" + "".join(
    f"O{i},C{i % 9},2024-{1 + i % 12:02d}-{1 + i % 28:02d},{i * 3 % 50 + 1}\n" for i in range(120))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return hostile_corpus.write(tmp_path_factory.mktemp("corpus"))


def number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
        return True
    except ValueError:
        return False


def formula_cells(path: Path) -> list[str]:
    """Cells of a CSV output that a spreadsheet would read as a formula (text starting = + - @)."""
    if not path.exists():
        return []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [cell for row in csv.reader(fh) for cell in row if FORMULA.match(cell) and not number(cell)]


def cli(args: list[str]) -> tuple[int | None, str, str, str | None]:
    """(exit status, stdout, stderr, traceback or None) of the command line run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(args)
        except SystemExit as exc:   # argparse refusing an option
            code = exc.code
        except BaseException:   # noqa: BLE001 - a traceback is what this test looks for
            return None, out.getvalue(), err.getvalue(), traceback.format_exc()
    return code, out.getvalue(), err.getvalue(), None


def count(label: str, text: str) -> int | None:
    found = re.search(rf"^{label}: ([\d,]+)$", text, re.MULTILINE)
    return int(found.group(1).replace(",", "")) if found else None


def check_cli_case(path: Path, tmp: Path, orders: Path | None = None) -> list[str]:
    """What went wrong for one case through ``segcore tier`` (empty: nothing): ``path`` is the
    orders file, or with ``orders`` the settings file (``--config``)."""
    out, rejected = tmp / f"{path.stem}-tiers.csv", tmp / f"{path.stem}-rejected.csv"
    args = ["tier", str(path), "--out", str(out), "--rejected", str(rejected)]
    if orders is not None:
        args = ["tier", str(orders), "--config", str(path), "--out", str(out), "--rejected", str(rejected)]
    code, printed, said, trace = cli(args)
    if trace is not None:
        return [f"traceback: {trace.splitlines()[-1]}"]
    problems = []
    if code == 0:
        read, used, rejects = (count(k, printed) for k in ("Rows read", "Rows used", "Rows rejected"))
        if None in (read, used, rejects) or read != used + rejects:
            problems.append(f"wrong totals: read {read}, used {used}, rejected {rejects}")
        problems += [f"formula cell {c[:40]!r}" for c in formula_cells(out) + formula_cells(rejected)]
    elif code == 2:
        lines = said.strip().splitlines()
        if len(lines) != 1 or not lines[0].startswith("error: ") or "Traceback" in said:
            problems.append(f"not one sentence: {said[:200]!r}")
    else:
        problems.append(f"exit status {code}")
    return problems


def test_every_hostile_file_through_the_command_line(corpus, tmp_path):
    small = tmp_path / "small.csv"
    small.write_text(SMALL)
    failures, tried = {}, 0
    for name, path in corpus.items():
        problems = check_cli_case(path, tmp_path, small if path.name.startswith("settings-") else None)
        tried += 1
        if problems:
            failures[name] = problems
    print(f"\ncommand line: {tried} cases, {sum('traceback' in p[0] for p in failures.values())} tracebacks, "
          f"{sum(any('wrong totals' in x for x in p) for p in failures.values())} wrong totals")
    assert not failures, failures


def test_every_hostile_file_through_the_app(corpus):
    """One browser session uploads every orders file, then every settings file, one after another."""
    at = browser()
    failures, tried = {}, 0
    for name, path in corpus.items():
        if path.name.startswith("settings-"):
            at.file_uploader(key="w_settings_file").set_value((path.name, path.read_bytes(), "application/json"))
        else:
            upload(at, path.name, path.read_bytes())
        at.run()
        tried += 1
        if at.exception:
            failures[name] = [f"exception: {at.exception[0].value}"]
            at = browser()
            continue
        if path.name.startswith("settings-"):
            continue
        if at.error:   # the file cannot be used: one message, the counts are not shown
            if not at.error[0].value.strip():
                failures[name] = ["an empty error"]
            continue
        read, used, rejected = (int(metrics(at, k)[0].replace(",", "")) for k in
                                ("Rows read", "Rows used", "Rows rejected"))
        if read != used + rejected:
            failures[name] = [f"wrong totals: read {read}, used {used}, rejected {rejected}"]
    print(f"\napp: {tried} cases, {sum('exception' in p[0] for p in failures.values())} exceptions, "
          f"{sum('wrong totals' in p[0] for p in failures.values())} wrong totals")
    assert not failures, failures
    run(at)
