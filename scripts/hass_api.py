"""Talking to a running Home Assistant through its own APIs: onboarding, login, flows, websocket.

Shared by the demo (scripts/demo_provision.py) and the end-to-end suite (tests/e2e/). Only
aiohttp is needed; nothing here imports Home Assistant.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

import aiohttp

if TYPE_CHECKING:
    from collections.abc import Mapping


class ProvisionError(Exception):
    """Home Assistant could not be set up as asked."""


async def token_from_code(session: aiohttp.ClientSession, base: str, code: str) -> str:
    """Exchange an authorization code for an access token."""
    async with session.post(
        f"{base}/auth/token",
        data={"grant_type": "authorization_code", "code": code, "client_id": f"{base}/"},
    ) as resp:
        if resp.status != 200:
            raise ProvisionError(f"token exchange failed: {resp.status} {await resp.text()}")
        return str((await resp.json())["access_token"])


async def onboarding_user_done(session: aiohttp.ClientSession, base: str) -> bool:
    """Whether onboarding already created the owner."""
    async with session.get(f"{base}/api/onboarding") as resp:
        if resp.status != 200:
            return True
        steps = await resp.json()
    return any(step["step"] == "user" and step["done"] for step in steps)


async def create_owner(
    session: aiohttp.ClientSession, base: str, name: str, username: str, password: str
) -> str:
    """Create the owner through onboarding; returns an access token."""
    async with session.post(
        f"{base}/api/onboarding/users",
        json={
            "client_id": f"{base}/",
            "name": name,
            "username": username,
            "password": password,
            "language": "en",
        },
    ) as resp:
        if resp.status != 200:
            raise ProvisionError(f"creating the user failed: {resp.status} {await resp.text()}")
        code = (await resp.json())["auth_code"]
    return await token_from_code(session, base, code)


async def log_in(session: aiohttp.ClientSession, base: str, username: str, password: str) -> str:
    """Log in with a password through the login flow; returns an access token."""
    client_id = f"{base}/"
    async with session.post(
        f"{base}/auth/login_flow",
        json={
            "client_id": client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": f"{base}/?auth_callback=1",
        },
    ) as resp:
        flow = await resp.json()
    async with session.post(
        f"{base}/auth/login_flow/{flow['flow_id']}",
        json={"client_id": client_id, "username": username, "password": password},
    ) as resp:
        result = await resp.json()
    if result.get("type") != "create_entry":
        raise ProvisionError(f"cannot log in as {username!r} ({result.get('errors')})")
    return await token_from_code(session, base, result["result"])


def answer_form(
    schema: list[dict[str, Any]], desired: Mapping[str, Any], where: str
) -> dict[str, Any]:
    """Fill a serialized voluptuous schema from ``desired`` by field name; sections recurse.

    A field not in ``desired`` keeps what the form pre-fills (its default or suggested value).
    """
    answer: dict[str, Any] = {}
    for field in schema:
        name = field["name"]
        if field.get("type") == "expandable":
            answer[name] = answer_form(field.get("schema", []), desired, where)
        elif name in desired:
            answer[name] = desired[name]
        elif "default" in field:
            continue  # the flow fills it in
        elif "suggested_value" in (field.get("description") or {}):
            answer[name] = field["description"]["suggested_value"]  # what the UI pre-fills
        elif field.get("required"):
            raise ProvisionError(f"{where}: no value for the required field {name!r}")
    return answer


async def run_flow(
    session: aiohttp.ClientSession,
    url: str,
    start: dict[str, Any],
    desired: Mapping[str, Any],
    where: str,
    menus: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Drive a config or options flow over REST from start to its end; returns the last result.

    Every form is answered with :func:`answer_form`; a form shown again with errors fails. A
    menu is answered with the option ``menus`` names for its step.
    """
    async with session.post(url, json=start) as resp:
        if resp.status != 200:
            raise ProvisionError(f"{where}: {resp.status} {await resp.text()}")
        result: dict[str, Any] = await resp.json()
    for _ in range(10):
        if result["type"] == "menu":
            choice = (menus or {}).get(result["step_id"])
            if choice not in result["menu_options"]:
                raise ProvisionError(
                    f"{where}: no choice for the menu {result['step_id']!r} "
                    f"({result['menu_options']})"
                )
            async with session.post(
                f"{url}/{result['flow_id']}", json={"next_step_id": choice}
            ) as resp:
                if resp.status != 200:
                    raise ProvisionError(f"{where}: {resp.status} {await resp.text()}")
                result = await resp.json()
            continue
        if result["type"] != "form":
            return result
        if result.get("errors"):
            raise ProvisionError(f"{where}, step {result['step_id']}: {result['errors']}")
        answer = answer_form(
            result.get("data_schema", []), desired, f"{where}, step {result['step_id']}"
        )
        async with session.post(f"{url}/{result['flow_id']}", json=answer) as resp:
            if resp.status != 200:
                raise ProvisionError(f"{where}: {resp.status} {await resp.text()}")
            result = await resp.json()
    raise ProvisionError(f"{where}: the flow did not end after 10 steps")


