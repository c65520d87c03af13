"""Request validation as Green API does it: the first problem wins, answered with HTTP 400.

Messages follow the server's wording where it is known (REFERENCE.md §8, §9.1 and a live answer
recorded in 2026: ``Validation failed. Details: 'chatId' must be one of the next formats: ...``);
the rest use the same Joi-style phrasing (``'x' is required``, ``'x' length must be less than or
equal to N characters long``). Limits: text 20000 chars, caption 1024, at most 3 buttons,
labels at most 25 chars, a file name with an extension, an http(s) ``urlFile``.

Unknown top-level fields are ignored rather than rejected: whether the real server rejects them
is not documented, and a sandbox stricter than the service would fail workflows that work.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from .. import jsonbody
from .errors import APIError

__all__ = [
    "MAX_BUTTONS",
    "MAX_BUTTON_TEXT",
    "MAX_CAPTION",
    "MAX_TEXT",
    "SETTING_FLAGS",
    "parse_json_body",
    "parse_minutes",
    "parse_receipt_id",
    "parse_receive_timeout",
    "validate_chat_id",
    "validate_interactive_buttons",
    "validate_interactive_buttons_reply",
    "validate_send_file_by_url",
    "validate_send_message",
    "validate_settings",
]

MAX_TEXT: Final = 20000
MAX_CAPTION: Final = 1024
MAX_BUTTONS: Final = 3
MAX_BUTTON_TEXT: Final = 25
MIN_RECEIVE_TIMEOUT: Final = 5
MAX_RECEIVE_TIMEOUT: Final = 60
DEFAULT_RECEIVE_TIMEOUT: Final = 5
DEFAULT_JOURNAL_MINUTES: Final = 1440

_PERSONAL = re.compile(r"\d{7,15}@c\.us")
_GROUP = re.compile(r"(\d+-\d+|\d{15,20})@g\.us")
_LID = re.compile(r"\d+@lid")
_CHAT_FORMATS = "'phone_number@c.us', 'chat_id@lid' or 'group_id@g.us'"

#: setSettings switches that take "yes"/"no" (REFERENCE.md §10.2).
SETTING_FLAGS: Final[tuple[str, ...]] = (
    "markIncomingMessagesReaded",
    "markIncomingMessagesReadedOnReply",
    "sharedSession",
    "outgoingWebhook",
    "outgoingMessageWebhook",
    "outgoingAPIMessageWebhook",
    "incomingWebhook",
    "deviceWebhook",
    "statusInstanceWebhook",
    "stateWebhook",
    "enableMessagesHistory",
    "keepOnlineStatus",
    "pollMessageWebhook",
    "incomingBlockWebhook",
    "incomingCallWebhook",
    "editedMessageWebhook",
    "deletedMessageWebhook",
)
_SETTING_STRINGS: Final = ("webhookUrl", "webhookUrlToken", "proxyInstance")
_DELAY_RANGE: Final = (500, 600_000)


def _fail(details: str) -> APIError:
    return APIError(400, f"Validation failed. Details: {details}")


def parse_json_body(raw: bytes) -> Any:
    """Decode a request body; an empty body counts as ``{}`` (then the fields are missing)."""
    text = raw.decode("utf-8", errors="replace")
    if not text.strip():
        return {}
    try:
        return jsonbody.loads(text)
    except jsonbody.TooDeepError as exc:
        # Not a message the service is known to give; a clear 400 beats a 500 and a traceback.
        raise APIError(400, str(exc)) from None
    except json.JSONDecodeError as exc:
        # The service runs on Node: its JSON.parse wording is what clients see.
        if exc.pos >= len(text):
            raise APIError(400, "Unexpected end of JSON input") from None
        raise APIError(400, f"Unexpected token {text[exc.pos]} in JSON at position {exc.pos}") from None


def _object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise _fail("'value' must be of type object")
    return body


def _string(
    body: Mapping[str, Any],
    key: str,
    *,
    required: bool,
    label: str | None = None,
    allow_empty: bool = False,
    max_len: int | None = None,
) -> str | None:
    name = label or key
    if key not in body or body[key] is None:
        if required:
            raise _fail(f"'{name}' is required")
        return None
    value = body[key]
    if not isinstance(value, str):
        raise _fail(f"'{name}' must be a string")
    if not value and not allow_empty:
        raise _fail(f"'{name}' is not allowed to be empty")
    if max_len is not None and len(value) > max_len:
        raise _fail(f"'{name}' length must be less than or equal to {max_len} characters long")
    return value


def _integer(body: Mapping[str, Any], key: str, low: int, high: int) -> int | None:
    if key not in body or body[key] is None:
        return None
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(f"'{key}' must be a number")
    if isinstance(value, float) and not value.is_integer():  # also rejects NaN and Infinity
        raise _fail(f"'{key}' must be an integer")
    if value < low:
        raise _fail(f"'{key}' must be larger than or equal to {low}")
    if value > high:
        raise _fail(f"'{key}' must be less than or equal to {high}")
    return int(value)


def _boolean(body: Mapping[str, Any], key: str) -> None:
    if key in body and body[key] is not None and not isinstance(body[key], bool):
        raise _fail(f"'{key}' must be a boolean")


def validate_chat_id(value: Any, *, label: str = "chatId") -> str:
    """``value`` if it is a personal (``@c.us``), group (``@g.us``) or linked (``@lid``) chat id."""
    chat_id = _string({label: value}, label, required=True)
    assert chat_id is not None
    if not (_PERSONAL.fullmatch(chat_id) or _GROUP.fullmatch(chat_id) or _LID.fullmatch(chat_id)):
        raise _fail(f"'{label}' must be one of the next formats: {_CHAT_FORMATS}")
    return chat_id


def _common(body: Mapping[str, Any]) -> None:
    if "chatId" not in body or body["chatId"] is None:
        raise _fail("'chatId' is required")
    validate_chat_id(body["chatId"])
    _string(body, "quotedMessageId", required=False)
    _integer(body, "typingTime", 1000, 20000)


def validate_send_message(body: Any) -> dict[str, Any]:
    data = _object(body)
    _common(data)
    _string(data, "message", required=True, max_len=MAX_TEXT)
    _boolean(data, "linkPreview")
    _boolean(data, "archiveChat")
    preview = _string(data, "typePreview", required=False)
    if preview is not None and preview not in ("large", "small"):
        raise _fail("'typePreview' must be one of [large, small]")
    if "customPreview" in data and data["customPreview"] is not None:
        custom = data["customPreview"]
        if not isinstance(custom, Mapping):
            raise _fail("'customPreview' must be of type object")
        _string(custom, "title", required=True, label="customPreview.title", max_len=300)
    return dict(data)


def validate_send_file_by_url(body: Any) -> dict[str, Any]:
    data = _object(body)
    _common(data)
    url = _string(data, "urlFile", required=True)
    assert url is not None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        raise _fail("'urlFile' must be a valid uri with a scheme matching the http|https pattern")
    name = _string(data, "fileName", required=True)
    assert name is not None
    stem, ext = posixpath.splitext(name)
    if not stem or len(ext) < 2:
        # The extension picks photo/video/audio/document on the real service (§3.1).
        raise _fail("'fileName' must contain a file extension, e.g. 'invoice.pdf'")
    _string(data, "caption", required=False, allow_empty=True, max_len=MAX_CAPTION)
    return dict(data)


def _buttons(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if "buttons" not in data or data["buttons"] is None:
        raise _fail("'buttons' is required")
    buttons = data["buttons"]
    if not isinstance(buttons, list):
        raise _fail("'buttons' must be an array")
    if not buttons:
        raise _fail("'buttons' must contain at least 1 items")
    if len(buttons) > MAX_BUTTONS:
        raise _fail(f"'buttons' must contain less than or equal to {MAX_BUTTONS} items")
    out: list[Mapping[str, Any]] = []
    for i, button in enumerate(buttons):
        if not isinstance(button, Mapping):
            raise _fail(f"'buttons[{i}]' must be of type object")
        _string(button, "buttonId", required=True, label=f"buttons[{i}].buttonId")
        _string(
            button,
            "buttonText",
            required=True,
            label=f"buttons[{i}].buttonText",
            max_len=MAX_BUTTON_TEXT,
        )
        out.append(button)
    return out


def _buttons_text(data: Mapping[str, Any]) -> None:
    _common(data)
    _string(data, "body", required=True, max_len=MAX_TEXT)
    _string(data, "header", required=False, allow_empty=True)
    _string(data, "footer", required=False, allow_empty=True)


_ACTION_FIELD: Final[Mapping[str, str]] = {"copy": "copyCode", "call": "phoneNumber", "url": "url"}


def validate_interactive_buttons(body: Any) -> dict[str, Any]:
    data = _object(body)
    _buttons_text(data)
    for i, button in enumerate(_buttons(data)):
        kind = _string(button, "type", required=True, label=f"buttons[{i}].type")
        if kind is None or kind not in _ACTION_FIELD:
            raise _fail(f"'buttons[{i}].type' must be one of [copy, call, url]")
        field = _ACTION_FIELD[kind]
        value = _string(button, field, required=True, label=f"buttons[{i}].{field}")
        if kind == "url":
            parts = urlsplit(value or "")
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise _fail(f"'buttons[{i}].url' must be a valid uri")
        if kind == "call" and not (value or "").lstrip("+").isdigit():
            raise _fail(f"'buttons[{i}].phoneNumber' must contain only digits")
    return dict(data)


def validate_interactive_buttons_reply(body: Any) -> dict[str, Any]:
    data = _object(body)
    _buttons_text(data)
    _buttons(data)
    return dict(data)


def validate_settings(body: Any) -> dict[str, Any]:
    """The subset of settings to change; at least one known field (REFERENCE.md §10.2)."""
    data = _object(body)
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key in SETTING_FLAGS:
            if value not in ("yes", "no"):
                raise _fail(f"'{key}' must be one of [yes, no]")
            changes[key] = value
        elif key in _SETTING_STRINGS:
            if not isinstance(value, str):
                raise _fail(f"'{key}' must be a string")
            changes[key] = value
        elif key == "delaySendMessagesMilliseconds":
            delay = _integer(data, key, *_DELAY_RANGE)
            if delay is not None:
                changes[key] = delay
    if not changes:
        raise _fail("'value' must have at least 1 key")
    return changes


def _query_int(raw: str | None, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise _fail(f"'{name}' must be a number") from None


def parse_receive_timeout(raw: str | None) -> int:
    value = _query_int(raw, "receiveTimeout")
    if value is None:
        return DEFAULT_RECEIVE_TIMEOUT
    if value < MIN_RECEIVE_TIMEOUT:
        raise _fail(f"'receiveTimeout' must be larger than or equal to {MIN_RECEIVE_TIMEOUT}")
    if value > MAX_RECEIVE_TIMEOUT:
        raise _fail(f"'receiveTimeout' must be less than or equal to {MAX_RECEIVE_TIMEOUT}")
    return value


def parse_minutes(raw: str | None) -> int:
    value = _query_int(raw, "minutes")
    if value is None:
        return DEFAULT_JOURNAL_MINUTES
    if value < 1:
        raise _fail("'minutes' must be larger than or equal to 1")
    return value


def parse_receipt_id(raw: str) -> int:
    if not raw.isdigit():
        raise _fail("'receiptId' must be a number")
    return int(raw)
