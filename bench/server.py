"""The servers the benchmark talks to, each in its own process (so it never shares the client's GIL).

``loopback``: a minimal HTTP/1.1 server on a raw ``asyncio.Protocol`` that answers Green API's
routes with canned JSON: ``sendMessage`` (``{"idMessage": ...}``), ``receiveNotification`` (the
queue head, or ``null`` at once when the queue is empty: no long poll), ``deleteNotification``
(``{"result": true}``) and ``getStateInstance``. It parses just enough HTTP for the clients under
test (Content-Length bodies, keep-alive, ``Connection: close``), so that its own cost per request
stays far below the clients': the figures then measure the clients, not the server.

``sandbox``: the package's own embedded sandbox (``green_api_block.sandbox.Sandbox``, aiohttp.web)
with its rate limits off and empty polls answered at once, started in this process.

Run as ``python -m bench.server {loopback|sandbox}``: prints one JSON line (``url``,
``id_instance``, ``api_token``), then serves until its standard input closes, answering control
lines read from standard input: ``inject N [ID]`` (queue N incoming-message notifications for
ID_INSTANCE or instance ID), ``trickle RATE`` (one notification every 1/RATE s for an instance
picked at random among those that polled; 0 stops), ``stats`` (a JSON line of counters),
``reset``. With ``--hold`` the loopback server holds an empty ``receiveNotification`` for its
``receiveTimeout`` (as Green API does) and answers it as soon as a notification for its instance
comes; without it, empty receives are answered ``null`` at once. Queues are per instance.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import subprocess
import sys
import threading
from collections import deque
from typing import Any

__all__ = ["ServerProcess", "notification_body"]

ID_INSTANCE = "1101000001"
API_TOKEN = "d75b3a66374942c5b3c019c698abc2067e151558acbd412345"
CHAT_ID = "79001234567@c.us"


def notification_body(n: int) -> dict[str, Any]:
    """An ``incomingMessageReceived`` body shaped like Green API's (about 550 bytes of JSON)."""
    return {
        "typeWebhook": "incomingMessageReceived",
        "instanceData": {
            "idInstance": int(ID_INSTANCE),
            "wid": "79876543210@c.us",
            "typeInstance": "whatsapp",
        },
        "timestamp": 1700000000 + n,
        "idMessage": f"BENCH{n:015d}",
        "senderData": {
            "chatId": CHAT_ID,
            "chatName": "Customer",
            "sender": CHAT_ID,
            "senderName": "Customer",
            "senderContactName": "Customer",
        },
        "messageData": {
            "typeMessage": "textMessage",
            "textMessageData": {"textMessage": f"benchmark notification number {n}, some ordinary text"},
        },
    }


# ------------------------------------------------------------------------------------------------
# the minimal loopback server


class _Queue:
    """One instance's notification queue: receipt ids head+1..tail are queued (1-based)."""

    __slots__ = ("head", "tail", "waiters")

    def __init__(self) -> None:
        self.head = 0
        self.tail = 0
        self.waiters: deque[_Http] = deque()  # connections holding an empty receive (--hold)


class _State:
    def __init__(self) -> None:
        self.sends = 0
        self.requests = 0
        self.connections = 0
        self.open = 0
        self.deleted = 0
        self.received = 0
        # Per instance (the URL's waInstance segment), so that a host's many instances each have
        # their own queue and their own held polls; the drain figure uses ID_INSTANCE's.
        self.queues: dict[bytes, _Queue] = {}

    def queue(self, instance: bytes) -> _Queue:
        q = self.queues.get(instance)
        if q is None:
            q = self.queues[instance] = _Queue()
        return q

    def stats(self) -> dict[str, float]:
        return {
            "cpu_s": _cpu_seconds(),
            "sends": self.sends,
            "requests": self.requests,
            "connections": self.connections,
            "open_connections": self.open,
            "queued": sum(q.tail - q.head for q in self.queues.values()),
            "deleted": self.deleted,
            "received": self.received,
            "instances": len(self.queues),
            "held": sum(len(q.waiters) for q in self.queues.values()),
        }


_STATE = _State()
_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n"
_CLOSE = b"Connection: close\r\n"


def _receipt_body(receipt: int) -> bytes:
    return json.dumps({"receiptId": receipt, "body": notification_body(receipt)}).encode()


#: Hold an empty receive for its receiveTimeout (``--hold``), as Green API does, instead of
#: answering ``null`` at once: the long-poll figure needs polls that wait on the server.
_HOLD = False
_MAX_HOLD = 60.0
_INSTANCE = b"wainstance" + ID_INSTANCE.encode()


def _receive_timeout(query: bytes) -> float:
    for item in query.split(b"&"):
        key, _, value = item.partition(b"=")
        if key == b"receivetimeout":
            try:
                return min(float(value), _MAX_HOLD)
            except ValueError:
                return 0.0
    return 0.0


