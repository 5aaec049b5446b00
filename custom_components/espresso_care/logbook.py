"""Logbook descriptions of Espresso Care events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.const import Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util

from .const import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_CYCLES,
    ATTR_CYCLES_DONE,
    ATTR_DURATION_S,
    ATTR_LIFT_BREW_LEVER,
    ATTR_NAME,
    ATTR_ON_SECONDS,
    ATTR_PROGRAM,
    ATTR_PULSES,
    ATTR_REASON,
    ATTR_SOURCE,
    ATTR_TASK,
    ATTR_TOTAL_SHOTS,
    ATTR_UNTIL,
    DOMAIN,
    EVENT_BACKFLUSH_ABORTED,
    EVENT_BACKFLUSH_DETECTED,
    EVENT_BACKFLUSH_FINISHED,
    EVENT_BACKFLUSH_RINSE,
    EVENT_BACKFLUSH_STARTED,
    EVENT_MAINTENANCE_DONE,
    EVENT_MAINTENANCE_DUE,
    EVENT_MAINTENANCE_SNOOZED,
    EVENT_SHOT,
)
from .task_names import task_name

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

# The logbook has no translations; its messages are English, as core's are. Task names are
# those of the to-do list (the ``task`` selector translations).
LOGBOOK_SOURCES = {
    "button": "button",
    "action": "action",
    "todo": "to-do list",
    "backflush_routine": "automated backflush",
    "detected": "recognised from the power",
    "voice": "voice assistant",
}


@callback
def _describe(
    hass: HomeAssistant, data: Mapping[str, Any], message: str, platform: Platform, key: str
) -> dict[str, Any]:
    """Describe an event of a machine, linked to its entity ``<entry_id>_<key>`` if it exists."""
    description: dict[str, Any] = {
        LOGBOOK_ENTRY_NAME: data[ATTR_NAME],
        LOGBOOK_ENTRY_MESSAGE: message,
    }
    if entity_id := er.async_get(hass).async_get_entity_id(
        platform, DOMAIN, f"{data[ATTR_CONFIG_ENTRY_ID]}_{key}"
    ):
        description[LOGBOOK_ENTRY_ENTITY_ID] = entity_id
    return description


def _cycles(count: int) -> str:
    """``1 cycle``, ``5 cycles``: a count of backflush cycles as the logbook reads it."""
    return f"{count} cycle" if count == 1 else f"{count} cycles"


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, Any]]], None],
) -> None:
    """Describe the ``espresso_care_shot`` event in the logbook."""

    @callback
    def async_describe_shot(event: Event) -> dict[str, Any]:
        data = event.data
        message = (
            f"pulled a shot of {data[ATTR_DURATION_S]:.0f} s (shot number {data[ATTR_TOTAL_SHOTS]})"
        )
        return _describe(hass, data, message, Platform.SENSOR, "total_shots")

    async_describe_event(DOMAIN, EVENT_SHOT, async_describe_shot)

    @callback
    def async_describe_backflush(event: Event) -> dict[str, Any]:
        data = event.data
        if event.event_type == EVENT_BACKFLUSH_STARTED:
            program = data[ATTR_PROGRAM]
            message = (
                f"started an automated {program[ATTR_TASK]} "
                f"({_cycles(program[ATTR_CYCLES])} of {program[ATTR_ON_SECONDS]} s)"
            )
        elif event.event_type == EVENT_BACKFLUSH_RINSE:
            message = "paused the automated clean: rinse the basket for the rinse cycles"
        elif event.event_type == EVENT_BACKFLUSH_FINISHED:
            message = (
                f"finished the automated {data[ATTR_TASK]} ({_cycles(data[ATTR_CYCLES_DONE])})"
            )
        else:
            message = f"aborted the automated {data[ATTR_TASK]} ({data[ATTR_REASON]})"
        if data.get(ATTR_LIFT_BREW_LEVER):
            message += "; lift the brew lever before switching the machine on"
        return _describe(hass, data, message, Platform.SWITCH, "backflush")

    for event_type in (
        EVENT_BACKFLUSH_STARTED,
        EVENT_BACKFLUSH_RINSE,
        EVENT_BACKFLUSH_FINISHED,
        EVENT_BACKFLUSH_ABORTED,
    ):
        async_describe_event(DOMAIN, event_type, async_describe_backflush)

    @callback
    def async_describe_maintenance(event: Event) -> dict[str, Any]:
        data = event.data
        task = data.get(ATTR_TASK, "backflush")  # a detected backflush has none
        name = task_name(hass, task)
        if event.event_type == EVENT_MAINTENANCE_DUE:
            message = f"is due: {name}"
        elif event.event_type == EVENT_MAINTENANCE_SNOOZED:
            until = dt_util.parse_datetime(data[ATTR_UNTIL])
            shown = data[ATTR_UNTIL] if until is None else _local_time(until)
            message = f"snoozed until {shown}: {name}"
        elif event.event_type == EVENT_MAINTENANCE_DONE:
            message = f"done: {name} ({LOGBOOK_SOURCES.get(data[ATTR_SOURCE], data[ATTR_SOURCE])})"
        else:
            message = f"was backflushed by hand ({data[ATTR_PULSES]} pulses)"
        return _describe(hass, data, message, Platform.BINARY_SENSOR, f"{task}_due")

    for event_type in (
        EVENT_MAINTENANCE_DUE,
        EVENT_MAINTENANCE_DONE,
        EVENT_MAINTENANCE_SNOOZED,
        EVENT_BACKFLUSH_DETECTED,
    ):
        async_describe_event(DOMAIN, event_type, async_describe_maintenance)


def _local_time(when: datetime) -> str:
    """``2026-06-02 09:00``: a moment in Home Assistant's time zone, to the minute."""
    return dt_util.as_local(when).strftime("%Y-%m-%d %H:%M")
