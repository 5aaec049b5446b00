"""Unit tests of the shot detector, one scenario per test (no Home Assistant)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pytest

from custom_components.espresso_care.engine.events import (
    MachineState,
    ShotDiscarded,
    ShotFinished,
    ShotStarted,
)
from custom_components.espresso_care.engine.units import to_watts
from tests.engine.signals import (
    ROTARY,
    T0,
    backflushes,
    detector,
    discarded,
    full_between,
    on_change,
    pid_idle,
    pid_response,
    run,
    sample,
    shots,
    started,
    states,
    thermostat,
)

if TYPE_CHECKING:
    from custom_components.espresso_care.engine.detector import ShotDetector

WARM = 600.0  # seconds of idle first, so the detector has learned the heater step


def pid_machine(
    seconds: float, pump: list[tuple[float, float]], *, respond: bool = True
) -> list[tuple[float, float | None]]:
    """A warm single boiler under PID whose heater answers the cold water of a pump run."""
    heater = pid_response(pid_idle(), pump) if respond else pid_idle()
    return sample(seconds, heater=heater, pump=pump)


def test_clean_shot() -> None:
    events = run(detector(), pid_machine(WARM + 200, [(WARM, WARM + 30)]))
    [shot] = shots(events)
    assert shot.start == pytest.approx(T0 + WARM, abs=1.0)
    assert shot.duration == pytest.approx(30.0, abs=1.5)
    assert started(events)[0].start == shot.start
    assert events.index(started(events)[0]) < events.index(shot)


def test_pre_infusion_split_is_one_shot() -> None:
    pump = [(WARM, WARM + 5), (WARM + 10, WARM + 36)]
    [shot] = shots(run(detector(), pid_machine(WARM + 200, pump)))
    assert shot.duration == pytest.approx(36.0, abs=1.5)


def test_pid_heater_cycling_alone_is_no_shot() -> None:
    events = run(detector(), sample(7200, heater=pid_idle()))
    assert shots(events) == []
    assert started(events) == []


def test_thermostat_cycling_is_no_shot() -> None:
    heater = full_between(thermostat(), [(0, 300)], 1300.0)  # heat-up, then cycling
    events = run(detector(), sample(7200, heater=heater))
    assert shots(events) == []
    assert started(events) == []


def test_power_on_heat_up_is_no_shot() -> None:
    # standby long enough to be off, then heat-up at full power, then PID idle
    heater = full_between(lambda t: 0.0 if t < 1200 else pid_idle()(t), [(1200, 1500)], full=1370.0)
    events = run(detector(), sample(2400, heater=heater))
    assert shots(events) == []
    assert started(events) == []
    assert states(events)[:2] == [MachineState.HEATING, MachineState.READY]


@pytest.mark.parametrize("length", [2, 5, 8])
def test_flush_is_no_shot(length: int) -> None:
    events = run(detector(), pid_machine(WARM + 100, [(WARM, WARM + length)]))
    assert shots(events) == []
    [gone] = discarded(events)
    assert gone.reason == "too_short"


def test_steaming_is_no_shot() -> None:
    heater = full_between(pid_idle(), [(WARM, WARM + 90)], full=1370.0)
    events = run(detector(), sample(WARM + 200, heater=heater))
    assert shots(events) == []
    assert MachineState.STEAMING in states(events)


def test_hot_water_longer_than_max_is_no_shot() -> None:
    events = run(detector(), pid_machine(WARM + 200, [(WARM, WARM + 70)]))
    assert shots(events) == []
    assert [d.reason for d in discarded(events)] == ["too_long"]


def test_pump_alone_hot_water_on_single_boiler_is_no_shot() -> None:
    # a long draw through the wand that never makes the boiler heater come on
    events = run(detector(), pid_machine(WARM + 200, [(WARM, WARM + 50)], respond=False))
    assert shots(events) == []
    assert [d.reason for d in discarded(events)] == ["hot_water"]


def test_autofill_pulses_are_no_shot() -> None:
    heater = full_between(thermostat(full=1400.0), [(0, 300)], 1400.0)
    refill = [(WARM + 20 * i, WARM + 20 * i + 3) for i in range(3)]
    samples = sample(WARM + 200, heater=heater, pump=refill, pump_watts=ROTARY)
    events = run(detector("heat_exchanger"), samples)
    assert shots(events) == []
    assert backflushes(events) == []


@pytest.mark.parametrize(("watts", "seconds"), [(150.0, 10), (200.0, 15), (250.0, 20)])
def test_grinder_is_no_shot(watts: float, seconds: int) -> None:
    # thermoblock with an integrated grinder (e.g. a Barista Express): PID pulses at idle
    def grinder(t: float) -> float:
        return watts if WARM <= t < WARM + seconds else 0.0

    # heat-up (the detector learns the full heater power), then PID pulses of 1-2 steps
    def heater(t: float) -> float:
        if t < 60:
            return 1580.0
        return 158.0 * (1 + int(t) % 2) if int(t) % 5 < 2 else 0.0

    samples = [(T0 - 1000.0, 0.5), *sample(WARM + 100, heater=heater, extra=grinder)]
    events = run(detector("thermoblock"), samples)
    assert shots(events) == []
    assert max(w for _, w in samples if w is not None) > 500  # grinder + 2 steps


def test_manual_backflush_is_detected_and_no_shot() -> None:
    pulses = [(WARM + 18 * i, WARM + 18 * i + 8) for i in range(5)]
    events = run(detector(), pid_machine(WARM + 200, pulses))
    assert shots(events) == []
    [flush] = backflushes(events)
    assert flush.pulses == 5
    assert flush.start == pytest.approx(T0 + WARM, abs=1.0)
    assert flush.end == pytest.approx(T0 + WARM + 4 * 18 + 8, abs=1.0)


def test_unavailable_mid_shot_is_no_shot() -> None:
    samples = pid_machine(WARM + 200, [(WARM, WARM + 40)])
    gap = {T0 + WARM + 15 + i for i in range(3)}
    samples = [(ts, None if ts in gap else w) for ts, w in samples]
    events = run(detector(), samples)
    assert shots(events) == []
    assert "unavailable" in [d.reason for d in discarded(events)]


def test_shot_in_progress_at_start_is_not_counted() -> None:
    samples = pid_machine(WARM + 200, [(WARM, WARM + 40)])
    events = run(detector(), [s for s in samples if s[0] >= T0 + WARM + 10])
    assert shots(events) == []


def test_late_and_duplicate_samples_are_ignored() -> None:
    samples = pid_machine(WARM + 200, [(WARM, WARM + 30)])
    noisy: list[tuple[float, float | None]] = []
    for i, (ts, watts) in enumerate(samples):
        noisy.append((ts, watts))
        if i % 7 == 0:
            noisy.append((ts, 999.0))  # duplicate timestamp
        if i % 11 == 0 and i:
            noisy.append((ts - 0.5, 1500.0))  # late
    clean = shots(run(detector(), samples))
    assert shots(run(detector(), noisy)) == clean
    assert len(clean) == 1


def test_same_value_reported_again_is_valid() -> None:
    # an on-change plug: pump on, a heartbeat with the same value, pump off
    idle = sample(WARM, heater=pid_idle())
    t = T0 + WARM
    tail = [(t, 53.5), (t + 20, 53.5), (t + 30, 1.5), (t + 200, 1.5)]
    [shot] = shots(run(detector(), idle + tail))
    assert shot.duration == pytest.approx(30.0)


def test_kilowatt_readings() -> None:
    samples = pid_machine(WARM + 200, [(WARM, WARM + 30)])
    as_kw = [(ts, to_watts(f"{w / 1000:.4f}", "kW")) for ts, w in samples if w is not None]
    [shot] = shots(run(detector(), as_kw))
    assert shot.duration == pytest.approx(30.0, abs=1.5)


def test_tick_ends_a_shot_while_the_plug_is_silent() -> None:
    det = detector()
    run(det, sample(WARM, heater=pid_idle()), tail=0.0)
    t = T0 + WARM
    assert det.feed(t, 53.5) == [ShotStarted(start=t)] or det.brewing
    assert det.brewing
    assert det.feed(t + 25, 1.5) == []
    assert det.tick(t + 26) == []  # a pre-infusion pause could still go on
    events = det.tick(t + 40)
    assert shots(events) == [ShotFinished(start=t, end=t + 25)]
    assert not det.brewing


def test_tick_turns_an_overlong_run_into_hot_water() -> None:
    det = detector()
    run(det, sample(WARM, heater=pid_idle()), tail=0.0)
    t = T0 + WARM
    det.feed(t, 53.5)
    assert det.tick(t + 59) == []
    events = det.tick(t + 61)
    [gone] = discarded(events)
    assert isinstance(gone, ShotDiscarded)
    assert gone.reason == "too_long"
    assert states(events) == [MachineState.READY]
    assert not det.brewing
    assert shots(det.feed(t + 75, 1.5) + det.tick(t + 200)) == []


def test_pause_and_resume() -> None:
    det = detector()
    run(det, sample(WARM, heater=pid_idle()), tail=0.0)
    t = T0 + WARM
    det.feed(t, 53.5)
    events = det.pause(t + 1)
    assert [d.reason for d in discarded(events)] == ["paused"]
    assert det.state is MachineState.BACKFLUSHING
    assert det.paused
    # the automated backflush: pump pulses while paused are ignored
    for i in range(6):
        assert det.feed(t + 2 + 20 * i, 53.5) == []
        assert det.feed(t + 12 + 20 * i, 1.5) == []
        assert det.tick(t + 15 + 20 * i) == []
    assert det.state is MachineState.BACKFLUSHING
    resumed = det.resume(t + 200)
    assert states(resumed) == [MachineState.READY]
    later = pid_machine(400, [(100, 130)])
    events = run(det, [(ts + 201 + WARM, w) for ts, w in later])
    [shot] = shots(events)
    assert shot.duration == pytest.approx(30.0, abs=1.5)


def _paused_routine(det: ShotDetector, t: float) -> None:
    """Idle, then an automated backflush's pump pulses while paused (the last one ends at t)."""
    run(det, sample(WARM, heater=pid_idle()), tail=0.0)
    det.pause(T0 + WARM)
    for start in (T0 + WARM + 1, T0 + WARM + 46):
        det.feed(start, 53.5)
        det.feed(start + 25, 1.5)
    det.feed(t, 53.5)


