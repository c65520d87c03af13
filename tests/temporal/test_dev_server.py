"""The real server the Temporal tests run against starts offline and runs a workflow."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker


@activity.defn
async def shout(text: str) -> str:
    return text.upper()


@workflow.defn(sandboxed=False)
class Shout:
    @workflow.run
    async def run(self, text: str) -> str:
        return await workflow.execute_activity(shout, text, start_to_close_timeout=timedelta(seconds=10))


async def test_a_workflow_runs_on_the_dev_server(temporal_client: Client) -> None:
    queue = f"q-{uuid.uuid4()}"
    async with Worker(temporal_client, task_queue=queue, workflows=[Shout], activities=[shout]):
        result = await temporal_client.execute_workflow(
            Shout.run, "hi", id=f"wf-{uuid.uuid4()}", task_queue=queue
        )
    assert result == "HI"
