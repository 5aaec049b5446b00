"""The Backflush switch entity of Espresso Care (the routine itself: test_backflush.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.const import ATTR_FRIENDLY_NAME, STATE_OFF, STATE_UNAVAILABLE
import pytest

from custom_components.espresso_care.button import BUTTONS
from custom_components.espresso_care.const import CONF_BACKFLUSH_SWITCH, DOMAIN
from custom_components.espresso_care.sensor import SENSORS
from custom_components.espresso_care.switch import SWITCHES

from .conftest import ENTRY_ID

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers import entity_registry as er

COMPONENT = Path(__file__).parent.parent / "custom_components" / "espresso_care"
RELAY = "input_boolean.pump_relay"
BACKFLUSH = "switch.espresso_machine_backflush"


def _json(name: str) -> dict[str, Any]:
    return json.loads((COMPONENT / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture
def options(options: dict[str, object]) -> dict[str, object]:
    """Options with a backflush switch."""
    return {**options, CONF_BACKFLUSH_SWITCH: RELAY}


def test_backflush_entities_translated_with_icons() -> None:
    """The switch, the arm button and the progress sensor have names, icons and attributes."""
    strings, icons = _json("strings.json"), _json("icons.json")
    for platform, descriptions in (("switch", SWITCHES), ("button", BUTTONS)):
        for description in descriptions:
            assert "name" in strings["entity"][platform][description.translation_key]
            assert "default" in icons["entity"][platform][description.translation_key]
    progress = strings["entity"]["sensor"]["backflush_progress"]
    assert set(progress["state_attributes"]) == {
        "routine",
        "task",
        "phase",
        "step",
        "cycle",
        "cycles_done",
        "require_arming",
        "armed_until",
    }
    assert "backflush_progress" in {description.key for description in SENSORS}
    assert "default" in icons["entity"]["sensor"]["backflush_progress"]
    assert strings["options"]["step"]["settings"]["sections"]["backflush"]["data"]["require_arming"]


@pytest.mark.usefixtures("init_integration")
async def test_switch_entity(hass: HomeAssistant, entity_registry: er.EntityRegistry) -> None:
    """The Backflush switch belongs to the machine; it is unavailable while the relay is."""
    entry = entity_registry.async_get(BACKFLUSH)
    assert entry is not None
    assert entry.unique_id == f"{ENTRY_ID}_backflush"
    assert entry.translation_key == "backflush"
    assert entry.platform == DOMAIN
    # The relay does not exist (yet): nothing could be switched.
    state = hass.states.get(BACKFLUSH)
    assert state.state == STATE_UNAVAILABLE
    hass.states.async_set(RELAY, STATE_OFF)
    await hass.async_block_till_done()
    state = hass.states.get(BACKFLUSH)
    assert state.state == STATE_OFF
    assert state.attributes[ATTR_FRIENDLY_NAME] == "Espresso machine Backflush"
    progress = hass.states.get("sensor.espresso_machine_backflush_progress")
    assert progress.state == "0"
    assert progress.attributes["unit_of_measurement"] == "%"
    assert progress.attributes["state_class"] == "measurement"
    assert progress.attributes["routine"] == "idle"
