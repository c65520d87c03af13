"""``webhook serve`` in a real process; ``webhook set/clear/status`` against the sandbox."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx
import pytest

from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.cli import ROOT, SANDBOX, Cli, assert_no_canary, command
from tests.support.signals import sigint_default
from tests.support.webhook_receiver import free_port, wait_until

from .bodies import message

pytestmark = SANDBOX


def _readline(stream: IO[str], limit: float = 20.0) -> str:
    # The process flushes each line; readline blocks until one comes (bounded by the test's
    # timeout through the process being killed in teardown).
    deadline = time.monotonic() + limit
    line = stream.readline()
    assert line or time.monotonic() < deadline, "no line from webhook serve"
    return line


def _serve(env: dict[str, str], *args: str, port: int = 0, json_lines: bool = True) -> subprocess.Popen[str]:
    return subprocess.Popen(
        # Ctrl-C must reach it even when this test process inherited SIGINT ignored (a background CI).
        sigint_default(
            command("webhook", "serve", "--port", str(port), *(["--json"] if json_lines else []), *args)
        ),
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _token_file(home: Path, token: str = "whT0ken-0123456789abcdefghij", mode: int = 0o600) -> Path:
    path = home / "webhook-token"
    path.write_text(token + "\n")
    path.chmod(mode)
    return path


def test_serve_prints_events_as_json_lines_and_stops_on_ctrl_c(env: dict[str, str], home: Path) -> None:
    token = "whT0ken-0123456789abcdefghij"
    path = _token_file(home, token)
    proc = _serve(env, "--webhook-token-file", str(path))
    try:
        assert proc.stdout is not None
        ready = json.loads(_readline(proc.stdout))
        assert ready["path"] == "/" and ready["url"].startswith("http://127.0.0.1:")
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(headers=headers, timeout=10) as c:
            assert c.post(ready["url"], json=message("E1", text="one")).status_code == 200
            # Flushed before the 200: the line is there already, no waiting needed.
            first = json.loads(_readline(proc.stdout))
            assert c.post(ready["url"], json=message("E1", text="one")).status_code == 200  # duplicate
            assert c.post(ready["url"], json=message("E2", text="two")).status_code == 200
            own = message("E3", kind="outgoingAPIMessageReceived")
            assert c.post(ready["url"], json=own).status_code == 200  # filtered by default
            assert c.post(ready["url"], json=message("E4")).status_code == 200
            assert c.post(ready["url"], json=message("E5"), headers={"Authorization": "x"}).status_code == 401
        second = json.loads(_readline(proc.stdout))
        third = json.loads(_readline(proc.stdout))
        assert (first["idMessage"], first["text"], first["chatType"]) == ("E1", "one", "personal")
        assert [second["idMessage"], third["idMessage"]] == ["E2", "E4"]
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert out == ""  # nothing else was printed: not the duplicate, not the own send
        assert token not in err and "Traceback" not in err
        assert_no_canary(out, err)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_serve_stops_on_sigterm(env: dict[str, str]) -> None:
    proc = _serve(env, "--no-auth", "--path", "/hook")
    try:
        assert proc.stdout is not None
        ready = json.loads(_readline(proc.stdout))
        assert ready["url"].endswith("/hook") and ready["auth"] == "none"
        assert httpx.post(ready["url"], json=message()).status_code == 200
        assert json.loads(_readline(proc.stdout))["idMessage"] == "A1"
        proc.terminate()
        proc.communicate(timeout=20)
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_serve_refuses_a_readable_token_file_and_no_token(cli: Cli, home: Path) -> None:
    path = _token_file(home, mode=0o644)
    result = cli("webhook", "serve", "--port", "0", "--webhook-token-file", str(path))
    assert result.code == 3 and "readable by other users" in result.stderr
    assert "whT0ken" not in result.stderr + result.stdout
    path.unlink()
    result = cli("webhook", "serve", "--port", "0")
    assert result.code == 3 and "no webhook token" in result.stderr
    result = cli("webhook", "serve", "--port", "0", "--no-auth", "--host", "0.0.0.0")
    assert result.code == 3 and "loopback" in result.stderr


def test_set_then_status_then_nothing_changed_then_clear(
    cli: Cli, home: Path, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    url = "https://bot.example/green-api"
    result = cli("webhook", "set", url, "--json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["changed"] is True and data["tokenFileCreated"] is True
    token_path = Path(data["tokenFile"])
    assert token_path == home / "webhook-token"
    assert os.stat(token_path).st_mode & 0o077 == 0
    token = token_path.read_text().strip()
    assert len(token) >= 40
    settings = sandbox.get_settings(instance)
    assert settings["webhookUrl"] == url and settings["webhookUrlToken"] == token
    assert settings["incomingWebhook"] == settings["outgoingWebhook"] == settings["stateWebhook"] == "yes"
    assert settings["outgoingAPIMessageWebhook"] == "no"
    assert token not in result.stdout + result.stderr

    # Nothing differs now: no setSettings call (one would hit this fault and fail the command).
    fault = sandbox.inject_fault("status", method="setSettings", status=500, forever=True)
    again = cli("webhook", "set", url)
    assert again.code == 0, again.stderr
    assert "nothing changed" in again.stdout
    assert fault.hits == 0
    sandbox.clear_faults()

    status = cli("webhook", "status", "--json")
    shown = json.loads(status.stdout)
    assert shown["webhookUrl"] == url and shown["webhookUrlTokenSet"] is True
    assert shown["switches"]["incomingWebhook"] == "yes"
    assert token not in status.stdout + status.stderr
    human = cli("webhook", "status")
    assert "set (not shown)" in human.stdout and token not in human.stdout

    switched = cli("webhook", "set", url, "--no-state", "--json")
    assert json.loads(switched.stdout)["changes"] == ["stateWebhook"]

    cleared = cli("webhook", "clear", "--json")
    assert json.loads(cleared.stdout)["changes"] == ["webhookUrl", "webhookUrlToken"]
    assert sandbox.get_settings(instance)["webhookUrl"] == ""
    fault = sandbox.inject_fault("status", method="setSettings", status=500, forever=True)
    assert "nothing changed" in cli("webhook", "clear").stdout
    assert fault.hits == 0


def test_set_refuses_plain_http_off_loopback(cli: Cli, home: Path, sandbox: Sandbox) -> None:
    fault = sandbox.inject_fault("status", method="setSettings", status=500, forever=True)
    result = cli("webhook", "set", "http://bot.example/hook")
    assert result.code == 3 and "https://" in result.stderr
    assert fault.hits == 0
    assert not (home / "webhook-token").exists()
    sandbox.clear_faults()
    assert cli("webhook", "set", "http://bot.example/hook", "--allow-insecure-url").code == 0
    assert cli("webhook", "set", "http://127.0.0.1:8080/").code == 0
    assert cli("webhook", "set", "ftp://bot.example/").code == 3


def test_set_reuses_an_existing_token_file_and_refuses_a_readable_one(
    cli: Cli, home: Path, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    path = _token_file(home, "my-own-token-0123456789abcdef")
    assert cli("webhook", "set", "https://bot.example/", "--webhook-token-file", str(path)).code == 0
    assert sandbox.get_settings(instance)["webhookUrlToken"] == "my-own-token-0123456789abcdef"
    path.chmod(0o644)
    result = cli("webhook", "set", "https://bot.example/x", "--webhook-token-file", str(path))
    assert result.code == 3 and "readable by other users" in result.stderr


def test_webhook_does_not_import_uvicorn_unless_serving(env: dict[str, str]) -> None:
    code = (
        "import sys; from green_api_block.cli import build_parser; build_parser(); "
        "import green_api_block.cli.webhook, green_api_block.cli.webhook_remote; "
        "print('uvicorn' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("args", [("webhook",), ("webhook", "--help")])
def test_help(cli: Cli, args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert "serve" in result.stdout + result.stderr


def test_serve_prints_a_line_per_event_for_people(env: dict[str, str]) -> None:
    proc = _serve(env, "--no-auth", json_lines=False)
    try:
        assert proc.stdout is not None
        banner = _readline(proc.stdout)
        assert "listening on http://127.0.0.1:" in banner and "no token check" in banner
        url = banner.split("listening on ", 1)[1].split(" ", 1)[0]
        assert httpx.post(url, json=message(text="hi\x1b[31m")).status_code == 200
        line = _readline(proc.stdout)
        assert line.startswith("incomingMessageReceived\t79001234567@c.us\tAnn\thi")
        assert "\x1b" not in line  # control characters are shown, not obeyed
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_serve_without_uvicorn_says_what_to_install(env: dict[str, str]) -> None:
    code = (
        "import sys; sys.modules['uvicorn'] = None; from green_api_block.cli import main; "
        "sys.exit(main(['webhook', 'serve', '--no-auth', '--port', '0']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 3
    assert "pip install 'green-api-block[webhook]'" in done.stderr


@pytest.mark.green_api_sandbox(max_receive_wait=0.3, rate_limits=False, webhook_retry_delay=0.05)
def test_set_then_serve_receives_the_sandboxs_pushes(
    cli: Cli, env: dict[str, str], sandbox: Sandbox, instance: SandboxInstance
) -> None:
    # The whole trigger as a user runs it: register the endpoint, serve it, customers write.
    port = free_port()
    registered = cli("webhook", "set", f"http://127.0.0.1:{port}/", "--json")
    assert registered.code == 0, registered.stderr
    proc = _serve(env, port=port)
    try:
        assert proc.stdout is not None
        assert json.loads(_readline(proc.stdout))["url"] == f"http://127.0.0.1:{port}/"
        sandbox.inject_incoming_text(instance, "79001234567@c.us", "hello")
        sandbox.inject_fault("push_duplicate", instance=instance)
        sandbox.inject_incoming_text(
            instance, "120363043968066561@g.us", "in the group", sender="79001234567@c.us"
        )
        sandbox.inject_incoming_image(instance, "79001234567@c.us", caption="receipt")
        events = [json.loads(_readline(proc.stdout)) for _ in range(3)]
        assert [(e["text"], e["chatType"]) for e in events] == [
            ("hello", "personal"),
            ("in the group", "group"),
            ("receipt", "personal"),
        ]
        assert events[2]["file"]["mimeType"] == "image/jpeg"
        wait_until(lambda: not sandbox.notifications(instance), "the queue to drain")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert out == ""  # the duplicate push printed nothing
        assert_no_canary(out, err)
        token = Path(json.loads(registered.stdout)["tokenFile"]).read_text().strip()
        assert token not in out + err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
