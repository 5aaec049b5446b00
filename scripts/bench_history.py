"""Cost of ``espresso_care.analyze_history`` on 30 days of a 1 Hz plug (section of ``make bench``).

Builds (once, then cached under ``CACHE_DIR``) a Home Assistant recorder database (SQLite,
the schema the installed Home Assistant's recorder creates itself) holding 30 days of a
synthetic espresso machine behind a plug that reports every second: about 2.6 million states
of one power sensor. The states are written straight into the recorder's tables with
``sqlite3`` (one transaction), which takes seconds where recording them through Home
Assistant's event bus would take an hour.

Then it starts a real ``HomeAssistant`` in-process (the test harness's
``async_test_home_assistant``, outside pytest, in a temporary config directory) with the
``recorder`` on that database and an Espresso Care entry following the sensor, and calls the
real action ``espresso_care.analyze_history`` (``days: 30``) with ``return_response``: the
recorder's query helpers, its executor, the pages of states, the engine. After a 1-day warm-up
call it prints the wall time of the 30-day call and the rise of the process's peak resident
memory (``ru_maxrss``) during it. ``ESPRESSO_BENCH_TRACE_DAYS=N`` adds an N-day call under
``tracemalloc`` (peak of the Python memory allocated meanwhile, every thread; ~5x slower).

Home Assistant runs on a copy of the cached file, whose states are moved in time (one UPDATE)
so that they end a minute before now. ``ESPRESSO_BENCH_HISTORY_DAYS`` changes the length (a new file per length).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
from pathlib import Path
import random
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
# Our ``custom_components`` package must win over the one the test harness ships.
if str(ROOT) not in sys.path[:1]:
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from collections.abc import Iterator

    from homeassistant.core import HomeAssistant

CACHE_DIR = Path(tempfile.gettempdir()) / "espresso_care_bench"
GENERATOR_VERSION = 2
DAYS = int(os.environ.get("ESPRESSO_BENCH_HISTORY_DAYS", "30"))
# days of a third call under tracemalloc (0: none; it runs ~5x slower)
TRACE_DAYS = int(os.environ.get("ESPRESSO_BENCH_TRACE_DAYS", "0"))
POWER_SENSOR = "sensor.bench_plug_power"
ATTRIBUTES = {"unit_of_measurement": "W", "device_class": "power", "friendly_name": "Plug power"}
ENTRY_ID = "01JBENCHHISTORYENTRY000001"
# the synthetic machine (a single boiler under PID, figures as in tests/engine/signals.py)
STANDBY_WATTS = 0.5
HEATER_WATTS = 1370.0
HEATER_STEP_WATTS = 137.0
PUMP_WATTS = 52.0
PID_PERIOD = 5
PID_MOST_STEPS = 6
HEAT_UP_SECONDS = 420
# sessions per day: (hour it starts, minutes on)
SESSIONS = ((7, 50), (18, 35))


def _sessions(rng: random.Random) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """Draw the day's sessions: (on, off, pump runs) in seconds of the day; shots 22-38 s."""
    spans: list[tuple[int, int, list[tuple[int, int]]]] = []
    for hour, minutes in SESSIONS:
        on = hour * 3600 + rng.randint(-1800, 1800)
        off = on + minutes * 60 + rng.randint(-300, 300)
        pump: list[tuple[int, int]] = []
        t = on + HEAT_UP_SECONDS + rng.randint(120, 600)
        for _ in range(rng.randint(1, 3)):
            flush = rng.randint(3, 6)
            pump.append((t, t + flush))  # a flush before the shot
            t += flush + rng.randint(20, 60)
            length = rng.randint(22, 38)
            pump.append((t, t + length))
            t += length + rng.randint(240, 600)
            if t > off - 120:
                break
        spans.append((on, off, pump))
    return spans


