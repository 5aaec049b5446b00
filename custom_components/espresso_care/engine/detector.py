"""Shot detection from a smart plug's power readings.

Model: a reading is ``heater + pump`` where the heater draws one of a few *levels* and the pump
either nothing or its own draw (a vibration pump 40-65 W, a rotary pump ~170 W):

- a PID heater (time-proportional output averaged by the plug) draws a multiple of a heater
  *step* ``q`` (heater power x duty granularity, e.g. 137 W on a 1370 W boiler);
- a thermostat / pressurestat heater draws 0 or its full power ``H``;
- a thermoblock or capsule machine idles with PID pulses (multiples of ``q``) and heats at full
  power ``H`` while water flows.

``q`` is learned as the most common step between consecutive readings that also shows up as a
reading itself (a PID heater switches all the time, its shortest pulse reads one step), ``H``
as the plateau of the power-on heat-up (no water flows then; the lowest such plateau wins, as a
brew right after power-on reads higher). A reading is *pump on* when ``reading - level`` lies
in the profile's pump range for some heater level clearly better than ``reading`` matches a
level itself, *pump off* in the opposite case and *ambiguous* otherwise. Ambiguous readings
(a plug's average straddling a switch, or a model not learned yet) keep the pump state; one
that is close to "pump off" and is not followed by another report for a few seconds means the
pump stopped (an on-change plug does not report the small settling step after a transition).

Pump on/off switches (timestamped with the first sample showing them, which keeps durations
unbiased for polled plugs too) form *segments*; pauses shorter than ``blip_seconds`` do not
split a segment. Segments separated by pauses of at most ``merge_gap_seconds`` (pre-infusion;
plus the report interval of a polled plug, which may hide part of the pause)
form a *run*, which lasts from its first segment's start to the end of its longest segment
(refill or flush pulses right after a shot do not lengthen it). When the pause after a run
exceeds the merge gap (on a sample or a tick), the run is classified: a shot if its length is
within ``[shot_min, shot_max]``, its longest segment covers at least half of it (pre-infusion
is short and comes first; backflush pulses are all alike) and, where the profile asks for it,
the heater came on (a thermoblock heats while water flows; a long draw through a single boiler
without heating is hot water). A run that would exceed ``shot_max`` is discarded as soon as
that is certain, except that a complete shot before a short pause stays a shot. Pulses of
``pulse_min..pulse_max`` seconds separated by at most ``backflush_gap_seconds`` form a
backflush session, reported when it has ``backflush_min_pulses``. A plug polled at a fixed
interval (e.g. Tasmota every 10 s) can show two backflush pulses as one shot-length run; there
pulses may look one interval longer, and a short shot is only reported once its backflush
session closed with fewer pulses than a backflush has (it is then up to
``backflush_gap_seconds`` late).

Everything time-driven is evaluated the same way by ``feed`` (before the new sample) and by
``tick``, so ticks only make events arrive earlier. Per sample the work is O(1): a handful of
scalars, two bounded histograms and a bounded memo of the classification of reading values.
"""

from __future__ import annotations

from collections.abc import Mapping
import math
from typing import TYPE_CHECKING, Any

from .events import (
    BackflushDetected,
    DetectorEvent,
    MachineState,
    ShotDiscarded,
    ShotFinished,
    ShotStarted,
    StateChanged,
)

if TYPE_CHECKING:
    from .profiles import DetectorSettings

# version of the dict export_model() returns; restore_model() accepts this version only
MODEL_VERSION = 1
# plausible ranges of learned figures a restored model may carry
_MODEL_WATTS_MAX = 10_000.0
_MODEL_PUMP_MAX = 1_000.0

