"""Voice: our intents through Home Assistant's default conversation agent, in six languages,
the built-in intents on our entities, the Assist LLM API, and installing the sentences."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hassil import Group, Intents, ListReference
from homeassistant.components import conversation
from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import Context
from homeassistant.helpers import intent, llm
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import yaml

from custom_components.espresso_care.const import CONF_BACKFLUSH_SWITCH, DOMAIN
from custom_components.espresso_care.engine.maintenance import TASKS
from custom_components.espresso_care.intent import (
    INTENT_MARK_DONE,
    INTENT_SHOTS_SINCE,
    INTENT_START,
    INTENT_STATUS,
    SLOT_MACHINE,
    SLOT_TASK,
    STARTABLE_TASKS,
    _async_texts,
)
from custom_components.espresso_care.language import plural_category
from custom_components.espresso_care.sentences import (
    LANGUAGES,
    SENTENCES_DIR,
    sync_sentences,
    target_path,
)

from .common import SHORT_RULES
from .conftest import ENTRY_ID, POWER_SENSOR
from .test_maintenance import due, shots_since

if TYPE_CHECKING:
    from collections.abc import Iterator

    from homeassistant.core import HomeAssistant

RELAY = "input_boolean.pump_relay"
BACKFLUSH_SWITCH = "switch.espresso_machine_backflush"
ARM = "button.espresso_machine_arm_backflush"
T0 = "2026-05-04 17:00:00+00:00"


@pytest.fixture
def options(options: dict[str, Any]) -> dict[str, Any]:
    """Short rules, a backflush switch, and the sentences installed."""
    return {
        **options,
        **SHORT_RULES,
        CONF_BACKFLUSH_SWITCH: RELAY,
        "install_voice_sentences": True,
    }


@pytest.fixture
async def assist(hass: HomeAssistant, config_entry: MockConfigEntry, power_sensor: str) -> None:
    """The machine set up (its relay an input_boolean), then Assist."""
    assert await async_setup_component(hass, "input_boolean", {"input_boolean": {"pump_relay": {}}})
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    for component in ("homeassistant", "intent", "conversation"):
        assert await async_setup_component(hass, component, {})
    await hass.async_block_till_done()


def second_machine(hass: HomeAssistant, config_entry: MockConfigEntry) -> MockConfigEntry:
    """A second machine, "Office", like the first on a plug of its own (not added to hass)."""
    hass.states.async_set(
        "sensor.office_plug_power", "1.0", hass.states.get(POWER_SENSOR).attributes
    )
    return MockConfigEntry(
        domain=DOMAIN,
        title="Office",
        options={
            **config_entry.options,
            "name": "Office",
            "power_sensor": "sensor.office_plug_power",
        },
    )


async def adjust(hass: HomeAssistant, count: int) -> None:
    await hass.services.async_call(
        DOMAIN, "adjust_shots", {"config_entry_id": ENTRY_ID, "count": count}, blocking=True
    )


async def ask(hass: HomeAssistant, text: str, language: str = "en") -> intent.IntentResponse:
    result = await conversation.async_converse(hass, text, None, Context(), language=language)
    await hass.async_block_till_done()
    return result.response


def speech(response: intent.IntentResponse) -> str:
    return str(response.speech["plain"]["speech"])


# For each language: a question and its answer (2 shots counted, backflush every 3 shots or 7
# days), then a command and its answer (the backflush marked done).
LANGUAGE_CASES = {
    "en": (
        "how many shots since the last backflush",
        "2 shots since the last backflush; due in 1 shot or 7 days.",
        "I finished the backflush",
        "Marked as done: backflush of Espresso machine.",
    ),
    "de": (
        "Wie viele Bezüge seit der letzten Rückspülung",
        "2 Bezüge seit der letzten Rückspülung; fällig in 1 Bezug oder 7 Tagen.",
        "Ich habe die Rückspülung erledigt",
        "Als erledigt eingetragen: Rückspülung von Espresso machine.",
    ),
    "nl": (
        "hoeveel shots sinds de laatste terugspoeling",
        "2 shots sinds de laatste terugspoeling; nodig over 1 shot of 7 dagen.",
        "ik heb de terugspoeling gedaan",
        "Als gedaan genoteerd: terugspoeling van Espresso machine.",
    ),
    "it": (
        "quanti caffè dall'ultimo controlavaggio",
        "2 caffè dall'ultimo controlavaggio; da fare tra 1 caffè o 7 giorni.",
        "ho fatto il controlavaggio",
        "Segnato come fatto: controlavaggio di Espresso machine.",
    ),
    "fr": (
        "combien de cafés depuis le dernier rétrolavage",
        "2 cafés depuis le dernier rétrolavage; à faire dans 1 café ou 7 jours.",
        "j'ai fait le rétrolavage",
        "Noté comme fait : rétrolavage de Espresso machine.",
    ),
    "es": (
        "cuántos cafés desde el último retrolavado",
        "2 cafés desde el último retrolavado; toca dentro de 1 café o 7 días.",
        "he hecho el retrolavado",
        "Anotado como hecho: retrolavado de Espresso machine.",
    ),
}


def test_every_language_has_sentences_and_a_case() -> None:
    """The six languages ship sentences, and each is tested below."""
    assert sorted(path.stem for path in SENTENCES_DIR.glob("*.yaml")) == sorted(LANGUAGES)
    assert set(LANGUAGE_CASES) == set(LANGUAGES)


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("assist")
@pytest.mark.parametrize("language", LANGUAGES)
async def test_query_and_command(hass: HomeAssistant, language: str) -> None:
    """A question is answered from the schedule; a command marks the task done."""
    question, answer, command, confirmation = LANGUAGE_CASES[language]
    await adjust(hass, 2)
    response = await ask(hass, question, language)
    assert response.intent is not None
    assert response.intent.intent_type == INTENT_SHOTS_SINCE
    assert speech(response) == answer

    response = await ask(hass, command, language)
    assert response.intent is not None
    assert response.intent.intent_type == INTENT_MARK_DONE
    assert speech(response) == confirmation
    assert hass.states.get(shots_since("backflush")).state == "0"


# For each language, 1 and 2 of each counted thing: the answer with 1 shot counted (due in 2),
# then the time texts of 1 day, 2 days, 1 hour and 2 hours.
PLURAL_CASES = {
    "en": (
        "1 shot since the last backflush; due in 2 shots or 7 days.",
        ("1 day", "2 days", "1 hour", "2 hours"),
    ),
    "de": (
        "1 Bezug seit der letzten Rückspülung; fällig in 2 Bezügen oder 7 Tagen.",
        ("1 Tag", "2 Tagen", "1 Stunde", "2 Stunden"),
    ),
    "nl": (
        "1 shot sinds de laatste terugspoeling; nodig over 2 shots of 7 dagen.",
        ("1 dag", "2 dagen", "1 uur", "2 uur"),
    ),
    "it": (
        "1 caffè dall'ultimo controlavaggio; da fare tra 2 caffè o 7 giorni.",
        ("1 giorno", "2 giorni", "1 ora", "2 ore"),
    ),
    "fr": (
        "1 café depuis le dernier rétrolavage; à faire dans 2 cafés ou 7 jours.",
        ("1 jour", "2 jours", "1 heure", "2 heures"),
    ),
    "es": (
        "1 café desde el último retrolavado; toca dentro de 2 cafés o 7 días.",
        ("1 día", "2 días", "1 hora", "2 horas"),
    ),
}


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("assist")
@pytest.mark.parametrize("language", LANGUAGES)
async def test_singular_and_plural(hass: HomeAssistant, language: str) -> None:
    """1 shot, 1 day, 1 hour are singular, 2 of each plural, in every language.

    (With 2 shots counted, LANGUAGE_CASES above checks "due in 1 shot".)
    """
    answer, times = PLURAL_CASES[language]
    question = LANGUAGE_CASES[language][0]
    await adjust(hass, 1)
    assert speech(await ask(hass, question, language)) == answer
    texts = await _async_texts(hass, language)
    assert (texts.time(1), texts.time(2), texts.time(1 / 24), texts.time(2 / 24)) == times


@pytest.mark.usefixtures("assist")
async def test_french_zero_is_singular(hass: HomeAssistant) -> None:
    """French counts 0 in the singular ("0 café"); English in the plural ("0 shots")."""
    fr, en = await _async_texts(hass, "fr"), await _async_texts(hass, "en")
    assert fr.plural("intent_shots_since_backflush", 0, shots=0) == (
        "0 café depuis le dernier rétrolavage"
    )
    assert en.plural("intent_shots_since_backflush", 0, shots=0) == (
        "0 shots since the last backflush"
    )


@pytest.mark.parametrize(
    ("language", "count", "category"),
    [
        ("en", 1, "one"),
        ("en", 0, "other"),
        ("en", 2, "other"),
        ("de-CH", 1, "one"),
        ("fr", 0, "one"),
        ("fr-CA", 1, "one"),
        ("fr", 2, "other"),
        ("es", 21, "other"),
        ("pt-BR", 0, "other"),  # answered in English
    ],
)
def test_plural_category(language: str, count: int, category: str) -> None:
    """The CLDR cardinal rule of the request's language picks the text."""
    assert plural_category(language, count) == category


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("assist")
async def test_status(hass: HomeAssistant) -> None:
    """What is due now, and when each other task is."""
    response = await ask(hass, "what maintenance is due")
    assert response.intent.intent_type == INTENT_STATUS
    assert speech(response) == (
        "Nothing is due. Next: backflush, due in 3 shots or 7 days; clean with detergent, "
        "due in 5 shots or 30 days; descaling, due in 90 days."
    )
    await adjust(hass, 3)
    await hass.services.async_call(
        DOMAIN,
        "snooze",
        {"config_entry_id": ENTRY_ID, "task": "descale", "duration": {"hours": 5}},
        blocking=True,
    )
    assert speech(await ask(hass, "is any maintenance due on the espresso machine")) == (
        "Due now: backflush. Next: clean with detergent, due in 2 shots or 30 days; "
        "descaling, due in 90 days."
    )
    assert speech(await ask(hass, "when is the next clean due")) == (
        "3 shots since the last clean with detergent; due in 2 shots or 30 days."
    )


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("assist")
@pytest.mark.parametrize(
    ("language", "question", "due_now", "snoozed", "status"),
    [
        (
            "en",
            "how many shots since the last backflush",
            "3 shots since the last backflush; due now.",
            "3 shots since the last backflush; due, but snoozed for 5 hours.",
            "Nothing is due. Next: backflush, due, but snoozed for 5 hours; clean with "
            "detergent, due in 2 shots or 30 days; descaling, due in 90 days.",
        ),
        (
            "de",
            "wie viele Bezüge seit der letzten Rückspülung",
            "3 Bezüge seit der letzten Rückspülung; jetzt fällig.",
            "3 Bezüge seit der letzten Rückspülung; fällig, aber zurückgestellt: wieder in 5 "
            "Stunden.",
            "Nichts ist fällig. Als Nächstes: Rückspülung, fällig, aber zurückgestellt: wieder "
            "in 5 Stunden; Reinigung mit Reiniger, fällig in 2 Bezügen oder 30 Tagen; "
            "Entkalkung, fällig in 90 Tagen.",
        ),
    ],
)
async def test_due_and_snoozed_answers(
    hass: HomeAssistant, language: str, question: str, due_now: str, snoozed: str, status: str
) -> None:
    """A due task reads "due now"; snoozed while due, how long the snooze still runs."""
    await adjust(hass, 3)
    assert speech(await ask(hass, question, language)) == due_now
    await hass.services.async_call(
        DOMAIN,
        "snooze",
        {"config_entry_id": ENTRY_ID, "task": "backflush", "duration": {"hours": 5}},
        blocking=True,
    )
    assert speech(await ask(hass, question, language)) == snoozed
    status_question = {"en": "what maintenance is due", "de": "welche Wartung ist fällig"}
    assert speech(await ask(hass, status_question[language], language)) == status


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("assist")
async def test_start_honours_arming(hass: HomeAssistant, config_entry: MockConfigEntry) -> None:
    """With arming required the answer says how to arm; armed, the routine starts."""
    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, "require_arming": True}
    )
    await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done()
    response = await ask(hass, "start the espresso backflush")
    assert response.intent.intent_type == INTENT_START
    assert speech(response) == (
        "Press the Arm backflush button of Espresso machine first: the backflush must start "
        "within 60 seconds after arming."
    )
    assert hass.states.get(RELAY).state == STATE_OFF

    await hass.services.async_call("button", "press", {"entity_id": ARM}, blocking=True)
    response = await ask(hass, "start the backflush")
    assert speech(response) == "Starting the backflush of Espresso machine."
    assert hass.states.get(RELAY).state == STATE_ON
    assert hass.states.get(BACKFLUSH_SWITCH).state == STATE_ON


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("assist")
async def test_start_clean_in_german_and_refusal(hass: HomeAssistant) -> None:
    """A clean starts by voice; a second start is refused with the translated reason."""
    assert speech(await ask(hass, "starte die Reinigung", "de")) == (
        "Ich starte die Reinigung mit Reiniger von Espresso machine."
    )
    assert hass.states.get(RELAY).state == STATE_ON
    answer = speech(await ask(hass, "start the backflush"))
    assert answer == "A backflush of Espresso machine is already running."


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("assist")
async def test_builtin_intents_on_our_entities(hass: HomeAssistant) -> None:
    """Exposed, our entities answer HassTurnOn and HassGetState by their names."""
    for entity_id in (BACKFLUSH_SWITCH, shots_since("backflush")):
        async_expose_entity(hass, conversation.DOMAIN, entity_id, True)
    await adjust(hass, 2)
    response = await ask(hass, "what is the Espresso machine shots since backflush")
    assert response.intent.intent_type == intent.INTENT_GET_STATE
    assert speech(response) == "Espresso machine shots since backflush is 2"

    response = await ask(hass, "turn on Espresso machine Backflush")
    assert response.intent.intent_type == intent.INTENT_TURN_ON
    assert response.response_type is intent.IntentResponseType.ACTION_DONE
    assert hass.states.get(BACKFLUSH_SWITCH).state == STATE_ON
    assert hass.states.get(RELAY).state == STATE_ON


