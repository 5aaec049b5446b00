"""A real Home Assistant process and the test's side of it, for the end-to-end suite.

``HassProcess`` runs ``python -m homeassistant -c <dir>`` from the test venv in its own process
group on a free port of 127.0.0.1, with a minimal configuration (``http``, ``api``, an
``input_boolean`` relay; ``frontend`` is pointed at an empty development directory so that the
integration Home Assistant insists on loads without the frontend package) and
``custom_components/espresso_care`` linked into it. ``Rig`` provisions it like a user would
(the owner through onboarding, Espresso Care through the config and options flows over REST),
logs in again after every restart, and follows events over the websocket. ``Plug`` is the smart
plug: it posts the power sensor's readings through ``POST /api/states`` and adds the pump's
draw while the relay is on. ``ShotTrace`` cuts and time-compresses a recorded trace.

No Home Assistant import here: this runs in the driver process (tests/e2e/driver.py).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
from dataclasses import dataclass, field
from datetime import datetime
import os
from pathlib import Path
import signal
import socket
import sys
import time
from typing import TYPE_CHECKING, Any

import aiohttp

from scripts.hass_api import (
    ProvisionError,
    Websocket,
    add_config_entry,
    create_owner,
    log_in,
    onboarding_user_done,
)
from scripts.traces import load_trace

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

ROOT = Path(__file__).resolve().parents[2]
COMPONENT = ROOT / "custom_components" / "espresso_care"
FIXTURES = ROOT / "tests" / "fixtures" / "traces"

DOMAIN = "espresso_care"
MACHINE = "Espresso machine"
SLUG = "espresso_machine"
POWER_SENSOR = "sensor.espresso_plug_power"
RELAY = "input_boolean.espresso_relay"
POWER_ATTRIBUTES = {
    "unit_of_measurement": "W",
    "device_class": "power",
    "state_class": "measurement",
    "friendly_name": "Espresso plug power",
}
PUMP_WATTS = 57.0
"""What the plug reads on top of the machine's idle draw while the relay runs the pump."""
USERNAME = "e2e"
PASSWORD = "e2e-password"  # noqa: S105 - a throwaway owner of a throwaway instance
EVENTS = (
    "espresso_care_shot",
    "espresso_care_backflush_started",
    "espresso_care_backflush_finished",
    "espresso_care_backflush_aborted",
    "espresso_care_maintenance_done",
    "espresso_care_maintenance_due",
)
START_TIMEOUT = 90.0

CONFIGURATION = """\
homeassistant:
  name: Espresso Care e2e
  unit_system: metric
  time_zone: UTC
  country: DE
  currency: EUR
  latitude: 52.52
  longitude: 13.40
  elevation: 34

http:
  server_host: 127.0.0.1
  server_port: {port}
api:
# Home Assistant goes into recovery mode unless `frontend` loads; an empty development
# directory lets it load without the frontend package (nothing here serves the UI).
frontend:
  development_repo: {frontend}

input_boolean:
  espresso_relay:
    name: Espresso relay

# What an automation sees of an aborted backflush (a user's "tell me" automation).
input_text:
  last_backflush_abort:
    name: Last backflush abort
automation:
  - alias: Record backflush aborts
    triggers:
      - trigger: event
        event_type: espresso_care_backflush_aborted
    actions:
      - action: input_text.set_value
        target:
          entity_id: input_text.last_backflush_abort
        data:
          value: "{{{{ trigger.event.data.reason }}}}"

logger:
  default: warning
  logs:
    custom_components.espresso_care: info
"""

# Onboarding without its "core config", "analytics" and "integration" steps (they would set
# up integrations that need the internet): only the owner is created, through the API.
ONBOARDING = (
    '{"version": 4, "minor_version": 1, "key": "onboarding",'
    ' "data": {"done": ["core_config", "analytics", "integration"]}}'
)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that is free right now (never 8123)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port != 8123:
            return port


def iso_to_ts(text: str) -> float:
    """ISO 8601 with offset (what Home Assistant returns) to POSIX seconds."""
    return datetime.fromisoformat(text).timestamp()


