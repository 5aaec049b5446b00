"""The Assist sentences of Espresso Care, installed on request.

``sentences/<language>.yaml`` here (HACS ships only this folder) holds the sentences of the
intents in ``intent.py``. With the option "Install voice sentences" on for any machine, each is
written to ``<config>/custom_sentences/<language>/espresso_care.yaml``; with it off for every
machine (or the last machine removed) they are deleted again, and the conversation integration
reloads them.

A file is only ever written or deleted while it holds exactly what Espresso Care wrote: the
SHA-256 of every written file is stored (``.storage/espresso_care.sentences``). A file the user
changed, or one that was there before, is left alone (and no longer counted as ours).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey

from .const import CONF_INSTALL_SENTENCES, DOMAIN

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

_LOGGER = logging.getLogger(__name__)

LANGUAGES = ("en", "de", "nl", "it", "fr", "es")
SENTENCES_DIR = Path(__file__).parent / "sentences"
TARGET_NAME = f"{DOMAIN}.yaml"
STORAGE_KEY = f"{DOMAIN}.sentences"
STORAGE_VERSION = 1

_LOCK: HassKey[asyncio.Lock] = HassKey(f"{DOMAIN}_sentences_lock")


def target_path(config_dir: Path, language: str) -> Path:
    """Where the sentences of ``language`` are installed."""
    return config_dir / "custom_sentences" / language / TARGET_NAME


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def sync_sentences(
    config_dir: Path, install: bool, written: dict[str, str]
) -> tuple[dict[str, str], list[str]]:
    """Install or remove the sentence files (blocking I/O).

    ``written`` maps each language to the digest of the file written last. Returns the new
    mapping and the languages whose file changed.
    """
    owned: dict[str, str] = {}
    changed: list[str] = []
    for language in LANGUAGES:
        target = target_path(config_dir, language)
        current = _digest(target.read_bytes()) if target.is_file() else None
        content = (SENTENCES_DIR / f"{language}.yaml").read_bytes()
        ours = current is not None and current in (written.get(language), _digest(content))
        if current is not None and not ours:
            if language in written:
                _LOGGER.info("Leaving %s alone: it was changed", target)
            continue
        if install:
            if current != _digest(content):
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
                changed.append(language)
            owned[language] = _digest(content)
        elif current is not None:
            target.unlink()
            changed.append(language)
    return owned, changed


async def async_sync_sentences(hass: HomeAssistant, *, removed_entry_id: str | None = None) -> None:
    """Install the sentences when a machine wants them, else remove ours; reload Assist.

    ``removed_entry_id``: a machine being removed, whose option no longer counts.
    """
    install = any(
        entry.options.get(CONF_INSTALL_SENTENCES, False)
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.entry_id != removed_entry_id and not entry.disabled_by
    )
    lock = hass.data.setdefault(_LOCK, asyncio.Lock())
    async with lock:
        store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
        stored = await store.async_load() or {}
        raw = stored.get("written")
        written = (
            {str(key): str(value) for key, value in raw.items()} if isinstance(raw, dict) else {}
        )
        if not install and not written:
            return
        try:
            owned, changed = await hass.async_add_executor_job(
                sync_sentences, Path(hass.config.config_dir), install, written
            )
        except OSError as err:
            _LOGGER.warning("Could not update the Espresso Care voice sentences: %s", err)
            return
        if owned != written:
            await store.async_save({"written": owned})
    if not hass.services.has_service("conversation", "reload"):
        return  # Assist loads the files when it starts
    for language in changed:
        try:
            await hass.services.async_call(
                "conversation", "reload", {"language": language}, blocking=True
            )
        except HomeAssistantError as err:
            _LOGGER.warning("Could not reload the %s sentences of Assist: %s", language, err)