@pytest.mark.usefixtures("assist")
async def test_machine_slot(hass: HomeAssistant, config_entry: MockConfigEntry) -> None:
    """With two machines the name picks one; without it the answer asks which."""
    office = second_machine(hass, config_entry)
    office.add_to_hass(hass)
    assert await hass.config_entries.async_setup(office.entry_id)
    await hass.async_block_till_done()
    await adjust(hass, 2)
    assert speech(await ask(hass, "how many shots since the last backflush on the office")) == (
        "0 shots since the last backflush; due in 3 shots or 7 days."
    )
    assert speech(
        await ask(hass, "how many shots since the last backflush of the espresso machine")
    ).startswith("2 shots")
    assert speech(await ask(hass, "how many shots since the last backflush")) == (
        "Which espresso machine: Espresso machine, Office?"
    )
    assert speech(await ask(hass, "mark the descale as done for the kitchen")) == (
        "I don't know an espresso machine called kitchen."
    )
    assert hass.states.get(due("descale")).state == STATE_OFF


@pytest.mark.usefixtures("assist")
async def test_intents_are_llm_tools(hass: HomeAssistant) -> None:
    """The Assist LLM API offers our intents as tools, with their slots."""
    api = await llm.async_get_api(
        hass,
        llm.LLM_API_ASSIST,
        llm.LLMContext(
            platform="test",
            context=Context(),
            language="en",
            assistant="conversation",
            device_id=None,
        ),
    )
    # Newer Home Assistant takes them from our llm platform, named "espresso_care__<intent>".
    tools = {tool.name.removeprefix(f"{DOMAIN}__"): tool for tool in api.tools}
    for intent_type in (INTENT_SHOTS_SINCE, INTENT_STATUS, INTENT_START, INTENT_MARK_DONE):
        assert intent_type in tools
    assert set(tools[INTENT_MARK_DONE].parameters.schema) == {"machine", "task"}
    await adjust(hass, 2)
    result = await api.async_call_tool(
        llm.ToolInput(tool_name=tools[INTENT_SHOTS_SINCE].name, tool_args={"task": "clean"})
    )
    data = getattr(result, "data", result)  # newer Home Assistant wraps it in a ToolResult
    assert data["speech"]["plain"]["speech"] == (
        "2 shots since the last clean with detergent; due in 3 shots or 30 days."
    )


