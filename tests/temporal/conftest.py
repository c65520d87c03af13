"""One real Temporal dev server per test process (xdist worker), and a client per test.

Clients are released in teardown (dropped and garbage-collected): a temporalio client still alive
at interpreter exit can abort the process with exit 134 (ENGINES.md §1).
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from temporalio.client import Client

from green_api_block.integrations.temporal.devserver import TemporalDevServer
from green_api_block.integrations.temporal.worker import connect_client


@pytest.fixture(scope="session")
def temporal_server() -> Iterator[TemporalDevServer]:
    with TemporalDevServer() as server:
        yield server


@pytest_asyncio.fixture
async def temporal_client(temporal_server: TemporalDevServer) -> AsyncIterator[Client]:
    # Retries while the freshly started server finishes booting (bounded).
    client = await connect_client(temporal_server.address, retry_for=30.0)
    yield client
    del client
    gc.collect()
