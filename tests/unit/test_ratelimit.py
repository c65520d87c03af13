from __future__ import annotations

import itertools
import threading
import time

import pytest

from green_api_block.ratelimit import DEFAULT_RATES, RateLimiter


def test_slots_are_spaced_per_instance_and_method() -> None:
    limiter = RateLimiter({"sendMessage": 50, "getStateInstance": 1})
    waits = [limiter.reserve("1", "sendMessage") for _ in range(5)]
    assert waits[0] == 0.0
    for before, after in itertools.pairwise(waits):
        assert after - before == pytest.approx(1.1 / 50, abs=2e-3)
    assert limiter.reserve("2", "sendMessage") == 0.0, "other instances have their own slots"
    assert limiter.reserve("1", "getStateInstance") == 0.0, "other methods too"
    assert limiter.reserve("1", "getStateInstance") == pytest.approx(1.1, abs=2e-3)


def test_unknown_methods_are_not_limited_unless_a_default_is_set() -> None:
    assert RateLimiter({}).reserve("1", "x") == 0.0
    limiter = RateLimiter({}, default_rate=10)
    limiter.reserve("1", "x")
    assert limiter.reserve("1", "x") == pytest.approx(0.11, abs=2e-3)


def test_no_one_second_window_exceeds_the_rate_under_threads() -> None:
    limiter = RateLimiter({"sendMessage": 50})
    slots: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            with lock:  # the lock keeps reserve() and the clock read together
                wait = limiter.reserve("1", "sendMessage")
                slots.append(time.monotonic() + wait)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    slots.sort()
    assert len(slots) == 200
    for i in range(len(slots) - 50):
        assert slots[i + 50] - slots[i] >= 0.999, "51 requests inside one second"


def test_defaults_follow_the_reference_table() -> None:
    assert DEFAULT_RATES["sendMessage"] == 50 and DEFAULT_RATES["receiveNotification"] == 100
    assert DEFAULT_RATES["getStateInstance"] == 1
