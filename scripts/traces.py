"""Loading of Home Assistant history-export traces (CSV) and their labels, for replay and bench.

A trace is ``NAME.csv`` with the header ``entity_id,state,last_changed`` (a value holds until
the next row; states may be ``unavailable``/``unknown``) and optionally ``NAME.labels.json``
beside it (true shot intervals, machine kind, plug, unit). No Home Assistant import.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime
import importlib
import importlib.util
from itertools import pairwise
import json
from pathlib import Path
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
ENGINE_DIR = ROOT / "custom_components" / "espresso_care" / "engine"
ENGINE_PACKAGE = "espresso_care_engine"


def _load_engine() -> ModuleType:
    """Import the pure-Python engine package on its own, under ``ENGINE_PACKAGE``.

    ``custom_components.espresso_care`` itself is the Home Assistant glue: importing the engine
    through it would import Home Assistant (seconds of start-up, and a dependency the replay
    and bench tools do not need). The engine only uses relative imports, so it loads fine as a
    package of its own.
    """
    if ENGINE_PACKAGE in sys.modules:
        return sys.modules[ENGINE_PACKAGE]
    spec = importlib.util.spec_from_file_location(
        ENGINE_PACKAGE, ENGINE_DIR / "__init__.py", submodule_search_locations=[str(ENGINE_DIR)]
    )
    if spec is None or spec.loader is None:  # pragma: no cover - the file is part of the repo
        raise ImportError(f"cannot load the engine from {ENGINE_DIR}")
    package = importlib.util.module_from_spec(spec)
    sys.modules[ENGINE_PACKAGE] = package
    spec.loader.exec_module(package)
    return package


_load_engine()
_detector = importlib.import_module(f"{ENGINE_PACKAGE}.detector")
_events = importlib.import_module(f"{ENGINE_PACKAGE}.events")
_profiles = importlib.import_module(f"{ENGINE_PACKAGE}.profiles")
_units = importlib.import_module(f"{ENGINE_PACKAGE}.units")

ShotDetector = _detector.ShotDetector
BackflushDetected = _events.BackflushDetected
ShotFinished = _events.ShotFinished
saves_model = _events.saves_model
MACHINE_TYPES: tuple[str, ...] = _profiles.MACHINE_TYPES
settings_for = _profiles.settings_for
to_watts = _units.to_watts

# labels' machine_kind -> integration machine type
KIND_TO_TYPE = {
    "single_pid": "single_boiler",
    "single_thermostat": "single_boiler",
    "hx": "heat_exchanger",
    "dual": "dual_boiler",
    "thermoblock": "thermoblock",
    "capsule": "capsule",
}

type Interval = tuple[float, float]


def parse_time(text: str) -> float:
    """ISO 8601 (``2026-03-02T05:00:00.169Z``) to POSIX seconds; naive times are UTC."""
    stamp = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


def format_time(ts: float) -> str:
    """POSIX seconds to ISO 8601 UTC with milliseconds and a ``Z``."""
    stamp = datetime.fromtimestamp(ts, tz=UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def read_rows(path: Path) -> Iterator[tuple[float, str]]:
    """Yield the (timestamp, raw state) rows of a history CSV, in file order."""
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            state = row.get("state")
            stamp = row.get("last_changed") or row.get("last_updated")
            if state is None or not stamp:
                continue
            yield parse_time(stamp), state


def load_samples(path: Path, unit: str | None = "W") -> list[tuple[float, float | None]]:
    """Load a trace as (timestamp, watts or None) samples."""
    return [(ts, to_watts(state, unit)) for ts, state in read_rows(path)]


@dataclass(slots=True)
class Trace:
    """A trace and its labels."""

    name: str
    path: Path
    labels: dict[str, Any] = field(default_factory=dict)

    @property
    def unit(self) -> str:
        """Unit of the power values."""
        return str(self.labels.get("unit", "W"))

    @property
    def machine_type(self) -> str:
        """Integration machine type derived from the labels' machine kind."""
        return KIND_TO_TYPE.get(str(self.labels.get("machine_kind")), "single_boiler")

    @property
    def plug(self) -> str:
        """Plug model of the trace."""
        return str(self.labels.get("plug", "unknown"))

    @property
    def shots(self) -> list[Interval]:
        """True shot intervals."""
        return [(parse_time(a), parse_time(b)) for a, b in self.labels.get("shots", [])]

    def events(self, kind: str) -> list[Interval]:
        """Labelled events of a kind (flush, backflush, ...)."""
        return [
            (parse_time(e["start"]), parse_time(e["end"]))
            for e in self.labels.get("events", [])
            if e.get("kind") == kind
        ]

    def samples(self) -> list[tuple[float, float | None]]:
        """Load the trace's samples in watts."""
        return load_samples(self.path, self.unit)


