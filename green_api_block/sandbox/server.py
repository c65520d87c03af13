"""``Sandbox``: the emulator served over real HTTP from a background thread.

Everything a test calls on a sandbox (instances, customers, faults) is the
:class:`~.emulator.Emulator`'s; this module only adds the server: the Green API routes and the
control endpoints on one aiohttp app, served on 127.0.0.1 and a free port by default. aiohttp
sets TCP_NODELAY on every accepted connection and writes each of our responses in one buffer, so
keep-alive clients never sit out Nagle/delayed-ACK stalls; it also serves hundreds of concurrent
keep-alive clients and long polls without a thread each.

Every emulator method is thread-safe and never waits on the server loop, so it can be called
from a test, from another thread or from the control HTTP endpoints (which run on that loop).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from ..background import DEFAULT_IDLE_TIMEOUT, BackgroundServer
from ..hostcheck import HostPolicy
from .api import GreenApiHandler
from .control import add_control_routes, control_guard
from .customers import InstanceRef
from .defaults import DEFAULT_SANDBOX_SETTINGS
from .emulator import Emulator
from .errors import SandboxError
from .push import DEFAULT_WEBHOOK_RETRY_DELAY, DEFAULT_WEBHOOK_TIMEOUT, Pusher

__all__ = ["DEFAULT_SANDBOX_SETTINGS", "InstanceRef", "Sandbox"]

#: 1 MiB matches aiohttp's default; a 20000-character message is far below it.
_MAX_BODY = 1024**2
#: A deep backlog: a burst of hundreds of connects must not be dropped and SYN-retried (a
#: one-second stall per retry) before the loop gets to accept them.
_BACKLOG = 1024
_NOT_RUNNING = "the sandbox is not running; call start() or use `with Sandbox() as sb:`"


class Sandbox(Emulator):
    """A local Green API over HTTP. ``with Sandbox() as sb:`` starts it and stops it cleanly.

    Options (all keyword-only):

    * ``host``/``port``: where to listen (127.0.0.1 and a free port by default).
    * ``rate_limits``: True = REFERENCE.md §9.3 per-method limits answered with 429; False = none;
      a mapping overrides single methods (``{"getStateInstance": None}`` lifts one limit).
    * ``retry_after_header``: add ``Retry-After`` to rate-limit 429s (Green API documents none).
    * ``quota``: new instances get the Developer plan (3 chats a month, then 466).
    * ``max_receive_wait``: cap, in seconds, on how long ``receiveNotification`` holds an empty
      poll. None (default) is faithful: the full ``receiveTimeout`` (5..60 s). Tests set it low.
    * ``default_settings``: settings every new instance starts with (see DEFAULT_SANDBOX_SETTINGS).
    * ``allowed_hosts``: more names the control API (``/__sandbox__/``, which lists every token)
      answers to, besides the loopback names and the bind address (e.g. a container's name).
    * ``idle_timeout``: a connection that sends no complete request head for this long (after
      connecting or after its last answer) is closed.
    * ``shutdown_timeout``: how long ``close()`` lets in-flight requests finish; ``close()``
      returns within about two seconds more, however loaded the machine.
    * ``clock``/``monotonic``: Unix time for timestamps and quotas, and the clock of the rate
      limiter and the 24 h expiry (inject both to test time-dependent behaviour without waiting).
    * ``ssl_context``: serve https with this server-side context (its certificate must name the
      host); the URLs become ``https://``. For testing a client's TLS and proxy (CONNECT) paths.
    * ``webhook_timeout``/``webhook_retry_delay``: push delivery. While an instance's settings hold
      a ``webhookUrl``, its queue is POSTed there head-of-line (``Authorization: Bearer
      <webhookUrlToken>`` when set); only a 200 removes an item, anything else, a connection
      error or no answer within ``webhook_timeout`` seconds means ``webhook_retry_delay``
      seconds' pause and the same item again. The defaults are Green API's (180 s and 60 s);
      tests set them low. Both must be positive. ``push_attempts(inst)`` lists what was tried.
    * ``allow_remote_webhooks``: push to any host. By default the sandbox, being offline, pushes
      only to loopback (127.0.0.0/8, ::1, ``localhost``): a remote ``webhookUrl`` is saved, but
      every attempt is journaled as ``"refused: not loopback"`` (and retried), with one warning.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: bool | Mapping[str, float | None] = True,
        retry_after_header: bool = False,
        quota: bool = False,
        max_receive_wait: float | None = None,
        default_settings: Mapping[str, Any] | None = None,
        allowed_hosts: Iterable[str] = (),
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        shutdown_timeout: float = 1.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        ssl_context: ssl.SSLContext | None = None,
        webhook_timeout: float = DEFAULT_WEBHOOK_TIMEOUT,
        webhook_retry_delay: float = DEFAULT_WEBHOOK_RETRY_DELAY,
        allow_remote_webhooks: bool = False,
    ) -> None:
        # Built first: it validates its options before anything else is set up.
        pusher = Pusher(
            self,
            timeout=webhook_timeout,
            retry_delay=webhook_retry_delay,
            allow_remote=allow_remote_webhooks,
        )
        super().__init__(
            rate_limits=rate_limits,
            quota=quota,
            default_settings=default_settings,
            clock=clock,
            monotonic=monotonic,
        )
        self._host = host
        self._scheme = "http" if ssl_context is None else "https"
        self._extra_hosts = tuple(allowed_hosts)
        #: Set once the port is bound (the policy names it); until then the control API refuses all.
        self._policy: HostPolicy | None = None
        self._pusher = pusher
        self._handler = GreenApiHandler(
            self, max_receive_wait=max_receive_wait, retry_after_header=retry_after_header
        )
        self._server = BackgroundServer(
            self._make_app,
            host=host,
            port=port,
            name="green-api-sandbox",
            shutdown_timeout=shutdown_timeout,
            backlog=_BACKLOG,
            idle_timeout=idle_timeout,
            on_bound=self._on_bound,
            ssl_context=ssl_context,
        )

    def _on_bound(self, port: int) -> None:
        host = f"[{self._host}]" if ":" in self._host else self._host
        self.backend.base_url = f"{self._scheme}://{host}:{port}"
        self._policy = HostPolicy.for_bind(
            self._host, port, extra_hosts=self._extra_hosts, scheme=self._scheme
        )

    def _make_app(self) -> web.Application:
        app = web.Application(client_max_size=_MAX_BODY, middlewares=[control_guard(lambda: self._policy)])
        add_control_routes(app, self)
        self._pusher.install(app)
        self._handler.install(app)  # the catch-all: after the control routes
        return app

    def __repr__(self) -> str:
        return f"<Sandbox {self.url if self.running else 'not running'}>"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return self._server.running

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        port = self._server.port
        if port is None:
            raise SandboxError(_NOT_RUNNING)
        return port

    @property
    def url(self) -> str:
        """The base URL, used as both apiUrl and mediaUrl, e.g. ``http://127.0.0.1:40213``."""
        if self._server.port is None:
            raise SandboxError(_NOT_RUNNING)
        return self.backend.base_url

    def start(self) -> Self:
        """Start serving; returns when the port is bound (or raises what prevented it)."""
        if self._server.started:
            raise SandboxError("a Sandbox can be started once")
        self._server.start()
        return self

    def close(self) -> None:
        """Stop serving: release long polls, close every connection and the socket, join the thread."""
        self._server.close()
