"""The end-to-end run behind the e2e tests: one driver process, started once per session.

The driver (tests/e2e/driver.py) runs the scenarios the selected tests ask for (marker
``e2e_scenarios``) at the same time, each against its own Home Assistant process, and writes
one JSON file per scenario; a test waits for its scenario and asserts on what was measured.
The driver starts as soon as the tests are collected and the e2e tests run last: it plays
its traces in real time (minutes of mostly waiting), so it runs while the other tests do.
Every process is killed at the end of the session, also when a test failed: the driver's
process group, and every Home Assistant it started (their process ids are in ``pids/``).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESULT_TIMEOUT = 600.0


class E2ERun:
    """The driver process and the directory it writes its results to."""

    def __init__(self, out: Path, proc: subprocess.Popen[bytes]) -> None:
        """Follow a started driver."""
        self.out = out
        self.proc = proc
        self._cache: dict[str, dict[str, Any]] = {}

    def result(self, name: str) -> dict[str, Any]:
        """What scenario ``name`` measured; fails the test when it broke."""
        if name in self._cache:
            return self._cache[name]
        done, error = self.out / f"{name}.json", self.out / f"{name}.error"
        deadline = time.monotonic() + RESULT_TIMEOUT
        while not done.exists() and not error.exists():
            if self.proc.poll() is not None and not done.exists() and not error.exists():
                pytest.fail(f"the e2e driver exited ({self.proc.returncode}): {self.log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"scenario {name} did not end within {RESULT_TIMEOUT} s")
            time.sleep(0.5)
        if error.exists():
            log = self.out / name / "home-assistant.log"
            pytest.fail(
                f"scenario {name} broke:\n{error.read_text(encoding='utf-8')}\n"
                f"Home Assistant log: {log}"
            )
        self._cache[name] = json.loads(done.read_text(encoding="utf-8"))
        return self._cache[name]

    def log_tail(self) -> str:
        """The end of the driver's output."""
        path = self.out / "driver.log"
        return path.read_text(encoding="utf-8")[-3000:] if path.exists() else ""

    def kill_everything(self) -> None:
        """SIGKILL the driver's process group and every Home Assistant it started."""
        pids = [self.proc.pid] + [
            int(p.name) for p in (self.out / "pids").glob("*") if p.name.isdigit()
        ]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        self.proc.wait(timeout=30)


_RUN = pytest.StashKey[E2ERun]()


def _wanted_scenarios(items: list[pytest.Item]) -> list[str]:
    names: list[str] = []
    for item in items:
        for marker in item.iter_markers("e2e_scenarios"):
            names.extend(name for name in marker.args if name not in names)
    return names


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the driver with the scenarios of the selected tests."""
    names = _wanted_scenarios(session.items)
    if not names or session.config.option.collectonly:
        return
    out = Path(tempfile.mkdtemp(prefix="espresso-care-e2e-"))  # a new directory per run
    (out / "pids").mkdir()
    with (out / "driver.log").open("wb") as log:
        proc = subprocess.Popen(  # noqa: S603 - our own driver, from the test venv
            [sys.executable, "-m", "tests.e2e.driver", "--out", str(out), *names],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    session.config.stash[_RUN] = E2ERun(out, proc)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Kill the driver and every Home Assistant it started, also when a test failed.

    Their directory (configurations, logs, results) stays when a test failed.
    """
    run = session.config.stash.get(_RUN, None)
    if run is not None:
        run.kill_everything()
        if exitstatus == 0:
            shutil.rmtree(run.out, ignore_errors=True)


@pytest.fixture(scope="session")
def e2e_run(request: pytest.FixtureRequest) -> E2ERun:
    """The driver started with the scenarios of the selected tests (see the module docstring)."""
    run = request.config.stash.get(_RUN, None)
    if run is None:
        pytest.fail("the e2e driver was not started: the test lacks an e2e_scenarios marker")
    return run


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the kill tally of the run (also when the tests pass), for the record."""
    summary = getattr(terminalreporter.config, "_e2e_summary", None)
    if summary:
        terminalreporter.write_sep("-", "e2e kills")
        for line in summary:
            terminalreporter.write_line(line)
