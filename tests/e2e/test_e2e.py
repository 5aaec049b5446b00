"""End to end: a real Home Assistant process, provisioned over its APIs, fed a recorded plug trace
and killed with SIGKILL; the assertions read what its REST and websocket APIs showed.

The measurements come from tests/e2e/driver.py (see its docstring for the scenarios); each test
names the scenarios it needs, and they all run at the same time, once per session.
"""

from __future__ import annotations

from datetime import datetime
import statistics
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import DEPRECATION_REPORT
from tests.e2e.driver import KILL_EVENT_RIGS, LATE_LABEL

if TYPE_CHECKING:
    from tests.e2e.conftest import E2ERun

pytestmark = pytest.mark.e2e

KILL_RIGS = [f"kill_event_{n}" for n in range(KILL_EVENT_RIGS)] + ["kill_midshot"]
START_TOLERANCE = 1.5
"""Seconds between a labelled shot start and the counted one (plug reports, POST latency)."""


def _events(result: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in result["events"] if e["kind"] == kind]


def _ts(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _kills(run: E2ERun, kind: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, kill)
        for name in KILL_RIGS
        for kill in run.result(name)["kills"]
        if kind is None or kill["type"] == kind
    ]


# ---------------------------------------------------------------------------- the trace


@pytest.mark.e2e_scenarios("replay")
def test_replay_counts_the_labelled_shots(e2e_run: E2ERun) -> None:
    """Every labelled shot of the trace is counted once, at its time, and nothing else."""
    result = e2e_run.result("replay")
    replay = result["steps"]["replay"]
    shots = _events(result, "espresso_care_shot")
    labelled = replay["labelled"]
    assert len(labelled) == 3
    assert [e["data"]["total_shots"] for e in shots] == list(range(1, len(labelled) + 1))
    for event, (start, end) in zip(shots, labelled, strict=True):
        assert abs(_ts(event["data"]["start"]) - start) < START_TOLERANCE, (event, start)
        assert abs(event["data"]["duration_s"] - (end - start)) < 2 * START_TOLERANCE
    # The very shots the bare engine finds in the readings Home Assistant took: the process,
    # its state machine and the glue neither lose, add nor shift one.
    offline = replay["offline"]
    assert len(offline) == len(shots)
    for event, (start, _) in zip(shots, offline, strict=True):
        assert abs(_ts(event["data"]["start"]) - start) < 0.01
    after = result["steps"]["after_shots"]
    assert after["total_shots"] == "3"
    assert after["shots_today"] == "3"
    assert float(after["last_shot_duration"]) == shots[-1]["data"]["duration_s"]
    mean = statistics.fmean(e["data"]["duration_s"] for e in shots)
    assert float(after["average_shot_duration"]) == pytest.approx(mean, abs=0.06)


@pytest.mark.e2e_scenarios("replay")
def test_replay_maintenance_sensors_move(e2e_run: E2ERun) -> None:
    """Three shots make the backflush (every 3 shots) due; the counters since it move."""
    result = e2e_run.result("replay")
    before, after = result["steps"]["before"], result["steps"]["after_shots"]
    assert (before["shots_since_backflush"], after["shots_since_backflush"]) == ("0", "3")
    assert (before["shots_since_clean"], after["shots_since_clean"]) == ("0", "3")
    assert (before["backflush_due"], after["backflush_due"]) == ("off", "on")
    assert after["clean_due"] == "off"
    due = _events(result, "espresso_care_maintenance_due")
    assert [e["data"]["task"] for e in due] == ["backflush"]


@pytest.mark.e2e_scenarios("replay")
def test_clean_restart_keeps_everything(e2e_run: E2ERun) -> None:
    """Stopped the normal way and started again, Home Assistant shows the same counters."""
    steps = e2e_run.result("replay")["steps"]
    assert steps["stop"]["exit_code"] == 0
    assert steps["stop_again"]["exit_code"] == 0
    before, after = steps["after_shots"], steps["after_restart"]
    for key in (
        "total_shots",
        "shots_today",
        "last_shot_duration",
        "average_shot_duration",
        "shots_since_backflush",
        "backflush_last_done",
        "backflush_due",
        "relay",
    ):
        assert after[key] == before[key], key


# ---------------------------------------------------------------------------- backflush


