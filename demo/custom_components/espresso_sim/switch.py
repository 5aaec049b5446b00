"""The simulated plug's pump relay: while on, the pump adds its power to the reading."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.switch import SwitchDeviceClass, SwitchEntity

from .entity import SimEntity

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from . import EspressoSimConfigEntry


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EspressoSimConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the relay."""
    async_add_entities([PumpRelay(entry.runtime_data, entry.entry_id, "pump_relay", "Pump relay")])


class PumpRelay(SimEntity, SwitchEntity):
    """A relay wired across the machine's brew switch."""

    _attr_device_class = SwitchDeviceClass.SWITCH
    _attr_icon = "mdi:pump"

    @property
    def is_on(self) -> bool:
        """Whether the relay runs the pump."""
        return self.sim.relay_on

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Run the pump."""
        self.sim.set_relay(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop the pump."""
        self.sim.set_relay(False)
