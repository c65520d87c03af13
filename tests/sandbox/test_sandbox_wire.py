"""The Green API face over real HTTP: URLs, verbs, errors, validation, long poll, journals, limits."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import httpx
import pytest

from green_api_block.sandbox import Sandbox
from tests.support.clock import FakeClock
from tests.support.sandbox_http import CHAT, Api

# Limits off so that tests can call 1-RPS methods back to back (the limit tests turn them back on);
# an empty poll is held 0.2 s, not the whole receiveTimeout.
pytestmark = pytest.mark.green_api_sandbox(rate_limits=False, max_receive_wait=0.2)


def error_message(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"statusCode", "timestamp", "path", "message"}
    assert body["statusCode"] == response.status_code
    return str(body["message"])


# ------------------------------------------------------------------------------- routing and auth


def test_unknown_instance_403_wrong_token_401(http: httpx.Client, api: Api) -> None:
    assert http.get(api.url("getStateInstance", id_instance="1999999999")).status_code == 403
    wrong = http.get(api.url("getStateInstance", token="0" * 50))
    assert wrong.status_code == 401 and error_message(wrong) == "Unauthorized"


def test_error_envelope_echoes_the_path_like_the_service(http: httpx.Client, api: Api) -> None:
    response = http.post(api.url("sendMessage"), json={"chatId": "123", "message": "x"})
    body = response.json()
    # A live instance answers with the request path, token included: clients must redact it.
    assert body["path"] == f"/waInstance{api.instance.id_instance}/sendMessage/{api.instance.api_token}"
    assert body["timestamp"].endswith("Z")


@pytest.mark.parametrize("method", ["sendButtons", "sendTemplateButtons", "sendListMessage"])
def test_archived_button_methods_answer_403(http: httpx.Client, api: Api, method: str) -> None:
    response = http.post(api.url(method), json={"chatId": CHAT, "message": "x", "buttons": []})
    assert response.status_code == 403


def test_wrong_verb_and_unknown_paths_404(http: httpx.Client, api: Api) -> None:
    assert http.get(api.url("sendMessage")).status_code == 404
    assert http.post(api.url("getStateInstance")).status_code == 404
    assert http.get(api.url("noSuchMethod")).status_code == 404
    assert http.delete(api.url("deleteNotification")).status_code == 404  # receiptId missing
    assert http.get(api.url("getStateInstance", "extra")).status_code == 404
    assert http.get(f"{api.instance.api_url}/favicon.ico").status_code == 404


def test_real_but_unemulated_methods_say_so(http: httpx.Client, api: Api) -> None:
    response = http.post(api.url("sendPoll"), json={})
    assert response.status_code == 501
    assert "does not emulate" in error_message(response)


def test_method_names_are_case_insensitive_and_options_is_204(http: httpx.Client, api: Api) -> None:
    assert http.get(api.url("GetStateInstance")).json() == {"stateInstance": "authorized"}
    assert http.options(api.url("sendMessage")).status_code == 204


# ------------------------------------------------------------------------------- sends


def test_send_message_returns_an_id_and_records_the_message(
    sandbox: Sandbox, http: httpx.Client, api: Api
) -> None:
    response = http.post(api.url("sendMessage"), json={"chatId": CHAT, "message": "Привет 👋"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    (sent,) = sandbox.sent_messages(api.instance)
    assert response.json() == {"idMessage": sent.id_message}
    assert (sent.chat_id, sent.text, sent.method) == (CHAT, "Привет 👋", "sendMessage")


def test_every_send_method(sandbox: Sandbox, http: httpx.Client, api: Api) -> None:
    bodies: dict[str, dict[str, Any]] = {
        "sendFileByUrl": {
            "chatId": CHAT,
            "urlFile": "https://example.org/files/invoice-42.pdf",
            "fileName": "invoice-42.pdf",
            "caption": "Invoice",
        },
        "sendInteractiveButtons": {
            "chatId": CHAT,
            "header": "Support",
            "body": "How can we reach you?",
            "footer": "Pick one",
            "buttons": [
                {"type": "copy", "buttonId": "1", "buttonText": "Copy promo", "copyCode": "SPRING25"},
                {"type": "call", "buttonId": "2", "buttonText": "Call us", "phoneNumber": "79001234567"},
                {"type": "url", "buttonId": "3", "buttonText": "Open site", "url": "https://example.org"},
            ],
        },
        "sendInteractiveButtonsReply": {
            "chatId": CHAT,
            "body": "Confirm the booking?",
            "buttons": [
                {"buttonId": "yes", "buttonText": "Confirm"},
                {"buttonId": "no", "buttonText": "Cancel"},
            ],
        },
    }
    for method, body in bodies.items():
        response = http.post(api.url(method), json=body)
        assert response.status_code == 200, (method, response.text)
    assert [m.type_message for m in sandbox.sent_messages(api.instance)] == [
        "documentMessage",
        "interactiveButtons",
        "interactiveButtonsReply",
    ]


VALIDATION_CASES: list[tuple[str, Any, str]] = [
    ("sendMessage", {"message": "x"}, "'chatId' is required"),
    ("sendMessage", {"chatId": "", "message": "x"}, "'chatId' is not allowed to be empty"),
    ("sendMessage", {"chatId": "7900", "message": "x"}, "'chatId' must be one of the next formats"),
    ("sendMessage", {"chatId": "+79001234567@c.us", "message": "x"}, "must be one of the next formats"),
    ("sendMessage", {"chatId": 79001234567, "message": "x"}, "'chatId' must be a string"),
    ("sendMessage", {"chatId": CHAT}, "'message' is required"),
    ("sendMessage", {"chatId": CHAT, "message": ""}, "'message' is not allowed to be empty"),
    ("sendMessage", {"chatId": CHAT, "message": "x" * 20001}, "less than or equal to 20000 characters"),
    ("sendMessage", {"chatId": CHAT, "message": "x", "typingTime": 10}, "'typingTime' must be larger than"),
    ("sendMessage", {"chatId": CHAT, "message": "x", "linkPreview": "no"}, "'linkPreview' must be a boolean"),
    ("sendMessage", ["not", "an", "object"], "'value' must be of type object"),
    (
        "sendFileByUrl",
        {"chatId": CHAT, "urlFile": "https://e.org/f", "fileName": "invoice"},
        "file extension",
    ),
    ("sendFileByUrl", {"chatId": CHAT, "urlFile": "ftp://e.org/f.pdf", "fileName": "f.pdf"}, "http|https"),
    ("sendFileByUrl", {"chatId": CHAT, "fileName": "f.pdf"}, "'urlFile' is required"),
    (
        "sendFileByUrl",
        {"chatId": CHAT, "urlFile": "https://e.org/f.jpg", "fileName": "f.jpg", "caption": "c" * 1025},
        "'caption' length must be less than or equal to 1024",
    ),
    (
        "sendInteractiveButtonsReply",
        {"chatId": CHAT, "body": "b", "buttons": [{"buttonId": str(i), "buttonText": "t"} for i in range(4)]},
        "'buttons' must contain less than or equal to 3 items",
    ),
    (
        "sendInteractiveButtonsReply",
        {"chatId": CHAT, "body": "b", "buttons": [{"buttonId": "1", "buttonText": "x" * 26}]},
        "'buttons[0].buttonText' length must be less than or equal to 25",
    ),
    (
        "sendInteractiveButtonsReply",
        {"chatId": CHAT, "body": "b", "buttons": []},
        "'buttons' must contain at least 1 items",
    ),
    (
        "sendInteractiveButtonsReply",
        {"chatId": CHAT, "buttons": [{"buttonId": "1", "buttonText": "t"}]},
        "'body'",
    ),
    (
        "sendInteractiveButtons",
        {"chatId": CHAT, "body": "b", "buttons": [{"type": "reply", "buttonId": "1", "buttonText": "t"}]},
        "'buttons[0].type' must be one of [copy, call, url]",
    ),
    (
        "sendInteractiveButtons",
        {"chatId": CHAT, "body": "b", "buttons": [{"type": "copy", "buttonId": "1", "buttonText": "t"}]},
        "'buttons[0].copyCode' is required",
    ),
    (
        "sendInteractiveButtons",
        {
            "chatId": CHAT,
            "body": "b",
            "buttons": [{"type": "url", "buttonId": "1", "buttonText": "t", "url": "x"}],
        },
        "'buttons[0].url' must be a valid uri",
    ),
]


@pytest.mark.parametrize(("method", "body", "expected"), VALIDATION_CASES)
def test_validation_answers_400_like_the_service(
    sandbox: Sandbox, http: httpx.Client, api: Api, method: str, body: Any, expected: str
) -> None:
    response = http.post(api.url(method), json=body)
    assert response.status_code == 400
    message = error_message(response)
    assert message.startswith("Validation failed. Details: ")
    assert expected in message
    assert sandbox.sent_messages(api.instance) == []


def test_accepted_edge_cases(http: httpx.Client, api: Api) -> None:
    ok = [
        ("sendMessage", {"chatId": CHAT, "message": "x" * 20000}),
        ("sendMessage", {"chatId": "120363043968066561@g.us", "message": "group"}),
        ("sendMessage", {"chatId": "79001234567-1581234048@g.us", "message": "old group"}),
        ("sendMessage", {"chatId": "120650379300963@lid", "message": "lid"}),
        ("sendMessage", {"chatId": CHAT, "message": "x", "someFutureField": 1}),  # unknown keys ignored
        (
            "sendFileByUrl",
            {"chatId": CHAT, "urlFile": "http://e.org/a", "fileName": "a.b", "caption": "c" * 1024},
        ),
        (
            "sendInteractiveButtonsReply",
            {
                "chatId": CHAT,
                "body": "b",
                "buttons": [{"buttonId": str(i), "buttonText": "x" * 25} for i in range(3)],
            },
        ),
    ]
    for method, body in ok:
        assert http.post(api.url(method), json=body).status_code == 200, (method, body)


def test_malformed_json_body_gets_nodes_parser_message(http: httpx.Client, api: Api) -> None:
    response = http.post(
        api.url("sendMessage"), content=b'{"chatId": }', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert error_message(response) == "Unexpected token } in JSON at position 11"
    truncated = http.post(api.url("sendMessage"), content=b'{"chatId": "x"')
    assert error_message(truncated) == "Unexpected end of JSON input"


# ------------------------------------------------------------------------------- states


def test_state_answers(sandbox: Sandbox, http: httpx.Client, api: Api) -> None:
    for state in ("notAuthorized", "blocked", "yellowCard", "sleepMode", "starting", "authorized"):
        sandbox.set_state(api.instance, state)
        assert http.get(api.url("getStateInstance")).json() == {"stateInstance": state}


def test_not_authorized_refuses_sends_but_not_polling(sandbox: Sandbox, http: httpx.Client, api: Api) -> None:
    sandbox.set_state(api.instance, "notAuthorized")
    response = http.post(api.url("sendMessage"), json={"chatId": CHAT, "message": "x"})
    assert response.status_code == 400 and error_message(response) == "instance account not authorized"
    assert http.get(api.url("receiveNotification")).status_code == 200


def test_starting_instance_answers_only_its_state(sandbox: Sandbox, http: httpx.Client, api: Api) -> None:
    sandbox.set_state(api.instance, "starting")
    for response in (
        http.post(api.url("sendMessage"), json={"chatId": CHAT, "message": "x"}),
        http.get(api.url("receiveNotification")),
        http.get(api.url("getSettings")),
    ):
        assert response.status_code == 400
        assert error_message(response) == "instance in starting process try later"
    assert http.get(api.url("getStateInstance")).status_code == 200


# ------------------------------------------------------------------------------- settings and journals


def test_get_and_set_settings(sandbox: Sandbox, http: httpx.Client, api: Api) -> None:
    settings = http.get(api.url("getSettings")).json()
    assert settings["wid"] == api.instance.wid and settings["incomingCallWebhook"] == "no"
    response = http.post(
        api.url("setSettings"), json={"incomingCallWebhook": "yes", "delaySendMessagesMilliseconds": 1000}
    )
    assert response.json() == {"saveSettings": True}
    assert sandbox.get_settings(api.instance)["incomingCallWebhook"] == "yes"
    bad = http.post(api.url("setSettings"), json={"incomingWebhook": True})
    assert bad.status_code == 400 and "must be one of [yes, no]" in error_message(bad)
    assert http.post(api.url("setSettings"), json={}).status_code == 400


def test_last_outgoing_messages(http: httpx.Client, api: Api) -> None:
    first = api.send_text(http, "one")["idMessage"]
    second = api.send_text(http, "two")["idMessage"]
    journal = http.get(api.url("lastOutgoingMessages"), params={"minutes": 10}).json()
    assert [e["idMessage"] for e in journal] == [second, first]
    for entry in journal:
        assert {
            "idMessage",
            "chatId",
            "typeMessage",
            "textMessage",
            "timestamp",
            "statusMessage",
            "sendByApi",
        } <= set(entry)
    assert http.get(api.url("lastOutgoingMessages"), params={"minutes": "x"}).status_code == 400


def test_last_incoming_messages(sandbox: Sandbox, http: httpx.Client, api: Api) -> None:
    sandbox.inject_incoming_text(api.instance, CHAT, "hello bot", sender_name="Ann")
    (entry,) = http.get(api.url("lastIncomingMessages")).json()
    assert (entry["type"], entry["textMessage"], entry["senderName"], entry["chatId"]) == (
        "incoming",
        "hello bot",
        "Ann",
        CHAT,
    )


# ------------------------------------------------------------------------------- receive / delete


def test_empty_queue_answers_json_null_after_the_hold(http: httpx.Client, api: Api) -> None:
    started = time.monotonic()
    response = http.get(api.url("receiveNotification"), params={"receiveTimeout": 5})
    held = time.monotonic() - started
    assert response.status_code == 200 and response.text == "null"
    assert 0.15 <= held < 2  # the fixture caps the 5 s hold at 0.2 s


def test_receive_returns_the_head_until_deleted(sandbox: Sandbox, http: httpx.Client, api: Api) -> None:
    first = sandbox.inject_incoming_text(api.instance, CHAT, "one")
    sandbox.inject_incoming_text(api.instance, CHAT, "two")
    url = api.url("receiveNotification")
    a, b = http.get(url).json(), http.get(url).json()
    assert a == b and a["receiptId"] == first.receipt_id
    assert a["body"]["messageData"]["textMessageData"]["textMessage"] == "one"
    assert http.delete(api.url("deleteNotification", str(a["receiptId"]))).json() == {"result": True}
    assert http.delete(api.url("deleteNotification", str(a["receiptId"]))).json() == {"result": False}
    assert http.delete(api.url("deleteNotification", "999999")).json() == {"result": False}
    assert http.get(url).json()["body"]["messageData"]["textMessageData"]["textMessage"] == "two"
    assert http.delete(api.url("deleteNotification", "abc")).status_code == 400


@pytest.mark.parametrize("value", ["4", "61", "x"])
def test_receive_timeout_is_checked(http: httpx.Client, api: Api, value: str) -> None:
    response = http.get(api.url("receiveNotification"), params={"receiveTimeout": value})
    assert response.status_code == 400 and "'receiveTimeout'" in error_message(response)


@pytest.mark.green_api_sandbox(max_receive_wait=10)
def test_long_poll_wakes_as_soon_as_something_arrives(sandbox: Sandbox, http: httpx.Client, api: Api) -> None:
    timer = threading.Timer(0.3, sandbox.inject_incoming_text, args=(api.instance, CHAT, "late"))
    started = time.monotonic()
    timer.start()
    try:
        response = http.get(api.url("receiveNotification"), params={"receiveTimeout": 30})
    finally:
        timer.join()
    waited = time.monotonic() - started
    assert response.json()["body"]["messageData"]["textMessageData"]["textMessage"] == "late"
    # Without the wake-up the poll would sit out the 10 s cap: anything well below it is a wake-up
    # (the upper bound is slack for a loaded machine, not a measure of speed).
    assert 0.25 <= waited < 8


@pytest.mark.green_api_sandbox(max_receive_wait=None)
def test_default_hold_is_the_full_receive_timeout(sandbox: Sandbox, http: httpx.Client, api: Api) -> None:
    """Faithful by default: an empty poll is still held after 1 s of a 5 s receiveTimeout."""
    timer = threading.Timer(1.2, sandbox.inject_incoming_text, args=(api.instance, CHAT, "released"))
    started = time.monotonic()
    timer.start()
    try:
        response = http.get(api.url("receiveNotification"), params={"receiveTimeout": 5})
    finally:
        timer.join()
    assert response.json() is not None  # released by the message, not by the clock
    assert time.monotonic() - started >= 1.1  # and still held when it came


@pytest.mark.slow
@pytest.mark.green_api_sandbox(max_receive_wait=None)
def test_empty_poll_is_held_for_receive_timeout(http: httpx.Client, api: Api) -> None:
    started = time.monotonic()
    response = http.get(api.url("receiveNotification"))  # default receiveTimeout: 5
    held = time.monotonic() - started
    assert response.text == "null" and 4.9 <= held < 6.5


def test_close_releases_pending_long_polls_at_once() -> None:
    sb = Sandbox(rate_limits=False).start()  # faithful: would hold up to 60 s
    inst = sb.create_instance()
    results: list[float] = []

    def poll() -> None:
        started = time.monotonic()
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(Api(inst).url("receiveNotification"), params={"receiveTimeout": 60}, timeout=30)
        results.append(time.monotonic() - started)

    pollers = [threading.Thread(target=poll) for _ in range(5)]
    for t in pollers:
        t.start()
    time.sleep(0.3)
    started = time.monotonic()
    sb.close()
    closing = time.monotonic() - started
    for t in pollers:
        t.join(5)
    assert closing < 3 and len(results) == 5 and max(results) < 5


# ------------------------------------------------------------------------------- limits


#: The limiter's clock in the rate tests: it moves only when a test moves it, so a loaded machine
#: cannot refill a bucket between two requests.
RATE_CLOCK = FakeClock()


@pytest.mark.green_api_sandbox(rate_limits=True, monotonic=RATE_CLOCK)
def test_rate_limit_answers_429(http: httpx.Client, api: Api) -> None:
    assert http.get(api.url("getStateInstance")).status_code == 200
    limited = http.get(api.url("getStateInstance"))
    assert limited.status_code == 429 and error_message(limited) == "Too Many Requests"
    assert "Retry-After" not in limited.headers  # Green API documents none
    RATE_CLOCK.advance(0.9)
    assert http.get(api.url("getStateInstance")).status_code == 429
    RATE_CLOCK.advance(0.15)
    assert http.get(api.url("getStateInstance")).status_code == 200


@pytest.mark.green_api_sandbox(rate_limits=True, retry_after_header=True, monotonic=RATE_CLOCK)
def test_rate_limit_can_send_retry_after(http: httpx.Client, api: Api) -> None:
    http.get(api.url("getSettings"))
    limited = http.get(api.url("getSettings"))
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"


@pytest.mark.green_api_sandbox(rate_limits=True, monotonic=RATE_CLOCK)
def test_send_rate_limit_is_50_per_second(sandbox: Sandbox, http: httpx.Client, api: Api) -> None:
    codes = [
        http.post(api.url("sendMessage"), json={"chatId": CHAT, "message": str(i)}).status_code
        for i in range(60)
    ]
    assert codes[:50] == [200] * 50 and 429 in codes[50:]
    assert len(sandbox.sent_messages(api.instance)) == codes.count(200)


@pytest.mark.green_api_sandbox(quota=True)
def test_developer_quota_answers_466_with_its_body(http: httpx.Client, api: Api) -> None:
    for n in range(3):
        api.send_text(http, chat=f"7900000000{n}@c.us")
    refused = http.post(api.url("sendMessage"), json={"chatId": "79000000009@c.us", "message": "x"})
    assert refused.status_code == 466
    body = refused.json()
    assert body["correspondentsStatus"]["status"] == "CORRESPONDENTS_QUOTE_EXCEEDED"
    assert body["invokeStatus"]["method"] == "sendmessage"


# ------------------------------------------------------------------------------- injections over the wire


def test_injected_messages_arrive_in_their_documented_shapes(
    sandbox: Sandbox, http: httpx.Client, api: Api
) -> None:
    ask = http.post(
        api.url("sendInteractiveButtonsReply"),
        json={
            "chatId": CHAT,
            "body": "Ok?",
            "buttons": [{"buttonId": "y", "buttonText": "Yes"}, {"buttonId": "n", "buttonText": "No"}],
        },
    ).json()["idMessage"]
    sandbox.clear_notifications(api.instance)
    sandbox.inject_button_tap(api.instance, CHAT, button_text="No")
    sandbox.inject_button_tap(api.instance, CHAT, button_id="y", variant="templateButtonsReplyMessage")
    sandbox.inject_button_tap(api.instance, CHAT, variant="buttonsResponseMessage")
    sandbox.inject_incoming_image(api.instance, CHAT, caption="receipt")
    sandbox.inject_incoming_document(api.instance, CHAT, "contract.pdf")
    sandbox.inject_location(api.instance, CHAT, 55.75, 37.61, name="Office")
    sandbox.inject_contact(api.instance, CHAT, "Bob", "79007654321")
    sandbox.inject_extended_text(api.instance, CHAT, "see https://example.org", title="Example")
    sandbox.inject_reaction(api.instance, CHAT, "👍", ask)
    sandbox.inject_incoming_text(
        api.instance, "120363043968066561@g.us", "hi all", sender=CHAT, chat_name="Team"
    )

    datas = []
    while (item := http.get(api.url("receiveNotification")).json()) is not None:
        assert item["body"]["typeWebhook"] == "incomingMessageReceived"
        datas.append(item["body"]["messageData"])
        http.delete(api.url("deleteNotification", str(item["receiptId"])))
    assert [d["typeMessage"] for d in datas] == [
        "interactiveButtonsResponse",
        "templateButtonsReplyMessage",
        "buttonsResponseMessage",
        "imageMessage",
        "documentMessage",
        "locationMessage",
        "contactMessage",
        "extendedTextMessage",
        "reactionMessage",
        "textMessage",
    ]
    assert datas[0]["interactiveButtonsResponse"] == {
        "stanzaId": ask,
        "selectedIndex": 1,
        "selectedId": "n",
        "selectedDisplayText": "No",
    }
    assert datas[1]["templateButtonReplyMessage"]["selectedId"] == "y"
    assert datas[2]["buttonsResponseMessage"] == {
        "stanzaId": ask,
        "selectedButtonId": "y",
        "selectedButtonText": "Yes",
    }
    image = datas[3]["fileMessageData"]
    assert image["caption"] == "receipt" and image["mimeType"] == "image/jpeg"
    assert http.get(image["downloadUrl"]).status_code == 200  # served by the sandbox itself
    assert datas[8]["quotedMessage"] == {"stanzaId": ask, "participant": api.instance.wid}


def test_a_tap_needs_a_button_message(sandbox: Sandbox, api: Api) -> None:
    from green_api_block.sandbox import SandboxError

    with pytest.raises(SandboxError, match="no button message"):
        sandbox.inject_button_tap(api.instance, CHAT, button_id="x")
    tap = sandbox.inject_button_tap(api.instance, CHAT, button_id="x", button_text="X", stanza_id="BAE5")
    assert tap.body["messageData"]["interactiveButtonsResponse"]["stanzaId"] == "BAE5"
