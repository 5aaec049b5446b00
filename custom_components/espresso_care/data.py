"""The runtime data of one espresso machine: its independent parts, wired by callbacks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

if TYPE_CHECKING:
    from homeassistant.helpers.device_registry import DeviceInfo

    from .backflush_runner import BackflushRunner
    from .maintenance_tracker import MaintenanceTracker
    from .repairs import SourceIssues
    from .shot_counter import ShotCounter
    from .store import EntrySaver


@dataclass(frozen=True, kw_only=True, slots=True)
class EspressoCareData:
    """What ``entry.runtime_data`` holds for one machine.

    ``shots`` recognises and counts shots, ``maintenance`` keeps the schedule, ``backflush``
    runs the automated backflush; none knows another, ``__init__.py`` wires their callbacks.
    Each owns its slice of the stored data, which ``saver`` puts together.
    """

    shots: ShotCounter
    maintenance: MaintenanceTracker
    backflush: BackflushRunner
    issues: SourceIssues
    saver: EntrySaver
    device_info: DeviceInfo


type EspressoCareConfigEntry = ConfigEntry[EspressoCareData]
