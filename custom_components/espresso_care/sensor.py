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

from .engine.events import MachineState
from .engine.maintenance import TASKS, Task
from .entity import (
    EspressoCareEntity,
    EspressoCareEntityDescription,
    add_described_entities,
    always_available,
    backflush_coordinator,
    maintenance_coordinator,
)
from .maintenance_tracker import status_attributes

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from typing import Any

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
    from homeassistant.helpers.typing import StateType

    from .data import EspressoCareConfigEntry, EspressoCareData

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class EspressoCareSensorEntityDescription(EspressoCareEntityDescription, SensorEntityDescription):
    """A sensor reading its value from the machine's parts."""

    value_fn: Callable[[EspressoCareData], StateType | datetime]
    last_reset_fn: Callable[[EspressoCareData], datetime | None] | None = None
    attributes_fn: Callable[[EspressoCareData], dict[str, Any]] | None = None


def _shots_since(task: Task) -> Callable[[EspressoCareData], int]:
    """Read the shots pulled since ``task`` was last done (the schedule's last evaluation)."""
    return lambda data: data.maintenance.evaluated(task).shots_since


def _last_done(task: Task) -> Callable[[EspressoCareData], datetime]:
    """Read when ``task`` was last done."""
    return lambda data: data.maintenance.evaluated(task).last_done


def _counting_since(task: Task) -> Callable[[EspressoCareData], datetime]:
    """Read since when the shots since ``task`` are counted (its statistics' last reset)."""
    return lambda data: data.maintenance.counting_since(task)


def _remaining(task: Task) -> Callable[[EspressoCareData], dict[str, Any]]:
    """Read shots and days remaining until ``task`` is due, and when the days rule is."""
    return lambda data: status_attributes(data.maintenance.evaluated(task))


SENSORS: tuple[EspressoCareSensorEntityDescription, ...] = (
    EspressoCareSensorEntityDescription(
        key="total_shots",
        translation_key="total_shots",
        # Not total_increasing: adjust_shots may lower the count, and statistics of a total
        # take a decrease as one (total_increasing would take it for a meter reset).
        state_class=SensorStateClass.TOTAL,
        value_fn=lambda data: data.shots.total_shots,
    ),
    EspressoCareSensorEntityDescription(
        key="shots_today",
        translation_key="shots_today",
        state_class=SensorStateClass.TOTAL,
        value_fn=lambda data: data.shots.shots_today,
        last_reset_fn=lambda data: data.shots.today_start,
    ),
    EspressoCareSensorEntityDescription(
        key="last_shot_duration",
        translation_key="last_shot_duration",
        device_class=SensorDeviceClass.DURATION,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_display_precision=1,
        value_fn=lambda data: data.shots.last_shot_duration,
    ),
    EspressoCareSensorEntityDescription(
        key="average_shot_duration",
        translation_key="average_shot_duration",
        device_class=SensorDeviceClass.DURATION,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_display_precision=1,
        value_fn=lambda data: (
            None if (average := data.shots.average_shot_duration) is None else round(average, 1)
        ),
        # The shots the average is taken over, oldest first (the dashboard card's bar chart).
        attributes_fn=lambda data: {
            "recent_durations": [round(duration, 1) for duration in data.shots.recent_durations]
        },
    ),
    EspressoCareSensorEntityDescription(
        key="machine_state",
        translation_key="machine_state",
        device_class=SensorDeviceClass.ENUM,
        options=[state.value for state in MachineState],
        value_fn=lambda data: data.shots.machine_state.value,
    ),
    EspressoCareSensorEntityDescription(
        key="backflush_progress",
        translation_key="backflush_progress",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        coordinator_fn=backflush_coordinator,
        exists_fn=lambda data: data.backflush.switch is not None,
        available_fn=always_available,
        value_fn=lambda data: data.backflush.progress,
        attributes_fn=lambda data: data.backflush.attributes(),
    ),
    # Shots since each task, with shots/days remaining, and when it was last done.
    *(
        EspressoCareSensorEntityDescription(
            key=f"shots_since_{task}",
            translation_key=f"shots_since_{task}",
            state_class=SensorStateClass.TOTAL,
            coordinator_fn=maintenance_coordinator,
            available_fn=always_available,
            value_fn=_shots_since(task),
            last_reset_fn=_counting_since(task),
            attributes_fn=_remaining(task),
        )
        for task in TASKS
    ),
    *(
        EspressoCareSensorEntityDescription(
            key=f"{task}_last_done",
            translation_key=f"{task}_last_done",
            device_class=SensorDeviceClass.TIMESTAMP,
            coordinator_fn=maintenance_coordinator,
            available_fn=always_available,
            value_fn=_last_done(task),
        )
        for task in TASKS
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EspressoCareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of one machine."""
    add_described_entities(entry, async_add_entities, EspressoCareSensor, SENSORS)


class EspressoCareSensor(EspressoCareEntity, SensorEntity):
    """A sensor of an espresso machine."""

    entity_description: EspressoCareSensorEntityDescription

    @property
    def native_value(self) -> StateType | datetime:
        """Value from the machine's part."""
        return self.entity_description.value_fn(self.data)

    @property
    def last_reset(self) -> datetime | None:
        """Start of the counting period (``shots_today``)."""
        if self.entity_description.last_reset_fn is None:
            return None
        return self.entity_description.last_reset_fn(self.data)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Extra attributes (the backflush progress: phase, cycle...)."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.data)

    def _shown_state(self) -> tuple[Any, ...]:
        """Return availability, value, start of the counting period and attributes."""
        return (
            *super()._shown_state(),
            self.native_value,
            self.last_reset,
            self.extra_state_attributes,
        )
