"""Binary sensors of Espresso Care."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)

from . import maintenance
from .engine.maintenance import Task
from .entity import EspressoCareEntity, EspressoCareEntityDescription

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .runtime import EspressoCareConfigEntry, EspressoCareRuntime

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class EspressoCareBinarySensorEntityDescription(
    EspressoCareEntityDescription, BinarySensorEntityDescription
):
    """A binary sensor reading its value from the runtime."""

    is_on_fn: Callable[[EspressoCareRuntime], bool | None]
    attributes_fn: Callable[[EspressoCareRuntime], dict[str, Any]] | None = None


BINARY_SENSORS: tuple[EspressoCareBinarySensorEntityDescription, ...] = (
    EspressoCareBinarySensorEntityDescription(
        key="brewing",
        translation_key="brewing",
        device_class=BinarySensorDeviceClass.RUNNING,
        is_on_fn=lambda runtime: runtime.brewing,
    ),
    # Maintenance (issue 4): one "due" problem per task, and the shot time drift.
    *(
        EspressoCareBinarySensorEntityDescription(
            key=f"{task}_due",
            translation_key=f"{task}_due",
            device_class=BinarySensorDeviceClass.PROBLEM,
            available_fn=lambda _: True,
            is_on_fn=maintenance.due_fn(task),
            attributes_fn=maintenance.snooze_attributes_fn(task),
        )
        for task in Task
    ),
    EspressoCareBinarySensorEntityDescription(
        key="shot_time_drift",
        translation_key="shot_time_drift",
        device_class=BinarySensorDeviceClass.PROBLEM,
        available_fn=lambda _: True,
        is_on_fn=lambda runtime: runtime.maintenance.drift.is_drifting,
        attributes_fn=lambda runtime: runtime.maintenance.drift_attributes,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EspressoCareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of one machine."""
    runtime = entry.runtime_data
    async_add_entities(
        EspressoCareBinarySensor(runtime, description)
        for description in BINARY_SENSORS
        if description.exists_fn(runtime)
    )


class EspressoCareBinarySensor(EspressoCareEntity, BinarySensorEntity):
    """A binary sensor of an espresso machine."""

    entity_description: EspressoCareBinarySensorEntityDescription

    @property
    def is_on(self) -> bool | None:
        """State from the runtime."""
        return self.entity_description.is_on_fn(self.runtime)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Attributes from the runtime (a snooze's end, the shot time drift's durations)."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.runtime)

    def _shown_state(self) -> tuple[Any, ...]:
        """Return availability, state and attributes."""
        return (*super()._shown_state(), self.is_on, self.extra_state_attributes)
