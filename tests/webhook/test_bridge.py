"""The aiohttp bridge: the receiver behind an aiohttp route answers as it does behind uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import httpx
import pytest
from aiohttp import web

from green_api_block.webhook import WebhookReceiver
from green_api_block.webhook.bridge import asgi_handler
from tests.support.credentials import CANARY
from tests.webhook.bodies import message
from tests.webhook.conftest import Make, Recorder

PATH = "/hook"


async def _serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def served(make: Make) -> AsyncIterator[tuple[str, WebhookReceiver]]:
    receiver = make(path=PATH, max_body=4096)
    app = web.Application()
    app.router.add_route("*", PATH, asgi_handler(receiver))
    async for url in _serve(app):
        yield url, receiver


async def test_the_receiver_answers_through_aiohttp_as_through_asgi(
    served: tuple[str, WebhookReceiver], recorder: Recorder
) -> None:
    url, receiver = served
    auth = {"Authorization": f"Bearer {CANARY}"}
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        ok = await client.post(PATH, json=message("A1", text="hi"), headers=auth)
        assert ok.status_code == 200 and ok.json() == {"ok": True}
        # One Content-Type (the app's), and the length aiohttp computed from the body.
        assert ok.headers.get_list("content-type") == ["application/json"]
        assert int(ok.headers["content-length"]) == len(ok.content)
        again = await client.post(PATH, json=message("A1", text="hi"), headers=auth)
        assert again.status_code == 200
        assert [e.text for e in recorder.events] == ["hi"], "the duplicate was not handed on"

        assert (await client.post(PATH, json=message("A2"))).status_code == 401
        unauthorized = await client.post(PATH, json=message("A2"), headers={"Authorization": "Bearer x"})
        assert unauthorized.status_code == 401 and unauthorized.headers["www-authenticate"] == "Bearer"
        not_allowed = await client.get(PATH, headers=auth)
        assert not_allowed.status_code == 405 and not_allowed.headers["allow"] == "POST"
        assert (await client.post(PATH, content=b"[]", headers=auth)).status_code == 400

        # A chunked body (no Content-Length) over the limit: counted as it streams, 413.
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(8):
                yield b" " * 1024

        big = await client.post(PATH, content=chunks(), headers={**auth, "Content-Type": "application/json"})
        assert big.status_code == 413

        recorder.fail_next = 1
        failed = await client.post(PATH, json=message("A3"), headers=auth)
        assert failed.status_code == 500 and CANARY not in failed.text
    assert receiver.counters.accepted == 1 and receiver.counters.duplicates == 1
    assert receiver.counters.unauthorized == 2 and receiver.counters.failed == 1


async def test_an_app_that_does_not_answer_gets_a_500() -> None:
    async def silent(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "POST"
        assert (b"x-probe", b"1") in scope["headers"]  # lower-case names, as ASGI wants
        first = await receive()
        assert first["type"] == "http.request" and first["body"] == b"abc"
        assert (await receive())["more_body"] is False
        assert (await receive())["type"] == "http.disconnect"

    app = web.Application()
    app.router.add_route("*", PATH, asgi_handler(silent))
    async for url in _serve(app):
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:
            answer = await client.post(PATH, content=b"abc", headers={"X-Probe": "1"})
            assert answer.status_code == 500