# --- installing the sentences ----------------------------------------------------------------


@pytest.mark.usefixtures("assist")
async def test_sentences_installed_and_removed(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """On: every language is written; a file the user changed stays; off: ours go."""
    config_dir = Path(hass.config.config_dir)
    for language in LANGUAGES:
        assert (
            target_path(config_dir, language).read_bytes()
            == (SENTENCES_DIR / f"{language}.yaml").read_bytes()
        )
    mine = target_path(config_dir, "de")
    mine.write_text("# my own\n", encoding="utf-8")

    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, "install_voice_sentences": False}
    )
    await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done()
    assert [language for language in LANGUAGES if target_path(config_dir, language).exists()] == [
        "de"
    ]
    assert mine.read_text(encoding="utf-8") == "# my own\n"
    # Off, the sentences are no longer understood (after the conversation reload).
    response = await ask(hass, "how many shots since the last backflush")
    assert response.response_type is intent.IntentResponseType.ERROR

    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, "install_voice_sentences": True}
    )
    await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done()
    assert target_path(config_dir, "en").exists()
    assert mine.read_text(encoding="utf-8") == "# my own\n"  # still never overwritten
    response = await ask(hass, "how many shots since the last backflush")
    assert response.intent.intent_type == INTENT_SHOTS_SINCE


