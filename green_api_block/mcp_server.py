"""An MCP server for the five tools, on the official ``mcp`` SDK's low-level ``Server``.

    green-api-block mcp                 # stdio, for Claude Desktop, Cursor, ... (see the README)
    green-api-block mcp --http 8765     # streamable HTTP on http://127.0.0.1:8765/mcp

The low-level server takes the contract's schemas as they are (``exporters.mcp``); the SDK's
decorator API would derive a second, drifting copy from Python signatures. Credentials are bound
to the block by the host and are in no schema, argument or result. Every result carries
``structuredContent`` (the tool output) and the same JSON as text; every failure is an
``isError`` result whose text says what went wrong and what to do next: no traceback, no token.
The ``mcp`` package is imported only here, and only when a server is built.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .contract import TOOL_IDS, load_tools
from .errors import ConfigError, GreenApiError, InputValidationError
from .exporters import error_text, strip_nulls
from .exporters.mcp import to_mcp
from .guard import DRY_RUN_OUTPUT_SCHEMA, Guard, GuardError
from .hostcheck import HostPolicy, bearer_ok
from .redact import redact

if TYPE_CHECKING:
    from mcp import types
    from mcp.server import Server, ServerRequestContext
    from mcp.server.transport_security import TransportSecuritySettings

    from .block import GreenApiBlock

__all__ = [
    "INSTRUCTIONS",
    "SERVER_NAME",
    "build_server",
    "call_tool",
    "mcp_tools",
    "serve_http",
    "serve_stdio",
    "transport_security",
]

logger = logging.getLogger(__name__)

SERVER_NAME = "green-api-block"
INSTRUCTIONS = (
    "WhatsApp through Green API. Send with green_api_send_message, green_api_send_file or "
    "green_api_send_buttons; read replies and delivery statuses with green_api_get_notifications; "
    "check the link to WhatsApp with green_api_get_state_instance. chatId is "
    "'<country code><number>@c.us' (e.g. '79001234567@c.us') for a person. Sending has effects in "
    "the world: send only what the user asked for, and never resend after outcome_unknown."
)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("green-api-block")
    except PackageNotFoundError:  # a source checkout that was never installed
        return "0"


def mcp_tools(guard: Guard | None = None) -> list[dict[str, Any]]:
    """The ``tools/list`` entries (wire form), adjusted to the switches in force."""
    guard = guard or Guard()
    tools = load_tools()
    out: list[dict[str, Any]] = []
    for tool_id in TOOL_IDS:
        tool = tools[tool_id]
        entry = to_mcp(tool)
        notes = guard.notes(tool_id)
        if notes:
            entry["description"] = " ".join([*notes, entry["description"]])
        if tool.sends and guard.dry_run:
            # A dry run answers with a report, not an idMessage, and touches nothing: the schema
            # and hints say so, and clients that validate structuredContent stay satisfied.
            entry["outputSchema"] = DRY_RUN_OUTPUT_SCHEMA
            entry["annotations"] = {"title": tool.name, "readOnlyHint": True, "openWorldHint": False}
        out.append(entry)
    return out


def _text_result(
    text: str, *, structured: dict[str, Any] | None = None, error: bool = False
) -> types.CallToolResult:
    from mcp import types

    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], structured_content=structured, is_error=error
    )


def _error_result(error: dict[str, Any]) -> types.CallToolResult:
    return _text_result(error_text(error), error=True)


async def call_tool(
    block: GreenApiBlock, guard: Guard, name: str, arguments: dict[str, Any] | None
) -> types.CallToolResult:
    """One ``tools/call``: run the tool behind the guard and turn the outcome into a result."""
    if name not in TOOL_IDS:
        shown = "".join(c for c in name if c.isprintable())[:60]
        return _error_result(
            {
                "code": "unknown_tool",
                "message": f"there is no tool {shown!r}; the tools are: {', '.join(TOOL_IDS)}",
            }
        )
    # Models send null for "not set"; the contract spells that as an absent field.
    args = strip_nulls(arguments or {})
    try:
        output = await guard.aexecute(block, name, args)
    except (InputValidationError, GreenApiError, GuardError) as exc:
        return _error_result(exc.to_dict())
    except ConfigError as exc:
        return _error_result({"code": "config_error", "message": str(exc)})
    except Exception as exc:
        # Not the model's to see: type and redacted message go to the server's log (stderr).
        logger.error("%s failed unexpectedly: %s", name, redact(f"{type(exc).__name__}: {exc}"))
        return _error_result(
            {
                "code": "internal_error",
                "message": "the tool failed unexpectedly (details are in the server log)",
            }
        )
    return _text_result(json.dumps(output, ensure_ascii=False), structured=output)


def build_server(block: GreenApiBlock, guard: Guard | None = None, *, name: str = SERVER_NAME) -> Server[Any]:
    """A low-level MCP ``Server`` serving the block's tools; run it over stdio or HTTP."""
    from mcp import types
    from mcp.server import Server

    if not block.bound_credentials:
        raise ConfigError(
            "the MCP server needs the instance credentials bound to the block: set "
            "GREEN_API_ID_INSTANCE and GREEN_API_TOKEN_INSTANCE (the model never sees them)"
        )
    guard = guard or Guard()
    listed = [types.Tool.model_validate(entry) for entry in mcp_tools(guard)]
    schemas = {tool.name: tool.input_schema for tool in listed}

    async def on_list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=listed)

    async def on_call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        return await call_tool(block, guard, params.name, params.arguments)

    return Server(
        name,
        version=_version(),
        title="Green API (WhatsApp)",
        instructions=INSTRUCTIONS,
        get_tool_input_schema=schemas.get,
        on_list_tools=on_list_tools,
        on_call_tool=on_call_tool,
    )


