"""The engine must not import Home Assistant (it runs and is tested without it)."""

from __future__ import annotations

from pathlib import Path
import subprocess
import sys

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "custom_components" / "espresso_care" / "engine"

SCRIPT = """
import importlib, importlib.abc, sys, types

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "homeassistant" or name.startswith("homeassistant."):
            raise ImportError(f"engine imported {name}")
        return None

sys.meta_path.insert(0, Block())
sys.modules["homeassistant"] = None
# the integration package's __init__ is the HA glue: load the engine package on its own
for name, path in (
    ("custom_components", "custom_components"),
    ("custom_components.espresso_care", "custom_components/espresso_care"),
):
    package = types.ModuleType(name)
    package.__path__ = [path]
    sys.modules[name] = package
for module in sys.argv[1:]:
    importlib.import_module(module)
leaked = sorted(m for m in sys.modules if m.startswith("homeassistant."))
assert not leaked, leaked
print("ok", len(sys.argv) - 1)
"""


def engine_modules() -> list[str]:
    return [
        "custom_components.espresso_care.engine." + path.stem
        for path in sorted(ENGINE.glob("*.py"))
        if path.stem != "__init__"
    ]


def test_engine_imports_without_homeassistant() -> None:
    """Import every engine module with ``homeassistant`` made unimportable."""
    modules = engine_modules()
    assert "custom_components.espresso_care.engine.detector" in modules
    result = subprocess.run(  # noqa: S603 - fixed interpreter and script
        [sys.executable, "-c", SCRIPT, *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ok {len(modules)}"
