"""The demo's phone: takes the notifications Home Assistant pushes to it and prints them.

scripts/demo_provision.py registered the phone with mobile_app for local push (as the
companion app does on the home network) and wrote its webhook id to demo/config/.demo_phone.json.
This connects to the websocket API with demo/config/.demo_token and opens the phone's push
channel (``mobile_app/push_notification_channel``), so that ``notify.mobile_app_demo_phone``
(the notification blueprint's automation) reaches it; each notification is printed with its
buttons. Reconnects while Home Assistant restarts. Runs until stopped (scripts/demo.sh starts
it in the background):

    .venv-demo/bin/python scripts/demo_phone.py --port 8123 --config demo/config
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from pathlib import Path
import sys
from typing import Any

import aiohttp
from hass_api import ProvisionError, Websocket


def describe(notification: dict[str, Any]) -> str:
    """One line: the title, the message and the buttons of a notification."""
    data = notification.get("data") or {}
    buttons = " | ".join(str(a.get("title")) for a in data.get("actions") or [])
    if notification.get("message") == "clear_notification":
        return f"notification {data.get('tag')!r} cleared"
    text = f"{notification.get('title', '')}: {notification.get('message', '')}".strip(": ")
    return f"{text}  [{buttons}]" if buttons else text


async def listen(port: int, token: str, webhook_id: str) -> None:
    """Open the push channel and print what arrives, until the connection ends."""
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"ws://127.0.0.1:{port}/api/websocket", heartbeat=30) as connection,
    ):
        ws = Websocket(connection)
        await ws.login(token)
        try:
            queue = await ws.subscribe(
                "mobile_app/push_notification_channel", webhook_id=webhook_id
            )
            print("[phone] connected: waiting for notifications", file=sys.stderr, flush=True)
            while not connection.closed:
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=5)
                except TimeoutError:
                    continue
                print(f"[phone] {describe(event)}", file=sys.stderr, flush=True)
        finally:
            await ws.close()


async def run(port: int, config: Path) -> None:
    """Listen, and connect again whenever the connection is lost."""
    token = (config / ".demo_token").read_text(encoding="utf-8").strip()
    webhook_id = json.loads((config / ".demo_phone.json").read_text(encoding="utf-8"))["webhook_id"]
    while True:
        with contextlib.suppress(aiohttp.ClientError, ProvisionError, ConnectionError, OSError):
            await listen(port, token, webhook_id)
        await asyncio.sleep(5)


def main() -> int:
    """Parse the arguments and listen."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--config", type=Path, default=Path("demo/config"))
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args.port, args.config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
