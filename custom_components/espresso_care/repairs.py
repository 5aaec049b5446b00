"""Repair issues of Espresso Care: a source entity that no longer exists, unreadable storage.

When the power sensor or the backflush switch is gone from both the entity registry and the
state machine, a fixable issue is raised. Its repair flow asks for a replacement (the switch
may also be left empty to stop using one), stores it in the entry's options and reloads the
entry. ``SourceIssues`` clears the issue as soon as the entity exists again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from homeassistant.components.repairs import RepairsFlow
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir, selector
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.helpers.start import async_at_started
import voluptuous as vol

from .const import (
    CONF_BACKFLUSH_SWITCH,
    CONF_POWER_SENSOR,
    DOMAIN,
    ISSUE_BACKFLUSH_SWITCH_MISSING,
    ISSUE_LIFT_BREW_LEVER,
    ISSUE_POWER_SENSOR_MISSING,
    ISSUE_RELAY_MAY_BE_ON,
    ISSUE_STORAGE_CORRUPT,
)
from .validation import source_exists, validate_backflush_switch, validate_power_sensor

if TYPE_CHECKING:
    from homeassistant import data_entry_flow
    from homeassistant.config_entries import ConfigEntry

ISSUE_OPTIONS = {
    ISSUE_POWER_SENSOR_MISSING: CONF_POWER_SENSOR,
    ISSUE_BACKFLUSH_SWITCH_MISSING: CONF_BACKFLUSH_SWITCH,
}
ISSUE_KEYS = (
    *ISSUE_OPTIONS,
    ISSUE_STORAGE_CORRUPT,
    ISSUE_LIFT_BREW_LEVER,
    ISSUE_RELAY_MAY_BE_ON,
)
"""Every repair issue a config entry can have."""


def issue_id(entry_id: str, key: str) -> str:
    """Issue id of a repair issue of one config entry."""
    return f"{entry_id}_{key}"


@callback
def async_create_source_issue(
    hass: HomeAssistant, entry: ConfigEntry, key: str, entity_id: str
) -> None:
    """Raise the issue that a source entity of ``entry`` no longer exists."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(entry.entry_id, key),
        data={"entry_id": entry.entry_id, "key": key},
        is_fixable=True,
        is_persistent=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=key,
        translation_placeholders={"name": entry.title, "entity_id": entity_id},
    )


@callback
def async_delete_source_issue(hass: HomeAssistant, entry_id: str, key: str) -> None:
    """Clear the issue of a source entity (no-op when there is none)."""
    ir.async_delete_issue(hass, DOMAIN, issue_id(entry_id, key))


@callback
def async_create_storage_issue(
    hass: HomeAssistant, entry: ConfigEntry, placeholders: dict[str, str]
) -> None:
    """Raise the issue that the stored data of ``entry`` cannot be read (set-up failed)."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(entry.entry_id, ISSUE_STORAGE_CORRUPT),
        is_fixable=False,
        is_persistent=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=ISSUE_STORAGE_CORRUPT,
        translation_placeholders={"name": entry.title, **placeholders},
    )


@callback
def async_delete_storage_issue(hass: HomeAssistant, entry_id: str) -> None:
    """Clear the issue of unreadable stored data (the data was read)."""
    ir.async_delete_issue(hass, DOMAIN, issue_id(entry_id, ISSUE_STORAGE_CORRUPT))


@callback
def async_create_lift_brew_lever_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Remind the user to lift the brew lever before switching the machine on.

    Not fixable (the user acts on the machine), kept across restarts; cleared by the next
    routine. Home Assistant shows it in the user's language.
    """
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(entry.entry_id, ISSUE_LIFT_BREW_LEVER),
        is_fixable=False,
        is_persistent=True,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_LIFT_BREW_LEVER,
        translation_placeholders={"name": entry.title},
    )


@callback
def async_delete_lift_brew_lever_issue(hass: HomeAssistant, entry_id: str) -> None:
    """Clear the brew lever reminder (a routine starts)."""
    ir.async_delete_issue(hass, DOMAIN, issue_id(entry_id, ISSUE_LIFT_BREW_LEVER))


@callback
def async_delete_entry_issues(hass: HomeAssistant, entry_id: str) -> None:
    """Clear every issue of a config entry (when it is removed)."""
    for key in ISSUE_KEYS:
        ir.async_delete_issue(hass, DOMAIN, issue_id(entry_id, key))


