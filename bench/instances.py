"""One process, many instances: one ``GreenApiBlock`` with unbound credentials serving N instances.

Run by bench/run.py (figure ``instances``), each measurement in a fresh process, so that RSS and
sockets are this client's alone:

* ``python -m bench.instances sends URL N TOTAL CONCURRENCY``: TOTAL ``aexecute(send_message)``
  calls spread round robin over N instances (each with its own id and token), CONCURRENCY at
  once, after CONCURRENCY untimed ones;
* ``python -m bench.instances polls URL N SECONDS``: every instance long-polled at once
  (``get_notifications``, ``receiveTimeout`` 5, one notification a call, in a loop), against a
  server that holds empty polls (``bench.server --hold``) while notifications trickle in; CPU,
  calls and notifications are counted over SECONDS once every poll is up;
* ``python -m bench.instances tokens COUNT``: what COUNT distinct tokens cost the redaction:
  constructing COUNT blocks with bound tokens, COUNT calls' worth of in-flight tokens, and one
  masking with them all held.

Each prints one JSON line.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import resource
import sys
import time
from typing import Any

from .harness import cpu_seconds

__all__ = ["instance_args", "main"]

FIRST_ID = 3_100_000_000
CHAT = "79001234567@c.us"
MESSAGE = "Order #42 is ready for pick-up"


def instance_args(k: int) -> dict[str, str]:
    """Instance k's credentials: its own id and a 50-character token, as Green API's."""
    return {"idInstance": str(FIRST_ID + k), "apiTokenInstance": f"{k:010d}" + "7d3a9c41" * 5}


def rss_mb() -> float:
    """Resident set size now (not the peak), in MB."""
    with open("/proc/self/statm", encoding="ascii") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def open_sockets() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # closed since listed
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    return count


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))


def _imported() -> float:
    """Imports what a block's first async call imports, then the RSS: the baseline of growth."""
    import aiohttp  # noqa: F401
    import httpx_aiohttp.transport  # noqa: F401

    import green_api_block
    from green_api_block.block import _rt

    green_api_block.GreenApiBlock("http://127.0.0.1:1", credentials_from_env=False)
    _rt()
    gc.collect()
    return rss_mb()


def _block(url: str) -> Any:
    from green_api_block import GreenApiBlock

    # The limiter spaces each instance to Green API's rates on purpose; not what is measured.
    return GreenApiBlock(url, credentials_from_env=False, rate_limits=False)


async def sends(url: str, n: int, total: int, concurrency: int) -> dict[str, Any]:
    rss0 = _imported()
    block = _block(url)
    args = [{**instance_args(k), "chatId": CHAT, "message": MESSAGE} for k in range(n)]
    turn = 0

    async def drive(calls: int) -> None:
        nonlocal turn
        left = calls

        async def worker() -> None:
            nonlocal left, turn
            while left > 0:
                left -= 1
                k, turn = turn % n, turn + 1
                out = await block.aexecute("green_api_send_message", args[k])
                if not out.get("success"):
                    raise RuntimeError(f"unexpected answer: {out!r}")

        await asyncio.gather(*(worker() for _ in range(min(concurrency, calls))))

    try:
        await drive(concurrency)  # opens the pool's connections
        gc.collect()
        cpu, start = cpu_seconds(), time.perf_counter()
        await drive(total)
        wall = time.perf_counter() - start
        cpu_us = (cpu_seconds() - cpu) / total * 1e6
        sockets, rss = open_sockets(), rss_mb()
    finally:
        await block.aclose()
    return {
        "rate": total / wall,
        "cpu_us": cpu_us,
        "rss_mb": rss,
        "rss_growth_mb": rss - rss0,
        "sockets": sockets,
    }


async def polls(url: str, n: int, seconds: float) -> dict[str, Any]:
    rss0 = _imported()
    block = _block(url)
    args = [{**instance_args(k), "receiveTimeout": 5, "maxNotifications": 1} for k in range(n)]
    calls = notifications = errors = 0
    up: set[int] = set()

    async def poll(k: int) -> None:
        nonlocal calls, notifications, errors
        while True:
            up.add(k)
            out = await block.ainvoke("green_api_get_notifications", args[k])
            calls += 1
            if out["ok"]:
                notifications += len(out["output"]["notifications"])
            else:
                errors += 1

    tasks = [asyncio.ensure_future(poll(k)) for k in range(n)]
    try:
        while len(up) < n:  # every poll sent once (each holds a connection from then on)
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        gc.collect()
        calls0, notes0 = calls, notifications
        cpu, start = cpu_seconds(), time.perf_counter()
        await asyncio.sleep(seconds / 2)
        sockets = open_sockets()
        await asyncio.sleep(seconds / 2)
        wall = time.perf_counter() - start
        cpu_s = cpu_seconds() - cpu
        rss = rss_mb()
        calls_in, notes_in = calls - calls0, notifications - notes0
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await block.aclose()
    return {
        "seconds": wall,
        "calls_per_s": calls_in / wall,
        "notifications": notes_in,
        "errors": errors,
        "cpu_s": cpu_s,
        "cpu_s_per_idle_minute": cpu_s / wall * 60,
        "core_share_per_instance": cpu_s / wall / n,
        "rss_mb": rss,
        "rss_growth_mb": rss - rss0,
        "sockets": sockets,
    }


def tokens(count: int) -> dict[str, Any]:
    from green_api_block import GreenApiBlock, redact

    creds = [instance_args(k) for k in range(count)]
    start = time.perf_counter()
    for c in creds:
        GreenApiBlock(
            "http://127.0.0.1:1",
            id_instance=c["idInstance"],
            api_token=c["apiTokenInstance"],
            credentials_from_env=False,
        )
    construct = time.perf_counter() - start
    unbound = [f"u{k:09d}" + "5e8f0b2c" * 5 for k in range(count)]
    start = time.perf_counter()
    for token in unbound:
        with redact.in_flight(token):
            pass
    in_flight = time.perf_counter() - start
    text = '{"message":"Unauthorized: token ' + creds[count // 2]["apiTokenInstance"] + ' is not valid"}' * 3
    start = time.perf_counter()
    for _ in range(100):
        masked = redact.redact(text)
    mask_us = (time.perf_counter() - start) / 100 * 1e6
    assert creds[count // 2]["apiTokenInstance"] not in masked
    return {
        "count": count,
        "construct_s": construct,
        "in_flight_s": in_flight,
        "mask_us": mask_us,
        "mask_chars": len(text),
        "held": redact.held_secrets(),
    }


def main(argv: list[str]) -> None:
    _raise_fd_limit()
    mode = argv[0]
    if mode == "sends":
        result = asyncio.run(sends(argv[1], int(argv[2]), int(argv[3]), int(argv[4])))
    elif mode == "polls":
        result = asyncio.run(polls(argv[1], int(argv[2]), float(argv[3])))
    elif mode == "tokens":
        result = tokens(int(argv[1]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
