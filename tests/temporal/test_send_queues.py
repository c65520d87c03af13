"""One rate for all workers: a burst for one instance across two worker processes meets no 429.

Two real send-worker processes serve the instance's send queue, each with the block's own
client-side limiter (about 45/s each, so about 90/s together: too fast for the sandbox's
50/s bucket). The sandbox's own limiter is on and every 429 it decides is counted server-side.
With the queue limited by Temporal (``send_workers``' rate) the burst meets none; the control,
the same burst with no queue limit, meets some, so the count can fail.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

from green_api_block.integrations.temporal.devserver import TemporalDevServer
from green_api_block.integrations.temporal.send_queues import (
    DEFAULT_GROUP_RATE,
    send_group_of,
    send_queue_for,
    send_queue_name,
)
from green_api_block.integrations.temporal.worker import connect_client
from green_api_block.sandbox import Sandbox, SandboxInstance
from green_api_block.sandbox.errors import APIError
from tests.support.credentials import CANARY
from tests.support.temporal_worker import WorkerProcess, wait_until_ready

CHAT = "79001234567@c.us"
GROUPS = 4
SANDBOX_RATE = 50.0  # sendMessage, REFERENCE.md §9.3: the sandbox's bucket holds 50, refills 50/s


class Refusals:
    """Counts the 429s the sandbox's limiter decides, by wrapping the backend's ``take_rate``."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.count = 0
        self.arrivals: list[float] = []  # every sendMessage the limiter judged, refused or not
        self._lock = threading.Lock()
        self._original = sb.backend.take_rate

    def __enter__(self) -> Refusals:
        def take_rate(id_instance: str, method: str) -> None:
            if method == "sendMessage":
                with self._lock:
                    self.arrivals.append(time.monotonic())
            try:
                self._original(id_instance, method)
            except APIError:
                with self._lock:
                    self.count += 1
                raise

        self.sb.backend.take_rate = take_rate  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        self.sb.backend.take_rate = self._original  # type: ignore[method-assign]


class SendWorkerProcess(WorkerProcess):
    """``python -m green_api_block.integrations.temporal.send_queues`` as a real process; the
    rest (stderr reader, readiness, kill) is the temporal worker's. The token goes in through the
    environment, never argv."""

    def __init__(
        self, address: str, instance: SandboxInstance, group: int, prefix: str, rate: float | None, n: int
    ) -> None:
        self.identity = f"send-worker-{os.getpid()}-{prefix}-{n}"
        cmd = [
            sys.executable, "-m", "green_api_block.integrations.temporal.send_queues",
            "--address", address, "--groups", str(group), "--prefix", prefix,
            "--rate", str(rate or 0), "--api-url", instance.api_url, "--media-url", instance.media_url,
            "--identity", self.identity,
        ]  # fmt: skip
        self._spawn(cmd, instance)


@dataclass
class Burst:
    id_instance: str
    sends: int
    prefix: str
    groups: int = GROUPS


@workflow.defn(sandboxed=False)  # test code: nothing to guard
class FanOut:
    """Every send of the burst at once, each on the queue ``send_queue_for`` picks: the way a
    user workflow picks it."""

    @workflow.run
    async def run(self, burst: Burst) -> list[str]:
        queue = send_queue_for(burst.id_instance, burst.groups, burst.prefix)
        results = await asyncio.gather(
            *(
                workflow.execute_activity(
                    "green_api_send_message",
                    {"idInstance": burst.id_instance, "chatId": CHAT, "message": f"{burst.prefix} {i}"},
                    task_queue=queue,
                    start_to_close_timeout=timedelta(seconds=60),
                    result_type=dict,
                )
                for i in range(burst.sends)
            )
        )
        return [str(r["idMessage"]) for r in results]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(rate_limits=True) as sb:
        yield sb


@pytest.fixture
def instance(sandbox: Sandbox) -> SandboxInstance:
    return sandbox.create_instance(api_token=CANARY)


