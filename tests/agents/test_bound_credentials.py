"""Input may not change a credential bound to the block: a rule of the block itself.

A model's tool call (through the MCP server, the preview's run endpoint, an OpenAI/Anthropic loop
over ``block.invoke``) may add ``idInstance``/``apiTokenInstance`` although no advertised schema
has them. Before, that reached another instance; with only ``idInstance`` added, the bound token
(the canary here) was sent in the URL of another instance. Now a different value is refused,
naming the field, before any request; the same value is accepted.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp import types as mcp_types

from green_api_block import GreenApiBlock, InputValidationError
from green_api_block.mcp_server import build_server
from green_api_block.preview import TOKEN_MARKER, PreviewServer
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.agents import CUSTOMER, FAST, SANDBOX, assert_no_canary
from tests.support.credentials import CANARY
from tests.support.mock import Recorder

pytestmark = SANDBOX

OTHER_TOKEN = "otherT0KEN0123456789abcdef0123456789abcdef01234567"
SEND = {"chatId": CUSTOMER, "message": "hi"}


def _text(result: mcp_types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, mcp_types.TextContent))


def _overrides(other: SandboxInstance) -> list[tuple[str, dict[str, str]]]:
    """The credentials a model may add: another id alone, the pair of another instance, a token."""
    return [
        ("idInstance", {"idInstance": other.id_instance}),
        ("idInstance", {"idInstance": other.id_instance, "apiTokenInstance": OTHER_TOKEN}),
        ("apiTokenInstance", {"apiTokenInstance": OTHER_TOKEN}),
    ]


@pytest.fixture
def other(sandbox: Sandbox) -> SandboxInstance:
    """A second instance on the same sandbox: what an overriding call would reach."""
    return sandbox.create_instance(api_token=OTHER_TOKEN, settings={"incomingWebhook": "yes"})


def _assert_untouched(sandbox: Sandbox, other: SandboxInstance, queued: int) -> None:
    assert sandbox.sent_messages(other) == []
    assert len(sandbox.notifications(other)) == queued


def _assert_refused(error: dict[str, Any], field: str) -> None:
    assert error["code"] == "invalid_input"
    assert field in [e["path"] for e in error["errors"]]
    assert "bound to this block" in error["message"]
    assert_no_canary(error)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_invoke_refuses_input_that_changes_a_bound_credential(
    block: GreenApiBlock, sandbox: Sandbox, instance: SandboxInstance, other: SandboxInstance, mode: str
) -> None:
    sandbox.inject_incoming_text(other, CUSTOMER, "for the other shop only")
    run: Callable[[str, dict[str, Any]], dict[str, Any]]
    if mode == "sync":
        run = block.invoke
    else:

        def run(tool: str, args: dict[str, Any]) -> dict[str, Any]:
            return asyncio.run(block.ainvoke(tool, args))

    for field, extra in _overrides(other):
        for tool, args in (
            ("green_api_send_message", SEND),
            ("green_api_get_notifications", {"receiveTimeout": 5}),
            ("green_api_get_state_instance", {}),
        ):
            envelope = run(tool, {**args, **extra})
            assert envelope["ok"] is False, (tool, extra.keys())
            _assert_refused(envelope["error"], field)
    _assert_untouched(sandbox, other, queued=1)
    assert sandbox.sent_messages(instance) == []


def test_the_same_values_are_accepted(
    block: GreenApiBlock, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    for same in (
        {"idInstance": instance.id_instance},
        {"idInstance": int(instance.id_instance)},  # an integer id is the same id
        {"idInstance": instance.id_instance, "apiTokenInstance": CANARY},
        {"apiTokenInstance": CANARY, "idInstance": None},  # null is "not set", as from strict mode
    ):
        envelope = block.invoke("green_api_send_message", {**SEND, **same})
        assert envelope["ok"] is True, envelope
        assert_no_canary(envelope)
    assert len(sandbox.sent_messages(instance)) == 4


def test_execute_validate_and_the_helpers_refuse_it_too(block: GreenApiBlock, other: SandboxInstance) -> None:
    with pytest.raises(InputValidationError) as info:
        block.execute("green_api_send_message", {**SEND, "idInstance": other.id_instance})
    assert [e["path"] for e in info.value.errors] == ["idInstance"]
    with pytest.raises(InputValidationError):
        block.validate("green_api_send_message", {**SEND, "apiTokenInstance": OTHER_TOKEN})
    with pytest.raises(InputValidationError):
        block.delete_notification(1, id_instance=other.id_instance)
    with pytest.raises(InputValidationError):
        block.find_sent(CUSTOMER, message="hi", api_token=OTHER_TOKEN)
    assert_no_canary(str(info.value), info.value.to_dict())


def test_with_only_the_id_bound_no_other_id_is_reached(sandbox: Sandbox, instance: SandboxInstance) -> None:
    rec = Recorder(httpx.Response(200, json={"idMessage": "X"}))
    block = GreenApiBlock(
        sandbox.url,
        id_instance=instance.id_instance,
        credentials_from_env=False,
        transport=rec.transport(),
        retry=FAST,
        rate_limits=False,
    )
    envelope = block.invoke(
        "green_api_send_message", {**SEND, "idInstance": "1101999999", "apiTokenInstance": CANARY}
    )
    _assert_refused(envelope["error"], "idInstance")
    assert rec.requests == []  # refused before any request
    # The bound id with the input's token is what this binding is for.
    assert block.invoke("green_api_send_message", {**SEND, "apiTokenInstance": CANARY})["ok"] is True
    assert [r.url.path.split("/")[1] for r in rec.requests] == [f"waInstance{instance.id_instance}"]


def test_the_bound_token_never_travels_in_the_url_of_another_instance(instance: SandboxInstance) -> None:
    # Before: with both bound and only idInstance in the input, the request went to
    # /waInstance{other}/sendMessage/{the bound token}.
    rec = Recorder(httpx.Response(200, json={"idMessage": "X"}))
    block = GreenApiBlock(
        "http://127.0.0.1:9",
        id_instance=instance.id_instance,
        api_token=CANARY,
        credentials_from_env=False,
        transport=rec.transport(),
        rate_limits=False,
    )
    for tool, args in (("green_api_send_message", SEND), ("green_api_get_state_instance", {})):
        envelope = block.invoke(tool, {**args, "idInstance": "1101999999"})
        _assert_refused(envelope["error"], "idInstance")
    assert rec.requests == []


def test_a_token_bound_without_its_id_is_sent_to_no_instance(
    sandbox: Sandbox, instance: SandboxInstance
) -> None:
    rec = Recorder(httpx.Response(200, json={"idMessage": "X"}))
    block = GreenApiBlock(
        sandbox.url,
        api_token=CANARY,
        credentials_from_env=False,
        transport=rec.transport(),
        rate_limits=False,
    )
    envelope = block.invoke("green_api_send_message", {**SEND, "idInstance": "1101999999"})
    assert envelope["ok"] is False and envelope["error"]["errors"][0]["path"] == "idInstance"
    assert "bind id_instance" in envelope["error"]["message"]
    assert rec.requests == []
    assert_no_canary(envelope)


async def test_the_mcp_server_refuses_a_tool_call_that_names_other_credentials(
    block: GreenApiBlock, sandbox: Sandbox, instance: SandboxInstance, other: SandboxInstance
) -> None:
    sandbox.inject_incoming_text(other, CUSTOMER, "for the other shop only")
    results: list[tuple[str, mcp_types.CallToolResult]] = []
    async with Client(build_server(block)) as client:
        for field, extra in _overrides(other):
            for tool, args in (
                ("green_api_send_message", SEND),
                ("green_api_get_notifications", {"receiveTimeout": 5}),
            ):
                results.append((field, await client.call_tool(tool, {**args, **extra})))
        same = await client.call_tool("green_api_send_message", {**SEND, "idInstance": instance.id_instance})
    await block.aclose()
    for field, result in results:
        assert result.is_error is True and result.structured_content is None
        text = _text(result)
        assert "invalid_input" in text or "invalid input" in text, text
        assert f"{field}: is bound to this block" in text, text
        assert_no_canary(json.dumps(result.model_dump(mode="json")))
    assert same.is_error is False, _text(same)
    _assert_untouched(sandbox, other, queued=1)
    assert len(sandbox.sent_messages(instance)) == 1


def test_the_preview_run_endpoint_refuses_it(
    sandbox: Sandbox, instance: SandboxInstance, other: SandboxInstance
) -> None:
    sandbox.inject_incoming_text(other, CUSTOMER, "for the other shop only")
    with (
        PreviewServer(api_url=sandbox.url, id_instance=instance.id_instance, api_token=CANARY) as preview,
        httpx.Client(base_url=preview.url, timeout=10) as client,
    ):
        answers = [
            (field, client.post("/api/run", json={"tool": tool, "args": {**args, **extra}}))
            for field, extra in _overrides(other)
            for tool, args in (("green_api_send_message", SEND), ("green_api_get_notifications", {}))
        ]
        # What the page sends: the bound id repeated, the token as the marker for "the bound one".
        same = client.post(
            "/api/run",
            json={
                "tool": "green_api_send_message",
                "args": {**SEND, "idInstance": instance.id_instance, "apiTokenInstance": TOKEN_MARKER},
            },
        )
    for field, answer in answers:
        assert answer.status_code == 200 and CANARY not in answer.text
        _assert_refused(answer.json()["error"], field)
    assert same.json()["ok"] is True, same.text
    _assert_untouched(sandbox, other, queued=1)
    assert len(sandbox.sent_messages(instance)) == 1
