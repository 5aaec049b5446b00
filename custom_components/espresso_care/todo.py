"""To-do list of Espresso Care: the maintenance tasks that are due.

One item per due task, its ``uid`` the task (``backflush``, ``clean``, ``descale``), its summary
the task's name from the ``task`` selector translations in strings.json (in Home Assistant's
language, English where a translation is missing; the task key itself if none can be loaded).
A snoozed task that its rules make due stays on the list, with the snooze's end as its due
date. Completing an item marks the task done (source ``todo``); the item then leaves the list.
Items cannot be created, renamed or deleted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.todo import TodoItem, TodoListEntity
from homeassistant.components.todo.const import TodoItemStatus, TodoListEntityFeature
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util

from .const import DOMAIN, SOURCE_TODO
from .engine.maintenance import TASKS, Task
from .entity import (
    EspressoCareEntity,
    EspressoCareEntityDescription,
    always_available,
    maintenance_coordinator,
)
from .task_names import async_load_task_names, task_names

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import EspressoCareConfigEntry, EspressoCareData

PARALLEL_UPDATES = 0

MAINTENANCE_LIST = EspressoCareEntityDescription(
    key="maintenance",
    translation_key="maintenance",
    coordinator_fn=maintenance_coordinator,
    available_fn=always_available,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EspressoCareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the maintenance to-do list of one machine."""
    async_add_entities([EspressoCareMaintenanceList(entry.runtime_data, MAINTENANCE_LIST)])


class EspressoCareMaintenanceList(EspressoCareEntity, TodoListEntity):
    """The maintenance tasks of an espresso machine that are due."""

    _attr_supported_features = TodoListEntityFeature.UPDATE_TODO_ITEM

    def __init__(self, data: EspressoCareData, description: EspressoCareEntityDescription) -> None:
        """Initialise the list; task names are loaded once it is added."""
        super().__init__(data, description)
        self._task_names: dict[Task, str] = {}

    async def async_added_to_hass(self) -> None:
        """Load the translated task names, then follow the maintenance schedule."""
        await async_load_task_names(self.hass)
        self._task_names = task_names(self.hass)
        await super().async_added_to_hass()

    @property
    def todo_items(self) -> list[TodoItem]:
        """One item per due or snoozed-but-due task (the schedule's last evaluation).

        Its due date is the snooze's end while snoozed, else the day rule's moment once that
        has passed (none when due by shots only).
        """
        maintenance = self.data.maintenance
        now = dt_util.now()
        return [
            TodoItem(
                summary=self._task_names.get(task, str(task)),
                uid=str(task),
                status=TodoItemStatus.NEEDS_ACTION,
                due=status.snoozed_until
                or (due_at if (due_at := status.due_at) is not None and due_at <= now else None),
            )
            for task in TASKS
            if (status := maintenance.evaluated(task)).due_by_rules
        ]

    def _shown_state(self) -> tuple[Any, ...]:
        """Return availability and the items (pushed to their subscribers on every write)."""
        return (*super()._shown_state(), self.todo_items)

    async def async_update_todo_item(self, item: TodoItem) -> None:
        """Mark the task done when its item is completed; nothing else can change."""
        if item.status != TodoItemStatus.COMPLETED or item.uid not in set(Task):
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="todo_item_complete_only"
            )
        await self.data.maintenance.async_mark_done(Task(item.uid), source=SOURCE_TODO)
