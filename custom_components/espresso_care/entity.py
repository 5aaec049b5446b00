"""Base entity of Espresso Care."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.helpers.entity import Entity, EntityDescription

if TYPE_CHECKING:
    from collections.abc import Callable

    from .runtime import EspressoCareRuntime


def _source_available(runtime: EspressoCareRuntime) -> bool:
    return runtime.available


@dataclass(frozen=True, kw_only=True)
class EspressoCareEntityDescription(EntityDescription):
    """What every Espresso Care entity description carries.

    ``exists_fn`` decides whether the entity is created for an entry (e.g. only with a
    backflush switch); ``available_fn`` defaults to the availability of the power sensor.
    """

    exists_fn: Callable[[EspressoCareRuntime], bool] = lambda _: True
    available_fn: Callable[[EspressoCareRuntime], bool] = _source_available


class EspressoCareEntity(Entity):
    """An entity of one espresso machine, updated by its runtime."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: EspressoCareEntityDescription

    def __init__(
        self, runtime: EspressoCareRuntime, description: EspressoCareEntityDescription
    ) -> None:
        """Initialise the entity from its description."""
        self.runtime = runtime
        self.entity_description = description
        self._attr_unique_id = f"{runtime.entry.entry_id}_{description.key}"
        self._attr_device_info = runtime.device_info

    @property
    def available(self) -> bool:
        """Available while the description says so (by default: the power sensor is)."""
        return self.entity_description.available_fn(self.runtime)

    async def async_added_to_hass(self) -> None:
        """Write the state whenever the runtime changed."""
        await super().async_added_to_hass()
        self.async_on_remove(self.runtime.async_add_listener(self.async_write_ha_state))
