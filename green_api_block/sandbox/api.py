"""The sandbox's Green API HTTP layer: aiohttp.web routes -> backend -> JSON, errors rendered in one place.

Paths are Green API's: ``/waInstance{idInstance}/{method}/{apiTokenInstance}[/{arg}]``, method
names matched case-insensitively. Emulated methods:

======================================  ======  ============================================
sendMessage                             POST    §2, validated, recorded, notifications queued
sendFileByUrl                           POST    §3.1
sendInteractiveButtons                  POST    §4.2
sendInteractiveButtonsReply             POST    §4.3
sendButtons / sendTemplateButtons /     any     403, archived since 2023-12 (§4.1)
sendListMessage
receiveNotification?receiveTimeout=N    GET     long poll, N in 5..60 (default 5), JSON null when empty
                                                (and while a webhookUrl is set: push mode, see push.py)
deleteNotification/{receiptId}          DELETE  {"result": true|false}; false while a webhookUrl is set
getStateInstance                        GET     {"stateInstance": ...}
getSettings / setSettings               GET/POST
lastOutgoingMessages / lastIncomingMessages  GET  ?minutes= (default 1440)
======================================  ======  ============================================

Order of checks for each request: fault injection, instance (403) and token (401), method
(404 unknown or wrong verb, 403 archived, 501 a real method the sandbox does not emulate), rate
limit (429), instance state (400), body (400), Developer-plan quota (466). Error bodies use the
envelope a live instance was seen to answer (``statusCode``, ``timestamp``, ``path``,
``message``); like the real one, ``path`` contains the token, which makes this a useful canary
for a client's redaction. 466 carries its documented body instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Final

from aiohttp import web

from . import validation as v
from .emulator import Emulator
from .errors import APIError, UnknownInstanceError
from .faults import Fault, FaultInjector
from .records import MethodKind
from .state import SandboxBackend

__all__ = ["EMULATED_METHODS", "GreenApiHandler", "json_response"]

_API_PATH: Final = re.compile(r"/waInstance(\d{1,20})/([A-Za-z]+)/([^/]+)(?:/([^/]*))?/?")


@dataclass(frozen=True, slots=True)
class _Call:
    id_instance: str
    method: str
    token: str
    arg: str | None


_Handler = Callable[[web.Request, _Call], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class _Method:
    name: str
    verb: str
    kind: MethodKind
    handler: _Handler | None  # None: archived, always 403
    path_arg: bool = False


# Real Green API methods the sandbox does not emulate: a clear 501 beats a misleading 404.
_NOT_EMULATED: Final = frozenset(
    m.lower()
    for m in (
        "sendFileByUpload",
        "uploadFile",
        "sendPoll",
        "sendLocation",
        "sendContact",
        "forwardMessages",
        "sendLink",
        "sendTyping",
        "editMessage",
        "deleteMessage",
        "getMessage",
        "getChatHistory",
        "downloadFile",
        "readChat",
        "checkWhatsapp",
        "checkAccount",
        "getContacts",
        "getContactInfo",
        "getAvatar",
        "reboot",
        "logout",
        "qr",
        "getAuthorizationCode",
        "getWaSettings",
        "setProfilePicture",
        "getStatusInstance",
        "showMessagesQueue",
        "clearMessagesQueue",
        "lastIncomingCalls",
        "getStateInstanceHistory",
        "createGroup",
        "updateGroupName",
        "getGroupData",
        "addGroupParticipant",
        "removeGroupParticipant",
        "setGroupAdmin",
        "removeAdmin",
        "setGroupPicture",
        "leaveGroup",
        "archiveChat",
        "unarchiveChat",
        "setDisappearingChat",
        "sendTextStatus",
        "sendVoiceStatus",
        "sendMediaStatus",
        "getOutgoingStatuses",
        "getIncomingStatuses",
        "getStatusStatistic",
        "deleteStatus",
    )
)


def json_response(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON in one buffer (so aiohttp writes headers and body together); ``None`` -> ``null``."""
    return web.Response(
        status=status,
        text=json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        content_type="application/json",
        headers=headers,
    )


