"""Config and options flows of Espresso Care."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, STATE_UNAVAILABLE, UnitOfPower
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.espresso_care.config_flow import EspressoCareConfigFlow
from custom_components.espresso_care.const import (
    CONF_BACKFLUSH_SWITCH,
    CONF_MACHINE_TYPE,
    CONF_NAME,
    CONF_POWER_SENSOR,
    CONF_SHOT_MAX_SECONDS,
    CONF_SHOT_MIN_SECONDS,
    CONF_SWITCH_ROLE,
    DOMAIN,
)
from custom_components.espresso_care.engine.profiles import settings_for

from .common import open_options_settings, options_form, suggested_values
from .conftest import PLUG_SWITCH, POWER_ATTRIBUTES, POWER_SENSOR

if TYPE_CHECKING:
    from unittest.mock import AsyncMock

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers import device_registry as dr, entity_registry as er

USER_INPUT = {
    CONF_NAME: "Silvia",
    CONF_POWER_SENSOR: POWER_SENSOR,
    CONF_MACHINE_TYPE: "heat_exchanger",
    CONF_BACKFLUSH_SWITCH: PLUG_SWITCH,
    CONF_SWITCH_ROLE: "machine_power",
}

OPTIONS_INPUT = {
    CONF_POWER_SENSOR: POWER_SENSOR,
    CONF_MACHINE_TYPE: "dual_boiler",
    CONF_SWITCH_ROLE: "pump",
    CONF_SHOT_MIN_SECONDS: 18,
    CONF_SHOT_MAX_SECONDS: 50.5,
    "backflush_every_shots": 30.0,
    "backflush_every_days": 10.0,
    "clean_every_shots": 150.0,
    "clean_every_days": 0.0,
    "descale_every_shots": 500.0,
    "descale_every_days": 60.0,
}


async def test_user_flow(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, power_sensor: str
) -> None:
    """The user names the machine and picks its sensor, type and switch."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}

    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Silvia"
    assert result["data"] == {}
    assert result["options"] == USER_INPUT
    assert len(mock_setup_entry.mock_calls) == 1


