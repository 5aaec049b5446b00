"""Diagnostics of Espresso Care."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .runtime import EspressoCareConfigEntry


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EspressoCareConfigEntry
) -> dict[str, Any]:
    """Options, detector settings, counters and the most recent detector events."""
    return {
        "options": dict(entry.options),
        **entry.runtime_data.as_diagnostics(),
    }
