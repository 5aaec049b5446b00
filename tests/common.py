"""Helpers to drive the plug's power sensor in tests, and to replay recorded traces."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
import importlib.util
import json
from pathlib import Path
import sys
from typing import TYPE_CHECKING, Any

from homeassistant.const import ATTR_DEVICE_CLASS, ATTR_UNIT_OF_MEASUREMENT
from homeassistant.data_entry_flow import FlowResultType, section
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.espresso_care.config_flow import nest_in_sections
from custom_components.espresso_care.const import (
    CONF_MACHINE_TYPE,
    CONF_NAME,
    CONF_POWER_SENSOR,
    CONF_SWITCH_ROLE,
    DOMAIN,
)
from custom_components.espresso_care.engine.detector import ShotDetector
from custom_components.espresso_care.engine.events import ShotFinished
from custom_components.espresso_care.engine.profiles import settings_for
from custom_components.espresso_care.engine.units import to_watts
from custom_components.espresso_care.store import (
    STORAGE_MINOR_VERSION,
    STORAGE_VERSION,
    storage_key,
)
from scripts.traces import KIND_TO_TYPE

from .conftest import ENTRY_ID, POWER_ATTRIBUTES, POWER_SENSOR

if TYPE_CHECKING:
    from collections.abc import Mapping

    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.config_entries import ConfigFlowResult
    from homeassistant.core import HomeAssistant

STANDBY_WATTS = 1.0
PUMP_WATTS = 52.0
# Short maintenance rules (options), so that tests pull few shots.
SHORT_RULES = {
    "backflush_every_shots": 3,
    "backflush_every_days": 7,
    "clean_every_shots": 5,
    "clean_every_days": 30,
    "descale_every_shots": 0,
    "descale_every_days": 90,
}
SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def load_demo_provision() -> Any:
    """scripts/demo_provision.py, which imports its neighbour hass_api as a top-level module."""
    if "demo_provision" in sys.modules:
        return sys.modules["demo_provision"]
    if str(SCRIPTS) not in sys.path:
        sys.path.append(str(SCRIPTS))
    spec = importlib.util.spec_from_file_location("demo_provision", SCRIPTS / "demo_provision.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["demo_provision"] = module
    spec.loader.exec_module(module)
    return module


async def set_power(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, watts: float | str, after: float = 0.0
) -> None:
    """Let ``after`` seconds pass (running due timers), then report ``watts``."""
    if after:
        freezer.tick(after)
        async_fire_time_changed(hass)
    hass.states.async_set(POWER_SENSOR, str(watts), POWER_ATTRIBUTES)
    await hass.async_block_till_done()


async def pass_time(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    """Let time pass in 5 s steps without a new reading, running the detector's tick."""
    remaining = seconds
    while remaining > 0:
        step = min(5.0, remaining)
        freezer.tick(step)
        async_fire_time_changed(hass)
        remaining -= step
    await hass.async_block_till_done()


async def pull_shot(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, duration: float = 25.0
) -> None:
    """Run the pump for ``duration`` seconds from standby, then let the detector close it."""
    await set_power(hass, freezer, STANDBY_WATTS, after=30)
    await set_power(hass, freezer, PUMP_WATTS, after=10)
    await set_power(hass, freezer, STANDBY_WATTS, after=duration)
    await pass_time(hass, freezer, 15)


def stored_data(data: dict[str, Any]) -> dict[str, Any]:
    """Wrap ``data`` as the integration's store file of the test entry (for ``hass_storage``)."""
    return {
        "version": STORAGE_VERSION,
        "minor_version": STORAGE_MINOR_VERSION,
        "key": storage_key(ENTRY_ID),
        "data": data,
    }


def suggested_values(result: Mapping[str, Any]) -> dict[str, Any]:
    """Suggested value of every field of a form, its sections' fields included, by key."""
    found: dict[str, Any] = {}
    for key, value in result["data_schema"].schema.items():
        fields = value.schema.schema if isinstance(value, section) else {key: value}
        for field in fields:
            if field.description and "suggested_value" in field.description:
                found[str(field)] = field.description["suggested_value"]
    return found


def options_form(values: Mapping[str, Any]) -> dict[str, Any]:
    """The options form's input (sections) holding the flat ``values``."""
    return nest_in_sections(values)


async def open_options_settings(hass: HomeAssistant, entry_id: str) -> ConfigFlowResult:
    """Open the options flow of an entry on its settings form (picked in its menu)."""
    result = await hass.config_entries.options.async_init(entry_id)
    if result["type"] is FlowResultType.MENU:
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"next_step_id": "settings"}
        )
    return result


