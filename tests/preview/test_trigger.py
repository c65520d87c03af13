"""The preview's trigger over HTTP: push delivery into its own receiver, filters, tokens, refusals.

Each test runs its own sandbox with short push timings, so a failed push is retried in
milliseconds rather than Green API's minute; every wait is bounded (``wait_for``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest

from green_api_block.events import Event
from green_api_block.preview import TOKEN_MARKER, PreviewServer
from green_api_block.preview.trigger import WEBHOOK_PATH
from green_api_block.sandbox import Sandbox

CUSTOMER = "79001234567@c.us"
GROUP = "120363043968066561@g.us"
T = TypeVar("T")


def wait_for(probe: Callable[[], T | None], *, bound: float = 10.0) -> T:
    """The probe's first truthy answer, polled; fails (never hangs) after ``bound`` seconds."""
    deadline = time.monotonic() + bound
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"nothing after {bound} s")
        time.sleep(0.02)


@pytest.fixture
def live() -> Iterator[tuple[PreviewServer, httpx.Client]]:
    with (
        Sandbox(webhook_timeout=5, webhook_retry_delay=0.05, max_receive_wait=0.5) as sandbox,
        PreviewServer(sandbox=sandbox) as preview,
        httpx.Client(base_url=preview.url, timeout=10) as client,
    ):
        yield preview, client


def _events(client: httpx.Client, after: int = 0) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = client.get(f"/api/trigger?after={after}").json()["events"]
    return events


def at_least(n: int, probe: Callable[[], list[T]]) -> Callable[[], list[T] | None]:
    """A probe for wait_for: the list once it holds ``n`` items."""

    def check() -> list[T] | None:
        items = probe()
        return items if len(items) >= n else None

    return check


def test_listening_points_the_sandbox_at_the_receiver_and_events_arrive_by_push(
    live: tuple[PreviewServer, httpx.Client],
) -> None:
    preview, client = live
    sandbox, inst = preview.sandbox, preview.sandbox_instance
    assert sandbox is not None and inst is not None
    state = client.get("/api/trigger").json()
    assert state["available"] is True and state["listening"] is False
    assert state["webhookUrl"] == preview.webhook_url == f"{preview.url}{WEBHOOK_PATH}"
    assert sandbox.get_settings(inst)["webhookUrl"] == "", "off until switched on: polling works"

    on = client.post("/api/trigger", json={"listening": True, "filters": {"chatTypes": ["personal"]}}).json()
    assert on["listening"] is True and on["filters"]["chatTypes"] == ["personal"]
    settings = sandbox.get_settings(inst)
    assert settings["webhookUrl"] == preview.webhook_url
    assert preview.config is not None and preview.config.trigger is not None
    assert settings["webhookUrlToken"] == preview.config.trigger.token

    text = sandbox.inject_incoming_text(inst, CUSTOMER, "Is my order ready?", sender_name="Ann")
    group = sandbox.inject_incoming_text(inst, GROUP, "in the group", sender=CUSTOMER)
    tap = sandbox.inject_button_tap(
        inst, CUSTOMER, button_id="yes", button_text="Confirm", stanza_id="S1", sender_name="Ann"
    )
    events = wait_for(at_least(2, lambda: _events(client)))
    # The group message was pushed (head of line: the tap after it arrived) and filtered out.
    assert [item["event"] for item in events] == [
        Event.from_body(text.body).model_dump(mode="json"),
        Event.from_body(tap.body).model_dump(mode="json"),
    ]
    assert events[1]["event"]["buttonId"] == "yes" and events[1]["event"]["text"]
    # The sandbox journals a push once it has the answer, which the receiver sends after the
    # handler listed the event: wait for the journal, then read the receiver's counters.
    attempts = wait_for(at_least(3, lambda: sandbox.push_attempts(inst)))
    assert [a.receipt_id for a in attempts] == [text.receipt_id, group.receipt_id, tap.receipt_id]
    assert {(a.url, a.status) for a in attempts} == {(preview.webhook_url, 200)}
    counters = client.get("/api/trigger").json()["counters"]
    assert counters["accepted"] == 2 and counters["filtered"] == 1 and counters["unauthorized"] == 0
    wait_for(lambda: not sandbox.backend.pending(inst.id_instance))  # a 200 takes the item off

    # Push mode: Get notifications finds nothing, as with Green API.
    run = {"tool": "green_api_get_notifications", "args": {"receiveTimeout": 5}}
    assert client.post("/api/run", json=run).json()["output"]["notifications"] == []

    off = client.post("/api/trigger", json={"listening": False}).json()
    assert off["listening"] is False and sandbox.get_settings(inst)["webhookUrl"] == ""
    later = sandbox.inject_incoming_text(inst, CUSTOMER, "after")
    polled = client.post("/api/run", json=run).json()["output"]["notifications"]
    assert [n["receiptId"] for n in polled] == [later.receipt_id]
    assert len(_events(client)) == 2


