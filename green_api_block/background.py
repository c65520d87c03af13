"""``BackgroundServer``: serve an aiohttp application from a daemon thread with its own event loop.

The sandbox and the preview both need "run this app on 127.0.0.1 while my caller stays
synchronous": one helper owns the thread, the loop and the ``AppRunner``, so that start-up
errors, shutdown order and the bounded join are written once. What an app must release at
shutdown it registers on the app itself (``on_shutdown`` runs before in-flight requests are
awaited, ``on_cleanup`` after), which keeps this class free of any one app's business.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
from collections.abc import Callable
from typing import Any

from aiohttp import web

__all__ = ["DEFAULT_IDLE_TIMEOUT", "BackgroundServer"]

_log = logging.getLogger(__name__)

#: What ``close()`` adds to the app's shutdown timeout before it gives up on the thread: enough for
#: the runner's own cleanup on a loaded machine, short enough that a caller's own budget holds.
_JOIN_MARGIN = 2.0

#: How long a connection may go without sending a complete request head (from connecting, or
#: from its last answer) before it is closed: aiohttp's keep-alive timer, which it also arms at
#: connect time, covers both the header read and the idle keep-alive. Its default (an hour) lets
#: silent connections pile up. Longer than the block's own keep-alive expiry (30 s), so the server
#: never closes a connection a client is about to reuse (a send racing that close would end as
#: outcome_unknown).
DEFAULT_IDLE_TIMEOUT = 60.0


class BackgroundServer:
    """One aiohttp app served on ``host:port`` (a free port for 0) from a daemon thread.

    ``make_app`` is called on the server's loop, so whatever the app creates binds to that loop.
    ``on_bound(port)`` runs once the port is bound and before the first request is served, for
    whatever depends on the port (base URLs, the Host allow-list).
    ``idle_timeout`` bounds how long a connection may stay open without a complete request head.
    ``shutdown_timeout`` is how long ``close()`` lets in-flight requests finish; ``close()`` then
    waits at most ``shutdown_timeout + 2`` seconds for the thread.
    ``ssl_context``: serve https with it (a server-side context holding the certificate).
    """

    def __init__(
        self,
        make_app: Callable[[], web.Application],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "green-api-server",
        shutdown_timeout: float = 1.0,
        backlog: int = 128,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        on_bound: Callable[[int], None] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if shutdown_timeout < 0:
            raise ValueError("shutdown_timeout must not be negative")
        if not idle_timeout > 0:
            raise ValueError("idle_timeout must be positive")
        self._make_app = make_app
        self._host = host
        self._requested_port = port
        self._name = name
        self._shutdown_timeout = shutdown_timeout
        self._backlog = backlog
        self._idle_timeout = idle_timeout
        self._on_bound = on_bound
        self._ssl_context = ssl_context
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._port: int | None = None
        self._closed = False

    @property
    def running(self) -> bool:
        return self._port is not None and not self._closed

    @property
    def started(self) -> bool:
        """True once ``start()`` was called, whether it succeeded or the server was closed since."""
        return self._thread is not None or self._closed

    @property
    def port(self) -> int | None:
        """The bound port once started, else None."""
        return self._port

    def start(self) -> None:
        """Start serving; returns once the port is bound, or raises what prevented it."""
        if self.started:
            raise RuntimeError(f"{self._name}: a server can be started once")
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            self._thread.join()
            self._thread = None
            self._closed = True
            raise self._startup_error

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> bool:
        """Run ``callback(*args)`` on the server's loop, from any thread; False when not serving."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return False
        try:
            loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop closed between the check and the call
            return False
        return True

    def close(self) -> None:
        """Stop serving (in-flight requests get ``shutdown_timeout``) and join the thread, bounded."""
        thread, stop = self._thread, self._stop
        self._closed = True
        if thread is None:
            return
        if stop is not None:
            self.call_soon(stop.set)
        thread.join(timeout=self._shutdown_timeout + _JOIN_MARGIN)
        if thread.is_alive():
            # A daemon thread cannot outlive the process; saying so beats blocking the caller.
            _log.warning("%s: thread still stopping after %.1f s", self._name, self._shutdown_timeout)
        self._thread = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            runner = loop.run_until_complete(self._serve())  # cleans up after itself on failure
        except BaseException as exc:
            self._startup_error = exc
            loop.close()
            self._ready.set()
            return
        self._loop = loop
        self._ready.set()
        try:
            assert self._stop is not None
            loop.run_until_complete(self._stop.wait())
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            self._loop = None
            loop.close()

    async def _serve(self) -> web.AppRunner:
        self._stop = asyncio.Event()
        runner = web.AppRunner(
            self._make_app(),
            access_log=None,
            handle_signals=False,
            shutdown_timeout=self._shutdown_timeout,
            keepalive_timeout=self._idle_timeout,
        )
        await runner.setup()
        site = web.TCPSite(
            runner, self._host, self._requested_port, backlog=self._backlog, ssl_context=self._ssl_context
        )
        try:
            await site.start()
        except BaseException:
            with contextlib.suppress(Exception):
                await runner.cleanup()
            raise
        port = int(runner.addresses[0][1])
        if self._on_bound is not None:
            try:
                self._on_bound(port)  # no await since site.start(): no request was served yet
            except BaseException:
                await runner.cleanup()
                raise
        self._port = port
        return runner
