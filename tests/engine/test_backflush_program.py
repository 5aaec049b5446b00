"""Tests for the backflush program and its run state machine."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.espresso_care.engine.backflush import (
    MAX_TOTAL_SECONDS,
    Aborted,
    AbortReason,
    BackflushProgram,
    BackflushRun,
    Command,
    Finished,
    Phase,
    ProgramError,
    RinseNow,
    RunState,
    RunStateError,
    Step,
    StepKind,
    SwitchOff,
    SwitchOn,
)
from custom_components.espresso_care.engine.maintenance import Task

ON, OFF, PAUSE = StepKind.ON, StepKind.OFF, StepKind.RINSE_PAUSE


def drive(
    run: BackflushRun, *, start: float = 0.0, lateness: float = 0.0, pump_watts: float = 100.0
) -> list[Command]:
    """Run to the end; feed a pump reading in every on-period and idle readings in between."""
    run.observe_power(start - 1, 2.0)
    commands = run.start(start)
    while run.running:
        deadline = run.next_deadline
        assert deadline is not None
        step = run.current_step
        assert step is not None
        if step.kind is ON:
            run.observe_power(deadline - step.seconds / 2, pump_watts)
        else:
            run.observe_power(deadline - step.seconds / 2, 2.0)
        commands += run.advance(deadline + lateness)
    return commands


def switch_commands(commands: list[Command]) -> list[type]:
    return [type(c) for c in commands if isinstance(c, SwitchOn | SwitchOff)]


# --- program ---------------------------------------------------------------------------------


def test_backflush_defaults() -> None:
    program = BackflushProgram.build()
    assert program.task is Task.BACKFLUSH
    assert (program.cycles, program.on_seconds, program.off_seconds) == (5, 10, 10)
    assert program.rinse_cycles == 0
    assert program.total_seconds == 90
    assert program.on_periods == 5
    assert program == BackflushProgram()


def test_clean_defaults() -> None:
    program = BackflushProgram.build(task="clean")
    assert program.task is Task.CLEAN
    assert (program.cycles, program.on_seconds, program.off_seconds) == (5, 10, 10)
    assert (program.rinse_cycles, program.rinse_pause_seconds) == (5, 60)
    assert program.total_seconds == 90 + 60 + 90
    assert program.on_periods == 10


def test_backflush_steps_exact() -> None:
    program = BackflushProgram.build(cycles=3, on_seconds=8, off_seconds=12)
    assert program.steps == (
        Step(kind=ON, seconds=8, phase=Phase.BACKFLUSH, cycle=1),
        Step(kind=OFF, seconds=12, phase=Phase.BACKFLUSH, cycle=1),
        Step(kind=ON, seconds=8, phase=Phase.BACKFLUSH, cycle=2),
        Step(kind=OFF, seconds=12, phase=Phase.BACKFLUSH, cycle=2),
        Step(kind=ON, seconds=8, phase=Phase.BACKFLUSH, cycle=3),
    )
    assert program.total_seconds == 3 * 8 + 2 * 12


def test_clean_steps_exact() -> None:
    program = BackflushProgram.build(
        task=Task.CLEAN,
        cycles=2,
        on_seconds=10,
        off_seconds=5,
        rinse_cycles=2,
        rinse_pause_seconds=45,
    )
    assert program.steps == (
        Step(kind=ON, seconds=10, phase=Phase.DETERGENT, cycle=1),
        Step(kind=OFF, seconds=5, phase=Phase.DETERGENT, cycle=1),
        Step(kind=ON, seconds=10, phase=Phase.DETERGENT, cycle=2),
        Step(kind=PAUSE, seconds=45, phase=Phase.RINSE, cycle=0),
        Step(kind=ON, seconds=10, phase=Phase.RINSE, cycle=1),
        Step(kind=OFF, seconds=5, phase=Phase.RINSE, cycle=1),
        Step(kind=ON, seconds=10, phase=Phase.RINSE, cycle=2),
    )
    assert program.total_seconds == 20 + 5 + 45 + 20 + 5


def test_clean_rinse_pause_never_shorter_than_off() -> None:
    program = BackflushProgram.build(task="clean", off_seconds=20, rinse_pause_seconds=0)
    pauses = [step for step in program.steps if step.kind is PAUSE]
    assert [step.seconds for step in pauses] == [20]


def test_clean_without_rinse() -> None:
    program = BackflushProgram.build(task="clean", cycles=2, rinse_cycles=0)
    assert [step.kind for step in program.steps] == [ON, OFF, ON]
    assert {step.phase for step in program.steps} == {Phase.DETERGENT}
    assert not any(isinstance(c, RinseNow) for c in drive(BackflushRun(program)))


def test_backflush_ignores_rinse_settings_in_build() -> None:
    program = BackflushProgram.build(task="backflush", rinse_cycles=7, rinse_pause_seconds=10)
    assert program.rinse_cycles == 0
    assert [step.kind for step in program.steps].count(PAUSE) == 0
    with pytest.raises(ProgramError) as err:
        BackflushProgram.build(task="backflush", rinse_cycles=21)
    assert err.value.key == "rinse_cycles_out_of_range"


def test_direct_construction_validates() -> None:
    with pytest.raises(ProgramError) as err:
        BackflushProgram(task=Task.BACKFLUSH, rinse_cycles=3)
    assert err.value.key == "rinse_requires_clean"
    with pytest.raises(ProgramError) as err:
        BackflushProgram(cycles=0)
    assert err.value.key == "cycles_out_of_range"
    assert BackflushProgram(task="clean", rinse_cycles=1).task is Task.CLEAN  # type: ignore[arg-type]


@pytest.mark.parametrize("task", ["descale", "espresso", "", Task.DESCALE])
def test_invalid_task(task: str) -> None:
    with pytest.raises(ProgramError) as err:
        BackflushProgram.build(task=task)
    assert err.value.key == "invalid_task"
    with pytest.raises(ProgramError):
        BackflushProgram(task=task)  # type: ignore[arg-type]


BOUNDS = [
    ("cycles", 1, 20),
    ("on_seconds", 1, 30),
    ("off_seconds", 1, 60),
    ("rinse_cycles", 0, 20),
    ("rinse_pause_seconds", 0, 900),
]


def small_clean(**overrides: int) -> dict[str, Any]:
    """A clean short enough that only the field under test can break the 20 minutes."""
    values: dict[str, Any] = {
        "task": "clean",
        "cycles": 1,
        "on_seconds": 1,
        "off_seconds": 1,
        "rinse_cycles": 1,
        "rinse_pause_seconds": 0,
    }
    values.update(overrides)
    return values


@pytest.mark.parametrize(("field", "low", "high"), BOUNDS)
def test_bounds_just_inside(field: str, low: int, high: int) -> None:
    for value in (low, high):
        program = BackflushProgram.build(**small_clean(**{field: value}))
        assert getattr(program, field) == value


@pytest.mark.parametrize(("field", "low", "high"), BOUNDS)
def test_bounds_just_outside(field: str, low: int, high: int) -> None:
    for value in (low - 1, high + 1):
        with pytest.raises(ProgramError) as err:
            BackflushProgram.build(**small_clean(**{field: value}))
        assert err.value.key == f"{field}_out_of_range"
        assert err.value.placeholders == {"value": str(value), "min": str(low), "max": str(high)}


@pytest.mark.parametrize("value", [1.5, "5", True, None])
def test_non_integer_values(value: object) -> None:
    if value is None:  # None means "default"
        assert BackflushProgram.build(cycles=None).cycles == 5
        return
    with pytest.raises(ProgramError) as err:
        BackflushProgram.build(cycles=value)  # type: ignore[arg-type]
    assert err.value.key == "invalid_value"
    assert err.value.placeholders["field"] == "cycles"


def test_direct_construction_rejects_non_int() -> None:
    with pytest.raises(ProgramError) as err:
        BackflushProgram(on_seconds=2.5)  # type: ignore[arg-type]
    assert err.value.key == "invalid_value"
    assert err.value.placeholders == {"field": "on_seconds", "value": "2.5"}


def test_integral_float_accepted() -> None:
    assert BackflushProgram.build(cycles=6.0, on_seconds=12.0).cycles == 6  # type: ignore[arg-type]


def test_total_limit() -> None:
    exactly = BackflushProgram.build(cycles=16, on_seconds=30, off_seconds=48)
    assert exactly.total_seconds == MAX_TOTAL_SECONDS
    with pytest.raises(ProgramError) as err:
        BackflushProgram.build(cycles=16, on_seconds=30, off_seconds=49)
    assert err.value.key == "total_too_long"
    assert err.value.placeholders["total"] == "1215"
    assert err.value.placeholders["max"] == "1200"
    assert err.value.placeholders["max_minutes"] == "20"
    with pytest.raises(ProgramError) as err:
        BackflushProgram.build(task="clean", cycles=10, rinse_cycles=10, rinse_pause_seconds=900)
    assert err.value.key == "total_too_long"


def test_program_as_dict_roundtrip() -> None:
    program = BackflushProgram.build(task="clean", cycles=4, rinse_cycles=2)
    data = program.as_dict()
    assert data == {
        "task": "clean",
        "cycles": 4,
        "on_seconds": 10,
        "off_seconds": 10,
        "rinse_cycles": 2,
        "rinse_pause_seconds": 60,
        "total_seconds": 40 + 30 + 60 + 20 + 10,
    }
    assert BackflushProgram.from_dict(data) == program


def test_program_error_message() -> None:
    err = ProgramError("cycles_out_of_range", {"value": "0"})
    assert str(err) == "cycles_out_of_range (value=0)"
    assert str(ProgramError("x")) == "x"


# --- run -------------------------------------------------------------------------------------


def test_run_backflush_sequence() -> None:
    run = BackflushRun(BackflushProgram.build(cycles=2, on_seconds=10, off_seconds=5))
    assert run.state is RunState.IDLE
    assert run.next_deadline is None
    run.observe_power(-1, 3)
    assert run.start(100) == [SwitchOn(at=100)]
    assert run.running
    assert run.next_deadline == 110
    assert run.advance(109.9) == []
    run.observe_power(103, 80)
    assert run.advance(110) == [SwitchOff(at=110)]
    assert run.cycles_done == 1
    assert run.next_deadline == 115
    assert run.advance(115) == [SwitchOn(at=115)]
    assert run.advance(125) == [
        SwitchOff(at=125),
        Finished(at=125, task=Task.BACKFLUSH, cycles_done=2, duration_s=25),
    ]
    assert run.state is RunState.FINISHED
    assert not run.running
    assert run.next_deadline is None
    assert run.advance(200) == []
    assert run.abort(200, AbortReason.USER) == []


def test_run_clean_sequence() -> None:
    program = BackflushProgram.build(
        task="clean", cycles=2, on_seconds=10, off_seconds=5, rinse_cycles=1, rinse_pause_seconds=30
    )
    commands = drive(BackflushRun(program))
    assert commands == [
        SwitchOn(at=0),
        SwitchOff(at=10),
        SwitchOn(at=15),
        SwitchOff(at=25),
        RinseNow(at=25, pause_seconds=30),
        SwitchOn(at=55),
        SwitchOff(at=65),
        Finished(at=65, task=Task.CLEAN, cycles_done=3, duration_s=65),
    ]


def test_late_advance_never_shortens_steps() -> None:
    run = BackflushRun(BackflushProgram.build(cycles=2), supervise_pump=False)
    run.start(0)
    assert run.advance(13) == [SwitchOff(at=13)]  # timer 3 s late: the pump ran 13 s
    assert run.next_deadline == 23  # the pause still lasts 10 s
    assert run.advance(60) == [SwitchOn(at=60)]  # one transition per call, nothing skipped
    assert run.next_deadline == 70


def test_slightly_early_timer_counts() -> None:
    run = BackflushRun(BackflushProgram.build(cycles=2), supervise_pump=False)
    run.start(0)
    assert run.advance(9.9) == []
    assert run.advance(9.97) == [SwitchOff(at=9.97)]
    assert run.next_deadline == pytest.approx(19.97)


def test_start_twice_rejected() -> None:
    run = BackflushRun(BackflushProgram.build())
    run.start(0)
    with pytest.raises(RunStateError):
        run.start(1)


def test_invalid_pump_min_watts() -> None:
    with pytest.raises(ValueError, match="pump_min_watts"):
        BackflushRun(BackflushProgram.build(), pump_min_watts=0)


def test_progress_monotone_zero_to_hundred() -> None:
    program = BackflushProgram.build(task="clean", cycles=3, rinse_cycles=2, rinse_pause_seconds=40)
    run = BackflushRun(program, supervise_pump=False)
    assert run.progress(0) == 0
    run.start(0)
    seen = [run.progress(0)]
    now = 0.0
    while run.running:
        now += 0.7
        seen.append(run.progress(now))
        run.advance(now)
        seen.append(run.progress(now))
    assert seen[0] == 0
    assert seen[-1] == 100
    assert all(a <= b for a, b in pairwise(seen))
    assert any(0 < value < 100 for value in seen)


def test_progress_halfway_and_after_abort() -> None:
    run = BackflushRun(BackflushProgram.build(cycles=1, on_seconds=20), supervise_pump=False)
    run.start(0)
    assert run.progress(10) == 50
    run.abort(10, "user")
    assert run.progress(15) == 50


# --- abort -----------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", list(AbortReason))
@pytest.mark.parametrize("at_step", range(7))
def test_abort_always_ends_with_switch_off(reason: AbortReason, at_step: int) -> None:
    program = BackflushProgram.build(task="clean", cycles=2, rinse_cycles=2)
    run = BackflushRun(program, supervise_pump=False)
    commands = run.start(0)
    now = 0.0
    for _ in range(at_step):
        now = run.next_deadline or now
        commands += run.advance(now)
    ended = run.abort(now + 1, reason)
    assert ended[0] == SwitchOff(at=now + 1)
    assert isinstance(ended[1], Aborted)
    assert ended[1].reason is reason
    assert ended[1].cycles_done == run.cycles_done
    assert len(ended) == 2
    assert run.state is RunState.ABORTED
    assert run.end_reason is reason
    assert run.as_dict()["end_reason"] == str(reason)
    assert run.as_dict()["ended_at"] == now + 1
    assert BackflushRun.restore(run.as_dict()) is None
    assert run.abort(now + 2, reason) == []
    assert run.advance(now + 1000) == []


def test_abort_before_start_is_noop() -> None:
    run = BackflushRun(BackflushProgram.build())
    assert run.abort(0, "user") == []
    assert run.state is RunState.IDLE


def test_abort_unknown_reason_rejected() -> None:
    run = BackflushRun(BackflushProgram.build())
    run.start(0)
    with pytest.raises(ValueError, match="bogus"):
        run.abort(1, "bogus")
    assert run.running


# --- pump supervision ------------------------------------------------------------------------


def test_no_pump_activity_aborts_after_second_on_period() -> None:
    run = BackflushRun(BackflushProgram.build(cycles=5))
    run.observe_power(-1, 3)
    run.start(0)
    run.observe_power(5, 10)  # +7 W: not the pump
    assert run.advance(10) == [SwitchOff(at=10)]
    assert run.advance(20) == [SwitchOn(at=20)]
    run.observe_power(25, 22.9)  # reference is 10 W now: +12.9 W
    assert run.advance(30) == [
        SwitchOff(at=30),
        Aborted(
            at=30,
            task=Task.BACKFLUSH,
            reason=AbortReason.NO_PUMP_ACTIVITY,
            cycles_done=2,
            duration_s=30,
        ),
    ]
    assert not run.pump_seen


def test_no_samples_at_all_aborts() -> None:
    run = BackflushRun(BackflushProgram.build())
    run.start(0)
    run.advance(10)
    run.advance(20)
    commands = run.advance(30)
    assert isinstance(commands[-1], Aborted)
    assert commands[-1].reason is AbortReason.NO_PUMP_ACTIVITY
    assert commands[0] == SwitchOff(at=30)


def test_pump_seen_in_second_on_period_continues() -> None:
    run = BackflushRun(BackflushProgram.build(cycles=3))
    run.observe_power(-1, 3)
    run.start(0)
    run.advance(10)
    run.advance(20)
    run.observe_power(21, 23)  # exactly +20 W counts
    assert run.pump_seen
    assert run.advance(30) == [SwitchOff(at=30)]


def test_no_abort_after_pump_seen() -> None:
    run = BackflushRun(BackflushProgram.build(cycles=5))
    run.observe_power(-1, 3)
    run.start(0)
    run.observe_power(2, 60)
    commands: list[Command] = []
    now = 0.0
    while run.running:
        now = run.next_deadline or now
        commands += run.advance(now)  # no more readings at all: the plug went quiet
    assert isinstance(commands[-1], Finished)
    assert commands[-1].cycles_done == 5


def test_sample_before_on_period_does_not_count() -> None:
    run = BackflushRun(BackflushProgram.build(cycles=2))
    run.observe_power(-5, 3)
    run.start(0)
    run.observe_power(-0.5, 90)  # delivered late, taken before the switch-on
    assert not run.pump_seen
    run.observe_power(0.5, float("nan"))
    assert not run.pump_seen


def test_out_of_order_sample_does_not_replace_reference() -> None:
    run = BackflushRun(BackflushProgram.build(cycles=2))
    run.observe_power(-1, 3)
    run.observe_power(-5, 200)  # older reading delivered late
    run.start(0)
    run.observe_power(1, 30)
    assert run.pump_seen  # reference stayed 3 W


def test_samples_in_off_period_do_not_count() -> None:
    run = BackflushRun(BackflushProgram.build(cycles=2))
    run.observe_power(-1, 3)
    run.start(0)
    run.advance(10)
    run.observe_power(15, 500)  # heater during the pause
    assert not run.pump_seen


def test_without_reference_the_rise_within_the_period_counts() -> None:
    run = BackflushRun(BackflushProgram.build(cycles=2))
    run.start(0)
    run.observe_power(1, 4)
    assert not run.pump_seen
    run.observe_power(2, 40)
    assert run.pump_seen


def test_single_on_period_without_pump_aborts_instead_of_finishing() -> None:
    run = BackflushRun(BackflushProgram.build(cycles=1))
    run.observe_power(-1, 3)
    run.start(0)
    commands = run.advance(10)
    assert commands[0] == SwitchOff(at=10)
    assert isinstance(commands[1], Aborted)
    assert commands[1].reason is AbortReason.NO_PUMP_ACTIVITY


def test_custom_pump_min_watts() -> None:
    run = BackflushRun(BackflushProgram.build(), pump_min_watts=50)
    run.observe_power(-1, 3)
    run.start(0)
    run.observe_power(1, 40)
    assert not run.pump_seen
    run.observe_power(2, 53)
    assert run.pump_seen


# --- persistence -----------------------------------------------------------------------------


def test_restore_running_run_can_only_be_aborted() -> None:
    program = BackflushProgram.build(task="clean", cycles=3)
    run = BackflushRun(program, supervise_pump=False)
    run.start(1000.0)
    run.advance(1010.0)
    data = run.as_dict()
    assert data["state"] == "running"
    assert data["started_at"] == 1000.0
    assert data["cycles_done"] == 1
    assert data["ended_at"] is None
    assert data["end_reason"] is None

    restored = BackflushRun.restore(data)
    assert restored is not None
    assert restored.program == program
    assert restored.running
    assert restored.next_deadline is None
    assert restored.advance(5000) == []
    assert restored.abort(1100.0, AbortReason.RESTART) == [
        SwitchOff(at=1100.0),
        Aborted(
            at=1100.0, task=Task.CLEAN, reason=AbortReason.RESTART, cycles_done=1, duration_s=100.0
        ),
    ]


@pytest.mark.parametrize(
    "data",
    [None, "x", {}, {"state": "finished"}, {"state": "aborted", "program": {}}, {"state": "idle"}],
)
def test_restore_nothing_running(data: object) -> None:
    assert BackflushRun.restore(data) is None


def test_restore_garbage_program_falls_back() -> None:
    restored = BackflushRun.restore(
        {"state": "running", "program": {"cycles": 999}, "started_at": "x", "cycles_done": -3}
    )
    assert restored is not None
    assert restored.program == BackflushProgram.build()
    restored = BackflushRun.restore(
        {"state": "running", "program": "x", "started_at": float("nan"), "cycles_done": "2"}
    )
    assert restored is not None
    assert restored.program == BackflushProgram.build()
    assert restored.started_at is None
    commands = restored.abort(50.0, "restart")
    assert commands[0] == SwitchOff(at=50.0)
    assert isinstance(commands[1], Aborted)
    assert commands[1].cycles_done == 0
    assert commands[1].duration_s == 0


# --- properties ------------------------------------------------------------------------------


@st.composite
def programs(draw: st.DrawFn) -> BackflushProgram:
    task = draw(st.sampled_from([Task.BACKFLUSH, Task.CLEAN]))
    cycles = draw(st.integers(1, 20))
    on = draw(st.integers(1, 30))
    off = draw(st.integers(1, 60))
    rinse = draw(st.integers(0, 20))
    pause = draw(st.integers(0, 900))
    try:
        return BackflushProgram.build(
            task=task,
            cycles=cycles,
            on_seconds=on,
            off_seconds=off,
            rinse_cycles=rinse,
            rinse_pause_seconds=pause,
        )
    except ProgramError as err:
        if err.key != "total_too_long":
            raise
        return BackflushProgram.build(task=task, cycles=cycles, on_seconds=1, off_seconds=1)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=programs(), lateness=st.floats(0, 5), start=st.floats(0, 2e9))
def test_property_complete_run_alternates(
    program: BackflushProgram, lateness: float, start: float
) -> None:
    assert program.total_seconds <= MAX_TOTAL_SECONDS
    kinds = [step.kind for step in program.steps]
    assert kinds[0] is ON
    assert kinds[-1] is ON
    assert all((a is ON) != (b is ON) for a, b in pairwise(kinds))

    run = BackflushRun(program)
    commands = drive(run, start=start, lateness=lateness)
    switches = switch_commands(commands)
    assert switches == [SwitchOn, SwitchOff] * program.on_periods
    assert isinstance(commands[-1], Finished)
    assert isinstance(commands[-2], SwitchOff)
    assert commands[-1].cycles_done == program.on_periods
    assert run.progress(commands[-1].at) == 100
    rinse_now = [c for c in commands if isinstance(c, RinseNow)]
    assert len(rinse_now) == (1 if program.task is Task.CLEAN and program.rinse_cycles else 0)


@settings(max_examples=150, deadline=None)
@given(
    program=programs(),
    stop_after=st.integers(0, 60),
    reason=st.sampled_from(list(AbortReason)),
    pump=st.booleans(),
)
def test_property_every_end_switches_off_last(
    program: BackflushProgram, stop_after: int, reason: AbortReason, pump: bool
) -> None:
    run = BackflushRun(program)
    run.observe_power(-1, 2)
    commands = run.start(0)
    now = 0.0
    for _ in range(stop_after):
        if not run.running:
            break
        now = run.next_deadline or now
        if pump:
            run.observe_power(now - 0.1, 150)
        commands += run.advance(now)
    commands += run.abort(now + 0.5, reason)
    assert not run.running
    assert isinstance(commands[-1], Finished | Aborted)
    assert isinstance(commands[-2], SwitchOff)
    switches = switch_commands(commands)
    assert switches[0] is SwitchOn
    assert switches[-1] is SwitchOff
    # never two switch-ons in a row
    assert all(not (a is SwitchOn and b is SwitchOn) for a, b in pairwise(switches))


def test_off_unconfirmed_turns_a_finish_into_an_abort() -> None:
    """A finished run whose final switch-off was not confirmed is reported as an abort."""
    run = BackflushRun(BackflushProgram.build(cycles=1, on_seconds=10))
    run.observe_power(-1, 3)
    run.start(100)
    run.observe_power(105, 80)
    assert run.advance(110)[-1] == Finished(
        at=110, task=Task.BACKFLUSH, cycles_done=1, duration_s=10
    )
    assert run.off_unconfirmed() == Aborted(
        at=110,
        task=Task.BACKFLUSH,
        reason=AbortReason.SWITCH_UNAVAILABLE,
        cycles_done=1,
        duration_s=10,
    )
    assert run.state is RunState.ABORTED
    assert run.end_reason is AbortReason.SWITCH_UNAVAILABLE
    assert run.as_dict()["state"] == "aborted"
    # Only a finished run can be turned into an abort.
    with pytest.raises(RunStateError):
        run.off_unconfirmed()
    with pytest.raises(RunStateError):
        BackflushRun(BackflushProgram.build()).off_unconfirmed()
