"""A fake clock for the limiter and the sandbox: time moves only when something sleeps on it."""

from __future__ import annotations

import threading


class FakeClock:
    """A monotonic (or Unix) clock that moves only when something sleeps on it or a test advances it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


class ShiftedClock:
    """The real Unix clock plus an offset a test sets. A sandbox given it stamps journal entries
    with it, so "an identical message a minute ago" is recorded without waiting a minute."""

    def __init__(self) -> None:
        self.offset = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        import time

        with self._lock:
            return time.time() + self.offset

    def set(self, offset: float) -> None:
        with self._lock:
            self.offset = offset
