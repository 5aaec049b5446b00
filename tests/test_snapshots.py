"""Snapshots of every platform's entities and of the diagnostics (syrupy).

The snapshots hold what is ours to decide (see ``common.entities_snapshot``), so that they pass
on every Home Assistant version the integration supports (2026.2 and 2026.10).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from unittest.mock import patch

import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from syrupy.filters import props

from custom_components.espresso_care.const import CONF_BACKFLUSH_SWITCH, PLATFORMS

from .common import entities_snapshot, pull_shot
from .conftest import PLUG_SWITCH

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.const import Platform
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers import entity_registry as er
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
    from syrupy.assertion import SnapshotAssertion

FROZEN = "2026-05-04 08:00:00+00:00"


@pytest.fixture
def options(options: dict[str, Any]) -> dict[str, Any]:
    """A machine with a backflush switch: every entity exists."""
    return {**options, CONF_BACKFLUSH_SWITCH: PLUG_SWITCH}


@pytest.mark.freeze_time(FROZEN)
@pytest.mark.usefixtures("plug_device", "power_sensor")
@pytest.mark.parametrize("platform", PLATFORMS)
async def test_platform(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    """Every platform's entities: unique ids, translation keys, classes, states, attributes."""
    from custom_components.espresso_care.const import PLATFORMS

    if platform not in PLATFORMS:
        pytest.skip(f"no {platform} platform")
    hass.states.async_set(PLUG_SWITCH, "off")
    config_entry.add_to_hass(hass)
    with patch("custom_components.espresso_care.PLATFORMS", (platform,)):
        assert await hass.config_entries.async_setup(config_entry.entry_id)
        await hass.async_block_till_done()
    assert entities_snapshot(hass, entity_registry, config_entry.entry_id) == snapshot


@pytest.mark.freeze_time(FROZEN)
async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    snapshot: SnapshotAssertion,
) -> None:
    """The diagnostics after one shot (the detector's internals are the engine's to show)."""
    await pull_shot(hass, freezer)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    assert diagnostics == snapshot(exclude=props("detector"))
