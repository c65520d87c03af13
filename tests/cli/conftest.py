"""Run ``green-api-block`` as a user would: a real process, against the embedded sandbox.

Every run is checked for the canary token (the sandbox instance's token) in stdout and stderr.
The environment is scrubbed of the caller's Green API settings and points HOME and the config
file at a temporary directory, so a developer's own profile can never leak into a test.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import green_api_block
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.conftest import CANARY

ROOT = Path(green_api_block.__file__).resolve().parent.parent
BOT_SETTINGS = {
    "incomingWebhook": "yes",
    "outgoingWebhook": "yes",
    "outgoingAPIMessageWebhook": "yes",
    "stateWebhook": "yes",
}
CUSTOMER = "79001234567@c.us"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


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


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    # Empty polls come back after 0.3 s instead of receiveTimeout: watch loops fast in tests.
    with Sandbox(max_receive_wait=0.3, rate_limits=False) as sb:
        yield sb


@pytest.fixture
def instance(sandbox: Sandbox) -> SandboxInstance:
    return sandbox.create_instance(api_token=CANARY, settings=BOT_SETTINGS)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def env(home: Path, sandbox: Sandbox, instance: SandboxInstance) -> dict[str, str]:
    """The environment of a configured user: host and credentials from GREEN_API_* variables."""
    return {
        **base_env(home),
        "GREEN_API_URL": sandbox.url,
        "GREEN_API_ID_INSTANCE": instance.id_instance,
        "GREEN_API_TOKEN_INSTANCE": CANARY,
    }


Cli = Callable[..., Result]


@pytest.fixture
def cli(env: dict[str, str]) -> Cli:
    def run(
        *args: str, input: str | None = None, extra_env: Mapping[str, str | None] | None = None, **kw: Any
    ) -> Result:
        run_env = dict(env)
        for key, value in (extra_env or {}).items():
            if value is None:
                run_env.pop(key, None)
            else:
                run_env[key] = value
        proc = subprocess.run(
            command(*args),
            env=run_env,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=kw.pop("timeout", 30),
            cwd=kw.pop("cwd", ROOT),
            **kw,
        )
        assert_no_canary(proc.stdout, proc.stderr)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def run_main(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """The same command line in this process: for the long tables of error cases, where a new
    interpreter per case would only add seconds."""
    from green_api_block.cli import main

    def run(
        *args: str, input: str | None = None, extra_env: Mapping[str, str | None] | None = None
    ) -> Result:
        with monkeypatch.context() as m:
            for key in [k for k in os.environ if k.startswith(("GREEN_API", "XDG_"))]:
                m.delenv(key)
            for key, value in {**env, **(extra_env or {})}.items():
                if value is None:
                    m.delenv(key, raising=False)
                else:
                    m.setenv(key, value)
            m.setattr(sys, "stdin", io.StringIO(input or ""))
            code = main(list(args))
        out, err = capsys.readouterr()
        assert_no_canary(out, err)
        return Result(code, out, err)

    return run
