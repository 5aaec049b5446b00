"""Set-up, unload, persistence, events and source following of Espresso Care."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, callback
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.espresso_care.compat import async_get_entry_device, device_config_entry_ids
from custom_components.espresso_care.const import (
    CONF_BACKFLUSH_SWITCH,
    CONF_MACHINE_TYPE,
    CONF_POWER_SENSOR,
    CONF_SHOT_MAX_SECONDS,
    CONF_SHOT_MIN_SECONDS,
    DOMAIN,
    EVENT_SHOT,
)
from custom_components.espresso_care.store import storage_key

from .common import PUMP_WATTS, STANDBY_WATTS, pass_time, pull_shot, set_power, stored_data
from .conftest import ENTRY_ID, PLUG_SWITCH, POWER_ATTRIBUTES, POWER_SENSOR

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers import device_registry as dr, entity_registry as er

TOTAL = "sensor.espresso_machine_total_shots"
TODAY = "sensor.espresso_machine_shots_today"
LAST = "sensor.espresso_machine_last_shot_duration"
AVERAGE = "sensor.espresso_machine_average_shot_duration"
KEY = storage_key(ENTRY_ID)


def _stored(**counters: Any) -> dict[str, Any]:
    return stored_data(
        {
            "total_shots": 41,
            "shots_today": 3,
            "today": "2026-05-04",
            "last_shot": {
                "start": "2026-05-04T07:30:00+00:00",
                "end": "2026-05-04T07:30:27+00:00",
                "duration": 27.0,
            },
            "recent_durations": [25.0, 27.0],
            **counters,
        }
    )


async def _setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def test_setup_and_unload(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """The entry loads, creates its entities and unloads."""
    assert init_integration.state is ConfigEntryState.LOADED
    assert hass.states.get(TOTAL).state == "0"
    assert hass.services.has_service(DOMAIN, "adjust_shots")

    assert await hass.config_entries.async_unload(ENTRY_ID)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get(TOTAL).state == "unavailable"


@pytest.mark.freeze_time("2026-05-04 08:00:00+00:00")
async def test_shot_event(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> None:
    """Every shot fires espresso_care_shot with its times, duration and the new total."""
    events: list[Event] = []

    @callback
    def listener(event: Event) -> None:
        events.append(event)

    hass.bus.async_listen(EVENT_SHOT, listener)
    await pull_shot(hass, freezer)
    await pull_shot(hass, freezer, duration=31)
    assert [event.data for event in events] == [
        {
            "config_entry_id": ENTRY_ID,
            "name": "Espresso machine",
            "start": "2026-05-04T08:00:40+00:00",
            "end": "2026-05-04T08:01:05+00:00",
            "duration_s": 25.0,
            "total_shots": 1,
        },
        {
            "config_entry_id": ENTRY_ID,
            "name": "Espresso machine",
            "start": "2026-05-04T08:02:00+00:00",
            "end": "2026-05-04T08:02:31+00:00",
            "duration_s": 31.0,
            "total_shots": 2,
        },
    ]


@pytest.mark.freeze_time("2026-05-04 08:00:00+00:00")
@pytest.mark.usefixtures("power_sensor")
async def test_counters_restored(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Counters come back from storage; a new shot is saved right away."""
    await hass.config.async_set_time_zone("UTC")
    hass_storage[KEY] = _stored()
    await _setup(hass, config_entry)
    assert hass.states.get(TOTAL).state == "41"
    assert hass.states.get(TODAY).state == "3"
    assert hass.states.get(LAST).state == "27.0"
    assert hass.states.get(AVERAGE).state == "26.0"

    await pull_shot(hass, freezer, duration=29)
    assert hass.states.get(TOTAL).state == "42"
    # Saved at once, not with a delay.
    data = hass_storage[KEY]["data"]
    assert data["total_shots"] == 42
    assert data["shots_today"] == 4
    assert data["recent_durations"] == [25.0, 27.0, 29.0]
    assert data["last_shot"]["duration"] == 29.0


