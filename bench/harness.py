"""Timing loops shared by the figures: n calls, sync or async at a given concurrency."""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NamedTuple, NoReturn

__all__ = ["Timing", "cpu_seconds", "exit_now", "median", "pin_to_cpu", "time_async", "time_sync"]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def cpu_seconds() -> float:
    """User + system CPU time of this process."""
    t = os.times()
    return t.user + t.system


def pin_to_cpu(cpu: int | None) -> None:
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})


class Timing(NamedTuple):
    """One timed run: calls per second (wall clock) and this process's CPU microseconds per call."""

    rate: float
    cpu_us: float


def time_sync(call: Callable[[], Any], n: int, warmup: int) -> Timing:
    """Calls per second over ``n`` sequential calls, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        call()
    gc.collect()
    cpu = cpu_seconds()
    start = time.perf_counter()
    for _ in range(n):
        call()
    wall = time.perf_counter() - start
    return Timing(n / wall, (cpu_seconds() - cpu) / n * 1e6)


async def _drive(acall: Callable[[], Awaitable[Any]], n: int, concurrency: int) -> None:
    left = n

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await acall()

    await asyncio.gather(*(worker() for _ in range(min(concurrency, n))))


def time_async(
    factory: Callable[[], Awaitable[tuple[Callable[[], Awaitable[Any]], Callable[[], Awaitable[None]]]]],
    n: int,
    concurrency: int,
    warmup: int,
) -> Timing:
    """Calls per second over ``n`` calls made by ``concurrency`` workers, in a fresh event loop.

    The warm-up opens the connections (one per worker) and pays first-call costs untimed.
    """

    async def main() -> Timing:
        acall, aclose = await factory()
        try:
            await _drive(acall, warmup, concurrency)
            gc.collect()
            cpu = cpu_seconds()
            start = time.perf_counter()
            await _drive(acall, n, concurrency)
            wall = time.perf_counter() - start
            return Timing(n / wall, (cpu_seconds() - cpu) / n * 1e6)
        finally:
            await aclose()

    return asyncio.run(main())


def exit_now(code: int) -> NoReturn:
    """Flush and leave without interpreter teardown: a temporalio client's teardown at exit can
    abort the process with 134 (ENGINES.md §1), which would hide the benchmark's own result."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
