"""The server around the emulator: lifecycle, leaks, TCP_NODELAY, keep-alive, hundreds of clients."""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import threading
import time
import warnings
from typing import Any

import aiohttp
import httpx
import pytest

from green_api_block.sandbox import Sandbox, SandboxError, SandboxInstance
from tests.support.sandbox_http import CHAT, Api, sandbox_threads

# The tests on the fixture's sandbox: limits off (hundreds of calls at once), empty polls held 0.2 s.
pytestmark = pytest.mark.green_api_sandbox(rate_limits=False, max_receive_wait=0.2)


def port_is_closed(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except OSError:
        return True


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_lifecycle() -> None:
    sandbox = Sandbox()
    assert not sandbox.running and repr(sandbox) == "<Sandbox not running>"
    with pytest.raises(SandboxError):
        _ = sandbox.url
    with sandbox as sb:
        assert sb.running and sb.url == f"http://127.0.0.1:{sb.port}"
        assert len(sandbox_threads()) == 1 and sandbox_threads()[0].daemon
        assert httpx.get(f"{sb.url}/__sandbox__/health").status_code == 200
        port = sb.port
    assert not sandbox.running and not sandbox_threads()
    assert port_is_closed(port)
    sandbox.close()  # idempotent
    with pytest.raises(SandboxError, match="once"):
        sandbox.start()
    Sandbox().close()  # closing a never-started sandbox is fine


def test_instances_carry_the_url(sandbox: Sandbox, instance: SandboxInstance) -> None:
    assert instance.api_url == instance.media_url == sandbox.url


def test_two_sandboxes_are_independent() -> None:
    with Sandbox() as one, Sandbox() as two:
        assert one.port != two.port
        inst = one.create_instance()
        url = f"{two.url}/waInstance{inst.id_instance}/getStateInstance/{inst.api_token}"
        assert httpx.get(url).status_code == 403


def test_a_busy_port_fails_start_cleanly() -> None:
    with Sandbox() as first:
        second = Sandbox(port=first.port)
        with pytest.raises(OSError):
            second.start()
        assert len(sandbox_threads()) == 1
        assert not second.running


def test_no_leaked_sockets_threads_or_resource_warnings() -> None:
    def cycle() -> None:
        with Sandbox(max_receive_wait=0.05) as sb, httpx.Client() as client:
            inst = sb.create_instance()
            base = f"{sb.url}/waInstance{inst.id_instance}"
            client.post(f"{base}/sendMessage/{inst.api_token}", json={"chatId": CHAT, "message": "x"})
            client.get(f"{base}/receiveNotification/{inst.api_token}")

    cycle()  # warm up lazy imports and caches
    gc.collect()
    before = open_fds()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(8):
            cycle()
        gc.collect()
    assert open_fds() <= before
    assert not sandbox_threads()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_close_with_open_keep_alive_connections_is_quick() -> None:
    sb = Sandbox().start()
    clients = [httpx.Client() for _ in range(5)]
    try:
        for client in clients:
            assert client.get(f"{sb.url}/__sandbox__/health").status_code == 200
        started = time.monotonic()
        sb.close()
        assert time.monotonic() - started < 2
        assert not sandbox_threads()
    finally:
        for client in clients:
            client.close()


def test_tcp_nodelay_and_keep_alive_make_sequential_requests_fast(sandbox: Sandbox, api: Api) -> None:
    """With Nagle + delayed ACK a keep-alive client would stall ~40 ms per request."""
    with httpx.Client() as client:
        info = [client.get(f"{sandbox.url}/__sandbox__/connection").json() for _ in range(3)]
        assert all(i["tcpNodelay"] for i in info)
        assert len({i["clientPort"] for i in info}) == 1  # one connection, reused
        started = time.perf_counter()
        for n in range(200):
            response = client.post(api.url("sendMessage"), json={"chatId": CHAT, "message": str(n)})
            assert response.status_code == 200
        elapsed = time.perf_counter() - started
    assert elapsed < 3.0, f"200 keep-alive sends took {elapsed:.2f}s"  # 40 ms stalls: 8 s


def test_two_hundred_concurrent_clients_are_all_answered(sandbox: Sandbox, api: Api) -> None:
    # aiohttp as the client: httpx's async pool is itself ~10x slower at this (see bench/).
    async def main() -> list[tuple[int, dict[str, Any]]]:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=250)) as session:

            async def send(n: int) -> tuple[int, dict[str, Any]]:
                body = {"chatId": CHAT, "message": f"m{n}"}
                async with session.post(api.url("sendMessage"), json=body) as response:
                    return response.status, await response.json()

            return await asyncio.gather(*(send(n) for n in range(200)))

    started = time.monotonic()
    results = asyncio.run(main())
    assert time.monotonic() - started < 5
    assert [status for status, _ in results] == [200] * 200
    ids = {body["idMessage"] for _, body in results}
    assert len(ids) == 200
    assert {m.id_message for m in sandbox.sent_messages(api.instance)} == ids


@pytest.mark.green_api_sandbox(max_receive_wait=20)
def test_hundreds_of_long_polls_wait_together_and_all_wake(sandbox: Sandbox) -> None:
    instances = [sandbox.create_instance() for _ in range(200)]

    async def main() -> tuple[list[Any], float]:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=250)) as session:

            async def poll(inst: Any) -> Any:
                url = Api(inst).url("receiveNotification")
                async with session.get(url, params={"receiveTimeout": "20"}) as response:
                    return await response.json()

            tasks = [asyncio.create_task(poll(i)) for i in instances]
            await asyncio.sleep(0.3)  # every poll is now parked on the server
            assert not any(t.done() for t in tasks)
            started = time.monotonic()
            for n, inst in enumerate(instances):  # from this thread, while the server loop runs
                sandbox.inject_incoming_text(inst, CHAT, f"for {n}")
            results = await asyncio.gather(*tasks)
            return results, time.monotonic() - started

    results, woke_in = asyncio.run(main())
    texts = [r["body"]["messageData"]["textMessageData"]["textMessage"] for r in results]
    assert texts == [f"for {n}" for n in range(200)]
    assert woke_in < 3


@pytest.mark.green_api_sandbox(max_receive_wait=0.5)
def test_control_calls_from_many_threads_while_clients_drain(sandbox: Sandbox, api: Api) -> None:
    inst = api.instance
    barrier = threading.Barrier(5)

    def producer(k: int) -> None:
        barrier.wait()
        for n in range(40):
            sandbox.inject_incoming_text(inst, CHAT, f"{k}:{n}")

    threads = [threading.Thread(target=producer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    seen: list[str] = []
    with httpx.Client() as client:
        barrier.wait()
        while len(seen) < 160:
            item = client.get(api.url("receiveNotification")).json()
            if item is None:
                continue
            seen.append(item["body"]["messageData"]["textMessageData"]["textMessage"])
            assert client.delete(api.url("deleteNotification", str(item["receiptId"]))).json()["result"]
    for t in threads:
        t.join()
    assert sorted(seen) == sorted(f"{k}:{n}" for k in range(4) for n in range(40))
    for k in range(4):  # each producer's messages arrive in its order
        mine = [s for s in seen if s.startswith(f"{k}:")]
        assert mine == [f"{k}:{n}" for n in range(40)]
