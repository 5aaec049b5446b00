"""The trace cuts the end-to-end run plays hold what it needs (fast; not marked e2e).

The e2e run compares Home Assistant's counts with the labels of compressed cuts of a recorded
trace; that only proves something while the bare engine, fed the same compressed samples, finds
exactly the labelled shots. When a detector change breaks that, this test says so plainly
(instead of a count mismatch in a real Home Assistant minutes later).
"""

from __future__ import annotations

import pytest

from scripts.traces import replay
from tests.e2e.driver import LATE_SHOT, MORNING, SHOT, TRACE
from tests.e2e.harness import ShotTrace


@pytest.mark.parametrize(
    ("cut", "shots", "flushes"), [(MORNING, 3, 2), (SHOT, 1, 0)], ids=["morning", "first_shot"]
)
def test_compressed_cut_keeps_its_labelled_shots(
    cut: dict[str, object], shots: int, flushes: int
) -> None:
    """The bare engine finds the labelled shots of the compressed cut, at their times."""
    trace = ShotTrace.cut(TRACE, **cut)  # type: ignore[arg-type]
    assert (len(trace.shots), len(trace.flushes)) == (shots, flushes)
    found = replay(trace.samples, trace.machine_type, tick_every=5.0).shots
    assert len(found) == shots
    for (start, end), (label_start, label_end) in zip(found, trace.shots, strict=True):
        assert start == pytest.approx(label_start, abs=1.0)
        assert end - start == pytest.approx(label_end - label_start, abs=3.0)


def test_compression_keeps_shots_and_pauses_real() -> None:
    """Labelled pump events play in real time; a pause between two lasts at least 12 s."""
    real = ShotTrace.cut(TRACE, **{**MORNING, "speed": 1.0})  # type: ignore[arg-type]
    fast = ShotTrace.cut(TRACE, **MORNING)  # type: ignore[arg-type]
    assert fast.duration < real.duration / 5
    real_events, fast_events = sorted(real.shots + real.flushes), sorted(fast.shots + fast.flushes)
    for (a, b), (c, d) in zip(real_events, fast_events, strict=True):
        assert d - c == pytest.approx(b - a, abs=1e-6)
    for i in range(1, len(fast_events)):
        real_pause = real_events[i][0] - real_events[i - 1][1]
        fast_pause = fast_events[i][0] - fast_events[i - 1][1]
        assert fast_pause >= min(real_pause, 12.0) - 1e-6


def test_late_shot_cut_is_real_time() -> None:
    """The shot after a restart plays in real time, 20 s after the first reading."""
    late = ShotTrace.cut(TRACE, **LATE_SHOT)  # type: ignore[arg-type]
    assert len(late.shots) == 1
    assert late.shots[0][0] == pytest.approx(20.0, abs=1.0)
