"""The end-to-end run: real Home Assistant processes, a replayed plug, SIGKILLs; writes JSON.

Every scenario drives its own Home Assistant (own config directory and port) and all of them
run at the same time, since they mostly wait for shots that play in real time. Each writes
``<out>/<scenario>.json`` when it ends (``<scenario>.error`` when it broke); the tests in
tests/e2e/test_e2e.py assert on those measurements. Run it alone to look at the numbers:

    .venv/bin/python -m tests.e2e.driver --out /tmp/e2e-run [scenario ...]

Scenarios:

- ``replay``: a compressed morning of a PID single boiler (3 shots, 2 flushes) through a fresh
  Home Assistant provisioned over its APIs; the counters, the shot events and the maintenance
  sensors; a clean restart.
- ``kill_event_<n>``: a shot, SIGKILL 0-50 ms after its ``espresso_care_shot`` event, restart;
  a backflush, SIGKILL while the relay is on, restart; another shot, SIGKILL after its event,
  restart. ``kill_event_0`` first runs an automated backflush to its end (the action), then
  starts one with the switch entity and stops it the same way.
- ``kill_midshot``: the compressed morning up to the middle of its second shot (the first one
  counted), SIGKILL, restart while the shot goes on; then a shot 20 s after the restart (too
  soon for a detector that starts from scratch to have learned the machine), SIGKILL after its
  event, restart.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
from pathlib import Path
import random
import sys
import time
import traceback
from typing import Any

from scripts.traces import replay as offline_replay
from tests.e2e.harness import (
    DOMAIN,
    RELAY,
    SLUG,
    HassProcess,
    Plug,
    Rig,
    ShotTrace,
    free_port,
    play,
)

TRACE = "silvia_pid__shelly_gen2__s1014"
# The morning of 2026-03-16 from after the first flush to the third shot (3 shots, 2 flushes),
# compressed: 25 minutes in about 3.
MORNING = {"start": "2026-03-16T09:07:45Z", "end": "2026-03-16T09:32:50Z", "speed": 50.0}
# The start of that morning: a minute of the machine idling (in 12 s), then its first shot.
SHOT = {"start": "2026-03-16T09:07:45Z", "end": "2026-03-16T09:09:15Z", "speed": 50.0}
# Shot 3 with 20 s before it: pulled 20 s after Home Assistant is back.
LATE_SHOT = {"start": "2026-03-16T09:31:47Z", "end": "2026-03-16T09:32:44Z"}
LATE_LABEL = "shot 20 s after restart"
EVENT_TIMEOUT = 18.0
"""Seconds after the last sample of a shot within which its event must come (it comes once the
pump has been off for the merge gap, 10 s, at the next reading or 5 s tick)."""
RELAY_OFF_TIMEOUT = 10.0
KILL_DELAYS_MS = (0, 45, 0, 10, 0, 25, 0, 35)
"""Delays of the kills after shot events, two per kill_event rig: at once after the first shot
(the narrowest window), spread over 10-45 ms after the second (the event itself takes a few
ms to arrive: the kills land 0-50 ms after Home Assistant fired it)."""
KILL_EVENT_RIGS = 4
MAINTENANCE_OPTIONS = {"backflush_every_shots": 3, "clean_every_shots": 100}


def scenario_names() -> list[str]:
    """Every scenario, in the order they are started."""
    return ["replay", *(f"kill_event_{n}" for n in range(KILL_EVENT_RIGS)), "kill_midshot"]


class Recorder:
    """What a scenario measured, written as JSON."""

    def __init__(self, rig: Rig) -> None:
        """Record for one rig."""
        self.rig = rig
        self.data: dict[str, Any] = {"kills": [], "restarts": [], "steps": {}}

    def step(self, name: str, **values: Any) -> None:
        """Note a measurement."""
        self.data["steps"][name] = values

    def as_json(self) -> dict[str, Any]:
        """Everything, with the raw events and the readings posted."""
        rig = self.rig
        return {
            **self.data,
            "entry_id": rig.entry_id,
            "starts": rig.hass.starts,
            "events": [
                {"kind": r.kind, "data": r.data, "fired": r.fired, "start": r.start}
                for r in rig.received
            ],
            "posted": [] if rig.plug is None else rig.plug.posted,
        }


async def _snapshot(rig: Rig) -> dict[str, Any]:
    """The machine's counters and maintenance entities, as the REST API shows them."""
    keys = {
        "total_shots": "sensor",
        "shots_today": "sensor",
        "last_shot_duration": "sensor",
        "average_shot_duration": "sensor",
        "shots_since_backflush": "sensor",
        "shots_since_clean": "sensor",
        "backflush_last_done": "sensor",
        "backflush_due": "binary_sensor",
        "clean_due": "binary_sensor",
        "backflush_progress": "sensor",
        "backflush": "switch",
    }
    values = {key: await rig.value(key, domain) for key, domain in keys.items()}
    relay = await rig.state(RELAY)
    values["relay"] = None if relay is None else relay["state"]
    return values


