"""Guarantee 3 on the surfaces people and models read: the command line and the MCP server.

The library paths are covered fault by fault in ``test_token_canary_faults.py``; here the same
sandbox faults (the token echoed in error bodies wherever a body can carry it) go through the
CLI, with ``--debug`` (tracebacks shown) and ``--json``, and through the MCP server's results,
and the canary must be absent from stdout, stderr, every result and every log record.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from green_api_block import GreenApiBlock
from green_api_block.sandbox import Sandbox, SandboxInstance

from .harness import CHAT
from .test_token_canary_faults import CANARY, LOGGERS, ONE_RETRY, SCENARIOS, TIMEOUTS, _texts_of_records

pytestmark = [
    pytest.mark.green_api_sandbox(max_receive_wait=0.2, rate_limits=False),
    pytest.mark.green_api_instance(api_token=CANARY, settings={"incomingWebhook": "yes"}),
]

FAULTS = {name: spec for name, spec in SCENARIOS.items() if spec is not None}
INPUTS: dict[str, dict[str, Any]] = {
    "green_api_send_message": {"chatId": CHAT, "message": "hi"},
    "green_api_send_file": {"chatId": CHAT, "urlFile": "https://example.com/a.pdf", "fileName": "a.pdf"},
    "green_api_send_buttons": {"chatId": CHAT, "message": "pick", "buttons": [{"buttonText": "Yes"}]},
    "green_api_get_notifications": {"receiveTimeout": 5},
    "green_api_get_state_instance": {},
}


@pytest.fixture
def faulty(sandbox: Sandbox, instance: SandboxInstance, request: pytest.FixtureRequest) -> SandboxInstance:
    """The canary instance with a message waiting and the scenario's fault on every request."""
    assert instance.api_token == CANARY
    sandbox.inject_incoming_text(instance, CHAT, "hello")
    sandbox.inject_fault(instance=instance, forever=True, **FAULTS[request.param])
    return instance


@pytest.fixture
def every_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def _assert_clean(texts: list[str], records: list[logging.LogRecord]) -> None:
    for text in [*texts, *_texts_of_records(records)]:
        assert CANARY not in text, f"the token leaked: {text[:300]}"


@pytest.mark.parametrize("faulty", list(FAULTS), indirect=True)
def test_cli_output_never_shows_the_token(
    faulty: SandboxInstance,
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    every_log: pytest.LogCaptureFixture,
) -> None:
    import green_api_block
    from green_api_block.cli import main

    # The command line has no timeout flags: short ones keep the timeout scenario quick. The
    # client-side limiter is not under test: it would space each retried getStateInstance 1.1 s.
    monkeypatch.setattr(
        green_api_block,
        "GreenApiBlock",
        functools.partial(GreenApiBlock, timeouts=TIMEOUTS, retry=ONE_RETRY, rate_limits=False),
    )
    for key in [k for k in os.environ if k.startswith(("GREEN_API", "XDG_"))]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GREEN_API_BLOCK_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("GREEN_API_URL", sandbox.url)
    monkeypatch.setenv("GREEN_API_ID_INSTANCE", faulty.id_instance)
    monkeypatch.setenv("GREEN_API_TOKEN_INSTANCE", CANARY)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))

    commands: list[list[str]] = []
    for tool, inputs in INPUTS.items():
        path = tmp_path / f"{tool}.json"
        path.write_text(json.dumps(inputs))
        commands.append(["run", tool, "--input", str(path), "--debug"])
        commands.append(["run", tool, "--input", str(path), "--json"])
    commands += [
        ["state", "--debug"],
        ["send", "hello", "--to", CHAT, "--json"],
        ["send-file", "https://example.com/a.pdf", "--to", CHAT, "--debug"],
        ["config", "show"],
    ]
    texts: list[str] = []
    failures = 0
    for args in commands:
        code = main(args)
        out, err = capsys.readouterr()
        failures += code != 0
        texts += [out, err]
    _assert_clean(texts, list(every_log.records))
    assert failures, "no command failed: the fault tested nothing"


@pytest.mark.parametrize("faulty", list(FAULTS), indirect=True)
async def test_mcp_results_never_show_the_token(
    faulty: SandboxInstance, sandbox: Sandbox, every_log: pytest.LogCaptureFixture
) -> None:
    from mcp import Client

    from green_api_block.mcp_server import build_server

    block = GreenApiBlock(
        sandbox.url,
        id_instance=faulty.id_instance,
        api_token=CANARY,
        credentials_from_env=False,
        timeouts=TIMEOUTS,
        retry=ONE_RETRY,
        rate_limits=False,  # not under test; it would space the retried getStateInstance 1.1 s
    )
    texts: list[str] = []
    errors = 0
    try:
        async with Client(build_server(block)) as client:
            for tool, inputs in INPUTS.items():
                result = await client.call_tool(tool, inputs)
                errors += bool(result.is_error)
                texts.append(result.model_dump_json())
    finally:
        await block.aclose()
    _assert_clean(texts, list(every_log.records))
    assert errors, "no call failed: the fault tested nothing"
