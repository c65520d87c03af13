"""``green_api_get_notifications`` hands each notification's event next to its body.

The schema file's event definitions are derived from the event model (one source of truth: the
drift check below and ``manifest --check``); what the tool returns on the sandbox for each kind of
customer message validates against that schema and carries the fields a later block wires to.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from green_api_block import GreenApiBlock
from green_api_block.contract import data_root, load_tools, schema_path
from green_api_block.events.schema import event_defs, tool_event
from green_api_block.sandbox import Sandbox, SandboxInstance
from green_api_block.sandbox import notifications as nb

TOOL = "green_api_get_notifications"
CHAT = "79001234567@c.us"

pytestmark = pytest.mark.green_api_sandbox(rate_limits=False, max_receive_wait=0.1)


def _schema() -> dict[str, Any]:
    return load_tools()[TOOL].output_schema


def test_the_schema_files_event_is_the_models() -> None:
    on_disk = json.loads((data_root() / schema_path(TOOL, "output")).read_text(encoding="utf-8"))
    assert on_disk["$defs"] == event_defs()
    item = on_disk["properties"]["notifications"]["items"]
    assert item["properties"]["event"] == {"$ref": "#/$defs/Event"}
    assert "event" in item["required"]


def _drain(block: GreenApiBlock, inst: SandboxInstance) -> list[dict[str, Any]]:
    out = block.invoke(
        TOOL,
        {"idInstance": inst.id_instance, "apiTokenInstance": inst.api_token, "maxNotifications": 10},
    )
    assert out["ok"], out
    Draft202012Validator(_schema()).validate(out["output"])
    items: list[dict[str, Any]] = out["output"]["notifications"]
    return items


def test_each_kind_of_customer_message_arrives_with_its_event(
    green_api_sandbox: Sandbox, green_api_instance: SandboxInstance
) -> None:
    sb, inst = green_api_sandbox, green_api_instance
    sb.inject_incoming_text(inst, CHAT, "Is my order ready?")
    sb.inject_location(inst, CHAT, latitude=55.75, longitude=37.62, name="Office")
    sb.inject_incoming_image(inst, CHAT, caption="the receipt")
    block = GreenApiBlock(api_url=inst.api_url, media_url=inst.api_url)
    try:
        items = _drain(block, inst)
    finally:
        block.close()
    events = [item["event"] for item in items]
    assert [e["messageType"] for e in events] == ["textMessage", "locationMessage", "imageMessage"]
    assert events[0]["text"] == "Is my order ready?" and events[0]["chatId"] == CHAT
    assert events[0]["chatType"] == "personal" and events[0]["idInstance"] == int(inst.id_instance)
    assert events[1]["location"]["latitude"] == 55.75 and events[1]["location"]["name"] == "Office"
    assert events[2]["text"] == "the receipt" and events[2]["file"]["url"].startswith("http")
    # The event is the body's, field for field, and never a copy of the body itself.
    assert all(item["event"] == tool_event(item["body"]) and "raw" not in item["event"] for item in items)


def test_a_tap_on_our_buttons_names_the_button_and_the_question(
    green_api_sandbox: Sandbox, green_api_instance: SandboxInstance
) -> None:
    sb, inst = green_api_sandbox, green_api_instance
    block = GreenApiBlock(api_url=inst.api_url, media_url=inst.api_url)
    try:
        sent = block.invoke(
            "green_api_send_buttons",
            {
                "idInstance": inst.id_instance,
                "apiTokenInstance": inst.api_token,
                "chatId": CHAT,
                "message": "Confirm the order?",
                "buttons": [{"buttonText": "Confirm"}, {"buttonText": "Cancel"}],
            },
        )
        assert sent["ok"], sent
        for variant in nb.BUTTON_REPLY_VARIANTS:
            sb.inject_button_tap(inst, CHAT, button_text="Cancel", variant=variant)
        items = [i for i in _drain(block, inst) if i["event"]["eventType"] == "incomingMessageReceived"]
    finally:
        block.close()
    assert len(items) == len(nb.BUTTON_REPLY_VARIANTS)
    for item in items:
        event = item["event"]
        assert (event["buttonText"], event["text"]) == ("Cancel", "Cancel")
        assert event["buttonId"] and event["quotedMessageId"] == sent["output"]["idMessage"]
