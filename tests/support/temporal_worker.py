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
import threading
import time
from collections.abc import Iterable
from typing import Self

from green_api_block.sandbox import SandboxInstance

__all__ = ["WorkerProcess", "wait_until_ready"]

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
        cmd = [
            sys.executable, "-m", "green_api_block", "temporal", "worker",
            "--api-url", instance.api_url, "--media-url", instance.media_url,
            "--address", address, "--task-queue", task_queue, "--identity", self.identity,
            "--graceful-timeout", str(graceful_timeout), *extra,
        ]  # fmt: skip
        self._spawn(cmd, instance)

    def _spawn(self, cmd: list[str], instance: SandboxInstance) -> None:
        env = {
            **os.environ,
            "GREEN_API_ID_INSTANCE": instance.id_instance,
            "GREEN_API_TOKEN_INSTANCE": instance.api_token,
            "GREEN_API_BLOCK_CONFIG": os.devnull,  # no user profile leaks in
        }
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        # Read all along (a full pipe would block the worker), and so that readiness shows.
        self._err: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._err.append(line.decode(errors="replace"))

    def stderr(self) -> str:
        return "".join(self._err)

    def ready(self) -> bool:
        return any(line.startswith("worker ready:") for line in list(self._err))

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
        self.wait(30)

    def wait(self, timeout: float) -> tuple[int, str]:
        """The exit code and stderr, once the process ended (bounded)."""
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout)
        return code, self.stderr()


async def wait_until_ready(workers: Iterable[WorkerProcess], timeout: float = 30.0) -> None:
    """Until every one of ``workers`` said it serves its queue (bounded); a worker that
    exited instead fails with its exit code and stderr.

    The worker's own "ready" line is the signal, not DescribeTaskQueue: that lists the pollers of
    the root partition only, and a poller long-polling another partition stays out of it for up to
    a minute (seen here: a live worker missing for 30 s).
    """
    deadline = time.monotonic() + timeout
    for w in workers:
        while not w.ready():
            if w.proc.poll() is not None:
                code, err = w.wait(5)
                raise AssertionError(f"worker {w.identity} exited with {code}: {err[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"worker {w.identity} not ready within {timeout} s: {w.stderr()[-3000:]}"
                )
            await asyncio.sleep(0.05)