async def _burst(
    address: str,
    client: Client,
    sb: Sandbox,
    inst: SandboxInstance,
    sends: int,
    rate: float | None,
) -> dict[str, Any]:
    # A fresh prefix per run: Temporal keeps a queue's rate limit, so runs must not share queues.
    prefix = f"send-{uuid.uuid4().hex[:8]}"
    group = send_group_of(inst.id_instance, GROUPS)
    workers = [SendWorkerProcess(address, inst, group, prefix, rate, n) for n in range(2)]
    flows = f"flows-{uuid.uuid4()}"
    try:
        await wait_until_ready(workers)
        async with Worker(client, task_queue=flows, workflows=[FanOut]):
            with Refusals(sb) as refused:
                started = time.monotonic()
                handle = await client.start_workflow(
                    FanOut.run,
                    Burst(inst.id_instance, sends, prefix),
                    id=f"burst-{uuid.uuid4()}",
                    task_queue=flows,
                )
                ids = await asyncio.wait_for(handle.result(), 120)
                seconds = time.monotonic() - started
        history = await handle.fetch_history()
    finally:
        for w in workers:
            w.kill()
    by_worker: dict[str, int] = {}
    retried = 0  # sends Temporal ran more than once (the block retries a 429 inside an attempt)
    for event in history.events:
        if event.HasField("activity_task_started_event_attributes"):
            attrs = event.activity_task_started_event_attributes
            by_worker[attrs.identity] = by_worker.get(attrs.identity, 0) + 1
            retried += attrs.attempt > 1
    sent = [m for m in sb.sent_messages(inst) if str(m.payload.get("message", "")).startswith(f"{prefix} ")]
    assert CANARY not in history.to_json()
    arrivals = sorted(refused.arrivals)
    # The most requests the sandbox judged in any one second (reported, not asserted: the
    # sandbox's bucket is the judge of "too fast", and a loaded machine bunches arrivals).
    busiest = max((sum(1 for t in arrivals[i:] if t < a + 1.0) for i, a in enumerate(arrivals)), default=0)
    return {
        "queue": send_queue_name(group, prefix),
        "rate": rate,
        "sends": sends,
        "seconds": round(seconds, 2),
        "server_429s": refused.count,
        "busiest_second": busiest,
        "first_second": sum(1 for t in arrivals if t < arrivals[0] + 1.0) if arrivals else 0,
        "sent": len(sent),
        "distinct": len(set(ids)),
        "by_worker": sorted(by_worker.values()),
        "temporal_retries": retried,
    }


def _report(name: str, figures: dict[str, Any]) -> None:
    print(f"\n{name}: {figures}", flush=True)


async def _limited(
    server: TemporalDevServer, client: Client, sb: Sandbox, inst: SandboxInstance, sends: int
) -> None:
    figures = await _burst(server.address, client, sb, inst, sends, DEFAULT_GROUP_RATE)
    _report("send queue limited", figures)
    assert figures["server_429s"] == 0
    assert figures["temporal_retries"] == 0
    assert figures["sent"] == figures["distinct"] == sends
    # Both processes took sends: the rate held across workers, not because one did all the work.
    assert len(figures["by_worker"]) == 2 and min(figures["by_worker"]) > 0
    # The price of no 429: the queue dispatches at most `rate` a second (after an initial burst of
    # at most `rate` tokens), so the run cannot be quicker than this.
    assert figures["seconds"] >= (sends - DEFAULT_GROUP_RATE) / DEFAULT_GROUP_RATE


async def test_a_burst_across_two_workers_meets_no_429(
    temporal_server: TemporalDevServer, temporal_client: Client, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    await _limited(temporal_server, temporal_client, sandbox, instance, 300)


async def test_without_the_queue_limit_the_same_burst_meets_429(
    temporal_server: TemporalDevServer, temporal_client: Client, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    """The control: each process's own limiter alone lets about 90/s through together."""
    figures = await _burst(temporal_server.address, temporal_client, sandbox, instance, 300, None)
    _report("send queue unlimited", figures)
    assert figures["server_429s"] > 0
    # The block retried its 429s: every send still went out exactly once.
    assert figures["sent"] == figures["distinct"] == 300


@pytest.mark.slow
async def test_a_long_burst_across_two_workers_meets_no_429(
    temporal_server: TemporalDevServer, temporal_client: Client, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    await _limited(temporal_server, temporal_client, sandbox, instance, 2000)


#: A task queue's partitions cut to one on the dev server (what production send queues want).
ONE_PARTITION = (
    "--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
    "--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
)  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("partitions", ["default", "one"])
async def test_429s_by_queue_rate_and_partition_count(
    partitions: str, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    """The figures behind the default rate (README): 300 sends at 40, 45, 50/s and no limit, on a
    server with the default partitions and one with a single one. Only 40/s is asserted."""
    with TemporalDevServer(extra_args=ONE_PARTITION if partitions == "one" else ()) as server:
        client = await connect_client(server.address, retry_for=30)
        try:
            for rate in (DEFAULT_GROUP_RATE, 45.0, 50.0, None):
                figures = await _burst(server.address, client, sandbox, instance, 300, rate)
                _report(f"partitions={partitions}", figures)
                if rate == DEFAULT_GROUP_RATE:
                    assert figures["server_429s"] == 0
                assert figures["sent"] == figures["distinct"] == 300
        finally:
            del client
            gc.collect()  # a live temporalio client at exit can abort the process (ENGINES.md §1)


async def test_a_send_worker_process_drains_on_sigterm_and_exits_0(
    temporal_server: TemporalDevServer, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    prefix = f"send-{uuid.uuid4().hex[:8]}"
    with SendWorkerProcess(temporal_server.address, instance, 0, prefix, DEFAULT_GROUP_RATE, 0) as proc:
        await wait_until_ready([proc])
        proc.terminate()
        code, err = proc.wait(30)
    assert code == 0, err[-3000:]
    assert f"{prefix}-0, 40/s per queue" in err
    assert CANARY not in err
