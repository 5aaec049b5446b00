"""Logbook descriptions of Espresso Care events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.core import Event
import pytest

from custom_components.espresso_care.const import DOMAIN, EVENT_SHOT
from custom_components.espresso_care.logbook import async_describe_events

from .conftest import ENTRY_ID

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.core import HomeAssistant


def _describer(hass: HomeAssistant) -> Callable[[Event], dict[str, Any]]:
    described: dict[tuple[str, str], Callable[[Event], dict[str, Any]]] = {}

    def register(domain: str, event_type: str, describe: Callable[[Event], dict[str, Any]]) -> None:
        described[(domain, event_type)] = describe

    async_describe_events(hass, register)
    assert (DOMAIN, EVENT_SHOT) in described
    return described[(DOMAIN, EVENT_SHOT)]


SHOT_DATA = {
    "config_entry_id": ENTRY_ID,
    "name": "Espresso machine",
    "start": "2026-05-04T08:00:40+00:00",
    "end": "2026-05-04T08:01:05+00:00",
    "duration_s": 25.4,
    "total_shots": 7,
}


@pytest.mark.usefixtures("init_integration")
async def test_describe_shot(hass: HomeAssistant) -> None:
    """A shot reads as the machine pulling a shot, linked to its total shots sensor."""
    describe = _describer(hass)
    assert describe(Event(EVENT_SHOT, SHOT_DATA)) == {
        "name": "Espresso machine",
        "message": "pulled a shot of 25 s (shot number 7)",
        "entity_id": "sensor.espresso_machine_total_shots",
    }


async def test_describe_shot_of_removed_machine(hass: HomeAssistant) -> None:
    """A shot of a machine without entities is still described."""
    describe = _describer(hass)
    assert describe(Event(EVENT_SHOT, SHOT_DATA)) == {
        "name": "Espresso machine",
        "message": "pulled a shot of 25 s (shot number 7)",
    }
