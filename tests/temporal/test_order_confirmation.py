"""The shipped example end to end, against the sandbox through the poller: buttons sent, a tap,
the branch taken, the answer sent; the reminder and the expiry on timeout; a tap on an older
question answers nothing; a tap after the order finished goes to the inbox."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio.client import Client, WorkflowHandle

from green_api_block.integrations.temporal.examples.order_confirmation import Order, OrderConfirmation
from green_api_block.integrations.temporal.routing import conversation_id, inbox_id
from green_api_block.integrations.temporal.workflows import GreenApiInbox
from tests.support.credentials import CANARY
from tests.temporal.harness import all_histories, eventually
from tests.temporal.stack import Stack, stack

CHAT = "79001234567@c.us"


async def _order(s: Stack, order_id: str, timeout: float = 60.0) -> WorkflowHandle[OrderConfirmation, str]:
    return await s.client.start_workflow(
        OrderConfirmation.run,
        Order(s.inst.id_instance, CHAT, order_id, timeout_seconds=timeout),
        id=conversation_id(s.inst.id_instance, CHAT),
        task_queue=s.chat_queue,
        execution_timeout=timedelta(minutes=2),
    )


async def _buttons_sent(s: Stack, count: int) -> list[str]:
    async def sent() -> bool:
        return len([m for m in s.sb.sent_messages(s.inst) if m.buttons]) >= count

    await eventually(sent, f"{count} button message(s) sent")
    return [m.id_message for m in s.sb.sent_messages(s.inst) if m.buttons]


async def test_a_tap_confirms_the_order(temporal_client: Client) -> None:
    async with stack(temporal_client) as s:
        order = await _order(s, "A-1")
        await _buttons_sent(s, 1)
        s.sb.inject_button_tap(s.inst, CHAT, button_id="confirm")
        assert await order.result() == "confirmed"
        sent = s.sb.sent_messages(s.inst)
        assert [m.type_message for m in sent] == ["interactiveButtonsReply", "textMessage"]
        assert [b["buttonText"] for b in sent[0].buttons] == ["Confirm", "Cancel"]
        assert sent[1].text == "Order A-1 is confirmed. Thank you!"
    histories = await all_histories(temporal_client)
    assert not [wf for wf, h in histories if CANARY in h]


async def test_a_typed_answer_cancels_and_other_words_are_waited_past(temporal_client: Client) -> None:
    async with stack(temporal_client) as s:
        order = await _order(s, "A-2")
        await _buttons_sent(s, 1)
        s.sb.inject_incoming_text(s.inst, CHAT, "what is this?")
        s.sb.inject_incoming_text(s.inst, CHAT, "No")
        assert await order.result() == "cancelled"
        assert s.sb.sent_messages(s.inst)[-1].text == "Order A-2 is cancelled."


async def test_no_answer_reminds_once_then_expires(temporal_client: Client) -> None:
    async with stack(temporal_client) as s:
        order = await _order(s, "A-3", timeout=1.5)
        assert await order.result() == "expired"
        sent = s.sb.sent_messages(s.inst)
        assert [m.type_message for m in sent] == ["interactiveButtonsReply"] * 2 + ["textMessage"]
        assert sent[1].text is not None and sent[1].text.startswith("Reminder: ")
        assert sent[2].text == "Order A-3 is cancelled: we had no answer."


async def test_after_the_reminder_a_tap_on_the_first_question_still_counts(temporal_client: Client) -> None:
    async with stack(temporal_client) as s:
        order = await _order(s, "A-4", timeout=1.5)
        first, _reminder = await _buttons_sent(s, 2)
        s.sb.inject_button_tap(s.inst, CHAT, button_id="cancel", stanza_id=first)
        assert await order.result() == "cancelled"
        assert len(s.sb.sent_messages(s.inst)) == 3


async def test_a_tap_on_last_weeks_question_does_not_answer_todays(temporal_client: Client) -> None:
    async with stack(temporal_client) as s:
        old = await _order(s, "OLD")
        (old_question,) = await _buttons_sent(s, 1)
        s.sb.inject_button_tap(s.inst, CHAT, button_id="confirm")
        assert await old.result() == "confirmed"
        # A tap on the finished order's buttons: no open conversation, so the chat's inbox has it.
        s.sb.inject_button_tap(s.inst, CHAT, button_id="cancel", stanza_id=old_question)
        inbox = s.client.get_workflow_handle(inbox_id(s.inst.id_instance, CHAT))

        async def in_inbox() -> bool:
            try:
                return len(await inbox.query(GreenApiInbox.events)) == 1
            except Exception:
                return False

        await eventually(in_inbox, "the late tap in the inbox")
        new = await _order(s, f"NEW-{uuid.uuid4().hex[:4]}")
        _, new_question = await _buttons_sent(s, 2)
        # The same stale tap again, now with today's order open: it answers nothing.
        s.sb.inject_button_tap(s.inst, CHAT, button_id="cancel", stanza_id=old_question)

        async def stale_seen() -> bool:
            return await new.query(OrderConfirmation.ignored_taps) == 1

        await eventually(stale_seen, "the stale tap to reach today's order")
        assert await new.query(OrderConfirmation.status) == "asked"
        s.sb.inject_button_tap(s.inst, CHAT, button_id="confirm", stanza_id=new_question)
        assert await new.result() == "confirmed"
