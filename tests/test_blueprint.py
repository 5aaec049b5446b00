"""The maintenance-due notification blueprint: installed, valid, and what an automation from
it sends and does."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.espresso_care.blueprint import (
    BLUEPRINT_SOURCE,
    BLUEPRINT_TARGET,
    install_blueprint,
)
from custom_components.espresso_care.compat import async_get_entry_device
from custom_components.espresso_care.const import CONF_BACKFLUSH_SWITCH, DOMAIN

from .conftest import ENTRY_ID, PLUG_SWITCH
from .test_maintenance import capture, due

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant, ServiceCall

BACKFLUSH_SWITCH = "switch.espresso_machine_backflush"
REPO_COPY = (
    Path(__file__).parent.parent / "blueprints" / "automation" / DOMAIN / BLUEPRINT_SOURCE.name
)
PHONE_WEBHOOK = "phone-webhook-id"
# Mid-morning in the test home's zone (US/Pacific): outside the quiet hours used below.
T0 = "2026-05-04 17:00:00+00:00"


def test_repository_copy_is_identical() -> None:
    """The copy the import badge points at is the component's file, byte for byte."""
    assert REPO_COPY.read_bytes() == BLUEPRINT_SOURCE.read_bytes()


def test_install_never_replaces(tmp_path: Path) -> None:
    """The blueprint is written once; a file of that name (the user's) is left alone."""
    written = install_blueprint(tmp_path)
    assert written == tmp_path.joinpath(*BLUEPRINT_TARGET)
    assert written.read_bytes() == BLUEPRINT_SOURCE.read_bytes()
    written.write_text("# mine\n", encoding="utf-8")
    assert install_blueprint(tmp_path) is None
    assert written.read_text(encoding="utf-8") == "# mine\n"


@pytest.mark.usefixtures("init_integration")
async def test_installed_at_setup_and_valid(hass: HomeAssistant) -> None:
    """Set-up copies it into <config>/blueprints; Home Assistant's loader accepts it."""
    path = Path(hass.config.path(*BLUEPRINT_TARGET))
    assert path.read_bytes() == BLUEPRINT_SOURCE.read_bytes()
    blueprint = await async_get_blueprints(hass).async_get_blueprint(
        f"{DOMAIN}/{BLUEPRINT_SOURCE.name}"
    )
    assert blueprint.domain == "automation"
    assert set(blueprint.inputs) == {
        "machine",
        "notify_device",
        "tasks",
        "quiet_start",
        "quiet_end",
        "reminder_hours",
    }


async def test_user_file_kept_at_setup(
    hass: HomeAssistant, config_entry: MockConfigEntry, power_sensor: str
) -> None:
    """A blueprint the user already has under that name survives the set-up."""
    path = Path(hass.config.path(*BLUEPRINT_TARGET))
    path.parent.mkdir(parents=True)
    path.write_text("# edited\n", encoding="utf-8")
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    assert path.read_text(encoding="utf-8") == "# edited\n"


# --- an automation from the blueprint --------------------------------------------------------


@pytest.fixture
def options(options: dict[str, Any]) -> dict[str, Any]:
    """A backflush due after one shot, and a backflush switch."""
    return {**options, "backflush_every_shots": 1, CONF_BACKFLUSH_SWITCH: PLUG_SWITCH}


@pytest.fixture
async def phone(hass: HomeAssistant) -> str:
    """A phone with the companion app (mobile_app, push enabled); returns its device id."""
    entry = MockConfigEntry(
        domain="mobile_app",
        data={
            "app_data": {"push_token": "token", "push_url": "https://push.invalid/notify"},
            "app_id": "io.homeassistant.companion.android",
            "app_name": "Home Assistant",
            "app_version": "2026.1",
            "device_id": "phone-1",
            "device_name": "Test Phone",
            "manufacturer": "Google",
            "model": "Pixel",
            "os_name": "Android",
            "os_version": "16",
            "supports_encryption": False,
            "user_id": "user-1",
            "webhook_id": PHONE_WEBHOOK,
        },
    )
    entry.add_to_hass(hass)
    assert await async_setup_component(hass, "mobile_app", {})
    await hass.async_block_till_done()
    device = async_get_entry_device(dr.async_get(hass), ("mobile_app", "phone-1"), entry.entry_id)
    assert device is not None
    return device.id


