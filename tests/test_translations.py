"""strings.json, translations/en.json, icons.json and services.yaml agree with the code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from custom_components.espresso_care.binary_sensor import BINARY_SENSORS
from custom_components.espresso_care.config_flow import OPTIONS_SCHEMA, SOURCES_SCHEMA, USER_SCHEMA
from custom_components.espresso_care.const import MACHINE_TYPE_MODELS, SWITCH_ROLES
from custom_components.espresso_care.engine.events import MachineState
from custom_components.espresso_care.engine.profiles import MACHINE_TYPES
from custom_components.espresso_care.repairs import ISSUE_KEYS
from custom_components.espresso_care.sensor import SENSORS

COMPONENT = Path(__file__).parent.parent / "custom_components" / "espresso_care"


def _json(name: str) -> dict[str, Any]:
    return json.loads((COMPONENT / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


STRINGS = _json("strings.json")
ICONS = _json("icons.json")


def test_english_translation_is_strings() -> None:
    """A custom integration ships strings.json as translations/en.json."""
    assert _json("translations/en.json") == STRINGS


def test_every_form_field_is_named_and_described() -> None:
    """Each field of each form has a label and a description."""
    forms = {
        ("config", "user"): USER_SCHEMA,
        ("config", "reconfigure"): SOURCES_SCHEMA,
        ("options", "init"): OPTIONS_SCHEMA,
    }
    for (section, step), schema in forms.items():
        keys = {str(key) for key in schema.schema}
        texts = STRINGS[section]["step"][step]
        assert set(texts["data"]) == keys
        assert set(texts["data_description"]) == keys


def test_selectors_and_models() -> None:
    """Machine types and switch roles are translated; every machine type has a model."""
    assert set(STRINGS["selector"]["machine_type"]["options"]) == set(MACHINE_TYPES)
    assert set(STRINGS["selector"]["switch_role"]["options"]) == set(SWITCH_ROLES)
    assert set(MACHINE_TYPE_MODELS) == set(MACHINE_TYPES)


def test_entities_translated_with_icons() -> None:
    """Every entity has a name and an icon; every machine state is translated and drawn."""
    for platform, descriptions in (("sensor", SENSORS), ("binary_sensor", BINARY_SENSORS)):
        for description in descriptions:
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
