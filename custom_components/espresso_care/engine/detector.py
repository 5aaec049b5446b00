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
from .levels import LEAN_OFF, PUMP_OFF, PUMP_ON, HeaterLevels
from .pump import NONE, OFF, ON, PumpTracker

if TYPE_CHECKING:
    from .profiles import DetectorSettings

# version of the dict export_model() returns; restore_model() accepts this version only
MODEL_VERSION = 1
# plausible ranges of learned figures a restored model may carry
_MODEL_WATTS_MAX = 10_000.0
_MODEL_PUMP_MAX = 1_000.0
_MODEL_RUNS_MAX = 1_000_000_000

_INF = math.inf
# heat-up plateau: readings within 5 % of the highest, lasting at least 10 s, within 30 min
_HEAT_PLATEAU_RATIO = 0.95
_HEAT_PLATEAU_MIN_SECONDS = 10.0
_HEATING_MAX_SECONDS = 1800.0
# the heat-up's recent draw: a moving average over about this many seconds
_HEAT_RECENT_SECONDS = 10.0
# a machine that does not heat at full power this soon after power-on was already warm
_HEATING_START_SECONDS = 30.0
# a flow heater (thermoblock, capsule) brews while its heater is above this x its full power
_FLOW_RATIO = 0.6
# a partial stop that the plug does not follow with a report for this long means it stopped
_AMBIGUOUS_HOLD_SECONDS = 3.0
# a plug whose last readings came at the same interval (within the jitter) of at least
# _POLL_MIN_SECONDS is polled at that interval
_POLL_MIN_SECONDS = 4.0
_POLL_JITTER = 1.0
_POLL_HITS = 3
# a plug polled this often is read by the heater's response (a faster one shows the pump's
# steps; heartbeats of on-change plugs come every 30 s and more)
_POLL_RAMP_MIN = 7.0
_POLL_RAMP_MAX = 20.0


