"""Provision the demo Home Assistant that scripts/demo.sh started, through HA's own APIs.

1. Wait for the HTTP API.
2. First run: create the owner user through the onboarding API (scripts/demo.sh marked the other
   onboarding steps done, so that onboarding creates no default integrations). Later runs: log in.
3. If there is no Espresso Care entry yet, run its config flow (and then its options flow) over
   the REST API, answering every form from DESIRED by field name, the way the UI would. The
   options turn on "Install voice sentences" (an entry of an older demo gets them through its
   options flow once).
4. Register a phone the way the companion app does (mobile_app's registration API; local push
   over the websocket), and create one automation from Espresso Care's notification blueprint
   that notifies it (the automation config API).
5. Ask Assist a question over the conversation API, to show the sentences answer.
6. Keep a long-lived access token in demo/config/.demo_token for the curious (curl, scripts),
   and write the demo dashboard.

Talks to 127.0.0.1 only. Run with the demo venv's Python (it needs aiohttp):

    .venv-demo/bin/python scripts/demo_provision.py --port 8123 --config demo/config [--pid PID]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path
import sys
import time
from typing import Any

import aiohttp
from hass_api import (
    ProvisionError,
    Websocket,
    add_config_entry,
    create_owner,
    log_in,
    onboarding_user_done,
    run_flow,
)

USERNAME = os.environ.get("DEMO_USERNAME", "demo")
PASSWORD = os.environ.get("DEMO_PASSWORD", "demo")
DOMAIN = "espresso_care"

# What the demo's Espresso Care entry is set to; any field of the config and options flows with
# one of these names is answered with it, every other field keeps what the form pre-fills.
DESIRED: dict[str, Any] = {
    "name": "Espresso machine",
    "power_sensor": "sensor.espresso_plug_power",
    "machine_type": "single_boiler",
    "backflush_switch": "switch.espresso_plug_pump_relay",
    "switch_role": "pump",
    # Short intervals, so that a due backflush shows within the first replay loop.
    "backflush_every_shots": 3,
    "clean_every_shots": 9,
    # Assist: copy the sentences into <config>/custom_sentences/<language>/.
    "install_voice_sentences": True,
}

# The demo's phone, registered as the companion app registers itself (POST
# /api/mobile_app/registrations): a mobile_app config entry and device, and the action
# notify.mobile_app_demo_phone. It takes notifications over the websocket (local push, as the
# app does on the home network); scripts/demo_phone.py is that phone.
PHONE: dict[str, Any] = {
    "device_id": "espresso-care-demo-phone",
    "app_id": "io.espresso_care.demo_phone",
    "app_name": "Espresso Care demo phone",
    "app_version": "1.0",
    "device_name": "Demo phone",
    "manufacturer": "Espresso Care",
    "model": "Simulated phone",
    "os_name": "Android",
    "os_version": "15",
    "supports_encryption": False,
    "app_data": {"push_websocket_channel": True},
}
PHONE_FILE = ".demo_phone.json"  # in the config directory: the phone's webhook id

# The one automation of the demo, from the blueprint that Espresso Care installs at set-up.
AUTOMATION_ID = "espresso_care_demo_maintenance_due"
BLUEPRINT_PATH = "espresso_care/maintenance_due.yaml"
SENTENCES_FILE = Path("custom_sentences", "en", "espresso_care.yaml")
VOICE_QUESTION = "how many shots since the last backflush"


def _alive(pid: int | None) -> bool:
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def wait_for_api(session: aiohttp.ClientSession, base: str, pid: int | None) -> None:
    """Wait until the onboarding API answers (it needs no login)."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if not _alive(pid):
            raise ProvisionError("Home Assistant exited; see demo/config/home-assistant.log")
        try:
            async with session.get(f"{base}/api/onboarding") as resp:
                if resp.status in (200, 404):  # 404: onboarded before this start
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(2)
    raise ProvisionError("Home Assistant did not answer within 10 minutes")


