"""End to end on 127.0.0.1: the sandbox pushes its queue to our receiver on a real uvicorn.

Each test stages what users report about push delivery (REFERENCE.md §5.5) — a receiver that is
down, handlers that fail or are slow, duplicate pushes, wrong tokens, poison items — and checks
that every notification reaches the handler exactly once, in queue order, and that the canary
token shows up in no log record.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from green_api_block.events import Event
from green_api_block.sandbox import BUTTON_REPLY_VARIANTS, Sandbox, SandboxInstance
from green_api_block.webhook import DeadLetters, WebhookReceiver
from tests.support.asgi_server import AsgiServer
from tests.support.credentials import CANARY
from tests.support.webhook_receiver import free_port, wait_until

CHAT = "79001234567@c.us"
GROUP = "120363043968066561@g.us"
SETTINGS = {
    "incomingWebhook": "yes",
    "outgoingWebhook": "yes",
    "stateWebhook": "yes",
    "incomingCallWebhook": "yes",
}


class Handler:
    """Records events (thread-safe); ``failures`` makes the next N calls raise, ``delays`` sleep."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.calls = 0
        self.failures: dict[str, int] = {}  # idMessage -> failures still to come (-1: always)
        self.delays: list[float] = []
        self._lock = threading.Lock()

    async def __call__(self, event: Event) -> None:
        with self._lock:
            self.calls += 1
            delay = self.delays.pop(0) if self.delays else 0.0
            left = self.failures.get(event.idMessage or "", 0)
            if left:
                self.failures[event.idMessage or ""] = left - 1 if left > 0 else left
        if delay:
            await asyncio.sleep(delay)
        if left:
            raise RuntimeError(f"handler failed on purpose ({CANARY})")
        with self._lock:
            self.events.append(event)

    def texts(self) -> list[str | None]:
        with self._lock:
            return [e.text for e in self.events]


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog
    leaked = [r for r in caplog.records if CANARY in r.getMessage() or CANARY in str(r.exc_text or "")]
    assert not leaked, f"the token is in {len(leaked)} log record(s)"


def _sandbox(**options: Any) -> Sandbox:
    return Sandbox(rate_limits=False, webhook_retry_delay=0.05, **options)


def _point(sb: Sandbox, inst: SandboxInstance, url: str, token: str = CANARY) -> None:
    sb.set_settings(inst, {"webhookUrl": url, "webhookUrlToken": token})


def _drained(sb: Sandbox, inst: SandboxInstance) -> bool:
    return not sb.notifications(inst)


