"""Worker processes for the Temporal tests: ``green-api-block temporal worker`` as a real process.

Each is started with an identity of its own, so a test can ask Temporal which process holds an
activity (``last_worker_identity``) and kill exactly that one.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from typing import Self

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from green_api_block.sandbox import SandboxInstance

__all__ = ["WorkerProcess", "wait_for_pollers"]

_counter = 0


class WorkerProcess:
    """``python -m green_api_block temporal worker`` bound to a sandbox instance.

    The token goes in through the environment (as a deployment would give it), never argv.
    """

    def __init__(
        self,
        address: str,
        task_queue: str,
        instance: SandboxInstance,
        *,
        graceful_timeout: float = 10.0,
        extra: Iterable[str] = (),
    ) -> None:
        global _counter
        _counter += 1
        self.identity = f"test-worker-{os.getpid()}-{_counter}"
        env = {
            **os.environ,
            "GREEN_API_ID_INSTANCE": instance.id_instance,
            "GREEN_API_TOKEN_INSTANCE": instance.api_token,
            "GREEN_API_BLOCK_CONFIG": os.devnull,  # no user profile leaks in
        }
        cmd = [
            sys.executable, "-m", "green_api_block", "temporal", "worker",
            "--api-url", instance.api_url, "--media-url", instance.media_url,
            "--address", address, "--task-queue", task_queue, "--identity", self.identity,
            "--graceful-timeout", str(graceful_timeout), *extra,
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def wait(self, timeout: float) -> tuple[int, str]:
        """The exit code and stderr, once the process ended (bounded)."""
        _, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, err.decode(errors="replace")


async def wait_for_pollers(
    client: Client, task_queue: str, workers: Iterable[WorkerProcess], timeout: float = 30.0
) -> None:
    """Until every one of ``workers`` polls ``task_queue`` for activities (bounded); a worker that
    exited instead fails with its exit code and stderr."""
    procs = list(workers)
    identities = {w.identity for w in procs}
    deadline = time.monotonic() + timeout
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    )
    while True:
        response = await client.workflow_service.describe_task_queue(request)
        seen = {p.identity for p in response.pollers}
        if identities <= seen:
            return
        for w in procs:
            if w.proc.poll() is not None:
                code, err = w.wait(5)
                raise AssertionError(f"worker {w.identity} exited with {code}: {err[-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"workers not polling within {timeout} s: {sorted(identities - seen)}")
        await asyncio.sleep(0.1)
