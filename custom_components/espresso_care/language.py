"""What the texts of Espresso Care need to know about a language: plural forms and decimals.

Home Assistant's backend translations have no plural syntax, so a text about a count has one
key per plural form, ``<key>_one`` and ``<key>_other``; ``plural_category`` picks one by the
rules of the language (CLDR cardinals: French says "0 café" and "1 café", the others have the
singular for 1 only). ``decimal_commas`` writes the decimal point of the figures in a text
(formatted in English, ``1.5``) as the language does (``1,5`` in de, nl, it, fr and es).
"""

from __future__ import annotations

import re

# Languages whose singular also covers 0 (CLDR: i = 0,1), among those with texts.
_ZERO_IS_SINGULAR = frozenset({"fr"})
# Languages with texts that write a decimal comma.
_DECIMAL_COMMA = frozenset({"de", "nl", "it", "fr", "es"})
_DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d)")


def _base(language: str) -> str:
    return re.split(r"[-_]", language, maxsplit=1)[0].casefold()


def plural_category(language: str, count: int) -> str:
    """Return ``one`` or ``other``: the plural form of ``count`` things in ``language``.

    The CLDR cardinal rules of the languages Espresso Care speaks (en, de, nl, it, fr, es) for
    whole numbers; any other language is answered in English, so it gets the English rule.
    """
    if _base(language) in _ZERO_IS_SINGULAR:
        return "one" if count in (0, 1) else "other"
    return "one" if count == 1 else "other"


def decimal_commas(language: str, text: str) -> str:
    """Return ``text`` with the decimal points of its numbers as ``language`` writes them."""
    if _base(language) in _DECIMAL_COMMA:
        return _DECIMAL_POINT.sub(",", text)
    return text
