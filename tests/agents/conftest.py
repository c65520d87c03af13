"""Fixtures for the agent-facing parts: a sandbox instance whose token is the canary."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from green_api_block import GreenApiBlock, RetryPolicy
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.conftest import CANARY

CUSTOMER = "79001234567@c.us"
GROUP = "120363043968066561@g.us"
STRANGER = "79990000001@c.us"
FAST = RetryPolicy(max_retries=1, backoff_initial=0.001, backoff_max=0.002)


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


def assert_no_canary(*things: Any) -> None:
    for thing in things:
        text = thing if isinstance(thing, str) else json.dumps(thing, default=repr)
        assert CANARY not in text
