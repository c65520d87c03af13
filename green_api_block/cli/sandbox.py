"""``green-api-block sandbox``: serve the local Green API sandbox until Ctrl-C.

Prints the URL and the credentials of the instances it creates, so that any Green API client
(this block, the official SDKs, curl) can be pointed at it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from typing import TYPE_CHECKING

from green_api_block.netaddr import is_loopback

from .interrupt import until_interrupted

if TYPE_CHECKING:
    from green_api_block.sandbox import SandboxInstance

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="serve a local Green API emulator (for tests and offline development)",
        description=(
            "Serve a local emulator of the Green API methods the block uses, over HTTP, until "
            "Ctrl-C. Prints the apiUrl and the instance credentials to connect with. The control "
            "API is under /__sandbox__/ (GET /__sandbox__/ lists it)."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free port)")
    parser.add_argument(
        "--instances", type=int, default=1, metavar="N", help="instances to create (default: 1)"
    )
    parser.add_argument(
        "--state",
        default="authorized",
        choices=("authorized", "notAuthorized", "blocked", "starting", "yellowCard", "sleepMode"),
        help="state of the created instances (default: authorized)",
    )
    parser.add_argument(
        "--no-rate-limits", action="store_true", help="do not answer 429 above Green API's RPS"
    )
    parser.add_argument("--quota", action="store_true", help="Developer plan: 3 chats a month, then 466")
    parser.add_argument(
        "--max-receive-wait",
        type=float,
        default=None,
        metavar="SECONDS",
        help="hold empty receiveNotification polls at most this long (default: the full receiveTimeout)",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another name the control API (/__sandbox__/) answers to, e.g. a container's (repeat)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print the URL and credentials as one JSON line",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from green_api_block.sandbox import BOT_SETTINGS, Sandbox

    if args.instances < 0:
        print("error: --instances must not be negative", file=sys.stderr)
        return 2
    if not is_loopback(args.host):
        print(
            f"warning: listening on {args.host}: the sandbox has no TLS and hands out tokens in clear; "
            "the block only accepts http:// for loopback hosts",
            file=sys.stderr,
        )
    sandbox = Sandbox(
        host=args.host,
        port=args.port,
        rate_limits=not args.no_rate_limits,
        quota=args.quota,
        max_receive_wait=args.max_receive_wait,
        allowed_hosts=args.allow_host,
    )
    try:
        sandbox.start()
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    # Signals are taken over before the banner: whoever reads it may stop the sandbox at once.
    with until_interrupted() as wait, contextlib.closing(sandbox):
        instances = [
            sandbox.create_instance(state=args.state, settings=BOT_SETTINGS) for _ in range(args.instances)
        ]
        # The tokens are printed, once, on purpose: the sandbox generated them, they open nothing
        # but this local process, and the user cannot connect without them.
        if args.json:
            print(
                json.dumps(
                    {
                        "url": sandbox.url,
                        "instances": [
                            {
                                "idInstance": i.id_instance,
                                "apiTokenInstance": i.api_token,
                                "apiUrl": i.api_url,
                                "mediaUrl": i.media_url,
                                "stateInstance": args.state,
                            }
                            for i in instances
                        ],
                    }
                ),
                flush=True,
            )
        else:
            _print_banner(sandbox.url, instances, args.state)
        wait()
    if not args.json:
        print("sandbox stopped", flush=True)
    return 0


def _print_banner(url: str, instances: list[SandboxInstance], state: str) -> None:
    lines = [f"Green API sandbox running at {url}  (Ctrl-C to stop)", ""]
    for inst in instances:
        lines += [
            f"  apiUrl / mediaUrl  {inst.api_url}",
            f"  idInstance         {inst.id_instance}",
            f"  apiTokenInstance   {inst.api_token}",
            f"  stateInstance      {state}",
            "",
        ]
    if instances:
        first = instances[0]
        lines += [
            "Try:",
            f"  curl {url}/waInstance{first.id_instance}/getStateInstance/<apiTokenInstance>",
            f"  curl -X POST {url}/__sandbox__/instances/{first.id_instance}/incoming \\",
            '       -d \'{"type": "text", "chatId": "79001234567@c.us", "text": "hi"}\'',
        ]
    lines.append(f"Control API: {url}/__sandbox__/")
    print("\n".join(lines), flush=True)
