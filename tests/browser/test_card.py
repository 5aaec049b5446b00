"""The dashboard card in Debian's chromium against a real Home Assistant (marker ``browser``).

The tests run in order on one Home Assistant and one logged-in tab (see conftest.py): the card
loads with no dashboard resource, shows what the entities say, Mark done changes the state,
a backflush starts through the confirmation and shows its progress, and the card follows the
dark theme. With ``ESPRESSO_CARE_SCREENSHOTS=<dir>`` (``make screenshots``) the card is saved
as PNGs there on the way.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
import os
from pathlib import Path
import re
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from .conftest import BASELINE, RECENT, SHOTS_TODAY, TOTAL_SHOTS

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

    from .conftest import Browser, HomeAssistantProcess

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("socket_enabled")]

CARD = "espresso-care-card"
SCREENSHOTS = os.environ.get("ESPRESSO_CARE_SCREENSHOTS")
STRINGS = json.loads(
    (Path(__file__).parents[2] / "custom_components" / "espresso_care" / "strings.json").read_text(
        encoding="utf-8"
    )
)


def _screenshot(locator: Locator | Page, name: str) -> None:
    """Save the card as ``<name>.png`` for the README when asked to (make screenshots)."""
    if SCREENSHOTS:
        # The bytes are written here: Playwright would write the file in an executor thread.
        Path(SCREENSHOTS, f"{name}.png").write_bytes(locator.screenshot(animations="disabled"))


def _card(page: Page) -> Locator:
    card = page.locator(CARD)
    card.locator(".title").wait_for()
    return card


def _expect(locator: Locator) -> Any:
    from playwright.sync_api import expect

    return expect(locator)


def test_card_loads_with_no_resource(
    browser: Browser, home_assistant: HomeAssistantProcess
) -> None:
    """The integration's own module defines the card: no dashboard resource, a versioned URL."""

    def check(page: Page) -> dict[str, Any]:
        _card(page)
        result: dict[str, Any] = page.evaluate(
            """async () => {
              const hass = document.querySelector("home-assistant").hass;
              return {
                resources: await hass.callWS({ type: "lovelace/resources" }),
                loaded: performance.getEntriesByType("resource").map((r) => r.name)
                  .filter((url) => url.includes("espresso-care-card.js")),
                picker: (window.customCards || []).filter((c) => c.type === "espresso-care-card"),
                stub: customElements.get("espresso-care-card").getStubConfig(hass),
              };
            }"""
        )
        return result

    found = browser.run(check)
    assert found["resources"] == []
    assert len(found["loaded"]) == 1
    assert re.search(
        r"/espresso_care/espresso-care-card\.js\?v=[\w.]+-[0-9a-f]{8}$", found["loaded"][0]
    )
    assert [card["name"] for card in found["picker"]] == ["Espresso Care"]
    assert found["picker"][0]["preview"] is True
    device_ids = {
        entry["device_id"]
        for entry in home_assistant.registry
        if entry["platform"] == "espresso_care"
    }
    assert device_ids == {found["stub"]["device_id"]}


