"""The maintenance schedule of one machine in Home Assistant: ``MaintenanceTracker``.

The tracker holds the engine's pure ``MaintenanceSchedule`` and ``ShotTimeDrift``, is told of
every shot by the shot counter, applies the last-done dates entered in the options, fires the
maintenance events, keeps the timers that make day-based rules due on time, and owns the
``maintenance`` slice of the stored data.

Options and the stored schedule: the intervals and the drift threshold are configuration and
are read from the options at every set-up (a change reloads the entry). A last-done date entered
in the options (``<task>_last_done``) is a one-off correction: it is applied to the schedule
once, at the first set-up after it was entered, and the applied value is stored
(``applied_last_done``). It is applied again only when the option's value changes; done marks
recorded later (buttons, action, to-do list, backflush) therefore stay in force, and saving the
options again with the same date changes nothing.

Due events fire on the edge: when a task becomes due, once. The tasks whose event was fired
are stored (``notified_due``), so a restart does not fire them again; a task that became due
while Home Assistant was stopped fires once it has started. A snoozed task is not due: its
event fires again when the snooze ends and the task is still due.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_point_in_utc_time, async_track_time_interval
from homeassistant.helpers.start import async_at_started
from homeassistant.util import dt as dt_util

from .const import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_END,
    ATTR_NAME,
    ATTR_PULSES,
    ATTR_SNOOZED_UNTIL,
    ATTR_SOURCE,
    ATTR_START,
    ATTR_TASK,
    ATTR_UNTIL,
    CONF_MARK_DETECTED_BACKFLUSH,
    CONF_SHOT_TIME_DRIFT_PERCENT,
    DEFAULT_MARK_DETECTED_BACKFLUSH,
    DEFAULT_SHOT_TIME_DRIFT_PERCENT,
    DOMAIN,
    EVENT_BACKFLUSH_DETECTED,
    EVENT_MAINTENANCE_DONE,
    EVENT_MAINTENANCE_DUE,
    EVENT_MAINTENANCE_SNOOZED,
    MAINTENANCE_CHECK_INTERVAL,
    MAX_SHOT_TIME_DRIFT_PERCENT,
    MIN_SHOT_TIME_DRIFT_PERCENT,
    SOURCE_DETECTED,
)
from .coordinator import push_coordinator
from .engine.maintenance import (
    TASKS,
    DateInFutureError,
    MaintenanceSchedule,
    ShotTimeDrift,
    Task,
    TaskStatus,
    intervals_from_options,
    last_done_option,
)
from .validation import parse_last_done

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Mapping

    from homeassistant.config_entries import ConfigEntry

    from .engine.events import BackflushDetected

_LOGGER = logging.getLogger(__name__)


# ``days_remaining`` is shown to 0.1 day: it changes when the exact value falls below the
# shown one minus half a step.
_DAYS_HALF_STEP = 0.05
_NEVER = datetime.max.replace(tzinfo=UTC)


def status_attributes(status: TaskStatus) -> dict[str, Any]:
    """``shots_remaining``, ``days_remaining`` (0.1 day) and ``due_at`` of a status."""
    return {
        "shots_remaining": status.shots_remaining,
        "days_remaining": (
            None if status.days_remaining is None else round(status.days_remaining, 1)
        ),
        "due_at": None if status.due_at is None else status.due_at.isoformat(),
    }


def snooze_attributes(status: TaskStatus) -> dict[str, Any]:
    """``snoozed_until`` of a status (``None`` when the task is not snoozed)."""
    until = status.snoozed_until
    return {ATTR_SNOOZED_UNTIL: None if until is None else until.isoformat()}


def drift_threshold(options: Mapping[str, Any]) -> int:
    """Return the drift threshold (%) from the options, clamped to the allowed range."""
    value = options.get(CONF_SHOT_TIME_DRIFT_PERCENT, DEFAULT_SHOT_TIME_DRIFT_PERCENT)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return DEFAULT_SHOT_TIME_DRIFT_PERCENT
    percent: int = round(value)
    return min(MAX_SHOT_TIME_DRIFT_PERCENT, max(MIN_SHOT_TIME_DRIFT_PERCENT, percent))


class MaintenanceTracker:
    """Maintenance schedule, shot time drift and their events for one machine.

    Its entities follow ``coordinator``, a push coordinator (it never polls) told whenever what it
    holds changed. ``save`` / ``schedule_save`` persist the stored data (this part's slice
    included).
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        stored: Mapping[str, Any] | None,
        recent_durations: Iterable[float],
        *,
        save: Callable[[], Awaitable[None]],
        schedule_save: Callable[[], None],
    ) -> None:
        """Restore the schedule from storage (or start with every task done now)."""
        self.hass = hass
        self.coordinator = push_coordinator(hass, entry, "maintenance", _LOGGER)
        self.entry = entry
        self._save = save
        self._schedule_save = schedule_save
        options = entry.options
        now = dt_util.now()
        self._tz = dt_util.get_default_time_zone()
        data: Mapping[str, Any] = stored if isinstance(stored, dict) else {}
        # A new installation (or one from before maintenance existed) starts "done now";
        # that moment must be saved, or a restart would move it.
        self._dirty = not data
        self.schedule = MaintenanceSchedule.from_dict(
            data.get("schedule"), intervals_from_options(options), tz=self._tz, now=now
        )
        threshold = drift_threshold(options)
        if "drift" in data:
            self.drift = ShotTimeDrift.from_dict(data["drift"], threshold_percent=threshold)
        else:
            # Seed the usual shot time with the shots the shot counter remembers.
            self.drift = ShotTimeDrift(threshold_percent=threshold)
            for duration in recent_durations:
                self.drift.add(duration)
        raw_notified = data.get("notified_due")
        self._notified: set[Task] = {
            Task(task)
            for task in (raw_notified if isinstance(raw_notified, list) else [])
            if task in set(Task)
        }
        raw_applied = data.get("applied_last_done")
        self._applied: dict[str, str] = {
            str(key): str(value)
            for key, value in (raw_applied if isinstance(raw_applied, dict) else {}).items()
        }
        self.mark_detected_backflush: bool = bool(
            options.get(CONF_MARK_DETECTED_BACKFLUSH, DEFAULT_MARK_DETECTED_BACKFLUSH)
        )
        # Since when each task's shot count counts (the last_reset of its shots_since sensor):
        # the last-done date, except after a correction to an earlier date, which keeps the
        # count (and so its start: moving it would count those shots again in statistics).
        raw_since = data.get("counting_since")
        stored_since = raw_since if isinstance(raw_since, dict) else {}
        self._counting_since: dict[Task, datetime] = {}
        for task, record in self.schedule.records.items():
            since = dt_util.parse_datetime(str(stored_since.get(str(task), "")))
            self._counting_since[task] = (
                record.last_done if since is None or since.tzinfo is None else since
            )
        self._apply_last_done_options(options, now)
        self._started = False
        self._unsub_point: CALLBACK_TYPE | None = None
        self._point_at: datetime | None = None
        self._evaluated: dict[Task, TaskStatus] = {}
        self._shown: tuple[Any, ...] = ()
        # When the last evaluation ran, and from when time alone may change what it showed
        # (None: at the next minute check).
        self._evaluated_at = now
        self._recheck_at: datetime | None = None

    # ------------------------------------------------------------------ reading

    def evaluated(self, task: Task) -> TaskStatus:
        """State of ``task`` at the last evaluation: what the entities show.

        The schedule is evaluated at each of its changes, at the moment a day rule makes a
        task due and every minute (``days_remaining`` may lag by that much).
        """
        if not self._evaluated:  # nothing evaluated yet (set-up)
            self._evaluated = self._statuses()
        return self._evaluated[task]

    def _statuses(self, now: datetime | None = None) -> dict[Task, TaskStatus]:
        now = now or dt_util.now()
        return {task: self.schedule.status(task, now) for task in TASKS}

    @property
    def drift_attributes(self) -> dict[str, float | None]:
        """Usual and recent shot time (medians, seconds) of the shot time drift."""
        baseline, recent = self.drift.baseline, self.drift.recent
        return {
            "baseline_duration": None if baseline is None else round(baseline, 1),
            "recent_duration": None if recent is None else round(recent, 1),
        }

    def counting_since(self, task: Task) -> datetime:
        """Return since when the shots since ``task`` are counted (local time)."""
        return self._counting_since[task].astimezone(self._tz)

    def as_stored(self) -> dict[str, Any]:
        """Return what is saved under the ``maintenance`` key of the stored data."""
        return {
            "counting_since": {
                str(task): since.isoformat() for task, since in self._counting_since.items()
            },
            "schedule": self.schedule.as_dict(),
            "drift": self.drift.as_dict(),
            "notified_due": [str(task) for task in TASKS if task in self._notified],
            "applied_last_done": dict(self._applied),
        }

    def as_diagnostics(self) -> dict[str, Any]:
        """Schedule, intervals, due state and drift for the diagnostics download."""
        now = dt_util.now()
        return {
            "schedule": self.schedule.as_dict(),
            "intervals": {
                str(task): {"shots": interval.shots, "days": interval.days}
                for task, interval in self.schedule.intervals.items()
            },
            "due": [str(task) for task in self.schedule.due_tasks(now)],
            "notified_due": [str(task) for task in TASKS if task in self._notified],
            "next_change": (
                None if (moment := self.schedule.next_change(now)) is None else moment.isoformat()
            ),
            "applied_last_done": dict(self._applied),
            "mark_detected_backflush": self.mark_detected_backflush,
            "drift": {
                **self.drift.as_dict(),
                "threshold_percent": self.drift.threshold_percent,
                "drifting": self.drift.is_drifting,
                **self.drift_attributes,
            },
        }

    # ------------------------------------------------------------------ lifecycle

    @callback
    def async_start(self) -> None:
        """Start the timers; due events fire once Home Assistant has started."""
        entry = self.entry
        entry.async_on_unload(
            async_track_time_interval(
                self.hass,
                self._async_timer,
                MAINTENANCE_CHECK_INTERVAL,
                name=f"{DOMAIN} maintenance {entry.title}",
                cancel_on_shutdown=True,
            )
        )
        entry.async_on_unload(self._cancel_point)
        entry.async_on_unload(async_at_started(self.hass, self._async_started))
        self._schedule_point()
        if self._dirty:
            self._dirty = False
            self._schedule_save()

    @callback
    def _async_started(self, hass: HomeAssistant) -> None:
        """Home Assistant runs (automations are set up): fire due events from now on."""
        self._started = True
        self._evaluate()

    @callback
    def _cancel_point(self) -> None:
        if self._unsub_point is not None:
            self._unsub_point()
            self._unsub_point = None
        self._point_at = None

    @callback
    def _schedule_point(self) -> None:
        """Wake up exactly when the next day rule makes a task due (kept when unchanged)."""
        moment = self.schedule.next_change(dt_util.now())
        if self._unsub_point is not None and moment == self._point_at:
            return
        self._cancel_point()
        if moment is not None:
            self._point_at = moment
            self._unsub_point = async_track_point_in_utc_time(
                self.hass, self._async_point_reached, moment.astimezone(UTC)
            )

    @callback
    def _async_point_reached(self, now: datetime) -> None:
        self._unsub_point = None
        self._point_at = None
        self._async_refresh()

    @callback
    def _async_timer(self, now: datetime) -> None:
        """Minute check: re-evaluate once time alone may have changed what is shown.

        Until then (the next 0.1 day of ``days_remaining`` or a due moment) nothing can have
        changed: the schedule's own changes are evaluated as they happen. A clock set back
        re-evaluates too.
        """
        if self._recheck_at is not None and self._evaluated_at <= now < self._recheck_at:
            return
        self._async_refresh()

    @callback
    def _async_refresh(self) -> None:
        """Re-evaluate the day rules; tell the entities only when what they show changed."""
        if self._evaluate():
            self.coordinator.async_set_updated_data(None)

    # ------------------------------------------------------------------ changes

    @callback
    def record_shot(self, duration: float, *, notify: bool = True) -> None:
        """Count a shot for every task and feed its duration to the drift detector.

        The shot counter saves afterwards; with ``notify=False`` the entities are told later
        (``async_notify``, once the shot is on disk).
        """
        self.schedule.record_shot()
        self.drift.add(duration)
        self._evaluate()
        if notify:
            self.coordinator.async_set_updated_data(None)

    @callback
    def async_notify(self) -> None:
        """Tell the entities that the schedule changed."""
        self.coordinator.async_set_updated_data(None)

    @callback
    def adjust_shots(self, count: int) -> None:
        """Correct the shots since every task by ``count`` (``adjust_shots``)."""
        self.schedule.adjust_shots(count)
        self._evaluate()
        self.coordinator.async_set_updated_data(None)

    @callback
    def backflush_detected(self, event: BackflushDetected) -> None:
        """Handle a recognised manual backflush: fire its event, maybe mark backflush done."""
        end = dt_util.utc_from_timestamp(event.end)
        self.hass.bus.async_fire(
            EVENT_BACKFLUSH_DETECTED,
            {
                ATTR_CONFIG_ENTRY_ID: self.entry.entry_id,
                ATTR_NAME: self.entry.title,
                ATTR_START: dt_util.utc_from_timestamp(event.start).isoformat(),
                ATTR_END: end.isoformat(),
                ATTR_PULSES: event.pulses,
            },
        )
        if self.mark_detected_backflush:
            self._mark_done(Task.BACKFLUSH, end, SOURCE_DETECTED)
            self._schedule_save()
        self.coordinator.async_set_updated_data(None)

    async def async_mark_done(
        self, task: Task | str, *, source: str, when: datetime | None = None
    ) -> tuple[Task, ...]:
        """Record ``task`` as done at ``when`` (default now), notify and save.

        The public entry point for buttons, the action, the to-do list and the backflush
        runner. Returns every task marked done (a clean also marks the backflush). Raises
        ``DateInFutureError`` for a ``when`` in the future and ``ValueError`` for an unknown
        task.
        """
        marked = self._mark_done(Task(task), when or dt_util.now(), source)
        self.coordinator.async_set_updated_data(None)
        await self._save()
        return marked

    async def async_snooze(
        self, task: Task | str, *, duration: timedelta | None = None, until: datetime | None = None
    ) -> datetime:
        """Snooze ``task`` for ``duration`` or until ``until``; notify, fire the event, save.

        Returns the snooze's end (local time). Raises the engine's ``SnoozeError`` for a
        duration out of range or an end in the past or too far ahead.
        """
        task = Task(task)
        end = self.schedule.snooze(task, now=dt_util.now(), duration=duration, until=until)
        self.hass.bus.async_fire(
            EVENT_MAINTENANCE_SNOOZED,
            {
                ATTR_CONFIG_ENTRY_ID: self.entry.entry_id,
                ATTR_NAME: self.entry.title,
                ATTR_TASK: str(task),
                ATTR_UNTIL: end.isoformat(),
            },
        )
        self._evaluate()
        self.coordinator.async_set_updated_data(None)
        await self._save()
        return end

    @callback
    def _mark_done(self, task: Task, when: datetime, source: str) -> tuple[Task, ...]:
        """Mark done, reset the drift after a backflush and fire a done event per task."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=self._tz)
        marked = self._schedule_mark_done(task, when, dt_util.now())
        if any(TASKS[done].resets_drift for done in marked):
            self.drift.reset()
        for done in marked:
            self.hass.bus.async_fire(
                EVENT_MAINTENANCE_DONE,
                {
                    ATTR_CONFIG_ENTRY_ID: self.entry.entry_id,
                    ATTR_NAME: self.entry.title,
                    ATTR_TASK: str(done),
                    ATTR_SOURCE: source,
                },
            )
        self._evaluate()
        return marked

    def _schedule_mark_done(self, task: Task, when: datetime, now: datetime) -> tuple[Task, ...]:
        """Mark done in the schedule; a task whose count restarted counts from ``when``."""
        before = dict(self.schedule.records)
        marked = self.schedule.mark_done(task, when, now=now)
        for done in marked:
            record = self.schedule.records[done]
            # The engine restarts the count unless the date lies before the recorded one.
            if record.last_done >= before[done].last_done:
                self._counting_since[done] = record.last_done
        return marked

    def _apply_last_done_options(self, options: Mapping[str, Any], now: datetime) -> None:
        """Apply last-done dates from the options that were not applied before."""
        for task in TASKS:
            key = last_done_option(task)
            value = options.get(key)
            if not isinstance(value, str) or not value:
                if self._applied.pop(str(task), None) is not None:
                    self._dirty = True
                continue
            if self._applied.get(str(task)) == value:
                continue
            self._applied[str(task)] = value
            self._dirty = True
            when = parse_last_done(value, self._tz)
            if when is None:
                _LOGGER.warning("Ignoring unreadable %s %r", key, value)
                continue
            try:
                self._schedule_mark_done(task, when, now)
            except DateInFutureError:
                _LOGGER.warning("Ignoring %s %s: it is in the future", key, value)

    @callback
    def _evaluate(self) -> bool:
        """Fire the due event of each task that became due; forget those no longer due.

        Every task's status is computed once. Returns whether what the entities show of the
        schedule (remaining shots and days, due dates, due tasks) changed since the last
        evaluation.
        """
        now = dt_util.now()
        self._evaluated = statuses = self._statuses(now)
        self._evaluated_at = now
        self._recheck_at = _next_shown_change(statuses.values(), now)
        due = {task for task, status in statuses.items() if status.due}
        if self._started:
            for task in TASKS:
                if task in due and task not in self._notified:
                    _LOGGER.debug("%s of %s is due", task, self.entry.title)
                    self.hass.bus.async_fire(
                        EVENT_MAINTENANCE_DUE,
                        {
                            ATTR_CONFIG_ENTRY_ID: self.entry.entry_id,
                            ATTR_NAME: self.entry.title,
                            ATTR_TASK: str(task),
                        },
                    )
            if due != self._notified:
                self._notified = due
                self._schedule_save()
        self._schedule_point()
        shown = tuple(
            (*status_attributes(status).values(), status.due, status.snoozed_until)
            for status in statuses.values()
        )
        if shown == self._shown:
            return False
        self._shown = shown
        return True


def _next_shown_change(statuses: Iterable[TaskStatus], now: datetime) -> datetime:
    """Return when time alone next changes a shown ``days_remaining`` (0.1 day) or due state.

    At the latest the due moment (``days_remaining`` reaching 0); never without a days rule.
    """
    now_utc = now.astimezone(UTC)
    moments = [
        now_utc + timedelta(days=days - max(0.0, round(days, 1) - _DAYS_HALF_STEP))
        for status in statuses
        if (days := status.days_remaining) is not None and days > 0.0
    ]
    return min(moments, default=_NEVER)
