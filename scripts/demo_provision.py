"""Provision the demo Home Assistant that scripts/demo.sh started, through HA's own APIs.

1. Wait for the HTTP API.
2. First run: create the owner user through the onboarding API (scripts/demo.sh marked the other
   onboarding steps done, so that onboarding creates no default integrations). Later runs: log in.
3. If there is no Espresso Care entry yet, run its config flow (and then its options flow) over
   the REST API, answering every form from DESIRED by field name, the way the UI would.
4. Keep a long-lived access token in demo/config/.demo_token for the curious (curl, scripts).

Talks to 127.0.0.1 only. Run with the demo venv's Python (it needs aiohttp):

    .venv-demo/bin/python scripts/demo_provision.py --port 8123 --config demo/config [--pid PID]
"""

from __future__ import annotations

import argparse
import asyncio
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
}


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


async def ensure_entry(session: aiohttp.ClientSession, base: str) -> None:
    """Create the Espresso Care entry through its config and options flows, once."""
    async with session.get(f"{base}/api/config/config_entries/entry?domain={DOMAIN}") as resp:
        entries = await resp.json()
    if entries:
        print(f"[demo] Espresso Care is set up ({entries[0]['title']!r}, {entries[0]['state']})")
        return
    entry = await add_config_entry(
        session, base, DOMAIN, DESIRED, options_menus={"init": "settings"}
    )
    print(f"[demo] created the Espresso Care entry {entry['title']!r} with the demo's settings")


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
) -> dict[str, Any]:
    """Return the demo dashboard: Espresso Care's card and entities beside the simulated plug.

    ``groups`` and ``plug`` hold entities card rows (``{"entity": ..., "name": ...}``).
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
        config=dashboard_config(machine, groups, state, plug),
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
        async with headed:
            await wait_until_running(headed, base)
            await ensure_entry(headed, base)
        async with session.ws_connect(f"ws://127.0.0.1:{port}/api/websocket") as connection:
            ws = Websocket(connection)
            await ws.login(access_token)
            try:
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
