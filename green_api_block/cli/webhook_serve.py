"""``webhook serve``: receive pushes with uvicorn and print one line per event on stdout.

The printing *is* the handler: a line is written and flushed before the 200 goes back, so an
event Green API drops from its queue has been written out. It runs on the event loop (no
thread hop): a stdout that blocks holds the loop, and so the answers, which is the back-pressure
wanted (Green API waits and re-sends instead of us buffering without bound).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from green_api_block.errors import ConfigError
from green_api_block.events import Event
from green_api_block.netaddr import is_loopback
from green_api_block.redact import MASK, RedactingFilter

from .output import EXIT_OK, Ui, sanitize
from .webhook_token import ENV_WEBHOOK_TOKEN, default_token_path, find_token

__all__ = ["serve"]


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    # Listening before the URL is printed: a client that connects at once waits in the backlog.
    sock.listen(1024)
    return sock


def _line(event: Event) -> str:
    who = event.senderName or event.sender or ""
    what = event.text or event.status or event.stateInstance or event.messageType or ""
    chat = event.chatId or "-"
    # Tab-separated like watch's lines off a terminal; each field cleaned of control characters.
    return "\t".join(sanitize(part) for part in (event.eventType, chat, who, what))


def _filter(args: argparse.Namespace) -> Any:
    from green_api_block.webhook import WebhookFilter

    try:
        return WebhookFilter(
            event_types=args.event_type or None,
            chat_types=args.chat_type or None,
            chat_ids=args.chat_id or None,
            include_own_sends=args.include_own_sends,
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"bad filter: {problems}") from None


def _token(args: argparse.Namespace) -> tuple[str | None, str]:
    token, source = find_token(args.webhook_token_file, insecure=args.insecure_token_file)
    if args.no_auth:
        if token is not None and args.webhook_token_file:
            raise ConfigError("--no-auth and --webhook-token-file contradict each other: keep one")
        if not is_loopback(args.host):
            # Off loopback anyone who finds the port could inject "customer messages".
            raise ConfigError(f"--no-auth listens on loopback only, not on {args.host}")
        return None, "none (--no-auth)"
    if token is None:
        raise ConfigError(
            "no webhook token: run 'green-api-block webhook set URL' (it writes "
            f"{default_token_path()}), pass --webhook-token-file, set {ENV_WEBHOOK_TOKEN}, or pass "
            "--no-auth to accept unauthenticated pushes on loopback"
        )
    return token, source


def serve(args: argparse.Namespace, ui: Ui) -> int:
    try:
        import uvicorn
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] == "uvicorn":
            raise ConfigError("webhook serve needs uvicorn: pip install 'green-api-block[webhook]'") from None
        raise
    from green_api_block.webhook import WebhookReceiver

    if not 0 <= args.port <= 65535:
        raise ConfigError("--port takes a port number from 0 to 65535")
    if not args.path.startswith("/"):
        raise ConfigError("--path must start with '/'")
    token, source = _token(args)
    flt = _filter(args)

    out = ui.stdout
    secrets = [t for t in (token,) if t]

    async def on_event(event: Event) -> None:
        # pydantic-core's JSON (as Event.model_dump(mode="json"), compact) and a plain replace of
        # the one secret this command holds: the per-character scan of redact() cost more than
        # the rest of a push together. The instance token is never loaded by serve.
        text = event.model_dump_json() if ui.json else _line(event)
        for secret in secrets:
            text = text.replace(secret, MASK)
        out.write(text + "\n")
        out.flush()  # before the 200: Green API drops what it got a 200 for

    receiver = WebhookReceiver(
        on_event,
        token=token,
        allow_unauthenticated=token is None,
        filter=flt,
        path=args.path,
        handler_timeout=args.handler_timeout,
    )
    _log_to_stderr(ui.debug)
    sock = _bind(args.host, args.port)
    port = sock.getsockname()[1]
    shown = f"[{args.host}]" if ":" in args.host and not args.host.startswith("[") else args.host
    url = f"http://{shown}:{port}{args.path}"
    config = uvicorn.Config(
        receiver,
        log_level="warning",
        access_log=False,
        lifespan="on",
        loop="auto",  # uvloop when installed
        http="auto",  # httptools when installed
        timeout_keep_alive=75,  # Green API pushes one after another: keep its connection
    )
    server = _QuietServer(config)
    if ui.json:
        ui.out_json(
            {"listening": True, "url": url, "path": args.path, "auth": "none" if token is None else "bearer"}
        )
    else:
        auth = "no token check" if token is None else f"Bearer token from {source}"
        ui.out(f"green-api-block webhook: listening on {url} ({auth}); Ctrl-C to stop")
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    counts = receiver.counters.snapshot()
    ui.note("webhook stopped: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return EXIT_OK


def _log_to_stderr(debug: bool) -> None:
    if debug:
        return  # --debug already sends every record to stderr, through the redacting filter
    # The receiver's warnings (a handler that failed, a dead letter) are for the operator.
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("green-api-block webhook: %(levelname)s %(message)s"))
    handler.setLevel(logging.WARNING)
    logging.getLogger("green_api_block.webhook").addHandler(handler)


class _QuietServer:
    """``uvicorn.Server`` whose Ctrl-C/SIGTERM ends ``run`` normally (exit 0), not re-raised."""

    def __new__(cls, config: Any) -> Any:
        import uvicorn

        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                if threading.current_thread() is not threading.main_thread():
                    yield
                    return
                # A SIGINT inherited as ignored stays ignored (see interrupt.py).
                sigs = [signal.SIGTERM]
                if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
                    sigs.append(signal.SIGINT)
                original = {s: signal.signal(s, self.handle_exit) for s in sigs}
                try:
                    yield
                finally:
                    for s, handler in original.items():
                        signal.signal(s, handler)

        return Server(config)
