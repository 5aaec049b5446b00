"""A real Home Assistant with its web UI, and Debian's chromium driven by Playwright.

``home_assistant`` starts ``hass`` from the demo venv (``.venv-demo``, it has the frontend)
with this repository's integration and the demo's simulated plug replaying an idle machine, on
a free port, and provisions it the way ``make demo`` does (scripts/demo_provision.py: the owner
through onboarding, the machine through its config and options flows). ``page`` is a logged-in
browser tab. Both live for the module and are stopped at its end.

Skipped, with the reason, where chromium, Playwright or the demo venv is missing (``make test``
installs them where the machine has apt and root).
"""

from __future__ import annotations

import asyncio
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import importlib.util
import json
import os
from pathlib import Path
import shutil
import signal
import subprocess
import time
from typing import TYPE_CHECKING, Any, TypeVar
import urllib.request

import pytest
import pytest_socket

from tests.common import load_demo_provision
from tests.e2e.harness import free_port

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
DEMO_VENV = REPO / ".venv-demo"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HERE = Path(__file__).parent
DASHBOARD = "espresso-card-test"
T = TypeVar("T")


provision = load_demo_provision()


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return (
            f"{CHROMIUM} is missing: `make test` installs Debian's chromium with apt "
            "(needs apt and root)"
        )
    if importlib.util.find_spec("playwright") is None:
        return "Playwright's Python client is missing: `make venv` installs it"
    if not (DEMO_VENV / "bin" / "hass").exists():
        return f"{DEMO_VENV} (Home Assistant with its frontend) is missing: `make test` builds it"
    return None


