"""Options flow steps "Suggest settings from history" (mixed into the options flow).

``history`` asks how many days to analyse, ``history_analyze`` runs the analysis of
``history.py`` as the flow's progress task, ``history_apply`` shows what was found (the
summary, the suggestions with their reasons) and applies what the user ticks: a suggested
setting, and optionally the shots found before Espresso Care started counting (since a chosen
date), added to the total once.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import selector, translation
from homeassistant.util import dt as dt_util
from sqlalchemy.exc import SQLAlchemyError
import voluptuous as vol

from .const import (
    ATTR_DAYS,
    CONF_MACHINE_TYPE,
    CONF_SHOT_MAX_SECONDS,
    CONF_SHOT_MIN_SECONDS,
    DOMAIN,
)
from .engine.calibration import render_summary
from .engine.profiles import MACHINE_TYPES, settings_for
from .history import DEFAULT_DAYS, MAX_DAYS, MIN_DAYS, RECORDER_DOMAIN, async_analyze
from .language import decimal_commas, plural_category

if TYPE_CHECKING:
    import asyncio
    from datetime import date

    from homeassistant.core import HomeAssistant

    from .data import EspressoCareConfigEntry
    from .engine.calibration import Analysis, Reason, SummaryPart

_LOGGER = logging.getLogger(__name__)

STEP_HISTORY = "history"
CONF_ADD_HISTORY_SHOTS = "add_history_shots"
CONF_HISTORY_SINCE = "history_since"
# the options a suggestion can set, in the order they are shown
SUGGESTED_OPTIONS = (CONF_MACHINE_TYPE, CONF_SHOT_MIN_SECONDS, CONF_SHOT_MAX_SECONDS)

DAYS_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DAYS, default=DEFAULT_DAYS): selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=MIN_DAYS,
                max=MAX_DAYS,
                step=1,
                unit_of_measurement="d",
                mode=selector.NumberSelectorMode.BOX,
            )
        )
    }
)


def history_shots_since(analysis: Analysis, since: date) -> int:
    """Shots found before the counters started counting, from ``since`` on (local days)."""
    first = since.isoformat()
    return sum(n for day, n in analysis.main.per_day_before.items() if day >= first)


REASON_PREFIX = "history_reason_"
SUMMARY_PREFIX = "history_summary_"
_MACHINE_TYPE = re.compile(r"\b(" + "|".join(map(re.escape, MACHINE_TYPES)) + r")\b")


class ReasonTexts:
    """The analysis' texts and machine type names in one language (English where missing).

    A reason's text is ``exceptions.history_reason_<key>`` of strings.json, a part of the
    summary ``exceptions.history_summary_<text key>`` (by the language's plural form of its
    count); a machine type key in the placeholders (``single_boiler``) becomes the type's name
    (the ``machine_type`` selector's option), and figures get the language's decimal comma.
    """

    def __init__(self, strings: dict[str, str], language: str = "en") -> None:
        """Wrap the ``exceptions`` and ``selector`` translations of Espresso Care."""
        self._strings = strings
        self._language = language

    def machine_type(self, value: str) -> str:
        """Return the translated name of a machine type (the key when unknown)."""
        key = f"component.{DOMAIN}.selector.machine_type.options.{value}"
        return self._strings.get(key, value)

    def _format(self, text: str, placeholders: dict[str, str]) -> str:
        return text.format(
            **{
                name: decimal_commas(
                    self._language,
                    _MACHINE_TYPE.sub(lambda m: self.machine_type(m.group(1)), value),
                )
                for name, value in placeholders.items()
            }
        )

    def _exception(self, key: str, english: str, placeholders: dict[str, str]) -> str:
        """Return ``exceptions.<key>`` in this language, filled in (``english`` when missing)."""
        text = self._strings.get(f"component.{DOMAIN}.exceptions.{key}.message")
        if text is None:
            return english
        return self._format(text, placeholders)

    def __call__(self, reason: Reason) -> str:
        """Return the reason in this language."""
        return self._exception(REASON_PREFIX + reason.key, reason.text, reason.placeholders)

    def summary_part(self, part: SummaryPart) -> str:
        """Return one part of the summary in this language."""
        count = part.count
        text_key = part.text_key(plural_category(self._language, 0 if count is None else count))
        return self._exception(SUMMARY_PREFIX + text_key, part.text, part.placeholders)

    def summary(self, analysis: Analysis) -> str:
        """Return the summary paragraph in this language (the warnings not included)."""
        return render_summary(analysis.summary_parts, self.summary_part)


async def async_reason_texts(hass: HomeAssistant, language: str) -> ReasonTexts:
    """Load the texts of ``ReasonTexts`` for ``language``."""
    strings: dict[str, str] = {}
    for category in ("exceptions", "selector"):
        strings |= await translation.async_get_translations(hass, language, category, {DOMAIN})
    return ReasonTexts(strings, language)


def _format_value(texts: ReasonTexts, key: str, value: float | str) -> str:
    if key == CONF_MACHINE_TYPE:
        return texts.machine_type(str(value))
    return f"{float(value):g} s"


class HistoryOptionsSteps(OptionsFlow):
    """The steps of "Suggest settings from history" (see the module docstring)."""

    _history_days: int = DEFAULT_DAYS
    _history_task: asyncio.Task[Analysis] | None = None
    _analysis: Analysis | None = None

    @property
    def _entry(self) -> EspressoCareConfigEntry:
        return self.config_entry

    async def async_step_history(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask how many days of the power sensor's recorded history to analyse."""
        if RECORDER_DOMAIN not in self.hass.config.components:
            return self.async_abort(reason="recorder_not_running")
        if user_input is not None:
            self._history_days = int(user_input[ATTR_DAYS])
            return await self.async_step_history_analyze()
        return self.async_show_form(step_id=STEP_HISTORY, data_schema=DAYS_SCHEMA)

    async def async_step_history_analyze(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Run the analysis as the flow's progress task (it may take a minute for 30 days)."""
        started = self._history_task is None
        if self._history_task is None:
            self._history_task = self.hass.async_create_task(
                async_analyze(self.hass, self._entry, self._history_days),
                f"espresso_care analyze history {self._entry.entry_id}",
            )
        # Progress first, even when the task is done already: the step after "progress done"
        # would get the days form's input as its own.
        if started or not self._history_task.done():
            return self.async_show_progress(
                step_id="history_analyze",
                progress_action="analyze_history",
                progress_task=self._history_task,
                description_placeholders={"days": str(self._history_days)},
            )
        try:
            self._analysis = self._history_task.result()
        except (HomeAssistantError, SQLAlchemyError):
            _LOGGER.exception("The history of %s could not be analysed", self._entry.title)
            return self.async_show_progress_done(next_step_id="history_failed")
        return self.async_show_progress_done(next_step_id="history_apply")

    async def async_step_history_failed(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """End the flow: the history could not be read."""
        return self.async_abort(reason="history_failed")

    async def async_step_history_apply(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the findings and apply the ticked suggestions (and history shots)."""
        analysis = self._analysis
        if analysis is None:  # pragma: no cover - only reached after the analysis
            return await self.async_step_history()
        entry = self._entry
        shots = entry.runtime_data.shots
        can_add = shots.history_import is None and bool(analysis.main.per_day_before)
        errors: dict[str, str] = {}
        if user_input is not None:
            options = {**entry.options}
            for key in SUGGESTED_OPTIONS:
                if user_input.get(key) and key in analysis.suggested:
                    value = analysis.suggested[key].value
                    options[key] = value if key == CONF_MACHINE_TYPE else float(value)
            try:
                settings_for(
                    options[CONF_MACHINE_TYPE],
                    **{
                        key: float(options[key])
                        for key in (CONF_SHOT_MIN_SECONDS, CONF_SHOT_MAX_SECONDS)
                        if key in options
                    },
                )
            except ValueError:
                errors["base"] = "suggestions_inconsistent"
            since: date | None = None
            if can_add and user_input.get(CONF_ADD_HISTORY_SHOTS):
                since = dt_util.parse_date(str(user_input.get(CONF_HISTORY_SINCE, "")))
                if since is None or since > dt_util.now().date():
                    errors[CONF_HISTORY_SINCE] = "history_since_invalid"
            if not errors:
                if since is not None:
                    await shots.async_add_history_shots(history_shots_since(analysis, since), since)
                return self.async_create_entry(data=options)

        schema: dict[Any, Any] = {
            vol.Optional(key, default=False): selector.BooleanSelector()
            for key in SUGGESTED_OPTIONS
            if key in analysis.suggested
        }
        first_day = min(analysis.main.per_day_before, default=None)
        if can_add:
            schema[vol.Optional(CONF_ADD_HISTORY_SHOTS, default=False)] = selector.BooleanSelector()
            schema[vol.Optional(CONF_HISTORY_SINCE, default=first_day)] = selector.DateSelector()
        texts = await async_reason_texts(self.hass, self.hass.config.language)
        suggestions = "\n".join(
            f"- **{key}** → {_format_value(texts, key, s.value)}: {texts(s.reason)}"
            for key, s in analysis.suggested.items()
        )
        warnings = " ".join(texts(reason) for reason in analysis.warnings.values())
        before = sum(analysis.main.per_day_before.values())
        return self.async_show_form(
            step_id="history_apply",
            data_schema=self.add_suggested_values_to_schema(vol.Schema(schema), user_input),
            errors=errors,
            description_placeholders={
                "days": str(self._history_days),
                "summary": texts.summary(analysis),
                "warnings": f" {warnings}" if warnings else "",
                "suggestions": suggestions or "-",
                "history_shots": str(before if can_add else 0),
                "first_day": first_day or "-",
            },
        )
