"""No shot lost: announced means on disk (hole 5), a reload or restart resumes what the detector
learned (hole 4), a clock set back keeps counting (hole 7)."""

from __future__ import annotations

import asyncio
import copy
from datetime import datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from homeassistant.core import Event, EventStateChangedData, callback
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.espresso_care.const import EVENT_SHOT
from custom_components.espresso_care.store import STORAGE_MINOR_VERSION, storage_key
from tests.e2e.driver import LATE_SHOT, MORNING, TRACE
from tests.e2e.harness import ShotTrace

from .common import (
    STANDBY_WATTS,
    Trace,
    async_close_trace,
    pass_time,
    pull_shot,
    set_power,
    stored_data,
)
from .conftest import ENTRY_ID, POWER_ATTRIBUTES, POWER_SENSOR

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


@pytest.mark.freeze_time("2026-05-04 08:00:00+00:00")
async def test_detector_model_saved_when_heat_up_ends_and_machine_goes_off(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Without a shot, the heater power its heat-up taught and the machine off reach the disk
    (a crash then resumes with them, not with what the last shot's save held)."""

    def on_disk() -> dict[str, Any]:
        return dict(hass_storage.get(KEY, {}).get("data", {}).get("detector") or {})

    await set_power(hass, freezer, STANDBY_WATTS, after=5)
    # power-on: the heater at full power for a minute, then it holds the temperature
    await set_power(hass, freezer, 1250.0, after=5)
    await pass_time(hass, freezer, 60)
    assert on_disk().get("heater_watts") is None
    await set_power(hass, freezer, 3.0, after=0)
    await pass_time(hass, freezer, 5)
    assert on_disk()["heater_watts"] == pytest.approx(1250.0, abs=1.0)
    assert on_disk()["machine_on"] is True
    # switched off: 15 minutes below the standby threshold
    await set_power(hass, freezer, STANDBY_WATTS, after=5)
    await pass_time(hass, freezer, 16 * 60)
    assert on_disk()["machine_on"] is False
    assert hass_storage[KEY]["data"]["total_shots"] == 0


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


async def _play(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    origin: datetime,
    samples: list[tuple[float, float]],
) -> None:
    """Report ``samples`` (seconds after ``origin``, watts), the 5 s tick running between them."""
    for at, watts in samples:
        when = origin + timedelta(seconds=at)
        while dt_util.utcnow() + timedelta(seconds=5) < when:
            freezer.tick(5)
            async_fire_time_changed(hass)
        freezer.move_to(when)
        async_fire_time_changed(hass)
        hass.states.async_set(POWER_SENSOR, str(watts), POWER_ATTRIBUTES)
        await hass.async_block_till_done()


@pytest.mark.parametrize("into_shot", [0.2, 0.5, 0.8])
async def test_shot_soon_after_a_kill_mid_shot_is_counted(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    into_shot: float,
) -> None:
    """Hole 4 as the end-to-end run's kill_midshot plays it (tests/e2e/driver.py).

    The compressed morning of the Silvia trace up to the middle of its second shot (the first
    one counted), then Home Assistant is killed: what is on disk is what the first shot's save
    wrote. Back 10 s later while the shot goes on, then a shot pulled 20 s after the restart:
    it is counted, as it is by a detector that ran on.
    """
    morning = ShotTrace.cut(TRACE, **MORNING)  # type: ignore[arg-type]
    late = ShotTrace.cut(TRACE, **LATE_SHOT)  # type: ignore[arg-type]
    origin = dt_util.utcnow()
    freezer.move_to(origin - timedelta(seconds=1))
    hass.states.async_set(POWER_SENSOR, "unavailable", POWER_ATTRIBUTES)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    events: list[Event] = []
    hass.bus.async_listen(EVENT_SHOT, events.append)

    _, (second_start, second_end) = morning.shots[:2]
    kill = second_start + 8.0 + into_shot * (second_end - second_start - 16.0)
    await _play(hass, freezer, origin, [s for s in morning.samples if s[0] < kill])
    assert [event.data["total_shots"] for event in events] == [1]
    # SIGKILL: nothing more is written; the file keeps what the first shot's save wrote.
    on_disk = copy.deepcopy(hass_storage[KEY])
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    hass_storage[KEY] = on_disk
    hass.states.async_remove(POWER_SENSOR)  # a state posted through the API is not restored
    freezer.move_to(origin + timedelta(seconds=kill + 10.0))
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    # The plug reports again: the rest of the second shot, as it happens.
    back = kill + 10.0
    held = [w for at, w in morning.samples if at < kill][-1]
    await _play(hass, freezer, origin, [(back, held)])
    assert hass.states.get(TOTAL).state == "1"
    await _play(
        hass, freezer, origin, [s for s in morning.samples if back < s[0] <= second_end + 3]
    )
    # The driver waits up to 18 s for the tail's event, then plays the late shot.
    late_origin = origin + timedelta(seconds=second_end + 3.0 + 18.0)
    await _play(hass, freezer, late_origin, late.samples)
    await async_close_trace(hass, freezer)

    [(late_start, _)] = late.shots
    expected = (late_origin + timedelta(seconds=late_start)).timestamp()
    starts = [dt_util.parse_datetime(event.data["start"]).timestamp() for event in events]  # type: ignore[union-attr]
    assert _near(expected, starts, 1.5), (expected, starts)
    # nothing doubled: the first shot, at most the tail of the second, the late one
    assert [event.data["total_shots"] for event in events] == list(range(1, len(events) + 1))
    assert len(events) <= 3


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
