"""Simulated smart-plug reporting, to re-sample a 1 Hz trace as another plug would send it.

The labelled traces cover each plug type on only some machines. Re-sampling every 1 Hz trace
(a plug's 1 s average, the closest we have to the true power) through the reporting rules of
the other plugs gives the detector machine/plug pairs it was never tuned on. The rules follow
``shared/traces/README.md`` and the plugs' documentation:

- ``shelly_gen2``: report on a change of more than 5 % (at least 2 W), heartbeat every 60 s
- ``shelly_gen1``: report on a change of more than 10 % (at least 2 W), heartbeat every 30 s
- ``zigbee_5w``: report on a change of more than 5 W, at most every 5 s, heartbeat every 300 s
- ``tasmota_tele10``: one reading every 10 s (the power at that moment)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

type Samples = list[tuple[float, float | None]]


def on_change(
    samples: Iterable[tuple[float, float | None]],
    *,
    relative: float,
    minimum: float,
    heartbeat: float,
    min_interval: float = 0.0,
) -> Samples:
    """Report a reading when it differs enough from the last report, plus heartbeats.

    A change is reported when it exceeds ``max(relative * last, minimum)`` and at least
    ``min_interval`` seconds passed since the last report; the last value is re-sent every
    ``heartbeat`` seconds while nothing else is reported. ``None`` (unavailable) is always sent.
    """
    out: Samples = []
    last: float | None = None
    last_ts = float("-inf")
    for ts, value in samples:
        if value is None:
            if last is not None or not out:
                out.append((ts, None))
            last, last_ts = None, ts
            continue
        if last is None:
            out.append((ts, value))
            last, last_ts = value, ts
            continue
        while ts - last_ts >= heartbeat:
            last_ts += heartbeat
            out.append((last_ts, last))
        threshold = max(relative * abs(last), minimum)
        if abs(value - last) > threshold and ts - last_ts >= min_interval:
            out.append((ts, value))
            last, last_ts = value, ts
    return out


def polled(samples: Iterable[tuple[float, float | None]], *, period: float) -> Samples:
    """Read the power every ``period`` seconds (the value holding at that moment)."""
    out: Samples = []
    next_ts: float | None = None
    current: float | None = None
    for ts, value in samples:
        if next_ts is None:
            next_ts = ts
        while next_ts < ts:
            out.append((next_ts, current))
            next_ts += period
        current = value
    return out


PLUGS: dict[str, Callable[[Samples], Samples]] = {
    "shelly_gen2": lambda s: on_change(s, relative=0.05, minimum=2.0, heartbeat=60.0),
    "shelly_gen1": lambda s: on_change(s, relative=0.10, minimum=2.0, heartbeat=30.0),
    "zigbee_5w": lambda s: on_change(
        s, relative=0.0, minimum=5.0, heartbeat=300.0, min_interval=5.0
    ),
    "tasmota_tele10": lambda s: polled(s, period=10.0),
}
