"""The activities on the real dev server, against the sandbox over HTTP: round trips, the error
mapping, single sends within one worker, and the canary token nowhere in any history.

The worker runs in the test process here (the crash tests run real worker processes).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from temporalio import activity
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker

from green_api_block import GreenApiBlock, RetryPolicy
from green_api_block.integrations.temporal.activities import ACTIVITY_NAMES, GreenApiActivities
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.credentials import CANARY
from tests.temporal.tool_workflow import RunTool, ToolCall

CHAT = "79001234567@c.us"
OTHER_CANARY = "canaryT0KEN9876543210fedcba9876543210fedcba98765432"
TEXT: dict[str, Any] = {"chatId": CHAT, "message": "Your order 17 is confirmed"}
FILE: dict[str, Any] = {"chatId": CHAT, "urlFile": "https://example.org/r.pdf", "fileName": "r.pdf"}
BUTTONS: dict[str, Any] = {
    "chatId": CHAT,
    "message": "Confirm order 17?",
    "buttons": [{"buttonText": "Confirm"}, {"buttonText": "Cancel"}],
}


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    # An empty poll is held 0.2 s, not receiveTimeout's 5 s; limits off except where a test adds
    # a 429 fault.
    with Sandbox(rate_limits=False, max_receive_wait=0.2) as sb:
        yield sb


@pytest.fixture
def instance(sandbox: Sandbox) -> SandboxInstance:
    return sandbox.create_instance(api_token=CANARY)


class Env:
    def __init__(self, client: Client, queue: str) -> None:
        self.client = client
        self.queue = queue

    async def start(
        self, activity_name: str, args: dict[str, Any], **options: Any
    ) -> WorkflowHandle[Any, Any]:
        call = ToolCall(activity_name, args, self.queue, **options)
        return await self.client.start_workflow(
            RunTool.run, call, id=f"wf-{uuid.uuid4()}", task_queue=self.queue
        )

    async def run(self, activity_name: str, args: dict[str, Any], **options: Any) -> dict[str, Any]:
        handle = await self.start(activity_name, args, **options)
        result: dict[str, Any] = await handle.result()
        await assert_no_canary(handle)
        return result

    async def fail(self, activity_name: str, args: dict[str, Any], **options: Any) -> ApplicationError:
        handle = await self.start(activity_name, args, **{"max_attempts": 1, **options})
        with pytest.raises(WorkflowFailureError) as info:
            await handle.result()
        await assert_no_canary(handle)
        cause = info.value.cause
        assert isinstance(cause, ActivityError) and isinstance(cause.cause, ApplicationError)
        return cause.cause


async def assert_no_canary(handle: WorkflowHandle[Any, Any]) -> None:
    """Inputs, results, failures, signals: the whole history, as JSON."""
    history = (await handle.fetch_history()).to_json()
    assert CANARY not in history and OTHER_CANARY not in history


@pytest_asyncio.fixture
async def env(temporal_client: Client, sandbox: Sandbox, instance: SandboxInstance) -> AsyncIterator[Env]:
    queue = f"q-{uuid.uuid4()}"
    block = GreenApiBlock(
        sandbox.url,
        id_instance=instance.id_instance,
        api_token=CANARY,
        credentials_from_env=False,
        # Temporal retries; the block's own retries (a 429's wait included) would hide what
        # Temporal is told.
        retry=RetryPolicy(max_retries=0),
    )
    acts = GreenApiActivities(block)
    async with Worker(temporal_client, task_queue=queue, workflows=[RunTool], activities=acts.activities()):
        yield Env(temporal_client, queue)
    await block.aclose()


def test_the_activities_are_named_by_the_tool_ids() -> None:
    block = GreenApiBlock("http://127.0.0.1:9", id_instance="1101000001", api_token=CANARY)
    names = [activity._Definition.must_from_callable(a).name for a in GreenApiActivities(block).activities()]
    assert names == list(ACTIVITY_NAMES)
    assert names[:5] == [
        "green_api_send_message",
        "green_api_send_file",
        "green_api_send_buttons",
        "green_api_get_notifications",
        "green_api_get_state_instance",
    ]


async def test_every_activity_round_trips(env: Env, sandbox: Sandbox, instance: SandboxInstance) -> None:
    sent = [await env.run(name, args) for name, args in [
        ("green_api_send_message", TEXT),
        ("green_api_send_file", FILE),
        ("green_api_send_buttons", BUTTONS),
    ]]  # fmt: skip
    assert [s["idMessage"] for s in sent] == [m.id_message for m in sandbox.sent_messages(instance)]
    assert all(s["success"] is True for s in sent)
    assert await env.run("green_api_get_state_instance", {}) == {"stateInstance": "authorized"}

    sandbox.set_settings(instance, {"outgoingWebhook": "no", "outgoingAPIMessageWebhook": "no"})
    sandbox.clear_notifications(instance)
    injected = sandbox.inject_incoming_text(instance, CHAT, "yes please")
    first = await env.run("green_api_get_notifications", {})
    again = await env.run("green_api_get_notifications", {"maxNotifications": 5})
    # Received, not deleted: the head comes again until the workflow deletes it.
    assert first["receiptId"] == again["receiptId"] == injected.receipt_id
    assert [n["body"]["idMessage"] for n in again["notifications"]] == [injected.id_message]
    assert len(sandbox.notifications(instance)) == 1
    assert await env.run("green_api_delete_notification", {"receiptId": first["receiptId"]}) == {
        "deleted": True
    }
    assert sandbox.notifications(instance) == []
    # A retried delete meets an item already gone: not an error.
    assert await env.run("green_api_delete_notification", {"receiptId": first["receiptId"]}) == {
        "deleted": False
    }
    assert await env.run("green_api_get_notifications", {}) == {"notifications": [], "receiptId": None}


async def test_get_notifications_refuses_to_delete(
    env: Env, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    sandbox.inject_incoming_text(instance, CHAT, "hi")
    err = await env.fail("green_api_get_notifications", {"deleteAfterReceive": True})
    assert (err.type, err.non_retryable) == ("invalid_input", True)
    assert len(sandbox.notifications(instance)) >= 1


@pytest.mark.parametrize(
    ("fault", "kind", "non_retryable"),
    [
        (
            {"kind": "status", "status": 401, "body": f"Unauthorized /sendMessage/{CANARY}"},
            "unauthorized",
            True,
        ),
        ({"kind": "status", "status": 403}, "forbidden", True),
        ({"kind": "text", "status": 400, "body": f"Validation failed: token {CANARY}"}, "bad_request", True),
        ({"kind": "status", "status": 466}, "quota_exceeded", True),
        (
            {"kind": "status", "status": 500, "body": f'{{"message":"boom at /x/{CANARY}"}}'},
            "server_error",
            False,
        ),
        ({"kind": "status", "status": 429, "retry_after": 7}, "rate_limited", False),
    ],
    ids=["401", "403", "400", "466", "500", "429"],
)
async def test_failures_carry_the_block_error_code_and_no_token(
    env: Env, sandbox: Sandbox, fault: dict[str, Any], kind: str, non_retryable: bool
) -> None:
    options = {k: v for k, v in fault.items() if k != "kind"}
    # Not processed: a clean failure, so the activity does not look itself up.
    sandbox.inject_fault(fault["kind"], method="sendMessage", process=False, **options)
    err = await env.fail("green_api_send_message", TEXT)
    assert (err.type, err.non_retryable) == (kind, non_retryable)
    assert CANARY not in str(err) and CANARY not in repr(err.details)
    assert err.details and err.details[0]["code"] == kind
    if kind == "rate_limited":
        assert err.next_retry_delay == timedelta(seconds=7)


async def test_invalid_input_is_non_retryable(env: Env) -> None:
    err = await env.fail("green_api_send_message", {"chatId": CHAT})
    assert (err.type, err.non_retryable) == ("invalid_input", True)


async def test_a_429_waits_its_retry_after(env: Env, sandbox: Sandbox, instance: SandboxInstance) -> None:
    sandbox.inject_fault("status", method="getStateInstance", status=429, retry_after=2)
    started = time.monotonic()
    # The retry policy alone would retry after 0.1 s: the 2 s can only come from Retry-After.
    assert await env.run("green_api_get_state_instance", {}, initial_interval=0.1) == {
        "stateInstance": "authorized"
    }
    assert time.monotonic() - started >= 2.0


async def test_a_token_in_the_input_is_refused_and_not_echoed(env: Env, sandbox: Sandbox) -> None:
    handle = await env.start(
        "green_api_send_message", {**TEXT, "apiTokenInstance": OTHER_CANARY}, max_attempts=1
    )
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    cause = info.value.cause
    assert isinstance(cause, ActivityError) and isinstance(cause.cause, ApplicationError)
    assert (cause.cause.type, cause.cause.non_retryable) == ("token_in_input", True)
    # The input itself is in the history (the workflow put it there); the failure must not add it.
    events = (await handle.fetch_history()).events
    failures = [e for e in events if e.HasField("activity_task_failed_event_attributes")]
    assert failures and all(OTHER_CANARY not in str(e) for e in failures)
    assert sandbox.sent_messages(sandbox.instances()[0]) == []


async def test_outcome_unknown_is_looked_up_in_the_same_attempt(
    env: Env, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    sandbox.inject_fault("drop_after", method="sendMessage")  # sent, then the connection dies
    handle = await env.start("green_api_send_message", TEXT)
    result = await handle.result()
    assert [m.id_message for m in sandbox.sent_messages(instance)] == [result["idMessage"]]
    events = (await handle.fetch_history()).events
    started = [
        e.activity_task_started_event_attributes
        for e in events
        if e.HasField("activity_task_started_event_attributes")
    ]
    assert [s.attempt for s in started] == [1]


async def test_a_retry_after_a_clean_failure_sends_once(
    env: Env, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    sandbox.inject_fault("status", method="sendFileByUrl", status=503, process=False)
    result = await env.run("green_api_send_file", FILE)
    assert [m.id_message for m in sandbox.sent_messages(instance)] == [result["idMessage"]]


async def test_a_retry_after_an_unseen_send_returns_the_sent_message(
    env: Env, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    # Sent, then 502: the block cannot know it was sent (no outcome_unknown on a 502), so the next
    # attempt must find it instead of sending the buttons twice.
    sandbox.inject_fault("status", method="sendInteractiveButtonsReply", status=502, process=True)
    result = await env.run("green_api_send_buttons", BUTTONS)
    assert [m.id_message for m in sandbox.sent_messages(instance)] == [result["idMessage"]]


async def test_a_multi_instance_worker_looks_tokens_up(temporal_client: Client, sandbox: Sandbox) -> None:
    one = sandbox.create_instance(api_token=CANARY)
    two = sandbox.create_instance(api_token=OTHER_CANARY)
    looked_up: list[str] = []

    async def lookup(id_instance: str) -> str | None:
        looked_up.append(id_instance)
        return {one.id_instance: CANARY, two.id_instance: OTHER_CANARY}.get(id_instance)

    queue = f"q-{uuid.uuid4()}"
    block = GreenApiBlock(sandbox.url, credentials_from_env=False, rate_limits=False)
    for tokens in (lookup, {one.id_instance: CANARY, two.id_instance: OTHER_CANARY}):
        acts = GreenApiActivities(block, tokens=tokens)
        async with Worker(
            temporal_client, task_queue=queue, workflows=[RunTool], activities=acts.activities()
        ):
            e = Env(temporal_client, queue)
            for inst in (one, two):
                out = await e.run("green_api_send_message", {**TEXT, "idInstance": inst.id_instance})
                assert sandbox.sent_messages(inst)[-1].id_message == out["idMessage"]
            err = await e.fail("green_api_send_message", {**TEXT, "idInstance": "1101999999"})
            assert (err.type, err.non_retryable) == ("unknown_instance", True)
            err = await e.fail("green_api_send_message", TEXT)
            assert (err.type, err.non_retryable) == ("invalid_input", True)
    await block.aclose()
    assert looked_up[:2] == [one.id_instance, two.id_instance]


_SEEN: list[tuple[int, float, float]] = []


@activity.defn(name="flaky")
async def _flaky(args: dict[str, Any]) -> None:
    info = activity.info()
    _SEEN.append(
        (info.attempt, info.scheduled_time.timestamp(), info.current_attempt_scheduled_time.timestamp())
    )
    if info.attempt == 1:
        raise ApplicationError("first attempt fails")


async def test_scheduled_time_is_the_first_attempts(temporal_client: Client) -> None:
    # What the single-send lookup relies on (temporalio 1.35): scheduled_time stays the first
    # attempt's, current_attempt_scheduled_time moves with each retry.
    queue = f"q-{uuid.uuid4()}"
    _SEEN.clear()
    async with Worker(temporal_client, task_queue=queue, workflows=[RunTool], activities=[_flaky]):
        await temporal_client.execute_workflow(
            RunTool.run,
            ToolCall("flaky", {}, queue, initial_interval=0.3),
            id=f"wf-{uuid.uuid4()}",
            task_queue=queue,
        )
    (a1, first1, current1), (a2, first2, current2) = _SEEN
    assert (a1, a2) == (1, 2)
    assert first1 == first2 == current1 and current2 >= first1 + 0.3


async def test_the_worker_plugin_adds_the_activities(
    temporal_client: Client, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    from green_api_block.integrations.temporal.worker import worker_plugin

    queue = f"q-{uuid.uuid4()}"
    block = GreenApiBlock(
        sandbox.url, id_instance=instance.id_instance, api_token=CANARY, credentials_from_env=False
    )
    plugin = worker_plugin(GreenApiActivities(block))
    async with Worker(temporal_client, task_queue=queue, workflows=[RunTool], plugins=[plugin]):
        out = await Env(temporal_client, queue).run("green_api_get_state_instance", {})
    await block.aclose()
    assert out == {"stateInstance": "authorized"}


async def test_build_worker_and_the_plugin_serve_the_shipped_workflows(
    temporal_client: Client, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    from green_api_block.integrations.temporal.registry import workflows
    from green_api_block.integrations.temporal.routing import EVENT_SIGNAL
    from green_api_block.integrations.temporal.worker import build_worker, worker_plugin
    from green_api_block.integrations.temporal.workflows import GreenApiInbox, GreenApiPoller, InboxInput

    assert workflows()[:2] == [GreenApiPoller, GreenApiInbox]
    block = GreenApiBlock(
        sandbox.url, id_instance=instance.id_instance, api_token=CANARY, credentials_from_env=False
    )
    acts = GreenApiActivities(block)
    event = {"eventType": "stateInstanceChanged", "raw": {"typeWebhook": "stateInstanceChanged"}}
    for name in ("build_worker", "plugin"):
        queue = f"q-{uuid.uuid4()}"
        if name == "build_worker":
            worker = build_worker(temporal_client, acts, task_queue=queue)
        else:
            worker = Worker(temporal_client, task_queue=queue, plugins=[worker_plugin(acts)])
        # Without the sandbox runner they set, Worker() refuses the inbox ("Failed validating
        # workflow": it imports green_api_block, which the default sandbox does not pass through).
        async with worker:
            handle = await temporal_client.start_workflow(
                GreenApiInbox.run,
                InboxInput(idle_seconds=0.5),
                id=f"inbox-{uuid.uuid4()}",
                task_queue=queue,
                start_signal=EVENT_SIGNAL,
                start_signal_args=[event],
            )
            assert await asyncio.wait_for(handle.result(), 20) == 1, name
    await block.aclose()
