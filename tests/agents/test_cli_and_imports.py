"""``green-api-block mcp`` refusing to start, and import hygiene of the agent modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from green_api_block.cli import main


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in (
        "GREEN_API_ID_INSTANCE",
        "GREEN_API_TOKEN_INSTANCE",
        "GREEN_API_URL",
        "GREEN_API_BLOCK_PROFILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GREEN_API_BLOCK_CONFIG", str(tmp_path / "config.toml"))
    return tmp_path


def test_mcp_without_credentials_exits_3_with_where_to_put_them(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["mcp"]) == 3
    out, err = capsys.readouterr()
    assert out == ""  # on stdio, stdout belongs to the protocol
    assert "GREEN_API_TOKEN_INSTANCE" in err


def test_mcp_with_a_broken_allowlist_exits_3(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GREEN_API_ID_INSTANCE", "1101000001")
    monkeypatch.setenv("GREEN_API_TOKEN_INSTANCE", "canaryT0KEN0123456789abcdef0123456789abcdef01234567")
    monkeypatch.setenv("GREEN_API_ALLOWED_CHATS", "79001234567@c.us, Ann")
    assert main(["mcp"]) == 3
    err = capsys.readouterr().err
    assert "GREEN_API_ALLOWED_CHATS: entry 2 ('Ann')" in err
    assert "canaryT0KEN" not in err


def test_mcp_takes_no_token_flag(clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["mcp", "--api-token", "secret"])
    assert "unrecognized arguments" in capsys.readouterr().err


def test_importing_the_package_and_exporting_loads_no_framework() -> None:
    code = (
        "import sys, green_api_block\n"
        "from green_api_block import GreenApiBlock\n"
        "import green_api_block.guard, green_api_block.mcp_server, green_api_block.integrations\n"
        "GreenApiBlock(credentials_from_env=False).export_tools('mcp')\n"
        "frameworks = ('mcp', 'mcp_types', 'langchain_core')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in frameworks)\n"
        "print(loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
