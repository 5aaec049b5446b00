"""Intents of Espresso Care: ask about and act on the maintenance by voice.

Registered through the ``intent`` integration's platform (``async_setup_intents``), so the
default conversation agent (with the sentences in ``sentences/``), other agents and the Assist
LLM API all reach them. Every answer is spoken in the request's language; the texts are the
``intent_*`` entries (and, for a refused start, the error messages) of ``exceptions`` in
strings.json and its translations.

A text about a count has one key per plural category, ``<key>_one`` and ``<key>_other``;
``language.plural_category`` picks one by the rules of the request's language.

Slots: ``machine`` (a machine's name; optional with one machine, matched ignoring case,
spaces and punctuation) and ``task`` (``backflush``, ``clean``, ``descale``). Neither is the
reserved ``name`` slot, which Home Assistant fills with the names of exposed entities.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
import math
import re
from typing import TYPE_CHECKING, Any

from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, intent, translation
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import DOMAIN, SOURCE_VOICE
from .engine.backflush import PROGRAM_TASKS, BackflushProgram
from .engine.maintenance import TASKS, Task
from .language import plural_category

if TYPE_CHECKING:
    from collections.abc import Iterable

    from homeassistant.core import HomeAssistant

    from .data import EspressoCareConfigEntry
    from .engine.maintenance import TaskStatus

INTENT_SHOTS_SINCE = "EspressoCareShotsSince"
INTENT_STATUS = "EspressoCareMaintenanceStatus"
INTENT_START = "EspressoCareStartBackflush"
INTENT_MARK_DONE = "EspressoCareMarkDone"

SLOT_MACHINE = "machine"
SLOT_TASK = "task"
# The tasks the automated backflush runs (the engine's programs).
STARTABLE_TASKS = PROGRAM_TASKS

_MACHINE_SLOT = {vol.Optional(SLOT_MACHINE): cv.string}
_CATEGORY = "exceptions"


async def async_setup_intents(hass: HomeAssistant) -> None:
    """Register the intents (called once by the ``intent`` integration)."""
    intent.async_register(hass, ShotsSinceIntent())
    intent.async_register(hass, MaintenanceStatusIntent())
    intent.async_register(hass, StartBackflushIntent())
    intent.async_register(hass, MarkDoneIntent())


class _Texts:
    """The spoken texts in one language (English for a missing one)."""

    def __init__(self, strings: dict[str, str], language: str) -> None:
        self._strings = strings
        self._language = language

    def __call__(self, key: str, **placeholders: Any) -> str:
        text = self._strings.get(f"component.{DOMAIN}.{_CATEGORY}.{key}.message", key)
        return text.format(**placeholders)

    def plural(self, key: str, number: int, /, **placeholders: Any) -> str:
        """Return the ``key_one`` or ``key_other`` text, as ``number`` asks in this language."""
        return self(f"{key}_{plural_category(self._language, number)}", **placeholders)

    def time(self, days: float) -> str:
        """``3 days``, or ``5 hours`` below a day (rounded up)."""
        if days >= 1:
            count = round(days)
            return self.plural("intent_days", count, count=count)
        count = max(1, math.ceil(days * 24))
        return self.plural("intent_hours", count, count=count)

    def task(self, task: Task) -> str:
        return self(f"intent_task_{task}")

    def due(self, status: TaskStatus) -> str:
        """When a task is due: now, snoozed, in shots and/or time, or never."""
        if status.snoozed_until is not None and status.due_by_rules:
            left = status.snoozed_until - dt_util.now()
            return self("intent_snoozed", time=self.time(left.total_seconds() / 86400))
        if status.due:
            return self("intent_due_now")
        shots, days = status.shots_remaining, status.days_remaining
        if shots is not None and days is not None:
            return self.plural(
                "intent_due_in_shots_or_time", shots, shots=shots, time=self.time(days)
            )
        if shots is not None:
            return self.plural("intent_due_in_shots", shots, shots=shots)
        if days is not None:
            return self("intent_due_in_time", time=self.time(days))
        return self("intent_never_due")


async def _async_texts(hass: HomeAssistant, language: str) -> _Texts:
    strings = await translation.async_get_translations(hass, language, _CATEGORY, {DOMAIN})
    return _Texts(strings, language)


def _normalise(name: str) -> str:
    return re.sub(r"[\W_]+", "", name.casefold())


class _NoMachineError(Exception):
    """No machine could be chosen; ``answer`` says why."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer


def _machine(hass: HomeAssistant, slots: dict[str, Any], texts: _Texts) -> EspressoCareConfigEntry:
    """Return the machine the request means: the one named, or the only one."""
    entries: list[EspressoCareConfigEntry] = hass.config_entries.async_loaded_entries(DOMAIN)
    if not entries:
        raise _NoMachineError(texts("intent_no_machine"))
    if (spoken := slots.get(SLOT_MACHINE, {}).get("value")) is None:
        if len(entries) == 1:
            return entries[0]
        names = ", ".join(entry.title for entry in entries)
        raise _NoMachineError(texts("intent_which_machine", machines=names))
    wanted = _normalise(spoken)
    for matches in (
        [entry for entry in entries if _normalise(entry.title) == wanted],
        [entry for entry in entries if wanted and wanted in _normalise(entry.title)],
        [entry for entry in entries if _normalise(entry.title) in wanted],
    ):
        if len(matches) == 1:
            return matches[0]
    raise _NoMachineError(texts("intent_machine_not_found", machine=spoken))


