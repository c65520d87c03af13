"""``BackgroundServer``: one app served from a thread, with a start-up handshake and a bounded close."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import pytest
from aiohttp import web

from green_api_block.background import BackgroundServer

NAME = "green-api-test-server"


def _threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == NAME and t.is_alive()]


def _hello_app() -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hi")

    app = web.Application()
    app.router.add_get("/", hello)
    return app


def test_serves_until_closed_and_leaves_no_thread() -> None:
    server = BackgroundServer(_hello_app, name=NAME)
    assert server.port is None and not server.running and not server.started
    server.start()
    assert server.running and server.port is not None
    assert httpx.get(f"http://127.0.0.1:{server.port}/").text == "hi"
    server.close()
    assert not server.running and not _threads()
    with pytest.raises(RuntimeError, match="started once"):
        server.start()
    server.close()  # idempotent


def test_on_bound_runs_before_the_first_request() -> None:
    seen: list[str] = []

    def make_app() -> web.Application:
        async def page(request: web.Request) -> web.Response:
            return web.Response(text=",".join(seen))

        app = web.Application()
        app.router.add_get("/", page)
        return app

    server = BackgroundServer(make_app, name=NAME, on_bound=lambda port: seen.append(f"bound:{port}"))
    server.start()
    try:
        assert httpx.get(f"http://127.0.0.1:{server.port}/").text == f"bound:{server.port}"
    finally:
        server.close()


def test_a_port_in_use_raises_from_start_and_leaves_no_thread() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = BackgroundServer(_hello_app, port=taken.getsockname()[1], name=NAME)
        with pytest.raises(OSError):
            server.start()
    assert not _threads() and not server.running


def test_a_failing_on_bound_raises_from_start_and_closes_the_port() -> None:
    ports: list[int] = []

    def fail(port: int) -> None:
        ports.append(port)
        raise ValueError("no")

    server = BackgroundServer(_hello_app, name=NAME, on_bound=fail)
    with pytest.raises(ValueError, match="no"):
        server.start()
    assert not _threads()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{ports[0]}/")


def test_close_is_bounded_by_the_shutdown_timeout_while_a_request_hangs() -> None:
    arrived = threading.Event()

    def make_app() -> web.Application:
        async def hang(request: web.Request) -> web.Response:
            arrived.set()
            await asyncio.sleep(3600)
            return web.Response()

        app = web.Application()
        app.router.add_get("/", hang)
        return app

    server = BackgroundServer(make_app, name=NAME, shutdown_timeout=0.2)
    server.start()
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            httpx.get(f"http://127.0.0.1:{server.port}/", timeout=30)
        except httpx.HTTPError as exc:
            outcome.append(exc)

    client = threading.Thread(target=call, daemon=True)
    client.start()
    assert arrived.wait(10)
    started = time.monotonic()
    server.close()
    # The runner cancels the hanging handler after shutdown_timeout and the join waits at most
    # shutdown_timeout + 2 s: a generous failure bound, far below the hour the handler asks for.
    assert time.monotonic() - started < 6
    assert not _threads()
    client.join(10)
    assert outcome, "the hanging request was answered instead of cut off"


def test_rejects_a_negative_shutdown_timeout_at_construction() -> None:
    with pytest.raises(ValueError, match="shutdown_timeout"):
        BackgroundServer(_hello_app, shutdown_timeout=-1)
