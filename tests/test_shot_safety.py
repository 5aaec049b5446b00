"""No shot lost: announced means on disk (hole 5), a reload or restart resumes what the detector
learned (hole 4), a clock set back keeps counting (hole 7)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from homeassistant.core import Event, EventStateChangedData, callback
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util
import pytest

from custom_components.espresso_care.const import EVENT_SHOT
from custom_components.espresso_care.store import STORAGE_MINOR_VERSION, storage_key

from .common import STANDBY_WATTS, Trace, async_close_trace, pull_shot, set_power, stored_data
from .conftest import ENTRY_ID

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

TOTAL = "sensor.espresso_machine_total_shots"
TODAY = "sensor.espresso_machine_shots_today"
SINCE_BACKFLUSH = "sensor.espresso_machine_shots_since_backflush"
KEY = storage_key(ENTRY_ID)


# ------------------------------------------------------------------ announced => on disk


@pytest.mark.freeze_time("2026-05-04 08:00:00+00:00")
async def test_shot_is_on_disk_before_it_is_announced(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """The event fires and the entities change only once the shot's write has completed."""
    seen: list[tuple[str, Any, Any]] = []

    def on_disk() -> tuple[Any, Any]:
        data = hass_storage.get(KEY, {}).get("data", {})
        tasks = data.get("maintenance", {}).get("schedule", {}).get("tasks", {})
        return data.get("total_shots"), tasks.get("backflush", {}).get("shots_since")

    @callback
    def on_shot(event: Event) -> None:
        seen.append(("event", event.data["total_shots"], on_disk()))

    @callback
    def on_state(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        old = event.data["old_state"]
        if new is not None and old is not None and new.state != old.state:
            seen.append((new.entity_id, new.state, on_disk()))

    hass.bus.async_listen(EVENT_SHOT, on_shot)
    async_track_state_change_event(hass, [TOTAL, TODAY, SINCE_BACKFLUSH], on_state)
    # A write takes time, as a real disk does (the test storage alone writes at once).
    store = init_integration.runtime_data.saver._store
    write = store._async_write_data

    async def slow_write(*args: Any) -> None:
        for _ in range(5):
            await asyncio.sleep(0)
        await write(*args)

    with patch.object(store, "_async_write_data", slow_write):
        await pull_shot(hass, freezer)
        await pull_shot(hass, freezer)
    assert [entry[0] for entry in seen].count("event") == 2
    for what, value, (total, since) in seen:
        # Whatever was announced is already in the file.
        assert total is not None, what
        assert total >= int(value), (what, value, total)
        assert since is not None, what
        assert since >= int(value), (what, value, since)
    assert ("event", 1, (1, 1)) in seen
    assert ("event", 2, (2, 2)) in seen


@pytest.mark.freeze_time("2026-05-04 08:00:00+00:00")
async def test_failed_save_still_counts_and_announces(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failing write (disk full) is logged; the shot is counted and announced anyway."""
    events: list[Event] = []
    hass.bus.async_listen(EVENT_SHOT, events.append)
    store = init_integration.runtime_data.saver._store
    with patch.object(store, "async_save", side_effect=OSError(28, "No space left on device")):
        await pull_shot(hass, freezer)
    assert [event.data["total_shots"] for event in events] == [1]
    assert hass.states.get(TOTAL).state == "1"
    assert "Saving the shot counters of Espresso machine failed" in caplog.text


# ------------------------------------------------------------------ resume after a restart


@pytest.mark.freeze_time("2026-05-04 08:00:00+00:00")
async def test_detector_model_saved_and_restored(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """The detector's learned model is stored (version 1.2) and given back at set-up."""
    await pull_shot(hass, freezer)
    stored = hass_storage[KEY]
    assert stored["minor_version"] == STORAGE_MINOR_VERSION == 2
    model = stored["data"]["detector"]
    assert model == init_integration.runtime_data.shots.detector.export_model()
    assert isinstance(model["version"], int)
    with patch(
        "custom_components.espresso_care.shot_counter.ShotDetector.restore_model",
        autospec=True,
        return_value=True,
    ) as restore:
        assert await hass.config_entries.async_reload(ENTRY_ID)
        await hass.async_block_till_done()
    assert restore.call_args.args[1] == model


@pytest.mark.usefixtures("power_sensor")
@pytest.mark.parametrize(
    "model", [{"version": 999, "machine_on": True}, {"version": "1"}, ["not", "a", "model"]]
)
async def test_unusable_detector_model_is_relearned(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    model: Any,
) -> None:
    """A model the detector cannot use is logged and relearned; the counters are kept."""
    hass_storage[KEY] = stored_data({"total_shots": 7, "detector": model})
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(TOTAL).state == "7"
    assert "detector" in caplog.text


@pytest.mark.usefixtures("power_sensor")
async def test_storage_1_1_migrates_to_1_2(
    hass: HomeAssistant, config_entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Counters stored by 1.1 (no detector model) load and are written back as 1.2."""
    hass_storage[KEY] = {**stored_data({"total_shots": 12}), "minor_version": 1}
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(TOTAL).state == "12"
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass_storage[KEY]["minor_version"] == 2
    assert hass_storage[KEY]["data"]["total_shots"] == 12
    assert "detector" in hass_storage[KEY]["data"]


TRACES = [
    "nespresso_shelly_plus_plug_s",
    "capsule__shelly_gen2__s1056",
    "hx_vibe__shelly_gen2__s1028",
    "silvia_pid__shelly_gen2__s1014",
]


@pytest.mark.parametrize("name", TRACES)
async def test_reload_between_every_pair_of_shots_loses_none(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, name: str
) -> None:
    """Hole 4: the entry is reloaded (options saved) between every two shots of a recorded
    trace; every labelled shot is still counted, the first one after each reload included."""
    trace = Trace.load(name)
    shots = [
        (dt_util.parse_datetime(start), dt_util.parse_datetime(end))
        for start, end in trace.labels["shots"]
    ]
    # Reload in the middle of each pause between two shots.
    reloads = [end + (next_start - end) / 2 for (_, end), (next_start, _) in pairwise(shots)]
    entry = await trace.async_set_up(hass, freezer)
    events: list[Event] = []
    hass.bus.async_listen(EVENT_SHOT, events.append)
    for when, state in trace.samples:
        if reloads and when >= reloads[0]:
            reloads.pop(0)
            assert await hass.config_entries.async_reload(entry.entry_id)
            await hass.async_block_till_done()
        await trace.async_report(hass, freezer, when, state)
    await async_close_trace(hass, freezer)
    assert not reloads
    # Every labelled shot the bare engine finds without a reload is found with them, and
    # nothing is added (no shot doubled by a reload).
    counted = [dt_util.parse_datetime(event.data["start"]).timestamp() for event in events]  # type: ignore[union-attr]
    offline = trace.offline_starts()
    found_offline = [start for start, _ in shots if _near(start.timestamp(), offline)]
    assert len(found_offline) >= len(shots) - 1
    missed = [start for start in found_offline if not _near(start.timestamp(), counted)]
    assert not missed, (missed, counted)
    assert len(counted) <= len(offline)


def _near(moment: float, starts: list[float], tolerance: float = 3.0) -> bool:
    return any(abs(moment - start) <= tolerance for start in starts)


# ------------------------------------------------------------------ the clock set back


@pytest.mark.freeze_time("2026-05-04 12:00:00+00:00")
async def test_clock_set_back_an_hour_keeps_counting(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Hole 7: the clock is set back an hour; the next three shots are all counted."""
    await hass.config.async_set_time_zone("UTC")
    events: list[Event] = []
    hass.bus.async_listen(EVENT_SHOT, events.append)
    await pull_shot(hass, freezer)
    freezer.move_to(dt_util.utcnow() - timedelta(hours=1))
    for _ in range(3):
        await pull_shot(hass, freezer)
    # (The test's event loop clock went back too, holding the 5 s timer: a reading ends the
    # last shot. Home Assistant's loop runs on a monotonic clock, which a set-back leaves alone.)
    await set_power(hass, freezer, STANDBY_WATTS, after=30)
    assert hass.states.get(TOTAL).state == "4"
    assert hass_storage[KEY]["data"]["total_shots"] == 4
    # The shots carry the (set back) wall-clock time they were pulled at.
    start = dt_util.parse_datetime(events[1].data["start"])
    assert start is not None
    assert start.replace(microsecond=0) == dt_util.parse_datetime("2026-05-04T11:02:00+00:00")
    assert [event.data["duration_s"] for event in events] == [25.0] * 4
