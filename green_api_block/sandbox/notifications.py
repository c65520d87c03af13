"""Builders for notification bodies in the shapes Green API documents (REFERENCE.md §6).

Pure functions: no state, no clock, no randomness. The backend supplies ids and timestamps so
that these builders can be tested against the documented examples field by field.

Two layers:

* ``*_data`` functions build ``messageData`` (``{"typeMessage": ..., <payload key>: {...}}``);
* ``message_notification`` / ``outgoing_status`` / ``state_changed`` / ... build whole bodies,
  the objects that ``receiveNotification`` wraps as ``{"receiptId": n, "body": <body>}``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal, get_args

from green_api_block.events import Event

__all__ = [
    "BUTTON_REPLY_VARIANTS",
    "ButtonReplyVariant",
    "button_reply_data",
    "contact_data",
    "extended_text_data",
    "file_data",
    "file_kind",
    "incoming_call",
    "instance_data",
    "interactive_buttons_data",
    "interactive_buttons_reply_data",
    "location_data",
    "message_notification",
    "outgoing_status",
    "quota_exceeded",
    "quoted_message",
    "reaction_data",
    "sender_data",
    "state_changed",
    "text_data",
    "vcard",
    "with_quote",
]

JSON = dict[str, Any]

#: The ways a reply-button tap arrives (REFERENCE.md §4.3 and issue #868): the typeMessage value.
#: ``templateButtonReplyMessage`` is the singular spelling the docs' own examples use.
ButtonReplyVariant = Literal[
    "interactiveButtonsResponse",
    "templateButtonsReplyMessage",
    "templateButtonReplyMessage",
    "buttonsResponseMessage",
]
BUTTON_REPLY_VARIANTS: Final[tuple[ButtonReplyVariant, ...]] = get_args(ButtonReplyVariant)

# The extension decides how WhatsApp shows a file (REFERENCE.md §3.1); anything not listed
# travels as a document. A fixed table keeps bodies identical on every OS (the stdlib
# `mimetypes` reads /etc/mime.types, which differs between machines).
_FILE_KINDS: Final[Mapping[str, tuple[str, str]]] = {
    "jpg": ("imageMessage", "image/jpeg"),
    "jpeg": ("imageMessage", "image/jpeg"),
    "png": ("imageMessage", "image/png"),
    "bmp": ("imageMessage", "image/bmp"),
    "webp": ("imageMessage", "image/webp"),
    "mp4": ("videoMessage", "video/mp4"),
    "mov": ("videoMessage", "video/quicktime"),
    "mp3": ("audioMessage", "audio/mpeg"),
    "ogg": ("audioMessage", "audio/ogg"),
    "m4a": ("audioMessage", "audio/mp4"),
    "aac": ("audioMessage", "audio/aac"),
    "opus": ("audioMessage", "audio/ogg"),
    "pdf": ("documentMessage", "application/pdf"),
    "txt": ("documentMessage", "text/plain"),
    "csv": ("documentMessage", "text/csv"),
    "zip": ("documentMessage", "application/zip"),
    "doc": ("documentMessage", "application/msword"),
    "docx": (
        "documentMessage",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xls": ("documentMessage", "application/vnd.ms-excel"),
    "xlsx": ("documentMessage", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def file_kind(file_name: str) -> tuple[str, str]:
    """``(typeMessage, mimeType)`` for a file name, decided by its extension."""
    ext = posixpath.splitext(file_name)[1].lstrip(".").lower()
    return _FILE_KINDS.get(ext, ("documentMessage", "application/octet-stream"))


def instance_data(id_instance: str, wid: str) -> JSON:
    # idInstance is a JSON number in notifications although it is a path string everywhere else.
    return {"idInstance": int(id_instance), "wid": wid, "typeInstance": "whatsapp"}


def sender_data(
    chat_id: str,
    sender: str,
    sender_name: str = "",
    *,
    chat_name: str = "",
    sender_contact_name: str = "",
) -> JSON:
    return {
        "chatId": chat_id,
        "chatName": chat_name,
        "sender": sender,
        "senderName": sender_name,
        "senderContactName": sender_contact_name,
    }


def text_data(text: str) -> JSON:
    return {"typeMessage": "textMessage", "textMessageData": {"textMessage": text}}


def extended_text_data(
    text: str,
    *,
    title: str = "",
    description: str = "",
    preview_type: str = "None",
    jpeg_thumbnail: str = "",
    is_forwarded: bool = False,
    forwarding_score: int = 0,
) -> JSON:
    return {
        "typeMessage": "extendedTextMessage",
        "extendedTextMessageData": {
            "text": text,
            "description": description,
            "title": title,
            "previewType": preview_type,
            "jpegThumbnail": jpeg_thumbnail,
            "isForwarded": is_forwarded,
            "forwardingScore": forwarding_score,
        },
    }


def file_data(
    download_url: str,
    file_name: str,
    *,
    caption: str = "",
    type_message: str | None = None,
    mime_type: str | None = None,
    jpeg_thumbnail: str = "",
    is_forwarded: bool = False,
    forwarding_score: int = 0,
) -> JSON:
    kind, mime = file_kind(file_name)
    return {
        "typeMessage": type_message or kind,
        "fileMessageData": {
            "downloadUrl": download_url,
            "caption": caption,
            "fileName": file_name,
            "jpegThumbnail": jpeg_thumbnail,
            "mimeType": mime_type or mime,
            "isForwarded": is_forwarded,
            "forwardingScore": forwarding_score,
        },
    }


def location_data(
    latitude: float,
    longitude: float,
    *,
    name: str = "",
    address: str = "",
    jpeg_thumbnail: str = "",
) -> JSON:
    return {
        "typeMessage": "locationMessage",
        "locationMessageData": {
            "latitude": latitude,
            "longitude": longitude,
            "nameLocation": name,
            "address": address,
            "jpegThumbnail": jpeg_thumbnail,
        },
    }


def vcard(display_name: str, phone: str) -> str:
    """A minimal vCard 3.0 of the kind WhatsApp attaches to a shared contact."""
    return (
        "BEGIN:VCARD\nVERSION:3.0\n"
        f"N:;{display_name};;;\nFN:{display_name}\n"
        f"TEL;type=CELL;waid={phone}:+{phone}\nEND:VCARD"
    )


def contact_data(display_name: str, vcard_text: str) -> JSON:
    return {
        "typeMessage": "contactMessage",
        "contactMessageData": {"displayName": display_name, "vcard": vcard_text},
    }


def reaction_data(emoji: str, stanza_id: str, participant: str) -> JSON:
    return {
        "typeMessage": "reactionMessage",
        "extendedTextMessageData": {"text": emoji},
        "quotedMessage": {"stanzaId": stanza_id, "participant": participant},
    }


def button_reply_data(
    variant: ButtonReplyVariant,
    *,
    stanza_id: str,
    selected_index: int,
    selected_id: str,
    selected_text: str,
) -> JSON:
    """A reply-button tap in one of the spellings WhatsApp devices produce (REFERENCE.md §4.3)."""
    if variant == "buttonsResponseMessage":
        return {
            "typeMessage": "buttonsResponseMessage",
            "buttonsResponseMessage": {
                "stanzaId": stanza_id,
                "selectedButtonId": selected_id,
                "selectedButtonText": selected_text,
            },
        }
    payload = {
        "stanzaId": stanza_id,
        "selectedIndex": selected_index,
        "selectedId": selected_id,
        "selectedDisplayText": selected_text,
    }
    if variant == "interactiveButtonsResponse":
        return {"typeMessage": variant, "interactiveButtonsResponse": payload}
    if variant in ("templateButtonsReplyMessage", "templateButtonReplyMessage"):
        # Both typeMessage spellings carry the data under the singular key.
        return {"typeMessage": variant, "templateButtonReplyMessage": payload}
    raise ValueError(f"unknown button reply variant {variant!r}; expected one of {BUTTON_REPLY_VARIANTS}")


def _buttons_payload(header: str, body: str, footer: str, buttons: Sequence[Mapping[str, Any]]) -> JSON:
    return {"header": header, "body": body, "footer": footer, "buttons": [dict(b) for b in buttons]}


def interactive_buttons_data(
    header: str, body: str, footer: str, buttons: Sequence[Mapping[str, Any]]
) -> JSON:
    """An outgoing copy/call/url button message as it shows in outgoing notifications."""
    return {
        "typeMessage": "interactiveButtons",
        "interactiveButtons": _buttons_payload(header, body, footer, buttons),
    }


def interactive_buttons_reply_data(
    header: str, body: str, footer: str, buttons: Sequence[Mapping[str, Any]]
) -> JSON:
    """An outgoing reply-button message; the buttons carry ``type: "reply"`` in notifications."""
    typed = [{"type": "reply", **dict(b)} for b in buttons]
    return {
        "typeMessage": "interactiveButtonsReply",
        "interactiveButtonsReply": _buttons_payload(header, body, footer, typed),
    }


def quoted_message(stanza_id: str, participant: str, message_data: Mapping[str, Any]) -> JSON:
    """``messageData.quotedMessage``: the quoted message's id and author plus its flattened payload."""
    quoted: JSON = {
        "stanzaId": stanza_id,
        "participant": participant,
        "typeMessage": message_data.get("typeMessage", ""),
    }
    for key, value in message_data.items():
        if key in ("typeMessage", "quotedMessage"):
            continue
        if isinstance(value, Mapping):
            quoted.update(value)
        else:
            quoted[key] = value
    return quoted


