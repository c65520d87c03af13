"""What the poller tests share: a sandbox, worker processes, waiting on workflows, histories."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from temporalio.client import Client

__all__ = ["WorkerProcess", "all_histories", "eventually"]

ROOT = Path(__file__).resolve().parents[2]


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 30.0) -> None:
    """Await ``check`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.1)


class WorkerProcess:
    """``tests.temporal.worker_process`` as a real process; the token goes by environment only."""

    def __init__(self, *, address: str, api_url: str, id_instance: str, token: str, poller_queue: str,
                 chat_queue: str, workflow: str = "Collector") -> None:  # fmt: skip
        self.cmd = [
            sys.executable, "-m", "tests.temporal.worker_process", "--address", address,
            "--api-url", api_url, "--id-instance", id_instance, "--poller-queue", poller_queue,
            "--chat-queue", chat_queue, "--workflow", workflow,
        ]  # fmt: skip
        self.env = {**os.environ, "GREEN_API_TOKEN_INSTANCE": token, "PYTHONPATH": str(ROOT)}
        self.proc: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 30.0) -> WorkerProcess:
        self.proc = subprocess.Popen(
            self.cmd, cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        line = ""
        while time.monotonic() < deadline and not line:
            line = self.proc.stdout.readline().strip()
            if self.proc.poll() is not None:
                break
        if line != "ready":
            err = self.proc.stderr.read() if self.proc.stderr and self.proc.poll() is not None else ""
            self.kill()
            raise AssertionError(f"worker process did not start: {line!r} {err[-2000:]}")
        return self

    def kill(self) -> None:
        """SIGKILL: no drain, no goodbye; what it held is noticed only by heartbeat timeouts."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM: drain and exit; returns the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return int(self.proc.returncode)

    def __enter__(self) -> WorkerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.stop()


async def all_histories(client: Client) -> list[tuple[str, str]]:
    """``(workflow id, history JSON)`` for every execution on the server (open and closed)."""
    out: list[tuple[str, str]] = []
    async for wf in client.list_workflows():
        history = await client.get_workflow_handle(wf.id, run_id=wf.run_id).fetch_history()
        out.append((wf.id, history.to_json()))
    return out


def texts_of(result: Any) -> list[str]:
    return [str(t) for t in result]
