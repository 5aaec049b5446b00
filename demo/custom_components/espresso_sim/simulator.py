"""Replay of a recorded plug power trace, time-compressed, with a pump relay on top.

The trace is a Home Assistant history export (``entity_id,state,last_changed``) and its labels
file (see ../shared/traces/README.md). Stretches where nothing happens (heating, idling) are
played ``speed`` times faster than real time; each labelled activity (shot, flush, steam,
backflush, ...) is played in real time, with a margin around it, so that the shot durations the
integration measures are the real ones. The replay loops forever.

Nothing here imports Home Assistant.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
import csv
from dataclasses import dataclass
from datetime import datetime
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

PUMP_WATTS = 52.0  # a vibration pump, as in the trace's machine
REAL_TIME_BEFORE = 30.0  # seconds before a labelled activity that are played in real time
REAL_TIME_AFTER = 15.0  # and after it
REAL_TIME_KINDS = frozenset({"shot", "flush", "steam", "hot_water", "backflush", "autofill"})

OFF = "off"
ON = "on"
ACTIVITIES = (OFF, ON, "shot", "flush", "steam", "hot_water", "backflush", "autofill")


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


@dataclass(frozen=True, slots=True)
class Step:
    """One sample of the schedule."""

    at: float  # seconds after the start of a loop, in demo (wall clock) time
    power: float | None  # watts; None while the plug is unavailable
    trace_time: str  # the sample's timestamp in the trace (ISO 8601)
    activity: str  # what the labels say the machine does at that moment
    shots: int  # labelled shots finished so far in this loop


@dataclass(frozen=True, slots=True)
class Schedule:
    """A whole loop of the replay."""

    steps: tuple[Step, ...]
    length: float  # seconds of one loop
    shots_per_loop: int
    machine: str


def _merge(windows: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _warp(t: float, t0: float, windows: list[tuple[float, float]], speed: float) -> float:
    """Seconds of demo time from trace time t0 to trace time t."""
    fast = t - t0
    real = 0.0
    for start, end in windows:
        lo, hi = max(start, t0), min(end, t)
        if hi > lo:
            real += hi - lo
            fast -= hi - lo
    return real + fast / speed


def load_schedule(csv_path: Path, labels_path: Path, speed: float) -> Schedule:
    """Read a trace and its labels and lay them out in demo time."""
    rows: list[tuple[float, float | None, str]] = []
    with csv_path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            try:
                power: float | None = float(row["state"])
            except ValueError:
                power = None  # "unavailable" / "unknown"
            rows.append((_ts(row["last_changed"]), power, row["last_changed"]))
    if not rows:
        raise ValueError(f"{csv_path} holds no samples")
    rows.sort(key=lambda r: r[0])
    labels = json.loads(labels_path.read_text(encoding="utf-8"))
    scale = 1000.0 if labels.get("unit") == "kW" else 1.0

    activities: list[tuple[float, float, str]] = [
        (_ts(start), _ts(end), "shot") for start, end in labels.get("shots", [])
    ]
    switches: list[tuple[float, str]] = []
    for event in labels.get("events", []):
        if event["kind"] in ("power_on", "power_off"):
            switches.append((_ts(event["start"]), ON if event["kind"] == "power_on" else OFF))
        else:
            activities.append((_ts(event["start"]), _ts(event["end"]), event["kind"]))
    switches.sort()
    shot_ends = sorted(end for start, end, kind in activities if kind == "shot")
    windows = _merge(
        [
            (start - REAL_TIME_BEFORE, end + REAL_TIME_AFTER)
            for start, end, kind in activities
            if kind in REAL_TIME_KINDS
        ]
    )
    # Before the first power event the machine is in the opposite state of that event.
    initial = ON if not switches or switches[0][1] == OFF else OFF

    t0 = rows[0][0]
    steps = []
    for t, power, stamp in rows:
        activity = next((kind for start, end, kind in activities if start <= t <= end), None)
        if activity is None:
            before = [state for at, state in switches if at <= t]
            activity = before[-1] if before else initial
        steps.append(
            Step(
                at=_warp(t, t0, windows, speed),
                power=None if power is None else round(power * scale, 1),
                trace_time=stamp,
                activity=activity,
                shots=bisect_right(shot_ends, t),
            )
        )
    # Hold the last sample for a minute (of trace time) before starting over.
    length = steps[-1].at + 60.0 / speed
    return Schedule(
        steps=tuple(steps),
        length=length,
        shots_per_loop=len(shot_ends),
        machine=str(labels.get("machine", "espresso machine")),
    )


class Simulator:
    """Plays a schedule in a loop; entities read its state and listen for changes."""

    def __init__(self, schedule: Schedule) -> None:
        """Start at the first sample with the relay off."""
        self.schedule = schedule
        self.relay_on = False
        self.loop_count = 0
        self._step = schedule.steps[0]
        self._listeners: list[Callable[[], None]] = []

    @property
    def step(self) -> Step:
        """The sample being played."""
        return self._step

    @property
    def power(self) -> float | None:
        """What the plug measures: the trace, plus the pump while the relay runs it."""
        power = self._step.power
        if power is None:
            return None
        if self.relay_on and self._step.activity != OFF:
            power += PUMP_WATTS
        return round(power, 1)

    @property
    def shots_played(self) -> int:
        """Labelled shots replayed since the start of the demo."""
        return self.loop_count * self.schedule.shots_per_loop + self._step.shots

    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` on every change; returns a function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def set_relay(self, on: bool) -> None:
        """Switch the pump relay."""
        self.relay_on = on
        self._notify()

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    async def run(self) -> None:
        """Replay the schedule forever (until cancelled)."""
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            for step in self.schedule.steps:
                delay = started + step.at - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                self._step = step
                self._notify()
            delay = started + self.schedule.length - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self.loop_count += 1
