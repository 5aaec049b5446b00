"""A small physical simulator of an espresso machine behind a plug, for the detector tests.

Unlike ``signals.py`` (heater levels in whole steps), the heater here is continuous: a PID
through a zero-cross relay reads *any* value, ramps up while cold water comes in and keeps
moving after the pump stops. The pump draws 0.8x at free flow, rises from 0.8x to 1x over a
shot's first seconds, and everything scales with a (drifting) mains voltage. The power is
simulated every 0.1 s and averaged over each second, as a plug's 1 s reading is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
import math
import random

from tests.engine.signals import T0

type Power = Callable[[float], float]
type Samples = list[tuple[float, float | None]]

STANDBY = 1.2
VIBE = 52.0
ROTARY = 172.0


@dataclass(frozen=True, slots=True)
class Run:
    """The pump running from ``start`` to ``end`` (s), free flow (a flush) or against a puck."""

    start: float
    end: float
    free_flow: bool = False
    fill_seconds: float = 5.0  # a puck's resistance builds up over this long

    def factor(self, t: float) -> float:
        """The pump's draw at ``t`` relative to its rated draw (0 when it is off)."""
        if not self.start <= t < self.end:
            return 0.0
        if self.free_flow:
            return 0.8
        return 0.8 + 0.2 * min(1.0, (t - self.start) / self.fill_seconds)


def pid_heater(
    idle: float,
    runs: Sequence[Run],
    *,
    full: float = 1200.0,
    ramp: float = 22.0,
    lag: float = 4.0,
    fall: float = 20.0,
) -> Power:
    """A PID heater idling at ``idle`` W that ramps by ``ramp`` W/s while water flows.

    The ramp starts with the pump and, as the probe lags the boiler, goes on ``lag`` s after
    the pump stopped, then the heater falls back by ``fall`` W/s to its idle draw.
    """

    def power(t: float) -> float:
        level = idle
        for run in runs:
            if t < run.start:
                break
            rising_end = run.end + lag
            peak = min(full, idle + ramp * (rising_end - run.start))
            if t < rising_end:
                level = min(full, idle + ramp * (t - run.start))
            else:
                level = max(idle, peak - fall * (t - rising_end))
        return level

    return power


def simulate(
    seconds: float,
    *,
    heater: Power,
    runs: Sequence[Run] = (),
    pump_watts: float = VIBE,
    extra: Power | None = None,
    mains: Power | None = None,
    noise: float = 0.0,
    seed: int = 1,
    t0: float = T0,
) -> Samples:
    """1 s plug readings (averages of 0.1 s slices) of a machine for ``seconds`` s."""
    rng = random.Random(seed)  # noqa: S311 - reproducible plug noise, not cryptography
    out: Samples = []
    for second in range(int(seconds)):
        total = 0.0
        for tenth in range(10):
            t = second + tenth / 10.0
            watts = heater(t) + pump_watts * sum(run.factor(t) for run in runs)
            if extra is not None:
                watts += extra(t)
            if mains is not None:
                watts *= mains(t)
            total += watts
        reading = STANDBY + total / 10.0 + (rng.gauss(0.0, noise) if noise else 0.0)
        out.append((t0 + second + 1.0, round(max(0.0, reading), 1)))
    return out


def drifting_mains(amplitude: float, period: float) -> Power:
    """Mains power factor (voltage squared) drifting by +-``amplitude`` over ``period`` s."""
    return lambda t: 1.0 + amplitude * math.sin(2.0 * math.pi * t / period)


def windowed(
    heater: Power, *, full: float = 1200.0, window: float = 2.0, phase: float = 0.0
) -> Power:
    """A time-proportional PID: ``heater``'s mean draw as on-time at the start of each window.

    Each ``window`` s (starting ``phase`` s into the plug's second) the heater is on at
    ``full`` for the share ``heater / full`` of the window, then off. The power returned is the
    mean over the simulator's 0.1 s slice starting at ``t`` (exact, not switched in slices),
    so a 1 s plug reads each second's share of the window: with a 2 s window, readings that
    alternate.
    """

    def power(t: float) -> float:
        start = math.floor((t - phase) / window) * window + phase
        duty = min(1.0, max(0.0, heater(start) / full))
        on = 0.0
        # the slice may overlap the on-time of this window and of the next one
        for begin in (start, start + window):
            end = begin + duty * window
            on += max(0.0, min(t + 0.1, end) - max(t, begin))
        return full * on / 0.1

    return power
