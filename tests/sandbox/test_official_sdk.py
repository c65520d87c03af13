"""Fidelity: the official Green API Python SDK, a client we did not write, against the sandbox.

``whatsapp-api-client-python`` is only called here, never copied (its licence forbids
derivatives). Every call must succeed through the SDK's own HTTP handling and parsing:
``response.code == 200`` and ``response.data`` as the SDK decoded it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from green_api_block.sandbox import Sandbox, SandboxInstance

API = pytest.importorskip("whatsapp_api_client_python.API")

CHAT = "79001234567@c.us"

pytestmark = [
    # Faithful rate limits stay on; only the empty-poll hold is capped to keep the test quick.
    pytest.mark.green_api_sandbox(max_receive_wait=0.2),
    pytest.mark.green_api_instance(
        settings={"incomingWebhook": "yes", "outgoingWebhook": "yes", "outgoingAPIMessageWebhook": "yes"}
    ),
]


@pytest.fixture
def greenapi(sandbox: Sandbox, instance: SandboxInstance) -> Iterator[Any]:
    client = API.GreenAPI(
        instance.id_instance,
        instance.api_token,
        host=sandbox.url,
        media=sandbox.url,
        raise_errors=True,  # any non-200 fails the test loudly instead of being logged
    )
    yield client
    client.session.close()
    # The SDK adds a stream handler on every construction; do not let them pile up in this process.
    sdk_logger = logging.getLogger("whatsapp-api-client-python")
    for handler in list(sdk_logger.handlers):
        sdk_logger.removeHandler(handler)


def ok(response: Any) -> Any:
    assert response.code == 200, response.error
    return response.data


def test_send_message(greenapi: Any, sandbox: Sandbox, instance: SandboxInstance) -> None:
    data = ok(greenapi.sending.sendMessage(CHAT, "Hello from the official SDK"))
    (sent,) = sandbox.sent_messages(instance)
    assert data == {"idMessage": sent.id_message}
    assert sent.text == "Hello from the official SDK"


def test_send_file_by_url(greenapi: Any, sandbox: Sandbox, instance: SandboxInstance) -> None:
    data = ok(
        greenapi.sending.sendFileByUrl(
            CHAT, "https://example.org/files/invoice-42.pdf", "invoice-42.pdf", "Invoice"
        )
    )
    (sent,) = sandbox.sent_messages(instance)
    assert data["idMessage"] == sent.id_message and sent.type_message == "documentMessage"


def test_interactive_buttons(greenapi: Any, sandbox: Sandbox, instance: SandboxInstance) -> None:
    reply = ok(
        greenapi.sending.sendInteractiveButtonsReply(
            CHAT,
            "Confirm the booking?",
            [{"buttonId": "yes", "buttonText": "Confirm"}, {"buttonId": "no", "buttonText": "Cancel"}],
            footer="Reply 1 or 2 if buttons do not show",
        )
    )
    action = ok(
        greenapi.sending.sendInteractiveButtons(
            CHAT,
            "How can we reach you?",
            [
                {"type": "copy", "buttonId": "1", "buttonText": "Copy promo", "copyCode": "SPRING25"},
                {"type": "call", "buttonId": "2", "buttonText": "Call us", "phoneNumber": "79001234567"},
                {"type": "url", "buttonId": "3", "buttonText": "Open site", "url": "https://example.org"},
            ],
            header="Support",
        )
    )
    assert [m.id_message for m in sandbox.sent_messages(instance)] == [
        reply["idMessage"],
        action["idMessage"],
    ]


def test_receive_and_delete_notifications(greenapi: Any, sandbox: Sandbox, instance: SandboxInstance) -> None:
    sandbox.inject_incoming_text(instance, CHAT, "hi from the customer", sender_name="Ann")
    item = ok(greenapi.receiving.receiveNotification(5))
    body = item["body"]
    assert body["typeWebhook"] == "incomingMessageReceived"
    assert body["messageData"]["textMessageData"]["textMessage"] == "hi from the customer"
    assert ok(greenapi.receiving.receiveNotification(5)) == item  # same head until deleted
    assert ok(greenapi.receiving.deleteNotification(item["receiptId"])) == {"result": True}
    # Empty queue: the service answers JSON null; the SDK reads it as no data.
    assert ok(greenapi.receiving.receiveNotification(5)) is None


def test_a_sent_message_comes_back_as_notifications(
    greenapi: Any, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    mid = ok(greenapi.sending.sendMessage(CHAT, "tracked"))["idMessage"]
    kinds = []
    while (item := ok(greenapi.receiving.receiveNotification(5))) is not None:
        assert item["body"]["idMessage"] == mid
        kinds.append(item["body"]["typeWebhook"])
        ok(greenapi.receiving.deleteNotification(item["receiptId"]))
    assert kinds == ["outgoingAPIMessageReceived", "outgoingMessageStatus"]


def test_state_settings_and_journal(greenapi: Any, sandbox: Sandbox, instance: SandboxInstance) -> None:
    assert ok(greenapi.account.getStateInstance()) == {"stateInstance": "authorized"}
    settings = ok(greenapi.account.getSettings())
    assert settings["wid"] == instance.wid and settings["outgoingWebhook"] == "yes"
    assert ok(greenapi.account.setSettings({"stateWebhook": "yes"})) == {"saveSettings": True}
    mid = ok(greenapi.sending.sendMessage(CHAT, "journaled"))["idMessage"]
    journal = ok(greenapi.journals.lastOutgoingMessages(60))
    assert journal[0]["idMessage"] == mid and journal[0]["textMessage"] == "journaled"


def test_sdk_errors_surface_as_the_sdk_expects(sandbox: Sandbox, instance: SandboxInstance) -> None:
    wrong = API.GreenAPI(instance.id_instance, "0" * 50, host=sandbox.url, media=sandbox.url)
    try:
        response = wrong.account.getStateInstance()
        assert response.code == 401 and response.data is None
    finally:
        wrong.session.close()
        sdk_logger = logging.getLogger("whatsapp-api-client-python")
        for handler in list(sdk_logger.handlers):
            sdk_logger.removeHandler(handler)
