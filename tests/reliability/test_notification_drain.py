"""Guarantee 2: no lost notifications while receive and delete calls fail.

A consumer drains the queue with ``green_api_get_notifications`` (maxNotifications 100) while a
producer keeps injecting customer messages and the sandbox faults 5 % of receiveNotification and
5 % of deleteNotification requests (5xx, 429, drops before/after processing, malformed JSON,
HTML, slow answers). Checked against the sandbox's own view:

* every injected notification is handed to the caller at least once, and the queue ends empty;
* no notification is deleted before it was handed back: each delete the server performed
  (observed by wrapping the backend's ``delete``) is of a receipt handed back by the tool call
  in progress at that moment or by an earlier one;
* a notification handed back twice carries the same receiptId and the same body, so
  de-duplicating on receiptId is exact.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from typing import Any

import pytest

from green_api_block import GreenApiError
from green_api_block.sandbox import Sandbox, SandboxInstance

from .harness import CHAT, SANDBOX, close_block, make_block, observe_wire, report, run_tool

pytestmark = SANDBOX

TOOL = "green_api_get_notifications"
ARGS = {"maxNotifications": 100, "receiveTimeout": 5}
FAULT_SHARE = 0.05
FAULT_KINDS: list[dict[str, Any]] = [
    {"kind": "status", "status": 500},
    {"kind": "status", "status": 502},
    {"kind": "status", "status": 429},
    {"kind": "drop_before"},
    {"kind": "drop_after"},
    {"kind": "malformed_json"},
    {"kind": "text"},
    {"kind": "delay", "delay": 0.02},
]


@dataclass(frozen=True)
class Delete:
    receipt_id: int
    deleted: bool
    during_call: int


class DrainObserver:
    """Wraps the sandbox backend's ``delete``: which receipt went, and during which tool call."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.current_call = -1
        self.deletes: list[Delete] = []
        self._lock = threading.Lock()
        self._original = sb.backend.delete

    def __enter__(self) -> DrainObserver:
        def delete(id_instance: str, receipt_id: int) -> bool:
            deleted = self._original(id_instance, receipt_id)
            with self._lock:
                self.deletes.append(Delete(receipt_id, deleted, self.current_call))
            return deleted

        self.sb.backend.delete = delete  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        self.sb.backend.delete = self._original  # type: ignore[method-assign]


def _inject_faults(sb: Sandbox, inst: SandboxInstance) -> list[Any]:
    # k independent rules of probability q fault 1 - (1 - q)^k of the requests: 5 % per method.
    q = 1 - (1 - FAULT_SHARE) ** (1 / len(FAULT_KINDS))
    rules = []
    for m, method in enumerate(("receiveNotification", "deleteNotification")):
        for i, spec in enumerate(FAULT_KINDS):
            seed = 7000 + 100 * m + i
            rules.append(sb.inject_fault(method=method, instance=inst, probability=q, seed=seed, **spec))
    return rules


# CI: 500 notifications on each client path; slow: 10,000 on the default one (async over aiohttp).
DRAINS = [
    pytest.param("async-aiohttp", 500, id="async-aiohttp-500"),
    pytest.param("async-httpcore", 500, id="async-httpcore-500"),
    pytest.param("sync", 500, id="sync-500"),
    pytest.param("async-aiohttp", 10_000, id="async-aiohttp-10000", marks=pytest.mark.slow),
]


