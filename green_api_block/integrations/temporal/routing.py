"""Where an event goes: the conversation workflow that owns its chat, or the chat's inbox.

Both the poller (:mod:`.poller`) and the webhook handoff (:mod:`.handoff`) route through
:func:`route_event`, so a polled and a pushed notification land in the same workflow with the same
signal and payload, and the conversation de-duplicates both with :func:`~green_api_block.events.event_key`.

The rule, per event:

1. The chat's conversation workflow (``conversation_id(idInstance, chatId)``) is running: it is
   signalled.
2. It never existed and ``Routing.workflow`` names a type: that type is started with the signal
   (signal-with-start, atomic).
3. Otherwise (it has finished, or no type is configured to start): the event goes to the inbox
   workflow (``inbox_id``; one per chat by default), signal-with-start. A tap on last week's order
   must not silently open a new order, so it never restarts a finished conversation.

Events without a chat (state changes, quota notices) go to the instance's inbox (chatId None).
Runs outside workflows only (it talks to the Temporal service).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from green_api_block.events import Event

__all__ = [
    "EVENT_SIGNAL",
    "INBOX_WORKFLOW",
    "Delivery",
    "Routing",
    "conversation_id",
    "event_payload",
    "inbox_id",
    "route_event",
]

#: The signal every routed event is sent as; its one argument is :func:`event_payload`.
EVENT_SIGNAL = "green_api_event"
#: The workflow type of the shipped inbox (:class:`.inbox.GreenApiInbox`).
INBOX_WORKFLOW = "GreenApiInbox"


def conversation_id(id_instance: str, chat_id: str) -> str:
    """The default id of a chat's conversation workflow: one open conversation per chat."""
    return f"green-api-chat-{id_instance}-{chat_id}"


def inbox_id(id_instance: str, chat_id: str | None) -> str:
    """The default inbox: one per chat, and one per instance for events without a chat."""
    return f"green-api-inbox-{id_instance}" + (f"-{chat_id}" if chat_id else "")


def event_payload(event: Event) -> dict[str, Any]:
    """The signal's argument: the event as a JSON object (``Event.model_validate`` reads it back).

    A notification body carries no token (instanceData is idInstance, wid and typeInstance), and
    nothing is added here: Temporal keeps signal arguments in plain text in the history.
    """
    return event.model_dump(mode="json")


#: Where :func:`route_event` put the event (signal-with-start does not say whether it started one).
Delivery = Literal["conversation", "inbox"]


@dataclass(frozen=True)
class Routing:
    """How events find their workflow. Lives on the worker (and the webhook process), never in a
    payload: the id functions are code.

    ``task_queue``: where a started conversation or inbox runs. ``workflow``: the type started for
    a chat that has no conversation yet (None: such events go to the inbox). ``conversation_id``/
    ``inbox_id``: ``(idInstance, chatId) -> workflow id``. ``inbox_workflow``: the inbox's type.
    """

    task_queue: str
    workflow: str | None = None
    conversation_id: Callable[[str, str], str] = conversation_id
    inbox_workflow: str = INBOX_WORKFLOW
    inbox_id: Callable[[str, str | None], str] = inbox_id
    inbox_task_queue: str | None = None
    signal: str = EVENT_SIGNAL


def _gone(exc: RPCError) -> bool:
    # Signalling a closed or unknown execution answers NOT_FOUND ("workflow execution already completed").
    return exc.status == RPCStatusCode.NOT_FOUND


async def route_event(
    client: Client, event: Event, routing: Routing, *, id_instance: str | None = None
) -> Delivery:
    """Signal the workflow that owns ``event``; returns once Temporal accepted the signal.

    ``id_instance``: the instance the event came from when the caller knows it (the poller does);
    else the body's ``instanceData.idInstance``.
    """
    id_instance = id_instance or str(event.idInstance or "")
    payload = event_payload(event)
    if event.chatId:
        wf_id = routing.conversation_id(id_instance, event.chatId)
        if routing.workflow is None:
            try:
                await client.get_workflow_handle(wf_id).signal(routing.signal, payload)
                return "conversation"
            except RPCError as exc:
                if not _gone(exc):
                    raise
        else:
            try:
                await client.start_workflow(
                    routing.workflow,
                    id=wf_id,
                    task_queue=routing.task_queue,
                    start_signal=routing.signal,
                    start_signal_args=[payload],
                    # A finished conversation is not restarted by a late event: that event is
                    # refused here and goes to the inbox below.
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                )
                return "conversation"
            except WorkflowAlreadyStartedError:
                pass
    await client.start_workflow(
        routing.inbox_workflow,
        id=routing.inbox_id(id_instance, event.chatId),
        task_queue=routing.inbox_task_queue or routing.task_queue,
        start_signal=routing.signal,
        start_signal_args=[payload],
    )
    return "inbox"
