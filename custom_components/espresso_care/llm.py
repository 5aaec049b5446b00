"""LLM tools of Espresso Care: the intents of ``intent.py`` for the Assist API.

Home Assistant up to 2026.2 offers every registered intent to the Assist API by itself. Newer
releases collect LLM tools from the integrations' ``llm`` platforms instead, through
``async_get_tools`` here (``homeassistant.components.llm`` exists there only, so it is looked
up when called).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import intent
from homeassistant.helpers.llm import LLM_API_ASSIST, IntentTool, Tool

from .const import DOMAIN
from .intent import INTENT_MARK_DONE, INTENT_SHOTS_SINCE, INTENT_START, INTENT_STATUS

if TYPE_CHECKING:
    from homeassistant.helpers.llm import LLMContext

LLM_INTENTS = {
    INTENT_SHOTS_SINCE: "Espresso shots since a maintenance task",
    INTENT_STATUS: "Espresso machine maintenance status",
    INTENT_START: "Start the espresso machine's automated backflush",
    INTENT_MARK_DONE: "Mark an espresso machine maintenance task done",
}


@callback
def async_get_tools(hass: HomeAssistant, llm_context: LLMContext, api_id: str) -> Any:
    """Return the intents as tools of the Assist API while a machine is loaded."""
    if api_id != LLM_API_ASSIST or not hass.config_entries.async_loaded_entries(DOMAIN):
        return None
    tools: list[Tool] = []
    for handler in intent.async_get(hass):
        if (title := LLM_INTENTS.get(handler.intent_type)) is None:
            continue
        details: dict[str, Any] = {"title": title, "integration": DOMAIN}
        tools.append(IntentTool(f"{DOMAIN}__{handler.intent_type}", handler, **details))
    return import_module("homeassistant.components.llm").LLMTools(tools=tools)
