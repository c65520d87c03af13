"""Each tool sends exactly the documented request and maps the answer (sync and async)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from green_api_block import GreenApiBlock
from green_api_block.events.schema import tool_event
from tests.support.credentials import CANARY, ID
from tests.support.mock import Recorder

BASE = "http://127.0.0.1:8080"


def execute(mode: str, rec: Recorder, tool: str, args: dict[str, Any], **kw: Any) -> dict[str, Any]:
    transport = rec.transport()
    block = GreenApiBlock(
        BASE, transport=transport, async_transport=transport, credentials_from_env=False, **kw
    )
    if mode == "sync":
        with block:
            return block.execute(tool, args)

    async def go() -> dict[str, Any]:
        async with block:
            return await block.aexecute(tool, args)

    return asyncio.run(go())


CREDS = {"idInstance": ID, "apiTokenInstance": CANARY}
SENDS = [
    (
        "green_api_send_message",
        {"chatId": "79001234567@c.us", "message": "Order #42 is ready ✅"},
        "sendMessage",
        {"chatId": "79001234567@c.us", "message": "Order #42 is ready ✅"},
    ),
    (
        "green_api_send_message",
        {"chatId": "+7 (900) 123-45-67", "message": "hi"},
        "sendMessage",
        {"chatId": "79001234567@c.us", "message": "hi"},
    ),
    (
        "green_api_send_file",
        {
            "chatId": "120363043968066561@g.us",
            "urlFile": "https://example.org/f/invoice-42.pdf",
            "fileName": "invoice-42.pdf",
        },
        "sendFileByUrl",
        {
            "chatId": "120363043968066561@g.us",
            "urlFile": "https://example.org/f/invoice-42.pdf",
            "fileName": "invoice-42.pdf",
        },
    ),
    (
        "green_api_send_file",
        {
            "chatId": "79001234567@c.us",
            "urlFile": "https://x.org/a.jpg",
            "fileName": "a.jpg",
            "caption": "Look",
        },
        "sendFileByUrl",
        {
            "chatId": "79001234567@c.us",
            "urlFile": "https://x.org/a.jpg",
            "fileName": "a.jpg",
            "caption": "Look",
        },
    ),
    (
        "green_api_send_buttons",
        {
            "chatId": "79001234567@c.us",
            "message": "Confirm?",
            "footer": "f",
            "buttons": [
                {"buttonText": "Yes"},
                {"buttonText": "No", "buttonId": "1"},
                {"buttonText": "Later"},
            ],
        },
        "sendInteractiveButtonsReply",
        {
            "chatId": "79001234567@c.us",
            "body": "Confirm?",
            "footer": "f",
            "buttons": [
                {"buttonId": "2", "buttonText": "Yes"},
                {"buttonId": "1", "buttonText": "No"},
                {"buttonId": "3", "buttonText": "Later"},
            ],
        },
    ),
    (
        "green_api_send_buttons",
        {
            "chatId": "79001234567@c.us",
            "header": "Support",
            "message": "How?",
            "buttons": [
                {"type": "copy", "buttonText": "Copy", "copyCode": "SPRING25"},
                {"type": "call", "buttonText": "Call", "phoneNumber": "79001234567"},
                {"type": "url", "buttonText": "Site", "url": "https://example.org", "buttonId": "site"},
            ],
        },
        "sendInteractiveButtons",
        {
            "chatId": "79001234567@c.us",
            "header": "Support",
            "body": "How?",
            "buttons": [
                {"type": "copy", "buttonId": "1", "buttonText": "Copy", "copyCode": "SPRING25"},
                {"type": "call", "buttonId": "2", "buttonText": "Call", "phoneNumber": "79001234567"},
                {"type": "url", "buttonId": "site", "buttonText": "Site", "url": "https://example.org"},
            ],
        },
    ),
]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("tool", "args", "method", "body"), SENDS)
def test_send_tools_request_and_output(
    mode: str, tool: str, args: dict[str, Any], method: str, body: dict[str, Any]
) -> None:
    rec = Recorder(httpx.Response(200, json={"idMessage": "BAE5F4886F6F2D05"}))
    out = execute(mode, rec, tool, {**CREDS, **args})
    assert out == {"idMessage": "BAE5F4886F6F2D05", "success": True}
    (request,) = rec.requests
    assert request.method == "POST"
    assert request.url.path == f"/waInstance{ID}/{method}/{CANARY}"
    assert request.url.query == b""
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == body
    assert list(json.loads(request.content)) == list(body), "field order as documented"


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_get_state_instance(mode: str) -> None:
    rec = Recorder(httpx.Response(200, json={"stateInstance": "notAuthorized"}))
    assert execute(mode, rec, "green_api_get_state_instance", CREDS) == {"stateInstance": "notAuthorized"}
    (request,) = rec.requests
    assert (request.method, request.url.path, request.content) == (
        "GET",
        f"/waInstance{ID}/getStateInstance/{CANARY}",
        b"",
    )


def _queue(items: list[dict[str, Any]]) -> Any:
    """A receive/delete responder with real queue semantics: the head repeats until deleted."""
    queue = list(items)

    def respond(request: httpx.Request) -> httpx.Response:
        if "/receiveNotification/" in request.url.path:
            return httpx.Response(200, content=json.dumps(queue[0] if queue else None).encode())
        receipt = int(request.url.path.rsplit("/", 1)[1])
        ok = bool(queue) and queue[0]["receiptId"] == receipt
        if ok:
            queue.pop(0)
        return httpx.Response(200, json={"result": ok})

    return respond


def handed(item: dict[str, Any]) -> dict[str, Any]:
    """What the tool returns for a queued item: the item plus its event."""
    return {**item, "event": tool_event(item["body"])}


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_get_notifications_drains_and_deletes(mode: str) -> None:
    items = [
        {"receiptId": n, "body": {"typeWebhook": "incomingMessageReceived", "idMessage": f"M{n}"}}
        for n in (7, 8, 9)
    ]
    rec = Recorder(_queue(items))
    out = execute(
        mode, rec, "green_api_get_notifications", {**CREDS, "receiveTimeout": 20, "maxNotifications": 10}
    )
    assert out == {"notifications": [handed(i) for i in items], "receiptId": 9}
    assert [n["event"]["idMessage"] for n in out["notifications"]] == ["M7", "M8", "M9"]
    calls = [
        (r.method, r.url.path.replace(CANARY, "T"), r.url.params.get("receiveTimeout")) for r in rec.requests
    ]
    assert calls == [
        ("GET", f"/waInstance{ID}/receiveNotification/T", "20"),
        ("DELETE", f"/waInstance{ID}/deleteNotification/T/7", None),
        ("GET", f"/waInstance{ID}/receiveNotification/T", "5"),
        ("DELETE", f"/waInstance{ID}/deleteNotification/T/8", None),
        ("GET", f"/waInstance{ID}/receiveNotification/T", "5"),
        ("DELETE", f"/waInstance{ID}/deleteNotification/T/9", None),
        ("GET", f"/waInstance{ID}/receiveNotification/T", "5"),
    ]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_get_notifications_defaults_take_one(mode: str) -> None:
    items = [{"receiptId": n, "body": {"n": n}} for n in (1, 2)]
    rec = Recorder(_queue(items))
    out = execute(mode, rec, "green_api_get_notifications", CREDS)
    assert out == {"notifications": [handed(items[0])], "receiptId": 1}
    assert [r.method for r in rec.requests] == ["GET", "DELETE"]
    assert rec.requests[0].url.params["receiveTimeout"] == "5"


def test_get_notifications_empty_queue() -> None:
    rec = Recorder(httpx.Response(200, content=b"null"))
    out = execute("sync", rec, "green_api_get_notifications", CREDS)
    assert out == {"notifications": [], "receiptId": None}
    assert len(rec.requests) == 1


def test_peek_deletes_nothing() -> None:
    items = [{"receiptId": n, "body": {"n": n}} for n in (1, 2)]
    rec = Recorder(_queue(items))
    args = {**CREDS, "deleteAfterReceive": False, "maxNotifications": 5}
    out = execute("sync", rec, "green_api_get_notifications", args)
    assert out == {"notifications": [handed(items[0])], "receiptId": 1}
    assert [r.method for r in rec.requests] == ["GET"]


def test_bound_credentials_fill_inputs() -> None:
    rec = Recorder(httpx.Response(200, json={"stateInstance": "authorized"}))
    out = execute("sync", rec, "green_api_get_state_instance", {}, id_instance=int(ID), api_token=CANARY)
    assert out == {"stateInstance": "authorized"}
    assert rec.requests[0].url.path == f"/waInstance{ID}/getStateInstance/{CANARY}"


def test_media_url_and_path_prefix_are_kept() -> None:
    rec = Recorder(httpx.Response(200, json={"stateInstance": "authorized"}))
    transport = rec.transport()
    with GreenApiBlock("http://localhost:9/proxy/", transport=transport, credentials_from_env=False) as block:
        block.execute("green_api_get_state_instance", CREDS)
    assert str(rec.requests[0].url) == f"http://localhost:9/proxy/waInstance{ID}/getStateInstance/{CANARY}"
