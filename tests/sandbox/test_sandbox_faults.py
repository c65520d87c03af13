"""Fault injection over real HTTP: what a client sees, and what the sandbox did behind it."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from green_api_block.sandbox import Sandbox
from tests.support.sandbox_http import CHAT, Api

# Limits off: fault tests send back to back. An empty poll is held 0.2 s.
pytestmark = pytest.mark.green_api_sandbox(rate_limits=False, max_receive_wait=0.2)

MESSAGE = {"chatId": CHAT, "message": "hello"}


def test_status_fault_answers_then_wears_off(sandbox: Sandbox, http: httpx.Client, api: Api) -> None:
    fault = sandbox.inject_fault("status", method="sendMessage", status=502, times=2)
    first = http.post(api.url("sendMessage"), json=MESSAGE)
    second = http.post(api.url("sendMessage"), json=MESSAGE)
    third = http.post(api.url("sendMessage"), json=MESSAGE)
    assert [first.status_code, second.status_code, third.status_code] == [502, 502, 200]
    assert first.headers["content-type"].startswith("text/html")  # a gateway's page, not JSON
    assert (fault.hits, fault.remaining) == (2, 0)
    assert len(sandbox.sent_messages(api.instance)) == 1  # faulted sends were not processed


def test_500_is_a_json_envelope(sandbox: Sandbox, http: httpx.Client, api: Api) -> None:
    sandbox.inject_fault("status", method="receiveNotification")
    response = http.get(api.url("receiveNotification"))
    assert response.status_code == 500 and response.json()["statusCode"] == 500


def test_429_with_and_without_retry_after(sandbox: Sandbox, http: httpx.Client, api: Api) -> None:
    sandbox.inject_fault("status", method="sendMessage", status=429, retry_after=2)
    sandbox.inject_fault("status", method="sendMessage", status=429)
    with_header = http.post(api.url("sendMessage"), json=MESSAGE)
    without = http.post(api.url("sendMessage"), json=MESSAGE)
    assert (with_header.status_code, with_header.headers["Retry-After"]) == (429, "2")
    assert without.status_code == 429 and "Retry-After" not in without.headers


def test_fault_after_processing_means_the_message_went_out(
    sandbox: Sandbox, http: httpx.Client, api: Api
) -> None:
    sandbox.inject_fault("status", method="sendMessage", status=502, process=True)
    response = http.post(api.url("sendMessage"), json=MESSAGE)
    assert response.status_code == 502
    assert len(sandbox.sent_messages(api.instance)) == 1


def test_drop_before_reading_sends_nothing(sandbox: Sandbox, http: httpx.Client, api: Api) -> None:
    sandbox.inject_fault("drop_before", method="sendMessage")
    # Closed with the request unread: the kernel may answer the client's bytes with a reset
    # (ReadError/WriteError) instead of a clean end of stream; all three mean "no answer".
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        http.post(api.url("sendMessage"), json=MESSAGE)
    assert sandbox.sent_messages(api.instance) == []
    assert http.post(api.url("sendMessage"), json=MESSAGE).status_code == 200  # the client recovers


def test_drop_after_reading_means_sent_then_the_connection_died(
    sandbox: Sandbox, http: httpx.Client, api: Api
) -> None:
    sandbox.inject_fault("drop_after", method="sendMessage")
    with pytest.raises(httpx.RemoteProtocolError):
        http.post(api.url("sendMessage"), json=MESSAGE)
    (sent,) = sandbox.sent_messages(api.instance)
    journal = http.get(api.url("lastOutgoingMessages")).json()
    assert [e["idMessage"] for e in journal] == [sent.id_message]  # how a client can find out


def test_drop_after_without_processing(sandbox: Sandbox, http: httpx.Client, api: Api) -> None:
    sandbox.inject_fault("drop_after", method="sendMessage", process=False)
    with pytest.raises(httpx.RemoteProtocolError):
        http.post(api.url("sendMessage"), json=MESSAGE)
    assert sandbox.sent_messages(api.instance) == []


def test_malformed_json(sandbox: Sandbox, http: httpx.Client, api: Api) -> None:
    sandbox.inject_fault("malformed_json", method="sendMessage", process=True)
    sandbox.inject_fault("malformed_json", method="receiveNotification")
    response = http.post(api.url("sendMessage"), json=MESSAGE)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert response.content.startswith(b'{"idMessage":"')  # the real answer, cut short
    assert len(sandbox.sent_messages(api.instance)) == 1
    poll = http.get(api.url("receiveNotification"))
    with pytest.raises(json.JSONDecodeError):
        json.loads(poll.content)


def test_text_body(sandbox: Sandbox, http: httpx.Client, api: Api) -> None:
    sandbox.inject_fault("text", method="getStateInstance")
    sandbox.inject_fault("text", method="getStateInstance", status=503, body="upstream timed out")
    page = http.get(api.url("getStateInstance"))
    plain = http.get(api.url("getStateInstance"))
    assert page.status_code == 200 and page.text.lstrip().startswith("<html>")
    assert (plain.status_code, plain.text, plain.headers["content-type"].split(";")[0]) == (
        503,
        "upstream timed out",
        "text/plain",
    )


def test_delay_then_normal_answer(sandbox: Sandbox, http: httpx.Client, api: Api) -> None:
    sandbox.inject_fault("delay", method="getStateInstance", delay=0.3)
    started = time.monotonic()
    response = http.get(api.url("getStateInstance"))
    assert response.json() == {"stateInstance": "authorized"}
    assert time.monotonic() - started >= 0.3


def test_delay_makes_a_client_time_out(sandbox: Sandbox, api: Api) -> None:
    sandbox.inject_fault("delay", method="sendMessage", delay=1.0, process=None)
    with httpx.Client(timeout=0.2) as client, pytest.raises(httpx.ReadTimeout):
        client.post(api.url("sendMessage"), json=MESSAGE)
    # The handler finishes in the background: a slow send still goes out (30 s: a failure bound).
    deadline = time.monotonic() + 30
    while not sandbox.sent_messages(api.instance) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(sandbox.sent_messages(api.instance)) == 1


def test_faults_match_instance_and_method(sandbox: Sandbox, http: httpx.Client, api: Api) -> None:
    other = Api(sandbox.create_instance())
    sandbox.inject_fault("status", instance=api.instance, status=500, forever=True)
    assert http.get(other.url("getStateInstance")).status_code == 200
    assert http.get(api.url("getStateInstance")).status_code == 500
    assert http.get(api.url("getSettings")).status_code == 500
    sandbox.clear_faults()
    assert http.get(api.url("getStateInstance")).status_code == 200


def test_faults_do_not_touch_the_control_plane(sandbox: Sandbox, http: httpx.Client) -> None:
    sandbox.inject_fault("status", status=500, forever=True)
    assert http.get(f"{sandbox.url}/__sandbox__/health").status_code == 200


@pytest.mark.green_api_sandbox(max_receive_wait=0)
def test_probability_mode_is_seeded_and_roughly_right(sandbox: Sandbox, http: httpx.Client, api: Api) -> None:
    def run(seed: int) -> list[int]:
        sandbox.clear_faults()
        sandbox.inject_fault("status", method="receiveNotification", status=500, probability=0.2, seed=seed)
        return [http.get(api.url("receiveNotification")).status_code for _ in range(100)]

    first, again = run(3), run(3)
    assert first == again
    assert set(first) == {200, 500} and 8 <= first.count(500) <= 35


@pytest.mark.green_api_sandbox(max_receive_wait=0)
def test_client_keeps_working_through_random_faults(sandbox: Sandbox, http: httpx.Client, api: Api) -> None:
    """A careful receive loop (retry on error, delete after handling) still sees every item once."""
    for n in range(30):
        sandbox.inject_incoming_text(api.instance, CHAT, f"m{n}")
    sandbox.inject_fault("status", method="receiveNotification", status=502, probability=0.1, seed=1)
    sandbox.inject_fault("drop_before", method="deleteNotification", probability=0.1, seed=2)
    seen: list[str] = []
    for _ in range(300):
        try:
            response = http.get(api.url("receiveNotification"))
            if response.status_code != 200:
                continue
            item = response.json()
            if item is None:
                break
            text = item["body"]["messageData"]["textMessageData"]["textMessage"]
            if text not in seen:
                seen.append(text)
            http.delete(api.url("deleteNotification", str(item["receiptId"])))
        except httpx.TransportError:
            continue
    assert seen == [f"m{n}" for n in range(30)]
    faults = sandbox.faults.list()
    assert all(f.hits > 0 for f in faults)


def test_delay_with_process_records_the_send_then_holds_the_answer(sandbox: Sandbox, api: Api) -> None:
    # The send must be in the journal while its answer is still held: a client killed during the
    # hold has sent the message ("sent, the worker died before the answer came").
    sandbox.inject_fault("delay", method="sendMessage", delay=30.0, process=True)
    with httpx.Client(timeout=0.5) as client, pytest.raises(httpx.ReadTimeout):
        client.post(api.url("sendMessage"), json=MESSAGE)
    # Recorded long before the 30 s hold ends (10 s: a bound for a loaded machine, not a wait).
    deadline = time.monotonic() + 10
    while not sandbox.sent_messages(api.instance) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [m.text for m in sandbox.sent_messages(api.instance)] == ["hello"]


def test_delay_with_process_answers_the_real_answer_late(
    sandbox: Sandbox, http: httpx.Client, api: Api
) -> None:
    sandbox.inject_fault("delay", method="sendMessage", delay=0.3, process=True)
    started = time.monotonic()
    response = http.post(api.url("sendMessage"), json=MESSAGE)
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200
    assert [m.id_message for m in sandbox.sent_messages(api.instance)] == [response.json()["idMessage"]]
