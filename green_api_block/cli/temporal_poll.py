"""``green-api-block temporal poll``: start the bound instance's poller workflow on Temporal.

The poller's workflow id comes from the instance id (``green-api-poller-{idInstance}``), so a
second start finds it running, says so and exits 0. Only the instance id is needed here: the
token stays with the workers, which look it up (it never goes into the workflow's input).
``green-api-block temporal worker`` serves the pollers' queue.
"""

from __future__ import annotations

import argparse
import asyncio
import gc

from .output import EXIT_CODES_HELP, EXIT_CONFIG, EXIT_OK, HelpFormatter, Ui, command, common_parents
from .temporal_connection import add_connection_arguments, connect_options

__all__ = ["DEFAULT_POLLER_QUEUE", "add_poll_parser"]

#: Equal to ``poller.POLLER_TASK_QUEUE`` (not imported: temporalio loads when a command runs).
DEFAULT_POLLER_QUEUE = "green-api-pollers"


def add_poll_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "poll",
        help="start the bound instance's poller workflow (a no-op when it runs already)",
        description=(
            "Start GreenApiPoller for the bound instance: a heartbeating long poll that signals each "
            "notification to its chat's conversation workflow (or the chat's inbox), then deletes it. "
            "Workers serving the poller task queue must be running (green-api-block temporal worker). "
            "A second start is a no-op: it says so and exits 0. No token is needed here."
        ),
        epilog=EXIT_CODES_HELP,
        formatter_class=HelpFormatter,
        parents=common_parents(),
    )
    t = add_connection_arguments(parser)
    t.add_argument(
        "--task-queue",
        default=DEFAULT_POLLER_QUEUE,
        help=f"the pollers' task queue (default {DEFAULT_POLLER_QUEUE})",
    )
    t.add_argument("--receive-timeout", type=int, default=20, help="long-poll seconds, 5..60 (default 20)")
    t.add_argument(
        "--heartbeat-timeout",
        type=float,
        default=30.0,
        help="seconds before a dead worker's poll moves (default 30)",
    )
    parser.set_defaults(func=_poll)
    return parser


async def _start(args: argparse.Namespace, id_instance: str) -> tuple[str, bool]:
    from green_api_block.integrations.temporal.poller import start_poller
    from green_api_block.integrations.temporal.worker import connect_client
    from green_api_block.integrations.temporal.workflows import PollerInput

    client = await connect_client(connect_options(args), retry_for=args.connect_timeout)
    try:
        params = PollerInput(
            id_instance, receive_timeout=args.receive_timeout, heartbeat_timeout=args.heartbeat_timeout
        )
        handle, started = await start_poller(client, id_instance, task_queue=args.task_queue, options=params)
        return handle.id, started
    finally:
        # A client alive at interpreter exit can abort the process (exit 134, ENGINES.md §1).
        del client
        gc.collect()


@command("temporal poll")
def _poll(args: argparse.Namespace, ui: Ui) -> int:
    from .settings import load_settings

    settings = load_settings(args)
    id_instance = settings.id_instance.value
    if not id_instance:
        ui.warn("no instance id configured: pass --id-instance, set GREEN_API_ID_INSTANCE or use a profile")
        return EXIT_CONFIG
    if not 5 <= args.receive_timeout <= 60:
        ui.warn("--receive-timeout must be 5..60 seconds")
        return EXIT_CONFIG
    wf_id, started = asyncio.run(_start(args, str(id_instance)))
    gc.collect()
    if ui.json:
        ui.out_json({"ok": True, "workflowId": wf_id, "started": started, "taskQueue": args.task_queue})
    elif started:
        ui.out(f"poller started: {wf_id} on task queue {args.task_queue}")
    else:
        ui.out(f"poller already running: {wf_id} (nothing to do)")
    return EXIT_OK
