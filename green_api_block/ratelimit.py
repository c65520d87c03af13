"""A client-side limiter per instance and method, so that bursts never meet Green API's 429.

Green API limits requests per second per instance and per method (REFERENCE.md §9.3). Each call
reserves the next free slot for its (instance, method) and waits until then; slots are spaced
evenly (a little wider than 1/rate, so that no one-second window can hold more than the limit
whichever way the server counts). Reservation is thread-safe and needs no background task, so
one limiter serves the sync and the async client alike: only the sleep differs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

__all__ = ["DEFAULT_RATES", "RateLimiter"]

#: Requests per second per instance and method (REFERENCE.md §9.3).
DEFAULT_RATES: Mapping[str, float] = {
    "sendMessage": 50,
    "sendFileByUrl": 50,
    "sendFileByUpload": 50,
    # Not in the copies of the rate table seen; assumed to match the other send methods (unverified).
    "sendInteractiveButtons": 50,
    "sendInteractiveButtonsReply": 50,
    "receiveNotification": 100,
    "deleteNotification": 100,
    "getStateInstance": 1,
    "getSettings": 1,
    "setSettings": 1,
    "lastOutgoingMessages": 1,
    "lastIncomingMessages": 1,
}

_SAFETY = 1.1  # slots 10 % wider than 1/rate: event-loop stalls bunch departures; keep rate+1 out of a second


class RateLimiter:
    def __init__(
        self, rates: Mapping[str, float] | None = None, *, default_rate: float | None = None
    ) -> None:
        self.rates = dict(DEFAULT_RATES if rates is None else rates)
        self.default_rate = default_rate
        self._next: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def reserve(self, id_instance: str, api_method: str) -> float:
        """Take the next slot for this instance and method; returns the seconds to wait for it."""
        rate = self.rates.get(api_method, self.default_rate)
        if not rate:
            return 0.0
        key = (id_instance, api_method)
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(key, now))
            self._next[key] = slot + _SAFETY / rate
        return slot - now
