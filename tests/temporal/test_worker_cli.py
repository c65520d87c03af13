"""``green-api-block temporal worker`` as a real process: it serves, drains on SIGTERM, exits 0.

Exit codes are checked run after run: temporalio can turn a clean exit into 134 when a client is
still alive at interpreter exit (ENGINES.md §1), and it does so only some of the time.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from green_api_block.integrations.temporal.devserver import TemporalDevServer
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.credentials import CANARY
from tests.support.temporal_worker import WorkerProcess, wait_until_ready
from tests.temporal.tool_workflow import RunTool, ToolCall

CHAT = "79001234567@c.us"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(rate_limits=False) as sb:
        yield sb


@pytest.fixture
def instance(sandbox: Sandbox) -> SandboxInstance:
    return sandbox.create_instance(api_token=CANARY)


async def test_sigterm_exits_0_run_after_run(
    temporal_server: TemporalDevServer, temporal_client: Client, instance: SandboxInstance
) -> None:
    queue = f"a-{uuid.uuid4()}"
    codes = []
    for _ in range(5):
        with WorkerProcess(temporal_server.address, queue, instance) as proc:
            await wait_until_ready([proc])
            proc.terminate()
            code, err = await asyncio.to_thread(proc.wait, 30)
            codes.append(code)
            assert "SIGTERM: drained, stopped" in err, err
            assert CANARY not in err
    assert codes == [0] * 5


async def test_sigterm_lets_the_send_in_flight_finish(
    temporal_server: TemporalDevServer, temporal_client: Client, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    activities, workflows = f"a-{uuid.uuid4()}", f"w-{uuid.uuid4()}"
    # Recorded at once, answered 1.5 s later: SIGTERM lands while the send waits for its answer.
    sandbox.inject_fault("delay", method="sendMessage", delay=1.5, process=True)
    with WorkerProcess(temporal_server.address, activities, instance) as proc:
        await wait_until_ready([proc])
        async with Worker(temporal_client, task_queue=workflows, workflows=[RunTool]):
            call = ToolCall("green_api_send_message", {"chatId": CHAT, "message": "drain me"}, activities)
            handle = await temporal_client.start_workflow(
                RunTool.run, call, id=f"wf-{uuid.uuid4()}", task_queue=workflows
            )
            deadline = time.monotonic() + 30
            while not sandbox.sent_messages(instance):
                assert time.monotonic() < deadline, "the send never reached the sandbox"
                await asyncio.sleep(0.02)
            proc.terminate()
            result = await asyncio.wait_for(handle.result(), 30)
            code, err = await asyncio.to_thread(proc.wait, 30)
    assert code == 0, err
    sent = sandbox.sent_messages(instance)
    assert [m.id_message for m in sent] == [result["idMessage"]]
    # Finished by the draining worker in its first attempt, not retried elsewhere.
    events = (await handle.fetch_history()).events
    started = [e for e in events if e.HasField("activity_task_started_event_attributes")]
    assert [e.activity_task_started_event_attributes.attempt for e in started] == [1]