def with_quote(
    message_data: Mapping[str, Any],
    quoted: Mapping[str, Any],
    *,
    legacy: bool = False,
) -> JSON:
    """Attach a quote to ``message_data``.

    The current form keeps the message's own typeMessage and adds ``quotedMessage``; the
    deprecated-but-still-seen form (``legacy=True``) turns a text reply into
    ``typeMessage: "quotedMessage"`` with ``extendedTextMessageData.stanzaId/participant``.
    """
    out = dict(message_data)
    if legacy:
        # Read through the event model, as a receiver would: one reader of message payloads.
        text = Event.from_body({"typeWebhook": "incomingMessageReceived", "messageData": message_data}).text
        out = {
            "typeMessage": "quotedMessage",
            "extendedTextMessageData": {
                "text": text,
                "stanzaId": quoted["stanzaId"],
                "participant": quoted["participant"],
            },
        }
    out["quotedMessage"] = dict(quoted)
    return out


def message_notification(
    type_webhook: str,
    instance: Mapping[str, Any],
    *,
    timestamp: int,
    id_message: str,
    sender: Mapping[str, Any],
    message_data: Mapping[str, Any],
) -> JSON:
    """incomingMessageReceived / outgoingMessageReceived / outgoingAPIMessageReceived (§6.2)."""
    return {
        "typeWebhook": type_webhook,
        "instanceData": dict(instance),
        "timestamp": timestamp,
        "idMessage": id_message,
        "senderData": dict(sender),
        "messageData": dict(message_data),
    }


