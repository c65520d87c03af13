"""A scriptable HTTP/1.1 server on 127.0.0.1, for what the sandbox cannot show or send.

Faults come from the sandbox (``Sandbox.inject_fault``); this stub is kept for the two things it
does not do: answer with any header a test scripts (a ``Retry-After: 0``; the sandbox's is whole
seconds, at least 1), and count the TCP connections a client opened.

Each request takes the next scripted answer (the last one repeats). Every request is recorded, so
a test can count what actually reached the server.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Action:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


def respond(status: int = 200, body: Any = b"{}", headers: dict[str, str] | None = None) -> Action:
    raw = body if isinstance(body, bytes) else str(body).encode()
    return Action(status, raw, headers or {})


class StubServer:
    def __init__(self) -> None:
        self.actions: list[Action] = [respond()]
        self.received: list[Received] = []
        self.connections = 0
        self._lock = threading.Lock()
        stub = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                with stub._lock:
                    stub.connections += 1
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                while stub._serve_one(self):
                    pass

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def script(self, *actions: Action) -> None:
        with self._lock:
            self.actions = list(actions)

    def _next(self) -> Action:
        with self._lock:
            return self.actions.pop(0) if len(self.actions) > 1 else self.actions[0]

    def _serve_one(self, h: socketserver.StreamRequestHandler) -> bool:
        line = h.rfile.readline()
        if not line:
            return False
        parts = line.decode("latin-1").split(" ", 2)
        if len(parts) != 3:  # a stray CRLF or garbage: hang up
            return False
        method, target, _ = parts
        headers: dict[str, str] = {}
        while True:
            raw = h.rfile.readline().decode("latin-1").strip()
            if not raw:
                break
            name, _, value = raw.partition(":")
            headers[name.strip().lower()] = value.strip()
        action = self._next()
        body = h.rfile.read(int(headers.get("content-length", "0") or 0))
        with self._lock:
            self.received.append(Received(method, target, headers, body))
        head = f"HTTP/1.1 {action.status} X\r\nContent-Length: {len(action.body)}\r\n"
        head += "".join(
            f"{k}: {v}\r\n" for k, v in {"Content-Type": "application/json", **action.headers}.items()
        )
        h.wfile.write(head.encode() + b"\r\n" + action.body)
        h.wfile.flush()
        return True

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