async def _restart(rig: Rig, recorder: Recorder, reason: str) -> None:
    """Start Home Assistant again after a kill; note how long it took and what it shows."""
    seconds = await rig.start()
    total = await rig.value("total_shots")
    recorder.data["restarts"].append(
        {"after": reason, "seconds": round(seconds, 2), "total_shots": total}
    )


async def _shot_then_kill(
    rig: Rig, recorder: Recorder, trace: ShotTrace, delay_ms: float, label: str
) -> None:
    """Play a shot; SIGKILL ``delay_ms`` after its event arrived; restart."""
    assert rig.plug is not None
    rig.drain()
    announced_before = await rig.value("total_shots")
    player = asyncio.create_task(play(rig.plug, trace.samples))
    timeout = trace.duration + EVENT_TIMEOUT
    event = await rig.next_event("espresso_care_shot", timeout)
    kill: dict[str, Any] = {"type": "after_event", "label": label, "delay_ms": delay_ms}
    if event is not None:
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000)
        killed_at_mono = time.monotonic()
        killed_at = await rig.kill()
        kill |= {
            "announced": event.data["total_shots"],
            "event_start": event.data["start"],
            "since_received_ms": round((killed_at_mono - event.received) * 1000, 1),
            "since_fired_ms": round((killed_at - event.fired) * 1000, 1),
        }
    else:
        await player
        killed_at = await rig.kill()
        kill |= {"announced": None, "total_before": announced_before}
    player.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await player
    await _restart(rig, recorder, label)
    kill["restored"] = recorder.data["restarts"][-1]["total_shots"]
    recorder.data["kills"].append(kill)


async def _backflush_then_kill(rig: Rig, recorder: Recorder, rng: random.Random) -> None:
    """Start a backflush; SIGKILL while the relay runs the pump; restart; watch the relay."""
    rig.drain()
    total_before = await rig.value("total_shots")
    await rig.call(
        DOMAIN,
        "start_backflush",
        config_entry_id=rig.entry_id,
        cycles=5,
        on_seconds=5,
        off_seconds=3,
    )
    relay = await rig.state(RELAY)
    kill: dict[str, Any] = {
        "type": "backflush",
        "total_before": total_before,
        "relay_at_start": relay and relay["state"],
    }
    if relay is None or relay["state"] != "on":
        on = await rig.next_event("relay", 10.0)
        kill["relay_on_seen"] = on is not None and on.data["state"] == "on"
    # A real relay keeps its state when Home Assistant dies; the input_boolean restores what
    # Home Assistant saved last. Save it now, with the relay on, as the plug would report it.
    await rig.call("homeassistant", "save_persistent_states")
    await asyncio.sleep(rng.uniform(0.0, 2.0))
    relay = await rig.state(RELAY)
    kill["relay_at_kill"] = relay and relay["state"]
    kill["killed_at"] = await rig.kill()
    await _restart(rig, recorder, "backflush")
    kill["restored"] = recorder.data["restarts"][-1]["total_shots"]
    started = time.monotonic()
    relay_state = None
    while time.monotonic() - started < RELAY_OFF_TIMEOUT:
        relay = await rig.state(RELAY)
        relay_state = relay and relay["state"]
        if relay_state == "off":
            break
        await asyncio.sleep(0.2)
    kill["relay_after_restart"] = relay_state
    kill["relay_off_after_s"] = (
        round(time.monotonic() - started, 2) if relay_state == "off" else None
    )
    kill["relay_changes_after_restart"] = [
        r.data["state"] for r in rig.received if r.kind == "relay" and r.start == rig.hass.starts
    ]
    diagnostics = (await rig.diagnostics())["data"]
    run = diagnostics.get("backflush", {}).get("run") or {}
    kill["run_state"] = run.get("state")
    kill["run_end_reason"] = run.get("end_reason")
    kill["off_pending"] = diagnostics.get("backflush", {}).get("off_pending")
    kill["aborted_events"] = [
        r.data.get("reason")
        for r in rig.received
        if r.kind == "espresso_care_backflush_aborted" and r.start == rig.hass.starts
    ]
    automation = await rig.state("input_text.last_backflush_abort")
    kill["automation_saw_abort"] = automation and automation["state"]
    recorder.data["kills"].append(kill)
    if relay_state != "off":
        # Left on: the user notices the pump running and switches the relay off by hand, so
        # that the next shot is one the detector can tell apart.
        await rig.call("input_boolean", "turn_off", entity_id=RELAY)


