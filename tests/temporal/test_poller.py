"""The poller on the real dev server against the sandbox: every customer message reaches its chat's
conversation workflow exactly once, the queue is deleted only behind the signals, a finished
conversation is not reopened, and a second start is a no-op."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker

from green_api_block.block import GreenApiBlock
from green_api_block.events import model as event_model
from green_api_block.integrations.temporal.poller import PollerActivities, poller_worker, start_poller
from green_api_block.integrations.temporal.routing import Routing, conversation_id, inbox_id
from green_api_block.integrations.temporal.worker import sandbox_runner
from green_api_block.integrations.temporal.workflows import GreenApiInbox, PollerInput, poller_id
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.credentials import CANARY
from tests.temporal.collector import Collector
from tests.temporal.harness import all_histories, eventually
from tests.temporal.stack import Stack, stack

CHATS = [f"7900000000{i}@c.us" for i in range(4)]


@pytest.fixture
def sandbox() -> Iterator[tuple[Sandbox, SandboxInstance]]:
    with Sandbox(rate_limits=False, max_receive_wait=0.5) as sb:
        yield sb, sb.create_instance(api_token=CANARY, settings={"outgoingAPIMessageWebhook": "yes"})


def _options(inst: SandboxInstance, queue: str) -> PollerInput:
    return PollerInput(inst.id_instance, receive_timeout=5, run_seconds=5, heartbeat_timeout=5,
                       activity_task_queue=queue)  # fmt: skip


async def test_each_message_reaches_its_chat_once_and_the_queue_drains(
    temporal_client: Client, sandbox: tuple[Sandbox, SandboxInstance]
) -> None:
    sb, inst = sandbox
    queue = f"pollers-{uuid.uuid4()}"
    chats = f"chats-{uuid.uuid4()}"
    sent = {chat: [f"{chat} #{n}" for n in range(5)] for chat in CHATS}
    for n in range(5):
        for chat in CHATS:
            sb.inject_incoming_text(inst, chat, sent[chat][n])
    async with GreenApiBlock(sb.url, sb.url, id_instance=inst.id_instance, api_token=CANARY) as block:
        # The bot's own send comes as outgoingAPIMessageReceived: deleted, never signalled.
        await block.aexecute("green_api_send_message", {"chatId": CHATS[0], "message": "hello"})
        routing = Routing(task_queue=chats, workflow="Collector")
        activities = PollerActivities(temporal_client, block, routing)
        conversations = Worker(
            temporal_client,
            task_queue=chats,
            workflows=[Collector, GreenApiInbox],
            workflow_runner=sandbox_runner(),
        )
        async with poller_worker(temporal_client, activities, task_queue=queue), conversations:
            handle, started = await start_poller(temporal_client, inst.id_instance, task_queue=queue,
                                                 options=_options(inst, queue))  # fmt: skip
            assert started
            again, started_again = await start_poller(temporal_client, inst.id_instance, task_queue=queue)
            assert not started_again and again.id == handle.id == poller_id(inst.id_instance)

            async def all_in() -> bool:
                for chat in CHATS:
                    try:
                        got = await temporal_client.get_workflow_handle(
                            conversation_id(inst.id_instance, chat)
                        ).query(Collector.texts)
                    except Exception:
                        return False
                    if len(got) < 5:
                        return False
                return not sb.notifications(inst)

            await eventually(all_in, "every message in its conversation and the queue empty")
            for chat in CHATS:
                wf = temporal_client.get_workflow_handle(conversation_id(inst.id_instance, chat))
                assert await wf.query(Collector.texts) == sent[chat]  # in order, once each

            # The conversation finishes; a late message for its chat goes to the inbox.
            done = temporal_client.get_workflow_handle(conversation_id(inst.id_instance, CHATS[0]))
            await done.signal(Collector.finish)
            assert await done.result() == sent[CHATS[0]]
            sb.inject_incoming_text(inst, CHATS[0], "late")
            inbox = temporal_client.get_workflow_handle(inbox_id(inst.id_instance, CHATS[0]))

            async def in_inbox() -> bool:
                try:
                    events = await inbox.query(GreenApiInbox.events)
                except Exception:
                    return False
                return [e["text"] for e in events] == ["late"]

            await eventually(in_inbox, "the late message in the chat's inbox")
            assert (await done.describe()).status == WorkflowExecutionStatus.COMPLETED
            totals = await handle.query("totals")
            await handle.cancel()
    histories = await all_histories(temporal_client)
    assert histories and not [wf for wf, h in histories if CANARY in h]
    del totals


async def test_one_worker_polls_many_instances_with_tokens_looked_up_on_the_worker(
    temporal_client: Client,
) -> None:
    queue, chats = f"pollers-{uuid.uuid4()}", f"chats-{uuid.uuid4()}"
    with Sandbox(rate_limits=False, max_receive_wait=0.5) as sb:
        instances = [sb.create_instance() for _ in range(20)]
        tokens = {inst.id_instance: inst.api_token for inst in instances}
        for inst in instances:
            for n in range(3):
                sb.inject_incoming_text(inst, CHATS[0], f"{inst.id_instance} #{n}")
        # No credentials bound: each poll looks its instance's token up in the mapping.
        async with GreenApiBlock(sb.url, sb.url, credentials_from_env=False) as block:
            routing = Routing(task_queue=chats, workflow="Collector")
            activities = PollerActivities(temporal_client, block, routing, tokens=tokens)
            conversations = Worker(temporal_client, task_queue=chats, workflows=[Collector],
                                   workflow_runner=sandbox_runner())  # fmt: skip
            async with (
                poller_worker(temporal_client, activities, task_queue=queue, max_pollers=20),
                conversations,
            ):
                handles = []
                for inst in instances:
                    handle, started = await start_poller(temporal_client, inst.id_instance, task_queue=queue,
                                                         options=_options(inst, queue))  # fmt: skip
                    assert started
                    handles.append(handle)

                async def drained() -> bool:
                    return all(not sb.notifications(inst) for inst in instances)

                await eventually(drained, "all 20 queues drained")
                for inst in instances:
                    wf = temporal_client.get_workflow_handle(conversation_id(inst.id_instance, CHATS[0]))
                    assert await wf.query(Collector.texts) == [f"{inst.id_instance} #{n}" for n in range(3)]
                for handle in handles:
                    await handle.cancel()
        secrets = set(tokens.values())
    histories = await all_histories(temporal_client)
    assert not [wf for wf, h in histories if any(t in h for t in secrets)]


async def test_events_without_a_chat_and_unreadable_bodies_go_to_the_instance_inbox(
    temporal_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with stack(temporal_client) as s:
        state = {"typeWebhook": "stateInstanceChanged", "stateInstance": "notAuthorized", "timestamp": 1,
                 "instanceData": {"idInstance": int(s.inst.id_instance), "wid": s.inst.wid,
                                  "typeInstance": "whatsapp"}}  # fmt: skip
        s.sb.inject_notification(s.inst, state)
        inbox = temporal_client.get_workflow_handle(inbox_id(s.inst.id_instance, None))

        async def arrived(count: int) -> bool:
            try:
                return len(await inbox.query(GreenApiInbox.events)) == count
            except Exception:
                return False

        await eventually(lambda: arrived(1), "the state change in the instance's inbox")
        # A body the event model cannot read (staged: its reader raises) must not wedge the queue.
        original = event_model._fields

        def unreadable(body: dict[str, Any]) -> dict[str, Any]:
            if body.get("typeWebhook") == "oddThing":
                raise ValueError("unreadable (staged)")
            return original(body)

        monkeypatch.setattr(event_model, "_fields", unreadable)
        s.sb.inject_notification(s.inst, {"typeWebhook": "oddThing", "instanceData": state["instanceData"]})
        s.sb.inject_incoming_text(s.inst, CHATS[1], "after the odd one")
        await eventually(lambda: arrived(2), "the unreadable body in the instance's inbox")
        assert not s.sb.notifications(s.inst) or await _drained(s)
        events = await inbox.query(GreenApiInbox.events)
        assert [e["eventType"] for e in events] == ["stateInstanceChanged", "oddThing"]


async def _drained(s: Stack) -> bool:
    await eventually(lambda: _empty(s), "the queue to drain")
    return True


async def _empty(s: Stack) -> bool:
    return not s.sb.notifications(s.inst)


async def test_the_poller_continues_as_new_and_keeps_polling_with_its_totals(
    temporal_client: Client, sandbox: tuple[Sandbox, SandboxInstance]
) -> None:
    sb, inst = sandbox
    queue, chats = f"pollers-{uuid.uuid4()}", f"chats-{uuid.uuid4()}"
    async with GreenApiBlock(sb.url, sb.url, id_instance=inst.id_instance, api_token=CANARY) as block:
        routing = Routing(task_queue=chats, workflow="Collector")
        conversations = Worker(temporal_client, task_queue=chats, workflows=[Collector],
                               workflow_runner=sandbox_runner())  # fmt: skip
        async with poller_worker(temporal_client, PollerActivities(temporal_client, block, routing),
                                 task_queue=queue), conversations:  # fmt: skip
            # Two half-second runs per execution: several executions in a few seconds.
            options = PollerInput(inst.id_instance, receive_timeout=5, run_seconds=0.5, heartbeat_timeout=5,
                                  runs_per_execution=2, activity_task_queue=queue)  # fmt: skip
            handle, _ = await start_poller(
                temporal_client, inst.id_instance, task_queue=queue, options=options
            )
            sb.inject_incoming_text(inst, CHATS[0], "before")
            await eventually(lambda: _empty_queue(sb, inst), "the first message taken")
            taken_in = (await temporal_client.get_workflow_handle(handle.id).describe()).run_id

            async def moved_on() -> bool:
                desc = await temporal_client.get_workflow_handle(handle.id).describe()
                return desc.run_id != taken_in

            # "before" was counted in an execution that has now continued as new.
            await eventually(moved_on, "a continue-as-new")
            sb.inject_incoming_text(inst, CHATS[0], "after")
            await eventually(lambda: _empty_queue(sb, inst), "the second message taken")
            wf = temporal_client.get_workflow_handle(conversation_id(inst.id_instance, CHATS[0]))

            async def both() -> bool:
                return await wf.query(Collector.texts) == ["before", "after"]

            await eventually(both, "both messages in the conversation")
            current = temporal_client.get_workflow_handle(handle.id)

            async def carried() -> bool:
                totals = await current.query("totals")
                return bool(totals["handled"] == 2)

            await eventually(carried, "the totals carried across executions")
            await current.cancel()


async def _empty_queue(sb: Sandbox, inst: SandboxInstance) -> bool:
    return not sb.notifications(inst)


async def test_a_wrong_token_fails_the_poller_with_the_error_code_and_no_token_in_the_history(
    temporal_client: Client,
) -> None:
    queue = f"pollers-{uuid.uuid4()}"
    with Sandbox(rate_limits=False, max_receive_wait=0.5) as sb:
        inst = sb.create_instance()  # its own token; the worker holds the canary instead
        async with GreenApiBlock(sb.url, sb.url, credentials_from_env=False) as block:
            routing = Routing(task_queue="unused")
            activities = PollerActivities(temporal_client, block, routing, tokens={inst.id_instance: CANARY})
            async with poller_worker(temporal_client, activities, task_queue=queue):
                handle, _ = await start_poller(temporal_client, inst.id_instance, task_queue=queue,
                                               options=_options(inst, queue))  # fmt: skip
                with pytest.raises(WorkflowFailureError) as failed:
                    async with asyncio.timeout(30):
                        await handle.result()
    cause = failed.value.cause
    assert isinstance(cause, ActivityError) and isinstance(cause.cause, ApplicationError)
    # Not retried for ever: a wrong token does not get better, and the code names the problem.
    assert cause.cause.type == "unauthorized" and cause.cause.non_retryable
    history = (await handle.fetch_history()).to_json()
    assert "unauthorized" in history and CANARY not in history
