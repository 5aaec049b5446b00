"""Calibration from a recorded history of the plug's power readings.

``HistoryAnalyzer`` is fed the (timestamp, watts or None) samples of a power sensor's recorded
history in time order, runs a ``ShotDetector`` per machine profile over them and, on
``finish``, tells what it saw: the shots and backflushes (found with the configured settings),
the shots per day, facts about the plug (how often it reports, whether on change or at a
fixed interval, its unit), the figures the detector learned (pump and heater draw) and
suggestions for the settings, each with the reason behind it (a ``Reason``: a key of
``REASON_TEXTS`` and its placeholders, which the integration translates).

It is streaming: per sample the work is O(1) (one ``feed`` per profile, a few histogram
updates) and the memory is bounded by fixed-size histograms and the capped result lists
(``max_listed``), whatever the length of the history.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
import math
from typing import TYPE_CHECKING, Any

from .detector import ShotDetector
from .events import BackflushDetected, ShotDiscarded, ShotFinished, ShotStarted
from .profiles import MACHINE_TYPES, settings_for

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from .profiles import DetectorSettings

# results listed at most (counts go on beyond)
MAX_LISTED = 500
# report intervals: 0.01 s bins below 0.95 s, 0.1 s bins up to 30 s, 1 s bins up to 600 s, then
# one overflow bin (bins centred on multiples of their width)
_MICRO_BINS = 96
_FINE_SECONDS = 30
_FINE_BINS = _MICRO_BINS + 10 * _FINE_SECONDS - 10
_COARSE_BINS = 600 - _FINE_SECONDS
_INTERVAL_BINS = _FINE_BINS + _COARSE_BINS + 1
# a plug reports at a fixed interval when this share of its intervals (while the machine
# draws power) is its usual interval
_POLLED_SHARE = 0.85
# shot durations are poorly measured when the plug cannot report faster than this: its time
# resolution is the 10th percentile of its intervals while the machine draws power (an
# on-change plug is silent while the power is steady, but quick when it changes)
_SLOW_PLUG_SECONDS = 4.0
_RESOLUTION_QUANTILE = 0.1
# pump draw: a learned figure from this up is a rotary pump, below a vibration pump
_ROTARY_FROM_WATTS = 110.0
# per shot, at most this many readings are kept to estimate its pump draw
_RUN_READINGS_MAX = 256
# heater draw: time spent at or above the profile's high_watts, 10 W bins up to 5 kW
_HEATER_BIN_WATTS = 10.0
_HEATER_MAX_WATTS = 5000.0
# a held value counts for at most this long in the heater histogram (a silent plug)
_HOLD_MAX_SECONDS = 60.0
# shot limit suggestions: enough shots, a margin around what was seen, a change worth making
_LIMITS_MIN_SHOTS = 8
_LIMIT_MARGIN_SECONDS = 3.0
_SHOT_MIN_FLOOR_SECONDS = 10.0  # flushes last 2-8 s
_LIMIT_MIN_CHANGE_SECONDS = 3.0
# machine type: a flow heater is on whenever water flows, so its profile finds (nearly) all
# the shots a boiler profile finds; it clearly is none when its profile finds under half
_FLOW_HEATER_SHARE = 0.9
_NO_FLOW_HEATER_SHARE = 0.5
_TYPE_MIN_SHOTS = 3
# a machine type with the other pump is suggested only when the configured one finds less
# than this share of its shots
_OTHER_PUMP_SHARE = 0.5
# a pump draw within this fraction of a learned heater step (or twice it) may be the heater
_STEP_LOOKALIKE = 0.08
_VIBE_TYPES = ("single_boiler", "heat_exchanger", "thermoblock", "capsule")
_ROTARY_TYPES = ("dual_boiler", "heat_exchanger")
_BOILER_TYPES = ("single_boiler", "heat_exchanger")
_FLOW_TYPES = ("thermoblock", "capsule")


def utc_day(ts: float) -> str:
    """Return the UTC date of a POSIX timestamp (ISO format), the default day of a shot."""
    return datetime.fromtimestamp(ts, tz=UTC).date().isoformat()


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2.0


def _quantile(ordered: list[float], q: float) -> float:
    """Linear-interpolated quantile of a sorted, non-empty list."""
    pos = q * (len(ordered) - 1)
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


class _IntervalHistogram:
    """Bounded histogram of report intervals (seconds)."""

    __slots__ = ("bins", "count")

    def __init__(self) -> None:
        self.bins = [0] * _INTERVAL_BINS
        self.count = 0

    @staticmethod
    def index(seconds: float) -> int:
        if seconds < 0.95:
            return int(seconds * 100.0 + 0.5)
        if seconds < _FINE_SECONDS - 0.05:
            return _MICRO_BINS - 10 + int(seconds * 10.0 + 0.5)
        return min(_FINE_BINS + int(seconds - _FINE_SECONDS + 0.5), _INTERVAL_BINS - 1)

    @staticmethod
    def centre(index: int) -> float:
        if index < _MICRO_BINS:
            return index / 100.0
        if index < _FINE_BINS:
            return (index - _MICRO_BINS + 10) / 10.0
        return float(_FINE_SECONDS + index - _FINE_BINS)

    def add(self, seconds: float) -> None:
        self.bins[self.index(seconds)] += 1
        self.count += 1

    def quantile(self, q: float) -> float | None:
        if not self.count:
            return None
        target = q * self.count
        seen = 0
        for i, n in enumerate(self.bins):
            seen += n
            if seen >= target:
                return self.centre(i)
        return None  # pragma: no cover - the counts add up to self.count

    def mode(self) -> tuple[float, float] | None:
        """Return the usual interval (3-bin peak) and the share of intervals within it."""
        if not self.count:
            return None
        bins = self.bins
        best, best_sum = 0, -1
        for i in range(len(bins)):
            window = bins[max(0, i - 1)] + bins[i] + (bins[i + 1] if i + 1 < len(bins) else 0)
            if window > best_sum:
                best, best_sum = i, window
        # the peak's weighted centre
        lo, hi = max(0, best - 1), min(len(bins), best + 2)
        centre = sum(bins[k] * self.centre(k) for k in range(lo, hi)) / best_sum
        # the share within 5 % (at least 0.3 s) of it
        tol = max(0.3, 0.05 * centre)
        within = sum(n for k, n in enumerate(bins) if abs(self.centre(k) - centre) <= tol)
        return centre, within / self.count


@dataclass(slots=True)
class ProfileResult:
    """What one machine profile's detector found in the history."""

    machine_type: str
    shots: list[tuple[float, float]] = field(default_factory=list)
    shot_count: int = 0
    backflushes: list[tuple[float, float, int]] = field(default_factory=list)
    backflush_count: int = 0
    per_day: Counter[str] = field(default_factory=Counter)
    # shots per day that started before ``counted_from`` (counted live after it)
    per_day_before: Counter[str] = field(default_factory=Counter)
    discarded: Counter[str] = field(default_factory=Counter)
    pump_estimates: list[float] = field(default_factory=list)
    snapshot: dict[str, Any] = field(default_factory=dict)

    @property
    def durations(self) -> list[float]:
        """Durations of the listed shots."""
        return [end - start for start, end in self.shots]

    def pump_watts(self) -> float | None:
        """Return the pump draw learned (the detector's own figure, else the shots')."""
        learned = self.snapshot.get("pump_watts")
        if isinstance(learned, int | float) and not isinstance(learned, bool) and learned > 0:
            return float(learned)
        return _median(self.pump_estimates)


