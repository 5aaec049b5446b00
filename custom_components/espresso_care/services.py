"""Actions of Espresso Care (registered once, in ``async_setup``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .backflush_runner import program_error
from .const import (
    ADJUST_SHOTS_LIMIT,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_COUNT,
    ATTR_CYCLES,
    ATTR_DAYS,
    ATTR_DURATION,
    ATTR_OFF_SECONDS,
    ATTR_ON_SECONDS,
    ATTR_RINSE_CYCLES,
    ATTR_RINSE_PAUSE_SECONDS,
    ATTR_TASK,
    ATTR_UNTIL,
    ATTR_WHEN,
    DOMAIN,
    SERVICE_ADJUST_SHOTS,
    SERVICE_ANALYZE_HISTORY,
    SERVICE_MARK_DONE,
    SERVICE_SNOOZE,
    SERVICE_START_BACKFLUSH,
    SERVICE_STOP_BACKFLUSH,
    SOURCE_ACTION,
)
from .engine.backflush import AbortReason, BackflushProgram, ProgramError
from .engine.maintenance import TASKS, DateInFutureError, SnoozeError
from .history import DEFAULT_DAYS, as_response, async_analyze

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from .data import EspressoCareConfigEntry, EspressoCareData

ADJUST_SHOTS_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_COUNT): vol.All(
            vol.Coerce(int), vol.Range(min=-ADJUST_SHOTS_LIMIT, max=ADJUST_SHOTS_LIMIT)
        ),
    }
)


def _program_number(value: Any) -> Any:
    """Coerce a number given as text; a boolean is kept for the engine to refuse (translated).

    ``vol.Coerce(float)`` alone would read ``cycles: true`` as 1 cycle.
    """
    if isinstance(value, bool):
        return value
    return vol.Coerce(float)(value)


# Bounds are checked by the engine (BackflushProgram), which names them in translated errors.
START_BACKFLUSH_SCHEMA = vol.Schema(
    {vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string, vol.Optional(ATTR_TASK): cv.string}
).extend(
    {
        vol.Optional(field): _program_number
        for field in (
            ATTR_CYCLES,
            ATTR_ON_SECONDS,
            ATTR_OFF_SECONDS,
            ATTR_RINSE_CYCLES,
            ATTR_RINSE_PAUSE_SECONDS,
        )
    }
)
STOP_BACKFLUSH_SCHEMA = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string})
MARK_DONE_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_TASK): vol.In([str(task) for task in TASKS]),
        vol.Optional(ATTR_WHEN): cv.datetime,
    }
)
# Bounds (1 hour to 30 days) are checked by the engine, which names them in translated errors.
SNOOZE_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_TASK): vol.In([str(task) for task in TASKS]),
        vol.Optional(ATTR_DURATION): cv.positive_time_period,
        vol.Optional(ATTR_UNTIL): cv.datetime,
    }
)
# The range of days (1 to 30) is checked by the handler, which raises a translated error.
ANALYZE_HISTORY_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_DAYS, default=DEFAULT_DAYS): vol.Coerce(int),
    }
)


@callback
def async_get_entry(hass: HomeAssistant, entry_id: str) -> EspressoCareConfigEntry:
    """Return a loaded Espresso Care entry, or raise a translated validation error."""
    entry: EspressoCareConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"name": entry.title},
        )
    return entry


@callback
def async_get_data(hass: HomeAssistant, entry_id: str) -> EspressoCareData:
    """Runtime data of a loaded Espresso Care entry, or a translated validation error."""
    return async_get_entry(hass, entry_id).runtime_data


async def _async_adjust_shots(call: ServiceCall) -> None:
    """Correct the shot counters of a machine for missed or false shots."""
    data = async_get_data(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    count: int = call.data[ATTR_COUNT]
    if count == 0:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="count_zero")
    await data.shots.async_adjust_shots(count)


async def _async_start_backflush(call: ServiceCall) -> None:
    """Run the automated backflush (or clean) of a machine with its backflush switch."""
    data = async_get_data(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    try:
        program = BackflushProgram.build(
            task=call.data.get(ATTR_TASK, "backflush"),
            cycles=call.data.get(ATTR_CYCLES),
            on_seconds=call.data.get(ATTR_ON_SECONDS),
            off_seconds=call.data.get(ATTR_OFF_SECONDS),
            rinse_cycles=call.data.get(ATTR_RINSE_CYCLES),
            rinse_pause_seconds=call.data.get(ATTR_RINSE_PAUSE_SECONDS),
        )
    except ProgramError as err:
        raise program_error(err) from err
    await data.backflush.async_start_program(program, call.context)


async def _async_stop_backflush(call: ServiceCall) -> None:
    """Abort the running automated backflush of a machine; its switch is turned off."""
    data = async_get_data(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    await data.backflush.async_stop(AbortReason.STOPPED, call.context)


def _aware(when: datetime | None) -> datetime | None:
    """Return a date-time field aware: the selector sends local wall-clock time."""
    if when is not None and when.tzinfo is None:
        return when.replace(tzinfo=dt_util.get_default_time_zone())
    return when


async def _async_mark_done(call: ServiceCall) -> None:
    """Record a maintenance task of a machine as done (now, or at a past ``when``)."""
    data = async_get_data(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    when = _aware(call.data.get(ATTR_WHEN))
    try:
        await data.maintenance.async_mark_done(
            call.data[ATTR_TASK], source=SOURCE_ACTION, when=when
        )
    except DateInFutureError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=err.translation_key,
            translation_placeholders={"when": dt_util.as_local(err.when).isoformat()},
        ) from err


async def _async_snooze(call: ServiceCall) -> None:
    """Postpone a maintenance task of a machine for a ``duration`` or ``until`` a moment."""
    data = async_get_data(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    duration: timedelta | None = call.data.get(ATTR_DURATION)
    until = _aware(call.data.get(ATTR_UNTIL))
    if (duration is None) == (until is None):
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="snooze_duration_or_until"
        )
    try:
        await data.maintenance.async_snooze(call.data[ATTR_TASK], duration=duration, until=until)
    except SnoozeError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=err.translation_key,
            translation_placeholders=err.placeholders,
        ) from err


async def _async_analyze_history(call: ServiceCall) -> ServiceResponse:
    """Analyse the recorded history of a machine's power sensor; return what was found."""
    entry = async_get_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    days: int = call.data[ATTR_DAYS]
    analysis = await async_analyze(call.hass, entry, days)
    return as_response(entry, days, analysis)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions of the integration."""
    hass.services.async_register(
        DOMAIN, SERVICE_ADJUST_SHOTS, _async_adjust_shots, schema=ADJUST_SHOTS_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_START_BACKFLUSH, _async_start_backflush, schema=START_BACKFLUSH_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_STOP_BACKFLUSH, _async_stop_backflush, schema=STOP_BACKFLUSH_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_MARK_DONE, _async_mark_done, schema=MARK_DONE_SCHEMA
    )
    hass.services.async_register(DOMAIN, SERVICE_SNOOZE, _async_snooze, schema=SNOOZE_SCHEMA)
    hass.services.async_register(
        DOMAIN,
        SERVICE_ANALYZE_HISTORY,
        _async_analyze_history,
        schema=ANALYZE_HISTORY_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
