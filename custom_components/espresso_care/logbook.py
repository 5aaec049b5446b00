"""Logbook descriptions of Espresso Care events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.const import Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er

from .const import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DURATION_S,
    ATTR_NAME,
    ATTR_TOTAL_SHOTS,
    DOMAIN,
    EVENT_SHOT,
)

if TYPE_CHECKING:
    from collections.abc import Callable


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, Any]]], None],
) -> None:
    """Describe the ``espresso_care_shot`` event in the logbook."""

    @callback
    def async_describe_shot(event: Event) -> dict[str, Any]:
        data = event.data
        description: dict[str, Any] = {
            LOGBOOK_ENTRY_NAME: data[ATTR_NAME],
            LOGBOOK_ENTRY_MESSAGE: (
                f"pulled a {data[ATTR_DURATION_S]:.0f} s shot "
                f"(shot number {data[ATTR_TOTAL_SHOTS]})"
            ),
        }
        if entity_id := er.async_get(hass).async_get_entity_id(
            Platform.SENSOR, DOMAIN, f"{data[ATTR_CONFIG_ENTRY_ID]}_total_shots"
        ):
            description[LOGBOOK_ENTRY_ENTITY_ID] = entity_id
        return description

    async_describe_event(DOMAIN, EVENT_SHOT, async_describe_shot)
