"""Run a tool through the sync or one of the async transports with one call shape."""

from __future__ import annotations

import asyncio
from typing import Any

from green_api_block import GreenApiBlock

MODES = ("sync", "async-aiohttp", "async-httpcore")


def block_for(mode: str, url: str, **kw: Any) -> GreenApiBlock:
    kw.setdefault("credentials_from_env", False)
    kw.setdefault("rate_limits", False)  # wire tests count requests; spacing them only slows CI
    if mode == "async-httpcore":
        kw.setdefault("async_transport", "httpcore")
    return GreenApiBlock(url, **kw)


def run(mode: str, block: GreenApiBlock, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    if mode == "sync":
        return block.execute(tool, args)

    async def go() -> dict[str, Any]:
        try:
            return await block.aexecute(tool, args)
        finally:
            await block.aclose()

    return asyncio.run(go())
