"""Replays of small real-world-like traces (tests/fixtures/traces) and the replay CLI."""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys

import pytest

from scripts.traces import find_traces, load_trace, parse_time, replay, score

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "traces"

# minimum F1 per trace and why it is not 1.0
FLOORS = {
    "capsule__shelly_gen2__s1056": 1.0,
    "silvia_pid__shelly_gen2__s1014": 1.0,
    # one shot ends while the heater is on: the 57 W drop is under the plug's 5 % report
    # threshold, the next report is the 60 s heartbeat; a pump-only hot water draw of shot
    # length is indistinguishable from a shot
    "hx_vibe__shelly_gen2__s1028": 0.8,
    # its recorder labelled a 24 s full-power brew "no"
    "nespresso_shelly_plus_plug_s": 0.9,
}


def test_fixtures_are_present() -> None:
    names = {trace.name for trace in find_traces(FIXTURES)}
    assert names == set(FLOORS)


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_trace_accuracy(name: str) -> None:
    trace = load_trace(FIXTURES / f"{name}.csv")
    found = replay(trace.samples(), trace.machine_type, tick_every=5.0)
    result = score(found.shots, trace.shots)
    assert result.f1 >= FLOORS[name], (result.precision, result.recall)
    if FLOORS[name] == 1.0:
        assert len(found.shots) == len(trace.shots)
        assert max(result.duration_errors) < 3.0


def test_backflush_found_in_trace() -> None:
    trace = load_trace(FIXTURES / "silvia_pid__shelly_gen2__s1014.csv")
    found = replay(trace.samples(), trace.machine_type)
    [(start, end)] = found.backflushes
    [(true_start, true_end)] = trace.events("backflush")
    assert start < true_end
    assert true_start < end


def test_ticks_give_the_same_shots_on_a_trace() -> None:
    trace = load_trace(FIXTURES / "hx_vibe__shelly_gen2__s1028.csv")
    samples = trace.samples()
    plain = replay(samples, trace.machine_type)
    ticked = replay(samples, trace.machine_type, tick_every=2.0)
    assert ticked.shots == plain.shots
    assert ticked.backflushes == plain.backflushes


def test_replay_cli_json() -> None:
    result = subprocess.run(  # noqa: S603 - fixed interpreter and script
        [
            sys.executable,
            str(ROOT / "scripts" / "replay.py"),
            str(FIXTURES / "silvia_pid__shelly_gen2__s1014.csv"),
            "--machine-type",
            "single_boiler",
            "--unit",
            "W",
            "--shot-min-seconds",
            "15",
            "--shot-max-seconds",
            "60",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    data = json.loads(result.stdout)
    assert set(data) == {"shots", "backflushes"}
    assert len(data["shots"]) == 4
    for shot in data["shots"]:
        assert set(shot) == {"start", "end", "duration_s"}
        assert shot["start"].endswith("Z")
        duration = parse_time(shot["end"]) - parse_time(shot["start"])
        assert abs(duration - shot["duration_s"]) < 0.01
        assert 15 <= shot["duration_s"] <= 60
    assert len(data["backflushes"]) == 1
    assert set(data["backflushes"][0]) == {"start", "end"}


def test_replay_cli_table_and_errors() -> None:
    script = str(ROOT / "scripts" / "replay.py")
    table = subprocess.run(  # noqa: S603 - fixed interpreter and script
        [sys.executable, script, str(FIXTURES / "nespresso_shelly_plus_plug_s.csv")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "shot(s)" in table.stdout
    missing = subprocess.run(  # noqa: S603 - fixed interpreter and script
        [sys.executable, script, str(FIXTURES / "nope.csv"), "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert missing.returncode == 2
    bad = subprocess.run(  # noqa: S603 - fixed interpreter and script
        [
            sys.executable,
            script,
            str(FIXTURES / "nespresso_shelly_plus_plug_s.csv"),
            "--shot-min-seconds",
            "90",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert bad.returncode == 2
    assert "invalid settings" in bad.stderr


def test_kilowatt_trace(tmp_path: Path) -> None:
    source = FIXTURES / "capsule__shelly_gen2__s1056.csv"
    lines = source.read_text(encoding="utf-8").splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        entity, state, stamp = line.split(",")
        if state.replace(".", "", 1).isdigit():
            state = f"{float(state) / 1000:.5f}"
        out.append(f"{entity},{state},{stamp}")
    target = tmp_path / "capsule_kw.csv"
    target.write_text("\n".join(out) + "\n", encoding="utf-8")
    labels = json.loads(source.with_name(source.stem + ".labels.json").read_text("utf-8"))
    labels["unit"] = "kW"
    target.with_name("capsule_kw.labels.json").write_text(json.dumps(labels), "utf-8")
    trace = load_trace(target)
    found = replay(trace.samples(), trace.machine_type)
    assert score(found.shots, trace.shots).f1 == 1.0
