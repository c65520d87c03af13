"""Which notifications were handled already: the receiver's de-duplication store.

Green API sends a notification again until it gets a 200, and users report duplicate pushes
even after one (REFERENCE.md §5.5), so every push is looked up by :func:`~green_api_block.events.event_key`
first. A key is *claimed* while its handler runs, *done* once it succeeded; a failure only
counts towards the dead-letter limit, so the next copy is handled again.

Several receivers behind one load balancer share a store by implementing :class:`DedupeStore`
over a shared database (Redis: ``SET key busy NX PX lease`` for claim, a ``done`` value with a
TTL for succeed, ``INCR``+``EXPIRE`` of a failures key, and polling in ``wait``). Only the
in-memory store ships.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

__all__ = ["DEFAULT_MAX_ENTRIES", "DEFAULT_TTL", "Claim", "DedupeStore", "MemoryDedupeStore"]

#: Green API keeps re-sending for 24 h; an hour more covers its clock and ours.
DEFAULT_TTL = 25 * 3600.0
#: About 50 pushes/s per instance at most (REFERENCE.md §5.5): a few instances' busy hour.
DEFAULT_MAX_ENTRIES = 200_000

Claim = Literal["new", "busy", "done"]


@runtime_checkable
class DedupeStore(Protocol):
    """The receiver's view of a de-duplication store. Every method is a coroutine.

    * ``claim(key, lease)``: atomically, ``"done"`` when the key succeeded before, ``"busy"``
      when another copy holds it, else ``"new"``: the caller holds it for up to ``lease`` seconds
      (a receiver that died while holding it must not block the key for good).
    * ``wait(key, timeout)``: for a ``"busy"`` key, the holder's outcome: True (succeeded), False
      (released after a failure), None (still busy after ``timeout`` seconds).
    * ``succeed(key)``: the held key is done (remembered for the store's TTL); wakes waiters.
    * ``fail(key)``: count one failed handling of the held key (kept for the TTL too); returns
      the count so far. The key stays held: the caller then either releases it or, when it gives
      up on the item (dead letter), marks it done.
    * ``release(key)``: the held key is free again (its next copy is handled); wakes waiters.
    """

    async def claim(self, key: str, lease: float) -> Claim: ...

    async def wait(self, key: str, timeout: float) -> bool | None: ...

    async def succeed(self, key: str) -> None: ...

    async def fail(self, key: str) -> int: ...

    async def release(self, key: str) -> None: ...


State = Literal["busy", "idle", "done"]


@dataclass(slots=True)
class _Entry:
    state: State
    expires: float  # clock value: done and failed keys live for the TTL, busy ones for their lease
    failures: int = 0
    # Created by the first waiter only: most keys are never waited for. Each waiter holds the
    # future itself, so a key claimed again at once cannot change the outcome it reads.
    settled: asyncio.Future[bool] | None = field(default=None, repr=False)


class MemoryDedupeStore:
    """An in-process :class:`DedupeStore`: at most ``max_entries`` keys, each kept ``ttl`` seconds.

    When full, the oldest keys are forgotten first (a forgotten key's next copy is handled
    again: at-least-once, never a lost notification). ``clock`` (seconds, monotonic) is
    injectable for tests; waiting itself runs on the event loop's time.
    """

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not math.isfinite(ttl) or ttl <= 0:
            raise ValueError(f"ttl must be a positive number of seconds, not {ttl!r}")
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError(f"max_entries must be a positive integer, not {max_entries!r}")
        if not callable(clock):
            raise TypeError("clock must be a callable returning seconds")
        self.ttl = float(ttl)
        self.max_entries = max_entries
        self._clock = clock
        # Roughly age order (touched keys move to the end): eviction takes from the front.
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self.waiting = 0  # copies now waiting for a busy key (tests and the preview look)

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def _settle(entry: _Entry, outcome: bool) -> None:
        if entry.settled is not None:
            if not entry.settled.done():
                entry.settled.set_result(outcome)
            entry.settled = None

    def _live(self, key: str, now: float) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None and entry.expires <= now:
            # A done key past its TTL, or a holder whose lease ran out (a receiver that died).
            self._settle(entry, False)
            del self._entries[key]
            return None
        return entry

    def _prune(self, now: float) -> None:
        entries = self._entries
        while entries:
            key, entry = next(iter(entries.items()))
            if entry.expires > now and len(entries) <= self.max_entries:
                break
            self._settle(entry, entry.state == "done")
            del entries[key]

    async def claim(self, key: str, lease: float) -> Claim:
        now = self._clock()
        entry = self._live(key, now)
        if entry is None:
            self._entries[key] = _Entry("busy", now + lease)
            self._prune(now)
            return "new"
        if entry.state != "idle":
            return entry.state
        # Failed and released before: hold it again, keeping its failure count.
        entry.state, entry.expires = "busy", now + lease
        self._entries.move_to_end(key)
        return "new"

    async def wait(self, key: str, timeout: float) -> bool | None:
        entry = self._live(key, self._clock())
        if entry is None or entry.state == "idle":
            return False  # free: this copy must be handled (again)
        if entry.state == "done":
            return True
        if entry.settled is None:
            entry.settled = asyncio.get_running_loop().create_future()
        settled = entry.settled
        self.waiting += 1
        try:
            return await asyncio.wait_for(asyncio.shield(settled), timeout)
        except TimeoutError:
            return None
        finally:
            self.waiting -= 1

    async def succeed(self, key: str) -> None:
        now = self._clock()
        entry = self._entries.get(key)
        if entry is None:  # evicted while its handler ran: remember it anyway
            entry = self._entries[key] = _Entry("done", 0.0)
        self._settle(entry, True)
        entry.state, entry.expires = "done", now + self.ttl
        self._entries.move_to_end(key)
        self._prune(now)

    async def fail(self, key: str) -> int:
        entry = self._entries.get(key)
        if entry is None:  # evicted while its handler ran
            entry = self._entries[key] = _Entry("busy", self._clock() + self.ttl)
        entry.failures += 1
        return entry.failures

    async def release(self, key: str) -> None:
        entry = self._entries.get(key)
        if entry is None:
            return
        self._settle(entry, False)
        if entry.failures:
            # Keep the count for the TTL: the poison limit spans Green API's 24 h of retries.
            entry.state, entry.expires = "idle", self._clock() + self.ttl
            self._entries.move_to_end(key)
        else:
            del self._entries[key]
