"""The receiver's fixtures: an ASGI client on a receiver, a handler that records what it got."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from green_api_block.events import Event
from green_api_block.webhook import WebhookReceiver
from tests.cli.conftest import cli, env, home  # noqa: F401 - the CLI tests' fixtures, reused
from tests.support.credentials import CANARY


class Recorder:
    """An async handler that records events; ``fail``/``block`` steer the next calls."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.calls = 0
        self.fail_next = 0
        self.gate: asyncio.Event | None = None
        self.entered = 0

    async def __call__(self, event: Event) -> None:
        self.calls += 1
        self.entered += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError(f"boom with {CANARY} and {event.raw}")
        self.events.append(event)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


Make = Callable[..., WebhookReceiver]


@pytest.fixture
def make(recorder: Recorder) -> Make:
    def build(**kw: Any) -> WebhookReceiver:
        kw.setdefault("token", CANARY)
        handler = kw.pop("handler", recorder)
        return WebhookReceiver(handler, **kw)

    return build


def client_for(app: WebhookReceiver, token: str | None = CANARY) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://receiver", headers=headers)


@pytest.fixture
async def client(make: Make) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(make()) as c:
        yield c


async def until(predicate: Callable[[], bool], what: str, limit: float = 5.0) -> None:
    """Poll ``predicate`` on the loop, up to ``limit`` seconds (a bound, not a sleep to hope on)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)
