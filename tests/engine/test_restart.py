"""A restarted detector: what it learned survives (export_model / restore_model), shots still count.

A restart (Home Assistant restarted, the entry reloaded, its options changed) creates a new
detector while the machine may be on. Restored with the model the old one exported, it must
find the same shots as a detector that ran on; a cold one (no model) nearly as many.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from custom_components.espresso_care.engine.detector import MODEL_VERSION, ShotDetector
from custom_components.espresso_care.engine.events import (
    MachineState,
    ShotFinished,
    ShotStarted,
    StateChanged,
    saves_model,
)
from custom_components.espresso_care.engine.profiles import settings_for
from scripts.traces import find_traces, load_trace, replay_with_restarts, restart_points
from tests.engine.signals import detector, run, shots

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "traces"
SHARED = ROOT.parent / "shared" / "traces"


def _fed_until(name: str, until: float) -> tuple[ShotDetector, list[tuple[float, float | None]]]:
    trace = load_trace(FIXTURES / f"{name}.csv")
    det = ShotDetector(settings_for(trace.machine_type))
    samples = trace.samples()
    run(det, [s for s in samples if s[0] < until], tail=0.0)
    return det, [s for s in samples if s[0] >= until]


def test_model_is_json_and_round_trips() -> None:
    trace = load_trace(FIXTURES / "nespresso_shelly_plus_plug_s.csv")
    [first, *_] = restart_points(trace.shots)
    det, _ = _fed_until(trace.name, first)
    model = det.export_model()
    assert model["version"] == MODEL_VERSION
    assert model["machine_on"] is True
    assert model["heater_watts"] == pytest.approx(1223.5, abs=1.0)
    again = json.loads(json.dumps(model))
    fresh = detector("capsule")
    assert fresh.restore_model(again)
    assert fresh.export_model() == model
    assert fresh.state is MachineState.READY


def test_cold_detector_exports_an_empty_model() -> None:
    model = detector().export_model()
    levels = model.pop("levels")
    assert model == {
        "version": MODEL_VERSION,
        "machine_on": False,
        "pump_watts": None,
        "pump_runs": 0,
        "heater_watts": None,
        "heater_step_watts": None,
        "heater_levels": False,
    }
    assert not any(levels.pop("step_bins"))
    assert not any(levels.pop("level_bins"))
    assert levels == {
        "step_new": 0,
        "step_every": 16,
        "step": 0.0,
        "step_ok": True,
        "step_seen_s": 0.0,
        "step_share": 0.0,
        "step_half": 0.0,
        "explains": False,
        "share": 0.0,
        "seen_s": 0.0,
    }
    assert detector().restore_model({**model, "levels": levels | _empty_bins()})


def _empty_bins() -> dict[str, list[int]]:
    bins = detector().export_model()["levels"]["step_bins"]
    return {"step_bins": [0] * len(bins), "level_bins": [0] * len(bins)}


def test_model_of_an_earlier_version_still_restores() -> None:
    # saved before the model carried the levels' judgement: the confirmed step and whether
    # levels explained the readings
    det = detector()
    assert det.restore_model(
        {**_good(), "heater_step_watts": 137.0, "heater_levels": True, "pump_runs": 3}
    )
    model = det.export_model()
    assert (model["heater_step_watts"], model["heater_levels"]) == (137.0, True)
    assert det.state is MachineState.READY


def _good() -> dict[str, Any]:
    return {"version": MODEL_VERSION, "machine_on": True, "pump_watts": 52.0, "heater_watts": 1300}


@pytest.mark.parametrize(
    "change",
    [
        {"version": MODEL_VERSION + 1},
        {"version": str(MODEL_VERSION)},
        {"version": True},
        {"version": None},
        {"machine_on": "yes"},
        {"machine_on": 1},
        {"heater_watts": math.nan},
        {"heater_watts": math.inf},
        {"heater_watts": -5.0},
        {"heater_watts": 1e9},
        {"heater_watts": "1300"},
        {"heater_watts": True},
        {"pump_watts": 0.0},
        {"pump_watts": 5000.0},
        {"pump_watts": [52.0]},
        {"pump_runs": -1},
        {"pump_runs": 2.5},
        {"heater_step_watts": math.nan},
        {"heater_levels": "no"},
    ],
)
def test_restore_rejects_a_bad_model(change: dict[str, Any]) -> None:
    det = detector()
    before = det.export_model()
    assert not det.restore_model({**_good(), **change})
    assert det.export_model() == before
    assert det.state is MachineState.OFF


def _judged() -> dict[str, Any]:
    """The levels part of a model whose step and judgement were learned."""
    levels: dict[str, Any] = detector().export_model()["levels"]
    bins = [0] * len(levels["step_bins"])
    bins[38] = 40
    return levels | {
        "step_bins": bins,
        "level_bins": bins,
        "step": 137.0,
        "step_seen_s": 45.0,
        "step_share": 0.9,
        "explains": True,
        "share": 0.95,
        "seen_s": 200.0,
    }


@pytest.mark.parametrize(
    "change",
    [
        {"step": -1.0},
        {"step": 10.0},
        {"step": 5000.0},
        {"step": math.nan},
        {"step": "137"},
        {"step": None},
        {"step_ok": 1},
        {"explains": None},
        {"step_seen_s": -1.0},
        {"step_seen_s": 1e9},
        {"seen_s": math.inf},
        {"step_share": 1.5},
        {"share": -0.1},
        {"step_half": True},
        {"step_new": 2.5},
        {"step_new": -1},
        {"step_every": 0},
        {"step_every": 10**9},
        {"step_bins": [1, 2, 3]},
        {"level_bins": "bins"},
        {"step_bins": [-1] * 171},
        {"level_bins": [True] * 171},
        {"step_bins": None},
    ],
)
def test_restore_rejects_bad_levels(change: dict[str, Any]) -> None:
    det = detector()
    before = det.export_model()
    assert det.restore_model({**_good(), "levels": _judged()})  # the good one restores
    det = detector()
    assert not det.restore_model({**_good(), "levels": {**_judged(), **change}})
    assert det.export_model() == before
    assert det.state is MachineState.OFF


@pytest.mark.parametrize("levels", [[], "levels", 3])
def test_restore_rejects_levels_that_are_no_mapping(levels: Any) -> None:
    det = detector()
    assert not det.restore_model({**_good(), "levels": levels})
    assert det.state is MachineState.OFF


def test_levels_resume_as_they_were() -> None:
    det = detector()
    assert det.restore_model({**_good(), "levels": _judged()})
    assert det.export_model()["levels"] == _judged()
    assert det.snapshot()["heater_step_watts"] == 137.0


def _judgement(det: ShotDetector) -> tuple[object, object]:
    snapshot = det.snapshot()
    return snapshot["heater_step_watts"], snapshot["heater_levels"]


@pytest.mark.parametrize("name", ["silvia_pid__shelly_gen2__s1014", "hx_vibe__shelly_gen2__s1028"])
def test_restored_levels_judge_the_readings_as_the_running_detector(name: str) -> None:
    """Restored at every restart moment of a trace, the heater step it uses (confirmed or not
    yet) and whether it reads the readings on heater levels follow the running detector's,
    reading by reading, until the next restart moment."""
    trace = load_trace(FIXTURES / f"{name}.csv")
    samples = trace.samples()
    points = restart_points(trace.shots)
    running = ShotDetector(settings_for(trace.machine_type))
    restored: ShotDetector | None = None
    compared = 0
    for ts, watts in samples:
        if points and ts >= points[0]:
            points.pop(0)
            restored = ShotDetector(settings_for(trace.machine_type))
            assert restored.restore_model(json.loads(json.dumps(running.export_model())))
        running.feed(ts, watts)
        if restored is not None:
            restored.feed(ts, watts)
            assert _judgement(restored) == _judgement(running), ts
            compared += 1
    assert compared > 1000


@pytest.mark.parametrize("data", [None, [], "model", 3, {}, {"version": MODEL_VERSION}])
def test_restore_rejects_what_is_no_model(data: Any) -> None:
    det = detector()
    assert not det.restore_model(data)
    assert det.state is MachineState.OFF


def test_first_shot_after_a_restart_counts() -> None:
    # the capsule machine of the real trace: every brew reads heater + pump (~1270 W), its
    # heater alone (~1223 W) shows only in the power-on heat-up, long before the restart
    trace = load_trace(FIXTURES / "nespresso_shelly_plus_plug_s.csv")
    points = restart_points(trace.shots)
    det, rest = _fed_until(trace.name, points[0])
    fresh = detector("capsule")
    assert fresh.restore_model(det.export_model())
    found = shots(run(fresh, rest, tick_every=5.0))
    later = [s for s in trace.shots if s[0] >= points[0]]
    assert found
    assert found[0].start == pytest.approx(later[0][0], abs=2.0)


def _restart_scores(
    root: Path, *, keep_model: bool, saved_only: bool = False
) -> tuple[int, int, int]:
    expected = found = extra = 0
    for trace in find_traces(root):
        result = replay_with_restarts(
            trace.samples(),
            trace.shots,
            trace.machine_type,
            keep_model=keep_model,
            saved_only=saved_only,
        )
        expected += result.expected
        found += result.found
        extra += result.extra
    return expected, found, extra


@pytest.mark.parametrize("saved_only", [False, True])
def test_restored_detector_finds_the_same_shots_in_the_fixtures(saved_only: bool) -> None:
    """Restored from the model of the restart moment (a reload) or from the one saved last
    (after a shot, the machine switched off or its heat-up over: a crash), a restarted
    detector finds every later shot the one that ran on found, and no other."""
    expected, found, extra = _restart_scores(FIXTURES, keep_model=True, saved_only=saved_only)
    assert expected >= 15
    assert found == expected
    assert extra == 0


def test_model_is_saved_after_a_shot_the_machine_off_and_the_heat_up() -> None:
    shot = ShotFinished(start=10.0, end=35.0)
    assert saves_model(shot)
    off = StateChanged(at=1.0, state=MachineState.OFF, previous=MachineState.READY)
    heated = StateChanged(at=1.0, state=MachineState.READY, previous=MachineState.HEATING)
    brewing = StateChanged(at=1.0, state=MachineState.BREWING, previous=MachineState.HEATING)
    assert saves_model(off)
    assert saves_model(heated)
    assert saves_model(brewing)
    assert not saves_model(ShotStarted(start=10.0))
    assert not saves_model(
        StateChanged(at=1.0, state=MachineState.BREWING, previous=MachineState.READY)
    )
    assert not saves_model(
        StateChanged(at=1.0, state=MachineState.HEATING, previous=MachineState.OFF)
    )


def test_cold_detector_finds_most_shots_in_the_fixtures() -> None:
    expected, found, extra = _restart_scores(FIXTURES, keep_model=False)
    # without a model the first shot after a restart may be missed (a capsule machine's brew
    # right after the restart reads like its heat-up)
    assert found >= 0.7 * expected
    assert extra <= 3


@pytest.mark.skipif(
    not any(SHARED.glob("*/*.labels.json")), reason="no shared traces (../shared/traces)"
)
@pytest.mark.parametrize("keep_model", [True, False])
def test_restarts_on_every_shared_trace(keep_model: bool) -> None:
    expected, found, _ = _restart_scores(SHARED, keep_model=keep_model)
    assert expected >= 100
    # measured: restored 169 of 171 (+3 extra), cold 153 of 171 (+20); see make bench (the
    # restored one found 167 before the model carried how the heater levels judge readings)
    assert found >= (0.98 if keep_model else 0.65) * expected
