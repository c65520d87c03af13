"""The shipped workflows: one poller per instance, and the inbox late events go to.

Workflow code only: deterministic, no I/O. The poll itself (receive, signal, delete) is the
``green_api_poll`` activity in :mod:`.poller`; this module imports nothing that talks to the network,
so the workflow sandbox re-imports it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from green_api_block.events import Event, event_key

__all__ = [
    "INBOX_KEEP",
    "POLLER_WORKFLOW",
    "POLL_ACTIVITY",
    "GreenApiInbox",
    "GreenApiPoller",
    "InboxInput",
    "PollRequest",
    "PollResult",
    "PollerInput",
    "poller_id",
]

POLLER_WORKFLOW = "GreenApiPoller"
POLL_ACTIVITY = "green_api_poll"
#: Events (and their keys) an inbox keeps across continue-as-new.
INBOX_KEEP = 200


def poller_id(id_instance: str | int) -> str:
    """The poller's workflow id: Temporal runs at most one open execution per id, so one poller."""
    return f"green-api-poller-{id_instance}"


@dataclass
class PollRequest:
    """One run of the poll activity: long polls until ``run_seconds`` are up, then returns."""

    id_instance: str
    receive_timeout: int = 20
    run_seconds: float = 300.0


@dataclass
class PollResult:
    handled: int = 0
    to_inbox: int = 0
    filtered: int = 0


@dataclass
class PollerInput:
    """``GreenApiPoller``'s input. No token: the worker looks it up by ``id_instance``.

    ``heartbeat_timeout``: how soon a dead worker's poll is noticed and resumed elsewhere. It may be
    shorter than ``receive_timeout``: the activity heartbeats from a ticker while a long poll is
    held, not only between polls. ``run_seconds``: one activity run, after which it returns and
    the workflow runs it again. ``runs_per_execution``: runs before continue-as-new (each adds
    about 6 events; the history limit is 51,200).
    """

    id_instance: str
    receive_timeout: int = 20
    run_seconds: float = 300.0
    heartbeat_timeout: float = 30.0
    runs_per_execution: int = 500
    activity_task_queue: str | None = None
    #: Totals carried across continue-as-new.
    handled: int = 0
    to_inbox: int = 0
    filtered: int = 0


@workflow.defn(name=POLLER_WORKFLOW)
class GreenApiPoller:
    """Runs the heartbeating poll activity for one instance, for ever, continuing as new.

    Start it with :func:`.poller.start_poller` (id :func:`poller_id`, so a second start is refused).
    Cancel it to stop polling.
    """

    def __init__(self) -> None:
        self._totals = PollResult()

    @workflow.query
    def totals(self) -> PollResult:
        return self._totals

    @workflow.run
    async def run(self, params: PollerInput) -> None:
        self._totals = PollResult(params.handled, params.to_inbox, params.filtered)
        request = PollRequest(params.id_instance, params.receive_timeout, params.run_seconds)
        for _ in range(params.runs_per_execution):
            result = await workflow.execute_activity(
                POLL_ACTIVITY,
                request,
                result_type=PollResult,
                task_queue=params.activity_task_queue,
                # The activity returns by itself after run_seconds; this bounds a hung one.
                start_to_close_timeout=timedelta(seconds=params.run_seconds + params.receive_timeout + 60),
                heartbeat_timeout=timedelta(seconds=params.heartbeat_timeout),
                # Cancelling the poller waits until the poll has stopped: no receive is left in
                # flight once the workflow reports cancelled.
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                # For ever: a poller that gives up loses nothing (the queue keeps items 24 h) but
                # stops the instance's traffic; backoff keeps a broken instance from spinning.
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
                ),
            )
            self._totals.handled += result.handled
            self._totals.to_inbox += result.to_inbox
            self._totals.filtered += result.filtered
            if workflow.info().is_continue_as_new_suggested():
                break
        t = self._totals
        workflow.continue_as_new(replace(params, handled=t.handled, to_inbox=t.to_inbox, filtered=t.filtered))


@dataclass
class InboxInput:
    """``GreenApiInbox``'s input (none needed: signal-with-start starts it with the defaults).

    ``idle_seconds``: the inbox finishes after this long without a new event (the next event starts
    a fresh one). ``events``/``keys``: carried across continue-as-new.
    """

    idle_seconds: float = 7 * 24 * 3600.0
    max_events: int = 1000
    events: list[dict[str, Any]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


@workflow.defn(name="GreenApiInbox")
class GreenApiInbox:
    """Where events go that no open conversation owns: a chat whose conversation finished (a tap
    on last week's order), or a chat with none. It keeps them, de-duplicated, for a person or
    another workflow to read (query ``events``); it starts nothing. Replace it with your own type
    through ``Routing(inbox_workflow=...)``: it receives the same ``green_api_event`` signal.
    """

    def __init__(self) -> None:
        self._events: list[dict[str, Any]] = []
        self._keys: list[str] = []
        self._seen: set[str] = set()
        self._new = 0

    @workflow.signal(name="green_api_event")
    def green_api_event(self, payload: dict[str, Any]) -> None:
        key = event_key(Event.model_validate(payload))
        if key in self._seen:
            return  # the poller signals an item again when a worker died before deleting it
        self._seen.add(key)
        self._keys.append(key)
        self._events.append(payload)
        self._new += 1

    @workflow.query
    def events(self) -> list[dict[str, Any]]:
        return self._events

    @workflow.run
    async def run(self, params: InboxInput | None = None) -> int:
        params = params or InboxInput()
        self._events = params.events + self._events
        self._keys = params.keys + self._keys
        self._seen.update(params.keys)
        total = 0
        while True:
            seen = self._new
            try:
                await workflow.wait_condition(
                    lambda: self._new != seen,  # noqa: B023 - awaited at once
                    timeout=timedelta(seconds=params.idle_seconds),
                )
            except TimeoutError:
                await workflow.wait_condition(workflow.all_handlers_finished)
                return total + self._new
            if self._new >= params.max_events or workflow.info().is_continue_as_new_suggested():
                total += self._new
                workflow.continue_as_new(
                    replace(params, events=self._events[-INBOX_KEEP:], keys=self._keys[-INBOX_KEEP:])
                )