@dataclass
class HomeAssistantProcess:
    """A running Home Assistant and how to reach it."""

    base: str
    config: Path
    token: str
    entry_id: str
    registry: list[dict[str, Any]]
    """The entity registry."""
    entities: dict[str, str]
    """Entity ids of the machine by key (the end of their unique id)."""
    process: subprocess.Popen[bytes]

    def api(self, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
        """Call the REST API; returns the decoded answer."""
        request = urllib.request.Request(  # noqa: S310 (our http://127.0.0.1 base)
            f"{self.base}/api/{path}",
            method=method,
            data=None if data is None else json.dumps(data).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            body = response.read()
        return json.loads(body) if body else None

    def state(self, entity_id: str) -> dict[str, Any]:
        """The state of an entity."""
        result: dict[str, Any] = self.api("GET", f"states/{entity_id}")
        return result

    def call(self, domain: str, service: str, **data: Any) -> None:
        """Call an action and wait for it."""
        self.api("POST", f"services/{domain}/{service}", data)

    def wait_for(self, entity_id: str, predicate: Any, timeout: float = 30) -> dict[str, Any]:
        """Wait until the state of ``entity_id`` satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state(entity_id)
            if predicate(state):
                return state
            if time.monotonic() > deadline:
                raise AssertionError(f"{entity_id} stayed {state}")
            time.sleep(0.3)

    def log(self) -> str:
        """The end of Home Assistant's log."""
        path = self.config / "home-assistant.log"
        return path.read_text(encoding="utf-8", errors="replace")[-6000:] if path.exists() else ""


def write_config(config: Path, port: int) -> None:
    """A configuration directory like demo/config, with a quiet trace: no shot while we look."""
    (config / "custom_components").mkdir(parents=True)
    (config / ".storage").mkdir()
    (config / "custom_components" / "espresso_care").symlink_to(
        REPO / "custom_components" / "espresso_care"
    )
    (config / "custom_components" / "espresso_sim").symlink_to(
        REPO / "demo" / "custom_components" / "espresso_sim"
    )
    (config / "traces").mkdir()
    shutil.copy(HERE / "idle_machine.csv", config / "traces" / "idle_machine.csv")
    shutil.copy(HERE / "idle_machine.labels.json", config / "traces" / "idle_machine.labels.json")
    (config / "configuration.yaml").write_text(
        f"""
homeassistant:
  name: Espresso Care browser test
  unit_system: metric
  time_zone: UTC
  country: DE
frontend:
config:
history:
recorder:
http:
  server_host: 127.0.0.1
  server_port: {port}
logger:
  default: warning
espresso_sim:
  speed: 1
  trace: traces/idle_machine.csv
""",
        encoding="utf-8",
    )
    # Only the "create user" step of onboarding is left (as scripts/demo.sh does).
    (config / ".storage" / "onboarding").write_text(
        json.dumps(
            {
                "version": 4,
                "minor_version": 1,
                "key": "onboarding",
                "data": {"done": ["core_config", "analytics", "integration"]},
            }
        ),
        encoding="utf-8",
    )


# A machine in use for a while: its counters, its last ten shots and a shot time drifting
# upwards (the usual shot time is the median of the baseline).
TOTAL_SHOTS = 1287
SHOTS_TODAY = 4
BASELINE = [27.0, 26.4, 28.1, 27.5, 26.9, 27.8, 27.2, 26.6, 28.4, 27.1] * 2
RECENT = [33.6, 34.8, 35.2]


async def _entry_settled(ws: Any, entry_id: str) -> None:
    """Wait until the entry is loaded and stays so (the reload its options saved is over).

    Disabling it while that reload is pending or running raced with it: the entry ended up
    not loaded and its entities unavailable (a setup error of the browser tests, now and then).
    """
    deadline = time.monotonic() + 60.0
    loaded = 0
    while loaded < 3:
        entries = await ws.call("config_entries/get", domain=provision.DOMAIN)
        state = next((e["state"] for e in entries if e["entry_id"] == entry_id), None)
        loaded = loaded + 1 if state == "loaded" else 0
        if time.monotonic() > deadline:
            raise AssertionError(f"the Espresso Care entry stayed {state}")
        await asyncio.sleep(0.5)


async def _seed_history(ws: Any, config: Path, entry_id: str) -> None:
    """Give the machine a history: its entry off, its store file edited, its entry on again."""
    await _entry_settled(ws, entry_id)
    await ws.call("config_entries/disable", entry_id=entry_id, disabled_by="user")
    path = config / ".storage" / f"{provision.DOMAIN}.{entry_id}"
    stored = json.loads(path.read_text(encoding="utf-8"))
    durations = [*BASELINE, *RECENT][-10:]
    now = datetime.now(UTC)
    stored["data"].update(
        total_shots=TOTAL_SHOTS,
        shots_today=SHOTS_TODAY,
        today=now.date().isoformat(),
        recent_durations=durations,
        last_shot={
            "start": (now - timedelta(minutes=20)).isoformat(),
            "end": (now - timedelta(minutes=20) + timedelta(seconds=RECENT[-1])).isoformat(),
            "duration": RECENT[-1],
        },
    )
    stored["data"]["maintenance"]["drift"] = {"baseline": BASELINE, "recent": RECENT}
    path.write_text(json.dumps(stored), encoding="utf-8")
    await ws.call("config_entries/disable", entry_id=entry_id, disabled_by=None)
    await _entry_settled(ws, entry_id)


async def _provision(base: str, config: Path, pid: int) -> tuple[str, str, list[dict[str, Any]]]:
    """Owner, machine, its history and the test dashboard.

    Returns an access token, the entry id and the entity registry.
    """
    import aiohttp

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        await provision.wait_for_api(session, base, pid)
        token = await provision.create_owner(
            session, base, "Demo", provision.USERNAME, provision.PASSWORD
        )
        headers = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=120), headers=headers
        ) as headed:
            await provision.wait_until_running(headed, base)
            await provision.ensure_entry(headed, base)
            async with headed.get(
                f"{base}/api/config/config_entries/entry?domain={provision.DOMAIN}"
            ) as resp:
                entry_id = (await resp.json())[0]["entry_id"]
        ws_url = base.replace("http://", "ws://") + "/api/websocket"
        async with session.ws_connect(ws_url) as connection:
            ws = provision.Websocket(connection)
            await ws.login(token)
            try:
                return await _seed_and_show(ws, config, entry_id)
            finally:
                await ws.close()


