"""Shared pieces of the reliability suite: client paths, sandbox observers, process figures.

Every figure a test measures goes through :func:`report`: printed (``pytest -s``) and, when
``GREEN_API_RELIABILITY_REPORT`` names a file, appended to it as one JSON line, which is where the
README's "Reliability" figures come from.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from green_api_block import GreenApiBlock, RetryPolicy
from green_api_block.sandbox import Sandbox, SandboxInstance

#: The three client paths every send guarantee is proved for.
MODES = ("sync", "async-aiohttp", "async-httpcore")
CHAT = "79001234567@c.us"
#: Retries as the block does them, with backoffs short enough for CI (the rules are the same).
FAST_RETRY = RetryPolicy(max_retries=3, backoff_initial=0.005, backoff_max=0.02)
REPORT_ENV = "GREEN_API_RELIABILITY_REPORT"
#: ``pytestmark`` of the modules on the in-process sandbox (the plugin's, fresh per test). Its own
#: limiter is off: these tests count requests and inject 429s on purpose (test_rate_limits.py
#: turns it on). Empty polls end after 50 ms instead of 5 s. The instance keeps the sandbox's
#: default settings (incoming notifications only).
SANDBOX = [
    pytest.mark.green_api_sandbox(rate_limits=False, max_receive_wait=0.05),
    pytest.mark.green_api_instance(settings={}),
]


def report(name: str, **figures: Any) -> None:
    line = json.dumps({"test": name, **figures}, sort_keys=False, default=str)
    print(f"RELIABILITY {line}")
    path = os.environ.get(REPORT_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


def make_block(mode: str, url: str, inst: SandboxInstance, **kw: Any) -> GreenApiBlock:
    """A block bound to ``inst``'s credentials, on the client path ``mode``."""
    kw.setdefault("credentials_from_env", False)
    kw.setdefault("retry", FAST_RETRY)
    kw.setdefault("rate_limits", False)
    if mode == "async-httpcore":
        kw.setdefault("async_transport", "httpcore")
    elif mode == "async-aiohttp":
        kw.setdefault("async_transport", "aiohttp")
    return GreenApiBlock(url, id_instance=inst.id_instance, api_token=inst.api_token, **kw)


async def run_tool(mode: str, block: GreenApiBlock, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    """The tool through ``mode``'s client: sync calls run in a worker thread, so one async test
    drives all three paths the same way."""
    if mode == "sync":
        return await asyncio.to_thread(block.execute, tool, args)
    return await block.aexecute(tool, args)


async def find_sent(mode: str, block: GreenApiBlock, chat: str, message: str) -> dict[str, Any] | None:
    if mode == "sync":
        return await asyncio.to_thread(block.find_sent, chat, message=message, minutes=10)
    return await block.afind_sent(chat, message=message, minutes=10)


async def close_block(block: GreenApiBlock) -> None:
    block.close()
    await block.aclose()


def send_args(message: str) -> dict[str, Any]:
    return {"chatId": CHAT, "message": message}


# ------------------------------------------------------------------ sandbox observers


@dataclass
class Arrival:
    at: float
    method: str
    fault: str | None


@dataclass
class WireLog:
    """Every Green API request the sandbox took, in arrival order, with the fault it got."""

    arrivals: list[Arrival] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of(self, method: str) -> list[Arrival]:
        with self.lock:
            return [a for a in self.arrivals if a.method == method]


@contextmanager
def observe_wire(sb: Sandbox) -> Iterator[WireLog]:
    """Wrap the sandbox's fault lookup, which runs once per Green API request, to log arrivals."""
    log = WireLog()
    original = sb.faults.take

    def take(id_instance: str | None, method: str | None) -> Any:
        fault = original(id_instance, method)
        kind = None
        if fault is not None:
            kind = fault.kind if fault.kind != "status" else f"status{fault.status or 500}"
        with log.lock:
            log.arrivals.append(Arrival(time.monotonic(), method or "", kind))
        return fault

    sb.faults.take = take  # type: ignore[method-assign]
    try:
        yield log
    finally:
        sb.faults.take = original  # type: ignore[method-assign]


def sent_texts(sb: Sandbox, inst: SandboxInstance) -> dict[str, list[str]]:
    """message text -> the idMessages the sandbox recorded for it."""
    out: dict[str, list[str]] = {}
    for msg in sb.sent_messages(inst):
        out.setdefault(msg.text or "", []).append(msg.id_message)
    return out


def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


# ------------------------------------------------------------------ a sandbox in its own process


class SandboxProcess:
    """The sandbox in a child process, driven through its HTTP control API.

    Load figures (sockets, descriptors, memory) are then the client's alone, and the server does
    not compete with the client for the GIL.
    """

    SCRIPT = (
        "import json, sys\n"
        "from green_api_block.sandbox import Sandbox\n"
        "with Sandbox(rate_limits=False, max_receive_wait=0.05) as sb:\n"
        "    print(json.dumps({'url': sb.url}), flush=True)\n"
        "    sys.stdin.read()\n"
    )

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", self.SCRIPT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.close()
            raise RuntimeError("the sandbox process did not start")
        self.url: str = json.loads(line)["url"]

    def control(self, method: str, path: str, body: Any = None) -> Any:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            response = client.request(method, "/__sandbox__" + path, json=body)
        response.raise_for_status()
        return response.json()

    def create_instance(self) -> SandboxInstance:
        data = self.control("POST", "/instances", {})
        return SandboxInstance(
            data["idInstance"], data["apiTokenInstance"], self.url, self.url, data.get("wid", "")
        )

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


# ------------------------------------------------------------------ process resources


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def open_sockets() -> int:
    count = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                count += 1
        except OSError:  # closed between listdir and readlink
            pass
    return count


def rss_mib() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def settle_rss() -> float:
    gc.collect()
    return rss_mib()
