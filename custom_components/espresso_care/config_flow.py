"""Config, options and reconfigure flows of Espresso Care."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    MAX_INTERVAL_DAYS,
    MAX_INTERVAL_SHOTS,
    MAX_SHOT_TIME_DRIFT_PERCENT,
    MIN_SHOT_TIME_DRIFT_PERCENT,
    SWITCH_ROLES,
)
from .engine.profiles import MACHINE_TYPES, settings_for
from .validation import last_done_errors, validate_power_sensor

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

SOURCES_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_POWER_SENSOR): POWER_SENSOR_SELECTOR,
        vol.Required(CONF_MACHINE_TYPE, default=DEFAULT_MACHINE_TYPE): MACHINE_TYPE_SELECTOR,
        vol.Optional(CONF_BACKFLUSH_SWITCH): SWITCH_SELECTOR,
        vol.Required(CONF_SWITCH_ROLE, default=DEFAULT_SWITCH_ROLE): SWITCH_ROLE_SELECTOR,
    }
)
USER_SCHEMA = vol.Schema(
    {vol.Required(CONF_NAME, default=DEFAULT_NAME): selector.TextSelector()}
).extend(SOURCES_SCHEMA.schema)


def _seconds_selector(maximum: float) -> selector.NumberSelector:
    return selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=1,
            max=maximum,
            step=0.5,
            unit_of_measurement="s",
            mode=selector.NumberSelectorMode.BOX,
        )
    )


def _interval_selector(maximum: int) -> selector.NumberSelector:
    return selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=0, max=maximum, step=1, mode=selector.NumberSelectorMode.BOX
        )
    )


# Maintenance: drift sensitivity, detected backflushes, last-done dates.
MAINTENANCE_OPTIONS: dict[Any, Any] = {
    vol.Optional(CONF_SHOT_TIME_DRIFT_PERCENT): selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=MIN_SHOT_TIME_DRIFT_PERCENT,
            max=MAX_SHOT_TIME_DRIFT_PERCENT,
            step=1,
            unit_of_measurement="%",
            mode=selector.NumberSelectorMode.BOX,
        )
    ),
    vol.Optional(CONF_MARK_DETECTED_BACKFLUSH): selector.BooleanSelector(),
    **{vol.Optional(key): selector.DateTimeSelector() for key in LAST_DONE_OPTIONS.values()},
}

OPTIONS_SCHEMA = SOURCES_SCHEMA.extend(
    {
        vol.Required(CONF_SHOT_MIN_SECONDS): _seconds_selector(300),
        vol.Required(CONF_SHOT_MAX_SECONDS): _seconds_selector(600),
        **{
            vol.Required(key): _interval_selector(
                MAX_INTERVAL_SHOTS if key.endswith("_shots") else MAX_INTERVAL_DAYS
            )
            for key in MAINTENANCE_DEFAULTS
        },
        **MAINTENANCE_OPTIONS,
    }
).extend({vol.Optional(CONF_REQUIRE_ARMING, default=False): selector.BooleanSelector()})


def _sources_errors(
    hass: HomeAssistant, user_input: Mapping[str, Any], entry_id: str | None
) -> dict[str, str]:
    """Validate the source entities of a form; ``entry_id`` is the entry being changed."""
    if error := validate_power_sensor(hass, user_input[CONF_POWER_SENSOR], entry_id):
        return {CONF_POWER_SENSOR: error}
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

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the source entities and the machine type."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _sources_errors(self.hass, user_input, entry.entry_id)
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, options=_merge_options(entry.options, user_input)
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                SOURCES_SCHEMA, user_input or entry.options
            ),
            errors=errors,
            description_placeholders={"name": entry.title},
        )


class EspressoCareOptionsFlow(OptionsFlowWithReload):
    """Change the sources, the detection settings and the maintenance intervals."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show every option in one form; saving reloads the entry."""
        entry = self.config_entry
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _sources_errors(self.hass, user_input, entry.entry_id)
            if user_input[CONF_SHOT_MIN_SECONDS] >= user_input[CONF_SHOT_MAX_SECONDS]:
                errors[CONF_SHOT_MIN_SECONDS] = "shot_min_not_below_max"
            errors.update(last_done_errors(user_input))
            if not errors:
                # An emptied last-done date is removed (it is applied once, see maintenance.py).
                current = {
                    key: value
                    for key, value in entry.options.items()
                    if key not in LAST_DONE_OPTIONS.values()
                }
                options = _merge_options(current, self._normalise(user_input))
                _drop_profile_defaults(options, entry.options.get(CONF_MACHINE_TYPE))
                return self.async_create_entry(data=options)

        profile = settings_for(entry.options.get(CONF_MACHINE_TYPE, DEFAULT_MACHINE_TYPE))
        suggested = {
            CONF_SHOT_MIN_SECONDS: profile.shot_min_seconds,
            CONF_SHOT_MAX_SECONDS: profile.shot_max_seconds,
            **MAINTENANCE_DEFAULTS,
            CONF_SHOT_TIME_DRIFT_PERCENT: DEFAULT_SHOT_TIME_DRIFT_PERCENT,
            CONF_MARK_DETECTED_BACKFLUSH: DEFAULT_MARK_DETECTED_BACKFLUSH,
            **entry.options,
            **(user_input or {}),
        }
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(OPTIONS_SCHEMA, suggested),
            errors=errors,
        )

    @staticmethod
    def _normalise(user_input: dict[str, Any]) -> dict[str, Any]:
        """Store intervals as whole numbers and shot limits as floats."""
        options = {**user_input}
        for key in MAINTENANCE_DEFAULTS:
            options[key] = int(options[key])
        for key in (CONF_SHOT_MIN_SECONDS, CONF_SHOT_MAX_SECONDS):
            options[key] = float(options[key])
        if CONF_SHOT_TIME_DRIFT_PERCENT in options:
            options[CONF_SHOT_TIME_DRIFT_PERCENT] = int(options[CONF_SHOT_TIME_DRIFT_PERCENT])
        return options
