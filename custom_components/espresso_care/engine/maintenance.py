"""Maintenance rules: when backflushing, detergent cleaning and descaling are due.

Every task has an interval in shots and an interval in days; ``0`` disables that criterion. A
task is due as soon as either enabled criterion is reached since the task was last done.

Time rules are wall-clock rules in the configured time zone: "every 7 days" means the same
local time 7 calendar days later, so across a DST change the elapsed time is 7 days +/- 1 h.
If that local time does not exist (spring forward gap) the task becomes due at the moment the
clocks jump, shifted by the length of the gap (02:30 -> 03:30); if it exists twice (fall back)
the first occurrence is used. All datetimes handed in must be aware; comparisons are done in
UTC, because Python compares two datetimes that share a ``tzinfo`` by wall-clock time.

A task can be snoozed (:meth:`MaintenanceSchedule.snooze`): until the snooze ends it is not
reported due, whatever its rules say; shots keep counting and the rules keep running, so a task
still due when the snooze ends is due again at that moment. Marking a task done ends its snooze.

This module also holds :class:`ShotTimeDrift`, which notices that recent shots run markedly
longer than the machine's usual shot time (a sign of a clogged group / overdue backflush).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
import math
from statistics import median
from types import MappingProxyType
from typing import Any

STORAGE_VERSION = 1

SHOTS_MIN = 0
SHOTS_MAX = 1000
DAYS_MIN = 0
DAYS_MAX = 730

# A "done at" date this little in the future (clock skew between browser and server, a picker
# rounding up to the minute) is taken as "now" instead of being rejected.
FUTURE_TOLERANCE = timedelta(minutes=5)

# A snooze lasts at least this long and ends at most this far ahead.
SNOOZE_MIN = timedelta(hours=1)
SNOOZE_MAX = timedelta(days=30)

_SECONDS_PER_DAY = 86400.0


class Task(StrEnum):
    """A maintenance task."""

    BACKFLUSH = "backflush"
    """Backflush with plain water."""
    CLEAN = "clean"
    """Backflush with detergent; also counts as a backflush."""
    DESCALE = "descale"
    """Descale the boiler(s)."""


class MaintenanceError(ValueError):
    """Base class for errors the HA layer maps to a translated message."""

    translation_key = "maintenance_error"


class DateInFutureError(MaintenanceError):
    """A task was reported done at a moment that has not happened yet."""

    translation_key = "date_in_future"

    def __init__(self, when: datetime, now: datetime) -> None:
        """Remember the offending date."""
        super().__init__(f"{when.isoformat()} is later than {now.isoformat()}")
        self.when = when
        self.now = now


class SnoozeError(MaintenanceError):
    """A snooze that is too short, too long or ends in the past."""

    translation_key = "snooze_error"

    def __init__(self, message: str, **placeholders: str) -> None:
        """Keep the placeholders of the translated message."""
        super().__init__(message)
        self.placeholders = placeholders


class SnoozeDurationError(SnoozeError):
    """A snooze duration outside :data:`SNOOZE_MIN` .. :data:`SNOOZE_MAX`."""

    translation_key = "snooze_duration_out_of_range"


class SnoozeUntilInPastError(SnoozeError):
    """A snooze that would end at or before now."""

    translation_key = "snooze_until_in_past"


class SnoozeUntilTooFarError(SnoozeError):
    """A snooze that would end later than :data:`SNOOZE_MAX` from now."""

    translation_key = "snooze_until_too_far"


def _duration_text(value: timedelta) -> str:
    """``1 h``, ``30 d`` or ``1 d 12 h``: a duration as the snooze errors name it."""
    hours = round(value.total_seconds() / 3600, 2)
    days, rest = divmod(hours, 24)
    parts = [f"{days:g} d"] if days else []
    if rest or not parts:
        parts.append(f"{rest:g} h")
    return " ".join(parts)


@dataclass(frozen=True, kw_only=True, slots=True)
class Interval:
    """How often a task is due; ``0`` disables a criterion."""

    shots: int
    days: int

    def __post_init__(self) -> None:
        """Reject values outside the bounds the options flow offers."""
        for name, value, low, high in (
            ("shots", self.shots, SHOTS_MIN, SHOTS_MAX),
            ("days", self.days, DAYS_MIN, DAYS_MAX),
        ):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, got {value!r}")
            if not low <= value <= high:
                raise ValueError(f"{name} must be within {low}..{high}, got {value}")


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskSpec:
    """What the schedule knows of one task."""

    default: Interval
    """The interval until the user sets one (options ``<task>_every_shots`` / ``_days``)."""
    implies: tuple[Task, ...] = ()
    """Doing this task also does these tasks (a detergent clean is a backflush too)."""
    resets_drift: bool = False
    """Doing this task resets the shot time drift (a cleaned group pulls normal shots)."""


TASKS: Mapping[Task, TaskSpec] = MappingProxyType(
    {
        Task.BACKFLUSH: TaskSpec(default=Interval(shots=20, days=7), resets_drift=True),
        Task.CLEAN: TaskSpec(
            default=Interval(shots=140, days=30), implies=(Task.BACKFLUSH,), resets_drift=True
        ),
        Task.DESCALE: TaskSpec(default=Interval(shots=0, days=90)),
    }
)
"""The task table: the one place a task's defaults, bounds and implied tasks are defined.

