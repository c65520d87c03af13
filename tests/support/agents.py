"""Shared by the agent-facing tests (guard, LangChain, MCP): chats, a quick retry, the canary check."""

from __future__ import annotations

import json
from typing import Any

import pytest

from green_api_block import RetryPolicy
from tests.support.credentials import CANARY

CUSTOMER = "79001234567@c.us"
GROUP = "120363043968066561@g.us"
STRANGER = "79990000001@c.us"
FAST = RetryPolicy(max_retries=1, backoff_initial=0.001, backoff_max=0.002)

#: ``pytestmark`` of every agent test module on the sandbox: the instance's token is the canary.
#: Short empty polls keep get_notifications quick; the block's own limiter spaces calls, so the
#: sandbox's 429s are switched off except where a test injects one.
SANDBOX = [
    pytest.mark.green_api_sandbox(max_receive_wait=0.2, rate_limits=False),
    pytest.mark.green_api_instance(api_token=CANARY, settings={"incomingWebhook": "yes"}),
]


def assert_no_canary(*things: Any) -> None:
    for thing in things:
        text = thing if isinstance(thing, str) else json.dumps(thing, default=repr)
        assert CANARY not in text
