"""A worker as a real process, for the crash tests: ``python -m tests.temporal.worker_process``.

Serves the pollers' queue (GreenApiPoller + green_api_poll) and the conversations' queue (the test
Collector, the example OrderConfirmation, the inbox, the tool activities) against a sandbox. The token
comes from GREEN_API_TOKEN_INSTANCE (never argv: argv shows in ``ps``). Prints ``ready`` once both
workers poll; SIGTERM drains and exits 0. It leaves with ``os._exit`` after releasing the client:
a temporalio client alive at interpreter exit can turn exit 0 into 134 (ENGINES.md §1).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import sys

from temporalio.client import Client

from green_api_block.block import GreenApiBlock
from green_api_block.integrations.temporal.activities import GreenApiActivities
from green_api_block.integrations.temporal.examples.order_confirmation import OrderConfirmation
from green_api_block.integrations.temporal.poller import PollerActivities, poller_worker
from green_api_block.integrations.temporal.routing import Routing
from green_api_block.integrations.temporal.worker import build_worker
from tests.temporal.collector import Collector


async def serve(args: argparse.Namespace) -> None:
    client = await Client.connect(args.address, namespace="default")
    block = GreenApiBlock(args.api_url, args.api_url, id_instance=args.id_instance, rate_limits=False)
    routing = Routing(task_queue=args.chat_queue, workflow=args.workflow or None)
    pollers = poller_worker(client, PollerActivities(client, block, routing), task_queue=args.poller_queue)
    chats = build_worker(
        client,
        GreenApiActivities(block),
        task_queue=args.chat_queue,
        workflows=[Collector, OrderConfirmation],
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with pollers, chats:
        print("ready", flush=True)
        await stop.wait()
    await block.aclose()
    del client, pollers, chats
    gc.collect()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--id-instance", required=True)
    parser.add_argument("--poller-queue", required=True)
    parser.add_argument("--chat-queue", required=True)
    parser.add_argument("--workflow", default="Collector")
    asyncio.run(serve(parser.parse_args()))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
