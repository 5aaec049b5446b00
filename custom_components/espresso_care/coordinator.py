"""The push coordinator through which each part of a machine notifies its entities."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from .const import DOMAIN

if TYPE_CHECKING:
    import logging

    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant


def push_coordinator(
    hass: HomeAssistant, entry: ConfigEntry, part: str, logger: logging.Logger
) -> DataUpdateCoordinator[None]:
    """Return a coordinator that never polls: the part calls ``async_set_updated_data``."""
    return DataUpdateCoordinator[None](
        hass,
        logger,
        config_entry=entry,
        name=f"{DOMAIN} {part} {entry.title}",
        always_update=False,
    )
