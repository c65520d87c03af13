"""Every shipped transport against a real server that misbehaves on the wire.

The rule under test: a send is retried only if it provably never reached the server, judged from
the connection layer, not from the exception class (aiohttp reports a read-then-dropped POST as
httpx.ConnectTimeout).
"""

from __future__ import annotations

from typing import Any

import pytest

from green_api_block import GreenApiError, RetryPolicy, Timeouts
from tests.support.runner import MODES, block_for, run
from tests.support.stub_server import Action, StubServer, closed_port_url, respond

SEND = ("green_api_send_message", {"chatId": "79001234567@c.us", "message": "hello"})
STATE = ("green_api_get_state_instance", {})
FAST = RetryPolicy(max_retries=3, backoff_initial=0.001, backoff_max=0.005)


def _call(mode: str, url: str, creds: dict[str, str], tool: tuple[str, dict[str, Any]], **kw: Any) -> Any:
    kw.setdefault("retry", FAST)
    block = block_for(mode, url, **kw)
    try:
        return run(mode, block, tool[0], {**creds, **tool[1]})
    finally:
        block.close()


@pytest.mark.parametrize("mode", MODES)
def test_send_read_then_dropped_is_not_retried(mode: str, stub: StubServer, creds: dict[str, str]) -> None:
    stub.script(Action("drop_after_read"))
    with pytest.raises(GreenApiError) as info:
        _call(mode, stub.url, creds, SEND)
    assert info.value.code == "outcome_unknown"
    assert info.value.outcome_unknown is True
    assert info.value.retryable is False
    assert len(stub.received) == 1, "a POST the server read must never be sent again"
    assert stub.connections == 1


@pytest.mark.parametrize("mode", MODES)
def test_send_dropped_before_body_read_is_not_retried(
    mode: str, stub: StubServer, creds: dict[str, str]
) -> None:
    stub.script(Action("drop_before_read"))
    with pytest.raises(GreenApiError) as info:
        _call(mode, stub.url, creds, SEND)
    # The request line and headers went out: nothing on the wire proves the send did not happen.
    assert info.value.code == "outcome_unknown"
    assert stub.connections == 1


@pytest.mark.parametrize("mode", MODES)
def test_send_to_refused_port_is_retried_then_reported(mode: str, creds: dict[str, str]) -> None:
    with pytest.raises(GreenApiError) as info:
        _call(mode, closed_port_url(), creds, SEND)
    assert info.value.code in ("transport_error", "timeout")
    assert info.value.outcome_unknown is False
    assert info.value.retryable is True


@pytest.mark.parametrize("mode", MODES)
def test_send_timeout_after_sending_is_not_retried(
    mode: str, stub: StubServer, creds: dict[str, str]
) -> None:
    stub.script(respond(200, b'{"idMessage":"LATE"}', delay=0.6))
    timeouts = Timeouts(connect=2, read=0.2, write=2, pool=2)
    with pytest.raises(GreenApiError) as info:
        _call(mode, stub.url, creds, SEND, timeouts=timeouts)
    assert info.value.code == "outcome_unknown"
    assert len(stub.received) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [500, 502, 503, 499])
def test_send_server_error_is_not_retried(
    mode: str, status: int, stub: StubServer, creds: dict[str, str]
) -> None:
    stub.script(respond(status, b"Bad Gateway"), respond(200, b'{"idMessage":"X"}'))
    with pytest.raises(GreenApiError) as info:
        _call(mode, stub.url, creds, SEND)
    assert info.value.code == "server_error"
    assert info.value.status_code == status
    assert info.value.outcome_unknown is True
    assert len(stub.received) == 1


@pytest.mark.parametrize("mode", MODES)
def test_send_429_is_retried_honouring_retry_after(
    mode: str, stub: StubServer, creds: dict[str, str]
) -> None:
    stub.script(respond(429, b"", {"Retry-After": "0"}), respond(200, b'{"idMessage":"OK1"}'))
    out = _call(mode, stub.url, creds, SEND)
    assert out == {"idMessage": "OK1", "success": True}
    assert len(stub.received) == 2


@pytest.mark.parametrize("mode", MODES)
def test_read_is_retried_after_drop_and_5xx(mode: str, stub: StubServer, creds: dict[str, str]) -> None:
    stub.script(
        Action("drop_after_read"),
        respond(502, b"Bad Gateway"),
        respond(200, b'{"stateInstance":"authorized"}'),
    )
    out = _call(mode, stub.url, creds, STATE)
    assert out == {"stateInstance": "authorized"}
    assert len(stub.received) == 3


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