class _ProfileRun:
    """One profile's detector and what it found so far."""

    __slots__ = (
        "_before",
        "_day_of",
        "_high",
        "_max_listed",
        "_pump_hi",
        "_pump_lo",
        "_readings",
        "_step",
        "detector",
        "result",
    )

    def __init__(
        self,
        settings: DetectorSettings,
        day_of: Callable[[float], str],
        max_listed: int,
        before: float | None,
    ) -> None:
        self.detector = ShotDetector(settings)
        self._before = before
        self.result = ProfileResult(machine_type=settings.machine_type)
        self._day_of = day_of
        self._max_listed = max_listed
        tol = settings.level_tolerance_watts
        bands = [(settings.pump_min_watts, settings.pump_max_watts)]
        if settings.pump2_max_watts > 0.0:
            bands.append((settings.pump2_min_watts, settings.pump2_max_watts))
        self._pump_lo = min(low for low, _ in bands) - tol
        self._pump_hi = max(high for _, high in bands) + tol
        self._high = settings.high_watts
        # the open run: its readings (timestamp, watts or None) and its first step
        self._readings: list[tuple[float, float | None]] | None = None
        self._step: float | None = None

    def feed(self, ts: float, watts: float | None, prev: float | None) -> None:
        events = self.detector.feed(ts, watts)
        readings = self._readings
        if readings is not None and len(readings) < _RUN_READINGS_MAX:
            readings.append((ts, watts))
        if events:
            self._handle(events, ts, watts, prev)

    def tick(self, now: float) -> None:
        if events := self.detector.tick(now):
            self._handle(events, now, None, None)

    def _handle(
        self, events: Iterable[object], ts: float, watts: float | None, prev: float | None
    ) -> None:
        result = self.result
        for event in events:
            if isinstance(event, ShotStarted):
                self._readings = [(ts, watts)]
                self._step = None
                if watts is not None and prev is not None:
                    self._step = watts - prev
            elif isinstance(event, ShotFinished):
                self._learn_pump(event.end)
                result.shot_count += 1
                day = self._day_of(event.start)
                result.per_day[day] += 1
                if self._before is not None and event.start < self._before:
                    result.per_day_before[day] += 1
                if len(result.shots) < self._max_listed:
                    result.shots.append((event.start, event.end))
            elif isinstance(event, ShotDiscarded):
                self._readings = None
                result.discarded[event.reason] += 1
            elif isinstance(event, BackflushDetected):
                result.backflush_count += 1
                if len(result.backflushes) < self._max_listed:
                    result.backflushes.append((event.start, event.end, event.pulses))

    def _learn_pump(self, end: float) -> None:
        """Estimate the pump draw of a shot that just finished (at ``end``)."""
        readings = self._readings or []
        step = self._step
        self._readings = None
        estimates = self.result.pump_estimates
        if len(estimates) >= self._max_listed:
            return
        # the pump alone (heater off), each reading weighted by how long it held: a plug's
        # averages straddling the pump's start or stop last a second, the pump's draw the shot
        held: list[tuple[float, float]] = []
        for (ts, watts), (next_ts, _) in zip(readings, [*readings[1:], (end, None)], strict=True):
            if watts is not None and self._pump_lo <= watts <= self._pump_hi and ts < end:
                held.append((watts, min(next_ts, end) - ts))
        if held:
            held.sort()
            half = sum(weight for _, weight in held) / 2.0
            for watts, weight in held:
                half -= weight
                if half <= 0.0:
                    estimates.append(watts)
                    break
        elif step is not None and self._pump_lo <= step <= self._pump_hi:
            # the step the pump added to whatever the heater drew
            estimates.append(step)

    def finish(self, now: float) -> ProfileResult:
        self.tick(now)
        self.result.snapshot = dict(self.detector.snapshot())
        return self.result


