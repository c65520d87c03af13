"""Answers that are not valid HTTP, or whose body cannot be decoded or parsed: faults beyond the
sandbox's kinds (a broken proxy or load balancer in front of Green API produces them).

Every client path must turn them into a typed ``GreenApiError`` (guarantee 5: "a result or a typed
error"), never retry a send the server read (guarantee 1), and keep the token out of the error
(guarantee 3). A raw socket server plays the broken peer.
"""

from __future__ import annotations

import socket
import threading
import traceback
from collections.abc import Iterator
from typing import Any

import pytest

from green_api_block import GreenApiError
from green_api_block.sandbox import SandboxInstance

from .harness import CHAT, MODES, close_block, make_block, run_tool

TOKEN = "canaryMa1f0rmedHTTP" + "0123456789abcdef0123456789abcdef"[:31]
ID = "1101000077"

ANSWERS = {
    # Not HTTP at all (a TLS-terminating proxy misconfigured, a wrong port).
    "garbage": b"garbage\r\n\r\n",
    # A status line that does not parse.
    "bad_status_line": b"HTTP/1.1 2x0 OK\r\n\r\n",
    # A header that does not parse.
    "bad_content_length": b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n{}",
    # A body that says it is gzip and is not.
    "bad_gzip": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
    b"Content-Length: 5\r\n\r\nhello",
    # Valid JSON nested deeper than Python's recursion limit: json.loads raises RecursionError,
    # which is not a ValueError.
    "deeply_nested_json": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    b"Content-Length: 200000\r\n\r\n" + b"[" * 100_000 + b"]" * 100_000,
    # The same as an error body (read for its message, REFERENCE.md §9.1).
    "deeply_nested_json_500": b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
    b"Content-Length: 200000\r\n\r\n" + b"[" * 100_000 + b"]" * 100_000,
}


class RawServer:
    """Reads one request per connection, counts it, answers ``answer`` verbatim, closes."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.requests: list[bytes] = []
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="raw-server", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    head, _, body = data.partition(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n")[1:]:
                        name, _, value = line.partition(b":")
                        if name.strip().lower() == b"content-length":
                            length = int(value.strip() or 0)
                    while len(body) < length:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        body += chunk
                    self.requests.append(head.split(b"\r\n", 1)[0])
                    conn.sendall(self.answer)
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()


@pytest.fixture(params=list(ANSWERS))
def raw(request: pytest.FixtureRequest) -> Iterator[RawServer]:
    server = RawServer(ANSWERS[request.param])
    yield server
    server.close()


def _leaks(exc: BaseException) -> bool:
    texts = ["".join(traceback.format_exception(exc)), repr(exc)]
    link: BaseException | None = exc
    while link is not None:
        texts += [str(link), repr(link)]
        link = link.__cause__ or link.__context__
    return any(TOKEN in t for t in texts)


@pytest.mark.parametrize("mode", MODES)
async def test_a_broken_answer_is_a_typed_error_without_the_token(mode: str, raw: RawServer) -> None:
    inst = SandboxInstance(ID, TOKEN, raw.url, raw.url, "")
    block = make_block(mode, raw.url, inst)
    outcomes: dict[str, Any] = {}
    try:
        for tool, args in (
            ("green_api_send_message", {"chatId": CHAT, "message": "hi"}),
            ("green_api_get_state_instance", {}),
        ):
            before = len(raw.requests)
            try:
                outcomes[tool] = await run_tool(mode, block, tool, args)
            except GreenApiError as exc:
                outcomes[tool] = exc
            except Exception as exc:  # the bug this test exists for
                what = f"{type(exc).__module__}.{type(exc).__name__}"
                leaked = _leaks(exc)  # a bool: pytest must not print the exception (it has the token)
                pytest.fail(f"{tool}: untyped {what} escaped the block (carries the token: {leaked})")
            if tool == "green_api_send_message":
                assert len(raw.requests) - before == 1, "a send the server read was sent again"
    finally:
        await close_block(block)
    send = outcomes["green_api_send_message"]
    assert isinstance(send, GreenApiError)
    assert send.outcome_unknown is True, "the server read the send: its outcome is unknown"
    leaked = _leaks(send)
    assert not leaked
    state = outcomes["green_api_get_state_instance"]
    assert isinstance(state, GreenApiError)
    leaked = _leaks(state)
    assert not leaked
