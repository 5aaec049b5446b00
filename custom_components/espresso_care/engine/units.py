"""Conversion of Home Assistant power states to watts."""

from __future__ import annotations

import math

_FACTORS = {"w": 1.0, "kw": 1000.0, "mw": 0.001}

# Plugs report small negative powers around zero (calibration offset); down to this value a
# reading is clamped to 0 W. A more negative reading is a measurement error and is rejected.
NEGATIVE_CLAMP_WATTS = -5.0


def to_watts(value: object, unit: str | None) -> float | None:
    """Parse a power state (string or number) in ``unit`` (W, kW or mW; None means W).

    Returns None for unavailable/unknown/empty/non-numeric/NaN/infinite values, for an unknown
    unit and for negative readings below ``NEGATIVE_CLAMP_WATTS``; small negative readings
    (plug offset, e.g. -0.3 W) are clamped to 0.0.
    """
    factor = _FACTORS.get((unit or "W").strip().lower())
    if factor is None:
        # "mW" (milliwatt) vs "MW" (megawatt): a plug never reports megawatts.
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    if not math.isfinite(number):
        return None
    watts = number * factor
    if watts < 0.0:
        if watts < NEGATIVE_CLAMP_WATTS:
            return None
        return 0.0
    return watts
