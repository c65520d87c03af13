"""``green-api-block temporal poll``: start the bound instance's poller workflow on Temporal.

The poller's workflow id comes from the instance id (``green-api-poller-{idInstance}``), so a
second start finds it running, says so and exits 0. Only the instance id is needed here: the
token stays with the workers, which look it up (it never goes into the workflow's input).

Wiring (``green_api_block/cli/temporal.py``, the ``temporal`` command's sub-parsers)::

    from .temporal_poll import add_poll_parser
    add_poll_parser(temporal_subparsers)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
from pathlib import Path
from typing import Any

from .output import (
    EXIT_CODES_HELP,
    EXIT_CONFIG,
    EXIT_OK,
    EXIT_UNEXPECTED,
    HelpFormatter,
    Ui,
    command,
    common_parents,
)

__all__ = ["add_poll_parser", "main"]

DEFAULT_ADDRESS = "localhost:7233"


def add_poll_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "poll",
        help="start the bound instance's poller workflow (a no-op when it runs already)",
        description=(
            "Start GreenApiPoller for the bound instance: a heartbeating long poll that signals each "
            "notification to its chat's conversation workflow, then deletes it. Workers serving the "
            "poller task queue must be running (green-api-block temporal worker). A second start is a "
            "no-op: it says so and exits 0."
        ),
        epilog=EXIT_CODES_HELP,
        formatter_class=HelpFormatter,
        parents=common_parents(),
    )
    parser.add_argument(
        "--address", default=DEFAULT_ADDRESS, help=f"Temporal frontend (default {DEFAULT_ADDRESS})"
    )
    parser.add_argument("--namespace", default="default", help="Temporal namespace (default: default)")
    parser.add_argument(
        "--task-queue", default=None, help="the pollers' task queue (default green-api-pollers)"
    )
    parser.add_argument(
        "--api-key-file", metavar="PATH", help="a Temporal Cloud API key, read from this file"
    )
    parser.add_argument("--tls", action="store_true", help="connect with TLS (implied by --api-key-file)")
    parser.add_argument(
        "--receive-timeout", type=int, default=20, help="long-poll seconds, 5..60 (default 20)"
    )
    parser.add_argument(
        "--heartbeat-timeout",
        type=float,
        default=30.0,
        help="seconds before a dead worker's poll moves (default 30)",
    )
    parser.set_defaults(func=_poll)
    return parser


async def _start(args: argparse.Namespace, id_instance: str) -> tuple[str, bool]:
    from temporalio.client import Client

    from green_api_block.integrations.temporal.poller import POLLER_TASK_QUEUE, start_poller
    from green_api_block.integrations.temporal.workflows import PollerInput

    options: dict[str, Any] = {"namespace": args.namespace}
    if args.api_key_file:
        options["api_key"] = Path(args.api_key_file).expanduser().read_text().strip()
        options["tls"] = True
    elif args.tls:
        options["tls"] = True
    client = await Client.connect(args.address, **options)
    try:
        params = PollerInput(
            id_instance, receive_timeout=args.receive_timeout, heartbeat_timeout=args.heartbeat_timeout
        )
        handle, started = await start_poller(
            client, id_instance, task_queue=args.task_queue or POLLER_TASK_QUEUE, options=params
        )
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
    wf_id, started = asyncio.run(_start(args, id_instance))
    gc.collect()
    queue = args.task_queue or "green-api-pollers"
    if ui.json:
        ui.out_json({"ok": True, "workflowId": wf_id, "started": started, "taskQueue": queue})
    elif started:
        ui.out(f"poller started: {wf_id} on task queue {queue}")
    else:
        ui.out(f"poller already running: {wf_id} (nothing to do)")
    return EXIT_OK if wf_id else EXIT_UNEXPECTED


def main(argv: list[str] | None = None) -> int:
    """Standalone until ``temporal`` wires it: ``python -m green_api_block.cli.temporal_poll poll ...``."""
    parser = argparse.ArgumentParser(prog="green-api-block temporal")
    add_poll_parser(parser.add_subparsers(dest="temporal_command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":  # pragma: no cover - exercised as a process by the tests
    import os
    import sys

    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
