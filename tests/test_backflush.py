"""The automated backflush in Home Assistant: real switches, a frozen clock, every ending.

The backflush switch is a real ``input_boolean`` or a real ``template`` switch backed by one
(whose availability follows another ``input_boolean``). A simulated machine answers the
switch: the plug's power sensor reads pump power while the switch is on.
"""

from __future__ import annotations

import asyncio
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    EVENT_HOMEASSISTANT_STARTED,
    EVENT_HOMEASSISTANT_STOP,
    STATE_OFF,
    STATE_ON,
)
from homeassistant.core import CoreState, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from hypothesis import HealthCheck, given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.espresso_care.backflush_runner import BackflushRunner
from custom_components.espresso_care.const import (
    CONF_BACKFLUSH_SWITCH,
    CONF_REQUIRE_ARMING,
    CONF_SWITCH_ROLE,
    DOMAIN,
    EVENT_BACKFLUSH_ABORTED,
    EVENT_BACKFLUSH_FINISHED,
    EVENT_BACKFLUSH_RINSE,
    EVENT_BACKFLUSH_STARTED,
    EVENT_MAINTENANCE_DONE,
)
from custom_components.espresso_care.logbook import async_describe_events
from custom_components.espresso_care.store import EspressoCareStore, storage_key

from .common import PUMP_WATTS, STANDBY_WATTS, set_power, stored_data
from .conftest import ENTRY_ID, POWER_ATTRIBUTES, POWER_SENSOR

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from freezegun.api import FrozenDateTimeFactory

RELAY = "input_boolean.pump_relay"
TEMPLATE_SWITCH = "switch.pump_relay"
BACKING = "input_boolean.relay_backing"
ONLINE = "input_boolean.relay_online"
BACKFLUSH = "switch.espresso_machine_backflush"
PROGRESS = "sensor.espresso_machine_backflush_progress"
MACHINE_STATE = "sensor.espresso_machine_machine_state"
TOTAL = "sensor.espresso_machine_total_shots"
ARM = "button.espresso_machine_arm_backflush"
KEY = storage_key(ENTRY_ID)
START = datetime(2026, 5, 4, 8, 0, 0, tzinfo=dt_util.UTC)
LIFT_ISSUE = f"{ENTRY_ID}_lift_brew_lever"


