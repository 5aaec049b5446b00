"""Constants of the espresso plug simulator (Espresso Care demo only)."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "espresso_sim"
CONF_SPEED: Final = "speed"
CONF_TRACE: Final = "trace"
DEFAULT_SPEED: Final = 10.0
DEFAULT_TRACE: Final = "../traces/espresso_morning.csv"  # relative to the config directory
TITLE: Final = "Espresso plug (simulated)"
