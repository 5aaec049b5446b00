"""The per-entry runtime of Espresso Care.

``EspressoCareRuntime`` is the one object that owns the state of a configured machine: it feeds
the pure-Python shot detector with the plug's power readings, keeps the shot counters, saves
them, fires the ``espresso_care_shot`` event and tells the entities to write their state.

Where later features hook in:

- Maintenance (issue 4): ``_on_shot`` is called once per recognised shot, after the counters
  were updated and before they are saved; ``_on_backflush_detected`` once per manual backflush
  session the detector recognised; ``_on_shots_adjusted`` once per ``adjust_shots`` call.
  Persist extra state by filling the ``maintenance`` key of ``StoredData`` (store.py) in
  ``_as_stored`` and reading it in ``__init__`` (``stored.get("maintenance")``); save with
  ``async_save`` / ``async_schedule_save``. The options (``backflush_every_shots`` ...) are in
  ``entry.options``; a change reloads the entry. New entities are one entry in a description
  tuple whose ``value_fn`` reads the runtime (a new platform also goes into
  ``const.PLATFORMS``); call ``async_update_listeners`` after a change that does not come from
  the detector, and tie any timer to ``entry.async_on_unload``.
- Maintenance (issue 4, done): ``self.maintenance`` (maintenance.py) holds the schedule and
  the shot time drift. The backflush runner records a finished routine with
  ``await runtime.maintenance.async_mark_done(task, source="backflush_routine")`` (``task`` a
  ``engine.maintenance.Task`` or its value; a clean also marks the backflush; it notifies the
  entities, fires ``espresso_care_maintenance_done`` and saves).
- Automated backflush (issue 5): ``pause_detection`` before the runner drives the pump and
  ``resume_detection`` afterwards, so the runner's pump pulses are not counted as shots;
  ``async_turn_backflush_switch`` switches the configured switch (``switch_role`` tells
  whether it drives the pump or the whole machine). Tie any timer of the runner to
  ``entry.async_on_unload``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import fields
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_UNIT_OF_MEASUREMENT,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Context,
    Event,
    EventStateChangedData,
    EventStateReportedData,
    HomeAssistant,
    State,
    callback,
    split_entity_id,
)
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import (
    async_track_entity_registry_updated_event,
    async_track_state_change_event,
    async_track_state_report_event,
    async_track_time_change,
    async_track_time_interval,
)
from homeassistant.helpers.start import async_at_started
from homeassistant.util import dt as dt_util

from .backflush import BackflushRunner
from .const import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DURATION_S,
    ATTR_END,
    ATTR_NAME,
    ATTR_START,
    ATTR_TOTAL_SHOTS,
    AVERAGE_OVER_SHOTS,
    CONF_BACKFLUSH_SWITCH,
    CONF_MACHINE_TYPE,
    CONF_POWER_SENSOR,
    CONF_SWITCH_ROLE,
    DEFAULT_SWITCH_ROLE,
    DOMAIN,
    EVENT_SHOT,
    ISSUE_BACKFLUSH_SWITCH_MISSING,
    ISSUE_POWER_SENSOR_MISSING,
    MACHINE_TYPE_MODELS,
    MAINTENANCE_DEFAULTS,
    MANUFACTURER,
    RECENT_EVENTS,
    TICK_INTERVAL,
)
from .engine.detector import ShotDetector
from .engine.events import (
    BackflushDetected,
    DetectorEvent,
    MachineState,
    ShotFinished,
    StateChanged,
)
from .engine.units import to_watts
from .maintenance import MaintenanceManager
from .repairs import async_create_source_issue, async_delete_source_issue

if TYPE_CHECKING:
    from datetime import date, datetime

    from .engine.profiles import DetectorSettings
    from .store import EspressoCareStore, StoredData, StoredLastShot

_LOGGER = logging.getLogger(__name__)

type EspressoCareConfigEntry = ConfigEntry[EspressoCareRuntime]


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


def source_exists(hass: HomeAssistant, entity_id: str) -> bool:
    """Tell whether an entity exists in the entity registry or the state machine."""
    return (
        er.async_get(hass).async_get(entity_id) is not None
        or hass.states.get(entity_id) is not None
    )


class EspressoCareRuntime:
    """Runtime of one configured espresso machine (see the module docstring)."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EspressoCareConfigEntry,
        store: EspressoCareStore,
        stored: StoredData,
        settings: DetectorSettings,
    ) -> None:
        """Set up the runtime from the entry's options and the stored counters."""
        self.hass = hass
        self.entry = entry
        self.settings = settings
        self.power_sensor: str = entry.options[CONF_POWER_SENSOR]
        self.backflush_switch: str | None = entry.options.get(CONF_BACKFLUSH_SWITCH)
        self.switch_role: str = entry.options.get(CONF_SWITCH_ROLE, DEFAULT_SWITCH_ROLE)
        self.machine_type: str = entry.options[CONF_MACHINE_TYPE]

        self.detector = ShotDetector(settings)
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

        self._store = store
        self._listeners: list[CALLBACK_TYPE] = []
        self._unavailable_logged = False
        # Automated backflush (issue 5): owns the switch, see backflush.py.
        self.backflush = BackflushRunner(self, stored.get("backflush_run"))
        # Maintenance schedule and shot time drift (issue 4), see maintenance.py.
        self.maintenance = MaintenanceManager(
            hass, self, stored.get("maintenance"), list(self.recent_durations)
        )

    # ------------------------------------------------------------------ public API

    @property
    def name(self) -> str:
        """Name of the machine (the entry title)."""
        return self.entry.title

    @property
    def average_shot_duration(self) -> float | None:
        """Mean duration of the most recent shots in seconds."""
        if not self.recent_durations:
            return None
        return sum(self.recent_durations) / len(self.recent_durations)

    @property
    def maintenance_intervals(self) -> dict[str, int]:
        """Maintenance intervals from the options; defaults for those never set (0 disables)."""
        return {
            key: int(self.entry.options.get(key, default))
            for key, default in MAINTENANCE_DEFAULTS.items()
        }

    @property
    def today_start(self) -> datetime:
        """Local midnight at which ``shots_today`` started counting."""
        return dt_util.start_of_local_day(self.today)

    @property
    def device_info(self) -> DeviceInfo:
        """Our own device, linked to the plug's device when the power sensor has one."""
        info = DeviceInfo(
            identifiers={(DOMAIN, self.entry.entry_id)},
            name=self.entry.title,
            manufacturer=MANUFACTURER,
            model=MACHINE_TYPE_MODELS.get(self.machine_type, self.machine_type),
            model_id=self.machine_type,
        )
        if (
            (source := er.async_get(self.hass).async_get(self.power_sensor))
            and source.device_id
            and (device := dr.async_get(self.hass).async_get(source.device_id))
            and device.identifiers
        ):
            info["via_device"] = min(device.identifiers)
        return info

    @callback
    def async_add_listener(self, update_callback: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call ``update_callback`` whenever the runtime changed; returns the remover."""
        self._listeners.append(update_callback)

        @callback
        def remove_listener() -> None:
            self._listeners.remove(update_callback)

        return remove_listener

    @callback
    def async_update_listeners(self) -> None:
        """Tell every listener (the entities) to write its state."""
        for update_callback in list(self._listeners):
            update_callback()

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
        entry.async_on_unload(
            async_track_entity_registry_updated_event(
                self.hass, self.power_sensor, self._async_power_sensor_registry_updated
            )
        )
        if self.backflush_switch:
            entry.async_on_unload(
                async_track_state_change_event(
                    self.hass, self.backflush_switch, self._async_switch_changed
                )
            )
        entry.async_on_unload(
            async_track_time_interval(
                self.hass,
                self._async_tick,
                TICK_INTERVAL,
                name=f"{DOMAIN} tick {entry.title}",
                cancel_on_shutdown=True,
            )
        )
        entry.async_on_unload(
            async_track_time_change(self.hass, self._async_midnight, hour=0, minute=0, second=0)
        )
        entry.async_on_unload(async_at_started(self.hass, self._async_check_sources))
        self.backflush.async_start()
        self.maintenance.async_start()

        # The first reading of a fresh detector: a pump run already going on (a restart or
        # reload in the middle of a shot) is never counted by the detector.
        now = dt_util.utcnow().timestamp()
        if (state := self.hass.states.get(self.power_sensor)) is not None:
            self._handle_power(state, now)

    async def async_adjust_shots(self, count: int) -> None:
        """Correct the counters by ``count`` shots (never below zero) and save them."""
        self._roll_day()
        self.total_shots = max(0, self.total_shots + count)
        self.shots_today = max(0, self.shots_today + count)
        self.recent_events.append(
            {"type": "ShotsAdjusted", "at": dt_util.utcnow().isoformat(), "count": count}
        )
        self._on_shots_adjusted(count)
        self.async_update_listeners()
        await self.async_save()

    async def async_save(self) -> None:
        """Save the counters (everything ``_as_stored`` returns) right away."""
        await self._store.async_save(self._as_stored())

    @callback
    def async_schedule_save(self) -> None:
        """Save right away from a callback; the write is awaited when the entry unloads."""
        self.entry.async_create_task(
            self.hass,
            self._store.async_save(self._as_stored()),
            f"{DOMAIN} save {self.entry.entry_id}",
        )

    @callback
    def pause_detection(self) -> None:
        """Stop recognising shots, e.g. while the backflush runner drives the pump."""
        self._process(self.detector.pause(dt_util.utcnow().timestamp()), notify=True)

    @callback
    def resume_detection(self) -> None:
        """Recognise shots again after ``pause_detection``."""
        self._process(self.detector.resume(dt_util.utcnow().timestamp()), notify=True)

    async def async_turn_backflush_switch(self, on: bool, context: Context | None = None) -> None:
        """Turn the configured backflush switch (``switch`` or ``input_boolean``) on or off."""
        if self.backflush_switch is None:
            raise RuntimeError("no backflush switch configured")
        await self.hass.services.async_call(
            split_entity_id(self.backflush_switch)[0],
            SERVICE_TURN_ON if on else SERVICE_TURN_OFF,
            {ATTR_ENTITY_ID: self.backflush_switch},
            blocking=True,
            context=context,
        )

    def as_diagnostics(self) -> dict[str, Any]:
        """State of the runtime for the diagnostics download."""
        return {
            "settings": self.settings.as_dict(),
            "maintenance_intervals": self.maintenance_intervals,
            "available": self.available,
            "machine_state": self.machine_state.value,
            "brewing": self.brewing,
            "detector": self.detector.snapshot(),
            "counters": self._as_stored(),
            "recent_events": list(self.recent_events),
            "backflush": self.backflush.as_diagnostics(),
            "maintenance": self.maintenance.as_diagnostics(),
        }

    # ------------------------------------------------------------------ hooks

    @callback
    def _on_shot(self, shot: ShotFinished) -> None:
        """Do what follows a recognised shot, once per shot.

        Called after the counters were updated, before they are saved and the event is fired.
        The maintenance schedule records the shot here.
        """
        self.maintenance.record_shot(shot.duration)

    @callback
    def _on_backflush_detected(self, event: BackflushDetected) -> None:
        """Do what follows a manual backflush session the detector recognised.

        Nothing is saved or notified here by default; call ``async_schedule_save`` when the
        hook changes persisted state (the entities are notified after it returns).
        """
        self.maintenance.backflush_detected(event)

    @callback
    def _on_shots_adjusted(self, count: int) -> None:
        """Do what follows a correction of the counters by ``count`` shots (adjust_shots).

        Called after the counters changed, before the entities are notified and the data saved.
        """
        self.maintenance.adjust_shots(count)

    # ------------------------------------------------------------------ internals

    def _as_stored(self) -> StoredData:
        """Return the counters as they are saved."""
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
        }
        stored["maintenance"] = self.maintenance.as_stored()
        if (backflush_run := self.backflush.as_stored()) is not None:
            stored["backflush_run"] = backflush_run
        return stored

    @callback
    def _async_power_changed(self, event: Event[EventStateChangedData]) -> None:
        """Handle a new state of the power sensor."""
        new_state = event.data["new_state"]
        if new_state is None:
            # Removed from the state machine.
            self._set_available(False)
            self._async_check_source(CONF_POWER_SENSOR)
            self.async_update_listeners()
            return
        if event.data["old_state"] is None:
            self._async_check_source(CONF_POWER_SENSOR)
        # Not last_reported: a report of the same value after this change may have moved it.
        self._handle_power(new_state, new_state.last_updated_timestamp)

    @callback
    def _async_power_reported(self, event: Event[EventStateReportedData]) -> None:
        """Handle the plug reporting an unchanged value again."""
        self._handle_power(event.data["new_state"], event.data["last_reported"].timestamp())

    @callback
    def _async_power_sensor_registry_updated(
        self, event: Event[er.EventEntityRegistryUpdatedData]
    ) -> None:
        """Reload when the power sensor moved to another device (or none): via_device changes.

        Renames and removals are handled by ``async_handle_source_entity_changes``.
        """
        data = event.data
        if data["action"] == "update" and "device_id" in data["changes"]:
            self.hass.config_entries.async_schedule_reload(self.entry.entry_id)

    @callback
    def async_update_device(self) -> None:
        """Drop a stale ``via_device`` link once the power sensor has no device any more."""
        device_registry = dr.async_get(self.hass)
        device = device_registry.async_get_device(identifiers={(DOMAIN, self.entry.entry_id)})
        if device and device.via_device_id and "via_device" not in self.device_info:
            device_registry.async_update_device(device.id, via_device_id=None)

    @callback
    def _async_switch_changed(self, event: Event[EventStateChangedData]) -> None:
        """Raise or clear the repair issue when the switch disappears or returns."""
        if event.data["new_state"] is None or event.data["old_state"] is None:
            self._async_check_source(CONF_BACKFLUSH_SWITCH)

    @callback
    def _async_tick(self, now: datetime) -> None:
        """Let the detector end what ended while the plug stayed silent."""
        self._process(self.detector.tick(now.timestamp()))

    @callback
    def _async_midnight(self, now: datetime) -> None:
        """Start counting a new day."""
        if self._roll_day():
            self.async_update_listeners()

    @callback
    def _async_check_sources(self, hass: HomeAssistant) -> None:
        """Raise or clear the repair issues of both source entities (once started)."""
        self._async_check_source(CONF_POWER_SENSOR)
        if self.backflush_switch:
            self._async_check_source(CONF_BACKFLUSH_SWITCH)

    @callback
    def _async_check_source(self, option: str, *, removed: bool = False) -> None:
        """Raise or clear the repair issue of one source entity."""
        entity_id: str = self.entry.options[option]
        key = (
            ISSUE_POWER_SENSOR_MISSING
            if option == CONF_POWER_SENSOR
            else ISSUE_BACKFLUSH_SWITCH_MISSING
        )
        if not removed and source_exists(self.hass, entity_id):
            async_delete_source_issue(self.hass, self.entry.entry_id, key)
        else:
            async_create_source_issue(self.hass, self.entry, key, entity_id)

    @callback
    def async_source_removed(self, option: str) -> None:
        """Handle a source entity removed from the entity registry (its state goes next)."""
        self._async_check_source(option, removed=True)

    @callback
    def _handle_power(self, state: State, timestamp: float) -> None:
        """Feed one reading of the power sensor to the detector."""
        was_available = self.available
        self._set_available(state.state != STATE_UNAVAILABLE)
        watts = to_watts(state.state, state.attributes.get(ATTR_UNIT_OF_MEASUREMENT))
        self.backflush.observe_power(timestamp, watts)
        self._process(self.detector.feed(timestamp, watts), notify=was_available != self.available)

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
                self.name,
            )
            self._unavailable_logged = True
        elif self._unavailable_logged:
            _LOGGER.info("Power sensor %s of %s is available again", self.power_sensor, self.name)
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
            elif isinstance(event, ShotFinished):
                self._count_shot(event)
                changed = True
            elif isinstance(event, BackflushDetected):
                self._on_backflush_detected(event)
                changed = True
        self.machine_state = self.detector.state
        self.brewing = self.detector.brewing
        if changed or before != (self.machine_state, self.brewing):
            self.async_update_listeners()

    @callback
    def _count_shot(self, shot: ShotFinished) -> None:
        """Count a recognised shot, save the counters right away and fire the event."""
        self._roll_day()
        self.total_shots += 1
        self.shots_today += 1
        self.last_shot_start = dt_util.utc_from_timestamp(shot.start)
        self.last_shot_end = dt_util.utc_from_timestamp(shot.end)
        self.last_shot_duration = round(shot.duration, 1)
        self.recent_durations.append(self.last_shot_duration)
        self._on_shot(shot)
        # Saved at once (not delayed): a counted shot must survive a crash or restart.
        self.async_schedule_save()
        self.hass.bus.async_fire(
            EVENT_SHOT,
            {
                ATTR_CONFIG_ENTRY_ID: self.entry.entry_id,
                ATTR_NAME: self.name,
                ATTR_START: self.last_shot_start.isoformat(),
                ATTR_END: self.last_shot_end.isoformat(),
                ATTR_DURATION_S: self.last_shot_duration,
                ATTR_TOTAL_SHOTS: self.total_shots,
            },
        )

    @callback
    def _roll_day(self) -> bool:
        """Reset ``shots_today`` when the local date changed; True when it did."""
        today = dt_util.now().date()
        if today == self.today:
            return False
        self.today = today
        self.shots_today = 0
        return True