async def test_sentences_off_by_default(
    hass: HomeAssistant, config_entry: MockConfigEntry, power_sensor: str
) -> None:
    """Without the option nothing is written."""
    options = dict(config_entry.options)
    options.pop("install_voice_sentences")
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(config_entry, options=options)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    assert not (Path(hass.config.config_dir) / "custom_sentences").exists()


# --- the sentence files ----------------------------------------------------------------------

OUR_INTENTS = {INTENT_SHOTS_SINCE, INTENT_STATUS, INTENT_START, INTENT_MARK_DONE}


def _list_references(expression: Any) -> Iterator[ListReference]:
    if isinstance(expression, ListReference):
        yield expression
    elif isinstance(expression, Group):
        for item in expression.items:
            yield from _list_references(item)


@pytest.mark.parametrize("language", LANGUAGES)
def test_sentence_file(language: str) -> None:
    """Each file parses with hassil, has our four intents, and slots ``machine`` and ``task``
    only, from our own lists: never the reserved ``{name}`` list Home Assistant fills with the
    exposed entities' names (a sentence using it would never reach our handler)."""
    data = yaml.safe_load((SENTENCES_DIR / f"{language}.yaml").read_text(encoding="utf-8"))
    assert data["language"] == language
    intents = Intents.from_dict(data)
    assert set(intents.intents) == OUR_INTENTS
    for intent_type, intent_sentences in intents.intents.items():
        for intent_data in intent_sentences.data:
            for sentence in intent_data.sentences:
                for reference in _list_references(sentence.expression):
                    assert reference.list_name != "name", sentence.text
                    assert reference.slot_name in {SLOT_MACHINE, SLOT_TASK}, sentence.text
                    assert reference.list_name in intents.slot_lists, sentence.text
                    if reference.slot_name == SLOT_TASK:
                        assert intent_type != INTENT_STATUS
    # every task can be named; only a backflush or a clean can be started
    lists = data["lists"]
    assert {value["out"] for value in lists["espresso_care_task"]["values"]} == set(map(str, TASKS))
    assert {value["out"] for value in lists["espresso_care_start_task"]["values"]} == set(
        map(str, STARTABLE_TASKS)
    )
    assert lists["espresso_care_machine"] == {"wildcard": True}


