"""The preview's aiohttp application: one page, its static files and a small JSON API.

Routes (all on the loopback host the preview listens on):

* ``GET /`` and ``GET /static/{name}``: the page, ``app.js``, ``schema.js``, ``style.css`` (package data).
* ``GET /favicon.svg``: the block's icon, taken from the manifest.
* ``GET /api/contract``: ``{"manifest": ..., "schemas": {"schemas/<tool>.input.json": ...}}``, the
  files exactly as a builder reads them; the page draws the form from this and nothing else.
* ``GET /api/session``: the mode (sandbox or instance) and which credentials the server holds.
  Never the token: a bound token is shown in the page as :data:`TOKEN_MARKER`.
* ``POST /api/run`` ``{"tool", "args"}``: ``block.ainvoke(tool, args)``'s envelope, unchanged.
* ``GET /api/notifications?after=N``: what arrived since item N (the notifications panel); each
  item carries ``event``, the body read by :meth:`Event.from_body` (without ``raw``: that is
  the item's ``body``), so the page has no notification reader of its own.
* ``POST /api/sandbox/incoming`` ``{"chatId", "text"}``: a customer message (``--sandbox`` only).
* ``GET /api/trigger?after=N``: the trigger view's state (listening, the webhook URL, the filter
  as sub-block values, the receiver's counters) and the events pushed since event N.
* ``POST /api/trigger`` ``{"listening": bool, "filters": {<sub-block id>: value}}``: switch the
  trigger on or off and set its filter (``--sandbox`` only); values that make no filter are
  answered ``{"ok": false, "error": {"code": "invalid_filter"}}`` and change nothing.
* ``POST /webhook/green-api``: the trigger's webhook endpoint, answered by the real
  :class:`~green_api_block.webhook.WebhookReceiver` (``--sandbox`` only; see :mod:`.trigger`).
  It checks its own Bearer token (the sandbox's ``webhookUrlToken``), so the preview's auth
  token and the browser-only Origin check do not apply there; the Host check does.

The token a person types travels only in the ``/api/run`` POST body; it is never echoed (every
answer goes through :func:`~green_api_block.redact.redact_obj`) and never logged (no access log).
Requests must name this server in ``Host`` (against DNS rebinding), on every bind address, and
POSTs must be JSON from this origin (so another web page cannot make the browser run a tool with
bound credentials). With an auth token (a preview reachable off loopback) every request must also
carry it: ``Authorization: Bearer``, or the cookie ``GET /?token=...`` sets for the browser.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import ValidationError

from green_api_block import jsonbody
from green_api_block.contract import data_root, load_manifest
from green_api_block.events.schema import tool_event
from green_api_block.hostcheck import bearer_ok, same_secret
from green_api_block.redact import redact, redact_obj
from green_api_block.webhook.bridge import asgi_handler

from .trigger import WEBHOOK_PATH, PreviewTrigger

if TYPE_CHECKING:
    from green_api_block import GreenApiBlock
    from green_api_block.sandbox import Sandbox, SandboxInstance

__all__ = [
    "SANDBOX_CHAT_ID",
    "STATIC_FILES",
    "TOKEN_MARKER",
    "NotificationFeed",
    "PreviewConfig",
    "create_app",
    "read_contract",
]

log = logging.getLogger("green_api_block.preview")

#: What the page puts in the token field when the server holds the token: "use the bound one".
#: A fixed string, so the page learns nothing about the token (not even its length).
TOKEN_MARKER = "\u2022" * 8

#: The customer chat the sandbox panel prefills.
SANDBOX_CHAT_ID = "79001234567@c.us"

#: The static files and their content types; nothing else under static/ is served.
STATIC_FILES: Mapping[str, str] = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "schema.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}

_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_SECURITY_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_MAX_BODY = 1024**2


def read_contract() -> dict[str, Any]:
    """The manifest and every schema it names, keyed by the path the manifest uses."""
    manifest = load_manifest()
    root = data_root()
    schemas: dict[str, Any] = {}
    for item in manifest["tools"]["items"]:
        for key in ("inputSchema", "outputSchema"):
            path = str(item[key])
            schemas[path] = json.loads((root / path).read_text(encoding="utf-8"))
    return {"manifest": manifest, "schemas": schemas}


class NotificationFeed:
    """What the notifications panel lists: each notification once, in arrival order.

    Filled from two sides: the sandbox queue (as soon as something is queued, without taking it
    off the queue, so ``Get notifications`` still returns it) and the output of every
    ``Get notifications`` run (which is how notifications of a real instance arrive).
    """

    #: How many (instance, receipt id) pairs are remembered for de-duplication, per listed item:
    #: enough that a notification still queued (and so seen again by every Get notifications run)
    #: is remembered long after it left the list, and yet bounded (it used to grow forever).
    SEEN_PER_ITEM = 20

    def __init__(self, limit: int = 200) -> None:
        self._lock = threading.Lock()
        self._items: list[dict[str, Any]] = []
        # Insertion-ordered: the oldest key is the first to forget.
        self._seen: dict[tuple[str, int], None] = {}
        self._seq = 0
        self._limit = limit
        self._seen_limit = max(1, limit) * self.SEEN_PER_ITEM

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def remembered(self) -> int:
        """How many receipt ids are remembered for de-duplication (bounded)."""
        with self._lock:
            return len(self._seen)

    def add(self, id_instance: str, receipt_id: int, body: Mapping[str, Any], source: str) -> bool:
        """Record one notification; False when it was already listed."""
        key = (id_instance, receipt_id)
        with self._lock:
            if key in self._seen:
                return False
            self._seen[key] = None
            if len(self._seen) > self._seen_limit:
                del self._seen[next(iter(self._seen))]
            self._seq += 1
            self._items.append(
                {
                    "seq": self._seq,
                    "idInstance": id_instance,
                    "receiptId": receipt_id,
                    "source": source,
                    "receivedAt": time.strftime("%H:%M:%S"),
                    "body": dict(body),
                    "event": tool_event(body),
                }
            )
            del self._items[: -self._limit]
            return True

    def since(self, after: int) -> tuple[list[dict[str, Any]], int]:
        with self._lock:
            return [i for i in self._items if i["seq"] > after], self._seq


@dataclass
class PreviewConfig:
    """What the app serves with: the block (credentials bound or not) and, optionally, a sandbox."""

    block: GreenApiBlock
    mode: str  # "sandbox" or "instance"
    api_url: str
    bound_id_instance: str | None = None
    token_bound: bool = False
    sandbox: Sandbox | None = None
    sandbox_instance: SandboxInstance | None = None
    #: Extra secrets to mask in every answer (the bound token, in case a message ever carried it).
    secrets: tuple[str, ...] = field(default=(), repr=False)
    #: Host header values accepted (``name:port``); empty refuses every request (not bound yet).
    allowed_hosts: frozenset[str] = frozenset()
    #: When set, every request needs it: ``Authorization: Bearer`` or the cookie that opening
    #: ``/?token=...`` sets (what a browser can carry). For a preview reachable off loopback.
    auth_token: str | None = field(default=None, repr=False)
    feed: NotificationFeed = field(default_factory=NotificationFeed)
    #: The trigger's receiver and switch (``--sandbox`` only).
    trigger: PreviewTrigger | None = None


CONFIG_KEY = web.AppKey("preview_config", PreviewConfig)
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(data: Any, config: PreviewConfig, *, status: int = 200) -> web.Response:
    return web.json_response(
        redact_obj(_mask(data, config.secrets)), status=status, headers=_SECURITY_HEADERS
    )


def _mask(data: Any, secrets: tuple[str, ...]) -> Any:
    if not secrets:
        return data
    if isinstance(data, str):
        return redact(data, secrets)
    if isinstance(data, dict):
        return {k: _mask(v, secrets) for k, v in data.items()}
    if isinstance(data, list):
        return [_mask(v, secrets) for v in data]
    return data


def _problem(config: PreviewConfig, status: int, code: str, message: str) -> web.Response:
    return _json(
        {"ok": False, "error": {"code": code, "message": message, "retryable": False}}, config, status=status
    )


#: The cookie that carries the auth token after ``/?token=...``: HttpOnly (no script reads it),
#: SameSite=Strict (no other site's page makes the browser send it).
AUTH_COOKIE = "green_api_preview_token"


def _authenticate(request: web.Request, token: str) -> web.StreamResponse | None:
    """None when the request may go on; else the answer (a login redirect, or a 401)."""
    if request.method == "GET" and request.path == "/" and "token" in request.query:
        if not same_secret(request.query["token"], token):
            return web.Response(status=401, text="wrong token\n", headers=_SECURITY_HEADERS)
        # A redirect, so the token leaves the address bar (and the history) at once.
        response = web.Response(status=303, headers={**_SECURITY_HEADERS, "Location": "/"})
        response.set_cookie(AUTH_COOKIE, token, httponly=True, samesite="Strict", path="/")
        return response
    if bearer_ok(request.headers.get("Authorization"), token) or same_secret(
        request.cookies.get(AUTH_COOKIE), token
    ):
        return None
    return web.Response(
        status=401,
        text="this preview needs its token: open /?token=<the token> or send Authorization: Bearer\n",
        headers={**_SECURITY_HEADERS, "WWW-Authenticate": 'Bearer realm="green-api-block preview"'},
    )


@web.middleware
async def _guard(request: web.Request, handler: _Handler) -> web.StreamResponse:
    config = request.app[CONFIG_KEY]
    host = request.headers.get("Host", "")
    if host.lower() not in config.allowed_hosts:
        return web.Response(status=421, text="unknown Host: open the preview at the URL it printed\n")
    if request.path == WEBHOOK_PATH and config.trigger is not None:
        # The sandbox's pushes: the receiver checks their Bearer token (in constant time) and
        # answers every method and body itself, exactly as behind uvicorn.
        return await handler(request)
    if config.auth_token is not None:
        refused = _authenticate(request, config.auth_token)
        if refused is not None:
            return refused
    if request.method == "POST":
        origin = request.headers.get("Origin")
        if origin is not None and origin.lower() != f"http://{host.lower()}":
            return _problem(config, 403, "forbidden_origin", "requests from another web page are refused")
        if request.content_type != "application/json":
            return _problem(config, 415, "unsupported_media_type", "send the request as application/json")
    try:
        return await handler(request)
    except _TooDeep:
        return _problem(
            config, 400, "bad_request", f"the JSON body nests deeper than {jsonbody.MAX_DEPTH} levels"
        )


def _static(name: str) -> web.Response:
    data = (resources.files(__package__) / "static" / name).read_bytes()
    return web.Response(body=data, headers={**_SECURITY_HEADERS, "Content-Type": STATIC_FILES[name]})


async def _index(request: web.Request) -> web.StreamResponse:
    return _static("index.html")


async def _static_file(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise web.HTTPNotFound()
    return _static(name)


async def _favicon(request: web.Request) -> web.StreamResponse:
    icon = load_manifest().get("icon", {})
    svg = icon.get("svg", "") if isinstance(icon, dict) else ""
    return web.Response(text=svg, headers={**_SECURITY_HEADERS, "Content-Type": "image/svg+xml"})


async def _contract(request: web.Request) -> web.StreamResponse:
    return _json(read_contract(), request.app[CONFIG_KEY])


async def _session(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG_KEY]
    data: dict[str, Any] = {
        "mode": config.mode,
        "apiUrl": config.api_url,
        "bound": {"idInstance": config.bound_id_instance, "apiTokenInstance": config.token_bound},
        "tokenMarker": TOKEN_MARKER,
    }
    if config.sandbox is not None:
        data["sandbox"] = {"chatId": SANDBOX_CHAT_ID}
    return _json(data, config)


class _TooDeep(Exception):
    pass


async def _body(request: web.Request) -> Any:
    try:
        return jsonbody.loads(await request.read())
    except jsonbody.TooDeepError:
        raise _TooDeep from None
    except ValueError:
        return None


async def _run(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG_KEY]
    payload = await _body(request)
    if not isinstance(payload, dict) or not isinstance(payload.get("tool"), str):
        return _problem(config, 400, "bad_request", 'send {"tool": "<tool id>", "args": {...}}')
    args = payload.get("args", {})
    if not isinstance(args, dict):
        return _problem(config, 400, "bad_request", "args must be a JSON object")
    tool: str = payload["tool"]
    typed_token = args.get("apiTokenInstance")
    if typed_token == TOKEN_MARKER:
        del args["apiTokenInstance"]  # the server-bound token applies
        typed_token = None
    secrets = (typed_token,) if isinstance(typed_token, str) and typed_token else ()
    try:
        envelope = await config.block.ainvoke(tool, args)
    except Exception as exc:  # anything else is a bug, but the page still gets an envelope
        log.error("preview: %s failed: %s", tool, redact(f"{type(exc).__name__}: {exc}", secrets))
        message = redact(f"unexpected {type(exc).__name__}: {exc}", (*secrets, *config.secrets))
        envelope = {
            "ok": False,
            "error": {"code": "unexpected_error", "message": message, "retryable": False},
        }
    if tool == "green_api_get_notifications" and envelope.get("ok"):
        id_instance = str(args.get("idInstance") or config.bound_id_instance or "")
        for item in envelope["output"].get("notifications", []):
            config.feed.add(id_instance, int(item["receiptId"]), item["body"], "tool")
    return _json(_mask(envelope, secrets), config)


def _after(request: web.Request) -> int:
    """``?after=N``: the last item the page has (a bad value: from the start)."""
    try:
        return int(request.query.get("after", "0"))
    except ValueError:
        return 0


async def _notifications(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG_KEY]
    items, last = config.feed.since(_after(request))
    return _json({"items": items, "last": last}, config)


async def _incoming(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG_KEY]
    if config.sandbox is None or config.sandbox_instance is None:
        return _problem(config, 404, "not_found", "customer messages can be simulated with --sandbox only")
    payload = await _body(request)
    if not isinstance(payload, dict):
        return _problem(config, 400, "bad_request", 'send {"chatId": "...", "text": "..."}')
    chat_id = payload.get("chatId") or SANDBOX_CHAT_ID
    text = payload.get("text")
    if not isinstance(chat_id, str) or not chat_id.endswith("@c.us") or not isinstance(text, str) or not text:
        return _problem(
            config, 400, "bad_request", "chatId must be a personal chat (…@c.us) and text not empty"
        )
    result = config.sandbox.inject_incoming_text(config.sandbox_instance, chat_id, text[:20000])
    return _json({"ok": True, "idMessage": result.id_message, "receiptId": result.receipt_id}, config)


async def _trigger_state(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG_KEY]
    after = _after(request)
    if config.trigger is None:
        # The view still draws the trigger from the manifest; only the live part needs a sandbox.
        return _json({"available": False, "listening": False, "webhookUrl": None}, config)
    return _json(config.trigger.status(after), config)


async def _trigger_switch(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG_KEY]
    trigger = config.trigger
    if trigger is None:
        return _problem(config, 404, "not_found", "the trigger listens with --sandbox only")
    payload = await _body(request)
    if not isinstance(payload, dict) or not isinstance(payload.get("listening", False), bool):
        return _problem(config, 400, "bad_request", 'send {"listening": true|false, "filters": {...}}')
    filters = payload.get("filters")
    if filters is not None:
        if not isinstance(filters, dict):
            return _problem(config, 400, "bad_request", "filters must be a JSON object of sub-block values")
        # Values a person typed that make no filter: answered 200 with ok false, as /api/run
        # answers invalid input (the request was well formed; the page shows the reason).
        try:
            trigger.set_filter(filters)
        except ValidationError as exc:
            problems = "; ".join(str(e.get("msg", "")) for e in exc.errors())
            return _problem(config, 200, "invalid_filter", problems or "not a filter")
        except ValueError as exc:
            return _problem(config, 200, "invalid_filter", str(exc))
    if "listening" in payload and payload["listening"] != trigger.listening:
        trigger.switch(payload["listening"])
    return _json(trigger.status(after=trigger.feed.last), config)


def watch_sandbox(config: PreviewConfig) -> Callable[[str], None]:
    """Copy what the sandbox queues into the feed; returns the listener (to remove it later)."""
    sandbox, instance = config.sandbox, config.sandbox_instance
    assert sandbox is not None and instance is not None

    # The newest receipt id copied so far: each call takes only what was queued after it (it
    # used to re-walk the whole queue on every notification, O(queue) each time).
    lock = threading.Lock()
    last = 0

    def on_queued(id_instance: str) -> None:
        nonlocal last
        if id_instance != instance.id_instance:
            return
        with lock:  # listeners run on whichever thread queued the notification
            items = sandbox.backend.pending_after(id_instance, last, config.feed.limit)
            if items:
                last = items[-1].receipt_id
            for item in items:
                config.feed.add(id_instance, item.receipt_id, item.body, "sandbox")

    sandbox.backend.add_listener(on_queued)
    return on_queued


def create_app(config: PreviewConfig) -> web.Application:
    """The preview application; the caller runs it and closes ``config.block`` afterwards."""
    app = web.Application(middlewares=[_guard], client_max_size=_MAX_BODY)
    app[CONFIG_KEY] = config
    app.router.add_get("/", _index)
    app.router.add_get("/static/{name}", _static_file)
    app.router.add_get("/favicon.svg", _favicon)
    app.router.add_get("/api/contract", _contract)
    app.router.add_get("/api/session", _session)
    app.router.add_post("/api/run", _run)
    app.router.add_get("/api/notifications", _notifications)
    app.router.add_post("/api/sandbox/incoming", _incoming)
    app.router.add_get("/api/trigger", _trigger_state)
    app.router.add_post("/api/trigger", _trigger_switch)
    if config.trigger is not None:
        app.router.add_route("*", WEBHOOK_PATH, asgi_handler(config.trigger.receiver))
    return app
