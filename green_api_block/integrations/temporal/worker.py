"""A worker for the block: the activities (and the project's workflows) on one task queue.

    client = await connect_client("127.0.0.1:7233")
    worker = build_worker(client, GreenApiActivities(block), task_queue="green-api")
    await run_until_signalled(worker)       # SIGTERM/SIGINT: drain in-flight work, then return

``green-api-block temporal worker`` is this, plus a :func:`.poller.poller_worker` on the pollers'
own queue, both run by one ``run_until_signalled([...])``.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client, TLSConfig
from temporalio.plugin import SimplePlugin
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from .activities import GreenApiActivities
from .registry import workflows as project_workflows

__all__ = [
    "DEFAULT_TASK_QUEUE",
    "ConnectOptions",
    "build_worker",
    "connect_client",
    "run_until_signalled",
    "sandbox_runner",
    "worker_plugin",
]

DEFAULT_TASK_QUEUE = "green-api"


@dataclass(frozen=True, slots=True)
class ConnectOptions:
    """How to reach Temporal: a local dev server needs only ``address``; a hosted one TLS client
    certificates (``tls_cert``/``tls_key``, ``tls_ca`` for a private CA) or an API key file."""

    address: str = "127.0.0.1:7233"
    namespace: str = "default"
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None
    api_key_file: Path | None = None

    def tls(self) -> TLSConfig | bool:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("--tls-cert and --tls-key go together")
        if self.tls_cert is None and self.tls_ca is None:
            # Temporal Cloud with an API key speaks TLS with the system's CAs.
            return self.api_key_file is not None
        return TLSConfig(
            client_cert=self.tls_cert.read_bytes() if self.tls_cert else None,
            client_private_key=self.tls_key.read_bytes() if self.tls_key else None,
            server_root_ca_cert=self.tls_ca.read_bytes() if self.tls_ca else None,
        )

    def api_key(self) -> str | None:
        if self.api_key_file is None:
            return None
        key = self.api_key_file.read_text(encoding="utf-8").strip()
        if not key:
            raise ValueError(f"{self.api_key_file}: the API key file is empty")
        return key


def sandbox_runner() -> SandboxedWorkflowRunner:
    """The workflow sandbox with ``green_api_block`` passed through: every worker that runs the
    shipped workflows, or your own using :class:`.conversation.Conversation`, needs it
    (:func:`build_worker`, :func:`worker_plugin` and :func:`.poller.poller_worker` use it).

    The sandbox re-imports a workflow's module on each run; importing any module of this package
    imports the package (httpx, urllib) too, which the sandbox refuses. What workflows use of it
    (the event model, ``event_key``) is deterministic, so it is passed through instead.
    """
    restrictions = SandboxRestrictions.default.with_passthrough_modules("green_api_block")
    return SandboxedWorkflowRunner(restrictions=restrictions)


async def connect_client(options: ConnectOptions | str, *, retry_for: float = 0.0) -> Client:
    """A client; ``retry_for`` seconds of retries while the server is not up yet (a worker
    started together with its server, as in a compose file or a test)."""
    opts = ConnectOptions(address=options) if isinstance(options, str) else options
    loop = asyncio.get_running_loop()
    deadline = loop.time() + retry_for
    while True:
        try:
            return await Client.connect(
                opts.address, namespace=opts.namespace, tls=opts.tls(), api_key=opts.api_key()
            )
        except RuntimeError:  # temporalio's "failed client connect"; bad options raise otherwise
            if loop.time() >= deadline:
                raise
            await asyncio.sleep(0.5)


def build_worker(
    client: Client,
    activities: GreenApiActivities,
    *,
    task_queue: str = DEFAULT_TASK_QUEUE,
    workflows: Sequence[type[Any]] | None = None,
    graceful_shutdown_timeout: timedelta = timedelta(seconds=30),
    **worker_options: Any,
) -> Worker:
    """A ``Worker`` serving every activity and the project's workflows (``registry``) plus
    ``workflows``, in :func:`sandbox_runner` (``workflow_runner=`` overrides it).
    ``graceful_shutdown_timeout``: how long in-flight activities may finish after shutdown begins
    (a send waits for its answer rather than being cut off mid-flight)."""
    served = [*project_workflows(), *(workflows or ())]
    options: dict[str, Any] = {"workflow_runner": sandbox_runner(), **worker_options}
    return Worker(
        client,
        task_queue=task_queue,
        activities=activities.activities(),
        workflows=served,
        graceful_shutdown_timeout=graceful_shutdown_timeout,
        **options,
    )


def worker_plugin(activities: GreenApiActivities, *, with_workflows: bool = True) -> SimplePlugin:
    """The block as a worker plugin (``Worker(client, task_queue=..., plugins=[...])``): it adds
    the activities and, unless ``with_workflows`` is false, the project's workflows to whatever
    the worker already serves (the shape STYLE.md §8 describes for libraries joining Temporal).
    With the workflows it sets :func:`sandbox_runner`, which they need."""

    def add_workflows(existing: Sequence[type] | None) -> Sequence[type]:
        return [*(existing or ()), *(project_workflows() if with_workflows else ())]

    def add_activities(existing: Sequence[Callable[..., Any]] | None) -> Sequence[Callable[..., Any]]:
        return [*(existing or ()), *activities.activities()]

    return SimplePlugin(
        "green_api_block",
        activities=add_activities,
        workflows=add_workflows,
        workflow_runner=sandbox_runner() if with_workflows else None,
    )


async def run_until_signalled(
    workers: Worker | Sequence[Worker],
    signals: Sequence[signal.Signals] = (signal.SIGTERM, signal.SIGINT),
    *,
    on_ready: Callable[[], None] | None = None,
) -> signal.Signals:
    """Run ``workers`` (one, or several sharing the process, e.g. the tools' and the pollers')
    until one of ``signals`` arrives, then shut them all down gracefully: polling stops, in-flight
    activities get each worker's graceful timeout to finish. Returns the signal.

    ``on_ready`` is called once the signal handlers are in place and the workers run: a signal
    sent after it is a drain, never the default "die at once". A worker that stops by itself
    stops the others and its error is raised."""
    served = [workers] if isinstance(workers, Worker) else list(workers)
    loop = asyncio.get_running_loop()
    stop: asyncio.Future[signal.Signals] = loop.create_future()

    def asked(sig: signal.Signals) -> None:
        if not stop.done():  # a second SIGTERM while draining changes nothing
            stop.set_result(sig)

    for sig in signals:
        loop.add_signal_handler(sig, asked, sig)
    runs: list[asyncio.Future[None]] = [asyncio.ensure_future(w.run()) for w in served]
    if on_ready is not None:
        on_ready()
    try:
        either: list[asyncio.Future[Any]] = [*runs, stop]
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        await asyncio.gather(*(w.shutdown() for w, run in zip(served, runs, strict=True) if not run.done()))
        results = await asyncio.gather(*runs, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result  # a worker failed on its own
        if not stop.done():
            raise RuntimeError("a worker stopped without being asked to")
        return stop.result()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
