"""The preview's trigger: a real webhook receiver on the preview's own server, fed by the sandbox.

With ``--sandbox`` the preview serves :data:`WEBHOOK_PATH` through the package's
:class:`~green_api_block.webhook.WebhookReceiver` (bridged to aiohttp), with a token of its own
that never leaves the server. Switching the trigger on sets the sandbox instance's ``webhookUrl``
and ``webhookUrlToken`` to it, so every notification reaches the page by **push delivery**, as
it would reach a deployed trigger: head of line, retried until answered 200, de-duplicated and
filtered by the receiver. Switching it off empties ``webhookUrl`` again.

The trigger starts off, on purpose: while a webhook URL is set the queue is pushed, not polled
(``Get notifications`` then finds nothing, as with Green API), and the form's tools must keep
working as they do without a trigger.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from green_api_block.events import Event
from green_api_block.trigger import filter_from_values, filter_values
from green_api_block.webhook import WebhookFilter, WebhookReceiver

if TYPE_CHECKING:
    from green_api_block.sandbox import Sandbox, SandboxInstance

__all__ = ["WEBHOOK_PATH", "EventFeed", "PreviewTrigger"]

#: Where the preview receives the sandbox's pushes (on the preview's host and port).
WEBHOOK_PATH: Final = "/webhook/green-api"


class EventFeed:
    """The events the receiver handed on, newest last, bounded; each with a sequence number."""

    def __init__(self, limit: int = 100) -> None:
        self._lock = threading.Lock()
        self._items: list[dict[str, Any]] = []
        self._seq = 0
        self._limit = limit

    def add(self, event: Event) -> None:
        with self._lock:
            self._seq += 1
            self._items.append(
                {
                    "seq": self._seq,
                    "receivedAt": time.strftime("%H:%M:%S"),
                    # mode="json": what a later block gets (the trigger's outputs), raw included.
                    "event": event.model_dump(mode="json"),
                }
            )
            del self._items[: -self._limit]

    @property
    def last(self) -> int:
        with self._lock:
            return self._seq

    def since(self, after: int) -> tuple[list[dict[str, Any]], int]:
        with self._lock:
            return [i for i in self._items if i["seq"] > after], self._seq


class PreviewTrigger:
    """The receiver, its events and the switch that points the sandbox instance at it."""

    def __init__(self, sandbox: Sandbox, instance: SandboxInstance) -> None:
        self.sandbox = sandbox
        self.instance = instance
        #: The webhookUrlToken: made here, held here, masked in every answer (config.secrets).
        self.token = secrets.token_urlsafe(32)
        self.feed = EventFeed()
        self.receiver = WebhookReceiver(self._on_event, token=self.token, path=WEBHOOK_PATH)
        self.url: str | None = None  # known once the preview's port is bound
        self._lock = threading.Lock()
        self.listening = False

    async def _on_event(self, event: Event) -> None:
        self.feed.add(event)

    @property
    def filter(self) -> WebhookFilter:
        return self.receiver.filter

    def set_filter(self, values: Mapping[str, Any]) -> WebhookFilter:
        """Apply the trigger view's filter sub-blocks (ValueError when they make no filter)."""
        new = filter_from_values(values)
        # One attribute swap: a push in flight reads the old filter or the new, never half of one.
        self.receiver.filter = new
        return new

    def switch(self, on: bool) -> None:
        """Point the sandbox instance's webhookUrl at the receiver, or empty it (polling again)."""
        with self._lock:
            if on and self.url is None:
                raise RuntimeError("the preview is not listening yet")
            settings = {"webhookUrl": self.url, "webhookUrlToken": self.token} if on else _CLEARED
            self.sandbox.set_settings(self.instance, settings)
            self.listening = on

    def status(self, after: int) -> dict[str, Any]:
        items, last = self.feed.since(after)
        return {
            "available": True,
            "listening": self.listening,
            "webhookUrl": self.url,
            "tokenSet": True,
            "filters": filter_values(self.receiver.filter),
            "counters": self.receiver.counters.snapshot(),
            "events": items,
            "last": last,
        }


_CLEARED: Final = {"webhookUrl": "", "webhookUrlToken": ""}