class ShotDetector:
    """Turns (timestamp, watts) samples into shot, backflush and machine state events."""

    __slots__ = (
        "_alone",
        "_alone_max",
        "_amb_ts",
        "_bf_count",
        "_bf_end",
        "_bf_start",
        "_flow",
        "_full",
        "_heat_max",
        "_heat_prev_ts",
        "_heat_prev_w",
        "_heat_recent",
        "_heat_sum",
        "_heat_time",
        "_heater_jump",
        "_heater_on",
        "_heating",
        "_heating_since",
        "_high",
        "_high_since",
        "_last_dt",
        "_last_ts",
        "_last_w",
        "_level_mode",
        "_levels",
        "_lull",
        "_lull_n",
        "_lull_ts",
        "_main_end",
        "_main_len",
        "_main_poll",
        "_main_step",
        "_paused",
        "_pending_shots",
        "_poll",
        "_poll_hits",
        "_polled",
        "_prefix_heater",
        "_prev_tight",
        "_pump",
        "_ramp_poll",
        "_run_heater",
        "_run_open",
        "_run_overlong",
        "_run_start",
        "_run_unseen",
        "_seen_off",
        "_seg_end",
        "_seg_pending",
        "_seg_poll",
        "_seg_start",
        "_seg_step",
        "_settings",
        "_standby",
        "_standby_since",
        "_state",
        "_tick_ts",
        "_tracker",
        "_use_levels",
    )

    def __init__(self, settings: DetectorSettings) -> None:
        """Create a detector with no history (a shot in progress is never picked up)."""
        self._settings = settings
        self._last_ts = -_INF
        self._last_w: float | None = None
        self._tick_ts = -_INF  # the last tick's time (see next_tick)
        self._paused = False
        # learned model: full heater power (power-on heat-up plateau) and the pump's draw
        self._full = 0.0
        # a pump reading from this up has the heater on (see heater_on_ratio)
        self._heater_on = settings.high_watts
        # (settings read for every reading, as attributes of the detector's own)
        self._standby = settings.standby_watts
        self._high = settings.high_watts
        bands = [(settings.pump_min_watts, settings.pump_max_watts)]
        if settings.pump2_max_watts > 0.0:
            bands.append((settings.pump2_min_watts, settings.pump2_max_watts))
        self._tracker = PumpTracker(bands, settings.standby_watts, settings.shot_max_seconds)
        # a single boiler refills with cold water during a shot, so its heater responds: a
        # polled plug shows the pump through that response (a boiler that may stay cold, a
        # flow heater, do not)
        self._ramp_poll = (
            settings.machine_type == "single_boiler" and settings.pump_only_max_seconds > 0.0
        )
        self._levels = HeaterLevels(settings)
        # the readings are classified by heater levels (see levels.py), not by the tracker
        self._level_mode = False
        self._use_levels = False
        # the previous reading lay right on a level
        self._prev_tight = False
        # the readings since the last one below standby were all at most the pump's draw: the
        # heater is off, so a reading is the pump alone or nothing (levels that are exact)
        self._alone = False
        pump_max = max(settings.pump_max_watts, settings.pump2_max_watts)
        self._alone_max = pump_max + settings.level_tolerance_watts
        # a drop this large within one reading is a heater switched off
        self._heater_jump = 2.0 * pump_max
        # a thermoblock / capsule machine heats the water as it flows: it brews while its
        # heater is on, and its pump hides in the heater's modulation
        self._flow = settings.pump_only_max_seconds > 0.0 and settings.heater_on_ratio > 0.0
        self._amb_ts: float | None = None
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
        self._run_unseen = False
        self._run_heater = False
        self._prefix_heater = False
        # polling interval of the plug when it reads at a fixed rate, else 0; whether the pump
        # tracker reads the polls as such (see PumpTracker.update)
        self._poll = 0.0
        self._polled = False
        self._poll_hits = 0
        self._seg_poll = 0.0
        self._main_poll = 0.0
        # size of the step that stopped the segment / the run's longest one (0: not a step)
        self._seg_step = 0.0
        self._main_step = 0.0
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
        self._heat_recent = 0.0
        # the machine is off and reads standby: the next standby readings take a short way
        # (see feed); the last of them, and how many
        self._lull = False
        self._lull_ts = 0.0
        self._lull_n = 0

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

    def next_tick(self, cadence: float) -> float | None:
        """When to call ``tick`` next if no reading comes first; None: only a reading can matter.

        Otherwise the earliest time at which time alone may decide something, and at least
        ``cadence`` seconds after the last reading and the last tick: the plug's silence decides
        a pump run or backflush to close, a heat-up, a state other than ready or off, a heater
        drawing high (steaming or not); standby decides the machine off once it lasted the
        ``off_after_seconds``. A tick before that changes nothing.
        """
        if self._paused or self._last_w is None:
            return None
        earliest = max(self._last_ts, self._tick_ts) + cadence
        if self._run_open or self._bf_count or self._heating or self._high_since is not None:
            return earliest
        since = self._standby_since
        if self._state is MachineState.READY:
            if since is None:
                return None
            return max(since + self._settings.off_after_seconds, earliest)
        if self._state is MachineState.OFF and since is not None:
            return None
        return earliest

    def snapshot(self) -> dict[str, float | str | bool | None]:
        """Learned model and current state, for diagnostics (not for restoring)."""
        return {
            "state": str(self._state),
            "heater_full_watts": round(self._full, 1) or None,
            "heater_step_watts": round(self._levels.step, 1) or None,
            "heater_levels": self._level_mode,
            "pump_watts": _rounded(self._tracker.pump_watts),
            "pump_runs": self._tracker.runs,
            "pump_step_watts": "{:g}-{:g}".format(*(round(w) for w in self._tracker.band())),
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
            "pump_watts": _rounded(self._tracker.pump_watts),
            "pump_runs": self._tracker.runs,
            "heater_watts": round(self._full, 1) or None,
            "heater_step_watts": round(self._levels.confirmed_step, 1) or None,
            "heater_levels": self._levels.explains,
            "levels": self._levels.export(),
        }

    def restore_model(self, data: Mapping[str, Any]) -> bool:
        """Apply a model ``export_model`` returned (e.g. before a restart); True when applied.

        Anything unexpected (another version, a missing or wrongly typed field, a value out of
        range) leaves the detector as it is and returns False; it never raises.
        """
        model = _valid_model(data)
        if model is None:
            return False
        if self._lull:
            # (the readings passed over came before the model)
            self._end_lull()
        levels = model["levels"]
        if levels is not None and not self._levels.fits(levels):
            return False
        pump = model["pump_watts"]
        if pump is not None and not self._tracker.restore(pump, model["pump_runs"]):
            return False
        full = model["heater_watts"]
        if full is not None:
            self._set_full(full)
        if levels is not None:
            # how the readings were classified, as it was
            self._levels.resume(levels)
        else:
            # a model saved before it carried that: its confirmed step, and whether levels
            # explained the readings
            self._levels.restore(model["heater_step_watts"], model["heater_levels"])
        if model["machine_on"] and self._state is MachineState.OFF:
            # the machine was on a moment ago: its next readings are no power-on heat-up
            self._state = MachineState.READY
        return True

    def feed(self, ts: float, watts: float | None) -> list[DetectorEvent]:
        """Process one sample; ``watts`` None means unavailable/unknown."""
        if not ts > self._last_ts:
            return []
        dt = ts - self._last_ts
        self._last_ts = ts
        if self._lull and watts is not None and 0.0 <= watts < self._standby:
            # standby again while the machine is off (most of a day's readings of a plug that
            # reports every second): what such a reading does depends on it alone (see _read),
            # so only the plug's rhythm follows each; the tracker takes the last of them when
            # the readings move
            self._track_poll(dt)
            self._last_w = watts
            self._lull_ts = ts
            self._lull_n += 1
            return []
        return self._read(ts, dt, watts)

    def _read(self, ts: float, dt: float, watts: float | None) -> list[DetectorEvent]:
        """Read one sample ``dt`` after the one before."""
        events: list[DetectorEvent] = []
        # a standby reading of a machine switched off, with nothing left to decide
        quiet = self._lull and watts is not None and 0.0 <= watts < self._standby
        if self._lull:
            self._end_lull()
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

        # (updated after _advance: what time alone decides must not depend on this reading)
        self._track_poll(dt)

        prev = self._last_w
        self._last_w = watts
        tracker = self._tracker
        if watts < self._standby or (
            prev is not None and watts <= self._alone_max and prev - watts >= self._heater_jump
        ):
            # standby, or a heater switched off (a drop a PID's smooth draw never makes)
            self._alone = True
        elif watts > self._alone_max:
            self._alone = False
        kind = self._levels.observe(ts, prev, watts)
        if not self._pump and not self._run_open:
            # which model reads the pump changes between runs only
            # (a flow heater idling in PID pulses of a step: its brews are read on its levels)
            levels = self._levels
            self._use_levels = levels.explains or (self._flow and levels.step > 0.0)
        if self._use_levels:
            # the readings sit on heater levels (a thermostat, a heater switched in slices)
            if not self._level_mode:
                self._level_mode = True
                tracker.reset()
            self._amb_ts = None
            flowing = (
                self._flow and (self._pump or not self._levels.tight) and self._flow_hot(watts)
            )
            if kind == PUMP_ON or flowing:
                # (flowing: a flow heater modulated while the water flows reads any value
                # between its levels; that hot, off its levels, it brews, and while it brews
                # a hot reading on a level is no stop: a slow plug's few readings of a brew
                # are mostly the modulation's. Only a reading on a level of heater + pump
                # says the heater came on.)
                self._apply(ON, ts, events, first=prev is None)
                if not flowing:
                    self._levels.pump_reading(watts)
            elif kind == PUMP_OFF:
                tracker.last_step = self._exact_drop(prev, watts)
                if self._pump:
                    self._apply(OFF, ts, events)
            elif kind == LEAN_OFF and self._pump:
                # a reading between the expected levels (a plug's average straddling the pump
                # stopping): keep the pump state; if the plug reports nothing else, the value
                # settled near it (within the plug's report threshold), i.e. the pump is off
                self._amb_ts = ts
        else:
            if self._level_mode:
                self._level_mode = False
                tracker.force(self._pump, ts)
            polled = self._polled
            if quiet:
                # the machine is off: its standby readings tell nothing of the pump
                # (a flow heater's readings: no heat, no flow, as the tracker has it)
                action = NONE
                if not self._flow:
                    tracker.idle(ts, watts, polled)
            else:
                action = (
                    self._flow_action(ts, watts)
                    if self._flow
                    else tracker.update(ts, watts, polled)
                )
            if (
                not quiet
                and not self._flow
                and self._levels.tight
                and kind <= PUMP_ON
                and not tracker.alternating
                and (self._alone or watts > self._alone_max)
                and not (
                    kind == PUMP_ON
                    and self._heating
                    and watts - (self._heat_recent or watts) < tracker.band()[0]
                )
                and not (
                    polled
                    and (
                        action == (ON if kind == PUMP_ON else OFF)
                        or (prev is not None and abs(watts - prev) < tracker.band()[0])
                    )
                )
            ):
                # right on a level of a two-level heater (off or full) with or without the
                # pump (the pump alone only when the heater is known off: the readings came
                # from standby and stayed at most the pump's draw; a PID may idle at about
                # the pump's draw for hours): that decides, whatever the trend said (on a
                # polled plug, unless it agrees, keeping the switch time the heater's response
                # gave, or the reading moved by less than a pump draw since the last poll: the
                # pump did not switch; not so for readings that alternate either: a 2 s PID
                # window idles at about the pump's draw in one second)
                on = kind == PUMP_ON
                tracker.settle(on, ts)
                if on != self._pump:
                    action = ON if on else OFF
                    tracker.last_step = 0.0 if on else self._exact_drop(prev, watts)
                else:
                    # the pump state stays: a switch the trend saw in this reading is undone
                    # (in the tracker too: the two stay in step)
                    action = NONE
            if action != NONE:
                self._apply(
                    action, tracker.switch_ts, events, first=prev is None, retro=tracker.retro_start
                )
            if not self._flow:
                # silence after a candidate switch or a partial stop decides it (see _advance)
                self._amb_ts = tracker.hold_since()
        self._prev_tight = self._levels.tight
        if self._pump and watts >= self._heater_on and (kind == PUMP_ON or not self._level_mode):
            # the heater came on while water flowed (on levels: a reading of heater + pump)
            self._run_heater = True
        self._track_state(ts, watts, events)
        return events

    def _track_poll(self, dt: float) -> None:
        """Follow the plug's rhythm: ``dt`` since the reading before.

        A polled plug (one reading every N s) hides what happens between two readings.
        """
        last_dt = self._last_dt
        if dt >= _POLL_MIN_SECONDS and -_POLL_JITTER <= dt - last_dt <= _POLL_JITTER:
            if self._poll_hits < _POLL_HITS:
                self._poll_hits += 1
            else:
                self._poll = dt
                self._polled = self._ramp_poll and _POLL_RAMP_MIN <= dt <= _POLL_RAMP_MAX
            self._last_dt = dt
        elif not (
            _POLL_RAMP_MIN <= last_dt <= _POLL_RAMP_MAX
            and -_POLL_JITTER <= dt - round(dt / last_dt) * last_dt <= _POLL_JITTER
        ):
            self._poll_hits = 0
            self._poll = 0.0
            self._polled = False
            self._last_dt = dt
        # (else a whole number of polls: Home Assistant records no state for a poll that
        # read the same value as the one before, so a steady reading skips rows)

    def _end_lull(self) -> None:
        """Read the last of the standby readings feed passed over, as _read would have."""
        self._lull = False
        if not self._lull_n:
            return
        # (the levels learn nothing from standby readings, and the next reading reads
        # nothing they left: see HeaterLevels.standby_inert)
        if self._level_mode:
            # a drop from standby to standby: no pump stopped
            self._tracker.last_step = 0.0
        elif not self._flow and self._last_w is not None:
            self._tracker.idle(self._lull_ts, self._last_w, self._polled)
        self._lull_n = 0

    def _apply(
        self,
        action: int,
        at: float,
        events: list[DetectorEvent],
        *,
        first: bool = False,
        retro: float | None = None,
    ) -> None:
        """Start or stop the pump segment at ``at`` as the readings decided.

        ``retro``: with OFF, the start of a run only its stop showed.
        """
        if action == ON and not self._pump:
            if first:
                # first reading (after start-up or unavailability) with the pump already
                # running: its start is unknown, it never counts
                self._pump_on_unseen(at)
            else:
                self._pump_on(at, events)
        elif action == OFF and (self._pump or retro is not None):
            if retro is not None and not self._pump:
                # a run whose start hid in a heater switch or a heater's response: known now
                # that it stopped
                self._pump_on(retro, events)
            elif not self._flow and not self._level_mode:
                start = self._tracker.start_for(at, self._settings.shot_max_seconds)
                if retro is not None:
                    # the tracker had let go of a start that was no pump (a heater ramp) when
                    # the heater's response showed the run
                    start = retro
                if start is not None and start != self._seg_start:
                    self._restart_segment(start, events)
            if retro is not None and self._tracker.retro_peak >= self._heater_on:
                # (the heater's response: the heater came on while the water flowed)
                self._run_heater = True
            self._pump_off(at)

    def _exact_drop(self, prev: float | None, watts: float) -> float:
        """Return the pump's draw when the pump alone stopped (to standby), else 0.

        A reading of the pump alone right before standby is the pump's draw (as the plug
        reads it); a drop from heater + pump straddles the stop or the heater's level.
        """
        if prev is None or not self._prev_tight or watts >= self._standby:
            return 0.0
        settings = self._settings
        if settings.pump_min_watts <= prev <= settings.pump_max_watts or (
            settings.pump2_min_watts <= prev <= settings.pump2_max_watts
        ):
            return prev
        return 0.0

    def tick(self, now: float) -> list[DetectorEvent]:
        """Let time pass without a new sample (the last value holds until ``now``)."""
        events: list[DetectorEvent] = []
        if not now >= self._last_ts or self._paused or self._last_w is None:
            return events
        self._tick_ts = now
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
                if self._level_mode:
                    self._apply(OFF, amb, events)
                else:
                    tracker = self._tracker
                    action = tracker.expire()
                    self._apply(action, tracker.switch_ts, events, retro=tracker.retro_start)
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
        if self._lull:
            self._end_lull()
        if self._run_open:
            self._discard_run(now, "paused", events)
        self._pump = False
        self._seg_pending = False
        self._amb_ts = None
        self._close_backflush(events)
        self._paused = True
        # only a reading during the pause can be the baseline at resume()
        self._last_w = None
        self._set_state(now, MachineState.BACKFLUSHING, events)
        return events

    def resume(self, now: float) -> list[DetectorEvent]:
        """Detect again; the state is re-derived from the next readings."""
        events: list[DetectorEvent] = []
        if not self._paused:
            return events
        self._paused = False
        last = self._last_w
        if last is None or last >= self._settings.standby_watts:
            # like after unavailability: a run already going never counts
            self._last_w = None
        # else the last reading during the pause said standby (the relay's final off): the
        # baseline it is, so a pump starting next is a new run. That reading may come just
        # before or just after the resume (the order Home Assistant delivers the switch's
        # and the plug's state changes in); either way the next run counts.
        self._tracker.reset()
        self._high_since = None
        self._standby_since = None
        self._set_state(now, MachineState.READY, events)
        return events

    # ------------------------------------------------------------------ flow heaters

    def _flow_action(self, ts: float, watts: float) -> int:
        """Pump switches of a flow heater: it brews while its heater is on."""
        hot = self._flow_hot(watts)
        tracker = self._tracker
        if hot == tracker.on:
            return NONE
        tracker.force(hot, ts)
        return ON if hot else OFF

    def _flow_hot(self, watts: float) -> bool:
        """Whether a flow heater's reading says water flows through it."""
        full = self._full
        threshold = max(self._settings.high_watts, _FLOW_RATIO * full)
        tol = self._settings.level_tolerance_watts + self._settings.level_tolerance_ratio * watts
        # right on the full heater power is the heater alone (a heat-up, a reheat, a
        # thermostat's cycle); water flowing reads more (the pump) or varies (a modulated heater)
        hot = watts >= threshold and not (full > 0.0 and -tol <= watts - full <= tol)
        heating = self._heating or (self._state is MachineState.OFF and self._seen_off)
        if hot and heating and (full == 0.0 or watts < full + self._settings.pump_min_watts):
            # the power-on heat-up (no water flows), unless the heater plus the pump shows
            hot = False
        return hot

    # ------------------------------------------------------------------ pump runs

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
        self._run_unseen = False
        self._run_heater = False
        self._prefix_heater = False
        events.append(ShotStarted(start=ts))

    def _restart_segment(self, start: float, events: list[DetectorEvent]) -> None:
        """Let the pump segment begin at ``start``, not when its first candidate start said."""
        if self._run_unseen:
            return
        if self._run_overlong or self._run_start == self._seg_start:
            # what opened the run was no pump (a heater ramp): the run begins at ``start``
            if self._run_overlong:
                self._run_overlong = False
                events.append(ShotStarted(start=start))
            self._run_start = start
            self._main_len = 0.0
            self._main_end = start
        self._seg_start = start

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
        self._run_unseen = True

    def _pump_off(self, ts: float) -> None:
        self._pump = False
        self._seg_end = ts
        self._seg_step = self._tracker.last_step
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
            self._main_step = self._seg_step
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
        self._levels.run_closed()
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
                if self._main_step > 0.0:
                    # the pump stopping at the end of a shot: its draw against a puck
                    self._tracker.learn(self._main_step)
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
            and duration >= settings.pump_only_max_seconds + self._main_poll
            and not heater
        ):
            # (a polled plug shows a run's length to within a poll)
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
        self._tracker.reset()
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

    def _track_state(self, ts: float, watts: float, events: list[DetectorEvent]) -> None:
        state = self._state
        if watts < self._standby:
            self._seen_off = True
            if self._standby_since is None:
                self._standby_since = ts
            if state is MachineState.OFF:
                due = False
                if not (
                    self._run_open
                    or self._bf_count
                    or self._pump
                    or self._heating
                    or self._tracker.on
                    or self._amb_ts is not None
                    or not self._levels.standby_inert
                ):
                    # off, and nothing left to decide: the next standby readings take the
                    # short way (see feed)
                    self._lull = True
                    self._lull_n = 0
            else:
                due = ts - self._standby_since >= self._settings.off_after_seconds
        else:
            self._standby_since = None
            due = state is MachineState.OFF
            if due and self._seen_off:
                self._heating = True
                self._heating_since = ts
                self._heat_sum = self._heat_time = self._heat_max = 0.0
                self._heat_prev_w = self._heat_recent = 0.0
        if watts >= self._high and not self._pump:
            high = True
            if self._high_since is None:
                self._high_since = ts
            elif (
                state is not MachineState.STEAMING
                and ts - self._high_since >= self._settings.steam_min_seconds
            ):
                due = True
        else:
            high = False
            self._high_since = None
            due = due or state is MachineState.STEAMING
        if self._heating:
            due = True
            if self._pump:
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
        dt = ts - self._heat_prev_ts
        if prev > 0.0 and prev >= _HEAT_PLATEAU_RATIO * self._heat_max:
            self._heat_sum += prev * dt
            self._heat_time += dt
        if heater > 0.0:
            # the heater's draw of the last seconds (it drifts with the mains voltage)
            recent = self._heat_recent
            self._heat_recent = (
                heater
                if heater * _HEAT_PLATEAU_RATIO > recent
                else recent + (heater - recent) * dt / (dt + _HEAT_RECENT_SECONDS)
            )
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
        self._levels.set_full(level)
        self._tracker.full = level

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


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


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
    levels = data.get("heater_levels", False)
    if not isinstance(levels, bool):
        return None
    runs = data.get("pump_runs", 0)
    if isinstance(runs, bool) or not isinstance(runs, int) or not 0 <= runs <= _MODEL_RUNS_MAX:
        return None
    judged = data.get("levels")
    if judged is not None and not isinstance(judged, Mapping):
        return None
    model: dict[str, Any] = {
        "machine_on": machine_on,
        "pump_runs": runs,
        "heater_levels": levels,
        "levels": judged,
    }
    for name, high in (
        ("pump_watts", _MODEL_PUMP_MAX),
        ("heater_watts", _MODEL_WATTS_MAX),
        ("heater_step_watts", _MODEL_WATTS_MAX),
    ):
        value = data.get(name)
        if value is not None:
            value = _number(value, 1.0, high)
            if value is None:
                return None
        model[name] = value
    return model
