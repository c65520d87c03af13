"""The transports under the block's httpx clients, and what they tell about the wire.

Two jobs, both done just above the transport that carries the bytes:

1. The token joins the URL only here. httpx's own request (what its log line, its ``repr`` and
   any instrumentation see) keeps the masked URL; the request handed down carries the real one.
2. Each attempt records whether its request may have reached the server. A send is retried only
   if it provably did not, and that is decided from what the connection layer reported, never
   from the exception's class: over aiohttp a POST that the server read and then dropped
   surfaces as ``httpx.ConnectTimeout``.

   - httpcore (the default sync transport, and the optional async one): the ``trace`` extension
     reports ``*.send_request_headers.started`` before the first request byte is written.
   - aiohttp: a ``TraceConfig`` reports that a connection was created or reused for the request,
     which happens before any byte is written; a context variable ties it to the attempt.
   - Any other transport (a MockTransport, a user's own): nothing is known, so every attempt is
     taken as possibly sent.
"""

from __future__ import annotations

import contextvars
from types import SimpleNamespace
from typing import Any

import httpx

from .urls import TOKEN_EXTENSION

__all__ = [
    "ATTEMPT_EXTENSION",
    "AsyncWireTransport",
    "Attempt",
    "SyncWireTransport",
    "make_aiohttp_transport",
]

ATTEMPT_EXTENSION = "green_api_attempt"


class Attempt:
    """What one try of a request did on the wire."""

    __slots__ = ("may_have_sent",)

    def __init__(self, *, tracked: bool) -> None:
        # Untracked transports report nothing, so their attempts count as possibly sent.
        self.may_have_sent = not tracked

    def _mark_sync(self, name: str, info: dict[str, Any]) -> None:
        if name.endswith("send_request_headers.started"):
            self.may_have_sent = True

    async def _mark_async(self, name: str, info: dict[str, Any]) -> None:
        if name.endswith("send_request_headers.started"):
            self.may_have_sent = True


_current_attempt: contextvars.ContextVar[Attempt | None] = contextvars.ContextVar(
    "green_api_current_attempt", default=None
)


def _unmask(request: httpx.Request, trace: Any | None) -> httpx.Request:
    real_target = request.extensions.get(TOKEN_EXTENSION)
    if real_target is None:
        return request
    extensions = {
        k: v for k, v in request.extensions.items() if k not in (TOKEN_EXTENSION, ATTEMPT_EXTENSION)
    }
    if trace is not None:
        extensions["trace"] = trace
    return httpx.Request(
        request.method,
        request.url.copy_with(raw_path=real_target),
        headers=request.headers,
        stream=request.stream,
        extensions=extensions,
    )


class SyncWireTransport(httpx.BaseTransport):
    """Wraps a sync transport: puts the token in, reports whether the request went out."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.tracks_wire = isinstance(inner, httpx.HTTPTransport)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        attempt: Attempt | None = request.extensions.get(ATTEMPT_EXTENSION)
        trace = attempt._mark_sync if (attempt is not None and self.tracks_wire) else None
        return self.inner.handle_request(_unmask(request, trace))

    def close(self) -> None:
        self.inner.close()


class AsyncWireTransport(httpx.AsyncBaseTransport):
    """Async twin of :class:`SyncWireTransport`."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self._httpcore = isinstance(inner, httpx.AsyncHTTPTransport)
        self.tracks_wire = self._httpcore or isinstance(inner, _TracedAiohttpTransport)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        attempt: Attempt | None = request.extensions.get(ATTEMPT_EXTENSION)
        trace = attempt._mark_async if (attempt is not None and self._httpcore) else None
        reset = _current_attempt.set(attempt)
        try:
            return await self.inner.handle_async_request(_unmask(request, trace))
        finally:
            _current_attempt.reset(reset)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def _on_connection(session: Any, ctx: SimpleNamespace, params: Any) -> None:
    attempt = _current_attempt.get()
    if attempt is not None:
        attempt.may_have_sent = True


def _import_aiohttp_transport() -> Any:
    from httpx_aiohttp import AiohttpTransport  # imported late: aiohttp costs ~100 ms to import

    return AiohttpTransport


class _TracedAiohttpTransport(httpx.AsyncBaseTransport):
    """httpx-aiohttp's transport over a session whose TraceConfig reports connection use."""

    def __init__(self, limits: httpx.Limits) -> None:
        self._limits = limits
        self._inner: httpx.AsyncBaseTransport | None = None

    def _session_factory(self) -> Any:
        import aiohttp

        trace = aiohttp.TraceConfig()
        # Both fire after a connection is in hand and before any request byte is written.
        trace.on_connection_create_end.append(_on_connection)
        trace.on_connection_reuseconn.append(_on_connection)
        connector = aiohttp.TCPConnector(
            limit=self._limits.max_connections or 0,
            keepalive_timeout=self._limits.keepalive_expiry or 5.0,
        )
        return aiohttp.ClientSession(connector=connector, trace_configs=[trace])

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._inner is None:
            self._inner = _import_aiohttp_transport()(client=self._session_factory)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()


def make_aiohttp_transport(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    return _TracedAiohttpTransport(limits)
