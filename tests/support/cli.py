"""Run ``green-api-block`` as a user would: the pieces shared by the CLI tests and their fixtures.

Every run is checked for the canary token (the sandbox instance's token) in stdout and stderr.
The environment is scrubbed of the caller's Green API settings and points HOME and the config
file at a temporary directory, so a developer's own profile can never leak into a test.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import green_api_block
from tests.support.credentials import CANARY

ROOT = Path(green_api_block.__file__).resolve().parent.parent
CUSTOMER = "79001234567@c.us"

#: ``pytestmark`` of every CLI test module on the sandbox: the instance's token is the canary (the
#: ``env`` fixture hands it to the command line), with the bot's notifications on. Empty polls come
#: back after 0.3 s instead of receiveTimeout, so watch loops fast; no 429s.
SANDBOX = [
    pytest.mark.green_api_sandbox(max_receive_wait=0.3, rate_limits=False),
    pytest.mark.green_api_instance(api_token=CANARY),
]


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


#: ``cli(*args, input=..., extra_env=...)`` and ``run_main(...)``: one command line, its result.
Cli = Callable[..., Result]


def base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GREEN_API", "XDG_"))}
    env.pop("NO_COLOR", None)
    env.update(
        HOME=str(home),
        GREEN_API_BLOCK_CONFIG=str(home / "config.toml"),
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    return env


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "green_api_block", *args]


def assert_no_canary(*texts: str) -> None:
    for text in texts:
        assert CANARY not in text, "the token leaked into the CLI's output"
