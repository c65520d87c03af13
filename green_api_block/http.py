"""The block's HTTP sessions: one pooled wire each for sync and async calls, the retry loop, and
the mapping of every transport failure and error status to the block's errors.

Shared logic lives in :class:`_BaseSession`; the two subclasses differ only in I/O and sleeping.
The wires (``transport.py``) carry the bytes: an httpx transport driven directly, or aiohttp.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import httpx

from .config import Hosts, RetryPolicy, Timeouts
from .errors import APITimeoutError, BadResponseError, GreenApiError, OutcomeUnknownError, TransportError
from .network import HostName, NetworkConfig, ProxyURL
from .ratelimit import RateLimiter
from .redact import redact
from .retry import retry_delay
from .status import error_for_status
from .transport import (
    AiohttpWire,
    AsyncHttpxWire,
    AsyncWire,
    Attempt,
    SyncHttpxWire,
    TimeoutSpec,
    WireResponse,
)
from .urls import Target, build_target

if TYPE_CHECKING:
    import ssl

    from .tools.base import ApiCall

__all__ = ["AsyncSession", "Credentials", "SyncSession"]

logger = logging.getLogger(__name__)

AsyncTransportName = Literal["aiohttp", "httpcore"]
#: Sent with every request; the same headers an ``httpx.Client(headers=...)`` would have sent.
_HEADERS = {
    "Accept": "application/json",
    "Accept-Encoding": "gzip, deflate",
    "Connection": "keep-alive",
    "Content-Type": "application/json",
    "User-Agent": f"python-httpx/{httpx.__version__}",
}
#: No cap on connections: the block never holds more than the calls in flight, which the host
#: sets, and a host long-polling 1,000 instances needs 1,000 at once; a cap below that turned
#: every poll past it into a wait for the pool (the cap was 256). Idle ones close after 30 s, and
#: every idle one is kept until then, so that the next poll of each instance reuses its own.
_LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=None, keepalive_expiry=30.0)
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
#: Targets kept per session (per instance, method and query), least recently used dropped first;
#: calls with a path argument (deleteNotification/{receiptId}) are never the same twice and are
#: not kept. Sized for a host serving a few thousand instances (two or three targets each, about
#: 1 KB with their parsed URLs), so that it does not rebuild every target on every call.
_TARGET_CACHE_SIZE = 8192


async def _async_sleep(seconds: float) -> None:
    import asyncio  # not at module level: asyncio costs ~45 ms to import and httpx does not need it

    await asyncio.sleep(seconds)


class Credentials:
    """An instance id and its token; the token never shows in ``repr``."""

    __slots__ = ("id_instance", "token")

    def __init__(self, id_instance: str, token: str) -> None:
        self.id_instance = id_instance
        self.token = token

    def __repr__(self) -> str:
        return f"Credentials(id_instance={self.id_instance!r}, token='***')"


W = TypeVar("W")


def _per_proxy(network: NetworkConfig | None, make: Callable[[ProxyURL | None], W]) -> dict[HostName, W]:
    """A wire for each host, one per distinct proxy (None: direct)."""
    proxies: Mapping[HostName, ProxyURL | None] = (
        network.proxies if network else dict.fromkeys(("api", "media"), None)
    )
    made: dict[str | None, W] = {}
    wires: dict[HostName, W] = {}
    for host, proxy in proxies.items():
        key = None if proxy is None else proxy.url
        if key not in made:
            made[key] = make(proxy)
        wires[host] = made[key]
    return wires


def _httpx_proxy(proxy: ProxyURL | None, ssl_context: ssl.SSLContext | None) -> httpx.Proxy | None:
    """httpx's proxy; an https:// proxy trusts ``verify`` too (httpx alone gives it the default CAs)."""
    if proxy is None:
        return None
    # httpcore refuses a proxy TLS context for any other scheme.
    return httpx.Proxy(proxy.url, ssl_context=ssl_context if proxy.scheme == "https" else None)


def _distinct(wires: Mapping[HostName, W]) -> list[W]:
    return list({id(w): w for w in wires.values()}.values())


