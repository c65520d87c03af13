"""``green-api-block watch``: stream notifications as they arrive, one line (or JSON line) each.

The loop peeks the head of the queue (receiveNotification, nothing deleted), writes it out and
flushes, and only then deletes it. So an interrupt can never lose a notification: before the
write it is still queued; after the write and before the delete it is queued too and comes back
next time (the user is told). Within one run a notification whose delete failed is not printed
twice: its receiptId is remembered until the delete goes through.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from types import FrameType
from typing import TYPE_CHECKING, Any

from green_api_block.errors import GreenApiError
from green_api_block.events import Event as GreenApiEvent

from .core import settings_for
from .output import (
    EXIT_CODES_HELP,
    EXIT_INTERRUPTED,
    EXIT_OK,
    HelpFormatter,
    Ui,
    command,
    common_parents,
    sanitize,
)
from .settings import Settings, make_block

if TYPE_CHECKING:
    from green_api_block import GreenApiBlock

__all__ = ["Event", "describe", "format_line", "register"]

_TOOL = "green_api_get_notifications"
#: Our own messages, by where they were sent from.
_SIDES = {"outgoingAPIMessageReceived": "me (api)", "outgoingMessageReceived": "me (phone)"}
_MAX_BACKOFF = 30.0
# With --no-delete the head stays put; re-peeking it at once would spin at the API's rate limit.
_PEEK_INTERVAL = 1.0


@dataclass(frozen=True, slots=True)
class Event:
    """A notification as one line shows it."""

    time: str
    chat: str
    sender: str
    kind: str
    text: str


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _number(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def _event_text(event: GreenApiEvent) -> str:
    """The line's text: the event's own ``text``, with a label where the kind is not plain text."""
    kind = event.messageType or ""
    if event.buttonText is not None or event.buttonId is not None:
        ident = f" ({event.buttonId})" if event.buttonId else ""
        return f"[button] {_str(event.buttonText)}{ident}"
    if event.location is not None:
        loc = event.location
        place = ", ".join(p for p in (loc.name, loc.address) if p)
        where = f"({_number(loc.latitude)}, {_number(loc.longitude)})"
        return f"[location] {place} {where}" if place else f"[location] {where}"
    if event.contact is not None:
        return f"[contact] {_str(event.contact.displayName)}"
    if event.file is not None:
        return event.file.caption or _str(event.file.fileName)
    labels = {"reactionMessage": "[reaction] ", "pollMessage": "[poll] ", "interactiveButtons": "[buttons] "}
    if event.text is not None:
        return labels.get(kind, "") + event.text
    if event.eventType == "outgoingMessageStatus":
        return " ".join(p for p in (event.status, event.idMessage) if p)
    return event.stateInstance or event.status or ""


def _clock(timestamp: Any) -> str:
    if isinstance(timestamp, int | float) and not isinstance(timestamp, bool):
        try:
            return datetime.fromtimestamp(timestamp).strftime("%H:%M:%S")
        except (OverflowError, OSError, ValueError):
            pass
    return datetime.now().strftime("%H:%M:%S")


def describe(body: Mapping[str, Any]) -> Event:
    """Time, chat, sender, type and text of a notification body, read through the event model.

    Unknown types are tolerated: they show their typeWebhook/typeMessage and no text.
    """
    event = GreenApiEvent.from_body(body)
    kind = event.messageType or event.eventType or "unknown"
    sender = _SIDES.get(event.eventType) or event.senderName or event.sender or ""
    return Event(_clock(event.timestamp), event.chatId or "", sender, kind, _event_text(event))


def format_line(event: Event, ui: Ui | None = None) -> str:
    """``HH:MM:SS  chat  sender  type  text``, columns padded so that a stream lines up."""

    def paint(text: str, *styles: str) -> str:
        return ui.paint(text, *styles) if ui is not None else text

    chat = sanitize(event.chat) or "-"
    sender = sanitize(event.sender) or "-"
    kind = sanitize(event.kind)
    is_message = bool(event.kind) and event.kind[0].islower() and event.kind.endswith("Message")
    parts = [
        paint(event.time, "dim"),
        chat.ljust(20),
        sender.ljust(12),
        paint(kind.ljust(22), "cyan" if is_message else "yellow"),
        sanitize(event.text),
    ]
    return "  ".join(parts).rstrip()


def _deleter(block: GreenApiBlock, settings: Settings) -> Callable[[int], bool]:
    delete = getattr(block, "delete_notification", None)
    if delete is not None:
        return lambda receipt_id: bool(delete(receipt_id))
    # Older blocks have no public call for it: send the same request through the block's session.
    from green_api_block.http import Credentials
    from green_api_block.tools.base import ApiCall

    creds = Credentials(str(settings.id_instance.value), str(settings.api_token.value))

    def fallback(receipt_id: int) -> bool:
        call = ApiCall("DELETE", "deleteNotification", path_arg=str(receipt_id))
        body = block._sync_session().call(creds, call)
        return bool(isinstance(body, dict) and body.get("result"))

    return fallback


@contextmanager
def _sigterm_as_interrupt() -> Iterator[list[int]]:
    """Let SIGTERM stop the loop the way Ctrl-C does (a service manager's stop is no crash)."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def on_term(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Backoff:
    def __init__(self) -> None:
        self.failures = 0

    def wait(self, ui: Ui, what: str, exc: GreenApiError) -> None:
        self.failures += 1
        delay = min(_MAX_BACKOFF, 2.0 ** (self.failures - 1))
        if exc.retry_after is not None:
            delay = max(delay, min(exc.retry_after, _MAX_BACKOFF))
        ui.warn(f"{what} failed ({exc.code}); retrying in {delay:g} s")
        time.sleep(delay)

    def reset(self) -> None:
        self.failures = 0


class _Watcher:
    """The receive -> print -> delete loop, and what it must remember between turns."""

    def __init__(self, ui: Ui, args: argparse.Namespace, execute: Callable[[], dict[str, Any]]) -> None:
        self.ui = ui
        self.count: int | None = args.count
        self.peek_only: bool = args.no_delete
        self.execute = execute
        self.delete: Callable[[int], bool] = lambda receipt_id: True
        self.shown = 0
        self.received_once = False
        # Printed in this run, delete not yet confirmed: not printed again when it comes back.
        self.undeleted: int | None = None
        # Printed (or being printed) and not yet deleted: what an interrupt leaves queued.
        self.in_flight: int | None = None
        self.last_peeked: int | None = None
        self.backoff = _Backoff()

    def done(self) -> bool:
        # Past --count, keep going only to finish the delete of what was printed.
        return self.undeleted is None and self.count is not None and self.shown >= self.count

    def run(self) -> None:
        while not self.done():
            item = self._receive()
            if item is not None:
                self._handle(item)

    def _receive(self) -> Mapping[str, Any] | None:
        try:
            output = self.execute()
        except GreenApiError as exc:
            # A first failure is a setup problem; later transient ones are waited out.
            if not self.received_once or not exc.retryable:
                raise
            self.backoff.wait(self.ui, "receiving", exc)
            return None
        self.received_once = True
        self.backoff.reset()
        items = output.get("notifications") or []
        item: Mapping[str, Any] | None = items[0] if items else None
        if self.undeleted is not None and (item is None or item["receiptId"] != self.undeleted):
            # What we printed left the queue without our delete (another consumer, or a delete
            # that went through although its answer was lost): nothing left to do for it.
            self.undeleted = self.in_flight = None
            return None
        return item

    def _handle(self, item: Mapping[str, Any]) -> None:
        receipt_id = int(item["receiptId"])
        if self.peek_only:
            if receipt_id == self.last_peeked:
                time.sleep(_PEEK_INTERVAL)
                return
            _emit(self.ui, item)
            self.shown += 1
            self.last_peeked = receipt_id
            return
        self.in_flight = receipt_id
        if receipt_id != self.undeleted:
            _emit(self.ui, item)
            self.shown += 1
            self.undeleted = receipt_id
        try:
            self.delete(receipt_id)
        except GreenApiError as exc:
            if not exc.retryable:
                self.ui.say(f"receiptId {receipt_id} was printed but not deleted: it will be delivered again")
                raise
            self.backoff.wait(self.ui, f"deleting receiptId {receipt_id}", exc)
            return
        self.undeleted = self.in_flight = None


@command("watch")
def _watch(args: argparse.Namespace, ui: Ui) -> int:
    settings = settings_for(args, ui)
    request = {"receiveTimeout": args.receive_timeout, "maxNotifications": 1, "deleteAfterReceive": False}
    with _sigterm_as_interrupt() as terminated, make_block(settings) as block:
        watcher = _Watcher(ui, args, lambda: block.execute(_TOOL, request))
        watcher.delete = _deleter(block, settings)
        mode = "peeking (--no-delete: nothing is deleted)" if args.no_delete else "watching"
        ui.note(f"{mode} instance {settings.id_instance.value} at {settings.api_url.value} — Ctrl-C to stop")
        try:
            # One spinner for the whole run: each printed line erases it, and it counts from there.
            with ui.spinner("waiting for notifications (Ctrl-C to stop)"):
                watcher.run()
        except KeyboardInterrupt:
            if watcher.in_flight is not None:
                ui.say(
                    f"stopped before receiptId {watcher.in_flight} was confirmed deleted: "
                    "it may be delivered again by the next watch"
                )
            else:
                ui.note("stopped")
            return 128 + terminated[0] if terminated else EXIT_INTERRUPTED
    return EXIT_OK


def _emit(ui: Ui, item: Mapping[str, Any]) -> None:
    if ui.json:
        ui.out_json({"receiptId": item["receiptId"], "body": item["body"]})
    else:
        ui.out(format_line(describe(item["body"]), ui))


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "watch",
        help="stream incoming notifications as they arrive (Ctrl-C to stop)",
        description=(
            "Long-poll the instance's notification queue and print each notification as it arrives: "
            "one line each (time, chat, sender, type, text) or, with --json, one JSON object per line "
            "({receiptId, body}). A notification is deleted from the queue only after it was written "
            "out; Ctrl-C never loses one (one printed but not yet deleted is delivered again next "
            "time). Polling works only while the instance has no webhook URL."
        ),
        epilog=EXIT_CODES_HELP,
        formatter_class=HelpFormatter,
        parents=common_parents(),
    )
    parser.add_argument(
        "--no-delete",
        action="store_true",
        help="peek: print the head of the queue without deleting anything (it shows each new head once)",
    )
    parser.add_argument(
        "--receive-timeout",
        type=int,
        default=20,
        metavar="SECONDS",
        help="how long each long poll waits, 5..60 (default: 20)",
    )
    parser.add_argument(
        "--count", type=_positive, metavar="N", help="stop after N notifications (default: run until Ctrl-C)"
    )
    parser.set_defaults(func=_watch)
