"""Sensors of Espresso Care: shot counters, shot durations and the machine state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, UnitOfTime

from . import maintenance
from .engine.events import MachineState
from .engine.maintenance import Task
from .entity import EspressoCareEntity, EspressoCareEntityDescription

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from typing import Any

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
    from homeassistant.helpers.typing import StateType

    from .runtime import EspressoCareConfigEntry, EspressoCareRuntime

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class EspressoCareSensorEntityDescription(EspressoCareEntityDescription, SensorEntityDescription):
    """A sensor reading its value from the runtime."""

    value_fn: Callable[[EspressoCareRuntime], StateType | datetime]
    last_reset_fn: Callable[[EspressoCareRuntime], datetime | None] | None = None
    attributes_fn: Callable[[EspressoCareRuntime], dict[str, Any]] | None = None


SENSORS: tuple[EspressoCareSensorEntityDescription, ...] = (
    EspressoCareSensorEntityDescription(
        key="total_shots",
        translation_key="total_shots",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda runtime: runtime.total_shots,
    ),
    EspressoCareSensorEntityDescription(
        key="shots_today",
        translation_key="shots_today",
        state_class=SensorStateClass.TOTAL,
        value_fn=lambda runtime: runtime.shots_today,
        last_reset_fn=lambda runtime: runtime.today_start,
    ),
    EspressoCareSensorEntityDescription(
        key="last_shot_duration",
        translation_key="last_shot_duration",
        device_class=SensorDeviceClass.DURATION,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_display_precision=1,
        value_fn=lambda runtime: runtime.last_shot_duration,
    ),
    EspressoCareSensorEntityDescription(
        key="average_shot_duration",
        translation_key="average_shot_duration",
        device_class=SensorDeviceClass.DURATION,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_display_precision=1,
        value_fn=lambda runtime: (
            None if (average := runtime.average_shot_duration) is None else round(average, 1)
        ),
    ),
    EspressoCareSensorEntityDescription(
        key="machine_state",
        translation_key="machine_state",
        device_class=SensorDeviceClass.ENUM,
        options=[state.value for state in MachineState],
        value_fn=lambda runtime: runtime.machine_state.value,
    ),
    EspressoCareSensorEntityDescription(
        key="backflush_progress",
        translation_key="backflush_progress",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        exists_fn=lambda runtime: runtime.backflush_switch is not None,
        available_fn=lambda runtime: True,
        value_fn=lambda runtime: runtime.backflush.progress,
        attributes_fn=lambda runtime: runtime.backflush.attributes(),
    ),
    # Maintenance (issue 4): shots since each task, with shots/days remaining, and last done.
    *(
        EspressoCareSensorEntityDescription(
            key=f"shots_since_{task}",
            translation_key=f"shots_since_{task}",
            state_class=SensorStateClass.TOTAL,
            available_fn=lambda _: True,
            value_fn=maintenance.shots_since_fn(task),
            last_reset_fn=maintenance.last_done_fn(task),
            attributes_fn=maintenance.attributes_fn(task),
        )
        for task in Task
    ),
    *(
        EspressoCareSensorEntityDescription(
            key=f"{task}_last_done",
            translation_key=f"{task}_last_done",
            device_class=SensorDeviceClass.TIMESTAMP,
            available_fn=lambda _: True,
            value_fn=maintenance.last_done_fn(task),
        )
        for task in Task
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EspressoCareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of one machine."""
    runtime = entry.runtime_data
    async_add_entities(
        EspressoCareSensor(runtime, description)
        for description in SENSORS
        if description.exists_fn(runtime)
    )


class EspressoCareSensor(EspressoCareEntity, SensorEntity):
    """A sensor of an espresso machine."""

    entity_description: EspressoCareSensorEntityDescription

    @property
    def native_value(self) -> StateType | datetime:
        """Value from the runtime."""
        return self.entity_description.value_fn(self.runtime)

    @property
    def last_reset(self) -> datetime | None:
        """Start of the counting period (``shots_today``)."""
        if self.entity_description.last_reset_fn is None:
            return None
        return self.entity_description.last_reset_fn(self.runtime)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Attributes from the runtime (the backflush progress: phase, cycle...)."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.runtime)

    def _shown_state(self) -> tuple[Any, ...]:
        """Return availability, value, start of the counting period and attributes."""
        return (
            *super()._shown_state(),
            self.native_value,
            self.last_reset,
            self.extra_state_attributes,
        )