class _BaseSession:
    #: Spaces calls per instance and method (REFERENCE.md §9.3); set by the block, None = off.
    limiter: RateLimiter | None = None

    def __init__(self, hosts: Hosts, timeouts: Timeouts, retry: RetryPolicy) -> None:
        self.hosts = hosts
        self.timeouts = timeouts
        self.retry = retry
        self._timeout: TimeoutSpec = httpx.Timeout(
            connect=timeouts.connect, read=timeouts.read, write=timeouts.write, pool=timeouts.pool
        ).as_dict()
        self._long_poll_timeouts: dict[float, TimeoutSpec] = {}
        self._targets: OrderedDict[tuple[Any, ...], Target] = OrderedDict()

    def _timeout_for(self, call: ApiCall) -> TimeoutSpec:
        """httpx's ``timeout`` extension for the call: connect, read, write and pool seconds."""
        if call.long_poll is None:
            return self._timeout
        # The server holds a long poll for up to long_poll seconds before it answers.
        timeout = self._long_poll_timeouts.get(call.long_poll)
        if timeout is None:
            timeout = self._long_poll_timeouts[call.long_poll] = {
                **self._timeout,
                "read": call.long_poll + self.timeouts.long_poll_margin,
            }
        return timeout

    def _target(self, creds: Credentials, call: ApiCall) -> Target:
        base = self.hosts.api_url if call.host == "api" else self.hosts.media_url
        if call.path_arg is not None:
            return build_target(
                base, creds.id_instance, call.api_method, creds.token, call.path_arg, call.query
            )
        query = tuple(call.query.items()) if call.query else None
        key = (base, creds.id_instance, creds.token, call.api_method, query)
        targets = self._targets
        # Taken out and put back last: the least recently used is first. (pop, not move_to_end:
        # another thread's call may evict the key in between, and this never raises.)
        target = targets.pop(key, None)
        if target is not None:
            targets[key] = target
            return target
        target = targets[key] = build_target(
            base, creds.id_instance, call.api_method, creds.token, None, call.query
        )
        if len(targets) > _TARGET_CACHE_SIZE:
            # The least recently used goes. (The cache used to be emptied when full, so that past
            # its size in instances, nearly every call rebuilt and re-parsed its URL.)
            with contextlib.suppress(KeyError):  # another thread's call evicted it first
                targets.popitem(last=False)
        return target

    def _request_parts(self, creds: Credentials, call: ApiCall) -> tuple[Target, bytes | None, TimeoutSpec]:
        content = None if call.json is None else _JSON.encode(call.json).encode()
        return self._target(creds, call), content, self._timeout_for(call)

    def _transport_error(
        self, call: ApiCall, display: str, exc: httpx.RequestError, attempt: Attempt, tool: str | None
    ) -> TransportError:
        kind = type(exc).__name__
        detail = redact(str(exc))[:200]
        if call.is_send and attempt.may_have_sent:
            return OutcomeUnknownError(
                f"Green API {call.api_method}: the request was sent but no answer came back ({kind}); "
                "the message may have been sent: check lastOutgoingMessages before sending again",
                tool=tool,
                api_method=call.api_method,
                url=display,
                retryable=False,
                outcome_unknown=True,
                details={"transport_error": kind},
            )
        cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else TransportError
        what = "timed out" if cls is APITimeoutError else "could not reach Green API"
        return cls(
            f"Green API {call.api_method} {what} ({kind}{': ' + detail if detail else ''}); "
            "check api_url and the network, then retry",
            tool=tool,
            api_method=call.api_method,
            url=display,
            retryable=True,
            details={"transport_error": kind},
        )

    def _read(self, call: ApiCall, target: Target, response: WireResponse, tool: str | None) -> Any:
        status = response.status_code
        if logger.isEnabledFor(logging.DEBUG):
            # httpx.Client's line (at DEBUG here), with the masked URL.
            http_version, reason = response.describe()
            logger.debug(
                'HTTP Request: %s %s "%s %d %s"',
                call.http_method,
                target.display,
                http_version,
                status,
                reason,
            )
        if status != 200:
            raise error_for_status(
                status,
                response.text,
                api_method=call.api_method,
                display_url=target.display,
                is_send=call.is_send,
                retry_after_header=response.headers.get("retry-after"),
                tool=tool,
            )
        content = response.content
        if not content or content.isspace():
            return None  # some proxies turn Green API's literal `null` into an empty body
        try:
            return json.loads(content)
        except (ValueError, RecursionError):  # RecursionError: valid JSON nested too deep to parse
            pass  # the decode error keeps the whole body (.doc): do not chain it
        raise BadResponseError(
            f"Green API {call.api_method} answered 200 with a body that is not JSON"
            + ("; the message may have been sent: check lastOutgoingMessages" if call.is_send else ""),
            tool=tool,
            api_method=call.api_method,
            url=target.display,
            status_code=status,
            outcome_unknown=call.is_send,
            retryable=not call.is_send,
        )

    def _judge_failure(
        self,
        call: ApiCall,
        target: Target,
        failure: httpx.RequestError | GreenApiError,
        attempt: Attempt,
        attempt_no: int,
        tool: str | None,
    ) -> tuple[GreenApiError, float | None]:
        """The call's error and the seconds to wait before the next attempt (None: raise it).

        The one place a failed attempt is judged, for the sync and the async loop alike: only
        how each waits and sends differs. The loops raise the error outside their ``except``, so
        that it carries no ``__context__`` (an httpx error's text holds the URL, token included).
        """
        error = (
            self._transport_error(call, target.display, failure, attempt, tool)
            if isinstance(failure, httpx.RequestError)
            else failure
        )
        delay = retry_delay(error, is_send=call.is_send, attempt=attempt_no, policy=self.retry)
        if delay is not None:
            logger.info(
                "%s failed (%s); retry %d in %.2f s", call.api_method, error.code, attempt_no + 1, delay
            )
        return error, delay


