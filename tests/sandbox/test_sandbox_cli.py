"""`green-api-block demo` and `green-api-block sandbox`, run as users run them: in a subprocess."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from green_api_block.sandbox import Sandbox
from tests.support.signals import sigint_default, sigint_ignored

REPO = Path(__file__).resolve().parents[2]
TOOLS = (
    "green_api_get_state_instance",
    "green_api_send_message",
    "green_api_send_file",
    "green_api_send_buttons",
    "green_api_get_notifications",
)
FULL_TOKEN = re.compile(r"\b[0-9a-f]{50}\b")
BOUND = 30.0  # seconds: a failure bound for a hang, never a measure of speed


def env() -> dict[str, str]:
    paths = [str(REPO), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p), "PYTHONUNBUFFERED": "1"}


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "green_api_block", *args],
        cwd=REPO,
        env=env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_demo_prints_a_transcript() -> None:
    result = cli("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for tool in TOOLS:
        assert f"tool {tool}" in out
    assert "bot -> customer" in out and "customer -> bot" in out
    assert "[tapped] Today" in out and "Great, see you at 5 pm!" in out
    assert "…" in out  # the masked token
    assert not FULL_TOKEN.search(out + result.stderr)  # the token never appears whole
    assert re.search(
        r"Summary: 7 steps, 5 tool calls \(5 tools\), 8 notifications received, 0 left queued", out
    )


def test_demo_json() -> None:
    result = cli("demo", "--json")
    assert result.returncode == 0, result.stderr
    transcript = json.loads(result.stdout)
    assert [s.get("tool") for s in transcript["steps"] if s["actor"] == "workflow"] == list(TOOLS)
    assert transcript["summary"]["notifications"] == 8
    for step in transcript["steps"]:
        if "input" in step:
            assert "…" in step["input"]["apiTokenInstance"]
    said = [(line["from"], line["text"]) for line in transcript["conversation"]]
    assert said[-2:] == [
        ("customer", "[tapped] Today (buttonId today)"),
        ("customer", "Great, see you at 5 pm!"),
    ]
    assert not FULL_TOKEN.search(result.stdout)


def start_sandbox_cli(*args: str, ignore_sigint: bool = False) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "green_api_block", "sandbox", *args]
    # As from an interactive shell (or from `&` in a script), whatever this test process inherited.
    return subprocess.Popen(
        sigint_ignored(argv) if ignore_sigint else sigint_default(argv),
        cwd=REPO,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_lines(proc: subprocess.Popen[str], count: int) -> list[str]:
    """The next ``count`` stdout lines: the handshake that the sandbox is serving, bounded."""
    assert proc.stdout is not None
    stdout = proc.stdout
    lines: list[str] = []

    def read() -> None:
        for _ in range(count):
            lines.append(stdout.readline())

    reader = threading.Thread(target=read, name="sandbox-cli-stdout", daemon=True)
    reader.start()
    reader.join(BOUND)
    assert not reader.is_alive(), f"no {count} lines within {BOUND} s: {lines}"
    return lines


def stop(proc: subprocess.Popen[str], sig: int) -> tuple[str, str]:
    proc.send_signal(sig)
    return proc.communicate(timeout=BOUND)


def test_sandbox_command_serves_until_interrupted() -> None:
    proc = start_sandbox_cli("--json", "--instances", "2")
    try:
        info = json.loads(read_lines(proc, 1)[0])
        assert len(info["instances"]) == 2
        inst = info["instances"][0]
        assert inst["apiUrl"] == info["url"] and inst["apiUrl"].startswith("http://127.0.0.1:")
        url = f"{inst['apiUrl']}/waInstance{inst['idInstance']}/getStateInstance/{inst['apiTokenInstance']}"
        assert httpx.get(url, timeout=BOUND).json() == {"stateInstance": "authorized"}
        _, err = stop(proc, signal.SIGINT)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url)


def test_sandbox_started_in_the_background_stops_on_sigterm() -> None:
    """`green-api-block sandbox &` in a script: the shell starts it with SIGINT ignored (and so it
    stays); `kill` (SIGTERM) stops it cleanly, the moment its credentials are out."""
    proc = start_sandbox_cli("--json", ignore_sigint=True)
    try:
        read_lines(proc, 1)
        _, err = stop(proc, signal.SIGTERM)
        assert proc.returncode == 0, err
        assert err == ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_sandbox_command_banner_and_sigterm() -> None:
    proc = start_sandbox_cli("--state", "notAuthorized", "--no-rate-limits")
    try:
        banner = "".join(read_lines(proc, 6))
        match = re.search(r"running at (http://127\.0\.0\.1:\d+)", banner)
        assert match, banner
        assert re.search(r"idInstance\s+\d{10}", banner)
        assert re.search(r"apiTokenInstance\s+[0-9a-f]{50}", banner)  # printed once, on purpose
        assert "notAuthorized" in banner
        out, _ = stop(proc, signal.SIGTERM)
        assert proc.returncode == 0 and "sandbox stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_sandbox_command_reports_a_busy_port() -> None:
    with Sandbox() as busy:
        result = cli("sandbox", "--port", str(busy.port), timeout=30)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{busy.port}" in result.stderr
