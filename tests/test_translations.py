"""strings.json, translations/en.json, icons.json and services.yaml agree with the code."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.helpers.translation import async_get_translations
import pytest
import yaml

from custom_components.espresso_care.binary_sensor import BINARY_SENSORS
from custom_components.espresso_care.button import BUTTONS
from custom_components.espresso_care.config_flow import OPTIONS_SECTIONS, USER_SCHEMA
from custom_components.espresso_care.const import DOMAIN, MACHINE_TYPE_MODELS, SWITCH_ROLES
from custom_components.espresso_care.engine.calibration import (
    REASON_TEXTS,
    SUMMARY_TEXTS,
    Reason,
    SummaryPart,
    render_summary,
)
from custom_components.espresso_care.engine.events import MachineState
from custom_components.espresso_care.engine.profiles import MACHINE_TYPES
from custom_components.espresso_care.options_history import (
    REASON_PREFIX,
    SUMMARY_PREFIX,
    async_reason_texts,
)
from custom_components.espresso_care.repairs import ISSUE_KEYS
from custom_components.espresso_care.sensor import SENSORS
from custom_components.espresso_care.switch import SWITCHES
from custom_components.espresso_care.todo import MAINTENANCE_LIST

if TYPE_CHECKING:
    from types import ModuleType

    from homeassistant.core import HomeAssistant

COMPONENT = Path(__file__).parent.parent / "custom_components" / "espresso_care"
SCRIPT = Path(__file__).parent.parent / "scripts" / "translations.py"


def _script() -> ModuleType:
    """scripts/translations.py, whose check this test runs."""
    spec = importlib.util.spec_from_file_location("translations_script", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TRANSLATIONS = _script()


def _json(name: str) -> dict[str, Any]:
    return json.loads((COMPONENT / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


STRINGS = _json("strings.json")
ICONS = _json("icons.json")


def test_english_translation_is_strings() -> None:
    """A custom integration ships strings.json as translations/en.json."""
    assert _json("translations/en.json") == STRINGS


def test_every_form_field_is_named_and_described() -> None:
    """Each field of each form has a label and a description."""
    forms = {("config", "user"): USER_SCHEMA}
    for (section, step), schema in forms.items():
        keys = {str(key) for key in schema.schema}
        texts = STRINGS[section]["step"][step]
        assert set(texts["data"]) == keys
        assert set(texts["data_description"]) == keys
    sections = STRINGS["options"]["step"]["settings"]["sections"]
    assert set(sections) == set(OPTIONS_SECTIONS)
    for name, schema in OPTIONS_SECTIONS.items():
        keys = {str(key) for key in schema.schema}
        assert sections[name]["name"]
        assert set(sections[name]["data"]) == keys, name
        assert set(sections[name]["data_description"]) == keys, name


def test_selectors_and_models() -> None:
    """Machine types and switch roles are translated; every machine type has a model."""
    assert set(STRINGS["selector"]["machine_type"]["options"]) == set(MACHINE_TYPES)
    assert set(STRINGS["selector"]["switch_role"]["options"]) == set(SWITCH_ROLES)
    assert set(MACHINE_TYPE_MODELS) == set(MACHINE_TYPES)


def test_entities_translated_with_icons() -> None:
    """Every entity of every platform has a name and an icon; every machine state too.

    The icons come from icons.json, never from the code (icon-translations).
    """
    for platform, descriptions in (
        ("sensor", SENSORS),
        ("binary_sensor", BINARY_SENSORS),
        ("button", BUTTONS),
        ("switch", SWITCHES),
        ("todo", (MAINTENANCE_LIST,)),
    ):
        for description in descriptions:
            assert description.icon is None, description.key
            assert "name" in STRINGS["entity"][platform][description.translation_key]
            assert "default" in ICONS["entity"][platform][description.translation_key]
    states = {state.value for state in MachineState}
    assert set(STRINGS["entity"]["sensor"]["machine_state"]["state"]) == states
    assert set(ICONS["entity"]["sensor"]["machine_state"]["state"]) == states


def test_issues_and_services() -> None:
    """Repair issues and actions are described, and actions have icons."""
    assert set(STRINGS["issues"]) == set(ISSUE_KEYS)
    services = yaml.safe_load((COMPONENT / "services.yaml").read_text(encoding="utf-8"))
    assert set(STRINGS["services"]) == set(services) == set(ICONS["services"])
    for service, spec in services.items():
        assert set(STRINGS["services"][service]["fields"]) == set(spec["fields"])


def test_exceptions_have_messages() -> None:
    """Home Assistant reads exception texts from ``exceptions.<key>.message``."""
    for key, text in STRINGS["exceptions"].items():
        assert set(text) == {"message"}, key
        assert isinstance(text["message"], str), key


def test_every_language_is_complete() -> None:
    """de, nl, it, fr and es translate every text of strings.json, none more, same placeholders.

    Fix a failure by translating what is listed: ``.venv/bin/python scripts/translations.py check``.
    """
    report = TRANSLATIONS.problems()
    assert not report, "\n".join(
        f"{language}: {line}" for language, lines in report.items() for line in lines
    )
    shipped = {path.stem for path in (COMPONENT / "translations").glob("*.json")}
    assert shipped == {"en", "de", "nl", "it", "fr", "es"}


ENGLISH = {
    "config": {"step": {"user": {"title": "Add {name}", "description": "Plug it in."}}},
    "exceptions": {"range": {"message": "{value} is outside {min} to {max}."}},
}


@pytest.mark.parametrize(
    ("translation", "problems"),
    [
        pytest.param(
            {
                "config": {"step": {"user": {"title": "{name} hinzufügen", "description": "Ein."}}},
                "exceptions": {"range": {"message": "{value} liegt außerhalb {min} bis {max}."}},
            },
            [],
            id="complete",
        ),
        pytest.param(
            {
                "config": {"step": {"user": {"title": "{name} hinzufügen"}}},
                "exceptions": {"range": {"message": "{value} liegt außerhalb {min} bis {max}."}},
            },
            ["missing: config.step.user.description"],
            id="missing",
        ),
        pytest.param(
            {
                "config": {"step": {"user": {"title": "{name} hinzufügen", "description": " "}}},
                "exceptions": {"range": {"message": "{value} liegt außerhalb {min} bis {max}."}},
            },
            ["empty: config.step.user.description"],
            id="empty",
        ),
        pytest.param(
            {
                "config": {"step": {"user": {"title": "{name} hinzufügen", "description": "Ein."}}},
                "exceptions": {
                    "range": {"message": "{value} liegt außerhalb {min} bis {max}."},
                    "old": {"message": "Veraltet."},
                },
            },
            ["extra (not in strings.json): exceptions.old.message"],
            id="extra",
        ),
        pytest.param(
            {
                "config": {"step": {"user": {"title": "{naam} hinzufügen", "description": "Ein."}}},
                "exceptions": {"range": {"message": "{value} liegt außerhalb {min} bis {min}."}},
            },
            [
                "placeholders differ: config.step.user.title: ['naam'] instead of ['name']",
                "placeholders differ: exceptions.range.message: ['min', 'min', 'value']"
                " instead of ['max', 'min', 'value']",
            ],
            id="placeholders",
        ),
        pytest.param(
            {
                "config": {"step": {"user": {"title": "{name} hinzufügen", "description": "Ein."}}},
                "exceptions": {"range": {"message": "{value} is outside {min} to {max}."}},
            },
            ["untranslated (same as English): exceptions.range.message"],
            id="untranslated",
        ),
        pytest.param(
            {
                "config": {"step": {"user": "{name} hinzufügen"}},
                "exceptions": {"range": {"message": "{value} liegt außerhalb {min} bis {max}."}},
            },
            [
                "missing: config.step.user.title",
                "missing: config.step.user.description",
                "extra (not in strings.json): config.step.user",
            ],
            id="shape",
        ),
    ],
)
def test_check_finds_every_kind_of_gap(translation: dict[str, Any], problems: list[str]) -> None:
    """The check names each missing, empty, extra, untranslated text or changed placeholder."""
    assert TRANSLATIONS.compare(ENGLISH, translation) == problems


@pytest.mark.parametrize(
    ("language", "key", "text"),
    [
        ("de", "entity.sensor.total_shots.name", "Bezüge gesamt"),
        ("nl", "entity.button.arm_backflush.name", "Terugspoelen vrijgeven"),
        ("it", "entity.sensor.machine_state.state.ready", "Pronta"),
        ("fr", "entity.switch.backflush.name", "Rétrolavage"),
        ("es", "entity.todo.maintenance.name", "Mantenimiento"),
    ],
)
async def test_home_assistant_loads_the_translations(
    hass: HomeAssistant, language: str, key: str, text: str
) -> None:
    """Home Assistant's translation loader reads our translations/<language>.json."""
    translations = await async_get_translations(hass, language, "entity", {DOMAIN})
    assert translations[f"component.{DOMAIN}.{key}"] == text