@pytest.mark.parametrize("off_before_resume", [True, False])
def test_resume_counts_the_next_shot_whatever_the_order(off_before_resume: bool) -> None:
    """The relay's final off reading comes just before or just after the resume: either way
    a shot right after it is counted (Home Assistant 2026.10 delivers the plug's state change
    before the routine ends, 2026.2 after)."""
    det = detector()
    t = T0 + WARM + 100
    _paused_routine(det, t)
    if off_before_resume:
        det.feed(t + 25, 1.5)
        det.resume(t + 25)
    else:
        det.resume(t + 25)
        det.feed(t + 25, 1.5)
    events = det.feed(t + 30, 53.5) + det.feed(t + 55, 1.5) + det.tick(t + 120)
    [shot] = shots(events)
    assert (shot.start, shot.end) == (t + 30, t + 55)


@pytest.mark.parametrize("last_paused", [53.5, None])
def test_resume_with_the_pump_still_on_or_unread_never_counts_it(
    last_paused: float | None,
) -> None:
    """A relay left on after the routine (the pump still drawing at resume), or an unreadable
    plug at the end: the run going on at resume is no shot."""
    det = detector()
    t = T0 + WARM + 100
    _paused_routine(det, t)
    det.feed(t + 20, last_paused)
    det.resume(t + 25)
    events = det.feed(t + 30, 53.5) + det.feed(t + 50, 1.5) + det.tick(t + 120)
    assert shots(events) == []