async def serve_stdio(server: Server[Any]) -> None:
    """Serve one client over this process's stdin/stdout until stdin closes."""
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    # Listening now, not when uvicorn gets to it: a client that connects as soon as the URL is
    # printed waits in the backlog instead of being refused.
    sock.listen(128)
    return sock


#: How long a connection may take to send a complete request head, from connecting or from its
#: last answer. uvicorn has no such option: its keep-alive timer starts only after a response, so
#: a connection that never sends a request stays open for good.
HEADER_TIMEOUT = 10.0


def _h11_with_header_timeout(seconds: float) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol, closing a connection that sends no request head within ``seconds``."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderTimeoutH11(H11Protocol):
        _head_timer: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            # A new request head must start a new cycle before the timer fires; a request still
            # being answered (an SSE stream, a slow tool call) is never cut.
            waiting_for = self.cycle
            if self._head_timer is not None:
                self._head_timer.cancel()

            def fire() -> None:
                self._head_timer = None
                idle = self.cycle is waiting_for and (self.cycle is None or self.cycle.response_complete)
                if idle and not self.transport.is_closing():
                    self.transport.close()

            self._head_timer = self.loop.call_later(seconds, fire)

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None
            super().connection_lost(exc)

    return HeaderTimeoutH11


class _RequireBearer:
    """ASGI middleware: every HTTP request must carry ``Authorization: Bearer <token>``, else 401.

    Not the SDK's OAuth machinery: a shared secret in a file is what a person running one server
    can set up, and what every MCP client's "headers" setting can send.
    """

    def __init__(self, app: Any, token: str) -> None:
        self._app = app
        self._token = token

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = None
            for name, value in scope.get("headers", ()):
                if name.lower() == b"authorization":
                    given = value.decode("latin-1")
                    break
            if not bearer_ok(given, self._token):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"text/plain; charset=utf-8"),
                            (b"www-authenticate", b'Bearer realm="green-api-block"'),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": b"a bearer token is required\n"})
                return
        await self._app(scope, receive, send)


def transport_security(
    host: str, port: int, *, allowed_hosts: Iterable[str] = (), allowed_origins: Iterable[str] = ()
) -> TransportSecuritySettings:
    """Host/Origin checks for a server bound to ``host:port``, whatever the host.

    The SDK turns them on by itself only for exactly 127.0.0.1, localhost and ::1: any other bind
    (127.0.0.2, 0.0.0.0, a LAN address) ran with no check, open to DNS rebinding and to any page.
    """
    from mcp.server.transport_security import TransportSecuritySettings

    policy = HostPolicy.for_bind(host, port, extra_hosts=allowed_hosts, extra_origins=allowed_origins)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=sorted(policy.hosts),
        allowed_origins=sorted(policy.origins),
    )


async def serve_http(
    server: Server[Any],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    ready: Callable[[str], None] | None = None,
    allowed_hosts: Iterable[str] = (),
    allowed_origins: Iterable[str] = (),
    auth_token: str | None = None,
    header_timeout: float = HEADER_TIMEOUT,
) -> None:
    """Serve streamable HTTP at ``http://host:port/mcp`` until interrupted.

    The socket is bound before ``ready(url)`` is called, so port 0 (any free port) works and the
    URL printed is the one that answers. ``Host`` must name the bind address (loopback names for a
    loopback or wildcard bind) or one of ``allowed_hosts``, with the port; a browser's ``Origin``
    must be one of those or of ``allowed_origins``. With ``auth_token`` every request needs
    ``Authorization: Bearer <token>``.
    """
    import uvicorn

    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    security = transport_security(
        host, bound_port, allowed_hosts=allowed_hosts, allowed_origins=allowed_origins
    )
    app: Any = server.streamable_http_app(host=host, transport_security=security)
    if auth_token is not None:
        app = _RequireBearer(app, auth_token)
    shown = f"[{host}]" if ":" in host else host
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        http=_h11_with_header_timeout(header_timeout),
    )
    if ready is not None:
        ready(f"http://{shown}:{bound_port}/mcp")
    await uvicorn.Server(config).serve(sockets=[sock])
