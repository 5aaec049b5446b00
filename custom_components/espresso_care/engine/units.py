"""Conversion of Home Assistant power states to watts."""

from __future__ import annotations

import functools
import math

# HA's UnitOfPower spellings; "mW" and "MW" differ only by case, other units are matched
# case-insensitively ("KW", "w").
_FACTORS = {"W": 1.0, "kW": 1000.0, "mW": 0.001, "MW": 1_000_000.0}
_FACTORS_FOLDED = {"w": 1.0, "kw": 1000.0}

# Plugs report small negative powers around zero (calibration offset); down to this value a
# reading is clamped to 0 W. A more negative reading is a measurement error and is rejected.
NEGATIVE_CLAMP_WATTS = -5.0


@functools.lru_cache(maxsize=16)
def unit_factor(unit: str | None) -> float | None:
    """Return the factor from ``unit`` (W, kW, mW, MW; None means W) to watts.

    None for an unknown unit. Cached: a power sensor keeps its unit, every reading repeats it.
    """
    name = (unit or "W").strip()
    return _FACTORS.get(name) or _FACTORS_FOLDED.get(name.lower())


def to_watts(value: object, unit: str | None) -> float | None:
    """Parse a power state (string or number) in ``unit`` (W, kW, mW, MW; None means W).

    Returns None for unavailable/unknown/empty/non-numeric/NaN/infinite values, for an unknown
    unit and for negative readings below ``NEGATIVE_CLAMP_WATTS``; small negative readings
    (plug offset, e.g. -0.3 W) are clamped to 0.0.
    """
    factor = unit_factor(unit)
    if factor is None:
        return None
    return scaled_watts(value, factor)


def scaled_watts(value: object, factor: float) -> float | None:
    """Parse a power state (string or number) into watts with ``unit_factor``'s ``factor``.

    ``to_watts`` for a caller that looked the unit's factor up once (a power sensor keeps its
    unit, see ``unit_factor``); the same results.
    """
    if isinstance(value, str):  # a state: the usual case
        try:
            number = float(value)  # surrounding whitespace is allowed
        except ValueError:
            return None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
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