def _route(method: bytes, target: bytes, body: bytes) -> tuple[int, bytes] | tuple[None, float]:
    """The answer, or ``(None, seconds)``: hold this receive until a notification or the timeout."""
    st = _STATE
    st.requests += 1
    path, _, query = target.partition(b"?")
    parts = path.split(b"/")  # ['', 'waInstance1', 'sendMessage', token, arg?]
    api = parts[2] if len(parts) > 3 else b""  # the request line is lowercased already
    if api == b"sendmessage":
        st.sends += 1
        return 200, b'{"idMessage":"BAE5%011d"}' % st.sends
    if api == b"receivenotification":
        q = st.queue(parts[1])
        if q.head < q.tail:
            st.received += 1
            return 200, _receipt_body(q.head + 1)
        wait = _receive_timeout(query) if _HOLD else 0.0
        return (None, wait) if wait > 0 else (200, b"null")
    if api == b"deletenotification":
        q = st.queue(parts[1])
        try:
            receipt = int(parts[4])
        except (IndexError, ValueError):
            return 400, b'{"message":"bad receiptId"}'
        if receipt == q.head + 1 and q.head < q.tail:
            q.head += 1
            st.deleted += 1
            return 200, b'{"result":true}'
        return 200, b'{"result":false}'
    if api == b"getstateinstance":
        return 200, b'{"stateInstance":"authorized"}'
    return 404, b'{"message":"not found"}'


def _inject(instance: bytes, n: int) -> None:
    """Queue n notifications for an instance, and answer the polls it holds."""
    q = _STATE.queue(instance)
    q.tail += n
    while q.waiters and q.head < q.tail:
        q.waiters.popleft().wake(_receipt_body(q.head + 1))
        _STATE.received += 1


class _Http(asyncio.Protocol):
    __slots__ = ("buf", "close_after", "held", "held_queue", "transport")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buf = b""
        self.held: asyncio.TimerHandle | None = None
        self.held_queue: _Queue | None = None
        self.close_after = False
        _STATE.connections += 1
        _STATE.open += 1

    def connection_lost(self, exc: Exception | None) -> None:
        _STATE.open -= 1
        self._unhold()

    def _unhold(self) -> None:
        if self.held is not None:
            self.held.cancel()
            self.held = None
        if self.held_queue is not None:
            with contextlib.suppress(ValueError):  # already taken off by _inject
                self.held_queue.waiters.remove(self)
            self.held_queue = None

    def wake(self, payload: bytes) -> None:
        """Answer the held receive (a notification came, or its timeout passed: ``null``)."""
        self._unhold()
        self.transport.write(_HEAD % (len(payload), _CLOSE if self.close_after else b"") + payload)
        if self.close_after:
            self.transport.close()
            return
        if self.buf:  # requests sent behind the held one (clients here never pipeline)
            data, self.buf = self.buf, b""
            self.data_received(data)

    def data_received(self, data: bytes) -> None:
        if self.held is not None:  # answered in order: queue behind the held receive
            self.buf += data
            return
        buf = self.buf + data if self.buf else data
        out: list[bytes] = []
        close = False
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buf[:end].lower()
            length = 0
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = head.find(b"\r\n", at + 2)
                length = int(head[at + 17 : stop if stop >= 0 else len(head)])
            if len(buf) < end + 4 + length:
                break
            if b"\r\ntransfer-encoding:" in head:
                out.append(b"HTTP/1.1 411 Length Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                close = True
                break
            body = buf[end + 4 : end + 4 + length]
            buf = buf[end + 4 + length :]
            line_end = head.find(b"\r\n")
            request_line = head if line_end < 0 else head[:line_end]
            method, target = request_line.split(b" ", 2)[:2]
            status, payload = _route(method, target, body)
            close = b"\r\nconnection: close" in head
            if status is None:
                assert isinstance(payload, float)
                q = _STATE.queue(target.split(b"/")[1])
                q.waiters.append(self)
                self.held_queue, self.close_after = q, close
                loop = asyncio.get_running_loop()
                self.held = loop.call_later(payload, self.wake, b"null")
                close = False
                break
            assert isinstance(payload, bytes)
            first = _HEAD if status == 200 else _HEAD.replace(b"200 OK", b"%d ERR" % status)
            out.append(first % (len(payload), _CLOSE if close else b"") + payload)
            if close:
                break
        self.buf = buf
        if out:
            self.transport.write(b"".join(out))
        if close:
            self.transport.close()


def _serve_loopback(host: str, port: int, hold: bool = False) -> None:
    global _HOLD
    _HOLD = hold
    _raise_fd_limit()
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(_Http, host, port, backlog=4096))
    bound = server.sockets[0].getsockname()[1]
    trickle: list[asyncio.TimerHandle] = []
    rng = random.Random(12)

    def drip(interval: float) -> None:
        # One notification for an instance picked at random among those that have polled.
        known = [k for k in _STATE.queues if k != _INSTANCE] or [_INSTANCE]
        _inject(rng.choice(known), 1)
        trickle[:] = [loop.call_later(interval, drip, interval)]

    def control(line: str) -> str:
        cmd, *args = line.split()
        if cmd == "inject":
            n = int(args[0])
            _inject(b"wainstance" + args[1].encode() if len(args) > 1 else _INSTANCE, n)
            return "ok"
        if cmd == "trickle":  # trickle RATE: notifications per second over the known instances
            for handle in trickle:
                handle.cancel()
            trickle.clear()
            rate = float(args[0])
            if rate > 0:
                trickle.append(loop.call_later(1 / rate, drip, 1 / rate))
            return "ok"
        if cmd == "stats":
            return json.dumps(_STATE.stats())
        if cmd == "reset":
            _STATE.__init__()  # type: ignore[misc]
            return "ok"
        return "error unknown command"

    _announce(f"http://{host}:{bound}")
    _control_thread(lambda line: _on_loop(loop, control, line), lambda: loop.call_soon_threadsafe(loop.stop))
    loop.run_forever()


