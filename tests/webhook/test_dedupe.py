"""The in-memory de-duplication store: TTL on an injected clock, bounded size, failure counts."""

from __future__ import annotations

import pytest

from green_api_block.webhook import DedupeStore, MemoryDedupeStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_done_key_is_forgotten_after_the_ttl() -> None:
    clock = Clock()
    store = MemoryDedupeStore(ttl=100, clock=clock)
    assert isinstance(store, DedupeStore)
    assert await store.claim("k", 10) == "new"
    await store.succeed("k")
    clock.now += 99
    assert await store.claim("k", 10) == "done"
    clock.now += 2
    assert await store.claim("k", 10) == "new"  # Green API stopped retrying long ago


async def test_the_store_is_bounded_and_forgets_the_oldest() -> None:
    store = MemoryDedupeStore(max_entries=3, clock=Clock())
    for key in "abcde":
        assert await store.claim(key, 10) == "new"
        await store.succeed(key)
    assert len(store) == 3
    assert await store.claim("a", 10) == "new"  # forgotten: handled again (at least once)
    assert await store.claim("e", 10) == "done"


async def test_failures_count_across_releases_and_a_lease_runs_out() -> None:
    clock = Clock()
    store = MemoryDedupeStore(ttl=100, clock=clock)
    assert await store.claim("k", 10) == "new"
    assert await store.claim("k", 10) == "busy"
    assert await store.fail("k") == 1
    await store.release("k")
    assert await store.claim("k", 10) == "new"
    assert await store.fail("k") == 2
    # A holder that never finishes (a crashed receiver) frees the key when its lease ends.
    clock.now += 11
    assert await store.claim("k", 10) == "new"
    assert await store.wait("gone", 0.01) is False


async def test_wait_times_out_as_none() -> None:
    store = MemoryDedupeStore(clock=Clock())
    await store.claim("k", 10)
    assert await store.wait("k", 0.01) is None
    assert store.waiting == 0


@pytest.mark.parametrize(
    "kwargs", [{"ttl": 0}, {"ttl": float("nan")}, {"max_entries": 0}, {"max_entries": True}, {"clock": 3}]
)
def test_arguments_are_checked(kwargs: dict[str, object]) -> None:
    with pytest.raises((TypeError, ValueError)):
        MemoryDedupeStore(**kwargs)  # type: ignore[arg-type]
