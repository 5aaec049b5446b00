"""Buttons of Espresso Care."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription

from .const import SOURCE_BUTTON
from .engine.maintenance import TASKS, Task
from .entity import (
    EspressoCareEntity,
    EspressoCareEntityDescription,
    add_described_entities,
    always_available,
    backflush_coordinator,
    maintenance_coordinator,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import EspressoCareConfigEntry, EspressoCareData

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class EspressoCareButtonEntityDescription(EspressoCareEntityDescription, ButtonEntityDescription):
    """A button acting on one of the machine's parts."""

    press_fn: Callable[[EspressoCareData], Awaitable[None]]


async def _arm_backflush(data: EspressoCareData) -> None:
    data.backflush.arm()


def _mark_done(task: Task) -> Callable[[EspressoCareData], Awaitable[None]]:
    """Mark ``task`` done now."""

    async def mark_done(data: EspressoCareData) -> None:
        await data.maintenance.async_mark_done(task, source=SOURCE_BUTTON)

    return mark_done


BUTTONS: tuple[EspressoCareButtonEntityDescription, ...] = (
    EspressoCareButtonEntityDescription(
        key="arm_backflush",
        translation_key="arm_backflush",
        coordinator_fn=backflush_coordinator,
        exists_fn=lambda data: data.backflush.switch is not None,
        available_fn=always_available,
        press_fn=_arm_backflush,
    ),
    # Tick a maintenance task off.
    *(
        EspressoCareButtonEntityDescription(
            key=f"mark_{task}_done",
            translation_key=f"mark_{task}_done",
            coordinator_fn=maintenance_coordinator,
            available_fn=always_available,
            press_fn=_mark_done(task),
        )
        for task in TASKS
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EspressoCareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the buttons of one machine."""
    add_described_entities(entry, async_add_entities, EspressoCareButton, BUTTONS)


class EspressoCareButton(EspressoCareEntity, ButtonEntity):
    """A button of an espresso machine."""

    entity_description: EspressoCareButtonEntityDescription

    async def async_press(self) -> None:
        """Do what the description says."""
        await self.entity_description.press_fn(self.data)
