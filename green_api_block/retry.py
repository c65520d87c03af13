"""Which failed calls are retried, and after how long: pure functions, no I/O.

One rule for answers: a call that got an error status is retried only if that status is in
``RetryPolicy.retry_statuses`` (remove 429 from it, and a 429 is no longer retried).

On top of it, the send-safety rule, which no policy can loosen: a send (``ApiCall.is_send``) is
retried only when it provably was not processed, i.e. the request never reached the server (the
transport saw no connection for it), or the server answered a status that it gives before
processing (:data:`NOT_PROCESSED_STATUSES`). A WhatsApp message is never sent twice by a retry.
Reads and deletes (getStateInstance, receiveNotification, deleteNotification) are safe to repeat.
"""

from __future__ import annotations

import random

from .config import RetryPolicy
from .errors import APIStatusError, GreenApiError, TransportError

__all__ = ["NOT_PROCESSED_STATUSES", "backoff", "retry_delay"]

#: Statuses Green API answers before it runs the method: after these a send may be retried
#: (if ``retry_statuses`` lists them). 429 comes from its per-method limiter, ahead of the method;
#: after a 5xx or 499 the message may have been queued, so a send is never retried after those.
NOT_PROCESSED_STATUSES = frozenset({429})


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
    if isinstance(error, TransportError):  # no answer came back
        if is_send and error.outcome_unknown:
            return None
        return backoff(attempt, policy, rand)
    # A 200 with an off-contract body (BadResponseError) has no error status: never retried.
    if not isinstance(error, APIStatusError) or error.status_code not in policy.retry_statuses:
        return None
    # The answer itself may rule a retry out: a send the server may have processed
    # (outcome_unknown), or one that would fail the same way again (an upload over the size limit).
    if error.outcome_unknown or not error.retryable:
        return None
    if is_send and error.status_code not in NOT_PROCESSED_STATUSES:
        return None
    if error.retry_after is None:
        return backoff(attempt, policy, rand)
    # A longer wait goes back to the caller (with retry_after set) rather than block a worker.
    return error.retry_after if error.retry_after <= policy.retry_after_max else None
