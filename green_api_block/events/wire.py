"""Typed views of the notification bodies Green API sends (REFERENCE.md §6), one per ``typeWebhook``.

Every field is optional and *lenient*: a value of the wrong type reads as missing instead of
failing the whole body, because a receiver that raises on one odd field would answer 500 and
Green API would push the same body again for 24 hours. Unknown ``typeWebhook`` values parse as
:class:`OtherBody`; unknown keys are kept (``extra="allow"``) so nothing a later block might want
is dropped.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

__all__ = [
    "MESSAGE_WEBHOOKS",
    "CallBody",
    "InstanceData",
    "Lenient",
    "MessageBody",
    "MessageData",
    "NotificationBody",
    "OtherBody",
    "QuotaBody",
    "SenderData",
    "StateBody",
    "StatusBody",
    "body_tag",
]

T = TypeVar("T")


def _or_none(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError:
        return None


#: A field that reads as None when Green API sends something of another type.
Lenient = Annotated[T | None, WrapValidator(_or_none)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class InstanceData(_Wire):
    idInstance: Lenient[int] = None
    wid: Lenient[str] = None
    typeInstance: Lenient[str] = None


class SenderData(_Wire):
    chatId: Lenient[str] = None
    chatName: Lenient[str] = None
    sender: Lenient[str] = None
    senderName: Lenient[str] = None
    senderContactName: Lenient[str] = None


class MessageData(_Wire):
    """``messageData``: ``typeMessage`` plus one payload object whose key depends on it (§6.3).

    The payloads stay plain dicts (read through :func:`payload`): their keys vary by message type
    and by which copy of the docs one believes, and the flat event reads them defensively.
    """

    typeMessage: Lenient[str] = None
    quotedMessage: Lenient[dict[str, Any]] = None

    def payload(self, *keys: str) -> dict[str, Any]:
        """The first of ``keys`` present as an object (``{}`` when none is)."""
        extra = self.model_extra or {}
        for key in keys:
            value = extra.get(key)
            if isinstance(value, dict):
                return value
        return {}


class _Envelope(_Wire):
    instanceData: Lenient[InstanceData] = None
    timestamp: Lenient[int] = None
    idMessage: Lenient[str] = None


class MessageBody(_Envelope):
    """incomingMessageReceived, outgoingMessageReceived, outgoingAPIMessageReceived (§6.2)."""

    typeWebhook: Literal["incomingMessageReceived", "outgoingMessageReceived", "outgoingAPIMessageReceived"]
    senderData: Lenient[SenderData] = None
    messageData: Lenient[MessageData] = None


class StatusBody(_Envelope):
    """outgoingMessageStatus: sent / delivered / read / failed / noAccount / ... of one message."""

    typeWebhook: Literal["outgoingMessageStatus"]
    chatId: Lenient[str] = None
    status: Lenient[str] = None
    description: Lenient[str] = None
    sendByApi: Lenient[bool] = None


class StateBody(_Envelope):
    typeWebhook: Literal["stateInstanceChanged"]
    stateInstance: Lenient[str] = None


class CallBody(_Envelope):
    """incomingCall: one body per call status (offer, pickUp, hangUp, missed, declined)."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    typeWebhook: Literal["incomingCall"]
    caller: Lenient[str] = Field(default=None, alias="from")  # ``from`` is a Python keyword
    status: Lenient[str] = None


class QuotaBody(_Envelope):
    typeWebhook: Literal["quotaExceeded"]
    quotaData: Lenient[dict[str, Any]] = None


class OtherBody(_Envelope):
    """Any other ``typeWebhook`` (deviceInfo, incomingBlock, statusInstanceChanged, new ones)."""

    typeWebhook: Lenient[str] = None
    chatId: Lenient[str] = None
    status: Lenient[str] = None


MESSAGE_WEBHOOKS = frozenset(
    {"incomingMessageReceived", "outgoingMessageReceived", "outgoingAPIMessageReceived"}
)
_TAGS = {
    **{name: "message" for name in MESSAGE_WEBHOOKS},
    "outgoingMessageStatus": "status",
    "stateInstanceChanged": "state",
    "incomingCall": "call",
    "quotaExceeded": "quota",
}


def body_tag(value: Any) -> str:
    """Which model a body parses as, from its ``typeWebhook`` (``other`` for anything unknown)."""
    type_webhook = (
        value.get("typeWebhook") if isinstance(value, dict) else getattr(value, "typeWebhook", None)
    )
    return _TAGS.get(type_webhook, "other") if isinstance(type_webhook, str) else "other"


NotificationBody = Annotated[
    Annotated[MessageBody, Tag("message")]
    | Annotated[StatusBody, Tag("status")]
    | Annotated[StateBody, Tag("state")]
    | Annotated[CallBody, Tag("call")]
    | Annotated[QuotaBody, Tag("quota")]
    | Annotated[OtherBody, Tag("other")],
    Discriminator(body_tag),
]
