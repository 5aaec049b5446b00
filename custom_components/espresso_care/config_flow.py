"""Config and options flows of Espresso Care.

The options form has five sections (machine & sources, detection, maintenance, backflush,
voice); its values are saved flat in the entry's options. The sources are changed there
only, as the core helpers (derivative, utility_meter) do: there is no reconfigure step. The options flow
opens on a menu (``OPTIONS_MENU``) as soon as it has more than one entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant import data_entry_flow
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import selector
import voluptuous as vol

from .const import (
    CONF_BACKFLUSH_SWITCH,
    CONF_INSTALL_SENTENCES,
    CONF_MACHINE_TYPE,
    CONF_MARK_DETECTED_BACKFLUSH,
    CONF_NAME,
    CONF_POWER_SENSOR,
    CONF_REQUIRE_ARMING,
    CONF_SHOT_MAX_SECONDS,
    CONF_SHOT_MIN_SECONDS,
    CONF_SHOT_TIME_DRIFT_PERCENT,
    CONF_SWITCH_ROLE,
    DEFAULT_MACHINE_TYPE,
    DEFAULT_MARK_DETECTED_BACKFLUSH,
    DEFAULT_NAME,
    DEFAULT_SHOT_TIME_DRIFT_PERCENT,
    DEFAULT_SWITCH_ROLE,
    DOMAIN,
    LAST_DONE_OPTIONS,
    MAINTENANCE_DEFAULTS,
    MAX_SHOT_TIME_DRIFT_PERCENT,
    MIN_SHOT_TIME_DRIFT_PERCENT,
    SWITCH_ROLES,
)
from .engine.maintenance import (
    DAYS_MAX,
    DAYS_MIN,
    SHOTS_MAX,
    SHOTS_MIN,
    TASKS,
    interval_option,
    last_done_option,
)
from .engine.profiles import MACHINE_TYPES, SETTING_RANGES, settings_for
from .options_history import STEP_HISTORY, HistoryOptionsSteps
from .validation import last_done_errors, validate_backflush_switch, validate_power_sensor

if TYPE_CHECKING:
    from collections.abc import Mapping

POWER_SENSOR_SELECTOR = selector.EntitySelector(
    selector.EntitySelectorConfig(domain="sensor", device_class=SensorDeviceClass.POWER)
)
SWITCH_SELECTOR = selector.EntitySelector(
    selector.EntitySelectorConfig(domain=["switch", "input_boolean"])
)
MACHINE_TYPE_SELECTOR = selector.SelectSelector(
    selector.SelectSelectorConfig(
        options=list(MACHINE_TYPES),
        translation_key=CONF_MACHINE_TYPE,
        mode=selector.SelectSelectorMode.DROPDOWN,
    )
)
SWITCH_ROLE_SELECTOR = selector.SelectSelector(
    selector.SelectSelectorConfig(
        options=list(SWITCH_ROLES),
        translation_key=CONF_SWITCH_ROLE,
        mode=selector.SelectSelectorMode.LIST,
    )
)
USER_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_NAME, default=DEFAULT_NAME): selector.TextSelector(),
        vol.Required(CONF_POWER_SENSOR): POWER_SENSOR_SELECTOR,
        vol.Required(CONF_MACHINE_TYPE, default=DEFAULT_MACHINE_TYPE): MACHINE_TYPE_SELECTOR,
        vol.Optional(CONF_BACKFLUSH_SWITCH): SWITCH_SELECTOR,
        vol.Required(CONF_SWITCH_ROLE, default=DEFAULT_SWITCH_ROLE): SWITCH_ROLE_SELECTOR,
    }
)

SECONDS_SELECTOR = selector.NumberSelector(
    # No bounds here: the engine's own (SETTING_RANGES) are checked, with a translated error.
    selector.NumberSelectorConfig(
        step=0.5, unit_of_measurement="s", mode=selector.NumberSelectorMode.BOX
    )
)
DRIFT_SELECTOR = selector.NumberSelector(
    selector.NumberSelectorConfig(
        min=MIN_SHOT_TIME_DRIFT_PERCENT,
        max=MAX_SHOT_TIME_DRIFT_PERCENT,
        step=1,
        unit_of_measurement="%",
        mode=selector.NumberSelectorMode.BOX,
    )
)
SHOT_LIMITS = (CONF_SHOT_MIN_SECONDS, CONF_SHOT_MAX_SECONDS)

SECTION_MACHINE = "machine"
SECTION_DETECTION = "detection"
SECTION_MAINTENANCE = "maintenance"
SECTION_BACKFLUSH = "backflush"
SECTION_VOICE = "voice"


def _interval_selector(unit: str) -> selector.NumberSelector:
    """Return the field of a task's interval, with the engine's bounds (0 disables the rule)."""
    low, high = (SHOTS_MIN, SHOTS_MAX) if unit == "shots" else (DAYS_MIN, DAYS_MAX)
    return selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=low,
            max=high,
            step=1,
            mode=selector.NumberSelectorMode.BOX,
        )
    )


# Interval and last-done date of every task of the engine's task table.
_MAINTENANCE_FIELDS: dict[vol.Marker, Any] = {
    **{
        vol.Required(interval_option(task, unit)): _interval_selector(unit)
        for task in TASKS
        for unit in ("shots", "days")
    },
    **{vol.Optional(last_done_option(task)): selector.DateSelector() for task in TASKS},
    vol.Optional(CONF_SHOT_TIME_DRIFT_PERCENT): DRIFT_SELECTOR,
    vol.Optional(CONF_MARK_DETECTED_BACKFLUSH): selector.BooleanSelector(),
}

# The options form, by section.
OPTIONS_SECTIONS: dict[str, vol.Schema] = {
    SECTION_MACHINE: vol.Schema(
        {
            vol.Required(CONF_POWER_SENSOR): POWER_SENSOR_SELECTOR,
            vol.Required(CONF_MACHINE_TYPE): MACHINE_TYPE_SELECTOR,
        }
    ),
    SECTION_DETECTION: vol.Schema(
        {
            vol.Required(CONF_SHOT_MIN_SECONDS): SECONDS_SELECTOR,
            vol.Required(CONF_SHOT_MAX_SECONDS): SECONDS_SELECTOR,
        }
    ),
    SECTION_MAINTENANCE: vol.Schema(_MAINTENANCE_FIELDS),
    SECTION_BACKFLUSH: vol.Schema(
        {
            vol.Optional(CONF_BACKFLUSH_SWITCH): SWITCH_SELECTOR,
            vol.Required(CONF_SWITCH_ROLE): SWITCH_ROLE_SELECTOR,
            vol.Optional(CONF_REQUIRE_ARMING, default=False): selector.BooleanSelector(),
        }
    ),
    SECTION_VOICE: vol.Schema(
        {vol.Optional(CONF_INSTALL_SENTENCES, default=False): selector.BooleanSelector()}
    ),
}
OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Required(name): data_entry_flow.section(schema, {"collapsed": False})
        for name, schema in OPTIONS_SECTIONS.items()
    }
)
# The options flow's menu; with a single entry its form opens directly.
OPTIONS_MENU: tuple[str, ...] = ("settings", STEP_HISTORY)


def flatten_sections(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Return the values of the sectioned options form as one flat mapping."""
    return {
        key: value for name in OPTIONS_SECTIONS for key, value in user_input.get(name, {}).items()
    }


