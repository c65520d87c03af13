"""``temporal poll`` as a real process: the first start starts the poller, a second says it is
running already; both exit 0 (not 134: the client is released before the interpreter exits).
And the whole CLI path: ``temporal worker`` then ``temporal poll`` delivers a customer message,
from the sandbox, to the chat's inbox workflow on the worker."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from green_api_block.integrations.temporal.devserver import TemporalDevServer
from green_api_block.integrations.temporal.routing import inbox_id
from green_api_block.integrations.temporal.workflows import GreenApiInbox, PollerInput, poller_id
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.credentials import CANARY
from tests.support.temporal_worker import WorkerProcess, wait_until_ready
from tests.temporal.harness import eventually

ROOT = Path(__file__).resolve().parents[2]
CHAT = "79001234567@c.us"


def _poll(
    server: TemporalDevServer, id_instance: str, tmp: Path, queue: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GREEN_API_ID_INSTANCE": id_instance,
        "GREEN_API_BLOCK_CONFIG": str(tmp / "none.toml"),
    }
    env.pop("GREEN_API_TOKEN_INSTANCE", None)  # starting a poller needs no token
    cmd = [sys.executable, "-m", "green_api_block", "temporal", "poll", "--address", server.address,
           "--task-queue", queue, "--receive-timeout", "5", *extra]  # fmt: skip
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


async def test_poll_starts_once_and_a_second_start_is_a_no_op(
    temporal_server: TemporalDevServer, temporal_client: Client, tmp_path: Path
) -> None:
    id_instance = str(1100000000 + uuid.uuid4().int % 10**8)
    first = await asyncio.to_thread(_poll, temporal_server, id_instance, tmp_path, "cli-pollers")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"poller started: {poller_id(id_instance)} on task queue cli-pollers"
    second = await asyncio.to_thread(_poll, temporal_server, id_instance, tmp_path, "cli-pollers", "--json")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == {
        "ok": True, "workflowId": poller_id(id_instance), "started": False, "taskQueue": "cli-pollers",
    }  # fmt: skip
    handle = temporal_client.get_workflow_handle(poller_id(id_instance))
    desc = await handle.describe()
    assert desc.status == WorkflowExecutionStatus.RUNNING and desc.task_queue == "cli-pollers"
    history = await handle.fetch_history()
    start = history.events[0].workflow_execution_started_event_attributes
    params = json.loads(start.input.payloads[0].data)
    assert params["id_instance"] == id_instance and params["receive_timeout"] == 5
    assert set(params) == set(PollerInput.__dataclass_fields__)  # no token field: nothing else travels
    await handle.terminate()


async def test_worker_then_poll_delivers_a_customer_message_to_the_chat_inbox(
    temporal_server: TemporalDevServer, temporal_client: Client, tmp_path: Path
) -> None:
    queue, pollers = f"cli-{uuid.uuid4()}", f"cli-pollers-{uuid.uuid4()}"
    with Sandbox(rate_limits=False, max_receive_wait=0.5) as sb:
        inst = sb.create_instance(api_token=CANARY)
        sb.inject_incoming_text(inst, CHAT, "is my order on its way?")
        with WorkerProcess(temporal_server.address, queue, inst, extra=["--poller-queue", pollers]) as proc:
            await wait_until_ready([proc])
            first = await asyncio.to_thread(_poll, temporal_server, inst.id_instance, tmp_path, pollers)
            assert first.returncode == 0, first.stderr
            assert first.stdout.startswith("poller started:"), first.stdout
            inbox = temporal_client.get_workflow_handle(inbox_id(inst.id_instance, CHAT))

            async def delivered() -> bool:
                try:
                    events = await inbox.query(GreenApiInbox.events)
                except RPCError:  # not started yet
                    return False
                return [e.get("text") for e in events] == ["is my order on its way?"]

            await eventually(delivered, "the message in the chat's inbox")
            # Deleted only behind the accepted signal: the queue is empty now.
            await eventually(lambda: _empty(sb, inst), "the instance's queue to drain")
            second = await asyncio.to_thread(_poll, temporal_server, inst.id_instance, tmp_path, pollers)
            assert second.returncode == 0, second.stderr
            wf_id = poller_id(inst.id_instance)
            assert second.stdout.strip() == f"poller already running: {wf_id} (nothing to do)"
            # SIGTERM with a poll in flight: the poll returns, the worker drains and exits 0.
            proc.terminate()
            code, err = await asyncio.to_thread(proc.wait, 30)
        assert code == 0, err
        assert "SIGTERM: drained, stopped" in err and CANARY not in err
        poller = temporal_client.get_workflow_handle(poller_id(inst.id_instance))
        for handle in (poller, inbox):
            assert CANARY not in (await handle.fetch_history()).to_json()
        await poller.terminate()


async def _empty(sb: Sandbox, inst: SandboxInstance) -> bool:
    return not sb.notifications(inst)
