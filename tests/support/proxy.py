"""A small HTTP proxy on 127.0.0.1 that counts what passes through it (asyncio streams, one thread).

It speaks the two forms clients use: ``CONNECT host:port`` (a tunnel, what an https target takes)
and an absolute-form request (``POST http://host:port/path``, a plain forward for http targets).
It also speaks SOCKS5 (no authentication, CONNECT only) on the same port, told apart by the
first byte. A forwarded request is sent upstream with ``Connection: close``, so every request is its own
upstream connection and is counted; the tunnel's bytes are TLS, so only tunnels are counted.
With ``credentials`` it answers 407 to a request without the matching ``Proxy-Authorization``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
import threading
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

#: Hop-by-hop headers a forward proxy must not pass on (RFC 9110 §7.6.1).
_HOP = {"connection", "keep-alive", "proxy-authorization", "proxy-connection", "te", "upgrade"}


class CountingProxy:
    def __init__(
        self, *, credentials: tuple[str, str] | None = None, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self._ssl = ssl_context  # serve the proxy itself over TLS (an https:// proxy URL)
        token = None if credentials is None else base64.b64encode(":".join(credentials).encode()).decode()
        self._expected = None if token is None else f"Basic {token}"
        self.tunnels: list[str] = []  # "host:port" of every CONNECT let through
        self.forwarded: list[str] = []  # "METHOD /path" of every forwarded request
        self.socks: list[str] = []  # "host:port" of every SOCKS5 connection let through
        self.refused: int = 0  # 407s answered
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="test-proxy", daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"{'https' if self._ssl else 'http'}://127.0.0.1:{self.port}"

    def url_with(self, user: str, password: str) -> str:
        return self.url.replace("://", f"://{user}:{password}@", 1)

    @property
    def passed(self) -> int:
        """Requests and tunnels let through."""
        with self._lock:
            return len(self.tunnels) + len(self.forwarded) + len(self.socks)

    def __enter__(self) -> Self:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self._ssl), self._loop
        ).result(5)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._serve(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass  # a client or upstream that went away: nothing to count
        finally:
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = await reader.readexactly(1)
        if first == b"\x05":
            await self._socks5(reader, writer)
            return
        head = (first + await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        request_line, *lines = head.split("\r\n")
        method, target, _version = request_line.split(" ", 2)
        headers = [(k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines if line)]
        auth = next((v for k, v in headers if k.lower() == "proxy-authorization"), None)
        if self._expected is not None and auth != self._expected:
            with self._lock:
                self.refused += 1
            writer.write(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                b'Proxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
            )
            await writer.drain()
            return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            up_reader, up_writer = await asyncio.open_connection(host.strip("[]"), int(port))
            with self._lock:
                self.tunnels.append(target)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await self._pipe(reader, writer, up_reader, up_writer)
            return
        url = urlsplit(target)
        if url.scheme != "http" or not url.hostname:
            writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        up_reader, up_writer = await asyncio.open_connection(url.hostname, url.port or 80)
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        with self._lock:
            self.forwarded.append(f"{method} {url.path}")
        kept = [(k, v) for k, v in headers if k.lower() not in _HOP]
        upstream_head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in kept)
        up_writer.write((upstream_head + "Connection: close\r\n\r\n").encode("latin-1"))
        await self._pipe(reader, writer, up_reader, up_writer)

    async def _socks5(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """RFC 1928 after its version byte: no authentication, CONNECT to an IPv4 address or a name."""
        methods = await reader.readexactly((await reader.readexactly(1))[0])
        if 0 not in methods:
            writer.write(b"\x05\xff")  # no acceptable method
            return
        writer.write(b"\x05\x00")
        _ver, command, _rsv, address_type = await reader.readexactly(4)
        if address_type == 1:
            host = ".".join(str(b) for b in await reader.readexactly(4))
        elif address_type == 3:
            host = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
        else:
            raise ValueError("only IPv4 and names in this test proxy")
        port = int.from_bytes(await reader.readexactly(2), "big")
        if command != 1:
            writer.write(b"\x05\x07\x00\x01" + bytes(6))  # command not supported
            return
        up_reader, up_writer = await asyncio.open_connection(host, port)
        with self._lock:
            self.socks.append(f"{host}:{port}")
        writer.write(b"\x05\x00\x00\x01" + bytes(6))
        await self._pipe(reader, writer, up_reader, up_writer)

    @staticmethod
    async def _pipe(
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        """Copy both ways until the upstream side ends, then close both (a drop reaches the client)."""

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()

        upward = asyncio.ensure_future(copy(reader, up_writer))
        try:
            await copy(up_reader, writer)
        finally:
            upward.cancel()
            up_writer.close()
