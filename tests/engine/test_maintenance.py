"""Tests for the maintenance rules and the shot time drift detector."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from zoneinfo import ZoneInfo

import pytest

from custom_components.espresso_care.engine.maintenance import (
    DEFAULT_INTERVALS,
    FUTURE_TOLERANCE,
    SNOOZE_MAX,
    SNOOZE_MIN,
    DateInFutureError,
    Interval,
    MaintenanceError,
    MaintenanceSchedule,
    ShotTimeDrift,
    SnoozeDurationError,
    SnoozeError,
    SnoozeUntilInPastError,
    SnoozeUntilTooFarError,
    Task,
    TaskRecord,
    add_local_days,
    intervals_from_options,
)

AMS = ZoneInfo("Europe/Amsterdam")
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=AMS)

NO_DAYS = {task: Interval(shots=0, days=0) for task in Task}


def schedule(
    intervals: dict[Task, Interval] | None = None,
    *,
    now: datetime = T0,
    records: dict[Task, TaskRecord] | None = None,
) -> MaintenanceSchedule:
    return MaintenanceSchedule(intervals, tz=AMS, records=records, now=now)


def shots(sched: MaintenanceSchedule, count: int) -> None:
    for _ in range(count):
        sched.record_shot()


# --- intervals -------------------------------------------------------------------------------


def test_defaults() -> None:
    assert DEFAULT_INTERVALS[Task.BACKFLUSH] == Interval(shots=20, days=7)
    assert DEFAULT_INTERVALS[Task.CLEAN] == Interval(shots=140, days=30)
    assert DEFAULT_INTERVALS[Task.DESCALE] == Interval(shots=0, days=90)
    assert dict(schedule().intervals) == dict(DEFAULT_INTERVALS)


@pytest.mark.parametrize(("shots_", "days"), [(0, 0), (1000, 730), (1, 1)])
def test_interval_bounds_inside(shots_: int, days: int) -> None:
    assert Interval(shots=shots_, days=days).shots == shots_


@pytest.mark.parametrize(("shots_", "days"), [(-1, 0), (1001, 0), (0, -1), (0, 731)])
def test_interval_bounds_outside(shots_: int, days: int) -> None:
    with pytest.raises(ValueError, match="must be within"):
        Interval(shots=shots_, days=days)


def test_interval_rejects_non_int() -> None:
    with pytest.raises(TypeError):
        Interval(shots=True, days=1)
    with pytest.raises(TypeError):
        Interval(shots=1, days=1.5)  # type: ignore[arg-type]


def test_missing_intervals_get_defaults() -> None:
    sched = schedule({Task.CLEAN: Interval(shots=5, days=0)})
    assert sched.intervals[Task.CLEAN] == Interval(shots=5, days=0)
    assert sched.intervals[Task.BACKFLUSH] == DEFAULT_INTERVALS[Task.BACKFLUSH]


# --- due rules -------------------------------------------------------------------------------


def test_new_install_nothing_due() -> None:
    sched = schedule()
    assert sched.due_tasks(T0) == ()
    status = sched.status(Task.BACKFLUSH, T0)
    assert status.last_done == T0
    assert status.shots_since == 0
    assert status.shots_remaining == 20
    assert status.days_remaining == pytest.approx(7)


def test_shots_only() -> None:
    sched = schedule({Task.BACKFLUSH: Interval(shots=3, days=0)})
    shots(sched, 2)
    status = sched.status(Task.BACKFLUSH, T0)
    assert not status.due
    assert status.shots_remaining == 1
    assert status.due_at is None
    assert status.days_remaining is None
    sched.record_shot()
    status = sched.status(Task.BACKFLUSH, T0)
    assert status.due
    assert status.shots_remaining == 0
    sched.record_shot()
    assert sched.status(Task.BACKFLUSH, T0).shots_remaining == 0
    # time alone never makes it due
    assert (
        not schedule({Task.BACKFLUSH: Interval(shots=3, days=0)})
        .status(Task.BACKFLUSH, T0 + timedelta(days=3650))
        .due
    )


def test_days_only() -> None:
    sched = schedule({Task.DESCALE: Interval(shots=0, days=90)})
    shots(sched, 900)
    status = sched.status(Task.DESCALE, T0 + timedelta(days=89))
    assert not status.due
    assert status.shots_remaining is None
    assert status.shots_since == 900
    assert status.days_remaining == pytest.approx(1)
    due_at = T0 + timedelta(days=90)
    assert not sched.status(Task.DESCALE, due_at - timedelta(seconds=1)).due
    status = sched.status(Task.DESCALE, due_at)
    assert status.due
    assert status.due_at == due_at
    assert status.days_remaining == 0


def test_both_criteria_whichever_first() -> None:
    interval = {Task.BACKFLUSH: Interval(shots=20, days=7)}
    by_shots = schedule(interval)
    shots(by_shots, 20)
    assert by_shots.status(Task.BACKFLUSH, T0 + timedelta(days=1)).due

    by_days = schedule(interval)
    shots(by_days, 5)
    assert not by_days.status(Task.BACKFLUSH, T0 + timedelta(days=6)).due
    assert by_days.status(Task.BACKFLUSH, T0 + timedelta(days=7)).due


def test_disabled_task_never_due() -> None:
    sched = schedule(NO_DAYS)
    shots(sched, 5000)
    later = T0 + timedelta(days=5000)
    assert sched.due_tasks(later) == ()
    status = sched.status(Task.CLEAN, later)
    assert status.shots_remaining is None
    assert status.due_at is None
    assert sched.next_change(T0) is None


def test_due_tasks_order() -> None:
    sched = schedule()
    assert sched.due_tasks(T0 + timedelta(days=90)) == (Task.BACKFLUSH, Task.CLEAN, Task.DESCALE)


# --- mark_done -------------------------------------------------------------------------------


def test_clean_implies_backflush() -> None:
    sched = schedule()
    shots(sched, 150)
    assert sched.due_tasks(T0) == (Task.BACKFLUSH, Task.CLEAN)
    marked = sched.mark_done(Task.CLEAN, T0, now=T0)
    assert marked == (Task.CLEAN, Task.BACKFLUSH)
    assert sched.due_tasks(T0) == ()
    assert sched.status(Task.BACKFLUSH, T0).shots_since == 0
    assert sched.status(Task.DESCALE, T0).shots_since == 150


def test_backflush_does_not_imply_clean() -> None:
    sched = schedule()
    shots(sched, 150)
    assert sched.mark_done(Task.BACKFLUSH, T0, now=T0) == (Task.BACKFLUSH,)
    assert sched.due_tasks(T0) == (Task.CLEAN,)


def test_mark_done_restarts_days_rule() -> None:
    sched = schedule()
    later = T0 + timedelta(days=8)
    assert Task.BACKFLUSH in sched.due_tasks(later)
    sched.mark_done(Task.BACKFLUSH, later, now=later)
    status = sched.status(Task.BACKFLUSH, later)
    assert not status.due
    assert status.due_at == later + timedelta(days=7)


def test_mark_done_in_past_resets_count() -> None:
    sched = schedule()
    shots(sched, 25)
    now = T0 + timedelta(days=3)
    sched.mark_done(Task.BACKFLUSH, T0 + timedelta(days=1), now=now)
    status = sched.status(Task.BACKFLUSH, now)
    assert status.shots_since == 0
    assert status.last_done == T0 + timedelta(days=1)
    assert status.due_at == T0 + timedelta(days=8)


def test_mark_done_future_rejected() -> None:
    sched = schedule()
    with pytest.raises(DateInFutureError) as err:
        sched.mark_done(Task.CLEAN, T0 + timedelta(hours=1), now=T0)
    assert isinstance(err.value, MaintenanceError)
    assert err.value.translation_key == "date_in_future"
    assert sched.status(Task.CLEAN, T0).last_done == T0


def test_mark_done_slightly_future_clamped_to_now() -> None:
    sched = schedule(now=T0 - timedelta(days=1))
    sched.mark_done(Task.BACKFLUSH, T0 + FUTURE_TOLERANCE, now=T0)
    assert sched.status(Task.BACKFLUSH, T0).last_done == T0


def test_mark_done_before_recorded_date_keeps_count() -> None:
    """A correction to an earlier date: the count since then is at least the current one."""
    sched = schedule()
    shots(sched, 12)
    earlier = T0 - timedelta(days=3)
    assert sched.mark_done(Task.BACKFLUSH, earlier, now=T0) == (Task.BACKFLUSH,)
    status = sched.status(Task.BACKFLUSH, T0)
    assert status.last_done == earlier
    assert status.shots_since == 12
    assert status.due_at == earlier + timedelta(days=7)


def test_clean_before_later_backflush_keeps_backflush() -> None:
    sched = schedule()
    shots(sched, 4)
    now = T0 + timedelta(days=2)
    sched.mark_done(Task.BACKFLUSH, T0 + timedelta(days=1), now=now)
    shots(sched, 2)
    assert sched.mark_done(Task.CLEAN, T0 + timedelta(hours=1), now=now) == (Task.CLEAN,)
    backflush = sched.status(Task.BACKFLUSH, now)
    assert backflush.last_done == T0 + timedelta(days=1)
    assert backflush.shots_since == 2
    assert sched.status(Task.CLEAN, now).shots_since == 0


def test_naive_datetimes_rejected() -> None:
    sched = schedule()
    with pytest.raises(ValueError, match="aware"):
        sched.status(Task.CLEAN, datetime(2026, 6, 1))
    with pytest.raises(ValueError, match="aware"):
        sched.mark_done(Task.CLEAN, datetime(2026, 6, 1), now=T0)


# --- user-supplied records, adjust -----------------------------------------------------------


def test_user_supplied_last_done() -> None:
    records = {
        Task.BACKFLUSH: TaskRecord(last_done=T0 - timedelta(days=10), shots_since=3),
        Task.DESCALE: TaskRecord(last_done=T0 - timedelta(days=30)),
    }
    sched = schedule(records=records)
    assert sched.due_tasks(T0) == (Task.BACKFLUSH,)
    assert sched.status(Task.BACKFLUSH, T0).shots_since == 3
    assert sched.status(Task.CLEAN, T0).last_done == T0
    descale = sched.status(Task.DESCALE, T0)
    assert descale.days_remaining == pytest.approx(60)


def test_records_validated() -> None:
    with pytest.raises(ValueError, match="negative"):
        schedule(records={Task.CLEAN: TaskRecord(last_done=T0, shots_since=-1)})
    with pytest.raises(ValueError, match="aware"):
        schedule(records={Task.CLEAN: TaskRecord(last_done=datetime(2026, 1, 1))})


def test_adjust_shots_never_below_zero() -> None:
    sched = schedule()
    shots(sched, 3)
    sched.adjust_shots(-5)
    assert all(sched.status(task, T0).shots_since == 0 for task in Task)
    sched.adjust_shots(7, Task.CLEAN)
    assert sched.status(Task.CLEAN, T0).shots_since == 7
    assert sched.status(Task.BACKFLUSH, T0).shots_since == 0
    sched.adjust_shots(-2, Task.CLEAN)
    assert sched.status(Task.CLEAN, T0).shots_since == 5


def test_set_intervals_keeps_counters() -> None:
    sched = schedule()
    shots(sched, 10)
    assert sched.due_tasks(T0) == ()
    sched.set_intervals({Task.BACKFLUSH: Interval(shots=10, days=0)})
    assert sched.due_tasks(T0) == (Task.BACKFLUSH,)
    assert sched.intervals[Task.CLEAN] == DEFAULT_INTERVALS[Task.CLEAN]


# --- time zones and DST ----------------------------------------------------------------------


def test_spring_forward_same_wall_clock() -> None:
    """Europe/Amsterdam 2026-03-29 02:00 CET -> 03:00 CEST: 7 days are 6 d 23 h."""
    done = datetime(2026, 3, 25, 9, 0, tzinfo=AMS)
    sched = schedule(NO_DAYS | {Task.BACKFLUSH: Interval(shots=0, days=7)}, now=done)
    status = sched.status(Task.BACKFLUSH, done)
    assert status.due_at == datetime(2026, 4, 1, 9, 0, tzinfo=AMS)
    assert status.due_at is not None
    assert status.due_at.utcoffset() == timedelta(hours=2)
    due_utc = datetime(2026, 4, 1, 7, 0, tzinfo=UTC)
    assert not sched.status(Task.BACKFLUSH, due_utc - timedelta(seconds=1)).due
    assert sched.status(Task.BACKFLUSH, due_utc).due
    assert sched.status(Task.BACKFLUSH, done).days_remaining == pytest.approx(7 - 1 / 24)


def test_fall_back_same_wall_clock() -> None:
    """Europe/Amsterdam 2026-10-25 03:00 CEST -> 02:00 CET: 7 days are 7 d 1 h."""
    done = datetime(2026, 10, 22, 9, 0, tzinfo=AMS)
    sched = schedule(NO_DAYS | {Task.BACKFLUSH: Interval(shots=0, days=7)}, now=done)
    due_utc = datetime(2026, 10, 29, 8, 0, tzinfo=UTC)
    status = sched.status(Task.BACKFLUSH, done)
    assert status.due_at == due_utc
    assert status.due_at is not None
    assert status.due_at.astimezone(AMS).hour == 9
    assert not sched.status(Task.BACKFLUSH, due_utc - timedelta(seconds=1)).due
    # in local time: 08:59:59 is not due, 09:00 is
    assert not sched.status(Task.BACKFLUSH, datetime(2026, 10, 29, 8, 59, 59, tzinfo=AMS)).due
    assert sched.status(Task.BACKFLUSH, datetime(2026, 10, 29, 9, 0, tzinfo=AMS)).due
    assert sched.next_change(done) == due_utc


def test_nonexistent_local_time_shifts_forward() -> None:
    due = add_local_days(datetime(2026, 3, 22, 2, 30, tzinfo=AMS), 7, AMS)
    assert due == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert (due.hour, due.minute, due.utcoffset()) == (3, 30, timedelta(hours=2))


def test_ambiguous_local_time_first_occurrence() -> None:
    due = add_local_days(datetime(2026, 10, 18, 2, 30, tzinfo=AMS), 7, AMS)
    # PEP 495: an ambiguous local time never compares equal across zones; compare in UTC
    assert due.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert (due.hour, due.minute, due.fold) == (2, 30, 0)
    assert due.utcoffset() == timedelta(hours=2)
    # starting from the second occurrence, a week later is unambiguous
    second = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=AMS)
    assert second.utcoffset() == timedelta(hours=1)
    assert add_local_days(second, 7, AMS) == datetime(2026, 11, 1, 1, 30, tzinfo=UTC)


def test_utc_inputs_interpreted_in_schedule_tz() -> None:
    done_utc = datetime(2026, 3, 25, 8, 0, tzinfo=UTC)  # 09:00 CET
    sched = MaintenanceSchedule(
        NO_DAYS | {Task.BACKFLUSH: Interval(shots=0, days=7)}, tz=AMS, now=done_utc
    )
    assert sched.status(Task.BACKFLUSH, done_utc).due_at == datetime(2026, 4, 1, 7, 0, tzinfo=UTC)
    assert sched.status(Task.BACKFLUSH, done_utc).last_done.tzinfo is AMS


def test_next_change() -> None:
    sched = schedule()
    assert sched.next_change(T0) == T0 + timedelta(days=7)
    # once backflush is due, the next change is the clean
    assert sched.next_change(T0 + timedelta(days=7)) == T0 + timedelta(days=30)
    assert sched.next_change(T0 + timedelta(days=30)) == T0 + timedelta(days=90)
    assert sched.next_change(T0 + timedelta(days=90)) is None
    moment = sched.next_change(T0)
    assert moment is not None
    assert sched.due_tasks(moment) == (Task.BACKFLUSH,)
    assert sched.due_tasks(moment - timedelta(microseconds=1)) == ()
    # shots do not matter
    shots(sched, 1000)
    assert sched.next_change(T0) == T0 + timedelta(days=7)


# --- persistence -----------------------------------------------------------------------------


def test_roundtrip() -> None:
    sched = schedule()
    shots(sched, 9)
    sched.mark_done(Task.DESCALE, T0 - timedelta(days=2), now=T0)
    data = json.loads(json.dumps(sched.as_dict()))
    later = T0 + timedelta(days=1)
    restored = MaintenanceSchedule.from_dict(data, tz=AMS, now=later)
    assert restored.records == sched.records
    for task in Task:
        assert restored.status(task, later) == sched.status(task, later)


@pytest.mark.parametrize(
    "data",
    [
        None,
        42,
        "garbage",
        [],
        {},
        {"tasks": None},
        {"tasks": []},
        {"tasks": {"backflush": "x", "clean": None, "descale": 5}},
        {"tasks": {"backflush": {"last_done": "not a date", "shots_since": "many"}}},
        {"tasks": {"backflush": {"last_done": 12345, "shots_since": -4}}},
        {"tasks": {"backflush": {"last_done": None, "shots_since": True}}},
        {"tasks": {"backflush": {"last_done": "0001-01-01T00:00:00+05:00"}}},
        {"tasks": {"backflush": {"shots_since": float("nan")}}},
        {"tasks": {"backflush": {"shots_since": 1.5}}},
    ],
)
def test_from_dict_garbage_falls_back(data: object) -> None:
    sched = MaintenanceSchedule.from_dict(data, tz=AMS, now=T0)
    for task in Task:
        status = sched.status(task, T0)
        assert status.last_done == T0
        assert status.shots_since == 0
        assert not status.due


def test_from_dict_partial_and_lenient() -> None:
    data = {
        "tasks": {
            "backflush": {"last_done": "2026-05-20T09:00:00", "shots_since": 4.0},
            "clean": {"last_done": "2030-01-01T00:00:00+00:00", "shots_since": 7},
            "unknown": {"last_done": "2026-05-20T09:00:00+00:00"},
        }
    }
    sched = MaintenanceSchedule.from_dict(data, DEFAULT_INTERVALS, tz=AMS, now=T0)
    backflush = sched.status(Task.BACKFLUSH, T0)
    assert backflush.last_done == datetime(2026, 5, 20, 9, 0, tzinfo=AMS)  # naive read in tz
    assert backflush.shots_since == 4
    assert backflush.due
    clean = sched.status(Task.CLEAN, T0)
    assert clean.last_done == T0  # future clamped
    assert clean.shots_since == 7
    assert sched.status(Task.DESCALE, T0).last_done == T0


# --- snooze ----------------------------------------------------------------------------------


def due_backflush() -> MaintenanceSchedule:
    """A schedule whose backflush is due by shots at T0."""
    sched = schedule()
    shots(sched, 20)
    assert sched.status(Task.BACKFLUSH, T0).due
    return sched


def test_snooze_hides_due_until_its_end() -> None:
    sched = due_backflush()
    end = sched.snooze(Task.BACKFLUSH, now=T0, duration=timedelta(days=1))
    assert end == T0 + timedelta(days=1)
    assert end.tzinfo == AMS
    status = sched.status(Task.BACKFLUSH, T0)
    assert not status.due
    assert status.due_by_rules
    assert status.snoozed_until == end
    assert sched.due_tasks(T0) == ()
    # shots keep counting while snoozed
    shots(sched, 3)
    assert sched.status(Task.BACKFLUSH, T0).shots_since == 23
    # the end is the next change, and then the task is due again
    assert sched.next_change(T0) == end
    just_before = sched.status(Task.BACKFLUSH, end - timedelta(microseconds=1))
    assert not just_before.due
    after = sched.status(Task.BACKFLUSH, end)
    assert after.due
    assert after.snoozed_until is None
    # other tasks are untouched
    assert sched.status(Task.CLEAN, T0).snoozed_until is None


def test_snooze_until_and_not_due_task() -> None:
    sched = schedule()
    until = T0 + timedelta(days=10)  # after the 7-day backflush rule
    assert sched.snooze(Task.BACKFLUSH, now=T0, until=until.astimezone(UTC)) == until
    at_rule = T0 + timedelta(days=7)
    assert not sched.status(Task.BACKFLUSH, at_rule).due
    assert sched.status(Task.BACKFLUSH, at_rule).due_by_rules
    assert sched.status(Task.BACKFLUSH, until).due
    # a snooze of a task that is not due when it ends leaves it not due
    other = schedule()
    other.snooze(Task.CLEAN, now=T0, duration=timedelta(hours=1))
    assert not other.status(Task.CLEAN, T0 + timedelta(hours=2)).due


def test_new_snooze_replaces_running_one() -> None:
    sched = due_backflush()
    sched.snooze(Task.BACKFLUSH, now=T0, duration=timedelta(days=5))
    sched.snooze(Task.BACKFLUSH, now=T0, duration=timedelta(hours=2))
    assert sched.status(Task.BACKFLUSH, T0).snoozed_until == T0 + timedelta(hours=2)


def test_mark_done_ends_snooze() -> None:
    sched = due_backflush()
    sched.snooze(Task.BACKFLUSH, now=T0, duration=timedelta(days=1))
    sched.snooze(Task.DESCALE, now=T0, duration=timedelta(days=1))
    # a clean also does the backflush: both snoozes of the marked tasks end
    sched.snooze(Task.CLEAN, now=T0, duration=timedelta(days=1))
    sched.mark_done(Task.CLEAN, T0, now=T0)
    assert sched.status(Task.BACKFLUSH, T0).snoozed_until is None
    assert sched.status(Task.CLEAN, T0).snoozed_until is None
    assert sched.status(Task.DESCALE, T0).snoozed_until == T0 + timedelta(days=1)
    # done means not due, and nothing is left to wake up for but the rules
    shots(sched, 20)
    assert sched.status(Task.BACKFLUSH, T0).due


@pytest.mark.parametrize(
    "duration", [timedelta(0), SNOOZE_MIN - timedelta(seconds=1), SNOOZE_MAX + timedelta(seconds=1)]
)
def test_snooze_duration_bounds(duration: timedelta) -> None:
    sched = due_backflush()
    with pytest.raises(SnoozeDurationError) as err:
        sched.snooze(Task.BACKFLUSH, now=T0, duration=duration)
    assert err.value.placeholders["min"] == "1 h"
    assert err.value.placeholders["max"] == "30 d"
    assert isinstance(err.value, SnoozeError)
    assert isinstance(err.value, MaintenanceError)
    assert sched.status(Task.BACKFLUSH, T0).due


@pytest.mark.parametrize("duration", [SNOOZE_MIN, SNOOZE_MAX, timedelta(days=1, hours=12)])
def test_snooze_duration_inside_bounds(duration: timedelta) -> None:
    sched = due_backflush()
    assert sched.snooze(Task.BACKFLUSH, now=T0, duration=duration) == T0 + duration


def test_snooze_until_bounds() -> None:
    sched = due_backflush()
    with pytest.raises(SnoozeUntilInPastError) as past:
        sched.snooze(Task.BACKFLUSH, now=T0, until=T0)
    assert past.value.placeholders == {"until": T0.isoformat()}
    with pytest.raises(SnoozeUntilTooFarError):
        sched.snooze(Task.BACKFLUSH, now=T0, until=T0 + SNOOZE_MAX + timedelta(seconds=1))
    with pytest.raises(ValueError, match="aware"):
        sched.snooze(Task.BACKFLUSH, now=T0, until=datetime(2026, 6, 2))
    with pytest.raises(ValueError, match="exactly one"):
        sched.snooze(Task.BACKFLUSH, now=T0)
    with pytest.raises(ValueError, match="exactly one"):
        sched.snooze(
            Task.BACKFLUSH, now=T0, duration=timedelta(hours=1), until=T0 + timedelta(hours=2)
        )
    assert sched.snooze(Task.BACKFLUSH, now=T0, until=T0 + timedelta(minutes=1))
    assert sched.status(Task.BACKFLUSH, T0).snoozed_until == T0 + timedelta(minutes=1)


def test_snooze_roundtrip_and_expiry() -> None:
    sched = due_backflush()
    sched.snooze(Task.BACKFLUSH, now=T0, duration=timedelta(days=2))
    data = json.loads(json.dumps(sched.as_dict()))
    assert data["tasks"]["backflush"]["snoozed_until"] == (T0 + timedelta(days=2)).isoformat()
    assert "snoozed_until" not in data["tasks"]["clean"]
    later = T0 + timedelta(days=1)
    restored = MaintenanceSchedule.from_dict(data, tz=AMS, now=later)
    assert restored.status(Task.BACKFLUSH, later) == sched.status(Task.BACKFLUSH, later)
    assert restored.status(Task.BACKFLUSH, later).snoozed_until == T0 + timedelta(days=2)
    # restored after the end: dropped, due again
    ended = MaintenanceSchedule.from_dict(data, tz=AMS, now=T0 + timedelta(days=3))
    assert "snoozed_until" not in ended.as_dict()["tasks"]["backflush"]
    assert ended.status(Task.BACKFLUSH, T0 + timedelta(days=3)).due


@pytest.mark.parametrize("value", ["garbage", 12, None, "2026-05-01T00:00:00+00:00"])
def test_snooze_from_dict_garbage_dropped(value: object) -> None:
    data = {"tasks": {"backflush": {"last_done": T0.isoformat(), "snoozed_until": value}}}
    sched = MaintenanceSchedule.from_dict(data, tz=AMS, now=T0)
    assert sched.status(Task.BACKFLUSH, T0).snoozed_until is None
    assert sched.next_change(T0) == T0 + timedelta(days=7)


def test_snooze_from_dict_too_far_clamped() -> None:
    data = {
        "tasks": {
            "backflush": {"last_done": T0.isoformat(), "snoozed_until": "2027-06-01T00:00:00+00:00"}
        }
    }
    sched = MaintenanceSchedule.from_dict(data, tz=AMS, now=T0)
    assert sched.status(Task.BACKFLUSH, T0).snoozed_until == T0 + SNOOZE_MAX


def test_passed_snooze_dropped_on_next_snooze() -> None:
    sched = due_backflush()
    sched.snooze(Task.CLEAN, now=T0, duration=timedelta(hours=1))
    later = T0 + timedelta(hours=2)
    sched.snooze(Task.BACKFLUSH, now=later, duration=timedelta(hours=1))
    assert list(sched.as_dict()["tasks"]["clean"]) == ["last_done", "shots_since"]


# --- shot time drift -------------------------------------------------------------------------


def feed(drift: ShotTimeDrift, *durations: float) -> None:
    for duration in durations:
        drift.add(duration)


def test_drift_needs_min_baseline() -> None:
    drift = ShotTimeDrift()
    feed(drift, *[25.0] * 7, 40, 40, 40)
    assert drift.baseline is None
    assert drift.recent == 40
    assert not drift.is_drifting
    drift.add(40)  # the oldest 40 joins the baseline: 8 shots now
    assert drift.baseline == 25
    assert drift.is_drifting


def test_drift_on_and_off() -> None:
    drift = ShotTimeDrift()
    feed(drift, *[25.0] * 20)
    assert drift.baseline == 25
    assert drift.recent == 25
    assert not drift.is_drifting
    drift.add(35)
    assert not drift.is_drifting  # one slow shot: the median of the window is still 25
    drift.add(35)
    assert drift.recent == 35
    assert drift.is_drifting  # 35 > 25 * 1.25
    feed(drift, 25, 25)
    assert drift.recent == 25
    assert not drift.is_drifting


def test_drift_threshold_boundary() -> None:
    drift = ShotTimeDrift(threshold_percent=20)
    feed(drift, *[25.0] * 10, 30, 30, 30)
    assert drift.recent == 30
    assert not drift.is_drifting  # 30 == 25 * 1.2: not markedly longer
    drift.add(30.5)
    assert drift.baseline == 25
    assert drift.recent == 30
    drift.add(30.5)
    assert drift.recent == 30.5
    assert drift.is_drifting
    drift.threshold_percent = 25
    assert not drift.is_drifting


@pytest.mark.parametrize("threshold", [4.9, 100.1, 0, -5])
def test_drift_threshold_range(threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold_percent"):
        ShotTimeDrift(threshold_percent=threshold)


@pytest.mark.parametrize("threshold", [5, 100])
def test_drift_threshold_range_inside(threshold: float) -> None:
    assert ShotTimeDrift(threshold_percent=threshold).threshold_percent == threshold


def test_drift_reset_clears_recent_keeps_baseline() -> None:
    drift = ShotTimeDrift()
    feed(drift, *[25.0] * 12, 40, 40, 40)
    assert drift.is_drifting
    drift.reset()
    assert not drift.is_drifting
    assert drift.recent is None
    assert drift.baseline == 25
    feed(drift, 26, 24, 25)
    assert drift.recent == 25
    assert not drift.is_drifting
    # the slow pre-clean shots did not pollute the baseline
    assert drift.as_dict()["baseline"] == [25.0] * 12


def test_drift_ignores_invalid_and_is_bounded() -> None:
    drift = ShotTimeDrift(baseline_size=5, recent_size=2, min_baseline=3)
    feed(drift, float("nan"), float("inf"), 0, -3)
    assert drift.as_dict() == {"baseline": [], "recent": []}
    feed(drift, *range(1, 101))
    data = drift.as_dict()
    assert data == {"baseline": [94.0, 95.0, 96.0, 97.0, 98.0], "recent": [99.0, 100.0]}


def test_drift_window_validation() -> None:
    with pytest.raises(ValueError, match="window"):
        ShotTimeDrift(recent_size=0)
    with pytest.raises(ValueError, match="min_baseline"):
        ShotTimeDrift(baseline_size=5, min_baseline=6)


def test_drift_roundtrip_and_garbage() -> None:
    drift = ShotTimeDrift()
    feed(drift, *[25.0] * 12, 40, 40, 40)
    restored = ShotTimeDrift.from_dict(json.loads(json.dumps(drift.as_dict())))
    assert restored.as_dict() == drift.as_dict()
    assert restored.is_drifting
    for garbage in (None, "x", {"baseline": "x", "recent": {}}, {"baseline": [1, "a", True]}):
        assert ShotTimeDrift.from_dict(garbage).as_dict()["recent"] == []
    bounded = ShotTimeDrift.from_dict(
        {"baseline": [20.0] * 500, "recent": [30.0, None, -1, 31.0, 32.0, 33.0]}
    )
    assert bounded.as_dict() == {"baseline": [20.0] * 20, "recent": [31.0, 32.0, 33.0]}


def test_user_supplied_future_date_rejected() -> None:
    with pytest.raises(DateInFutureError):
        schedule(records={Task.CLEAN: TaskRecord(last_done=T0 + timedelta(days=1))})
    sched = schedule(records={Task.CLEAN: TaskRecord(last_done=T0 + timedelta(minutes=1))})
    assert sched.status(Task.CLEAN, T0).last_done == T0
    assert sched.tz is AMS


def test_intervals_from_options() -> None:
    assert intervals_from_options({}) == dict(DEFAULT_INTERVALS)
    options = {
        "backflush_every_shots": 30.0,
        "backflush_every_days": 0,
        "clean_every_shots": "x",
        "clean_every_days": 5000,
        "descale_every_shots": float("nan"),
        "descale_every_days": True,
    }
    assert intervals_from_options(options) == {
        Task.BACKFLUSH: Interval(shots=30, days=0),
        Task.CLEAN: Interval(shots=140, days=730),
        Task.DESCALE: Interval(shots=0, days=90),
    }
