"""The detector on continuous heater physics (tests/engine/physics.py), one case per test.

These are the cases a model of heater levels in whole steps could not see: a PID heater that
reads any value and moves while the pump runs, a pump whose draw changes with back-pressure,
mains drift, a second heater switching on its own.
"""

from __future__ import annotations

import bisect
import math
import random
from typing import TYPE_CHECKING

import pytest

from tests.engine.physics import ROTARY, Run, drifting_mains, pid_heater, simulate, windowed
from tests.engine.signals import T0, detector, discarded, on_change, run, shots, started

if TYPE_CHECKING:
    from custom_components.espresso_care.engine.events import ShotFinished

WARM = 900.0  # s of idle first


def _shots_of(samples: list[tuple[float, float | None]], machine: str = "single_boiler"):
    return shots(run(detector(machine), samples, tick_every=5.0))


def _assert_shot(shot: ShotFinished, pump: Run, tolerance: float = 2.0) -> None:
    # a 1 s plug reading is stamped at the end of its second
    assert shot.start == pytest.approx(T0 + pump.start + 1.0, abs=tolerance)
    assert shot.duration == pytest.approx(pump.end - pump.start, abs=tolerance)


def test_continuous_duty_idle_is_no_shot() -> None:
    # a PID holding temperature at a steady 55 W (any value, not a multiple of a step) with
    # a plug's noise, then wandering slowly between 40 and 120 W
    def heater(t: float) -> float:
        return 53.8 if t < 3600 else 80.0 + 40.0 * math.sin(2.0 * math.pi * t / 900.0)

    samples = simulate(7200, heater=heater, noise=1.5)
    events = run(detector(), samples, tick_every=5.0)
    assert shots(events) == []
    assert started(events) == []


def test_shot_whose_heater_ramps_from_the_first_second() -> None:
    pump = Run(WARM, WARM + 28)
    samples = simulate(WARM + 300, heater=pid_heater(100.0, [pump]), runs=[pump], noise=1.0)
    [shot] = _shots_of(samples)
    _assert_shot(shot, pump)


def test_pump_stop_buried_in_a_falling_heater() -> None:
    # the heater peaks mid-shot and falls by over 30 W/s when the pump stops
    pump = Run(WARM, WARM + 30)

    def heater(t: float) -> float:
        if not WARM <= t < WARM + 40:
            return 90.0
        return 90.0 + 600.0 * math.sin(math.pi * (t - WARM) / 40.0)

    samples = simulate(WARM + 300, heater=heater, runs=[pump], noise=1.0)
    [shot] = _shots_of(samples)
    _assert_shot(shot, pump)


@pytest.mark.parametrize("seconds", [3, 6])
def test_flush_at_free_flow_draw_is_no_shot(seconds: int) -> None:
    flush = Run(WARM, WARM + seconds, free_flow=True)
    samples = simulate(WARM + 200, heater=pid_heater(110.0, [flush], ramp=8.0), runs=[flush])
    events = run(detector(), samples, tick_every=5.0)
    assert shots(events) == []
    assert [d.reason for d in discarded(events)] == ["too_short"]


def test_shot_at_0_8_rising_to_full_pump_draw() -> None:
    # no heater response at all: the pump alone, 0.8x at first, 1x after 8 s
    pump = Run(WARM, WARM + 25, fill_seconds=8.0)
    samples = simulate(WARM + 200, heater=lambda _t: 95.0, runs=[pump])
    [shot] = _shots_of(samples)
    _assert_shot(shot, pump)


def test_mains_drift_of_5_percent_over_an_hour() -> None:
    pumps = [Run(WARM + 600 * i, WARM + 600 * i + 25 + 2 * i) for i in range(6)]
    samples = simulate(
        WARM + 3800,
        heater=pid_heater(100.0, pumps),
        runs=pumps,
        mains=drifting_mains(0.05, 3600.0),
        noise=1.0,
    )
    found = _shots_of(samples)
    assert len(found) == len(pumps)
    for shot, pump in zip(found, pumps, strict=True):
        _assert_shot(shot, pump)


def test_dual_boiler_steam_heater_switching_during_a_shot() -> None:
    # rotary pump, a continuous brew PID, and the steam element (1000 W) on its pressurestat
    # switching on 10 s into the shot and off 12 s later
    pump = Run(WARM, WARM + 32)

    def steam(t: float) -> float:
        cycling = (t % 240.0) < 40.0 and t < WARM - 100
        return 1000.0 if cycling or WARM + 10 <= t < WARM + 22 else 0.0

    samples = simulate(
        WARM + 300,
        heater=pid_heater(120.0, [pump], ramp=12.0),
        runs=[pump],
        pump_watts=ROTARY,
        extra=steam,
        noise=1.0,
    )
    [shot] = _shots_of(samples, "dual_boiler")
    _assert_shot(shot, pump)


