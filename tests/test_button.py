"""Buttons of Espresso Care."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.core import Event, callback
import pytest

from custom_components.espresso_care.button import BUTTONS
from custom_components.espresso_care.const import EVENT_MAINTENANCE_DONE

from .common import pull_shot

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant

COMPONENT = Path(__file__).parent.parent / "custom_components" / "espresso_care"


def _json(name: str) -> dict[str, Any]:
    return json.loads((COMPONENT / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_maintenance_entities_translated_with_icons() -> None:
    """Buttons and the to-do list have names and icons; task names and attributes too."""
    strings, icons = _json("strings.json"), _json("icons.json")
    for description in BUTTONS:
        assert "name" in strings["entity"]["button"][description.translation_key]
        assert "default" in icons["entity"]["button"][description.translation_key]
    assert strings["entity"]["todo"]["maintenance"]["name"] == "Maintenance"
    assert "default" in icons["entity"]["todo"]["maintenance"]
    assert set(strings["selector"]["task"]["options"]) == {"backflush", "clean", "descale"}
    for task in ("backflush", "clean", "descale"):
        attributes = strings["entity"]["sensor"][f"shots_since_{task}"]["state_attributes"]
        assert set(attributes) == {"shots_remaining", "days_remaining", "due_at"}
    drift = strings["entity"]["binary_sensor"]["shot_time_drift"]["state_attributes"]
    assert set(drift) == {"baseline_duration", "recent_duration"}
    for key in ("date_in_future", "todo_item_complete_only"):
        assert key in strings["exceptions"]


@pytest.mark.freeze_time("2026-05-04 08:00:00+00:00")
@pytest.mark.usefixtures("init_integration")
@pytest.mark.parametrize("task", ["backflush", "clean", "descale"])
async def test_mark_done_buttons(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, task: str
) -> None:
    """Each maintenance button marks its task done now (source button)."""
    events: list[Event] = []

    @callback
    def listener(event: Event) -> None:
        events.append(event)

    hass.bus.async_listen(EVENT_MAINTENANCE_DONE, listener)
    await pull_shot(hass, freezer)
    freezer.move_to("2026-05-04 09:00:00+00:00")
    button = f"button.espresso_machine_mark_{task}_done"
    assert hass.states.get(button).state == "unknown"
    await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    assert hass.states.get(button).state == "2026-05-04T09:00:00+00:00"
    assert hass.states.get(f"sensor.espresso_machine_shots_since_{task}").state == "0"
    assert hass.states.get(f"sensor.espresso_machine_{task}_last_done").state == (
        "2026-05-04T09:00:00+00:00"
    )
    assert (events[0].data["task"], events[0].data["source"]) == (task, "button")
