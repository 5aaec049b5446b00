"""Differences between the Home Assistant versions Espresso Care runs on (2026.2 to 2026.10).

Home Assistant 2026.10 deprecates ``DeviceRegistry.async_get_device`` (device identifiers are
no longer unique across config entries: ``async_get_device_by_identifier`` names the entry) and
``DeviceInfo(via_device=...)`` (``via_device_id``); both stop working in 2027.8. Older versions
have only the old forms. This module picks what the running version has.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from homeassistant.helpers.device_registry import DeviceInfo

if TYPE_CHECKING:
    from homeassistant.helpers import device_registry as dr

HAS_VIA_DEVICE_ID = "via_device_id" in DeviceInfo.__annotations__


def async_get_entry_device(
    registry: dr.DeviceRegistry, identifier: tuple[str, str], config_entry_id: str
) -> dr.DeviceEntry | None:
    """Return the device of a config entry with ``identifier``, or None."""
    if hasattr(registry, "async_get_device_by_identifier"):
        device: dr.DeviceEntry | None = registry.async_get_device_by_identifier(
            identifier, config_entry_id
        )
        return device
    return registry.async_get_device(identifiers={identifier})


def set_via_device(info: DeviceInfo, via: dr.DeviceEntry) -> None:
    """Link the device described by ``info`` to the device ``via`` (its parent)."""
    if HAS_VIA_DEVICE_ID:
        cast("dict[str, Any]", info)["via_device_id"] = via.id
    else:
        info["via_device"] = min(via.identifiers)


def has_via_device(info: DeviceInfo) -> bool:
    """Whether ``info`` links its device to a parent device."""
    return "via_device_id" in info or "via_device" in info


def device_config_entry_ids(device: dr.DeviceEntry) -> set[str]:
    """Return the config entries of a device (2026.10: exactly one, ``config_entry_id``)."""
    if (entry_id := getattr(device, "config_entry_id", None)) is not None:
        return {entry_id}
    return set(device.config_entries)