@pytest.fixture
def notifications(hass: HomeAssistant, phone: str) -> list[ServiceCall]:
    """The phone's notify service, mocked: what the automation sends."""
    return async_mock_service(hass, "notify", "mobile_app_test_phone")


async def automation(hass: HomeAssistant, phone: str, **inputs: Any) -> None:
    """Set up one automation from the installed blueprint."""
    hass.states.async_set(PLUG_SWITCH, STATE_OFF)
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "alias": "Espresso notifications",
                "use_blueprint": {
                    "path": f"{DOMAIN}/{BLUEPRINT_SOURCE.name}",
                    "input": {"machine": ENTRY_ID, "notify_device": phone, **inputs},
                },
            }
        },
    )
    await hass.async_block_till_done()
    assert hass.states.get("automation.espresso_notifications").state == STATE_ON


async def settle(hass: HomeAssistant) -> None:
    """Let the automation's runs go as far as they can.

    Not ``async_block_till_done``: that waits for every run, and a run waits for an answer.
    """
    for _ in range(30):
        await asyncio.sleep(0)


async def fall_due(hass: HomeAssistant) -> None:
    """Count one shot by hand: the backflush (every shot) falls due."""
    await hass.services.async_call(
        DOMAIN, "adjust_shots", {"config_entry_id": ENTRY_ID, "count": 1}, blocking=True
    )
    await settle(hass)


def sent(calls: list[ServiceCall]) -> list[dict[str, Any]]:
    return [dict(call.data) for call in calls]


async def press(hass: HomeAssistant, action: str) -> None:
    hass.bus.async_fire("mobile_app_notification_action", {"action": action})
    await settle(hass)


async def tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await settle(hass)


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("init_integration")
async def test_notifies_when_due_and_marks_done(
    hass: HomeAssistant,
    phone: str,
    notifications: list[ServiceCall],
) -> None:
    """A due backflush sends the message with three buttons; Mark done marks it done."""
    await automation(hass, phone)
    await fall_due(hass)
    assert hass.states.get(due("backflush")).state == STATE_ON
    assert len(notifications) == 1
    data = sent(notifications)[0]
    assert data["target"] == PHONE_WEBHOOK
    assert data["title"] == "Backflush due"
    assert data["message"] == "Time to backflush Espresso machine with plain water."
    tag = f"espresso_care_{ENTRY_ID}_backflush"
    assert data["data"]["tag"] == tag
    buttons = data["data"]["actions"]
    assert [button["title"] for button in buttons] == [
        "Start backflush",
        "Mark done",
        "Snooze 1 day",
    ]
    ids = [button["action"] for button in buttons]
    # Unique per run: the run's context id, as in core's confirmable notification.
    assert ids[0].startswith("ESPRESSO_CARE_START_")
    context_id = ids[0].removeprefix("ESPRESSO_CARE_START_")
    assert ids[1:] == [f"ESPRESSO_CARE_DONE_{context_id}", f"ESPRESSO_CARE_SNOOZE_{context_id}"]

    await press(hass, "SOME_OTHER_ACTION")
    assert hass.states.get(due("backflush")).state == STATE_ON
    await press(hass, ids[1])
    assert hass.states.get(due("backflush")).state == STATE_OFF
    # The notification is cleared by its tag.
    assert sent(notifications)[-1] == {
        "target": PHONE_WEBHOOK,
        "message": "clear_notification",
        "data": {"tag": tag},
    }
    assert len(notifications) == 2


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("init_integration")
async def test_snooze_button(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    phone: str,
    notifications: list[ServiceCall],
) -> None:
    """Snooze 1 day snoozes the task for a day; it comes back (and notifies) after it."""
    await automation(hass, phone)
    await fall_due(hass)
    snooze_id = sent(notifications)[0]["data"]["actions"][2]["action"]
    await press(hass, snooze_id)
    state = hass.states.get(due("backflush"))
    assert state.state == STATE_OFF
    assert state.attributes["snoozed_until"] is not None
    assert sent(notifications)[-1]["message"] == "clear_notification"
    assert len(notifications) == 2
    await tick(hass, freezer, timedelta(days=1, minutes=1))
    assert hass.states.get(due("backflush")).state == STATE_ON
    assert len(notifications) == 3
    assert sent(notifications)[-1]["title"] == "Backflush due"


