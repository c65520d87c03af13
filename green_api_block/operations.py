"""Plans for Green API calls the block offers besides its five tools.

They exist for what the tools' guarantees need: deleting one notification after it was shown
(``watch``), and checking whether a send whose outcome is unknown did reach Green API before
anything is sent again (``lastOutgoingMessages``); reading and changing the instance's settings
(``webhook set``).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any, Final

from .errors import BadResponseError, InputValidationError
from .tools.base import ApiCall

__all__ = [
    "delete_notification",
    "find_sent",
    "get_settings",
    "last_outgoing_messages",
    "matches_call",
    "set_settings",
]


def delete_notification(receipt_id: int) -> Generator[ApiCall, Any, bool]:
    """True when deleted; False when it was already gone (Green API's ``result: false``)."""
    if isinstance(receipt_id, bool) or not isinstance(receipt_id, int) or receipt_id < 0:
        problem = {"path": "receiptId", "rule": "type", "message": "must be a non-negative integer"}
        raise InputValidationError(None, [problem])
    body = yield ApiCall("DELETE", "deleteNotification", path_arg=str(receipt_id))
    return bool(isinstance(body, dict) and body.get("result"))


def last_outgoing_messages(minutes: int) -> Generator[ApiCall, Any, list[dict[str, Any]]]:
    """The messages the instance sent in the last ``minutes`` (journal, newest first)."""
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 10080:
        problem = {"path": "minutes", "rule": "range", "message": "must be an integer from 1 to 10080"}
        raise InputValidationError(None, [problem])
    call = ApiCall("GET", "lastOutgoingMessages", query={"minutes": str(minutes)})
    body = yield call
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise BadResponseError(
            "Green API lastOutgoingMessages did not answer a list", api_method=call.api_method
        )
    return body


def _text_of(entry: dict[str, Any]) -> str | None:
    """The text a person reads in a journal entry: a text, a caption or a button message's body."""
    for key in ("textMessage", "caption"):
        if isinstance(entry.get(key), str):
            return str(entry[key])
    extended = entry.get("extendedTextMessage")
    if isinstance(extended, dict) and isinstance(extended.get("text"), str):
        return str(extended["text"])
    buttons = _buttons_of(entry)
    if buttons is not None:
        for key in ("body", "contentText"):
            if isinstance(buttons.get(key), str):
                return str(buttons[key])
    return None


#: The journal's typeMessage for each send method. Text: a link with a preview is journalled as
#: ``extendedTextMessage`` (REFERENCE.md §6.3; both the sandbox and the docs' journal example).
_TEXT_TYPES: Final = frozenset({"textMessage", "extendedTextMessage"})
#: Files: the real service picks the kind from the file itself, so any of the four is accepted.
_FILE_TYPES: Final = frozenset({"imageMessage", "videoMessage", "audioMessage", "documentMessage"})
#: Buttons: the sandbox journals these typeMessage names with the payload under the same key (as
#: outgoing notifications carry them). What the real lastOutgoingMessages lists for interactive
#: buttons is unverified: its docs enumerate text, file, poll and location types only.
_BUTTON_TYPES: Final = {
    "sendInteractiveButtonsReply": "interactiveButtonsReply",
    "sendInteractiveButtons": "interactiveButtons",
}


def _buttons_of(entry: dict[str, Any]) -> dict[str, Any] | None:
    for key in _BUTTON_TYPES.values():
        value = entry.get(key)
        if isinstance(value, dict):
            return value
    return None


def _timestamp(entry: dict[str, Any]) -> float | None:
    value = entry.get("timestamp")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _same_buttons(sent: list[dict[str, Any]], journalled: Any) -> bool:
    # Compared by id and label (and the action's value when the journal has it); the journal adds
    # ``type: "reply"`` to reply buttons, which the request does not carry.
    if not isinstance(journalled, list) or len(journalled) != len(sent):
        return False
    for ours, theirs in zip(sent, journalled, strict=True):
        if not isinstance(theirs, dict):
            return False
        for key, value in ours.items():
            if key in theirs and theirs[key] != value:
                return False
        if theirs.get("buttonText") != ours.get("buttonText"):
            return False
    return True


def _field(entry: dict[str, Any], *keys: str) -> str:
    for key in keys:
        if isinstance(entry.get(key), str):
            return str(entry[key])
    return ""


def matches_call(entry: dict[str, Any], call: ApiCall) -> bool:
    """Does the journal entry show the message ``call`` would send? The whole payload counts.

    Text: the type and the exact text. File: a file type, the caption (none = ""), and the file
    name for documents only: the real journal lists the file re-hosted (``downloadUrl`` on
    Green API's storage, an image's ``fileName`` replaced by a generated one, as the docs'
    lastOutgoingMessages example shows), so neither the URL nor an image's name can be compared.
    Buttons: the type, body, header, footer and every button's id and label.
    """
    body = call.json or {}
    if entry.get("chatId") != body.get("chatId"):
        return False
    kind = entry.get("typeMessage")
    if call.api_method == "sendMessage":
        return kind in _TEXT_TYPES and _text_of(entry) == body.get("message")
    if call.api_method == "sendFileByUrl":
        if kind not in _FILE_TYPES or _field(entry, "caption") != (body.get("caption") or ""):
            return False
        return kind != "documentMessage" or entry.get("fileName") in (None, body.get("fileName"))
    expected = _BUTTON_TYPES.get(call.api_method)
    if expected is None:
        raise ValueError(f"{call.api_method} is not a send this lookup knows")
    payload = entry.get(expected)
    if kind != expected or not isinstance(payload, dict):
        return False
    if _field(payload, "body", "contentText") != body.get("body"):
        return False
    if _field(payload, "header", "titleText") != (body.get("header") or ""):
        return False
    if _field(payload, "footer", "footerText") != (body.get("footer") or ""):
        return False
    return _same_buttons(body.get("buttons") or [], payload.get("buttons"))


def _newer(entry: dict[str, Any], since: float | None) -> bool:
    # Journal timestamps are whole seconds: the second ``since`` falls in counts as newer, so a
    # send accepted in that same second is found (missing it would send twice).
    if since is None:
        return True
    stamp = _timestamp(entry)
    return stamp is not None and stamp >= math.floor(since)


def find_sent(
    chat_id: str | None = None,
    *,
    message: str | None = None,
    id_message: str | None = None,
    minutes: int,
    call: ApiCall | None = None,
    since: float | None = None,
) -> Generator[ApiCall, Any, dict[str, Any] | None]:
    """The journal entry of a message sent to ``chat_id``, if any.

    With ``call`` (the send a tool's plan makes), the entry must carry that call's whole payload
    (:func:`matches_call`); otherwise it must match ``message`` (a text, caption or button body)
    and/or ``id_message``. ``since`` (Unix seconds) skips entries older than that instant: an
    identical message sent before the send in question began is not taken for it. Of several
    matches the newest is returned (the journal lists newest first).
    """
    if call is not None:
        chat_id = str((call.json or {}).get("chatId"))
    if chat_id is None:
        raise TypeError("find_sent needs chat_id or call")
    entries = yield from last_outgoing_messages(minutes)
    for entry in entries:
        if entry.get("chatId") != chat_id or not _newer(entry, since):
            continue
        if id_message is not None and entry.get("idMessage") != id_message:
            continue
        if call is not None and not matches_call(entry, call):
            continue
        if message is not None and _text_of(entry) != message:
            continue
        return entry
    return None


def get_settings() -> Generator[ApiCall, Any, dict[str, Any]]:
    """The instance's settings (REFERENCE.md §10.2): webhookUrl, the notification switches, ..."""
    call = ApiCall("GET", "getSettings")
    body = yield call
    if not isinstance(body, dict):
        raise BadResponseError("Green API getSettings did not answer an object", api_method=call.api_method)
    return body


def set_settings(changes: dict[str, Any]) -> Generator[ApiCall, Any, bool]:
    """Change some settings; True when Green API saved them. It reboots the instance: read with
    :func:`get_settings` first and call this only for what differs."""
    if not isinstance(changes, dict) or not changes:
        problem = {"path": "changes", "rule": "type", "message": "must be a non-empty object"}
        raise InputValidationError(None, [problem])
    for key, value in changes.items():
        if not isinstance(key, str) or not isinstance(value, str | int) or isinstance(value, bool):
            problem = {"path": str(key), "rule": "type", "message": "settings are strings or integers"}
            raise InputValidationError(None, [problem])
    body = yield ApiCall("POST", "setSettings", json=dict(changes))
    return bool(isinstance(body, dict) and body.get("saveSettings"))
