"""The sandbox backend: plain, thread-safe state of emulated Green API instances. No HTTP here.

Like moto's ``models.py``: instances keyed by ``idInstance``, each with its token, state,
settings, notification queue, outgoing and incoming journals and Developer-plan counters; a
per-instance, per-method rate limiter (``buckets``). Every public method takes the one lock, so the server's
event-loop thread and any caller thread (tests, the control API) can use it at the same time.

Long-poll wake-ups and webhook pushes are the server's business: the backend only calls its
listeners (outside the lock) with the ``idInstance`` whose queue grew, or whose settings changed.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ..limits import METHOD_RATE_LIMITS
from . import notifications as nb
from .buckets import MethodBuckets
from .errors import APIError, SandboxError, UnknownInstanceError
from .records import (
    INSTANCE_STATES,
    BillingPlan,
    InjectResult,
    MethodKind,
    PushTarget,
    QueuedNotification,
    SandboxInstance,
    SentMessage,
    journal_payload,
)
from .validation import SETTING_FLAGS, validate_settings

__all__ = ["DEVELOPER_PLAN_CHATS", "NOTIFICATION_TTL", "SandboxBackend"]

NOTIFICATION_TTL: Final = 24 * 3600  # queued items live 24 h (REFERENCE.md §5.3)
DEVELOPER_PLAN_CHATS: Final = 3
_OUTGOING_STATUSES: Final = ("sent", "delivered", "read", "failed", "noAccount", "notInGroup", "yellowCard")
_ALWAYS_DELIVERED: Final = ("failed", "noAccount")  # sent even with outgoingWebhook off (§6.1)
_LINK = re.compile(r"https?://\S", re.IGNORECASE)


def _default_settings(wid: str) -> dict[str, Any]:
    # Every switch is "no" after instance creation on the real service (REFERENCE.md §10.2).
    settings: dict[str, Any] = {
        "wid": wid,
        "countryInstance": "",
        "typeAccount": "",
        "webhookUrl": "",
        "webhookUrlToken": "",
        "delaySendMessagesMilliseconds": 500,
        "proxyInstance": "",
    }
    settings.update(dict.fromkeys(SETTING_FLAGS, "no"))
    return settings


@dataclass(slots=True)
class _Instance:
    id_instance: str
    api_token: str
    state: str
    wid: str
    settings: dict[str, Any]
    plan: str
    queue: deque[QueuedNotification] = field(default_factory=deque)
    sent: list[SentMessage] = field(default_factory=list)
    incoming: list[dict[str, Any]] = field(default_factory=list)
    quota_month: tuple[int, int] | None = None
    correspondents: list[str] = field(default_factory=list)
    method_calls: dict[str, int] = field(default_factory=dict)

    def flag(self, name: str) -> bool:
        return bool(self.settings.get(name) == "yes")

    def instance_data(self) -> dict[str, Any]:
        # wid is empty while no WhatsApp account is linked (REFERENCE.md §6.2).
        return nb.instance_data(self.id_instance, "" if self.state == "notAuthorized" else self.wid)


def _checked_settings(changes: Mapping[str, Any]) -> dict[str, Any]:
    # The Python control API reports bad settings as misuse, not as an HTTP answer.
    try:
        return validate_settings(dict(changes))
    except APIError as exc:
        raise SandboxError(exc.message) from None


def _new_hex_id(length: int = 20) -> str:
    return secrets.token_hex(length // 2).upper()


class SandboxBackend:
    """All sandbox state. Thread-safe; no I/O.

    ``rate_limits``: True for REFERENCE.md §9.3, False for none, or a mapping that overrides
    single methods (a value of 0 or None lifts that method's limit). ``quota``: new instances get
    the Developer plan (3 chats a month) instead of Business. ``clock`` gives Unix time for
    timestamps and the quota month; ``monotonic`` drives the limiter and the 24 h expiry.
    """

    def __init__(
        self,
        *,
        rate_limits: bool | Mapping[str, float | None] = True,
        quota: bool = False,
        default_settings: Mapping[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        self._monotonic = monotonic
        limits: dict[str, float | None] = {}
        if rate_limits is not False:
            limits.update(METHOD_RATE_LIMITS)
            if isinstance(rate_limits, Mapping):
                limits.update(rate_limits)
        self._buckets = MethodBuckets(limits, monotonic)
        self.quota = quota
        self.default_settings: dict[str, Any] = dict(default_settings or {})
        self.base_url = ""
        self._instances: dict[str, _Instance] = {}
        self._next_receipt = 1  # never reset: a client caching receipt ids must not see one twice
        self._listeners: list[Callable[[str], None]] = []
        self._settings_listeners: list[Callable[[str], None]] = []

    # ---------------------------------------------------------------- plumbing

    def add_listener(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(id_instance)`` after a notification is queued (outside the lock)."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[str], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def add_settings_listener(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(id_instance)`` after an instance was created, removed or had its settings
        changed (outside the lock, on the caller's thread): the pusher starts, stops or retargets."""
        with self._lock:
            self._settings_listeners.append(listener)

    def remove_settings_listener(self, listener: Callable[[str], None]) -> None:
        with self._lock:
            if listener in self._settings_listeners:
                self._settings_listeners.remove(listener)

    def _notify_settings(self, *ids: str) -> None:
        with self._lock:
            listeners = list(self._settings_listeners)
        for id_instance in ids:
            for listener in listeners:
                listener(id_instance)

    def _notify(self, id_instance: str) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(id_instance)

    def _get(self, id_instance: str) -> _Instance:
        inst = self._instances.get(str(id_instance))
        if inst is None:
            raise UnknownInstanceError(f"no sandbox instance {id_instance}")
        return inst

    def _now(self) -> int:
        return int(self._clock())

    def _push(self, inst: _Instance, body: dict[str, Any]) -> QueuedNotification:
        item = QueuedNotification(self._next_receipt, body, self._monotonic())
        self._next_receipt += 1
        inst.queue.append(item)
        return item

    def _expire(self, inst: _Instance) -> None:
        horizon = self._monotonic() - NOTIFICATION_TTL
        while inst.queue and inst.queue[0].enqueued_at < horizon:
            inst.queue.popleft()

    def _public(self, inst: _Instance) -> SandboxInstance:
        return SandboxInstance(inst.id_instance, inst.api_token, self.base_url, self.base_url, inst.wid)

    # ---------------------------------------------------------------- instances

    def create_instance(
        self,
        *,
        state: str = "authorized",
        id_instance: str | None = None,
        api_token: str | None = None,
        wid: str | None = None,
        settings: Mapping[str, Any] | None = None,
        plan: BillingPlan | None = None,
    ) -> SandboxInstance:
        if state not in INSTANCE_STATES:
            raise SandboxError(f"unknown state {state!r}; expected one of {INSTANCE_STATES}")
        if id_instance is not None and not (str(id_instance).isdigit() and len(str(id_instance)) <= 10):
            raise SandboxError("id_instance must be 1 to 10 digits")
        if api_token is not None and (not api_token or "/" in api_token or "?" in api_token):
            raise SandboxError("api_token must be non-empty and must not contain '/' or '?'")
        if plan not in (None, "developer", "business"):
            raise SandboxError("plan must be 'developer' or 'business'")
        overrides = _checked_settings(settings) if settings else {}
        with self._lock:
            if id_instance is None:
                id_instance = "1101" + f"{secrets.randbelow(10**6):06d}"
                while id_instance in self._instances:
                    id_instance = "1101" + f"{secrets.randbelow(10**6):06d}"
            elif str(id_instance) in self._instances:
                raise SandboxError(f"instance {id_instance} already exists")
            own = wid or f"7999{secrets.randbelow(10**7):07d}@c.us"
            inst = _Instance(
                id_instance=str(id_instance),
                api_token=api_token or secrets.token_hex(25),
                state=state,
                wid=own,
                settings={**_default_settings(own), **self.default_settings, **overrides},
                plan=plan or ("developer" if self.quota else "business"),
            )
            self._instances[inst.id_instance] = inst
            public = self._public(inst)
        self._notify_settings(public.id_instance)
        return public

    def instance(self, id_instance: str) -> SandboxInstance:
        with self._lock:
            return self._public(self._get(id_instance))

    def instances(self) -> list[SandboxInstance]:
        with self._lock:
            return [self._public(i) for i in self._instances.values()]

    def remove_instance(self, id_instance: str) -> None:
        with self._lock:
            self._get(id_instance)
            del self._instances[str(id_instance)]
        self._notify_settings(str(id_instance))

    def reset(self) -> None:
        """Forget every instance and limiter bucket (receipt ids keep counting up)."""
        with self._lock:
            gone = list(self._instances)
            self._instances.clear()
            self._buckets.reset()
        self._notify_settings(*gone)

    # ---------------------------------------------------------------- request admission

    def authenticate(self, id_instance: str, token: str) -> None:
        with self._lock:
            inst = self._instances.get(id_instance)
            if inst is None:
                raise APIError(403, "Forbidden")
            if not secrets.compare_digest(inst.api_token.encode(), token.encode()):
                raise APIError(401, "Unauthorized")

    def take_rate(self, id_instance: str, method: str) -> None:
        with self._lock:
            wait = self._buckets.take(id_instance, method)
        if wait is not None:
            raise APIError(429, "Too Many Requests", retry_after=wait)

    def check_state(self, id_instance: str, kind: MethodKind) -> None:
        """Refuse what the instance's state refuses (REFERENCE.md §7, §9.1).

        ``starting`` answers only getStateInstance. ``notAuthorized`` refuses sends with 400
        ``instance account not authorized``, one of the two behaviours the docs describe (the
        other, queueing with 200, is what blocked/yellowCard/sleepMode do here: such sends are
        recorded as ``pending`` and go out when the state returns to authorized).
        """
        with self._lock:
            state = self._get(id_instance).state
        if state == "starting" and kind != "state":
            raise APIError(400, "instance in starting process try later")
        if state == "notAuthorized" and kind == "send":
            raise APIError(400, "instance account not authorized")

    # ---------------------------------------------------------------- state and settings

    def get_state(self, id_instance: str) -> str:
        with self._lock:
            return self._get(id_instance).state

    def set_state(self, id_instance: str, state: str, *, notify: bool = True) -> InjectResult | None:
        """Change the state; queues ``stateInstanceChanged`` if ``stateWebhook`` is on."""
        if state not in INSTANCE_STATES:
            raise SandboxError(f"unknown state {state!r}; expected one of {INSTANCE_STATES}")
        with self._lock:
            inst = self._get(id_instance)
            changed = inst.state != state
            inst.state = state
            body = nb.state_changed(inst.instance_data(), state=state, timestamp=self._now())
            item = self._push(inst, body) if notify and changed and inst.flag("stateWebhook") else None
            queued = item is not None
            if state == "authorized":
                queued = self._flush_pending(inst) or queued
        if queued:
            self._notify(id_instance)
        if not notify or not changed:
            return None
        return InjectResult(None, item.receipt_id if item else None, body)

    def get_settings(self, id_instance: str) -> dict[str, Any]:
        with self._lock:
            inst = self._get(id_instance)
            return {**inst.settings, "wid": inst.wid}

    def set_settings(self, id_instance: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Apply at once (the real service reboots and takes up to 5 minutes)."""
        valid = _checked_settings(changes)
        with self._lock:
            inst = self._get(id_instance)
            inst.settings.update(valid)
            out = {**inst.settings, "wid": inst.wid}
        self._notify_settings(str(id_instance))
        return out

    def webhook_target(self, id_instance: str) -> PushTarget | None:
        """Where to push this instance's queue, or None while ``webhookUrl`` is empty (polling)."""
        with self._lock:
            inst = self._get(id_instance)
            url = str(inst.settings.get("webhookUrl") or "")
            return PushTarget(url, str(inst.settings.get("webhookUrlToken") or "")) if url else None

    # ---------------------------------------------------------------- sending

    def _admit_chat(self, inst: _Instance, chat_id: str) -> bool:
        if inst.plan != "developer":
            return True
        month = time.gmtime(self._clock())[:2]
        if inst.quota_month != month:  # counters reset on the 1st of each month
            inst.quota_month = (month[0], month[1])
            inst.correspondents.clear()
            inst.method_calls.clear()
        if chat_id in inst.correspondents:
            return True
        if len(inst.correspondents) < DEVELOPER_PLAN_CHATS:
            inst.correspondents.append(chat_id)
            return True
        return False

    def _quota_description(self, inst: _Instance) -> str:
        chats = ", ".join(inst.correspondents)
        return (
            "Monthly quota has been exceeded. On the Developer plan you can only send or receive "
            f"messages from these numbers: {chats}. Upgrade the instance to lift the limit."
        )

    def _quota_body(self, inst: _Instance, method: str) -> dict[str, Any]:
        # REFERENCE.md §9.2, second example: the method itself is allowed, the chat is not.
        return {
            "invokeStatus": {
                "method": method.lower(),
                "used": inst.method_calls.get(method.lower(), 0),
                "total": 0,
                "status": "QUOTE_ALLOWED",
            },
            "correspondentsStatus": {
                "method": "correspondents",
                "used": len(inst.correspondents),
                "total": DEVELOPER_PLAN_CHATS,
                "status": "CORRESPONDENTS_QUOTE_EXCEEDED",
                "description": self._quota_description(inst),
            },
        }

    def _find_message(
        self, inst: _Instance, chat_id: str, id_message: str
    ) -> tuple[str, dict[str, Any]] | None:
        """(author, messageData) of a known message in ``chat_id``, for quotes."""
        for msg in reversed(inst.sent):
            if msg.id_message == id_message and msg.chat_id == chat_id:
                return inst.wid, msg.message_data
        for entry in reversed(inst.incoming):
            if entry["idMessage"] == id_message and entry["chatId"] == chat_id:
                return entry["senderId"], entry["messageData"]
        return None

    @staticmethod
    def _outgoing_data(method: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        if method == "sendMessage":
            text = payload["message"]
            if _LINK.search(text) and payload.get("linkPreview", True) is not False:
                return nb.extended_text_data(text)
            return nb.text_data(text)
        if method == "sendFileByUrl":
            return nb.file_data(payload["urlFile"], payload["fileName"], caption=payload.get("caption") or "")
        header, body, footer = payload.get("header") or "", payload["body"], payload.get("footer") or ""
        if method == "sendInteractiveButtons":
            return nb.interactive_buttons_data(header, body, footer, payload["buttons"])
        if method == "sendInteractiveButtonsReply":
            return nb.interactive_buttons_reply_data(header, body, footer, payload["buttons"])
        raise SandboxError(f"{method} is not a send method the sandbox emulates")

    def _emit_sent(self, inst: _Instance, msg: SentMessage) -> bool:
        queued = False
        if inst.flag("outgoingAPIMessageWebhook"):
            sender = nb.sender_data(msg.chat_id, inst.wid, "Sandbox", chat_name="")
            self._push(
                inst,
                nb.message_notification(
                    "outgoingAPIMessageReceived",
                    inst.instance_data(),
                    timestamp=msg.timestamp,
                    id_message=msg.id_message,
                    sender=sender,
                    message_data=msg.message_data,
                ),
            )
            queued = True
        if inst.flag("outgoingWebhook"):
            self._push(
                inst,
                nb.outgoing_status(
                    inst.instance_data(),
                    chat_id=msg.chat_id,
                    id_message=msg.id_message,
                    status=msg.status,
                    timestamp=msg.timestamp,
                ),
            )
            queued = True
        return queued

    def _flush_pending(self, inst: _Instance) -> bool:
        queued = False
        for msg in inst.sent:
            if msg.status == "pending":
                msg.status = "sent"
                msg.timestamp = self._now()
                queued = self._emit_sent(inst, msg) or queued
        return queued

    def record_send(self, id_instance: str, method: str, payload: Mapping[str, Any]) -> SentMessage:
        """Accept a validated send: journal it and queue its outgoing notifications.

        Raises APIError(466) when the Developer-plan quota refuses a fourth chat this month.
        """
        chat_id = str(payload["chatId"])
        message_data = self._outgoing_data(method, payload)
        with self._lock:
            inst = self._get(id_instance)
            if inst.plan == "developer":
                admitted = self._admit_chat(inst, chat_id)  # first: it rolls the month over
                inst.method_calls[method.lower()] = inst.method_calls.get(method.lower(), 0) + 1
                if not admitted:
                    raise APIError(466, body=self._quota_body(inst, method))
            quoted_id = payload.get("quotedMessageId")
            if isinstance(quoted_id, str) and quoted_id:
                found = self._find_message(inst, chat_id, quoted_id)
                if found is not None:
                    message_data = nb.with_quote(message_data, nb.quoted_message(quoted_id, *found))
            msg = SentMessage(
                id_message=_new_hex_id(),
                chat_id=chat_id,
                method=method,
                type_message=str(message_data["typeMessage"]),
                payload=dict(payload),
                message_data=message_data,
                timestamp=self._now(),
                # Only an authorized instance delivers; the others queue (REFERENCE.md §2, §7).
                status="sent" if inst.state == "authorized" else "pending",
            )
            inst.sent.append(msg)
            queued = msg.status == "sent" and self._emit_sent(inst, msg)
        if queued:
            self._notify(id_instance)
        return dataclasses.replace(msg)

    def set_message_status(
        self, id_instance: str, id_message: str, status: str, *, description: str | None = None
    ) -> InjectResult:
        """Move a sent message to delivered/read/failed/...; queues ``outgoingMessageStatus``."""
        if status not in _OUTGOING_STATUSES:
            raise SandboxError(f"unknown status {status!r}; expected one of {_OUTGOING_STATUSES}")
        with self._lock:
            inst = self._get(id_instance)
            msg = next((m for m in inst.sent if m.id_message == id_message), None)
            if msg is None:
                raise SandboxError(f"instance {id_instance} sent no message {id_message}")
            msg.status = status
            body = nb.outgoing_status(
                inst.instance_data(),
                chat_id=msg.chat_id,
                id_message=id_message,
                status=status,
                timestamp=self._now(),
                description=description,
            )
            item = None
            if inst.flag("outgoingWebhook") or status in _ALWAYS_DELIVERED:
                item = self._push(inst, body)
        if item is not None:
            self._notify(id_instance)
        return InjectResult(id_message, item.receipt_id if item else None, body)

    def sent_messages(self, id_instance: str) -> list[SentMessage]:
        with self._lock:
            return [dataclasses.replace(m) for m in self._get(id_instance).sent]

    def last_outgoing(self, id_instance: str, minutes: int) -> list[dict[str, Any]]:
        with self._lock:
            horizon = self._now() - minutes * 60
            sent = [m.journal_entry() for m in self._get(id_instance).sent if m.timestamp >= horizon]
        return sent[::-1]  # newest first, as the journals answer

    def last_incoming(self, id_instance: str, minutes: int) -> list[dict[str, Any]]:
        with self._lock:
            horizon = self._now() - minutes * 60
            entries = [e for e in self._get(id_instance).incoming if e["timestamp"] >= horizon]
        out = []
        for entry in reversed(entries):
            data = entry["messageData"]
            item = {k: v for k, v in entry.items() if k != "messageData"}
            item["typeMessage"] = data.get("typeMessage", "")
            item.update(journal_payload(data))
            out.append(item)
        return out

    # ---------------------------------------------------------------- notification queue

    def peek(self, id_instance: str) -> QueuedNotification | None:
        """The head of the queue, or None; the same item until it is deleted.

        Polling only works while ``webhookUrl`` is empty (REFERENCE.md §5.3), so a set URL
        makes the queue look empty to receiveNotification: it answers 200 ``null``. What the real
        service answers then is unverified; "an empty queue" is the least surprising guess, and
        the pusher reads the head through :meth:`push_head` instead.
        """
        with self._lock:
            inst = self._get(id_instance)
            self._expire(inst)
            if inst.settings.get("webhookUrl"):
                return None
            return inst.queue[0] if inst.queue else None

    def push_head(self, id_instance: str) -> QueuedNotification | None:
        """The head the pusher delivers next, or None (an empty queue, or no ``webhookUrl``)."""
        with self._lock:
            inst = self._get(id_instance)
            self._expire(inst)
            if not inst.settings.get("webhookUrl"):
                return None
            return inst.queue[0] if inst.queue else None

    def delete_polled(self, id_instance: str, receipt_id: int) -> bool:
        """deleteNotification: like :meth:`delete`, but False while ``webhookUrl`` is set.

        In push mode receiveNotification hands out nothing, so no receipt id is one "last handed
        out" (REFERENCE.md §5.2): a delete then must not pull the item the pusher is delivering out
        from under it. ``false`` is the documented "not deleted" answer, which clients treat as
        "already gone".
        """
        with self._lock:
            if self._get(id_instance).settings.get("webhookUrl"):
                return False
            return self.delete(id_instance, receipt_id)

    def delete(self, id_instance: str, receipt_id: int) -> bool:
        """Remove a queued item; False if there is none with that receipt id."""
        with self._lock:
            inst = self._get(id_instance)
            for item in inst.queue:
                if item.receipt_id == receipt_id:
                    inst.queue.remove(item)
                    return True
            return False

    def pending(self, id_instance: str) -> list[QueuedNotification]:
        """Every queued item, head first, without removing any."""
        with self._lock:
            inst = self._get(id_instance)
            self._expire(inst)
            return list(inst.queue)

    def pending_after(self, id_instance: str, receipt_id: int, limit: int) -> list[QueuedNotification]:
        """The queued items with a receipt id above ``receipt_id``, oldest first, at most the
        newest ``limit``: a watcher's cost per new item, whatever the queue's length.

        Receipt ids only grow and items are only appended, so they are a suffix of the queue.
        """
        newer: list[QueuedNotification] = []
        with self._lock:
            inst = self._get(id_instance)
            self._expire(inst)
            for item in reversed(inst.queue):
                if item.receipt_id <= receipt_id or len(newer) >= limit:
                    break
                newer.append(item)
        newer.reverse()
        return newer

    def clear_queue(self, id_instance: str) -> int:
        with self._lock:
            inst = self._get(id_instance)
            count = len(inst.queue)
            inst.queue.clear()
            return count

    def enqueue(self, id_instance: str, body: Mapping[str, Any]) -> InjectResult:
        """Queue any body as is, whatever the settings say (for shapes the helpers lack)."""
        with self._lock:
            item = self._push(self._get(id_instance), dict(body))
        self._notify(id_instance)
        id_message = body.get("idMessage")
        return InjectResult(id_message if isinstance(id_message, str) else None, item.receipt_id, item.body)

    # ---------------------------------------------------------------- incoming traffic

    def inject_incoming(
        self,
        id_instance: str,
        chat_id: str,
        message_data: Mapping[str, Any],
        *,
        sender: str | None = None,
        sender_name: str = "",
        chat_name: str = "",
        sender_contact_name: str = "",
        quoted_message_id: str | None = None,
        legacy_quote: bool = False,
        id_message: str | None = None,
    ) -> InjectResult:
        """A message someone wrote to the instance (typeWebhook ``incomingMessageReceived``)."""
        if chat_id.endswith("@g.us") and sender is None:
            raise SandboxError("a group message needs sender= (the member who wrote it)")
        author = sender or chat_id
        with self._lock:
            inst = self._get(id_instance)
            data = dict(message_data)
            if quoted_message_id is not None:
                found = self._find_message(inst, chat_id, quoted_message_id)
                if found is None:
                    raise SandboxError(f"no message {quoted_message_id} in chat {chat_id} to quote")
                data = nb.with_quote(data, nb.quoted_message(quoted_message_id, *found), legacy=legacy_quote)
            now = self._now()
            if not self._admit_chat(inst, chat_id):
                # Not delivered; the Developer plan queues a quotaExceeded notice instead (§9.2).
                body = nb.quota_exceeded(
                    inst.instance_data(),
                    timestamp=now,
                    used=len(inst.correspondents),
                    total=DEVELOPER_PLAN_CHATS,
                    description=self._quota_description(inst),
                )
                item = self._push(inst, body) if inst.flag("incomingWebhook") else None
                result = InjectResult(None, item.receipt_id if item else None, body, delivered=False)
            else:
                mid = id_message or _new_hex_id()
                body = nb.message_notification(
                    "incomingMessageReceived",
                    inst.instance_data(),
                    timestamp=now,
                    id_message=mid,
                    sender=nb.sender_data(
                        chat_id,
                        author,
                        sender_name,
                        chat_name=chat_name,
                        sender_contact_name=sender_contact_name,
                    ),
                    message_data=data,
                )
                inst.incoming.append(
                    {
                        "type": "incoming",
                        "idMessage": mid,
                        "timestamp": now,
                        "chatId": chat_id,
                        "senderId": author,
                        "senderName": sender_name,
                        "senderContactName": sender_contact_name,
                        "messageData": data,
                    }
                )
                item = self._push(inst, body) if inst.flag("incomingWebhook") else None
                result = InjectResult(mid, item.receipt_id if item else None, body)
        if result.queued:
            self._notify(id_instance)
        return result

    def find_button_message(
        self, id_instance: str, chat_id: str, stanza_id: str | None = None
    ) -> SentMessage | None:
        """The button message a tap answers: ``stanza_id`` if given, else the latest to ``chat_id``."""
        with self._lock:
            for msg in reversed(self._get(id_instance).sent):
                if stanza_id is not None and msg.id_message != stanza_id:
                    continue
                if msg.chat_id == chat_id and msg.buttons:
                    return dataclasses.replace(msg)
        return None

    def inject_call(
        self, id_instance: str, caller: str, *, status: str = "offer", id_message: str | None = None
    ) -> InjectResult:
        """An incoming call; needs both ``incomingWebhook`` and ``incomingCallWebhook`` (§6.1)."""
        with self._lock:
            inst = self._get(id_instance)
            body = nb.incoming_call(
                inst.instance_data(),
                caller=caller,
                status=status,
                id_message=id_message or _new_hex_id(),
                timestamp=self._now(),
            )
            wanted = inst.flag("incomingWebhook") and inst.flag("incomingCallWebhook")
            item = self._push(inst, body) if wanted else None
        if item is not None:
            self._notify(id_instance)
        return InjectResult(body["idMessage"], item.receipt_id if item else None, body)
