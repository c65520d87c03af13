"""The webhook path: the sandbox pushes to a real uvicorn running the WebhookReceiver with the
Temporal handoff; each push lands in its chat's conversation workflow, and the 200 comes only once
Temporal accepted the signal (a handoff that fails answers 500 and the push comes again)."""

from __future__ import annotations

import asyncio
import socket
import uuid

import uvicorn
from temporalio.client import Client
from temporalio.worker import Worker

from green_api_block.events import Event
from green_api_block.integrations.temporal.handoff import TemporalHandoff
from green_api_block.integrations.temporal.routing import Routing, conversation_id
from green_api_block.integrations.temporal.worker import sandbox_runner
from green_api_block.integrations.temporal.workflows import GreenApiInbox
from green_api_block.sandbox import Sandbox
from green_api_block.webhook import WebhookReceiver
from tests.support.credentials import CANARY
from tests.temporal.collector import Collector
from tests.temporal.harness import all_histories, eventually

CHATS = ["79001110001@c.us", "79001110002@lid"]
HOOK_SECRET = "hook-secret-0123456789"


class FlakyHandoff(TemporalHandoff):
    """Fails the first hand-off of each chat's first message, as an unreachable Temporal would."""

    def __init__(self, client: Client, routing: Routing) -> None:
        super().__init__(client, routing)
        self.failed: set[str] = set()

    async def __call__(self, event: Event) -> None:
        if event.chatId and event.chatId not in self.failed:
            self.failed.add(event.chatId)
            raise ConnectionError("temporal unreachable (staged)")
        await super().__call__(event)


async def test_pushed_events_reach_their_conversations_and_200_means_temporal_has_them(
    temporal_client: Client,
) -> None:
    chats = f"chats-{uuid.uuid4()}"
    routing = Routing(task_queue=chats, workflow="Collector")
    handoff = FlakyHandoff(temporal_client, routing)
    receiver = WebhookReceiver(handoff, token=HOOK_SECRET)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(receiver, lifespan="on", log_level="warning", loop="asyncio"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    conversations = Worker(
        temporal_client,
        task_queue=chats,
        workflows=[Collector, GreenApiInbox],
        workflow_runner=sandbox_runner(),
    )
    try:
        with Sandbox(rate_limits=False, webhook_retry_delay=0.05) as sb:
            inst = sb.create_instance(api_token=CANARY)
            sb.set_settings(inst, {"webhookUrl": f"http://127.0.0.1:{port}/", "webhookUrlToken": HOOK_SECRET})
            expected = {chat: [f"{chat} {n}" for n in range(5)] for chat in CHATS}
            async with conversations:
                for n in range(5):
                    for chat in CHATS:
                        sb.inject_incoming_text(inst, chat, expected[chat][n])

                async def all_pushed() -> bool:
                    return not sb.notifications(inst)

                await eventually(all_pushed, "every notification pushed and answered 200")
                # The queue is empty, so every item had its 200: Temporal holds each already.
                for chat in CHATS:
                    wf = temporal_client.get_workflow_handle(conversation_id(inst.id_instance, chat))
                    assert await wf.query(Collector.texts) == expected[chat]
                    await wf.signal(Collector.finish)
                    await wf.result()
                statuses = [a.status for a in sb.push_attempts(inst)]
                assert statuses.count(500) == len(CHATS) and statuses.count(200) == 10
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 10)
        sock.close()
    histories = await all_histories(temporal_client)
    assert not [wf for wf, h in histories if CANARY in h or HOOK_SECRET in h]
