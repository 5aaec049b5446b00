"""Property tests of the shot detector (hypothesis): robustness and feed/tick consistency."""

from __future__ import annotations

import math

from hypothesis import given, settings, strategies as st

from custom_components.espresso_care.engine.detector import ShotDetector
from custom_components.espresso_care.engine.events import (
    BackflushDetected,
    DetectorEvent,
    MachineState,
    ShotFinished,
    StateChanged,
)
from custom_components.espresso_care.engine.profiles import MACHINE_TYPES, settings_for
from tests.engine.physics import Run, pid_heater, simulate

T0 = 1_772_000_000.0

# power levels a machine really shows (standby, pumps, heater steps, heater + pump), plus junk
LEVELS = [0.0, 1.5, 52.0, 57.0, 137.0, 172.0, 190.0, 274.0, 326.0, 1300.0, 1352.0, 1400.0, 1572.0]
level = st.one_of(
    st.sampled_from(LEVELS),
    st.floats(min_value=-20.0, max_value=3000.0, allow_nan=False),
    st.sampled_from([None, math.nan, math.inf, -math.inf, -0.3]),
)
# a segment: how long a level holds and how many readings the plug sends for it
segment = st.tuples(
    st.floats(min_value=0.2, max_value=70.0), level, st.integers(min_value=1, max_value=6)
)
# disorder: a reading re-sent with an older or the same timestamp
disorder = st.sampled_from([None, None, None, 0.0, -0.5, -5.0])


@st.composite
def traces(draw: st.DrawFn) -> list[tuple[float, float | None]]:
    """Plug readings: held levels, each reported one or more times, with some disorder."""
    out: list[tuple[float, float | None]] = []
    t = T0
    for length, value, reports in draw(st.lists(segment, min_size=1, max_size=40)):
        for i in range(reports):
            ts = t + length * i / reports
            out.append((ts, value))
            back = draw(disorder)
            if back is not None and out:
                out.append((ts + back, draw(level)))
        t += length
    return out


# (base, base + pump) pairs a machine shows while idle / pumping
PUMPING = [(1.5, 53.5), (138.5, 191.5), (1301.5, 1353.5), (1.5, 173.5), (1563.0, 1608.0)]


@st.composite
def sessions(draw: st.DrawFn) -> list[tuple[float, float | None]]:
    """Pump runs (flush / shot / hot water / pulses) on an idle machine, with some junk."""
    base, pumping = draw(st.sampled_from(PUMPING))
    # pulse trains (backflush-like) or free runs; a plug reading every 1, 5 or 10 s
    longest_idle, longest_pump = draw(st.sampled_from([(40.0, 75.0), (20.0, 25.0)]))
    every = draw(st.sampled_from([1.0, 1.0, 5.0, 10.0]))
    out: list[tuple[float, float | None]] = []
    t = T0
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        idle = draw(st.floats(min_value=0.5, max_value=longest_idle))
        pump = draw(st.floats(min_value=0.5, max_value=longest_pump))
        for length, value in ((idle, base), (pump, pumping)):
            n = max(1, int(length / every))
            out.extend((t + length * i / n, value) for i in range(n))
            t += length
        junk = draw(st.one_of(st.none(), level))
        if junk is not None or draw(st.booleans()):
            out.append((t - draw(st.floats(min_value=0.0, max_value=3.0)), junk))
    out.append((t, base))
    return out


@st.composite
def pulse_trains(draw: st.DrawFn) -> list[tuple[float, float | None]]:
    """Backflush-like pulse trains, maybe with a shot before or after, read every 1-10 s."""
    base, pumping = draw(st.sampled_from(PUMPING))
    every = draw(st.sampled_from([1.0, 5.0, 10.0]))
    spans: list[tuple[float, float]] = []
    t = draw(st.floats(min_value=5.0, max_value=60.0))
    for _ in range(draw(st.integers(min_value=2, max_value=8))):
        length = draw(st.floats(min_value=1.0, max_value=30.0))
        spans.append((t, t + length))
        t += length + draw(st.floats(min_value=2.0, max_value=25.0))
    phase = draw(st.floats(min_value=0.0, max_value=every))
    out: list[tuple[float, float | None]] = []
    now = phase
    while now < t + 60.0:
        pumping_now = any(a <= now < b for a, b in spans)
        out.append((T0 + now, pumping if pumping_now else base))
        now += every
    return out


