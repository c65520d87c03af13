"""Talking to a sandbox the way any HTTP client would: Green API URLs of one instance, its threads."""

from __future__ import annotations

import threading
from typing import Any

import httpx

from green_api_block.sandbox import SandboxInstance

CHAT = "79001234567@c.us"


def sandbox_threads() -> list[threading.Thread]:
    """The sandbox server threads alive in this process."""
    return [t for t in threading.enumerate() if t.name == "green-api-sandbox"]


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
