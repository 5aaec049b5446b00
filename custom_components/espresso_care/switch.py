"""Switch of Espresso Care: the automated backflush, on while the routine runs.

Turning it on starts the default plain-water backflush (what voice assistants and dashboard
tiles use: "turn on the espresso machine backflush"); turning it off aborts the routine with
reason ``user``, which turns the backflush switch off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription

from .engine.backflush import AbortReason
from .entity import (
    EspressoCareEntity,
    EspressoCareEntityDescription,
    add_described_entities,
    backflush_coordinator,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from homeassistant.core import Context, HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import EspressoCareConfigEntry, EspressoCareData

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class EspressoCareSwitchEntityDescription(EspressoCareEntityDescription, SwitchEntityDescription):
    """A switch whose state and actions come from one of the machine's parts."""

    is_on_fn: Callable[[EspressoCareData], bool]
    turn_on_fn: Callable[[EspressoCareData, Context | None], Awaitable[None]]
    turn_off_fn: Callable[[EspressoCareData, Context | None], Awaitable[None]]


def _has_switch(data: EspressoCareData) -> bool:
    return data.backflush.switch is not None


SWITCHES: tuple[EspressoCareSwitchEntityDescription, ...] = (
    EspressoCareSwitchEntityDescription(
        key="backflush",
        translation_key="backflush",
        coordinator_fn=backflush_coordinator,
        exists_fn=_has_switch,
        available_fn=lambda data: data.backflush.running or data.backflush.switch_available,
        is_on_fn=lambda data: data.backflush.running,
        turn_on_fn=lambda data, context: data.backflush.async_start_default(context),
        turn_off_fn=lambda data, context: data.backflush.async_stop(AbortReason.USER, context),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EspressoCareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the switches of one machine."""
    add_described_entities(entry, async_add_entities, EspressoCareSwitch, SWITCHES)


class EspressoCareSwitch(EspressoCareEntity, SwitchEntity):
    """A switch of an espresso machine."""

    entity_description: EspressoCareSwitchEntityDescription

    @property
    def is_on(self) -> bool:
        """State from the backflush runner."""
        return self.entity_description.is_on_fn(self.data)

    def _shown_state(self) -> tuple[Any, ...]:
        """Return availability and state."""
        return (*super()._shown_state(), self.is_on)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start (the runner refuses with a translated error when it must not)."""
        await self.entity_description.turn_on_fn(self.data, self._context)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop."""
        await self.entity_description.turn_off_fn(self.data, self._context)
