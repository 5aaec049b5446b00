"""Maintenance schedule in Home Assistant: rules, entities, events, action, persistence."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import Event, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import selector
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.espresso_care.const import (
    CONF_MARK_DETECTED_BACKFLUSH,
    CONF_SHOT_TIME_DRIFT_PERCENT,
    DOMAIN,
    EVENT_BACKFLUSH_DETECTED,
    EVENT_MAINTENANCE_DONE,
    EVENT_MAINTENANCE_DUE,
)
from custom_components.espresso_care.engine.maintenance import Task
from custom_components.espresso_care.maintenance_tracker import drift_threshold
from custom_components.espresso_care.store import storage_key
from custom_components.espresso_care.validation import parse_last_done

from .common import (
    PUMP_WATTS,
    SHORT_RULES,
    STANDBY_WATTS,
    open_options_settings,
    options_form,
    pass_time,
    pull_shot,
    set_power,
    stored_data,
    suggested_values,
)
from .conftest import ENTRY_ID, PLUG_SWITCH

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

KEY = storage_key(ENTRY_ID)
TOTAL = "sensor.espresso_machine_total_shots"
T0 = "2026-05-04 08:00:00+00:00"
PREFIX = "espresso_machine"


def shots_since(task: str) -> str:
    return f"sensor.{PREFIX}_shots_since_{task}"


def last_done(task: str) -> str:
    return f"sensor.{PREFIX}_{task}_last_done"


def due(task: str) -> str:
    return f"binary_sensor.{PREFIX}_{task}_due"


DRIFT = f"binary_sensor.{PREFIX}_shot_time_drift"


def capture(hass: HomeAssistant, *event_types: str) -> list[Event]:
    """Collect the events of the given types."""
    events: list[Event] = []

    @callback
    def listener(event: Event) -> None:
        events.append(event)

    for event_type in event_types:
        hass.bus.async_listen(event_type, listener)
    return events


def summary(events: list[Event]) -> list[tuple[str, ...]]:
    """Short form of maintenance events: (type suffix, task[, source])."""
    return [
        (
            event.event_type.removeprefix("espresso_care_maintenance_"),
            event.data["task"],
            *((event.data["source"],) if "source" in event.data else ()),
        )
        for event in events
    ]


async def setup(hass: HomeAssistant, entry: MockConfigEntry, **options: Any) -> None:
    entry.add_to_hass(hass)
    if options:
        hass.config_entries.async_update_entry(entry, options={**entry.options, **options})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
def options(options: dict[str, Any]) -> dict[str, Any]:
    """Short shot rules so tests pull few shots."""
    return {
        **options,
        **SHORT_RULES,
    }


# --- a new installation --------------------------------------------------------------------


@pytest.mark.freeze_time(T0)
async def test_new_installation_starts_done_now(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Every task counts as done at set-up; the moment is saved at once."""
    for task in Task:
        assert hass.states.get(due(task)).state == STATE_OFF
        assert hass.states.get(shots_since(task)).state == "0"
        assert hass.states.get(last_done(task)).state == "2026-05-04T08:00:00+00:00"
    attributes = hass.states.get(shots_since("backflush")).attributes
    assert attributes["shots_remaining"] == 3
    assert attributes["days_remaining"] == 7.0
    assert attributes["due_at"] == "2026-05-11T01:00:00-07:00"  # the test home's zone
    assert attributes["last_reset"] == "2026-05-04T01:00:00-07:00"
    descale = hass.states.get(shots_since("descale")).attributes
    assert descale["shots_remaining"] is None
    assert hass.states.get(DRIFT).state == STATE_OFF
    assert hass.states.get(DRIFT).attributes["baseline_duration"] is None

    stored = hass_storage[KEY]["data"]["maintenance"]
    assert stored["schedule"]["tasks"]["clean"] == {
        "last_done": "2026-05-04T01:00:00-07:00",
        "shots_since": 0,
    }
    assert stored["notified_due"] == []


# --- rules -----------------------------------------------------------------------------------


