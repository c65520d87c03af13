"""Block errors as Temporal failures for the poller's and the chat activities (the tool activities
have their own mapping in ``failures.py``; merged later).

The message is the block's own, which never holds a token (the block redacts); ``type`` is the
block's error code, so a RetryPolicy can name it.
"""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from green_api_block.errors import ConfigError, GreenApiBlockError, GreenApiError, InputValidationError

__all__ = ["as_failure"]


def as_failure(exc: GreenApiBlockError) -> ApplicationError:
    if isinstance(exc, GreenApiError):
        return ApplicationError(
            str(exc),
            type=exc.code,
            non_retryable=not exc.retryable
            and exc.code in {"unauthorized", "forbidden", "not_found", "bad_request", "quota_exceeded"},
        )
    code = "invalid_input" if isinstance(exc, InputValidationError) else "config_error"
    # Input and configuration do not get better by retrying.
    fixed = isinstance(exc, InputValidationError | ConfigError)
    return ApplicationError(str(exc), type=code, non_retryable=fixed)
