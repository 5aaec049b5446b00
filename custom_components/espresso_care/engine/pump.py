"""Pump switches in a plug's power readings: steps against the heater's local trend.

A reading is ``heater + pump``. The pump is on or off and draws ``P`` (its own figure, learned
from the runs it sees; until then the profile's range), a little less at free flow and while a
puck fills (~0.8 P) and a little more against a blind basket (~1.05 P). Switching it changes
the reading by about ``P`` within one report (or two consecutive 1 s averages that straddle
the switch). The heater is either smooth (a PID through a zero-cross relay: any value, moving
by tens of watts per second at most, ramping while cold water comes in and for seconds after
the pump stops) or switches between two levels (a thermostat, a slow PID window, a second
heater): jumps far larger than any pump step.

So the tracker keeps two *tracks* of the readings (the heater's low and high level; a smooth
heater uses one), each with its last value and local slope. A new reading joins the track it
is closest to (as predicted from that track's trend). Its deviation from that prediction is
the step: within ``[0.55, 1.5] x P`` up it means the pump started, down that it stopped
(a partial step may be completed by the next reading of the same track). Readings that fit
no track (a heater switch) start a track afresh and tell nothing about the pump. A reading
below standby means the pump is off. O(1) per reading: a handful of floats per track.
"""

from __future__ import annotations

import math

NONE = 0
ON = 1
OFF = 2

_INF = math.inf
# a track's slope is extrapolated at most this far: an on-change plug that stays silent says
# the value did not move by more than its report threshold
_HORIZON_SECONDS = 2.0
# only readings this close to the previous one of their track update the slope
_SLOPE_SECONDS = 3.0
_SLOPE_MAX = 80.0  # W/s, a PID heater moves slower than this
# Holt's smoothing of a track's level and slope
_ALPHA = 0.6
_BETA = 0.2
# a reading this soon after a heater switch completes it (the plug averaged over the switch)
_SETTLE_SECONDS = 2.5
# polled plug: a rise of up to this x the pump draw between polls is a heater's response to
# water (more is a heater switched on at full power), and a response of less than
# _POLL_SHOT_RISE x the pump draw is a flush
_POLL_RISE_MAX = 12.0
_POLL_SHOT_RISE = 4.0
# ... and the heater falling back by this share of its response (from the poll before the run
# to its peak) means the water stopped
_POLL_FALL_SHARE = 1.0 / 3.0
# readings this close show a pump step whole
_DENSE_SECONDS = 1.5
# the pump "running" this many times the longest run was no pump
_STUCK_FACTOR = 1.0
# a track not read for this long gives no step evidence (the heater moved meanwhile)
_STALE_SECONDS = 60.0
# a pump step is [_STEP_LOW, _STEP_HIGH] x P; a step of _PARTIAL x P may be half of one
_STEP_LOW = 0.55
_STEP_HIGH = 1.5
_LEARNED_LOW = 0.7
_LEARNED_HIGH = 1.4
_PARTIAL = 0.25
# readings farther than this x the largest pump step from every track are a heater switch
_JUMP = 1.5
# a partial stop (at least _HOLD_PARTIAL x P) that no new report follows within the plug's
# silence is taken as the stop (an on-change plug does not report the settling part)
_HOLD_PARTIAL = 0.4
# a step must also stand this many times above the track's typical deviation (its noise,
# estimated as a moving average of the deviations, each capped)
_NOISE_FACTOR = 3.5
_NOISE_FACTOR2 = 5.0
# a candidate step holds when the next reading of its track keeps this share of it
_HOLD_SHARE = 0.5
# ... judged against the trend from before it, extrapolated this far at most
_HOLD_HORIZON_SECONDS = 6.0
_NOISE_WEIGHT = 0.1
# ... and this fraction of the reading over the noise factor
_LEVEL_NOISE = 0.01
# a heater switch this shortly before a run's first candidate start is its start
_JUMP_START_SECONDS = 3.0
# candidate starts kept while the pump runs
_STARTS_MAX = 16
# a PID with a 2 s window read by a 1 s plug: its readings alternate between the window's two
# seconds (by about a pump step when it idles). When most consecutive changes between dense
# readings flip sign (a moving average over about 1 / _ZIG_WEIGHT readings, entered above
# _ZIG_ENTER, left below _ZIG_LEAVE), each track takes every other reading (one second of the
# window each) and a pump step must show on both
_ZIG_WEIGHT = 0.05
_ZIG_ENTER = 0.7
_ZIG_LEAVE = 0.4
# ... changes below this x the pump draw count as no change, readings closer than this (s)
# as no alternation
_ZIG_SIZE = 0.25
_ZIG_MIN_SECONDS = 0.5
# a rise (see _rise) is readings at most this far apart, ended by a fall of this x the pump
_RISE_GAP_SECONDS = 10.0
_RISE_FALL = 0.5
# bounds of a learned pump draw relative to the profile's range
_LEARN_LOW = 0.6
_LEARN_HIGH = 1.4
# a draw is known once this many shots showed it
_LEARN_MIN = 2
# the learned draw is the median of the stop steps of the last this many shots
_LEARN_WINDOW = 10


