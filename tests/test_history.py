"""espresso_care.analyze_history on the recorder's real history (recorder_mock)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
import threading
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from homeassistant.components.recorder import history as recorder_history
from homeassistant.const import ATTR_DEVICE_CLASS, ATTR_UNIT_OF_MEASUREMENT, UnitOfPower
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.espresso_care import history
from custom_components.espresso_care.const import DOMAIN
from scripts.traces import load_trace, score

from .conftest import POWER_ATTRIBUTES, POWER_SENSOR

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.components.recorder import Recorder
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

FIXTURES = Path(__file__).parent / "fixtures" / "traces"
KW_ATTRIBUTES = {ATTR_UNIT_OF_MEASUREMENT: UnitOfPower.KILO_WATT, ATTR_DEVICE_CLASS: "power"}


async def record_states(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rows: list[tuple[float, str, dict[str, Any]]],
) -> None:
    """Write states into the recorder at their own times, then wait until they are saved."""
    for ts, state, attributes in rows:
        freezer.move_to(dt_util.utc_from_timestamp(ts))
        hass.states.async_set(POWER_SENSOR, state, attributes)
    await async_wait_recording_done(hass)


def trace_rows(
    name: str, start: datetime, kw_after: float | None = None
) -> tuple[list[tuple[float, str, dict[str, Any]]], list[tuple[float, float]], float]:
    """A trace moved to begin at ``start``: its states, its labelled shots, the shift.

    From ``kw_after`` seconds into the trace on, the states are in kW (as a Tuya plug reports).
    """
    trace = load_trace(FIXTURES / f"{name}.csv")
    samples = trace.samples()
    shift = start.timestamp() - samples[0][0]
    rows: list[tuple[float, str, dict[str, Any]]] = []
    for ts, watts in samples:
        if watts is None:
            rows.append((ts + shift, "unavailable", POWER_ATTRIBUTES))
        elif kw_after is not None and ts - samples[0][0] >= kw_after:
            rows.append((ts + shift, f"{watts / 1000.0:.4f}", KW_ATTRIBUTES))
        else:
            rows.append((ts + shift, f"{watts:g}", POWER_ATTRIBUTES))
    shots = [(a + shift, b + shift) for a, b in trace.shots]
    return rows, shots, shift


async def setup_entry(hass: HomeAssistant, config_entry: MockConfigEntry) -> None:
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()


async def analyze(hass: HomeAssistant, entry_id: str, **data: Any) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN,
        "analyze_history",
        {"config_entry_id": entry_id, **data},
        blocking=True,
        return_response=True,
    )
    assert isinstance(response, dict)
    return response


def found_shots(response: dict[str, Any]) -> list[tuple[float, float]]:
    return [
        (
            datetime.fromisoformat(shot["start"]).timestamp(),
            datetime.fromisoformat(shot["end"]).timestamp(),
        )
        for shot in response["shots"]
    ]


@pytest.mark.parametrize(
    "options",
    [
        {
            "name": "Espresso machine",
            "power_sensor": POWER_SENSOR,
            "machine_type": "single_boiler",
            "switch_role": "pump",
        }
    ],
)
async def test_trace_history_shots_and_pump_draw(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
) -> None:
    """A recorded PID single boiler: the labelled shots, its backflush and its pump draw."""
    start = dt_util.utcnow() - timedelta(days=3)
    rows, labelled, _ = trace_rows("silvia_pid__shelly_gen2__s1014", start)
    await record_states(hass, freezer, rows)
    freezer.move_to(dt_util.utc_from_timestamp(rows[-1][0]) + timedelta(hours=1))
    await setup_entry(hass, config_entry)

    calls: list[tuple[str, int | None]] = []
    real = recorder_history.state_changes_during_period

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append((threading.current_thread().name, kwargs.get("limit")))
        result = real(*args, **kwargs)
        assert len(result.get(POWER_SENSOR, [])) <= kwargs["limit"] + 1
        return result

    with (
        patch.object(history, "PAGE_SIZE", 1000),
        patch.object(recorder_history, "state_changes_during_period", spy),
    ):
        response = await analyze(hass, config_entry.entry_id)

    # read in pages of 1000 states, in the recorder's database executor
    assert len(calls) >= len(rows) // 1000
    assert all(limit == 1000 for _, limit in calls)
    assert all(name.startswith("DbWorker") for name, _ in calls)

    assert response["days"] == 7
    assert response["power_sensor"] == POWER_SENSOR
    assert response["samples"] == len(rows)
    assert response["shot_count"] == len(labelled)
    assert score(found_shots(response), labelled).f1 == 1.0
    assert sum(response["per_day"].values()) == len(labelled)
    assert response["backflush_count"] == 1
    assert response["plug"]["unit"] == "W"
    assert response["plug"]["median_report_interval_s"] == pytest.approx(1.0, abs=0.3)
    # the pump reads 50 W alone in this trace (its truth: tests/engine/test_calibration.py)
    assert response["learned"]["pump_watts"] == pytest.approx(50.0, rel=0.1)
    assert response["learned"]["pump_kind"] == "vibration"
    assert response["suggested"] == {}
    assert response["summary"].startswith("4 shots found")
    # the summary's parts as keys and figures (the options step shows them translated)
    parts = response["summary_parts"]
    assert parts[:3] == [
        {"key": "shots", "placeholders": {"count": "4"}},
        {"key": "per_day", "placeholders": {"per_day": "2.0", "count": "2"}},
        {"key": "backflushes", "placeholders": {"count": "1"}},
    ]
    assert [part["key"] for part in parts[3:]] == [
        "shot_length",
        "pump_vibration",
        "heater",
        "plug_on_change",
    ]
    assert response["warning_placeholders"] == {}


@pytest.mark.parametrize(
    "options",
    [
        {
            "name": "Espresso machine",
            "power_sensor": POWER_SENSOR,
            "machine_type": "heat_exchanger",
            "switch_role": "pump",
        }
    ],
)
async def test_sensor_in_kw_for_part_of_the_time(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
) -> None:
    """A heat exchanger whose plug switched to kW half way: every state in its own unit."""
    start = dt_util.utcnow() - timedelta(days=4)
    trace = load_trace(FIXTURES / "hx_vibe__shelly_gen2__s1028.csv")
    half = (trace.samples()[-1][0] - trace.samples()[0][0]) / 2
    rows, labelled, _ = trace_rows("hx_vibe__shelly_gen2__s1028", start, kw_after=half)
    assert any(attrs is KW_ATTRIBUTES for _, _, attrs in rows)
    await record_states(hass, freezer, rows)
    freezer.move_to(dt_util.utc_from_timestamp(rows[-1][0]) + timedelta(hours=1))
    await setup_entry(hass, config_entry)

    response = await analyze(hass, config_entry.entry_id, days=5)

    assert response["plug"]["units"] == ["W", "kW"]
    assert response["shot_count"] == len(labelled)
    assert score(found_shots(response), labelled).f1 >= 0.8
    # the pump's draw in W, as in the all-W trace
    assert response["learned"]["pump_watts"] == pytest.approx(57.0, rel=0.1)
    assert 1300 <= response["learned"]["heater_watts"] <= 1500


async def test_empty_history(
    recorder_mock: Recorder, hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """A power sensor the recorder never saw: a clear answer, no error."""
    await setup_entry(hass, config_entry)
    response = await analyze(hass, config_entry.entry_id, days=1)
    assert response["samples"] == 0
    assert response["shot_count"] == 0
    assert response["shots"] == []
    assert response["per_day"] == {}
    assert response["suggested"] == {}
    assert response["first_state"] is None
    assert "No recorded power readings" in response["summary"]


async def test_unavailable_only_history(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
) -> None:
    start = dt_util.utcnow() - timedelta(days=2)
    rows = [
        (start.timestamp() + 600.0 * i, "unavailable" if i % 2 else "unknown", POWER_ATTRIBUTES)
        for i in range(20)
    ]
    await record_states(hass, freezer, rows)
    freezer.move_to(start + timedelta(days=1))
    await setup_entry(hass, config_entry)
    response = await analyze(hass, config_entry.entry_id, days=3)
    assert response["samples"] == 20
    assert response["unavailable"] == 20
    assert response["readings"] == 0
    assert response["shot_count"] == 0
    assert response["plug"]["median_report_interval_s"] is None
    assert "unavailable or unknown in all 20 recorded states" in response["summary"]


@pytest.mark.parametrize("days", [0, 31, -2])
async def test_days_out_of_range(
    recorder_mock: Recorder, hass: HomeAssistant, config_entry: MockConfigEntry, days: int
) -> None:
    await setup_entry(hass, config_entry)
    with pytest.raises(ServiceValidationError) as err:
        await analyze(hass, config_entry.entry_id, days=days)
    assert err.value.translation_key == "days_out_of_range"
    assert err.value.translation_placeholders == {"min": "1", "max": "30"}


async def test_unloaded_entry(
    recorder_mock: Recorder, hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, config_entry)
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await analyze(hass, config_entry.entry_id)
    assert err.value.translation_key == "entry_not_loaded"
    with pytest.raises(ServiceValidationError) as err:
        await analyze(hass, "no_such_entry")
    assert err.value.translation_key == "entry_not_found"


@pytest.mark.usefixtures("power_sensor")
async def test_recorder_not_running(hass: HomeAssistant, config_entry: MockConfigEntry) -> None:
    await setup_entry(hass, config_entry)
    with pytest.raises(ServiceValidationError) as err:
        await analyze(hass, config_entry.entry_id)
    assert err.value.translation_key == "recorder_not_running"