def machine_day(day: int, day_start: float) -> Iterator[tuple[float, float | None]]:
    """Yield (timestamp, watts or None) every second of one day of the synthetic machine."""
    rng = random.Random(day)  # noqa: S311 - a reproducible pattern, no secret
    spans = _sessions(rng)
    # one outage of up to 5 minutes a day (the plug drops off the network)
    outage = rng.randint(0, 86400 - 600)
    outage_end = outage + rng.randint(30, 300)
    for second in range(86400):
        ts = day_start + second + rng.uniform(0.0, 0.2)
        if outage <= second < outage_end:
            yield ts, None
            continue
        # standby read to 0.01 W (the plug's noise), so that nearly every second is a change
        watts = round(STANDBY_WATTS + rng.uniform(-0.3, 0.3), 2)
        for on, off, pump in spans:
            if not on <= second < off:
                continue
            if second < on + HEAT_UP_SECONDS:
                watts += HEATER_WATTS * (1.0 + rng.uniform(-0.01, 0.01))
                break
            heater = HEATER_STEP_WATTS if second % PID_PERIOD == 0 else 0.0
            for a, b in pump:
                if a <= second < b:
                    watts += PUMP_WATTS + rng.uniform(-1.0, 1.0)
                    if b - a > 10:  # the PID answers the cold water of a shot
                        heater = HEATER_STEP_WATTS * min(PID_MOST_STEPS, 1 + (second - a) // 2)
            watts += heater
            break
        yield ts, round(watts, 2)


def true_shots(days: int) -> int:
    """Shots the synthetic machine pulls in ``days`` days (pump runs over 10 s)."""
    return sum(
        sum(1 for a, b in pump if b - a > 10)
        for day in range(days)
        for _, _, pump in _sessions(random.Random(day))  # noqa: S311
    )


def _states(days: int, end: float, metadata_id: int, attributes_id: int) -> Iterator[tuple]:
    """Rows of the ``states`` table; a value equal to the one before is not a state change."""
    first_day = math.floor(end / 86400.0) - days
    last: str | None = None
    for day in range(days):
        for ts, watts in machine_day(day, (first_day + day) * 86400.0):
            state = "unavailable" if watts is None else f"{watts:g}"
            if state == last:
                continue
            last = state
            yield (state, metadata_id, attributes_id, ts, None, None, 0)


async def _setup_recorder(hass: HomeAssistant, db_path: Path) -> None:
    from homeassistant.components import recorder  # noqa: PLC0415
    from homeassistant.helpers import recorder as recorder_helper  # noqa: PLC0415
    from homeassistant.setup import async_setup_component  # noqa: PLC0415

    recorder_helper.async_initialize_recorder(hass)
    config = {"db_url": f"sqlite:///{db_path}", "auto_purge": False, "purge_keep_days": 60}
    if not await async_setup_component(hass, recorder.DOMAIN, {recorder.DOMAIN: config}):
        raise RuntimeError("the recorder did not set up")
    instance = recorder.get_instance(hass)
    if not await instance.async_db_ready:
        raise RuntimeError("the recorder's database is not ready")
    await hass.async_block_till_done()
    await instance.async_block_till_done()


@contextlib.asynccontextmanager
async def _hass(db_path: Path) -> Any:
    """Run a Home Assistant with the recorder on ``db_path`` (custom integrations enabled)."""
    from homeassistant import loader  # noqa: PLC0415
    from homeassistant.helpers import frame  # noqa: PLC0415
    from pytest_homeassistant_custom_component.common import (  # noqa: PLC0415
        async_test_home_assistant,
        mock_component,
    )

    with tempfile.TemporaryDirectory(prefix="espresso_bench_history_") as config_dir:
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            frame.async_setup(hass)
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)  # enable custom integrations
            mock_component(hass, "http")  # never start a web server in the bench
            await _setup_recorder(hass, db_path)
            try:
                yield hass
            finally:
                await hass.async_stop(force=True)


async def _create_schema(db_path: Path) -> None:
    """Let the recorder create its schema in a new database file."""
    async with _hass(db_path):
        pass


def build_database(days: int) -> tuple[Path, float]:
    """Return the cached database of ``days`` days (built when missing) and its build time."""
    from homeassistant.components.recorder.db_schema import (  # noqa: PLC0415
        SCHEMA_VERSION,
        StateAttributes,
    )

    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / f"history-{days}d-1hz-g{GENERATOR_VERSION}-s{SCHEMA_VERSION}.db"
    if path.exists():
        return path, 0.0
    started = time.perf_counter()
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    asyncio.run(_create_schema(partial))
    shared = json.dumps(ATTRIBUTES, separators=(",", ":"))
    with contextlib.closing(sqlite3.connect(partial)) as db:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        metadata_id = db.execute(
            "INSERT INTO states_meta (entity_id) VALUES (?)", (POWER_SENSOR,)
        ).lastrowid
        attributes_id = db.execute(
            "INSERT INTO state_attributes (hash, shared_attrs) VALUES (?, ?)",
            (StateAttributes.hash_shared_attrs_bytes(shared.encode()), shared),
        ).lastrowid
        db.executemany(
            "INSERT INTO states (state, metadata_id, attributes_id, last_updated_ts, "
            "last_changed_ts, last_reported_ts, origin_idx) VALUES (?, ?, ?, ?, ?, ?, ?)",
            _states(days, time.time(), int(metadata_id or 0), int(attributes_id or 0)),
        )
        db.commit()
    partial.replace(path)
    return path, time.perf_counter() - started