README = Path(__file__).parent.parent / "README.md"
README_LANGUAGES = {
    "English": "en",
    "Deutsch": "de",
    "Nederlands": "nl",
    "Italiano": "it",
    "Français": "fr",
    "Español": "es",
}


def readme_examples() -> list[tuple[str, str, set[str]]]:
    """The README's example sentences: (language, sentence, the intents it may mean)."""
    examples: list[tuple[str, str, set[str]]] = []
    for line in README.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] not in README_LANGUAGES:
            continue
        language, questions, commands = cells
        for text, meant in (
            (questions, {INTENT_SHOTS_SINCE, INTENT_STATUS}),
            (commands, {INTENT_START, INTENT_MARK_DONE}),
        ):
            examples += [(README_LANGUAGES[language], s.strip(), meant) for s in text.split("·")]
    return examples


def test_readme_has_examples_in_every_language() -> None:
    """The README shows a question and a command in each of the six languages."""
    found = readme_examples()
    for language in LANGUAGES:
        assert {INTENT_SHOTS_SINCE, INTENT_STATUS} & {
            i for lang, _, meant in found if lang == language for i in meant
        }
    assert len(found) >= 2 * len(LANGUAGES)


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("assist")
@pytest.mark.parametrize("language", LANGUAGES)
async def test_readme_examples_are_understood(hass: HomeAssistant, language: str) -> None:
    """Every example sentence of the README reaches one of our intents, and is answered."""
    examples = [(text, meant) for lang, text, meant in readme_examples() if lang == language]
    assert examples
    for text, meant in examples:
        response = await ask(hass, text, language)
        assert response.response_type is not intent.IntentResponseType.ERROR, text
        assert response.intent is not None, text
        assert response.intent.intent_type in meant, text
        assert speech(response), text


