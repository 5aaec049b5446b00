"""One source of truth for the maintenance tasks: the engine's task table.

A new task is its ``Task`` member, its ``TASKS`` entry, its strings and its icons; the Home
Assistant side's Python derives everything else (options, entities, actions, to-do list,
logbook). The files that cannot import the table (services.yaml, the card, the blueprint, the
voice sentences) list the tasks too, and are checked against it.
"""

from __future__ import annotations

import ast
from pathlib import Path
import re

from homeassistant.util.yaml import load_yaml_dict
import yaml

from custom_components.espresso_care.binary_sensor import BINARY_SENSORS
from custom_components.espresso_care.button import BUTTONS
from custom_components.espresso_care.config_flow import OPTIONS_SECTIONS
from custom_components.espresso_care.const import LAST_DONE_OPTIONS, MAINTENANCE_DEFAULTS
from custom_components.espresso_care.engine.maintenance import (
    DAYS_MAX,
    DAYS_MIN,
    DEFAULT_INTERVALS,
    IMPLIED_TASKS,
    SHOTS_MAX,
    SHOTS_MIN,
    TASKS,
    Task,
)
from custom_components.espresso_care.sensor import SENSORS

PACKAGE = Path(__file__).resolve().parent.parent / "custom_components" / "espresso_care"
# Where a task may be named: the engine's table; strings, translations and icons are JSON.
TABLE = PACKAGE / "engine" / "maintenance.py"


def test_every_task_is_in_the_table() -> None:
    """The table has an entry per task, and the engine's own tables are derived from it."""
    assert set(TASKS) == set(Task)
    assert {task: spec.default for task, spec in TASKS.items()} == dict(DEFAULT_INTERVALS)
    assert {task: spec.implies for task, spec in TASKS.items()} == dict(IMPLIED_TASKS)


def test_home_assistant_side_derives_from_the_table() -> None:
    """Options, entities and the options form cover exactly the table's tasks."""
    tasks = {str(task) for task in TASKS}
    assert set(LAST_DONE_OPTIONS) == tasks
    assert {key.rsplit("_every_", 1)[0] for key in MAINTENANCE_DEFAULTS} == tasks
    for task, spec in TASKS.items():
        assert MAINTENANCE_DEFAULTS[f"{task}_every_shots"] == spec.default.shots
        assert MAINTENANCE_DEFAULTS[f"{task}_every_days"] == spec.default.days
    form = {str(key) for key in OPTIONS_SECTIONS["maintenance"].schema}
    assert set(MAINTENANCE_DEFAULTS) | set(LAST_DONE_OPTIONS.values()) <= form
    keys = {d.key for d in (*SENSORS, *BINARY_SENSORS, *BUTTONS)}
    for task in tasks:
        assert {
            f"shots_since_{task}",
            f"{task}_last_done",
            f"{task}_due",
            f"mark_{task}_done",
        } <= keys


def _task_literals(path: Path) -> list[str]:
    """String constants of a module that name a maintenance task (or a key built from one)."""
    names = "|".join(re.escape(str(task)) for task in Task if task is not Task.BACKFLUSH)
    # "backflush" also names the automated backflush program: only its task keys count.
    pattern = re.compile(
        rf"^(?:({names})|(?:shots_since_|mark_)?(?:{names}|backflush)_(?:every_\w+|last_done|due|done))$"
    )
    return [
        node.value
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and pattern.match(node.value)
    ]


def test_no_task_is_named_outside_the_table() -> None:
    """No Home Assistant module spells a task out: adding one needs no Python change there."""
    found = {
        str(path.relative_to(PACKAGE)): literals
        for path in PACKAGE.rglob("*.py")
        if path != TABLE and (literals := _task_literals(path))
    }
    assert found == {}


def test_literal_finder_finds_literals(tmp_path: Path) -> None:
    """The check above can fail."""
    module = tmp_path / "example.py"
    module.write_text('A = "descale"\nB = "clean_every_days"\nC = "backflush_switch"\n')
    assert _task_literals(module) == ["descale", "clean_every_days"]


def test_actions_offer_every_task() -> None:
    """The task field of every maintenance action lists exactly the table's tasks."""
    services = yaml.safe_load((PACKAGE / "services.yaml").read_text(encoding="utf-8"))
    for service in ("mark_done", "snooze"):
        options = services[service]["fields"]["task"]["selector"]["select"]["options"]
        assert options == [str(task) for task in TASKS], service


def test_card_and_blueprint_offer_every_task() -> None:
    """The files that are no Python and list the tasks themselves list exactly the table's.

    The dashboard card (its task list, a label per language, an icon) and the notification
    blueprint (the tasks to pick, their messages and titles) cannot import the table: a new
    task is added to them too, and this fails until it is.
    """
    tasks = [str(task) for task in TASKS]
    card = (PACKAGE / "frontend" / "espresso-care-card.js").read_text(encoding="utf-8")
    listed = re.search(r"^const TASKS = \[(.*)\];$", card, re.MULTILINE)
    assert listed is not None
    assert re.findall(r'"(\w+)"', listed.group(1)) == tasks
    languages = re.findall(r"^  (\w\w): \{$", card, re.MULTILINE)
    assert len(languages) == 6, languages
    for task in tasks:
        assert len(re.findall(rf"^    task_{task}: \"[^\"]+\",$", card, re.MULTILINE)) == len(
            languages
        ), task
    icons = re.search(r"^const TASK_ICONS = \{(.*)\};$", card, re.MULTILINE)
    assert icons is not None
    assert re.findall(r"(\w+): \"mdi:", icons.group(1)) == tasks

    blueprint = load_yaml_dict(PACKAGE / "blueprints" / "maintenance_due.yaml")
    picked = blueprint["blueprint"]["input"]["tasks"]
    assert picked["default"] == tasks
    assert [option["value"] for option in picked["selector"]["select"]["options"]] == tasks
    for texts in ("messages", "titles"):
        assert list(blueprint["variables"][texts]) == tasks, texts


def test_interval_fields_offer_the_engine_bounds() -> None:
    """Each interval field of the options form offers exactly the range the engine accepts."""
    fields = {str(key): value for key, value in OPTIONS_SECTIONS["maintenance"].schema.items()}
    for task in TASKS:
        for unit, low, high in (("shots", SHOTS_MIN, SHOTS_MAX), ("days", DAYS_MIN, DAYS_MAX)):
            config = fields[f"{task}_every_{unit}"].config
            assert (config["min"], config["max"]) == (low, high), (task, unit)
