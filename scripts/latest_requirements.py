"""Print the test requirements for the Home Assistant this Python has (used by test_latest.sh).

The suite sets up some of Home Assistant's own integrations (conversation for the voice tests,
mobile_app for the blueprint tests, and what they import: camera, tts, assist_pipeline). The
harness installs none of their requirements, and their versions change between releases:
requirements_test.txt pins those of Home Assistant 2026.2, while 2026.10 wants other versions
and more packages (conversation's gazetteer-matcher). So this reads, from the installed Home
Assistant, the requirements its manifests declare for those integrations and everything they
depend on, then the rest of requirements_test.txt. A package that the harness or Home
Assistant's package_constraints.txt pins is named without its version (their pin decides,
through the constraints file written beside it); the others keep their manifest's or the
project's pin.

    usage: python latest_requirements.py REQUIREMENTS_TXT OUT_REQUIREMENTS OUT_CONSTRAINTS
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path
import re
import sys

import homeassistant

# Home Assistant's own integrations that the tests set up or import.
INTEGRATIONS = ("conversation", "mobile_app", "camera", "tts", "assist_pipeline")
# Never reinstalled here: the harness brought them.
HARNESS = {"pytest-homeassistant-custom-component", "homeassistant"}


def _key(requirement: str) -> str:
    name = re.split(r"[\s=<>!~;\[]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def _integration_requirements(components: Path) -> list[str]:
    """Return the ``requirements`` of INTEGRATIONS and of their dependencies, transitively."""
    seen: set[str] = set()
    todo = list(INTEGRATIONS)
    found: list[str] = []
    while todo:
        domain = todo.pop()
        if domain in seen:
            continue
        seen.add(domain)
        manifest = json.loads((components / domain / "manifest.json").read_text("utf-8"))
        found += manifest.get("requirements", [])
        todo += manifest.get("dependencies", [])
    return found


def main(requirements_txt: str, out_requirements: str, out_constraints: str) -> None:
    """Write the requirements and the constraints files."""
    package = Path(homeassistant.__file__).parent
    pins = [
        *(importlib.metadata.requires("pytest-homeassistant-custom-component") or []),
        *(
            line
            for line in (package / "package_constraints.txt").read_text("utf-8").splitlines()
            if "==" in line and not line.lstrip().startswith("#")
        ),
    ]
    pinned = {_key(line) for line in pins}
    wanted: dict[str, str] = {}
    for line in _integration_requirements(package / "components"):
        wanted[_key(line)] = _key(line) if _key(line) in pinned else line
    for raw in Path(requirements_txt).read_text("utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and _key(line) not in HARNESS and _key(line) not in wanted:
            wanted[_key(line)] = _key(line) if _key(line) in pinned else line
    constraints = [line for line in pins if "==" in line and ";" not in line]
    Path(out_requirements).write_text("\n".join(wanted.values()) + "\n", "utf-8")
    Path(out_constraints).write_text("\n".join(dict.fromkeys(constraints)) + "\n", "utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:4])
