"""Options flow "Suggest settings from history" on the recorder's real history."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
import pytest
from sqlalchemy.exc import SQLAlchemyError

from custom_components.espresso_care import options_history
from custom_components.espresso_care.store import storage_key

from .conftest import POWER_ATTRIBUTES, POWER_SENSOR
from .engine.test_calibration import shots_every_hour
from .test_history import record_states, setup_entry, trace_rows

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.components.recorder import Recorder
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

TOTAL_SHOTS = "sensor.espresso_machine_total_shots"
TRACE = "hx_vibe__shelly_gen2__s1028"
HX_OPTIONS = {
    "name": "Espresso machine",
    "power_sensor": POWER_SENSOR,
    "machine_type": "heat_exchanger",
    "switch_role": "pump",
}
CAPSULE_OPTIONS = {**HX_OPTIONS, "machine_type": "capsule"}


async def open_history_step(hass: HomeAssistant, entry_id: str) -> dict[str, Any]:
    """Open the options flow and pick "Suggest settings from history" in its menu."""
    result = await hass.config_entries.options.async_init(entry_id)
    assert result["type"] is FlowResultType.MENU
    assert "history" in result["menu_options"]
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "history"}
    )


async def run_analysis(hass: HomeAssistant, entry_id: str, days: int) -> dict[str, Any]:
    """Go through the days form and the progress step; return the apply form."""
    result = await open_history_step(hass, entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "history"
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"days": days})
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert result["progress_action"] == "analyze_history"
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "history_apply"
    return result


def fields(result: dict[str, Any]) -> set[str]:
    return {str(key) for key in result["data_schema"].schema}


async def recorded_trace(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> list[str]:
    """Record the heat exchanger trace three days ago; return the local days of its shots.

    It starts at 06:00 UTC whatever the time the test runs: its shots (9 to 22 h in) then fall
    on two days in UTC, three on the first and two on the second.
    """
    start = (dt_util.utcnow() - timedelta(days=3)).replace(
        hour=6, minute=0, second=0, microsecond=0
    )
    rows, labelled, _ = trace_rows(TRACE, start)
    await record_states(hass, freezer, rows)
    freezer.move_to(dt_util.utc_from_timestamp(rows[-1][0]) + timedelta(hours=1))
    return [dt_util.as_local(dt_util.utc_from_timestamp(a)).date().isoformat() for a, _ in labelled]


# The reason of the suggested type in each language: translated text, translated type names.
TYPE_REASONS = {
    "en": (
        "- **machine_type** → Single boiler: the heater often stayed off while water flowed "
        "(a boiler, not a flow heater); the Single boiler profile fits the readings better "
        "than Capsule machine (shots found per profile: Single boiler ",
        ", Capsule machine 0).",
    ),
    "de": (
        "- **machine_type** → Einkreiser: die Heizung blieb oft aus, während Wasser floss (ein "
        "Boiler, kein Durchlauferhitzer); das Profil Einkreiser passt besser zu den Messwerten "
        "als Kapselmaschine (gefundene Bezüge je Profil: Einkreiser ",
        ", Kapselmaschine 0).",
    ),
}


# The summary paragraph in each language, figures with the language's decimal mark.
SUMMARIES = {
    "en": (
        "No shot found with the current settings; shots usually last 33 s; pump about 56.8 W "
        "(vibration pump); heater about 1401 W; the plug reports on change, every 60 s (median). "
        "1 setting could fit better: see the suggestions."
    ),
    "de": (
        "Mit den aktuellen Einstellungen kein Bezug gefunden; Bezüge dauern meist 33 s; Pumpe "
        "etwa 56,8 W (Vibrationspumpe); Heizung etwa 1401 W; die Steckdose meldet bei Änderung, "
        "alle 60 s (Median). 1 Einstellung könnte besser passen: siehe die Vorschläge."
    ),
}


@pytest.mark.parametrize("options", [CAPSULE_OPTIONS])
@pytest.mark.parametrize("language", list(TYPE_REASONS))
async def test_suggested_machine_type_applied(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    language: str,
) -> None:
    """A heat exchanger set up as a capsule machine: a boiler type is suggested, and why.

    The summary and the reason are shown in Home Assistant's language (the engine gives keys
    and figures).
    """
    await recorded_trace(hass, freezer)
    await setup_entry(hass, config_entry)
    hass.config.language = language  # after set-up: the entity ids stay English

    result = await run_analysis(hass, config_entry.entry_id, days=5)
    placeholders = result["description_placeholders"]
    start, end = TYPE_REASONS[language]
    assert placeholders["suggestions"].startswith(start)
    assert placeholders["suggestions"].endswith(end)
    assert placeholders["warnings"] == ""
    assert placeholders["days"] == "5"
    assert placeholders["summary"] == SUMMARIES[language]
    # the capsule profile found no shot: none to add to the counters
    assert fields(result) == {"machine_type"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"machine_type": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert config_entry.options["machine_type"] == "single_boiler"
    assert config_entry.options["power_sensor"] == POWER_SENSOR
    # nothing else was ticked: the counters are untouched
    assert hass.states.get(TOTAL_SHOTS).state == "0"


@pytest.mark.parametrize("options", [HX_OPTIONS])
async def test_history_shots_added_once(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """The shots found before the entry existed are added to the total, and only once."""
    days = await recorded_trace(hass, freezer)
    first_day = min(days)
    config_entry.created_at = dt_util.utcnow()  # set up after the recorded history
    await setup_entry(hass, config_entry)

    result = await run_analysis(hass, config_entry.entry_id, days=5)
    placeholders = result["description_placeholders"]
    assert placeholders["history_shots"] == str(len(days))
    assert placeholders["first_day"] == first_day
    assert placeholders["suggestions"] == "-"
    assert fields(result) == {"add_history_shots", "history_since"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"add_history_shots": True, "history_since": first_day}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert hass.states.get(TOTAL_SHOTS).state == str(len(days))
    stored = hass_storage[storage_key(config_entry.entry_id)]["data"]
    assert stored["total_shots"] == len(days)
    assert stored["history_import"]["shots"] == len(days)
    assert stored["history_import"]["since"] == first_day

    # a second time: the checkbox is gone, the shots cannot be added again
    result = await run_analysis(hass, config_entry.entry_id, days=5)
    assert "add_history_shots" not in fields(result)
    assert result["description_placeholders"]["history_shots"] == "0"
    # and the record survives a restart of the entry
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.runtime_data.shots.history_import is not None
    assert hass.states.get(TOTAL_SHOTS).state == str(len(days))


@pytest.mark.parametrize("options", [HX_OPTIONS])
async def test_history_shots_since_a_later_date(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
) -> None:
    """Only the shots from the chosen date on are added; a future date is refused."""
    # in UTC the trace's shots fall on two days (recorded_trace starts it at 06:00)
    await hass.config.async_set_time_zone("UTC")
    days = await recorded_trace(hass, freezer)
    assert len(set(days)) == 2
    assert days.count(max(days)) == 2
    config_entry.created_at = dt_util.utcnow()
    await setup_entry(hass, config_entry)
    result = await run_analysis(hass, config_entry.entry_id, days=5)
    tomorrow = (dt_util.now().date() + timedelta(days=1)).isoformat()
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"add_history_shots": True, "history_since": tomorrow}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"history_since": "history_since_invalid"}

    later = max(days)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"add_history_shots": True, "history_since": later}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    # only the shots of the trace's second day
    assert hass.states.get(TOTAL_SHOTS).state == str(days.count(later))


async def test_slow_plug_note_in_the_language(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
) -> None:
    """A plug polled every 10 s: the note after the summary, both in Home Assistant's language
    (here French); the action's answer gives the note's key and figures."""
    samples = shots_every_hour([25.0, 30.0, 28.0], dt=10.0)
    start = dt_util.utcnow().timestamp() - 2 * 86400 - samples[0][0]
    # a real plug's readings vary a little: each is recorded (the recorder skips repeats)
    rows = [
        (ts + start, f"{watts + 0.1 * (i % 2):g}", POWER_ATTRIBUTES)
        for i, (ts, watts) in enumerate(samples)
        if watts is not None
    ]
    await record_states(hass, freezer, rows)
    freezer.move_to(dt_util.utc_from_timestamp(rows[-1][0]) + timedelta(hours=1))
    await setup_entry(hass, config_entry)
    hass.config.language = "fr"
    result = await run_analysis(hass, config_entry.entry_id, days=3)
    placeholders = result["description_placeholders"]
    assert placeholders["summary"] == (
        "Aucun café trouvé avec les réglages actuels; la prise envoie à intervalle fixe, toutes "
        "les 10 s (médiane)."
    )
    assert placeholders["warnings"] == (
        " La prise envoie une mesure au plus toutes les 10 s environ : la durée d'un café n'est "
        "connue qu'à 10 s près (et une purge peut passer entre deux mesures) ; une prise qui "
        "mesure chaque seconde ou à chaque changement mesure bien les cafés."
    )
    response = await hass.services.async_call(
        "espresso_care",
        "analyze_history",
        {"config_entry_id": config_entry.entry_id, "days": 3},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert response["warnings"]["plug_too_slow"].startswith("The plug reports at most about")
    assert response["warning_placeholders"] == {"plug_too_slow": {"seconds": "10"}}
    assert response["summary_parts"] == [
        {"key": "no_shots", "placeholders": {}},
        {"key": "plug_fixed_interval", "placeholders": {"seconds": "10"}},
    ]


async def test_shots_counted_live_are_not_added(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
) -> None:
    """History the counters already counted (after the entry was created) adds nothing."""
    await recorded_trace(hass, freezer)
    config_entry.created_at = dt_util.utcnow() - timedelta(days=4)
    await setup_entry(hass, config_entry)
    result = await run_analysis(hass, config_entry.entry_id, days=5)
    assert "add_history_shots" not in fields(result)
    assert result["description_placeholders"]["history_shots"] == "0"


async def test_empty_history_step(
    recorder_mock: Recorder, hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, config_entry)
    result = await run_analysis(hass, config_entry.entry_id, days=1)
    assert fields(result) == set()
    assert "No recorded power readings" in result["description_placeholders"]["summary"]
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("power_sensor")
async def test_history_step_without_recorder(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, config_entry)
    result = await open_history_step(hass, config_entry.entry_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "recorder_not_running"


async def test_history_read_fails(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await setup_entry(hass, config_entry)

    async def broken(*_: Any) -> None:
        await asyncio.sleep(0)
        raise SQLAlchemyError("database is locked")

    monkeypatch.setattr(options_history, "async_analyze", broken)
    result = await open_history_step(hass, config_entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"days": 2})
    if result["type"] is FlowResultType.SHOW_PROGRESS:
        await hass.async_block_till_done()
        result = await hass.config_entries.options.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "history_failed"
