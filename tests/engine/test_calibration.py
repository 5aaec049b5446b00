"""History analysis (engine/calibration.py) on recorded traces and small generated histories."""

from __future__ import annotations

import bisect
from pathlib import Path

import pytest

from custom_components.espresso_care.engine.calibration import (
    SUMMARY_TEXTS,
    Analysis,
    HistoryAnalyzer,
    SummaryPart,
    render_summary,
    utc_day,
)
from custom_components.espresso_care.engine.profiles import settings_for
from scripts.traces import load_trace, score
from tests.engine.signals import T0, on_change, pid_idle, sample

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "traces"


def analyse(
    samples: list[tuple[float, float | None]],
    machine_type: str = "single_boiler",
    unit: str | None = "W",
    **kwargs: object,
) -> Analysis:
    analyzer = HistoryAnalyzer(settings_for(machine_type), **kwargs)  # type: ignore[arg-type]
    for ts, watts in samples:
        analyzer.feed(ts, watts, unit)
    return analyzer.finish()


def true_pump_watts(name: str) -> float:
    """The pump's draw in a trace: the pump-alone reading held longest in the labelled shots.

    Taken from the labels (where the shots are), not from the analysis: every reading inside a
    labelled shot between 30 and 100 W is the pump with the heater off, weighted by how long
    it held (a plug's averages straddling the pump's start and stop last a second).
    """
    trace = load_trace(FIXTURES / f"{name}.csv")
    samples = [(ts, w) for ts, w in trace.samples() if w is not None]
    times = [ts for ts, _ in samples]
    held: list[tuple[float, float]] = []
    for start, end in trace.shots:
        i = bisect.bisect_left(times, start)
        while i < len(samples) and samples[i][0] < end:
            ts, watts = samples[i]
            following = samples[i + 1][0] if i + 1 < len(samples) else end
            if 30.0 <= watts <= 100.0:
                held.append((watts, min(following, end) - ts))
            i += 1
    held.sort()
    half = sum(weight for _, weight in held) / 2.0
    for watts, weight in held:
        half -= weight
        if half <= 0:
            return watts
    raise AssertionError("no pump-alone reading in the labelled shots")


def trace_analysis(name: str, machine_type: str | None = None) -> tuple[Analysis, list]:
    trace = load_trace(FIXTURES / f"{name}.csv")
    result = analyse(trace.samples(), machine_type or trace.machine_type, trace.unit)
    return result, trace.shots


@pytest.mark.parametrize("name", ["silvia_pid__shelly_gen2__s1014", "capsule__shelly_gen2__s1056"])
def test_labelled_shots_are_found(name: str) -> None:
    result, labelled = trace_analysis(name)
    found = [(s["start"], s["end"]) for s in result.as_dict()["shots"]]
    assert score(found, labelled).f1 == 1.0
    assert result.main.shot_count == len(labelled)
    assert sum(result.main.per_day.values()) == len(labelled)
    assert set(result.main.per_day) == {utc_day(start) for start, _ in labelled}
    assert not result.suggested
    assert f"{len(labelled)} shots found" in result.summary


@pytest.mark.parametrize("name", ["silvia_pid__shelly_gen2__s1014", "hx_vibe__shelly_gen2__s1028"])
def test_pump_draw_within_ten_percent_of_the_truth(name: str) -> None:
    truth = true_pump_watts(name)
    result, _ = trace_analysis(name)
    learned = result.learned["pump_watts"]
    assert learned is not None
    assert abs(learned - truth) <= 0.1 * truth, (learned, truth)
    assert result.learned["pump_kind"] == "vibration"
    assert 1000 <= result.learned["heater_watts"] <= 1600


def test_backflush_in_a_trace() -> None:
    result, _ = trace_analysis("silvia_pid__shelly_gen2__s1014")
    [backflush] = result.as_dict()["backflushes"]
    assert backflush["pulses"] >= 4
    assert result.main.backflush_count == 1


def test_machine_type_that_fits_is_suggested_with_a_reason() -> None:
    """A PID single boiler configured as a capsule machine: most shots go uncounted."""
    result, labelled = trace_analysis("silvia_pid__shelly_gen2__s1014", "capsule")
    assert result.main.shot_count < len(labelled)
    suggestion = result.suggested["machine_type"]
    assert suggestion.value == "single_boiler"
    assert "single_boiler 4" in suggestion.reason.text
    assert result.profiles["single_boiler"].shot_count == len(labelled)
    # the learned figures come from the profile that fits
    assert result.learned["from_profile"] == "single_boiler"


