"""Automated backflush: the program (what to switch when) and a run (the state machine).

The technician's procedure: blind basket (with detergent for a clean), run the pump ~10 s,
pause ~10 s, repeat several times; for a clean, rinse the basket and repeat with plain water.

A program is ``cycles`` x (``on_seconds`` on, ``off_seconds`` off). A clean adds, after the
detergent phase, a pause in which the user rinses the basket (``rinse_pause_seconds``, never
shorter than ``off_seconds``) and ``rinse_cycles`` more cycles with water. The routine ends
when the relay switches off at the end of the last on-period: the trailing pause is not run
and does not count in :attr:`BackflushProgram.total_seconds`.

:class:`BackflushRun` is driven by timestamps (POSIX seconds, ``float``) and returns the
commands the HA layer executes; it never ends (finishes or aborts) without emitting
:class:`SwitchOff` first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
import math
from types import MappingProxyType
from typing import Any

from .maintenance import Task

CYCLES_MIN, CYCLES_MAX = 1, 20
ON_SECONDS_MIN, ON_SECONDS_MAX = 1, 30
OFF_SECONDS_MIN, OFF_SECONDS_MAX = 1, 60
RINSE_CYCLES_MIN, RINSE_CYCLES_MAX = 0, 20
RINSE_PAUSE_MIN, RINSE_PAUSE_MAX = 0, 900
MAX_TOTAL_SECONDS = 20 * 60

DEFAULT_CYCLES = 5
DEFAULT_ON_SECONDS = 10
DEFAULT_OFF_SECONDS = 10
DEFAULT_RINSE_CYCLES: Mapping[Task, int] = MappingProxyType({Task.BACKFLUSH: 0, Task.CLEAN: 5})
DEFAULT_RINSE_PAUSE_SECONDS = 60

DEFAULT_PUMP_MIN_WATTS = 20.0
SUPERVISED_ON_PERIODS = 2
"""Pump activity must show within this many on-periods from the start."""

PROGRAM_TASKS = (Task.BACKFLUSH, Task.CLEAN)

DEADLINE_TOLERANCE = 0.05
"""A timer firing this many seconds early still counts (event-loop vs wall-clock jitter)."""


class ProgramError(ValueError):
    """An invalid program; ``key`` is a translation key, ``placeholders`` its values."""

    def __init__(self, key: str, placeholders: Mapping[str, str] | None = None) -> None:
        """Store the translation key and its placeholders."""
        self.key = key
        self.placeholders: dict[str, str] = dict(placeholders or {})
        details = ", ".join(f"{name}={value}" for name, value in self.placeholders.items())
        super().__init__(f"{key} ({details})" if details else key)


class StepKind(StrEnum):
    """What the relay does during a step."""

    ON = "on"
    OFF = "off"
    RINSE_PAUSE = "rinse_pause"
    """Relay off; the user rinses the basket (clean only)."""


class Phase(StrEnum):
    """Part of the routine a step belongs to."""

    BACKFLUSH = "backflush"
    """The only phase of a plain-water backflush."""
    DETERGENT = "detergent"
    """First phase of a clean."""
    RINSE = "rinse"
    """Second phase of a clean (the rinse pause belongs to it, with cycle 0)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Step:
    """One relay state held for ``seconds``; ``cycle`` counts from 1 within its phase."""

    kind: StepKind
    seconds: float
    phase: Phase
    cycle: int