@pytest.mark.freeze_time(T0)
async def test_shots_rule(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> None:
    """A task is due after its number of shots; the due event fires once, on the edge."""
    events = capture(hass, EVENT_MAINTENANCE_DUE)
    await pull_shot(hass, freezer)
    await pull_shot(hass, freezer)
    assert hass.states.get(shots_since("backflush")).state == "2"
    assert hass.states.get(shots_since("backflush")).attributes["shots_remaining"] == 1
    assert hass.states.get(due("backflush")).state == STATE_OFF

    await pull_shot(hass, freezer)
    assert hass.states.get(due("backflush")).state == STATE_ON
    assert hass.states.get(shots_since("backflush")).attributes["shots_remaining"] == 0
    assert hass.states.get(due("clean")).state == STATE_OFF
    assert [event.data for event in events] == [
        {"config_entry_id": ENTRY_ID, "name": "Espresso machine", "task": "backflush"}
    ]

    # Not fired again while it stays due (shots, minute checks).
    await pull_shot(hass, freezer)
    freezer.tick(timedelta(minutes=5))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(events) == 1
    await pull_shot(hass, freezer)
    assert hass.states.get(due("clean")).state == STATE_ON
    assert summary(events) == [("due", "backflush"), ("due", "clean")]


@pytest.mark.freeze_time(T0)
async def test_days_rule(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> None:
    """A task is due at the same local time its number of days later, on the dot."""
    events = capture(hass, EVENT_MAINTENANCE_DUE)
    freezer.tick(timedelta(days=7) - timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(due("backflush")).state == STATE_OFF
    assert hass.states.get(shots_since("backflush")).attributes["days_remaining"] == 0.0

    freezer.tick(timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(due("backflush")).state == STATE_ON
    assert summary(events) == [("due", "backflush")]

    freezer.tick(timedelta(days=23))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert summary(events) == [("due", "backflush"), ("due", "clean")]
    assert hass.states.get(due("descale")).state == STATE_OFF


@pytest.mark.freeze_time(T0)
async def test_days_rule_checked_every_minute(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> None:
    """Besides the precise timer the rules are checked every minute (days remaining too)."""
    runtime = init_integration.runtime_data
    assert runtime.maintenance.as_diagnostics()["next_change"] == "2026-05-11T01:00:00-07:00"
    freezer.tick(timedelta(days=1, seconds=30))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(shots_since("backflush")).attributes["days_remaining"] == 6.0
    freezer.tick(timedelta(hours=12))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(shots_since("backflush")).attributes["days_remaining"] == 5.5


@pytest.mark.freeze_time(T0)
async def test_minute_check_only_when_time_changed_something(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> None:
    """The minute check re-evaluates only once a shown days remaining (0.1 day) can change."""
    maintenance = init_integration.runtime_data.maintenance
    schedule = maintenance.schedule
    with patch.object(schedule, "status", wraps=schedule.status) as status:
        for _ in range(5):
            freezer.tick(timedelta(minutes=1))
            async_fire_time_changed(hass)
            await hass.async_block_till_done()
        assert status.call_count == 0
        # 7.0 days remaining are shown as 6.9 after 0.05 day (72 min)
        freezer.tick(timedelta(minutes=68))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        assert status.call_count == 3
        assert hass.states.get(shots_since("backflush")).attributes["days_remaining"] == 6.9
        # a clock set back re-evaluates at the next minute check
        maintenance._async_timer(dt_util.utcnow() - timedelta(hours=2))
        assert status.call_count == 6


@pytest.mark.freeze_time(T0)
async def test_both_rules_and_disabled(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    power_sensor: str,
) -> None:
    """Either enabled rule makes a task due; a task with both rules at 0 never is."""
    rules = {
        "backflush_every_shots": 2,
        "backflush_every_days": 3,
        "clean_every_shots": 0,
        "clean_every_days": 0,
        "descale_every_shots": 0,
        "descale_every_days": 0,
    }
    await setup(hass, config_entry, **rules)
    runtime = config_entry.runtime_data

    # Days first.
    freezer.tick(timedelta(days=3))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(due("backflush")).state == STATE_ON
    await runtime.maintenance.async_mark_done(Task.BACKFLUSH, source="action")
    assert hass.states.get(due("backflush")).state == STATE_OFF

    # Then shots.
    await pull_shot(hass, freezer)
    await pull_shot(hass, freezer)
    assert hass.states.get(due("backflush")).state == STATE_ON

    # Disabled: never due, whatever happens.
    for _ in range(3):
        await pull_shot(hass, freezer)
    freezer.tick(timedelta(days=729))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    for task in ("clean", "descale"):
        assert hass.states.get(due(task)).state == STATE_OFF
        assert hass.states.get(shots_since(task)).state == "5"
        assert hass.states.get(shots_since(task)).attributes == {
            **hass.states.get(shots_since(task)).attributes,
            "shots_remaining": None,
            "days_remaining": None,
            "due_at": None,
        }
    assert runtime.maintenance.as_diagnostics()["next_change"] is None


@pytest.mark.freeze_time(T0)
async def test_clean_implies_backflush(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> None:
    """A detergent clean also counts as a backflush (two done events)."""
    events = capture(hass, EVENT_MAINTENANCE_DONE, EVENT_MAINTENANCE_DUE)
    for _ in range(5):
        await pull_shot(hass, freezer)
    assert hass.states.get(due("backflush")).state == STATE_ON
    assert hass.states.get(due("clean")).state == STATE_ON
    freezer.tick(60)
    await hass.services.async_call(
        "button", "press", {"entity_id": f"button.{PREFIX}_mark_clean_done"}, blocking=True
    )
    assert hass.states.get(due("backflush")).state == STATE_OFF
    assert hass.states.get(due("clean")).state == STATE_OFF
    assert hass.states.get(shots_since("backflush")).state == "0"
    assert hass.states.get(shots_since("descale")).state == "5"
    assert hass.states.get(last_done("backflush")).state == (
        hass.states.get(last_done("clean")).state
    )
    assert summary(events) == [
        ("due", "backflush"),
        ("due", "clean"),
        ("done", "clean", "button"),
        ("done", "backflush", "button"),
    ]
    # Due again later fires again (a new edge).
    for _ in range(3):
        await pull_shot(hass, freezer)
    assert summary(events)[-1] == ("due", "backflush")


@pytest.mark.freeze_time(T0)
async def test_adjust_shots_corrects_shots_since(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> None:
    """adjust_shots corrections apply to the shots since every task (never below 0)."""
    events = capture(hass, EVENT_MAINTENANCE_DUE)
    await pull_shot(hass, freezer)
    await hass.services.async_call(
        DOMAIN, "adjust_shots", {"config_entry_id": ENTRY_ID, "count": 2}, blocking=True
    )
    assert hass.states.get(shots_since("backflush")).state == "3"
    assert hass.states.get(due("backflush")).state == STATE_ON
    assert summary(events) == [("due", "backflush")]
    await hass.services.async_call(
        DOMAIN, "adjust_shots", {"config_entry_id": ENTRY_ID, "count": -5}, blocking=True
    )
    assert hass.states.get(shots_since("clean")).state == "0"
    assert hass.states.get(due("backflush")).state == STATE_OFF


@pytest.mark.freeze_time(T0)
async def test_due_on_the_second(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> None:
    """A days rule falls due on the second, between two of the minute checks."""
    freezer.tick(20)
    await hass.services.async_call(
        "button", "press", {"entity_id": f"button.{PREFIX}_mark_backflush_done"}, blocking=True
    )
    freezer.move_to("2026-05-11 08:00:19+00:00")
    async_fire_time_changed(hass)  # the minute check runs now, next in a minute
    await hass.async_block_till_done()
    assert hass.states.get(due("backflush")).state == STATE_OFF
    freezer.move_to("2026-05-11 08:00:20+00:00")
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(due("backflush")).state == STATE_ON


# --- time zone and DST ----------------------------------------------------------------------


@pytest.mark.freeze_time("2026-03-22 09:00:00+00:00")  # Sunday 10:00 CET
async def test_days_rule_across_spring_forward(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    power_sensor: str,
) -> None:
    """Weekly means the same local time a week later: 6 days 23 h across spring forward."""
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    await setup(hass, config_entry)
    events = capture(hass, EVENT_MAINTENANCE_DUE)
    assert hass.states.get(shots_since("backflush")).attributes["due_at"] == (
        "2026-03-29T10:00:00+02:00"
    )

    freezer.move_to("2026-03-29 07:59:59+00:00")  # 09:59:59 CEST
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(due("backflush")).state == STATE_OFF

    freezer.move_to("2026-03-29 08:00:00+00:00")  # 10:00 CEST
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(due("backflush")).state == STATE_ON
    assert summary(events) == [("due", "backflush")]


@pytest.mark.freeze_time("2026-03-22 01:30:00+00:00")  # Sunday 02:30 CET
async def test_days_rule_in_dst_gap(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    power_sensor: str,
) -> None:
    """02:30 does not exist on the day of spring forward: due at 03:30 CEST instead."""
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    await setup(hass, config_entry)
    assert hass.states.get(shots_since("backflush")).attributes["due_at"] == (
        "2026-03-29T03:30:00+02:00"
    )
    freezer.move_to("2026-03-29 01:29:00+00:00")
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(due("backflush")).state == STATE_OFF
    freezer.move_to("2026-03-29 01:30:00+00:00")
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(due("backflush")).state == STATE_ON


@pytest.mark.freeze_time("2026-10-18 00:30:00+00:00")  # Sunday 02:30 CEST
async def test_days_rule_across_fall_back(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    power_sensor: str,
) -> None:
    """02:30 happens twice on the day of fall back: the first one (7 days + 0 h) counts."""
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    await setup(hass, config_entry)
    assert hass.states.get(shots_since("backflush")).attributes["due_at"] == (
        "2026-10-25T02:30:00+02:00"
    )
    freezer.move_to("2026-10-25 00:29:59+00:00")
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(due("backflush")).state == STATE_OFF
    freezer.move_to("2026-10-25 00:30:00+00:00")
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(due("backflush")).state == STATE_ON


# --- detected backflush ---------------------------------------------------------------------


async def manual_backflush(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Six short pump pulses with pauses: a manual backflush."""
    hass.states.async_set(PLUG_SWITCH, "on")
    for _ in range(6):
        await set_power(hass, freezer, PUMP_WATTS, after=8)
        await set_power(hass, freezer, STANDBY_WATTS, after=7)
    await pass_time(hass, freezer, 60)


@pytest.mark.freeze_time(T0)
@pytest.mark.parametrize("mark", [True, False])
async def test_detected_backflush(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    power_sensor: str,
    hass_storage: dict[str, Any],
    mark: bool,
) -> None:
    """A recognised manual backflush fires its event and, if enabled, marks backflush done."""
    await setup(hass, config_entry, **{CONF_MARK_DETECTED_BACKFLUSH: mark})
    await pull_shot(hass, freezer)
    await pull_shot(hass, freezer)
    events = capture(hass, EVENT_BACKFLUSH_DETECTED, EVENT_MAINTENANCE_DONE)
    await manual_backflush(hass, freezer)

    detected = events[0]
    assert detected.event_type == EVENT_BACKFLUSH_DETECTED
    assert detected.data["config_entry_id"] == ENTRY_ID
    assert detected.data["name"] == "Espresso machine"
    assert detected.data["pulses"] == 6
    end = detected.data["end"]
    assert detected.data["start"] < end
    backflush_done = hass.states.get(last_done("backflush")).state
    stored = hass_storage[KEY]["data"]["maintenance"]["schedule"]["tasks"]["backflush"]
    if mark:
        assert summary(events[1:]) == [("done", "backflush", "detected")]
        assert datetime.fromisoformat(backflush_done) == datetime.fromisoformat(end)
        assert hass.states.get(shots_since("backflush")).state == "0"
        assert stored["shots_since"] == 0
    else:
        assert events[1:] == []
        assert backflush_done == "2026-05-04T08:00:00+00:00"
        assert hass.states.get(shots_since("backflush")).state == "2"


# --- restart ----------------------------------------------------------------------------------


def _stored(notified: list[str]) -> dict[str, Any]:
    return stored_data(
        {
            "total_shots": 41,
            "shots_today": 0,
            "today": "2026-05-04",
            "last_shot": None,
            "recent_durations": [],
            "maintenance": {
                "schedule": {
                    "version": 1,
                    "tasks": {
                        "backflush": {"last_done": "2026-04-20T00:00:00+00:00", "shots_since": 4},
                        "clean": {"last_done": "2026-04-20T00:00:00+00:00", "shots_since": 4},
                        "descale": {"last_done": "2026-03-01T08:00:00+00:00", "shots_since": 4},
                    },
                },
                "drift": {"baseline": [25.0] * 10, "recent": [26.0, 40.0, 41.0]},
                "notified_due": notified,
                "applied_last_done": {},
            },
        }
    )


@pytest.mark.freeze_time(T0)
@pytest.mark.parametrize(("notified", "fired"), [(["backflush"], []), ([], [("due", "backflush")])])
async def test_restart_restores_schedule(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    power_sensor: str,
    hass_storage: dict[str, Any],
    notified: list[str],
    fired: list[tuple[str, str]],
) -> None:
    """The schedule and drift come back; a task notified before a restart is not re-fired."""
    hass_storage[KEY] = _stored(notified)
    events = capture(hass, EVENT_MAINTENANCE_DUE)
    await setup(hass, config_entry)
    assert summary(events) == fired
    assert hass.states.get(due("backflush")).state == STATE_ON
    assert hass.states.get(due("clean")).state == STATE_OFF
    assert hass.states.get(shots_since("clean")).state == "4"
    assert hass.states.get(last_done("descale")).state == "2026-03-01T08:00:00+00:00"
    assert hass.states.get(DRIFT).state == STATE_ON
    assert hass.states.get(DRIFT).attributes["baseline_duration"] == 25.0
    assert hass.states.get(DRIFT).attributes["recent_duration"] == 40.0
    assert hass_storage[KEY]["data"]["maintenance"]["notified_due"] == ["backflush"]


@pytest.mark.freeze_time(T0)
async def test_reload_does_not_refire(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> None:
    """A due task is notified once, also across a reload."""
    events = capture(hass, EVENT_MAINTENANCE_DUE)
    for _ in range(3):
        await pull_shot(hass, freezer)
    assert await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done()
    assert hass.states.get(due("backflush")).state == STATE_ON
    assert summary(events) == [("due", "backflush")]


async def test_due_events_wait_for_start(
    hass: HomeAssistant, config_entry: MockConfigEntry, power_sensor: str
) -> None:
    """While Home Assistant starts no due event fires (automations may not listen yet)."""
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, "backflush_every_shots": 1}
    )
    events = capture(hass, EVENT_MAINTENANCE_DUE)
    hass.set_state(hass.state.starting)
    await setup(hass, config_entry)
    await config_entry.runtime_data.shots.async_adjust_shots(1)
    await hass.async_block_till_done()
    assert hass.states.get(due("backflush")).state == STATE_ON
    assert events == []
    await hass.async_start()
    await hass.async_block_till_done()
    assert summary(events) == [("due", "backflush")]


# --- shot time drift --------------------------------------------------------------------------


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("power_sensor")
async def test_shot_time_drift(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Shots running markedly longer than usual set the drift; a backflush clears it."""
    stored = _stored([])
    stored["data"]["maintenance"]["drift"] = {"baseline": [25.0] * 20, "recent": []}
    hass_storage[KEY] = stored
    await setup(hass, config_entry, **{CONF_SHOT_TIME_DRIFT_PERCENT: 30})
    assert hass.states.get(DRIFT).state == STATE_OFF

    for _ in range(3):
        await pull_shot(hass, freezer, duration=32)  # 28 % longer: below 30 %
    assert hass.states.get(DRIFT).state == STATE_OFF
    assert hass.states.get(DRIFT).attributes["recent_duration"] == 32.0
    for _ in range(2):
        await pull_shot(hass, freezer, duration=34)  # 36 %
    assert hass.states.get(DRIFT).state == STATE_ON
    assert hass.states.get(DRIFT).attributes == {
        **hass.states.get(DRIFT).attributes,
        "baseline_duration": 25.0,
        "recent_duration": 34.0,
    }

    await hass.services.async_call(
        "button", "press", {"entity_id": f"button.{PREFIX}_mark_backflush_done"}, blocking=True
    )
    assert hass.states.get(DRIFT).state == STATE_OFF
    assert hass.states.get(DRIFT).attributes["recent_duration"] is None
    assert hass_storage[KEY]["data"]["maintenance"]["drift"]["recent"] == []

    # Descaling leaves the drift alone.
    for _ in range(3):
        await pull_shot(hass, freezer, duration=34)
    await config_entry.runtime_data.maintenance.async_mark_done("descale", source="action")
    assert hass.states.get(DRIFT).state == STATE_ON


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("power_sensor")
async def test_drift_seeded_from_recent_durations(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """An installation from before maintenance seeds the drift with its last 10 shots."""
    stored = _stored([])
    del stored["data"]["maintenance"]
    stored["data"]["recent_durations"] = [25.0] * 10
    hass_storage[KEY] = stored
    await setup(hass, config_entry)
    assert hass.states.get(DRIFT).attributes["recent_duration"] == 25.0
    assert hass.states.get(DRIFT).attributes["baseline_duration"] is None  # 7 of 8 shots
    await pull_shot(hass, freezer, duration=27)
    assert hass.states.get(DRIFT).attributes["baseline_duration"] == 25.0
    assert hass.states.get(DRIFT).attributes["recent_duration"] == 25.0


def test_option_readers() -> None:
    """Options are read defensively: dates, date-times and the drift threshold."""
    tz = ZoneInfo("Europe/Amsterdam")
    assert parse_last_done("2026-05-01", tz) == datetime(2026, 5, 1, tzinfo=tz)
    assert parse_last_done("2026-05-01 08:30:00", tz) == datetime(2026, 5, 1, 8, 30, tzinfo=tz)
    assert parse_last_done("2026-05-01T08:30:00+00:00", tz) == datetime.fromisoformat(
        "2026-05-01T08:30:00+00:00"
    )
    for garbage in ("", "yesterday", None, 5):
        assert parse_last_done(garbage, tz) is None
    assert drift_threshold({}) == 25
    assert drift_threshold({CONF_SHOT_TIME_DRIFT_PERCENT: 2}) == 5
    assert drift_threshold({CONF_SHOT_TIME_DRIFT_PERCENT: 140.0}) == 100
    assert drift_threshold({CONF_SHOT_TIME_DRIFT_PERCENT: 40.4}) == 40
    assert drift_threshold({CONF_SHOT_TIME_DRIFT_PERCENT: "x"}) == 25
    assert drift_threshold({CONF_SHOT_TIME_DRIFT_PERCENT: True}) == 25


# --- last-done dates from the options -------------------------------------------------------


@pytest.mark.freeze_time(T0)
async def test_last_done_option_applied_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """A last-done date from the options is applied when it changes, not on every set-up."""
    entry = init_integration
    await hass.config.async_set_time_zone("UTC")
    await pull_shot(hass, freezer)
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, "backflush_last_done": "2026-04-30 09:00:00"}
    )
    assert await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done()
    assert hass.states.get(last_done("backflush")).state == "2026-04-30T09:00:00+00:00"
    # The shot pulled since set-up was also pulled since the earlier date.
    assert hass.states.get(shots_since("backflush")).state == "1"
    assert hass.states.get(due("backflush")).state == STATE_OFF
    applied = hass_storage[KEY]["data"]["maintenance"]["applied_last_done"]
    assert applied == {"backflush": "2026-04-30 09:00:00"}

    # Marked done later: a reload with the same option keeps the newer mark.
    await entry.runtime_data.maintenance.async_mark_done("backflush", source="action")
    assert await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done()
    assert hass.states.get(last_done("backflush")).state.startswith("2026-05-04T08:0")

    # Removing the option forgets it; entering the same date again applies it again.
    options = {k: v for k, v in entry.options.items() if k != "backflush_last_done"}
    hass.config_entries.async_update_entry(entry, options=options)
    assert await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done()
    assert hass_storage[KEY]["data"]["maintenance"]["applied_last_done"] == {}
    hass.config_entries.async_update_entry(
        entry, options={**options, "backflush_last_done": "2026-04-30 09:00:00"}
    )
    assert await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done()
    assert hass.states.get(last_done("backflush")).state == "2026-04-30T09:00:00+00:00"


@pytest.mark.freeze_time(T0)
@pytest.mark.parametrize("value", ["not a date", "2026-06-01 08:00:00"])
async def test_bad_last_done_option_ignored(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    power_sensor: str,
    value: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An unreadable or future date (only possible when edited by hand) is skipped."""
    await setup(hass, config_entry, backflush_last_done=value)
    assert hass.states.get(last_done("backflush")).state == "2026-05-04T08:00:00+00:00"
    assert "Ignoring" in caplog.text


# --- action ---------------------------------------------------------------------------------


@pytest.mark.freeze_time(T0)
async def test_mark_done_action(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> None:
    """The action marks a task done now or at a past moment (local time when naive)."""
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    events = capture(hass, EVENT_MAINTENANCE_DONE)
    for _ in range(3):
        await pull_shot(hass, freezer)
    await hass.services.async_call(
        DOMAIN, "mark_done", {"config_entry_id": ENTRY_ID, "task": "backflush"}, blocking=True
    )
    assert hass.states.get(due("backflush")).state == STATE_OFF
    assert hass.states.get(shots_since("backflush")).state == "0"

    await hass.services.async_call(
        DOMAIN,
        "mark_done",
        {"config_entry_id": ENTRY_ID, "task": "descale", "when": "2026-05-01 10:00:00"},
        blocking=True,
    )
    assert hass.states.get(last_done("descale")).state == "2026-05-01T08:00:00+00:00"
    await hass.services.async_call(
        DOMAIN,
        "mark_done",
        {"config_entry_id": ENTRY_ID, "task": "clean", "when": "2026-05-02T10:00:00+00:00"},
        blocking=True,
    )
    assert hass.states.get(last_done("clean")).state == "2026-05-02T10:00:00+00:00"
    # The backflush marked later stays.
    assert hass.states.get(last_done("backflush")).state > "2026-05-04"
    assert summary(events) == [
        ("done", "backflush", "action"),
        ("done", "descale", "action"),
        ("done", "clean", "action"),
    ]


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("init_integration")
async def test_mark_done_in_future(hass: HomeAssistant) -> None:
    """A date in the future is refused with a translated error."""
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "mark_done",
            {
                "config_entry_id": ENTRY_ID,
                "task": "descale",
                "when": "2026-05-05T08:00:00+00:00",
            },
            blocking=True,
        )
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "date_in_future"
    assert err.value.translation_placeholders == {"when": "2026-05-05T01:00:00-07:00"}


@pytest.mark.usefixtures("init_integration")
async def test_mark_done_errors(hass: HomeAssistant) -> None:
    """Unknown tasks are refused by the schema; unknown or unloaded entries are translated."""
    with pytest.raises(Exception, match="task"):
        await hass.services.async_call(
            DOMAIN, "mark_done", {"config_entry_id": ENTRY_ID, "task": "polish"}, blocking=True
        )
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "mark_done", {"config_entry_id": "nope", "task": "clean"}, blocking=True
        )
    assert err.value.translation_key == "entry_not_found"
    assert await hass.config_entries.async_unload(ENTRY_ID)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "mark_done", {"config_entry_id": ENTRY_ID, "task": "clean"}, blocking=True
        )
    assert err.value.translation_key == "entry_not_loaded"


@pytest.mark.freeze_time(T0)
async def test_backflush_routine_api(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """The backflush runner's entry point: marks, notifies, fires the event and saves."""
    events = capture(hass, EVENT_MAINTENANCE_DONE)
    runtime = init_integration.runtime_data
    marked = await runtime.maintenance.async_mark_done(Task.CLEAN, source="backflush_routine")
    assert marked == (Task.CLEAN, Task.BACKFLUSH)
    assert summary(events) == [
        ("done", "clean", "backflush_routine"),
        ("done", "backflush", "backflush_routine"),
    ]
    assert hass_storage[KEY]["data"]["maintenance"]["schedule"]["tasks"]["clean"] == {
        "last_done": "2026-05-04T01:00:00-07:00",
        "shots_since": 0,
    }
    # A naive moment is local time.
    await runtime.maintenance.async_mark_done(
        "descale", source="backflush_routine", when=datetime(2026, 5, 3, 12, 0)
    )
    assert hass.states.get(last_done("descale")).state == "2026-05-03T19:00:00+00:00"


# --- diagnostics and logbook ----------------------------------------------------------------


@pytest.mark.freeze_time(T0)
async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
) -> None:
    """The diagnostics download holds the schedule, intervals, due state and drift."""
    for _ in range(3):
        await pull_shot(hass, freezer)
    downloaded = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    diagnostics = downloaded["maintenance"]
    assert diagnostics["schedule"]["tasks"]["backflush"]["shots_since"] == 3
    assert diagnostics["intervals"]["backflush"] == {"shots": 3, "days": 7}
    assert diagnostics["due"] == ["backflush"]
    assert diagnostics["notified_due"] == ["backflush"]
    assert diagnostics["mark_detected_backflush"] is True
    assert diagnostics["drift"] == {
        "baseline": [],
        "recent": [25.0, 25.0, 25.0],
        "threshold_percent": 25.0,
        "drifting": False,
        "baseline_duration": None,
        "recent_duration": 25.0,
    }


@pytest.mark.freeze_time(T0)
async def test_logbook(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> None:
    """Due, done and detected backflush events read well in the logbook."""
    from custom_components.espresso_care.logbook import async_describe_events

    described: dict[str, Any] = {}

    def register(domain: str, event_type: str, describe: Any) -> None:
        assert domain == DOMAIN
        described[event_type] = describe

    async_describe_events(hass, register)
    base = {"config_entry_id": ENTRY_ID, "name": "Espresso machine"}

    def describe(event_type: str, **data: Any) -> dict[str, Any]:
        result: dict[str, Any] = described[event_type](Event(event_type, {**base, **data}))
        return result

    assert describe(EVENT_MAINTENANCE_DUE, task="clean") == {
        "name": "Espresso machine",
        "message": "is due: Clean with detergent (backflush with detergent)",
        "entity_id": due("clean"),
    }
    assert describe(EVENT_MAINTENANCE_DONE, task="descale", source="todo") == {
        "name": "Espresso machine",
        "message": "done: Descale (to-do list)",
        "entity_id": due("descale"),
    }
    assert describe(EVENT_BACKFLUSH_DETECTED, start="s", end="e", pulses=6) == {
        "name": "Espresso machine",
        "message": "was backflushed by hand (6 pulses)",
        "entity_id": due("backflush"),
    }
    # A machine that was removed is still described, without an entity.
    assert describe(EVENT_MAINTENANCE_DONE, config_entry_id="gone", task="x", source="y") == {
        "name": "Espresso machine",
        "message": "done: x (y)",
    }


# --- options flow ---------------------------------------------------------------------------

OPTIONS_FORM = {
    "power_sensor": "sensor.espresso_plug_power",
    "machine_type": "single_boiler",
    "switch_role": "pump",
    "shot_min_seconds": 15,
    "shot_max_seconds": 45,
    **SHORT_RULES,
}


@pytest.mark.freeze_time(T0)
async def test_options_flow_maintenance_fields(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Drift sensitivity, detected backflushes and last-done dates are options."""
    await hass.config.async_set_time_zone("UTC")
    entry = init_integration
    result = await open_options_settings(hass, entry.entry_id)
    suggested = suggested_values(result)
    assert suggested[CONF_SHOT_TIME_DRIFT_PERCENT] == 25
    assert suggested[CONF_MARK_DETECTED_BACKFLUSH] is True
    assert "backflush_last_done" not in suggested
    # Date pickers (a date and a time showed an empty picker as 12:00:00 AM).
    sections = {str(key): value for key, value in result["data_schema"].schema.items()}
    fields = {str(key): value for key, value in sections["maintenance"].schema.schema.items()}
    pickers = [fields[f"{task}_last_done"] for task in Task]
    assert all(type(picker) is selector.DateSelector for picker in pickers), pickers

    # A date in the future is refused on its field.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        options_form(
            {
                **OPTIONS_FORM,
                CONF_SHOT_TIME_DRIFT_PERCENT: 40.0,
                "descale_last_done": "2026-05-05",
                "clean_last_done": "2026-05-04",  # this morning: fine
            }
        ),
    )
    assert result["type"] == "form"
    assert result["errors"] == {"descale_last_done": "date_in_future"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        options_form(
            {
                **OPTIONS_FORM,
                CONF_SHOT_TIME_DRIFT_PERCENT: 40.0,
                CONF_MARK_DETECTED_BACKFLUSH: False,
                "descale_last_done": "2026-02-01",
                "clean_last_done": "2026-04-20",
            }
        ),
    )
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    assert entry.options[CONF_SHOT_TIME_DRIFT_PERCENT] == 40
    assert isinstance(entry.options[CONF_SHOT_TIME_DRIFT_PERCENT], int)
    assert entry.options[CONF_MARK_DETECTED_BACKFLUSH] is False
    assert entry.options["descale_last_done"] == "2026-02-01"
    # Applied after the reload: descale overdue since May 2, the clean almost due.
    maintenance = entry.runtime_data.maintenance
    assert maintenance.drift.threshold_percent == 40
    assert maintenance.mark_detected_backflush is False
    assert hass.states.get(last_done("descale")).state == "2026-02-01T00:00:00+00:00"
    assert hass.states.get(due("descale")).state == STATE_ON
    assert hass.states.get(last_done("clean")).state == "2026-04-20T00:00:00+00:00"
    assert hass.states.get(due("clean")).state == STATE_OFF
    # The backflush done at set-up is later than the clean: it stays.
    assert hass.states.get(last_done("backflush")).state == "2026-05-04T08:00:00+00:00"

    # The form shows the entered dates; emptying one removes it from the options.
    result = await open_options_settings(hass, entry.entry_id)
    suggested = suggested_values(result)
    assert suggested["descale_last_done"] == "2026-02-01"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], options_form({**OPTIONS_FORM, "descale_last_done": "2026-02-01"})
    )
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    assert "clean_last_done" not in entry.options
    assert entry.options["descale_last_done"] == "2026-02-01"
    # Unchanged date: not applied again (the descale stays where it was).
    assert hass.states.get(last_done("descale")).state == "2026-02-01T00:00:00+00:00"


# --- statistics: state classes and last_reset -------------------------------------------------


async def test_earlier_done_date_keeps_the_count_and_its_last_reset(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> None:
    """A done date before the recorded one keeps the count, and with it the last_reset.

    Moving last_reset back while keeping the count would start a new statistics cycle that
    counts the same shots again.
    """
    await pull_shot(hass, freezer)
    await pull_shot(hass, freezer)
    before = hass.states.get(shots_since("backflush"))
    assert before.state == "2"
    earlier = dt_util.now() - timedelta(days=3)
    await hass.services.async_call(
        DOMAIN,
        "mark_done",
        {"config_entry_id": ENTRY_ID, "task": "backflush", "when": earlier},
        blocking=True,
    )
    await hass.async_block_till_done()
    after = hass.states.get(shots_since("backflush"))
    assert after.state == "2"  # the engine keeps the count: those shots were pulled since
    assert after.attributes["last_reset"] == before.attributes["last_reset"]
    moved = dt_util.parse_datetime(hass.states.get(last_done("backflush")).state)
    assert moved is not None
    assert abs((moved - earlier).total_seconds()) < 1

    # A later done date restarts the count: a new cycle from that moment.
    await hass.services.async_call(
        DOMAIN, "mark_done", {"config_entry_id": ENTRY_ID, "task": "backflush"}, blocking=True
    )
    await hass.async_block_till_done()
    restarted = hass.states.get(shots_since("backflush"))
    assert restarted.state == "0"
    reset = dt_util.parse_datetime(restarted.attributes["last_reset"])
    done = dt_util.parse_datetime(hass.states.get(last_done("backflush")).state)
    assert reset is not None
    assert done is not None
    assert abs((reset - done).total_seconds()) < 1
    # Kept across a restart.
    await pull_shot(hass, freezer)
    await hass.services.async_call(
        DOMAIN,
        "mark_done",
        {"config_entry_id": ENTRY_ID, "task": "backflush", "when": earlier},
        blocking=True,
    )
    kept = hass.states.get(shots_since("backflush")).attributes["last_reset"]
    assert await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done()
    assert hass.states.get(shots_since("backflush")).attributes["last_reset"] == kept


async def test_total_shots_is_a_total_a_correction_may_lower(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> None:
    """total_shots is a total without last_reset: statistics take a correction as a decrease.

    With total_increasing a lowered count reads as a meter reset and the sum jumps.
    """
    await pull_shot(hass, freezer)
    await pull_shot(hass, freezer)
    state = hass.states.get(TOTAL)
    assert state.attributes["state_class"] == "total"
    assert "last_reset" not in state.attributes
    await hass.services.async_call(
        DOMAIN, "adjust_shots", {"config_entry_id": ENTRY_ID, "count": -1}, blocking=True
    )
    assert hass.states.get(TOTAL).state == "1"
    assert "unit_of_measurement" not in hass.states.get(TOTAL).attributes  # not "1 shots"
