"""Tests of the machine profiles."""

from __future__ import annotations

import math

import pytest

from custom_components.espresso_care.engine.profiles import (
    MACHINE_TYPES,
    SETTING_NAMES,
    DetectorSettings,
    settings_for,
)


def test_machine_types() -> None:
    assert MACHINE_TYPES == (
        "single_boiler",
        "heat_exchanger",
        "dual_boiler",
        "thermoblock",
        "capsule",
    )


@pytest.mark.parametrize("machine_type", MACHINE_TYPES)
def test_defaults_are_sane(machine_type: str) -> None:
    settings = settings_for(machine_type)
    assert settings.machine_type == machine_type
    assert 0 < settings.shot_min_seconds < settings.shot_max_seconds
    assert settings.pump_min_watts < settings.pump_max_watts
    assert settings.blip_seconds <= settings.merge_gap_seconds
    data = settings.as_dict()
    assert data["machine_type"] == machine_type
    assert set(data) == {"machine_type", *SETTING_NAMES}
    assert all(isinstance(v, float) for k, v in data.items() if k != "machine_type")


def test_dataclass_defaults() -> None:
    settings = DetectorSettings(machine_type="capsule")
    assert settings.shot_min_seconds == 15
    assert settings.shot_max_seconds == 60
    with pytest.raises(AttributeError):
        settings.shot_min_seconds = 3  # type: ignore[misc]


def test_overrides() -> None:
    settings = settings_for("single_boiler", shot_min_seconds=18, shot_max_seconds=45.5)
    assert settings.shot_min_seconds == 18.0
    assert settings.shot_max_seconds == 45.5
    assert isinstance(settings.shot_min_seconds, float)


def test_unknown_type() -> None:
    with pytest.raises(ValueError, match="unknown machine type"):
        settings_for("moka_pot")


def test_unknown_setting() -> None:
    with pytest.raises(ValueError, match="unknown setting"):
        settings_for("capsule", shot_minimum=3)


@pytest.mark.parametrize(
    "overrides",
    [
        {"shot_min_seconds": 30, "shot_max_seconds": 30},
        {"shot_min_seconds": 50, "shot_max_seconds": 20},
        {"shot_min_seconds": 0},
        {"shot_min_seconds": -5},
        {"shot_max_seconds": 10_000},
        {"shot_max_seconds": math.nan},
        {"shot_max_seconds": math.inf},
        {"pump_min_watts": 100, "pump_max_watts": 50},
        {"blip_seconds": 20, "merge_gap_seconds": 5},
    ],
)
def test_out_of_range(overrides: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"seconds|watts"):
        settings_for("single_boiler", **overrides)


def test_non_number() -> None:
    with pytest.raises(ValueError, match="must be a number"):
        settings_for("single_boiler", shot_min_seconds="12")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must be a number"):
        settings_for("single_boiler", shot_min_seconds=True)