_INF = math.inf
# heater step learning: histograms of steps between readings and of readings, 2 W bins over
# [heater_step_min_watts, heater_step_max_watts]; re-estimated every 16 new steps, less and
# less often (up to every 4096) while the estimate does not move
_STEP_BIN_WATTS = 2.0
_PER_BIN = 1.0 / _STEP_BIN_WATTS
_STEP_RECOMPUTE_EVERY = 16
_STEP_RECOMPUTE_MAX = 4096
# a step is accepted with at least this many occurrences (in a 6 W window) ...
_STEP_MIN_COUNT = 24
# ... standing out this much above the average bin (transients spread everywhere) ...
_STEP_SHARPNESS = 8.0
# ... and read as a power level itself at least this often per occurrence as a step
_LEVEL_SUPPORT = 0.25
# the smallest peak at least this fraction of the largest is the step (2 steps are common too)
_STEP_PEAK_RATIO = 0.3
# bound of the memo of reading classifications
_CACHE_MAX = 4096
# heat-up plateau: readings within 5 % of the highest, lasting at least 10 s, within 30 min
_HEAT_PLATEAU_RATIO = 0.95
_HEAT_PLATEAU_MIN_SECONDS = 10.0
_HEATING_MAX_SECONDS = 1800.0
# a machine that does not heat at full power this soon after power-on was already warm
_HEATING_START_SECONDS = 30.0

_PUMP_OFF = 0
_PUMP_ON = 1
_LEAN_OFF = 2  # ambiguous, closer to "no pump"
_LEAN_ON = 3  # ambiguous, closer to "pump" (kept as it is)
_AMBIGUOUS = 4  # far from every expected level (model not learned yet, grinder, ...)
# an ambiguous reading "leans" to the closer hypothesis within this many tolerances
_LEAN_TOLERANCES = 3.0
# the pump hypothesis must beat "no pump" by this fraction of the tolerance
_PUMP_BIAS = 0.5
# an ambiguous reading near "no pump" that holds this long (no new report) means the pump stopped
_AMBIGUOUS_HOLD_SECONDS = 3.0
# runs with pump-alone readings in one range only needed before a two-pump profile picks it
_RANGE_VOTES = 2
# a plug whose last readings came at the same interval (within the jitter) of at least
# _POLL_MIN_SECONDS is polled at that interval
_POLL_MIN_SECONDS = 4.0
_POLL_JITTER = 1.0
_POLL_HITS = 3