def outgoing_status(
    instance: Mapping[str, Any],
    *,
    chat_id: str,
    id_message: str,
    status: str,
    timestamp: int,
    send_by_api: bool = True,
    description: str | None = None,
) -> JSON:
    body: JSON = {
        "typeWebhook": "outgoingMessageStatus",
        "chatId": chat_id,
        "instanceData": dict(instance),
        "timestamp": timestamp,
        "idMessage": id_message,
        "status": status,
        "sendByApi": send_by_api,
    }
    if description is not None:
        body["description"] = description
    return body


def state_changed(instance: Mapping[str, Any], *, state: str, timestamp: int) -> JSON:
    return {
        "typeWebhook": "stateInstanceChanged",
        "instanceData": dict(instance),
        "timestamp": timestamp,
        "stateInstance": state,
    }


def incoming_call(
    instance: Mapping[str, Any], *, caller: str, status: str, id_message: str, timestamp: int
) -> JSON:
    return {
        "typeWebhook": "incomingCall",
        "from": caller,
        "status": status,
        "instanceData": dict(instance),
        "timestamp": timestamp,
        "idMessage": id_message,
    }


def quota_exceeded(
    instance: Mapping[str, Any], *, timestamp: int, used: int, total: int, description: str
) -> JSON:
    # The webhook spells the status QUOTA, the 466 body QUOTE (REFERENCE.md §9.2): both kept.
    return {
        "typeWebhook": "quotaExceeded",
        "instanceData": dict(instance),
        "timestamp": timestamp,
        "quotaData": {
            "method": "correspondents",
            "used": used,
            "total": total,
            "status": "CORRESPONDENTS_QUOTA_EXCEEDED",
            "description": description,
        },
    }