@pytest.mark.usefixtures("mock_setup_entry", "power_sensor")
async def test_user_flow_defaults(hass: HomeAssistant) -> None:
    """Name, machine type and switch role have defaults; the switch is optional."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_POWER_SENSOR: POWER_SENSOR}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Espresso machine"
    assert result["options"] == {
        CONF_NAME: "Espresso machine",
        CONF_POWER_SENSOR: POWER_SENSOR,
        CONF_MACHINE_TYPE: "single_boiler",
        CONF_SWITCH_ROLE: "pump",
    }


@pytest.mark.usefixtures("mock_setup_entry")
async def test_user_flow_already_configured(
    hass: HomeAssistant, config_entry: MockConfigEntry, power_sensor: str
) -> None:
    """A power sensor that already belongs to a machine is refused."""
    config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize(
    ("state", "attributes", "error"),
    [
        (
            "21.5",
            {ATTR_UNIT_OF_MEASUREMENT: "°C", "device_class": "temperature"},
            "not_power_sensor",
        ),
        ("high", POWER_ATTRIBUTES, "not_power_sensor"),
        ("-250", POWER_ATTRIBUTES, "not_power_sensor"),
        ("3.2", {ATTR_UNIT_OF_MEASUREMENT: "MW", "device_class": "power"}, "not_power_sensor"),
        ("3.2", {ATTR_UNIT_OF_MEASUREMENT: "W", "device_class": "current"}, "not_power_sensor"),
        (None, None, "entity_not_found"),
    ],
)
async def test_user_flow_rejects_other_sensors(
    hass: HomeAssistant,
    mock_setup_entry: AsyncMock,
    state: str | None,
    attributes: dict[str, str] | None,
    error: str,
) -> None:
    """Only a numeric power sensor in W or kW is accepted; the user can correct the choice."""
    if state is not None:
        hass.states.async_set(POWER_SENSOR, state, attributes)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_POWER_SENSOR: error}

    hass.states.async_set(POWER_SENSOR, "0.8", POWER_ATTRIBUTES)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert len(mock_setup_entry.mock_calls) == 1


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize("state", [STATE_UNAVAILABLE, "unknown"])
async def test_user_flow_accepts_unavailable_power_sensor(hass: HomeAssistant, state: str) -> None:
    """A power sensor that is unavailable right now is accepted by its unit."""
    hass.states.async_set(POWER_SENSOR, state, {ATTR_UNIT_OF_MEASUREMENT: UnitOfPower.KILO_WATT})
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("mock_setup_entry")
async def test_user_flow_accepts_registered_sensor_without_state(
    hass: HomeAssistant, plug_device: dr.DeviceEntry
) -> None:
    """A power sensor that is registered but not loaded yet is accepted by its registry entry."""
    assert hass.states.get(POWER_SENSOR) is None
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("mock_setup_entry")
async def test_user_flow_rejects_registered_sensor_of_other_kind(
    hass: HomeAssistant, entity_registry: er.EntityRegistry
) -> None:
    """A registered sensor whose registry entry says energy is refused."""
    entity_registry.async_get_or_create(
        "sensor",
        "shelly",
        "plug-1-energy",
        suggested_object_id="espresso_plug_energy",
        original_device_class="energy",
        unit_of_measurement="kWh",
    )
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**USER_INPUT, CONF_POWER_SENSOR: "sensor.espresso_plug_energy"}
    )
    assert result["errors"] == {CONF_POWER_SENSOR: "not_power_sensor"}


async def test_options_flow(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Every option can be changed; the entry keeps its name and is reloaded."""
    entry = init_integration
    result = await open_options_settings(hass, entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "settings"
    suggested = suggested_values(result)
    # Defaults of a single boiler and of the maintenance rules are suggested.
    profile = settings_for("single_boiler")
    assert suggested[CONF_SHOT_MIN_SECONDS] == profile.shot_min_seconds
    assert suggested[CONF_SHOT_MAX_SECONDS] == profile.shot_max_seconds
    assert suggested["backflush_every_shots"] == 20
    assert suggested["descale_every_days"] == 90

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], options_form({**OPTIONS_INPUT, CONF_BACKFLUSH_SWITCH: PLUG_SWITCH})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options == {
        CONF_NAME: "Espresso machine",
        **OPTIONS_INPUT,
        CONF_SHOT_MIN_SECONDS: 18.0,
        CONF_SHOT_MAX_SECONDS: 50.5,
        "backflush_every_shots": 30,
        "backflush_every_days": 10,
        "clean_every_shots": 150,
        "clean_every_days": 0,
        "descale_every_shots": 500,
        "descale_every_days": 60,
        CONF_BACKFLUSH_SWITCH: PLUG_SWITCH,
        "require_arming": False,  # the arming gate of the automated backflush, off by default
        "install_voice_sentences": False,  # the Assist sentences, off by default
    }
    assert isinstance(entry.options["backflush_every_shots"], int)
    # The entry was reloaded: the detector runs with the new settings.
    assert entry.state is ConfigEntryState.LOADED
    settings = entry.runtime_data.shots.settings
    assert (settings.machine_type, settings.shot_min_seconds, settings.shot_max_seconds) == (
        "dual_boiler",
        18.0,
        50.5,
    )

    # An emptied switch is removed from the options.
    result = await open_options_settings(hass, entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], options_form(OPTIONS_INPUT)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_BACKFLUSH_SWITCH not in entry.options


