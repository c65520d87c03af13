"""``green-api-block mcp`` as an MCP client starts it: a subprocess, over stdio and over HTTP.

The server talks to the embedded sandbox, whose instance token is the canary: it must not show
in any result (success or error) nor on the server's stderr.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp import types as mcp_types
from mcp.client.stdio import stdio_client

import green_api_block
from green_api_block import TOOL_IDS
from green_api_block.contract import load_tools
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.agents import CUSTOMER, GROUP, SANDBOX, STRANGER, start_mcp, stop
from tests.support.credentials import CANARY

pytestmark = SANDBOX

ROOT = Path(green_api_block.__file__).resolve().parent.parent
TOOLS = load_tools()


def server_env(tmp_path: Path, sandbox: Sandbox, instance: SandboxInstance, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GREEN_API", "XDG_"))}
    env.update(
        HOME=str(tmp_path),
        GREEN_API_BLOCK_CONFIG=str(tmp_path / "config.toml"),
        PYTHONPATH=str(ROOT),
        GREEN_API_URL=sandbox.url,
        GREEN_API_ID_INSTANCE=instance.id_instance,
        GREEN_API_TOKEN_INSTANCE=instance.api_token,
        **extra,
    )
    return env


def text_of(result: mcp_types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, mcp_types.TextContent))


async def test_stdio_end_to_end(tmp_path: Path, sandbox: Sandbox, instance: SandboxInstance) -> None:
    env = server_env(
        tmp_path,
        sandbox,
        instance,
        GREEN_API_ALLOWED_CHATS=f"+7 900 123-45-67, {GROUP}",
        GREEN_API_MAX_SENDS="4",
    )
    params = StdioServerParameters(command=sys.executable, args=["-m", "green_api_block", "mcp"], env=env)
    results: dict[str, mcp_types.CallToolResult] = {}
    with (tmp_path / "stderr.txt").open("w+") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            listed = (await client.list_tools()).tools

            async def call(label: str, tool: str, args: dict[str, Any]) -> mcp_types.CallToolResult:
                results[label] = await client.call_tool(tool, args)
                return results[label]

            await call("state", "green_api_get_state_instance", {})
            await call(
                "message",
                "green_api_send_message",
                {"chatId": "79001234567", "message": "Order #42 is ready"},
            )
            await call(
                "file",
                "green_api_send_file",
                {
                    "chatId": CUSTOMER,
                    "urlFile": "https://example.org/invoice-42.pdf",
                    "fileName": "invoice-42.pdf",
                },
            )
            await call(
                "buttons",
                "green_api_send_buttons",
                {
                    "chatId": CUSTOMER,
                    "message": "Confirm? Reply 1 or 2",
                    "buttons": [{"buttonText": "Yes"}, {"buttonText": "No"}],
                },
            )
            sandbox.inject_incoming_text(instance, CUSTOMER, "yes please")
            await call("notifications", "green_api_get_notifications", {"maxNotifications": 5})
            await call("bad chat", "green_api_send_message", {"chatId": "Ann", "message": "hi"})
            await call("stranger", "green_api_send_message", {"chatId": STRANGER, "message": "hi"})
            await call("unknown", "green_api_delete_everything", {})
            # Sent, but the client sees a 500 whose body carries the request path, token included.
            sandbox.inject_fault(
                "status",
                method="sendMessage",
                status=500,
                body=f'{{"path": "/sendMessage/{CANARY}"}}',
                process=True,
            )
            await call("server error", "green_api_send_message", {"chatId": CUSTOMER, "message": "again"})
            await call("cap", "green_api_send_message", {"chatId": CUSTOMER, "message": "one more"})
            sandbox.inject_fault("status", method="getStateInstance", status=401)
            await call("401", "green_api_get_state_instance", {})
        errlog.seek(0)
        stderr = errlog.read()

    assert [t.name for t in listed] == list(TOOL_IDS)
    for label in ("state", "message", "file", "buttons", "notifications"):
        result = results[label]
        assert result.is_error is False, (label, text_of(result))
        assert json.loads(text_of(result)) == result.structured_content
    assert results["state"].structured_content == {"stateInstance": "authorized"}
    assert results["message"].structured_content["success"] is True
    bodies = [n["body"] for n in results["notifications"].structured_content["notifications"]]
    assert any(
        b.get("messageData", {}).get("textMessageData", {}).get("textMessage") == "yes please" for b in bodies
    )

    expected_errors = {
        "bad chat": "invalid_input",
        "stranger": "recipient_not_allowed",
        "unknown": "unknown_tool",
        "server error": "may already have been sent",
        "cap": "send_limit_reached",
        "401": "unauthorized",
    }
    for label, words in expected_errors.items():
        result = results[label]
        assert result.is_error is True, label
        assert words in text_of(result) and "What to do:" in text_of(result), (label, text_of(result))

    sent = sandbox.sent_messages(instance)
    assert [m.method for m in sent] == [
        "sendMessage",
        "sendFileByUrl",
        "sendInteractiveButtonsReply",
        "sendMessage",
    ]
    for result in results.values():
        assert CANARY not in json.dumps(result.model_dump(mode="json"))
    assert CANARY not in stderr and "Traceback" not in stderr
    assert f"serving stdio for instance {instance.id_instance}" in stderr


@pytest.fixture
def http_server(
    tmp_path: Path, sandbox: Sandbox, instance: SandboxInstance
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    env = server_env(tmp_path, sandbox, instance, GREEN_API_DRY_RUN="1")
    proc, url, _ = start_mcp([], env, stdout=subprocess.PIPE)
    try:
        yield url, proc
    finally:
        stop(proc)


async def test_streamable_http_on_loopback_in_dry_run(
    http_server: tuple[str, subprocess.Popen[str]], sandbox: Sandbox, instance: SandboxInstance
) -> None:
    url, proc = http_server
    assert url.startswith("http://127.0.0.1:") and url.endswith("/mcp")
    async with Client(url) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
        report = await client.call_tool(
            "green_api_send_message", {"chatId": "+7 900 123-45-67", "message": "hi"}
        )
        state = await client.call_tool("green_api_get_state_instance", {})
    assert set(listed) == set(TOOL_IDS)
    assert report.is_error is False
    assert report.structured_content == {
        "dryRun": True,
        "wouldCall": "sendMessage",
        "chatId": CUSTOMER,
        "body": {"chatId": CUSTOMER, "message": "hi"},
    }
    assert state.structured_content == {"stateInstance": "authorized"}
    assert sandbox.sent_messages(instance) == []
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert CANARY not in out + err and "Traceback" not in err
