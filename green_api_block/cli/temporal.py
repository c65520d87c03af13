"""``green-api-block temporal worker``: serve the block's activities (and workflows) on Temporal.

temporalio is imported when the command runs, never with the CLI: the other commands, and the
library's import path, stay as light as without the ``[temporal]`` extra.
"""

from __future__ import annotations

import argparse
import gc
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from .output import EXIT_CODES_HELP, EXIT_OK, HelpFormatter, Ui, command, common_parents

if TYPE_CHECKING:
    from green_api_block import GreenApiBlock
    from green_api_block.integrations.temporal.worker import ConnectOptions

__all__ = ["register"]


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError("must be from 0 to 3600 seconds")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "temporal",
        help="run the block on Temporal (worker)",
        description="Durable workflows on Temporal: the block's activities served by a worker.",
        formatter_class=HelpFormatter,
        parents=common_parents(),
    )
    sub = parser.add_subparsers(dest="temporal_command", metavar="ACTION")
    worker = sub.add_parser(
        "worker",
        help="serve the five tools' activities (and the project's workflows) on a task queue",
        description=(
            "Run a Temporal worker with the activities green_api_send_message, green_api_send_file, "
            "green_api_send_buttons, green_api_get_notifications (never deletes), "
            "green_api_get_state_instance and green_api_delete_notification, bound to the instance "
            "of the connection options (the token never travels in a payload). SIGTERM or Ctrl-C "
            "stop polling and let in-flight activities finish (--graceful-timeout), then exit 0. "
            "Needs the extra: pip install 'green-api-block[temporal]'."
        ),
        epilog=EXIT_CODES_HELP,
        formatter_class=HelpFormatter,
        parents=common_parents(),
    )
    t = worker.add_argument_group("Temporal")
    t.add_argument("--address", default="127.0.0.1:7233", help="host:port (default 127.0.0.1:7233)")
    t.add_argument("--namespace", default="default", help="namespace (default 'default')")
    t.add_argument("--task-queue", default="green-api", help="task queue (default 'green-api')")
    t.add_argument("--tls-cert", type=Path, metavar="FILE", help="TLS client certificate (PEM)")
    t.add_argument("--tls-key", type=Path, metavar="FILE", help="TLS client private key (PEM)")
    t.add_argument("--tls-ca", type=Path, metavar="FILE", help="CA certificate of the server (PEM)")
    t.add_argument("--api-key-file", type=Path, metavar="FILE", help="a Temporal Cloud API key, from a file")
    t.add_argument(
        "--graceful-timeout",
        type=_seconds,
        default=30.0,
        metavar="SECONDS",
        help="how long in-flight activities may finish after SIGTERM (default 30)",
    )
    t.add_argument("--identity", help="the worker's identity in Temporal (default pid@host)")
    t.add_argument(
        "--connect-timeout",
        type=_seconds,
        default=30.0,
        metavar="SECONDS",
        help="keep trying to reach the server this long at start (default 30)",
    )
    worker.set_defaults(func=_worker)

    def usage(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(func=usage)


@command("temporal worker")
def _worker(args: argparse.Namespace, ui: Ui) -> int:
    import asyncio

    try:
        import temporalio  # noqa: F401
    except ModuleNotFoundError:
        from green_api_block.errors import ConfigError

        raise ConfigError(
            "temporal worker needs the extra: pip install 'green-api-block[temporal]'"
        ) from None
    from green_api_block.integrations.temporal.worker import ConnectOptions

    from .settings import load_settings, make_block

    options = ConnectOptions(
        address=args.address,
        namespace=args.namespace,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        tls_ca=args.tls_ca,
        api_key_file=args.api_key_file,
    )
    options.tls()  # a half-given certificate pair fails here, before connecting
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
    from green_api_block.integrations.temporal.worker import build_worker, connect_client, run_until_signalled

    client = await connect_client(options, retry_for=args.connect_timeout)
    extra = {"identity": args.identity} if args.identity else {}
    worker = build_worker(
        client,
        GreenApiActivities(block),
        task_queue=args.task_queue,
        graceful_shutdown_timeout=timedelta(seconds=args.graceful_timeout),
        **extra,
    )

    def ready() -> None:
        # On stderr even when it is not a terminal: an operator's log shows when the worker
        # served; printed once SIGTERM drains rather than kills.
        ui.say(
            f"worker ready: task queue {args.task_queue!r} on {options.address} "
            f"(namespace {options.namespace!r}); SIGTERM drains and exits"
        )

    try:
        sig = await run_until_signalled(worker, on_ready=ready)
        ui.say(f"{sig.name}: drained, stopped")
    finally:
        await block.aclose()
        del worker, client