async def _seed_and_show(
    ws: Any, config: Path, entry_id: str
) -> tuple[str, str, list[dict[str, Any]]]:
    """The machine's history, a long-lived token and the test dashboard (over ``ws``)."""
    await _seed_history(ws, config, entry_id)
    registry = await ws.call("config/entity_registry/list")
    long_lived = await ws.call(
        "auth/long_lived_access_token", client_name="browser test", lifespan=1
    )
    await ws.call(
        "lovelace/dashboards/create",
        url_path=DASHBOARD,
        title="Espresso card",
        icon="mdi:coffee",
        show_in_sidebar=True,
        require_admin=False,
        mode="storage",
    )
    await ws.call(
        "lovelace/config/save",
        url_path=DASHBOARD,
        config={
            "views": [
                {
                    "title": "Card",
                    "path": "card",
                    "cards": [{"type": "custom:espresso-care-card"}],
                },
                # A sections view: the card at half and at full section width.
                {
                    "title": "Sections",
                    "path": "sections",
                    "type": "sections",
                    "max_columns": 2,
                    "sections": [
                        {
                            "type": "grid",
                            "cards": [
                                {
                                    "type": "custom:espresso-care-card",
                                    "grid_options": {"columns": 6},
                                },
                                {"type": "custom:espresso-care-card"},
                            ],
                        }
                    ],
                },
            ]
        },
    )
    return str(long_lived), str(entry_id), registry


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def home_assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HomeAssistantProcess]:
    """A provisioned Home Assistant on a free port, stopped after the module."""
    if reason := missing():
        pytest.skip(reason)
    pytest_socket.enable_socket()
    config = tmp_path_factory.mktemp("ha-config")
    port = free_port()
    write_config(config, port)
    base = f"http://127.0.0.1:{port}"
    log = (config / "hass.out").open("wb")
    process = subprocess.Popen(  # noqa: S603
        [str(DEMO_VENV / "bin" / "hass"), "-c", str(config), "--skip-pip"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    try:
        # A loop of its own: asyncio.run() would unset the test harness's current loop.
        loop = asyncio.new_event_loop()
        try:
            token, entry_id, registry = loop.run_until_complete(
                _provision(base, config, process.pid)
            )
        finally:
            loop.close()
        entities = {
            provision._key(entry): entry["entity_id"]
            for entry in registry
            if entry["platform"] == provision.DOMAIN
        }
        home_assistant = HomeAssistantProcess(
            base, config, token, entry_id, registry, entities, process
        )
        # Set-up ends before the entities have their first states on a busy machine: the tests
        # read counters from the first line, so wait until the machine's entities are up.
        for key in ("total_shots", "shots_since_backflush", "backflush"):
            home_assistant.wait_for(
                entities[key],
                lambda state: state["state"] not in ("unavailable", "unknown"),
                timeout=120,
            )
        yield home_assistant
    finally:
        _stop(process)
        log.close()


# The page's text, shadow roots included (Home Assistant's frontend is made of them), and
# whether the card's element is defined.
_PAGE_TEXT = """() => {
  const out = [];
  const walk = (node) => {
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) {
        const text = child.textContent.trim();
        if (text) out.push(text);
      } else if (child.nodeName !== "STYLE" && child.nodeName !== "SCRIPT") walk(child);
    }
  };
  walk(document.body);
  const card = customElements.get("espresso-care-card") ? "defined" : "not defined";
  return `(card element ${card}) ` + out.join(" | ").slice(0, 1500);
}"""


class Browser:
    """A chromium tab logged in to Home Assistant, driven from a thread of its own.

    Playwright's sync API runs an event loop in the thread that started it, and the test
    harness checks the test's own loop after each test: the browser lives in a worker thread
    and ``run(fn)`` calls ``fn(page)`` there.
    """

    def __init__(self, home_assistant: HomeAssistantProcess) -> None:
        """Start chromium in the worker thread and log in."""
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="browser")
        self._playwright: Any = None
        self._browser: Any = None
        self.page: Page | None = None
        self._artifacts = home_assistant.config
        self._failures = 0
        # what the page logged last (console messages, uncaught errors): printed on a failure
        self._console: deque[str] = deque(maxlen=40)
        try:
            self._pool.submit(self._start, home_assistant).result()
        except BaseException:
            self.close()
            raise

    def _start(self, home_assistant: HomeAssistantProcess) -> None:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = self._browser.new_context(
            viewport={"width": 1100, "height": 1000},
            locale="en-US",
            color_scheme="light",
            device_scale_factor=1,
        )
        page = context.new_page()
        page.on("console", lambda message: self._console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: self._console.append(f"page error: {error}"))
        page.set_default_timeout(30_000)
        page.goto(f"{home_assistant.base}/{DASHBOARD}/card")
        page.get_by_role("textbox", name="Username").fill(provision.USERNAME)
        page.get_by_role("textbox", name="Password").fill(provision.PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"**/{DASHBOARD}/card*")
        # Logged in once the frontend has kept its tokens ("Keep me logged in"): later page
        # loads then need no login.
        page.wait_for_function("() => localStorage.getItem('hassTokens') !== null")
        # The page the login redirected to has at times (about one fresh run in three here)
        # fetched the card's module without defining its element, with nothing in the console:
        # the tests start from a page loaded with the tokens kept, as a returning user's is.
        page.goto(f"{home_assistant.base}/{DASHBOARD}/card")
        page.wait_for_function("() => customElements.get('espresso-care-card') !== undefined")
        self.page = page

    def run(self, fn: Callable[[Page], T]) -> T:
        """Run ``fn(page)`` in the browser's thread and return its result.

        When it fails, the page is saved as ``failure-<n>.png`` next to Home Assistant's log.
        """

        def call() -> T:
            assert self.page is not None
            try:
                return fn(self.page)
            except BaseException:
                self._failures += 1
                shot = self._artifacts / f"failure-{self._failures}.png"
                shot.write_bytes(self.page.screenshot())
                print(self._report(shot))  # noqa: T201
                raise

        return self._pool.submit(call).result()

    def _report(self, shot: Path) -> str:
        """What the page showed and logged, and Home Assistant's last lines, at a failure.

        (The config directory is gone after the run: the test's output keeps this.)
        """
        assert self.page is not None
        try:
            body = self.page.evaluate(_PAGE_TEXT)
        except Exception as err:  # noqa: BLE001 - the page may be gone: say so, keep the failure
            body = f"(unreadable: {err})"
        log = self._artifacts / "hass.out"
        tail = log.read_text(errors="replace")[-3_000:] if log.exists() else ""
        console = "\n".join(self._console)
        return (
            f"browser: the page at the failure: {shot} ({self.page.url})\n--- its text:\n"
            f"{body}\n--- its console:\n{console}\n--- Home Assistant's last output:\n{tail}"
        )

    def close(self) -> None:
        """Close chromium and stop Playwright."""

        def stop() -> None:
            if self._browser is not None:
                self._browser.close()
            if self._playwright is not None:
                self._playwright.stop()

        self._pool.submit(stop).result()
        self._pool.shutdown()


@pytest.fixture(scope="module")
def browser(home_assistant: HomeAssistantProcess) -> Iterator[Browser]:
    """Chromium, logged in to Home Assistant as the owner; closed after the module."""
    tab = Browser(home_assistant)
    try:
        yield tab
    finally:
        tab.close()