def _retry_after_header(seconds: float) -> str:
    # The header carries whole seconds (RFC 9110); a fraction would be rounded by most clients
    # anyway, and rounding up keeps a client that honours it from retrying too early.
    return str(max(1, math.ceil(seconds)))


def _timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_NGINX_PAGE: Final = (
    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class GreenApiHandler:
    """Request handling for the Green API routes of one served app; reaches the emulator's
    backend and faults through one attribute, so what a test swaps on them is what it serves.

    Long-poll waiters live here, on the event loop. :meth:`install` adds the routes and ties the
    waiters to the app's life: the backend's enqueue listener wakes them through the loop from
    whichever thread queued the item, and shutdown releases every one at once.
    """

    def __init__(
        self,
        emulator: Emulator,
        *,
        max_receive_wait: float | None = None,
        retry_after_header: bool = False,
    ) -> None:
        if max_receive_wait is not None and max_receive_wait < 0:
            raise ValueError("max_receive_wait must not be negative")
        self.emulator = emulator
        self.max_receive_wait = max_receive_wait
        self.retry_after_header = retry_after_header
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}
        self._closing = False
        self._listener: Callable[[str], None] | None = None
        methods = [
            _Method("sendMessage", "POST", "send", self._send_message),
            _Method("sendFileByUrl", "POST", "send", self._send_file_by_url),
            _Method("sendInteractiveButtons", "POST", "send", self._send_interactive_buttons),
            _Method("sendInteractiveButtonsReply", "POST", "send", self._send_interactive_buttons_reply),
            _Method("sendButtons", "POST", "send", None),
            _Method("sendTemplateButtons", "POST", "send", None),
            _Method("sendListMessage", "POST", "send", None),
            _Method("receiveNotification", "GET", "receive", self._receive_notification),
            _Method("deleteNotification", "DELETE", "receive", self._delete_notification, path_arg=True),
            _Method("getStateInstance", "GET", "state", self._get_state_instance),
            _Method("getSettings", "GET", "account", self._get_settings),
            _Method("setSettings", "POST", "account", self._set_settings),
            _Method("lastOutgoingMessages", "GET", "journal", self._last_outgoing),
            _Method("lastIncomingMessages", "GET", "journal", self._last_incoming),
        ]
        self._methods = {m.name.lower(): m for m in methods}

    @property
    def backend(self) -> SandboxBackend:
        return self.emulator.backend

    @property
    def faults(self) -> FaultInjector:
        return self.emulator.faults

    # ---------------------------------------------------------------- app life and long polls

    def install(self, app: web.Application) -> None:
        """Serve the Green API paths on ``app`` (as its catch-all: add other routes first)."""
        app.router.add_route("*", "/{tail:.*}", self.handle)
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)

    async def _on_startup(self, app: web.Application) -> None:
        loop = asyncio.get_running_loop()

        def on_enqueue(id_instance: str) -> None:
            if not loop.is_closed():
                with contextlib.suppress(RuntimeError):  # closed between the check and the call
                    loop.call_soon_threadsafe(self._wake, id_instance)

        self._listener = on_enqueue
        self.backend.add_listener(on_enqueue)

    async def _on_shutdown(self, app: web.Application) -> None:
        # Release every long poll at once, so that shutdown does not wait up to 60 s for them.
        if self._listener is not None:
            self.backend.remove_listener(self._listener)
            self._listener = None
        self._closing = True
        for id_instance in list(self._waiters):
            self._wake(id_instance)

    def _wake(self, id_instance: str) -> None:
        for fut in self._waiters.pop(id_instance, set()):
            if not fut.done():
                fut.set_result(None)

    # ---------------------------------------------------------------- entry point

    async def handle(self, request: web.Request) -> web.StreamResponse:
        match = _API_PATH.fullmatch(request.path)
        if match is None:
            return self._error(request, APIError(404, f"Cannot {request.method} {request.path}"))
        if request.method == "OPTIONS":
            return web.Response(status=204)
        id_instance, raw_method, token, arg = match.groups()
        spec = self._methods.get(raw_method.lower())
        call = _Call(id_instance, spec.name if spec else raw_method, token, arg or None)

        fault = self.faults.take(id_instance, call.method)
        if fault is None:
            return await self._dispatch(request, call)
        return await self._apply_fault(request, call, fault)

    async def _apply_fault(self, request: web.Request, call: _Call, fault: Fault) -> web.StreamResponse:
        if fault.kind == "drop_before":
            if fault.delay:
                await asyncio.sleep(fault.delay)
            return self._drop(request)
        # The request is read in full before any delay: a slow server has the body already, so a
        # client that gives up during the delay does not undo a send (it goes out regardless).
        try:
            await request.read()
        except ConnectionError:
            return web.Response(status=499)  # never written: the client is gone
        # process=True: the effect first, then the held answer ("sent, no answer yet"); else the
        # delay first and the request after it (a slow server that had not got to it yet).
        real = await self._dispatch(request, call) if fault.process else None
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.kind == "delay":
            return real if real is not None else await self._dispatch(request, call)
        if fault.kind == "drop_after":
            return self._drop(request)
        return self._fault_response(fault, real)

    @staticmethod
    def _drop(request: web.Request) -> web.StreamResponse:
        # abort() resets the connection without a response; aiohttp then skips writing the
        # response we return (the transport is gone), which is exactly the client's view of a
        # server that died mid-request.
        transport = request.transport
        if transport is not None:
            transport.abort()
        return web.Response(status=500)

    def _fault_response(self, fault: Fault, real: web.Response | None) -> web.Response:
        headers: dict[str, str] = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = _retry_after_header(fault.retry_after)
        if fault.kind == "malformed_json":
            base = real.body if real is not None and isinstance(real.body, bytes) and real.body else b""
            if not base:
                base = b'{"idMessage":"3EB0C767D097B7C7C030"}'
            cut = base[: max(2, len(base) // 2)]
            try:
                json.loads(cut)
                cut += b"{"  # a short answer can survive halving ("12" -> "1"): break it for sure
            except ValueError:
                pass
            return web.Response(
                status=fault.status or 200, body=cut, content_type="application/json", headers=headers
            )
        status = fault.status or (500 if fault.kind == "status" else 200)
        if fault.body is not None:
            kind = "application/json" if fault.body.lstrip().startswith(("{", "[")) else "text/plain"
            if fault.body.lstrip().startswith("<"):
                kind = "text/html"
            return web.Response(status=status, text=fault.body, content_type=kind, headers=headers)
        if fault.kind == "text" or status in (502, 503, 504):
            page = _NGINX_PAGE.format(code=status, reason=_reason(status))
            return web.Response(status=status, text=page, content_type="text/html", headers=headers)
        envelope = {"statusCode": status, "timestamp": _timestamp(), "message": _reason(status)}
        return json_response(envelope, status=status, headers=headers)

    # ---------------------------------------------------------------- dispatch and errors

    async def _dispatch(self, request: web.Request, call: _Call) -> web.Response:
        try:
            result = await self._run(request, call)
        except APIError as err:
            return self._error(request, err)
        except UnknownInstanceError:  # removed by the control API while the request ran
            return self._error(request, APIError(403, "Forbidden"))
        except ConnectionError:
            # The client went away while its body was still arriving; nothing was done, and there
            # is no one to answer (the status is only for aiohttp, which will not write it).
            return web.Response(status=499)
        return json_response(result)

    async def _run(self, request: web.Request, call: _Call) -> Any:
        self.backend.authenticate(call.id_instance, call.token)
        spec = self._methods.get(call.method.lower())
        if spec is None:
            if call.method.lower() in _NOT_EMULATED:
                raise APIError(
                    501,
                    f"{call.method} is a Green API method the green-api-block sandbox does not emulate; "
                    f"emulated: {', '.join(EMULATED_METHODS)}",
                )
            raise APIError(404, f"Cannot {request.method} {request.path}")
        if spec.handler is None:
            raise APIError(403, "Forbidden")
        if (
            request.method != spec.verb
            or (spec.path_arg and not call.arg)
            or (call.arg and not spec.path_arg)
        ):
            raise APIError(404, f"Cannot {request.method} {request.path}")
        self.backend.take_rate(call.id_instance, spec.name)
        self.backend.check_state(call.id_instance, spec.kind)
        return await spec.handler(request, call)

    def _error(self, request: web.Request, err: APIError) -> web.Response:
        headers = dict(err.headers)
        if err.status == 429 and self.retry_after_header and err.retry_after is not None:
            headers["Retry-After"] = _retry_after_header(err.retry_after)
        if err.body is not None:
            return json_response(err.body, status=err.status, headers=headers)
        envelope = {
            "statusCode": err.status,
            "timestamp": _timestamp(),
            "path": request.raw_path,
            "message": err.message,
        }
        return json_response(envelope, status=err.status, headers=headers)

    # ---------------------------------------------------------------- methods

    async def _body(self, request: web.Request) -> Any:
        return v.parse_json_body(await request.read())

    async def _send(
        self, request: web.Request, call: _Call, validate: Callable[[Any], dict[str, Any]]
    ) -> Any:
        payload = validate(await self._body(request))
        sent = self.backend.record_send(call.id_instance, call.method, payload)
        return {"idMessage": sent.id_message}

    async def _send_message(self, request: web.Request, call: _Call) -> Any:
        return await self._send(request, call, v.validate_send_message)

    async def _send_file_by_url(self, request: web.Request, call: _Call) -> Any:
        return await self._send(request, call, v.validate_send_file_by_url)

    async def _send_interactive_buttons(self, request: web.Request, call: _Call) -> Any:
        return await self._send(request, call, v.validate_interactive_buttons)

    async def _send_interactive_buttons_reply(self, request: web.Request, call: _Call) -> Any:
        return await self._send(request, call, v.validate_interactive_buttons_reply)

    async def _receive_notification(self, request: web.Request, call: _Call) -> Any:
        timeout = v.parse_receive_timeout(request.query.get("receiveTimeout"))
        hold = float(timeout) if self.max_receive_wait is None else min(timeout, self.max_receive_wait)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + hold
        while True:
            # peek and the waiter registration below run without an await in between, so a
            # wake-up scheduled after this peek cannot be lost. While a webhookUrl is set, peek
            # answers None: Green API says polling does not work then, and its exact answer is
            # unverified; we hold the poll and answer JSON null, as for an empty queue.
            item = self.backend.peek(call.id_instance)
            if item is not None:
                return item.wire()
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                return None
            fut: asyncio.Future[None] = loop.create_future()
            self._waiters.setdefault(call.id_instance, set()).add(fut)
            try:
                await asyncio.wait_for(fut, remaining)
            except TimeoutError:
                pass
            finally:
                waiting = self._waiters.get(call.id_instance)
                if waiting is not None:
                    waiting.discard(fut)
                    if not waiting:
                        del self._waiters[call.id_instance]

    async def _delete_notification(self, request: web.Request, call: _Call) -> Any:
        receipt_id = v.parse_receipt_id(call.arg or "")
        # delete_polled refuses while a webhookUrl is set: the pusher owns the queue then.
        return {"result": self.backend.delete_polled(call.id_instance, receipt_id)}

    async def _get_state_instance(self, request: web.Request, call: _Call) -> Any:
        return {"stateInstance": self.backend.get_state(call.id_instance)}

    async def _get_settings(self, request: web.Request, call: _Call) -> Any:
        return self.backend.get_settings(call.id_instance)

    async def _set_settings(self, request: web.Request, call: _Call) -> Any:
        changes = v.validate_settings(await self._body(request))
        self.backend.set_settings(call.id_instance, changes)
        return {"saveSettings": True}

    async def _last_outgoing(self, request: web.Request, call: _Call) -> Any:
        minutes = v.parse_minutes(request.query.get("minutes"))
        return self.backend.last_outgoing(call.id_instance, minutes)

    async def _last_incoming(self, request: web.Request, call: _Call) -> Any:
        minutes = v.parse_minutes(request.query.get("minutes"))
        return self.backend.last_incoming(call.id_instance, minutes)


#: The Green API methods the sandbox answers (archived button methods answer 403).
EMULATED_METHODS: Final[tuple[str, ...]] = (
    "sendMessage",
    "sendFileByUrl",
    "sendInteractiveButtons",
    "sendInteractiveButtonsReply",
    "receiveNotification",
    "deleteNotification",
    "getStateInstance",
    "getSettings",
    "setSettings",
    "lastOutgoingMessages",
    "lastIncomingMessages",
)
