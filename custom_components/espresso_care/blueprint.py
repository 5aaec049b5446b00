"""The notification blueprint shipped with Espresso Care.

HACS installs only ``custom_components/espresso_care``, so the blueprint lives in
``blueprints/maintenance_due.yaml`` here (the repository's ``blueprints/automation/espresso_care``
copy, the one the import badge points at, is kept identical by a test). At set-up it is copied to
``<config>/blueprints/automation/espresso_care/maintenance_due.yaml`` unless a file of that name
exists: one the user edited or imported is never replaced.
"""

from __future__ import annotations

import logging
from pathlib import Path
import shutil
from typing import TYPE_CHECKING

from .const import DOMAIN

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

_LOGGER = logging.getLogger(__name__)

BLUEPRINT_FILE = "maintenance_due.yaml"
BLUEPRINT_SOURCE = Path(__file__).parent / "blueprints" / BLUEPRINT_FILE
BLUEPRINT_TARGET = ("blueprints", "automation", DOMAIN, BLUEPRINT_FILE)


def install_blueprint(config_dir: Path) -> Path | None:
    """Copy the blueprint into ``config_dir`` unless it has one of that name (blocking I/O).

    Returns the written path, ``None`` when a file was already there.
    """
    target = config_dir.joinpath(*BLUEPRINT_TARGET)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with BLUEPRINT_SOURCE.open("rb") as source, target.open("xb") as copy:
            shutil.copyfileobj(source, copy)
    except FileExistsError:
        return None
    return target


async def async_install_blueprint(hass: HomeAssistant) -> None:
    """Install the blueprint in the executor; a failure is logged, never raised."""
    try:
        written = await hass.async_add_executor_job(install_blueprint, Path(hass.config.config_dir))
    except OSError as err:
        _LOGGER.warning("Could not install the Espresso Care blueprint: %s", err)
        return
    if written is not None:
        _LOGGER.info("Installed the Espresso Care blueprint %s", written)
