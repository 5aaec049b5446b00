"""Binary sensor of Espresso Care."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.const import STATE_OFF, STATE_ON
import pytest

from .common import PUMP_WATTS, STANDBY_WATTS, pass_time, set_power

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant

BREWING = "binary_sensor.espresso_machine_brewing"


@pytest.mark.usefixtures("init_integration")
async def test_brewing_follows_pump(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Brewing is on while the pump runs a possible shot and off afterwards."""
    assert hass.states.get(BREWING).state == STATE_OFF
    await set_power(hass, freezer, PUMP_WATTS, after=10)
    assert hass.states.get(BREWING).state == STATE_ON
    await set_power(hass, freezer, STANDBY_WATTS, after=25)
    await pass_time(hass, freezer, 15)
    assert hass.states.get(BREWING).state == STATE_OFF


@pytest.mark.usefixtures("init_integration")
async def test_brewing_off_for_hot_water(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A pump run longer than the longest shot (hot water) stops being a possible shot."""
    await set_power(hass, freezer, PUMP_WATTS, after=10)
    for _ in range(16):
        await set_power(hass, freezer, PUMP_WATTS, after=5)
    assert hass.states.get(BREWING).state == STATE_OFF
    assert hass.states.get("sensor.espresso_machine_total_shots").state == "0"