def test_card_shows_the_entities(browser: Browser, home_assistant: HomeAssistantProcess) -> None:
    """Counters, ring, chips, chart, drift warning and machine state are the entities' states."""
    ha = home_assistant
    today = ha.state(ha.entities["shots_today"])
    total = ha.state(ha.entities["total_shots"])
    since = ha.state(ha.entities["shots_since_backflush"])
    average = ha.state(ha.entities["average_shot_duration"])
    drift = ha.state(ha.entities["shot_time_drift"])
    machine = ha.state(ha.entities["machine_state"])
    assert (today["state"], total["state"]) == (str(SHOTS_TODAY), str(TOTAL_SHOTS))
    assert drift["state"] == "on"
    interval = int(since["state"]) + since["attributes"]["shots_remaining"]

    def check(page: Page) -> None:
        card = _card(page)
        expect = _expect
        expect(card.locator('[data-counter="shots_today"] .num')).to_have_text(today["state"])
        expect(card.locator('[data-counter="total_shots"] .num')).to_have_text(
            f"{int(total['state']):,}"
        )
        ring = card.locator(".ring")
        expect(ring.locator(".big")).to_have_text(since["state"])
        expect(ring.locator(".small")).to_have_text(f"of {interval} since backflush")
        expect(ring).to_have_attribute("data-level", "ok")
        for task in ("backflush", "clean", "descale"):
            attributes = ha.state(ha.entities[f"shots_since_{task}"])["attributes"]
            chip = card.locator(f'.chip[data-task="{task}"]')
            parts = []
            if attributes["shots_remaining"] is not None:
                parts.append(f"in {attributes['shots_remaining']} shots")
            if attributes["days_remaining"] is not None:
                parts.append(f"in {int(attributes['days_remaining'])} days")
            expect(chip.locator(".status")).to_have_text(" · ".join(parts))
        chart = card.locator(".chart")
        durations = average["attributes"]["recent_durations"]
        assert durations == [*BASELINE, *RECENT][-10:]
        expect(chart.locator("rect.bar")).to_have_count(len(durations))
        shown = [float(d) for d in chart.get_attribute("data-durations").split(",")]
        assert shown == durations
        usual = drift["attributes"]["baseline_duration"]
        expect(chart.locator(".usual-label")).to_have_text(f"usual {usual}\u00a0s")
        expect(chart.locator("line.usual")).to_have_count(1)
        expect(card.locator(".drift")).to_be_visible()
        expect(card.locator(".drift")).to_contain_text(
            f"recently {drift['attributes']['recent_duration']}\u00a0s, usually {usual}\u00a0s"
        )
        state_name = STRINGS["entity"]["sensor"]["machine_state"]["state"][machine["state"]]
        expect(card.locator(".state span")).to_have_text(state_name)
        _screenshot(card, "card")

    browser.run(check)


def test_card_speaks_the_users_language(browser: Browser) -> None:
    """The texts follow the user's language (hass.locale), state names from Home Assistant."""

    def check(page: Page) -> list[str]:
        card = _card(page)
        texts: list[str] = page.evaluate(
            """async () => {
              const el = (function find(root) {
                for (const node of root.querySelectorAll("*")) {
                  if (node.localName === "espresso-care-card") return node;
                  if (node.shadowRoot) { const hit = find(node.shadowRoot); if (hit) return hit; }
                }
                return null;
              })(document);
              const hass = el.hass;
              const seen = [];
              for (const language of ["de", "nl", "it", "fr", "es", "en"]) {
                el.hass = { ...hass, locale: { ...hass.locale, language } };
                seen.push(el.shadowRoot.querySelector('[data-counter="shots_today"] .label').textContent);
              }
              el.hass = hass;
              return seen;
            }"""
        )
        _expect(card.locator('[data-counter="shots_today"] .label')).to_have_text("Shots today")
        return texts

    assert browser.run(check) == [
        "Bezüge heute",
        "Shots vandaag",
        "Caffè oggi",
        "Cafés aujourd'hui",
        "Cafés hoy",
        "Shots today",
    ]


