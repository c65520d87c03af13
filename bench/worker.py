"""One timed run of one client, in a fresh process.

``python -m bench.worker MODE NAME URL ID TOKEN N CONCURRENCY WARMUP [CPU|-]``: MODE is ``sync``
or ``async``; prints ``{"rate": ..., "cpu_us": ...}``. A fresh process per run keeps one client's
leftovers (the SDK's closed sessions and logger handlers, a heap grown by another client, garbage
waiting for the collector) out of the next client's figures, and gives every client the same
start: only its own imports loaded.
"""

from __future__ import annotations

import json
import sys

from .clients import ASYNC_CLIENTS, SYNC_CLIENTS, Target
from .harness import pin_to_cpu, time_async, time_sync


def main(argv: list[str] | None = None) -> None:
    mode, name, url, id_instance, token, n, concurrency, warmup, *rest = argv or sys.argv[1:]
    if rest and rest[0] != "-":
        pin_to_cpu(int(rest[0]))
    target = Target(url, id_instance, token)
    if mode == "sync":
        call, close = SYNC_CLIENTS[name](target)
        try:
            timing = time_sync(call, int(n), int(warmup))
        finally:
            close()
    else:
        timing = time_async(lambda: ASYNC_CLIENTS[name](target), int(n), int(concurrency), int(warmup))
    print(json.dumps({"rate": timing.rate, "cpu_us": timing.cpu_us}))


if __name__ == "__main__":
    main()
