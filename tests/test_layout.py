"""The shape of the code, as docs/architecture.md describes it: imports go one way, with no cycle
between packages or modules; `analysis` stands alone; the languages and the settings are listed
once."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from analysis.languages import LANGUAGES
from survey_app.config import SETTINGS

ROOT = Path(__file__).resolve().parent.parent


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for package in ("survey_app", "analysis"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


MODULES = _modules()


def _imports(name: str) -> set[str]:
    """What a module imports when it is imported (module level; not imports inside functions)."""
    path, is_package = MODULES[name]
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


GRAPH = {name: {t for t in _imports(name) if t in MODULES and t != name} for name in MODULES}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target] if target in path else [node, target]
            if not state.get(target):
                found = visit(target, [*path, target])
                if found:
                    return found
        state[node] = 2
        return None

    for node in sorted(graph):
        if not state.get(node):
            found = visit(node, [node])
            if found:
                return found
    return None


def _area(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_no_module_imports_itself_round_a_cycle():
    assert _cycle(GRAPH) is None


def test_no_cycle_between_packages():
    areas: dict[str, set[str]] = {}
    for name, targets in GRAPH.items():
        for target in targets:
            if _area(name) != _area(target):
                areas.setdefault(_area(name), set()).add(_area(target))
    assert _cycle(areas) is None
    # and the direction docs/architecture.md gives: respond may use fieldwork, never the reverse
    assert "survey_app.fieldwork" in areas["survey_app.respond"]
    assert "survey_app.respond" not in areas["survey_app.fieldwork"]


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("analysis")))
def test_analysis_never_imports_the_app_flask_or_the_database(name):
    everything = set()
    tree = ast.parse(MODULES[name][0].read_text(encoding="utf-8"))
    for node in ast.walk(tree):  # inside functions too
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            everything.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            everything.update(alias.name.split(".")[0] for alias in node.names)
    assert not everything & {"survey_app", "flask", "flask_babel", "sqlalchemy", "werkzeug"}


def test_the_languages_are_written_out_nowhere_in_the_code():
    listed = re.compile(r"""[(\[]\s*["']vi["']\s*,\s*["']en["']""")
    offenders = [
        str(path.relative_to(ROOT))
        for path, _is_package in MODULES.values()
        if listed.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    assert LANGUAGES[0] == "vi" and "en" in LANGUAGES


def test_the_readme_lists_every_setting_as_config_defines_it():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| variable | default | meaning |") :].split("\n\n")[0]
    rows = [line for line in table.splitlines()[2:] if line.startswith("|")]
    expected = [f"| `{s.variable}` | {s.default_text} | {s.meaning} |" for s in SETTINGS]
    assert rows == expected


def test_nothing_but_config_reads_the_environment():
    readers = {
        str(path.relative_to(ROOT))
        for name, (path, _is_package) in MODULES.items()
        if name.startswith("survey_app") and "os.environ" in path.read_text(encoding="utf-8")
    }
    # i18n reads PAR_LANG/LANG per command (listed in config.SETTINGS all the same)
    assert readers == {"survey_app/config.py", "survey_app/i18n.py"}


def test_every_csv_and_workbook_is_written_by_analysis_export():
    """One writer, with the spreadsheet-formula guard: no module writes CSV or Excel itself."""
    writing = re.compile(r"\.to_csv\(|csv\.writer\(|DictWriter\(|\.to_excel\(|Workbook\(")
    writers = {
        str(path.relative_to(ROOT))
        for path, _is_package in MODULES.values()
        if writing.search(path.read_text(encoding="utf-8"))
    }
    assert writers == {"analysis/export.py"}


def test_the_app_starts_without_the_statistics_libraries():
    """numpy, pandas, scipy (with scipy.stats), matplotlib and pyreadstat (together over 1.5 s to
    import) load where they are used, so a flask command that needs no statistics does not wait
    for them (docs/benchmarks.md). In a fresh interpreter: other tests have imported them here."""
    import subprocess
    import sys

    probe = (
        "import sys; from survey_app import create_app; "
        "create_app({'DATABASE_URL': 'sqlite://', 'SECRET_KEY': 'x'}); "
        "heavy = ('numpy', 'pandas', 'scipy', 'scipy.stats', 'matplotlib', 'pyreadstat'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.strip()
    assert loaded == "[]"
