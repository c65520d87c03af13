"""The wires under the block's sessions, and what they tell about each attempt.

A *wire* sends one request and hands back the whole answer as a :class:`WireResponse` (status,
headers, body). Three jobs are done here and nowhere else:

1. The token joins the URL only here. The sessions, the errors and the log lines hold a
   :class:`~green_api_block.urls.Target`, whose ``display`` URL has the token masked; a wire reads
   the real URL from it only to build the one request object handed to the network library.
2. Each attempt records whether its request may have reached the server. A send is retried only
   if it provably did not, and that is decided from what the connection layer reported, never
   from the exception's class: over aiohttp a POST that the server read and then dropped
   surfaces as ``httpx.ConnectTimeout``.

   - httpcore (``httpx.HTTPTransport``, the default sync transport, and the optional async one):
     the ``trace`` extension reports ``*.send_request_headers.started`` before the first request
     byte is written.
   - aiohttp (the default async wire): the connector marks the attempt once a connection was
     created or taken from the pool for it, which happens before any byte is written; a context
     variable ties the connection to the attempt.
   - Any other transport (a MockTransport, a user's own): nothing is known, so every attempt is
     taken as possibly sent.
3. Every failure to get an answer comes out as an ``httpx.RequestError`` (aiohttp's errors are
   mapped the way httpx-aiohttp maps them; any other aiohttp client error becomes
   ``httpx.RemoteProtocolError``), so the sessions map one family of exceptions.

Why no ``httpx.Client`` in between: measured with ``bench/`` (``python -m bench``), its
per-request machinery (a second URL parse for the real URL, the cookie jar, the auth and redirect
generators, the response stream wrappers) cost several times the block's own work and more than
a loopback round trip. The wires drive an httpx transport directly (``handle_request``), which is
the interface httpx's own client uses, so any httpx transport still works; the default async wire
drives aiohttp directly, since converting each request to httpx's types and back only to hand it
to aiohttp cost about as much again (see the README's benchmark section).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from .urls import Target

if TYPE_CHECKING:
    import ssl

    from .network import ProxyURL

__all__ = [
    "AiohttpWire",
    "AsyncHttpxWire",
    "AsyncWire",
    "Attempt",
    "SyncHttpxWire",
    "TimeoutSpec",
    "WireResponse",
]

#: httpx's ``timeout`` request extension: seconds for connect, read, write and pool.
TimeoutSpec = Mapping[str, float | None]


class Attempt:
    """What one try of a request did on the wire."""

    __slots__ = ("may_have_sent",)

    def __init__(self, *, tracked: bool) -> None:
        # Untracked transports report nothing, so their attempts count as possibly sent.
        self.may_have_sent = not tracked

    def _mark_sync(self, name: str, info: dict[str, Any]) -> None:
        if name.endswith("send_request_headers.started") and not _is_connect(info):
            self.may_have_sent = True

    async def _mark_async(self, name: str, info: dict[str, Any]) -> None:
        if name.endswith("send_request_headers.started") and not _is_connect(info):
            self.may_have_sent = True


def _is_connect(info: dict[str, Any]) -> bool:
    """True for the CONNECT httpcore sends to a proxy (with our trace) before the request itself.

    The tunnel request goes to the proxy, not to Green API: a proxy that refuses it (407, 502)
    never saw the call, which may then be retried like a refused connection.
    """
    request = info.get("request")
    return getattr(request, "method", None) == b"CONNECT"


class WireResponse:
    """A whole answer, read and closed: no library object (and so no real URL) in it."""

    __slots__ = ("_describe", "content", "headers", "status_code")

    def __init__(
        self,
        status_code: int,
        headers: Mapping[str, str],
        content: bytes,
        describe: Callable[[], tuple[str, str]] | None = None,
    ) -> None:
        self.status_code = status_code
        self.headers = headers  # case-insensitive (httpx.Headers or aiohttp's CIMultiDictProxy)
        self.content = content
        # (http_version, reason_phrase), asked for only by the debug log line: httpx computes the
        # reason phrase on each access, which costs more than the rest of this object.
        self._describe = describe

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def describe(self) -> tuple[str, str]:
        """``(http_version, reason_phrase)``, e.g. ``("HTTP/1.1", "OK")``."""
        return self._describe() if self._describe is not None else ("HTTP/1.1", "")


def _httpx_url(real_url: str) -> httpx.URL:
    return httpx.URL(real_url)


class _RequestFactory:
    """Builds the ``httpx.Request`` with the real URL that goes down to an httpx transport.

    Made as ``httpx.Request(..., stream=...)`` from headers prepared once per target (``Host``
    first and ``Content-Length`` last, where httpx itself puts them), which skips httpx's header
    normalisation and defaulting: those took about 30 µs a request, more than all the rest of
    the block's work for a call.
    """

    __slots__ = ("_defaults",)

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._defaults = httpx.Headers(headers).raw

    def _headers_for(self, url: httpx.URL) -> httpx.Headers:
        return httpx.Headers([(b"Host", url.netloc), *self._defaults])

    def build(
        self,
        method: str,
        target: Target,
        content: bytes | None,
        timeout: TimeoutSpec,
        trace: Any | None,
    ) -> httpx.Request:
        url = target.parsed("httpx", _httpx_url)
        headers = target.parsed("httpx-headers", lambda _: self._headers_for(url))
        extensions: dict[str, Any] = {"timeout": timeout}
        if trace is not None:
            extensions["trace"] = trace
        # httpx.Request copies the headers it is given: the length goes on its own copy.
        request = httpx.Request(
            method, url, headers=headers, stream=httpx.ByteStream(content or b""), extensions=extensions
        )
        if content is not None:
            request.headers["Content-Length"] = str(len(content))
        elif method == "POST":
            request.headers["Content-Length"] = "0"
        request.read()  # sets .content, as for any request built with content=
        return request


class SyncHttpxWire:
    """Any sync httpx transport, driven directly (``httpx.HTTPTransport`` by default)."""

    def __init__(self, transport: httpx.BaseTransport, headers: Mapping[str, str]) -> None:
        self.transport = transport
        self.tracks_wire = isinstance(transport, httpx.HTTPTransport)
        self._requests = _RequestFactory(headers)

    def send(
        self, method: str, target: Target, content: bytes | None, timeout: TimeoutSpec, attempt: Attempt
    ) -> WireResponse:
        trace = attempt._mark_sync if self.tracks_wire else None
        response = self.transport.handle_request(
            self._requests.build(method, target, content, timeout, trace)
        )
        try:
            body = response.read()
        finally:
            response.close()
        return WireResponse(
            response.status_code,
            response.headers,
            body,
            lambda: (response.http_version, response.reason_phrase),
        )

    def close(self) -> None:
        self.transport.close()


class AsyncWire:
    """What the async session needs from a wire (both async wires below are one)."""

    tracks_wire: bool

    async def send(
        self, method: str, target: Target, content: bytes | None, timeout: TimeoutSpec, attempt: Attempt
    ) -> WireResponse:
        raise NotImplementedError

    async def aclose(self) -> None:
        raise NotImplementedError


class AsyncHttpxWire(AsyncWire):
    """Any async httpx transport, driven directly (``httpx.AsyncHTTPTransport``, a mock, ...)."""

    def __init__(self, transport: httpx.AsyncBaseTransport, headers: Mapping[str, str]) -> None:
        self.transport = transport
        self.tracks_wire = isinstance(transport, httpx.AsyncHTTPTransport)
        self._requests = _RequestFactory(headers)

    async def send(
        self, method: str, target: Target, content: bytes | None, timeout: TimeoutSpec, attempt: Attempt
    ) -> WireResponse:
        trace = attempt._mark_async if self.tracks_wire else None
        response = await self.transport.handle_async_request(
            self._requests.build(method, target, content, timeout, trace)
        )
        try:
            body = await response.aread()
        finally:
            await response.aclose()
        return WireResponse(
            response.status_code,
            response.headers,
            body,
            lambda: (response.http_version, response.reason_phrase),
        )

    async def aclose(self) -> None:
        await self.transport.aclose()


# ------------------------------------------------------------------------------------------------
# aiohttp

_current_attempt: contextvars.ContextVar[Attempt | None] = contextvars.ContextVar(
    "green_api_current_attempt", default=None
)

_aiohttp_parts: dict[str, Any] = {}


def _aiohttp() -> dict[str, Any]:
    """aiohttp and what is built on it, imported on first use (aiohttp costs ~100 ms to import)."""
    if not _aiohttp_parts:
        import aiohttp
        import yarl
        from httpx_aiohttp.transport import map_aiohttp_exceptions

        class TrackingConnector(aiohttp.TCPConnector):
            """Marks the current attempt as possibly sent once it holds a connection.

            ``connect`` returns a new or a pooled connection, before any request byte is written;
            a failure to get one (refused, pool timeout) leaves the attempt unmarked. Through a
            proxy it returns once the CONNECT tunnel is up, so a refused tunnel is unmarked too.
            """

            async def connect(self, req: Any, traces: Any, timeout: Any) -> Any:
                connection = await super().connect(req, traces, timeout)
                attempt = _current_attempt.get()
                if attempt is not None:
                    attempt.may_have_sent = True
                return connection

        _aiohttp_parts.update(
            aiohttp=aiohttp,
            yarl=yarl,
            connector=TrackingConnector,
            url=lambda real_url: yarl.URL(real_url, encoded=True),
            map_errors=map_aiohttp_exceptions,
        )
    return _aiohttp_parts


def _mapped_aiohttp_error(exc: Exception, parts: dict[str, Any]) -> Exception:
    """The httpx error for an aiohttp one: httpx-aiohttp's table, then RemoteProtocolError."""
    try:
        with parts["map_errors"]():
            raise exc
    except httpx.RequestError as mapped:
        return mapped
    except Exception:
        pass
    if isinstance(exc, TimeoutError):  # aiohttp's own timeouts are mapped above; this is a bare one
        return httpx.TimeoutException(f"TimeoutError: {exc}")
    if isinstance(exc, parts["aiohttp"].ClientError):
        # A broken answer (bad status line, bad header, bad body encoding): the server got the
        # request. ClientResponseError's message names the URL; the session masks the token.
        return httpx.RemoteProtocolError(f"{type(exc).__name__}: {exc}")
    return exc