def nest_in_sections(values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Return flat option values sorted into the options form's sections."""
    return {
        name: {str(key): values[str(key)] for key in schema.schema if str(key) in values}
        for name, schema in OPTIONS_SECTIONS.items()
    }


def shot_limit_errors(machine_type: str, values: Mapping[str, Any]) -> dict[str, str]:
    """Errors of a form's shot limits, by the engine's own bounds (``SETTING_RANGES``)."""
    errors: dict[str, str] = {}
    for key in SHOT_LIMITS:
        low, high = SETTING_RANGES[key]
        if not low <= float(values[key]) <= high:
            errors[key] = f"{key}_out_of_range"
    if errors:
        return errors
    if values[CONF_SHOT_MIN_SECONDS] >= values[CONF_SHOT_MAX_SECONDS]:
        return {CONF_SHOT_MIN_SECONDS: "shot_min_not_below_max"}
    try:
        settings_for(machine_type, **{key: float(values[key]) for key in SHOT_LIMITS})
    except ValueError:
        return {"base": "invalid_settings"}
    return {}


def shot_limit_placeholders() -> dict[str, str]:
    """Return the engine's bounds of the shot limits, named in the errors' texts."""
    return {
        f"{key}_{end}": f"{bound:g}"
        for key in SHOT_LIMITS
        for end, bound in zip(("min", "max"), SETTING_RANGES[key], strict=True)
    }


def _sources_errors(
    hass: HomeAssistant, user_input: Mapping[str, Any], entry_id: str | None
) -> dict[str, str]:
    """Validate the source entities of a form; ``entry_id`` is the entry being changed."""
    if error := validate_power_sensor(hass, user_input[CONF_POWER_SENSOR], entry_id):
        return {CONF_POWER_SENSOR: error}
    if error := validate_backflush_switch(hass, user_input.get(CONF_BACKFLUSH_SWITCH), entry_id):
        return {CONF_BACKFLUSH_SWITCH: error}
    return {}


def _merge_options(current: Mapping[str, Any], user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Merge the form's values over the current options (an emptied switch is removed)."""
    options = {**current}
    options.pop(CONF_BACKFLUSH_SWITCH, None)
    options.update(user_input)
    return options


def _drop_profile_defaults(options: dict[str, Any], previous_type: str | None) -> None:
    """Keep shot limits only where they differ from the machine type's own defaults.

    The form always shows both limits, so a user who only changes the machine type would
    otherwise pin the old type's limits; a limit equal to the new type's default, or to the old
    type's default when the type changed, is left to the profile.
    """
    new_profile = settings_for(options[CONF_MACHINE_TYPE])
    previous = settings_for(previous_type) if previous_type in MACHINE_TYPES else new_profile
    for key in (CONF_SHOT_MIN_SECONDS, CONF_SHOT_MAX_SECONDS):
        value = options.get(key)
        if value is None:
            continue
        if value == getattr(new_profile, key) or (
            previous.machine_type != new_profile.machine_type and value == getattr(previous, key)
        ):
            del options[key]


class EspressoCareConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up an espresso machine."""

    VERSION = 1
    MINOR_VERSION = 1

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> EspressoCareOptionsFlow:
        """Options of an existing machine."""
        return EspressoCareOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the machine's name, power sensor, type and backflush switch."""
        errors: dict[str, str] = {}
        if user_input is not None:
            self._async_abort_entries_match({CONF_POWER_SENSOR: user_input[CONF_POWER_SENSOR]})
            errors = _sources_errors(self.hass, user_input, None)
            if not errors:
                return self.async_create_entry(
                    title=user_input[CONF_NAME], data={}, options=user_input
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(USER_SCHEMA, user_input),
            errors=errors,
        )


class EspressoCareOptionsFlow(HistoryOptionsSteps, OptionsFlowWithReload):
    """Change the sources, the detection settings, the maintenance rules and the backflush."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Open the settings form (or the menu, once it has more than one entry)."""
        if len(OPTIONS_MENU) == 1:
            return await self.async_step_settings()
        return self.async_show_menu(step_id="init", menu_options=list(OPTIONS_MENU))

    async def async_step_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show every option in one form of five sections; saving reloads the entry."""
        entry = self.config_entry
        errors: dict[str, str] = {}
        if user_input is not None:
            values = flatten_sections(user_input)
            errors = _sources_errors(self.hass, values, entry.entry_id)
            errors.update(shot_limit_errors(values[CONF_MACHINE_TYPE], values))
            errors.update(last_done_errors(values))
            if not errors:
                # An emptied last-done date is removed (it is applied once, see
                # maintenance_tracker.py).
                current = {
                    key: value
                    for key, value in entry.options.items()
                    if key not in LAST_DONE_OPTIONS.values()
                }
                options = _merge_options(current, self._normalise(values))
                _drop_profile_defaults(options, entry.options.get(CONF_MACHINE_TYPE))
                return self.async_create_entry(data=options)

        profile = settings_for(entry.options.get(CONF_MACHINE_TYPE, DEFAULT_MACHINE_TYPE))
        suggested: dict[str, Any] = {
            CONF_MACHINE_TYPE: DEFAULT_MACHINE_TYPE,
            CONF_SWITCH_ROLE: DEFAULT_SWITCH_ROLE,
            CONF_REQUIRE_ARMING: False,
            CONF_INSTALL_SENTENCES: False,
            CONF_SHOT_MIN_SECONDS: profile.shot_min_seconds,
            CONF_SHOT_MAX_SECONDS: profile.shot_max_seconds,
            **MAINTENANCE_DEFAULTS,
            CONF_SHOT_TIME_DRIFT_PERCENT: DEFAULT_SHOT_TIME_DRIFT_PERCENT,
            CONF_MARK_DETECTED_BACKFLUSH: DEFAULT_MARK_DETECTED_BACKFLUSH,
            **entry.options,
        }
        for key in LAST_DONE_OPTIONS.values():
            # A date picker; entries from before may hold a date and a time.
            if isinstance(value := suggested.get(key), str):
                suggested[key] = value[:10]
        return self.async_show_form(
            step_id="settings",
            data_schema=self.add_suggested_values_to_schema(
                OPTIONS_SCHEMA, user_input or nest_in_sections(suggested)
            ),
            errors=errors,
            description_placeholders=shot_limit_placeholders(),
        )

    @staticmethod
    def _normalise(values: dict[str, Any]) -> dict[str, Any]:
        """Store intervals as whole numbers and shot limits as floats."""
        options = {**values}
        for key in MAINTENANCE_DEFAULTS:
            options[key] = int(options[key])
        for key in SHOT_LIMITS:
            options[key] = float(options[key])
        if CONF_SHOT_TIME_DRIFT_PERCENT in options:
            options[CONF_SHOT_TIME_DRIFT_PERCENT] = int(options[CONF_SHOT_TIME_DRIFT_PERCENT])
        return options