@dataclass(frozen=True, slots=True)
class _Request:
    """One request: the intent, the machine it means, its validated slots and its texts."""

    intent: intent.Intent
    entry: EspressoCareConfigEntry
    slots: dict[str, Any]
    texts: _Texts

    def task(self, default: Task | None = None) -> Task:
        """Return the task the request names (``default`` when it names none)."""
        value = self.slots.get(SLOT_TASK, {}).get("value")
        return default if value is None and default is not None else Task(value)


def _slot_schema(
    task_key: type[vol.Optional | vol.Required], tasks: Iterable[Task] = TASKS
) -> dict[Any, Any]:
    """Return the slots: the machine and a task (one of ``tasks``)."""
    return {**_MACHINE_SLOT, task_key(SLOT_TASK): vol.In([str(task) for task in tasks])}


class _EspressoCareIntent(intent.IntentHandler, ABC):
    """Resolve the machine and the texts, answer with speech."""

    slot_schema: dict[Any, Any] = _MACHINE_SLOT

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Answer the request in its language."""
        slots = self.async_validate_slots(intent_obj.slots)
        texts = await _async_texts(intent_obj.hass, intent_obj.language)
        try:
            entry = _machine(intent_obj.hass, slots, texts)
            speech = await self.async_answer(_Request(intent_obj, entry, slots, texts))
        except _NoMachineError as err:
            speech = err.answer
        response = intent_obj.create_response()
        response.async_set_speech(speech)
        return response

    @abstractmethod
    async def async_answer(self, request: _Request) -> str:
        """Do what was asked; return the answer."""


class ShotsSinceIntent(_EspressoCareIntent):
    """How many shots since a task, and when it is due."""

    intent_type = INTENT_SHOTS_SINCE
    description = (
        "Tells how many espresso shots were pulled since a maintenance task (backflush, "
        "clean with detergent, descale) of an espresso machine was done, and when it is due"
    )
    slot_schema = _slot_schema(vol.Optional)

    async def async_answer(self, request: _Request) -> str:
        """``14 shots since the last backflush; due in 6 shots or 3 days.``."""
        texts, task = request.texts, request.task(Task.BACKFLUSH)
        status = request.entry.runtime_data.maintenance.evaluated(task)
        count = status.shots_since
        shots = texts.plural(f"intent_shots_since_{task}", count, shots=count)
        return f"{shots}; {texts.due(status)}."


class MaintenanceStatusIntent(_EspressoCareIntent):
    """What is due, and when the others are."""

    intent_type = INTENT_STATUS
    description = (
        "Tells which maintenance tasks of an espresso machine are due now and when the "
        "others come next"
    )

    async def async_answer(self, request: _Request) -> str:
        """``Due now: backflush. Next: descaling, due in 40 days.``."""
        texts, maintenance = request.texts, request.entry.runtime_data.maintenance
        statuses = [maintenance.evaluated(task) for task in TASKS]
        due = [texts.task(status.task) for status in statuses if status.due]
        later = [
            f"{texts.task(status.task)}, {texts.due(status)}"
            for status in statuses
            if not status.due
        ]
        parts = [
            texts("intent_status_due", tasks=", ".join(due))
            if due
            else texts("intent_status_nothing_due")
        ]
        if later:
            parts.append(texts("intent_status_next", items="; ".join(later)))
        return " ".join(parts)


class StartBackflushIntent(_EspressoCareIntent):
    """Start the automated backflush or clean (or say why not, how to arm)."""

    intent_type = INTENT_START
    description = (
        "Starts the automated backflush (task backflush) or clean with detergent (task clean) "
        "of an espresso machine through its backflush switch"
    )
    slot_schema = _slot_schema(vol.Optional, STARTABLE_TASKS)

    async def async_answer(self, request: _Request) -> str:
        """Start, or answer with the reason it must not start (arming first)."""
        texts, entry, task = request.texts, request.entry, request.task(Task.BACKFLUSH)
        try:
            await entry.runtime_data.backflush.async_start_program(
                BackflushProgram.build(task=str(task)), request.intent.context
            )
        except ServiceValidationError as err:
            return texts(str(err.translation_key), **(err.translation_placeholders or {}))
        return texts("intent_started", task=texts.task(task), name=entry.title)


class MarkDoneIntent(_EspressoCareIntent):
    """Record a task as done now."""

    intent_type = INTENT_MARK_DONE
    description = (
        "Records that a maintenance task (backflush, clean with detergent, descale) of an "
        "espresso machine was just done"
    )
    slot_schema = _slot_schema(vol.Required)

    async def async_answer(self, request: _Request) -> str:
        """Mark done (a clean also marks the backflush) and confirm."""
        texts, entry, task = request.texts, request.entry, request.task()
        await entry.runtime_data.maintenance.async_mark_done(task, source=SOURCE_VOICE)
        return texts("intent_marked_done", task=texts.task(task), name=entry.title)
