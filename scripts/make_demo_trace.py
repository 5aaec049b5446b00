"""Cut the demo's "espresso morning" trace out of a synthetic trace in ../shared/traces.

The demo (``make demo``) replays ``demo/traces/espresso_morning.csv`` through a simulated smart
plug. It is the morning session of ``synthetic/silvia_pid__shelly_gen2__s1014``: a single-boiler
machine with PID and a vibration pump behind a Shelly Gen2 plug, switched on at 08:42:56, heat-up,
flushes, three shots, steaming after the first, a manual backflush, switched off at
10:16:08 (UTC, 2026-03-16). The labels are cut to the same window. Run from the repository root:

    python3 scripts/make_demo_trace.py [TRACES_DIR]
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
import sys

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "synthetic/silvia_pid__shelly_gen2__s1014"
START = "2026-03-16T08:38:00"
END = "2026-03-16T10:22:00"
OUT = ROOT / "demo" / "traces" / "espresso_morning"


def main() -> None:
    """Write espresso_morning.csv and espresso_morning.labels.json."""
    traces = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "traces"
    src = traces / SOURCE
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with (
        src.with_suffix(".csv").open(newline="", encoding="utf-8") as fin,
        OUT.with_suffix(".csv").open("w", newline="", encoding="utf-8") as fout,
    ):
        reader = csv.reader(fin)
        writer = csv.writer(fout, lineterminator="\n")
        writer.writerow(next(reader))
        rows = [row for row in reader if START <= row[2] < END]
        writer.writerows(rows)
    labels = json.loads(src.with_suffix(".labels.json").read_text(encoding="utf-8"))
    labels["source"] = f"{SOURCE} cut to [{START}Z, {END}Z)"
    labels["shots"] = [s for s in labels["shots"] if START <= s[0] < END]
    labels["events"] = [e for e in labels["events"] if START <= e["start"] < END]
    OUT.with_suffix(".labels.json").write_text(
        json.dumps(labels, indent=2) + "\n", encoding="utf-8"
    )
    print(
        f"{len(rows)} samples, {len(labels['shots'])} shots, {len(labels['events'])} other events"
    )


if __name__ == "__main__":
    main()