class HassProcess:
    """One Home Assistant process on its own config directory and port."""

    def __init__(self, config_dir: Path, port: int, pid_dir: Path | None = None) -> None:
        """Prepare the config directory (created on first use)."""
        self.config_dir = config_dir
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self._pid_dir = pid_dir
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0
        self._write_config()

    def _write_config(self) -> None:
        config = self.config_dir
        if (config / "configuration.yaml").exists():
            return
        frontend = config / "frontend-dev"
        (frontend / "hass_frontend").mkdir(parents=True)
        (config / "custom_components").mkdir()
        (config / "custom_components" / DOMAIN).symlink_to(COMPONENT, target_is_directory=True)
        (config / ".storage").mkdir()
        (config / ".storage" / "onboarding").write_text(ONBOARDING, encoding="utf-8")
        (config / "configuration.yaml").write_text(
            CONFIGURATION.format(port=self.port, frontend=frontend), encoding="utf-8"
        )

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.proc is not None and self.proc.returncode is None

    async def start(self) -> None:
        """Start Home Assistant (returns at once; see ``Rig.connect``)."""
        assert not self.running
        self.starts += 1
        with (self.config_dir / "stdout.log").open("ab") as log:
            log.write(f"\n===== start {self.starts} at {time.time():.3f}\n".encode())
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "homeassistant",
                "-c",
                str(self.config_dir),
                "--skip-pip",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed as a whole
            )
        if self._pid_dir is not None:
            (self._pid_dir / str(self.proc.pid)).touch()

    def kill(self) -> float:
        """SIGKILL the process group now; returns the wall-clock time of the kill."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        return time.time()

    async def wait_exit(self, seconds: float = 30.0) -> int:
        """Wait for the process to end (killing it after ``seconds``); returns its exit code."""
        assert self.proc is not None
        try:
            code = await asyncio.wait_for(self.proc.wait(), seconds)
        except TimeoutError:
            self.kill()
            code = await self.proc.wait()
        if self._pid_dir is not None:
            (self._pid_dir / str(self.proc.pid)).unlink(missing_ok=True)
        return code

    async def stop(self, seconds: float = 30.0) -> int:
        """Stop Home Assistant the normal way (SIGTERM); returns its exit code."""
        assert self.proc is not None
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
        return await self.wait_exit(seconds)

    def storage(self, key: str) -> Path:
        """Path of a file in ``.storage``."""
        return self.config_dir / ".storage" / key


@dataclass
class Received:
    """An event (or a relay change) as the websocket delivered it."""

    kind: str
    data: dict[str, Any]
    fired: float
    """Home Assistant's time_fired (or last_changed), POSIX seconds."""
    received: float
    """time.monotonic() when the driver got it."""
    start: int
    """Which start of Home Assistant it came from (1 = the first)."""


