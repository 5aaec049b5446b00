"""Corrupt storage: every damaged file is repaired (logged) or refused (repair issue), never reset.

Each case is a store file as the adversarial run wrote it. Repairable ones
load with a logged warning and count the next shot on top of the stored total; unrepairable
ones fail set-up with a translated reason and a repair issue, and the file is left untouched.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.helpers import issue_registry as ir
import pytest

from custom_components.espresso_care.const import DOMAIN
from custom_components.espresso_care.store import (
    StoredDataCorruptError,
    storage_key,
    validate_stored,
)

from .common import pull_shot, stored_data
from .conftest import ENTRY_ID

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

TOTAL = "sensor.espresso_machine_total_shots"
TODAY = "sensor.espresso_machine_shots_today"
LAST = "sensor.espresso_machine_last_shot_duration"
SINCE_BACKFLUSH = "sensor.espresso_machine_shots_since_backflush"
BACKFLUSH_DONE = "sensor.espresso_machine_backflush_last_done"
KEY = storage_key(ENTRY_ID)
ISSUE_ID = f"{ENTRY_ID}_storage_corrupt"

GOOD: dict[str, Any] = {
    "total_shots": 41,
    "shots_today": 3,
    "today": "2026-05-04",
    "last_shot": {
        "start": "2026-05-04T07:30:00+00:00",
        "end": "2026-05-04T07:30:27+00:00",
        "duration": 27.0,
    },
    "recent_durations": [25.0, 27.0],
    "maintenance": {
        "schedule": {
            "version": 1,
            "tasks": {
                "backflush": {"last_done": "2026-05-01T08:00:00+00:00", "shots_since": 7},
                "clean": {"last_done": "2026-04-20T08:00:00+00:00", "shots_since": 30},
                "descale": {"last_done": "2026-03-01T08:00:00+00:00", "shots_since": 41},
            },
        },
        "drift": {"baseline": [25.0, 27.0], "recent": []},
        "notified_due": [],
        "applied_last_done": {},
    },
}


def _with(path: str, value: object) -> dict[str, Any]:
    """GOOD with the value at a dotted path replaced (``...`` deletes the key)."""
    data = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[part]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return data


# (data, what the repaired data holds at a dotted path)
REPAIRABLE: dict[str, tuple[Any, str, Any]] = {
    "total_shots string": (_with("total_shots", "41"), "total_shots", 41),
    "total_shots float": (_with("total_shots", 41.0), "total_shots", 41),
    "shots_today float": (_with("shots_today", 3.0), "shots_today", 3),
    "last_shot a string": (_with("last_shot", "yesterday"), "last_shot", None),
    "last_shot a list": (_with("last_shot", [1, 2]), "last_shot", None),
    "last_shot bad start": (_with("last_shot.start", 5), "last_shot", None),
    "last_shot bool duration": (_with("last_shot.duration", True), "last_shot", None),
    "recent_durations a string": (_with("recent_durations", "25,27"), "recent_durations", []),
    "recent_durations an int": (_with("recent_durations", 25), "recent_durations", []),
    "recent_durations a dict": (_with("recent_durations", {"a": 1}), "recent_durations", []),
    "recent_durations null": (_with("recent_durations", None), "recent_durations", []),
    "recent_durations null items": (
        _with("recent_durations", [25.0, None, "x", float("nan"), True, 27.0]),
        "recent_durations",
        [25.0, 27.0],
    ),
    "today garbage": (_with("today", "someday"), "today", None),
    "today a number": (_with("today", 20260504), "today", None),
    "notified_due holding a list": (
        _with("maintenance.notified_due", [["backflush"], "clean"]),
        "maintenance.notified_due",
        ["clean"],
    ),
    "notified_due a string": (
        _with("maintenance.notified_due", "clean"),
        "maintenance.notified_due",
        [],
    ),
    "drift a list": (
        _with("maintenance.drift", [1, 2]),
        "maintenance.drift",
        {"baseline": [], "recent": []},
    ),
    "shots_since float": (
        _with("maintenance.schedule.tasks.clean.shots_since", 30.0),
        "maintenance.schedule.tasks.clean.shots_since",
        30,
    ),
    "backflush_run a string": (
        _with("backflush_run", "running"),
        "backflush_run",
        {"off_pending": True},
    ),
    "backflush_run bad state": (
        _with("backflush_run", {"state": 3, "off_pending": False}),
        "backflush_run",
        {"off_pending": True},
    ),
    "backflush_run off_pending null": (
        _with("backflush_run", {"state": "aborted", "off_pending": None}),
        "backflush_run",
        {"state": "aborted", "off_pending": True},
    ),
}

UNREPAIRABLE: dict[str, tuple[Any, str]] = {
    "data a list": ([GOOD], "data"),
    "data a string": ("41 shots", "data"),
    "data a number": (41, "data"),
    "total_shots null": (_with("total_shots", None), "total_shots"),
    "total_shots missing": (_with("total_shots", ...), "total_shots"),
    "total_shots negative": (_with("total_shots", -5), "total_shots"),
    "total_shots true": (_with("total_shots", True), "total_shots"),
    "total_shots 2**64-1": (_with("total_shots", 2**64 - 1), "total_shots"),
    "total_shots fraction": (_with("total_shots", 41.5), "total_shots"),
    "total_shots words": (_with("total_shots", "forty-one"), "total_shots"),
    "total_shots a dict": (_with("total_shots", {"n": 41}), "total_shots"),
    "shots_today null": (_with("shots_today", None), "shots_today"),
    "shots_today above total": (_with("shots_today", 42), "shots_today"),
    "maintenance a list": (_with("maintenance", []), "maintenance"),
    "maintenance a string": (_with("maintenance", "done"), "maintenance"),
    "maintenance null": (_with("maintenance", None), "maintenance"),
    "schedule missing": (_with("maintenance.schedule", ...), "maintenance.schedule"),
    "tasks a list": (_with("maintenance.schedule.tasks", []), "maintenance.schedule"),
    "task a string": (
        _with("maintenance.schedule.tasks.clean", "done"),
        "maintenance.schedule.tasks.clean",
    ),
    "last_done garbage": (
        _with("maintenance.schedule.tasks.descale.last_done", "March"),
        "maintenance.schedule.tasks.descale.last_done",
    ),
    "shots_since null": (
        _with("maintenance.schedule.tasks.backflush.shots_since", None),
        "maintenance.schedule.tasks.backflush.shots_since",
    ),
    "shots_since negative": (
        _with("maintenance.schedule.tasks.backflush.shots_since", -1),
        "maintenance.schedule.tasks.backflush.shots_since",
    ),
    "applied_last_done a list": (
        _with("maintenance.applied_last_done", ["clean"]),
        "maintenance.applied_last_done",
    ),
}


def _at(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data[part]
    return data


@pytest.mark.parametrize(("data", "path", "expected"), REPAIRABLE.values(), ids=REPAIRABLE)
def test_validate_repairs(data: Any, path: str, expected: Any) -> None:
    """A repairable value is repaired, the repair named; everything else is kept."""
    stored, repairs = validate_stored(data)
    assert _at(stored, path) == expected
    assert len(repairs) == 1
    assert repairs[0].startswith(path)
    assert stored["total_shots"] == 41


@pytest.mark.parametrize(("data", "field"), UNREPAIRABLE.values(), ids=UNREPAIRABLE)
def test_validate_refuses(data: Any, field: str) -> None:
    """An unrepairable value raises, naming the field."""
    with pytest.raises(StoredDataCorruptError) as err:
        validate_stored(data)
    assert err.value.field == field


def test_validate_good_and_older_data() -> None:
    """Good data passes unchanged; older data without the newer sections is filled in."""
    assert validate_stored(GOOD) == (GOOD, [])
    assert validate_stored({"total_shots": 12, "future_key": True}) == (
        {
            "total_shots": 12,
            "shots_today": 0,
            "today": None,
            "last_shot": None,
            "recent_durations": [],
            "future_key": True,
        },
        [],
    )
    # A file holding only a pending switch-off (no counters yet) is a new machine's.
    stored, repairs = validate_stored({"backflush_run": {"off_pending": True}})
    assert (stored["total_shots"], repairs) == (0, [])


def test_validate_task_written_before_it_existed() -> None:
    """A task missing from the schedule (an older release) starts as done now, logged."""
    stored, repairs = validate_stored(_with("maintenance.schedule.tasks.descale", ...))
    assert "descale" not in stored["maintenance"]["schedule"]["tasks"]
    assert stored["maintenance"]["schedule"]["tasks"]["clean"]["shots_since"] == 30
    assert repairs == ["maintenance.schedule.tasks.descale: None -> 'done now'"]


@pytest.mark.freeze_time("2026-05-04 08:00:00+00:00")
@pytest.mark.parametrize(("data", "path", "expected"), REPAIRABLE.values(), ids=REPAIRABLE)
@pytest.mark.usefixtures("power_sensor")
async def test_repaired_data_loads_and_counts(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    data: Any,
    path: str,
    expected: Any,
) -> None:
    """Repaired data sets up with a warning; the next shot counts on top of the stored total."""
    await hass.config.async_set_time_zone("UTC")
    hass_storage[KEY] = stored_data(data)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    assert "Repaired the stored data" in caplog.text
    assert path in caplog.text
    assert hass.states.get(TOTAL).state == "41"
    # The maintenance dates were kept, not reset to now.
    assert hass.states.get(BACKFLUSH_DONE).state == "2026-05-01T08:00:00+00:00"
    await pull_shot(hass, freezer)
    assert hass.states.get(TOTAL).state == "42"
    assert hass_storage[KEY]["data"]["total_shots"] == 42
    assert hass.states.get(SINCE_BACKFLUSH).state == "8"
    assert not ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_ID)


@pytest.mark.parametrize(("data", "field"), UNREPAIRABLE.values(), ids=UNREPAIRABLE)
@pytest.mark.usefixtures("power_sensor")
async def test_unrepairable_data_fails_setup(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    data: Any,
    field: str,
) -> None:
    """Unrepairable data: set-up fails with a translated reason and a repair issue; kept as is."""
    hass_storage[KEY] = stored_data(data)
    before = copy.deepcopy(hass_storage[KEY])
    config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert config_entry.error_reason_translation_key == "storage_corrupt"
    assert config_entry.error_reason_translation_placeholders["field"] == field
    issue = ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_ID)
    assert issue is not None
    assert issue.translation_key == "storage_corrupt"
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders["field"] == field
    assert issue.translation_placeholders["path"].endswith(f".storage/{KEY}")
    assert hass_storage[KEY] == before  # never overwritten
    assert hass.states.get(TOTAL) is None


@pytest.mark.usefixtures("power_sensor")
async def test_corrected_data_clears_the_issue(
    hass: HomeAssistant, config_entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Once the file is corrected, a reload sets the machine up and clears the issue."""
    hass_storage[KEY] = stored_data(_with("total_shots", None))
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_ID)
    hass_storage[KEY] = stored_data(GOOD)
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    assert hass.states.get(TOTAL).state == "41"
    assert not ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_ID)


@pytest.mark.usefixtures("power_sensor")
async def test_corrupt_older_version_fails_setup(
    hass: HomeAssistant, config_entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Data of an older version goes through the same validation after its migration."""
    hass_storage[KEY] = {**stored_data(["not", "an", "object"]), "minor_version": 0}
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert config_entry.error_reason_translation_placeholders["field"] == "data"
