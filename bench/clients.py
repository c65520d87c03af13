"""The clients the benchmark compares, all making the same ``sendMessage`` request.

Each factory returns ``(call, close)``; ``call()`` makes one complete call (request, response
read, JSON decoded, the result checked) and raises if the answer is not a success. The async
factories are coroutines returning ``(acall, aclose)``, made inside the event loop that uses them.

The block runs with its client-side rate limiter off (``rate_limits=False``): with it on, it
spaces ``sendMessage`` to Green API's 50/s per instance on purpose, which is not what is measured.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ASYNC_CLIENTS",
    "CHAT_ID",
    "MESSAGE",
    "SYNC_CLIENTS",
    "Target",
]

CHAT_ID = "79001234567@c.us"
MESSAGE = "Order #42 is ready for pick-up"
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}

SyncPair = tuple[Callable[[], Any], Callable[[], None]]
AsyncPair = tuple[Callable[[], Awaitable[Any]], Callable[[], Awaitable[None]]]


@dataclass(frozen=True)
class Target:
    url: str
    id_instance: str
    api_token: str

    @property
    def send_url(self) -> str:
        return f"{self.url}/waInstance{self.id_instance}/sendMessage/{self.api_token}"


def send_body() -> bytes:
    """The body the block sends for ``{"chatId": CHAT_ID, "message": MESSAGE}``, byte for byte."""
    return json.dumps(
        {"chatId": CHAT_ID, "message": MESSAGE}, ensure_ascii=False, separators=(",", ":")
    ).encode()


def _check(data: Any) -> Any:
    if not isinstance(data, dict) or not data.get("idMessage"):
        raise RuntimeError(f"unexpected answer: {data!r}")
    return data


def _block(target: Target, **kw: Any) -> Any:
    from green_api_block import GreenApiBlock

    return GreenApiBlock(
        target.url,
        id_instance=target.id_instance,
        api_token=target.api_token,
        credentials_from_env=False,
        rate_limits=False,
        **kw,
    )


_ARGS = {"chatId": CHAT_ID, "message": MESSAGE}


# ------------------------------------------------------------------------------------------------ sync


def sync_block(target: Target) -> SyncPair:
    block = _block(target)

    def call() -> Any:
        out = block.execute("green_api_send_message", _ARGS)
        if not out.get("success"):
            raise RuntimeError(f"unexpected answer: {out!r}")
        return out

    return call, block.close


def sync_httpx(target: Target) -> SyncPair:
    import httpx

    client = httpx.Client(headers=JSON_HEADERS)
    url, body = target.send_url, send_body()

    def call() -> Any:
        response = client.post(url, content=body)
        response.raise_for_status()
        return _check(response.json())

    return call, client.close


def sync_sdk(target: Target) -> SyncPair:
    # The official SDK ships neither type hints nor a py.typed marker.
    from whatsapp_api_client_python import API  # type: ignore[import-untyped]

    api = API.GreenAPI(target.id_instance, target.api_token, host=target.url, media=target.url)

    def call() -> Any:
        response = api.sending.sendMessage(CHAT_ID, MESSAGE)
        if response.code != 200:
            raise RuntimeError(f"unexpected answer: {response.code} {response.error}")
        return _check(response.data)

    return call, api.session.close


SYNC_CLIENTS: dict[str, Callable[[Target], SyncPair]] = {
    "block": sync_block,
    "httpx": sync_httpx,
    "sdk": sync_sdk,
}


# ------------------------------------------------------------------------------------------------ async


async def async_block(target: Target) -> AsyncPair:
    block = _block(target)

    async def call() -> Any:
        out = await block.aexecute("green_api_send_message", _ARGS)
        if not out.get("success"):
            raise RuntimeError(f"unexpected answer: {out!r}")
        return out

    return call, block.aclose


async def async_block_httpcore(target: Target) -> AsyncPair:
    """The block with httpx's own async transport (httpcore's pool) instead of aiohttp."""
    block = _block(target, async_transport="httpcore")

    async def call() -> Any:
        return await block.aexecute("green_api_send_message", _ARGS)

    return call, block.aclose


async def async_aiohttp(target: Target) -> AsyncPair:
    import aiohttp

    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256))
    url, body = target.send_url, send_body()

    async def call() -> Any:
        async with session.post(url, data=body, headers=JSON_HEADERS) as response:
            response.raise_for_status()
            return _check(json.loads(await response.read()))

    return call, session.close


async def async_httpx(target: Target) -> AsyncPair:
    """Plain ``httpx.AsyncClient`` (httpcore's pool): the known trap, for reference."""
    import httpx

    limits = httpx.Limits(max_connections=256, max_keepalive_connections=128)
    client = httpx.AsyncClient(headers=JSON_HEADERS, limits=limits)
    url, body = target.send_url, send_body()

    async def call() -> Any:
        response = await client.post(url, content=body)
        response.raise_for_status()
        return _check(response.json())

    return call, client.aclose


async def async_sdk(target: Target) -> AsyncPair:
    from whatsapp_api_client_python import API

    api = API.GreenAPI(target.id_instance, target.api_token, host=target.url, media=target.url)

    async def call() -> Any:
        response = await api.sending.sendMessageAsync(CHAT_ID, MESSAGE)
        if response.code != 200:
            raise RuntimeError(f"unexpected answer: {response.code} {response.error}")
        return _check(response.data)

    async def close() -> None:
        api.session.close()

    return call, close


ASYNC_CLIENTS: dict[str, Callable[[Target], Awaitable[AsyncPair]]] = {
    "block": async_block,
    "block-httpcore": async_block_httpcore,
    "aiohttp": async_aiohttp,
    "httpx": async_httpx,
    "sdk": async_sdk,
}
