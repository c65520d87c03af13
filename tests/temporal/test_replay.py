"""Replay tests for every shipped workflow (GreenApiPoller, GreenApiInbox, OrderConfirmation).

The committed histories in ``histories/`` were recorded from the code as shipped; replaying them
with today's code fails on any change that alters the commands a workflow issues (a
non-determinism error), which would break executions already running in production. A change made
on purpose needs ``workflow.patched`` (or a new workflow type), then re-recorded histories:
``GREEN_API_RECORD_HISTORIES=1 pytest -n 0 tests/temporal/test_replay.py``.
Histories recorded fresh in the run are replayed too, and a deliberately changed workflow is shown
to fail replay, so the guard is known to bite.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError, WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner
from temporalio.workflow import NondeterminismError

from green_api_block.integrations.temporal.examples.order_confirmation import Order, OrderConfirmation
from green_api_block.integrations.temporal.poller import start_poller
from green_api_block.integrations.temporal.routing import EVENT_SIGNAL, conversation_id
from green_api_block.integrations.temporal.worker import sandbox_runner
from green_api_block.integrations.temporal.workflows import (
    GreenApiInbox,
    GreenApiPoller,
    InboxInput,
    PollerInput,
)
from tests.support.credentials import CANARY
from tests.temporal.harness import eventually
from tests.temporal.stack import Stack, stack

HERE = Path(__file__).parent / "histories"
SHIPPED = [GreenApiPoller, GreenApiInbox, OrderConfirmation]
CHAT = "79001234567@c.us"


def _replayer(*workflows: type) -> Replayer:
    return Replayer(workflows=list(workflows or SHIPPED), workflow_runner=sandbox_runner())


async def _history(client: Client, wf_id: str, run_id: str | None = None) -> dict[str, Any]:
    history = await client.get_workflow_handle(wf_id, run_id=run_id).fetch_history()
    data: dict[str, Any] = json.loads(history.to_json())
    return data


async def _order(s: Stack, order_id: str, timeout: float) -> Any:
    return await s.client.start_workflow(
        OrderConfirmation.run,
        Order(s.inst.id_instance, CHAT, order_id, timeout_seconds=timeout),
        id=conversation_id(s.inst.id_instance, CHAT),
        task_queue=s.chat_queue,
    )


async def record(client: Client) -> dict[str, dict[str, Any]]:
    """One history per shipped workflow and branch, recorded against the sandbox."""
    out: dict[str, dict[str, Any]] = {}
    async with stack(client) as s:
        order = await _order(s, "R-1", 60)

        async def asked() -> bool:
            return any(m.buttons for m in s.sb.sent_messages(s.inst))

        await eventually(asked, "the buttons")
        s.sb.inject_incoming_text(s.inst, CHAT, "hm?")
        s.sb.inject_button_tap(s.inst, CHAT, button_id="confirm")
        assert await order.result() == "confirmed"
        out["order_confirmation_tap"] = await _history(client, order.id)

        order = await _order(s, "R-2", 1.0)
        assert await order.result() == "expired"
        out["order_confirmation_expired"] = await _history(client, order.id, order.result_run_id)

        # The poller: two short runs, then continue-as-new; its first run's history.
        poller = s.poller
        await poller.cancel()
        with pytest.raises(WorkflowFailureError):  # cancelled: the id is free once it closed
            await poller.result()
        options = PollerInput(s.inst.id_instance, receive_timeout=5, run_seconds=0.5, heartbeat_timeout=5,
                              runs_per_execution=2, activity_task_queue=s.poller_queue)  # fmt: skip
        fresh, started = await start_poller(client, s.inst.id_instance, task_queue=s.poller_queue,
                                            options=options)  # fmt: skip
        assert started
        s.sb.inject_incoming_text(s.inst, "79009990000@c.us", "to the inbox")
        first_run = fresh.result_run_id

        async def continued() -> bool:
            desc = await client.get_workflow_handle(fresh.id, run_id=first_run).describe()
            return desc.status == WorkflowExecutionStatus.CONTINUED_AS_NEW

        await eventually(continued, "the poller to continue as new")
        out["poller_continue_as_new"] = await _history(client, fresh.id, first_run)
        await client.get_workflow_handle(fresh.id).cancel()

        inbox = await client.start_workflow(
            GreenApiInbox.run,
            InboxInput(idle_seconds=1.0),
            id=f"green-api-inbox-replay-{s.inst.id_instance}",
            task_queue=s.chat_queue,
            start_signal=EVENT_SIGNAL,
            start_signal_args=[
                {"eventType": "stateInstanceChanged", "raw": {"typeWebhook": "stateInstanceChanged"}}
            ],
        )
        await inbox.signal(EVENT_SIGNAL, {"eventType": "stateInstanceChanged", "raw": {"typeWebhook": "x"}})
        await inbox.result()
        out["inbox_idle"] = await _history(client, inbox.id)
    for name, data in out.items():
        assert CANARY not in json.dumps(data), name
    return out


async def test_fresh_histories_of_every_shipped_workflow_replay(temporal_client: Client) -> None:
    histories = await record(temporal_client)
    if os.environ.get("GREEN_API_RECORD_HISTORIES") == "1":
        HERE.mkdir(exist_ok=True)
        for name, data in histories.items():
            (HERE / f"{name}.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    for name, data in histories.items():
        await _replayer().replay_workflow(WorkflowHistory.from_json(name, data))


@pytest.mark.parametrize("name", sorted(p.stem for p in HERE.glob("*.json")))
async def test_committed_history_replays(name: str) -> None:
    data = json.loads((HERE / f"{name}.json").read_text())
    await _replayer().replay_workflow(WorkflowHistory.from_json(name, data))


def test_every_shipped_workflow_has_a_committed_history() -> None:
    names = {p.stem for p in HERE.glob("*.json")}
    covered = {
        "GreenApiPoller": "poller_",
        "GreenApiInbox": "inbox_",
        "OrderConfirmation": "order_confirmation_",
    }
    for wf, prefix in covered.items():
        assert any(n.startswith(prefix) for n in names), f"no committed history for {wf}"


@workflow.defn(name="OrderConfirmation")
class ChangedOrderConfirmation(OrderConfirmation):
    """A non-deterministic change: greets before asking (one more activity up front)."""

    @workflow.run
    async def run(self, order: Order) -> str:
        self.chat.bind(order.idInstance, order.chatId)
        await self.chat.send_text("Hello!")
        return await super().run(order)


async def test_a_changed_workflow_fails_replay() -> None:
    data = json.loads((HERE / "order_confirmation_tap.json").read_text())
    # Unsandboxed: this test module (pathlib at import) is no workflow module the sandbox would take.
    replayer = Replayer(workflows=[ChangedOrderConfirmation], workflow_runner=UnsandboxedWorkflowRunner())
    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(WorkflowHistory.from_json("tap", data))


def test_no_committed_history_holds_a_token() -> None:
    for path in HERE.glob("*.json"):
        assert CANARY not in path.read_text(), path.name