def move_to_now(path: Path) -> int:
    """Shift the states so that the last one is a minute old; return the number of states."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        (count, last) = db.execute(
            "SELECT COUNT(*), MAX(last_updated_ts) FROM states WHERE metadata_id = "
            "(SELECT metadata_id FROM states_meta WHERE entity_id = ?)",
            (POWER_SENSOR,),
        ).fetchone()
        delta = time.time() - 60.0 - float(last)
        if abs(delta) > 1.0:
            db.execute("PRAGMA journal_mode=OFF")
            db.execute(
                "UPDATE states SET last_updated_ts = last_updated_ts + ? WHERE metadata_id = "
                "(SELECT metadata_id FROM states_meta WHERE entity_id = ?)",
                (delta, POWER_SENSOR),
            )
            db.commit()
        return int(count)


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


async def _analyze(days: int, db_path: Path) -> dict[str, Any]:
    from pytest_homeassistant_custom_component.common import MockConfigEntry  # noqa: PLC0415

    from custom_components.espresso_care.const import DOMAIN  # noqa: PLC0415

    out: dict[str, Any] = {}
    async with _hass(db_path) as hass:
        hass.states.async_set(POWER_SENSOR, "0.5", ATTRIBUTES)
        entry = MockConfigEntry(
            domain=DOMAIN,
            title="Bench machine",
            data={},
            options={
                "name": "Bench machine",
                "power_sensor": POWER_SENSOR,
                "machine_type": "single_boiler",
                "switch_role": "pump",
            },
            entry_id=ENTRY_ID,
            version=1,
            minor_version=1,
        )
        entry.add_to_hass(hass)
        if not await hass.config_entries.async_setup(ENTRY_ID):
            raise RuntimeError("Espresso Care did not set up")
        await hass.async_block_till_done()

        async def call(days: int) -> dict[str, Any]:
            response = await hass.services.async_call(
                DOMAIN,
                "analyze_history",
                {"config_entry_id": ENTRY_ID, "days": days},
                blocking=True,
                return_response=True,
            )
            if not isinstance(response, dict):
                raise TypeError(f"unexpected response {response!r}")
            return response

        # warm-up (imports, compiled queries, caches): one day, not measured
        await call(1)
        rss_before = _max_rss_mib()
        started = time.perf_counter()
        response = await call(days)
        out["seconds"] = time.perf_counter() - started
        out["rss_rise_mib"] = _max_rss_mib() - rss_before
        out["rss_peak_mib"] = _max_rss_mib()
        out["response"] = response
        if TRACE_DAYS:
            tracemalloc.start()
            started = time.perf_counter()
            await call(TRACE_DAYS)
            out["traced_seconds"] = time.perf_counter() - started
            out["traced_peak_mib"] = tracemalloc.get_traced_memory()[1] / 1024.0 / 1024.0
            tracemalloc.stop()
    return out


def main() -> int:
    """Print the time and memory of a 30-day analysis; exit status 0."""
    logging.getLogger("homeassistant.loader").setLevel(logging.ERROR)
    logging.getLogger("homeassistant.components.recorder").setLevel(logging.ERROR)
    print(f"== analyze_history: {DAYS} days of a 1 Hz plug in the recorder (SQLite) ==")
    cached, build_seconds = build_database(DAYS)
    size = cached.stat().st_size / 1024.0 / 1024.0
    how = f"built in {build_seconds:.1f} s" if build_seconds else "cached"
    with tempfile.TemporaryDirectory(prefix="espresso_bench_history_db_") as work:
        # Home Assistant records its own states too: it runs on a copy of the cached file
        path = Path(work) / "home-assistant_v2.db"
        shutil.copyfile(cached, path)
        states = move_to_now(path)
        print(f"database: {cached} ({size:.0f} MiB, {states:,} states of {POWER_SENSOR}, {how})")
        result = asyncio.run(_analyze(DAYS, path))
    response = result["response"]
    truth = true_shots(DAYS)
    print(
        f"analysis: {result['seconds']:.1f} s for {response['samples']:,} states "
        f"({response['samples'] / result['seconds'] / 1000.0:.0f} k states/s)"
    )
    print(
        f"memory: the process's peak RSS rose by {result['rss_rise_mib']:.1f} MiB during the call "
        f"(after a 1-day warm-up call; process peak {result['rss_peak_mib']:.0f} MiB, "
        "Home Assistant included)"
    )
    if TRACE_DAYS:
        print(
            f"memory: Python allocations of a {TRACE_DAYS}-day call peaked at "
            f"{result['traced_peak_mib']:.1f} MiB (tracemalloc, {result['traced_seconds']:.1f} s)"
        )
    print(
        f"found: {response['shot_count']} shots (the synthetic machine pulled {truth}), "
        f"{len(response['per_day'])} days with shots, "
        f"pump {response['learned']['pump_watts']} W (true {PUMP_WATTS + STANDBY_WATTS:g}), "
        f"heater {response['learned']['heater_watts']} W (true {HEATER_WATTS:g}), "
        f"plug every {response['plug']['median_report_interval_s']} s"
    )
    print(f"summary: {response['summary']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