@dataclass
class Recorder:
    """The state changes of the backflush switch (seconds since the start, state)."""

    hass: HomeAssistant
    entity_id: str
    start: float = field(default_factory=lambda: dt_util.utcnow().timestamp())
    changes: list[tuple[float, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        @callback
        def record(event: Event[EventStateChangedData]) -> None:
            new = event.data["new_state"]
            at = dt_util.utcnow() if new is None else new.last_changed
            self.changes.append(
                (round(at.timestamp() - self.start, 1), "gone" if new is None else new.state)
            )

        async_track_state_change_event(self.hass, self.entity_id, record)

    @property
    def states(self) -> list[str]:
        """Only the states, in order."""
        return [state for _, state in self.changes]


@pytest.fixture
def switch_entity() -> str:
    """The backflush switch under test (parametrised indirectly where both are used)."""
    return RELAY


@pytest.fixture
def options(options: dict[str, object], switch_entity: str) -> dict[str, object]:
    """Options with a backflush switch."""
    return {**options, CONF_BACKFLUSH_SWITCH: switch_entity}


@pytest.fixture
async def relays(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """A real input_boolean relay, and a real template switch backed by another one."""
    freezer.move_to(START)
    assert await async_setup_component(
        hass,
        "input_boolean",
        {
            "input_boolean": {
                "pump_relay": {},
                "relay_backing": {},
                "relay_online": {"initial": True},
            }
        },
    )
    assert await async_setup_component(
        hass,
        "template",
        {
            "template": [
                {
                    "switch": [
                        {
                            "name": "Pump relay",
                            "state": "{{ is_state('input_boolean.relay_backing', 'on') }}",
                            "availability": "{{ is_state('input_boolean.relay_online', 'on') }}",
                            "turn_on": {
                                "action": "input_boolean.turn_on",
                                "target": {"entity_id": BACKING},
                            },
                            "turn_off": {
                                "action": "input_boolean.turn_off",
                                "target": {"entity_id": BACKING},
                            },
                        }
                    ]
                }
            ]
        },
    )
    await hass.async_block_till_done()


@pytest.fixture
def pump_power(hass: HomeAssistant, switch_entity: str) -> list[float]:
    """A simulated machine: pump power while the switch is on, standby power when off."""
    watts: list[float] = []

    @callback
    def follow(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if new is not None and new.state in (STATE_ON, STATE_OFF):
            value = PUMP_WATTS if new.state == STATE_ON else STANDBY_WATTS
            watts.append(value)
            hass.states.async_set(POWER_SENSOR, str(value), POWER_ATTRIBUTES)

    async_track_state_change_event(hass, switch_entity, follow)
    return watts


@pytest.fixture
async def machine(
    hass: HomeAssistant,
    relays: None,
    pump_power: list[float],
    config_entry: MockConfigEntry,
    power_sensor: str,
) -> MockConfigEntry:
    """The integration set up with a backflush switch and a pump that answers it."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    return config_entry


async def _start(hass: HomeAssistant, **data: Any) -> None:
    await hass.services.async_call(
        DOMAIN, "start_backflush", {"config_entry_id": ENTRY_ID, **data}, blocking=True
    )
    await hass.async_block_till_done()


async def _toggle(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entity_id: str, on: bool
) -> None:
    """Switch an input_boolean; two seconds pass so the template switch follows it."""
    await hass.services.async_call(
        "input_boolean", "turn_on" if on else "turn_off", {"entity_id": entity_id}, blocking=True
    )
    await _wait(hass, freezer, 2)


async def _stop(hass: HomeAssistant) -> None:
    await hass.services.async_call(
        DOMAIN, "stop_backflush", {"config_entry_id": ENTRY_ID}, blocking=True
    )
    await hass.async_block_till_done()


async def _wait(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    """Let ``seconds`` pass in 1 s steps, running due timers."""
    for _ in range(int(seconds)):
        freezer.tick(1)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()


def _progress(hass: HomeAssistant) -> int:
    return int(hass.states.get(PROGRESS).state)


def _stored_run(hass_storage: dict[str, Any]) -> dict[str, Any]:
    return hass_storage[KEY]["data"]["backflush_run"]  # type: ignore[no-any-return]


# ------------------------------------------------------------------ a full routine


@pytest.mark.usefixtures("machine")
async def test_backflush_switches_exactly(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """3 x (10 s on, 10 s off): the exact on/off sequence, progress, state, events, storage."""
    recorder = Recorder(hass, RELAY)
    started = async_capture_events(hass, EVENT_BACKFLUSH_STARTED)
    finished = async_capture_events(hass, EVENT_BACKFLUSH_FINISHED)
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    assert hass.states.get(BACKFLUSH).state == STATE_OFF
    assert _progress(hass) == 0

    await _start(hass, cycles=3)
    await hass.async_block_till_done()
    # Persisted as running before the relay was switched on.
    assert _stored_run(hass_storage)["state"] == "running"
    assert hass.states.get(BACKFLUSH).state == STATE_ON
    assert hass.states.get(MACHINE_STATE).state == "backflushing"
    assert started[0].data == {
        "config_entry_id": ENTRY_ID,
        "name": "Espresso machine",
        "program": {
            "task": "backflush",
            "cycles": 3,
            "on_seconds": 10,
            "off_seconds": 10,
            "rinse_cycles": 0,
            "rinse_pause_seconds": 60,
            "total_seconds": 50.0,
        },
    }
    attributes = hass.states.get(PROGRESS).attributes
    assert (
        attributes["routine"],
        attributes["phase"],
        attributes["step"],
        attributes["cycle"],
    ) == (
        "running",
        "backflush",
        "on",
        1,
    )

    progress = []
    for _ in range(5):
        await _wait(hass, freezer, 10)
        progress.append(_progress(hass))
    assert recorder.changes == [
        (0.0, "on"),
        (10.0, "off"),
        (20.0, "on"),
        (30.0, "off"),
        (40.0, "on"),
        (50.0, "off"),
    ]
    assert progress == [20, 40, 60, 80, 100]
    assert hass.states.get(BACKFLUSH).state == STATE_OFF
    assert hass.states.get(MACHINE_STATE).state != "backflushing"
    assert hass.states.get(PROGRESS).attributes["routine"] == "finished"
    assert not aborted
    assert finished[0].data == {
        "config_entry_id": ENTRY_ID,
        "name": "Espresso machine",
        "task": "backflush",
        "cycles_done": 3,
        "duration_s": 50.0,
    }
    assert _stored_run(hass_storage)["state"] == "finished"
    assert _stored_run(hass_storage)["off_pending"] is False
    # Pump pulses of the routine are never shots.
    assert hass.states.get(TOTAL).state == "0"
    # Nothing else happens afterwards.
    await _wait(hass, freezer, 30)
    assert len(recorder.changes) == 6


@pytest.mark.parametrize("switch_entity", [TEMPLATE_SWITCH])
@pytest.mark.usefixtures("machine")
async def test_clean_with_rinse_on_template_switch(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A clean: detergent cycles, a rinse pause (event), rinse cycles; a real template switch."""
    recorder = Recorder(hass, TEMPLATE_SWITCH)
    backing = Recorder(hass, BACKING)
    rinse = async_capture_events(hass, EVENT_BACKFLUSH_RINSE)
    finished = async_capture_events(hass, EVENT_BACKFLUSH_FINISHED)

    await _start(hass, task="clean", cycles=2, rinse_cycles=2, rinse_pause_seconds=30)
    await hass.async_block_till_done()
    await _wait(hass, freezer, 31)
    assert rinse[0].data == {
        "config_entry_id": ENTRY_ID,
        "name": "Espresso machine",
        "pause_seconds": 30.0,
    }
    assert hass.states.get(PROGRESS).attributes["step"] == "rinse_pause"
    await _wait(hass, freezer, 60)
    expected = [
        (0.0, "on"),
        (10.0, "off"),
        (20.0, "on"),
        (30.0, "off"),
        (60.0, "on"),
        (70.0, "off"),
        (80.0, "on"),
        (90.0, "off"),
    ]
    assert recorder.changes == expected
    assert backing.changes == expected
    assert finished[0].data["task"] == "clean"
    assert finished[0].data["cycles_done"] == 4
    assert _progress(hass) == 100


@pytest.mark.usefixtures("machine")
async def test_switch_entity_starts_default_and_stops(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Turning the Backflush switch on runs the default program; off aborts (reason user)."""
    recorder = Recorder(hass, RELAY)
    started = async_capture_events(hass, EVENT_BACKFLUSH_STARTED)
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    await hass.services.async_call("switch", "turn_on", {"entity_id": BACKFLUSH}, blocking=True)
    assert started[0].data["program"]["cycles"] == 5
    assert started[0].data["program"]["on_seconds"] == 10
    await _wait(hass, freezer, 25)  # on, off at 10, on at 20
    await hass.services.async_call("switch", "turn_off", {"entity_id": BACKFLUSH}, blocking=True)
    await hass.async_block_till_done()
    assert recorder.changes == [(0.0, "on"), (10.0, "off"), (20.0, "on"), (25.0, "off")]
    assert aborted[0].data["reason"] == "user"
    assert aborted[0].data["cycles_done"] == 1
    assert hass.states.get(BACKFLUSH).state == STATE_OFF
    assert hass.states.get(PROGRESS).attributes["routine"] == "aborted"
    await _wait(hass, freezer, 60)
    assert hass.states.get(RELAY).state == STATE_OFF
    assert len(recorder.changes) == 4


# ------------------------------------------------------------------ every ending


@pytest.mark.usefixtures("machine")
async def test_stop_action(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """stop_backflush during an on-period: off at once, reason stopped, no timer left."""
    recorder = Recorder(hass, RELAY)
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    await _start(hass)
    await _wait(hass, freezer, 3)
    await _stop(hass)
    assert hass.states.get(RELAY).state == STATE_OFF
    assert aborted[0].data["reason"] == "stopped"
    await _wait(hass, freezer, 120)
    assert recorder.changes == [(0.0, "on"), (3.0, "off")]
    # Stopping again does nothing.
    await _stop(hass)
    assert len(aborted) == 1


@pytest.mark.usefixtures("machine")
async def test_stop_during_pause_still_sends_off(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Someone switched the relay on during a pause: the stop turns it off all the same."""
    await _start(hass)
    await _wait(hass, freezer, 12)
    assert hass.states.get(RELAY).state == STATE_OFF
    await hass.services.async_call("input_boolean", "turn_on", {"entity_id": RELAY}, blocking=True)
    await _stop(hass)
    assert hass.states.get(RELAY).state == STATE_OFF


@pytest.mark.parametrize("switch_entity", [TEMPLATE_SWITCH])
@pytest.mark.usefixtures("machine")
async def test_switch_unavailable_then_back_on(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The switch goes unavailable: abort; it comes back on: off is sent again."""
    recorder = Recorder(hass, TEMPLATE_SWITCH)
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    await _start(hass)
    await _wait(hass, freezer, 5)
    await _toggle(hass, freezer, ONLINE, on=False)
    assert aborted[0].data["reason"] == "switch_unavailable"
    assert hass.states.get(BACKFLUSH).state == "unavailable"
    runtime = hass.config_entries.async_get_entry(ENTRY_ID).runtime_data
    assert runtime.backflush.off_pending
    # The relay was still on when the switch went away; it comes back on.
    assert hass.states.get(BACKING).state == STATE_ON
    await _wait(hass, freezer, 30)
    await _toggle(hass, freezer, ONLINE, on=True)
    await _wait(hass, freezer, 2)  # the template switch follows a second later
    assert hass.states.get(TEMPLATE_SWITCH).state == STATE_OFF
    assert hass.states.get(BACKING).state == STATE_OFF
    assert recorder.states == ["on", "unavailable", "on", "off"]
    assert not runtime.backflush.off_pending
    # Later switching by the user is left alone.
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": TEMPLATE_SWITCH}, blocking=True
    )
    await hass.async_block_till_done()
    assert hass.states.get(TEMPLATE_SWITCH).state == STATE_ON


@pytest.mark.usefixtures("relays", "power_sensor")
async def test_no_pump_activity(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
) -> None:
    """No power rise in the first two on-periods: abort at the end of the second one."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    recorder = Recorder(hass, RELAY)
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    await _start(hass)
    # The plug keeps reporting standby power.
    for _ in range(8):
        await _wait(hass, freezer, 5)
        hass.states.async_set(POWER_SENSOR, "1.5", POWER_ATTRIBUTES)
    await _wait(hass, freezer, 30)
    assert recorder.changes == [(0.0, "on"), (10.0, "off"), (20.0, "on"), (30.0, "off")]
    assert aborted[0].data["reason"] == "no_pump_activity"
    assert aborted[0].data["cycles_done"] == 2
    assert hass.states.get(MACHINE_STATE).state != "backflushing"


@pytest.mark.usefixtures("relays", "power_sensor")
async def test_pump_seen_in_second_period_is_enough(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
) -> None:
    """The pump check passes when the pump shows in the second on-period."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    finished = async_capture_events(hass, EVENT_BACKFLUSH_FINISHED)
    await _start(hass, cycles=3)
    await _wait(hass, freezer, 22)
    hass.states.async_set(POWER_SENSOR, str(PUMP_WATTS), POWER_ATTRIBUTES)
    await _wait(hass, freezer, 40)
    assert finished[0].data["cycles_done"] == 3


@pytest.mark.usefixtures("machine")
async def test_unload_turns_off_before_entities_go(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, machine: MockConfigEntry
) -> None:
    """Unloading aborts (reason unload) and the off is done when unload returns."""
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    await _start(hass)
    await _wait(hass, freezer, 4)
    assert hass.states.get(RELAY).state == STATE_ON
    assert await hass.config_entries.async_unload(machine.entry_id)
    assert hass.states.get(RELAY).state == STATE_OFF
    assert machine.state is ConfigEntryState.NOT_LOADED
    await hass.async_block_till_done()
    assert aborted[0].data["reason"] == "unload"
    await _wait(hass, freezer, 60)
    assert hass.states.get(RELAY).state == STATE_OFF


@pytest.mark.usefixtures("machine")
async def test_reload_turns_off(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    machine: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """A reload aborts (reason unload); the new runtime does not see a restart."""
    recorder = Recorder(hass, RELAY)
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    await _start(hass)
    await _wait(hass, freezer, 4)
    assert await hass.config_entries.async_reload(machine.entry_id)
    await hass.async_block_till_done()
    assert [event.data["reason"] for event in aborted] == ["unload"]
    assert _stored_run(hass_storage)["state"] == "aborted"
    await _wait(hass, freezer, 60)
    assert recorder.changes == [(0.0, "on"), (4.0, "off")]
    assert hass.states.get(BACKFLUSH).state == STATE_OFF


@pytest.mark.usefixtures("machine")
async def test_home_assistant_stopping(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Home Assistant stopping turns the relay off (reason unload)."""
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    await _start(hass)
    await _wait(hass, freezer, 2)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert hass.states.get(RELAY).state == STATE_OFF
    assert aborted[0].data["reason"] == "unload"
    await _wait(hass, freezer, 60)
    assert hass.states.get(RELAY).state == STATE_OFF


@pytest.mark.usefixtures("relays", "power_sensor")
async def test_restart_during_routine(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """A routine interrupted by a restart: the relay is turned off at start-up (reason restart)."""
    hass_storage[KEY] = stored_data(
        {
            "total_shots": 3,
            "backflush_run": {
                "program": {"task": "clean", "cycles": 5, "on_seconds": 10, "off_seconds": 10},
                "state": "running",
                "started_at": START.timestamp() - 35,
                "cycles_done": 2,
                "ended_at": None,
                "end_reason": None,
                "off_pending": True,
            },
        }
    )
    await hass.services.async_call("input_boolean", "turn_on", {"entity_id": RELAY}, blocking=True)
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(RELAY).state == STATE_OFF
    assert aborted[0].data == {
        "config_entry_id": ENTRY_ID,
        "name": "Espresso machine",
        "task": "clean",
        "reason": "restart",
        "cycles_done": 2,
        "duration_s": 35.0,
    }
    assert _stored_run(hass_storage)["state"] == "aborted"
    assert _stored_run(hass_storage)["off_pending"] is False
    assert hass.states.get(BACKFLUSH).state == STATE_OFF
    assert hass.states.get(TOTAL).state == "3"


@pytest.mark.parametrize("switch_entity", [TEMPLATE_SWITCH])
@pytest.mark.usefixtures("relays", "power_sensor")
async def test_restart_while_switch_unavailable(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """After a restart the switch is unavailable: the off is sent once it is back."""
    hass_storage[KEY] = stored_data(
        {"backflush_run": {"state": "running", "started_at": START.timestamp()}}
    )
    await _toggle(hass, freezer, ONLINE, on=False)
    await _toggle(hass, freezer, BACKING, on=True)
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert aborted[0].data["reason"] == "restart"
    assert hass.states.get(BACKING).state == STATE_ON
    await _toggle(hass, freezer, ONLINE, on=True)
    assert hass.states.get(BACKING).state == STATE_OFF
    await _wait(hass, freezer, 2)  # the template switch follows a second later
    assert hass.states.get(TEMPLATE_SWITCH).state == STATE_OFF
    assert _stored_run(hass_storage)["off_pending"] is False


@contextmanager
def _failing_switch(runtime: Any, fails: Callable[[int, bool], bool]) -> Iterator[list[bool]]:
    """Make the runner's switch calls for which ``fails(call number, on)`` is true raise.

    Yields the calls made (``on`` of each, in order; numbered from 1).
    """
    real = runtime.backflush.async_turn_switch
    calls: list[bool] = []

    async def flaky(on: bool, context: Any = None) -> None:
        calls.append(on)
        if fails(len(calls), on):
            raise HomeAssistantError("relay offline")
        await real(on, context)

    with patch.object(runtime.backflush, "async_turn_switch", flaky):
        yield calls


@pytest.mark.usefixtures("machine")
async def test_failed_switch_on_aborts_without_timer(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A failing switch call: abort (switch_unavailable), retry the off, no timer left."""
    runtime = hass.config_entries.async_get_entry(ENTRY_ID).runtime_data
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    # The second on, then the first off attempt fail.
    with _failing_switch(runtime, lambda call, on: call in (3, 4)) as calls:
        await _start(hass)
        await _wait(hass, freezer, 25)
    assert calls == [True, False, True, False, False]
    assert aborted[0].data["reason"] == "switch_unavailable"
    assert runtime.backflush.as_diagnostics()["timer_armed"] is False
    assert hass.states.get(RELAY).state == STATE_OFF
    await _wait(hass, freezer, 60)
    assert calls == [True, False, True, False, False]


@pytest.mark.usefixtures("machine")
async def test_failed_switch_off_between_cycles_aborts(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The off at the end of an on-period fails twice: abort rather than pump through."""
    runtime = hass.config_entries.async_get_entry(ENTRY_ID).runtime_data
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    with _failing_switch(runtime, lambda call, on: call in (2, 3)) as calls:
        await _start(hass)
        await _wait(hass, freezer, 11)
        assert aborted[0].data["reason"] == "switch_unavailable"
        await _wait(hass, freezer, 60)
    assert calls == [True, False, False, False]
    assert hass.states.get(RELAY).state == STATE_OFF
    assert not runtime.backflush.off_pending


@pytest.mark.usefixtures("machine")
async def test_switched_off_by_hand_stops(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Someone turns the relay off during an on-period: the routine stops (reason user)."""
    recorder = Recorder(hass, RELAY)
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    await _start(hass)
    await _wait(hass, freezer, 23)
    await hass.services.async_call("input_boolean", "turn_off", {"entity_id": RELAY}, blocking=True)
    await hass.async_block_till_done()
    assert aborted[0].data["reason"] == "user"
    await _wait(hass, freezer, 60)
    assert recorder.changes == [(0.0, "on"), (10.0, "off"), (20.0, "on"), (23.0, "off")]


@pytest.mark.usefixtures("machine")
async def test_stop_while_start_saves(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """A stop while the start is still saving: the relay is never switched on."""
    runtime = hass.config_entries.async_get_entry(ENTRY_ID).runtime_data
    recorder = Recorder(hass, RELAY)
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    real_save = EspressoCareStore.async_save
    saves = 0

    async def save_with_stop(store: EspressoCareStore, data: Any) -> None:
        nonlocal saves
        saves += 1
        if saves == 1:
            await _stop(hass)
        await real_save(store, data)

    with patch.object(EspressoCareStore, "async_save", save_with_stop):
        await _start(hass)
    await _wait(hass, freezer, 30)
    assert [event.data["reason"] for event in aborted] == ["stopped"]
    assert recorder.states == []
    assert hass.states.get(MACHINE_STATE).state != "backflushing"
    assert not runtime.shots.detector.paused


@pytest.mark.usefixtures("machine")
async def test_hanging_switch_call_times_out(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A switch call that never returns fails after 10 s: abort, off, unload is not blocked."""
    runtime = hass.config_entries.async_get_entry(ENTRY_ID).runtime_data
    real = runtime.backflush.async_turn_switch
    calls: list[bool] = []

    async def hanging(on: bool, context: Any = None) -> None:
        calls.append(on)
        if len(calls) == 3:  # the second on hangs
            await asyncio.Event().wait()
        await real(on, context)

    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    with patch.object(runtime.backflush, "async_turn_switch", hanging):
        await _start(hass)
        await _wait(hass, freezer, 19)
        # From here the call hangs: let time pass without waiting for every task to end.
        for _ in range(15):
            freezer.tick(1)
            async_fire_time_changed(hass)
            for _ in range(20):
                await asyncio.sleep(0)
        await hass.async_block_till_done()
    assert [event.data["reason"] for event in aborted] == ["switch_unavailable"]
    # The off of the hanging on-period was queued behind it: sent too (an extra off is safe).
    assert calls[:3] == [True, False, True]
    assert set(calls[3:]) == {False}
    assert hass.states.get(RELAY).state == STATE_OFF
    assert await hass.config_entries.async_unload(ENTRY_ID)


@pytest.mark.usefixtures("machine")
async def test_failed_first_switch_on(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """The very first on fails: translated error, aborted, detection resumed."""
    runtime = hass.config_entries.async_get_entry(ENTRY_ID).runtime_data
    with (
        _failing_switch(runtime, lambda call, on: on),
        pytest.raises(HomeAssistantError) as err,
    ):
        await _start(hass)
    assert err.value.translation_key == "backflush_switch_failed"
    assert not runtime.backflush.running
    assert hass.states.get(MACHINE_STATE).state != "backflushing"


# ------------------------------------------------------------------ refusals and gates


@pytest.mark.usefixtures("machine")
async def test_refuses_while_running_or_brewing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A second start, or a start during a shot, is refused with a translated error."""
    await _start(hass)
    with pytest.raises(ServiceValidationError) as err:
        await _start(hass)
    assert err.value.translation_key == "backflush_already_running"
    await _stop(hass)

    # A shot is being pulled.
    await set_power(hass, freezer, STANDBY_WATTS, after=30)
    await set_power(hass, freezer, PUMP_WATTS, after=10)
    await set_power(hass, freezer, PUMP_WATTS + 1, after=4)
    assert hass.states.get("binary_sensor.espresso_machine_brewing").state == STATE_ON
    with pytest.raises(ServiceValidationError) as err:
        await _start(hass)
    assert err.value.translation_key == "backflush_brewing"


@pytest.mark.parametrize("switch_entity", [TEMPLATE_SWITCH])
@pytest.mark.usefixtures("machine")
async def test_refuses_when_switch_or_sensor_unavailable(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """An unavailable switch or power sensor refuses the start; nothing is switched."""
    await _toggle(hass, freezer, ONLINE, on=False)
    with pytest.raises(ServiceValidationError) as err:
        await _start(hass)
    assert err.value.translation_key == "backflush_switch_unavailable"
    assert err.value.translation_placeholders["entity_id"] == TEMPLATE_SWITCH
    assert hass.states.get(BACKFLUSH).state == "unavailable"

    await _toggle(hass, freezer, ONLINE, on=True)
    for state in ("unavailable", "unknown"):
        hass.states.async_set(POWER_SENSOR, state, POWER_ATTRIBUTES)
        await hass.async_block_till_done()
        with pytest.raises(ServiceValidationError) as err:
            await _start(hass)
        assert err.value.translation_key == "backflush_power_sensor_unavailable"
    assert hass.states.get(BACKING).state == STATE_OFF


@pytest.mark.usefixtures("power_sensor")
async def test_refuses_without_switch(hass: HomeAssistant, config_entry: MockConfigEntry) -> None:
    """Without a backflush switch: no switch, button or progress sensor; the action refuses."""
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry,
        options={k: v for k, v in config_entry.options.items() if k != CONF_BACKFLUSH_SWITCH},
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(BACKFLUSH) is None
    assert hass.states.get(ARM) is None
    assert hass.states.get(PROGRESS) is None
    with pytest.raises(ServiceValidationError) as err:
        await _start(hass)
    assert err.value.translation_key == "backflush_no_switch"
    await _stop(hass)  # nothing to stop: no error


@pytest.mark.parametrize(
    "options",
    [
        {
            "name": "Espresso machine",
            "power_sensor": POWER_SENSOR,
            "machine_type": "single_boiler",
            CONF_SWITCH_ROLE: "pump",
            CONF_BACKFLUSH_SWITCH: RELAY,
            CONF_REQUIRE_ARMING: True,
        }
    ],
)
@pytest.mark.usefixtures("machine")
async def test_arming_gate(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """With require_arming: only within 60 s after pressing Arm backflush, once per press."""
    with pytest.raises(ServiceValidationError) as err:
        await _start(hass)
    assert err.value.translation_key == "backflush_not_armed"
    assert str(err.value) == (
        "Press the Arm backflush button of Espresso machine first: "
        "the backflush must start within 60 seconds after arming"
    )
    assert hass.states.get(RELAY).state == STATE_OFF

    assert hass.states.get(PROGRESS).attributes["require_arming"] is True
    assert hass.states.get(PROGRESS).attributes["armed_until"] is None
    await hass.services.async_call("button", "press", {"entity_id": ARM}, blocking=True)
    armed_until = dt_util.parse_datetime(hass.states.get(PROGRESS).attributes["armed_until"])
    assert armed_until == dt_util.utcnow() + timedelta(seconds=60)
    await _wait(hass, freezer, 59)
    await _start(hass)
    assert hass.states.get(RELAY).state == STATE_ON
    assert hass.states.get(PROGRESS).attributes["armed_until"] is None
    await _stop(hass)
    # Arming was consumed by the start.
    with pytest.raises(ServiceValidationError):
        await _start(hass)

    await hass.services.async_call("button", "press", {"entity_id": ARM}, blocking=True)
    await _wait(hass, freezer, 61)
    with pytest.raises(ServiceValidationError) as err:
        await _start(hass)
    assert err.value.translation_key == "backflush_not_armed"
    # The switch entity goes through the same gate.
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call("switch", "turn_on", {"entity_id": BACKFLUSH}, blocking=True)
    assert hass.states.get(RELAY).state == STATE_OFF


@pytest.mark.parametrize(
    ("data", "key", "placeholders"),
    [
        ({"cycles": 0}, "program_cycles_out_of_range", {"value": "0", "min": "1", "max": "20"}),
        ({"cycles": 21}, "program_cycles_out_of_range", {"value": "21", "min": "1", "max": "20"}),
        ({"on_seconds": 0}, "program_on_seconds_out_of_range", {"value": "0"}),
        ({"on_seconds": 31}, "program_on_seconds_out_of_range", {"value": "31", "max": "30"}),
        ({"off_seconds": 0}, "program_off_seconds_out_of_range", {"value": "0"}),
        ({"off_seconds": 61}, "program_off_seconds_out_of_range", {"value": "61", "max": "60"}),
        (
            {"task": "clean", "rinse_cycles": -1},
            "program_rinse_cycles_out_of_range",
            {"value": "-1"},
        ),
        (
            {"task": "clean", "rinse_cycles": 21},
            "program_rinse_cycles_out_of_range",
            {"value": "21"},
        ),
        (
            {"task": "clean", "rinse_pause_seconds": -1},
            "program_rinse_pause_seconds_out_of_range",
            {"value": "-1"},
        ),
        (
            {"task": "clean", "rinse_pause_seconds": 901},
            "program_rinse_pause_seconds_out_of_range",
            {"value": "901", "max": "900"},
        ),
        (
            {"cycles": 20, "on_seconds": 30, "off_seconds": 34},
            "program_total_too_long",
            {"max_minutes": "20"},
        ),
        ({"task": "descale"}, "program_invalid_task", {"task": "descale"}),
        ({"cycles": 2.5}, "program_invalid_value", {"field": "cycles"}),
        # Hole 7: a boolean is not 1 cycle.
        ({"cycles": True}, "program_invalid_value", {"field": "cycles", "value": "True"}),
        ({"on_seconds": False}, "program_invalid_value", {"field": "on_seconds"}),
        ({"rinse_cycles": True, "task": "clean"}, "program_invalid_value", {}),
    ],
)
@pytest.mark.usefixtures("machine")
async def test_program_bounds(
    hass: HomeAssistant, data: dict[str, Any], key: str, placeholders: dict[str, str]
) -> None:
    """Each bound just outside is refused with a translated error naming it."""
    with pytest.raises(ServiceValidationError) as err:
        await _start(hass, **data)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    # The English text, placeholders filled in (not the bare key).
    assert str(err.value) != key
    assert "{" not in str(err.value)
    assert placeholders.items() <= err.value.translation_placeholders.items()
    assert hass.states.get(RELAY).state == STATE_OFF


@pytest.mark.usefixtures("machine")
async def test_program_bounds_inside(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """The extreme values inside the bounds are accepted (20 minutes exactly)."""
    started = async_capture_events(hass, EVENT_BACKFLUSH_STARTED)
    await _start(hass, cycles=20, on_seconds=30, off_seconds=31.0)
    assert started[0].data["program"]["total_seconds"] == 1189.0
    await _stop(hass)


# ------------------------------------------------------------------ machine power, shots


@pytest.mark.parametrize(
    "options",
    [
        {
            "name": "Espresso machine",
            "power_sensor": POWER_SENSOR,
            "machine_type": "single_boiler",
            CONF_SWITCH_ROLE: "machine_power",
            CONF_BACKFLUSH_SWITCH: RELAY,
        }
    ],
)
@pytest.mark.usefixtures("machine")
async def test_machine_power_lift_brew_lever(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Switching the whole machine: the final off, and the brew lever reminder in the events."""
    finished = async_capture_events(hass, EVENT_BACKFLUSH_FINISHED)
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    await _start(hass, cycles=1)
    await _wait(hass, freezer, 10)
    assert hass.states.get(RELAY).state == STATE_OFF
    assert finished[0].data["lift_brew_lever"] is True
    # A repair issue Home Assistant translates itself, not fixable, kept across restarts.
    issue = ir.async_get(hass).async_get_issue(DOMAIN, LIFT_ISSUE)
    assert issue is not None
    assert (issue.translation_key, issue.is_fixable, issue.is_persistent) == (
        "lift_brew_lever",
        False,
        True,
    )
    assert issue.translation_placeholders == {"name": "Espresso machine"}
    await _start(hass)
    assert ir.async_get(hass).async_get_issue(DOMAIN, LIFT_ISSUE) is None
    await _stop(hass)
    assert aborted[0].data["lift_brew_lever"] is True
    assert ir.async_get(hass).async_get_issue(DOMAIN, LIFT_ISSUE) is not None
    assert hass.states.get(RELAY).state == STATE_OFF


@pytest.mark.usefixtures("machine")
async def test_pump_pulses_are_not_shots(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, pump_power: list[float]
) -> None:
    """25 s pump pulses look like shots, but the routine pauses shot counting."""
    await _start(hass, cycles=3, on_seconds=25, off_seconds=20)
    for _ in range(12):
        await _wait(hass, freezer, 10)
        assert hass.states.get(MACHINE_STATE).state in ("backflushing", "off", "heating", "ready")
    assert pump_power == [PUMP_WATTS, STANDBY_WATTS] * 3
    assert hass.states.get(TOTAL).state == "0"
    # Detection is back afterwards: the same pulse by hand is a shot.
    hass.states.async_set(POWER_SENSOR, str(PUMP_WATTS), POWER_ATTRIBUTES)
    await _wait(hass, freezer, 25)
    hass.states.async_set(POWER_SENSOR, str(STANDBY_WATTS), POWER_ATTRIBUTES)
    await _wait(hass, freezer, 20)
    assert hass.states.get(TOTAL).state == "1"


@pytest.mark.usefixtures("machine")
async def test_diagnostics_include_runner(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The runner's state is part of the diagnostics."""
    runtime = hass.config_entries.async_get_entry(ENTRY_ID).runtime_data
    await _start(hass, cycles=2)
    diagnostics = runtime.backflush.as_diagnostics()
    assert diagnostics["switch"] == RELAY
    assert diagnostics["timer_armed"] is True
    assert diagnostics["run"]["state"] == "running"
    assert diagnostics["current_phase"] == "backflush"
    await _wait(hass, freezer, 30)
    assert runtime.backflush.as_diagnostics()["run"]["state"] == "finished"


# ------------------------------------------------------------------ maintenance, logbook


@pytest.mark.parametrize(
    ("task", "done"), [("backflush", ["backflush"]), ("clean", ["clean", "backflush"])]
)
@pytest.mark.usefixtures("machine")
async def test_success_marks_task_done(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    task: str,
    done: list[str],
) -> None:
    """A completed routine marks its task done (source backflush_routine); an abort does not."""
    events = async_capture_events(hass, EVENT_MAINTENANCE_DONE)
    await _start(hass, task=task, cycles=1)
    await _stop(hass)
    assert not events
    await _start(hass, task=task, cycles=1, rinse_cycles=1, rinse_pause_seconds=0)
    await _wait(hass, freezer, 40)
    assert sorted(event.data["task"] for event in events) == sorted(done)
    assert {event.data["source"] for event in events} == {"backflush_routine"}
    assert hass.states.get(f"sensor.espresso_machine_shots_since_{task}").state == "0"


def _describers(hass: HomeAssistant) -> dict[str, Callable[[Event], dict[str, Any]]]:
    described: dict[str, Callable[[Event], dict[str, Any]]] = {}

    def register(domain: str, event_type: str, describe: Callable[[Event], dict[str, Any]]) -> None:
        assert domain == DOMAIN
        described[event_type] = describe

    async_describe_events(hass, register)
    return described


@pytest.mark.usefixtures("machine")
async def test_logbook(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Every backflush event reads well in the logbook, linked to the Backflush switch."""
    captured = [
        async_capture_events(hass, event_type)
        for event_type in (
            EVENT_BACKFLUSH_STARTED,
            EVENT_BACKFLUSH_RINSE,
            EVENT_BACKFLUSH_FINISHED,
            EVENT_BACKFLUSH_ABORTED,
        )
    ]
    await _start(hass, task="clean", cycles=1, rinse_cycles=1, rinse_pause_seconds=0)
    await _wait(hass, freezer, 40)
    await _start(hass)
    await _stop(hass)
    describe = _describers(hass)
    events = [event for events in captured for event in events]
    messages = [describe[event.event_type](event) for event in events]
    assert {message["entity_id"] for message in messages} == {BACKFLUSH}
    assert {message["name"] for message in messages} == {"Espresso machine"}
    assert sorted(message["message"] for message in messages) == sorted(
        [
            "started an automated clean (1 cycle of 10 s)",  # not "1 cycles"
            "paused the automated clean: rinse the basket for the rinse cycles",
            "finished the automated clean (2 cycles)",
            "started an automated backflush (5 cycles of 10 s)",
            "aborted the automated backflush (stopped)",
        ]
    )
    one = Event(EVENT_BACKFLUSH_FINISHED, {**captured[2][0].data, "cycles_done": 1})
    assert describe[EVENT_BACKFLUSH_FINISHED](one)["message"] == (
        "finished the automated clean (1 cycle)"
    )
    lever = Event(EVENT_BACKFLUSH_FINISHED, {**captured[2][0].data, "lift_brew_lever": True})
    assert describe[EVENT_BACKFLUSH_FINISHED](lever)["message"].endswith(
        "; lift the brew lever before switching the machine on"
    )


@pytest.mark.usefixtures("relays", "power_sensor")
async def test_pending_off_survives_restart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """A switch-off still pending at a restart is sent at start-up; no second abort."""
    hass_storage[KEY] = stored_data(
        {
            "backflush_run": {
                "state": "aborted",
                "end_reason": "switch_unavailable",
                "off_pending": True,
            }
        }
    )
    await hass.services.async_call("input_boolean", "turn_on", {"entity_id": RELAY}, blocking=True)
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(RELAY).state == STATE_OFF
    assert not aborted
    # Nothing pending any more; the last routine is kept for the progress sensor.
    assert hass_storage[KEY]["data"]["backflush_run"]["off_pending"] is False
    assert hass.states.get(PROGRESS).attributes["routine"] == "aborted"


@pytest.mark.usefixtures("machine")
async def test_stop_resends_pending_off(hass: HomeAssistant) -> None:
    """With no routine running, stop_backflush only resends a switch-off still pending."""
    runtime = hass.config_entries.async_get_entry(ENTRY_ID).runtime_data
    await hass.services.async_call("input_boolean", "turn_on", {"entity_id": RELAY}, blocking=True)
    await _stop(hass)
    assert hass.states.get(RELAY).state == STATE_ON  # nothing pending: left alone
    runtime.backflush.off_pending = True
    await _stop(hass)
    assert hass.states.get(RELAY).state == STATE_OFF
    assert not runtime.backflush.off_pending


@pytest.mark.usefixtures("power_sensor")
async def test_saved_routine_without_switch_any_more(
    hass: HomeAssistant, config_entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """A saved routine of a switch that was removed from the options is dropped quietly."""
    hass_storage[KEY] = stored_data({"backflush_run": {"state": "running", "off_pending": True}})
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry,
        options={k: v for k, v in config_entry.options.items() if k != CONF_BACKFLUSH_SWITCH},
    )
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    runtime = config_entry.runtime_data
    assert not aborted
    assert runtime.backflush.as_stored() is None


@pytest.mark.usefixtures("machine")
async def test_progress_after_restart_shows_the_last_routine(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """After a restart the progress sensor shows the last routine (finished: 100 %), not 0 %."""
    await _start(hass, cycles=2)
    await _wait(hass, freezer, 40)
    assert hass.states.get(PROGRESS).state == "100"
    assert await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done()
    state = hass.states.get(PROGRESS)
    assert state.state == "100"
    assert (state.attributes["routine"], state.attributes["task"]) == ("finished", "backflush")
    assert state.attributes["cycles_done"] == 2
    # A second restart still remembers it; a new routine replaces it.
    assert await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done()
    assert hass.states.get(PROGRESS).state == "100"
    await _start(hass, cycles=2)
    assert hass.states.get(PROGRESS).attributes["routine"] == "running"


@pytest.mark.usefixtures("machine")
async def test_progress_after_restart_of_an_aborted_routine(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """An aborted routine keeps the progress it had reached across a restart."""
    await _start(hass, cycles=5)
    await _wait(hass, freezer, 20)
    await _stop(hass)
    reached = hass.states.get(PROGRESS).state
    assert 0 < int(reached) < 100
    assert await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done()
    state = hass.states.get(PROGRESS)
    assert (state.state, state.attributes["routine"]) == (reached, "aborted")


# --------------------------------------------------------------------------- the relay ends off

RELAY_ISSUE = f"{ENTRY_ID}_backflush_relay_may_be_on"
SWITCH_ERRORS = [
    ConnectionError("plug offline"),
    OSError(113, "No route to host"),
    RuntimeError("integration bug"),
    HomeAssistantError("relay offline"),
]


@dataclass
class FlakySwitch:
    """Wraps the runner's switch calls: the calls made, and which of them fail or are ignored.

    ``fail_off``/``fail_on`` raise ``error`` on the next so many off/on calls; ``ignore_off``
    makes the next so many off calls return without switching (a relay that does not obey).
    """

    runner: Any
    error: BaseException = field(default_factory=lambda: HomeAssistantError("relay offline"))
    fail_off: int = 0
    fail_on: int = 0
    ignore_off: int = 0
    calls: list[bool] = field(default_factory=list)

    async def __call__(self, on: bool, context: Any = None) -> None:
        """Switch, fail or ignore."""
        self.calls.append(on)
        if on and self.fail_on:
            self.fail_on -= 1
            raise self.error
        if not on and self.fail_off:
            self.fail_off -= 1
            raise self.error
        if not on and self.ignore_off:
            self.ignore_off -= 1
            return
        await self.real(on, context)

    def __post_init__(self) -> None:
        self.real = self.runner.async_turn_switch


def _runner(hass: HomeAssistant) -> Any:
    return hass.config_entries.async_get_entry(ENTRY_ID).runtime_data.backflush


def _relay_issue(hass: HomeAssistant) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, RELAY_ISSUE)


@pytest.mark.parametrize("error", SWITCH_ERRORS, ids=lambda err: type(err).__name__)
@pytest.mark.usefixtures("machine")
async def test_off_raising_any_error_aborts_and_retries(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, error: BaseException
) -> None:
    """Off raises (any error): the routine aborts, ends, detection resumes, off is retried."""
    runner = _runner(hass)
    switch = FlakySwitch(runner, error, fail_off=4)
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    with patch.object(runner, "async_turn_switch", switch):
        await _start(hass, cycles=3)
        await _wait(hass, freezer, 10)
        # The off of the first on-period failed twice: abort, whose off fails twice too.
        assert switch.calls == [True, False, False, False, False]
        assert [event.data["reason"] for event in aborted] == ["switch_unavailable"]
        assert not hass.config_entries.async_get_entry(ENTRY_ID).runtime_data.shots.detector.paused
        assert hass.states.get(MACHINE_STATE).state != "backflushing"
        assert hass.states.get(RELAY).state == STATE_ON
        assert runner.off_pending
        assert _relay_issue(hass) is not None
        assert runner.as_diagnostics()["timer_armed"] is False
        await _wait(hass, freezer, 6)  # the first retry, 5 s later, goes through
    assert hass.states.get(RELAY).state == STATE_OFF
    assert switch.calls == [True, False, False, False, False, False]
    assert not runner.off_pending
    assert _relay_issue(hass) is None
    assert len(aborted) == 1


@pytest.mark.parametrize("error", SWITCH_ERRORS, ids=lambda err: type(err).__name__)
@pytest.mark.usefixtures("machine")
async def test_later_on_raising_any_error_aborts(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, error: BaseException
) -> None:
    """A later on raises (any error): abort, off, no timer, never switched on again."""
    runner = _runner(hass)
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    await _start(hass, cycles=3)
    switch = FlakySwitch(runner, error, fail_on=1)
    with patch.object(runner, "async_turn_switch", switch):
        await _wait(hass, freezer, 25)
        await _wait(hass, freezer, 120)
    assert switch.calls == [False, True, False]
    assert [event.data["reason"] for event in aborted] == ["switch_unavailable"]
    assert not runner.running
    assert runner.as_diagnostics()["timer_armed"] is False
    assert hass.states.get(RELAY).state == STATE_OFF
    assert runner.last_error


@pytest.mark.parametrize("error", SWITCH_ERRORS, ids=lambda err: type(err).__name__)
@pytest.mark.usefixtures("machine")
async def test_first_on_raising_any_error_leaves_nothing_running(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, error: BaseException
) -> None:
    """The very first on raises (any error): a translated error, no routine left cycling."""
    runner = _runner(hass)
    switch = FlakySwitch(runner, error, fail_on=1)
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    with patch.object(runner, "async_turn_switch", switch):
        with pytest.raises(HomeAssistantError) as err:
            await _start(hass)
        assert type(err.value) is HomeAssistantError
        assert err.value.translation_key == "backflush_switch_failed"
        await _wait(hass, freezer, 120)
    assert switch.calls == [True, False]
    assert [event.data["reason"] for event in aborted] == ["switch_unavailable"]
    assert not runner.running
    assert runner.as_diagnostics()["timer_armed"] is False
    assert not hass.config_entries.async_get_entry(ENTRY_ID).runtime_data.shots.detector.paused
    assert hass.states.get(RELAY).state == STATE_OFF


@pytest.mark.parametrize("error", SWITCH_ERRORS, ids=lambda err: type(err).__name__)
@pytest.mark.usefixtures("machine")
async def test_stop_never_raises_a_raw_error(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, error: BaseException
) -> None:
    """stop_backflush while off raises: no error reaches the caller; off follows later."""
    runner = _runner(hass)
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    await _start(hass)
    await _wait(hass, freezer, 3)
    switch = FlakySwitch(runner, error, fail_off=3)
    with patch.object(runner, "async_turn_switch", switch):
        await _stop(hass)
        assert [event.data["reason"] for event in aborted] == ["stopped"]
        assert hass.states.get(RELAY).state == STATE_ON
        assert _relay_issue(hass) is not None
        await _stop(hass)  # stopping again: off is sent again, still no error
        await _wait(hass, freezer, 30)
    assert hass.states.get(RELAY).state == STATE_OFF
    assert _relay_issue(hass) is None
    assert len(aborted) == 1


@pytest.mark.usefixtures("machine")
async def test_final_off_failing_twice_is_an_abort_retried_until_off(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Hole 2: the last off fails twice while the switch reports on: never "finished".

    The end is an abort, the task is not marked done, a repair issue says the relay may be
    on, and off is retried with a backoff for as long as the switch is not off.
    """
    runner = _runner(hass)
    switch = FlakySwitch(runner, fail_off=6)
    finished = async_capture_events(hass, EVENT_BACKFLUSH_FINISHED)
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    done = async_capture_events(hass, EVENT_MAINTENANCE_DONE)
    with patch.object(runner, "async_turn_switch", switch):
        await _start(hass, cycles=1)
        await _wait(hass, freezer, 10)
        assert switch.calls == [True, False, False]
        assert not finished
        assert [event.data["reason"] for event in aborted] == ["switch_unavailable"]
        assert not done
        assert hass.states.get(PROGRESS).attributes["routine"] == "aborted"
        issue = _relay_issue(hass)
        assert issue is not None
        assert issue.severity is ir.IssueSeverity.CRITICAL
        assert issue.translation_placeholders == {"name": "Espresso machine", "entity_id": RELAY}
        # Retried after 5, 10, 20 s (each try sends off twice): the relay stays on meanwhile.
        await _wait(hass, freezer, 5)
        assert switch.calls.count(False) == 4
        await _wait(hass, freezer, 10)
        assert switch.calls.count(False) == 6
        assert hass.states.get(RELAY).state == STATE_ON
        await _wait(hass, freezer, 20)
        assert switch.calls.count(False) == 7
    assert hass.states.get(RELAY).state == STATE_OFF
    assert _relay_issue(hass) is None
    assert not runner.off_pending
    assert not finished
    assert not done
    await _wait(hass, freezer, 300)
    assert switch.calls.count(False) == 7


@pytest.mark.usefixtures("machine")
async def test_switch_ignoring_off_is_an_abort_retried_until_off(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The last off goes through but the switch keeps reporting on: abort after 30 s, retry."""
    runner = _runner(hass)
    switch = FlakySwitch(runner, ignore_off=5)
    finished = async_capture_events(hass, EVENT_BACKFLUSH_FINISHED)
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    with patch.object(runner, "async_turn_switch", switch):
        await _start(hass, cycles=1)
        await _wait(hass, freezer, 10)
        assert hass.states.get(RELAY).state == STATE_ON
        assert not aborted
        assert not finished
        with pytest.raises(ServiceValidationError) as err:
            await _start(hass)  # still ending: nothing new starts
        assert err.value.translation_key == "backflush_already_running"
        await _wait(hass, freezer, 30)
        assert [event.data["reason"] for event in aborted] == ["switch_unavailable"]
        assert _relay_issue(hass) is not None
        # Off keeps being sent while the switch reports on: after 5, 10, 20, 40, 60 s.
        await _wait(hass, freezer, 140)
    assert switch.calls.count(False) == 6
    assert hass.states.get(RELAY).state == STATE_OFF
    assert _relay_issue(hass) is None
    assert not finished


@pytest.mark.parametrize("switch_entity", [TEMPLATE_SWITCH])
@pytest.mark.usefixtures("machine")
async def test_switch_confirming_off_late_still_finishes(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A switch that reports off a few seconds after the last off: finished, task done."""
    runner = _runner(hass)
    finished = async_capture_events(hass, EVENT_BACKFLUSH_FINISHED)
    done = async_capture_events(hass, EVENT_MAINTENANCE_DONE)
    real = runner.async_turn_switch
    calls: list[bool] = []

    async def slow_off(on: bool, context: Any = None) -> None:
        calls.append(on)
        if on:
            await real(on, context)
        # Off: the relay reports the new state a little later.

    with patch.object(runner, "async_turn_switch", slow_off):
        await _start(hass, cycles=1)
        await _wait(hass, freezer, 10)
        assert not finished
        await _toggle(hass, freezer, BACKING, on=False)
        await _wait(hass, freezer, 2)
    assert [event.data["task"] for event in finished] == ["backflush"]
    assert len(done) == 1
    assert _relay_issue(hass) is None
    assert not runner.off_pending


@pytest.mark.usefixtures("power_sensor")
async def test_restart_with_input_boolean_loading_after_us(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Hole 3: at start-up input_boolean loads after us, adding its entity before turn_off.

    The off waits for input_boolean's turn_off, and the relay ends off; the abort is reported.
    """
    freezer.move_to(START)
    hass.set_state(CoreState.starting)
    hass_storage[KEY] = stored_data(
        {"total_shots": 3, "backflush_run": {"state": "running", "started_at": START.timestamp()}}
    )
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert not aborted  # waiting for the switch's integration
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"pump_relay": {"initial": True}}}
    )
    await hass.async_block_till_done()
    assert hass.states.get(RELAY).state == STATE_OFF
    assert _stored_run(hass_storage)["off_pending"] is False
    assert _relay_issue(hass) is None
    # The abort is reported once Home Assistant has started: automations listen by then.
    assert not aborted
    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done()
    assert [event.data["reason"] for event in aborted] == ["restart"]


async def _set_up_abort_automation(hass: HomeAssistant) -> None:
    """An automation that tells of every backflush abort (a user's "tell me" automation)."""
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "triggers": [{"trigger": "event", "event_type": EVENT_BACKFLUSH_ABORTED}],
                "actions": [
                    {
                        "event": "abort_seen",
                        "event_data": {"reason": "{{ trigger.event.data.reason }}"},
                    }
                ],
            }
        },
    )


@pytest.mark.usefixtures("power_sensor")
@pytest.mark.parametrize("automation_first", [True, False])
async def test_restart_abort_reaches_automations_set_up_before_or_after_us(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    automation_first: bool,
) -> None:
    """The restart's abort reaches an automation, whichever of the two was set up first.

    Automations set up during start-up attach their triggers when Home Assistant has started
    (a listener of ``homeassistant_started``, as ours is): fired from within that event, the
    abort would reach only those whose listener came first.
    """
    freezer.move_to(START)
    hass.set_state(CoreState.not_running)
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"pump_relay": {"initial": True}}}
    )
    hass_storage[KEY] = stored_data(
        {"total_shots": 3, "backflush_run": {"state": "running", "started_at": START.timestamp()}}
    )
    seen = async_capture_events(hass, "abort_seen")
    if automation_first:
        await _set_up_abort_automation(hass)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    if not automation_first:
        await _set_up_abort_automation(hass)
    await hass.async_block_till_done()
    assert hass.states.get(RELAY).state == STATE_OFF
    assert not seen
    await hass.async_start()
    await hass.async_block_till_done()
    assert [event.data["reason"] for event in seen] == ["restart"]


@pytest.mark.usefixtures("power_sensor")
async def test_restart_off_retried_until_confirmed(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """After a restart the switch's turn_off never comes: at start-up off is tried, retried."""
    freezer.move_to(START)
    hass.set_state(CoreState.starting)
    hass_storage[KEY] = stored_data({"backflush_run": {"state": "running"}})
    aborted = async_capture_events(hass, EVENT_BACKFLUSH_ABORTED)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    # Home Assistant started without input_boolean's actions: off fails, the end is reported.
    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done()
    assert [event.data["reason"] for event in aborted] == ["restart"]
    assert _relay_issue(hass) is not None
    # input_boolean comes later (a slow integration): the next retry turns the relay off.
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"pump_relay": {"initial": True}}}
    )
    await hass.async_block_till_done()
    await _wait(hass, freezer, 10)
    assert hass.states.get(RELAY).state == STATE_OFF
    assert _relay_issue(hass) is None
    assert not _runner(hass).off_pending


@pytest.mark.usefixtures("relays", "pump_power")
async def test_two_machines_on_one_relay_refuse_a_second_start(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """A second machine with the same relay cannot start while the first one runs."""
    hass.states.async_set(POWER_SENSOR, "1.0", POWER_ATTRIBUTES)
    hass.states.async_set("sensor.second_plug_power", "1.0", POWER_ATTRIBUTES)
    config_entry.add_to_hass(hass)
    second = MockConfigEntry(
        domain=DOMAIN,
        title="Second machine",
        options={**config_entry.options, "power_sensor": "sensor.second_plug_power"},
    )
    second.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)  # sets up both
    await hass.async_block_till_done()
    assert second.state is ConfigEntryState.LOADED
    await _start(hass)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "start_backflush", {"config_entry_id": second.entry_id}, blocking=True
        )
    assert err.value.translation_key == "backflush_switch_in_use"
    assert err.value.translation_placeholders["other"] == "Espresso machine"
    await _wait(hass, freezer, 100)
    assert hass.states.get(RELAY).state == STATE_OFF
    # Once the first one ended, the second may run.
    await hass.services.async_call(
        DOMAIN, "start_backflush", {"config_entry_id": second.entry_id}, blocking=True
    )
    assert hass.states.get(RELAY).state == STATE_ON
    await _stop(hass)
    await hass.services.async_call(
        DOMAIN, "stop_backflush", {"config_entry_id": second.entry_id}, blocking=True
    )
    assert hass.states.get(RELAY).state == STATE_OFF


# ------------------------------------------------------------------ random sequences, repeated failures

FAULT_ERRORS = [
    HomeAssistantError("relay offline"),
    ConnectionError("plug offline"),
    OSError(113, "No route to host"),
    RuntimeError("integration bug"),
    TimeoutError(),
]


@dataclass
class Faults:
    """Faults of the switch's integration, for every runner (a reload makes a new one)."""

    error: BaseException = field(default_factory=lambda: HomeAssistantError("relay offline"))
    fail_on: int = 0
    fail_off: int = 0
    ignore_off: int = 0

    def clear(self) -> None:
        """The integration works again."""
        self.fail_on = self.fail_off = self.ignore_off = 0


backflush_actions = st.one_of(
    st.tuples(
        st.just("start"),
        st.integers(min_value=1, max_value=3),
        st.integers(min_value=1, max_value=6),
        st.integers(min_value=1, max_value=6),
    ),
    st.tuples(st.just("stop")),
    st.tuples(st.just("wait"), st.integers(min_value=1, max_value=40)),
    st.tuples(
        st.just("fail"),
        st.sampled_from(["fail_on", "fail_off", "ignore_off"]),
        st.integers(min_value=1, max_value=6),
        st.sampled_from(range(len(FAULT_ERRORS))),
    ),
    st.tuples(st.just("relay_on_by_hand")),
    st.tuples(st.just("reload")),
)


@pytest.mark.usefixtures("machine")
@settings(
    max_examples=600,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=st.lists(backflush_actions, min_size=1, max_size=10))
async def test_random_actions_with_repeated_switch_failures_end_off(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, actions: list[tuple[Any, ...]]
) -> None:
    """Random starts, stops, waits, reloads and repeated failures of the switch (raising any
    error, or ignoring off): once the switch works again, the relay always ends off, nothing
    runs, nothing is pending and no repair issue is left; no raw error reaches a caller."""
    faults = Faults()
    real = BackflushRunner.async_turn_switch

    async def flaky(runner: BackflushRunner, on: bool, context: Any = None) -> None:
        if on and faults.fail_on:
            faults.fail_on -= 1
            raise faults.error
        if not on and faults.fail_off:
            faults.fail_off -= 1
            raise faults.error
        if not on and faults.ignore_off:
            faults.ignore_off -= 1
            return
        await real(runner, on, context)

    start_errors: list[HomeAssistantError] = []
    with patch.object(BackflushRunner, "async_turn_switch", flaky):
        for action in actions:
            kind = action[0]
            if kind == "start":
                try:
                    await _start(
                        hass, cycles=action[1], on_seconds=action[2], off_seconds=action[3]
                    )
                except ServiceValidationError:
                    pass  # refused (running, switch unavailable...): translated
                except HomeAssistantError as err:
                    start_errors.append(err)
            elif kind == "stop":
                await _stop(hass)
            elif kind == "wait":
                await _wait(hass, freezer, action[1])
            elif kind == "fail":
                setattr(faults, action[1], action[2])
                faults.error = FAULT_ERRORS[action[3]]
            elif kind == "relay_on_by_hand":
                if not _runner(hass).busy:
                    continue  # outside a routine the relay is the user's own business
                await hass.services.async_call(
                    "input_boolean", "turn_on", {"entity_id": RELAY}, blocking=True
                )
            else:
                assert await hass.config_entries.async_reload(ENTRY_ID)
                await hass.async_block_till_done()
        faults.clear()
        # The longest routine (3 x 6 s on, 6 s off), the off confirmation (30 s) and the
        # retries' backoff (at most a minute) are over within 3 minutes.
        for _ in range(36):
            freezer.tick(5)
            async_fire_time_changed(hass)
            await hass.async_block_till_done()
        runner = _runner(hass)
        assert hass.states.get(RELAY).state == STATE_OFF, actions
        assert not runner.busy, actions
        assert not runner.off_pending, actions
        assert _relay_issue(hass) is None, actions
        assert hass.states.get(BACKFLUSH).state == STATE_OFF
        # A start whose first on failed says so, translated; no raw error.
        assert all(type(err) is HomeAssistantError for err in start_errors)
        assert all(err.translation_key == "backflush_switch_failed" for err in start_errors)
