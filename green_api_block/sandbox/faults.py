"""Fault injection: make the next N (or a random share of) Green API requests misbehave.

A fault matches on the instance and/or method (either may be omitted to match all) and is used
up after ``times`` hits; ``probability`` turns it into a seeded random fault for reliability
runs. Kinds:

=================  ==============================================================================
``delay``          wait ``delay`` seconds, then answer normally; with ``process=True`` the request is
                   processed first (a send is recorded at once) and only the answer is held:
                   "it was sent, the worker died before the answer came"
``status``         answer ``status`` (default 500) with ``body`` or a typical body for that status,
                   and a ``Retry-After`` header if ``retry_after`` is set
``drop_before``    close the connection before reading the request body: nothing happened
``drop_after``     read the request, process it (a send is recorded), then close the connection
                   without answering: "it was sent, then the connection died"
``malformed_json`` answer ``application/json`` that does not parse (the real answer cut short)
``text``           answer a non-JSON text body (an HTML error page by default)
``push_duplicate`` push mode: after an item's 200, push the same body once more before moving on
                   (what users of the real service report seeing)
``push_delay``     push mode: wait ``delay`` seconds before pushing the next item
``push_pause``     push mode: no pushes while the rule exists; removing it resumes. It is never
                   used up (``times``/``probability`` do not apply); ``hits`` counts the times
                   it held the pusher back
=================  ==============================================================================

The ``push_*`` kinds act on webhook delivery (``green_api_block.sandbox.push``), never on
requests, and the request kinds never on pushes. For them ``method`` matches the pushed item's
``typeWebhook`` (e.g. ``incomingMessageReceived``); ``push_duplicate``/``push_delay`` take one hit
per item, when it reaches the head of the queue, and ``delay`` works with both.

``delay`` can be combined with every kind. ``process=True`` runs the request for real before
the faulty answer replaces the real one (default only for ``drop_after``), which is how "the
message went out but the client saw 502" is produced. Whenever ``process`` is true the request is
processed *before* the delay, so the effect is there while the answer is held (a client killed
during the delay has sent the message); without it the delay comes first and the request is
processed after it (a client that gives up early still sees the send go out later).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypedDict, Unpack, cast, get_args

__all__ = ["FAULT_KINDS", "PUSH_FAULT_KINDS", "Fault", "FaultInjector", "FaultKind", "FaultOptions"]

FaultKind = Literal[
    "delay",
    "status",
    "drop_before",
    "drop_after",
    "malformed_json",
    "text",
    "push_duplicate",
    "push_delay",
    "push_pause",
]
FAULT_KINDS: Final[tuple[str, ...]] = get_args(FaultKind)
#: The kinds that act on webhook pushes instead of requests.
PUSH_FAULT_KINDS: Final[frozenset[str]] = frozenset({"push_duplicate", "push_delay", "push_pause"})


class FaultOptions(TypedDict, total=False):
    """How a fault rule matches and what it does; every key is optional (the one signature for
    :meth:`FaultInjector.add`, ``Sandbox.inject_fault`` and the control endpoint)."""

    method: str | None  # Green API method (push kinds: typeWebhook), any case; None matches all
    times: int | None  # hits before the rule is used up (default 1, unlimited with probability)
    forever: bool  # never used up
    probability: float | None  # fire on this share of matching requests (seeded by ``seed``)
    seed: int | None
    status: int | None  # for ``status``: the HTTP status (default 500)
    retry_after: float | None  # add a Retry-After header with these seconds
    delay: float  # seconds to wait first; combines with every kind
    body: str | None  # replaces the typical body of ``status``/``text``
    process: bool | None  # run the request for real first, then delay (default: drop_after only)


@dataclass(slots=True)
class Fault:
    """One rule. ``remaining`` is None for a rule without a hit limit; ``hits`` counts firings."""

    id: int
    kind: FaultKind
    instance: str | None = None
    method: str | None = None
    remaining: int | None = 1
    probability: float | None = None
    status: int | None = None
    retry_after: float | None = None
    delay: float = 0.0
    body: str | None = None
    process: bool = False
    hits: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def matches(self, id_instance: str | None, method: str | None) -> bool:
        if self.instance is not None and self.instance != id_instance:
            return False
        return self.method is None or (method is not None and self.method.lower() == method.lower())

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "instance": self.instance,
            "method": self.method,
            "remaining": self.remaining,
            "probability": self.probability,
            "status": self.status,
            "retryAfter": self.retry_after,
            "delay": self.delay,
            "process": self.process,
            "hits": self.hits,
        }


class FaultInjector:
    """Thread-safe list of fault rules; the first rule that matches and fires wins."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 1
        self._listeners: list[Callable[[], None]] = []

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after any rule is added or removed (outside the lock, on the caller's
        thread): the pusher must learn at once that a ``push_pause`` went away."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _changed(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def add(
        self, kind: FaultKind | str, *, instance: str | None = None, **options: Unpack[FaultOptions]
    ) -> Fault:
        """Add a rule; see the module docstring and :class:`FaultOptions`. Returns the live rule.

        ``times`` defaults to 1, or to unlimited when ``probability`` is given; ``forever=True``
        removes the limit explicitly.
        """
        unknown = sorted(set(options) - set(FaultOptions.__annotations__))
        if unknown:
            raise TypeError(f"unknown fault options: {', '.join(unknown)}")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        times = options.get("times")
        probability = options.get("probability")
        status = options.get("status")
        delay = float(options.get("delay", 0.0))
        process = options.get("process")
        if probability is not None and not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1")
        if delay < 0:
            raise ValueError("delay must not be negative")
        if status is not None and not 100 <= status <= 599:
            raise ValueError("status must be an HTTP status code")
        if kind == "push_pause" and (times is not None or probability is not None):
            raise ValueError("push_pause lasts until it is removed: times and probability do not apply")
        remaining: int | None
        if options.get("forever", False) or kind == "push_pause":
            remaining = None
        elif times is not None:
            remaining = times
        else:
            remaining = None if probability is not None else 1
        with self._lock:
            fault = Fault(
                id=self._next_id,
                kind=cast(FaultKind, kind),
                instance=str(instance) if instance is not None else None,
                method=options.get("method"),
                remaining=remaining,
                probability=probability,
                status=status,
                retry_after=options.get("retry_after"),
                delay=delay,
                body=options.get("body"),
                process=(kind == "drop_after") if process is None else process,
                _rng=random.Random(options.get("seed")),
            )
            self._next_id += 1
            self._faults.append(fault)
        self._changed()
        return fault

    def take(self, id_instance: str | None, method: str | None) -> Fault | None:
        """The fault to apply to this request, if any; uses up one of its hits. Never a push kind."""
        return self._take(id_instance, method, push=False)

    def take_push(self, id_instance: str, type_webhook: str | None) -> Fault | None:
        """The ``push_duplicate``/``push_delay`` rule for the item now at the head, if any; uses up
        one of its hits (``push_pause`` is :meth:`pause`'s)."""
        return self._take(id_instance, type_webhook, push=True)

    def _take(self, id_instance: str | None, method: str | None, *, push: bool) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if (fault.kind in PUSH_FAULT_KINDS) != push or fault.kind == "push_pause":
                    continue
                if fault.remaining == 0 or not fault.matches(id_instance, method):
                    continue
                if fault.probability is not None and fault._rng.random() >= fault.probability:
                    continue
                fault.hits += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault
        return None

    def pause(self, id_instance: str, type_webhook: str | None) -> Fault | None:
        """The ``push_pause`` rule holding this item back, if any; counts a hit, uses nothing up."""
        with self._lock:
            for fault in self._faults:
                if fault.kind == "push_pause" and fault.matches(id_instance, type_webhook):
                    fault.hits += 1
                    return fault
        return None

    def remove(self, fault_id: int) -> bool:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.id != fault_id]
            removed = len(self._faults) != before
        if removed:
            self._changed()
        return removed

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
        self._changed()

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)
