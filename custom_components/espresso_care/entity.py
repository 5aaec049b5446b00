"""Base entity of Espresso Care."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.core import callback
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity, DataUpdateCoordinator

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from homeassistant.helpers.entity import Entity
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import EspressoCareConfigEntry, EspressoCareData


def _source_available(data: EspressoCareData) -> bool:
    return data.shots.available


def _shots(data: EspressoCareData) -> DataUpdateCoordinator[None]:
    return data.shots.coordinator


def maintenance_coordinator(data: EspressoCareData) -> DataUpdateCoordinator[None]:
    """Return the maintenance tracker's coordinator (the maintenance entities follow it)."""
    return data.maintenance.coordinator


def backflush_coordinator(data: EspressoCareData) -> DataUpdateCoordinator[None]:
    """Return the backflush runner's coordinator (the backflush entities follow it)."""
    return data.backflush.coordinator


def always_available(_: EspressoCareData) -> bool:
    """Return True: available whatever the power sensor does (schedule, last routine)."""
    return True


@dataclass(frozen=True, kw_only=True)
class EspressoCareEntityDescription(EntityDescription):
    """What every Espresso Care entity description carries.

    ``coordinator_fn`` picks the part whose coordinator the entity follows (the shot counter
    by default); ``exists_fn`` decides whether the entity is created for an entry (e.g. only
    with a backflush switch); ``available_fn`` defaults to the availability of the power
    sensor.
    """

    coordinator_fn: Callable[[EspressoCareData], DataUpdateCoordinator[None]] = _shots
    exists_fn: Callable[[EspressoCareData], bool] = lambda _: True
    available_fn: Callable[[EspressoCareData], bool] = _source_available


class EspressoCareEntity(CoordinatorEntity[DataUpdateCoordinator[None]]):
    """An entity of one espresso machine, following the coordinator of one of its parts.

    A part's push coordinator tells all of its entities of every change; an entity writes its
    state only when what it shows (``_shown_state``) changed. The power sensor reports up to
    every second and most readings change one or two entities, not the part's dozen: writing
    each entity on every change would cost more than the comparison.
    """

    _attr_has_entity_name = True
    entity_description: EspressoCareEntityDescription
    _written: tuple[Any, ...] | None = None

    def __init__(self, data: EspressoCareData, description: EspressoCareEntityDescription) -> None:
        """Initialise the entity from its description."""
        super().__init__(description.coordinator_fn(data))
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

    async def async_added_to_hass(self) -> None:
        """Follow the coordinator; the platform writes the first state right after this."""
        await super().async_added_to_hass()
        self._written = self._shown_state()

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state when the part changed what the entity shows."""
        shown = self._shown_state()
        if shown != self._written:
            self._written = shown
            self.async_write_ha_state()


def add_described_entities[D: EspressoCareEntityDescription](
    entry: EspressoCareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    entity_class: Callable[[EspressoCareData, D], Entity],
    descriptions: Iterable[D],
) -> None:
    """Add an entity of ``entity_class`` for each description that exists for the machine."""
    data = entry.runtime_data
    async_add_entities(
        entity_class(data, description)
        for description in descriptions
        if description.exists_fn(data)
    )
