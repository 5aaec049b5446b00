"""Keep the translations of Espresso Care complete.

    python scripts/translations.py check   # every language has every key of strings.json
    python scripts/translations.py sync    # copy strings.json to translations/en.json

``check`` lists, per language, the keys of strings.json that are missing or empty, the keys
strings.json does not have, the texts whose placeholders ({name}, {count}, ...) differ from the
English ones, and texts of three words or more left in English; it exits with 1 when it finds
any. tests/test_translations.py runs the same
``problems()``.
"""

from __future__ import annotations

import json
from pathlib import Path
import re
import shutil
import sys
from typing import Any

COMPONENT = Path(__file__).resolve().parent.parent / "custom_components" / "espresso_care"
STRINGS = COMPONENT / "strings.json"
TRANSLATIONS = COMPONENT / "translations"
LANGUAGES = ("de", "nl", "it", "fr", "es")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# A text of this many words or more that reads exactly as the English one was not translated
# (single words such as "Pause", "Phase" or "Name" often are the same in another language).
UNTRANSLATED_WORDS = 3


def load(path: Path) -> dict[str, Any]:
    """Read one strings file."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Map each leaf of a nested strings file to its dotted key (``config.step.user.title``)."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def placeholders(text: str) -> list[str]:
    """Return the placeholders of one text, sorted, each as often as it occurs."""
    return sorted(PLACEHOLDER.findall(text))


def compare(english: dict[str, Any], translation: dict[str, Any]) -> list[str]:
    """List what is wrong with one translation, one line per problem."""
    source, target = flatten(english), flatten(translation)
    found = [f"missing: {key}" for key in source if key not in target]
    found += [f"extra (not in strings.json): {key}" for key in target if key not in source]
    for key, text in source.items():
        if key not in target:
            continue
        value = target[key]
        if not isinstance(value, str) or not value.strip():
            found.append(f"empty: {key}")
        elif placeholders(value) != placeholders(text):
            found.append(
                f"placeholders differ: {key}: {placeholders(value)} instead of {placeholders(text)}"
            )
        elif value == text and len(text.split()) >= UNTRANSLATED_WORDS:
            found.append(f"untranslated (same as English): {key}")
    return found


def problems() -> dict[str, list[str]]:
    """Map each language with a problem to its problems (en must equal strings.json)."""
    english = load(STRINGS)
    report: dict[str, list[str]] = {}
    en_path = TRANSLATIONS / "en.json"
    if not en_path.exists() or load(en_path) != english:
        report["en"] = ["translations/en.json differs from strings.json (run sync)"]
    for language in LANGUAGES:
        path = TRANSLATIONS / f"{language}.json"
        if not path.exists():
            report[language] = [f"missing file: translations/{language}.json"]
            continue
        if found := compare(english, load(path)):
            report[language] = found
    unknown = {path.stem for path in TRANSLATIONS.glob("*.json")} - {"en", *LANGUAGES}
    for language in sorted(unknown):
        report[language] = ["not in LANGUAGES of scripts/translations.py: add it there"]
    return report


def main(argv: list[str]) -> int:
    """Run ``check`` or ``sync``."""
    if argv[1:] == ["sync"]:
        shutil.copyfile(STRINGS, TRANSLATIONS / "en.json")
        print("translations/en.json = strings.json")
        return 0
    if argv[1:] != ["check"]:
        print(__doc__)
        return 2
    report = problems()
    count = len(flatten(load(STRINGS)))
    for language, found in report.items():
        print(f"{language}: {len(found)} problem(s)")
        for line in found:
            print(f"  {line}")
    if report:
        return 1
    print(f"en, {', '.join(LANGUAGES)}: all {count} texts of strings.json, placeholders agree")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
