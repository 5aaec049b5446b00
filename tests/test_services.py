"""Actions of Espresso Care."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.espresso_care.const import DOMAIN
from custom_components.espresso_care.store import storage_key

from .common import pull_shot
from .conftest import ENTRY_ID

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant

TOTAL = "sensor.espresso_machine_total_shots"
TODAY = "sensor.espresso_machine_shots_today"


async def _adjust(hass: HomeAssistant, count: Any, entry_id: str = ENTRY_ID) -> None:
    await hass.services.async_call(
        DOMAIN,
        "adjust_shots",
        {"config_entry_id": entry_id, "count": count},
        blocking=True,
    )


@pytest.mark.usefixtures("init_integration")
async def test_adjust_shots(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """Missed shots are added, false ones removed; counters never go below zero and are saved."""
    await pull_shot(hass, freezer)
    assert hass.states.get(TOTAL).state == "1"

    await _adjust(hass, 3)
    assert hass.states.get(TOTAL).state == "4"
    assert hass.states.get(TODAY).state == "4"
    assert hass_storage[storage_key(ENTRY_ID)]["data"]["total_shots"] == 4

    await _adjust(hass, -2)
    assert hass.states.get(TOTAL).state == "2"
    assert hass.states.get(TODAY).state == "2"

    await _adjust(hass, "-50")
    assert hass.states.get(TOTAL).state == "0"
    assert hass.states.get(TODAY).state == "0"
    assert hass_storage[storage_key(ENTRY_ID)]["data"]["total_shots"] == 0


@pytest.mark.usefixtures("init_integration")
@pytest.mark.parametrize("count", [51, -51, "many"])
async def test_adjust_shots_out_of_range(hass: HomeAssistant, count: Any) -> None:
    """The count is limited to -50..50."""
    with pytest.raises(vol.Invalid):
        await _adjust(hass, count)


@pytest.mark.usefixtures("init_integration")
async def test_adjust_shots_zero(hass: HomeAssistant) -> None:
    """Adjusting by zero shots is refused with a translated error."""
    with pytest.raises(ServiceValidationError) as err:
        await _adjust(hass, 0)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "count_zero"


@pytest.mark.usefixtures("init_integration")
async def test_adjust_shots_unknown_entry(hass: HomeAssistant) -> None:
    """An unknown config entry, or one of another integration, is refused."""
    with pytest.raises(ServiceValidationError) as err:
        await _adjust(hass, 1, "not-an-entry")
    assert err.value.translation_key == "entry_not_found"
    assert err.value.translation_placeholders == {"entry_id": "not-an-entry"}

    other = MockConfigEntry(domain="shelly")
    other.add_to_hass(hass)
    with pytest.raises(ServiceValidationError) as err:
        await _adjust(hass, 1, other.entry_id)
    assert err.value.translation_key == "entry_not_found"


async def test_adjust_shots_entry_not_loaded(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """An entry that is not loaded is refused."""
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _adjust(hass, 1)
    assert err.value.translation_key == "entry_not_loaded"
    assert err.value.translation_placeholders == {"name": "Espresso machine"}
