"""The block's errors as Temporal failures: ``ApplicationError`` typed by the block's error code.

Activity failures are stored in the workflow history in plain text, so nothing here may carry a
token: messages and details are masked (the block's own messages are built from masked parts
already; the worker's tokens are masked again, in case a server echoed one), and the original
exception is never chained (Temporal would serialize its message as the failure's cause).

Retrying is Temporal's job, so the split is by what a retry can change: bad input, credentials,
permissions and quota cannot be fixed by trying again (non-retryable); transport trouble, 5xx,
429 and unknown outcomes can (a 429 names its wait: ``next_retry_delay`` from ``Retry-After``).
A send retried after an unknown outcome looks itself up first (see ``activities``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Final

from temporalio.exceptions import ApplicationError

from ...errors import ConfigError, GreenApiError, InputValidationError
from ...redact import redact, redact_obj

__all__ = ["NON_RETRYABLE_TYPES", "TOKEN_IN_INPUT", "UNKNOWN_INSTANCE", "application_error", "refuse"]

#: Refusals of the activities themselves (no request was made).
TOKEN_IN_INPUT: Final = "token_in_input"
UNKNOWN_INSTANCE: Final = "unknown_instance"

#: Failure types a retry cannot fix: the block's codes for input, auth, permission and quota
#: errors, and the activities' own refusals.
NON_RETRYABLE_TYPES: Final = frozenset(
    {
        "invalid_input",
        "bad_request",
        "instance_not_authorized",
        "unauthorized",
        "forbidden",
        "not_found",
        "quota_exceeded",
        "config_error",
        TOKEN_IN_INPUT,
        UNKNOWN_INSTANCE,
    }
)


def refuse(message: str, kind: str) -> ApplicationError:
    """A non-retryable refusal made before any request (the message must not quote the input)."""
    return ApplicationError(message, {"code": kind, "retryable": False}, type=kind, non_retryable=True)


def application_error(exc: BaseException, secrets: Iterable[str | None] = ()) -> ApplicationError:
    """``exc`` as an ``ApplicationError``: ``type`` is the block's error code, no token anywhere.

    Raise it ``from None``: a chained original would be serialized into the history as the cause.
    ``secrets``: the tokens to mask besides the held ones (None, a worker without its own, is skipped).
    """
    held = tuple(s for s in secrets if s)
    if isinstance(exc, InputValidationError):
        details = redact_obj(exc.to_dict(), held)
        return ApplicationError(redact(str(exc), held), details, type=details["code"], non_retryable=True)
    if isinstance(exc, GreenApiError):
        details = redact_obj(exc.to_dict(), held)
        status = exc.status_code
        # A 4xx the block has no class for (not 408/429) is as permanent as the ones it has.
        client_error = status is not None and 400 <= status < 500 and status not in (408, 429)
        non_retryable = exc.code in NON_RETRYABLE_TYPES or client_error
        delay = None
        if exc.retry_after is not None and exc.retry_after > 0:
            delay = timedelta(seconds=exc.retry_after)
        return ApplicationError(
            redact(exc.message, held),
            details,
            type=exc.code,
            non_retryable=non_retryable,
            next_retry_delay=delay,
        )
    if isinstance(exc, ConfigError):
        # The worker's configuration (host, credentials): no retry changes it.
        return refuse(redact(str(exc), held), "config_error")
    # Not the block's: a bug or an unforeseen library error. Its text is masked like the rest; a
    # retry may well help (Temporal's retry policy bounds it).
    return ApplicationError(redact(f"{type(exc).__name__}: {exc}", held), type=type(exc).__name__)
