"""Analysis of the power sensor's recorded history (``espresso_care.analyze_history``).

The recorder is read in its own executor, page by page (``PAGE_SIZE`` states per query, each
page starting after the last state seen), and every page is fed to the engine's
``HistoryAnalyzer`` before the next one is read: memory stays bounded whatever the length of
the history (30 days of a plug reporting every second are 2.6 million states).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
import math
from typing import TYPE_CHECKING, Any

from homeassistant.components.recorder import history
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util

from .const import CONF_POWER_SENSOR, CONF_SHOT_MAX_SECONDS, CONF_SHOT_MIN_SECONDS, DOMAIN
from .engine.calibration import HistoryAnalyzer
from .engine.units import to_watts

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .data import EspressoCareConfigEntry
    from .engine.calibration import Analysis
    from .engine.profiles import DetectorSettings

# states per recorder query
PAGE_SIZE = 10_000
MIN_DAYS = 1
MAX_DAYS = 30
DEFAULT_DAYS = 7
RECORDER_DOMAIN = "recorder"


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryRequest:
    """What to analyse: a power sensor over a period, with the machine's settings."""

    entity_id: str
    start: datetime
    end: datetime
    settings: DetectorSettings
    overrides: dict[str, float]
    counted_from: float | None = None


def local_day(ts: float) -> str:
    """Return the local date (ISO) of a POSIX timestamp."""
    return dt_util.as_local(dt_util.utc_from_timestamp(ts)).date().isoformat()


def read_history(hass: HomeAssistant, request: HistoryRequest) -> Analysis:
    """Stream the recorded states through the analyzer (runs in the recorder's executor).

    The state holding at the start of the period comes first; an ``unavailable``/``unknown``
    state (or one in an unknown unit) is a gap; every state is converted with its own unit
    (a sensor may have been in kW for a while).
    """
    page_size = PAGE_SIZE
    analyzer = HistoryAnalyzer(
        request.settings,
        overrides=request.overrides,
        day_of=local_day,
        counted_from=request.counted_from,
    )
    entity_id = request.entity_id
    cursor = request.start
    last_ts = -math.inf
    first_page = True
    while True:
        states = history.state_changes_during_period(
            hass,
            cursor,
            request.end,
            entity_id,
            include_start_time_state=first_page,
            limit=page_size,
        ).get(entity_id, [])
        first_page = False
        fed = 0
        for state in states:
            ts = state.last_updated_timestamp
            if ts <= last_ts:
                continue
            unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
            analyzer.feed(ts, to_watts(state.state, unit), unit)
            last_ts = ts
            fed += 1
        if len(states) < page_size or not fed:
            break
        cursor = dt_util.utc_from_timestamp(last_ts)
        del states
    return analyzer.finish(request.end.timestamp())


def build_request(entry: EspressoCareConfigEntry, days: int) -> HistoryRequest:
    """Return the request of an entry's analysis over the last ``days`` days."""
    shots = entry.runtime_data.shots
    settings = shots.settings
    overrides = {
        key: float(getattr(settings, key))
        for key in (CONF_SHOT_MIN_SECONDS, CONF_SHOT_MAX_SECONDS)
        if key in entry.options
    }
    end = dt_util.utcnow()
    return HistoryRequest(
        entity_id=entry.options[CONF_POWER_SENSOR],
        start=end - timedelta(days=days),
        end=end,
        settings=settings,
        overrides=overrides,
        counted_from=entry.created_at.timestamp(),
    )


async def async_analyze(hass: HomeAssistant, entry: EspressoCareConfigEntry, days: int) -> Analysis:
    """Analyse an entry's power sensor over the last ``days`` days.

    Raises a translated ServiceValidationError when ``days`` is out of range or the recorder
    is not running.
    """
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="days_out_of_range",
            translation_placeholders={"min": str(MIN_DAYS), "max": str(MAX_DAYS)},
        )
    if RECORDER_DOMAIN not in hass.config.components:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="recorder_not_running"
        )
    request = build_request(entry, days)
    return await get_instance(hass).async_add_executor_job(read_history, hass, request)


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return dt_util.as_local(dt_util.utc_from_timestamp(ts)).isoformat(timespec="seconds")


def as_response(entry: EspressoCareConfigEntry, days: int, analysis: Analysis) -> dict[str, Any]:
    """Return the action's response: the analysis, its times local ISO strings."""
    data = analysis.as_dict()
    for item in (*data["shots"], *data["backflushes"]):
        item["start"] = _iso(item["start"])
        item["end"] = _iso(item["end"])
    return {
        "power_sensor": entry.options[CONF_POWER_SENSOR],
        "days": days,
        "first_state": _iso(data.pop("first")),
        "last_state": _iso(data.pop("last")),
        **data,
    }
