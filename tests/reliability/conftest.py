"""Fixtures of the reliability suite: one sandbox per module, a fresh instance (and no faults) per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from green_api_block.sandbox import Sandbox, SandboxInstance


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    # The server's own limiter is off here: these tests count requests and inject 429s on purpose
    # (test_rate_limits.py turns it on). Empty polls end after 50 ms instead of 5 s.
    with Sandbox(rate_limits=False, max_receive_wait=0.05) as sb:
        yield sb


@pytest.fixture
def instance(sandbox: Sandbox) -> Iterator[SandboxInstance]:
    sandbox.clear_faults()
    inst = sandbox.create_instance()
    yield inst
    sandbox.clear_faults()
    sandbox.remove_instance(inst)