def plug_relay(hass: HomeAssistant) -> None:
    """The plug's switch turns on and off as the routine asks (a real switch would)."""

    async def turn(call: ServiceCall) -> None:
        hass.states.async_set(PLUG_SWITCH, STATE_ON if call.service == "turn_on" else STATE_OFF)

    for service in ("turn_on", "turn_off"):
        hass.services.async_register("switch", service, turn)


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("init_integration")
async def test_start_button_starts_the_routine(
    hass: HomeAssistant,
    phone: str,
    notifications: list[ServiceCall],
) -> None:
    """Start backflush starts the due task's routine and clears the notification."""
    plug_relay(hass)
    started = capture(hass, "espresso_care_backflush_started")
    await automation(hass, phone)
    await fall_due(hass)
    await press(hass, sent(notifications)[0]["data"]["actions"][0]["action"])
    assert [event.data["program"]["task"] for event in started] == ["backflush"]
    assert hass.states.get(BACKFLUSH_SWITCH).state == STATE_ON
    assert hass.states.get(PLUG_SWITCH).state == STATE_ON
    assert len(notifications) == 2
    assert sent(notifications)[-1]["message"] == "clear_notification"


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("init_integration")
async def test_start_refused_tells_the_phone(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    phone: str,
    notifications: list[ServiceCall],
) -> None:
    """With arming required and not armed, Start backflush starts nothing: the phone is told
    so, with the same buttons, which start the routine once the machine is armed."""
    plug_relay(hass)
    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, "require_arming": True}
    )
    await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done()
    await automation(hass, phone)
    await fall_due(hass)
    first = sent(notifications)[0]
    start = first["data"]["actions"][0]["action"]
    await press(hass, start)
    assert hass.states.get(BACKFLUSH_SWITCH).state == STATE_OFF
    assert hass.states.get(PLUG_SWITCH).state == STATE_OFF
    assert len(notifications) == 2
    again = sent(notifications)[1]
    assert again["title"] == "Backflush not started"
    assert again["message"] == (
        'The backflush of Espresso machine did not start (with "Require arming" on, press Arm '
        "backflush first). Try again, or mark it done."
    )
    assert again["data"] == first["data"]  # same tag: it replaces the first; same buttons

    await hass.services.async_call(
        "button", "press", {"entity_id": "button.espresso_machine_arm_backflush"}, blocking=True
    )
    await press(hass, start)
    assert hass.states.get(BACKFLUSH_SWITCH).state == STATE_ON
    assert len(notifications) == 3
    assert sent(notifications)[-1]["message"] == "clear_notification"


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("init_integration")
async def test_reminder_replaces_by_tag_and_done_elsewhere_clears(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    phone: str,
    notifications: list[ServiceCall],
) -> None:
    """While due, a reminder is sent with the same tag; done on the dashboard clears it."""
    await automation(hass, phone, reminder_hours=12)
    await fall_due(hass)
    assert len(notifications) == 1
    await tick(hass, freezer, timedelta(hours=11))
    assert len(notifications) == 1
    await tick(hass, freezer, timedelta(hours=1, seconds=1))
    assert len(notifications) == 2
    first, second = sent(notifications)
    assert first == second  # same message, same buttons, same tag: replaces the first
    await hass.services.async_call(
        "button",
        "press",
        {"entity_id": "button.espresso_machine_mark_backflush_done"},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert sent(notifications)[-1] == {
        "target": PHONE_WEBHOOK,
        "message": "clear_notification",
        "data": {"tag": first["data"]["tag"]},
    }
    await tick(hass, freezer, timedelta(hours=13))
    assert len(notifications) == 3  # no reminder after done


@pytest.mark.freeze_time("2026-05-05 06:00:00+00:00")  # 23:00 local
@pytest.mark.usefixtures("init_integration")
async def test_quiet_hours(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    phone: str,
    notifications: list[ServiceCall],
) -> None:
    """A task falling due in the quiet hours (over midnight) is notified when they end."""
    await automation(hass, phone, quiet_start="22:00:00", quiet_end="07:30:00")
    await fall_due(hass)
    assert hass.states.get(due("backflush")).state == STATE_ON
    assert notifications == []
    await tick(hass, freezer, timedelta(hours=8))  # 07:01
    assert notifications == []
    await tick(hass, freezer, timedelta(minutes=30))  # 07:31
    assert len(notifications) == 1
    assert sent(notifications)[0]["title"] == "Backflush due"


@pytest.mark.freeze_time(T0)
@pytest.mark.usefixtures("init_integration")
async def test_other_tasks_and_machines_ignored(
    hass: HomeAssistant,
    phone: str,
    notifications: list[ServiceCall],
) -> None:
    """Only the chosen tasks of the chosen machine are notified."""
    await automation(hass, phone, tasks=["descale"])
    await fall_due(hass)
    assert notifications == []
    hass.bus.async_fire(
        "espresso_care_maintenance_due",
        {"config_entry_id": "other", "name": "Other", "task": "descale"},
    )
    await settle(hass)
    assert notifications == []
    hass.bus.async_fire(
        "espresso_care_maintenance_due",
        {"config_entry_id": ENTRY_ID, "name": "Espresso machine", "task": "descale"},
    )
    await settle(hass)
    data = sent(notifications)[0]
    assert data["message"] == "Time to descale Espresso machine."
    # No start button for a descale.
    assert [button["title"] for button in data["data"]["actions"]] == ["Mark done", "Snooze 1 day"]


async def test_no_start_button_without_a_switch(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    power_sensor: str,
    phone: str,
    notifications: list[ServiceCall],
) -> None:
    """A machine without a backflush switch gets Mark done and Snooze only."""
    options = {**config_entry.options}
    del options[CONF_BACKFLUSH_SWITCH]
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(config_entry, options=options)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    await automation(hass, phone)
    await fall_due(hass)
    data = sent(notifications)[0]
    assert data["title"] == "Backflush due"
    assert [button["title"] for button in data["data"]["actions"]] == ["Mark done", "Snooze 1 day"]


@pytest.mark.freeze_time("2026-05-05 02:00:00+00:00")  # 19:00 local
@pytest.mark.usefixtures("init_integration")
async def test_reminder_waits_for_the_quiet_hours_to_end(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    phone: str,
    notifications: list[ServiceCall],
) -> None:
    """A reminder falling into the quiet hours is sent when they end."""
    await automation(hass, phone, quiet_start="22:00:00", quiet_end="07:30:00", reminder_hours=4)
    await fall_due(hass)
    assert len(notifications) == 1
    await tick(hass, freezer, timedelta(hours=4, seconds=1))  # 23:00: quiet
    assert len(notifications) == 1
    await tick(hass, freezer, timedelta(hours=8))  # 07:00: still quiet
    assert len(notifications) == 1
    await tick(hass, freezer, timedelta(minutes=31))  # 07:31
    assert len(notifications) == 2
    assert sent(notifications)[1] == sent(notifications)[0]


@pytest.mark.freeze_time("2026-05-05 06:00:00+00:00")  # 23:00 local
@pytest.mark.usefixtures("init_integration")
async def test_done_during_the_quiet_hours_sends_nothing(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    phone: str,
    notifications: list[ServiceCall],
) -> None:
    """A task that falls due and is done within the quiet hours is never notified."""
    await automation(hass, phone, quiet_start="22:00:00", quiet_end="07:30:00")
    await fall_due(hass)
    await hass.services.async_call(
        DOMAIN, "mark_done", {"config_entry_id": ENTRY_ID, "task": "backflush"}, blocking=True
    )
    await settle(hass)
    await tick(hass, freezer, timedelta(hours=9))
    assert notifications == []
