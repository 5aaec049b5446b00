"""Checks shared by the config flow, the options flow and the repair flows.

A leaf module: it imports nothing of this integration but ``const`` and the engine, so any
flow can use it without pulling in the runtime.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util

from .const import CONF_BACKFLUSH_SWITCH, CONF_POWER_SENSOR, DOMAIN, LAST_DONE_OPTIONS, POWER_UNITS
from .engine.maintenance import FUTURE_TOLERANCE, DateInFutureError
from .engine.units import to_watts

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime, tzinfo

    from homeassistant.core import HomeAssistant


def source_exists(hass: HomeAssistant, entity_id: str) -> bool:
    """Tell whether an entity exists in the entity registry or the state machine."""
    return (
        er.async_get(hass).async_get(entity_id) is not None
        or hass.states.get(entity_id) is not None
    )


def power_sensor_error(hass: HomeAssistant, entity_id: str) -> str | None:
    """Return why ``entity_id`` cannot be the power sensor, None when it can.

    A sensor that is currently unavailable (or not loaded yet) is accepted when its unit and
    device class, from its state or its entity registry entry, say it measures power in W/kW.
    """
    state = hass.states.get(entity_id)
    registry_entry = er.async_get(hass).async_get(entity_id)
    if state is None and registry_entry is None:
        return "entity_not_found"
    attributes: Mapping[str, Any] = state.attributes if state is not None else {}
    unit = attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    device_class = attributes.get(ATTR_DEVICE_CLASS)
    if registry_entry is not None:
        unit = unit or registry_entry.unit_of_measurement
        device_class = (
            device_class or registry_entry.device_class or registry_entry.original_device_class
        )
    if unit not in POWER_UNITS or device_class not in (None, SensorDeviceClass.POWER):
        return "not_power_sensor"
    if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return None
    if to_watts(state.state, unit) is None:
        return "not_power_sensor"
    return None


def validate_power_sensor(hass: HomeAssistant, entity_id: str, entry_id: str | None) -> str | None:
    """Return the error key for a power sensor chosen for entry ``entry_id``, None if fine."""
    if any(
        entry.options.get(CONF_POWER_SENSOR) == entity_id
        for entry in hass.config_entries.async_entries(DOMAIN, include_ignore=False)
        if entry.entry_id != entry_id
    ):
        return "already_configured"
    return power_sensor_error(hass, entity_id)


def validate_backflush_switch(
    hass: HomeAssistant, entity_id: str | None, entry_id: str | None
) -> str | None:
    """Return the error key for a backflush switch chosen for entry ``entry_id``, None if fine.

    One relay serves one machine: two routines on one relay would switch each other's pump.
    """
    if entity_id and any(
        entry.options.get(CONF_BACKFLUSH_SWITCH) == entity_id
        for entry in hass.config_entries.async_entries(DOMAIN, include_ignore=False)
        if entry.entry_id != entry_id
    ):
        return "switch_already_used"
    return None


def parse_last_done(value: object, tz: tzinfo) -> datetime | None:
    """Read a last-done option (``YYYY-MM-DD HH:MM:SS`` or a date), naive values in ``tz``.

    A date alone means its local midnight. ``None`` when the value cannot be read.
    """
    if not isinstance(value, str) or (parsed := dt_util.parse_datetime(value)) is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed


def last_done_errors(user_input: Mapping[str, Any]) -> dict[str, str]:
    """Errors of the last-done dates of an options form: none may lie in the future."""
    now = dt_util.now()
    errors: dict[str, str] = {}
    for key in LAST_DONE_OPTIONS.values():
        when = parse_last_done(user_input.get(key), dt_util.get_default_time_zone())
        if when is not None and when > now + FUTURE_TOLERANCE:
            errors[key] = DateInFutureError.translation_key
    return errors