async def _midshot_kill(
    rig: Rig, recorder: Recorder, trace: ShotTrace, index: int, rng: random.Random
) -> None:
    """Play ``trace`` into shot ``index``, SIGKILL, restart while the shot goes on, feed its rest."""
    assert rig.plug is not None
    rig.drain()
    shot_start, shot_end = trace.shots[index]
    at = rng.uniform(shot_start + 8.0, shot_end - 8.0)
    began = time.monotonic()
    await play(rig.plug, [s for s in trace.samples if s[0] < at], began=began)
    await asyncio.sleep(max(0.0, began + at - time.monotonic()))
    before = await rig.value("total_shots")
    killed_at = await rig.kill()
    kill: dict[str, Any] = {
        "type": "mid_shot",
        "seconds_into_shot": round(at - shot_start, 1),
        "total_before": before,
        "killed_at": killed_at,
    }
    await _restart(rig, recorder, "mid_shot")
    kill["restored"] = recorder.data["restarts"][-1]["total_shots"]
    kill["shot_left_when_back_s"] = round(began + shot_end - time.monotonic(), 1)
    rig.drain()
    # The machine went on while Home Assistant was down: the rest of the shot, as it happens.
    rest = [s for s in trace.samples if at <= s[0] <= shot_end + 3.0]
    await play(rig.plug, rest, began=began, skip_missed=True)
    tail = await rig.next_event("espresso_care_shot", EVENT_TIMEOUT)
    kill["tail_counted"] = None if tail is None else tail.data["total_shots"]
    recorder.data["kills"].append(kill)


async def _automated_backflush(rig: Rig, recorder: Recorder) -> None:
    """An automated backflush through the action, then the switch entity turned on and off."""
    assert rig.plug is not None
    recorder.step("before_backflush", **await _snapshot(rig))
    # An automated backflush through the action: 3 x (2 s on, 2 s off); the machine idles.
    rig.drain()
    await rig.call(
        DOMAIN,
        "start_backflush",
        config_entry_id=rig.entry_id,
        cycles=3,
        on_seconds=2,
        off_seconds=2,
    )
    ended = await rig.next_event(
        ("espresso_care_backflush_finished", "espresso_care_backflush_aborted"), 30.0
    )
    await asyncio.sleep(1.0)
    recorder.step(
        "backflush_action",
        ended=None if ended is None else ended.kind,
        ended_data=None if ended is None else ended.data,
    )
    recorder.step("after_backflush", **await _snapshot(rig))

    # The switch entity: on starts the default routine, off stops it.
    rig.drain()
    await rig.call("switch", "turn_on", entity_id=f"switch.{SLUG}_backflush")
    on = await rig.next_event("relay", 10.0)
    await asyncio.sleep(1.0)
    await rig.call("switch", "turn_off", entity_id=f"switch.{SLUG}_backflush")
    ended = await rig.next_event(
        ("espresso_care_backflush_finished", "espresso_care_backflush_aborted"), 15.0
    )
    await asyncio.sleep(1.0)
    recorder.step(
        "backflush_switch",
        relay_on=None if on is None else on.data["state"],
        ended=None if ended is None else ended.kind,
        ended_data=None if ended is None else ended.data,
    )
    recorder.step("after_switch", **await _snapshot(rig))


async def scenario_replay(workdir: Path, pids: Path, rng: random.Random) -> dict[str, Any]:
    """See the module docstring."""
    del rng
    rig = Rig(HassProcess(workdir, free_port(), pids), options=MAINTENANCE_OPTIONS)
    trace = ShotTrace.cut(TRACE, **MORNING)  # type: ignore[arg-type]
    plug = Plug(rig, trace.samples[0][1])
    recorder = Recorder(rig)
    try:
        recorder.step("start", seconds=round(await rig.start(), 2))
        recorder.step("before", **await _snapshot(rig))
        began_wall = time.time()
        posted = await play(plug, trace.samples)
        # The last shot's event comes once its pause exceeds the merge gap.
        deadline = time.monotonic() + EVENT_TIMEOUT
        while time.monotonic() < deadline:
            shots = [r for r in rig.received if r.kind == "espresso_care_shot"]
            if len(shots) >= len(trace.shots):
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(6.0)  # a late extra shot would show within a tick or so
        offline = offline_replay(posted, trace.machine_type)
        recorder.step(
            "replay",
            trace=trace.name,
            began=began_wall,
            seconds=round(time.time() - began_wall, 1),
            samples=len(posted),
            labelled=[[began_wall + a, began_wall + b] for a, b in trace.shots],
            flushes=[[began_wall + a, began_wall + b] for a, b in trace.flushes],
            offline=[list(s) for s in offline.shots],
        )
        recorder.step("after_shots", **await _snapshot(rig))

        # A clean restart keeps everything.
        recorder.step("stop", exit_code=await rig.stop())
        recorder.step("restart", seconds=round(await rig.start(), 2))
        recorder.step("after_restart", **await _snapshot(rig))
        recorder.step("stop_again", exit_code=await rig.stop())
    finally:
        await _cleanup(rig)
    return recorder.as_json()