def _on_loop(loop: asyncio.AbstractEventLoop, fn: Any, line: str) -> str:
    """Run a control command on the server loop (no locks on the hot path), wait for its answer."""
    done = threading.Event()
    box: list[str] = []

    def run() -> None:
        box.append(fn(line))
        done.set()

    loop.call_soon_threadsafe(run)
    done.wait()
    return box[0]


# ------------------------------------------------------------------------------------------------
# the package's sandbox, in this process


def _serve_sandbox(host: str, port: int) -> None:
    from green_api_block.sandbox import Sandbox

    sb = Sandbox(host=host, port=port, rate_limits=False, max_receive_wait=0.0).start()
    inst = sb.create_instance(id_instance=ID_INSTANCE, api_token=API_TOKEN)
    stop = threading.Event()

    def control(line: str) -> str:
        cmd, *args = line.split()
        if cmd == "inject":
            n = int(args[0])
            start = len(sb.notifications(inst))
            for i in range(n):
                sb.inject_notification(inst, notification_body(start + i + 1))
            return "ok"
        if cmd == "stats":
            return json.dumps(
                {
                    "cpu_s": _cpu_seconds(),
                    "sends": len(sb.sent_messages(inst)),
                    "queued": len(sb.notifications(inst)),
                }
            )
        if cmd == "reset":
            sb.clear_notifications(inst)
            return "ok"
        return "error unknown command"

    _announce(sb.url)
    _control_thread(control, stop.set)
    stop.wait()
    sb.close()


# ------------------------------------------------------------------------------------------------
# process plumbing


def _raise_fd_limit() -> None:
    """Soft descriptor limit up to the hard one: a thousand held polls need a thousand sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return round(usage.ru_utime + usage.ru_stime, 4)


def _announce(url: str) -> None:
    sys.stdout.write(json.dumps({"url": url, "id_instance": ID_INSTANCE, "api_token": API_TOKEN}) + "\n")
    sys.stdout.flush()


def _control_thread(handle: Any, on_eof: Any) -> None:
    def run() -> None:
        for line in sys.stdin:
            if line.strip():
                sys.stdout.write(handle(line) + "\n")
                sys.stdout.flush()
        on_eof()

    threading.Thread(target=run, name="bench-control", daemon=True).start()


class ServerProcess:
    """``with ServerProcess("loopback") as srv:`` starts a server process; ``srv.url`` etc."""

    def __init__(self, kind: str = "loopback", *, cpu: int | None = None, hold: bool = False) -> None:
        if kind not in ("loopback", "sandbox"):
            raise ValueError(f"unknown server kind {kind!r}")
        self.kind = kind
        self.cpu = cpu
        self.hold = hold
        self._proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.id_instance = ""
        self.api_token = ""

    def __enter__(self) -> ServerProcess:
        cmd = [sys.executable, "-m", "bench.server", self.kind]
        if self.cpu is not None:
            cmd += ["--cpu", str(self.cpu)]
        if self.hold:
            cmd.append("--hold")
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self._proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=root, env=env
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.kind} server did not start")
        info = json.loads(line)
        self.url, self.id_instance, self.api_token = info["url"], info["id_instance"], info["api_token"]
        return self

    def command(self, line: str) -> str:
        assert self._proc is not None and self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(line + "\n")
        self._proc.stdin.flush()
        return self._proc.stdout.readline().strip()

    def inject(self, n: int) -> None:
        if self.command(f"inject {n}") != "ok":
            raise RuntimeError("inject failed")

    def stats(self) -> dict[str, float]:
        stats: dict[str, float] = json.loads(self.command("stats"))
        return stats

    def __exit__(self, *exc: object) -> None:
        proc = self._proc
        if proc is None:
            return
        assert proc.stdin is not None
        try:
            proc.stdin.close()
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        self._proc = None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("kind", choices=["loopback", "sandbox"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one CPU")
    parser.add_argument("--hold", action="store_true", help="loopback: hold empty receives (long poll)")
    args = parser.parse_args(argv)
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    if args.kind == "loopback":
        _serve_loopback(args.host, args.port, args.hold)
    else:
        _serve_sandbox(args.host, args.port)


if __name__ == "__main__":
    main()
