"""Notification bodies for the receiver's tests (values invented)."""

from __future__ import annotations

from typing import Any

from tests.support.credentials import ID

CUSTOMER = "79001234567@c.us"
GROUP = "120363000000000001@g.us"


def message(
    id_message: str = "A1",
    *,
    text: str = "hello",
    chat: str = CUSTOMER,
    kind: str = "incomingMessageReceived",
    id_instance: int = int(ID),
) -> dict[str, Any]:
    return {
        "typeWebhook": kind,
        "instanceData": {"idInstance": id_instance, "wid": "79000000000@c.us", "typeInstance": "whatsapp"},
        "timestamp": 1700000000,
        "idMessage": id_message,
        "senderData": {"chatId": chat, "sender": CUSTOMER, "senderName": "Ann"},
        "messageData": {"typeMessage": "textMessage", "textMessageData": {"textMessage": text}},
    }


def state(value: str = "authorized", *, id_instance: int = int(ID)) -> dict[str, Any]:
    return {
        "typeWebhook": "stateInstanceChanged",
        "instanceData": {"idInstance": id_instance, "wid": "79000000000@c.us", "typeInstance": "whatsapp"},
        "timestamp": 1700000000,
        "stateInstance": value,
    }