@pytest.mark.e2e_scenarios("kill_event_0")
def test_automated_backflush_switches_the_relay_in_sequence(e2e_run: E2ERun) -> None:
    """espresso_care.start_backflush: on, off, on, off, on, off at 2 s each; done is recorded."""
    result = e2e_run.result("kill_event_0")
    steps = result["steps"]
    assert steps["backflush_action"]["ended"] == "espresso_care_backflush_finished"
    assert steps["backflush_action"]["ended_data"]["cycles_done"] == 3
    events = [e for e in result["events"] if e["start"] == 1]
    starts = [i for i, e in enumerate(events) if e["kind"] == "espresso_care_backflush_started"]
    # From the start of the routine to the start of the next one (the switch entity's).
    relay = [e for e in events[starts[0] : starts[1]] if e["kind"] == "relay"]
    assert [e["data"]["state"] for e in relay] == ["on", "off"] * 3
    on_times = [off["fired"] - on["fired"] for on, off in zip(relay[::2], relay[1::2], strict=True)]
    assert on_times == pytest.approx([2.0] * 3, abs=0.5)
    after = steps["after_backflush"]
    assert after["relay"] == "off"
    assert after["backflush_progress"] == "100"
    assert after["backflush_last_done"] > steps["before_backflush"]["backflush_last_done"]
    done = _events(result, "espresso_care_maintenance_done")
    assert [(e["data"]["task"], e["data"]["source"]) for e in done] == [
        ("backflush", "backflush_routine")
    ]


@pytest.mark.e2e_scenarios("kill_event_0")
def test_backflush_switch_entity_starts_and_stops_it(e2e_run: E2ERun) -> None:
    """switch.<machine>_backflush on starts the routine, off stops it: aborted, relay off."""
    steps = e2e_run.result("kill_event_0")["steps"]
    switch = steps["backflush_switch"]
    assert switch["relay_on"] == "on"
    assert switch["ended"] == "espresso_care_backflush_aborted"
    assert switch["ended_data"]["reason"] in ("user", "stopped")
    assert steps["after_switch"]["relay"] == "off"
    assert steps["after_switch"]["backflush"] == "off"


# ---------------------------------------------------------------------------- kills


@pytest.mark.e2e_scenarios(*KILL_RIGS)
def test_at_least_ten_kills(e2e_run: E2ERun, request: pytest.FixtureRequest) -> None:
    """The run killed Home Assistant at least ten times, of every kind (and says how it went)."""
    kills = _kills(e2e_run)
    kinds = {kill["type"] for _, kill in kills}
    assert kinds == {"after_event", "mid_shot", "backflush"}
    assert len(kills) >= 10
    lost = sum(
        int(k["announced"]) - int(k["restored"])
        for _, k in kills
        if k["type"] == "after_event" and k["announced"] is not None
    )
    after = [k for _, k in kills if k["type"] == "after_event" and k["announced"] is not None]
    backflush = [k for _, k in kills if k["type"] == "backflush"]
    request.config._e2e_summary = [  # type: ignore[attr-defined]
        f"{len(kills)} SIGKILLs: {len(after)} after a shot event "
        f"({', '.join(f'{k["since_fired_ms"]:.0f}' for k in after)} ms after it was fired), "
        f"{sum(k['type'] == 'mid_shot' for _, k in kills)} in the middle of a shot, "
        f"{len(backflush)} during a backflush",
        f"shots lost: {lost}; relay left on after a restart: "
        f"{sum(k['relay_after_restart'] != 'off' for k in backflush)} of {len(backflush)}",
    ]


@pytest.mark.e2e_scenarios(*KILL_RIGS)
def test_kill_after_shot_event_loses_no_shot(e2e_run: E2ERun) -> None:
    """Killed 0-50 ms after espresso_care_shot, the restarted instance still has that shot."""
    kills = [k for _, k in _kills(e2e_run, "after_event") if k["announced"] is not None]
    assert len(kills) >= 6
    assert [int(k["restored"]) for k in kills] == [int(k["announced"]) for k in kills], kills


@pytest.mark.e2e_scenarios(*KILL_RIGS)
def test_no_shot_is_ever_doubled(e2e_run: E2ERun) -> None:
    """No restart shows more shots than were announced; every shot event adds exactly one."""
    for name in KILL_RIGS:
        result = e2e_run.result(name)
        for kill in result["kills"]:
            announced = kill.get("announced")
            known = int(announced if announced is not None else kill["total_before"])
            assert int(kill["restored"]) <= known, (name, kill)
        # Within one start of Home Assistant, the totals of the shot events count up by one,
        # from what that start restored.
        restored = [0] + [int(r["total_shots"]) for r in result["restarts"]]
        for start, base in enumerate(restored, start=1):
            totals = [
                e["data"]["total_shots"]
                for e in _events(result, "espresso_care_shot")
                if e["start"] == start
            ]
            assert totals == list(range(base + 1, base + 1 + len(totals))), (name, start)


