"""Espresso Care: count espresso shots from a smart plug and tell when maintenance is due."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.helper_integration import async_handle_source_entity_changes

from .backflush_runner import BackflushHooks, BackflushRunner
from .blueprint import async_install_blueprint
from .const import (
    CONF_BACKFLUSH_SWITCH,
    CONF_MACHINE_TYPE,
    CONF_POWER_SENSOR,
    CONF_SHOT_MAX_SECONDS,
    CONF_SHOT_MIN_SECONDS,
    DOMAIN,
    MAINTENANCE_SOURCE_BACKFLUSH_ROUTINE,
    PLATFORMS,
)
from .data import EspressoCareConfigEntry, EspressoCareData
from .device import async_follow_power_sensor_device, async_update_device, machine_device_info
from .engine.profiles import DetectorSettings, settings_for
from .frontend import async_register_card
from .maintenance_tracker import MaintenanceTracker
from .repairs import (
    SourceIssues,
    async_create_storage_issue,
    async_delete_entry_issues,
    async_delete_storage_issue,
)
from .sentences import async_sync_sentences
from .services import async_setup_services
from .shot_counter import ShotCounter, ShotHooks
from .store import EntrySaver, EspressoCareStore, StoredDataCorruptError, StoredDataTooNewError
from .task_names import async_load_task_names

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.typing import ConfigType

    from .engine.maintenance import Task
    from .store import StoredData

_LOGGER = logging.getLogger(__name__)

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions, serve the dashboard card and install the notification blueprint."""
    async_setup_services(hass)
    await async_register_card(hass)
    await async_install_blueprint(hass)
    return True


def detector_settings(entry: EspressoCareConfigEntry) -> DetectorSettings:
    """Detector settings of an entry: its machine type's profile with the option overrides."""
    overrides = {
        key: float(entry.options[key])
        for key in (CONF_SHOT_MIN_SECONDS, CONF_SHOT_MAX_SECONDS)
        if key in entry.options
    }
    try:
        return settings_for(entry.options[CONF_MACHINE_TYPE], **overrides)
    except ValueError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="invalid_settings",
            translation_placeholders={"error": str(err)},
        ) from err


async def async_setup_entry(hass: HomeAssistant, entry: EspressoCareConfigEntry) -> bool:
    """Set up one espresso machine."""
    settings = detector_settings(entry)
    store = EspressoCareStore(hass, entry.entry_id)
    try:
        stored = await store.async_load_data()
    except StoredDataTooNewError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN, translation_key="storage_too_new"
        ) from err
    except StoredDataCorruptError as err:
        # Never reset silently: the user restores or corrects the file, then reloads.
        placeholders = {"field": err.field, "value": err.value, "path": store.path}
        async_create_storage_issue(hass, entry, placeholders)
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="storage_corrupt",
            translation_placeholders=placeholders,
        ) from err
    async_delete_storage_issue(hass, entry.entry_id)

    # Task names for the logbook and the to-do list.
    await async_load_task_names(hass)
    data = _async_build_parts(hass, entry, store, stored, settings)
    entry.runtime_data = data

    for option in (CONF_POWER_SENSOR, CONF_BACKFLUSH_SWITCH):
        if option in entry.options:
            _async_follow_source(hass, entry, option)
    async_follow_power_sensor_device(hass, entry)

    data.issues.async_start()
    data.shots.async_start()
    data.backflush.async_start()
    data.maintenance.async_start()
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    async_update_device(hass, entry, data.device_info)
    # The voice sentences follow the option "Install voice sentences" (saving reloads).
    await async_sync_sentences(hass)
    return True


