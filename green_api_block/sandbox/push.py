"""Push delivery: POST each instance's queued notifications to its ``webhookUrl`` (REFERENCE.md §5.4-5.5).

One asyncio task per instance whose settings hold a ``webhookUrl``, on the sandbox server's loop,
all sharing one keep-alive ``aiohttp.ClientSession``. Like Green API, a task delivers head-of-line:
it POSTs the head item's body (no ``receiptId``), with ``Authorization: Bearer <webhookUrlToken>``
when a token is set, and removes it from the queue only after a **200**; any other answer, a
connection error or no answer within ``timeout`` means a pause of ``retry_delay`` and the *same*
item again. Items still expire after 24 h (the backend's ``NOTIFICATION_TTL``).

The sandbox is an offline emulator: unless ``allow_remote`` is set it pushes only to loopback
hosts. A remote ``webhookUrl`` is still saved (the real API accepts it); each attempt is journaled
as refused, without any connection, and retried after the delay like a connection error.

Wake-ups come from other threads (a test that injects a message, a control request): the
backend's enqueue and settings listeners and the fault injector's change listener only hop onto
the loop, where all the pusher's state lives.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import Callable
from typing import Any, Final

import aiohttp
from aiohttp import web
from yarl import URL

from ..netaddr import is_loopback
from .emulator import Emulator
from .errors import UnknownInstanceError
from .faults import Fault
from .records import PushAttempt, PushTarget, QueuedNotification

__all__ = [
    "DEFAULT_WEBHOOK_RETRY_DELAY",
    "DEFAULT_WEBHOOK_TIMEOUT",
    "REFUSED_NOT_LOOPBACK",
    "Pusher",
    "positive_seconds",
]

_log = logging.getLogger(__name__)

#: Green API waits up to 180 s for an answer, then pauses 60 s before the same item again (§5.5).
DEFAULT_WEBHOOK_TIMEOUT: Final = 180.0
DEFAULT_WEBHOOK_RETRY_DELAY: Final = 60.0
REFUSED_NOT_LOOPBACK: Final = "refused: not loopback"
#: How long shutdown waits for cancelled tasks; a cancelled POST ends at once, this is a backstop.
_STOP_TIMEOUT: Final = 1.0


def positive_seconds(name: str, value: object) -> float:
    """``value`` as float seconds, or a ValueError naming the option."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


def _journal_url(url: URL | None, raw: str) -> str:
    # A user:password in the URL is a credential like the token: neither goes in the journal.
    if url is None:
        return raw if "@" not in raw else "<invalid url>"
    return str(url.with_user(None)) if url.user or url.password else raw


def _parse(raw: str) -> URL | None:
    try:
        url = URL(raw)
    except (ValueError, TypeError):
        return None
    return url if url.scheme in ("http", "https") and url.host else None


