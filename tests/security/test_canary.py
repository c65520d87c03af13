"""A canary token must never show in an exception, a repr, a log record or an output."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from green_api_block import (
    GreenApiBlock,
    GreenApiBlockError,
    GreenApiError,
    InputValidationError,
    RetryPolicy,
    Timeouts,
)
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.credentials import CANARY, ID
from tests.support.mock import Recorder
from tests.support.runner import MODES, block_for, run
from tests.support.stub_server import closed_port_url

CREDS = {"idInstance": ID, "apiTokenInstance": CANARY}
FAST = RetryPolicy(max_retries=1, backoff_initial=0.001, backoff_max=0.002)
SEND = ("green_api_send_message", {**CREDS, "chatId": "79001234567@c.us", "message": "hi"})
STATE = ("green_api_get_state_instance", CREDS)

# The canary instance: the token travels in every URL path, as Green API's does.
pytestmark = [
    pytest.mark.green_api_sandbox(rate_limits=False),
    pytest.mark.green_api_instance(id_instance=ID, api_token=CANARY),
]


def _assert_clean(exc: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    texts = [str(exc), repr(exc)]
    if isinstance(exc, GreenApiError):
        texts += [str(exc.to_dict()), exc.url or "", exc.body_excerpt or ""]
    cause: BaseException | None = exc.__cause__ or exc.__context__
    while cause is not None:
        texts += [str(cause), repr(cause)]
        cause = cause.__cause__ or cause.__context__
    texts += [r.getMessage() for r in caplog.records]
    texts += [str(r.args) for r in caplog.records]
    for text in texts:
        assert CANARY not in text


# What the sandbox answers in each scenario, on every request: the token echoed wherever a body can.
SCENARIOS: dict[str, dict[str, Any]] = {
    "timeout": {"kind": "delay", "delay": 0.5},
    "401": {"kind": "status", "status": 401, "body": "Unauthorized " + CANARY},
    "500": {"kind": "status", "status": 500, "body": f"Internal error for /sendMessage/{CANARY}"},
    "non-json": {"kind": "text", "body": "<html>" + CANARY},
    "dropped": {"kind": "drop_after"},
    "429": {"kind": "status", "status": 429, "body": "slow down"},
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scenario", ["refused", *SCENARIOS])
def test_no_token_on_error_paths(
    mode: str, scenario: str, sandbox: Sandbox, instance: SandboxInstance, all_logs: pytest.LogCaptureFixture
) -> None:
    timeouts = Timeouts(connect=1, read=0.2, write=1, pool=1)
    if scenario in SCENARIOS:
        sandbox.inject_fault(forever=True, **SCENARIOS[scenario])
    url = closed_port_url() if scenario == "refused" else sandbox.url
    for tool in (SEND, STATE):
        block = block_for(mode, url, retry=FAST, timeouts=timeouts)
        with pytest.raises(GreenApiBlockError) as info:
            run(mode, block, *tool)
        block.close()
        _assert_clean(info.value, all_logs)


def test_no_token_in_successful_call_logs(
    sandbox: Sandbox, instance: SandboxInstance, all_logs: pytest.LogCaptureFixture
) -> None:
    for mode in MODES:
        block = block_for(mode, sandbox.url)
        run(mode, block, *SEND)
        block.close()
    # The sandbox authenticates by the token in the URL: each send it took carried the token.
    assert len(sandbox.sent_messages(instance)) == len(MODES), "the token did reach the server"
    assert any("HTTP Request" in r.getMessage() for r in all_logs.records), "httpx logged its request line"
    for r in all_logs.records:
        assert CANARY not in r.getMessage()


def test_validation_errors_and_reprs_are_clean(caplog: pytest.LogCaptureFixture) -> None:
    block = GreenApiBlock("http://127.0.0.1:1", api_token=CANARY, id_instance=ID, credentials_from_env=False)
    assert CANARY not in repr(block)
    for bad in (
        {"apiTokenInstance": CANARY + "/x", "idInstance": "x"},
        {CANARY: 1, **CREDS},
        {**CREDS, "message": CANARY * 1000},
    ):
        with pytest.raises(InputValidationError) as info:
            block.execute("green_api_send_message", bad)
        _assert_clean(info.value, caplog)
    assert CANARY not in str(block.validate("green_api_get_state_instance", {}))
    assert CANARY not in repr(block.tools)


def test_a_third_party_log_line_with_the_token_is_masked(caplog: pytest.LogCaptureFixture) -> None:
    GreenApiBlock("http://127.0.0.1:1", api_token=CANARY, credentials_from_env=False)
    caplog.set_level(logging.DEBUG)
    logging.getLogger("httpcore.http11").debug("GET /waInstance1/getStateInstance/%s", CANARY)
    assert caplog.records and CANARY not in caplog.records[-1].getMessage()


def test_mock_transport_untracked_send_is_never_retried() -> None:
    # With no wire information a failed send counts as possibly sent: never retried.
    rec = Recorder(httpx.ConnectError("refused"), httpx.Response(200, json={"idMessage": "X"}))
    block = GreenApiBlock(
        "http://127.0.0.1:1",
        transport=rec.transport(),
        async_transport=rec.transport(),
        retry=FAST,
        credentials_from_env=False,
    )
    with pytest.raises(GreenApiError) as info:
        block.execute(*SEND)
    assert info.value.code == "outcome_unknown" and len(rec.requests) == 1

    async def go() -> Any:
        return await block.aexecute(*SEND)

    rec2 = Recorder(httpx.ReadTimeout("slow"), httpx.Response(200, json={"stateInstance": "authorized"}))
    block2 = GreenApiBlock(
        "http://127.0.0.1:1",
        async_transport=rec2.transport(),
        retry=FAST,
        credentials_from_env=False,
        rate_limits=False,  # not under test; it would space the retried getStateInstance 1.1 s
    )
    assert asyncio.run(block2.aexecute(*STATE)) == {"stateInstance": "authorized"}
    assert len(rec2.requests) == 2
