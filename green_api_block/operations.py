"""Plans for Green API calls the block offers besides its five tools.

They exist for what the tools' guarantees need: deleting one notification after it was shown
(``watch``), and checking whether a send whose outcome is unknown did reach Green API before
anything is sent again (``lastOutgoingMessages``); reading and changing the instance's settings
(``webhook set``).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from .errors import BadResponseError, InputValidationError
from .tools.base import ApiCall

__all__ = ["delete_notification", "find_sent", "get_settings", "last_outgoing_messages", "set_settings"]


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
    for key in ("textMessage", "caption"):
        if isinstance(entry.get(key), str):
            return str(entry[key])
    extended = entry.get("extendedTextMessage")
    if isinstance(extended, dict) and isinstance(extended.get("text"), str):
        return str(extended["text"])
    return None


def find_sent(
    chat_id: str, *, message: str | None, id_message: str | None, minutes: int
) -> Generator[ApiCall, Any, dict[str, Any] | None]:
    """The journal entry of a message sent to ``chat_id`` (matching the text or id), if any."""
    entries = yield from last_outgoing_messages(minutes)
    for entry in entries:
        if entry.get("chatId") != chat_id:
            continue
        if id_message is not None and entry.get("idMessage") != id_message:
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
