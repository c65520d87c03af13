"""Green API answers -> the block's errors: one table, one function (REFERENCE.md §9)."""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any

from .errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ForbiddenError,
    GreenApiError,
    InstanceNotAuthorizedError,
    NotFoundError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
)
from .redact import redact

__all__ = ["body_excerpt", "error_for_status", "parse_retry_after"]

_EXCERPT = 200

_HINTS: dict[int, tuple[type[APIStatusError], str]] = {
    400: (BadRequestError, "Green API rejected the request"),
    401: (
        AuthenticationError,
        "the apiTokenInstance is wrong for this instance: copy it again from the console",
    ),
    403: (
        ForbiddenError,
        "the idInstance or the host (api_url) is wrong, or the method is archived: check both in the console",
    ),
    404: (NotFoundError, "unknown method or wrong HTTP verb (is api_url the instance's apiUrl?)"),
    429: (RateLimitError, "too many requests for this instance and method: slow down and retry"),
    466: (QuotaExceededError, "the Developer plan's monthly quota is used up: upgrade or wait until the 1st"),
    499: (ServerError, "Green API reports the connection closed before it answered"),
}


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def body_excerpt(text: str) -> str:
    """A short, masked excerpt of an error body: JSON message fields if any, else the raw text."""
    detail = text.strip()
    try:
        data: Any = json.loads(detail)
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        for key in ("message", "error", "description", "reason"):
            if isinstance(data.get(key), str) and data[key]:
                detail = data[key]
                break
    if detail.lstrip().startswith("<"):  # an HTML error page says nothing useful in one line
        detail = ""
    detail = " ".join(detail.split())
    # Masked before it is cut, so that a token straddling the cut is not left half shown (the
    # masks only shorten the text); masking reads the body's head only, not a body of any size.
    return redact(detail[: _EXCERPT * 40])[:_EXCERPT]


def _quota_detail(text: str) -> str:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return ""
    if not isinstance(data, dict):
        return ""
    for key in ("correspondentsStatus", "invokeStatus"):
        part = data.get(key)
        if isinstance(part, dict) and str(part.get("status", "")).endswith("EXCEEDED"):
            used, total = part.get("used"), part.get("total")
            return f"{part.get('method', key)}: {used}/{total} used"
    return ""


def error_for_status(
    status: int,
    text: str,
    *,
    api_method: str,
    display_url: str,
    is_send: bool,
    retry_after_header: str | None = None,
    tool: str | None = None,
) -> GreenApiError:
    """The error for an HTTP error status; the message says what failed, why and what to do."""
    excerpt = body_excerpt(text)
    lowered = excerpt.lower()
    retry_after = parse_retry_after(retry_after_header) if status == 429 else None
    retryable: bool | None = None
    outcome_unknown = False
    if status == 400 and ("not authorized" in lowered or "starting" in lowered):
        cls: type[APIStatusError] = InstanceNotAuthorizedError
        starting = "starting" in lowered and "not authorized" not in lowered
        hint = (
            "the instance is starting: try again in a few seconds"
            if starting
            else "the instance is not authorized: link WhatsApp by scanning the QR code in the console"
        )
        retryable = starting
    elif status in _HINTS:
        cls, hint = _HINTS[status]
    elif status >= 500:
        cls, hint = ServerError, "Green API had a server error"
    else:
        cls, hint = APIStatusError, "unexpected HTTP status"
    if status == 466:
        quota = _quota_detail(text)
        excerpt = quota or excerpt
    if cls is ServerError or status == 499:
        too_big = "exceeded max upload size" in lowered
        if too_big:
            hint, retryable = "the file is larger than Green API's 100 MB limit", False
        elif is_send:
            # The server got the send and then failed: it may or may not be queued. Not retried.
            hint += "; the message may have been sent: check lastOutgoingMessages before sending again"
            retryable, outcome_unknown = False, True
    if status == 429 and retry_after is not None:
        hint += f" (retry after {retry_after:g} s)"
    message = f"Green API {api_method} failed with HTTP {status}: {hint}"
    if excerpt and excerpt.lower() not in hint.lower():
        message += f" [{excerpt}]"
    return cls(
        message,
        tool=tool,
        api_method=api_method,
        url=display_url,
        status_code=status,
        retryable=retryable,
        retry_after=retry_after,
        outcome_unknown=outcome_unknown,
        body_excerpt=excerpt or None,
    )
