"""A client-side limiter per instance and method, so that bursts never meet Green API's 429.

Green API limits requests per second per instance and per method (REFERENCE.md §9.3). Each call
reserves the next free slot for its (instance, method) and waits until then; slots are spaced
evenly (a little wider than 1/rate, so that no one-second window can hold more than the limit
whichever way the server counts). Reservation is thread-safe and needs no background task, so
one limiter serves the sync and the async client alike: only the sleep differs.

The clock and both sleeps are injectable, so that a test can drive the limiter on a fake clock
instead of waiting out real seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Mapping

from .limits import METHOD_RATE_LIMITS

__all__ = ["DEFAULT_RATES", "RateLimiter"]

#: Requests per second per instance and method: Green API's table, the one the sandbox enforces.
DEFAULT_RATES: Mapping[str, float] = METHOD_RATE_LIMITS

_SAFETY = 1.1  # slots 10 % wider than 1/rate: event-loop stalls bunch departures; keep rate+1 out of a second
#: Slots kept before the past ones are dropped. A slot in the past constrains nothing (the next
#: call takes ``now``), so dropping it changes no wait; without this a host serving many
#: instances over months kept one entry per instance and method it ever called.
_PRUNE_AT = 4096


async def _asyncio_sleep(seconds: float) -> None:
    import asyncio  # not at module level: asyncio costs ~45 ms to import and sync callers never need it

    await asyncio.sleep(seconds)


class RateLimiter:
    """Slots per (instance, method); ``clock`` must be monotonic, in seconds, and the sleeps must
    wait on that same clock (the defaults: ``time.monotonic``, ``time.sleep``, ``asyncio.sleep``)."""

    def __init__(
        self,
        rates: Mapping[str, float] | None = None,
        *,
        default_rate: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] = _asyncio_sleep,
    ) -> None:
        self.rates = dict(DEFAULT_RATES if rates is None else rates)
        self.default_rate = default_rate
        self._clock = clock
        self._sleep = sleep
        self._async_sleep = async_sleep
        self._next: dict[tuple[str, str], float] = {}
        self._prune_at = _PRUNE_AT
        self._lock = threading.Lock()

    def reserve(self, id_instance: str, api_method: str) -> float:
        """Take the next slot for this instance and method; returns the seconds to wait for it."""
        rate = self.rates.get(api_method, self.default_rate)
        if not rate:
            return 0.0
        key = (id_instance, api_method)
        with self._lock:
            now = self._clock()
            slot = max(now, self._next.get(key, now))
            self._next[key] = slot + _SAFETY / rate
            if len(self._next) > self._prune_at:
                self._prune(now)
        return slot - now

    def _prune(self, now: float) -> None:
        """Drop the slots already past (called with the lock held)."""
        self._next = {k: t for k, t in self._next.items() if t > now}
        # Amortised: the next prune waits until as many again were added, so that a host with
        # more instances live at once than _PRUNE_AT does not scan them all on every call.
        self._prune_at = max(_PRUNE_AT, 2 * len(self._next))

    def slots(self) -> int:
        """How many (instance, method) slots are kept (not ``__len__``: an empty limiter is no
        less a limiter, and ``if block.rate_limiter:`` must stay true)."""
        return len(self._next)

    def wait(self, id_instance: str, api_method: str) -> None:
        """Reserve a slot and sleep until it comes (the sync client)."""
        delay = self.reserve(id_instance, api_method)
        if delay > 0:
            self._sleep(delay)

    async def wait_async(self, id_instance: str, api_method: str) -> None:
        """Reserve a slot and sleep until it comes, without blocking the event loop."""
        delay = self.reserve(id_instance, api_method)
        if delay > 0:
            await self._async_sleep(delay)