async def add_config_entry(
    session: aiohttp.ClientSession,
    base: str,
    handler: str,
    desired: Mapping[str, Any],
    *,
    options_menus: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Add an entry through its config flow, then (``options_menus`` given) its options flow.

    Both are answered from ``desired`` (see :func:`answer_form`); returns the created entry.
    """
    result = await run_flow(
        session,
        f"{base}/api/config/config_entries/flow",
        {"handler": handler, "show_advanced_options": True},
        desired,
        f"{handler} config flow",
    )
    if result["type"] != "create_entry":
        raise ProvisionError(f"the {handler} config flow ended with {result}")
    entry: dict[str, Any] = result["result"]
    if options_menus is not None:
        result = await run_flow(
            session,
            f"{base}/api/config/config_entries/options/flow",
            {"handler": entry["entry_id"]},
            desired,
            f"{handler} options flow",
            options_menus,
        )
        if result["type"] != "create_entry":
            raise ProvisionError(f"the {handler} options flow ended with {result}")
    return entry


class Websocket:
    """Home Assistant's websocket API: commands, and subscriptions delivered to queues.

    A reader task routes every message: results to the command waiting for them, events to the
    queue of their subscription. Use as an async context manager around an open connection.
    """

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Wrap an open connection."""
        self._ws = ws
        self._id = 0
        self._results: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._queues: dict[int, asyncio.Queue[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def login(self, access_token: str) -> None:
        """Authenticate the connection and start routing messages."""
        await self._ws.receive_json()  # auth_required
        await self._ws.send_json({"type": "auth", "access_token": access_token})
        if (await self._ws.receive_json())["type"] != "auth_ok":
            raise ProvisionError("websocket login failed")
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for message in self._ws:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    continue
                data = message.json()
                for item in data if isinstance(data, list) else [data]:
                    self._route(item)
        finally:
            for future in self._results.values():
                if not future.done():
                    future.set_exception(ConnectionError("websocket closed"))

    def _route(self, item: dict[str, Any]) -> None:
        ident = item.get("id")
        if item.get("type") == "event" and ident in self._queues:
            self._queues[ident].put_nowait(item["event"])
        elif (
            item.get("type") == "result"
            and (future := self._results.pop(ident, None)) is not None
            and not future.done()
        ):
            future.set_result(item)

    async def _send(self, command: str, data: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        self._id += 1
        ident = self._id
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._results[ident] = future
        await self._ws.send_json({"id": ident, "type": command, **data})
        return ident, await future

    async def call(self, command: str, **data: Any) -> Any:
        """Send a command and return its result."""
        _, reply = await self._send(command, data)
        if not reply.get("success"):
            raise ProvisionError(f"{command} failed: {reply.get('error')}")
        return reply.get("result")

    async def subscribe(self, command: str, **data: Any) -> asyncio.Queue[dict[str, Any]]:
        """Subscribe (``subscribe_events``, ``subscribe_trigger``, ...); events go to the queue."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        # The reader may route an event before the result is seen: register the queue first.
        self._queues[self._id + 1] = queue
        ident, reply = await self._send(command, data)
        if not reply.get("success"):
            del self._queues[ident]
            raise ProvisionError(f"{command} failed: {reply.get('error')}")
        return queue

    async def close(self) -> None:
        """Stop routing and close the connection."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._ws.close()
