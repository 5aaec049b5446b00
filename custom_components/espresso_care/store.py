"""Persistent storage of the shot counters of one config entry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NotRequired, TypedDict, cast

from homeassistant.core import callback
from homeassistant.helpers.storage import Store

from .const import DOMAIN

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant

STORAGE_VERSION = 1
STORAGE_MINOR_VERSION = 1


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
    """The automated backflush: saved as running before the switch is first turned on."""


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
        data = empty_data()
        data.update(old_data)  # type: ignore[typeddict-item]
        return data

    async def async_load_data(self) -> StoredData:
        """Load the counters, or empty ones when nothing was stored yet."""
        data = await self.async_load()
        if data is None:
            return empty_data()
        return {**empty_data(), **data}


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
