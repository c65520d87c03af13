"""An in-process stack for the conversation tests: a sandbox, a block, a pollers worker and a
conversations worker on the test's dev server, with the instance's poller running."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from green_api_block.block import GreenApiBlock
from green_api_block.integrations.temporal.activities import GreenApiActivities
from green_api_block.integrations.temporal.examples.order_confirmation import OrderConfirmation
from green_api_block.integrations.temporal.poller import PollerActivities, poller_worker, start_poller
from green_api_block.integrations.temporal.routing import Routing
from green_api_block.integrations.temporal.worker import build_worker
from green_api_block.integrations.temporal.workflows import PollerInput
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.credentials import CANARY
from tests.temporal.collector import Collector

__all__ = ["Stack", "stack"]


@dataclass
class Stack:
    client: Client
    sb: Sandbox
    inst: SandboxInstance
    block: GreenApiBlock
    chat_queue: str
    poller_queue: str
    poller: WorkflowHandle[object, object]


@asynccontextmanager
async def stack(client: Client, *, workflow: str | None = None) -> AsyncIterator[Stack]:
    """``workflow``: the type the poller starts for a chat without a conversation (None: inbox)."""
    with Sandbox(rate_limits=False, max_receive_wait=0.5) as sb:
        inst = sb.create_instance(api_token=CANARY)
        pollers, chats = f"pollers-{uuid.uuid4()}", f"chats-{uuid.uuid4()}"
        async with GreenApiBlock(sb.url, sb.url, id_instance=inst.id_instance, api_token=CANARY) as block:
            routing = Routing(task_queue=chats, workflow=workflow)
            # The tool activities and the shipped workflows (the inbox), plus the test's own.
            conversations = build_worker(
                client, GreenApiActivities(block), task_queue=chats, workflows=[OrderConfirmation, Collector]
            )
            activities = PollerActivities(client, block, routing)
            async with poller_worker(client, activities, task_queue=pollers), conversations:
                options = PollerInput(
                    inst.id_instance, receive_timeout=5, run_seconds=10, heartbeat_timeout=5,
                    activity_task_queue=pollers,
                )  # fmt: skip
                handle, _ = await start_poller(client, inst.id_instance, task_queue=pollers, options=options)
                try:
                    yield Stack(client, sb, inst, block, chats, pollers, handle)
                finally:
                    with contextlib.suppress(RPCError):  # a test may have stopped it already
                        await handle.cancel()
