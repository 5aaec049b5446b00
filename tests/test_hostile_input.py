"""Hostile power states through a real Home Assistant: no exception, no shot, no lost count.

A hypothesis test drives the plug's power sensor of a set-up machine (41 shots stored) with
2,000 random sequences of what plugs and users really produce: unavailable/unknown/empty
states, text, NaN, infinities, negative and absurd numbers, decimal commas, unit changes
(W, kW, others, none), the sensor removed and re-added, duplicate reports and the clock moved
back, with standby readings in between. After every step: nothing was logged as an error,
the counters never moved (no shot from garbage, none lost), the entities show them (or are
unavailable while the plug is).
"""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.const import ATTR_DEVICE_CLASS, ATTR_UNIT_OF_MEASUREMENT
from homeassistant.util import dt as dt_util
from hypothesis import HealthCheck, given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.espresso_care.store import storage_key

from .common import stored_data
from .conftest import ENTRY_ID, POWER_SENSOR

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

TOTAL = "sensor.espresso_machine_total_shots"
TODAY = "sensor.espresso_machine_shots_today"
KEY = storage_key(ENTRY_ID)
GARBAGE = [
    "unavailable",
    "unknown",
    "",
    " ",
    "abc",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e308",
    "-1e308",
    "1e400",
    "12,5",
    "1.0.0",
    "0x10",
    "None",
    "-5",
    "-250",
    "-0.2",
    "50 W",
]
UNITS = ["W", "kW", "mW", "MW", "°C", "VA", None]
# Standby readings in each unit (never anything a pump or heater could draw).
STANDBY = {"W": ["0", "0.5", "1.0", "1.9"], "kW": ["0", "0.0005", "0.001"], "mW": ["900"]}

steps = st.one_of(
    st.tuples(st.just("state"), st.sampled_from(GARBAGE), st.sampled_from(UNITS)),
    st.tuples(
        st.just("state"),
        st.sampled_from([value for values in STANDBY.values() for value in values]),
        st.sampled_from(["W", "kW", "mW"]),
    ),
    st.tuples(st.just("number"), st.floats(allow_nan=True, allow_infinity=True)),
    st.tuples(st.just("remove")),
    st.tuples(st.just("duplicate")),
    st.tuples(st.just("wait"), st.floats(min_value=0.1, max_value=120)),
    st.tuples(st.just("clock_back"), st.floats(min_value=0.5, max_value=7200)),
)


def _standby_or_garbage(value: str, unit: str | None) -> tuple[str, str | None]:
    """A standby value shown in another unit would not be standby: keep its own unit."""
    for standby_unit, values in STANDBY.items():
        if value in values and unit != standby_unit:
            return value, standby_unit
    return value, unit


@pytest.fixture
def stored(hass_storage: dict[str, Any]) -> None:
    """41 shots so far, 3 of them today."""
    hass_storage[KEY] = stored_data(
        {"total_shots": 41, "shots_today": 3, "today": dt_util.now().date().isoformat()}
    )


@pytest.mark.usefixtures("stored")
@settings(
    max_examples=2000,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=st.lists(steps, min_size=1, max_size=12))
async def test_hostile_power_states(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    sequence: list[tuple[Any, ...]],
) -> None:
    """No error, no shot from garbage, counters never decrease, entities show the counters."""
    shots = init_integration.runtime_data.shots
    total = shots.total_shots
    caplog.set_level(logging.WARNING, logger="custom_components.espresso_care")
    for step in sequence:
        kind = step[0]
        if kind == "state":
            value, unit = _standby_or_garbage(step[1], step[2])
            attributes = {ATTR_DEVICE_CLASS: "power"}
            if unit is not None:
                attributes[ATTR_UNIT_OF_MEASUREMENT] = unit
            hass.states.async_set(POWER_SENSOR, value, attributes)
        elif kind == "number":
            # A number outside standby is garbage unless it is a plausible reading: keep
            # only those that are not (negative, non-finite, absurd).
            number = step[1]
            if 0 <= number <= 2.0 or 2.0 < number < 1e6:
                number = -abs(number) - 50  # never a plausible draw
            hass.states.async_set(POWER_SENSOR, str(number), {ATTR_UNIT_OF_MEASUREMENT: "W"})
        elif kind == "remove":
            hass.states.async_remove(POWER_SENSOR)
        elif kind == "duplicate":
            if (state := hass.states.get(POWER_SENSOR)) is not None:
                hass.states.async_set(
                    POWER_SENSOR, state.state, state.attributes, force_update=True
                )
        elif kind == "wait":
            freezer.tick(timedelta(seconds=step[1]))
            async_fire_time_changed(hass)
        else:  # the clock set back
            freezer.move_to(dt_util.utcnow() - timedelta(seconds=step[1]))
            async_fire_time_changed(hass)
        await hass.async_block_till_done()
        assert shots.total_shots == total, step
        errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
        assert not errors, (step, errors)
        # Shown while the plug is readable, unavailable while it is not; never another number.
        assert hass.states.get(TOTAL).state in (str(total), "unavailable"), step
        assert hass.states.get(TODAY).state in (str(shots.shots_today), "unavailable"), step
    # Back to standby: the machine still counts from here on (nothing got stuck).
    hass.states.async_set(POWER_SENSOR, "1.0", {ATTR_UNIT_OF_MEASUREMENT: "W"})
    await hass.async_block_till_done()
    assert shots.total_shots == total
    assert hass.states.get(TOTAL).state == str(total)
