"""The Home Assistant side's module structure: no import cycles, a leaf validation module."""

from __future__ import annotations

import ast
from pathlib import Path
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

PACKAGE = Path(__file__).resolve().parent.parent / "custom_components" / "espresso_care"
PACKAGE_NAME = "custom_components.espresso_care"


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE).with_suffix("")
    parts = [part for part in relative.parts if part != "__init__"]
    return ".".join([PACKAGE_NAME, *parts])


def _imports(path: Path) -> set[str]:
    """Modules of the package that ``path`` imports, TYPE_CHECKING blocks included."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if not target.startswith(PACKAGE_NAME):
                continue
            found.add(target)
            # ``from . import x`` imports the module x.
            found.update(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith(PACKAGE_NAME))
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: _imports(path) & modules.keys() - {name} for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one import cycle, or None."""
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> list[str] | None:
        if name in visiting:
            return [*visiting[visiting.index(name) :], name]
        if name in done:
            return None
        visiting.append(name)
        for target in sorted(graph[name]):
            if cycle := visit(target):
                return cycle
        visiting.pop()
        done.add(name)
        return None

    for name in sorted(graph):
        if cycle := visit(name):
            return cycle
    return None


def test_no_import_cycle() -> None:
    """No module imports one that imports it back, not even under TYPE_CHECKING."""
    graph = _graph()
    # The package itself imports its parts: the parts must not import the package back.
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_cycle_finder_finds_cycles() -> None:
    """The check above can fail."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_validation_is_a_leaf() -> None:
    """The flows' shared checks import nothing of ours but const and the engine."""
    allowed = {f"{PACKAGE_NAME}.const", f"{PACKAGE_NAME}.engine"}
    imported = _graph()[f"{PACKAGE_NAME}.validation"]
    assert all(
        name in allowed or name.startswith(f"{PACKAGE_NAME}.engine.") for name in imported
    ), imported


def test_parts_do_not_know_each_other() -> None:
    """The parts of the runtime data talk through callbacks, never by importing each other."""
    parts = {
        f"{PACKAGE_NAME}.{name}"
        for name in ("shot_counter", "maintenance_tracker", "backflush_runner")
    }
    graph = _graph()
    for part in parts:
        assert not graph[part] & (parts | {f"{PACKAGE_NAME}.data", PACKAGE_NAME}), part


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every module ``start`` imports, directly or through others."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def test_flows_are_off_the_runtime_import_path() -> None:
    """Setting a machine up imports no flow: the repairs share the checks of validation.py."""
    graph = _graph()
    runtime = _reachable(graph, PACKAGE_NAME)
    assert f"{PACKAGE_NAME}.validation" in runtime
    assert not {f"{PACKAGE_NAME}.config_flow", f"{PACKAGE_NAME}.options_history"} & runtime
    # The check can fail: a repairs module importing the config flow would be found.
    graph[f"{PACKAGE_NAME}.repairs"] = {
        *graph[f"{PACKAGE_NAME}.repairs"],
        f"{PACKAGE_NAME}.config_flow",
    }
    assert f"{PACKAGE_NAME}.config_flow" in _reachable(graph, PACKAGE_NAME)


# A planning note: an issue tag ("issue 11", "issue #4") or a pointer to work still to come.
_PLANNING_NOTES = (
    re.compile(r"\bissues?\s+#?\d+|\blater features?\b", re.IGNORECASE),
    re.compile(r"#.*\b(?:TODO|FIXME|XXX)\b"),
)
_ROOT = PACKAGE.parent.parent


def _planning_notes(paths: Iterable[Path]) -> list[str]:
    """``path:line: text`` of every line of ``paths`` that holds a planning note."""
    return [
        f"{path}:{number}: {line.strip()}"
        for path in paths
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(note.search(line) for note in _PLANNING_NOTES)
    ]


def test_no_planning_notes_in_the_code() -> None:
    """Comments and docstrings say what the code does and why, not which issue asked for it.

    Python, the card, the shell scripts and the YAML files (blueprint, sentences, services).
    """
    paths = [
        path
        for folder in ("custom_components", "tests", "scripts", "demo")
        for path in (_ROOT / folder).rglob("*")
        if path.suffix in {".py", ".js", ".sh", ".yaml"}
        and path != Path(__file__).resolve()  # this file spells the notes out
    ]
    assert _planning_notes(paths) == []


def test_planning_note_finder_finds_notes(tmp_path: Path) -> None:
    """The check above can fail."""
    module = tmp_path / "example.py"
    module.write_text(
        '"""Voice (issue 11)."""\n# Where later features hook in\nX = 1  # the issue registry\n'
        "# the to-do list (SOURCE_TODO)\n# TODO: remove\n",
        encoding="utf-8",
    )
    assert [note.split(": ", 1)[0] for note in _planning_notes([module])] == [
        f"{module}:{line}" for line in (1, 2, 5)
    ]
