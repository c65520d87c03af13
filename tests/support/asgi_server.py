"""An ASGI app served by a real uvicorn on 127.0.0.1 from a background thread, for sync tests.

Bound to a port the test may choose in advance (``free_port``), so that "the receiver is down,
then comes back on the same URL" can be staged. Stops within a bounded time and joins its thread.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any, Self

import uvicorn

from .webhook_receiver import wait_until

__all__ = ["AsgiServer"]


class AsgiServer:
    def __init__(self, app: Any, *, port: int = 0) -> None:
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(app, lifespan="on", log_level="warning", loop="asyncio", http="auto")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="green-api-test-uvicorn", daemon=True)
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        try:
            self.loop.run_until_complete(self._server.serve(sockets=[self._sock]))
        finally:
            self.loop.close()

    def start(self) -> Self:
        self._thread.start()
        wait_until(lambda: self._server.started, "uvicorn to start")
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
        assert not self._thread.is_alive(), "uvicorn did not stop within 10 s"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