The Home Assistant side (options, entities, actions, the to-do list, the logbook) derives
everything from it; a new task is a ``Task`` member, its entry here, and its strings and icons.
The bounds of every interval are ``SHOTS_MIN`` .. ``SHOTS_MAX`` and ``DAYS_MIN`` .. ``DAYS_MAX``.
"""

DEFAULT_INTERVALS: Mapping[Task, Interval] = MappingProxyType(
    {task: spec.default for task, spec in TASKS.items()}
)
# Doing the key task also does these tasks.
IMPLIED_TASKS: Mapping[Task, tuple[Task, ...]] = MappingProxyType(
    {task: spec.implies for task, spec in TASKS.items()}
)


def interval_option(task: Task, unit: str) -> str:
    """Option key of a task's interval in ``unit`` (``shots`` or ``days``)."""
    return f"{task}_every_{unit}"


def last_done_option(task: Task) -> str:
    """Option key of the last-done date a user entered for a task."""
    return f"{task}_last_done"


def intervals_from_options(options: Mapping[str, Any]) -> dict[Task, Interval]:
    """Read ``<task>_every_shots`` / ``<task>_every_days`` options; never raises.

    A missing or non-numeric value takes the task's default, a number is rounded and clamped
    to the bounds.
    """

    def read(key: str, default: int, low: int, high: int) -> int:
        value = options.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return default
        if not math.isfinite(value):
            return default
        return min(high, max(low, round(value)))

    return {
        task: Interval(
            shots=read(interval_option(task, "shots"), default.shots, SHOTS_MIN, SHOTS_MAX),
            days=read(interval_option(task, "days"), default.days, DAYS_MIN, DAYS_MAX),
        )
        for task, default in DEFAULT_INTERVALS.items()
    }


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskRecord:
    """When a task was last done and how many shots were pulled since."""

    last_done: datetime
    shots_since: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskStatus:
    """The state of one task at a given moment."""

    task: Task
    due: bool
    last_done: datetime
    """In the schedule's time zone."""
    shots_since: int
    shots_remaining: int | None
    """Shots left until due (0 when due by shots); ``None`` when the shots rule is disabled."""
    due_at: datetime | None
    """When the days rule makes the task due, local time; ``None`` when it is disabled."""
    days_remaining: float | None
    """Days (of real elapsed time) until ``due_at``, 0 when passed; ``None`` when disabled."""
    snoozed_until: datetime | None
    """End of the task's snooze (local time) while one runs; ``due`` is then False."""
    due_by_rules: bool
    """Whether the rules alone make the task due (``due`` unless snoozed)."""


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {value!r}")


def add_local_days(start: datetime, days: int, tz: tzinfo) -> datetime:
    """Return the same local wall-clock time as ``start`` ``days`` calendar days later.

    The result is normalised (correct UTC offset for its instant) and expressed in ``tz``. A
    local time in a DST gap is shifted forward by the gap; an ambiguous one resolves to its
    first occurrence.
    """
    _require_aware(start, "start")
    wall = start.astimezone(tz).replace(tzinfo=None) + timedelta(days=days)
    # fold=0: for a nonexistent time the offset before the transition applies (-> shifted
    # forward), for an ambiguous time the first occurrence.
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz)


