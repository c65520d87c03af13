"""``WebhookReceiver``: the pure ASGI app that takes Green API's pushes (REFERENCE.md §5.4-5.5).

Green API removes a notification from the instance's queue when it gets a 200, so the 200 is
sent only after the handler returned; a failure or a handler past ``handler_timeout`` answers
500 and the notification comes again a minute later. Plain ASGI, no framework: uvicorn serves
it as is (lifespan included) and FastAPI/Starlette mount it (``app.mount("/green-api", receiver)``).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import math
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeAlias

from pydantic import ValidationError

from green_api_block.events import Event, event_key
from green_api_block.redact import redact

from .auth import Tokens, bearer_value
from .body import MAX_BODY, BodyError, content_length, read_json_object
from .counters import Counters
from .deadletter import DeadLetter, DeadLetterHandler, DeadLetters, now
from .dedupe import DedupeStore, MemoryDedupeStore
from .filters import WebhookFilter

__all__ = ["DEFAULT_HANDLER_TIMEOUT", "DEFAULT_MAX_FAILURES", "EventHandler", "WebhookReceiver"]

logger = logging.getLogger("green_api_block.webhook")

#: Green API waits 180 s for the answer: answer 500 before it gives up, so the retry is ours.
DEFAULT_HANDLER_TIMEOUT = 170.0
#: Failed handlings of one notification before it is dead-lettered (about 5 minutes of retries).
DEFAULT_MAX_FAILURES = 5

EventHandler: TypeAlias = Callable[[Event], "Awaitable[None] | None"]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_JSON = [(b"content-type", b"application/json")]


def _answer(
    status: int, body: dict[str, Any], extra: list[tuple[bytes, bytes]] | None = None
) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    data = json.dumps(body, separators=(",", ":")).encode()
    headers = [*_JSON, (b"content-length", str(len(data)).encode()), *(extra or [])]
    return status, data, headers


# Answers are built once: the receiver never echoes anything from the request.
_OK = _answer(200, {"ok": True})
_UNAUTHORIZED = _answer(401, {"error": "unauthorized"}, [(b"www-authenticate", b"Bearer")])
_NOT_FOUND = _answer(404, {"error": "not found"})
_NOT_ALLOWED = _answer(405, {"error": "POST only"}, [(b"allow", b"POST")])
_FAILED = _answer(500, {"error": "the handler failed; send it again"})
_BUSY = _answer(503, {"error": "a copy of this notification is being handled"}, [(b"retry-after", b"60")])


def _is_async(handler: Callable[..., Any]) -> bool:
    call = getattr(handler, "__call__", None)  # noqa: B004 - an object with an async __call__
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(call)


def _positive(value: object, name: str, *, integer: bool = False) -> float:
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value) or value <= 0:
        what = "a positive integer" if integer else "a positive number of seconds"
        raise ValueError(f"{name} must be {what}, not {value!r}")
    return value


class WebhookReceiver:
    """An ASGI app that checks, de-duplicates, filters and hands each push to ``handler``.

    ``handler(event)`` may be sync (run in a worker thread) or async. ``token``: the
    ``webhookUrlToken`` (one string), per instance (``{idInstance: token}`` or a sync/async
    look-up ``f(idInstance) -> token | None``), or ``None`` together with
    ``allow_unauthenticated=True``. ``filter`` (a :class:`WebhookFilter`) drops events with a
    200; by default the bot's own API sends. ``store`` de-duplicates (default: in memory);
    ``dead_letter`` gets a notification that failed ``max_failures`` times (default:
    :class:`DeadLetters`). ``path``: answer only there (relative to a mount's ``root_path``);
    None: any path. Every argument is checked here and a wrong one names itself.
    """

    def __init__(
        self,
        handler: EventHandler,
        *,
        token: Any,
        allow_unauthenticated: bool = False,
        filter: WebhookFilter | None = None,
        store: DedupeStore | None = None,
        handler_timeout: float = DEFAULT_HANDLER_TIMEOUT,
        max_failures: int = DEFAULT_MAX_FAILURES,
        dead_letter: DeadLetterHandler | None = None,
        path: str | None = None,
        max_body: int = MAX_BODY,
    ) -> None:
        if not callable(handler):
            raise TypeError(f"handler must be a callable taking an Event, not {type(handler).__name__}")
        if not isinstance(allow_unauthenticated, bool):
            raise TypeError("allow_unauthenticated must be True or False")
        self.tokens = Tokens(token, allow_unauthenticated=allow_unauthenticated)
        if filter is not None and not isinstance(filter, WebhookFilter):
            raise TypeError(f"filter must be a WebhookFilter, not {type(filter).__name__}")
        if store is not None and not isinstance(store, DedupeStore):
            raise TypeError("store must implement DedupeStore (claim, wait, succeed, fail, release)")
        if dead_letter is not None and not callable(dead_letter):
            raise TypeError("dead_letter must be a callable taking a DeadLetter")
        if path is not None and (not isinstance(path, str) or not path.startswith("/")):
            raise ValueError(f"path must start with '/', not {path!r}")
        self.handler_timeout = _positive(handler_timeout, "handler_timeout")
        self.max_failures = int(_positive(max_failures, "max_failures", integer=True))
        self.max_body = int(_positive(max_body, "max_body", integer=True))
        self.handler = handler
        self._async = _is_async(handler)
        self.filter = filter if filter is not None else WebhookFilter()
        self.store: DedupeStore = store if store is not None else MemoryDedupeStore()
        self.dead_letters = dead_letter if dead_letter is not None else DeadLetters()
        self._dead_async = _is_async(self.dead_letters)
        self.path = path.rstrip("/") or "/" if path is not None else None
        self.counters = Counters()

    # ---------------------------------------------------------------------------- ASGI entry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            status, body, headers = await self._http(scope, receive)
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        elif kind == "lifespan":
            await _lifespan(receive, send)
        # websocket: not ours; returning without accepting closes it.

    def _path_ok(self, scope: Scope) -> bool:
        if self.path is None:
            return True
        path: str = scope.get("path", "/")
        root: str = scope.get("root_path", "")
        # Starlette's Mount leaves the full path in ``path`` and the prefix in ``root_path``.
        if root and path.startswith(root):
            path = path[len(root) :]
        return (path.rstrip("/") or "/") == self.path

    async def _http(self, scope: Scope, receive: Receive) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        if not self._path_ok(scope):
            return _NOT_FOUND
        if scope.get("method") != "POST":
            self.counters.rejected += 1
            return _NOT_ALLOWED
        headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        authorization = next((v for k, v in headers if k == b"authorization"), None)
        given = bearer_value(authorization)
        tokens = self.tokens
        try:
            declared = content_length(headers)
            if declared is not None and declared > self.max_body:
                raise BodyError(413, "body too large")
            # One token for all: refuse before reading a byte of a stranger's body.
            if tokens.enabled and not tokens.per_instance and not await tokens.check(given, None):
                self.counters.unauthorized += 1
                return _UNAUTHORIZED
            body = await read_json_object(receive, self.max_body)
        except BodyError as exc:
            self.counters.rejected += 1
            return _answer(exc.status, {"error": exc.reason})
        try:
            event = Event.from_body(body)
        except (ValidationError, TypeError, ValueError):
            self.counters.rejected += 1
            return _answer(400, {"error": "not a notification body"})
        if tokens.per_instance:
            try:
                allowed = await tokens.check(given, event.idInstance)
            except Exception as exc:
                logger.error("webhook: the token look-up failed (%s)", type(exc).__name__)
                return _FAILED
            if not allowed:
                self.counters.unauthorized += 1
                return _UNAUTHORIZED
        if not self.filter.accepts(event):
            self.counters.filtered += 1
            return _OK
        try:
            return await self._deliver(event)
        except Exception as exc:
            # A shared store that is down (Redis away): not handled, so Green API must send it again.
            logger.error("webhook: the de-duplication store failed (%s)", type(exc).__name__)
            return _FAILED

    # ---------------------------------------------------------------------------- delivery

    async def _deliver(self, event: Event) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        key = event_key(event)
        store = self.store
        # The lease outlasts the handler's limit, so it never runs out under a live handler.
        claim = await store.claim(key, self.handler_timeout + 30.0)
        if claim == "done":
            self.counters.duplicates += 1
            return _OK
        if claim == "busy":
            outcome = await store.wait(key, self.handler_timeout)
            if outcome:
                self.counters.duplicates += 1
                return _OK
            # The first copy failed or is still running: this copy comes again later.
            return _BUSY
        try:
            error = await self._run_handler(event)
        except BaseException:  # cancelled (the server is stopping): the next copy is handled
            await store.release(key)
            raise
        if error is None:
            await store.succeed(key)
            self.counters.accepted += 1
            return _OK
        self.counters.failed += 1
        failures = await store.fail(key)
        if failures < self.max_failures:
            await store.release(key)
            return _FAILED
        letter = DeadLetter(key=key, event=event, failures=failures, error=error, at=now())
        try:
            await self._call(self.dead_letters, letter, self._dead_async)
        except Exception as exc:
            # Not kept anywhere: answering 200 would lose it. It comes again and is tried again.
            logger.error("webhook: the dead-letter handler failed (%s)", type(exc).__name__)
            await store.release(key)
            return _FAILED
        await store.succeed(key)
        self.counters.dead_lettered += 1
        return _OK

    async def _call(self, func: Callable[[Any], Any], arg: Any, is_async: bool) -> None:
        if is_async:
            await func(arg)
            return
        result = await asyncio.get_running_loop().run_in_executor(None, func, arg)
        if inspect.isawaitable(result):  # a sync wrapper around a coroutine function
            await result

    async def _run_handler(self, event: Event) -> str | None:
        """None when the handler returned; else what went wrong, in words safe to log."""
        try:
            # asyncio.timeout, not wait_for: wait_for wraps the call in a task of its own, which
            # cost a third of a push's time.
            async with asyncio.timeout(self.handler_timeout):
                await self._call(self.handler, event, self._async)
        except TimeoutError:
            # A sync handler's thread cannot be stopped: it runs on, but its answer is no longer
            # awaited, and the notification is handled again when it comes back.
            self.counters.timeouts += 1
            logger.error(
                "webhook: the handler ran over %.0f s on a %s notification",
                self.handler_timeout,
                event.eventType,
            )
            return f"timeout after {self.handler_timeout:g} s"
        except Exception as exc:
            # The type only at ERROR: an exception's text may quote the body or a secret.
            name = type(exc).__name__
            logger.error("webhook: the handler raised %s on a %s notification", name, event.eventType)
            logger.debug("webhook: handler error: %s", redact(str(exc)), exc_info=False)
            return type(exc).__name__
        return None


async def _lifespan(receive: Receive, send: Send) -> None:
    # Nothing to open or close: answer the protocol so uvicorn's lifespan="on" is satisfied.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
