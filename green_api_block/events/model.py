"""``Event``: one flat view of any Green API notification, with fields a later block can wire to.

A workflow that wants "what the customer wrote" reads ``event.text`` whether it came as a text,
an extended text, a caption, a quoted reply or a button tap, instead of digging through
``body.messageData.<payload key>`` (which differs for every message type, REFERENCE.md §6.3).
:meth:`Event.from_body` never raises on an object Green API could send: unknown ``typeWebhook``
and ``typeMessage`` values and missing or oddly typed fields give an event whose fields are None,
with the body itself always in ``raw``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from .wire import (
    CallBody,
    MessageBody,
    MessageData,
    NotificationBody,
    OtherBody,
    QuotaBody,
    StateBody,
    StatusBody,
)

__all__ = [
    "ChatType",
    "Event",
    "EventContact",
    "EventFile",
    "EventLocation",
    "chat_type",
    "normalise_chat_id",
]

ChatType = Literal["personal", "group"]

_BODY: TypeAdapter[NotificationBody] = TypeAdapter(NotificationBody)
log = logging.getLogger("green_api_block.events")


class _Flat(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EventFile(_Flat):
    url: str | None = Field(None, description="Where to download the file (Green API's downloadUrl).")
    fileName: str | None = None
    mimeType: str | None = None
    caption: str | None = None


class EventLocation(_Flat):
    latitude: float | None = None
    longitude: float | None = None
    name: str | None = Field(None, description="The place's name (nameLocation).")
    address: str | None = None


class EventContact(_Flat):
    displayName: str | None = None
    vcard: str | None = None


class Event(_Flat):
    """One notification, flattened. Field names are camelCase like the API's."""

    eventType: str = Field(
        description="The notification's typeWebhook as received, e.g. incomingMessageReceived."
    )
    idInstance: int | None = Field(None, description="The instance the notification came from.")
    chatId: str | None = Field(None, description="The chat it happened in (…@c.us, …@g.us or …@lid).")
    chatType: ChatType | None = Field(None, description="personal or group, from the chatId.")
    sender: str | None = Field(None, description="Who wrote it (in a group: the member, not the group).")
    senderName: str | None = Field(None, description="The sender's WhatsApp name, else your contact name.")
    idMessage: str | None = Field(None, description="The message id (unique per chat only).")
    timestamp: int | None = Field(None, description="Unix seconds.")
    messageType: str | None = Field(None, description="The typeMessage, e.g. textMessage, imageMessage.")
    text: str | None = Field(
        None,
        description="What the customer wrote: text, extended text, caption, quoted reply, reaction emoji "
        "or the tapped button's text.",
    )
    buttonId: str | None = Field(None, description="The buttonId of a tapped reply button.")
    buttonText: str | None = Field(None, description="The text of a tapped reply button.")
    file: EventFile | None = Field(None, description="An image, video, audio, document or sticker.")
    location: EventLocation | None = Field(None, description="A shared location.")
    contact: EventContact | None = Field(None, description="A shared contact card (vCard).")
    quotedMessageId: str | None = Field(
        None,
        description="The message this one answers: the quoted message, the reacted-to message or the "
        "message whose button was tapped.",
    )
    status: str | None = Field(
        None,
        description="An outgoing message's status (sent, delivered, read, failed, ...), a call's, "
        "or the exceeded quota's.",
    )
    stateInstance: str | None = Field(None, description="The instance's new authorization state.")
    raw: dict[str, Any] = Field(description="The notification body exactly as received.")

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Event:
        """The event for one notification body (the JSON object Green API pushes or queues)."""
        if not isinstance(body, Mapping):
            raise TypeError(f"a notification body is a JSON object, not {type(body).__name__}")
        raw = dict(body)
        type_webhook = raw.get("typeWebhook")
        kind = type_webhook if isinstance(type_webhook, str) else ""
        try:
            fields = _fields(raw)
        except Exception as exc:
            # Never seen on a JSON object (the model is property-tested against arbitrary ones);
            # kept so that a body a future Green API sends cannot wedge a head-of-line queue: it
            # still becomes an event (type and raw body), and whoever receives it decides.
            log.warning(
                "a %s notification the event model could not read (%s)", kind or "?", type(exc).__name__
            )
            return cls.model_validate({"eventType": kind, "raw": raw})
        return cls.model_validate({"eventType": kind, "raw": raw, **fields})


