"""Binary sensor of Espresso Care."""

from __future__ import annotations

from typing import TYPE_CHECKING
from unittest.mock import patch

from homeassistant.const import STATE_OFF, STATE_ON, Platform
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform

from .common import PUMP_WATTS, STANDBY_WATTS, pass_time, set_power

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers import entity_registry as er
    from syrupy.assertion import SnapshotAssertion

BREWING = "binary_sensor.espresso_machine_brewing"


@pytest.mark.usefixtures("power_sensor")
async def test_entities(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """The brewing sensor is registered with its device class and translated name."""
    config_entry.add_to_hass(hass)
    with patch("custom_components.espresso_care.PLATFORMS", (Platform.BINARY_SENSOR,)):
        assert await hass.config_entries.async_setup(config_entry.entry_id)
        await hass.async_block_till_done()
    await snapshot_platform(hass, entity_registry, snapshot, config_entry.entry_id)


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