class PumpTracker:
    """Decides from each reading whether the pump just started or stopped."""

    __slots__ = (
        "_bands",
        "_count",
        "_d1",
        "_d2",
        "_jumps",
        "_learned",
        "_longest",
        "_n",
        "_pend_e",
        "_pend_k",
        "_pend_ts",
        "_pl_alone",
        "_pl_base",
        "_pl_peak",
        "_pl_seen",
        "_pl_top",
        "_pl_ts",
        "_pl_x",
        "_r",
        "_recent",
        "_ref_list",
        "_ref_max",
        "_ref_min",
        "_rs_base",
        "_rs_on",
        "_rs_peak",
        "_rs_peak_ts",
        "_rs_quiet",
        "_rs_start",
        "_s",
        "_seeded",
        "_standby",
        "_starts",
        "_t",
        "_tb_s",
        "_tb_t",
        "_tb_v",
        "_tent_alt",
        "_tent_at",
        "_tent_dense",
        "_tent_k",
        "_tent_size",
        "_tent_ts",
        "_th_alone",
        "_th_hold",
        "_th_jump",
        "_th_partial",
        "_th_rise",
        "_th_step",
        "_th_zig",
        "_v",
        "_z",
        "_z_d",
        "_z_k",
        "_z_t",
        "_z_x",
        "alternating",
        "full",
        "last_step",
        "on",
        "retro_peak",
        "retro_start",
        "switch_ts",
    )

    def __init__(
        self, bands: list[tuple[float, float]], standby: float, longest: float = 60.0
    ) -> None:
        """Track a pump whose draw lies in one of ``bands`` (W); ``standby``: all off below.

        ``longest``: the longest run a start hidden in a heater switch may begin.
        """
        self._longest = longest
        # heater switches up (the pump may have started with one), newest last
        self._jumps: list[float] = []
        # the start of a run found at its stop (see update), else None
        self.retro_start: float | None = None
        # ... and the highest reading of that run when the heater's response showed it (else 0)
        self.retro_peak = 0.0
        self._bands = bands
        self._standby = standby
        self._ref_list: list[float] = []
        self._ref_min = self._ref_max = 0.0
        self._th_alone = self._th_jump = self._th_partial = self._th_step = self._th_zig = 0.0
        self._th_hold = self._th_rise = 0.0
        self._learned = 0.0
        self._count = 0
        self._recent: list[float] = []
        self._set_refs()
        self._v = [0.0, 0.0]
        self._t = [-_INF, -_INF]
        self._s = [0.0, 0.0]
        self._d1 = [0.0, 0.0]
        self._d2 = [0.0, 0.0]
        self._n = [0.0, 0.0]
        self._r = [0.0, 0.0]
        self._seeded = [-_INF, -_INF]
        self._pend_e = 0.0
        self._pend_ts = 0.0
        self._pend_k = -1
        # a candidate switch waiting for the next reading of its track
        self._tent_k = -1
        self._tent_at = self._tent_size = self._tent_ts = 0.0
        self._tent_dense = False
        self._tb_v = self._tb_s = self._tb_t = 0.0
        # 2 s window alternation: share of sign flips; whether the readings alternate (a 2 s
        # PID window read every second, see update); last raw reading, its time, change
        self._z = 0.0
        self.alternating = False
        self._z_x = -1.0
        self._z_t = -_INF
        self._z_d = 0.0
        # the track the last reading joined (-1: none)
        self._z_k = -1
        self._tent_alt = False
        # a rise of the readings that may be a PID heater's response to a shot whose pump
        # steps the plug hid (see _rise): whether one goes on, its start, the reading before
        # it, its peak and when; whether the change before the last reading was small
        self._rs_on = False
        self._rs_start = self._rs_base = self._rs_peak = self._rs_peak_ts = 0.0
        self._rs_quiet = False
        self.on = False
        # the full heater power when learned (0 until then)
        self.full = 0.0
        # polled plug: the last reading (-1: none), the one before a run and its highest
        self._pl_x = -1.0
        self._pl_base = self._pl_peak = self._pl_ts = 0.0
        # polled plug: the last poll that showed the pump alone (heater off) in this run, and
        # the level a heater last switched on to or off from standby (0: none seen)
        self._pl_seen = -_INF
        self._pl_top = 0.0
        self._pl_alone = False
        # candidate start times since the pump was last seen stopping
        self._starts: list[float] = []
        # time of the last switch update() reported, and its size in W (0 when no step)
        self.switch_ts = 0.0
        self.last_step = 0.0

    # ------------------------------------------------------------------ learned draw

    @property
    def pump_watts(self) -> float | None:
        """The learned pump draw, None until a run taught it."""
        return self._learned if self._count >= _LEARN_MIN else None

    @property
    def runs(self) -> int:
        """How many runs the pump draw was learned from."""
        return self._count

    def band(self) -> tuple[float, float]:
        """Return the pump steps a reading may show, as (low, high) in W."""
        refs = self._refs()
        if self._count >= _LEARN_MIN:
            return _LEARNED_LOW * refs[0], _LEARNED_HIGH * refs[0]
        return _STEP_LOW * min(refs), _STEP_HIGH * max(refs)

    def _refs(self) -> list[float]:
        return self._ref_list

    def _set_refs(self) -> None:
        """Cache the reference pump draws (the learned one, else each band's middle)."""
        if self._count >= _LEARN_MIN:
            refs = [self._learned]
        else:
            refs = [(low + high) / 2.0 for low, high in self._bands]
        self._ref_list = refs
        low = self._ref_min = min(refs)
        high = self._ref_max = max(refs)
        # the thresholds update() reads for every reading, made of them
        self._th_jump = _JUMP * _STEP_HIGH * high
        self._th_step = _STEP_LOW * low
        self._th_alone = 0.5 * _STEP_LOW * low
        self._th_partial = _PARTIAL * low
        self._th_zig = _ZIG_SIZE * low
        self._th_hold = _HOLD_PARTIAL * low
        self._th_rise = _STEP_HIGH * high

    def _clamp(self, watts: float) -> float | None:
        for low, high in self._bands:
            if _LEARN_LOW * low <= watts <= _LEARN_HIGH * high:
                return watts
        return None

    def learn(self, watts: float) -> None:
        """Take the size of a shot's stop step as a measurement of the pump draw."""
        if self._clamp(watts) is None:
            return
        self._count += 1
        # the median of the last few: a stop seen only in part (a plug's average straddling
        # it, an on-change plug's threshold) does not drag the figure down
        recent = self._recent
        recent.append(watts)
        if len(recent) > _LEARN_WINDOW:
            del recent[0]
        ordered = sorted(recent)
        middle = len(ordered) // 2
        self._learned = (
            ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
        )
        self._set_refs()

    def restore(self, watts: float, runs: int) -> bool:
        """Set a pump draw learned before (False when it fits none of the bands)."""
        if self._clamp(watts) is None:
            return False
        self._learned = watts
        self._count = max(_LEARN_MIN, runs)
        self._recent = [watts]
        self._set_refs()
        return True

    # ------------------------------------------------------------------ readings

    def reset(self) -> None:
        """Forget the tracks (the plug was unavailable: the pump state is unknown)."""
        self._t = [-_INF, -_INF]
        self._pl_x = -1.0
        self._z_x = -1.0
        self._z_k = -1
        self._pend_k = -1
        self._tent_k = -1
        self._starts.clear()
        self._jumps.clear()
        self.on = False

    def idle(self, ts: float, x: float, polled: bool) -> None:
        """Take a standby reading of a machine switched off (the last of them: ``x``).

        The machine is off and nothing is pending: its standby readings tell nothing of the
        pump or a heater's trend, so they teach the tracker nothing (not even the plug's noise
        at a few watts). One track waits at ``x`` with no slope (polled: the last poll does),
        nothing is pending and readings that alternated before are forgotten. What is left
        depends on the last such reading alone, so the detector hands over only the last of a
        standby stretch (see ShotDetector.feed).
        """
        self._z = 0.0
        if self.alternating:
            self._alternate(False)
        k = self._z_k if self._z_k >= 0 else 0
        self._z_k = k
        self._v[k] = self._r[k] = x
        self._s[k] = 0.0
        self._seeded[k] = -_INF
        self._t = [-_INF, -_INF]
        if polled:
            self._pl_x = x
            self._pl_ts = ts
        else:
            self._pl_x = -1.0
            self._t[k] = ts
        self._z_x = x
        self._z_t = ts
        self._z_d = 0.0
        self._pend_k = -1
        self._tent_k = -1
        self._starts.clear()
        self._jumps.clear()
        self._rs_on = False
        self._rs_quiet = True

    def hold_since(self) -> float | None:
        """Time of the last reading when silence alone would decide a switch (see expire)."""
        if self._tent_k >= 0:
            return self._tent_ts
        if not self.on or self._pend_k < 0 or self._pend_e >= 0.0:
            return None
        if -self._pend_e < self._th_hold:
            return None
        return self._pend_ts

    def expire(self) -> int:
        """Confirm a candidate switch or a partial stop the plug stayed silent after."""
        self.retro_start = None
        self.retro_peak = 0.0
        if self._tent_k >= 0:
            self._tent_k = -1
            return self._switch(self._tent_at, self._tent_size)
        if self.on and self._pend_k >= 0 and self._pend_e < 0.0:
            self._pend_k = -1
            return self._switch(self._pend_ts, self._pend_e)
        return NONE

    def settle(self, on: bool, ts: float) -> None:
        """Set the pump state a reading right on a level decided (see ``force``)."""
        if on != self.on or self._tent_k >= 0 or self._pend_k >= 0 or self._starts or self._jumps:
            self.force(on, ts)

    def force(self, on: bool, ts: float) -> None:
        """Set the pump state from outside (a flow heater, a paused detector)."""
        self.on = on
        self.switch_ts = ts
        self.last_step = 0.0
        self._pend_k = -1
        self._tent_k = -1
        if not on:
            self._starts.clear()
            self._jumps.clear()

    def update(self, ts: float, x: float, polled: bool = False) -> int:
        """Process a reading; return ON or OFF when the pump switched (at ``switch_ts``).

        OFF with ``retro_start`` set: the pump ran from ``retro_start`` to ``switch_ts``
        (``retro_peak``: the highest reading meanwhile, when the heater's response showed it).
        ``polled``: the plug reads at a fixed interval of several seconds (see _polled).
        """
        self.retro_start = None
        self.retro_peak = 0.0
        if polled:
            return self._polled(ts, x)
        self._pl_x = -1.0
        # do the readings alternate (a 2 s PID window read every second)? Then consecutive
        # readings belong to the window's two seconds: each track takes every other reading,
        # and a pump step must show on both (a window's swing moves one, see _reading)
        prev = self._z_x
        self._z_x = x
        gap = ts - self._z_t
        dense = gap <= _DENSE_SECONDS
        self._z_t = ts
        alt = False
        d = 0.0
        if prev >= 0.0:
            d = x - prev
            small = self._th_zig
            z = self._z
            if _ZIG_MIN_SECONDS <= gap <= _DENSE_SECONDS:
                # (the window's two seconds are read a second apart)
                last = self._z_d
                if (d > small and last < -small) or (d < -small and last > small):
                    z += (1.0 - z) * _ZIG_WEIGHT
                else:
                    z -= z * _ZIG_WEIGHT
            else:
                z -= z * _ZIG_WEIGHT
            self._z = z
            self._z_d = d
            if z >= (_ZIG_LEAVE if self.alternating else _ZIG_ENTER):
                if not self.alternating:
                    self._alternate(True)
                alt = dense and self._z_k >= 0
            elif self.alternating:
                self._alternate(False)
        best_k = -1
        best_d = _INF
        pred = 0.0
        dt = 0.0
        t = self._t
        for k in (0, 1):
            age = ts - t[k]
            if age > _STALE_SECONDS or (alt and k == self._z_k):
                # never read, or so long ago that the heater moved meanwhile (or, readings
                # alternating, the track of the previous reading)
                continue
            # a plug silent for long saw no change above its report threshold
            p = self._v[k] + self._s[k] * age if age <= _SLOPE_SECONDS else self._r[k]
            dist = x - p if x >= p else p - x
            if dist < best_d:
                best_k, best_d, pred, dt = k, dist, p, age
        refs = self._ref_list
        jump = self._th_jump
        result = NONE
        if self.on and ts - self.switch_ts > _STUCK_FACTOR * self._longest:
            # "running" far longer than any run: that start was a heater ramp after all
            self.on = False
            self._starts.clear()
        if best_k < 0 or best_d > jump:
            # a heater switch, or the first reading: start the older track afresh (or,
            # readings alternating, the other one)
            k = (1 - self._z_k) if alt else (0 if t[0] <= t[1] else 1)
            if best_k >= 0 and x > pred:
                # the heater switched on: the pump may have started with it
                self._add_jump(ts)
            self._seed(k, ts, x)
            self._z_k = k
            self._pend_k = -1
            if self._tent_k == k:
                self._tent_k = -1
        elif ts - self._seeded[best_k] <= _SETTLE_SECONDS:
            # the reading after a heater switch: a plug's average caught the switch midway,
            # this one completes it
            self._seeded[best_k] = -_INF
            self._v[best_k] = self._r[best_k] = x
            self._t[best_k] = ts
            self._z_k = best_k
        else:
            self._z_k = best_k
            result = self._reading(best_k, ts, x, pred, dt, refs)
        if self.on and (x < self._standby or x < self._th_alone):
            # nothing at all, or less than the pump alone draws
            self._tent_k = -1
            self.on = False
            self.switch_ts = ts
            self.last_step = 0.0
            result = OFF
        if self._rs_on and (self.on or result == OFF) and not self.alternating:
            # the pump's steps showed inside a rise of the heater's response
            result = self._rise_stepped(ts, x, d, result, dense)
        elif prev < 0.0 or self.on or result != NONE or self.alternating or gap > _RISE_GAP_SECONDS:
            # the steps show this run (or nothing can tell a rise)
            self._rs_on = False
            self._rs_quiet = False
        else:
            result = self._rise(ts, x, prev, d)
        return result

    def _rise_stepped(self, ts: float, x: float, d: float, result: int, dense: bool) -> int:
        """Follow a rise of the heater's response inside which the tracker saw the pump start.

        The start the steps showed may be the heater's ramp (or the pump's draw growing
        against the puck) well into the run, and the stop may hide at the top of the ramp.
        Once the rise climbed by several pump draws, as a shot's response does, the run began
        with the rise (``retro_start``); it ends where the steps show the stop (``result``
        OFF), or, after a silence of the plug (not ``dense``), where the heater fell back from
        its peak, as in _rise: readings a second apart show the stop as a step, so there a
        heater falling back is a PID past its peak while the pump still runs.
        """
        if not self._rise_follow(ts, x, d):
            return result
        falling = not dense and x <= self._rs_peak - _RISE_FALL * self._ref_min
        if result != OFF and not falling:
            return result
        self._rs_on = False
        self._rs_quiet = False
        if not (
            self._rs_peak - self._rs_base >= _POLL_SHOT_RISE * self._ref_min
            and self._rs_start <= self.switch_ts
            and ts - self._rs_start <= self._longest
        ):
            return result
        if result != OFF:
            # the stop hid at the top of the response
            self.force(False, (self._rs_peak_ts + ts) / 2.0)
            result = OFF
        self.retro_start = self._rs_start
        self.retro_peak = self._rs_peak
        return result

    def _rise_follow(self, ts: float, x: float, d: float) -> bool:
        """Follow an open rise by one reading (its peak); False when a heater switch ended it."""
        if d > self._th_jump or -d > self._th_jump:
            # a heater switched: no PID's smooth response
            self._rs_on = False
            return False
        if x > self._rs_peak:
            self._rs_peak = x
            self._rs_peak_ts = ts
        return True

    def _rise(self, ts: float, x: float, prev: float, d: float) -> int:
        """Read a shot whose pump steps the plug did not show from the PID heater's response.

        A single boiler's PID heater ramps up while cold water comes in and falls back once
        it stops; an on-change plug may report that ramp and hide the pump's steps in it
        (a start no larger than the ramp's own changes, a stop at the ramp's top). A rise
        that begins with a step of part of a pump draw after small changes, climbs by
        several pump draws without falling back by half of one and without a heater switch,
        then falls by that much, was such a run: from the rise's first reading to between
        its peak and the fall.
        """
        p = self._ref_min
        small = self._th_hold
        quiet = self._rs_quiet
        self._rs_quiet = -small < d < small
        if self._rs_on:
            if not self._rise_follow(ts, x, d) or x > self._rs_peak - _RISE_FALL * p:
                return NONE
            self._rs_on = False
            if self._rs_peak - self._rs_base < _POLL_SHOT_RISE * p:
                return NONE
            self.retro_start = self._rs_start
            self.retro_peak = self._rs_peak
            self.switch_ts = (self._rs_peak_ts + ts) / 2.0
            self.last_step = 0.0
            return OFF
        if quiet and small <= d <= self._th_rise:
            self._rs_on = True
            self._rs_start = self._rs_peak_ts = ts
            self._rs_base = prev
            self._rs_peak = x
        return NONE

    def _alternate(self, on: bool) -> None:
        """Enter or leave the alternating readings' mode (see update)."""
        # the tracks hold other readings from now on: they start afresh (the pump state stays)
        self.alternating = on
        self._t = [-_INF, -_INF]
        self._pend_k = -1
        self._tent_k = -1

    def _reading(
        self, k: int, ts: float, x: float, pred: float, dt: float, refs: list[float]
    ) -> int:
        result = NONE
        tk = self._tent_k
        if tk >= 0 and tk != k and self._tent_alt:
            # readings alternating: the other second of the window must show the step too
            # (a pump step lifts both, a window's swing moves one only, or both apart)
            self._tent_k = -1
            size = self._tent_size
            e = x - pred
            if e * size >= _HOLD_SHARE * size * size:
                result = self._switch(self._tent_at, size)
                # this track took the step: it goes on from here
                self._v[k] = self._r[k] = x
                self._t[k] = ts
                self._pend_k = -1
                return result
            # no pump step: the candidate's track goes on from before it
            self._v[tk] = self._r[tk] = self._tb_v + self._tb_s * (self._tent_ts - self._tb_t)
            self._s[tk] = self._tb_s
        elif tk == k:
            # the reading after a candidate switch on the same track: did the step hold?
            self._tent_k = -1
            base = self._tb_v + self._tb_s * min(ts - self._tb_t, _HOLD_HORIZON_SECONDS)
            size = self._tent_size
            if (x - base) * size >= _HOLD_SHARE * size * size:
                result = self._switch(self._tent_at, size)
            else:
                # a spike, not a switch: the track goes on from before it, and the spike is
                # part of its noise (a heater toggling by about a pump's draw hides the pump)
                pred = base
                self._s[k] = self._tb_s
                cap = 2.0 * _PARTIAL * self._ref_min
                spike = size if size >= 0.0 else -size
                self._n[k] += (min(spike, cap) - self._n[k]) * _NOISE_WEIGHT
        e = x - pred
        noise = self._n[k]
        small = self._th_partial
        ae = e if e >= 0.0 else -e
        if self._pend_k == k:
            pe = self._pend_e
            reach = ae + (pe if pe >= 0.0 else -pe)
        else:
            reach = ae
        if result == NONE and self._tent_k < 0 and reach >= self._th_step:
            # (a step smaller than any pump step, even with the partial one before, is none)
            # a plug's reading (and the heater's supply) wobbles by a few % of the reading too
            candidate = self._step(k, ts, e, refs, max(noise, _LEVEL_NOISE * x))
            if candidate is not None and candidate[1] > 0.0 and self.on:
                # another candidate start while the pump runs (an earlier one may have been a
                # heater ramp); the track goes on as usual
                self._switch(*candidate)
            elif candidate is not None:
                self._tent_k = k
                self._tent_alt = self.alternating
                self._tent_at, self._tent_size = candidate
                self._tent_ts = ts
                # a step between readings close in time shows the whole draw; after a silence
                # an on-change plug may have kept part of it under its threshold
                self._tent_dense = dt <= _DENSE_SECONDS
                self._tb_v, self._tb_s, self._tb_t = pred - self._s[k] * dt, self._s[k], ts - dt
                self._pend_k = -1
                self._v[k] = self._r[k] = x
                self._t[k] = ts
                return NONE
        if e >= small or e <= -small:
            self._pend_k, self._pend_e, self._pend_ts = k, e, ts
        else:
            self._pend_k = -1
        # (comparisons, not min() / max(): this runs for nearly every reading)
        cap = small * 2.0
        self._n[k] = noise + ((cap if cap < ae else ae) - noise) * _NOISE_WEIGHT
        if 0.0 < dt <= _SLOPE_SECONDS:
            # Holt's local linear trend: the level follows part of the deviation, the slope
            # a little of it (at most _SLOPE_MAX either way)
            slope = self._s[k] + _BETA * e / dt
            if slope > _SLOPE_MAX:
                slope = _SLOPE_MAX
            elif slope < -_SLOPE_MAX:
                slope = -_SLOPE_MAX
            self._s[k] = slope
            self._v[k] = pred + _ALPHA * e
        else:
            self._s[k] = 0.0
            self._v[k] = x
        self._r[k] = x
        self._t[k] = ts
        return result

    def _polled(self, ts: float, x: float) -> int:
        """Read a plug polled every several seconds: the pump shows in the heater's response.

        Between two polls a PID heater moves by hundreds of watts, so no pump step stands
        out; but a single boiler's PID ramps up only while cold water comes in (and for its
        probe's lag after): a rise between polls starts a run, the heater falling back from
        the peak of its response ends it. A response of less than a few pump draws is little
        water: a flush, ended a second after it began. Two things a poll shows directly:
        the pump alone (a reading in the pump's range right after standby: the heater is
        off), which the run lasts at least as long as the polls keep showing; and a heater
        that toggles between standby and one level (a thermostat, a slow PID window that
        the polls catch in the same phase), which returning to that level is, not the pump.
        """
        prev = self._pl_x
        prev_ts = self._pl_ts
        self._pl_x = x
        self._pl_ts = ts
        self._t = [-_INF, -_INF]
        if prev < 0.0:
            return NONE
        refs = self._refs()
        p = min(refs)
        d = x - prev
        standby = self._standby
        # a reading of the pump's draw, the pump alone when the heater was off before
        alone = _STEP_LOW * p <= x <= _STEP_HIGH * max(refs)
        if prev < standby <= x and not alone:
            top = self._pl_top
            self._pl_top = x
            if not self.on and top > 0.0 and -_STEP_LOW * p <= x - top <= _STEP_LOW * p:
                # back at the level it last left standby from or fell to: the heater again
                return NONE
        elif x < standby <= prev and not (self.on and alone):
            self._pl_top = prev
        if not self.on:
            # (a rise to the full heater is the heater switched on, not a response)
            top = (
                _POLL_RISE_MAX * p if self.full <= 0.0 else min(_POLL_RISE_MAX * p, 0.6 * self.full)
            )
            if _STEP_LOW * p <= d <= top:
                self.on = True
                self.switch_ts = ts
                self.last_step = 0.0
                self._pl_base = prev
                self._pl_peak = x
                # (the poll before read less than a pump draw: the heater was off, or the
                # plug's average caught the pump starting)
                self._pl_alone = alone and prev < _STEP_LOW * p
                self._pl_seen = ts if self._pl_alone else -_INF
                if self._pl_alone and prev >= standby:
                    self.switch_ts = prev_ts
                self._starts.append(self.switch_ts)
                return ON
            return NONE
        start = self._starts[-1] if self._starts else ts
        if self._pl_alone:
            # a run of the pump alone: it goes on while the polls show the pump's draw
            if alone:
                self._pl_seen = ts
                return NONE
            if d > -_STEP_LOW * p and x >= standby:
                # the heater came on while the pump ran: from here its response tells
                self._pl_alone = False
                self._pl_base = prev
                self._pl_peak = x
                return NONE
        else:
            peak = self._pl_peak = max(self._pl_peak, x)
            # the heater's response to the water past its peak (a flush's small response
            # decays by less than a pump draw per poll)
            fall = max(_PARTIAL * p, (peak - self._pl_base) * _POLL_FALL_SHARE)
            if d > -_STEP_LOW * p and x >= standby and x > peak - fall:
                return NONE
        self.on = False
        self.last_step = 0.0
        if self._pl_alone:
            # the first poll that no longer shows the pump, as its start was the first that did
            self.switch_ts = ts
            return OFF
        # the heater peaked after the pump stopped, somewhere between the last two polls
        stop = (prev_ts + ts) / 2.0
        small = self._pl_peak - self._pl_base < _POLL_SHOT_RISE * p and self._pl_seen <= start
        self.switch_ts = start + 1.0 if small and start + 1.0 < stop else max(stop, start)
        return OFF

    def _seed(self, k: int, ts: float, x: float) -> None:
        self._seeded[k] = ts
        self._v[k] = x
        self._r[k] = x
        self._t[k] = ts
        self._s[k] = self._d1[k] = self._d2[k] = 0.0
        self._n[k] = 0.0

    def _slope(self, k: int, d: float) -> None:
        a, b = self._d1[k], self._d2[k]
        self._d2[k] = a
        self._d1[k] = d
        # median of the last three per-second changes: a lone outlier does not bend the trend
        m = max(min(a, b), min(max(a, b), d))
        self._s[k] = max(-_SLOPE_MAX, min(_SLOPE_MAX, m))

    def _step(
        self, k: int, ts: float, e: float, refs: list[float], noise: float
    ) -> tuple[float, float] | None:
        """Return a candidate switch (time, signed size), or None.

        A candidate is ``e`` (or it and the partial step just before) when it is a pump step
        standing out of the track's noise.
        """
        pend_e = self._pend_e
        pend = (
            self._pend_k == k
            and ts - self._pend_ts <= _HORIZON_SECONDS + 0.5
            and (pend_e > 0.0) == (e > 0.0)
        )
        # around a learned draw the band narrows
        low, high = (
            (_LEARNED_LOW, _LEARNED_HIGH) if self._count >= _LEARN_MIN else (_STEP_LOW, _STEP_HIGH)
        )
        single = _NOISE_FACTOR * noise
        for size, at, floor in (
            ((e, ts, single), (e + pend_e, self._pend_ts, _NOISE_FACTOR2 * noise))
            if pend
            else ((e, ts, single),)
        ):
            mag = size if size >= 0.0 else -size
            for p in refs:
                if max(low * p, floor) <= mag <= high * p and (
                    size > 0.0 or self.on or self._jumps
                ):
                    return at, size
        return None

    def _switch(self, ts: float, size: float) -> int:
        if size > 0.0:
            # a start (or, while running, another candidate start: an earlier one may have
            # been a heater ramp)
            starts = self._starts
            if len(starts) >= _STARTS_MAX:
                del starts[0]
            starts.append(ts)
            if self.on:
                return NONE
            self.on = True
            self.switch_ts = ts
            self.last_step = size
            return ON
        if not self.on:
            # a stop without a start seen: a start hidden in a heater switch (the heater and
            # the pump coming on in the same second) when such a switch came shortly before
            start = self._hidden_start(ts)
            if start is None:
                return NONE
            self.retro_start = start
        self.on = False
        self.switch_ts = ts
        self.last_step = -size
        return OFF

    def _hidden_start(self, stop: float) -> float | None:
        for ts in self._jumps:
            if 0.0 < stop - ts <= self._longest:
                return ts
        return None

    def _add_jump(self, ts: float) -> None:
        jumps = self._jumps
        if len(jumps) >= _STARTS_MAX:
            del jumps[0]
        jumps.append(ts)

    def start_for(self, stop: float, longest: float) -> float | None:
        """Return the start of the run that stops at ``stop`` and forget the candidates.

        That is the earliest candidate making the run at most ``longest`` s long (None
        without candidates).
        """
        starts = self._starts
        chosen = None
        for ts in starts:
            if stop - ts <= longest and ts < stop:
                chosen = ts
                break
        if chosen is not None:
            # a heater switch just before it: the pump started with the heater
            for ts in self._jumps:
                if 0.0 <= chosen - ts <= _JUMP_START_SECONDS and stop - ts <= longest:
                    chosen = ts
                    break
        starts.clear()
        self._jumps.clear()
        return chosen
