"""Snoozing a maintenance task: the action, entities, to-do list, events, persistence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.components.todo import DOMAIN as TODO_DOMAIN
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import Event
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
import voluptuous as vol

from custom_components.espresso_care.const import (
    DOMAIN,
    EVENT_MAINTENANCE_DONE,
    EVENT_MAINTENANCE_DUE,
    EVENT_MAINTENANCE_SNOOZED,
)
from custom_components.espresso_care.logbook import async_describe_events
from custom_components.espresso_care.store import storage_key

from .common import pull_shot, stored_data
from .conftest import ENTRY_ID
from .test_maintenance import capture, due, shots_since, summary

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant

T0 = "2026-05-04 08:00:00+00:00"
KEY = storage_key(ENTRY_ID)
TODO = "todo.espresso_machine_maintenance"
BACKFLUSH_DUE = due("backflush")


@pytest.fixture
def options(options: dict[str, Any]) -> dict[str, Any]:
    """A backflush due after one shot."""
    return {**options, "backflush_every_shots": 1}


async def snooze(hass: HomeAssistant, **data: Any) -> None:
    await hass.services.async_call(
        DOMAIN, "snooze", {"config_entry_id": ENTRY_ID, "task": "backflush", **data}, blocking=True
    )


async def todo_items(hass: HomeAssistant) -> list[dict[str, Any]]:
    result = await hass.services.async_call(
        TODO_DOMAIN, "get_items", {"entity_id": TODO}, blocking=True, return_response=True
    )
    items: list[dict[str, Any]] = result[TODO]["items"]  # type: ignore[index,assignment]
    return items


async def tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("init_integration")
async def test_snooze_due_task(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """Snoozed: off with snoozed_until, still on the to-do list, due again when it ends."""
    events = capture(hass, EVENT_MAINTENANCE_DUE, EVENT_MAINTENANCE_SNOOZED)
    await pull_shot(hass, freezer)
    assert hass.states.get(BACKFLUSH_DUE).state == STATE_ON
    assert hass.states.get(BACKFLUSH_DUE).attributes["snoozed_until"] is None

    await snooze(hass, duration={"days": 1})
    state = hass.states.get(BACKFLUSH_DUE)
    assert state.state == STATE_OFF
    end = state.attributes["snoozed_until"]
    assert end == "2026-05-05T01:01:20-07:00"  # a day after the call, in the home's zone
    snoozed = events[-1]
    assert snoozed.event_type == EVENT_MAINTENANCE_SNOOZED
    assert snoozed.data == {
        "config_entry_id": ENTRY_ID,
        "name": "Espresso machine",
        "task": "backflush",
        "until": end,
    }
    assert (
        hass_storage[KEY]["data"]["maintenance"]["schedule"]["tasks"]["backflush"]["snoozed_until"]
        == end
    )
    # The to-do item stays, with the snooze's end as its due date.
    assert await todo_items(hass) == [
        {
            "uid": "backflush",
            "summary": "Backflush with plain water",
            "status": "needs_action",
            "due": end,
        }
    ]
    # Shots keep counting; no due event while snoozed.
    await pull_shot(hass, freezer)
    assert hass.states.get(shots_since("backflush")).state == "2"
    await tick(hass, freezer, timedelta(hours=23))
    assert hass.states.get(BACKFLUSH_DUE).state == STATE_OFF
    assert summary(events) == [("due", "backflush"), ("snoozed", "backflush")]

    # The snooze ends: due again, and the due event fires again.
    await tick(hass, freezer, timedelta(hours=1))
    state = hass.states.get(BACKFLUSH_DUE)
    assert state.state == STATE_ON
    assert state.attributes["snoozed_until"] is None
    assert summary(events) == [("due", "backflush"), ("snoozed", "backflush"), ("due", "backflush")]
    assert "due" not in (await todo_items(hass))[0]  # due by shots only


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("init_integration")
async def test_snooze_until_and_mark_done(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """``until`` (naive = local time) sets the end; marking done ends the snooze."""
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    events = capture(hass, EVENT_MAINTENANCE_DUE, EVENT_MAINTENANCE_DONE)
    await pull_shot(hass, freezer)
    await snooze(hass, until="2026-05-06 18:00:00")
    end = dt_util.parse_datetime(hass.states.get(BACKFLUSH_DUE).attributes["snoozed_until"])
    assert end == datetime(2026, 5, 6, 16, 0, tzinfo=UTC)  # 18:00 in Amsterdam
    await hass.services.async_call(
        DOMAIN, "mark_done", {"config_entry_id": ENTRY_ID, "task": "backflush"}, blocking=True
    )
    state = hass.states.get(BACKFLUSH_DUE)
    assert state.state == STATE_OFF
    assert state.attributes["snoozed_until"] is None
    assert await todo_items(hass) == []
    assert (
        "snoozed_until"
        not in (hass_storage[KEY]["data"]["maintenance"]["schedule"]["tasks"]["backflush"])
    )
    # Due again by its rules, at once (the snooze is gone).
    await pull_shot(hass, freezer)
    assert hass.states.get(BACKFLUSH_DUE).state == STATE_ON
    assert summary(events) == [
        ("due", "backflush"),
        ("done", "backflush", "action"),
        ("due", "backflush"),
    ]


@pytest.mark.freeze_time(T0)
async def test_snooze_survives_restart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    power_sensor: str,
    hass_storage: dict[str, Any],
) -> None:
    """A stored snooze holds after a restart; its end fires the due event once."""
    hass_storage[KEY] = stored_data(
        {
            "total_shots": 5,
            "maintenance": {
                "schedule": {
                    "version": 1,
                    "tasks": {
                        "backflush": {
                            "last_done": "2026-05-01T08:00:00+00:00",
                            "shots_since": 5,
                            "snoozed_until": "2026-05-04T20:00:00+00:00",
                        }
                    },
                },
                "notified_due": [],
            },
        }
    )
    events = capture(hass, EVENT_MAINTENANCE_DUE)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    state = hass.states.get(BACKFLUSH_DUE)
    assert state.state == STATE_OFF
    assert state.attributes["snoozed_until"] == "2026-05-04T13:00:00-07:00"
    assert events == []

    await tick(hass, freezer, timedelta(hours=12))
    assert hass.states.get(BACKFLUSH_DUE).state == STATE_ON
    assert summary(events) == [("due", "backflush")]


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("init_integration")
@pytest.mark.parametrize(
    ("data", "key", "placeholders"),
    [
        ({}, "snooze_duration_or_until", None),
        (
            {"duration": {"hours": 2}, "until": "2026-05-05 08:00:00"},
            "snooze_duration_or_until",
            None,
        ),
        (
            {"duration": {"minutes": 30}},
            "snooze_duration_out_of_range",
            {"duration": "0.5 h", "min": "1 h", "max": "30 d"},
        ),
        (
            {"duration": {"days": 31}},
            "snooze_duration_out_of_range",
            {"duration": "31 d", "min": "1 h", "max": "30 d"},
        ),
        (
            {"until": "2026-05-04T07:00:00+00:00"},
            "snooze_until_in_past",
            {"until": "2026-05-04T00:00:00-07:00"},
        ),
        (
            {"until": "2026-06-10T07:00:00+00:00"},
            "snooze_until_too_far",
            {"until": "2026-06-10T00:00:00-07:00", "max": "30 d"},
        ),
    ],
)
async def test_snooze_errors(
    hass: HomeAssistant, data: dict[str, Any], key: str, placeholders: dict[str, str] | None
) -> None:
    """Bad durations and ends are refused with translated errors; nothing is snoozed."""
    with pytest.raises(ServiceValidationError) as err:
        await snooze(hass, **data)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    assert err.value.translation_placeholders == placeholders
    assert hass.states.get(BACKFLUSH_DUE).attributes["snoozed_until"] is None


@pytest.mark.usefixtures("init_integration")
async def test_snooze_unknown_task_or_entry(hass: HomeAssistant) -> None:
    """An unknown task fails the schema, an unknown entry is a translated error."""
    with pytest.raises(vol.Invalid):
        await snooze(hass, task="polish", duration={"hours": 1})
    with pytest.raises(ServiceValidationError) as err:
        await snooze(hass, config_entry_id="nope", duration={"hours": 1})
    assert err.value.translation_key == "entry_not_found"


@pytest.mark.usefixtures("init_integration")
async def test_snooze_logbook(hass: HomeAssistant) -> None:
    """The snooze reads with its end in local time, linked to the task's due sensor."""
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    described: dict[str, Any] = {}

    def register(domain: str, event_type: str, describe: Any) -> None:
        described[event_type] = describe

    async_describe_events(hass, register)
    event = Event(
        EVENT_MAINTENANCE_SNOOZED,
        {
            "config_entry_id": ENTRY_ID,
            "name": "Espresso machine",
            "task": "clean",
            "until": "2026-05-05T08:00:00+00:00",
        },
    )
    assert described[EVENT_MAINTENANCE_SNOOZED](event) == {
        "name": "Espresso machine",
        "message": "snoozed until 2026-05-05 10:00: Clean with detergent (backflush with detergent)",
        "entity_id": due("clean"),
    }
