"""Base entity of Espresso Care."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.core import callback
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
    """An entity of one espresso machine, updated by its runtime.

    The runtime notifies every entity of every change; an entity writes its state only when
    what it shows (``_shown_state``) differs from what it last wrote.
    """

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: EspressoCareEntityDescription
    _written: tuple[Any, ...] | None = None

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

    def _shown_state(self) -> tuple[Any, ...]:
        """Return what the entity shows: its availability; the platforms add the rest."""
        return (self.available,)

    @callback
    def async_write_ha_state(self) -> None:
        """Write the state to the state machine, remembering what it shows."""
        self._written = self._shown_state()
        super().async_write_ha_state()

    @callback
    def _async_runtime_updated(self) -> None:
        """Write the state when the runtime changed what the entity shows."""
        if self._shown_state() != self._written:
            self.async_write_ha_state()

    async def async_added_to_hass(self) -> None:
        """Follow the runtime's changes."""
        await super().async_added_to_hass()
        self.async_on_remove(self.runtime.async_add_listener(self._async_runtime_updated))