OPTION_ISSUES = {option: key for key, option in ISSUE_OPTIONS.items()}


class SourceIssues:
    """Raises and clears the repair issues of one entry's source entities."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Watch the sources configured in ``entry``'s options."""
        self._hass = hass
        self._entry = entry

    @callback
    def async_start(self) -> None:
        """Check both sources once started; follow the switch's state appearing or vanishing.

        The power sensor's state is followed by the shot counter, which calls
        ``async_check(CONF_POWER_SENSOR)``.
        """
        entry = self._entry
        if switch := entry.options.get(CONF_BACKFLUSH_SWITCH):
            entry.async_on_unload(
                async_track_state_change_event(self._hass, switch, self._async_switch_changed)
            )
        entry.async_on_unload(async_at_started(self._hass, self._async_check_all))

    @callback
    def _async_switch_changed(self, event: Event[EventStateChangedData]) -> None:
        if event.data["new_state"] is None or event.data["old_state"] is None:
            self.async_check(CONF_BACKFLUSH_SWITCH)

    @callback
    def _async_check_all(self, hass: HomeAssistant) -> None:
        for option in OPTION_ISSUES:
            if option in self._entry.options:
                self.async_check(option)

    @callback
    def async_check(self, option: str, *, removed: bool = False) -> None:
        """Raise or clear the repair issue of one source entity (``removed``: it is gone)."""
        entity_id: str = self._entry.options[option]
        key = OPTION_ISSUES[option]
        if not removed and source_exists(self._hass, entity_id):
            async_delete_source_issue(self._hass, self._entry.entry_id, key)
        else:
            async_create_source_issue(self._hass, self._entry, key, entity_id)


class SourceEntityRepairFlow(RepairsFlow):
    """Ask for a replacement of a source entity that no longer exists."""

    def __init__(self, entry_id: str, key: str) -> None:
        """Remember which entry and which source the issue is about."""
        self._entry_id = entry_id
        self._key = key

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> data_entry_flow.FlowResult:
        """Start the flow (the repairs manager passes the issue id as input here)."""
        return await self.async_step_replace()

    async def async_step_replace(
        self, user_input: dict[str, Any] | None = None
    ) -> data_entry_flow.FlowResult:
        """Pick another entity and reload the entry."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None:
            return self.async_abort(reason="entry_removed")
        option = ISSUE_OPTIONS[self._key]
        errors: dict[str, str] = {}
        if user_input is not None:
            new_entity_id: str | None = user_input.get(option)
            if option == CONF_POWER_SENSOR:
                error = validate_power_sensor(self.hass, str(new_entity_id), entry.entry_id)
            else:
                error = validate_backflush_switch(self.hass, new_entity_id, entry.entry_id)
            if error:
                errors[option] = error
            else:
                options = {**entry.options}
                if new_entity_id:
                    options[option] = new_entity_id
                else:
                    options.pop(option, None)
                self.hass.config_entries.async_update_entry(entry, options=options)
                self.hass.config_entries.async_schedule_reload(entry.entry_id)
                return self.async_create_entry(data={})

        if option == CONF_POWER_SENSOR:
            schema = vol.Schema(
                {
                    vol.Required(CONF_POWER_SENSOR): selector.EntitySelector(
                        selector.EntitySelectorConfig(domain="sensor", device_class="power")
                    )
                }
            )
        else:
            schema = vol.Schema(
                {
                    vol.Optional(CONF_BACKFLUSH_SWITCH): selector.EntitySelector(
                        selector.EntitySelectorConfig(domain=["switch", "input_boolean"])
                    )
                }
            )
        return self.async_show_form(
            step_id="replace",
            data_schema=schema,
            errors=errors,
            description_placeholders={
                "name": entry.title,
                "entity_id": str(entry.options.get(option)),
            },
        )


async def async_create_fix_flow(
    hass: HomeAssistant,
    issue_id: str,
    data: dict[str, str | int | float | None] | None,
) -> RepairsFlow:
    """Create the repair flow of an issue."""
    issue_data = cast("dict[str, str]", data)
    return SourceEntityRepairFlow(issue_data["entry_id"], issue_data["key"])