# What a snapshot of an entity holds: the registry fields and the state that are ours to
# decide. The full registry entry (snapshot_platform) gains fields with every Home Assistant
# release, so its snapshots could not pass on 2026.2 and 2026.10 alike.
SNAPSHOT_REGISTRY_FIELDS = (
    "entity_id",
    "unique_id",
    "platform",
    "translation_key",
    "original_device_class",
    "device_class",
    "entity_category",
    "disabled_by",
    "has_entity_name",
    "capabilities",
    "supported_features",
    "unit_of_measurement",
    "original_icon",
)


def entities_snapshot(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, entry_id: str
) -> dict[str, dict[str, Any]]:
    """Registry entry and state of every entity of a config entry, by entity id."""
    entries = er.async_entries_for_config_entry(entity_registry, entry_id)
    assert entries
    snapshot: dict[str, dict[str, Any]] = {}
    for entry in sorted(entries, key=lambda entry: entry.entity_id):
        state = hass.states.get(entry.entity_id)
        assert state is not None, entry.entity_id
        assert entry.device_id is not None, entry.entity_id
        snapshot[entry.entity_id] = _plain(
            {
                "entry": {field: getattr(entry, field) for field in SNAPSHOT_REGISTRY_FIELDS},
                "state": state.state,
                "attributes": dict(state.attributes),
            }
        )
    return snapshot


def _plain(value: Any) -> Any:
    """Enums as their values, recursively (2026.10 keys attributes by EntityStateAttribute)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {_plain(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


# --- recorded traces (tests/fixtures/traces) --------------------------------------------------

TRACE_FIXTURES = Path(__file__).parent / "fixtures" / "traces"


@dataclass(frozen=True)
class Trace:
    """A recorded plug trace: its samples, its labels and the power sensor it came from."""

    samples: list[tuple[datetime, str]]
    labels: dict[str, Any]
    entity_id: str

    @classmethod
    def load(cls, name: str) -> Trace:
        """Read ``<name>.csv`` and ``<name>.labels.json`` of tests/fixtures/traces."""
        with (TRACE_FIXTURES / f"{name}.csv").open(newline="", encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
        samples = [(dt_util.parse_datetime(row["last_changed"]), row["state"]) for row in rows]
        labels = json.loads((TRACE_FIXTURES / f"{name}.labels.json").read_text(encoding="utf-8"))
        return cls(samples, labels, rows[0]["entity_id"])  # type: ignore[arg-type]

    @property
    def machine_type(self) -> str:
        """The machine type the trace's machine is configured with."""
        return KIND_TO_TYPE[self.labels["machine_kind"]]

    @property
    def attributes(self) -> dict[str, Any]:
        """The power sensor's attributes (the trace's unit)."""
        return {ATTR_UNIT_OF_MEASUREMENT: self.labels["unit"], ATTR_DEVICE_CLASS: "power"}

    def offline_starts(self) -> list[float]:
        """Shot starts found by the bare engine on the same samples."""
        detector = ShotDetector(settings_for(self.machine_type))
        events = []
        for when, state in self.samples:
            events += detector.feed(when.timestamp(), to_watts(state, self.labels["unit"]))
        events += detector.tick(self.samples[-1][0].timestamp() + 60)
        return [event.start for event in events if isinstance(event, ShotFinished)]

    async def async_set_up(
        self, hass: HomeAssistant, freezer: FrozenDateTimeFactory
    ) -> MockConfigEntry:
        """Set up a machine on the trace's sensor (unavailable) just before its first sample."""
        freezer.move_to(self.samples[0][0] - timedelta(seconds=1))
        hass.states.async_set(self.entity_id, "unavailable", self.attributes)
        entry = MockConfigEntry(
            domain=DOMAIN,
            title="Espresso machine",
            options={
                CONF_NAME: "Espresso machine",
                CONF_POWER_SENSOR: self.entity_id,
                CONF_MACHINE_TYPE: self.machine_type,
                CONF_SWITCH_ROLE: "pump",
            },
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        return entry

    async def async_report(
        self, hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: datetime, state: str
    ) -> None:
        """Report one sample at its time."""
        freezer.move_to(when)
        # The 5 s timer runs first, as it would have while the plug stayed silent.
        async_fire_time_changed(hass)
        hass.states.async_set(self.entity_id, state, self.attributes)
        await hass.async_block_till_done()


async def async_close_trace(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Let the detector close what the last reading left open (a minute of 5 s ticks)."""
    for _ in range(12):
        freezer.tick(5)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
