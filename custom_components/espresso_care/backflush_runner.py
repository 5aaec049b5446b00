"""The automated backflush in Home Assistant: ``BackflushRunner`` drives a ``BackflushRun``.

One runner per machine. It turns the engine's commands into calls
of the configured ``backflush_switch``, re-arms one timer at the run's ``next_deadline``, feeds
the power readings to the run's pump check, pauses shot detection while the routine runs,
fires the ``espresso_care_backflush_*`` events and persists the run (key ``backflush_run``
of the stored data) *before* the switch is first turned on, so a restart in the middle of a
routine is recognised and the switch turned off.

Safety rules (all enforced here, tested in tests/test_backflush.py):

- Only the configured switch is ever switched, and every ending of a routine sends ``off``
  before the end is reported: completion, ``stop_backflush`` (``stopped``), the switch entity
  turned off (``user``), the switch becoming unavailable (``switch_unavailable``), no pump
  activity (``no_pump_activity``), unload/reload and Home Assistant stopping (``unload``, the
  ``off`` awaited) and a restart that interrupted a routine (``restart``).
- Switch commands run one at a time, in order (a lock); a queued ``on`` whose run has ended
  meanwhile is dropped. A switch call that raises anything (not only ``HomeAssistantError``:
  integrations raise ``ConnectionError``, ``OSError``, ``RuntimeError``...) or hangs fails:
  a failed ``on`` aborts the run (``switch_unavailable``) and cancels the timer; a failed
  ``off`` is retried once at once. No error of a switch call reaches the caller raw.
- "Off pending": after an ending, until the switch reports ``off``, the runner still
  believes it may be on. For as long as the switch reports anything but ``off`` (``on``,
  unavailable, not there yet), ``off`` is sent again: at once when the switch reports a new
  state, and with a backoff (5 s up to every minute) otherwise; while it stays unconfirmed a
  repair issue says the relay may still be on. The flag is persisted.
- A routine only *finishes* (and marks its task done) when the switch confirmed the final
  ``off`` (within 30 s); otherwise it is reported as aborted (``switch_unavailable``).
- After a restart the switch-off waits until the switch's integration registered its
  ``turn_off`` action (``input_boolean`` adds its entities before it does) or Home Assistant
  started, then is retried until confirmed.
- One relay, one routine: a start is refused while another machine runs a routine with the
  same switch.
- With ``switch_role: machine_power`` the pump check only proves the machine drew power when
  switched on (heater and pump share the plug); the end events carry ``lift_brew_lever``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
import logging
import math
from typing import TYPE_CHECKING, Any

from homeassistant.const import (
    ATTR_DOMAIN,
    ATTR_ENTITY_ID,
    ATTR_SERVICE,
    ATTR_UNIT_OF_MEASUREMENT,
    EVENT_HOMEASSISTANT_STOP,
    EVENT_SERVICE_REGISTERED,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Context,
    CoreState,
    Event,
    EventStateChangedData,
    HassJob,
    HomeAssistant,
    State,
    callback,
    split_entity_id,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import (
    async_call_later,
    async_track_point_in_utc_time,
    async_track_state_change_event,
)
from homeassistant.helpers.start import async_at_started
from homeassistant.util import dt as dt_util

from .const import (
    ARM_SECONDS,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_CYCLES_DONE,
    ATTR_DURATION_S,
    ATTR_LIFT_BREW_LEVER,
    ATTR_NAME,
    ATTR_PAUSE_SECONDS,
    ATTR_PROGRAM,
    ATTR_REASON,
    ATTR_TASK,
    CONF_BACKFLUSH_SWITCH,
    CONF_POWER_SENSOR,
    CONF_REQUIRE_ARMING,
    CONF_SWITCH_ROLE,
    DEFAULT_SWITCH_ROLE,
    DOMAIN,
    EVENT_BACKFLUSH_ABORTED,
    EVENT_BACKFLUSH_FINISHED,
    EVENT_BACKFLUSH_RINSE,
    EVENT_BACKFLUSH_STARTED,
    ISSUE_RELAY_MAY_BE_ON,
    SWITCH_ROLE_MACHINE_POWER,
)
from .coordinator import push_coordinator
from .engine.backflush import (
    Aborted,
    AbortReason,
    BackflushProgram,
    BackflushRun,
    Command,
    Finished,
    ProgramError,
    RinseNow,
    RunState,
    StepKind,
    SwitchOff,
    SwitchOn,
)
from .engine.units import to_watts
from .repairs import async_create_lift_brew_lever_issue, async_delete_lift_brew_lever_issue

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from homeassistant.config_entries import ConfigEntry

    from .engine.maintenance import Task

_LOGGER = logging.getLogger(__name__)

UNAVAILABLE_STATES = (STATE_UNAVAILABLE, STATE_UNKNOWN)
STORED_OFF_PENDING = "off_pending"
STORED_PROGRESS = "progress"
ENDED_STATES = (RunState.FINISHED.value, RunState.ABORTED.value)
SWITCH_CALL_TIMEOUT = 10
"""Seconds a switch call may take; a hanging integration must not hold the routine (or unload)."""
OFF_CONFIRM_SECONDS = 30
"""Seconds the switch has to report ``off`` after the final switch-off of a routine."""
OFF_RETRY_DELAYS = (5, 10, 20, 40, 60)
"""Seconds between the retries of a pending switch-off (the last one repeats)."""


def state_available(state: State | None) -> bool:
    """Whether an entity exists and has a usable state."""
    return state is not None and state.state not in UNAVAILABLE_STATES


def _stored_int(value: object) -> int:
    """Return a whole number of the stored data; 0 when there is none."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0
    return int(value)


