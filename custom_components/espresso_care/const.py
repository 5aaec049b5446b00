"""Constants of the Espresso Care integration."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from homeassistant.const import Platform

from .engine.maintenance import (
    DEFAULT_DRIFT_THRESHOLD,
    DRIFT_THRESHOLD_MAX,
    DRIFT_THRESHOLD_MIN,
    TASKS,
    interval_option,
    last_done_option,
)

DOMAIN: Final = "espresso_care"

PLATFORMS: Final[tuple[Platform, ...]] = (
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TODO,
)

# Config entry options (helpers keep everything in options, data stays empty).
CONF_NAME: Final = "name"
CONF_POWER_SENSOR: Final = "power_sensor"
CONF_MACHINE_TYPE: Final = "machine_type"
CONF_BACKFLUSH_SWITCH: Final = "backflush_switch"
CONF_SWITCH_ROLE: Final = "switch_role"
CONF_SHOT_MIN_SECONDS: Final = "shot_min_seconds"
CONF_SHOT_MAX_SECONDS: Final = "shot_max_seconds"
CONF_REQUIRE_ARMING: Final = "require_arming"
# Voice: write the Assist sentences into <config>/custom_sentences (off by default).
CONF_INSTALL_SENTENCES: Final = "install_voice_sentences"

DEFAULT_NAME: Final = "Espresso machine"
DEFAULT_MACHINE_TYPE: Final = "single_boiler"

SWITCH_ROLE_PUMP: Final = "pump"
SWITCH_ROLE_MACHINE_POWER: Final = "machine_power"
SWITCH_ROLES: Final = (SWITCH_ROLE_PUMP, SWITCH_ROLE_MACHINE_POWER)
DEFAULT_SWITCH_ROLE: Final = SWITCH_ROLE_PUMP

# Maintenance options, derived from the engine's task table (engine/maintenance.py TASKS).
# Interval option key -> default (0 disables the rule).
MAINTENANCE_DEFAULTS: Final[dict[str, int]] = {
    interval_option(task, unit): getattr(spec.default, unit)
    for task, spec in TASKS.items()
    for unit in ("shots", "days")
}
# Last-done option of each task (keyed by the task's value).
LAST_DONE_OPTIONS: Final[dict[str, str]] = {str(task): last_done_option(task) for task in TASKS}
CONF_MARK_DETECTED_BACKFLUSH: Final = "mark_detected_backflush"
DEFAULT_MARK_DETECTED_BACKFLUSH: Final = True
CONF_SHOT_TIME_DRIFT_PERCENT: Final = "shot_time_drift_percent"
DEFAULT_SHOT_TIME_DRIFT_PERCENT: Final = DEFAULT_DRIFT_THRESHOLD
MIN_SHOT_TIME_DRIFT_PERCENT: Final = DRIFT_THRESHOLD_MIN
MAX_SHOT_TIME_DRIFT_PERCENT: Final = DRIFT_THRESHOLD_MAX

# Device model shown for each machine type (the device registry has no translations).
MACHINE_TYPE_MODELS: Final[dict[str, str]] = {
    "single_boiler": "Single boiler",
    "heat_exchanger": "Heat exchanger",
    "dual_boiler": "Dual boiler",
    "thermoblock": "Thermoblock",
    "capsule": "Capsule machine",
}
MANUFACTURER: Final = "Espresso Care"

# Supported units of the power sensor.
POWER_UNITS: Final = ("W", "kW")

# Event fired on every recognised shot.
EVENT_SHOT: Final = "espresso_care_shot"
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_NAME: Final = "name"
ATTR_START: Final = "start"
ATTR_END: Final = "end"
ATTR_DURATION_S: Final = "duration_s"
ATTR_TOTAL_SHOTS: Final = "total_shots"

# Actions.
SERVICE_ADJUST_SHOTS: Final = "adjust_shots"
ATTR_COUNT: Final = "count"
ADJUST_SHOTS_LIMIT: Final = 50
SERVICE_MARK_DONE: Final = "mark_done"
ATTR_WHEN: Final = "when"

# Maintenance events; ``task`` is ATTR_TASK.
EVENT_MAINTENANCE_DUE: Final = "espresso_care_maintenance_due"
EVENT_MAINTENANCE_DONE: Final = "espresso_care_maintenance_done"
EVENT_BACKFLUSH_DETECTED: Final = "espresso_care_backflush_detected"
# Snooze: ``espresso_care.snooze`` and its event; ``until`` is ATTR_UNTIL.
SERVICE_SNOOZE: Final = "snooze"
ATTR_DURATION: Final = "duration"
ATTR_UNTIL: Final = "until"
ATTR_SNOOZED_UNTIL: Final = "snoozed_until"
EVENT_MAINTENANCE_SNOOZED: Final = "espresso_care_maintenance_snoozed"
ATTR_SOURCE: Final = "source"
ATTR_PULSES: Final = "pulses"
# Where a "done" came from (``source`` of espresso_care_maintenance_done); the backflush
# runner's is MAINTENANCE_SOURCE_BACKFLUSH_ROUTINE.
SOURCE_BUTTON: Final = "button"
SOURCE_ACTION: Final = "action"
SOURCE_TODO: Final = "todo"
SOURCE_DETECTED: Final = "detected"
SOURCE_VOICE: Final = "voice"
# Re-evaluate the day-based maintenance rules at least this often.
MAINTENANCE_CHECK_INTERVAL: Final = timedelta(minutes=1)

# Runtime tuning.
# The detector's tick comes at most this often (and only when time may decide something).
TICK_SECONDS: Final = 5.0
AVERAGE_OVER_SHOTS: Final = 10
RECENT_EVENTS: Final = 20

# Repair issues (issue_id is f"{entry_id}_{key}").
ISSUE_POWER_SENSOR_MISSING: Final = "power_sensor_missing"
ISSUE_BACKFLUSH_SWITCH_MISSING: Final = "backflush_switch_missing"
# A routine with switch_role machine_power ended: the brew lever is still engaged.
ISSUE_LIFT_BREW_LEVER: Final = "lift_brew_lever"
ISSUE_STORAGE_CORRUPT: Final = "storage_corrupt"
ISSUE_RELAY_MAY_BE_ON: Final = "backflush_relay_may_be_on"

# Automated backflush.
SERVICE_START_BACKFLUSH: Final = "start_backflush"
SERVICE_STOP_BACKFLUSH: Final = "stop_backflush"
EVENT_BACKFLUSH_STARTED: Final = "espresso_care_backflush_started"
EVENT_BACKFLUSH_RINSE: Final = "espresso_care_backflush_rinse"
EVENT_BACKFLUSH_FINISHED: Final = "espresso_care_backflush_finished"
EVENT_BACKFLUSH_ABORTED: Final = "espresso_care_backflush_aborted"
ATTR_PROGRAM: Final = "program"
ATTR_TASK: Final = "task"
ATTR_CYCLES: Final = "cycles"
ATTR_ON_SECONDS: Final = "on_seconds"
ATTR_OFF_SECONDS: Final = "off_seconds"
ATTR_RINSE_CYCLES: Final = "rinse_cycles"
ATTR_RINSE_PAUSE_SECONDS: Final = "rinse_pause_seconds"
ATTR_CYCLES_DONE: Final = "cycles_done"
ATTR_REASON: Final = "reason"
ATTR_PAUSE_SECONDS: Final = "pause_seconds"
ATTR_LIFT_BREW_LEVER: Final = "lift_brew_lever"
ARM_SECONDS: Final = 60
MAINTENANCE_SOURCE_BACKFLUSH_ROUTINE: Final = "backflush_routine"

# Calibration from history: ``espresso_care.analyze_history``.
SERVICE_ANALYZE_HISTORY: Final = "analyze_history"
ATTR_DAYS: Final = "days"
