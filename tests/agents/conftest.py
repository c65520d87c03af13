"""Fixtures for the agent-facing parts: a block on the plugin's sandbox instance.

Each test module on the sandbox sets ``pytestmark = SANDBOX`` (``tests/support/agents.py``), which
makes the instance's token the canary.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from green_api_block import GreenApiBlock
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.agents import FAST
from tests.support.credentials import CANARY


@pytest.fixture(autouse=True)
def token_is_the_canary(request: pytest.FixtureRequest) -> None:
    """The canary checks here prove nothing unless the instance's token is the canary."""
    if "green_api_instance" in request.fixturenames:
        token = request.getfixturevalue("green_api_instance").api_token
        assert token == CANARY, "this module needs pytestmark = SANDBOX (tests/support/agents.py)"


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
