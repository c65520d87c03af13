"""Guarantee 1: no duplicate sends, on every client path, under every fault the sandbox injects.

For each call the sandbox's record of accepted sends is counted by the call's unique text:

* at most one record per call, whatever happened;
* exactly one where the call reported success, with the idMessage the call returned;
* none where the call failed cleanly (``outcome_unknown`` false): a clean failure is safe to
  resend;
* where the outcome is unknown the error says so (``outcome_unknown`` true; code
  ``outcome_unknown`` when the connection died after the request left), and ``find_sent``
  (``lastOutgoingMessages``) tells which it was, agreeing with the sandbox's record.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from green_api_block import GreenApiError, Timeouts
from green_api_block.sandbox import Sandbox, SandboxInstance

from .harness import (
    CHAT,
    MODES,
    SANDBOX,
    close_block,
    find_sent,
    make_block,
    observe_wire,
    report,
    run_tool,
    send_args,
    sent_texts,
    wait_until,
)

pytestmark = SANDBOX

SEND = "green_api_send_message"
STATE = "green_api_get_state_instance"
NORMAL = Timeouts(connect=5, read=5, write=5, pool=5)
SHORT_READ = Timeouts(connect=5, read=0.25, write=5, pool=5)


@dataclass(frozen=True)
class Case:
    id: str
    fault: dict[str, Any]
    expect: str  # "ok" or the error code
    recorded: int  # sends the sandbox records for the call
    outcome_unknown: bool = False
    timeouts: Timeouts = NORMAL
    min_gap: float = 0.0  # seconds the client must wait between its two attempts
    settle: float = 0.0  # the server may still record the send this long after the call failed
    attempts: int | None = None


CASES = [
    # The connection closes before the server reads the body: nothing was sent, but the request
    # line had left, so the client cannot know that.
    Case("drop_before", {"kind": "drop_before"}, "outcome_unknown", 0, True, attempts=1),
    # Read, recorded, then the connection died: the classic "sent, no answer".
    Case("drop_after", {"kind": "drop_after"}, "outcome_unknown", 1, True, attempts=1),
    # The server holds the answer past the read timeout, then sends anyway.
    Case(
        "timeout_after_sent",
        {"kind": "delay", "delay": 0.6},
        "outcome_unknown",
        1,
        True,
        timeouts=SHORT_READ,
        settle=1.5,
        attempts=1,
    ),
    Case("status500", {"kind": "status", "status": 500}, "server_error", 0, True, attempts=1),
    Case(
        "status500_after_send",
        {"kind": "status", "status": 500, "process": True},
        "server_error",
        1,
        True,
        attempts=1,
    ),
    Case("status502", {"kind": "status", "status": 502}, "server_error", 0, True, attempts=1),
    Case(
        "status502_after_send",
        {"kind": "status", "status": 502, "process": True},
        "server_error",
        1,
        True,
        attempts=1,
    ),
    # 429 is answered before processing: the one error a send is retried after.
    Case("status429", {"kind": "status", "status": 429}, "ok", 1, attempts=2),
    Case(
        "status429_retry_after",
        {"kind": "status", "status": 429, "retry_after": 1},
        "ok",
        1,
        min_gap=1.0,
        attempts=2,
    ),
    Case(
        "status429_persistent",
        {"kind": "status", "status": 429, "forever": True},
        "rate_limited",
        0,
        False,
        attempts=4,
    ),
    # Refused before processing (validation): a clean failure, safe to fix and resend.
    Case("status400", {"kind": "status", "status": 400}, "bad_request", 0, False, attempts=1),
    Case("malformed_json", {"kind": "malformed_json"}, "bad_response", 0, True, attempts=1),
    Case(
        "malformed_json_after_send",
        {"kind": "malformed_json", "process": True},
        "bad_response",
        1,
        True,
        attempts=1,
    ),
    Case("html_200", {"kind": "text"}, "bad_response", 0, True, attempts=1),
    Case("slow_answer", {"kind": "delay", "delay": 0.1}, "ok", 1, attempts=1),
]


async def _check_unknown_outcome(
    mode: str, block: Any, sb: Sandbox, inst: SandboxInstance, text: str, recorded: list[str]
) -> None:
    """The check a workflow makes after outcome_unknown must agree with what the server did."""
    entry = await find_sent(mode, block, CHAT, text)
    if recorded:
        assert entry is not None, "find_sent missed a message the server recorded"
        assert entry["idMessage"] == recorded[0]
    else:
        assert entry is None, "find_sent reported a message the server never recorded"


# "pooled": the fault hits a kept-alive connection; "fresh": the call opens its own. What the
# client can know about a dropped or stalled request depends on the connection (a reused one may
# be stale; a new one reports its creation), so those run on both; an answer does not: pooled only.
WIRE_FAULTS = {"drop_before", "drop_after", "timeout_after_sent"}
CASE_PARAMS = [
    pytest.param(case, connection, id=f"{case.id}-{connection}")
    for case in CASES
    for connection in ("fresh", "pooled")
    if connection == "pooled" or case.id in WIRE_FAULTS
]


@pytest.mark.parametrize(("case", "connection"), CASE_PARAMS)
@pytest.mark.parametrize("mode", MODES)
async def test_one_send_per_call_under_each_fault(
    mode: str, case: Case, connection: str, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    block = make_block(mode, sandbox.url, instance, timeouts=case.timeouts)
    text = f"g1 {case.id} {uuid.uuid4().hex}"
    try:
        if connection == "pooled":  # the fault then hits a kept-alive connection
            await run_tool(mode, block, STATE, {})
        fault = sandbox.inject_fault(method="sendMessage", instance=instance, **case.fault)
        with observe_wire(sandbox) as wire:
            outcome: dict[str, Any] | GreenApiError
            try:
                outcome = await run_tool(mode, block, SEND, send_args(text))
            except GreenApiError as exc:
                outcome = exc
        if case.settle:
            wait_until(lambda: len(sent_texts(sandbox, instance).get(text, [])) >= case.recorded, case.settle)
        recorded = sent_texts(sandbox, instance).get(text, [])
        attempts = wire.of("sendMessage")

        assert fault.hits >= 1, "the fault never fired"
        assert len(recorded) <= 1, f"duplicate send: {len(recorded)} records for one call"
        assert len(recorded) == case.recorded
        if case.attempts is not None:
            assert len(attempts) == case.attempts
        if isinstance(outcome, GreenApiError):
            assert case.expect == outcome.code, f"{outcome!r}"
            assert outcome.outcome_unknown is case.outcome_unknown
            if not outcome.outcome_unknown:
                assert not recorded, "a clean failure must mean nothing was sent"
            else:
                assert outcome.retryable is False, "an unknown outcome must not invite a blind resend"
                assert "lastOutgoingMessages" in outcome.message
                await _check_unknown_outcome(mode, block, sandbox, instance, text, recorded)
        else:
            assert case.expect == "ok"
            assert recorded == [outcome["idMessage"]]
        if case.min_gap:
            gap = attempts[1].at - attempts[0].at
            assert gap >= case.min_gap, (
                f"Retry-After {case.min_gap} s not honoured: retried after {gap:.3f} s"
            )
    finally:
        await close_block(block)


# ---------------------------------------------------------------------------------- mixed faults

MIXED_FAULTS: list[dict[str, Any]] = [
    {"kind": "drop_before", "probability": 0.03},
    {"kind": "drop_after", "probability": 0.03},
    {"kind": "status", "status": 500, "probability": 0.03},
    {"kind": "status", "status": 502, "process": True, "probability": 0.03},
    {"kind": "status", "status": 429, "probability": 0.05},
    {"kind": "status", "status": 400, "probability": 0.02},
    {"kind": "malformed_json", "process": True, "probability": 0.03},
    {"kind": "delay", "delay": 0.05, "probability": 0.03},
    {"kind": "delay", "delay": 0.5, "probability": 0.01},  # past the read timeout: sent late
]
MIXED_TIMEOUTS = Timeouts(connect=5, read=0.3, write=5, pool=10)


@dataclass
class Tally:
    ok: int = 0
    unknown: int = 0
    clean: int = 0
    codes: dict[str, int] = field(default_factory=dict)


@pytest.mark.parametrize("calls", [300, pytest.param(3000, marks=pytest.mark.slow)])
@pytest.mark.parametrize("mode", MODES)
async def test_mixed_faults_never_duplicate_a_send(
    mode: str, calls: int, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    rules = [
        sandbox.inject_fault(method="sendMessage", instance=instance, seed=1000 + i, **spec)
        for i, spec in enumerate(MIXED_FAULTS)
    ]
    block = make_block(mode, sandbox.url, instance, timeouts=MIXED_TIMEOUTS)
    prefix = f"g1mix {uuid.uuid4().hex[:8]}"
    outcomes: dict[str, dict[str, Any] | GreenApiError] = {}
    counter = itertools.count()
    started = time.monotonic()

    async def worker() -> None:
        while (i := next(counter)) < calls:
            text = f"{prefix} {i}"
            try:
                outcomes[text] = await asyncio.wait_for(run_tool(mode, block, SEND, send_args(text)), 30)
            except GreenApiError as exc:
                outcomes[text] = exc

    try:
        # httpcore's async pool costs CPU quadratic in its connections: 16 keep it quick.
        workers = {"sync": 8, "async-aiohttp": 32, "async-httpcore": 16}[mode]
        await asyncio.gather(*(worker() for _ in range(workers)))
        elapsed = time.monotonic() - started
        sandbox.clear_faults()
        # Sends delayed past the client's timeout are still being processed: let them land.
        await asyncio.sleep(0.6)
        recorded = sent_texts(sandbox, instance)
        tally = Tally()
        disagreements = 0
        for text, outcome in outcomes.items():
            got = recorded.get(text, [])
            assert len(got) <= 1, f"duplicate send for {text!r}: {len(got)} records"
            if isinstance(outcome, GreenApiError):
                tally.codes[outcome.code] = tally.codes.get(outcome.code, 0) + 1
                if outcome.outcome_unknown:
                    tally.unknown += 1
                    entry = await find_sent(mode, block, CHAT, text)
                    disagreements += (entry is not None) != bool(got)
                else:
                    tally.clean += 1
                    assert not got, f"clean failure {outcome.code} but the server recorded {text!r}"
            else:
                tally.ok += 1
                assert got == [outcome["idMessage"]]
        assert len(outcomes) == calls
        assert disagreements == 0, "find_sent disagreed with the server's record"
        assert not set(recorded) - set(outcomes) - {""}, "the server recorded a send nobody made"
        report(
            "g1_mixed_faults",
            mode=mode,
            calls=calls,
            faults_injected=sum(r.hits for r in rules),
            ok=tally.ok,
            outcome_unknown=tally.unknown,
            clean_errors=tally.clean,
            codes=tally.codes,
            duplicates=0,
            find_sent_disagreements=disagreements,
            seconds=round(elapsed, 2),
        )
    finally:
        await close_block(block)
