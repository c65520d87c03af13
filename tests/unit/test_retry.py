"""The retry decision as a table: call kind x outcome -> retry or not."""

from __future__ import annotations

import pytest

from green_api_block import (
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BadResponseError,
    GreenApiError,
    OutcomeUnknownError,
    QuotaExceededError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    TransportError,
)
from green_api_block.retry import backoff, retry_delay
from green_api_block.status import parse_retry_after

POLICY = RetryPolicy(max_retries=3, backoff_initial=0.5, backoff_max=8.0, jitter=0.25, retry_after_max=30.0)

never_sent = TransportError("x", retryable=True)
connect_timeout = APITimeoutError("x", retryable=True)
maybe_sent = OutcomeUnknownError("x", outcome_unknown=True)
r429 = RateLimitError("x", status_code=429)
r429_after = RateLimitError("x", status_code=429, retry_after=2.0)
r429_far = RateLimitError("x", status_code=429, retry_after=120.0)
r500_read = ServerError("x", status_code=500)
r502_send = ServerError("x", status_code=502, retryable=False, outcome_unknown=True)
r500_size = ServerError("x", status_code=500, retryable=False)

TABLE: list[tuple[bool, GreenApiError, bool]] = [
    # (is_send, error, retried?)
    (True, never_sent, True),
    (True, connect_timeout, True),
    (True, maybe_sent, False),
    (True, r429, True),
    (True, r429_after, True),
    (True, r429_far, False),
    (True, r502_send, False),
    (True, BadRequestError("x", status_code=400), False),
    (True, AuthenticationError("x", status_code=401), False),
    (True, QuotaExceededError("x", status_code=466), False),
    (True, BadResponseError("x", outcome_unknown=True), False),
    (False, never_sent, True),
    (False, connect_timeout, True),
    (False, r429, True),
    (False, r500_read, True),
    (False, ServerError("x", status_code=502), True),
    (False, ServerError("x", status_code=499), True),
    (False, r500_size, False),
    (False, AuthenticationError("x", status_code=401), False),
    (False, BadResponseError("x"), False),
]


@pytest.mark.parametrize(("is_send", "error", "retried"), TABLE)
def test_retry_table(is_send: bool, error: GreenApiError, retried: bool) -> None:
    delay = retry_delay(error, is_send=is_send, attempt=0, policy=POLICY, rand=0.0)
    assert (delay is not None) is retried


def test_retry_after_is_honoured_exactly() -> None:
    assert retry_delay(r429_after, is_send=True, attempt=0, policy=POLICY) == 2.0


def test_attempts_are_bounded() -> None:
    assert retry_delay(never_sent, is_send=False, attempt=2, policy=POLICY, rand=0.0) is not None
    assert retry_delay(never_sent, is_send=False, attempt=3, policy=POLICY, rand=0.0) is None


def test_backoff_grows_caps_and_jitters() -> None:
    assert [backoff(n, POLICY, rand=0.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert backoff(1, POLICY, rand=1.0) == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        ("0.5", 0.5),
        ("-4", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("nan", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_retry_after_date_in_future() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == pytest.approx(10.0)


@pytest.mark.parametrize("is_send", [True, False])
def test_retry_statuses_is_the_one_rule_for_429(is_send: bool) -> None:
    without_429 = RetryPolicy(retry_statuses=frozenset({500, 502, 503, 504}))
    assert retry_delay(r429, is_send=is_send, attempt=0, policy=without_429, rand=0.0) is None
    assert retry_delay(r429_after, is_send=is_send, attempt=0, policy=without_429) is None
    assert retry_delay(r429_after, is_send=is_send, attempt=0, policy=POLICY) == 2.0


def test_retry_statuses_decides_5xx_on_reads_and_never_opens_sends() -> None:
    only_503 = RetryPolicy(retry_statuses=frozenset({429, 503}))
    r503 = ServerError("x", status_code=503)
    assert retry_delay(r500_read, is_send=False, attempt=0, policy=only_503) is None
    assert retry_delay(r503, is_send=False, attempt=0, policy=only_503, rand=0.0) == 0.5
    # A send that got a 5xx may have been processed: listing the status does not make it retried.
    r503_send = ServerError("x", status_code=503, outcome_unknown=True)
    assert retry_delay(r503_send, is_send=True, attempt=0, policy=only_503) is None
    # Errors without a status (transport) are not governed by the list.
    assert retry_delay(
        never_sent, is_send=True, attempt=0, policy=RetryPolicy(retry_statuses=frozenset()), rand=0.0
    )
