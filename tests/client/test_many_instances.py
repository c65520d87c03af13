"""One block serving many instances: the pool lets every long poll hold its own connection, and
what the block keeps per instance (targets, rate-limit slots) is bounded.

The pool used to stop at 256 connections, so that past 256 instances long-polled at once the rest
waited for a connection (and timed out as pool timeouts); the target cache was emptied each time
it reached 256 entries, so that past 256 instances nearly every call rebuilt its URL.
"""

from __future__ import annotations

import asyncio
import resource
from typing import Any

import httpx
import pytest

from green_api_block import GreenApiBlock, http
from green_api_block.ratelimit import RateLimiter

CHAT = "79001234567@c.us"
POLLS = 1000
_NULL = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4\r\n\r\nnull"


def _args(i: int) -> dict[str, Any]:
    return {"idInstance": str(5_000_000 + i), "apiTokenInstance": f"manyInstances{i:06d}" + "e" * 37}


class _HoldingServer:
    """Holds every request until ``expected`` connections are open at once, then answers ``null``.

    The first answer comes only when all the polls hold a connection together: a pool capped
    below ``expected`` never gets there, and its calls end at the bound instead.
    """

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.open = 0
        self.most = 0
        self.all_in = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open += 1
        self.most = max(self.most, self.open)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if not head:
                    return
                if self.open >= self.expected:
                    self.all_in.set()
                try:
                    await asyncio.wait_for(self.all_in.wait(), 20)
                except TimeoutError:
                    return  # never all in at once: drop, and the call fails
                writer.write(_NULL)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            self.open -= 1
            writer.close()


def _enough_descriptors(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"needs {needed} file descriptors, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


# httpcore's pool scans every connection for every request it assigns: 1,000 polls at once take
# it about 50 s of CPU here (the default aiohttp wire: under 1 s). 300 is past the old cap.
@pytest.mark.parametrize(("transport", "polls"), [("aiohttp", POLLS), ("httpcore", 300)])
async def test_a_thousand_instances_long_poll_at_once(transport: Any, polls: int) -> None:
    _enough_descriptors(2 * polls + 256)  # both ends of every connection are in this process
    server = _HoldingServer(polls)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, backlog=2 * polls)
    port = listener.sockets[0].getsockname()[1]
    block = GreenApiBlock(
        f"http://127.0.0.1:{port}", credentials_from_env=False, async_transport=transport, rate_limits=False
    )
    try:
        calls = [
            block.ainvoke("green_api_get_notifications", {**_args(i), "receiveTimeout": 5})
            for i in range(polls)
        ]
        results = await asyncio.wait_for(asyncio.gather(*calls), 60)
    finally:
        await block.aclose()
        listener.close()
        await listener.wait_closed()
    assert server.most >= polls
    assert all(r == {"ok": True, "output": {"notifications": [], "receiptId": None}} for r in results), [
        r for r in results if not r["ok"]
    ][:1]


def test_the_pool_has_no_cap_below_the_calls_in_flight() -> None:
    # The sync transport is built from the same limits (its threads are the host's concurrency).
    assert http._LIMITS.max_connections is None
    assert http._LIMITS.max_keepalive_connections is None


def test_targets_are_bounded_and_the_recently_used_stay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http, "_TARGET_CACHE_SIZE", 8)
    block = GreenApiBlock(
        "http://127.0.0.1:1",
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"stateInstance": "authorized"})),
        credentials_from_env=False,
        rate_limits=False,
    )
    hot = _args(0)
    block.execute("green_api_get_state_instance", hot)
    session = block._sync_session()
    (hot_target,) = session._targets.values()
    for i in range(1, 200):
        block.execute("green_api_get_state_instance", _args(i))
        block.execute("green_api_get_state_instance", hot)  # used all along: never evicted
        assert len(session._targets) <= 8
    assert hot_target in session._targets.values()
    block.close()


def test_rate_limit_slots_of_past_calls_are_dropped() -> None:
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0], sleep=lambda s: None)
    for i in range(50_000):
        limiter.reserve(str(i), "sendMessage")
        now[0] += 0.001  # a call a millisecond, each to another instance
    # Only the slots still ahead of the clock constrain anything; the rest were let go.
    assert limiter.slots() <= 2 * 4096
    # Dropping them changed no wait: a busy instance is still spaced.
    now[0] += 10
    assert limiter.reserve("busy", "sendMessage") == 0.0
    assert limiter.reserve("busy", "sendMessage") == pytest.approx(1.1 / 50)
