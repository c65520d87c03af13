"""A worker killed mid-send: the workflow completes and the message went out exactly once.

The sandbox records each send and then holds its answer (``delay`` with ``process=True``); the
worker holding the activity (Temporal names it: ``last_worker_identity``) is SIGKILLed while it
waits; a second worker process is running all along. The attempt that follows must find the
send in ``lastOutgoingMessages`` and return it, and must not take an identical message sent a
minute earlier (in the journal window, before the first attempt) for it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from green_api_block import GreenApiBlock
from green_api_block.integrations.temporal.devserver import TemporalDevServer
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.clock import ShiftedClock
from tests.support.credentials import CANARY
from tests.support.temporal_worker import WorkerProcess, wait_until_ready
from tests.temporal.tool_workflow import RunTool, ToolCall

CHAT = "79001234567@c.us"
TOOLS = ("green_api_send_message", "green_api_send_file", "green_api_send_buttons")
API_METHOD = {
    "green_api_send_message": "sendMessage",
    "green_api_send_file": "sendFileByUrl",
    "green_api_send_buttons": "sendInteractiveButtonsReply",
}
# Long enough that the answer never comes while the test runs: only the kill ends the attempt.
HOLD = 120.0
START_TO_CLOSE = 3.0  # how soon Temporal gives the killed worker's attempt up


def payload(tool: str, n: int) -> dict[str, Any]:
    if tool == "green_api_send_message":
        return {"chatId": CHAT, "message": f"Order {n} is confirmed"}
    if tool == "green_api_send_file":
        # No caption: the old lookup took the chat's last message of any kind for it.
        return {"chatId": CHAT, "urlFile": f"https://example.org/p/{n}.jpg", "fileName": f"photo-{n}.jpg"}
    return {
        "chatId": CHAT,
        "message": f"Confirm order {n}?",
        "buttons": [{"buttonText": "Confirm"}, {"buttonText": "Cancel"}],
    }


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture
def sandbox(clock: ShiftedClock) -> Iterator[Sandbox]:
    with Sandbox(rate_limits=False, clock=clock) as sb:
        yield sb


@pytest.fixture
def instance(sandbox: Sandbox) -> SandboxInstance:
    return sandbox.create_instance(api_token=CANARY)


async def _holder(client: Client, handle: WorkflowHandle[Any, Any], timeout: float = 30.0) -> str:
    """The identity of the worker running the workflow's activity (bounded wait)."""
    deadline = time.monotonic() + timeout
    while True:
        desc = await handle.describe()
        pending = list(desc.raw_description.pending_activities)
        started = pending and pending[0].state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
        if started and pending[0].last_worker_identity:
            return str(pending[0].last_worker_identity)
        assert time.monotonic() < deadline, "no worker started the activity"
        await asyncio.sleep(0.05)


async def _crash_rounds(
    server: TemporalDevServer,
    client: Client,
    sandbox: Sandbox,
    clock: ShiftedClock,
    instance: SandboxInstance,
    tools: list[str],
) -> None:
    activities, workflows = f"a-{uuid.uuid4()}", f"w-{uuid.uuid4()}"
    block = GreenApiBlock(
        sandbox.url, id_instance=instance.id_instance, api_token=CANARY, credentials_from_env=False
    )
    workers = [WorkerProcess(server.address, activities, instance) for _ in range(2)]
    everyone = list(workers)
    try:
        await wait_until_ready(workers)
        async with Worker(client, task_queue=workflows, workflows=[RunTool]):
            for n, tool in enumerate(tools):
                args = payload(tool, n)
                clock.set(-60.0)  # the identical earlier message: a minute ago, in the journal window
                earlier = (await block.aexecute(tool, args))["idMessage"]
                clock.set(0.0)
                sandbox.inject_fault("delay", method=API_METHOD[tool], delay=HOLD, process=True)
                before = len(sandbox.sent_messages(instance))
                call = ToolCall(tool, args, activities, start_to_close=START_TO_CLOSE, initial_interval=0.2)
                handle = await client.start_workflow(
                    RunTool.run, call, id=f"wf-{uuid.uuid4()}", task_queue=workflows
                )
                holder = await _holder(client, handle)
                deadline = time.monotonic() + 30
                while len(sandbox.sent_messages(instance)) == before:
                    assert time.monotonic() < deadline, "the send never reached the sandbox"
                    await asyncio.sleep(0.02)
                victim = next(w for w in workers if w.identity == holder)
                victim.kill()  # SIGKILL while the send waits for its answer
                survivor = next(w for w in workers if w is not victim)
                fresh = WorkerProcess(server.address, activities, instance)
                everyone.append(fresh)
                workers = [survivor, fresh]

                result = await asyncio.wait_for(handle.result(), 60)
                mine = [m for m in sandbox.sent_messages(instance) if m.payload == sent_payload(tool, args)]
                assert [m.id_message for m in mine] == [earlier, result["idMessage"]], (tool, n)
                assert len(sandbox.sent_messages(instance)) == before + 1, (tool, n)
                events = (await handle.fetch_history()).events
                started = [
                    e.activity_task_started_event_attributes
                    for e in events
                    if e.HasField("activity_task_started_event_attributes")
                ]
                # Completed by a later attempt on a live worker, not by the one killed.
                assert started[-1].attempt >= 2 and started[-1].identity != victim.identity
                assert CANARY not in (await handle.fetch_history()).to_json()
                await wait_until_ready([fresh])
    finally:
        for w in everyone:
            w.kill()
        await block.aclose()


def sent_payload(tool: str, args: dict[str, Any]) -> dict[str, Any]:
    """What the sandbox records for the tool's request (buttons get ids, the text is ``body``)."""
    if tool != "green_api_send_buttons":
        return args
    buttons = [{"buttonId": str(i), "buttonText": b["buttonText"]} for i, b in enumerate(args["buttons"], 1)]
    return {"chatId": args["chatId"], "body": args["message"], "buttons": buttons}


async def test_a_worker_killed_mid_send_sends_once_for_each_send_tool(
    temporal_server: TemporalDevServer,
    temporal_client: Client,
    sandbox: Sandbox,
    clock: ShiftedClock,
    instance: SandboxInstance,
) -> None:
    await _crash_rounds(temporal_server, temporal_client, sandbox, clock, instance, [*TOOLS] * 3)


@pytest.mark.slow
async def test_a_worker_killed_mid_send_20_times(
    temporal_server: TemporalDevServer,
    temporal_client: Client,
    sandbox: Sandbox,
    clock: ShiftedClock,
    instance: SandboxInstance,
) -> None:
    await _crash_rounds(temporal_server, temporal_client, sandbox, clock, instance, ([*TOOLS] * 7)[:20])
