"""The poll activity (``green_api_poll``), starting a poller, and a worker for pollers.

For each notification, head first: receive it *without* deleting (``deleteAfterReceive: false``),
route it (:func:`.routing.route_event`: signal-with-start; returns once Temporal accepted the
signal), and only then delete it. A worker that dies anywhere in between leaves the item at the
head of the instance's queue: the heartbeat timeout hands the poll to another worker, which
receives the same item and signals it again, and the conversation drops the copy by
``event_key``. Nothing is deleted before Temporal has it, so nothing is lost.

Pollers hold a long poll all the time: run them on their own task queue (:data:`POLLER_TASK_QUEUE`)
with a worker sized for them (:func:`poller_worker`), so a worker's activity slots for sends are
never all taken by polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.worker import Worker

from green_api_block.block import GreenApiBlock
from green_api_block.errors import GreenApiBlockError
from green_api_block.events import Event
from green_api_block.webhook.filters import WebhookFilter

from .credentials import TokenSource, resolve_input
from .failures import application_error
from .routing import Routing, route_event
from .worker import sandbox_runner
from .workflows import POLL_ACTIVITY, GreenApiPoller, PollerInput, PollRequest, PollResult, poller_id

__all__ = ["POLLER_TASK_QUEUE", "PollerActivities", "poller_worker", "start_poller"]

logger = logging.getLogger("green_api_block.temporal.poller")

#: The pollers' own task queue: their workflows and their long-running poll activities.
POLLER_TASK_QUEUE = "green-api-pollers"


class PollerActivities:
    """The ``green_api_poll`` activity over one block (one connection pool for every instance).

    ``tokens``: ``{idInstance: token}`` or a look-up, for a worker polling many instances; None
    uses the block's bound credentials. ``filter`` (a :class:`~green_api_block.webhook.WebhookFilter`,
    default: drop the bot's own API sends, as the webhook receiver does): a filtered item is
    deleted without a signal. ``client``: the Temporal client signals go through.
    """

    def __init__(
        self,
        client: Client,
        block: GreenApiBlock,
        routing: Routing,
        *,
        tokens: TokenSource | None = None,
        filter: WebhookFilter | None = None,
    ) -> None:
        self.client = client
        self.block = block
        self.routing = routing
        self.tokens = tokens
        self.filter = filter if filter is not None else WebhookFilter()

    @activity.defn(name=POLL_ACTIVITY)
    async def poll(self, request: PollRequest) -> PollResult:
        info = activity.info()
        # The ticker heartbeats while a long poll is held, so heartbeat_timeout can be far shorter
        # than receiveTimeout and a dead worker is noticed in seconds. The SDK throttles the calls.
        period = max(0.2, (info.heartbeat_timeout.total_seconds() if info.heartbeat_timeout else 30.0) / 4)
        result = PollResult()
        # Resolved before the ticker starts: a refusal (unknown instance, a token in the input)
        # is already an ApplicationError that names no token.
        given, token = await resolve_input({"idInstance": request.id_instance}, self.tokens)
        ticker = asyncio.create_task(_heartbeat(period, result))
        try:
            await self._poll(request, result, given)
        except GreenApiBlockError as exc:
            raise application_error(exc, (token,)) from None
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
        return result

    async def _poll(self, request: PollRequest, result: PollResult, creds: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + request.run_seconds
        receive = {**creds, "receiveTimeout": request.receive_timeout, "deleteAfterReceive": False}
        # A draining worker returns after the item in hand (graceful_shutdown_timeout should exceed
        # receiveTimeout); the workflow runs the next poll on a worker that stays.
        while loop.time() < deadline and not activity.is_worker_shutdown():
            out = await self.block.aexecute("green_api_get_notifications", receive)
            items: list[dict[str, Any]] = out["notifications"]
            if not items:
                continue
            item = items[0]  # a peek sees the head only
            # A body the model cannot read still becomes an event (type and raw), so one odd item
            # cannot wedge the queue: it goes to the inbox like any chat-less event.
            event = Event.from_body(item["body"])
            if self.filter.accepts(event):
                where = await route_event(self.client, event, self.routing, id_instance=request.id_instance)
                result.handled += 1
                result.to_inbox += where == "inbox"
            else:
                result.filtered += 1
            # Only now: Temporal holds the event. False means it was gone already (not an error).
            await self.block.adelete_notification(
                item["receiptId"], id_instance=creds["idInstance"], api_token=creds.get("apiTokenInstance")
            )


async def _heartbeat(period: float, result: PollResult) -> None:
    while True:
        activity.heartbeat(result.handled)
        await asyncio.sleep(period)


async def start_poller(
    client: Client,
    id_instance: str | int,
    *,
    task_queue: str = POLLER_TASK_QUEUE,
    options: PollerInput | None = None,
) -> tuple[WorkflowHandle[Any, Any], bool]:
    """Start the instance's poller; ``(handle, False)`` when one is running already (a no-op)."""
    # A copy: the caller's options (shared by a loop over instances) are not changed.
    params = replace(options, id_instance=str(id_instance)) if options else PollerInput(str(id_instance))
    wf_id = poller_id(id_instance)
    try:
        handle = await client.start_workflow(
            GreenApiPoller.run,
            params,
            id=wf_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
    except WorkflowAlreadyStartedError:
        return client.get_workflow_handle(wf_id), False
    return handle, True


def poller_worker(
    client: Client,
    activities: PollerActivities,
    *,
    task_queue: str = POLLER_TASK_QUEUE,
    max_pollers: int = 100,
    workflows: Sequence[type] = (),
    **worker_options: Any,
) -> Worker:
    """A worker for pollers: the poller workflow and ``max_pollers`` concurrent poll activities.

    Each poll holds one long poll (an idle socket, no thread), so a few hundred per worker are
    cheap; past ``max_pollers`` the rest wait for a worker with room (README: "1,000 instances").
    """
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[GreenApiPoller, *workflows],
        activities=[activities.poll],
        max_concurrent_activities=max_pollers,
        **{"workflow_runner": sandbox_runner(), **worker_options},
    )