class MaintenanceSchedule:
    """Shot counters and last-done dates of every task; answers what is due when.

    Mutable: ``record_shot``, ``adjust_shots``, ``mark_done`` and ``set_intervals`` change it;
    persist it with :meth:`as_dict` / :meth:`from_dict`.
    """

    def __init__(
        self,
        intervals: Mapping[Task, Interval] | None = None,
        *,
        tz: tzinfo,
        records: Mapping[Task, TaskRecord] | None = None,
        now: datetime,
    ) -> None:
        """Create a schedule; tasks without a record count as done at ``now`` (not due).

        ``records`` are user-supplied last-done dates (config flow); one later than ``now``
        raises :class:`DateInFutureError` (within :data:`FUTURE_TOLERANCE` it becomes ``now``).
        """
        _require_aware(now, "now")
        self._tz = tz
        self._intervals: dict[Task, Interval] = {}
        self.set_intervals(intervals)
        given = records or {}
        now_utc = now.astimezone(UTC)
        self._records: dict[Task, TaskRecord] = {}
        for task in Task:
            record = given.get(task)
            if record is None:
                record = TaskRecord(last_done=now, shots_since=0)
            _require_aware(record.last_done, f"{task} last_done")
            if record.shots_since < 0:
                raise ValueError(f"{task} shots_since must not be negative")
            last_done = record.last_done.astimezone(UTC)
            if last_done > now_utc + FUTURE_TOLERANCE:
                raise DateInFutureError(record.last_done, now)
            self._records[task] = TaskRecord(
                last_done=min(last_done, now_utc), shots_since=record.shots_since
            )
        # End (UTC) of each running snooze; a passed one is ignored and dropped on change.
        self._snoozed: dict[Task, datetime] = {}

    @property
    def tz(self) -> tzinfo:
        """Time zone the day rules are evaluated in."""
        return self._tz

    @property
    def intervals(self) -> Mapping[Task, Interval]:
        """The interval of every task (read-only view)."""
        return MappingProxyType(self._intervals)

    @property
    def records(self) -> Mapping[Task, TaskRecord]:
        """Last-done date (UTC) and shot count of every task (read-only view)."""
        return MappingProxyType(self._records)

    def snoozed_until(self, task: Task, now: datetime) -> datetime | None:
        """End of the snooze of ``task`` (local time), ``None`` when none runs at ``now``."""
        until = self._snoozed.get(task)
        if until is None or until <= now.astimezone(UTC):
            return None
        return until.astimezone(self._tz)

    def snooze(
        self,
        task: Task,
        *,
        now: datetime,
        duration: timedelta | None = None,
        until: datetime | None = None,
    ) -> datetime:
        """Snooze ``task`` for ``duration`` or until ``until``; return the end (local time).

        A duration must lie within :data:`SNOOZE_MIN` .. :data:`SNOOZE_MAX`; an end must lie
        after ``now`` and at most :data:`SNOOZE_MAX` ahead (else a :class:`SnoozeError`).
        A new snooze replaces a running one. Any task can be snoozed, due or not: it is not
        reported due before the end.
        """
        _require_aware(now, "now")
        now_utc = now.astimezone(UTC)
        if duration is not None and until is None:
            if not SNOOZE_MIN <= duration <= SNOOZE_MAX:
                raise SnoozeDurationError(
                    f"snooze duration {duration} outside {SNOOZE_MIN}..{SNOOZE_MAX}",
                    duration=_duration_text(duration),
                    min=_duration_text(SNOOZE_MIN),
                    max=_duration_text(SNOOZE_MAX),
                )
            end = now_utc + duration
        elif until is not None and duration is None:
            _require_aware(until, "until")
            end = until.astimezone(UTC)
            local_end = end.astimezone(self._tz).isoformat()
            if end <= now_utc:
                raise SnoozeUntilInPastError(f"{local_end} is not in the future", until=local_end)
            if end > now_utc + SNOOZE_MAX:
                raise SnoozeUntilTooFarError(
                    f"{local_end} is more than {SNOOZE_MAX} ahead",
                    until=local_end,
                    max=_duration_text(SNOOZE_MAX),
                )
        else:
            raise ValueError("give exactly one of duration and until")
        self._drop_passed_snoozes(now_utc)
        self._snoozed[task] = end
        return end.astimezone(self._tz)

    def _drop_passed_snoozes(self, now_utc: datetime) -> None:
        for task, end in list(self._snoozed.items()):
            if end <= now_utc:
                del self._snoozed[task]

    def set_intervals(self, intervals: Mapping[Task, Interval] | None) -> None:
        """Replace the intervals (options changed); missing tasks get the default.

        Counters and dates are kept, so a shorter interval can make a task due at once.
        """
        given = intervals or {}
        self._intervals = {task: given.get(task, DEFAULT_INTERVALS[task]) for task in Task}

    def record_shot(self) -> None:
        """Count one shot for every task."""
        for task, record in self._records.items():
            self._records[task] = TaskRecord(
                last_done=record.last_done, shots_since=record.shots_since + 1
            )

    def adjust_shots(self, delta: int, task: Task | None = None) -> None:
        """Correct the shot count of one task (or of every task); never goes below 0."""
        for current in Task if task is None else (task,):
            record = self._records[current]
            self._records[current] = TaskRecord(
                last_done=record.last_done, shots_since=max(0, record.shots_since + delta)
            )

    def mark_done(self, task: Task, when: datetime, *, now: datetime) -> tuple[Task, ...]:
        """Record that ``task`` was done at ``when``; return every task marked done.

        A clean also marks the backflush done: ``(Task.CLEAN, Task.BACKFLUSH)``. The implied
        backflush is only moved forward in time: if a backflush was already recorded after
        ``when`` that later record is kept (and it is not listed in the result).

        Marking a task done ends its snooze (also the implied backflush's, when it is marked).

        ``when`` later than ``now`` + :data:`FUTURE_TOLERANCE` raises
        :class:`DateInFutureError`; within the tolerance it is taken as ``now``.

        Shot counts: the detector keeps no per-shot history, so the count since a past
        ``when`` is unknown; ``shots_since`` is set to the best lower bound known. For a
        ``when`` at or after the recorded last-done date that is 0; for an earlier ``when``
        (a correction of a wrongly entered date) the current count is kept, because every shot
        counted since the old date was also pulled after the earlier one.
        """
        _require_aware(when, "when")
        _require_aware(now, "now")
        when_utc = when.astimezone(UTC)
        now_utc = now.astimezone(UTC)
        if when_utc > now_utc + FUTURE_TOLERANCE:
            raise DateInFutureError(when, now)
        when_utc = min(when_utc, now_utc)

        marked = [task]
        self._records[task] = self._done_record(self._records[task], when_utc)
        for implied in IMPLIED_TASKS[task]:
            if when_utc >= self._records[implied].last_done:
                self._records[implied] = self._done_record(self._records[implied], when_utc)
                marked.append(implied)
        for done in marked:
            self._snoozed.pop(done, None)
        return tuple(marked)

    @staticmethod
    def _done_record(record: TaskRecord, when_utc: datetime) -> TaskRecord:
        shots = 0 if when_utc >= record.last_done else record.shots_since
        return TaskRecord(last_done=when_utc, shots_since=shots)

    def due_at(self, task: Task) -> datetime | None:
        """When the days rule makes ``task`` due (local time), or ``None`` if disabled."""
        days = self._intervals[task].days
        if days == 0:
            return None
        return add_local_days(self._records[task].last_done, days, self._tz)

    def status(self, task: Task, now: datetime) -> TaskStatus:
        """Return the state of ``task`` at ``now``."""
        _require_aware(now, "now")
        interval = self._intervals[task]
        record = self._records[task]
        due = False

        shots_remaining: int | None = None
        if interval.shots > 0:
            shots_remaining = max(0, interval.shots - record.shots_since)
            due = record.shots_since >= interval.shots

        due_at = self.due_at(task)
        days_remaining: float | None = None
        if due_at is not None:
            left = (due_at.astimezone(UTC) - now.astimezone(UTC)).total_seconds()
            days_remaining = max(0.0, left / _SECONDS_PER_DAY)
            due = due or left <= 0

        snoozed_until = self.snoozed_until(task, now)
        return TaskStatus(
            task=task,
            due=due and snoozed_until is None,
            due_by_rules=due,
            snoozed_until=snoozed_until,
            last_done=record.last_done.astimezone(self._tz),
            shots_since=record.shots_since,
            shots_remaining=shots_remaining,
            due_at=due_at,
            days_remaining=days_remaining,
        )

    def due_tasks(self, now: datetime) -> tuple[Task, ...]:
        """Every task that is due at ``now``, in :class:`Task` order."""
        return tuple(task for task in Task if self.status(task, now).due)

    def next_change(self, now: datetime) -> datetime | None:
        """Return the next moment after ``now`` a days rule or a snooze's end changes what is due.

        ``None`` when none is pending. Shot rules change only on :meth:`record_shot`.
        """
        _require_aware(now, "now")
        now_utc = now.astimezone(UTC)
        pending = [
            due_at
            for task in Task
            if (due_at := self.due_at(task)) is not None and due_at.astimezone(UTC) > now_utc
        ]
        pending.extend(end.astimezone(self._tz) for end in self._snoozed.values() if end > now_utc)
        return min(pending, key=lambda moment: moment.astimezone(UTC), default=None)

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable state (intervals are configuration and not included)."""
        return {
            "version": STORAGE_VERSION,
            "tasks": {
                str(task): {
                    "last_done": record.last_done.astimezone(self._tz).isoformat(),
                    "shots_since": record.shots_since,
                    **(
                        {"snoozed_until": until.astimezone(self._tz).isoformat()}
                        if (until := self._snoozed.get(task)) is not None
                        else {}
                    ),
                }
                for task, record in self._records.items()
            },
        }

    @classmethod
    def from_dict(
        cls,
        data: object,
        intervals: Mapping[Task, Interval] | None = None,
        *,
        tz: tzinfo,
        now: datetime,
    ) -> MaintenanceSchedule:
        """Restore :meth:`as_dict` output; never raises on corrupt data.

        A missing or unreadable task falls back to "done at ``now``", an unreadable count to
        0, a naive date is read in ``tz`` and a date after ``now`` is clamped to ``now``. A
        snooze that has ended or is unreadable is dropped; one ending more than
        :data:`SNOOZE_MAX` ahead (a clock set back) ends :data:`SNOOZE_MAX` from ``now``.
        """
        _require_aware(now, "now")
        now_utc = now.astimezone(UTC)
        tasks = data.get("tasks") if isinstance(data, Mapping) else None
        if not isinstance(tasks, Mapping):
            tasks = {}
        records: dict[Task, TaskRecord] = {}
        snoozed: dict[Task, datetime] = {}
        for task in Task:
            raw = tasks.get(str(task))
            if not isinstance(raw, Mapping):
                continue
            last_done = _parse_datetime(raw.get("last_done"), tz)
            if last_done is None or last_done.astimezone(UTC) > now_utc:
                last_done = now
            records[task] = TaskRecord(
                last_done=last_done, shots_since=_parse_count(raw.get("shots_since"))
            )
            until = _parse_datetime(raw.get("snoozed_until"), tz)
            if until is not None and until.astimezone(UTC) > now_utc:
                snoozed[task] = min(until.astimezone(UTC), now_utc + SNOOZE_MAX)
        schedule = cls(intervals, tz=tz, records=records, now=now)
        schedule._snoozed = snoozed
        return schedule


def _parse_datetime(value: object, tz: tzinfo) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=tz)
    try:
        parsed.astimezone(UTC)
    except (OverflowError, ValueError):  # e.g. datetime.min shifted before year 1
        return None
    return parsed


def _parse_count(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(0, value)
    if isinstance(value, float) and value.is_integer():
        return max(0, int(value))
    return 0


# --- shot time drift ------------------------------------------------------------------------

DRIFT_THRESHOLD_MIN = 5
DRIFT_THRESHOLD_MAX = 100
DEFAULT_DRIFT_THRESHOLD = 25
DEFAULT_BASELINE_SHOTS = 20
DEFAULT_RECENT_SHOTS = 3
DEFAULT_MIN_BASELINE = 8


class ShotTimeDrift:
    """Notices that recent shots run markedly longer than the machine's usual shot time.

    The last ``recent_size`` shots form the recent window; shots leaving it join the baseline
    (the ``baseline_size`` shots before the window). Drifting when the baseline holds at least
    ``min_baseline`` shots, the recent window is full and
    ``median(recent) > median(baseline) * (1 + threshold_percent / 100)``.

    :meth:`reset` is meant for "backflush / clean done": the cleaned group pulls normal shots
    again, so the recent window (the slow, pre-clean shots) is discarded, not moved into the
    baseline where it would inflate the machine's usual shot time. The baseline is kept, so
    drift detection works again after ``recent_size`` shots.

    A baseline that keeps absorbing slow shots adapts after about ``baseline_size / 2`` of
    them (the median), so a persistent change (new coffee, new grind) stops counting as drift.
    Memory is bounded by ``baseline_size + recent_size``.
    """

    def __init__(
        self,
        *,
        threshold_percent: float = DEFAULT_DRIFT_THRESHOLD,
        baseline_size: int = DEFAULT_BASELINE_SHOTS,
        recent_size: int = DEFAULT_RECENT_SHOTS,
        min_baseline: int = DEFAULT_MIN_BASELINE,
    ) -> None:
        """Create an empty detector."""
        if baseline_size < 1 or recent_size < 1:
            raise ValueError("window sizes must be at least 1")
        if not 1 <= min_baseline <= baseline_size:
            raise ValueError(f"min_baseline must be within 1..{baseline_size}")
        self._threshold = 0.0
        self.threshold_percent = threshold_percent
        self._min_baseline = min_baseline
        self._baseline: deque[float] = deque(maxlen=baseline_size)
        self._recent: deque[float] = deque(maxlen=recent_size)

    @property
    def threshold_percent(self) -> float:
        """How much longer (%) recent shots must run to count as drift."""
        return self._threshold

    @threshold_percent.setter
    def threshold_percent(self, value: float) -> None:
        if not DRIFT_THRESHOLD_MIN <= value <= DRIFT_THRESHOLD_MAX:
            raise ValueError(
                f"threshold_percent must be within {DRIFT_THRESHOLD_MIN}..{DRIFT_THRESHOLD_MAX}"
            )
        self._threshold = float(value)

    def add(self, duration: float) -> None:
        """Feed the duration (seconds) of a finished shot; non-finite or <= 0 is ignored."""
        if not math.isfinite(duration) or duration <= 0:
            return
        recent = self._recent
        if len(recent) == recent.maxlen:
            self._baseline.append(recent.popleft())
        recent.append(float(duration))

    def reset(self) -> None:
        """Backflush / clean done: discard the recent window, keep the baseline."""
        self._recent.clear()

    @property
    def baseline(self) -> float | None:
        """Usual shot time (median), or ``None`` until ``min_baseline`` shots are known."""
        if len(self._baseline) < self._min_baseline:
            return None
        return float(median(self._baseline))

    @property
    def recent(self) -> float | None:
        """Median of the recent window, or ``None`` until the window is full."""
        if len(self._recent) < (self._recent.maxlen or 0):
            return None
        return float(median(self._recent))

    @property
    def is_drifting(self) -> bool:
        """Whether recent shots run markedly longer than the baseline."""
        baseline, recent = self.baseline, self.recent
        if baseline is None or recent is None:
            return False
        return recent > baseline * (1 + self._threshold / 100)

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable state (the configuration is not included)."""
        return {"baseline": list(self._baseline), "recent": list(self._recent)}

    @classmethod
    def from_dict(
        cls,
        data: object,
        *,
        threshold_percent: float = DEFAULT_DRIFT_THRESHOLD,
        baseline_size: int = DEFAULT_BASELINE_SHOTS,
        recent_size: int = DEFAULT_RECENT_SHOTS,
        min_baseline: int = DEFAULT_MIN_BASELINE,
    ) -> ShotTimeDrift:
        """Restore :meth:`as_dict` output; garbage entries are dropped, lists are bounded."""
        drift = cls(
            threshold_percent=threshold_percent,
            baseline_size=baseline_size,
            recent_size=recent_size,
            min_baseline=min_baseline,
        )
        if isinstance(data, Mapping):
            drift._baseline.extend(_durations(data.get("baseline")))
            drift._recent.extend(_durations(data.get("recent")))
        return drift


def _durations(value: object) -> Iterable[float]:
    if not isinstance(value, list):
        return ()
    return [
        float(item)
        for item in value
        if isinstance(item, int | float)
        and not isinstance(item, bool)
        and math.isfinite(item)
        and item > 0
    ]