def _fields(raw: dict[str, Any]) -> dict[str, Any]:
    parsed = _BODY.validate_python(raw)
    fields: dict[str, Any] = {
        "idInstance": parsed.instanceData.idInstance if parsed.instanceData else None,
        "idMessage": parsed.idMessage,
        "timestamp": parsed.timestamp,
    }
    if isinstance(parsed, MessageBody):
        fields.update(_message_fields(parsed))
    elif isinstance(parsed, StatusBody | OtherBody):
        fields.update(chatId=parsed.chatId, status=parsed.status)
    elif isinstance(parsed, CallBody):
        fields.update(chatId=parsed.caller, sender=parsed.caller, status=parsed.status)
    elif isinstance(parsed, StateBody):
        fields.update(stateInstance=parsed.stateInstance)
    elif isinstance(parsed, QuotaBody) and parsed.quotaData is not None:
        fields.update(status=_str(parsed.quotaData.get("status")))
    chat = normalise_chat_id(fields.get("chatId"))
    fields.update(chatId=chat, chatType=chat_type(chat))
    return fields


def normalise_chat_id(chat_id: str | None) -> str | None:
    """``…@s.whatsapp.net`` (seen on some failed statuses, REFERENCE.md §6.4) as ``…@c.us``."""
    if chat_id and chat_id.endswith("@s.whatsapp.net"):
        return chat_id.removesuffix("@s.whatsapp.net") + "@c.us"
    return chat_id or None


def chat_type(chat_id: str | None) -> ChatType | None:
    """group for ``@g.us``; personal for ``@c.us`` and ``@lid`` (one person, two address forms)."""
    if not chat_id:
        return None
    if chat_id.endswith("@g.us"):
        return "group"
    if chat_id.endswith(("@c.us", "@lid")):
        return "personal"
    return None  # newsletters, broadcasts and forms not documented yet


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _message_fields(body: MessageBody) -> dict[str, Any]:
    sender = body.senderData
    data = body.messageData or MessageData()
    fields: dict[str, Any] = {"messageType": data.typeMessage}
    if sender is not None:
        fields.update(
            chatId=sender.chatId,
            sender=sender.sender,
            senderName=sender.senderName or sender.senderContactName or sender.chatName or None,
        )
    reader = _READERS.get(data.typeMessage or "", _read_unknown)
    fields.update(reader(data))
    if fields.get("quotedMessageId") is None and data.quotedMessage is not None:
        fields["quotedMessageId"] = _str(data.quotedMessage.get("stanzaId"))
    return fields


# ------------------------------------------------------------------ one reader per payload shape


def _read_text(data: MessageData) -> dict[str, Any]:
    return {"text": _str(data.payload("textMessageData").get("textMessage"))}


def _read_extended(data: MessageData) -> dict[str, Any]:
    payload = data.payload("extendedTextMessageData")
    # The deprecated typeMessage "quotedMessage" keeps the quoted id here (REFERENCE.md §6.2).
    return {"text": _str(payload.get("text")), "quotedMessageId": _str(payload.get("stanzaId"))}


def _read_file(data: MessageData) -> dict[str, Any]:
    payload = data.payload("fileMessageData")
    caption = _str(payload.get("caption"))
    file = EventFile(
        url=_str(payload.get("downloadUrl")),
        fileName=_str(payload.get("fileName")),
        mimeType=_str(payload.get("mimeType")),
        caption=caption,
    )
    return {"file": file, "text": caption}


def _read_location(data: MessageData) -> dict[str, Any]:
    payload = data.payload("locationMessageData")
    location = EventLocation(
        latitude=_number(payload.get("latitude")),
        longitude=_number(payload.get("longitude")),
        name=_str(payload.get("nameLocation")),
        address=_str(payload.get("address")),
    )
    return {"location": location}


def _contact(payload: Mapping[str, Any]) -> EventContact:
    return EventContact(displayName=_str(payload.get("displayName")), vcard=_str(payload.get("vcard")))


