"""The layout of the send queues: a stable group per instance, workers covering every group with
overlap, and the options every send worker must share."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from green_api_block import GreenApiBlock
from green_api_block.integrations.temporal.activities import GreenApiActivities
from green_api_block.integrations.temporal.conversation import Conversation
from green_api_block.integrations.temporal.send_queues import (
    DEFAULT_GROUP_RATE,
    DEFAULT_GROUPS,
    MAX_GROUP_RATE,
    groups_for_worker,
    send_group_of,
    send_queue_for,
    send_workers,
)
from green_api_block.integrations.temporal.worker import sandbox_runner
from tests.support.credentials import CANARY


@workflow.defn
class PickQueue:
    """Runs in Temporal's workflow sandbox (the default runner), as a user workflow would."""

    @workflow.run
    async def run(self, id_instance: str) -> str:
        return send_queue_for(id_instance, 8)


async def test_workflow_code_picks_the_queue_in_the_sandbox(temporal_client: Client) -> None:
    # The project's modules pass through, as the shipped workflows' runner does; pytest and this
    # test module too (the sandbox would re-import them otherwise).
    runner = SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(
            "green_api_block", "tests", "pytest"
        )
    )
    queue = f"pick-{uuid.uuid4()}"
    async with Worker(temporal_client, task_queue=queue, workflows=[PickQueue], workflow_runner=runner):
        picked = await temporal_client.execute_workflow(
            PickQueue.run, "1101000001", id=f"pick-{uuid.uuid4()}", task_queue=queue
        )
    assert picked == send_queue_for("1101000001", 8)


@workflow.defn
class TextOnSendQueue:
    """A conversation that sends on its instance's send queue."""

    def __init__(self) -> None:
        self.chat = Conversation(send_groups=8)

    @workflow.run
    async def run(self, id_instance: str) -> str:
        return await self.chat.bind(id_instance, "79001234567@c.us").send_text("hi")


@activity.defn(name="green_api_send_message")
async def fake_send(args: dict[str, Any]) -> dict[str, Any]:
    # Answers with the queue it ran on: the workflow's result proves where the send went.
    return {"idMessage": activity.info().task_queue, "success": True}


async def test_a_conversation_with_send_groups_sends_on_the_instances_queue(temporal_client: Client) -> None:
    flows = f"flows-{uuid.uuid4()}"
    expected = send_queue_for("1101000001", 8)
    async with (
        Worker(
            temporal_client, task_queue=flows, workflows=[TextOnSendQueue], workflow_runner=sandbox_runner()
        ),
        # Another instance's queue of the same layout serves the same activity: a send going to
        # the wrong group would be answered from there and fail the assertion.
        Worker(temporal_client, task_queue=expected, activities=[fake_send]),
        Worker(temporal_client, task_queue=send_queue_for("1101000002", 8), activities=[fake_send]),
    ):
        ran_on = await temporal_client.execute_workflow(
            TextOnSendQueue.run,
            "1101000001",
            id=f"conv-{uuid.uuid4()}",
            task_queue=flows,
            # A send scheduled on a queue nobody serves would wait for ever: bound it.
            execution_timeout=timedelta(seconds=30),
        )
    assert ran_on == expected
    with pytest.raises(ValueError, match="not both"):
        Conversation(task_queue="x", send_groups=8)


def test_the_worker_side_is_not_imported_with_send_queue_for() -> None:
    """Workflow code imports the module for send_queue_for alone: no worker machinery with it."""
    code = (
        "import sys, green_api_block.integrations.temporal.send_queues;"
        "print('temporalio.worker' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_group_is_the_same_in_every_process() -> None:
    """CRC-32, not hash(): a fresh interpreter (another hash seed) computes the same queue."""
    ids = [str(1101000000 + n) for n in range(50)]
    here = [send_queue_for(i) for i in ids]
    code = (
        "from green_api_block.integrations.temporal.send_queues import send_queue_for;"
        f"print(','.join(send_queue_for(i) for i in {ids!r}))"
    )
    there = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": "7"}
    ).stdout.strip()
    assert there.split(",") == here
    assert send_queue_for(1101000000) == send_queue_for("1101000000") == here[0]
    assert here[0].startswith("green-api-send-")


def test_1000_instances_spread_over_the_groups() -> None:
    counts = Counter(send_group_of(str(7103000000 + n * 7919)) for n in range(1000))
    assert set(counts) == set(range(DEFAULT_GROUPS))
    # About 16 each; no group carries a crowd (what it shares is one rate).
    assert max(counts.values()) <= 32


@pytest.mark.parametrize(("workers", "copies"), [(1, 1), (4, 2), (8, 2), (5, 3)])
def test_every_group_is_served_by_copies_workers(workers: int, copies: int) -> None:
    served = Counter(g for i in range(workers) for g in groups_for_worker(i, workers, copies=copies))
    assert served == dict.fromkeys(range(DEFAULT_GROUPS), copies)


def test_bad_layouts_are_refused() -> None:
    with pytest.raises(ValueError, match="copies"):
        groups_for_worker(0, 2, copies=3)
    with pytest.raises(ValueError, match="index"):
        groups_for_worker(2, 2)
    with pytest.raises(ValueError, match="groups"):
        send_group_of("1101000000", 0)


async def test_send_workers_limit_their_queue_and_refuse_a_rate_over_the_instance_limit(
    temporal_client: Client,
) -> None:
    async with GreenApiBlock("http://127.0.0.1:9", id_instance="1101000000", api_token=CANARY) as block:
        acts = GreenApiActivities(block)
        workers = send_workers(temporal_client, acts, [3, 1, 3])
        assert [w.task_queue for w in workers] == ["green-api-send-1", "green-api-send-3"]
        for w in workers:
            config = w.config()
            # The same rate on every worker of a queue (Temporal: different values thrash).
            assert config.get("max_task_queue_activities_per_second") == DEFAULT_GROUP_RATE
            assert config.get("disable_eager_activity_execution") is True
            names = sorted(getattr(a, "__temporal_activity_definition").name for a in config["activities"])
            assert names == ["green_api_send_buttons", "green_api_send_file", "green_api_send_message"]
        unlimited = send_workers(temporal_client, acts, [0], rate=None)[0].config()
        assert unlimited.get("max_task_queue_activities_per_second") is None
        assert DEFAULT_GROUP_RATE < MAX_GROUP_RATE == 50
        with pytest.raises(ValueError, match="at most 50"):
            send_workers(temporal_client, acts, [0], rate=60)
        with pytest.raises(TypeError, match="max_task_queue_activities_per_second"):
            send_workers(temporal_client, acts, [0], max_task_queue_activities_per_second=10)
        with pytest.raises(ValueError, match="no groups"):
            send_workers(temporal_client, acts, [])
