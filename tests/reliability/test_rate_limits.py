"""Guarantee 6: the client-side limiter keeps a burst clear of Green API's 429, and a 429 that does
come back is honoured.

The sandbox runs its own limiter (REFERENCE.md §9.3: sendMessage 50 rps per instance, answered
with 429) and every 429 it decides is counted by wrapping the backend's ``take_rate``. The block
runs with no retries (``max_retries=0``), so a 429 could not hide behind a successful retry.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
import uuid
from typing import Any

import pytest

from green_api_block import GreenApiError, RetryPolicy
from green_api_block.sandbox import Sandbox, SandboxInstance
from green_api_block.sandbox.errors import APIError

from .harness import close_block, make_block, observe_wire, report, run_tool, send_args

# The sandbox's own limiter is on here, with Retry-After on its 429s.
pytestmark = [
    pytest.mark.green_api_sandbox(rate_limits=True, retry_after_header=True),
    pytest.mark.green_api_instance(settings={}),
]

NO_RETRY = RetryPolicy(max_retries=0)
SEND_RATE = 50  # REFERENCE.md §9.3, sendMessage


class RateLimitCounter:
    """Counts the 429s the sandbox's limiter answers."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.refused = 0
        self._lock = threading.Lock()
        self._original = sb.backend.take_rate

    def __enter__(self) -> RateLimitCounter:
        def take_rate(id_instance: str, method: str) -> None:
            try:
                self._original(id_instance, method)
            except APIError:
                with self._lock:
                    self.refused += 1
                raise

        self.sb.backend.take_rate = take_rate  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        self.sb.backend.take_rate = self._original  # type: ignore[method-assign]


async def _burst(
    mode: str, sb: Sandbox, inst: SandboxInstance, calls: int, rate_limits: Any
) -> dict[str, Any]:
    block = make_block(mode, sb.url, inst, retry=NO_RETRY, rate_limits=rate_limits)
    prefix = f"g6 {uuid.uuid4().hex[:8]}"
    codes: dict[str, int] = {}
    counter = itertools.count()

    async def worker() -> None:
        while (i := next(counter)) < calls:
            try:
                await asyncio.wait_for(
                    run_tool(mode, block, "green_api_send_message", send_args(f"{prefix} {i}")), 60
                )
                codes["ok"] = codes.get("ok", 0) + 1
            except GreenApiError as exc:
                codes[exc.code] = codes.get(exc.code, 0) + 1

    started = time.monotonic()
    try:
        with RateLimitCounter(sb) as counted, observe_wire(sb) as wire:
            await asyncio.gather(*(worker() for _ in range(100)))
        elapsed = time.monotonic() - started
    finally:
        await close_block(block)
    arrivals = sorted(a.at for a in wire.of("sendMessage"))
    # The most requests the server saw in any one-second window.
    busiest = max(
        (sum(1 for t in arrivals[i:] if t < start + 1.0) for i, start in enumerate(arrivals)), default=0
    )
    return {
        "calls": calls,
        "codes": codes,
        "server_429s": counted.refused,
        "seconds": round(elapsed, 2),
        "busiest_second": busiest,
    }


@pytest.mark.parametrize(
    ("mode", "calls"),
    [
        pytest.param("async-aiohttp", 100, id="async-aiohttp-100"),
        pytest.param("async-aiohttp", 500, id="async-aiohttp-500", marks=pytest.mark.slow),
        pytest.param("async-httpcore", 500, id="async-httpcore-500", marks=pytest.mark.slow),
        pytest.param("sync", 500, id="sync-500", marks=pytest.mark.slow),
    ],
)
async def test_a_burst_meets_no_429(
    mode: str, calls: int, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    figures = await _burst(mode, sandbox, instance, calls, rate_limits=True)
    report("g6_burst_limited", mode=mode, concurrency=100, **figures)
    assert figures["server_429s"] == 0
    assert figures["codes"] == {"ok": calls}
    # No bound on the busiest second seen at arrival: a stalled event loop on a loaded machine
    # bunches arrivals (54 in one second was seen with other suites running). The server's own
    # bucket is the judge of "too fast", and it refused nothing (above); the figure is reported.
    # The price of zero 429s: the burst is spread at the published rate.
    assert figures["seconds"] >= (calls - 1) / SEND_RATE


async def test_without_the_limiter_the_same_burst_is_refused(
    sandbox: Sandbox, instance: SandboxInstance
) -> None:
    """The control experiment: the sandbox's limiter is live and the count above would see 429s."""
    figures = await _burst("async-aiohttp", sandbox, instance, 100, rate_limits=False)
    report("g6_burst_unlimited", mode="async-aiohttp", concurrency=100, **figures)
    assert figures["server_429s"] > 0
    assert figures["codes"].get("rate_limited") == figures["server_429s"]


async def test_a_429_with_retry_after_is_honoured(sandbox: Sandbox, instance: SandboxInstance) -> None:
    """getStateInstance is limited to 1 rps; with the block's limiter off, a second call at once is
    refused with ``Retry-After: 1`` and must not come back sooner."""
    mode = "async-aiohttp"  # the retry decision is shared by all paths; test_no_duplicate_sends
    # checks a Retry-After on sendMessage through each of them
    retry = RetryPolicy(max_retries=2, backoff_initial=0.01, backoff_max=0.02)
    block = make_block(mode, sandbox.url, instance, retry=retry, rate_limits=False)
    try:
        with RateLimitCounter(sandbox) as counted, observe_wire(sandbox) as wire:
            first = await run_tool(mode, block, "green_api_get_state_instance", {})
            second = await run_tool(mode, block, "green_api_get_state_instance", {})
    finally:
        await close_block(block)
    attempts = wire.of("getStateInstance")
    assert first == second == {"stateInstance": "authorized"}
    assert counted.refused == 1 and len(attempts) == 3
    gap = attempts[2].at - attempts[1].at
    report("g6_retry_after_honoured", mode=mode, retry_after=1, waited_seconds=round(gap, 3))
    assert gap >= 1.0, f"retried {gap:.3f} s after a 429 with Retry-After: 1"


@pytest.mark.green_api_sandbox(retry_after_header=False)
async def test_a_429_without_retry_after_is_backed_off(sandbox: Sandbox, instance: SandboxInstance) -> None:
    """No Retry-After (what Green API documents): exponential backoff until the bucket refills."""
    block = make_block("async-aiohttp", sandbox.url, instance, retry=RetryPolicy(), rate_limits=False)
    try:
        with RateLimitCounter(sandbox) as counted, observe_wire(sandbox) as wire:
            await block.aexecute("green_api_get_state_instance", {})
            out = await block.aexecute("green_api_get_state_instance", {})
    finally:
        await close_block(block)
    attempts = wire.of("getStateInstance")
    assert out == {"stateInstance": "authorized"}
    assert counted.refused >= 1
    assert attempts[-1].at - attempts[0].at >= 1.0 - 0.05  # the bucket's one-second refill
    assert all(b.at > a.at for a, b in itertools.pairwise(attempts))