_PROFILE_FITS = (
    "the {best} profile fits the readings better than {configured} "
    "(shots found per profile: {counts})."
)
_SPREAD = (
    "the {count} shots found lasted {shortest}-{longest} s (usually {median} s, spread {sigma} s)"
)
# The English text of every reason, by key. The integration shows them translated: strings.json
# has each as ``exceptions.history_reason_<key>`` with the same placeholders (a test checks).
# Placeholders are formatted numbers and machine type keys (``single_boiler``), which the
# integration replaces with the type's translated name.
REASON_TEXTS: dict[str, str] = {
    "type_flow_heater": f"the heater ran at full power whenever water flowed; {_PROFILE_FITS}",
    "type_boiler": (
        "the heater often stayed off while water flowed (a boiler, not a flow heater); "
        f"{_PROFILE_FITS}"
    ),
    "type_rotary_pump": f"the pump draws about {{pump_watts}} W, a rotary pump; {_PROFILE_FITS}",
    "type_vibration_pump": (
        f"the pump draws about {{pump_watts}} W, a vibration pump; {_PROFILE_FITS}"
    ),
    "type_profile": _PROFILE_FITS,
    "shot_min": (
        f"{_SPREAD}; {{value}} s stays {{margin}} s below the shortest (the plug's timing is "
        "good to about {resolution} s), and flushes are shorter."
    ),
    "shot_max": (
        f"{_SPREAD}; {{value}} s stays {{margin}} s above the longest, and longer draws (hot "
        "water) are not counted."
    ),
    "plug_too_slow": (
        "The plug reports at most about every {seconds} s, so a shot's length is only known "
        "to within {seconds} s (and a flush can hide between two reports); a plug that "
        "reports every second or on change measures shots well."
    ),
}


