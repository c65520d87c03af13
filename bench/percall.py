"""The block's own work per call, with no network: an in-process transport answers at once.

``block.execute("green_api_send_message", ...)`` over an httpx transport whose
``handle_request`` returns a prebuilt response is everything the block does for a call
(validation, request building, the wire wrapper, response mapping) and nothing else. The same
request through a raw ``httpx.Client`` over the same transport is the reference.

The breakdown (validation, request building, response mapping) times the block's internal steps
one by one; it reaches into private methods, so it is best-effort and skipped if they change.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from .clients import CHAT_ID, JSON_HEADERS, MESSAGE, send_body

__all__ = ["InstantTransport", "measure_percall"]

ID_INSTANCE = "1101000001"
API_TOKEN = "d75b3a66374942c5b3c019c698abc2067e151558acbd412345"
BASE = "http://127.0.0.1:9"
ANSWER = b'{"idMessage":"BAE5F4886F6F2D05"}'


class InstantTransport(httpx.BaseTransport):
    """Answers every request with the same 200 JSON body, at once (no socket, no thread)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers=[(b"Content-Type", b"application/json")], content=ANSWER, request=request
        )


def _per_call_us(fn: Callable[[], Any], n: int, repeats: int) -> float:
    """The median over ``repeats`` runs of the mean CPU microseconds per call of ``n`` calls.

    CPU time of this process, not wall time: on a shared machine another process taking the CPU
    away inflates wall time, not this.
    """
    for _ in range(max(n // 10, 10)):
        fn()
    samples = []
    for _ in range(repeats):
        gc.collect()
        start = time.process_time()
        for _ in range(n):
            fn()
        samples.append((time.process_time() - start) / n * 1e6)
    samples.sort()
    return samples[len(samples) // 2]


def _interleaved(fns: dict[str, Callable[[], Any]], n: int, chunks: int) -> dict[str, float]:
    """Median CPU µs per call of each function, timed in alternating chunks of ``n`` calls.

    Alternating cancels the drift of a shared machine (frequency, a neighbour's load) between
    the functions compared: each chunk of one is next to a chunk of the others.
    """
    for fn in fns.values():
        for _ in range(max(n, 10)):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(chunks):
        for name, fn in fns.items():
            start = time.process_time()
            for _ in range(n):
                fn()
            samples[name].append((time.process_time() - start) / n * 1e6)
    return {name: sorted(xs)[len(xs) // 2] for name, xs in samples.items()}


def measure_percall(n: int = 5000, repeats: int = 7) -> dict[str, float]:
    from green_api_block import GreenApiBlock

    block = GreenApiBlock(
        BASE,
        id_instance=ID_INSTANCE,
        api_token=API_TOKEN,
        credentials_from_env=False,
        rate_limits=False,
        transport=InstantTransport(),
    )
    args = {"chatId": CHAT_ID, "message": MESSAGE}

    def block_call() -> Any:
        return block.execute("green_api_send_message", args)

    client = httpx.Client(transport=InstantTransport(), headers=JSON_HEADERS)
    url = f"{BASE}/waInstance{ID_INSTANCE}/sendMessage/{API_TOKEN}"
    body = send_body()

    def raw_call() -> Any:
        response = client.post(url, content=body)
        response.raise_for_status()
        return response.json()

    transport = InstantTransport()
    request = httpx.Request("POST", url, headers=JSON_HEADERS, content=body)

    def transport_only() -> Any:
        response = transport.handle_request(request)
        response.read()
        response.close()
        return response

    out = _interleaved(
        {"block_us": block_call, "httpx_client_us": raw_call, "transport_us": transport_only},
        max(n // 5, 1),
        repeats * 5,
    )
    out["block_own_us"] = out["block_us"] - out["transport_us"]
    out["httpx_client_own_us"] = out["httpx_client_us"] - out["transport_us"]
    out.update(_breakdown(block, args, n, repeats))
    block.close()
    client.close()
    return out


def _breakdown(block: Any, args: dict[str, Any], n: int, repeats: int) -> dict[str, float]:
    """Validation, request building and response mapping timed apart (private API: best-effort)."""
    tool = "green_api_send_message"
    try:
        block.execute(tool, args)  # loads the models, opens the session
        session = block._sync_session()
        plan, creds = block._prepare(tool, args)[:2]
        call = next(plan)
        target, content, timeout = session._request_parts(creds, call)
        from green_api_block.transport import WireResponse

        answer = WireResponse(200, httpx.Headers({"Content-Type": "application/json"}), ANSWER)

        def validate() -> Any:
            return block._prepare(tool, args)

        def build() -> Any:
            plan, creds = block._prepare(tool, args)[:2]
            call = next(plan)
            return session._request_parts(creds, call)

        def build_and_map() -> Any:
            plan, creds = block._prepare(tool, args)[:2]
            call = next(plan)
            target, _content, _timeout = session._request_parts(creds, call)
            body = session._read(call, target, answer, tool)
            try:
                plan.send(body)
            except StopIteration as done:
                return done.value
            raise RuntimeError("the plan did not finish")

        validate_us = _per_call_us(validate, n, repeats)
        build_us = _per_call_us(build, n, repeats)
        all_us = _per_call_us(build_and_map, n, repeats)
        json.dumps([target.display, len(content or b""), dict(timeout)])  # keep them referenced
    except Exception:  # the internals moved on: the total above still stands
        return {}
    return {
        "validation_us": validate_us,
        "request_building_us": max(build_us - validate_us, 0.0),
        "response_mapping_us": max(all_us - build_us, 0.0),
    }


if __name__ == "__main__":
    import sys

    print(json.dumps(measure_percall(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)))