def load_trace(path: Path) -> Trace:
    """Load a trace CSV and its labels (empty when there is no labels file)."""
    labels_path = path.with_name(path.name.removesuffix(".csv") + ".labels.json")
    labels: dict[str, Any] = {}
    if labels_path.exists():
        labels = json.loads(labels_path.read_text(encoding="utf-8"))
    return Trace(name=path.name.removesuffix(".csv"), path=path, labels=labels)


def find_traces(root: Path) -> list[Trace]:
    """All labelled traces under ``root`` (``*.source.csv`` originals are skipped)."""
    paths = sorted(p for p in root.rglob("*.csv") if not p.name.endswith(".source.csv"))
    return [load_trace(p) for p in paths if p.with_name(p.stem + ".labels.json").exists()]


@dataclass(slots=True)
class Replay:
    """What the detector found in a trace."""

    shots: list[Interval]
    backflushes: list[Interval]
    samples: int


def replay(
    samples: Iterable[tuple[float, float | None]],
    machine_type: str,
    tick_every: float | None = None,
    **overrides: float,
) -> Replay:
    """Run a fresh detector over samples; optionally ticked as Home Assistant ticks it.

    With ``tick_every``: the shot counter's timer, armed after each reading for the detector's
    ``next_tick(tick_every)`` and run when no reading came first (re-armed after each tick).
    """
    detector = ShotDetector(settings_for(machine_type, **overrides))
    shots: list[Interval] = []
    backflushes: list[Interval] = []
    count = 0
    next_tick: float | None = None
    last_ts = 0.0
    for ts, watts in samples:
        count += 1
        if tick_every is not None:
            while next_tick is not None and next_tick < ts:
                _collect(detector.tick(next_tick), shots, backflushes)
                next_tick = detector.next_tick(tick_every)
        _collect(detector.feed(ts, watts), shots, backflushes)
        if tick_every is not None:
            next_tick = detector.next_tick(tick_every)
        last_ts = ts
    # the plug stays silent after its last row: let the last run end
    _collect(detector.tick(last_ts + 3600.0), shots, backflushes)
    return Replay(shots=shots, backflushes=backflushes, samples=count)


def _collect(events: Iterable[object], shots: list[Interval], backflushes: list[Interval]) -> None:
    for event in events:
        if isinstance(event, ShotFinished):
            shots.append((event.start, event.end))
        elif isinstance(event, BackflushDetected):
            backflushes.append((event.start, event.end))


@dataclass(slots=True)
class Score:
    """Detection quality against labelled shots."""

    true_positives: int
    detected: int
    labelled: int
    duration_errors: list[float]

    @property
    def precision(self) -> float:
        """Share of detected shots that are real."""
        return self.true_positives / self.detected if self.detected else 1.0

    @property
    def recall(self) -> float:
        """Share of real shots that were detected."""
        return self.true_positives / self.labelled if self.labelled else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: Score) -> Score:
        """Pool two scores."""
        return Score(
            self.true_positives + other.true_positives,
            self.detected + other.detected,
            self.labelled + other.labelled,
            self.duration_errors + other.duration_errors,
        )


