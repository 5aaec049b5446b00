"""The dashboard card is served by the integration and loaded on every dashboard."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
import re
from typing import TYPE_CHECKING

from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL, UrlManager
from homeassistant.config_entries import ConfigEntryState
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.espresso_care.const import DOMAIN
from custom_components.espresso_care.frontend import CARD_URL, DATA_CARD_URL

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

COMPONENT = Path(__file__).parent.parent / "custom_components" / "espresso_care"
CARD = COMPONENT / "frontend" / "espresso-care-card.js"
pytestmark = pytest.mark.usefixtures("power_sensor")


def _frontend_stand_in(hass: HomeAssistant) -> list[tuple[str, str]]:
    """What the frontend integration's set-up provides to others (it needs its own package).

    Returns the changes made to the extra modules the frontend loads.
    """
    changes: list[tuple[str, str]] = []
    hass.data[DATA_EXTRA_MODULE_URL] = UrlManager(
        lambda change, url: changes.append((change, url)), []
    )
    hass.config.components.add("frontend")
    return changes


async def test_card_served_and_loaded_once(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    config_entry: MockConfigEntry,
    options: dict[str, object],
) -> None:
    """The card is served at a versioned URL that the frontend loads, once for two machines."""
    assert await async_setup_component(hass, "http", {})
    changes = _frontend_stand_in(hass)
    second = MockConfigEntry(domain=DOMAIN, title="Second", options={**options, "name": "Second"})
    for entry in (config_entry, second):
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    assert second.state is ConfigEntryState.LOADED
    await hass.config_entries.async_reload(config_entry.entry_id)

    version = json.loads((COMPONENT / "manifest.json").read_text(encoding="utf-8"))["version"]
    digest = hashlib.sha256(CARD.read_bytes()).hexdigest()[:8]
    url = f"{CARD_URL}?v={version}-{digest}"
    assert changes == [("added", url)]
    assert hass.data[DATA_CARD_URL] == url

    client = await hass_client()
    response = await client.get(url)
    assert response.status == 200
    assert response.content_type in ("application/javascript", "text/javascript")
    assert await response.read() == CARD.read_bytes()
    assert "max-age" in response.headers.get("Cache-Control", "")
    assert (await client.get(f"/{DOMAIN}/other.js")).status == 404


async def test_no_http_no_card(hass: HomeAssistant, config_entry: MockConfigEntry) -> None:
    """Without the http integration (headless) the machine still sets up, without a card."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    assert DATA_CARD_URL not in hass.data


def test_card_texts_in_every_language() -> None:
    """The card's text table has every English key in each language of the integration."""
    source = CARD.read_text(encoding="utf-8")
    table = source[source.index("const TEXTS = {") : source.index("\n};\n")]
    blocks = dict(re.findall(r"\n  (\w\w): \{(.*?)\n  \},", table, re.DOTALL))
    assert set(blocks) == {"en", "de", "nl", "it", "fr", "es"}
    assert {path.stem for path in (COMPONENT / "translations").glob("*.json")} <= set(blocks)
    keys = {lang: set(re.findall(r"\n    (\w+):", body)) for lang, body in blocks.items()}
    for lang, found in keys.items():
        assert found == keys["en"], lang
