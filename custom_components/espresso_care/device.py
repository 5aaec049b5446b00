"""The device of one espresso machine, linked to the plug's device."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import async_track_entity_registry_updated_event

from .compat import async_get_entry_device, has_via_device, set_via_device
from .const import CONF_MACHINE_TYPE, CONF_POWER_SENSOR, DOMAIN, MACHINE_TYPE_MODELS, MANUFACTURER

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry


def machine_device_info(hass: HomeAssistant, entry: ConfigEntry) -> DeviceInfo:
    """Our own device, linked to the plug's device when the power sensor has one."""
    machine_type: str = entry.options[CONF_MACHINE_TYPE]
    info = DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        name=entry.title,
        manufacturer=MANUFACTURER,
        # The model only: a model id shown beside it repeated the type ("Single boiler
        # (single_boiler)").
        model=MACHINE_TYPE_MODELS.get(machine_type, machine_type),
    )
    if (
        (source := er.async_get(hass).async_get(entry.options[CONF_POWER_SENSOR]))
        and source.device_id
        and (device := dr.async_get(hass).async_get(source.device_id))
        and device.identifiers
    ):
        set_via_device(info, device)
    return info


@callback
def async_update_device(hass: HomeAssistant, entry: ConfigEntry, info: DeviceInfo) -> None:
    """Drop a stale ``via_device`` link once the power sensor has no device any more."""
    device_registry = dr.async_get(hass)
    device = async_get_entry_device(device_registry, (DOMAIN, entry.entry_id), entry.entry_id)
    if device and device.via_device_id and not has_via_device(info):
        device_registry.async_update_device(device.id, via_device_id=None)


@callback
def async_follow_power_sensor_device(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Reload when the power sensor moved to another device (or none): via_device changes.

    Renames and removals are handled by ``async_handle_source_entity_changes``.
    """

    @callback
    def registry_updated(event: Event[er.EventEntityRegistryUpdatedData]) -> None:
        data = event.data
        if data["action"] == "update" and "device_id" in data["changes"]:
            hass.config_entries.async_schedule_reload(entry.entry_id)

    entry.async_on_unload(
        async_track_entity_registry_updated_event(
            hass, entry.options[CONF_POWER_SENSOR], registry_updated
        )
    )
