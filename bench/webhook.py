"""``python -m bench.webhook``: pushes received per second, ours against the official receiver.

Each round starts each receiver in its own process, on 127.0.0.1, and drives it from a separate
load-generator process (aiohttp, keep-alive, ``--concurrency`` connections) with the same
notification bodies (distinct idMessages, so de-duplication drops none):

* ``block``: :class:`~green_api_block.webhook.WebhookReceiver` under uvicorn (httptools and
  uvloop when installed) with the Bearer check, de-duplication and the event model on, and a
  no-op async handler;
* ``official``: green-api's ``whatsapp-api-webhook-server-python`` (tornado), driven as
  documented (``startServer(host, port, onEvent)``), never copied: no token check, no
  de-duplication, a 200 whatever happened;
* ``block --json``: the CLI's ``webhook serve --json``, every event printed to a pipe this
  process reads.

A round's ratio is block/official measured in that round; the table quotes the median over the
rounds (the order rotates each round), with p50/p99 time to the 200 seen by the load generator.
Options: ``--events``, ``--concurrency``, ``--rounds``, ``--quick``, ``--json PATH``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python bench/webhook.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "bench"

__all__ = ["main"]

TOKEN = "benchT0ken-0123456789abcdefghijklmnopqrstuvw"
RECEIVERS = ("block", "official", "block --json")
TARGET = 1.2


def _body(run: str, i: int) -> bytes:
    body = {
        "typeWebhook": "incomingMessageReceived",
        "instanceData": {"idInstance": 1101000001, "wid": "79000000000@c.us", "typeInstance": "whatsapp"},
        "timestamp": 1700000000 + i,
        "idMessage": f"{run}-{i:08d}",
        "senderData": {
            "chatId": f"7900{i % 1000:07d}@c.us",
            "chatName": "Ann",
            "sender": f"7900{i % 1000:07d}@c.us",
            "senderName": "Ann",
        },
        "messageData": {"typeMessage": "textMessage", "textMessageData": {"textMessage": f"order {i}"}},
    }
    return json.dumps(body).encode()


# ------------------------------------------------------------------------------ the servers


def _serve_block(port: int) -> None:
    import uvicorn

    from green_api_block.events import Event
    from green_api_block.webhook import WebhookReceiver

    async def noop(event: Event) -> None:
        return None

    app = WebhookReceiver(noop, token=TOKEN)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on")


def _serve_official(port: int) -> None:
    from whatsapp_api_webhook_server_python.webhooksHandler import startServer  # type: ignore[import-untyped]

    # The library stores the callback on its handler class and calls it as a method:
    # (handler, webhookType, body).
    def on_event(*args: Any) -> None:
        return None

    startServer("127.0.0.1", port, on_event)


# ------------------------------------------------------------------------------ the load


async def _load(url: str, run: str, n: int, concurrency: int, warmup: int) -> dict[str, Any]:
    import aiohttp

    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    latencies: list[float] = []
    errors = 0
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def drive(bodies: list[bytes], record: bool) -> None:
            nonlocal errors
            it = iter(bodies)

            async def worker() -> None:
                nonlocal errors
                for body in it:
                    start = time.perf_counter()
                    async with session.post(url, data=body) as r:
                        await r.read()
                        if r.status != 200:
                            errors += 1
                    if record:
                        latencies.append(time.perf_counter() - start)

            await asyncio.gather(*(worker() for _ in range(concurrency)))

        await drive([_body(run + "w", i) for i in range(warmup)], record=False)
        bodies = [_body(run, i) for i in range(n)]
        start = time.perf_counter()
        await drive(bodies, record=True)
        wall = time.perf_counter() - start
    latencies.sort()
    return {
        "rate": n / wall,
        "p50_ms": statistics.median(latencies) * 1e3,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1e3,
        "errors": errors,
    }


# ------------------------------------------------------------------------------ one measurement


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, proc: subprocess.Popen[Any], limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the receiver exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the receiver did not start listening")


def _root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _start(name: str, port: int, token_file: Path) -> tuple[subprocess.Popen[bytes], threading.Thread | None]:
    env = {**os.environ, "PYTHONPATH": _root()}
    if name == "block --json":
        cmd = [sys.executable, "-m", "green_api_block", "webhook", "serve", "--json", "--port", str(port)]
        cmd += ["--webhook-token-file", str(token_file)]
        proc = subprocess.Popen(cmd, env=env, cwd=_root(), stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        assert proc.stdout is not None
        out = proc.stdout

        def drain() -> None:  # a reader on the pipe, as a consumer of the stream would be
            while out.read(65536):
                pass

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        return proc, reader
    mode = {"block": "_serve_block", "official": "_serve_official"}[name]
    cmd = [sys.executable, "-m", "bench.webhook", mode, str(port)]
    return subprocess.Popen(cmd, env=env, cwd=_root(), stdin=subprocess.DEVNULL), None


def _measure(name: str, run: str, n: int, concurrency: int, warmup: int, token_file: Path) -> dict[str, Any]:
    port = _free_port()
    proc, reader = _start(name, port, token_file)
    try:
        _wait_listening(port, proc)
        url = f"http://127.0.0.1:{port}/"
        cmd = [
            sys.executable,
            "-m",
            "bench.webhook",
            "_load",
            url,
            run,
            str(n),
            str(concurrency),
            str(warmup),
        ]
        done = subprocess.run(cmd, cwd=_root(), capture_output=True, text=True, check=True, timeout=600)
        return dict(json.loads(done.stdout))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if reader is not None:
            reader.join(timeout=5)


@dataclass
class Results:
    runs: dict[str, list[dict[str, Any]]]

    def median(self, name: str, key: str) -> float:
        return float(statistics.median(r[key] for r in self.runs[name]))

    def ratio(self, a: str, b: str) -> float:
        pairs = zip(self.runs[a], self.runs[b], strict=True)
        return float(statistics.median(x["rate"] / y["rate"] for x, y in pairs))


def _table(res: Results, concurrency: int) -> str:
    def cell(name: str) -> str:
        return (
            f"{res.median(name, 'rate'):,.0f} events/s (p50 {res.median(name, 'p50_ms'):.1f} ms, "
            f"p99 {res.median(name, 'p99_ms'):.1f} ms)"
        )

    ratio = res.ratio("block", "official")
    sink = res.ratio("block --json", "official")
    lines = [
        "| figure | block | baseline (same run) | ratio (median) | target | met |",
        "|---|---|---|---|---|---|",
        f"| webhook pushes received, concurrency {concurrency}, keep-alive | {cell('block')} | "
        f"{cell('official')} (official, tornado) | {ratio:.2f}x | >= {TARGET}x | "
        f"{'yes' if ratio >= TARGET else '**no**'} |",
        f"| the same with `webhook serve --json` printing to a pipe | {cell('block --json')} | "
        f"{cell('official')} (official, tornado) | {sink:.2f}x | | |",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_serve_block":
        _serve_block(int(argv[1]))
        return 0
    if argv and argv[0] == "_serve_official":
        _serve_official(int(argv[1]))
        return 0
    if argv and argv[0] == "_load":
        url, run, n, conc, warm = argv[1:6]
        print(json.dumps(asyncio.run(_load(url, run, int(n), int(conc), int(warm)))))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.webhook", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000, help="timed pushes per run (default 20000)")
    parser.add_argument("--concurrency", type=int, default=32, help="connections (default 32)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--quick", action="store_true", help="tiny counts: checks that everything runs")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    events, rounds, warmup = (300, 1, 50) if args.quick else (args.events, args.rounds, 1000)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in RECEIVERS}
    with tempfile.TemporaryDirectory() as tmp:
        token_file = Path(tmp) / "webhook-token"
        token_file.write_text(TOKEN + "\n")
        token_file.chmod(0o600)
        names = list(RECEIVERS)
        for r in range(rounds):
            shift = r % len(names)
            for name in names[shift:] + names[:shift]:
                run = f"r{r}{name.replace(' ', '').replace('-', '')}"
                result = _measure(name, run, events, args.concurrency, warmup, token_file)
                runs[name].append(result)
                print(f"round {r + 1}/{rounds} {name}: {result['rate']:,.0f}/s", file=sys.stderr, flush=True)
    res = Results(runs)
    print(_table(res, args.concurrency))
    if args.json:
        data = {
            "events": events,
            "concurrency": args.concurrency,
            "rounds": rounds,
            "runs": runs,
            "ratio": res.ratio("block", "official"),
            "ratio_json_sink": res.ratio("block --json", "official"),
        }
        Path(args.json).write_text(json.dumps(data, indent=2), encoding="utf-8")
    errors = sum(r["errors"] for rs in runs.values() for r in rs)
    if errors:
        print(f"{errors} pushes were not answered 200", file=sys.stderr)
        return 1
    return 0 if args.quick or res.ratio("block", "official") >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
