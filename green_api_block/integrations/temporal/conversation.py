"""Waiting for the customer, inside a user workflow: send buttons or a text, wait for the reply.

::

    @workflow.defn
    class Order:
        def __init__(self) -> None:
            self.chat = Conversation()

        @workflow.signal(name=EVENT_SIGNAL)          # what the poller and the webhook handoff send
        def green_api_event(self, payload: dict) -> None:
            self.chat.receive(payload)

        @workflow.run
        async def run(self, order: dict) -> str:
            self.chat.bind(order["idInstance"], order["chatId"])
            reply = await self.chat.ask("Confirm the order?", [("yes", "Confirm"), ("no", "Cancel")],
                                        timeout=timedelta(hours=24))
            ...

Sends are the tool activities ``green_api_send_buttons``/``green_api_send_message`` of
:class:`.activities.GreenApiActivities` by default, which stay single under retries (a retry looks
the send up in the journal first); pass other names to use other activities with the tools' input
and output. Signals come at least once (the poller re-signals an item a dead worker
had not deleted; a webhook push can come twice), so :meth:`Conversation.receive` drops an event
whose :func:`~green_api_block.events.event_key` it has seen.

A tap answers the message it was made on: only a tap whose ``quotedMessageId`` is the idMessage of
the buttons asked (or of ``also``, e.g. a reminder) answers; a tap on an older message is kept in
``stale_taps`` and waited past. A text from the chat written after the question was sent answers
too (``accept_text=False`` waits for a tap only).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from green_api_block.events import Event, event_key
    from green_api_block.integrations.temporal.send_queues import send_queue_for

__all__ = [
    "INCOMING",
    "SEND_BUTTONS_ACTIVITY",
    "SEND_MESSAGE_ACTIVITY",
    "Conversation",
    "Reply",
]

#: The tool activities (``activities.SEND_TOOLS``; not imported: this module runs in the sandbox).
SEND_BUTTONS_ACTIVITY = "green_api_send_buttons"
SEND_MESSAGE_ACTIVITY = "green_api_send_message"
#: The only notification that is the customer speaking (statuses and own sends never answer).
INCOMING = "incomingMessageReceived"

Button = tuple[str, str] | dict[str, str]


@dataclass
class Reply:
    """What came back: ``kind`` is ``button`` (``button_id``, ``text`` = its label), ``text`` or
    ``timeout``. ``question`` is the idMessage the reply answers (a tap's quoted message)."""

    kind: Literal["button", "text", "timeout"]
    button_id: str | None = None
    text: str | None = None
    question: str | None = None
    event: dict[str, Any] | None = None
    #: The event's place in ``Conversation.events``: wait again with ``since=index + 1``.
    index: int | None = None


def _buttons(buttons: Sequence[Button]) -> list[dict[str, str]]:
    out = []
    for b in buttons:
        if isinstance(b, dict):
            out.append({"buttonId": str(b["buttonId"]), "buttonText": str(b["buttonText"])})
        else:
            out.append({"buttonId": str(b[0]), "buttonText": str(b[1])})
    return out


class Conversation:
    """One chat seen from a workflow: the events signalled to it, and ask/send/wait.

    Make it in the workflow's ``__init__`` (signals can be handled before ``run`` starts), call
    :meth:`receive` from the signal handler and :meth:`bind` at the top of ``run``. ``aliases``:
    other ids of the same customer (``…@lid`` besides ``…@c.us``) whose events count as theirs.
    """

    def __init__(
        self,
        *,
        send_buttons_activity: str = SEND_BUTTONS_ACTIVITY,
        send_message_activity: str = SEND_MESSAGE_ACTIVITY,
        task_queue: str | None = None,
        send_groups: int | None = None,
        start_to_close_timeout: timedelta = timedelta(seconds=60),
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        """``send_groups``: send on the instance's rate-limited send queue
        (``send_queues.send_queue_for(idInstance, send_groups)``) instead of ``task_queue``; keep
        it in the workflow's input rather than a constant, so that a new layout does not move the
        sends of running workflows."""
        if task_queue is not None and send_groups is not None:
            raise ValueError("give task_queue or send_groups, not both")
        self.id_instance = ""
        self.chat_id = ""
        self.chat_ids: set[str] = set()
        self.events: list[dict[str, Any]] = []
        self.stale_taps: list[dict[str, Any]] = []
        self.duplicates = 0
        self._seen: set[str] = set()
        self._send_buttons = send_buttons_activity
        self._send_message = send_message_activity
        self._task_queue = task_queue
        self._send_groups = send_groups
        self._timeout = start_to_close_timeout
        self._retry = retry_policy

    def bind(self, id_instance: str | int, chat_id: str, *, aliases: Collection[str] = ()) -> Conversation:
        self.id_instance = str(id_instance)
        self.chat_id = chat_id
        self.chat_ids = {chat_id, *aliases}
        return self

    # ------------------------------------------------------------------ signals

    def receive(self, payload: dict[str, Any]) -> bool:
        """Take one signalled event; False when it is a copy of one already taken."""
        key = event_key(Event.model_validate(payload))
        if key in self._seen:
            self.duplicates += 1
            return False
        self._seen.add(key)
        self.events.append(payload)
        return True

    # ------------------------------------------------------------------ sends (activities)

    async def _send(self, activity: str, args: dict[str, Any]) -> str:
        out = await workflow.execute_activity(
            activity,
            {"idInstance": self.id_instance, "chatId": self.chat_id, **args},
            result_type=dict,
            task_queue=self._queue(),
            start_to_close_timeout=self._timeout,
            retry_policy=self._retry,
        )
        return str(out["idMessage"])

    def _queue(self) -> str | None:
        if self._send_groups is None:
            return self._task_queue
        return send_queue_for(self.id_instance, self._send_groups)

    async def send_text(self, text: str) -> str:
        """Send a text to the chat; returns its idMessage."""
        return await self._send(self._send_message, {"message": text})

    async def send_buttons(
        self, text: str, buttons: Sequence[Button], *, header: str | None = None, footer: str | None = None
    ) -> str:
        """Send reply buttons (``(buttonId, buttonText)`` pairs or dicts); returns the idMessage."""
        args: dict[str, Any] = {"message": text, "buttons": _buttons(buttons)}
        if header:
            args["header"] = header
        if footer:
            args["footer"] = footer
        return await self._send(self._send_buttons, args)

    # ------------------------------------------------------------------ waiting

    def _answer(self, payload: dict[str, Any], questions: Collection[str], accept_text: bool) -> Reply | None:
        if payload.get("eventType") != INCOMING or payload.get("chatId") not in self.chat_ids:
            return None
        if payload.get("buttonId") is not None:
            if payload.get("quotedMessageId") in questions:
                quoted = payload["quotedMessageId"]
                return Reply("button", payload["buttonId"], payload.get("buttonText"), quoted, payload)
            self.stale_taps.append(payload)
            return None
        if accept_text and payload.get("text") is not None:
            return Reply("text", None, payload["text"], payload.get("quotedMessageId"), payload)
        return None

    async def wait_reply(
        self,
        questions: Collection[str],
        *,
        timeout: timedelta | None,
        since: int = 0,
        accept_text: bool = True,
    ) -> Reply:
        """The first answer among events from index ``since`` on, waiting up to ``timeout``."""
        cursor = since
        found: list[Reply] = []

        def answered() -> bool:
            nonlocal cursor
            while cursor < len(self.events) and not found:
                reply = self._answer(self.events[cursor], questions, accept_text)
                if reply is not None:
                    reply.index = cursor
                    found.append(reply)
                cursor += 1
            return bool(found)

        try:
            await workflow.wait_condition(answered, timeout=timeout)
        except TimeoutError:
            return Reply("timeout")
        return found[0]

    async def ask(
        self,
        text: str,
        buttons: Sequence[Button],
        *,
        timeout: timedelta | None,
        also: Collection[str] = (),
        accept_text: bool = True,
        header: str | None = None,
        footer: str | None = None,
    ) -> tuple[str, Reply]:
        """Send buttons and wait for the tap (or a text); returns (the buttons' idMessage, reply).

        ``also``: earlier questions a tap may still answer (the first ask, when this is a reminder).
        Events that came before the send began answer nothing.
        """
        since = len(self.events)
        question = await self.send_buttons(text, buttons, header=header, footer=footer)
        questions = {question, *also}
        reply = await self.wait_reply(questions, timeout=timeout, since=since, accept_text=accept_text)
        return question, reply
