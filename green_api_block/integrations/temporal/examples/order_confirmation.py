"""Order confirmation: ask "Confirm / Cancel", wait up to 24 hours, remind once, send the answer.

Run a worker (pollers and conversations) for the instance bound in the environment
(GREEN_API_ID_INSTANCE, GREEN_API_TOKEN_INSTANCE, GREEN_API_URL), then start an order::

    python -m green_api_block.integrations.temporal.examples.order_confirmation worker
    python -m green_api_block.integrations.temporal.examples.order_confirmation order 79001234567@c.us A-1001

The order's workflow id is the chat's conversation id, so the poller routes the customer's tap to
it; a tap after it finished goes to the chat's inbox and does not reopen the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from green_api_block.integrations.temporal.conversation import Conversation, Reply
    from green_api_block.integrations.temporal.routing import EVENT_SIGNAL

__all__ = ["BUTTONS", "Order", "OrderConfirmation", "decision"]

BUTTONS = [("confirm", "Confirm"), ("cancel", "Cancel")]
_WORDS = {
    **dict.fromkeys(("confirm", "yes", "1"), "confirmed"),
    **dict.fromkeys(("cancel", "no", "2"), "cancelled"),
}


@dataclass
class Order:
    idInstance: str
    chatId: str
    order_id: str
    #: How long each question waits: 24 h in production, seconds in a test.
    timeout_seconds: float = 24 * 3600.0


def decision(reply: Reply) -> str | None:
    """confirmed / cancelled from a tap or a typed word (for phones that show no buttons); else None."""
    if reply.kind == "button":
        return {"confirm": "confirmed", "cancel": "cancelled"}.get(reply.button_id or "")
    if reply.kind == "text":
        return _WORDS.get((reply.text or "").strip().lower())
    return None


@workflow.defn(name="OrderConfirmation")
class OrderConfirmation:
    def __init__(self) -> None:
        self.chat = Conversation()
        self.stage = "starting"

    @workflow.signal(name=EVENT_SIGNAL)
    def green_api_event(self, payload: dict[str, Any]) -> None:
        self.chat.receive(payload)

    @workflow.query
    def status(self) -> str:
        return self.stage

    @workflow.query
    def ignored_taps(self) -> int:
        """Taps on other messages (an older order's buttons): seen, and answering nothing."""
        return len(self.chat.stale_taps)

    async def _wait(self, questions: set[str], since: int, timeout: timedelta) -> str | None:
        """The customer's decision before ``timeout``; a text that is neither word is waited past."""
        deadline = workflow.now() + timeout
        while True:
            left = deadline - workflow.now()
            if left <= timedelta(0):
                return None
            reply = await self.chat.wait_reply(questions, timeout=left, since=since)
            if reply.kind == "timeout":
                return None
            found = decision(reply)
            if found is not None:
                return found
            since = (reply.index or 0) + 1

    @workflow.run
    async def run(self, order: Order) -> str:
        self.chat.bind(order.idInstance, order.chatId)
        timeout = timedelta(seconds=order.timeout_seconds)
        text = f"Order {order.order_id}: shall we go ahead?\nReply 1 to confirm or 2 to cancel."
        since = len(self.chat.events)
        first = await self.chat.send_buttons(text, BUTTONS)
        self.stage = "asked"
        found = await self._wait({first}, since, timeout)
        if found is None:
            self.stage = "reminded"
            since = len(self.chat.events)
            again = await self.chat.send_buttons(f"Reminder: {text}", BUTTONS)
            # A tap on the first question still counts: both ask about this order.
            found = await self._wait({first, again}, since, timeout)
        result = found or "expired"
        answers = {
            "confirmed": f"Order {order.order_id} is confirmed. Thank you!",
            "cancelled": f"Order {order.order_id} is cancelled.",
            "expired": f"Order {order.order_id} is cancelled: we had no answer.",
        }
        await self.chat.send_text(answers[result])
        self.stage = result
        return result


# ---------------------------------------------------------------------------- running it


async def _main(argv: list[str]) -> None:  # pragma: no cover - a manual entry point
    import argparse
    import asyncio
    import os
    import signal
    import uuid

    from temporalio.client import Client

    from green_api_block.block import GreenApiBlock
    from green_api_block.integrations.temporal.activities import GreenApiActivities
    from green_api_block.integrations.temporal.poller import PollerActivities, poller_worker, start_poller
    from green_api_block.integrations.temporal.routing import Routing, conversation_id
    from green_api_block.integrations.temporal.worker import build_worker

    parser = argparse.ArgumentParser(prog="order_confirmation")
    parser.add_argument("--address", default="localhost:7233")
    parser.add_argument("--task-queue", default="green-api-chats", help="the conversations' queue")
    parser.add_argument("--poller-queue", default="green-api-pollers", help="the pollers' queue")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("worker")
    order = sub.add_parser("order")
    order.add_argument("chat_id")
    order.add_argument("order_id", nargs="?", default=f"A-{uuid.uuid4().hex[:6]}")
    order.add_argument("--timeout", type=float, default=24 * 3600.0, help="seconds per question (24 h)")
    args = parser.parse_args(argv)
    client = await Client.connect(args.address)
    id_instance = os.environ["GREEN_API_ID_INSTANCE"]
    if args.command == "order":
        await client.start_workflow(
            OrderConfirmation.run,
            Order(id_instance, args.chat_id, args.order_id, timeout_seconds=args.timeout),
            id=conversation_id(id_instance, args.chat_id),
            task_queue=args.task_queue,
        )
        print(f"order {args.order_id} asked in {args.chat_id}", flush=True)
        return
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)  # drain, then exit 0
    async with GreenApiBlock() as block:
        routing = Routing(task_queue=args.task_queue)
        # The tool activities (single sends under retries) and the shipped workflows (the inbox
        # among them), plus the example's own.
        chats = build_worker(
            client, GreenApiActivities(block), task_queue=args.task_queue, workflows=[OrderConfirmation]
        )
        pollers = poller_worker(
            client, PollerActivities(client, block, routing), task_queue=args.poller_queue
        )
        async with pollers, chats:
            _, started = await start_poller(client, id_instance, task_queue=args.poller_queue)
            print("poller started" if started else "poller already running", flush=True)
            await stop.wait()


if __name__ == "__main__":  # pragma: no cover - run as a process by the tests
    import asyncio
    import os
    import sys

    asyncio.run(_main(sys.argv[1:]))
    sys.stdout.flush()
    sys.stderr.flush()
    # A temporalio client alive at interpreter exit can turn exit 0 into 134 (ENGINES.md §1).
    os._exit(0)
