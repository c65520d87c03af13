from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest

from green_api_block import GreenApiBlock, RetryPolicy
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.credentials import CANARY, ID
from tests.support.stub_server import StubServer


# The suite's sandbox is the shipped plugin's (green_api_block/sandbox/pytest_plugin.py), under
# short names. Its options come from markers, usually one per module:
#     pytestmark = pytest.mark.green_api_sandbox(rate_limits=False, max_receive_wait=0.2)
#     @pytest.mark.green_api_instance(api_token=CANARY, settings={})
@pytest.fixture(autouse=True)
def no_server_thread_left_behind() -> Iterator[None]:
    """Fail a test that leaves one of our server threads (sandbox, preview, ...) running.

    Threads of wider-scoped fixtures start before this snapshot and are not counted.
    """
    before = set(threading.enumerate())
    yield
    left = [t.name for t in threading.enumerate() if t not in before and t.name.startswith("green-api")]
    assert not left, f"threads left running: {left}"


@pytest.fixture
def sandbox(green_api_sandbox: Sandbox) -> Sandbox:
    """The plugin's ``green_api_sandbox``: a fresh sandbox per test (``@pytest.mark.green_api_sandbox``)."""
    return green_api_sandbox


@pytest.fixture
def instance(green_api_instance: SandboxInstance) -> SandboxInstance:
    """The plugin's ``green_api_instance`` on ``sandbox`` (``@pytest.mark.green_api_instance``)."""
    return green_api_instance


@pytest.fixture
def canary() -> str:
    return CANARY


@pytest.fixture
def creds() -> dict[str, str]:
    return {"idInstance": ID, "apiTokenInstance": CANARY}


@pytest.fixture
def fast_retry() -> RetryPolicy:
    return RetryPolicy(max_retries=3, backoff_initial=0.001, backoff_max=0.005)


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture every level of our, httpx's, httpcore's and aiohttp's loggers."""
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "httpcore.http11", "httpcore.connection", "aiohttp", "green_api_block"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.fixture
def block_factory(fast_retry: RetryPolicy) -> Iterator[object]:
    made: list[GreenApiBlock] = []

    def make(url: str, **kw: object) -> GreenApiBlock:
        kw.setdefault("retry", fast_retry)
        kw.setdefault("credentials_from_env", False)
        block = GreenApiBlock(url, **kw)  # type: ignore[arg-type]
        made.append(block)
        return block

    yield make
    for block in made:
        block.close()