def test_configured_type_kept_when_it_fits() -> None:
    result, _ = trace_analysis("hx_vibe__shelly_gen2__s1028")
    assert "machine_type" not in result.suggested
    assert result.profiles["dual_boiler"].shot_count == 0


def shots_every_hour(durations: list[float], dt: float = 1.0) -> list[tuple[float, float | None]]:
    """A warm PID single boiler pulling one shot of each duration per hour."""
    pump = [(600.0 + 3600.0 * i, 600.0 + 3600.0 * i + d) for i, d in enumerate(durations)]
    return sample(3600.0 * len(durations), heater=pid_idle(), pump=pump, dt=dt)


def test_shot_limits_from_the_usual_shot_length() -> None:
    durations = [24.0, 26.0, 25.0, 27.0, 23.0, 25.0, 26.0, 24.0, 25.0, 28.0]
    result = analyse(shots_every_hour(durations))
    assert result.main.shot_count == len(durations)
    # every shot is far below the default 60 s: hot water of 40 s+ need not count
    shot_max = result.suggested["shot_max_seconds"]
    assert 28.0 < float(shot_max.value) <= 40.0
    assert "10 shots found lasted 23-28 s" in shot_max.reason.text
    # every shot is far above the 12 s limit too: a higher one takes fewer refills for shots
    shot_min = float(result.suggested["shot_min_seconds"].value)
    assert 12.0 < shot_min <= 23.0 - 3.0
    assert result.learned["shot_seconds_median"] == pytest.approx(25.0, abs=1.1)
    # the pump's 52 W on top of the 1.5 W standby
    assert result.learned["pump_watts"] == pytest.approx(53.5, abs=1.0)
    assert result.learned["heater_step_watts"] == pytest.approx(137.0, abs=2.0)


def test_shot_limit_raised_when_shots_come_close_to_it() -> None:
    durations = [34.0, 36.0, 37.0, 35.0, 38.0, 36.0, 37.0, 35.0]
    analyzer = HistoryAnalyzer(settings_for("single_boiler", shot_max_seconds=40.0))
    for ts, watts in shots_every_hour(durations):
        analyzer.feed(ts, watts)
    result = analyzer.finish()
    assert result.main.shot_count == len(durations)
    assert float(result.suggested["shot_max_seconds"].value) >= 42.0


def test_few_shots_give_no_limit_suggestion() -> None:
    result = analyse(shots_every_hour([25.0, 30.0, 26.0]))
    assert result.main.shot_count == 3
    assert not result.suggested


def test_polled_plug_too_slow() -> None:
    """A plug polled every 10 s (Tasmota TelePeriod): durations are known to 10 s."""
    durations = [25.0, 30.0, 28.0]
    samples = shots_every_hour(durations, dt=10.0)
    result = analyse(samples)
    plug = result.plug
    assert plug["reports_on_change"] is False
    assert plug["usual_report_interval_s"] == pytest.approx(10.0, abs=0.5)
    assert plug["resolution_s"] == pytest.approx(10.0, abs=0.6)
    warning = result.warnings["plug_too_slow"]
    assert warning.key == "plug_too_slow"
    assert warning.placeholders == {"seconds": "10"}
    assert "10 s" in warning.text
    assert warning.text not in result.summary  # the integration shows it translated
    assert warning.text in result.as_dict()["summary"]  # the action's answer keeps it
    assert result.as_dict()["warnings"] == {"plug_too_slow": warning.text}
    assert result.as_dict()["warning_placeholders"] == {"plug_too_slow": {"seconds": "10"}}


def test_summary_parts_read_as_one_paragraph() -> None:
    """Counted parts pick the singular for 1; per_day goes on the shots, suggestions last."""
    parts = [
        SummaryPart("shots", {"count": "1"}),
        SummaryPart("per_day", {"per_day": "1.0", "count": "1"}),
        SummaryPart("backflushes", {"count": "2"}),
        SummaryPart("heater", {"watts": "1200"}),
        SummaryPart("suggestions", {"count": "2"}),
    ]
    assert render_summary(parts, lambda part: part.text) == (
        "1 shot found (1.0 a day on the 1 day with shots); 2 backflush sessions; heater about "
        "1200 W. 2 settings could fit better: see the suggestions."
    )
    assert render_summary([SummaryPart("no_samples")], lambda part: part.text) == (
        "No recorded power readings in this period: nothing to learn from yet."
    )
    assert SummaryPart("shots", {"count": "0"}).text == "0 shots found"
    # every text key is a key, or a counted key's singular and plural
    for key in SUMMARY_TEXTS:
        base = key.removesuffix("_one").removesuffix("_other")
        counted = "{count}" in SUMMARY_TEXTS[key]
        assert (base != key) == counted, key
        if counted:
            assert {f"{base}_one", f"{base}_other"} <= set(SUMMARY_TEXTS), key