def test_a_duplicate_push_is_one_event(live: tuple[PreviewServer, httpx.Client]) -> None:
    preview, client = live
    sandbox, inst = preview.sandbox, preview.sandbox_instance
    assert sandbox is not None and inst is not None
    client.post("/api/trigger", json={"listening": True})
    sandbox.inject_fault("push_duplicate", instance=inst)
    first = sandbox.inject_incoming_text(inst, CUSTOMER, "once")
    wait_for(lambda: len(sandbox.push_attempts(inst)) >= 2)
    second = sandbox.inject_incoming_text(inst, CUSTOMER, "twice")  # after the duplicate, in order
    events = wait_for(at_least(2, lambda: _events(client)))
    assert [i["event"]["idMessage"] for i in events] == [first.id_message, second.id_message]
    # Three pushes (the duplicate answered 200 by the receiver's de-duplication), two events.
    wait_for(lambda: len(sandbox.push_attempts(inst)) >= 3)
    assert client.get("/api/trigger").json()["counters"]["duplicates"] == 1


def test_the_endpoint_checks_its_own_token_even_behind_the_preview_token() -> None:
    auth = "preview-auth-" + "x" * 24
    with (
        Sandbox(webhook_retry_delay=0.05) as sandbox,
        PreviewServer(sandbox=sandbox, auth_token=auth) as preview,
        httpx.Client(base_url=preview.url, timeout=10) as client,
    ):
        assert preview.config is not None and preview.config.trigger is not None
        token = preview.config.trigger.token
        body = {
            "typeWebhook": "incomingMessageReceived",
            "idMessage": "M1",
            "senderData": {"chatId": CUSTOMER, "sender": CUSTOMER},
            "messageData": {"typeMessage": "textMessage", "textMessageData": {"textMessage": "hi"}},
        }
        # The preview's own token does not open the endpoint, and the endpoint's token does not
        # open the preview: two secrets for two callers.
        for headers in ({}, {"Authorization": f"Bearer {auth}"}, {"Authorization": "Bearer nope"}):
            assert client.post(WEBHOOK_PATH, json=body, headers=headers).status_code == 401
        assert client.get("/api/trigger", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        assert (
            client.post(WEBHOOK_PATH, json=body, headers={"Authorization": f"Bearer {token}"}).status_code
            == 200
        )
        assert client.get(WEBHOOK_PATH, headers={"Authorization": f"Bearer {token}"}).status_code == 405
        bad = client.post(
            WEBHOOK_PATH, content=b"[1]", headers={"Authorization": f"Bearer {token}", "Content-Type": "x/y"}
        )
        assert bad.status_code == 400  # the receiver's answer, not the preview's 415
        # Behind the preview's token, the state shows the one event, and the token as never.
        state = client.get("/api/trigger", headers={"Authorization": f"Bearer {auth}"})
        assert [i["event"]["text"] for i in state.json()["events"]] == ["hi"]
        assert token not in state.text and auth not in state.text
        # Another Host is refused before the receiver (DNS rebinding), as everywhere.
        foreign = client.post(
            WEBHOOK_PATH, json=body, headers={"Authorization": f"Bearer {token}", "Host": "evil.example"}
        )
        assert foreign.status_code == 421


def test_no_answer_carries_a_token_a_customer_typed(live: tuple[PreviewServer, httpx.Client]) -> None:
    preview, client = live
    sandbox, inst = preview.sandbox, preview.sandbox_instance
    assert sandbox is not None and inst is not None and preview.config is not None
    assert preview.config.trigger is not None
    webhook_token, api_token = preview.config.trigger.token, inst.api_token
    client.post("/api/trigger", json={"listening": True})
    sandbox.inject_incoming_text(inst, CUSTOMER, f"tokens {webhook_token} and {api_token}")
    wait_for(lambda: _events(client))
    for path in ("/api/trigger", "/api/notifications", "/api/session", "/api/contract"):
        text = client.get(path).text
        assert webhook_token not in text and api_token not in text, path
    switched = client.post("/api/trigger", json={"listening": True, "filters": {}}).text
    assert webhook_token not in switched and api_token not in switched
    assert TOKEN_MARKER not in switched  # the page shows the marker; the answer says tokenSet


def test_bad_trigger_requests_change_nothing(live: tuple[PreviewServer, httpx.Client]) -> None:
    preview, client = live
    assert preview.sandbox is not None and preview.sandbox_instance is not None
    client.post("/api/trigger", json={"filters": {"eventTypes": ["incomingMessageReceived"]}})
    for body, code in (
        ({"filters": {"chatTypes": ["channel"]}}, "invalid_filter"),
        ({"filters": {"chatIds": "not a chat"}}, "invalid_filter"),
        ({"filters": {"chatIdz": CUSTOMER}}, "invalid_filter"),
        ({"filters": ["x"]}, "bad_request"),
        ({"listening": "yes"}, "bad_request"),
    ):
        answer = client.post("/api/trigger", json=body)
        # Refused values are an answer (200, ok false), a malformed request is a 400.
        status = 200 if code == "invalid_filter" else 400
        assert answer.status_code == status and answer.json()["ok"] is False, body
        assert answer.json()["error"]["code"] == code, body
    state = client.get("/api/trigger").json()
    assert state["filters"]["eventTypes"] == ["incomingMessageReceived"] and state["listening"] is False
    assert preview.sandbox.get_settings(preview.sandbox_instance)["webhookUrl"] == ""
    assert (
        client.post("/api/trigger", content=b"{", headers={"Content-Type": "application/json"}).status_code
        == 400
    )


def test_without_a_sandbox_the_view_has_no_live_part(sandbox: Sandbox) -> None:
    with PreviewServer(api_url=sandbox.url) as preview, httpx.Client(base_url=preview.url) as client:
        assert client.get("/api/trigger").json() == {
            "available": False,
            "listening": False,
            "webhookUrl": None,
        }
        assert client.post("/api/trigger", json={"listening": True}).status_code == 404
        assert client.post(WEBHOOK_PATH, json={"typeWebhook": "x"}).status_code == 404
        assert preview.webhook_url is None


def test_closing_the_preview_stops_pushes_to_it(sandbox: Sandbox) -> None:
    inst = None
    with PreviewServer(sandbox=sandbox) as preview, httpx.Client(base_url=preview.url) as client:
        client.post("/api/trigger", json={"listening": True})
        inst = preview.sandbox_instance
        assert inst is not None and sandbox.get_settings(inst)["webhookUrl"]
    # The sandbox outlives the preview: it must not keep pushing to a closed port.
    assert sandbox.get_settings(inst)["webhookUrl"] == ""


def test_notification_items_carry_the_event_model(live: tuple[PreviewServer, httpx.Client]) -> None:
    preview, client = live
    assert preview.sandbox is not None and preview.sandbox_instance is not None
    tap = preview.sandbox.inject_button_tap(
        preview.sandbox_instance, CUSTOMER, button_id="no", button_text="Cancel", stanza_id="S2"
    )
    items = client.get("/api/notifications").json()["items"]
    item = next(i for i in items if i["receiptId"] == tap.receipt_id)
    assert item["body"] == tap.body
    assert item["event"] == Event.from_body(tap.body).model_dump(mode="json", exclude={"raw"})
    assert item["event"]["buttonId"] == "no"
