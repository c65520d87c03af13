"""Fixtures for the sandbox's own tests (users get theirs from the pytest plugin)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from green_api_block.sandbox import Sandbox, SandboxInstance

CHAT = "79001234567@c.us"
BOT_SETTINGS = {
    "incomingWebhook": "yes",
    "outgoingWebhook": "yes",
    "outgoingAPIMessageWebhook": "yes",
    "stateWebhook": "yes",
}


def sandbox_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "green-api-sandbox"]


@pytest.fixture(autouse=True)
def no_leaked_sandbox_threads() -> Iterator[None]:
    """Every test here must leave no sandbox server thread behind."""
    yield
    leaked = sandbox_threads()
    assert not leaked, f"sandbox threads still alive: {leaked}"


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    # Limits off so that tests can call 1-RPS methods back to back; the limiter has its own tests.
    with Sandbox(rate_limits=False, max_receive_wait=0.2) as sandbox:
        yield sandbox


@pytest.fixture
def inst(sb: Sandbox) -> SandboxInstance:
    return sb.create_instance(settings=BOT_SETTINGS)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


class Api:
    """URLs of one instance, Green API style."""

    def __init__(self, instance: SandboxInstance) -> None:
        self.instance = instance

    def url(self, method: str, *extra: str, token: str | None = None, id_instance: str | None = None) -> str:
        tok = self.instance.api_token if token is None else token
        ident = self.instance.id_instance if id_instance is None else id_instance
        tail = "".join(f"/{e}" for e in extra)
        return f"{self.instance.api_url}/waInstance{ident}/{method}/{tok}{tail}"

    def send_text(self, http: httpx.Client, text: str = "hello", chat: str = CHAT) -> dict[str, Any]:
        response = http.post(self.url("sendMessage"), json={"chatId": chat, "message": text})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def api(inst: SandboxInstance) -> Api:
    return Api(inst)


@pytest.fixture
def api_for() -> type[Api]:
    """``Api`` itself, for tests that start a sandbox of their own (test modules share no imports)."""
    return Api