def test_plug_reporting_on_change() -> None:
    samples = on_change(shots_every_hour([25.0, 30.0, 28.0]))
    result = analyse(samples)
    assert result.plug["reports_on_change"] is True
    assert result.plug["resolution_s"] <= 1.0
    assert "plug_too_slow" not in result.warnings
    assert result.main.shot_count == 3


def test_empty_history() -> None:
    result = analyse([])
    data = result.as_dict()
    assert data["shots"] == []
    assert data["shot_count"] == 0
    assert data["per_day"] == {}
    assert data["plug"]["median_report_interval_s"] is None
    assert data["plug"]["unit"] is None
    assert data["learned"]["pump_watts"] is None
    assert data["suggested"] == {}
    assert "No recorded power readings" in data["summary"]


def test_unavailable_only_history() -> None:
    result = analyse([(T0 + i * 60.0, None) for i in range(100)])
    assert result.samples == 100
    assert result.unavailable == 100
    assert result.readings == 0
    assert result.main.shot_count == 0
    assert "unavailable or unknown in all 100 recorded states" in result.summary


def test_unavailable_gap_splits_a_shot() -> None:
    """A shot interrupted by unavailability is not counted (its length is unknown)."""
    samples = shots_every_hour([25.0, 25.0])
    gap_at = T0 + 3600.0 + 610.0
    samples = [(ts, None if gap_at <= ts < gap_at + 3 else w) for ts, w in samples]
    result = analyse(samples)
    assert result.main.shot_count == 1
    assert result.unavailable == 3


def test_units_seen_are_reported() -> None:
    samples = shots_every_hour([25.0])
    analyzer = HistoryAnalyzer(settings_for("single_boiler"))
    for i, (ts, watts) in enumerate(samples):
        analyzer.feed(ts, watts, "kW" if i < 100 else "W")
    plug = analyzer.finish().plug
    assert plug["unit"] == "W"
    assert plug["units"] == ["W", "kW"]


def test_results_are_bounded_and_counts_go_on() -> None:
    result = analyse(shots_every_hour([25.0] * 6), max_listed=2)
    assert result.main.shot_count == 6
    assert len(result.main.shots) == 2
    assert len(result.main.pump_estimates) <= 2


def test_samples_out_of_order_are_ignored() -> None:
    samples = shots_every_hour([25.0, 25.0])
    analyzer = HistoryAnalyzer(settings_for("single_boiler"))
    for ts, watts in samples:
        analyzer.feed(ts, watts)
        analyzer.feed(ts, 5000.0)  # the same timestamp again
        analyzer.feed(ts - 100.0, 5000.0)
    result = analyzer.finish()
    assert result.samples == len(samples)
    assert result.main.shot_count == 2


def test_local_days() -> None:
    samples = shots_every_hour([25.0, 25.0, 25.0])
    result = analyse(samples, day_of=lambda ts: "day-" + str(int((ts - T0) // 3600)))
    assert result.main.per_day == {"day-0": 1, "day-1": 1, "day-2": 1}


def test_shot_running_at_the_end_closes_at_finish() -> None:
    samples = sample(700.0, heater=pid_idle(), pump=[(640.0, 670.0)])
    analyzer = HistoryAnalyzer(settings_for("single_boiler"))
    for ts, watts in samples:
        analyzer.feed(ts, watts)
    assert analyzer.finish(now=samples[-1][0] + 60.0).main.shot_count == 1


def test_shots_before_the_counters_started() -> None:
    samples = shots_every_hour([25.0, 25.0, 25.0])
    result = analyse(
        samples,
        day_of=lambda ts: "day-" + str(int((ts - T0) // 3600)),
        counted_from=T0 + 3600.0 + 700.0,
    )
    assert result.main.per_day_before == {"day-0": 1, "day-1": 1}
    assert result.as_dict()["per_day_before_counting"] == {"day-0": 1, "day-1": 1}
