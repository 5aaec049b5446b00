"""Persistent storage of the shot counters of one config entry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from homeassistant.helpers.storage import Store

from .const import DOMAIN

if TYPE_CHECKING:
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

    New sections (for example the maintenance schedule) are added as ``NotRequired`` keys,
    written by ``EspressoCareRuntime._as_stored`` and read in its constructor; a new minor
    version is only needed when existing keys change meaning.
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
