"""Binary sensors of Espresso Care."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)

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


BINARY_SENSORS: tuple[EspressoCareBinarySensorEntityDescription, ...] = (
    EspressoCareBinarySensorEntityDescription(
        key="brewing",
        translation_key="brewing",
        device_class=BinarySensorDeviceClass.RUNNING,
        is_on_fn=lambda runtime: runtime.brewing,
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
