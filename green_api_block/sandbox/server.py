"""``Sandbox``: the emulator served over real HTTP from a background thread, plus its Python control API.

The aiohttp application runs on its own event loop in a daemon thread, on 127.0.0.1 and a free
port by default. aiohttp sets TCP_NODELAY on every accepted connection and writes each of our
responses in one buffer, so keep-alive clients never sit out Nagle/delayed-ACK stalls; it also
serves hundreds of concurrent keep-alive clients and long polls without a thread each.

Every control method is thread-safe and never waits on the server loop, so it can be called
from a test, from another thread or from the control HTTP endpoints (which run on that loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from . import notifications as nb
from .app import GreenApiWire
from .control import add_control_routes
from .errors import SandboxError
from .faults import Fault, FaultInjector, FaultKind
from .state import (
    InjectResult,
    Notification,
    Plan,
    SandboxBackend,
    SandboxInstance,
    SentMessage,
)

__all__ = ["DEFAULT_SANDBOX_SETTINGS", "InstanceRef", "Sandbox"]

InstanceRef = SandboxInstance | str | int

#: Settings every sandbox instance starts with, on top of the service's all-"no" defaults.
#: Without incomingWebhook an injected customer message would vanish silently, which is never what
#: someone testing a workflow wants; pass ``default_settings={}`` for the real service's defaults.
DEFAULT_SANDBOX_SETTINGS: Mapping[str, str] = {"incomingWebhook": "yes"}

_THREAD_NAME = "green-api-sandbox"


def _id(instance: InstanceRef) -> str:
    return instance.id_instance if isinstance(instance, SandboxInstance) else str(instance)


class Sandbox:
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
    * ``shutdown_timeout``: how long ``close()`` lets in-flight requests finish.
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
        shutdown_timeout: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_receive_wait is not None and max_receive_wait < 0:
            raise ValueError("max_receive_wait must not be negative")
        self._host = host
        self._requested_port = port
        self._shutdown_timeout = shutdown_timeout
        self.backend = SandboxBackend(
            rate_limits=rate_limits,
            quota=quota,
            default_settings=DEFAULT_SANDBOX_SETTINGS if default_settings is None else default_settings,
            clock=clock,
        )
        self.faults = FaultInjector()
        self._wire = GreenApiWire(
            self.backend,
            self.faults,
            max_receive_wait=max_receive_wait,
            retry_after_header=retry_after_header,
        )
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._port: int | None = None
        self._closed = False
        self.backend.add_listener(self._on_enqueue)

    # ---------------------------------------------------------------- lifecycle

    def __repr__(self) -> str:
        where = self.url if self.running else "not running"
        return f"<Sandbox {where}>"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return self._port is not None and not self._closed

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        if self._port is None:
            raise SandboxError("the sandbox is not running; call start() or use `with Sandbox() as sb:`")
        return self._port

    @property
    def url(self) -> str:
        """The base URL, used as both apiUrl and mediaUrl, e.g. ``http://127.0.0.1:40213``."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    def start(self) -> Self:
        """Start serving; returns when the port is bound (or raises what prevented it)."""
        if self._thread is not None or self._closed:
            raise SandboxError("a Sandbox can be started once")
        self._thread = threading.Thread(target=self._run, name=_THREAD_NAME, daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            self._thread.join()
            self._closed = True
            raise self._startup_error
        return self

    def close(self) -> None:
        """Stop serving: release long polls, close every connection and the socket, join the thread."""
        thread, loop, stop = self._thread, self._loop, self._stop
        self._closed = True
        if thread is None:
            return
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed on its own in between
                loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=self._shutdown_timeout + 10)
        self._thread = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            runner = loop.run_until_complete(self._serve())  # cleans up after itself on failure
        except BaseException as exc:
            self._startup_error = exc
            loop.close()
            self._ready.set()
            return
        self._loop = loop
        self._ready.set()
        try:
            assert self._stop is not None
            loop.run_until_complete(self._stop.wait())
        finally:
            self._wire.close()
            loop.run_until_complete(runner.cleanup())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            self._loop = None
            loop.close()

    async def _serve(self) -> web.AppRunner:
        self._stop = asyncio.Event()
        # 1 MiB matches aiohttp's default; a 20000-character message is far below it.
        app = web.Application(client_max_size=1024**2)
        add_control_routes(app, self)
        app.router.add_route("*", "/{tail:.*}", self._wire.handle)
        runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=self._shutdown_timeout,
        )
        await runner.setup()
        # A deep backlog: a burst of hundreds of connects must not be dropped and SYN-retried
        # (a one-second stall per retry) before the loop gets to accept them.
        site = web.TCPSite(runner, self._host, self._requested_port, backlog=1024)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._port = int(runner.addresses[0][1])
        self.backend.base_url = self.url
        return runner

    def _on_enqueue(self, id_instance: str) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # closed between the check and the call
            loop.call_soon_threadsafe(self._wire.wake, id_instance)

    # ---------------------------------------------------------------- instances, state, settings

    def create_instance(
        self,
        *,
        state: str = "authorized",
        id_instance: str | None = None,
        api_token: str | None = None,
        wid: str | None = None,
        settings: Mapping[str, Any] | None = None,
        plan: Plan | None = None,
    ) -> SandboxInstance:
        """A new instance: 10-digit ``id_instance``, 50-hex-char ``api_token``, ``api_url`` = ``url``.

        ``settings`` are applied over the defaults (e.g. ``{"outgoingWebhook": "yes"}``);
        ``plan="developer"`` enables the 3-chats-a-month quota for this instance only.
        """
        return self.backend.create_instance(
            state=state, id_instance=id_instance, api_token=api_token, wid=wid, settings=settings, plan=plan
        )

    def instance(self, id_instance: str | int) -> SandboxInstance:
        return self.backend.instance(str(id_instance))

    def instances(self) -> list[SandboxInstance]:
        return self.backend.instances()

    def remove_instance(self, instance: InstanceRef) -> None:
        self.backend.remove_instance(_id(instance))

    def get_state(self, instance: InstanceRef) -> str:
        return self.backend.get_state(_id(instance))

    def set_state(self, instance: InstanceRef, state: str, *, notify: bool = True) -> InjectResult | None:
        """Change the state; with ``stateWebhook`` on, queues ``stateInstanceChanged``.

        Back to ``authorized``, messages queued while blocked/yellowCard/sleepMode go out.
        """
        return self.backend.set_state(_id(instance), state, notify=notify)

    def inject_state_change(self, instance: InstanceRef, state: str) -> InjectResult | None:
        """Alias of :meth:`set_state`, named like the other injections."""
        return self.set_state(instance, state)

    def get_settings(self, instance: InstanceRef) -> dict[str, Any]:
        return self.backend.get_settings(_id(instance))

    def set_settings(
        self, instance: InstanceRef, settings: Mapping[str, Any] | None = None, **flags: Any
    ) -> dict[str, Any]:
        """Change settings at once, e.g. ``sb.set_settings(inst, outgoingWebhook="yes")``."""
        return self.backend.set_settings(_id(instance), {**(settings or {}), **flags})

    # ---------------------------------------------------------------- what the bot sent

    def sent_messages(self, instance: InstanceRef) -> list[SentMessage]:
        """Everything accepted by a send method, oldest first."""
        return self.backend.sent_messages(_id(instance))

    def set_message_status(
        self, instance: InstanceRef, id_message: str, status: str, *, description: str | None = None
    ) -> InjectResult:
        """Advance a sent message (delivered, read, failed, ...) and queue its status notification."""
        return self.backend.set_message_status(_id(instance), id_message, status, description=description)

    def notifications(self, instance: InstanceRef) -> list[Notification]:
        """The queued notifications, head first, without removing any."""
        return self.backend.pending(_id(instance))

    def clear_notifications(self, instance: InstanceRef) -> int:
        return self.backend.clear_queue(_id(instance))

    # ---------------------------------------------------------------- what the customer does

    def _incoming(
        self,
        instance: InstanceRef,
        chat_id: str,
        message_data: Mapping[str, Any],
        *,
        sender: str | None,
        sender_name: str,
        chat_name: str,
        quoted_message_id: str | None,
        legacy_quote: bool = False,
        id_message: str | None = None,
    ) -> InjectResult:
        return self.backend.inject_incoming(
            _id(instance),
            chat_id,
            message_data,
            sender=sender,
            sender_name=sender_name,
            chat_name=chat_name,
            sender_contact_name=sender_name,
            quoted_message_id=quoted_message_id,
            legacy_quote=legacy_quote,
            id_message=id_message,
        )

    def inject_incoming_text(
        self,
        instance: InstanceRef,
        chat_id: str,
        text: str,
        *,
        sender: str | None = None,
        sender_name: str = "Customer",
        chat_name: str = "",
        quoted_message_id: str | None = None,
        legacy_quote: bool = False,
        id_message: str | None = None,
    ) -> InjectResult:
        """A customer's text message (``textMessage``).

        ``quoted_message_id`` makes it a reply to a message in the same chat (one the bot sent or
        one injected earlier); ``legacy_quote=True`` uses the deprecated ``quotedMessage`` type.
        For a group ``chat_id`` (``...@g.us``) pass ``sender`` (the member's ``...@c.us``).
        """
        return self._incoming(
            instance,
            chat_id,
            nb.text_data(text),
            sender=sender,
            sender_name=sender_name,
            chat_name=chat_name,
            quoted_message_id=quoted_message_id,
            legacy_quote=legacy_quote,
            id_message=id_message,
        )

    def inject_extended_text(
        self,
        instance: InstanceRef,
        chat_id: str,
        text: str,
        *,
        title: str = "",
        description: str = "",
        sender: str | None = None,
        sender_name: str = "Customer",
        chat_name: str = "",
        quoted_message_id: str | None = None,
    ) -> InjectResult:
        """A text with a link preview or formatting (``extendedTextMessage``)."""
        data = nb.extended_text_data(text, title=title, description=description)
        return self._incoming(
            instance,
            chat_id,
            data,
            sender=sender,
            sender_name=sender_name,
            chat_name=chat_name,
            quoted_message_id=quoted_message_id,
        )

    def inject_incoming_file(
        self,
        instance: InstanceRef,
        chat_id: str,
        file_name: str,
        *,
        caption: str = "",
        download_url: str | None = None,
        mime_type: str | None = None,
        type_message: str | None = None,
        sender: str | None = None,
        sender_name: str = "Customer",
        chat_name: str = "",
        quoted_message_id: str | None = None,
    ) -> InjectResult:
        """An image, video, audio or document; the extension picks the type (``photo.jpg`` -> image).

        ``download_url`` defaults to a URL on this sandbox that serves placeholder bytes.
        """
        url = download_url or f"{self.url}/__sandbox__/files/{file_name}"
        data = nb.file_data(url, file_name, caption=caption, type_message=type_message, mime_type=mime_type)
        return self._incoming(
            instance,
            chat_id,
            data,
            sender=sender,
            sender_name=sender_name,
            chat_name=chat_name,
            quoted_message_id=quoted_message_id,
        )

    def inject_incoming_image(
        self,
        instance: InstanceRef,
        chat_id: str,
        *,
        caption: str = "",
        file_name: str = "photo.jpg",
        **kwargs: Any,
    ) -> InjectResult:
        return self.inject_incoming_file(instance, chat_id, file_name, caption=caption, **kwargs)

    def inject_incoming_document(
        self,
        instance: InstanceRef,
        chat_id: str,
        file_name: str = "document.pdf",
        *,
        caption: str = "",
        **kwargs: Any,
    ) -> InjectResult:
        return self.inject_incoming_file(
            instance, chat_id, file_name, caption=caption, type_message="documentMessage", **kwargs
        )

    def inject_location(
        self,
        instance: InstanceRef,
        chat_id: str,
        latitude: float,
        longitude: float,
        *,
        name: str = "",
        address: str = "",
        sender: str | None = None,
        sender_name: str = "Customer",
    ) -> InjectResult:
        data = nb.location_data(latitude, longitude, name=name, address=address)
        return self._incoming(
            instance,
            chat_id,
            data,
            sender=sender,
            sender_name=sender_name,
            chat_name="",
            quoted_message_id=None,
        )

    def inject_contact(
        self,
        instance: InstanceRef,
        chat_id: str,
        display_name: str,
        phone: str,
        *,
        vcard: str | None = None,
        sender: str | None = None,
        sender_name: str = "Customer",
    ) -> InjectResult:
        data = nb.contact_data(display_name, vcard or nb.vcard(display_name, phone))
        return self._incoming(
            instance,
            chat_id,
            data,
            sender=sender,
            sender_name=sender_name,
            chat_name="",
            quoted_message_id=None,
        )

    def inject_reaction(
        self,
        instance: InstanceRef,
        chat_id: str,
        emoji: str,
        stanza_id: str,
        *,
        sender: str | None = None,
        sender_name: str = "Customer",
    ) -> InjectResult:
        """A reaction to message ``stanza_id`` (for a bot's own message, the participant is the bot)."""
        inst = self.instance(_id(instance))
        own = any(m.id_message == stanza_id for m in self.sent_messages(inst))
        data = nb.reaction_data(emoji, stanza_id, inst.wid if own else (sender or chat_id))
        return self._incoming(
            instance,
            chat_id,
            data,
            sender=sender,
            sender_name=sender_name,
            chat_name="",
            quoted_message_id=None,
        )

    def inject_button_tap(
        self,
        instance: InstanceRef,
        chat_id: str,
        *,
        button_id: str | None = None,
        button_text: str | None = None,
        stanza_id: str | None = None,
        variant: nb.ButtonReplyVariant = "interactiveButtonsResponse",
        sender: str | None = None,
        sender_name: str = "Customer",
    ) -> InjectResult:
        """The customer taps a reply button.

        Without ``stanza_id`` the tap answers the latest button message sent to ``chat_id``; give
        ``button_id`` or ``button_text`` (or neither, for the first button) and the other fields
        are taken from that message. ``variant`` picks the spelling a device produces
        (REFERENCE.md §4.3): ``interactiveButtonsResponse`` (default),
        ``templateButtonsReplyMessage``, ``templateButtonReplyMessage`` or the legacy
        ``buttonsResponseMessage``.
        """
        message = self.backend.find_button_message(_id(instance), chat_id, stanza_id)
        if message is None:
            if stanza_id is None or button_id is None or button_text is None:
                raise SandboxError(
                    f"no button message was sent to {chat_id}; pass stanza_id, button_id and button_text"
                )
            index = 0
        else:
            buttons = message.buttons
            index = next(
                (
                    i
                    for i, b in enumerate(buttons)
                    if (button_id is None or b.get("buttonId") == button_id)
                    and (button_text is None or b.get("buttonText") == button_text)
                ),
                -1,
            )
            if index < 0:
                raise SandboxError(
                    f"message {message.id_message} has no button matching {button_id or button_text!r}"
                )
            stanza_id = message.id_message
            button_id = str(buttons[index].get("buttonId", ""))
            button_text = str(buttons[index].get("buttonText", ""))
        data = nb.button_reply_data(
            variant,
            stanza_id=stanza_id,
            selected_index=index,
            selected_id=button_id,
            selected_text=button_text,
        )
        return self._incoming(
            instance,
            chat_id,
            data,
            sender=sender,
            sender_name=sender_name,
            chat_name="",
            quoted_message_id=None,
        )

    def inject_incoming_call(
        self, instance: InstanceRef, caller: str, *, status: str = "offer"
    ) -> InjectResult:
        """An incoming call (queued only with ``incomingWebhook`` and ``incomingCallWebhook`` on)."""
        return self.backend.inject_call(_id(instance), caller, status=status)

    def inject_notification(self, instance: InstanceRef, body: Mapping[str, Any]) -> InjectResult:
        """Queue any notification body as is, whatever the settings (for shapes without a helper)."""
        return self.backend.enqueue(_id(instance), body)

    # ---------------------------------------------------------------- faults and reset

    def inject_fault(
        self,
        kind: FaultKind | str,
        *,
        instance: InstanceRef | None = None,
        method: str | None = None,
        times: int | None = None,
        forever: bool = False,
        probability: float | None = None,
        seed: int | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        delay: float = 0.0,
        body: str | None = None,
        process: bool | None = None,
    ) -> Fault:
        """Make matching requests misbehave; see :mod:`green_api_block.sandbox.faults` for kinds.

        ``sb.inject_fault("status", method="sendMessage", status=502)`` fails the next send;
        ``sb.inject_fault("drop_after", method="sendMessage")`` records it, then drops the
        connection; ``sb.inject_fault("status", status=500, method="receiveNotification",
        probability=0.05, seed=1)`` fails about 5 % of polls, reproducibly.
        """
        return self.faults.add(
            kind,
            instance=None if instance is None else _id(instance),
            method=method,
            times=times,
            forever=forever,
            probability=probability,
            seed=seed,
            status=status,
            retry_after=retry_after,
            delay=delay,
            body=body,
            process=process,
        )

    def clear_faults(self) -> None:
        self.faults.clear()

    def reset(self) -> None:
        """Forget every instance, message, notification, limiter bucket and fault."""
        self.faults.clear()
        self.backend.reset()
