"""``watch`` on a real terminal (tmux): a coloured line per message, Ctrl-C stops it with 130."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.cli import CUSTOMER, SANDBOX, assert_no_canary, command

pytestmark = [*SANDBOX, pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]


@pytest.fixture
def tmux() -> Iterator[Callable[..., str]]:
    # A private server socket: the test never touches a developer's own tmux sessions.
    socket = f"gab-test-{uuid.uuid4().hex[:8]}"

    def run(*args: str) -> str:
        done = subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, timeout=10)
        return done.stdout

    yield run
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=10)


def screen(tmux: Callable[..., str], *, escapes: bool = False) -> str:
    return tmux("capture-pane", "-p", "-t", "watch", *(["-e"] if escapes else []))


def wait_for(tmux: Callable[..., str], text: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        shown = screen(tmux)
        if text in shown:
            return shown
        assert time.monotonic() < deadline, f"{text!r} never showed:\n{shown}"
        time.sleep(0.05)


def test_watch_in_a_terminal(
    tmux: Callable[..., str], env: dict[str, str], sandbox: Sandbox, instance: SandboxInstance, tmp_path: Path
) -> None:
    script = tmp_path / "watch.sh"
    exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
    # The shell traps INT (with a command, so the child still gets the default) to outlive Ctrl-C
    # and report watch's exit status.
    script.write_text(f"{exports}trap true INT\n{shlex.join(command('watch'))}\necho EXIT=$?\nsleep 60\n")
    tmux("new-session", "-d", "-s", "watch", "-x", "160", "-y", "20", f"sh {shlex.quote(str(script))}")
    wait_for(tmux, "Ctrl-C to stop")  # the note on stderr: a terminal gets one

    sandbox.inject_incoming_text(instance, CUSTOMER, "hello from tmux", sender_name="Anna")
    shown = wait_for(tmux, "hello from tmux")
    line = next(row for row in shown.splitlines() if "hello from tmux" in row)
    assert CUSTOMER in line and "Anna" in line and "textMessage" in line
    assert "\x1b[" in screen(tmux, escapes=True)  # colour on a terminal

    deadline = time.monotonic() + 5
    while sandbox.notifications(instance):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    tmux("send-keys", "-t", "watch", "C-c")
    shown = wait_for(tmux, "EXIT=")
    assert "EXIT=130" in shown
    assert "Traceback" not in shown
    assert_no_canary(shown)