class AiohttpWire(AsyncWire):
    """aiohttp driven directly: one ``ClientSession`` (made on first use, in the running loop)."""

    tracks_wire = True

    def __init__(
        self,
        limits: httpx.Limits,
        headers: Mapping[str, str],
        *,
        proxy: ProxyURL | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._limits = limits
        self._headers = dict(headers)
        # aiohttp takes the proxy per request, credentials in its URL: it turns them into the
        # Proxy-Authorization of the CONNECT (https) or of the forwarded request (http). Its
        # proxy_headers would not do for the latter, and aiohttp writes into that dict.
        self._proxy_url = None if proxy is None else proxy.url
        self._proxy: Any = None  # parsed once, in _open (yarl comes with aiohttp)
        self._ssl: ssl.SSLContext | bool = True if ssl_context is None else ssl_context
        self._session: Any = None
        self._timeouts: dict[tuple[float | None, float | None, float | None], Any] = {}

    def _open(self) -> Any:
        parts = _aiohttp()
        connector = parts["connector"](
            limit=self._limits.max_connections or 0,
            keepalive_timeout=self._limits.keepalive_expiry or 5.0,
            ssl=self._ssl,
        )
        self._session = parts["aiohttp"].ClientSession(connector=connector, headers=self._headers)
        if self._proxy_url is not None:
            self._proxy = parts["yarl"].URL(self._proxy_url)
        return self._session

    def _client_timeout(self, timeout: TimeoutSpec) -> Any:
        # As httpx-aiohttp maps httpx's timeouts; aiohttp has no write timeout.
        key = (timeout.get("connect"), timeout.get("read"), timeout.get("pool"))
        client_timeout = self._timeouts.get(key)
        if client_timeout is None:
            client_timeout = self._timeouts[key] = _aiohttp()["aiohttp"].ClientTimeout(
                sock_connect=key[0], sock_read=key[1], connect=key[2]
            )
        return client_timeout

    async def send(
        self, method: str, target: Target, content: bytes | None, timeout: TimeoutSpec, attempt: Attempt
    ) -> WireResponse:
        session = self._session or self._open()
        parts = _aiohttp_parts
        reset = _current_attempt.set(attempt)
        try:
            response = await session.request(
                method,
                target.parsed("yarl", parts["url"]),
                data=content,
                timeout=self._client_timeout(timeout),
                allow_redirects=False,
                proxy=self._proxy,
            )
            try:
                body = await response.read()
            finally:
                response.release()
        except Exception as exc:
            mapped = _mapped_aiohttp_error(exc, parts)
            if mapped is exc:
                raise
            raise mapped from exc
        finally:
            _current_attempt.reset(reset)
        return WireResponse(
            response.status,
            response.headers,
            body,
            lambda: (f"HTTP/{response.version.major}.{response.version.minor}", response.reason or ""),
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
