"""Every error status of REFERENCE.md §9 maps to its stable code (sync and async)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from green_api_block import (
    AuthenticationError,
    BadRequestError,
    BadResponseError,
    ForbiddenError,
    GreenApiBlock,
    GreenApiError,
    InstanceNotAuthorizedError,
    NotFoundError,
    QuotaExceededError,
    RateLimitError,
    RetryPolicy,
    ServerError,
)
from tests.support.credentials import CANARY, ID
from tests.support.mock import Recorder

CREDS = {"idInstance": ID, "apiTokenInstance": CANARY}
SEND = ("green_api_send_message", {**CREDS, "chatId": "79001234567@c.us", "message": "x"})
STATE = ("green_api_get_state_instance", CREDS)
QUOTA_BODY = {
    "invokeStatus": {"method": "sendmessage", "used": 67, "total": 0, "status": "QUOTE_ALLOWED"},
    "correspondentsStatus": {
        "method": "correspondents",
        "used": 3,
        "total": 3,
        "status": "CORRESPONDENTS_QUOTE_EXCEEDED",
        "description": "You can only send or receive messages from these numbers: 79000000001@c.us",
    },
}
NO_RETRY = RetryPolicy(max_retries=0)

CASES: list[tuple[int, bytes, type[GreenApiError], str, bool]] = [
    (
        400,
        b"instance in starting process try later",
        InstanceNotAuthorizedError,
        "instance_not_authorized",
        True,
    ),
    (400, b"instance account not authorized", InstanceNotAuthorizedError, "instance_not_authorized", False),
    (
        400,
        b"Instance account is expired. Renew your instance from personal area",
        BadRequestError,
        "bad_request",
        False,
    ),
    (
        400,
        b"Bad Request Validation failed. Details: 'chatId' must be one of the next formats",
        BadRequestError,
        "bad_request",
        False,
    ),
    (400, b"Unexpected token _ in JSON at position 12", BadRequestError, "bad_request", False),
    (401, b"Unauthorized", AuthenticationError, "unauthorized", False),
    (403, b"Forbidden", ForbiddenError, "forbidden", False),
    (404, b"<html><body>Not Found</body></html>", NotFoundError, "not_found", False),
    (429, b"Too Many Requests", RateLimitError, "rate_limited", True),
    (466, json.dumps(QUOTA_BODY).encode(), QuotaExceededError, "quota_exceeded", False),
    (499, b"", ServerError, "server_error", True),
    (500, b"Internal Server Error", ServerError, "server_error", True),
    (502, b"Bad Gateway", ServerError, "server_error", True),
    (503, b"Service Unavailable", ServerError, "server_error", True),
]


def _raise(mode: str, response: httpx.Response, tool: tuple[str, dict[str, Any]]) -> GreenApiError:
    rec = Recorder(response)
    block = GreenApiBlock(
        "http://127.0.0.1:1",
        transport=rec.transport(),
        async_transport=rec.transport(),
        retry=NO_RETRY,
        credentials_from_env=False,
    )
    with pytest.raises(GreenApiError) as info:
        if mode == "sync":
            block.execute(*tool)
        else:
            asyncio.run(block.aexecute(*tool))
    assert len(rec.requests) == 1
    return info.value


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("status", "body", "cls", "code", "retryable_read"), CASES)
def test_status_maps_to_code(
    mode: str, status: int, body: bytes, cls: type, code: str, retryable_read: bool
) -> None:
    err = _raise(mode, httpx.Response(status, content=body, headers={"Retry-After": "7"}), STATE)
    assert isinstance(err, cls)
    assert err.code == code
    assert err.status_code == status
    assert err.retryable is retryable_read
    assert err.api_method == "getStateInstance"
    assert CANARY not in str(err) and CANARY not in repr(err) and CANARY not in (err.url or "")
    if status == 429:
        assert err.retry_after == 7.0
        assert "retry after 7 s" in str(err)
    if status == 466:
        assert "correspondents: 3/3 used" in str(err)
    if status == 404:
        assert "<html>" not in str(err)


@pytest.mark.parametrize("status", [499, 500, 502, 503])
def test_server_error_on_send_is_outcome_unknown_and_not_retryable(status: int) -> None:
    err = _raise("sync", httpx.Response(status, content=b"oops"), SEND)
    assert err.code == "server_error"
    assert err.outcome_unknown is True
    assert err.retryable is False
    assert "lastOutgoingMessages" in str(err)


def test_file_too_large_is_a_clean_failure() -> None:
    body = b"File from url exceeded max upload size. Size: 150mb Limit: 100mb Url: https://x.org/a.zip"
    err = _raise("sync", httpx.Response(500, content=body), SEND)
    assert err.outcome_unknown is False and err.retryable is False
    assert "100 MB" in str(err)


def test_retry_after_http_date() -> None:
    err = _raise("sync", httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), STATE)
    assert err.retry_after == 0.0


@pytest.mark.parametrize(
    ("response", "tool"),
    [
        (httpx.Response(200, content=b"<html>oops</html>"), STATE),
        (httpx.Response(200, json={"nope": 1}), STATE),
        (httpx.Response(200, json={"idMessage": ""}), SEND),
        (httpx.Response(200, json=[1, 2]), SEND),
        (httpx.Response(200, json={"receiptId": "x", "body": {}}), ("green_api_get_notifications", CREDS)),
    ],
)
def test_off_contract_200_is_bad_response(response: httpx.Response, tool: tuple[str, dict[str, Any]]) -> None:
    err = _raise("sync", response, tool)
    assert isinstance(err, BadResponseError)
    assert err.code == "bad_response"
    if tool is SEND:
        assert err.outcome_unknown is True
