"""The block's HTTP clients: one pooled httpx client each for sync and async calls, the retry loop,
and the mapping of every transport failure and error status to the block's errors.

Shared logic lives in :class:`_BaseSession`; the two subclasses differ only in I/O and sleeping.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Literal

import httpx

from .config import Hosts, RetryPolicy, Timeouts
from .errors import ApiTimeoutError, BadResponseError, GreenApiError, OutcomeUnknownError, TransportError
from .ratelimit import RateLimiter
from .redact import redact
from .retry import retry_delay
from .status import error_for_status
from .tools.base import ApiCall
from .transport import (
    ATTEMPT_EXTENSION,
    AsyncWireTransport,
    Attempt,
    SyncWireTransport,
    make_aiohttp_transport,
)
from .urls import TOKEN_EXTENSION, build_urls

__all__ = ["AsyncSession", "Credentials", "SyncSession"]

logger = logging.getLogger(__name__)

AsyncTransportName = Literal["aiohttp", "httpcore"]
_JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
_LIMITS = httpx.Limits(max_connections=256, max_keepalive_connections=128, keepalive_expiry=30.0)


class Credentials:
    """An instance id and its token; the token never shows in ``repr``."""

    __slots__ = ("id_instance", "token")

    def __init__(self, id_instance: str, token: str) -> None:
        self.id_instance = id_instance
        self.token = token

    def __repr__(self) -> str:
        return f"Credentials(id_instance={self.id_instance!r}, token='***')"


class _BaseSession:
    #: Spaces calls per instance and method (REFERENCE.md §9.3); set by the block, None = off.
    limiter: RateLimiter | None = None

    def __init__(self, hosts: Hosts, timeouts: Timeouts, retry: RetryPolicy) -> None:
        self.hosts = hosts
        self.timeouts = timeouts
        self.retry = retry
        self._timeout = httpx.Timeout(
            connect=timeouts.connect, read=timeouts.read, write=timeouts.write, pool=timeouts.pool
        )

    def _timeout_for(self, call: ApiCall) -> httpx.Timeout:
        if call.long_poll is None:
            return self._timeout
        # The server holds a long poll for up to long_poll seconds before it answers.
        return httpx.Timeout(
            connect=self.timeouts.connect,
            read=call.long_poll + self.timeouts.long_poll_margin,
            write=self.timeouts.write,
            pool=self.timeouts.pool,
        )

    def _request_parts(self, creds: Credentials, call: ApiCall) -> tuple[str, bytes | None, dict[str, Any]]:
        base = self.hosts.api_url if call.host == "api" else self.hosts.media_url
        display, real = build_urls(
            base, creds.id_instance, call.api_method, creds.token, call.path_arg, call.query
        )
        content = None
        if call.json is not None:
            content = json.dumps(
                call.json, ensure_ascii=False, separators=(",", ":"), allow_nan=False
            ).encode()
        extensions = {TOKEN_EXTENSION: real, "timeout": self._timeout_for(call).as_dict()}
        return display, content, extensions

    def _transport_error(
        self, call: ApiCall, display: str, exc: httpx.TransportError, attempt: Attempt, tool: str | None
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
        cls = ApiTimeoutError if isinstance(exc, httpx.TimeoutException) else TransportError
        what = "timed out" if cls is ApiTimeoutError else "could not reach Green API"
        return cls(
            f"Green API {call.api_method} {what} ({kind}{': ' + detail if detail else ''}); "
            "check api_url and the network, then retry",
            tool=tool,
            api_method=call.api_method,
            url=display,
            retryable=True,
            details={"transport_error": kind},
        )

    def _read(self, call: ApiCall, display: str, response: httpx.Response, tool: str | None) -> Any:
        status = response.status_code
        if status != 200:
            raise error_for_status(
                status,
                response.text,
                api_method=call.api_method,
                display_url=display,
                is_send=call.is_send,
                retry_after_header=response.headers.get("retry-after"),
                tool=tool,
            )
        content = response.content
        if not content.strip():
            return None  # some proxies turn Green API's literal `null` into an empty body
        try:
            return json.loads(content)
        except ValueError:
            pass  # the decode error keeps the whole body (.doc): do not chain it
        raise BadResponseError(
            f"Green API {call.api_method} answered 200 with a body that is not JSON"
            + ("; the message may have been sent: check lastOutgoingMessages" if call.is_send else ""),
            tool=tool,
            api_method=call.api_method,
            url=display,
            status_code=status,
            outcome_unknown=call.is_send,
            retryable=not call.is_send,
        )

    def _next_delay(self, call: ApiCall, error: GreenApiError, attempt_no: int) -> float | None:
        delay = retry_delay(error, is_send=call.is_send, attempt=attempt_no, policy=self.retry)
        if delay is not None:
            logger.info(
                "%s failed (%s); retry %d in %.2f s", call.api_method, error.code, attempt_no + 1, delay
            )
        return delay


class SyncSession(_BaseSession):
    def __init__(
        self,
        hosts: Hosts,
        timeouts: Timeouts,
        retry: RetryPolicy,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(hosts, timeouts, retry)
        inner = transport or httpx.HTTPTransport(limits=_LIMITS)
        self._wire = SyncWireTransport(inner)
        self._client = httpx.Client(transport=self._wire, headers=_JSON_HEADERS, timeout=self._timeout)

    def call(self, creds: Credentials, call: ApiCall, tool: str | None = None) -> Any:
        display, content, extensions = self._request_parts(creds, call)
        attempt_no = 0
        while True:
            if self.limiter is not None:
                wait = self.limiter.reserve(creds.id_instance, call.api_method)
                if wait > 0:
                    time.sleep(wait)
            attempt = Attempt(tracked=self._wire.tracks_wire)
            extensions[ATTEMPT_EXTENSION] = attempt
            try:
                request = self._client.build_request(
                    call.http_method, display, content=content, extensions=extensions
                )
                response = self._client.send(request)
                return self._read(call, display, response, tool)
            except httpx.TransportError as exc:
                error: GreenApiError = self._transport_error(call, display, exc, attempt, tool)
            except GreenApiError as exc:
                error = exc
            delay = self._next_delay(call, error, attempt_no)
            if delay is None:
                raise error
            time.sleep(delay)
            attempt_no += 1

    def close(self) -> None:
        self._client.close()


class AsyncSession(_BaseSession):
    def __init__(
        self,
        hosts: Hosts,
        timeouts: Timeouts,
        retry: RetryPolicy,
        transport: httpx.AsyncBaseTransport | AsyncTransportName = "aiohttp",
    ) -> None:
        super().__init__(hosts, timeouts, retry)
        if transport == "aiohttp":
            inner: httpx.AsyncBaseTransport = make_aiohttp_transport(_LIMITS)
        elif transport == "httpcore":
            inner = httpx.AsyncHTTPTransport(limits=_LIMITS)
        else:
            inner = transport
        self._wire = AsyncWireTransport(inner)
        self._client = httpx.AsyncClient(transport=self._wire, headers=_JSON_HEADERS, timeout=self._timeout)

    async def call(self, creds: Credentials, call: ApiCall, tool: str | None = None) -> Any:
        display, content, extensions = self._request_parts(creds, call)
        attempt_no = 0
        while True:
            if self.limiter is not None:
                wait = self.limiter.reserve(creds.id_instance, call.api_method)
                if wait > 0:
                    await asyncio.sleep(wait)
            attempt = Attempt(tracked=self._wire.tracks_wire)
            extensions[ATTEMPT_EXTENSION] = attempt
            try:
                request = self._client.build_request(
                    call.http_method, display, content=content, extensions=extensions
                )
                response = await self._client.send(request)
                return self._read(call, display, response, tool)
            except httpx.TransportError as exc:
                error: GreenApiError = self._transport_error(call, display, exc, attempt, tool)
            except GreenApiError as exc:
                error = exc
            delay = self._next_delay(call, error, attempt_no)
            if delay is None:
                raise error
            await asyncio.sleep(delay)
            attempt_no += 1

    async def aclose(self) -> None:
        await self._client.aclose()