def test_resume_after_a_silent_pause_never_counts_a_run_going_on() -> None:
    """No reading at all during the pause: the standby before it is no baseline at resume
    (the pump may be running unseen), so a run already drawing when the plug reports is no
    shot."""
    det = detector()
    run(det, sample(WARM, heater=pid_idle()), tail=0.0)
    t = T0 + WARM + 1
    det.feed(t, 1.5)
    det.pause(t + 1)
    det.resume(t + 100)
    events = det.feed(t + 101, 53.5) + det.feed(t + 120, 1.5) + det.tick(t + 200)
    assert shots(events) == []


def test_state_transitions() -> None:
    # off, power-on heat-up, ready, a shot, steam, ready, switched off
    def heater(t: float) -> float:
        if t < 1000 or t >= 3000:
            return 0.0
        if t < 1300 or 2000 <= t < 2100:
            return 1370.0
        return pid_response(pid_idle(), [(1800, 1830)])(t)

    events = run(detector(), sample(4200, heater=heater, pump=[(1800, 1830)]))
    assert states(events) == [
        MachineState.HEATING,
        MachineState.READY,
        MachineState.BREWING,
        MachineState.READY,
        MachineState.STEAMING,
        MachineState.READY,
        MachineState.OFF,
    ]
    assert len(shots(events)) == 1