def _read_contact(data: MessageData) -> dict[str, Any]:
    return {"contact": _contact(data.payload("contactMessageData"))}


def _read_contacts(data: MessageData) -> dict[str, Any]:
    # The array's home varies between SDKs (REFERENCE.md §6.3: unverified): the first contact found.
    extra = data.model_extra or {}
    candidates = extra.get("contacts", data.payload("contactsArrayMessageData").get("contacts"))
    if isinstance(candidates, list):
        for item in candidates:
            if isinstance(item, dict):
                return {"contact": _contact(item)}
    return {}


def _read_button_tap(data: MessageData) -> dict[str, Any]:
    # Three spellings of one tap (REFERENCE.md §4.3); the template variant's typeMessage is plural
    # in the docs table and singular in its examples, while the data key is singular in both.
    payload = data.payload(
        "interactiveButtonsResponse",
        "templateButtonReplyMessage",
        "templateButtonsReplyMessage",
        "buttonsResponseMessage",
    )
    button_id = _str(payload.get("selectedId")) or _str(payload.get("selectedButtonId"))
    button_text = _str(payload.get("selectedDisplayText")) or _str(payload.get("selectedButtonText"))
    return {
        "buttonId": button_id,
        "buttonText": button_text,
        "text": button_text,
        "quotedMessageId": _str(payload.get("stanzaId")),
    }


def _read_buttons(data: MessageData) -> dict[str, Any]:
    # Incoming pages name the parts titleText/contentText/footerText, outgoing ones header/body/footer.
    payload = data.payload(data.typeMessage or "")
    return {"text": _str(payload.get("contentText")) or _str(payload.get("body"))}


def _read_reaction(data: MessageData) -> dict[str, Any]:
    return {"text": _str(data.payload("extendedTextMessageData").get("text"))}


def _read_poll(data: MessageData) -> dict[str, Any]:
    payload = data.payload("pollMessageData")
    return {"text": _str(payload.get("name")), "quotedMessageId": _str(payload.get("stanzaId"))}


def _read_edited(data: MessageData) -> dict[str, Any]:
    # The edited/deleted payloads are documented only by name (REFERENCE.md §6.3): unverified, so
    # read the likely keys and leave the rest to ``raw``.
    payload = data.payload("editedMessageData", "deletedMessageData")
    text = _str(payload.get("textMessage")) or _str(payload.get("text")) or _str(payload.get("caption"))
    return {"text": text, "quotedMessageId": _str(payload.get("stanzaId"))}


def _read_group_invite(data: MessageData) -> dict[str, Any]:
    return {"text": _str(data.payload("groupInviteMessageData").get("caption"))}


def _read_unknown(data: MessageData) -> dict[str, Any]:
    # A typeMessage we do not know yet: take a text from the common payloads if there is one.
    for key, field in (("textMessageData", "textMessage"), ("extendedTextMessageData", "text")):
        text = _str(data.payload(key).get(field))
        if text is not None:
            return {"text": text}
    caption = _str(data.payload("fileMessageData").get("caption"))
    return {"text": caption} if caption is not None else {}


_FILE_TYPES = ("imageMessage", "videoMessage", "audioMessage", "documentMessage", "stickerMessage")
_TAP_TYPES = (
    "interactiveButtonsResponse",
    "templateButtonsReplyMessage",
    "templateButtonReplyMessage",
    "buttonsResponseMessage",
)
_READERS: dict[str, Callable[[MessageData], dict[str, Any]]] = {
    "textMessage": _read_text,
    "extendedTextMessage": _read_extended,
    "quotedMessage": _read_extended,
    **{name: _read_file for name in _FILE_TYPES},
    "locationMessage": _read_location,
    "contactMessage": _read_contact,
    "contactsArrayMessage": _read_contacts,
    **{name: _read_button_tap for name in _TAP_TYPES},
    "interactiveButtons": _read_buttons,
    "interactiveButtonsReply": _read_buttons,
    "reactionMessage": _read_reaction,
    "pollMessage": _read_poll,
    "pollUpdateMessage": _read_poll,
    "editedMessage": _read_edited,
    "deletedMessage": _read_edited,
    "groupInviteMessage": _read_group_invite,
}
