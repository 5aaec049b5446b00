"""Set-up, unload and migration of Espresso Care."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntryState

from custom_components.espresso_care.const import DOMAIN

from .conftest import ENTRY_ID

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry


async def test_setup_and_unload(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """The entry loads, creates its entities and unloads."""
    assert init_integration.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.espresso_machine_total_shots").state == "0"
    assert hass.services.has_service(DOMAIN, "adjust_shots")

    assert await hass.config_entries.async_unload(ENTRY_ID)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get("sensor.espresso_machine_total_shots").state == "unavailable"
