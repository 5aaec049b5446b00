"""Extension points of the runtime: pausing detection, driving the switch, backflush hook."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.core import HassJob
from homeassistant.util.async_ import get_scheduled_timer_handles
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events, async_mock_service

from custom_components.espresso_care.const import CONF_BACKFLUSH_SWITCH, EVENT_BACKFLUSH_DETECTED

from .common import PUMP_WATTS, STANDBY_WATTS, pass_time, pull_shot, set_power
from .conftest import PLUG_SWITCH

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

TOTAL = "sensor.espresso_machine_total_shots"
MACHINE_STATE = "sensor.espresso_machine_machine_state"


@pytest.fixture
def options(options: dict[str, Any]) -> dict[str, Any]:
    """Options with a backflush switch."""
    return {**options, CONF_BACKFLUSH_SWITCH: PLUG_SWITCH}


async def test_paused_detection_counts_nothing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> None:
    """Pump runs while detection is paused (automated backflush) are not shots."""
    runtime = init_integration.runtime_data
    runtime.shots.pause_detection()
    assert hass.states.get(MACHINE_STATE).state == "backflushing"
    assert runtime.shots.as_diagnostics()["detector"]["paused"] is True
    await pull_shot(hass, freezer)
    assert hass.states.get(TOTAL).state == "0"

    runtime.shots.resume_detection()
    assert hass.states.get(MACHINE_STATE).state != "backflushing"
    await pull_shot(hass, freezer)
    assert hass.states.get(TOTAL).state == "1"


@pytest.mark.parametrize("off_before_resume", [True, False])
async def test_shot_right_after_resume_counts(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    off_before_resume: bool,
) -> None:
    """The plug's standby reading after the routine's last pulse, delivered just before the
    resume (as Home Assistant 2026.10 does) or just after (2026.2): the next shot counts."""
    runtime = init_integration.runtime_data
    runtime.shots.pause_detection()
    await set_power(hass, freezer, PUMP_WATTS, after=5)
    if off_before_resume:
        await set_power(hass, freezer, STANDBY_WATTS, after=25)
        runtime.shots.resume_detection()
    else:
        freezer.tick(25)
        runtime.shots.resume_detection()
        await set_power(hass, freezer, STANDBY_WATTS)
    await set_power(hass, freezer, PUMP_WATTS, after=5)
    await set_power(hass, freezer, STANDBY_WATTS, after=25)
    await pass_time(hass, freezer, 15)
    assert hass.states.get(TOTAL).state == "1"


@pytest.mark.parametrize(
    ("switch", "domain"), [(PLUG_SWITCH, "switch"), ("input_boolean.pump", "input_boolean")]
)
async def test_turn_backflush_switch(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    power_sensor: str,
    switch: str,
    domain: str,
) -> None:
    """The runtime switches the configured switch or toggle helper."""
    hass.states.async_set(switch, "off")
    entry_options = {**config_entry.options, CONF_BACKFLUSH_SWITCH: switch}
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(config_entry, options=entry_options)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    turn_on = async_mock_service(hass, domain, "turn_on")
    turn_off = async_mock_service(hass, domain, "turn_off")

    runtime = config_entry.runtime_data
    await runtime.backflush.async_turn_switch(True)
    await runtime.backflush.async_turn_switch(False)
    assert [call.data["entity_id"] for call in turn_on] == [switch]
    assert [call.data["entity_id"] for call in turn_off] == [switch]


async def test_turn_backflush_switch_without_switch(
    hass: HomeAssistant, config_entry: MockConfigEntry, power_sensor: str
) -> None:
    """Without a configured switch there is nothing to switch."""
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry,
        options={k: v for k, v in config_entry.options.items() if k != CONF_BACKFLUSH_SWITCH},
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    with pytest.raises(RuntimeError):
        await config_entry.runtime_data.backflush.async_turn_switch(True)


async def test_manual_backflush_is_not_a_shot(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> None:
    """A manual backflush (short pump pulses) reaches the maintenance schedule, not the counters."""
    hass.states.async_set(PLUG_SWITCH, "on")
    detected = async_capture_events(hass, EVENT_BACKFLUSH_DETECTED)
    for _ in range(6):
        await set_power(hass, freezer, PUMP_WATTS, after=8)
        await set_power(hass, freezer, STANDBY_WATTS, after=7)
    await pass_time(hass, freezer, 60)
    assert hass.states.get(TOTAL).state == "0"
    assert len(detected) == 1
    assert detected[0].data["pulses"] == 6
    # The switch's state changes that are no removal leave the repair issues alone.
    hass.states.async_set(PLUG_SWITCH, "off")
    await hass.async_block_till_done()


def _ticks_armed(hass: HomeAssistant) -> list[float]:
    """Seconds until each of the shot counter's tick timers waiting in the event loop."""
    return sorted(
        handle.when() - hass.loop.time()
        for handle in get_scheduled_timer_handles(hass.loop)
        if not handle.cancelled()
        and any(
            isinstance(arg, HassJob) and str(arg.name).startswith("espresso_care tick")
            for arg in handle._args  # what the loop holds
        )
    )


async def test_tick_runs_only_while_time_decides(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> None:
    """No timer while the machine is off; one tick timer from a pump start until it is off again."""
    await set_power(hass, freezer, STANDBY_WATTS, after=5)
    await pass_time(hass, freezer, 900)  # standby long enough: off
    await set_power(hass, freezer, STANDBY_WATTS, after=5)
    assert hass.states.get(MACHINE_STATE).state == "off"
    assert _ticks_armed(hass) == []
    await pass_time(hass, freezer, 60)
    assert _ticks_armed(hass) == []

    await set_power(hass, freezer, PUMP_WATTS, after=5)  # a pump run starts: the tick is armed
    (due,) = _ticks_armed(hass)
    assert 0 < due <= 5
    await set_power(hass, freezer, PUMP_WATTS, after=5)
    assert len(_ticks_armed(hass)) == 1  # (never a second one)
    await set_power(hass, freezer, STANDBY_WATTS, after=20)
    # the plug stays silent: the tick closes the run and counts the shot
    await pass_time(hass, freezer, 15)
    assert hass.states.get(TOTAL).state == "1"
    # standby, not yet long enough to call the machine off: one timer, for when it is
    (due,) = _ticks_armed(hass)
    assert due > 60
    # a second shot meanwhile: its start brings the tick forward
    await set_power(hass, freezer, PUMP_WATTS, after=25)
    (due,) = _ticks_armed(hass)
    assert due <= 5
    await set_power(hass, freezer, STANDBY_WATTS, after=25)
    await pass_time(hass, freezer, 15)
    assert hass.states.get(TOTAL).state == "2"
    await pass_time(hass, freezer, 900)
    assert hass.states.get(MACHINE_STATE).state == "off"
    assert _ticks_armed(hass) == []

    await hass.config_entries.async_unload(init_integration.entry_id)
    await set_power(hass, freezer, PUMP_WATTS, after=5)
    assert _ticks_armed(hass) == []
