"""Diagnostics of Espresso Care."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .const import MAINTENANCE_DEFAULTS

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .data import EspressoCareConfigEntry


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EspressoCareConfigEntry
) -> dict[str, Any]:
    """Options, detector settings, counters and the most recent detector events."""
    data = entry.runtime_data
    shots = data.shots.as_diagnostics()
    return {
        "options": dict(entry.options),
        "settings": shots.pop("settings"),
        "maintenance_intervals": {
            key: int(entry.options.get(key, default))
            for key, default in MAINTENANCE_DEFAULTS.items()
        },
        **shots,
        "counters": data.saver.as_stored(),
        "backflush": data.backflush.as_diagnostics(),
        "maintenance": data.maintenance.as_diagnostics(),
    }
