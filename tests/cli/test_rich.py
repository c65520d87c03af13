"""rich draws the terminal UI, and stays out of everything that draws nothing."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from green_api_block.cli.output import Ui
from green_api_block.redact import register_secret
from tests.support.cli import ROOT
from tests.support.credentials import CANARY


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _loads_rich(code: str) -> bool:
    # httpx imports its own CLI, rich included, whenever click is installed too (encode/httpx#3547;
    # here click comes with the mcp extra). With click unimportable, as in a plain install, any
    # rich left in sys.modules was imported by us.
    probe = f"import sys\nsys.modules['click'] = None\n{code}\nprint('rich' in sys.modules, file=sys.stderr)"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True, cwd=ROOT
    )
    return done.stderr.strip().splitlines()[-1] == "True"


def test_importing_the_library_does_not_load_rich() -> None:
    assert not _loads_rich("import green_api_block\nfrom green_api_block import GreenApiBlock")


def test_plain_and_json_output_do_not_load_rich() -> None:
    # stdout is a pipe here: tab-separated rows and JSON need no rich.
    assert not _loads_rich("from green_api_block.cli import main\nmain(['tools'])\nmain(['--json', 'tools'])")


def test_a_table_on_a_terminal_is_aligned_cut_and_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv("NO_COLOR", "1")
    register_secret(CANARY)
    out = FakeTty()
    Ui(stdout=out, stderr=io.StringIO()).table(
        ("tool", "kind", "description"),
        [("sendMessage", "send", "x" * 100), ("getStateInstance", "read", f"token {CANARY} here")],
    )
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["TOOL", "KIND", "DESCRIPTION"]
    assert lines[1].startswith("sendMessage       send  xxx") and lines[1].endswith("…")
    assert all(len(line) <= 60 for line in lines)
    assert "\x1b" not in out.getvalue()  # NO_COLOR: not even bold
    assert CANARY not in out.getvalue() and "token ***" in lines[2]
