"""Events the shot detector emits.

Timestamps are POSIX seconds (``float``), the same clock the samples were fed with.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MachineState(StrEnum):
    """What the machine is doing, as far as its power draw tells."""

    OFF = "off"
    HEATING = "heating"
    READY = "ready"
    BREWING = "brewing"
    STEAMING = "steaming"
    BACKFLUSHING = "backflushing"


@dataclass(frozen=True, slots=True, kw_only=True)
class ShotStarted:
    """The pump started a run that may become a shot."""

    start: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ShotFinished:
    """A pump run ended and was recognised as a shot."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        """Length of the shot in seconds."""
        return self.end - self.start


@dataclass(frozen=True, slots=True, kw_only=True)
class ShotDiscarded:
    """A run that was announced with ShotStarted turned out not to be a shot."""

    start: float
    end: float
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StateChanged:
    """The machine state changed."""

    at: float
    state: MachineState
    previous: MachineState


@dataclass(frozen=True, slots=True, kw_only=True)
class BackflushDetected:
    """A manual backflush session: several short pump pulses separated by pauses."""

    start: float
    end: float
    pulses: int


type DetectorEvent = ShotStarted | ShotFinished | ShotDiscarded | StateChanged | BackflushDetected


def saves_model(event: DetectorEvent) -> bool:
    """Whether what the detector learned should be saved after ``event``.

    After a shot (its pump stop taught the pump's draw, its readings the heater's levels),
    when the machine was switched off, and when its heat-up ended (the heater's full power):
    saved then, a crash resumes with what the detector knew (``ShotDetector.export_model``).
    """
    if isinstance(event, ShotFinished):
        return True
    return isinstance(event, StateChanged) and (
        event.state is MachineState.OFF or event.previous is MachineState.HEATING
    )
