"""Names of the maintenance tasks, from the ``task`` selector translations in strings.json."""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import translation

from .const import DOMAIN
from .engine.maintenance import TASKS, Task

_CATEGORY = "selector"


async def async_load_task_names(hass: HomeAssistant) -> None:
    """Load the task names in Home Assistant's language (cached for ``task_name``)."""
    await translation.async_get_translations(hass, hass.config.language, _CATEGORY, {DOMAIN})


@callback
def task_name(hass: HomeAssistant, task: Task | str) -> str:
    """Return the name of a task in Home Assistant's language; the task key when unknown."""
    strings = translation.async_get_cached_translations(
        hass, hass.config.language, _CATEGORY, DOMAIN
    )
    return strings.get(f"component.{DOMAIN}.{_CATEGORY}.task.options.{task}", str(task))


@callback
def task_names(hass: HomeAssistant) -> dict[Task, str]:
    """Return the name of every task (see ``task_name``)."""
    return {task: task_name(hass, task) for task in TASKS}