@dataclass(frozen=True, slots=True)
class Reason:
    """Why the analysis says something: a key of ``REASON_TEXTS`` and its placeholders."""

    key: str
    placeholders: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The reason in English."""
        return REASON_TEXTS[self.key].format(**self.placeholders)


# The English text of every part of the summary paragraph, by text key. A part that counts
# something (``count`` among its placeholders) has a text per plural form, ``<key>_one`` and
# ``<key>_other``; the others have one text, ``<key>``. The integration shows them translated:
# strings.json has each as ``exceptions.history_summary_<text key>`` (a test checks).
SUMMARY_TEXTS: dict[str, str] = {
    "no_samples": "No recorded power readings in this period: nothing to learn from yet",
    "all_unavailable_one": (
        "The power sensor was unavailable or unknown in the {count} recorded state of this "
        "period: nothing to learn from"
    ),
    "all_unavailable_other": (
        "The power sensor was unavailable or unknown in all {count} recorded states of this "
        "period: nothing to learn from"
    ),
    "shots_one": "{count} shot found",
    "shots_other": "{count} shots found",
    "per_day_one": "({per_day} a day on the {count} day with shots)",
    "per_day_other": "({per_day} a day on the {count} days with shots)",
    "no_shots": "No shot found with the current settings",
    "backflushes_one": "{count} backflush session",
    "backflushes_other": "{count} backflush sessions",
    "shot_length": "shots usually last {seconds} s",
    "pump_vibration": "pump about {watts} W (vibration pump)",
    "pump_rotary": "pump about {watts} W (rotary pump)",
    "heater": "heater about {watts} W",
    "plug_on_change": "the plug reports on change, every {seconds} s (median)",
    "plug_fixed_interval": "the plug reports at a fixed interval, every {seconds} s (median)",
    "suggestions_one": "{count} setting could fit better: see the suggestions.",
    "suggestions_other": "{count} settings could fit better: see the suggestions.",
}
# Parts that continue the part before them (after a space) and that end the paragraph.
_SUMMARY_CONTINUES = frozenset({"per_day"})
_SUMMARY_AFTER = frozenset({"suggestions"})


@dataclass(frozen=True, slots=True)
class SummaryPart:
    """One part of the summary paragraph: a key of ``SUMMARY_TEXTS`` and its placeholders.

    ``key`` has no plural suffix; a part with a ``count`` placeholder picks its text by the
    plural form of that number (``text_key``).
    """

    key: str
    placeholders: dict[str, str] = field(default_factory=dict)

    @property
    def count(self) -> int | None:
        """The number whose plural form picks the text (``None``: one text)."""
        count = self.placeholders.get("count")
        return None if count is None else int(count)

    def text_key(self, plural: str) -> str:
        """Return the key of the text for the plural form ``plural`` (``one``, ``other``)."""
        return self.key if self.count is None else f"{self.key}_{plural}"

    @property
    def text(self) -> str:
        """The part in English (singular for 1 only)."""
        text_key = self.text_key("one" if self.count == 1 else "other")
        return SUMMARY_TEXTS[text_key].format(**self.placeholders)


def render_summary(parts: list[SummaryPart], text: Callable[[SummaryPart], str]) -> str:
    """Join the parts' texts (``text`` gives each in one language) into one paragraph.

    The parts are clauses joined by ``; `` into one sentence, except that ``per_day`` goes on
    the clause before it and ``suggestions`` is a sentence of its own after it.
    """
    clauses: list[str] = []
    after: list[str] = []
    for part in parts:
        said = text(part)
        if part.key in _SUMMARY_AFTER:
            after.append(said)
        elif part.key in _SUMMARY_CONTINUES and clauses:
            clauses[-1] = f"{clauses[-1]} {said}"
        else:
            clauses.append(said)
    return " ".join([f"{'; '.join(clauses)}.", *after]) if clauses else " ".join(after)


@dataclass(slots=True)
class Suggestion:
    """A suggested value of an option, and why."""

    value: float | str
    reason: Reason


@dataclass(slots=True)
class Analysis:
    """The outcome of a history analysis (see ``HistoryAnalyzer``)."""

    machine_type: str
    samples: int
    readings: int
    unavailable: int
    first: float | None
    last: float | None
    main: ProfileResult
    profiles: dict[str, ProfileResult]
    plug: dict[str, Any]
    learned: dict[str, Any]
    suggested: dict[str, Suggestion]
    warnings: dict[str, Reason]
    summary_parts: list[SummaryPart]

    @property
    def summary(self) -> str:
        """The summary paragraph in English (the warnings not included)."""
        return render_summary(self.summary_parts, lambda part: part.text)

    def as_dict(self) -> dict[str, Any]:
        """Plain data (timestamps as POSIX seconds)."""
        return {
            "machine_type": self.machine_type,
            "samples": self.samples,
            "readings": self.readings,
            "unavailable": self.unavailable,
            "first": self.first,
            "last": self.last,
            "shot_count": self.main.shot_count,
            "shots": [
                {"start": a, "end": b, "duration_s": round(b - a, 1)} for a, b in self.main.shots
            ],
            "backflush_count": self.main.backflush_count,
            "backflushes": [
                {"start": a, "end": b, "pulses": n} for a, b, n in self.main.backflushes
            ],
            "per_day": dict(sorted(self.main.per_day.items())),
            "per_day_before_counting": dict(sorted(self.main.per_day_before.items())),
            "profiles": {
                name: {"shots": p.shot_count, "backflushes": p.backflush_count}
                for name, p in self.profiles.items()
            },
            "plug": dict(self.plug),
            "learned": dict(self.learned),
            "suggested": {
                key: {
                    "value": s.value,
                    "reason": s.reason.text,
                    "reason_key": s.reason.key,
                    "placeholders": dict(s.reason.placeholders),
                }
                for key, s in self.suggested.items()
            },
            "warnings": {key: reason.text for key, reason in self.warnings.items()},
            "warning_placeholders": {
                key: dict(reason.placeholders) for key, reason in self.warnings.items()
            },
            "summary": " ".join(
                [self.summary, *(reason.text for reason in self.warnings.values())]
            ),
            "summary_parts": [
                {"key": part.key, "placeholders": dict(part.placeholders)}
                for part in self.summary_parts
            ],
        }


class HistoryAnalyzer:
    """Streams a power history through the detector of every machine profile."""

    __slots__ = (
        "_active_iv",
        "_all_iv",
        "_first",
        "_heater_bins",
        "_high",
        "_last",
        "_last_reading_ts",
        "_last_w",
        "_main",
        "_readings",
        "_runs",
        "_samples",
        "_settings",
        "_standby",
        "_unavailable",
        "_units",
    )

    def __init__(
        self,
        settings: DetectorSettings,
        *,
        overrides: dict[str, float] | None = None,
        day_of: Callable[[float], str] = utc_day,
        max_listed: int = MAX_LISTED,
        counted_from: float | None = None,
    ) -> None:
        """Analyse with ``settings`` (the configured ones) and every other profile.

        ``overrides`` (the user's own settings, e.g. shot limits) are applied to the other
        profiles too; ``day_of`` names the day of a timestamp (local date, for ``per_day``);
        at most ``max_listed`` shots, backflushes and pump estimates are kept per profile;
        shots that started before ``counted_from`` (when the counters began counting live) are
        also counted per day in ``per_day_before``, the shots history may add to the counters.
        """
        self._settings = settings
        self._runs: dict[str, _ProfileRun] = {}
        for machine_type in MACHINE_TYPES:
            profile = (
                settings
                if machine_type == settings.machine_type
                else settings_for(machine_type, **(overrides or {}))
            )
            self._runs[machine_type] = _ProfileRun(profile, day_of, max_listed, counted_from)
        self._main = self._runs[settings.machine_type]
        self._samples = 0
        self._readings = 0
        self._unavailable = 0
        self._first: float | None = None
        self._last: float | None = None
        self._last_w: float | None = None
        self._last_reading_ts: float | None = None
        self._all_iv = _IntervalHistogram()
        self._active_iv = _IntervalHistogram()
        self._units: Counter[str] = Counter()
        self._standby = settings.standby_watts
        self._high = settings.high_watts
        self._heater_bins = [0.0] * int(_HEATER_MAX_WATTS / _HEATER_BIN_WATTS + 1)

    def feed(self, ts: float, watts: float | None, unit: str | None = None) -> None:
        """Process one recorded state: ``watts`` None when unavailable/unknown/invalid.

        ``unit`` is the state's unit of measurement (for the plug facts only: convert to
        watts before). Samples must come in time order; an older or repeated one is ignored.
        """
        last = self._last
        if last is not None and not ts > last:
            return
        self._samples += 1
        if self._first is None:
            self._first = ts
        self._last = ts
        prev = self._last_w
        if watts is None:
            self._unavailable += 1
        else:
            self._readings += 1
            if unit is not None and (unit in self._units or len(self._units) < 8):
                self._units[unit] += 1
            if prev is not None and self._last_reading_ts is not None:
                self._note_interval(ts - self._last_reading_ts, prev, watts)
            self._last_reading_ts = ts
        if prev is not None and last is not None and prev >= self._high:
            index = min(int(prev / _HEATER_BIN_WATTS), len(self._heater_bins) - 1)
            self._heater_bins[index] += min(ts - last, _HOLD_MAX_SECONDS)
        for run in self._runs.values():
            run.feed(ts, watts, prev)
        self._last_w = watts
        if watts is None:
            self._last_reading_ts = None

    def _note_interval(self, seconds: float, prev: float, watts: float) -> None:
        self._all_iv.add(seconds)
        if prev > self._standby and watts > self._standby:
            self._active_iv.add(seconds)

    def finish(self, now: float | None = None) -> Analysis:
        """Let the last run end (at ``now``, default an hour after the last sample) and report."""
        end = now if now is not None else (self._last or 0.0) + 3600.0
        profiles = {name: run.finish(end) for name, run in self._runs.items()}
        main = profiles[self._settings.machine_type]
        plug = self._plug_facts()
        pump_family = self._pump_family(profiles)
        best = self._best_type(profiles, pump_family)
        # the pump draw as a profile with one pump range learned it (a heat exchanger's
        # profile allows both pumps: the family's single-pump profile tells which)
        pump_from = profiles[best]
        if best == "heat_exchanger" and pump_family is not None:
            pump_from = profiles[pump_family]
        learned = self._learned(profiles[best], pump_from)
        suggested: dict[str, Suggestion] = {}
        warnings: dict[str, Reason] = {}
        if best != self._settings.machine_type:
            suggested["machine_type"] = Suggestion(best, self._type_reason(profiles, best))
        self._suggest_limits(profiles[best], plug, suggested)
        slow = plug.get("resolution_s")
        if slow is not None and slow >= _SLOW_PLUG_SECONDS:
            warnings["plug_too_slow"] = Reason("plug_too_slow", {"seconds": f"{slow:g}"})
        analysis = Analysis(
            machine_type=self._settings.machine_type,
            samples=self._samples,
            readings=self._readings,
            unavailable=self._unavailable,
            first=self._first,
            last=self._last,
            main=main,
            profiles=profiles,
            plug=plug,
            learned=learned,
            suggested=suggested,
            warnings=warnings,
            summary_parts=[],
        )
        analysis.summary_parts = _summary_parts(analysis)
        return analysis

    # ------------------------------------------------------------------ facts

    def _plug_facts(self) -> dict[str, Any]:
        median = self._all_iv.quantile(0.5)
        active = self._active_iv if self._active_iv.count else self._all_iv
        usual = active.mode()
        resolution = active.quantile(_RESOLUTION_QUANTILE)
        polled: bool | None = None
        interval: float | None = None
        if usual is not None:
            interval, share = usual
            polled = share >= _POLLED_SHARE
        unit = self._units.most_common(1)[0][0] if self._units else None
        return {
            "median_report_interval_s": None if median is None else round(median, 2),
            "usual_report_interval_s": None if interval is None else round(interval, 2),
            "resolution_s": None if resolution is None else round(resolution, 2),
            "reports_on_change": None if polled is None else not polled,
            "unit": unit,
            "units": sorted(self._units),
        }

    def _heater_watts(self) -> float | None:
        """90th percentile of the power held at or above high_watts, weighted by time."""
        total = sum(self._heater_bins)
        if total < 10.0:
            return None
        target = 0.9 * total
        seen = 0.0
        for i, held in enumerate(self._heater_bins):
            seen += held
            if seen >= target:
                return (i + 0.5) * _HEATER_BIN_WATTS
        return None  # pragma: no cover - the bins add up to total

    def _learned(self, result: ProfileResult, pump_from: ProfileResult) -> dict[str, Any]:
        snapshot = result.snapshot
        pump = pump_from.pump_watts()
        full = snapshot.get("heater_full_watts")
        heater = float(full) if isinstance(full, int | float) and full else self._heater_watts()
        step = snapshot.get("heater_step_watts")
        durations = sorted(result.durations)
        return {
            "from_profile": result.machine_type,
            "pump_watts": None if pump is None else round(pump, 1),
            "pump_kind": None
            if pump is None
            else ("rotary" if pump >= _ROTARY_FROM_WATTS else "vibration"),
            "heater_watts": None if heater is None else round(heater),
            "heater_step_watts": step if isinstance(step, int | float) and step else None,
            "shot_seconds_median": round(_quantile(durations, 0.5), 1) if durations else None,
            "shot_seconds_p10": round(_quantile(durations, 0.1), 1) if durations else None,
            "shot_seconds_p90": round(_quantile(durations, 0.9), 1) if durations else None,
        }

    # ------------------------------------------------------------------ suggestions

    def _pump_family(self, profiles: dict[str, ProfileResult]) -> str | None:
        """``single_boiler`` (vibration pump) or ``dual_boiler`` (rotary), None when unclear.

        The single-pump profile that finds more shots wins, unless its pump draw is a heater
        step in disguise (a PID heater's step near a rotary pump's draw).
        """
        votes = {}
        for name in ("single_boiler", "dual_boiler"):
            result = profiles[name]
            pump = result.pump_watts()
            if result.shot_count < _TYPE_MIN_SHOTS or pump is None:
                continue
            step = result.snapshot.get("heater_step_watts")
            if (
                isinstance(step, int | float)
                and step > 0
                and any(abs(pump - k * step) <= _STEP_LOOKALIKE * pump for k in (1, 2))
            ):
                continue
            votes[name] = result.shot_count
        if not votes:
            return None
        configured = self._settings.machine_type
        preferred = "dual_boiler" if configured == "dual_boiler" else "single_boiler"
        return max(votes, key=lambda name: (votes[name], name == preferred))

    def _best_type(self, profiles: dict[str, ProfileResult], pump_family: str | None) -> str:
        """Return the machine type that fits the history best (else the configured one).

        The pump draw tells a vibration from a rotary pump. Among vibration pump machines, a
        thermoblock or capsule machine heats while water flows: its profile (which asks for
        the heater) then finds as many shots as a boiler profile; a boiler heats less, so its
        shots are lost under the thermoblock profile. The configured type is kept when it is
        among those that fit, or when the others find the same shots.
        """
        configured = self._settings.machine_type
        if pump_family is None:
            return configured
        if pump_family == "dual_boiler":
            family: tuple[str, ...] = _ROTARY_TYPES
        else:
            boiler = profiles["single_boiler"].shot_count
            flow = profiles["thermoblock"].shot_count
            if flow >= _FLOW_HEATER_SHARE * boiler:
                family = _FLOW_TYPES
            elif flow < _NO_FLOW_HEATER_SHARE * boiler:
                family = _BOILER_TYPES
            else:
                family = _VIBE_TYPES
        if configured in family:
            return configured
        best = family[0]
        if _same_shots(profiles[best].shots, profiles[configured].shots):
            return configured
        other_pump = configured not in _VIBE_TYPES or (
            pump_family == "dual_boiler" and configured not in _ROTARY_TYPES
        )
        # another pump: only when the configured profile clearly misses the shots
        if other_pump and (
            profiles[configured].shot_count >= _OTHER_PUMP_SHARE * profiles[best].shot_count
        ):
            return configured
        return best

    def _type_reason(self, profiles: dict[str, ProfileResult], best: str) -> Reason:
        configured = self._settings.machine_type
        pump = profiles[best].pump_watts()
        placeholders = {
            "best": best,
            "configured": configured,
            "counts": ", ".join(f"{name} {p.shot_count}" for name, p in profiles.items()),
        }
        if best in _FLOW_TYPES:
            return Reason("type_flow_heater", placeholders)
        if configured in _FLOW_TYPES:
            return Reason("type_boiler", placeholders)
        if pump is None:
            return Reason("type_profile", placeholders)
        key = "type_rotary_pump" if pump >= _ROTARY_FROM_WATTS else "type_vibration_pump"
        return Reason(key, {**placeholders, "pump_watts": f"{pump:.0f}"})

    def _suggest_limits(
        self, result: ProfileResult, plug: dict[str, Any], suggested: dict[str, Suggestion]
    ) -> None:
        """Suggest shot limits around the usual shot length and its spread."""
        durations = sorted(result.durations)
        if len(durations) < _LIMITS_MIN_SHOTS:
            return
        settings = (
            self._settings
            if result.machine_type == self._settings.machine_type
            else self._runs[result.machine_type].detector.settings
        )
        median = _quantile(durations, 0.5)
        # a robust spread: the interquartile range of a normal distribution is 1.35 sigma
        sigma = (_quantile(durations, 0.75) - _quantile(durations, 0.25)) / 1.35
        resolution = max(1.0, plug.get("resolution_s") or 1.0)
        margin = _LIMIT_MARGIN_SECONDS + resolution
        shortest, longest = durations[0], durations[-1]
        shot_min = float(
            max(_SHOT_MIN_FLOOR_SECONDS, math.floor(min(shortest, median - 3.0 * sigma) - margin))
        )
        shot_max = float(math.ceil(max(longest, median + 3.0 * sigma) + margin))
        spread = {
            "count": str(len(durations)),
            "shortest": f"{shortest:.0f}",
            "longest": f"{longest:.0f}",
            "median": f"{median:.0f}",
            "sigma": f"{sigma:.1f}",
        }
        current_min, current_max = settings.shot_min_seconds, settings.shot_max_seconds
        candidates: dict[str, Suggestion] = {}
        # raise the lower limit when every shot is well above it (fewer flushes and refills
        # taken for shots); lower it only when shots come close to it (shorter ones are lost)
        if shot_min - current_min >= _LIMIT_MIN_CHANGE_SECONDS or (
            current_min - shot_min >= _LIMIT_MIN_CHANGE_SECONDS and shortest < current_min + margin
        ):
            candidates["shot_min_seconds"] = Suggestion(
                shot_min,
                Reason(
                    "shot_min",
                    {
                        **spread,
                        "value": f"{shot_min:g}",
                        "margin": f"{shortest - shot_min:g}",
                        "resolution": f"{resolution:g}",
                    },
                ),
            )
        # lower the upper limit when every shot is well below it (hot water is not counted);
        # raise it only when shots come close to it (longer ones are lost)
        if current_max - shot_max >= _LIMIT_MIN_CHANGE_SECONDS or (
            shot_max - current_max >= _LIMIT_MIN_CHANGE_SECONDS and longest > current_max - margin
        ):
            candidates["shot_max_seconds"] = Suggestion(
                shot_max,
                Reason(
                    "shot_max",
                    {**spread, "value": f"{shot_max:g}", "margin": f"{shot_max - longest:g}"},
                ),
            )
        limits = {
            "shot_min_seconds": settings.shot_min_seconds,
            "shot_max_seconds": settings.shot_max_seconds,
        } | {key: float(s.value) for key, s in candidates.items()}
        try:
            settings_for(settings.machine_type, **limits)
        except ValueError:
            return
        suggested.update(candidates)


def _same_shots(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> bool:
    """Tell whether two shot lists pair up one to one, each pair overlapping."""
    return len(a) == len(b) and all(
        min(end, end2) > max(start, start2)
        for (start, end), (start2, end2) in zip(a, b, strict=True)
    )


def _summary_parts(analysis: Analysis) -> list[SummaryPart]:
    """Return the parts of the paragraph telling what was found (the warnings not included)."""
    if analysis.samples == 0:
        return [SummaryPart("no_samples")]
    if analysis.readings == 0:
        return [SummaryPart("all_unavailable", {"count": str(analysis.samples)})]
    main, learned, plug = analysis.main, analysis.learned, analysis.plug
    days = max(1, len(main.per_day))
    parts = (
        [
            SummaryPart("shots", {"count": str(main.shot_count)}),
            SummaryPart(
                "per_day", {"per_day": f"{main.shot_count / days:.1f}", "count": str(days)}
            ),
        ]
        if main.shot_count
        else [SummaryPart("no_shots")]
    )
    if main.backflush_count:
        parts.append(SummaryPart("backflushes", {"count": str(main.backflush_count)}))
    if learned.get("shot_seconds_median") is not None:
        parts.append(SummaryPart("shot_length", {"seconds": f"{learned['shot_seconds_median']:g}"}))
    if learned.get("pump_watts") is not None:
        kind = "rotary" if learned.get("pump_kind") == "rotary" else "vibration"
        parts.append(SummaryPart(f"pump_{kind}", {"watts": f"{learned['pump_watts']:g}"}))
    if learned.get("heater_watts") is not None:
        parts.append(SummaryPart("heater", {"watts": f"{learned['heater_watts']:g}"}))
    interval = plug.get("median_report_interval_s")
    if interval is not None:
        how = "plug_on_change" if plug.get("reports_on_change") else "plug_fixed_interval"
        parts.append(SummaryPart(how, {"seconds": f"{interval:g}"}))
    if analysis.suggested:
        parts.append(SummaryPart("suggestions", {"count": str(len(analysis.suggested))}))
    return parts