class SyncSession(_BaseSession):
    def __init__(
        self,
        hosts: Hosts,
        timeouts: Timeouts,
        retry: RetryPolicy,
        transport: httpx.BaseTransport | None = None,
        network: NetworkConfig | None = None,
    ) -> None:
        super().__init__(hosts, timeouts, retry)
        if transport is not None:
            self._wires: dict[HostName, SyncHttpxWire] = dict.fromkeys(
                ("api", "media"), SyncHttpxWire(transport, _HEADERS)
            )
        else:
            # One pool per proxy; the api and the media host share it unless NO_PROXY parts them.
            ssl_context = network.ssl_context if network else None
            self._wires = _per_proxy(
                network,
                lambda proxy: SyncHttpxWire(
                    httpx.HTTPTransport(
                        limits=_LIMITS,
                        proxy=_httpx_proxy(proxy, ssl_context),
                        verify=True if ssl_context is None else ssl_context,
                    ),
                    _HEADERS,
                ),
            )

    def call(self, creds: Credentials, call: ApiCall, tool: str | None = None) -> Any:
        target, content, timeout = self._request_parts(creds, call)
        attempt_no = 0
        while True:
            if self.limiter is not None:
                self.limiter.wait(creds.id_instance, call.api_method)
            wire = self._wires[call.host]
            attempt = Attempt(tracked=wire.tracks_wire)
            try:
                response = wire.send(call.http_method, target, content, timeout, attempt)
                return self._read(call, target, response, tool)
            except (httpx.RequestError, GreenApiError) as exc:
                error, delay = self._judge_failure(call, target, exc, attempt, attempt_no, tool)
            if delay is None:
                raise error
            time.sleep(delay)
            attempt_no += 1

    def close(self) -> None:
        for wire in _distinct(self._wires):
            wire.close()


class AsyncSession(_BaseSession):
    def __init__(
        self,
        hosts: Hosts,
        timeouts: Timeouts,
        retry: RetryPolicy,
        transport: httpx.AsyncBaseTransport | AsyncTransportName = "aiohttp",
        network: NetworkConfig | None = None,
    ) -> None:
        super().__init__(hosts, timeouts, retry)
        ssl_context = network.ssl_context if network else None

        def make(proxy: ProxyURL | None) -> AsyncWire:
            if transport == "aiohttp":
                return AiohttpWire(_LIMITS, _HEADERS, proxy=proxy, ssl_context=ssl_context)
            return AsyncHttpxWire(
                httpx.AsyncHTTPTransport(
                    limits=_LIMITS,
                    proxy=_httpx_proxy(proxy, ssl_context),
                    verify=True if ssl_context is None else ssl_context,
                ),
                _HEADERS,
            )

        if transport in ("aiohttp", "httpcore"):
            self._wires: dict[HostName, AsyncWire] = _per_proxy(network, make)
        else:
            assert not isinstance(transport, str)
            self._wires = dict.fromkeys(("api", "media"), AsyncHttpxWire(transport, _HEADERS))
        self._closer: AsyncGenerator[None, None] | None = None

    async def _close_with_loop(self) -> AsyncGenerator[None, None]:
        """Closes the wire when its event loop shuts down, if nobody did before.

        A pool belongs to the loop that opened it. Hosts that call ``asyncio.run`` per step never
        call ``aclose()`` on that loop, and the pool was left to the garbage collector, with
        aiohttp's "Unclosed client session" on stderr each time. The loop finishes its live async
        generators before it closes (``shutdown_asyncgens``, which ``asyncio.run`` calls), and
        finalises one that is collected earlier: either way the wire is closed on its own loop.
        """
        try:
            yield
        finally:
            try:
                for wire in _distinct(self._wires):
                    await wire.aclose()
            except Exception:  # a pool already torn down by its loop: nothing left to release
                logger.debug("closing the async pool at loop shutdown failed", exc_info=True)

    async def call(self, creds: Credentials, call: ApiCall, tool: str | None = None) -> Any:
        if self._closer is None:
            self._closer = self._close_with_loop()
            await self._closer.asend(None)  # the loop registers it on this first step
        target, content, timeout = self._request_parts(creds, call)
        attempt_no = 0
        while True:
            if self.limiter is not None:
                await self.limiter.wait_async(creds.id_instance, call.api_method)
            wire = self._wires[call.host]
            attempt = Attempt(tracked=wire.tracks_wire)
            try:
                response = await wire.send(call.http_method, target, content, timeout, attempt)
                return self._read(call, target, response, tool)
            except (httpx.RequestError, GreenApiError) as exc:
                error, delay = self._judge_failure(call, target, exc, attempt, attempt_no, tool)
            if delay is None:
                raise error
            await _async_sleep(delay)
            attempt_no += 1

    async def aclose(self) -> None:
        closer, self._closer = self._closer, None
        if closer is not None:
            await closer.aclose()  # closes the wires
        else:
            for wire in _distinct(self._wires):
                await wire.aclose()
