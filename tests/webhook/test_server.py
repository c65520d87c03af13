"""The receiver on a real uvicorn on 127.0.0.1, and mounted in a Starlette app at a sub-path."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from green_api_block.webhook import WebhookReceiver
from tests.support.credentials import CANARY

from .bodies import message
from .conftest import Recorder, client_for, until

uvicorn = pytest.importorskip("uvicorn")


async def test_uvicorn_serves_it_with_lifespan_and_keep_alive(recorder: Recorder) -> None:
    app = WebhookReceiver(recorder, token=CANARY)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="on", log_level="warning", loop="asyncio", http="auto")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await until(lambda: server.started, "uvicorn started")
        headers = {"Authorization": f"Bearer {CANARY}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers) as c:
            codes = [(await c.post("/", json=message(str(i)))).status_code for i in range(20)]
            assert (await c.post("/", json=message("0"))).status_code == 200  # a duplicate
            assert (
                await c.post("/", json=message(), headers={"Authorization": "Basic x"})
            ).status_code == 401
        assert codes == [200] * 20
        assert len(recorder.events) == 20
    finally:
        server.should_exit = True
        await task
        sock.close()


async def test_mounted_in_starlette_at_a_sub_path(recorder: Recorder) -> None:
    starlette_routing = pytest.importorskip("starlette.routing")
    from starlette.applications import Starlette

    receiver = WebhookReceiver(recorder, token=CANARY, path="/")
    outer = Starlette(routes=[starlette_routing.Mount("/green-api", app=receiver)])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(outer),
        base_url="http://app",
        headers={"Authorization": f"Bearer {CANARY}"},
    ) as c:
        assert (await c.post("/green-api/", json=message())).status_code == 200
        assert (await c.post("/green-api/other", json=message("B"))).status_code == 404
        assert (await c.post("/elsewhere", json=message("C"))).status_code == 404
    assert [e.idMessage for e in recorder.events] == ["A1"]


async def test_unmounted_receivers_answer_every_path(recorder: Recorder) -> None:
    async with client_for(WebhookReceiver(recorder, token=CANARY)) as c:
        assert (await c.post("/any/where", json=message())).status_code == 200
