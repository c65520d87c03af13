"""The MCP server in-process, through the SDK's own client (``mcp.Client(server)``)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from mcp import Client
from mcp import types as mcp_types

from green_api_block import TOOL_IDS, ConfigError, GreenApiBlock
from green_api_block.contract import CREDENTIAL_FIELDS, load_tools
from green_api_block.guard import DRY_RUN_OUTPUT_SCHEMA, Guard
from green_api_block.mcp_server import build_server
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.agents import CUSTOMER, FAST, SANDBOX, STRANGER, assert_no_canary

pytestmark = SANDBOX

TOOLS = load_tools()
ARGS: dict[str, dict[str, Any]] = {
    "green_api_send_message": {"chatId": "+7 900 123-45-67", "message": "Order #42 is ready"},
    "green_api_send_file": {"chatId": CUSTOMER, "urlFile": "https://example.org/i.pdf", "fileName": "i.pdf"},
    "green_api_send_buttons": {
        "chatId": CUSTOMER,
        "message": "Confirm? Reply 1 or 2",
        # What a strict-mode model writes: every field, null for "not set".
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
            }
        ],
    },
    "green_api_get_notifications": {"receiveTimeout": 5},
    "green_api_get_state_instance": {},
}


def text_of(result: mcp_types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, mcp_types.TextContent))


async def test_a_server_needs_bound_credentials() -> None:
    with pytest.raises(ConfigError, match="GREEN_API_TOKEN_INSTANCE"):
        build_server(GreenApiBlock(credentials_from_env=False))


async def test_lists_the_five_tools_without_credentials(block: GreenApiBlock) -> None:
    async with Client(build_server(block)) as client:
        listed = (await client.list_tools()).tools
    assert [t.name for t in listed] == list(TOOL_IDS)
    for tool in listed:
        assert not set(tool.input_schema["properties"]) & set(CREDENTIAL_FIELDS)
        assert tool.output_schema is not None
        assert tool.output_schema["properties"] == TOOLS[tool.name].output_schema["properties"]
        assert tool.annotations is not None and tool.annotations.read_only_hint is (
            not TOOLS[tool.name].sends
        )


async def test_every_tool_answers_with_structured_content_matching_its_schema(
    block: GreenApiBlock, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    sandbox.inject_incoming_text(instance, CUSTOMER, "hello")
    results: dict[str, mcp_types.CallToolResult] = {}
    # The SDK client itself checks structuredContent against each tool's outputSchema.
    async with Client(build_server(block)) as client:
        for tool_id, args in ARGS.items():
            results[tool_id] = await client.call_tool(tool_id, args)
    for tool_id, result in results.items():
        assert result.is_error is False, text_of(result)
        Draft202012Validator(TOOLS[tool_id].output_schema).validate(result.structured_content)
        assert json.loads(text_of(result)) == result.structured_content
    assert [m.method for m in sandbox.sent_messages(instance)] == [
        "sendMessage",
        "sendFileByUrl",
        "sendInteractiveButtonsReply",
    ]
    incoming = results["green_api_get_notifications"].structured_content["notifications"]
    assert incoming[0]["body"]["messageData"]["textMessageData"]["textMessage"] == "hello"
    assert_no_canary(*(r.model_dump(mode="json") for r in results.values()))
    await block.aclose()


async def test_failures_are_error_results_that_say_what_to_do(
    block: GreenApiBlock, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    async with Client(build_server(block)) as client:
        bad_chat = await client.call_tool("green_api_send_message", {"chatId": "Ann", "message": "hi"})
        unknown = await client.call_tool("green_api_send_sms", {})
        sandbox.inject_fault("status", method="getStateInstance", status=429, retry_after=90)
        limited = await client.call_tool("green_api_get_state_instance", {})
        sandbox.set_state(instance, "notAuthorized")
        unlinked = await client.call_tool("green_api_send_message", {"chatId": CUSTOMER, "message": "hi"})
        sandbox.set_state(instance, "authorized")
        sandbox.inject_fault("status", method="sendMessage", status=502)
        maybe_sent = await client.call_tool("green_api_send_message", {"chatId": CUSTOMER, "message": "hi"})
    for result in (bad_chat, unknown, limited, unlinked, maybe_sent):
        assert result.is_error is True and result.structured_content is None
        assert "What to do:" in text_of(result) and "Traceback" not in text_of(result)
        assert_no_canary(result.model_dump(mode="json"))
    assert "chatId: must be a WhatsApp chat id such as '79001234567@c.us'" in text_of(bad_chat)
    assert "green_api_send_message" in text_of(unknown)
    assert "wait 90 seconds" in text_of(limited)
    assert "link WhatsApp" in text_of(unlinked)
    assert "may already have been sent" in text_of(maybe_sent)
    await block.aclose()


async def test_guarded_server_describes_and_applies_its_switches(
    block: GreenApiBlock, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    guard = Guard(dry_run=True, allowed_chats=[CUSTOMER])
    async with Client(build_server(block, guard)) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
        report = await client.call_tool("green_api_send_message", ARGS["green_api_send_message"])
        refused = await client.call_tool("green_api_send_message", {"chatId": STRANGER, "message": "hi"})
    send = listed["green_api_send_message"]
    assert send.description is not None and send.description.startswith("DRY RUN")
    assert send.output_schema == DRY_RUN_OUTPUT_SCHEMA
    assert send.annotations is not None and send.annotations.read_only_hint is True
    assert report.is_error is False
    assert report.structured_content == {
        "dryRun": True,
        "wouldCall": "sendMessage",
        "chatId": CUSTOMER,
        "body": {"chatId": CUSTOMER, "message": "Order #42 is ready"},
    }
    assert refused.is_error is True and "recipient_not_allowed" in text_of(refused)
    assert sandbox.sent_messages(instance) == []


async def test_an_unexpected_failure_is_logged_not_shown(
    block: GreenApiBlock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: Any) -> dict[str, Any]:
        raise RuntimeError(f"boom at /waInstance1/sendMessage/{block._bound['apiTokenInstance']}")

    monkeypatch.setattr(Guard, "aexecute", broken)
    with caplog.at_level(logging.ERROR, logger="green_api_block.mcp_server"):
        async with Client(build_server(block)) as client:
            result = await client.call_tool("green_api_get_state_instance", {})
    assert result.is_error is True and "internal_error" in text_of(result) and "boom" not in text_of(result)
    assert "RuntimeError: boom" in caplog.text
    assert_no_canary(caplog.text, result.model_dump(mode="json"))


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_both_protocol_eras(block: GreenApiBlock, mode: str) -> None:
    async with Client(build_server(block, Guard(dry_run=True)), mode=mode) as client:
        result = await client.call_tool("green_api_send_message", {"chatId": CUSTOMER, "message": "hi"})
    assert result.is_error is False and result.structured_content["dryRun"] is True


async def test_wrong_token_is_explained_without_the_token(
    sandbox: Sandbox, instance: SandboxInstance
) -> None:
    wrong = "wrongT0KEN0123456789abcdef0123456789abcdef0123456"
    async with (
        GreenApiBlock(
            sandbox.url,
            id_instance=instance.id_instance,
            api_token=wrong,
            credentials_from_env=False,
            retry=FAST,
        ) as block,
        Client(build_server(block)) as client,
    ):
        result = await client.call_tool("green_api_get_state_instance", {})
        await block.aclose()
    assert result.is_error is True and "unauthorized" in text_of(result) and "token" in text_of(result)
    assert wrong not in json.dumps(result.model_dump(mode="json"))
