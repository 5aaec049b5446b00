"""Serve the Espresso Care dashboard card and load it on every dashboard.

The card (``frontend/espresso-care-card.js``) ships with the integration: it is served at
``CARD_URL`` and added to the frontend's extra modules, so nobody needs to add a dashboard
resource by hand. Its URL carries the integration's version and a hash of the file, so a
browser fetches it again after an update and caches it until the next one.

Registered once per Home Assistant start (``async_setup``), not per config entry. Without the
``http`` integration (a headless set-up) there is nothing to serve; without ``frontend`` the
file is served but nothing loads it.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from homeassistant.components.frontend import add_extra_js_url
from homeassistant.components.http import StaticPathConfig
from homeassistant.loader import async_get_integration
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

_LOGGER = logging.getLogger(__name__)

CARD_FILE = Path(__file__).parent / "frontend" / "espresso-care-card.js"
CARD_URL = f"/{DOMAIN}/espresso-care-card.js"
DATA_CARD_URL: HassKey[str] = HassKey(f"{DOMAIN}_card_url")


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:8]


async def async_register_card(hass: HomeAssistant) -> None:
    """Serve the card and have the frontend load it (once per hass)."""
    if DATA_CARD_URL in hass.data:
        return
    if "http" not in hass.config.components or hass.http is None:
        # (a Home Assistant without a web server, e.g. the bench's, has no hass.http)
        _LOGGER.debug("No http integration: the dashboard card is not served")
        return
    integration = await async_get_integration(hass, DOMAIN)
    digest = await hass.async_add_executor_job(_file_hash, CARD_FILE)
    url = f"{CARD_URL}?v={integration.version}-{digest}"
    await hass.http.async_register_static_paths(
        [StaticPathConfig(CARD_URL, str(CARD_FILE), cache_headers=True)]
    )
    hass.data[DATA_CARD_URL] = url
    if "frontend" in hass.config.components:
        add_extra_js_url(hass, url)
    else:
        _LOGGER.debug("No frontend integration: the dashboard card is served but not loaded")
