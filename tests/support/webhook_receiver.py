"""A scriptable webhook receiver on 127.0.0.1 for the sandbox's push tests, and a bounded wait.

Served by the package's own ``BackgroundServer`` (aiohttp in a thread), so it stops as cleanly as
the sandbox does. Each POST takes the next scripted answer (the last one repeats); ``hold`` makes
the next answers late, for "no answer within webhook_timeout".
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from green_api_block.background import BackgroundServer

__all__ = ["Push", "Receiver", "free_port", "wait_until"]


def wait_until(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll ``check`` until it holds; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Push:
    path: str
    headers: dict[str, str]
    raw: bytes
    at: float
    client_port: int | None  # the sender's port: one for all pushes means one keep-alive connection

    @property
    def body(self) -> Any:
        return json.loads(self.raw)


class Receiver:
    """``with Receiver() as r:`` serves ``r.url``; ``r.pushes`` is every POST that arrived."""

    def __init__(self, port: int = 0) -> None:
        self._lock = threading.Lock()
        self._statuses: list[int] = [200]
        self._holds: list[float] = []
        self.pushes: list[Push] = []
        self._server = BackgroundServer(
            self._app, port=port, name="green-api-test-receiver", shutdown_timeout=0.2
        )

    def script(self, *statuses: int) -> None:
        with self._lock:
            self._statuses = list(statuses)

    def hold(self, *seconds: float) -> None:
        """Answer the next len(seconds) pushes that late."""
        with self._lock:
            self._holds = list(seconds)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}/hook"

    def bodies(self) -> list[Any]:
        with self._lock:
            return [p.body for p in self.pushes]

    def count(self) -> int:
        with self._lock:
            return len(self.pushes)

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        peer = request.transport.get_extra_info("peername") if request.transport is not None else None
        port = peer[1] if isinstance(peer, tuple) and len(peer) >= 2 else None
        with self._lock:
            self.pushes.append(Push(request.path, dict(request.headers), raw, time.monotonic(), port))
            status = self._statuses.pop(0) if len(self._statuses) > 1 else self._statuses[0]
            hold = self._holds.pop(0) if self._holds else 0.0
        if hold:
            await asyncio.sleep(hold)
        return web.Response(status=status, text="ok")

    def __enter__(self) -> Receiver:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.close()
