"""The benchmark: ``python -m bench`` (or ``python bench/run.py``) prints the results table.

Every figure runs its clients side by side, interleaved round by round (the order rotates each
round), each run in a fresh process (bench/worker.py), against the same local server in another
process; a round's ratio is block/baseline
measured in that round, and the table quotes the median of the rounds. Rates are wall-clock calls
per second; the CPU column (client-process CPU µs per call) is less sensitive to a noisy machine.

Options: ``--rounds``, ``--quick`` (tiny counts: a smoke run), ``--server loopback|sandbox``,
``--only sync,async32,async128,drain,percall,import,instances``, ``--json PATH``, ``--pin``
(server on the last CPU, client on the first); for ``instances`` (one block, many instances:
bench/instances.py), ``--instances 10,100,1000`` and ``--poll-seconds`` (30; 1 with --quick).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

if __package__ in (None, ""):  # run as a script: python bench/run.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "bench"

from .clients import Target
from .harness import Timing, median
from .server import ServerProcess

__all__ = ["main"]

FIGURES = ("sync", "async32", "async128", "drain", "percall", "import", "instances")


@dataclass
class Counts:
    sync_calls: int = 2000
    async_calls: int = 4000
    drain_notifications: int = 10_000
    percall_calls: int = 5000
    import_runs: int = 21
    warmup: int = 100
    instances: tuple[int, ...] = (10, 100, 1000)
    instance_sends: int = 3000
    instance_concurrency: int = 200
    poll_seconds: float = 30.0
    tokens: int = 10_000

    @classmethod
    def quick(cls) -> Counts:
        return cls(
            sync_calls=40,
            async_calls=80,
            drain_notifications=200,
            percall_calls=200,
            import_runs=3,
            warmup=5,
            instances=(10, 100),
            instance_sends=300,
            instance_concurrency=50,
            poll_seconds=1.0,
            tokens=1000,
        )


@dataclass
class Row:
    figure: str
    block: str
    baseline: str
    ratio: float | None
    target: str
    met: bool | None
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def _machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = {}
    for dist in ("httpx", "aiohttp", "httpcore", "pydantic", "whatsapp-api-client-python"):
        try:
            from importlib.metadata import version

            versions[dist] = version(dist)
        except Exception:
            versions[dist] = "?"
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
        "libs": ", ".join(f"{k} {v}" for k, v in versions.items()),
    }


def _rounds_of(names: list[str], rounds: int, measure: Callable[[str], Timing]) -> dict[str, list[Timing]]:
    """Each client once per round; the order rotates so that no client always goes first."""
    out: dict[str, list[Timing]] = {name: [] for name in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            out[name].append(measure(name))
    return out


def _ratio(results: dict[str, list[Timing]], a: str, b: str) -> float:
    return median([x.rate / y.rate for x, y in zip(results[a], results[b], strict=True)])


def _rate(results: dict[str, list[Timing]], name: str) -> str:
    timings = results[name]
    return f"{median([t.rate for t in timings]):,.0f}/s ({median([t.cpu_us for t in timings]):.0f} µs CPU)"


def _summary(results: dict[str, list[Timing]]) -> dict[str, Any]:
    return {
        name: {
            "rates": [round(t.rate, 1) for t in timings],
            "cpu_us": [round(t.cpu_us, 1) for t in timings],
            "median_rate": median([t.rate for t in timings]),
            "median_cpu_us": median([t.cpu_us for t in timings]),
        }
        for name, timings in results.items()
    }


def _root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _in_worker(
    mode: str, name: str, target: Target, n: int, concurrency: int, warmup: int, cpu: int | None
) -> Timing:
    """One timed run of one client in a fresh process (see worker.py)."""
    cmd = [sys.executable, "-m", "bench.worker", mode, name, target.url, target.id_instance, target.api_token]
    cmd += [str(n), str(concurrency), str(warmup), "-" if cpu is None else str(cpu)]
    done = subprocess.run(cmd, cwd=_root(), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} {name} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return Timing(result["rate"], result["cpu_us"])


def figure_sync(target: Target, counts: Counts, rounds: int, cpu: int | None) -> list[Row]:
    def measure(name: str) -> Timing:
        return _in_worker("sync", name, target, counts.sync_calls, 1, counts.warmup, cpu)

    res = _rounds_of(["block", "httpx", "sdk"], rounds, measure)
    data = _summary(res)
    r1, r2 = _ratio(res, "block", "httpx"), _ratio(res, "block", "sdk")
    return [
        Row(
            "sync `execute(send_message)` calls/s",
            _rate(res, "block"),
            "raw `httpx.Client` keep-alive: " + _rate(res, "httpx"),
            r1,
            ">= 0.90x",
            r1 >= 0.90,
            data=data,
        ),
        Row(
            "sync calls/s vs official SDK",
            _rate(res, "block"),
            "SDK `sending.sendMessage`: " + _rate(res, "sdk"),
            r2,
            ">= 1.8x",
            r2 >= 1.8,
        ),
    ]


def figure_async(target: Target, counts: Counts, rounds: int, concurrency: int, cpu: int | None) -> list[Row]:
    names = ["block", "aiohttp", "sdk"] if concurrency == 32 else ["block", "sdk", "aiohttp"]
    references = ["httpx", "block-httpcore"] if concurrency == 32 else []

    def measure(name: str) -> Timing:
        n = counts.async_calls
        if name in ("httpx", "block-httpcore"):
            n = max(n // 8, 1)  # over ten times slower: fewer calls, same conclusion
        warmup = max(counts.warmup, concurrency)
        return _in_worker("async", name, target, n, concurrency, warmup, cpu)

    res = _rounds_of(names + references, rounds, measure)
    data = _summary(res)
    rows = []
    r_sdk = _ratio(res, "block", "sdk")
    rows.append(
        Row(
            f"async `aexecute` calls/s, concurrency {concurrency}, vs official SDK",
            _rate(res, "block"),
            "SDK `sendMessageAsync`: " + _rate(res, "sdk"),
            r_sdk,
            ">= 1.5x",
            r_sdk >= 1.5,
            data=data,
        )
    )
    r_aio = _ratio(res, "block", "aiohttp")
    if concurrency == 32:
        rows.append(
            Row(
                "async calls/s, concurrency 32, vs one shared aiohttp session",
                _rate(res, "block"),
                "`aiohttp.ClientSession`: " + _rate(res, "aiohttp"),
                r_aio,
                ">= 0.8x",
                r_aio >= 0.8,
            )
        )
        for ref, label in (
            ("httpx", "plain `httpx.AsyncClient` (httpcore pool)"),
            ("block-httpcore", 'the block with `async_transport="httpcore"`'),
        ):
            rows.append(
                Row(
                    f"reference: {label}, concurrency 32",
                    _rate(res, ref),
                    "`aiohttp.ClientSession`: " + _rate(res, "aiohttp"),
                    _ratio(res, ref, "aiohttp"),
                    "(why aiohttp carries the async path)",
                    None,
                )
            )
    else:
        rows.append(
            Row(
                "reference: async calls/s, concurrency 128, vs one shared aiohttp session",
                _rate(res, "block"),
                "`aiohttp.ClientSession`: " + _rate(res, "aiohttp"),
                r_aio,
                "(no target)",
                None,
            )
        )
    return rows


def figure_drain(server: ServerProcess, counts: Counts, rounds: int) -> list[Row]:
    n = counts.drain_notifications
    root = _root()
    runs: dict[str, list[dict[str, Any]]] = {"block": [], "raw": []}
    for r in range(rounds):
        for client in ("block", "raw") if r % 2 == 0 else ("raw", "block"):
            server.inject(n)
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.drain",
                    client,
                    server.url,
                    server.id_instance,
                    server.api_token,
                    str(n),
                ],
                cwd=root,
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(done.stdout.strip().splitlines()[-1])
            if result["drained"] != n:
                raise RuntimeError(f"{client} drained {result['drained']} of {n}")
            runs[client].append(result)
    ratio = median([b["rate"] / a["rate"] for b, a in zip(runs["block"], runs["raw"], strict=True)])
    growth = max(x["rss_growth_mb"] for x in runs["block"])
    rate_b = median([x["rate"] for x in runs["block"]])
    rate_r = median([x["rate"] for x in runs["raw"]])
    cpu_b = median([x["cpu_us_per_notification"] for x in runs["block"]])
    cpu_r = median([x["cpu_us_per_notification"] for x in runs["raw"]])
    return [
        Row(
            f"draining {n:,} notifications (receive + delete), notifications/s",
            f"{rate_b:,.0f}/s ({cpu_b:.0f} µs CPU), peak RSS growth {growth:.1f} MB (max of runs)",
            f"raw `aiohttp.ClientSession`: {rate_r:,.0f}/s ({cpu_r:.0f} µs CPU), RSS growth "
            f"{max(x['rss_growth_mb'] for x in runs['raw']):.1f} MB",
            ratio,
            ">= 0.85x; RSS growth < 20 MB",
            ratio >= 0.85 and growth < 20,
            data=runs,
        )
    ]


def figure_percall(counts: Counts) -> list[Row]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.percall", str(counts.percall_calls)],
        cwd=_root(),
        capture_output=True,
        text=True,
        check=True,
    )
    m = json.loads(done.stdout.strip().splitlines()[-1])
    own = m["block_own_us"]
    parts = ", ".join(
        f"{label} {m[key]:.0f}"
        for key, label in (
            ("validation_us", "validation"),
            ("request_building_us", "request building"),
            ("response_mapping_us", "response mapping"),
        )
        if key in m
    )
    return [
        Row(
            "per call, in-process transport: `execute` vs raw `httpx.Client` on the same transport",
            f"{m['block_us']:.0f} µs/call",
            f"raw `httpx.Client`: {m['httpx_client_us']:.0f} µs/call",
            m["block_us"] / m["httpx_client_us"],
            "block adds < 60 µs",
            m["block_us"] - m["httpx_client_us"] < 60,
            note=f"adds {m['block_us'] - m['httpx_client_us']:+.0f} µs",
            data=m,
        ),
        Row(
            "block's own work per call: everything but the transport (validation, request building, "
            "the httpx request for the transport, response mapping)",
            f"{own:.0f} µs/call" + (f" (in isolation: {parts})" if parts else ""),
            f"the in-process transport alone: {m['transport_us']:.0f} µs/call "
            f"(block + transport: {m['block_us']:.0f})",
            None,
            "< 60 µs",
            own < 60,
        ),
    ]


def figure_import(counts: Counts) -> list[Row]:
    from .imports import measure_imports

    m = measure_imports(counts.import_runs)
    note = f"eagerly imported heavy modules: {m['eager_heavy_modules'] or 'none'}"
    return [
        Row(
            '`python -c "import green_api_block"` (process wall time)',
            f"{m['block_ms']:.0f} ms (import alone: {m['block_importtime_ms']:.0f} ms)",
            f'`python -c "import httpx"`: {m["httpx_ms"]:.0f} ms '
            f"(import alone: {m['httpx_importtime_ms']:.0f} ms)",
            m["ratio"],
            "<= 2.0x",
            m["ratio"] <= 2.0,
            note=note,
            data=m,
        )
    ]


def _instances_run(args: list[str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.instances", *args], cwd=_root(), capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"instances {args[0]} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def figure_instances(counts: Counts, rounds: int, trickle: float = 5.0) -> list[Row]:
    """One block, unbound credentials, N instances: sends spread over all, then all long-polled.

    Against the minimal loopback server holding empty polls (``--hold``), with a queue per
    instance; the bench's sandbox server has one instance and answers empty polls at once.
    """
    ns = list(counts.instances)
    conc = counts.instance_concurrency
    rows: list[Row] = []
    with ServerProcess("loopback", hold=True) as server:
        sends: dict[int, list[dict[str, Any]]] = {n: [] for n in ns}
        for r in range(rounds):
            shift = r % len(ns)
            for n in ns[shift:] + ns[:shift]:
                sends[n].append(
                    _instances_run(["sends", server.url, str(n), str(counts.instance_sends), str(conc)])
                )
        server.command(f"trickle {trickle}")
        polls = {n: _instances_run(["polls", server.url, str(n), str(counts.poll_seconds)]) for n in ns}
        server.command("trickle 0")
    tokens = _instances_run(["tokens", str(counts.tokens)])

    base, top = ns[0], ns[-1]
    rate = {n: median([x["rate"] for x in sends[n]]) for n in ns}
    for n in ns:
        ratio = median([x["rate"] / b["rate"] for x, b in zip(sends[n], sends[base], strict=True)])
        last = n == top and n != base
        rows.append(
            Row(
                f"async sends/s, one block, unbound credentials, concurrency {conc}, "
                f"{counts.instance_sends:,} sends over {n:,} instances",
                f"{rate[n]:,.0f}/s ({median([x['cpu_us'] for x in sends[n]]):.0f} µs CPU), "
                f"RSS {max(x['rss_mb'] for x in sends[n]):.1f} MB, "
                f"{max(x['sockets'] for x in sends[n])} sockets",
                f"the same over {base:,} instances: {rate[base]:,.0f}/s",
                ratio,
                ">= 0.8x" if last else "",
                (ratio >= 0.8) if last else None,
                data={"runs": sends[n]},
            )
        )
    for n in ns:
        p = polls[n]
        rows.append(
            Row(
                f"{n:,} instances long-polled at once (receiveTimeout 5, held by the server), "
                f"{p['seconds']:.0f} s, {trickle:g} notifications/s trickling in",
                f"{p['calls_per_s']:,.1f} calls/s, {p['notifications']} notifications, {p['errors']} errors; "
                f"{p['cpu_s_per_idle_minute']:.2f} CPU s per minute "
                f"({p['core_share_per_instance'] * 100:.4f}% of a core per instance), "
                f"RSS {p['rss_mb']:.1f} MB, {p['sockets']} sockets",
                "",
                None,
                "< 0.1% of a core per instance",
                p["core_share_per_instance"] < 0.001,
                data=p,
            )
        )
    if top != base:
        span = top - base
        send_kb = (max(x["rss_mb"] for x in sends[top]) - max(x["rss_mb"] for x in sends[base])) * 1000 / span
        poll_kb = (polls[top]["rss_mb"] - polls[base]["rss_mb"]) * 1000 / span
        rows.append(
            Row(
                f"growth from {base:,} to {top:,} instances, per added instance",
                f"RSS: sends {send_kb:+.1f} KB, long polls {poll_kb:+.1f} KB; "
                f"sockets while polling: {polls[base]['sockets']} -> {polls[top]['sockets']}; "
                f"CPU s per idle minute: {polls[base]['cpu_s_per_idle_minute']:.2f} -> "
                f"{polls[top]['cpu_s_per_idle_minute']:.2f}; sends/s: {rate[base]:,.0f} -> {rate[top]:,.0f}",
                "",
                None,
                "RSS < 20 KB per instance",
                max(send_kb, poll_kb) < 20,
            )
        )
    total = tokens["construct_s"] + tokens["in_flight_s"]
    rows.append(
        Row(
            f"registering {tokens['count']:,} distinct tokens",
            f"{tokens['construct_s']:.2f} s constructing {tokens['count']:,} blocks with bound tokens "
            f"+ {tokens['in_flight_s']:.2f} s for {tokens['count']:,} calls' in-flight tokens; "
            f"masking {tokens['mask_chars']} chars with {tokens['held']:,} held: {tokens['mask_us']:.0f} µs",
            "",
            None,
            "< 1 s in total",
            total < 1.0,
            data=tokens,
        )
    )
    return rows


def _table(rows: list[Row]) -> str:
    lines = [
        "| figure | block | baseline (same run) | ratio (median) | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}x"
        met = "" if r.met is None else ("yes" if r.met else "**no**")
        block = r.block + (f"; {r.note}" if r.note else "")
        lines.append(f"| {r.figure} | {block} | {r.baseline} | {ratio} | {r.target} | {met} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=None, help="rounds per figure (default 5)")
    parser.add_argument("--quick", action="store_true", help="tiny counts: checks that everything runs")
    parser.add_argument("--server", choices=["loopback", "sandbox"], default="loopback")
    parser.add_argument("--only", default=",".join(FIGURES), help="comma-separated: " + ",".join(FIGURES))
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--pin", action="store_true", help="pin the server and the client to one CPU each")
    parser.add_argument("--instances", help="instances: the counts of instances (default 10,100,1000)")
    parser.add_argument("--poll-seconds", type=float, help="instances: seconds of long polling (30)")
    args = parser.parse_args(argv)

    only = [f.strip() for f in args.only.split(",") if f.strip()]
    unknown = set(only) - set(FIGURES)
    if unknown:
        parser.error(f"unknown figures: {', '.join(sorted(unknown))}")
    counts = Counts.quick() if args.quick else Counts()
    if args.instances:
        counts.instances = tuple(int(n) for n in args.instances.split(","))
    if args.poll_seconds:
        counts.poll_seconds = args.poll_seconds
    rounds = args.rounds or (1 if args.quick else 5)
    drain_rounds = args.rounds or (1 if args.quick else 5)
    cpus = os.cpu_count() or 1
    server_cpu = cpus - 1 if args.pin and cpus > 1 else None

    machine = _machine()
    rows: list[Row] = []
    network = [f for f in only if f in ("sync", "async32", "async128", "drain")]
    if network:
        with ServerProcess(args.server, cpu=server_cpu) as server:
            client_cpu = 0 if server_cpu is not None else None
            target = Target(server.url, server.id_instance, server.api_token)
            for fig in network:
                print(f"... {fig}", file=sys.stderr, flush=True)
                if fig == "sync":
                    rows += figure_sync(target, counts, rounds, client_cpu)
                elif fig == "async32":
                    rows += figure_async(target, counts, rounds, 32, client_cpu)
                elif fig == "async128":
                    rows += figure_async(target, counts, rounds, 128, client_cpu)
                else:
                    rows += figure_drain(server, counts, drain_rounds)
    if "percall" in only:
        print("... percall", file=sys.stderr, flush=True)
        rows += figure_percall(counts)
    if "import" in only:
        print("... import", file=sys.stderr, flush=True)
        rows += figure_import(counts)
    instance_rounds = ""
    if "instances" in only:
        print("... instances", file=sys.stderr, flush=True)
        rounds_i = args.rounds or (1 if args.quick else 3)
        rows += figure_instances(counts, rounds_i)
        instance_rounds = f", {rounds_i} for the sends over many instances"

    kind = (
        "minimal raw-asyncio HTTP server"
        if args.server == "loopback"
        else "the package's sandbox, rate limits off"
    )
    header = (
        f"Machine: {machine['nproc']} CPUs ({machine['cpu']}), Python {machine['python']}, "
        f"{machine['date']}; {machine['libs']}.\n"
        f"Server: {args.server} ({kind}, "
        f"separate process){', pinned' if server_cpu is not None else ''}; {rounds} rounds per figure "
        f"({drain_rounds} for the drain{instance_rounds}), medians; the block runs with rate_limits=False.\n"
    )
    print(header)
    print(_table(rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(
                {
                    "machine": machine,
                    "server": args.server,
                    "rounds": rounds,
                    "counts": counts.__dict__,
                    "rows": [r.__dict__ for r in rows],
                },
                f,
                indent=2,
                default=str,
            )
    return 0 if all(r.met is not False for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
