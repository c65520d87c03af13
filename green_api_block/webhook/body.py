"""Reading one push's body from ASGI: bounded in size and nesting, a JSON object or nothing."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from green_api_block.jsonbody import MAX_DEPTH, TooDeepError, check_depth

__all__ = ["MAX_BODY", "BodyError", "content_length", "read_json_object"]

#: Far above any notification (a long text is ~70 KB of JSON); a flood stops here.
MAX_BODY = 1024 * 1024

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


class BodyError(Exception):
    """Not a notification body; ``status`` is the answer (400 or 413)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The declared length; :class:`BodyError` for a malformed one."""
    for name, value in headers:
        if name == b"content-length":
            if not value.isdigit():
                raise BodyError(400, "bad Content-Length")
            return int(value)
    return None


async def read_json_object(receive: Receive, limit: int = MAX_BODY) -> dict[str, Any]:
    # Counted as it streams too: a chunked body declares no length.
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BodyError(400, "the client went away")
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise BodyError(413, "body too large")
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    raw = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    try:
        data = json.loads(raw)
        # jsonbody's depth walk costs as much as the rest of a push; a body with fewer brackets
        # than the limit (every real one: about ten) cannot nest deeper, so the count decides.
        if raw.count(b"{") + raw.count(b"[") > MAX_DEPTH:
            check_depth(data)
    except RecursionError:
        raise BodyError(400, str(TooDeepError())) from None
    except (ValueError, UnicodeDecodeError):
        raise BodyError(400, "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BodyError(400, "the body is not a JSON object")
    return data
