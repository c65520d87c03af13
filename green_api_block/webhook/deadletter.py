"""Where a poison notification goes: one that failed ``max_failures`` times.

Green API's queue is head-of-line (REFERENCE.md §5.5): a notification answered 500 for ever
holds the instance's later ones back for 24 h. So after ``max_failures`` failed handlings the
receiver hands it to a dead-letter handler and answers 200. The default keeps it: logged (no
token; the body at DEBUG only), in a bounded list, and in a JSON-lines file when given one.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from green_api_block.events import Event

__all__ = ["DeadLetter", "DeadLetterHandler", "DeadLetters"]

logger = logging.getLogger("green_api_block.webhook")


@dataclass(frozen=True, slots=True)
class DeadLetter:
    key: str  # the de-duplication key
    event: Event = field(repr=False)
    failures: int
    error: str  # the last failure: the exception's type (never its text: it may quote the body)
    at: float  # time.time() when it was given up on

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "failures": self.failures,
            "error": self.error,
            "at": self.at,
            "event": self.event.model_dump(mode="json"),
        }


DeadLetterHandler: TypeAlias = Callable[[DeadLetter], "Awaitable[None] | None"]


class DeadLetters:
    """The default dead-letter handler: the last ``max_items`` in :attr:`items`, and ``path``.

    The file holds message contents: it is created readable by its owner only.
    """

    def __init__(self, *, max_items: int = 1000, path: str | os.PathLike[str] | None = None) -> None:
        if isinstance(max_items, bool) or not isinstance(max_items, int) or max_items < 1:
            raise ValueError(f"max_items must be a positive integer, not {max_items!r}")
        if path is not None and not isinstance(path, str | os.PathLike):
            raise TypeError(f"path must be a file path, not {type(path).__name__}")
        self.items: deque[DeadLetter] = deque(maxlen=max_items)
        self.path = Path(path) if path is not None else None
        self._lock = threading.Lock()  # the file may be written from worker threads

    def __call__(self, letter: DeadLetter) -> None:
        event = letter.event
        logger.warning(
            "webhook: gave up on a %s notification of instance %s after %d failures (%s)",
            event.eventType or "?",
            event.idInstance,
            letter.failures,
            letter.error,
        )
        logger.debug("webhook: dead-lettered body: %s", json.dumps(event.raw, ensure_ascii=False))
        self.items.append(letter)
        if self.path is not None:
            line = json.dumps(letter.to_json(), ensure_ascii=False) + "\n"
            with self._lock:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                with os.fdopen(fd, "a", encoding="utf-8") as f:
                    f.write(line)


def now() -> float:
    return time.time()