def _as_int(name: str, value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ProgramError("invalid_value", {"field": name, "value": str(value)})


@dataclass(frozen=True, kw_only=True)
class BackflushProgram:
    """A validated backflush / clean program; construction validates (:class:`ProgramError`).

    Use :meth:`build` to apply defaults. A plain backflush has no rinse phase, so its
    ``rinse_cycles`` must be 0 (``build`` ignores rinse settings for it).
    """

    task: Task = Task.BACKFLUSH
    cycles: int = DEFAULT_CYCLES
    on_seconds: int = DEFAULT_ON_SECONDS
    off_seconds: int = DEFAULT_OFF_SECONDS
    rinse_cycles: int = 0
    rinse_pause_seconds: int = DEFAULT_RINSE_PAUSE_SECONDS

    def __post_init__(self) -> None:
        """Validate; an invalid program cannot exist."""
        raw_task: object = self.task  # a plain string from service data is accepted
        if not isinstance(raw_task, Task):
            try:
                object.__setattr__(self, "task", Task(str(raw_task)))
            except ValueError:
                raise ProgramError("invalid_task", {"task": str(raw_task)}) from None
        self.validate()

    @classmethod
    def build(
        cls,
        *,
        task: Task | str = Task.BACKFLUSH,
        cycles: int | None = None,
        on_seconds: int | None = None,
        off_seconds: int | None = None,
        rinse_cycles: int | None = None,
        rinse_pause_seconds: int | None = None,
    ) -> BackflushProgram:
        """Build a program, ``None`` meaning the default for the task.

        Integral floats are accepted (service data); for a plain backflush the rinse settings
        are range-checked but not used. Raises :class:`ProgramError`.
        """
        try:
            the_task = Task(task)
        except ValueError:
            raise ProgramError("invalid_task", {"task": str(task)}) from None
        if the_task not in PROGRAM_TASKS:
            raise ProgramError("invalid_task", {"task": str(task)})

        def pick(name: str, value: object, default: int, low: int, high: int) -> int:
            number = default if value is None else _as_int(name, value)
            _check_range(name, number, low, high)
            return number

        rinse = pick(
            "rinse_cycles",
            rinse_cycles,
            DEFAULT_RINSE_CYCLES[the_task],
            RINSE_CYCLES_MIN,
            RINSE_CYCLES_MAX,
        )
        pause = pick(
            "rinse_pause_seconds",
            rinse_pause_seconds,
            DEFAULT_RINSE_PAUSE_SECONDS,
            RINSE_PAUSE_MIN,
            RINSE_PAUSE_MAX,
        )
        return cls(
            task=the_task,
            cycles=pick("cycles", cycles, DEFAULT_CYCLES, CYCLES_MIN, CYCLES_MAX),
            on_seconds=pick(
                "on_seconds", on_seconds, DEFAULT_ON_SECONDS, ON_SECONDS_MIN, ON_SECONDS_MAX
            ),
            off_seconds=pick(
                "off_seconds", off_seconds, DEFAULT_OFF_SECONDS, OFF_SECONDS_MIN, OFF_SECONDS_MAX
            ),
            rinse_cycles=rinse if the_task is Task.CLEAN else 0,
            rinse_pause_seconds=pause if the_task is Task.CLEAN else DEFAULT_RINSE_PAUSE_SECONDS,
        )

    def validate(self) -> None:
        """Raise :class:`ProgramError` unless every value is within its bounds.

        Keys: ``invalid_task``, ``invalid_value``, ``<field>_out_of_range`` (placeholders
        ``value``, ``min``, ``max``), ``rinse_requires_clean`` and ``total_too_long``
        (placeholders ``total``, ``max`` in seconds and ``total_minutes``, ``max_minutes``).
        """
        if self.task not in PROGRAM_TASKS:
            raise ProgramError("invalid_task", {"task": str(self.task)})
        for name, low, high in (
            ("cycles", CYCLES_MIN, CYCLES_MAX),
            ("on_seconds", ON_SECONDS_MIN, ON_SECONDS_MAX),
            ("off_seconds", OFF_SECONDS_MIN, OFF_SECONDS_MAX),
            ("rinse_cycles", RINSE_CYCLES_MIN, RINSE_CYCLES_MAX),
            ("rinse_pause_seconds", RINSE_PAUSE_MIN, RINSE_PAUSE_MAX),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ProgramError("invalid_value", {"field": name, "value": str(value)})
            _check_range(name, value, low, high)
        if self.task is Task.BACKFLUSH and self.rinse_cycles:
            raise ProgramError("rinse_requires_clean", {"rinse_cycles": str(self.rinse_cycles)})
        total = self.total_seconds
        if total > MAX_TOTAL_SECONDS:
            raise ProgramError(
                "total_too_long",
                {
                    "total": f"{total:g}",
                    "max": str(MAX_TOTAL_SECONDS),
                    "total_minutes": f"{total / 60:.1f}",
                    "max_minutes": str(MAX_TOTAL_SECONDS // 60),
                },
            )

    @cached_property
    def steps(self) -> tuple[Step, ...]:
        """Every step in order; starts and ends with an on-step, on/off alternate."""
        first = Phase.DETERGENT if self.task is Task.CLEAN else Phase.BACKFLUSH
        steps = self._phase_steps(first, self.cycles)
        if self.task is Task.CLEAN and self.rinse_cycles:
            pause = max(self.rinse_pause_seconds, self.off_seconds)
            steps.append(Step(kind=StepKind.RINSE_PAUSE, seconds=pause, phase=Phase.RINSE, cycle=0))
            steps.extend(self._phase_steps(Phase.RINSE, self.rinse_cycles))
        return tuple(steps)

    def _phase_steps(self, phase: Phase, cycles: int) -> list[Step]:
        steps: list[Step] = []
        for cycle in range(1, cycles + 1):
            if cycle > 1:
                steps.append(
                    Step(kind=StepKind.OFF, seconds=self.off_seconds, phase=phase, cycle=cycle - 1)
                )
            steps.append(Step(kind=StepKind.ON, seconds=self.on_seconds, phase=phase, cycle=cycle))
        return steps

    @property
    def total_seconds(self) -> float:
        """Planned duration: first switch-on to last switch-off."""
        return float(sum(step.seconds for step in self.steps))

    @property
    def on_periods(self) -> int:
        """Number of on-periods (pump runs) in the whole routine."""
        return self.cycles + (self.rinse_cycles if self.task is Task.CLEAN else 0)

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable description (event data, persistence)."""
        return {
            "task": str(self.task),
            "cycles": self.cycles,
            "on_seconds": self.on_seconds,
            "off_seconds": self.off_seconds,
            "rinse_cycles": self.rinse_cycles,
            "rinse_pause_seconds": self.rinse_pause_seconds,
            "total_seconds": self.total_seconds,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BackflushProgram:
        """Rebuild from :meth:`as_dict` output; raises :class:`ProgramError` when invalid."""
        return cls.build(
            task=data.get("task", Task.BACKFLUSH),
            cycles=data.get("cycles"),
            on_seconds=data.get("on_seconds"),
            off_seconds=data.get("off_seconds"),
            rinse_cycles=data.get("rinse_cycles"),
            rinse_pause_seconds=data.get("rinse_pause_seconds"),
        )


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ProgramError(
            f"{name}_out_of_range", {"value": str(value), "min": str(low), "max": str(high)}
        )


# --- commands -------------------------------------------------------------------------------


class AbortReason(StrEnum):
    """Why a run ended early."""

    USER = "user"
    SWITCH_UNAVAILABLE = "switch_unavailable"
    NO_PUMP_ACTIVITY = "no_pump_activity"
    UNLOAD = "unload"
    RESTART = "restart"
    STOPPED = "stopped"


@dataclass(frozen=True, kw_only=True, slots=True)
class SwitchOn:
    """Turn the relay on."""

    at: float


@dataclass(frozen=True, kw_only=True, slots=True)
class SwitchOff:
    """Turn the relay off."""

    at: float


@dataclass(frozen=True, kw_only=True, slots=True)
class RinseNow:
    """Detergent phase done: ask the user to rinse the basket (rinse pause begins)."""

    at: float
    pause_seconds: float


@dataclass(frozen=True, kw_only=True, slots=True)
class Finished:
    """The routine completed; always preceded by :class:`SwitchOff`."""

    at: float
    task: Task
    cycles_done: int
    duration_s: float


@dataclass(frozen=True, kw_only=True, slots=True)
class Aborted:
    """The routine ended early; always preceded by :class:`SwitchOff`."""

    at: float
    task: Task
    reason: AbortReason
    cycles_done: int
    duration_s: float


type Command = SwitchOn | SwitchOff | RinseNow | Finished | Aborted


class RunState(StrEnum):
    """Lifecycle of a run."""

    IDLE = "idle"
    RUNNING = "running"
    FINISHED = "finished"
    ABORTED = "aborted"


class RunStateError(RuntimeError):
    """A run was used out of order (started twice)."""


class BackflushRun:
    """Executes a :class:`BackflushProgram`; deterministic, driven by the caller's clock.

    Call :meth:`start`, then :meth:`advance` whenever :attr:`next_deadline` is reached and
    re-arm the timer from :attr:`next_deadline` after every call (a call more than
    :data:`DEADLINE_TOLERANCE` early returns nothing; late calls lengthen the current step:
    steps are never skipped, nor shortened by more than the tolerance), feed the
    machine's power with :meth:`observe_power`, and :meth:`abort` on user request, switch
    unavailability, unload... Every method returns the commands to execute in order.

    Pump supervision: if none of the first two on-periods (one if the routine has only one)
    shows a power sample at least ``pump_min_watts`` above the last reading before that
    on-period started, the run aborts with :attr:`AbortReason.NO_PUMP_ACTIVITY` at the end of
    that on-period. Feed the current reading before :meth:`start`; without a reading before an
    on-period the lowest sample within it is the reference.
    """

    def __init__(
        self,
        program: BackflushProgram,
        *,
        pump_min_watts: float = DEFAULT_PUMP_MIN_WATTS,
        supervise_pump: bool = True,
    ) -> None:
        """Prepare a run (nothing is switched until :meth:`start`)."""
        if not math.isfinite(pump_min_watts) or pump_min_watts <= 0:
            raise ValueError("pump_min_watts must be a positive number")
        self.program = program
        self._steps = program.steps
        self._pump_min_watts = pump_min_watts
        self._supervise = supervise_pump
        self._state = RunState.IDLE
        self._restored = False
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.end_reason: AbortReason | None = None
        self._index = -1
        self._step_started = 0.0
        self._planned_done = 0.0
        self._latest = 0.0
        self._cycles_done = 0
        self._on_periods_started = 0
        # pump supervision
        self._pump_seen = not supervise_pump
        self._last_sample: tuple[float, float] | None = None
        self._reference: float | None = None
        self._period_min: float | None = None

    # -- state -----------------------------------------------------------------------------

    @property
    def state(self) -> RunState:
        """Lifecycle state."""
        return self._state

    @property
    def running(self) -> bool:
        """Whether the run has started and not ended (the relay may be on)."""
        return self._state is RunState.RUNNING

    @property
    def cycles_done(self) -> int:
        """Completed on-periods (both phases of a clean)."""
        return self._cycles_done

    @property
    def pump_seen(self) -> bool:
        """Whether pump activity was confirmed (always true without supervision)."""
        return self._pump_seen

    @property
    def current_step(self) -> Step | None:
        """The step in progress, ``None`` when not running or restored."""
        if not self.running or self._restored:
            return None
        return self._steps[self._index]

    @property
    def next_deadline(self) -> float | None:
        """When :meth:`advance` should be called next; ``None`` when nothing is pending."""
        step = self.current_step
        if step is None:
            return None
        return self._step_started + step.seconds

    def progress(self, now: float) -> float:
        """Percentage (0-100) of the planned time elapsed; monotone in ``now``."""
        if self._state is RunState.IDLE:
            return 0.0
        if self._state is RunState.FINISHED:
            return 100.0
        done = self._planned_done
        step = self.current_step
        if step is not None:
            done += min(step.seconds, max(0.0, max(now, self._latest) - self._step_started))
        return min(100.0, 100.0 * done / self.program.total_seconds)

    # -- driving -----------------------------------------------------------------------------

    def start(self, now: float) -> list[Command]:
        """Begin the routine: switch the relay on."""
        if self._state is not RunState.IDLE:
            raise RunStateError(f"cannot start a run that is {self._state}")
        self._state = RunState.RUNNING
        self.started_at = now
        self._latest = now
        return self._enter(0, now)

    def advance(self, now: float) -> list[Command]:
        """Move to the next step if the current one is over (at most one transition)."""
        deadline = self.next_deadline
        if deadline is None or now < deadline - DEADLINE_TOLERANCE:
            return []
        self._latest = max(self._latest, now)
        ended = self._steps[self._index]
        self._planned_done += ended.seconds
        if ended.kind is not StepKind.ON:
            return self._enter(self._index + 1, now)

        self._cycles_done += 1
        if not self._pump_seen and self._on_periods_started >= min(
            SUPERVISED_ON_PERIODS, self.program.on_periods
        ):
            return self._end(now, AbortReason.NO_PUMP_ACTIVITY)
        if self._index == len(self._steps) - 1:
            return self._end(now, None)
        return [SwitchOff(at=now), *self._enter(self._index + 1, now)]

    def abort(self, now: float, reason: AbortReason | str) -> list[Command]:
        """End the routine early; ``[SwitchOff, Aborted]``, or nothing if not running.

        The switch-off is sent whatever the current step: the relay may have been switched
        on by someone else or an earlier switch-off may have failed.
        """
        if not self.running:
            return []
        reason = AbortReason(reason)
        step = self.current_step
        if step is not None:
            elapsed = max(0.0, max(now, self._latest) - self._step_started)
            self._planned_done += min(step.seconds, elapsed)
        return self._end(now, reason)

    def off_unconfirmed(self) -> Aborted:
        """Count a finished run as aborted: the relay did not confirm the final switch-off.

        Returns the :class:`Aborted` (reason :attr:`AbortReason.SWITCH_UNAVAILABLE`) to report
        instead of :class:`Finished`: a routine whose relay may still be on never finished.
        """
        if self._state is not RunState.FINISHED:
            raise RunStateError(f"cannot turn a run that is {self._state} into an abort")
        self._state = RunState.ABORTED
        self.end_reason = AbortReason.SWITCH_UNAVAILABLE
        started = self.started_at if self.started_at is not None else self._latest
        ended = self.ended_at if self.ended_at is not None else self._latest
        return Aborted(
            at=ended,
            task=self.program.task,
            reason=AbortReason.SWITCH_UNAVAILABLE,
            cycles_done=self._cycles_done,
            duration_s=max(0.0, ended - started),
        )

    def observe_power(self, ts: float, watts: float) -> None:
        """Feed a power reading of the machine (for pump supervision)."""
        if not math.isfinite(ts) or not math.isfinite(watts):
            return
        if self._last_sample is None or ts >= self._last_sample[0]:
            self._last_sample = (ts, watts)
        step = self.current_step
        if self._pump_seen or step is None or step.kind is not StepKind.ON:
            return
        if ts < self._step_started:
            return
        reference = self._reference
        if reference is None:
            self._period_min = watts if self._period_min is None else min(self._period_min, watts)
            reference = self._period_min
        if watts - reference >= self._pump_min_watts:
            self._pump_seen = True

    def _enter(self, index: int, now: float) -> list[Command]:
        self._index = index
        self._step_started = now
        step = self._steps[index]
        if step.kind is StepKind.ON:
            self._on_periods_started += 1
            self._reference = None if self._last_sample is None else self._last_sample[1]
            self._period_min = None
            return [SwitchOn(at=now)]
        if step.kind is StepKind.RINSE_PAUSE:
            return [RinseNow(at=now, pause_seconds=step.seconds)]
        return []

    def _end(self, now: float, reason: AbortReason | None) -> list[Command]:
        """End the run (the only way): switch off first, then report."""
        self._latest = max(self._latest, now)
        started = self.started_at if self.started_at is not None else now
        self.ended_at = now
        self.end_reason = reason
        duration = max(0.0, now - started)
        final: Command
        if reason is None:
            self._state = RunState.FINISHED
            final = Finished(
                at=now, task=self.program.task, cycles_done=self._cycles_done, duration_s=duration
            )
        else:
            self._state = RunState.ABORTED
            final = Aborted(
                at=now,
                task=self.program.task,
                reason=reason,
                cycles_done=self._cycles_done,
                duration_s=duration,
            )
        return [SwitchOff(at=now), final]

    # -- persistence ---------------------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable record of a run (persist while running to detect restarts)."""
        return {
            "program": self.program.as_dict(),
            "state": str(self._state),
            "started_at": self.started_at,
            "cycles_done": self._cycles_done,
            "ended_at": self.ended_at,
            "end_reason": None if self.end_reason is None else str(self.end_reason),
        }

    @classmethod
    def restore(cls, data: object) -> BackflushRun | None:
        """Rebuild a run persisted while running, to end it after a restart.

        Returns ``None`` unless ``data`` records a running run. The restored run never
        resumes (the user may have removed the blind basket): :meth:`advance` does nothing,
        :meth:`abort` (reason ``restart``) returns ``[SwitchOff, Aborted]``. An unreadable
        program falls back to the default plain backflush.
        """
        if not isinstance(data, Mapping) or data.get("state") != RunState.RUNNING:
            return None
        raw_program = data.get("program")
        try:
            program = BackflushProgram.from_dict(
                raw_program if isinstance(raw_program, Mapping) else {}
            )
        except ProgramError:
            program = BackflushProgram.build()
        run = cls(program, supervise_pump=False)
        run._state = RunState.RUNNING
        run._restored = True
        started = data.get("started_at")
        if (
            isinstance(started, int | float)
            and not isinstance(started, bool)
            and math.isfinite(started)
        ):
            run.started_at = float(started)
        cycles = data.get("cycles_done")
        if isinstance(cycles, int) and not isinstance(cycles, bool):
            run._cycles_done = max(0, cycles)
        return run