def test_events_carry_sample_time_only() -> None:
    events = run(detector(), pid_machine(WARM + 200, [(WARM, WARM + 30)]))
    for event in events:
        stamp = getattr(event, "start", getattr(event, "at", None))
        assert stamp is not None
        assert T0 <= stamp <= T0 + WARM + 200 + 120


@pytest.mark.parametrize("bad", [math.nan, -1.0, math.inf, -math.inf])
def test_invalid_values_never_raise(bad: float) -> None:
    det = detector()
    run(det, pid_machine(WARM + 30, [(WARM, WARM + 60)]), tail=0.0)
    assert det.brewing
    events = det.feed(T0 + WARM + 40, bad)
    assert not det.brewing
    assert [d.reason for d in discarded(events)] == ["unavailable"]


def test_on_change_plug_shot() -> None:
    samples = on_change(pid_machine(WARM + 200, [(WARM, WARM + 30)]))
    [shot] = shots(run(detector(), samples, tick_every=5.0))
    assert shot.duration == pytest.approx(30.0, abs=2.0)


def test_snapshot_and_settings() -> None:
    det = detector("dual_boiler")
    assert det.settings.machine_type == "dual_boiler"
    snap = det.snapshot()
    assert snap["state"] == "off"
    assert snap["brewing"] is False


def polled(samples: list[tuple[float, float | None]], every: int = 9, phase: int = 3):
    """What a plug polled every ``every`` s (Tasmota teleperiod) reports of 1 Hz samples.

    9 s rather than 10: the test PID pulses every 5 s and a 10 s poll would alias with it.
    """
    return [s for i, s in enumerate(samples) if i % every == phase]


POLLED_WARM = 3600.0  # a polled plug needs longer to show the heater step


@pytest.mark.parametrize(
    ("on", "off", "phase"), [(8, 10, 3), (10, 12, 0), (10, 12, 3), (10, 14, 3)]
)
def test_polled_plug_backflush_is_no_shot(on: int, off: int, phase: int) -> None:
    # a 9 s poll sees some pulses as 18 s runs, like a short shot, or merges them
    pulses = [(POLLED_WARM + (on + off) * i, POLLED_WARM + (on + off) * i + on) for i in range(6)]
    samples = polled(pid_machine(POLLED_WARM + 400, pulses), phase=phase)
    events = run(detector(), samples, tick_every=5.0)
    assert shots(events) == []
    assert len(backflushes(events)) == 1


def test_polled_plug_short_shot_waits_for_its_session() -> None:
    det = detector()
    samples = polled(pid_machine(POLLED_WARM + 400, [(POLLED_WARM, POLLED_WARM + 18)]))
    events = run(det, samples, tail=0.0)
    [shot] = shots(events + det.tick(samples[-1][0] + 60))
    assert 10.0 <= shot.duration <= 30.0


def test_unavailable_after_overlong_silence_keeps_the_shot_before_it() -> None:
    det = detector()
    run(det, sample(WARM, heater=pid_idle()), tail=0.0)
    t = T0 + WARM
    det.feed(t, 53.5)
    det.feed(t + 30, 1.5)  # a 30 s shot
    det.feed(t + 35, 53.5)  # 5 s later a long draw starts, then the plug goes silent
    events = det.feed(t + 120, None)
    assert shots(events) == [ShotFinished(start=t, end=t + 30)]
