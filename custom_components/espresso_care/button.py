"""Buttons of Espresso Care."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription

from . import maintenance
from .const import SOURCE_BUTTON
from .engine.maintenance import Task
from .entity import EspressoCareEntity, EspressoCareEntityDescription

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .runtime import EspressoCareConfigEntry, EspressoCareRuntime

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class EspressoCareButtonEntityDescription(EspressoCareEntityDescription, ButtonEntityDescription):
    """A button acting on the runtime."""

    press_fn: Callable[[EspressoCareRuntime], Awaitable[None]]


async def _arm_backflush(runtime: EspressoCareRuntime) -> None:
    runtime.backflush.arm()


BUTTONS: tuple[EspressoCareButtonEntityDescription, ...] = (
    EspressoCareButtonEntityDescription(
        key="arm_backflush",
        translation_key="arm_backflush",
        exists_fn=lambda runtime: runtime.backflush_switch is not None,
        available_fn=lambda runtime: True,
        press_fn=_arm_backflush,
    ),
    # Maintenance (issue 4): tick a task off.
    *(
        EspressoCareButtonEntityDescription(
            key=f"mark_{task}_done",
            translation_key=f"mark_{task}_done",
            available_fn=lambda runtime: True,
            press_fn=maintenance.mark_done_fn(task, SOURCE_BUTTON),
        )
        for task in Task
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EspressoCareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the buttons of one machine."""
    runtime = entry.runtime_data
    async_add_entities(
        EspressoCareButton(runtime, description)
        for description in BUTTONS
        if description.exists_fn(runtime)
    )


class EspressoCareButton(EspressoCareEntity, ButtonEntity):
    """A button of an espresso machine."""

    entity_description: EspressoCareButtonEntityDescription

    async def async_press(self) -> None:
        """Do what the description says."""
        await self.entity_description.press_fn(self.runtime)