def test_every_documented_shape_arrives_as_its_event(logs: pytest.LogCaptureFixture) -> None:
    handler = Handler()
    receiver = WebhookReceiver(handler, token=CANARY)
    with _sandbox() as sb, AsgiServer(receiver) as server:
        inst = sb.create_instance(settings=SETTINGS)
        sb.inject_incoming_text(inst, CHAT, "hi", sender_name="Ann")
        sb.inject_extended_text(inst, CHAT, "see https://example.org")
        first = sb.inject_incoming_text(inst, CHAT, "original")
        sb.inject_incoming_text(inst, CHAT, "a reply", quoted_message_id=first.id_message)
        sb.inject_incoming_text(
            inst, CHAT, "old reply", quoted_message_id=first.id_message, legacy_quote=True
        )
        sb.inject_incoming_image(inst, GROUP, caption="receipt", sender=CHAT)
        sb.inject_incoming_document(inst, CHAT, file_name="invoice.pdf")
        sb.inject_location(inst, CHAT, 55.75, 37.61, name="Office", address="Main st 1")
        sb.inject_contact(inst, CHAT, "Bob", "79005550000")
        sb.inject_reaction(inst, CHAT, "👍", first.id_message or "")
        variants = BUTTON_REPLY_VARIANTS
        for variant in variants:
            sb.inject_button_tap(
                inst, CHAT, button_id="yes", button_text="Confirm", stanza_id="BAE5", variant=variant
            )
        sb.inject_incoming_call(inst, CHAT)
        sb.set_state(inst, "notAuthorized")
        instance_data = {"idInstance": int(inst.id_instance), "wid": inst.wid, "typeInstance": "whatsapp"}
        status = {"typeWebhook": "outgoingMessageStatus", "chatId": "79001234567@s.whatsapp.net",
                  "instanceData": instance_data, "timestamp": 1718000200, "idMessage": "BAE5F4886F6F2D05",
                  "status": "failed", "description": "SWE004", "sendByApi": True}  # fmt: skip
        sb.inject_notification(inst, status)
        quota = {"typeWebhook": "quotaExceeded", "instanceData": instance_data, "timestamp": 1718000300,
                 "quotaData": {"method": "correspondents", "used": 3, "total": 3}}  # fmt: skip
        sb.inject_notification(inst, quota)
        _point(sb, inst, server.url)
        wait_until(lambda: _drained(sb, inst), "the queue to drain by push")
        wait_until(lambda: len(handler.events) == 18, "18 events")
    by_type = [(e.eventType, e.messageType) for e in handler.events]
    assert by_type[0] == ("incomingMessageReceived", "textMessage")
    ev = handler.events
    assert (ev[0].text, ev[0].senderName, ev[0].chatType, ev[0].idInstance) == (
        "hi",
        "Ann",
        "personal",
        int(inst.id_instance),
    )
    assert ev[1].text == "see https://example.org"
    assert (ev[3].text, ev[3].quotedMessageId) == ("a reply", first.id_message)
    assert (ev[4].messageType, ev[4].text, ev[4].quotedMessageId) == (
        "quotedMessage",
        "old reply",
        first.id_message,
    )
    assert (ev[5].chatType, ev[5].sender, ev[5].text) == ("group", CHAT, "receipt")
    assert ev[5].file is not None and ev[5].file.mimeType == "image/jpeg" and ev[5].file.url
    assert ev[6].file is not None and ev[6].file.fileName == "invoice.pdf"
    assert ev[7].location is not None and (ev[7].location.latitude, ev[7].location.name) == (55.75, "Office")
    assert ev[8].contact is not None and ev[8].contact.displayName == "Bob"
    assert (ev[9].text, ev[9].quotedMessageId) == ("👍", first.id_message)
    for tap, variant in zip(ev[10:14], variants, strict=True):
        assert (tap.messageType, tap.buttonId, tap.buttonText, tap.text, tap.quotedMessageId) == (
            variant,
            "yes",
            "Confirm",
            "Confirm",
            "BAE5",
        )
    assert (ev[14].eventType, ev[14].status, ev[14].chatId) == ("incomingCall", "offer", CHAT)
    assert (ev[15].eventType, ev[15].stateInstance) == ("stateInstanceChanged", "notAuthorized")
    assert (ev[16].eventType, ev[16].status, ev[16].chatId) == ("outgoingMessageStatus", "failed", CHAT)
    assert (ev[17].eventType, ev[17].raw["quotaData"]["total"]) == ("quotaExceeded", 3)
    assert all(e.raw["instanceData"]["idInstance"] == int(inst.id_instance) for e in ev)


def test_receiver_down_for_three_rounds_then_back_loses_nothing(logs: pytest.LogCaptureFixture) -> None:
    handler = Handler()
    port = free_port()
    with _sandbox() as sb:
        inst = sb.create_instance(settings=SETTINGS)
        for i in range(10):
            sb.inject_incoming_text(inst, CHAT, f"m{i}")
        _point(sb, inst, f"http://127.0.0.1:{port}/")
        wait_until(
            lambda: sum(a.error == "connection error" for a in sb.push_attempts(inst)) >= 3,
            "three failed rounds",
        )
        with AsgiServer(WebhookReceiver(handler, token=CANARY), port=port):
            wait_until(lambda: _drained(sb, inst), "the queue to drain")
            wait_until(lambda: len(handler.events) == 10, "ten events")
        assert handler.texts() == [f"m{i}" for i in range(10)]
        assert handler.calls == 10


def test_a_failing_handler_gets_the_item_again_and_handles_it_once(logs: pytest.LogCaptureFixture) -> None:
    handler = Handler()
    with _sandbox() as sb, AsgiServer(WebhookReceiver(handler, token=CANARY)) as server:
        inst = sb.create_instance(settings=SETTINGS)
        bad = sb.inject_incoming_text(inst, CHAT, "first")
        sb.inject_incoming_text(inst, CHAT, "second")
        handler.failures[bad.id_message or ""] = 2
        _point(sb, inst, server.url)
        wait_until(lambda: _drained(sb, inst), "the queue to drain")
        statuses = [a.status for a in sb.push_attempts(inst)]
    assert statuses == [500, 500, 200, 200]
    assert handler.texts() == ["first", "second"]


