"""Base entity of the espresso plug simulator."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity

from .const import DOMAIN

if TYPE_CHECKING:
    from .simulator import Simulator


class SimEntity(Entity):
    """An entity of the simulated plug; writes its state whenever the replay moves."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, sim: Simulator, entry_id: str, key: str, name: str) -> None:
        """Name the entity and attach it to the plug device."""
        self.sim = sim
        self._attr_name = name
        self._attr_unique_id = f"{entry_id}_{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry_id)},
            name="Espresso plug",
            manufacturer="Espresso Care demo",
            model="Simulated smart plug",
            model_id=sim.schedule.machine,
        )

    async def async_added_to_hass(self) -> None:
        """Follow the replay."""
        self.async_on_remove(self.sim.add_listener(self._changed))

    def _changed(self) -> None:
        self.async_write_ha_state()