def _exception_texts(prefix: str) -> dict[str, str]:
    """The English messages of strings.json's exceptions under ``prefix``, by the rest of key."""
    return {
        key.removeprefix(prefix): value["message"]
        for key, value in STRINGS["exceptions"].items()
        if key.startswith(prefix)
    }


def test_history_reasons_have_texts() -> None:
    """Each reason the history analysis gives is in strings.json, as the engine says it."""
    assert _exception_texts(REASON_PREFIX) == REASON_TEXTS


@pytest.mark.parametrize("language", ["en", *TRANSLATIONS.LANGUAGES])
async def test_history_reasons_in_every_language(hass: HomeAssistant, language: str) -> None:
    """Every reason reads in every language, machine types by their translated names."""
    texts = await async_reason_texts(hass, language)
    names = await async_get_translations(hass, language, "selector", {DOMAIN})
    single = names[f"component.{DOMAIN}.selector.machine_type.options.single_boiler"]
    for key, english in REASON_TEXTS.items():
        figures = dict.fromkeys(TRANSLATIONS.placeholders(english), "7")
        figures |= {"best": "single_boiler", "configured": "capsule"}
        figures |= {"counts": "single_boiler 4, capsule 0"}
        text = texts(Reason(key, figures))
        assert "{" not in text
        assert "single_boiler" not in text
        if key.startswith("type_"):
            assert f"{single} 4" in text
        else:
            assert (language == "en") == (text == Reason(key, figures).text)
    assert texts(Reason("plug_too_slow", {"seconds": "10"})).startswith(
        {
            "en": "The plug reports at most about every 10 s",
            "de": "Die Steckdose meldet höchstens etwa alle 10 s",
            "nl": "De stekker meldt hoogstens ongeveer elke 10 s",
            "it": "La presa invia una lettura al massimo ogni 10 s",
            "fr": "La prise envoie une mesure au plus toutes les 10 s",
            "es": "El enchufe informa como mucho cada 10 s",
        }[language]
    )


