"""One event model for every notification, whether polled or pushed.

``Event.from_body(body)`` turns any notification body (REFERENCE.md §6) into flat fields a later
block wires to; ``event_key(event)`` is the de-duplication key the webhook receiver and the
Temporal poller share. The typed wire models (a discriminated union on ``typeWebhook``) are in
:mod:`.wire`.
"""

from .keys import event_key
from .model import ChatType, Event, EventContact, EventFile, EventLocation, chat_type, normalise_chat_id
from .wire import MESSAGE_WEBHOOKS, NotificationBody

__all__ = [
    "MESSAGE_WEBHOOKS",
    "ChatType",
    "Event",
    "EventContact",
    "EventFile",
    "EventLocation",
    "NotificationBody",
    "chat_type",
    "event_key",
    "normalise_chat_id",
]
