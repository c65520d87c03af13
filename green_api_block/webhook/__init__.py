"""Receive Green API's webhook pushes: an ASGI app with auth, de-duplication, filters, dead letters.

::

    from green_api_block.webhook import WebhookReceiver, WebhookFilter

    async def on_event(event):          # or a plain def: it runs in a worker thread
        print(event.eventType, event.chatId, event.text)

    app = WebhookReceiver(on_event, token=open("webhook-token").read().strip(),
                          filter=WebhookFilter(event_types={"incomingMessageReceived"}))
    # uvicorn module:app   or   fastapi_app.mount("/green-api", app)

The answer is 200 only once the handler returned (Green API then drops the notification);
a handler that raises or runs over ``handler_timeout`` gets 500 and the notification again.
"""

from .app import DEFAULT_HANDLER_TIMEOUT, DEFAULT_MAX_FAILURES, EventHandler, WebhookReceiver
from .body import MAX_BODY
from .counters import Counters
from .deadletter import DeadLetter, DeadLetterHandler, DeadLetters
from .dedupe import DEFAULT_MAX_ENTRIES, DEFAULT_TTL, Claim, DedupeStore, MemoryDedupeStore
from .filters import OWN_SENDS, WebhookFilter

__all__ = [
    "DEFAULT_HANDLER_TIMEOUT",
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_MAX_FAILURES",
    "DEFAULT_TTL",
    "MAX_BODY",
    "OWN_SENDS",
    "Claim",
    "Counters",
    "DeadLetter",
    "DeadLetterHandler",
    "DeadLetters",
    "DedupeStore",
    "EventHandler",
    "MemoryDedupeStore",
    "WebhookFilter",
    "WebhookReceiver",
]