def test_mark_done(browser: Browser, home_assistant: HomeAssistantProcess) -> None:
    """A due backflush turns the ring red; Mark done in the chip's dialog makes it not due."""
    ha = home_assistant
    due_sensor = ha.entities["backflush_due"]
    remaining = ha.state(ha.entities["shots_since_backflush"])["attributes"]["shots_remaining"]
    ha.call("espresso_care", "adjust_shots", config_entry_id=ha.entry_id, count=remaining - 1)
    ha.wait_for(
        ha.entities["shots_since_backflush"], lambda s: s["attributes"]["shots_remaining"] == 1
    )

    def near(page: Page) -> None:
        card = _card(page)
        _expect(card.locator(".ring")).to_have_attribute("data-level", "near")
        _expect(card.locator('.chip[data-task="backflush"]')).to_have_attribute(
            "data-status", "near"
        )

    browser.run(near)
    ha.call("espresso_care", "adjust_shots", config_entry_id=ha.entry_id, count=1)
    ha.wait_for(due_sensor, lambda s: s["state"] == "on")

    def mark_done(page: Page) -> None:
        card = _card(page)
        expect = _expect
        chip = card.locator('.chip[data-task="backflush"]')
        expect(card.locator(".ring")).to_have_attribute("data-level", "due")
        expect(chip).to_have_attribute("data-status", "due")
        _screenshot(card, "card-due")
        # Keyboard: the chip is a labelled button; Enter opens its dialog.
        chip = page.get_by_role("button", name=re.compile(r"^Backflush: Due\. Show details$"))
        chip.focus()
        page.keyboard.press("Enter")
        dialog = card.locator("dialog.task")
        expect(dialog).to_be_visible()
        expect(dialog.locator("h2")).to_have_text("Backflush")
        dialog.get_by_role("button", name="Mark done").click()
        expect(dialog).to_be_hidden()
        expect(card.locator(".ring")).to_have_attribute("data-level", "ok")
        expect(card.locator(".ring .big")).to_have_text("0")

    browser.run(mark_done)
    state = ha.wait_for(due_sensor, lambda s: s["state"] == "off")
    assert state["state"] == "off"
    since = ha.state(ha.entities["shots_since_backflush"])
    assert since["state"] == "0"

    def chip_after(page: Page) -> None:
        chip = _card(page).locator('.chip[data-task="backflush"]')
        _expect(chip).to_have_attribute("data-status", "ok")
        _expect(chip.locator(".status")).to_contain_text(
            f"in {since['attributes']['shots_remaining']} shots"
        )

    browser.run(chip_after)


def test_snooze(browser: Browser, home_assistant: HomeAssistantProcess) -> None:
    """The dialog offers Snooze with espresso_care.snooze; snoozing shows on the chip."""
    ha = home_assistant
    due_sensor = ha.entities["descale_due"]

    def snooze(page: Page) -> bool:
        card = _card(page)
        has_action: bool = page.evaluate(
            """() => Boolean(document.querySelector("home-assistant").hass.services
                 .espresso_care?.snooze)"""
        )
        card.locator('.chip[data-task="descale"]').click()
        dialog = card.locator("dialog.task")
        _expect(dialog).to_be_visible()
        button = dialog.get_by_role("button", name="Snooze")
        assert button.is_visible() == has_action
        if has_action:
            dialog.get_by_label("Snooze for").select_option("3")
            button.click()
            _expect(dialog).to_be_hidden()
            chip = card.locator('.chip[data-task="descale"]')
            _expect(chip).to_have_attribute("data-status", "snoozed")
            _expect(chip.locator(".status")).to_contain_text("Snoozed until")
        else:
            page.keyboard.press("Escape")
            _expect(dialog).to_be_hidden()
        return has_action

    if browser.run(snooze):
        until = ha.wait_for(due_sensor, lambda s: s["attributes"].get("snoozed_until"))
        snoozed = datetime.fromisoformat(until["attributes"]["snoozed_until"])
        left = snoozed - datetime.now(UTC)
        assert timedelta(days=2, hours=23) < left <= timedelta(days=3)


def test_backflush_through_the_confirmation(
    browser: Browser, home_assistant: HomeAssistantProcess
) -> None:
    """Start backflush asks first, then shows the routine's progress; Stop ends it, relay off."""
    ha = home_assistant
    switch = ha.entities["backflush"]
    relay = "switch.espresso_plug_pump_relay"
    assert ha.state(switch)["state"] == "off"

    def start(page: Page) -> None:
        card = _card(page)
        expect = _expect
        card.get_by_role("button", name="Start backflush").click()
        confirm = card.locator("dialog.confirm")
        expect(confirm).to_be_visible()
        expect(confirm.locator("h2")).to_have_text("Start the automated backflush?")
        # Nothing starts before the confirmation.
        assert ha.state(switch)["state"] == "off"
        confirm.get_by_role("button", name="Start", exact=True).click()
        expect(confirm).to_be_hidden()
        running = card.locator(".backflush .running")
        expect(running).to_be_visible()
        expect(running.locator(".phase")).to_contain_text("Cycle 1")
        expect(running.get_by_role("progressbar", name="Backflush progress")).to_have_attribute(
            "aria-valuenow", re.compile(r"^\d+$")
        )

    browser.run(start)
    assert ha.wait_for(switch, lambda s: s["state"] == "on")["state"] == "on"
    progress = ha.wait_for(
        ha.entities["backflush_progress"],
        lambda s: s["attributes"]["routine"] == "running" and int(s["state"]) > 0,
    )

    def shows_progress(page: Page) -> None:
        card = _card(page)
        bar = card.get_by_role("progressbar", name="Backflush progress")
        _expect(bar).not_to_have_attribute("aria-valuenow", "0")
        assert int(bar.get_attribute("aria-valuenow") or 0) >= int(progress["state"])
        _screenshot(card, "card-backflush")
        card.get_by_role("button", name="Stop").click()
        _expect(card.locator(".backflush .idle")).to_be_visible()

    browser.run(shows_progress)
    ha.wait_for(switch, lambda s: s["state"] == "off")
    assert ha.wait_for(relay, lambda s: s["state"] == "off")["state"] == "off"


