"""The constructor judges every argument, so that a wrong one fails there, naming itself.

Before, ``GreenApiBlock(timeouts=5.0)`` built and the first call died with an AttributeError,
``httpx.Timeout`` worked until the first long poll, ``retry=3`` until the first 5xx, and
``rate_limits={"sendMessage": -5}`` switched the limiter off unseen.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import httpx
import pytest

from green_api_block import ConfigError, GreenApiBlock, RetryPolicy, Timeouts
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.credentials import CANARY

pytestmark = [
    pytest.mark.green_api_sandbox(max_receive_wait=0.2, rate_limits=False),
    pytest.mark.green_api_instance(api_token=CANARY, settings={}),
]

URL = "http://127.0.0.1:9"
FAST = RetryPolicy(max_retries=1, backoff_initial=0.001, backoff_max=0.002)


def build(**kw: Any) -> GreenApiBlock:
    return GreenApiBlock(URL, credentials_from_env=False, **kw)


# -- timeout= / timeouts= --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["timeout", "timeouts"])
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5.0, Timeouts(connect=5, read=5, write=5, pool=5)),
        (3, Timeouts(connect=3, read=3, write=3, pool=3)),
        (httpx.Timeout(5), Timeouts(connect=5, read=5, write=5, pool=5)),
        (httpx.Timeout(4, connect=1.5), Timeouts(connect=1.5, read=4, write=4, pool=4)),
        (Timeouts(read=7, long_poll_margin=2), Timeouts(read=7, long_poll_margin=2)),
        (None, Timeouts()),
    ],
)
def test_a_number_an_httpx_timeout_or_timeouts_are_one_setting(
    name: str, value: Any, expected: Timeouts
) -> None:
    block = build(**{name: value})
    assert block.timeouts == expected
    # A number or an httpx.Timeout says nothing of long polls: the default margin is kept.
    assert block.timeouts.long_poll_margin == expected.long_poll_margin


@pytest.mark.parametrize(
    ("kw", "error", "names"),
    [
        ({"timeouts": "5"}, TypeError, "timeouts"),
        ({"timeouts": True}, TypeError, "timeouts"),
        ({"timeouts": [5]}, TypeError, "timeouts"),
        ({"timeout": 0}, ConfigError, "timeout"),
        ({"timeout": -1.0}, ConfigError, "timeout"),
        ({"timeouts": math.inf}, ConfigError, "timeouts"),
        ({"timeouts": math.nan}, ConfigError, "timeouts"),
        ({"timeout": httpx.Timeout(None)}, ConfigError, "timeout"),
        ({"timeouts": httpx.Timeout(5, pool=None)}, ConfigError, "pool"),
        ({"timeout": httpx.Timeout(-2)}, ConfigError, "timeout"),
        ({"timeout": 5, "timeouts": Timeouts()}, TypeError, "timeout= or timeouts="),
    ],
)
def test_a_wrong_timeout_fails_at_construction_naming_it(
    kw: dict[str, Any], error: type[Exception], names: str
) -> None:
    with pytest.raises(error, match=names):
        build(**kw)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"read": -1}, "read"),
        ({"connect": 0}, "connect"),
        ({"pool": math.inf}, "pool"),
        ({"long_poll_margin": -0.5}, "long_poll_margin"),
    ],
)
def test_timeouts_refuse_a_limit_that_is_no_limit(kw: dict[str, float], field: str) -> None:
    with pytest.raises(ConfigError, match=f"Timeouts.{field}"):
        Timeouts(**kw)
    assert Timeouts(long_poll_margin=0).long_poll_margin == 0


def test_the_coercion_names_the_argument_it_judges() -> None:
    from green_api_block.config import coerce_timeouts

    with pytest.raises(TypeError, match=r"^timeout must be"):
        coerce_timeouts(object(), "timeout")


@pytest.mark.parametrize("timeout", [5.0, httpx.Timeout(5)], ids=["number", "httpx.Timeout"])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_long_poll_and_a_call_work_with_an_httpx_style_timeout(
    timeout: Any, mode: str, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    # Before: a float died at the first call ('float' has no 'connect'), an httpx.Timeout at the
    # first long poll (no long_poll_margin).
    block = GreenApiBlock(
        sandbox.url,
        id_instance=instance.id_instance,
        api_token=instance.api_token,
        credentials_from_env=False,
        timeout=timeout,
        retry=FAST,
        rate_limits=False,
    )
    poll: tuple[str, dict[str, Any]] = ("green_api_get_notifications", {"receiveTimeout": 5})
    state: tuple[str, dict[str, Any]] = ("green_api_get_state_instance", {})
    if mode == "sync":
        with block:
            outs = [block.execute(*poll), block.execute(*state)]
    else:

        async def go() -> list[dict[str, Any]]:
            async with block:
                return [await block.aexecute(*poll), await block.aexecute(*state)]

        outs = asyncio.run(go())
    assert outs == [{"notifications": [], "receiptId": None}, {"stateInstance": "authorized"}]


# -- retry=, rate_limits=, transports --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "error", "names"),
    [
        ({"retry": 3}, TypeError, "retry"),
        ({"retry": {"max_retries": 3}}, TypeError, "retry"),
        ({"rate_limits": "no"}, TypeError, "rate_limits"),
        ({"rate_limits": None}, TypeError, "rate_limits"),
        ({"rate_limits": {"sendMessage": -5}}, ConfigError, r"rate_limits\['sendMessage'\]"),
        ({"rate_limits": {"sendMessage": 0}}, ConfigError, r"rate_limits\['sendMessage'\]"),
        ({"rate_limits": {"sendMessage": math.inf}}, ConfigError, r"rate_limits\['sendMessage'\]"),
        ({"rate_limits": {"sendMessage": "50"}}, TypeError, r"rate_limits\['sendMessage'\]"),
        ({"rate_limits": {"sendMessage": True}}, TypeError, r"rate_limits\['sendMessage'\]"),
        ({"rate_limits": {"sendMesage": 5}}, ConfigError, "rate_limits: 'sendMesage'"),
        ({"rate_limits": {1: 5}}, ConfigError, "rate_limits"),
        ({"async_transport": "httpx"}, ConfigError, "async_transport"),
        ({"async_transport": httpx.HTTPTransport()}, TypeError, "async_transport is a sync transport"),
        ({"async_transport": None}, TypeError, "async_transport"),
        ({"transport": httpx.AsyncHTTPTransport()}, TypeError, "transport is an async transport"),
        ({"transport": "httpcore"}, TypeError, "transport"),
    ],
)
def test_a_wrong_argument_fails_at_construction_naming_it(
    kw: dict[str, Any], error: type[Exception], names: str
) -> None:
    with pytest.raises(error, match=names):
        build(**kw)


def test_good_rates_and_transports_are_taken() -> None:
    block = build(rate_limits={"sendMessage": 2, "getStateInstance": 0.5})
    assert block.rate_limiter is not None
    assert block.rate_limiter.rates == {"sendMessage": 2.0, "getStateInstance": 0.5}
    assert build(rate_limits=False).rate_limiter is None
    assert build(rate_limits=True).rate_limiter is not None
    mock = httpx.MockTransport(lambda request: httpx.Response(200))  # both a sync and an async one
    build(transport=httpx.HTTPTransport(), async_transport=httpx.AsyncHTTPTransport())
    build(transport=mock, async_transport=mock)
    build(async_transport="httpcore")


@pytest.mark.parametrize(
    ("kw", "error", "field"),
    [
        ({"max_retries": -1}, ConfigError, "max_retries"),
        ({"max_retries": 2.5}, TypeError, "max_retries"),
        ({"backoff_initial": -1}, ConfigError, "backoff_initial"),
        ({"backoff_max": math.nan}, ConfigError, "backoff_max"),
        ({"jitter": 2}, ConfigError, "jitter"),
        ({"retry_statuses": [429]}, ConfigError, "retry_statuses"),
        ({"retry_statuses": frozenset({"429"})}, ConfigError, "retry_statuses"),
    ],
)
def test_a_retry_policy_refuses_what_would_fail_at_the_first_retry(
    kw: dict[str, Any], error: type[Exception], field: str
) -> None:
    with pytest.raises(error, match=f"RetryPolicy.{field}"):
        RetryPolicy(**kw)


def test_a_retry_policy_takes_a_plain_set_and_freezes_it() -> None:
    policy = RetryPolicy(retry_statuses={429, 503})  # type: ignore[arg-type]
    assert policy.retry_statuses == frozenset({429, 503}) and isinstance(policy.retry_statuses, frozenset)


# -- bound credentials: the rules tool input meets -------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "error", "names"),
    [
        ({"api_token": 123}, TypeError, "api_token must be a str"),
        ({"api_token": b"abc"}, TypeError, "api_token must be a str"),
        ({"id_instance": True}, TypeError, "id_instance"),
        ({"id_instance": 1.5}, TypeError, "id_instance"),
        ({"api_token": "ab cd"}, ConfigError, "api_token: must be the instance token"),
        ({"api_token": "a/b"}, ConfigError, "api_token: must be the instance token"),
        ({"api_token": "tok\n"}, ConfigError, "api_token: must be the instance token"),
        ({"api_token": "x" * 257}, ConfigError, "api_token: must be the instance token"),
        ({"id_instance": "12a4"}, ConfigError, "id_instance: must be the instance ID"),
        ({"id_instance": -5}, ConfigError, "id_instance: must be the instance ID"),
        ({"id_instance": "1" * 20}, ConfigError, "id_instance: must be the instance ID"),
    ],
)
def test_bound_credentials_meet_the_rules_of_tool_input(
    kw: dict[str, Any], error: type[Exception], names: str
) -> None:
    with pytest.raises(error, match=names) as info:
        build(**kw)
    token = kw.get("api_token")
    if isinstance(token, str):
        assert token not in str(info.value)


def test_a_bad_token_is_refused_without_being_shown() -> None:
    bad = CANARY + " "
    with pytest.raises(ConfigError) as info:
        build(id_instance="1101000001", api_token=bad)
    assert "api_token" in str(info.value) and CANARY not in str(info.value)
    assert CANARY not in repr(info.value.args)


def test_credentials_from_the_environment_are_judged_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREEN_API_ID_INSTANCE", "1101000001")
    monkeypatch.setenv("GREEN_API_TOKEN_INSTANCE", CANARY + "%2F")
    with pytest.raises(ConfigError, match="env GREEN_API_TOKEN_INSTANCE: must be") as info:
        GreenApiBlock(URL)
    assert CANARY not in str(info.value)
    monkeypatch.setenv("GREEN_API_TOKEN_INSTANCE", CANARY)
    monkeypatch.setenv("GREEN_API_ID_INSTANCE", "instance-1")
    with pytest.raises(ConfigError, match="env GREEN_API_ID_INSTANCE: must be"):
        GreenApiBlock(URL)
    monkeypatch.setenv("GREEN_API_ID_INSTANCE", "")  # set but empty: not bound, as before
    monkeypatch.setenv("GREEN_API_TOKEN_INSTANCE", "")
    assert not GreenApiBlock(URL).bound_credentials


def test_good_credentials_bind_as_before() -> None:
    block = build(id_instance=1101000001, api_token=CANARY)
    assert block.bound_credentials and CANARY not in repr(block)
    assert build(id_instance="1101000001").bound_credentials is False