@pytest.mark.parametrize(("mode", "count"), DRAINS)
async def test_drain_under_faults_loses_nothing(
    mode: str, count: int, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    block = make_block(mode, sandbox.url, instance)
    receipt_text: dict[int, str] = {}
    upfront = count // 2

    def inject(start: int, stop: int) -> None:
        for i in range(start, stop):
            result = sandbox.inject_incoming_text(instance, CHAT, f"order {i}")
            assert result.receipt_id is not None
            receipt_text[result.receipt_id] = f"order {i}"

    def produce() -> None:  # the rest arrives while the consumer drains
        for start in range(upfront, count, 50):
            inject(start, min(count, start + 50))
            time.sleep(0.002)

    inject(0, upfront)
    rules = _inject_faults(sandbox, instance)
    producer = threading.Thread(target=produce, name="reliability-producer", daemon=True)
    handed_by_call: list[list[int]] = []
    bodies: dict[int, Any] = {}
    duplicates_same_body = 0
    tool_errors: dict[str, int] = {}
    calls = 0
    deadline = time.monotonic() + max(60.0, count * 0.02)
    started = time.monotonic()
    try:
        with DrainObserver(sandbox) as obs, observe_wire(sandbox) as wire:
            producer.start()
            while time.monotonic() < deadline and calls < 4 * count:
                seen = {r for call in handed_by_call for r in call}
                if not producer.is_alive() and len(seen) == count and not sandbox.notifications(instance):
                    break
                obs.current_call = calls
                calls += 1
                try:
                    out = await asyncio.wait_for(run_tool(mode, block, TOOL, dict(ARGS)), 30)
                except GreenApiError as exc:
                    tool_errors[exc.code] = tool_errors.get(exc.code, 0) + 1
                    handed_by_call.append([])
                    continue
                this_call = []
                for item in out["notifications"]:
                    receipt = item["receiptId"]
                    if receipt in bodies:
                        assert item["body"] == bodies[receipt], "one receiptId, two different bodies"
                        duplicates_same_body += 1
                    bodies[receipt] = item["body"]
                    this_call.append(receipt)
                handed_by_call.append(this_call)
            elapsed = time.monotonic() - started
            producer.join(5)
        receives = len(wire.of("receiveNotification"))
        delete_requests = len(wire.of("deleteNotification"))
    finally:
        sandbox.clear_faults()
        await close_block(block)

    handed_total = sum(len(c) for c in handed_by_call)
    first_call: dict[int, int] = {}
    for index, call in enumerate(handed_by_call):
        for receipt in call:
            first_call.setdefault(receipt, index)

    lost = set(receipt_text) - set(first_call)
    early = [d for d in obs.deletes if d.deleted and first_call.get(d.receipt_id, 10**9) > d.during_call]
    strangers = set(first_call) - set(receipt_text)
    for receipt, body in bodies.items():
        assert body["messageData"]["textMessageData"]["textMessage"] == receipt_text[receipt]

    report(
        "g2_drain",
        mode=mode,
        notifications=count,
        tool_calls=calls,
        tool_errors=tool_errors,
        receive_requests=receives,
        delete_requests=delete_requests,
        faults_injected=sum(r.hits for r in rules),
        handed_back=handed_total,
        unique=len(first_call),
        duplicates=handed_total - len(first_call),
        lost=len(lost),
        deleted_before_handed_back=len(early),
        seconds=round(elapsed, 2),
    )
    assert not lost, f"{len(lost)} notifications never handed back"
    assert not strangers
    assert not early, f"deleted before being handed back: {early[:5]}"
    assert not sandbox.notifications(instance), "the queue did not drain"
    assert sum(r.hits for r in rules) > 0
    assert duplicates_same_body == handed_total - len(first_call)


@pytest.mark.parametrize("mode", ["async-aiohttp", "sync"])
async def test_a_drain_cut_short_by_its_caller_hands_back_what_it_deleted(
    mode: str, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    """A host that gives each step a deadline (a workflow engine's step timeout, an MCP request
    cancelled by its client, ``asyncio.wait_for``) cuts a drain between its deletes: what that
    call had already deleted must still reach the caller, on a later call at the latest.

    The sync path is the control: a thread cannot be cancelled, so the caller that stopped
    waiting still collects the thread's result when it ends, and nothing is lost.
    """
    for i in range(20):
        sandbox.inject_incoming_text(instance, CHAT, f"order {i}")
    # Each delete answers after 50 ms; the caller gives each call 0.3 s, less than 20 deletes take.
    sandbox.inject_fault("delay", method="deleteNotification", instance=instance, delay=0.05, forever=True)
    block = make_block(mode, sandbox.url, instance)
    handed: set[int] = set()
    cut = 0
    late: list[asyncio.Future[dict[str, Any]]] = []

    async def step() -> dict[str, Any]:
        if mode == "sync":
            thread = asyncio.ensure_future(asyncio.to_thread(block.execute, TOOL, dict(ARGS)))
            try:
                return await asyncio.wait_for(asyncio.shield(thread), 0.3)
            except TimeoutError:
                late.append(thread)
                raise
        return await asyncio.wait_for(block.aexecute(TOOL, dict(ARGS)), 0.3)

    try:
        for _ in range(40):
            try:
                out = await step()
            except TimeoutError:
                cut += 1
                continue
            handed.update(n["receiptId"] for n in out["notifications"])
            if not out["notifications"] and not sandbox.notifications(instance):
                break
        for thread in late:
            out = await asyncio.wait_for(thread, 10)
            handed.update(n["receiptId"] for n in out["notifications"])
    finally:
        sandbox.clear_faults()
        await close_block(block)
    report("g2_cut_short", mode=mode, notifications=20, calls_cut=cut, handed_back=len(handed))
    assert cut > 0, "no call was cut: the test tested nothing"
    assert not sandbox.notifications(instance)
    assert len(handed) == 20, f"{20 - len(handed)} notifications deleted by a cut-short call were lost"
