"""The local servers (sandbox, preview, MCP over HTTP) probed on 127.0.0.1 as a hostile page would.

A web page the user visits can point the browser at 127.0.0.1 (cross-site requests carry an
``Origin``) or at its own name resolved to 127.0.0.1 (DNS rebinding: a foreign ``Host``). Neither
may reach what the servers hold; clients that are not browsers (curl, the block) send no Origin
and keep working. The sandbox instance's token is the canary: no refusal may carry it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from green_api_block.preview import PreviewServer
from green_api_block.sandbox import Sandbox
from tests.support.agents import start_mcp, stop
from tests.support.cli import ROOT
from tests.support.credentials import CANARY, ID

DEEP = ("[" * 5000 + "]" * 5000).encode()
FOREIGN = "http://evil.example"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def refusals(http: httpx.Client, url: str, port: int) -> list[httpx.Response]:
    probes: list[dict[str, str]] = [
        {"Host": "evil.example"},
        {"Host": f"evil.example:{port}"},
        {"Host": f"127.0.0.1:{port + 1}"},
        {"Origin": FOREIGN},
        {"Origin": "null"},
        {"Origin": f"http://127.0.0.1:{port + 1}"},
        {"Host": "evil.example", "Origin": FOREIGN},
    ]
    return [http.get(url, headers=h) for h in probes]


def assert_control_api_guarded(http: httpx.Client, sandbox: Sandbox) -> None:
    url = f"{sandbox.url}/__sandbox__/instances"
    for response in refusals(http, url, sandbox.port):
        assert response.status_code in (403, 421), (response.request.headers, response.text)
        assert CANARY not in response.text
    # A cross-site POST (what a page's form or fetch sends) changes nothing.
    before = len(sandbox.instances())
    posted = http.post(url, json={}, headers={"Origin": FOREIGN})
    assert posted.status_code == 403 and len(sandbox.instances()) == before
    # curl (no Origin) and the sandbox's own page origin keep working, by every loopback name.
    for headers in (
        {},
        {"Host": f"localhost:{sandbox.port}"},
        {"Origin": f"http://127.0.0.1:{sandbox.port}"},
    ):
        response = http.get(url, headers=headers)
        assert response.status_code == 200, (headers, response.text)
        assert CANARY in response.text


def test_sandbox_control_api_refuses_foreign_hosts_and_origins(http: httpx.Client) -> None:
    with Sandbox() as sandbox:
        sandbox.create_instance(id_instance=ID, api_token=CANARY)
        assert_control_api_guarded(http, sandbox)
        # The Green API routes are unchanged: the token in the path is their guard.
        state = http.get(f"{sandbox.url}/waInstance{ID}/getStateInstance/{CANARY}")
        assert state.json() == {"stateInstance": "authorized"}


def test_sandbox_on_another_loopback_address_and_extra_names(http: httpx.Client) -> None:
    with Sandbox(host="127.0.0.2", allowed_hosts=["sandbox.internal"]) as sandbox:
        sandbox.create_instance(id_instance=ID, api_token=CANARY)
        url = f"{sandbox.url}/__sandbox__/health"
        assert sandbox.url.startswith("http://127.0.0.2:")
        port = sandbox.port
        for host in (f"127.0.0.2:{port}", f"127.0.0.1:{port}", f"sandbox.internal:{port}"):
            assert http.get(url, headers={"Host": host}).status_code == 200, host
        assert http.get(url, headers={"Host": f"evil.example:{sandbox.port}"}).status_code == 421


def test_preview_embedded_sandbox_control_api_is_guarded(http: httpx.Client) -> None:
    with PreviewServer(sandbox=True) as preview:
        assert preview.sandbox is not None and preview.sandbox_instance is not None
        preview.sandbox.create_instance(api_token=CANARY)
        assert_control_api_guarded(http, preview.sandbox)


# ------------------------------------------------------------------------------ deep JSON


def no_recursion_logged(caplog: pytest.LogCaptureFixture) -> None:
    text = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "RecursionError" not in text and "Traceback" not in text


def test_sandbox_answers_deep_json_with_400(http: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with Sandbox(rate_limits=False) as sandbox:
        sandbox.create_instance(id_instance=ID, api_token=CANARY)
        for body in (DEEP, b'{"a":' * 100 + b"1" + b"}" * 100):
            api = http.post(f"{sandbox.url}/waInstance{ID}/sendMessage/{CANARY}", content=body)
            assert api.status_code == 400, api.text
            assert "nests deeper" in api.text
            control = http.post(f"{sandbox.url}/__sandbox__/instances", content=body)
            assert control.status_code == 400 and "nests deeper" in control.json()["error"]
        assert sandbox.sent_messages(ID) == []
    no_recursion_logged(caplog)


def test_preview_answers_deep_json_with_400(http: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with PreviewServer(sandbox=True) as preview:
        for path in ("/api/run", "/api/sandbox/incoming", "/api/trigger"):
            response = http.post(
                preview.url + path, content=DEEP, headers={"Content-Type": "application/json"}
            )
            assert response.status_code == 400, response.text
            assert "nests deeper" in response.json()["error"]["message"]
        # The trigger's webhook endpoint: the receiver's own depth check, with its token.
        assert preview.config is not None and preview.config.trigger is not None
        webhook = http.post(
            str(preview.webhook_url),
            content=DEEP,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {preview.config.trigger.token}",
            },
        )
        assert webhook.status_code == 400
    no_recursion_logged(caplog)


# ------------------------------------------------------------------------------ silent connections


def closed_within(host: str, port: int, send: bytes, bound: float) -> float:
    """Seconds until the server closes a connection that sent ``send`` and then nothing."""
    started = time.monotonic()
    with socket.create_connection((host, port), timeout=bound) as sock:
        if send:
            sock.sendall(send)
        try:
            while sock.recv(4096):
                pass
        except TimeoutError:
            pytest.fail(f"a silent connection was still open after {bound} s")
    return time.monotonic() - started


@pytest.mark.parametrize("send", [b"", b"GET /__sandbox__/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"])
def test_sandbox_and_preview_close_silent_connections(send: bytes) -> None:
    with Sandbox(idle_timeout=0.5) as sandbox, PreviewServer(idle_timeout=0.5) as preview:
        assert closed_within("127.0.0.1", sandbox.port, send, bound=10) < 10
        assert closed_within("127.0.0.1", preview.port, send, bound=10) < 10


def test_idle_timeout_never_cuts_a_request_being_answered(http: httpx.Client) -> None:
    # An empty long poll held three times the bound still gets its answer, on the same connection.
    with Sandbox(idle_timeout=0.5, max_receive_wait=1.5, rate_limits=False) as sandbox:
        sandbox.create_instance(id_instance=ID, api_token=CANARY)
        url = f"{sandbox.url}/waInstance{ID}/receiveNotification/{CANARY}"
        started = time.monotonic()
        polled = http.get(url, params={"receiveTimeout": 5})
        assert polled.status_code == 200 and polled.json() is None
        assert time.monotonic() - started >= 1.4


# ------------------------------------------------------------------------------ mcp --http

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "probe", "version": "0"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
AUTH = "probe-auth-token-0123456789"


def mcp_env(home: Path, sandbox: Sandbox, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GREEN_API", "XDG_"))}
    env.update(
        HOME=str(home),
        GREEN_API_BLOCK_CONFIG=str(home / "config.toml"),
        PYTHONPATH=str(ROOT),
        GREEN_API_URL=sandbox.url,
        GREEN_API_ID_INSTANCE=ID,
        GREEN_API_DRY_RUN="1",
        **extra,
    )
    return env


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "instance-token"
    path.write_text(CANARY + "\n")
    path.chmod(0o600)
    return path


def test_mcp_http_checks_host_and_origin_off_the_sdk_defaults(
    tmp_path: Path, http: httpx.Client, token_file: Path
) -> None:
    # 127.0.0.2 is loopback to the CLI but not to the SDK, which turned its checks on only for
    # exactly 127.0.0.1/localhost/::1: a foreign Host and Origin went through.
    with Sandbox() as sandbox:
        sandbox.create_instance(id_instance=ID, api_token=CANARY)
        env = mcp_env(tmp_path, sandbox)
        proc, url, seen = start_mcp(
            ["--host", "127.0.0.2", "--token-file", str(token_file), "--allow-host", "mcp.internal"], env
        )
        try:
            port = int(url.rsplit(":", 1)[1].split("/")[0])
            for headers, status in (
                ({"Host": "evil.example"}, 421),
                ({"Host": f"evil.example:{port}"}, 421),
                ({"Origin": FOREIGN}, 403),
                ({"Host": f"evil.example:{port}", "Origin": FOREIGN}, 421),
            ):
                response = http.post(url, json=INITIALIZE, headers={**MCP_HEADERS, **headers})
                assert response.status_code == status, (headers, response.text)
                assert CANARY not in response.text
            for headers in ({}, {"Host": f"mcp.internal:{port}"}, {"Origin": f"http://127.0.0.2:{port}"}):
                response = http.post(url, json=INITIALIZE, headers={**MCP_HEADERS, **headers})
                assert response.status_code == 200, (headers, response.text)
        finally:
            stop(proc)
        assert proc.stderr is not None
        assert CANARY not in seen + proc.stderr.read()


def test_mcp_http_requires_the_bearer_token_when_given_one(
    tmp_path: Path, http: httpx.Client, token_file: Path
) -> None:
    auth_file = tmp_path / "auth-token"
    auth_file.write_text(AUTH + "\n")
    with Sandbox() as sandbox:
        sandbox.create_instance(id_instance=ID, api_token=CANARY)
        proc, url, seen = start_mcp(
            ["--token-file", str(token_file), "--auth-token-file", str(auth_file)], mcp_env(tmp_path, sandbox)
        )
        try:
            for auth in (None, "Bearer nope", f"Basic {AUTH}", f"Bearer {AUTH}x"):
                headers = dict(MCP_HEADERS) | ({"Authorization": auth} if auth else {})
                response = http.post(url, json=INITIALIZE, headers=headers)
                assert response.status_code == 401, (auth, response.text)
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
            ok = http.post(url, json=INITIALIZE, headers={**MCP_HEADERS, "Authorization": f"Bearer {AUTH}"})
            assert ok.status_code == 200, ok.text
        finally:
            stop(proc)
        assert proc.stderr is not None
        assert CANARY not in seen + proc.stderr.read() and AUTH not in seen


def test_mcp_refuses_a_token_file_others_can_read(tmp_path: Path, token_file: Path) -> None:
    token_file.chmod(0o644)
    with Sandbox() as sandbox:
        env = mcp_env(tmp_path, sandbox)
        refused = subprocess.run(
            [sys.executable, "-m", "green_api_block", "mcp", "--token-file", str(token_file)],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert refused.returncode != 0
        assert "readable by other users" in refused.stderr and "--insecure-token-file" in refused.stderr
        assert CANARY not in refused.stderr + refused.stdout
        sandbox.create_instance(id_instance=ID, api_token=CANARY)
        proc, _, seen = start_mcp(["--token-file", str(token_file), "--insecure-token-file"], env)
        stop(proc)
        assert f"chmod 600 {token_file}" in seen


def test_config_warns_about_token_files_others_can_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse

    from green_api_block.cli.settings import load_settings

    for key in [k for k in os.environ if k.startswith("GREEN_API")]:
        monkeypatch.delenv(key)
    token = tmp_path / "token"
    token.write_text(CANARY)
    token.chmod(0o640)
    config = tmp_path / "config.toml"
    config.write_text('[profiles.shop]\nid_instance = "1101000001"\ntoken_file = "token"\n')
    config.chmod(0o600)
    monkeypatch.setenv("GREEN_API_BLOCK_CONFIG", str(config))
    for args in (
        argparse.Namespace(profile="shop"),
        argparse.Namespace(profile="shop", token_file=str(token)),
    ):
        settings = load_settings(args)
        assert settings.exposed_token_file == token
        assert any(f"chmod 600 {token}" in w for w in settings.warnings), settings.warnings
    token.chmod(0o600)
    settings = load_settings(argparse.Namespace(profile="shop"))
    assert settings.exposed_token_file is None and not settings.warnings


def test_mcp_http_closes_connections_that_send_no_request() -> None:
    import uvicorn

    from green_api_block.mcp_server import _h11_with_header_timeout

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        # Slower than the bound: a request being answered is never cut.
        await asyncio.sleep(1.5)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"slow"})

    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", http=_h11_with_header_timeout(0.5))
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), name="uvicorn-probe")
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        for send in (b"", b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"):
            assert closed_within("127.0.0.1", port, send, bound=10) < 10
        with httpx.Client(timeout=10) as client:
            for _ in range(2):  # the second on the kept-alive connection
                assert client.get(f"http://127.0.0.1:{port}/").text == "slow"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


# ------------------------------------------------------------------------------ preview off loopback


def test_preview_off_loopback_checks_host_and_requires_its_token() -> None:
    # A wildcard bind used to accept any Host (its allow-list was empty): a rebinding page got in.
    with PreviewServer(host="0.0.0.0", sandbox=True, auth_token=AUTH, allowed_hosts=["shop.lan"]) as preview:
        assert preview.sandbox_instance is not None
        secret = preview.sandbox_instance.api_token
        port = preview.port
        with httpx.Client(base_url=preview.url, timeout=10) as http:
            bearer = {"Authorization": f"Bearer {AUTH}"}
            for host in ("evil.example", f"evil.example:{port}"):
                refused = http.get("/api/session", headers={"Host": host, **bearer})
                assert refused.status_code == 421
            for headers in ({}, {"Authorization": "Bearer nope"}, {"Cookie": "green_api_preview_token=nope"}):
                refused = http.get("/api/session", headers=headers)
                assert refused.status_code == 401, headers
                assert AUTH not in refused.text and secret not in refused.text
            assert http.get("/", params={"token": "nope"}).status_code == 401
            for host in (f"127.0.0.1:{port}", f"shop.lan:{port}"):
                assert http.get("/api/session", headers={"Host": host, **bearer}).status_code == 200
            # The browser's way in: the login URL sets an HttpOnly, SameSite=Strict cookie.
            login = http.get(preview.login_url.removeprefix(preview.url), follow_redirects=False)
            assert login.status_code == 303 and login.headers["Location"] == "/"
            cookie = login.headers["Set-Cookie"].lower()
            assert "httponly" in cookie and "samesite=strict" in cookie
            session = http.get("/api/session")
            assert session.status_code == 200 and secret not in session.text and AUTH not in session.text
            run = http.post(
                "/api/run",
                json={"tool": "green_api_get_state_instance", "args": {}},
                headers={"Origin": preview.url},
            )
            assert run.json()["ok"] is True, run.text
            foreign = http.post(
                "/api/run",
                json={"tool": "green_api_get_state_instance", "args": {}},
                headers={"Origin": FOREIGN},
            )
            assert foreign.status_code == 403

            # The trigger's routes: the same Host check and token; its webhook endpoint answers
            # only to the receiver's own token, and the sandbox's pushes (to 127.0.0.1) get in.
            assert preview.config is not None and preview.config.trigger is not None
            webhook_token = preview.config.trigger.token
            http.cookies.clear()
            for method, path in (("GET", "/api/trigger"), ("POST", "/api/trigger")):
                refused = http.request(method, path, json={"listening": True})
                assert refused.status_code == 401 and webhook_token not in refused.text, path
                hosted = http.request(method, path, json={}, headers={"Host": "evil.example", **bearer})
                assert hosted.status_code == 421, path
            cross = http.post("/api/trigger", json={"listening": True}, headers={"Origin": FOREIGN, **bearer})
            assert cross.status_code == 403
            hook = str(preview.webhook_url).removeprefix(preview.url)
            assert http.post(hook, json={"typeWebhook": "x"}, headers=bearer).status_code == 401
            assert http.post(hook, json={}, headers={"Host": "evil.example"}).status_code == 421
            on = http.post(
                "/api/trigger", json={"listening": True}, headers={"Origin": preview.url, **bearer}
            )
            assert on.status_code == 200 and on.json()["listening"] is True
            assert webhook_token not in on.text and secret not in on.text and AUTH not in on.text
            assert preview.sandbox is not None
            preview.sandbox.inject_incoming_text(preview.sandbox_instance, "79001234567@c.us", "pushed")
            deadline = time.monotonic() + 10
            while not (events := http.get("/api/trigger", headers=bearer).json()["events"]):
                assert time.monotonic() < deadline, "the sandbox's push did not arrive"
                time.sleep(0.02)
            assert [e["event"]["text"] for e in events] == ["pushed"]


# ------------------------------------------------------------------------------ preview --sandbox feed


def test_preview_sandbox_feed_costs_per_new_item_and_forgets_old_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    with Sandbox(rate_limits=False) as sandbox, PreviewServer(sandbox=sandbox) as preview:
        assert preview.sandbox_instance is not None and preview.config is not None
        inst, feed = preview.sandbox_instance, preview.config.feed
        walked: list[int] = []
        real = sandbox.backend.pending_after

        def counting(id_instance: str, receipt_id: int, limit: int) -> list[object]:
            items = real(id_instance, receipt_id, limit)
            walked.append(len(items))
            return list(items)

        def whole_queue(*args: object) -> object:
            raise AssertionError("the watcher walked the whole queue")

        monkeypatch.setattr(sandbox.backend, "pending_after", counting)
        monkeypatch.setattr(sandbox.backend, "pending", whole_queue)
        count = feed.limit * feed.SEEN_PER_ITEM + 500
        for n in range(count):
            sandbox.inject_incoming_text(inst, "79001234567@c.us", f"m{n}")
        monkeypatch.undo()
        assert len(sandbox.notifications(inst)) == count  # all still queued
        assert walked and max(walked) == 1  # one new item each time, not the queue
        assert feed.remembered <= feed.limit * feed.SEEN_PER_ITEM
        items, last = feed.since(0)
        assert len(items) == feed.limit and last == count
        assert items[-1]["body"]["messageData"]["textMessageData"]["textMessage"] == f"m{count - 1}"


# ------------------------------------------------------------------------------ warnings off loopback

#: TEST-NET-1 (RFC 5737): never this machine's, so the bind fails right after the warning.
UNBINDABLE = "192.0.2.1"


def test_off_loopback_warnings_say_any_web_page_can_reach_it(tmp_path: Path, token_file: Path) -> None:
    with Sandbox() as sandbox:
        env = mcp_env(tmp_path, sandbox)
        runs = {
            "mcp": ["mcp", "--token-file", str(token_file), "--http", "0", "--host", UNBINDABLE],
            "preview": ["preview", "--sandbox", "--no-browser", "--host", UNBINDABLE],
        }
        for name, args in runs.items():
            done = subprocess.run(
                [sys.executable, "-m", "green_api_block", *args],
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode != 0, name
            assert "any web page the user visits" in done.stderr, (name, done.stderr)
            assert "--auth-token-file" in done.stderr and "cannot listen" in done.stderr, name
            assert CANARY not in done.stderr + done.stdout
