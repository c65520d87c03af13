"""The /__sandbox__/ control plane, driven over HTTP only (as a non-Python client would)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from green_api_block.sandbox import FaultOptions, Sandbox

CHAT = "79001234567@c.us"

# Limits off: the control plane is driven back to back. An empty poll is held 0.2 s.
pytestmark = pytest.mark.green_api_sandbox(rate_limits=False, max_receive_wait=0.2)


@pytest.fixture
def ctl(sandbox: Sandbox) -> str:
    return f"{sandbox.url}/__sandbox__"


def create(http: httpx.Client, ctl: str, **body: Any) -> dict[str, Any]:
    response = http.post(f"{ctl}/instances", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def green(inst: dict[str, Any], method: str, *extra: str) -> str:
    tail = "".join(f"/{e}" for e in extra)
    return f"{inst['apiUrl']}/waInstance{inst['idInstance']}/{method}/{inst['apiTokenInstance']}{tail}"


def test_index_health_and_connection(http: httpx.Client, ctl: str) -> None:
    assert "/__sandbox__/instances/{id}/incoming" in http.get(f"{ctl}/").text
    assert http.get(f"{ctl}/health").json() == {"ok": True, "instances": 0}
    connection = http.get(f"{ctl}/connection").json()
    assert connection["tcpNodelay"] is True and connection["keepAlive"] is True


def test_create_list_get_remove(http: httpx.Client, ctl: str) -> None:
    made = create(http, ctl, state="notAuthorized", settings={"outgoingWebhook": "yes"})
    assert re.fullmatch(r"\d{10}", made["idInstance"])
    assert re.fullmatch(r"[0-9a-f]{50}", made["apiTokenInstance"])
    fixed = create(http, ctl, idInstance="1101000001", apiTokenInstance="a" * 50, plan="developer")
    assert fixed["idInstance"] == "1101000001"
    assert {i["idInstance"] for i in http.get(f"{ctl}/instances").json()} == {
        made["idInstance"],
        "1101000001",
    }
    detail = http.get(f"{ctl}/instances/{made['idInstance']}").json()
    assert detail["stateInstance"] == "notAuthorized" and detail["settings"]["outgoingWebhook"] == "yes"
    assert http.delete(f"{ctl}/instances/1101000001").json() == {"removed": True}
    assert http.get(f"{ctl}/instances/1101000001").status_code == 404
    assert http.get(green(fixed, "getStateInstance")).status_code == 403  # gone from the API too
    assert http.post(f"{ctl}/instances", json={"state": "online"}).status_code == 400
    assert http.post(f"{ctl}/instances", content=b"{nope").status_code == 400


def test_state_settings_and_sent(http: httpx.Client, ctl: str) -> None:
    inst = create(http, ctl, settings={"stateWebhook": "yes", "outgoingWebhook": "yes"})
    ident = inst["idInstance"]
    changed = http.post(f"{ctl}/instances/{ident}/state", json={"stateInstance": "yellowCard"}).json()
    assert changed["notification"]["queued"] is True
    assert changed["notification"]["body"]["typeWebhook"] == "stateInstanceChanged"
    assert http.get(green(inst, "getStateInstance")).json() == {"stateInstance": "yellowCard"}
    http.post(f"{ctl}/instances/{ident}/state", json={"stateInstance": "authorized"})
    settings = http.post(f"{ctl}/instances/{ident}/settings", json={"incomingWebhook": "no"}).json()
    assert settings["incomingWebhook"] == "no"
    assert http.post(f"{ctl}/instances/{ident}/settings", json={"incomingWebhook": 1}).status_code == 400

    mid = http.post(green(inst, "sendMessage"), json={"chatId": CHAT, "message": "hi"}).json()["idMessage"]
    (sent,) = http.get(f"{ctl}/instances/{ident}/sent").json()
    assert sent["idMessage"] == mid and sent["method"] == "sendMessage" and sent["payload"]["message"] == "hi"
    read = http.post(f"{ctl}/instances/{ident}/sent/{mid}/status", json={"status": "read"}).json()
    assert read["body"]["status"] == "read"
    assert http.get(f"{ctl}/instances/{ident}/sent").json()[0]["statusMessage"] == "read"


@pytest.mark.parametrize(
    ("body", "type_message"),
    [
        ({"type": "text", "text": "hi", "senderName": "Ann"}, "textMessage"),
        ({"type": "extendedText", "text": "https://example.org", "title": "Ex"}, "extendedTextMessage"),
        ({"type": "file", "fileName": "scan.pdf", "caption": "c"}, "documentMessage"),
        ({"type": "file", "fileName": "pic.png"}, "imageMessage"),
        ({"type": "location", "latitude": 1.5, "longitude": 2.5, "name": "Here"}, "locationMessage"),
        ({"type": "contact", "displayName": "Bob", "phone": "79007654321"}, "contactMessage"),
        ({"type": "reaction", "emoji": "👍", "stanzaId": "BAE5"}, "reactionMessage"),
        (
            {
                "type": "buttonTap",
                "buttonId": "y",
                "buttonText": "Yes",
                "stanzaId": "BAE5",
                "variant": "buttonsResponseMessage",
            },
            "buttonsResponseMessage",
        ),
    ],
)
def test_incoming_kinds(http: httpx.Client, ctl: str, body: dict[str, Any], type_message: str) -> None:
    inst = create(http, ctl)
    answer = http.post(f"{ctl}/instances/{inst['idInstance']}/incoming", json={"chatId": CHAT, **body})
    assert answer.status_code == 201, answer.text
    result = answer.json()
    assert result["queued"] and result["delivered"]
    item = http.get(green(inst, "receiveNotification")).json()
    assert item["receiptId"] == result["receiptId"]
    assert item["body"]["messageData"]["typeMessage"] == type_message


def test_incoming_call_and_raw_notifications(http: httpx.Client, ctl: str) -> None:
    inst = create(http, ctl, settings={"incomingCallWebhook": "yes"})
    ident = inst["idInstance"]
    call = http.post(f"{ctl}/instances/{ident}/incoming", json={"type": "call", "chatId": CHAT}).json()
    assert call["body"]["typeWebhook"] == "incomingCall" and call["queued"]
    raw = {"typeWebhook": "somethingNew", "instanceData": {}, "timestamp": 1}
    pushed = http.post(f"{ctl}/instances/{ident}/notifications", json={"body": raw}).json()
    queue = http.get(f"{ctl}/instances/{ident}/notifications").json()
    assert [q["receiptId"] for q in queue] == [call["receiptId"], pushed["receiptId"]]
    assert queue[1]["body"] == raw
    assert http.delete(f"{ctl}/instances/{ident}/notifications").json() == {"removed": 2}
    assert http.get(green(inst, "receiveNotification")).text == "null"


def test_incoming_errors(http: httpx.Client, ctl: str) -> None:
    inst = create(http, ctl)
    url = f"{ctl}/instances/{inst['idInstance']}/incoming"
    assert http.post(url, json={"type": "fax", "chatId": CHAT}).status_code == 400
    assert http.post(url, json={"type": "text", "chatId": CHAT}).json() == {"error": "'text' is required"}
    assert "no button message" in http.post(url, json={"type": "buttonTap", "chatId": CHAT}).json()["error"]
    assert http.post(url, json={"type": "buttonTap", "chatId": CHAT, "variant": "x"}).status_code == 400
    unknown = f"{ctl}/instances/1999999999/incoming"
    assert http.post(unknown, json={"type": "text", "chatId": CHAT, "text": "x"}).status_code == 404


def test_faults_over_http(http: httpx.Client, ctl: str) -> None:
    inst = create(http, ctl)
    made = http.post(
        f"{ctl}/faults", json={"kind": "status", "method": "sendMessage", "status": 502, "times": 2}
    )
    assert made.status_code == 201
    fault = made.json()
    assert (fault["kind"], fault["remaining"], fault["hits"]) == ("status", 2, 0)
    assert http.post(green(inst, "sendMessage"), json={"chatId": CHAT, "message": "x"}).status_code == 502
    assert http.get(f"{ctl}/faults").json()[0]["hits"] == 1
    assert http.delete(f"{ctl}/faults/{fault['id']}").json() == {"removed": True}
    assert http.delete(f"{ctl}/faults/{fault['id']}").status_code == 404
    assert http.post(green(inst, "sendMessage"), json={"chatId": CHAT, "message": "x"}).status_code == 200
    http.post(f"{ctl}/faults", json={"kind": "drop_before", "forever": True})
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(green(inst, "getStateInstance"))
    assert http.delete(f"{ctl}/faults").json() == {"removed": True}
    assert http.post(f"{ctl}/faults", json={"kind": "boom"}).status_code == 400
    assert http.post(f"{ctl}/faults", json={"kind": "status", "typo": 1}).status_code == 400


def test_reset_forgets_everything(sandbox: Sandbox, http: httpx.Client, ctl: str) -> None:
    create(http, ctl)
    sandbox.inject_fault("status", forever=True)
    assert http.post(f"{ctl}/reset").json() == {"reset": True}
    assert http.get(f"{ctl}/instances").json() == []
    assert sandbox.faults.list() == []


def test_every_fault_option_is_accepted_over_http_and_typed(
    http: httpx.Client, ctl: str, sandbox: Sandbox
) -> None:
    # FaultOptions is the one signature; the endpoint must take each of its keys (camelCase).
    body = {
        "kind": "status",
        "instance": "1101000001",
        "method": "sendMessage",
        "times": 2,
        "forever": False,
        "probability": 0.5,
        "seed": 7,
        "status": 503,
        "retryAfter": 2.5,
        "delay": 0.0,
        "body": "busy",
        "process": True,
    }
    spelled = {"retry_after" if k == "retryAfter" else k for k in body} - {"kind", "instance"}
    assert spelled == set(FaultOptions.__annotations__)
    answer = http.post(f"{ctl}/faults", json=body)
    assert answer.status_code == 201, answer.text
    (fault,) = sandbox.faults.list()
    assert (fault.instance, fault.method, fault.remaining, fault.status) == (
        "1101000001",
        "sendMessage",
        2,
        503,
    )
    assert (fault.retry_after, fault.body, fault.process, fault.probability) == (2.5, "busy", True, 0.5)
    for field, wrong in (("times", "2"), ("forever", "yes"), ("delay", True), ("method", 5)):
        refused = http.post(f"{ctl}/faults", json={"kind": "status", field: wrong})
        assert refused.status_code == 400 and field in refused.json()["error"]


def test_unknown_fault_options_are_refused_by_the_python_api(sandbox: Sandbox) -> None:
    with pytest.raises(TypeError, match="retryafter"):
        sandbox.inject_fault("status", retryafter=1)  # type: ignore[call-arg]