def test_history_summary_has_texts() -> None:
    """Each part of the history analysis' summary is in strings.json, as the engine says it."""
    assert _exception_texts(SUMMARY_PREFIX) == SUMMARY_TEXTS


@pytest.mark.parametrize("language", ["en", *TRANSLATIONS.LANGUAGES])
async def test_history_summary_in_every_language(hass: HomeAssistant, language: str) -> None:
    """Every part of the summary reads in every language, singular and plural, with the
    language's decimal mark."""
    texts = await async_reason_texts(hass, language)
    keys = {key.removesuffix("_one").removesuffix("_other") for key in SUMMARY_TEXTS}
    for key in keys:
        for count in ("1", "2"):
            english = SUMMARY_TEXTS.get(key) or SUMMARY_TEXTS[f"{key}_other"]
            figures = dict.fromkeys(TRANSLATIONS.placeholders(english), "7.5")
            if "count" in figures:
                figures["count"] = count
            part = SummaryPart(key, figures)
            text = texts.summary_part(part)
            assert "{" not in text, (key, text)
            assert (language == "en") == (text == part.text), (key, text)
            if "7.5" in part.text:
                assert ("7,5" in text) == (language != "en"), (key, text)
    paragraph = [
        SummaryPart("shots", {"count": "3"}),
        SummaryPart("per_day", {"per_day": "1.5", "count": "2"}),
        SummaryPart("backflushes", {"count": "1"}),
        SummaryPart("suggestions", {"count": "1"}),
    ]
    assert (
        render_summary(paragraph, texts.summary_part)
        == {
            "en": "3 shots found (1.5 a day on the 2 days with shots); 1 backflush session. "
            "1 setting could fit better: see the suggestions.",
            "de": "3 Bezüge gefunden (1,5 am Tag an den 2 Tagen mit Bezügen); 1 Rückspülung. "
            "1 Einstellung könnte besser passen: siehe die Vorschläge.",
            "nl": "3 shots gevonden (1,5 per dag op de 2 dagen met shots); 1 terugspoeling. "
            "1 instelling zou beter kunnen passen: zie de suggesties.",
            "it": "3 caffè trovati (1,5 al giorno nei 2 giorni con caffè); 1 controlavaggio. "
            "1 impostazione potrebbe adattarsi meglio: vedi i suggerimenti.",
            "fr": "3 cafés trouvés (1,5 par jour sur les 2 jours avec des cafés); 1 rétrolavage. "
            "1 réglage pourrait mieux convenir : voir les suggestions.",
            "es": "3 cafés encontrados (1,5 al día en los 2 días con cafés); 1 retrolavado. "
            "1 ajuste podría encajar mejor: mira las sugerencias.",
        }[language]
    )
