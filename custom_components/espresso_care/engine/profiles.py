"""Machine profiles: the few physical figures the shot detector needs per kind of machine.

The detector learns most of what it needs (heater step, full heater power, exact pump draw)
from the power readings themselves; a profile only gives plausible ranges and timings. Every
figure is physical (watts, seconds) so that it can be checked against a machine's rating plate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
import math
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

MACHINE_TYPES = ("single_boiler", "heat_exchanger", "dual_boiler", "thermoblock", "capsule")


@dataclass(frozen=True, slots=True, kw_only=True)
class DetectorSettings:
    """Tuning of the shot detector (all powers in W, all times in s).

    machine_type: one of ``MACHINE_TYPES``.
    shot_min_seconds / shot_max_seconds: a pump run (pre-infusion included) of this length is
        a shot; shorter runs are flushes, longer ones hot water.
    pump_min_watts / pump_max_watts: range of the pump's own draw (vibration pumps 40-65 W,
        rotary pumps 150-200 W).
    pump2_min_watts / pump2_max_watts: a second possible pump range (heat exchangers come with
        either pump); 0 / 0 when unused.
    standby_watts: below this the machine is in standby (heater and pump off).
    level_tolerance_watts / level_tolerance_ratio: how far a reading may lie from an expected
        power level (heater step multiple, full heater, plus pump) and still match it:
        ``tolerance = level_tolerance_watts + level_tolerance_ratio * reading``.
    heater_step_min_watts / heater_step_max_watts: range of the PID heater "quantum" (the
        heater power times the duty granularity seen by a plug) that is learned from steps.
    high_watts: a reading above this means the heater is on at (nearly) full power.
    merge_gap_seconds: pump pauses up to this long inside a run are pre-infusion pauses.
    blip_seconds: a pump pause shorter than this is a measurement blip, not a pause.
    pulse_min_seconds / pulse_max_seconds: length of a backflush pulse.
    backflush_gap_seconds: longest pause between two pulses of one backflush session.
    backflush_min_pulses: pulses needed to call a session a backflush.
    pump_only_max_seconds: a pump run at least this long during which the heater never came on
        is not a shot (0 disables the rule): a single boiler refills with cold water during a
        shot, so a long draw without heating is hot water; a thermoblock heats the water as it
        flows, so a brew without it is impossible (a grinder, a refill).
    heater_on_ratio: "the heater came on" means a reading of at least ``high_watts`` and this
        fraction of the learned full heater power (a thermoblock brews at full power, while a
        grinder over a few PID steps reads ~500 W).
    steam_min_seconds: a heater-only full-power run this long (outside heat-up) is steaming.
    off_after_seconds: standby this long means the machine is off.
    """

    machine_type: str
    shot_min_seconds: float = 15.0
    shot_max_seconds: float = 60.0
    pump_min_watts: float = 38.0
    pump_max_watts: float = 70.0
    pump2_min_watts: float = 0.0
    pump2_max_watts: float = 0.0
    standby_watts: float = 5.0
    level_tolerance_watts: float = 10.0
    level_tolerance_ratio: float = 0.01
    heater_step_min_watts: float = 60.0
    heater_step_max_watts: float = 400.0
    high_watts: float = 500.0
    merge_gap_seconds: float = 10.0
    blip_seconds: float = 2.5
    pulse_min_seconds: float = 2.0
    pulse_max_seconds: float = 12.0
    backflush_gap_seconds: float = 20.0
    backflush_min_pulses: float = 4.0
    pump_only_max_seconds: float = 0.0
    heater_on_ratio: float = 0.0
    steam_min_seconds: float = 45.0
    off_after_seconds: float = 900.0

    def as_dict(self) -> dict[str, float | str]:
        """All settings, for diagnostics."""
        return dict(asdict(self))


_VIBE: dict[str, float] = {"pump_min_watts": 38.0, "pump_max_watts": 70.0}
# Rotary pumps draw 150-200 W; the band is a little wider so a plug that reads 5-10 % off
# (calibration, mains voltage) still sees the pump.
_ROTARY: dict[str, float] = {"pump_min_watts": 140.0, "pump_max_watts": 215.0}
_FLOW_HEATER: dict[str, float] = {**_VIBE, "pump_only_max_seconds": 10.0, "heater_on_ratio": 0.8}

# Defaults per machine type.
# - shot_min: the shortest shots (ristretto) take 12-15 s and a measured duration is off by
#   up to ~1 s, flushes last 2-8 s: 12 s separates them. Heat exchangers and dual boilers refill
#   their steam boiler with pump pulses of up to ~12 s, so they keep 15 s.
# - shot_max: dual boilers (rotary pump, pressure profiling) pull long pre-infusion shots.
# - steam_min: the steam boiler of a heat exchanger / dual boiler cycles its heater for 30-60 s
#   on its own, so only a longer full-power run is taken for steaming.
# - pump_only_max: a thermoblock / capsule machine heats the water while it flows, so a brew
#   without the heater is impossible; a single boiler refills its boiler with cold water during
#   a shot, so a long draw without the heater is hot water (from the steam wand).
_PROFILES: dict[str, dict[str, float]] = {
    "single_boiler": {**_VIBE, "shot_min_seconds": 12.0, "pump_only_max_seconds": 45.0},
    "heat_exchanger": {
        **_VIBE,
        "pump2_min_watts": 140.0,
        "pump2_max_watts": 215.0,
        "steam_min_seconds": 75.0,
    },
    "dual_boiler": {**_ROTARY, "shot_max_seconds": 65.0, "steam_min_seconds": 75.0},
    "thermoblock": {**_FLOW_HEATER, "shot_min_seconds": 12.0},
    "capsule": {**_FLOW_HEATER, "shot_min_seconds": 12.0},
}

# Allowed range of each numeric setting (inclusive).
_RANGES: dict[str, tuple[float, float]] = {
    "shot_min_seconds": (1.0, 300.0),
    "shot_max_seconds": (2.0, 600.0),
    "pump_min_watts": (1.0, 1000.0),
    "pump_max_watts": (1.0, 1000.0),
    "pump2_min_watts": (0.0, 1000.0),
    "pump2_max_watts": (0.0, 1000.0),
    "standby_watts": (0.0, 100.0),
    "level_tolerance_watts": (0.5, 200.0),
    "level_tolerance_ratio": (0.0, 0.2),
    "heater_step_min_watts": (1.0, 5000.0),
    "heater_step_max_watts": (1.0, 5000.0),
    "high_watts": (10.0, 10000.0),
    "merge_gap_seconds": (0.0, 60.0),
    "blip_seconds": (0.0, 30.0),
    "pump_only_max_seconds": (0.0, 600.0),
    "heater_on_ratio": (0.0, 1.5),
    "pulse_min_seconds": (0.0, 60.0),
    "pulse_max_seconds": (0.5, 120.0),
    "backflush_gap_seconds": (1.0, 300.0),
    "backflush_min_pulses": (2.0, 50.0),
    "steam_min_seconds": (1.0, 3600.0),
    "off_after_seconds": (1.0, 86400.0),
}

SETTING_RANGES: Mapping[str, tuple[float, float]] = MappingProxyType(_RANGES)
"""Allowed range (inclusive) of each numeric setting: what ``settings_for`` accepts."""

SETTING_NAMES = tuple(f.name for f in fields(DetectorSettings) if f.name != "machine_type")


def settings_for(machine_type: str, **overrides: float) -> DetectorSettings:
    """Return the settings of a machine type, with optional overrides.

    Raises ValueError on an unknown machine type, an unknown setting, a value out of range or
    inconsistent bounds (shot_min must be below shot_max, pump_min below pump_max, ...).
    """
    if machine_type not in _PROFILES:
        raise ValueError(f"unknown machine type {machine_type!r}")
    values: dict[str, float] = dict(_PROFILES[machine_type])
    for name, value in overrides.items():
        if name not in _RANGES:
            raise ValueError(f"unknown setting {name!r}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} must be a number")  # noqa: TRY004 - one error type for callers
        number = float(value)
        low, high = _RANGES[name]
        if not math.isfinite(number) or not low <= number <= high:
            raise ValueError(f"{name}={value!r} outside [{low}, {high}]")
        values[name] = number
    settings = DetectorSettings(machine_type=machine_type, **values)
    if settings.shot_min_seconds >= settings.shot_max_seconds:
        raise ValueError("shot_min_seconds must be below shot_max_seconds")
    if settings.pump_min_watts >= settings.pump_max_watts:
        raise ValueError("pump_min_watts must be below pump_max_watts")
    if settings.pump2_min_watts > settings.pump2_max_watts:
        raise ValueError("pump2_min_watts must not exceed pump2_max_watts")
    if settings.heater_step_min_watts >= settings.heater_step_max_watts:
        raise ValueError("heater_step_min_watts must be below heater_step_max_watts")
    if settings.blip_seconds > settings.merge_gap_seconds:
        raise ValueError("blip_seconds must not exceed merge_gap_seconds")
    if settings.pulse_min_seconds >= settings.pulse_max_seconds:
        raise ValueError("pulse_min_seconds must be below pulse_max_seconds")
    return settings
