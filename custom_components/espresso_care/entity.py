"""Base entity of Espresso Care."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.core import callback
from homeassistant.helpers.entity import Entity, EntityDescription

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

    from .data import EspressoCareData


def _source_available(data: EspressoCareData) -> bool:
    return data.shots.available


def _shots(data: EspressoCareData) -> DataUpdateCoordinator[Any]:
    return data.shots.coordinator


@dataclass(frozen=True, kw_only=True)
class EspressoCareEntityDescription(EntityDescription):
    """What every Espresso Care entity description carries.

    ``coordinator_fn`` picks the part whose changes the entity follows (the shot counter by
    default); ``exists_fn`` decides whether the entity is created for an entry (e.g. only with
    a backflush switch); ``available_fn`` defaults to the availability of the power sensor.
    """

    coordinator_fn: Callable[[EspressoCareData], DataUpdateCoordinator[Any]] = _shots
    exists_fn: Callable[[EspressoCareData], bool] = lambda _: True
    available_fn: Callable[[EspressoCareData], bool] = _source_available


class EspressoCareEntity(Entity):
    """An entity of one espresso machine, following one of its parts.

    The part tells its entities of every change; an entity writes its state only when what it
    shows (``_shown_state``) differs from what it last wrote.
    """

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: EspressoCareEntityDescription
    _written: tuple[Any, ...] | None = None

    def __init__(self, data: EspressoCareData, description: EspressoCareEntityDescription) -> None:
        """Initialise the entity from its description."""
        self.data = data
        self.entity_description = description
        self._attr_unique_id = f"{data.shots.entry.entry_id}_{description.key}"
        self._attr_device_info = data.device_info

    @property
    def available(self) -> bool:
        """Available while the description says so (by default: the power sensor is)."""
        return self.entity_description.available_fn(self.data)

    def _shown_state(self) -> tuple[Any, ...]:
        """Return what the entity shows: its availability; the platforms add the rest."""
        return (self.available,)

    @callback
    def async_write_ha_state(self) -> None:
        """Write the state to the state machine, remembering what it shows."""
        self._written = self._shown_state()
        super().async_write_ha_state()

    @callback
    def _async_part_updated(self) -> None:
        """Write the state when the part changed what the entity shows."""
        if self._shown_state() != self._written:
            self.async_write_ha_state()

    async def async_added_to_hass(self) -> None:
        """Follow the part's changes."""
        await super().async_added_to_hass()
        coordinator = self.entity_description.coordinator_fn(self.data)
        self.async_on_remove(coordinator.async_add_listener(self._async_part_updated))