readings = st.one_of(traces(), sessions(), pulse_trains())


def replay(
    machine_type: str, samples: list[tuple[float, float | None]], ticks: list[float] | None
) -> list[DetectorEvent]:
    det = ShotDetector(settings_for(machine_type))
    events: list[DetectorEvent] = []
    shots_so_far = 0
    last = T0
    for i, (ts, watts) in enumerate(samples):
        if ticks is not None and i:
            # ticks strictly between the previous and this reading (the order HA runs them in)
            prev = max(last, samples[i - 1][0])
            for frac in ticks:
                now = prev + frac * (ts - prev)
                if prev < now < ts:
                    events.extend(det.tick(now))
        events.extend(det.feed(ts, watts))
        last = max(last, ts)
        count = sum(isinstance(e, ShotFinished) for e in events)
        assert count >= shots_so_far
        shots_so_far = count
    events.extend(det.tick(last + 3600.0))
    return events


def outcome(events: list[DetectorEvent]) -> list[tuple[str, float, float]]:
    return [
        (type(e).__name__, e.start, e.end)
        for e in events
        if isinstance(e, ShotFinished | BackflushDetected)
    ]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(MACHINE_TYPES), readings)
def test_never_raises_and_shots_are_in_range(
    machine_type: str, samples: list[tuple[float, float | None]]
) -> None:
    config = settings_for(machine_type)
    events = replay(machine_type, samples, None)
    first = min(ts for ts, _ in samples)
    for event in events:
        if isinstance(event, ShotFinished):
            assert config.shot_min_seconds <= event.duration <= config.shot_max_seconds
            assert first <= event.start < event.end
        if isinstance(event, StateChanged):
            assert event.state is not event.previous


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(MACHINE_TYPES),
    readings,
    st.lists(st.floats(min_value=0.01, max_value=0.99), min_size=1, max_size=4),
)
def test_ticks_do_not_change_the_shots(
    machine_type: str, samples: list[tuple[float, float | None]], ticks: list[float]
) -> None:
    without = outcome(replay(machine_type, samples, None))
    with_ticks = outcome(replay(machine_type, samples, sorted(ticks)))
    assert with_ticks == without


class _EveryReadingInFull(ShotDetector):
    """The detector without its short way for standby readings while off (see feed)."""

    def feed(self, ts: float, watts: float | None) -> list[DetectorEvent]:
        if not ts > self._last_ts:
            return []
        dt = ts - self._last_ts
        self._last_ts = ts
        return self._read(ts, dt, watts)


@st.composite
def powered_on(draw: st.DrawFn) -> list[tuple[float, float | None]]:
    """A single boiler switched on: its heat-up, then a PID idling and answering the shots."""
    heat_up = draw(st.floats(min_value=0.0, max_value=240.0))
    idle = draw(st.sampled_from([0.0, 55.0, 140.0]))
    runs: list[Run] = []
    t = heat_up + draw(st.floats(min_value=0.0, max_value=60.0))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        length = draw(st.floats(min_value=3.0, max_value=40.0))
        runs.append(Run(t, t + length, free_flow=length < 8.0))
        t += length + draw(st.floats(min_value=20.0, max_value=120.0))
    pid = pid_heater(idle, runs)
    return simulate(
        t,
        heater=lambda at: 1200.0 if at < heat_up else pid(at),
        runs=runs,
        noise=draw(st.sampled_from([0.0, 1.0])),
        seed=draw(st.integers(min_value=0, max_value=99)),
    )


