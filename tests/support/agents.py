"""Shared by the agent-facing tests (guard, LangChain, MCP): chats, a quick retry, the canary check."""

from __future__ import annotations

import json
import selectors
import signal
import subprocess
import sys
import time
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


def start_mcp(
    args: list[str], env: dict[str, str], *, stdout: int = subprocess.DEVNULL
) -> tuple[subprocess.Popen[str], str, str]:
    """Start ``green-api-block mcp --http 0 ...``; returns the process, its URL and its stderr so far.

    Waits for the URL line at most 30 s (a failure bound): the server prints it once it listens.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "green_api_block", "mcp", "--http", "0", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stderr, selectors.EVENT_READ)
    url, seen, deadline = None, "", time.monotonic() + 30
    while url is None and time.monotonic() < deadline and selector.select(deadline - time.monotonic()):
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
        if "serving streamable HTTP at " in line:
            url = line.split(" at ", 1)[1].split()[0]
    if url is None:
        stop(proc)
        pytest.fail(f"the MCP server did not start: {seen}")
    return proc, url, seen


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
