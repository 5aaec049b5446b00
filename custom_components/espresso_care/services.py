"""Actions of Espresso Care (registered once, in ``async_setup``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from .const import (
    ADJUST_SHOTS_LIMIT,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_COUNT,
    DOMAIN,
    SERVICE_ADJUST_SHOTS,
)

if TYPE_CHECKING:
    from .runtime import EspressoCareConfigEntry, EspressoCareRuntime

ADJUST_SHOTS_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_COUNT): vol.All(
            vol.Coerce(int), vol.Range(min=-ADJUST_SHOTS_LIMIT, max=ADJUST_SHOTS_LIMIT)
        ),
    }
)


@callback
def async_get_runtime(hass: HomeAssistant, entry_id: str) -> EspressoCareRuntime:
    """Runtime of a loaded Espresso Care entry, or a translated validation error."""
    entry: EspressoCareConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"name": entry.title},
        )
    return entry.runtime_data


async def _async_adjust_shots(call: ServiceCall) -> None:
    """Correct the shot counters of a machine for missed or false shots."""
    runtime = async_get_runtime(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    count: int = call.data[ATTR_COUNT]
    if count == 0:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="count_zero")
    await runtime.async_adjust_shots(count)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions of the integration."""
    hass.services.async_register(
        DOMAIN, SERVICE_ADJUST_SHOTS, _async_adjust_shots, schema=ADJUST_SHOTS_SCHEMA
    )
