"""The README's entity tables name every attribute our entities have, and no other."""

from __future__ import annotations

from pathlib import Path
import re
from typing import TYPE_CHECKING, Any

import pytest

from custom_components.espresso_care.const import CONF_BACKFLUSH_SWITCH

from .conftest import PLUG_SWITCH

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

README = Path(__file__).resolve().parent.parent / "README.md"
# A row of an entity table: | `domain.espresso_machine_key` (variants) | name | description |
ROW = re.compile(r"^\| `(\w+\.espresso_machine_\w+)`[^|]*\|[^|]*\|(.*)\|$", re.MULTILINE)
# Attributes Home Assistant adds from the entity's class, not ours to document.
STANDARD = {
    "device_class",
    "friendly_name",
    "icon",
    "last_reset",
    "options",
    "state_class",
    "supported_features",
    "unit_of_measurement",
}


def documented_attributes(description: str) -> set[str]:
    """The attribute names a row's description gives (``attribute(s) `a` (...), `b` ...``)."""
    while (flat := re.sub(r"\([^()]*\)", "", description)) != description:
        description = flat  # drop the explanations in parentheses, innermost first
    found = re.search(r"\battributes? (.*?)(?:;|$)", description)
    return set(re.findall(r"`(\w+)`", found.group(1))) if found else set()


def test_documented_attributes() -> None:
    """The row parser reads names, not their values or explanations."""
    assert documented_attributes(
        "0-100 %; attributes `routine` (`idle`, `running`), `task`, `phase` (`a` (`b`)); `null`"
    ) == {"routine", "task", "phase"}
    assert documented_attributes("on while due; attribute `snoozed_until` (ISO 8601)") == {
        "snoozed_until"
    }
    assert documented_attributes("seconds, over the last 10 shots") == set()


@pytest.fixture
def options(options: dict[str, Any]) -> dict[str, Any]:
    """A machine with a backflush switch: every entity exists."""
    return {**options, CONF_BACKFLUSH_SWITCH: PLUG_SWITCH}


@pytest.mark.usefixtures("power_sensor")
async def test_readme_names_every_attribute(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """Each entity in the README's tables has exactly the attributes its row names."""
    hass.states.async_set(PLUG_SWITCH, "off")
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    rows = ROW.findall(README.read_text(encoding="utf-8"))
    assert len(rows) >= 15
    wrong = {}
    for entity_id, description in rows:
        state = hass.states.get(entity_id)
        assert state is not None, entity_id
        ours = set(state.attributes) - STANDARD
        if ours != (documented := documented_attributes(description)):
            wrong[entity_id] = {"undocumented": ours - documented, "absent": documented - ours}
    assert wrong == {}
