"""Serve an ASGI app (the :class:`~green_api_block.webhook.WebhookReceiver`) from an aiohttp route.

aiohttp is not an ASGI server, and the package's own local servers (the preview, the sandbox)
are aiohttp apps. Rather than a second receiver written against aiohttp, which would drift from
the real one, :func:`asgi_handler` turns one HTTP request into an ASGI ``http`` scope, streams
the body to the app and sends its answer back: the same checks, de-duplication and filters as
behind uvicorn.

    app.router.add_route("*", "/green-api", asgi_handler(WebhookReceiver(on_event, token=token)))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

__all__ = ["AsgiApp", "asgi_handler"]

AsgiApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]

#: Chunks handed to the app: the receiver counts bytes as they stream (its 413 needs no buffer).
_CHUNK = 64 * 1024
#: Headers aiohttp writes itself from the body it is given.
_OWN_HEADERS = frozenset({"content-length", "transfer-encoding"})


def _scope(request: web.Request) -> dict[str, Any]:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    client = (str(peer[0]), int(peer[1])) if isinstance(peer, tuple) and len(peer) >= 2 else None
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": f"{request.version.major}.{request.version.minor}",
        "method": request.method,
        "scheme": request.scheme,
        "path": request.path,
        "raw_path": request.raw_path.split("?", 1)[0].encode("latin-1"),
        "query_string": request.query_string.encode("latin-1"),
        "root_path": "",
        # ASGI wants lower-case names; aiohttp keeps them as sent.
        "headers": [(name.lower(), value) for name, value in request.raw_headers],
        "client": client,
        "server": None,
    }


def asgi_handler(app: AsgiApp) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """An aiohttp handler that answers every request with ``app`` (ASGI 3, ``http`` scopes only).

    The answer is buffered (a webhook answer is a few bytes) and sent once the app has finished,
    so the status the client sees is the one the app chose after its handler returned.
    """

    async def handle(request: web.Request) -> web.StreamResponse:
        done = False

        async def receive() -> MutableMapping[str, Any]:
            nonlocal done
            if done:
                return {"type": "http.disconnect"}
            chunk = await request.content.read(_CHUNK)
            if not chunk:
                done = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.request", "body": chunk, "more_body": True}

        status = 500
        headers: list[tuple[str, str]] = []
        parts: list[bytes] = []
        started = False

        async def send(message: MutableMapping[str, Any]) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = int(message["status"])
                for name, value in message.get("headers", []):
                    text = name.decode("latin-1")
                    if text.lower() not in _OWN_HEADERS:
                        headers.append((text, value.decode("latin-1")))
            elif message["type"] == "http.response.body":
                parts.append(bytes(message.get("body", b"")))

        await app(_scope(request), receive, send)
        if not started:  # the app returned without answering: the client must not hang
            return web.Response(status=500)
        # Given as the headers (not added afterwards), so the app's Content-Type is the only one.
        return web.Response(status=status, body=b"".join(parts), headers=CIMultiDict(headers))

    return handle