@pytest.mark.e2e_scenarios(*KILL_RIGS)
def test_mid_shot_kill_loses_nothing_and_counts_the_rest_once_at_most(e2e_run: E2ERun) -> None:
    """Killed inside a shot and back while it runs: nothing lost, the shot counted at most once."""
    kills = [k for _, k in _kills(e2e_run, "mid_shot")]
    assert kills
    for kill in kills:
        assert int(kill["total_before"]) >= 1  # the shot before it was counted
        assert kill["restored"] == kill["total_before"]
        assert kill["tail_counted"] in (None, int(kill["total_before"]) + 1)


@pytest.mark.e2e_scenarios(*(f"kill_event_{n}" for n in range(KILL_EVENT_RIGS)))
def test_first_shot_after_a_restart_is_counted(e2e_run: E2ERun) -> None:
    """The first shot after a restart (after the kill during a backflush) is counted.

    (A relay that a restart left on is switched off by hand first: the relay test's failure.)
    """
    for name in (f"kill_event_{n}" for n in range(KILL_EVENT_RIGS)):
        kills = e2e_run.result(name)["kills"]
        shot = next(k for k in kills if k.get("label") == "shot after restart")
        assert shot["announced"] is not None, (name, shot)


@pytest.mark.e2e_scenarios("kill_midshot")
def test_shot_soon_after_a_restart_is_counted(e2e_run: E2ERun) -> None:
    """A shot pulled 20 s after a restart is counted: the detector resumes with what it had
    learned (the heater step it read the readings by, saved with the shot before the kill)."""
    kills = e2e_run.result("kill_midshot")["kills"]
    shot = next(k for k in kills if k.get("label") == LATE_LABEL)
    assert shot["announced"] is not None, shot


@pytest.mark.e2e_scenarios(*KILL_RIGS)
def test_backflush_kill_leaves_the_relay_off(e2e_run: E2ERun) -> None:
    """Killed while the relay runs the pump: after the restart the relay is turned off."""
    kills = [k for _, k in _kills(e2e_run, "backflush")]
    assert len(kills) >= 4
    for kill in kills:
        assert kill["relay_at_kill"] == "on"
        assert kill["relay_after_restart"] == "off", kill
        assert kill["off_pending"] is False


@pytest.mark.e2e_scenarios(*KILL_RIGS)
def test_backflush_kill_is_recorded_as_aborted_by_restart(e2e_run: E2ERun) -> None:
    """The interrupted routine ends as aborted with reason restart (diagnostics)."""
    kills = [k for _, k in _kills(e2e_run, "backflush")]
    assert kills
    for kill in kills:
        assert (kill["run_state"], kill["run_end_reason"]) == ("aborted", "restart")


@pytest.mark.e2e_scenarios(*KILL_RIGS)
def test_backflush_kill_abort_reaches_automations(e2e_run: E2ERun) -> None:
    """An automation on espresso_care_backflush_aborted sees the restart abort.

    (A YAML automation attaches its triggers once Home Assistant has started; the abort is
    fired after every listener of that event ran, whichever integration was set up first.)
    """
    kills = [k for _, k in _kills(e2e_run, "backflush")]
    assert kills
    for kill in kills:
        assert kill["automation_saw_abort"] == "restart", kill


@pytest.mark.e2e_scenarios("replay", *KILL_RIGS)
def test_home_assistant_reports_no_deprecated_usage(e2e_run: E2ERun) -> None:
    """A real Home Assistant logs no deprecated call of ours, in any run of any scenario
    (stdout.log keeps the output of every start, kills included)."""
    logs = []
    for name in ("replay", *KILL_RIGS):
        e2e_run.result(name)
        logs.append(e2e_run.out / name / "stdout.log")
    texts = [log.read_text("utf-8", errors="replace") for log in logs]
    # the log has Home Assistant's warnings: its one about every custom integration is there
    assert all("custom integration espresso_care" in text for text in texts)
    reports = [
        line for text in texts for line in text.splitlines() if DEPRECATION_REPORT.search(line)
    ]
    assert reports == []
