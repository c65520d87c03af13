"""Fixtures for the sandbox's own tests, on the plugin's sandbox and instance (``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from green_api_block.sandbox import SandboxInstance
from tests.support.sandbox_http import Api, sandbox_threads


@pytest.fixture(autouse=True)
def no_leaked_sandbox_threads() -> Iterator[None]:
    """Every test here must leave no sandbox server thread behind."""
    yield
    leaked = sandbox_threads()
    assert not leaked, f"sandbox threads still alive: {leaked}"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def api(instance: SandboxInstance) -> Api:
    """Green API URLs of the plugin's instance (``green_api_instance``: the bot's notifications on)."""
    return Api(instance)
