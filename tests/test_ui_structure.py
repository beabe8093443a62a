"""The code's layout holds: imports run pages -> ui -> segcore, a page family's helpers serve only
that page, and the locale files hold exactly the texts the code uses, in every language.

Text keys are found in the code itself: the first argument of ``t()`` (and of ``context.page`` /
``context.setup``, which pass it to ``t``) as a literal, a choice of literals, or an f-string such
as ``t(f"src_{v}")``. An f-string key is a family whose values this test names from the same
constants the code takes its choices from (``data.SOURCES`` ...), so a family cannot hide an unused
or a missing text. A key built any other way fails the test, since it cannot be checked.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest
from babel import Locale

import segcore
from segcore import dynamics, views
from segcore.headers import CUSTOMER_FIELDS, INTERACTION_FIELDS
from segcore.ingest import REASONS
from segcore import forecast
from segcore.sources import NOTE_CODES
from ui import churn, data, data_page, i18n, migration, naming, segments, sidebar, state
from ui import forecast as forecast_page
from ui import playbook as playbook_page

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data"
PAGE_FILES = [REPO / "app.py", *sorted((REPO / "pages").glob("*.py"))]
UI_FILES = sorted((REPO / "ui").glob("*.py"))
CODE_FILES = UI_FILES + PAGE_FILES

# Modules of one page family and the page that uses them; every other ui module is shared.
PAGE_MODULES = {"data_page": "app.py", "customers": "2_Customers.py", "segments": "3_Segments.py",
                "migration": "4_Migration.py", "churn": "5_Churn.py", "playbook": "6_Playbook.py",
                "forecast": "7_Forecast.py"}
SHARED_MODULES = {"__init__", "i18n", "fmt", "naming", "state", "data", "context", "sidebar", "charts", "tables",
                  "filters", "settings", "session"}
KEY_FUNCTIONS = {"t", "page", "setup"}  # their first argument is a text key


# --- imports ---------------------------------------------------------------------------------------

def imported(path: Path) -> set[str]:
    """Modules a file imports, as dotted names (``from ui import fmt`` gives ``ui.fmt``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_segcore_never_imports_ui_or_streamlit():
    for path in (REPO / "segcore").rglob("*.py"):
        tops = {name.split(".")[0] for name in imported(path)}
        assert not tops & {"ui", "streamlit", "app", "pages"}, path.name


def test_ui_never_imports_a_page():
    for path in UI_FILES:
        tops = {name.split(".")[0] for name in imported(path)}
        assert not tops & {"app", "pages"}, path.name


def test_every_ui_module_is_shared_or_serves_one_page():
    assert {p.stem for p in UI_FILES} == SHARED_MODULES | set(PAGE_MODULES)
    for path in CODE_FILES:
        used = {name.split(".")[1] for name in imported(path) if name.startswith("ui.")}
        for module in used & set(PAGE_MODULES):
            assert path.name == PAGE_MODULES[module], f"{path.name} uses the helpers of {PAGE_MODULES[module]}"


# --- locale files ----------------------------------------------------------------------------------

def placeholders(text: str) -> set[str]:
    return set(re.findall(r"{(\w+)}", text))


def test_locale_files_have_the_same_keys_and_placeholders():
    files = sorted((REPO / "ui" / "locales").glob("*.toml"))
    assert [f.stem for f in files] == sorted(i18n.LANGS) and {"en", "zh"} <= set(i18n.LANGS)
    tables_ = {f.stem: tomllib.loads(f.read_text(encoding="utf-8")) for f in files}
    reference = tables_["en"]["text"]
    for code, table in tables_.items():
        assert table["meta"]["name"].strip(), code
        assert isinstance(Locale.parse(table["meta"].get("babel", code)), Locale)
        assert table["text"].keys() == reference.keys(), code
        for key, text in table["text"].items():
            assert text.strip(), (code, key)
            assert placeholders(text) == placeholders(reference[key]), (code, key)


# --- the texts the code uses -------------------------------------------------------------------------

def keys_in_code(sources: dict[str, str]) -> tuple[set[str], set[str], list[str]]:
    """(literal keys, key templates like ``src_{}``, keys that cannot be followed) in the sources."""
    literals, templates, problems = set(), set(), []

    def key(arg, where, function):
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            literals.add(arg.value)
        elif isinstance(arg, ast.JoinedStr):
            templates.add("".join(v.value if isinstance(v, ast.Constant) else "{}" for v in arg.values))
        elif isinstance(arg, ast.IfExp):
            key(arg.body, where, function)
            key(arg.orelse, where, function)
        elif not (isinstance(arg, ast.Name) and function is not None and function.name in KEY_FUNCTIONS
                  and arg.id in {a.arg for a in function.args.args}):  # passed on by a key function
            problems.append(f"{where}: {ast.unparse(arg)}")

    def visit(node, where, function=None):
        for child in ast.iter_child_nodes(node):
            inner = child if isinstance(child, ast.FunctionDef) else function
            if isinstance(child, ast.Call) and child.args:
                name = getattr(child.func, "id", getattr(child.func, "attr", None))
                place = f"{where}:{child.lineno}"
                if name in KEY_FUNCTIONS and not (function is not None and function.name == "names_of"):
                    key(child.args[0], place, function)
                elif name == "names_of":
                    prefix = child.args[0]
                    if isinstance(prefix, ast.Constant):
                        templates.add(prefix.value + "_{}")
                    elif function is None or function.name != "names_of":
                        problems.append(f"{place}: {ast.unparse(prefix)}")
            visit(child, where, inner)

    for where, source in sources.items():
        visit(ast.parse(source), where)
    return literals, templates, problems


@pytest.fixture(scope="module")
def shown_columns() -> set[str]:
    """Every column a page shows (translated by ``naming.col_label``) on the sample data."""
    if not (SAMPLE / "orders.csv").exists():
        pytest.skip("sample_data/orders.csv not generated yet")
    ds = segcore.load_orders(SAMPLE / "orders.csv")
    segcore.load_customers(ds, SAMPLE / "customers.csv")
    segcore.load_interactions(ds, SAMPLE / "interactions.csv")
    rules = segcore.TierRules()
    scored, _ = segcore.add_scores(segcore.customer_metrics(ds.con))
    tiered = segcore.assign_tiers(scored, rules)
    one = tiered["customer_id"].iloc[0]
    profile = (views.customer_orders(ds.con.cursor(), one), views.customer_products(ds.con.cursor(), one),
               views.customer_interactions(ds.con.cursor(), one))
    return (set(tiered.columns) | set(segcore.EXPORT_COLUMNS) | {c for table in profile for c in table.columns}
            | set(migration.MIG_LIST_COLUMNS) | set(churn.RISK_COLUMNS) | set(churn.RISING_COLUMNS)
            | set(playbook_page.FOLLOW_COLUMNS) | {"risk", "stage", "rule"}  # the rules tables' columns
            | set(forecast_page.TABLE_COLUMNS) | set(forecast_page.SORTS) | set(forecast_page.FREQUENCY_COLUMNS)
            | set(churn.PALIVE_COLUMNS))


@pytest.fixture(scope="module")
def families(shown_columns) -> dict[str, set]:
    """The values of every key family the code builds, from the constants the code uses."""
    side_fields = {f for fields in data.SIDE_FIELDS.values() for f in fields}
    return {
        "nav_{}": set(sidebar.PAGES), "method_{}": set(state.METHODS), "by_{}": set(state.PARETO_BY),
        "cut_{}": set(state.CUT_KINDS), "cut_help_{}": set(state.CUT_KINDS), "src_{}": set(data.SOURCES),
        "do_{}": set(state.DATE_ORDERS), "err_{}": set(data_page.FILE_PROBLEMS),
        "field_{}": {*segcore.CANONICAL_FIELDS, *CUSTOMER_FIELDS, *INTERACTION_FIELDS},
        "what_{}": set(data.SIDE_FIELDS), "side_mapping_{}": set(data.SIDE_FIELDS), "side_field_{}": side_fields,
        "mv_help_{}": set(dynamics.MOVEMENTS), "period_{}": set(migration.MIG_PERIODS),
        "fu_help_{}": set(naming.FOLLOW_STATUSES), "dl_lang_{}": set(segcore.EXPORT_LANGS),
        "sg_mix_{}": set(segments.MIXES), "sg_scatter_{}": set(segments.SCATTERS),
        "note_{}": set(NOTE_CODES),
        "fc_unit_{}": set(state.FC_UNITS), "fc_horizon_{}": set(state.FC_UNITS), "fc_per_{}": set(state.FC_UNITS),
        "fc_why_{}": set(naming.PREDICT_CODES), "fc_list_{}": set(forecast_page.LISTS),
        "fc_list_help_{}": set(forecast_page.LISTS),
        "fc_ho_corr_{}": {word for _, word in forecast_page.CORRELATION_WORDS},
        "ch_pa_reason_{}": set(forecast.DISAGREEMENT_REASONS),
    }


def test_engine_names_have_the_same_keys_in_every_language_and_name_every_shown_column(shown_columns):
    """Column names, coded values and sheet names live in segcore/locales (the exports and the
    pages use them); every column a page shows and every code the pages show is named there."""
    files = {f.stem: tomllib.loads(f.read_text(encoding="utf-8"))
             for f in sorted((REPO / "segcore" / "locales").glob("*.toml"))}
    assert sorted(files) == sorted(segcore.EXPORT_LANGS)

    def keys(table, prefix=""):
        return {k2 for k, v in table.items()
                for k2 in (keys(v, f"{prefix}{k}.") if isinstance(v, dict) else {prefix + k})}
    for code, table in files.items():
        assert keys(table) == keys(files["en"]), code
        assert all(text.strip() for text in table["columns"].values()), code
    assert shown_columns - set(files["en"]["columns"]) == set()
    values = files["en"]["values"]
    for column, codes in (("reason", {*REASONS, "duplicate customer id"}),  # + the customer list's own reason
                          ("risk", dynamics.RISK_LEVELS), ("stage", dynamics.STAGES),
                          ("movement", dynamics.MOVEMENTS), ("status", naming.FOLLOW_STATUSES)):
        assert set(values[column]) == set(codes), column


def test_the_key_finder_sees_literals_families_and_keys_it_cannot_follow():
    source = ('t("a_key")\nt("b" if x else "c", n=1)\nt(f"src_{v}")\nnames_of("period", periods)\n'
              'def setup(title_key):\n    t(title_key)\n'
              'def other(key):\n    t(key)\n')
    literals, templates, problems = keys_in_code({"x.py": source})
    assert literals == {"a_key", "b", "c"}
    assert templates == {"src_{}", "period_{}"}
    assert problems == ["x.py:8: key"]


def test_the_code_and_the_locale_files_use_the_same_keys(families):
    literals, templates, problems = keys_in_code({str(p.relative_to(REPO)): p.read_text(encoding="utf-8")
                                                  for p in CODE_FILES})
    assert problems == [], "text keys built in a way this test cannot follow"
    assert templates == set(families), "a key family without its values here, or values of no family"
    used = literals | {template.format(value) for template in templates for value in families[template]}
    for code, texts in i18n.TEXTS.items():
        assert sorted(used - texts.keys()) == [], f"used by the code but missing in {code}.toml"
        assert sorted(texts.keys() - used) == [], f"in {code}.toml but used by no code"
