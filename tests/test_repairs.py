"""Repair issues of Espresso Care: missing source entities."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import CoreState
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.espresso_care.const import CONF_BACKFLUSH_SWITCH, CONF_POWER_SENSOR, DOMAIN

from .conftest import ENTRY_ID, PLUG_SWITCH, POWER_ATTRIBUTES, POWER_SENSOR

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers import device_registry as dr, entity_registry as er

POWER_ISSUE = f"{ENTRY_ID}_power_sensor_missing"
SWITCH_ISSUE = f"{ENTRY_ID}_backflush_switch_missing"


@pytest.fixture(autouse=True)
async def setup_repairs(hass: HomeAssistant) -> None:
    """Load the repairs integration (fix flows)."""
    assert await async_setup_component(hass, "repairs", {})


async def _setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def _fix(hass: HomeAssistant, issue_id: str, user_input: dict[str, str] | None) -> dict:
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue_id})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "replace"
    if user_input is None:
        return dict(result)
    return dict(await manager.async_configure(result["flow_id"], user_input))


async def test_power_sensor_removed_and_back(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    plug_device: dr.DeviceEntry,
    entity_registry: er.EntityRegistry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Removing the power sensor raises a warning issue; its return clears it."""
    hass.states.async_set(POWER_SENSOR, "1.0", POWER_ATTRIBUTES)
    await _setup(hass, config_entry)
    assert issue_registry.async_get_issue(DOMAIN, POWER_ISSUE) is None

    entity_registry.async_remove(POWER_SENSOR)
    await hass.async_block_till_done()
    issue = issue_registry.async_get_issue(DOMAIN, POWER_ISSUE)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.is_fixable
    assert issue.translation_key == "power_sensor_missing"
    assert issue.translation_placeholders == {"name": "Espresso machine", "entity_id": POWER_SENSOR}

    hass.states.async_remove(POWER_SENSOR)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.espresso_machine_total_shots").state == "unavailable"
    assert issue_registry.async_get_issue(DOMAIN, POWER_ISSUE) is not None

    hass.states.async_set(POWER_SENSOR, "1.0", POWER_ATTRIBUTES)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, POWER_ISSUE) is None
    assert hass.states.get("sensor.espresso_machine_total_shots").state == "0"


async def test_power_sensor_state_removed(
    hass: HomeAssistant, init_integration: MockConfigEntry, issue_registry: ir.IssueRegistry
) -> None:
    """A power sensor outside the registry that leaves the state machine raises the issue."""
    hass.states.async_remove(POWER_SENSOR)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, POWER_ISSUE) is not None


async def test_missing_at_startup_checked_once_started(
    hass: HomeAssistant, config_entry: MockConfigEntry, issue_registry: ir.IssueRegistry
) -> None:
    """Sources are only judged missing once Home Assistant has started."""
    hass.set_state(CoreState.not_running)
    await _setup(hass, config_entry)
    assert issue_registry.async_get_issue(DOMAIN, POWER_ISSUE) is None

    await hass.async_start()
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, POWER_ISSUE) is not None


async def test_fix_power_sensor(
    hass: HomeAssistant, config_entry: MockConfigEntry, issue_registry: ir.IssueRegistry
) -> None:
    """The repair flow replaces the power sensor and reloads the machine."""
    await _setup(hass, config_entry)
    assert issue_registry.async_get_issue(DOMAIN, POWER_ISSUE) is not None

    hass.states.async_set("sensor.kettle", "80", {ATTR_UNIT_OF_MEASUREMENT: "°C"})
    hass.states.async_set("sensor.new_plug_power", "1.5", POWER_ATTRIBUTES)
    result = await _fix(hass, POWER_ISSUE, None)
    assert result["description_placeholders"] == {
        "name": "Espresso machine",
        "entity_id": POWER_SENSOR,
    }
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = dict(
        await manager.async_configure(result["flow_id"], {CONF_POWER_SENSOR: "sensor.kettle"})
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_POWER_SENSOR: "not_power_sensor"}

    MockConfigEntry(
        domain=DOMAIN, title="Other", options={CONF_POWER_SENSOR: "sensor.other_power"}
    ).add_to_hass(hass)
    hass.states.async_set("sensor.other_power", "1.5", POWER_ATTRIBUTES)
    result = dict(
        await manager.async_configure(result["flow_id"], {CONF_POWER_SENSOR: "sensor.other_power"})
    )
    assert result["errors"] == {CONF_POWER_SENSOR: "already_configured"}

    result = dict(
        await manager.async_configure(
            result["flow_id"], {CONF_POWER_SENSOR: "sensor.new_plug_power"}
        )
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert config_entry.options[CONF_POWER_SENSOR] == "sensor.new_plug_power"
    assert config_entry.state is ConfigEntryState.LOADED
    assert config_entry.runtime_data.shots.power_sensor == "sensor.new_plug_power"
    assert issue_registry.async_get_issue(DOMAIN, POWER_ISSUE) is None
    assert hass.states.get("sensor.espresso_machine_total_shots").state == "0"


@pytest.fixture
def options(options: dict[str, object]) -> dict[str, object]:
    """Options with a backflush switch."""
    return {**options, CONF_BACKFLUSH_SWITCH: PLUG_SWITCH}


async def test_switch_missing_and_removed_by_fix(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    power_sensor: str,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A missing switch raises its issue; the fix flow may drop the switch."""
    await _setup(hass, config_entry)
    issue = issue_registry.async_get_issue(DOMAIN, SWITCH_ISSUE)
    assert issue is not None
    assert issue.translation_key == "backflush_switch_missing"
    assert issue_registry.async_get_issue(DOMAIN, POWER_ISSUE) is None

    result = await _fix(hass, SWITCH_ISSUE, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert CONF_BACKFLUSH_SWITCH not in config_entry.options
    assert config_entry.state is ConfigEntryState.LOADED
    assert issue_registry.async_get_issue(DOMAIN, SWITCH_ISSUE) is None


async def test_switch_comes_and_goes(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    power_sensor: str,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The switch issue follows the switch's state, and a fix can pick another switch."""
    hass.states.async_set(PLUG_SWITCH, "off")
    await _setup(hass, config_entry)
    assert issue_registry.async_get_issue(DOMAIN, SWITCH_ISSUE) is None

    hass.states.async_remove(PLUG_SWITCH)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, SWITCH_ISSUE) is not None

    hass.states.async_set(PLUG_SWITCH, "off")
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, SWITCH_ISSUE) is None

    hass.states.async_remove(PLUG_SWITCH)
    hass.states.async_set("input_boolean.backflush", "off")
    await hass.async_block_till_done()
    result = await _fix(hass, SWITCH_ISSUE, {CONF_BACKFLUSH_SWITCH: "input_boolean.backflush"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert config_entry.options[CONF_BACKFLUSH_SWITCH] == "input_boolean.backflush"
    assert issue_registry.async_get_issue(DOMAIN, SWITCH_ISSUE) is None


async def test_fix_flow_entry_removed(
    hass: HomeAssistant, config_entry: MockConfigEntry, issue_registry: ir.IssueRegistry
) -> None:
    """A fix flow for an entry that is gone aborts."""
    await _setup(hass, config_entry)
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": POWER_ISSUE})
    await hass.config_entries.async_remove(config_entry.entry_id)
    await hass.async_block_till_done()
    # Removing the entry deletes its issues; a flow that was already open aborts.
    assert issue_registry.async_get_issue(DOMAIN, POWER_ISSUE) is None
    result = await manager.async_configure(result["flow_id"], {CONF_POWER_SENSOR: POWER_SENSOR})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "entry_removed"