@st.composite
def days(draw: st.DrawFn) -> list[tuple[float, float | None]]:
    """Readings of a machine switched on and off: long standby stretches between sessions."""
    out: list[tuple[float, float | None]] = []
    t = T0
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        # standby, read every 1-10 s (a little noise, sometimes unavailable), then a session
        every = draw(st.sampled_from([1.0, 1.0, 5.0, 10.0]))
        for _ in range(draw(st.integers(min_value=1, max_value=1200))):
            value = draw(st.sampled_from([0.0, 0.4, 0.9, 1.3, None, 2.5, 4.2]))
            out.append((t, value))
            t += every
        session = draw(st.one_of(readings, powered_on()))
        first = min(ts for ts, _ in session)
        out.extend((t + ts - first, watts) for ts, watts in session)
        t = max(ts for ts, _ in out) + 1.0
    return out


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(MACHINE_TYPES), days(), st.floats(min_value=0.1, max_value=0.9))
def test_standby_shortcut_changes_nothing(
    machine_type: str, samples: list[tuple[float, float | None]], tick: float
) -> None:
    config = settings_for(machine_type)
    short, full = ShotDetector(config), _EveryReadingInFull(config)
    prev = samples[0][0]
    for ts, watts in samples:
        now = prev + tick * (ts - prev)
        assert short.tick(now) == full.tick(now)
        assert short.feed(ts, watts) == full.feed(ts, watts), (ts, watts)
        prev = max(prev, ts)
    assert short.snapshot() == full.snapshot()
    assert short.export_model() == full.export_model()


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(MACHINE_TYPES),
    st.one_of(readings, days()),
    st.lists(st.floats(min_value=0.01, max_value=0.99), min_size=1, max_size=4),
)
def test_a_tick_before_next_tick_changes_nothing(
    machine_type: str, samples: list[tuple[float, float | None]], ticks: list[float]
) -> None:
    """Ticks left out before ``next_tick`` (Home Assistant's timer waits for it)."""
    config = settings_for(machine_type)
    every, timed = ShotDetector(config), ShotDetector(config)

    def tick_both(now: float) -> None:
        due = timed.next_tick(0.0)
        if due is not None and now >= due:
            assert timed.tick(now) == every.tick(now)
        else:
            assert every.tick(now) == []

    prev = samples[0][0]
    for ts, watts in samples:
        for frac in sorted(ticks):
            tick_both(prev + frac * (ts - prev))
        assert timed.feed(ts, watts) == every.feed(ts, watts), (ts, watts)
        prev = max(prev, ts)
    tick_both(prev + 3600.0)
    assert timed.snapshot() == every.snapshot()
    assert timed.export_model() == every.export_model()


def test_next_tick_keeps_the_cadence() -> None:
    """The next tick comes when time may decide, ``cadence`` after the last reading and tick."""
    det = ShotDetector(settings_for("single_boiler"))
    assert det.next_tick(5.0) is None  # nothing read yet
    det.feed(T0, 1.0)
    assert det.state is MachineState.OFF
    assert det.next_tick(5.0) is None  # standby of a machine switched off: only a reading
    det.feed(T0 + 2.0, 1300.0)  # switched on: the heat-up, any silence may end it
    assert det.next_tick(5.0) == T0 + 7.0
    det.feed(T0 + 60.0, 1.0)
    assert det.state is MachineState.READY
    # standby of a machine switched on: a tick calls it off after off_after_seconds
    assert det.next_tick(5.0) == T0 + 60.0 + det.settings.off_after_seconds
    det.feed(T0 + 61.0, 52.0)  # a pump run: any silence may end it
    assert det.next_tick(5.0) == T0 + 66.0
    det.tick(T0 + 69.0)
    assert det.next_tick(5.0) == T0 + 74.0
    det.pause(T0 + 70.0)
    assert det.next_tick(5.0) is None