def _async_build_parts(
    hass: HomeAssistant,
    entry: EspressoCareConfigEntry,
    store: EspressoCareStore,
    stored: StoredData,
    settings: DetectorSettings,
) -> EspressoCareData:
    """Create the parts of one machine and wire them through their callbacks."""
    saver = EntrySaver(hass, entry, store)
    issues = SourceIssues(hass, entry)
    maintenance = MaintenanceTracker(
        hass,
        entry,
        stored.get("maintenance"),
        stored["recent_durations"],
        save=saver.async_save,
        schedule_save=saver.async_schedule_save,
    )

    async def routine_finished(task: Task) -> None:
        await maintenance.async_mark_done(task, source=MAINTENANCE_SOURCE_BACKFLUSH_ROUTINE)

    backflush = BackflushRunner(
        hass,
        entry,
        stored.get("backflush_run"),
        BackflushHooks(
            is_brewing=lambda: shots.brewing,
            pause_detection=lambda: shots.pause_detection(),
            resume_detection=lambda: shots.resume_detection(),
            on_finished=routine_finished,
            save=saver.async_save,
            schedule_save=saver.async_schedule_save,
        ),
    )
    shots = ShotCounter(
        hass,
        entry,
        settings,
        stored,
        ShotHooks(
            save=saver.async_save,
            schedule_save=saver.async_schedule_save,
            on_shot=lambda shot: maintenance.record_shot(shot.duration, notify=False),
            on_shot_saved=maintenance.async_notify,
            on_backflush_detected=maintenance.backflush_detected,
            on_shots_adjusted=maintenance.adjust_shots,
            on_power=backflush.observe_power,
            on_source_presence_changed=lambda: issues.async_check(CONF_POWER_SENSOR),
        ),
    )
    saver.add_slice(shots.as_stored)
    saver.add_slice(lambda: {"maintenance": maintenance.as_stored()})
    saver.add_slice(backflush.as_stored_slice)
    return EspressoCareData(
        shots=shots,
        maintenance=maintenance,
        backflush=backflush,
        issues=issues,
        saver=saver,
        device_info=machine_device_info(hass, entry),
    )


def _async_follow_source(hass: HomeAssistant, entry: EspressoCareConfigEntry, option: str) -> None:
    """Follow a renamed source entity and raise a repair issue when it is removed.

    ``source_device_id`` is None on purpose: our entities live on our own device, with the
    plug's device as ``via_device``, so they are never moved onto the plug's device, and our
    config entry is never added to it. A power sensor moved to another device reloads the
    entry (``device.async_follow_power_sensor_device``), which recomputes the link.
    """

    def set_source_entity_id_or_uuid(source_entity_id: str) -> None:
        hass.config_entries.async_update_entry(
            entry, options={**entry.options, option: source_entity_id}
        )
        hass.config_entries.async_schedule_reload(entry.entry_id)

    async def source_entity_removed() -> None:
        entry.runtime_data.issues.async_check(option, removed=True)

    entry.async_on_unload(
        async_handle_source_entity_changes(
            hass,
            helper_config_entry_id=entry.entry_id,
            set_source_entity_id_or_uuid=set_source_entity_id_or_uuid,
            source_device_id=None,
            source_entity_id_or_uuid=entry.options[option],
            source_entity_removed=source_entity_removed,
        )
    )


async def async_unload_entry(hass: HomeAssistant, entry: EspressoCareConfigEntry) -> bool:
    """Unload one espresso machine (pending saves are awaited by the config entry).

    A running backflush is aborted first and its switch-off awaited, before the entities go.
    """
    await entry.runtime_data.backflush.async_shutdown()
    # What the detector learned since the last shot survives a reload (options saved).
    await entry.runtime_data.saver.async_save()
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: EspressoCareConfigEntry) -> None:
    """Delete the stored counters and the repair issues of a removed machine.

    The voice sentences go with the last machine that wanted them.
    """
    await EspressoCareStore(hass, entry.entry_id).async_remove()
    async_delete_entry_issues(hass, entry.entry_id)
    await async_sync_sentences(hass, removed_entry_id=entry.entry_id)


async def async_migrate_entry(hass: HomeAssistant, entry: EspressoCareConfigEntry) -> bool:
    """Migrate the options of an older entry; refuse entries of a newer version."""
    if entry.version > 1:
        # Written by a newer release (downgrade): do not touch it.
        return False
    _LOGGER.debug(
        "Config entry %s is at version %s.%s", entry.entry_id, entry.version, entry.minor_version
    )
    return True
