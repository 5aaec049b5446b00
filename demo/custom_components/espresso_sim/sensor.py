"""Sensors of the simulated plug: power, and what the trace's labels say happens."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorStateClass
from homeassistant.const import UnitOfPower

from .entity import SimEntity
from .simulator import ACTIVITIES

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from . import EspressoSimConfigEntry


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EspressoSimConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the plug's sensors."""
    sim = entry.runtime_data
    async_add_entities(
        [
            PowerSensor(sim, entry.entry_id, "power", "Power"),
            ActivitySensor(sim, entry.entry_id, "activity", "Simulated activity"),
            ShotsPlayedSensor(sim, entry.entry_id, "shots_played", "Shots replayed"),
        ]
    )


class PowerSensor(SimEntity, SensorEntity):
    """The plug's power reading."""

    _attr_device_class = SensorDeviceClass.POWER
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_native_unit_of_measurement = UnitOfPower.WATT
    _attr_suggested_display_precision = 1

    @property
    def available(self) -> bool:
        """Unavailable where the trace says so."""
        return self.sim.power is not None

    @property
    def native_value(self) -> float | None:
        """Watts."""
        return self.sim.power


class ActivitySensor(SimEntity, SensorEntity):
    """Ground truth from the trace's labels, to compare with what Espresso Care detects."""

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_translation_key = "activity"  # translated states
    _attr_icon = "mdi:coffee-maker-outline"

    @property
    def options(self) -> list[str]:
        """Every activity the labels know."""
        return list(ACTIVITIES)

    @property
    def native_value(self) -> str:
        """off, on, shot, flush, steam, backflush, ..."""
        return self.sim.step.activity

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Where the replay is in the trace."""
        return {
            "trace_time": self.sim.step.trace_time,
            "loop": self.sim.loop_count + 1,
            "pump_relay": self.sim.relay_on,
        }


class ShotsPlayedSensor(SimEntity, SensorEntity):
    """Labelled shots replayed so far: what a perfect detector would have counted."""

    _attr_state_class = SensorStateClass.TOTAL_INCREASING
    _attr_icon = "mdi:coffee"

    @property
    def native_value(self) -> int:
        """Shots."""
        return self.sim.shots_played
