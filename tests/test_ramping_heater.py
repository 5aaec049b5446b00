"""A single boiler whose PID heater ramps continuously during each shot, through Home Assistant."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.core import Event, callback
import pytest

from custom_components.espresso_care.const import ATTR_DURATION_S, EVENT_SHOT

from .common import PUMP_WATTS, STANDBY_WATTS, pass_time, set_power

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

HEATER_WATTS = 1300.0
SHOT_SECONDS = 28
FALL_SECONDS = 30


@pytest.mark.freeze_time("2026-05-04 08:00:00+00:00")
async def test_three_shots_with_a_ramping_heater_count_three(
    hass: HomeAssistant, init_integration: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Pump 52 W plus a heater rising from 30 % to 100 %, then falling off: three shots."""
    shots: list[Event] = []

    @callback
    def on_shot(event: Event) -> None:
        shots.append(event)

    hass.bus.async_listen(EVENT_SHOT, on_shot)
    for _ in range(3):
        await set_power(hass, freezer, STANDBY_WATTS, after=60)
        for second in range(SHOT_SECONDS):
            heater = HEATER_WATTS * (0.3 + 0.7 * second / (SHOT_SECONDS - 1))
            await set_power(hass, freezer, round(heater + PUMP_WATTS, 1), after=1)
        # the pump stops; the heater falls off linearly (the probe lags the boiler)
        for second in range(FALL_SECONDS):
            heater = HEATER_WATTS * (1.0 - second / FALL_SECONDS)
            await set_power(hass, freezer, round(heater + STANDBY_WATTS, 1), after=1)
        await set_power(hass, freezer, STANDBY_WATTS, after=1)
        await pass_time(hass, freezer, 120)

    assert hass.states.get("sensor.espresso_machine_total_shots").state == "3"
    assert len(shots) == 3
    for event in shots:
        # the shot is the pump's run, not the heater falling off after it
        assert abs(event.data[ATTR_DURATION_S] - SHOT_SECONDS) <= 2.0
