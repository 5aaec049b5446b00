"""Maintenance to-do list of Espresso Care."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from homeassistant.components.todo import DOMAIN as TODO_DOMAIN
from homeassistant.const import ATTR_SUPPORTED_FEATURES, STATE_OFF, STATE_ON
from homeassistant.core import Event, callback
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.espresso_care.const import DOMAIN, EVENT_MAINTENANCE_DONE

from .common import pull_shot

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

TODO = "todo.espresso_machine_maintenance"
T0 = "2026-05-04 08:00:00+00:00"


@pytest.fixture
def options(options: dict[str, Any]) -> dict[str, Any]:
    """Backflush due after 2 shots."""
    return {**options, "backflush_every_shots": 2}


async def get_items(hass: HomeAssistant) -> list[dict[str, Any]]:
    result = await hass.services.async_call(
        TODO_DOMAIN, "get_items", {"entity_id": TODO}, blocking=True, return_response=True
    )
    items: list[dict[str, Any]] = result[TODO]["items"]  # type: ignore[index,assignment]
    return items


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("init_integration")
async def test_items_are_due_tasks(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """The list holds one item per due task, named after the task; its state counts them."""
    state = hass.states.get(TODO)
    assert state.state == "0"
    assert state.attributes[ATTR_SUPPORTED_FEATURES] == 4  # UPDATE_TODO_ITEM only
    assert state.attributes["friendly_name"] == "Espresso machine Maintenance"
    assert await get_items(hass) == []

    await pull_shot(hass, freezer)
    await pull_shot(hass, freezer)
    assert hass.states.get(TODO).state == "1"
    assert await get_items(hass) == [
        {"uid": "backflush", "summary": "Backflush with plain water", "status": "needs_action"}
    ]

    freezer.tick(timedelta(days=30))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    items = await get_items(hass)
    assert [item["uid"] for item in items] == ["backflush", "clean"]
    # Overdue since the day rule's moment (in the home's zone).
    assert items[0]["due"] == "2026-05-11T01:00:00-07:00"
    assert items[1] == {
        "uid": "clean",
        "summary": "Clean with detergent (backflush with detergent)",
        "status": "needs_action",
        "due": "2026-06-03T01:00:00-07:00",
    }


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("init_integration")
async def test_complete_item_marks_done(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Completing an item marks its task done (source todo); the item leaves the list."""
    events: list[Event] = []

    @callback
    def listener(event: Event) -> None:
        events.append(event)

    hass.bus.async_listen(EVENT_MAINTENANCE_DONE, listener)
    await pull_shot(hass, freezer)
    await pull_shot(hass, freezer)
    assert hass.states.get("binary_sensor.espresso_machine_backflush_due").state == STATE_ON

    await hass.services.async_call(
        TODO_DOMAIN,
        "update_item",
        {"entity_id": TODO, "item": "backflush", "status": "completed"},
        blocking=True,
    )
    assert hass.states.get("binary_sensor.espresso_machine_backflush_due").state == STATE_OFF
    assert hass.states.get("sensor.espresso_machine_shots_since_backflush").state == "0"
    assert hass.states.get(TODO).state == "0"
    assert [(e.data["task"], e.data["source"]) for e in events] == [("backflush", "todo")]


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("init_integration")
async def test_complete_by_summary(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """An item can also be named by its summary, as the to-do card does."""
    await pull_shot(hass, freezer)
    await pull_shot(hass, freezer)
    await hass.services.async_call(
        TODO_DOMAIN,
        "update_item",
        {"entity_id": TODO, "item": "Backflush with plain water", "status": "completed"},
        blocking=True,
    )
    assert await get_items(hass) == []


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("init_integration")
async def test_items_cannot_be_changed(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Renaming is refused (translated); adding, removing and unknown items are refused."""
    await pull_shot(hass, freezer)
    await pull_shot(hass, freezer)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            TODO_DOMAIN,
            "update_item",
            {"entity_id": TODO, "item": "backflush", "rename": "Polish"},
            blocking=True,
        )
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "todo_item_complete_only"
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            TODO_DOMAIN,
            "update_item",
            {"entity_id": TODO, "item": "descale", "status": "completed"},
            blocking=True,
        )
    for service, data in (("add_item", {"item": "Polish"}), ("remove_item", {"item": "backflush"})):
        with pytest.raises(ServiceValidationError):
            await hass.services.async_call(
                TODO_DOMAIN, service, {"entity_id": TODO, **data}, blocking=True
            )
    assert len(await get_items(hass)) == 1


@pytest.mark.freeze_time(T0)
async def test_summary_falls_back_to_task_key(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> None:
    """Without translations the summary is the task key."""
    with patch(
        "custom_components.espresso_care.task_names.translation.async_get_cached_translations",
        return_value={},
    ):
        assert await hass.config_entries.async_reload(init_integration.entry_id)
        await hass.async_block_till_done()
    await pull_shot(hass, freezer)
    await pull_shot(hass, freezer)
    assert [item["summary"] for item in await get_items(hass)] == ["backflush"]