def _stored_progress(last: Mapping[str, Any] | None) -> int:
    """Progress of the last routine that ended before a restart (100 % once finished)."""
    if last is None:
        return 0
    if last.get("state") == RunState.FINISHED.value:
        return 100
    return max(0, min(100, _stored_int(last.get(STORED_PROGRESS))))


def program_error(err: ProgramError) -> ServiceValidationError:
    """Translate an invalid program into a validation error (keys ``program_<key>``)."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=f"program_{err.key}",
        translation_placeholders=err.placeholders,
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class BackflushHooks:
    """What the runner needs from the other parts of the machine.

    ``is_brewing`` tells whether a shot is being pulled (no start then), ``pause_detection`` /
    ``resume_detection`` keep the runner's pump pulses from being counted as shots,
    ``on_finished`` records a completed routine's task as done (maintenance), ``save`` /
    ``schedule_save`` persist the stored data (the ``backflush_run`` slice included).
    """

    is_brewing: Callable[[], bool]
    pause_detection: Callable[[], None]
    resume_detection: Callable[[], None]
    on_finished: Callable[[Task], Awaitable[Any]]
    save: Callable[[], Awaitable[None]]
    schedule_save: Callable[[], None]


class BackflushRunner:
    """Runs the automated backflush of one machine (see the module docstring).

    Its entities follow ``coordinator``, a push coordinator (it never polls) told whenever the
    routine, the arming or the switch changed.
    """

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, stored: object, hooks: BackflushHooks
    ) -> None:
        """Prepare the runner; ``stored`` is the persisted ``backflush_run`` (or None)."""
        self.hass = hass
        self.coordinator = push_coordinator(hass, entry, "backflush", _LOGGER)
        self.entry = entry
        self._hooks = hooks
        self.power_sensor: str = entry.options[CONF_POWER_SENSOR]
        self.switch: str | None = entry.options.get(CONF_BACKFLUSH_SWITCH)
        self.switch_role: str = entry.options.get(CONF_SWITCH_ROLE, DEFAULT_SWITCH_ROLE)
        self.run: BackflushRun | None = None
        self.armed_until: datetime | None = None
        self.off_pending = False
        self.last_error: str | None = None
        self._restored: BackflushRun | None = None
        # The last routine that ended before a restart: what the progress sensor shows until
        # the next one starts.
        self._last_ended: dict[str, Any] | None = None
        if isinstance(stored, Mapping) and self.switch is not None:
            self._restored = BackflushRun.restore(stored)
            self.off_pending = bool(stored.get(STORED_OFF_PENDING)) or self._restored is not None
            if stored.get("state") in ENDED_STATES:
                self._last_ended = dict(stored)
        self._lock = asyncio.Lock()
        self._unsub_timer: CALLBACK_TYPE | None = None
        self._context: Context | None = None
        self._shut_down = False
        # Off retries: the pending timer, how many were sent, whether the last off raised.
        self._unsub_retry: CALLBACK_TYPE | None = None
        self._off_retries = 0
        self._off_failed = False
        # A finished routine waiting for the switch to confirm its final off.
        self._pending_finish: Finished | None = None
        self._unsub_confirm: CALLBACK_TYPE | None = None
        # Until the switch can be called after a restart (its turn_off registered).
        self._awaiting_switch = False

    # ------------------------------------------------------------------ state

    @property
    def running(self) -> bool:
        """Whether a routine runs (the switch may be on)."""
        return self.run is not None and self.run.running

    @property
    def busy(self) -> bool:
        """Whether a routine runs or its end still waits for the switch to confirm off."""
        return self.running or self._pending_finish is not None

    @property
    def machine_power(self) -> bool:
        """Whether the switch powers the whole machine (brew lever left engaged)."""
        return self.switch_role == SWITCH_ROLE_MACHINE_POWER

    @property
    def require_arming(self) -> bool:
        """Whether a start needs a press of the arm button within the last minute."""
        return bool(self.entry.options.get(CONF_REQUIRE_ARMING, False))

    @property
    def armed(self) -> bool:
        """Whether the arm button was pressed less than a minute ago (and not used yet)."""
        return self.armed_until is not None and dt_util.utcnow() <= self.armed_until

    @property
    def switch_available(self) -> bool:
        """Whether the configured switch exists and has a usable state."""
        return self.switch is not None and state_available(self.hass.states.get(self.switch))

    @property
    def progress(self) -> int:
        """Percentage of the current (or last) routine done; 0 before the first one.

        The last routine is remembered across restarts (a finished one shows 100 %).
        """
        if self.run is None:
            return _stored_progress(self._last_ended)
        return round(self.run.progress(dt_util.utcnow().timestamp()))

    def attributes(self) -> dict[str, Any]:
        """State, phase and cycle of the routine (attributes of the progress sensor)."""
        run = self.run
        step = None if run is None else run.current_step
        last = self._last_ended or {}
        last_program = last.get("program")
        return {
            "routine": (
                str(last.get("state", RunState.IDLE.value)) if run is None else run.state.value
            ),
            "task": (
                (last_program.get("task") if isinstance(last_program, Mapping) else None)
                if run is None
                else run.program.task.value
            ),
            "phase": None if step is None else step.phase.value,
            "step": None if step is None else step.kind.value,
            "cycle": None if step is None else step.cycle,
            "cycles_done": (
                _stored_int(last.get("cycles_done")) if run is None else run.cycles_done
            ),
            # Whether a start needs the arm button first, and until when it was armed.
            "require_arming": self.require_arming,
            "armed_until": None if self.armed_until is None else self.armed_until.isoformat(),
        }

    def as_stored(self) -> dict[str, Any] | None:
        """Return what is persisted: the run (``state: running`` while it runs) and ``off_pending``."""
        if self.run is None and not self.off_pending and self._last_ended is None:
            return None
        data: dict[str, Any]
        if self.run is None:
            data = dict(self._last_ended or {})
        else:
            data = self.run.as_dict()
            if not self.run.running:
                data[STORED_PROGRESS] = self.progress
        data[STORED_OFF_PENDING] = self.off_pending
        return data

    def as_stored_slice(self) -> dict[str, Any]:
        """Return this part's slice of the stored data: ``backflush_run`` when there is one."""
        if (stored := self.as_stored()) is None:
            return {}
        return {"backflush_run": stored}

    def as_diagnostics(self) -> dict[str, Any]:
        """State of the runner for the diagnostics download."""
        return {
            "switch": self.switch,
            "switch_role": self.switch_role,
            "require_arming": self.require_arming,
            "armed_until": None if self.armed_until is None else self.armed_until.isoformat(),
            "off_pending": self.off_pending,
            "off_retries": self._off_retries,
            "timer_armed": self._unsub_timer is not None,
            "progress": self.progress,
            "last_error": self.last_error,
            "run": None if self.run is None else self.run.as_dict(),
            **{f"current_{key}": value for key, value in self.attributes().items()},
        }

    # ------------------------------------------------------------------ lifecycle

    @callback
    def async_start(self) -> None:
        """Follow the switch and Home Assistant's stop; end a routine a restart interrupted."""
        if self.switch is None:
            return
        entry = self.entry
        entry.async_on_unload(
            async_track_state_change_event(self.hass, self.switch, self._async_switch_changed)
        )
        entry.async_on_unload(
            self.hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, self._async_hass_stopping)
        )
        entry.async_on_unload(self._cancel_timer)
        entry.async_on_unload(self._cancel_off_retry)
        entry.async_on_unload(self._cancel_confirm)
        if (restored := self._restored) is not None:
            self._restored = None
            self.run = restored
            _LOGGER.warning(
                "A backflush of %s was interrupted by a restart; turning %s off",
                self.entry.title,
                self.switch,
            )
            self._async_when_switch_callable(self._async_end_restored)
        elif self.off_pending:
            self._async_when_switch_callable(
                lambda: self._async_retry_off_if_needed(self.hass.states.get(str(self.switch)))
            )

    @callback
    def _async_when_switch_callable(self, action: Callable[[], None]) -> None:
        """Run ``action`` once the switch's ``turn_off`` exists, or Home Assistant started.

        At start-up the switch's integration may load after ours, and ``input_boolean`` adds
        its entities before it registers its actions: an off sent before fails.
        """
        domain = split_entity_id(str(self.switch))[0]
        if self.hass.services.has_service(domain, SERVICE_TURN_OFF):
            action()
            return
        self._awaiting_switch = True
        unsubs: list[CALLBACK_TYPE] = []

        @callback
        def ready(*_: Any) -> None:
            if not self._awaiting_switch:
                return
            self._awaiting_switch = False
            while unsubs:
                unsubs.pop()()
            action()

        @callback
        def registered(event_data: Mapping[str, Any]) -> bool:
            return bool(
                event_data[ATTR_DOMAIN] == domain and event_data[ATTR_SERVICE] == SERVICE_TURN_OFF
            )

        unsubs.append(
            self.hass.bus.async_listen(EVENT_SERVICE_REGISTERED, ready, event_filter=registered)
        )
        unsubs.append(async_at_started(self.hass, ready))
        if not self._awaiting_switch:  # started already: ready ran at once
            while unsubs:
                unsubs.pop()()
            return

        @callback
        def unsubscribe() -> None:
            self._awaiting_switch = False
            while unsubs:
                unsubs.pop()()

        self.entry.async_on_unload(unsubscribe)

    @callback
    def _async_end_restored(self) -> None:
        """End the routine a restart interrupted: off (retried until confirmed), abort."""
        if self.run is not None and self.run.running:
            self._async_dispatch(self.run.abort(dt_util.utcnow().timestamp(), AbortReason.RESTART))

    async def async_shutdown(self, reason: AbortReason = AbortReason.UNLOAD) -> None:
        """End a running routine and wait until the switch-off was sent (unload, stop)."""
        self._shut_down = True
        self._cancel_timer()
        self._cancel_off_retry()
        if self.running:
            await self.async_stop(reason)
        else:
            # Wait for commands still being executed (an ending in progress).
            async with self._lock:
                if self._pending_finish is not None:
                    # Not confirmed off before the entry goes: an abort, off stays pending.
                    await self._async_resolve_pending_finish(confirmed=False)

    async def _async_hass_stopping(self, event: Event) -> None:
        """Home Assistant stops: end the routine and send off before it goes."""
        await self.async_shutdown(AbortReason.UNLOAD)

    # ------------------------------------------------------------------ actions

    @callback
    def arm(self) -> None:
        """Allow a start within the next minute (the arm button)."""
        self.armed_until = dt_util.utcnow() + timedelta(seconds=ARM_SECONDS)
        self.coordinator.async_set_updated_data(None)

    def check_can_start(self) -> None:
        """Raise a translated validation error when a routine must not start now."""
        placeholders = {"name": self.entry.title}
        if self.switch is None:
            key = "backflush_no_switch"
        elif self.busy:
            key = "backflush_already_running"
        elif (other := self._other_routine_on_switch()) is not None:
            key = "backflush_switch_in_use"
            placeholders["entity_id"] = self.switch
            placeholders["other"] = other
        elif self._hooks.is_brewing():
            key = "backflush_brewing"
        elif not self.switch_available:
            key = "backflush_switch_unavailable"
            placeholders["entity_id"] = self.switch
        elif not state_available(self.hass.states.get(self.power_sensor)):
            key = "backflush_power_sensor_unavailable"
            placeholders["entity_id"] = self.power_sensor
        elif self._shut_down:
            key = "entry_not_loaded"
        elif self.require_arming and not self.armed:
            key = "backflush_not_armed"
        else:
            return
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
        )

    def _other_routine_on_switch(self) -> str | None:
        """Name of another machine running a routine with the same switch, if any."""
        for entry in self.hass.config_entries.async_loaded_entries(DOMAIN):
            if entry.entry_id == self.entry.entry_id:
                continue
            other: BackflushRunner = entry.runtime_data.backflush
            if other.switch == self.switch and other.busy:
                return entry.title
        return None

    async def async_start_program(
        self, program: BackflushProgram, context: Context | None = None
    ) -> None:
        """Start a routine: persist it as running, pause shot detection, switch on."""
        self.check_can_start()
        self.armed_until = None
        async_delete_lift_brew_lever_issue(self.hass, self.entry.entry_id)
        # Our own context: a switch-off in another one during an on-period came from elsewhere.
        self._context = Context(
            user_id=None if context is None else context.user_id,
            parent_id=None if context is None else context.id,
        )
        self.last_error = None
        run = BackflushRun(program, supervise_pump=True)
        if (state := self.hass.states.get(self.power_sensor)) is not None:
            self._observe_state(run, state)
        self.run = run
        now = dt_util.utcnow().timestamp()
        commands = run.start(now)
        self.off_pending = True
        self._hooks.pause_detection()
        self.hass.bus.async_fire(
            EVENT_BACKFLUSH_STARTED,
            {**self._event_base(), ATTR_PROGRAM: program.as_dict()},
            context=context,
        )
        self._async_rearm_timer()
        self.coordinator.async_set_updated_data(None)
        # Persisted before the switch is first turned on: a restart from now on turns it off.
        # (A stop during the save ends the run; its queued switch-on is then dropped.)
        await self._hooks.save()
        async with self._lock:
            await self._async_execute(run, commands)
        if run.state is RunState.ABORTED and run.end_reason is AbortReason.SWITCH_UNAVAILABLE:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="backflush_switch_failed",
                translation_placeholders={"entity_id": str(self.switch)},
            )

    async def async_start_default(self, context: Context | None = None) -> None:
        """Start the default plain-water backflush (the switch entity, voice assistants)."""
        await self.async_start_program(BackflushProgram.build(), context)

    async def async_stop(self, reason: AbortReason, context: Context | None = None) -> None:
        """Abort the running routine; when none runs, only a pending switch-off is retried."""
        run = self.run
        if context is not None:
            self._context = context
        if run is None or not run.running:
            if self.off_pending and self.switch_available:
                async with self._lock:
                    await self._async_switch_off()
                    self._async_follow_pending_off()
            return
        self._cancel_timer()
        commands = run.abort(dt_util.utcnow().timestamp(), reason)
        async with self._lock:
            await self._async_execute(run, commands)

    # ------------------------------------------------------------------ power

    @callback
    def observe_power(self, timestamp: float, watts: float | None) -> None:
        """Feed a power reading of the machine to the pump check of the running routine."""
        if watts is not None and self.running and self.run is not None:
            self.run.observe_power(timestamp, watts)

    @staticmethod
    def _observe_state(run: BackflushRun, state: State) -> None:
        watts = to_watts(state.state, state.attributes.get(ATTR_UNIT_OF_MEASUREMENT))
        if watts is not None:
            run.observe_power(state.last_reported_timestamp, watts)

    # ------------------------------------------------------------------ timer

    @callback
    def _async_rearm_timer(self) -> None:
        self._cancel_timer()
        run = self.run
        if run is None or (deadline := run.next_deadline) is None:
            return
        self._unsub_timer = async_track_point_in_utc_time(
            self.hass, self._async_timer_fired, dt_util.utc_from_timestamp(deadline)
        )

    @callback
    def _cancel_timer(self) -> None:
        if self._unsub_timer is not None:
            self._unsub_timer()
            self._unsub_timer = None

    @callback
    def _async_timer_fired(self, _: datetime) -> None:
        self._unsub_timer = None
        run = self.run
        if run is None or not run.running:
            return
        commands = run.advance(dt_util.utcnow().timestamp())
        self._async_rearm_timer()
        self._async_dispatch(commands)
        self.coordinator.async_set_updated_data(None)

    # ------------------------------------------------------------------ switch

    @callback
    def _async_switch_changed(self, event: Event[EventStateChangedData]) -> None:
        """Abort when the switch goes unavailable or is turned off by hand during an on-period.

        After an ending, retry a pending off when the switch returns.
        """
        new_state = event.data["new_state"]
        old_state = event.data["old_state"]
        if self._awaiting_switch:
            # A restarted routine waits for the switch's actions; its off follows then.
            self.coordinator.async_set_updated_data(None)
            return
        if self.running and self.run is not None:
            step = self.run.current_step
            if (
                step is not None
                and step.kind is StepKind.ON
                and old_state is not None
                and old_state.state == STATE_ON
                and new_state is not None
                and new_state.state == STATE_OFF
                and (self._context is None or new_state.context.id != self._context.id)
            ):
                _LOGGER.info(
                    "The backflush switch %s of %s was turned off by hand; stopping the backflush",
                    self.switch,
                    self.entry.title,
                )
                self._cancel_timer()
                self._async_dispatch(self.run.abort(dt_util.utcnow().timestamp(), AbortReason.USER))
            elif not state_available(new_state):
                _LOGGER.warning(
                    "The backflush switch %s of %s became unavailable; aborting the backflush",
                    self.switch,
                    self.entry.title,
                )
                self._cancel_timer()
                run = self.run
                self._async_dispatch(
                    run.abort(dt_util.utcnow().timestamp(), AbortReason.SWITCH_UNAVAILABLE)
                )
            self.coordinator.async_set_updated_data(None)
            return
        if (
            self._pending_finish is not None
            and new_state is not None
            and new_state.state == STATE_OFF
        ):
            self.entry.async_create_task(
                self.hass, self._async_locked_resolve(confirmed=True), f"{DOMAIN} backflush end"
            )
        self._async_retry_off_if_needed(new_state)
        self.coordinator.async_set_updated_data(None)

    @callback
    def _async_retry_off_if_needed(self, state: State | None) -> None:
        """After an ending: clear the pending off once the switch reports off, else resend it.

        A switch reporting ``on`` (or anything else available) gets ``off`` at once; one
        that is unavailable or not there yet is retried with the backoff.
        """
        if not self.off_pending:
            return
        if state is not None and state.state == STATE_OFF:
            self._async_off_confirmed()
            return
        if state is None or not state_available(state):
            self._async_schedule_off_retry()
            return
        if self._lock.locked():
            return  # an ending is being executed; it sends off itself
        _LOGGER.warning(
            "The backflush switch %s of %s reports %s after the backflush ended; turning it off",
            self.switch,
            self.entry.title,
            state.state,
        )
        self._async_create_off_task()

    @callback
    def _async_create_off_task(self) -> None:
        self.entry.async_create_task(
            self.hass, self._async_locked_off(), f"{DOMAIN} backflush switch off"
        )

    async def _async_locked_off(self) -> None:
        async with self._lock:
            if not self.running and self.off_pending:
                await self._async_switch_off()
                self._async_follow_pending_off()
                self._hooks.schedule_save()

    @callback
    def _switch_reports_off(self) -> bool:
        state = self.hass.states.get(str(self.switch))
        return state is not None and state.state == STATE_OFF

    @callback
    def _async_off_confirmed(self) -> None:
        """Clear the pending off: the switch reports off."""
        self._cancel_off_retry()
        self._off_retries = 0
        self._off_failed = False
        ir.async_delete_issue(self.hass, DOMAIN, self._relay_issue_id)
        if self.off_pending:
            self.off_pending = False
            if not self.running:
                self._hooks.schedule_save()

    @callback
    def _async_follow_pending_off(self) -> None:
        """After an off outside a routine: keep retrying until the switch reports off."""
        if not self.off_pending or self.running:
            return
        if self._switch_reports_off():
            self._async_off_confirmed()
            return
        if self._off_failed:
            self._async_raise_relay_issue()
        self._async_schedule_off_retry()

    @callback
    def _async_schedule_off_retry(self) -> None:
        if self._unsub_retry is not None or self._shut_down or self.running:
            return
        delay = OFF_RETRY_DELAYS[min(self._off_retries, len(OFF_RETRY_DELAYS) - 1)]
        self._unsub_retry = async_call_later(
            self.hass, delay, HassJob(self._async_off_retry_due, cancel_on_shutdown=True)
        )

    @callback
    def _cancel_off_retry(self) -> None:
        if self._unsub_retry is not None:
            self._unsub_retry()
            self._unsub_retry = None

    @callback
    def _async_off_retry_due(self, _: datetime) -> None:
        self._unsub_retry = None
        if not self.off_pending or self.running or self._shut_down:
            return
        if self._switch_reports_off():
            self._async_off_confirmed()
            return
        # Still not off after a while: tell the user, and send off again.
        self._async_raise_relay_issue()
        self._off_retries += 1
        if self._lock.locked():
            self._async_schedule_off_retry()
            return
        self._async_create_off_task()

    @property
    def _relay_issue_id(self) -> str:
        return f"{self.entry.entry_id}_{ISSUE_RELAY_MAY_BE_ON}"

    @callback
    def _async_raise_relay_issue(self) -> None:
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self._relay_issue_id,
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.CRITICAL,
            translation_key=ISSUE_RELAY_MAY_BE_ON,
            translation_placeholders={"name": self.entry.title, "entity_id": str(self.switch)},
        )

    async def _async_call_switch(self, *, on: bool) -> None:
        """Turn the switch on or off; a call hanging longer than the timeout fails."""
        async with asyncio.timeout(SWITCH_CALL_TIMEOUT):
            await self.async_turn_switch(on, self._context)

    async def async_turn_switch(self, on: bool, context: Context | None = None) -> None:
        """Turn the configured backflush switch (``switch`` or ``input_boolean``) on or off."""
        if self.switch is None:
            raise RuntimeError("no backflush switch configured")
        await self.hass.services.async_call(
            split_entity_id(self.switch)[0],
            SERVICE_TURN_ON if on else SERVICE_TURN_OFF,
            {ATTR_ENTITY_ID: self.switch},
            blocking=True,
            context=context,
        )

    async def _async_try_switch(self, *, on: bool) -> bool:
        """Call the switch; False (logged, kept as ``last_error``) when the call failed.

        Any exception counts as a failure: the integration behind the switch may raise
        anything, and no error of it may leave the relay on or reach the caller raw.
        """
        try:
            await self._async_call_switch(on=on)
        except Exception as err:  # noqa: BLE001 - any failure of the switch's integration
            log = _LOGGER.warning if on or self._off_retries == 0 else _LOGGER.debug
            log(
                "Turning the backflush switch %s %s failed: %s",
                self.switch,
                "on" if on else "off",
                repr(err),
            )
            self.last_error = str(err) or type(err).__name__
            return False
        return True

    async def _async_switch_off(self) -> bool:
        """Send off (retried once at once); True when a call went through.

        ``off_pending`` stays set until the switch reports off.
        """
        for _ in (1, 2):
            if await self._async_try_switch(on=False):
                self._off_failed = False
                if self._switch_reports_off():
                    self._async_off_confirmed()
                else:
                    self.off_pending = True
                return True
        self.off_pending = True
        self._off_failed = True
        return False

    # ------------------------------------------------------------------ commands

    @callback
    def _async_dispatch(self, commands: list[Command]) -> None:
        """Execute commands from a callback, after those already queued."""
        if not commands or self.run is None:
            return
        run = self.run
        self.entry.async_create_task(
            self.hass, self._async_execute_locked(run, commands), f"{DOMAIN} backflush"
        )

    async def _async_execute_locked(self, run: BackflushRun, commands: list[Command]) -> None:
        async with self._lock:
            await self._async_execute(run, commands)

    async def _async_execute(self, run: BackflushRun, commands: list[Command]) -> None:
        """Execute commands in order; the caller holds the lock."""
        switched_off = True
        for command in commands:
            if isinstance(command, SwitchOn):
                if not run.running:
                    continue  # ended while this on was queued: never switch on again
                self.off_pending = True
                if not await self._async_try_switch(on=True):
                    self._cancel_timer()
                    await self._async_execute(
                        run,
                        run.abort(dt_util.utcnow().timestamp(), AbortReason.SWITCH_UNAVAILABLE),
                    )
                    return
            elif isinstance(command, SwitchOff):
                switched_off = await self._async_switch_off()
                if not run.running and run.end_reason is AbortReason.SWITCH_UNAVAILABLE:
                    # An unavailable switch ignores the call: resend once it is back.
                    self.off_pending = True
                if not switched_off and run.running:
                    # The pump may keep running through the pause: stop the routine.
                    self._cancel_timer()
                    await self._async_execute(
                        run,
                        run.abort(dt_util.utcnow().timestamp(), AbortReason.SWITCH_UNAVAILABLE),
                    )
                    return
            elif isinstance(command, RinseNow):
                self.hass.bus.async_fire(
                    EVENT_BACKFLUSH_RINSE,
                    {**self._event_base(), ATTR_PAUSE_SECONDS: command.pause_seconds},
                    context=self._context,
                )
            elif isinstance(command, Finished):
                if not switched_off:
                    await self._async_ended(run.off_unconfirmed())
                elif not self.off_pending:
                    await self._async_ended(command)
                else:
                    # Finished only once the switch reports off (see _async_switch_changed).
                    self._async_await_off_confirmation(command)
            elif isinstance(command, Aborted):
                await self._async_ended(command)

    @callback
    def _async_await_off_confirmation(self, command: Finished) -> None:
        self._pending_finish = command
        self._cancel_confirm()
        self._unsub_confirm = async_call_later(
            self.hass, OFF_CONFIRM_SECONDS, HassJob(self._async_confirm_timed_out)
        )

    @callback
    def _cancel_confirm(self) -> None:
        if self._unsub_confirm is not None:
            self._unsub_confirm()
            self._unsub_confirm = None

    @callback
    def _async_confirm_timed_out(self, _: datetime) -> None:
        self._unsub_confirm = None
        self.entry.async_create_task(
            self.hass, self._async_locked_resolve(confirmed=False), f"{DOMAIN} backflush end"
        )

    async def _async_locked_resolve(self, *, confirmed: bool) -> None:
        async with self._lock:
            await self._async_resolve_pending_finish(confirmed=confirmed)

    async def _async_resolve_pending_finish(self, *, confirmed: bool) -> None:
        """Report the finish waiting for the switch: finished once off, else an abort."""
        command, self._pending_finish = self._pending_finish, None
        self._cancel_confirm()
        if command is None or self.run is None:
            return
        if confirmed:
            await self._async_ended(command)
        else:
            _LOGGER.warning(
                "The backflush switch %s of %s did not report off after the backflush",
                self.switch,
                self.entry.title,
            )
            self._async_raise_relay_issue()
            await self._async_ended(self.run.off_unconfirmed())

    @callback
    def _async_fire_once_started(self, event_type: str, data: dict[str, Any]) -> None:
        """Fire an event now, or once Home Assistant has started (a restart's abort).

        Automations set up during start-up attach their triggers in their own listeners of
        ``homeassistant_started``: fired before, the event would be lost to them, and fired
        from within our listener it would reach only those whose listener ran before ours.
        So it is fired by a task that starts after that event was handed to every listener
        (not eagerly: each automation's listener runs eagerly, attaching its triggers before
        it first waits).
        """
        context = self._context

        @callback
        def fire() -> None:
            self.hass.bus.async_fire(event_type, data, context=context)

        async def fire_after_the_listeners() -> None:
            fire()

        @callback
        def started(_: HomeAssistant) -> None:
            self.entry.async_create_task(
                self.hass,
                fire_after_the_listeners(),
                f"{DOMAIN} fire {event_type} {self.entry.entry_id}",
                eager_start=False,
            )

        if self.hass.state is CoreState.running:
            fire()
        else:
            self.entry.async_on_unload(async_at_started(self.hass, started))

    async def _async_ended(self, command: Finished | Aborted) -> None:
        """Report an ending (the switch-off was sent just before); keep after a pending off."""
        self._cancel_timer()
        self._hooks.resume_detection()
        data: dict[str, Any] = {
            **self._event_base(),
            ATTR_TASK: command.task.value,
            ATTR_CYCLES_DONE: command.cycles_done,
            ATTR_DURATION_S: round(command.duration_s, 1),
        }
        if self.machine_power:
            data[ATTR_LIFT_BREW_LEVER] = True
            async_create_lift_brew_lever_issue(self.hass, self.entry)
        if isinstance(command, Aborted):
            data[ATTR_REASON] = command.reason.value
            _LOGGER.info("Backflush of %s aborted: %s", self.entry.title, command.reason)
            self._async_fire_once_started(EVENT_BACKFLUSH_ABORTED, data)
        else:
            self.hass.bus.async_fire(EVENT_BACKFLUSH_FINISHED, data, context=self._context)
            # The maintenance schedule records the task as done (a clean also marks backflush).
            await self._hooks.on_finished(command.task)
        self._async_follow_pending_off()
        self.coordinator.async_set_updated_data(None)
        await self._hooks.save()

    def _event_base(self) -> dict[str, Any]:
        return {
            ATTR_CONFIG_ENTRY_ID: self.entry.entry_id,
            ATTR_NAME: self.entry.title,
        }
