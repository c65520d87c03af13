"""The client-side limiter, on a fake clock: slots are computed, not waited for."""

from __future__ import annotations

import asyncio
import itertools
import threading

import httpx
import pytest

from green_api_block import GreenApiBlock
from green_api_block.ratelimit import DEFAULT_RATES, RateLimiter
from tests.support.clock import FakeClock as _BaseClock
from tests.support.mock import Recorder

STATE = ("green_api_get_state_instance", {"idInstance": "1101000001", "apiTokenInstance": "t" * 50})


class FakeClock(_BaseClock):
    """The shared fake clock, plus a limiter that waits on it."""

    def limiter(self, rates: dict[str, float], **kw: float) -> RateLimiter:
        return RateLimiter(rates, clock=self, sleep=self.sleep, async_sleep=self.async_sleep, **kw)


def test_slots_are_spaced_per_instance_and_method() -> None:
    clock = FakeClock()
    limiter = clock.limiter({"sendMessage": 50, "getStateInstance": 1})
    waits = [limiter.reserve("1", "sendMessage") for _ in range(5)]
    assert waits[0] == 0.0
    for before, after in itertools.pairwise(waits):
        assert after - before == pytest.approx(1.1 / 50)
    assert limiter.reserve("2", "sendMessage") == 0.0, "other instances have their own slots"
    assert limiter.reserve("1", "getStateInstance") == 0.0, "other methods too"
    assert limiter.reserve("1", "getStateInstance") == pytest.approx(1.1)


def test_time_that_passed_counts_towards_the_next_slot() -> None:
    clock = FakeClock()
    limiter = clock.limiter({"getStateInstance": 1})
    limiter.reserve("1", "getStateInstance")
    clock.advance(0.5)
    assert limiter.reserve("1", "getStateInstance") == pytest.approx(0.6)
    clock.advance(5)
    assert limiter.reserve("1", "getStateInstance") == 0.0, "an idle limiter owes no wait"


def test_unknown_methods_are_not_limited_unless_a_default_is_set() -> None:
    clock = FakeClock()
    assert clock.limiter({}).reserve("1", "x") == 0.0
    limiter = clock.limiter({}, default_rate=10)
    limiter.reserve("1", "x")
    assert limiter.reserve("1", "x") == pytest.approx(0.11)


def test_wait_sleeps_until_the_slot_and_not_when_it_is_free() -> None:
    clock = FakeClock()
    limiter = clock.limiter({"getStateInstance": 1})
    limiter.wait("1", "getStateInstance")
    assert clock.slept == []
    limiter.wait("1", "getStateInstance")
    limiter.wait("1", "getStateInstance")
    assert clock.slept == [pytest.approx(1.1), pytest.approx(1.1)]
    assert clock.now == pytest.approx(1002.2)


async def test_wait_async_sleeps_on_the_injected_async_sleep() -> None:
    clock = FakeClock()
    blocking: list[float] = []
    limiter = RateLimiter(
        {"getStateInstance": 1}, clock=clock, sleep=blocking.append, async_sleep=clock.async_sleep
    )
    await limiter.wait_async("1", "getStateInstance")
    await limiter.wait_async("1", "getStateInstance")
    assert clock.slept == [pytest.approx(1.1)]
    assert blocking == [], "the event loop's thread must never block on a limiter"


def test_no_one_second_window_exceeds_the_rate_under_threads() -> None:
    clock = FakeClock()
    limiter = clock.limiter({"sendMessage": 50})
    slots: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            with lock:  # keeps reserve() and the clock read together
                slots.append(clock() + limiter.reserve("1", "sendMessage"))
            clock.advance(0.001)  # time moves while the threads race for slots

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    slots.sort()
    assert len(slots) == 200
    for i in range(len(slots) - 50):
        assert slots[i + 50] - slots[i] >= 1.0, "51 requests inside one second"


@pytest.mark.parametrize("client", ["sync", "async"])
def test_the_block_waits_through_its_limiter(client: str) -> None:
    clock = FakeClock()
    rec = Recorder(httpx.Response(200, json={"stateInstance": "authorized"}))
    block = GreenApiBlock(
        "http://127.0.0.1:1",
        transport=rec.transport(),
        async_transport=rec.transport(),
        credentials_from_env=False,
    )
    block.rate_limiter = clock.limiter({"getStateInstance": 1})

    async def twice_async() -> None:
        await block.aexecute(*STATE)
        await block.aexecute(*STATE)
        await block.aclose()

    if client == "sync":
        with block:
            block.execute(*STATE)
            block.execute(*STATE)
    else:
        asyncio.run(twice_async())
    assert len(rec.requests) == 2
    assert clock.slept == [pytest.approx(1.1)], "the second call waited for its slot, on the clock given"


def test_rate_limits_false_turns_the_limiter_off() -> None:
    block = GreenApiBlock("http://127.0.0.1:1", credentials_from_env=False, rate_limits=False)
    assert block.rate_limiter is None


def test_defaults_follow_the_reference_table() -> None:
    assert DEFAULT_RATES["sendMessage"] == 50 and DEFAULT_RATES["receiveNotification"] == 100
    assert DEFAULT_RATES["getStateInstance"] == 1


def test_client_and_sandbox_read_one_rate_table() -> None:
    from green_api_block.limits import METHOD_RATE_LIMITS
    from green_api_block.sandbox import DEFAULT_RATE_LIMITS

    assert DEFAULT_RATES is METHOD_RATE_LIMITS is DEFAULT_RATE_LIMITS
