"""A simulated smart plug for the Espresso Care demo (``make demo``).

Not part of Espresso Care. It replays a recorded espresso machine power trace as a power sensor,
time-compressed, and offers a pump relay switch that adds pump power while it is on.

configuration.yaml::

    espresso_sim:
      speed: 10          # idle stretches play 10x faster; shots, flushes, steam in real time
      trace: ../traces/espresso_morning.csv   # relative to the config directory
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import SOURCE_IMPORT, ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
import homeassistant.helpers.config_validation as cv
from homeassistant.helpers.start import async_at_started
import voluptuous as vol

from .const import CONF_SPEED, CONF_TRACE, DEFAULT_SPEED, DEFAULT_TRACE, DOMAIN
from .simulator import Simulator, load_schedule

if TYPE_CHECKING:
    from homeassistant.helpers.typing import ConfigType

PLATFORMS = (Platform.SENSOR, Platform.SWITCH)

CONFIG_SCHEMA = vol.Schema(
    {
        DOMAIN: vol.Schema(
            {
                vol.Optional(CONF_SPEED, default=DEFAULT_SPEED): vol.All(
                    vol.Coerce(float), vol.Range(min=1, max=100)
                ),
                vol.Optional(CONF_TRACE, default=DEFAULT_TRACE): cv.string,
            }
        )
    },
    extra=vol.ALLOW_EXTRA,
)

type EspressoSimConfigEntry = ConfigEntry[Simulator]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Remember the YAML settings and create the config entry on first start."""
    hass.data[DOMAIN] = config.get(DOMAIN, {})
    if not hass.config_entries.async_entries(DOMAIN):
        hass.async_create_task(
            hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_IMPORT}, data={})
        )
    return True


async def async_setup_entry(hass: HomeAssistant, entry: EspressoSimConfigEntry) -> bool:
    """Load the trace, create the entities and start the replay once HA has started."""
    conf: dict[str, Any] = hass.data.get(DOMAIN) or {}
    speed = float(conf.get(CONF_SPEED, DEFAULT_SPEED))
    csv_path = Path(hass.config.path(conf.get(CONF_TRACE, DEFAULT_TRACE))).resolve()
    labels_path = csv_path.with_suffix(".labels.json")
    schedule = await hass.async_add_executor_job(load_schedule, csv_path, labels_path, speed)
    sim = Simulator(schedule)
    entry.runtime_data = sim
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)

    @callback
    def _start(_hass: HomeAssistant) -> None:
        entry.async_create_background_task(hass, sim.run(), f"{DOMAIN} replay")

    entry.async_on_unload(async_at_started(hass, _start))
    return True


async def async_unload_entry(hass: HomeAssistant, entry: EspressoSimConfigEntry) -> bool:
    """Stop the replay (background tasks of the entry are cancelled) and remove entities."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
