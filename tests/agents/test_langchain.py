"""The LangChain tools, driven through langchain-core's own API (no model): ToolCall in, ToolMessage out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import StructuredTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from green_api_block import TOOL_IDS, ConfigError, GreenApiBlock, UnknownToolError
from green_api_block.contract import CREDENTIAL_FIELDS
from green_api_block.guard import Guard
from green_api_block.integrations.langchain import create_tools
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.agents import CUSTOMER, SANDBOX, STRANGER, assert_no_canary

pytestmark = SANDBOX


def call(tool: StructuredTool, args: dict[str, Any], call_id: str = "call-1") -> ToolMessage:
    message = tool.invoke({"type": "tool_call", "id": call_id, "name": tool.name, "args": args})
    assert isinstance(message, ToolMessage)
    return message


def by_name(tools: list[StructuredTool]) -> dict[str, StructuredTool]:
    return {t.name: t for t in tools}


def test_tools_carry_the_contract_without_credentials(block: GreenApiBlock) -> None:
    tools = create_tools(block)
    assert [t.name for t in tools] == list(TOOL_IDS)
    for tool in tools:
        assert not set(tool.args) & set(CREDENTIAL_FIELDS)
        function = convert_to_openai_tool(tool)["function"]
        assert "'79001234567@c.us'" in function["description"] or not tool.name.startswith("green_api_send")
        assert not set(function["parameters"]["properties"]) & set(CREDENTIAL_FIELDS)
    only = create_tools(block, tools=["green_api_get_state_instance"])
    assert [t.name for t in only] == ["green_api_get_state_instance"]
    with pytest.raises(UnknownToolError):
        create_tools(block, tools=["green_api_send_sms"])
    with pytest.raises(ConfigError, match="bind the instance credentials"):
        create_tools(GreenApiBlock(credentials_from_env=False))


def test_tool_calls_send_through_the_sandbox(
    block: GreenApiBlock, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    tools = by_name(create_tools(block))
    sent = call(
        tools["green_api_send_message"], {"chatId": "+7 900 123-45-67", "message": "Order #42 is ready"}
    )
    assert sent.status == "success" and sent.tool_call_id == "call-1"
    assert json.loads(str(sent.content)) == sent.artifact and sent.artifact["success"] is True
    sandbox.inject_incoming_text(instance, CUSTOMER, "thanks")
    received = call(tools["green_api_get_notifications"], {"maxNotifications": 3})
    texts = [
        n["body"].get("messageData", {}).get("textMessageData", {}).get("textMessage")
        for n in received.artifact["notifications"]
    ]
    assert "thanks" in texts
    assert [m.text for m in sandbox.sent_messages(instance)] == ["Order #42 is ready"]
    assert_no_canary(sent.model_dump(), received.model_dump())


def test_errors_come_back_to_the_model_as_text(
    block: GreenApiBlock, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    tools = by_name(create_tools(block))
    bad = call(tools["green_api_send_message"], {"chatId": "Ann", "message": "hi"})
    assert bad.status == "error" and bad.artifact is None
    assert "chatId: must be a WhatsApp chat id" in str(bad.content) and "What to do:" in str(bad.content)
    sandbox.set_state(instance, "notAuthorized")
    unlinked = call(tools["green_api_send_message"], {"chatId": CUSTOMER, "message": "hi"})
    assert unlinked.status == "error" and "link WhatsApp" in str(unlinked.content)
    # A plain invoke (not a tool call) returns the same text instead of raising.
    assert "instance_not_authorized" in str(
        tools["green_api_send_message"].invoke({"chatId": CUSTOMER, "message": "x"})
    )
    assert_no_canary(bad.model_dump(), unlinked.model_dump())


async def test_async_tools_and_the_guard(
    block: GreenApiBlock, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    tools = by_name(create_tools(block, guard=Guard(allowed_chats=[CUSTOMER], max_sends=1)))
    send = tools["green_api_send_message"]
    assert "Only these chats may receive messages: 79001234567@c.us" in send.description
    ok = await send.ainvoke(
        {"type": "tool_call", "id": "a", "name": send.name, "args": {"chatId": CUSTOMER, "message": "1"}}
    )
    refused = await send.ainvoke(
        {"type": "tool_call", "id": "b", "name": send.name, "args": {"chatId": STRANGER, "message": "2"}}
    )
    capped = await send.ainvoke(
        {"type": "tool_call", "id": "c", "name": send.name, "args": {"chatId": CUSTOMER, "message": "3"}}
    )
    assert ok.status == "success"
    assert refused.status == "error" and "recipient_not_allowed" in refused.content
    assert capped.status == "error" and "send_limit_reached" in capped.content
    assert len(sandbox.sent_messages(instance)) == 1
    await block.aclose()


def test_strict_schemas_for_openai_and_nulls_dropped(
    block: GreenApiBlock, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    tools = by_name(create_tools(block, strict=True))
    buttons = tools["green_api_send_buttons"]
    exported = next(e for e in block.export_tools("openai") if e["function"]["name"] == buttons.name)
    assert buttons.args_schema == exported["function"]["parameters"]
    args = {
        "chatId": CUSTOMER,
        "message": "Pick one (reply 1 or 2)",
        "header": None,
        "footer": None,
        "buttons": [
            {
                "buttonText": "Yes",
                "buttonId": None,
                "type": None,
                "copyCode": None,
                "phoneNumber": None,
                "url": None,
            },
            {
                "buttonText": "No",
                "buttonId": "no",
                "type": "reply",
                "copyCode": None,
                "phoneNumber": None,
                "url": None,
            },
        ],
    }
    result = call(buttons, args)
    assert result.status == "success", result.content
    assert sandbox.sent_messages(instance)[0].buttons == [
        {"buttonId": "1", "buttonText": "Yes"},
        {"buttonId": "no", "buttonText": "No"},
    ]
