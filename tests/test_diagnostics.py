"""Diagnostics of Espresso Care."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from .common import PUMP_WATTS, pull_shot

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator


@pytest.mark.freeze_time("2026-05-04 08:00:00+00:00")
async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Diagnostics hold the options, the detector settings, the counters and recent events."""
    await pull_shot(hass, freezer)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)

    assert diagnostics["options"] == dict(init_integration.options)
    assert diagnostics["settings"]["machine_type"] == "single_boiler"
    assert diagnostics["settings"]["shot_min_seconds"] == (
        init_integration.runtime_data.shots.settings.shot_min_seconds
    )
    assert diagnostics["maintenance_intervals"] == {
        "backflush_every_shots": 20,
        "backflush_every_days": 7,
        "clean_every_shots": 140,
        "clean_every_days": 30,
        "descale_every_shots": 0,
        "descale_every_days": 90,
    }
    assert diagnostics["available"] is True
    assert diagnostics["brewing"] is False
    assert diagnostics["counters"]["total_shots"] == 1
    assert diagnostics["counters"]["shots_today"] == 1
    assert diagnostics["counters"]["last_shot"]["duration"] == 25.0
    assert diagnostics["detector"]["paused"] is False
    # what the detector learned of the machine is shown (None until it was learned)
    assert "pump_watts" in diagnostics["detector"]
    assert "heater_full_watts" in diagnostics["detector"]
    events = diagnostics["recent_events"]
    assert {"type": "ShotStarted", "start": "2026-05-04T08:00:40+00:00"} in events
    finished = next(event for event in events if event["type"] == "ShotFinished")
    assert finished == {
        "type": "ShotFinished",
        "start": "2026-05-04T08:00:40+00:00",
        "end": "2026-05-04T08:01:05+00:00",
        "duration": 25.0,
    }
    assert len(events) <= 20


@pytest.mark.freeze_time("2026-05-04 08:00:00+00:00")
async def test_diagnostics_show_the_learned_pump_draw(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Once two shots showed it, the detector's snapshot carries the pump's own draw."""
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    assert diagnostics["detector"]["pump_watts"] is None
    await pull_shot(hass, freezer)
    await pull_shot(hass, freezer)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    detector = diagnostics["detector"]
    assert detector["pump_watts"] == PUMP_WATTS
    assert detector["pump_runs"] == 2
    assert diagnostics["counters"]["total_shots"] == 2
