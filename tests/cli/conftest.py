"""Fixtures of the CLI tests: the command line in a real process or in this one, against the sandbox.

The sandbox and instance are the plugin's; each test module on them sets ``pytestmark = SANDBOX``.
The helpers shared with the tests (``Cli``, ``command``, ``assert_no_canary``, ...) live in
``tests/support/cli.py``.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.cli import ROOT, Cli, Result, assert_no_canary, base_env, command
from tests.support.credentials import CANARY


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def env(home: Path, sandbox: Sandbox, instance: SandboxInstance) -> dict[str, str]:
    """The environment of a configured user: host and credentials from GREEN_API_* variables."""
    assert instance.api_token == CANARY, "this module needs pytestmark = SANDBOX (tests/support/cli.py)"
    return {
        **base_env(home),
        "GREEN_API_URL": sandbox.url,
        "GREEN_API_ID_INSTANCE": instance.id_instance,
        "GREEN_API_TOKEN_INSTANCE": CANARY,
    }


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
