"""Which failed calls are retried, and after how long: pure functions, no I/O.

A send (``ApiCall.is_send``) is retried only when the request provably never reached the server
(the transport saw no connection for it) or when the server refused it with 429 before processing.
Reads and deletes (getStateInstance, receiveNotification, deleteNotification) are safe to repeat.
Which answered statuses are retried at all is ``RetryPolicy.retry_statuses``, 429 included.
"""

from __future__ import annotations

import random

from .config import RetryPolicy
from .errors import GreenApiError, RateLimitError, ServerError, TransportError

__all__ = ["backoff", "retry_delay"]


def backoff(attempt: int, policy: RetryPolicy, rand: float | None = None) -> float:
    """Exponential backoff for retry number ``attempt`` (0-based), minus up to ``jitter`` of it."""
    base = min(policy.backoff_max, policy.backoff_initial * (2.0**attempt))
    r = random.random() if rand is None else rand
    return base * (1.0 - policy.jitter * r)


def retry_delay(
    error: GreenApiError, *, is_send: bool, attempt: int, policy: RetryPolicy, rand: float | None = None
) -> float | None:
    """Seconds to wait before retrying after ``error``, or None when it must not be retried."""
    if attempt >= policy.max_retries:
        return None
    if isinstance(error, TransportError):
        if is_send and error.outcome_unknown:
            return None
        return backoff(attempt, policy, rand)
    # One rule for answers: a status is retried only if ``retry_statuses`` lists it. On top of
    # that, a send is retried only after 429, the one status that proves nothing was processed.
    if error.status_code not in policy.retry_statuses:
        return None
    if isinstance(error, RateLimitError):
        if error.retry_after is None:
            return backoff(attempt, policy, rand)
        return error.retry_after if error.retry_after <= policy.retry_after_max else None
    if is_send:
        return None
    if isinstance(error, ServerError) and error.retryable:
        return backoff(attempt, policy, rand)
    return None