async def wait_until_running(session: aiohttp.ClientSession, base: str) -> None:
    """Wait until HA has started and the simulated plug has a state."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        async with session.get(f"{base}/api/config") as resp:
            running = resp.status == 200 and (await resp.json()).get("state") == "RUNNING"
        async with session.get(f"{base}/api/states/{DESIRED['power_sensor']}") as resp:
            if running and resp.status == 200:
                return
        await asyncio.sleep(2)
    raise ProvisionError(f"Home Assistant did not start, or {DESIRED['power_sensor']} is missing")


async def config_entries(session: aiohttp.ClientSession, base: str, domain: str) -> list[Any]:
    """Return the config entries of ``domain``."""
    async with session.get(f"{base}/api/config/config_entries/entry?domain={domain}") as resp:
        if resp.status != 200:
            raise ProvisionError(f"listing the {domain} entries: {resp.status}")
        entries: list[Any] = await resp.json()
    return entries


async def ensure_entry(session: aiohttp.ClientSession, base: str) -> tuple[str, bool]:
    """Create the Espresso Care entry through its config and options flows, once.

    Returns its entry id, and whether it was created now.
    """
    if entries := await config_entries(session, base, DOMAIN):
        print(f"[demo] Espresso Care is set up ({entries[0]['title']!r}, {entries[0]['state']})")
        return str(entries[0]["entry_id"]), False
    entry = await add_config_entry(
        session, base, DOMAIN, DESIRED, options_menus={"init": "settings"}
    )
    print(f"[demo] created the Espresso Care entry {entry['title']!r} with the demo's settings")
    return str(entry["entry_id"]), True


async def ensure_voice(
    session: aiohttp.ClientSession, base: str, config: Path, entry_id: str
) -> None:
    """Turn on "Install voice sentences" (options flow) unless the sentences are installed."""
    if (config / SENTENCES_FILE).is_file():
        return
    result = await run_flow(
        session,
        f"{base}/api/config/config_entries/options/flow",
        {"handler": entry_id},
        DESIRED,
        f"{DOMAIN} options flow",
        {"init": "settings"},
    )
    if result["type"] != "create_entry":
        raise ProvisionError(f"the {DOMAIN} options flow ended with {result}")
    print("[demo] turned on the option Install voice sentences")


async def ask_assist(session: aiohttp.ClientSession, base: str, text: str) -> dict[str, Any]:
    """Ask the default conversation agent; returns its response once it understood."""
    deadline = time.monotonic() + 60
    while True:
        async with session.post(
            f"{base}/api/conversation/process", json={"text": text, "language": "en"}
        ) as resp:
            if resp.status != 200:
                raise ProvisionError(f"the conversation API: {resp.status} {await resp.text()}")
            response: dict[str, Any] = (await resp.json())["response"]
        # the sentences are reloaded after the option is saved: wait for them
        if response.get("response_type") != "error":
            return response
        if time.monotonic() > deadline:
            speech = response.get("speech", {}).get("plain", {}).get("speech")
            raise ProvisionError(f"Assist did not understand {text!r}: {speech!r}")
        await asyncio.sleep(2)


async def ensure_phone(
    session: aiohttp.ClientSession, base: str, ws: Websocket, config: Path
) -> str:
    """Register the demo phone with mobile_app, once; returns its device id.

    Its webhook id (which the phone needs for local push) is kept in ``PHONE_FILE``; an older
    registration without that file is replaced.
    """
    path = config / PHONE_FILE
    entries = await config_entries(session, base, "mobile_app")
    if entries and not path.is_file():
        for entry in entries:
            async with session.delete(
                f"{base}/api/config/config_entries/entry/{entry['entry_id']}"
            ) as resp:
                if resp.status != 200:
                    raise ProvisionError(f"removing the old phone: {resp.status}")
        entries = []
    if not entries:
        async with session.post(f"{base}/api/mobile_app/registrations", json=PHONE) as resp:
            if resp.status != 201:
                raise ProvisionError(f"registering the phone: {resp.status} {await resp.text()}")
            registration = await resp.json()
        path.write_text(
            json.dumps({"webhook_id": registration["webhook_id"]}) + "\n", encoding="utf-8"
        )
        path.chmod(0o600)
        print(f"[demo] registered the phone {PHONE['device_name']!r} (mobile_app)")
    wanted = ["mobile_app", PHONE["device_id"]]
    service = f"mobile_app_{PHONE['device_name'].lower().replace(' ', '_')}"
    deadline = time.monotonic() + 60
    while True:
        devices = await ws.call("config/device_registry/list")
        device = next((d for d in devices if wanted in d["identifiers"]), None)
        services = await ws.call("get_services")
        if device is not None and service in services.get("notify", {}):
            return str(device["id"])
        if time.monotonic() > deadline:
            raise ProvisionError(f"the phone's device or notify.{service} did not appear")
        await asyncio.sleep(1)


def automation_config(entry_id: str, device_id: str) -> dict[str, Any]:
    """Return the demo's automation: the notification blueprint, for the machine and phone."""
    return {
        "id": AUTOMATION_ID,
        "alias": "Espresso machine maintenance due: notify the demo phone",
        "description": "Created by make demo from Espresso Care's notification blueprint.",
        "use_blueprint": {
            "path": BLUEPRINT_PATH,
            "input": {
                "machine": entry_id,
                "notify_device": device_id,
                "tasks": ["backflush", "clean", "descale"],
                "reminder_hours": 12,
            },
        },
    }