def test_polled_plug_reads_the_heater_response() -> None:
    # a plug polled every 10 s: the pump's steps are lost between polls, the PID's response
    # to the water is not (a shot ramps it by hundreds of watts, a flush by little)
    shot = Run(WARM, WARM + 28)
    flush = Run(WARM + 600, WARM + 605, free_flow=True)
    heater = pid_heater(100.0, [shot, flush], ramp=22.0)
    readings = simulate(WARM + 900, heater=heater, runs=[shot, flush], noise=1.0)
    polled = readings[3::10]
    [found] = _shots_of(polled)
    assert found.start == pytest.approx(T0 + shot.start, abs=10.0)
    assert found.duration == pytest.approx(28.0, abs=10.0)


def test_2s_pid_window_read_every_second() -> None:
    # a PID with a 2 s time-proportional window, its window starting 0.95 s into the plug's
    # second: the readings alternate between the window's two seconds, at idle by about a
    # pump's draw (60 / 150 W), during a shot (the PID ramping by 15 W/s) between ~110 W and
    # the full 1200 W
    pumps = [Run(WARM + 700 * i, WARM + 700 * i + 26 + 3 * i) for i in range(3)]
    flush = Run(WARM + 350, WARM + 354, free_flow=True)
    pid = windowed(pid_heater(105.0, [*pumps[:1], flush, *pumps[1:]], ramp=15.0), phase=0.95)

    def heater(t: float) -> float:
        # off, then the power-on heat-up at full power, then the PID
        return 0.0 if t < 60.0 else (1200.0 if t < 240.0 else pid(t))

    samples = simulate(WARM + 2300, heater=heater, runs=[*pumps, flush], noise=1.0)
    assert {round(w, -1) for _, w in samples[880:900]} <= {60.0, 150.0, 160.0}
    found = _shots_of(samples)
    assert len(found) == len(pumps)
    for shot, pump in zip(found, pumps, strict=True):
        _assert_shot(shot, pump)


@pytest.mark.parametrize("idle", [45.0, 58.0, 65.0])
def test_pid_idling_at_about_the_pumps_draw(idle: float) -> None:
    # a PID holding temperature at 45-65 W reads what the pump alone draws (a heater off, a
    # vibration pump on); it does so for far longer than any pump run, so it is no pump
    pumps = [Run(WARM + 600 * i, WARM + 600 * i + 25 + 3 * i) for i in range(3)]
    samples = simulate(
        WARM + 1500, heater=pid_heater(idle, pumps, ramp=15.0), runs=pumps, noise=1.5
    )
    found = _shots_of(samples)
    assert len(found) == len(pumps)
    for shot, pump in zip(found, pumps, strict=True):
        _assert_shot(shot, pump)


def test_dual_boiler_brew_pid_idling_at_about_the_rotary_pumps_draw() -> None:
    # a rotary pump (172 W) and a brew PID idling at 130-140 W, mains drifting by 4 %: the
    # idle reads what the pump alone would
    pumps = [Run(WARM + 600 * i, WARM + 600 * i + 25 + 3 * i) for i in range(4)]
    flushes = [Run(pump.start + 200, pump.start + 204, free_flow=True) for pump in pumps]
    everything = sorted([*pumps, *flushes], key=lambda r: r.start)
    samples = simulate(
        WARM + 2600,
        heater=pid_heater(135.0, everything, ramp=14.0),
        runs=everything,
        pump_watts=ROTARY,
        mains=drifting_mains(0.04, 3000.0),
        noise=3.0,
        seed=2,
    )
    found = _shots_of(samples, "dual_boiler")
    assert len(found) == len(pumps)
    for shot, pump in zip(found, pumps, strict=True):
        _assert_shot(shot, pump)


@pytest.mark.parametrize("seed", [4, 6])
def test_heater_flickering_by_about_the_pumps_draw_is_noise(seed: int) -> None:
    # a heater stepping between 100 and 150 W every 1-3 s, read by an on-change plug: its
    # steps that do not hold are the track's noise, against which a pump step must stand out
    # (not every such hour comes out clean: a flicker held for seconds reads like the pump)
    rng = random.Random(seed)  # noqa: S311 - reproducible test signal
    edges: list[float] = []
    t = 0.0
    while t < 3600.0:
        t += rng.choice([1.0, 1.0, 1.0, 2.0, 3.0])
        edges.append(t)

    def heater(x: float) -> float:
        return 150.0 if bisect.bisect(edges, x) % 2 else 100.0

    samples = on_change(simulate(3600, heater=heater, noise=1.0, seed=seed))
    assert shots(run(detector(), samples, tick_every=5.0)) == []


