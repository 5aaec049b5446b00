"""Recorded plug traces replayed through a real Home Assistant: the shots are counted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.core import Event, callback
from homeassistant.util import dt as dt_util
import pytest

from custom_components.espresso_care.const import EVENT_SHOT

from .common import Trace, async_close_trace

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant

START_TOLERANCE = 1.0


@pytest.mark.parametrize(
    "name",
    [
        "hx_vibe__shelly_gen2__s1028",
        "capsule__shelly_gen2__s1056",
        "silvia_pid__shelly_gen2__s1014",
    ],
)
async def test_replay_trace(hass: HomeAssistant, freezer: FrozenDateTimeFactory, name: str) -> None:
    """Every labelled shot of the trace is counted once, and nothing else."""
    trace = Trace.load(name)
    labels = trace.labels
    await trace.async_set_up(hass, freezer)

    shots: list[Event] = []

    @callback
    def on_shot(event: Event) -> None:
        shots.append(event)

    hass.bus.async_listen(EVENT_SHOT, on_shot)
    for when, state in trace.samples:
        await trace.async_report(hass, freezer, when, state)
    await async_close_trace(hass, freezer)

    # The labelled number of shots is counted ...
    assert hass.states.get("sensor.espresso_machine_total_shots").state == str(len(labels["shots"]))
    # ... and they are the very shots the bare engine finds in the trace: the glue neither
    # loses, adds nor shifts one (timer ticks and state_reported events included).
    counted = [dt_util.parse_datetime(event.data["start"]).timestamp() for event in shots]  # type: ignore[union-attr]
    offline = trace.offline_starts()
    assert len(counted) == len(offline)
    for counted_start, offline_start in zip(counted, offline, strict=True):
        assert abs(counted_start - offline_start) <= START_TOLERANCE