async def ensure_automation(
    session: aiohttp.ClientSession, base: str, entry_id: str, device_id: str
) -> str:
    """Create (or point at the current phone) the blueprint automation; returns its entity id."""
    url = f"{base}/api/config/automation/config/{AUTOMATION_ID}"
    async with session.get(url) as resp:
        current = await resp.json() if resp.status == 200 else None
    wanted = automation_config(entry_id, device_id)
    if (
        current is None
        or current.get("use_blueprint", {}).get("input", {}).get("notify_device") != device_id
    ):
        async with session.post(url, json=wanted) as resp:
            if resp.status != 200:
                raise ProvisionError(f"creating the automation: {resp.status} {await resp.text()}")
        print(f"[demo] created the automation {wanted['alias']!r} from {BLUEPRINT_PATH}")
    deadline = time.monotonic() + 60
    while True:
        async with session.get(f"{base}/api/states") as resp:
            states = await resp.json()
        automation = next(
            (
                s
                for s in states
                if s["entity_id"].startswith("automation.")
                and s["attributes"].get("id") == AUTOMATION_ID
            ),
            None,
        )
        if automation is not None and automation["state"] == "on":
            return str(automation["entity_id"])
        if time.monotonic() > deadline:
            raise ProvisionError(f"the automation {AUTOMATION_ID} is not on: {automation}")
        await asyncio.sleep(1)


async def ensure_long_lived_token(
    session: aiohttp.ClientSession, base: str, ws: Websocket, path: Path
) -> None:
    """Create a long-lived access token in ``path`` unless the one there still works."""
    if path.exists():
        headers = {"Authorization": f"Bearer {path.read_text(encoding='utf-8').strip()}"}
        async with session.get(f"{base}/api/", headers=headers) as resp:
            if resp.status == 200:
                return
    token = await ws.call("auth/long_lived_access_token", client_name="make demo", lifespan=3650)
    path.write_text(f"{token}\n", encoding="utf-8")
    path.chmod(0o600)


# Espresso Care's entities on the dashboard, by the key their unique id ends with: the shot
# card in this order, the automated backflush card, and every other entity (maintenance) by
# domain, then entity id. Keys not listed land on the maintenance card.
SHOT_KEYS = (
    "total_shots",
    "shots_today",
    "last_shot_duration",
    "average_shot_duration",
    "machine_state",
    "brewing",
)
BACKFLUSH_KEYS = ("backflush", "backflush_progress", "arm_backflush")
DOMAIN_ORDER = ("binary_sensor", "sensor", "button", "switch", "todo")

# Dashboard rows of the simulated plug: key -> how its unique id ends.
SIM_KEYS = {"power": "power", "activity": "activity", "shots": "played", "relay": "relay"}


def _key(entry: dict[str, Any]) -> str:
    """Return the entity's key: its unique id without the config entry id in front."""
    unique_id = str(entry.get("unique_id") or "")
    return unique_id.split("_", 1)[1] if "_" in unique_id else unique_id  # entry ids have no "_"


