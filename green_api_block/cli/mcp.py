"""``green-api-block mcp``: serve the five tools to MCP clients over stdio or streamable HTTP.

Credentials come from the same places as for every other command (flags > environment >
profile), and the token never from a command-line value: an MCP client config is often shared
and a process's arguments are visible to every user in ``ps``, so the token is read from
``GREEN_API_TOKEN_INSTANCE``, ``--token-file`` or a profile only. On stdio, stdout is the
protocol: everything for people goes to stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING

from green_api_block.errors import ConfigError
from green_api_block.netaddr import is_loopback
from green_api_block.redact import RedactingFilter

from .output import EXIT_OK, Ui, command, common_parents
from .settings import load_settings, make_block, read_auth_token

if TYPE_CHECKING:
    from green_api_block.guard import Guard

__all__ = ["register"]

_EPILOG = """\
safety switches (environment, or the flags above, which win):
  GREEN_API_ALLOWED_CHATS  comma-separated chat ids or phone numbers that may receive messages
  GREEN_API_DRY_RUN        1: validate and report what would be sent, send nothing
  GREEN_API_MAX_SENDS      the most messages this server may send before it refuses

MCP client config (Claude Desktop, Cursor, ...):
  {"mcpServers": {"whatsapp": {"command": "green-api-block", "args": ["mcp"],
    "env": {"GREEN_API_ID_INSTANCE": "1101000001", "GREEN_API_TOKEN_INSTANCE": "...",
            "GREEN_API_URL": "https://api.green-api.com"}}}}
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "mcp",
        parents=common_parents(),
        help="serve the tools to MCP clients (stdio, or streamable HTTP with --http PORT)",
        description=(
            "Serve the five Green API tools over the Model Context Protocol: on stdio (the default, "
            "what desktop MCP clients start) or on streamable HTTP at http://HOST:PORT/mcp. The "
            "instance credentials are bound here and never shown to the model."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    group = parser.add_argument_group("server")
    group.add_argument(
        "--http",
        metavar="PORT",
        type=int,
        help="serve streamable HTTP on PORT (0: any free port) instead of stdio",
    )
    group.add_argument(
        "--host",
        default="127.0.0.1",
        help="address for --http (default 127.0.0.1); off loopback, require --auth-token-file",
    )
    group.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another name clients reach --http by (a LAN address, a DNS name; repeat). The Host "
        "header must name the bind address (or localhost on loopback), this name, and the port",
    )
    group.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a web origin (https://app.example) whose pages may call --http (repeat); "
        "browsers from any other origin are refused",
    )
    group.add_argument(
        "--auth-token-file",
        metavar="PATH",
        help="require 'Authorization: Bearer <the first line of PATH>' on every --http request",
    )
    group.add_argument(
        "--insecure-token-file",
        action="store_true",
        help="start even though the instance's token file is readable by other users",
    )
    safety = parser.add_argument_group("safety")
    safety.add_argument(
        "--allow-chat",
        action="append",
        metavar="CHAT",
        help="a chat id or phone number that may receive messages (repeat; replaces GREEN_API_ALLOWED_CHATS)",
    )
    safety.add_argument(
        "--dry-run", action="store_true", default=None, help="validate and report sends, send nothing"
    )
    safety.add_argument("--max-sends", type=int, metavar="N", help="refuse sends after N messages")
    parser.set_defaults(func=_mcp)


def _log_to_stderr(debug: bool) -> None:
    if debug:
        return  # --debug already sends every record to stderr, through the redacting filter
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("green-api-block mcp: %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.WARNING)
    root = logging.getLogger()
    root.addHandler(handler)


def _guard_summary(guard: Guard) -> str:
    parts = []
    if guard.dry_run:
        parts.append("dry run")
    if guard.allowed_chats is not None:
        parts.append(f"{len(guard.allowed_chats)} allowed chat(s)")
    if guard.max_sends is not None:
        parts.append(f"at most {guard.max_sends} send(s)")
    return ", ".join(parts) if parts else "no safety switches"


@command("mcp")
def _mcp(args: argparse.Namespace, ui: Ui) -> int:
    try:
        import anyio

        from green_api_block.mcp_server import build_server, serve_http, serve_stdio
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("mcp", "mcp_types", "anyio", "uvicorn"):
            raise ConfigError(
                "the mcp command needs the MCP SDK: pip install 'green-api-block[mcp]'"
            ) from None
        raise
    from green_api_block.guard import Guard

    if args.http is not None and not 0 <= args.http <= 65535:
        raise ConfigError("--http takes a port number from 0 to 65535")
    settings = load_settings(args)
    for warning in settings.warnings:
        ui.warn(warning)
    settings.require_credentials()
    if settings.exposed_token_file is not None and not args.insecure_token_file:
        # A long-running server is where a leaked token does the most damage: refuse, not warn.
        raise ConfigError(
            f"the token file {settings.exposed_token_file} is readable by other users: run "
            f"chmod 600 {settings.exposed_token_file} (or pass --insecure-token-file)"
        )
    auth_token = read_auth_token(args.auth_token_file) if args.auth_token_file else None
    guard = Guard.from_env(allowed_chats=args.allow_chat, dry_run=args.dry_run, max_sends=args.max_sends)
    block = make_block(settings)
    server = build_server(block, guard)
    _log_to_stderr(ui.debug)
    where = f"instance {settings.id_instance.value} at {settings.api_url.value}; {_guard_summary(guard)}"

    async def run() -> None:
        try:
            if args.http is None:
                ui.say(f"green-api-block mcp: serving stdio for {where}")
                await serve_stdio(server)
            else:
                if not is_loopback(args.host) and auth_token is None:
                    ui.warn(
                        f"listening on {args.host}: anyone who can reach it, and any web page the user "
                        "visits, can send WhatsApp messages as this instance unless a token is "
                        "required: pass --auth-token-file (and --allow-host for the names clients use)"
                    )

                def ready(url: str) -> None:
                    ui.say(f"green-api-block mcp: serving streamable HTTP at {url} for {where}")

                await serve_http(
                    server,
                    host=args.host,
                    port=args.http,
                    ready=ready,
                    allowed_hosts=args.allow_host,
                    allowed_origins=args.allow_origin,
                    auth_token=auth_token,
                )
        finally:
            await block.aclose()

    anyio.run(run)
    return EXIT_OK