def test_duplicate_pushes_reach_the_handler_once(logs: pytest.LogCaptureFixture) -> None:
    handler = Handler()
    with _sandbox() as sb, AsgiServer(WebhookReceiver(handler, token=CANARY)) as server:
        inst = sb.create_instance(settings=SETTINGS)
        sb.inject_fault("push_duplicate", instance=inst, times=3)
        for i in range(3):
            sb.inject_incoming_text(inst, CHAT, f"m{i}")
        _point(sb, inst, server.url)
        wait_until(lambda: len(sb.push_attempts(inst)) == 6, "three items pushed twice")
        assert [a.status for a in sb.push_attempts(inst)] == [200] * 6
    assert handler.texts() == ["m0", "m1", "m2"]


@pytest.mark.parametrize("token", ["wrong-token", ""])
def test_a_wrong_or_missing_token_is_401_and_nothing_is_handled(
    token: str, logs: pytest.LogCaptureFixture
) -> None:
    handler = Handler()
    with _sandbox() as sb, AsgiServer(WebhookReceiver(handler, token=CANARY)) as server:
        inst = sb.create_instance(settings=SETTINGS)
        sb.inject_incoming_text(inst, CHAT, "hi")
        _point(sb, inst, server.url, token=token)
        wait_until(lambda: len(sb.push_attempts(inst)) >= 3, "three refused pushes")
        assert {a.status for a in sb.push_attempts(inst)} == {401}
        assert len(sb.notifications(inst)) == 1  # still queued: nothing lost
    assert handler.calls == 0


def test_a_handler_slower_than_the_sandbox_timeout_is_not_run_twice(logs: pytest.LogCaptureFixture) -> None:
    handler = Handler()
    handler.delays = [1.0]
    with _sandbox(webhook_timeout=0.2) as sb, AsgiServer(WebhookReceiver(handler, token=CANARY)) as server:
        inst = sb.create_instance(settings=SETTINGS)
        sb.inject_incoming_text(inst, CHAT, "slow")
        sb.inject_incoming_text(inst, CHAT, "next")
        _point(sb, inst, server.url)
        wait_until(lambda: _drained(sb, inst), "the queue to drain")
        attempts = sb.push_attempts(inst)
    assert attempts[0].error == "timeout"
    assert handler.texts() == ["slow", "next"]
    assert handler.calls == 2  # the retries of "slow" waited for the first handling


def test_a_handler_that_outlives_the_timeout_and_then_raises_gets_the_item_again(
    logs: pytest.LogCaptureFixture,
) -> None:
    handler = Handler()
    handler.delays = [1.0]
    with _sandbox(webhook_timeout=0.2) as sb, AsgiServer(WebhookReceiver(handler, token=CANARY)) as server:
        inst = sb.create_instance(settings=SETTINGS)
        item = sb.inject_incoming_text(inst, CHAT, "late failure")
        handler.failures[item.id_message or ""] = 1
        _point(sb, inst, server.url)
        wait_until(lambda: _drained(sb, inst), "the queue to drain")
        attempts = sb.push_attempts(inst)
    assert attempts[0].error == "timeout" and attempts[-1].status == 200
    assert handler.texts() == ["late failure"]
    assert handler.calls == 2  # once failed (late), once handled


def test_a_poison_item_goes_to_the_dead_letters_and_the_queue_moves_on(
    logs: pytest.LogCaptureFixture,
) -> None:
    handler = Handler()
    dead = DeadLetters()
    receiver = WebhookReceiver(handler, token=CANARY, max_failures=3, dead_letter=dead)
    with _sandbox() as sb, AsgiServer(receiver) as server:
        inst = sb.create_instance(settings=SETTINGS)
        poison = sb.inject_incoming_text(inst, CHAT, "poison")
        sb.inject_incoming_text(inst, CHAT, "after")
        handler.failures[poison.id_message or ""] = -1
        _point(sb, inst, server.url)
        wait_until(lambda: _drained(sb, inst), "the queue to drain")
    assert handler.texts() == ["after"]
    assert [letter.event.idMessage for letter in dead.items] == [poison.id_message]
