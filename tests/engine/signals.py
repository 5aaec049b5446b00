"""Small generators of plug readings for the shot detector tests.

A scenario is a function of time made of a heater part and pump intervals, sampled like a plug.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from custom_components.espresso_care.engine.detector import ShotDetector
from custom_components.espresso_care.engine.events import (
    BackflushDetected,
    DetectorEvent,
    ShotDiscarded,
    ShotFinished,
    ShotStarted,
    StateChanged,
)
from custom_components.espresso_care.engine.profiles import settings_for

T0 = 1_772_000_000.0  # 2026-02-25, any fixed POSIX time
STANDBY = 1.5
VIBE = 52.0
ROTARY = 172.0

type Heater = Callable[[float], float]
type Samples = list[tuple[float, float | None]]


def off(_t: float) -> float:
    """Heater off."""
    return 0.0


def pid_idle(step: float = 137.0, period: int = 5) -> Heater:
    """A PID holding temperature: one heater step for 1 s every ``period`` s."""
    return lambda t: step if int(t) % period == 0 else 0.0


def thermostat(full: float = 1300.0, on: float = 40.0, period: float = 240.0) -> Heater:
    """A thermostat cycling the full heater ``on`` s every ``period`` s."""
    return lambda t: full if t % period < on else 0.0


def pid_response(
    base: Heater, shots: Sequence[tuple[float, float]], step: float = 137.0, most: int = 6
) -> Heater:
    """A PID that ramps its duty up one step per 2 s while cold water enters, then decays."""

    def heater(t: float) -> float:
        for a, b in shots:
            if a <= t < b:
                return step * min(most, 1 + int((t - a) / 2))
            if b <= t < b + 2 * most:
                return step * max(0, min(most, 1 + int((b - a) / 2)) - int((t - b) / 2))
        return base(t)

    return heater


def full_between(base: Heater, spans: Sequence[tuple[float, float]], full: float) -> Heater:
    """The full heater during ``spans``, ``base`` otherwise."""

    def heater(t: float) -> float:
        if any(a <= t < b for a, b in spans):
            return full
        return base(t)

    return heater


def sample(
    seconds: float,
    *,
    heater: Heater = off,
    pump: Iterable[tuple[float, float]] = (),
    pump_watts: float = VIBE,
    standby: float = STANDBY,
    extra: Callable[[float], float] | None = None,
    dt: float = 1.0,
    t0: float = T0,
) -> Samples:
    """Sample a scenario every ``dt`` s (``extra`` adds e.g. a grinder)."""
    spans = list(pump)
    out: Samples = []
    steps = int(seconds / dt)
    for i in range(steps):
        t = i * dt
        watts = standby + heater(t)
        if any(a <= t < b for a, b in spans):
            watts += pump_watts
        if extra is not None:
            watts += extra(t)
        out.append((t0 + t, round(watts, 1)))
    return out


def on_change(samples: Samples, ratio: float = 0.05, minimum: float = 2.0) -> Samples:
    """Keep only the readings an on-change plug (Shelly Gen2 style) would report."""
    out: Samples = []
    last: float | None = None
    for ts, watts in samples:
        if watts is None or last is None or abs(watts - last) > max(ratio * last, minimum):
            out.append((ts, watts))
            last = watts
    return out


def detector(machine_type: str = "single_boiler", **overrides: float) -> ShotDetector:
    """A fresh detector for a machine type."""
    return ShotDetector(settings_for(machine_type, **overrides))


def run(
    det: ShotDetector, samples: Samples, tick_every: float | None = None, tail: float = 120.0
) -> list[DetectorEvent]:
    """Feed samples (optionally ticking in between) and tick ``tail`` s after the last one."""
    events: list[DetectorEvent] = []
    next_tick: float | None = None
    last = T0
    for ts, watts in samples:
        if tick_every is not None:
            next_tick = ts if next_tick is None else next_tick
            while next_tick < ts:
                events.extend(det.tick(next_tick))
                next_tick += tick_every
        events.extend(det.feed(ts, watts))
        last = ts
    events.extend(det.tick(last + tail))
    return events


def shots(events: Iterable[DetectorEvent]) -> list[ShotFinished]:
    """The finished shots among events."""
    return [e for e in events if isinstance(e, ShotFinished)]


def discarded(events: Iterable[DetectorEvent]) -> list[ShotDiscarded]:
    """The discarded runs among events."""
    return [e for e in events if isinstance(e, ShotDiscarded)]


def started(events: Iterable[DetectorEvent]) -> list[ShotStarted]:
    """The started runs among events."""
    return [e for e in events if isinstance(e, ShotStarted)]


def backflushes(events: Iterable[DetectorEvent]) -> list[BackflushDetected]:
    """The detected backflushes among events."""
    return [e for e in events if isinstance(e, BackflushDetected)]


def states(events: Iterable[DetectorEvent]) -> list[str]:
    """The sequence of machine states entered."""
    return [str(e.state) for e in events if isinstance(e, StateChanged)]