@pytest.mark.freeze_time("2026-05-05 08:00:00+00:00")
@pytest.mark.usefixtures("power_sensor")
async def test_shots_today_from_another_day(
    hass: HomeAssistant, config_entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Shots counted on an earlier day do not count as today's."""
    await hass.config.async_set_time_zone("UTC")
    hass_storage[KEY] = _stored()
    await _setup(hass, config_entry)
    assert hass.states.get(TOTAL).state == "41"
    assert hass.states.get(TODAY).state == "0"


@pytest.mark.usefixtures("power_sensor")
async def test_storage_of_older_minor_version(
    hass: HomeAssistant, config_entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Stored data of an older minor version gets the missing keys."""
    hass_storage[KEY] = {
        "version": 1,
        "minor_version": 0,
        "key": KEY,
        "data": {"total_shots": 12, "future_key": True},
    }
    await _setup(hass, config_entry)
    assert config_entry.state is ConfigEntryState.LOADED
    assert hass.states.get(TOTAL).state == "12"
    assert hass.states.get(AVERAGE).state == "unknown"


@pytest.mark.usefixtures("power_sensor")
async def test_storage_of_newer_version(
    hass: HomeAssistant, config_entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Counters written by a newer major version are left alone: setup fails."""
    hass_storage[KEY] = {**_stored(), "version": 2}
    await _setup(hass, config_entry)
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert hass_storage[KEY]["version"] == 2


@pytest.mark.freeze_time("2026-05-04 08:00:00+00:00")
async def test_counters_survive_reload(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> None:
    """A reload neither loses nor repeats a counted shot."""
    await pull_shot(hass, freezer)
    assert await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done()
    assert hass.states.get(TOTAL).state == "1"
    await pass_time(hass, freezer, 30)
    assert hass.states.get(TOTAL).state == "1"
    await pull_shot(hass, freezer)
    assert hass.states.get(TOTAL).state == "2"


@pytest.mark.freeze_time("2026-05-04 08:00:00+00:00")
async def test_restart_during_shot_is_not_counted(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """A shot running while Home Assistant starts is not counted as a shot."""
    await hass.config.async_set_time_zone("UTC")
    hass_storage[KEY] = _stored()
    hass.states.async_set(POWER_SENSOR, str(PUMP_WATTS), POWER_ATTRIBUTES)
    await _setup(hass, config_entry)
    await set_power(hass, freezer, PUMP_WATTS, after=5)
    await set_power(hass, freezer, STANDBY_WATTS, after=18)
    await pass_time(hass, freezer, 30)
    assert hass.states.get(TOTAL).state == "41"
    assert hass_storage[KEY]["data"]["total_shots"] == 41

    await pull_shot(hass, freezer)
    assert hass.states.get(TOTAL).state == "42"


async def test_remove_entry_deletes_storage(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
    issue_registry: ir.IssueRegistry,
) -> None:
    """Removing the machine deletes its counters and its repair issues."""
    await pull_shot(hass, freezer)
    assert KEY in hass_storage
    hass.states.async_remove(POWER_SENSOR)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, f"{ENTRY_ID}_power_sensor_missing")

    assert await hass.config_entries.async_remove(ENTRY_ID)
    await hass.async_block_till_done()
    assert KEY not in hass_storage
    assert not issue_registry.async_get_issue(DOMAIN, f"{ENTRY_ID}_power_sensor_missing")


async def test_follows_renamed_power_sensor(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    plug_device: dr.DeviceEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A renamed power sensor is followed: options updated, entry reloaded, still counting."""
    hass.states.async_set(POWER_SENSOR, "1.0", POWER_ATTRIBUTES)
    await _setup(hass, config_entry)

    entity_registry.async_update_entity(POWER_SENSOR, new_entity_id="sensor.machine_power")
    hass.states.async_remove(POWER_SENSOR)
    hass.states.async_set("sensor.machine_power", "1.0", POWER_ATTRIBUTES)
    await hass.async_block_till_done()
    assert config_entry.options[CONF_POWER_SENSOR] == "sensor.machine_power"
    assert config_entry.state is ConfigEntryState.LOADED
    assert config_entry.runtime_data.shots.power_sensor == "sensor.machine_power"
    assert not ir.async_get(hass).async_get_issue(DOMAIN, f"{ENTRY_ID}_power_sensor_missing")

    freezer.tick(10)
    hass.states.async_set("sensor.machine_power", str(PUMP_WATTS), POWER_ATTRIBUTES)
    await hass.async_block_till_done()
    freezer.tick(25)
    hass.states.async_set("sensor.machine_power", str(STANDBY_WATTS), POWER_ATTRIBUTES)
    await hass.async_block_till_done()
    await pass_time(hass, freezer, 15)
    assert hass.states.get(TOTAL).state == "1"
    # Still on our own device, the plug's device untouched.
    device = async_get_entry_device(device_registry, (DOMAIN, ENTRY_ID), ENTRY_ID)
    assert device.via_device_id == plug_device.id
    assert ENTRY_ID not in device_config_entry_ids(device_registry.async_get(plug_device.id))


@pytest.mark.usefixtures("power_sensor")
async def test_invalid_settings(hass: HomeAssistant, config_entry: MockConfigEntry) -> None:
    """Options the engine refuses make setup fail with a translated error."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Broken",
        options={
            **config_entry.options,
            CONF_SHOT_MIN_SECONDS: 50,
            CONF_SHOT_MAX_SECONDS: 40,
        },
    )
    await _setup(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.error_reason_translation_key == "invalid_settings"
    assert entry.error_reason_translation_placeholders == {
        "error": "shot_min_seconds must be below shot_max_seconds"
    }


@pytest.mark.usefixtures("power_sensor")
async def test_migrate_from_future_version(hass: HomeAssistant, options: dict[str, Any]) -> None:
    """An entry written by a newer version is not touched."""
    entry = MockConfigEntry(domain=DOMAIN, options=options, version=2)
    await _setup(hass, entry)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR


@pytest.mark.usefixtures("power_sensor")
async def test_migrate_newer_minor_version(hass: HomeAssistant, options: dict[str, Any]) -> None:
    """An entry of a newer minor version loads (minor versions stay compatible)."""
    entry = MockConfigEntry(
        domain=DOMAIN, options={**options, CONF_MACHINE_TYPE: "capsule"}, version=1, minor_version=2
    )
    await _setup(hass, entry)
    assert entry.state is ConfigEntryState.LOADED


async def test_follows_renamed_switch(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    plug_device: dr.DeviceEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A renamed backflush switch is followed in the options."""
    hass.states.async_set(POWER_SENSOR, "1.0", POWER_ATTRIBUTES)
    hass.states.async_set(PLUG_SWITCH, "off")
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, CONF_BACKFLUSH_SWITCH: PLUG_SWITCH}
    )
    await _setup(hass, config_entry)

    entity_registry.async_update_entity(PLUG_SWITCH, new_entity_id="switch.espresso_pump")
    await hass.async_block_till_done()
    assert config_entry.options[CONF_BACKFLUSH_SWITCH] == "switch.espresso_pump"
    assert config_entry.state is ConfigEntryState.LOADED
    assert config_entry.runtime_data.backflush.switch == "switch.espresso_pump"


def test_integration_type_is_device() -> None:
    """One device per machine with its entities: a device integration, not a helper.

    Helpers are listed under Settings > Helpers, where users expect helpers they made.
    """
    manifest = json.loads(
        (Path(__file__).parent.parent / "custom_components/espresso_care/manifest.json").read_text(
            encoding="utf-8"
        )
    )
    assert manifest["integration_type"] == "device"
