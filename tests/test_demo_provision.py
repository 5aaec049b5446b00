"""What ``make demo`` provisions beyond the machine, against the ``hass`` fixture's HTTP API.

scripts/demo_provision.py turns on "Install voice sentences" through the options flow, registers
a phone through mobile_app's registration API, creates one automation from the notification
blueprint through the automation config API, and asks Assist over the conversation API. The
same functions run here, over a test client of Home Assistant's own web server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.const import STATE_OFF
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import pytest

from custom_components.espresso_care.sentences import LANGUAGES, target_path

from .common import load_demo_provision
from .conftest import ENTRY_ID

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

provision = load_demo_provision()


@pytest.fixture
def options(options: dict[str, Any]) -> dict[str, Any]:
    """The demo's machine as an older demo left it: the sentences not installed."""
    return {**options, "install_voice_sentences": False}


@pytest.fixture
async def demo_home(hass: HomeAssistant, init_integration: MockConfigEntry) -> Path:
    """The machine, and what demo/config/configuration.yaml loads besides; the config dir."""
    config = Path(hass.config.config_dir)
    (config / "configuration.yaml").write_text(
        "automation: !include automations.yaml\n", encoding="utf-8"
    )
    (config / "automations.yaml").write_text("[]\n", encoding="utf-8")
    hass.states.async_set(provision.DESIRED["backflush_switch"], STATE_OFF)
    for component in ("homeassistant", "api", "config", "conversation", "mobile_app"):
        assert await async_setup_component(hass, component, {})
    assert await async_setup_component(hass, "automation", {"automation": []})
    await hass.async_block_till_done()
    return config


async def test_demo_provisioning(
    hass: HomeAssistant,
    demo_home: Path,
    hass_client: ClientSessionGenerator,
    hass_access_token: str,
) -> None:
    """Voice sentences on, a phone registered, one automation from the blueprint, Assist answers.

    Run twice, as ``make demo`` does on every start: the second run changes nothing.
    """
    assert provision.DESIRED["install_voice_sentences"] is True  # a new entry gets them too
    client = await hass_client()
    connection = await client.ws_connect("/api/websocket")
    ws = provision.Websocket(connection)
    await ws.login(hass_access_token)
    try:
        automations = []
        for _ in range(2):
            await provision.ensure_voice(client, "", demo_home, ENTRY_ID)
            await hass.async_block_till_done()
            device_id = await provision.ensure_phone(client, "", ws, demo_home)
            automations.append(await provision.ensure_automation(client, "", ENTRY_ID, device_id))
        answer = await provision.ask_assist(client, "", provision.VOICE_QUESTION)
    finally:
        await ws.close()

    entry = hass.config_entries.async_get_entry(ENTRY_ID)
    assert entry is not None
    assert entry.options["install_voice_sentences"] is True
    assert all(target_path(demo_home, language).is_file() for language in LANGUAGES)

    phones = hass.config_entries.async_entries("mobile_app")
    assert len(phones) == 1
    assert phones[0].data["app_data"] == {"push_websocket_channel": True}
    stored = json.loads((demo_home / provision.PHONE_FILE).read_text(encoding="utf-8"))
    assert stored["webhook_id"] == phones[0].data["webhook_id"]
    device = dr.async_get(hass).async_get(device_id)
    assert device is not None
    assert ("mobile_app", provision.PHONE["device_id"]) in device.identifiers
    assert hass.services.has_service("notify", "mobile_app_demo_phone")

    entity_id = automations[0]
    assert automations == [entity_id, entity_id]
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.state == "on"
    assert state.attributes["id"] == provision.AUTOMATION_ID
    written = (demo_home / "automations.yaml").read_text(encoding="utf-8")
    assert written.count(provision.AUTOMATION_ID) == 1
    assert provision.BLUEPRINT_PATH in written
    assert device_id in written

    assert answer["speech"]["plain"]["speech"] == (
        "0 shots since the last backflush; due in 3 shots or 7 days."
    )


def test_dashboard_compares_detected_with_actual() -> None:
    """The demo's machine state graph: our detected state beside the simulator's "Actual" one.

    A newcomer read the simulator's row named "True" as a yes/no value.
    """
    plug = {key: {"entity": f"sensor.plug_{key}"} for key in ("power", "activity", "shots")}
    plug["relay"] = {"entity": "switch.plug_relay"}
    groups: dict[str, list[dict[str, str]]] = {"shots": [], "maintenance": [], "backflush": []}
    config = provision.dashboard_config("Espresso machine", groups, "sensor.state", plug)
    graphs = {
        card["title"]: card["entities"]
        for card in config["views"][0]["cards"]
        if card["type"] == "history-graph"
    }
    assert graphs["Machine state"] == [
        {"entity": "sensor.state", "name": "Detected"},
        {"entity": "sensor.plug_activity", "name": "Actual"},
    ]
