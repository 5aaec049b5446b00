"""Recorded plug traces replayed through a real Home Assistant: the shots are counted."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.const import ATTR_DEVICE_CLASS, ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import Event, callback
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.espresso_care.const import (
    CONF_MACHINE_TYPE,
    CONF_NAME,
    CONF_POWER_SENSOR,
    CONF_SWITCH_ROLE,
    DOMAIN,
    EVENT_SHOT,
)
from custom_components.espresso_care.engine.detector import ShotDetector
from custom_components.espresso_care.engine.events import ShotFinished
from custom_components.espresso_care.engine.profiles import settings_for
from custom_components.espresso_care.engine.units import to_watts

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant

FIXTURES = Path(__file__).parent / "fixtures" / "traces"
MACHINE_TYPES = {
    "single_pid": "single_boiler",
    "single_thermostat": "single_boiler",
    "hx": "heat_exchanger",
    "dual": "dual_boiler",
    "thermoblock": "thermoblock",
    "capsule": "capsule",
}
START_TOLERANCE = 1.0


def _offline_starts(
    samples: list[tuple[datetime, str]], machine_type: str, unit: str
) -> list[float]:
    """Shot starts found by the bare engine on the same samples."""
    detector = ShotDetector(settings_for(machine_type))
    events = []
    for when, state in samples:
        events += detector.feed(when.timestamp(), to_watts(state, unit))
    events += detector.tick(samples[-1][0].timestamp() + 60)
    return [event.start for event in events if isinstance(event, ShotFinished)]


def _load(name: str) -> tuple[list[tuple[datetime, str]], dict[str, Any], str]:
    with (FIXTURES / f"{name}.csv").open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    samples = [(dt_util.parse_datetime(row["last_changed"]), row["state"]) for row in rows]
    labels = json.loads((FIXTURES / f"{name}.labels.json").read_text(encoding="utf-8"))
    return samples, labels, rows[0]["entity_id"]  # type: ignore[return-value]


@pytest.mark.parametrize(
    "name",
    [
        "hx_vibe__shelly_gen2__s1028",
        "capsule__shelly_gen2__s1056",
        "silvia_pid__shelly_gen2__s1014",
    ],
)
async def test_replay_trace(hass: HomeAssistant, freezer: FrozenDateTimeFactory, name: str) -> None:
    """Every labelled shot of the trace is counted once, and nothing else."""
    samples, labels, entity_id = _load(name)
    attributes = {ATTR_UNIT_OF_MEASUREMENT: labels["unit"], ATTR_DEVICE_CLASS: "power"}
    freezer.move_to(samples[0][0] - timedelta(seconds=1))
    hass.states.async_set(entity_id, "unavailable", attributes)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Espresso machine",
        options={
            CONF_NAME: "Espresso machine",
            CONF_POWER_SENSOR: entity_id,
            CONF_MACHINE_TYPE: MACHINE_TYPES[labels["machine_kind"]],
            CONF_SWITCH_ROLE: "pump",
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    shots: list[Event] = []

    @callback
    def on_shot(event: Event) -> None:
        shots.append(event)

    hass.bus.async_listen(EVENT_SHOT, on_shot)
    for when, state in samples:
        freezer.move_to(when)
        # The 5 s timer runs first, as it would have while the plug stayed silent.
        async_fire_time_changed(hass)
        hass.states.async_set(entity_id, state, attributes)
        await hass.async_block_till_done()
    # Let the detector close what the last reading left open.
    for _ in range(12):
        freezer.tick(5)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()

    # The labelled number of shots is counted ...
    assert hass.states.get("sensor.espresso_machine_total_shots").state == str(len(labels["shots"]))
    # ... and they are the very shots the bare engine finds in the trace: the glue neither
    # loses, adds nor shifts one (timer ticks and state_reported events included).
    counted = [dt_util.parse_datetime(event.data["start"]).timestamp() for event in shots]  # type: ignore[union-attr]
    offline = _offline_starts(samples, MACHINE_TYPES[labels["machine_kind"]], labels["unit"])
    assert len(counted) == len(offline)
    for counted_start, offline_start in zip(counted, offline, strict=True):
        assert abs(counted_start - offline_start) <= START_TOLERANCE