def _group(care: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Split Espresso Care's entities into the dashboard's cards, each in order."""
    by_key = {_key(e): e for e in care}
    shots = [by_key[k] for k in SHOT_KEYS if k in by_key]
    backflush = [by_key[k] for k in BACKFLUSH_KEYS if k in by_key]
    rest = [e for k, e in by_key.items() if k not in SHOT_KEYS and k not in BACKFLUSH_KEYS]

    def order(entry: dict[str, Any]) -> tuple[int, str]:
        domain = entry["entity_id"].split(".", 1)[0]
        rank = DOMAIN_ORDER.index(domain) if domain in DOMAIN_ORDER else len(DOMAIN_ORDER)
        return (rank, entry["entity_id"])

    return {"shots": shots, "backflush": backflush, "maintenance": sorted(rest, key=order)}


def dashboard_config(
    machine: str,
    groups: dict[str, list[dict[str, str]]],
    state: str | None,
    plug: dict[str, dict[str, str]],
    automation: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Return the demo dashboard: Espresso Care's card and entities beside the simulated plug.

    ``groups``, ``plug`` and ``automation`` (the blueprint's automation) hold entities card
    rows (``{"entity": ..., "name": ...}``).
    """
    compare = []
    if state:
        compare.append({"entity": state, "name": "Detected"})
    compare.append({"entity": plug["activity"]["entity"], "name": "Actual"})
    cards: list[dict[str, Any]] = [
        # Espresso Care's own card (served by the integration; the only machine is its pick).
        {"type": "custom:espresso-care-card"},
        {"type": "entities", "title": machine, "entities": groups["shots"]},
        {
            "type": "history-graph",
            "title": "What the plug measures",
            "hours_to_show": 1,
            "entities": [plug["power"]],
        },
        {
            "type": "history-graph",
            "title": "Machine state",
            "hours_to_show": 1,
            "entities": compare,
        },
    ]
    todo = [r["entity"] for r in groups["maintenance"] if r["entity"].startswith("todo.")]
    cards.extend({"type": "todo-list", "title": "To do", "entity": e} for e in todo)
    if groups["maintenance"]:
        cards.append(
            {"type": "entities", "title": "Maintenance", "entities": groups["maintenance"]}
        )
    if groups["backflush"]:
        cards.append(
            {"type": "entities", "title": "Automated backflush", "entities": groups["backflush"]}
        )
    if automation is not None:
        cards.append({"type": "entities", "title": "Phone notification", "entities": [automation]})
    every = [r["entity"] for rows in groups.values() for r in rows]
    cards += [
        {
            "type": "entities",
            "title": "Simulated plug",
            "entities": [plug[key] for key in ("power", "activity", "shots", "relay")],
        },
        {"type": "logbook", "title": "Logbook", "hours_to_show": 2, "target": {"entity_id": every}},
    ]
    return {
        "title": "Espresso Care",
        "views": [{"title": "Espresso", "path": "espresso", "icon": "mdi:coffee", "cards": cards}],
    }


async def ensure_dashboard(ws: Websocket) -> None:
    """Put the demo's devices in the kitchen and (re)write the demo dashboard as the default."""
    registry = await ws.call("config/entity_registry/list")
    devices = await ws.call("config/device_registry/list")
    states = {s["entity_id"]: s for s in await ws.call("get_states")}
    device_names = {d["id"]: d.get("name_by_user") or d.get("name") or "" for d in devices}

    def row(entry: dict[str, Any]) -> dict[str, str]:
        """Return an entities card row, named without the device name in front."""
        entity_id = entry["entity_id"]
        name = states.get(entity_id, {}).get("attributes", {}).get("friendly_name", entity_id)
        prefix = device_names.get(entry.get("device_id") or "", "")
        if prefix and name.startswith(f"{prefix} "):
            name = name[len(prefix) + 1 :]
        return {"entity": entity_id, "name": name[:1].upper() + name[1:]}

    care = [
        e
        for e in registry
        if e["platform"] == DOMAIN and not e.get("disabled_by") and not e.get("hidden_by")
    ]
    groups = {name: [row(e) for e in rows] for name, rows in _group(care).items()}
    machine = device_names.get(care[0].get("device_id") or "", "") if care else ""
    state = next((e["entity_id"] for e in care if _key(e) == "machine_state"), None)
    sim = {
        str(e["unique_id"]).rsplit("_", 1)[-1]: e
        for e in registry
        if e["platform"] == "espresso_sim"
    }
    plug = {key: row(sim[suffix]) for key, suffix in SIM_KEYS.items() if suffix in sim}
    if len(plug) != len(SIM_KEYS):
        raise ProvisionError("the simulated plug's entities are missing")
    automation = next(
        (
            {"entity": e["entity_id"], "name": "Notify the demo phone when a task is due"}
            for e in registry
            if e["platform"] == "automation" and e.get("unique_id") == AUTOMATION_ID
        ),
        None,
    )

    areas = {a["area_id"] for a in await ws.call("config/area_registry/list")}
    if "kitchen" in areas:
        demo_devices = {
            e["device_id"] for e in registry if e["platform"] in (DOMAIN, "espresso_sim")
        }
        for device in devices:
            if device["id"] in demo_devices and device.get("area_id") is None:
                await ws.call(
                    "config/device_registry/update", device_id=device["id"], area_id="kitchen"
                )

    url_path = "espresso-care"
    dashboards = await ws.call("lovelace/dashboards/list")
    if not any(d["url_path"] == url_path for d in dashboards):
        await ws.call(
            "lovelace/dashboards/create",
            url_path=url_path,
            title="Espresso Care",
            icon="mdi:coffee",
            show_in_sidebar=True,
            require_admin=False,
            mode="storage",
        )
        core = (await ws.call("frontend/get_system_data", key="core")).get("value") or {}
        await ws.call(
            "frontend/set_system_data", key="core", value={**core, "default_panel": url_path}
        )
    await ws.call(
        "lovelace/config/save",
        url_path=url_path,
        config=dashboard_config(machine, groups, state, plug, automation),
    )


async def provision(port: int, config: Path, pid: int | None) -> None:
    """Everything above, in order."""
    base = f"http://127.0.0.1:{port}"
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await wait_for_api(session, base, pid)
        if await onboarding_user_done(session, base):
            try:
                access_token = await log_in(session, base, USERNAME, PASSWORD)
            except ProvisionError as err:
                raise ProvisionError(f"{err}; DEMO_RESET=1 make demo starts from scratch") from err
        else:
            access_token = await create_owner(session, base, "Demo", USERNAME, PASSWORD)
            print(f"[demo] created the owner user {USERNAME!r}")
        headed = aiohttp.ClientSession(
            timeout=timeout, headers={"Authorization": f"Bearer {access_token}"}
        )
        async with (
            headed,
            session.ws_connect(f"ws://127.0.0.1:{port}/api/websocket") as connection,
        ):
            await wait_until_running(headed, base)
            entry_id, created = await ensure_entry(headed, base)
            if not created:  # a new entry has the option on already
                await ensure_voice(headed, base, config, entry_id)
            ws = Websocket(connection)
            await ws.login(access_token)
            try:
                device_id = await ensure_phone(headed, base, ws, config)
                automation = await ensure_automation(headed, base, entry_id, device_id)
                print(f"[demo] {automation} is on (notifies {PHONE['device_name']!r})")
                answer = await ask_assist(headed, base, VOICE_QUESTION)
                speech = answer["speech"]["plain"]["speech"]
                print(f"[demo] Assist, {VOICE_QUESTION!r}: {speech!r}")
                await ensure_long_lived_token(session, base, ws, config / ".demo_token")
                await ensure_dashboard(ws)
            finally:
                await ws.close()


def main() -> int:
    """Parse the arguments and provision."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--config", type=Path, default=Path("demo/config"))
    parser.add_argument("--pid", type=int, help="Home Assistant's process id, to stop waiting")
    args = parser.parse_args()
    try:
        asyncio.run(provision(args.port, args.config, args.pid))
    except ProvisionError as err:
        print(f"[demo] {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
