"""Replay a Home Assistant history CSV through the shot detector.

Usage::

    .venv/bin/python scripts/replay.py TRACE.csv [--machine-type TYPE] [--unit W|kW]
        [--shot-min-seconds N] [--shot-max-seconds N] [--json]

Without ``--machine-type`` / ``--unit`` the values of ``TRACE.labels.json`` are used when it
exists (else single_boiler / W). ``--json`` prints one JSON object
``{"shots": [{"start", "end", "duration_s"}], "backflushes": [{"start", "end"}]}``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import sys

sys.path.insert(0, str(Path(__file__).resolve().parent))

from traces import MACHINE_TYPES, Replay, format_time, load_samples, load_trace, replay


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trace", type=Path, help="HA history CSV (entity_id,state,last_changed)")
    parser.add_argument("--machine-type", choices=MACHINE_TYPES)
    parser.add_argument("--unit", choices=("W", "kW", "mW"))
    parser.add_argument("--shot-min-seconds", type=float)
    parser.add_argument("--shot-max-seconds", type=float)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser.parse_args(argv)


def result_json(found: Replay) -> dict[str, list[dict[str, str | float]]]:
    """Convert a replay result to a JSON-able object."""
    return {
        "shots": [
            {"start": format_time(a), "end": format_time(b), "duration_s": round(b - a, 3)}
            for a, b in found.shots
        ],
        "backflushes": [
            {"start": format_time(a), "end": format_time(b)} for a, b in found.backflushes
        ],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the replay and print the result."""
    args = parse_args(argv)
    if not args.trace.is_file():
        print(f"no such file: {args.trace}", file=sys.stderr)
        return 2
    trace = load_trace(args.trace)
    machine_type = args.machine_type or (trace.machine_type if trace.labels else "single_boiler")
    unit = args.unit or trace.unit
    overrides: dict[str, float] = {}
    if args.shot_min_seconds is not None:
        overrides["shot_min_seconds"] = args.shot_min_seconds
    if args.shot_max_seconds is not None:
        overrides["shot_max_seconds"] = args.shot_max_seconds
    try:
        found = replay(load_samples(args.trace, unit), machine_type, **overrides)
    except ValueError as err:
        print(f"invalid settings: {err}", file=sys.stderr)
        return 2
    result = result_json(found)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{args.trace.name}: {found.samples} samples, machine type {machine_type}, unit {unit}")
    print(f"{'#':>3}  {'start':<24} {'end':<24} {'duration':>9}")
    for i, shot in enumerate(result["shots"], 1):
        print(f"{i:>3}  {shot['start']:<24} {shot['end']:<24} {shot['duration_s']:>8.1f}s")
    print(f"{len(found.shots)} shot(s)")
    for flush in result["backflushes"]:
        print(f"backflush {flush['start']} - {flush['end']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
