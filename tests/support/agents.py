"""Shared by the agent-facing tests (guard, LangChain, MCP): chats, a quick retry, the canary check."""

from __future__ import annotations

import json
from typing import Any

from green_api_block import RetryPolicy
from tests.support.credentials import CANARY

CUSTOMER = "79001234567@c.us"
GROUP = "120363043968066561@g.us"
STRANGER = "79990000001@c.us"
FAST = RetryPolicy(max_retries=1, backoff_initial=0.001, backoff_max=0.002)


def assert_no_canary(*things: Any) -> None:
    for thing in things:
        text = thing if isinstance(thing, str) else json.dumps(thing, default=repr)
        assert CANARY not in text