class ShotDetector:
    """Turns (timestamp, watts) samples into shot, backflush and machine state events."""

    __slots__ = (
        "_amb_ts",
        "_bf_count",
        "_bf_end",
        "_bf_start",
        "_cache",
        "_full",
        "_heat_max",
        "_heat_prev_ts",
        "_heat_prev_w",
        "_heat_sum",
        "_heat_time",
        "_heater_above",
        "_heater_on",
        "_heating",
        "_heating_since",
        "_high_since",
        "_last_dt",
        "_last_ts",
        "_last_w",
        "_level_bins",
        "_main_end",
        "_main_len",
        "_main_poll",
        "_nbins",
        "_paused",
        "_pending_shots",
        "_poll",
        "_poll_hits",
        "_prefix_heater",
        "_pump",
        "_pump_ranges",
        "_q",
        "_range_votes",
        "_run_heater",
        "_run_open",
        "_run_overlong",
        "_run_ranges",
        "_run_start",
        "_seen_off",
        "_seg_end",
        "_seg_pending",
        "_seg_poll",
        "_seg_start",
        "_settings",
        "_standby_since",
        "_state",
        "_step_bins",
        "_step_every",
        "_step_lo",
        "_step_new",
        "_steps_skip_hi",
        "_steps_skip_lo",
    )

    def __init__(self, settings: DetectorSettings) -> None:
        """Create a detector with no history (a shot in progress is never picked up)."""
        self._settings = settings
        self._last_ts = -_INF
        self._last_w: float | None = None
        self._paused = False
        # learned model
        self._q = 0.0
        self._full = 0.0
        # a pump reading from this up has the heater on (see heater_on_ratio)
        self._heater_on = settings.high_watts
        self._pump_ranges = [(settings.pump_min_watts, settings.pump_max_watts)]
        if settings.pump2_max_watts > 0.0:
            self._pump_ranges.append((settings.pump2_min_watts, settings.pump2_max_watts))
        # two-pump profiles: which ranges the pump-alone readings of the current run matched
        self._run_ranges = 0 if len(self._pump_ranges) > 1 else -1
        self._range_votes = [0, 0]
        self._amb_ts: float | None = None
        # a pump reading up to this can be the pump alone
        self._heater_above = (
            max(high for _, high in self._pump_ranges) + settings.level_tolerance_watts
        )
        self._step_lo = settings.heater_step_min_watts
        nbins = int((settings.heater_step_max_watts - self._step_lo) / _STEP_BIN_WATTS) + 1
        self._step_bins = [0] * nbins
        self._level_bins = [0] * nbins
        self._nbins = nbins
        self._step_new = 0
        self._step_every = _STEP_RECOMPUTE_EVERY
        self._steps_skip_lo = settings.pump_min_watts - settings.level_tolerance_watts
        self._steps_skip_hi = settings.pump_max_watts + settings.level_tolerance_watts
        self._cache: dict[float, int] = {}
        # pump segment and run
        self._pump = False
        self._seg_start = 0.0
        self._seg_end = 0.0
        self._seg_pending = False
        self._run_open = False
        self._run_start = 0.0
        self._main_len = 0.0
        self._main_end = 0.0
        self._run_overlong = False
        self._run_heater = False
        self._prefix_heater = False
        # polling interval of the plug when it reads at a fixed rate, else 0
        self._poll = 0.0
        self._poll_hits = 0
        self._seg_poll = 0.0
        self._main_poll = 0.0
        self._last_dt = 0.0
        # a short shot seen through a polled plug, waiting for its backflush session to close
        self._pending_shots: list[tuple[float, float]] = []
        # backflush session
        self._bf_count = 0
        self._bf_start = 0.0
        self._bf_end = 0.0
        # machine state
        self._state = MachineState.OFF
        # a power-on heat-up is only learned from when the machine was seen off: a detector
        # created (or restored) while the machine is on would take a brew for the heat-up
        self._seen_off = False
        self._standby_since: float | None = None
        self._high_since: float | None = None
        self._heating = False
        self._heating_since = 0.0
        self._heat_sum = 0.0
        self._heat_time = 0.0
        self._heat_max = 0.0
        self._heat_prev_ts = 0.0
        self._heat_prev_w = 0.0

    # ------------------------------------------------------------------ public API

    @property
    def settings(self) -> DetectorSettings:
        """The settings the detector runs with."""
        return self._settings

    @property
    def state(self) -> MachineState:
        """What the machine is doing."""
        return self._state

    @property
    def brewing(self) -> bool:
        """True while a pump run that may still become a shot is in progress."""
        return self._run_open and not self._run_overlong and not self._paused

    @property
    def paused(self) -> bool:
        """True between pause() and resume()."""
        return self._paused

    def snapshot(self) -> dict[str, float | str | bool | None]:
        """Learned model and current state, for diagnostics (not for restoring)."""
        return {
            "state": str(self._state),
            "heater_step_watts": round(self._q, 1) or None,
            "heater_full_watts": round(self._full, 1) or None,
            "pump_watts": None,
            "pump_band_watts": " or ".join(f"{low:g}-{high:g}" for low, high in self._pump_ranges),
            "brewing": self.brewing,
            "paused": self._paused,
            "last_sample": None if self._last_ts == -_INF else self._last_ts,
            "last_watts": self._last_w,
            "backflush_pulses": self._bf_count,
        }

    def export_model(self) -> dict[str, Any]:
        """Return what the detector learned, as a JSON-serialisable dict (see ``restore_model``)."""
        return {
            "version": MODEL_VERSION,
            "machine_on": self._state is not MachineState.OFF,
            "pump_watts": None,
            "heater_watts": round(self._full, 1) or None,
        }

    def restore_model(self, data: Mapping[str, Any]) -> bool:
        """Apply a model ``export_model`` returned (e.g. before a restart); True when applied.

        Anything unexpected (another version, a missing or wrongly typed field, a value out of
        range) leaves the detector as it is and returns False; it never raises.
        """
        model = _valid_model(data)
        if model is None:
            return False
        full = model["heater_watts"]
        if full is not None:
            self._set_full(full)
        if model["machine_on"] and self._state is MachineState.OFF:
            # the machine was on a moment ago: its next readings are no power-on heat-up
            self._state = MachineState.READY
        return True

    def feed(self, ts: float, watts: float | None) -> list[DetectorEvent]:
        """Process one sample; ``watts`` None means unavailable/unknown."""
        events: list[DetectorEvent] = []
        if not ts > self._last_ts:
            return events
        dt = ts - self._last_ts
        self._last_ts = ts
        if watts is None or not 0.0 <= watts < _INF:
            if not self._paused and (self._run_open or self._bf_count or self._amb_ts is not None):
                # the last value held until now
                self._advance(ts, events)
            self._unavailable(ts, events)
            return events
        if self._paused:
            self._last_w = watts
            return events
        if self._amb_ts is not None:
            self._advance(ts, events)
            self._amb_ts = None
        if self._run_open or self._bf_count:
            self._advance(ts, events)

        # a polled plug (one reading every N s) hides what happens between two readings
        # (updated after _advance: what time alone decides must not depend on this reading)
        if dt >= _POLL_MIN_SECONDS and -_POLL_JITTER <= dt - self._last_dt <= _POLL_JITTER:
            if self._poll_hits < _POLL_HITS:
                self._poll_hits += 1
            else:
                self._poll = dt
        else:
            self._poll_hits = 0
            self._poll = 0.0
        self._last_dt = dt

        prev = self._last_w
        self._last_w = watts
        if prev is not None:
            step = watts - prev if watts > prev else prev - watts
            if self._step_lo <= step and not self._steps_skip_lo <= step <= self._steps_skip_hi:
                self._learn_step(step)
            index = int((watts - self._step_lo) * _PER_BIN)
            if 0 <= index < self._nbins:
                self._level_bins[index] += 1

        kind = self._cache.get(watts)
        if kind is None:
            kind = self._classify(watts)
        if kind == _PUMP_ON:
            if not self._pump:
                if prev is None:
                    # first reading (after start-up or unavailability) with the pump already
                    # running: its start is unknown, it never counts
                    self._pump_on_unseen(ts)
                else:
                    self._pump_on(ts, events)
            if watts >= self._heater_on:
                self._run_heater = True
            elif self._run_ranges >= 0 and watts <= self._heater_above:
                self._run_ranges |= self._range_bit(watts)
        elif kind == _PUMP_OFF:
            if self._pump:
                self._pump_off(ts)
        elif kind == _LEAN_OFF and self._pump:
            # a reading between the expected levels (a plug's average straddling the pump
            # stopping): keep the pump state; if the plug reports nothing else, the value
            # settled near it (within the plug's report threshold), i.e. the pump is off
            self._amb_ts = ts

        self._track_state(ts, watts, kind, events)
        return events

    def tick(self, now: float) -> list[DetectorEvent]:
        """Let time pass without a new sample (the last value holds until ``now``)."""
        events: list[DetectorEvent] = []
        if not now >= self._last_ts or self._paused or self._last_w is None:
            return events
        if self._run_open or self._bf_count:
            self._advance(now, events)
        self._derive_state(now, events)
        return events

    def _advance(self, now: float, events: list[DetectorEvent]) -> None:
        """Apply what the passing of time alone decides (the same for feed and tick)."""
        settings = self._settings
        amb = self._amb_ts
        if amb is not None:
            if now - amb >= _AMBIGUOUS_HOLD_SECONDS:
                # the reading near "no pump" held: the pump stopped when it came
                self._amb_ts = None
                if self._pump:
                    self._pump_off(amb)
            else:
                # what happened after the ambiguous reading is not known yet
                now = amb
        if self._pump:
            if (
                not self._run_overlong
                and now - self._run_start > settings.shot_max_seconds
                and now - self._seg_start >= self._main_len
            ):
                self._run_overlong = True
                start, end = self._run_start, self._main_end
                if (
                    self._main_len > 0.0
                    and self._verdict(start, end, self._main_len, self._prefix_heater) is None
                ):
                    # a shot, then (after a short pause) a long draw: the shot stands alone
                    events.append(ShotFinished(start=start, end=end))
                else:
                    events.append(ShotDiscarded(start=start, end=now, reason="too_long"))
            return
        if self._seg_pending:
            if now - self._seg_end <= settings.blip_seconds:
                return
            self._finalize_segment(events)
        if self._run_open and now - self._seg_end > settings.merge_gap_seconds + self._seg_poll:
            self._close_run(events)
        if self._bf_count and now - self._bf_end > settings.backflush_gap_seconds:
            self._close_backflush(events)

    def pause(self, now: float) -> list[DetectorEvent]:
        """Stop detecting (an automated backflush runs); any run in progress is dropped."""
        events: list[DetectorEvent] = []
        if self._paused:
            return events
        if self._run_open:
            self._discard_run(now, "paused", events)
        self._pump = False
        self._seg_pending = False
        self._amb_ts = None
        self._close_backflush(events)
        self._paused = True
        self._set_state(now, MachineState.BACKFLUSHING, events)
        return events

    def resume(self, now: float) -> list[DetectorEvent]:
        """Detect again; the state is re-derived from the next readings."""
        events: list[DetectorEvent] = []
        if not self._paused:
            return events
        self._paused = False
        self._last_w = None  # like after unavailability: a run already going never counts
        self._high_since = None
        self._standby_since = None
        self._set_state(now, MachineState.READY, events)
        return events

    # ------------------------------------------------------------------ classification

    def _dist(self, x: float) -> float:
        """Distance of ``x`` to the nearest heater-only level (0, a step multiple, full)."""
        d = x if x >= 0.0 else -x
        q = self._q
        if q > 0.0 and x > 0.0:
            k = round(x / q)
            if k >= 1:
                e = x - k * q
                if e < 0.0:
                    e = -e
                d = min(d, e)
        full = self._full
        if full > 0.0:
            e = x - full
            if e < 0.0:
                e = -e
            d = min(d, e)
        return d

    def _pump_dist(self, x: float) -> float:
        """Distance of ``x`` to ``heater level + pump draw`` (any level, any plausible draw)."""
        best = _INF
        q = self._q
        full = self._full
        tol = self._settings.level_tolerance_watts
        for low, high in self._pump_ranges:
            # heater levels that leave a plausible pump draw on top: 0, a few step multiples
            # just below x - low, and the full heater power
            top = x - low + tol
            levels = [0.0]
            if q > 0.0:
                k = int(top / q)
                levels.extend(j * q for j in range(max(1, k - 3), k + 1))
            if 0.0 < full <= top:
                levels.append(full)
            for level in levels:
                r = x - level
                d = low - r if r < low else (r - high if r > high else 0.0)
                best = min(best, d)
        return best

    def _classify(self, x: float) -> int:
        settings = self._settings
        tol = settings.level_tolerance_watts + settings.level_tolerance_ratio * x
        d0 = self._dist(x)
        # "no pump" is the default: the pump must explain the reading clearly better
        d1 = self._pump_dist(x) + _PUMP_BIAS * tol
        if d1 < d0 and d1 <= tol:
            kind = _PUMP_ON
        elif (d0 <= d1 and d0 <= tol) or x < settings.standby_watts:
            kind = _PUMP_OFF
        elif min(d0, d1) <= _LEAN_TOLERANCES * tol:
            kind = _LEAN_ON if d1 < d0 else _LEAN_OFF
        else:
            kind = _AMBIGUOUS
        cache = self._cache
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        cache[x] = kind
        return kind

    def _learn_step(self, step: float) -> None:
        index = int((step - self._step_lo) / _STEP_BIN_WATTS)
        bins = self._step_bins
        if index >= len(bins):
            return
        bins[index] += 1
        self._step_new += 1
        if self._step_new >= self._step_every:
            self._step_new = 0
            if self._recompute_step():
                self._step_every = _STEP_RECOMPUTE_EVERY
            else:
                # the step is settled: look again less and less often
                self._step_every = min(2 * self._step_every, _STEP_RECOMPUTE_MAX)

    def _recompute_step(self) -> bool:
        """Re-estimate the heater step; return True when it changed."""
        bins = self._step_bins
        n = len(bins)
        smooth = [
            bins[i] + (bins[i - 1] if i else 0) + (bins[i + 1] if i + 1 < n else 0)
            for i in range(n)
        ]
        top = max(smooth)
        # a heater step is a sharp peak; switching transients spread over all bins
        if top < _STEP_MIN_COUNT or top < _STEP_SHARPNESS * 3 * sum(bins) / n:
            return False
        if top > 100_000:
            self._step_bins = [b // 2 for b in bins]
            self._level_bins = [b // 2 for b in self._level_bins]
        threshold = max(_STEP_MIN_COUNT, _STEP_PEAK_RATIO * top)
        levels = self._level_bins
        i = 0
        while i < n:
            if smooth[i] < threshold:
                i += 1
                continue
            # the local maximum of this peak
            j = i
            while j + 1 < n and smooth[j + 1] > smooth[j]:
                j += 1
            # a PID heater also *reads* one step (its shortest pulse) now and then; a step
            # size that never shows as a reading is a switching transient of something else
            support = sum(levels[max(0, j - 2) : j + 3])
            if support >= _LEVEL_SUPPORT * smooth[j]:
                lo, hi = max(0, j - 1), min(n, j + 2)
                weight = sum(bins[lo:hi])
                centre = sum(bins[k] * (k + 0.5) for k in range(lo, hi)) / weight
                q = self._step_lo + centre * _STEP_BIN_WATTS
                if abs(q - self._q) > 0.5:
                    self._q = q
                    self._cache.clear()
                    return True
                return False
            i = j + 2
        return False

    # ------------------------------------------------------------------ pump runs

    def _range_bit(self, x: float) -> int:
        bit = 0
        tol = self._settings.level_tolerance_watts
        for i, (low, high) in enumerate(self._pump_ranges):
            if low - tol <= x <= high + tol:
                bit |= 1 << i
        return bit

    def _vote_range(self) -> None:
        """Let a two-pump profile (heat exchanger) settle on the pump it actually has."""
        mask = self._run_ranges
        if mask not in (1, 2):
            return
        votes = self._range_votes
        votes[mask - 1] += 1
        winner = 0 if votes[0] > votes[1] else 1
        if votes[winner] - votes[1 - winner] >= _RANGE_VOTES:
            self._pump_ranges = [self._pump_ranges[winner]]
            self._heater_above = self._pump_ranges[0][1] + self._settings.level_tolerance_watts
            self._run_ranges = -1
            self._cache.clear()

    def _pump_on(self, ts: float, events: list[DetectorEvent]) -> None:
        self._pump = True
        if self._seg_pending:
            # a pause shorter than blip_seconds: the same segment goes on
            self._seg_pending = False
            return
        self._seg_start = ts
        if self._run_open:
            self._prefix_heater = self._run_heater
            return
        self._run_open = True
        self._run_start = ts
        self._main_len = 0.0
        self._main_end = ts
        self._run_overlong = False
        self._run_heater = False
        self._prefix_heater = False
        self._run_ranges = min(self._run_ranges, 0)
        events.append(ShotStarted(start=ts))

    def _pump_on_unseen(self, ts: float) -> None:
        self._pump = True
        self._seg_pending = False
        self._seg_start = ts
        if not self._run_open:
            self._run_open = True
            self._run_start = ts
            self._main_len = 0.0
            self._main_end = ts
            self._run_heater = False
        self._run_overlong = True

    def _pump_off(self, ts: float) -> None:
        self._pump = False
        self._seg_end = ts
        self._seg_poll = self._poll
        self._seg_pending = True

    def _finalize_segment(self, events: list[DetectorEvent]) -> None:
        settings = self._settings
        self._seg_pending = False
        start, end = self._seg_start, self._seg_end
        length = end - start
        first = self._main_len == 0.0
        if length > self._main_len:
            self._main_len = length
            self._main_end = end
            self._main_poll = self._seg_poll
        if first and length < settings.pulse_min_seconds and self._run_open:
            # a lone blip (a plug's average catching a heater switch) does not open a run
            # that a shot starting a few seconds later would be merged into
            self._close_run(events)
            return
        pulse_max = settings.pulse_max_seconds + self._seg_poll
        if settings.pulse_min_seconds <= length <= pulse_max:
            if self._bf_count and start - self._bf_end <= settings.backflush_gap_seconds:
                self._bf_count += 1
            else:
                if self._bf_count:
                    self._close_backflush(events)
                self._bf_count = 1
                self._bf_start = start
            self._bf_end = end
        elif length > pulse_max and self._bf_count:
            self._close_backflush(events)

    def _close_run(self, events: list[DetectorEvent]) -> None:
        if self._seg_pending:
            self._finalize_segment(events)
        self._run_open = False
        if self._run_ranges > 0:
            self._vote_range()
        if self._run_overlong:
            return
        start, end = self._run_start, self._main_end
        reason = self._verdict(start, end, self._main_len, self._run_heater)
        if reason is None:
            if (
                self._main_poll > 0.0
                and self._bf_count
                and self._bf_end >= end
                and self._main_len <= self._settings.pulse_max_seconds + self._main_poll
            ):
                # seen through a polled plug, a short shot and two backflush pulses with the
                # pause between them unseen look alike: the session it belongs to decides
                if self._bf_count >= self._settings.backflush_min_pulses:
                    events.append(ShotDiscarded(start=start, end=end, reason="pulses"))
                else:
                    self._pending_shots.append((start, end))
            else:
                events.append(ShotFinished(start=start, end=end))
        else:
            events.append(ShotDiscarded(start=start, end=end, reason=reason))

    def _verdict(self, start: float, end: float, main: float, heater: bool) -> str | None:
        """Return why a run from ``start`` to ``end`` is no shot, or None for a shot."""
        settings = self._settings
        duration = end - start
        if duration < settings.shot_min_seconds:
            return "too_short"
        if duration > settings.shot_max_seconds:
            return "too_long"
        if main < 0.5 * duration:
            return "pulses"
        if (
            settings.pump_only_max_seconds > 0.0
            and duration >= settings.pump_only_max_seconds
            and not heater
        ):
            return "hot_water"
        return None

    def _discard_run(self, ts: float, reason: str, events: list[DetectorEvent]) -> None:
        self._run_open = False
        self._pump = False
        self._seg_pending = False
        if not self._run_overlong:
            events.append(ShotDiscarded(start=self._run_start, end=ts, reason=reason))

    def _close_backflush(self, events: list[DetectorEvent]) -> None:
        pending = self._pending_shots
        if self._bf_count >= self._settings.backflush_min_pulses:
            events.extend(ShotDiscarded(start=a, end=b, reason="pulses") for a, b in pending)
            events.append(
                BackflushDetected(start=self._bf_start, end=self._bf_end, pulses=self._bf_count)
            )
        else:
            events.extend(ShotFinished(start=a, end=b) for a, b in pending)
        pending.clear()
        self._bf_count = 0

    def _unavailable(self, ts: float, events: list[DetectorEvent]) -> None:
        self._last_w = None
        self._amb_ts = None
        if self._paused:
            return
        if self._run_open:
            if self._pump:
                self._discard_run(ts, "unavailable", events)
            else:
                self._close_run(events)
        elif self._seg_pending:
            self._finalize_segment(events)
        self._pump = False
        self._close_backflush(events)
        self._high_since = None
        self._standby_since = None
        self._heat_prev_w = 0.0
        if self._state is MachineState.BREWING:
            self._set_state(ts, MachineState.READY, events)

    # ------------------------------------------------------------------ machine state

    def _track_state(self, ts: float, watts: float, kind: int, events: list[DetectorEvent]) -> None:
        settings = self._settings
        state = self._state
        if watts < settings.standby_watts:
            self._seen_off = True
            if self._standby_since is None:
                self._standby_since = ts
            due = (
                state is not MachineState.OFF
                and ts - self._standby_since >= settings.off_after_seconds
            )
        else:
            self._standby_since = None
            due = state is MachineState.OFF
            if due and self._seen_off:
                self._heating = True
                self._heating_since = ts
                self._heat_sum = self._heat_time = self._heat_max = 0.0
                self._heat_prev_w = 0.0
        if watts >= settings.high_watts and kind != _PUMP_ON:
            high = True
            if self._high_since is None:
                self._high_since = ts
            elif (
                state is not MachineState.STEAMING
                and ts - self._high_since >= settings.steam_min_seconds
            ):
                due = True
        else:
            high = False
            self._high_since = None
            due = due or state is MachineState.STEAMING
        if self._heating:
            due = True
            if kind == _PUMP_ON:
                # water is flowing: this is no pure heat-up (brew right after power-on)
                self._heating = False
            else:
                self._track_heat_up(ts, watts if high else 0.0)
        # the state can only change on an event, an edge or a deadline passed
        if due or events or self._bf_count or state is MachineState.BACKFLUSHING:
            self._derive_state(ts, events)

    def _track_heat_up(self, ts: float, heater: float) -> None:
        """Learn the full heater power from the power-on heat-up plateau."""
        prev = self._heat_prev_w
        if prev > 0.0 and prev >= _HEAT_PLATEAU_RATIO * self._heat_max:
            dt = ts - self._heat_prev_ts
            self._heat_sum += prev * dt
            self._heat_time += dt
        if heater > self._heat_max:
            if heater * _HEAT_PLATEAU_RATIO > self._heat_max:
                self._heat_sum = self._heat_time = 0.0
            self._heat_max = heater
        self._heat_prev_w = heater
        self._heat_prev_ts = ts
        elapsed = ts - self._heating_since
        ended = (
            heater == 0.0 and (self._heat_max > 0.0 or elapsed > _HEATING_START_SECONDS)
        ) or elapsed > _HEATING_MAX_SECONDS
        if ended:
            self._heating = False
            if self._heat_time >= _HEAT_PLATEAU_MIN_SECONDS:
                level = self._heat_sum / self._heat_time
                if self._full == 0.0 or level < self._full:
                    self._set_full(level)

    def _set_full(self, level: float) -> None:
        self._full = level
        self._heater_on = max(self._settings.high_watts, self._settings.heater_on_ratio * level)
        self._cache.clear()

    def _derive_state(self, now: float, events: list[DetectorEvent]) -> None:
        settings = self._settings
        if self._paused or self._bf_count >= 2:
            state = MachineState.BACKFLUSHING
        elif self._run_open and not self._run_overlong:
            state = MachineState.BREWING
        elif (
            self._standby_since is not None
            and now - self._standby_since >= settings.off_after_seconds
        ):
            state = MachineState.OFF
            self._heating = False
        elif self._state is MachineState.OFF and self._standby_since is not None:
            state = MachineState.OFF
        elif self._heating:
            state = MachineState.HEATING
        elif self._high_since is not None and now - self._high_since >= settings.steam_min_seconds:
            state = MachineState.STEAMING
        else:
            state = MachineState.READY
        if state is not self._state:
            self._set_state(now, state, events)

    def _set_state(self, now: float, state: MachineState, events: list[DetectorEvent]) -> None:
        if state is not self._state:
            events.append(StateChanged(at=now, state=state, previous=self._state))
            self._state = state


def _number(value: object, low: float, high: float) -> float | None:
    """``value`` as a float when it is a real number within ``[low, high]``, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and low <= number <= high else None


def _valid_model(data: object) -> dict[str, Any] | None:
    """Return the fields of an exported model, or None when anything about it is wrong."""
    if not isinstance(data, Mapping):
        return None
    version = data.get("version")
    if isinstance(version, bool) or version != MODEL_VERSION:
        return None
    machine_on = data.get("machine_on")
    if not isinstance(machine_on, bool):
        return None
    model: dict[str, Any] = {"machine_on": machine_on}
    for name, high in (("pump_watts", _MODEL_PUMP_MAX), ("heater_watts", _MODEL_WATTS_MAX)):
        value = data.get(name)
        if value is not None:
            value = _number(value, 1.0, high)
            if value is None:
                return None
        model[name] = value
    return model
