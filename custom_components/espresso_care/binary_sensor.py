"""Binary sensors of Espresso Care."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)

from .engine.maintenance import TASKS, Task
from .entity import (
    EspressoCareEntity,
    EspressoCareEntityDescription,
    add_described_entities,
    always_available,
    maintenance_coordinator,
)
from .maintenance_tracker import snooze_attributes

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import EspressoCareConfigEntry, EspressoCareData

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class EspressoCareBinarySensorEntityDescription(
    EspressoCareEntityDescription, BinarySensorEntityDescription
):
    """A binary sensor reading its value from the machine's parts."""

    is_on_fn: Callable[[EspressoCareData], bool | None]
    attributes_fn: Callable[[EspressoCareData], dict[str, Any]] | None = None


def _due(task: Task) -> Callable[[EspressoCareData], bool]:
    """Read whether ``task`` is due, not while snoozed (the schedule's last evaluation)."""
    return lambda data: data.maintenance.evaluated(task).due


def _snoozed(task: Task) -> Callable[[EspressoCareData], dict[str, Any]]:
    """Read until when ``task`` is snoozed."""
    return lambda data: snooze_attributes(data.maintenance.evaluated(task))


BINARY_SENSORS: tuple[EspressoCareBinarySensorEntityDescription, ...] = (
    EspressoCareBinarySensorEntityDescription(
        key="brewing",
        translation_key="brewing",
        device_class=BinarySensorDeviceClass.RUNNING,
        is_on_fn=lambda data: data.shots.brewing,
    ),
    # One "due" problem per task, and the shot time drift.
    *(
        EspressoCareBinarySensorEntityDescription(
            key=f"{task}_due",
            translation_key=f"{task}_due",
            device_class=BinarySensorDeviceClass.PROBLEM,
            coordinator_fn=maintenance_coordinator,
            available_fn=always_available,
            is_on_fn=_due(task),
            attributes_fn=_snoozed(task),
        )
        for task in TASKS
    ),
    EspressoCareBinarySensorEntityDescription(
        key="shot_time_drift",
        translation_key="shot_time_drift",
        device_class=BinarySensorDeviceClass.PROBLEM,
        coordinator_fn=maintenance_coordinator,
        available_fn=always_available,
        is_on_fn=lambda data: data.maintenance.drift.is_drifting,
        attributes_fn=lambda data: data.maintenance.drift_attributes,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EspressoCareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of one machine."""
    add_described_entities(entry, async_add_entities, EspressoCareBinarySensor, BINARY_SENSORS)


class EspressoCareBinarySensor(EspressoCareEntity, BinarySensorEntity):
    """A binary sensor of an espresso machine."""

    entity_description: EspressoCareBinarySensorEntityDescription

    @property
    def is_on(self) -> bool | None:
        """State from the machine's part."""
        return self.entity_description.is_on_fn(self.data)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Extra attributes (a snooze's end, the shot time drift's durations)."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.data)

    def _shown_state(self) -> tuple[Any, ...]:
        """Return availability, state and attributes."""
        return (*super()._shown_state(), self.is_on, self.extra_state_attributes)
