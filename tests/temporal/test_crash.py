"""Workers as real processes, killed with SIGKILL: nothing the poller took is lost or handled twice,
and a conversation waiting for a tap survives its worker.

The mid-poll kill is staged where it hurts: a delay fault holds the poller's deleteNotification,
so the worker dies after Temporal accepted the signal and before the item left the queue. The
second worker's poll (resumed after the heartbeat timeout) receives the same head item and signals
it again; the conversation drops the copy by event_key.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle

from green_api_block.integrations.temporal.devserver import TemporalDevServer
from green_api_block.integrations.temporal.examples.order_confirmation import Order, OrderConfirmation
from green_api_block.integrations.temporal.poller import start_poller
from green_api_block.integrations.temporal.routing import conversation_id
from green_api_block.integrations.temporal.workflows import PollerInput
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.credentials import CANARY
from tests.temporal.collector import Collector
from tests.temporal.harness import WorkerProcess, all_histories, eventually


@pytest.fixture
def sandbox() -> Iterator[tuple[Sandbox, SandboxInstance]]:
    with Sandbox(rate_limits=False, max_receive_wait=0.5) as sb:
        yield sb, sb.create_instance(api_token=CANARY)


def _workers(
    server: TemporalDevServer, sb: Sandbox, inst: SandboxInstance, workflow: str
) -> list[WorkerProcess]:
    queues = {"poller_queue": f"pollers-{uuid.uuid4()}", "chat_queue": f"chats-{uuid.uuid4()}"}
    return [
        WorkerProcess(
            address=server.address,
            api_url=sb.url,
            id_instance=inst.id_instance,
            token=CANARY,
            workflow=workflow,
            **queues,
        )
        for _ in range(2)
    ]


def _options(inst: SandboxInstance, queue: str) -> PollerInput:
    # A dead worker's poll is noticed within 2 s (the activity heartbeats while its long poll is held).
    return PollerInput(inst.id_instance, receive_timeout=5, run_seconds=60, heartbeat_timeout=2,
                       activity_task_queue=queue)  # fmt: skip


async def _kill_mid_poll(
    client: Client, server: TemporalDevServer, sb: Sandbox, inst: SandboxInstance, total: int, chats: int
) -> None:
    first, second = _workers(server, sb, inst, "Collector")
    queue = first.cmd[first.cmd.index("--poller-queue") + 1]
    ids = [f"7901{n:07d}@c.us" for n in range(chats)]
    expected: dict[str, list[str]] = {chat: [] for chat in ids}

    def inject(numbers: range) -> None:
        for n in numbers:
            chat = ids[n % chats]
            expected[chat].append(f"message {n}")
            sb.inject_incoming_text(inst, chat, f"message {n}")

    quarter, half = total // 4, total // 2
    with first:
        inject(range(quarter))
        handle, started = await start_poller(client, inst.id_instance, task_queue=queue,
                                             options=_options(inst, queue))  # fmt: skip
        assert started

        async def some_taken() -> bool:
            return len(sb.notifications(inst)) < quarter

        await eventually(some_taken, "the first worker to take some messages")
        # The survivor starts now: the poll activity (60 s per run) stays on the first worker.
        second.start()
        # Hold the next delete: its signal is in Temporal, its item still heads the queue.
        fault = sb.inject_fault("delay", instance=inst, method="deleteNotification", delay=10.0, forever=True)
        inject(range(quarter, half))
        deadline = time.monotonic() + 20
        while fault.hits == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        assert fault.hits >= 1, "no delete was held: the kill would not be mid-poll"
        first.kill()
        sb.clear_faults()
        inject(range(half, total))

        async def all_in() -> bool:
            if sb.notifications(inst):
                return False
            for chat in ids:
                try:
                    got = await client.get_workflow_handle(conversation_id(inst.id_instance, chat)).query(
                        Collector.counts
                    )
                except Exception:
                    return False
                if got["events"] < len(expected[chat]):
                    return False
            return True

        await eventually(all_in, f"all {total} messages in their conversations", timeout=60 + total / 10)
        duplicates = 0
        for chat in ids:
            wf = client.get_workflow_handle(conversation_id(inst.id_instance, chat))
            assert await wf.query(Collector.texts) == expected[chat]  # each once, in queue order
            counts = await wf.query(Collector.counts)
            duplicates += counts["duplicates"]
            await wf.signal(Collector.finish)
            assert await wf.result() == expected[chat]
        await handle.cancel()
        assert second.stop() == 0
    histories = await all_histories(client)
    assert not [wf for wf, h in histories if CANARY in h]
    # The held item came again from the survivor's poll and was dropped as a copy.
    assert duplicates >= 1


async def test_sigkill_mid_poll_loses_nothing_and_handles_each_message_once(
    temporal_client: Client, temporal_server: TemporalDevServer, sandbox: tuple[Sandbox, SandboxInstance]
) -> None:
    sb, inst = sandbox
    await _kill_mid_poll(temporal_client, temporal_server, sb, inst, total=40, chats=8)


@pytest.mark.slow
async def test_sigkill_mid_poll_with_1000_messages(
    temporal_client: Client, temporal_server: TemporalDevServer, sandbox: tuple[Sandbox, SandboxInstance]
) -> None:
    sb, inst = sandbox
    await _kill_mid_poll(temporal_client, temporal_server, sb, inst, total=1000, chats=50)


async def test_a_conversation_survives_its_worker_between_buttons_sent_and_tap(
    temporal_client: Client, temporal_server: TemporalDevServer, sandbox: tuple[Sandbox, SandboxInstance]
) -> None:
    sb, inst = sandbox
    chat = "79005550001@c.us"
    first, second = _workers(temporal_server, sb, inst, "")
    pollers = first.cmd[first.cmd.index("--poller-queue") + 1]
    chats = first.cmd[first.cmd.index("--chat-queue") + 1]
    with first:
        poller, _ = await start_poller(temporal_client, inst.id_instance, task_queue=pollers,
                                       options=_options(inst, pollers))  # fmt: skip
        order = await temporal_client.start_workflow(
            OrderConfirmation.run,
            Order(inst.id_instance, chat, "K-1"),
            id=conversation_id(inst.id_instance, chat),
            task_queue=chats,
        )

        async def asked() -> bool:
            return any(m.buttons for m in sb.sent_messages(inst))

        await eventually(asked, "the buttons to be sent")
        await eventually(lambda: _status_is(order, "asked"), "the order to wait for the tap")
        first.kill()
    with second:
        sb.inject_button_tap(sb.instance(inst.id_instance), chat, button_id="confirm")
        async with asyncio.timeout(60):
            assert await order.result() == "confirmed"
        sent = sb.sent_messages(inst)
        # Buttons once (the kill came after the send), the answer once.
        assert [m.type_message for m in sent] == ["interactiveButtonsReply", "textMessage"]
        assert sent[1].text == "Order K-1 is confirmed. Thank you!"
        await poller.cancel()
        assert second.stop() == 0
    histories = await all_histories(temporal_client)
    assert not [wf for wf, h in histories if CANARY in h]


async def _status_is(order: WorkflowHandle[Any, Any], stage: str) -> bool:
    return bool(await order.query(OrderConfirmation.status) == stage)
