"""The de-duplication key of a notification: what tells two deliveries of *one* notification apart
from two notifications.

idMessage alone is not enough: it is unique per chat only, and the sent, delivered and read
statuses of one message (and an incoming call's statuses) all carry that message's idMessage. So
the key is instance + chat + typeWebhook + idMessage (+ status where there is one), and a hash of
the whole body for notifications without an idMessage (state changes, quota notices). Pushes carry
no receiptId, so the receiver and a poller share this one key.
"""

from __future__ import annotations

import hashlib
import json

from .model import Event

__all__ = ["event_key"]


def event_key(event: Event) -> str:
    if event.idMessage:
        parts = (
            str(event.idInstance or ""),
            event.chatId or "",
            event.eventType,
            event.idMessage,
            event.status or "",
        )
        return "m:" + "\x1f".join(parts)
    canonical = json.dumps(event.raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "h:" + hashlib.sha256(canonical.encode()).hexdigest()
