"""Heater levels a plug reads when the heater switches in whole steps, and readings on them.

Two-level heaters (a thermostat / pressurestat) draw nothing or their full power ``H``. A PID
that switches its heater in fixed time slices (a time-proportional output with coarse slices)
reads, averaged by a plug, as a whole multiple of a heater *step* ``q`` (heater power x slice).
When the readings do sit on such levels, a reading is classified by them alone: *pump on* when
``reading - level`` lies in the pump's range for some level clearly better than ``reading``
matches a level itself, *pump off* in the opposite case, *ambiguous* otherwise.

``q`` is learned as the most common step between consecutive readings that also shows up as a
reading itself (a slice-switched heater switches all the time, its shortest pulse reads one
step); ``H`` is given by the detector (the power-on heat-up plateau). Whether the levels
explain this machine at all is measured, not assumed: ``explains`` is True only while most
readings lie clearly on a level (a PID through a zero-cross relay reads *any* value, and is
then left to the trend tracker of ``pump.py``). O(1) per reading: two bounded histograms and a
bounded memo of the classification of reading values.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .profiles import DetectorSettings

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

PUMP_OFF = 0
PUMP_ON = 1
LEAN_OFF = 2  # ambiguous, closer to "no pump"
LEAN_ON = 3  # ambiguous, closer to "pump" (kept as it is)
AMBIGUOUS = 4  # far from every expected level (model not learned yet, grinder, ...)
_KIND = 7
_UNJUDGED = 16
TIGHT = 8  # flag of a PUMP_ON / PUMP_OFF reading right on its level (see _TIGHT_WATTS)
# "right on a level": within this (a level is exact; a plug rounds and reads ~1 % off)
_TIGHT_WATTS = 3.0
_TIGHT_RATIO = 0.01
# an ambiguous reading "leans" to the closer hypothesis within this many tolerances
_LEAN_TOLERANCES = 3.0
# the pump hypothesis must beat "no pump" by this fraction of the tolerance
_PUMP_BIAS = 0.5
# runs with pump-alone readings in one range only needed before a two-pump profile picks it
_RANGE_VOTES = 2
# share of the time above standby the readings lie clearly on a level (a moving average over
# about 1 / _SHARE_WEIGHT seconds of readings, each held at most _HOLD_MAX_SECONDS) to use the levels, and below which they are dropped again
_SHARE_WEIGHT = 0.005  # per second
_HOLD_MAX_SECONDS = 10.0
# share of the time readings of several steps lie on a multiple of the step to use it
_LATTICE_ENTER = 0.75
_LATTICE_LEAVE = 0.6
_LATTICE_MIN_SECONDS = 30.0
# half the learned step is tried only when it exceeds the pump's highest draw this many times
_HALF_STEP_PUMPS = 1.5
# ... once readings of several steps held this long
_HALF_MIN_SECONDS = 10.0
_SHARE_ENTER = 0.9
_SHARE_LEAVE = 0.75
# seconds of judged readings beyond which the moving averages no longer depend on them (the
# weight of a reading is then _SHARE_WEIGHT per second), far above _LATTICE_MIN_SECONDS
_SEEN_MAX_SECONDS = 1.0 / _SHARE_WEIGHT


class HeaterLevels:
    """The heater levels of a machine, learned from its readings, and readings classified."""

    __slots__ = (
        "_cache",
        "_full",
        "_heater_above",
        "_lat_half",
        "_lat_seen",
        "_lat_share",
        "_lat_ts",
        "_lat_x",
        "_level_bins",
        "_nbins",
        "_on_since",
        "_prev_kind",
        "_prev_ts",
        "_pump_ranges",
        "_q",
        "_q_ok",
        "_range_votes",
        "_seen",
        "_settings",
        "_share",
        "_shot_max",
        "_standby",
        "_step_bins",
        "_step_every",
        "_step_lo",
        "_step_new",
        "_steps_skip_hi",
        "_steps_skip_lo",
        "_tolerance",
        "explains",
        "run_ranges",
        "standby_inert",
        "tight",
    )

    def __init__(self, settings: DetectorSettings) -> None:
        """Start with no levels learned (only 0 and the profile's pump ranges)."""
        self._settings = settings
        # (the settings observe reads for every reading, as attributes of its own)
        self._standby = settings.standby_watts
        self._tolerance = settings.level_tolerance_watts
        self._shot_max = settings.shot_max_seconds
        self._q = 0.0
        self._full = 0.0
        self._pump_ranges = [(settings.pump_min_watts, settings.pump_max_watts)]
        if settings.pump2_max_watts > 0.0:
            self._pump_ranges.append((settings.pump2_min_watts, settings.pump2_max_watts))
        # standby readings teach nothing and always read as "no pump" unless the settings put a
        # heater step or a pump draw within reach of standby (a change between two standby
        # readings is no step, none falls in a level bin, none lies near heater + pump); the
        # reading after one is read the same whatever it was (standby is never judged, see
        # observe): a run of standby readings can then skip the levels (see ShotDetector.feed)
        standby = self._standby
        tol = settings.level_tolerance_watts + settings.level_tolerance_ratio * standby
        self.standby_inert = standby + _STEP_BIN_WATTS <= settings.heater_step_min_watts and all(
            low - standby > tol for low, _ in self._pump_ranges
        )
        # two-pump profiles: which ranges the pump-alone readings of the current run matched
        self.run_ranges = 0 if len(self._pump_ranges) > 1 else -1
        self._range_votes = [0, 0]
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
        self._share = 0.0
        self._seen = 0.0
        # the learned step is used once readings of several steps show it (see _judge_lattice)
        self._q_ok = True
        self._lat_share = 0.0
        self._lat_half = 0.0
        self._lat_seen = 0.0
        self._lat_x = 0.0
        self._lat_ts = 0.0
        self._prev_kind = _UNJUDGED
        # since when the readings are on a level of heater + pump (None: the last was not)
        self._on_since: float | None = None
        self._prev_ts = 0.0
        self.explains = False
        # the last reading lies right on a level (and is PUMP_ON or PUMP_OFF)
        self.tight = False

    @property
    def step(self) -> float:
        """The learned heater step in W (0 when none, or when the readings are off it)."""
        return self._q if self._q_ok else 0.0

    @property
    def confirmed_step(self) -> float:
        """The heater step once readings of several steps confirmed it (0 otherwise)."""
        return self._q if self._q_ok and self._lat_seen >= _LATTICE_MIN_SECONDS else 0.0

    def restore(self, step: float | None, explains: bool) -> None:
        """Use what an earlier instance learned (a restart).

        That is its confirmed step, and whether the levels explained the readings (the
        readings keep judging both).
        """
        if step is not None and self._step_lo <= step <= self._settings.heater_step_max_watts:
            self._q = step
            self._lat_seen = _LATTICE_MIN_SECONDS
            self._lat_share = 1.0
            self._cache.clear()
        if explains:
            self.explains = True
            self._share = 1.0
            self._seen = 1.0 / _SHARE_WEIGHT

    def export(self) -> dict[str, float | bool | list[int]]:
        """Return the step in use and both judgements of the readings, JSON-serialisable.

        Everything that decides a classification: the histograms the step is learned from,
        the step (even one not confirmed yet: the readings are classified with it already),
        whether it is in use, how long and how well readings of several steps sat on it, and
        how well the levels explain the readings.
        ``resume`` sets them back, so that a restarted detector classifies as this one did.
        Seconds are capped where the moving averages stop depending on them.
        """
        return {
            "step_bins": list(self._step_bins),
            "level_bins": list(self._level_bins),
            "step_new": self._step_new,
            "step_every": self._step_every,
            "step": round(self._q, 2),
            "step_ok": self._q_ok,
            "step_seen_s": round(min(self._lat_seen, _SEEN_MAX_SECONDS), 1),
            "step_share": round(self._lat_share, 4),
            "step_half": round(self._lat_half, 4),
            "explains": self.explains,
            "share": round(self._share, 4),
            "seen_s": round(min(self._seen, _SEEN_MAX_SECONDS), 1),
        }

    def fits(self, data: Mapping[str, object]) -> bool:
        """Whether ``data`` is what ``export`` returns, plausible for these settings."""
        return self._valid(data) is not None

    def resume(self, data: Mapping[str, object]) -> bool:
        """Set back what ``export`` returned (a restart); False (nothing changed) unless it fits."""
        valid = self._valid(data)
        if valid is None:
            return False
        step_bins, level_bins, step_new, step_every, state = valid
        step, step_ok, step_seen, step_share, step_half, explains, share, seen = state
        self._step_bins = step_bins
        self._level_bins = level_bins
        self._step_new = step_new
        self._step_every = step_every
        self._q = step
        self._q_ok = step_ok
        self._lat_seen = step_seen
        self._lat_share = step_share
        self._lat_half = step_half
        self.explains = explains
        self._share = share
        self._seen = seen
        self._cache.clear()
        return True

    def _valid(
        self, data: Mapping[str, object]
    ) -> tuple[list[int], list[int], int, int, _Judgement] | None:
        """Return what ``resume`` sets, when ``data`` is a plausible export for these settings."""
        state = _valid_export(data, self._step_lo, self._settings.heater_step_max_watts)
        step_bins = _bins(data.get("step_bins"), self._nbins)
        level_bins = _bins(data.get("level_bins"), self._nbins)
        step_new = _whole(data.get("step_new"), 0, _STEP_RECOMPUTE_MAX)
        step_every = _whole(data.get("step_every"), _STEP_RECOMPUTE_EVERY, _STEP_RECOMPUTE_MAX)
        if (
            state is None
            or step_bins is None
            or level_bins is None
            or step_new is None
            or step_every is None
        ):
            return None
        return step_bins, level_bins, step_new, step_every, state

    def set_full(self, full: float) -> None:
        """Use ``full`` as the full heater power (learned by the detector)."""
        self._full = full
        self._cache.clear()

    def observe(self, ts: float, prev: float | None, x: float) -> int:
        """Learn from a reading (``prev``: the one before, None after a gap); classify it."""
        if prev is not None:
            step = x - prev if x > prev else prev - x
            if self._step_lo <= step and not self._steps_skip_lo <= step <= self._steps_skip_hi:
                self._learn_step(step)
            index = int((x - self._step_lo) * _PER_BIN)
            if 0 <= index < self._nbins:
                self._level_bins[index] += 1
        q = self._q
        if q > 0.0:
            # (the checks of _judge_lattice and _judge that skip most readings are made here:
            # a call per reading would cost more than the rest of this method)
            prev_x = self._lat_x
            self._lat_x = x
            if 1.5 * q <= prev_x <= (0.8 * self._full if self._full > 0.0 else _INF):
                self._judge_lattice(ts, prev_x)
            else:
                self._lat_ts = ts
        kind = self._cache.get(x)
        if kind is None:
            kind = self._classify(x)
        if not self._prev_kind & _UNJUDGED:
            self._judge(ts)
        full = self._full
        tol = self._tolerance
        if x < self._standby or (full > 0.0 and -tol <= x - full <= tol):
            # standby and the full heater are levels on every machine: they tell nothing
            kind |= _UNJUDGED
        if kind & _KIND == PUMP_ON:
            if self._on_since is None:
                self._on_since = ts
            elif ts - self._on_since > self._shot_max:
                # "the pump" for longer than any run: no pump (a PID idling at its draw)
                kind = kind & ~_KIND | PUMP_OFF
        else:
            self._on_since = None
        self._prev_kind = kind
        self._prev_ts = ts
        self.tight = bool(kind & TIGHT)
        return kind & _KIND

    def _judge_lattice(self, ts: float, prev: float) -> None:
        """Check that readings of several heater steps lie on multiples of the step.

        A step learned from a heater that also reads in between (a PID whose slow window a
        1 s plug sees as on/off seconds, a modulated heater) is no lattice: judged on the
        previous reading ``prev`` when it lies between 1.5 steps and 80 % of the full power
        (``observe`` checks that), weighted by how long it held, it must lie on a multiple most
        of the time.
        """
        q = self._q
        weight = min(ts - self._lat_ts, _HOLD_MAX_SECONDS)
        self._lat_ts = ts
        on = self._on_lattice(prev, q)
        self._lat_seen += weight
        rate = max(weight / self._lat_seen, weight * _SHARE_WEIGHT)
        share = self._lat_share
        share += ((1.0 if on else 0.0) - share) * rate
        self._lat_share = share
        # the step learned may be two of the heater's (it switched two at a time at first)
        half = self._lat_half
        half += ((1.0 if on or self._on_lattice(prev, q / 2.0) else 0.0) - half) * rate
        self._lat_half = half
        if (
            self._lat_seen >= _HALF_MIN_SECONDS
            and share < _LATTICE_ENTER
            and half >= _LATTICE_ENTER
            and q / 2.0 >= self._step_lo
            # (on a finer lattice, multiples plus the pump's range cover nearly every reading)
            and q / 2.0 >= _HALF_STEP_PUMPS * max(high for _, high in self._pump_ranges)
        ):
            self._q = q / 2.0
            self._lat_share = half
            self._cache.clear()
            self._seen = 0.0
        # until such readings held for a while, the step is given the benefit of the doubt
        ok = self._lat_seen < _LATTICE_MIN_SECONDS or share >= (
            _LATTICE_LEAVE if self._q_ok else _LATTICE_ENTER
        )
        if ok != self._q_ok:
            self._q_ok = ok
            self._cache.clear()
            self._seen = 0.0

    def _on_lattice(self, x: float, q: float, *, pump: bool = True) -> bool:
        """Whether ``x`` is a multiple of ``q``, or (``pump``) one plus the pump's draw."""
        tol = _TIGHT_WATTS + _TIGHT_RATIO * x
        e = x - round(x / q) * q
        if -tol <= e <= tol:
            return True
        return pump and any(
            math.floor((x - low + tol) / q) * q >= x - high - tol for low, high in self._pump_ranges
        )

    def _judge(self, ts: float) -> None:
        """Count how long the previous reading held on a level, or off every level.

        Only for a reading that is judged (``observe`` checks that).
        """
        kind = self._prev_kind
        # weighted by how long it held: a plug's average caught mid-switch holds a second,
        # a level minutes (an on-change plug reports the former as often as the latter)
        weight = min(ts - self._prev_ts, _HOLD_MAX_SECONDS)
        self._seen += weight
        share = self._share
        on_since = self._on_since
        if on_since is not None:
            if ts - on_since <= self._settings.shot_max_seconds:
                # a reading of heater + pump tells once it is known whether that was the pump
                # (a PID idling at about the pump's draw reads so for far longer than any run)
                return
            # "the pump" for longer than any run: no pump, so off every level
            kind &= ~TIGHT
        on_level = 1.0 if kind & TIGHT else 0.0
        # the mean of the first readings, then a moving average
        share += (on_level - share) * max(weight / self._seen, weight * _SHARE_WEIGHT)
        self._share = share
        if self._q > 0.0 and not self._q_ok:
            # a step learned from a heater that reads in between: no levels
            self.explains = False
        elif self.explains:
            self.explains = share >= _SHARE_LEAVE
        else:
            self.explains = share >= _SHARE_ENTER

    def pump_reading(self, x: float) -> None:
        """Note a reading of a pump run (for a two-pump profile's vote)."""
        if self.run_ranges >= 0 and x <= self._heater_above:
            self.run_ranges |= self._range_bit(x)

    def run_closed(self) -> None:
        """Let a two-pump profile vote on the pump of the run that just ended."""
        if self.run_ranges > 0:
            self._vote_range()
        self.run_ranges = min(self.run_ranges, 0)

    # ------------------------------------------------------------------ classification

    def _dist(self, x: float) -> float:
        """Distance of ``x`` to the nearest heater-only level (0, a step multiple, full)."""
        d = x if x >= 0.0 else -x
        q = self._q if self._q_ok else 0.0
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
        q = self._q if self._q_ok else 0.0
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
            kind = PUMP_ON
        elif (d0 <= d1 and d0 <= tol) or x < settings.standby_watts:
            kind = PUMP_OFF
        elif min(d0, d1) <= _LEAN_TOLERANCES * tol:
            kind = LEAN_ON if d1 < d0 else LEAN_OFF
        else:
            kind = AMBIGUOUS
        if kind <= PUMP_ON and min(d0, d1 - _PUMP_BIAS * tol) <= _TIGHT_WATTS + _TIGHT_RATIO * x:
            # right on a level (not merely within the tolerance of one)
            kind |= TIGHT
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
                    # other levels: judge afresh how well they explain the readings
                    self._seen = self._lat_seen = self._lat_half = 0.0
                    return True
                return False
            i = j + 2
        return False

    def _range_bit(self, x: float) -> int:
        bit = 0
        tol = self._settings.level_tolerance_watts
        for i, (low, high) in enumerate(self._pump_ranges):
            if low - tol <= x <= high + tol:
                bit |= 1 << i
        return bit

    def _vote_range(self) -> None:
        """Let a two-pump profile (heat exchanger) settle on the pump it actually has."""
        mask = self.run_ranges
        if mask not in (1, 2):
            return
        votes = self._range_votes
        votes[mask - 1] += 1
        winner = 0 if votes[0] > votes[1] else 1
        if votes[winner] - votes[1 - winner] >= _RANGE_VOTES:
            self._pump_ranges = [self._pump_ranges[winner]]
            self._heater_above = self._pump_ranges[0][1] + self._settings.level_tolerance_watts
            self.run_ranges = -1
            self._cache.clear()


def _share(value: object) -> float | None:
    """``value`` as a share in [0, 1] (a real number), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if 0.0 <= number <= 1.0 else None


def _seconds(value: object) -> float | None:
    """``value`` as seconds in [0, _SEEN_MAX_SECONDS] (a real number), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if 0.0 <= number <= _SEEN_MAX_SECONDS else None


type _Judgement = tuple[float, bool, float, float, float, bool, float, float]
"""step, step_ok, step_seen_s, step_share, step_half, explains, share, seen_s"""
_BIN_MAX = 1 << 31
"""Largest plausible count of a histogram bin (they are halved above 100,000)."""


def _whole(value: object, low: int, high: int) -> int | None:
    """``value`` when it is an int (not a bool) within ``[low, high]``, else None."""
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    return None


def _bins(value: object, length: int) -> list[int] | None:
    """``value`` as a histogram of ``length`` bins (counts), else None."""
    if not isinstance(value, list) or len(value) != length:
        return None
    counts = [_whole(count, 0, _BIN_MAX) for count in value]
    return None if None in counts else [count for count in counts if count is not None]


def _valid_export(data: Mapping[str, object], step_lo: float, step_hi: float) -> _Judgement | None:
    """Return the judgement ``HeaterLevels.export`` wrote, when all of it is plausible."""
    step = data.get("step")
    if isinstance(step, bool) or not isinstance(step, int | float):
        return None
    step = float(step)
    if step != 0.0 and not step_lo <= step <= step_hi:
        return None
    step_ok, explains = data.get("step_ok"), data.get("explains")
    if not isinstance(step_ok, bool) or not isinstance(explains, bool):
        return None
    step_seen, seen = _seconds(data.get("step_seen_s")), _seconds(data.get("seen_s"))
    step_share, step_half = _share(data.get("step_share")), _share(data.get("step_half"))
    share = _share(data.get("share"))
    if step_seen is None or seen is None or step_share is None or step_half is None:
        return None
    if share is None:
        return None
    return step, step_ok, step_seen, step_share, step_half, explains, share, seen
