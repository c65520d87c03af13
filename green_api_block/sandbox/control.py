"""The sandbox control plane over HTTP, under ``/__sandbox__/`` (never a Green API path).

For clients that are not Python (or not in the sandbox's process). Bodies and answers are JSON;
errors answer ``{"error": "..."}`` with 400 (bad input) or 404 (unknown instance or fault).

=======  =================================================  ==========================================
GET      /__sandbox__/                                      this list
GET      /__sandbox__/health                                ``{"ok": true, "instances": n}``
GET      /__sandbox__/connection                            this connection: TCP_NODELAY, keep-alive, port
POST     /__sandbox__/reset                                 forget instances, messages, faults
GET      /__sandbox__/instances                             every instance, with credentials
POST     /__sandbox__/instances                             create: ``{state?, idInstance?,
                                                            apiTokenInstance?, wid?, settings?, plan?}``
GET      /__sandbox__/instances/{id}                        credentials, state, settings
DELETE   /__sandbox__/instances/{id}                        remove
POST     /__sandbox__/instances/{id}/state                  ``{"stateInstance": "...", "notify"?: true}``
POST     /__sandbox__/instances/{id}/settings               ``{"outgoingWebhook": "yes", ...}``
POST     /__sandbox__/instances/{id}/incoming               inject a customer message, see below
POST     /__sandbox__/instances/{id}/notifications          ``{"body": {...}}`` queued as is
GET      /__sandbox__/instances/{id}/notifications          the queue, not consumed
DELETE   /__sandbox__/instances/{id}/notifications          empty the queue
GET      /__sandbox__/instances/{id}/sent                   what was sent (journal shape + ``payload``)
GET      /__sandbox__/instances/{id}/pushes                 webhook POSTs tried: ``[{receiptId, url,
                                                            status, error, at}]``, oldest first
POST     /__sandbox__/instances/{id}/sent/{idMessage}/status  ``{"status": "delivered"|"read"|...}``
GET      /__sandbox__/faults                                active fault rules
POST     /__sandbox__/faults                                ``{kind, instance?, method?, times?,
                                                            forever?, probability?, seed?, status?,
                                                            retryAfter?, delay?, body?, process?}``
DELETE   /__sandbox__/faults[/{faultId}]                    remove all faults, or one
GET      /__sandbox__/files/{name}                          placeholder bytes behind injected files
=======  =================================================  ==========================================

``POST .../incoming`` takes ``{"type": T, "chatId": ..., ...}`` plus optional ``sender``,
``senderName`` and ``quotedMessageId`` where they apply. ``T`` and its own fields:
``text`` (``text``, ``legacyQuote?``), ``extendedText`` (``text``, ``title?``, ``description?``),
``file`` (``fileName``, ``caption?``, ``downloadUrl?``, ``mimeType?``), ``location``
(``latitude``, ``longitude``, ``name?``, ``address?``), ``contact`` (``displayName``, ``phone``),
``buttonTap`` (``buttonId?``, ``buttonText?``, ``stanzaId?``, ``variant?``), ``reaction``
(``emoji``, ``stanzaId``), ``call`` (``chatId`` is the caller, ``status?``). The answer is
``{"idMessage", "receiptId", "queued", "delivered", "body"}``; ``receiptId`` is null when the
instance's settings filter the notification out.

Example::

    curl -X POST $URL/__sandbox__/instances/1101000001/incoming \\
         -d '{"type": "text", "chatId": "79001234567@c.us", "text": "hi"}'
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from aiohttp import web

from .. import jsonbody
from ..hostcheck import HostPolicy
from . import notifications as nb
from .api import json_response
from .defaults import CONTROL_PREFIX
from .emulator import Emulator
from .errors import APIError, SandboxError, UnknownInstanceError
from .faults import Fault, FaultOptions
from .records import InjectResult, SandboxInstance

__all__ = ["CONTROL_PREFIX", "add_control_routes", "control_guard"]

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _BadInput(Exception):
    pass


def _instance_json(inst: SandboxInstance) -> dict[str, Any]:
    # The control plane hands out the token on purpose: the sandbox made it up, and a client
    # outside this process has no other way to learn it.
    return {
        "idInstance": inst.id_instance,
        "apiTokenInstance": inst.api_token,
        "apiUrl": inst.api_url,
        "mediaUrl": inst.media_url,
        "wid": inst.wid,
    }


def _inject_json(result: InjectResult | None) -> dict[str, Any]:
    if result is None:
        return {"idMessage": None, "receiptId": None, "queued": False, "delivered": False, "body": None}
    return {
        "idMessage": result.id_message,
        "receiptId": result.receipt_id,
        "queued": result.queued,
        "delivered": result.delivered,
        "body": result.body,
    }


def _fault_json(fault: Fault) -> dict[str, Any]:
    return fault.describe()


def _str(body: Mapping[str, Any], key: str, *, required: bool = True, default: str | None = None) -> Any:
    value = body.get(key, default)
    if value is None:
        if required:
            raise _BadInput(f"'{key}' is required")
        return None
    if not isinstance(value, str):
        raise _BadInput(f"'{key}' must be a string")
    return value


def _number(body: Mapping[str, Any], key: str) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _BadInput(f"'{key}' must be a number")
    return float(value)


async def _json_body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        data = jsonbody.loads(raw)
    except jsonbody.TooDeepError as exc:
        raise _BadInput(str(exc)) from None
    except ValueError:
        raise _BadInput("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise _BadInput("the body must be a JSON object")
    return data


def _guarded(handler: _Handler) -> _Handler:
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except UnknownInstanceError as exc:
            return json_response({"error": str(exc)}, status=404)
        except APIError as exc:
            return json_response({"error": exc.message}, status=400)
        except (_BadInput, SandboxError, ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, status=400)

    return wrapper


def control_guard(policy: Callable[[], HostPolicy | None]) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Middleware: the control API answers only this machine's names and no other site's page.

    It hands out every instance's token, so a DNS-rebinding page (its own Host) and a cross-site
    page (browsers send Origin; curl and the block send none) are refused. ``policy()`` is None
    until the port is bound: everything is refused until then. Green API routes need the token.
    """

    @web.middleware
    async def guard(request: web.Request, handler: _Handler) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            rules = policy()
            if rules is None or not rules.host_ok(request.headers.get("Host")):
                return json_response(
                    {"error": "unknown Host: use the sandbox's URL (or start it with allowed_hosts)"},
                    status=421,
                )
            if not rules.origin_ok(request.headers.get("Origin")):
                return json_response({"error": "requests from another web page are refused"}, status=403)
        return await handler(request)

    return guard


