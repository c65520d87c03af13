"""Draining a queue of notifications (receive + delete each), in a fresh process per run.

``python -m bench.drain {block|raw} URL ID TOKEN N`` drains N queued notifications and prints one
JSON line: ``{"client", "drained", "seconds", "rate", "rss_growth_mb"}``.

* ``block``: ``aexecute("green_api_get_notifications", {"maxNotifications": 100})`` until N were
  handed back (each call: up to 100 receive + delete pairs, in order).
* ``raw``: one shared ``aiohttp.ClientSession`` making the same GET receiveNotification and
  DELETE deleteNotification/{receiptId} requests, with the same headers, one after the other.

A fresh process per run, so that the peak RSS measured is this drain's: the peak is reset
(``/proc/self/clear_refs``) after imports and one warm-up call, and the growth is the peak during
the drain minus the resident size just before it. Notifications are counted, not kept (a
consumer handles each and lets it go); both clients decode every body.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from typing import Any

from .clients import JSON_HEADERS, Target, _block

__all__ = ["drain_block", "drain_raw", "main"]

BATCH = 100


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset VmHWM (the peak RSS) to the current RSS; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


class RssWatch:
    """Peak RSS growth, in MB, and the time, from :meth:`start` on."""

    exact = False
    t0 = cpu0 = cpu = 0.0
    seconds = 0.0
    growth = 0.0

    def start(self) -> None:
        self.cpu0 = _cpu()
        self.t0 = time.perf_counter()
        self.exact = _reset_peak()
        self.before_kb = _status_kb("VmRSS") or 0
        self.maxrss_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def stop(self) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.cpu = _cpu() - self.cpu0
        self.growth = self._growth_mb()

    def _growth_mb(self) -> float:
        if self.exact:
            peak = _status_kb("VmHWM") or 0
        else:  # the lifetime peak: a growth above the earlier peak only
            peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, self.maxrss_before_kb)
        return max(peak - self.before_kb, 0) / 1024


async def drain_block(target: Target, n: int, watch: RssWatch) -> int:
    block = _block(target)
    try:
        await block.aexecute("green_api_get_state_instance", {})  # loads models, opens the pool
        watch.start()
        drained = 0
        while drained < n:
            out = await block.aexecute(
                "green_api_get_notifications", {"maxNotifications": BATCH, "receiveTimeout": 5}
            )
            got = len(out["notifications"])
            if not got:
                break
            drained += got
        watch.stop()
        return drained
    finally:
        await block.aclose()


async def drain_raw(target: Target, n: int, watch: RssWatch) -> int:
    import aiohttp

    base = f"{target.url}/waInstance{target.id_instance}"
    receive = f"{base}/receiveNotification/{target.api_token}?receiveTimeout=5"
    delete = f"{base}/deleteNotification/{target.api_token}/"
    async with aiohttp.ClientSession(headers=JSON_HEADERS) as session:
        async with session.get(f"{base}/getStateInstance/{target.api_token}") as response:
            json.loads(await response.read())
        watch.start()
        drained = 0
        while drained < n:
            async with session.get(receive) as response:
                response.raise_for_status()
                body: Any = json.loads(await response.read())
            if body is None:
                break
            async with session.delete(f"{delete}{body['receiptId']}") as response:
                response.raise_for_status()
                json.loads(await response.read())
            drained += 1
        watch.stop()
        return drained


def main(argv: list[str] | None = None) -> None:
    client, url, id_instance, token, count = (argv or sys.argv[1:])[:5]
    target, n = Target(url, id_instance, token), int(count)
    watch = RssWatch()
    run = drain_block if client == "block" else drain_raw

    drained = asyncio.run(run(target, n, watch))
    seconds = watch.seconds
    print(
        json.dumps(
            {
                "client": client,
                "drained": drained,
                "seconds": seconds,
                "rate": drained / seconds if seconds else 0.0,
                "cpu_us_per_notification": watch.cpu / drained * 1e6 if drained else 0.0,
                "rss_growth_mb": watch.growth,
                "rss_exact": watch.exact,
            }
        )
    )


if __name__ == "__main__":
    main()
