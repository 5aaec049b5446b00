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
from custom_components.espresso_care.engine.events import MachineState
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
    assert model == {
        "version": MODEL_VERSION,
        "machine_on": False,
        "pump_watts": None,
        "pump_runs": 0,
        "heater_watts": None,
        "heater_step_watts": None,
        "heater_levels": False,
    }
    assert detector().restore_model(model)


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


def _restart_scores(root: Path, *, keep_model: bool) -> tuple[int, int, int]:
    expected = found = extra = 0
    for trace in find_traces(root):
        result = replay_with_restarts(
            trace.samples(), trace.shots, trace.machine_type, keep_model=keep_model
        )
        expected += result.expected
        found += result.found
        extra += result.extra
    return expected, found, extra


def test_restored_detector_finds_the_same_shots_in_the_fixtures() -> None:
    expected, found, extra = _restart_scores(FIXTURES, keep_model=True)
    assert expected >= 15
    # one shot of the Silvia trace comes the next evening, after a power-off and heat-up the
    # restarted detector reads differently from the one that ran on
    assert found >= expected - 1
    assert extra == 0


def test_cold_detector_finds_most_shots_in_the_fixtures() -> None:
    expected, found, extra = _restart_scores(FIXTURES, keep_model=False)
    # without a model the first shot after a restart may be missed (a capsule machine's brew
    # right after the restart reads like its heat-up)
    assert found >= 0.7 * expected
    assert extra <= 3


@pytest.mark.skipif(not SHARED.is_dir(), reason="no shared traces (../shared/traces)")
@pytest.mark.parametrize("keep_model", [True, False])
def test_restarts_on_every_shared_trace(keep_model: bool) -> None:
    expected, found, _ = _restart_scores(SHARED, keep_model=keep_model)
    assert expected >= 100
    # measured: restored 149 of 164 (+23 extra), cold 118 of 164 (+53); see make bench
    assert found >= (0.85 if keep_model else 0.65) * expected