# a Shelly Gen2 (5 % changes) on a PID single boiler, recorded around a 22.5 s shot: the
# heater answers the cold water from the pump's first second at 25-40 W/s, the start is one
# change of that ramp (+31.7 W) and the stop sits on its top (-36.7 W, then the heater falls;
# recorded to 39 s, then continued down to the idle draw)
_RAMP_SHOT = [
    (0.1, 145.3), (0.8, 159.1), (1.9, 185.8), (3.0, 212.9), (4.0, 238.9), (4.8, 263.9),
    (6.0, 294.0), (6.9, 331.1), (8.0, 369.4), (9.1, 392.1), (9.7, 434.3), (12.0, 456.6),
    (12.9, 490.3), (13.7, 525.5), (15.8, 574.6), (19.0, 632.4), (21.8, 674.3), (22.9, 637.6),
    (26.8, 605.4), (29.1, 555.2), (30.7, 506.7), (33.0, 466.7), (34.9, 419.1), (35.8, 397.2),
    (37.0, 364.1), (37.9, 335.2), (39.0, 315.2), (40.9, 280.6), (43.0, 250.1), (45.1, 221.7),
    (47.6, 196.0), (50.2, 171.4), (53.5, 150.2), (57.9, 130.8), (63.0, 116.0),
]  # fmt: skip


def _assert_response_shot(
    readings: list[tuple[float, float]],
    idle: tuple[float, float, float],
    shots_before: int,
    duration: float,
) -> None:
    """``readings`` (s from the shot's start, W) after 900 s of a PID idling: the shot counts.

    ``idle``: the on-change plug's report interval and the two values of the PID's wobble;
    ``shots_before`` such shots come first, each after the same idle.
    """
    every, low, high = idle
    samples: list[tuple[float, float | None]] = []
    t = T0
    for i in range(shots_before + 1):
        samples.extend((t + every * k, low if k % 2 else high) for k in range(int(900 / every)))
        start = t + 900.0
        samples.extend((start + dt, watts) for dt, watts in readings)
        t = start + 120.0
        if i < shots_before:
            continue
        found = _shots_of(samples)
        assert len(found) == shots_before + 1
        assert found[-1].start == pytest.approx(start + readings[0][0], abs=1.0)
        assert found[-1].duration == pytest.approx(duration, abs=2.0)


@pytest.mark.parametrize("shots_before", [0, 3])
def test_shot_seen_only_in_the_heaters_response(shots_before: int) -> None:
    # the PID idling: an on-change plug reports its wobble every few seconds
    _assert_response_shot(_RAMP_SHOT, (4.0, 100.1, 113.6), shots_before, 22.5)


# a Shelly Gen2 on a PID single boiler around a 24.5 s shot (a 1 Hz plug's readings re-sampled
# as Gen2 reports them): the heater answers from the pump's first second, the steps show a
# start only 20 s into the shot (+42 W on the ramp) and no stop (it sits on the ramp's top,
# -34 W after a 4 s silence); recorded to 29.5 s, then continued down to the idle draw
_LATE_STEP_SHOT = [
    (-0.1, 124.0), (0.8, 145.4), (1.7, 158.0), (2.6, 184.6), (3.8, 206.3), (4.7, 241.2),
    (5.7, 264.1), (6.7, 295.4), (7.6, 316.8), (8.7, 356.8), (9.7, 377.7), (11.9, 415.2),
    (12.8, 440.0), (13.6, 462.6), (15.9, 507.5), (17.7, 553.4), (20.7, 595.5), (22.6, 631.6),
    (26.8, 597.3), (29.5, 557.0), (31.6, 517.2), (33.9, 476.0), (36.1, 437.5), (38.4, 398.0),
    (40.9, 359.1), (43.5, 320.6), (46.2, 283.0), (49.1, 246.4), (52.3, 210.9), (55.8, 176.0),
    (59.8, 142.1), (64.5, 110.3), (70.0, 96.4),
]  # fmt: skip


@pytest.mark.parametrize("shots_before", [0, 3])
def test_shot_whose_steps_show_late_in_the_heaters_response(shots_before: int) -> None:
    _assert_response_shot(_LATE_STEP_SHOT, (3.0, 91.1, 101.8), shots_before, 24.5)
