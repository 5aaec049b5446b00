"""Shot counting of one machine in Home Assistant: ``ShotCounter`` feeds the engine's detector.

The shot counter follows the plug's power sensor, feeds every reading to the pure-Python
``ShotDetector``, keeps the shot counters (its slice of the stored data: the top-level
``total_shots`` ... keys), saves a counted shot right away and fires ``espresso_care_shot``.
What follows a shot elsewhere (the maintenance schedule, the backflush runner's pump check,
the repair issue of a vanished sensor) is reached through the callbacks of ``ShotHooks``.

Announced means on disk: a counted shot is saved first; only once the write has completed is
``espresso_care_shot`` fired and are the entities told (they are held meanwhile), so a crash
right after the event cannot lose the shot. The detector's learned model is saved with the
counters (at every shot, when the machine is switched off or its heat-up ends, at unload and
when Home Assistant stops) and restored at set-up, so a reload or restart, even a crash,
resumes with what it learned. Its timeline never runs backwards: with the clock set back,
readings continue just after the last one instead of being dropped.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, fields
import logging
import math
from typing import TYPE_CHECKING, Any

from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    EVENT_HOMEASSISTANT_FINAL_WRITE,
    STATE_UNAVAILABLE,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    EventStateReportedData,
    HassJob,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.helpers.event import (
    async_call_later,
    async_track_state_change_event,
    async_track_state_report_event,
    async_track_time_change,
)
from homeassistant.util import dt as dt_util

from .const import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DURATION_S,
    ATTR_END,
    ATTR_NAME,
    ATTR_START,
    ATTR_TOTAL_SHOTS,
    AVERAGE_OVER_SHOTS,
    CONF_POWER_SENSOR,
    DOMAIN,
    EVENT_SHOT,
    RECENT_EVENTS,
    TICK_SECONDS,
)
from .coordinator import push_coordinator
from .engine.detector import ShotDetector
from .engine.events import (
    BackflushDetected,
    DetectorEvent,
    MachineState,
    ShotFinished,
    StateChanged,
    saves_model,
)
from .engine.units import scaled_watts, unit_factor

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date, datetime

    from homeassistant.config_entries import ConfigEntry

    from .engine.profiles import DetectorSettings
    from .store import StoredData, StoredLastShot

_LOGGER = logging.getLogger(__name__)

CLOCK_BACK_TOLERANCE = 1.0
"""Seconds a reading may lie before the last one (out-of-order reports) before it counts as a
clock set back."""
CLOCK_STEP = 0.001
_TICK_SLACK = 0.05
"""Seconds a timer may fire before its time (the event loop's clock resolution) and still tick."""
MAX_PLAUSIBLE_WATTS = 50_000.0
"""No household socket delivers more; a larger reading is garbage, never a heater or pump."""


def _iso(timestamp: float) -> str:
    """Format a POSIX timestamp as ISO 8601 in UTC."""
    return dt_util.utc_from_timestamp(timestamp).isoformat()


def describe_event(event: DetectorEvent) -> dict[str, Any]:
    """Describe a detector event for diagnostics (timestamps as ISO 8601)."""
    described: dict[str, Any] = {"type": type(event).__name__}
    for field in fields(event):
        value = getattr(event, field.name)
        if field.name in ("start", "end", "at"):
            value = _iso(value)
        described[field.name] = value
    if isinstance(event, ShotFinished):
        described["duration"] = round(event.duration, 1)
    return described


def _ignore(*_: Any) -> None:
    """Do nothing (the default of a hook nobody listens to)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ShotHooks:
    """What the shot counter tells the other parts of the machine.

    ``on_shot`` once per counted shot (after the counters changed, before the save and the
    event), ``on_backflush_detected`` once per manual backflush the detector recognised,
    ``on_shot_saved`` once that shot is on disk (just before its event: show it now),
    ``on_shots_adjusted`` once per correction, ``on_power`` with every reading in watts (None
    when unreadable), ``on_source_presence_changed`` when the power sensor's state appeared or
    vanished, and ``save`` / ``schedule_save`` to persist the counters.
    """

    save: Callable[[], Any]
    schedule_save: Callable[[], None]
    on_shot: Callable[[ShotFinished], None] = _ignore
    on_shot_saved: Callable[[], None] = _ignore
    on_backflush_detected: Callable[[BackflushDetected], None] = _ignore
    on_shots_adjusted: Callable[[int], None] = _ignore
    on_power: Callable[[float, float | None], None] = _ignore
    on_source_presence_changed: Callable[[], None] = _ignore


class ShotCounter:
    """Shot detection and the shot counters of one machine (see the module docstring).

    Its entities follow ``coordinator``, a push coordinator (it never polls) told whenever what it
    holds changed.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        settings: DetectorSettings,
        stored: StoredData,
        hooks: ShotHooks,
    ) -> None:
        """Set up the detector and restore the counters."""
        self.hass = hass
        self.coordinator = push_coordinator(hass, entry, "shots", _LOGGER)
        self.entry = entry
        self.settings = settings
        self.power_sensor: str = entry.options[CONF_POWER_SENSOR]
        self._hooks = hooks

        self.detector = ShotDetector(settings)
        model = stored.get("detector")
        if isinstance(model, Mapping) and not self.detector.restore_model(model):
            _LOGGER.warning(
                "The stored detector model of %s does not fit its settings; "
                "it learns the machine again",
                entry.title,
            )
        self.machine_state: MachineState = self.detector.state
        self.brewing: bool = self.detector.brewing
        self.available = False

        self.total_shots: int = stored["total_shots"]
        self.shots_today: int = stored["shots_today"]
        self.today: date = dt_util.now().date()
        if stored["today"] != self.today.isoformat():
            self.shots_today = 0
        last = stored["last_shot"]
        self.last_shot_start: datetime | None = (
            dt_util.parse_datetime(last["start"]) if last else None
        )
        self.last_shot_end: datetime | None = dt_util.parse_datetime(last["end"]) if last else None
        self.last_shot_duration: float | None = last["duration"] if last else None
        self.recent_durations: deque[float] = deque(
            stored["recent_durations"], maxlen=AVERAGE_OVER_SHOTS
        )
        self.recent_events: deque[dict[str, Any]] = deque(maxlen=RECENT_EVENTS)
        self._unavailable_logged = False
        # Shots counted but not yet on disk: their events and the entities wait for the save.
        self._unsaved_shots = 0
        self._save_lock = asyncio.Lock()
        # The detector's timeline: wall-clock time plus the clock's set-backs so far.
        self._clock_offset = 0.0
        self._last_reading = -math.inf
        # The last state read and its watts (a re-report delivers the same State object), and
        # the unit factor of the last attributes (Home Assistant keeps the attributes object
        # while they do not change): a reading costs one float() at most.
        self._read_state: State | None = None
        self._read_watts: float | None = None
        self._unit_attributes: Mapping[str, Any] | None = None
        self._unit_factor: float | None = None
        # The tick: one timer, armed for the detector's next_tick (see _follow_time), if any.
        self._tick_job = HassJob(
            self._async_tick, f"{DOMAIN} tick {entry.title}", cancel_on_shutdown=True
        )
        self._cancel_tick: CALLBACK_TYPE | None = None
        self._tick_at = math.inf  # on the timeline
        # shots added from the recorded history (once ever), see async_add_history_shots
        self.history_import: dict[str, Any] | None = stored.get("history_import")

    # ------------------------------------------------------------------ reading

    @property
    def machine_name(self) -> str:
        """Name of the machine (the entry title)."""
        return self.entry.title

    @property
    def average_shot_duration(self) -> float | None:
        """Mean duration of the most recent shots in seconds."""
        if not self.recent_durations:
            return None
        return sum(self.recent_durations) / len(self.recent_durations)

    @property
    def today_start(self) -> datetime:
        """Local midnight at which ``shots_today`` started counting."""
        return dt_util.start_of_local_day(self.today)

    def as_stored(self) -> StoredData:
        """Return the counters and the detector's model (this part's slice of the stored data)."""
        last_shot: StoredLastShot | None = None
        if (
            self.last_shot_start is not None
            and self.last_shot_end is not None
            and self.last_shot_duration is not None
        ):
            last_shot = {
                "start": self.last_shot_start.isoformat(),
                "end": self.last_shot_end.isoformat(),
                "duration": self.last_shot_duration,
            }
        stored: StoredData = {
            "total_shots": self.total_shots,
            "shots_today": self.shots_today,
            "today": self.today.isoformat(),
            "last_shot": last_shot,
            "recent_durations": list(self.recent_durations),
            "detector": self.detector.export_model(),
        }
        if self.history_import is not None:
            stored["history_import"] = self.history_import
        return stored

    def as_diagnostics(self) -> dict[str, Any]:
        """Return settings, state, detector and the most recent detector events (diagnostics)."""
        return {
            "settings": self.settings.as_dict(),
            "available": self.available,
            "machine_state": self.machine_state.value,
            "brewing": self.brewing,
            "detector": self.detector.snapshot(),
            "recent_events": list(self.recent_events),
        }

    # ------------------------------------------------------------------ lifecycle

    @callback
    def async_start(self) -> None:
        """Start following the power sensor; every listener ends with the entry."""
        entry = self.entry
        entry.async_on_unload(
            async_track_state_change_event(self.hass, self.power_sensor, self._async_power_changed)
        )
        entry.async_on_unload(
            async_track_state_report_event(self.hass, self.power_sensor, self._async_power_reported)
        )
        entry.async_on_unload(self._async_stop_ticking)
        entry.async_on_unload(
            async_track_time_change(self.hass, self._async_midnight, hour=0, minute=0, second=0)
        )
        # Home Assistant stops: keep what the detector learned since the last shot.
        entry.async_on_unload(
            self.hass.bus.async_listen(EVENT_HOMEASSISTANT_FINAL_WRITE, self._async_final_write)
        )
        # The first reading of a fresh detector: a pump run already going on (a restart or
        # reload in the middle of a shot) is never counted by the detector.
        now = dt_util.utcnow().timestamp()
        if (state := self.hass.states.get(self.power_sensor)) is not None:
            self._handle_power(state, now)

    # ------------------------------------------------------------------ changes

    async def async_adjust_shots(self, count: int) -> None:
        """Correct the counters by ``count`` shots (never below zero) and save them."""
        self._roll_day()
        self.total_shots = max(0, self.total_shots + count)
        self.shots_today = max(0, self.shots_today + count)
        self.recent_events.append(
            {"type": "ShotsAdjusted", "at": dt_util.utcnow().isoformat(), "count": count}
        )
        self._hooks.on_shots_adjusted(count)
        self._async_notify()
        await self._hooks.save()

    async def async_add_history_shots(self, shots: int, since: date) -> bool:
        """Add ``shots`` found in the recorded history since ``since`` to the total, once.

        Returns False (and changes nothing) when history shots were added before: the record
        of it is saved with the total, so it can never be done twice.
        """
        if self.history_import is not None or shots < 0:
            return False
        self.total_shots += shots
        self.history_import = {
            "since": since.isoformat(),
            "shots": shots,
            "at": dt_util.utcnow().isoformat(),
        }
        self.recent_events.append({"type": "HistoryShotsAdded", **self.history_import})
        self.coordinator.async_update_listeners()
        await self._hooks.save()
        return True

    @callback
    def pause_detection(self) -> None:
        """Stop recognising shots, e.g. while the backflush runner drives the pump."""
        self._process(self.detector.pause(self._now()), notify=True)

    @callback
    def resume_detection(self) -> None:
        """Recognise shots again after ``pause_detection``."""
        now = self._now()
        self._process(self.detector.resume(now), notify=True)
        self._follow_time(now)

    async def _async_final_write(self, _: Event) -> None:
        await self._hooks.save()

    # ------------------------------------------------------------------ timeline

    def _timeline(self, timestamp: float) -> float:
        """Map a wall-clock timestamp onto the detector's timeline, which never runs backwards.

        A clock set back (by hand, a bad NTP server) would make the detector drop every
        reading until the clock passed the last one again: the timeline continues just after
        the last reading instead.
        """
        mapped = timestamp + self._clock_offset
        if mapped < self._last_reading - CLOCK_BACK_TOLERANCE:
            _LOGGER.info(
                "The clock went back %.0f s; %s keeps counting from the last reading",
                self._last_reading - mapped,
                self.machine_name,
            )
            self._clock_offset += self._last_reading - mapped + CLOCK_STEP
            mapped = self._last_reading + CLOCK_STEP
        return mapped

    def _now(self) -> float:
        return self._timeline(dt_util.utcnow().timestamp())

    def _wall_clock(self, timeline: float) -> datetime:
        return dt_util.utc_from_timestamp(timeline - self._clock_offset)

    # ------------------------------------------------------------------ internals

    @callback
    def _async_power_changed(self, event: Event[EventStateChangedData]) -> None:
        """Handle a new state of the power sensor."""
        new_state = event.data["new_state"]
        if new_state is None:
            # Removed from the state machine.
            self._set_available(False)
            self._hooks.on_source_presence_changed()
            self._async_notify()
            return
        if event.data["old_state"] is None:
            self._hooks.on_source_presence_changed()
        # Not last_reported: a report of the same value after this change may have moved it.
        self._handle_power(new_state, new_state.last_updated_timestamp)

    @callback
    def _async_power_reported(self, event: Event[EventStateReportedData]) -> None:
        """Handle the plug reporting an unchanged value again."""
        state = event.data["new_state"]
        # the timestamp Home Assistant keeps of ``last_reported`` (converting the datetime
        # back would cost more than the rest of the reading)
        self._handle_power(state, state.last_reported_timestamp)

    @callback
    def _follow_time(self, now: float) -> None:
        """Arm the tick for the detector's ``next_tick`` (``now`` on the timeline).

        A run to close once the plug stayed silent, standby long enough to call the machine
        off: the timer runs when that time comes, at most every ``TICK_SECONDS``. Otherwise
        (the machine off or idling, most of a day) no timer runs: only a reading can change
        anything, and the reading that does arms the tick again. A timer armed earlier than
        needed stays (re-arming at every reading would cost more): it re-arms itself.
        """
        at = self.detector.next_tick(TICK_SECONDS)
        if at is None:
            self._async_stop_ticking()
            return
        if self._cancel_tick is not None:
            if at >= self._tick_at:
                return
            self._cancel_tick()
        self._tick_at = at
        self._cancel_tick = async_call_later(self.hass, max(at - now, 0.0), self._tick_job)

    @callback
    def _async_stop_ticking(self) -> None:
        if self._cancel_tick is not None:
            self._cancel_tick()
            self._cancel_tick = None
            self._tick_at = math.inf

    @callback
    def _async_tick(self, wall: datetime) -> None:
        """Let the detector end what ended while the plug stayed silent."""
        self._cancel_tick = None
        self._tick_at = math.inf
        now = self._timeline(wall.timestamp())
        detector = self.detector
        at = detector.next_tick(TICK_SECONDS)
        if at is not None and at <= now + _TICK_SLACK:
            events = detector.tick(now)
            if (
                events
                or detector.state is not self.machine_state
                or detector.brewing != self.brewing
            ):
                self._process(events)
        self._follow_time(now)

    @callback
    def _async_midnight(self, now: datetime) -> None:
        """Start counting a new day."""
        if self._roll_day():
            self._async_notify()

    @callback
    def _handle_power(self, state: State, timestamp: float) -> None:
        """Feed one reading of the power sensor to the detector.

        Runs for every write of the plug (up to every second), so it does nothing it need
        not: a re-report reuses the last state's watts, the unit's factor is looked up when the
        attributes change, and the entities are told only when something they show changed.
        """
        if state is self._read_state:
            watts = self._read_watts  # the same state again: same value and availability
            notify = False
        else:
            watts = self._watts(state)
            available = state.state != STATE_UNAVAILABLE
            notify = available != self.available
            if notify:
                self._set_available(available)
        self._hooks.on_power(timestamp, watts)
        reading = timestamp + self._clock_offset
        if reading > self._last_reading:
            self._last_reading = reading
        elif reading < self._last_reading - CLOCK_BACK_TOLERANCE:
            # (just after the last reading: the timeline moves on)
            self._last_reading = reading = self._timeline(timestamp)
        detector = self.detector
        events = detector.feed(reading, watts)
        if (
            events
            or notify
            or detector.state is not self.machine_state
            or detector.brewing != self.brewing
        ):
            self._process(events, notify=notify)
        # next_tick is never before reading + TICK_SECONDS: a timer armed by then stays right
        if self._cancel_tick is None or self._tick_at > reading + TICK_SECONDS:
            self._follow_time(reading)

    def _watts(self, state: State) -> float | None:
        """Return the reading of ``state`` in watts (None: unreadable) and remember it."""
        attributes = state.attributes
        if attributes is not self._unit_attributes:
            self._unit_attributes = attributes
            self._unit_factor = unit_factor(attributes.get(ATTR_UNIT_OF_MEASUREMENT))
        factor = self._unit_factor
        watts = None if factor is None else scaled_watts(state.state, factor)
        if watts is not None and watts > MAX_PLAUSIBLE_WATTS:
            watts = None  # no plug delivers this (1e308, a wrong unit): unreadable
        self._read_state = state
        self._read_watts = watts
        return watts

    @callback
    def _set_available(self, available: bool) -> None:
        """Follow the availability of the power sensor, logging each change once."""
        if available == self.available:
            return
        self.available = available
        if not available:
            _LOGGER.info(
                "Power sensor %s of %s is unavailable; the counters keep their values",
                self.power_sensor,
                self.machine_name,
            )
            self._unavailable_logged = True
        elif self._unavailable_logged:
            _LOGGER.info(
                "Power sensor %s of %s is available again", self.power_sensor, self.machine_name
            )
            self._unavailable_logged = False

    @callback
    def _process(self, events: list[DetectorEvent], *, notify: bool = False) -> None:
        """Apply the detector's events and notify the entities when something changed."""
        changed = notify
        before = (self.machine_state, self.brewing)
        for event in events:
            self.recent_events.append(describe_event(event))
            if isinstance(event, StateChanged):
                self.machine_state = event.state
                if saves_model(event):
                    # switched off, or its heat-up over: what the detector knows now is what
                    # a restart should resume with (a shot is saved as it is counted)
                    self._hooks.schedule_save()
            elif isinstance(event, ShotFinished):
                self._count_shot(event)
                changed = True
            elif isinstance(event, BackflushDetected):
                self._hooks.on_backflush_detected(event)
                changed = True
        self.machine_state = self.detector.state
        self.brewing = self.detector.brewing
        if changed or before != (self.machine_state, self.brewing):
            self._async_notify()

    @callback
    def _async_notify(self) -> None:
        """Tell the entities; held while a counted shot is not on disk yet (then told)."""
        if not self._unsaved_shots:
            self.coordinator.async_set_updated_data(None)

    @callback
    def _count_shot(self, shot: ShotFinished) -> None:
        """Count a recognised shot; it is announced once it is on disk.

        The counters (and, through ``on_shot``, the maintenance schedule) change at once, so
        the save includes them; the event and the entities follow the completed write.
        """
        self._roll_day()
        self.total_shots += 1
        self.shots_today += 1
        self.last_shot_start = self._wall_clock(shot.start)
        self.last_shot_end = self._wall_clock(shot.end)
        self.last_shot_duration = round(shot.duration, 1)
        self.recent_durations.append(self.last_shot_duration)
        self._hooks.on_shot(shot)
        self._unsaved_shots += 1
        event_data = {
            ATTR_CONFIG_ENTRY_ID: self.entry.entry_id,
            ATTR_NAME: self.machine_name,
            ATTR_START: self.last_shot_start.isoformat(),
            ATTR_END: self.last_shot_end.isoformat(),
            ATTR_DURATION_S: self.last_shot_duration,
            ATTR_TOTAL_SHOTS: self.total_shots,
        }
        self.entry.async_create_task(
            self.hass,
            self._async_save_and_announce(event_data),
            f"{DOMAIN} save shot {self.entry.entry_id}",
        )

    async def _async_save_and_announce(self, event_data: dict[str, Any]) -> None:
        """Save right away (not delayed), then fire the shot's event and tell the entities."""
        async with self._save_lock:
            try:
                await self._hooks.save()
            except Exception:
                # The shot is real: announce it all the same; the next save writes it.
                _LOGGER.exception("Saving the shot counters of %s failed", self.machine_name)
            self._unsaved_shots -= 1
            self._hooks.on_shot_saved()
            self.hass.bus.async_fire(EVENT_SHOT, event_data)
            if not self._unsaved_shots:
                self.coordinator.async_set_updated_data(None)

    @callback
    def _roll_day(self) -> bool:
        """Reset ``shots_today`` when the local date changed; True when it did."""
        today = dt_util.now().date()
        if today == self.today:
            return False
        self.today = today
        self.shots_today = 0
        return True
