"""Fixtures for the agent-facing parts: a sandbox instance whose token is the canary."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from green_api_block import GreenApiBlock
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.agents import FAST
from tests.support.credentials import CANARY


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    # Short empty polls keep get_notifications quick; the block's own limiter spaces calls, so
    # the sandbox's 429s are switched off except where a test injects one.
    with Sandbox(max_receive_wait=0.2, rate_limits=False) as sb:
        yield sb


@pytest.fixture
def instance(sandbox: Sandbox) -> SandboxInstance:
    return sandbox.create_instance(api_token=CANARY, settings={"incomingWebhook": "yes"})


@pytest.fixture
def block(sandbox: Sandbox, instance: SandboxInstance) -> Iterator[GreenApiBlock]:
    with GreenApiBlock(
        sandbox.url,
        id_instance=instance.id_instance,
        api_token=instance.api_token,
        credentials_from_env=False,
        retry=FAST,
    ) as b:
        yield b
