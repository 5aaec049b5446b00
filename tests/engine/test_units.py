"""Tests of the power unit conversion."""

from __future__ import annotations

import math

import pytest

from custom_components.espresso_care.engine.units import to_watts, unit_factor


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        ("52.3", "W", 52.3),
        (" 52.3 ", "W", 52.3),
        ("52.3", None, 52.3),
        (52, "W", 52.0),
        (1.25, "kW", 1250.0),
        ("1.25", "kW", 1250.0),
        ("1.25", "KW", 1250.0),
        ("1250", "mW", 1.25),
        ("0", "W", 0.0),
        ("-0.3", "W", 0.0),
        ("-0.004", "kW", 0.0),
        ("1e3", "W", 1000.0),
        ("0.000002", "MW", 2.0),
        ("52.3", "w", 52.3),
        ("52.3\n", " kW ", 52300.0),
    ],
)
def test_valid(value: object, unit: str | None, expected: float) -> None:
    assert to_watts(value, unit) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "unit"),
    [
        ("unavailable", "W"),
        ("unknown", "W"),
        ("", "W"),
        (None, "W"),
        ("abc", "W"),
        ("nan", "W"),
        ("inf", "W"),
        ("-inf", "W"),
        (math.nan, "W"),
        (math.inf, "kW"),
        ("-12", "W"),
        (-0.5, "kW"),
        (True, "W"),
        ([1], "W"),
        ("10", "VA"),
    ],
)
def test_rejected(value: object, unit: str | None) -> None:
    assert to_watts(value, unit) is None


def test_unit_factor() -> None:
    assert unit_factor(None) == 1.0
    assert unit_factor("kW") == 1000.0
    assert unit_factor("mW") == 0.001
    assert unit_factor("MW") == 1_000_000.0
    assert unit_factor("VA") is None
