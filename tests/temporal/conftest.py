"""One real Temporal dev server per test process (xdist worker), and a client per test.

Clients are released in teardown (dropped and garbage-collected): a temporalio client still alive
at interpreter exit can abort the process with exit 134 (ENGINES.md §1).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from temporalio.client import Client

from tests.support.temporal_server import TemporalDevServer


@pytest.fixture(scope="session")
def temporal_server() -> Iterator[TemporalDevServer]:
    with TemporalDevServer() as server:
        yield server


async def connect(address: str, *, timeout: float = 30.0) -> Client:
    """A client, retrying while the freshly started server finishes booting (bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            return await Client.connect(address, namespace="default")
        except RuntimeError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.2)


@pytest_asyncio.fixture
async def temporal_client(temporal_server: TemporalDevServer) -> AsyncIterator[Client]:
    client = await connect(temporal_server.address)
    yield client
    del client
    gc.collect()
