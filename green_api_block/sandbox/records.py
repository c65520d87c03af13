"""The sandbox's records: what it hands to callers (instances, sent messages, queued items, results).

Plain value types with no behaviour beyond their own shape, shared by the backend, the HTTP layers
and the public ``Sandbox`` so that none of them has to import another for its types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

__all__ = [
    "INSTANCE_STATES",
    "BillingPlan",
    "InjectResult",
    "InstanceState",
    "MethodKind",
    "PushAttempt",
    "PushTarget",
    "QueuedNotification",
    "SandboxInstance",
    "SentMessage",
    "journal_payload",
]

InstanceState = Literal["notAuthorized", "authorized", "blocked", "sleepMode", "starting", "yellowCard"]
INSTANCE_STATES: Final[tuple[str, ...]] = get_args(InstanceState)
#: What a method does, for the per-state policy in :meth:`SandboxBackend.check_state`.
MethodKind = Literal["send", "receive", "state", "account", "journal"]
#: Green API's billing plans: Developer is free with a 3-chats-a-month quota (REFERENCE.md §9.2).
BillingPlan = Literal["developer", "business"]


@dataclass(frozen=True, slots=True)
class SandboxInstance:
    """Credentials of a sandbox instance: what a client needs to connect."""

    id_instance: str
    api_token: str = field(repr=False)  # generated, but kept out of reprs and test reports anyway
    api_url: str
    media_url: str
    wid: str

    def credentials(self) -> dict[str, str]:
        """``{"idInstance": ..., "apiTokenInstance": ...}``, the block's credential inputs."""
        return {"idInstance": self.id_instance, "apiTokenInstance": self.api_token}


@dataclass(slots=True)
class SentMessage:
    """One message accepted by a send method, with its journal status."""

    id_message: str
    chat_id: str
    method: str
    type_message: str
    payload: dict[str, Any]
    message_data: dict[str, Any]
    timestamp: int
    status: str

    @property
    def text(self) -> str | None:
        """The text a person reads: ``message``, the button ``body`` or the file ``caption``."""
        for key in ("message", "body", "caption"):
            value = self.payload.get(key)
            if isinstance(value, str):
                return value
        return None

    @property
    def buttons(self) -> list[dict[str, Any]]:
        value = self.payload.get("buttons")
        return [dict(b) for b in value] if isinstance(value, list) else []

    def journal_entry(self) -> dict[str, Any]:
        """The message as ``lastOutgoingMessages`` lists it."""
        entry: dict[str, Any] = {
            "type": "outgoing",
            "idMessage": self.id_message,
            "timestamp": self.timestamp,
            "typeMessage": self.type_message,
            "chatId": self.chat_id,
        }
        entry.update(journal_payload(self.message_data))
        entry["statusMessage"] = self.status
        entry["sendByApi"] = True
        return entry


def journal_payload(message_data: Mapping[str, Any]) -> dict[str, Any]:
    kind = message_data.get("typeMessage")
    if kind == "textMessage":
        return {"textMessage": message_data["textMessageData"]["textMessage"]}
    if kind == "extendedTextMessage":
        data = dict(message_data["extendedTextMessageData"])
        return {"textMessage": data.get("text", ""), "extendedTextMessage": data}
    if "fileMessageData" in message_data:
        return dict(message_data["fileMessageData"])
    return {k: v for k, v in message_data.items() if k not in ("typeMessage", "quotedMessage")}


@dataclass(frozen=True, slots=True)
class QueuedNotification:
    """An item of an instance's notification queue: what one receiveNotification hands out."""

    receipt_id: int
    body: dict[str, Any]
    enqueued_at: float  # monotonic seconds, for the 24 h expiry

    def wire(self) -> dict[str, Any]:
        """What ``receiveNotification`` answers for this item."""
        return {"receiptId": self.receipt_id, "body": self.body}


@dataclass(frozen=True, slots=True)
class InjectResult:
    """What an injection did: ``receipt_id`` is None when the instance's settings filtered it out."""

    id_message: str | None
    receipt_id: int | None
    body: dict[str, Any]
    delivered: bool = True  # False when the Developer-plan quota refused the chat

    @property
    def queued(self) -> bool:
        return self.receipt_id is not None


@dataclass(frozen=True, slots=True)
class PushTarget:
    """Where an instance's notifications are pushed: its ``webhookUrl`` and ``webhookUrlToken``."""

    url: str
    token: str = field(repr=False)  # the receiver's secret: never in a repr, a log or the journal


@dataclass(frozen=True, slots=True)
class PushAttempt:
    """One webhook POST the sandbox made (or refused to make), for ``Emulator.push_attempts``.

    ``status`` is the receiver's HTTP status, None when there was no answer; ``error`` then says
    why (``"timeout"``, ``"connection error"``, ``"refused: not loopback"``, ``"invalid url"``).
    Only a 200 counts as delivered. ``at`` is ``time.monotonic()`` when the attempt ended.
    """

    receipt_id: int
    url: str
    status: int | None
    error: str | None
    at: float

    @property
    def delivered(self) -> bool:
        return self.status == 200

    def wire(self) -> dict[str, Any]:
        """The attempt as the control API lists it."""
        return {
            "receiptId": self.receipt_id,
            "url": self.url,
            "status": self.status,
            "error": self.error,
            "at": self.at,
        }
