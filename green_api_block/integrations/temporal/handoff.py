"""The webhook path: a :class:`~green_api_block.webhook.WebhookReceiver` handler that routes each
pushed event into Temporal exactly as the poller does, so a push-mode instance needs no poller.

The receiver answers 200 only after the handler returned, and the handler returns only after
Temporal accepted the signal: a 200 means Temporal has the event. If Temporal is unreachable the
handler raises, the receiver answers 500, and Green API sends the notification again a minute later.
"""

from __future__ import annotations

from temporalio.client import Client

from green_api_block.events import Event

from .routing import Routing, route_event

__all__ = ["TemporalHandoff"]


class TemporalHandoff:
    """``WebhookReceiver(TemporalHandoff(client, routing), token=...)``."""

    def __init__(self, client: Client, routing: Routing) -> None:
        self.client = client
        self.routing = routing

    async def __call__(self, event: Event) -> None:
        await route_event(self.client, event, self.routing)