class Pusher:
    """The webhook pushers of one served app: :meth:`install` ties them to the app's life."""

    def __init__(
        self,
        emulator: Emulator,
        *,
        timeout: float = DEFAULT_WEBHOOK_TIMEOUT,
        retry_delay: float = DEFAULT_WEBHOOK_RETRY_DELAY,
        allow_remote: bool = False,
    ) -> None:
        self.emulator = emulator
        self.timeout = positive_seconds("webhook_timeout", timeout)
        self.retry_delay = positive_seconds("webhook_retry_delay", retry_delay)
        self.allow_remote = bool(allow_remote)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        self._workers: dict[str, _Worker] = {}
        self._warned: set[tuple[str, str]] = set()
        self._closing = False

    # ---------------------------------------------------------------- app life

    def install(self, app: web.Application) -> None:
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)

    async def _on_startup(self, app: web.Application) -> None:
        self._loop = asyncio.get_running_loop()
        # trust_env=False: a proxy from the environment must not carry an offline emulator's pushes.
        self._session = aiohttp.ClientSession(trust_env=False, timeout=aiohttp.ClientTimeout(total=None))
        self.emulator.backend.add_listener(self._on_enqueue)
        self.emulator.backend.add_settings_listener(self._on_settings)
        self.emulator.faults.add_listener(self._on_faults)
        for inst in self.emulator.instances():  # created before the server started
            self._sync(inst.id_instance)

    async def _on_shutdown(self, app: web.Application) -> None:
        self._closing = True
        self.emulator.backend.remove_listener(self._on_enqueue)
        self.emulator.backend.remove_settings_listener(self._on_settings)
        self.emulator.faults.remove_listener(self._on_faults)
        tasks = [worker.task for worker in self._workers.values()]
        self._workers.clear()
        for task in tasks:
            task.cancel()  # an in-flight POST is abandoned: its connection is closed
        if tasks:
            await asyncio.wait(tasks, timeout=_STOP_TIMEOUT)
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ---------------------------------------------------------------- wake-ups (any thread)

    def _hop(self, callback: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
            loop.call_soon_threadsafe(callback, *args)

    def _on_enqueue(self, id_instance: str) -> None:
        self._hop(self._wake, id_instance)

    def _on_settings(self, id_instance: str) -> None:
        self._hop(self._sync, id_instance)

    def _on_faults(self) -> None:
        self._hop(self._wake_all)

    # ---------------------------------------------------------------- on the loop

    def _wake(self, id_instance: str) -> None:
        worker = self._workers.get(id_instance)
        if worker is not None:
            worker.wake()

    def _wake_all(self) -> None:
        for worker in self._workers.values():
            worker.wake()

    def _sync(self, id_instance: str) -> None:
        """Start, stop or retarget the instance's task to match its settings."""
        if self._closing:
            return
        try:
            target = self.emulator.backend.webhook_target(id_instance)
        except UnknownInstanceError:
            target = None
        worker = self._workers.get(id_instance)
        if worker is not None and worker.target == target:
            worker.wake()
            return
        if worker is not None:
            # A new URL or token: abandon any POST in flight and start over with the same head.
            worker.task.cancel()
            del self._workers[id_instance]
        if target is not None:
            self._workers[id_instance] = _Worker(self, id_instance, target)

    async def post(self, id_instance: str, item: QueuedNotification, target: PushTarget) -> PushAttempt:
        """One POST of ``item`` to ``target``, journaled; never raises for the receiver's faults."""
        url = _parse(target.url)
        status: int | None = None
        error: str | None = None
        if url is None or url.host is None:
            error = "invalid url"
        elif not self.allow_remote and not is_loopback(url.host):
            error = REFUSED_NOT_LOOPBACK
            self._warn_remote(id_instance, url.host)
        else:
            status, error = await self._send(target, item.body)
        attempt = PushAttempt(item.receipt_id, _journal_url(url, target.url), status, error, time.monotonic())
        self.emulator.push_journal.record(id_instance, attempt)
        return attempt

    async def _send(self, target: PushTarget, body: dict[str, Any]) -> tuple[int | None, str | None]:
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        if target.token:
            headers["Authorization"] = f"Bearer {target.token}"
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            async with asyncio.timeout(self.timeout):
                # No redirects: a 3xx is "not 200" to Green API, and following one could leave loopback.
                async with self._session.post(
                    target.url, data=data, headers=headers, allow_redirects=False
                ) as response:
                    await response.read()
                    return response.status, None
        except TimeoutError:
            return None, "timeout"
        except (aiohttp.ClientError, OSError, ValueError):
            return None, "connection error"

    def _warn_remote(self, id_instance: str, host: str) -> None:
        if (id_instance, host) in self._warned:
            return
        self._warned.add((id_instance, host))
        # The host only: a URL's path or query may hold the receiver's secret.
        _log.warning(
            "sandbox: not pushing instance %s's notifications to %s: not a loopback host "
            "(the sandbox is offline; Sandbox(allow_remote_webhooks=True) allows it)",
            id_instance,
            host,
        )


class _Worker:
    """One instance's delivery loop: head-of-line, the same item until it is answered 200."""

    def __init__(self, pusher: Pusher, id_instance: str, target: PushTarget) -> None:
        self.pusher = pusher
        self.id_instance = id_instance
        self.target = target
        self._wakeup = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self._run(), name=f"sandbox-push-{id_instance}")

    def wake(self) -> None:
        self._wakeup.set()

    async def _idle(self) -> None:
        # Cleared after the wait: whatever set it happened before the head is read again.
        await self._wakeup.wait()
        self._wakeup.clear()

    async def _run(self) -> None:
        while True:
            try:
                await self._deliver()
            except UnknownInstanceError:
                return  # removed; the settings listener drops this worker too
            except Exception:
                # Never a silent dead pusher: say so, then carry on like after a failed attempt.
                _log.exception("sandbox: webhook pusher for instance %s failed", self.id_instance)
                await asyncio.sleep(self.pusher.retry_delay)

    async def _deliver(self) -> None:
        backend, faults = self.pusher.emulator.backend, self.pusher.emulator.faults
        prepared: int | None = None  # the receipt id whose push faults were already taken
        fault: Fault | None = None
        while True:
            item = backend.push_head(self.id_instance)
            if item is None:
                await self._idle()
                continue
            kind = item.body.get("typeWebhook")
            type_webhook = kind if isinstance(kind, str) else None
            if faults.pause(self.id_instance, type_webhook) is not None:
                await self._idle()  # removing the rule wakes us
                continue
            if item.receipt_id != prepared:
                prepared = item.receipt_id
                fault = faults.take_push(self.id_instance, type_webhook)
                if fault is not None and fault.delay > 0:
                    await asyncio.sleep(fault.delay)
                    continue  # read the head again: it may be gone, or paused, by now
            attempt = await self.pusher.post(self.id_instance, item, self.target)
            if not attempt.delivered:
                await asyncio.sleep(self.pusher.retry_delay)
                continue
            if fault is not None and fault.kind == "push_duplicate":
                await self.pusher.post(self.id_instance, item, self.target)  # its answer changes nothing
            fault = None
            backend.delete(self.id_instance, item.receipt_id)
