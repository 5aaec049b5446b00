"""Config flow of the espresso plug simulator: one entry, no questions."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult

from .const import DOMAIN, TITLE


class EspressoSimConfigFlow(ConfigFlow, domain=DOMAIN):
    """Create the single simulator entry, from YAML (import) or from the UI."""

    VERSION = 1

    async def async_step_import(self, import_data: dict[str, Any]) -> ConfigFlowResult:
        """Create the entry when ``espresso_sim:`` is in configuration.yaml."""
        return self.async_create_entry(title=TITLE, data={})

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Confirm and create the entry."""
        if user_input is None:
            return self.async_show_form(step_id="user")
        return self.async_create_entry(title=TITLE, data={})
