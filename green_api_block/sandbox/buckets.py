"""Server-side rate limiting: token buckets per (instance, method), as Green API answers 429.

The client has its own limiter (``green_api_block.ratelimit``) that spaces calls so they never
meet these buckets; both read their rates from ``green_api_block.limits``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

__all__ = ["MethodBuckets"]


class MethodBuckets:
    """Token buckets per (instance, method): a burst of ``rate`` calls, refilled at ``rate``/s."""

    def __init__(self, limits: Mapping[str, float | None], monotonic: Callable[[], float]) -> None:
        self._limits = {k.lower(): float(v) for k, v in limits.items() if v}
        self._monotonic = monotonic
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}

    def take(self, id_instance: str, method: str) -> float | None:
        """None if the call may proceed, else the seconds until one token is back."""
        rate = self._limits.get(method.lower())
        if rate is None:
            return None
        capacity = max(1.0, rate)
        now = self._monotonic()
        key = (id_instance, method.lower())
        tokens, last = self._buckets.get(key, (capacity, now))
        tokens = min(capacity, tokens + (now - last) * rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return None
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / rate

    def reset(self) -> None:
        self._buckets.clear()
