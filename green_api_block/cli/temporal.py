"""``green-api-block temporal worker|poll``: serve the block on Temporal, start an instance's poller.

temporalio is imported when a command runs, never with the CLI: the other commands, and the
library's import path, stay as light as without the ``[temporal]`` extra.
"""

from __future__ import annotations

import argparse
import gc
from datetime import timedelta
from typing import TYPE_CHECKING

from .output import EXIT_CODES_HELP, EXIT_OK, HelpFormatter, Ui, command, common_parents
from .temporal_connection import add_connection_arguments, connect_options, seconds
from .temporal_poll import DEFAULT_POLLER_QUEUE, add_poll_parser

if TYPE_CHECKING:
    from green_api_block import GreenApiBlock
    from green_api_block.integrations.temporal.worker import ConnectOptions

__all__ = ["register"]


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "temporal",
        help="run the block on Temporal (worker, poll)",
        description=(
            "Durable workflows on Temporal: the block's activities and workflows served by a worker, "
            "and one poller workflow per instance."
        ),
        formatter_class=HelpFormatter,
        parents=common_parents(),
    )
    sub = parser.add_subparsers(dest="temporal_command", metavar="ACTION")
    worker = sub.add_parser(
        "worker",
        help="serve the five tools' activities, the project's workflows and the pollers",
        description=(
            "Run a Temporal worker with the activities green_api_send_message, green_api_send_file, "
            "green_api_send_buttons, green_api_get_notifications (never deletes), "
            "green_api_get_state_instance and green_api_delete_notification, bound to the instance "
            "of the connection options (the token never travels in a payload), and the workflows "
            "GreenApiPoller and GreenApiInbox, on --task-queue. Unless --max-pollers is 0, a second "
            "worker serves the pollers (GreenApiPoller and its long-running poll activity) on "
            "--poller-queue; their events go to conversations and inboxes on --task-queue. SIGTERM "
            "or Ctrl-C stop polling and let in-flight activities finish (--graceful-timeout), then "
            "exit 0. Needs the extra: pip install 'green-api-block[temporal]'."
        ),
        epilog=EXIT_CODES_HELP,
        formatter_class=HelpFormatter,
        parents=common_parents(),
    )
    t = add_connection_arguments(worker)
    t.add_argument("--task-queue", default="green-api", help="task queue (default 'green-api')")
    t.add_argument(
        "--poller-queue",
        default=DEFAULT_POLLER_QUEUE,
        help=f"the pollers' own task queue (default {DEFAULT_POLLER_QUEUE!r})",
    )
    t.add_argument(
        "--max-pollers",
        type=_count,
        default=100,
        metavar="N",
        help="poll activities this worker holds at once; 0 serves no pollers (default 100)",
    )
    t.add_argument(
        "--graceful-timeout",
        type=seconds,
        default=30.0,
        metavar="SECONDS",
        help="how long in-flight activities may finish after SIGTERM (default 30)",
    )
    t.add_argument("--identity", help="the worker's identity in Temporal (default pid@host)")
    worker.set_defaults(func=_worker)
    add_poll_parser(sub)

    def usage(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(func=usage)


@command("temporal worker")
def _worker(args: argparse.Namespace, ui: Ui) -> int:
    import asyncio

    from .settings import load_settings, make_block

    options = connect_options(args)
    block = make_block(load_settings(args))
    try:
        asyncio.run(_serve(args, ui, options, block))
    finally:
        del block
        # A temporalio client still alive at interpreter exit can abort the process with exit 134
        # (ENGINES.md §1): everything _serve held is garbage now, collect it before exiting.
        gc.collect()
    return EXIT_OK


async def _serve(args: argparse.Namespace, ui: Ui, options: ConnectOptions, block: GreenApiBlock) -> None:
    from green_api_block.integrations.temporal.activities import GreenApiActivities
    from green_api_block.integrations.temporal.poller import PollerActivities, poller_worker
    from green_api_block.integrations.temporal.routing import Routing
    from green_api_block.integrations.temporal.worker import build_worker, connect_client, run_until_signalled

    client = await connect_client(options, retry_for=args.connect_timeout)
    extra = {"identity": args.identity} if args.identity else {}
    grace = timedelta(seconds=args.graceful_timeout)
    workers = [
        build_worker(
            client,
            GreenApiActivities(block),
            task_queue=args.task_queue,
            graceful_shutdown_timeout=grace,
            **extra,
        )
    ]
    pollers = ""
    if args.max_pollers:
        # Events of chats with no running conversation go to the chat's inbox (GreenApiInbox,
        # served above): a late tap never opens a new conversation.
        routing = Routing(task_queue=args.task_queue)
        workers.append(
            poller_worker(
                client,
                PollerActivities(client, block, routing),
                task_queue=args.poller_queue,
                max_pollers=args.max_pollers,
                graceful_shutdown_timeout=grace,
                **extra,
            )
        )
        pollers = f", pollers on {args.poller_queue!r}"

    def ready() -> None:
        # On stderr even when it is not a terminal: an operator's log shows when the worker
        # served; printed once SIGTERM drains rather than kills.
        ui.say(
            f"worker ready: task queue {args.task_queue!r}{pollers} on {options.address} "
            f"(namespace {options.namespace!r}); SIGTERM drains and exits"
        )

    try:
        sig = await run_until_signalled(workers, on_ready=ready)
        ui.say(f"{sig.name}: drained, stopped")
    finally:
        await block.aclose()
        del workers, client
