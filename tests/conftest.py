"""Fixtures of the Home Assistant tests of Espresso Care."""

from __future__ import annotations

import json
import logging
from pathlib import Path
import re
from typing import TYPE_CHECKING, Any
from unittest.mock import AsyncMock, patch

from homeassistant import config_entries, data_entry_flow
from homeassistant.components.repairs import RepairsFlow
from homeassistant.const import ATTR_DEVICE_CLASS, ATTR_UNIT_OF_MEASUREMENT, UnitOfPower
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension

import custom_components
from custom_components.espresso_care.const import (
    CONF_MACHINE_TYPE,
    CONF_NAME,
    CONF_POWER_SENSOR,
    CONF_SWITCH_ROLE,
    DOMAIN,
)

if TYPE_CHECKING:
    from collections.abc import Generator

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers import device_registry as dr, entity_registry as er
    from syrupy.assertion import SnapshotAssertion

# Our package, not the harness's testing_config one, must be the ``custom_components`` found.
assert Path(custom_components.__file__).resolve().parent == (
    Path(__file__).resolve().parent.parent / "custom_components"
), custom_components.__file__

POWER_SENSOR = "sensor.espresso_plug_power"
PLUG_SWITCH = "switch.espresso_plug"
ENTRY_ID = "01JESPRESSOCAREENTRY000001"
POWER_ATTRIBUTES = {ATTR_UNIT_OF_MEASUREMENT: UnitOfPower.WATT, ATTR_DEVICE_CLASS: "power"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the e2e tests, then the browser tests, after all the others.

    The e2e driver starts once the tests are collected and plays its traces in real time
    (tests/e2e/conftest.py): it runs while the others do, and its tests only read what it
    measured. The browser tests drive a Home Assistant of their own against the clock: they
    come once the driver is done.
    """

    def rank(item: pytest.Item) -> int:
        if item.get_closest_marker("browser"):
            return 2
        return 1 if item.get_closest_marker("e2e_scenarios") else 0

    items.sort(key=rank)  # (a stable sort: the order stays within each group)


class EspressoCareSnapshotExtension(HomeAssistantSnapshotExtension):
    """Home Assistant's snapshot format, in ``tests/snapshots`` with every syrupy release.

    syrupy 6 (the harness of Home Assistant 2026.10) also reads the directory from
    ``snapshot_dirname``; syrupy 5 (2026.2) from ``dirname``, which the base class sets.
    """

    snapshot_dirname = "snapshots"


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots in tests/snapshots on Home Assistant 2026.2 and 2026.10 alike."""
    return snapshot.use_extension(EspressoCareSnapshotExtension)


# Home Assistant reports a deprecated call by an integration in its log, not as a Python
# warning: "Detected that custom integration 'espresso_care' calls ..." (helpers.frame, e.g.
# device_registry.async_get_device on 2026.10) or "The deprecated ... was used from
# espresso_care" (helpers.deprecation). Python's DeprecationWarnings from our modules are
# errors through pyproject.toml's filterwarnings.
DEPRECATION_REPORT = re.compile(
    rf"Detected that custom integration '{DOMAIN}'|The deprecated .* from {DOMAIN}\b"
)


class _DeprecationReports(logging.Handler):
    """Collect the log records in which Home Assistant reports our integration's usage."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reports: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if DEPRECATION_REPORT.search(message):
            self.reports.append(message)


@pytest.fixture(autouse=True)
def deprecation_reports(request: pytest.FixtureRequest) -> Generator[list[str]]:
    """Fail a test in which Home Assistant reported a deprecated call of ours (every version).

    A test marked ``deprecation_reports`` makes such a report on purpose and reads the list.
    """
    handler = _DeprecationReports()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler.reports
    finally:
        root.removeHandler(handler)
    if handler.reports and request.node.get_closest_marker("deprecation_reports") is None:
        pytest.fail("Home Assistant reported deprecated usage:\n" + "\n".join(handler.reports))


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Load our custom integration in every Home Assistant test (not the engine tests).

    Each test gets its own config directory: the integration writes its blueprint there, never
    into the test harness's shared one.
    """
    if "recorder_mock" in request.fixturenames:
        # the recorder's database must be prepared before hass starts
        request.getfixturevalue("recorder_db_url")
    if "hass" in request.fixturenames:
        hass: HomeAssistant = request.getfixturevalue("hass")
        config_dir = tmp_path / "config"
        config_dir.mkdir()
        hass.config.config_dir = str(config_dir)
        request.getfixturevalue("enable_custom_integrations")


_STRINGS = json.loads(
    (Path(custom_components.__file__).parent / DOMAIN / "strings.json").read_text(encoding="utf-8")
)


def untranslated_errors(flow: data_entry_flow.FlowHandler, errors: dict[str, str]) -> set[str]:
    """Return the errors of one of our forms that strings.json has no text for."""
    if isinstance(flow, config_entries.ConfigFlow):
        texts: dict[str, Any] = _STRINGS["config"]["error"]
    elif isinstance(flow, config_entries.OptionsFlow):
        texts = _STRINGS["options"]["error"]
    elif isinstance(flow, RepairsFlow):
        texts = _STRINGS["issues"][vars(flow)["_key"]]["fix_flow"].get("error", {})
    else:
        texts = {}
    return {error for error in errors.values() if error not in texts}


@pytest.fixture(autouse=True)
def flow_errors_are_translated() -> Generator[None]:
    """Fail a test in which one of our forms shows an error strings.json has no text for.

    Home Assistant would show the bare key (core's own test harness checks the same).
    """
    show_form = data_entry_flow.FlowHandler.async_show_form

    def checked_show_form(
        flow: data_entry_flow.FlowHandler, **kwargs: Any
    ) -> data_entry_flow.FlowResult:
        if type(flow).__module__.startswith(f"custom_components.{DOMAIN}."):
            missing = untranslated_errors(flow, kwargs.get("errors") or {})
            assert not missing, f"{type(flow).__name__}: no text for {sorted(missing)}"
        return show_form(flow, **kwargs)

    with patch.object(data_entry_flow.FlowHandler, "async_show_form", checked_show_form):
        yield


@pytest.fixture
def mock_setup_entry() -> Generator[AsyncMock]:
    """Keep config flow tests from setting the entry up."""
    with patch(
        "custom_components.espresso_care.async_setup_entry", return_value=True
    ) as mock_setup:
        yield mock_setup


@pytest.fixture
def options() -> dict[str, object]:
    """Options of the config entry under test."""
    return {
        CONF_NAME: "Espresso machine",
        CONF_POWER_SENSOR: POWER_SENSOR,
        CONF_MACHINE_TYPE: "single_boiler",
        CONF_SWITCH_ROLE: "pump",
    }


@pytest.fixture
def config_entry(options: dict[str, object]) -> MockConfigEntry:
    """The config entry of one espresso machine."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Espresso machine",
        data={},
        options=options,
        entry_id=ENTRY_ID,
        version=1,
        minor_version=1,
    )


@pytest.fixture
def plug_device(
    hass: HomeAssistant, device_registry: dr.DeviceRegistry, entity_registry: er.EntityRegistry
) -> dr.DeviceEntry:
    """A smart plug device owning the power sensor and a relay switch."""
    plug_entry = MockConfigEntry(domain="shelly", title="Plug")
    plug_entry.add_to_hass(hass)
    device = device_registry.async_get_or_create(
        config_entry_id=plug_entry.entry_id,
        identifiers={("shelly", "plug-1")},
        manufacturer="Shelly",
        name="Espresso plug",
    )
    entity_registry.async_get_or_create(
        "sensor",
        "shelly",
        "plug-1-power",
        suggested_object_id="espresso_plug_power",
        config_entry=plug_entry,
        device_id=device.id,
        original_device_class="power",
        unit_of_measurement=UnitOfPower.WATT,
    )
    entity_registry.async_get_or_create(
        "switch",
        "shelly",
        "plug-1-relay",
        suggested_object_id="espresso_plug",
        config_entry=plug_entry,
        device_id=device.id,
    )
    return device


@pytest.fixture
def power_sensor(hass: HomeAssistant) -> str:
    """The plug's power sensor, reading standby power."""
    hass.states.async_set(POWER_SENSOR, "1.0", POWER_ATTRIBUTES)
    return POWER_SENSOR


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, config_entry: MockConfigEntry, power_sensor: str
) -> MockConfigEntry:
    """Set up the integration with one machine."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    return config_entry
