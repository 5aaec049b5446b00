"""Persistent storage of the shot counters of one config entry."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
import logging
import math
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict, cast

from homeassistant.core import callback
from homeassistant.helpers.storage import Store

from .const import DOMAIN
from .engine.maintenance import TASKS as TASK_TABLE

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 1
STORAGE_MINOR_VERSION = 2
"""1.2 adds ``detector``: what the shot detector learned (``ShotDetector.export_model``)."""


class StoredLastShot(TypedDict):
    """The last recognised shot, timestamps in ISO 8601."""

    start: str
    end: str
    duration: float


class StoredData(TypedDict):
    """What is kept across restarts for one machine.

    Each part of the runtime owns a slice: the shot counter the top-level counters, the
    maintenance tracker ``maintenance``, the backflush runner ``backflush_run``. New sections
    are added as ``NotRequired`` keys; a new minor version is only needed when existing keys
    change meaning.
    """

    total_shots: int
    shots_today: int
    today: str | None
    """Local date (ISO) that ``shots_today`` counts, None before the first shot."""
    last_shot: StoredLastShot | None
    recent_durations: list[float]
    """Durations of the most recent shots in seconds, oldest first."""
    maintenance: NotRequired[dict[str, Any]]
    backflush_run: NotRequired[dict[str, Any]]
    detector: NotRequired[dict[str, Any]]
    """The detector's learned model (``export_model``, versioned), restored at set-up."""
    """The automated backflush: saved as running before the switch is first turned on."""
    history_import: NotRequired[dict[str, Any]]
    """Shots from the recorded history added to the counters, once: ``since`` (local date),
    ``shots``, ``at`` (ISO); its presence alone means it was done."""


def empty_data() -> StoredData:
    """Counters of a machine that has never pulled a shot."""
    return {
        "total_shots": 0,
        "shots_today": 0,
        "today": None,
        "last_shot": None,
        "recent_durations": [],
    }


def storage_key(entry_id: str) -> str:
    """Storage file of one config entry (``.storage/espresso_care.<entry_id>``)."""
    return f"{DOMAIN}.{entry_id}"


class StoredDataTooNewError(Exception):
    """The stored data was written by a newer release of Espresso Care (a downgrade)."""


class StoredDataCorruptError(Exception):
    """The stored data holds a value that cannot be repaired without losing counts or dates.

    ``field`` is the dotted path of the value (``maintenance.schedule.tasks.clean``),
    ``value`` a short representation of what was found.
    """

    def __init__(self, field: str, value: object) -> None:
        """Name the unrepairable value."""
        self.field = field
        self.value = _short_repr(value)
        super().__init__(f"{field}: {self.value}")


class EspressoCareStore(Store[StoredData]):
    """Versioned store of one config entry's counters."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Create the store of a config entry."""
        super().__init__(
            hass,
            STORAGE_VERSION,
            storage_key(entry_id),
            minor_version=STORAGE_MINOR_VERSION,
            atomic_writes=True,
        )

    async def _async_migrate_func(
        self,
        old_major_version: int,
        old_minor_version: int,
        old_data: dict[str, Any],
    ) -> StoredData:
        """Migrate stored data of another version.

        Data of a newer major version (written by a newer release, then downgraded) is
        refused with ``StoredDataTooNewError``: setup fails instead of overwriting it. Minor
        versions only add keys, so missing ones are filled in and unknown ones are kept.
        """
        if old_major_version > STORAGE_VERSION:
            raise StoredDataTooNewError(
                f"stored data has version {old_major_version}, newer than {STORAGE_VERSION}"
            )
        if (old_major_version, old_minor_version) < (1, 2):
            # 1.1 -> 1.2: the detector's model is new; the detector learns it from the next
            # readings, as it did before it was kept.
            pass
        # Validated (and missing keys filled in) by async_load_data.
        return old_data  # type: ignore[return-value]

    async def async_load_data(self) -> StoredData:
        """Load and validate the counters, or empty ones when nothing was stored yet.

        Repairs are logged as warnings; raises ``StoredDataCorruptError`` when the data
        cannot be repaired (see ``validate_stored``).
        """
        data: object = await self.async_load()
        if data is None:
            return empty_data()
        stored, repairs = validate_stored(data)
        if repairs:
            _LOGGER.warning(
                "Repaired the stored data of %s (%s): %s",
                self.key,
                self.path,
                "; ".join(repairs),
            )
        return stored


