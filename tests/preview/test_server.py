"""The preview's HTTP side, without a browser: what it serves, how it runs tools, what it refuses."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import httpx
import pytest

from green_api_block.cli import build_parser
from green_api_block.preview import STATIC_FILES, TOKEN_MARKER, NotificationFeed, PreviewServer
from green_api_block.sandbox import Sandbox
from tests.support.browser import ROOT

CUSTOMER = "79001234567@c.us"


@pytest.fixture
def client(preview: PreviewServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=preview.url, timeout=10) as c:
        yield c


def test_contract_is_the_manifest_and_the_schema_files(client: httpx.Client) -> None:
    data = client.get("/api/contract").json()
    manifest = json.loads((ROOT / "manifest.json").read_text())
    assert data["manifest"] == manifest
    named = {item[k] for item in manifest["tools"]["items"] for k in ("inputSchema", "outputSchema")}
    assert set(data["schemas"]) == named
    for path, schema in data["schemas"].items():
        assert schema == json.loads((ROOT / path).read_text())


def test_page_and_assets_are_package_data_with_nothing_remote(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
    for name, content_type in STATIC_FILES.items():
        packaged = (resources.files("green_api_block.preview") / "static" / name).read_text(encoding="utf-8")
        answer = client.get(f"/static/{name}")
        assert answer.status_code == 200 and answer.headers["content-type"] == content_type
        assert answer.text == packaged
        # No CDN, no web font, no remote anything: every reference is to this server.
        assert not re.search(r"(?<![\w/])(https?:)?//[\w.-]+\.[a-z]{2,}", packaged), name
    assert client.get("/favicon.svg").text.startswith("<svg")
    assert client.get("/static/server.py").status_code == 404
    assert client.get("/static/..%2Fapp.py").status_code == 404


def test_session_names_the_mode_never_the_token(
    client: httpx.Client, preview: PreviewServer, token: str
) -> None:
    answer = client.get("/api/session")
    assert token not in answer.text
    assert preview.sandbox_instance is not None
    assert answer.json() == {
        "mode": "sandbox",
        "apiUrl": preview.sandbox_instance.api_url,
        "bound": {"idInstance": preview.sandbox_instance.id_instance, "apiTokenInstance": True},
        "tokenMarker": TOKEN_MARKER,
        "sandbox": {"chatId": CUSTOMER},
    }


def test_run_returns_the_block_envelope(client: httpx.Client, preview: PreviewServer, token: str) -> None:
    args = {"apiTokenInstance": TOKEN_MARKER, "chatId": CUSTOMER, "message": "hi"}
    answer = client.post("/api/run", json={"tool": "green_api_send_message", "args": args})
    envelope = answer.json()
    assert answer.status_code == 200 and envelope["ok"] is True
    assert preview.sandbox is not None and preview.sandbox_instance is not None
    assert (
        preview.sandbox.sent_messages(preview.sandbox_instance)[-1].id_message
        == envelope["output"]["idMessage"]
    )

    bad = client.post("/api/run", json={"tool": "green_api_send_message", "args": {"chatId": "x"}}).json()
    assert bad["ok"] is False and bad["error"]["code"] == "invalid_input"
    assert {e["path"] for e in bad["error"]["errors"]} == {"chatId", "message"}
    unknown = client.post("/api/run", json={"tool": "green_api_nope", "args": {}}).json()
    assert unknown["ok"] is False and unknown["error"]["code"] == "invalid_input"
    assert client.post("/api/run", json={"args": {}}).status_code == 400
    assert client.post("/api/run", json={"tool": "green_api_send_message", "args": []}).status_code == 400
    assert (
        client.post("/api/run", content=b"{", headers={"Content-Type": "application/json"}).status_code == 400
    )
    assert token not in answer.text + json.dumps(bad)


def test_requests_from_elsewhere_are_refused(client: httpx.Client, preview: PreviewServer) -> None:
    # DNS rebinding: a foreign Host name never reaches a handler.
    assert client.get("/api/session", headers={"Host": "evil.example"}).status_code == 421
    assert client.get("/", headers={"Host": f"localhost:{preview.port}"}).status_code == 200
    body = {"tool": "green_api_get_state_instance", "args": {}}
    # A cross-site form post (no preflight) and a cross-origin fetch are both refused.
    as_form = client.post("/api/run", content=json.dumps(body), headers={"Content-Type": "text/plain"})
    assert as_form.status_code == 415
    cross = client.post("/api/run", json=body, headers={"Origin": "http://evil.example"})
    assert cross.status_code == 403
    same = client.post("/api/run", json=body, headers={"Origin": preview.url})
    assert same.status_code == 200 and same.json() == {"ok": True, "output": {"stateInstance": "authorized"}}


def test_notifications_feed_lists_each_arrival_once(client: httpx.Client, preview: PreviewServer) -> None:
    last = client.get("/api/notifications").json()["last"]
    answer = client.post("/api/sandbox/incoming", json={"chatId": CUSTOMER, "text": "ping"}).json()
    assert answer["ok"] is True and answer["receiptId"] is not None
    feed = client.get(f"/api/notifications?after={last}").json()
    assert [i["body"]["typeWebhook"] for i in feed["items"]] == ["incomingMessageReceived"]
    assert feed["items"][0]["receiptId"] == answer["receiptId"] and feed["items"][0]["source"] == "sandbox"
    run = {"tool": "green_api_get_notifications", "args": {"maxNotifications": 100}}
    assert client.post("/api/run", json=run).json()["ok"] is True
    assert client.get(f"/api/notifications?after={feed['last']}").json()["items"] == []
    assert client.post("/api/sandbox/incoming", json={"chatId": "x", "text": "t"}).status_code == 400
    assert client.get("/api/notifications?after=zzz").status_code == 200


def test_feed_deduplicates_and_keeps_the_latest() -> None:
    feed = NotificationFeed(limit=3)
    assert feed.add("1", 1, {"typeWebhook": "a"}, "tool") is True
    assert feed.add("1", 1, {"typeWebhook": "a"}, "sandbox") is False
    for n in range(2, 6):
        feed.add("1", n, {}, "tool")
    items, last = feed.since(0)
    assert [i["receiptId"] for i in items] == [3, 4, 5] and last == 5
    assert feed.since(5) == ([], 5)


def test_instance_mode_with_a_bound_token_never_shows_it(sandbox: Sandbox) -> None:
    inst = sandbox.create_instance()
    with (
        PreviewServer(api_url=sandbox.url, id_instance=inst.id_instance, api_token=inst.api_token) as preview,
        httpx.Client(base_url=preview.url) as client,
    ):
        session = client.get("/api/session").json()
        assert session["mode"] == "instance"
        assert session["bound"] == {"idInstance": inst.id_instance, "apiTokenInstance": True}
        run = {"tool": "green_api_get_state_instance", "args": {"apiTokenInstance": TOKEN_MARKER}}
        answer = client.post("/api/run", json=run)
        assert answer.json() == {"ok": True, "output": {"stateInstance": "authorized"}}
        assert client.post("/api/sandbox/incoming", json={"text": "x"}).status_code == 404
        assert inst.api_token not in answer.text + json.dumps(session)


def test_parser_knows_the_preview_command() -> None:
    args = build_parser().parse_args(["preview", "--sandbox", "--port", "0", "--no-browser", "--host", "::1"])
    assert args.sandbox and args.no_browser and args.port == 0 and args.host == "::1" and callable(args.func)
    defaults = build_parser().parse_args(["preview"])
    assert defaults.host == "127.0.0.1" and defaults.port == 0 and not defaults.sandbox


def _start(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "green_api_block", "preview", "--no-browser", "--json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, proc.stderr.read() if proc.stderr else ""
    data: dict[str, str] = json.loads(line)
    return proc, data


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREEN_API")}
    env.update(HOME=str(tmp_path), GREEN_API_BLOCK_CONFIG=str(tmp_path / "none.toml"), PYTHONPATH=str(ROOT))
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


def test_cli_serves_the_page_until_sigterm(tmp_path: Path) -> None:
    proc, data = _start(["--sandbox", "--port", "0"], _env(tmp_path))
    try:
        assert data["mode"] == "sandbox" and data["url"].startswith("http://127.0.0.1:")
        assert data["webhookUrl"] == data["url"] + "/webhook/green-api"
        page = httpx.get(data["url"] + "/", timeout=5)
        assert page.status_code == 200 and "/static/app.js" in page.text
        state = httpx.post(
            data["url"] + "/api/run", json={"tool": "green_api_get_state_instance", "args": {}}, timeout=5
        )
        assert state.json() == {"ok": True, "output": {"stateInstance": "authorized"}}
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err


def test_cli_binds_the_configured_instance_and_keeps_its_token(tmp_path: Path, sandbox: Sandbox) -> None:
    inst = sandbox.create_instance()
    env = _env(tmp_path)
    env.update(
        GREEN_API_URL=sandbox.url,
        GREEN_API_ID_INSTANCE=inst.id_instance,
        GREEN_API_TOKEN_INSTANCE=inst.api_token,
    )
    proc, data = _start(["--port", "0"], env)
    try:
        assert data == {
            "url": data["url"],
            "mode": "instance",
            "apiUrl": sandbox.url,
            "idInstance": inst.id_instance,
        }
        session = httpx.get(data["url"] + "/api/session", timeout=5)
        assert session.json()["bound"] == {"idInstance": inst.id_instance, "apiTokenInstance": True}
        run = {"tool": "green_api_get_state_instance", "args": {"apiTokenInstance": TOKEN_MARKER}}
        state = httpx.post(data["url"] + "/api/run", json=run, timeout=5)
        assert state.json() == {"ok": True, "output": {"stateInstance": "authorized"}}
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert inst.api_token not in out + err + session.text + state.text


def test_cli_reports_a_busy_port(tmp_path: Path, preview: PreviewServer) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "green_api_block",
            "preview",
            "--sandbox",
            "--no-browser",
            "--port",
            str(preview.port),
        ],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=20,
    )
    assert done.returncode == 3
    assert f"cannot listen on 127.0.0.1:{preview.port}" in done.stderr