async def test_options_flow_keeps_profile_shot_limits(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Changing only the machine type gives the new type's shot limits, not the old ones."""
    entry = init_integration
    single, dual = settings_for("single_boiler"), settings_for("dual_boiler")
    assert single.shot_max_seconds != dual.shot_max_seconds

    # The form shows the single boiler's limits; the user only switches to a dual boiler.
    result = await open_options_settings(hass, entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        options_form(
            {
                **OPTIONS_INPUT,
                CONF_SHOT_MIN_SECONDS: single.shot_min_seconds,
                CONF_SHOT_MAX_SECONDS: single.shot_max_seconds,
            }
        ),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert CONF_SHOT_MIN_SECONDS not in entry.options
    assert CONF_SHOT_MAX_SECONDS not in entry.options
    settings = entry.runtime_data.shots.settings
    assert (settings.shot_min_seconds, settings.shot_max_seconds) == (
        dual.shot_min_seconds,
        dual.shot_max_seconds,
    )

    # A limit the user really changed is kept as an override.
    result = await open_options_settings(hass, entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        options_form(
            {
                **OPTIONS_INPUT,
                CONF_SHOT_MIN_SECONDS: dual.shot_min_seconds,
                CONF_SHOT_MAX_SECONDS: 70,
            }
        ),
    )
    await hass.async_block_till_done()
    assert CONF_SHOT_MIN_SECONDS not in entry.options
    assert entry.options[CONF_SHOT_MAX_SECONDS] == 70.0
    assert entry.runtime_data.shots.settings.shot_max_seconds == 70.0


async def test_options_flow_errors(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Shot limits must be ordered and the power sensor must be free and a power sensor."""
    other = MockConfigEntry(
        domain=DOMAIN,
        title="Other",
        options={
            CONF_NAME: "Other",
            CONF_POWER_SENSOR: "sensor.other_plug_power",
            CONF_MACHINE_TYPE: "capsule",
            CONF_SWITCH_ROLE: "pump",
        },
    )
    other.add_to_hass(hass)
    result = await open_options_settings(hass, init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        options_form({**OPTIONS_INPUT, CONF_SHOT_MIN_SECONDS: 40, CONF_SHOT_MAX_SECONDS: 40}),
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SHOT_MIN_SECONDS: "shot_min_not_below_max"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        options_form({**OPTIONS_INPUT, CONF_POWER_SENSOR: "sensor.other_plug_power"}),
    )
    assert result["errors"] == {CONF_POWER_SENSOR: "already_configured"}

    hass.states.async_set("sensor.kettle_temperature", "80", {ATTR_UNIT_OF_MEASUREMENT: "°C"})
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        options_form({**OPTIONS_INPUT, CONF_POWER_SENSOR: "sensor.kettle_temperature"}),
    )
    assert result["errors"] == {CONF_POWER_SENSOR: "not_power_sensor"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], options_form(OPTIONS_INPUT)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_options_flow_shot_limits_use_engine_bounds(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Shot limits the engine refuses are refused in the form, with the engine's bounds."""
    entry = init_integration
    result = await open_options_settings(hass, entry.entry_id)
    # The engine allows 2-600 s for the longest shot: 1.5 s would fail the set-up.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        options_form({**OPTIONS_INPUT, CONF_SHOT_MIN_SECONDS: 1, CONF_SHOT_MAX_SECONDS: 1.5}),
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SHOT_MAX_SECONDS: "shot_max_seconds_out_of_range"}
    assert result["description_placeholders"]["shot_max_seconds_min"] == "2"
    assert result["description_placeholders"]["shot_max_seconds_max"] == "600"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        options_form({**OPTIONS_INPUT, CONF_SHOT_MIN_SECONDS: 0.5, CONF_SHOT_MAX_SECONDS: 30}),
    )
    assert result["errors"] == {CONF_SHOT_MIN_SECONDS: "shot_min_seconds_out_of_range"}
    assert entry.state is ConfigEntryState.LOADED
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        options_form({**OPTIONS_INPUT, CONF_SHOT_MIN_SECONDS: 1, CONF_SHOT_MAX_SECONDS: 2}),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.shots.settings.shot_max_seconds == 2.0


async def test_options_flow_has_no_reconfigure_twin(hass: HomeAssistant) -> None:
    """The sources are changed in the options only (as core helpers do): no reconfigure step."""
    assert not hasattr(EspressoCareConfigFlow, "async_step_reconfigure")


@pytest.mark.usefixtures("mock_setup_entry", "power_sensor")
async def test_shared_backflush_switch_refused(hass: HomeAssistant) -> None:
    """Hole 7: a switch that already runs another machine's backflush is refused in each flow."""
    other = MockConfigEntry(
        domain=DOMAIN,
        title="Other",
        options={
            CONF_NAME: "Other",
            CONF_POWER_SENSOR: "sensor.other_plug_power",
            CONF_MACHINE_TYPE: "capsule",
            CONF_BACKFLUSH_SWITCH: PLUG_SWITCH,
            CONF_SWITCH_ROLE: "pump",
        },
    )
    other.add_to_hass(hass)
    hass.states.async_set("sensor.other_plug_power", "1.0", POWER_ATTRIBUTES)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_BACKFLUSH_SWITCH: "switch_already_used"}
    without_switch = {k: v for k, v in USER_INPUT.items() if k != CONF_BACKFLUSH_SWITCH}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], without_switch)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = hass.config_entries.async_get_entry(result["result"].entry_id)

    result = await open_options_settings(hass, entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], options_form({**OPTIONS_INPUT, CONF_BACKFLUSH_SWITCH: PLUG_SWITCH})
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_BACKFLUSH_SWITCH: "switch_already_used"}
    # The other machine keeps its own switch when it saves its options.
    result = await open_options_settings(hass, other.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        options_form(
            {
                **OPTIONS_INPUT,
                CONF_POWER_SENSOR: "sensor.other_plug_power",
                CONF_BACKFLUSH_SWITCH: PLUG_SWITCH,
            }
        ),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
