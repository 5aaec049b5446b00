"""Sensors of Espresso Care."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.const import (
    EVENT_STATE_CHANGED,
    EVENT_STATE_REPORTED,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import callback
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.espresso_care.compat import async_get_entry_device, device_config_entry_ids
from custom_components.espresso_care.const import DOMAIN

from .common import PUMP_WATTS, STANDBY_WATTS, pass_time, pull_shot, set_power
from .conftest import ENTRY_ID, POWER_ATTRIBUTES, POWER_SENSOR

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers import device_registry as dr

TOTAL = "sensor.espresso_machine_total_shots"
TODAY = "sensor.espresso_machine_shots_today"
LAST = "sensor.espresso_machine_last_shot_duration"
AVERAGE = "sensor.espresso_machine_average_shot_duration"
MACHINE_STATE = "sensor.espresso_machine_machine_state"


async def test_device(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    plug_device: dr.DeviceEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Our entities live on our own device, linked to the plug's device, which we leave alone."""
    hass.states.async_set(POWER_SENSOR, "1.0", POWER_ATTRIBUTES)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    device = async_get_entry_device(device_registry, (DOMAIN, ENTRY_ID), ENTRY_ID)
    assert device is not None
    assert device.name == "Espresso machine"
    assert device.manufacturer == "Espresso Care"
    # The model alone: a model id beside it read "Single boiler (single_boiler)".
    assert device.model == "Single boiler"
    assert device.model_id is None
    assert device.via_device_id == plug_device.id
    assert device_config_entry_ids(device) == {ENTRY_ID}
    assert ENTRY_ID not in device_config_entry_ids(device_registry.async_get(plug_device.id))

    entries = er.async_entries_for_config_entry(entity_registry, ENTRY_ID)
    assert len(entries) == 20
    assert {entry.device_id for entry in entries} == {device.id}
    assert {entry.unique_id for entry in entries} == {
        f"{ENTRY_ID}_{key}"
        for key in (
            "total_shots",
            "shots_today",
            "last_shot_duration",
            "average_shot_duration",
            "machine_state",
            "brewing",
            # Maintenance.
            *(f"shots_since_{task}" for task in ("backflush", "clean", "descale")),
            *(f"{task}_last_done" for task in ("backflush", "clean", "descale")),
            *(f"{task}_due" for task in ("backflush", "clean", "descale")),
            "shot_time_drift",
            *(f"mark_{task}_done" for task in ("backflush", "clean", "descale")),
            "maintenance",
        )
    }
    # The plug's entities are untouched.
    assert entity_registry.async_get(POWER_SENSOR).device_id == plug_device.id


async def test_device_without_plug_device(
    hass: HomeAssistant, init_integration: MockConfigEntry, device_registry: dr.DeviceRegistry
) -> None:
    """A power sensor without a device gives a device without via_device."""
    device = async_get_entry_device(device_registry, (DOMAIN, ENTRY_ID), ENTRY_ID)
    assert device is not None
    assert device.via_device_id is None