@pytest.mark.usefixtures("power_sensor")
async def test_sentences_go_with_the_last_machine_wanting_them(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """Removing a machine keeps the sentences while another wants them; the last one takes
    them away."""
    config_dir = Path(hass.config.config_dir)
    office = second_machine(hass, config_entry)
    for entry in (config_entry, office):
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert all(target_path(config_dir, language).is_file() for language in LANGUAGES)

    assert await hass.config_entries.async_remove(office.entry_id)
    await hass.async_block_till_done()
    assert all(target_path(config_dir, language).is_file() for language in LANGUAGES)

    assert await hass.config_entries.async_remove(ENTRY_ID)
    await hass.async_block_till_done()
    assert not any(target_path(config_dir, language).exists() for language in LANGUAGES)


def test_sync_upgrades_adopts_and_leaves_alone(tmp_path: Path) -> None:
    """An older copy we wrote is replaced by the shipped one; a file identical to ours that
    was there is adopted (and removed when off); a different one is never touched."""
    shipped = {lang: (SENTENCES_DIR / f"{lang}.yaml").read_bytes() for lang in LANGUAGES}
    old = b"# Espresso Care sentences of an older release\n"
    target_path(tmp_path, "en").parent.mkdir(parents=True)
    target_path(tmp_path, "en").write_bytes(old)
    target_path(tmp_path, "de").parent.mkdir(parents=True)
    target_path(tmp_path, "de").write_bytes(shipped["de"])
    target_path(tmp_path, "nl").parent.mkdir(parents=True)
    target_path(tmp_path, "nl").write_bytes(b"# mine\n")
    written = {"en": hashlib.sha256(old).hexdigest()}

    owned, changed = sync_sentences(tmp_path, True, written)
    assert sorted(changed) == sorted(set(LANGUAGES) - {"de", "nl"})
    assert set(owned) == set(LANGUAGES) - {"nl"}
    for language in set(LANGUAGES) - {"nl"}:
        assert target_path(tmp_path, language).read_bytes() == shipped[language]
    assert target_path(tmp_path, "nl").read_bytes() == b"# mine\n"

    owned, changed = sync_sentences(tmp_path, False, owned)
    assert owned == {}
    assert sorted(changed) == sorted(set(LANGUAGES) - {"nl"})
    assert [lang for lang in LANGUAGES if target_path(tmp_path, lang).exists()] == ["nl"]
