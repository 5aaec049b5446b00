"""The detector behind a plug polled every 10 s (Tasmota's TelePeriod), one physical case each.

A poll is the power at one moment; between two polls a PID heater moves by hundreds of watts,
so the pump shows in the heater's response to the water or, with the heater off, directly.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pytest

from tests.engine.physics import Power, Run, Samples, simulate
from tests.engine.signals import T0, detector, on_change, run, shots, started

if TYPE_CHECKING:
    from custom_components.espresso_care.engine.events import ShotFinished

WARM = 900.0  # s of idle first
POLL = 10


def _polled(readings: Samples, phase: int = 3) -> Samples:
    return readings[phase::POLL]


def _shots_of(samples: Samples) -> list[ShotFinished]:
    return shots(run(detector(), samples, tick_every=5.0))


def _pid_responding(idle: float, runs: list[Run], gain: float = 0.6, tau: float = 14.0) -> Power:
    """A PID idling at ``idle`` W whose response to the cold water coming in grows with the
    time it has flowed (its integral term: ``gain`` x seconds squared, up to the full 1200 W),
    until its probe's lag after the pump stopped, then returns to idle the faster the farther
    it is (a flush's response of some 50 W, a shot's of several hundred)."""

    def power(t: float) -> float:
        excess = 0.0
        for pump in runs:
            if t < pump.start:
                break
            rising_end = pump.end + 4.0
            peak = gain * (rising_end - pump.start) ** 2
            if t < rising_end:
                excess = gain * (t - pump.start) ** 2
            else:
                excess = peak * math.exp(-(t - rising_end) / tau)
        return min(1200.0, idle + excess)

    return power


def test_flush_whose_response_decays_slowly_then_a_shot() -> None:
    # the group flushed, then a shot 45 s later: the PID's small response to the flush dies
    # away by less than a pump draw per poll, the shot is still told from it
    flush = Run(WARM, WARM + 5, free_flow=True)
    shot = Run(WARM + 50, WARM + 80)
    heater = _pid_responding(110.0, [flush, shot])
    readings = simulate(WARM + 400, heater=heater, runs=[flush, shot], noise=1.0)
    [found] = _shots_of(_polled(readings))
    assert found.start == pytest.approx(T0 + shot.start, abs=POLL)
    assert found.duration == pytest.approx(30.0, abs=POLL)


@pytest.mark.parametrize("seconds", [25, 45])
def test_shot_with_the_heater_off_reads_the_pump_alone(seconds: int) -> None:
    # a PID idling at any value, then (the boiler above its set point, e.g. after steaming)
    # off through the shot: each poll shows the pump alone, a steady draw for the shot's
    # whole length (not the small response of a flush)
    shot = Run(WARM + 4.0, WARM + 4.0 + seconds)

    def heater(t: float) -> float:
        return 0.0 if t >= WARM - 200 else 110.0 + 25.0 * math.sin(t / 60.0)

    readings = simulate(WARM + 300, heater=heater, runs=[shot], noise=1.0)
    [found] = _shots_of(_polled(readings))
    assert found.duration == pytest.approx(seconds, abs=POLL)


def test_heater_toggling_between_standby_and_one_level_is_no_shot() -> None:
    # a slow PID window (or a thermostat) that the polls catch in the same phase: the power
    # toggles between standby and the heater's level for 20-40 s at a time, no water flows
    spans = [(WARM + 100 * i, WARM + 100 * i + 20 + 10 * (i % 3)) for i in range(12)]

    def heater(t: float) -> float:
        return 205.0 + 0.02 * (t - WARM) if any(a <= t < b for a, b in spans) else 0.0

    readings = simulate(WARM + 1300, heater=heater)
    events = run(detector(), _polled(readings), tick_every=5.0)
    assert shots(events) == []
    assert len(started(events)) <= 1  # the first toggle, before the level is known


def test_polls_that_read_the_same_value_leave_no_row() -> None:
    # Home Assistant records no state for a poll that read the value before: a standby
    # wobbling by a tenth of a watt leaves gaps of whole polls, the plug is still read as
    # polled (its heater's response, not steps)
    shot = Run(WARM + 3.5, WARM + 33.5)
    response = _pid_responding(0.0, [shot])

    def heater(t: float) -> float:
        wobble: float = (-0.1, 0.1, 0.0, 0.0)[int(t // POLL) % 4]
        return response(t) + wobble

    polls = _polled(simulate(WARM + 300, heater=heater, runs=[shot]))
    rows = [s for i, s in enumerate(polls) if i == 0 or s[1] != polls[i - 1][1]]
    assert len(rows) < len(polls) * 0.8
    [found] = _shots_of(rows)
    assert found.duration == pytest.approx(30.0, abs=POLL)


def test_modulated_thermoblock_behind_a_slow_on_change_plug() -> None:
    # a thermoblock idles in PID pulses of one step and modulates its heater while the water
    # flows (any value between its levels); a Shelly Gen1 (10 % change) reports few readings
    # of a brew, most of them in the modulation's dips: the heater this hot is water flowing
    brews = [(WARM + 600.0 * i, WARM + 600.0 * i + 25.0 + 3 * i) for i in range(4)]

    def heater(t: float) -> float:
        for a, b in brews:
            if a <= t < b:
                return 1170.0 + 160.0 * math.sin(2.1 * (t - a))
        if t < 120.0:
            return 1360.0  # the power-on heat-up
        return 137.0 if int(t) % 2 == 0 else 272.0

    readings = simulate(WARM + 2700, heater=heater, runs=[Run(a, b) for a, b in brews])
    found = shots(run(detector("thermoblock"), on_change(readings, ratio=0.10), tick_every=5.0))
    assert len(found) == len(brews)
    for shot, (a, b) in zip(found, brews, strict=True):
        assert shot.start == pytest.approx(T0 + a, abs=3.0)
        assert shot.duration == pytest.approx(b - a, abs=4.0)