@pytest.mark.freeze_time("2026-05-04 08:00:00+00:00")
@pytest.mark.usefixtures("init_integration")
async def test_shot_updates_sensors(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """A shot is counted, timed and averaged; the machine state follows the power."""
    assert hass.states.get(TOTAL).state == "0"
    assert hass.states.get(TODAY).state == "0"
    assert hass.states.get(LAST).state == STATE_UNKNOWN
    assert hass.states.get(AVERAGE).state == STATE_UNKNOWN

    await set_power(hass, freezer, STANDBY_WATTS, after=30)
    await set_power(hass, freezer, PUMP_WATTS, after=10)
    assert hass.states.get(MACHINE_STATE).state == "brewing"
    assert hass.states.get("binary_sensor.espresso_machine_brewing").state == "on"

    await set_power(hass, freezer, STANDBY_WATTS, after=25)
    await pass_time(hass, freezer, 15)
    assert hass.states.get(TOTAL).state == "1"
    assert hass.states.get(TODAY).state == "1"
    assert hass.states.get(LAST).state == "25.0"
    assert hass.states.get(AVERAGE).state == "25.0"
    assert hass.states.get(MACHINE_STATE).state != "brewing"
    assert hass.states.get("binary_sensor.espresso_machine_brewing").state == "off"

    await pull_shot(hass, freezer, duration=30)
    assert hass.states.get(TOTAL).state == "2"
    assert hass.states.get(LAST).state == "30.0"
    assert hass.states.get(AVERAGE).state == "27.5"
    # The shots the average is taken over, oldest first (the dashboard card's bar chart).
    assert hass.states.get(AVERAGE).attributes["recent_durations"] == [25.0, 30.0]


@pytest.mark.freeze_time("2026-05-04 08:00:00+00:00")
async def test_entities_written_only_when_changed(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """An entity writes its state only when what it shows changed."""
    ours = {
        entry.entity_id for entry in er.async_entries_for_config_entry(entity_registry, ENTRY_ID)
    }
    changed: list[str] = []
    reported: list[str] = []
    is_ours = callback(lambda data: data["entity_id"] in ours)
    hass.bus.async_listen(
        EVENT_STATE_CHANGED,
        callback(lambda event: changed.append(event.data["entity_id"])),
        event_filter=is_ours,
    )
    hass.bus.async_listen(
        EVENT_STATE_REPORTED,
        callback(lambda event: reported.append(event.data["entity_id"])),
        event_filter=is_ours,
    )
    data = init_integration.runtime_data
    for part in (data.shots, data.maintenance, data.backflush):
        part.coordinator.async_update_listeners()
    await hass.async_block_till_done()
    assert not changed

    await set_power(hass, freezer, PUMP_WATTS, after=10)
    assert sorted(changed) == sorted([MACHINE_STATE, "binary_sensor.espresso_machine_brewing"])

    changed.clear()
    await set_power(hass, freezer, STANDBY_WATTS, after=25)
    await pass_time(hass, freezer, 15)
    assert {TOTAL, TODAY, LAST, AVERAGE, MACHINE_STATE} <= set(changed)
    assert not reported


@pytest.mark.freeze_time("2026-05-04 08:00:00+00:00")
@pytest.mark.usefixtures("init_integration")
async def test_shot_ends_on_tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """A shot ends with the timer even when the plug reports nothing after the pump stops."""
    await set_power(hass, freezer, PUMP_WATTS, after=10)
    await set_power(hass, freezer, STANDBY_WATTS, after=25)
    assert hass.states.get(TOTAL).state == "0"
    # No further reading: only the 5 s timer lets the detector close the shot.
    await pass_time(hass, freezer, 15)
    assert hass.states.get(TOTAL).state == "1"


@pytest.mark.freeze_time("2026-05-04 08:00:00+00:00")
@pytest.mark.usefixtures("init_integration")
async def test_flush_is_not_a_shot(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """A 4 s group flush is not counted."""
    await set_power(hass, freezer, PUMP_WATTS, after=10)
    await set_power(hass, freezer, STANDBY_WATTS, after=4)
    await pass_time(hass, freezer, 30)
    assert hass.states.get(TOTAL).state == "0"


@pytest.mark.freeze_time("2026-05-04 21:50:00+00:00")  # 23:50 in Amsterdam
@pytest.mark.usefixtures("power_sensor")
async def test_shots_today_resets_at_midnight(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """Shots today start again at local midnight, the total keeps counting."""
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    await pull_shot(hass, freezer)
    state = hass.states.get(TODAY)
    assert state.state == "1"
    assert state.attributes["state_class"] == "total"
    assert state.attributes["last_reset"] == "2026-05-04T00:00:00+02:00"

    freezer.move_to("2026-05-04 22:00:00+00:00")  # local midnight
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    state = hass.states.get(TODAY)
    assert state.state == "0"
    assert state.attributes["last_reset"] == "2026-05-05T00:00:00+02:00"
    assert hass.states.get(TOTAL).state == "1"

    await pull_shot(hass, freezer)
    assert hass.states.get(TODAY).state == "1"
    assert hass.states.get(TOTAL).state == "2"


@pytest.mark.freeze_time("2026-05-04 08:00:00+00:00")
@pytest.mark.usefixtures("init_integration")
async def test_unavailable_power_sensor(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Entities are unavailable with the power sensor and keep their counters; logged once."""
    await pull_shot(hass, freezer)
    assert hass.states.get(TOTAL).state == "1"

    caplog.clear()
    await set_power(hass, freezer, STATE_UNAVAILABLE, after=5)
    await set_power(hass, freezer, STATE_UNAVAILABLE, after=5)
    for entity_id in (TOTAL, TODAY, LAST, AVERAGE, MACHINE_STATE):
        assert hass.states.get(entity_id).state == STATE_UNAVAILABLE
    assert hass.states.get("binary_sensor.espresso_machine_brewing").state == STATE_UNAVAILABLE
    assert caplog.text.count("is unavailable") == 1

    await set_power(hass, freezer, STANDBY_WATTS, after=5)
    await set_power(hass, freezer, 2.0, after=5)
    assert hass.states.get(TOTAL).state == "1"
    assert hass.states.get(LAST).state == "25.0"
    assert caplog.text.count("is available again") == 1

    # A sensor that reports "unknown" keeps the entities available.
    await set_power(hass, freezer, STATE_UNKNOWN, after=5)
    assert hass.states.get(TOTAL).state == "1"


@pytest.mark.freeze_time("2026-05-04 08:00:00+00:00")
async def test_repeated_reports_keep_time(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> None:
    """A plug re-reporting the same value (state_reported) is fed to the detector."""
    detector = init_integration.runtime_data.shots.detector
    await set_power(hass, freezer, PUMP_WATTS, after=10)
    for _ in range(5):
        await set_power(hass, freezer, PUMP_WATTS, after=5)
        assert detector.snapshot()["last_sample"] == dt_util.utcnow().timestamp()
    await set_power(hass, freezer, STANDBY_WATTS, after=2)
    await pass_time(hass, freezer, 15)
    assert hass.states.get(LAST).state == "27.0"


async def test_power_in_kilowatts(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """A sensor in kW is converted to watts."""
    attributes = {"unit_of_measurement": "kW", "device_class": "power"}
    hass.states.async_set(POWER_SENSOR, "0.001", attributes)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    freezer.tick(10)
    hass.states.async_set(POWER_SENSOR, "0.052", attributes)
    await hass.async_block_till_done()
    freezer.tick(25)
    hass.states.async_set(POWER_SENSOR, "0.001", attributes)
    await hass.async_block_till_done()
    await pass_time(hass, freezer, 15)
    assert hass.states.get(TOTAL).state == "1"


async def test_power_sensor_moves_to_another_device(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    plug_device: dr.DeviceEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The via_device link follows the power sensor to another device, or to none."""
    hass.states.async_set(POWER_SENSOR, "1.0", POWER_ATTRIBUTES)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    other_plug = device_registry.async_get_or_create(
        config_entry_id=next(iter(device_config_entry_ids(plug_device))),
        identifiers={("shelly", "plug-2")},
        name="Other plug",
    )
    entity_registry.async_update_entity(POWER_SENSOR, device_id=other_plug.id)
    await hass.async_block_till_done()
    device = async_get_entry_device(device_registry, (DOMAIN, ENTRY_ID), ENTRY_ID)
    assert device.via_device_id == other_plug.id
    assert {
        entry.device_id for entry in er.async_entries_for_config_entry(entity_registry, ENTRY_ID)
    } == {device.id}
    assert ENTRY_ID not in device_config_entry_ids(device_registry.async_get(other_plug.id))

    entity_registry.async_update_entity(POWER_SENSOR, device_id=None)
    await hass.async_block_till_done()
    device = async_get_entry_device(device_registry, (DOMAIN, ENTRY_ID), ENTRY_ID)
    assert device.via_device_id is None
    assert hass.states.get(TOTAL).state == "0"
