"""One rate for all workers: sends on rate-limited task queues, one queue per group of instances.

Green API limits each instance per method (sendMessage 50/s, REFERENCE.md §9.3). The block's
client-side limiter keeps one process under that, but two workers sending for the same instance
would allow twice the rate. Temporal can enforce a rate for a whole task queue, across every
worker (``max_task_queue_activities_per_second``, ENGINES.md §1); a queue per instance would
do, but 1,000 instances would mean 1,000 queues for every worker to poll. So instances are hashed
into ``groups`` send queues (``green-api-send-{g}``), and each queue is limited to a rate a little
under the per-method limit: whatever share of its group's traffic one instance has, it cannot go
faster than its whole queue. The price: the instances of a group share that one rate.

Workflow code picks the queue (the hash is stable and deterministic, so it is safe there;
import this module under ``workflow.unsafe.imports_passed_through()``)::

    await workflow.execute_activity(
        "green_api_send_message", {"idInstance": i, "chatId": c, "message": m},
        task_queue=send_queue_for(i), start_to_close_timeout=timedelta(seconds=30),
    )

and a worker process serves some of the groups (with overlap, so a group survives a worker)::

    workers = send_workers(client, GreenApiActivities(block, tokens=tokens),
                           groups_for_worker(index, worker_count))
    await run_until_signalled(workers)   # worker.py; SIGTERM/SIGINT: drain, then return

Every worker of a queue must set the same rate (Temporal: different values thrash, the last
poller wins): ``send_workers`` always sets ``rate``, so use one value across the deployment.
``python -m green_api_block.integrations.temporal.send_queues`` runs such a worker for the
instance bound in the environment (``GREEN_API_ID_INSTANCE``/``GREEN_API_TOKEN_INSTANCE``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import zlib
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from ...limits import METHOD_RATE_LIMITS

if TYPE_CHECKING:
    from temporalio.client import Client
    from temporalio.worker import Worker

    from .activities import GreenApiActivities

# The worker side (temporalio.worker, the activities and the block behind them) is imported where
# it is used: workflow code imports this module for send_queue_for alone (under
# ``workflow.unsafe.imports_passed_through()``, like the project's other modules).

__all__ = [
    "DEFAULT_GROUPS",
    "DEFAULT_GROUP_RATE",
    "MAX_GROUP_RATE",
    "SEND_QUEUE_PREFIX",
    "groups_for_worker",
    "send_group_of",
    "send_queue_for",
    "send_queue_name",
    "send_workers",
]

SEND_QUEUE_PREFIX: Final = "green-api-send"
#: 64 groups of about 16 instances for 1,000 instances (see the README, "One rate for all workers").
DEFAULT_GROUPS: Final = 64
#: Activities per second a send queue dispatches, all its instances and send methods together.
#: Under the 50/s of every send method: Temporal's limiter starts with about one second's tokens,
#: so a burst's first second carries about twice the rate (measured: 85-89 at 40/s; at 50/s, 33 to
#: 70 429s in 300 sends against a bucket of 50 refilled at 50/s), plus the jitter between
#: Temporal handing out a task and the request reaching Green API.
DEFAULT_GROUP_RATE: Final = 40.0

#: The Green API methods the three send activities call: the queue rate must stay under each.
_SEND_METHODS: Final = (
    "sendMessage",
    "sendFileByUrl",
    "sendFileByUpload",
    "sendInteractiveButtons",
    "sendInteractiveButtonsReply",
)
MAX_GROUP_RATE: Final = min(METHOD_RATE_LIMITS[m] for m in _SEND_METHODS)


def send_group_of(id_instance: str | int, groups: int = DEFAULT_GROUPS) -> int:
    """The group of ``id_instance``: CRC-32 of its decimal id, modulo ``groups``.

    CRC-32 and not ``hash()``: Python salts ``hash`` of a str per process, and the group must be
    the same in every worker, every replay and every release (workflow code calls this).
    """
    if groups < 1:
        raise ValueError("groups must be at least 1")
    return zlib.crc32(str(id_instance).strip().encode("ascii")) % groups


def send_queue_name(group: int, prefix: str = SEND_QUEUE_PREFIX) -> str:
    return f"{prefix}-{group}"


def send_queue_for(
    id_instance: str | int, groups: int = DEFAULT_GROUPS, prefix: str = SEND_QUEUE_PREFIX
) -> str:
    """The task queue for ``id_instance``'s sends. Deterministic: safe in workflow code.

    ``groups`` must be the same everywhere (workflows and workers); changing it moves instances
    between queues, so change it only with every worker serving both layouts for a while.
    """
    return send_queue_name(send_group_of(id_instance, groups), prefix)


def groups_for_worker(
    index: int, workers: int, groups: int = DEFAULT_GROUPS, *, copies: int = 2
) -> list[int]:
    """The groups worker ``index`` of ``workers`` serves: each group by ``copies`` workers
    (consecutive ones, wrapping), so a dead worker leaves none of its groups unserved."""
    if not 0 <= index < workers:
        raise ValueError("index must be from 0 to workers - 1")
    if not 1 <= copies <= workers:
        raise ValueError("copies must be from 1 to the number of workers")
    return [g for g in range(groups) if (index - g) % workers < copies]


def send_workers(
    client: Client,
    activities: GreenApiActivities,
    groups: Iterable[int],
    *,
    rate: float | None = DEFAULT_GROUP_RATE,
    prefix: str = SEND_QUEUE_PREFIX,
    max_concurrent_activities: int = 20,
    graceful_shutdown_timeout: timedelta = timedelta(seconds=30),
    **worker_options: Any,
) -> list[Worker]:
    """A ``Worker`` per group, serving the three send activities on ``{prefix}-{group}``,
    with the queue limited server-side to ``rate`` activities per second.

    ``max_concurrent_activities`` per group: at ``rate`` 40/s and a send taking ~0.3 s, about 12
    are in flight for a whole group; 20 leaves headroom for slow answers (a group served by two
    workers has 40).

    ``rate=None`` sets no queue limit: each process is then held only by its block's own limiter,
    which is not enough with two workers (the control experiment in the tests measures 429s).
    """
    from temporalio.worker import Worker

    if rate is not None and not 0 < rate <= MAX_GROUP_RATE:
        raise ValueError(
            f"rate must be above 0 and at most {MAX_GROUP_RATE:g}/s, the lowest per-instance "
            "limit of the send methods: one instance may have all of its group's traffic"
        )
    for option in ("task_queue", "activities", "max_task_queue_activities_per_second"):
        if option in worker_options:
            raise TypeError(f"send_workers sets {option} itself")
    sends: Sequence[Callable[..., Any]] = (
        activities.send_message,
        activities.send_file,
        activities.send_buttons,
    )
    limit: dict[str, Any] = {}
    if rate is not None:
        # Enforced by the server for the whole queue, across every worker polling it.
        limit["max_task_queue_activities_per_second"] = rate
    workers = []
    for group in sorted(set(groups)):
        workers.append(
            Worker(
                client,
                task_queue=send_queue_name(group, prefix),
                activities=list(sends),
                # Eager execution hands an activity to the workflow's own worker without the
                # queue's dispatch, so it would bypass the limit: off (it only ever applies to a
                # worker that also runs workflows on this queue, but a caller may add some).
                disable_eager_activity_execution=True,
                max_concurrent_activities=max_concurrent_activities,
                graceful_shutdown_timeout=graceful_shutdown_timeout,
                **limit,
                **worker_options,
            )
        )
    if not workers:
        raise ValueError("no groups given: a send worker must serve at least one")
    return workers


# -- a send worker as a process ------------------------------------------------------------------


def _groups(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m green_api_block.integrations.temporal.send_queues",
        description="Serve the send activities on rate-limited send queues, for the instance "
        "bound in the environment (GREEN_API_ID_INSTANCE, GREEN_API_TOKEN_INSTANCE).",
    )
    p.add_argument("--address", default="127.0.0.1:7233")
    p.add_argument("--namespace", default="default")
    p.add_argument("--groups", type=_groups, required=True, help="comma-separated group numbers")
    p.add_argument(
        "--rate", type=float, default=DEFAULT_GROUP_RATE, help="activities/s per queue; 0: no queue limit"
    )
    p.add_argument("--prefix", default=SEND_QUEUE_PREFIX)
    p.add_argument("--api-url")
    p.add_argument("--media-url")
    p.add_argument("--identity")
    p.add_argument("--max-concurrent", type=int, default=20, help="send slots per group")
    return p


async def _serve(args: argparse.Namespace) -> None:
    from green_api_block import GreenApiBlock

    from .activities import GreenApiActivities
    from .worker import connect_client, run_until_signalled

    client = await connect_client(args.address, retry_for=30.0)
    block = GreenApiBlock(args.api_url, args.media_url)  # credentials from the environment
    extra = {"identity": args.identity} if args.identity else {}
    try:
        workers = send_workers(
            client,
            GreenApiActivities(block),
            args.groups,
            rate=args.rate or None,
            prefix=args.prefix,
            max_concurrent_activities=args.max_concurrent,
            **extra,
        )
        queues = ", ".join(send_queue_name(g, args.prefix) for g in args.groups)

        def ready() -> None:
            limit = f"{args.rate:g}/s per queue" if args.rate else "no queue limit"
            # The same first words as ``temporal worker``'s line: one readiness check for both.
            print(f"worker ready: {queues}, {limit}; SIGTERM drains and exits", file=sys.stderr, flush=True)

        await run_until_signalled(workers, on_ready=ready)
    finally:
        await block.aclose()
        del client


def main(argv: Sequence[str] | None = None) -> None:
    asyncio.run(_serve(_parser().parse_args(argv)))
    # A temporalio client alive at interpreter exit can turn exit 0 into 134 (ENGINES.md §1).
    gc.collect()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