class EntrySaver:
    """Saves one machine's stored data, put together from the slices its parts own."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, store: EspressoCareStore) -> None:
        """Save into ``store``; background saves belong to ``entry`` (awaited at unload)."""
        self._hass = hass
        self._entry = entry
        self._store = store
        self._slices: list[Callable[[], Mapping[str, Any]]] = []

    def add_slice(self, provider: Callable[[], Mapping[str, Any]]) -> None:
        """Include what ``provider`` returns (top-level keys) in every save."""
        self._slices.append(provider)

    def as_stored(self) -> StoredData:
        """Return the data as it is saved: every slice merged."""
        data: dict[str, Any] = {}
        for provider in self._slices:
            data.update(provider())
        return cast("StoredData", data)

    async def async_save(self) -> None:
        """Save right away."""
        await self._store.async_save(self.as_stored())

    @callback
    def async_schedule_save(self) -> None:
        """Save right away from a callback; the write is awaited when the entry unloads."""
        self._entry.async_create_task(
            self._hass,
            self._store.async_save(self.as_stored()),
            f"{DOMAIN} save {self._entry.entry_id}",
        )


# --- validation -------------------------------------------------------------------------------
#
# Every load goes through ``validate_stored``. A value whose right reading is certain (41.0 or
# "41" for 41, an unreadable display value such as the last shot, a statistic that is rebuilt
# from later shots) is repaired and logged as a warning. A value that would have to be invented
# (a count, a last-done date, which one-off options were applied) raises
# ``StoredDataCorruptError``: set-up fails with a repair issue instead of resetting silently.

MAX_COUNT = 1_000_000_000
"""Largest plausible shot count (far below what the JSON writer can store)."""
MAX_DURATION_S = 3600.0
RUN_STATES = ("idle", "running", "finished", "aborted")
TASKS = tuple(str(task) for task in TASK_TABLE)  # the engine's task table
COUNTER_KEYS = ("shots_today", "today", "last_shot", "recent_durations")


def _short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


class _Validation:
    """Collects the repairs made while validating one stored file."""

    def __init__(self) -> None:
        self.repairs: list[str] = []

    def repaired[T](self, field: str, value: object, replacement: T) -> T:
        """Record that ``value`` at ``field`` was replaced; return the replacement."""
        self.repairs.append(f"{field}: {_short_repr(value)} -> {_short_repr(replacement)}")
        return replacement

    def count(self, field: str, value: object) -> int:
        """Read a non-negative whole number; 41.0 and "41" are read as 41."""
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and value.strip().isdecimal():
            number = int(value.strip())
        if number is None or not 0 <= number <= MAX_COUNT:
            raise StoredDataCorruptError(field, value)
        if number is not value:
            self.repaired(field, value, number)
        return number

    def durations(self, field: str, value: object) -> list[float]:
        """Read a list of shot durations; anything else or unreadable items are dropped."""
        if not isinstance(value, list):
            return self.repaired(field, value, [])
        kept = [float(item) for item in value if _is_duration(item)]
        if len(kept) != len(value):
            self.repaired(field, value, kept)
        return kept

    def last_shot(self, value: object) -> StoredLastShot | None:
        """Read the last shot (shown only); dropped when unreadable."""
        if value is None:
            return None
        if (
            isinstance(value, Mapping)
            and _aware_datetime(value.get("start")) is not None
            and _aware_datetime(value.get("end")) is not None
            and _is_duration(value.get("duration"), allow_zero=True)
        ):
            return {
                "start": value["start"],
                "end": value["end"],
                "duration": float(value["duration"]),
            }
        return self.repaired("last_shot", value, None)

    def today(self, value: object) -> str | None:
        """Read the date ``shots_today`` counts; unreadable means those shots were not today."""
        if value is None:
            return None
        if isinstance(value, str):
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                pass
        return self.repaired("today", value, None)

    def maintenance(self, value: object) -> dict[str, Any]:
        """Read the maintenance section: last-done dates and counts must be readable."""
        if not isinstance(value, Mapping):
            raise StoredDataCorruptError("maintenance", value)
        data = dict(value)
        schedule = data.get("schedule")
        tasks = schedule.get("tasks") if isinstance(schedule, Mapping) else None
        if not isinstance(tasks, Mapping):
            raise StoredDataCorruptError("maintenance.schedule", schedule)
        checked: dict[str, Any] = dict(tasks)
        for task in TASKS:
            field = f"maintenance.schedule.tasks.{task}"
            if task not in tasks:
                # Written before the task existed: the engine starts it as done now.
                self.repaired(field, None, "done now")
                continue
            record = tasks[task]
            if not isinstance(record, Mapping):
                raise StoredDataCorruptError(field, record)
            if not _readable_datetime(record.get("last_done")):
                raise StoredDataCorruptError(f"{field}.last_done", record.get("last_done"))
            checked[task] = {
                **record,
                "shots_since": self.count(f"{field}.shots_since", record.get("shots_since")),
            }
        data["schedule"] = {**schedule, "tasks": checked}  # type: ignore[dict-item]
        if "drift" in data:
            data["drift"] = self._drift(data["drift"])
        notified = data.get("notified_due", [])
        kept = (
            [task for task in notified if isinstance(task, str) and task in TASKS]
            if isinstance(notified, list)
            else []
        )
        if kept != notified:
            self.repaired("maintenance.notified_due", notified, kept)
        data["notified_due"] = kept
        applied = data.get("applied_last_done", {})
        if not isinstance(applied, Mapping) or not all(
            isinstance(key, str) and isinstance(item, str) for key, item in applied.items()
        ):
            raise StoredDataCorruptError("maintenance.applied_last_done", applied)
        data["applied_last_done"] = dict(applied)
        return data

    def _drift(self, value: object) -> dict[str, list[float]]:
        """Read the shot time drift statistics (rebuilt from later shots when unreadable)."""
        if not isinstance(value, Mapping):
            self.repaired("maintenance.drift", value, {"baseline": [], "recent": []})
            value = {}
        return {
            key: self.durations(f"maintenance.drift.{key}", value.get(key, []))
            for key in ("baseline", "recent")
        }

    def detector(self, value: object) -> dict[str, Any] | None:
        """Read the detector's model (a versioned object); dropped when unreadable.

        The detector validates the rest (``restore_model``) and relearns what it cannot use.
        """
        if (
            isinstance(value, Mapping)
            and isinstance(value.get("version"), int)
            and not isinstance(value.get("version"), bool)
        ):
            return dict(value)
        return self.repaired("detector", value, None)

    def backflush_run(self, value: object) -> dict[str, Any]:
        """Read the automated backflush: unreadable means the relay may be on (off is sent)."""
        if not isinstance(value, Mapping):
            return self.repaired("backflush_run", value, {"off_pending": True})
        data = dict(value)
        state = data.get("state")
        if state is not None and state not in RUN_STATES:
            self.repaired("backflush_run.state", state, None)
            data.pop("state")
            data["off_pending"] = True
        off_pending = data.get("off_pending", False)
        if not isinstance(off_pending, bool):
            data["off_pending"] = self.repaired("backflush_run.off_pending", off_pending, True)
        return data


def _is_duration(value: object, *, allow_zero: bool = False) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value >= 0 if allow_zero else value > 0)
        and value <= MAX_DURATION_S
    )


def _readable_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _aware_datetime(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.utcoffset() is not None else None


def validate_stored(data: object) -> tuple[StoredData, list[str]]:
    """Check stored data against the schema; return it repaired, with the repairs made.

    Raises ``StoredDataCorruptError`` for what cannot be repaired: data that is not an
    object, a shot count that is not a non-negative whole number (``True``, -5, null, 2**64),
    ``shots_today`` above ``total_shots``, a missing ``total_shots`` next to other counters,
    an unreadable maintenance section. Unknown keys are kept (written by a newer minor version).
    """
    if not isinstance(data, Mapping):
        raise StoredDataCorruptError("data", data)
    check = _Validation()
    if "total_shots" not in data and any(key in data for key in COUNTER_KEYS):
        # Counters without their total: the total cannot be told.
        raise StoredDataCorruptError("total_shots", None)
    total = check.count("total_shots", data.get("total_shots", 0))
    today_shots = check.count("shots_today", data.get("shots_today", 0))
    if today_shots > total:
        raise StoredDataCorruptError("shots_today", today_shots)
    stored: dict[str, Any] = {
        **data,
        "total_shots": total,
        "shots_today": today_shots,
        "today": check.today(data.get("today")),
        "last_shot": check.last_shot(data.get("last_shot")),
        "recent_durations": check.durations("recent_durations", data.get("recent_durations", [])),
    }
    if "maintenance" in data:
        stored["maintenance"] = check.maintenance(data["maintenance"])
    if "detector" in data:
        model = check.detector(data["detector"])
        if model is None:
            stored.pop("detector")
        else:
            stored["detector"] = model
    if "backflush_run" in data:
        stored["backflush_run"] = check.backflush_run(data["backflush_run"])
    return cast("StoredData", stored), check.repairs
