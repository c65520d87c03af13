"""The retry decision as a table: call kind x outcome -> retry or not."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from green_api_block import (
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BadResponseError,
    GreenApiError,
    InstanceNotAuthorizedError,
    OutcomeUnknownError,
    QuotaExceededError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    TransportError,
)
from green_api_block.retry import NOT_PROCESSED_STATUSES, backoff, retry_delay
from green_api_block.status import error_for_status, parse_retry_after

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


def _without(*statuses: int) -> RetryPolicy:
    return dataclasses.replace(POLICY, retry_statuses=POLICY.retry_statuses - set(statuses))


def _with(*statuses: int) -> RetryPolicy:
    return dataclasses.replace(POLICY, retry_statuses=POLICY.retry_statuses | set(statuses))


def _retried(error: GreenApiError, *, is_send: bool, policy: RetryPolicy) -> bool:
    return retry_delay(error, is_send=is_send, attempt=0, policy=policy, rand=0.0) is not None


@pytest.mark.parametrize("is_send", [True, False])
@pytest.mark.parametrize("error", [r429, r429_after], ids=["bare", "retry_after"])
def test_retry_statuses_decides_429_too(is_send: bool, error: GreenApiError) -> None:
    assert _retried(error, is_send=is_send, policy=POLICY)
    assert not _retried(error, is_send=is_send, policy=_without(429))


def test_removing_a_5xx_stops_only_its_retries() -> None:
    policy = _without(502)
    assert not _retried(ServerError("x", status_code=502), is_send=False, policy=policy)
    assert _retried(ServerError("x", status_code=500), is_send=False, policy=policy)
    assert _retried(r429, is_send=False, policy=policy)


def _answer(status: int, body: str, *, is_send: bool) -> GreenApiError:
    return error_for_status(status, body, api_method="m", display_url="u", is_send=is_send)


def test_an_added_status_is_retried_when_the_answer_can_change() -> None:
    starting = _answer(400, "instance in starting process try later", is_send=False)
    expired = _answer(400, "Instance account is expired", is_send=False)
    assert isinstance(starting, InstanceNotAuthorizedError)
    assert not _retried(starting, is_send=False, policy=POLICY)
    assert _retried(starting, is_send=False, policy=_with(400))
    # An answer that will be the same next time is not retried, listed or not.
    assert not _retried(expired, is_send=False, policy=_with(400))
    # A send is retried only after a status given before processing, whatever the policy lists.
    send_starting = _answer(400, "instance in starting process try later", is_send=True)
    assert not _retried(send_starting, is_send=True, policy=_with(400))


@pytest.mark.parametrize("status", [499, 500, 502, 503, 504])
def test_no_policy_retries_a_send_after_an_answer_given_after_processing(status: int) -> None:
    every = dataclasses.replace(POLICY, retry_statuses=frozenset(range(400, 600)))
    assert not _retried(_answer(status, "oops", is_send=True), is_send=True, policy=every)
    # Even an error that does not carry outcome_unknown (one built by hand, say) is not retried.
    assert not _retried(ServerError("x", status_code=status), is_send=True, policy=every)
    assert _retried(_answer(status, "oops", is_send=False), is_send=False, policy=every)


@given(
    status=st.integers(400, 599),
    listed=st.frozensets(st.integers(400, 599)),
    retryable=st.booleans(),
    outcome_unknown=st.booleans(),
)
def test_a_send_is_retried_after_a_status_only_if_it_was_not_processed(
    status: int, listed: frozenset[int], retryable: bool, outcome_unknown: bool
) -> None:
    error = APIStatusError("x", status_code=status, retryable=retryable, outcome_unknown=outcome_unknown)
    policy = dataclasses.replace(POLICY, retry_statuses=listed)
    retried = _retried(error, is_send=True, policy=policy)
    assert retried == (
        status in NOT_PROCESSED_STATUSES and status in listed and retryable and not outcome_unknown
    )


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
