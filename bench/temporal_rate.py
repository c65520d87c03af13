"""``python -m bench.temporal_rate``: a burst for one instance across two send-worker processes,
by queue rate and by partition count, with the sandbox's 429s counted where it decides them.

The same burst as ``tests/temporal/test_send_queues.py`` (two real worker processes, each with
the block's own limiter; the sandbox's limiter on), repeated for each ``--rates`` value (0: no
queue limit) on a dev server with the default task-queue partitions and on one started with a
single partition (``matching.numTaskqueueRead/WritePartitions=1``). Prints one JSON line a run.
Options: ``--sends`` (default 300), ``--rates`` (default ``40,45,50,0``), ``--partitions``
(``default``, ``one`` or ``both``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence

if __package__ in (None, ""):  # run as a script: python bench/temporal_rate.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "bench"

__all__ = ["main"]

ONE_PARTITION = (
    "--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
    "--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
)  # fmt: skip


class _Server:
    """``temporal server start-dev`` with extra flags (the test helper takes none)."""

    def __init__(self, extra: Sequence[str]) -> None:
        from tests.support.temporal_server import _free_port, temporal_binary

        port = _free_port()
        self.address = f"127.0.0.1:{port}"
        cmd = [
            temporal_binary(), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
            "--port", str(port), "--log-level", "error", "--metrics-port", str(_free_port()), *extra,
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)


async def _runs(layout: str, sends: int, rates: Sequence[float]) -> None:
    from green_api_block.sandbox import Sandbox
    from tests.support.credentials import CANARY
    from tests.temporal.conftest import connect
    from tests.temporal.test_send_queues import _burst

    server = _Server(ONE_PARTITION if layout == "one" else ())
    try:
        client = await connect(server.address)
        with Sandbox(rate_limits=True) as sb:
            inst = sb.create_instance(api_token=CANARY)
            for rate in rates:
                figures = await _burst(server.address, client, sb, inst, sends, rate or None)
                print(json.dumps({"partitions": layout, **figures}), flush=True)
        del client
        gc.collect()  # a live temporalio client at exit can abort the process (ENGINES.md §1)
    finally:
        server.close()


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.temporal_rate")
    p.add_argument("--sends", type=int, default=300)
    p.add_argument("--rates", default="40,45,50,0", help="queue rates per run; 0: no queue limit")
    p.add_argument("--partitions", choices=("default", "one", "both"), default="both")
    args = p.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",")]
    layouts = ("default", "one") if args.partitions == "both" else (args.partitions,)
    for layout in layouts:
        asyncio.run(_runs(layout, args.sends, rates))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