async def scenario_kill_event(
    workdir: Path,
    pids: Path,
    rng: random.Random,
    delays: tuple[float, float],
    *,
    with_backflush: bool,
) -> dict[str, Any]:
    """See the module docstring."""
    rig = Rig(HassProcess(workdir, free_port(), pids))
    shot = ShotTrace.cut(TRACE, **SHOT)  # type: ignore[arg-type]
    Plug(rig, shot.samples[0][1])
    recorder = Recorder(rig)
    try:
        recorder.step("start", seconds=round(await rig.start(), 2))
        if with_backflush:
            await _automated_backflush(rig, recorder)
        await _shot_then_kill(rig, recorder, shot, delays[0], "first shot")
        await _backflush_then_kill(rig, recorder, rng)
        await _shot_then_kill(rig, recorder, shot, delays[1], "shot after restart")
        recorder.step("end", **await _snapshot(rig))
        recorder.step("stop", exit_code=await rig.stop())
    finally:
        await _cleanup(rig)
    return recorder.as_json()


async def scenario_kill_midshot(workdir: Path, pids: Path, rng: random.Random) -> dict[str, Any]:
    """See the module docstring."""
    rig = Rig(HassProcess(workdir, free_port(), pids))
    morning = ShotTrace.cut(TRACE, **MORNING)  # type: ignore[arg-type]
    late = ShotTrace.cut(TRACE, **LATE_SHOT)  # type: ignore[arg-type]
    Plug(rig, morning.samples[0][1])
    recorder = Recorder(rig)
    try:
        recorder.step("start", seconds=round(await rig.start(), 2))
        # The morning: its first shot is counted, the kill comes inside the second one.
        await _midshot_kill(rig, recorder, morning, 1, rng)
        await _shot_then_kill(rig, recorder, late, rng.uniform(0, 50), LATE_LABEL)
        recorder.step("end", **await _snapshot(rig))
        recorder.step("stop", exit_code=await rig.stop())
    finally:
        await _cleanup(rig)
    return recorder.as_json()


async def _cleanup(rig: Rig) -> None:
    await rig.disconnect()
    if rig.hass.running:
        rig.hass.kill()
        await rig.hass.wait_exit()


async def run(out: Path, names: list[str], seed: int) -> None:
    """Run the scenarios at the same time; write each one's JSON as soon as it ends."""
    out.mkdir(parents=True, exist_ok=True)
    pids = out / "pids"
    pids.mkdir(exist_ok=True)
    delays = iter(KILL_DELAYS_MS)

    def make(name: str) -> Any:
        rng = random.Random(f"{seed}-{name}")  # noqa: S311 - kill timings, not secrets
        workdir = out / name
        workdir.mkdir()
        if name == "replay":
            return scenario_replay(workdir, pids, rng)
        if name.startswith("kill_event_"):
            return scenario_kill_event(
                workdir,
                pids,
                rng,
                (next(delays), next(delays)),
                with_backflush=name == "kill_event_0",
            )
        if name == "kill_midshot":
            return scenario_kill_midshot(workdir, pids, rng)
        raise ValueError(f"unknown scenario {name!r}")

    async def one(name: str, index: int) -> None:
        await asyncio.sleep(index * 1.5)  # stagger the start-ups on a small machine
        began = time.monotonic()
        try:
            result = await make(name)
        except Exception:  # noqa: BLE001 - reported to the tests, which fail with it
            (out / f"{name}.error").write_text(traceback.format_exc(), encoding="utf-8")
            return
        result["seconds"] = round(time.monotonic() - began, 1)
        result["seed"] = seed
        tmp = out / f"{name}.json.tmp"
        tmp.write_text(json.dumps(result, indent=1), encoding="utf-8")
        tmp.replace(out / f"{name}.json")

    await asyncio.gather(*(one(name, i) for i, name in enumerate(names)))


def main() -> int:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="a new directory for the run")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("E2E_SEED", time.time())))
    parser.add_argument("names", nargs="*", help="scenarios (default: all)")
    args = parser.parse_args()
    names = args.names or scenario_names()
    sys.stdout.write(f"e2e run: seed {args.seed}, scenarios {' '.join(names)}, in {args.out}\n")
    asyncio.run(run(args.out, names, args.seed))
    for name in names:
        result = args.out / f"{name}.json"
        sys.stdout.write(f"{name}: {'ok' if result.exists() else 'FAILED'}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