def score(detected: list[Interval], labelled: list[Interval]) -> Score:
    """Match detected to labelled shots (overlap, each matched at most once, best overlap)."""
    pairs = []
    for i, (a, b) in enumerate(detected):
        for j, (c, d) in enumerate(labelled):
            overlap = min(b, d) - max(a, c)
            if overlap > 0:
                pairs.append((overlap, i, j))
    pairs.sort(reverse=True)
    used_d: set[int] = set()
    used_l: set[int] = set()
    errors: list[float] = []
    for _, i, j in pairs:
        if i in used_d or j in used_l:
            continue
        used_d.add(i)
        used_l.add(j)
        (a, b), (c, d) = detected[i], labelled[j]
        errors.append(abs((b - a) - (d - c)))
    return Score(len(used_d), len(detected), len(labelled), errors)


@dataclass(slots=True)
class RestartResult:
    """Shots after restarts between consecutive labelled shots, against the uninterrupted run."""

    restarts: int
    expected: int  # shots the uninterrupted run found after a restart point (up to the next)
    found: int  # of those, the ones the restarted detector found too
    extra: int  # shots only the restarted detector found


def restart_points(labelled: list[Interval]) -> list[float]:
    """Return a restart moment between every pair of consecutive labelled shots (mid-gap)."""
    return [(a_end + b_start) / 2.0 for (_, a_end), (b_start, _) in pairwise(labelled)]


def replay_with_restarts(
    samples: list[tuple[float, float | None]],
    labelled: list[Interval],
    machine_type: str,
    *,
    keep_model: bool,
    saved_only: bool = False,
    tick_every: float = 5.0,
) -> RestartResult:
    """Restart the detector between every pair of consecutive labelled shots.

    One detector runs through the whole trace. At each restart moment a new detector starts
    (with ``restore_model(export_model())`` of the running one when ``keep_model``, else cold),
    is fed the value holding at that moment and then the samples up to the next restart
    moment. The shots it finds there are compared with the ones the uninterrupted detector
    found in the same window (matched as ``score`` does: overlapping, each at most once).
    With ``saved_only`` the model is the one the integration saved last (after the last event
    ``saves_model`` names): what a crash resumes with, where a reload or a clean restart saves
    the model of the moment.
    """
    settings = settings_for(machine_type)
    points = restart_points(labelled)
    whole = ShotDetector(settings)
    whole_shots: list[Interval] = []
    saved = whole.export_model()
    windows: list[list[Interval]] = [[] for _ in points]
    restarted: ShotDetector | None = None
    index = -1  # the restart window the samples are in
    held: float | None = None
    next_tick: float | None = None

    def run_on(events: list[Any]) -> None:
        nonlocal saved
        _collect(events, whole_shots, [])
        if saved_only and any(saves_model(event) for event in events):
            saved = whole.export_model()

    def step(ts: float, watts: float | None, *, sample: bool) -> None:
        nonlocal index, restarted, held
        while index + 1 < len(points) and points[index + 1] <= ts:
            index += 1
            at = points[index]
            run_on(whole.tick(at))
            if restarted is not None:
                _collect(restarted.tick(at + 3600.0), windows[index - 1], [])
            restarted = ShotDetector(settings)
            if keep_model:
                restarted.restore_model(saved if saved_only else whole.export_model())
            _collect(restarted.feed(at, held), windows[index], [])
        if sample:
            run_on(whole.feed(ts, watts))
            held = watts
            if restarted is not None:
                _collect(restarted.feed(ts, watts), windows[index], [])
        else:
            run_on(whole.tick(ts))
            if restarted is not None:
                _collect(restarted.tick(ts), windows[index], [])

    for ts, watts in samples:
        next_tick = ts if next_tick is None else next_tick
        while next_tick < ts:
            step(next_tick, None, sample=False)
            next_tick += tick_every
        step(ts, watts, sample=True)
    end = samples[-1][0] + 3600.0 if samples else 0.0
    run_on(whole.tick(end))
    if restarted is not None:
        _collect(restarted.tick(end), windows[index], [])
    expected = found = extra = 0
    for i, window in enumerate(windows):
        low = points[i]
        high = points[i + 1] if i + 1 < len(points) else end
        truth = [s for s in whole_shots if low <= s[0] < high]
        mine = [s for s in window if low <= s[0] < high]
        same = score(mine, truth).true_positives
        expected += len(truth)
        found += same
        extra += len(mine) - same
    return RestartResult(restarts=len(points), expected=expected, found=found, extra=extra)
