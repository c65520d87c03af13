"""Fixtures for the sandbox's own tests (users get theirs from the pytest plugin)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.sandbox_http import Api, sandbox_threads

BOT_SETTINGS = {
    "incomingWebhook": "yes",
    "outgoingWebhook": "yes",
    "outgoingAPIMessageWebhook": "yes",
    "stateWebhook": "yes",
}


@pytest.fixture(autouse=True)
def no_leaked_sandbox_threads() -> Iterator[None]:
    """Every test here must leave no sandbox server thread behind."""
    yield
    leaked = sandbox_threads()
    assert not leaked, f"sandbox threads still alive: {leaked}"


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    # Limits off so that tests can call 1-RPS methods back to back; the limiter has its own tests.
    with Sandbox(rate_limits=False, max_receive_wait=0.2) as sandbox:
        yield sandbox


@pytest.fixture
def inst(sb: Sandbox) -> SandboxInstance:
    return sb.create_instance(settings=BOT_SETTINGS)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def api(inst: SandboxInstance) -> Api:
    return Api(inst)
