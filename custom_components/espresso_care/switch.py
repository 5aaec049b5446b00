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
from .entity import EspressoCareEntity, EspressoCareEntityDescription

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from homeassistant.core import Context, HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .runtime import EspressoCareConfigEntry, EspressoCareRuntime

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class EspressoCareSwitchEntityDescription(EspressoCareEntityDescription, SwitchEntityDescription):
    """A switch whose state and actions come from the runtime."""

    is_on_fn: Callable[[EspressoCareRuntime], bool]
    turn_on_fn: Callable[[EspressoCareRuntime, Context | None], Awaitable[None]]
    turn_off_fn: Callable[[EspressoCareRuntime, Context | None], Awaitable[None]]


def _has_switch(runtime: EspressoCareRuntime) -> bool:
    return runtime.backflush_switch is not None


SWITCHES: tuple[EspressoCareSwitchEntityDescription, ...] = (
    EspressoCareSwitchEntityDescription(
        key="backflush",
        translation_key="backflush",
        exists_fn=_has_switch,
        available_fn=lambda runtime: runtime.backflush.running
        or runtime.backflush.switch_available,
        is_on_fn=lambda runtime: runtime.backflush.running,
        turn_on_fn=lambda runtime, context: runtime.backflush.async_start_default(context),
        turn_off_fn=lambda runtime, context: runtime.backflush.async_stop(
            AbortReason.USER, context
        ),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EspressoCareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the switches of one machine."""
    runtime = entry.runtime_data
    async_add_entities(
        EspressoCareSwitch(runtime, description)
        for description in SWITCHES
        if description.exists_fn(runtime)
    )


class EspressoCareSwitch(EspressoCareEntity, SwitchEntity):
    """A switch of an espresso machine."""

    entity_description: EspressoCareSwitchEntityDescription

    @property
    def is_on(self) -> bool:
        """State from the runtime."""
        return self.entity_description.is_on_fn(self.runtime)

    def _shown_state(self) -> tuple[Any, ...]:
        """Return availability and state."""
        return (*super()._shown_state(), self.is_on)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start (the runtime refuses with a translated error when it must not)."""
        await self.entity_description.turn_on_fn(self.runtime, self._context)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop."""
        await self.entity_description.turn_off_fn(self.runtime, self._context)
