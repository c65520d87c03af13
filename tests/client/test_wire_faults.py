"""Every shipped transport against a real server that misbehaves on the wire.

The rule under test: a send is retried only if it provably never reached the server, judged from
the connection layer, not from the exception class (aiohttp reports a read-then-dropped POST as
httpx.ConnectTimeout).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from green_api_block import GreenApiError, RetryPolicy, Timeouts
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.runner import MODES, block_for, run
from tests.support.stub_server import StubServer, closed_port_url, respond

Call = tuple[str, dict[str, Any]]  # a tool and its inputs
SEND: Call = ("green_api_send_message", {"chatId": "79001234567@c.us", "message": "hello"})
STATE: Call = ("green_api_get_state_instance", {})
FAST = RetryPolicy(max_retries=3, backoff_initial=0.001, backoff_max=0.005)

# The faults come from the sandbox (its limiter off: these tests count requests). The stub server
# is left for what the sandbox cannot do: a zero Retry-After, and counting TCP connections.
pytestmark = pytest.mark.green_api_sandbox(rate_limits=False)


def _call(mode: str, url: str, creds: dict[str, str], tool: Call, **kw: Any) -> Any:
    kw.setdefault("retry", FAST)
    block = block_for(mode, url, **kw)
    try:
        return run(mode, block, tool[0], {**creds, **tool[1]})
    finally:
        block.close()


@pytest.mark.parametrize("mode", MODES)
def test_send_read_then_dropped_is_not_retried(
    mode: str, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    fault = sandbox.inject_fault("drop_after", method="sendMessage", forever=True)
    with pytest.raises(GreenApiError) as info:
        _call(mode, sandbox.url, instance.credentials(), SEND)
    assert info.value.code == "outcome_unknown"
    assert info.value.outcome_unknown is True
    assert info.value.retryable is False
    assert fault.hits == 1, "a POST the server read must never be sent again"
    assert len(sandbox.sent_messages(instance)) == 1


@pytest.mark.parametrize("mode", MODES)
def test_send_dropped_before_body_read_is_not_retried(
    mode: str, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    fault = sandbox.inject_fault("drop_before", method="sendMessage", forever=True)
    with pytest.raises(GreenApiError) as info:
        _call(mode, sandbox.url, instance.credentials(), SEND)
    # The request line and headers went out: nothing on the wire proves the send did not happen.
    assert info.value.code == "outcome_unknown"
    assert fault.hits == 1
    assert sandbox.sent_messages(instance) == []


@pytest.mark.parametrize("mode", MODES)
def test_send_to_refused_port_is_retried_then_reported(mode: str, creds: dict[str, str]) -> None:
    with pytest.raises(GreenApiError) as info:
        _call(mode, closed_port_url(), creds, SEND)
    assert info.value.code in ("transport_error", "timeout")
    assert info.value.outcome_unknown is False
    assert info.value.retryable is True


@pytest.mark.parametrize("mode", MODES)
def test_send_timeout_after_sending_is_not_retried(
    mode: str, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    # The sandbox reads the whole request, then stalls past the client's read timeout.
    fault = sandbox.inject_fault("delay", method="sendMessage", delay=0.6, forever=True)
    timeouts = Timeouts(connect=2, read=0.2, write=2, pool=2)
    with pytest.raises(GreenApiError) as info:
        _call(mode, sandbox.url, instance.credentials(), SEND, timeouts=timeouts)
    assert info.value.code == "outcome_unknown"
    assert fault.hits == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [500, 502, 503, 499])
def test_send_server_error_is_not_retried(
    mode: str, status: int, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    # One error, then the server would answer normally: a retry would succeed and record a send.
    fault = sandbox.inject_fault("status", method="sendMessage", status=status, body="Bad Gateway")
    with pytest.raises(GreenApiError) as info:
        _call(mode, sandbox.url, instance.credentials(), SEND)
    assert info.value.code == "server_error"
    assert info.value.status_code == status
    assert info.value.outcome_unknown is True
    assert fault.hits == 1
    assert sandbox.sent_messages(instance) == []


@pytest.mark.parametrize("mode", MODES)
def test_send_429_is_retried_honouring_retry_after(
    mode: str, stub: StubServer, creds: dict[str, str]
) -> None:
    # On the stub: "Retry-After: 0" (retry at once) is a header the sandbox does not send (its
    # Retry-After is whole seconds, at least 1).
    stub.script(respond(429, b"", {"Retry-After": "0"}), respond(200, b'{"idMessage":"OK1"}'))
    out = _call(mode, stub.url, creds, SEND)
    assert out == {"idMessage": "OK1", "success": True}
    assert len(stub.received) == 2


@pytest.mark.parametrize("mode", MODES)
def test_read_is_retried_after_drop_and_5xx(mode: str, sandbox: Sandbox, instance: SandboxInstance) -> None:
    dropped = sandbox.inject_fault("drop_after", method="getStateInstance")
    failed = sandbox.inject_fault("status", method="getStateInstance", status=502)
    out = _call(mode, sandbox.url, instance.credentials(), STATE)
    assert out == {"stateInstance": "authorized"}
    assert (dropped.hits, failed.hits) == (1, 1)  # then the third request was answered


@pytest.mark.parametrize("mode", MODES)
def test_connections_are_reused(mode: str, stub: StubServer, creds: dict[str, str]) -> None:
    stub.script(respond(200, b'{"idMessage":"A"}'))
    block = block_for(mode, stub.url, retry=FAST)
    if mode == "sync":
        for _ in range(5):
            block.execute(*SEND[:1], {**creds, **SEND[1]})
        block.close()
    else:
        import asyncio

        async def go() -> None:
            async with block:
                for _ in range(5):
                    await block.aexecute(SEND[0], {**creds, **SEND[1]})

        asyncio.run(go())
    assert len(stub.received) == 5
    assert stub.connections == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("tool", [SEND, STATE], ids=["send", "read"])
def test_429_left_out_of_retry_statuses_is_not_retried(
    mode: str, tool: tuple[str, dict[str, Any]], stub: StubServer, creds: dict[str, str]
) -> None:
    stub.script(respond(429, b"", {"Retry-After": "0"}), respond(200, b'{"idMessage":"X"}'))
    policy = dataclasses.replace(FAST, retry_statuses=FAST.retry_statuses - {429})
    with pytest.raises(GreenApiError) as info:
        _call(mode, stub.url, creds, tool, retry=policy)
    assert info.value.code == "rate_limited"
    assert info.value.outcome_unknown is False
    assert len(stub.received) == 1


@pytest.mark.parametrize("mode", MODES)
def test_a_read_is_retried_only_after_the_statuses_listed(
    mode: str, stub: StubServer, creds: dict[str, str]
) -> None:
    ok = respond(200, b'{"stateInstance":"authorized"}')
    policy = dataclasses.replace(FAST, retry_statuses=frozenset({503}))
    stub.script(respond(503, b"busy"), ok)
    assert _call(mode, stub.url, creds, STATE, retry=policy) == {"stateInstance": "authorized"}
    assert len(stub.received) == 2
    stub.script(respond(502, b"Bad Gateway"), ok)
    with pytest.raises(GreenApiError) as info:
        _call(mode, stub.url, creds, STATE, retry=policy)
    assert info.value.status_code == 502
    assert len(stub.received) == 3