def _luminance(css_color: str) -> float:
    red, green, blue = (int(v) / 255 for v in re.findall(r"\d+", css_color)[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def test_dark_theme(browser: Browser) -> None:
    """The card follows the theme: dark background and light text in dark mode."""

    def colours(page: Page) -> tuple[str, str]:
        card = _card(page)
        ha_card = card.locator("ha-card")
        background = ha_card.evaluate("(el) => getComputedStyle(el).backgroundColor")
        text = card.locator(".card").evaluate("(el) => getComputedStyle(el).color")
        return str(background), str(text)

    light_background, light_text = browser.run(colours)
    assert _luminance(light_background) > 0.8
    assert _luminance(light_text) < 0.3

    def go_dark(page: Page) -> tuple[str, str]:
        page.emulate_media(color_scheme="dark")
        card = _card(page)
        # Wait until the theme's change has gone through (ha-card fades its colours).
        page.wait_for_function(
            """(el) => {
              const [r, g, b] = getComputedStyle(el).backgroundColor.match(/\\d+/g).map(Number);
              const now = `${r},${g},${b}`;
              const stable = el.dataset.lastBackground === now;
              el.dataset.lastBackground = now;
              return stable && r + g + b < 200;
            }""",
            arg=card.locator("ha-card").element_handle(),
            polling=250,
        )
        result = colours(page)
        _screenshot(card, "card-dark")
        page.emulate_media(color_scheme="light")
        return result

    dark_background, dark_text = browser.run(go_dark)
    assert _luminance(dark_background) < 0.2
    assert _luminance(dark_text) > 0.7


def test_readable_at_one_and_two_columns(
    browser: Browser, home_assistant: HomeAssistantProcess
) -> None:
    """In a sections view at half and full width, nothing overflows and everything shows."""

    def check(page: Page) -> list[dict[str, float]]:
        page.goto(f"{home_assistant.base}/espresso-card-test/sections")
        cards = page.locator(CARD)
        _expect(cards).to_have_count(2)
        sizes = []
        for index in range(2):
            card = cards.nth(index)
            card.locator(".title").wait_for()
            for part in (".title", ".ring", '[data-counter="total_shots"]', ".chips", ".chart"):
                _expect(card.locator(part).first).to_be_visible()
            size: dict[str, float] = card.locator(".card").evaluate(
                """(el) => ({ width: el.clientWidth, scroll: el.scrollWidth,
                   overflowing: [...el.querySelectorAll("*")].filter((c) =>
                     c.getBoundingClientRect().right > el.getBoundingClientRect().right + 1).length })"""
            )
            sizes.append(size)
        page.set_viewport_size({"width": 1100, "height": 1500})
        _screenshot(page.locator("hui-grid-section").first, "card-columns")
        page.set_viewport_size({"width": 1100, "height": 1000})
        page.goto(f"{home_assistant.base}/espresso-card-test/card")
        _card(page)
        return sizes

    half, full = browser.run(check)
    assert half["width"] < 0.7 * full["width"]
    for size in (half, full):
        assert size["scroll"] <= size["width"]
        assert size["overflowing"] == 0


def _readme_stock_cards() -> dict[str, Any]:
    """The YAML block of the README's "The same with stock cards"."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### The same with stock cards") :]
    start = section.index("```yaml\n") + len("```yaml\n")
    block = section[start : section.index("\n```", start)]
    config: dict[str, Any] = yaml.safe_load(block)
    return config


def test_stock_cards_from_the_readme(
    browser: Browser, home_assistant: HomeAssistantProcess
) -> None:
    """The README's stock-card YAML renders with no configuration error and shows the values."""
    stack = _readme_stock_cards()
    for card in stack["cards"]:
        for entity in [card.get("entity"), *card.get("entities", [])]:
            entity_id = entity.get("entity") if isinstance(entity, dict) else entity
            if entity_id:
                assert entity_id in home_assistant.entities.values(), entity_id
    since = home_assistant.state(home_assistant.entities["shots_since_backflush"])["state"]

    def check(page: Page) -> None:
        page.evaluate(
            """async (stack) => {
              const hass = document.querySelector("home-assistant").hass;
              const config = await hass.callWS({ type: "lovelace/config", url_path: "espresso-card-test" });
              config.views.push({ title: "Stock", path: "stock", cards: [stack] });
              await hass.callWS({ type: "lovelace/config/save", url_path: "espresso-card-test", config });
            }""",
            stack,
        )
        page.goto(f"{home_assistant.base}/espresso-card-test/stock")
        expect = _expect
        expect(page.locator("hui-gauge-card")).to_be_visible()
        expect(page.locator("hui-gauge-card ha-gauge")).to_contain_text(since)
        expect(page.locator("hui-tile-card")).to_have_count(3)
        expect(page.locator("hui-trend-graph-card-feature")).to_have_count(1)
        expect(page.locator("hui-button-card-feature")).to_have_count(1)
        expect(page.locator("hui-entities-card")).to_contain_text("Usual shot time")
        page.wait_for_timeout(500)
        assert page.locator("hui-error-card").count() == 0
        page.locator("hui-tile-card", has_text="Start backflush").click(force=True)
        # The confirmation first, and nothing started: cancel it.
        expect(page.get_by_text("Blind basket in the portafilter")).to_be_visible()
        page.get_by_role("button", name="Cancel").click()
        expect(page.get_by_text("Blind basket in the portafilter")).to_be_hidden()
        _screenshot(page.locator("hui-vertical-stack-card"), "stock-cards")
        page.goto(f"{home_assistant.base}/espresso-card-test/card")
        _card(page)

    browser.run(check)
    assert home_assistant.state(home_assistant.entities["backflush"])["state"] == "off"


def test_card_picker_and_editor(browser: Browser, home_assistant: HomeAssistantProcess) -> None:
    """The card is in the dashboard's card picker, and its visual editor picks the machine."""

    def pick(page: Page) -> str:
        expect = _expect
        page.goto(f"{home_assistant.base}/espresso-card-test/card?edit=1")
        page.get_by_role("button", name="Add card").click()
        page.get_by_role("textbox", name="Search cards").fill("Espresso Care")
        # A picker entry is a live preview of the card under an overlay that takes the click.
        page.locator("hui-card-picker .card", has_text="Espresso Care").first.click()
        editor = page.locator("espresso-care-card-editor")
        expect(editor).to_be_visible()
        expect(editor.locator("ha-form")).to_be_visible()
        # The device picker, labelled from the card's texts, has the stub's machine chosen.
        expect(editor.get_by_label("Machine", exact=True)).to_contain_text("Espresso machine")
        page.wait_for_timeout(500)  # the dialog's opening animation
        _screenshot(page, "card-editor")
        yaml_config = page.locator("hui-card-element-editor").evaluate("(el) => el.value")
        page.keyboard.press("Escape")
        return json.dumps(yaml_config)

    config = json.loads(browser.run(pick))
    assert config["type"] == "custom:espresso-care-card"
    device_ids = {
        e["device_id"] for e in home_assistant.registry if e["platform"] == "espresso_care"
    }
    assert config["device_id"] in device_ids