@dataclass
class Rig:
    """The test's side of one Home Assistant: REST session, websocket, the plug, the log."""

    hass: HassProcess
    options: Mapping[str, Any] = field(default_factory=dict)
    entry_id: str | None = None
    received: list[Received] = field(default_factory=list)
    session: aiohttp.ClientSession | None = None
    ws: Websocket | None = None
    plug: Plug | None = None
    _inbox: asyncio.Queue[Received] = field(default_factory=asyncio.Queue)
    _forwarders: list[asyncio.Task[None]] = field(default_factory=list)
    _ws_response: aiohttp.ClientWebSocketResponse | None = None
    relay_listeners: list[Callable[[str], None]] = field(default_factory=list)

    async def start(self) -> float:
        """Start Home Assistant and connect; returns the seconds until it was running."""
        began = time.monotonic()
        await self.hass.start()
        await self.connect()
        return time.monotonic() - began

    async def connect(self) -> None:
        """Wait for the API, log in (creating the owner first), follow events, set up the entry."""
        base = self.hass.base
        anonymous = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        async with anonymous:
            await self._wait_http(anonymous)
            if await onboarding_user_done(anonymous, base):
                token = await log_in(anonymous, base, USERNAME, PASSWORD)
            else:
                token = await create_owner(anonymous, base, "E2E", USERNAME, PASSWORD)
        self.session = aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {token}"},
            timeout=aiohttp.ClientTimeout(total=30),
        )
        self._ws_response = await self.session.ws_connect(
            f"ws://127.0.0.1:{self.hass.port}/api/websocket"
        )
        self.ws = Websocket(self._ws_response)
        await self.ws.login(token)
        start = self.hass.starts
        for event_type in EVENTS:
            queue = await self.ws.subscribe("subscribe_events", event_type=event_type)
            self._forwarders.append(asyncio.create_task(self._forward(queue, start)))
        relay = await self.ws.subscribe(
            "subscribe_trigger", trigger={"platform": "state", "entity_id": RELAY}
        )
        self._forwarders.append(asyncio.create_task(self._forward_relay(relay, start)))
        await self._wait_running()
        if self.entry_id is None:
            self.entry_id = await self._provision()
        await self._wait_entry_loaded()
        if self.plug is not None:
            await self.plug.reconnected()

    async def _wait_http(self, session: aiohttp.ClientSession) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not self.hass.running:
                raise ProvisionError(f"Home Assistant exited; see {self.hass.config_dir}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(f"{self.hass.base}/api/onboarding") as resp:
                    if resp.status in (200, 404):
                        return
            await asyncio.sleep(0.1)
        raise ProvisionError(f"Home Assistant did not answer within {START_TIMEOUT} s")

    async def _wait_running(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if (await self.get("/api/config")).get("state") == "RUNNING":
                return
            await asyncio.sleep(0.1)
        raise ProvisionError("Home Assistant did not reach RUNNING")

    async def _wait_entry_loaded(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            entries = await self.get(f"/api/config/config_entries/entry?domain={DOMAIN}")
            if entries and entries[0]["state"] == "loaded":
                return
            await asyncio.sleep(0.1)
        raise ProvisionError(f"the Espresso Care entry did not load: {entries}")

    async def _provision(self) -> str:
        """Add Espresso Care through its config flow, then its options flow, over REST."""
        assert self.session is not None
        # The config flow wants the power sensor to exist: the plug's first reading.
        watts = 0.0 if self.plug is None else self.plug.reading
        await self.post_state(POWER_SENSOR, str(watts), POWER_ATTRIBUTES)
        desired = {
            "name": MACHINE,
            "power_sensor": POWER_SENSOR,
            "machine_type": "single_boiler",
            "backflush_switch": RELAY,
            "switch_role": "pump",
            **self.options,
        }
        entry = await add_config_entry(
            self.session,
            self.hass.base,
            DOMAIN,
            desired,
            options_menus={"init": "settings"} if self.options else None,
        )
        return str(entry["entry_id"])

    async def _forward(self, queue: asyncio.Queue[dict[str, Any]], start: int) -> None:
        while True:
            event = await queue.get()
            item = Received(
                kind=event["event_type"],
                data=event["data"],
                fired=iso_to_ts(event["time_fired"]),
                received=time.monotonic(),
                start=start,
            )
            self.received.append(item)
            self._inbox.put_nowait(item)

    async def _forward_relay(self, queue: asyncio.Queue[dict[str, Any]], start: int) -> None:
        while True:
            event = await queue.get()
            to_state = event["variables"]["trigger"]["to_state"]
            if to_state is None:
                continue
            item = Received(
                kind="relay",
                data={"state": to_state["state"]},
                fired=iso_to_ts(to_state["last_changed"]),
                received=time.monotonic(),
                start=start,
            )
            self.received.append(item)
            for listener in self.relay_listeners:
                listener(to_state["state"])
            self._inbox.put_nowait(item)

    async def next_event(self, kinds: str | tuple[str, ...], within: float) -> Received | None:
        """The next event of one of ``kinds`` delivered from now on (None after ``within`` s)."""
        kinds = (kinds,) if isinstance(kinds, str) else kinds
        deadline = time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0:
            try:
                item = await asyncio.wait_for(self._inbox.get(), left)
            except TimeoutError:
                return None
            if item.kind in kinds:
                return item
        return None

    def drain(self) -> None:
        """Forget events not waited for yet (they stay in ``received``)."""
        while not self._inbox.empty():
            self._inbox.get_nowait()

    async def disconnect(self) -> None:
        """Close the websocket and the REST session (Home Assistant went away or stops)."""
        for task in self._forwarders:
            task.cancel()
        self._forwarders.clear()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
            self.ws = None
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def kill(self) -> float:
        """SIGKILL Home Assistant; returns the wall-clock time of the kill."""
        killed_at = self.hass.kill()
        await self.hass.wait_exit()
        await self.disconnect()
        return killed_at

    async def stop(self) -> int:
        """Stop Home Assistant cleanly; returns its exit code."""
        await self.disconnect()
        return await self.hass.stop()

    # ------------------------------------------------------------------ REST

    async def get(self, path: str) -> Any:
        """GET a REST path and return its JSON."""
        assert self.session is not None
        async with self.session.get(f"{self.hass.base}{path}") as resp:
            resp.raise_for_status()
            return await resp.json()

    async def state(self, entity_id: str) -> dict[str, Any] | None:
        """The state object of an entity (None when it has none)."""
        assert self.session is not None
        async with self.session.get(f"{self.hass.base}/api/states/{entity_id}") as resp:
            if resp.status == 404:
                return None
            resp.raise_for_status()
            result: dict[str, Any] = await resp.json()
            return result

    async def value(self, key: str, domain: str = "sensor") -> str | None:
        """The state of one of the machine's entities, e.g. ``total_shots``."""
        state = await self.state(f"{domain}.{SLUG}_{key}")
        return None if state is None else str(state["state"])

    async def post_state(
        self, entity_id: str, state: str, attributes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Set a state through ``POST /api/states``; returns the new state object."""
        assert self.session is not None
        async with self.session.post(
            f"{self.hass.base}/api/states/{entity_id}",
            json={"state": state, "attributes": dict(attributes)},
        ) as resp:
            resp.raise_for_status()
            result: dict[str, Any] = await resp.json()
            return result

    async def call(self, domain: str, service: str, **data: Any) -> Any:
        """Call an action through ``POST /api/services`` (waits for it)."""
        assert self.session is not None
        async with self.session.post(
            f"{self.hass.base}/api/services/{domain}/{service}", json=data
        ) as resp:
            if resp.status >= 400:
                raise ProvisionError(f"{domain}.{service}: {resp.status} {await resp.text()}")
            return await resp.json()

    async def diagnostics(self) -> dict[str, Any]:
        """The config entry's diagnostics download."""
        result: dict[str, Any] = await self.get(f"/api/diagnostics/config_entry/{self.entry_id}")
        return result


class Plug:
    """The smart plug behind the power sensor: the machine's draw, plus the pump with the relay.

    ``machine`` is what the machine draws by itself (the trace); while the relay is on, the
    pump's ``PUMP_WATTS`` come on top, as when the relay switches a vibration pump.
    """

    def __init__(self, rig: Rig, machine: float) -> None:
        """Attach to a rig, the machine drawing ``machine`` W; the relay's changes move it."""
        self.rig = rig
        self.machine = machine
        self.relay_on = False
        self.posted: list[tuple[float, float]] = []
        """(Home Assistant's last_updated, watts) of every reading it took."""
        rig.plug = self
        rig.relay_listeners.append(self._relay_changed)
        self._pending: set[asyncio.Task[None]] = set()

    @property
    def reading(self) -> float:
        """What the plug measures now."""
        return round(self.machine + (PUMP_WATTS if self.relay_on else 0.0), 1)

    async def publish(self) -> float:
        """Post the current reading; returns Home Assistant's timestamp of it."""
        watts = self.reading
        state = await self.rig.post_state(POWER_SENSOR, str(watts), POWER_ATTRIBUTES)
        stamp = iso_to_ts(state.get("last_reported") or state["last_updated"])
        self.posted.append((stamp, watts))
        return stamp

    async def set_machine(self, watts: float) -> float:
        """The machine draws ``watts``; the plug reports it."""
        self.machine = watts
        return await self.publish()

    def _relay_changed(self, state: str) -> None:
        on = state == "on"
        if on == self.relay_on:
            return
        self.relay_on = on
        if self.rig.session is None:
            return
        task = asyncio.create_task(self._publish_quietly())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _publish_quietly(self) -> None:
        with contextlib.suppress(aiohttp.ClientError, AssertionError):
            await self.publish()

    async def reconnected(self) -> None:
        """After a (re)start: read the relay back and report the current reading."""
        relay = await self.rig.state(RELAY)
        self.relay_on = relay is not None and relay["state"] == "on"
        await self.publish()


@dataclass(frozen=True)
class ShotTrace:
    """A cut of a recorded trace with its labels, time-compressed where the detector allows.

    ``samples`` are (seconds from the cut's start, watts); ``shots`` are the labelled shots
    on the same time axis. Inside every labelled pump event (shots, flushes) and ``margin``
    seconds around it the trace plays in real time; a stretch between two of them lasts its
    real length divided by ``speed``, but never less than ``min_gap`` (nor more than it really
    lasted), so that the detector still sees the pauses that end its pump runs.
    """

    name: str
    machine_type: str
    samples: list[tuple[float, float]]
    shots: list[tuple[float, float]]
    flushes: list[tuple[float, float]]

    @property
    def duration(self) -> float:
        """Seconds from the first to the last sample."""
        return self.samples[-1][0] - self.samples[0][0]

    @classmethod
    def cut(
        cls,
        name: str,
        start: str,
        end: str,
        *,
        speed: float = 1.0,
        margin: float = 3.0,
        min_gap: float = 12.0,
        drop: tuple[tuple[str, str], ...] = (),
    ) -> ShotTrace:
        """Cut ``[start, end]`` (ISO times) out of ``tests/fixtures/traces/<name>.csv``.

        ``drop`` removes the samples of some stretches (e.g. a flush right after a shot).
        """
        trace = load_trace(FIXTURES / f"{name}.csv")
        low, high = _ts(start), _ts(end)
        dropped = [(_ts(a), _ts(b)) for a, b in drop]
        raw = [
            (ts, watts)
            for ts, watts in trace.samples()
            if low <= ts <= high and watts is not None and not any(a <= ts <= b for a, b in dropped)
        ]
        shots = [s for s in trace.shots if low <= s[0] <= high]
        flushes = [
            f for f in trace.events("flush") if low <= f[0] <= high and not _inside(f, dropped)
        ]
        warp = _warp(sorted(shots + flushes), low, speed=speed, margin=margin, min_gap=min_gap)
        return cls(
            name=name,
            machine_type=trace.machine_type,
            samples=[(warp(ts), watts) for ts, watts in raw],
            shots=[(warp(a), warp(b)) for a, b in shots],
            flushes=[(warp(a), warp(b)) for a, b in flushes],
        )


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _inside(interval: tuple[float, float], stretches: list[tuple[float, float]]) -> bool:
    return any(a <= interval[0] <= b for a, b in stretches)


def _warp(
    events: list[tuple[float, float]], origin: float, *, speed: float, margin: float, min_gap: float
) -> Callable[[float], float]:
    """Map trace time to compressed time (see ``ShotTrace``); ``origin`` maps to 0."""
    windows: list[tuple[float, float]] = []
    for start, end in events:
        a, b = start - margin, end + margin
        if windows and a <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(b, windows[-1][1]))
        else:
            windows.append((a, b))

    def squeeze(real: float) -> float:
        return max(min(real, min_gap), real / speed)

    knots = [(origin, 0.0)]
    for a, b in windows:
        last, warped = knots[-1]
        if a > last:
            knots.append((a, warped + squeeze(a - last)))
        last, warped = knots[-1]
        if b > last:
            knots.append((b, warped + (b - last)))
    xs = [x for x, _ in knots]

    def warp(t: float) -> float:
        i = max(bisect.bisect_right(xs, t) - 1, 0)
        x, y = knots[i]
        if i + 1 < len(knots):
            x2, y2 = knots[i + 1]
            return y + (t - x) * (y2 - y) / (x2 - x)
        return y + squeeze(t - x)

    return warp


async def play(
    plug: Plug,
    samples: list[tuple[float, float]],
    *,
    began: float | None = None,
    skip_missed: bool = False,
) -> list[tuple[float, float]]:
    """Feed samples at ``began`` (time.monotonic(), default now) + their time; returns them.

    With ``skip_missed``, samples more than 0.5 s late are dropped, as the reports of a plug
    are lost while Home Assistant is down. Stops quietly when Home Assistant goes away.
    """
    began = time.monotonic() if began is None else began
    posted: list[tuple[float, float]] = []
    for at, watts in samples:
        delay = began + at - time.monotonic()
        if skip_missed and delay < -0.5:
            continue
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            stamp = await plug.set_machine(watts)
        except (aiohttp.ClientError, AssertionError, ConnectionError):
            break
        posted.append((stamp, watts))
    return posted