def add_control_routes(app: web.Application, sandbox: Emulator) -> None:
    """Register the control endpoints of ``sandbox`` on ``app`` (before its catch-all route)."""
    p = CONTROL_PREFIX
    routes: list[tuple[str, str, _Handler]] = []

    def route(method: str, path: str) -> Callable[[_Handler], _Handler]:
        def register(handler: _Handler) -> _Handler:
            routes.append((method, p + path, _guarded(handler)))
            return handler

        return register

    @route("GET", "/")
    async def index(request: web.Request) -> web.StreamResponse:
        doc = __doc__ or ""
        return web.Response(text=doc, content_type="text/plain")

    @route("GET", "/health")
    async def health(request: web.Request) -> web.StreamResponse:
        return json_response({"ok": True, "instances": len(sandbox.instances())})

    @route("GET", "/connection")
    async def connection(request: web.Request) -> web.StreamResponse:
        # Evidence for "the server sets TCP_NODELAY": read back from the socket this request used.
        transport = request.transport
        sock = transport.get_extra_info("socket") if transport is not None else None
        nodelay = bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)) if sock is not None else None
        peer = transport.get_extra_info("peername") if transport is not None else None
        client_port = peer[1] if isinstance(peer, tuple) and len(peer) >= 2 else None
        return json_response(
            {"tcpNodelay": nodelay, "keepAlive": request.keep_alive, "clientPort": client_port}
        )

    @route("POST", "/reset")
    async def reset(request: web.Request) -> web.StreamResponse:
        sandbox.reset()
        return json_response({"reset": True})

    @route("GET", "/instances")
    async def list_instances(request: web.Request) -> web.StreamResponse:
        return json_response([_instance_json(i) for i in sandbox.instances()])

    @route("POST", "/instances")
    async def create_instance(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        settings = body.get("settings")
        if settings is not None and not isinstance(settings, dict):
            raise _BadInput("'settings' must be an object")
        inst = sandbox.create_instance(
            state=_str(body, "stateInstance", default=body.get("state", "authorized")),
            id_instance=_str(body, "idInstance", required=False),
            api_token=_str(body, "apiTokenInstance", required=False),
            wid=_str(body, "wid", required=False),
            settings=settings,
            plan=_str(body, "plan", required=False),
        )
        return json_response(_instance_json(inst), status=201)

    @route("GET", "/instances/{id}")
    async def get_instance(request: web.Request) -> web.StreamResponse:
        inst = sandbox.instance(request.match_info["id"])
        out = _instance_json(inst)
        out["stateInstance"] = sandbox.get_state(inst)
        out["settings"] = sandbox.get_settings(inst)
        return json_response(out)

    @route("DELETE", "/instances/{id}")
    async def remove_instance(request: web.Request) -> web.StreamResponse:
        sandbox.remove_instance(request.match_info["id"])
        return json_response({"removed": True})

    @route("POST", "/instances/{id}/state")
    async def set_state(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        state = _str(body, "stateInstance")
        notify = body.get("notify", True)
        if not isinstance(notify, bool):
            raise _BadInput("'notify' must be a boolean")
        result = sandbox.set_state(request.match_info["id"], state, notify=notify)
        return json_response({"stateInstance": state, "notification": _inject_json(result)})

    @route("POST", "/instances/{id}/settings")
    async def set_settings(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        return json_response(sandbox.set_settings(request.match_info["id"], body))

    @route("POST", "/instances/{id}/incoming")
    async def incoming(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        result = _inject(sandbox, request.match_info["id"], body)
        return json_response(_inject_json(result), status=201)

    @route("POST", "/instances/{id}/notifications")
    async def push_notification(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        payload = body.get("body")
        if not isinstance(payload, dict):
            raise _BadInput("'body' must be an object (the notification body to queue)")
        return json_response(
            _inject_json(sandbox.inject_notification(request.match_info["id"], payload)), status=201
        )

    @route("GET", "/instances/{id}/notifications")
    async def list_notifications(request: web.Request) -> web.StreamResponse:
        return json_response([n.wire() for n in sandbox.notifications(request.match_info["id"])])

    @route("DELETE", "/instances/{id}/notifications")
    async def clear_notifications(request: web.Request) -> web.StreamResponse:
        return json_response({"removed": sandbox.clear_notifications(request.match_info["id"])})

    @route("GET", "/instances/{id}/sent")
    async def sent(request: web.Request) -> web.StreamResponse:
        out = []
        for msg in sandbox.sent_messages(request.match_info["id"]):
            entry = msg.journal_entry()
            entry["method"] = msg.method
            entry["payload"] = msg.payload
            out.append(entry)
        return json_response(out)

    @route("GET", "/instances/{id}/pushes")
    async def pushes(request: web.Request) -> web.StreamResponse:
        return json_response([a.wire() for a in sandbox.push_attempts(request.match_info["id"])])

    @route("POST", "/instances/{id}/sent/{id_message}/status")
    async def message_status(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        result = sandbox.set_message_status(
            request.match_info["id"],
            request.match_info["id_message"],
            _str(body, "status"),
            description=_str(body, "description", required=False),
        )
        return json_response(_inject_json(result), status=201)

    @route("GET", "/faults")
    async def list_faults(request: web.Request) -> web.StreamResponse:
        return json_response([_fault_json(f) for f in sandbox.faults.list()])

    @route("POST", "/faults")
    async def add_fault(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        kind = _str(body, "kind")
        fault = sandbox.inject_fault(
            kind, instance=_str(body, "instance", required=False), **_fault_options(body)
        )
        return json_response(_fault_json(fault), status=201)

    @route("DELETE", "/faults")
    async def clear_faults(request: web.Request) -> web.StreamResponse:
        sandbox.clear_faults()
        return json_response({"removed": True})

    @route("DELETE", "/faults/{fault_id}")
    async def remove_fault(request: web.Request) -> web.StreamResponse:
        raw = request.match_info["fault_id"]
        if not raw.isdigit() or not sandbox.faults.remove(int(raw)):
            return json_response({"error": f"no fault {raw}"}, status=404)
        return json_response({"removed": True})

    @route("GET", "/files/{name}")
    async def files(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        _, mime = nb.file_kind(name)
        return web.Response(
            body=f"green-api-block sandbox placeholder for {name}\n".encode(), content_type=mime
        )

    for method, path, handler in routes:
        app.router.add_route(method, path, handler)


def _variant(body: Mapping[str, Any]) -> nb.ButtonReplyVariant:
    variant = _str(body, "variant", default="interactiveButtonsResponse")
    if variant not in nb.BUTTON_REPLY_VARIANTS:
        raise _BadInput(f"'variant' must be one of {', '.join(nb.BUTTON_REPLY_VARIANTS)}")
    return cast(nb.ButtonReplyVariant, variant)


def _inject(sandbox: Emulator, id_instance: str, body: Mapping[str, Any]) -> InjectResult | None:
    kind = _str(body, "type")
    chat_id = _str(body, "chatId")
    common: dict[str, Any] = {"sender": _str(body, "sender", required=False)}
    if "senderName" in body:
        common["sender_name"] = _str(body, "senderName")
    quoted = _str(body, "quotedMessageId", required=False)
    if kind == "text":
        return sandbox.inject_incoming_text(
            id_instance,
            chat_id,
            _str(body, "text"),
            quoted_message_id=quoted,
            legacy_quote=bool(body.get("legacyQuote", False)),
            **common,
        )
    if kind == "extendedText":
        return sandbox.inject_extended_text(
            id_instance,
            chat_id,
            _str(body, "text"),
            title=_str(body, "title", default=""),
            description=_str(body, "description", default=""),
            quoted_message_id=quoted,
            **common,
        )
    if kind == "file":
        return sandbox.inject_incoming_file(
            id_instance,
            chat_id,
            _str(body, "fileName"),
            caption=_str(body, "caption", default=""),
            download_url=_str(body, "downloadUrl", required=False),
            mime_type=_str(body, "mimeType", required=False),
            quoted_message_id=quoted,
            **common,
        )
    if kind == "location":
        return sandbox.inject_location(
            id_instance,
            chat_id,
            _number(body, "latitude"),
            _number(body, "longitude"),
            name=_str(body, "name", default=""),
            address=_str(body, "address", default=""),
            **common,
        )
    if kind == "contact":
        return sandbox.inject_contact(
            id_instance, chat_id, _str(body, "displayName"), _str(body, "phone"), **common
        )
    if kind == "buttonTap":
        return sandbox.inject_button_tap(
            id_instance,
            chat_id,
            button_id=_str(body, "buttonId", required=False),
            button_text=_str(body, "buttonText", required=False),
            stanza_id=_str(body, "stanzaId", required=False),
            variant=_variant(body),
            **common,
        )
    if kind == "reaction":
        return sandbox.inject_reaction(
            id_instance, chat_id, _str(body, "emoji"), _str(body, "stanzaId"), **common
        )
    if kind == "call":
        return sandbox.inject_incoming_call(
            id_instance, chat_id, status=_str(body, "status", default="offer")
        )
    raise _BadInput(
        f"unknown type {kind!r}; expected text, extendedText, file, location, contact, "
        "buttonTap, reaction or call"
    )


#: The control endpoint's camelCase spelling of each :class:`FaultOptions` key.
_FAULT_FIELDS: dict[str, str] = {"retryAfter": "retry_after"} | {
    key: key for key in FaultOptions.__annotations__ if key != "retry_after"
}


_FAULT_TYPES: dict[str, tuple[str, tuple[type, ...]]] = {
    "method": ("a string", (str,)),
    "body": ("a string", (str,)),
    "forever": ("a boolean", (bool,)),
    "process": ("a boolean", (bool,)),
    "times": ("an integer", (int,)),
    "seed": ("an integer", (int,)),
    "status": ("an integer", (int,)),
    "probability": ("a number", (int, float)),
    "retry_after": ("a number", (int, float)),
    "delay": ("a number", (int, float)),
}


def _fault_options(body: Mapping[str, Any]) -> FaultOptions:
    unknown = sorted(set(body) - set(_FAULT_FIELDS) - {"kind", "instance"})
    if unknown:
        raise _BadInput(f"unknown fault fields: {', '.join(unknown)}")
    options: dict[str, Any] = {}
    for field, key in _FAULT_FIELDS.items():
        if field not in body:
            continue
        value = body[field]
        what, types = _FAULT_TYPES[key]
        wrong_bool = isinstance(value, bool) and bool not in types
        if value is not None and (wrong_bool or not isinstance(value, types)):
            raise _BadInput(f"'{field}' must be {what}")
        options[key] = value
    return cast(FaultOptions, options)
