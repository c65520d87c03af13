"""The push journal: what the sandbox's pusher tried, per instance, newest last and bounded.

Kept apart from the pusher (which needs a server loop) so that the emulator, which has neither
HTTP nor threads, can own it and answer ``push_attempts`` whether or not a server runs.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Final

from .records import PushAttempt

__all__ = ["PUSH_JOURNAL_SIZE", "PushJournal"]

#: Attempts kept per instance: a receiver down for a day at the real once-a-minute retry is 1440.
PUSH_JOURNAL_SIZE: Final = 1000


class PushJournal:
    """Thread-safe: the pusher appends on the server loop, tests read from their own thread."""

    def __init__(self, size: int = PUSH_JOURNAL_SIZE) -> None:
        self._lock = threading.Lock()
        self._size = size
        self._attempts: dict[str, deque[PushAttempt]] = {}

    def record(self, id_instance: str, attempt: PushAttempt) -> None:
        with self._lock:
            self._attempts.setdefault(id_instance, deque(maxlen=self._size)).append(attempt)

    def attempts(self, id_instance: str) -> list[PushAttempt]:
        with self._lock:
            return list(self._attempts.get(id_instance, ()))

    def clear(self) -> None:
        with self._lock:
            self._attempts.clear()
