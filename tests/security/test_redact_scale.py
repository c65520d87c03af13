"""Redaction at a multi-tenant host's scale: a thousand instances' tokens through one process.

Registering a token used to recompile one regex of every token the process had met (2,000 tokens
took 70 s, quadratic), and calls with unbound credentials kept every token for good. These tests
count what the cost is made of (regex compiles, tokens held) rather than time it: the wall-clock
figure for 10,000 tokens is in bench/ (``python -m bench --only instances``).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from green_api_block import GreenApiBlock, GreenApiError, RetryPolicy, redact
from tests.support.credentials import CANARY

CHAT = "79001234567@c.us"
NO_RETRY = RetryPolicy(max_retries=0)


def _token(i: int, salt: str = "s") -> str:
    # A shared prefix on purpose: the index must not degrade when tokens start alike.
    return f"tok{salt}{i:07d}" + "f" * 40


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every ``re.compile`` made while the test runs (the old registry compiled one per token)."""
    seen: list[str] = []
    real: Callable[..., Any] = re.compile

    def counting(pattern: Any, flags: int = 0) -> Any:
        seen.append(str(pattern)[:40])
        return real(pattern, flags)

    monkeypatch.setattr(re, "compile", counting)
    yield seen


def test_registering_10000_tokens_compiles_nothing_and_masks_each(compiles: list[str]) -> None:
    tokens = [_token(i, "reg") for i in range(10_000)]
    for token in tokens:
        redact.register_secret(token)
    assert compiles == []
    for token in tokens[::997] + tokens[-1:]:
        assert redact.redact(f'{{"message":"bad token {token}"}}') == '{"message":"bad token ***"}'


def test_constructing_10000_blocks_compiles_nothing_and_installs_one_filter(
    compiles: list[str],
) -> None:
    for i in range(10_000):
        GreenApiBlock(
            "http://127.0.0.1:1",
            id_instance=str(7_000_000 + i),
            api_token=_token(i, "blk"),
            credentials_from_env=False,
        )
    assert compiles == []
    for name in ("httpx", "httpcore.http11", "aiohttp.client", "green_api_block"):
        filters = [f for f in logging.getLogger(name).filters if isinstance(f, redact.RedactingFilter)]
        assert len(filters) == 1, name


def _echoing(request: httpx.Request) -> httpx.Response:
    # A 401 whose body echoes the token outside any URL, as error bodies do.
    token = request.url.path.split("/")[3]
    return httpx.Response(401, text=f"Unauthorized: token {token} is not valid")


def test_unbound_calls_mask_their_token_while_in_flight_and_keep_none(compiles: list[str]) -> None:
    block = GreenApiBlock(
        "http://127.0.0.1:1",
        transport=httpx.MockTransport(_echoing),
        credentials_from_env=False,
        retry=NO_RETRY,
        rate_limits=False,
    )
    # The first call imports the tool runtime (whose modules compile their own patterns).
    warm = {"idInstance": "1", "apiTokenInstance": "warm"}
    assert not block.invoke("green_api_get_state_instance", warm)["ok"]
    compiles.clear()
    held = redact.held_secrets()
    for i in range(10_000):
        token = _token(i, "unb")
        args = {"idInstance": str(8_000_000 + i), "apiTokenInstance": token, "chatId": CHAT, "message": "x"}
        with pytest.raises(GreenApiError) as info:
            block.execute("green_api_send_message", args)
        if i % 1000 == 0:
            assert token not in str(info.value) and token not in str(info.value.to_dict())
            assert "token *** is not valid" in str(info.value)
    block.close()
    assert compiles == []
    # A host passing every tenant's token keeps none of them once the calls are over.
    assert redact.held_secrets() == held


def test_async_calls_in_flight_are_masked_and_released() -> None:
    block = GreenApiBlock(
        "http://127.0.0.1:1",
        async_transport=httpx.MockTransport(_echoing),
        credentials_from_env=False,
        retry=NO_RETRY,
        rate_limits=False,
    )
    held = redact.held_secrets()

    async def one(i: int) -> str:
        args = {"idInstance": str(9_000_000 + i), "apiTokenInstance": _token(i, "asy")}
        result = await block.ainvoke("green_api_get_state_instance", args)
        return str(result)

    async def main() -> list[str]:
        try:
            return await asyncio.gather(*(one(i) for i in range(500)))
        finally:
            await block.aclose()

    outputs = asyncio.run(main())
    assert all(_token(i, "asy") not in out and "token ***" in out for i, out in enumerate(outputs))
    assert redact.held_secrets() == held


def test_a_token_in_a_green_api_url_is_masked_by_its_shape() -> None:
    # Never registered, never in flight: the URL's shape is enough.
    secret = "neverRegistered0123456789abcdef0123456789abcdef"
    for text, masked in (
        (
            f"GET https://api.green-api.com/waInstance1101/sendMessage/{secret} failed",
            "GET https://api.green-api.com/waInstance1101/sendMessage/*** failed",
        ),
        (f"/waInstance1/deleteNotification/{secret}/17", "/waInstance1/deleteNotification/***/17"),
        (f"/waInstance1/receiveNotification/{secret}?receiveTimeout=5", None),
        (f'"path":"/waInstance1/getStateInstance/{secret}"', None),
        (f"<a href='/waInstance1/qr/{secret}'>", None),
        (
            f"get /wainstance1/getstateinstance/{secret.lower()} 401",
            "get /wainstance1/getstateinstance/*** 401",
        ),
    ):
        out = redact.redact(text)
        assert secret not in out and secret.lower() not in out
        if masked is not None:
            assert out == masked


def test_held_secrets_are_masked_anywhere_longest_first() -> None:
    redact.register_secret(CANARY)
    longer = CANARY + "EXTRA"
    redact.register_secret(longer)
    assert redact.redact(CANARY * 3) == "*********"
    assert redact.redact(f"a{longer}b") == "a***b"
    assert redact.redact(f"x{CANARY}y") == "x***y"
    with redact.in_flight("inflightTOKENabcdef0123456789"):
        assert redact.redact("it was inflightTOKENabcdef0123456789.") == "it was ***."
    assert redact.redact("it was inflightTOKENabcdef0123456789.") == "it was inflightTOKENabcdef0123456789."


def test_an_error_body_cut_at_the_excerpt_shows_no_part_of_the_token() -> None:
    from green_api_block.status import body_excerpt

    token = "straddle" + "0123456789" * 5
    with redact.in_flight(token):
        excerpt = body_excerpt("x" * 180 + " " + token + " tail")
    assert "straddle" not in excerpt and token[:12] not in excerpt
